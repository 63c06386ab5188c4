//! API keys (DESIGN.md §2.9): the Owner and Admins create and revoke them in
//! Settings; the JSON API authenticates each request by one.

use diesel::prelude::*;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{self, Actor, Event};
use super::rate_limit;
pub use crate::db::api_keys::ApiKey;
use crate::db::api_keys::{self as rows, NewApiKey};
use crate::db::{is_unique_violation, organizations};
use crate::domain::api_key::{key_roles, ApiKeySecret, Scope, Scopes, ScopesError};
use crate::domain::{KeyPrincipal, Permission, Role, Slug};
use crate::error::{AppError, FormErrors};

/// The longest name a key may have.
pub const NAME_MAX: usize = 100;

/// Refuses unless `access` may manage the organization's API keys (the Owner and Admins).
fn require_manager(access: &OrgAccess) -> Result<(), AppError> {
    if access.role.can(Permission::ManageIntegrations) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("Only the Owner and Admins of {} manage its API keys.", access.org.name)))
    }
}

/// Whether a key is a SCIM token (its one scope is `scim`).
pub fn is_scim_token(key: &ApiKey) -> bool {
    key.scopes == [Scope::Scim.as_str()]
}

/// The organization's keys, for those who manage them (empty for anyone else); SCIM
/// tokens are listed in Settings → Provisioning (SCIM), not here.
pub fn keys_of(conn: &mut PgConnection, access: &OrgAccess) -> Result<Vec<ApiKey>, AppError> {
    if access.role.can(Permission::ManageIntegrations) {
        Ok(rows::of_org(conn, access.org.org_id())?.into_iter().filter(|k| !is_scim_token(k)).collect())
    } else {
        Ok(Vec::new())
    }
}

/// The organization's SCIM tokens, for the Owner.
pub fn scim_tokens_of(conn: &mut PgConnection, access: &OrgAccess) -> Result<Vec<ApiKey>, AppError> {
    super::security::may_manage(access)?;
    Ok(rows::of_org(conn, access.org.org_id())?.into_iter().filter(is_scim_token).collect())
}

/// `Create SCIM token` (the Owner's): an organization key called `name` whose one
/// scope is `scim`, acting as an Admin; its secret is shown once.
pub fn create_scim_token(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    name: &str,
) -> Result<CreatedKey, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        super::security::may_manage(&access)?;
        let creator = access.user().map(|u| (Some(u.id), u.name.clone()));
        let (created_by, creator_name) = creator.unwrap_or_else(|| (None, access.name()));
        let new = NewKey { name, scopes: Scopes::parse(&[Scope::Scim.as_str()]), role: Some(Role::Admin) };
        let created = insert_key(conn, &access.org, access.role, new, created_by, &creator_name)?;
        let event = Event::ApiKeyCreated { name: created.key.name.clone(), scopes: created.key.scopes.clone() };
        actor.record(conn, &access, &[event])?;
        Ok(created)
    })
}

/// A key just made, with its secret: shown once, then only its hash is kept.
#[derive(Debug)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: ApiKeySecret,
}

/// What `Create API key` asks for.
#[derive(Debug)]
pub struct NewKey<'a> {
    pub name: &'a str,
    pub scopes: Result<Scopes, ScopesError>,
    /// The role it acts with; `None`: the highest the creator may give it.
    pub role: Option<Role>,
}

/// `Create API key`: a key of the organization called `name`, with its scopes and
/// its own role (never more than the creator's, nor more than Admin). Bad input is
/// refused field by field, and nothing is written.
pub fn create(conn: &mut PgConnection, actor: &Actor, slug: &Slug, new: NewKey<'_>) -> Result<CreatedKey, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_manager(&access)?;
        if new.scopes.as_ref().is_ok_and(Scopes::is_scim) {
            let mut errors = FormErrors::new();
            errors.add(
                "scopes",
                "Make SCIM tokens in Settings → Provisioning (SCIM), where the Owner turns provisioning on.",
            );
            return Err(AppError::Invalid(errors));
        }
        let creator = access.user().map(|u| (Some(u.id), u.name.clone()));
        let (created_by, creator_name) = creator.unwrap_or_else(|| (None, access.name()));
        let created = insert_key(conn, &access.org, access.role, new, created_by, &creator_name)?;
        let event = Event::ApiKeyCreated { name: created.key.name.clone(), scopes: created.key.scopes.clone() };
        actor.record(conn, &access, &[event])?;
        Ok(created)
    })
}

/// The operator's `roster api-key create`: a key of the organization at `slug`, made
/// by nobody in it (its creator reads "Operator"), audited as the command.
pub fn create_by_operator(conn: &mut PgConnection, slug: &Slug, new: NewKey<'_>) -> Result<CreatedKey, AppError> {
    conn.transaction(|conn| {
        let org = organizations::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
        let created = insert_key(conn, &org, Role::Owner, new, None, "Operator")?;
        let event = Event::ApiKeyCreated { name: created.key.name.clone(), scopes: created.key.scopes.clone() };
        events::record_by_operator(conn, &org, "api-key create", &[event])?;
        Ok(created)
    })
}

/// Checks `new` for an organization where the creator's role is `creator_role`, and
/// stores the key.
fn insert_key(
    conn: &mut PgConnection,
    org: &crate::db::organizations::Organization,
    creator_role: Role,
    new: NewKey<'_>,
    created_by: Option<Uuid>,
    creator_name: &str,
) -> Result<CreatedKey, AppError> {
    let mut errors = FormErrors::new();
    let name = new.name.trim();
    if name.is_empty() {
        errors.add("name", "Name the key after what uses it, for example “HR sync”.");
    } else if name.chars().count() > NAME_MAX {
        errors.add("name", format!("At most {NAME_MAX} characters."));
    } else if rows::live_name_taken(conn, org.org_id(), name)? {
        errors.add("name", format!("A key called “{name}” exists already. Choose another name."));
    }
    let allowed = key_roles(creator_role);
    let role = new.role.unwrap_or(allowed[0]);
    if !allowed.contains(&role) {
        let words: Vec<&str> = allowed.iter().map(|r| r.label()).collect();
        errors.add(
            "role",
            format!("A key can act as {} here: never more than Admin, nor more than you.", words.join(" or ")),
        );
    }
    let scopes = errors.check("scopes", new.scopes);
    errors.into_result()?;
    let Some(scopes) = scopes else { return Err(AppError::Invalid(FormErrors::form("Choose scopes."))) };

    let secret = ApiKeySecret::generate();
    let row = NewApiKey {
        id: Uuid::new_v4(),
        organization_id: org.id,
        name,
        scopes: scopes.names(),
        secret_hint: &secret.hint(),
        secret_hash: &secret.hash(),
        created_by,
        creator_name,
        role: role.as_str(),
    };
    let key = rows::insert(conn, &row).map_err(|e| {
        if is_unique_violation(&e) {
            let mut errors = FormErrors::new();
            errors.add("name", format!("A key called “{name}” was created a moment ago. Choose another name."));
            AppError::Invalid(errors)
        } else {
            e.into()
        }
    })?;
    Ok(CreatedKey { key, secret })
}

/// The `Revoke` confirmation of the live key `id`, for the Owner and Admins.
pub fn revocation(
    conn: &mut PgConnection,
    slug: &Slug,
    user: crate::domain::UserId,
    id: Uuid,
) -> Result<(super::viewer::Viewer, ApiKey), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    require_manager(&access)?;
    let key = rows::of_org(conn, access.org.org_id())?.into_iter().find(|k| k.id == id).ok_or(AppError::NotFound)?;
    if key.revoked_at.is_some() {
        return Err(AppError::Conflict(format!("The key “{}” was revoked already.", key.name)));
    }
    Ok((viewer, key))
}

/// `Revoke`: the key stops working at once; it stays listed as revoked.
pub fn revoke(conn: &mut PgConnection, actor: &Actor, slug: &Slug, id: Uuid) -> Result<ApiKey, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_manager(&access)?;
        let scim = rows::of_org(conn, access.org.org_id())?.iter().any(|k| k.id == id && is_scim_token(k));
        if scim {
            super::security::may_manage(&access)?;
        }
        let Some(key) = rows::revoke(conn, access.org.org_id(), id, &access.label())? else {
            let known = rows::of_org(conn, access.org.org_id())?.into_iter().find(|k| k.id == id);
            return Err(match known {
                Some(key) => AppError::Conflict(format!("The key “{}” was revoked already.", key.name)),
                None => AppError::NotFound,
            });
        };
        actor.record(conn, &access, &[Event::ApiKeyRevoked { name: key.name.clone() }])?;
        Ok(key)
    })
}

/// The operator's `roster api-key list`: the organization's keys, live ones first.
pub fn list_by_operator(conn: &mut PgConnection, slug: &Slug) -> Result<Vec<ApiKey>, AppError> {
    let org = organizations::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
    Ok(rows::of_org(conn, org.org_id())?)
}

/// The operator's `roster api-key revoke`: the live key called `name` stops working
/// at once, audited as the command.
pub fn revoke_by_operator(conn: &mut PgConnection, slug: &Slug, name: &str) -> Result<ApiKey, AppError> {
    conn.transaction(|conn| {
        let org = organizations::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
        let key = rows::find_live_by_name(conn, org.org_id(), name.trim())?
            .ok_or_else(|| AppError::Conflict(format!("{} has no live API key called “{}”.", org.name, name.trim())))?;
        let key = rows::revoke(conn, org.org_id(), key.id, "Operator (roster api-key revoke)")?
            .ok_or_else(|| AppError::Conflict(format!("The key “{}” was revoked a moment ago.", key.name)))?;
        events::record_by_operator(conn, &org, "api-key revoke", &[Event::ApiKeyRevoked { name: key.name.clone() }])?;
        Ok(key)
    })
}

/// Refused uses of one revoked key written to the audit log: one a minute is enough
/// to show a leak, and a flood of requests writes no more.
const REFUSALS_AUDITED: rate_limit::Limit = rate_limit::Limit { name: "api:refused-audit", max: 1, window_secs: 60 };

/// A request authenticated by an API key: who acts (the key, with its own role), in
/// which organization, and what the key may be used for.
#[derive(Debug, Clone)]
pub struct KeyAccess {
    pub id: Uuid,
    pub actor: Actor,
    /// The organization's URL name, for the use cases that take one.
    pub slug: Slug,
    pub scopes: Scopes,
    /// The organization as the request found it.
    pub org: organizations::Organization,
}

impl KeyAccess {
    /// Refuses with 403 unless the key was given `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "This API key does not have the scope {}. Create a key with it in Settings → API keys.",
                scope.as_str()
            )))
        }
    }
}

/// A use case run as an API key, given the request's connection and the key's access.
pub type KeyUseCase<T> = Box<dyn FnOnce(&mut PgConnection, &KeyAccess) -> Result<T, AppError> + Send>;

/// A read run as an API key: it may run twice (on the read replica, then on the
/// primary if the replica goes away meanwhile), so it changes nothing.
pub type KeyRead<T> = Box<dyn Fn(&mut PgConnection, &KeyAccess) -> Result<T, AppError> + Send>;

/// Authenticates `secret`, checks the key has `scope`, and runs `use_case` as the key.
pub fn run_as_key<T>(
    conn: &mut PgConnection,
    secret: &str,
    request_id: Option<String>,
    per_minute: i32,
    scope: Scope,
    use_case: KeyUseCase<T>,
) -> Result<T, AppError> {
    let key = authorize(conn, secret, request_id, per_minute, scope)?;
    use_case(conn, &key)
}

/// Authenticates `secret` and checks the key has `scope`: the key's access.
pub fn authorize(
    conn: &mut PgConnection,
    secret: &str,
    request_id: Option<String>,
    per_minute: i32,
    scope: Scope,
) -> Result<KeyAccess, AppError> {
    let key = authenticate(conn, secret, request_id, per_minute)?;
    key.require(scope)?;
    Ok(key)
}

/// An answer of the API as it is kept for an Idempotency-Key: status and JSON body.
pub type Answer = (u16, String);

/// Runs `use_case` under `idempotency_key`: the first request with it runs, and its
/// answer is stored in the same transaction; a retry with the same key and request
/// gets that answer and runs nothing; the same key with another request is refused.
pub fn idempotent(
    conn: &mut PgConnection,
    key: &KeyAccess,
    idempotency_key: &str,
    request_hash: &[u8],
    use_case: impl FnOnce(&mut PgConnection) -> Result<Answer, AppError>,
) -> Result<Answer, AppError> {
    let key_id = key.id;
    conn.transaction(|conn| match rows::claim_idempotency(conn, key_id, idempotency_key, request_hash)? {
        rows::Idempotency::First => {
            let (status, body) = use_case(conn)?;
            rows::store_answer(conn, key_id, idempotency_key, i32::from(status), &body)?;
            Ok((status, body))
        }
        rows::Idempotency::Answered { request_hash: first, status_code, body } => {
            if first != request_hash {
                let mut errors = FormErrors::new();
                errors.add(
                    "Idempotency-Key",
                    "This Idempotency-Key was used for another request in the last 24 hours. Use a new key for a new request.",
                );
                return Err(AppError::Invalid(errors));
            }
            Ok((u16::try_from(status_code).unwrap_or(200), body))
        }
    })
}

/// Requests one key may make in a minute.
pub fn request_limit(per_minute: i32) -> rate_limit::Limit {
    rate_limit::Limit { name: "api:key", max: per_minute, window_secs: 60 }
}

/// Authenticates a request by the secret in its `Authorization` header. An unknown,
/// malformed or revoked secret is a 401 with a sentence saying which; use of a revoked
/// key is written to the audit log. A key belongs to its organization: who created it,
/// and whether they are still a member, does not matter.
/// Each key may make `per_minute` requests a minute (counted in PostgreSQL, so every
/// instance shares the count).
pub fn authenticate(
    conn: &mut PgConnection,
    secret: &str,
    request_id: Option<String>,
    per_minute: i32,
) -> Result<KeyAccess, AppError> {
    let unknown = || AppError::KeyRefused("This API key is not valid. Check that it was copied whole.".into());
    let secret = ApiKeySecret::parse(secret.trim()).ok_or_else(unknown)?;
    let (key, org) = rows::find_by_hash(conn, &secret.hash())?.ok_or_else(unknown)?;
    // Counted before anything else, revoked keys included: a flood of requests with
    // one secret costs one statement each and writes nothing more.
    rate_limit::check_throttled(conn, request_limit(per_minute), &key.id.to_string())?;
    if let Some(revoked_at) = key.revoked_at {
        if rate_limit::check(conn, REFUSALS_AUDITED, &key.id.to_string()).is_ok() {
            let refused = Event::ApiKeyRefused { name: key.name.clone(), revoked_at };
            conn.transaction(|conn| events::record_by_api_client(conn, &org, request_id.clone(), &[refused]))?;
        }
        return Err(AppError::KeyRefused(format!(
            "This API key (“{}”) was revoked on {}. Create a new one in Settings → API keys.",
            key.name,
            revoked_at.date()
        )));
    }
    rows::mark_used(conn, &key)?;
    let scopes = Scopes::parse(&key.scopes).map_err(|e| AppError::internal(anyhow::anyhow!("stored scopes: {e}")))?;
    let slug = Slug::parse(&org.slug).ok_or_else(|| AppError::internal(anyhow::anyhow!("stored slug")))?;
    let principal = KeyPrincipal { id: key.id, organization: org.org_id(), name: key.name, role: key.role };
    Ok(KeyAccess { id: key.id, actor: Actor::key(principal, request_id), slug, scopes, org })
}
