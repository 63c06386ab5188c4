//! Exports are audited (DESIGN.md §2.13): who exported which view, as what, and how
//! many rows it held, once the last row is written.

use diesel::PgConnection;

use super::access;
use super::events::{Actor, Event};
use crate::domain::export::Format;
use crate::domain::Slug;
use crate::error::AppError;

/// Records that `actor` exported `what` ("the Members view") of the organization at
/// `slug` as `format`: `rows` rows.
pub fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    what: &str,
    format: Format,
    rows: usize,
) -> Result<(), AppError> {
    let access = access::acting(conn, slug, actor)?;
    let event = Event::ExportCreated { what: what.to_owned(), format: format.as_str().to_owned(), rows };
    actor.record(conn, &access, &[event])
}
