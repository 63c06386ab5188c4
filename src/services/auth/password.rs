//! The password: the first factor people have today, checked within the sign-in limits.

use diesel::PgConnection;

use crate::db::{users, Steps};
use crate::domain::{EmailAddress, UserId};
use crate::error::{AppError, FormErrors};
use crate::services::{passwords, rate_limit};

/// What an account without a password is told where its current password is asked.
pub const NO_PASSWORD_YET: &str =
    "Your account has no password yet. Set one first: “Email me a link” under Set a password.";

/// Refuses a client that has been failing: too many wrong passwords from `ip` for
/// the account `account`, or for any accounts. Counts nothing.
pub(in crate::services) fn refuse_failing_client(
    conn: &mut PgConnection,
    account: &str,
    ip: &str,
) -> Result<(), AppError> {
    let because = "Too many attempts.";
    rate_limit::refuse_if_reached(conn, rate_limit::SIGN_IN_FAILURES_PER_CLIENT, &format!("{account}|{ip}"), because)?;
    rate_limit::refuse_if_reached(conn, rate_limit::SIGN_IN_FAILURES_PER_IP, ip, because)
}

/// Counts a wrong password for `account` from `ip`, outside any transaction.
pub(in crate::services) fn count_failure(conn: &mut PgConnection, account: &str, ip: &str) -> Result<(), AppError> {
    let keys = [
        rate_limit::SIGN_IN_FAILURES_PER_CLIENT.key(&format!("{account}|{ip}")),
        rate_limit::SIGN_IN_FAILURES_PER_IP.key(ip),
        rate_limit::SIGN_IN_FAILURES_PER_ACCOUNT.key(account),
    ];
    // One window length for the three (all are 15 minutes).
    crate::db::rate_limits::hit_each(conn, &keys, rate_limit::SIGN_IN_FAILURES_PER_CLIENT.window_secs)?;
    Ok(())
}

/// What a sign-in attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInAttempt {
    /// The account signed in to; `None` for a wrong password and an unknown address alike.
    pub user: Option<UserId>,
    /// How long to hold the answer back: the account has had many wrong passwords
    /// from all over, so every attempt on it is slowed down (never refused).
    pub slow_down: std::time::Duration,
}

/// Checks an address and password (the first factor of a sign-in, which
/// [`super::complete`] finishes). A client that has been failing (for this
/// account, or for many) is refused; the right password from any other client
/// always signs in. An unknown address is checked against a dummy hash, so the
/// time taken tells nothing.
pub fn check(steps: &Steps<'_>, ip: &str, email: &EmailAddress, password: &str) -> Result<SignInAttempt, AppError> {
    let account_key = email.canonical().to_owned();
    let (found, failures) = steps.run(|conn| {
        refuse_failing_client(conn, &account_key, ip)?;
        let failures = rate_limit::hits(conn, rate_limit::SIGN_IN_FAILURES_PER_ACCOUNT, &account_key)?;
        let found = users::find_by_email(conn, email)?.map(|u| (u.user_id(), u.password_hash));
        Ok::<_, AppError>((found, failures))
    })?;
    let over = u32::try_from(failures - rate_limit::SIGN_IN_FAILURES_PER_ACCOUNT.max + 1).unwrap_or(0);
    let slow_down = (rate_limit::SIGN_IN_SLOWDOWN_STEP * over).min(rate_limit::SIGN_IN_SLOWDOWN_MAX);
    let (user, hash) = found.map_or((None, None), |(user, hash)| (Some(user), hash));
    // Verified whether or not the account exists, or has a password: the dummy hash
    // takes as long, and an account without one signs in no other way here.
    let matches = passwords::verify(hash.as_deref(), password) && hash.is_some();
    let user = user.filter(|_| matches);
    // A right password for an address that must sign in through its provider counts as
    // a wrong one: the limits and the delays then tell nothing of whether it was right.
    let sso_only = match user {
        Some(user) => steps.run(|conn| crate::services::sso::sso_only(conn, email, Some(user)))?.is_some(),
        None => false,
    };
    let Some(user) = user.filter(|_| !sso_only) else {
        steps.run(|conn| count_failure(conn, &account_key, ip))?;
        return Ok(SignInAttempt { user: None, slow_down });
    };
    // A hash made with older settings is made again now that the password is known;
    // kept only if nobody changed the password meanwhile.
    let renewed = match hash.as_deref().filter(|old| passwords::is_outdated(old)) {
        Some(old) => Some((old.to_owned(), passwords::rehash(password)?)),
        None => None,
    };
    if let Some((old, new)) = &renewed {
        steps.run(|conn| Ok::<_, AppError>(users::replace_password_hash(conn, user, old, new)?))?;
    }
    Ok(SignInAttempt { user: Some(user), slow_down })
}

/// Checks a signed-in user's current password before a change to the account,
/// within the sign-in limits; a wrong one is `Invalid` beside `field`. Holds no
/// connection while verifying. An account without a password has no current one
/// to give: it is told how to set one.
pub(in crate::services) fn confirm_current(
    steps: &Steps<'_>,
    ip: &str,
    user: UserId,
    password: &str,
    field: &'static str,
) -> Result<users::User, AppError> {
    let account_key = user.to_string();
    let account = steps.run(|conn| {
        refuse_failing_client(conn, &account_key, ip)?;
        users::find(conn, user)?.ok_or(AppError::Unauthenticated)
    })?;
    if passwords::verify(account.password_hash.as_deref(), password) && account.has_password() {
        return Ok(account);
    }
    steps.run(|conn| count_failure(conn, &account_key, ip))?;
    let mut errors = FormErrors::new();
    if account.has_password() {
        errors.add(field, "That is not your current password.");
    } else {
        errors.add(field, NO_PASSWORD_YET);
    }
    Err(AppError::Invalid(errors))
}
