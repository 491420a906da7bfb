//! The platform helpers that hold the vault's data key use "this device only, unlocked" settings.
//!
//! Offline resistance of a push PIN rests on them (docs/security.md, "PIN and lockout threat model"): the
//! vault's files are worthless without the data key, which only the unlocked device can produce.
//! `KeychainDataKey.swift` cannot be built here (it needs Apple's `Security` and is compiled out on
//! Linux), and no real Android Keystore runs here, so this reads both helpers' source code: the
//! settings must appear in code (not in comments), and weaker ones must not. (The Android helper's
//! key-generation settings are also checked field by field at run time, against a stand-in
//! Keystore under Robolectric: `KeystoreDataKeyTest` in android/jvm-tests.)

use std::path::PathBuf;

fn source(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The code of a Kotlin or Swift file without its comments (`//` to the end of the line, and
/// `/* … */` blocks, which covers KDoc and the Swift doc comments).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_android_keystore_key_is_this_device_only_unlocked_and_prefers_strongbox() {
    let code =
        code_of(&source("android/authenticator/src/main/kotlin/org/authenticator/core/android/KeystoreDataKey.kt"));
    assert!(code.contains(".setUnlockedDeviceRequired(true)"), "the key must require an unlocked device");
    assert!(!code.contains("setUnlockedDeviceRequired(false)"));
    assert!(code.contains("Build.VERSION.SDK_INT >= Build.VERSION_CODES.P"), "applied where the API has it (28+)");
    assert!(code.contains("val preferStrongBox: Boolean = true"), "StrongBox preferred by default");
    assert!(code.contains(".setIsStrongBoxBacked(true)"));
    // The wrapped key and the vaults stay out of backups and device-to-device transfers.
    assert!(code.contains("File(context.noBackupFilesDir, DIRECTORY)"));
    assert!(!code.contains("context.filesDir") && !code.contains("getExternal"), "no backed-up or shared folder");
}

#[test]
fn the_ios_keychain_item_is_this_device_only_and_readable_only_when_unlocked() {
    let code = code_of(&source("ios/Sources/AuthenticatorCore/KeychainDataKey.swift"));
    let settings: Vec<&str> = code
        .match_indices("kSecAttrAccessible")
        .map(|(at, _)| {
            let name = &code[at..];
            &name[..name.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(name.len())]
        })
        .filter(|name| *name != "kSecAttrAccessible")
        .collect();
    assert!(!settings.is_empty(), "the item's accessibility is set");
    assert!(
        settings.iter().all(|s| *s == "kSecAttrAccessibleWhenUnlockedThisDeviceOnly"),
        "only WhenUnlockedThisDeviceOnly: {settings:?}"
    );
    assert!(code.contains("item[kSecAttrAccessible as String] = kSecAttrAccessibleWhenUnlockedThisDeviceOnly"));
    assert!(code.contains("kSecAttrSynchronizable as String: false"), "never in iCloud Keychain");
}
