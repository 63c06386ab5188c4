//! `Set expiry`, `Extend`, `Remove expiry` and `Grant again` (DESIGN.md §2.12): one page
//! per member's access (`?on=membership`, `team:<id>`, `project:<id>`), plain forms.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::domain::dates::day;
use crate::domain::expiry::{parse_date, Held, On, EXTEND_DAYS};
use crate::error::{AppError, FormErrors};
use crate::services::expiry::{self, Change, Target};
use crate::web::extractors::{Acting, OrgItem, SignedIn};
use crate::web::htmx::{page_with_status, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

#[derive(Debug, Deserialize)]
pub struct OnQuery {
    #[serde(default)]
    on: String,
}

/// What the page's forms send: `until` (a date), `extend` (days) or `remove`.
#[derive(Debug, Default, Deserialize)]
pub struct ExpiryForm {
    #[serde(default)]
    on: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    extend: String,
    #[serde(default)]
    remove: String,
}

impl ExpiryForm {
    /// The change asked for, or why it cannot be read.
    fn change(&self, now: OffsetDateTime) -> Result<Change, AppError> {
        if !self.remove.is_empty() {
            return Ok(Change::Remove);
        }
        if !self.extend.is_empty() {
            return match self.extend.parse::<i64>() {
                Ok(days) if EXTEND_DAYS.contains(&days) => Ok(Change::By(days)),
                _ => Err(AppError::Invalid(FormErrors::field("extend", "Extend by 30 or 90 days, or choose a date."))),
            };
        }
        parse_date(&self.until, now).map(Change::To).map_err(|e| AppError::Invalid(FormErrors::field("until", e)))
    }
}

fn on_of(value: &str) -> Result<On, AppError> {
    On::parse(value).ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "members/expiry.html")]
struct ExpiryPageView {
    layout: Layout,
    csrf: String,
    slug: String,
    membership: uuid::Uuid,
    name: String,
    /// "Acme", "team Platform", "project Apollo".
    what: String,
    on: String,
    /// The day it ends now, if it does.
    ends: Option<String>,
    /// The date field as typed (kept when refused).
    until: String,
    /// The earliest date the field takes (tomorrow).
    min: String,
    /// How many days before the date the reminder comes (the organization's setting).
    lead_days: i32,
    errors: FormErrors,
    extend_days: [i64; 2],
}

/// The page of one member's access, with its forms: as asked for (`OK`), or with what
/// was typed and why it was refused (`UNPROCESSABLE_ENTITY`).
async fn render(
    frame: Frame,
    state: &AppState,
    user: crate::domain::UserId,
    item: OrgItem,
    on: On,
    refused: Option<(ExpiryForm, FormErrors)>,
) -> Result<HttpResponse, AppError> {
    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let (form, errors) = refused.unwrap_or_default();
    let OrgItem { slug, id } = item;
    let found = state.db.run(move |conn| expiry::page(conn, &slug, user, id, on)).await?;
    let what = found.target.what();
    let Target { membership, name, expires_at, .. } = found.target;
    let org = found.access.org.clone();
    let title = if expires_at.is_some() { "Extend" } else { "Set expiry" };
    let tomorrow = OffsetDateTime::now_utc().date().next_day().unwrap_or(OffsetDateTime::now_utc().date());
    page_with_status(
        status,
        &ExpiryPageView {
            csrf: frame.csrf().to_owned(),
            layout: frame.layout(format!("{title} · {name}"), Some(found.viewer), Some(&org.slug), Nav::Members),
            slug: org.slug.clone(),
            membership,
            what,
            name,
            on: on.key(),
            ends: expires_at.map(day),
            until: form.until,
            min: tomorrow.to_string(),
            lead_days: org.expiry_reminder_days,
            errors,
            extend_days: EXTEND_DAYS,
        },
    )
}

/// GET /orgs/{slug}/members/{id}/expiry?on=…
pub async fn show_expiry(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
    query: web::Query<OnQuery>,
) -> Result<HttpResponse, AppError> {
    let on = on_of(&query.on)?;
    render(frame, &state, user.0, item, on, None).await
}

/// POST /orgs/{slug}/members/{id}/expiry: `Set expiry`, `Extend`, `Remove expiry`.
pub async fn set_expiry(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    form: web::Form<ExpiryForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let on = on_of(&form.on)?;
    let now = OffsetDateTime::now_utc();
    let change = match form.change(now) {
        Ok(change) => change,
        Err(AppError::Invalid(errors)) => {
            return render(frame, &state, acting.user, item, on, Some((form, errors))).await
        }
        Err(other) => return Err(other),
    };
    let (actor, slug, id) = (acting.actor(), item.slug.clone(), item.id);
    let done = state.db.run(move |conn| expiry::set(conn, &actor, &slug, id, on, change, now)).await;
    let target = match done {
        Ok(target) => target,
        Err(AppError::Invalid(errors)) => {
            return render(frame, &state, acting.user, item, on, Some((form, errors))).await
        }
        Err(other) => return Err(other),
    };
    let what = target.what();
    let message = match target.expires_at {
        Some(at) => format!("{}’s access to {what} ends on {}.", target.name, day(at)),
        None => format!("{}’s access to {what} no longer ends.", target.name),
    };
    frame.session.flash(FlashLevel::Success, message);
    Ok(redirect(&req, &format!("/orgs/{}/members/{}", item.slug, item.id)))
}

/// POST /orgs/{slug}/members/{id}/grant-again: `Grant again` of an expired team place
/// or grant, as it was.
pub async fn grant_again(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    form: web::Form<OnQuery>,
) -> Result<HttpResponse, AppError> {
    let on = on_of(&form.on)?;
    let (actor, slug, id) = (acting.actor(), item.slug.clone(), item.id);
    let held = state.db.run(move |conn| expiry::grant_again(conn, &actor, &slug, id, on)).await?;
    let message = match held {
        Held::TeamPlace { team_name, role, .. } => format!("Back in team {team_name} as {}.", role.label()),
        Held::ProjectGrant { project_name, level, .. } => {
            format!("{} access to project {project_name} is granted again.", level.label())
        }
        Held::Membership => String::new(),
    };
    frame.session.flash(FlashLevel::Success, message);
    Ok(redirect(&req, &format!("/orgs/{}/members/{}", item.slug, item.id)))
}
