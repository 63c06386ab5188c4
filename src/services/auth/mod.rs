//! Authentication: checking who someone is (a first factor, then a second where
//! one is needed) and completing the sign-in. The session's side is
//! `web::session`, which holds the state these functions decide.

pub mod passkeys;
pub mod password;
pub mod record;
pub mod two_factor;

use diesel::PgConnection;
use uuid::Uuid;

use crate::db::{users, Steps};
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
pub fn complete(conn: &mut PgConnection, state: &SignIn, request_id: Option<String>) -> Result<(), AppError> {
    let Some(user) = state.signed_in_user() else { return Ok(()) };
    let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
    super::domains::join_by_domain_after(conn, user);
    let methods: Vec<&str> = state.methods().iter().map(|m| m.key()).collect();
    record::record_account(
        conn,
        &account,
        AccountEvent::SignedIn,
        serde_json::json!({ "methods": methods }),
        request_id,
    )
}

/// How a person proves it is them before a change to how they sign in.
#[derive(Debug, Clone)]
pub enum Proof {
    /// Their current password.
    Password(String),
    /// One of their passkeys, answering a ceremony from [`passkeys::start_second_step`].
    Passkey { ceremony: Uuid, credential: Box<webauthn_rs::prelude::PublicKeyCredential> },
}

/// Who asks for a change, from where, and how they proved it.
#[derive(Debug, Clone)]
pub struct Confirmation<'a> {
    pub user: crate::domain::UserId,
    pub ip: &'a str,
    pub proof: Proof,
}

/// Checks a confirmation within the sign-in limits, as a sign-in would be checked;
/// returns the account. A wrong password or passkey is `Invalid` on `password`.
pub fn confirm(
    steps: &Steps<'_>,
    keys: &passkeys::Passkeys,
    confirmation: &Confirmation<'_>,
) -> Result<users::User, AppError> {
    let Confirmation { user, ip, proof } = confirmation;
    match proof {
        Proof::Password(password) => password::confirm_current(steps, ip, *user, password, "password"),
        Proof::Passkey { ceremony, credential } => steps.run(|conn| {
            passkeys::finish_second_step(conn, keys, ip, *user, *ceremony, credential).map_err(|e| match e {
                AppError::Conflict(_) => AppError::Invalid(crate::error::FormErrors::form(
                    "That passkey did not confirm it is you. Try again.",
                )),
                other => other,
            })?;
            users::find(conn, *user)?.ok_or(AppError::Unauthenticated)
        }),
    }
}
