//! Settings → Webhooks: `Add endpoint` (its signing secret shown once), `Enable`,
//! `Disable`, `Delete`, and each endpoint's delivery log with `Redeliver`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::settings::{render, text_and_choices, CreatedKeyView, Forms, Section};
use crate::domain::webhook::{parse_groups, parse_url};
use crate::error::AppError;
use crate::services::webhooks;
use crate::web::extractors::{Acting, OrgItem, OrgSlug};
use crate::web::format::When;
use crate::web::htmx::{page, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::{decode_cursor, page_and_cursor};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// POST /orgs/{slug}/settings/webhooks: `Add endpoint`. Answered with the Settings page
/// and the signing secret, which never goes into the session or a URL.
pub async fn create_webhook(
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (typed, chosen) = text_and_choices(form.into_inner(), "url", "events");
    let url = parse_url(&typed, state.settings.webhooks_allow_private);
    let groups = parse_groups(&chosen);
    let (actor, lookup, app) = (acting.actor(), slug.clone(), state.clone());
    let created =
        state.db.run(move |conn| webhooks::create(conn, app.links.sealing_key(), &actor, &lookup, url, groups)).await;
    match created {
        Ok(created) => {
            let forms = showing_secret(&created.endpoint.url, &created.secret);
            render(frame, &state, acting.user, slug, Section::Webhooks, StatusCode::CREATED, forms).await
        }
        Err(AppError::Invalid(errors)) => {
            let forms = Forms { hook_url: typed, hook_events: chosen, hook_errors: errors, ..Forms::default() };
            render(frame, &state, acting.user, slug, Section::Webhooks, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(other) => Err(other),
    }
}

fn back_to_webhooks(req: &HttpRequest, frame: Frame, slug: &str, message: String) -> HttpResponse {
    frame.session.flash(FlashLevel::Success, message);
    redirect(req, &Section::Webhooks.path(slug))
}

/// POST /orgs/{slug}/settings/webhooks/{id}/enable
pub async fn enable_webhook(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    set_enabled(req, frame, acting, state, item, true).await
}

/// POST /orgs/{slug}/settings/webhooks/{id}/disable
pub async fn disable_webhook(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    set_enabled(req, frame, acting, state, item, false).await
}

async fn set_enabled(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    enabled: bool,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let (actor, lookup) = (acting.actor(), slug.clone());
    let endpoint = state.db.run(move |conn| webhooks::set_enabled(conn, &actor, &lookup, id, enabled)).await?;
    let message = if enabled {
        format!("The webhook to {} is enabled: new events are sent to it.", endpoint.url)
    } else {
        format!("The webhook to {} is disabled: nothing is sent to it until it is enabled.", endpoint.url)
    };
    Ok(back_to_webhooks(&req, frame, slug.as_str(), message))
}

/// GET /orgs/{slug}/settings/webhooks/{id}/{delete|roll-secret}: the confirmation of
/// `Delete` or `Roll secret`.
pub async fn confirm_webhook_action(
    req: HttpRequest,
    frame: Frame,
    user: crate::web::extractors::SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let roll = match req.match_info().get("action") {
        Some("roll-secret") => true,
        Some("delete") => false,
        _ => return Err(AppError::NotFound),
    };
    let lookup = slug.clone();
    let (viewer, endpoint) = state.db.run(move |conn| webhooks::confirmation(conn, &lookup, user.0, id)).await?;
    let base = format!("/orgs/{slug}/settings/webhooks/{id}");
    let subject = crate::domain::webhook::shown_url(&endpoint.url);
    let back = Section::Webhooks.path(slug.as_str());
    let confirm = if roll {
        crate::web::confirm::Confirm {
            title: "Roll secret".into(),
            question: "Make a new signing secret for the webhook to".into(),
            subject,
            consequence: "The current secret stops signing at once: your receiver refuses deliveries until it has \
                          the new one, which is shown only once."
                .into(),
            button: "Roll secret".into(),
            action: format!("{base}/roll-secret#webhooks-heading"),
            back,
            impact: None,
            stale: false,
        }
    } else {
        crate::web::confirm::Confirm {
            title: "Delete webhook".into(),
            question: "Delete the webhook to".into(),
            subject,
            consequence: "Nothing more is sent to it, and its delivery log goes too.".into(),
            button: "Delete".into(),
            action: format!("{base}/delete"),
            back,
            impact: None,
            stale: false,
        }
    };
    crate::web::confirm::ask(&req, frame, viewer, slug.as_str(), Nav::Settings, confirm)
}

/// The Settings page showing an endpoint's signing secret, once (added, or rolled).
fn showing_secret(url: &str, secret: &crate::domain::webhook::SigningSecret) -> Forms {
    Forms {
        created_webhook: Some(CreatedKeyView { name: url.to_owned(), secret: secret.as_str().to_owned() }),
        ..Forms::default()
    }
}

/// POST /orgs/{slug}/settings/webhooks/{id}/roll-secret: `Roll secret`; the new
/// secret is shown once, as when the endpoint was added.
pub async fn roll_webhook_secret(
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let (actor, lookup, app) = (acting.actor(), slug.clone(), state.clone());
    let rolled =
        state.db.run(move |conn| webhooks::roll_secret(conn, app.links.sealing_key(), &actor, &lookup, id)).await?;
    render(
        frame,
        &state,
        acting.user,
        slug,
        Section::Webhooks,
        StatusCode::OK,
        showing_secret(&rolled.endpoint.url, &rolled.secret),
    )
    .await
}

/// POST /orgs/{slug}/settings/webhooks/{id}/delete
pub async fn delete_webhook(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let (actor, lookup) = (acting.actor(), slug.clone());
    let url = state.db.run(move |conn| webhooks::delete(conn, &actor, &lookup, id)).await?;
    Ok(back_to_webhooks(&req, frame, slug.as_str(), format!("The webhook to {url} was deleted.")))
}

/// A delivery as the log shows it.
pub struct DeliveryView {
    pub id: Uuid,
    pub event: String,
    pub created: When,
    pub state: &'static str,
    pub status_code: Option<i32>,
    pub duration_ms: Option<i32>,
    pub attempts: i32,
    pub excerpt: String,
    /// When a failed delivery is tried again.
    pub next_try: Option<When>,
    /// The JSON that was sent, indented for reading.
    pub payload: String,
}

#[derive(Template)]
#[template(path = "webhooks/show.html")]
struct LogPage {
    layout: Layout,
    csrf: String,
    slug: String,
    endpoint_id: Uuid,
    url: String,
    enabled: bool,
    deliveries: Vec<DeliveryView>,
    next_url: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct LogParams {
    #[serde(default)]
    before: String,
}

/// GET /orgs/{slug}/settings/webhooks/{id}: the delivery log, newest first.
pub async fn show_webhook_log(
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    params: web::Query<LogParams>,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let before: Option<(i128, i64)> = decode_cursor(&params.before);
    let before = before.and_then(|(n, seq)| Some((time::OffsetDateTime::from_unix_timestamp_nanos(n).ok()?, seq)));
    let actor = acting.actor();
    let (viewer, access, endpoint, found) =
        state.db.run(move |conn| webhooks::log(conn, &actor, &slug, id, before)).await?;
    let (shown, next) = page_and_cursor(&found, webhooks::LOG_PAGE, |d| (d.created_at.unix_timestamp_nanos(), d.seq));
    let next_url =
        next.map(|cursor| format!("/orgs/{}/settings/webhooks/{}?before={cursor}", access.org.slug, endpoint.id));
    let deliveries = shown
        .iter()
        .map(|d| DeliveryView {
            id: d.id,
            event: d.event.clone(),
            created: When::of(d.created_at),
            state: match (d.state.as_str(), d.attempts) {
                ("delivered", _) => "Delivered",
                ("failed", _) => "Failed",
                ("queued", _) | (_, 0) => "Queued",
                _ => "Retrying",
            },
            status_code: d.status_code,
            duration_ms: d.duration_ms,
            attempts: d.attempts,
            excerpt: d.response_excerpt.clone().unwrap_or_default(),
            next_try: d.next_attempt_at.map(When::of),
            payload: serde_json::from_str::<serde_json::Value>(&d.body)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| d.body.clone()),
        })
        .collect();
    page(&LogPage {
        csrf: frame.csrf().to_owned(),
        slug: access.org.slug.clone(),
        endpoint_id: endpoint.id,
        url: endpoint.url.clone(),
        enabled: endpoint.enabled,
        deliveries,
        next_url,
        layout: frame.layout("Webhook deliveries", Some(viewer), Some(&access.org.slug), Nav::Settings),
    })
}

/// POST /orgs/{slug}/settings/webhooks/{id}/deliveries/{delivery}/redeliver: `Redeliver`.
pub async fn redeliver(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id, delivery) = path.into_inner();
    let slug = crate::domain::Slug::parse(&slug).ok_or(AppError::NotFound)?;
    let (Ok(id), Ok(delivery)) = (Uuid::parse_str(&id), Uuid::parse_str(&delivery)) else {
        return Err(AppError::NotFound);
    };
    let (actor, lookup) = (acting.actor(), slug.clone());
    let found = state.db.run(move |conn| webhooks::redeliver(conn, &actor, &lookup, id, delivery)).await?;
    frame.session.flash(FlashLevel::Success, format!("The {} delivery is queued to be sent again.", found.event));
    Ok(redirect(&req, &format!("/orgs/{slug}/settings/webhooks/{id}")))
}
