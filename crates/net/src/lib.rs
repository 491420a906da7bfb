//! HTTP to the push server: form posts and signed GETs, privacyIDEA's reply envelope, and the
//! network rules (https only, except loopback; certificate checks off only on explicit opt-in;
//! redirects are never followed).

use std::net::IpAddr;
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, Result};

/// Longest wait to connect (TCP and TLS) to a push server.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a whole push call may take, from connecting to the last byte of the reply.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest reply body accepted from a push server (privacyIDEA's replies are a few KiB).
pub const MAX_REPLY_BYTES: usize = 1 << 20;
/// Most JSON values (objects, arrays, strings, numbers, …) a reply may hold: 100 challenges of
/// a dozen fields need about 1,400. Without it, a 1 MiB reply of `0,0,0,…` builds half a
/// million values (about 35 MiB) before any other check can look at it.
pub const MAX_REPLY_VALUES: usize = 10_000;

/// Two HTTP clients: one that verifies certificates (always used, unless the user opted in to
/// the server's `sslverify=0` for that token) and one that does not.
#[derive(Clone)]
pub struct PushClient {
    verified: reqwest::Client,
    unverified: reqwest::Client,
}

impl std::fmt::Debug for PushClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PushClient")
    }
}

impl PushClient {
    /// An HTTP client for push servers ([`CONNECT_TIMEOUT`] to connect, [`REQUEST_TIMEOUT`] per
    /// call including the reply body, which is capped at [`MAX_REPLY_BYTES`]; redirects are
    /// never followed); fails only if TLS cannot be set up.
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
                // Never follow a redirect: the https/loopback rule is checked on the enrolled URL
                // only, and the signed answer must reach that server and no other. A 3xx reply is
                // a protocol error (see `Reply::read`).
                .redirect(reqwest::redirect::Policy::none())
                .tls_danger_accept_invalid_certs(!verify)
                .user_agent(concat!("authenticator-core/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Error::Network(format!("cannot set up HTTP: {e}")))
        };
        Ok(Self { verified: build(true)?, unverified: build(false)? })
    }

    fn http(&self, verify_tls: bool) -> &reqwest::Client {
        if verify_tls { &self.verified } else { &self.unverified }
    }

    /// POSTs a form and returns the reply's `result.value` and `detail`.
    pub async fn post(&self, url: &str, form: &[(&str, &str)], verify_tls: bool) -> Result<Reply> {
        check_url(url)?;
        let sent_at = Instant::now();
        let response = self.http(verify_tls).post(url).form(form).send().await.map_err(network)?;
        Reply::read(response, sent_at).await
    }

    /// tiqr: a GET (`form` None) or form POST whose reply is not privacyIDEA's envelope: the
    /// HTTP status and the body (capped, redirects refused like everywhere).
    pub async fn raw(&self, url: &str, form: Option<&[(&str, &str)]>, verify_tls: bool) -> Result<(u16, Vec<u8>)> {
        check_url(url)?;
        let request = match form {
            Some(form) => self.http(verify_tls).post(url).form(form),
            None => self.http(verify_tls).get(url),
        };
        let response = request.send().await.map_err(network)?;
        if response.status().is_redirection() {
            return Err(redirected(&response));
        }
        let status = response.status().as_u16();
        Ok((status, read_capped(response).await?))
    }

    /// GETs with a query string and returns the reply's `result.value` and `detail`.
    pub async fn get(&self, url: &str, query: &[(&str, &str)], verify_tls: bool) -> Result<Reply> {
        check_url(url)?;
        let sent_at = Instant::now();
        let response = self.http(verify_tls).get(url).query(query).send().await.map_err(network)?;
        Reply::read(response, sent_at).await
    }

    /// A HEAD request (certificates always verified, no redirect followed) for the clock check:
    /// the Unix seconds of the reply's `Date` header, whatever its status; None without one.
    pub async fn head_date(&self, url: &str) -> Result<Option<i64>> {
        check_url(url)?;
        let response = self.verified.head(url).send().await.map_err(network)?;
        Ok(date_header(&response))
    }
}

/// The reply's `Date` header, as Unix seconds.
fn date_header(response: &reqwest::Response) -> Option<i64> {
    let value = response.headers().get(reqwest::header::DATE)?;
    crate::clock::http_date::parse(value.to_str().ok()?)
}

/// privacyIDEA's envelope: `{"result": {"status": bool, "value": …, "error": {"message"}}, "detail": {…}}`.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The reply's `result.value`.
    pub value: Value,
    /// The reply's `detail` (JSON null when absent).
    pub detail: Value,
    /// When the request was sent (monotonic clock).
    pub sent_at: Instant,
    /// From sending the request to the reply's last byte.
    pub round_trip: Duration,
    /// The server's time: privacyIDEA's top-level `time` field (Unix seconds with a fraction),
    /// else the `Date` header. Measures the device clock for free (see [`crate::clock`]).
    pub server_time: Option<crate::clock::ServerTime>,
}

impl Reply {
    async fn read(response: reqwest::Response, sent_at: Instant) -> Result<Self> {
        let status = response.status();
        let date = date_header(&response);
        if status.is_redirection() {
            return Err(redirected(&response));
        }
        let body = read_capped(response).await?;
        let round_trip = sent_at.elapsed();
        let mut json: Value = match bounded::parse(&body, MAX_REPLY_VALUES) {
            Ok(json) => json,
            Err(bounded::Refused::TooManyValues) => {
                return Err(Error::Protocol(format!(
                    "the server's reply holds more than {MAX_REPLY_VALUES} JSON values"
                )));
            }
            Err(bounded::Refused::NotJson) if !status.is_success() => {
                return Err(Error::ServerRejected { message: format!("HTTP {}", status.as_u16()) });
            }
            Err(bounded::Refused::NotJson) => return Err(Error::Protocol("the server's reply is not JSON".into())),
        };
        drop(body);
        let result = &json["result"];
        if let Some(message) = result["error"]["message"].as_str() {
            return Err(Error::ServerRejected { message: clip(message) });
        }
        if !status.is_success() {
            return Err(Error::ServerRejected { message: format!("HTTP {}", status.as_u16()) });
        }
        if result["status"].as_bool() != Some(true) {
            return Err(Error::Protocol("the server's reply has no successful result".into()));
        }
        let precise = json["time"].as_f64().filter(|t| t.is_finite() && *t > 0.0 && *t < 1e11);
        let server_time = match precise {
            Some(t) => Some(crate::clock::ServerTime::Precise((t * 1000.0).round() as i64)),
            None => date.map(crate::clock::ServerTime::Date),
        };
        Ok(Self {
            value: json["result"]["value"].take(),
            detail: json["detail"].take(),
            sent_at,
            round_trip,
            server_time,
        })
    }
}

/// JSON parsing with a budget on the number of values, so a reply's size in memory stays a
/// small multiple of its size on the wire.
mod bounded {
    use std::cell::Cell;
    use std::fmt;

    use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Value};

    /// Why a body was not parsed.
    pub(super) enum Refused {
        NotJson,
        TooManyValues,
    }

    /// Parses `bytes` as JSON holding at most `max_values` values.
    pub(super) fn parse(bytes: &[u8], max_values: usize) -> Result<Value, Refused> {
        let budget = Budget { left: Cell::new(max_values), exhausted: Cell::new(false) };
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let parsed = Node(&budget).deserialize(&mut deserializer).and_then(|value| deserializer.end().map(|()| value));
        match parsed {
            Ok(value) => Ok(value),
            Err(_) if budget.exhausted.get() => Err(Refused::TooManyValues),
            Err(_) => Err(Refused::NotJson),
        }
    }

    struct Budget {
        left: Cell<usize>,
        exhausted: Cell<bool>,
    }

    /// One JSON value, charged to the budget before it is built.
    struct Node<'a>(&'a Budget);

    impl<'de> DeserializeSeed<'de> for Node<'_> {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
            match self.0.left.get().checked_sub(1) {
                Some(left) => self.0.left.set(left),
                None => {
                    self.0.exhausted.set(true);
                    return Err(de::Error::custom("too many JSON values"));
                }
            }
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Node<'_> {
        type Value = Value;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element_seed(Node(self.0))? {
                items.push(item);
            }
            Ok(Value::Array(items))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut object = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value_seed(Node(self.0))?;
                object.insert(key, value);
            }
            Ok(Value::Object(object))
        }
    }
}

/// Reads the body, refusing it as soon as it is known to exceed [`MAX_REPLY_BYTES`]: from its
/// Content-Length before reading anything, or while reading, chunk by chunk. Dropping the
/// response then closes the connection, so the rest is never read.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>> {
    let too_large = || Error::Protocol(format!("the server's reply is larger than {} MiB", MAX_REPLY_BYTES >> 20));
    let declared = response.content_length().unwrap_or(0);
    if declared > MAX_REPLY_BYTES as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if chunk.len() > MAX_REPLY_BYTES - body.len() {
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
            let shown = crate::text::excerpt(&location);
            let more = if shown.len() < location.len() { "…" } else { "" };
            format!(" to '{shown}{more}'")
        }
        None => String::new(),
    };
    Error::Protocol(format!(
        "the server answered HTTP {} (a redirect{to}); push calls never follow redirects",
        response.status().as_u16()
    ))
}

/// Server messages are shown to users: keep them one short line, cleaned like names (no
/// control, bidi or invisible characters).
fn clip(message: &str) -> String {
    crate::text::clean(message).chars().take(300).collect()
}

pub(crate) fn network(e: reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // reqwest's messages name the URL (no secrets: signatures travel in forms, not URLs, except
    // poll's, which only proves freshness) and the OS error.
    Error::Network(format!("{kind}: {}", e.without_url()))
}

/// Push servers must use https; plain http is accepted only for loopback hosts (tests, a
/// server on this machine), where nothing crosses a network.
pub fn check_url(url: &str) -> Result<()> {
    // Quoted in the error, so cleaned and cut short: the URL may come from a hostile QR code.
    let quoted = || crate::text::clean(url).chars().take(100).collect::<String>();
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
    fn certificates_are_skipped_only_when_the_server_says_so_and_the_user_opted_in() {
        let token = |sslverify, allow_insecure_tls| crate::push::PushToken {
            id: 1,
            serial: "PIPU1".into(),
            issuer: String::new(),
            label: String::new(),
            url: "https://pi.example.com/ttype/push".into(),
            sslverify,
            allow_insecure_tls,
            has_pin: false,
            pin_required_by_server: false,
            created_at: 0,
            protocol: crate::PushProtocol::PrivacyIdea,
            key_type: crate::DeviceKeyType::Rsa,
            offers_number_matching: true,
            offers_decline_reasons: true,
        };
        assert!(token(true, false).verify_tls());
        assert!(token(true, true).verify_tls());
        assert!(token(false, false).verify_tls(), "sslverify=0 alone must not turn checks off");
        assert!(!token(false, true).verify_tls());
    }

    #[test]
    fn bounded_parsing_reads_json_like_serde_json_and_stops_at_the_value_budget() {
        let text = r#"{"result":{"status":true,"value":[{"nonce":"N","n":-1,"f":1.5,"u":18446744073709551615,"x":null,"e":[],"o":{}}]},"detail":"\u00e9"}"#;
        let expected: Value = serde_json::from_str(text).unwrap();
        // 1 envelope + result + status + value + 1 item + 7 fields + detail = 13 values.
        assert!(bounded::parse(text.as_bytes(), 13).is_ok_and(|v| v == expected));
        assert!(matches!(bounded::parse(text.as_bytes(), 12), Err(bounded::Refused::TooManyValues)));
        for bad in ["", "{", "[1,]", "{} trailing", "nul"] {
            assert!(matches!(bounded::parse(bad.as_bytes(), 100), Err(bounded::Refused::NotJson)), "{bad:?}");
        }
        let deep = "[".repeat(10_000);
        assert!(bounded::parse(deep.as_bytes(), usize::MAX).is_err(), "serde_json's depth limit still holds");
    }

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
}
