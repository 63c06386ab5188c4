//! Webhook deliveries, queued in the transaction of the change they report (DESIGN.md
//! §2.9): one per event a webhook carries and enabled endpoint that receives it, each
//! with a job that delivers it. Recording an event calls this; nothing here records one.

use diesel::PgConnection;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::jobs;
use crate::db::organizations::Organization;
use crate::db::webhooks::{self as rows, Endpoint, WEBHOOK_JOB};
use crate::domain::event::Event;
use crate::domain::webhook;
use crate::error::AppError;

/// Queues a delivery of each of `events` that webhooks carry to each enabled endpoint
/// of `org` that receives it: in the caller's transaction, so a change and its
/// deliveries are committed together or not at all.
pub fn queue(
    conn: &mut PgConnection,
    org: &Organization,
    actor: &str,
    request_id: Option<&str>,
    events: &[Event],
) -> Result<(), AppError> {
    if !events.iter().any(|e| webhook::is_sent(e.kind().key())) {
        return Ok(());
    }
    let endpoints = rows::enabled_endpoints_of(conn, org.org_id())?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let (mut deliveries, mut jobs_to_run) = (Vec::new(), Vec::new());
    for event in events {
        let kind = event.kind().key();
        let receivers: Vec<&Endpoint> = endpoints.iter().filter(|e| webhook::receives(&e.events, kind)).collect();
        if receivers.is_empty() {
            continue;
        }
        let (before, after) = event.change();
        let mut data = json!({
            "organization": { "id": org.id, "slug": org.slug, "name": org.name },
            "actor": actor,
            "target": event.target(),
            "before": before,
            "after": after,
            "request_id": request_id,
        });
        if let (Some(data), Value::Object(ids)) = (data.as_object_mut(), event.subject_ids()) {
            data.extend(ids);
        }
        let body = json!({
            "type": kind,
            "timestamp": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "data": data,
        })
        .to_string();
        for endpoint in receivers {
            let id = Uuid::new_v4();
            deliveries.push((id, endpoint.id, kind.to_owned(), body.clone()));
            jobs_to_run.push(json!({ "delivery": id }));
        }
    }
    rows::insert_deliveries(conn, &deliveries)?;
    jobs::enqueue_many(conn, WEBHOOK_JOB, &jobs_to_run)?;
    Ok(())
}
