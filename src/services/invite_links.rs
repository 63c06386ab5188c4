//! Shareable invite links (DESIGN.md §2.12): the Owner and Admins make a link with a
//! role, teams and projects, an expiry, a use limit, allowed email domains and
//! optional approval; whoever opens it sees what it brings (opening changes
//! nothing) and joins with one click. Each use is checked against the seats, the
//! domains and the uses left in one transaction that locks the organization, then
//! the link: a race of many people on the last uses has exactly that many winners.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use super::invitations::{allowed_brings, apply_brought, describe_grants, Brings, Context};
use super::viewer::Viewer;
pub use crate::db::invite_links::LinkUse;
use crate::db::invite_links::{self as rows, InviteLink, NewLink};
use crate::db::organizations::{seat_usage, Organization};
use crate::db::{memberships, organizations, users};
use crate::domain::invite_link::{address_allowed, LinkState};
use crate::domain::token::TokenKey;
use crate::domain::{OrgId, Permission, Role, SeatUsage, Slug, Token, UserId};
use crate::error::{AppError, FormErrors};

/// A link as its pages and the API show it.
#[derive(Debug, Clone)]
pub struct LinkView {
    pub link: InviteLink,
    /// Who made it, if their account still exists.
    pub creator: Option<String>,
    pub state: LinkState,
    /// What joining brings, in words ("team Platform", "project Apollo (Write)").
    pub brings: Vec<String>,
    /// The link to share (shown while it works).
    pub url: String,
}

impl LinkView {
    /// The label, or words that stand for it.
    pub fn name(&self) -> String {
        name_of(&self.link)
    }
}

/// A link's label, or "an invite link" when it has none.
fn name_of(link: &InviteLink) -> String {
    if link.label.is_empty() {
        "an invite link".to_owned()
    } else {
        format!("“{}”", link.label)
    }
}

fn state_of(link: &InviteLink, now: OffsetDateTime) -> LinkState {
    LinkState::of(link.disabled_at.is_some(), link.expires_at, link.uses, link.max_uses, now)
}

/// The token of a link, rebuilt from its nonce with whichever server key made it.
fn token_of(tokens: &TokenKey, link: &InviteLink) -> Option<Token> {
    tokens.token_matching(&link.token_nonce, &link.token_hash)
}

/// The views of `links` (with their creators' names), with what each brings. The URL
/// is there only for a link `access` may hand out (an Admin link is the Owner's:
/// copying it would be inviting as Admin).
fn views(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    access: &OrgAccess,
    links: Vec<(InviteLink, Option<String>)>,
) -> Result<Vec<LinkView>, AppError> {
    let ids: Vec<Uuid> = links.iter().map(|(l, _)| l.id).collect();
    let grants = rows::grants_of(conn, &ids)?;
    let now = OffsetDateTime::now_utc();
    Ok(links
        .into_iter()
        .map(|(link, creator)| {
            let mine: Vec<_> = grants.iter().filter(|g| g.invitation_id == link.id).cloned().collect();
            let url = token_of(ctx.tokens, &link)
                .filter(|_| access.role.may_invite_as(link.role))
                .map(|t| ctx.links.absolute(&format!("/join/{}", t.as_str())));
            LinkView {
                state: state_of(&link, now),
                brings: describe_grants(&mine),
                url: url.unwrap_or_default(),
                creator,
                link,
            }
        })
        .collect())
}

/// Who manages links: the Owner and Admins (and API keys with their role).
fn require_manager(access: &OrgAccess) -> Result<(), AppError> {
    if access.role.can(Permission::ManageMembers) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("Only the Owner and Admins of {} manage invite links.", access.org.name)))
    }
}

/// Refuses a link of `role` to someone who may not invite as it.
fn require_role(access: &OrgAccess, role: Role) -> Result<(), AppError> {
    if access.role.may_invite_as(role) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "Only the Owner makes and manages invite links that let people in as {}.",
            role.label()
        )))
    }
}

/// The `Invite links` page: the viewer and `limit + 1` links, newest first.
pub struct LinksPage {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub links: Vec<LinkView>,
    pub seats: SeatUsage,
}

/// The organization's links for their page, newest first after the cursor.
pub fn links_page(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    slug: &Slug,
    user: UserId,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<LinksPage, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    require_manager(&access)?;
    let found = rows::list(conn, access.org.org_id(), after, limit + 1)?;
    let links = views(conn, ctx, &access, found)?;
    let seats = seat_usage(conn, access.org.org_id(), access.org.seat_limit)?;
    Ok(LinksPage { viewer, access, links, seats })
}

/// The organization's links for the JSON API, newest first (`limit + 1`).
pub fn list(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    slug: &Slug,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<LinkView>, AppError> {
    let access = access::acting(conn, slug, actor)?;
    require_manager(&access)?;
    let found = rows::list(conn, access.org.org_id(), after, limit + 1)?;
    views(conn, ctx, &access, found)
}

/// A link's settings as asked for (each already read from its field, or why not).
pub struct LinkRequest {
    pub label: Result<String, String>,
    pub role: Role,
    pub brings: Brings,
    pub lifetime: Result<time::Duration, String>,
    pub max_uses: Result<Option<i32>, String>,
    pub allowed_domains: Result<Vec<String>, String>,
    pub requires_approval: bool,
}

/// The form's roles and whether it offers teams and projects, for the viewer.
pub struct LinkForm {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub roles: Vec<Role>,
    pub chosen_teams: Vec<crate::db::teams::Team>,
    pub chosen_projects: Vec<(crate::db::projects::Project, crate::domain::AccessLevel)>,
}

/// What the `Create invite link` form needs, with the teams and projects chosen so far.
pub fn link_form(conn: &mut PgConnection, slug: &Slug, user: UserId, chosen: &Brings) -> Result<LinkForm, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    require_manager(&access)?;
    let org = access.org.org_id();
    let chosen_teams = crate::db::teams::find_many(conn, org, &chosen.teams)?;
    let ids: Vec<Uuid> = chosen.projects.iter().map(|(id, _)| *id).collect();
    let chosen_projects = crate::db::projects::find_many(conn, org, &ids)?
        .into_iter()
        .filter_map(|p| chosen.projects.iter().find(|(id, _)| *id == p.id).map(|(_, level)| (p, *level)))
        .collect();
    let roles = access.role.invitable_roles();
    Ok(LinkForm { viewer, access, roles, chosen_teams, chosen_projects })
}

/// `Create invite link`: a new link with its settings; returns it.
pub fn create(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    slug: &Slug,
    request: LinkRequest,
) -> Result<LinkView, AppError> {
    let mut errors = FormErrors::new();
    let label = errors.check("label", request.label);
    let lifetime = errors.check("expires", request.lifetime);
    let max_uses = errors.check("max_uses", request.max_uses);
    let domains = errors.check("allowed_domains", request.allowed_domains);
    let (Some(label), Some(lifetime), Some(max_uses), Some(domains)) = (label, lifetime, max_uses, domains) else {
        return Err(AppError::Invalid(errors));
    };
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_manager(&access)?;
        require_role(&access, request.role)?;
        let brought = allowed_brings(conn, &access, request.role, &request.brings)?;
        let nonce = TokenKey::new_nonce();
        let token = ctx.tokens.token(&nonce);
        let new = NewLink {
            label: &label,
            role: request.role,
            expires_at: OffsetDateTime::now_utc() + lifetime,
            max_uses,
            allowed_domains: &domains,
            requires_approval: request.requires_approval,
        };
        let by = access.user().map(|u| u.id);
        let link = rows::insert(conn, access.org.org_id(), by, &new, &nonce, &token.hash())?;
        rows::insert_grants(conn, access.org.org_id(), link.id, &brought)?;
        let event = Event::InviteLinkCreated {
            link: link.id,
            name: name_of(&link),
            role: link.role,
            expires_at: link.expires_at,
            max_uses: link.max_uses,
            allowed_domains: link.allowed_domains.clone(),
            requires_approval: link.requires_approval,
        };
        actor.record(conn, &access, &[event])?;
        let creator = access.user().map(|u| u.name.clone());
        Ok(views(conn, ctx, &access, vec![(link, creator)])?.remove(0))
    })
}

/// One link and who used it, for its page.
pub struct LinkPage {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub link: LinkView,
    /// Who used it, newest first.
    pub uses: Vec<LinkUse>,
    /// Whether the viewer may disable and regenerate it (an Admin link is the Owner's).
    pub manages: bool,
}

/// The page of one link.
pub fn link_page(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    slug: &Slug,
    user: UserId,
    id: Uuid,
) -> Result<LinkPage, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    require_manager(&access)?;
    let link = rows::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    let creator = match link.created_by {
        Some(by) => users::find(conn, UserId(by))?.map(|u| u.name),
        None => None,
    };
    let uses = rows::uses_of(conn, link.id, 200)?;
    let manages = access.role.may_invite_as(link.role);
    let link = views(conn, ctx, &access, vec![(link, creator)])?.remove(0);
    Ok(LinkPage { viewer, access, link, uses, manages })
}

/// The actor's access and the organization's link `id`, locked, if they may manage
/// it (an Admin link is the Owner's).
fn managed(conn: &mut PgConnection, actor: &Actor, slug: &Slug, id: Uuid) -> Result<(OrgAccess, InviteLink), AppError> {
    let access = access::acting(conn, slug, actor)?;
    require_manager(&access)?;
    let link = rows::lock_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    require_role(&access, link.role)?;
    Ok((access, link))
}

/// `Disable`: the link stops working at once. Returns it.
pub fn disable(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
) -> Result<LinkView, AppError> {
    conn.transaction(|conn| {
        let (access, link) = managed(conn, actor, slug, id)?;
        if rows::disable(conn, link.id, access.user().map(|u| u.id))? == 1 {
            actor.record(conn, &access, &[Event::InviteLinkDisabled { link: link.id, name: name_of(&link) }])?;
        }
        let link = rows::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
        Ok(views(conn, ctx, &access, vec![(link, None)])?.remove(0))
    })
}

/// `Regenerate`: the link gets a new token; the old URL stops working at once.
pub fn regenerate(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
) -> Result<LinkView, AppError> {
    conn.transaction(|conn| {
        let (access, link) = managed(conn, actor, slug, id)?;
        if link.disabled_at.is_some() {
            return Err(AppError::Conflict("This link is disabled: create a new one instead.".into()));
        }
        let nonce = TokenKey::new_nonce();
        rows::set_token(conn, link.id, &nonce, &ctx.tokens.token(&nonce).hash())?;
        actor.record(conn, &access, &[Event::InviteLinkRegenerated { link: link.id, name: name_of(&link) }])?;
        let link = rows::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
        Ok(views(conn, ctx, &access, vec![(link, None)])?.remove(0))
    })
}

/// A link as whoever opens it sees it.
#[derive(Debug, Clone)]
pub struct Opened {
    pub org_name: String,
    pub role: Role,
    pub brings: Vec<String>,
    pub state: LinkState,
    pub expires_at: OffsetDateTime,
    pub requires_approval: bool,
    pub allowed_domains: Vec<String>,
}

/// Counts a link that led nowhere against `network`, and refuses a network past its
/// limit (tokens cannot be tried out), as invitation links do.
fn guard(conn: &mut PgConnection, network: &str) -> Result<(), AppError> {
    super::rate_limit::refuse_if_reached(
        conn,
        super::rate_limit::LINK_MISSES_PER_NETWORK,
        network,
        "Too many links that lead nowhere were opened from your network.",
    )
}

/// The link behind `token`, found or counted as a miss.
fn find(conn: &mut PgConnection, network: &str, token: &Token) -> Result<InviteLink, AppError> {
    guard(conn, network)?;
    match rows::find_by_token_hash(conn, &token.hash())? {
        Some(link) => Ok(link),
        None => {
            super::rate_limit::check(conn, super::rate_limit::LINK_MISSES_PER_NETWORK, network)?;
            Err(AppError::NotFound)
        }
    }
}

/// What opening a link shows (GET), with whoever is signed in (for the header):
/// changes nothing but the count of misses.
pub fn open(
    conn: &mut PgConnection,
    network: &str,
    signed_in: Option<UserId>,
    token: &Token,
) -> Result<(Option<Viewer>, Opened), AppError> {
    let viewer = super::viewer::optional(conn, signed_in)?;
    let link = find(conn, network, token)?;
    let org = organizations::find_by_id(conn, OrgId(link.organization_id))?.ok_or(AppError::NotFound)?;
    let grants = rows::grants_of(conn, &[link.id])?;
    Ok((
        viewer,
        Opened {
            org_name: org.name,
            role: link.role,
            brings: describe_grants(&grants),
            state: state_of(&link, OffsetDateTime::now_utc()),
            expires_at: link.expires_at,
            requires_approval: link.requires_approval,
            allowed_domains: link.allowed_domains,
        },
    ))
}

/// What using a link did.
#[derive(Debug, Clone)]
pub enum Used {
    /// They joined, with what the link brings (and what was skipped, deleted meanwhile).
    Joined { org_name: String, org_slug: String, role: Role, joined: Vec<String> },
    /// The link requires approval: their request waits for the Owner and Admins.
    Requested { org_name: String },
    /// They were a member already: nothing changed.
    AlreadyMember { org_name: String, org_slug: String },
}

/// Refuses a link that does not work, saying why in words.
fn refuse_unless_active(link: &InviteLink, org: &Organization, now: OffsetDateTime) -> Result<(), AppError> {
    let why = match state_of(link, now) {
        LinkState::Active => return Ok(()),
        LinkState::Disabled => "was disabled".to_owned(),
        LinkState::Expired => format!("expired on {}", crate::domain::dates::day(link.expires_at)),
        LinkState::UsedUp => format!("has been used its {} times", link.max_uses.unwrap_or_default()),
    };
    Err(AppError::Conflict(format!(
        "This invite link to {} {why}. Ask an Owner or Admin of {} for a new one.",
        org.name, org.name
    )))
}

/// Joins (or, for a link that requires approval, asks to join) by the link behind
/// `token`, as the signed-in person `actor`. One transaction locks the organization,
/// then the link, and checks the link's state, the address's domain, the seats and the
/// uses left: concurrent uses of the last ones have exactly that many winners.
pub fn join(conn: &mut PgConnection, actor: &Actor, network: &str, token: &Token) -> Result<Used, AppError> {
    let user = actor.person()?;
    let found = find(conn, network, token)?;
    if found.requires_approval {
        super::rate_limit::refuse_if_reached(
            conn,
            super::rate_limit::JOIN_REQUESTS_PER_ACCOUNT,
            &user.0.to_string(),
            "You have asked to join organizations too often today.",
        )?;
    }
    let used = conn.transaction(|conn| {
        let org = organizations::lock(conn, OrgId(found.organization_id))?;
        let link = rows::lock_in_org(conn, org.org_id(), found.id)?.ok_or(AppError::NotFound)?;
        // Regenerated meanwhile: the token opened the link as it was.
        if link.token_hash != token.hash() {
            return Err(AppError::NotFound);
        }
        if memberships::find(conn, org.org_id(), user)?.is_some() {
            return Ok(Used::AlreadyMember { org_name: org.name, org_slug: org.slug });
        }
        refuse_unless_active(&link, &org, OffsetDateTime::now_utc())?;
        let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
        if !account.is_verified() {
            return Err(AppError::Forbidden(format!(
                "Verify your address ({}) first: the link from the email Roster sent you does it. Then open this invite link again.",
                account.email
            )));
        }
        if !address_allowed(&account.email, &link.allowed_domains) {
            return Err(AppError::Forbidden(format!(
                "This invite link is for addresses at {}; you are signed in as {}. Sign in with your address there, or ask an Owner or Admin of {} to invite you.",
                link.allowed_domains.join(", "),
                account.email,
                org.name
            )));
        }
        // Removed, left, or deleted by the identity provider: a shared link does not
        // bring them back; an invitation does.
        let gone = ["member.removed", "member.left", "member.deprovisioned", "member.expired"];
        if crate::db::audit::exists_any(conn, org.org_id(), &gone, &account.email)? {
            return Err(AppError::Forbidden(format!(
                "You were a member of {} before: ask one of its Owner or Admins to invite you again.",
                org.name
            )));
        }
        if super::domains::invitation_waits(conn, org.org_id(), &account)? {
            return Err(AppError::Conflict(format!(
                "An invitation to {} waits for you already: accept it on your Dashboard.",
                org.name
            )));
        }
        if rows::used_by(conn, link.id, user.0)? {
            return Err(AppError::Conflict(format!(
                "You have used this invite link already. Ask an Owner or Admin of {} if you need more.",
                org.name
            )));
        }
        // Whoever made the link hears of its uses while they may still hand it out;
        // otherwise the Owner does.
        let maker = match link.created_by {
            Some(maker) => memberships::find(conn, org.org_id(), UserId(maker))?
                .filter(|m| !m.is_suspended() && m.role.may_invite_as(link.role))
                .map(|_| maker),
            None => None,
        };
        let told = match maker {
            Some(maker) => Some(maker),
            None => memberships::owner_id(conn, org.org_id())?,
        };
        let uses = link.uses + 1;
        let used = |joined: bool| Event::InviteLinkUsed {
            link: link.id,
            name: name_of(&link),
            user: user.0,
            email: account.email.clone(),
            joined,
            uses,
            max_uses: link.max_uses,
            creator: told,
        };
        if link.requires_approval {
            let (_, asked) = super::join_requests::open_request(conn, &org, &account, None, Some(link.id))?;
            rows::record_use(conn, link.id, user.0, &account.name, &account.email, "requested")?;
            actor.record_in(conn, &org, Some(&account), &[asked, used(false)])?;
            return Ok(Used::Requested { org_name: org.name });
        }
        let usage = seat_usage(conn, org.org_id(), org.seat_limit)?;
        if usage.reserve(1).is_err() {
            return Err(AppError::Conflict(format!(
                "No seat is free in {} ({} of {} used). Ask an Owner or Admin of {} to free one.",
                org.name,
                usage.used(),
                usage.limit,
                org.name
            )));
        }
        // An invitation accepted this very moment may have made them a member.
        if !memberships::insert_if_absent(conn, org.org_id(), user, link.role)? {
            return Ok(Used::AlreadyMember { org_name: org.name, org_slug: org.slug });
        }
        let membership = memberships::find(conn, org.org_id(), user)?.ok_or(AppError::NotFound)?;
        let (joined, _) =
            apply_brought(conn, org.org_id(), membership.id, |conn| rows::grants_of(conn, &[link.id]))?;
        rows::record_use(conn, link.id, user.0, &account.name, &account.email, "joined")?;
        let mut events = vec![used(true)];
        events.extend(super::seats::alert_after_joining(conn, &org, &usage)?);
        actor.record_in(conn, &org, Some(&account), &events)?;
        Ok(Used::Joined { org_name: org.name, org_slug: org.slug, role: link.role, joined })
    })?;
    if let Used::Requested { .. } = used {
        super::rate_limit::check(conn, super::rate_limit::JOIN_REQUESTS_PER_ACCOUNT, &user.0.to_string())?;
    }
    Ok(used)
}
