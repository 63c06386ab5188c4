//! Authentication: checking who someone is (a first factor, then a second where
//! one is needed) and completing the sign-in. The session's side is
//! `web::session`, which holds the state these functions decide.

pub mod passkeys;
pub mod password;
pub mod record;
pub mod sso;
pub mod two_factor;

use diesel::PgConnection;

use crate::db::users;
use crate::domain::account_event::AccountEvent;
use crate::domain::sign_in::{self, SignIn};
use crate::error::AppError;

/// Where a first factor that proved `user` leads: signed in, or to the second step
/// when the account has a second factor.
pub fn after_first_factor(
    conn: &mut PgConnection,
    user: crate::domain::UserId,
    method: sign_in::Method,
) -> Result<SignIn, AppError> {
    Ok(SignIn::after_first_factor(user, method, two_factor::needed(conn, user)?))
}

/// What a completed sign-in does beside the session: someone whose verified address
/// is at a verified domain joins its organization (a failure there is logged, never
/// a failed sign-in), and the audit log records `account.signed_in` with the methods
/// used. Does nothing for a sign-in that still waits for its second factor.
/// Returns what to tell the person: that their domain's organization had no free seat.
pub fn complete(
    conn: &mut PgConnection,
    state: &SignIn,
    request_id: Option<String>,
) -> Result<Option<String>, AppError> {
    let Some(user) = state.signed_in_user() else { return Ok(None) };
    // Whatever the way in (a password, a link that verified the address, a passkey, a
    // second step begun before), an address whose domain requires single sign-on
    // signs in only through it, its organization's Owner excepted.
    if !state.methods().contains(&sign_in::Method::Sso) {
        if let Some(only) = super::sso::sso_only_for_account(conn, user)? {
            return Err(AppError::Forbidden(only.sentence()));
        }
    }
    let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
    let no_seat = super::domains::join_by_domain_after(conn, user);
    let methods: Vec<&str> = state.methods().iter().map(|m| m.key()).collect();
    record::record_account(
        conn,
        &account,
        AccountEvent::SignedIn,
        serde_json::json!({ "methods": methods }),
        request_id,
    )?;
    Ok(no_seat)
}
