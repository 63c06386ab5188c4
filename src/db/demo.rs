//! The demo's history: the demo is built through the use cases, in one transaction,
//! so every row it writes carries the time of the seeding; these statements move
//! each step's rows back to the day that step of the story happened. (Its audit
//! events and notifications are written with that day instead: the audit log is
//! append-only.)

use diesel::prelude::*;
use diesel::sql_types::{Interval, Nullable, Timestamptz, Uuid as SqlUuid};
use time::OffsetDateTime;
use uuid::Uuid;

/// Rows written within the last minute (the seeding transaction's own, not yet moved).
const FRESH: &str = "> now() - interval '1 minute'";

/// Moves what the last step of the seeding wrote in organization `org` to `at`:
/// creation times, and invitations' sending and answer (their expiry moves at the
/// end, [`expire_as_sent`], so that a later step can still accept them).
/// Notifications from before `read_before` are marked read.
pub fn move_step(
    conn: &mut PgConnection,
    org: Uuid,
    at: OffsetDateTime,
    read_before: OffsetDateTime,
) -> QueryResult<()> {
    let statements = [
        format!("UPDATE organizations SET created_at = $2 WHERE id = $1 AND created_at {FRESH}"),
        format!("UPDATE memberships SET created_at = $2 WHERE organization_id = $1 AND created_at {FRESH}"),
        format!(
            "UPDATE invitations SET created_at = $2, last_sent_at = $2 WHERE organization_id = $1 AND created_at {FRESH}"
        ),
        format!("UPDATE invitations SET responded_at = $2 WHERE organization_id = $1 AND responded_at {FRESH}"),
        format!("UPDATE teams SET created_at = $2 WHERE organization_id = $1 AND created_at {FRESH}"),
        format!("UPDATE projects SET created_at = $2 WHERE organization_id = $1 AND created_at {FRESH}"),
        format!("UPDATE team_members SET created_at = $2 WHERE organization_id = $1 AND created_at {FRESH}"),
        format!("UPDATE project_grants SET created_at = $2 WHERE organization_id = $1 AND created_at {FRESH}"),
        // The access history (migration 46): what began or ended in this step.
        format!("UPDATE team_place_history SET started_at = $2 WHERE organization_id = $1 AND started_at {FRESH}"),
        format!("UPDATE team_place_history SET ended_at = $2 WHERE organization_id = $1 AND ended_at {FRESH}"),
        format!("UPDATE grant_history SET started_at = $2 WHERE organization_id = $1 AND started_at {FRESH}"),
        format!("UPDATE grant_history SET ended_at = $2 WHERE organization_id = $1 AND ended_at {FRESH}"),
        format!("UPDATE suspension_history SET started_at = $2 WHERE organization_id = $1 AND started_at {FRESH}"),
        format!("UPDATE suspension_history SET ended_at = $2 WHERE organization_id = $1 AND ended_at {FRESH}"),
    ];
    for statement in statements {
        diesel::sql_query(statement).bind::<SqlUuid, _>(org).bind::<Timestamptz, _>(at).execute(conn)?;
    }
    diesel::sql_query(
        "UPDATE notifications SET read_at = created_at + interval '2 hours' \
          WHERE organization_id = $1 AND read_at IS NULL AND created_at < $2",
    )
    .bind::<SqlUuid, _>(org)
    .bind::<Timestamptz, _>(read_before)
    .execute(conn)?;
    Ok(())
}

/// Gives every invitation of `org` the expiry it had when sent: `ttl` after sending.
pub fn expire_as_sent(conn: &mut PgConnection, org: Uuid, ttl: time::Duration) -> QueryResult<usize> {
    diesel::sql_query("UPDATE invitations SET expires_at = last_sent_at + $2 WHERE organization_id = $1")
        .bind::<SqlUuid, _>(org)
        .bind::<Interval, _>(pg_interval(ttl))
        .execute(conn)
}

/// Sets when a member last used the organization (`None`: never).
pub fn set_last_active(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
    at: Option<OffsetDateTime>,
) -> QueryResult<usize> {
    diesel::sql_query("UPDATE memberships SET last_active_at = $3 WHERE organization_id = $1 AND user_id = $2")
        .bind::<SqlUuid, _>(org)
        .bind::<SqlUuid, _>(user)
        .bind::<Nullable<Timestamptz>, _>(at)
        .execute(conn)
}

fn pg_interval(length: time::Duration) -> diesel::pg::data_types::PgInterval {
    diesel::pg::data_types::PgInterval::from_microseconds(length.whole_microseconds() as i64)
}
