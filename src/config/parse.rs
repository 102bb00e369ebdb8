//! Stage one: the literal structure of an AWS config or credentials file.
//!
//! This stage knows lines, sections and properties, not what they mean; the rules about
//! `[profile x]`, `[default]` and `[sso-session x]` live in `normalize.rs`. The rules follow the
//! cross-SDK profile parser specification (smithy-rs `profile-parser-tests.json`):
//! whitespace is space or tab; `#` and `;` start a comment anywhere on a section line but only
//! after whitespace on a property line; an indented line continues the previous property; a
//! property with an empty value followed by indented `key = value` lines holds sub-properties.
//!
//! Parsing is in two steps so that a cache hit costs little even with thousands of profiles:
//! [`scan`] checks every line of the file and finds the section headers without copying
//! anything, and [`properties`] reads the properties of the one section asked for. Both borrow
//! from the file's text; only a value continued over several lines is copied.

use std::borrow::Cow;

/// A `[...]` section as written, with its properties in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSection<'a> {
    /// The text between the brackets, trimmed.
    pub name: &'a str,
    /// 1-based line of the header.
    pub line: usize,
    pub properties: Vec<RawProperty<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawProperty<'a> {
    /// As written (not yet lower-cased).
    pub key: &'a str,
    pub value: Cow<'a, str>,
    /// 1-based line of the `key = value` line.
    pub line: usize,
}

/// A section header found by [`scan`], and where its body is in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: &'a str,
    pub line: usize,
    /// Byte range of the lines after the header, up to the next header.
    body: (usize, usize),
}

/// A syntax error at a line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: &'static str,
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim_ws(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// What one line is.
enum Line<'a> {
    /// Empty, only whitespace, or a comment.
    Blank,
    /// An indented line, trimmed.
    Continuation(&'a str),
    /// `[name]` (its name is read by [`scan`]).
    Header,
    /// `key = value`, both trimmed: `None` when there is no `=` before a comment.
    Property(Option<(&'a str, &'a str)>),
}

fn classify(line: &str) -> Line<'_> {
    let bytes = line.as_bytes();
    let Some(&first) = bytes.first() else {
        return Line::Blank;
    };
    if is_ws(first) {
        return match bytes.iter().position(|&b| !is_ws(b)) {
            None => Line::Blank,
            Some(_) => Line::Continuation(trim_ws(line)),
        };
    }
    match first {
        b'#' | b';' => Line::Blank,
        b'[' => Line::Header,
        _ => {
            // A comment starts only after whitespace on a property line; the first `=`
            // before it splits key and value.
            let end = comment_start(bytes);
            let eq = bytes
                .get(..end)
                .unwrap_or_default()
                .iter()
                .position(|&b| b == b'=');
            Line::Property(eq.and_then(|eq| {
                let key = trim_ws(line.get(..eq)?);
                let value = trim_ws(line.get(eq.checked_add(1)?..end)?);
                Some((key, value))
            }))
        }
    }
}

/// The lines of `text[start..end]` with their 1-based numbers (the first is `first_line`),
/// without a trailing `\r`.
fn lines(
    text: &str,
    (start, end): (usize, usize),
    first_line: usize,
) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut at = start;
    let mut number = first_line;
    std::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let rest = text.get(at..end)?;
        let len = find_newline(rest.as_bytes());
        let line = rest.get(..len.unwrap_or(rest.len()))?;
        let item = (number, at, line.strip_suffix('\r').unwrap_or(line));
        at = match len {
            Some(len) => at.saturating_add(len).saturating_add(1),
            None => end,
        };
        number = number.saturating_add(1);
        Some(item)
    })
}

/// The text without a leading byte order mark.
fn body(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Checks every line of a file and returns its section headers in order; the first syntax
/// error is returned with its line. This runs over every byte of the file on every cache hit,
/// so it works on bytes and copies nothing; [`classify`] is the same rule set for the few lines
/// that are read in full.
pub fn scan(text: &str) -> Result<Vec<Header<'_>>, ParseError> {
    let text = body(text);
    let bytes = text.as_bytes();
    let len = bytes.len();
    let mut headers: Vec<Header> = Vec::new();
    // Whether the current section's last property may take continuation lines, and whether
    // they are sub-properties (the property's own value was empty).
    let mut continuable: Option<bool> = None;
    let mut line_no = 0usize;
    let mut at = 0usize;
    while at < len {
        line_no = line_no.saturating_add(1);
        let start = at;
        let rest = bytes.get(start..).unwrap_or_default();
        let end = find_newline(rest).map_or(len, |n| start.saturating_add(n));
        at = end.saturating_add(1);
        let raw = bytes.get(start..end).unwrap_or_default();
        let line = match raw.split_last() {
            Some((b'\r', line)) => line,
            _ => raw,
        };
        let err = |message| ParseError {
            line: line_no,
            message,
        };
        match line.first() {
            None | Some(b'#' | b';') => {}
            Some(&first) if is_ws(first) => {
                let Some(from) = line.iter().position(|&b| !is_ws(b)) else {
                    continue; // blank
                };
                if headers.is_empty() {
                    return Err(err("Expected a profile definition, found continuation"));
                }
                let Some(sub) = continuable else {
                    return Err(err("Expected a property definition, found continuation"));
                };
                if sub {
                    let content = line.get(from..).unwrap_or_default();
                    let Some(eq) = content.iter().position(|&b| b == b'=') else {
                        return Err(err("Expected an '=' sign defining a sub-property"));
                    };
                    if content
                        .get(..eq)
                        .unwrap_or_default()
                        .iter()
                        .all(|&b| is_ws(b))
                    {
                        return Err(err("Sub-property did not have a name"));
                    }
                }
            }
            Some(b'[') => {
                // `[`, the name, `]`, then whitespace or a comment.
                let cut = line
                    .iter()
                    .position(|&b| b == b'#' || b == b';')
                    .unwrap_or(line.len());
                let header = line.get(..cut).unwrap_or_default();
                let header = match header.iter().rposition(|&b| !is_ws(b)) {
                    Some(last) => header.get(..=last).unwrap_or_default(),
                    None => header,
                };
                let inner = match header.split_last() {
                    Some((b']', inner)) if header.len() >= 2 => inner.get(1..).unwrap_or_default(),
                    _ => return Err(err("Profile definition must end with ']'")),
                };
                let from = inner.iter().position(|&b| !is_ws(b)).unwrap_or(inner.len());
                let to = inner
                    .iter()
                    .rposition(|&b| !is_ws(b))
                    .map_or(from, |i| i.saturating_add(1));
                let name_start = start.saturating_add(1).saturating_add(from);
                let Some(name) =
                    text.get(name_start..name_start.saturating_add(to.saturating_sub(from)))
                else {
                    return Err(err("Profile definition must end with ']'"));
                };
                if let Some(last) = headers.last_mut() {
                    last.body.1 = start;
                }
                headers.push(Header {
                    name,
                    line: line_no,
                    body: (at.min(len), len),
                });
                continuable = None;
            }
            Some(_) => {
                if headers.is_empty() {
                    return Err(err("Expected a profile definition"));
                }
                // The first `=` before any comment (a `#` or `;` after whitespace).
                let mut eq = None;
                let mut prev_ws = false;
                for (i, &b) in line.iter().enumerate() {
                    if b == b'=' {
                        eq = Some(i);
                        break;
                    }
                    if (b == b'#' || b == b';') && prev_ws {
                        break;
                    }
                    prev_ws = is_ws(b);
                }
                let Some(eq) = eq else {
                    return Err(err("Expected an '=' sign defining a property"));
                };
                // The line does not start with whitespace, so the key is empty only when the
                // line starts with `=`.
                if eq == 0 {
                    return Err(err("Property did not have a name"));
                }
                // The value is empty when only whitespace, or whitespace and a comment, follow.
                let after = line.get(eq.saturating_add(1)..).unwrap_or_default();
                let value_empty = match after.iter().position(|&b| !is_ws(b)) {
                    None => true,
                    Some(i) => i > 0 && matches!(after.get(i), Some(b'#' | b';')),
                };
                continuable = Some(value_empty);
            }
        }
    }
    Ok(headers)
}

/// The first `\n` of `bytes`, eight bytes at a time: lines are short, so this beats both a
/// byte loop and a vector search that must be set up for every line (and, unlike `memchr`,
/// needs no CPU feature detection, whose `cpuid` is slow on virtual machines: tens of
/// microseconds on the cache-hit path).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0usize;
    for chunk in chunks.by_ref() {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])) ^ NEWLINES;
        // The lowest byte that is zero (here: was a newline) sets the lowest flagged bit.
        let found = word.wrapping_sub(ONES) & !word & HIGHS;
        if found != 0 {
            return Some(offset.saturating_add((found.trailing_zeros() / 8) as usize));
        }
        offset = offset.saturating_add(8);
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| offset.saturating_add(i))
}

/// Where a comment starts on a property line: at the first `#` or `;` that follows whitespace.
fn comment_start(line: &[u8]) -> usize {
    let mut prev_ws = false;
    for (i, &b) in line.iter().enumerate() {
        if (b == b'#' || b == b';') && prev_ws {
            return i;
        }
        prev_ws = is_ws(b);
    }
    line.len()
}

/// The properties of a section that [`scan`] found in the same `text` (which it checked).
pub fn properties<'a>(text: &'a str, header: &Header<'a>) -> Vec<RawProperty<'a>> {
    let text = body(text);
    let mut out: Vec<RawProperty<'a>> = Vec::new();
    let first_line = header.line.saturating_add(1);
    for (line_no, _, line) in lines(text, header.body, first_line) {
        match classify(line) {
            Line::Property(Some((key, value))) => out.push(RawProperty {
                key,
                value: Cow::Borrowed(value),
                line: line_no,
            }),
            Line::Continuation(content) => {
                if let Some(prop) = out.last_mut() {
                    let value = prop.value.to_mut();
                    value.push('\n');
                    value.push_str(content);
                }
            }
            _ => {}
        }
    }
    out
}

/// Parses the text of one file: every section with its properties.
pub fn parse(text: &str) -> Result<Vec<RawSection<'_>>, ParseError> {
    Ok(scan(text)?
        .iter()
        .map(|h| RawSection {
            name: h.name,
            line: h.line,
            properties: properties(text, h),
        })
        .collect())
}

/// Parses the sub-properties of a property such as `sts =` in a `[services x]` section:
/// each non-empty line of `value` is `key = value`. Keys are lower-cased.
pub fn sub_properties(value: &str) -> Vec<(String, String)> {
    value
        .split('\n')
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (trim_ws(k).to_ascii_lowercase(), trim_ws(v).to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_lines() {
        let s = parse("# c\n[profile a]\nx = 1\n\n[b]\ny = 2 ; c\n").unwrap();
        assert_eq!(s[0].name, "profile a");
        assert_eq!(s[0].line, 2);
        assert_eq!(s[0].properties[0].line, 3);
        assert_eq!(
            s[1].properties[0],
            RawProperty {
                key: "y",
                value: "2".into(),
                line: 6
            }
        );
    }

    #[test]
    fn error_lines_and_bom() {
        assert_eq!(
            parse("\u{feff}[a]\nx\n").unwrap_err(),
            ParseError {
                line: 2,
                message: "Expected an '=' sign defining a property"
            }
        );
    }

    #[test]
    fn continuations_and_crlf() {
        let s = parse("[a]\r\nx =\r\n  k = v\r\n  j = w\r\ny = 1 #c\r\n[b] ; c\r\nz=2").unwrap();
        assert_eq!(s[0].properties[0].value, "\nk = v\nj = w");
        assert_eq!(s[0].properties[1].value, "1");
        assert_eq!((s[1].name, s[1].properties[0].key), ("b", "z"));
        assert_eq!(s[1].properties[0].line, 7);
    }

    #[test]
    fn newlines_are_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'x'; len];
                bytes[at] = b'\n';
                if at + 1 < len {
                    bytes[len - 1] = b'\n';
                }
                assert_eq!(find_newline(&bytes), Some(at), "{len} {at}");
            }
            assert_eq!(find_newline(&vec![0x8a; len]), None);
        }
    }

    #[test]
    fn sub_properties_are_split() {
        assert_eq!(
            sub_properties("\nendpoint_url = http://127.0.0.1:1\nRegion=x"),
            vec![
                ("endpoint_url".to_string(), "http://127.0.0.1:1".to_string()),
                ("region".to_string(), "x".to_string())
            ]
        );
    }
}
