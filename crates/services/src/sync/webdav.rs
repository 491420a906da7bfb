//! WebDAV transport: GET, conditional PUT, DELETE and MKCOL on one folder, with basic auth.
//!
//! Over the one HTTP client (`net::HttpClient`) and its rules: https only, plain http only on
//! loopback; redirects are never followed; connect and whole-request timeouts; replies capped at
//! [`MAX_OBJECT_BYTES`]. Conditional PUTs (`If-Match: <etag>`, `If-None-Match: *`) make a
//! concurrent writer's PUT fail with 412 ([`Error::SyncConflict`]) instead of overwriting.

use std::time::Duration;

use net::{HttpClient, Method};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

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
    http: HttpClient,
    timeout: Duration,
    base: String,
    user: String,
    password: Zeroizing<String>,
}

impl std::fmt::Debug for Folder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folder").field("base", &self.base).finish_non_exhaustive()
    }
}

const NOT_FOUND: u16 = 404;
const METHOD_NOT_ALLOWED: u16 = 405;
const PRECONDITION_FAILED: u16 = 412;

impl Folder {
    /// The folder at `url` (https, or http on loopback), as `user`; each request may take up to
    /// `timeout`.
    pub fn new(http: HttpClient, timeout: Duration, url: &str, user: &str, password: &str) -> Result<Self> {
        net::check_url(url)?;
        let base = if url.ends_with('/') { url.to_owned() } else { format!("{url}/") };
        Ok(Self { http, timeout, base, user: user.to_owned(), password: Zeroizing::new(password.to_owned()) })
    }

    async fn send(&self, method: Method, name: &str, body: Option<(Vec<u8>, &Expect)>) -> Result<net::Response> {
        let mut request = self
            .http
            .request(method, &format!("{}{name}", self.base), true)?
            .basic_auth(&self.user, &self.password)
            .timeout(self.timeout);
        if let Some((body, expect)) = body {
            request = match expect {
                Expect::Absent => request.header("if-none-match", "*"),
                Expect::Unchanged(etag) => request.header("if-match", etag),
            };
            request = request.header("content-type", "application/octet-stream").body(body);
        }
        let response = request.send(MAX_OBJECT_BYTES).await.map_err(|e| match e {
            net::Error::TooLarge { .. } => {
                Error::Protocol(format!("a sync object is larger than {} MiB", MAX_OBJECT_BYTES >> 20))
            }
            e => e.into(),
        })?;
        Ok(response)
    }

    /// Creates the folder; an existing one is fine.
    pub async fn ensure(&self) -> Result<()> {
        let mkcol = Method::from_bytes(b"MKCOL").expect("a valid method");
        let response = self.send(mkcol, "", None).await?;
        match response.status {
            // 405: it exists already.
            s if response.is_success() || s == METHOD_NOT_ALLOWED => Ok(()),
            status => Err(Error::SyncServer { status }),
        }
    }

    /// The object `name` and its ETag, or None when it does not exist.
    pub async fn get(&self, name: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
        let response = self.send(Method::GET, name, None).await?;
        match response.status {
            NOT_FOUND => Ok(None),
            status if !response.is_success() => Err(Error::SyncServer { status }),
            _ => Ok(Some((response.body, response.etag))),
        }
    }

    /// Writes `name` if it is as `expect` says; another writer's change in between is
    /// [`Error::SyncConflict`].
    pub async fn put(&self, name: &str, body: Vec<u8>, expect: &Expect) -> Result<()> {
        let response = self.send(Method::PUT, name, Some((body, expect))).await?;
        match response.status {
            _ if response.is_success() => Ok(()),
            PRECONDITION_FAILED => Err(Error::SyncConflict),
            status => Err(Error::SyncServer { status }),
        }
    }

    /// Deletes `name`; a missing object is fine.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let response = self.send(Method::DELETE, name, None).await?;
        match response.status {
            s if response.is_success() || s == NOT_FOUND => Ok(()),
            status => Err(Error::SyncServer { status }),
        }
    }

    /// The names of the objects in the folder (`PROPFIND`, depth 1), the folder itself left out.
    pub async fn list(&self) -> Result<Vec<String>> {
        let propfind = Method::from_bytes(b"PROPFIND").expect("a valid method");
        let body =
            br#"<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>"#;
        let response = self
            .http
            .request(propfind, &self.base, true)?
            .basic_auth(&self.user, &self.password)
            .timeout(self.timeout)
            .header("depth", "1")
            .header("content-type", "application/xml")
            .body(body.to_vec())
            .send(MAX_OBJECT_BYTES)
            .await?;
        if !response.is_success() {
            return Err(Error::SyncServer { status: response.status });
        }
        Ok(hrefs(&String::from_utf8_lossy(&response.body)))
    }
}

/// The last path segment of every `<href>` (any namespace prefix) in a multistatus reply, the
/// empty ones (the folder itself) left out.
fn hrefs(xml: &str) -> Vec<String> {
    let mut names = Vec::new();
    for tag in xml.split('<').skip(1) {
        let Some((head, text)) = tag.split_once('>') else { continue };
        let local = head.rsplit(':').next().unwrap_or(head);
        if local.eq_ignore_ascii_case("href") {
            let name = text.trim().trim_end_matches('/').rsplit('/').next().unwrap_or_default();
            let folder = text.trim().ends_with('/');
            if !name.is_empty() && !folder {
                names.push(name.to_owned());
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    #[test]
    fn hrefs_of_a_multistatus_are_the_objects_names() {
        let xml = r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/</D:href></D:response><D:response><D:href>/dav/key</D:href></D:response><d:response><d:href> /dav/state-3-ab </d:href></d:response><response><href>/dav/sub/</href></response></D:multistatus>"#;
        assert_eq!(super::hrefs(xml), ["key", "state-3-ab"]);
    }
}
