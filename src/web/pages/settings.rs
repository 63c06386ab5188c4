//! Settings: the Permissions table for everyone; the seat limit, Transfer ownership and Delete organization for the Owner.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::api_key::Scope;
use crate::domain::two_factor;
use crate::domain::{parse_seat_limit, DomainPolicy, OrgName, Permission, Role, Slug};
use crate::error::{AppError, FormErrors};
use crate::services::{api_keys, domains, organizations, ownership, seats, security};
use crate::web::extractors::{Acting, OrgItem, OrgSlug, SignedIn};
use crate::web::format::When;
use crate::web::htmx::{page_with_status, redirect};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::picker::Picker;
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

/// A section of Settings, each at its own URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    General,
    SeatLimit,
    Domains,
    ApiKeys,
    Webhooks,
    Security,
    SingleSignOn,
    Provisioning,
    DangerZone,
}

impl Section {
    pub const ALL: [Section; 9] = [
        Section::General,
        Section::SeatLimit,
        Section::Domains,
        Section::ApiKeys,
        Section::Webhooks,
        Section::Security,
        Section::SingleSignOn,
        Section::Provisioning,
        Section::DangerZone,
    ];

    /// Its name in URLs.
    pub fn key(self) -> &'static str {
        match self {
            Section::General => "general",
            Section::SeatLimit => "seats",
            Section::Domains => "domains",
            Section::ApiKeys => "api-keys",
            Section::Webhooks => "webhooks",
            Section::Security => "security",
            Section::SingleSignOn => "sso",
            Section::Provisioning => "provisioning",
            Section::DangerZone => "danger-zone",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::General => "General",
            Section::SeatLimit => "Seat limit",
            Section::Domains => "Domains",
            Section::ApiKeys => "API keys",
            Section::Webhooks => "Webhooks",
            Section::Security => "Security",
            Section::SingleSignOn => "Single sign-on",
            Section::Provisioning => "Provisioning (SCIM)",
            Section::DangerZone => "Danger zone",
        }
    }

    pub fn from_key(key: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Where it is: General at `/orgs/{slug}/settings`, the others below it.
    pub fn path(self, slug: &str) -> String {
        match self {
            Section::General => format!("/orgs/{slug}/settings"),
            other => format!("/orgs/{slug}/settings/{}", other.key()),
        }
    }

    /// Whether someone with `role` sees it: domains and the danger zone are the
    /// Owner's, API keys and webhooks of those who manage integrations.
    pub fn shown_to(self, role: Role) -> bool {
        match self {
            Section::General | Section::SeatLimit => true,
            Section::Domains | Section::DangerZone => role == Role::Owner,
            Section::Security | Section::SingleSignOn | Section::Provisioning => role.can(Permission::ManageSecurity),
            Section::ApiKeys | Section::Webhooks => role.can(Permission::ManageIntegrations),
        }
    }
}

/// A row of the Permissions table.
pub struct PermissionRow {
    pub label: &'static str,
    pub owner: bool,
    pub admin: bool,
    pub member: bool,
}

/// A member the Owner may hand ownership to.
#[derive(Template)]
#[template(path = "settings/index.html")]
struct SettingsPage {
    layout: Layout,
    /// The section shown, and those the viewer may open: (section, its URL).
    section: Section,
    sections: Vec<(Section, String)>,
    csrf: String,
    slug: String,
    org_name: String,
    my_role: Role,
    permissions: Vec<PermissionRow>,
    /// For the Owner: whether anyone else is a member, and `Transfer ownership`'s picker.
    has_others: bool,
    transfer_picker: Picker,
    forms: Forms,
    seat_limit: i32,
    /// How many days before an end date people are reminded, and whether unanswered
    /// invitations are.
    reminder_days: i32,
    invitation_reminders: bool,
    /// For the Owner: the organization's domains.
    domains: Vec<DomainView>,
    api_keys: Vec<ApiKeyView>,
    scope_choices: Vec<ScopeChoice>,
    /// The roles the viewer may give a new key, highest first, and whether each is chosen.
    key_roles: Vec<(Role, bool)>,
    /// The key just created, with its secret: shown this once.
    created_key: Option<CreatedKeyView>,
    webhooks: Vec<EndpointView>,
    event_choices: Vec<ScopeChoice>,
    /// The endpoint just added, with its signing secret: shown this once.
    created_webhook: Option<CreatedKeyView>,
    disable_after_days: i64,
    /// Whether webhooks may go to private addresses here (`ROSTER_WEBHOOKS_ALLOW_PRIVATE`).
    private_allowed: bool,
    /// For the Owner: Security.
    security: Option<SecurityView>,
    /// For the Owner, on its section: Single sign-on.
    sso: Option<SsoSection>,
    /// For the Owner, on its section: Provisioning (SCIM).
    provisioning: Option<ProvisioningSection>,
}

/// Settings → Single sign-on as the page shows it.
pub struct SsoSection {
    /// The redirect URL to register at the provider.
    pub redirect_url: String,
    /// The form's values: as sent, or as saved.
    pub issuer: String,
    pub client_id: String,
    /// Whether a provider is saved (its secret is then never shown, only replaced).
    pub saved: bool,
    /// Each verified domain: (id, name, ticked, requires SSO).
    pub domains: Vec<(Uuid, String, bool, bool)>,
    /// How many listed domains are not verified yet.
    pub unverified: usize,
    /// What Test connection found, when it was just pressed.
    pub tested: Option<Tested>,
}

/// Settings → Security as the form shows it.
pub struct SecurityView {
    /// Whether `Require two-factor` is ticked: as sent, or as it is.
    pub required: bool,
    /// The grace date in the date input: as typed, the current one, or 14 days ahead.
    pub from: String,
    /// The current requirement, in words: "from 18 Dec 2026" or "since 18 Dec 2026".
    pub current: Option<String>,
    pub without: i64,
    pub owner_has_two_factor: bool,
}

/// Settings → Single sign-on's provider form, as sent.
#[derive(Debug, Clone, Default)]
pub struct SsoForm {
    pub issuer: String,
    pub client_id: String,
    /// The ids of the domains ticked.
    pub domains: Vec<String>,
}

impl SsoForm {
    pub(super) fn from_fields(fields: Vec<(String, String)>) -> (Self, String) {
        let mut form = SsoForm::default();
        let mut secret = String::new();
        for (key, value) in fields {
            match key.as_str() {
                "issuer" => form.issuer = value,
                "client_id" => form.client_id = value,
                "client_secret" => secret = value,
                "domains" => form.domains.push(value),
                _ => {}
            }
        }
        (form, secret)
    }
}

/// What `Test connection` found: the endpoints, or what went wrong.
#[derive(Debug, Clone)]
pub enum Tested {
    Found(Vec<(&'static str, String)>),
    Failed(String),
}

impl SsoSection {
    fn new(view: crate::services::sso::SsoView, redirect_url: &str, forms: &mut Forms) -> Self {
        let sent = forms.sso.take();
        let (issuer, client_id) = match (&sent, &view.provider) {
            (Some(sent), _) => (sent.issuer.clone(), sent.client_id.clone()),
            (None, Some(saved)) => (saved.issuer.clone(), saved.client_id.clone()),
            (None, None) => (String::new(), String::new()),
        };
        let domains = view
            .domains
            .iter()
            .map(|d| {
                let ticked = sent.as_ref().map_or(d.sso, |s| s.domains.iter().any(|id| *id == d.id.to_string()));
                (d.id, d.domain.clone(), ticked, d.sso_required)
            })
            .collect();
        SsoSection {
            redirect_url: redirect_url.to_owned(),
            issuer,
            client_id,
            saved: view.provider.is_some(),
            domains,
            unverified: view.unverified,
            tested: forms.sso_tested.take(),
        }
    }

    /// The covered domains as saved, for `Require SSO`: (id, name, required).
    pub fn covered(&self) -> Vec<(Uuid, String, bool)> {
        self.domains
            .iter()
            .filter(|d| d.2 || d.3)
            .map(|(id, name, _, required)| (*id, name.clone(), *required))
            .collect()
    }
}

/// A webhook endpoint as the list shows it.
pub struct EndpointView {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub hint: String,
    pub enabled: bool,
    /// Why Roster disabled it, if it did.
    pub disabled_reason: Option<String>,
    pub failing_since: Option<When>,
    /// Its signing secret was sealed under a key this Roster no longer has.
    pub needs_secret: bool,
}

/// An API key as the list shows it.
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    pub hint: String,
    pub scopes: Vec<String>,
    pub role: Role,
    pub creator: String,
    pub created: When,
    pub last_used: Option<When>,
    /// When and by whom it was revoked.
    pub revoked: Option<(When, String)>,
}

impl ApiKeyView {
    fn new(key: &api_keys::ApiKey) -> Self {
        ApiKeyView {
            id: key.id,
            name: key.name.clone(),
            hint: key.secret_hint.clone(),
            scopes: key.scopes.clone(),
            role: key.role,
            creator: key.creator_name.clone(),
            created: When::of(key.created_at),
            last_used: key.last_used_at.map(When::of),
            revoked: key.revoked_at.map(|at| {
                let by = key.revoked_by.as_deref().unwrap_or_default();
                (When::of(at), by.split(" <").next().unwrap_or(by).to_owned())
            }),
        }
    }
}

/// A scope's checkbox in `Create API key`.
pub struct ScopeChoice {
    pub name: &'static str,
    /// For the checkbox's id: `members-read`.
    pub id: String,
    pub label: &'static str,
    pub checked: bool,
}

/// A key just created, and its secret.
pub struct CreatedKeyView {
    pub name: String,
    pub secret: String,
}

/// A domain of the organization, with the record that proves it.
pub struct DomainView {
    pub id: Uuid,
    pub domain: String,
    pub verified: bool,
    /// When it was first verified, and when its record was last looked up.
    pub verified_at: Option<When>,
    pub checked: Option<When>,
    pub record_name: String,
    pub record_value: String,
    pub last_error: Option<String>,
    /// For a verified domain whose record a re-check did not find: what follows.
    pub failing: Option<String>,
    pub policy: crate::domain::DomainPolicy,
}

impl DomainView {
    fn new(d: &domains::OrgDomain) -> Self {
        let name = crate::domain::DomainName::from_db(&d.domain);
        DomainView {
            id: d.id,
            record_name: name.record_name(),
            record_value: crate::domain::domains::record_value(&d.token),
            domain: d.domain.clone(),
            verified: d.verified_at.is_some(),
            verified_at: d.verified_at.map(When::of),
            checked: d.last_checked_at.map(When::of),
            policy: d.policy,
            last_error: d.last_error.clone(),
            failing: d.failing_since.filter(|_| d.verified_at.is_some()).map(|since| {
                format!(
                    "Its TXT record has not been found since {}. Unless it is back, {} stops counting as verified on {}.",
                    crate::web::format::format_date(since),
                    d.domain,
                    crate::web::format::format_date(since + domains::GRACE)
                )
            }),
        }
    }
}

/// What the page's forms show: the values last sent to `General` and each form's errors.
#[derive(Default)]
pub struct Forms {
    /// The name and URL name typed into `General`, when it is shown again with errors.
    pub general: Option<GeneralForm>,
    pub general_errors: FormErrors,
    pub transfer_errors: FormErrors,
    /// The member chosen in `Transfer ownership`, kept when the form comes back with errors.
    pub transfer_member: String,
    pub delete_errors: FormErrors,
    /// The reminder lead as typed, when it is shown again with its error.
    pub reminder_days: Option<String>,
    pub reminder_errors: FormErrors,
    /// The seat limit as typed, when it is shown again with its error.
    pub seat_limit: Option<String>,
    pub seat_errors: FormErrors,
    /// The domain as typed, when it is shown again with its error.
    pub domain: Option<String>,
    pub domain_errors: FormErrors,
    /// `Create API key` as sent, when it is shown again with its errors.
    pub key_name: String,
    pub key_scopes: Vec<String>,
    /// The role chosen in `Create API key` (`admin`, `member`), when shown again.
    pub key_role: String,
    pub key_errors: FormErrors,
    /// The key `Create API key` just made.
    pub created_key: Option<CreatedKeyView>,
    /// `Add endpoint` as sent, when it is shown again with its errors.
    pub hook_url: String,
    pub hook_events: Vec<String>,
    pub hook_errors: FormErrors,
    /// The endpoint `Add endpoint` just made, and its signing secret.
    pub created_webhook: Option<CreatedKeyView>,
    /// `Require two-factor` as sent, when it is shown again with its error.
    pub security: Option<SecurityForm>,
    pub security_errors: FormErrors,
    /// Single sign-on's provider form as sent (after errors, or Test connection).
    pub sso: Option<SsoForm>,
    pub sso_errors: FormErrors,
    pub sso_tested: Option<Tested>,
    /// `Create SCIM token` as sent, when it is shown again with its errors.
    pub scim_token_name: String,
    pub scim_token_errors: FormErrors,
    /// The SCIM token just made, with its secret.
    pub created_scim_token: Option<CreatedKeyView>,
}

/// Settings → Provisioning (SCIM), ready to show.
pub struct ProvisioningSection {
    pub enabled: bool,
    /// `<base URL>/scim/v2`, what the identity provider is given.
    pub base_url: String,
    pub tokens: Vec<ApiKeyView>,
    pub recent: Vec<ProvisioningLine>,
    pub created: Option<CreatedKeyView>,
    pub name: String,
    pub errors: FormErrors,
}

/// A line of what the identity provider did.
pub struct ProvisioningLine {
    pub at: When,
    pub operation: String,
    pub subject: String,
    /// `Done`, or why it was refused.
    pub result: String,
    pub refused: bool,
}

impl ProvisioningSection {
    fn new(view: crate::services::scim::ProvisioningView, base_url: String, forms: &mut Forms) -> Self {
        ProvisioningSection {
            enabled: view.enabled,
            base_url,
            tokens: view.tokens.iter().map(ApiKeyView::new).collect(),
            recent: view
                .recent
                .into_iter()
                .map(|line| ProvisioningLine {
                    at: When::of(line.at),
                    refused: line.status >= 400,
                    result: if line.status >= 400 {
                        format!("{} — {}", line.status, line.detail)
                    } else {
                        "Done".into()
                    },
                    operation: line.operation,
                    subject: if line.subject.is_empty() { "—".into() } else { line.subject },
                })
                .collect(),
            created: forms.created_scim_token.take(),
            name: std::mem::take(&mut forms.scim_token_name),
            errors: std::mem::take(&mut forms.scim_token_errors),
        }
    }
}

impl Forms {
    /// The name `General` shows: as typed, or the organization's.
    pub fn name_value<'a>(&'a self, current: &'a str) -> &'a str {
        self.general.as_ref().map_or(current, |f| f.name.as_str())
    }
    /// The seat limit the form shows: as typed, or the organization's.
    pub fn seat_limit_value(&self, current: &i32) -> String {
        self.seat_limit.clone().unwrap_or_else(|| current.to_string())
    }
    /// The URL name `General` shows: as typed, or the organization's.
    pub fn slug_value<'a>(&'a self, current: &'a str) -> &'a str {
        self.general.as_ref().map_or(current, |f| f.slug.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct GeneralForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
}

#[derive(Debug, Deserialize)]
pub struct TransferForm {
    #[serde(default)]
    member: String,
    #[serde(default)]
    confirm: String,
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

/// A form of one text field and a group of checkboxes (`Create API key`, `Add
/// endpoint`), as sent: the text of `text`, and every value checked under `choices`.
pub(super) fn text_and_choices(fields: Vec<(String, String)>, text: &str, choices: &str) -> (String, Vec<String>) {
    let mut typed = String::new();
    let mut chosen = Vec::new();
    for (key, value) in fields {
        if key == text {
            typed = value;
        } else if key == choices {
            chosen.push(value);
        }
    }
    (typed, chosen)
}

fn permission_rows() -> Vec<PermissionRow> {
    Permission::ALL
        .iter()
        .filter(|p| p.is_available())
        .map(|p| PermissionRow {
            label: p.label(),
            owner: Role::Owner.can(*p),
            admin: Role::Admin.can(*p),
            member: Role::Member.can(*p),
        })
        .collect()
}

pub(super) async fn render(
    frame: Frame,
    state: &AppState,
    user: crate::domain::UserId,
    slug: Slug,
    section: Section,
    status: StatusCode,
    mut forms: Forms,
) -> Result<HttpResponse, AppError> {
    let shown = match section {
        Section::Security => Some(ownership::OwnerSection::Security),
        Section::SingleSignOn => Some(ownership::OwnerSection::SingleSignOn),
        Section::Provisioning => Some(ownership::OwnerSection::Provisioning),
        _ => None,
    };
    let ownership::SettingsPage {
        viewer,
        access,
        has_others,
        domains,
        api_keys,
        webhooks,
        security,
        sso,
        provisioning,
    } = state.db.run(move |conn| ownership::settings_page(conn, &slug, user, shown)).await?;
    let scim_base = format!("{}{}", state.settings.base_url.as_str().trim_end_matches('/'), crate::web::scim::PREFIX);
    let provisioning = provisioning.map(|view| ProvisioningSection::new(view, scim_base, &mut forms));
    let security = security.map(|s| SecurityView::new(&s, forms.security.as_ref()));
    let sso = sso.map(|view| SsoSection::new(view, state.sso.redirect_url(), &mut forms));
    let scope_choices = Scope::offered()
        .map(|s| ScopeChoice {
            name: s.as_str(),
            id: s.as_str().replace(':', "-"),
            label: s.label(),
            checked: forms.key_scopes.iter().any(|chosen| chosen == s.as_str()),
        })
        .collect();
    let allowed = crate::domain::api_key::key_roles(access.role);
    let chosen = Role::from_db(&forms.key_role).filter(|r| allowed.contains(r)).unwrap_or(allowed[0]);
    let key_roles = allowed.iter().map(|r| (*r, *r == chosen)).collect();
    let created_key = forms.created_key.take();
    let created_webhook = forms.created_webhook.take();
    let event_choices = crate::domain::webhook::EVENT_GROUPS
        .iter()
        .map(|(group, label)| ScopeChoice {
            name: group,
            id: group.trim_end_matches(".*").to_owned(),
            label,
            checked: forms.hook_events.iter().any(|chosen| chosen == group),
        })
        .collect();
    let webhooks = webhooks
        .iter()
        .map(|e| EndpointView {
            id: e.id,
            url: e.url.clone(),
            events: e.events.clone(),
            hint: e.secret_hint.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            failing_since: e.failing_since.map(When::of),
            needs_secret: crate::services::webhooks::secret_of(state.links.sealing_key(), e).is_none(),
        })
        .collect();
    let domains = domains.iter().map(DomainView::new).collect();
    let transfer_picker = Picker {
        error: forms.transfer_errors.get("member").map(str::to_owned),
        hint: "Type a name or an email address and choose from the suggestions.".to_owned(),
        placeholder: "Name or email",
        ..Picker::single(
            "member",
            "New Owner",
            "member",
            format!("/orgs/{}/choices/members?others=1", access.org.slug),
            &forms.transfer_member,
        )
    };
    if !section.shown_to(access.role) {
        return Err(AppError::NotFound);
    }
    let sections =
        Section::ALL.into_iter().filter(|s| s.shown_to(access.role)).map(|s| (s, s.path(&access.org.slug))).collect();
    let title =
        if section == Section::General { "Settings".to_owned() } else { format!("{} · Settings", section.label()) };
    page_with_status(
        status,
        &SettingsPage {
            section,
            sections,
            csrf: frame.csrf().to_owned(),
            slug: access.org.slug.clone(),
            org_name: access.org.name.clone(),
            my_role: access.role,
            permissions: permission_rows(),
            has_others,
            transfer_picker,
            forms,
            seat_limit: access.org.seat_limit,
            reminder_days: access.org.expiry_reminder_days,
            invitation_reminders: access.org.invitation_reminders,
            domains,
            api_keys: api_keys.iter().map(ApiKeyView::new).collect(),
            scope_choices,
            key_roles,
            created_key,
            webhooks,
            event_choices,
            created_webhook,
            disable_after_days: crate::services::webhooks::DISABLE_AFTER.whole_days(),
            private_allowed: state.settings.webhooks_allow_private,
            security,
            sso,
            provisioning,
            layout: frame.layout(title, Some(viewer), Some(&access.org.slug), Nav::Settings),
        },
    )
}

/// `?section=…`: the section chosen in the phone layout's select (without JavaScript, with Go).
#[derive(Debug, Default, Deserialize)]
pub struct SectionParams {
    #[serde(default)]
    section: String,
}

/// GET /orgs/{slug}/settings: `General` (or, from the section select, the section chosen).
pub async fn show_settings(
    req: HttpRequest,
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    slug: OrgSlug,
    params: web::Query<SectionParams>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    match Section::from_key(&params.section) {
        Some(section) if section != Section::General => Ok(redirect(&req, &section.path(slug.as_str()))),
        _ => render(frame, &state, user.0, slug, Section::General, StatusCode::OK, Forms::default()).await,
    }
}

/// GET /orgs/{slug}/settings/{section}: one section of Settings.
pub async fn show_section(
    frame: Frame,
    user: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, key) = path.into_inner();
    let slug = Slug::parse(&slug).ok_or(AppError::NotFound)?;
    let section = Section::from_key(&key).ok_or(AppError::NotFound)?;
    render(frame, &state, user.0, slug, section, StatusCode::OK, Forms::default()).await
}

/// POST /orgs/{slug}/settings/transfer: `Transfer ownership`.
pub async fn transfer_ownership(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<TransferForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let actor = acting.actor();
    let lookup = slug.clone();
    let (member, confirm) = (form.member.clone(), form.confirm.clone());
    match state.db.run(move |conn| ownership::transfer(conn, &actor, &lookup, &member, &confirm)).await {
        Ok(email) => {
            frame.session.flash(FlashLevel::Success, format!("{email} is now the Owner. You are an Admin."));
            Ok(redirect(&req, &format!("/orgs/{slug}/settings")))
        }
        Err(AppError::Invalid(errors)) => {
            let forms = Forms { transfer_errors: errors, transfer_member: form.member.clone(), ..Forms::default() };
            render(frame, &state, acting.user, slug, Section::DangerZone, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(other) => Err(other),
    }
}

/// POST /orgs/{slug}/settings/delete: `Delete organization`.
pub async fn delete_organization(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let actor = acting.actor();
    let lookup = slug.clone();
    let confirm = form.confirm.clone();
    match state.db.run(move |conn| ownership::delete_organization(conn, &actor, &lookup, &confirm)).await {
        Ok(name) => {
            frame.session.flash(FlashLevel::Success, format!("{name} was deleted."));
            Ok(redirect(&req, "/dashboard"))
        }
        Err(AppError::Invalid(errors)) => {
            let forms = Forms { delete_errors: errors, ..Forms::default() };
            render(frame, &state, acting.user, slug, Section::DangerZone, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(other) => Err(other),
    }
}

/// POST /orgs/{slug}/settings/general: rename the organization (name and URL name).
pub async fn rename_organization(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<GeneralForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let form = form.into_inner();
    let name = OrgName::parse(&form.name);
    let new_slug = Slug::parse_typed(&form.slug);
    let actor = acting.actor();
    let lookup = slug.clone();
    match state.db.run(move |conn| organizations::rename(conn, &actor, &lookup, name, new_slug)).await {
        Ok(renamed) => {
            let message = if renamed == slug {
                "Saved.".to_owned()
            } else {
                format!("The organization is now at /orgs/{renamed}. Links to /orgs/{slug} lead there for its members.")
            };
            frame.session.flash(FlashLevel::Success, message);
            Ok(redirect(&req, &format!("/orgs/{renamed}/settings")))
        }
        Err(AppError::Invalid(errors)) => {
            let forms = Forms { general: Some(form), general_errors: errors, ..Forms::default() };
            render(frame, &state, acting.user, slug, Section::General, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct RemindersForm {
    #[serde(default)]
    reminder_days: String,
    #[serde(default)]
    invitation_reminders: String,
}

/// POST /orgs/{slug}/settings/reminders: `Reminders` (the Owner and Admins).
pub async fn save_reminders(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<RemindersForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let form = form.into_inner();
    let (actor, lookup, days) = (acting.actor(), slug.clone(), form.reminder_days.clone());
    let invitations = form.invitation_reminders == "on";
    match state.db.run(move |conn| organizations::set_reminders(conn, &actor, &lookup, &days, invitations)).await {
        Ok(()) => Ok(back_to(&req, frame, Section::General, &slug, FlashLevel::Success, "Reminders saved.".into())),
        Err(AppError::Invalid(errors)) => {
            let forms = Forms { reminder_days: Some(form.reminder_days), reminder_errors: errors, ..Forms::default() };
            render(frame, &state, acting.user, slug, Section::General, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct SeatLimitForm {
    #[serde(default)]
    seat_limit: String,
}

/// POST /orgs/{slug}/settings/seats: `Seat limit` (the Owner).
pub async fn change_seat_limit(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<SeatLimitForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let typed = form.into_inner().seat_limit;
    let limit = parse_seat_limit(&typed);
    let actor = acting.actor();
    let lookup = slug.clone();
    match state.db.run(move |conn| seats::change_limit(conn, &actor, &lookup, limit)).await {
        Ok(usage) => {
            let message = format!("The seat limit is now {}. {}", usage.limit, seats::limit_consequence(&usage));
            frame.session.flash(FlashLevel::Success, message);
            Ok(redirect(&req, &Section::SeatLimit.path(slug.as_str())))
        }
        Err(AppError::Invalid(errors)) => {
            let forms = Forms { seat_limit: Some(typed), seat_errors: errors, ..Forms::default() };
            render(frame, &state, acting.user, slug, Section::SeatLimit, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct DomainForm {
    #[serde(default)]
    domain: String,
}

/// Back to a section of Settings, with a flash message saying what happened.
pub(super) fn back_to(
    req: &HttpRequest,
    frame: Frame,
    section: Section,
    slug: &Slug,
    level: FlashLevel,
    message: String,
) -> HttpResponse {
    frame.session.flash(level, message);
    redirect(req, &section.path(slug.as_str()))
}

fn to_domains(req: &HttpRequest, frame: Frame, slug: &Slug, level: FlashLevel, message: String) -> HttpResponse {
    back_to(req, frame, Section::Domains, slug, level, message)
}

/// POST /orgs/{slug}/settings/domains: `Add domain` (the Owner).
pub async fn add_domain(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<DomainForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let typed = form.into_inner().domain;
    let parsed = crate::domain::DomainName::parse(&typed);
    let actor = acting.actor();
    let lookup = slug.clone();
    match state.db.run(move |conn| domains::add(conn, &actor, &lookup, parsed)).await {
        Ok(added) => {
            let message = format!("{} was added. Create its TXT record, then press Verify.", added.domain);
            Ok(to_domains(&req, frame, &slug, FlashLevel::Success, message))
        }
        Err(AppError::Invalid(errors)) => {
            let forms = Forms { domain: Some(typed), domain_errors: errors, ..Forms::default() };
            render(frame, &state, acting.user, slug, Section::Domains, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(other) => Err(other),
    }
}

/// POST /orgs/{slug}/settings/domains/{id}/verify: looks the TXT record up, outside
/// any transaction, and records what it found.
pub async fn verify_domain(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let (lookup, user) = (slug.clone(), acting.user);
    let check = state.db.run(move |conn| domains::check_for(conn, &lookup, user, id)).await?;
    let found = state.dns.txt(&check.record_name).await.map_err(|e| e.reason);
    let actor = acting.actor();
    let lookup = slug.clone();
    let domain = check.domain.clone();
    let outcome = state.db.run(move |conn| domains::record_check(conn, &actor, &lookup, &check, found)).await?;
    Ok(match outcome {
        domains::Verified::Yes => to_domains(
            &req,
            frame,
            &slug,
            FlashLevel::Success,
            format!("{domain} is verified. People whose verified address is at {domain} join as Member when they sign in, if a seat is free."),
        ),
        domains::Verified::No(problem) => to_domains(&req, frame, &slug, FlashLevel::Error, problem),
    })
}

/// GET /orgs/{slug}/settings/domains/{id}/remove: its confirmation.
pub async fn confirm_remove_domain(
    req: HttpRequest,
    frame: Frame,
    user: crate::web::extractors::SignedIn,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let lookup = slug.clone();
    let (viewer, domain) = state.db.run(move |conn| domains::removal(conn, &lookup, user.0, id)).await?;
    let confirm = crate::web::confirm::Confirm {
        title: "Remove domain".into(),
        question: "Remove the domain".into(),
        subject: domain,
        consequence: "Nobody joins through it any more; its members stay. To use it again, add it and verify a \
                      new TXT record."
            .into(),
        button: "Remove".into(),
        action: format!("/orgs/{slug}/settings/domains/{id}/remove"),
        back: Section::Domains.path(slug.as_str()),
        impact: None,
        stale: false,
    };
    crate::web::confirm::ask(&req, frame, viewer, slug.as_str(), Nav::Settings, confirm)
}

/// POST /orgs/{slug}/settings/domains/{id}/remove
pub async fn remove_domain(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let actor = acting.actor();
    let lookup = slug.clone();
    let domain = state.db.run(move |conn| domains::remove(conn, &actor, &lookup, id)).await?;
    let message = format!("{domain} was removed. Nobody joins through it any more; members stay.");
    Ok(to_domains(&req, frame, &slug, FlashLevel::Success, message))
}

#[derive(Debug, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    policy: String,
}

/// POST /orgs/{slug}/settings/domains/{id}/policy: `Auto-join`, `Suggest` or `Request`.
pub async fn set_domain_policy(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    item: OrgItem,
    form: web::Form<PolicyForm>,
) -> Result<HttpResponse, AppError> {
    let OrgItem { slug, id } = item;
    let policy = crate::domain::DomainPolicy::from_db(form.policy.trim())
        .ok_or_else(|| AppError::Invalid(FormErrors::form("Choose Auto-join, Suggest or Request.")))?;
    let actor = acting.actor();
    let lookup = slug.clone();
    let domain = state.db.run(move |conn| domains::set_policy(conn, &actor, &lookup, id, policy)).await?;
    let message = match policy {
        crate::domain::DomainPolicy::AutoJoin => {
            format!("People at {domain} now join as Member when they sign in, if a seat is free.")
        }
        crate::domain::DomainPolicy::Suggest => {
            format!("People at {domain} are now offered to join on their Dashboard and in the bell.")
        }
        crate::domain::DomainPolicy::Request => format!(
            "People at {domain} can now ask to join from their Dashboard; requests wait for you in Members → Requests."
        ),
    };
    Ok(to_domains(&req, frame, &slug, FlashLevel::Success, message))
}

impl SecurityView {
    fn new(facts: &security::SecurityView, sent: Option<&SecurityForm>) -> Self {
        let now = time::OffsetDateTime::now_utc();
        let from = match (sent, facts.required_from) {
            (Some(form), _) => form.from.clone(),
            (None, Some(from)) => two_factor::date_for_input(from),
            (None, None) => two_factor::default_grace_date(now),
        };
        SecurityView {
            required: sent.map_or(facts.required_from.is_some(), SecurityForm::required),
            from,
            current: facts.required_from.map(|at| {
                let word = if at > now { "from" } else { "since" };
                format!("{word} {}", crate::web::format::format_date(at))
            }),
            without: facts.without,
            owner_has_two_factor: facts.owner_has_two_factor,
        }
    }
}

/// `Require two-factor` in Settings → Security.
#[derive(Debug, Clone, Deserialize)]
pub struct SecurityForm {
    /// The checkbox: present (`on`) when ticked.
    #[serde(default)]
    two_factor_required: Option<String>,
    /// The grace date, `YYYY-MM-DD`.
    #[serde(default)]
    from: String,
}

impl SecurityForm {
    fn required(&self) -> bool {
        self.two_factor_required.is_some()
    }
}

/// POST /orgs/{slug}/settings/security: `Save` (the Owner).
pub async fn save_security(
    req: HttpRequest,
    frame: Frame,
    acting: Acting,
    state: web::Data<AppState>,
    slug: OrgSlug,
    form: web::Form<SecurityForm>,
) -> Result<HttpResponse, AppError> {
    let OrgSlug(slug) = slug;
    let form = form.into_inner();
    let wanted = if form.required() {
        security::Requirement::From(two_factor::parse_grace_date(&form.from, time::OffsetDateTime::now_utc()))
    } else {
        security::Requirement::NotRequired
    };
    let (actor, lookup) = (acting.actor(), slug.clone());
    match state.db.run(move |conn| security::set_requirement(conn, &actor, &lookup, wanted)).await {
        Ok(now) => {
            let message = match now {
                Some(from) if from > time::OffsetDateTime::now_utc() => format!(
                    "Two-factor authentication is required from {}. Members without it were told in their notifications.",
                    crate::web::format::format_date(from)
                ),
                Some(_) => "Two-factor authentication is required now: members without it cannot open the organization until they set it up.".to_owned(),
                None => "Two-factor authentication is not required.".to_owned(),
            };
            frame.session.flash(FlashLevel::Success, message);
            Ok(redirect(&req, &Section::Security.path(slug.as_str())))
        }
        Err(AppError::Invalid(errors)) => {
            let forms = Forms { security: Some(form), security_errors: errors, ..Forms::default() };
            render(frame, &state, acting.user, slug, Section::Security, StatusCode::UNPROCESSABLE_ENTITY, forms).await
        }
        Err(AppError::Conflict(message)) => {
            let forms = Forms { security: Some(form), security_errors: FormErrors::form(message), ..Forms::default() };
            render(frame, &state, acting.user, slug, Section::Security, StatusCode::CONFLICT, forms).await
        }
        Err(other) => Err(other),
    }
}
