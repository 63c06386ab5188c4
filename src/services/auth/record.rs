//! An account's own events in the audit log: no organization's log lists them.

use diesel::PgConnection;
use uuid::Uuid;

use crate::db::{audit, users};
use crate::error::AppError;

/// Writes an account's own event to the audit log: no organization's log lists it.
pub fn record_account(
    conn: &mut PgConnection,
    account: &users::User,
    action: &str,
    after: serde_json::Value,
    request_id: Option<String>,
) -> Result<(), AppError> {
    let row = audit::NewAuditEvent {
        id: Uuid::new_v4(),
        organization_id: None,
        actor_id: Some(account.id),
        actor_label: format!("{} <{}>", account.name, account.email),
        action: action.to_owned(),
        target_label: account.email.clone(),
        before: None,
        after: Some(after),
        request_id,
        created_at: None,
    };
    audit::insert_many(conn, &[row])?;
    Ok(())
}
