//! The Invitations page: list, invite one or many, resend, copy link, revoke.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::{EmailList, InvitationStatus, Role, SeatUsage};
use crate::error::{AppError, FormErrors};
use crate::services::invitations::{
    self, CopiedLink, Cursor, InvitationFilter, InvitationRow as Invitation, InvitePage, InviteSummary, SortKey,
    StatusFilter,
};
use crate::web::extractors::{Acting, OrgItem, OrgSlug, SignedIn};
use crate::web::format::{format_date, When};
use crate::web::htmx::{is_htmx, page, page_with_status, with_trigger};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{self, row_action, Listing, TableParams};
use crate::web::state::AppState;

const PAGE_SIZE: i64 = 50;

/// One row of the table, ready to show.
pub struct RowView {
    pub id: Uuid,
    pub email: String,
    pub role: &'static str,
    pub status: InvitationStatus,
    pub invited: When,
    pub invited_by: String,
    pub expires: When,
    pub send_count: i32,
    /// Whether the viewer may resend, copy or revoke it.
    pub manageable: bool,
}

impl RowView {
    fn new(invitation: &Invitation, viewer_role: Role) -> Self {
        let status = invitation.status_now();
        RowView {
            id: invitation.id,
            email: invitation.email.clone(),
            role: invitation.role.label(),
            status,
            invited: When::of(invitation.created_at),
            invited_by: invitation.inviter_name.clone(),
            expires: When::of(invitation.expires_at),
            send_count: invitation.send_count,
            manageable: status.can_resend() && viewer_role.may_invite_as(invitation.role),
        }
    }
    pub fn is_pending(&self) -> bool {
        self.status == InvitationStatus::Pending
    }
    pub fn is_expired(&self) -> bool {
        self.status == InvitationStatus::Expired
    }
}

/// The list's filter, search and sort, as they appear in the URL.
const SORTS: [(&str, SortKey); 6] = [
    ("email", SortKey::Email),
    ("role", SortKey::Role),
    ("status", SortKey::Status),
    ("invited", SortKey::Invited),
    ("invited_by", SortKey::InvitedBy),
    ("expires", SortKey::Expires),
];

/// Dates are sorted newest first when their column is chosen.
const DESCENDING_FIRST: &[&str] = &["invited", "expires"];

/// The table's state from its URL: filters, sort and cursor.
fn parse_listing(slug: &str, params: &TableParams) -> (Listing, StatusFilter, SortKey, Option<Cursor>) {
    let (status, filter) = match params.status.as_str() {
        "all" => ("all", StatusFilter::All),
        key => match InvitationStatus::from_key(key) {
            Some(s) => (s.key(), StatusFilter::Only(s)),
            None => ("", StatusFilter::Open),
        },
    };
    let (sort, key) =
        SORTS.iter().find(|(name, _)| *name == params.sort).copied().unwrap_or(("invited", SortKey::Invited));
    let listing = Listing {
        path: format!("/orgs/{slug}/invitations"),
        filters: vec![("status", status.to_owned()), ("q", params.q.trim().to_owned())],
        sort,
        descending: listing::descending(&params.dir, sort, DESCENDING_FIRST),
        descending_first: DESCENDING_FIRST,
        later_page: !params.after.is_empty(),
    };
    (listing, filter, key, listing::decode_cursor(&params.after))
}

/// The invite form and, after sending, its summary.
#[derive(Default)]
pub struct InvitePanel {
    pub slug: String,
    pub emails: String,
    pub role: String,
    pub roles: Vec<Role>,
    pub errors: FormErrors,
    pub summary: Option<InviteSummary>,
    pub seats: Option<SeatUsage>,
}

impl InvitePanel {
    pub fn role_selected(&self, role: &Role) -> bool {
        self.role == role.as_str() || (self.role.is_empty() && *role == Role::Member)
    }
}

#[derive(Template)]
#[template(path = "invitations/index.html")]
struct InvitationsPage {
    layout: Layout,
    org_name: String,
    slug: String,
    csrf: String,
    seats: SeatUsage,
    rows: Vec<RowView>,
    /// Whether any row is pending, for the one "not received?" hint above the table.
    has_pending: bool,
    state: Listing,
    next_url: Option<String>,
    panel: InvitePanel,
}

#[derive(Template)]
#[template(path = "invitations/new.html")]
struct NewInvitationsPage {
    layout: Layout,
    org_name: String,
    csrf: String,
    panel: InvitePanel,
}

#[derive(Template)]
#[template(path = "invitations/_invite_panel.html")]
struct InvitePanelFragment {
    csrf: String,
    panel: InvitePanel,
}

#[derive(Template)]
#[template(path = "invitations/_row_swap.html")]
struct RowFragment {
    row: RowView,
    slug: String,
    csrf: String,
    link: Option<String>,
    flash: Option<String>,
}

#[derive(Template)]
#[template(path = "invitations/link.html")]
struct LinkPage {
    layout: Layout,
    email: String,
    link: String,
    slug: String,
}

#[derive(Template)]
#[template(path = "invitations/revoke.html")]
struct RevokePage {
    layout: Layout,
    csrf: String,
    slug: String,
    row: RowView,
}

#[derive(Template)]
#[template(path = "invitations/_revoke_dialog.html")]
struct RevokeDialog {
    csrf: String,
    slug: String,
    row: RowView,
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    emails: String,
    #[serde(default)]
    role: String,
}

fn context(state: &AppState) -> invitations::Context<'_> {
    invitations::Context {
        links: &state.links,
        tokens: &state.tokens,
        ttl: time::Duration::try_from(state.settings.invitation_ttl).unwrap_or(time::Duration::days(7)),
    }
}

/// GET /orgs/{slug}/invitations
pub async fn list_invitations(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<TableParams>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (list, filter, sort, after) = parse_listing(slug.as_str(), &params);
    let filter = InvitationFilter {
        status: filter,
        search: list.filter("q").to_owned(),
        sort,
        descending: list.descending,
        after,
    };
    let (InvitePage { viewer, access, seats }, found) =
        state.db.run(move |conn| invitations::list_page(conn, &slug, user.0, &filter, PAGE_SIZE)).await?;
    let (shown, next_url) = list.page(&found, PAGE_SIZE, |last| invitations::cursor_after(last, sort));
    let role = access.role;
    let csrf = frame.csrf().to_owned();
    let rows: Vec<RowView> = shown.iter().map(|(i, _)| RowView::new(i, role)).collect();
    page(&InvitationsPage {
        has_pending: rows.iter().any(RowView::is_pending),
        rows,
        org_name: access.org.name.clone(),
        slug: access.org.slug.clone(),
        seats,
        next_url,
        panel: InvitePanel {
            slug: access.org.slug.clone(),
            roles: role.invitable_roles(),
            seats: Some(seats),
            ..InvitePanel::default()
        },
        state: list,
        csrf,
        layout: frame.layout("Invitations", Some(viewer), Some(&access.org.slug), Nav::Invitations),
    })
}

/// GET /orgs/{slug}/invitations/new: the invite form as a page of its own (no JavaScript needed).
pub async fn new_invitations_form(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let InvitePage { viewer, access, seats } =
        state.db.run(move |conn| invitations::invite_form(conn, &slug, user.0)).await?;
    page(&NewInvitationsPage {
        org_name: access.org.name.clone(),
        csrf: frame.csrf().to_owned(),
        panel: InvitePanel {
            slug: access.org.slug.clone(),
            roles: access.role.invitable_roles(),
            seats: Some(seats),
            ..InvitePanel::default()
        },
        layout: frame.layout("Invite Members", Some(viewer), Some(&access.org.slug), Nav::Invitations),
    })
}

/// POST /orgs/{slug}/invitations: `Send Invitations`.
pub async fn invite_members(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let form = form.into_inner();
    let role = Role::from_db(form.role.trim());
    let list = EmailList::parse(&form.emails);
    let actor = acting.actor();
    let app = state.clone();
    let (InvitePage { viewer, access, seats }, result) = state
        .db
        .run(move |conn| invitations::invite_from_form(conn, &context(&app), &actor, &acting.ip, &slug, list, role))
        .await?;
    let (status, summary, errors, emails) = match result {
        // What was not sent stays in the box, to be corrected and sent again.
        Ok(summary) => {
            let unsent: Vec<&str> = summary.invalid.iter().map(|e| e.text.as_str()).collect();
            let unsent = unsent.join("\n");
            (StatusCode::OK, Some(summary), FormErrors::new(), unsent)
        }
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, None, errors, form.emails),
        Err(other) => return Err(other),
    };
    let panel = InvitePanel {
        slug: access.org.slug.clone(),
        emails,
        role: form.role,
        roles: access.role.invitable_roles(),
        errors,
        summary,
        seats: Some(seats),
    };
    let csrf = frame.csrf().to_owned();
    if is_htmx(&req) {
        let response = page_with_status(status, &InvitePanelFragment { csrf, panel })?;
        return Ok(if status == StatusCode::OK { with_trigger(response, "invitationsChanged") } else { response });
    }
    page_with_status(
        status,
        &NewInvitationsPage {
            org_name: access.org.name.clone(),
            csrf,
            panel,
            layout: frame.layout("Invite Members", Some(viewer), Some(&access.org.slug), Nav::Invitations),
        },
    )
}

/// Answers an action on one invitation's row: the row, in place.
fn row_response(
    req: &HttpRequest,
    frame: Frame,
    slug: &str,
    row: RowView,
    message: String,
) -> Result<HttpResponse, AppError> {
    let slug = slug.to_owned();
    row_action(req, frame, &format!("/orgs/{slug}/invitations"), message, |csrf, message| RowFragment {
        row,
        slug,
        csrf,
        link: None,
        flash: Some(message),
    })
}

/// POST /orgs/{slug}/invitations/{id}/resend
pub async fn resend_invitation(
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
    let (invitation, role) =
        state.db.run(move |conn| invitations::resend(conn, &context(&app), &actor, &slug, id)).await?;
    let message = format!(
        "Invitation sent again to {}. The previous link no longer works; the new one expires on {}.",
        invitation.email,
        format_date(invitation.expires_at)
    );
    row_response(&req, frame, &slug_text, RowView::new(&invitation, role), message)
}

/// POST /orgs/{slug}/invitations/{id}/link: `Copy Link`.
pub async fn copy_invitation_link(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let actor = acting.actor();
    let app = state.clone();
    let lookup = slug.clone();
    let CopiedLink { invitation, link, viewer, viewer_role: role } =
        state.db.run(move |conn| invitations::copy_link(conn, &context(&app), &actor, &lookup, id)).await?;
    if is_htmx(&req) {
        return page(&RowFragment {
            row: RowView::new(&invitation, role),
            slug: slug.to_string(),
            csrf: frame.csrf().to_owned(),
            link: Some(link),
            flash: None,
        });
    }
    let mut response = page(&LinkPage {
        email: invitation.email.clone(),
        link,
        slug: slug.to_string(),
        layout: frame.layout("Invitation link", Some(viewer), Some(slug.as_str()), Nav::Invitations),
    })?;
    response.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// GET /orgs/{slug}/invitations/{id}/revoke: the confirmation, as a dialog for htmx or a page.
pub async fn confirm_revoke(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let lookup = slug.clone();
    let (viewer, invitation, role) =
        state.db.run(move |conn| invitations::revocation(conn, &lookup, user.0, id)).await?;
    let row = RowView::new(&invitation, role);
    let csrf = frame.csrf().to_owned();
    if is_htmx(&req) {
        return page(&RevokeDialog { csrf, slug: slug.to_string(), row });
    }
    page(&RevokePage {
        csrf,
        slug: slug.to_string(),
        row,
        layout: frame.layout("Revoke invitation", Some(viewer), Some(slug.as_str()), Nav::Invitations),
    })
}

/// POST /orgs/{slug}/invitations/{id}/revoke
pub async fn revoke_invitation(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let actor = acting.actor();
    let (invitation, role) = state.db.run(move |conn| invitations::revoke(conn, &actor, &slug, id)).await?;
    let message = format!("Invitation to {} revoked. Its link no longer works and its seat is free.", invitation.email);
    row_response(&req, frame, &slug_text, RowView::new(&invitation, role), message)
}
