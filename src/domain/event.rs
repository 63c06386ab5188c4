//! The one event vocabulary (DESIGN.md §2.7): what happened, from which the audit
//! row, the notifications and (later) webhook payloads are derived.
//!
//! Adding an event is adding one variant: its name comes with it (`EventKind`,
//! derived), and the compiler asks for its audit wording and who is told.

use serde_json::{json, Value};
use strum::{EnumDiscriminants, IntoStaticStr, VariantArray};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{InvitationStatus, Role};

/// Something that happened in an organization, with what the audit log and the
/// people concerned need to know about it.
#[derive(Debug, Clone, PartialEq, EnumDiscriminants)]
#[strum_discriminants(name(EventKind), derive(Hash, IntoStaticStr, VariantArray))]
pub enum Event {
    #[strum_discriminants(strum(serialize = "invitation.created"))]
    InvitationCreated { email: String, role: Role, expires_at: OffsetDateTime },
    #[strum_discriminants(strum(serialize = "invitation.resent"))]
    InvitationResent { email: String, expired_at: OffsetDateTime, expires_at: OffsetDateTime, send_count: i32 },
    #[strum_discriminants(strum(serialize = "invitation.revoked"))]
    InvitationRevoked { email: String, was: InvitationStatus },
    #[strum_discriminants(strum(serialize = "invitation.link_copied"))]
    InvitationLinkCopied { email: String },
    /// Accepted by its invitee; the inviter, if still known, is told.
    #[strum_discriminants(strum(serialize = "invitation.accepted"))]
    InvitationAccepted { invitation: Uuid, email: String, role: Role, inviter: Option<Uuid> },
    /// Declined by its invitee; the inviter, if still known, is told.
    #[strum_discriminants(strum(serialize = "invitation.declined"))]
    InvitationDeclined { invitation: Uuid, email: String, role: Role, inviter: Option<Uuid> },
    #[strum_discriminants(strum(serialize = "member.role_changed"))]
    MemberRoleChanged { membership: Uuid, user: Uuid, email: String, from: Role, to: Role },
    #[strum_discriminants(strum(serialize = "member.removed"))]
    MemberRemoved { membership: Uuid, user: Uuid, email: String, role: Role },
    #[strum_discriminants(strum(serialize = "member.left"))]
    MemberLeft { email: String, role: Role },
    #[strum_discriminants(strum(serialize = "member.verification_resent"))]
    MemberVerificationResent { email: String },
    /// `user` (membership `membership`, until now `previous_role`) became the Owner;
    /// the previous Owner, `previous_owner`, is an Admin now.
    #[strum_discriminants(strum(serialize = "ownership.transferred"))]
    OwnershipTransferred { membership: Uuid, user: Uuid, email: String, previous_role: Role, previous_owner: String },
    #[strum_discriminants(strum(serialize = "organization.created"))]
    OrganizationCreated { name: String, slug: String, seat_limit: i32 },
    /// The Owner changed the name or URL name; the old URL name redirects.
    #[strum_discriminants(strum(serialize = "organization.renamed"))]
    OrganizationRenamed { from_name: String, from_slug: String, name: String, slug: String },
    /// The last free seat was taken; `admins` (the Owner and Admins) are told.
    #[strum_discriminants(strum(serialize = "seats.limit_reached"))]
    SeatsLimitReached { organization: Uuid, org_name: String, limit: i64, admins: Vec<Uuid> },
}

impl EventKind {
    /// The stored name, e.g. `invitation.created`.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// What the Audit Log's filter calls it.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::InvitationCreated => "Invitation sent",
            EventKind::InvitationResent => "Invitation resent",
            EventKind::InvitationRevoked => "Invitation revoked",
            EventKind::InvitationLinkCopied => "Invitation link copied",
            EventKind::InvitationAccepted => "Invitation accepted",
            EventKind::InvitationDeclined => "Invitation declined",
            EventKind::MemberRoleChanged => "Role changed",
            EventKind::MemberRemoved => "Member removed",
            EventKind::MemberLeft => "Member left",
            EventKind::MemberVerificationResent => "Verification email resent",
            EventKind::OwnershipTransferred => "Ownership transferred",
            EventKind::OrganizationCreated => "Organization created",
            EventKind::OrganizationRenamed => "Organization renamed",
            EventKind::SeatsLimitReached => "Seat limit reached",
        }
    }

    /// Every kind, in the order they are declared (for the Audit Log's filter).
    pub fn all() -> &'static [EventKind] {
        Self::VARIANTS
    }

    /// Reads a stored name.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::VARIANTS.iter().copied().find(|k| k.key() == key)
    }
}

/// One person to tell about an event: who, what it is about, and the details shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub recipient: Uuid,
    pub subject: Uuid,
    pub payload: Value,
}

impl Event {
    /// Its name in the vocabulary.
    pub fn kind(&self) -> EventKind {
        self.into()
    }

    /// What the audit log names as the event's target.
    pub fn target(&self) -> &str {
        match self {
            Event::OrganizationCreated { name, .. }
            | Event::OrganizationRenamed { name, .. }
            | Event::SeatsLimitReached { org_name: name, .. } => name,
            Event::InvitationCreated { email, .. }
            | Event::InvitationResent { email, .. }
            | Event::InvitationRevoked { email, .. }
            | Event::InvitationLinkCopied { email }
            | Event::InvitationAccepted { email, .. }
            | Event::InvitationDeclined { email, .. }
            | Event::MemberRoleChanged { email, .. }
            | Event::MemberRemoved { email, .. }
            | Event::MemberLeft { email, .. }
            | Event::MemberVerificationResent { email }
            | Event::OwnershipTransferred { email, .. } => email,
        }
    }

    /// The audit log's before → after, as JSON objects of the fields that changed.
    pub fn change(&self) -> (Option<Value>, Option<Value>) {
        match self {
            Event::OrganizationCreated { slug, seat_limit, .. } => {
                (None, Some(json!({ "slug": slug, "seat_limit": seat_limit })))
            }
            Event::OrganizationRenamed { from_name, from_slug, name, slug } => {
                (Some(json!({ "name": from_name, "slug": from_slug })), Some(json!({ "name": name, "slug": slug })))
            }
            Event::InvitationCreated { role, expires_at, .. } => {
                (None, Some(json!({ "role": role.as_str(), "expires_at": expires_at.unix_timestamp() })))
            }
            Event::InvitationResent { expired_at, expires_at, send_count, .. } => (
                Some(json!({ "expires_at": expired_at.unix_timestamp() })),
                Some(json!({ "expires_at": expires_at.unix_timestamp(), "send_count": send_count })),
            ),
            Event::InvitationRevoked { was, .. } => {
                (Some(json!({ "status": was.key() })), Some(json!({ "status": InvitationStatus::Revoked.key() })))
            }
            Event::InvitationAccepted { role, .. } => (
                Some(json!({ "status": InvitationStatus::Pending.key() })),
                Some(json!({ "status": InvitationStatus::Accepted.key(), "role": role.as_str() })),
            ),
            Event::InvitationDeclined { role, .. } => (
                Some(json!({ "status": InvitationStatus::Pending.key() })),
                Some(json!({ "status": InvitationStatus::Declined.key(), "role": role.as_str() })),
            ),
            Event::MemberRoleChanged { from, to, .. } => {
                (Some(json!({ "role": from.as_str() })), Some(json!({ "role": to.as_str() })))
            }
            Event::MemberRemoved { role, .. } | Event::MemberLeft { role, .. } => {
                (Some(json!({ "role": role.as_str() })), None)
            }
            Event::OwnershipTransferred { email, previous_role, previous_owner, .. } => (
                Some(json!({ "owner": previous_owner, "new_owner_role": previous_role.as_str() })),
                Some(json!({ "owner": email, "previous_owner_role": Role::Admin.as_str() })),
            ),
            Event::SeatsLimitReached { limit, .. } => (None, Some(json!({ "limit": limit }))),
            Event::InvitationLinkCopied { .. } | Event::MemberVerificationResent { .. } => (None, None),
        }
    }

    /// The people this event concerns (DESIGN.md §2.7), told in-app. `actor_name`
    /// is the name of whoever caused it.
    pub fn notices(&self, actor_name: &str) -> Vec<Notice> {
        match self {
            Event::InvitationAccepted { invitation, email, role, inviter }
            | Event::InvitationDeclined { invitation, email, role, inviter } => inviter
                .map(|inviter| Notice {
                    recipient: inviter,
                    subject: *invitation,
                    payload: json!({ "email": email, "name": actor_name, "role": role.as_str() }),
                })
                .into_iter()
                .collect(),
            Event::MemberRoleChanged { membership, user, from, to, .. } => vec![Notice {
                recipient: *user,
                subject: *membership,
                payload: json!({ "from": from.as_str(), "to": to.as_str(), "by": actor_name }),
            }],
            Event::MemberRemoved { membership, user, .. } | Event::OwnershipTransferred { membership, user, .. } => {
                vec![Notice { recipient: *user, subject: *membership, payload: json!({ "by": actor_name }) }]
            }
            Event::SeatsLimitReached { organization, limit, admins, .. } => admins
                .iter()
                .map(|admin| Notice { recipient: *admin, subject: *organization, payload: json!({ "limit": limit }) })
                .collect(),
            Event::OrganizationCreated { .. }
            | Event::OrganizationRenamed { .. }
            | Event::InvitationCreated { .. }
            | Event::InvitationResent { .. }
            | Event::InvitationRevoked { .. }
            | Event::InvitationLinkCopied { .. }
            | Event::MemberLeft { .. }
            | Event::MemberVerificationResent { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_dotted_name_that_reads_back() {
        for kind in EventKind::VARIANTS {
            assert!(kind.key().contains('.'), "{kind:?} is named {}", kind.key());
            assert_eq!(EventKind::from_key(kind.key()), Some(*kind));
        }
        assert_eq!(EventKind::from_key("invitation.created"), Some(EventKind::InvitationCreated));
        assert_eq!(EventKind::from_key("InvitationCreated"), None);
    }

    #[test]
    fn a_role_change_tells_the_member_and_records_before_and_after() {
        let (membership, user) = (Uuid::new_v4(), Uuid::new_v4());
        let event = Event::MemberRoleChanged {
            membership,
            user,
            email: "ada@example.com".into(),
            from: Role::Member,
            to: Role::Admin,
        };
        assert_eq!(event.kind().key(), "member.role_changed");
        assert_eq!(event.target(), "ada@example.com");
        assert_eq!(event.change(), (Some(json!({ "role": "member" })), Some(json!({ "role": "admin" }))));
        let notices = event.notices("Olivia");
        assert_eq!(notices.len(), 1);
        assert_eq!((notices[0].recipient, notices[0].subject), (user, membership));
        assert_eq!(notices[0].payload, json!({ "from": "member", "to": "admin", "by": "Olivia" }));
    }

    #[test]
    fn an_answer_tells_the_inviter_only_when_there_is_one() {
        let answered = |inviter| Event::InvitationDeclined {
            invitation: Uuid::new_v4(),
            email: "ada@example.com".into(),
            role: Role::Member,
            inviter,
        };
        assert!(answered(None).notices("Ada").is_empty());
        let inviter = Uuid::new_v4();
        assert_eq!(answered(Some(inviter)).notices("Ada")[0].recipient, inviter);
    }
}
