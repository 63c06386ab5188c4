//! Rate limits for sign-in, sign-up and anything that sends mail (DESIGN.md §5).

use diesel::PgConnection;
use time::OffsetDateTime;

use crate::db::rate_limits;
use crate::error::AppError;

/// A limit: at most `max` hits per `window_secs` for one key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub max: i32,
    pub window_secs: i32,
}

impl Limit {
    /// The row of `rate_limits` that counts `subject` against this limit.
    pub fn key(&self, subject: &str) -> String {
        format!("{}:{subject}", self.name)
    }
}

/// Wrong passwords for one account from one client: past this, that client is
/// refused for that account, the right password included. Other clients are not.
pub const SIGN_IN_FAILURES_PER_CLIENT: Limit = Limit { name: "sign-in-failed:account-ip", max: 10, window_secs: 900 };
/// Wrong passwords from one client, for any accounts (one network trying many).
pub const SIGN_IN_FAILURES_PER_IP: Limit = Limit { name: "sign-in-failed:ip", max: 50, window_secs: 900 };
/// Wrong passwords for one account from every client together: past this, each
/// attempt on the account is answered more slowly ([`SIGN_IN_SLOWDOWN_STEP`] per
/// failure over it, at most [`SIGN_IN_SLOWDOWN_MAX`]), but never refused: nobody
/// can lock an account by failing on purpose.
pub const SIGN_IN_FAILURES_PER_ACCOUNT: Limit = Limit { name: "sign-in-failed:account", max: 10, window_secs: 900 };
pub const SIGN_IN_SLOWDOWN_STEP: std::time::Duration = std::time::Duration::from_millis(500);
pub const SIGN_IN_SLOWDOWN_MAX: std::time::Duration = std::time::Duration::from_secs(5);
/// `Sign in with a passkey` ceremonies started by one address (each writes a row until
/// it is used or expires): far above a person's need, far below a flood.
/// Sign-ins sent to a single sign-on provider, per client network: each keeps a row
/// and may ask the provider for its metadata.
pub const SSO_STARTS_PER_IP: Limit = Limit { name: "sso-start:ip", max: 60, window_secs: 900 };
pub const PASSKEY_SIGN_INS_PER_IP: Limit = Limit { name: "passkey-sign-in:ip", max: 60, window_secs: 900 };
pub const SIGN_UP_PER_IP: Limit = Limit { name: "sign-up:ip", max: 20, window_secs: 3600 };
pub const MAIL_PER_ACCOUNT: Limit = Limit { name: "mail:account", max: 5, window_secs: 3600 };
/// Invitation emails: counted per address, so bulk invitations and revoke-and-reinvite
/// loops cannot turn the operator's mail server into a spam cannon.
pub const INVITE_PER_ACCOUNT: Limit = Limit { name: "invite:account", max: 3000, window_secs: 3600 };
pub const INVITE_PER_IP: Limit = Limit { name: "invite:ip", max: 5000, window_secs: 3600 };
/// Invitation emails one address may receive, from every organization together.
pub const INVITE_PER_RECIPIENT: Limit = Limit { name: "invite:address", max: 5, window_secs: 3600 };
pub const MAIL_PER_IP: Limit = Limit { name: "mail:ip", max: 30, window_secs: 3600 };
/// Requests to join one person may send, to every organization together: enough to
/// ask again after a denial, not enough to flood a queue.
pub const JOIN_REQUESTS_PER_ACCOUNT: Limit = Limit { name: "join-request:account", max: 5, window_secs: 86_400 };
/// Invitation links that lead nowhere, opened from one network (an IPv4 /24, an IPv6
/// /64: what one customer of a provider usually holds, so more addresses of it do
/// not buy more guesses): past this, that network gets no answer about any link for
/// a while (tokens cannot be tried out).
pub const LINK_MISSES_PER_NETWORK: Limit = Limit { name: "invite-link-miss:network", max: 20, window_secs: 900 };

/// Counts a hit of `subject` (an IP address or a lowercase email) against `limit`;
/// refuses with the time to wait once the limit is passed. Runs outside the
/// use case's transaction so that refused attempts count too.
pub fn check(conn: &mut PgConnection, limit: Limit, subject: &str) -> Result<(), AppError> {
    check_many(conn, limit, subject, 1)
}

/// Like [`check`], for `count` things at once (e.g. the addresses of one bulk invitation).
pub fn check_many(conn: &mut PgConnection, limit: Limit, subject: &str, count: usize) -> Result<(), AppError> {
    let key = limit.key(subject);
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    let (hits, started) = rate_limits::hit(conn, &key, limit.window_secs, count)?;
    if hits <= limit.max {
        return Ok(());
    }
    let (sentence, retry_after) = wait(limit, started);
    Err(AppError::RateLimited { message: format!("Too many attempts. {sentence}"), retry_after })
}

/// Like [`check`], refusing with the seconds until the window ends (for the API's
/// `Retry-After`) instead of a sentence for a form.
pub fn check_throttled(conn: &mut PgConnection, limit: Limit, subject: &str) -> Result<(), AppError> {
    let (hits, started) = rate_limits::hit(conn, &limit.key(subject), limit.window_secs, 1)?;
    if hits <= limit.max {
        return Ok(());
    }
    let (_, retry_after) = wait(limit, started);
    Err(AppError::RateLimited {
        message: format!(
            "This API key made more than {} requests in {} seconds. Try again in {retry_after} seconds.",
            limit.max, limit.window_secs
        ),
        retry_after,
    })
}

/// Refuses when `subject` has already reached `limit` in its current window,
/// counting nothing: `because` says what was done too often.
pub fn refuse_if_reached(conn: &mut PgConnection, limit: Limit, subject: &str, because: &str) -> Result<(), AppError> {
    let key = limit.key(subject);
    match rate_limits::peek(conn, &key, limit.window_secs)? {
        Some((hits, started)) if hits >= limit.max => {
            let (sentence, retry_after) = wait(limit, started);
            Err(AppError::RateLimited { message: format!("{because} {sentence}"), retry_after })
        }
        _ => Ok(()),
    }
}

/// Seconds until `subject`'s current window of `limit` ends (the whole window when
/// none has begun): what a refusal's `Retry-After` says.
pub fn seconds_left(conn: &mut PgConnection, limit: Limit, subject: &str) -> Result<u64, AppError> {
    Ok(match rate_limits::peek(conn, &limit.key(subject), limit.window_secs)? {
        Some((_, started)) => wait(limit, started).1,
        None => limit.window_secs.unsigned_abs().into(),
    })
}

/// The hits `subject` has in `limit`'s current window, counting nothing.
pub fn hits(conn: &mut PgConnection, limit: Limit, subject: &str) -> Result<i32, AppError> {
    let key = limit.key(subject);
    Ok(rate_limits::peek(conn, &key, limit.window_secs)?.map_or(0, |(hits, _)| hits))
}

/// "Wait N minutes and try again.", and the seconds to wait, until the window that
/// began at `started` ends.
fn wait(limit: Limit, started: OffsetDateTime) -> (String, u64) {
    let ends = started + time::Duration::seconds(limit.window_secs.into());
    let seconds = (ends - OffsetDateTime::now_utc()).whole_seconds().max(1);
    let minutes = (seconds + 59) / 60;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    (format!("Wait {minutes} {unit} and try again."), seconds.unsigned_abs())
}

/// Counts one hit for each subject in one statement; returns the subjects over the limit.
pub fn over_limit<'a>(conn: &mut PgConnection, limit: Limit, subjects: &'a [String]) -> Result<Vec<&'a str>, AppError> {
    let keys: Vec<String> = subjects.iter().map(|s| limit.key(s)).collect();
    let hits: std::collections::HashMap<String, i32> =
        rate_limits::hit_each(conn, &keys, limit.window_secs)?.into_iter().collect();
    Ok(subjects
        .iter()
        .zip(&keys)
        .filter(|(_, key)| hits.get(*key).is_some_and(|h| *h > limit.max))
        .map(|(subject, _)| subject.as_str())
        .collect())
}
