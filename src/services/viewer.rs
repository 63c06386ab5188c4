//! Who is looking: the signed-in user and their organizations, loaded once per page.

use diesel::PgConnection;

use crate::db::{memberships, users};
use crate::domain::{Role, UserId};
use crate::error::AppError;

/// An organization in the viewer's switcher.
#[derive(Debug, Clone)]
pub struct OrgChoice {
    pub name: String,
    pub slug: String,
    pub role: Role,
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
}

/// Loads the viewer; a session pointing at a deleted account counts as signed out.
pub fn load(conn: &mut PgConnection, id: UserId) -> Result<Viewer, AppError> {
    let user = users::find(conn, id)?.ok_or(AppError::Unauthenticated)?;
    of_user(conn, &user)
}

/// The viewer behind a session, if any: a session whose account is gone counts as none.
pub fn optional(conn: &mut PgConnection, id: Option<UserId>) -> Result<Option<Viewer>, AppError> {
    match id.map(|id| load(conn, id)) {
        Some(Ok(viewer)) => Ok(Some(viewer)),
        None | Some(Err(AppError::Unauthenticated)) => Ok(None),
        Some(Err(other)) => Err(other),
    }
}

/// The viewer for an account already loaded.
pub fn of_user(conn: &mut PgConnection, user: &users::User) -> Result<Viewer, AppError> {
    let id = user.user_id();
    let orgs = memberships::organizations_of(conn, id)?
        .into_iter()
        .map(|(org, membership)| OrgChoice { role: membership.role, name: org.name, slug: org.slug })
        .collect();
    let unread = crate::db::notifications::bell_count(conn, id.0)?;
    Ok(Viewer { id, verified: user.is_verified(), name: user.name.clone(), email: user.email.clone(), orgs, unread })
}
