//! Access over time (DESIGN.md §2.12): when a membership, a team place or a member's
//! own project grant ends (`Set expiry`, `Extend`, `Remove expiry`), Roster's sweep that
//! reminds people before the date and ends what reached it, `Grant again` for what
//! ended, and the reminders of unanswered invitations.

use std::collections::HashMap;

use diesel::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use super::invitations::Context;
use super::members::{self, Departure};
use super::viewer::Viewer;
use crate::db::expiry::{self as rows, Looking};
use crate::db::invitations;
use crate::db::organizations::{self, Organization};
use crate::db::projects::{self as project_rows, Grantee};
use crate::db::{invitation_grants, memberships, outbox, teams as team_rows, users};
use crate::domain::expiry::{extended_by, Held, On};
use crate::domain::{AccessLevel, Permission, Role, Slug, TeamRole, UserId};
use crate::error::{AppError, FormErrors};
use crate::mail::messages::{self, InvitationMail};

/// What an expiry form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// End at this moment (a date typed, read by `domain::expiry::parse_date`).
    To(OffsetDateTime),
    /// `Extend` by this many days from the current date.
    By(i64),
    /// `Remove expiry`: it no longer ends.
    Remove,
}

/// A member's access that a date may end, as the actor may change it.
pub struct Target {
    pub membership: Uuid,
    pub user: Uuid,
    pub name: String,
    pub email: String,
    pub held: Held,
    pub expires_at: Option<OffsetDateTime>,
    /// The organization's name, for sentences about a membership.
    pub org_name: String,
}

impl Target {
    /// What the date ends, inside a sentence: "Acme", "team Platform", "project Apollo".
    pub fn what(&self) -> String {
        self.held.words(&self.org_name)
    }
}

/// Reads the member's `on`, locked, for an actor who may set when it ends: as for
/// `Remove` (a membership), changing their place in the team, or managing projects. The
/// identity provider's members keep no date of the console's on their membership.
fn target(conn: &mut PgConnection, access: &OrgAccess, membership: Uuid, on: On) -> Result<Target, AppError> {
    let (member, parties) = members::target(conn, access, membership)?;
    let detail = memberships::detail(conn, access.org.org_id(), member.id)?.ok_or(AppError::NotFound)?;
    // Nobody acts on the Owner (DESIGN.md §2.1), and nobody moves the end of their own access.
    if member.role == Role::Owner {
        return Err(AppError::Conflict(format!(
            "{} is the Owner: the Owner's access does not end at a date.",
            detail.member_email
        )));
    }
    if access.is_me(member.id) {
        return Err(AppError::Forbidden("Nobody sets when their own access ends: ask an admin.".to_owned()));
    }
    let held = match on {
        On::Membership => {
            parties.may_remove().map_err(members::refused)?;
            members::not_managed(conn, access, &member)?;
            Held::Membership
        }
        On::Team(team) => {
            let team = super::teams::place_manager(conn, access, team, &detail.member_name, member.role)?;
            let role = team_rows::role_of(conn, team.id, member.id)?
                .ok_or_else(|| AppError::Conflict(format!("{} is not in team {}.", detail.member_email, team.name)))?;
            Held::TeamPlace { team: team.id, team_name: team.name, role }
        }
        On::Project(project) => {
            access.require(Permission::ManageTeamsAndProjects)?;
            let project = project_rows::lock_in(conn, access.org.org_id(), project)?.ok_or(AppError::NotFound)?;
            let grant = project_rows::grants_of(conn, &[project.id])?
                .into_iter()
                .find(|g| g.membership_id == Some(member.id))
                .ok_or_else(|| {
                    AppError::Conflict(format!(
                        "{} has no access of their own to project {}: only a member's own grant ends at a date \
                         (a team's members are time-boxed by their places in the team).",
                        detail.member_email, project.name
                    ))
                })?;
            Held::ProjectGrant { project: project.id, project_name: project.name, level: grant.level }
        }
    };
    // Locked now: the sweep may have ended it since it was read above.
    let expires_at = rows::lock(conn, member.id, on)?.ok_or_else(|| ended(&detail.member_email))?.expires_at;
    Ok(Target {
        membership: member.id,
        user: member.user_id,
        name: detail.member_name,
        email: detail.member_email,
        held,
        expires_at,
        org_name: access.org.name.clone(),
    })
}

/// The expiry page: the member's access, when it ends, and the choices.
pub struct ExpiryPage {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub target: Target,
}

/// The expiry page of a member's `on`, for someone who may change it.
pub fn page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    membership: Uuid,
    on: On,
) -> Result<ExpiryPage, AppError> {
    conn.transaction(|conn| {
        let (viewer, access) = access::page(conn, slug, user)?;
        let target = target(conn, &access, membership, on)?;
        Ok(ExpiryPage { viewer, access, target })
    })
}

/// Sets, moves or removes when a member's `on` ends; the member is told. Returns the
/// target as it is now.
pub fn set(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    membership: Uuid,
    on: On,
    change: Change,
    now: OffsetDateTime,
) -> Result<Target, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let mut target = target(conn, &access, membership, on)?;
        let to = match change {
            Change::To(at) => Some(at),
            Change::By(days) => Some(
                extended_by(target.expires_at, days, now)
                    .map_err(|e| AppError::Invalid(FormErrors::field("extend", e)))?,
            ),
            Change::Remove => None,
        };
        if to == target.expires_at {
            return Ok(target);
        }
        if !rows::set(conn, target.membership, on, to, access.user().map(|u| u.id))? {
            return Err(ended(&target.email));
        }
        let event = Event::MemberExpirySet {
            membership: target.membership,
            user: target.user,
            email: target.email.clone(),
            held: target.held.clone(),
            from: target.expires_at,
            to,
        };
        actor.record(conn, &access, &[event])?;
        target.expires_at = to;
        Ok(target)
    })
}

/// `PATCH /members/{id}`: the role, the status and when the membership ends (`Some(None)`:
/// it no longer does), in one transaction. Returns the member as they are now.
pub fn update_member(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    role: Option<Role>,
    suspended: Option<bool>,
    expiry: Option<Option<OffsetDateTime>>,
) -> Result<members::MemberEntry, AppError> {
    conn.transaction(|conn| {
        let entry = members::update(conn, actor, slug, id, role, suspended)?;
        let Some(to) = expiry else { return Ok(entry) };
        let change = to.map_or(Change::Remove, Change::To);
        set(conn, actor, slug, id, On::Membership, change, OffsetDateTime::now_utc())?;
        members::get(conn, actor, slug, id)
    })
}

/// What ended (at its date, or otherwise) between reading and changing it.
fn ended(email: &str) -> AppError {
    AppError::Conflict(format!("{email} no longer has this access: it ended meanwhile. Reload the page."))
}

/// `Grant again`: gives a member back a team place or a grant that ended at its date,
/// as it was (team role, level), with no end date; it leaves the `Expired` list.
/// Returns what it gave back.
pub fn grant_again(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    membership: Uuid,
    on: On,
) -> Result<Held, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (member, _) = members::target(conn, &access, membership)?;
        let detail = memberships::detail(conn, access.org.org_id(), member.id)?.ok_or(AppError::NotFound)?;
        let grade = rows::find_expired(conn, member.id, on)?.ok_or_else(|| {
            AppError::Conflict(format!("{} has nothing expired there to grant again.", detail.member_email))
        })?;
        let org = access.org.org_id();
        let (held, event) = match on {
            On::Team(team) => {
                let team = super::teams::place_manager(conn, &access, team, &detail.member_name, member.role)?;
                let role = TeamRole::from_db(&grade).unwrap_or(TeamRole::Member);
                if !team_rows::add(conn, org, team.id, member.id, role)? {
                    return Err(AppError::Conflict(format!("{} is already in {}.", detail.member_email, team.name)));
                }
                let event = Event::TeamMemberAdded {
                    team: team.id,
                    team_name: team.name.clone(),
                    user: member.user_id,
                    email: detail.member_email.clone(),
                    role,
                };
                (Held::TeamPlace { team: team.id, team_name: team.name, role }, event)
            }
            On::Project(project) => {
                access.require(Permission::ManageTeamsAndProjects)?;
                let project = project_rows::lock_in(conn, org, project)?.ok_or(AppError::NotFound)?;
                let level = AccessLevel::from_db(&grade).unwrap_or(AccessLevel::Read);
                let previous = project_rows::grant(conn, org, project.id, Grantee::Member(member.id), level)?;
                let event = Event::ProjectAccessGranted {
                    project: project.id,
                    project_name: project.name.clone(),
                    grantee: detail.member_email.clone(),
                    previous,
                    level,
                    told: vec![member.user_id],
                };
                (Held::ProjectGrant { project: project.id, project_name: project.name, level }, event)
            }
            On::Membership => return Err(AppError::NotFound),
        };
        actor.record(conn, &access, &[event])?;
        Ok(held)
    })
}

/// What one round of the sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Memberships, team places and grants whose reminder went out.
    pub reminded: usize,
    /// Memberships, team places and grants that ended at their date.
    pub ended: usize,
    /// Invitations whose reminder email went out.
    pub invitations_reminded: usize,
    /// Invitations that expired unanswered, their inviters told.
    pub invitations_expired: usize,
    /// Organizations whose Owner was told that seats freed up for waiting join requests.
    pub seats_freed: usize,
}

/// How many of each kind one transaction of the sweep takes.
const BATCH: i64 = 200;

/// One round of Roster's sweep as of `now` (the clock is the caller's, so tests move
/// time without waiting): reminds and ends what is due, reminds unanswered invitations
/// two days before they expire and tells inviters of those that expired. Each batch is
/// one transaction whose rows are locked and skipped by other instances sweeping at
/// once; a round goes on until nothing is due.
pub fn sweep(conn: &mut PgConnection, ctx: &Context<'_>, now: OffsetDateTime) -> Result<Swept, AppError> {
    let mut swept = Swept::default();
    loop {
        let round = conn.transaction(|conn| -> Result<Swept, AppError> {
            let mut orgs = Orgs::default();
            let reminded = remind(conn, ctx, &mut orgs, now)?;
            let ended = end(conn, &mut orgs, now)?;
            let (invitations_reminded, invitations_expired) = sweep_invitations(conn, ctx, &mut orgs, now)?;
            let seats_freed = super::join_requests::tell_when_seats_free(conn, BATCH)?;
            Ok(Swept { reminded, ended, invitations_reminded, invitations_expired, seats_freed })
        })?;
        swept.reminded += round.reminded;
        swept.ended += round.ended;
        swept.invitations_reminded += round.invitations_reminded;
        swept.invitations_expired += round.invitations_expired;
        swept.seats_freed += round.seats_freed;
        if round == Swept::default() {
            return Ok(swept);
        }
    }
}

/// The organizations a round touches, each read once.
#[derive(Default)]
struct Orgs {
    found: HashMap<Uuid, Organization>,
}

impl Orgs {
    fn get(&mut self, conn: &mut PgConnection, id: Uuid) -> Result<&Organization, AppError> {
        match self.found.entry(id) {
            std::collections::hash_map::Entry::Occupied(found) => Ok(found.into_mut()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let org = organizations::find_by_id(conn, crate::domain::OrgId(id))?.ok_or(AppError::NotFound)?;
                Ok(slot.insert(org))
            }
        }
    }
}

/// What a due row holds, as the event names it.
fn held_of(on: On, due: &rows::Due) -> Held {
    match on {
        On::Membership => Held::Membership,
        On::Team(team) => Held::TeamPlace {
            team,
            team_name: due.place_name.clone(),
            role: TeamRole::from_db(&due.grade).unwrap_or(TeamRole::Member),
        },
        On::Project(project) => Held::ProjectGrant {
            project,
            project_name: due.place_name.clone(),
            level: AccessLevel::from_db(&due.grade).unwrap_or(AccessLevel::Read),
        },
    }
}

/// Reminds the people concerned of what ends within their organization's lead: in the
/// bell, and by email for a membership.
fn remind(conn: &mut PgConnection, ctx: &Context<'_>, orgs: &mut Orgs, now: OffsetDateTime) -> Result<usize, AppError> {
    let due = rows::due(conn, Looking::Reminders, now, BATCH)?;
    for (on, row) in &due {
        rows::mark_reminded(conn, row.membership_id, *on, now)?;
        let held = held_of(*on, row);
        if *on == On::Membership {
            let org = orgs.get(conn, row.organization_id)?.clone();
            let person = users::find(conn, UserId(row.user_id))?;
            let granter = match row.set_by {
                Some(id) => users::find(conn, UserId(id))?.map(|u| u.name),
                None => None,
            };
            if let Some(person) = person {
                let message = messages::access_ending(
                    &person.email,
                    &person.name,
                    &org.name,
                    &crate::domain::dates::day(row.expires_at),
                    granter.as_deref(),
                    &ctx.links.absolute(&format!("/orgs/{}", org.slug)),
                )?;
                outbox::enqueue(conn, ctx.links.sealing_key(), &message)?;
            }
        }
        let event = Event::MemberExpiryReminded {
            membership: row.membership_id,
            user: row.user_id,
            email: row.email.clone(),
            held,
            expires_at: row.expires_at,
            granter: row.set_by,
        };
        let org = orgs.get(conn, row.organization_id)?.clone();
        Actor::system().record_in(conn, &org, None, &[event])?;
    }
    Ok(due.len())
}

/// Ends what reached its date: a membership as `Remove` ends it, a team place or grant
/// alone (kept under `Expired`). Audited as expired, not removed.
fn end(conn: &mut PgConnection, orgs: &mut Orgs, now: OffsetDateTime) -> Result<usize, AppError> {
    let due = rows::due(conn, Looking::Ended, now, BATCH)?;
    let roster = Actor::system();
    let mut ended = 0;
    for (on, row) in &due {
        let org = orgs.get(conn, row.organization_id)?.clone();
        let event = match *on {
            On::Membership => {
                // The organization first, then the membership, as every use case locks them.
                organizations::lock(conn, org.org_id())?;
                if !rows::lock_due_membership(conn, row.membership_id, now)? {
                    continue;
                }
                let access = OrgAccess::of_roster(org.clone());
                let membership =
                    memberships::lock_in_org(conn, org.org_id(), row.membership_id)?.ok_or(AppError::NotFound)?;
                members::end_membership(
                    conn,
                    &roster,
                    &access,
                    &membership,
                    false,
                    Departure::Expired { granter: row.set_by },
                )?;
                ended += 1;
                continue;
            }
            On::Team(team) => {
                let Some(role) = team_rows::remove(conn, team, row.membership_id)? else { continue };
                rows::keep_expired(conn, org.id, row.membership_id, *on, role.as_str(), now)?;
                Event::TeamPlaceExpired {
                    team,
                    team_name: row.place_name.clone(),
                    membership: row.membership_id,
                    user: row.user_id,
                    email: row.email.clone(),
                    role,
                    granter: row.set_by,
                }
            }
            On::Project(project) => {
                let level = AccessLevel::from_db(&row.grade).unwrap_or(AccessLevel::Read);
                project_rows::revoke_member(conn, project, row.membership_id)?;
                rows::keep_expired(conn, org.id, row.membership_id, *on, level.as_str(), now)?;
                Event::ProjectGrantExpired {
                    project,
                    project_name: row.place_name.clone(),
                    membership: row.membership_id,
                    user: row.user_id,
                    email: row.email.clone(),
                    level,
                    granter: row.set_by,
                }
            }
        };
        roster.record_in(conn, &org, None, &[event])?;
        ended += 1;
    }
    Ok(ended)
}

/// Emails unanswered invitations a reminder two days before they expire (once, and not
/// for one sent within those two days), and tells inviters of those that expired.
fn sweep_invitations(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    orgs: &mut Orgs,
    now: OffsetDateTime,
) -> Result<(usize, usize), AppError> {
    let roster = Actor::system();
    let due = invitations::reminders_due(conn, now, BATCH)?;
    for invitation in &due {
        invitations::mark_swept(conn, invitation.id, true, now)?;
        let org = orgs.get(conn, invitation.organization_id)?.clone();
        // The link of the email, rebuilt under whichever key made it; with that key gone
        // (a development key made per run) there is no link to remind of.
        let Some(token) = ctx.tokens.token_matching(&invitation.token_nonce, &invitation.token_hash) else {
            continue;
        };
        let grants = super::invitations::describe_grants(&invitation_grants::of_invitations(conn, &[invitation.id])?);
        let inviter = (!invitation.inviter_name.is_empty()).then_some(invitation.inviter_name.as_str());
        let message = messages::invitation(&InvitationMail {
            to: &invitation.email,
            inviter,
            org: &org.name,
            role: invitation.role.label(),
            link: &ctx.links.invitation(&token),
            expires: &super::invitations::long_date(invitation.expires_at),
            grants: &grants,
            access_until: invitation.membership_expires_at.map(super::invitations::long_date).as_deref(),
            reminder: true,
        })?;
        outbox::enqueue(conn, ctx.links.sealing_key(), &message)?;
        let event = Event::InvitationReminded {
            invitation: invitation.id,
            email: invitation.email.clone(),
            expires_at: invitation.expires_at,
        };
        roster.record_in(conn, &org, None, &[event])?;
    }
    let expired = invitations::expired_untold(conn, now, BATCH)?;
    for invitation in &expired {
        invitations::mark_swept(conn, invitation.id, false, now)?;
        let org = orgs.get(conn, invitation.organization_id)?.clone();
        let event = Event::InvitationExpired {
            invitation: invitation.id,
            email: invitation.email.clone(),
            role: invitation.role,
            inviter: invitation.invited_by,
        };
        roster.record_in(conn, &org, None, &[event])?;
    }
    Ok((due.len(), expired.len()))
}

/// Sweeps every minute, on every instance (they share the work row by row), until the
/// process ends.
pub async fn sweep_forever(db: crate::db::Db, links: crate::mail::Links, tokens: crate::domain::token::TokenKey) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        let (links, tokens) = (links.clone(), tokens.clone());
        let result = db
            .run(move |conn| {
                let ctx = Context { links: &links, tokens: &tokens, ttl: time::Duration::days(7) };
                sweep(conn, &ctx, OffsetDateTime::now_utc())
            })
            .await;
        match result {
            Ok(swept) if swept == Swept::default() => {}
            Ok(swept) => tracing::info!(?swept, "access over time swept"),
            Err(error) => tracing::warn!(%error, "the access sweep could not run"),
        }
    }
}
