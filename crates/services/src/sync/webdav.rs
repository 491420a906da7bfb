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
const MULTI_STATUS: u16 = 207;

/// The members of a `PROPFIND` answer: the last segment of each `href` that is not a folder,
/// with its `getlastmodified`. A tolerant scan (any namespace prefix), not an XML parser: only
/// names the sync writes are ever acted on.
fn multistatus(xml: &str) -> Vec<(String, Option<i64>)> {
    let text_after = |part: &str, tag: &str| -> Option<String> {
        let at = part.find(tag)?;
        let rest = &part[at + tag.len()..];
        let rest = rest.strip_prefix('>').or_else(|| rest.find('>').map(|i| &rest[i + 1..]))?;
        Some(rest[..rest.find('<')?].trim().to_owned())
    };
    xml.split("response>")
        .filter_map(|part| {
            let href = text_after(part, "href")?;
            if href.ends_with('/') {
                return None;
            }
            let name = href.rsplit('/').next()?.to_owned();
            let modified = text_after(part, "getlastmodified").and_then(|d| net::http_date::parse(&d));
            Some((name, modified))
        })
        .collect()
}

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

    /// The objects in the folder (`PROPFIND`, depth 1), each with its last modification in
    /// Unix seconds when the server gives one, and the server's clock (its `Date`).
    pub async fn list(&self) -> Result<(Vec<(String, Option<i64>)>, Option<i64>)> {
        let propfind = Method::from_bytes(b"PROPFIND").expect("a valid method");
        let body = br#"<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><getlastmodified/></prop></propfind>"#;
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
        if response.status != MULTI_STATUS {
            return Err(Error::SyncServer { status: response.status });
        }
        Ok((multistatus(&String::from_utf8_lossy(&response.body)), response.date))
    }

    /// Deletes `name`; a missing object is fine.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let response = self.send(Method::DELETE, name, None).await?;
        match response.status {
            s if response.is_success() || s == NOT_FOUND => Ok(()),
            status => Err(Error::SyncServer { status }),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_propfind_answer_lists_the_objects_with_their_modification_times() {
        let xml = r#"<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">
<D:response><D:href>/dav/</D:href><D:propstat><D:prop><lp1:getlastmodified xmlns:lp1="DAV:">Fri, 04 Dec 2026 01:00:00 GMT</lp1:getlastmodified></D:prop></D:propstat></D:response>
<D:response><D:href>/dav/state-3-ab</D:href><D:propstat><D:prop><lp1:getlastmodified>Thu, 01 Jan 1970 00:01:40 GMT</lp1:getlastmodified></D:prop></D:propstat></D:response>
<D:response><D:href>/dav/key</D:href><D:propstat><D:prop><D:getlastmodified/></D:prop></D:propstat></D:response>
</D:multistatus>"#;
        assert_eq!(super::multistatus(xml), [("state-3-ab".to_owned(), Some(100)), ("key".to_owned(), None)]);
    }
}
