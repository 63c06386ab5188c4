//! The `outbox` table: mail waiting to be delivered, and mail already delivered.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::outbox;

/// A message to write to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

/// A message in the outbox.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct Message {
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

/// Writes a message to the outbox; call it inside the transaction of the change that causes it.
pub fn enqueue(conn: &mut PgConnection, message: &NewMessage) -> QueryResult<Uuid> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(Uuid::new_v4()),
            outbox::to_address.eq(&message.to),
            outbox::subject.eq(&message.subject),
            outbox::text_body.eq(&message.text_body),
            outbox::html_body.eq(&message.html_body),
        ))
        .returning(outbox::id)
        .get_result(conn)
}

/// Writes many messages in one statement.
pub fn enqueue_many(conn: &mut PgConnection, messages: &[NewMessage]) -> QueryResult<usize> {
    if messages.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = messages
        .iter()
        .map(|m| {
            (
                outbox::id.eq(Uuid::new_v4()),
                outbox::to_address.eq(&m.to),
                outbox::subject.eq(&m.subject),
                outbox::text_body.eq(&m.text_body),
                outbox::html_body.eq(&m.html_body),
            )
        })
        .collect();
    diesel::insert_into(outbox::table).values(&rows).execute(conn)
}

/// Claims up to `limit` due messages for one worker: in one statement, rows that
/// no other worker holds (`FOR UPDATE SKIP LOCKED`) get their attempt counted and a
/// lease (`next_attempt_at` pushed by `lease_secs`), so the claimer can send them
/// outside any transaction. If it dies, the lease runs out and another worker retries.
pub fn claim_due(conn: &mut PgConnection, limit: i64, lease_secs: i32) -> QueryResult<Vec<Message>> {
    diesel::sql_query(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2) \
          WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= now() \
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
          RETURNING id, to_address, subject, text_body, html_body, status, attempts, next_attempt_at, \
                    last_error, created_at, sent_at",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .bind::<diesel::sql_types::Integer, _>(lease_secs)
    .load(conn)
}

/// Records a delivery, if this worker still holds the claim (`attempts` as claimed).
pub fn mark_sent(conn: &mut PgConnection, id: Uuid, claimed_attempt: i32) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id).filter(outbox::attempts.eq(claimed_attempt)))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(Some(time::OffsetDateTime::now_utc())),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Records a failed attempt: retried at `retry_at`, or given up on when `retry_at` is
/// `None`; only if this worker still holds the claim.
pub fn mark_attempt_failed(
    conn: &mut PgConnection,
    id: Uuid,
    claimed_attempt: i32,
    error: &str,
    retry_at: Option<OffsetDateTime>,
) -> QueryResult<usize> {
    let status = if retry_at.is_some() { "pending" } else { "failed" };
    diesel::update(outbox::table.find(id).filter(outbox::attempts.eq(claimed_attempt)))
        .set((
            outbox::status.eq(status),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(retry_at.unwrap_or_else(OffsetDateTime::now_utc)),
        ))
        .execute(conn)
}

/// The newest messages first, for the dev mailbox.
pub fn recent(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<Message>> {
    outbox::table
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(limit)
        .select(Message::as_select())
        .load(conn)
}

/// One message.
pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Message>> {
    outbox::table.find(id).select(Message::as_select()).first(conn).optional()
}
