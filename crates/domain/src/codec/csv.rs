//! Comma-separated values as RFC 4180 writes them: fields in double quotes may hold commas,
//! line breaks and doubled quotes (`""` is one `"`); records end with CRLF or LF.
//!
//! Lenient where spreadsheet programs differ (a stray quote inside an unquoted field is kept as
//! text, text after a closing quote is appended), strict where guessing would shift columns: a
//! quoted field that never closes is an error.

use zeroize::Zeroizing;

/// A quoted field runs to the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnclosedQuote {
    /// The record (1-based) where the quoted field starts.
    pub record: usize,
}

/// Reads every record of `text` (a leading byte-order mark is skipped). An empty line is a
/// record with one empty field, except at the very end of the input. Fields are wiped from
/// memory when dropped: a CSV export of a password manager holds secrets.
pub fn parse(text: &str) -> Result<Vec<Vec<Zeroizing<String>>>, UnclosedQuote> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record: Vec<Zeroizing<String>> = Vec::new();
    let mut field = Zeroizing::new(String::new());
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut quoted_from = 0;
    // Whether the current record has any content yet (so a trailing newline ends no record).
    let mut started = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                quoted_from = records.len() + 1;
                started = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                started = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                started = false;
            }
            c => {
                field.push(c);
                started = true;
            }
        }
    }
    if in_quotes {
        return Err(UnclosedQuote { record: quoted_from });
    }
    if started {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Vec<String>> {
        parse(text).unwrap().into_iter().map(|r| r.into_iter().map(|f| f.to_string()).collect()).collect()
    }

    #[test]
    fn reads_plain_and_quoted_fields() {
        assert_eq!(rows("a,b,c\n1,,3\n"), [vec!["a", "b", "c"], vec!["1", "", "3"]]);
        assert_eq!(rows("\u{feff}x,\"y, z\"\r\n"), [vec!["x", "y, z"]]);
    }

    #[test]
    fn doubled_quotes_and_line_breaks_inside_quotes() {
        assert_eq!(rows("\"say \"\"hi\"\"\",\"two\nlines\"\nnext"), [vec!["say \"hi\"", "two\nlines"], vec!["next"]]);
    }

    #[test]
    fn blank_lines_are_empty_records_but_a_trailing_newline_is_not() {
        assert_eq!(rows("a\n\nb\n"), [vec!["a"], vec![""], vec!["b"]]);
        assert_eq!(rows(""), Vec::<Vec<String>>::new());
        assert_eq!(rows("a,"), [vec!["a", ""]]);
    }

    #[test]
    fn an_unclosed_quote_is_an_error_naming_its_record() {
        assert_eq!(parse("a\nb\n\"c,d\n"), Err(UnclosedQuote { record: 3 }));
    }

    #[test]
    fn a_stray_quote_in_an_unquoted_field_is_text() {
        assert_eq!(rows("ab\"c,d"), [vec!["ab\"c", "d"]]);
    }
}
