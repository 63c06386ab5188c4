//! Dates in words, the one way pages, notifications and mail write a day.

use time::OffsetDateTime;

/// A day as people read it, in UTC: "22 Nov 2026".
pub fn day(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}
