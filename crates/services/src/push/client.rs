//! privacyIDEA's reply envelope over the one HTTP client (`net::HttpClient`): form posts and
//! signed GETs whose reply is `{"result": {"status": bool, "value": …, "error": {"message"}},
//! "detail": {…}}`, and tiqr's plain replies. The network rules (https, redirects, caps,
//! timeouts) are net's.

use std::time::{Duration, Instant};

use net::{HttpClient, Method};
use serde_json::Value;

use crate::error::{Error, Result};

/// Largest reply body accepted from a push server (privacyIDEA's replies are a few KiB).
pub const MAX_REPLY_BYTES: usize = 1 << 20;
/// Most JSON values (objects, arrays, strings, numbers, …) a reply may hold: 100 challenges of
/// a dozen fields need about 1,400.
pub const MAX_REPLY_VALUES: usize = 10_000;

/// A reply in privacyIDEA's envelope.
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

/// POSTs a form and returns the reply's `result.value` and `detail`.
pub async fn post(client: &HttpClient, url: &str, form: &[(&str, &str)], verify_tls: bool) -> Result<Reply> {
    read(client.request(Method::POST, url, verify_tls)?.form(form).send(MAX_REPLY_BYTES).await?)
}

/// GETs with a query string and returns the reply's `result.value` and `detail`.
pub async fn get(client: &HttpClient, url: &str, query: &[(&str, &str)], verify_tls: bool) -> Result<Reply> {
    read(client.request(Method::GET, url, verify_tls)?.query(query).send(MAX_REPLY_BYTES).await?)
}

/// tiqr: a GET (`form` None) or form POST whose reply is not privacyIDEA's envelope: the HTTP
/// status and the body (capped, redirects refused like everywhere).
pub async fn raw(
    client: &HttpClient,
    url: &str,
    form: Option<&[(&str, &str)]>,
    verify_tls: bool,
) -> Result<(u16, Vec<u8>)> {
    let request = match form {
        Some(form) => client.request(Method::POST, url, verify_tls)?.form(form),
        None => client.request(Method::GET, url, verify_tls)?,
    };
    let response = request.send(MAX_REPLY_BYTES).await?;
    Ok((response.status, response.body))
}

fn read(response: net::Response) -> Result<Reply> {
    let success = response.is_success();
    let http_status = || format!("HTTP {}", response.status);
    let mut json: Value = match net::json::parse_bounded(&response.body, MAX_REPLY_VALUES) {
        Ok(json) => json,
        Err(net::json::Refused::TooManyValues) => {
            return Err(Error::Protocol(format!("the server's reply holds more than {MAX_REPLY_VALUES} JSON values")));
        }
        Err(net::json::Refused::NotJson) if !success => return Err(Error::ServerRejected { message: http_status() }),
        Err(net::json::Refused::NotJson) => return Err(Error::Protocol("the server's reply is not JSON".into())),
    };
    let result = &json["result"];
    if let Some(message) = result["error"]["message"].as_str() {
        return Err(Error::ServerRejected { message: clip(message) });
    }
    if !success {
        return Err(Error::ServerRejected { message: http_status() });
    }
    if result["status"].as_bool() != Some(true) {
        return Err(Error::Protocol("the server's reply has no successful result".into()));
    }
    let precise = json["time"].as_f64().filter(|t| t.is_finite() && *t > 0.0 && *t < 1e11);
    let server_time = match precise {
        Some(t) => Some(crate::clock::ServerTime::Precise((t * 1000.0).round() as i64)),
        None => response.date.map(crate::clock::ServerTime::Date),
    };
    Ok(Reply {
        value: json["result"]["value"].take(),
        detail: json["detail"].take(),
        sent_at: response.sent_at,
        round_trip: response.round_trip,
        server_time,
    })
}

/// Server messages are shown to users: keep them one short line, cleaned like names (no
/// control, bidi or invisible characters).
fn clip(message: &str) -> String {
    domain::text::clean(message).chars().take(300).collect()
}
