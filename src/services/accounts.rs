//! Accounts: sign up, email verification, password reset and change.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::passwords;
use super::rate_limit::{self, check};
use super::viewer::{self, Viewer};
use crate::db::email_tokens;
pub use crate::db::email_tokens::Purpose;
use crate::db::{outbox, sessions, users, Steps};
use crate::domain::email_address::{canonical, same_address};
use crate::domain::{EmailAddress, NewPassword, PersonName, Token, UserId};
use crate::error::{AppError, FormErrors};
use crate::mail::{messages, Links};

pub use crate::domain::token::VERIFY_TTL;
/// How long a password-reset link works.
pub const RESET_TTL: time::Duration = time::Duration::hours(1);

/// A checked sign-up form.
#[derive(Debug)]
pub struct SignUp {
    pub name: PersonName,
    pub email: EmailAddress,
    pub password: NewPassword,
}

/// Creates an account and mails a verification link. When the address already
/// has an account, mails its owner instead, and answers exactly the same.
/// Limited per client address (`ip`).
///
/// Returns the id the signing-up browser keeps until the link is opened: the new
/// account's, or a random one when the address already had an account, so the
/// answer tells nothing. Opening the link in that browser signs it in
/// ([`signs_in_after_verifying`]); anywhere else it only verifies, so whoever chose
/// the password cannot have the inbox's owner sign in to the account they made.
pub fn sign_up(steps: &Steps<'_>, links: &Links, ip: &str, input: &SignUp) -> Result<Uuid, AppError> {
    steps.run(|conn| check(conn, rate_limit::SIGN_UP_PER_IP, ip))?;
    // Hash before looking the address up, so both outcomes take the same time.
    let password_hash = passwords::hash(&input.password)?;
    steps.run(|conn| create_account(conn, links, input, &password_hash))
}

/// Whether opening a verification link of `verified` signs in the browser that
/// kept `signed_up_here` from [`sign_up`]: only the one that created the account.
pub fn signs_in_after_verifying(verified: UserId, signed_up_here: Option<Uuid>) -> bool {
    signed_up_here == Some(verified.0)
}

fn create_account(
    conn: &mut PgConnection,
    links: &Links,
    input: &SignUp,
    password_hash: &str,
) -> Result<Uuid, AppError> {
    // Counted for new and existing addresses alike, so the limit reveals nothing.
    check(conn, rate_limit::MAIL_PER_ACCOUNT, input.email.canonical())?;
    conn.transaction(|conn| {
        let new_user = users::NewUser {
            id: Uuid::new_v4(),
            name: input.name.as_str(),
            email: input.email.as_str(),
            email_key: input.email.canonical(),
            email_verified_at: None,
            password_hash: Some(password_hash),
            provisioned_by: None,
        };
        match users::insert(conn, &new_user)? {
            Some(user) => {
                send_verification(conn, links, &user)?;
                Ok(user.id)
            }
            None => {
                let existing = users::find_by_email(conn, &input.email)?.ok_or(AppError::NotFound)?;
                tell_account_exists(conn, links, &existing)?;
                Ok(Uuid::new_v4())
            }
        }
    })
}

fn send_verification(conn: &mut PgConnection, links: &Links, user: &users::User) -> Result<(), AppError> {
    send_verification_to(conn, links, user, &user.email)
}

/// Mails `address` a link that verifies it for `user` (their current address, or
/// the one they are changing to); earlier links stop working.
fn send_verification_to(
    conn: &mut PgConnection,
    links: &Links,
    user: &users::User,
    address: &str,
) -> Result<(), AppError> {
    let token = Token::generate();
    let expires = OffsetDateTime::now_utc() + VERIFY_TTL;
    email_tokens::issue(conn, user.user_id(), Purpose::VerifyEmail, &token, address, expires)?;
    let message = messages::verify_email(address, &user.name, &links.verify_email(&token))?;
    outbox::enqueue(conn, links.sealing_key(), &message)?;
    Ok(())
}

/// Tells the owner of an address that someone tried to use it for another account:
/// what sign-up and a change of address answer instead of revealing it is taken.
fn tell_account_exists(conn: &mut PgConnection, links: &Links, existing: &users::User) -> Result<(), AppError> {
    let message =
        messages::account_exists(&existing.email, &existing.name, &links.sign_in(), &links.forgot_password())?;
    outbox::enqueue(conn, links.sealing_key(), &message)?;
    Ok(())
}

/// Sends a fresh verification link to a signed-in, unverified user; earlier links
/// stop working. Limited per client address and per account.
pub fn resend_verification(conn: &mut PgConnection, links: &Links, ip: &str, user: UserId) -> Result<String, AppError> {
    check(conn, rate_limit::MAIL_PER_IP, ip)?;
    conn.transaction(|conn| {
        let user = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
        if user.is_verified() {
            return Err(AppError::Conflict(format!("{} is already verified.", user.email)));
        }
        check(conn, rate_limit::MAIL_PER_ACCOUNT, &canonical(&user.email))?;
        send_verification(conn, links, &user)?;
        Ok(user.email)
    })
}

/// What the account page shows.
pub struct Profile {
    pub viewer: Viewer,
    /// When they joined Roster.
    pub created_at: OffsetDateTime,
    /// Whether the account has a password (provisioned accounts may have none).
    pub has_password: bool,
    /// Whether signing in asks for a second factor.
    pub two_factor: bool,
    /// When its domain requires single sign-on (and it is not that organization's
    /// Owner): no password signs it in, so none is offered.
    pub sso_only: Option<super::sso::SsoOnly>,
    /// The browsers they are signed in on, the one asking first.
    pub sessions: Vec<super::sessions::SignedInDevice>,
}

/// The account page of `user`, asked from the session with row id `current`.
pub fn profile(conn: &mut PgConnection, user: UserId, current: &str) -> Result<Profile, AppError> {
    let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
    Ok(Profile {
        viewer: viewer::load(conn, account.user_id())?,
        created_at: account.created_at,
        has_password: account.has_password(),
        two_factor: super::auth::two_factor::needed(conn, user)?,
        sso_only: super::sso::sso_only_for_account(conn, user)?,
        sessions: super::sessions::signed_in_devices(conn, user, current)?,
    })
}

/// The address an emailed link (`purpose`) is for, if the link still works. Changes
/// nothing: mail scanners open links too.
pub fn link_address(conn: &mut PgConnection, purpose: Purpose, token: &Token) -> Result<Option<String>, AppError> {
    Ok(email_tokens::find_usable(conn, purpose, token)?.map(|t| t.email))
}

/// Uses a verification link. `None` when it is unknown, used or expired.
pub fn verify_email(conn: &mut PgConnection, token: &Token) -> Result<Option<(UserId, String)>, AppError> {
    let verified = conn.transaction(|conn| {
        let Some(used) = email_tokens::consume(conn, Purpose::VerifyEmail, token)? else {
            return Ok(None);
        };
        let user = UserId(used.user_id);
        let current = users::find(conn, user)?.ok_or(AppError::NotFound)?;
        if !same_address(&current.email, &used.email) {
            // A link from `Change email address`: opening it proves the new inbox,
            // and the account moves there, verified.
            return match users::change_email(conn, user, &used.email) {
                Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                    Err(AppError::Conflict(format!(
                        "{} belongs to another account now, so your address stays {}.",
                        used.email, current.email
                    )))
                }
                other => {
                    other?;
                    users::mark_verified(conn, user, &used.email)?;
                    // Moved to a domain that requires single sign-on: its sessions signed in
                    // otherwise end, as they did for everyone there when it was required.
                    if super::sso::sso_only_for_account(conn, user)?.is_some() {
                        crate::db::sso::end_own_sessions_without_sso(conn, user)?;
                    }
                    Ok(Some((user, used.email)))
                }
            };
        }
        users::mark_verified(conn, user, &used.email)?;
        Ok(Some((user, used.email)))
    })?;
    // A proven address at a verified domain joins that organization, once the
    // verification has committed, in a transaction of its own.
    Ok(verified.inspect(|(user, _)| {
        super::domains::join_by_domain_after(conn, *user);
    }))
}

/// Changes a signed-in user's password after checking their current one (limited
/// like sign-in) and ends every session of theirs; the caller renews its own.
/// A wrong current password is an `Invalid` error on `current_password`.
pub fn change_password(
    steps: &Steps<'_>,
    ip: &str,
    user: UserId,
    current: &str,
    new: &NewPassword,
) -> Result<(), AppError> {
    super::auth::password::confirm_current(steps, ip, user, current, "current_password")?;
    let new_hash = passwords::hash(new)?;
    steps.run(|conn| {
        conn.transaction(|conn| {
            users::set_password_hash(conn, user, &new_hash)?;
            sessions::delete_for_user(conn, user.0)?;
            Ok(())
        })
    })
}

/// Starts changing a signed-in user's address, after checking their current password
/// (limited like sign-in): the new address gets a link, and the account moves to it
/// only when the link is opened, so a mistyped or someone else's address never gets
/// the account (password resets keep going to the current one). When another account
/// has the address, that inbox is told instead and the answer is the same, so it
/// reveals nothing (DESIGN.md §5). Refusals are `Invalid`, beside `new_email` or
/// `email_password`.
pub fn change_email(
    steps: &Steps<'_>,
    links: &Links,
    ip: &str,
    user: UserId,
    new_email: &EmailAddress,
    password: &str,
) -> Result<(), AppError> {
    let account = super::auth::password::confirm_current(steps, ip, user, password, "email_password")?;
    if canonical(&account.email) == new_email.canonical() {
        let mut errors = FormErrors::new();
        errors.add("new_email", "That is already your address.");
        return Err(AppError::Invalid(errors));
    }
    steps.run(|conn| {
        check(conn, rate_limit::MAIL_PER_ACCOUNT, new_email.canonical())?;
        conn.transaction(|conn| match users::find_by_email(conn, new_email)? {
            Some(existing) => tell_account_exists(conn, links, &existing),
            None => send_verification_to(conn, links, &account, new_email.as_str()),
        })
    })
}

/// Mails a reset link if the address has an account; does nothing otherwise,
/// and the caller answers the same in both cases. Limited per client address and
/// per address asked for.
pub fn request_password_reset(
    conn: &mut PgConnection,
    links: &Links,
    ip: &str,
    email: &EmailAddress,
) -> Result<(), AppError> {
    check(conn, rate_limit::MAIL_PER_IP, ip)?;
    check(conn, rate_limit::MAIL_PER_ACCOUNT, email.canonical())?;
    conn.transaction(|conn| {
        let Some(user) = users::find_by_email(conn, email)? else {
            return Ok(());
        };
        // No password for an address that signs in only through single sign-on.
        if super::sso::sso_only(conn, email, Some(user.user_id()))?.is_some() {
            return Ok(());
        }
        let token = Token::generate();
        let expires = OffsetDateTime::now_utc() + RESET_TTL;
        email_tokens::issue(conn, user.user_id(), Purpose::ResetPassword, &token, &user.email, expires)?;
        let message = messages::reset_password(&user.email, &user.name, &links.reset_password(&token))?;
        outbox::enqueue(conn, links.sealing_key(), &message)?;
        Ok(())
    })
}

/// Sets a new password from a reset link and ends every session of the account.
/// The link proves the address, so the account counts as verified too.
/// `None` when the link is unknown, used or expired.
pub fn reset_password(steps: &Steps<'_>, token: &Token, new: &NewPassword) -> Result<Option<String>, AppError> {
    let new_hash = passwords::hash(new)?;
    steps.run(|conn| {
        conn.transaction(|conn| {
            let Some(used) = email_tokens::consume(conn, Purpose::ResetPassword, token)? else {
                return Ok(None);
            };
            let user = UserId(used.user_id);
            // A link sent before its domain required single sign-on sets no password now
            // (the error rolls back, so the link stays as it was).
            if let Some(only) = super::sso::sso_only_for_account(conn, user)? {
                return Err(AppError::Forbidden(only.sentence()));
            }
            users::set_password_hash(conn, user, &new_hash)?;
            users::mark_verified(conn, user, &used.email)?;
            sessions::delete_for_user(conn, user.0)?;
            Ok(Some(used.email))
        })
    })
}

/// Ends every session of an account (the operator's "sign out everywhere").
pub fn sign_out_everywhere(conn: &mut PgConnection, email: &EmailAddress) -> Result<usize, AppError> {
    let user = users::find_by_email(conn, email)?.ok_or(AppError::NotFound)?;
    Ok(sessions::delete_for_user(conn, user.id)?)
}

/// What signing up from an invitation link led to.
#[derive(Debug)]
pub enum InvitedSignUp {
    /// A new account, verified (only the invited inbox had the link), which accepted
    /// the invitation in the same transaction: sign it in.
    Joined(UserId, super::invitations::Answered),
    /// A new account, verified, whose invitation could not be accepted after all
    /// (answered in between): sign it in; the invitation's page says what happened.
    Ready(UserId),
    /// Answered like any sign-up: a mail went to the address (a verification
    /// link, or "you already have an account"), and nothing tells which; the id is
    /// what the browser keeps until the link is opened, as [`sign_up`] returns it.
    CheckEmail(Uuid),
}

/// Creates an account from an invitation link, for the invited address (limited per
/// client address like any sign-up). The account counts as verified when the link
/// can only have come from that inbox; if an admin copied the link, it must verify
/// by mail like any other. `NotFound` when the invitation is no longer open.
pub fn sign_up_invited(
    steps: &Steps<'_>,
    links: &Links,
    ip: &str,
    request_id: Option<String>,
    token: &Token,
    name: &PersonName,
    password: &NewPassword,
) -> Result<InvitedSignUp, AppError> {
    steps.run(|conn| check(conn, rate_limit::SIGN_UP_PER_IP, ip))?;
    let password_hash = passwords::hash(password)?;
    steps.run(|conn| create_invited_account(conn, links, request_id.clone(), token, name, &password_hash))
}

fn create_invited_account(
    conn: &mut PgConnection,
    links: &Links,
    request_id: Option<String>,
    token: &Token,
    name: &PersonName,
    password_hash: &str,
) -> Result<InvitedSignUp, AppError> {
    conn.transaction(|conn| {
        let invitation = crate::db::invitations::find_by_token_hash(conn, &token.hash())?
            .filter(|i| i.status_now() == crate::domain::InvitationStatus::Pending)
            .ok_or(AppError::NotFound)?;
        let proven = invitation.link_proves_address();
        let email_key = canonical(&invitation.email);
        let new_user = users::NewUser {
            id: Uuid::new_v4(),
            name: name.as_str(),
            email: &invitation.email,
            email_key: &email_key,
            email_verified_at: proven.then(OffsetDateTime::now_utc),
            password_hash: Some(password_hash),
            provisioned_by: None,
        };
        match users::insert(conn, &new_user)? {
            Some(user) if proven => {
                // `Create account and join`: the invitation is accepted in the same
                // transaction (in a savepoint: an answer that lost a race keeps the account).
                let actor = super::events::Actor::new(user.user_id(), request_id);
                let reference = super::invitations::InvitationRef::Token(token.clone());
                match super::invitations::respond(conn, &actor, &reference, super::invitations::Answer::Accept) {
                    Ok(answered) => Ok(InvitedSignUp::Joined(user.user_id(), answered)),
                    Err(AppError::Conflict(_) | AppError::Forbidden(_) | AppError::NotFound) => {
                        Ok(InvitedSignUp::Ready(user.user_id()))
                    }
                    Err(other) => Err(other),
                }
            }
            Some(user) => {
                send_verification(conn, links, &user)?;
                Ok(InvitedSignUp::CheckEmail(user.id))
            }
            None => {
                let existing =
                    users::find_by_email(conn, &EmailAddress::parse(&invitation.email).map_err(AppError::internal)?)?
                        .ok_or(AppError::NotFound)?;
                tell_account_exists(conn, links, &existing)?;
                Ok(InvitedSignUp::CheckEmail(Uuid::new_v4()))
            }
        }
    })
}
