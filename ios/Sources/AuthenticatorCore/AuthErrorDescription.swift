import Foundation

/// Every `AuthError` says what went wrong: `description` is the core's message (Rust's `Display`,
/// the same text as each case's `detail`), never a secret, code, key or PIN.
///
/// uniffi 0.32 generates `description` from the exported `Display` but declares the conformance
/// only for records and enums, not for errors. Declaring it here makes `"\(error)"`,
/// `String(describing:)` and `localizedDescription` (through the generated `errorDescription`,
/// which is `String(reflecting:)`) show that message instead of the case's dump. (If a later
/// uniffi declares it itself, this line becomes a redundant-conformance error: delete it.)
extension AuthError: CustomStringConvertible {}
