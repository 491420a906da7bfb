//! Text from outside, made safe to store and show.

/// Normalises display text from outside (URIs, forms, imports, push requests): control
/// characters removed, so a hostile QR code or file cannot smuggle terminal escape sequences or
/// line breaks into a name, and surrounding white space trimmed.
pub fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned()
}

/// User-supplied text quoted in an error: short (it can be huge) and without control characters
/// (it ends up on terminals and in logs). Never pass a secret here.
pub fn excerpt(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(32).collect()
}
