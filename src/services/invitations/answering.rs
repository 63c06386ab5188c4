//! Answering an invitation: from its emailed link or the Dashboard, accept or
//! decline; what a link shows; the invitations waiting for a person.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::invitation_grants;
use crate::db::invitations::{self, Invitation};
use crate::db::projects::{self as project_rows, Grantee};
use crate::db::teams as team_rows;
use crate::db::{memberships, organizations, users};
use crate::domain::email_address::{canonical, same_address};
use crate::domain::{InvitationStatus, OrgId, Role, TeamRole, Token, UserId};
use crate::error::AppError;
use crate::services::events::{self, Actor, Event};
use crate::services::rate_limit;
use crate::services::viewer::{self, Viewer};

use super::brings::{describe_grants, grant_words};

/// How an invitee names an invitation: by the link's token, or by id from their Dashboard.
#[derive(Debug, Clone)]
pub enum InvitationRef {
    Token(Token),
    Id(Uuid),
}

/// Everything the invitation page shows.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub org_name: String,
    pub org_slug: String,
    pub inviter_name: String,
    /// Whether a person sent it (they are told of the answer), not an API key.
    pub by_person: bool,
    pub role: Role,
    pub status: InvitationStatus,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub responded_at: Option<OffsetDateTime>,
    /// Names of the Owner and Admins, to say whom to ask for a new invitation.
    pub admins: Vec<String>,
    /// The teams and projects it brings, in words.
    pub grants: Vec<String>,
    /// The day the membership it brings ends, if it does.
    pub access_until: Option<String>,
    /// Only the invited inbox had the link (no admin copied it): an account made
    /// from it counts as verified, and joins at once.
    pub link_proves_address: bool,
}

fn find(conn: &mut PgConnection, reference: &InvitationRef) -> Result<Option<Invitation>, AppError> {
    Ok(match reference {
        InvitationRef::Token(token) => invitations::find_by_token_hash(conn, &token.hash())?,
        InvitationRef::Id(id) => invitations::find(conn, *id)?,
    })
}

/// Refuses any invitation-link lookup from `network` (the client's, see
/// `ClientIp::network`) once it opened too many links that
/// lead nowhere: tokens are too long to guess, but trying them costs us queries.
fn guard_links(conn: &mut PgConnection, network: &str) -> Result<(), AppError> {
    rate_limit::refuse_if_reached(
        conn,
        rate_limit::LINK_MISSES_PER_NETWORK,
        network,
        "Too many invitation links that lead nowhere were opened from your network.",
    )
}

/// Counts a link that led nowhere against `network` (outside any transaction, so it stays counted).
fn count_link_miss(conn: &mut PgConnection, network: &str) -> Result<(), AppError> {
    rate_limit::check(conn, rate_limit::LINK_MISSES_PER_NETWORK, network)
}

/// The invitation behind a link opened from `network`, for its page. Changes nothing
/// but the count of links from `network` that lead nowhere (mail scanners open links too).
pub fn view(conn: &mut PgConnection, network: &str, token: &Token) -> Result<Option<InvitationView>, AppError> {
    guard_links(conn, network)?;
    let found = view_unguarded(conn, token)?;
    if found.is_none() {
        count_link_miss(conn, network)?;
    }
    Ok(found)
}

fn view_unguarded(conn: &mut PgConnection, token: &Token) -> Result<Option<InvitationView>, AppError> {
    let Some(invitation) = invitations::find_by_token_hash(conn, &token.hash())? else {
        return Ok(None);
    };
    let org = organizations::find_by_id(conn, OrgId(invitation.organization_id))?.ok_or(AppError::NotFound)?;
    let admins = memberships::granter_names(conn, org.org_id(), crate::services::reach::GRANTERS_NAMED, None)?;
    let grants = describe_grants(&invitation_grants::of_invitations(conn, &[invitation.id])?);
    Ok(Some(InvitationView {
        grants,
        access_until: invitation.membership_expires_at.map(crate::domain::dates::day),
        link_proves_address: invitation.link_proves_address(),
        id: invitation.id,
        status: invitation.status_now(),
        role: invitation.role,
        email: invitation.email,
        org_name: org.name,
        org_slug: org.slug,
        inviter_name: invitation.inviter_name,
        by_person: invitation.invited_by.is_some(),
        created_at: invitation.created_at,
        expires_at: invitation.expires_at,
        responded_at: invitation.responded_at,
        admins,
    }))
}

/// The invitation link's page: who is looking (if signed in to an account that
/// still exists) and the invitation behind the token (if any). Changes nothing.
pub fn link_page(
    conn: &mut PgConnection,
    network: &str,
    signed_in: Option<UserId>,
    token: Option<&Token>,
) -> Result<(Option<Viewer>, Option<InvitationView>), AppError> {
    guard_links(conn, network)?;
    let viewer = viewer::optional(conn, signed_in)?;
    let found = match token {
        Some(token) => view_unguarded(conn, token)?,
        None => None,
    };
    if found.is_none() {
        count_link_miss(conn, network)?;
    }
    Ok((viewer, found))
}

/// Accepts or declines through an emailed link opened from `network`: [`respond`], for
/// the invitation behind `token`, within the limit on links that lead nowhere.
pub fn respond_by_link(
    conn: &mut PgConnection,
    network: &str,
    actor: &Actor,
    token: Token,
    answer: Answer,
) -> Result<Answered, AppError> {
    guard_links(conn, network)?;
    if invitations::find_by_token_hash(conn, &token.hash())?.is_none() {
        count_link_miss(conn, network)?;
        return Err(AppError::NotFound);
    }
    respond(conn, actor, &InvitationRef::Token(token), answer)
}

/// Whether an invitee accepts or declines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Decline,
}

/// The organization an answer was about.
#[derive(Debug, Clone)]
pub struct Answered {
    pub org_name: String,
    pub org_slug: String,
    pub role: Role,
    /// Accepted: the teams and projects joined, and those skipped because they were
    /// deleted since the invitation was sent, in words.
    pub joined: Vec<String>,
    pub skipped: Vec<String>,
}

/// Accepts or declines, as the signed-in `user`, whose verified email must be the
/// invited one. Accepting creates the membership in the same transaction; both
/// notify the inviter and are audited. Of two racing answers, one wins and the
/// other gets a sentence saying what happened.
pub fn respond(
    conn: &mut PgConnection,
    actor: &Actor,
    reference: &InvitationRef,
    answer: Answer,
) -> Result<Answered, AppError> {
    conn.transaction(|conn| {
        let invitation = find(conn, reference)?.ok_or(AppError::NotFound)?;
        let me = actor.person()?;
        let user = users::find(conn, me)?.ok_or(AppError::Unauthenticated)?;
        let matches = same_address(&user.email, &invitation.email);
        if !matches {
            return Err(match reference {
                // Invitations named by id are only offered to their invitee.
                InvitationRef::Id(_) => AppError::NotFound,
                InvitationRef::Token(_) => AppError::Forbidden(format!(
                    "This invitation is for {}, and you are signed in as {}. Sign out and sign in as {} to answer it.",
                    invitation.email, user.email, invitation.email
                )),
            });
        }
        if !user.is_verified() && matches!(reference, InvitationRef::Token(_)) && invitation.link_proves_address() {
            // Opening the emailed link proves the address, as a verification link would.
            users::mark_verified(conn, me, &invitation.email)?;
        } else if !user.is_verified() {
            return Err(AppError::Forbidden(format!(
                "Verify your email address {} first: use the link we sent you, or Resend verification email.",
                user.email
            )));
        }
        let org = organizations::find_by_id(conn, OrgId(invitation.organization_id))?.ok_or(AppError::NotFound)?;
        let answered = match answer {
            Answer::Accept => invitations::accept(conn, invitation.id, me)?,
            Answer::Decline => invitations::decline(conn, invitation.id, Some(me))?,
        };
        let Some(answered) = answered else {
            let now = invitation.status_now();
            let current = find(conn, reference)?.map(|i| i.status_now()).unwrap_or(now);
            return Err(AppError::Conflict(match current {
                InvitationStatus::Accepted => format!("This invitation to {} was already accepted.", org.name),
                InvitationStatus::Declined => format!("This invitation to {} was already declined.", org.name),
                InvitationStatus::Revoked => format!("This invitation to {} was revoked by an admin.", org.name),
                InvitationStatus::Expired => format!(
                    "This invitation to {} has expired. Ask an admin of {} to send a new one.",
                    org.name, org.name
                ),
                InvitationStatus::Pending => "This invitation could not be answered. Try again.".into(),
            }));
        };
        let role = answered.role;
        let (mut joined, mut skipped) = (Vec::new(), Vec::new());
        if answer == Answer::Accept {
            let joined_now = memberships::insert_if_absent(conn, org.org_id(), me, role)?;
            if joined_now {
                memberships::set_invited_by(conn, org.org_id(), me, answered.invited_by)?;
            }
            let membership = memberships::find(conn, org.org_id(), me)?.ok_or(AppError::NotFound)?;
            // A membership for a limited time ends when the inviter chose, set by them.
            if let (true, Some(until)) = (joined_now, answered.membership_expires_at) {
                let on = crate::domain::expiry::On::Membership;
                crate::db::expiry::set(conn, membership.id, on, Some(until), answered.invited_by)?;
            }
            (joined, skipped) = apply_grants(conn, org.org_id(), membership.id, answered.id)?;
        }
        let (invitation, email, inviter) = (answered.id, answered.email, answered.invited_by);
        let event = match answer {
            Answer::Accept => Event::InvitationAccepted {
                invitation,
                email,
                role,
                inviter,
                joined: joined.clone(),
                skipped: skipped.clone(),
            },
            Answer::Decline => Event::InvitationDeclined { invitation, email, role, inviter },
        };
        actor.record_in(conn, &org, Some(&user), &[event])?;
        Ok(Answered { org_name: org.name, org_slug: org.slug, role, joined, skipped })
    })
}

/// Gives the new member `membership` what invitation `invitation` brings: its teams
/// (as Member) and projects (never lowering a level they already have). Returns what
/// was joined and what was skipped because it was deleted meanwhile, in words.
fn apply_grants(
    conn: &mut PgConnection,
    org: OrgId,
    membership: Uuid,
    invitation: Uuid,
) -> Result<(Vec<String>, Vec<String>), AppError> {
    apply_brought(conn, org, membership, |conn| invitation_grants::of_invitations(conn, &[invitation]))
}

/// Gives the new member `membership` the teams (as Member) and projects (never
/// lowering a level they already have) that `load` reads — an invitation's, an invite
/// link's. Returns what was joined and what was skipped because it was deleted
/// meanwhile, in words.
pub(crate) fn apply_brought(
    conn: &mut PgConnection,
    org: OrgId,
    membership: Uuid,
    load: impl Fn(&mut PgConnection) -> diesel::QueryResult<Vec<invitation_grants::InvitationGrant>>,
) -> Result<(Vec<String>, Vec<String>), AppError> {
    let (mut joined, mut skipped) = (Vec::new(), Vec::new());
    // Hold the teams and projects it brings: a delete running now has either
    // finished (read again below, its id is gone) or waits for this accept.
    let brought = load(conn)?;
    team_rows::hold(conn, &brought.iter().filter_map(|g| g.team_id).collect::<Vec<_>>())?;
    project_rows::hold(conn, &brought.iter().filter_map(|g| g.project_id).collect::<Vec<_>>())?;
    for grant in load(conn)? {
        let words = grant_words(&grant);
        match (grant.team_id, grant.project_id, grant.level) {
            (Some(team), _, None) => {
                team_rows::add(conn, org, team, membership, TeamRole::Member)?;
                joined.push(words);
            }
            (_, Some(project), Some(level)) => {
                project_rows::grant_at_least(conn, org, project, Grantee::Member(membership), level)?;
                joined.push(words);
            }
            _ => skipped.push(words),
        }
    }
    Ok((joined, skipped))
}

/// Declines with the emailed link alone, signed in to no account: receiving the
/// link is enough to say no (accepting needs the invitee's account). Audited under
/// the invited address; the inviter is told.
pub fn decline_by_link(
    conn: &mut PgConnection,
    network: &str,
    token: &Token,
    request_id: Option<String>,
) -> Result<Answered, AppError> {
    guard_links(conn, network)?;
    if invitations::find_by_token_hash(conn, &token.hash())?.is_none() {
        count_link_miss(conn, network)?;
        return Err(AppError::NotFound);
    }
    conn.transaction(|conn| {
        let invitation = invitations::find_by_token_hash(conn, &token.hash())?.ok_or(AppError::NotFound)?;
        let org = organizations::find_by_id(conn, OrgId(invitation.organization_id))?.ok_or(AppError::NotFound)?;
        let Some(declined) = invitations::decline(conn, invitation.id, None)? else {
            // Read again: a racing answer may have changed it since.
            let now = invitations::find(conn, invitation.id)?.map_or(invitation.status_now(), |i| i.status_now());
            return Err(AppError::Conflict(format!(
                "This invitation to {} is {} and can no longer be declined.",
                org.name,
                now.label().to_lowercase()
            )));
        };
        let event = Event::InvitationDeclined {
            invitation: declined.id,
            email: declined.email.clone(),
            role: declined.role,
            inviter: declined.invited_by,
        };
        events::record_by_link(conn, &org, &declined.email, request_id, &[event])?;
        Ok(Answered {
            org_name: org.name,
            org_slug: org.slug,
            role: declined.role,
            joined: Vec::new(),
            skipped: Vec::new(),
        })
    })
}

/// A pending invitation shown on the invitee's Dashboard.
#[derive(Debug, Clone)]
pub struct PendingForMe {
    pub id: Uuid,
    pub org_name: String,
    pub org_slug: String,
    pub inviter_name: String,
    pub role: Role,
    pub expires_at: OffsetDateTime,
    /// The teams and projects it brings, in words.
    pub grants: Vec<String>,
}

/// Pending invitations for a user's address, if it is verified.
pub fn pending_for(conn: &mut PgConnection, user: UserId) -> Result<Vec<PendingForMe>, AppError> {
    let user = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
    pending_to(conn, &user.email, user.is_verified())
}

/// Pending invitations to `email`, if it is `verified`, with what each brings, in one statement.
pub fn pending_to(conn: &mut PgConnection, email: &str, verified: bool) -> Result<Vec<PendingForMe>, AppError> {
    if !verified {
        return Ok(Vec::new());
    }
    Ok(invitations::pending_for_address(conn, &canonical(email))?
        .into_iter()
        .map(|(i, org_name, org_slug, grants)| PendingForMe {
            grants: describe_grants(&grants),
            id: i.id,
            role: i.role,
            org_name,
            org_slug,
            inviter_name: i.inviter_name,
            expires_at: i.expires_at,
        })
        .collect())
}
