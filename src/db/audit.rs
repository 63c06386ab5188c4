//! The `audit_events` table: append-only for the application.

use diesel::prelude::*;
use uuid::Uuid;

use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Timestamptz};

use super::listing::{after_pair, Explain};
use super::schema::audit_events;
use crate::domain::OrgId;

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
    /// `None`: now (the column's default).
    pub created_at: Option<time::OffsetDateTime>,
    /// The bulk action the event is part of (DESIGN.md §2.13).
    pub batch_id: Option<Uuid>,
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
        .order((audit_events::created_at.asc(), audit_events::seq.asc()))
        .select((audit_events::action, audit_events::target_label))
        .load(conn)
}

/// An audit event as the Audit Log page shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: Uuid,
    pub actor_label: String,
    pub action: String,
    pub target_label: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub created_at: time::OffsetDateTime,
    /// The order events were written in: those of one transaction share `created_at`.
    pub seq: i64,
    /// The bulk action the event is part of, if any.
    pub batch_id: Option<Uuid>,
}

/// A page of an organization's audit log, newest first.
pub struct AuditQuery<'a> {
    pub org: Uuid,
    pub action: Option<&'a str>,
    pub actor: &'a str,
    /// Only events at or after this moment.
    pub since: Option<time::OffsetDateTime>,
    /// Only events before this moment.
    pub until: Option<time::OffsetDateTime>,
    /// (created_at, seq) of the last row of the previous page.
    pub before: Option<(time::OffsetDateTime, i64)>,
    /// Only the events of one bulk action (walks `audit_events_batch`).
    pub batch: Option<Uuid>,
    pub limit: i64,
}

/// Loads `limit + 1` events (so the caller knows whether more follow).
pub fn list(conn: &mut PgConnection, q: &AuditQuery<'_>) -> QueryResult<Vec<AuditEvent>> {
    statement(q).load(conn)
}

/// The plan of [`list`]'s statement.
pub fn plan(conn: &mut PgConnection, q: &AuditQuery<'_>) -> QueryResult<Vec<String>> {
    Explain(statement(q)).load(conn)
}

/// [`list`]'s statement: only the filters given, and the cursor as one row
/// comparison, so it walks `(organization_id, [action,] created_at, seq)` backwards.
fn statement(
    q: &AuditQuery<'_>,
) -> super::listing::Limited<audit_events::BoxedQuery<'static, Pg, SqlTypeOf<AsSelect<AuditEvent, Pg>>>> {
    let mut query = audit_events::table
        .filter(
            audit_events::organization_id
                .eq(super::listing::run_time::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(q.org)),
        )
        .select(AuditEvent::as_select())
        .into_boxed();
    if let Some(action) = q.action {
        query = query.filter(audit_events::action.eq(action.to_owned()));
    }
    if !q.actor.is_empty() {
        let pattern = format!("%{}%", super::listing::escape_like(&q.actor.to_lowercase()));
        query = query.filter(super::lower(audit_events::actor_label).like(pattern));
    }
    if let Some(batch) = q.batch {
        query = query.filter(audit_events::batch_id.eq(batch));
    }
    if let Some(since) = q.since {
        query = query.filter(audit_events::created_at.ge(since));
    }
    if let Some(until) = q.until {
        query = query.filter(audit_events::created_at.lt(until));
    }
    if let Some((at, seq)) = q.before {
        let (key, seq_column) = ("audit_events.created_at", "audit_events.seq");
        query = query.filter(after_pair::<_, Timestamptz, _, BigInt, _>(key, seq_column, true, at, seq));
    }
    super::listing::limited(query.order((audit_events::created_at.desc(), audit_events::seq.desc())), q.limit + 1)
}

/// `limit + 1` of an account's own events (no organization's), newest first, before
/// the cursor: walks `audit_events_account_idx`.
pub fn of_account(
    conn: &mut PgConnection,
    user: Uuid,
    before: Option<(time::OffsetDateTime, i64)>,
    limit: i64,
) -> QueryResult<Vec<AuditEvent>> {
    let mut query = audit_events::table
        .filter(audit_events::organization_id.is_null())
        .filter(audit_events::actor_id.eq(user))
        .select(AuditEvent::as_select())
        .into_boxed();
    if let Some((at, seq)) = before {
        let (key, seq_column) = ("audit_events.created_at", "audit_events.seq");
        query = query.filter(after_pair::<_, Timestamptz, _, BigInt, _>(key, seq_column, true, at, seq));
    }
    query.order((audit_events::created_at.desc(), audit_events::seq.desc())).limit(limit + 1).load(conn)
}

/// Whether the organization's log has an `action` about `target` since `since`
/// (to tell the Owner and Admins of a recurring problem once, not each time).
pub fn exists_since(
    conn: &mut PgConnection,
    org: OrgId,
    action: &str,
    target: &str,
    since: time::OffsetDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        audit_events::table
            .filter(audit_events::organization_id.eq(org.0))
            .filter(audit_events::action.eq(action))
            .filter(audit_events::target_label.eq(target))
            .filter(audit_events::created_at.ge(since)),
    ))
    .get_result(conn)
}

/// Whether the organization's log has any of `actions` about `target`.
pub fn exists_any(conn: &mut PgConnection, org: OrgId, actions: &[&str], target: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        audit_events::table
            .filter(audit_events::organization_id.eq(org.0))
            .filter(audit_events::action.eq_any(actions))
            .filter(audit_events::target_label.eq(target)),
    ))
    .get_result(conn)
}
