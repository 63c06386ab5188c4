//! Passkeys (WebAuthn, by kanidm's webauthn-rs): registering several per account,
//! signing in with one alone (a discoverable credential: both factors at once), using
//! one as the second step after a password, and removing one.
//!
//! A ceremony's state (its challenge) is kept in PostgreSQL between the options the
//! browser is given and the credential it sends back, under a random id the browser
//! returns with the credential; it is taken once.

use diesel::prelude::*;
use uuid::Uuid;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::{AuthenticatorSelectionCriteria, ResidentKeyRequirement, UserVerificationPolicy};

use super::record::{security_change, SecurityChange};
use crate::db::two_factor::{self as rows, PasskeyRow};
use crate::db::{users, Steps};
use crate::domain::account_event::AccountEvent;
use crate::domain::recovery::RecoveryCode;
use crate::domain::UserId;
use crate::error::{AppError, FormErrors};
use crate::mail::Links;

/// The relying party: Roster at its base URL. Browsers only allow passkeys for a
/// domain name (`localhost` included), never for an IP address.
#[derive(Clone)]
pub struct Passkeys {
    webauthn: Option<std::sync::Arc<Webauthn>>,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys").field("available", &self.available()).finish()
    }
}

/// Why passkeys cannot be used on this Roster.
pub const UNAVAILABLE: &str = "Passkeys work when Roster is opened at a domain name (its ROSTER_BASE_URL); this \
                               Roster is reached by an IP address.";

impl Passkeys {
    /// The relying party for `base_url` (its host is the relying party's id).
    pub fn new(base_url: &Url) -> Self {
        let webauthn = base_url.domain().and_then(|domain| {
            WebauthnBuilder::new(domain, base_url)
                .and_then(|builder| builder.rp_name("Roster").build())
                .map_err(|e| tracing::warn!(error = %e, "passkeys are not available"))
                .ok()
                .map(std::sync::Arc::new)
        });
        Passkeys { webauthn }
    }

    /// Whether passkeys can be registered and used here.
    pub fn available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn, AppError> {
        self.webauthn.as_deref().ok_or_else(|| AppError::Conflict(UNAVAILABLE.into()))
    }
}

/// A passkey as its owner sees it.
#[derive(Debug, Clone)]
pub struct PasskeyView {
    pub id: Uuid,
    pub name: String,
    pub created_at: time::OffsetDateTime,
    pub last_used_at: Option<time::OffsetDateTime>,
}

impl From<PasskeyRow> for PasskeyView {
    fn from(row: PasskeyRow) -> Self {
        PasskeyView { id: row.id, name: row.name, created_at: row.created_at, last_used_at: row.last_used_at }
    }
}

/// The account's passkeys, oldest first.
pub fn list(conn: &mut PgConnection, user: UserId) -> Result<Vec<PasskeyView>, AppError> {
    Ok(rows::passkeys_of(conn, user.0)?.into_iter().map(PasskeyView::from).collect())
}

/// How long a browser has to answer a ceremony (WebAuthn's recommended five minutes).
const CEREMONY_TTL: time::Duration = time::Duration::minutes(5);

/// A ceremony started: the options for the browser, and the id it sends back with
/// the credential.
#[derive(Debug, serde::Serialize)]
pub struct Started<T> {
    pub ceremony: Uuid,
    pub options: T,
}

/// Keeps a ceremony's state; returns the options with its id.
fn keep<T, S: serde::Serialize>(
    conn: &mut PgConnection,
    kind: &str,
    user: Option<UserId>,
    (options, state): (T, S),
) -> Result<Started<T>, AppError> {
    let id = Uuid::new_v4();
    let json = serde_json::to_value(&state).map_err(AppError::internal)?;
    let expires_at = time::OffsetDateTime::now_utc() + CEREMONY_TTL;
    rows::keep_ceremony(conn, id, kind, user.map(|u| u.0), &json, expires_at)?;
    Ok(Started { ceremony: id, options })
}

/// Takes a ceremony's state back (once), or says the request expired.
fn take<S: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    ceremony: Uuid,
    kind: &str,
    user: Option<UserId>,
) -> Result<S, AppError> {
    let json = rows::take_ceremony(conn, ceremony, kind, user.map(|u| u.0))?
        .ok_or_else(|| AppError::Conflict("That passkey request expired. Try again.".into()))?;
    serde_json::from_value(json).map_err(AppError::internal)
}

fn stored(row: &PasskeyRow) -> Result<Passkey, AppError> {
    serde_json::from_value(row.credential.clone()).map_err(AppError::internal)
}

fn field_error(field: &'static str, message: impl Into<String>) -> AppError {
    let mut errors = FormErrors::new();
    errors.add(field, message.into());
    AppError::Invalid(errors)
}

/// The name typed for a new passkey: trimmed, 1 to 64 characters; "Passkey" when left empty.
pub fn parse_name(typed: &str) -> Result<String, AppError> {
    let name = typed.split_whitespace().collect::<Vec<_>>().join(" ");
    match name.chars().count() {
        0 => Ok("Passkey".to_owned()),
        1..=64 => Ok(name),
        _ => Err(field_error("name", "Keep the name to 64 characters.")),
    }
}

/// `Add a passkey`: the options for the browser, and the state to keep until it answers.
/// The passkey must be discoverable (resident), so that it alone can sign in later.
pub fn start_registration(
    conn: &mut PgConnection,
    passkeys: &Passkeys,
    user: UserId,
) -> Result<Started<CreationChallengeResponse>, AppError> {
    let webauthn = passkeys.webauthn()?;
    let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
    let existing: Vec<_> = rows::passkeys_of(conn, user.0)?.iter().map(|r| r.credential_id.clone()).collect();
    let (mut options, state) = webauthn
        .start_passkey_registration(user.0, &account.email, &account.name, Some(existing))
        .map_err(AppError::internal)?;
    options.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
        authenticator_attachment: None,
        resident_key: Some(ResidentKeyRequirement::Required),
        require_resident_key: true,
        user_verification: UserVerificationPolicy::Required,
    });
    keep(conn, "registration", Some(user), (options, state))
}

/// What the browser sent back from `Add a passkey`.
#[derive(Debug, Clone, Copy)]
pub struct NewPasskey<'a> {
    /// The name typed.
    pub name: &'a str,
    /// The ceremony's id, from its options.
    pub ceremony: Uuid,
    pub credential: &'a RegisterPublicKeyCredential,
}

/// The browser's new credential, checked against the state kept: the passkey is added
/// under `name`, audited and mailed. When it is the account's first second factor,
/// recovery codes are made too (returned, to be shown once).
pub fn finish_registration(
    conn: &mut PgConnection,
    passkeys: &Passkeys,
    links: &Links,
    user: UserId,
    new: &NewPasskey<'_>,
    request_id: Option<String>,
) -> Result<Vec<RecoveryCode>, AppError> {
    let NewPasskey { name, ceremony, credential } = *new;
    let webauthn = passkeys.webauthn()?;
    let name = parse_name(name)?;
    let state: PasskeyRegistration = take(conn, ceremony, "registration", Some(user))?;
    let passkey = webauthn
        .finish_passkey_registration(credential, &state)
        .map_err(|e| AppError::Conflict(format!("The passkey could not be added ({e}). Try again.")))?;
    let json = serde_json::to_value(&passkey).map_err(AppError::internal)?;
    conn.transaction(|conn| {
        let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
        let had_factor = account.second_factor().is_on();
        if rows::add_passkey(conn, user.0, passkey.cred_id().as_ref(), &name, &json)?.is_none() {
            return Err(AppError::Conflict("This passkey is registered already.".into()));
        }
        let codes = if had_factor || rows::codes_left(conn, user.0)? > 0 {
            Vec::new()
        } else {
            let codes = RecoveryCode::generate_set();
            rows::replace_codes(conn, user.0, &codes.iter().map(RecoveryCode::digest).collect::<Vec<_>>())?;
            codes
        };
        let what = format!("A passkey named “{name}” was added to your account: it signs you in on its own.");
        security_change(
            conn,
            links,
            &account,
            SecurityChange {
                action: AccountEvent::PasskeyAdded,
                after: serde_json::json!({ "name": name }),
                subject: "A passkey was added to your Roster account",
                what: &what,
            },
            request_id,
        )?;
        Ok(codes)
    })
}

/// `Sign in with a passkey`: options that let the browser offer any passkey it holds
/// for Roster (no account is named), and the state to keep. Limited per address, as
/// anyone may start one.
pub fn start_sign_in(
    conn: &mut PgConnection,
    passkeys: &Passkeys,
    ip: &str,
) -> Result<Started<RequestChallengeResponse>, AppError> {
    crate::services::rate_limit::check(conn, crate::services::rate_limit::PASSKEY_SIGN_INS_PER_IP, ip)?;
    let (mut options, state) = passkeys.webauthn()?.start_discoverable_authentication().map_err(AppError::internal)?;
    // A button the person pressed, not the autofill ("conditional") flavour.
    options.mediation = None;
    keep(conn, "sign_in", None, (options, state))
}

/// Checks a passkey offered to sign in, within the sign-in limits of the client:
/// the account it belongs to, when it is one of theirs and its signature holds.
pub fn finish_sign_in(
    conn: &mut PgConnection,
    passkeys: &Passkeys,
    ip: &str,
    ceremony: Uuid,
    credential: &PublicKeyCredential,
) -> Result<UserId, AppError> {
    const ACCOUNT: &str = "passkey";
    super::password::refuse_failing_client(conn, ACCOUNT, ip)?;
    let webauthn = passkeys.webauthn()?;
    let state: DiscoverableAuthentication = take(conn, ceremony, "sign_in", None)?;
    let checked = match webauthn.identify_discoverable_authentication(credential) {
        Ok((user, credential_id)) => use_passkey(conn, user, credential_id, |key| {
            webauthn.finish_discoverable_authentication_v2(credential, state, key).ok()
        })?
        .then_some(UserId(user)),
        Err(_) => None,
    };
    match checked {
        Some(user) => {
            // A domain that requires single sign-on signs in only through its provider.
            if let Some(only) = crate::services::sso::sso_only_for_account(conn, user)? {
                return Err(AppError::Conflict(only.sentence()));
            }
            Ok(user)
        }
        None => {
            super::password::count_failure(conn, ACCOUNT, ip)?;
            Err(AppError::Conflict(
                "That passkey is not one of a Roster account here. Sign in with your password, or try another passkey."
                    .into(),
            ))
        }
    }
}

/// Uses `user`'s passkey with `credential_id` if `verify` accepts its signature: its
/// counter and last use are recorded. `false` when the account has no such passkey,
/// or the signature does not hold.
fn use_passkey(
    conn: &mut PgConnection,
    user: Uuid,
    credential_id: &[u8],
    verify: impl FnOnce(&Passkey) -> Option<webauthn_rs::prelude::AuthenticationResult>,
) -> Result<bool, AppError> {
    conn.transaction(|conn| {
        let Some(row) = rows::lock_passkey(conn, user, credential_id)? else { return Ok(false) };
        let mut passkey = stored(&row)?;
        let Some(result) = verify(&passkey) else { return Ok(false) };
        passkey.update_credential(&result);
        rows::passkey_used(conn, row.id, &serde_json::to_value(&passkey).map_err(AppError::internal)?)?;
        Ok(true)
    })
}

/// `Use a passkey` at the second step: options naming the account's passkeys.
pub fn start_second_step(
    conn: &mut PgConnection,
    passkeys: &Passkeys,
    user: UserId,
) -> Result<Started<RequestChallengeResponse>, AppError> {
    let keys: Vec<Passkey> = rows::passkeys_of(conn, user.0)?.iter().map(stored).collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err(AppError::Conflict("Your account has no passkey: use a code instead.".into()));
    }
    let started = passkeys.webauthn()?.start_passkey_authentication(&keys).map_err(AppError::internal)?;
    keep(conn, "second_step", Some(user), started)
}

/// Checks the passkey given at the second step of `user`'s sign-in, within the
/// sign-in limits, as a code would be.
pub fn finish_second_step(
    conn: &mut PgConnection,
    passkeys: &Passkeys,
    ip: &str,
    user: UserId,
    ceremony: Uuid,
    credential: &PublicKeyCredential,
) -> Result<(), AppError> {
    let account_key = format!("second-factor:{}", user.0);
    super::password::refuse_failing_client(conn, &account_key, ip)?;
    let webauthn = passkeys.webauthn()?;
    let state: PasskeyAuthentication = take(conn, ceremony, "second_step", Some(user))?;
    // The ceremony's state names the account's passkeys already: it checks against those.
    let used = use_passkey(conn, user.0, credential.get_credential_id(), |_| {
        webauthn.finish_passkey_authentication(credential, &state).ok()
    })?;
    if used {
        return Ok(());
    }
    super::password::count_failure(conn, &account_key, ip)?;
    Err(AppError::Conflict("That passkey did not sign you in. Try again, or use a code.".into()))
}

/// `Remove` a passkey, confirmed by the password or a passkey: audited and mailed.
/// Removing the last second factor also ends the recovery codes.
pub fn remove(
    steps: &Steps<'_>,
    links: &Links,
    keys: &Passkeys,
    confirmation: &Confirmation<'_>,
    id: Uuid,
    request_id: Option<String>,
) -> Result<String, AppError> {
    let account = confirm(steps, keys, confirmation)?;
    let user = confirmation.user;
    steps.run(|conn| {
        conn.transaction(|conn| {
            let row = rows::remove_passkey(conn, user.0, id)?.ok_or(AppError::NotFound)?;
            let left = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
            if !left.second_factor().is_on() {
                rows::remove_codes(conn, user.0)?;
            }
            let what =
                format!("The passkey named “{}” was removed from your account: it no longer signs you in.", row.name);
            security_change(
                conn,
                links,
                &account,
                SecurityChange {
                    action: AccountEvent::PasskeyRemoved,
                    after: serde_json::json!({ "name": row.name }),
                    subject: "A passkey was removed from your Roster account",
                    what: &what,
                },
                request_id,
            )?;
            Ok(row.name)
        })
    })
}

/// How a person proves it is them before a change to how they sign in.
#[derive(Debug, Clone)]
pub enum Proof {
    /// Their current password.
    Password(String),
    /// One of their passkeys, answering a ceremony from [`start_second_step`].
    Passkey { ceremony: Uuid, credential: Box<PublicKeyCredential> },
}

/// Who asks for a change, from where, and how they proved it.
#[derive(Debug, Clone)]
pub struct Confirmation<'a> {
    pub user: UserId,
    pub ip: &'a str,
    pub proof: Proof,
}

/// Checks a confirmation within the sign-in limits, as a sign-in would be checked;
/// returns the account. A wrong password or passkey is `Invalid` on `password`.
pub fn confirm(steps: &Steps<'_>, keys: &Passkeys, confirmation: &Confirmation<'_>) -> Result<users::User, AppError> {
    let Confirmation { user, ip, proof } = confirmation;
    match proof {
        Proof::Password(password) => super::password::confirm_current(steps, ip, *user, password, "password"),
        Proof::Passkey { ceremony, credential } => steps.run(|conn| {
            finish_second_step(conn, keys, ip, *user, *ceremony, credential).map_err(|e| match e {
                AppError::Conflict(_) => AppError::Invalid(crate::error::FormErrors::form(
                    "That passkey did not confirm it is you. Try again.",
                )),
                other => other,
            })?;
            users::find(conn, *user)?.ok_or(AppError::Unauthenticated)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passkey_is_named_as_typed_or_plainly() {
        assert_eq!(parse_name("  Work   laptop ").unwrap(), "Work laptop");
        assert_eq!(parse_name("").unwrap(), "Passkey");
        assert!(matches!(parse_name(&"x".repeat(65)), Err(AppError::Invalid(_))));
    }

    #[test]
    fn passkeys_need_roster_at_a_domain_name() {
        assert!(Passkeys::new(&Url::parse("https://roster.example.com").unwrap()).available());
        assert!(Passkeys::new(&Url::parse("http://localhost:8080").unwrap()).available());
        assert!(!Passkeys::new(&Url::parse("http://127.0.0.1:8080").unwrap()).available());
    }
}
