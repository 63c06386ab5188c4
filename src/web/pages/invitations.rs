//! The Invitations page: list, invite one or many, resend, copy link, revoke.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::Slug;
use crate::domain::{EmailList, InvitationStatus, Role, SeatUsage};
use crate::error::{AppError, FormErrors};
use crate::services::choices::{self, Choices, Of};
use crate::services::invitations::{
    self, Brings, CopiedLink, Cursor, InvitationFilter, InvitationRow as Invitation, InvitePage, InviteSummary,
    SortKey, StatusFilter,
};
use crate::web::export::{next_page, Exported};
use crate::web::extractors::{Acting, OrgItem, OrgSlug, SignedIn};
use crate::web::format::{format_date, machine_time, When};
use crate::web::htmx::{is_htmx, page, page_with_status, redirect, with_trigger};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{self, row_action, Listing, TableParams};
use crate::web::picker::{Chip, PickedFields, Picker};
use crate::web::recent_writes::browser_wrote;
use crate::web::session::FlashLevel;
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
    /// The teams and projects it brings, in words.
    pub grants: String,
}

impl RowView {
    pub fn new(invitation: &Invitation, viewer_role: Role, grants: &[String]) -> Self {
        let status = invitation.status_now();
        RowView {
            grants: grants.join(", "),
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
    /// The day the membership ends, as typed.
    pub access_until: String,
    /// The teams picker, when the viewer may bring teams.
    pub teams: Option<Picker>,
    /// The projects picker, when the viewer may bring projects.
    pub projects: Option<Picker>,
    pub errors: FormErrors,
    pub summary: Option<InviteSummary>,
    pub seats: Option<SeatUsage>,
    /// Where the summary leads back to: (URL, words).
    pub back: (String, String),
    /// A team Maintainer's form: one of their teams is required, and they do
    /// not manage invitations (no Resend in the summary).
    pub into_own_teams_only: bool,
}

impl InvitePanel {
    /// The form for `page`'s viewer, filled in with `form` (what was submitted, or
    /// a team chosen in advance); the chosen teams and projects are `page`'s.
    fn new(page: &InvitePage, form: &InviteForm) -> Self {
        let choices = &page.choices;
        let slug = page.access.org.slug.clone();
        let back = match (choices.into_own_teams_only, &choices.only_team) {
            (true, Some(team)) => (format!("/orgs/{slug}/teams/{}", team.slug), format!("Back to {}", team.name)),
            (true, None) => (format!("/orgs/{slug}/teams"), "Back to Teams".to_owned()),
            (false, _) => (format!("/orgs/{slug}/invitations"), "Back to Invitations".to_owned()),
        };
        let teams = choices.offers_teams.then(|| Picker {
            note: if choices.into_own_teams_only { "(at least one of yours)" } else { "(optional)" }.to_owned(),
            chips: page
                .chosen_teams
                .iter()
                .map(|t| Chip { field: "team", id: t.id, label: t.name.clone(), level: None })
                .collect(),
            query: form.picked.teams_q.clone(),
            hint: "They join these teams as Member when they accept.".to_owned(),
            placeholder: "Type a team's name",
            ..Picker::multiple("teams", "Teams", "team", format!("/orgs/{slug}/choices/teams"))
        });
        let projects = choices.offers_projects.then(|| Picker {
            note: "(optional)".to_owned(),
            chips: page
                .chosen_projects
                .iter()
                .map(|(p, level)| Chip { field: "project", id: p.id, label: p.name.clone(), level: Some(*level) })
                .collect(),
            query: form.picked.projects_q.clone(),
            hint: "They get access at the level beside each project when they accept.".to_owned(),
            placeholder: "Type a project's name",
            ..Picker::multiple("projects", "Projects", "project", format!("/orgs/{slug}/choices/projects"))
        });
        InvitePanel {
            emails: form.emails.clone(),
            role: form.role.clone(),
            access_until: form.access_until.clone(),
            roles: choices.roles.clone(),
            teams,
            projects,
            seats: Some(page.seats),
            into_own_teams_only: choices.into_own_teams_only,
            slug,
            back,
            ..InvitePanel::default()
        }
    }

    /// The form as answered: its errors (the teams' beside the teams picker) and summary.
    fn answered(mut self, errors: FormErrors, summary: Option<InviteSummary>) -> Self {
        if let (Some(picker), Some(message)) = (self.teams.as_mut(), errors.get("teams")) {
            picker.error = Some(message.to_owned());
        }
        InvitePanel { errors, summary, ..self }
    }

    /// The form after `Find` (without JavaScript): the matches under each picker searched.
    fn with_results(mut self, teams: Option<Choices>, projects: Option<Choices>) -> Self {
        if let Some(picker) = self.teams.as_mut() {
            picker.results = teams;
        }
        if let Some(picker) = self.projects.as_mut() {
            picker.results = projects;
        }
        self
    }

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
#[template(path = "invitations/_invite_dialog.html")]
struct InviteDialog {
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

/// `Send Invitations` as submitted: addresses, role, and the teams (`team`, one
/// field per team) and projects (`project:<id>` = level, or empty for none) chosen;
/// or, without JavaScript, `Find` (`find`, with the pickers' searches `teams_q` and
/// `projects_q`) or a chip's remove button (`drop` = its id), which send nothing.
#[derive(Debug, Clone, Default)]
pub struct InviteForm {
    emails: String,
    role: String,
    picked: PickedFields,
    /// The day the membership ends (`2027-03-31`), or empty.
    access_until: String,
}

impl InviteForm {
    fn from_fields(fields: Vec<(String, String)>) -> Self {
        let mut form = InviteForm::default();
        for (key, value) in fields {
            match key.as_str() {
                "emails" => form.emails = value,
                "role" => form.role = value,
                "membership_expires_at" => form.access_until = value,
                _ => {
                    form.picked.take(&key, value);
                }
            }
        }
        form
    }

    /// Whether this is a search or a chip's removal rather than `Send Invitations`.
    fn only_looks(&self) -> bool {
        self.picked.only_looks()
    }

    /// The teams and projects chosen, and the day the membership ends, or what is wrong
    /// with them.
    fn brings(&self) -> Result<Brings, FormErrors> {
        let until = crate::domain::expiry::parse_optional_date(&self.access_until, time::OffsetDateTime::now_utc());
        let access_until = until.map_err(|e| FormErrors::field("membership_expires_at", e))?;
        Ok(Brings { access_until, ..self.chosen()? })
    }

    /// The teams and projects chosen (each once, without the one removed), or what is
    /// wrong with them.
    fn chosen(&self) -> Result<Brings, FormErrors> {
        self.picked.chosen()
    }
}

/// `?team=<id>`: the team chosen in advance by `Invite to team`.
#[derive(Debug, Default, Deserialize)]
pub struct NewInvitationParams {
    #[serde(default)]
    team: String,
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
    let invitations::InvitationsList { page: invite_page, found, grants } =
        state.db.run(move |conn| invitations::list_page(conn, &slug, user.0, &filter, PAGE_SIZE)).await?;
    let (shown, next_url) = list.page(&found, PAGE_SIZE, |last| invitations::cursor_after(last, sort));
    let InvitePage { viewer, access, seats, .. } = invite_page;
    let role = access.role;
    let csrf = frame.csrf().to_owned();
    let rows: Vec<RowView> = shown
        .iter()
        .map(|(i, _)| RowView::new(i, role, grants.get(&i.id).map(Vec::as_slice).unwrap_or_default()))
        .collect();
    page(&InvitationsPage {
        has_pending: rows.iter().any(RowView::is_pending),
        rows,
        org_name: access.org.name.clone(),
        slug: access.org.slug.clone(),
        seats,
        next_url,
        state: list,
        csrf,
        layout: frame.layout("Invitations", Some(viewer), Some(&access.org.slug), Nav::Invitations),
    })
}

/// GET /orgs/{slug}/invitations/new: the invite form, as the dialog every `Invite
/// Members` opens with htmx, or as a page of its own (no JavaScript needed).
pub async fn new_invitations_form(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<NewInvitationParams>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    // `Invite to team` names one; a Maintainer with one team invites into it.
    let preset = Brings { teams: Uuid::parse_str(params.team.trim()).ok().into_iter().collect(), ..Brings::default() };
    let invite_page = state.db.run(move |conn| invitations::invite_form(conn, &slug, user.0, &preset)).await?;
    let panel = InvitePanel::new(&invite_page, &InviteForm::default());
    let nav = nav_for(&invite_page);
    let InvitePage { viewer, access, .. } = invite_page;
    if is_htmx(&req) {
        return page(&InviteDialog { org_name: access.org.name.clone(), csrf: frame.csrf().to_owned(), panel });
    }
    page(&NewInvitationsPage {
        org_name: access.org.name.clone(),
        csrf: frame.csrf().to_owned(),
        panel,
        layout: frame.layout("Invite Members", Some(viewer), Some(&access.org.slug), nav),
    })
}

/// The navigation entry of the invite form: Invitations for those who manage
/// members, Teams for a team Maintainer.
fn nav_for(page: &InvitePage) -> Nav {
    if page.access.role.can(crate::domain::Permission::ManageMembers) {
        Nav::Invitations
    } else {
        Nav::Teams
    }
}

/// POST /orgs/{slug}/invitations: `Send Invitations` (or, without JavaScript, a
/// picker's `Find` or a chip's removal, which answer the form and send nothing).
pub async fn invite_members(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let form = InviteForm::from_fields(form.into_inner());
    let brings = match form.brings() {
        Ok(brings) => brings,
        // A date that cannot be read: the form again, with the message beside it.
        Err(errors) if errors.get("membership_expires_at").is_some() => {
            let chosen = form.chosen().map_err(AppError::Invalid)?;
            let user = acting.user;
            let invite_page = state.db.run(move |conn| invitations::invite_form(conn, &slug, user, &chosen)).await?;
            let panel = InvitePanel::new(&invite_page, &form).answered(errors, None);
            return panel_response(&req, frame, StatusCode::UNPROCESSABLE_ENTITY, invite_page, panel, None);
        }
        Err(errors) => return Err(AppError::Invalid(errors)),
    };
    if form.only_looks() {
        return look_up(&req, frame, acting.user, &state, slug, form, brings).await;
    }
    let role = Role::from_db(form.role.trim());
    let list = EmailList::parse(&form.emails);
    let actor = acting.actor();
    let app = state.clone();
    let (invite_page, result) = state
        .db
        .run(move |conn| {
            invitations::invite_from_form(
                conn,
                &app.invitation_context(),
                &actor,
                &acting.ip,
                &slug,
                list,
                role,
                &brings,
            )
        })
        .await?;
    let (status, summary, errors, emails) = match result {
        // What was not sent stays in the box, to be corrected and sent again.
        Ok(summary) => {
            let unsent: Vec<&str> = summary.invalid.iter().map(|e| e.text.as_str()).collect();
            let unsent = unsent.join("\n");
            (StatusCode::OK, Some(summary), FormErrors::new(), unsent)
        }
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, None, errors, form.emails.clone()),
        Err(other) => return Err(other),
    };
    let sent = summary.as_ref().is_some_and(|s| !s.sent.is_empty());
    // After a successful send the form starts again, but keeps the chosen teams and projects.
    let kept = if sent {
        InviteForm { emails, role: form.role.clone(), ..InviteForm::default() }
    } else {
        InviteForm { emails, ..form }
    };
    let panel = InvitePanel::new(&invite_page, &kept).answered(errors, summary);
    let answer = if status == StatusCode::OK { Some("invitationsChanged") } else { None };
    panel_response(&req, frame, status, invite_page, panel, answer)
}

/// `Find` or a chip's removal without JavaScript: the form again, as it was, with
/// the matches of each picker that has something typed (or whose Find was pressed).
async fn look_up(
    req: &HttpRequest,
    frame: Frame,
    user: crate::domain::UserId,
    state: &web::Data<AppState>,
    slug: Slug,
    form: InviteForm,
    brings: Brings,
) -> Result<HttpResponse, AppError> {
    let (teams_q, projects_q) = (form.picked.search("teams"), form.picked.search("projects"));
    let (invite_page, teams, projects) = state
        .db
        .run(move |conn| {
            let invite_page = invitations::invite_form(conn, &slug, user, &brings)?;
            let teams = match teams_q.filter(|_| invite_page.choices.offers_teams) {
                Some(q) => Some(choices::find(conn, &slug, user, Of::Teams, &q, None)?),
                None => None,
            };
            let projects = match projects_q.filter(|_| invite_page.choices.offers_projects) {
                Some(q) => Some(choices::find(conn, &slug, user, Of::Projects, &q, None)?),
                None => None,
            };
            Ok::<_, AppError>((invite_page, teams, projects))
        })
        .await?;
    let panel = InvitePanel::new(&invite_page, &form).with_results(teams, projects);
    panel_response(req, frame, StatusCode::OK, invite_page, panel, None)
}

/// The invite form as an answer: the panel alone for htmx (with `trigger` when
/// invitations changed), the invite page otherwise.
fn panel_response(
    req: &HttpRequest,
    frame: Frame,
    status: StatusCode,
    invite_page: InvitePage,
    panel: InvitePanel,
    trigger: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let nav = nav_for(&invite_page);
    let InvitePage { viewer, access, .. } = invite_page;
    let csrf = frame.csrf().to_owned();
    if is_htmx(req) {
        let response = page_with_status(status, &InvitePanelFragment { csrf, panel })?;
        return Ok(match trigger {
            Some(event) => with_trigger(response, event),
            None => response,
        });
    }
    page_with_status(
        status,
        &NewInvitationsPage {
            org_name: access.org.name.clone(),
            csrf,
            panel,
            layout: frame.layout("Invite Members", Some(viewer), Some(&access.org.slug), nav),
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
    let response = row_action(req, frame, &format!("/orgs/{slug}/invitations"), message, |csrf, message| {
        RowFragment { row, slug, csrf, link: None, flash: Some(message) }
    })?;
    // A revoked invitation frees its seat, a resent expired one takes one again:
    // the seat counts on the page refresh.
    Ok(with_trigger(response, "seatsChanged"))
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
    let (invitation, role, grants) =
        state.db.run(move |conn| invitations::resend(conn, &app.invitation_context(), &actor, &slug, id)).await?;
    let message = format!(
        "Invitation sent again to {}. The previous link no longer works; the new one expires on {}.",
        invitation.email,
        format_date(invitation.expires_at)
    );
    row_response(&req, frame, &slug_text, RowView::new(&invitation, role, &grants), message)
}

/// POST /orgs/{slug}/invitations/resend-expiring: `Resend all expiring`, on the
/// Overview. Answers with the Overview and a message saying what was sent, or why not.
pub async fn resend_expiring(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let actor = acting.actor();
    let app = state.clone();
    let lookup = slug.clone();
    let (level, message) = match state
        .db
        .run(move |conn| invitations::resend_expiring(conn, &app.invitation_context(), &actor, &lookup))
        .await
    {
        Ok(done) => (FlashLevel::Success, resent_in_words(&done)),
        Err(AppError::Conflict(message) | AppError::RateLimited { message, .. }) => (FlashLevel::Error, message),
        Err(e) => return Err(e),
    };
    frame.session.flash(level, message);
    Ok(redirect(&req, &format!("/orgs/{slug}")))
}

/// What `Resend all expiring` did, in one message.
fn resent_in_words(done: &invitations::ResentExpiring) -> String {
    let count = done.sent.len();
    let mut words = match done.sent.iter().map(|i| i.expires_at).min() {
        Some(expires) => format!(
            "{count} invitation{} sent again; the new link{} expire{} on {} at the earliest.",
            if count == 1 { " was" } else { "s were" },
            if count == 1 { "" } else { "s" },
            if count == 1 { "s" } else { "" },
            format_date(expires)
        ),
        None => "No invitation was sent again.".to_owned(),
    };
    if !done.held_back.is_empty() {
        words.push_str(&format!(
            " Held back, as they were sent too many emails in the last hour: {}.",
            done.held_back.join(", ")
        ));
    }
    match done.not_yours {
        0 => {}
        1 => words.push_str(" One invitation for an Admin is left to the Owner."),
        n => words.push_str(&format!(" {n} invitations for Admins are left to the Owner.")),
    }
    words
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
    let CopiedLink { invitation, grants, link, viewer, viewer_role: role } =
        state.db.run(move |conn| invitations::copy_link(conn, &app.invitation_context(), &actor, &lookup, id)).await?;
    if is_htmx(&req) {
        return page(&RowFragment {
            row: RowView::new(&invitation, role, &grants),
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
    let row = RowView::new(&invitation, role, &[]);
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
    let (invitation, role, grants) = state.db.run(move |conn| invitations::revoke(conn, &actor, &slug, id)).await?;
    let message = format!("Invitation to {} revoked. Its link no longer works and its seat is free.", invitation.email);
    row_response(&req, frame, &slug_text, RowView::new(&invitation, role, &grants), message)
}

/// Rows read per database round trip while exporting.
const EXPORT_PAGE: i64 = 500;

/// The columns of an Invitations export.
const EXPORT_COLUMNS: &[&str] =
    &["email", "role", "status", "invited_by", "invited", "expires", "last_sent", "send_count", "brings"];

type ExportRow = (crate::services::invitations::InvitationRow, Vec<String>);

/// An invitation as a CSV row: what it brings as "team Platform; project API (Write)".
fn invitation_fields((invitation, brings): &ExportRow) -> Vec<String> {
    vec![
        invitation.email.clone(),
        invitation.role.as_str().into(),
        invitation.status_now().key().into(),
        invitation.inviter_name.clone(),
        machine_time(invitation.created_at),
        machine_time(invitation.expires_at),
        machine_time(invitation.last_sent_at),
        invitation.send_count.to_string(),
        brings.join("; "),
    ]
}

/// An invitation as an object of a JSON export.
fn invitation_json((invitation, brings): &ExportRow) -> serde_json::Value {
    serde_json::json!({
        "id": invitation.id,
        "email": invitation.email,
        "role": invitation.role.as_str(),
        "status": invitation.status_now().key(),
        "invited_by": invitation.inviter_name,
        "invited_at": machine_time(invitation.created_at),
        "expires_at": machine_time(invitation.expires_at),
        "last_sent_at": machine_time(invitation.last_sent_at),
        "send_count": invitation.send_count,
        "brings": brings,
    })
}

/// GET /orgs/{slug}/invitations.csv and .json: the Invitations view its query string
/// asks for (status, search, sort; every page), with what each invitation brings,
/// streamed in keyset pages; audited when done.
pub async fn export_invitations(
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
    let (list, status, sort, _) = parse_listing(slug.as_str(), &params);
    let filter = InvitationFilter {
        status,
        search: list.filter("q").to_owned(),
        sort,
        descending: list.descending,
        after: None,
    };
    // Refused here, before the answer starts, for those who may not read invitations.
    let (actor, checked, first) = (acting.actor(), slug.clone(), filter.clone());
    state.db.run(move |conn| invitations::list(conn, &actor, &checked, &first, 0)).await?;
    let (db, actor, org) = (state.db.clone(), acting.actor(), slug.clone());
    let page = move |after: Option<crate::services::invitations::Cursor>| {
        let (db, actor, org, filter) =
            (db.clone(), actor.clone(), org.clone(), InvitationFilter { after, ..filter.clone() });
        async move {
            let (found, mut grants) =
                db.read(after_write, move |conn| invitations::list(conn, &actor, &org, &filter, EXPORT_PAGE)).await?;
            let (found, next) = next_page(found, EXPORT_PAGE, |last| invitations::cursor_after(last, sort));
            let rows: Vec<ExportRow> = found
                .into_iter()
                .map(|(invitation, _)| {
                    let brings = grants.remove(&invitation.id).unwrap_or_default();
                    (invitation, brings)
                })
                .collect();
            Ok((rows, next))
        }
    };
    let (db, actor, name) = (state.db.clone(), acting.actor(), format!("{slug}-invitations"));
    let done = move |rows: usize| async move {
        db.run(move |conn| crate::services::exports::record(conn, &actor, &slug, "the Invitations view", format, rows))
            .await
    };
    let sheet = crate::web::export::Sheet { header: EXPORT_COLUMNS, csv: invitation_fields, json: invitation_json };
    Ok(crate::web::export::stream(format, &name, sheet, page, done))
}
