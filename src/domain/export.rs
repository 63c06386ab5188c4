//! Exports (DESIGN.md §2.13): a table's filtered view as CSV or JSON. CSV is UTF-8
//! with a header row, every field quoted, and cells a spreadsheet would run as a
//! formula defused.

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// From a path's extension: `csv` or `json`.
    pub fn from_extension(extension: &str) -> Option<Format> {
        match extension {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// One CSV field: quoted, with quotes doubled. A field a spreadsheet would take for a
/// formula (starting with `=`, `+`, `-`, `@`, or a tab or carriage return that hides
/// one) is written as text, behind a `'`, as OWASP advises.
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// One CSV line of `fields`, ending with a newline.
pub fn csv_line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f.as_ref())).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_written_as_text_and_quotes_are_doubled() {
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"");
        for formula in ["+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(csv_field(formula).starts_with("\"'"), "{formula:?} is defused");
        }
        assert_eq!(csv_field("Ann \"Lee\""), "\"Ann \"\"Lee\"\"\"");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_line(&["x", "y"]), "\"x\",\"y\"\n");
    }
}
