//! Each accepted connection: a live bell's event stream is served here, on its own,
//! and everything else by actix-web.
//!
//! actix-http gives every connection an 8 KiB read buffer and an 8 KiB write buffer
//! for as long as it stays open (fixed sizes, not settings). A live bell keeps its
//! connection for hours and sends a few bytes a minute, so 10,000 open bells held
//! 160 MB of buffers (heaptrack, issue 32). A connection whose first request is
//! `GET /notifications/stream` from a signed-in session is answered here instead:
//! its head is peeked at (nothing is consumed), the session checked by the session
//! layer's own store, and only then is the head read off and the stream written,
//! chunked, as its events come. What this cannot answer exactly as the route would
//! (another request, no session or one not signed in, a cookie made under an older
//! key, a head too long to look at) goes to actix-web untouched, which answers it as
//! it always has; so does a stream asked for on a connection kept alive from an
//! earlier request. A connection that begins a head and sends no whole one in a
//! head's time gets actix-web's answer, 408, from here (not a second wait there); one
//! that sends nothing at all while a connection is kept alive is closed unanswered;
//! one whose session cannot be read (the database unavailable) is closed, and the
//! browser's EventSource comes back after its retry delay.

use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::dev::Service;
use actix_web::web;
use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::session::{session_key_in, PgSessionStore};
use super::state::AppState;
use crate::domain::UserId;

/// The route this module serves, as registered with actix-web too.
pub const STREAM_PATH: &str = "/notifications/stream";

/// How a stream's request line begins.
const STREAM_REQUEST_LINE: &[u8] = b"GET /notifications/stream";

/// The largest request head looked at; a longer one (cookies of other sites on the
/// same host, say) goes to actix-web, which takes heads of any allowed size.
const HEAD_LIMIT: usize = 8 * 1024;

/// How long a head that began as a stream's may take to arrive whole: as long as
/// actix-web allows a request's head (`client_request_timeout`).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest pause between two looks at a head still arriving.
const MAX_PAUSE: Duration = Duration::from_millis(320);

/// The most header lines read from a stream's request.
const MAX_HEADERS: usize = 64;

/// What serves connections: the live-bell streams it can answer, and actix-web.
#[derive(Clone)]
pub struct Connections {
    pub state: web::Data<AppState>,
    pub store: PgSessionStore,
}

impl Connections {
    /// Serves one connection: as a live-bell stream, or through `http` (actix-web).
    pub async fn serve<S>(self, mut io: TcpStream, http: Rc<S>) -> Result<(), S::Error>
    where
        S: Service<TcpStream, Response = ()>,
    {
        match self.route(&io).await {
            Route::Stream(request) => self.answer(io, request).await,
            Route::Http => return http.call(io).await,
            Route::Close(answer) => {
                if !answer.is_empty() {
                    let _ = io.write_all(&answer).await;
                }
                let _ = io.shutdown().await;
            }
        }
        Ok(())
    }

    /// Where the connection `io` goes, from its first request: read without consuming
    /// anything, so that any request but a stream's goes on to actix-web whole.
    async fn route(&self, io: &TcpStream) -> Route {
        // The first look takes a few bytes on the stack: most connections end here.
        let mut start = [0u8; STREAM_REQUEST_LINE.len() + 1];
        // A connection opened ahead of need (a browser's preconnect, a client's pool)
        // waits for its first request as a kept-alive one waits for its next, and is
        // then closed without a word, as nginx and Apache close it: an unasked 408 is
        // read by the client as the answer to the request it sends next, at the
        // moment the connection is closed.
        let idle = tokio::time::Instant::now() + self.state.settings.keep_alive;
        let peeked = match peek(io, &mut start, idle, false).await {
            Ok(peeked) => peeked,
            Err(route) => return route,
        };
        // From its first byte, a head has a head's time to arrive whole.
        let deadline = tokio::time::Instant::now() + HEAD_TIMEOUT;
        if !could_be_stream_request(&start[..peeked]) {
            return Route::Http;
        }
        let mut buffer = vec![0u8; HEAD_LIMIT];
        // A peek returns what has come and keeps the socket readable, so a head still
        // arriving is looked at again after a pause, longer each time.
        let mut pause = Duration::from_millis(5);
        let (head, cookies) = loop {
            let peeked = match peek(io, &mut buffer, deadline, true).await {
                Ok(peeked) => peeked,
                Err(route) => return route,
            };
            let bytes = &buffer[..peeked];
            if !could_be_stream_request(bytes) {
                return Route::Http;
            }
            match parse_head(bytes) {
                Some(Parsed::Whole { length, cookies }) => break (length, cookies),
                Some(Parsed::Partial) if peeked < HEAD_LIMIT => {
                    if tokio::time::timeout_at(deadline, tokio::time::sleep(pause)).await.is_err() {
                        return Route::Close(timed_out());
                    }
                    pause = (pause * 2).min(MAX_PAUSE);
                }
                Some(Parsed::Partial) | None => return Route::Http,
            }
        };
        drop(buffer);
        let started = Instant::now();
        let secure = self.state.settings.serves_tls();
        let Some(newest) = self.state.cookie_keys.first() else { return Route::Http };
        let Some(key) = session_key_in(cookies.iter().map(String::as_str), secure, newest) else {
            return Route::Http;
        };
        // Bounded as a request is (`web::deadline`).
        let check = crate::db::Db::count_statements(self.store.signed_in(&key));
        match tokio::time::timeout(self.state.settings.request_timeout, check).await {
            Ok((Ok(Some(user)), statements)) => Route::Stream(StreamRequest { head, user, started, statements }),
            // Not signed in (or no longer): the route's own answer.
            Ok((Ok(None), _)) => Route::Http,
            // The database is unavailable or slow: the browser's EventSource comes back
            // after its retry delay (an error status would end it for good).
            Ok((Err(error), _)) => {
                tracing::warn!(%error, "a live bell's session could not be read; its connection is closed");
                Route::Close(Vec::new())
            }
            Err(_) => {
                tracing::warn!("a live bell's session was not read in time; its connection is closed");
                Route::Close(Vec::new())
            }
        }
    }

    /// Answers a stream request: its head read off, the response's head, then one
    /// chunk per event until the stream ends (shutdown) or the browser goes away.
    async fn answer(self, mut io: TcpStream, request: StreamRequest) {
        let StreamRequest { head, user, started, statements } = request;
        let mut consumed = vec![0u8; head];
        if io.read_exact(&mut consumed).await.is_err() {
            return;
        }
        drop(consumed);
        if let Err(error) = io.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set");
        }
        let response_head = response_head(self.state.settings.serves_tls());
        if io.write_all(response_head.as_bytes()).await.is_err() {
            return;
        }
        drop(response_head);
        tracing::info!(user_id = %user.0, route = STREAM_PATH, "live bell stream opened");
        self.state.metrics.observe_request(Some(STREAM_PATH), "GET", 200, started.elapsed().as_secs_f64(), statements);
        let events = self.state.bell.events_for(user.0);
        let mut events = std::pin::pin!(events);
        // A browser sends nothing more on a stream's connection (no request can follow
        // a response without an end): reading tells when it went away, and anything
        // it does send ends the stream.
        let mut scratch = [0u8; 64];
        loop {
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(bytes)) => {
                        if io.write_all(&chunk(&bytes)).await.is_err() {
                            return;
                        }
                    }
                    // The stream ended (shutdown, after telling when to reconnect).
                    _ => {
                        let _ = io.write_all(b"0\r\n\r\n").await;
                        let _ = io.shutdown().await;
                        return;
                    }
                },
                readable = io.readable() => {
                    if readable.is_err() {
                        return;
                    }
                    match io.try_read(&mut scratch) {
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                        _ => return, // closed, failed, or sent something
                    }
                }
            }
        }
    }
}

/// Where a connection goes.
enum Route {
    /// A live-bell stream, answered here.
    Stream(StreamRequest),
    /// Any other request: actix-web's.
    Http,
    /// Closed, after `answer` (if any): the client went away, sent nothing while the
    /// connection was kept alive, or began a head and sent no whole one (408, as
    /// actix-web answers it), or its session could not be read.
    Close(Vec<u8>),
}

/// What has come on `io` (at least a byte), looked at into `buffer` by `deadline`;
/// else where the connection goes: closed when it went away, or when nothing came
/// by `deadline`; answered 408 first when a head had `began` to come (as
/// actix-web answers a head that does not come whole), and not when nothing was
/// asked.
async fn peek(io: &TcpStream, buffer: &mut [u8], deadline: tokio::time::Instant, began: bool) -> Result<usize, Route> {
    match tokio::time::timeout_at(deadline, io.peek(buffer)).await {
        Ok(Ok(0)) | Ok(Err(_)) => Err(Route::Close(Vec::new())),
        Ok(Ok(peeked)) => Ok(peeked),
        Err(_) if began => Err(Route::Close(timed_out())),
        Err(_) => Err(Route::Close(Vec::new())),
    }
}

/// The answer to a request whose head did not arrive in time.
fn timed_out() -> Vec<u8> {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    format!("HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\ndate: {date}\r\n\r\n")
        .into_bytes()
}

/// A stream request, checked: the length of its head, whose session it is, when its
/// check began and the statements it took.
struct StreamRequest {
    head: usize,
    user: UserId,
    started: Instant,
    statements: u64,
}

/// Whether the first bytes of a connection may be a stream request: a quick look
/// before any parsing, so that other connections pass with a comparison.
fn could_be_stream_request(bytes: &[u8]) -> bool {
    let wanted = STREAM_REQUEST_LINE;
    let n = bytes.len().min(wanted.len());
    bytes[..n] == wanted[..n] && (bytes.len() <= wanted.len() || matches!(bytes[wanted.len()], b' ' | b'?'))
}

enum Parsed {
    Whole { length: usize, cookies: Vec<String> },
    Partial,
}

/// A stream request's head: its length and the values of its `Cookie` headers;
/// `None` for anything but `GET /notifications/stream` (with a query or none) over
/// HTTP/1.1 with no body.
fn parse_head(bytes: &[u8]) -> Option<Parsed> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let length = match request.parse(bytes).ok()? {
        httparse::Status::Complete(length) => length,
        httparse::Status::Partial => return Some(Parsed::Partial),
    };
    let path = request.path?;
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    if request.method != Some("GET") || path != STREAM_PATH || request.version != Some(1) {
        return None;
    }
    let mut cookies = Vec::new();
    for header in request.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding") {
            return None; // a GET with a body: actix-web's to answer
        }
        if name.eq_ignore_ascii_case("cookie") {
            cookies.push(std::str::from_utf8(header.value).ok()?.to_owned());
        }
    }
    Some(Parsed::Whole { length, cookies })
}

/// The response's head: the stream's headers (as `bell_stream` sends them), the
/// security headers every response carries, the date, and chunked framing.
fn response_head(secure: bool) -> String {
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let stream = super::live::STREAM_HEADERS.iter().copied();
    // The stream's own `cache-control` is the security headers' too: written once.
    let security = super::headers::security_headers(secure)
        .into_iter()
        .filter(|(name, _)| !super::live::STREAM_HEADERS.iter().any(|(own, _)| own == name));
    for (name, value) in stream.chain(security).chain([("date", date.as_str()), ("transfer-encoding", "chunked")]) {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

/// `bytes` as one chunk of a chunked body.
fn chunk(bytes: &[u8]) -> Vec<u8> {
    let size = format!("{:x}\r\n", bytes.len());
    let mut chunk = Vec::with_capacity(size.len() + bytes.len() + 2);
    chunk.extend_from_slice(size.as_bytes());
    chunk.extend_from_slice(bytes);
    chunk.extend_from_slice(b"\r\n");
    chunk
}

#[cfg(test)]
mod tests {
    use super::{could_be_stream_request, parse_head, Parsed};

    fn whole(head: &str) -> Option<(usize, Vec<String>)> {
        match parse_head(head.as_bytes())? {
            Parsed::Whole { length, cookies } => Some((length, cookies)),
            Parsed::Partial => panic!("partial: {head:?}"),
        }
    }

    #[test]
    fn the_request_line_looked_for_names_the_streams_route() {
        assert_eq!(super::STREAM_REQUEST_LINE, format!("GET {}", super::STREAM_PATH).as_bytes());
    }

    #[test]
    fn only_a_stream_request_is_looked_at_further() {
        assert!(could_be_stream_request(b"GET /notifications/stream HTTP/1.1\r\n"));
        assert!(could_be_stream_request(b"GET /notifications/stream?x=1 HTTP/1.1\r\n"));
        assert!(could_be_stream_request(b"GET /notif"), "the start of one: wait for more");
        assert!(!could_be_stream_request(b"GET /notifications/streams HTTP/1.1\r\n"));
        assert!(!could_be_stream_request(b"GET /notifications/count HTTP/1.1\r\n"));
        assert!(!could_be_stream_request(b"POST /notifications/stream HTTP/1.1\r\n"));
        assert!(!could_be_stream_request(b"GET /orgs/acme/members HTTP/1.1\r\n"));
    }

    #[test]
    fn a_whole_head_gives_its_length_and_cookies() {
        let head = "GET /notifications/stream HTTP/1.1\r\nHost: x\r\nCookie: a=1; b=2\r\ncookie: c=3\r\n\r\n";
        let (length, cookies) = whole(head).unwrap();
        assert_eq!(length, head.len());
        assert_eq!(cookies, ["a=1; b=2", "c=3"]);
        let with_query = "GET /notifications/stream?since=1 HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(whole(with_query).unwrap().0, with_query.len());
    }

    #[test]
    fn anything_but_a_plain_http_1_1_stream_request_is_left_to_actix() {
        assert!(whole("GET /notifications/stream HTTP/1.0\r\nHost: x\r\n\r\n").is_none());
        assert!(whole("GET /notifications/stream/x HTTP/1.1\r\nHost: x\r\n\r\n").is_none());
        assert!(whole("GET /notifications/stream HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").is_none());
        assert!(whole("GET /notifications/stream HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").is_none());
        assert!(parse_head(b"GET /notifications/stream HTTP/1.1\r\n\x01bad\r\n\r\n").is_none());
    }

    #[test]
    fn a_head_still_arriving_is_partial() {
        assert!(matches!(parse_head(b"GET /notifications/stream HTTP/1.1\r\nHost: x\r\n"), Some(Parsed::Partial)));
    }

    #[test]
    fn the_response_head_carries_the_streams_and_the_security_headers_once() {
        let head = super::response_head(true);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"));
        for line in [
            "content-type: text/event-stream",
            "content-encoding: identity",
            "x-accel-buffering: no",
            "x-frame-options: DENY",
            "strict-transport-security: max-age=31536000",
            "transfer-encoding: chunked",
        ] {
            assert!(head.contains(&format!("{line}\r\n")), "{line} in {head}");
        }
        assert_eq!(head.matches("cache-control: no-store\r\n").count(), 1);
        assert!(head.contains("\r\ndate: "));
    }

    #[test]
    fn an_event_is_one_chunk() {
        assert_eq!(super::chunk(b"event: bell\ndata: changed\n\n"), b"1b\r\nevent: bell\ndata: changed\n\n\r\n");
    }
}
