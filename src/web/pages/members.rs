//! The Members page: members and pending invitations; change role, remove, resend verification, leave.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::db::listing::Cursor;
use crate::db::members::{self as rows, MemberQuery, MemberRow, MemberSort, MemberStatus};
use crate::db::{memberships, users};
use crate::domain::permission::Parties;
use crate::domain::{Permission, Role, UserId};
use crate::error::AppError;
use crate::services::access::{self, OrgAccess};
use crate::services::members;
use crate::web::extractors::{Acting, OrgItem, OrgSlug, SignedIn};
use crate::web::format::format_date;
use crate::web::htmx::{is_htmx, page, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{self, Listing, TableParams};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

const PAGE_SIZE: i64 = 50;

/// One row, ready to show, with the actions the viewer may take.
pub struct MemberView {
    pub id: Uuid,
    pub is_member: bool,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub joined: String,
    pub verified: bool,
    /// Roles offered by `Change role` (empty: no control).
    pub role_choices: Vec<Role>,
    pub removable: bool,
    pub can_resend_verification: bool,
    pub is_me: bool,
}

impl MemberView {
    fn new(row: &MemberRow, access: &OrgAccess) -> Self {
        let role = row.role;
        let manages = access.role.can(Permission::ManageMembers);
        let is_me = row.user_id == Some(access.user.id);
        let (role_choices, removable) = match (row.is_member(), row.user_id) {
            (true, Some(user)) => {
                let parties =
                    Parties { actor: access.user.id, actor_role: access.role, target: user, target_role: role };
                let choices = parties.role_choices();
                (if choices.len() > 1 { choices } else { Vec::new() }, parties.may_remove().is_ok())
            }
            _ => (Vec::new(), false),
        };
        MemberView {
            id: row.id,
            is_member: row.is_member(),
            name: row.name.clone(),
            email: row.email.clone(),
            role,
            joined: format_date(row.joined),
            verified: row.verified,
            role_choices,
            removable,
            can_resend_verification: manages && row.is_member() && !row.verified,
            is_me,
        }
    }
    pub fn has_actions(&self) -> bool {
        !self.role_choices.is_empty() || self.removable || self.can_resend_verification
    }
}

const SORTS: [(&str, MemberSort); 6] = [
    ("name", MemberSort::Name),
    ("email", MemberSort::Email),
    ("role", MemberSort::Role),
    ("joined", MemberSort::Joined),
    ("status", MemberSort::Status),
    ("verified", MemberSort::Verified),
];

/// Join dates are sorted newest first when their column is chosen.
const DESCENDING_FIRST: &[&str] = &["joined"];

#[derive(Template)]
#[template(path = "members/index.html")]
struct MembersPage {
    layout: Layout,
    slug: String,
    csrf: String,
    rows: Vec<MemberView>,
    state: Listing,
    next_url: Option<String>,
    manages: bool,
}

#[derive(Template)]
#[template(path = "members/_row_swap.html")]
struct RowFragment {
    row: MemberView,
    slug: String,
    csrf: String,
    flash: Option<String>,
}

#[derive(Template)]
#[template(path = "members/remove.html")]
struct RemovePage {
    layout: Layout,
    csrf: String,
    slug: String,
    row: MemberView,
}

#[derive(Template)]
#[template(path = "members/_remove_dialog.html")]
struct RemoveDialog {
    csrf: String,
    slug: String,
    row: MemberView,
}

#[derive(Template)]
#[template(path = "members/show.html")]
struct MemberPage {
    layout: Layout,
    slug: String,
    csrf: String,
    row: MemberView,
    invited_by: Option<String>,
}

#[derive(Template)]
#[template(path = "members/leave.html")]
struct LeavePage {
    layout: Layout,
    csrf: String,
    slug: String,
    org_name: String,
}

/// GET /orgs/{slug}/members
pub async fn list_members(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<TableParams>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (sort_name, sort) =
        SORTS.iter().find(|(name, _)| *name == params.sort).copied().unwrap_or(("name", MemberSort::Name));
    let descending = listing::descending(&params.dir, sort_name, DESCENDING_FIRST);
    let role = Role::from_db(&params.role);
    let (status_key, status) = match params.status.as_str() {
        "active" => ("active", MemberStatus::Active),
        "pending" => ("pending", MemberStatus::Pending),
        _ => ("", MemberStatus::All),
    };
    let after: Option<Cursor> = listing::decode_cursor(&params.after);
    let list = Listing {
        path: format!("/orgs/{slug}/members"),
        filters: vec![
            ("q", params.q.trim().to_owned()),
            ("role", role.map(Role::as_str).unwrap_or_default().to_owned()),
            ("status", status_key.to_owned()),
        ],
        sort: sort_name,
        descending,
        descending_first: DESCENDING_FIRST,
    };
    let search = list.filter("q").to_owned();
    let (viewer, access, found) = state
        .db
        .run(move |conn| {
            let (viewer, access) = access::page(conn, &slug, user.0)?;
            let found = rows::list(
                conn,
                &MemberQuery {
                    org: access.org.org_id(),
                    search: &search,
                    role,
                    status,
                    sort,
                    descending,
                    after,
                    limit: PAGE_SIZE,
                },
            )?;
            Ok::<_, AppError>((viewer, access, found))
        })
        .await?;
    let (shown, has_more) = listing::split_page(&found, PAGE_SIZE);
    let next_url =
        has_more.then(|| shown.last()).flatten().and_then(|last| list.next_url(&rows::cursor_after(last, sort)));
    page(&MembersPage {
        rows: shown.iter().map(|r| MemberView::new(r, &access)).collect(),
        slug: access.org.slug.clone(),
        csrf: frame.csrf().to_owned(),
        state: list,
        next_url,
        manages: access.role.can(Permission::ManageMembers),
        layout: frame.layout("Members", Some(viewer), Some(&access.org.slug), Nav::Members),
    })
}

/// Loads one member's row as the viewer sees it.
fn member_view(
    conn: &mut diesel::PgConnection,
    access: &OrgAccess,
    id: Uuid,
) -> Result<(MemberView, Option<Uuid>), AppError> {
    let member = memberships::detail(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    let row = MemberRow {
        kind: "member".into(),
        id: member.id,
        user_id: Some(member.user_id),
        name: member.member_name,
        email: member.member_email,
        role: member.role,
        joined: member.created_at,
        verified: member.member_verified,
        sort_key: String::new(),
    };
    let invited_by = member.invited_by;
    Ok((MemberView::new(&row, access), invited_by))
}

/// Answers a row action: the new row for htmx, a redirect with a flash otherwise.
fn row_response(
    req: &HttpRequest,
    frame: Frame,
    slug: &str,
    row: Option<MemberView>,
    message: String,
) -> Result<HttpResponse, AppError> {
    if is_htmx(req) {
        return match row {
            Some(row) => page(&RowFragment { row, slug: slug.to_owned(), csrf: frame.csrf().to_owned(), flash: Some(message) }),
            // A removed row disappears; the message goes to the alert region.
            None => Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(format!(
                    r#"<div id="flash" class="flashes" aria-live="polite" role="status" hx-swap-oob="true"><div class="flash flash-success">{}</div></div>"#,
                    askama::filters::escape(&message, askama::filters::Html).map(|m| m.to_string()).unwrap_or_default()
                ))),
        };
    }
    frame.session.flash(FlashLevel::Success, message);
    Ok(redirect(req, &format!("/orgs/{slug}/members")))
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// POST /orgs/{slug}/members/{id}/role: `Change role`.
pub async fn change_role(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let new_role = Role::from_db(form.role.trim())
        .ok_or_else(|| AppError::Invalid(crate::error::FormErrors::form("Choose Admin or Member.")))?;
    let actor = acting.actor();
    let (row, email) = state
        .db
        .run(move |conn| {
            let (_, email) = members::change_role(conn, &actor, &slug, id, new_role)?;
            let access = access::member_of(conn, &slug, actor.user)?;
            Ok::<_, AppError>((member_view(conn, &access, id)?.0, email))
        })
        .await?;
    let message = format!("{email} is now {}.", new_role.label());
    row_response(&req, frame, &slug_text, Some(row), message)
}

/// GET /orgs/{slug}/members/{id}/remove: the `Remove member` confirmation.
pub async fn confirm_remove(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let (viewer, row) = state
        .db
        .run(move |conn| {
            let (viewer, access) = access::page(conn, &slug, user.0)?;
            Ok::<_, AppError>((viewer, member_view(conn, &access, id)?.0))
        })
        .await?;
    if !row.removable {
        return Err(AppError::Forbidden(format!("You cannot remove {} from this organization.", row.email)));
    }
    let csrf = frame.csrf().to_owned();
    if is_htmx(&req) {
        return page(&RemoveDialog { csrf, slug: slug_text, row });
    }
    page(&RemovePage {
        csrf,
        row,
        layout: frame.layout("Remove member", Some(viewer), Some(&slug_text), Nav::Members),
        slug: slug_text,
    })
}

/// POST /orgs/{slug}/members/{id}/remove
pub async fn remove_member(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let actor = acting.actor();
    let email = state.db.run(move |conn| members::remove(conn, &actor, &slug, id)).await?;
    let message = format!("{email} was removed. Their account stays; you can invite them again.");
    row_response(&req, frame, &slug_text, None, message)
}

/// POST /orgs/{slug}/members/{id}/resend-verification
pub async fn resend_member_verification(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let actor = acting.actor();
    let app = state.clone();
    let (email, row) = state
        .db
        .run(move |conn| {
            let email = members::resend_verification(conn, &app.links, &actor, &slug, id)?;
            let access = access::member_of(conn, &slug, actor.user)?;
            Ok::<_, AppError>((email, member_view(conn, &access, id)?.0))
        })
        .await?;
    row_response(&req, frame, &slug_text, Some(row), format!("A new verification link was sent to {email}."))
}

/// GET /orgs/{slug}/members/{id}: a member's page.
pub async fn show_member(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let (viewer, row, invited_by) = state
        .db
        .run(move |conn| {
            let (viewer, access) = access::page(conn, &slug, user.0)?;
            let (row, inviter) = member_view(conn, &access, id)?;
            let invited_by = match inviter {
                Some(id) => users::find(conn, UserId(id))?.map(|u| format!("{} ({})", u.name, u.email)),
                None => None,
            };
            Ok::<_, AppError>((viewer, row, invited_by))
        })
        .await?;
    page(&MemberPage {
        csrf: frame.csrf().to_owned(),
        layout: frame.layout(row.name.clone(), Some(viewer), Some(&slug_text), Nav::Members),
        slug: slug_text,
        row,
        invited_by,
    })
}

/// GET /orgs/{slug}/leave: the confirmation.
pub async fn confirm_leave(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (viewer, access) = state
        .db
        .run(move |conn| {
            let (viewer, access) = access::page(conn, &slug, user.0)?;
            Ok::<_, AppError>((viewer, access))
        })
        .await?;
    crate::domain::permission::may_leave(access.role).map_err(|r| AppError::Forbidden(r.to_string()))?;
    page(&LeavePage {
        csrf: frame.csrf().to_owned(),
        org_name: access.org.name.clone(),
        layout: frame.layout("Leave organization", Some(viewer), Some(&access.org.slug), Nav::Overview),
        slug: access.org.slug,
    })
}

/// POST /orgs/{slug}/leave
pub async fn leave_organization(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let actor = acting.actor();
    let name = state.db.run(move |conn| members::leave(conn, &actor, &slug)).await?;
    frame.session.flash(FlashLevel::Success, format!("You left {name}."));
    Ok(redirect(&req, "/dashboard"))
}
