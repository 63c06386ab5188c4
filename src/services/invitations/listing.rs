//! The Invitations page's list: filtered, sorted, a keyset page at a time.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::invitation_grants::InvitationGrant;
use crate::db::invitations::{self, Invitation, SortKey, StatusFilter};
use crate::db::listing::Cursor;
use crate::db::organizations::seat_usage;
use crate::domain::{Permission, Slug, UserId};
use crate::error::AppError;
use crate::services::access::{self, OrgAccess};
use crate::services::events::Actor;

use super::brings::describe_grants;
use super::sending::{InviteChoices, InvitePage};

/// The Invitations page's filter, search, sort and position.
#[derive(Debug, Clone)]
pub struct InvitationFilter {
    pub status: StatusFilter,
    pub search: String,
    pub sort: SortKey,
    pub descending: bool,
    pub after: Option<Cursor>,
}

/// A page of the Invitations list (for the Owner and Admins), `limit + 1`
/// invitations, each with `lower(email)` for its cursor, and the teams and projects
/// each brings ("team Platform", "project API (Write)").
pub fn list_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    filter: &InvitationFilter,
    limit: i64,
) -> Result<InvitationsList, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    access.require(Permission::ManageMembers)?;
    // The list offers no invite form (Invite Members fetches it): no choices to read.
    let seats = seat_usage(conn, access.org.org_id(), access.org.seat_limit)?;
    let page = InvitePage {
        viewer,
        access,
        seats,
        choices: InviteChoices::default(),
        chosen_teams: Vec::new(),
        chosen_projects: Vec::new(),
    };
    let (found, grants) = found_for(conn, &page.access, filter, limit)?;
    Ok(InvitationsList { page, found, grants })
}

/// `limit + 1` invitations of the Invitations list for `actor` (an API key), each
/// with `lower(email)` for its cursor, and what each brings.
pub fn list(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    filter: &InvitationFilter,
    limit: i64,
) -> Result<(Vec<(Invitation, String)>, GrantsByInvitation), AppError> {
    let access = access::acting(conn, slug, actor)?;
    access.require(Permission::ManageMembers)?;
    found_for(conn, &access, filter, limit)
}

/// `limit + 1` invitations matching `filter`, for one who may manage them.
fn found_for(
    conn: &mut PgConnection,
    access: &OrgAccess,
    filter: &InvitationFilter,
    limit: i64,
) -> Result<(Vec<(Invitation, String)>, GrantsByInvitation), AppError> {
    let query = invitations::ListQuery {
        org: access.org.org_id(),
        filter: filter.status,
        search: Some(&filter.search),
        sort: filter.sort,
        descending: filter.descending,
        after: filter.after.clone(),
        limit,
    };
    let (found, grants) = invitations::list(conn, &query)?;
    Ok((found, described(grants)))
}

/// A page of the Invitations list: the page around it, `limit + 1` invitations
/// (each with `lower(email)` for its cursor), and what each brings.
pub struct InvitationsList {
    pub page: InvitePage,
    pub found: Vec<(Invitation, String)>,
    pub grants: GrantsByInvitation,
}

/// What each invitation brings, in words, by invitation id.
pub type GrantsByInvitation = HashMap<Uuid, Vec<String>>;

/// `grants` in words, by invitation (in their order).
fn described(grants: Vec<InvitationGrant>) -> GrantsByInvitation {
    let mut by: HashMap<Uuid, Vec<InvitationGrant>> = HashMap::new();
    for grant in grants {
        by.entry(grant.invitation_id).or_default().push(grant);
    }
    by.into_iter().map(|(id, grants)| (id, describe_grants(&grants))).collect()
}
