//! HTTP to the push server: form posts and signed GETs, privacyIDEA's reply envelope, and the
//! network rules (https only, except loopback; certificate checks off only on explicit opt-in).

use std::net::IpAddr;
use std::sync::Once;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

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
    /// An HTTP client for push servers (10 s to connect, 20 s per request); fails only if TLS cannot be set up.
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
        let response = self.http(verify_tls).post(url).form(form).send().await.map_err(network)?;
        Reply::read(response).await
    }

    /// GETs with a query string and returns the reply's `result.value` and `detail`.
    pub async fn get(&self, url: &str, query: &[(&str, &str)], verify_tls: bool) -> Result<Reply> {
        check_url(url)?;
        let response = self.http(verify_tls).get(url).query(query).send().await.map_err(network)?;
        Reply::read(response).await
    }
}

/// privacyIDEA's envelope: `{"result": {"status": bool, "value": …, "error": {"message"}}, "detail": {…}}`.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The reply's `result.value`.
    pub value: Value,
    /// The reply's `detail` (JSON null when absent).
    pub detail: Value,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Result<Self> {
        let status = response.status();
        let body = response.bytes().await.map_err(network)?;
        let json: Value = match serde_json::from_slice(&body) {
            Ok(json) => json,
            Err(_) if !status.is_success() => {
                return Err(Error::ServerRejected { message: format!("HTTP {}", status.as_u16()) });
            }
            Err(_) => return Err(Error::Protocol("the server's reply is not JSON".into())),
        };
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
        Ok(Self { value: result["value"].clone(), detail: json["detail"].clone() })
    }
}

/// Server messages are shown to users: keep them one short line, cleaned like names (no
/// control, bidi or invisible characters).
fn clip(message: &str) -> String {
    crate::text::clean(message).chars().take(300).collect()
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
    // poll's, which only proves freshness) and the OS error.
    Error::Network(format!("{kind}: {}", e.without_url()))
}

/// Push servers must use https; plain http is accepted only for loopback hosts (tests, a
/// server on this machine), where nothing crosses a network.
pub fn check_url(url: &str) -> Result<()> {
    // Quoted in the error, so cleaned and cut short: the URL may come from a hostile QR code.
    let refused = || Error::InsecureUrl(crate::text::clean(url).chars().take(100).collect());
    let parsed = reqwest::Url::parse(url).map_err(|_| refused())?;
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
        };
        assert!(token(true, false).verify_tls());
        assert!(token(true, true).verify_tls());
        assert!(token(false, false).verify_tls(), "sslverify=0 alone must not turn checks off");
        assert!(!token(false, true).verify_tls());
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
}
