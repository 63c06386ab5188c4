//! The Audit Log: what the Owner and Admins may read of an organization's history.

use diesel::PgConnection;
use time::OffsetDateTime;

use super::access;
use super::events::EventKind;
use super::viewer::Viewer;
use crate::db::audit::{self, AuditQuery};
use crate::domain::{OrgId, Permission, Slug, UserId};
use crate::error::AppError;

pub use crate::db::audit::AuditEvent;

/// The Audit Log's filters and position, as parsed from the request.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<EventKind>,
    /// Part of the actor's name or email, any case.
    pub actor: String,
    /// Events at or after this moment only.
    pub since: Option<OffsetDateTime>,
    /// Events before this moment only.
    pub until: Option<OffsetDateTime>,
    /// (time, sequence) of the last event already shown.
    pub before: Option<(OffsetDateTime, i64)>,
    /// The events of one bulk action only.
    pub batch: Option<uuid::Uuid>,
}

/// Whether `user` may read the Audit Log of the organization at `slug`: the viewer
/// the page's header needs, and the organization (id, slug) whose log to [`list`].
pub fn page_access(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<(Viewer, OrgId, String), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    access.require(Permission::ViewAuditLog)?;
    Ok((viewer, access.org.org_id(), access.org.slug))
}

/// Checks that `user` may export the log of the organization at `slug`; returns it (id, slug).
pub fn export_access(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<(OrgId, String), AppError> {
    let access = access::member_of(conn, slug, user)?;
    access.require(Permission::ViewAuditLog)?;
    Ok((access.org.org_id(), access.org.slug))
}

/// `limit + 1` events of the log of the organization at `slug`, for `actor` (an API key).
pub fn list_for(
    conn: &mut PgConnection,
    actor: &super::events::Actor,
    slug: &Slug,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditEvent>, AppError> {
    let access = access::acting(conn, slug, actor)?;
    access.require(Permission::ViewAuditLog)?;
    list(conn, access.org.org_id(), filter, limit)
}

/// `limit + 1` events of an organization whose log the caller has been allowed to read.
pub fn list(
    conn: &mut PgConnection,
    org: OrgId,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditEvent>, AppError> {
    let query = AuditQuery {
        org: org.0,
        action: filter.action.map(EventKind::key),
        actor: &filter.actor,
        since: filter.since,
        until: filter.until,
        before: filter.before,
        batch: filter.batch,
        limit,
    };
    Ok(audit::list(conn, &query)?)
}
