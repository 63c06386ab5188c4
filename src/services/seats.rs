//! Seats (DESIGN.md §2.2): the Seat Usage page, the seat limit (the Owner in
//! Settings, the operator from the command line), and the alerts when seats run low.

use diesel::prelude::*;

use super::access::{self, OrgAccess};
use super::events::{self, Actor, Event};
use super::members::{entries, MemberEntry};
use super::viewer::Viewer;
use crate::db::invitations::Invitation;
use crate::db::memberships;
use crate::db::organizations::{self, Organization};
use crate::domain::{Permission, SeatAlert, SeatLimitError, SeatUsage, Slug, UserId};
use crate::error::{AppError, FormErrors};

pub use crate::db::organizations::seat_usage;

/// How many of the oldest pending invitations, and of the least active members,
/// the Seat Usage page offers.
const OLDEST_SHOWN: i64 = 10;

/// A member is inactive after this long without using the organization.
pub const INACTIVE_AFTER: time::Duration = time::Duration::days(90);

/// The figures and lists of the Seat Usage page: reads that may lag a moment
/// (they go to the read replica when there is one).
pub struct SeatFigures {
    pub usage: SeatUsage,
    /// Suspended members: still members, holding no seat.
    pub suspended: i64,
    /// The oldest pending invitations, which hold seats: the first to revoke.
    pub oldest: Vec<Invitation>,
    /// Members who have not used the organization for [`INACTIVE_AFTER`], least
    /// recently active first, with what the viewer may do to each.
    pub inactive: Vec<MemberEntry>,
    /// The Owner's name, whom Admins ask to raise the limit.
    pub owner_name: String,
}

/// Whether `user` may see the Seat Usage page of the organization at `slug` (the
/// Owner and Admins): the viewer, and their access.
pub fn page_access(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<(Viewer, OrgAccess), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    access.require(Permission::ManageMembers)?;
    Ok((viewer, access))
}

/// The Seat Usage page's figures, for a viewer with `access`.
pub fn figures(conn: &mut PgConnection, access: &OrgAccess) -> Result<SeatFigures, AppError> {
    let org = access.org.org_id();
    let (summary, oldest) = organizations::seat_summary(conn, org, OLDEST_SHOWN)?;
    let usage = SeatUsage { members: summary.members, reserved: summary.reserved, limit: access.org.seat_limit.into() };
    let since = time::OffsetDateTime::now_utc() - INACTIVE_AFTER;
    let inactive = entries(memberships::inactive_since(conn, org, since, OLDEST_SHOWN)?, access);
    let owner_name = summary.owner_name.unwrap_or_default();
    Ok(SeatFigures { usage, suspended: summary.suspended, oldest, inactive, owner_name })
}

/// The seats of the organization at `slug`, for `actor` (an API key): members,
/// reserved by pending invitations, limit.
pub fn usage(conn: &mut PgConnection, actor: &Actor, slug: &Slug) -> Result<SeatUsage, AppError> {
    let access = access::acting(conn, slug, actor)?;
    Ok(seat_usage(conn, access.org.org_id(), access.org.seat_limit)?)
}

/// The event that tells the Owner and Admins a seat threshold was crossed.
pub fn alert_event(
    conn: &mut PgConnection,
    org: &Organization,
    alert: SeatAlert,
    usage: &SeatUsage,
) -> Result<Event, AppError> {
    let admins = memberships::admins_of(conn, org.org_id())?;
    let (organization, org_name) = (org.id, org.name.clone());
    Ok(match alert {
        SeatAlert::Full => Event::SeatsLimitReached { organization, org_name, limit: usage.limit, admins },
        SeatAlert::Near => {
            Event::SeatsNearLimit { organization, org_name, used: usage.used(), limit: usage.limit, admins }
        }
    })
}

/// The alert, if any, that one more member crosses in `org`, whose seats were `usage`
/// before they joined (a domain join, an invite link, an approved request).
pub fn alert_after_joining(
    conn: &mut PgConnection,
    org: &Organization,
    usage: &SeatUsage,
) -> Result<Option<Event>, AppError> {
    let after = SeatUsage { members: usage.members + 1, ..*usage };
    match after.crossed_from(usage) {
        Some(alert) => Ok(Some(alert_event(conn, org, alert, &after)?)),
        None => Ok(None),
    }
}

/// Sets the limit of the locked organization `org`; returns the seats as they are
/// now and the events to record (the change, and an alert if it crosses one).
fn set_limit(conn: &mut PgConnection, org: &Organization, limit: i32) -> Result<(SeatUsage, Vec<Event>), AppError> {
    let before = seat_usage(conn, org.org_id(), org.seat_limit)?;
    let updated = organizations::set_seat_limit(conn, org.org_id(), limit)?;
    let after = SeatUsage { limit: updated.seat_limit.into(), ..before };
    let mut events = Vec::new();
    if org.seat_limit != limit {
        events.push(Event::SeatsLimitChanged { org_name: org.name.clone(), from: org.seat_limit, to: limit });
        if let Some(alert) = after.crossed_from(&before) {
            events.push(alert_event(conn, org, alert, &after)?);
        }
    }
    Ok((after, events))
}

/// `Seat limit` in Settings (the Owner): sets the limit; lowering it below the
/// seats in use is allowed (new invitations wait until seats are freed; members
/// stay). Returns the seats as they are now.
pub fn change_limit(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    limit: Result<i32, SeatLimitError>,
) -> Result<SeatUsage, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        if !access.role.can(Permission::ManageSeatsAndDomains) {
            return Err(AppError::Forbidden(format!(
                "Only the Owner can change the seat limit. Your role in {} is {}.",
                access.org.name,
                access.role.label()
            )));
        }
        let limit = limit.map_err(|e| {
            let mut errors = FormErrors::new();
            errors.add("seat_limit", e);
            AppError::Invalid(errors)
        })?;
        let org = organizations::lock(conn, access.org.org_id())?;
        let (usage, events) = set_limit(conn, &org, limit)?;
        actor.record(conn, &access, &events)?;
        Ok(usage)
    })
}

/// The operator's `roster set-seats --org SLUG N`.
pub fn set_by_operator(
    conn: &mut PgConnection,
    slug: &Slug,
    limit: i32,
) -> Result<(Organization, SeatUsage), AppError> {
    conn.transaction(|conn| {
        let found = organizations::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
        let org = organizations::lock(conn, found.org_id())?;
        let (usage, events) = set_limit(conn, &org, limit)?;
        events::record_by_operator(conn, &org, "set-seats", &events)?;
        Ok((org, usage))
    })
}

/// What a new limit means, in a sentence: "5 seats are in use, 2 more than …".
pub fn limit_consequence(usage: &SeatUsage) -> String {
    let over = usage.used() - usage.limit;
    if over >= 0 {
        // Inviting one person needs one seat free: `over + 1` must go first.
        let needed = over + 1;
        let more = if over == 0 { "as many as the limit".to_owned() } else { format!("{over} more than the limit") };
        format!(
            "{} seats are in use, {more} of {}: new invitations wait until {needed} {} freed. Nobody loses their membership.",
            usage.used(),
            usage.limit,
            if needed == 1 { "seat is" } else { "seats are" }
        )
    } else {
        format!("{} / {} seats used; {} free.", usage.used(), usage.limit, usage.available())
    }
}
