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

/// The highest seat limit Roster accepts: more is a typo, not a plan.
pub const MAX_SEAT_LIMIT: i32 = 1_000_000;

/// Why a typed seat limit was refused; `Display` is shown beside the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeatLimitError {
    #[error("Enter the number of seats.")]
    Empty,
    #[error("Enter the seat limit as a whole number, like 50.")]
    NotANumber,
    #[error("The seat limit must be at least 1: the Owner needs a seat.")]
    TooSmall,
    #[error("The seat limit can be at most 1,000,000.")]
    TooLarge,
}

/// Reads a seat limit typed by a person or given on the command line.
pub fn parse_seat_limit(input: &str) -> Result<i32, SeatLimitError> {
    let typed = input.trim();
    if typed.is_empty() {
        return Err(SeatLimitError::Empty);
    }
    // Thousands separators only where they belong ("1,000"), never "1,5".
    let grouped = typed.split(',').collect::<Vec<_>>();
    if grouped.len() > 1 && !grouped.iter().skip(1).all(|g| g.len() == 3) {
        return Err(SeatLimitError::NotANumber);
    }
    let text = typed.replace(',', "");
    let digits = text.strip_prefix('-').unwrap_or(&text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SeatLimitError::NotANumber);
    }
    if text.starts_with('-') {
        return Err(SeatLimitError::TooSmall);
    }
    match text.parse::<i64>() {
        Ok(0) => Err(SeatLimitError::TooSmall),
        Ok(n) if n <= i64::from(MAX_SEAT_LIMIT) => Ok(n as i32),
        _ => Err(SeatLimitError::TooLarge),
    }
}

/// A threshold of seat use that the Owner and Admins hear about when it is crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatAlert {
    /// 90 % or more of the seats are used.
    Near,
    /// Every seat is used.
    Full,
}

impl SeatUsage {
    /// The alert a change from `before` to `self` crosses into, if any: one per
    /// crossing, not one per invitation.
    pub fn crossed_from(&self, before: &SeatUsage) -> Option<SeatAlert> {
        if self.is_full() && !before.is_full() {
            Some(SeatAlert::Full)
        } else if self.is_near_limit() && !before.is_near_limit() && !before.is_full() {
            Some(SeatAlert::Near)
        } else {
            None
        }
    }

    /// Whether 90 % or more of the seats are used.
    pub fn is_near_limit(&self) -> bool {
        self.used() * 10 >= self.limit * 9
    }

    /// Used seats as a whole percentage of the limit (for the meter's words).
    pub fn percent(&self) -> i64 {
        if self.limit <= 0 {
            100
        } else {
            self.used() * 100 / self.limit
        }
    }

    /// Why `Invite Members` is disabled when every seat is used.
    pub fn full_reason(&self) -> String {
        format!(
            "{} of {} seats used — revoke a pending invitation, remove a member, or raise the limit.",
            self.used(),
            self.limit
        )
    }

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
    fn seat_limits_are_whole_numbers_from_one_to_a_million() {
        assert_eq!(parse_seat_limit(" 50 "), Ok(50));
        assert_eq!(parse_seat_limit("1,000"), Ok(1000));
        assert_eq!(parse_seat_limit(""), Err(SeatLimitError::Empty));
        assert_eq!(parse_seat_limit("0"), Err(SeatLimitError::TooSmall));
        assert_eq!(parse_seat_limit("-3"), Err(SeatLimitError::TooSmall));
        assert_eq!(parse_seat_limit("ten"), Err(SeatLimitError::NotANumber));
        assert_eq!(parse_seat_limit("2.5"), Err(SeatLimitError::NotANumber));
        assert_eq!(parse_seat_limit("1,5"), Err(SeatLimitError::NotANumber), "not 15");
        assert_eq!(parse_seat_limit("12,000"), Ok(12_000));
        assert_eq!(parse_seat_limit("1000001"), Err(SeatLimitError::TooLarge));
        assert_eq!(parse_seat_limit("99999999999999999999999"), Err(SeatLimitError::TooLarge));
    }

    #[test]
    fn each_threshold_is_announced_once_when_crossed() {
        let at = |used: i64| SeatUsage { members: used, reserved: 0, limit: 10 };
        assert_eq!(at(9).crossed_from(&at(8)), Some(SeatAlert::Near));
        assert_eq!(at(10).crossed_from(&at(8)), Some(SeatAlert::Full), "straight to full says full");
        assert_eq!(at(10).crossed_from(&at(9)), Some(SeatAlert::Full));
        assert_eq!(at(9).crossed_from(&at(9)), None, "no second notice while near");
        assert_eq!(at(8).crossed_from(&at(7)), None);
        assert_eq!(at(9).crossed_from(&at(10)), None, "freeing a seat is no alert");
        assert_eq!(
            at(10).full_reason(),
            "10 of 10 seats used — revoke a pending invitation, remove a member, or raise the limit."
        );
    }

    #[test]
    fn a_lowered_limit_leaves_no_negative_availability() {
        let usage = SeatUsage { members: 12, reserved: 0, limit: 10 };
        assert_eq!(usage.available(), 0);
        assert!(usage.is_full());
        assert!(usage.reserve(0).is_ok());
    }
}
