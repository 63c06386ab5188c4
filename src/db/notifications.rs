//! The `notifications` table: in-app news for one person.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::notifications;

/// A notification to write.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification {
    pub id: Uuid,
    pub recipient_id: Uuid,
    pub kind: String,
    pub organization_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub payload: serde_json::Value,
}

/// Writes notifications in one statement.
pub fn insert_many(conn: &mut PgConnection, rows: &[NewNotification]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(notifications::table).values(rows).execute(conn)
}
