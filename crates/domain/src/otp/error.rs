//! Why an account definition was refused: the errors of parsing and validating code parameters,
//! secrets and URIs, beside the parameters they guard.

/// Why an account definition (a URI, typed-in fields, an imported entry) was refused. Messages
/// name the problem and never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The text is not an `otpauth://` URI.
    #[error("not an otpauth:// URI")]
    NotOtpauth,
    /// The OTP type is not totp, hotp or steam.
    #[error("unsupported OTP type '{0}' (expected totp, hotp or steam)")]
    UnsupportedType(String),
    /// The URI has no `secret` parameter.
    #[error("the URI has no secret")]
    MissingSecret,
    /// The secret is empty.
    #[error("the secret is empty")]
    EmptySecret,
    /// The secret is not valid base32.
    #[error("the secret is not valid base32 (letters A-Z and digits 2-7)")]
    SecretNotBase32,
    /// The secret is longer than 1 KiB.
    #[error("the secret is longer than 1 KiB")]
    SecretTooLong,
    /// The period is not whole seconds from 1 to 3600.
    #[error("invalid period '{0}': must be whole seconds from 1 to 3600")]
    InvalidPeriod(String),
    /// The number of digits is not from 4 to 10.
    #[error("invalid digits '{0}': must be from 4 to 10")]
    InvalidDigits(String),
    /// The algorithm is not SHA1, SHA256 or SHA512.
    #[error("unknown algorithm '{0}' (expected SHA1, SHA256 or SHA512)")]
    UnknownAlgorithm(String),
    /// An HOTP URI has no counter.
    #[error("an HOTP URI needs a counter")]
    MissingCounter,
    /// The counter is not a whole number from 0 to 2^63 - 1.
    #[error("invalid counter '{0}': must be a whole number from 0 to 9223372036854775807")]
    InvalidCounter(String),
    /// The URI is not valid UTF-8 once percent-decoded.
    #[error("the URI is not valid UTF-8 once percent-decoded")]
    InvalidEncoding,
    /// The URI is longer than 16 KiB.
    #[error("the URI is longer than 16 KiB")]
    TooLong,
}
