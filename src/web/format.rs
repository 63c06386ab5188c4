//! Dates and times as people read them on the pages.

use time::OffsetDateTime;

/// A date as people read it: "22 Nov 2026".
pub fn format_date(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    at.format(&format).unwrap_or_default()
}

/// A UTC time as people read it: "22 Nov 2026, 14:05 UTC".
pub fn format_datetime(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}
