//! Stage two: what the sections of the two files mean, merged into one [`ProfileSet`].
//!
//! - config file: `[default]`, `[profile NAME]`, `[sso-session NAME]`, `[services NAME]`; any
//!   other section is ignored. `[profile default]` wins over `[default]`, which is then ignored.
//! - credentials file: `[NAME]` only; `[profile NAME]` there is ignored.
//! - names must match `[A-Za-z0-9_\-/.%@:+]+` and property keys likewise (case-folded); others
//!   are ignored with a warning. Duplicate sections merge, the last key wins, and the
//!   credentials file wins per key over the config file.

use super::parse::RawSection;
use super::{ProfileSet, Property, Section};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which of the two files a text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Config,
    Credentials,
}

fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// `Some(rest)` when `name` is `prefix`, whitespace, then `rest`.
fn strip_section_prefix<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(prefix)?;
    rest.starts_with([' ', '\t'])
        .then(|| rest.trim_matches([' ', '\t']))
}

enum Target<'a> {
    Profile(&'a str),
    SsoSession(&'a str),
    Services(&'a str),
}

/// Merges parsed files into `set`, in the order given (config first, then credentials).
pub fn merge(set: &mut ProfileSet, kind: FileKind, file: &Arc<str>, sections: &[RawSection]) {
    let has_profile_default = kind == FileKind::Config
        && sections
            .iter()
            .any(|s| strip_section_prefix(&s.name, "profile") == Some("default"));
    for section in sections {
        let target = match kind {
            FileKind::Config => {
                if section.name == "default" {
                    if has_profile_default {
                        set.warn(format!("{file}:{}: `[default]` is ignored because `[profile default]` is also defined", section.line));
                        continue;
                    }
                    Target::Profile("default")
                } else if let Some(name) = strip_section_prefix(&section.name, "profile") {
                    Target::Profile(name)
                } else if let Some(name) = strip_section_prefix(&section.name, "sso-session") {
                    Target::SsoSession(name)
                } else if let Some(name) = strip_section_prefix(&section.name, "services") {
                    Target::Services(name)
                } else {
                    set.warn(format!("{file}:{}: section `[{}]` is ignored: config file profiles are written `[profile NAME]`", section.line, section.name));
                    continue;
                }
            }
            FileKind::Credentials => {
                if strip_section_prefix(&section.name, "profile").is_some() {
                    set.warn(format!("{file}:{}: section `[{}]` is ignored: credentials file profiles are written `[NAME]`", section.line, section.name));
                    continue;
                }
                Target::Profile(&section.name)
            }
        };
        let (name, map) = match target {
            Target::Profile(n) => (n, &mut set.profiles),
            Target::SsoSession(n) => (n, &mut set.sso_sessions),
            Target::Services(n) => (n, &mut set.services),
        };
        if !valid_identifier(name) {
            set.warnings.push(format!(
                "{file}:{}: section `[{}]` is ignored: `{name}` is not a valid name",
                section.line, section.name
            ));
            continue;
        }
        let entry = map.entry(name.to_string()).or_insert_with(|| Section {
            name: name.to_string(),
            file: file.clone(),
            line: section.line,
            properties: BTreeMap::new(),
        });
        for prop in &section.properties {
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
                    value: prop.value.clone(),
                    file: file.clone(),
                    line: prop.line,
                },
            );
        }
    }
}
