//! How many guesses an attacker needs for a passphrase: an estimate in the spirit of zxcvbn
//! (Wheeler, USENIX Security 2016), small enough for the phones' library.
//!
//! The passphrase is cut into the pieces an attacker's cracker tries first, each priced in
//! guesses, and the cheapest way to cover the whole of it wins:
//! - **common passwords and words**: a bounded list ([`COMMON`], a few hundred of the most
//!   common passwords and names, in rank order), the most common English words ([`WORDS`]) and
//!   a few famous phrases ([`FAMOUS`]); matched in any case, reversed, with l33t substitutions (`p@ssw0rd`) and with
//!   `-`, `_`, `.` for spaces. A word's guesses are its rank, times its case and l33t variants.
//! - **keyboard walks** on a QWERTY keyboard (`qwerty`, `asdf`, `1qaz`), priced by length and
//!   turns; **repeats** (`aaaa`, `abcabc`): the guesses of the repeated part times the count;
//!   **sequences** (`abcd`, `1234`, `9753`); **years** (1900–2039) and **dates** (`31121999`,
//!   `1999-12-31`).
//! - anything else is **brute force**: 10 guesses a character for a letter or a digit (a word
//!   the list does not know is about as easy as that), 20 for a symbol, 40 for a character
//!   beyond ASCII.
//!
//! `n` pieces combine to `n! × Π guesses` (zxcvbn adds `10,000^(n−1)`, which would rate any four
//! common words above the threshold, so it is left out). Only the first
//! [`MAX_CHARS`] characters are estimated: more can only add guesses, so the estimate stays a
//! lower bound and its cost stays bounded. A passphrase is [acceptable](Strength::acceptable)
//! from [`MIN_GUESSES_LOG10`] (10^12 guesses) up; below that, [`Weakness`] says why.

/// The fewest guesses (log10) an acceptable passphrase needs: 10^12. At the sync key's Argon2id
/// cost (256 MiB, 4 passes) a high-end GPU tries at most about 600 a second (its memory
/// bandwidth bounds it), so 10^12 takes about 50 GPU-years (docs/security.md, "Sync passphrase").
pub const MIN_GUESSES_LOG10: f64 = 12.0;

/// Characters estimated; any beyond them only add guesses.
pub const MAX_CHARS: usize = 100;

/// The most common passwords and names, most common first (one a line; those a pattern finds
/// anyway, like `123456` or `qwerty`, are left out). Bounded on purpose: the phones' library has
/// little room, and the patterns and brute-force prices carry the rest.
pub const COMMON: &str = "password\niloveyou\nprincess\nrockyou\nabc123\nnicole\ndaniel\nbabygirl\nmonkey\n\
lovely\njessica\nmichael\nashley\ndragon\nletmein\nbaseball\nfootball\nshadow\nmaster\nsuperman\nsunshine\n\
trustno1\nwelcome\nlogin\nadmin\nstarwars\nwhatever\nfreedom\nhello\ncharlie\ndonald\nmustang\naccess\n\
batman\njordan\njennifer\nhunter\nbuster\nsoccer\nharley\nandrew\ntigger\nrobert\nthomas\nhockey\nranger\n\
george\ncomputer\nmichelle\npepper\nmaggie\nginger\njoshua\ncheese\namanda\nsummer\nlove\nchelsea\nbiteme\n\
matthew\nyankees\ndallas\naustin\nthunder\ntaylor\nmatrix\nwilliam\ncorvette\nmartin\nheather\nsecret\n\
merlin\ndiamond\nhammer\nsilver\nanthony\njustin\njackson\nmercedes\ncowboy\nsamantha\neagles\nkiller\n\
jasmine\nbanana\nchocolate\nflower\npurple\nangel\nbutterfly\nliverpool\narsenal\nchicken\ntiger\nlakers\n\
pokemon\nnaruto\nminecraft\ngoogle\nfacebook\ninternet\nsamsung\napple\nchangeme\ndefault\nguest\ntest\n\
testing\ndemo\nroot\ntoor\npass\npasswd\npassphrase\nprivate\nsystem\nserver\noracle\nadministrator\nuser\n\
manager\nsuper\nmoney\nfamily\nfriends\nforever\nloveyou\nlover\nmusic\nsexy\nbaby\njesus\nchrist\ngod\n\
heaven\nblessed\nfaith\nhope\npeace\nhappy\nsmile\nrainbow\nstar\ncookie\npizza\ncoffee\nbeer\nwhiskey\n\
monday\nfriday\njanuary\nfebruary\nmarch\napril\njune\njuly\naugust\nseptember\noctober\nnovember\n\
december\nspring\nwinter\nautumn\nalex\njames\njohn\ndavid\nrichard\njoseph\ncharles\nmike\nsteve\nkevin\n\
brian\njason\nsarah\nemily\nlisa\nanna\nmaria\nlaura\nsophie\nolivia\nemma\nhannah\nchris\npeter\npaul\n\
mark\nscott\neric\nsteven\nfuckyou\nfuck\nshit\nbitch\nasshole\npussy\ndick\nmother\nfather\nsister\n\
brother\ndarling\nsweet\nhoney\nqueen\nking\nprince\nknight\ndevil\ndemon\nwizard\nmagic\nninja\nzombie\n\
phoenix\nfalcon\neagle\nwolf\nlion\nbear\nshark\ndolphin\nhorse\npuppy\nkitty\ndoggy\ncat\ndog\nfish\nred\n\
blue\ngreen\nblack\nwhite\nyellow\ngold\ngolf\ntennis\nboston\nchicago\nlondon\nparis\nberlin\namerica\n\
canada\ngermany\nfrance\nscience\nsecurity\nnetwork\nwindows\nlinux\nmicrosoft\niphone\nandroid\ncisco\n\
passwort\nmotdepasse\ncontrasena\nsenha\nhaslo\nwachtwoord\nsalasana";

/// The most common English words, most common first: a phrase of them is guessed word by word.
pub const WORDS: &str = "i\nthe\nof\nand\nto\nin\nis\nyou\nthat\nit\nhe\nwas\nfor\non\nare\nas\nwith\nhis\n\
they\nat\nbe\nthis\nhave\nfrom\nor\none\nhad\nby\nword\nbut\nnot\nwhat\nall\nwere\nwe\nwhen\nyour\ncan\n\
said\nthere\nuse\nan\neach\nwhich\nshe\ndo\nhow\ntheir\nif\nwill\nup\nother\nabout\nout\nmany\nthen\nthem\n\
these\nso\nsome\nher\nwould\nmake\nlike\nhim\ninto\ntime\nhas\nlook\ntwo\nmore\nwrite\ngo\nsee\nnumber\nno\n\
way\ncould\npeople\nmy\nthan\nfirst\nwater\nbeen\ncall\nwho\nnow\nfind\nlong\ndown\nday\ndid\nget\ncome\n\
made\nmay\npart\nmuch\nme\nlife";

/// Phrases published as examples of good passwords, which every cracking list now holds.
pub const FAMOUS: &str = "correct horse battery staple\ncorrecthorsebatterystaple\ntr0ub4dor&3\n\
the quick brown fox jumps over the lazy dog\nto be or not to be\nmary had a little lamb";

/// Why a passphrase is too easy to guess: the kind of pattern that covers most of it, or, when
/// none does, its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    /// Nothing but characters a brute-force search covers, and too few of them.
    TooShort {
        /// The passphrase's length, in characters.
        chars: usize,
    },
    /// Mostly a common password or word (possibly with digits, l33t or other words around it).
    CommonPassword,
    /// A phrase published as an example of a good password.
    FamousPhrase,
    /// Mostly a keyboard walk (`qwerty`, `asdf`, `1qaz2wsx`).
    KeyboardPattern,
    /// Mostly repeated characters or blocks (`aaaa`, `abcabc`).
    Repeated,
    /// Mostly a sequence (`abcd`, `1234`, `9753`).
    Sequence,
    /// Mostly a date or a year.
    Date,
}

impl std::fmt::Display for Weakness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Weakness::TooShort { chars: 1 } => f.write_str("too short: 1 character"),
            Weakness::TooShort { chars } => write!(f, "too short: {chars} characters"),
            Weakness::CommonPassword => f.write_str("a common password or word"),
            Weakness::FamousPhrase => f.write_str("a well-known example passphrase"),
            Weakness::KeyboardPattern => f.write_str("a keyboard pattern"),
            Weakness::Repeated => f.write_str("repeated characters"),
            Weakness::Sequence => f.write_str("a sequence like abcd or 1234"),
            Weakness::Date => f.write_str("a date or a year"),
        }
    }
}

/// The estimate for one passphrase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strength {
    /// log10 of the guesses an attacker needs (the estimate).
    pub guesses_log10: f64,
    /// Why it is too weak; None when it is [acceptable](Strength::acceptable).
    pub weakness: Option<Weakness>,
}

impl Strength {
    /// Whether the estimate reaches [`MIN_GUESSES_LOG10`].
    pub fn acceptable(&self) -> bool {
        self.weakness.is_none()
    }
}

/// Estimates the guesses an attacker needs for `passphrase`.
pub fn estimate(passphrase: &str) -> Strength {
    let chars: Vec<char> = passphrase.chars().take(MAX_CHARS).collect();
    let words = Words::new();
    let (guesses_log10, pieces) = best(&chars, &words, true);
    let weakness = (guesses_log10 < MIN_GUESSES_LOG10).then(|| weakness_of(&pieces, passphrase.chars().count()));
    Strength { guesses_log10, weakness }
}

/// What kind of piece a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    BruteForce,
    Word,
    Famous,
    Keyboard,
    Repeat,
    Sequence,
    Date,
}

/// A piece `chars[start..end]` and its guesses (log10).
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    log10: f64,
    kind: Kind,
}

fn weakness_of(pieces: &[Piece], chars: usize) -> Weakness {
    let mut covered: Vec<(Kind, usize)> = Vec::new();
    for p in pieces {
        match covered.iter_mut().find(|(k, _)| *k == p.kind) {
            Some((_, n)) => *n += p.end - p.start,
            None => covered.push((p.kind, p.end - p.start)),
        }
    }
    match covered.iter().filter(|(k, _)| *k != Kind::BruteForce).max_by_key(|c| c.1) {
        Some(&(kind, _)) => match kind {
            Kind::Word => Weakness::CommonPassword,
            Kind::Famous => Weakness::FamousPhrase,
            Kind::Keyboard => Weakness::KeyboardPattern,
            Kind::Repeat => Weakness::Repeated,
            Kind::Sequence => Weakness::Sequence,
            Kind::Date => Weakness::Date,
            Kind::BruteForce => Weakness::TooShort { chars },
        },
        None => Weakness::TooShort { chars },
    }
}

/// The word lists. A lookup scans them (a few hundred lines): no table is built, which keeps
/// the code small, and an estimate of a 100-character passphrase still takes milliseconds.
struct Words;

impl Words {
    fn new() -> Self {
        Self
    }

    /// The rank of `word` in the first list that has it (1 = most common), and its kind.
    fn get(&self, word: &str) -> Option<(usize, Kind)> {
        // No common word or password is longer than 16 bytes; no famous phrase than 43.
        let lists: &[(&str, Kind)] = match word.len() {
            0..=16 => &[(FAMOUS, Kind::Famous), (WORDS, Kind::Word), (COMMON, Kind::Word)],
            17..=43 => &[(FAMOUS, Kind::Famous)],
            _ => &[],
        };
        lists.iter().find_map(|&(list, kind)| list.lines().position(|w| w == word).map(|i| (i + 1, kind)))
    }
}

/// The cheapest cover of `chars` by pieces: (log10 guesses, the pieces). zxcvbn's search: for
/// each end and each number of pieces, the least product of guesses.
fn best(chars: &[char], words: &Words, repeats: bool) -> (f64, Vec<Piece>) {
    let n = chars.len();
    if n == 0 {
        return (0.0, Vec::new());
    }
    let mut matches = find_matches(chars, words, repeats);
    // Brute force over any span.
    let per_char: Vec<f64> = chars.iter().map(|&c| brute_force_log10(c)).collect();
    for start in 0..n {
        let mut sum = 0.0;
        for end in start + 1..=n {
            sum += per_char[end - 1];
            matches.push(Piece { start, end, log10: sum, kind: Kind::BruteForce });
        }
    }
    let mut by_end: Vec<Vec<Piece>> = vec![Vec::new(); n + 1];
    for m in matches {
        by_end[m.end].push(m);
    }
    // cost[k][l]: least log10 product of guesses covering chars[..k] with l pieces.
    let mut cost = vec![vec![f64::INFINITY; n + 1]; n + 1];
    let mut back: Vec<Vec<Option<Piece>>> = vec![vec![None; n + 1]; n + 1];
    cost[0][0] = 0.0;
    for k in 1..=n {
        for m in &by_end[k] {
            for l in 1..=m.start + 1 {
                let prior = cost[m.start][l - 1];
                if prior.is_finite() && prior + m.log10 < cost[k][l] {
                    cost[k][l] = prior + m.log10;
                    back[k][l] = Some(*m);
                }
            }
        }
    }
    // Total: l! × product (the pieces in any order), least over l.
    let mut best_l = 1;
    let mut best_total = f64::INFINITY;
    let mut log_factorial = 0.0;
    for (l, &product) in cost[n].iter().enumerate().skip(1) {
        log_factorial += (l as f64).log10();
        if product.is_finite() {
            let total = log_factorial + product;
            if total < best_total {
                best_total = total;
                best_l = l;
            }
        }
    }
    let mut pieces = Vec::new();
    let (mut k, mut l) = (n, best_l);
    while k > 0 {
        let Some(m) = back[k][l] else { break };
        pieces.push(m);
        k = m.start;
        l -= 1;
    }
    pieces.reverse();
    (best_total, pieces)
}

fn brute_force_log10(c: char) -> f64 {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | ' ' => 1.0,
        _ if c.is_ascii() => 20f64.log10(),
        _ => 40f64.log10(),
    }
}

/// zxcvbn's floor for a pattern's guesses: a pattern is never cheaper than brute force would be
/// for a character or two.
fn floor(log10: f64, len: usize) -> f64 {
    log10.max(if len == 1 { 1.0 } else { 50f64.log10() })
}

fn find_matches(chars: &[char], words: &Words, repeats: bool) -> Vec<Piece> {
    let mut out = Vec::new();
    dictionary(chars, words, &mut out);
    keyboard(chars, &mut out);
    sequences(chars, &mut out);
    dates(chars, &mut out);
    if repeats {
        repeated(chars, words, &mut out);
    }
    for m in &mut out {
        m.log10 = floor(m.log10, m.end - m.start);
    }
    out
}

fn log10_binomial(n: usize, k: usize) -> f64 {
    (0..k).map(|i| ((n - i) as f64).log10() - ((i + 1) as f64).log10()).sum()
}

/// How many case variants of a word an attacker tries before this one (zxcvbn's rule).
fn case_variants_log10(piece: &[char]) -> f64 {
    let upper = piece.iter().filter(|c| c.is_uppercase()).count();
    let lower = piece.iter().filter(|c| c.is_lowercase()).count();
    if upper == 0 {
        return 0.0;
    }
    let first_or_last = upper == 1
        && (piece.first().is_some_and(|c| c.is_uppercase()) || piece.last().is_some_and(|c| c.is_uppercase()));
    if lower == 0 || first_or_last {
        return 2f64.log10();
    }
    let sum: f64 = (1..=upper.min(lower)).map(|i| 10f64.powf(log10_binomial(upper + lower, i))).sum();
    sum.log10()
}

/// The l33t reading of a character, and whether it changed.
fn unleet(c: char) -> (char, bool) {
    let plain = match c {
        '4' | '@' => 'a',
        '8' => 'b',
        '(' | '{' | '[' | '<' => 'c',
        '3' => 'e',
        '6' | '9' => 'g',
        '1' | '!' | '|' => 'i',
        '0' => 'o',
        '$' | '5' => 's',
        '7' | '+' => 't',
        '2' => 'z',
        '%' => 'x',
        '-' | '_' | '.' => ' ',
        _ => return (c, false),
    };
    (plain, true)
}

fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn dictionary(chars: &[char], words: &Words, out: &mut Vec<Piece>) {
    let n = chars.len();
    let plain: Vec<char> = chars.iter().map(|&c| lower(c)).collect();
    let leet: Vec<(char, bool)> = plain.iter().map(|&c| unleet(c)).collect();
    let leet_i: Vec<char> = leet.iter().map(|l| l.0).collect();
    // '1' and '|' also read as 'l'.
    let leet_l: Vec<char> =
        plain.iter().zip(&leet_i).map(|(&c, &l)| if matches!(c, '1' | '|') { 'l' } else { l }).collect();
    let mut text = String::new();
    for start in 0..n {
        for end in start + 1..=n.min(start + 50) {
            let case = case_variants_log10(&chars[start..end]);
            let subs = leet[start..end].iter().filter(|l| l.1).count() as f64 * 2f64.log10();
            let mut cheapest: Option<Piece> = None;
            for (span, extra, reversed) in [
                (&plain[start..end], 0.0, false),
                (&plain[start..end], 2f64.log10(), true),
                (&leet_i[start..end], subs, false),
                (&leet_l[start..end], subs, false),
            ] {
                text.clear();
                if reversed {
                    text.extend(span.iter().rev());
                } else {
                    text.extend(span.iter());
                }
                // A word with the separator before it (` water`, `-horse`) costs what the word does.
                let word = match text.strip_prefix([' ', '-', '_', '.']) {
                    Some(rest) if !reversed && !rest.is_empty() => rest,
                    _ => text.as_str(),
                };
                if let Some((rank, kind)) = words.get(word) {
                    let log10 = (rank as f64).log10() + case + extra;
                    if cheapest.is_none_or(|c| log10 < c.log10) {
                        cheapest = Some(Piece { start, end, log10, kind });
                    }
                }
            }
            out.extend(cheapest);
        }
    }
}

/// A key's row and column on a QWERTY keyboard (shifted characters on their key), and whether
/// it is shifted.
fn key(c: char) -> Option<(i32, i32, bool)> {
    const ROWS: [&str; 4] = ["1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./"];
    const SHIFTED: [&str; 4] = ["!@#$%^&*()_+", "QWERTYUIOP{}", "ASDFGHJKL:\"", "ZXCVBNM<>?"];
    for (r, (row, shifted)) in ROWS.iter().zip(SHIFTED).enumerate() {
        if let Some(c_at) = row.chars().position(|k| k == c) {
            return Some((r as i32, c_at as i32, false));
        }
        if let Some(c_at) = shifted.chars().position(|k| k == c) {
            return Some((r as i32, c_at as i32, true));
        }
    }
    None
}

/// The direction from key `a` to a neighbouring key `b`, or None when they are not neighbours
/// (each row sits half a key to the right of the one above).
fn step(a: (i32, i32), b: (i32, i32)) -> Option<(i32, i32)> {
    let d = (b.0 - a.0, b.1 - a.1);
    matches!(d, (0, -1) | (0, 1) | (-1, 0) | (-1, 1) | (1, -1) | (1, 0)).then_some(d)
}

fn keyboard(chars: &[char], out: &mut Vec<Piece>) {
    // Keys: 47 unshifted; neighbours: about 4 on average (zxcvbn's figures for QWERTY).
    const STARTS: f64 = 47.0;
    const DEGREE: f64 = 4.0;
    let n = chars.len();
    let mut start = 0;
    while start + 2 < n {
        let mut end = start + 1;
        let mut turns = 1;
        let mut direction = None;
        while end < n {
            let (Some(a), Some(b)) = (key(chars[end - 1]), key(chars[end])) else { break };
            let Some(d) = step((a.0, a.1), (b.0, b.1)) else { break };
            if direction.is_some_and(|p| p != d) {
                turns += 1;
            }
            direction = Some(d);
            end += 1;
        }
        let len = end - start;
        if len >= 3 {
            // zxcvbn: Σ over lengths i ≤ len and turns j ≤ t of C(i−1, j−1) × starts × degree^j.
            let mut guesses = 0.0;
            for i in 2..=len {
                for j in 1..=turns.min(i - 1) {
                    guesses += 10f64.powf(log10_binomial(i - 1, j - 1)) * STARTS * DEGREE.powi(j as i32);
                }
            }
            let shifted = chars[start..end].iter().filter(|&&c| key(c).is_some_and(|k| k.2)).count();
            let unshifted = len - shifted;
            let shift = if shifted == 0 {
                0.0
            } else if unshifted == 0 {
                2f64.log10()
            } else {
                (1..=shifted.min(unshifted)).map(|i| 10f64.powf(log10_binomial(len, i))).sum::<f64>().log10()
            };
            out.push(Piece { start, end, log10: guesses.log10() + shift, kind: Kind::Keyboard });
            start = end - 1;
        } else {
            start += 1;
        }
    }
}

fn sequences(chars: &[char], out: &mut Vec<Piece>) {
    let n = chars.len();
    let mut start = 0;
    while start + 2 < n {
        let delta = chars[start + 1] as i64 - chars[start] as i64;
        let mut end = start + 1;
        while end < n && chars[end] as i64 - chars[end - 1] as i64 == delta {
            end += 1;
        }
        if end - start >= 3 && (1..=5).contains(&delta.abs()) {
            let first = chars[start];
            let base: f64 = match first {
                'a' | 'A' | 'z' | 'Z' | '0' | '1' | '9' => 4.0,
                '0'..='9' => 10.0,
                'a'..='z' | 'A'..='Z' => 26.0,
                _ => 26.0 * 2.0,
            };
            let direction = if delta < 0 { 2.0 } else { 1.0 };
            let log10 = (base * (end - start) as f64 * direction).log10();
            out.push(Piece { start, end, log10, kind: Kind::Sequence });
            start = end - 1;
        } else {
            start += 1;
        }
    }
}

/// The year this estimate counts from: recent years are guessed first.
const REFERENCE_YEAR: i64 = 2026;

fn year_space(year: i64) -> f64 {
    ((year - REFERENCE_YEAR).abs().max(20)) as f64
}

fn dates(chars: &[char], out: &mut Vec<Piece>) {
    let n = chars.len();
    let digit = |c: char| c.to_digit(10).map(i64::from);
    let number = |span: &[char]| span.iter().try_fold(0i64, |acc, &c| Some(acc * 10 + digit(c)?));
    let full_year = |y: i64, digits: usize| match digits {
        2 if y < 50 => Some(2000 + y),
        2 => Some(1900 + y),
        4 if (1900..=2039).contains(&y) => Some(y),
        _ => None,
    };
    for start in 0..n {
        // A lone year.
        if start + 4 <= n
            && let Some(y) = number(&chars[start..start + 4]).filter(|y| (1900..=2039).contains(y))
        {
            out.push(Piece { start, end: start + 4, log10: year_space(y).log10(), kind: Kind::Date });
        }
        for end in start + 4..=n.min(start + 10) {
            let span = &chars[start..end];
            // Day, month and year, in any of the usual orders, with or without one separator.
            let separators: Vec<usize> = span
                .iter()
                .enumerate()
                .filter(|(_, c)| matches!(c, '/' | '-' | '.' | ' ' | '_'))
                .map(|(i, _)| i)
                .collect();
            let splits: Vec<(usize, usize)> = match separators.as_slice() {
                [a, b] if span[*a] == span[*b] && *a > 0 && b - a > 1 && *b + 1 < span.len() => vec![(*a, *b)],
                [] if span.iter().all(|c| c.is_ascii_digit()) => {
                    (1..span.len() - 1).flat_map(|a| (a + 1..span.len()).map(move |b| (a, b))).collect()
                }
                _ => continue,
            };
            let with_separator = !separators.is_empty();
            for (a, b) in splits {
                let (skip_a, skip_b) = if with_separator { (a + 1, b + 1) } else { (a, b) };
                let parts = [&span[..a], &span[skip_a..b], &span[skip_b..]];
                if parts.iter().any(|p| p.is_empty() || p.len() > 4) {
                    continue;
                }
                let values: Vec<(i64, usize)> = parts.iter().filter_map(|p| Some((number(p)?, p.len()))).collect();
                if values.len() != 3 {
                    continue;
                }
                let [(x, xl), (y, yl), (z, zl)] = [values[0], values[1], values[2]];
                let valid = |d: (i64, usize), m: (i64, usize), yr: (i64, usize)| {
                    d.1 <= 2
                        && m.1 <= 2
                        && (1..=31).contains(&d.0)
                        && (1..=12).contains(&m.0)
                        && full_year(yr.0, yr.1).is_some()
                };
                let year = if valid((x, xl), (y, yl), (z, zl)) || valid((y, yl), (x, xl), (z, zl)) {
                    full_year(z, zl)
                } else if valid((z, zl), (y, yl), (x, xl)) {
                    full_year(x, xl)
                } else {
                    None
                };
                if let Some(year) = year {
                    let separator = if with_separator { 4f64.log10() } else { 0.0 };
                    let log10 = (365.0 * year_space(year)).log10() + separator;
                    out.push(Piece { start, end, log10, kind: Kind::Date });
                    break;
                }
            }
        }
    }
}

fn repeated(chars: &[char], words: &Words, out: &mut Vec<Piece>) {
    let n = chars.len();
    for start in 0..n {
        // The longest run from here of a block repeated at least twice (a character: thrice).
        let mut longest: Option<(usize, usize)> = None;
        for block in 1..=(n - start) / 2 {
            let mut count = 1;
            while start + (count + 1) * block <= n
                && chars[start..start + block] == chars[start + count * block..start + (count + 1) * block]
            {
                count += 1;
            }
            let enough = if block == 1 { count >= 3 } else { count >= 2 };
            if enough && longest.is_none_or(|(b, c)| block * count > b * c) {
                longest = Some((block, count));
            }
        }
        if let Some((block, count)) = longest {
            let (base, _) = best(&chars[start..start + block], words, false);
            let log10 = base + (count as f64).log10();
            out.push(Piece { start, end: start + block * count, log10, kind: Kind::Repeat });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weakness(p: &str) -> Option<Weakness> {
        estimate(p).weakness
    }

    #[test]
    fn the_lists_hold_no_word_longer_than_their_lookup_assumes() {
        assert!(COMMON.lines().chain(WORDS.lines()).all(|w| w.len() <= 16));
        assert!(FAMOUS.lines().all(|w| w.len() <= 43));
    }

    #[test]
    fn a_single_character_is_too_short() {
        assert_eq!(weakness("a"), Some(Weakness::TooShort { chars: 1 }));
        assert_eq!(Weakness::TooShort { chars: 1 }.to_string(), "too short: 1 character");
    }

    #[test]
    fn common_passwords_are_refused_as_such_with_digits_case_or_l33t() {
        for p in ["dragon", "password1", "P@ssw0rd", "Dragon2024", "drowssap", "monkey123!", "iloveyou"] {
            assert_eq!(weakness(p), Some(Weakness::CommonPassword), "{p}: {:?}", estimate(p));
        }
    }

    #[test]
    fn keyboard_walks_are_refused_as_such() {
        for p in ["qwertyuiop", "asdfghjkl", "1qaz2wsx3edc", "zxcvbnm,./", "QWERTYUIOP"] {
            assert_eq!(weakness(p), Some(Weakness::KeyboardPattern), "{p}: {:?}", estimate(p));
        }
    }

    #[test]
    fn repeats_are_refused_as_such() {
        for p in ["aaaaaaaaaaaaaaaa", "abcabcabcabc", "xyzzyxyzzyxyzzy", "!!!!!!!!!!!!!!!!!!!!"] {
            assert_eq!(weakness(p), Some(Weakness::Repeated), "{p}: {:?}", estimate(p));
        }
    }

    #[test]
    fn sequences_are_refused_as_such() {
        for p in ["12345678901234", "abcdefghijklmnop", "9876543210", "acegikmoqsuw"] {
            assert_eq!(weakness(p), Some(Weakness::Sequence), "{p}: {:?}", estimate(p));
        }
    }

    #[test]
    fn dates_and_years_are_refused_as_such() {
        for p in ["31121999", "1999-12-31", "19871987", "12.05.2001"] {
            let w = weakness(p);
            assert!(matches!(w, Some(Weakness::Date | Weakness::Repeated)), "{p}: {:?}", estimate(p));
        }
        assert_eq!(weakness("31121999"), Some(Weakness::Date));
    }

    #[test]
    fn the_famous_example_phrases_are_refused_in_any_spelling() {
        for p in
            ["correct horse battery staple", "Correct-Horse-Battery-Staple", "correcthorsebatterystaple", "Tr0ub4dor&3"]
        {
            assert_eq!(weakness(p), Some(Weakness::FamousPhrase), "{p}: {:?}", estimate(p));
        }
    }

    #[test]
    fn a_word_the_list_knows_inside_other_letters_names_the_word() {
        assert_eq!(weakness("sunflowerfield"), Some(Weakness::CommonPassword));
    }

    #[test]
    fn short_random_strings_are_too_short_and_long_ones_pass() {
        assert_eq!(weakness("x7#kQ"), Some(Weakness::TooShort { chars: 5 }));
        for p in ["h4Kq9zTw2Lm8", "vR7#pW2!kd9Xq", "9f86d081884c7d659a2feaa0"] {
            assert!(estimate(p).acceptable(), "{p}: {:?}", estimate(p));
        }
    }

    #[test]
    fn random_words_pass_from_four_up() {
        for p in [
            "ladder cobalt sprint unwind",
            "crumb oyster plank vivid tundra",
            "Gravel-Mosaic-Uphill-Lantern",
            "banjo swelter ketchup amnesty foyer",
        ] {
            assert!(estimate(p).acceptable(), "{p}: {:?}", estimate(p));
        }
    }

    #[test]
    fn common_words_strung_together_are_refused() {
        for p in ["i love you so much", "the water is out there", "passwordpassword"] {
            assert!(!estimate(p).acceptable(), "{p}: {:?}", estimate(p));
        }
    }

    #[test]
    fn the_estimate_grows_with_length_and_character_classes() {
        let a = estimate("kqzvbwxj").guesses_log10;
        assert!(estimate("kqzvbwxjtd").guesses_log10 > a);
        assert!(estimate("kq#vb%xj").guesses_log10 > a);
    }

    #[test]
    fn a_huge_input_is_estimated_on_its_first_characters_quickly() {
        let huge = "qk3#".repeat(250_000);
        let started = std::time::Instant::now();
        assert!(estimate(&huge).guesses_log10 > 0.0);
        assert!(estimate(&"a".repeat(1_000_000)).weakness == Some(Weakness::Repeated));
        // A budget against minutes, not a timing target.
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    }
}
