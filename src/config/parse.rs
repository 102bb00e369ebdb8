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
    let mut newlines = Newlines::new(bytes);
    while at < len {
        line_no = line_no.saturating_add(1);
        let start = at;
        let end = newlines.next().unwrap_or(len);
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
                let cut = first_of(line, [b'#', b';', b';']).unwrap_or(line.len());
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
                let Some(eq) = property_eq(line) else {
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
    first_of(bytes, [b'\n'; 3])
}

/// The positions of the `\n`s of a text in order, found 64 bytes at a time (SSE2 on x86_64,
/// which every x86_64 processor has, so no feature detection; eight bytes at a time
/// elsewhere): the scan of a file with thousands of profiles is mostly this.
struct Newlines<'a> {
    bytes: &'a [u8],
    /// Where the block of `mask` starts, and where the next one does.
    block: usize,
    next_block: usize,
    /// A bit for each `\n` of the block not yet returned.
    mask: u64,
}

impl<'a> Newlines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Newlines {
            bytes,
            block: 0,
            next_block: 0,
            mask: 0,
        }
    }
}

impl Iterator for Newlines<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            let chunk = self.bytes.get(self.next_block..)?;
            if chunk.is_empty() {
                return None;
            }
            self.block = self.next_block;
            self.next_block = self.next_block.saturating_add(64);
            self.mask = match chunk.first_chunk::<64>() {
                Some(block) => newline_mask(block),
                None => chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| b == b'\n')
                    .fold(0u64, |m, (i, _)| m | 1u64.wrapping_shl(i as u32)),
            };
        }
        let i = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask.wrapping_sub(1);
        Some(self.block.saturating_add(i))
    }
}

/// A bit for each `\n` of `block`.
#[cfg(target_arch = "x86_64")]
fn newline_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let mut mask = 0u64;
    for (i, part) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of x86_64; `part` has 16 readable bytes (unaligned load).
        let bits = unsafe {
            let newline = _mm_set1_epi8(b'\n' as i8);
            _mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128(part.as_ptr().cast()),
                newline,
            ))
        };
        mask |= u64::from(bits as u16).wrapping_shl((i as u32).wrapping_mul(16));
    }
    mask
}

/// A bit for each `\n` of `block` (without SSE2).
#[cfg(not(target_arch = "x86_64"))]
fn newline_mask(block: &[u8; 64]) -> u64 {
    newline_mask_words(block)
}

/// A bit for each `\n` of `block`, eight bytes at a time.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn newline_mask_words(block: &[u8; 64]) -> u64 {
    const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut mask = 0u64;
    for (i, part) in block.chunks_exact(8).enumerate() {
        let word =
            u64::from_le_bytes(part.try_into().unwrap_or([0; 8])) ^ (ONES * u64::from(b'\n'));
        // The high bit of each byte that is zero, exactly, then those eight bits gathered.
        let zeros = !(((word & LOWS).wrapping_add(LOWS)) | word | LOWS);
        let bits = ((zeros >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
        mask |= bits.wrapping_shl((i as u32).wrapping_mul(8));
    }
    mask
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// A flag in the high bit of the lowest byte of `word` that is zero (higher flags may be
/// false; only the lowest is used, and of several such words ORed the lowest flag is still
/// exact), or 0 when no byte is.
#[inline(always)]
fn zero_byte(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// The first byte of `bytes` that is one of `set`, eight bytes at a time; the last few bytes
/// as the last eight (those already seen hold no match). Short slices byte by byte.
fn first_of(bytes: &[u8], set: [u8; 3]) -> Option<usize> {
    let len = bytes.len();
    if len < 8 {
        return bytes.iter().position(|x| set.contains(x));
    }
    let patterns = set.map(|b| ONES.wrapping_mul(u64::from(b)));
    let mut offset = 0usize;
    while offset.saturating_add(8) <= len {
        let found = hits(word_at(bytes, offset), patterns);
        if found != 0 {
            return Some(offset.saturating_add((found.trailing_zeros() / 8) as usize));
        }
        offset = offset.saturating_add(8);
    }
    let last = len.saturating_sub(8);
    let seen = offset.saturating_sub(last);
    if seen >= 8 {
        return None;
    }
    // No flag stands in the bytes already seen (a false flag needs a true match below it).
    let found =
        hits(word_at(bytes, last), patterns) & u64::MAX.wrapping_shl((seen as u32).wrapping_mul(8));
    (found != 0).then(|| last.saturating_add((found.trailing_zeros() / 8) as usize))
}

/// Flags for the bytes of `word` that are one of the bytes of `patterns` (each repeated eight
/// times); the lowest flag is exact.
#[inline(always)]
fn hits(word: u64, [pa, pb, pc]: [u64; 3]) -> u64 {
    zero_byte(word ^ pa) | zero_byte(word ^ pb) | zero_byte(word ^ pc)
}

/// The eight bytes of `bytes` at `at` (zeros past the end).
#[inline(always)]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..)
        .and_then(|b| b.first_chunk::<8>())
        .map_or(0, |b| u64::from_le_bytes(*b))
}

/// Where the `=` of a property line is: the first one before any comment (a `#` or `;` after
/// whitespace). Searched a word at a time; the byte loop runs only for the rare line with a
/// `#` or `;` before its first `=`.
fn property_eq(line: &[u8]) -> Option<usize> {
    let first = first_of(line, [b'=', b'#', b';'])?;
    if line.get(first) == Some(&b'=') {
        return Some(first);
    }
    property_eq_bytewise(line)
}

/// [`property_eq`] a byte at a time: the rule as written.
fn property_eq_bytewise(line: &[u8]) -> Option<usize> {
    let mut prev_ws = false;
    for (i, &b) in line.iter().enumerate() {
        if b == b'=' {
            return Some(i);
        }
        if (b == b'#' || b == b';') && prev_ws {
            return None;
        }
        prev_ws = is_ws(b);
    }
    None
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

    /// The first of a set of bytes, at every offset and length (the short, the word-aligned and
    /// the overlapping-tail cases), against a plain search.
    #[test]
    fn first_of_agrees_with_a_plain_search() {
        let text: Vec<u8> = (0..40u8)
            .map(|i| match i {
                _ if i % 11 == 3 => b'#',
                _ if i % 17 == 9 => b';',
                _ => b'a' + i % 26,
            })
            .collect();
        for start in 0..text.len() {
            for end in start..=text.len() {
                let part = &text[start..end];
                for set in [[b'#', b';', b';'], [b'e', b'#', b';'], [b'z'; 3], [b'#'; 3]] {
                    let want = part.iter().position(|b| set.contains(b));
                    assert_eq!(first_of(part, set), want, "{start}..{end} {set:?}");
                }
            }
        }
        assert_eq!(find_newline(b"0123456789\nx"), Some(10));
    }

    /// The word-at-a-time search finds the `=` the byte loop finds, on every kind of line.
    #[test]
    fn property_eq_agrees_with_the_byte_loop() {
        let parts: [&[u8]; 9] = [
            b"k",
            b"=",
            b" ",
            b"\t",
            b"#",
            b";",
            b"v",
            b"key_with_a_long_name",
            b"x#y",
        ];
        // Every line of up to four parts.
        let mut lines: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..4 {
            let mut longer = Vec::new();
            for line in &lines {
                for part in parts {
                    let mut l = line.clone();
                    l.extend_from_slice(part);
                    longer.push(l);
                }
            }
            lines.extend(longer);
        }
        for line in &lines {
            assert_eq!(
                property_eq(line),
                property_eq_bytewise(line),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    /// The block-wise newline positions are every `\n`, in order, at every alignment and
    /// across block ends (and the portable mask agrees with the byte loop).
    #[test]
    fn newlines_in_blocks() {
        let text: Vec<u8> = (0..1000u32)
            .map(|i| {
                if i % 7 == 0 || i % 64 == 63 || i % 13 == 5 {
                    b'\n'
                } else {
                    b'a' + (i % 26) as u8
                }
            })
            .collect();
        for start in 0..70 {
            let bytes = &text[start..];
            let want: Vec<usize> = bytes
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i)
                .collect();
            assert_eq!(Newlines::new(bytes).collect::<Vec<_>>(), want, "{start}");
        }
        assert_eq!(Newlines::new(b"").next(), None);
        assert_eq!(Newlines::new(&[b'x'; 200]).next(), None);
        let block: [u8; 64] = std::array::from_fn(|i| if i % 5 == 0 { b'\n' } else { 0x8a });
        let want = (0..64).filter(|i| i % 5 == 0).fold(0u64, |m, i| m | 1 << i);
        assert_eq!(newline_mask(&block), want);
        assert_eq!(newline_mask_words(&block), want);
        for i in 0..64 {
            let mut one = [b'a'; 64];
            one[i] = b'\n';
            assert_eq!(newline_mask_words(&one), 1 << i);
            assert_eq!(newline_mask(&one), 1 << i);
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
