//! The `outbox` table: mail waiting to be delivered, and mail already delivered.

use diesel::prelude::*;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::outbox;

/// The kind of the job that delivers one outbox message. The job is queued by the
/// `outbox_queue_delivery` trigger (migration 6) for every message written, in the
/// same statement, whoever writes it: also an instance of the previous version
/// during a rolling deploy, which knows nothing of jobs.
pub const MAIL_JOB: &str = "mail";

/// The payload of a [`MAIL_JOB`], as the trigger writes it: which message to deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MailJob {
    pub message_id: Uuid,
}

/// A message to write to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub to: String,
    /// The recipient's name for the `To` header, when Roster knows it.
    pub to_name: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

/// A message in the outbox, with what the dev mailbox shows of its delivery;
/// retries and leases are its job's (see [`MAIL_JOB`]).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Message {
    /// Also the left side of the delivered message's `Message-ID`, the same on every retry.
    pub id: Uuid,
    pub to_address: String,
    /// The recipient's name, if known when the message was written.
    pub to_name: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

/// Writes a message to the outbox, which queues its delivery; call it inside the
/// transaction of the change that causes it.
pub fn enqueue(conn: &mut PgConnection, message: &NewMessage) -> QueryResult<Uuid> {
    let id = Uuid::new_v4();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(id),
            outbox::to_address.eq(&message.to),
            outbox::to_name.eq(&message.to_name),
            outbox::subject.eq(&message.subject),
            outbox::text_body.eq(&message.text_body),
            outbox::html_body.eq(&message.html_body),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Writes many messages (which queues their deliveries) in one statement, inside the
/// caller's transaction like [`enqueue`].
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
                outbox::to_name.eq(&m.to_name),
                outbox::subject.eq(&m.subject),
                outbox::text_body.eq(&m.text_body),
                outbox::html_body.eq(&m.html_body),
            )
        })
        .collect();
    diesel::insert_into(outbox::table).values(&rows).execute(conn)
}

/// Records for the mailbox that a message was delivered.
pub fn mark_sent(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(Some(OffsetDateTime::now_utc())),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Records for the mailbox that an attempt failed: the message stays `pending`
/// while it will be retried, and becomes `failed` when `gave_up`.
pub fn mark_attempt_failed(conn: &mut PgConnection, id: Uuid, error: &str, gave_up: bool) -> QueryResult<usize> {
    let status = if gave_up { "failed" } else { "pending" };
    diesel::update(outbox::table.find(id)).set((outbox::status.eq(status), outbox::last_error.eq(error))).execute(conn)
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

/// Messages not yet sent with one status, and when the oldest of them was written.
#[derive(Debug, Clone, Queryable)]
pub struct Unsent {
    /// `pending` or `failed`.
    pub status: String,
    pub count: i64,
    pub oldest: Option<OffsetDateTime>,
}

/// Messages not yet sent, by status: what an operator alerts on. One statement over the
/// partial index `outbox_unsent_idx`, however many sent messages the outbox keeps.
pub fn unsent(conn: &mut PgConnection) -> QueryResult<Vec<Unsent>> {
    outbox::table
        .filter(outbox::status.ne("sent"))
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star(), diesel::dsl::min(outbox::created_at)))
        .load(conn)
}
