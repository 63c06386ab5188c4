//! `POST /api/v1/members/bulk`: one action on many members (DESIGN.md §2.13), with
//! `dry_run` for the preview the console shows, and the preview's `digest` to apply
//! exactly what was previewed.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::common::{answer, call_idempotent, parse_body, ApiError, ApiRole};
use crate::domain::api_key::Scope;
use crate::domain::{Role, TeamRole};
use crate::error::{AppError, FormErrors};
use crate::services::bulk::{self, BulkAction, Outcome, Preview, Selection};

/// What to do, to whom.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkRequest {
    /// `change_role`, `add_to_team`, `remove_from_team`, `suspend` or `remove`.
    pub action: String,
    /// The memberships' ids, at most 1,000.
    pub members: Vec<Uuid>,
    /// For `change_role`: `admin` or `member`.
    pub role: Option<ApiRole>,
    /// For `add_to_team` and `remove_from_team`: the team's name.
    pub team: Option<String>,
    /// For `add_to_team`: `member` (the default) or `maintainer`.
    pub team_role: Option<String>,
    /// `true`: change nothing, answer what the action would do (with its `digest`).
    #[serde(default)]
    pub dry_run: bool,
    /// The `digest` of a dry run: the action is applied only if it would still do
    /// exactly that; otherwise `409` with what it would do now.
    pub digest: Option<String>,
}

/// What happens to one member's access to one project.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessChange {
    pub project_id: Uuid,
    pub project: String,
    /// `read`, `write`, `admin`, or none (no access).
    pub before: Option<String>,
    pub after: Option<String>,
    /// In words: "loses Write on Billing API — it came through team Platform".
    pub sentence: String,
}

/// A member the action changes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkChanged {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub access: Vec<AccessChange>,
}

/// A member the action leaves as they are, and why.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkRefused {
    pub id: Uuid,
    pub email: String,
    pub reason: String,
}

/// What the action does (`dry_run`) or did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkResult {
    pub dry_run: bool,
    pub action: String,
    /// Pass back as `digest` to apply exactly this.
    pub digest: String,
    /// The batch every audit event of the action carries; none for a dry run.
    pub batch_id: Option<Uuid>,
    pub changed: Vec<BulkChanged>,
    pub refused: Vec<BulkRefused>,
    /// Selected ids that are not members of the organization.
    pub not_found: usize,
}

impl BulkResult {
    fn of(preview: &Preview, dry_run: bool, batch_id: Option<Uuid>) -> Self {
        let level = |l: Option<crate::domain::AccessLevel>| l.map(|l| l.as_str().to_owned());
        BulkResult {
            dry_run,
            action: preview.action.key().to_owned(),
            digest: preview.digest.clone(),
            batch_id,
            changed: preview
                .changed
                .iter()
                .map(|c| BulkChanged {
                    id: c.member.id,
                    name: c.member.name.clone(),
                    email: c.member.email.clone(),
                    access: c
                        .shifts
                        .iter()
                        .map(|s| AccessChange {
                            project_id: s.project.id,
                            project: s.project.name.clone(),
                            before: level(s.before),
                            after: level(s.after),
                            sentence: s.sentence(),
                        })
                        .collect(),
                })
                .collect(),
            refused: preview
                .refused
                .iter()
                .map(|(t, why)| BulkRefused { id: t.id, email: t.email.clone(), reason: why.clone() })
                .collect(),
            not_found: preview.gone,
        }
    }
}

impl BulkRequest {
    fn action(&self) -> Result<BulkAction, AppError> {
        let team = || self.team.clone().unwrap_or_default();
        match self.action.as_str() {
            "change_role" => match self.role.map(Role::from) {
                Some(role @ (Role::Admin | Role::Member)) => Ok(BulkAction::ChangeRole(role)),
                _ => Err(AppError::Invalid(FormErrors::field("role", "One of admin, member."))),
            },
            "add_to_team" => {
                let role = match self.team_role.as_deref().unwrap_or("member") {
                    "member" => TeamRole::Member,
                    "maintainer" => TeamRole::Maintainer,
                    _ => return Err(AppError::Invalid(FormErrors::field("team_role", "One of member, maintainer."))),
                };
                Ok(BulkAction::AddToTeam { team: team(), role })
            }
            "remove_from_team" => Ok(BulkAction::RemoveFromTeam { team: team() }),
            "suspend" => Ok(BulkAction::Suspend),
            "remove" => Ok(BulkAction::Remove),
            _ => Err(AppError::Invalid(FormErrors::field(
                "action",
                "One of change_role, add_to_team, remove_from_team, suspend, remove.",
            ))),
        }
    }
}

/// One action on many members, in one transaction with one batch id in the audit
/// log. Each member is checked as a single change would be (an Admin key never acts
/// on Admins or the Owner); those refused are listed with why and left alone.
#[utoipa::path(
    tag = "Members",
    request_body = BulkRequest,
    responses((status = 200, description = "What the action does (`dry_run`), or did.", body = BulkResult),
              (status = 409, description = "Something changed since the dry run whose `digest` was given; nothing was changed. `detail` says so; run the dry run again.", body = super::common::Problem, content_type = "application/problem+json"),
              (status = 422, description = "An unknown action, a missing role or team, no members or more than 1,000.", body = super::common::Problem, content_type = "application/problem+json")),
    security(("api_key" = ["members:write"]))
)]
#[post("/members/bulk")]
pub async fn bulk_members(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let bytes = body.clone();
    call_idempotent(
        &req,
        Scope::MembersWrite,
        &bytes,
        Box::new(move |conn, key| {
            let request: BulkRequest = parse_body(&body)?;
            let action = request.action()?;
            if action_touches_teams(&action) {
                key.require(Scope::TeamsWrite)?;
            }
            let selection = Selection::Members(request.members.clone());
            if request.dry_run {
                let preview = bulk::preview(conn, &key.actor, &key.slug, &selection, &action)?;
                return answer(StatusCode::OK, &BulkResult::of(&preview, true, None));
            }
            let digest = request.digest.as_deref().filter(|d| !d.is_empty());
            match bulk::apply(conn, &key.actor, &key.slug, &selection, &action, digest)? {
                Outcome::Applied { batch, preview, .. } => {
                    answer(StatusCode::OK, &BulkResult::of(&preview, false, Some(batch)))
                }
                Outcome::Changed(preview) => Err(AppError::Conflict(format!(
                    "The members changed since the dry run: nothing was done. Run the dry run again (its digest is now \
                     {}).",
                    preview.digest
                ))),
            }
        }),
    )
    .await
}

fn action_touches_teams(action: &BulkAction) -> bool {
    matches!(action, BulkAction::AddToTeam { .. } | BulkAction::RemoveFromTeam { .. })
}
