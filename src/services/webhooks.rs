//! Webhooks (DESIGN.md §2.9): endpoints the Owner and Admins manage in Settings,
//! the delivery log and `Redeliver`, and what an attempt's outcome changes. The
//! deliveries themselves are queued by `deliveries`, with the change they report.

use diesel::prelude::*;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use crate::db::organizations;
use crate::db::webhooks::{self as rows, NewEndpoint, WEBHOOK_JOB};
pub use crate::db::webhooks::{Attempt, Delivery, Endpoint};
use crate::db::{jobs, memberships};
use crate::domain::webhook::{self, SigningSecret, UrlError};
use crate::domain::{OrgId, Permission, SealingKey, Slug};
use crate::error::{AppError, FormErrors};

/// An endpoint with no successful delivery for this long is disabled when another
/// delivery to it gives up, and the Owner is told.
pub const DISABLE_AFTER: time::Duration = time::Duration::days(3);
/// Rows of a delivery log page.
pub const LOG_PAGE: i64 = 50;

fn require_manager(access: &OrgAccess) -> Result<(), AppError> {
    if access.role.can(Permission::ManageIntegrations) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("Only the Owner and Admins of {} manage its webhooks.", access.org.name)))
    }
}

use crate::db::sealed::webhook_secret_context as sealing_context;

/// The signing secret of `endpoint`, unsealed; `None` when it was sealed under another key.
pub fn secret_of(key: &SealingKey, endpoint: &Endpoint) -> Option<SigningSecret> {
    let plain = key.open(&endpoint.secret_sealed, &sealing_context(endpoint.id))?;
    String::from_utf8(plain).ok().map(SigningSecret::from_stored)
}

/// The organization's endpoints, for those who manage them (empty for anyone else).
pub fn endpoints_of(conn: &mut PgConnection, access: &OrgAccess) -> Result<Vec<Endpoint>, AppError> {
    if access.role.can(Permission::ManageIntegrations) {
        Ok(rows::endpoints_of(conn, access.org.org_id())?)
    } else {
        Ok(Vec::new())
    }
}

/// An endpoint just added, with its signing secret: shown once.
pub struct CreatedEndpoint {
    pub endpoint: Endpoint,
    pub secret: SigningSecret,
}

/// `Add endpoint`: a URL and the event groups it receives; a signing secret is made
/// and sealed. Bad input is refused field by field, and nothing is written.
pub fn create(
    conn: &mut PgConnection,
    key: &SealingKey,
    actor: &Actor,
    slug: &Slug,
    url: Result<url::Url, UrlError>,
    groups: Result<Vec<String>, &'static str>,
) -> Result<CreatedEndpoint, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        require_manager(&access)?;
        let mut errors = FormErrors::new();
        let url = errors.check("url", url);
        let groups = errors.check("events", groups);
        errors.into_result()?;
        let (Some(url), Some(groups)) = (url, groups) else { return Err(AppError::Invalid(FormErrors::new())) };
        let secret = SigningSecret::generate();
        let id = Uuid::new_v4();
        let endpoint = rows::insert_endpoint(
            conn,
            &NewEndpoint {
                id,
                organization_id: access.org.id,
                url: url.as_str(),
                events: groups.clone(),
                secret_sealed: key.seal(secret.as_str().as_bytes(), &sealing_context(id)),
                secret_sealed_with: key.newest_id(),
                secret_hint: &secret.hint(),
                created_by: access.user().map(|u| u.id),
                creator_name: &access.name(),
            },
        )?;
        actor.record(
            conn,
            &access,
            &[Event::WebhookCreated { url: webhook::shown_url(&endpoint.url), events: groups }],
        )?;
        Ok(CreatedEndpoint { endpoint, secret })
    })
}

/// The endpoint `id` of the organization, for one who manages webhooks.
fn endpoint(conn: &mut PgConnection, access: &OrgAccess, id: Uuid) -> Result<Endpoint, AppError> {
    require_manager(access)?;
    rows::endpoint_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)
}

/// One endpoint, with the viewer, for the confirmation of `Delete` or `Roll secret`.
pub fn confirmation(
    conn: &mut PgConnection,
    slug: &Slug,
    user: crate::domain::UserId,
    id: Uuid,
) -> Result<(super::viewer::Viewer, Endpoint), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    Ok((viewer, endpoint(conn, &access, id)?))
}

/// `Enable` / `Disable`.
pub fn set_enabled(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    enabled: bool,
) -> Result<Endpoint, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let current = endpoint(conn, &access, id)?;
        if current.enabled == enabled {
            return Ok(current);
        }
        let updated = rows::set_enabled(conn, id, enabled, None)?;
        let url = webhook::shown_url(&updated.url);
        let event = if enabled {
            Event::WebhookEnabled { url }
        } else {
            Event::WebhookDisabled { endpoint: id, url, reason: None, owner: None }
        };
        actor.record(conn, &access, &[event])?;
        Ok(updated)
    })
}

/// `Delete`: the endpoint and its delivery log go; nothing more is sent to it.
pub fn delete(conn: &mut PgConnection, actor: &Actor, slug: &Slug, id: Uuid) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let current = endpoint(conn, &access, id)?;
        rows::delete_endpoint(conn, id)?;
        actor.record(conn, &access, &[Event::WebhookDeleted { url: webhook::shown_url(&current.url) }])?;
        Ok(current.url)
    })
}

/// An endpoint's delivery log: the endpoint and `LOG_PAGE + 1` deliveries, newest first.
pub fn log(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    before: Option<(OffsetDateTime, i64)>,
) -> Result<(super::viewer::Viewer, OrgAccess, Endpoint, Vec<Delivery>), AppError> {
    let (viewer, access) = access::page(conn, slug, actor.person()?)?;
    let endpoint = endpoint(conn, &access, id)?;
    let deliveries = rows::deliveries_of(conn, id, before, LOG_PAGE)?;
    Ok((viewer, access, endpoint, deliveries))
}

/// `Redeliver`: the same delivery (same `webhook-id`, same body) is queued again.
pub fn redeliver(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    endpoint_id: Uuid,
    delivery: Uuid,
) -> Result<Delivery, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let endpoint = endpoint(conn, &access, endpoint_id)?;
        let found =
            rows::find_delivery(conn, delivery)?.filter(|d| d.endpoint_id == endpoint.id).ok_or(AppError::NotFound)?;
        if !endpoint.enabled {
            return Err(AppError::Conflict("This endpoint is disabled. Enable it to send to it again.".into()));
        }
        rows::mark_queued(conn, found.id)?;
        // Sent even if it was delivered before: that is what Redeliver asks.
        jobs::enqueue(conn, WEBHOOK_JOB, &json!({ "delivery": found.id, "redeliver": true }))?;
        Ok(found)
    })
}

/// Records an attempt at `delivery` on it and on its endpoint; `next` is when a failed
/// one is tried again (`None`: it is not).
pub fn record_attempt(
    conn: &mut PgConnection,
    delivery: &Delivery,
    attempt: &Attempt,
    next: Option<OffsetDateTime>,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        rows::record_attempt(conn, delivery.id, attempt, next)?;
        if attempt.sent {
            rows::mark_endpoint(conn, delivery.endpoint_id, attempt.delivered)?;
        }
        Ok(())
    })
}

/// `Roll secret`: a new signing secret for the endpoint, sealed under the current
/// key and shown once; the old one stops signing at once. How an endpoint whose
/// secret can no longer be opened is mended.
pub fn roll_secret(
    conn: &mut PgConnection,
    key: &SealingKey,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
) -> Result<CreatedEndpoint, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        endpoint(conn, &access, id)?;
        let secret = SigningSecret::generate();
        let sealed = key.seal(secret.as_str().as_bytes(), &sealing_context(id));
        let endpoint = rows::replace_secret(conn, id, &sealed, key.newest_id(), &secret.hint())?;
        // What waited for a secret goes out now, signed with the new one.
        rows::retry_waiting_now(conn, id)?;
        actor.record(conn, &access, &[Event::WebhookSecretRolled { url: webhook::shown_url(&endpoint.url) }])?;
        Ok(CreatedEndpoint { endpoint, secret })
    })
}

/// A delivery found `endpoint`'s secret unreadable: the first time, the Owner is
/// told (bell and audit log), once until the secret is rolled.
pub fn secret_unreadable(conn: &mut PgConnection, endpoint: &Endpoint) -> Result<(), AppError> {
    if !rows::mark_secret_unreadable(conn, endpoint.id)? {
        return Ok(());
    }
    let Some(org) = organizations::find_by_id(conn, OrgId(endpoint.organization_id))? else { return Ok(()) };
    let owner = memberships::owner_id(conn, org.org_id())?;
    let event = Event::WebhookSecretUnreadable { endpoint: endpoint.id, url: webhook::shown_url(&endpoint.url), owner };
    Actor::system().record_in(conn, &org, None, &[event])
}

/// The enabled endpoints any of `creators` added, as a departure's confirmation lists them.
pub fn left_by(conn: &mut PgConnection, access: &OrgAccess, creators: &[Uuid]) -> Result<Vec<Endpoint>, AppError> {
    Ok(rows::enabled_endpoints_created_by(conn, access.org.org_id(), creators)?)
}

/// When members leave or are removed (`people`: each one's account and name): the
/// endpoints they added are disabled with them (`disable`), or stay enabled and the
/// Owner and Admins are told that they do. A statement per endpoint, none per person.
pub fn after_departure(
    conn: &mut PgConnection,
    access: &OrgAccess,
    people: &[(Uuid, String)],
    disable: bool,
) -> Result<Vec<Event>, AppError> {
    let creators: Vec<Uuid> = people.iter().map(|(id, _)| *id).collect();
    let endpoints = rows::enabled_endpoints_created_by(conn, access.org.org_id(), &creators)?;
    if endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let name_of = |endpoint: &Endpoint| {
        let creator = people.iter().find(|(id, _)| Some(*id) == endpoint.created_by);
        creator.map(|(_, name)| name.clone()).unwrap_or_default()
    };
    if disable {
        let mut events = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let reason = format!("{}, who added it, is no longer a member of the organization.", name_of(&endpoint));
            rows::set_enabled(conn, endpoint.id, false, Some(&reason))?;
            let url = webhook::shown_url(&endpoint.url);
            events.push(Event::WebhookDisabled { endpoint: endpoint.id, url, reason: Some(reason), owner: None });
        }
        return Ok(events);
    }
    let admins: Vec<Uuid> =
        memberships::admins_of(conn, access.org.org_id())?.into_iter().filter(|id| !creators.contains(id)).collect();
    Ok(endpoints
        .into_iter()
        .map(|endpoint| Event::WebhookCreatorLeft {
            endpoint: endpoint.id,
            url: webhook::shown_url(&endpoint.url),
            creator: name_of(&endpoint),
            admins: admins.clone(),
        })
        .collect())
}

/// After a delivery gave up: disables its endpoint if nothing reached it for
/// [`DISABLE_AFTER`], and tells the Owner in the bell.
pub fn after_giving_up(conn: &mut PgConnection, delivery: Uuid) -> Result<(), AppError> {
    let Some(found) = rows::find_delivery(conn, delivery)? else { return Ok(()) };
    let Some(endpoint) = rows::find_endpoint(conn, found.endpoint_id)? else { return Ok(()) };
    let failing_for_days =
        endpoint.failing_since.is_some_and(|since| OffsetDateTime::now_utc() - since >= DISABLE_AFTER);
    if !endpoint.enabled || !failing_for_days {
        return Ok(());
    }
    let Some(org) = organizations::find_by_id(conn, OrgId(endpoint.organization_id))? else { return Ok(()) };
    let reason = format!("nothing it was sent has been accepted for {} days.", DISABLE_AFTER.whole_days());
    rows::set_enabled(conn, endpoint.id, false, Some(&reason))?;
    let owner = memberships::owner_id(conn, org.org_id())?;
    let url = webhook::shown_url(&endpoint.url);
    let event = Event::WebhookDisabled { endpoint: endpoint.id, url, reason: Some(reason), owner };
    Actor::system().record_in(conn, &org, None, &[event])
}

/// The delivery and endpoint a job is about, with the endpoint's secret; `None` when
/// there is nothing to send (the endpoint was deleted).
pub fn to_send(conn: &mut PgConnection, delivery: Uuid) -> QueryResult<Option<(Delivery, Endpoint)>> {
    let Some(found) = rows::find_delivery(conn, delivery)? else { return Ok(None) };
    Ok(rows::find_endpoint(conn, found.endpoint_id)?.map(|endpoint| (found, endpoint)))
}
