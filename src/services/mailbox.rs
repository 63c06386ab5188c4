//! The dev mailbox: the mail Roster has written, as `/dev/mailbox` lists and shows it.

use diesel::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::viewer::Viewer;
use crate::db::outbox;
use crate::domain::UserId;
use crate::error::AppError;
use crate::mail::Links;

/// A line of the mailbox list.
#[derive(Debug, Clone)]
pub struct Summary {
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub created_at: OffsetDateTime,
}

/// One message as the mailbox shows it: its plain-text body, whose links can be followed.
#[derive(Debug, Clone)]
pub struct Letter {
    pub id: Uuid,
    pub to_address: String,
    /// The recipient's name, as the `To` header carries it.
    pub to_name: Option<String>,
    pub subject: String,
    /// `None` when the body cannot be opened (sealed under another server key).
    pub text_body: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The mailbox for whoever looks (`signed_in`, for the page's usual header): the
/// newest `limit` messages, newest first.
pub fn page(
    conn: &mut PgConnection,
    signed_in: Option<UserId>,
    limit: i64,
) -> Result<(Option<Viewer>, Vec<Summary>), AppError> {
    Ok((super::viewer::optional(conn, signed_in)?, recent(conn, limit)?))
}

/// One message for whoever looks (see [`page`]).
pub fn letter(
    conn: &mut PgConnection,
    links: &Links,
    signed_in: Option<UserId>,
    id: Uuid,
) -> Result<(Option<Viewer>, Letter), AppError> {
    Ok((super::viewer::optional(conn, signed_in)?, find(conn, links, id)?))
}

/// The newest `limit` messages, newest first.
pub fn recent(conn: &mut PgConnection, limit: i64) -> Result<Vec<Summary>, AppError> {
    Ok(outbox::recent(conn, limit)?
        .into_iter()
        .map(|m| Summary {
            id: m.id,
            to_address: m.to_address,
            subject: m.subject,
            status: m.status,
            created_at: m.created_at,
        })
        .collect())
}

/// One message, its body opened with the key of `links`; `NotFound` when there is
/// none with that id.
pub fn find(conn: &mut PgConnection, links: &Links, id: Uuid) -> Result<Letter, AppError> {
    let m = outbox::find(conn, id)?.ok_or(AppError::NotFound)?;
    let text_body = m.bodies(links.sealing_key()).map(|bodies| bodies.text);
    Ok(Letter {
        id: m.id,
        to_address: m.to_address,
        to_name: m.to_name,
        subject: m.subject,
        text_body,
        created_at: m.created_at,
    })
}
