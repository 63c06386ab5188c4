//! Seat arithmetic (DESIGN.md §2.2): members plus pending, unexpired invitations, against the limit.

/// The three figures of the Seat Usage page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatUsage {
    /// Active memberships, the Owner included.
    pub members: i64,
    /// Pending, unexpired invitations.
    pub reserved: i64,
    pub limit: i64,
}

/// Refusal of a change that would use more seats than the limit allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Not enough seats: this needs {needed} {seats_word}, {available} available. Revoke stale invitations or remove inactive members to free seats.", seats_word = if *.needed == 1 { "seat" } else { "seats" })]
pub struct NotEnoughSeats {
    pub needed: i64,
    pub available: i64,
}

impl SeatUsage {
    pub fn used(&self) -> i64 {
        self.members + self.reserved
    }

    /// Seats still free (never negative, even if the limit was lowered below use).
    pub fn available(&self) -> i64 {
        (self.limit - self.used()).max(0)
    }

    pub fn is_full(&self) -> bool {
        self.available() == 0
    }

    /// Whether `needed` more seats fit; existing members are never affected.
    pub fn reserve(&self, needed: i64) -> Result<(), NotEnoughSeats> {
        if needed <= self.available() {
            Ok(())
        } else {
            Err(NotEnoughSeats { needed, available: self.available() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_pending_invitations_both_use_seats() {
        let usage = SeatUsage { members: 40, reserved: 5, limit: 50 };
        assert_eq!(usage.used(), 45);
        assert_eq!(usage.available(), 5);
        assert!(usage.reserve(5).is_ok());
        let refused = usage.reserve(12).unwrap_err();
        assert_eq!(refused, NotEnoughSeats { needed: 12, available: 5 });
        assert!(refused.to_string().contains("needs 12 seats, 5 available"));
        assert!(NotEnoughSeats { needed: 1, available: 0 }.to_string().contains("needs 1 seat, 0 available"));
    }

    #[test]
    fn a_lowered_limit_leaves_no_negative_availability() {
        let usage = SeatUsage { members: 12, reserved: 0, limit: 10 };
        assert_eq!(usage.available(), 0);
        assert!(usage.is_full());
        assert!(usage.reserve(0).is_ok());
    }
}
