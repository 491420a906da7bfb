//! Challenges as the server sends them (poll reply items, or a Firebase/APNs data payload: the
//! same dictionary), and their verification.

use std::collections::BTreeMap;

use serde_json::Value;

use super::keys::ServerKey;
use crate::error::Error;
use domain::codec::canonical_json;

/// A challenge dictionary, parsed but not yet trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The server's random challenge, sent back with the answer.
    pub nonce: String,
    /// Where to send the answer.
    pub url: String,
    /// Serial of the token the challenge is for.
    pub serial: String,
    /// The question to show the user.
    pub question: String,
    /// The title to show the user.
    pub title: String,
    /// `"0"` or `"1"` exactly as sent (anything else is refused): it is part of the signed text.
    pub sslverify: String,
    /// The server's signature over [`Self::signed_text`] (padded base32).
    pub signature: String,
    /// Number matching: comma-separated choices, exactly as signed.
    pub require_presence: Option<String>,
    /// Raw JSON text of the server's capabilities (privacyIDEA ≥ 3.14), e.g. decline reasons.
    pub capabilities: Option<String>,
    /// The server's signature over the capabilities and the nonce (padded base32).
    pub capabilities_signature: Option<String>,
}

/// What a verified challenge's capabilities allow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The server accepts `decline_reason` with a denial.
    pub decline_reason: bool,
}

/// Longest value accepted for each challenge field, in bytes. privacyIDEA sends a 32-character
/// nonce, a `PIPU…` serial, a one-line title and a one-sentence question; signatures are base32
/// of at most an RSA-8192 signature (1,640 characters). Anything longer is refused unread.
pub const FIELD_LIMITS: [(&str, usize); 10] = [
    ("nonce", 256),
    ("url", 2048),
    ("serial", 64),
    ("question", 2048),
    ("title", 256),
    ("sslverify", 8),
    ("signature", 2048),
    ("require_presence", 512),
    ("capabilities", 1024),
    ("capabilities_signature", 2048),
];

impl Challenge {
    /// Reads a challenge from a JSON object or a push payload's string map. Values may be
    /// strings, numbers or booleans (FCM sends everything as strings; JSON polls may not).
    pub fn from_map(map: &BTreeMap<String, Value>) -> Result<Self, Error> {
        let field = |name: &str| -> Result<Option<String>, Error> {
            let text = match map.get(name) {
                None | Some(Value::Null) => return Ok(None),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => if *b { "1" } else { "0" }.to_owned(),
                Some(Value::Number(n)) => n.to_string(),
                Some(_) => return Err(Error::Protocol(format!("challenge field '{name}' has an unexpected type"))),
            };
            let limit = FIELD_LIMITS.iter().find(|(field, _)| *field == name).map_or(0, |(_, limit)| *limit);
            if text.len() > limit {
                return Err(Error::Protocol(format!("challenge field '{name}' is longer than {limit} bytes")));
            }
            Ok(Some(text))
        };
        let required = |name: &str| field(name)?.ok_or_else(|| Error::Protocol(format!("challenge without '{name}'")));
        let challenge = Self {
            nonce: required("nonce")?,
            url: required("url")?,
            serial: required("serial")?,
            question: required("question")?,
            title: required("title")?,
            sslverify: required("sslverify")?,
            signature: required("signature")?,
            require_presence: field("require_presence")?.filter(|p| !p.is_empty()),
            capabilities: field("capabilities")?.filter(|c| !c.is_empty()),
            capabilities_signature: field("capabilities_signature")?.filter(|c| !c.is_empty()),
        };
        challenge.check_unambiguous()?;
        Ok(challenge)
    }

    /// The signed text joins fields with `|`, unescaped: a `|` inside a field would let anyone
    /// move the boundaries and keep the signature, e.g. strip number matching from a genuine
    /// challenge with title `…|1`, sslverify `12,34,56` and no choices. So, before any
    /// signature check, no signed field may contain `|`, and `sslverify` must be exactly `0` or
    /// `1`.
    fn check_unambiguous(&self) -> Result<(), Error> {
        if self.sslverify != "0" && self.sslverify != "1" {
            return Err(Error::Protocol("challenge field 'sslverify' is not 0 or 1".into()));
        }
        let signed = [
            ("nonce", Some(&self.nonce)),
            ("url", Some(&self.url)),
            ("serial", Some(&self.serial)),
            ("question", Some(&self.question)),
            ("title", Some(&self.title)),
            ("require_presence", self.require_presence.as_ref()),
        ];
        match signed.into_iter().find(|(_, value)| value.is_some_and(|v| v.contains('|'))) {
            Some((name, _)) => Err(Error::Protocol(format!("challenge field '{name}' contains '|'"))),
            None => Ok(()),
        }
    }

    /// The text the server signed: `nonce|url|serial|question|title|sslverify[|require_presence]`.
    pub fn signed_text(&self) -> String {
        let mut text = [&self.nonce, &self.url, &self.serial, &self.question, &self.title, &self.sslverify]
            .map(String::as_str)
            .join("|");
        if let Some(presence) = &self.require_presence {
            text.push('|');
            text.push_str(presence);
        }
        text
    }

    /// Whether the server's signature over the challenge is valid.
    pub fn signature_valid(&self, server: &ServerKey) -> bool {
        server.verifies(&self.signed_text(), &self.signature)
    }

    /// The capabilities, if present and signed by the server over the canonical JSON of
    /// `{"capabilities": …, "nonce": …}`. Unsigned or badly signed capabilities are an error:
    /// they could only come from tampering.
    pub fn verified_capabilities(&self, server: &ServerKey) -> Result<Capabilities, Error> {
        let Some(text) = &self.capabilities else { return Ok(Capabilities::default()) };
        let parsed: Value =
            serde_json::from_str(text).map_err(|_| Error::Protocol("capabilities are not JSON".into()))?;
        let signed = canonical_json(&serde_json::json!({ "capabilities": parsed, "nonce": self.nonce }))?;
        let signature = self.capabilities_signature.as_deref().unwrap_or_default();
        if !server.verifies(&signed, signature) {
            return Err(Error::ForgedRequest("the capabilities signature is invalid".into()));
        }
        Ok(Capabilities { decline_reason: parsed.get("decline_reason").and_then(Value::as_bool).unwrap_or(false) })
    }

    /// The number-matching choices, in the order the server gave them.
    pub fn choices(&self) -> Option<Vec<String>> {
        self.require_presence.as_ref().map(|p| p.split(',').map(|c| c.trim().to_owned()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_text_joins_fields_and_appends_presence_choices() {
        let mut map = BTreeMap::new();
        for (k, v) in
            [("nonce", "N"), ("url", "U"), ("serial", "S"), ("question", "Q?"), ("title", "T"), ("signature", "X")]
        {
            map.insert(k.to_owned(), Value::String(v.to_owned()));
        }
        map.insert("sslverify".into(), Value::Bool(false));
        let challenge = Challenge::from_map(&map).unwrap();
        assert_eq!(challenge.signed_text(), "N|U|S|Q?|T|0");
        assert_eq!(challenge.choices(), None);
        map.insert("require_presence".into(), Value::String("12,34,56".into()));
        let challenge = Challenge::from_map(&map).unwrap();
        assert_eq!(challenge.signed_text(), "N|U|S|Q?|T|0|12,34,56");
        assert_eq!(challenge.choices().unwrap(), ["12", "34", "56"]);
        map.remove("nonce");
        assert!(matches!(Challenge::from_map(&map), Err(Error::Protocol(_))));
    }
}
