//! See before you change, for one member (DESIGN.md §2.13): what `Remove` and
//! `Suspend` do to the projects a member reaches, worked out by the Access view's
//! statement for their confirmation, with a digest the confirmation carries back so
//! that a change in between shows the preview again instead of applying something else.

use diesel::PgConnection;
use uuid::Uuid;

use crate::domain::impact::{self, Change, Cut, Shift};
use crate::error::AppError;

/// What a confirmation showed: who loses which project, in sentences ("Ann Lee
/// loses Write on Billing API — it came through team Platform"), and its digest.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub lines: Vec<String>,
    pub digest: String,
}

impl Seen {
    /// The shifts of `change` to `members` (id and name), whose every path is `paths`.
    fn of(action: &str, members: &[(Uuid, String)], paths: &[impact::Path], change: &Change) -> Seen {
        let ids: Vec<Uuid> = members.iter().map(|(id, _)| *id).collect();
        let shifts = impact::shifts(&ids, paths, change);
        let name = |id: Uuid| members.iter().find(|(m, _)| *m == id).map(|(_, n)| n.as_str()).unwrap_or_default();
        let lines = shifts.iter().map(|s| format!("{} {}", name(s.member), s.sentence())).collect();
        let digest = impact::digest(std::iter::once(action.to_owned()).chain(shifts.iter().map(Shift::fingerprint)));
        Seen { lines, digest }
    }
}

/// What ending all `membership` (named `name`) reaches does (`action`: `remove`, `suspend`).
pub fn of_ending(conn: &mut PgConnection, membership: Uuid, name: &str, action: &str) -> Result<Seen, AppError> {
    let paths = super::reach::paths_of(conn, &[membership])?;
    let change = Change::cut_each([membership], Cut::Everything);
    Ok(Seen::of(action, &[(membership, name.to_owned())], &paths, &change))
}

/// What deleting `team` does: each of its members loses what came only through it.
pub fn of_deleting_team(conn: &mut PgConnection, team: Uuid) -> Result<Seen, AppError> {
    let members = crate::db::teams::member_names(conn, team)?;
    let ids: Vec<Uuid> = members.iter().map(|(id, _)| *id).collect();
    let paths = super::reach::paths_of(conn, &ids)?;
    Ok(Seen::of("delete_team", &members, &paths, &Change::cut_all(Cut::Team(team))))
}

/// What taking `membership` (named `name`) out of `team` does.
pub fn of_leaving_team(conn: &mut PgConnection, membership: Uuid, name: &str, team: Uuid) -> Result<Seen, AppError> {
    let paths = super::reach::paths_of(conn, &[membership])?;
    let change = Change::cut_each([membership], Cut::Team(team));
    Ok(Seen::of("leave_team", &[(membership, name.to_owned())], &paths, &change))
}

/// What revoking `grant` does: a team's, to each of the team's members; a member's
/// own, to them.
pub fn of_revoking(conn: &mut PgConnection, grant: &crate::db::projects::Grant) -> Result<Seen, AppError> {
    let project = grant.project_id;
    let (members, change) = match (grant.team_id, grant.membership_id) {
        (Some(team), _) => {
            (crate::db::teams::member_names(conn, team)?, Change::cut_all(Cut::TeamGrant { team, project }))
        }
        (None, Some(member)) => {
            let name = grant.member_name.clone().unwrap_or_default();
            (vec![(member, name)], Change::cut_each([member], Cut::DirectGrant { project }))
        }
        (None, None) => return Ok(Seen::default()),
    };
    let ids: Vec<Uuid> = members.iter().map(|(id, _)| *id).collect();
    let paths = super::reach::paths_of(conn, &ids)?;
    Ok(Seen::of("revoke", &members, &paths, &change))
}

/// How a refusal for a stale preview begins, so the page can show the preview again.
pub const CHANGED: &str = "Something changed since you looked";

/// Refuses when the person confirmed a preview (`expected`, its digest) that is no
/// longer what the change does (`now`).
pub fn still(now: &Seen, expected: Option<&str>) -> Result<(), AppError> {
    match expected {
        Some(seen) if seen != now.digest => {
            Err(AppError::Conflict(format!("{CHANGED}: this is what it does now. Check it, then confirm again.")))
        }
        _ => Ok(()),
    }
}

/// Whether `error` is [`still`]'s refusal.
pub fn is_stale(error: &AppError) -> bool {
    matches!(error, AppError::Conflict(message) if message.starts_with(CHANGED))
}
