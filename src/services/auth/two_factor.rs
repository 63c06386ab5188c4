//! Second factors: setting up an authenticator app (with its recovery codes), turning
//! two-factor off, and checking the second step of a sign-in.

use diesel::prelude::*;
use time::OffsetDateTime;

use super::record::{security_change, SecurityChange};
use crate::db::sealed::authenticator_secret_context;
use crate::db::{two_factor as rows, users, Steps};
use crate::domain::account_event::AccountEvent;
use crate::domain::recovery::RecoveryCode;
use crate::domain::sign_in::Method;
use crate::domain::totp::{CodeError, TotpSecret};
use crate::domain::UserId;
use crate::error::{AppError, FormErrors};
use crate::mail::Links;

/// The name the authenticator app lists the account under.
const ISSUER: &str = "Roster";

/// Where an account's two-factor stands.
#[derive(Debug, Clone)]
pub struct Status {
    /// An authenticator app is set up and confirmed.
    pub app: bool,
    /// The account's passkeys, oldest first.
    pub passkeys: Vec<super::passkeys::PasskeyView>,
    /// Recovery codes not used yet.
    pub codes_left: i64,
}

impl Status {
    /// Whether the account has a second factor at all.
    pub fn is_on(&self) -> bool {
        self.app || !self.passkeys.is_empty()
    }
}

/// The account's two-factor status.
pub fn status(conn: &mut PgConnection, user: UserId) -> Result<Status, AppError> {
    Ok(Status {
        app: rows::app_of(conn, user.0)?.is_some_and(|a| a.confirmed_at.is_some()),
        passkeys: super::passkeys::list(conn, user)?,
        codes_left: rows::codes_left(conn, user.0)?,
    })
}

/// Whether a sign-in of `user` needs a second step: an app or a passkey (what the
/// database keeps on the account). One read, as every password sign-in asks it.
pub fn needed(conn: &mut PgConnection, user: UserId) -> Result<bool, AppError> {
    Ok(users::find(conn, user)?.is_some_and(|account| account.second_factor().is_on()))
}

/// An app being set up: its secret as text and the URL its QR code carries.
#[derive(Debug, Clone)]
pub struct Setup {
    pub secret: String,
    pub url: String,
}

/// `Set up`: a new secret for an app, sealed under the server's newest key; replaces
/// one being set up. Refused while an app is on (turn it off first).
pub fn start_app(conn: &mut PgConnection, links: &Links, user: UserId) -> Result<Setup, AppError> {
    conn.transaction(|conn| {
        let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
        let secret = TotpSecret::generate();
        let key = links.sealing_key();
        let sealed = key.seal(secret.as_bytes(), &authenticator_secret_context(user.0));
        if rows::start_app(conn, user.0, &sealed, key.newest_id())? == 0 {
            return Err(AppError::Conflict("Two-factor authentication is on already.".into()));
        }
        setup_of(&secret, &account.email)
    })
}

fn setup_of(secret: &TotpSecret, email: &str) -> Result<Setup, AppError> {
    let url = secret
        .url(ISSUER, email)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no otpauth URL for a generated secret")))?;
    Ok(Setup { secret: secret.for_typing(), url })
}

/// The app being set up, to show again (after a wrong code); `None` when there is none.
pub fn app_being_set_up(conn: &mut PgConnection, links: &Links, user: UserId) -> Result<Option<Setup>, AppError> {
    let Some(app) = rows::app_of(conn, user.0)?.filter(|a| a.confirmed_at.is_none()) else { return Ok(None) };
    let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
    let Some(secret) = open(links, user, &app) else { return Ok(None) };
    Ok(Some(setup_of(&secret, &account.email)?))
}

fn open(links: &Links, user: UserId, app: &rows::App) -> Option<TotpSecret> {
    let plain = links.sealing_key().open(&app.secret_sealed, &authenticator_secret_context(user.0))?;
    Some(TotpSecret::from_bytes(plain))
}

fn now_secs() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or_default()
}

/// The first code confirms the app being set up: two-factor is on, ten recovery codes
/// are made (returned, to be shown once), the audit log and the person's inbox are
/// told. A wrong code is `Invalid` on `code`.
pub fn confirm_app(
    conn: &mut PgConnection,
    links: &Links,
    user: UserId,
    typed: &str,
    request_id: Option<String>,
) -> Result<Vec<RecoveryCode>, AppError> {
    conn.transaction(|conn| {
        let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
        let app = rows::app_of(conn, user.0)?
            .filter(|a| a.confirmed_at.is_none())
            .ok_or_else(|| AppError::Conflict("There is no authenticator app being set up: choose Set up again.".into()))?;
        let secret = open(links, user, &app).ok_or_else(|| {
            AppError::Conflict("This setup can no longer be read: choose Set up again.".into())
        })?;
        let step = secret.check(typed, now_secs(), None).map_err(|e| field_error("code", e))?;
        if rows::confirm_app(conn, user.0, step)? == 0 {
            return Err(AppError::Conflict("Two-factor authentication is on already.".into()));
        }
        let codes = RecoveryCode::generate_set();
        rows::replace_codes(conn, user.0, &codes.iter().map(RecoveryCode::digest).collect::<Vec<_>>())?;
        security_change(conn, links, &account, SecurityChange {
            action: AccountEvent::TwoFactorEnabled,
            after: serde_json::json!({ "methods": ["totp"] }),
            subject: "Two-factor authentication was turned on for your Roster account",
            what: "Two-factor authentication was turned on for your account: signing in now asks for a code from your authenticator app, or a recovery code.",
        }, request_id)?;
        Ok(codes)
    })
}

/// `Turn off` the authenticator app, confirmed by the password or a passkey: with no
/// passkey left, the recovery codes go too; the audit log and the person's inbox are
/// told. Returns whether two-factor is still on (passkeys remain).
pub fn turn_off(
    steps: &Steps<'_>,
    links: &Links,
    keys: &super::passkeys::Passkeys,
    confirmation: &super::passkeys::Confirmation<'_>,
    request_id: Option<String>,
) -> Result<bool, AppError> {
    let account = super::passkeys::confirm(steps, keys, confirmation)?;
    let user = confirmation.user;
    steps.run(|conn| {
        conn.transaction(|conn| {
            if rows::remove_app(conn, user.0)? == 0 {
                return Ok(account.second_factor().is_on());
            }
            // Passkeys keep two-factor on, and the recovery codes with it.
            let left = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
            if left.second_factor().is_on() {
                return security_change(conn, links, &account, SecurityChange {
                    action: AccountEvent::AuthenticatorAppRemoved,
                    after: serde_json::json!({ "methods": ["passkey"] }),
                    subject: "The authenticator app was removed from your Roster account",
                    what: "The authenticator app was removed from your account: signing in now asks for a passkey after your password.",
                }, request_id.clone()).map(|()| true);
            }
            rows::remove_codes(conn, user.0)?;
            security_change(conn, links, &account, SecurityChange {
                action: AccountEvent::TwoFactorDisabled,
                after: serde_json::json!({ "methods": [] }),
                subject: "Two-factor authentication was turned off for your Roster account",
                what: "Two-factor authentication was turned off for your account: signing in now asks for your password alone.",
            }, request_id.clone()).map(|()| false)
        })
    })
}

/// New recovery codes in place of the old ones (returned, to be shown once).
pub fn regenerate_codes(
    conn: &mut PgConnection,
    links: &Links,
    user: UserId,
    request_id: Option<String>,
) -> Result<Vec<RecoveryCode>, AppError> {
    conn.transaction(|conn| {
        let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
        if !status(conn, user)?.is_on() {
            return Err(AppError::Conflict(
                "Recovery codes come with two-factor authentication: turn it on first.".into(),
            ));
        }
        let codes = RecoveryCode::generate_set();
        rows::replace_codes(conn, user.0, &codes.iter().map(RecoveryCode::digest).collect::<Vec<_>>())?;
        security_change(
            conn,
            links,
            &account,
            SecurityChange {
                action: AccountEvent::RecoveryCodesRegenerated,
                after: serde_json::json!({ "codes": codes.len() }),
                subject: "New recovery codes for your Roster account",
                what: "New recovery codes were made for your account; the old ones no longer work.",
            },
            request_id,
        )?;
        Ok(codes)
    })
}

/// What a person gave at the second step of a sign-in.
#[derive(Debug, Clone)]
pub enum SecondFactor {
    /// A code from the authenticator app.
    Code(String),
    /// One of the recovery codes.
    RecoveryCode(String),
}

/// Checks the second step of `user`'s sign-in, within the sign-in limits (a client
/// failing for this account is refused). A code is used once; a recovery code is used
/// up. Returns the method, for the sign-in's record; a wrong one is `Invalid`.
pub fn check(
    conn: &mut PgConnection,
    links: &Links,
    ip: &str,
    user: UserId,
    given: &SecondFactor,
) -> Result<Method, AppError> {
    let account_key = format!("second-factor:{}", user.0);
    super::password::refuse_failing_client(conn, &account_key, ip)?;
    let checked = conn.transaction(|conn| -> Result<Result<Method, AppError>, AppError> {
        match given {
            SecondFactor::Code(typed) => {
                let app = rows::app_of(conn, user.0)?
                    .filter(|a| a.confirmed_at.is_some())
                    .ok_or(AppError::Unauthenticated)?;
                let secret = open(links, user, &app).ok_or_else(|| {
                    AppError::Conflict(
                        "Roster can no longer read your authenticator app's secret: use a recovery code.".into(),
                    )
                })?;
                match secret.check(typed, now_secs(), app.last_used_step) {
                    Ok(step) if rows::use_step(conn, user.0, step)? == 1 => Ok(Ok(Method::Totp)),
                    Ok(_) => Ok(Err(field_error("code", CodeError::Used))),
                    Err(error) => Ok(Err(field_error("code", error))),
                }
            }
            SecondFactor::RecoveryCode(typed) => {
                let refused =
                    || field_error("recovery_code", "That is not one of your recovery codes, or it was used already.");
                let Some(code) = RecoveryCode::parse(typed) else { return Ok(Err(refused())) };
                Ok(if rows::use_code(conn, user.0, &code.digest())? == 1 {
                    Ok(Method::RecoveryCode)
                } else {
                    Err(refused())
                })
            }
        }
    })?;
    if checked.is_err() {
        super::password::count_failure(conn, &account_key, ip)?;
    }
    checked
}

fn field_error(field: &'static str, error: impl std::fmt::Display) -> AppError {
    let mut errors = FormErrors::new();
    errors.add(field, error.to_string());
    AppError::Invalid(errors)
}
