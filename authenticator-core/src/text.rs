//! Text from outside, made safe to store and show.

use std::fmt;
use std::ops::Deref;

/// A display name (issuer, label, group) cleaned once, where it enters: every constructor runs
/// [`clean`], so whatever holds a `Name` stores and shows it without cleaning again.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    /// Cleans `text` into a name.
    pub fn new(text: &str) -> Self {
        Self(clean(text))
    }

    /// The cleaned text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The cleaned text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Self {
        Self::new(&text)
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Self {
        Self::new(text)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_cleaned_once_whichever_way_it_is_made() {
        let shown = "  Git\u{1b}[2JHub\r\n ";
        assert_eq!(Name::new(shown), "Git[2JHub");
        assert_eq!(Name::from(shown.to_owned()), Name::from(shown));
        assert_eq!(Name::new("").as_str(), "");
    }
}
