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
    /// `None`: now (the column's default).
    pub created_at: Option<time::OffsetDateTime>,
}

/// Writes notifications, in as few statements as the parameter limit allows.
pub fn insert_many(conn: &mut PgConnection, rows: &[NewNotification]) -> QueryResult<usize> {
    // PostgreSQL takes at most 65,535 parameters a statement: an event that tells a
    // whole large organization (two-factor required) is written in batches.
    let mut written = 0;
    for batch in rows.chunks(INSERT_BATCH) {
        written += diesel::insert_into(notifications::table).values(batch).execute(conn)?;
    }
    Ok(written)
}

/// Notifications written per statement: seven parameters each, well under the limit.
const INSERT_BATCH: usize = 5_000;

/// A stored notification.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub created_at: time::OffsetDateTime,
    pub read_at: Option<time::OffsetDateTime>,
    /// The order they were written in: those of one transaction share `created_at`.
    pub seq: i64,
}

/// The bell's number in one statement: unread notifications plus pending,
/// unexpired invitations to the user's address if it is verified. Both parts use
/// partial indexes (`notifications_unread_idx`, `invitations_pending_email_idx`).
pub fn bell_count(conn: &mut PgConnection, user: Uuid) -> QueryResult<i64> {
    diesel::select(bell_count_of(user)).get_result(conn)
}

/// What one poll of the bell learned from the database (`bell_poll`, migration 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BellPoll {
    /// Who the session signs in.
    pub user: Uuid,
    /// Their bell's version: raised by every change to what it counts.
    pub version: i64,
    /// The count; `None` when the poll brought this very version (nothing changed).
    pub unread: Option<i64>,
    /// When the soonest counted invitation expires: the count drops then, version or not.
    pub fresh_until: Option<time::OffsetDateTime>,
}

/// Who session `id` (the SHA-256 of its cookie key) signs in, and their bell's
/// version (0 before anything raised it): the one lookup of a poll that finds the
/// bell unchanged. `None` when no live session.
pub fn bell_version(conn: &mut PgConnection, id: &str) -> QueryResult<Option<(Uuid, i64)>> {
    use super::schema::{bell_versions, sessions};
    sessions::table
        .left_join(bell_versions::table.on(bell_versions::user_id.nullable().eq(sessions::user_id)))
        .filter(sessions::id.eq(id))
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .filter(sessions::user_id.is_not_null())
        .select((sessions::user_id.assume_not_null(), bell_versions::version.nullable()))
        .first::<(Uuid, Option<i64>)>(conn)
        .optional()
        .map(|found| found.map(|(user, version)| (user, version.unwrap_or(0))))
}

/// Checks session `id` (the SHA-256 of its cookie key) and reads the bell of whoever
/// it signs in, in one statement: `None` when no live session. Counts only when
/// `known_version` (the version the caller last saw, or -1) is not the current one.
pub fn bell_poll(conn: &mut PgConnection, id: &str, known_version: i64) -> QueryResult<Option<BellPoll>> {
    let answer: Option<(Uuid, i64, Option<i64>, Option<time::OffsetDateTime>)> =
        diesel::select(bell_poll_fn(id, known_version)).get_result(conn)?;
    Ok(answer.map(|(user, version, unread, fresh_until)| BellPoll { user, version, unread, fresh_until }))
}

// The SQL functions of migrations 18 and 20. Called through Diesel's query builder,
// their statements are prepared once per connection and kept; the functions' own
// plans are kept too, so a poll is neither parsed nor planned again.
diesel::define_sql_function! {
    /// SQL `bell_count(user)`: the bell's number of an account, in a statement of its own or of another read.
    #[sql_name = "bell_count"]
    fn bell_count_of(recipient: diesel::sql_types::Uuid) -> diesel::sql_types::BigInt;
}
diesel::define_sql_function! {
    #[sql_name = "bell_poll"]
    fn bell_poll_fn(
        session_id: diesel::sql_types::Text,
        known_version: diesel::sql_types::BigInt,
    ) -> diesel::sql_types::Nullable<
        diesel::sql_types::Record<(
            diesel::sql_types::Uuid,
            diesel::sql_types::BigInt,
            diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
            diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        )>,
    >;
}

/// A page of a user's notifications, newest first (`limit + 1` rows).
pub fn list(
    conn: &mut PgConnection,
    recipient: Uuid,
    unread_only: bool,
    before: Option<(time::OffsetDateTime, i64)>,
    limit: i64,
) -> QueryResult<Vec<Notification>> {
    let mut query = notifications::table
        .filter(notifications::recipient_id.eq(recipient))
        .select(Notification::as_select())
        .into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some((at, seq)) = before {
        query = query.filter(super::listing::after_pair::<
            _,
            diesel::sql_types::Timestamptz,
            _,
            diesel::sql_types::BigInt,
            _,
        >("notifications.created_at", "notifications.seq", true, at, seq));
    }
    query.order((notifications::created_at.desc(), notifications::seq.desc())).limit(limit + 1).load(conn)
}

/// One of the recipient's notifications; `None` if it is not theirs.
pub fn find_for(conn: &mut PgConnection, recipient: Uuid, id: Uuid) -> QueryResult<Option<Notification>> {
    notifications::table
        .filter(notifications::recipient_id.eq(recipient))
        .find(id)
        .select(Notification::as_select())
        .first(conn)
        .optional()
}

/// Marks one of the recipient's notifications read; `None` if it is not theirs.
pub fn mark_read(conn: &mut PgConnection, recipient: Uuid, id: Uuid) -> QueryResult<Option<Notification>> {
    let found = find_for(conn, recipient, id)?;
    if found.as_ref().is_some_and(|n| n.read_at.is_none()) {
        diesel::update(notifications::table.find(id))
            .set(notifications::read_at.eq(Some(time::OffsetDateTime::now_utc())))
            .execute(conn)?;
    }
    Ok(found)
}

/// Marks every unread notification of the recipient read.
pub fn mark_all_read(conn: &mut PgConnection, recipient: Uuid) -> QueryResult<usize> {
    diesel::update(
        notifications::table.filter(notifications::recipient_id.eq(recipient)).filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(Some(time::OffsetDateTime::now_utc())))
    .execute(conn)
}

/// Takes back the notifications of `kind` about `subject` from everyone told (a
/// join request answered by one Admin leaves the others' bells). Walks the partial
/// index `notifications_join_request_subject`.
pub fn forget_about(conn: &mut PgConnection, kind: &str, subject: Uuid) -> QueryResult<usize> {
    diesel::delete(notifications::table)
        .filter(notifications::kind.eq(kind))
        .filter(notifications::subject_id.eq(subject))
        .execute(conn)
}
