//! The Audit Log page (Owner and Admins): every membership event, filterable, paginated, exportable as CSV.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::Role;
use crate::error::AppError;
use crate::services::audit::{self, AuditEvent, AuditFilter};
use crate::services::events::EventKind;
use crate::web::export::{next_page, Exported};
use crate::web::extractors::{Acting, OrgSlug, SignedIn};
use crate::web::format::{capitalized, format_date, machine_time, When};
use crate::web::htmx::page;
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::listing::split_page;
use crate::web::recent_writes::browser_wrote;
use crate::web::state::AppState;

const PAGE_SIZE: i64 = 50;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditParams {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    /// First day shown, `YYYY-MM-DD` (UTC).
    #[serde(default)]
    from: String,
    /// Last day shown, `YYYY-MM-DD` (UTC).
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: String,
    /// One bulk action's events (its batch id).
    #[serde(default)]
    batch: String,
}

/// A `YYYY-MM-DD` date from a date field; anything else is no bound.
fn parse_day(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).ok()
}

/// One event, ready to show: a sentence, its details, and where to look further.
pub struct EventView {
    pub when: When,
    /// The actor's name, and "Name <email>" for hover.
    pub actor_name: String,
    pub actor_label: String,
    /// Where the actor and the target can be looked up.
    pub actor_href: Option<String>,
    pub target_href: Option<String>,
    /// What happened, in the UI's words; `{target}` stands for the target, linked.
    pub before_target: String,
    pub target: String,
    pub after_target: String,
    pub action: String,
    pub details: String,
    pub request_id: String,
    pub request_short: String,
    /// The bulk action the event is part of: its short id and the log of its events.
    pub batch: Option<(String, String)>,
}

/// "role: member → admin"-style lines from the before and after objects (for the CSV
/// and for events the page has no sentence for).
fn change_of(event: &AuditEvent) -> String {
    fn show(value: Option<&serde_json::Value>) -> String {
        match value {
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => "—".into(),
        }
    }
    let empty = serde_json::Map::new();
    let before = event.before.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
    let after = event.after.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|key| match (before.get(key), after.get(key)) {
            (Some(b), Some(a)) if b == a => format!("{key}: {}", show(Some(a))),
            (b, a) => format!("{key}: {} → {}", show(b), show(a)),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A text field of a before/after object.
fn field<'a>(value: &'a Option<serde_json::Value>, key: &str) -> &'a str {
    value.as_ref().and_then(|v| v.get(key)).and_then(|v| v.as_str()).unwrap_or_default()
}

/// A stored role or status as the UI names it.
/// "name: Ada → Ada Lovelace" for each field that differs between `before` and `after`.
fn changed_fields(before: &Option<serde_json::Value>, after: &Option<serde_json::Value>) -> String {
    let Some(after) = after.as_ref().and_then(|a| a.as_object()) else { return String::new() };
    let words = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Null) | None => "none".into(),
        Some(other) => other.to_string(),
    };
    after
        .iter()
        .map(|(key, value)| {
            let was = before.as_ref().and_then(|b| b.get(key));
            format!("{key}: {} → {}", words(was), words(Some(value)))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn named(value: &str) -> String {
    Role::from_db(value).map(|r| r.label().to_owned()).unwrap_or_else(|| {
        crate::domain::InvitationStatus::from_key(value).map_or_else(|| value.to_owned(), |s| s.label().to_owned())
    })
}

/// A team role's label, from its stored value.
fn team_role(value: &str) -> &str {
    crate::domain::TeamRole::from_db(value).map_or(value, |r| r.label())
}

/// An access level's label, from its stored value.
fn level(value: &str) -> &str {
    crate::domain::AccessLevel::from_db(value).map_or(value, |l| l.label())
}

/// "With team Platform, team Data", from the `teams` list of an approval.
fn teams_field(value: &Option<serde_json::Value>) -> String {
    let teams: Vec<&str> = value
        .as_ref()
        .and_then(|v| v.get("teams"))
        .and_then(|v| v.as_array())
        .map(|teams| teams.iter().filter_map(|t| t.as_str()).collect())
        .unwrap_or_default();
    if teams.is_empty() {
        String::new()
    } else {
        format!("With {}", teams.join(", "))
    }
}

/// A number of a before/after object.
fn count_field(value: &Option<serde_json::Value>, key: &str) -> Option<i64> {
    value.as_ref()?.get(key)?.as_i64()
}

/// A unix time of a before/after object as a date.
fn date_field(value: &Option<serde_json::Value>, key: &str) -> Option<String> {
    let seconds = value.as_ref()?.get(key)?.as_i64()?;
    Some(format_date(time::OffsetDateTime::from_unix_timestamp(seconds).ok()?))
}

/// What an expiry is on, from a before/after object: "team Platform", "project
/// Apollo", or the organization (a membership).
fn place_field(value: &Option<serde_json::Value>) -> String {
    match value.as_ref().and_then(|v| v.get("place")).and_then(|v| v.as_str()) {
        Some(place) => place.to_owned(),
        None => "the organization".to_owned(),
    }
}

impl EventView {
    pub fn new(event: &AuditEvent, slug: &str) -> Self {
        let actor_name = event.actor_label.split(" <").next().unwrap_or_default().to_owned();
        let actor_email = event.actor_label.rsplit_once('<').map(|(_, e)| e.trim_end_matches('>').to_owned());
        let (b, a) = (&event.before, &event.after);
        let target = event.target_label.clone();
        let kind = EventKind::from_key(&event.action);
        let is_email = target.contains('@');
        // (words before the target, words after it, details)
        let (before_target, after_target, details): (String, String, String) = match kind {
            Some(EventKind::InvitationCreated) => (
                "invited".into(),
                format!("as {}", named(field(a, "role"))),
                date_field(a, "expires_at").map(|d| format!("Link expires {d}")).unwrap_or_default(),
            ),
            Some(EventKind::InvitationResent) => (
                "resent the invitation to".into(),
                String::new(),
                match (
                    date_field(a, "expires_at"),
                    a.as_ref().and_then(|v| v.get("send_count")).and_then(|v| v.as_i64()),
                ) {
                    (Some(d), Some(n)) => format!("New link expires {d}; sent {n} times"),
                    (Some(d), None) => format!("New link expires {d}"),
                    _ => String::new(),
                },
            ),
            Some(EventKind::InvitationRevoked) => ("revoked the invitation to".into(), String::new(), String::new()),
            Some(EventKind::InvitationLinkCopied) => {
                ("copied the invitation link for".into(), String::new(), String::new())
            }
            Some(EventKind::InvitationAccepted) => (
                "accepted the invitation for".into(),
                format!("and joined as {}", named(field(a, "role"))),
                String::new(),
            ),
            Some(EventKind::InvitationDeclined) => ("declined the invitation for".into(), String::new(), String::new()),
            Some(EventKind::MemberRoleChanged) => (
                "changed the role of".into(),
                format!("from {} to {}", named(field(b, "role")), named(field(a, "role"))),
                String::new(),
            ),
            Some(EventKind::MemberRemoved) => {
                ("removed".into(), format!("({})", named(field(b, "role"))), String::new())
            }
            Some(EventKind::MemberLeft) => {
                ("left the organization:".into(), format!("({})", named(field(b, "role"))), String::new())
            }
            Some(EventKind::MemberVerificationResent) => {
                ("sent a new verification link to".into(), String::new(), String::new())
            }
            Some(EventKind::OwnershipTransferred) => {
                ("transferred ownership to".into(), format!("and became {}", Role::Admin.label()), String::new())
            }
            Some(EventKind::OrganizationCreated) => ("created".into(), String::new(), String::new()),
            Some(EventKind::OrganizationRenamed) => {
                ("renamed".into(), format!("(was {}, /orgs/{})", field(b, "name"), field(b, "slug")), String::new())
            }
            Some(EventKind::TwoFactorRequired) => (
                "required two-factor authentication in".into(),
                date_field(a, "two_factor_required_from").map(|d| format!("from {d}")).unwrap_or_default(),
                date_field(b, "two_factor_required_from")
                    .map(|d| format!("It was required from {d}"))
                    .unwrap_or_default(),
            ),
            Some(EventKind::TwoFactorNotRequired) => {
                ("stopped requiring two-factor authentication in".into(), String::new(), String::new())
            }
            Some(EventKind::MemberTwoFactorReset) => (
                "reset two-factor authentication for".into(),
                String::new(),
                "Their authenticator app and recovery codes were removed and their sessions ended".into(),
            ),
            Some(EventKind::MembersBulkChanged) => {
                let left = match count_field(a, "refused").unwrap_or(0) {
                    0 => String::new(),
                    1 => "1 selected member was left as they were".into(),
                    n => format!("{n} selected members were left as they were"),
                };
                (field(a, "verb").to_owned(), field(a, "rest").to_owned(), left)
            }
            Some(EventKind::MemberSuspended) => (
                "suspended".into(),
                format!("({})", named(field(a, "role"))),
                "Their role, teams and grants are kept; their seat is free".into(),
            ),
            Some(EventKind::InvitationReminded) => (
                "emailed a reminder of the invitation to".into(),
                String::new(),
                date_field(a, "expires_at").map(|d| format!("Link expires {d}")).unwrap_or_default(),
            ),
            Some(EventKind::InvitationExpired) => {
                ("noted that the invitation to".into(), "expired unanswered".into(), String::new())
            }
            Some(EventKind::MemberExpirySet) => {
                let place = place_field(a);
                match date_field(a, "expires_at") {
                    Some(day) => (
                        "set the access of".into(),
                        format!("to {place} to end on {day}"),
                        date_field(b, "expires_at").map(|d| format!("It was to end on {d}")).unwrap_or_default(),
                    ),
                    None => ("removed the end date of the access of".into(), format!("to {place}"), String::new()),
                }
            }
            Some(EventKind::MemberExpiryReminded) => (
                "reminded".into(),
                format!(
                    "and whoever set the date that their access to {} ends on {}",
                    place_field(a),
                    date_field(a, "expires_at").unwrap_or_default()
                ),
                String::new(),
            ),
            Some(EventKind::MemberExpired) => (
                "ended the membership of".into(),
                format!("({}) on its expiry date", named(field(b, "role"))),
                String::new(),
            ),
            Some(EventKind::TeamPlaceExpired) => {
                ("ended the place of".into(), format!("in team {} on its expiry date", field(b, "team")), String::new())
            }
            Some(EventKind::ProjectGrantExpired) => (
                format!("ended the {} access of", level(field(b, "level"))),
                format!("to project {} on its expiry date", field(b, "project")),
                String::new(),
            ),
            Some(EventKind::MemberReactivated) => {
                ("reactivated".into(), format!("({})", named(field(a, "role"))), String::new())
            }
            Some(EventKind::SeatsLimitReached) => ("took the last free seat of".into(), String::new(), String::new()),
            Some(EventKind::SeatsNearLimit) => (
                "brought to 90 % of its seats:".into(),
                String::new(),
                format!(
                    "{} of {} seats used",
                    count_field(a, "used").unwrap_or_default(),
                    count_field(a, "limit").unwrap_or_default()
                ),
            ),
            Some(EventKind::DomainAdded) => ("added the domain".into(), "to verify".into(), String::new()),
            Some(EventKind::DomainVerified) => ("verified the domain".into(), String::new(), String::new()),
            Some(EventKind::DomainRemoved) => ("removed the domain".into(), String::new(), String::new()),
            Some(EventKind::DomainPolicyChanged) => (
                "changed what the domain".into(),
                format!(
                    "does, from {} to {}",
                    crate::domain::DomainPolicy::from_db(field(b, "policy")).map_or("?", |p| p.label()),
                    crate::domain::DomainPolicy::from_db(field(a, "policy")).map_or("?", |p| p.label())
                ),
                String::new(),
            ),
            Some(EventKind::DomainUnverified) => (
                "stopped counting as verified:".into(),
                String::new(),
                "Its TXT record was missing past the grace period".into(),
            ),
            Some(EventKind::MemberJoinedViaDomain) => (
                "joined as Member through a verified domain:".into(),
                String::new(),
                format!("Domain {}", field(a, "domain")),
            ),
            Some(EventKind::DomainJoinRefused) => (
                "could not join through a verified domain, no seat being free:".into(),
                String::new(),
                format!(
                    "Domain {}; {} of {} seats used",
                    field(a, "domain"),
                    count_field(a, "used").unwrap_or_default(),
                    count_field(a, "limit").unwrap_or_default()
                ),
            ),
            Some(EventKind::InviteLinkCreated) => {
                ("created the invite link".into(), format!("for {}", named(field(a, "role"))), {
                    let uses =
                        count_field(a, "max_uses").map_or("no use limit".to_owned(), |n| format!("at most {n} uses"));
                    let until = date_field(a, "expires_at").map(|d| format!("; works until {d}")).unwrap_or_default();
                    let approval = if a.as_ref().and_then(|v| v.get("requires_approval")).and_then(|v| v.as_bool())
                        == Some(true)
                    {
                        "; each use is a request to approve"
                    } else {
                        ""
                    };
                    format!("{}{until}{approval}", capitalized(&uses))
                })
            }
            Some(EventKind::ExportCreated) => (
                "exported".into(),
                format!(
                    "as {} ({} rows)",
                    field(a, "format").to_uppercase(),
                    count_field(a, "rows").unwrap_or_default()
                ),
                String::new(),
            ),
            Some(EventKind::InviteLinkDisabled) => ("disabled the invite link".into(), String::new(), String::new()),
            Some(EventKind::InviteLinkRegenerated) => {
                ("regenerated the invite link".into(), String::new(), "The previous link works no more".into())
            }
            Some(EventKind::InviteLinkUsed) => (
                if a.as_ref().and_then(|v| v.get("joined")).and_then(|v| v.as_bool()) == Some(true) {
                    "joined through an invite link, as".into()
                } else {
                    "asked to join through an invite link, as".into()
                },
                String::new(),
                format!(
                    "Link {}; {} of {} uses",
                    field(a, "link"),
                    count_field(a, "uses").unwrap_or_default(),
                    count_field(a, "max_uses").map_or("unlimited".to_owned(), |n| n.to_string())
                ),
            ),
            Some(EventKind::JoinRequestCreated) => (
                "asked to join, with the address".into(),
                String::new(),
                match a.as_ref().and_then(|v| v.get("note")).and_then(|v| v.as_str()) {
                    Some(note) => format!("Note: “{note}”"),
                    None => String::new(),
                },
            ),
            Some(EventKind::JoinRequestApproved) => {
                ("approved the request of".into(), format!("to join, as {}", named(field(a, "role"))), teams_field(a))
            }
            Some(EventKind::JoinRequestDenied) => (
                "denied the request of".into(),
                "to join".into(),
                match a.as_ref().and_then(|v| v.get("reason")).and_then(|v| v.as_str()) {
                    Some(reason) => format!("Reason told: “{reason}”"),
                    None => String::new(),
                },
            ),
            Some(EventKind::JoinRequestWithdrawn) => {
                ("withdrew their request to join:".into(), String::new(), String::new())
            }
            Some(EventKind::JoinRequestSeatsFree) => (
                "told the Owner that seats are free for the requests to join".into(),
                String::new(),
                format!(
                    "{} free; {} waiting",
                    count_field(a, "free").unwrap_or_default(),
                    count_field(a, "waiting").unwrap_or_default()
                ),
            ),
            Some(EventKind::RemindersChanged) => (
                "changed the reminders of".into(),
                format!(
                    "to {} days before access ends; invitations {}",
                    count_field(a, "expiry_reminder_days").unwrap_or_default(),
                    if a.as_ref().and_then(|v| v.get("invitation_reminders")).and_then(|v| v.as_bool()) == Some(true) {
                        "reminded two days before they expire"
                    } else {
                        "not reminded"
                    }
                ),
                String::new(),
            ),
            Some(EventKind::SeatsLimitChanged) => (
                "changed the seat limit of".into(),
                format!(
                    "from {} to {}",
                    count_field(b, "seat_limit").unwrap_or_default(),
                    count_field(a, "seat_limit").unwrap_or_default()
                ),
                String::new(),
            ),
            Some(EventKind::ApiKeyCreated) => (
                "created the API key".into(),
                String::new(),
                a.as_ref()
                    .and_then(|v| v.get("scopes"))
                    .and_then(|v| v.as_array())
                    .map(|scopes| {
                        let names: Vec<&str> = scopes.iter().filter_map(|s| s.as_str()).collect();
                        format!("Scopes: {}", names.join(", "))
                    })
                    .unwrap_or_default(),
            ),
            Some(EventKind::ApiKeyRevoked) => ("revoked the API key".into(), String::new(), String::new()),
            Some(EventKind::ApiKeyRefused) => (
                "used the revoked API key".into(),
                String::new(),
                date_field(b, "revoked_at").map(|d| format!("Refused; the key was revoked {d}")).unwrap_or_default(),
            ),
            Some(EventKind::WebhookCreated) => (
                "added the webhook".into(),
                String::new(),
                a.as_ref()
                    .and_then(|v| v.get("events"))
                    .and_then(|v| v.as_array())
                    .map(|events| {
                        let names: Vec<&str> = events.iter().filter_map(|s| s.as_str()).collect();
                        format!("Events: {}", names.join(", "))
                    })
                    .unwrap_or_default(),
            ),
            Some(EventKind::WebhookDeleted) => ("deleted the webhook".into(), String::new(), String::new()),
            Some(EventKind::WebhookEnabled) => ("enabled the webhook".into(), String::new(), String::new()),
            Some(EventKind::WebhookDisabled) => (
                "disabled the webhook".into(),
                String::new(),
                a.as_ref().and_then(|v| v.get("reason")).and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
            ),
            Some(EventKind::WebhookSecretUnreadable) => (
                "could not open the secret of the webhook".into(),
                String::new(),
                "Sealed under another ROSTER_SESSION_KEY; deliveries wait until it is rolled".into(),
            ),
            Some(EventKind::WebhookSecretRolled) => {
                ("rolled the signing secret of the webhook".into(), String::new(), String::new())
            }
            Some(EventKind::WebhookCreatorLeft) => (
                "kept the webhook".into(),
                String::new(),
                format!("Still enabled after {}, who added it, stopped being a member", field(b, "created_by")),
            ),
            Some(EventKind::SsoConfigured) => ("set up single sign-on with".into(), String::new(), {
                let domains: Vec<&str> = a
                    .as_ref()
                    .and_then(|v| v.get("domains"))
                    .and_then(|v| v.as_array())
                    .map(|list| list.iter().filter_map(|d| d.as_str()).collect())
                    .unwrap_or_default();
                let covers = if domains.is_empty() { "no domain yet".to_owned() } else { domains.join(", ") };
                let secret = if a.as_ref().and_then(|v| v.get("secret_changed")) == Some(&serde_json::json!(true)) {
                    "; new client secret"
                } else {
                    ""
                };
                format!("Client ID {}; covers {covers}{secret}", field(a, "client_id"))
            }),
            Some(EventKind::SsoRequiredChanged) => {
                if a.as_ref().and_then(|v| v.get("sso_required")) == Some(&serde_json::json!(true)) {
                    (
                        "required single sign-on for addresses at".into(),
                        String::new(),
                        count_field(a, "sessions_ended")
                            .map(|n| format!("{n} session(s) signed in otherwise ended"))
                            .unwrap_or_default(),
                    )
                } else {
                    ("stopped requiring single sign-on for addresses at".into(), String::new(), String::new())
                }
            }
            Some(EventKind::SsoSignIn) => (
                "signed in with single sign-on as".into(),
                String::new(),
                if a.as_ref().and_then(|v| v.get("created")) == Some(&serde_json::json!(true)) {
                    "First sign-in: the account was created".into()
                } else {
                    String::new()
                },
            ),
            Some(EventKind::SsoRefused) => (
                "refused a single sign-on as".into(),
                String::new(),
                crate::domain::sso::Refusal::from_key(field(a, "reason"))
                    .map_or_else(|| field(a, "reason").to_owned(), |r| r.label().to_owned()),
            ),
            Some(EventKind::TeamCreated) => ("created the team".into(), String::new(), String::new()),
            Some(EventKind::TeamProvisioned) => ("provisioned the team".into(), String::new(), String::new()),
            Some(EventKind::MemberProvisioned) => {
                ("provisioned".into(), format!("as {}", named(field(a, "role"))), String::new())
            }
            Some(EventKind::MemberProvisioningUpdated) => ("updated".into(), String::new(), changed_fields(b, a)),
            Some(EventKind::MemberDeprovisioned) => {
                ("deprovisioned".into(), format!("({})", named(field(b, "role"))), String::new())
            }
            Some(EventKind::ProvisioningRefused) => (
                "could not provision".into(),
                String::new(),
                format!(
                    "All seats were used: {} of {}",
                    count_field(a, "used").unwrap_or_default(),
                    count_field(a, "limit").unwrap_or_default()
                ),
            ),
            Some(EventKind::ProvisioningChanged) => {
                if a.as_ref().and_then(|v| v.get("scim_enabled")).and_then(|v| v.as_bool()) == Some(true) {
                    ("turned on provisioning (SCIM) for".into(), String::new(), String::new())
                } else {
                    ("turned off provisioning (SCIM) for".into(), String::new(), String::new())
                }
            }
            Some(EventKind::MemberProvisioningAccepted) => {
                ("accepted being provisioned:".into(), String::new(), String::new())
            }
            Some(EventKind::MemberProvisioningStopped) => {
                ("stopped SCIM managing".into(), String::new(), "The console manages them again".into())
            }
            Some(EventKind::ProjectCreated) => ("created the project".into(), String::new(), String::new()),
            Some(EventKind::TeamRenamed) => {
                ("renamed the team".into(), format!("(was {})", field(b, "name")), String::new())
            }
            Some(EventKind::ProjectRenamed) => {
                ("renamed the project".into(), format!("(was {})", field(b, "name")), String::new())
            }
            Some(EventKind::TeamDeleted) | Some(EventKind::ProjectDeleted) => (
                format!("deleted the {}", if kind == Some(EventKind::TeamDeleted) { "team" } else { "project" }),
                String::new(),
                count_field(b, "grants").map(|n| format!("{n} project grant(s) ended")).unwrap_or_default(),
            ),
            Some(EventKind::TeamMemberAdded) => (
                "added".into(),
                format!("to team {} as {}", field(a, "team"), team_role(field(a, "role"))),
                String::new(),
            ),
            Some(EventKind::TeamMemberRemoved) => {
                ("removed".into(), format!("from team {}", field(b, "team")), String::new())
            }
            Some(EventKind::TeamRoleChanged) => (
                "changed the team role of".into(),
                format!(
                    "in team {} from {} to {}",
                    field(a, "team"),
                    team_role(field(b, "role")),
                    team_role(field(a, "role"))
                ),
                String::new(),
            ),
            Some(EventKind::ProjectAccessGranted) => (
                format!("gave {} {} access to", field(a, "grantee"), level(field(a, "level"))),
                String::new(),
                b.as_ref().map(|_| format!("Was {}", level(field(b, "level")))).unwrap_or_default(),
            ),
            Some(EventKind::ProjectAccessRevoked) => (
                format!("took {} access away from {} on", level(field(b, "level")), field(b, "grantee")),
                String::new(),
                String::new(),
            ),
            None => (event.action.clone(), String::new(), change_of(event)),
        };
        let invitation_event = kind.is_some_and(|k| k.key().starts_with("invitation."));
        let search = |q: &str| url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>();
        let target_href = is_email.then(|| {
            if invitation_event {
                format!("/orgs/{slug}/invitations?status=all&q={}", search(&target))
            } else {
                format!("/orgs/{slug}/members?q={}", search(&target))
            }
        });
        let request_id = event.request_id.clone().unwrap_or_default();
        EventView {
            when: When::of(event.created_at),
            actor_href: actor_email.map(|e| format!("/orgs/{slug}/members?q={}", search(&e))),
            actor_name,
            actor_label: event.actor_label.clone(),
            target_href,
            before_target,
            target,
            after_target,
            action: event.action.clone(),
            details,
            request_short: request_id.chars().take(8).collect(),
            request_id,
            batch: event.batch_id.map(|b| (short_batch(&b), format!("/orgs/{slug}/audit?batch={b}"))),
        }
    }
}

#[derive(Template)]
#[template(path = "audit/index.html")]
struct AuditPage {
    layout: Layout,
    slug: String,
    events: Vec<EventView>,
    actions: Vec<(&'static str, &'static str)>,
    action: String,
    actor: String,
    from: String,
    to: String,
    /// The batch the log is narrowed to (its short id), if any.
    batch: Option<String>,
    /// The Audit Log without the batch filter.
    all_url: String,
    next_url: Option<String>,
    /// Whether this page comes after the newest one.
    later_page: bool,
    csv_url: String,
    json_url: String,
}

impl AuditPage {
    /// How many filters are set (the folded filters' summary says so).
    pub fn active_filters(&self) -> usize {
        [&self.action, &self.actor, &self.from, &self.to].iter().filter(|v| !v.trim().is_empty()).count()
    }
}

fn filters_query(params: &AuditParams, before: Option<String>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("action", &params.action),
        ("actor", &params.actor),
        ("from", &params.from),
        ("to", &params.to),
        ("batch", &params.batch),
    ] {
        if !value.trim().is_empty() {
            query.append_pair(name, value.trim());
        }
    }
    if let Some(before) = before {
        query.append_pair("before", &before);
    }
    query.finish()
}

/// The `before` cursor that continues a log after `event`.
pub(super) fn cursor_after(event: &AuditEvent) -> String {
    format!("{}_{}", event.created_at.unix_timestamp_nanos(), event.seq)
}

/// `before` cursors are "<unix nanoseconds>_<sequence>".
pub(super) fn parse_cursor(text: &str) -> Option<(time::OffsetDateTime, i64)> {
    let (nanos, seq) = text.split_once('_')?;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?;
    Some((at, seq.parse().ok()?))
}

/// The filters and cursor of a request.
fn filter_of(params: &AuditParams) -> AuditFilter {
    AuditFilter {
        action: EventKind::from_key(&params.action),
        actor: params.actor.trim().to_owned(),
        since: parse_day(&params.from).map(|d| d.midnight().assume_utc()),
        until: parse_day(&params.to).and_then(|d| d.next_day()).map(|d| d.midnight().assume_utc()),
        before: parse_cursor(&params.before),
        batch: uuid::Uuid::parse_str(params.batch.trim()).ok(),
    }
}

/// GET /orgs/{slug}/audit
pub async fn show_audit_log(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let filter = filter_of(&params);
    // The events from the read replica, unless this browser just changed something.
    let ((viewer, _, slug), events) = state
        .db
        .run_then_read(
            browser_wrote(&req),
            move |conn| audit::page_access(conn, &slug, user.0),
            move |conn, (_, org, _)| audit::list(conn, *org, &filter, PAGE_SIZE),
        )
        .await?;
    let (shown, has_more) = split_page(&events, PAGE_SIZE);
    let next_url = has_more
        .then(|| shown.last())
        .flatten()
        .map(|last| format!("/orgs/{slug}/audit?{}", filters_query(&params, Some(cursor_after(last)))));
    page(&AuditPage {
        events: shown.iter().map(|e| EventView::new(e, &slug)).collect(),
        actions: EventKind::all().iter().map(|k| (k.key(), k.label())).collect(),
        action: params.action.clone(),
        actor: params.actor.trim().to_owned(),
        from: parse_day(&params.from).map(|d| d.to_string()).unwrap_or_default(),
        to: parse_day(&params.to).map(|d| d.to_string()).unwrap_or_default(),
        batch: uuid::Uuid::parse_str(params.batch.trim()).ok().map(|b| short_batch(&b)),
        all_url: format!(
            "/orgs/{slug}/audit?{}",
            filters_query(&AuditParams { batch: String::new(), ..params.0.clone() }, None)
        ),
        next_url,
        later_page: !params.before.is_empty(),
        csv_url: format!("/orgs/{slug}/audit.csv?{}", filters_query(&params, None)),
        json_url: format!("/orgs/{slug}/audit.json?{}", filters_query(&params, None)),
        layout: frame.layout("Audit Log", Some(viewer), Some(&slug), Nav::Audit),
        slug,
    })
}

/// A batch id as the log shows it: its first eight hex digits.
fn short_batch(batch: &uuid::Uuid) -> String {
    batch.simple().to_string()[..8].to_owned()
}

/// The columns of an Audit Log export.
const EXPORT_COLUMNS: &[&str] = &["time", "actor", "action", "target", "before", "after", "request_id"];

fn json_text(value: &Option<serde_json::Value>) -> String {
    value.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

/// One event as a CSV row.
fn event_fields(event: &AuditEvent) -> Vec<String> {
    vec![
        machine_time(event.created_at),
        event.actor_label.clone(),
        event.action.clone(),
        event.target_label.clone(),
        json_text(&event.before),
        json_text(&event.after),
        event.request_id.clone().unwrap_or_default(),
    ]
}

/// One event as an object of a JSON export.
fn event_json(event: &AuditEvent) -> serde_json::Value {
    serde_json::json!({
        "id": event.id,
        "time": machine_time(event.created_at),
        "actor": event.actor_label,
        "action": event.action,
        "target": event.target_label,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
        "batch_id": event.batch_id,
    })
}

/// Rows read per database round trip while exporting.
const EXPORT_PAGE: i64 = 1000;

/// GET /orgs/{slug}/audit.csv and .json: the filtered log, newest first, streamed in
/// keyset pages so a long log never sits in memory whole; audited once the last event
/// went out.
pub async fn export_audit_log(
    req: HttpRequest,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<AuditParams>,
    Exported(format): Exported,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let (user, checked) = (acting.user, slug.clone());
    let (org, shown_slug) = state.db.run(move |conn| audit::export_access(conn, &checked, user)).await?;
    let filter = filter_of(&params);
    let (db, after_write) = (state.db.clone(), browser_wrote(&req));
    let page = move |before: Option<(time::OffsetDateTime, i64)>| {
        let (db, filter) = (db.clone(), AuditFilter { before, ..filter.clone() });
        async move {
            let events = db.read(after_write, move |conn| audit::list(conn, org, &filter, EXPORT_PAGE)).await?;
            Ok(next_page(events, EXPORT_PAGE, |e| (e.created_at, e.seq)))
        }
    };
    let (db, actor) = (state.db.clone(), acting.actor());
    let done = move |rows: usize| async move {
        db.run(move |conn| crate::services::exports::record(conn, &actor, &slug, "the Audit Log", format, rows)).await
    };
    let sheet = crate::web::export::Sheet { header: EXPORT_COLUMNS, csv: event_fields, json: event_json };
    Ok(crate::web::export::stream(format, &format!("{shown_slug}-audit-log"), sheet, page, done))
}

#[cfg(test)]
mod tests {
    use crate::domain::export::tests::csv_line;

    #[test]
    fn changes_read_as_key_before_after() {
        let event = crate::services::audit::AuditEvent {
            id: uuid::Uuid::nil(),
            actor_label: String::new(),
            action: String::new(),
            target_label: String::new(),
            before: Some(serde_json::json!({ "role": "member" })),
            after: Some(serde_json::json!({ "role": "admin", "send_count": 2 })),
            request_id: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            seq: 1,
            batch_id: None,
        };
        assert_eq!(super::change_of(&event), "role: member → admin; send_count: — → 2");
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_line(&["Ada \"the first\""]), "\"Ada \"\"the first\"\"\"\n");
        assert_eq!(csv_line(&["=HYPERLINK(1)"]), "\"'=HYPERLINK(1)\"\n");
    }
}
