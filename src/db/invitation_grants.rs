//! The `invitation_grants` table: the teams and projects an invitation brings.

use diesel::prelude::*;
use uuid::Uuid;

use diesel::sql_types::Text;

use super::schema::{invitation_grants, projects, teams};
use crate::domain::{AccessLevel, OrgId};

/// A team (joined as Member) or a project (at a level) that comes with an invitation.
/// `team_id`/`project_id` is `None` once that team or project was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct InvitationGrant {
    pub invitation_id: Uuid,
    pub team_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub name: String,
    pub level: Option<AccessLevel>,
    pub is_team: bool,
}

impl InvitationGrant {
    /// Whether its team or project was deleted since the invitation was sent.
    pub fn is_gone(&self) -> bool {
        self.team_id.is_none() && self.project_id.is_none()
    }
}

/// What to attach to a new invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bring {
    Team { id: Uuid, name: String },
    Project { id: Uuid, name: String, level: AccessLevel },
}

/// Attaches `brings` to each of `invitations`, in one statement.
pub fn insert_many(conn: &mut PgConnection, org: OrgId, invitations: &[Uuid], brings: &[Bring]) -> QueryResult<usize> {
    if brings.is_empty() || invitations.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = invitations
        .iter()
        .flat_map(|invitation| {
            brings.iter().map(move |bring| {
                let (team, project, name, level) = match bring {
                    Bring::Team { id, name } => (Some(*id), None, name.clone(), None),
                    Bring::Project { id, name, level } => (None, Some(*id), name.clone(), Some(*level)),
                };
                (
                    invitation_grants::id.eq(Uuid::new_v4()),
                    invitation_grants::organization_id.eq(org.0),
                    invitation_grants::invitation_id.eq(*invitation),
                    invitation_grants::team_id.eq(team),
                    invitation_grants::project_id.eq(project),
                    invitation_grants::name.eq(name),
                    invitation_grants::level.eq(level),
                )
            })
        })
        .collect();
    // Seven parameters a row: stay well under PostgreSQL's 65,535 per statement.
    let mut inserted = 0;
    for chunk in rows.chunks(4000) {
        inserted += diesel::insert_into(invitation_grants::table).values(chunk).execute(conn)?;
    }
    Ok(inserted)
}

/// What the invitations `ids` bring, teams first, each by name: the name as it is
/// now (a team or project may have been renamed since), or as it was when
/// inviting for one deleted since.
pub fn of_invitations(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<InvitationGrant>> {
    let name = super::listing::fixed::<Text>("coalesce(teams.name, projects.name, invitation_grants.name)");
    invitation_grants::table
        .left_join(teams::table.on(teams::id.nullable().eq(invitation_grants::team_id)))
        .left_join(projects::table.on(projects::id.nullable().eq(invitation_grants::project_id)))
        .filter(invitation_grants::invitation_id.eq_any(ids))
        .order((invitation_grants::is_team.desc(), name, invitation_grants::id))
        .select((
            invitation_grants::invitation_id,
            invitation_grants::team_id,
            invitation_grants::project_id,
            name,
            invitation_grants::level,
            invitation_grants::is_team,
        ))
        .load(conn)
}
