//! The one outbound HTTP client (webhooks now, single sign-on later): async, rustls with the system's trust store, timeouts, and the address policy checked as typed, after resolution and on every redirect hop.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::net::NetError;
use hickory_resolver::TokioResolver;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Method, RequestBuilder, StatusCode};

use crate::dns::Dns;
use crate::domain::address::{AddressPolicy, Refused};

/// How long a host may take to accept the connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole exchange may take, from the lookup to the last byte of the answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a name lookup may take.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an answer's body read by [`Answer::body`]: 1 MiB.
pub const MAX_ANSWER: usize = 1 << 20;

/// Which redirects a client follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// None: a redirect is the answer (webhooks: a receiver that moved says so in the log).
    None,
    /// Up to this many hops, each one's URL checked by the address policy before it
    /// is requested (a name it leads to is checked again when it resolves).
    Checked(usize),
}

/// Why a request got no answer, in the words the webhook delivery log shows a person:
/// what happened and where to look, never the URL (whose query may hold a token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The host, as typed or as resolved, is an address the policy refuses.
    #[error("Not sent: {0}; Roster does not send webhooks there.")]
    Refused(Refused),
    /// A redirect led somewhere the policy refuses.
    #[error("Not followed: the answer redirected to {0}; Roster does not send webhooks there.")]
    RedirectRefused(Refused),
    /// More redirects than allowed.
    #[error("Not followed: the answer redirected more than {0} times.")]
    TooManyRedirects(usize),
    /// The name does not exist, or has no address.
    #[error("No address: the host's name does not resolve. Check the URL and the host's DNS records.")]
    NoAddress,
    /// No name server answered in time.
    #[error("No address: the host's name did not resolve within {} seconds.", LOOKUP_TIMEOUT.as_secs())]
    LookupTimedOut,
    /// The host did not accept the connection in time.
    #[error(
        "No connection: the host did not answer within {} seconds (a firewall, or the host is down).",
        CONNECT_TIMEOUT.as_secs()
    )]
    ConnectTimedOut,
    /// The host refused the connection (or no route led to it).
    #[error("No connection: the host refused it. Is the receiver running, and listening on that port?")]
    ConnectRefused,
    /// The TLS handshake failed: an untrusted or mismatched certificate, or no TLS there.
    #[error("No secure connection: the host's TLS certificate or settings were not accepted ({0}).")]
    Tls(String),
    /// The answer did not come in time.
    #[error("No answer within {} seconds: the receiver was too slow.", ANSWER_TIMEOUT.as_secs())]
    AnswerTimedOut,
    /// The connection closed before a whole answer came.
    #[error("The connection broke before the receiver answered.")]
    Broken,
    /// Something answered, but not in HTTP.
    #[error("The receiver's answer was not HTTP that Roster could read.")]
    NotHttp,
    /// The answer's body is larger than the client reads.
    #[error("The answer was larger than {0} bytes, which is more than Roster reads.")]
    TooLarge(usize),
    /// The URL cannot be requested at all.
    #[error("The endpoint's URL cannot be used: change it by adding the endpoint again.")]
    BadUrl,
    /// The client could not be built (no TLS provider, no resolver configuration).
    #[error("Roster's HTTP client could not start: {0}.")]
    Setup(String),
}

/// What a lookup through [`PolicyResolver`] found wrong, carried through reqwest's
/// error chain to [`OutboundError`].
#[derive(Debug, thiserror::Error)]
enum LookupError {
    #[error(transparent)]
    Refused(Refused),
    #[error("the name does not resolve")]
    NotFound,
    #[error("the lookup timed out")]
    TimedOut,
    #[error("the lookup failed: {0}")]
    Failed(String),
}

/// A redirect the policy refused, carried through reqwest's error chain.
#[derive(Debug, thiserror::Error)]
enum RedirectError {
    #[error(transparent)]
    Refused(Refused),
    #[error("too many redirects")]
    TooMany(usize),
}

/// Resolves names with hickory (the system's configuration, or `ROSTER_DNS_SERVER`)
/// and keeps only the addresses the policy allows: those are the ones connected to,
/// so a name cannot lead the client to a private address.
struct PolicyResolver {
    resolver: TokioResolver,
    policy: Arc<AddressPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (resolver, policy, name) = (self.resolver.clone(), self.policy.clone(), name.as_str().to_owned());
        Box::pin(async move {
            let found: Vec<IpAddr> = match tokio::time::timeout(LOOKUP_TIMEOUT, resolver.lookup_ip(name)).await {
                Err(_) => return Err(LookupError::TimedOut.into()),
                Ok(Err(e)) if e.is_nx_domain() || e.is_no_records_found() => return Err(LookupError::NotFound.into()),
                Ok(Err(NetError::Timeout)) => return Err(LookupError::TimedOut.into()),
                Ok(Err(e)) => return Err(LookupError::Failed(e.to_string()).into()),
                Ok(Ok(lookup)) => lookup.iter().collect(),
            };
            let allowed: Vec<SocketAddr> =
                found.iter().filter(|ip| policy.allows(**ip)).map(|ip| SocketAddr::new(*ip, 0)).collect();
            match found.first() {
                None => Err(LookupError::NotFound.into()),
                Some(first) if allowed.is_empty() => Err(LookupError::Refused(Refused(first.to_string())).into()),
                Some(_) => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// An HTTP client that goes only where its [`AddressPolicy`] allows. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl Outbound {
    /// A client under `policy`, resolving through `dns`, following `redirects`.
    pub fn new(policy: AddressPolicy, dns: &Dns, redirects: Redirects) -> Result<Self, OutboundError> {
        let policy = Arc::new(policy);
        let resolver = dns.address_resolver().map_err(OutboundError::Setup)?;
        let redirect = match redirects {
            Redirects::None => reqwest::redirect::Policy::none(),
            Redirects::Checked(hops) => {
                let policy = policy.clone();
                reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() > hops {
                        return attempt.error(RedirectError::TooMany(hops));
                    }
                    match policy.check_url(attempt.url()) {
                        Ok(()) => attempt.follow(),
                        Err(refused) => attempt.error(RedirectError::Refused(refused)),
                    }
                })
            }
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(ANSWER_TIMEOUT)
            .user_agent(concat!("Roster/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect)
            .dns_resolver(Arc::new(PolicyResolver { resolver, policy: policy.clone() }))
            .build()
            .map_err(|e| OutboundError::Setup(e.to_string()))?;
        Ok(Self { client, policy })
    }

    /// A request to `url`, refused at once if its host as typed is one the policy refuses.
    pub fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, OutboundError> {
        let url = reqwest::Url::parse(url).map_err(|_| OutboundError::BadUrl)?;
        self.check(&url)?;
        Ok(self.client.request(method, url))
    }

    /// Sends a request made by [`Outbound::request`] (its URL is checked again, so no
    /// other request slips through) and returns the answer's head; the body is read
    /// by [`Answer`].
    pub async fn send(&self, request: RequestBuilder) -> Result<Answer, OutboundError> {
        let request = request.build().map_err(|_| OutboundError::BadUrl)?;
        self.check(request.url())?;
        let https = request.url().scheme() == "https";
        let response = self.client.execute(request).await.map_err(|e| classify(&e, https))?;
        Ok(Answer { response, https })
    }

    fn check(&self, url: &reqwest::Url) -> Result<(), OutboundError> {
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(OutboundError::BadUrl);
        }
        self.policy.check_url(url).map_err(OutboundError::Refused)
    }
}

/// An answer whose head has arrived.
pub struct Answer {
    response: reqwest::Response,
    https: bool,
}

impl Answer {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// The answer's headers.
    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        self.response.headers()
    }

    /// The first `limit` bytes of the body, as text; the rest is not read.
    pub async fn excerpt(mut self, limit: usize) -> String {
        let mut bytes = Vec::new();
        while bytes.len() < limit {
            match self.response.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        bytes.truncate(limit);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The whole body, refused when larger than [`MAX_ANSWER`].
    pub async fn body(mut self) -> Result<Vec<u8>, OutboundError> {
        if self.response.content_length().is_some_and(|length| length > MAX_ANSWER as u64) {
            return Err(OutboundError::TooLarge(MAX_ANSWER));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = self.response.chunk().await.map_err(|e| classify(&e, self.https))? {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                return Err(OutboundError::TooLarge(MAX_ANSWER));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// What went wrong, from reqwest's error and the errors it carries.
fn classify(error: &reqwest::Error, https: bool) -> OutboundError {
    let mut io_kind = None;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(lookup) = cause.downcast_ref::<LookupError>() {
            return match lookup {
                LookupError::Refused(refused) => OutboundError::Refused(refused.clone()),
                LookupError::TimedOut => OutboundError::LookupTimedOut,
                LookupError::NotFound | LookupError::Failed(_) => OutboundError::NoAddress,
            };
        }
        if let Some(redirect) = cause.downcast_ref::<RedirectError>() {
            return match redirect {
                RedirectError::Refused(refused) => OutboundError::RedirectRefused(refused.clone()),
                RedirectError::TooMany(hops) => OutboundError::TooManyRedirects(*hops),
            };
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            io_kind = io_kind.or(Some(io.kind()));
        }
        source = cause.source();
    }
    let innermost = std::iter::successors(Some(error as &dyn std::error::Error), |e| e.source())
        .last()
        .map(ToString::to_string)
        .unwrap_or_default();
    use std::io::ErrorKind as Io;
    if error.is_connect() {
        return match io_kind {
            _ if error.is_timeout() => OutboundError::ConnectTimedOut,
            Some(Io::TimedOut) => OutboundError::ConnectTimedOut,
            // rustls reports a failed handshake as invalid data on the connection.
            Some(Io::InvalidData) if https => OutboundError::Tls(innermost),
            _ => OutboundError::ConnectRefused,
        };
    }
    if error.is_timeout() {
        return OutboundError::AnswerTimedOut;
    }
    if error.is_builder() {
        return OutboundError::BadUrl;
    }
    match io_kind {
        Some(Io::InvalidData) if https => OutboundError::Tls(innermost),
        Some(_) => OutboundError::Broken,
        None if error.is_request() || error.is_body() => {
            // hyper's parse errors carry no io::Error: the bytes were not HTTP.
            if innermost.contains("parse") || innermost.contains("invalid") {
                OutboundError::NotHttp
            } else {
                OutboundError::Broken
            }
        }
        None => OutboundError::NotHttp,
    }
}
