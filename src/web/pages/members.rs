//! The Members page: members and pending invitations; change role, suspend and
//! reactivate, remove, resend verification, leave.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::two_factor::TwoFactor;
use crate::domain::Role;
use crate::error::AppError;
use crate::services::impact::Seen;
use crate::services::members::{
    self, Cursor, Leftovers, MemberEntry, MemberFilter, MemberSort, MemberStatus, TwoFactorFilter,
};
use crate::web::export::{next_page, Exported};
use crate::web::extractors::{Acting, OrgItem, OrgSlug, SignedIn};
use crate::web::format::{machine_time, When};
use crate::web::htmx::{is_htmx, page, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{self, row_action, FlashFragment, Listing, TableParams};
use crate::web::recent_writes::browser_wrote;
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
    pub joined: When,
    /// When a member last used the organization (`None`: never, or an invitation).
    pub last_active: Option<When>,
    /// One or two letters for the avatar.
    pub initials: String,
    pub verified: bool,
    pub suspended: bool,
    /// Whether the identity provider manages the member (SCIM).
    pub managed: bool,
    /// Roles offered by `Change role` (empty: no control).
    pub role_choices: Vec<Role>,
    pub removable: bool,
    /// Whether `Suspend` (or, for a suspended member, `Reactivate`) is offered.
    pub can_suspend: bool,
    pub can_stop_scim: bool,
    pub can_resend_verification: bool,
    pub can_manage_invitation: bool,
    pub is_me: bool,
    /// Whether the `Two-factor` column is shown (the viewer manages members).
    pub shows_two_factor: bool,
    /// The member's second factor, for those who manage members.
    pub two_factor: Option<TwoFactor>,
    pub can_reset_two_factor: bool,
    /// The day the membership ends, if it does.
    pub expires: Option<String>,
    pub can_set_expiry: bool,
    /// Whether the `Expires` column is shown.
    pub shows_expires: bool,
    /// Whether the row has the bulk actions' checkbox column (the Members page, for
    /// those who manage members).
    pub selectable: bool,
}

impl MemberView {
    pub fn new(entry: MemberEntry) -> Self {
        let MemberEntry {
            row,
            role_choices,
            removable,
            can_suspend,
            can_stop_scim,
            can_resend_verification,
            can_manage_invitation,
            is_me,
            shows_two_factor,
            two_factor,
            can_reset_two_factor,
            can_set_expiry,
            shows_expires,
        } = entry;
        MemberView {
            id: row.id,
            is_member: row.is_member(),
            joined: When::of(row.joined),
            last_active: row.last_active.map(When::of),
            initials: initials(if row.is_member() { &row.name } else { &row.email }),
            name: row.name,
            email: row.email,
            role: row.role,
            verified: row.verified,
            suspended: row.suspended,
            managed: row.managed,
            expires: row.expires_at.map(crate::domain::dates::day),
            can_set_expiry,
            shows_expires,
            role_choices,
            removable,
            can_suspend,
            can_stop_scim,
            can_resend_verification,
            can_manage_invitation,
            is_me,
            shows_two_factor,
            two_factor,
            can_reset_two_factor,
            selectable: false,
        }
    }

    /// The row on the Members page, where those who manage members select rows.
    fn on_members_page(self) -> Self {
        MemberView { selectable: self.shows_two_factor, ..self }
    }

    pub fn has_actions(&self) -> bool {
        !self.role_choices.is_empty()
            || self.removable
            || self.can_suspend
            || self.can_stop_scim
            || self.can_resend_verification
            || self.can_manage_invitation
            || self.can_reset_two_factor
            || self.can_set_expiry
    }
}

/// "Ada Lovelace" → "AL"; "ann@example.com" → "A".
pub fn initials(text: &str) -> String {
    let words = text.split(|c: char| c.is_whitespace() || c == '@').filter(|w| !w.is_empty());
    let limit = if text.contains('@') { 1 } else { 2 };
    words.take(limit).filter_map(|w| w.chars().next()).flat_map(char::to_uppercase).collect()
}

const SORTS: [(&str, MemberSort); 7] = [
    ("name", MemberSort::Name),
    ("email", MemberSort::Email),
    ("role", MemberSort::Role),
    ("joined", MemberSort::Joined),
    ("status", MemberSort::Status),
    ("verified", MemberSort::Verified),
    ("last_active", MemberSort::LastActive),
];

/// Dates are sorted newest first when their column is chosen.
const DESCENDING_FIRST: &[&str] = &["joined", "last_active"];

#[derive(Template)]
#[template(path = "members/index.html")]
struct MembersPage {
    layout: Layout,
    /// Whether rows can be selected for a bulk action (those who manage members).
    bulk: bool,
    /// Whether `Change role` in bulk offers Admin (the Owner).
    offers_admin: bool,
    /// The bulk bar's team field.
    bulk_team: crate::web::picker::Picker,
    slug: String,
    csrf: String,
    rows: Vec<MemberView>,
    state: Listing,
    next_url: Option<String>,
    /// For those who invite: the seats, shown in the header.
    seats: Option<crate::domain::SeatUsage>,
    /// Whether the viewer sees the `Two-factor` column and filter (those who manage members).
    shows_two_factor: bool,
    /// Whether the `Expires` column is shown (some member has an end date).
    shows_expires: bool,
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
    left: Leftovers,
    seen: Seen,
    stale: bool,
}

#[derive(Template)]
#[template(path = "members/_remove_dialog.html")]
struct RemoveDialog {
    csrf: String,
    slug: String,
    row: MemberView,
    left: Leftovers,
    seen: Seen,
    stale: bool,
}

#[derive(Template)]
#[template(path = "members/suspend.html")]
struct SuspendPage {
    layout: Layout,
    csrf: String,
    slug: String,
    row: MemberView,
    seen: Seen,
    stale: bool,
}

#[derive(Template)]
#[template(path = "members/_suspend_dialog.html")]
struct SuspendDialog {
    csrf: String,
    slug: String,
    row: MemberView,
    seen: Seen,
    stale: bool,
}

#[derive(Template)]
#[template(path = "members/show.html")]
struct MemberPage {
    layout: Layout,
    slug: String,
    csrf: String,
    row: MemberView,
    invited_by: Option<String>,
    org_name: String,
    view: super::access::AccessView,
    me: bool,
    subject: String,
    sees_history: bool,
}

#[derive(Template)]
#[template(path = "members/leave.html")]
struct LeavePage {
    layout: Layout,
    csrf: String,
    slug: String,
    org_name: String,
    left: Leftovers,
}

/// A departure's form: whether what the person created goes with them.
#[derive(Debug, Default, Deserialize)]
pub struct DepartureForm {
    /// Present when the form listed webhook endpoints (with the checkbox).
    #[serde(default)]
    left_listed: Option<String>,
    /// `Also disable these`, checked by default.
    #[serde(default)]
    disable_integrations: Option<String>,
    /// The digest of the confirmation's preview.
    #[serde(default)]
    digest: Option<String>,
}

impl DepartureForm {
    /// Disabled unless the person saw the list and unchecked `Also disable these`.
    fn disable_integrations(form: Option<web::Form<Self>>) -> bool {
        form.is_none_or(|f| f.left_listed.is_none() || f.disable_integrations.is_some())
    }
}

/// The Members view a query string asks for: its state (for links) and its filter.
/// A bulk action's "every member matching" and an export read the same.
pub fn view_of(slug: &crate::domain::Slug, params: &TableParams) -> (Listing, MemberFilter) {
    let (sort_name, sort) =
        SORTS.iter().find(|(name, _)| *name == params.sort).copied().unwrap_or(("name", MemberSort::Name));
    let descending = listing::descending(&params.dir, sort_name, DESCENDING_FIRST);
    let role = Role::from_db(&params.role);
    let (status_key, status) = match params.status.as_str() {
        "active" => ("active", MemberStatus::Active),
        "pending" => ("pending", MemberStatus::Pending),
        "suspended" => ("suspended", MemberStatus::Suspended),
        "expiring" => ("expiring", MemberStatus::Expiring),
        _ => ("", MemberStatus::All),
    };
    let (two_factor_key, two_factor) = match params.two_factor.as_str() {
        "off" => ("off", Some(TwoFactorFilter::Off)),
        "on" => ("on", Some(TwoFactorFilter::On)),
        _ => ("", None),
    };
    let after: Option<Cursor> = listing::decode_cursor(&params.after);
    let list = Listing {
        path: format!("/orgs/{slug}/members"),
        filters: vec![
            ("q", params.q.trim().to_owned()),
            ("role", role.map(Role::as_str).unwrap_or_default().to_owned()),
            ("status", status_key.to_owned()),
            ("two_factor", two_factor_key.to_owned()),
        ],
        sort: sort_name,
        descending,
        descending_first: DESCENDING_FIRST,
        later_page: !params.after.is_empty(),
    };
    let filter =
        MemberFilter { search: list.filter("q").to_owned(), role, status, two_factor, sort, descending, after };
    (list, filter)
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
    let (list, filter) = view_of(&slug, &params);
    let sort = filter.sort;
    let members::MembersList { viewer, access, entries: found, seats } =
        state.db.run(move |conn| members::list_page(conn, &slug, user.0, &filter, PAGE_SIZE)).await?;
    let (shown, next_url) = list.page(&found, PAGE_SIZE, |last| members::cursor_after(&last.row, sort));
    page(&MembersPage {
        shows_expires: found.first().is_some_and(|entry| entry.shows_expires),
        rows: shown.iter().cloned().map(|entry| MemberView::new(entry).on_members_page()).collect(),
        slug: access.org.slug.clone(),
        csrf: frame.csrf().to_owned(),
        state: list,
        next_url,
        seats,
        shows_two_factor: access.role.can(crate::domain::Permission::ManageMembers),
        bulk: access.role.can(crate::domain::Permission::ManageMembers),
        offers_admin: access.role.can(crate::domain::Permission::ManageAdmins),
        bulk_team: crate::web::picker::Picker {
            placeholder: "Type a team's name",
            note: "(Add to team, Remove from team)".into(),
            ..crate::web::picker::Picker::single(
                "bulk-team",
                "Team",
                "team",
                format!("/orgs/{}/choices/teams", access.org.slug),
                "",
            )
        },
        layout: frame.layout("Members", Some(viewer), Some(&access.org.slug), Nav::Members),
    })
}

/// Answers an action on one member's row: the row, or its removal, in place.
fn row_response(
    req: &HttpRequest,
    frame: Frame,
    slug: &str,
    row: Option<MemberView>,
    message: String,
) -> Result<HttpResponse, AppError> {
    let back = format!("/orgs/{slug}/members");
    // A row swapped on the Members page keeps its checkbox; on Seat Usage it has none.
    let from_members = req
        .headers()
        .get("HX-Current-URL")
        .and_then(|url| url.to_str().ok())
        .and_then(|url| url::Url::parse(url).ok())
        .is_some_and(|url| url.path() == back);
    let row = row.map(|row| if from_members { row.on_members_page() } else { row });
    let slug = slug.to_owned();
    match row {
        Some(row) => row_action(req, frame, &back, message, |csrf, message| RowFragment {
            row,
            slug,
            csrf,
            flash: Some(message),
        }),
        // A removed row disappears, its seat is free; the message goes to the alert region.
        None => Ok(crate::web::htmx::with_trigger(
            row_action(req, frame, &back, message, |_, message| FlashFragment { message })?,
            "seatsChanged",
        )),
    }
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
    let entry = state.db.run(move |conn| members::change_role(conn, &actor, &slug, id, new_role)).await?;
    let message = format!("{} is now {}.", entry.row.email, new_role.label());
    let row = MemberView::new(entry);
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
    removal_page(req, frame, user, state, item, false).await
}

/// The `Remove member` confirmation, with what it does to the member's projects;
/// `stale`: asked again because that changed since the person looked.
async fn removal_page(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
    stale: bool,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let (viewer, entry, left, seen) = state.db.run(move |conn| members::removal(conn, &slug, user.0, id)).await?;
    let row = MemberView::new(entry);
    let csrf = frame.csrf().to_owned();
    if is_htmx(&req) {
        return page(&RemoveDialog { csrf, slug: slug_text, row, left, seen, stale });
    }
    page(&RemovePage {
        csrf,
        row,
        left,
        seen,
        stale,
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
    form: Option<web::Form<DepartureForm>>,
) -> Result<HttpResponse, AppError> {
    let seen = form.as_ref().and_then(|f| f.digest.clone());
    let again = OrgItem { slug: item.slug.clone(), id: item.id };
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let actor = acting.actor();
    let disable = DepartureForm::disable_integrations(form);
    let removed = state.db.run(move |conn| members::remove(conn, &actor, &slug, id, disable, seen.as_deref())).await;
    let email = match removed {
        Err(error) if crate::services::impact::is_stale(&error) => {
            let shown = removal_page(req.clone(), frame, SignedIn(acting.user), state, again, true).await?;
            return Ok(crate::web::confirm::asked_again(&req, shown));
        }
        other => other?,
    };
    let message = format!("{email} was removed. Their account stays; you can invite them again.");
    row_response(&req, frame, &slug_text, None, message)
}

/// GET /orgs/{slug}/members/{id}/suspend: the `Suspend` confirmation.
pub async fn confirm_suspend(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    suspension_page(req, frame, user, state, item, false).await
}

/// The `Suspend` confirmation, with what it does to the member's projects; `stale`:
/// asked again because that changed since the person looked.
async fn suspension_page(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
    stale: bool,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let (viewer, entry, seen) = state.db.run(move |conn| members::suspension(conn, &slug, user.0, id)).await?;
    let row = MemberView::new(entry);
    let csrf = frame.csrf().to_owned();
    if is_htmx(&req) {
        return page(&SuspendDialog { csrf, slug: slug_text, row, seen, stale });
    }
    page(&SuspendPage {
        csrf,
        row,
        seen,
        stale,
        layout: frame.layout("Suspend member", Some(viewer), Some(&slug_text), Nav::Members),
        slug: slug_text,
    })
}

/// POST /orgs/{slug}/members/{id}/suspend
pub async fn suspend_member(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    form: Option<web::Form<crate::web::confirm::SeenForm>>,
) -> Result<HttpResponse, AppError> {
    let seen = form.and_then(|f| f.into_inner().digest);
    set_suspended(req, frame, acting, state, item, Some(seen)).await
}

/// POST /orgs/{slug}/members/{id}/reactivate
pub async fn reactivate_member(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    set_suspended(req, frame, acting, state, item, None).await
}

/// `Suspend` (`suspend`: the digest of the confirmation seen, if any) or
/// `Reactivate` (`None`): the row in place, and the seat counter told.
async fn set_suspended(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    suspend: Option<Option<String>>,
) -> Result<HttpResponse, AppError> {
    let again = OrgItem { slug: item.slug.clone(), id: item.id };
    let OrgItem { slug, id } = item;
    let slug_text = slug.to_string();
    let actor = acting.actor();
    let suspending = suspend.is_some();
    let changed = state
        .db
        .run(move |conn| match &suspend {
            Some(seen) => members::suspend(conn, &actor, &slug, id, seen.as_deref()),
            None => members::reactivate(conn, &actor, &slug, id),
        })
        .await;
    let entry = match changed {
        Err(error) if crate::services::impact::is_stale(&error) => {
            let shown = suspension_page(req.clone(), frame, SignedIn(acting.user), state, again, true).await?;
            return Ok(crate::web::confirm::asked_again(&req, shown));
        }
        other => other?,
    };
    let suspend = suspending;
    let message = if suspend {
        format!("{} is suspended and their seat is free. Reactivate gives their access back.", entry.row.email)
    } else {
        format!("{} is active again, with their role, teams and project access.", entry.row.email)
    };
    seats_changed(row_response(&req, frame, &slug_text, Some(MemberView::new(entry)), message)?)
}

/// Tells the page's seat counter to refresh.
fn seats_changed(response: HttpResponse) -> Result<HttpResponse, AppError> {
    Ok(crate::web::htmx::with_trigger(response, "seatsChanged"))
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
    let entry = state.db.run(move |conn| members::resend_verification(conn, &app.links, &actor, &slug, id)).await?;
    let message = format!("A new verification link was sent to {}.", entry.row.email);
    row_response(&req, frame, &slug_text, Some(MemberView::new(entry)), message)
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
    let found = state.db.run(move |conn| members::member_page(conn, &slug, user.0, id)).await?;
    let row = MemberView::new(found.entry);
    let org_name = found.viewer.orgs.iter().find(|o| o.slug == slug_text).map(|o| o.name.clone()).unwrap_or_default();
    page(&MemberPage {
        csrf: frame.csrf().to_owned(),
        view: super::access::AccessView {
            manage: found.manages_access.then_some(row.id),
            ..super::access::AccessView::new(found.reach, &found.granters, &slug_text)
        },
        me: row.is_me,
        subject: row.name.clone(),
        sees_history: found.sees_history,
        org_name,
        layout: frame.layout(row.name.clone(), Some(found.viewer), Some(&slug_text), Nav::Members),
        slug: slug_text,
        row,
        invited_by: found.invited_by,
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
    let (viewer, access, left) = state.db.run(move |conn| members::leaving(conn, &slug, user.0)).await?;
    page(&LeavePage {
        left,
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
    form: Option<web::Form<DepartureForm>>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let actor = acting.actor();
    let disable = DepartureForm::disable_integrations(form);
    let name = state.db.run(move |conn| members::leave(conn, &actor, &slug, disable)).await?;
    frame.session.flash(FlashLevel::Success, format!("You left {name}."));
    Ok(redirect(&req, "/dashboard"))
}

#[derive(Template)]
#[template(path = "members/reset_two_factor.html")]
struct ResetTwoFactorPage {
    layout: Layout,
    slug: String,
    membership: Uuid,
    name: String,
    email: String,
    errors: crate::error::FormErrors,
}

/// The reset page for `membership`, with `errors` from a refused confirmation.
async fn reset_page(
    frame: Frame,
    state: &AppState,
    user: crate::domain::UserId,
    slug: crate::domain::Slug,
    membership: Uuid,
    status: actix_web::http::StatusCode,
    errors: crate::error::FormErrors,
) -> Result<HttpResponse, AppError> {
    let (viewer, access, target) =
        state.db.run(move |conn| crate::services::security::reset_preview(conn, &slug, user, membership)).await?;
    crate::web::htmx::page_with_status(
        status,
        &ResetTwoFactorPage {
            layout: frame.layout("Reset two-factor", Some(viewer), Some(&access.org.slug), Nav::Members),
            slug: access.org.slug,
            membership: target.membership,
            name: target.name,
            email: target.email,
            errors,
        },
    )
}

/// GET /orgs/{slug}/members/{id}/reset-two-factor: the Owner's typed confirmation.
pub async fn confirm_reset_two_factor(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let ok = actix_web::http::StatusCode::OK;
    reset_page(frame, &state, user.0, slug, id, ok, crate::error::FormErrors::new()).await
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    confirm: String,
}

/// POST /orgs/{slug}/members/{id}/reset-two-factor: `Reset two-factor`.
pub async fn reset_two_factor(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let (actor, lookup, typed, app) = (acting.actor(), slug.clone(), form.into_inner().confirm, state.clone());
    let reset =
        state.db.run(move |conn| crate::services::security::reset(conn, &app.links, &actor, &lookup, id, &typed)).await;
    match reset {
        Ok(target) => {
            let message = format!(
                "Two-factor authentication was reset for {}. They were signed out and told by email.",
                target.email
            );
            frame.session.flash(FlashLevel::Success, message);
            Ok(redirect(&req, &format!("/orgs/{slug}/members/{id}")))
        }
        Err(AppError::Invalid(errors)) => {
            let status = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            reset_page(frame, &state, acting.user, slug, id, status, errors).await
        }
        Err(other) => Err(other),
    }
}

/// Rows read per database round trip while exporting: each page costs two statements
/// and a trip through the blocking pool, so pages are long; one page's rows are in
/// memory. Measured against 100,000 members: pages of 2,000 streamed 60–66k rows a
/// second for 7–8 MB more memory, of 1,500 58–66k for 3–5 MB.
const EXPORT_PAGE: i64 = 1500;

/// The columns of a Members export.
const EXPORT_COLUMNS: &[&str] =
    &["name", "email", "type", "role", "status", "two_factor", "joined", "last_active", "expires", "teams", "projects"];

type ExportRow = (MemberEntry, crate::services::reach::MemberReach);

fn status_of(entry: &MemberEntry) -> &'static str {
    match (entry.row.is_member(), entry.row.suspended) {
        (false, _) => "pending",
        (true, true) => "suspended",
        (true, false) => "active",
    }
}

/// "Write via team Platform, Read granted directly".
pub(super) fn reasons_of(reach: &crate::domain::team::Reach<crate::services::reach::Place>) -> String {
    use crate::domain::team::Via;
    let said: Vec<String> = reach
        .reasons
        .iter()
        .map(|(level, via)| match via {
            Via::Direct => format!("{level} granted directly"),
            Via::Team(team) => format!("{level} via team {team}"),
        })
        .collect();
    said.join(", ")
}

/// A member's row of a CSV export: teams as "Platform (Maintainer); Ops (Member)",
/// projects as "Billing API: Write (Write via team Platform)".
fn member_fields((entry, reach): &ExportRow) -> Vec<String> {
    let row = &entry.row;
    let teams: Vec<String> =
        reach.teams.iter().map(|(team, role)| format!("{} ({})", team.name, role.label())).collect();
    let projects: Vec<String> =
        reach.projects.iter().map(|p| format!("{}: {} ({})", p.project.name, p.level, reasons_of(p))).collect();
    vec![
        row.name.clone(),
        row.email.clone(),
        if row.is_member() { "member" } else { "invitation" }.into(),
        row.role.as_str().into(),
        status_of(entry).into(),
        entry.two_factor.map(|f| f.as_str().to_owned()).unwrap_or_default(),
        machine_time(row.joined),
        row.last_active.map(machine_time).unwrap_or_default(),
        row.expires_at.map(machine_time).unwrap_or_default(),
        teams.join("; "),
        projects.join("; "),
    ]
}

/// A member as an object of a JSON export.
fn member_json((entry, reach): &ExportRow) -> serde_json::Value {
    let row = &entry.row;
    serde_json::json!({
        "id": row.id,
        "type": if row.is_member() { "member" } else { "invitation" },
        "name": row.name,
        "email": row.email,
        "role": row.role.as_str(),
        "status": status_of(entry),
        "two_factor": entry.two_factor.map(|f| f.as_str()),
        "joined_at": machine_time(row.joined),
        "last_active_at": row.last_active.map(machine_time),
        "expires_at": row.expires_at.map(machine_time),
        "teams": reach.teams.iter().map(|(team, role)| serde_json::json!({
            "name": team.name, "slug": team.slug, "role": role.as_str(),
        })).collect::<Vec<_>>(),
        "projects": reach.projects.iter().map(|p| serde_json::json!({
            "name": p.project.name,
            "slug": p.project.slug,
            "level": p.level.as_str(),
            "why": why_json(p),
        })).collect::<Vec<_>>(),
    })
}

/// The ways a project is reached, for a JSON export: `{level, team}` each, `team`
/// null for a grant to the member directly.
pub(super) fn why_json(reach: &crate::domain::team::Reach<crate::services::reach::Place>) -> Vec<serde_json::Value> {
    use crate::domain::team::Via;
    reach
        .reasons
        .iter()
        .map(|(level, via)| {
            serde_json::json!({
                "level": level.as_str(),
                "team": match via { Via::Team(team) => Some(team.as_str()), Via::Direct => None },
            })
        })
        .collect()
}

/// GET /orgs/{slug}/members.csv and .json: the Members view its query string asks for
/// (filters and sort, every page), with each member's teams and projects, streamed in
/// keyset pages; audited when done.
pub async fn export_members(
    req: HttpRequest,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<TableParams>,
    Exported(format): Exported,
) -> Result<HttpResponse, AppError> {
    // Every page after the first (whose access check is on the primary) from the
    // read replica, unless this browser just changed something.
    let after_write = browser_wrote(&req);
    let OrgSlug(slug) = slug;
    let (_, filter) = view_of(&slug, &params);
    let filter = MemberFilter { after: None, ..filter };
    let user = acting.user;
    let checked = slug.clone();
    let access = state.db.run(move |conn| members::export_access(conn, &checked, user)).await?;
    let (db, sort) = (state.db.clone(), filter.sort);
    let page = move |after: Option<Cursor>| {
        let (db, access, filter) = (db.clone(), access.clone(), MemberFilter { after, ..filter.clone() });
        async move {
            let rows =
                db.read(after_write, move |conn| members::export_page(conn, &access, &filter, EXPORT_PAGE)).await?;
            Ok(next_page(rows, EXPORT_PAGE, |(entry, _)| members::cursor_after(&entry.row, sort)))
        }
    };
    let (db, actor, name) = (state.db.clone(), acting.actor(), format!("{slug}-members"));
    let done = move |rows: usize| async move {
        db.run(move |conn| crate::services::exports::record(conn, &actor, &slug, "the Members view", format, rows))
            .await
    };
    let sheet = crate::web::export::Sheet { header: EXPORT_COLUMNS, csv: member_fields, json: member_json };
    Ok(crate::web::export::stream(format, &name, sheet, page, done))
}
