//! Streaming an export (DESIGN.md §2.13): a table's pages are read one at a time by
//! their keyset cursor, each encoded and let go before the next is read (while its
//! bytes are sent), so an export of 100,000 rows holds one page's rows in memory.
//! CSV has a header row; JSON is one array.

use std::future::Future;

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse};

use crate::domain::export::{CsvLines, Format};
use crate::error::AppError;

/// The format an export's path names (`…/members.csv`, `…/members.json`), so one
/// handler serves both routes; any other ending is not an export (404).
pub struct Exported(pub Format);

impl FromRequest for Exported {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let format = req.path().rsplit_once('.').and_then(|(_, extension)| Format::from_extension(extension));
        std::future::ready(format.map(Exported).ok_or(AppError::NotFound))
    }
}

/// How a table's rows are written: the CSV header and each row's fields, and each
/// row as a JSON object.
pub struct Sheet<R> {
    pub header: &'static [&'static str],
    pub csv: fn(&R) -> Vec<String>,
    pub json: fn(&R) -> serde_json::Value,
}

/// A page read as `limit + 1` rows: the rows to write, and the position after the
/// last of them when more follow (the rule of [`crate::web::listing::split_page`]).
pub fn next_page<R, C>(mut rows: Vec<R>, limit: i64, cursor: impl FnOnce(&R) -> C) -> (Vec<R>, Option<C>) {
    let (shown, more) = crate::web::listing::split_page(&rows, limit);
    let shown = shown.len();
    rows.truncate(shown);
    let next = if more { rows.last().map(cursor) } else { None };
    (rows, next)
}

/// A page of `rows` as `format` writes it, after `written` rows went out before it:
/// the CSV header or the JSON array's opening first.
fn encode<R>(format: Format, sheet: &Sheet<R>, rows: &[R], written: usize) -> Result<Vec<u8>, AppError> {
    match format {
        Format::Csv => {
            // The column names are identifiers: written bare, as spreadsheets expect.
            let header = if written == 0 { format!("{}\n", sheet.header.join(",")) } else { String::new() };
            let mut lines = CsvLines::after(header.into_bytes());
            for row in rows {
                lines.push(&(sheet.csv)(row)).map_err(AppError::internal)?;
            }
            lines.into_bytes().map_err(AppError::internal)
        }
        Format::Json => {
            let mut out = if written == 0 { b"[".to_vec() } else { Vec::new() };
            for (i, row) in rows.iter().enumerate() {
                out.extend_from_slice(if written + i == 0 { b"\n" } else { b",\n" });
                serde_json::to_writer(&mut out, &(sheet.json)(row)).map_err(AppError::internal)?;
            }
            Ok(out)
        }
    }
}

/// A page being read: the rows and the cursor of the next, or why not.
type Reading<R, C> = actix_web::rt::task::JoinHandle<Result<(Vec<R>, Option<C>), AppError>>;

/// Where a streamed export is.
enum Step<R, C> {
    /// A page is being read, with how many rows went out before it.
    Page(Reading<R, C>, usize),
    /// Every row went out: record the export, close the JSON array.
    Finish(usize),
    End,
}

/// Answers with the export `name` (the file's name without extension) in `format`:
/// `page(cursor)` gives a page and the cursor of the next (`None` after the last);
/// `done(rows)` runs once all of them went out (the audit record).
///
/// The next page is read while this one's bytes are sent: asked for as soon as
/// this page is encoded and its rows dropped, rather than when the client has
/// taken its bytes, so one page's rows and the bytes of the one before are held.
pub fn stream<R, C, P, PF, D, DF>(format: Format, name: &str, sheet: Sheet<R>, page: P, done: D) -> HttpResponse
where
    R: 'static,
    C: 'static,
    P: Fn(Option<C>) -> PF + 'static,
    PF: Future<Output = Result<(Vec<R>, Option<C>), AppError>> + 'static,
    D: FnOnce(usize) -> DF + 'static,
    DF: Future<Output = Result<(), AppError>> + 'static,
{
    let start = (Step::Page(actix_web::rt::spawn(page(None)), 0), page, Some(done), sheet);
    let body = futures_util::stream::unfold(start, move |(step, page, done, sheet)| async move {
        match step {
            Step::Page(reading, written) => match reading.await.map_err(AppError::internal).and_then(|read| read) {
                Ok((rows, next)) => {
                    // Encoded and let go before the next page is asked for: one page's
                    // rows in memory at a time, and its bytes while the next is read.
                    let encoded = encode(format, &sheet, &rows, written);
                    let written = written + rows.len();
                    drop(rows);
                    match encoded {
                        Ok(out) => {
                            let step = match next {
                                Some(cursor) => Step::Page(actix_web::rt::spawn(page(Some(cursor))), written),
                                None => Step::Finish(written),
                            };
                            Some((Ok::<_, actix_web::Error>(Bytes::from(out)), (step, page, done, sheet)))
                        }
                        Err(error) => Some((Err(error.into()), (Step::End, page, done, sheet))),
                    }
                }
                Err(error) => Some((Err(error.into()), (Step::End, page, done, sheet))),
            },
            Step::Finish(written) => {
                let mut done = done;
                if let Some(done) = done.take() {
                    if let Err(error) = done(written).await {
                        tracing::warn!(error = ?error, "recording an export");
                    }
                }
                let tail = if format == Format::Json { "\n]\n" } else { "" };
                Some((Ok(Bytes::from_static(tail.as_bytes())), (Step::End, page, done, sheet)))
            }
            Step::End => None,
        }
    });
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, format.content_type()))
        .insert_header((CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.{}\"", format.as_str())))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body)
}
