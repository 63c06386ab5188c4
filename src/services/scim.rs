//! SCIM 2.0 provisioning (DESIGN.md §2.11, RFC 7643/7644): an identity provider's
//! Users are the organization's members and its Groups are teams. It authenticates
//! with a SCIM token (an organization API key whose one scope is `scim`), acts as
//! `Okta (SCIM)`, and may create, change, suspend and remove anyone but the Owner.
//! Each request is one transaction; what it changed goes to the audit log, the bell
//! and webhooks like the console's changes, and every change or refusal is written
//! to the log Settings → Provisioning (SCIM) shows.

use diesel::prelude::*;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::access::OrgAccess;
use super::actor::Actor;
use super::rate_limit;
use crate::db::scim::{self as rows, GroupMember, GroupRow, UserRow};
use crate::db::{email_tokens, memberships, organizations, outbox, users};
use crate::domain::event::Event;
use crate::domain::scim::{
    apply_patch, etag_of, if_match_ok, normalize_resource, parse_filter, parse_patch, split_member_ops, MemberChange,
    Page, Projection, ResourceKind, ScimError, GROUP_SCHEMA, USER_SCHEMA,
};
use crate::domain::{EmailAddress, GroupName, OrgId, Principal, Role, Slug, Token, UserId};
use crate::error::AppError;
use crate::mail::{messages, Links};

/// How long the link to choose a first password lasts, in the mail to an account
/// the identity provider made.
pub const FIRST_PASSWORD_TTL: time::Duration = time::Duration::days(7);

/// An identity provider at work: its organization, as an Admin-like access, and who
/// the audit log says acted.
pub struct Provider {
    pub access: OrgAccess,
    pub actor: Actor,
    /// The SCIM token it used.
    pub key: Uuid,
    /// The SCIM base URL, `<base>/scim/v2`, for `meta.location` and `$ref`.
    pub base: String,
}

impl Provider {
    fn org(&self) -> OrgId {
        self.access.org.org_id()
    }

    /// The organization's URL name, for the console's use cases that take one.
    fn org_slug(&self) -> Result<Slug, ScimError> {
        Slug::parse(&self.access.org.slug).ok_or_else(|| ScimError::new(500, None, "A stored URL name is not valid."))
    }

    /// Writes a line of what the provider did (or was refused) to the log the Owner sees.
    pub fn log(
        &self,
        conn: &mut PgConnection,
        operation: &str,
        subject: &str,
        outcome: &Result<(), ScimError>,
    ) -> Result<(), AppError> {
        let (status, detail) = match outcome {
            Ok(()) => (200, ""),
            Err(e) => (e.status, e.detail.as_str()),
        };
        Ok(rows::log_request(conn, self.org(), self.key, operation, subject, status, detail)?)
    }
}

impl From<AppError> for ScimError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound | AppError::Moved(_) => ScimError::not_found("No such resource in this organization."),
            AppError::Unauthenticated | AppError::KeyRefused(_) => ScimError::unauthorized(error.to_string()),
            AppError::Forbidden(_)
            | AppError::TwoFactorRequired { .. }
            | AppError::Suspended { .. }
            | AppError::AwaitingConsent { .. } => ScimError::forbidden(error.to_string()),
            AppError::Invalid(_) => ScimError::invalid_value(error.to_string()),
            AppError::BadRequest(_) => ScimError::invalid_syntax(error.to_string()),
            AppError::Conflict(_) => ScimError::new(409, None, error.to_string()),
            AppError::RateLimited { .. } => ScimError::new(429, None, error.to_string()),
            AppError::Csrf | AppError::CrossSite => ScimError::forbidden(error.to_string()),
            AppError::Unavailable(_) => {
                ScimError::new(503, None, "Roster is busy or its database is unavailable. Try again shortly.")
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error in a SCIM request");
                ScimError::new(500, None, "Something went wrong in Roster; the request changed nothing.")
            }
        }
    }
}

impl From<diesel::result::Error> for ScimError {
    fn from(error: diesel::result::Error) -> Self {
        AppError::from(error).into()
    }
}

impl From<crate::db::RunError> for ScimError {
    fn from(error: crate::db::RunError) -> Self {
        AppError::from(error).into()
    }
}

/// What a SCIM request runs once its provider is known.
pub type ProviderUseCase<T> = Box<dyn FnOnce(&mut PgConnection, &Provider) -> Result<T, ScimError> + Send>;

/// Who or what a change is about, read before it (a deleted User has no address after).
pub type Subject = Box<dyn FnOnce(&mut PgConnection, &Provider) -> String + Send>;

/// A SCIM request's credentials and where it came in.
pub struct Caller {
    pub secret: String,
    pub request_id: Option<String>,
    /// Requests a token may make in a minute.
    pub per_minute: i32,
    /// The SCIM base URL, `<base>/scim/v2`.
    pub base: String,
}

/// Authenticates `caller` and runs `use_case` as its provider.
pub fn run_as_provider<T>(
    conn: &mut PgConnection,
    caller: Caller,
    use_case: ProviderUseCase<T>,
) -> Result<T, ScimError> {
    let provider = authenticate(conn, &caller.secret, caller.request_id, caller.per_minute, &caller.base)?;
    use_case(conn, &provider)
}

/// Runs a change as [`run_as_provider`] does, and writes it (or its refusal) to the
/// provisioning log as `operation` on `subject`.
pub fn change_as_provider<T>(
    conn: &mut PgConnection,
    caller: Caller,
    operation: &str,
    subject: Subject,
    use_case: ProviderUseCase<T>,
) -> Result<T, ScimError> {
    let provider = authenticate(conn, &caller.secret, caller.request_id, caller.per_minute, &caller.base)?;
    let named = subject(conn, &provider);
    let outcome = use_case(conn, &provider);
    // The change is made (or refused) already: a log line that cannot be written
    // is said in the server's log, not turned into a failure of the change.
    if let Err(e) = provider.log(conn, operation, &named, &outcome.as_ref().map(|_| ()).map_err(Clone::clone)) {
        tracing::warn!(error = ?e, operation, "could not write the provisioning log");
    }
    outcome
}

/// Authenticates a SCIM request by its bearer secret: a live key whose one scope is
/// `scim`, of an organization that turned provisioning on.
pub fn authenticate(
    conn: &mut PgConnection,
    secret: &str,
    request_id: Option<String>,
    per_minute: i32,
    scim_base: &str,
) -> Result<Provider, ScimError> {
    let key = super::api_keys::authenticate(conn, secret, request_id.clone(), per_minute)?;
    if !key.scopes.is_scim() {
        return Err(ScimError::forbidden(
            "This API key is not a SCIM token. The Owner makes one in Settings → Provisioning (SCIM).",
        ));
    }
    let org = key.org;
    if !org.scim_enabled {
        return Err(ScimError::forbidden(format!(
            "Provisioning is turned off for {}. Its Owner turns it on in Settings → Provisioning (SCIM).",
            org.name
        )));
    }
    let name = match &key.actor.principal {
        Principal::ApiKey(k) => k.name.clone(),
        _ => String::new(),
    };
    let principal = Principal::IdentityProvider { organization: org.org_id(), name: format!("{name} (SCIM)") };
    let actor = Actor { principal: principal.clone(), request_id, at: None, batch: None };
    let access = OrgAccess { org, role: Role::Admin, principal, member: None };
    Ok(Provider { access, actor, key: key.id, base: scim_base.trim_end_matches('/').to_owned() })
}

fn time_text(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// Gives the resource its `meta.version`: the ETag of everything else in it.
fn versioned(mut resource: Value) -> Value {
    let version = etag_of(&resource);
    resource["meta"]["version"] = json!(version);
    resource
}

/// The id in a resource's URL; anything that is not one of ours is not found.
fn parse_id(kind: ResourceKind, text: &str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(text.trim()).map_err(|_| {
        ScimError::not_found(format!("No {} has the id “{}”.", kind.name(), text.chars().take(64).collect::<String>()))
    })
}

fn not_found(kind: ResourceKind, id: Uuid) -> ScimError {
    ScimError::not_found(format!("No {} has the id {id} in this organization.", kind.name()))
}

/// Refuses a change whose `If-Match` names another version (RFC 7644 §3.14).
fn check_version(if_match: Option<&str>, current: &Value) -> Result<(), ScimError> {
    let version = current["meta"]["version"].as_str().unwrap_or_default();
    match if_match {
        Some(header) if !if_match_ok(header, version) => Err(ScimError::precondition_failed(format!(
            "The resource changed since version {header}: it is {version} now. Read it again and retry."
        ))),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------
// Settings → Provisioning (SCIM), for the Owner

/// What Settings → Provisioning (SCIM) shows.
pub struct ProvisioningView {
    pub enabled: bool,
    /// The SCIM tokens, live and revoked.
    pub tokens: Vec<crate::db::api_keys::ApiKey>,
    /// What the identity provider did last, newest first.
    pub recent: Vec<rows::RequestRow>,
}

/// How many lines of what the identity provider did the section shows.
pub const RECENT_SHOWN: i64 = 25;

/// The section's facts, for the Owner.
pub fn view(conn: &mut PgConnection, access: &OrgAccess) -> Result<ProvisioningView, AppError> {
    super::security::may_manage(access)?;
    Ok(ProvisioningView {
        enabled: rows::is_enabled(conn, access.org.org_id())?,
        tokens: super::api_keys::scim_tokens_of(conn, access)?,
        recent: rows::recent_requests(conn, access.org.org_id(), RECENT_SHOWN)?,
    })
}

/// Turns provisioning on or off (the Owner's); while off, every SCIM token is
/// refused. Returns whether it changed.
pub fn set_enabled(conn: &mut PgConnection, actor: &Actor, slug: &Slug, enabled: bool) -> Result<bool, AppError> {
    conn.transaction(|conn| {
        let access = super::access::acting(conn, slug, actor)?;
        super::security::may_manage(&access)?;
        let changed = rows::set_enabled(conn, access.org.org_id(), enabled)?;
        if changed {
            let event = Event::ProvisioningChanged { org_name: access.org.name.clone(), enabled };
            actor.record(conn, &access, &[event])?;
        }
        Ok(changed)
    })
}

/// `Stop managing by SCIM` (the Owner's): the console manages the member again; the
/// identity provider may take them back by writing to their User.
pub fn stop_managing(conn: &mut PgConnection, actor: &Actor, slug: &Slug, id: Uuid) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = super::access::acting(conn, slug, actor)?;
        super::security::may_manage(&access)?;
        let member = memberships::detail(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
        if rows::stop_managing(conn, id)? == 1 {
            let event = Event::MemberProvisioningStopped {
                membership: id,
                user: member.user_id,
                email: member.member_email.clone(),
            };
            actor.record(conn, &access, &[event])?;
        }
        Ok(member.member_email)
    })
}

// ---------------------------------------------------------------------------------
// Users

/// A member as a User. One the provider manages reads back as it wrote it (what
/// it removed stays removed); anyone else as Roster knows them.
pub fn user_json(base: &str, row: &UserRow) -> Value {
    let profile = &row.profile;
    let known = |key: &str, otherwise: Value| match profile.get(key) {
        Some(value) => Some(value.clone()),
        None if row.managed => None,
        None => Some(otherwise),
    };
    let mut resource = json!({
        "schemas": [USER_SCHEMA],
        "id": row.id,
        "userName": profile.get("userName").cloned().unwrap_or_else(|| json!(row.email)),
        "meta": {
            "resourceType": "User",
            "created": time_text(row.created_at),
            "lastModified": time_text(row.updated_at),
            "location": format!("{base}/Users/{}", row.id),
        },
    });
    for (key, value) in [
        ("name", known("name", json!({ "formatted": row.name }))),
        ("displayName", known("displayName", json!(row.name))),
        ("emails", known("emails", json!([{ "value": row.email, "type": "work", "primary": true }]))),
    ] {
        if let Some(value) = value {
            resource[key] = value;
        }
    }
    // A suspension always shows; otherwise `active` reads back as the provider left it.
    if row.suspended || !row.managed || profile.get("active").is_some() {
        resource["active"] = json!(!row.suspended);
    }
    if let Some(external) = &row.external_id {
        resource["externalId"] = json!(external);
    }
    versioned(resource)
}

/// A page of Users, filtered, as a ListResponse.
pub fn list_users(
    conn: &mut PgConnection,
    provider: &Provider,
    filter: Option<&str>,
    page: Page,
    projection: &Projection,
) -> Result<Value, ScimError> {
    let filter = filter.filter(|f| !f.trim().is_empty()).map(|f| parse_filter(f, ResourceKind::User)).transpose()?;
    let compiled = filter.as_ref().map(|f| rows::compile(ResourceKind::User, f)).transpose()?;
    let (found, total) = rows::users(conn, provider.org(), compiled.as_ref(), page.offset(), page.count)?;
    let resources = found.iter().map(|row| projection.apply(user_json(&provider.base, row))).collect();
    Ok(crate::domain::scim::list_response(resources, total, page.start_index))
}

/// `POST /.search`: Users and Groups in one list, Users first. A filter that names
/// an attribute of one kind only (`userName`) finds resources of that kind only.
pub fn search_everything(
    conn: &mut PgConnection,
    provider: &Provider,
    filter: Option<&str>,
    page: Page,
    users: &Projection,
    groups: &Projection,
) -> Result<Value, ScimError> {
    let filter = filter.filter(|f| !f.trim().is_empty());
    let compiled = |kind| -> Result<Option<Option<rows::Compiled>>, ScimError> {
        let Some(text) = filter else { return Ok(Some(None)) };
        match parse_filter(text, kind).and_then(|f| rows::compile(kind, &f)) {
            Ok(compiled) => Ok(Some(Some(compiled))),
            // An attribute the other kind has: this kind has nothing that matches.
            Err(e) if e.scim_type == Some("invalidFilter") => Ok(None),
            Err(e) => Err(e),
        }
    };
    let (for_users, for_groups) = (compiled(ResourceKind::User)?, compiled(ResourceKind::Group)?);
    if for_users.is_none() && for_groups.is_none() {
        // Neither kind can read it: say why, as for either alone.
        parse_filter(filter.unwrap_or_default(), ResourceKind::User)?;
    }
    let mut resources = Vec::new();
    let mut total = 0;
    let (mut offset, mut count) = (page.offset(), page.count);
    if let Some(compiled) = for_users {
        let (found, matched) = rows::users(conn, provider.org(), compiled.as_ref(), offset, count)?;
        resources.extend(found.iter().map(|row| users.apply(user_json(&provider.base, row))));
        total += matched;
        count -= found.len() as i64;
        offset = (offset - matched).max(0);
    }
    if let Some(compiled) = for_groups {
        let (found, matched) = rows::groups(conn, provider.org(), compiled.as_ref(), offset, count)?;
        resources.extend(groups_json(conn, provider, &found, groups)?);
        total += matched;
    }
    Ok(crate::domain::scim::list_response(resources, total, page.start_index))
}

/// One User.
pub fn get_user(conn: &mut PgConnection, provider: &Provider, id: &str) -> Result<Value, ScimError> {
    let id = parse_id(ResourceKind::User, id)?;
    let row = rows::user(conn, provider.org(), id)?.ok_or_else(|| not_found(ResourceKind::User, id))?;
    Ok(user_json(&provider.base, &row))
}

/// What a User says of the person that Roster keeps for the provider alone.
fn profile_of(user: &Value) -> Value {
    let mut profile = serde_json::Map::new();
    for key in ["userName", "name", "displayName", "emails", "active"] {
        if let Some(value) = user.get(key).filter(|v| !v.is_null()) {
            profile.insert(key.into(), value.clone());
        }
    }
    Value::Object(profile)
}

/// The person's name as a User gives it: `name.formatted`, else given and family
/// names, else `displayName`.
fn person_name(user: &Value) -> Option<String> {
    let text = |v: &Value| v.as_str().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    let name = &user["name"];
    text(&name["formatted"])
        .or_else(|| {
            let parts: Vec<String> = [&name["givenName"], &name["familyName"]].into_iter().filter_map(text).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .or_else(|| text(&user["displayName"]))
        .and_then(|n| crate::domain::PersonName::parse(&n).ok().map(|p| p.as_str().to_owned()))
}

fn external_id(resource: &Value) -> Option<String> {
    resource["externalId"].as_str().map(str::trim).filter(|t| !t.is_empty()).map(|t| t.chars().take(512).collect())
}

/// The address of the person's Roster account: `userName` when it is an email
/// address (Okta's logins, most of Entra's), else the primary of `emails` (a login
/// name that is not one, or a UPN that is not a mailbox).
fn account_address(resource: &Value) -> Result<EmailAddress, ScimError> {
    let user_name = resource["userName"].as_str().unwrap_or_default().trim();
    if let Ok(address) = EmailAddress::parse(user_name) {
        return Ok(address);
    }
    let emails = resource["emails"].as_array().map(Vec::as_slice).unwrap_or_default();
    let primary = emails.iter().find(|e| e["primary"].as_bool() == Some(true)).or_else(|| emails.first());
    let text = primary.and_then(|e| e["value"].as_str()).unwrap_or_default();
    EmailAddress::parse(text).map_err(|e| {
        if text.is_empty() {
            ScimError::invalid_value(format!(
                "userName “{user_name}” is not an email address, and no email is given: Roster needs the person's \
                 email address, in userName or as the primary of emails."
            ))
        } else {
            ScimError::invalid_value(format!("The primary email “{text}” is not an email address: {e}"))
        }
    })
}

/// `userName` as the provider spells it, compared case-insensitively (RFC 7643 §4.1.1).
fn same_user_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Whether the organization's identity provider may rename the account: it made it,
/// or the account's address is at a domain the organization verified.
fn may_rename(conn: &mut PgConnection, provider: &Provider, user: UserId, email: &str) -> Result<bool, ScimError> {
    if users::provisioned_by(conn, user)? == Some(provider.access.org.id) {
        return Ok(true);
    }
    let verified = super::security::verified_domains(conn, &provider.access)?;
    Ok(super::security::covers(&verified, email))
}

/// `POST /Users`: the person's membership as Member, seats permitting, and their
/// account if they have none (with a mail to choose a password, unless single
/// sign-on covers their address). At the seat limit nothing is created, the answer
/// says the numbers, and the Owner is told (once a day per address).
///
/// What needs no seat (the account, its mail, the audit row, the notification) is
/// written first. The organization's row is locked last, for what must see every
/// other creation: that nobody holds the account or the userName yet, the seats,
/// and the membership they allow. A directory's first sync queues its creations on
/// that lock, so the fewer statements it is held over, the more it creates a second.
pub fn create_user(
    conn: &mut PgConnection,
    provider: &Provider,
    links: &Links,
    body: &Value,
) -> Result<Value, ScimError> {
    let wanted = normalize_resource(body, ResourceKind::User)?;
    let email = account_address(&wanted)?;
    let user_name = wanted["userName"].as_str().unwrap_or_default().trim().to_owned();
    let org_id = provider.org();
    let org_name = &provider.access.org.name;
    let active = wanted["active"].as_bool().unwrap_or(true);
    let made = conn.transaction(|conn| -> Result<Uuid, NotCreated> {
        let verified = super::security::verified_domains(conn, &provider.access)?;
        let at_verified = super::security::covers(&verified, email.as_str());
        let name = person_name(&wanted);
        // Whose account: one the organization may manage (at its verified domain, or
        // made by its provider), a new one, or someone else's, who must accept first.
        // The answer is the same in every case: the organization learns nothing of
        // who already had an account.
        let (user, created, needs_consent) = match users::find_by_email(conn, &email)? {
            Some(account) if at_verified || users::provisioned_by(conn, account.user_id())? == Some(org_id.0) => {
                (account, false, false)
            }
            Some(account) => (account, false, true),
            None => (create_account(conn, &email, name.as_deref(), org_id.0, at_verified)?, true, false),
        };
        if created && crate::db::sso::covering(conn, email.domain())?.is_none() {
            let token = Token::generate();
            let expires = time::OffsetDateTime::now_utc() + FIRST_PASSWORD_TTL;
            let purpose = email_tokens::Purpose::ResetPassword;
            email_tokens::issue(conn, user.user_id(), purpose, &token, &user.email, expires)?;
            let message = messages::provisioned(&user.email, &user.name, org_name, &links.reset_password(&token))?;
            outbox::enqueue(conn, links.sealing_key(), &message)?;
        }
        let membership = Uuid::new_v4();
        let mut events = vec![Event::MemberProvisioned { membership, user: user.id, email: email.as_str().to_owned() }];
        if !active {
            let email = email.as_str().to_owned();
            events.push(Event::MemberSuspended { membership, user: user.id, email, role: Role::Member });
        }
        provider.actor.record(conn, &provider.access, &events)?;

        let org = organizations::lock(conn, org_id)?;
        if let Some(taken) = rows::taken(conn, org_id, email.canonical(), &user_name)? {
            return Err(NotCreated::Refused(ScimError::uniqueness(if taken.same_account {
                format!("{} is already a member of {} (User {}).", email.as_str(), org.name, taken.id)
            } else {
                format!("The userName “{user_name}” is taken by {} (User {}).", taken.email, taken.id)
            })));
        }
        // An invitation of theirs is answered by this (revoked below): the seat it
        // holds becomes theirs.
        let key = [email.canonical().to_owned()];
        let invited = crate::db::invitations::pending_for_emails(conn, org_id, &key)?;
        let holds_seat = invited.iter().any(|(i, _)| i.status_now() == crate::domain::InvitationStatus::Pending);
        let usage = organizations::seat_usage(conn, org_id, org.seat_limit)?;
        // Someone created already deactivated takes no seat.
        let needed = i64::from(active && !holds_seat);
        if let Err(short) = usage.reserve(needed) {
            return Err(NotCreated::NoSeat { used: usage.used(), limit: usage.limit, short });
        }
        for (invitation, _) in invited {
            crate::db::invitations::revoke(conn, org_id, invitation.id, None)?;
        }
        // Made managed at once: every later write of a membership row touches each of
        // the table's indexes, so the SCIM fields are not a second write.
        let profile = profile_of(&wanted);
        rows::insert_member(conn, membership, org_id, user.user_id(), external_id(&wanted).as_deref(), &profile)?;
        if needs_consent {
            // As a new account would read: the provider's name and address, unverified.
            let shown = name.unwrap_or_else(|| email.as_str().split('@').next().unwrap_or_default().to_owned());
            memberships::await_consent(conn, membership, &shown, email.as_str())?;
        }
        if !active {
            memberships::set_suspended(conn, membership, true)?;
        }
        Ok(membership)
    });
    match made {
        // Read once the lock is let go: the answer is the User as it was made.
        Ok(membership) => {
            let row = rows::user(conn, org_id, membership)?.ok_or(AppError::NotFound)?;
            Ok(user_json(&provider.base, &row))
        }
        Err(NotCreated::Refused(refusal)) => Err(refusal),
        Err(NotCreated::NoSeat { used, limit, short }) => {
            // Nothing of the creation is kept; the Owner is told in a transaction of its own.
            conn.transaction(|conn| -> Result<(), ScimError> {
                let rule = rate_limit::Limit { name: "scim:seat_refusal", max: 1, window_secs: 86_400 };
                if rate_limit::check(conn, rule, &format!("{}:{}", org_id.0, email.canonical())).is_ok() {
                    let owner = memberships::owner_id(conn, org_id)?;
                    let email = email.as_str().to_owned();
                    let event = Event::ProvisioningRefused { organization: org_id.0, email, used, limit, owner };
                    provider.actor.record(conn, &provider.access, &[event])?;
                }
                Ok(())
            })?;
            Err(ScimError::forbidden(format!("{} could not be added to {org_name}. {short}", email.as_str())))
        }
    }
}

/// Why [`create_user`]'s transaction made nothing: it is rolled back either way.
enum NotCreated {
    /// Refused as the provider is told: the account or userName is taken, or a fault.
    Refused(ScimError),
    /// The seats are all used: the Owner is told, after the rollback.
    NoSeat { used: i64, limit: i64, short: crate::domain::seats::NotEnoughSeats },
}

impl From<ScimError> for NotCreated {
    fn from(error: ScimError) -> Self {
        NotCreated::Refused(error)
    }
}

impl From<AppError> for NotCreated {
    fn from(error: AppError) -> Self {
        NotCreated::Refused(error.into())
    }
}

impl From<diesel::result::Error> for NotCreated {
    fn from(error: diesel::result::Error) -> Self {
        NotCreated::Refused(error.into())
    }
}

fn create_account(
    conn: &mut PgConnection,
    email: &EmailAddress,
    name: Option<&str>,
    org: Uuid,
    verified: bool,
) -> Result<users::User, ScimError> {
    let local = email.as_str().split('@').next().unwrap_or_default().to_owned();
    let new = users::NewUser {
        id: Uuid::new_v4(),
        name: name.unwrap_or(&local),
        email: email.as_str(),
        email_key: email.canonical(),
        email_verified_at: verified.then(time::OffsetDateTime::now_utc),
        password_hash: None,
        provisioned_by: Some(org),
    };
    users::insert(conn, &new)?
        .ok_or_else(|| ScimError::uniqueness(format!("{} has an account already.", email.as_str())))
}

/// The member behind a User, locked, with the User as it is now; `If-Match` checked.
fn locked_user(
    conn: &mut PgConnection,
    provider: &Provider,
    id: Uuid,
    if_match: Option<&str>,
) -> Result<(memberships::Membership, Value), ScimError> {
    organizations::lock(conn, provider.org())?;
    let membership =
        memberships::lock_in_org(conn, provider.org(), id)?.ok_or_else(|| not_found(ResourceKind::User, id))?;
    let row = rows::user(conn, provider.org(), id)?.ok_or_else(|| not_found(ResourceKind::User, id))?;
    let current = user_json(&provider.base, &row);
    check_version(if_match, &current)?;
    Ok((membership, current))
}

/// Makes the member what `wanted` (a whole User) says: the provider's attributes,
/// the account's name where the provider may rename it, and `active` as a
/// suspension. `userName` never changes.
fn apply_user(
    conn: &mut PgConnection,
    provider: &Provider,
    membership: &memberships::Membership,
    current: &Value,
    wanted: &Value,
    how: Write,
) -> Result<(), ScimError> {
    let current_name = current["userName"].as_str().unwrap_or_default();
    let asked = wanted["userName"].as_str().unwrap_or_default();
    if !same_user_name(current_name, asked) {
        return Err(ScimError::mutability(format!(
            "userName is “{current_name}” and cannot become “{asked}”: it names the person's account in Roster. \
             Delete this User and create one for the new name."
        )));
    }
    let email = memberships::detail(conn, provider.org(), membership.id)?.map(|m| m.member_email).unwrap_or_default();
    // A PUT without `active` (some providers leave it out) keeps the status as it is;
    // a PATCH that removes `active` puts it back to its default, active.
    let active = match (wanted["active"].as_bool(), how) {
        (Some(active), _) => active,
        (None, Write::Patch) if current.get("active").is_some() => true,
        (None, _) => !membership.is_suspended(),
    };
    if membership.role == Role::Owner && !active {
        return Err(ScimError::forbidden(format!(
            "{email} is the Owner of {}, who is never suspended. Transfer ownership in Roster first.",
            provider.access.org.name
        )));
    }
    // What the provider manages, before and after, for the audit log.
    let fields = ["externalId", "displayName", "name", "emails"];
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    for field in fields {
        if current.get(field) != wanted.get(field) {
            before.insert(field.into(), current.get(field).cloned().unwrap_or(Value::Null));
            after.insert(field.into(), wanted.get(field).cloned().unwrap_or(Value::Null));
        }
    }
    let user = UserId(membership.user_id);
    if let Some(name) = person_name(wanted) {
        if membership.consent_pending {
            memberships::rename_pending(conn, membership.id, &name)?;
        } else if may_rename(conn, provider, user, &email)? {
            users::set_name(conn, user, &name)?;
        }
    }
    rows::keep_profile(conn, membership.id, external_id(wanted).as_deref(), &profile_of(wanted))?;
    if !after.is_empty() {
        let event = Event::MemberProvisioningUpdated {
            membership: membership.id,
            user: membership.user_id,
            email: email.clone(),
            before: Value::Object(before),
            after: Value::Object(after),
        };
        provider.actor.record(conn, &provider.access, &[event])?;
    }
    if active == membership.is_suspended() {
        super::members::set_suspension(conn, &provider.actor, &provider.access, membership, !active).map_err(|e| {
            match e {
                AppError::Conflict(text) => ScimError::forbidden(text),
                other => other.into(),
            }
        })?;
    }
    Ok(())
}

/// The User after a change, read again.
fn user_after(conn: &mut PgConnection, provider: &Provider, id: Uuid) -> Result<Value, ScimError> {
    let row = rows::user(conn, provider.org(), id)?.ok_or_else(|| not_found(ResourceKind::User, id))?;
    Ok(user_json(&provider.base, &row))
}

/// `PUT /Users/{id}`: the User becomes `body` (Okta sends its updates this way,
/// `active: false` included).
pub fn replace_user(
    conn: &mut PgConnection,
    provider: &Provider,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    let id = parse_id(ResourceKind::User, id)?;
    let wanted = normalize_resource(body, ResourceKind::User)?;
    conn.transaction(|conn| {
        let (membership, current) = locked_user(conn, provider, id, if_match)?;
        apply_user(conn, provider, &membership, &current, &wanted, Write::Replace)?;
        user_after(conn, provider, id)
    })
}

/// `PATCH /Users/{id}`: the operations applied to the User as it is, then kept as a whole.
pub fn patch_user(
    conn: &mut PgConnection,
    provider: &Provider,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    let id = parse_id(ResourceKind::User, id)?;
    let patch = parse_patch(body, ResourceKind::User)?;
    conn.transaction(|conn| {
        let (membership, current) = locked_user(conn, provider, id, if_match)?;
        let wanted = apply_patch(&current, &patch.ops)?;
        apply_user(conn, provider, &membership, &current, &wanted, Write::Patch)?;
        user_after(conn, provider, id)
    })
}

/// `DELETE /Users/{id}`: the membership ends as `Remove` ends it (the account and its
/// history stay); the webhooks the person added are disabled. The Owner stays.
pub fn delete_user(
    conn: &mut PgConnection,
    provider: &Provider,
    id: &str,
    if_match: Option<&str>,
) -> Result<String, ScimError> {
    let id = parse_id(ResourceKind::User, id)?;
    conn.transaction(|conn| {
        let (membership, current) = locked_user(conn, provider, id, if_match)?;
        if membership.role == Role::Owner {
            return Err(ScimError::forbidden(format!(
                "{} is the Owner of {}, who cannot be removed. Transfer ownership in Roster first.",
                current["userName"].as_str().unwrap_or_default(),
                provider.access.org.name
            )));
        }
        Ok(super::members::end_membership(
            conn,
            &provider.actor,
            &provider.access,
            &membership,
            true,
            super::members::Departure::Deprovisioned,
        )?)
    })
}

/// Who or what the resource `id` is, for the log: a User's address, a Group's name
/// (empty when there is none).
pub fn subject(conn: &mut PgConnection, provider: &Provider, kind: ResourceKind, id: &str) -> String {
    let Ok(id) = Uuid::parse_str(id.trim()) else { return String::new() };
    let found = match kind {
        ResourceKind::User => rows::user(conn, provider.org(), id).ok().flatten().map(|row| row.email),
        ResourceKind::Group => rows::group(conn, provider.org(), id).ok().flatten().map(|row| row.name),
    };
    found.unwrap_or_default()
}

/// How a request changes a whole resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `PUT`: the resource becomes the body.
    Replace,
    /// `PATCH`: the body's operations apply to the resource.
    Patch,
}

/// `PUT` or `PATCH` of the resource `id` of `kind`.
pub fn write(
    conn: &mut PgConnection,
    provider: &Provider,
    kind: ResourceKind,
    how: Write,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    match (kind, how) {
        (ResourceKind::User, Write::Replace) => replace_user(conn, provider, id, body, if_match),
        (ResourceKind::User, Write::Patch) => patch_user(conn, provider, id, body, if_match),
        (ResourceKind::Group, Write::Replace) => replace_group(conn, provider, id, body, if_match),
        (ResourceKind::Group, Write::Patch) => patch_group(conn, provider, id, body, if_match),
    }
}

/// `DELETE` of the resource `id` of `kind`.
pub fn delete(
    conn: &mut PgConnection,
    provider: &Provider,
    kind: ResourceKind,
    id: &str,
    if_match: Option<&str>,
) -> Result<String, ScimError> {
    match kind {
        ResourceKind::User => delete_user(conn, provider, id, if_match),
        ResourceKind::Group => delete_group(conn, provider, id, if_match),
    }
}

// ---------------------------------------------------------------------------------
// Groups

/// A team as a Group; `members` when they were read.
pub fn group_json(base: &str, row: &GroupRow, members: Option<&[GroupMember]>) -> Value {
    let mut resource = json!({
        "schemas": [GROUP_SCHEMA],
        "id": row.id,
        "displayName": row.name,
        "meta": {
            "resourceType": "Group",
            "created": time_text(row.created_at),
            "lastModified": time_text(row.updated_at),
            "location": format!("{base}/Groups/{}", row.id),
        },
    });
    if let Some(external) = &row.external_id {
        resource["externalId"] = json!(external);
    }
    match members {
        Some(members) => {
            let listed: Vec<Value> = members
                .iter()
                .map(|m| {
                    // No `display`: a member reads back as the provider wrote it.
                    json!({
                        "value": m.membership_id,
                        "$ref": format!("{base}/Users/{}", m.membership_id),
                        "type": "User",
                    })
                })
                .collect();
            if !listed.is_empty() {
                resource["members"] = Value::Array(listed);
            }
            versioned(resource)
        }
        // Without its members the version could not be told: it is left out.
        None => resource,
    }
}

/// A page of Groups, filtered, as a ListResponse; members read only when asked for.
pub fn list_groups(
    conn: &mut PgConnection,
    provider: &Provider,
    filter: Option<&str>,
    page: Page,
    projection: &Projection,
) -> Result<Value, ScimError> {
    let filter = filter.filter(|f| !f.trim().is_empty()).map(|f| parse_filter(f, ResourceKind::Group)).transpose()?;
    let compiled = filter.as_ref().map(|f| rows::compile(ResourceKind::Group, f)).transpose()?;
    let (found, total) = rows::groups(conn, provider.org(), compiled.as_ref(), page.offset(), page.count)?;
    let resources = groups_json(conn, provider, &found, projection)?;
    Ok(crate::domain::scim::list_response(resources, total, page.start_index))
}

/// Groups as `projection` trims them, their members read (in one statement) only when shown.
fn groups_json(
    conn: &mut PgConnection,
    provider: &Provider,
    found: &[GroupRow],
    projection: &Projection,
) -> Result<Vec<Value>, ScimError> {
    let members = if projection.returns("members") {
        Some(rows::group_members(conn, &found.iter().map(|g| g.id).collect::<Vec<_>>())?)
    } else {
        None
    };
    Ok(found
        .iter()
        .map(|row| {
            let mine =
                members.as_ref().map(|all| all.iter().filter(|m| m.team_id == row.id).cloned().collect::<Vec<_>>());
            projection.apply(group_json(&provider.base, row, mine.as_deref()))
        })
        .collect())
}

fn full_group(conn: &mut PgConnection, provider: &Provider, id: Uuid) -> Result<Value, ScimError> {
    let row = rows::group(conn, provider.org(), id)?.ok_or_else(|| not_found(ResourceKind::Group, id))?;
    let members = rows::group_members(conn, &[id])?;
    Ok(group_json(&provider.base, &row, Some(&members)))
}

/// One Group.
pub fn get_group(
    conn: &mut PgConnection,
    provider: &Provider,
    id: &str,
    projection: &Projection,
) -> Result<Value, ScimError> {
    let id = parse_id(ResourceKind::Group, id)?;
    if projection.returns("members") {
        return full_group(conn, provider, id);
    }
    let row = rows::group(conn, provider.org(), id)?.ok_or_else(|| not_found(ResourceKind::Group, id))?;
    Ok(group_json(&provider.base, &row, None))
}

/// The team's name as a Group gives it, checked as the console checks a team's name.
fn group_name(group: &Value) -> Result<GroupName, ScimError> {
    let text = group["displayName"].as_str().unwrap_or_default();
    GroupName::parse(text).map_err(|e| ScimError::invalid_value(format!("displayName “{text}”: {e}")))
}

/// The membership ids a list of members names; each must be a User of this organization.
fn member_ids(conn: &mut PgConnection, provider: &Provider, values: &[String]) -> Result<Vec<Uuid>, ScimError> {
    let ids = parsed_ids(values)?;
    let known: std::collections::HashSet<Uuid> =
        rows::memberships_among(conn, provider.org(), &ids)?.into_iter().collect();
    if let Some(unknown) = ids.iter().find(|id| !known.contains(id)) {
        return Err(ScimError::invalid_value(format!("{unknown} is not the id of a User of this organization.")));
    }
    Ok(ids)
}

/// Member ids as a request names them, each once. Ids that name no one (a User the
/// provider deleted a moment before) are fine to remove: nothing happens to them.
fn parsed_ids(values: &[String]) -> Result<Vec<Uuid>, ScimError> {
    let mut ids = values
        .iter()
        .map(|value| {
            Uuid::parse_str(value.trim()).map_err(|_| {
                ScimError::invalid_value(format!("“{value}” is not the id of a User of this organization."))
            })
        })
        .collect::<Result<Vec<Uuid>, _>>()?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Records who joined and left a team, one event each (the bell tells them).
fn record_member_changes(
    conn: &mut PgConnection,
    provider: &Provider,
    team: &GroupRow,
    added: &[Uuid],
    removed: &[Uuid],
) -> Result<(), ScimError> {
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    let people = memberships::people(conn, provider.org(), &[added, removed].concat())?;
    let person = |id: &Uuid| people.iter().find(|(m, _, _)| m == id).map(|(_, user, email)| (*user, email.clone()));
    let mut events = Vec::with_capacity(added.len() + removed.len());
    for id in added {
        if let Some((user, email)) = person(id) {
            events.push(Event::TeamMemberAdded {
                team: team.id,
                team_name: team.name.clone(),
                user,
                email,
                role: crate::domain::TeamRole::Member,
            });
        }
    }
    for id in removed {
        if let Some((user, email)) = person(id) {
            events.push(Event::TeamMemberRemoved {
                team: team.id,
                team_name: team.name.clone(),
                user,
                email,
                role: crate::domain::TeamRole::Member,
            });
        }
    }
    provider.actor.record(conn, &provider.access, &events)?;
    Ok(())
}

/// Applies member changes to a team: each change one statement.
fn change_members(
    conn: &mut PgConnection,
    provider: &Provider,
    team: &GroupRow,
    changes: &[MemberChange],
) -> Result<(), ScimError> {
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    for change in changes {
        match change {
            MemberChange::Add(values) => {
                let ids = member_ids(conn, provider, values)?;
                added.extend(rows::add_to_group(conn, provider.org(), team.id, &ids)?);
            }
            MemberChange::Remove(values) => {
                let ids = parsed_ids(values)?;
                removed.extend(rows::remove_from_group(conn, team.id, Some(&ids))?);
            }
            MemberChange::RemoveAll => removed.extend(rows::remove_from_group(conn, team.id, None)?),
            MemberChange::Replace(values) => {
                let ids = member_ids(conn, provider, values)?;
                let kept = rows::remove_all_but(conn, team.id, &ids)?;
                removed.extend(kept);
                added.extend(rows::add_to_group(conn, provider.org(), team.id, &ids)?);
            }
        }
    }
    // Someone added then removed in one request was neither, in the end.
    let net_added: Vec<Uuid> = added.iter().filter(|id| !removed.contains(id)).copied().collect();
    let net_removed: Vec<Uuid> = removed.iter().filter(|id| !added.contains(id)).copied().collect();
    record_member_changes(conn, provider, team, &net_added, &net_removed)
}

/// The team's URL name, for the console's use cases that take one.
fn team_slug(team: &GroupRow, conn: &mut PgConnection) -> Result<Slug, ScimError> {
    let slug = crate::db::teams::slug_of(conn, team.id)?;
    Slug::parse(&slug).ok_or_else(|| ScimError::new(500, None, "A team's stored URL name is not valid."))
}

/// The member ids a whole Group lists.
fn member_values(group: &Value) -> Vec<String> {
    group["members"]
        .as_array()
        .map(|list| list.iter().filter_map(|m| m["value"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// `POST /Groups`: a team named `displayName`, with its members.
pub fn create_group(conn: &mut PgConnection, provider: &Provider, body: &Value) -> Result<Value, ScimError> {
    let wanted = normalize_resource(body, ResourceKind::Group)?;
    let name = group_name(&wanted)?;
    let members = member_values(&wanted);
    conn.transaction(|conn| {
        let org = provider.org();
        if crate::db::teams::find_by_slug(conn, org, name.slug())?.is_some() {
            return Err(ScimError::uniqueness(format!(
                "A team called “{}” (URL name {}) exists already in {}.",
                name.as_str(),
                name.slug(),
                provider.access.org.name
            )));
        }
        let team = crate::db::teams::insert(conn, org, name.as_str(), name.slug(), "").map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                ScimError::uniqueness(format!("A team called “{}” was created a moment ago.", name.as_str()))
            } else {
                e.into()
            }
        })?;
        rows::touch_group(conn, team.id, external_id(&wanted).as_deref())?;
        let event = Event::TeamProvisioned { team: team.id, name: team.name.clone(), slug: team.slug.clone() };
        provider.actor.record(conn, &provider.access, &[event])?;
        let row = rows::group(conn, org, team.id)?.ok_or_else(|| not_found(ResourceKind::Group, team.id))?;
        change_members(conn, provider, &row, &[MemberChange::Add(members)])?;
        full_group(conn, provider, team.id)
    })
}

/// The team behind a Group, locked, with the Group as it is now; `If-Match` checked
/// (against the whole Group, members included).
fn locked_group(
    conn: &mut PgConnection,
    provider: &Provider,
    id: Uuid,
    if_match: Option<&str>,
) -> Result<(GroupRow, Value), ScimError> {
    let row = rows::lock_group(conn, provider.org(), id)?.ok_or_else(|| not_found(ResourceKind::Group, id))?;
    if if_match.is_some() {
        let current = full_group(conn, provider, id)?;
        check_version(if_match, &current)?;
        return Ok((row, current));
    }
    let current = group_json(&provider.base, &row, None);
    Ok((row, current))
}

/// Renames the team when the Group's name changed (the console's rename, its URL
/// name following); keeps the provider's external id and marks the team managed.
fn apply_group_attributes(
    conn: &mut PgConnection,
    provider: &Provider,
    team: &GroupRow,
    wanted: &Value,
) -> Result<(), ScimError> {
    let name = group_name(wanted)?;
    if name.as_str() != team.name {
        let slug = team_slug(team, conn)?;
        let description = crate::db::teams::description_of(conn, team.id)?;
        super::teams::rename(
            conn,
            &provider.actor,
            &provider.org_slug()?,
            &slug,
            Ok(name),
            crate::domain::Description::parse(&description),
        )
        .map_err(|e| match e {
            AppError::Invalid(form) => ScimError::uniqueness(form.to_string()),
            other => other.into(),
        })?;
    }
    rows::touch_group(conn, team.id, external_id(wanted).as_deref())?;
    Ok(())
}

/// `PUT /Groups/{id}`: name, external id and members become what `body` says.
pub fn replace_group(
    conn: &mut PgConnection,
    provider: &Provider,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    let id = parse_id(ResourceKind::Group, id)?;
    let wanted = normalize_resource(body, ResourceKind::Group)?;
    let members = member_values(&wanted);
    conn.transaction(|conn| {
        let (team, _) = locked_group(conn, provider, id, if_match)?;
        apply_group_attributes(conn, provider, &team, &wanted)?;
        change_members(conn, provider, &team, &[MemberChange::Replace(members)])?;
        full_group(conn, provider, id)
    })
}

/// `PATCH /Groups/{id}`: member changes become one statement each, whatever the
/// team's size; other operations apply to the Group's name and external id.
pub fn patch_group(
    conn: &mut PgConnection,
    provider: &Provider,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, ScimError> {
    let id = parse_id(ResourceKind::Group, id)?;
    let patch = parse_patch(body, ResourceKind::Group)?;
    let (changes, rest) = split_member_ops(patch.ops)?;
    conn.transaction(|conn| {
        let (team, current) = locked_group(conn, provider, id, if_match)?;
        if !rest.is_empty() {
            let wanted = apply_patch(&current, &rest)?;
            apply_group_attributes(conn, provider, &team, &wanted)?;
        } else {
            rows::touch_group(conn, team.id, team.external_id.as_deref())?;
        }
        change_members(conn, provider, &team, &changes)?;
        full_group(conn, provider, id)
    })
}

/// `DELETE /Groups/{id}`: the console's `Delete team` (team places and the team's
/// project grants end; nobody leaves the organization). Returns its name.
pub fn delete_group(
    conn: &mut PgConnection,
    provider: &Provider,
    id: &str,
    if_match: Option<&str>,
) -> Result<String, ScimError> {
    let id = parse_id(ResourceKind::Group, id)?;
    conn.transaction(|conn| {
        let (team, _) = locked_group(conn, provider, id, if_match)?;
        let slug = team_slug(&team, conn)?;
        Ok(super::teams::delete(conn, &provider.actor, &provider.org_slug()?, &slug, None)?)
    })
}
