//! Dates and times as people read them on the pages.

use time::OffsetDateTime;

/// A date as people read it: "22 Nov 2026".
pub fn format_date(at: OffsetDateTime) -> String {
    crate::domain::dates::day(at)
}

/// A UTC time as people read it: "22 Nov 2026, 14:05 UTC".
pub fn format_datetime(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}

/// How long ago (or how far ahead) `at` is from `now`, as people say it: "just now",
/// "5 minutes ago", "yesterday", "3 days ago", "in 6 days"; past a month, the date.
/// Hand-written rather than a crate: the crates for this word only the past, and the
/// expiry of an invitation is in the future.
/// Counts are rounded to the nearest unit, so an invitation sent a moment ago for
/// 7 days expires "in 7 days", not "in 6 days".
pub fn relative(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (at - now).whole_seconds();
    let (future, seconds) = (seconds > 0, seconds.unsigned_abs());
    if seconds < 60 {
        return if future { "in a moment" } else { "just now" }.to_owned();
    }
    let rounded = |size: u64| (seconds + size / 2) / size;
    let (count, unit) = match (rounded(60), rounded(3_600), rounded(86_400)) {
        (minutes, ..) if minutes < 60 => (minutes, "minute"),
        (_, hours, _) if hours < 24 => (hours, "hour"),
        (.., days) if days < 30 => (days, "day"),
        _ => return format_date(at),
    };
    match (future, count, unit) {
        (false, 1, "day") => "yesterday".to_owned(),
        (true, 1, "day") => "tomorrow".to_owned(),
        (false, ..) => format!("{count} {unit}{} ago", if count == 1 { "" } else { "s" }),
        (true, ..) => format!("in {count} {unit}{}", if count == 1 { "" } else { "s" }),
    }
}

/// A configured length of time in words, in its largest whole unit: "24 hours",
/// "2 days", "90 minutes", "1 minute".
pub fn span(length: std::time::Duration) -> String {
    let seconds = length.as_secs();
    let (count, unit) = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
        .into_iter()
        .find(|(size, _)| seconds >= *size && seconds.is_multiple_of(*size))
        .map_or((seconds, "second"), |(size, unit)| (seconds / size, unit));
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// `text` with its first letter in capitals.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// An ISO 8601 timestamp for a `<time datetime>` attribute.
pub fn machine_time(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// A moment as a table shows it: relative words, with the exact time for hover and focus.
#[derive(Debug, Clone)]
pub struct When {
    pub relative: String,
    pub exact: String,
    pub machine: String,
}

impl When {
    pub fn of(at: OffsetDateTime) -> Self {
        When {
            relative: relative(at, OffsetDateTime::now_utc()),
            exact: format_datetime(at),
            machine: machine_time(at),
        }
    }
}

/// The look of a status badge, by the word it shows (DESIGN.md §1): the same word
/// has the same colour on every page. Good and done, green; waiting, blue; needing
/// someone to act, amber; over, grey; anything else (a role, a level) plain.
pub fn tone(word: impl std::fmt::Display) -> &'static str {
    match word.to_string().as_str() {
        "Active" | "Accepted" | "Verified" | "Enabled" | "Delivered" | "This device" | "On" | "Passkey" | "Reached"
        | "Required" | "Done" => "tone-ok",
        "Pending" | "Queued" | "Retrying" => "tone-info",
        "Expired"
        | "Not verified"
        | "Disabled"
        | "Failed"
        | "Needs a new secret"
        | "Two-factor required"
        | "Suspended" => "tone-warn",
        "Declined" | "Revoked" => "tone-quiet",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_status_word_has_one_look_everywhere() {
        assert_eq!(tone("Active"), tone(crate::domain::InvitationStatus::Accepted));
        assert_eq!(tone(crate::domain::InvitationStatus::Pending), "tone-info");
        assert_eq!(tone(crate::domain::InvitationStatus::Expired), tone("Not verified"));
        assert_eq!(tone(crate::domain::InvitationStatus::Revoked), "tone-quiet");
        assert_eq!(tone(crate::domain::Role::Admin), "", "a role is not a status");
    }

    #[test]
    fn configured_spans_read_in_their_largest_whole_unit() {
        let s = std::time::Duration::from_secs;
        assert_eq!(span(s(86_400)), "1 day");
        assert_eq!(span(s(24 * 3_600 * 3)), "3 days");
        assert_eq!(span(s(36 * 3_600)), "36 hours");
        assert_eq!(span(s(90 * 60)), "90 minutes");
        assert_eq!(span(s(60)), "1 minute");
        assert_eq!(span(s(45)), "45 seconds");
    }

    #[test]
    fn relative_times_read_as_people_say_them() {
        let now = datetime!(2026-12-01 12:00 UTC);
        let at = |minutes: i64| relative(now + time::Duration::minutes(minutes), now);
        assert_eq!(at(0), "just now");
        assert_eq!(at(-1), "1 minute ago");
        assert_eq!(at(-5), "5 minutes ago");
        assert_eq!(at(-180), "3 hours ago");
        assert_eq!(at(-60 * 24), "yesterday");
        assert_eq!(at(-60 * 24 * 3), "3 days ago");
        assert_eq!(at(60 * 24 * 6 + 30), "in 6 days");
        assert_eq!(at(60 * 24), "tomorrow");
        assert_eq!(at(-60 * 24 * 40), "22 Oct 2026");
        // Rounded to the nearest unit: a 7-day invitation sent a moment ago.
        let seconds = |s: i64| relative(now + time::Duration::seconds(s), now);
        assert_eq!(seconds(7 * 86_400 - 5), "in 7 days");
        assert_eq!(seconds(59 * 60 + 50), "in 1 hour", "59 min 50 s is about an hour, never \"60 minutes\"");
        assert_eq!(at(-(23 * 60 + 40)), "yesterday", "23 h 40 min ago");
        assert_eq!(seconds(-100), "2 minutes ago");
        assert_eq!(seconds(-65), "1 minute ago");
        assert_eq!(seconds(5), "in a moment", "a retry in 5 seconds");
        assert_eq!(at(60 * 24 * 30 - 1), "31 Dec 2026", "about 30 days out: the date");
    }
}
