//! The `outbox` table: mail waiting to be delivered (its bodies sealed), and what is left of mail delivered.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::outbox;
use crate::domain::SealingKey;

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

/// A message's two bodies, as they are sealed together in `sealed_body`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bodies {
    pub text: String,
    pub html: String,
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
    /// The [`Bodies`], sealed with the server's [`SealingKey`] to this row's id and
    /// recipient; `None` once delivered through SMTP.
    pub sealed_body: Option<Vec<u8>>,
    /// Bodies written in clear before they were sealed (migration 19): only a message
    /// that was still waiting then has them, until it is delivered.
    pub text_body: Option<String>,
    pub html_body: Option<String>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

impl Message {
    /// The bodies, opened with `key`; `None` when they were dropped after delivery,
    /// or cannot be opened (the key changed since, or the row was altered).
    pub fn bodies(&self, key: &SealingKey) -> Option<Bodies> {
        if let Some(sealed) = &self.sealed_body {
            let plain = key.open(sealed, &seal_context(self.id, &self.to_address))?;
            return serde_json::from_slice(&plain).ok();
        }
        Some(Bodies { text: self.text_body.clone()?, html: self.html_body.clone()? })
    }
}

/// What a sealed body is bound to: its row and its recipient, so that neither a body
/// copied to another row nor a recipient changed in the database gets it delivered.
pub(super) fn seal_context(id: Uuid, to: &str) -> Vec<u8> {
    let mut context = id.as_bytes().to_vec();
    context.extend_from_slice(to.as_bytes());
    context
}

fn sealed(key: &SealingKey, id: Uuid, message: &NewMessage) -> Vec<u8> {
    let bodies = Bodies { text: message.text_body.clone(), html: message.html_body.clone() };
    // Serializing two strings cannot fail.
    let plain = serde_json::to_vec(&bodies).unwrap_or_default();
    key.seal(&plain, &seal_context(id, &message.to))
}

/// Writes a message to the outbox, its bodies sealed with `key`, which queues its
/// delivery; call it inside the transaction of the change that causes it.
pub fn enqueue(conn: &mut PgConnection, key: &SealingKey, message: &NewMessage) -> QueryResult<Uuid> {
    let id = Uuid::new_v4();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(id),
            outbox::to_address.eq(&message.to),
            outbox::to_name.eq(&message.to_name),
            outbox::subject.eq(&message.subject),
            outbox::sealed_body.eq(sealed(key, id, message)),
            outbox::sealed_with.eq(key.newest_id()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Writes many messages (which queues their deliveries) in one statement, inside the
/// caller's transaction like [`enqueue`].
pub fn enqueue_many(conn: &mut PgConnection, key: &SealingKey, messages: &[NewMessage]) -> QueryResult<usize> {
    if messages.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = messages
        .iter()
        .map(|m| {
            let id = Uuid::new_v4();
            (
                outbox::id.eq(id),
                outbox::to_address.eq(&m.to),
                outbox::to_name.eq(&m.to_name),
                outbox::subject.eq(&m.subject),
                outbox::sealed_body.eq(sealed(key, id, m)),
                outbox::sealed_with.eq(key.newest_id()),
            )
        })
        .collect();
    diesel::insert_into(outbox::table).values(&rows).execute(conn)
}

/// Records that a message was delivered. Its bodies, and the links in them, are
/// dropped unless `keep_bodies` (the dev mailbox, where the outbox is the inbox).
pub fn mark_sent(conn: &mut PgConnection, id: Uuid, keep_bodies: bool) -> QueryResult<usize> {
    let sent = (
        outbox::status.eq("sent"),
        outbox::sent_at.eq(Some(OffsetDateTime::now_utc())),
        outbox::last_error.eq(None::<String>),
    );
    let row = diesel::update(outbox::table.find(id));
    if keep_bodies {
        row.set(sent).execute(conn)
    } else {
        row.set((sent, dropped_bodies())).execute(conn)
    }
}

/// The assignments that drop a message's bodies, sealed or clear.
type DropBodies = (
    diesel::dsl::Eq<outbox::sealed_body, Option<Vec<u8>>>,
    diesel::dsl::Eq<outbox::text_body, Option<String>>,
    diesel::dsl::Eq<outbox::html_body, Option<String>>,
);

fn dropped_bodies() -> DropBodies {
    (outbox::sealed_body.eq(None), outbox::text_body.eq(None), outbox::html_body.eq(None))
}

/// Records that an attempt failed: the message stays `pending` while it will be
/// retried, and becomes `failed`, its bodies dropped, when `gave_up`.
pub fn mark_attempt_failed(conn: &mut PgConnection, id: Uuid, error: &str, gave_up: bool) -> QueryResult<usize> {
    let row = diesel::update(outbox::table.find(id));
    if gave_up {
        row.set((outbox::status.eq("failed"), outbox::last_error.eq(error), dropped_bodies())).execute(conn)
    } else {
        row.set((outbox::status.eq("pending"), outbox::last_error.eq(error))).execute(conn)
    }
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
