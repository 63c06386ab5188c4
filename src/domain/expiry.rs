//! Access that ends at a date (DESIGN.md §2.12): what carries the date, how a date is
//! typed and moved by `Extend`, and when the reminder is due.

use time::{Date, Duration, OffsetDateTime, Time};
use uuid::Uuid;

use super::team::{AccessLevel, TeamRole};

/// How far ahead an expiry may be set: five years (a longer grant is a permanent one).
pub const MAX_AHEAD: Duration = Duration::days(5 * 366);

/// The choices `Extend` offers besides a date of one's own.
pub const EXTEND_DAYS: [i64; 2] = [30, 90];

/// What a date ends: a membership, a place in a team, or a member's own project grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Membership,
    TeamPlace { team: Uuid, team_name: String, role: TeamRole },
    ProjectGrant { project: Uuid, project_name: String, level: AccessLevel },
}

impl Held {
    /// In words, inside a sentence: "Acme" (the organization's name, given), "team
    /// Platform", "project Apollo".
    pub fn words(&self, org_name: &str) -> String {
        match self {
            Held::Membership => org_name.to_owned(),
            Held::TeamPlace { team_name, .. } => format!("team {team_name}"),
            Held::ProjectGrant { project_name, .. } => format!("project {project_name}"),
        }
    }

    /// The key of what it is, as the `on` of the expiry form and the JSON of events
    /// carry it: `membership`, `team:<id>`, `project:<id>`.
    pub fn key(&self) -> String {
        match self {
            Held::Membership => "membership".to_owned(),
            Held::TeamPlace { team, .. } => format!("team:{team}"),
            Held::ProjectGrant { project, .. } => format!("project:{project}"),
        }
    }
}

/// Which access of a member an expiry form or request is about, as `Held::key` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Membership,
    Team(Uuid),
    Project(Uuid),
}

impl On {
    /// Reads `membership`, `team:<id>` or `project:<id>`.
    pub fn parse(input: &str) -> Option<Self> {
        match input.trim().split_once(':') {
            None if input.trim() == "membership" => Some(On::Membership),
            Some(("team", id)) => Uuid::parse_str(id).ok().map(On::Team),
            Some(("project", id)) => Uuid::parse_str(id).ok().map(On::Project),
            _ => None,
        }
    }

    pub fn key(self) -> String {
        match self {
            On::Membership => "membership".to_owned(),
            On::Team(id) => format!("team:{id}"),
            On::Project(id) => format!("project:{id}"),
        }
    }
}

/// Why a date was refused, in the words the form shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    #[error("Enter a date as YYYY-MM-DD, for example 2027-03-31.")]
    Unreadable,
    #[error("Choose a date after today: access ends at the start of that day (UTC).")]
    NotAhead,
    #[error("Choose a date within five years; leave it empty for access that does not end.")]
    TooFar,
}

/// The start of `date` in UTC: access that "expires on" a date ends as that day begins.
pub fn start_of(date: Date) -> OffsetDateTime {
    date.with_time(Time::MIDNIGHT).assume_utc()
}

/// Reads a date typed in a form (`2027-03-31`, as `<input type="date">` sends it) as
/// the moment access ends; it must be a later day than `now`'s, within [`MAX_AHEAD`].
pub fn parse_date(input: &str, now: OffsetDateTime) -> Result<OffsetDateTime, ExpiryError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(input.trim(), &format).map_err(|_| ExpiryError::Unreadable)?;
    within_bounds(start_of(date), now)
}

/// [`parse_date`] for a field that may be left empty: `None` when nothing was typed.
pub fn parse_optional_date(input: &str, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, ExpiryError> {
    match input.trim() {
        "" => Ok(None),
        typed => parse_date(typed, now).map(Some),
    }
}

/// `at` if it is after today (UTC) and within [`MAX_AHEAD`] of `now`.
pub fn within_bounds(at: OffsetDateTime, now: OffsetDateTime) -> Result<OffsetDateTime, ExpiryError> {
    if at <= start_of(now.date()) + Duration::DAY - Duration::nanoseconds(1) {
        return Err(ExpiryError::NotAhead);
    }
    if at - now > MAX_AHEAD {
        return Err(ExpiryError::TooFar);
    }
    Ok(at)
}

/// `Extend` by `days`: from the current date (or from today, were it already past),
/// to the start of the day that many days later.
pub fn extended_by(
    current: Option<OffsetDateTime>,
    days: i64,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, ExpiryError> {
    let from = current.map_or(now, |at| at.max(now));
    within_bounds(start_of((from + Duration::days(days)).date()), now)
}

/// When the reminder of access ending at `expires_at` is due: `days` before.
pub fn reminder_from(expires_at: OffsetDateTime, days: i32) -> OffsetDateTime {
    expires_at - Duration::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-04 15:30 UTC);

    #[test]
    fn a_typed_date_ends_access_as_that_day_begins() {
        assert_eq!(parse_date("2027-03-31", NOW), Ok(datetime!(2027-03-31 00:00 UTC)));
        assert_eq!(parse_date(" 2026-12-05 ", NOW), Ok(datetime!(2026-12-05 00:00 UTC)));
    }

    #[test]
    fn today_the_past_far_future_and_nonsense_are_refused() {
        assert_eq!(parse_date("2026-12-04", NOW), Err(ExpiryError::NotAhead));
        assert_eq!(parse_date("2025-01-01", NOW), Err(ExpiryError::NotAhead));
        assert_eq!(parse_date("2036-01-01", NOW), Err(ExpiryError::TooFar));
        for bad in ["", "31/03/2027", "2027-02-30", "tomorrow", "2027-3-1x"] {
            assert_eq!(parse_date(bad, NOW), Err(ExpiryError::Unreadable), "{bad:?}");
        }
    }

    #[test]
    fn an_empty_optional_date_is_none_and_a_typed_one_is_read_as_any() {
        assert_eq!(parse_optional_date("  ", NOW), Ok(None));
        assert_eq!(parse_optional_date("2027-03-31", NOW), Ok(Some(datetime!(2027-03-31 00:00 UTC))));
        assert_eq!(parse_optional_date("2026-12-04", NOW), Err(ExpiryError::NotAhead));
    }

    #[test]
    fn extending_counts_from_the_current_date_or_from_today_once_it_passed() {
        let current = datetime!(2026-12-10 00:00 UTC);
        assert_eq!(extended_by(Some(current), 30, NOW), Ok(datetime!(2027-01-09 00:00 UTC)));
        assert_eq!(extended_by(Some(current), 90, NOW), Ok(datetime!(2027-03-10 00:00 UTC)));
        let past = datetime!(2026-11-01 00:00 UTC);
        assert_eq!(extended_by(Some(past), 30, NOW), Ok(datetime!(2027-01-03 00:00 UTC)));
        assert_eq!(extended_by(None, 30, NOW), Ok(datetime!(2027-01-03 00:00 UTC)));
        assert_eq!(extended_by(Some(current), 2000, NOW), Err(ExpiryError::TooFar));
    }

    #[test]
    fn the_reminder_comes_the_chosen_days_before() {
        assert_eq!(reminder_from(datetime!(2026-12-20 00:00 UTC), 7), datetime!(2026-12-13 00:00 UTC));
    }

    #[test]
    fn what_a_date_ends_reads_back_from_its_key() {
        let team = Uuid::new_v4();
        let held = Held::TeamPlace { team, team_name: "Platform".into(), role: TeamRole::Member };
        assert_eq!(On::parse(&held.key()), Some(On::Team(team)));
        assert_eq!(held.words("Acme"), "team Platform");
        assert_eq!(On::parse("membership"), Some(On::Membership));
        assert_eq!(Held::Membership.words("Acme"), "Acme");
        assert_eq!(On::parse(&On::Project(team).key()), Some(On::Project(team)));
        for bad in ["", "team:", "team:nope", "org", "project"] {
            assert_eq!(On::parse(bad), None, "{bad:?}");
        }
    }
}
