//! Pages compressed on the worker that rendered them, in one pass over the whole body.
//!
//! actix-web's `Compress` hands every body over 1 KiB to the blocking pool (the
//! pool the database work waits on) with an encoder built for that answer: a 74 KB
//! Members page waited behind queries and cost a third of the page's throughput.
//! A page is already whole in memory when its handler returns, so this layer
//! compresses it in place, as the page was rendered; `Compress` outside it still
//! takes the streamed answers (exports), whose chunks arrive over time.
//!
//! A whole body then goes out in pieces: actix-http copies each chunk of a body
//! into the connection's write buffer and keeps that buffer for the next answer
//! on the connection (up to 128 KiB), so a 74 KB page sent as one chunk left every
//! kept-alive connection holding 74 KB; in pieces it holds one piece.

use std::io::Write as _;

use actix_web::body::{BoxBody, MessageBody, SizedStream};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding, Header as _, HeaderValue, Preference, Quality,
};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::Bytes;

/// The most of a whole body handed to the connection at once, and the size of the
/// connection's write buffer (`HttpServer::h1_write_buffer_size`): a compressed page
/// is one or two pieces, an uncompressed one a dozen writes of this size.
pub const PIECE: usize = 8 * 1024;

/// The encodings offered, in the order the server prefers them when a browser
/// accepts several alike: the cheapest per byte saved first (BENCHMARKS.md,
/// "Compression": on a 74 KB page, zstd 1 makes 7.9 KB in ~55 µs, gzip 1 10.3 KB
/// in ~75 µs, brotli 1 8.2 KB in ~200 µs).
const CHEAPEST_FIRST: [ContentEncoding; 3] = [ContentEncoding::Zstd, ContentEncoding::Gzip, ContentEncoding::Brotli];

/// The encoding to answer `accepted` with: of those `offered`, the one the browser
/// ranks highest, ties going to the server's order; `None` (identity) when it
/// accepts none of them, or sent no `Accept-Encoding` at all.
pub fn chosen(accepted: &AcceptEncoding, offered: &[ContentEncoding]) -> Option<ContentEncoding> {
    let quality = |offered: ContentEncoding| {
        let named = accepted.0.iter().find(|q| q.item == Preference::Specific(Encoding::Known(offered)));
        let any = accepted.0.iter().find(|q| q.item == Preference::Any);
        named.or(any).map(|q| q.quality)
    };
    offered
        .iter()
        .copied()
        .filter_map(|offered| quality(offered).filter(|q| *q > Quality::ZERO).map(|q| (offered, q)))
        // The first of the best: `max_by_key` would keep the last.
        .fold(None, |best: Option<(ContentEncoding, Quality)>, (offered, q)| match best {
            Some((_, best_q)) if best_q >= q => best,
            _ => Some((offered, q)),
        })
        .map(|(offered, _)| offered)
}

/// Middleware: compresses a whole body of text (a page, a fragment, a JSON answer)
/// in the encoding the request accepts, and says so (`Content-Encoding`, `Vary`).
/// Answers that name their encoding already (the bell's stream says `identity`)
/// and streamed bodies pass through untouched.
pub async fn compress_whole_bodies(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let encoding =
        AcceptEncoding::parse(request.request()).ok().and_then(|accepted| chosen(&accepted, &CHEAPEST_FIRST));
    let response = next.call(request).await?.map_into_boxed_body();
    if !compressible(&response) {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let (mut response, body) = response.into_parts();
    let body = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(stream) => return Ok(ServiceResponse::new(request, response.set_body(stream))),
    };
    if body.is_empty() {
        return Ok(ServiceResponse::new(request, response.set_body(BoxBody::new(body))));
    }
    response.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
    let Some(encoding) = encoding else {
        return Ok(ServiceResponse::new(request, response.set_body(in_pieces(body))));
    };
    let encoded = match encode(encoding, &body) {
        Ok(encoded) => encoded,
        Err(error) => {
            // Writing into memory cannot fail; were it to, the page still goes out.
            tracing::error!(?error, "compressing a page failed; sent as it is");
            return Ok(ServiceResponse::new(request, response.set_body(in_pieces(body))));
        }
    };
    response.headers_mut().insert(header::CONTENT_ENCODING, encoding.to_header_value());
    Ok(ServiceResponse::new(request, response.set_body(in_pieces(Bytes::from(encoded)))))
}

/// `body` as a body of its length that yields it [`PIECE`] bytes at a time (slices
/// of the same buffer, nothing copied).
pub fn in_pieces(body: Bytes) -> BoxBody {
    if body.len() <= PIECE {
        return BoxBody::new(body);
    }
    let size = body.len() as u64;
    let pieces = futures_util::stream::unfold(body, |mut rest| async move {
        let piece = rest.split_to(rest.len().min(PIECE));
        (!piece.is_empty()).then_some((Ok::<_, std::convert::Infallible>(piece), rest))
    });
    BoxBody::new(SizedStream::new(size, pieces))
}

/// Whether the answer is text this layer may encode: no encoding named yet, a
/// status with a body to encode, and a textual type.
fn compressible(response: &ServiceResponse<BoxBody>) -> bool {
    let status = response.status();
    let headers = response.headers();
    let textual = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|kind| {
        let kind = kind.split(';').next().unwrap_or_default().trim();
        kind.starts_with("text/") || kind.ends_with("json") || kind == "image/svg+xml"
    });
    textual
        && !headers.contains_key(header::CONTENT_ENCODING)
        && !matches!(status, StatusCode::NO_CONTENT | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED)
}

/// `body` in `encoding`, at the levels measured for pages: the fastest of each,
/// since a page's few kilobytes more cost less than the server's time.
fn encode(encoding: ContentEncoding, body: &[u8]) -> std::io::Result<Vec<u8>> {
    match encoding {
        ContentEncoding::Zstd => zstd::bulk::compress(body, 1),
        ContentEncoding::Brotli => {
            let mut out = Vec::with_capacity(body.len() / 4);
            {
                // A 256 KiB window: larger ones cost time to set up and no page needs
                // one. Dropping the writer ends the stream.
                let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 1, 18);
                writer.write_all(body)?;
            }
            Ok(out)
        }
        _ => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::fast());
            encoder.write_all(body)?;
            encoder.finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{AcceptEncoding, ContentEncoding, Header as _, ACCEPT_ENCODING};
    use actix_web::test::TestRequest;

    use super::{chosen, CHEAPEST_FIRST};

    fn answer(accept_encoding: &str) -> Option<ContentEncoding> {
        let request = TestRequest::default().insert_header((ACCEPT_ENCODING, accept_encoding)).to_http_request();
        chosen(&AcceptEncoding::parse(&request).unwrap(), &CHEAPEST_FIRST)
    }

    #[test]
    fn browsers_that_accept_several_encodings_alike_get_the_cheapest() {
        // Chromium and Firefox today; Safari (no zstd); a client that names brotli only.
        assert_eq!(answer("gzip, deflate, br, zstd"), Some(ContentEncoding::Zstd));
        assert_eq!(answer("gzip, deflate, br"), Some(ContentEncoding::Gzip));
        assert_eq!(answer("br"), Some(ContentEncoding::Brotli));
        assert_eq!(answer("*"), Some(ContentEncoding::Zstd));
    }

    #[test]
    fn a_browser_that_ranks_its_encodings_gets_its_first_choice() {
        assert_eq!(answer("gzip;q=0.5, br;q=1.0, zstd;q=0.8"), Some(ContentEncoding::Brotli));
        assert_eq!(answer("*;q=0.3, gzip"), Some(ContentEncoding::Gzip));
        assert_eq!(answer("zstd;q=0, *"), Some(ContentEncoding::Gzip));
    }

    #[actix_web::test]
    async fn a_whole_body_goes_out_in_pieces_of_its_stated_length() {
        use actix_web::body::{to_bytes, BodySize, MessageBody as _};
        let page: Vec<u8> = (0..74_493u32).map(|i| (i % 251) as u8).collect();
        let body = super::in_pieces(actix_web::web::Bytes::from(page.clone()));
        assert_eq!(body.size(), BodySize::Sized(page.len() as u64), "Content-Length is kept");
        let mut body = std::pin::pin!(body);
        let mut pieces = Vec::new();
        while let Some(piece) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            pieces.push(piece.unwrap());
        }
        assert!(pieces.iter().all(|p| p.len() <= super::PIECE), "no piece is larger than PIECE");
        assert_eq!(pieces.len(), page.len().div_ceil(super::PIECE));
        assert_eq!(pieces.concat(), page, "the pieces are the body, in order");
        let small = super::in_pieces(actix_web::web::Bytes::from_static(b"<p>short</p>"));
        assert_eq!(to_bytes(small).await.unwrap(), "<p>short</p>");
    }

    #[test]
    fn a_browser_that_accepts_none_of_them_gets_the_page_as_it_is() {
        assert_eq!(answer("identity"), None);
        assert_eq!(answer("deflate"), None);
        assert_eq!(answer("gzip;q=0, br;q=0, zstd;q=0"), None);
        assert_eq!(answer(""), None);
    }
}
