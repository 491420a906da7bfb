//! Encodings shared across the crates, with no domain knowledge: base32 (OTP secrets, push
//! signatures), tolerant base64 (other apps' exports), CSV (password manager exports), query
//! strings (otpauth and enrollment URIs, Google migration links), the protobuf wire format
//! (Google migration payloads), RFC 8785 canonical JSON (signed push capabilities, our backup
//! header) and a CBOR writer (what a passkey authenticator writes). The codecs only importers need (Android prefs XML, Java serialization, ZIP) live
//! beside the importers, in the services crate.

pub mod base32;
pub mod base64;
pub mod cbor;
pub mod csv;
pub mod protobuf;
pub mod query;

use serde_json::Value;

use crate::error::Error;

/// RFC 8785 (JCS) canonical JSON: members sorted by UTF-16 code units, no insignificant white
/// space, ECMAScript number formatting (`1.0` is `1`). What privacyIDEA signs capabilities over,
/// and the associated data of our backup header.
pub fn canonical_json(value: &Value) -> Result<String, Error> {
    serde_json_canonicalizer::to_string(value).map_err(|_| Error::NotCanonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_members_and_drops_white_space() {
        let v: Value = serde_json::from_str(
            r#"{ "nonce": "N", "capabilities": {"z": 1, "decline_reason": true, "a": [1, "é\n"]} }"#,
        )
        .unwrap();
        assert_eq!(
            canonical_json(&v).unwrap(),
            r#"{"capabilities":{"a":[1,"é\n"],"decline_reason":true,"z":1},"nonce":"N"}"#
        );
    }

    #[test]
    fn canonical_json_writes_numbers_as_ecmascript_does() {
        let v: Value = serde_json::from_str(r#"{"v": 1.0, "w": 1e21, "x": 0.5, "y": -0.0}"#).unwrap();
        assert_eq!(canonical_json(&v).unwrap(), r#"{"v":1,"w":1e+21,"x":0.5,"y":0}"#);
    }
}
