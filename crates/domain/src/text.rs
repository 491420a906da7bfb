//! Text from outside, made safe to store and show.

use std::borrow::Cow;
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
        if text.trim().len() == text.len() && !text.chars().any(is_unsafe) { Self(text) } else { Self::new(&text) }
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

/// Normalises display text from outside (URIs, forms, imports, push requests), so a hostile QR
/// code, file or server cannot smuggle terminal escape sequences, line breaks or invisible
/// look-alike tricks into a name: control characters, bidirectional overrides and isolates
/// (U+202E can make "buHtiG" read "GitHub"), zero-width and other invisible format characters are
/// removed, and surrounding white space trimmed.
pub fn clean(text: &str) -> String {
    let trimmed = text.trim();
    if !trimmed.chars().any(is_unsafe) {
        return trimmed.to_owned();
    }
    trimmed.chars().filter(|c| !is_unsafe(*c)).collect::<String>().trim().to_owned()
}

/// Characters no name may carry: controls (C0, DEL, C1), line and paragraph separators, bidi
/// controls, zero-width and invisible format characters, invisible fillers and tag characters.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}' // Arabic letter mark (bidi)
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers (render blank)
            | '\u{17B4}' | '\u{17B5}' // Khmer invisible vowels
            | '\u{180B}'..='\u{180F}' // Mongolian variation selectors and vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space, (non-)joiner, LRM, RLM
            | '\u{2028}'..='\u{202E}' // line/paragraph separators, bidi embeddings and overrides
            | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, bidi isolates, deprecated formats
            | '\u{FEFF}' // zero-width no-break space (BOM)
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' // tag characters
        )
}

/// Text about to be printed on a terminal or written to a log, whoever made it: every character
/// [`clean`] removes from names is dropped, except line feeds and tabs, so no output can carry an
/// escape sequence, a carriage return, a bidi override or an invisible character. Borrowed when
/// there is nothing to drop.
pub fn printable(text: &str) -> Cow<'_, str> {
    let unsafe_here = |c: char| c != '\n' && c != '\t' && is_unsafe(c);
    if !text.chars().any(unsafe_here) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|c| !unsafe_here(*c)).collect())
}

/// User-supplied text quoted in an error: short (it can be huge) and without control characters
/// (it ends up on terminals and in logs). Never pass a secret here.
pub fn excerpt(text: &str) -> String {
    text.chars().filter(|c| !is_unsafe(*c)).take(32).collect()
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

    #[test]
    fn printable_text_keeps_line_feeds_and_tabs_only() {
        assert_eq!(printable("a\tb\nc"), "a\tb\nc");
        assert!(matches!(printable("plain"), Cow::Borrowed("plain")));
        assert_eq!(printable("\u{1b}]0;x\u{7}\u{1b}[2J\r\n\u{202E}y\u{200B}\u{9b}\u{7f}"), "]0;x[2J\ny");
    }

    #[test]
    fn bidi_overrides_and_invisible_characters_are_removed() {
        assert_eq!(clean("\u{202E}buHtiG\u{202C}"), "buHtiG");
        assert_eq!(clean("Git\u{200B}Hub\u{FEFF}"), "GitHub");
        assert_eq!(clean("\u{2066}Git\u{2069}Hub\u{200D}\u{00AD}"), "GitHub");
        assert_eq!(clean("Git\u{E0041}Hub\u{2028}x"), "GitHubx");
        assert_eq!(clean(" \u{200B} Bank "), "Bank");
        assert_eq!(clean("Café 東京 🙂"), "Café 東京 🙂");
        assert_eq!(Name::from("\u{202E}x".to_owned()), "x");
    }
}
