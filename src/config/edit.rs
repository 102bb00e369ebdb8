//! Line edits of the AWS config and credentials files that keep every other byte as it was:
//! set keys in one profile's section (replacing a line, inserting after the section's last
//! line, or appending a new section), and remove keys from it. Used by `creds keys`.
//!
//! A section is matched as the SDKs read its header: `[profile NAME]` (or `[default]`) in the
//! config file, `[NAME]` in the credentials file, with any spaces inside the brackets; every
//! section of that name counts (the SDKs merge them). A key's line is `KEY = ...` at the start
//! of a line; the indented lines after it (sub-properties) go with it.

/// Whether `name` can be written as a profile name (letters, digits and `_-/.%@:+`).
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// Which file a text is: the headers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum File {
    Config,
    Credentials,
}

/// The section name of a header line, if `line` is one.
fn header(line: &str) -> Option<Vec<&str>> {
    let inner = line.trim().strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(inner[..end].split_whitespace().collect())
}

fn is_section(tokens: &[&str], file: File, profile: &str) -> bool {
    match file {
        File::Config => {
            tokens == ["profile", profile] || (profile == "default" && tokens == ["default"])
        }
        File::Credentials => tokens == [profile],
    }
}

/// The key a line sets, if it is a key line (not indented, not a comment).
fn line_key(line: &str) -> Option<&str> {
    if line.starts_with([' ', '\t']) {
        return None;
    }
    let trimmed = line.trim();
    if trimmed.starts_with(['#', ';', '[']) {
        return None;
    }
    let (key, _) = trimmed.split_once('=')?;
    Some(key.trim())
}

/// The line ending of `text`: CRLF when any line has one, else LF.
pub fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// `(line, in the profile's section)` for every line of `text`, endings kept.
fn lines<'a>(text: &'a str, file: File, profile: &str) -> Vec<(&'a str, bool)> {
    let mut inside = false;
    text.split_inclusive('\n')
        .map(|line| {
            if let Some(tokens) = header(line) {
                inside = is_section(&tokens, file, profile);
                return (line, false);
            }
            (line, inside)
        })
        .collect()
}

/// `text` with `pairs` set in `profile`'s section: an existing line of a key is replaced in
/// place, a new key goes after the section's last key line, and a missing section is appended.
pub fn set(text: &str, file: File, profile: &str, pairs: &[(&str, &str)]) -> String {
    let nl = newline(text);
    let mut out: Vec<String> = Vec::new();
    let mut done = vec![false; pairs.len()];
    let mut last_in_section: Option<usize> = None;
    let mut seen_section = false;
    let mut skipping = false;
    for (line, inside) in lines(text, file, profile) {
        if header(line).is_some_and(|t| is_section(&t, file, profile)) {
            seen_section = true;
            out.push(line.to_string());
            last_in_section = Some(out.len().saturating_sub(1));
            skipping = false;
            continue;
        }
        if !inside {
            skipping = false;
            out.push(line.to_string());
            continue;
        }
        if skipping && line.starts_with([' ', '\t']) && !line.trim().is_empty() {
            continue; // the sub-properties of a replaced key
        }
        skipping = false;
        if let Some(key) = line_key(line) {
            let found = pairs
                .iter()
                .zip(done.iter_mut())
                .find(|((k, _), _)| *k == key);
            if let Some(((k, v), was_done)) = found {
                skipping = true;
                if *was_done {
                    continue; // a repeated line of the key: the first one holds the value
                }
                *was_done = true;
                let ending = if line.ends_with('\n') { nl } else { "" };
                out.push(format!("{k} = {v}{ending}"));
                last_in_section = Some(out.len().saturating_sub(1));
                continue;
            }
        }
        out.push(line.to_string());
        if !line.trim().is_empty() {
            last_in_section = Some(out.len().saturating_sub(1));
        }
    }
    let missing: Vec<String> = pairs
        .iter()
        .zip(&done)
        .filter(|(_, done)| !**done)
        .map(|((k, v), _)| format!("{k} = {v}{nl}"))
        .collect();
    if missing.is_empty() {
        return out.concat();
    }
    match (seen_section, last_in_section) {
        (true, Some(at)) => {
            if let Some(line) = out.get_mut(at) {
                if !line.ends_with('\n') {
                    line.push_str(nl);
                }
            }
            let tail = out.split_off(at.saturating_add(1));
            out.extend(missing);
            out.extend(tail);
            out.concat()
        }
        _ => {
            let mut text = out.concat();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push_str(nl);
            }
            if !text.is_empty() && !text.ends_with(&format!("{nl}{nl}")) {
                text.push_str(nl);
            }
            let name = match (file, profile) {
                (File::Config, "default") => "default".to_string(),
                (File::Config, p) => format!("profile {p}"),
                (File::Credentials, p) => p.to_string(),
            };
            text.push_str(&format!("[{name}]{nl}"));
            text.push_str(&missing.concat());
            text
        }
    }
}

/// `text` with `sections` (written with LF line ends) appended after one blank line, in the
/// line ending `text` uses; every old byte is kept.
pub fn append(text: &str, sections: &str) -> String {
    let nl = newline(text);
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(nl);
    }
    if !out.is_empty() {
        out.push_str(nl);
    }
    match nl {
        "\n" => out.push_str(sections),
        _ => out.push_str(&sections.replace('\n', nl)),
    }
    out
}

/// `text` without the lines of `keys` in `profile`'s section (and their sub-properties), and
/// how many key lines went.
pub fn remove(text: &str, file: File, profile: &str, keys: &[&str]) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut removed = 0usize;
    let mut skipping = false;
    for (line, inside) in lines(text, file, profile) {
        if inside && skipping && line.starts_with([' ', '\t']) && !line.trim().is_empty() {
            continue;
        }
        skipping = false;
        if inside && line_key(line).is_some_and(|k| keys.contains(&k)) {
            removed = removed.saturating_add(1);
            skipping = true;
            continue;
        }
        out.push_str(line);
    }
    (out, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_inserts_and_appends_keeping_the_rest() {
        let text = "# top\n[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1\noutput = json\n\n[profile other]\nx = 1\n";
        assert_eq!(
            set(text, File::Config, "dev", &[("creds_keyring", "AKIA1")]),
            "# top\n[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1\noutput = json\ncreds_keyring = AKIA1\n\n[profile other]\nx = 1\n"
        );
        assert_eq!(
            set(text, File::Config, "dev", &[("region", "ap-south-1")]),
            text.replace("eu-west-1", "ap-south-1")
        );
        assert_eq!(
            set(text, File::Config, "default", &[("a", "b")]),
            text.replace("region = us-east-1\n", "region = us-east-1\na = b\n")
        );
        assert_eq!(
            set(text, File::Config, "new", &[("a", "b")]),
            format!("{text}\n[profile new]\na = b\n")
        );
        assert_eq!(
            set("", File::Config, "p", &[("a", "b")]),
            "[profile p]\na = b\n"
        );
        assert_eq!(
            set("[x]\ny = 1", File::Credentials, "p", &[("a", "b")]),
            "[x]\ny = 1\n\n[p]\na = b\n"
        );
        // CRLF files stay CRLF; a header with spaces matches.
        assert_eq!(
            set(
                "[ profile  dev ]\r\nregion = x\r\n",
                File::Config,
                "dev",
                &[("k", "v")]
            ),
            "[ profile  dev ]\r\nregion = x\r\nk = v\r\n"
        );
    }

    #[test]
    fn append_keeps_the_old_bytes_and_their_line_ends() {
        assert_eq!(append("", "[profile p]\na = b\n"), "[profile p]\na = b\n");
        assert_eq!(
            append("[x]\ny = 1", "[profile p]\na = b\n"),
            "[x]\ny = 1\n\n[profile p]\na = b\n"
        );
        assert_eq!(
            append("[x]\r\ny = 1\r\n", "[profile p]\na = b\n"),
            "[x]\r\ny = 1\r\n\r\n[profile p]\r\na = b\r\n"
        );
    }

    #[test]
    fn remove_takes_only_the_keys_of_that_section() {
        let text = "[dev]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n  sub = 1\nregion = x\n\n[prod]\naws_access_key_id = AKIA2\naws_secret_access_key = t\n";
        let (out, n) = remove(
            text,
            File::Credentials,
            "dev",
            &["aws_access_key_id", "aws_secret_access_key"],
        );
        assert_eq!(n, 2);
        assert_eq!(
            out,
            "[dev]\nregion = x\n\n[prod]\naws_access_key_id = AKIA2\naws_secret_access_key = t\n"
        );
        assert_eq!(remove(text, File::Credentials, "none", &["region"]).1, 0);
    }
}
