//! WebDAV transport: GET, conditional PUT, DELETE and MKCOL on one folder, with basic auth.
//!
//! The network rules are push's: https only, plain http only on loopback; redirects are never
//! followed; connect and whole-request timeouts; replies capped at [`MAX_OBJECT_BYTES`].
//! Conditional PUTs (`If-Match: <etag>`, `If-None-Match: *`) make a concurrent writer's PUT fail
//! with 412 ([`Error::SyncConflict`]) instead of overwriting.

use std::sync::Once;
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::push::client::{check_url, network};

/// Longest wait to connect (TCP and TLS) to a sync server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one request may take, from connecting to the last byte of the reply.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest object read from a sync server (a state of 10,000 accounts is about 4 MiB).
pub const MAX_OBJECT_BYTES: usize = 16 << 20;

/// How a PUT must find the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Absent (`If-None-Match: *`).
    Absent,
    /// Unchanged since it was read with this ETag (`If-Match`).
    Unchanged(String),
}

/// A folder on a WebDAV server, with its credentials. `Debug` shows the URL only.
#[derive(Clone)]
pub struct Folder {
    http: reqwest::Client,
    base: String,
    user: String,
    password: Zeroizing<String>,
}

impl std::fmt::Debug for Folder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folder").field("base", &self.base).finish_non_exhaustive()
    }
}

/// An HTTP client for sync servers.
pub fn http_client(connect: Duration, request: Duration) -> Result<reqwest::Client> {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .connect_timeout(connect)
        .timeout(request)
        .https_only(false) // enforced per URL by `check_url`, which allows loopback http
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("authenticator-core/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Network(format!("cannot set up HTTP: {e}")))
}

impl Folder {
    /// The folder at `url` (https, or http on loopback), as `user`.
    pub fn new(http: reqwest::Client, url: &str, user: &str, password: &str) -> Result<Self> {
        check_url(url)?;
        let base = if url.ends_with('/') { url.to_owned() } else { format!("{url}/") };
        Ok(Self { http, base, user: user.to_owned(), password: Zeroizing::new(password.to_owned()) })
    }

    fn request(&self, method: Method, name: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{name}", self.base)).basic_auth(&self.user, Some(self.password.as_str()))
    }

    /// Creates the folder when it does not exist.
    pub async fn ensure(&self) -> Result<()> {
        let mkcol = Method::from_bytes(b"MKCOL").expect("a valid method");
        let response = self.request(mkcol, "").send().await.map_err(network)?;
        match response.status() {
            // 405: it exists already.
            s if s.is_success() || s == StatusCode::METHOD_NOT_ALLOWED => Ok(()),
            s => Err(Error::SyncServer { status: s.as_u16() }),
        }
    }

    /// The object `name` and its ETag; `None` when it does not exist.
    pub async fn get(&self, name: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
        let mut response = self.request(Method::GET, name).send().await.map_err(network)?;
        match response.status() {
            StatusCode::NOT_FOUND => return Ok(None),
            s if !s.is_success() => return Err(Error::SyncServer { status: s.as_u16() }),
            _ => {}
        }
        let etag = etag(&response);
        let too_large = || Error::Protocol(format!("a sync object is larger than {} MiB", MAX_OBJECT_BYTES >> 20));
        let declared = response.content_length().unwrap_or(0);
        if declared > MAX_OBJECT_BYTES as u64 {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared as usize);
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            if chunk.len() > MAX_OBJECT_BYTES - body.len() {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some((body, etag)))
    }

    /// Writes `name` if it is as `expect` says; 412 is [`Error::SyncConflict`].
    pub async fn put(&self, name: &str, body: Vec<u8>, expect: &Expect) -> Result<()> {
        let request = self.request(Method::PUT, name).header(header::CONTENT_TYPE, "application/octet-stream");
        let request = match expect {
            Expect::Absent => request.header(header::IF_NONE_MATCH, "*"),
            Expect::Unchanged(etag) => request.header(header::IF_MATCH, etag),
        };
        let response = request.body(body).send().await.map_err(network)?;
        match response.status() {
            s if s.is_success() => Ok(()),
            StatusCode::PRECONDITION_FAILED => Err(Error::SyncConflict),
            s => Err(Error::SyncServer { status: s.as_u16() }),
        }
    }

    /// Deletes `name`; a missing object is fine.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let response = self.request(Method::DELETE, name).send().await.map_err(network)?;
        match response.status() {
            s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
            s => Err(Error::SyncServer { status: s.as_u16() }),
        }
    }
}

fn etag(response: &reqwest::Response) -> Option<String> {
    response.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned)
}
