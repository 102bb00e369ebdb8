//! The AWS shared config and credentials files.
//!
//! [`parse`] reads the literal structure of one file, and [`normalize`] gives the sections
//! their meaning and merges the two files into a [`ProfileSet`]. Where the files are is
//! decided in `crate::settings`. Every property remembers its file and line so that errors
//! can point at them.

pub mod edit;
pub mod normalize;
pub mod parse;

use crate::error::{Error, Result};
use normalize::FileKind;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One property value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub value: String,
    pub file: Arc<str>,
    pub line: usize,
}

impl Property {
    /// `FILE:LINE`, for error messages.
    pub fn origin(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// A profile, an sso-session or a services section, merged from every place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// Where the section was first defined.
    pub file: Arc<str>,
    pub line: usize,
    /// Lower-cased key → value.
    pub properties: BTreeMap<String, Property>,
}

impl Section {
    /// The value of `key` (lower-case), if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(|p| p.value.as_str())
    }

    pub fn property(&self, key: &str) -> Option<&Property> {
        self.properties.get(key)
    }

    /// Where `key` was set, or where the section starts: `FILE:LINE`.
    pub fn origin(&self, key: &str) -> String {
        match self.properties.get(key) {
            Some(p) => p.origin(),
            None => format!("{}:{}", self.file, self.line),
        }
    }

    /// A configuration error about `key` of this profile, naming the profile and where the key
    /// (or the profile) is written.
    pub fn error(&self, key: &str, message: &str) -> Error {
        Error::config(message)
            .in_profile(&self.name)
            .in_step(self.origin(key))
    }
}

/// Every profile, sso-session and services section of the config and credentials files
/// (or, from [`ProfileSet::load_for`], those one profile's chain needs).
#[derive(Debug, Clone, Default)]
pub struct ProfileSet {
    pub profiles: BTreeMap<String, Section>,
    pub sso_sessions: BTreeMap<String, Section>,
    pub services: BTreeMap<String, Section>,
    /// The names of profiles that exist but were not read ([`ProfileSet::load_for`]).
    pub unread: BTreeSet<String>,
    /// Ignored sections and properties, for `-v` and `doctor`.
    pub warnings: Vec<String>,
    /// The files read, in order, and whether each existed.
    pub files: Vec<(String, bool)>,
}

/// The files looked for, and whether each existed.
type Found = Vec<(String, bool)>;

/// A file's text with its section headers (checked, not yet read).
struct Scanned {
    kind: FileKind,
    name: Arc<str>,
    text: String,
}

impl ProfileSet {
    fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    pub fn profile(&self, name: &str) -> Option<&Section> {
        self.profiles.get(name)
    }

    /// Whether any profile exists, read or not.
    pub fn has_profiles(&self) -> bool {
        !self.profiles.is_empty() || !self.unread.is_empty()
    }

    /// Every profile name, read or not, sorted.
    pub fn profile_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .profiles
            .keys()
            .chain(self.unread.iter())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Parses and merges the texts of a config and a credentials file. `config_name` and
    /// `credentials_name` are used in messages.
    pub fn from_texts(
        config_name: &str,
        config: &str,
        credentials_name: &str,
        credentials: &str,
    ) -> Result<Self> {
        let files = [
            Scanned {
                kind: FileKind::Config,
                name: Arc::from(config_name),
                text: config.to_string(),
            },
            Scanned {
                kind: FileKind::Credentials,
                name: Arc::from(credentials_name),
                text: credentials.to_string(),
            },
        ];
        Self::merge_all(&files, Vec::new())
    }

    /// Reads the config and credentials files (missing files count as empty), every section.
    pub fn load(config: &str, credentials: &str) -> Result<Self> {
        let (files, found) = Self::read(config, credentials)?;
        Self::merge_all(&files, found)
    }

    /// Reads the two files, checks every line of both, and keeps only the sections `profile`'s
    /// chain can use: the profile, the profiles its `source_profile`s name, their
    /// `sso_session`s and `services` sections. A cache hit with thousands of profiles costs a
    /// scan of the text, not a model of every profile. When a profile it looks for does not
    /// exist, `unread` holds every other name (for the message).
    pub fn load_for(
        config: &str,
        credentials: &str,
        profile: &str,
        all_warnings: bool,
    ) -> Result<Self> {
        let (files, found) = Self::read(config, credentials)?;
        let headers = Self::scan_all(&files)?;
        // Sections of different names merge independently, so each round merges only the
        // names the previous round found referenced.
        let mut set = ProfileSet {
            files: found,
            ..ProfileSet::default()
        };
        let mut wanted = normalize::Wanted::default();
        let mut new = normalize::Wanted::default();
        new.profiles.insert(profile);
        while !new.is_empty() {
            for (file, headers) in files.iter().zip(&headers) {
                let default = new.profiles.contains("default")
                    && normalize::has_profile_default(file.kind, headers);
                let sections: Vec<normalize::Classified> = headers
                    .iter()
                    .filter(|h| new.may_name(h.name))
                    .map(|h| normalize::classify_one(file.kind, &file.name, h, default))
                    .collect();
                normalize::merge(&mut set, &file.name, &file.text, &sections, Some(&new));
            }
            wanted.extend(&new);
            let mut next = normalize::Wanted::default();
            for section in set.profiles.values() {
                for (key, names, seen) in [
                    ("source_profile", &mut next.profiles, &wanted.profiles),
                    ("sso_session", &mut next.sso_sessions, &wanted.sso_sessions),
                    ("services", &mut next.services, &wanted.services),
                ] {
                    if let Some(name) = section.get(key).filter(|n| !seen.contains(n)) {
                        names.insert(name);
                    }
                }
            }
            new = next;
        }
        // What only a full reading finds: the warnings about every section (for -v), and
        // every profile name when one that is looked for does not exist.
        if all_warnings {
            let mut full = ProfileSet::default();
            for (file, headers) in files.iter().zip(&headers) {
                let sections = normalize::classify(file.kind, &file.name, headers);
                normalize::merge(&mut full, &file.name, &file.text, &sections, None);
            }
            set.warnings = full.warnings;
        }
        if wanted
            .profiles
            .iter()
            .any(|p| !set.profiles.contains_key(p))
        {
            for (file, headers) in files.iter().zip(&headers) {
                for section in normalize::classify(file.kind, &file.name, headers) {
                    if let Ok(normalize::Target::Profile(name)) = section.target {
                        if !set.profiles.contains_key(name) {
                            set.unread.insert(name.to_string());
                        }
                    }
                }
            }
        }
        Ok(set)
    }

    /// The files that exist, read, and every path with whether it existed.
    fn read(config: &str, credentials: &str) -> Result<(Vec<Scanned>, Found)> {
        let mut files = Vec::new();
        let mut found = Vec::new();
        for (kind, path) in [
            (FileKind::Config, config),
            (FileKind::Credentials, credentials),
        ] {
            let text = match crate::fsutil::read_user_file(
                std::path::Path::new(path),
                crate::fsutil::STREAM_WAIT,
            ) {
                Ok(bytes) => {
                    found.push((path.to_string(), true));
                    String::from_utf8(bytes).map_err(|_| Error::config(format!("{path}: the file is not valid UTF-8; save it as UTF-8")))?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    found.push((path.to_string(), false));
                    continue;
                }
                Err(e) => return Err(Error::config(format!("{path}: cannot read the file: {e}; check its permissions or point {} elsewhere", env_name(kind)))),
            };
            files.push(Scanned {
                kind,
                name: Arc::from(path),
                text,
            });
        }
        Ok((files, found))
    }

    fn scan_all(files: &[Scanned]) -> Result<Vec<Vec<parse::Header<'_>>>> {
        files
            .iter()
            .map(|f| {
                parse::scan(&f.text).map_err(|e| {
                    Error::config(format!(
                        "{}:{}: {}; fix the file or point {} elsewhere",
                        f.name,
                        e.line,
                        e.message,
                        env_name(f.kind)
                    ))
                })
            })
            .collect()
    }

    /// Every section of both files.
    fn merge_all(files: &[Scanned], found: Vec<(String, bool)>) -> Result<Self> {
        let headers = Self::scan_all(files)?;
        let mut set = ProfileSet {
            files: found,
            ..ProfileSet::default()
        };
        for (file, headers) in files.iter().zip(&headers) {
            let sections = normalize::classify(file.kind, &file.name, headers);
            normalize::merge(&mut set, &file.name, &file.text, &sections, None);
        }
        Ok(set)
    }

    /// The files read, for messages: `~/.aws/config, ~/.aws/credentials (missing)`.
    pub fn files_description(&self) -> String {
        self.files
            .iter()
            .map(|(p, exists)| {
                if *exists {
                    p.clone()
                } else {
                    format!("{p} (missing)")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn env_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Config => "AWS_CONFIG_FILE",
        FileKind::Credentials => "AWS_SHARED_CREDENTIALS_FILE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_files_and_keeps_origins() {
        let set = ProfileSet::from_texts(
            "cfg",
            "[profile a]\nregion = eu-west-1\nx = 1\n",
            "creds",
            "[a]\nx = 2\n",
        )
        .unwrap();
        let a = set.profile("a").unwrap();
        assert_eq!(a.get("region"), Some("eu-west-1"));
        assert_eq!(a.get("x"), Some("2"));
        assert_eq!(a.origin("x"), "creds:2");
        assert_eq!(a.origin("region"), "cfg:2");
    }

    #[test]
    fn parse_error_names_file_and_line() {
        let err =
            ProfileSet::from_texts("/h/.aws/config", "[profile a]\nregion = x\noops\n", "c", "")
                .unwrap_err();
        assert_eq!(err.kind, crate::error::Kind::Config);
        assert!(
            err.line()
                .starts_with("/h/.aws/config:3: Expected an '=' sign"),
            "{}",
            err.line()
        );
    }

    #[test]
    fn ignored_sections_warn() {
        let set = ProfileSet::from_texts(
            "cfg",
            "[foo]\nx = 1\n[profile default]\n[default]\n",
            "creds",
            "[profile b]\n",
        )
        .unwrap();
        assert_eq!(set.profiles.keys().collect::<Vec<_>>(), vec!["default"]);
        assert_eq!(set.warnings.len(), 3, "{:?}", set.warnings);
    }
}
