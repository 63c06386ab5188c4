//! The invitation lifecycle (DESIGN.md §2.3): pending → accepted | declined | revoked | expired.

use time::OffsetDateTime;

/// What an invitation's status badge says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

impl InvitationStatus {
    /// The status of a stored invitation at `now`: a pending one past its expiry is expired.
    /// This is the `expire` transition: nothing is written, time alone moves it.
    pub fn at(self, expires_at: OffsetDateTime, now: OffsetDateTime) -> InvitationStatus {
        match self {
            InvitationStatus::Pending if expires_at <= now => InvitationStatus::Expired,
            other => other,
        }
    }

    /// The value stored in the database. `Expired` is never stored (time makes a
    /// pending invitation expired), and the column's CHECK constraint refuses it.
    pub fn as_str(self) -> &'static str {
        self.key()
    }

    /// Reads a stored value; anything else, `expired` included, is `None`.
    pub fn from_db(value: &str) -> Option<Self> {
        Self::from_key(value).filter(|s| *s != InvitationStatus::Expired)
    }

    pub fn label(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "Pending",
            InvitationStatus::Accepted => "Accepted",
            InvitationStatus::Declined => "Declined",
            InvitationStatus::Revoked => "Revoked",
            InvitationStatus::Expired => "Expired",
        }
    }

    /// The name used in URLs (`?status=expired`).
    pub fn key(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Declined => "declined",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Expired => "expired",
        }
    }

    pub fn from_key(key: &str) -> Option<InvitationStatus> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    pub const ALL: [InvitationStatus; 5] = [
        InvitationStatus::Pending,
        InvitationStatus::Expired,
        InvitationStatus::Accepted,
        InvitationStatus::Declined,
        InvitationStatus::Revoked,
    ];

    /// Pending and expired invitations can still be resent; the others are final.
    pub fn can_resend(self) -> bool {
        matches!(self, InvitationStatus::Pending | InvitationStatus::Expired)
    }

    /// Only a pending invitation can be accepted or declined.
    pub fn can_respond(self) -> bool {
        self == InvitationStatus::Pending
    }
}

impl std::fmt::Display for InvitationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_pending_invitation_past_its_expiry_is_expired() {
        let now = datetime!(2026-11-22 12:00 UTC);
        let later = datetime!(2026-11-29 12:00 UTC);
        assert_eq!(InvitationStatus::Pending.at(later, now), InvitationStatus::Pending);
        assert_eq!(InvitationStatus::Pending.at(now, now), InvitationStatus::Expired);
        assert_eq!(InvitationStatus::Accepted.at(now, later), InvitationStatus::Accepted);
        assert_eq!(InvitationStatus::Revoked.at(later, now), InvitationStatus::Revoked);
        assert!(InvitationStatus::Expired.can_resend() && !InvitationStatus::Expired.can_respond());
        assert!(!InvitationStatus::Declined.can_resend());
    }

    #[test]
    fn stored_values_round_trip_and_expired_is_never_stored() {
        for status in InvitationStatus::ALL.into_iter().filter(|s| *s != InvitationStatus::Expired) {
            assert_eq!(InvitationStatus::from_db(status.as_str()), Some(status));
        }
        assert_eq!(InvitationStatus::from_db("expired"), None);
        assert_eq!(InvitationStatus::from_db("Pending"), None);
    }

    #[test]
    fn url_keys_round_trip() {
        for status in InvitationStatus::ALL {
            assert_eq!(InvitationStatus::from_key(status.key()), Some(status));
        }
    }
}
