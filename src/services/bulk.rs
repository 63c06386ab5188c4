//! Bulk actions on members (DESIGN.md §2.13): a selection, one action, a preview of
//! who is changed, who is left alone and why, and who gains or loses which project;
//! then one transaction, with one batch id on every audit row, that applies exactly
//! what the preview showed or shows the preview again.

use diesel::prelude::*;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use super::members::{acting_role, MemberFilter};
use super::viewer::Viewer;
use crate::db::members::{MemberQuery, MemberStatus};
use crate::db::memberships::{self, MemberDetail};
use crate::db::teams as team_rows;
use crate::domain::impact::{self, Change, Cut, Path, Shift};
use crate::domain::permission::Parties;
use crate::domain::team::Place;
use crate::domain::{Permission, Role, Slug, TeamRole, UserId};
use crate::error::{AppError, FormErrors};

/// The most members one bulk action changes: a selection past it is refused, with
/// the advice to narrow the filters.
pub const MAX_SELECTED: usize = 1_000;

/// What a bulk action does to each member selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    ChangeRole(Role),
    /// Into the team, typed by name, with this team role.
    AddToTeam {
        team: String,
        role: TeamRole,
    },
    /// Out of the team, typed by name.
    RemoveFromTeam {
        team: String,
    },
    Suspend,
    Remove,
}

impl BulkAction {
    /// The action's name in forms, the API and the audit log.
    pub fn key(&self) -> &'static str {
        match self {
            BulkAction::ChangeRole(_) => "change_role",
            BulkAction::AddToTeam { .. } => "add_to_team",
            BulkAction::RemoveFromTeam { .. } => "remove_from_team",
            BulkAction::Suspend => "suspend",
            BulkAction::Remove => "remove",
        }
    }

    fn team(&self) -> Option<&str> {
        match self {
            BulkAction::AddToTeam { team, .. } | BulkAction::RemoveFromTeam { team } => Some(team),
            _ => None,
        }
    }
}

/// Which members a bulk action is for.
#[derive(Debug, Clone)]
pub enum Selection {
    /// These, by membership id (checked on the page).
    Members(Vec<Uuid>),
    /// Every member the Members view's filters match, on every page.
    Matching(MemberFilter),
}

/// A member as a preview names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The membership.
    pub id: Uuid,
    /// Their account.
    pub user: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// A member the action changes, and what it does to their access to projects.
#[derive(Debug, Clone)]
pub struct Changed {
    pub member: Target,
    pub shifts: Vec<Shift>,
}

/// What a bulk action would do, before anything is written.
#[derive(Debug, Clone)]
pub struct Preview {
    pub action: BulkAction,
    /// The team the action names.
    pub team: Option<Place>,
    /// The members it changes, by name, each with their gains and losses.
    pub changed: Vec<Changed>,
    /// The members it leaves alone, each with why.
    pub refused: Vec<(Target, String)>,
    /// How many selected ids are no longer members.
    pub gone: usize,
    /// What `apply` must see again to go ahead.
    pub digest: String,
}

impl Preview {
    /// What the action does, after "Olivia Owner": "removed 12 members", "took 20
    /// members out of team Platform"; the audit log's summary.
    pub fn summary(&self) -> (String, String, String) {
        let count = self.changed.len();
        let members = if count == 1 { "1 member".to_owned() } else { format!("{count} members") };
        let team = self.team.as_ref().map(|t| t.name.clone()).unwrap_or_default();
        let (verb, rest) = match &self.action {
            BulkAction::ChangeRole(role) => ("changed the role of", format!("to {}", role.label())),
            BulkAction::AddToTeam { role, .. } => ("added", format!("to team {team} as {}", role.label())),
            BulkAction::RemoveFromTeam { .. } => ("took", format!("out of team {team}")),
            BulkAction::Suspend => ("suspended", String::new()),
            BulkAction::Remove => ("removed", String::new()),
        };
        (verb.to_owned(), members, rest)
    }

    /// The members who lose access to some project.
    pub fn losers(&self) -> usize {
        self.changed.iter().filter(|c| c.shifts.iter().any(Shift::loses)).count()
    }
}

/// What confirming did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Applied under `batch`, as `preview` showed; `summary` says it in a sentence.
    Applied { batch: Uuid, summary: String, preview: Box<Preview> },
    /// Something changed since the preview: nothing was written, and this is the
    /// preview as things are now.
    Changed(Box<Preview>),
}

/// The preview of `action` on `selection` for the signed-in `user`, with the viewer
/// for the page around it.
pub fn preview_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    selection: &Selection,
    action: &BulkAction,
) -> Result<(Viewer, Preview), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    Ok((viewer, plan(conn, &access, selection, action, false)?))
}

/// The preview of `action` on `selection` for `actor` (the API's `dry_run`).
pub fn preview(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    selection: &Selection,
    action: &BulkAction,
) -> Result<Preview, AppError> {
    let access = access::acting(conn, slug, actor)?;
    plan(conn, &access, selection, action, false)
}

/// Applies `action` to `selection` in one transaction, if the preview made now under
/// the locks has `digest` (what the person saw); otherwise writes nothing and
/// returns the new preview. `digest` `None` (the API without a preview) applies what
/// the preview says now.
pub fn apply(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    selection: &Selection,
    action: &BulkAction,
    digest: Option<&str>,
) -> Result<Outcome, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let preview = plan(conn, &access, selection, action, true)?;
        if digest.is_some_and(|seen| seen != preview.digest) {
            return Ok(Outcome::Changed(Box::new(preview)));
        }
        if preview.changed.is_empty() {
            return Err(AppError::Conflict("None of the selected members can be changed this way.".into()));
        }
        let batch = Uuid::new_v4();
        let actor = actor.in_batch(batch);
        let mut events = write(conn, &access, &preview)?;
        let (verb, members, rest) = preview.summary();
        let summary = [verb.as_str(), members.as_str(), rest.as_str()].join(" ").trim().to_owned();
        events.push(Event::MembersBulkChanged {
            batch,
            action: preview.action.key().to_owned(),
            verb,
            members,
            rest,
            count: preview.changed.len(),
            refused: preview.refused.len(),
        });
        actor.record(conn, &access, &events)?;
        Ok(Outcome::Applied { batch, summary, preview: Box::new(preview) })
    })
}

/// The selected memberships' ids, at most [`MAX_SELECTED`], in one statement.
fn selected(conn: &mut PgConnection, access: &OrgAccess, selection: &Selection) -> Result<Vec<Uuid>, AppError> {
    let too_many = || {
        AppError::Invalid(FormErrors::form(format!(
            "Select at most {MAX_SELECTED} members at a time: narrow the filters, or act on one page of them."
        )))
    };
    let ids = match selection {
        Selection::Members(ids) => {
            let mut ids = ids.clone();
            ids.sort();
            ids.dedup();
            ids
        }
        Selection::Matching(filter) => {
            let status = match filter.status {
                // Invitations are not members: the action is for the members the view shows.
                MemberStatus::All => MemberStatus::Members,
                MemberStatus::Pending => return Ok(Vec::new()),
                other => other,
            };
            let query = MemberQuery { status, after: None, ..filter.query(access.org.org_id(), MAX_SELECTED as i64) };
            let rows = crate::db::members::list(conn, &query)?;
            if rows.len() > MAX_SELECTED {
                return Err(too_many());
            }
            rows.into_iter().filter(|row| row.is_member()).map(|row| row.id).collect()
        }
    };
    if ids.is_empty() {
        return Err(AppError::Invalid(FormErrors::form("Select at least one member.")));
    }
    if ids.len() > MAX_SELECTED {
        return Err(too_many());
    }
    Ok(ids)
}

/// Works out what `action` does to `selection`, reading (and with `lock`, locking:
/// the organization, the members, the team) what it depends on: a number of
/// statements that does not grow with the selection.
fn plan(
    conn: &mut PgConnection,
    access: &OrgAccess,
    selection: &Selection,
    action: &BulkAction,
    lock: bool,
) -> Result<Preview, AppError> {
    access.require(Permission::ManageMembers).or_else(|refusal| match action.team() {
        // A team's Maintainer may add and take out Members of their own team.
        Some(_) => Ok(()),
        None => Err(refusal),
    })?;
    let ids = selected(conn, access, selection)?;
    let org = access.org.org_id();
    if lock {
        crate::db::organizations::lock(conn, org)?;
    }
    let (me, my_role) = acting_role(conn, access)?;
    let team = match action.team() {
        Some(typed) => {
            let found = super::teams::named(conn, access, typed)?.map_err(|message| {
                let mut errors = FormErrors::new();
                errors.add("team", message);
                AppError::Invalid(errors)
            })?;
            let found = if lock { team_rows::lock_in(conn, org, found.id)?.ok_or(AppError::NotFound)? } else { found };
            let rights = super::teams::rights(conn, access, &found)?;
            super::teams::require(rights.manage_members, &found)?;
            Some((found, rights))
        }
        None => None,
    };
    let members = memberships::details_of(conn, org, &ids, lock)?;
    let gone = ids.len() - members.len();
    let in_team: Vec<Uuid> = match &team {
        Some((team, _)) => team_rows::roles_of_each(conn, team.id, &ids)?.into_iter().map(|(id, _)| id).collect(),
        None => Vec::new(),
    };
    let managed = |m: &MemberDetail| m.scim_managed && access.org.scim_enabled;
    let mut acted = Vec::new();
    let mut left = Vec::new();
    for member in &members {
        let parties =
            Parties { actor: me, actor_role: my_role, target: Some(member.user_id), target_role: member.role };
        let scim = || format!("{} is managed by SCIM: change them in your identity provider.", member.member_email);
        let reason: Option<String> = match (action, &team) {
            (BulkAction::ChangeRole(role), _) => match parties.may_change_role(*role) {
                Err(refusal) => Some(refusal.to_string()),
                Ok(()) if member.role == *role => Some(format!("Already {}.", role.label())),
                Ok(()) => None,
            },
            (BulkAction::Suspend, _) => match parties.may_suspend() {
                Err(refusal) => Some(refusal.to_string()),
                Ok(()) if managed(member) => Some(scim()),
                Ok(()) if member.suspended_at.is_some() => Some("Already suspended.".into()),
                Ok(()) => None,
            },
            (BulkAction::Remove, _) => match parties.may_remove() {
                Err(refusal) => Some(refusal.to_string()),
                Ok(()) if managed(member) => Some(scim()),
                Ok(()) => None,
            },
            // A single team place of the Owner or an Admin may be changed by an Admin;
            // a bulk action leaves the Owner alone, and Admins to the Owner.
            (BulkAction::AddToTeam { .. } | BulkAction::RemoveFromTeam { .. }, Some(_))
                if member.role == Role::Owner =>
            {
                Some("Bulk actions leave the Owner as they are.".into())
            }
            (BulkAction::AddToTeam { .. } | BulkAction::RemoveFromTeam { .. }, Some(_))
                if member.role == Role::Admin && !my_role.can(Permission::ManageAdmins) =>
            {
                Some("Only the Owner changes Admins in bulk.".into())
            }
            (BulkAction::AddToTeam { .. }, Some((team, rights))) => {
                if in_team.contains(&member.id) {
                    Some(format!("Already in {}.", team.name))
                } else if !rights.may_manage(member.role) {
                    Some(format!("Only the Owner and Admins can add an {} to a team.", member.role.label()))
                } else {
                    None
                }
            }
            (BulkAction::RemoveFromTeam { .. }, Some((team, rights))) => {
                if !in_team.contains(&member.id) {
                    Some(format!("Not in {}.", team.name))
                } else if !rights.may_manage(member.role) {
                    Some(format!("Only the Owner and Admins can take an {} out of a team.", member.role.label()))
                } else {
                    None
                }
            }
            (BulkAction::AddToTeam { .. } | BulkAction::RemoveFromTeam { .. }, None) => Some("Choose a team.".into()),
        };
        let target = Target {
            id: member.id,
            user: member.user_id,
            name: member.member_name.clone(),
            email: member.member_email.clone(),
            role: member.role,
        };
        match reason {
            Some(reason) => left.push((target, reason)),
            None => acted.push(target),
        }
    }
    let acted_ids: Vec<Uuid> = acted.iter().map(|t| t.id).collect();
    let change = match (action, &team) {
        (BulkAction::Suspend | BulkAction::Remove, _) => Change::cut_each(acted_ids.iter().copied(), Cut::Everything),
        (BulkAction::RemoveFromTeam { .. }, Some((team, _))) => {
            Change::cut_each(acted_ids.iter().copied(), Cut::Team(team.id))
        }
        (BulkAction::AddToTeam { .. }, Some((team, _))) if !acted_ids.is_empty() => {
            let place = Place { id: team.id, name: team.name.clone(), slug: team.slug.clone() };
            let grants = crate::db::projects::grants_to_team(conn, team.id)?;
            let added = acted_ids
                .iter()
                .flat_map(|member| {
                    grants.iter().map(|(id, name, slug, level)| Path {
                        member: *member,
                        project: Place { id: *id, name: name.clone(), slug: slug.clone() },
                        level: *level,
                        team: Some(place.clone()),
                    })
                })
                .collect();
            Change { cuts: Vec::new(), added }
        }
        // An organization role opens no project (DESIGN.md §2.5).
        _ => Change::default(),
    };
    let paths = if change.cuts.is_empty() && change.added.is_empty() {
        Vec::new()
    } else {
        super::reach::paths_of(conn, &acted_ids)?
    };
    let shifts = impact::shifts(&acted_ids, &paths, &change);
    let mut changed: Vec<Changed> = acted
        .into_iter()
        .map(|member| {
            let shifts = shifts.iter().filter(|s| s.member == member.id).cloned().collect();
            Changed { member, shifts }
        })
        .collect();
    let by_name = |a: &Target, b: &Target| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id));
    changed.sort_by(|a, b| by_name(&a.member, &b.member));
    left.sort_by(|a, b| by_name(&a.0, &b.0));
    let team = team.map(|(team, _)| Place { id: team.id, name: team.name, slug: team.slug });
    let digest = impact::digest(
        [action.key().to_owned(), format!("{action:?}"), format!("{:?}", team.as_ref().map(|t| t.id))]
            .into_iter()
            .chain(changed.iter().map(|c| format!("changes {}", c.member.id)))
            .chain(changed.iter().flat_map(|c| c.shifts.iter().map(Shift::fingerprint)))
            .chain(left.iter().map(|(t, why)| format!("leaves {} {why}", t.id))),
    );
    Ok(Preview { action: action.clone(), team, changed, refused: left, gone, digest })
}

/// Writes what `preview` says, a statement per kind of change; returns the events.
fn write(conn: &mut PgConnection, access: &OrgAccess, preview: &Preview) -> Result<Vec<Event>, AppError> {
    let ids: Vec<Uuid> = preview.changed.iter().map(|c| c.member.id).collect();
    let mut events = Vec::new();
    match (&preview.action, &preview.team) {
        (BulkAction::ChangeRole(role), _) => {
            memberships::set_role_each(conn, &ids, *role)?;
            events.extend(preview.changed.iter().map(|c| Event::MemberRoleChanged {
                membership: c.member.id,
                user: c.member.user,
                email: c.member.email.clone(),
                from: c.member.role,
                to: *role,
            }));
        }
        (BulkAction::Suspend, _) => {
            memberships::suspend_each(conn, &ids)?;
            events.extend(preview.changed.iter().map(|c| Event::MemberSuspended {
                membership: c.member.id,
                user: c.member.user,
                email: c.member.email.clone(),
                role: c.member.role,
            }));
        }
        (BulkAction::Remove, _) => {
            memberships::delete_each(conn, &ids)?;
            events.extend(preview.changed.iter().map(|c| Event::MemberRemoved {
                membership: c.member.id,
                user: c.member.user,
                email: c.member.email.clone(),
                role: c.member.role,
            }));
            let gone: Vec<(Uuid, String)> =
                preview.changed.iter().map(|c| (c.member.user, c.member.name.clone())).collect();
            events.extend(super::webhooks::after_departure(conn, access, &gone, true)?);
        }
        (BulkAction::AddToTeam { role, .. }, Some(team)) => {
            team_rows::add_each(conn, access.org.org_id(), team.id, &ids, *role)?;
            events.extend(preview.changed.iter().map(|c| Event::TeamMemberAdded {
                team: team.id,
                team_name: team.name.clone(),
                user: c.member.user,
                email: c.member.email.clone(),
                role: *role,
            }));
        }
        (BulkAction::RemoveFromTeam { .. }, Some(team)) => {
            let had = team_rows::remove_each(conn, team.id, &ids)?;
            events.extend(had.into_iter().filter_map(|(id, role)| {
                let member = &preview.changed.iter().find(|c| c.member.id == id)?.member;
                Some(Event::TeamMemberRemoved {
                    team: team.id,
                    team_name: team.name.clone(),
                    user: member.user,
                    email: member.email.clone(),
                    role,
                })
            }));
        }
        (BulkAction::AddToTeam { .. } | BulkAction::RemoveFromTeam { .. }, None) => {}
    }
    Ok(events)
}
