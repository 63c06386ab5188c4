//! The `API` page: where the JSON API is, how to authenticate, and one `curl`
//! example per resource with this organization's real URL.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::Permission;
use crate::error::AppError;
use crate::services::access;
use crate::web::extractors::{OrgSlug, SignedIn};
use crate::web::htmx::page;
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::state::AppState;

/// One resource and how to reach it.
pub struct Example {
    pub heading: &'static str,
    pub scope: &'static str,
    pub what: &'static str,
    pub command: String,
}

#[derive(Template)]
#[template(path = "api/index.html")]
struct ApiPage {
    layout: Layout,
    slug: String,
    org_name: String,
    api_url: String,
    can_manage_keys: bool,
    examples: Vec<Example>,
}

/// The examples, against the API at `api` (`https://roster.example.com/api/v1`).
fn examples(api: &str) -> Vec<Example> {
    let auth = "-H \"Authorization: Bearer $ROSTER_API_KEY\"";
    vec![
        Example {
            heading: "Members",
            scope: "members:read",
            what: "The first 50 members by name; pass next_cursor back as cursor for the next page. Filters: q, role, status.",
            command: format!("curl {auth} \"{api}/members?limit=50\""),
        },
        Example {
            heading: "Change a member's role",
            scope: "members:write",
            what: "By membership id. DELETE on the same URL removes the member.",
            command: format!(
                "curl -X PATCH {auth} -H \"Content-Type: application/json\" \\\n  -d '{{\"role\": \"member\"}}' {api}/members/MEMBERSHIP_ID"
            ),
        },
        Example {
            heading: "Invitations",
            scope: "invitations:write",
            what: "Invite several people at once; the answer says what became of each address, as the Invite Members dialog does.",
            command: format!(
                "curl -X POST {auth} -H \"Content-Type: application/json\" \\\n  -d '{{\"emails\": [\"ann@example.com\", \"bob@example.com\", \"cy@example.com\"], \"role\": \"member\"}}' \\\n  {api}/invitations"
            ),
        },
        Example {
            heading: "List invitations",
            scope: "invitations:read",
            what: "Open invitations (pending and expired), newest first; status=all lists every one.",
            command: format!("curl {auth} \"{api}/invitations?status=open\""),
        },
        Example {
            heading: "Teams",
            scope: "teams:write",
            what: "Add a member of the organization to a team by email address, as member or maintainer. GET /teams lists the teams; GET /projects and /projects/{project}/access show who reaches what.",
            command: format!(
                "curl -X POST {auth} -H \"Content-Type: application/json\" \\\n  -d '{{\"member\": \"ann@example.com\", \"role\": \"member\"}}' {api}/teams/platform/members"
            ),
        },
        Example {
            heading: "Seats",
            scope: "members:read",
            what: "Members, seats reserved by pending invitations, and the limit.",
            command: format!("curl {auth} {api}/seats"),
        },
        Example {
            heading: "Audit log",
            scope: "audit:read",
            what: "Events newest first; filters: action, actor, since, until.",
            command: format!("curl {auth} \"{api}/audit-events?action=invitation.accepted\""),
        },
    ]
}

/// GET /orgs/{slug}/api
pub async fn show_api(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (viewer, access) = state.db.run(move |conn| access::page(conn, &slug, user.0)).await?;
    let api_url = state.settings.link(crate::web::api::PREFIX);
    page(&ApiPage {
        slug: access.org.slug.clone(),
        org_name: access.org.name.clone(),
        can_manage_keys: access.role.can(Permission::ManageIntegrations),
        examples: examples(&api_url),
        api_url,
        layout: frame.layout("API", Some(viewer), Some(&access.org.slug), Nav::Settings),
    })
}
