//! What sortable, filterable, keyset-paginated tables share: their state in the
//! URL (filters, sort column and direction, cursor), the links built from it, and
//! the answer to an action on one row.

use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{de::DeserializeOwned, Serialize};

use super::htmx::{is_htmx, page, redirect};
use super::layout::Frame;
use super::session::FlashLevel;
use crate::error::AppError;

/// The query string of a table page; each page reads the filters it has.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TableParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub role: String,
    /// Members only: `off` (without two-factor) or `on`.
    #[serde(default)]
    pub two_factor: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub after: String,
}

/// A table's state as it appears in its URL.
pub struct Listing {
    /// The page's path, e.g. `/orgs/acme/members`.
    pub path: String,
    /// Filters that are set, in URL order (empty values are left out of links).
    pub filters: Vec<(&'static str, String)>,
    pub sort: &'static str,
    pub descending: bool,
    /// Columns sorted newest or largest first when first chosen.
    pub descending_first: &'static [&'static str],
    /// Whether this is a page after the first (the URL has a cursor).
    pub later_page: bool,
}

impl Listing {
    /// The export of the view as it is filtered and sorted, every page of it
    /// (`extension`: `csv`, `json`): the page's path with the extension.
    pub fn export_url(&self, extension: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.filters {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        query.append_pair("sort", self.sort);
        query.append_pair("dir", if self.descending { "desc" } else { "asc" });
        format!("{}.{extension}?{}", self.path, query.finish())
    }

    /// Whether any filter or search is set (an empty table then means "nothing matches").
    pub fn is_filtered(&self) -> bool {
        self.filters.iter().any(|(_, v)| !v.is_empty())
    }

    /// How many filters are set (the folded filters' summary says so).
    pub fn active_filters(&self) -> usize {
        self.filters.iter().filter(|(_, v)| !v.is_empty()).count()
    }

    /// A filter's current value ("" when unset).
    pub fn filter(&self, name: &str) -> &str {
        self.filters.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn filter_is(&self, name: &str, value: &str) -> bool {
        self.filter(name) == value
    }

    /// The URL of this listing sorted by `sort`, continuing after `cursor` if given.
    pub fn url(&self, sort: &str, descending: bool, cursor: Option<&str>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.filters {
            if !value.is_empty() {
                query.append_pair(key, value);
            }
        }
        query.append_pair("sort", sort);
        query.append_pair("dir", if descending { "desc" } else { "asc" });
        if let Some(cursor) = cursor {
            query.append_pair("after", cursor);
        }
        format!("{}?{}", self.path, query.finish())
    }

    /// A column header's link: sorts by it, or flips the direction if it already does.
    pub fn sort_url(&self, column: &str) -> String {
        let descending = if self.sort == column { !self.descending } else { self.descending_first.contains(&column) };
        self.url(column, descending, None)
    }

    /// `aria-sort` of a column header.
    pub fn aria_sort(&self, column: &str) -> &'static str {
        match (self.sort == column, self.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        }
    }

    pub fn first_page_url(&self) -> String {
        self.url(self.sort, self.descending, None)
    }

    /// The next page's URL, after the cursor of the last row shown.
    pub fn next_url<C: Serialize>(&self, cursor: &C) -> Option<String> {
        Some(self.url(self.sort, self.descending, Some(&encode_cursor(cursor)?)))
    }

    /// Splits `limit + 1` loaded rows into the page shown and the link to the next
    /// page (built from the last row shown by `cursor`), if more rows follow.
    pub fn page<'a, T, C: Serialize>(
        &self,
        rows: &'a [T],
        limit: i64,
        cursor: impl FnOnce(&T) -> C,
    ) -> (&'a [T], Option<String>) {
        let (shown, next) = page_and_cursor(rows, limit, cursor);
        (shown, next.map(|next| self.url(self.sort, self.descending, Some(&next))))
    }
}

/// The direction a table is sorted in: `dir` if given, else the column's default.
pub fn descending(dir: &str, column: &str, descending_first: &[&str]) -> bool {
    match dir {
        "asc" => false,
        "desc" => true,
        _ => descending_first.contains(&column),
    }
}

/// A cursor as the URL (or the API's `next_cursor`) carries it: opaque, URL-safe.
pub fn encode_cursor<C: Serialize>(cursor: &C) -> Option<String> {
    Some(URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).ok()?))
}

/// Splits `limit + 1` loaded rows into the page shown and, if more rows follow, the
/// encoded cursor of its last row (built by `cursor`).
pub fn page_and_cursor<T, C: Serialize>(
    rows: &[T],
    limit: i64,
    cursor: impl FnOnce(&T) -> C,
) -> (&[T], Option<String>) {
    let (shown, more) = split_page(rows, limit);
    let next = if more { shown.last().and_then(|last| encode_cursor(&cursor(last))) } else { None };
    (shown, next)
}

/// A (time, id) keyset position as a cursor carries it, the time in nanoseconds:
/// the queue of requests, the invite links.
pub type TimeCursor = (i128, uuid::Uuid);

/// The cursor of the row at (`at`, `id`).
pub fn time_cursor(at: time::OffsetDateTime, id: uuid::Uuid) -> TimeCursor {
    (at.unix_timestamp_nanos(), id)
}

/// The position a [`TimeCursor`] names; `None` for one out of range (hand-edited).
pub fn time_position((nanos, id): TimeCursor) -> Option<(time::OffsetDateTime, uuid::Uuid)> {
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok().map(|at| (at, id))
}

/// Reads an `after` cursor from the URL; junk (a hand-edited URL) means the first page.
pub fn decode_cursor<C: DeserializeOwned>(text: &str) -> Option<C> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Splits a loaded page (`limit + 1` rows) into the rows to show and whether more follow.
pub fn split_page<T>(rows: &[T], limit: i64) -> (&[T], bool) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    (&rows[..rows.len().min(limit)], rows.len() > limit)
}

/// The message of an in-place action whose row is gone, for the page's alert region.
#[derive(Template)]
#[template(path = "_flash_oob.html")]
pub struct FlashFragment {
    pub message: String,
}

/// Answers a row action. For htmx: the fragment `swap` builds from the CSRF token
/// and the message (the updated row, with the message out of band). Otherwise the
/// message as a flash and a redirect back to the table at `back`.
pub fn row_action<T: Template>(
    req: &HttpRequest,
    frame: Frame,
    back: &str,
    message: String,
    swap: impl FnOnce(String, String) -> T,
) -> Result<HttpResponse, AppError> {
    if is_htmx(req) {
        return page(&swap(frame.csrf().to_owned(), message));
    }
    frame.session.flash(FlashLevel::Success, message);
    Ok(redirect(req, back))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> Listing {
        Listing {
            path: "/orgs/acme/members".into(),
            filters: vec![("q", "ada lovelace".into()), ("role", String::new())],
            sort: "name",
            descending: false,
            descending_first: &["joined"],
            later_page: false,
        }
    }

    #[test]
    fn links_keep_filters_and_flip_or_default_the_direction() {
        let l = listing();
        assert_eq!(l.sort_url("name"), "/orgs/acme/members?q=ada+lovelace&sort=name&dir=desc");
        assert_eq!(l.sort_url("joined"), "/orgs/acme/members?q=ada+lovelace&sort=joined&dir=desc");
        assert_eq!(l.sort_url("email"), "/orgs/acme/members?q=ada+lovelace&sort=email&dir=asc");
        assert_eq!(l.aria_sort("name"), "ascending");
        assert_eq!(l.aria_sort("email"), "none");
    }

    #[test]
    fn cursors_round_trip_and_junk_is_ignored() {
        let next = listing().next_url(&("x".to_owned(), 7)).unwrap();
        let after = next.split("after=").nth(1).unwrap();
        assert_eq!(decode_cursor::<(String, i32)>(after), Some(("x".to_owned(), 7)));
        assert_eq!(decode_cursor::<(String, i32)>("%%%"), None);
    }
}
