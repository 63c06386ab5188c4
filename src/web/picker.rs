//! Type-ahead pickers (teams, projects, people): a text field that asks the server
//! for matches as one types, a page of them at a time. With JavaScript it is a
//! WAI-ARIA combobox (static/app.js); without, a multiple picker is a search field
//! with `Find` and a list of results in the returned form, and a single picker a
//! text field the server resolves on submit.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::AccessLevel;
use crate::error::AppError;
use crate::services::choices::{self, Choices, Of};
use crate::web::extractors::{OrgSlug, SignedIn};
use crate::web::htmx::page;
use crate::web::listing;
use crate::web::state::AppState;

/// One chosen item of a multiple picker, drawn as a removable chip that carries
/// the form field: the id in a hidden field, or (`level`) a level select named
/// `<field>:<id>`.
#[derive(Debug, Clone)]
pub struct Chip {
    pub field: &'static str,
    pub id: Uuid,
    pub label: String,
    pub level: Option<AccessLevel>,
}

impl Chip {
    pub fn levels(&self) -> &'static [AccessLevel] {
        &AccessLevel::ALL
    }
}

/// A picker as a form draws it.
#[derive(Debug, Clone)]
pub struct Picker {
    /// The text field's id (and the prefix of the list's).
    pub id: &'static str,
    pub label: &'static str,
    /// Words after the label, e.g. "(optional)".
    pub note: String,
    /// The form field of the chosen values (`team`, `project`, `member`).
    pub field: &'static str,
    /// The URL that answers `?q=` with matches.
    pub source: String,
    /// Several chosen as chips (`true`), or one typed into the field itself.
    pub multiple: bool,
    /// The chips of a multiple picker.
    pub chips: Vec<Chip>,
    /// What is in the text field.
    pub query: String,
    /// Matches found by `Find` without JavaScript.
    pub results: Option<Choices>,
    pub hint: String,
    pub error: Option<String>,
    pub placeholder: &'static str,
}

impl Picker {
    /// A picker of one item, typed into the field named `field`.
    pub fn single(id: &'static str, label: &'static str, field: &'static str, source: String, value: &str) -> Self {
        Picker {
            id,
            label,
            note: String::new(),
            field,
            source,
            multiple: false,
            chips: Vec::new(),
            query: value.to_owned(),
            results: None,
            hint: String::new(),
            error: None,
            placeholder: "Type to search",
        }
    }

    /// A picker of several items, each a chip carrying the field `field`.
    pub fn multiple(id: &'static str, label: &'static str, field: &'static str, source: String) -> Self {
        Picker { multiple: true, query: String::new(), ..Picker::single(id, label, field, source, "") }
    }

    /// The name of the text field: the value's own for a single picker; for a
    /// multiple one, a search the server reads only for `Find`.
    pub fn input_name(&self) -> String {
        if self.multiple {
            format!("{}_q", self.id)
        } else {
            self.field.to_owned()
        }
    }

    /// Whether the results offer a level per item (projects) rather than a checkbox.
    pub fn with_levels(&self) -> bool {
        self.field == "project"
    }

    pub fn levels(&self) -> &'static [AccessLevel] {
        &AccessLevel::ALL
    }

    /// Whether `id` is already a chip (the results leave it out).
    pub fn is_chosen(&self, id: &Uuid) -> bool {
        self.chips.iter().any(|c| c.id == *id)
    }
}

/// What a form's team and project pickers send: the chosen (`team`, one field each;
/// `project:<id>` = level, or empty for none), the searches (`teams_q`, `projects_q`)
/// and, without JavaScript, which picker's `Find` was pressed (`find`) or which chip's
/// remove button (`drop` = its id). The invite form, `Create invite link` and
/// `Approve` read them alike.
#[derive(Debug, Clone, Default)]
pub struct PickedFields {
    pub teams: Vec<String>,
    pub projects: Vec<(String, String)>,
    pub teams_q: String,
    pub projects_q: String,
    pub find: String,
    pub drop: String,
}

impl PickedFields {
    /// Takes `key = value` when it is a picker's field; `false` for any other.
    pub fn take(&mut self, key: &str, value: String) -> bool {
        match key {
            "team" => self.teams.push(value),
            "teams_q" => self.teams_q = value,
            "projects_q" => self.projects_q = value,
            "find" => self.find = value,
            "drop" => self.drop = value,
            _ => match key.strip_prefix("project:") {
                Some(id) => {
                    if !value.is_empty() {
                        self.projects.push((id.to_owned(), value));
                    }
                }
                None => return false,
            },
        }
        true
    }

    /// Whether the form was sent to search or to remove a chip, which changes nothing.
    pub fn only_looks(&self) -> bool {
        !self.find.is_empty() || !self.drop.is_empty()
    }

    /// What the picker `id` (`teams`, `projects`) is to be searched for: what was typed
    /// in it, when something was or its `Find` was pressed.
    pub fn search(&self, id: &str) -> Option<String> {
        let typed = if id == "teams" { &self.teams_q } else { &self.projects_q };
        (!typed.trim().is_empty() || self.find == id).then(|| typed.clone())
    }

    /// The teams and projects chosen, each once, without the chip removed.
    pub fn chosen(&self) -> Result<crate::services::invitations::Brings, crate::error::FormErrors> {
        let bad = || {
            crate::error::FormErrors::form("Choose teams and projects from the lists. Reload the page and try again.")
        };
        let dropped = Uuid::parse_str(self.drop.trim()).ok();
        let mut brings = crate::services::invitations::Brings::default();
        for team in &self.teams {
            let id = Uuid::parse_str(team.trim()).map_err(|_| bad())?;
            if Some(id) != dropped && !brings.teams.contains(&id) {
                brings.teams.push(id);
            }
        }
        for (id, level) in &self.projects {
            let (Ok(id), Some(level)) = (Uuid::parse_str(id), AccessLevel::from_db(level)) else { return Err(bad()) };
            if Some(id) != dropped && !brings.projects.iter().any(|(p, _)| *p == id) {
                brings.projects.push((id, level));
            }
        }
        Ok(brings)
    }
}

/// `?q=…&after=…&chip=…&others=1` of a choices request.
#[derive(Debug, Default, Deserialize)]
pub struct ChoiceParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub after: String,
    /// Draw each match's chip too, for a multiple picker of this field.
    #[serde(default)]
    pub chip: String,
    /// Members: leave out the viewer (transfer ownership).
    #[serde(default)]
    pub others: String,
}

/// The matches, as the options of a listbox.
#[derive(Template)]
#[template(path = "_choices.html")]
pub struct ChoicesFragment {
    pub query: String,
    pub choices: Choices,
    /// For members: the email fills a single picker's field; for teams, the name.
    pub fills_detail: bool,
    /// The chips' field (`team`, `project`), or none.
    pub chip_field: Option<&'static str>,
    /// The URL of the next page of matches.
    pub more: Option<String>,
    pub noun: &'static str,
}

impl ChoicesFragment {
    pub fn chip(&self, choice: &choices::Choice) -> Option<Chip> {
        self.chip_field.map(|field| Chip {
            field,
            id: choice.id,
            label: choice.label.clone(),
            level: (field == "project").then_some(AccessLevel::Read),
        })
    }
}

/// Answers a choices request: the options, with a `Show more` that asks for the next page.
pub fn answer(
    path: &str,
    params: &ChoiceParams,
    choices: Choices,
    noun: &'static str,
    fills_detail: bool,
) -> Result<HttpResponse, AppError> {
    let chip_field = match params.chip.as_str() {
        "team" => Some("team"),
        "project" => Some("project"),
        _ => None,
    };
    let more = choices.next.as_ref().map(|cursor| {
        let mut query = vec![("q", params.q.clone()), ("after", listing::encode_cursor(cursor).unwrap_or_default())];
        if let Some(field) = chip_field {
            query.push(("chip", field.to_owned()));
        }
        if !params.others.is_empty() {
            query.push(("others", "1".to_owned()));
        }
        format!("{path}?{}", serde_urlencoded::to_string(&query).unwrap_or_default())
    });
    page(&ChoicesFragment { query: params.q.trim().to_owned(), choices, fills_detail, chip_field, more, noun })
}

/// Answers a choices request of the organization at `slug` (at `/choices/{kind}`)
/// with what matches among `of`.
async fn choices_of(
    state: &AppState,
    user: SignedIn,
    slug: OrgSlug,
    kind: &str,
    params: &ChoiceParams,
    (of, noun, fills_detail): (Of, &'static str, bool),
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let path = format!("/orgs/{slug}/choices/{kind}");
    let (q, after) = (params.q.clone(), listing::decode_cursor(&params.after));
    let found = state.db.run(move |conn| choices::find(conn, &slug, user.0, of, &q, after)).await?;
    answer(&path, params, found, noun, fills_detail)
}

/// GET /orgs/{slug}/choices/teams: teams the viewer may choose.
pub async fn team_choices(
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<ChoiceParams>,
) -> Result<HttpResponse, AppError> {
    choices_of(&state, user, slug, "teams", &params, (Of::Teams, "team", false)).await
}

/// GET /orgs/{slug}/choices/projects: the organization's projects.
pub async fn project_choices(
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<ChoiceParams>,
) -> Result<HttpResponse, AppError> {
    choices_of(&state, user, slug, "projects", &params, (Of::Projects, "project", false)).await
}

/// GET /orgs/{slug}/choices/members: the organization's members (`others=1`: but the viewer).
pub async fn member_choices(
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<ChoiceParams>,
) -> Result<HttpResponse, AppError> {
    let of = Of::Members { others: !params.others.is_empty() };
    choices_of(&state, user, slug, "members", &params, (of, "member", true)).await
}
