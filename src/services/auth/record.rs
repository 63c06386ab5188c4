//! An account's own events: in the audit log (no organization's log lists them) and,
//! for changes to how it signs in, by mail to the person.

use diesel::PgConnection;
use uuid::Uuid;

use crate::db::{audit, outbox, users};
use crate::domain::account_event::AccountEvent;
use crate::error::AppError;
use crate::mail::{messages, Links};

/// Writes an account's own event to the audit log: no organization's log lists it.
pub fn record_account(
    conn: &mut PgConnection,
    account: &users::User,
    event: AccountEvent,
    after: serde_json::Value,
    request_id: Option<String>,
) -> Result<(), AppError> {
    let row = audit::NewAuditEvent {
        id: Uuid::new_v4(),
        organization_id: None,
        actor_id: Some(account.id),
        actor_label: format!("{} <{}>", account.name, account.email),
        action: event.key().to_owned(),
        target_label: account.email.clone(),
        before: None,
        after: Some(after),
        request_id,
        created_at: None,
        batch_id: None,
    };
    audit::insert_many(conn, &[row])?;
    Ok(())
}

/// Mails the person a security notice, in the change's transaction.
pub(in crate::services) fn tell(
    conn: &mut PgConnection,
    links: &Links,
    account: &users::User,
    subject: &str,
    what: &str,
) -> Result<(), AppError> {
    let message = messages::security_notice(&account.email, &account.name, subject, what, &links.account())?;
    outbox::enqueue(conn, links.sealing_key(), &message)?;
    Ok(())
}

/// A change to how an account signs in: its audit row (`action`, with `after`) and
/// the notice mailed to the person (`subject`, and `what` happened).
pub struct SecurityChange<'a> {
    pub action: AccountEvent,
    pub after: serde_json::Value,
    pub subject: &'a str,
    pub what: &'a str,
}

/// Records `change` in the audit log and mails the person, in the change's transaction.
pub fn security_change(
    conn: &mut PgConnection,
    links: &Links,
    account: &users::User,
    change: SecurityChange<'_>,
    request_id: Option<String>,
) -> Result<(), AppError> {
    record_account(conn, account, change.action, change.after, request_id)?;
    tell(conn, links, account, change.subject, change.what)
}

/// A page of Account → Security log: the viewer and `limit + 1` of their account's
/// own events, newest first, before the cursor.
pub fn security_log(
    conn: &mut PgConnection,
    user: crate::domain::UserId,
    before: Option<(time::OffsetDateTime, i64)>,
    limit: i64,
) -> Result<(crate::services::viewer::Viewer, Vec<audit::AuditEvent>), AppError> {
    let viewer = crate::services::viewer::load(conn, user)?;
    Ok((viewer, audit::of_account(conn, user.0, before, limit)?))
}
