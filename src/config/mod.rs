//! The AWS shared config and credentials files.
//!
//! [`parse`] reads the literal structure of one file, and [`normalize`] gives the sections
//! their meaning and merges the two files into a [`ProfileSet`]. Where the files are is
//! decided in `crate::settings`. Every property remembers its file and line so that errors
//! can point at them.

pub mod normalize;
pub mod parse;

use crate::error::{Error, Result};
use normalize::FileKind;
use std::collections::BTreeMap;
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
}

/// Every profile, sso-session and services section of the config and credentials files.
#[derive(Debug, Clone, Default)]
pub struct ProfileSet {
    pub profiles: BTreeMap<String, Section>,
    pub sso_sessions: BTreeMap<String, Section>,
    pub services: BTreeMap<String, Section>,
    /// Ignored sections and properties, for `-v` and `doctor`.
    pub warnings: Vec<String>,
    /// The files read, in order, and whether each existed.
    pub files: Vec<(String, bool)>,
}

impl ProfileSet {
    fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    pub fn profile(&self, name: &str) -> Option<&Section> {
        self.profiles.get(name)
    }

    /// Parses and merges the texts of a config and a credentials file. `config_name` and
    /// `credentials_name` are used in messages.
    pub fn from_texts(
        config_name: &str,
        config: &str,
        credentials_name: &str,
        credentials: &str,
    ) -> Result<Self> {
        let mut set = ProfileSet::default();
        set.add(FileKind::Config, config_name, config)?;
        set.add(FileKind::Credentials, credentials_name, credentials)?;
        Ok(set)
    }

    fn add(&mut self, kind: FileKind, name: &str, text: &str) -> Result<()> {
        let sections = parse::parse(text).map_err(|e| {
            Error::config(format!(
                "{name}:{}: {}; fix the file or point {} elsewhere",
                e.line,
                e.message,
                env_name(kind)
            ))
        })?;
        normalize::merge(self, kind, &Arc::from(name), &sections);
        Ok(())
    }

    /// Reads the config and credentials files (missing files count as empty).
    pub fn load(config: &str, credentials: &str) -> Result<Self> {
        let mut set = ProfileSet::default();
        for (kind, path) in [
            (FileKind::Config, config),
            (FileKind::Credentials, credentials),
        ] {
            let text = match std::fs::read(path) {
                Ok(bytes) => {
                    set.files.push((path.to_string(), true));
                    String::from_utf8(bytes).map_err(|_| Error::config(format!("{path}: the file is not valid UTF-8; save it as UTF-8")))?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    set.files.push((path.to_string(), false));
                    continue;
                }
                Err(e) => return Err(Error::config(format!("{path}: cannot read the file: {e}; check its permissions or point {} elsewhere", env_name(kind)))),
            };
            set.add(kind, path, &text)?;
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
            err.message
                .starts_with("/h/.aws/config:3: Expected an '=' sign"),
            "{}",
            err.message
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
