//! Base64 as other apps' exports hold it, on the `base64` crate: one tolerant decoder for every
//! importer, so each format does not grow its own idea of what to accept.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

const LOOSE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes base64 as it appears in the wild: the standard or the URL-safe alphabet, with or
/// without padding, wrapped in lines (Java's encoders), and with `+` turned into a space by a
/// form decoder along the way. The result may be a secret: it is wiped on drop.
pub fn decode_loose(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let normalised: Zeroizing<String> = Zeroizing::new(
        text.chars()
            .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
            .map(|c| match c {
                ' ' | '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect(),
    );
    LOOSE.decode(normalised.trim_end_matches('=')).ok().map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_url_safe_wrapped_unpadded_and_form_mangled_all_decode() {
        for text in ["+/+/", "-_-_", "+/+/\n", " / /", "+/+/==", "+/\r\n+/"] {
            assert_eq!(decode_loose(text).unwrap().as_slice(), [0xfb, 0xff, 0xbf], "{text:?}");
        }
        assert_eq!(decode_loose("aGk").unwrap().as_slice(), b"hi");
        assert!(decode_loose("a!b").is_none());
    }
}
