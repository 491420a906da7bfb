//! The Battle.net app's authenticator prefs
//! (`shared_prefs/com.blizzard.messenger.authenticator_preferences.xml`, from a rooted phone or
//! a device backup). The device secret and the serial are stored masked: hex of the text XORed
//! with a fixed 56-byte mask that Blizzard's app carries (published by WinAuth and Aegis); this
//! is obfuscation, not encryption. Unmasked, the secret is hex of the TOTP key: SHA-1, 8
//! digits, 30 s, named "Battle.net" with the serial (US-1234-5678-9012) as the label.

use super::ImportEntry;
use crate::backup::codec::prefs::{self, Prefs};
use crate::error::{Error, Result};
use domain::account::AccountData;
use domain::otp::{Algorithm, OtpParams, Secret};
use domain::text::clean;

const SECRET_KEY: &str = "com.blizzard.messenger.AUTHENTICATOR_DEVICE_SECRET";
const SERIAL_KEY: &str = "com.blizzard.messenger.AUTHENTICATOR_SERIAL";

/// The mask the Battle.net app XORs its stored secret and serial with.
const MASK: [u8; 56] = [
    0x39, 0x8e, 0x27, 0xfc, 0x50, 0x27, 0x6a, 0x65, 0x60, 0x65, 0xb0, 0xe5, 0x25, 0xf4, 0xc0, 0x6c, 0x04, 0xc6, 0x10,
    0x75, 0x28, 0x6b, 0x8e, 0x7a, 0xed, 0xa5, 0x9d, 0xa9, 0x81, 0x3b, 0x5d, 0xd6, 0xc8, 0x0d, 0x2f, 0xb3, 0x80, 0x68,
    0x77, 0x3f, 0xa5, 0x9b, 0xa4, 0x7c, 0x17, 0xca, 0x6c, 0x64, 0x79, 0x01, 0x5c, 0x1d, 0x5b, 0x8b, 0x8f, 0x6b,
];

/// Whether `prefs` is the Battle.net app's authenticator prefs.
pub fn is_battle_net(prefs: &Prefs) -> bool {
    prefs.string(SECRET_KEY).is_some()
}

/// Unmasks hex `text` into the text it hides, or `None` when it is not masked hex.
fn unmask(text: &str) -> Option<zeroize::Zeroizing<String>> {
    let bytes = zeroize::Zeroizing::new(hex::decode(text.trim()).ok()?);
    if bytes.len() > MASK.len() {
        return None;
    }
    let plain: zeroize::Zeroizing<Vec<u8>> =
        zeroize::Zeroizing::new(bytes.iter().zip(MASK).map(|(b, m)| b ^ m).collect());
    std::str::from_utf8(&plain).ok().map(|s| zeroize::Zeroizing::new(s.to_owned()))
}

/// Reads the prefs: one account.
pub fn parse(bytes: &[u8]) -> Result<Vec<ImportEntry>> {
    let prefs = prefs::parse(bytes).map_err(|e| Error::InvalidImport(format!("the prefs file is not valid: {e}")))?;
    let masked =
        prefs.string(SECRET_KEY).ok_or_else(|| Error::InvalidImport("the file has no Battle.net secret".into()))?;
    let serial = prefs.string(SERIAL_KEY).and_then(unmask).map(|s| clean(&s)).unwrap_or_default();
    let name = super::display_name("Battle.net", &serial);
    let secret = unmask(masked)
        .and_then(|hex_key| hex::decode(hex_key.trim()).ok())
        .ok_or("the device secret is not masked hex as the Battle.net app writes it")
        .and_then(|key| Secret::from_bytes(key).map_err(|_| "the device secret is empty or too long"));
    let account = secret.map_err(str::to_owned).and_then(|secret| {
        let params = OtpParams::totp(Algorithm::Sha1, 8, 30).map_err(|e| e.to_string())?;
        Ok(AccountData { issuer: "Battle.net".into(), label: serial.as_str().into(), params, secret, group: None })
    });
    Ok(vec![match account {
        Ok(data) => ImportEntry { name, outcome: Ok(data) },
        Err(reason) => ImportEntry::refused(name, reason),
    }])
}
