//! Organizations: create one, and read its overview.

use diesel::prelude::*;
use time::OffsetDateTime;

use super::events::{Actor, Event};
use super::viewer::{self, Viewer};
use crate::db::{memberships, organizations};
use crate::domain::{OrgId, OrgName, Permission, Role, Slug, UserId};
use crate::error::{AppError, FormErrors};

/// Seats a new organization starts with; the Owner or the operator changes it.
pub const DEFAULT_SEAT_LIMIT: i32 = 100;

/// Creates an organization whose creator is its Owner; returns its slug.
pub fn create(conn: &mut PgConnection, actor: &Actor, name: &OrgName, seat_limit: i32) -> Result<Slug, AppError> {
    let owner = actor.person()?;
    conn.transaction(|conn| {
        // Never a former slug of a renamed organization: those keep redirecting.
        let slug = free_slug(conn, &name.slug().unwrap_or_else(Slug::generated))?;
        let org = organizations::insert(conn, OrgId::new(), name.as_str(), &slug, seat_limit)?;
        memberships::insert(conn, org.org_id(), owner, Role::Owner)?;
        let user = crate::db::users::find(conn, owner)?.ok_or(AppError::Unauthenticated)?;
        let event =
            Event::OrganizationCreated { name: org.name.clone(), slug: org.slug.clone(), seat_limit: org.seat_limit };
        actor.record_in(conn, &org, Some(&user), &[event])?;
        Ok(slug)
    })
}

/// Why an organization was not created: the form's errors, with the viewer to show them to.
pub struct NotCreated {
    pub viewer: Viewer,
    pub errors: FormErrors,
}

/// `Create organization` by a signed-in user, who must have verified their address.
/// The submitted name arrives parsed; its error, if any, is reported beside the field.
pub fn create_as(
    conn: &mut PgConnection,
    user: UserId,
    name: Result<OrgName, impl ToString>,
) -> Result<Result<Slug, NotCreated>, AppError> {
    let viewer = viewer::load(conn, user)?;
    let mut errors = FormErrors::new();
    if !viewer.verified {
        errors.add("", UNVERIFIED);
    }
    let name = errors.check("name", name);
    match (name, errors.is_empty()) {
        (Some(name), true) => Ok(Ok(create(conn, &Actor::new(user, None), &name, DEFAULT_SEAT_LIMIT)?)),
        _ => Ok(Err(NotCreated { viewer, errors })),
    }
}

/// Why an unverified account cannot create an organization.
pub const UNVERIFIED: &str = "Verify your email address before creating an organization: use the link we sent you, or Resend verification email above.";

/// An organization's overview page: the viewer and the overview.
pub fn overview_page(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<(Viewer, Overview), AppError> {
    let (viewer, access) = super::access::page(conn, slug, user)?;
    Ok((viewer, overview(conn, access)?))
}

/// The reminders of access over time (DESIGN.md §2.12), as the Owner or an Admin sets
/// them: how many days before an end date (1 to 30), and whether unanswered invitations
/// are reminded two days before they expire.
pub fn set_reminders(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    days: &str,
    invitations: bool,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let access = super::access::acting(conn, slug, actor)?;
        access.require(Permission::ManageMembers)?;
        let org = organizations::lock(conn, access.org.org_id())?;
        let days = match days.trim().parse::<i32>() {
            Ok(days) if (1..=crate::db::expiry::MAX_REMINDER_DAYS).contains(&days) => days,
            _ => {
                return Err(AppError::Invalid(FormErrors::field(
                    "reminder_days",
                    format!("Enter a number of days from 1 to {}.", crate::db::expiry::MAX_REMINDER_DAYS),
                )))
            }
        };
        if days == org.expiry_reminder_days && invitations == org.invitation_reminders {
            return Ok(());
        }
        organizations::set_reminders(conn, org.org_id(), days, invitations)?;
        let event = Event::RemindersChanged {
            org_name: org.name.clone(),
            from_days: org.expiry_reminder_days,
            days,
            from_invitations: org.invitation_reminders,
            invitations,
        };
        actor.record(conn, &access, &[event])
    })
}

/// `General` → Rename: a new name and URL name, by the Owner. The old URL name keeps
/// redirecting the organization's members until another organization takes it.
/// Returns the organization's URL name afterwards; refusals of the input are
/// `Invalid`, beside the `name` and `slug` fields.
pub fn rename(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    name: Result<OrgName, impl ToString>,
    new_slug: Result<Slug, impl ToString>,
) -> Result<Slug, AppError> {
    conn.transaction(|conn| {
        let access = super::access::acting(conn, slug, actor)?;
        let org = organizations::lock(conn, access.org.org_id())?;
        if !access.role.can(Permission::ManageOwnership) {
            return Err(AppError::Forbidden("Only the Owner can rename the organization.".into()));
        }
        let mut errors = FormErrors::new();
        let name = errors.check("name", name);
        let new_slug = errors.check("slug", new_slug);
        let (Some(name), Some(new_slug)) = (name, new_slug) else {
            return Err(AppError::Invalid(errors));
        };
        if organizations::slug_taken_by_other(conn, &new_slug, org.org_id())? {
            errors.add("slug", format!("{new_slug} is taken by another organization. Choose another URL name."));
            return Err(AppError::Invalid(errors));
        }
        if name.as_str() == org.name && new_slug.as_str() == org.slug {
            return Ok(new_slug);
        }
        if new_slug.as_str() != org.slug {
            organizations::forget_former_slug(conn, &new_slug)?;
            organizations::remember_former_slug(conn, org.org_id(), &org.slug)?;
        }
        let renamed = match organizations::rename(conn, org.org_id(), name.as_str(), &new_slug) {
            // Taken by an organization created in the same moment: the form says so.
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                errors.add("slug", format!("{new_slug} is taken by another organization. Choose another URL name."));
                return Err(AppError::Invalid(errors));
            }
            other => other?,
        };
        let event = Event::OrganizationRenamed {
            from_name: org.name.clone(),
            from_slug: org.slug.clone(),
            name: renamed.name.clone(),
            slug: renamed.slug.clone(),
        };
        actor.record_in(conn, &renamed, access.user(), &[event])?;
        Ok(new_slug)
    })
}

/// The suggested slug, or the first free `slug-N` after it.
fn free_slug(conn: &mut PgConnection, base: &Slug) -> Result<Slug, AppError> {
    let taken = organizations::slugs_like(conn, base)?;
    // A reserved word ("new") is never free: `/orgs/new` is the form that creates one.
    if !base.is_reserved() && !taken.iter().any(|s| s == base.as_str()) {
        return Ok(base.clone());
    }
    (2..=9999)
        .map(|n| base.with_suffix(n))
        .find(|candidate| !taken.iter().any(|s| s == candidate.as_str()))
        .ok_or_else(|| AppError::Conflict("Too many organizations share this name. Choose another name.".into()))
}

/// What the organization's overview page shows.
#[derive(Debug, Clone)]
pub struct Overview {
    pub name: String,
    pub slug: String,
    pub my_role: Role,
    pub members: i64,
    pub seat_limit: i32,
    /// Members plus pending, unexpired invitations, against the limit.
    pub seats: crate::domain::SeatUsage,
    pub owner_name: String,
    pub owner_email: String,
    pub created_at: OffsetDateTime,
    /// For those who manage members: what needs them (invitations, members to look
    /// at, the first steps of a new organization).
    pub attention: Option<organizations::Attention>,
    /// For those who read the audit log: its latest events, newest first.
    pub recent: Vec<crate::db::audit::AuditEvent>,
    /// The viewer's own teams and projects, with why, and who can grant more.
    pub reach: super::reach::MemberReach,
    pub granters: super::reach::Granters,
}

pub use crate::db::organizations::Attention;

/// How many of the latest audit events the Overview shows.
pub const RECENT_EVENTS: i64 = 10;

/// The overview of an organization, for a member of it.
fn overview(conn: &mut PgConnection, access: super::access::OrgAccess) -> Result<Overview, AppError> {
    let summary = organizations::overview_summary(
        conn,
        access.org.org_id(),
        access.person()?.membership,
        access.role.can(Permission::ManageMembers),
        time::OffsetDateTime::now_utc() + super::invitations::EXPIRING_WITHIN,
        super::reach::GRANTERS_NAMED,
    )?;
    let recent = if access.role.can(Permission::ViewAuditLog) {
        let mut events = super::audit::list(conn, access.org.org_id(), &Default::default(), RECENT_EVENTS)?;
        events.truncate(RECENT_EVENTS as usize);
        events
    } else {
        Vec::new()
    };
    let reach = super::reach::from_rows(summary.reach()?)?;
    let granters = super::reach::Granters::of(&access, summary.granters.clone());
    let (org, my_role) = (access.org, access.role);
    let seats =
        crate::domain::SeatUsage { members: summary.members, reserved: summary.reserved, limit: org.seat_limit.into() };
    Ok(Overview {
        attention: summary.attention()?,
        recent,
        reach,
        granters,
        my_role,
        name: org.name,
        slug: org.slug,
        members: summary.members,
        seats,
        seat_limit: org.seat_limit,
        owner_name: summary.owner_name.unwrap_or_default(),
        owner_email: summary.owner_email.unwrap_or_default(),
        created_at: org.created_at,
    })
}
