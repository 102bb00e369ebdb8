//! Byte-exact helpers for the AWS CLI's files and outputs, in one place: the time format,
//! Python-style JSON literals (`json.dumps` with `ensure_ascii`), and lower-case hex.
//!
//! The token cache, the registration cache, the `process` output format and creds' own cache
//! entries all write through these, so a change here is a change of every format at once.

use chrono::{DateTime, SecondsFormat, Utc};

/// A time as `creds` and the AWS CLI write it: UTC, whole seconds, `Z`
/// (`2026-01-01T12:00:00Z`).
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Any RFC 3339 time (`Z`, an offset, fractions), in UTC.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `t` plus `d`, saturating at the end of time instead of overflowing.
pub fn later(t: DateTime<Utc>, d: chrono::Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// How long from `now` until `t` (negative when `t` has passed).
pub fn until(t: DateTime<Utc>, now: DateTime<Utc>) -> chrono::Duration {
    t.signed_duration_since(now)
}

/// Lower-case hex of `bytes` (on the cache-hit path for every key: a table, not `format!`).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        for nibble in [b >> 4, b & 15] {
            s.push(char::from(
                *DIGITS.get(usize::from(nibble)).unwrap_or(&b'0'),
            ));
        }
    }
    s
}

/// A JSON string literal as Python's `json.dumps` writes it (`ensure_ascii=True`).
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len().saturating_add(2));
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON list of strings as `json.dumps` writes it: `["a", "b"]`.
pub fn json_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| json_str(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A one-line JSON object as `json.dumps` writes it, from already-encoded values, in order:
/// `{"k": v, "k2": v2}`.
pub fn json_object(fields: &[(&str, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}: {v}", json_str(k)))
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// `s` with every byte but the unreserved ones (RFC 3986) as `%XX`.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Decodes `%XX` escapes and `+`; a malformed escape stays as it is.
pub fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let mut rest = bytes.clone();
                match (rest.next().and_then(hex), rest.next().and_then(hex)) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi.wrapping_mul(16) | lo);
                        bytes = rest;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping_matches_python() {
        assert_eq!(
            json_str("a\"b\\c\n\u{1}é😀"),
            "\"a\\\"b\\\\c\\n\\u0001\\u00e9\\ud83d\\ude00\""
        );
        assert_eq!(
            json_object(&[
                ("a", json_str("x")),
                ("b", json_list(&["y".into(), "z".into()]))
            ]),
            r#"{"a": "x", "b": ["y", "z"]}"#
        );
    }

    #[test]
    fn times_and_hex() {
        let t = parse_time("2026-01-01T13:00:00.750+01:00").unwrap();
        assert_eq!(format_time(t), "2026-01-01T12:00:00Z");
        assert_eq!(hex(&[0, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert!(parse_time("soon").is_none());
    }
}
