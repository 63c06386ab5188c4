//! Two-factor as an organization sees it (DESIGN.md §2.10): what second factor an
//! account has, and where a member stands when their organization requires one.

use time::{Date, Duration, OffsetDateTime, Time};

/// What second factor an account has, as the database keeps it (`users.two_factor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoFactor {
    Off,
    /// An authenticator app.
    On,
    /// At least one passkey (with or without an app).
    Passkey,
}

impl TwoFactor {
    pub fn from_db(value: &str) -> TwoFactor {
        match value {
            "on" => TwoFactor::On,
            "passkey" => TwoFactor::Passkey,
            _ => TwoFactor::Off,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TwoFactor::Off => "off",
            TwoFactor::On => "on",
            TwoFactor::Passkey => "passkey",
        }
    }

    /// The Members page's `Two-factor` column.
    pub fn label(self) -> &'static str {
        match self {
            TwoFactor::Off => "Off",
            TwoFactor::On => "On",
            TwoFactor::Passkey => "Passkey",
        }
    }

    pub fn is_on(self) -> bool {
        self != TwoFactor::Off
    }
}

/// How long members have, by default, to set up two-factor once it is required.
pub const DEFAULT_GRACE: Duration = Duration::days(14);

/// The latest grace date an Owner may choose.
pub const LONGEST_GRACE: Duration = Duration::days(365);

/// Where a member stands with their organization's requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Nothing is asked of them: no requirement, or they have two-factor.
    Clear,
    /// Required from `from`: until then they are reminded.
    Reminded { from: OffsetDateTime },
    /// Required since `since` and they have none: the organization is closed to them.
    Closed { since: OffsetDateTime },
}

/// Where an account with `has` stands in an organization that requires two-factor
/// from `required_from` (if it does), at `now`.
pub fn standing(required_from: Option<OffsetDateTime>, has: TwoFactor, now: OffsetDateTime) -> Standing {
    match required_from {
        Some(_) if has.is_on() => Standing::Clear,
        None => Standing::Clear,
        Some(from) if now < from => Standing::Reminded { from },
        Some(since) => Standing::Closed { since },
    }
}

/// Why a grace date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraceDateError {
    #[error("Enter the date as YYYY-MM-DD, for example 2026-12-18.")]
    NotADate,
    #[error("Choose today or a later date: members need the time to set it up.")]
    InThePast,
    #[error("Choose a date within a year.")]
    TooFar,
}

/// The grace date typed in Settings (`YYYY-MM-DD`, as a date input sends it), as
/// the moment the requirement starts: the beginning of that day, UTC. Today is
/// allowed (the requirement applies at once); the past and more than a year ahead are not.
pub fn parse_grace_date(typed: &str, now: OffsetDateTime) -> Result<OffsetDateTime, GraceDateError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(typed.trim(), &format).map_err(|_| GraceDateError::NotADate)?;
    let today = now.to_offset(time::UtcOffset::UTC).date();
    if date < today {
        return Err(GraceDateError::InThePast);
    }
    if date > today + LONGEST_GRACE {
        return Err(GraceDateError::TooFar);
    }
    Ok(date.with_time(Time::MIDNIGHT).assume_utc())
}

/// The default grace date: 14 days from today, as the date input shows it.
pub fn default_grace_date(now: OffsetDateTime) -> String {
    date_for_input(now + DEFAULT_GRACE)
}

/// A moment's date as a date input shows it (`YYYY-MM-DD`, UTC).
pub fn date_for_input(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    at.to_offset(time::UtcOffset::UTC).date().format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-04 10:30 UTC);

    #[test]
    fn a_member_without_two_factor_is_reminded_until_the_date_then_closed_out() {
        let from = datetime!(2026-12-18 00:00 UTC);
        assert_eq!(standing(Some(from), TwoFactor::Off, NOW), Standing::Reminded { from });
        assert_eq!(standing(Some(from), TwoFactor::Off, from), Standing::Closed { since: from });
        assert_eq!(standing(Some(from), TwoFactor::On, from), Standing::Clear);
        assert_eq!(standing(Some(from), TwoFactor::Passkey, from), Standing::Clear);
        assert_eq!(standing(None, TwoFactor::Off, from), Standing::Clear);
    }

    #[test]
    fn grace_dates_run_from_today_to_a_year_ahead() {
        assert_eq!(parse_grace_date("2026-12-04", NOW), Ok(datetime!(2026-12-04 00:00 UTC)));
        assert_eq!(parse_grace_date(" 2026-12-18 ", NOW), Ok(datetime!(2026-12-18 00:00 UTC)));
        assert_eq!(parse_grace_date("2026-12-03", NOW), Err(GraceDateError::InThePast));
        assert_eq!(parse_grace_date("2027-12-05", NOW), Err(GraceDateError::TooFar));
        assert_eq!(parse_grace_date("18/12/2026", NOW), Err(GraceDateError::NotADate));
        assert_eq!(parse_grace_date("", NOW), Err(GraceDateError::NotADate));
        assert_eq!(default_grace_date(NOW), "2026-12-18");
    }

    #[test]
    fn the_stored_words_read_back() {
        for factor in [TwoFactor::Off, TwoFactor::On, TwoFactor::Passkey] {
            assert_eq!(TwoFactor::from_db(factor.as_str()), factor);
        }
    }
}
