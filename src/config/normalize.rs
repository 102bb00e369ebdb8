//! Stage two: what the sections of the two files mean, merged into one [`ProfileSet`].
//!
//! - config file: `[default]`, `[profile NAME]`, `[sso-session NAME]`, `[services NAME]`; any
//!   other section is ignored. `[profile default]` wins over `[default]`, which is then ignored.
//! - credentials file: `[NAME]` only; `[profile NAME]` there is ignored.
//! - names must match `[A-Za-z0-9_\-/.%@:+]+` and property keys likewise (case-folded); others
//!   are ignored with a warning. Duplicate sections merge, the last key wins, and the
//!   credentials file wins per key over the config file.

use super::parse::{self, Header};
use super::{ProfileSet, Property, Section};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The sections to read in full (by their normalized names); the others are only checked.
/// A chain names a handful, and every header of a large file is tested against them, so they
/// are short lists compared by length first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    pub profiles: Names,
    pub sso_sessions: Names,
    pub services: Names,
}

/// A short set of names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names(Vec<String>);

impl Names {
    pub fn contains(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|n| n.len() == name.len() && n.as_str() == name)
    }

    pub fn insert(&mut self, name: &str) {
        if !self.contains(name) {
            self.0.push(name.to_string());
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// Which of the two files a text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Config,
    Credentials,
}

fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'-' | b'/' | b'.' | b'%' | b'@' | b':' | b'+')
        })
}

/// `Some(rest)` when `name` is `prefix`, whitespace, then `rest`.
fn strip_section_prefix<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(prefix)?;
    rest.starts_with([' ', '\t'])
        .then(|| rest.trim_matches([' ', '\t']))
}

/// What a section header is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Profile(&'a str),
    SsoSession(&'a str),
    Services(&'a str),
}

/// A header with what it is for, or the warning that says why it is ignored.
pub struct Classified<'t, 'h> {
    pub header: &'h Header<'t>,
    pub target: Result<Target<'t>, String>,
}

/// Whether a file has `[profile default]` (then its `[default]` is ignored).
pub fn has_profile_default(kind: FileKind, headers: &[Header]) -> bool {
    kind == FileKind::Config
        && headers
            .iter()
            .any(|s| strip_section_prefix(s.name, "profile") == Some("default"))
}

/// What each section of one file is for (the rules at the top of this module).
pub fn classify<'t, 'h>(
    kind: FileKind,
    file: &Arc<str>,
    headers: &'h [Header<'t>],
) -> Vec<Classified<'t, 'h>> {
    let has_profile_default = has_profile_default(kind, headers);
    headers
        .iter()
        .map(|section| classify_one(kind, file, section, has_profile_default))
        .collect()
}

/// What one section is for.
pub fn classify_one<'t, 'h>(
    kind: FileKind,
    file: &Arc<str>,
    section: &'h Header<'t>,
    has_profile_default: bool,
) -> Classified<'t, 'h> {
    let name = section.name;
    let target = match kind {
        FileKind::Config => {
            if name == "default" {
                if has_profile_default {
                    Err(format!("{file}:{}: `[default]` is ignored because `[profile default]` is also defined", section.line))
                } else {
                    Ok(Target::Profile("default"))
                }
            } else if let Some(n) = strip_section_prefix(name, "profile") {
                Ok(Target::Profile(n))
            } else if let Some(n) = strip_section_prefix(name, "sso-session") {
                Ok(Target::SsoSession(n))
            } else if let Some(n) = strip_section_prefix(name, "services") {
                Ok(Target::Services(n))
            } else {
                Err(format!("{file}:{}: section `[{name}]` is ignored: config file profiles are written `[profile NAME]`", section.line))
            }
        }
        FileKind::Credentials => {
            if strip_section_prefix(name, "profile").is_some() {
                Err(format!("{file}:{}: section `[{name}]` is ignored: credentials file profiles are written `[NAME]`", section.line))
            } else {
                Ok(Target::Profile(name))
            }
        }
    };
    let target = target.and_then(|t| {
        let (Target::Profile(n) | Target::SsoSession(n) | Target::Services(n)) = t;
        if valid_identifier(n) {
            Ok(t)
        } else {
            Err(format!(
                "{file}:{}: section `[{name}]` is ignored: `{n}` is not a valid name",
                section.line
            ))
        }
    });
    Classified {
        header: section,
        target,
    }
}

impl Wanted {
    pub fn is_empty(&self) -> bool {
        self.profiles.0.is_empty() && self.sso_sessions.0.is_empty() && self.services.0.is_empty()
    }

    /// Adds every name of `other`.
    pub fn extend(&mut self, other: &Wanted) {
        for (mine, theirs) in [
            (&mut self.profiles, &other.profiles),
            (&mut self.sso_sessions, &other.sso_sessions),
            (&mut self.services, &other.services),
        ] {
            for name in theirs.iter() {
                mine.insert(name);
            }
        }
    }

    /// Whether a header named `header` may be one of the wanted sections: every section name
    /// ends with the name it defines, so this cheap test passes every wanted header and
    /// almost nothing else.
    pub fn may_name(&self, header: &str) -> bool {
        self.profiles
            .iter()
            .chain(self.sso_sessions.iter())
            .chain(self.services.iter())
            .any(|w| header.ends_with(w))
    }

    fn wants(&self, target: &Target) -> bool {
        match target {
            Target::Profile(n) => self.profiles.contains(n),
            Target::SsoSession(n) => self.sso_sessions.contains(n),
            Target::Services(n) => self.services.contains(n),
        }
    }
}

/// Merges the classified sections of one file into `set`, in the order given (config first,
/// then credentials): every section, or with `wanted` only those it names. Warnings about
/// ignored sections are added either way.
pub fn merge(
    set: &mut ProfileSet,
    file: &Arc<str>,
    text: &str,
    sections: &[Classified],
    wanted: Option<&Wanted>,
) {
    for section in sections {
        let target = match &section.target {
            Ok(target) => *target,
            Err(warning) => {
                set.warn(warning.clone());
                continue;
            }
        };
        if wanted.is_some_and(|w| !w.wants(&target)) {
            continue;
        }
        let (name, map) = match target {
            Target::Profile(n) => (n, &mut set.profiles),
            Target::SsoSession(n) => (n, &mut set.sso_sessions),
            Target::Services(n) => (n, &mut set.services),
        };
        let header = section.header;
        let entry = map.entry(name.to_string()).or_insert_with(|| Section {
            name: name.to_string(),
            file: file.clone(),
            line: header.line,
            properties: BTreeMap::new(),
        });
        for prop in parse::properties(text, header) {
            let key = prop.key.to_ascii_lowercase();
            if !valid_identifier(&key) {
                set.warnings.push(format!(
                    "{file}:{}: property `{}` is ignored: not a valid name",
                    prop.line, prop.key
                ));
                continue;
            }
            entry.properties.insert(
                key,
                Property {
                    value: prop.value.into_owned(),
                    file: file.clone(),
                    line: prop.line,
                },
            );
        }
    }
}
