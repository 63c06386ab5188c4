//! Who may see an organization: its members, with their role read from the database on every request.

use diesel::PgConnection;

use crate::db::organizations::Organization;
use crate::db::users::User;
use crate::db::{memberships, organizations, users};
use crate::domain::{Permission, Role, Slug, UserId};
use crate::error::AppError;

/// A member looking at their organization.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    pub org: Organization,
    pub role: Role,
    /// The viewer's membership (teams and project grants hang off it).
    pub membership: uuid::Uuid,
    /// When they last used the organization, as recorded before this request.
    pub last_active_at: Option<time::OffsetDateTime>,
    pub user: User,
    /// Whether the request acts through an API key: its role is capped at Admin.
    pub through_key: bool,
}

impl OrgAccess {
    /// The role this access acts with, for a role of the member read again later
    /// (under a lock): capped at Admin through an API key, as `acting` caps it.
    pub fn cap(&self, role: Role) -> Role {
        if self.through_key {
            crate::domain::api_key::key_role(role)
        } else {
            role
        }
    }

    /// Refuses with 403 unless the member's role holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.role.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "Your role in {} ({}) does not allow this. Ask its Owner or an Admin.",
                self.org.name,
                self.role.label()
            )))
        }
    }
}

/// The viewer's access to the organization at `slug`; 404 when it does not exist
/// or they are not a member, so outsiders cannot tell the two apart. A member who
/// follows an old URL name of a renamed organization is sent to the new one (`Moved`).
pub fn member_of(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<OrgAccess, AppError> {
    let Some(org) = organizations::find_by_slug(conn, slug)? else {
        return Err(moved(conn, slug, user)?);
    };
    let membership = memberships::find(conn, org.org_id(), user)?.ok_or(AppError::NotFound)?;
    let user = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
    Ok(OrgAccess {
        role: membership.role,
        membership: membership.id,
        last_active_at: membership.last_active_at,
        org,
        user,
        through_key: false,
    })
}

/// The access of `actor` to the organization at `slug`: their own as a member, or,
/// when they act through an API key, their role capped at Admin (`key_role`), and
/// only in the key's organization (any other is a 404, as for outsiders).
pub fn acting(conn: &mut PgConnection, slug: &Slug, actor: &super::events::Actor) -> Result<OrgAccess, AppError> {
    let mut access = member_of(conn, slug, actor.user)?;
    if let Some(key) = &actor.key {
        if key.organization != access.org.id {
            return Err(AppError::NotFound);
        }
        access.through_key = true;
        access.role = access.cap(access.role);
    }
    Ok(access)
}

/// How often, at most, a member's last activity is written.
pub const ACTIVITY_EVERY: time::Duration = time::Duration::minutes(5);

/// Records that the member uses the organization, unless that was recorded in
/// the last few minutes: one write per member per few minutes, not one per
/// request (the statement itself checks again, for concurrent requests). Pages
/// call it outside any transaction, so it holds the membership row only for
/// its own statement and cannot deadlock with an action that locks the
/// organization first.
fn record_activity(conn: &mut PgConnection, access: &OrgAccess) -> Result<(), AppError> {
    let recent = access.last_active_at.is_some_and(|at| time::OffsetDateTime::now_utc() - at < ACTIVITY_EVERY);
    if !recent {
        memberships::touch_unless_recent(conn, access.membership, ACTIVITY_EVERY)?;
    }
    Ok(())
}

/// What an organization page needs: the viewer (for the header) and their access
/// (for the checks), reading the account once.
pub fn page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
) -> Result<(super::viewer::Viewer, OrgAccess), AppError> {
    let access = member_of(conn, slug, user)?;
    record_activity(conn, &access)?;
    let viewer = super::viewer::of_user(conn, &access.user)?;
    Ok((viewer, access))
}

/// Where a former URL name leads: `Moved` for a member of the organization that had
/// it, `NotFound` for anyone else.
fn moved(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<AppError, AppError> {
    let Some(org) = organizations::find_by_former_slug(conn, slug)? else {
        return Ok(AppError::NotFound);
    };
    Ok(match memberships::find(conn, org.org_id(), user)? {
        Some(_) => AppError::Moved(org.slug),
        None => AppError::NotFound,
    })
}
