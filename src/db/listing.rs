//! What every sortable, keyset-paginated table shares: the cursor and LIKE escaping.

use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::sql_types::{Bool, Text};
use uuid::Uuid;

/// A position in a sorted listing: the sort value and id of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Cursor {
    Text(String, Uuid),
    Time(i128, Uuid),
}

/// The keyset condition "after the cursor" as one row comparison, `(key, id) > ($1, $2)`
/// (`<` when descending): PostgreSQL seeks an index on (…, key, id) straight to
/// the cursor, where the equivalent `key > $1 OR (key = $1 AND id > $2)` reads
/// every row before it (measured: 0.1 ms against 184 ms for a page deep in
/// 100,000 teams). `key` and `id` are SQL of our own, never user input.
pub fn after_text<QS>(
    key: &str,
    id_column: &str,
    descending: bool,
    value: String,
    id: Uuid,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    let op = if descending { "<" } else { ">" };
    Box::new(
        sql::<Bool>(&format!("({key}, {id_column}) {op} ("))
            .bind::<Text, _>(value)
            .sql(", ")
            .bind::<diesel::sql_types::Uuid, _>(id)
            .sql(")"),
    )
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
