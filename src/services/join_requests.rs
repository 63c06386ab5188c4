//! Join requests (DESIGN.md §2.12): people at a verified domain whose policy is
//! `Request` ask to join; the Owner and Admins answer every request from one queue
//! (`Members → Requests`, the bell). Approving takes a seat under the organization's
//! lock, as an invitation does; a request that finds no seat waits, and the Owner is
//! told once seats free up.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use super::viewer::Viewer;
use crate::db::join_requests::{self as rows, JoinRequest, Queued};
use crate::db::organizations::{seat_usage, Organization};
use crate::db::{is_unique_violation, memberships, notifications, organizations, teams as team_rows, users};
use crate::domain::join_request::RequestStatus;
use crate::domain::{DomainPolicy, EmailAddress, OrgId, Permission, Role, SeatUsage, Slug, TeamRole, UserId};
use crate::error::{AppError, FormErrors};

/// The kind of the bell items that tell the Owner and Admins of a request.
const CREATED: &str = "join_request.created";

/// A request of the viewer's own that waits for an answer.
#[derive(Debug, Clone)]
pub struct Mine {
    pub id: Uuid,
    pub organization: Uuid,
    pub org_name: String,
    pub asked_at: OffsetDateTime,
}

impl From<crate::db::domains::OpenRequest> for Mine {
    fn from(request: crate::db::domains::OpenRequest) -> Self {
        Mine {
            id: request.id,
            organization: request.organization,
            org_name: request.org_name,
            asked_at: request.asked_at,
        }
    }
}

/// The Owner and Admins, who answer requests.
fn answerers(conn: &mut PgConnection, org: OrgId) -> Result<Vec<Uuid>, AppError> {
    let mut ids = memberships::admins_of(conn, org)?;
    if let Some(owner) = memberships::owner_id(conn, org)? {
        if !ids.contains(&owner) {
            ids.push(owner);
        }
    }
    Ok(ids)
}

/// Records `account`'s open request to the locked organization `org` (made through
/// the invite link `via`, if any); returns it with the event that tells the Owner and
/// Admins, for the caller to record under whoever acted. A second open request is
/// refused with a sentence. A request that finds no seat for it (the older ones
/// first) waits, and the sweep tells the Owner when seats free up.
pub(crate) fn open_request(
    conn: &mut PgConnection,
    org: &Organization,
    account: &users::User,
    note: Option<&str>,
    via: Option<Uuid>,
) -> Result<(JoinRequest, Event), AppError> {
    let request = match rows::insert(conn, org.org_id(), account.user_id(), &account.email, note, via) {
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::Conflict(format!(
                "{} has asked to join {} already; the request waits for an answer.",
                account.email, org.name
            )))
        }
        other => other?,
    };
    let usage = seat_usage(conn, org.org_id(), org.seat_limit)?;
    let older = rows::open_before(conn, org.org_id(), request.created_at, request.id, false)?;
    let waiting = older >= usage.available();
    if waiting {
        rows::mark_waiting(conn, org.org_id(), true)?;
    }
    let event = Event::JoinRequestCreated {
        request: request.id,
        user: account.id,
        email: account.email.clone(),
        name: account.name.clone(),
        note: request.note.clone(),
        waiting,
        admins: answerers(conn, org.org_id())?,
    };
    Ok((request, event))
}

/// `Ask to join` from the Dashboard: the person acting asks the organization that
/// verified the domain `domain_id` of their address (policy `Request`), with an
/// optional note. Returns the organization's name. Rate-limited per person.
pub fn ask(
    conn: &mut PgConnection,
    actor: &Actor,
    domain_id: Uuid,
    note: Result<Option<String>, String>,
) -> Result<String, AppError> {
    let user = actor.person()?;
    let note = note.map_err(|message| AppError::Invalid(FormErrors::field("note", message)))?;
    super::rate_limit::refuse_if_reached(
        conn,
        super::rate_limit::JOIN_REQUESTS_PER_ACCOUNT,
        &user.0.to_string(),
        "You have asked to join organizations too often today.",
    )?;
    let name = conn.transaction(|conn| {
        let who = super::domains::eligible(conn, user)?
            .filter(|who| who.domain.id == domain_id && who.domain.policy == DomainPolicy::Request)
            .ok_or(AppError::NotFound)?;
        let org = organizations::lock(conn, OrgId(who.domain.organization_id))?;
        let (_, event) = open_request(conn, &org, &who.account, note.as_deref(), None)?;
        actor.record_in(conn, &org, Some(&who.account), &[event])?;
        Ok::<_, AppError>(org.name)
    })?;
    super::rate_limit::check(conn, super::rate_limit::JOIN_REQUESTS_PER_ACCOUNT, &user.0.to_string())?;
    Ok(name)
}

/// `POST /join-requests` of the JSON API (an intake form, a help desk): puts a
/// request into the queue for the person whose verified address is `email`, if they
/// could ask themselves — an account at a verified domain of this organization whose
/// policy is `Request`, not a member, never removed. Whether anyone was found is not
/// said (an address's account stays unknown to the caller); the request, recorded
/// under the key, shows in the queue and on the person's Dashboard, where they may
/// withdraw it.
pub fn create_for(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    email: &EmailAddress,
    note: Result<Option<String>, String>,
) -> Result<(), AppError> {
    let note = note.map_err(|message| AppError::Invalid(FormErrors::field("note", message)))?;
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_answerer(&access)?;
        let org = organizations::lock(conn, access.org.org_id())?;
        let Some(account) = users::find_by_email(conn, email)? else { return Ok(()) };
        let who = super::domains::eligible(conn, account.user_id())?
            .filter(|who| who.domain.organization_id == org.id && who.domain.policy == DomainPolicy::Request);
        let Some(who) = who else { return Ok(()) };
        if rows::open_of(conn, org.org_id(), who.account.user_id())?.is_some() {
            return Ok(()); // asked already: the queue has it
        }
        match open_request(conn, &org, &who.account, note.as_deref(), None) {
            Ok((_, event)) => actor.record(conn, &access, &[event]),
            // Asked already: the queue has it.
            Err(AppError::Conflict(_)) => Ok(()),
            Err(other) => Err(other),
        }
    })
}

/// Takes back the person's own open request; returns the organization's name.
pub fn withdraw(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<String, AppError> {
    let user = actor.person()?;
    conn.transaction(|conn| {
        let mine = rows::open_by(conn, user)?.into_iter().find(|(r, _)| r.id == id);
        let Some((request, _)) = mine else {
            return Err(AppError::Conflict("This request has been answered or withdrawn already.".into()));
        };
        let org = organizations::lock(conn, OrgId(request.organization_id))?;
        if !rows::decide(conn, request.id, RequestStatus::Withdrawn, Some(user), None, None)? {
            return Err(AppError::Conflict(format!("Your request to join {} has been answered already.", org.name)));
        }
        notifications::forget_about(conn, CREATED, request.id)?;
        let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
        let event = Event::JoinRequestWithdrawn { request: request.id, user: user.0, email: request.email.clone() };
        actor.record_in(conn, &org, Some(&account), &[event])?;
        Ok(org.name)
    })
}

/// A request as the queue shows it: the request, the asker's name, and whether it
/// waits for a seat (it is past the seats free, oldest first).
#[derive(Debug, Clone)]
pub struct QueuedRequest {
    pub request: JoinRequest,
    pub name: String,
    pub waits_for_seat: bool,
}

impl QueuedRequest {
    /// `position`: how many open requests are older (the oldest get the free seats).
    fn new((request, name): Queued, usage: &SeatUsage, position: i64) -> Self {
        let waits_for_seat = request.status == RequestStatus::Open && position >= usage.available();
        QueuedRequest { request, name, waits_for_seat }
    }
}

/// The `Requests` queue of an organization.
pub struct Queue {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub seats: SeatUsage,
    /// Open requests, oldest first: `limit + 1` after the cursor.
    pub requests: Vec<QueuedRequest>,
    /// How many are open in all.
    pub open: i64,
}

/// Who answers requests: the Owner and Admins (API keys with their role).
fn require_answerer(access: &OrgAccess) -> Result<(), AppError> {
    if access.role.can(Permission::ManageMembers) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("Only the Owner and Admins of {} answer requests to join.", access.org.name)))
    }
}

/// Open requests oldest first after the cursor (`limit + 1`), each marked whether it
/// waits for a seat (the free seats go to the oldest).
fn queued(
    conn: &mut PgConnection,
    org: OrgId,
    seats: &SeatUsage,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<QueuedRequest>, AppError> {
    let position = match after {
        Some((at, id)) => rows::open_before(conn, org, at, id, true)?,
        None => 0,
    };
    let found = rows::queue(conn, org, after, limit + 1)?;
    Ok(found.into_iter().enumerate().map(|(i, q)| QueuedRequest::new(q, seats, position + i as i64)).collect())
}

/// The queue for its page: open requests oldest first after the cursor.
pub fn queue(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Queue, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    require_answerer(&access)?;
    let seats = seat_usage(conn, access.org.org_id(), access.org.seat_limit)?;
    let requests = queued(conn, access.org.org_id(), &seats, after, limit)?;
    let open = i64::from(access.org.open_join_requests);
    Ok(Queue { viewer, access, seats, requests, open })
}

/// The open requests for the JSON API, oldest first after the cursor (`limit + 1`).
pub fn list(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<QueuedRequest>, AppError> {
    let access = access::acting(conn, slug, actor)?;
    require_answerer(&access)?;
    let seats = seat_usage(conn, access.org.org_id(), access.org.seat_limit)?;
    queued(conn, access.org.org_id(), &seats, after, limit)
}

/// One request, for its page: `Approve` with a role and teams, or `Deny` with a reason.
pub struct RequestPage {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub request: QueuedRequest,
    /// The roles the viewer may give.
    pub roles: Vec<Role>,
    pub seats: SeatUsage,
    /// Who answered it, when it has been answered.
    pub answered_by: Option<String>,
    /// The teams chosen so far in the `Approve` form (a search without JavaScript
    /// sends the form back), with their names.
    pub chosen_teams: Vec<crate::db::teams::Team>,
    /// The invite link it came through, if any: its label and what approving brings
    /// with it, in words.
    pub via_link: Option<(String, Vec<String>)>,
}

/// A request of the organization, for its page (answered ones too: a link in the
/// bell may be older than the answer).
pub fn request_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    id: Uuid,
    chosen: &[Uuid],
) -> Result<RequestPage, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    require_answerer(&access)?;
    let found = rows::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    let seats = seat_usage(conn, access.org.org_id(), access.org.seat_limit)?;
    let answered_by = match found.0.decided_by {
        Some(by) => users::find(conn, UserId(by))?.map(|u| u.name),
        None => None,
    };
    // Its place in the queue decides whether a seat is left for it.
    let older = match found.0.status {
        RequestStatus::Open => rows::open_before(conn, access.org.org_id(), found.0.created_at, found.0.id, false)?,
        _ => 0,
    };
    let roles = access.role.invitable_roles();
    let chosen_teams = team_rows::find_many(conn, access.org.org_id(), chosen)?;
    let via_link = match found.0.invite_link_id {
        Some(id) => match crate::db::invite_links::find_in_org(conn, access.org.org_id(), id)? {
            Some(link) => {
                let grants = crate::db::invite_links::grants_of(conn, &[id])?;
                Some((link.label, super::invitations::describe_grants(&grants)))
            }
            None => None,
        },
        None => None,
    };
    Ok(RequestPage {
        via_link,
        request: QueuedRequest::new(found, &seats, older),
        roles,
        seats,
        answered_by,
        chosen_teams,
        viewer,
        access,
    })
}

/// What an approval did.
#[derive(Debug, Clone)]
pub struct Approved {
    pub request: Uuid,
    pub membership: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// The teams they joined, by name.
    pub teams: Vec<String>,
}

/// How an approval ended, inside its transaction.
enum Admission {
    Approved(Approved),
    /// No seat is free: nothing changed.
    NoSeat(SeatUsage),
    /// They were a member already (an invitation accepted meanwhile): the request is
    /// closed as `joined`, with the sentence that says so.
    Closed(String),
}

/// `Approve`: the person joins as `role` (within what the approver may grant) and
/// joins `teams` as Member, if a seat is free; otherwise nothing changes and the
/// request waits, said with the numbers.
pub fn approve(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    role: Role,
    teams: &[Uuid],
) -> Result<Approved, AppError> {
    let outcome = conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_answerer(&access)?;
        if !access.role.may_invite_as(role) {
            return Err(AppError::Invalid(FormErrors::field(
                "role",
                format!("Only the Owner can let someone in as {}.", role.label()),
            )));
        }
        let org = organizations::lock(conn, access.org.org_id())?;
        let request = rows::lock_in_org(conn, org.org_id(), id)?.ok_or(AppError::NotFound)?;
        still_open(conn, &request)?;
        let usage = seat_usage(conn, org.org_id(), org.seat_limit)?;
        if usage.reserve(1).is_err() {
            rows::mark_waiting(conn, org.org_id(), true)?;
            return Ok(Admission::NoSeat(usage));
        }
        admit(conn, actor, &access, &org, &request, role, teams, &usage)
    })?;
    match outcome {
        Admission::Approved(approved) => Ok(approved),
        Admission::Closed(message) => Err(AppError::Conflict(message)),
        Admission::NoSeat(usage) => Err(AppError::Conflict(format!(
            "No seat is free ({} of {} used), so the request waits. Free a seat (revoke a stale invitation, remove an inactive member) or raise the seat limit, then approve it.",
            usage.used(),
            usage.limit
        ))),
    }
}

/// Refuses, in words, a request that is no longer open.
fn still_open(conn: &mut PgConnection, request: &JoinRequest) -> Result<(), AppError> {
    if request.status == RequestStatus::Open {
        return Ok(());
    }
    let by = match request.decided_by {
        Some(by) => users::find(conn, UserId(by))?.map(|u| format!(" by {}", u.name)).unwrap_or_default(),
        None => String::new(),
    };
    Err(AppError::Conflict(match request.status {
        RequestStatus::Withdrawn => format!("{} withdrew this request.", request.email),
        RequestStatus::Joined => {
            format!(
                "{} has joined another way meanwhile (an invitation, their domain): nothing to answer.",
                request.email
            )
        }
        status => format!("{}’s request was {}{by} already.", request.email, status.label().to_lowercase()),
    }))
}

/// Lets the person of the locked, open `request` in (a seat is free: `usage`).
#[allow(clippy::too_many_arguments)]
fn admit(
    conn: &mut PgConnection,
    actor: &Actor,
    access: &OrgAccess,
    org: &Organization,
    request: &JoinRequest,
    role: Role,
    teams: &[Uuid],
    usage: &SeatUsage,
) -> Result<Admission, AppError> {
    let user = UserId(request.user_id);
    let account = users::find(conn, user)?.ok_or(AppError::NotFound)?;
    // Who joins is who asked: the address the queue shows, still verified.
    if !account.is_verified() || !account.email.eq_ignore_ascii_case(&request.email) {
        return Err(AppError::Conflict(format!(
            "{} has changed or not yet verified their address since asking ({} now): deny this request, and they can ask again.",
            request.email, account.email
        )));
    }
    team_rows::hold(conn, teams)?;
    let chosen = team_rows::find_many(conn, org.org_id(), teams)?;
    if chosen.len() != teams.len() {
        return Err(AppError::Invalid(FormErrors::field(
            "teams",
            "A team you chose is no longer there. Choose the teams again.",
        )));
    }
    if let Some(managed) = chosen.iter().find(|t| t.scim_managed) {
        return Err(AppError::Invalid(FormErrors::field(
            "teams",
            format!("{} is managed by your identity provider (SCIM): add people to it there.", managed.name),
        )));
    }
    if super::domains::invitation_waits(conn, org.org_id(), &account)? {
        return Err(AppError::Conflict(format!(
            "An invitation to {} waits for {}, holding a seat: they can accept it from their Dashboard. Deny this request, or revoke the invitation first.",
            org.name, request.email
        )));
    }
    if memberships::find(conn, org.org_id(), user)?.is_some() {
        // Joined another way while this answer held the request: closed as such.
        rows::decide(conn, request.id, RequestStatus::Joined, None, None, None)?;
        notifications::forget_about(conn, CREATED, request.id)?;
        return Ok(Admission::Closed(format!(
            "{} has joined another way meanwhile (an invitation, their domain): nothing to answer.",
            request.email
        )));
    }
    // Answered before the membership is made: making it closes whatever request of
    // theirs is still open there (migration 43), this one included otherwise.
    let by = actor.principal.person();
    rows::decide(conn, request.id, RequestStatus::Approved, by, Some(role), None)?;
    // An invitation accepted at this moment (it does not wait for the organization's
    // lock) may have made them a member: then nothing is approved.
    if !memberships::insert_if_absent(conn, org.org_id(), user, role)? {
        return Err(AppError::Conflict(format!(
            "{} has just become a member of {} another way.",
            request.email, org.name
        )));
    }
    let membership = memberships::find(conn, org.org_id(), user)?.ok_or(AppError::NotFound)?;
    for team in &chosen {
        team_rows::add(conn, org.org_id(), team.id, membership.id, TeamRole::Member)?;
    }
    // Asked through an invite link: what the link brings comes too.
    let (brought, _) = match request.invite_link_id {
        Some(link) => super::invitations::apply_brought(conn, org.org_id(), membership.id, |conn| {
            crate::db::invite_links::grants_of(conn, &[link])
        })?,
        None => (Vec::new(), Vec::new()),
    };
    notifications::forget_about(conn, CREATED, request.id)?;
    let team_names: Vec<String> = chosen.iter().map(|t| t.name.clone()).collect();
    let mut events = vec![Event::JoinRequestApproved {
        request: request.id,
        membership: membership.id,
        user: user.0,
        email: account.email.clone(),
        role,
        teams: team_names.iter().map(|name| format!("team {name}")).chain(brought).collect(),
    }];
    events.extend(super::seats::alert_after_joining(conn, org, usage)?);
    actor.record(conn, access, &events)?;
    Ok(Admission::Approved(Approved {
        request: request.id,
        membership: membership.id,
        name: account.name,
        email: account.email,
        role,
        teams: team_names,
    }))
}

/// What a denial did.
#[derive(Debug, Clone)]
pub struct Denied {
    pub request: Uuid,
    pub name: String,
    pub email: String,
}

/// `Deny`, with an optional reason the person is told.
pub fn deny(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    reason: Result<Option<String>, String>,
) -> Result<Denied, AppError> {
    let reason = reason.map_err(|message| AppError::Invalid(FormErrors::field("reason", message)))?;
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_answerer(&access)?;
        let org = organizations::lock(conn, access.org.org_id())?;
        let request = rows::lock_in_org(conn, org.org_id(), id)?.ok_or(AppError::NotFound)?;
        still_open(conn, &request)?;
        let by = actor.principal.person();
        rows::decide(conn, request.id, RequestStatus::Denied, by, None, reason.as_deref())?;
        notifications::forget_about(conn, CREATED, request.id)?;
        let event = Event::JoinRequestDenied {
            request: request.id,
            user: request.user_id,
            email: request.email.clone(),
            reason: reason.clone(),
        };
        actor.record(conn, &access, &[event])?;
        let name = users::find(conn, UserId(request.user_id))?.map(|u| u.name).unwrap_or_default();
        Ok(Denied { request: request.id, name, email: request.email })
    })
}

/// `Approve oldest N`: approves as Member, oldest first, at most `shown` open
/// requests (the N the button said) and no more than there are free seats, in one
/// transaction. Returns who joined.
pub fn approve_oldest(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    shown: i64,
) -> Result<Vec<Approved>, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_answerer(&access)?;
        let org = organizations::lock(conn, access.org.org_id())?;
        let mut usage = seat_usage(conn, org.org_id(), org.seat_limit)?;
        let free = usage.available();
        if free <= 0 {
            return Err(AppError::Conflict(format!(
                "No seat is free ({} of {} used): free a seat or raise the seat limit first.",
                usage.used(),
                usage.limit
            )));
        }
        let mut approved = Vec::new();
        for request in rows::lock_oldest(conn, org.org_id(), free.min(shown.max(0)))? {
            // Skipped, and left open: someone whose address changed since asking, or who
            // became a member this very moment.
            // Each in a savepoint: one refused leaves nothing half-written.
            match conn.transaction(|conn| admit(conn, actor, &access, &org, &request, Role::Member, &[], &usage)) {
                Ok(Admission::Approved(one)) => {
                    usage.members += 1;
                    approved.push(one);
                }
                Ok(Admission::NoSeat(_) | Admission::Closed(_)) | Err(AppError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        // Requests left open are told of when seats next free up.
        let left = rows::open_count(conn, org.org_id())?;
        rows::mark_waiting(conn, org.org_id(), left > 0)?;
        Ok(approved)
    })
}

/// Tells the Owner of each organization whose requests waited for a seat that seats
/// are free now (once per wait); returns how many were told. Part of Roster's sweep.
pub fn tell_when_seats_free(conn: &mut PgConnection, limit: i64) -> Result<usize, AppError> {
    let (mut told, mut after) = (0, None);
    loop {
        let batch = rows::lock_waiting(conn, after, limit)?;
        let Some(last) = batch.last() else { return Ok(told) };
        after = Some(last.id);
        told += tell_batch(conn, batch)?;
    }
}

/// [`tell_when_seats_free`] for one batch of locked organizations.
fn tell_batch(conn: &mut PgConnection, orgs: Vec<Organization>) -> Result<usize, AppError> {
    let mut told = 0;
    for org in orgs {
        let usage = seat_usage(conn, org.org_id(), org.seat_limit)?;
        let waiting = rows::open_count(conn, org.org_id())?;
        if waiting == 0 {
            rows::mark_waiting(conn, org.org_id(), false)?;
            continue;
        }
        if usage.available() <= 0 {
            continue;
        }
        rows::mark_waiting(conn, org.org_id(), false)?;
        let event = Event::JoinRequestSeatsFree {
            organization: org.id,
            org_name: org.name.clone(),
            waiting,
            free: usage.available(),
            owner: memberships::owner_id(conn, org.org_id())?,
        };
        Actor::system().record_in(conn, &org, None, &[event])?;
        told += 1;
    }
    Ok(told)
}
