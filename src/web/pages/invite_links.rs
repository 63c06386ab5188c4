//! Invitations → `Invite links` (DESIGN.md §2.12): the list, `Create invite link`,
//! a link's page with who used it, `Disable` and `Regenerate`; and the page anyone
//! who opens a link sees (`/join/{token}`), whose `Join` posts. Plain forms.

use actix_web::http::header::{HeaderValue, REFERRER_POLICY};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::message::MessagePage;
use crate::domain::invite_link::{parse_domains, parse_label, parse_lifetime, parse_max_uses, LinkState, LIFETIMES};
use crate::domain::{Role, SeatUsage, Token};
use crate::error::{AppError, FormErrors};
use crate::services::choices::{self, Choices, Of};
use crate::services::invitations::Brings;
use crate::services::invite_links::{self, LinkForm, LinkRequest, LinkView, Opened, Used};
use crate::web::client::ClientIp;
use crate::web::extractors::{Acting, OrgItem, OrgSlug, SignedIn};
use crate::web::format::{format_datetime, When};
use crate::web::htmx::{page, page_with_status, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{decode_cursor, page_and_cursor, time_cursor, time_position};
use crate::web::picker::{Chip, PickedFields, Picker};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// Links shown per page.
const PAGE_SIZE: i64 = 50;

/// A link as a row or a page shows it.
pub struct LinkRow {
    pub id: Uuid,
    pub name: String,
    pub label: String,
    pub role: Role,
    pub state: LinkState,
    pub uses: String,
    pub expires: When,
    pub created: When,
    pub creator: String,
    pub brings: Vec<String>,
    pub domains: String,
    pub approval: bool,
    pub url: String,
}

impl LinkRow {
    fn new(view: &LinkView) -> Self {
        let link = &view.link;
        LinkRow {
            id: link.id,
            name: view.name(),
            label: link.label.clone(),
            role: link.role,
            state: view.state,
            uses: match link.max_uses {
                Some(max) => format!("{} / {max}", link.uses),
                None => format!("{} / no limit", link.uses),
            },
            expires: When::of(link.expires_at),
            created: When::of(link.created_at),
            creator: view.creator.clone().unwrap_or_else(|| "an API key or a former member".into()),
            brings: view.brings.clone(),
            domains: link.allowed_domains.join(", "),
            approval: link.requires_approval,
            url: view.url.clone(),
        }
    }

    pub fn works(&self) -> bool {
        self.state == LinkState::Active
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    after: String,
}

#[derive(Template)]
#[template(path = "invitations/links.html")]
struct LinksPageView {
    layout: Layout,
    slug: String,
    org_name: String,
    seats: SeatUsage,
    rows: Vec<LinkRow>,
    next_url: Option<String>,
}

/// GET /orgs/{slug}/invitations/links
pub async fn list_links(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let after = decode_cursor(&params.after).and_then(time_position);
    let ctx = state.clone();
    let found = state
        .db
        .run(move |conn| invite_links::links_page(conn, &ctx.invitation_context(), &slug, user.0, after, PAGE_SIZE))
        .await?;
    let (shown, next) =
        page_and_cursor(&found.links, PAGE_SIZE, |last| time_cursor(last.link.created_at, last.link.id));
    let next_url = next.map(|cursor| format!("/orgs/{}/invitations/links?after={cursor}", found.access.org.slug));
    let org = found.access.org.clone();
    page(&LinksPageView {
        slug: org.slug.clone(),
        org_name: org.name.clone(),
        seats: found.seats,
        rows: shown.iter().map(LinkRow::new).collect(),
        next_url,
        layout: frame.layout("Invite links", Some(found.viewer), Some(&org.slug), Nav::Invitations),
    })
}

/// `Create invite link` as sent; without JavaScript, `find` or a chip's `drop` only
/// search the pickers.
#[derive(Debug, Clone, Default)]
pub struct NewLinkForm {
    label: String,
    role: String,
    picked: PickedFields,
    expires: String,
    max_uses: String,
    allowed_domains: String,
    requires_approval: bool,
}

impl NewLinkForm {
    fn from_fields(fields: Vec<(String, String)>) -> Self {
        let mut form = NewLinkForm { expires: "7".into(), ..NewLinkForm::default() };
        for (key, value) in fields {
            match key.as_str() {
                "label" => form.label = value,
                "role" => form.role = value,
                "expires" => form.expires = value,
                "max_uses" => form.max_uses = value,
                "allowed_domains" => form.allowed_domains = value,
                "requires_approval" => form.requires_approval = !value.is_empty(),
                _ => {
                    form.picked.take(&key, value);
                }
            }
        }
        form
    }

    /// The teams and projects chosen (each once, without the one removed).
    fn brings(&self) -> Result<Brings, FormErrors> {
        self.picked.chosen()
    }

    fn role(&self) -> Result<Role, FormErrors> {
        match Role::from_db(self.role.trim()) {
            Some(role @ (Role::Admin | Role::Member)) => Ok(role),
            _ => Err(FormErrors::field("role", "Choose Member or Admin.")),
        }
    }
}

#[derive(Template)]
#[template(path = "invitations/link_new.html")]
struct NewLinkPage {
    layout: Layout,
    csrf: String,
    slug: String,
    org_name: String,
    roles: Vec<Role>,
    form: NewLinkForm,
    teams: Picker,
    projects: Picker,
    lifetimes: [i64; 4],
    errors: FormErrors,
}

impl NewLinkPage {
    pub fn role_selected(&self, role: &Role) -> bool {
        self.form.role == role.as_str() || (self.form.role.is_empty() && *role == Role::Member)
    }

    pub fn lifetime_selected(&self, days: &i64) -> bool {
        self.form.expires.trim() == days.to_string()
    }
}

/// The form page, as sent (`form`), with `errors` and the pickers' matches.
#[allow(clippy::too_many_arguments)]
async fn render_form(
    frame: Frame,
    state: &web::Data<AppState>,
    user: crate::domain::UserId,
    slug: crate::domain::Slug,
    status: StatusCode,
    form: NewLinkForm,
    errors: FormErrors,
) -> Result<HttpResponse, AppError> {
    let brings = form.brings().unwrap_or_default();
    let (teams_q, projects_q) = (form.picked.search("teams"), form.picked.search("projects"));
    let (found, team_results, project_results) = state
        .db
        .run(move |conn| {
            let found = invite_links::link_form(conn, &slug, user, &brings)?;
            let teams: Option<Choices> = match teams_q {
                Some(q) => Some(choices::find(conn, &slug, user, Of::Teams, &q, None)?),
                None => None,
            };
            let projects: Option<Choices> = match projects_q {
                Some(q) => Some(choices::find(conn, &slug, user, Of::Projects, &q, None)?),
                None => None,
            };
            Ok::<_, AppError>((found, teams, projects))
        })
        .await?;
    let LinkForm { viewer, access, roles, chosen_teams, chosen_projects } = found;
    let org = access.org;
    let teams = Picker {
        note: "(optional)".to_owned(),
        chips: chosen_teams
            .iter()
            .map(|t| Chip { field: "team", id: t.id, label: t.name.clone(), level: None })
            .collect(),
        query: form.picked.teams_q.clone(),
        hint: "Whoever joins by the link joins these teams as Member.".to_owned(),
        placeholder: "Type a team's name",
        results: team_results,
        error: errors.get("teams").map(str::to_owned),
        ..Picker::multiple("teams", "Teams", "team", format!("/orgs/{}/choices/teams", org.slug))
    };
    let projects = Picker {
        note: "(optional)".to_owned(),
        chips: chosen_projects
            .iter()
            .map(|(p, level)| Chip { field: "project", id: p.id, label: p.name.clone(), level: Some(*level) })
            .collect(),
        query: form.picked.projects_q.clone(),
        hint: "Whoever joins gets access at the level beside each project.".to_owned(),
        placeholder: "Type a project's name",
        results: project_results,
        error: None,
        ..Picker::multiple("projects", "Projects", "project", format!("/orgs/{}/choices/projects", org.slug))
    };
    page_with_status(
        status,
        &NewLinkPage {
            csrf: frame.csrf().to_owned(),
            layout: frame.layout("Create invite link", Some(viewer), Some(&org.slug), Nav::Invitations),
            slug: org.slug.clone(),
            org_name: org.name.clone(),
            roles,
            form,
            teams,
            projects,
            lifetimes: LIFETIMES,
            errors,
        },
    )
}

/// GET /orgs/{slug}/invitations/links/new
pub async fn new_link_form(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let form = NewLinkForm::from_fields(Vec::new());
    render_form(frame, &state, user.0, slug.0, StatusCode::OK, form, FormErrors::new()).await
}

/// POST /orgs/{slug}/invitations/links: `Create invite link`.
pub async fn create_link(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let form = NewLinkForm::from_fields(fields);
    if form.picked.only_looks() {
        return render_form(frame, &state, acting.user, slug, StatusCode::OK, form, FormErrors::new()).await;
    }
    let read = form.role().and_then(|role| Ok((role, form.brings()?)));
    let (role, brings) = match read {
        Ok(read) => read,
        Err(errors) => {
            return render_form(frame, &state, acting.user, slug, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await
        }
    };
    let request = LinkRequest {
        label: parse_label(&form.label),
        role,
        brings,
        lifetime: parse_lifetime(&form.expires),
        max_uses: parse_max_uses(&form.max_uses),
        allowed_domains: parse_domains(&form.allowed_domains),
        requires_approval: form.requires_approval,
    };
    let (actor, lookup, ctx) = (acting.actor(), slug.clone(), state.clone());
    let done =
        state.db.run(move |conn| invite_links::create(conn, &ctx.invitation_context(), &actor, &lookup, request)).await;
    match done {
        Ok(link) => {
            frame.session.flash(
                FlashLevel::Success,
                "Invite link created. Copy it and share it with those who should join.".to_owned(),
            );
            Ok(redirect(&req, &format!("/orgs/{slug}/invitations/links/{}", link.link.id)))
        }
        Err(AppError::Invalid(errors)) => {
            render_form(frame, &state, acting.user, slug, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await
        }
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "invitations/invite_link.html")]
struct LinkPageView {
    layout: Layout,
    slug: String,
    org_name: String,
    link: LinkRow,
    uses: Vec<(invite_links::LinkUse, When)>,
    manages: bool,
}

/// GET /orgs/{slug}/invitations/links/{id}
pub async fn show_link(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let ctx = state.clone();
    let found =
        state.db.run(move |conn| invite_links::link_page(conn, &ctx.invitation_context(), &slug, user.0, id)).await?;
    let org = found.access.org.clone();
    let link = LinkRow::new(&found.link);
    page(&LinkPageView {
        layout: frame.layout(
            format!("Invite link {}", link.name),
            Some(found.viewer),
            Some(&org.slug),
            Nav::Invitations,
        ),
        slug: org.slug.clone(),
        org_name: org.name.clone(),
        uses: found
            .uses
            .into_iter()
            .map(|u| {
                let at = When::of(u.used_at);
                (u, at)
            })
            .collect(),
        manages: found.manages,
        link,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmParams {
    #[serde(default)]
    action: String,
}

#[derive(Template)]
#[template(path = "invitations/invite_link_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    csrf: String,
    slug: String,
    id: Uuid,
    name: String,
    disable: bool,
}

/// GET /orgs/{slug}/invitations/links/{id}/confirm?action=disable|regenerate: the
/// confirmation both take, opening on `Cancel`.
pub async fn confirm_link_change(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
    params: web::Query<ConfirmParams>,
) -> Result<HttpResponse, AppError> {
    let disable = match params.action.as_str() {
        "disable" => true,
        "regenerate" => false,
        _ => return Err(AppError::NotFound),
    };
    let OrgItem { slug, id } = item;
    let ctx = state.clone();
    let found =
        state.db.run(move |conn| invite_links::link_page(conn, &ctx.invitation_context(), &slug, user.0, id)).await?;
    if !found.manages {
        return Err(AppError::Forbidden(format!(
            "Only the Owner manages invite links that let people in as {}.",
            found.link.link.role.label()
        )));
    }
    let org = found.access.org.clone();
    let name = found.link.name();
    page(&ConfirmPage {
        csrf: frame.csrf().to_owned(),
        layout: frame.layout(
            if disable { "Disable invite link" } else { "Regenerate invite link" },
            Some(found.viewer),
            Some(&org.slug),
            Nav::Invitations,
        ),
        slug: org.slug.clone(),
        id,
        name,
        disable,
    })
}

/// POST /orgs/{slug}/invitations/links/{id}/disable
pub async fn disable_link(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let (actor, slug, id, ctx) = (acting.actor(), item.slug.clone(), item.id, state.clone());
    let link =
        state.db.run(move |conn| invite_links::disable(conn, &ctx.invitation_context(), &actor, &slug, id)).await?;
    let message = format!("Invite link {} is disabled: it works no more.", link.name());
    frame.session.flash(FlashLevel::Success, message);
    Ok(redirect(&req, &format!("/orgs/{}/invitations/links/{}", item.slug, item.id)))
}

/// POST /orgs/{slug}/invitations/links/{id}/regenerate
pub async fn regenerate_link(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let (actor, slug, id, ctx) = (acting.actor(), item.slug.clone(), item.id, state.clone());
    let done =
        state.db.run(move |conn| invite_links::regenerate(conn, &ctx.invitation_context(), &actor, &slug, id)).await;
    let (level, message) = match done {
        Ok(link) => {
            (FlashLevel::Success, format!("Invite link {} has a new address; the old one works no more.", link.name()))
        }
        Err(AppError::Conflict(message)) => (FlashLevel::Error, message),
        Err(other) => return Err(other),
    };
    frame.session.flash(level, message);
    Ok(redirect(&req, &format!("/orgs/{}/invitations/links/{}", item.slug, item.id)))
}

#[derive(Template)]
#[template(path = "invite/join.html")]
struct JoinPage {
    layout: Layout,
    link: Opened,
    token: String,
    signed_in: bool,
    expires: String,
}

fn no_referrer(mut response: HttpResponse) -> HttpResponse {
    // The link's token must not leak to other sites through the Referer header.
    response.headers_mut().insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn not_valid(frame: Frame) -> Result<HttpResponse, AppError> {
    let response = page_with_status(
        StatusCode::NOT_FOUND,
        &MessagePage {
            layout: frame.layout("Invite link not valid", None, None, Nav::None),
            heading: "This invite link is not valid".into(),
            paragraphs: vec![
                "Check that you opened the whole link. If it was regenerated, only the newest link works.".into(),
                "If it still does not work, ask whoever shared it for a new one.".into(),
            ],
            action: Some(("/help".into(), "Help".into())),
        },
    )?;
    Ok(no_referrer(response))
}

/// GET /join/{token}: what the link brings, and `Join`; changes nothing.
pub async fn show_join(
    frame: Frame,
    ip: ClientIp,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(token) = Token::parse(&path) else { return not_valid(frame) };
    let (lookup, user) = (token.clone(), frame.session.user_id());
    let (viewer, opened) = match state.db.run(move |conn| invite_links::open(conn, &ip.network(), user, &lookup)).await
    {
        Ok(found) => found,
        Err(AppError::NotFound) => return not_valid(frame),
        Err(other) => return Err(other),
    };
    let signed_in = viewer.is_some();
    let mut layout = frame.layout(format!("Join {}", opened.org_name), viewer, None, Nav::None);
    layout.offers_sign_in = !signed_in;
    let response = page(&JoinPage {
        expires: format_datetime(opened.expires_at),
        token: token.as_str().to_owned(),
        link: opened,
        signed_in,
        layout,
    })?;
    Ok(no_referrer(response))
}

/// POST /join/{token}: `Join` (or `Ask to join`, for a link that requires approval).
pub async fn join_by_link(
    req: HttpRequest,
    frame: Frame,
    ip: ClientIp,
    acting: Acting,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = Token::parse(&path).ok_or(AppError::NotFound)?;
    let back = format!("/join/{}", token.as_str());
    let actor = acting.actor();
    let done = state.db.run(move |conn| invite_links::join(conn, &actor, &ip.network(), &token)).await;
    let (level, message, target) = match done {
        Ok(Used::Joined { org_name, org_slug, role, joined }) => {
            let with = if joined.is_empty() { String::new() } else { format!(", with {}", joined.join(", ")) };
            (FlashLevel::Success, format!("You joined {org_name} as {}{with}.", role.label()), format!("/orgs/{org_slug}"))
        }
        Ok(Used::Requested { org_name }) => (
            FlashLevel::Success,
            format!("Your request to join {org_name} was sent. Its Owner and Admins will answer; you will see it in the bell."),
            "/dashboard".to_owned(),
        ),
        Ok(Used::AlreadyMember { org_name, org_slug }) => {
            (FlashLevel::Info, format!("You are a member of {org_name} already."), format!("/orgs/{org_slug}"))
        }
        Err(AppError::Conflict(message) | AppError::Forbidden(message)) => (FlashLevel::Error, message, back),
        Err(AppError::RateLimited { message, .. }) => (FlashLevel::Error, message, back),
        Err(other) => return Err(other),
    };
    frame.session.flash(level, message);
    Ok(no_referrer(redirect(&req, &target)))
}
