//! What every sortable, keyset-paginated table shares: the cursor and LIKE escaping.

use uuid::Uuid;

/// A position in a sorted listing: the sort value and id of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Cursor {
    Text(String, Uuid),
    Time(i128, Uuid),
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
