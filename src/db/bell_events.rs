//! Listens for `roster_bell` notifications from PostgreSQL (sent by triggers of migration 5).

use diesel::prelude::*;
use uuid::Uuid;

/// The channel the triggers notify on.
pub const CHANNEL: &str = "roster_bell";

/// A connection that listens on the bell channel.
pub struct Listener {
    conn: PgConnection,
}

impl Listener {
    /// Opens a dedicated connection and starts listening.
    pub fn connect(database_url: &str) -> anyhow::Result<Listener> {
        let mut conn = PgConnection::establish(database_url)?;
        diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
        Ok(Listener { conn })
    }

    /// A round trip, so a connection lost without a word (a network partition, a
    /// NAT timeout) shows up as an error instead of silence.
    pub fn ping(&mut self) -> anyhow::Result<()> {
        diesel::sql_query("SELECT 1").execute(&mut self.conn)?;
        Ok(())
    }

    /// The user ids notified since the last call (does not wait).
    pub fn drain(&mut self) -> anyhow::Result<Vec<Uuid>> {
        let mut users = Vec::new();
        for notification in self.conn.notifications_iter() {
            let notification = notification?;
            if notification.channel == CHANNEL {
                if let Ok(user) = Uuid::parse_str(&notification.payload) {
                    users.push(user);
                }
            }
        }
        Ok(users)
    }
}
