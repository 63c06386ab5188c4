//! What the type-ahead pickers offer: the teams, projects and members matching
//! what was typed, a page at a time in name order, each read by the query that
//! walks that list's index, so no page grows with the organization (DESIGN.md §6).

use diesel::prelude::*;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use crate::db::groups::GroupQuery;
use crate::db::listing::Cursor;
use crate::db::projects as project_rows;
use crate::db::teams::{self as team_rows, Candidate, CandidateQuery};
use crate::domain::permission::{may_on_team, TeamAction};
use crate::domain::{Slug, UserId};
use crate::error::AppError;

/// What a picker asks for.
#[derive(Debug, Clone, Copy)]
pub enum Of {
    Teams,
    Projects,
    /// With `others`, not the viewer.
    Members {
        others: bool,
    },
}

/// The matches of `search` among what `of` names, for `user` in the organization at
/// `slug` (every member sees the lists of teams, projects and members).
pub fn find(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    of: Of,
    search: &str,
    after: Option<Cursor>,
) -> Result<Choices, AppError> {
    let access = access::member_of(conn, slug, user)?;
    let (org, search) = (access.org.org_id(), search.trim());
    match of {
        Of::Teams => teams_for(conn, &access, search, after),
        Of::Projects => {
            let query = GroupQuery { org, search, descending: false, after, limit: PAGE };
            let rows = project_rows::list(conn, &query)?;
            Ok(Choices::paged(rows.into_iter().map(|(p, key)| named(p.id, p.name, key)).collect()))
        }
        Of::Members { others } => {
            let query = CandidateQuery {
                org,
                outside_team: None,
                except: access.membership().filter(|_| others),
                only: None,
                search,
                after,
                limit: PAGE + 1,
            };
            Ok(Choices::of_members(team_rows::candidates(conn, &query)?))
        }
    }
}

/// How many matches a picker shows at once.
pub const PAGE: i64 = 20;

/// One thing a picker offers: its id, the name shown, and a detail beside it
/// (a member's email).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub id: Uuid,
    pub label: String,
    pub detail: String,
}

/// A page of matches, and the cursor of the next page when there are more.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub items: Vec<Choice>,
    pub next: Option<Cursor>,
}

impl Choices {
    /// From up to `PAGE + 1` rows, each with its cursor: the first `PAGE`, and
    /// the cursor after the last of them when a further row was found.
    fn paged(mut rows: Vec<(Choice, Cursor)>) -> Self {
        let more = rows.len() as i64 > PAGE;
        rows.truncate(PAGE as usize);
        let next = if more { rows.last().map(|(_, cursor)| cursor.clone()) } else { None };
        Choices { items: rows.into_iter().map(|(choice, _)| choice).collect(), next }
    }

    /// Members as a picker offers them: name, and email beside it.
    pub fn of_members(rows: Vec<Candidate>) -> Self {
        Choices::paged(
            rows.into_iter()
                .map(|(id, name, email, key)| (Choice { id, label: name, detail: email }, Cursor::Text(key, id)))
                .collect(),
        )
    }
}

/// A team or project as a picker offers it (its name alone), with its cursor.
fn named(id: Uuid, name: String, key: String) -> (Choice, Cursor) {
    (Choice { id, label: name, detail: String::new() }, Cursor::Text(key, id))
}

/// The teams `access` may choose for an invitation or a grant: every team for
/// those who manage teams, the teams they maintain for a team Maintainer.
fn teams_for(
    conn: &mut PgConnection,
    access: &OrgAccess,
    search: &str,
    after: Option<Cursor>,
) -> Result<Choices, AppError> {
    let choice = |id, name: String| Choice { id, label: name, detail: String::new() };
    if may_on_team(access.role, None, TeamAction::Invite) {
        let query = GroupQuery { org: access.org.org_id(), search, descending: false, after, limit: PAGE };
        let rows = team_rows::list(conn, &query)?;
        return Ok(Choices::paged(
            rows.into_iter().map(|(t, key)| (choice(t.id, t.name), Cursor::Text(key, t.id))).collect(),
        ));
    }
    // A Maintainer's own teams are few: all of them, filtered here.
    let search = search.to_lowercase();
    let items = super::access::maintained(conn, access)?
        .into_iter()
        .filter(|t| t.name.to_lowercase().contains(&search))
        .map(|t| named(t.id, t.name, String::new()).0)
        .collect();
    Ok(Choices { items, next: None })
}
