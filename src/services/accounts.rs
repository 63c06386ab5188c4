//! Accounts: sign up, email verification, password reset and change.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::email_tokens::{self, Purpose};
use crate::db::{outbox, sessions, users};
use crate::domain::{EmailAddress, PersonName, Token, UserId};
use crate::error::AppError;
use crate::mail::{messages, Links};

/// How long a verification link works.
pub const VERIFY_TTL: time::Duration = time::Duration::hours(48);
/// How long a password-reset link works.
pub const RESET_TTL: time::Duration = time::Duration::hours(1);

/// A checked sign-up form, with the password already hashed.
#[derive(Debug)]
pub struct SignUp {
    pub name: PersonName,
    pub email: EmailAddress,
    pub password_hash: String,
}

/// Creates an account and mails a verification link. When the address already
/// has an account, mails its owner instead, and answers exactly the same.
pub fn sign_up(conn: &mut PgConnection, links: &Links, input: &SignUp) -> Result<(), AppError> {
    // Counted for new and existing addresses alike, so the limit reveals nothing.
    super::rate_limit::check(conn, super::rate_limit::MAIL_PER_ACCOUNT, input.email.normalized())?;
    conn.transaction(|conn| {
        let new_user = users::NewUser {
            id: Uuid::new_v4(),
            name: input.name.as_str(),
            email: input.email.as_str(),
            email_verified_at: None,
            password_hash: &input.password_hash,
        };
        match users::insert(conn, &new_user)? {
            Some(user) => send_verification(conn, links, &user),
            None => {
                let existing = users::find_by_email(conn, &input.email)?.ok_or(AppError::NotFound)?;
                let message = messages::account_exists(
                    &existing.email,
                    &existing.name,
                    &links.sign_in(),
                    &links.forgot_password(),
                )?;
                outbox::enqueue(conn, &message)?;
                Ok(())
            }
        }
    })
}

fn send_verification(conn: &mut PgConnection, links: &Links, user: &users::User) -> Result<(), AppError> {
    let token = Token::generate();
    let expires = OffsetDateTime::now_utc() + VERIFY_TTL;
    email_tokens::issue(conn, user.user_id(), Purpose::VerifyEmail, &token, &user.email, expires)?;
    let message = messages::verify_email(&user.email, &user.name, &links.verify_email(&token))?;
    outbox::enqueue(conn, &message)?;
    Ok(())
}

/// Sends a fresh verification link to a signed-in, unverified user; earlier links stop working.
pub fn resend_verification(conn: &mut PgConnection, links: &Links, user: UserId) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let user = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
        if user.is_verified() {
            return Err(AppError::Conflict(format!("{} is already verified.", user.email)));
        }
        super::rate_limit::check(conn, super::rate_limit::MAIL_PER_ACCOUNT, &user.email.to_lowercase())?;
        send_verification(conn, links, &user)?;
        Ok(user.email)
    })
}

/// The address a verification link is for, if the link still works. Changes nothing.
pub fn verification_email(conn: &mut PgConnection, token: &Token) -> Result<Option<String>, AppError> {
    Ok(email_tokens::find_usable(conn, Purpose::VerifyEmail, token)?.map(|t| t.email))
}

/// Uses a verification link. `None` when it is unknown, used or expired.
pub fn verify_email(conn: &mut PgConnection, token: &Token) -> Result<Option<String>, AppError> {
    conn.transaction(|conn| {
        let Some(used) = email_tokens::consume(conn, Purpose::VerifyEmail, token)? else {
            return Ok(None);
        };
        users::mark_verified(conn, UserId(used.user_id), &used.email)?;
        Ok(Some(used.email))
    })
}

/// The stored password hash for an address, for sign-in. `None` for unknown addresses.
pub fn credentials(conn: &mut PgConnection, email: &EmailAddress) -> Result<Option<(UserId, String)>, AppError> {
    Ok(users::find_by_email(conn, email)?.map(|u| (u.user_id(), u.password_hash)))
}

/// The stored password hash of a signed-in user.
pub fn password_hash_of(conn: &mut PgConnection, user: UserId) -> Result<String, AppError> {
    Ok(users::find(conn, user)?.ok_or(AppError::Unauthenticated)?.password_hash)
}

/// Mails a reset link if the address has an account; does nothing otherwise,
/// and the caller answers the same in both cases.
pub fn request_password_reset(conn: &mut PgConnection, links: &Links, email: &EmailAddress) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let Some(user) = users::find_by_email(conn, email)? else {
            return Ok(());
        };
        let token = Token::generate();
        let expires = OffsetDateTime::now_utc() + RESET_TTL;
        email_tokens::issue(conn, user.user_id(), Purpose::ResetPassword, &token, &user.email, expires)?;
        let message = messages::reset_password(&user.email, &user.name, &links.reset_password(&token))?;
        outbox::enqueue(conn, &message)?;
        Ok(())
    })
}

/// The address a reset link is for, if the link still works. Changes nothing.
pub fn reset_email(conn: &mut PgConnection, token: &Token) -> Result<Option<String>, AppError> {
    Ok(email_tokens::find_usable(conn, Purpose::ResetPassword, token)?.map(|t| t.email))
}

/// Sets a new password from a reset link and ends every session of the account.
/// The link proves the address, so the account counts as verified too.
/// `None` when the link is unknown, used or expired.
pub fn reset_password(conn: &mut PgConnection, token: &Token, new_hash: &str) -> Result<Option<String>, AppError> {
    conn.transaction(|conn| {
        let Some(used) = email_tokens::consume(conn, Purpose::ResetPassword, token)? else {
            return Ok(None);
        };
        let user = UserId(used.user_id);
        users::set_password_hash(conn, user, new_hash)?;
        users::mark_verified(conn, user, &used.email)?;
        sessions::delete_for_user(conn, user.0)?;
        Ok(Some(used.email))
    })
}

/// Sets a new password for a signed-in user (whose current password the caller
/// has checked) and ends every session of theirs; the caller renews its own.
pub fn change_password(conn: &mut PgConnection, user: UserId, new_hash: &str) -> Result<(), AppError> {
    conn.transaction(|conn| {
        users::set_password_hash(conn, user, new_hash)?;
        sessions::delete_for_user(conn, user.0)?;
        Ok(())
    })
}

/// Ends every session of an account (the operator's "sign out everywhere").
pub fn sign_out_everywhere(conn: &mut PgConnection, email: &EmailAddress) -> Result<usize, AppError> {
    let user = users::find_by_email(conn, email)?.ok_or(AppError::NotFound)?;
    Ok(sessions::delete_for_user(conn, user.id)?)
}

/// What signing up from an invitation link led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitedSignUp {
    /// A new account, verified (only the invited inbox had the link): sign it in.
    Ready(UserId),
    /// Answered like any sign-up: a mail went to the address (a verification
    /// link, or "you already have an account"), and nothing tells which.
    CheckEmail,
}

/// Creates an account from an invitation link, for the invited address. The
/// account counts as verified when the link can only have come from that inbox;
/// if an admin copied the link, it must verify by mail like any other.
pub fn sign_up_invited(
    conn: &mut PgConnection,
    links: &Links,
    token: &Token,
    name: &PersonName,
    password_hash: &str,
) -> Result<InvitedSignUp, AppError> {
    conn.transaction(|conn| {
        let invitation = crate::db::invitations::find_by_token_hash(conn, &token.hash())?
            .filter(|i| i.status_now() == crate::domain::InvitationStatus::Pending)
            .ok_or(AppError::NotFound)?;
        let proven = invitation.link_proves_address();
        let new_user = users::NewUser {
            id: Uuid::new_v4(),
            name: name.as_str(),
            email: &invitation.email,
            email_verified_at: proven.then(OffsetDateTime::now_utc),
            password_hash,
        };
        match users::insert(conn, &new_user)? {
            Some(user) if proven => Ok(InvitedSignUp::Ready(user.user_id())),
            Some(user) => {
                send_verification(conn, links, &user)?;
                Ok(InvitedSignUp::CheckEmail)
            }
            None => {
                let existing =
                    users::find_by_email(conn, &EmailAddress::parse(&invitation.email).map_err(AppError::internal)?)?
                        .ok_or(AppError::NotFound)?;
                let message = messages::account_exists(
                    &existing.email,
                    &existing.name,
                    &links.sign_in(),
                    &links.forgot_password(),
                )?;
                outbox::enqueue(conn, &message)?;
                Ok(InvitedSignUp::CheckEmail)
            }
        }
    })
}
