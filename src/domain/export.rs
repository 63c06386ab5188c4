//! Exports (DESIGN.md §2.13): a table's filtered view as CSV or JSON. CSV is UTF-8
//! with a header row, every field quoted, and cells a spreadsheet would run as a
//! formula defused.

use std::borrow::Cow;

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

/// A field as a spreadsheet should read it: text a spreadsheet would take for a
/// formula (starting with `=`, `+`, `-`, `@`, or a tab or carriage return that hides
/// one) is written as text, behind a `'`, as OWASP advises.
pub fn defused(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// CSV lines written into one buffer by the `csv` crate's writer: every field
/// quoted (quotes doubled) and [`defused`], each line ending with a newline.
pub struct CsvLines(csv::Writer<Vec<u8>>);

impl CsvLines {
    /// Lines that follow `start` (a header row, or nothing).
    pub fn after(start: Vec<u8>) -> Self {
        CsvLines(csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Always).from_writer(start))
    }

    /// Adds a line of `fields`.
    pub fn push<S: AsRef<str>>(&mut self, fields: &[S]) -> csv::Result<()> {
        for field in fields {
            self.0.write_field(defused(field.as_ref()).as_bytes())?;
        }
        self.0.write_record(None::<&[u8]>)
    }

    /// Everything written.
    pub fn into_bytes(self) -> csv::Result<Vec<u8>> {
        self.0.into_inner().map_err(|e| e.into_error().into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One line of `fields`.
    pub fn csv_line(fields: &[&str]) -> String {
        let mut line = CsvLines::after(Vec::new());
        line.push(fields).unwrap();
        String::from_utf8(line.into_bytes().unwrap()).unwrap()
    }

    #[test]
    fn formulas_are_written_as_text_and_quotes_are_doubled() {
        let field = |text: &str| csv_line(&[text]).trim_end_matches('\n').to_owned();
        assert_eq!(field("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"");
        for formula in ["+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(field(formula).starts_with("\"'"), "{formula:?} is defused");
        }
        assert_eq!(field("Ann \"Lee\""), "\"Ann \"\"Lee\"\"\"");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(csv_line(&["x", "y"]), "\"x\",\"y\"\n");
        let mut lines = CsvLines::after(b"a,b\n".to_vec());
        lines.push(&["1", "=2"]).unwrap();
        lines.push(&["", "line\nbreak"]).unwrap();
        assert_eq!(lines.into_bytes().unwrap(), b"a,b\n\"1\",\"'=2\"\n\"\",\"line\nbreak\"\n");
    }
}
