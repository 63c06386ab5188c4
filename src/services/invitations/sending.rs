//! Sending invitations: invite one or many, resend (one, or all that expire soon),
//! revoke, copy the link.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::invitation_grants::{self, Bring};
use crate::db::invitations::{self, Invitation, NewInvitation};
use crate::db::organizations::seat_usage;
use crate::db::projects::{self as project_rows, Project};
use crate::db::teams::{self as team_rows, Team};
use crate::db::{memberships, organizations, outbox};
use crate::domain::email_address::canonical;
use crate::domain::email_list::InvalidEntry;
use crate::domain::permission::{may_on_team, TeamAction};
use crate::domain::token::TokenKey;
use crate::domain::{AccessLevel, EmailList, InvitationStatus, Permission, Role, SeatUsage, Slug, UserId};
use crate::error::{AppError, FormErrors};
use crate::mail::messages::{self, InvitationMail};
use crate::mail::Links;
use crate::services::access::{self, OrgAccess};
use crate::services::events::{Actor, Event};
use crate::services::rate_limit;
use crate::services::viewer::{self, Viewer};

use super::brings::describe_grants;

/// Most addresses accepted in one submission.
pub const MAX_BATCH: usize = 2000;

/// Resends allowed per invitation per hour.
const RESENDS_PER_HOUR: rate_limit::Limit = rate_limit::Limit { name: "invitation:resend", max: 5, window_secs: 3600 };

/// Resends of one organization, all its invitations together: bounds the mail an
/// organization's admins can send by resending one invitation after another.
const RESENDS_PER_ORG_PER_HOUR: rate_limit::Limit =
    rate_limit::Limit { name: "invitation:resend:org", max: 100, window_secs: 3600 };

/// What invitation use cases need besides the connection.
pub struct Context<'a> {
    pub links: &'a Links,
    pub tokens: &'a TokenKey,
    pub ttl: time::Duration,
}

/// A day in full words, as invitation emails write their expiry: "30 March 2027".
pub fn long_date(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}

/// What an invitation brings besides the membership: teams (joined as Member) and
/// projects at a level, by id as chosen in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Brings {
    pub teams: Vec<Uuid>,
    pub projects: Vec<(Uuid, AccessLevel)>,
    /// When the membership ends (DESIGN.md §2.12); `None`: it does not.
    pub access_until: Option<OffsetDateTime>,
}

fn describe_brings(brings: &[Bring]) -> Vec<String> {
    brings
        .iter()
        .map(|b| match b {
            Bring::Team { name, .. } => format!("team {name}"),
            Bring::Project { name, level, .. } => format!("project {name} ({})", level.label()),
        })
        .collect()
}

fn invite_refusal(access: &OrgAccess, role: Role) -> AppError {
    AppError::Forbidden(match access.role {
        Role::Member => "Only the Owner and Admins can manage invitations.".into(),
        _ if access.member.is_none() => format!(
            "An API key acts at most as an Admin: invitations as {} are the Owner's, in the console.",
            role.label()
        ),
        _ => format!("Only the Owner can invite, resend or revoke invitations as {}.", role.label()),
    })
}

/// Refuses unless `access` may invite (resend, revoke) as `role`.
fn require_invite_right(access: &OrgAccess, role: Role) -> Result<(), AppError> {
    if access.role.may_invite_as(role) {
        return Ok(());
    }
    Err(invite_refusal(access, role))
}

/// Loads an invitation of the organization that `access` may manage.
fn manageable(conn: &mut PgConnection, access: &OrgAccess, id: Uuid) -> Result<Invitation, AppError> {
    let invitation = invitations::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    require_invite_right(access, invitation.role)?;
    Ok(invitation)
}

fn no_longer_pending(invitation: &Invitation) -> AppError {
    AppError::Conflict(format!(
        "This invitation to {} is {} and can no longer be changed.",
        invitation.email,
        invitation.status_now().label().to_lowercase()
    ))
}

/// How far ahead an open invitation counts as expiring: on the Overview's `Needs
/// attention`, and for `Resend all expiring`.
pub const EXPIRING_WITHIN: time::Duration = time::Duration::hours(48);

/// A pending invitation that a new one would have duplicated.
#[derive(Debug, Clone)]
pub struct AlreadyPending {
    pub id: Uuid,
    pub email: String,
    pub expired: bool,
}

/// The one answer to `Send Invitations`.
#[derive(Debug, Clone, Default)]
pub struct InviteSummary {
    pub sent: Vec<String>,
    pub already_members: Vec<String>,
    pub already_pending: Vec<AlreadyPending>,
    pub invalid: Vec<InvalidEntry>,
    pub duplicates: usize,
    /// Addresses that received too many invitations in the last hour (from any organization).
    pub too_often: Vec<String>,
}

/// Checks that `access` may invite as `role` with `brings`, and finds the chosen
/// teams and projects in the organization. The Owner and Admins may invite into any
/// team and project; a team Maintainer may invite as Member into teams they maintain,
/// and nothing else (DESIGN.md §2.1).
pub(crate) fn allowed_brings(
    conn: &mut PgConnection,
    access: &OrgAccess,
    role: Role,
    brings: &Brings,
) -> Result<Vec<Bring>, AppError> {
    let teams = team_rows::find_many(conn, access.org.org_id(), &brings.teams)?;
    let project_ids: Vec<Uuid> = brings.projects.iter().map(|(id, _)| *id).collect();
    let projects = project_rows::find_many(conn, access.org.org_id(), &project_ids)?;
    if teams.len() != brings.teams.len() || projects.len() != brings.projects.len() {
        return Err(AppError::Invalid(FormErrors::form(
            "A team or project you chose no longer exists. Reload the page and choose again.",
        )));
    }
    if !access.role.may_invite_as(role) {
        if access.role.can(Permission::ManageMembers) {
            // An Admin asking for Admin: the role is the problem, not the teams.
            return Err(invite_refusal(access, role));
        }
        // Otherwise only a team Maintainer, as Member, into teams they maintain.
        let mine = crate::services::access::my_roles_in(conn, access, &brings.teams)?;
        let maintains = |team: &Team| {
            let team_role = mine.iter().find(|(id, _)| *id == team.id).map(|(_, r)| *r);
            may_on_team(access.role, team_role, TeamAction::Invite)
        };
        if crate::services::access::maintained(conn, access)?.is_empty() {
            return Err(invite_refusal(access, role));
        }
        if role != Role::Member || !projects.is_empty() || !teams.iter().all(maintains) {
            return Err(AppError::Forbidden(
                "As a team Maintainer you can invite people as Member into the teams you maintain, and nothing else."
                    .into(),
            ));
        }
        if teams.is_empty() {
            let mut errors = FormErrors::new();
            errors.add("teams", "Choose at least one of your teams: you invite people into a team you maintain.");
            return Err(AppError::Invalid(errors));
        }
    }
    let mut found: Vec<Bring> = teams.into_iter().map(|t| Bring::Team { id: t.id, name: t.name }).collect();
    for project in projects {
        let level = brings.projects.iter().find(|(id, _)| *id == project.id).map_or(AccessLevel::Read, |(_, l)| *l);
        found.push(Bring::Project { id: project.id, name: project.name, level });
    }
    Ok(found)
}

/// Invites every valid address of `list` as `role`, bringing `brings`, in one
/// transaction that locks the organization: either all new invitations fit the free
/// seats and are sent, or none is.
pub fn invite(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    slug: &Slug,
    list: EmailList,
    role: Role,
    brings: &Brings,
) -> Result<InviteSummary, AppError> {
    if role == Role::Owner {
        let mut errors = FormErrors::new();
        errors.add("role", "Nobody is invited as Owner: the Owner transfers ownership in Settings.");
        return Err(AppError::Invalid(errors));
    }
    if list.addresses.is_empty() {
        let mut errors = FormErrors::new();
        let message = if list.invalid.is_empty() {
            "Enter at least one email address.".to_owned()
        } else {
            let shown: Vec<String> = list.invalid.iter().map(|e| format!("“{}”: {}", e.text, e.reason)).collect();
            format!("No valid address. {}", shown.join(" "))
        };
        errors.add("emails", message);
        return Err(AppError::Invalid(errors));
    }
    if list.addresses.len() > MAX_BATCH {
        return Err(AppError::Invalid(FormErrors::form(format!(
            "At most {MAX_BATCH} addresses at a time; this list has {}.",
            list.addresses.len()
        ))));
    }
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let org = organizations::lock(conn, access.org.org_id())?;
        let brought = allowed_brings(conn, &access, role, brings)?;
        let grant_lines = describe_brings(&brought);

        let keys: Vec<String> = list.addresses.iter().map(|a| a.canonical().to_owned()).collect();
        let members: HashSet<String> =
            memberships::member_emails_among(conn, org.org_id(), &keys)?.into_iter().collect();
        let pending: HashMap<String, Invitation> = invitations::pending_for_emails(conn, org.org_id(), &keys)?
            .into_iter()
            .map(|(invitation, key)| (key, invitation))
            .collect();

        let mut summary =
            InviteSummary { invalid: list.invalid, duplicates: list.duplicates, ..InviteSummary::default() };
        let mut to_invite = Vec::new();
        for address in list.addresses {
            if members.contains(address.canonical()) {
                summary.already_members.push(address.as_str().to_owned());
            } else if let Some(existing) = pending.get(address.canonical()) {
                summary.already_pending.push(AlreadyPending {
                    id: existing.id,
                    email: existing.email.clone(),
                    expired: existing.status_now() == InvitationStatus::Expired,
                });
            } else {
                to_invite.push(address);
            }
        }

        // One inbox gets at most a few invitation emails an hour, whoever sends them.
        // Counted in this transaction: a batch refused below counts for nobody.
        let recipients: Vec<String> = to_invite.iter().map(|a| a.canonical().to_owned()).collect();
        let too_often: HashSet<String> = rate_limit::over_limit(conn, rate_limit::INVITE_PER_RECIPIENT, &recipients)?
            .into_iter()
            .map(str::to_owned)
            .collect();
        to_invite.retain(|a| {
            let over = too_often.contains(a.canonical());
            if over {
                summary.too_often.push(a.as_str().to_owned());
            }
            !over
        });

        let usage = seat_usage(conn, org.org_id(), org.seat_limit)?;
        usage
            .reserve(to_invite.len() as i64)
            .map_err(|e| AppError::Invalid(FormErrors::form(format!("Nothing was sent. {e}"))))?;

        let expires_at = OffsetDateTime::now_utc() + ctx.ttl;
        let expires = long_date(expires_at);
        if brings.access_until.is_some_and(|until| until <= expires_at) {
            return Err(AppError::Invalid(FormErrors::field(
                "membership_expires_at",
                format!(
                    "Choose a day after the invitation expires ({expires}): the membership starts when it is accepted."
                ),
            )));
        }
        let access_until = brings.access_until.map(long_date);
        let inviter = access.user().map(|u| u.name.clone());
        let mut rows = Vec::with_capacity(to_invite.len());
        let mut mails = Vec::with_capacity(to_invite.len());
        for address in &to_invite {
            let nonce = TokenKey::new_nonce();
            let token = ctx.tokens.token(&nonce);
            rows.push(NewInvitation {
                id: Uuid::new_v4(),
                organization_id: org.id,
                email: address.as_str().to_owned(),
                email_key: address.canonical().to_owned(),
                role,
                token_nonce: nonce.to_vec(),
                token_hash: token.hash(),
                invited_by: access.user().map(|u| u.id),
                inviter_name: access.name(),
                expires_at,
                membership_expires_at: brings.access_until,
            });
            mails.push(messages::invitation(&InvitationMail {
                to: address.as_str(),
                inviter: inviter.as_deref(),
                org: &org.name,
                role: role.label(),
                link: &ctx.links.invitation(&token),
                expires: &expires,
                grants: &grant_lines,
                access_until: access_until.as_deref(),
                reminder: false,
            })?);
        }
        let created = invitations::insert_many(conn, &rows)?;
        let ids: Vec<Uuid> = created.iter().map(|i| i.id).collect();
        invitation_grants::insert_many(conn, org.org_id(), &ids, &brought)?;
        outbox::enqueue_many(conn, ctx.links.sealing_key(), &mails)?;
        // The log says when the link expires as of when the actor acted (the demo's
        // story happens in the past; its invitations' expiry is moved when it ends).
        let logged_expiry = |row: &Invitation| actor.at.map_or(row.expires_at, |at| at + ctx.ttl);
        let mut events: Vec<Event> = created
            .iter()
            .map(|i| Event::InvitationCreated {
                invitation: i.id,
                email: i.email.clone(),
                role: i.role,
                expires_at: logged_expiry(i),
            })
            .collect();
        // The batch that crosses 90 % or takes the last free seat tells the Owner and Admins.
        let after = SeatUsage { reserved: usage.reserved + created.len() as i64, ..usage };
        if let Some(alert) = after.crossed_from(&usage) {
            events.push(crate::services::seats::alert_event(conn, &org, alert, &after)?);
        }
        actor.record(conn, &access, &events)?;
        summary.sent = created.into_iter().map(|i| i.email).collect();
        Ok(summary)
    })
}

/// What the pages about invitations show around them: who is looking, their access,
/// the organization's seats, what the viewer may offer in `Invite Members`, and the
/// teams and projects chosen so far (by name, for the form's chips).
pub struct InvitePage {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub seats: SeatUsage,
    pub choices: InviteChoices,
    pub chosen_teams: Vec<Team>,
    pub chosen_projects: Vec<(Project, AccessLevel)>,
}

/// What `Invite Members` offers the viewer: roles, and whether teams and projects
/// can be chosen (they are picked by name as one types, never listed whole).
#[derive(Debug, Clone, Default)]
pub struct InviteChoices {
    pub roles: Vec<Role>,
    pub offers_teams: bool,
    pub offers_projects: bool,
    /// A team Maintainer who does not manage members: they invite only into
    /// their teams, and must choose at least one.
    pub into_own_teams_only: bool,
    /// A Maintainer's one team, when they maintain exactly one (chosen for them).
    pub only_team: Option<Team>,
}

/// The roles `access` may put on an invitation and whether it may bring teams and
/// projects; `None` when they may not invite at all.
fn choices(conn: &mut PgConnection, access: &OrgAccess) -> Result<Option<InviteChoices>, AppError> {
    let org = access.org.org_id();
    let manages = access.role.can(Permission::ManageTeamsAndProjects);
    let roles = access.role.invitable_roles();
    if !roles.is_empty() {
        let offers_teams = may_on_team(access.role, None, TeamAction::Invite) && team_rows::any_in(conn, org)?;
        let offers_projects = manages && project_rows::any_in(conn, org)?;
        return Ok(Some(InviteChoices {
            roles,
            offers_teams,
            offers_projects,
            into_own_teams_only: false,
            only_team: None,
        }));
    }
    // A team Maintainer invites as Member into their teams.
    let mut own = crate::services::access::maintained(conn, access)?;
    if own.is_empty() {
        return Ok(None);
    }
    let only_team = if own.len() == 1 { own.pop() } else { None };
    Ok(Some(InviteChoices {
        roles: vec![Role::Member],
        offers_teams: true,
        offers_projects: false,
        into_own_teams_only: true,
        only_team,
    }))
}

fn invite_page(
    conn: &mut PgConnection,
    viewer: Viewer,
    access: OrgAccess,
    chosen: &Brings,
) -> Result<InvitePage, AppError> {
    let choices = choices(conn, &access)?.ok_or_else(|| invite_refusal(&access, Role::Member))?;
    let seats = seat_usage(conn, access.org.org_id(), access.org.seat_limit)?;
    let org = access.org.org_id();
    let chosen_teams =
        if chosen.teams.is_empty() { Vec::new() } else { team_rows::find_many(conn, org, &chosen.teams)? };
    let project_ids: Vec<Uuid> = chosen.projects.iter().map(|(id, _)| *id).collect();
    let chosen_projects = if project_ids.is_empty() {
        Vec::new()
    } else {
        project_rows::find_many(conn, org, &project_ids)?
            .into_iter()
            .filter_map(|p| chosen.projects.iter().find(|(id, _)| *id == p.id).map(|(_, level)| (p, *level)))
            .collect()
    };
    Ok(InvitePage { viewer, access, seats, choices, chosen_teams, chosen_projects })
}

/// What the `Invite Members` form needs: the viewer, their access (those who manage
/// members, and team Maintainers), the seats, the choices, and what is `chosen`.
pub fn invite_form(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    chosen: &Brings,
) -> Result<InvitePage, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    invite_page(conn, viewer, access, chosen)
}

/// The answer to `Send Invitations` as submitted: the form's page (viewer, access,
/// seats as they are afterwards) with the outcome, where a refusal of the input
/// (`Invalid`) is for the form to show. The sender's quota (per account and per
/// client address) is charged only for a valid submission of valid addresses.
#[allow(clippy::too_many_arguments)]
pub fn invite_from_form(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    ip: &str,
    slug: &Slug,
    list: EmailList,
    role: Option<Role>,
    brings: &Brings,
) -> Result<(InvitePage, Result<InviteSummary, AppError>), AppError> {
    let viewer = viewer::load(conn, actor.person()?)?;
    let access = access::acting(conn, slug, actor)?;
    choices(conn, &access)?.ok_or_else(|| invite_refusal(&access, Role::Member))?;
    let outcome = match role.filter(|r| *r != Role::Owner) {
        None => {
            let mut errors = FormErrors::new();
            errors.add("role", "Choose a role.");
            Err(AppError::Invalid(errors))
        }
        Some(role) => invite_charged(conn, ctx, actor, ip, slug, list, role, brings),
    };
    // Read again: the organization may have changed meanwhile (seats, teams).
    let access = access::acting(conn, slug, actor)?;
    Ok((invite_page(conn, viewer, access, brings)?, outcome))
}

/// [`invite`], charging the sender's quota (per account and per client address) in
/// the same transaction: a refused submission costs nothing. Pages and the API invite
/// through this.
#[allow(clippy::too_many_arguments)]
pub fn invite_charged(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    ip: &str,
    slug: &Slug,
    list: EmailList,
    role: Role,
    brings: &Brings,
) -> Result<InviteSummary, AppError> {
    if list.addresses.is_empty() {
        return invite(conn, ctx, actor, slug, list, role, brings);
    }
    conn.transaction(|conn| {
        charge_sender(conn, actor, ip, list.addresses.len())?;
        invite(conn, ctx, actor, slug, list, role, brings)
    })
}

/// Counts `addresses` invitation emails against the sender's hourly quotas.
fn charge_sender(conn: &mut PgConnection, actor: &Actor, ip: &str, addresses: usize) -> Result<(), AppError> {
    rate_limit::check_many(conn, rate_limit::INVITE_PER_IP, ip, addresses)?;
    rate_limit::check_many(conn, rate_limit::INVITE_PER_ACCOUNT, &actor.principal.quota_subject(), addresses)
}

/// The `Revoke` confirmation, for an invitation the viewer may still revoke; with
/// the viewer's role.
pub fn revocation(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    id: Uuid,
) -> Result<(Viewer, Invitation, Role), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    access.require(Permission::ManageMembers)?;
    let invitation = invitations::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    let status = invitation.status_now();
    if !(status.can_resend() && access.role.may_invite_as(invitation.role)) {
        return Err(AppError::Forbidden(format!(
            "You cannot revoke the invitation to {}: it is {}, or its role is not yours to manage.",
            invitation.email,
            status.label().to_lowercase()
        )));
    }
    Ok((viewer, invitation, access.role))
}

/// Sends an invitation again with a new link and expiry; the old link stops working.
/// An expired invitation takes a seat again, so it needs a free one. Returns it with
/// the actor's role and what it brings, in words.
pub fn resend(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
) -> Result<(Invitation, Role, Vec<String>), AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let org = organizations::lock(conn, access.org.org_id())?;
        let invitation = manageable(conn, &access, id)?;
        if !invitation.status_now().can_resend() {
            return Err(no_longer_pending(&invitation));
        }
        rate_limit::check(conn, RESENDS_PER_HOUR, &id.to_string()).map_err(|e| {
            e.reworded(format!(
                "{} has been sent this invitation {} times in the last hour. Wait before resending, \
                 or use Copy Link to share it another way.",
                invitation.email, RESENDS_PER_HOUR.max
            ))
        })?;
        rate_limit::check(conn, RESENDS_PER_ORG_PER_HOUR, &org.id.to_string()).map_err(|e| {
            e.reworded(format!(
                "{} has resent {} invitations in the last hour. Wait before resending more, \
                 or use Copy Link to share a link another way.",
                org.name, RESENDS_PER_ORG_PER_HOUR.max
            ))
        })?;
        let recipient = [canonical(&invitation.email)];
        if !rate_limit::over_limit(conn, rate_limit::INVITE_PER_RECIPIENT, &recipient)?.is_empty() {
            return Err(AppError::RateLimited {
                message: format!(
                    "{} has received {} invitation emails in the last hour. Wait before resending, or use Copy Link.",
                    invitation.email,
                    rate_limit::INVITE_PER_RECIPIENT.max
                ),
                retry_after: rate_limit::seconds_left(conn, rate_limit::INVITE_PER_RECIPIENT, &recipient[0])?,
            });
        }
        // An expired invitation takes a seat again: it needs a free one, and may
        // cross a threshold the Owner and Admins hear about.
        let mut alert = None;
        if invitation.status_now() == InvitationStatus::Expired {
            let before = seat_usage(conn, org.org_id(), org.seat_limit)?;
            before.reserve(1).map_err(|e| AppError::Conflict(e.to_string()))?;
            let after = SeatUsage { reserved: before.reserved + 1, ..before };
            alert = after.crossed_from(&before).map(|a| (a, after));
        }
        let (renewed, grants, event) = send_again(conn, ctx, &access, &org.name, &invitation)?;
        let mut events = vec![event];
        if let Some((alert, usage)) = alert {
            events.push(crate::services::seats::alert_event(conn, &org, alert, &usage)?);
        }
        actor.record(conn, &access, &events)?;
        Ok((renewed, access.role, grants))
    })
}

/// Gives `invitation` a new link and expiry and queues its email: what `Resend
/// Invitation` and `Resend all expiring` share. Returns it renewed, what it brings in
/// words, and the event to record; a conflict when it was answered meanwhile.
fn send_again(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    access: &OrgAccess,
    org_name: &str,
    invitation: &Invitation,
) -> Result<(Invitation, Vec<String>, Event), AppError> {
    let nonce = TokenKey::new_nonce();
    let token = ctx.tokens.token(&nonce);
    let expires_at = OffsetDateTime::now_utc() + ctx.ttl;
    if let Some(until) = invitation.membership_expires_at.filter(|until| *until <= expires_at) {
        return Err(AppError::Conflict(format!(
            "The membership this invitation brings ends on {}, before a new link would expire: revoke it and invite \
             {} again with a later date.",
            long_date(until),
            invitation.email
        )));
    }
    let renewed = invitations::renew(conn, access.org.org_id(), invitation.id, &nonce, &token.hash(), expires_at)?
        .ok_or_else(|| no_longer_pending(invitation))?;
    let grants = describe_grants(&invitation_grants::of_invitations(conn, &[renewed.id])?);
    outbox::enqueue(
        conn,
        ctx.links.sealing_key(),
        &messages::invitation(&InvitationMail {
            to: &renewed.email,
            inviter: access.user().map(|u| u.name.as_str()),
            org: org_name,
            role: renewed.role.label(),
            link: &ctx.links.invitation(&token),
            expires: &long_date(expires_at),
            grants: &grants,
            access_until: renewed.membership_expires_at.map(long_date).as_deref(),
            reminder: false,
        })?,
    )?;
    let event = Event::InvitationResent {
        invitation: renewed.id,
        email: renewed.email.clone(),
        expired_at: invitation.expires_at,
        expires_at: renewed.expires_at,
        send_count: renewed.send_count,
    };
    Ok((renewed, grants, event))
}

/// What `Resend all expiring` did.
#[derive(Debug)]
pub struct ResentExpiring {
    /// The invitations sent again, renewed.
    pub sent: Vec<Invitation>,
    /// Addresses left out because they were sent too many emails in the last hour.
    pub held_back: Vec<String>,
    /// Expiring invitations the actor may not resend (an Admin and an Admin's invitation).
    pub not_yours: usize,
}

/// `Resend all expiring`: sends every open invitation that expires within
/// [`EXPIRING_WITHIN`] and the actor may manage again, each with a new link and
/// expiry, in one transaction. Addresses that reached their hourly email limit are
/// held back and named; the organization's hourly resend limit refuses the whole.
pub fn resend_expiring(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    slug: &Slug,
) -> Result<ResentExpiring, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        if !access.role.may_invite_as(Role::Member) {
            return Err(invite_refusal(&access, Role::Member));
        }
        let org = organizations::lock(conn, access.org.org_id())?;
        let due = invitations::open_expiring_before(
            conn,
            org.org_id(),
            OffsetDateTime::now_utc() + EXPIRING_WITHIN,
            RESENDS_PER_ORG_PER_HOUR.max.into(),
        )?;
        let (due, not_yours): (Vec<Invitation>, Vec<Invitation>) =
            due.into_iter().partition(|invitation| access.role.may_invite_as(invitation.role));
        if due.is_empty() {
            return Err(AppError::Conflict(if not_yours.is_empty() {
                "No pending invitation expires within 48 hours: there is nothing to resend.".to_owned()
            } else {
                "The invitations that expire within 48 hours are for Admins: only the Owner resends them.".to_owned()
            }));
        }
        // Each invitation and each address keeps its own hourly limit, as with one
        // resend; those over it are held back instead of failing the rest.
        let ids: Vec<String> = due.iter().map(|i| i.id.to_string()).collect();
        let keys: Vec<String> = due.iter().map(|i| canonical(&i.email)).collect();
        let resent_too_often: HashSet<&str> =
            rate_limit::over_limit(conn, RESENDS_PER_HOUR, &ids)?.into_iter().collect();
        let mailed_too_often: HashSet<&str> =
            rate_limit::over_limit(conn, rate_limit::INVITE_PER_RECIPIENT, &keys)?.into_iter().collect();
        let (sendable, held): (Vec<_>, Vec<_>) = due.iter().zip(ids.iter().zip(&keys)).partition(|(_, (id, key))| {
            !resent_too_often.contains(id.as_str()) && !mailed_too_often.contains(key.as_str())
        });
        rate_limit::check_many(conn, RESENDS_PER_ORG_PER_HOUR, &org.id.to_string(), sendable.len()).map_err(|e| {
            e.reworded(format!(
                "{} can resend {} invitations an hour, and this would pass that. Wait before resending, \
                 or resend the ones that expire first from Invitations.",
                org.name, RESENDS_PER_ORG_PER_HOUR.max
            ))
        })?;
        let mut sent = Vec::with_capacity(sendable.len());
        let mut events = Vec::with_capacity(sendable.len());
        for (invitation, _) in sendable {
            let (renewed, _, event) = send_again(conn, ctx, &access, &org.name, invitation)?;
            sent.push(renewed);
            events.push(event);
        }
        actor.record(conn, &access, &events)?;
        let held_back = held.into_iter().map(|(invitation, _)| invitation.email.clone()).collect();
        Ok(ResentExpiring { sent, held_back, not_yours: not_yours.len() })
    })
}

/// Revokes an invitation: its link stops working and its seat is freed. Returns it
/// with the actor's role and what it brought, in words.
pub fn revoke(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
) -> Result<(Invitation, Role, Vec<String>), AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let invitation = manageable(conn, &access, id)?;
        let revoked = invitations::revoke(conn, access.org.org_id(), id, actor.principal.person())?
            .ok_or_else(|| no_longer_pending(&invitation))?;
        let event = Event::InvitationRevoked {
            invitation: revoked.id,
            email: revoked.email.clone(),
            was: invitation.status_now(),
        };
        actor.record(conn, &access, &[event])?;
        let grants = describe_grants(&invitation_grants::of_invitations(conn, &[id])?);
        Ok((revoked, access.role, grants))
    })
}

/// A copied link, with what the page around it needs.
pub struct CopiedLink {
    pub invitation: Invitation,
    /// What it brings, in words.
    pub grants: Vec<String>,
    pub link: String,
    pub viewer: Viewer,
    pub viewer_role: Role,
}

/// The current link of a pending invitation, for when mail does not get through. Audited.
pub fn copy_link(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
) -> Result<CopiedLink, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let invitation = manageable(conn, &access, id)?;
        match invitation.status_now() {
            InvitationStatus::Pending => {}
            InvitationStatus::Expired => {
                return Err(AppError::Conflict(format!(
                    "The invitation to {} has expired: use Resend Invitation to give it a new link.",
                    invitation.email
                )))
            }
            _ => return Err(no_longer_pending(&invitation)),
        }
        // Rebuilt under whichever of the server's keys made it, so the emailed link and
        // the copied one stay the same across a key rotation.
        let token = match ctx.tokens.token_matching(&invitation.token_nonce, &invitation.token_hash) {
            Some(token) => token,
            None => {
                // The key that made it is gone (e.g. a development key generated per
                // run): the old link cannot be rebuilt, so issue a new one.
                let nonce = TokenKey::new_nonce();
                let token = ctx.tokens.token(&nonce);
                invitations::replace_token(conn, invitation.id, &nonce, &token.hash())?;
                token
            }
        };
        invitations::mark_link_copied(conn, invitation.id)?;
        let event = Event::InvitationLinkCopied { invitation: invitation.id, email: invitation.email.clone() };
        actor.record(conn, &access, &[event])?;
        let viewer = viewer::load(conn, access.person()?.user.user_id())?;
        let grants = describe_grants(&invitation_grants::of_invitations(conn, &[invitation.id])?);
        Ok(CopiedLink { invitation, grants, link: ctx.links.invitation(&token), viewer, viewer_role: access.role })
    })
}
