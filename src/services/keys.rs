//! Key rotation: re-sealing stored secrets under the newest server key, and saying
//! how many still depend on an older one, so the operator knows when it can go.

use diesel::PgConnection;

use crate::db::sealed::{self, Sealed};
use crate::db::Db;
use crate::domain::SealingKey;
use crate::error::AppError;

/// What a value no configured key opens is marked with, so the re-seal passes it by.
pub const UNREADABLE: &str = "unreadable";
/// Values re-sealed per statement batch.
const BATCH: i64 = 200;
/// How often the re-seal looks for values on older keys once it found none.
const EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// What one pass of the re-seal did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Opened with an older key and sealed again under the newest.
    pub resealed: usize,
    /// Sealed before keys were named, found to be under the newest: named only.
    pub named: usize,
    /// Opened by no configured key (marked, and left as they are).
    pub unreadable: usize,
}

impl Resealed {
    fn total(&self) -> usize {
        self.resealed + self.named + self.unreadable
    }
}

/// Re-seals up to `limit` values of each kind that are not under the newest key.
/// Each value is replaced on its own and only if unchanged meanwhile, so instances
/// that re-seal at once, or a secret rolled meanwhile, lose nothing.
pub fn reseal(conn: &mut PgConnection, key: &SealingKey, limit: i64) -> Result<Resealed, AppError> {
    let (newest, older) = (key.newest_id().to_owned(), key.older_ids());
    let mut done = Resealed::default();
    for kind in sealed::ALL {
        for stored in kind.not_on_newest(conn, &older, limit)? {
            let context = stored.context(&kind);
            let changed = match key.open_naming_key(&stored.sealed, &context) {
                Some((_, by)) if by == newest => {
                    done.named += 1;
                    kind.replace(conn, stored.id, &stored.sealed, &stored.sealed, &newest)?
                }
                Some((plain, _)) => {
                    done.resealed += 1;
                    kind.replace(conn, stored.id, &stored.sealed, &key.seal(&plain, &context), &newest)?
                }
                None => {
                    done.unreadable += 1;
                    kind.replace(conn, stored.id, &stored.sealed, &stored.sealed, UNREADABLE)?
                }
            };
            if changed == 0 {
                tracing::debug!(what = kind.what, id = %stored.id, "changed while being re-sealed; left to the next pass");
            }
        }
    }
    Ok(done)
}

/// Runs the re-seal in the background for as long as the process runs: everything
/// on older keys at start-up, then whatever another instance sealed under them.
pub async fn reseal_forever(db: Db, key: SealingKey) {
    loop {
        let key_now = key.clone();
        match db.run(move |conn| reseal(conn, &key_now, BATCH)).await {
            Ok(done) if done.total() > 0 => {
                tracing::info!(
                    resealed = done.resealed,
                    named = done.named,
                    unreadable = done.unreadable,
                    "re-sealed stored secrets under the newest key"
                );
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "re-sealing stored secrets failed; trying again later"),
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// Where one kind of sealed value stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindStatus {
    pub what: &'static str,
    /// Under the newest key.
    pub on_newest: i64,
    /// Under an older key still configured, by key id, or not yet named (`None`):
    /// they need that key until the re-seal reaches them.
    pub on_older: Vec<(Option<String>, i64)>,
    /// Opened by no configured key: lost already, whatever the keys.
    pub unreadable: i64,
}

impl KindStatus {
    /// How many values still depend on an older key.
    pub fn depending_on_older(&self) -> i64 {
        self.on_older.iter().map(|(_, n)| n).sum()
    }
}

/// Where the stored secrets stand against the configured keys.
pub fn status(conn: &mut PgConnection, key: &SealingKey) -> Result<Vec<KindStatus>, AppError> {
    sealed::ALL.iter().map(|kind| kind_status(conn, key, kind)).collect()
}

fn kind_status(conn: &mut PgConnection, key: &SealingKey, kind: &Sealed) -> Result<KindStatus, AppError> {
    let older = key.older_ids();
    let mut status = KindStatus { what: kind.what, on_newest: 0, on_older: Vec::new(), unreadable: 0 };
    for row in kind.by_key(conn)? {
        match row.key {
            Some(id) if id == key.newest_id() => status.on_newest += row.count,
            None => status.on_older.push((None, row.count)),
            Some(id) if older.contains(&id) => status.on_older.push((Some(id), row.count)),
            // Marked unreadable, or sealed by a key no longer configured.
            Some(_) => status.unreadable += row.count,
        }
    }
    Ok(status)
}
