//! The one HTTP client of the authenticator and its network rules, for every service that talks
//! HTTP (push servers, the clock's `Date` check, the WebDAV sync folder):
//! - https only; plain http only for loopback hosts ([`check_url`], on every request);
//! - certificates checked, unless the caller opts out for one request (a push token whose server
//!   says `sslverify=0` and whose user agreed);
//! - redirects never followed: a 3xx reply is [`Error::Redirected`] (the https rule is checked
//!   on the URL the user gave, and a signed answer must reach that server and no other);
//! - a connect timeout ([`CONNECT_TIMEOUT`]) and a whole-request timeout (per request, default
//!   [`REQUEST_TIMEOUT`]), replies capped in bytes by the caller ([`Request::send`]) and JSON
//!   capped in values ([`json::parse_bounded`]);
//! - the `Date` header read as Unix seconds ([`http_date`]).
//!
//! TLS is rustls on ring: one crypto library for TLS and the app's own crypto.

pub mod http_date;
pub mod json;

use std::net::IpAddr;
use std::sync::Once;
use std::time::{Duration, Instant};

pub use reqwest::Method;

/// Longest wait to connect (TCP and TLS) to a server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a whole call may take by default, from connecting to the last byte of the reply.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// What went wrong talking to a server. Messages name the server's URL at most in a cleaned
/// excerpt, never a form field (signatures and secrets travel in forms).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A URL that is not https (plain http is allowed only on loopback), or not a URL.
    #[error("refusing {0}: servers must use https (plain http only on loopback)")]
    InsecureUrl(String),
    /// A URL whose host is not ASCII: the library carries no Unicode tables for international
    /// domain names (IDNA), to stay small; their `xn--` form works.
    #[error("refusing {0}: write an international domain name in its xn-- form")]
    UnicodeHost(String),
    /// The server could not be reached (offline, DNS, TLS, timeout).
    #[error("network error: {0}")]
    Network(String),
    /// The server answered with a redirect, which is never followed.
    #[error("protocol error: the server answered HTTP {status} (a redirect{to}); this app never follows redirects")]
    Redirected {
        /// The HTTP status (3xx).
        status: u16,
        /// ` to '<excerpt of Location>'`, or empty without one.
        to: String,
    },
    /// The reply's body is larger than the caller's cap; the rest was not read.
    #[error("protocol error: the server's reply is larger than {} MiB", limit_bytes >> 20)]
    TooLarge {
        /// The cap, in bytes.
        limit_bytes: usize,
    },
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Two reqwest clients: one that verifies certificates (always used, unless the caller opts
/// out for one request) and one that does not. Cheap to clone (shared connection pools).
#[derive(Clone)]
pub struct HttpClient {
    verified: reqwest::Client,
    unverified: reqwest::Client,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient")
    }
}

impl HttpClient {
    /// A client ([`CONNECT_TIMEOUT`] to connect, [`REQUEST_TIMEOUT`] per call unless a request
    /// sets its own; redirects never followed); fails only if TLS cannot be set up.
    pub fn new() -> Result<Self> {
        static PROVIDER: Once = Once::new();
        // One crypto library for TLS and app crypto: ring (aws-lc-rs needs C cross-builds).
        PROVIDER.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let build = |verify: bool| {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .https_only(false) // enforced per URL by `check_url`, which allows loopback http
                .redirect(reqwest::redirect::Policy::none())
                .tls_danger_accept_invalid_certs(!verify)
                .user_agent(concat!("authenticator-core/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Error::Network(format!("cannot set up HTTP: {e}")))
        };
        Ok(Self { verified: build(true)?, unverified: build(false)? })
    }

    /// A request to `url`, which must pass [`check_url`]; certificates are checked unless
    /// `verify_tls` is false.
    pub fn request(&self, method: Method, url: &str, verify_tls: bool) -> Result<Request> {
        check_url(url)?;
        let http = if verify_tls { &self.verified } else { &self.unverified };
        Ok(Request { head: method == Method::HEAD, builder: http.request(method, url) })
    }
}

/// A request being built; [`Request::send`] sends it.
pub struct Request {
    head: bool,
    builder: reqwest::RequestBuilder,
}

impl Request {
    /// A form-encoded body.
    pub fn form(self, form: &[(&str, &str)]) -> Self {
        Self { builder: self.builder.form(form), ..self }
    }

    /// A query string appended to the URL.
    pub fn query(self, query: &[(&str, &str)]) -> Self {
        Self { builder: self.builder.query(query), ..self }
    }

    /// A header (names and values are the caller's constants and ETags).
    pub fn header(self, name: &'static str, value: &str) -> Self {
        Self { builder: self.builder.header(name, value), ..self }
    }

    /// Basic authentication.
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        Self { builder: self.builder.basic_auth(user, Some(password)), ..self }
    }

    /// A raw body.
    pub fn body(self, body: Vec<u8>) -> Self {
        Self { builder: self.builder.body(body), ..self }
    }

    /// This request's whole-call timeout instead of [`REQUEST_TIMEOUT`].
    pub fn timeout(self, timeout: Duration) -> Self {
        Self { builder: self.builder.timeout(timeout), ..self }
    }

    /// Sends it and reads the reply, refusing a redirect and a body over `max_body` bytes: from
    /// its Content-Length before reading anything, or while reading, chunk by chunk (dropping
    /// the response then closes the connection, so the rest is never read).
    pub async fn send(self, max_body: usize) -> Result<Response> {
        let sent_at = Instant::now();
        let response = self.builder.send().await.map_err(network)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(redirected(&response));
        }
        let date = date_header(&response);
        let etag = response.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = if self.head { Vec::new() } else { read_capped(response, max_body).await? };
        Ok(Response { status: status.as_u16(), body, date, etag, sent_at, round_trip: sent_at.elapsed() })
    }
}

/// A reply, its body read in full (within the cap). `Debug` shows the body's length, never
/// its bytes.
#[derive(Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The `Date` header, as Unix seconds.
    pub date: Option<i64>,
    /// The `ETag` header.
    pub etag: Option<String>,
    /// When the request was sent (monotonic clock).
    pub sent_at: Instant,
    /// From sending the request to the reply's last byte.
    pub round_trip: Duration,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("date", &self.date)
            .field("etag", &self.etag)
            .field("round_trip", &self.round_trip)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The reply's `Date` header, as Unix seconds.
fn date_header(response: &reqwest::Response) -> Option<i64> {
    let value = response.headers().get(reqwest::header::DATE)?;
    http_date::parse(value.to_str().ok()?)
}

async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>> {
    let too_large = || Error::TooLarge { limit_bytes: max };
    let declared = response.content_length().unwrap_or(0);
    if declared > max as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if chunk.len() > max - body.len() {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A 3xx reply: named by its status, with at most an excerpt of where it pointed.
fn redirected(response: &reqwest::Response) -> Error {
    let to = match response.headers().get(reqwest::header::LOCATION) {
        Some(location) => {
            let location = String::from_utf8_lossy(location.as_bytes());
            let shown = domain::text::excerpt(&location);
            let more = if shown.len() < location.len() { "…" } else { "" };
            format!(" to '{shown}{more}'")
        }
        None => String::new(),
    };
    Error::Redirected { status: response.status().as_u16(), to }
}

fn network(e: reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // reqwest's messages name the URL (no secrets: signatures travel in forms, not URLs, except
    // a push poll's, which only proves freshness) and the OS error.
    Error::Network(format!("{kind}: {}", e.without_url()))
}

/// Servers must use https; plain http is accepted only for loopback hosts (tests, a server on
/// this machine), where nothing crosses a network.
pub fn check_url(url: &str) -> Result<()> {
    // Quoted in the error, so cleaned and cut short: the URL may come from a hostile QR code.
    let quoted = || domain::text::clean(url).chars().take(100).collect::<String>();
    let refused = || Error::InsecureUrl(quoted());
    // The URL parser runs without IDNA's Unicode tables (idna_adapter is pinned to 1.0.0, which
    // saves 130 KB in the phones' library): it refuses non-ASCII hosts.
    let parsed =
        reqwest::Url::parse(url).map_err(|_| if url.is_ascii() { refused() } else { Error::UnicodeHost(quoted()) })?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(parsed.host_str().unwrap_or_default()) => Ok(()),
        _ => Err(refused()),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_everywhere_and_http_only_on_loopback() {
        for ok in [
            "https://pi.example.com/ttype/push",
            "http://127.0.0.1:5000/ttype/push",
            "http://localhost/x",
            "http://[::1]:8080/",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://pi.example.com/ttype/push",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "not a url",
            "http://127.0.0.1.evil.com/",
        ] {
            assert!(matches!(check_url(bad), Err(Error::InsecureUrl(_))), "{bad}");
        }
    }

    #[test]
    fn an_international_domain_name_works_in_its_xn_form_only() {
        assert!(check_url("https://xn--bcher-kva.example/ttype/push").is_ok());
        let err = check_url("https://bücher.example/ttype/push").unwrap_err();
        assert!(matches!(&err, Error::UnicodeHost(url) if url == "https://bücher.example/ttype/push"), "{err:?}");
        assert!(err.to_string().contains("xn--"));
    }

    #[test]
    fn debug_shows_a_replys_length_never_its_body() {
        let started = Instant::now();
        let response = Response {
            status: 200,
            body: b"secret=JBSWY3DPEHPK3PXP".to_vec(),
            date: None,
            etag: None,
            sent_at: started,
            round_trip: Duration::ZERO,
        };
        let shown = format!("{response:?}");
        assert!(shown.contains("<23 bytes>") && !shown.contains("JBSWY3DP"), "{shown}");
    }

    #[test]
    fn a_quoted_url_loses_its_control_and_bidi_characters() {
        let err = check_url("http://evil.example/\u{202E}\u{1b}[31mx").unwrap_err();
        assert_eq!(err, Error::InsecureUrl("http://evil.example/[31mx".into()));
    }
}
