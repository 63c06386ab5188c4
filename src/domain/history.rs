//! Access on a day (DESIGN.md §2.13): which moment a chosen day stands for, and how
//! someone's way to a project began or ended, in words.

use time::{Date, Duration, OffsetDateTime, Time};

use super::AccessLevel;

/// A day whose access is looked up, in UTC (the day expiry dates use): today stands
/// for now, an earlier day for its last moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub date: Date,
    /// The moment whose access it shows.
    pub at: OffsetDateTime,
    pub today: bool,
}

/// Why a day was refused, in the words the form shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DayError {
    #[error("Enter a day as YYYY-MM-DD, for example 2026-11-28.")]
    Unreadable,
    #[error("Choose today or an earlier day: the history shows who could reach it, not who will.")]
    Ahead,
}

impl Day {
    /// Today, standing for `now`.
    pub fn today(now: OffsetDateTime) -> Day {
        Day { date: now.to_offset(time::UtcOffset::UTC).date(), at: now, today: true }
    }

    /// The day typed in a date field (`2026-11-28`); empty is today.
    pub fn parse(input: &str, now: OffsetDateTime) -> Result<Day, DayError> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(Day::today(now));
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = Date::parse(input, &format).map_err(|_| DayError::Unreadable)?;
        let today = Day::today(now);
        match date.cmp(&today.date) {
            std::cmp::Ordering::Greater => Err(DayError::Ahead),
            std::cmp::Ordering::Equal => Ok(today),
            // Periods end where the next begins, to the microsecond the database keeps.
            std::cmp::Ordering::Less => {
                Ok(Day { date, at: start_of(date) + Duration::DAY - Duration::microseconds(1), today: false })
            }
        }
    }

    /// From the start of the day (included) to the start of the next (excluded).
    pub fn bounds(&self) -> (OffsetDateTime, OffsetDateTime) {
        (start_of(self.date), start_of(self.date) + Duration::DAY)
    }

    /// `2026-11-28`, as a date field and a URL carry it.
    pub fn value(&self) -> String {
        iso(self.date)
    }

    /// The day before, as a date field carries it.
    pub fn previous(&self) -> String {
        self.date.previous_day().map(iso).unwrap_or_default()
    }

    /// The day after, unless this is today.
    pub fn next(&self) -> Option<String> {
        (!self.today).then(|| self.date.next_day().map(iso)).flatten()
    }
}

fn start_of(date: Date) -> OffsetDateTime {
    date.with_time(Time::MIDNIGHT).assume_utc()
}

fn iso(date: Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    date.format(&format).unwrap_or_default()
}

/// What began or ended a way to a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A grant (to the member, or to the team) began or ended.
    Grant,
    /// They joined or left the team the grant was given to.
    Place,
}

impl Cause {
    pub fn from_db(text: &str) -> Cause {
        if text == "place" {
            Cause::Place
        } else {
            Cause::Grant
        }
    }
}

/// A way to a project that began or ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub began: bool,
    pub cause: Cause,
    pub level: AccessLevel,
    /// The team the grant was given to (`None`: to the member).
    pub team: Option<String>,
}

impl Turn {
    /// What happened, after the member's name: "lost Write — left team Platform".
    pub fn sentence(&self) -> String {
        let level = self.level;
        let what = if self.began { format!("gained {level}") } else { format!("lost {level}") };
        let why = match (&self.team, self.began, self.cause) {
            (None, true, _) => "granted to them directly".to_owned(),
            (None, false, _) => "their own grant ended".to_owned(),
            (Some(team), true, Cause::Place) => format!("joined team {team}"),
            (Some(team), false, Cause::Place) => format!("left team {team}"),
            (Some(team), true, Cause::Grant) => format!("team {team} was granted it"),
            (Some(team), false, Cause::Grant) => format!("team {team}'s grant ended"),
        };
        format!("{what} — {why}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2026-12-05 10:30 UTC);

    #[test]
    fn today_stands_for_now_and_an_earlier_day_for_its_last_moment() {
        assert_eq!(Day::parse("", NOW), Ok(Day { date: date!(2026 - 12 - 05), at: NOW, today: true }));
        assert_eq!(Day::parse("2026-12-05", NOW).map(|d| d.at), Ok(NOW));
        let day = Day::parse(" 2026-11-28 ", NOW).unwrap();
        assert_eq!(day.at, datetime!(2026-11-28 23:59:59.999999 UTC));
        assert_eq!(day.bounds(), (datetime!(2026-11-28 00:00 UTC), datetime!(2026-11-29 00:00 UTC)));
        assert_eq!(
            (day.value(), day.previous(), day.next()),
            ("2026-11-28".into(), "2026-11-27".into(), Some("2026-11-29".into()))
        );
        assert_eq!(Day::today(NOW).next(), None);
    }

    #[test]
    fn a_later_day_or_an_unreadable_one_is_refused() {
        assert_eq!(Day::parse("2026-12-06", NOW), Err(DayError::Ahead));
        assert_eq!(Day::parse("28/11/2026", NOW), Err(DayError::Unreadable));
        assert_eq!(Day::parse("2026-02-30", NOW), Err(DayError::Unreadable));
    }

    #[test]
    fn each_turn_says_what_it_gave_or_took_and_why() {
        let turn = |began, cause, team: Option<&str>| {
            Turn { began, cause, level: AccessLevel::Write, team: team.map(str::to_owned) }.sentence()
        };
        assert_eq!(turn(true, Cause::Grant, None), "gained Write — granted to them directly");
        assert_eq!(turn(false, Cause::Grant, None), "lost Write — their own grant ended");
        assert_eq!(turn(true, Cause::Place, Some("Platform")), "gained Write — joined team Platform");
        assert_eq!(turn(false, Cause::Place, Some("Platform")), "lost Write — left team Platform");
        assert_eq!(turn(true, Cause::Grant, Some("Platform")), "gained Write — team Platform was granted it");
        assert_eq!(turn(false, Cause::Grant, Some("Platform")), "lost Write — team Platform's grant ended");
    }
}
