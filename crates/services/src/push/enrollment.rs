//! Enrollment URIs from the privacyIDEA admin's QR code:
//! `otpauth://pipush/<label>?url=…&ttl=…&issuer=…&enrollment_credential=…&v=1&serial=…&sslverify=0|1
//! &poll_only=True|False[&pin=True][&app_force_unlock=…]` (`pia://pipush/…` on some servers), and
//! eduMFA's eduPUSH: `edumfa-push://edumfa/<label>?url=…/ttype/edupush&ttl=…&issuer=…
//! &enrollment_credential=…&v=1&serial=EDUP…&sslverify=0|1[&pin=True]` (only version 1).

use zeroize::Zeroizing;

use crate::error::Error;
use domain::PushProtocol;
use domain::codec::query::{self, Query};
use domain::text::clean;

/// What the QR code tells the phone.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrollment {
    /// Token serial, `PIPU…`.
    pub serial: String,
    /// Endpoint for registration, polling and answers (normally `…/ttype/push`).
    pub url: String,
    /// Minutes the enrollment credential stays valid.
    pub ttl_minutes: u32,
    /// Service name shown with the token.
    pub issuer: String,
    /// Account name at the service.
    pub label: String,
    /// One-time credential proving this phone scanned the QR code; never logged.
    pub enrollment_credential: Zeroizing<String>,
    /// Whether the server asks the phone to verify its TLS certificate.
    pub sslverify: bool,
    /// The server delivers challenges only by polling (no Firebase).
    pub poll_only: bool,
    /// The server demands an unlock before answering (`pin=True` or `app_force_unlock=pin`).
    pub requires_pin: bool,
    /// privacyIDEA's push token or eduMFA's eduPUSH.
    pub protocol: PushProtocol,
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrollment")
            .field("serial", &self.serial)
            .field("url", &self.url)
            .field("issuer", &self.issuer)
            .field("label", &self.label)
            .field("sslverify", &self.sslverify)
            .field("poll_only", &self.poll_only)
            .field("requires_pin", &self.requires_pin)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

/// Whether `text` looks like a push enrollment URI (rather than an otpauth code account).
pub fn is_push_uri(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("otpauth://pipush/") || lower.starts_with("pia://") || lower.starts_with("edumfa-push://")
}

/// Parses an enrollment URI.
pub fn parse(uri: &str) -> Result<Enrollment, Error> {
    let invalid = |reason: &str| Error::InvalidEnrollment(reason.to_owned());
    let uri = uri.trim();
    if uri.len() > domain::uri::MAX_URI_BYTES {
        return Err(invalid("the URI is longer than 16 KiB"));
    }
    let (scheme, path, query) = query::split_uri(uri).ok_or_else(|| invalid("not a push enrollment URI"))?;
    let (kind, raw_label) = path.split_once('/').unwrap_or((path, ""));
    let protocol = if scheme.eq_ignore_ascii_case("edumfa-push") && kind.eq_ignore_ascii_case("edumfa") {
        PushProtocol::EduPush
    } else if (scheme.eq_ignore_ascii_case("otpauth") || scheme.eq_ignore_ascii_case("pia"))
        && kind.eq_ignore_ascii_case("pipush")
    {
        PushProtocol::PrivacyIdea
    } else {
        return Err(invalid(
            "not a push enrollment URI (otpauth://pipush/…, pia://pipush/… or edumfa-push://edumfa/…)",
        ));
    };
    let not_utf8 = |_| invalid("not valid UTF-8 once percent-decoded");
    let params = Query::parse(query).map_err(not_utf8)?;
    let get = |key: &str| -> Result<Option<Zeroizing<String>>, Error> {
        Ok(params.get(key).map_err(not_utf8)?.map(|v| Zeroizing::new(v.trim().to_owned())))
    };
    let text = |key: &str| -> Result<Option<String>, Error> { Ok(get(key)?.map(|v| v.to_string())) };
    let flag = |key: &str| -> Result<bool, Error> {
        Ok(text(key)?.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes")))
    };
    if protocol == PushProtocol::EduPush && text("v")?.as_deref() != Some("1") {
        return Err(invalid("only version 1 of the eduPUSH enrollment is known (v=1)"));
    }
    let serial = text("serial")?.filter(|s| !s.is_empty()).ok_or_else(|| invalid("no serial"))?;
    if serial.len() > 64 || !serial.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(invalid("the serial has unexpected characters"));
    }
    let url = text("url")?.filter(|u| !u.is_empty()).ok_or_else(|| invalid("no url"))?;
    // Stored and shown as it is (the server signs it): a URL with control, bidi or invisible
    // characters is no URL a server sends, only a trick.
    if domain::text::clean(&url) != url {
        return Err(invalid("the url has control or invisible characters"));
    }
    let enrollment_credential =
        get("enrollment_credential")?.filter(|c| !c.is_empty()).ok_or_else(|| invalid("no enrollment_credential"))?;
    let ttl_minutes = match text("ttl")? {
        Some(t) => t.parse().map_err(|_| invalid("ttl is not a number of minutes"))?,
        None => 10,
    };
    let label = clean(&query::decode(raw_label, false).map_err(|_| invalid("label is not valid UTF-8"))?);
    let issuer = clean(&text("issuer")?.unwrap_or_default());
    // The label may repeat the issuer as a prefix, like otpauth labels.
    let (issuer, label) = domain::uri::split_label(&label, &issuer);
    let requires_pin = flag("pin")? || text("app_force_unlock")?.is_some_and(|v| v.eq_ignore_ascii_case("pin"));
    Ok(Enrollment {
        serial,
        url,
        ttl_minutes,
        issuer,
        label,
        enrollment_credential,
        // Absent means verify: failing safe.
        sslverify: text("sslverify")?.is_none_or(|v| v != "0" && !v.eq_ignore_ascii_case("false")),
        poll_only: flag("poll_only")?,
        requires_pin,
        protocol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "otpauth://pipush/PIPU0001F75E?url=https%3A//pi.example.com/ttype/push&ttl=10\
        &issuer=privacyIDEA&enrollment_credential=9311ee50678983c0f29d3d843f86e39405e2b427\
        &v=1&serial=PIPU0001F75E&sslverify=0&poll_only=True";

    #[test]
    fn parses_a_privacyidea_enrollment_uri() {
        let e = parse(URI).unwrap();
        assert_eq!(e.serial, "PIPU0001F75E");
        assert_eq!(e.url, "https://pi.example.com/ttype/push");
        assert_eq!((e.ttl_minutes, e.issuer.as_str(), e.label.as_str()), (10, "privacyIDEA", "PIPU0001F75E"));
        assert_eq!(e.enrollment_credential.as_str(), "9311ee50678983c0f29d3d843f86e39405e2b427");
        assert!(!e.sslverify && e.poll_only && !e.requires_pin);
        assert!(!format!("{e:?}").contains("9311ee"), "Debug must not show the credential");
    }

    #[test]
    fn pin_is_required_by_pin_flag_or_forced_unlock() {
        assert!(parse(&format!("{URI}&pin=True")).unwrap().requires_pin);
        assert!(parse(&format!("{URI}&app_force_unlock=pin")).unwrap().requires_pin);
        assert!(!parse(&format!("{URI}&app_force_unlock=biometric")).unwrap().requires_pin);
        assert!(parse(&URI.replace("otpauth://", "pia://")).is_ok());
        assert!(is_push_uri(URI) && !is_push_uri("otpauth://totp/x?secret=A"));
    }

    const EDU: &str = "edumfa-push://edumfa/EDUP0000A1B2?url=http%3A//127.0.0.1%3A5001/ttype/edupush&ttl=10\
        &issuer=eduMFA&enrollment_credential=4f1e2d&v=1&serial=EDUP0000A1B2&sslverify=0";

    #[test]
    fn parses_an_edupush_enrollment_uri_of_version_1_only() {
        let e = parse(EDU).unwrap();
        assert_eq!(e.protocol, PushProtocol::EduPush);
        assert_eq!((e.serial.as_str(), e.url.as_str()), ("EDUP0000A1B2", "http://127.0.0.1:5001/ttype/edupush"));
        assert_eq!((e.issuer.as_str(), e.label.as_str(), e.ttl_minutes), ("eduMFA", "EDUP0000A1B2", 10));
        assert!(!e.sslverify && !e.requires_pin && !e.poll_only);
        assert!(parse(&format!("{EDU}&pin=True")).unwrap().requires_pin);
        assert!(is_push_uri(EDU) && is_push_uri(&EDU.to_uppercase()));
        assert_eq!(parse(URI).unwrap().protocol, PushProtocol::PrivacyIdea);
        for other in [EDU.replace("v=1", "v=2"), EDU.replace("&v=1", ""), EDU.replace("v=1", "v=01")] {
            assert!(parse(&other).unwrap_err().to_string().contains("version 1"), "{other}");
        }
        // The host names the protocol: another host is no eduPUSH link.
        assert!(parse(&EDU.replace("edumfa-push://edumfa/", "edumfa-push://pipush/")).is_err());
    }

    #[test]
    fn labels_and_issuers_are_cleaned_and_a_url_with_hidden_characters_is_refused() {
        let hostile = "%1B%5D0%3Bpwned%07Git%1B%5B2J%0D%0AHub%E2%80%AE%E2%80%8B";
        let uri = URI.replace("pipush/PIPU0001F75E", &format!("pipush/{hostile}")).replace("privacyIDEA", hostile);
        let e = parse(&uri).unwrap();
        assert_eq!((e.issuer.as_str(), e.label.as_str()), ("]0;pwnedGit[2JHub", "]0;pwnedGit[2JHub"));
        for trick in ["%1B%5B2J", "%E2%80%AE", "%0D%0A", "%E2%80%8B"] {
            let uri = URI.replace("ttype/push", &format!("ttype{trick}/push"));
            let e = parse(&uri).unwrap_err();
            assert!(e.to_string().contains("control or invisible"), "{trick}: {e}");
        }
    }

    #[test]
    fn rejects_incomplete_enrollment_uris() {
        for (uri, reason) in [
            (URI.replace("serial=PIPU0001F75E", "serial="), "serial"),
            (URI.replace("?url=", "?nourl="), "url"),
            (URI.replace("enrollment_credential", "cred"), "enrollment_credential"),
            (URI.replace("pipush", "totp"), "push enrollment"),
            (URI.replace("serial=PIPU0001F75E", "serial=PIPU%2F..%2F"), "serial"),
        ] {
            let e = parse(&uri).unwrap_err();
            assert!(e.to_string().contains(reason), "{uri}: {e}");
        }
    }
}
