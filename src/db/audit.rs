//! The `audit_events` table: append-only for the application.

use diesel::prelude::*;
use uuid::Uuid;

use super::schema::audit_events;

/// An event to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub actor_label: String,
    pub action: String,
    pub target_label: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

/// Records events in one statement.
pub fn insert_many(conn: &mut PgConnection, events: &[NewAuditEvent]) -> QueryResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(audit_events::table).values(events).execute(conn)
}

/// The actions recorded for an organization, oldest first (for tests and the audit page).
pub fn actions_of(conn: &mut PgConnection, org: Uuid) -> QueryResult<Vec<(String, String)>> {
    audit_events::table
        .filter(audit_events::organization_id.eq(org))
        .order((audit_events::created_at.asc(), audit_events::id.asc()))
        .select((audit_events::action, audit_events::target_label))
        .load(conn)
}
