//! Requests to join (DESIGN.md §2.12): `Ask to join` on the Dashboard, and the one
//! queue the Owner and Admins answer, `Members → Requests`, with a page per request
//! (`Approve` with a role and teams, `Deny` with a reason). Plain forms throughout.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::join_request::{parse_text, RequestStatus};
use crate::domain::{Role, SeatUsage, UserId};
use crate::error::{AppError, FormErrors};
use crate::services::choices::{self, Choices, Of};
use crate::services::join_requests::{self, QueuedRequest, RequestPage};
use crate::web::extractors::{Acting, OrgItem, OrgSlug, SignedIn};
use crate::web::format::When;
use crate::web::htmx::{page, page_with_status, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{decode_cursor, page_and_cursor, time_cursor, time_position};
use crate::web::picker::{Chip, PickedFields, Picker};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// Requests shown per page of the queue.
const PAGE_SIZE: i64 = 50;

/// A request as a row of the queue or the head of its page.
pub struct RequestView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub note: Option<String>,
    pub asked: When,
    pub status: RequestStatus,
    pub waits_for_seat: bool,
    /// Made through an invite link that requires approval.
    pub via_link: bool,
}

impl RequestView {
    fn new(queued: &QueuedRequest) -> Self {
        let r = &queued.request;
        RequestView {
            id: r.id,
            name: queued.name.clone(),
            email: r.email.clone(),
            note: r.note.clone(),
            asked: When::of(r.created_at),
            status: r.status,
            waits_for_seat: queued.waits_for_seat,
            via_link: r.invite_link_id.is_some(),
        }
    }

    /// Initials for the avatar, as the Members table draws them.
    pub fn initials(&self) -> String {
        super::members::initials(&self.name)
    }
}

/// `?after=` of the queue: the last request shown and its place.
#[derive(Debug, Default, Deserialize)]
pub struct QueueParams {
    #[serde(default)]
    after: String,
}

#[derive(Template)]
#[template(path = "members/requests.html")]
struct QueuePage {
    layout: Layout,
    csrf: String,
    slug: String,
    org_name: String,
    seats: SeatUsage,
    open: i64,
    rows: Vec<RequestView>,
    next_url: Option<String>,
    /// How many the `Approve oldest` button would let in (free seats, open requests).
    oldest: i64,
}

/// GET /orgs/{slug}/members/requests: the open requests, oldest first.
pub async fn list_requests(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<QueueParams>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let after = decode_cursor(&params.after).and_then(time_position);
    let queue = state.db.run(move |conn| join_requests::queue(conn, &slug, user.0, after, PAGE_SIZE)).await?;
    let (shown, next) =
        page_and_cursor(&queue.requests, PAGE_SIZE, |last| time_cursor(last.request.created_at, last.request.id));
    let next_url = next.map(|cursor| format!("/orgs/{}/members/requests?after={cursor}", queue.access.org.slug));
    let org = queue.access.org.clone();
    page(&QueuePage {
        csrf: frame.csrf().to_owned(),
        slug: org.slug.clone(),
        org_name: org.name.clone(),
        seats: queue.seats,
        open: queue.open,
        oldest: queue.seats.available().min(queue.open),
        rows: shown.iter().map(RequestView::new).collect(),
        next_url,
        layout: frame.layout("Requests", Some(queue.viewer), Some(&org.slug), Nav::Requests),
    })
}

/// The `Approve` form as sent: role, the teams chosen (`team`, one field each) and,
/// without JavaScript, the teams picker's search (`teams_q` with `find`, or a chip's
/// `drop`), which approves nothing.
#[derive(Debug, Clone, Default)]
pub struct ApproveForm {
    role: String,
    picked: PickedFields,
}

impl ApproveForm {
    fn from_fields(fields: Vec<(String, String)>) -> Self {
        let mut form = ApproveForm::default();
        for (key, value) in fields {
            if key == "role" {
                form.role = value;
            } else {
                form.picked.take(&key, value);
            }
        }
        form
    }

    /// The teams chosen, each once, without the one removed.
    fn teams(&self) -> Result<Vec<Uuid>, FormErrors> {
        Ok(self.picked.chosen()?.teams)
    }

    fn role(&self) -> Result<Role, FormErrors> {
        match Role::from_db(self.role.trim()) {
            Some(role @ (Role::Admin | Role::Member)) => Ok(role),
            _ => Err(FormErrors::field("role", "Choose Member or Admin.")),
        }
    }
}

/// The `Deny` form: an optional reason.
#[derive(Debug, Default, Deserialize)]
pub struct DenyForm {
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "members/request.html")]
struct RequestPageView {
    layout: Layout,
    csrf: String,
    slug: String,
    org_name: String,
    request: RequestView,
    answered_by: Option<String>,
    /// The invite link it came through: its label and what it brings.
    via_link: Option<(String, Vec<String>)>,
    roles: Vec<Role>,
    role: String,
    teams: Picker,
    reason: String,
    seats: SeatUsage,
    errors: FormErrors,
}

impl RequestPageView {
    pub fn role_selected(&self, role: &Role) -> bool {
        self.role == role.as_str() || (self.role.is_empty() && *role == Role::Member)
    }
}

/// What the request's page shows besides the request: the forms as sent, and why
/// one was refused.
#[derive(Default)]
struct Sent {
    approve: ApproveForm,
    deny: DenyForm,
    errors: FormErrors,
    results: Option<Choices>,
}

/// The page of one request, its forms as sent (`sent`) with `status`.
async fn render(
    frame: Frame,
    state: &AppState,
    user: UserId,
    item: OrgItem,
    status: StatusCode,
    sent: Sent,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let chosen = sent.approve.teams().unwrap_or_default();
    let search = sent.approve.picked.search("teams");
    let (found, results) = state
        .db
        .run(move |conn| {
            let found = join_requests::request_page(conn, &slug, user, id, &chosen)?;
            let results = match search {
                Some(q) => Some(choices::find(conn, &slug, user, Of::Teams, &q, None)?),
                None => None,
            };
            Ok::<_, AppError>((found, results))
        })
        .await?;
    let RequestPage { viewer, access, request, roles, seats, answered_by, chosen_teams, via_link } = found;
    let org = access.org;
    let teams = Picker {
        note: "(optional)".to_owned(),
        chips: chosen_teams
            .iter()
            .map(|t| Chip { field: "team", id: t.id, label: t.name.clone(), level: None })
            .collect(),
        query: sent.approve.picked.teams_q.clone(),
        hint: "They join these teams as Member.".to_owned(),
        placeholder: "Type a team's name",
        results: results.or(sent.results),
        error: sent.errors.get("teams").map(str::to_owned),
        ..Picker::multiple("teams", "Teams", "team", format!("/orgs/{}/choices/teams", org.slug))
    };
    let view = RequestView::new(&request);
    page_with_status(
        status,
        &RequestPageView {
            csrf: frame.csrf().to_owned(),
            layout: frame.layout(format!("Request of {}", view.name), Some(viewer), Some(&org.slug), Nav::Requests),
            slug: org.slug.clone(),
            org_name: org.name.clone(),
            request: view,
            answered_by,
            via_link,
            roles,
            role: sent.approve.role,
            teams,
            reason: sent.deny.reason,
            seats,
            errors: sent.errors,
        },
    )
}

/// GET /orgs/{slug}/members/requests/{id}
pub async fn show_request(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    render(frame, &state, user.0, item, StatusCode::OK, Sent::default()).await
}

/// Where the Owner or Admin goes after answering: the queue.
fn to_queue(req: &HttpRequest, frame: Frame, slug: &str, level: FlashLevel, message: String) -> HttpResponse {
    frame.session.flash(level, message);
    redirect(req, &format!("/orgs/{slug}/members/requests"))
}

/// POST /orgs/{slug}/members/requests/{id}/approve
pub async fn approve_request(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let form = ApproveForm::from_fields(fields);
    if form.picked.only_looks() {
        let sent = Sent { approve: form, ..Sent::default() };
        return render(frame, &state, acting.user, item, StatusCode::OK, sent).await;
    }
    let chosen = form.role().and_then(|role| Ok((role, form.teams()?)));
    let (role, teams) = match chosen {
        Ok(chosen) => chosen,
        Err(errors) => {
            let sent = Sent { approve: form, errors, ..Sent::default() };
            return render(frame, &state, acting.user, item, StatusCode::UNPROCESSABLE_ENTITY, sent).await;
        }
    };
    let (actor, slug, id) = (acting.actor(), item.slug.clone(), item.id);
    let done = state.db.run(move |conn| join_requests::approve(conn, &actor, &slug, id, role, &teams)).await;
    match done {
        Ok(approved) => {
            let with =
                if approved.teams.is_empty() { String::new() } else { format!(", in {}", approved.teams.join(", ")) };
            let message = format!("{} joined as {}{with}.", approved.name, approved.role.label());
            Ok(to_queue(&req, frame, item.slug.as_str(), FlashLevel::Success, message))
        }
        Err(AppError::Invalid(errors)) => {
            let sent = Sent { approve: form, errors, ..Sent::default() };
            render(frame, &state, acting.user, item, StatusCode::UNPROCESSABLE_ENTITY, sent).await
        }
        // No seat, or answered meanwhile: said on the request's page, which shows why.
        Err(AppError::Conflict(message)) => {
            frame.session.flash(FlashLevel::Error, message);
            Ok(redirect(&req, &format!("/orgs/{}/members/requests/{}", item.slug, item.id)))
        }
        Err(other) => Err(other),
    }
}

/// POST /orgs/{slug}/members/requests/{id}/deny
pub async fn deny_request(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    form: web::Form<DenyForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let reason = parse_text(&form.reason, "reason");
    let (actor, slug, id) = (acting.actor(), item.slug.clone(), item.id);
    let done = state.db.run(move |conn| join_requests::deny(conn, &actor, &slug, id, reason)).await;
    match done {
        Ok(denied) => {
            let message = format!("{}’s request was denied; they have been told.", denied.name);
            Ok(to_queue(&req, frame, item.slug.as_str(), FlashLevel::Success, message))
        }
        Err(AppError::Invalid(errors)) => {
            let sent = Sent { deny: form, errors, ..Sent::default() };
            render(frame, &state, acting.user, item, StatusCode::UNPROCESSABLE_ENTITY, sent).await
        }
        Err(AppError::Conflict(message)) => {
            frame.session.flash(FlashLevel::Error, message);
            Ok(redirect(&req, &format!("/orgs/{}/members/requests/{}", item.slug, item.id)))
        }
        Err(other) => Err(other),
    }
}

/// `Approve oldest N`: how many the button said.
#[derive(Debug, Default, Deserialize)]
pub struct OldestForm {
    #[serde(default)]
    count: String,
}

/// POST /orgs/{slug}/members/requests/approve-oldest: the oldest requests, as many as
/// the button said and the free seats allow, join as Member.
pub async fn approve_oldest(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<OldestForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let shown =
        form.count.trim().parse::<i64>().map_err(|_| {
            AppError::Invalid(FormErrors::form("Reload the Requests page and press Approve oldest again."))
        })?;
    let (actor, lookup) = (acting.actor(), slug.clone());
    let done = state.db.run(move |conn| join_requests::approve_oldest(conn, &actor, &lookup, shown)).await;
    let (level, message) = match done {
        Ok(approved) if approved.is_empty() => (FlashLevel::Info, "No request was waiting.".to_owned()),
        Ok(approved) => {
            let names: Vec<&str> = approved.iter().map(|a| a.name.as_str()).collect();
            (FlashLevel::Success, format!("Approved, as Member: {}.", names.join(", ")))
        }
        Err(AppError::Conflict(message)) => (FlashLevel::Error, message),
        Err(other) => return Err(other),
    };
    Ok(to_queue(&req, frame, slug.as_str(), level, message))
}

/// `Ask to join`: the optional note.
#[derive(Debug, Default, Deserialize)]
pub struct AskForm {
    #[serde(default)]
    note: String,
}

/// POST /domains/{id}/ask: `Ask to join` the organization that verified the domain
/// of the viewer's address.
pub async fn ask_to_join(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    form: web::Form<AskForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let typed = form.note.clone();
    let note = parse_text(&form.note, "note");
    let actor = acting.actor();
    let asked = state.db.run(move |conn| join_requests::ask(conn, &actor, id, note)).await;
    let (level, message) = match asked {
        Ok(name) => (
            FlashLevel::Success,
            format!(
                "Your request to join {name} was sent. Its Owner and Admins will answer; you will see it in the bell."
            ),
        ),
        Err(AppError::Invalid(errors)) => {
            let error = errors.get("note").map(str::to_owned);
            return super::dashboard::render(
                frame,
                &state,
                acting.user,
                StatusCode::UNPROCESSABLE_ENTITY,
                typed,
                error,
            )
            .await;
        }
        Err(AppError::Conflict(message)) => (FlashLevel::Error, message),
        Err(AppError::RateLimited { message, .. }) => (FlashLevel::Error, message),
        Err(other) => return Err(other),
    };
    frame.session.flash(level, message);
    Ok(redirect(&req, "/dashboard"))
}

/// POST /join-requests/{id}/withdraw: the viewer takes back their own request.
pub async fn withdraw_request(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = acting.actor();
    let (level, message) = match state.db.run(move |conn| join_requests::withdraw(conn, &actor, id)).await {
        Ok(name) => (FlashLevel::Success, format!("Your request to join {name} was withdrawn.")),
        Err(AppError::Conflict(message)) => (FlashLevel::Error, message),
        Err(other) => return Err(other),
    };
    frame.session.flash(level, message);
    Ok(redirect(&req, "/dashboard"))
}
