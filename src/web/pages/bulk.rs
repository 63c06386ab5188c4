//! Bulk actions on the Members page (DESIGN.md §2.13): the checked members (or every
//! member the view's filters match) and an action are previewed, in a dialog with
//! htmx and on a page without; `Confirm` applies exactly what the preview showed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use uuid::Uuid;

use crate::domain::{Role, TeamRole};
use crate::error::{AppError, FormErrors};
use crate::services::bulk::{self, BulkAction, Outcome, Preview, Selection};
use crate::web::extractors::{Acting, OrgSlug};
use crate::web::htmx::{is_htmx, page_with_status, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::TableParams;
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// The bulk form's fields, as posted from the Members page and echoed by the preview.
#[derive(Debug, Clone, Default)]
pub struct BulkForm {
    /// The checked members.
    pub members: Vec<Uuid>,
    /// "Every member matching these filters", with the view's query fields.
    pub all_matching: bool,
    pub view: TableParams,
    pub action: String,
    pub role: String,
    pub team: String,
    pub team_role: String,
    /// The preview's digest: present when confirming.
    pub digest: Option<String>,
}

impl BulkForm {
    /// Reads the posted fields; unknown ones (the CSRF token) are ignored.
    pub fn from_fields(fields: Vec<(String, String)>) -> Self {
        let mut form = BulkForm::default();
        for (name, value) in fields {
            match name.as_str() {
                "member" => form.members.extend(Uuid::parse_str(value.trim()).ok()),
                "all_matching" => form.all_matching = !value.is_empty(),
                "q" => form.view.q = value,
                "status" => form.view.status = value,
                "role_filter" => form.view.role = value,
                "two_factor" => form.view.two_factor = value,
                "sort" => form.view.sort = value,
                "dir" => form.view.dir = value,
                "action" => form.action = value,
                "role" => form.role = value,
                "team" => form.team = value,
                "team_role" => form.team_role = value,
                "digest" => form.digest = Some(value).filter(|d| !d.is_empty()),
                _ => {}
            }
        }
        form
    }

    /// The action asked for, or what is missing, beside its field.
    pub fn action(&self) -> Result<BulkAction, AppError> {
        let field = |name: &'static str, message: &str| {
            let mut errors = FormErrors::new();
            errors.add(name, message.to_owned());
            AppError::Invalid(errors)
        };
        let team_role = || match self.team_role.as_str() {
            "maintainer" => TeamRole::Maintainer,
            _ => TeamRole::Member,
        };
        match self.action.as_str() {
            "change_role" => match Role::from_db(self.role.trim()) {
                Some(role @ (Role::Admin | Role::Member)) => Ok(BulkAction::ChangeRole(role)),
                _ => Err(field("role", "Choose the role to give: Admin or Member.")),
            },
            "add_to_team" => Ok(BulkAction::AddToTeam { team: self.team.trim().to_owned(), role: team_role() }),
            "remove_from_team" => Ok(BulkAction::RemoveFromTeam { team: self.team.trim().to_owned() }),
            "suspend" => Ok(BulkAction::Suspend),
            "remove" => Ok(BulkAction::Remove),
            _ => Err(field("action", "Choose what to do with the selected members.")),
        }
    }

    fn selection(&self, slug: &crate::domain::Slug) -> Selection {
        if self.all_matching {
            Selection::Matching(super::members::view_of(slug, &self.view).1)
        } else {
            Selection::Members(self.members.clone())
        }
    }

    /// The Members view the form came from, to go back to.
    fn back(&self, slug: &str) -> String {
        let pairs = [
            ("q", &self.view.q),
            ("role", &self.view.role),
            ("status", &self.view.status),
            ("two_factor", &self.view.two_factor),
            ("sort", &self.view.sort),
            ("dir", &self.view.dir),
        ];
        let query: Vec<(&str, &String)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        match serde_urlencoded::to_string(query) {
            Ok(query) if !query.is_empty() => format!("/orgs/{slug}/members?{query}"),
            _ => format!("/orgs/{slug}/members"),
        }
    }
}

/// A preview as a dialog or page shows it.
pub struct PreviewView {
    pub title: String,
    /// "This takes 20 members out of team Platform."
    pub summary: String,
    /// "14 of them lose access to a project."
    pub effect: String,
    /// Per member who gains or loses: their name, and each sentence.
    pub shifts: Vec<(String, String, Vec<String>)>,
    /// Members changed whose projects stay as they are.
    pub unchanged: Vec<(String, String)>,
    /// Members left as they are: name, email, why.
    pub refused: Vec<(String, String, String)>,
    pub gone: usize,
    pub digest: String,
    pub can_confirm: bool,
    /// Set when the state changed since the preview the person confirmed.
    pub changed_since: bool,
}

impl PreviewView {
    fn new(preview: &Preview, changed_since: bool) -> Self {
        let (verb, members, rest) = preview.summary();
        let title = match &preview.action {
            BulkAction::ChangeRole(role) => format!("Change role to {}", role.label()),
            BulkAction::AddToTeam { .. } => "Add to team".to_owned(),
            BulkAction::RemoveFromTeam { .. } => "Remove from team".to_owned(),
            BulkAction::Suspend => "Suspend".to_owned(),
            BulkAction::Remove => "Remove".to_owned(),
        };
        let summary = match (&preview.action, preview.changed.len()) {
            (_, 0) => "None of the selected members can be changed this way.".to_owned(),
            (BulkAction::Remove, _) => {
                format!("This removes {members} from the organization. Their accounts stay; you can invite them again.")
            }
            (BulkAction::Suspend, _) => {
                format!("This suspends {members}: they keep their role, teams and grants, and their seats are free.")
            }
            _ => format!("This {} {members} {rest}.", present(&verb)).replace("  ", " ").replace(" .", "."),
        };
        let gaining = preview.changed.iter().filter(|c| c.shifts.iter().any(|s| !s.loses())).count();
        let effect = match (preview.losers(), gaining) {
            (0, 0) => "Nobody gains or loses access to a project.".to_owned(),
            (losers, 0) => format!("{} lose access to projects:", of_them(losers, preview.changed.len())),
            (0, gainers) => format!("{} gain access to projects:", of_them(gainers, preview.changed.len())),
            (losers, gainers) => format!("{losers} lose and {gainers} gain access to projects:"),
        };
        let shifts = preview
            .changed
            .iter()
            .filter(|c| !c.shifts.is_empty())
            .map(|c| (c.member.name.clone(), c.member.email.clone(), c.shifts.iter().map(|s| s.sentence()).collect()))
            .collect();
        let unchanged = preview
            .changed
            .iter()
            .filter(|c| c.shifts.is_empty())
            .map(|c| (c.member.name.clone(), c.member.email.clone()))
            .collect();
        let refused = preview.refused.iter().map(|(t, why)| (t.name.clone(), t.email.clone(), why.clone())).collect();
        PreviewView {
            title,
            summary,
            effect,
            shifts,
            unchanged,
            refused,
            gone: preview.gone,
            digest: preview.digest.clone(),
            can_confirm: !preview.changed.is_empty(),
            changed_since,
        }
    }
}

/// "took" → "takes", as the preview says what will happen.
fn present(verb: &str) -> String {
    match verb {
        "changed the role of" => "changes the role of".into(),
        "added" => "adds".into(),
        "took" => "takes".into(),
        other => other.to_owned(),
    }
}

/// Who of the `of` members changed does something: "They", "All 3", "14 of the 20".
fn of_them(count: usize, of: usize) -> String {
    match (count, of) {
        (1, 1) => "They".to_owned(),
        (c, o) if c == o => format!("All {c}"),
        (c, o) => format!("{c} of the {o}"),
    }
}

#[derive(Template)]
#[template(path = "members/bulk.html")]
struct BulkPage {
    layout: Layout,
    csrf: String,
    slug: String,
    form: BulkForm,
    back: String,
    view: PreviewView,
}

#[derive(Template)]
#[template(path = "members/_bulk_dialog.html")]
struct BulkDialog {
    csrf: String,
    slug: String,
    form: BulkForm,
    back: String,
    view: PreviewView,
}

/// POST /orgs/{slug}/members/bulk: previews the action (no `digest`) or applies it.
pub async fn bulk_members(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    fields: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let slug_text = slug.to_string();
    let form = BulkForm::from_fields(fields.into_inner());
    let back = form.back(&slug_text);
    let action = match form.action() {
        Ok(action) => action,
        Err(error) => return back_with(&req, frame, &back, error),
    };
    let selection = form.selection(&slug);
    let user = acting.user;
    let Some(digest) = form.digest.clone() else {
        let shown = state.db.run(move |conn| bulk::preview_page(conn, &slug, user, &selection, &action)).await;
        return match shown {
            Ok((viewer, preview)) => {
                let view = PreviewView::new(&preview, false);
                show(&req, frame, viewer, slug_text, form, back, view, StatusCode::OK)
            }
            Err(error) => back_with(&req, frame, &back, error),
        };
    };
    let actor = acting.actor();
    let done = state
        .db
        .run(move |conn| {
            let outcome = bulk::apply(conn, &actor, &slug, &selection, &action, Some(&digest))?;
            let viewer = match &outcome {
                Outcome::Changed(_) => Some(crate::services::viewer::load(conn, user)?),
                Outcome::Applied { .. } => None,
            };
            Ok((outcome, viewer))
        })
        .await;
    match done {
        Ok((Outcome::Applied { batch, summary, .. }, _)) => {
            let short = &batch.simple().to_string()[..8];
            let message = format!("You {summary} (batch {short}). The Audit Log lists each change.");
            frame.session.flash(FlashLevel::Success, crate::web::format::capitalized(&message));
            Ok(redirect(&req, &back))
        }
        Ok((Outcome::Changed(preview), Some(viewer))) => {
            let view = PreviewView::new(&preview, true);
            show(&req, frame, viewer, slug_text, form, back, view, StatusCode::CONFLICT)
        }
        Ok((Outcome::Changed(_), None)) => Err(AppError::internal(anyhow::anyhow!("a preview without its viewer"))),
        Err(error) => back_with(&req, frame, &back, error),
    }
}

#[allow(clippy::too_many_arguments)]
fn show(
    req: &HttpRequest,
    frame: Frame,
    viewer: crate::services::viewer::Viewer,
    slug: String,
    form: BulkForm,
    back: String,
    view: PreviewView,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let csrf = frame.csrf().to_owned();
    if is_htmx(req) {
        return page_with_status(status, &BulkDialog { csrf, slug, form, back, view });
    }
    let layout = frame.layout(view.title.clone(), Some(viewer), Some(&slug), Nav::Members);
    page_with_status(status, &BulkPage { layout, csrf, slug, form, back, view })
}

/// A bulk form that cannot be previewed or applied: back to the Members view, with
/// why in the alert region (the selection is in that view's checkboxes).
fn back_with(req: &HttpRequest, frame: Frame, back: &str, error: AppError) -> Result<HttpResponse, AppError> {
    let message = match error {
        AppError::Invalid(errors) => errors.to_string(),
        AppError::Conflict(message) | AppError::Forbidden(message) => message,
        other => return Err(other),
    };
    frame.session.flash(FlashLevel::Error, message);
    Ok(redirect(req, back))
}
