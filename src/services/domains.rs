//! Verified domains (DESIGN.md §2.6): the Owner adds a domain, proves it with a
//! DNS TXT record, and people whose verified address is at exactly that domain
//! join as Member when they verify their address or sign in, seats permitting.
//!
//! The lookup itself is the caller's (`dns::Dns`, awaited): these use cases only
//! read what to look up and record what was found, each in its own transaction,
//! so no lookup ever runs inside one.

use diesel::prelude::*;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use crate::db::domains as rows;
pub use crate::db::domains::OrgDomain;
use crate::db::organizations::seat_usage;
use crate::db::{invitations, is_unique_violation, memberships, organizations, users};
use crate::domain::domains::{domain_of, record_value};
use crate::domain::event::EventKind;
use crate::domain::{
    DomainError, DomainName, DomainPolicy, EmailAddress, OrgId, Permission, Role, Slug, Token, UserId,
};
use crate::error::{AppError, FormErrors};

/// Refuses unless the viewer may manage domains (the Owner).
fn require_owner(access: &OrgAccess) -> Result<(), AppError> {
    if access.role.can(Permission::ManageSeatsAndDomains) {
        Ok(())
    } else {
        Err(AppError::Forbidden("Only the Owner manages the organization's verified domains.".into()))
    }
}

/// The organization's domains, for the Owner's Settings (empty for anyone else).
pub fn domains_of(conn: &mut PgConnection, access: &OrgAccess) -> Result<Vec<OrgDomain>, AppError> {
    if access.role.can(Permission::ManageSeatsAndDomains) {
        Ok(rows::list_of(conn, access.org.org_id())?)
    } else {
        Ok(Vec::new())
    }
}

fn field_error(message: impl ToString) -> AppError {
    let mut errors = FormErrors::new();
    errors.add("domain", message);
    AppError::Invalid(errors)
}

/// `Add domain` (the Owner): puts a domain on the list, unverified, with a token
/// for its TXT record.
pub fn add(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    domain: Result<DomainName, DomainError>,
) -> Result<OrgDomain, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_owner(&access)?;
        let domain = domain.map_err(field_error)?;
        if rows::verified_owner(conn, domain.as_str())?.is_some() {
            return Err(field_error(format!(
                "{} is verified by another organization already. Ask Roster's operator if that is wrong.",
                domain.as_str()
            )));
        }
        let token = Token::generate();
        let added = match rows::insert(conn, access.org.org_id(), &domain, &token.as_str()[..32]) {
            Err(e) if is_unique_violation(&e) => {
                return Err(field_error(format!("{} is already on the list.", domain.as_str())))
            }
            other => other?,
        };
        actor.record(conn, &access, &[Event::DomainAdded { domain: added.domain.clone() }])?;
        Ok(added)
    })
}

/// What `Verify` must look up: the record's name and the value it must hold.
pub struct Check {
    pub id: Uuid,
    pub domain: String,
    pub record_name: String,
    pub expected: String,
}

/// The lookup `Verify` makes for one of the organization's domains (the Owner).
pub fn check_for(conn: &mut PgConnection, slug: &Slug, user: UserId, id: Uuid) -> Result<Check, AppError> {
    let access = access::member_of(conn, slug, user)?;
    require_owner(&access)?;
    let found = rows::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    let domain = DomainName::from_db(&found.domain);
    Ok(Check { id, record_name: domain.record_name(), expected: record_value(&found.token), domain: found.domain })
}

/// What a `Verify` found.
pub enum Verified {
    Yes,
    /// Not verified, with why in words.
    No(String),
}

/// Records what `Verify` found at the domain's TXT record (`Err`: the lookup
/// failed): the domain is verified when one string is the expected value.
pub fn record_check(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    check: &Check,
    found: Result<Vec<String>, String>,
) -> Result<Verified, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_owner(&access)?;
        let current = rows::find_in_org(conn, access.org.org_id(), check.id)?.ok_or(AppError::NotFound)?;
        let problem = match &found {
            Err(reason) => {
                Some(format!("The lookup of {} failed: {reason}. Try again in a minute.", check.record_name))
            }
            Ok(values) if values.iter().any(|v| v.trim() == check.expected) => None,
            Ok(values) if values.is_empty() => Some(format!(
                "No TXT record was found at {}. DNS changes can take a while to appear; try again later.",
                check.record_name
            )),
            Ok(_) => Some(format!(
                "{} has TXT records, but none holds {}. Check the value, then try again.",
                check.record_name, check.expected
            )),
        };
        if let Some(problem) = problem {
            rows::mark_failed(conn, current.id, &problem)?;
            return Ok(Verified::No(problem));
        }
        if current.verified_at.is_some() {
            return Ok(Verified::Yes);
        }
        if rows::verified_owner(conn, &current.domain)?.is_some_and(|org| org != access.org.id) {
            let problem = format!(
                "{} is verified by another organization already. Ask Roster's operator if that is wrong.",
                current.domain
            );
            rows::mark_failed(conn, current.id, &problem)?;
            return Ok(Verified::No(problem));
        }
        rows::mark_verified(conn, current.id)?;
        actor.record(conn, &access, &[Event::DomainVerified { domain: current.domain.clone() }])?;
        Ok(Verified::Yes)
    })
}

/// The `Remove` confirmation of a domain, for the Owner: the viewer and the domain's name.
pub fn removal(
    conn: &mut PgConnection,
    slug: &Slug,
    user: crate::domain::UserId,
    id: Uuid,
) -> Result<(super::viewer::Viewer, String), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    require_owner(&access)?;
    let found = rows::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    Ok((viewer, found.domain))
}

/// Takes a domain off the list (the Owner); people at it no longer join by it.
pub fn remove(conn: &mut PgConnection, actor: &Actor, slug: &Slug, id: Uuid) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_owner(&access)?;
        let found = rows::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
        rows::delete(conn, found.id)?;
        let event = Event::DomainRemoved { domain: found.domain.clone(), was_verified: found.verified_at.is_some() };
        actor.record(conn, &access, &[event])?;
        Ok(found.domain)
    })
}

/// Someone a verified domain may let in: their account and address, and the domain.
pub(crate) struct Eligible {
    pub(crate) account: users::User,
    pub(crate) domain: OrgDomain,
}

/// Whether `user` may join through a verified domain: their address is verified
/// and at exactly that domain, they are not a member, were never removed from the
/// organization and did not leave it (an invitation brings them back), and no open
/// invitation waits for them there (its seat is theirs already). None of it locks.
pub(crate) fn eligible(conn: &mut PgConnection, user: UserId) -> Result<Option<Eligible>, AppError> {
    let Some(account) = users::find(conn, user)? else { return Ok(None) };
    let found = prospects(conn, user, &account.email, account.is_verified())?;
    Ok(open_to_join(found.candidate).map(|candidate| Eligible { account, domain: candidate.domain }))
}

/// Removed, left, or deleted by the identity provider: they do not come back by themselves.
const GONE: [EventKind; 3] = [EventKind::MemberRemoved, EventKind::MemberLeft, EventKind::MemberDeprovisioned];

/// What the account `user` (its address `email`, verified or not) could join: its
/// open requests, and the verified domain its address is at (none unless verified),
/// in one statement.
pub(crate) fn prospects(
    conn: &mut PgConnection,
    user: UserId,
    email: &str,
    verified: bool,
) -> Result<rows::Prospects, AppError> {
    let address = EmailAddress::parse(email).ok().filter(|_| verified);
    let at = address.as_ref().and_then(|a| domain_of(a.canonical()));
    let key = address.as_ref().map(|a| a.canonical().to_owned()).unwrap_or_default();
    Ok(rows::prospects(conn, user.0, at.as_deref(), email, &key, &GONE)?)
}

/// The candidate domain, if it may let its person in: they are not a member, were
/// never removed and did not leave, and no open invitation waits for them there.
fn open_to_join(candidate: Option<rows::Candidate>) -> Option<rows::Candidate> {
    candidate.filter(|c| !c.member && !c.gone && !c.invited)
}

/// Whether a pending, unexpired invitation to `account`'s address waits in the
/// organization: it holds a seat for them, so they join by it, not a second way.
pub(crate) fn invitation_waits(conn: &mut PgConnection, org: OrgId, account: &users::User) -> Result<bool, AppError> {
    let Ok(address) = EmailAddress::parse(&account.email) else { return Ok(false) };
    let keys = [address.canonical().to_owned()];
    Ok(invitations::pending_for_emails(conn, org, &keys)?
        .into_iter()
        .any(|(i, _)| i.status_now() == crate::domain::InvitationStatus::Pending))
}

/// Lets an eligible person in as Member, under the organization's lock with the
/// same seat check as invitations (so parallel joins never exceed the limit).
/// Without a free seat nobody joins and the Owner and Admins are told, at most
/// once a day per person; `Err` then says so with the numbers.
fn join_locked(conn: &mut PgConnection, who: Eligible) -> Result<Result<(String, String), String>, AppError> {
    let Eligible { account, domain } = who;
    let org = organizations::lock(conn, OrgId(domain.organization_id))?;
    let user = account.user_id();
    let actor = Actor::new(user, None);
    let usage = seat_usage(conn, org.org_id(), org.seat_limit)?;
    if usage.reserve(1).is_err() {
        let since = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        if !crate::db::audit::exists_since(conn, org.org_id(), "member.domain_join_refused", &account.email, since)? {
            let event = Event::DomainJoinRefused {
                organization: org.id,
                email: account.email.clone(),
                domain: domain.domain.clone(),
                used: usage.used(),
                limit: usage.limit,
                admins: memberships::admins_of(conn, org.org_id())?,
            };
            actor.record_in(conn, &org, Some(&account), &[event])?;
        }
        return Ok(Err(format!(
            "No seat is free in {} ({} of {} used); its Owner and Admins have been told.",
            org.name,
            usage.used(),
            usage.limit
        )));
    }
    // An invitation accepted in the same moment made them a member: nothing to do.
    if !memberships::insert_if_absent(conn, org.org_id(), user, Role::Member)? {
        return Ok(Ok((org.name, org.slug)));
    }
    let membership = memberships::find(conn, org.org_id(), user)?.ok_or(AppError::NotFound)?;
    let event = Event::MemberJoinedViaDomain {
        membership: membership.id,
        user: user.0,
        email: account.email.clone(),
        domain: domain.domain.clone(),
    };
    let mut events = vec![event];
    events.extend(super::seats::alert_after_joining(conn, &org, &usage)?);
    actor.record_in(conn, &org, Some(&account), &events)?;
    Ok(Ok((org.name, org.slug)))
}

/// Joins `user` as Member to the organization whose verified domain (policy
/// `Auto-join`) their address is at, if they are [eligible](eligible) and a seat
/// is free. Runs after sign-in and after an address is verified, in a
/// transaction of its own. Returns the organization's name when they joined.
pub fn join_by_domain(conn: &mut PgConnection, user: UserId) -> Result<Option<String>, AppError> {
    Ok(try_joining_by_domain(conn, user)?.and_then(|joined| joined.ok()))
}

/// [`join_by_domain`], saying what happened when it was tried: `Ok` with the
/// organization's name, or `Err` with the sentence that says no seat is free.
fn try_joining_by_domain(conn: &mut PgConnection, user: UserId) -> Result<Option<Result<String, String>>, AppError> {
    conn.transaction(|conn| {
        let Some(who) = eligible(conn, user)? else { return Ok(None) };
        if who.domain.policy != DomainPolicy::AutoJoin {
            return Ok(None);
        }
        Ok(Some(join_locked(conn, who)?.map(|(name, _)| name)))
    })
}

/// An organization offering `user` to join through its domain: `Join` (policy
/// `Suggest`) or `Ask to join` (policy `Request`).
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub domain_id: Uuid,
    pub domain: String,
    pub org_name: String,
    pub organization: Uuid,
    pub policy: DomainPolicy,
}

/// The offer a candidate domain makes (none for `Auto-join`, which happens by itself).
pub(crate) fn offer_in(candidate: Option<rows::Candidate>) -> Option<Suggestion> {
    let candidate = open_to_join(candidate)?;
    if candidate.domain.policy == DomainPolicy::AutoJoin {
        return None;
    }
    Some(Suggestion {
        domain_id: candidate.domain.id,
        domain: candidate.domain.domain,
        org_name: candidate.org_name,
        organization: candidate.domain.organization_id,
        policy: candidate.domain.policy,
    })
}

/// The `Join` a candidate domain offers (a `Suggest` policy), if any.
pub(crate) fn suggestion_in(candidate: Option<rows::Candidate>) -> Option<Suggestion> {
    offer_in(candidate).filter(|offer| offer.policy == DomainPolicy::Suggest)
}

/// `Join` from a suggestion: returns the organization's name and URL name.
pub fn join_suggested(conn: &mut PgConnection, user: UserId, domain_id: Uuid) -> Result<(String, String), AppError> {
    conn.transaction(|conn| {
        let who = eligible(conn, user)?
            .filter(|who| who.domain.id == domain_id && who.domain.policy == DomainPolicy::Suggest)
            .ok_or(AppError::NotFound)?;
        match join_locked(conn, who)? {
            Ok(joined) => Ok(joined),
            Err(no_seat) => Err(AppError::Conflict(no_seat)),
        }
    })
}

/// Sets what a verified domain does for the people at it (the Owner).
pub fn set_policy(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    policy: DomainPolicy,
) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_owner(&access)?;
        let found = rows::find_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
        if found.policy != policy {
            rows::set_policy(conn, found.id, policy)?;
            let event = Event::DomainPolicyChanged { domain: found.domain.clone(), from: found.policy, to: policy };
            actor.record(conn, &access, &[event])?;
        }
        Ok(found.domain)
    })
}

/// [`join_by_domain`] after a sign-in or a verification that has already
/// succeeded: a failure here is logged, never the person's failure to sign in.
/// Returns the sentence to tell them when no seat was free.
pub fn join_by_domain_after(conn: &mut PgConnection, user: UserId) -> Option<String> {
    match try_joining_by_domain(conn, user) {
        Ok(Some(Err(no_seat))) => Some(no_seat),
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(user = %user.0, error = ?error, "joining through a verified domain failed");
            None
        }
    }
}

/// How often a verified domain's record is looked up again.
pub const RECHECK_EVERY: time::Duration = time::Duration::days(1);
/// How long a verified domain's record may be missing before it stops counting.
pub const GRACE: time::Duration = time::Duration::days(3);
/// The job kind of a re-check.
pub const RECHECK_JOB: &str = "domain_recheck";

/// Queues a re-check job for each verified domain not checked for [`RECHECK_EVERY`]
/// (at most `limit` at a time); returns how many.
pub fn schedule_rechecks(conn: &mut PgConnection, limit: i64) -> Result<usize, AppError> {
    conn.transaction(|conn| {
        let before = time::OffsetDateTime::now_utc() - RECHECK_EVERY;
        let due = rows::claim_due_rechecks(conn, before, limit)?;
        let payloads: Vec<serde_json::Value> = due.iter().map(|id| serde_json::json!({ "domain": id })).collect();
        Ok(crate::db::jobs::enqueue_many(conn, RECHECK_JOB, &payloads)?)
    })
}

/// Schedules re-checks every ten minutes, for as long as the process runs.
pub async fn schedule_rechecks_forever(db: crate::db::Db) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        match db.run(|conn| schedule_rechecks(conn, 500)).await {
            Ok(0) => {}
            Ok(queued) => tracing::info!(queued, "domain re-checks queued"),
            Err(error) => tracing::warn!(%error, "domain re-checks could not be queued"),
        }
    }
}

/// Records what a re-check of a verified domain found: the record present keeps
/// it verified; missing, it is remembered since when, and after [`GRACE`] the
/// domain stops counting as verified and the Owner is told.
pub fn record_recheck(conn: &mut PgConnection, id: Uuid, found: Result<Vec<String>, String>) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let Some(domain) = rows::lock(conn, id)? else { return Ok(()) };
        if domain.verified_at.is_none() {
            return Ok(());
        }
        let name = DomainName::from_db(&domain.domain);
        let expected = record_value(&domain.token);
        let problem = match &found {
            // A lookup that got no answer says nothing about the record: try again later.
            Err(reason) => {
                return Err(AppError::internal(anyhow::anyhow!("lookup of {}: {reason}", name.record_name())))
            }
            Ok(values) if values.iter().any(|v| v.trim() == expected) => None,
            Ok(_) => Some(format!("The TXT record at {} no longer holds {expected}.", name.record_name())),
        };
        let Some(problem) = problem else {
            rows::recheck_passed(conn, id)?;
            return Ok(());
        };
        let now = time::OffsetDateTime::now_utc();
        let since = domain.failing_since.unwrap_or(now);
        if now - since < GRACE {
            rows::recheck_failed(conn, id, since, &problem)?;
            return Ok(());
        }
        rows::unverify(conn, id, &problem)?;
        let org = organizations::find_by_id(conn, OrgId(domain.organization_id))?.ok_or(AppError::NotFound)?;
        let owner = memberships::owner_id(conn, org.org_id())?;
        let event = Event::DomainUnverified { organization: org.id, domain: domain.domain.clone(), owner };
        super::events::record_by_operator(conn, &org, "re-check", &[event])?;
        Ok(())
    })
}

/// The name whose TXT record a re-check of domain `id` looks up; `None` when the
/// domain is gone.
pub fn record_name_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<String>> {
    Ok(rows::find(conn, id)?.map(|domain| DomainName::from_db(&domain.domain).record_name()))
}
