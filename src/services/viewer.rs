//! Who is looking: the signed-in user and their organizations, loaded once per page.

use diesel::PgConnection;

use crate::db::memberships;
use crate::domain::two_factor::{standing, Standing, TwoFactor};
use crate::domain::{Role, UserId};
use crate::error::AppError;

/// An organization in the viewer's switcher.
#[derive(Debug, Clone)]
pub struct OrgChoice {
    pub name: String,
    pub slug: String,
    pub role: Role,
    /// From when it requires two-factor of its members, if it does.
    pub two_factor_from: Option<time::OffsetDateTime>,
    /// Whether the viewer is suspended there: it is closed to them.
    pub suspended: bool,
    /// Whether its identity provider added the viewer, who has not accepted yet.
    pub consent_pending: bool,
    /// Requests to join waiting for an answer (counted for the Owner and Admins only).
    pub open_requests: i32,
}

impl OrgChoice {
    /// Whether the viewer may see this organization's Invitations page.
    pub fn manages_members(&self) -> bool {
        self.role.can(crate::domain::Permission::ManageMembers)
    }

    /// Whether the viewer may see this organization's Audit Log.
    pub fn sees_audit_log(&self) -> bool {
        self.role.can(crate::domain::Permission::ViewAuditLog)
    }
}

/// The signed-in user as pages need them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub verified: bool,
    pub orgs: Vec<OrgChoice>,
    /// The bell's number: unread notifications and pending invitations.
    pub unread: i64,
    /// What second factor their account has.
    pub two_factor: TwoFactor,
}

/// An organization that requires two-factor of a viewer who has none, and where they stand.
#[derive(Debug, Clone)]
pub struct TwoFactorDue {
    pub name: String,
    pub slug: String,
    /// From when it is required (in the grace period) or since when (closed).
    pub at: time::OffsetDateTime,
    pub closed: bool,
}

impl TwoFactorDue {
    /// The date in words: "18 Dec 2026".
    pub fn day(&self) -> String {
        crate::domain::dates::day(self.at)
    }
}

impl Viewer {
    /// The organizations that require two-factor of this viewer, who has none: those
    /// still in their grace period (a reminder) and those closed to them.
    pub fn two_factor_due(&self, now: time::OffsetDateTime) -> Vec<TwoFactorDue> {
        self.orgs
            .iter()
            .filter(|org| !org.suspended && !org.consent_pending)
            .filter_map(|org| {
                let (at, closed) = match standing(org.two_factor_from, self.two_factor, now) {
                    Standing::Clear => return None,
                    Standing::Reminded { from } => (from, false),
                    Standing::Closed { since } => (since, true),
                };
                Some(TwoFactorDue { name: org.name.clone(), slug: org.slug.clone(), at, closed })
            })
            .collect()
    }
}

/// Loads the viewer in one statement; a session pointing at a deleted account counts as signed out.
pub fn load(conn: &mut PgConnection, id: UserId) -> Result<Viewer, AppError> {
    let viewing = memberships::viewer(conn, id)?.ok_or(AppError::Unauthenticated)?;
    Ok(of_viewing(viewing))
}

/// The viewer behind a session, if any: a session whose account is gone counts as none.
pub fn optional(conn: &mut PgConnection, id: Option<UserId>) -> Result<Option<Viewer>, AppError> {
    match id.map(|id| load(conn, id)) {
        Some(Ok(viewer)) => Ok(Some(viewer)),
        None | Some(Err(AppError::Unauthenticated)) => Ok(None),
        Some(Err(other)) => Err(other),
    }
}

/// The viewer from what [`memberships::viewer`] read.
pub fn of_viewing(viewing: memberships::Viewing) -> Viewer {
    let memberships::Viewing { user, orgs, unread } = viewing;
    let orgs = orgs
        .into_iter()
        .map(|(org, membership)| OrgChoice {
            role: membership.role,
            name: org.name,
            slug: org.slug,
            two_factor_from: org.two_factor_required_from,
            suspended: membership.is_suspended(),
            consent_pending: membership.consent_pending,
            open_requests: if membership.role.can(crate::domain::Permission::ManageMembers) {
                org.open_join_requests
            } else {
                0
            },
        })
        .collect();
    Viewer {
        id: user.user_id(),
        verified: user.is_verified(),
        two_factor: user.second_factor(),
        name: user.name,
        email: user.email,
        orgs,
        unread,
    }
}
