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
#[derive(Debug, Clone, Queryable, Selectable)]
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

/// Locks up to `limit` due messages that no other worker holds (`FOR UPDATE SKIP LOCKED`).
pub fn lock_due(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<Message>> {
    outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(diesel::dsl::now))
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(Message::as_select())
        .load(conn)
}

/// Records a delivery.
pub fn mark_sent(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(Some(time::OffsetDateTime::now_utc())),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Records a failed attempt: retried at `retry_at`, or given up on when `retry_at` is `None`.
pub fn mark_attempt_failed(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
    retry_at: Option<OffsetDateTime>,
) -> QueryResult<usize> {
    let status = if retry_at.is_some() { "pending" } else { "failed" };
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status),
            outbox::attempts.eq(outbox::attempts + 1),
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
