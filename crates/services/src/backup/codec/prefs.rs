//! Android shared-preferences XML, as apps keep their settings (and, for some authenticators,
//! their accounts) in `/data/data/<app>/shared_prefs/*.xml`:
//!
//! ```xml
//! <?xml version='1.0' encoding='utf-8' standalone='yes' ?>
//! <map>
//!     <string name="tokens">[{&quot;secret&quot;:&quot;…&quot;}]</string>
//!     <long name="time" value="1608374963" />
//!     <boolean name="seen" value="true" />
//!     <set name="ids"><string>a</string><string>b</string></set>
//! </map>
//! ```
//!
//! Hand-written rather than on an XML crate: the files are this one flat shape (Android's
//! `XmlUtils.writeMapXml`: a `<map>` of typed, named leaves, `<set>` the only nesting), so a
//! reader of some 300 lines covers them fully, with no DTDs, namespaces or external entities to
//! switch off, and nothing added to the mobile library. It reads in one linear pass, never
//! recurses, refuses input over [`MAX_BYTES`] or with more than [`MAX_ENTRIES`] entries, decodes
//! the five XML entities and numeric character references, and keeps decoded text in zeroizing
//! buffers (secrets pass through here). Errors say what is wrong and where (a byte offset), never
//! quote the file.

use std::fmt;

use zeroize::Zeroizing;

/// Largest input read: 16 MiB (the import cap).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;
/// Most entries (and set items, together) one file may hold.
pub const MAX_ENTRIES: usize = 100_000;

/// The type of a preference, from its element name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `<string name="k">text</string>`
    String,
    /// `<int name="k" value="1" />`
    Int,
    /// `<long name="k" value="1" />`
    Long,
    /// `<float name="k" value="1.5" />`
    Float,
    /// `<boolean name="k" value="true" />`
    Boolean,
    /// `<set name="k"><string>a</string>…</set>`
    Set,
    /// `<null name="k" />`
    Null,
}

impl Kind {
    fn of(tag: &str) -> Option<Self> {
        Some(match tag {
            "string" => Self::String,
            "int" => Self::Int,
            "long" => Self::Long,
            "float" => Self::Float,
            "boolean" => Self::Boolean,
            "set" => Self::Set,
            "null" => Self::Null,
            _ => return None,
        })
    }
}

/// One preference. `value` is the text of a `<string>` or the `value` attribute of the others
/// (empty for `<set>` and `<null>`); `items` are the strings of a `<set>`.
pub struct Pref {
    /// The element's type.
    pub kind: Kind,
    /// The `name` attribute.
    pub name: String,
    /// The value, entities decoded.
    pub value: Zeroizing<String>,
    /// The strings of a `<set>`.
    pub items: Vec<Zeroizing<String>>,
}

impl fmt::Debug for Pref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: only the shape is shown.
        f.debug_struct("Pref").field("kind", &self.kind).field("value_len", &self.value.len()).finish()
    }
}

/// A whole preferences file, its entries in file order.
#[derive(Debug, Default)]
pub struct Prefs {
    /// Every entry, in the order of the file.
    pub entries: Vec<Pref>,
}

impl Prefs {
    /// The first entry named `name`.
    pub fn get(&self, name: &str) -> Option<&Pref> {
        self.entries.iter().find(|p| p.name == name)
    }

    /// The text of the `<string>` named `name`.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|p| p.kind == Kind::String).map(|p| p.value.as_str())
    }
}

/// Why a file is not shared-preferences XML: what, and the byte offset where it was noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefsError {
    /// What is wrong (never quotes the file).
    pub reason: &'static str,
    /// Byte offset in the input.
    pub offset: usize,
}

impl fmt::Display for PrefsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.reason, self.offset)
    }
}

impl std::error::Error for PrefsError {}

/// Whether `bytes` look like a shared-preferences file: an optional XML declaration, then a
/// `<map>` element (comments and white space aside). Cheap: reads only the start.
pub fn looks_like_prefs(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(&bytes[..bytes.len().min(4096)]).or_else(|e| {
        // A cut in the middle of a character at the 4096th byte is fine.
        std::str::from_utf8(&bytes[..e.valid_up_to()])
    }) else {
        return false;
    };
    let mut reader = Reader { text, pos: 0 };
    reader.prolog().is_ok()
        && ["<map>", "<map ", "<map/>", "<map\n", "<map\r", "<map\t"].iter().any(|m| reader.rest().starts_with(m))
}

/// Parses a shared-preferences file.
pub fn parse(bytes: &[u8]) -> Result<Prefs, PrefsError> {
    if bytes.len() > MAX_BYTES {
        return Err(PrefsError { reason: "the file is larger than 16 MiB", offset: MAX_BYTES });
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| PrefsError { reason: "the file is not UTF-8", offset: e.valid_up_to() })?;
    let mut reader = Reader { text, pos: 0 };
    reader.prolog()?;
    let root = reader.open_tag()?;
    if root.name != "map" {
        return Err(reader.error("the root element is not <map>"));
    }
    let mut prefs = Prefs::default();
    let mut count = 0usize;
    if !root.empty {
        loop {
            reader.skip_misc()?;
            if reader.eat("</map") {
                reader.close_rest()?;
                break;
            }
            let tag = reader.open_tag()?;
            let kind = Kind::of(tag.name).ok_or_else(|| reader.error("unknown element in <map>"))?;
            let name = tag.attribute("name").ok_or_else(|| reader.error("an entry has no name attribute"))?;
            count += 1;
            let mut pref =
                Pref { kind, name: name.to_string(), value: Zeroizing::new(String::new()), items: Vec::new() };
            match kind {
                Kind::String => {
                    if !tag.empty {
                        pref.value = reader.text_until_close("string")?;
                    }
                }
                Kind::Set => {
                    if !tag.empty {
                        loop {
                            reader.skip_misc()?;
                            if reader.eat("</set") {
                                reader.close_rest()?;
                                break;
                            }
                            let item = reader.open_tag()?;
                            if item.name != "string" {
                                return Err(reader.error("a <set> holds something else than <string>"));
                            }
                            count += 1;
                            if count > MAX_ENTRIES {
                                return Err(reader.error("too many entries"));
                            }
                            let value = if item.empty {
                                Zeroizing::new(String::new())
                            } else {
                                reader.text_until_close("string")?
                            };
                            pref.items.push(value);
                        }
                    }
                }
                Kind::Null => {
                    if !tag.empty {
                        reader.skip_misc()?;
                        reader.close("null")?;
                    }
                }
                Kind::Int | Kind::Long | Kind::Float | Kind::Boolean => {
                    pref.value =
                        tag.attribute("value").ok_or_else(|| reader.error("an entry has no value attribute"))?;
                    if !tag.empty {
                        reader.skip_misc()?;
                        reader.close(tag.name)?;
                    }
                }
            }
            if count > MAX_ENTRIES {
                return Err(reader.error("too many entries"));
            }
            prefs.entries.push(pref);
        }
    }
    reader.skip_misc()?;
    if !reader.rest().is_empty() {
        return Err(reader.error("text after the end of <map>"));
    }
    Ok(prefs)
}

/// A start tag: its name, its attributes (values still raw) and whether it closes itself.
struct Tag<'a> {
    name: &'a str,
    attributes: Vec<(&'a str, &'a str)>,
    empty: bool,
}

impl Tag<'_> {
    fn attribute(&self, name: &str) -> Option<Zeroizing<String>> {
        // Attribute values were checked when the tag was read: decoding cannot fail here.
        self.attributes.iter().find(|(n, _)| *n == name).and_then(|(_, v)| decode(v).ok())
    }
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn error(&self, reason: &'static str) -> PrefsError {
        PrefsError { reason, offset: self.pos }
    }

    fn eat(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches(is_space).len();
    }

    /// Skips `needle`'s text up to and past its end, or fails with `reason`.
    fn skip_past(&mut self, end: &str, reason: &'static str) -> Result<(), PrefsError> {
        match self.rest().find(end) {
            Some(at) => {
                self.pos += at + end.len();
                Ok(())
            }
            None => Err(self.error(reason)),
        }
    }

    /// White space and comments.
    fn skip_misc(&mut self) -> Result<(), PrefsError> {
        loop {
            self.skip_space();
            if self.eat("<!--") {
                self.skip_past("-->", "a comment is not closed")?;
            } else {
                return Ok(());
            }
        }
    }

    /// A byte-order mark, the XML declaration, comments; no DOCTYPE.
    fn prolog(&mut self) -> Result<(), PrefsError> {
        self.eat("\u{feff}");
        self.skip_space();
        if self.eat("<?xml") {
            self.skip_past("?>", "the XML declaration is not closed")?;
        }
        self.skip_misc()?;
        if self.rest().starts_with("<!") {
            return Err(self.error("a DOCTYPE or other declaration is not allowed"));
        }
        Ok(())
    }

    fn name(&mut self) -> Result<&'a str, PrefsError> {
        let rest = self.rest();
        let len =
            rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))).unwrap_or(rest.len());
        if len == 0 {
            return Err(self.error("a name is expected"));
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    /// `<name attr="v" …>` or `<name … />`.
    fn open_tag(&mut self) -> Result<Tag<'a>, PrefsError> {
        if !self.eat("<") {
            return Err(self.error("an element is expected"));
        }
        let name = self.name()?;
        let mut attributes = Vec::new();
        loop {
            self.skip_space();
            if self.eat("/>") {
                return Ok(Tag { name, attributes, empty: true });
            }
            if self.eat(">") {
                return Ok(Tag { name, attributes, empty: false });
            }
            let attribute = self.name()?;
            self.skip_space();
            if !self.eat("=") {
                return Err(self.error("an attribute has no value"));
            }
            self.skip_space();
            let quote = match self.rest().chars().next() {
                Some(q @ ('"' | '\'')) => q,
                _ => return Err(self.error("an attribute value is not quoted")),
            };
            self.pos += 1;
            let rest = self.rest();
            let end = rest.find(quote).ok_or_else(|| self.error("an attribute value is not closed"))?;
            let value = &rest[..end];
            if value.contains('<') {
                return Err(self.error("an attribute value holds '<'"));
            }
            decode(value).map_err(|reason| self.error(reason))?;
            if attributes.iter().any(|(n, _)| *n == attribute) {
                return Err(self.error("an attribute is repeated"));
            }
            attributes.push((attribute, value));
            self.pos += end + 1;
        }
    }

    /// `</name>`, white space allowed before `>`.
    fn close(&mut self, name: &str) -> Result<(), PrefsError> {
        if !(self.eat("</") && self.eat(name)) {
            return Err(self.error("an element is not closed"));
        }
        self.close_rest()
    }

    fn close_rest(&mut self) -> Result<(), PrefsError> {
        self.skip_space();
        if self.eat(">") { Ok(()) } else { Err(self.error("a closing tag is malformed")) }
    }

    /// The text content up to `</name>`, entities decoded, CDATA sections kept as they are.
    fn text_until_close(&mut self, name: &str) -> Result<Zeroizing<String>, PrefsError> {
        let mut out = Zeroizing::new(String::new());
        loop {
            let rest = self.rest();
            let end = rest.find('<').ok_or_else(|| self.error("an element is not closed"))?;
            let decoded = decode(&rest[..end]).map_err(|reason| self.error(reason))?;
            push_zeroizing(&mut out, &decoded);
            self.pos += end;
            if self.eat("<![CDATA[") {
                let rest = self.rest();
                let end = rest.find("]]>").ok_or_else(|| self.error("a CDATA section is not closed"))?;
                push_zeroizing(&mut out, &rest[..end]);
                self.pos += end + 3;
            } else if self.eat("<!--") {
                self.skip_past("-->", "a comment is not closed")?;
            } else {
                self.close(name)?;
                return Ok(out);
            }
        }
    }
}

/// Appends without leaving a copy of the old contents behind in freed memory.
fn push_zeroizing(out: &mut Zeroizing<String>, text: &str) {
    if out.capacity() - out.len() < text.len() {
        let mut grown = Zeroizing::new(String::with_capacity((out.len() + text.len()).max(2 * out.capacity())));
        grown.push_str(out);
        *out = grown;
    }
    out.push_str(text);
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Decodes `&lt; &gt; &amp; &quot; &apos;` and `&#NN; &#xHH;`.
fn decode(text: &str) -> Result<Zeroizing<String>, &'static str> {
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find(';').filter(|&e| e <= 10).ok_or("an entity is not closed by ';'")?;
        let entity = &after[..end];
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(decimal) = entity.strip_prefix('#') {
                    decimal.parse().ok()
                } else {
                    return Err("an unknown entity");
                };
                // Digits only: from_str_radix and parse accept a leading '+'.
                let digits = entity.trim_start_matches(['#', 'x', 'X']);
                code.filter(|_| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit()))
                    .and_then(char::from_u32)
                    .filter(|&c| c != '\0')
                    .ok_or("a character reference is not a character")?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANDROID: &str = "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n    \
        <int name=\"key_version\" value=\"121\" />\n    \
        <string name=\"tokens\">[{&quot;a&quot;:&quot;x &amp; y &lt;z&gt; &apos;q&apos; &#233;&#x1F600;&quot;}]</string>\n    \
        <long name=\"time\" value=\"1608374963\" />\n    <float name=\"f\" value=\"1.5\" />\n    \
        <boolean name=\"seen\" value=\"true\" />\n    <string name=\"empty\" />\n    <string name=\"blank\"></string>\n    \
        <set name=\"ids\">\n        <string>a</string>\n        <string>b&amp;c</string>\n    </set>\n    \
        <null name=\"n\" />\n</map>\n";

    #[test]
    fn reads_every_kind_of_entry_with_entities_decoded() {
        assert!(looks_like_prefs(ANDROID.as_bytes()));
        let prefs = parse(ANDROID.as_bytes()).unwrap();
        let shape: Vec<_> = prefs.entries.iter().map(|p| (p.kind, p.name.as_str(), p.value.as_str())).collect();
        assert_eq!(
            shape,
            [
                (Kind::Int, "key_version", "121"),
                (Kind::String, "tokens", "[{\"a\":\"x & y <z> 'q' é😀\"}]"),
                (Kind::Long, "time", "1608374963"),
                (Kind::Float, "f", "1.5"),
                (Kind::Boolean, "seen", "true"),
                (Kind::String, "empty", ""),
                (Kind::String, "blank", ""),
                (Kind::Set, "ids", ""),
                (Kind::Null, "n", ""),
            ]
        );
        let items: Vec<&str> = prefs.get("ids").unwrap().items.iter().map(|s| s.as_str()).collect();
        assert_eq!(items, ["a", "b&c"]);
        assert_eq!(prefs.string("time"), None, "not a <string>");
        assert_eq!(prefs.string("blank"), Some(""));
        assert!(!format!("{prefs:?}").contains("x & y"), "Debug shows no value");
    }

    #[test]
    fn attributes_in_single_quotes_cdata_comments_and_bom_are_read() {
        let text = "\u{feff}<!-- c --><map><string name='k'>a<![CDATA[<&>]]><!-- x -->b</string>\
            <int name = 'i' value = '-1' ></int ></map >";
        let prefs = parse(text.as_bytes()).unwrap();
        assert_eq!(prefs.string("k"), Some("a<&>b"));
        assert_eq!(prefs.get("i").unwrap().value.as_str(), "-1");
        assert!(parse(b"<map/>").unwrap().entries.is_empty());
        assert!(parse(b"<?xml version='1.0'?>\n<map />\n").unwrap().entries.is_empty());
    }

    #[test]
    fn malformed_files_are_refused_with_a_reason_and_no_quote() {
        for (text, reason) in [
            ("", "an element is expected"),
            ("<maps></maps>", "the root element is not <map>"),
            ("<map><string name=\"k\">secret</map>", "an element is not closed"),
            ("<map><string name=\"k\">secret", "an element is not closed"),
            ("<map><string>secret</string></map>", "an entry has no name attribute"),
            ("<map><int name=\"k\" /></map>", "an entry has no value attribute"),
            ("<map><foo name=\"k\" /></map>", "unknown element in <map>"),
            ("<map><string name=\"k\">&secret;</string></map>", "an unknown entity"),
            ("<map><string name=\"k\">&#0;</string></map>", "a character reference is not a character"),
            ("<map><string name=\"k\">&#xD800;</string></map>", "a character reference is not a character"),
            ("<map><string name=\"k\">&#+1;</string></map>", "a character reference is not a character"),
            ("<map><string name=\"k\">a & b</string></map>", "an entity is not closed by ';'"),
            ("<map><string name=k>v</string></map>", "an attribute value is not quoted"),
            ("<map><string name=\"k\" name=\"j\">v</string></map>", "an attribute is repeated"),
            ("<map></map><map></map>", "text after the end of <map>"),
            ("<!DOCTYPE map [<!ENTITY e \"x\">]><map></map>", "a DOCTYPE or other declaration is not allowed"),
            (
                "<map><set name=\"s\"><int name=\"i\" value=\"1\"/></set></map>",
                "a <set> holds something else than <string>",
            ),
        ] {
            let error = parse(text.as_bytes()).unwrap_err();
            assert_eq!(error.reason, reason, "{text}");
            assert!(!error.to_string().contains("secret"), "{error}");
        }
        assert_eq!(parse(b"<map>\xff</map>").unwrap_err().reason, "the file is not UTF-8");
        assert!(!looks_like_prefs(b"{\"map\":1}"));
        assert!(!looks_like_prefs(b"<mapping/>"));
    }

    #[test]
    fn size_and_entry_count_are_bounded() {
        let big = vec![b' '; MAX_BYTES + 1];
        assert_eq!(parse(&big).unwrap_err().reason, "the file is larger than 16 MiB");
        let many = format!("<map>{}</map>", "<int name=\"i\" value=\"1\"/>".repeat(MAX_ENTRIES + 1));
        assert_eq!(parse(many.as_bytes()).unwrap_err().reason, "too many entries");
        let fine = format!("<map>{}</map>", "<int name=\"i\" value=\"1\"/>".repeat(MAX_ENTRIES));
        assert_eq!(parse(fine.as_bytes()).unwrap().entries.len(), MAX_ENTRIES);
    }

    #[test]
    fn cut_files_are_errors_not_panics() {
        for len in 0..ANDROID.trim_end().len() {
            if let Some(cut) = ANDROID.get(..len) {
                assert!(parse(cut.as_bytes()).is_err(), "cut at {len}");
            }
        }
    }

    #[test]
    fn real_android_prefs_files_are_read() {
        // Files written by Android itself (the Aegis project's importer test data).
        let dir =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/import/aegis-testdata");
        for (name, key, entries) in [
            ("authy_plain.xml", "com.authy.storage.tokens.authenticator.key", 2),
            ("authy_encrypted.xml", "com.authy.storage.tokens.authenticator.key", 2),
            ("totp_authenticator_internal.xml", "STATIC_TOTP_CODES_LIST", 0),
            ("freeotp.xml", "tokenOrder", 0),
            ("freeotp_plus_internal.xml", "tokenOrder", 0),
            ("battle_net_authenticator.xml", "", 0),
        ] {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {} is missing ({e})", path.display()));
            assert!(looks_like_prefs(&bytes), "{name}");
            let prefs = parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!prefs.entries.is_empty(), "{name}");
            if !key.is_empty() {
                assert!(prefs.string(key).is_some_and(|v| v.starts_with('[')), "{name}: {key}");
            }
            if entries > 0 {
                assert_eq!(prefs.entries.len(), entries, "{name}");
            }
        }
    }
}
