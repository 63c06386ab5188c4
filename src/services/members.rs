//! Members: change a role, suspend and reactivate, remove a member, leave, resend a
//! member's verification email.

use diesel::prelude::*;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use super::impact::Seen;
use super::rate_limit;
use super::viewer::Viewer;
use crate::db::members::{self as rows, MemberQuery};
use crate::db::memberships::{self, Membership};
use crate::db::{email_tokens, outbox, users};
use crate::domain::permission::{may_leave, Parties};
use crate::domain::two_factor::TwoFactor;
use crate::domain::{Permission, Role, Slug, Token, UserId};
use crate::error::AppError;
use crate::mail::{messages, Links};

pub use crate::db::listing::Cursor;
pub use crate::db::members::{cursor_after, MemberRow, MemberSort, MemberStatus, TwoFactorFilter};

/// A row of the Members page with what the viewer may do to it: the server refuses
/// the rest, so the page offers only this.
#[derive(Debug, Clone)]
pub struct MemberEntry {
    pub row: MemberRow,
    /// Roles offered by `Change role` (empty: no control).
    pub role_choices: Vec<Role>,
    pub removable: bool,
    /// Whether the viewer may suspend the member, or reactivate them if suspended.
    pub can_suspend: bool,
    /// Whether the viewer (the Owner) may stop SCIM managing the member.
    pub can_stop_scim: bool,
    pub can_resend_verification: bool,
    /// For a pending invitation's row: whether the viewer may resend or revoke it.
    pub can_manage_invitation: bool,
    pub is_me: bool,
    /// Whether the viewer sees second factors (they manage members).
    pub shows_two_factor: bool,
    /// A member's second factor, for those who manage members (`None` for others,
    /// and for an invitation).
    pub two_factor: Option<TwoFactor>,
    /// Whether the viewer (the Owner) may reset the member's second factors: see
    /// `security::reset` (set by [`allow_resets`]).
    pub can_reset_two_factor: bool,
    /// Whether the viewer may set when the membership ends (`Set expiry`, `Extend`).
    pub can_set_expiry: bool,
    /// Whether the `Expires` column is shown: some member of the organization has a
    /// date (set by [`mark_expiries`]).
    pub shows_expires: bool,
}

impl MemberEntry {
    /// What `access` may do to `row`, by the rules of `domain::permission`.
    pub fn new(row: MemberRow, access: &OrgAccess) -> Self {
        let manages = access.role.can(Permission::ManageMembers);
        let me = access.user().map(|u| u.id);
        let is_me = row.user_id.is_some() && row.user_id == me;
        // What the identity provider manages, a person leaves to it.
        let person_on_managed = row.managed && access.org.scim_enabled && access.member.is_some();
        let (role_choices, removable, can_suspend) = match (row.is_member(), row.user_id) {
            (true, Some(user)) => {
                let parties = Parties { actor: me, actor_role: access.role, target: Some(user), target_role: row.role };
                let choices = parties.role_choices();
                (
                    if choices.len() > 1 { choices } else { Vec::new() },
                    parties.may_remove().is_ok() && !person_on_managed,
                    parties.may_suspend().is_ok() && !person_on_managed,
                )
            }
            _ => (Vec::new(), false, false),
        };
        let can_resend_verification = manages && row.is_member() && !row.verified;
        let can_manage_invitation = !row.is_member() && access.role.may_invite_as(row.role);
        let two_factor = row.second_factor().filter(|_| manages);
        let can_set_expiry = removable && row.role != Role::Owner;
        MemberEntry {
            row,
            role_choices,
            removable,
            can_suspend,
            can_stop_scim: person_on_managed && access.role.can(Permission::ManageSecurity),
            can_resend_verification,
            can_manage_invitation,
            is_me,
            shows_two_factor: manages,
            two_factor,
            can_reset_two_factor: false,
            can_set_expiry,
            shows_expires: false,
        }
    }
}

/// Shows the `Expires` column on every entry when some member of the organization has
/// an end date (one lookup of the partial index that holds them).
fn mark_expiries(shows: bool, entries: &mut [MemberEntry]) {
    for entry in entries.iter_mut() {
        entry.shows_expires = shows;
    }
}

/// Whether the viewer might reset `entry`'s second factor: another member's, who has one.
fn may_reset(entry: &MemberEntry) -> bool {
    !entry.is_me && entry.two_factor.is_some_and(TwoFactor::is_on)
}

/// Marks the entries whose second factors the viewer may reset: the Owner, for
/// others with two-factor whose address is at one of the `verified` domains.
fn allow_resets(access: &OrgAccess, verified: &[String], entries: &mut [MemberEntry]) {
    if !access.role.can(Permission::ManageSecurity) {
        return;
    }
    for entry in entries.iter_mut().filter(|e| may_reset(e)) {
        entry.can_reset_two_factor = super::security::covers(verified, &entry.row.email);
    }
}

/// The Members page's filters, sort and position.
#[derive(Debug, Clone)]
pub struct MemberFilter {
    pub search: String,
    pub role: Option<Role>,
    pub status: MemberStatus,
    pub two_factor: Option<TwoFactorFilter>,
    pub sort: MemberSort,
    pub descending: bool,
    pub after: Option<Cursor>,
}

impl MemberFilter {
    /// The statement's parameters for `limit + 1` rows of `org` from the filter's position.
    pub(crate) fn query(&self, org: crate::domain::OrgId, limit: i64) -> MemberQuery<'_> {
        MemberQuery {
            org,
            search: &self.search,
            role: self.role,
            status: self.status,
            two_factor: self.two_factor,
            sort: self.sort,
            descending: self.descending,
            after: self.after.clone(),
            limit,
        }
    }
}

/// A page of the Members list.
pub fn list_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    filter: &MemberFilter,
    limit: i64,
) -> Result<MembersList, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let summary = crate::db::organizations::members_summary(conn, access.org.org_id())?;
    let mut entries = rows_for(conn, &access, filter, limit)?;
    allow_resets(&access, &summary.verified_domains, &mut entries);
    mark_expiries(summary.any_expires, &mut entries);
    let seats = access.role.can(Permission::ManageMembers).then(|| crate::domain::SeatUsage {
        members: summary.members,
        reserved: summary.reserved,
        limit: access.org.seat_limit.into(),
    });
    Ok(MembersList { viewer, access, entries, seats })
}

/// `limit + 1` rows of the Members list as `access` sees them.
fn entries_for(
    conn: &mut PgConnection,
    access: &OrgAccess,
    filter: &MemberFilter,
    limit: i64,
) -> Result<Vec<MemberEntry>, AppError> {
    let mut entries = rows_for(conn, access, filter, limit)?;
    complete(conn, access, &mut entries)?;
    Ok(entries)
}

/// Marks on `entries` which second factors the viewer may reset and whether the
/// `Expires` column shows, reading what that takes (what the Members page reads
/// with its [`members_summary`](crate::db::organizations::members_summary)).
fn complete(conn: &mut PgConnection, access: &OrgAccess, entries: &mut [MemberEntry]) -> Result<(), AppError> {
    if access.role.can(Permission::ManageSecurity) && entries.iter().any(may_reset) {
        allow_resets(access, &super::security::verified_domains(conn, access)?, entries);
    }
    mark_expiries(crate::db::expiry::any_member_expires(conn, access.org.id)?, entries);
    Ok(())
}

/// `limit + 1` rows of the Members list, in one statement.
fn rows_for(
    conn: &mut PgConnection,
    access: &OrgAccess,
    filter: &MemberFilter,
    limit: i64,
) -> Result<Vec<MemberEntry>, AppError> {
    let query = filter.query(access.org.org_id(), limit);
    Ok(rows::list(conn, &query)?.into_iter().map(|row| MemberEntry::new(row, access)).collect())
}

/// `limit + 1` rows of the Members list for `actor` (an API key): what the page
/// lists, without the page around it.
pub fn list(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    filter: &MemberFilter,
    limit: i64,
) -> Result<Vec<MemberEntry>, AppError> {
    let access = access::acting(conn, slug, actor)?;
    entries_for(conn, &access, filter, limit)
}

/// Checks that `user` may export the Members view of the organization at `slug` (those
/// who manage members: the export holds second factors and everyone's access).
pub fn export_access(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<OrgAccess, AppError> {
    let (_, access) = access::page(conn, slug, user)?;
    access.require(Permission::ManageMembers)?;
    Ok(access)
}

/// `limit + 1` rows of the Members view for an export, each member with what they
/// reach (their teams, and each project with its level and why), in two statements
/// however long the page.
pub fn export_page(
    conn: &mut PgConnection,
    access: &OrgAccess,
    filter: &MemberFilter,
    limit: i64,
) -> Result<Vec<(MemberEntry, super::reach::MemberReach)>, AppError> {
    let query = filter.query(access.org.org_id(), limit);
    let entries: Vec<MemberEntry> =
        rows::list(conn, &query)?.into_iter().map(|row| MemberEntry::new(row, access)).collect();
    let ids: Vec<Uuid> = entries.iter().filter(|e| e.row.is_member()).map(|e| e.row.id).collect();
    let mut reached = super::reach::of_memberships(conn, &ids)?.into_iter();
    Ok(entries
        .into_iter()
        .map(|entry| {
            let reach = if entry.row.is_member() { reached.next().map(|(_, r)| r) } else { None };
            (entry, reach.unwrap_or_default())
        })
        .collect())
}

/// One member, by membership id, as `actor` sees them.
pub fn get(conn: &mut PgConnection, actor: &Actor, slug: &Slug, id: Uuid) -> Result<MemberEntry, AppError> {
    let access = access::acting(conn, slug, actor)?;
    Ok(entry(conn, &access, id)?.0)
}

/// A page of the Members list: the viewer, their access, `limit + 1` entries (so
/// the caller knows whether more follow), and the seats for those who invite.
pub struct MembersList {
    pub viewer: Viewer,
    pub access: OrgAccess,
    pub entries: Vec<MemberEntry>,
    pub seats: Option<crate::domain::SeatUsage>,
}

/// A member as a row of the Members page.
fn row_of(member: memberships::MemberDetail) -> MemberRow {
    MemberRow {
        kind: "member".into(),
        id: member.id,
        user_id: Some(member.user_id),
        name: member.member_name,
        email: member.member_email,
        role: member.role,
        joined: member.created_at,
        verified: member.member_verified,
        last_active: member.last_active_at,
        two_factor: Some(member.member_two_factor),
        suspended: member.suspended_at.is_some(),
        managed: member.scim_managed,
        expires_at: member.expires_at,
        sort_key: String::new(),
    }
}

/// Members as `access` sees them, with what they may do to each.
pub fn entries(members: Vec<memberships::MemberDetail>, access: &OrgAccess) -> Vec<MemberEntry> {
    members.into_iter().map(|m| MemberEntry::new(row_of(m), access)).collect()
}

/// One member as `access` sees them, with who invited them.
fn entry(conn: &mut PgConnection, access: &OrgAccess, id: Uuid) -> Result<(MemberEntry, Option<Uuid>), AppError> {
    let member = memberships::detail(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    let invited_by = member.invited_by;
    let mut entry = [MemberEntry::new(row_of(member), access)];
    complete(conn, access, &mut entry)?;
    let [entry] = entry;
    Ok((entry, invited_by))
}

/// One member's row after an action by `actor`.
fn entry_for(conn: &mut PgConnection, actor: &Actor, slug: &Slug, id: Uuid) -> Result<MemberEntry, AppError> {
    let access = access::acting(conn, slug, actor)?;
    Ok(entry(conn, &access, id)?.0)
}

/// What a member's page shows.
pub struct MemberPage {
    pub viewer: Viewer,
    pub entry: MemberEntry,
    /// Who invited them, "name (email)".
    pub invited_by: Option<String>,
    /// Their teams and projects, with why.
    pub reach: super::reach::MemberReach,
    /// Who can grant access (the Owner and Admins).
    pub granters: super::reach::Granters,
    /// Whether the viewer manages teams and projects: sets when the member's places and
    /// grants end, and grants expired ones again.
    pub manages_access: bool,
    /// Whether the viewer may open the member's access history (the Owner and
    /// Admins; a member, their own).
    pub sees_history: bool,
}

/// A member's page: the member, who invited them, and what they reach.
pub fn member_page(conn: &mut PgConnection, slug: &Slug, user: UserId, id: Uuid) -> Result<MemberPage, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let (entry, inviter) = entry(conn, &access, id)?;
    let invited_by = match inviter {
        Some(id) => users::find(conn, UserId(id))?.map(|u| format!("{} ({})", u.name, u.email)),
        None => None,
    };
    let reach = super::reach::of_membership(conn, id)?;
    let granters = super::reach::granters(conn, &access)?;
    let manages_access = access.role.can(Permission::ManageTeamsAndProjects);
    let sees_history = access.role.can(Permission::ViewAuditLog) || access.is_me(id);
    Ok(MemberPage { viewer, entry, invited_by, reach, granters, manages_access, sees_history })
}

/// The `Remove member` confirmation, for a member the viewer may remove.
pub fn removal(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    id: Uuid,
) -> Result<(Viewer, MemberEntry, Leftovers, Seen), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let (entry, _) = entry(conn, &access, id)?;
    if !entry.removable {
        return Err(AppError::Forbidden(format!("You cannot remove {} from this organization.", entry.row.email)));
    }
    let left = match entry.row.user_id {
        Some(member) => leftovers(conn, &access, member)?,
        None => Leftovers::default(),
    };
    let seen = super::impact::of_ending(conn, id, &entry.row.name, "remove")?;
    Ok((viewer, entry, left, seen))
}

/// The `Suspend` confirmation, for an active member the viewer may suspend.
pub fn suspension(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    id: Uuid,
) -> Result<(Viewer, MemberEntry, Seen), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let (entry, _) = entry(conn, &access, id)?;
    if !entry.can_suspend {
        return Err(AppError::Forbidden(format!("You cannot suspend {} in this organization.", entry.row.email)));
    }
    if entry.row.suspended {
        return Err(AppError::Conflict(format!("{} is already suspended.", entry.row.email)));
    }
    let seen = super::impact::of_ending(conn, id, &entry.row.name, "suspend")?;
    Ok((viewer, entry, seen))
}

/// The `Leave organization` confirmation, for anyone but the Owner.
pub fn leaving(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<(Viewer, OrgAccess, Leftovers), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    may_leave(access.role).map_err(refused)?;
    let left = leftovers(conn, &access, user.0)?;
    Ok((viewer, access, left))
}

/// What a member created that goes on without them, for the confirmation of their
/// departure: webhook endpoints, which keep sending the organization's events unless
/// disabled with them. (API keys belong to the organization and are not theirs.)
#[derive(Debug, Clone, Default)]
pub struct Leftovers {
    /// The endpoints' addresses as pages show them.
    pub endpoints: Vec<String>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }
}

fn leftovers(conn: &mut PgConnection, access: &OrgAccess, user: Uuid) -> Result<Leftovers, AppError> {
    if !access.role.can(Permission::ManageIntegrations) && access.user().map(|u| u.id) != Some(user) {
        return Ok(Leftovers::default());
    }
    let endpoints = super::webhooks::left_by(conn, access, &[user])?;
    Ok(Leftovers { endpoints: endpoints.iter().map(|e| crate::domain::webhook::shown_url(&e.url)).collect() })
}

/// What happens to what `user` (named `name`) created when they go: their webhook
/// endpoints are disabled (`disable_integrations`) or stay on and the Owner and
/// Admins are told. The API keys they created go on working: they are the
/// organization's.
fn after_departure(
    conn: &mut PgConnection,
    access: &OrgAccess,
    user: Uuid,
    name: &str,
    disable_integrations: bool,
) -> Result<Vec<Event>, AppError> {
    super::webhooks::after_departure(conn, access, &[(user, name.to_owned())], disable_integrations)
}

/// The target membership, locked, with who-acts-on-whom for the permission checks.
/// An API key acts on others only: its `actor` is `None`, never a target's.
pub(crate) fn target(
    conn: &mut PgConnection,
    access: &OrgAccess,
    id: Uuid,
) -> Result<(Membership, Parties<Option<Uuid>>), AppError> {
    crate::db::organizations::lock(conn, access.org.org_id())?;
    let (actor, actor_role) = acting_role(conn, access)?;
    let membership = memberships::lock_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    let parties = Parties { actor, actor_role, target: Some(membership.user_id), target_role: membership.role };
    Ok((membership, parties))
}

/// The acting person's account and role, read again (the caller holds the
/// organization's lock): an ownership transfer or another role change may have
/// happened since the request began. A key's role is its own.
pub(crate) fn acting_role(conn: &mut PgConnection, access: &OrgAccess) -> Result<(Option<Uuid>, Role), AppError> {
    Ok(match access.user() {
        Some(user) => {
            let mine = memberships::find(conn, access.org.org_id(), UserId(user.id))?.ok_or(AppError::NotFound)?;
            (Some(user.id), mine.role)
        }
        None => (None, access.role),
    })
}

pub(crate) fn refused(refusal: crate::domain::permission::Refusal) -> AppError {
    AppError::Forbidden(refusal.to_string())
}

/// Gives a member another role; takes effect on their next request. Returns their
/// row as the actor now sees it.
pub fn change_role(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    new_role: Role,
) -> Result<MemberEntry, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (membership, parties) = target(conn, &access, id)?;
        parties.may_change_role(new_role).map_err(refused)?;
        let before = membership.role;
        let email = users::find(conn, UserId(membership.user_id))?.map(|u| u.email).unwrap_or_default();
        if before != new_role {
            memberships::set_role(conn, membership.id, new_role)?;
            let event = Event::MemberRoleChanged {
                membership: membership.id,
                user: membership.user_id,
                email: email.clone(),
                from: before,
                to: new_role,
            };
            actor.record(conn, &access, &[event])?;
        }
        entry_for(conn, actor, slug, id)
    })
}

/// Suspends a member: the organization is closed to them from their next request
/// and their seat is free; their role, team places and project grants stay, for
/// [`reactivate`]. Returns their row as the actor now sees it.
/// `seen`: the digest of the confirmation the person saw ([`super::impact`]); it is
/// refused, changing nothing, when suspending would now do something else.
pub fn suspend(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    seen: Option<&str>,
) -> Result<MemberEntry, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (membership, parties) = target(conn, &access, id)?;
        parties.may_suspend().map_err(refused)?;
        not_managed(conn, &access, &membership)?;
        // Only the digest is compared: the names are for the confirmation.
        super::impact::still(&super::impact::of_ending(conn, id, "", "suspend")?, seen)?;
        set_suspension(conn, actor, &access, &membership, true)?;
        entry_for(conn, actor, slug, id)
    })
}

/// Refuses to change in the console what the identity provider manages while
/// provisioning is on: the Owner stops SCIM managing the member first (or turns
/// provisioning off, which hands everything back).
pub(crate) fn not_managed(
    conn: &mut PgConnection,
    access: &OrgAccess,
    membership: &Membership,
) -> Result<(), AppError> {
    if !membership.scim_managed || !access.org.scim_enabled {
        return Ok(());
    }
    let email = users::find(conn, UserId(membership.user_id))?.map(|u| u.email).unwrap_or_default();
    Err(AppError::Forbidden(format!(
        "{email} is managed by SCIM: suspend or remove them in your identity provider, or the Owner stops SCIM \
         managing them first (on their page)."
    )))
}

/// Suspends (`suspend`) or reactivates a membership the actor may act on, locked by
/// the caller: refused if it already is so, and a reactivation needs a free seat
/// (checked under the organization's lock). Records the event.
pub(crate) fn set_suspension(
    conn: &mut PgConnection,
    actor: &Actor,
    access: &OrgAccess,
    membership: &Membership,
    suspend: bool,
) -> Result<(), AppError> {
    let email = users::find(conn, UserId(membership.user_id))?.map(|u| u.email).unwrap_or_default();
    match (suspend, membership.is_suspended()) {
        (true, true) => return Err(AppError::Conflict(format!("{email} is already suspended."))),
        (false, false) => return Err(AppError::Conflict(format!("{email} is not suspended."))),
        (true, false) => {}
        (false, true) => {
            let org = crate::db::organizations::lock(conn, access.org.org_id())?;
            let seats = crate::db::organizations::seat_usage(conn, org.org_id(), org.seat_limit)?;
            seats.reserve(1).map_err(|short| AppError::Conflict(format!("{email} cannot be reactivated. {short}")))?;
        }
    }
    memberships::set_suspended(conn, membership.id, suspend)?;
    let (membership_id, user, role) = (membership.id, membership.user_id, membership.role);
    let event = if suspend {
        Event::MemberSuspended { membership: membership_id, user, email, role }
    } else {
        Event::MemberReactivated { membership: membership_id, user, email, role }
    };
    actor.record(conn, access, &[event])
}

/// Reactivates a suspended member, seats permitting: they have their role, team
/// places and grants back on their next request. Returns their row.
pub fn reactivate(conn: &mut PgConnection, actor: &Actor, slug: &Slug, id: Uuid) -> Result<MemberEntry, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (membership, parties) = target(conn, &access, id)?;
        parties.may_suspend().map_err(refused)?;
        not_managed(conn, &access, &membership)?;
        set_suspension(conn, actor, &access, &membership, false)?;
        entry_for(conn, actor, slug, id)
    })
}

/// Changes a member's role, status (`suspended`), or both, in one transaction, as
/// the JSON API's `PATCH` asks; a status the member already has changes nothing.
pub fn update(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    role: Option<Role>,
    suspended: Option<bool>,
) -> Result<MemberEntry, AppError> {
    conn.transaction(|conn| {
        let mut entry = match role {
            Some(role) => change_role(conn, actor, slug, id, role)?,
            None => get(conn, actor, slug, id)?,
        };
        match suspended {
            Some(true) if !entry.row.suspended => entry = suspend(conn, actor, slug, id, None)?,
            Some(false) if entry.row.suspended => entry = reactivate(conn, actor, slug, id)?,
            _ => {}
        }
        Ok(entry)
    })
}

/// Removes a member: access ends on their next request; the account and its
/// history stay, and they can be invited again. Frees the seat.
/// What the person created goes as [`after_departure`] says. `seen`: the digest of
/// the confirmation the person saw; refused, changing nothing, when removing would
/// now do something else.
pub fn remove(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    disable_integrations: bool,
    seen: Option<&str>,
) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let (membership, parties) = target(conn, &access, id)?;
        parties.may_remove().map_err(refused)?;
        not_managed(conn, &access, &membership)?;
        // Only the digest is compared: the names are for the confirmation.
        super::impact::still(&super::impact::of_ending(conn, id, "", "remove")?, seen)?;
        end_membership(conn, actor, &access, &membership, disable_integrations, Departure::Removed)
    })
}

/// How a membership ends, as the audit log and the person are told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// `Remove` in the console or the API.
    Removed,
    /// The identity provider's `DELETE`.
    Deprovisioned,
    /// It reached its end date; `granter` set the date.
    Expired { granter: Option<Uuid> },
}

/// Ends a membership the actor may end, locked by the caller, as `Remove` does (or as
/// the identity provider's `DELETE`, or its end date): the account and its history
/// stay; what the person created goes as [`after_departure`] says. Returns the address.
pub(crate) fn end_membership(
    conn: &mut PgConnection,
    actor: &Actor,
    access: &OrgAccess,
    membership: &Membership,
    disable_integrations: bool,
    how: Departure,
) -> Result<String, AppError> {
    let removed = users::find(conn, UserId(membership.user_id))?;
    let (email, name) = removed.map(|u| (u.email, u.name)).unwrap_or_default();
    memberships::delete(conn, membership.id)?;
    let (membership_id, user, role) = (membership.id, membership.user_id, membership.role);
    let email_now = email.clone();
    let mut events = vec![match how {
        Departure::Removed => Event::MemberRemoved { membership: membership_id, user, email: email_now, role },
        Departure::Deprovisioned => {
            Event::MemberDeprovisioned { membership: membership_id, user, email: email_now, role }
        }
        Departure::Expired { granter } => {
            Event::MemberExpired { membership: membership_id, user, email: email_now, role, granter }
        }
    }];
    events.extend(after_departure(conn, access, membership.user_id, &name, disable_integrations)?);
    actor.record(conn, access, &events)?;
    Ok(email)
}

/// The person's answer to being added by the organization's identity provider while
/// they had an account of their own (DESIGN.md §2.11): `accept` opens the organization
/// to them and shows it their account; declining removes the membership. Returns the
/// organization's name.
pub fn answer_provisioning(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    accept: bool,
) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let me = actor.person()?;
        let org = crate::db::organizations::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
        crate::db::organizations::lock(conn, org.org_id())?;
        let membership =
            memberships::find(conn, org.org_id(), me)?.filter(|m| m.consent_pending).ok_or(AppError::NotFound)?;
        let account = users::find(conn, me)?.ok_or(AppError::Unauthenticated)?;
        let event = if accept {
            memberships::give_consent(conn, membership.id)?;
            Event::MemberProvisioningAccepted { membership: membership.id, user: me.0, email: account.email.clone() }
        } else {
            memberships::delete(conn, membership.id)?;
            Event::MemberLeft { email: account.email.clone(), role: membership.role }
        };
        actor.record_in(conn, &org, Some(&account), &[event])?;
        Ok(org.name)
    })
}

/// Leaves an organization (anyone but the Owner); returns its name. What the person
/// created goes as [`after_departure`] says.
pub fn leave(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    disable_integrations: bool,
) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        // Under the organization's lock, so a concurrent ownership transfer cannot
        // make the leaver the Owner between this check and the delete.
        crate::db::organizations::lock(conn, access.org.org_id())?;
        let me = access.person()?.user.clone();
        let membership = memberships::find(conn, access.org.org_id(), UserId(me.id))?.ok_or(AppError::NotFound)?;
        may_leave(membership.role).map_err(refused)?;
        memberships::delete(conn, membership.id)?;
        let mut events = vec![Event::MemberLeft { email: me.email.clone(), role: membership.role }];
        let name = me.name.clone();
        events.extend(after_departure(conn, &access, membership.user_id, &name, disable_integrations)?);
        actor.record(conn, &access, &events)?;
        Ok(access.org.name.clone())
    })
}

/// Sends an unverified member a new verification link (rate-limited per member);
/// returns their row as the actor now sees it.
pub fn resend_verification(
    conn: &mut PgConnection,
    links: &Links,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
) -> Result<MemberEntry, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        access.require(Permission::ManageMembers)?;
        let membership = memberships::lock_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
        let user = users::find(conn, UserId(membership.user_id))?.ok_or(AppError::NotFound)?;
        if user.is_verified() {
            return Err(AppError::Conflict(format!("{} is already verified.", user.email)));
        }
        rate_limit::check(conn, rate_limit::MAIL_PER_ACCOUNT, &crate::domain::email_address::canonical(&user.email))?;
        let token = Token::generate();
        let expires = time::OffsetDateTime::now_utc() + crate::domain::token::VERIFY_TTL;
        email_tokens::issue(conn, user.user_id(), email_tokens::Purpose::VerifyEmail, &token, &user.email, expires)?;
        outbox::enqueue(
            conn,
            links.sealing_key(),
            &messages::verify_email(&user.email, &user.name, &links.verify_email(&token))?,
        )?;
        actor.record(conn, &access, &[Event::MemberVerificationResent { email: user.email.clone() }])?;
        entry_for(conn, actor, slug, id)
    })
}
