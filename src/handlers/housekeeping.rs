//! Housekeeping: deletes what has outlived its use, every ten minutes, on every instance.

use std::time::Duration;

use crate::db::{api_keys, organizations, rate_limits, sessions, two_factor, Db, RunError};

#[derive(Debug, thiserror::Error)]
enum HousekeepingError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Runs forever, whatever handlers the worker has: every ten minutes, deletes
/// expired sessions, rate-limit windows that ended long ago, the API's answers
/// kept for Idempotency-Keys past a day, and passkey ceremonies and single sign-ons
/// nobody finished; and notes the invitations that expired since the last round, so
/// seat counts never count more than ten minutes' expiries.
pub async fn housekeeping(db: Db) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        let result = db
            .run(|conn| -> Result<(usize, usize), HousekeepingError> {
                api_keys::delete_stale_idempotency(conn)?;
                two_factor::delete_expired_ceremonies(conn)?;
                crate::db::sso::sweep_sign_ins(conn)?;
                Ok((sessions::delete_expired(conn)?, rate_limits::delete_stale(conn)?))
            })
            .await;
        match result {
            Ok((sessions, windows)) => tracing::debug!(sessions, windows, "housekeeping"),
            Err(error) => tracing::warn!(%error, "housekeeping could not run"),
        }
        // Apart: one short transaction per organization, whatever became of the above.
        match db
            .run(|conn| -> Result<usize, HousekeepingError> { Ok(organizations::note_lapsed_invitations(conn)?) })
            .await
        {
            Ok(organizations) => tracing::debug!(organizations, "expired invitations noted"),
            Err(error) => tracing::warn!(%error, "expired invitations could not be noted"),
        }
    }
}
