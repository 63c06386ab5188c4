//! The one event vocabulary (DESIGN.md §2.7), feeding the audit log and notifications.

use diesel::PgConnection;
use uuid::Uuid;

use super::access::OrgAccess;
use crate::db::audit::{self, NewAuditEvent};
use crate::db::notifications::{self, NewNotification};
use crate::db::organizations::Organization;
use crate::db::users::User;
use crate::domain::UserId;
use crate::error::AppError;

pub const INVITATION_CREATED: &str = "invitation.created";
pub const INVITATION_RESENT: &str = "invitation.resent";
pub const INVITATION_REVOKED: &str = "invitation.revoked";
pub const INVITATION_LINK_COPIED: &str = "invitation.link_copied";
pub const INVITATION_ACCEPTED: &str = "invitation.accepted";
pub const INVITATION_DECLINED: &str = "invitation.declined";
pub const MEMBER_ROLE_CHANGED: &str = "member.role_changed";
pub const MEMBER_REMOVED: &str = "member.removed";
pub const MEMBER_LEFT: &str = "member.left";
pub const MEMBER_VERIFICATION_RESENT: &str = "member.verification_resent";
pub const OWNERSHIP_TRANSFERRED: &str = "ownership.transferred";
pub const ORGANIZATION_CREATED: &str = "organization.created";
pub const SEATS_LIMIT_REACHED: &str = "seats.limit_reached";

/// Every action the audit log records, for its filter.
pub const ALL_ACTIONS: [&str; 13] = [
    INVITATION_CREATED,
    INVITATION_RESENT,
    INVITATION_REVOKED,
    INVITATION_LINK_COPIED,
    INVITATION_ACCEPTED,
    INVITATION_DECLINED,
    MEMBER_ROLE_CHANGED,
    MEMBER_REMOVED,
    MEMBER_LEFT,
    MEMBER_VERIFICATION_RESENT,
    OWNERSHIP_TRANSFERRED,
    ORGANIZATION_CREATED,
    SEATS_LIMIT_REACHED,
];

/// Who is acting, and the request it happens in (for the audit log).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: UserId,
    pub request_id: Option<String>,
}

fn label(user: &User) -> String {
    format!("{} <{}>", user.name, user.email)
}

impl Actor {
    /// An audit event by this actor, a member of `access.org`.
    pub fn event(
        &self,
        access: &OrgAccess,
        action: &str,
        target: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> NewAuditEvent {
        self.event_in(&access.org, &access.user, action, target, before, after)
    }

    /// An audit event in `org` by this actor, whose account is `user`.
    pub fn event_in(
        &self,
        org: &Organization,
        user: &User,
        action: &str,
        target: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> NewAuditEvent {
        NewAuditEvent {
            id: Uuid::new_v4(),
            organization_id: Some(org.id),
            actor_id: Some(self.user.0),
            actor_label: label(user),
            action: action.to_owned(),
            target_label: target.to_owned(),
            before,
            after,
            request_id: self.request_id.clone(),
        }
    }
}

/// A notification for `recipient` about `subject` in `org`.
pub fn notification(
    recipient: Uuid,
    kind: &str,
    org: &Organization,
    subject: Uuid,
    mut payload: serde_json::Value,
) -> NewNotification {
    if let Some(map) = payload.as_object_mut() {
        map.insert("organization".into(), serde_json::json!(org.name));
        map.insert("slug".into(), serde_json::json!(org.slug));
    }
    NewNotification {
        id: Uuid::new_v4(),
        recipient_id: recipient,
        kind: kind.to_owned(),
        organization_id: Some(org.id),
        subject_id: Some(subject),
        payload,
    }
}

/// Writes audit events and notifications, each kind in one statement.
pub fn record(conn: &mut PgConnection, events: &[NewAuditEvent], notes: &[NewNotification]) -> Result<(), AppError> {
    audit::insert_many(conn, events)?;
    notifications::insert_many(conn, notes)?;
    Ok(())
}
