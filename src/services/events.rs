//! Records events (DESIGN.md §2.7): each becomes an audit row and the notifications
//! it implies, written in the transaction of the change.

use diesel::PgConnection;
use uuid::Uuid;

use super::access::OrgAccess;
pub use super::actor::Actor;
use crate::db::audit::{self, NewAuditEvent};
use crate::db::notifications::{self, NewNotification};
use crate::db::organizations::Organization;
use crate::db::users::User;
use crate::domain::Principal;
use crate::error::AppError;

pub use crate::domain::event::{Event, EventKind};

/// Recording: what an actor did becomes audit rows, notifications and webhook deliveries.
impl Actor {
    /// Records what this actor did in `access.org`.
    pub fn record(&self, conn: &mut PgConnection, access: &OrgAccess, events: &[Event]) -> Result<(), AppError> {
        self.record_in(conn, &access.org, access.user(), events)
    }

    /// Records what this actor did in `org`: one audit row per event and the
    /// notifications they imply, each kind in one statement. `person` is the
    /// account of the person acting (ignored for any other principal): the audit
    /// log names them by it.
    pub fn record_in(
        &self,
        conn: &mut PgConnection,
        org: &Organization,
        person: Option<&User>,
        events: &[Event],
    ) -> Result<(), AppError> {
        match (&self.principal, person) {
            (Principal::Person(id), Some(user)) => {
                let label = format!("{} <{}>", user.name, user.email);
                let by = By { id: Some(id.0), label: &label, name: &user.name, at: self.at, batch: self.batch };
                write(conn, org, &by, self.request_id.clone(), events)
            }
            (Principal::Person(_), None) => {
                Err(AppError::internal(anyhow::anyhow!("a person acts without an account")))
            }
            (principal, _) => {
                let name = principal.name().unwrap_or_default();
                let by = By { id: None, label: &name, name: &name, at: self.at, batch: self.batch };
                write(conn, org, &by, self.request_id.clone(), events)
            }
        }
    }
}

/// Records what an invitee did with the emailed link alone, signed in to no account
/// (declining needs none): the audit log names them by their address.
pub fn record_by_link(
    conn: &mut PgConnection,
    org: &Organization,
    email: &str,
    request_id: Option<String>,
    events: &[Event],
) -> Result<(), AppError> {
    let label = format!("{email} (by the emailed link)");
    write(conn, org, &By { id: None, label: &label, name: email, at: None, batch: None }, request_id, events)
}

/// Records what the operator did from the command line (`roster set-seats`): the
/// audit log names the command.
pub fn record_by_operator(
    conn: &mut PgConnection,
    org: &Organization,
    command: &str,
    events: &[Event],
) -> Result<(), AppError> {
    let label = format!("Operator (roster {command})");
    write(conn, org, &By { id: None, label: &label, name: "The operator", at: None, batch: None }, None, events)
}

/// Records what a client of the API did with a secret that no longer acts (a revoked
/// key): nobody known acts, so the audit log names the client.
pub fn record_by_api_client(
    conn: &mut PgConnection,
    org: &Organization,
    request_id: Option<String>,
    events: &[Event],
) -> Result<(), AppError> {
    write(
        conn,
        org,
        &By { id: None, label: "An API client", name: "An API client", at: None, batch: None },
        request_id,
        events,
    )
}

/// Who events are recorded as: their account (if any), their label in the audit
/// log, their name in notifications, and when they acted (`None`: now).
struct By<'a> {
    id: Option<Uuid>,
    label: &'a str,
    name: &'a str,
    at: Option<time::OffsetDateTime>,
    /// The bulk action the events are part of.
    batch: Option<Uuid>,
}

/// One audit row per event and the notifications they imply, each kind in one
/// statement, and the webhook deliveries they cause.
fn write(
    conn: &mut PgConnection,
    org: &Organization,
    by: &By<'_>,
    request_id: Option<String>,
    events: &[Event],
) -> Result<(), AppError> {
    let (actor_id, actor_label, actor_name) = (by.id, by.label, by.name);
    let rows: Vec<NewAuditEvent> = events
        .iter()
        .map(|event| {
            let (before, after) = event.change();
            NewAuditEvent {
                id: Uuid::new_v4(),
                organization_id: Some(org.id),
                actor_id,
                actor_label: actor_label.to_owned(),
                action: event.kind().key().to_owned(),
                target_label: event.target().to_owned(),
                before,
                after,
                request_id: request_id.clone(),
                created_at: by.at,
                batch_id: by.batch,
            }
        })
        .collect();
    let notes: Vec<NewNotification> = events
        .iter()
        .flat_map(|event| {
            let notices = event.notices(actor_name).into_iter();
            notices.filter(move |n| event.tells_actor() || Some(n.recipient) != actor_id).map(move |notice| {
                let mut payload = notice.payload;
                // Enough to word and link the notification even after a rename.
                if let Some(map) = payload.as_object_mut() {
                    map.insert("organization".into(), serde_json::json!(org.name));
                    map.insert("slug".into(), serde_json::json!(org.slug));
                }
                NewNotification {
                    id: Uuid::new_v4(),
                    recipient_id: notice.recipient,
                    kind: event.kind().key().to_owned(),
                    organization_id: Some(org.id),
                    subject_id: Some(notice.subject),
                    payload,
                    created_at: by.at,
                }
            })
        })
        .collect();
    audit::insert_many(conn, &rows)?;
    notifications::insert_many(conn, &notes)?;
    super::deliveries::queue(conn, org, actor_label, request_id.as_deref(), events)
}
