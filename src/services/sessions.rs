//! Server-side sessions: what the session store behind the cookie reads and writes,
//! and the Sessions list of a person's account. Sessions are rows, so signing out,
//! a password change, the operator's `sign-out-everywhere` or `Sign out` beside a
//! device in the list end them for every browser at once.

use std::time::Duration;

use diesel::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::sessions;
pub use crate::db::sessions::{Device, Lifetimes, Loaded};
use crate::domain::{device, UserId};
use crate::error::AppError;

/// A used session is marked used again only after this share of its idle timeout
/// (at most a minute), so that ordinary browsing writes nothing most of the time.
fn touch_after(lifetimes: Lifetimes) -> Duration {
    (lifetimes.idle / 10).min(Duration::from_secs(60))
}

/// A live session's state, by row id; `None` once it expired, idled out or was
/// ended. Using it pushes its idle end back.
/// With it comes the database's snapshot the state was read in (see
/// [`sessions::Loaded`]).
pub fn load(conn: &mut PgConnection, id: &str, lifetimes: Lifetimes) -> Result<Option<Loaded>, AppError> {
    let Some(loaded) = sessions::load(conn, id)? else { return Ok(None) };
    if OffsetDateTime::now_utc() - loaded.last_seen_at > touch_after(lifetimes) {
        sessions::touch(conn, id, lifetimes)?;
    }
    Ok(Some(loaded))
}

/// Who a session is signed in as, for its row: the account and the methods it
/// used, only once the sign-in is complete (nobody, and none, before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedInAs {
    pub user: Option<Uuid>,
    pub methods: Vec<String>,
}

/// Starts (or replaces) a session.
pub fn create(
    conn: &mut PgConnection,
    id: &str,
    signed_in: &SignedInAs,
    state: &serde_json::Value,
    device: &Device,
    lifetimes: Lifetimes,
) -> Result<(), AppError> {
    sessions::upsert(conn, id, signed_in.user, &signed_in.methods, state, device, lifetimes)?;
    Ok(())
}

/// Saves a live session's state; `false` when it was ended on the server meanwhile,
/// so that it is never brought back.
pub fn save(
    conn: &mut PgConnection,
    id: &str,
    signed_in: &SignedInAs,
    state: &serde_json::Value,
    device: &Device,
    lifetimes: Lifetimes,
) -> Result<bool, AppError> {
    Ok(sessions::update(conn, id, signed_in.user, &signed_in.methods, state, device, lifetimes)? == 1)
}

/// Marks a session used now.
pub fn extend(conn: &mut PgConnection, id: &str, lifetimes: Lifetimes) -> Result<(), AppError> {
    sessions::touch(conn, id, lifetimes)?;
    Ok(())
}

/// Ends one session.
pub fn end(conn: &mut PgConnection, id: &str) -> Result<(), AppError> {
    sessions::delete(conn, id)?;
    Ok(())
}

/// One signed-in browser in Account → Sessions.
#[derive(Debug, Clone)]
pub struct SignedInDevice {
    pub public_id: Uuid,
    /// "Chrome on Linux".
    pub device: String,
    pub ip_address: String,
    pub signed_in_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// The browser this list is shown in.
    pub current: bool,
    /// How it signed in, in words: "password", "password and authenticator app".
    pub methods: String,
}

/// The user's signed-in browsers, the one asking (`current`, a row id) first.
pub fn signed_in_devices(
    conn: &mut PgConnection,
    user: UserId,
    current: &str,
) -> Result<Vec<SignedInDevice>, AppError> {
    let mut devices: Vec<SignedInDevice> = sessions::live_for_user(conn, user.0)?
        .into_iter()
        .map(|s| SignedInDevice {
            public_id: s.public_id,
            device: device::describe(&s.user_agent),
            ip_address: s.ip_address,
            signed_in_at: s.created_at,
            last_seen_at: s.last_seen_at,
            current: s.id == current,
            methods: s
                .sign_in_methods
                .iter()
                .filter_map(|key| crate::domain::sign_in::Method::from_key(key))
                .map(|m| m.label())
                .collect::<Vec<_>>()
                .join(" and "),
        })
        .collect();
    devices.sort_by_key(|d| !d.current);
    Ok(devices)
}

/// `Sign out` beside one of the user's other sessions. A session of someone else,
/// one already ended, or the one asking (it signs out with the header's button) is
/// not found.
pub fn sign_out_device(conn: &mut PgConnection, user: UserId, public_id: Uuid, current: &str) -> Result<(), AppError> {
    match sessions::delete_by_public_id(conn, user.0, public_id, current)? {
        0 => Err(AppError::NotFound),
        _ => Ok(()),
    }
}

/// `Sign out all other sessions`: how many were ended.
pub fn sign_out_other_devices(conn: &mut PgConnection, user: UserId, current: &str) -> Result<usize, AppError> {
    Ok(sessions::delete_others(conn, user.0, current)?)
}
