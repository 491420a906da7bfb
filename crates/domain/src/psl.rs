//! The Public Suffix List: which domains are registrable, so a passkey's rpId can be checked
//! against the caller's origin (WebAuthn: the rpId is the origin's host or a registrable domain
//! suffix of it), and a site matched to an account (issue 24).
//!
//! The whole list of publicsuffix.org (ICANN and private sections alike, as browsers use it:
//! `github.io` is a public suffix), vendored in data/public-suffix-list.txt (MPL-2.0, refreshed
//! by scripts/update-psl.sh) and embedded as about 32 KB: build.rs reverses each rule's labels,
//! sorts and front-codes them and deflates the lot. The first look-up inflates it once into one
//! buffer of sorted reversed rules and their offsets (about 190 KB, kept for the process's life);
//! a look-up is then three binary searches per label of the host (exception, exact, wildcard;
//! docs/passkeys.md, "Public Suffix List").
//!
//! Host names are lower-case ASCII with IDN labels in their `xn--` form, as a URL parser hands
//! them over: the list's Unicode rules were turned into that form at build time. Upper case,
//! Unicode, empty labels and trailing dots are not host names here (`false` / `None`): callers
//! normalise first, so no second spelling can slip past a check.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// build.rs's output: front-coded sorted reversed rules, raw deflate.
static PACKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/psl.bin"));

/// Bound on the inflated form (66,094 bytes today): a list gone wrong fails closed, never eats
/// memory.
const CODED_LIMIT: usize = 1 << 20;

/// Whether `rp_id` may be used by a page on `host`: `rp_id` equals `host`, or `host` ends with
/// `"." + rp_id` and `rp_id` is not itself a public suffix (`co.uk`, `github.io`, `com`).
/// Both are lower-case ASCII host names (no port, no trailing dot); anything else is `false`.
/// An IP address (`192.0.2.1`, `[::1]`) has no registrable suffix: only `rp_id == host` passes.
pub fn is_registrable_suffix(rp_id: &str, host: &str) -> bool {
    let Some(parsed) = Host::parse(host) else { return false };
    if rp_id == host {
        return true;
    }
    let (Host::Domain(_), Some(Host::Domain(rp_labels))) = (parsed, Host::parse(rp_id)) else { return false };
    let suffix_of_host =
        host.len() > rp_id.len() && host.ends_with(rp_id) && host.as_bytes()[host.len() - rp_id.len() - 1] == b'.';
    suffix_of_host && !labels_are_public_suffix(&rp_labels, list())
}

/// The registrable domain of `host` (its public suffix plus one label: `login.github.com` ->
/// `github.com`), or None when `host` is itself a public suffix or not a host name.
pub fn registrable_domain(host: &str) -> Option<&str> {
    let Host::Domain(labels) = Host::parse(host)? else { return None };
    let suffix = public_suffix_labels(&labels, list()?);
    if labels.len() <= suffix {
        return None;
    }
    let dropped = labels.len() - suffix - 1;
    let start: usize = labels[..dropped].iter().map(|label| label.len() + 1).sum();
    Some(&host[start..])
}

/// Whether `host` is a public suffix (`com`, `co.uk`, `github.io`, `anything.ck`, and by the
/// list's default rule any unlisted top-level name such as `localhost`): nobody registers it, so
/// it is no rpId for its subdomains. `false` for what is not a host name.
pub fn is_public_suffix(host: &str) -> bool {
    match Host::parse(host) {
        Some(Host::Domain(labels)) => labels_are_public_suffix(&labels, list()),
        _ => false,
    }
}

/// All of `labels` is a public suffix. Fails closed: without a list, everything is one.
fn labels_are_public_suffix(labels: &[&str], list: Option<&List>) -> bool {
    list.is_none_or(|list| public_suffix_labels(labels, list) >= labels.len())
}

/// How many of the right-most `labels` form the public suffix (publicsuffix.org's algorithm):
/// an exception rule prevails (its labels but the leftmost), else the longest matching rule,
/// else the default rule `*` (one label).
fn public_suffix_labels(labels: &[&str], list: &List) -> usize {
    let mut longest = 1;
    // The reversed labels seen so far, `uk.co` for `….co.uk`, and the key being looked up.
    let mut parent: Vec<u8> = Vec::with_capacity(256);
    let mut key: Vec<u8> = Vec::with_capacity(256);
    for (seen, label) in labels.iter().rev().enumerate() {
        let count = seen + 1;
        let lookup = |key: &mut Vec<u8>, mark: &[u8], name: &[u8]| {
            key.clear();
            key.extend_from_slice(&parent);
            if !parent.is_empty() {
                key.push(b'.');
            }
            key.extend_from_slice(mark);
            key.extend_from_slice(name);
            list.contains(key)
        };
        if lookup(&mut key, b"!", label.as_bytes()) {
            return count - 1;
        }
        if lookup(&mut key, b"", label.as_bytes()) || lookup(&mut key, b"", b"*") {
            longest = count;
        }
        if !parent.is_empty() {
            parent.push(b'.');
        }
        parent.extend_from_slice(label.as_bytes());
    }
    longest
}

/// build.rs's entries: `0x80 | bytes to drop from the end of the rule before`, then what
/// follows (bytes < 0x80), as (bytes to drop, what follows).
fn entries(coded: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut rest = coded;
    std::iter::from_fn(move || {
        let (&head, after) = rest.split_first()?;
        let (tail, next) = after.split_at(after.iter().position(|&b| b >= 0x80).unwrap_or(after.len()));
        rest = next;
        Some((usize::from(head & 0x7f), tail))
    })
}

/// A host as this module takes it.
enum Host<'a> {
    /// A host name, its labels left to right.
    Domain(Vec<&'a str>),
    /// An IPv4 address in dotted decimal, or an IPv6 address in brackets.
    Ip,
}

impl<'a> Host<'a> {
    /// None for anything not a lower-case ASCII host name or IP address.
    fn parse(host: &'a str) -> Option<Host<'a>> {
        if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            let lower = !inner.bytes().any(|b| b.is_ascii_uppercase());
            return (lower && inner.parse::<Ipv6Addr>().is_ok()).then_some(Host::Ip);
        }
        if host.is_empty() || host.len() > 253 {
            return None;
        }
        let labels: Vec<&str> = host.split('.').collect();
        let host_label = |label: &&str| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        };
        if !labels.iter().all(host_label) {
            return None;
        }
        // The URL standard reads a host ending in a number as an IPv4 address, never a name.
        let last = labels[labels.len() - 1];
        let number = last.bytes().all(|b| b.is_ascii_digit())
            || last.strip_prefix("0x").is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if number {
            return host.parse::<Ipv4Addr>().is_ok().then_some(Host::Ip);
        }
        Some(Host::Domain(labels))
    }
}

/// The decoded list: every rule with its labels reversed (`uk.co`, `ck.*`, `ck.!www`), each
/// followed by `\n`, sorted bytewise; `starts` holds where each begins.
struct List {
    rules: Vec<u8>,
    starts: Vec<u32>,
}

/// The list, decoded on first use. None only if the embedded form is corrupt (a build gone
/// wrong; the tests decode it): then every check fails closed.
fn list() -> Option<&'static List> {
    static LIST: OnceLock<Option<List>> = OnceLock::new();
    LIST.get_or_init(|| List::decode(PACKED)).as_ref()
}

impl List {
    fn decode(packed: &[u8]) -> Option<List> {
        let coded = miniz_oxide::inflate::decompress_to_vec_with_limit(packed, CODED_LIMIT).ok()?;
        if coded.first().is_none_or(|&b| b < 0x80) {
            return None;
        }
        // Sizes first, so the buffers are allocated once, exactly.
        let (mut total, mut count, mut previous) = (0, 0, 0usize);
        for (dropped, tail) in entries(&coded) {
            previous = previous.checked_sub(dropped)? + tail.len();
            total += previous + 1;
            count += 1;
        }
        let mut rules = Vec::with_capacity(total);
        let mut starts = Vec::with_capacity(count);
        let (mut previous_start, mut previous_len) = (0, 0);
        for (dropped, tail) in entries(&coded) {
            let start = rules.len();
            rules.extend_from_within(previous_start..previous_start + previous_len - dropped);
            rules.extend_from_slice(tail);
            rules.push(b'\n');
            starts.push(u32::try_from(start).ok()?);
            (previous_start, previous_len) = (start, rules.len() - 1 - start);
        }
        Some(List { rules, starts })
    }

    fn rule(&self, start: u32) -> &[u8] {
        let rest = &self.rules[start as usize..];
        &rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())]
    }

    fn contains(&self, key: &[u8]) -> bool {
        self.starts.binary_search_by(|&start| self.rule(start).cmp(key)).is_ok()
    }

    /// Heap bytes held for the process's life.
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        self.rules.capacity() + self.starts.capacity() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subdomain_has_the_registrable_domain_below_its_public_suffix() {
        assert_eq!(registrable_domain("login.github.com"), Some("github.com"));
        assert_eq!(registrable_domain("github.com"), Some("github.com"));
        assert_eq!(registrable_domain("a.b.example.co.uk"), Some("example.co.uk"));
    }

    #[test]
    fn a_public_suffix_has_no_registrable_domain() {
        assert_eq!(registrable_domain("com"), None);
        assert_eq!(registrable_domain("co.uk"), None);
        assert_eq!(registrable_domain("github.io"), None);
    }

    #[test]
    fn a_registrable_domain_is_an_rp_id_for_its_subdomains_and_itself() {
        assert!(is_registrable_suffix("github.com", "login.github.com"));
        assert!(is_registrable_suffix("github.com", "a.b.github.com"));
        assert!(is_registrable_suffix("example.co.uk", "www.example.co.uk"));
        assert!(is_registrable_suffix("example.co.uk", "example.co.uk"));
        assert!(is_registrable_suffix("login.github.com", "login.github.com"));
    }

    #[test]
    fn a_public_suffix_is_no_rp_id_for_the_sites_below_it() {
        assert!(!is_registrable_suffix("co.uk", "example.co.uk"));
        assert!(!is_registrable_suffix("com", "github.com"));
        assert!(is_public_suffix("co.uk"));
        assert!(!is_public_suffix("example.co.uk"));
    }

    #[test]
    fn an_rp_id_is_a_suffix_only_at_a_label_boundary() {
        assert!(!is_registrable_suffix("github.com", "evilgithub.com"));
        assert!(!is_registrable_suffix("login.github.com", "github.com"));
        assert!(!is_registrable_suffix("github.com", "github.com.evil.com"));
    }

    #[test]
    fn the_private_section_counts_so_github_io_is_no_rp_id_for_its_pages() {
        assert!(is_public_suffix("github.io"));
        assert!(!is_registrable_suffix("github.io", "foo.github.io"));
        assert!(is_registrable_suffix("foo.github.io", "foo.github.io"));
        assert!(is_registrable_suffix("foo.github.io", "www.foo.github.io"));
        assert_eq!(registrable_domain("www.foo.github.io"), Some("foo.github.io"));
    }

    #[test]
    fn a_wildcard_rule_makes_every_name_below_it_public_but_its_exception() {
        // *.ck and !www.ck
        assert!(is_public_suffix("test.ck"));
        assert!(!is_registrable_suffix("test.ck", "a.test.ck"));
        assert!(is_registrable_suffix("a.test.ck", "b.a.test.ck"));
        assert!(!is_public_suffix("www.ck"));
        assert_eq!(registrable_domain("www.ck"), Some("www.ck"));
        assert!(is_registrable_suffix("www.ck", "login.www.ck"));
    }

    #[test]
    fn localhost_is_its_own_rp_id_but_no_suffix_for_its_subdomains() {
        assert!(is_registrable_suffix("localhost", "localhost"));
        assert!(is_public_suffix("localhost"));
        assert!(!is_registrable_suffix("localhost", "app.localhost"));
        assert_eq!(registrable_domain("localhost"), None);
    }

    #[test]
    fn an_ip_address_is_an_rp_id_only_for_itself() {
        assert!(is_registrable_suffix("192.0.2.1", "192.0.2.1"));
        assert!(!is_registrable_suffix("0.2.1", "192.0.2.1"));
        assert!(!is_registrable_suffix("2.1", "192.0.2.1"));
        assert!(is_registrable_suffix("[::1]", "[::1]"));
        assert_eq!(registrable_domain("192.0.2.1"), None);
        assert_eq!(registrable_domain("[::1]"), None);
        assert!(!is_public_suffix("192.0.2.1"));
    }

    #[test]
    fn a_host_ending_in_a_number_that_is_no_ip_address_is_refused() {
        assert!(!is_registrable_suffix("example.123", "example.123"));
        assert!(!is_registrable_suffix("1.2.3.4.5", "1.2.3.4.5"));
        assert!(!is_registrable_suffix("01.2.3.4", "01.2.3.4"));
        assert_eq!(registrable_domain("example.0x1f"), None);
    }

    #[test]
    fn what_is_not_a_lower_case_host_name_is_refused() {
        for bad in [
            "",
            ".",
            "github.com.",
            ".github.com",
            "github..com",
            "GitHub.com",
            "login.GITHUB.com",
            "github.com:443",
            "gitһub.com",
            "[::G]",
            "[::1",
            "a b.com",
            "[2001:DB8::1]",
        ] {
            assert!(!is_registrable_suffix(bad, bad), "{bad:?} as both");
            assert!(!is_registrable_suffix("github.com", bad), "{bad:?} as host");
            assert_eq!(registrable_domain(bad), None, "{bad:?}");
            assert!(!is_public_suffix(bad), "{bad:?}");
        }
        assert!(!is_registrable_suffix("", "github.com"));
        assert!(!is_registrable_suffix("github.com.", "login.github.com."));
        assert!(!is_registrable_suffix("GitHub.com", "login.github.com"));
        let long_label = format!("{}.com", "a".repeat(64));
        assert_eq!(registrable_domain(&long_label), None);
        let long_name = format!("{}com", "abcdefghi.".repeat(26));
        assert_eq!(registrable_domain(&long_name), None);
    }

    #[test]
    fn idn_rules_match_in_their_punycode_form() {
        // 公司.cn and 中国 are listed in Unicode; hosts arrive as xn--.
        assert!(is_public_suffix("xn--55qx5d.cn"));
        assert!(is_public_suffix("xn--fiqs8s"));
        assert_eq!(registrable_domain("www.xn--85x722f.xn--fiqs8s"), Some("xn--85x722f.xn--fiqs8s"));
        assert_eq!(registrable_domain("食狮.中国"), None);
    }

    /// publicsuffix.org's vectors (data/psl-test-vectors.txt): `host expected`, `null` = none.
    /// Hosts we take in another form only: upper case (callers lower-case first: refused, and
    /// the lower-cased host gives the vector's answer) and Unicode (callers pass xn--: refused;
    /// the file has each one's xn-- twin).
    #[test]
    fn the_official_test_vectors_pass() {
        let vectors = include_str!("../data/psl-test-vectors.txt");
        let mut checked = 0;
        for line in vectors.lines().filter(|l| !l.starts_with("//") && !l.trim().is_empty()) {
            let (input, expected) = line.split_once(' ').expect("two words");
            let input = if input == "null" { "" } else { input };
            let expected = (expected != "null").then_some(expected);
            if !input.is_ascii() {
                assert_eq!(registrable_domain(input), None, "{line}");
            } else if input.bytes().any(|b| b.is_ascii_uppercase()) {
                assert_eq!(registrable_domain(input), None, "{line}");
                let lower = input.to_ascii_lowercase();
                assert_eq!(registrable_domain(&lower), expected.map(str::to_ascii_lowercase).as_deref(), "{line}");
            } else {
                assert_eq!(registrable_domain(input), expected, "{line}");
            }
            checked += 1;
        }
        assert_eq!(checked, 78);
    }

    /// The decode cost is printed (`cargo test -p authenticator-domain --release psl::tests::decoding
    /// -- --nocapture`) for docs/passkeys.md; what is asserted is that nothing is lost and the
    /// size budgets hold.
    #[test]
    fn decoding_keeps_every_rule_of_the_vendored_list_in_order() {
        let text = include_str!("../data/public-suffix-list.txt");
        let rules = text.lines().filter(|l| !l.starts_with("//") && !l.trim().is_empty()).count();
        let started = std::time::Instant::now();
        let list = List::decode(PACKED).expect("the embedded list decodes");
        let took = started.elapsed();
        eprintln!(
            "psl: {} packed bytes -> {} rules, {} heap bytes, decoded in {took:?}",
            PACKED.len(),
            list.starts.len(),
            list.heap_bytes()
        );
        assert_eq!(list.starts.len(), rules);
        // The budgets of docs/security.md ("Passkey origins and the Public Suffix List").
        assert!(PACKED.len() <= 32 * 1024, "embedded: {} bytes", PACKED.len());
        assert!(list.heap_bytes() <= 256 * 1024, "held: {} bytes", list.heap_bytes());
        assert!(list.starts.windows(2).all(|w| list.rule(w[0]) < list.rule(w[1])));
        assert!(list.contains(b"uk.co") && list.contains(b"ck.*") && list.contains(b"ck.!www"));
    }

    #[test]
    fn without_a_decoded_list_every_name_is_a_public_suffix() {
        assert!(labels_are_public_suffix(&["example", "co", "uk"], None));
        assert!(!labels_are_public_suffix(&["example", "co", "uk"], list()));
    }

    #[test]
    fn a_corrupt_embedded_list_decodes_to_none() {
        assert!(List::decode(b"not deflate").is_none());
        let dropping_more_than_the_rule_before = miniz_oxide::deflate::compress_to_vec(b"\x80com\x84x", 6);
        assert!(List::decode(&dropping_more_than_the_rule_before).is_none());
        let not_starting_with_an_entry = miniz_oxide::deflate::compress_to_vec(b"com", 6);
        assert!(List::decode(&not_starting_with_an_entry).is_none());
    }
}
