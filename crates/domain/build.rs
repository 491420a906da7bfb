//! Compresses the vendored Public Suffix List (data/public-suffix-list.txt, refreshed by
//! scripts/update-psl.sh) into the form `domain::psl` embeds: about 32 KB instead of 158 KB.
//!
//! Each rule is turned into ASCII (IDN labels to their `xn--` form, as callers pass host
//! names), its labels reversed (`*.kawasaki.jp` -> `jp.kawasaki.*`, `!www.ck` -> `ck.!www`), the
//! rules sorted bytewise and front coded: one byte `0x80 | n` (drop the last n bytes of the rule
//! before), then what follows (bytes < 0x80). The whole is raw-deflated at miniz_oxide's best
//! level (the library already carries it to inflate). src/psl.rs undoes it. (Measured on the
//! list of psl 2.1.247: deflate alone 44,338 bytes; sorted reversed 43,809; front coded with the
//! count of bytes kept 32,287; with the count dropped, as here, 31,659; xz would give 29,860 but
//! costs an LZMA decoder in the library.)

use std::{env, fs, path::Path};

const LIST: &str = "data/public-suffix-list.txt";

fn main() {
    println!("cargo::rerun-if-changed={LIST}");
    println!("cargo::rerun-if-changed=build.rs");
    let text = fs::read_to_string(LIST).unwrap_or_else(|e| panic!("{LIST}: {e}"));
    let mut rules: Vec<Vec<u8>> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        // The official file's comments and section markers, and the notice of ours; a rule is
        // the line's first word (publicsuffix.org's format).
        let Some(rule) = line.split_whitespace().next() else { continue };
        if rule.starts_with("//") {
            continue;
        }
        rules.push(reversed_ascii(rule).unwrap_or_else(|why| panic!("{LIST}:{}: `{rule}`: {why}", number + 1)));
    }
    rules.sort();
    rules.dedup();
    assert!(rules.len() > 5000, "{LIST}: only {} rules", rules.len());

    let mut coded = Vec::with_capacity(80_000);
    let mut previous: &[u8] = &[];
    for rule in &rules {
        assert!(rule.len() < 128, "{LIST}: a rule of {} bytes", rule.len());
        let shared = previous.iter().zip(rule).take_while(|(a, b)| a == b).count();
        coded.push(0x80 | (previous.len() - shared) as u8);
        coded.extend_from_slice(&rule[shared..]);
        previous = rule;
    }
    let packed = miniz_oxide::deflate::compress_to_vec(&coded, 10);
    let out = Path::new(&env::var_os("OUT_DIR").expect("OUT_DIR")).join("psl.bin");
    fs::write(&out, packed).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}

/// `rule` with its labels in reverse order, IDN labels in their `xn--` form; a wildcard (`*`)
/// or exception (`!`) only as the leftmost label, so the matcher's three look-ups per label are
/// all there is.
fn reversed_ascii(rule: &str) -> Result<Vec<u8>, String> {
    let labels: Vec<&str> = rule.split('.').collect();
    let mut out: Vec<String> = Vec::with_capacity(labels.len());
    for (i, label) in labels.iter().enumerate() {
        let leftmost = i == 0;
        let (mark, name) = match label.strip_prefix('!') {
            Some(name) if leftmost => ("!", name),
            _ => ("", *label),
        };
        if *label == "*" && leftmost && labels.len() > 1 {
            out.push("*".into());
            continue;
        }
        let ascii = if name.is_ascii() {
            name.to_owned()
        } else {
            let lower = name.to_lowercase();
            if lower != name {
                return Err("an IDN label not in lower case".into());
            }
            format!("xn--{}", idna::punycode::encode_str(name).ok_or("punycode failed")?)
        };
        let host_label = !ascii.is_empty()
            && ascii.len() <= 63
            && ascii.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !host_label {
            return Err(format!("label `{label}` is not a lower-case host name label"));
        }
        out.push(format!("{mark}{ascii}"));
    }
    out.reverse();
    Ok(out.join(".").into_bytes())
}
