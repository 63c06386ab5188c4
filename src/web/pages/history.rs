//! `Access history` (DESIGN.md §2.13): a project's — who could reach it on a chosen
//! day and through which grant, what changed that day, and its export — and a
//! person's — what they reached on a day, and every stretch of it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use time::OffsetDateTime;

use super::access::AccessView;
use crate::domain::history::Day;
use crate::domain::{AccessLevel, TeamRole};
use crate::error::{AppError, FormErrors};
use crate::services::history::{self, Change, Holder, Stretch};
use crate::services::projects::Cursor;
use crate::services::reach::Granters;
use crate::web::export::{next_page, Exported, Sheet};
use crate::web::extractors::{Acting, OrgItem, OrgNamed, SignedIn};
use crate::web::format::{format_date, format_datetime, machine_time};
use crate::web::htmx::page_with_status;
use crate::web::layout::{Frame, Nav};
use crate::web::listing::{self, Listing};
use crate::web::recent_writes::browser_wrote;
use crate::web::state::AppState;

const PAGE_SIZE: i64 = 50;
const EXPORT_PAGE: i64 = 1000;

/// The query string of a history page: the day, and a page's cursor.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DayParams {
    #[serde(default)]
    on: String,
    #[serde(default)]
    after: String,
}

/// The day asked for, or the form's error.
fn day_of(params: &DayParams) -> Result<Day, String> {
    Day::parse(&params.on, OffsetDateTime::now_utc()).map_err(|e| e.to_string())
}

/// The `Day` field and the links around the day shown.
pub struct DayPicker {
    /// The page's path, which the form gets.
    pub path: String,
    /// What the field holds: the day shown, or what was typed.
    pub typed: String,
    pub error: Option<String>,
    /// Today, the latest day the field offers.
    pub today: String,
    pub day: Option<Day>,
    /// Whether the day is before history was kept (what ended before then is not known).
    pub before_kept: Option<String>,
}

impl DayPicker {
    fn new(path: String, params: &DayParams, day: &Result<Day, String>, kept_since: Option<OffsetDateTime>) -> Self {
        let now = OffsetDateTime::now_utc();
        let (typed, error, day) = match day {
            Ok(day) => (day.value(), None, Some(*day)),
            Err(message) => (params.on.clone(), Some(message.clone()), None),
        };
        let before_kept = match (day, kept_since) {
            (Some(day), Some(since)) if day.bounds().0 < since => Some(format_date(since)),
            _ => None,
        };
        DayPicker { path, typed, error, today: Day::today(now).value(), day, before_kept }
    }

    /// Whether the day shown is today (then the page speaks of now).
    pub fn is_today(&self) -> bool {
        self.day.is_some_and(|d| d.today)
    }

    /// The day in words: "today", "28 Nov 2026".
    pub fn label(&self) -> String {
        match &self.day {
            Some(day) if day.today => "today".into(),
            Some(day) => format_date(day.bounds().0),
            None => String::new(),
        }
    }

    /// The moment shown, as a heading starts: "Now", "At the end of 28 Nov 2026".
    pub fn moment(&self) -> String {
        match &self.day {
            Some(day) if day.today => "Now".into(),
            Some(day) => format!("At the end of {}", format_date(day.bounds().0)),
            None => String::new(),
        }
    }

    /// The page for another day.
    pub fn url(&self, on: impl std::fmt::Display) -> String {
        format!("{}?on={on}", self.path)
    }
}

/// A person who could reach the project, as a row shows them.
pub struct HolderRow {
    pub membership: uuid::Uuid,
    pub name: String,
    pub email: String,
    pub suspended: bool,
    pub level: &'static str,
    pub reasons: String,
}

impl HolderRow {
    fn new(holder: &Holder) -> Self {
        HolderRow {
            membership: holder.membership,
            name: holder.name.clone(),
            email: holder.email.clone(),
            suspended: holder.suspended,
            level: holder.reach.level.label(),
            reasons: super::members::reasons_of(&holder.reach),
        }
    }
}

/// A change of the day, as the list shows it.
pub struct ChangeRow {
    pub time: String,
    pub machine: String,
    pub membership: uuid::Uuid,
    pub name: String,
    pub sentence: String,
}

impl ChangeRow {
    fn new(change: &Change) -> Self {
        let format = time::macros::format_description!("[hour]:[minute] UTC");
        ChangeRow {
            time: change.at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default(),
            machine: machine_time(change.at),
            membership: change.membership,
            name: change.name.clone(),
            sentence: change.turn.sentence(),
        }
    }
}

#[derive(Template)]
#[template(path = "history/project.html")]
struct ProjectHistoryPage {
    layout: crate::web::layout::Layout,
    slug: String,
    project_name: String,
    project_slug: String,
    picker: DayPicker,
    holders: Vec<HolderRow>,
    count: i64,
    next_url: Option<String>,
    /// The list's URL state, for its pager.
    state: Listing,
    changes: Vec<ChangeRow>,
    changes_total: i64,
    export_csv: String,
    export_json: String,
}

impl ProjectHistoryPage {
    /// "Now, 5 people can reach API", "At the end of 28 Nov 2026, nobody could reach API".
    pub fn holders_heading(&self) -> String {
        let verb = if self.picker.is_today() { "can" } else { "could" };
        let who = match self.count {
            0 => "nobody".to_owned(),
            1 => "1 person".to_owned(),
            n if n > history::COUNT_CAP => format!("more than {} people", history::COUNT_CAP_IN_WORDS),
            n => format!("{n} people"),
        };
        format!("{}, {who} {verb} reach {}", self.picker.moment(), self.project_name)
    }
}

/// GET /orgs/{slug}/projects/{name}/access-history?on=2026-11-28
pub async fn project_history(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    named: OrgNamed,
    params: web::Query<DayParams>,
) -> Result<HttpResponse, AppError> {
    let params = params.into_inner();
    let OrgNamed { slug, name, .. } = named;
    let path = format!("/orgs/{slug}/projects/{name}/access-history");
    let asked = day_of(&params);
    // A day that cannot be read shows the form with why, for today's project page.
    let day = asked.clone().unwrap_or_else(|_| Day::today(OffsetDateTime::now_utc()));
    let cursor: Option<Cursor> = listing::decode_cursor(&params.after);
    // The history from the read replica, unless this browser just changed something.
    let (_, found) = state
        .db
        .run_then_read(
            browser_wrote(&req),
            move |conn| history::project_access(conn, &slug, user.0, &name),
            move |conn, checked| history::project_day(conn, checked, day, cursor.as_ref(), PAGE_SIZE),
        )
        .await?;
    let picker = DayPicker::new(path.clone(), &params, &asked, found.kept_since);
    let list = Listing {
        path,
        filters: vec![("on", found.day.value())],
        sort: "name",
        descending: false,
        descending_first: &[],
        later_page: !params.after.is_empty(),
    };
    let (shown, next_url) = list.page(&found.holders, PAGE_SIZE, |h| Cursor::Text(h.sort_key.clone(), h.membership));
    let org_slug = found.access.org.slug.clone();
    let export = |extension: &str| {
        format!("/orgs/{org_slug}/projects/{}/access.{extension}?on={}", found.project.slug, found.day.value())
    };
    let failed = picker.error.is_some();
    let view = ProjectHistoryPage {
        export_csv: export("csv"),
        export_json: export("json"),
        holders: if failed { Vec::new() } else { shown.iter().map(HolderRow::new).collect() },
        count: found.count,
        next_url,
        state: list,
        changes: found.changes.iter().map(ChangeRow::new).collect(),
        changes_total: found.changes_total,
        picker,
        layout: frame.layout(
            format!("Access history of {}", found.project.name),
            Some(found.viewer),
            Some(&org_slug),
            Nav::Projects,
        ),
        project_name: found.project.name,
        project_slug: found.project.slug,
        slug: org_slug,
    };
    page_with_status(if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }, &view)
}

const EXPORT_COLUMNS: &[&str] = &["name", "email", "level", "why", "suspended", "at"];

/// A row of a project's access export, with the moment it describes.
type ExportRow = (Holder, OffsetDateTime);

fn holder_fields((holder, at): &ExportRow) -> Vec<String> {
    vec![
        holder.name.clone(),
        holder.email.clone(),
        holder.reach.level.as_str().into(),
        super::members::reasons_of(&holder.reach),
        if holder.suspended { "yes" } else { "no" }.into(),
        machine_time(*at),
    ]
}

fn holder_json((holder, at): &ExportRow) -> serde_json::Value {
    serde_json::json!({
        "membership_id": holder.membership,
        "name": holder.name,
        "email": holder.email,
        "level": holder.reach.level.as_str(),
        "why": super::members::why_json(&holder.reach),
        "suspended": holder.suspended,
        "at": machine_time(*at),
    })
}

/// GET /orgs/{slug}/projects/{name}/access.csv and .json (`?on=2026-11-28`): who could
/// reach a project at the day's moment (now, without `on`), every page, streamed;
/// audited when done. The Owner and Admins only, as the history page.
pub async fn export_project_access(
    req: HttpRequest,
    acting: Acting,
    state: web::Data<AppState>,
    named: OrgNamed,
    params: web::Query<DayParams>,
    Exported(format): Exported,
) -> Result<HttpResponse, AppError> {
    // Every page after the first (whose access check is on the primary) from the
    // read replica, unless this browser just changed something.
    let after_write = browser_wrote(&req);
    let day = day_of(&params).map_err(|message| AppError::Invalid(FormErrors::field("on", message)))?;
    let OrgNamed { slug, name: project, .. } = named;
    let (actor, org, checked) = (acting.actor(), slug.clone(), project.clone());
    let (found, _) =
        state.db.run(move |conn| history::holders_page(conn, &actor, &org, &checked, day, None, 0)).await?;
    let (db, actor, org) = (state.db.clone(), acting.actor(), slug.clone());
    let page = move |after: Option<Cursor>| {
        let (db, actor, org, project) = (db.clone(), actor.clone(), org.clone(), project.clone());
        async move {
            let (_, holders) = db
                .read(after_write, move |conn| {
                    history::holders_page(conn, &actor, &org, &project, day, after.as_ref(), EXPORT_PAGE)
                })
                .await?;
            let (holders, next) = next_page(holders, EXPORT_PAGE, |h| Cursor::Text(h.sort_key.clone(), h.membership));
            Ok((holders.into_iter().map(|h| (h, day.at)).collect(), next))
        }
    };
    let what = if day.today {
        format!("who can reach project {}", found.name)
    } else {
        format!("who could reach project {} on {}", found.name, format_date(day.bounds().0))
    };
    let (db, actor) = (state.db.clone(), acting.actor());
    let file = format!("{slug}-project-{}-access-{}", found.slug, day.value());
    let done = move |rows: usize| async move {
        db.run(move |conn| crate::services::exports::record(conn, &actor, &slug, &what, format, rows)).await
    };
    let sheet = Sheet { header: EXPORT_COLUMNS, csv: holder_fields, json: holder_json };
    Ok(crate::web::export::stream(format, &file, sheet, page, done))
}

/// A stretch of someone's history, as the timeline shows it.
pub struct StretchRow {
    /// "Team", "Project", "Suspended".
    pub kind: &'static str,
    pub name: String,
    pub href: Option<String>,
    /// The team role or level.
    pub grade: &'static str,
    /// "via team Platform", "granted directly", or for a team "".
    pub through: String,
    pub from: String,
    pub from_machine: String,
    /// `None`: it still holds.
    pub until: Option<String>,
    pub until_machine: String,
}

impl StretchRow {
    fn new(stretch: &Stretch, slug: &str) -> Self {
        let (kind, grade, through, href) = match stretch.kind.as_str() {
            "team" => (
                "Team",
                TeamRole::from_db(&stretch.grade).map_or("", |r| r.label()),
                String::new(),
                Some(format!("/orgs/{slug}/teams/{}", stretch.slug)),
            ),
            "project" => (
                "Project",
                AccessLevel::from_db(&stretch.grade).map_or("", |l| l.label()),
                match &stretch.team {
                    Some(team) => format!("via team {team}"),
                    None => "granted directly".into(),
                },
                Some(format!("/orgs/{slug}/projects/{}", stretch.slug)),
            ),
            _ => ("Suspended", "", String::new(), None),
        };
        StretchRow {
            kind,
            name: stretch.name.clone(),
            href,
            grade,
            through,
            from: format_datetime(stretch.started_at),
            from_machine: machine_time(stretch.started_at),
            until: stretch.ended_at.map(format_datetime),
            until_machine: stretch.ended_at.map(machine_time).unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "history/member.html")]
struct MemberHistoryPage {
    layout: crate::web::layout::Layout,
    slug: String,
    membership: uuid::Uuid,
    name: String,
    email: String,
    current: bool,
    me: bool,
    picker: DayPicker,
    view: AccessView,
    stretches: Vec<StretchRow>,
    more: bool,
    shown_at_most: i64,
}

/// GET /orgs/{slug}/members/{id}/access-history?on=2026-11-28
pub async fn member_history(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
    params: web::Query<DayParams>,
) -> Result<HttpResponse, AppError> {
    let params = params.into_inner();
    let OrgItem { slug, id } = item;
    let path = format!("/orgs/{slug}/members/{id}/access-history");
    let asked = day_of(&params);
    let day = asked.clone().unwrap_or_else(|_| Day::today(OffsetDateTime::now_utc()));
    let (_, found) = state
        .db
        .run_then_read(
            browser_wrote(&req),
            move |conn| history::person_access(conn, &slug, user.0, id),
            move |conn, checked| history::person(conn, checked, day),
        )
        .await?;
    let picker = DayPicker::new(path, &params, &asked, found.kept_since);
    let org_slug = found.access.org.slug.clone();
    let failed = picker.error.is_some();
    let nobody = Granters { viewer_may: false, others: Vec::new() };
    let view = MemberHistoryPage {
        view: AccessView::new(if failed { Default::default() } else { found.reach }, &nobody, &org_slug),
        stretches: found.stretches.iter().map(|s| StretchRow::new(s, &org_slug)).collect(),
        more: found.more,
        shown_at_most: history::STRETCHES_SHOWN,
        membership: found.membership,
        me: found.mine,
        current: found.current,
        picker,
        layout: frame.layout(
            format!("Access history of {}", found.name),
            Some(found.viewer),
            Some(&org_slug),
            Nav::Members,
        ),
        name: found.name,
        email: found.email,
        slug: org_slug,
    };
    page_with_status(if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }, &view)
}
