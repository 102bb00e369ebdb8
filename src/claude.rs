//! Claude Code's settings files, as `setup claude` writes them and `doctor` checks them: where
//! they are, reading them (with line and column for broken JSON), and pure builders for what
//! creds puts into them. Writing is `crate::fsutil::write_with_backup`.

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Which settings file.
#[derive(Debug, PartialEq, Clone, Copy, clap::ValueEnum)]
pub enum Scope {
    /// ~/.claude/settings.json
    User,
    /// .claude/settings.json in the current directory
    Project,
}

/// The settings file of `scope`: `~/.claude/settings.json`, or `.claude/settings.json` of
/// the working directory `cwd`.
pub fn settings_path(home: Option<&Path>, cwd: &Path, scope: Scope) -> Result<PathBuf> {
    Ok(match scope {
        Scope::User => home
            .ok_or_else(|| {
                Error::config("cannot find the home directory: set HOME or pass --settings")
            })?
            .join(".claude")
            .join("settings.json"),
        Scope::Project => cwd.join(".claude").join("settings.json"),
    })
}

/// Every settings file Claude Code reads for a session started in `cwd`, in order.
pub fn all_settings_paths(home: Option<&Path>, cwd: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(p) = settings_path(home, cwd, Scope::User) {
        files.push(p);
    }
    files.push(cwd.join(".claude").join("settings.json"));
    files.push(cwd.join(".claude").join("settings.local.json"));
    files
}

/// Reads a settings file: `{}` when missing or empty; an error naming line and column when
/// broken.
pub fn read_settings(path: &Path) -> Result<Map<String, Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => {
            return Err(Error::config(format!(
                "{}: cannot read the file: {e}",
                path.display()
            )))
        }
    };
    parse_settings(path, &text)
}

pub fn parse_settings(path: &Path, text: &str) -> Result<Map<String, Value>> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::config(format!(
            "{}: not a JSON object; fix the file or move it away, then run this again",
            path.display()
        ))),
        Err(e) => Err(Error::config(format!(
            "{}:{}:{}: not valid JSON ({e}); fix the file or move it away, then run this again",
            path.display(),
            e.line(),
            e.column()
        ))),
    }
}

/// The program path as a word for `sh -c` (single-quoted when it needs to be).
pub fn shell_word(path: &Path) -> String {
    let s = path.to_string_lossy();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%".contains(&b))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `<creds> export --profile P --format F`.
pub fn export_command(exe: &Path, profile: &str, format: &str) -> String {
    format!(
        "{} export --profile {profile} --format {format}",
        shell_word(exe)
    )
}

/// `<creds> login --profile P`.
pub fn login_command(exe: &Path, profile: &str) -> String {
    format!("{} login --profile {profile}", shell_word(exe))
}

/// What creds sets in Claude Code's settings for `profile`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hooks {
    pub export: String,
    /// `awsAuthRefresh`, for IAM Identity Center profiles only.
    pub refresh: Option<String>,
    pub region: String,
    pub profile: String,
}

impl Hooks {
    pub fn new(exe: &Path, profile: &str, region: &str, sso: bool) -> Hooks {
        Hooks {
            export: export_command(exe, profile, "claude"),
            refresh: sso.then(|| login_command(exe, profile)),
            region: region.to_string(),
            profile: profile.to_string(),
        }
    }

    fn env(&self) -> Map<String, Value> {
        let mut env = Map::new();
        env.insert("CLAUDE_CODE_USE_BEDROCK".into(), "1".into());
        env.insert("AWS_REGION".into(), self.region.clone().into());
        env.insert("AWS_PROFILE".into(), self.profile.clone().into());
        env
    }

    /// The settings creds would write, alone (`--print`).
    pub fn document(&self) -> Map<String, Value> {
        let mut doc = Map::new();
        doc.insert("awsCredentialExport".into(), self.export.clone().into());
        if let Some(refresh) = &self.refresh {
            doc.insert("awsAuthRefresh".into(), refresh.clone().into());
        }
        doc.insert("env".into(), Value::Object(self.env()));
        doc
    }

    /// `settings` with these hooks merged in: every other key kept in its place, the `env`
    /// block extended, and an `awsAuthRefresh` that runs creds removed for a profile that
    /// needs none. `path` is for the error about an `env` that is not an object.
    pub fn merge_into(
        &self,
        mut settings: Map<String, Value>,
        path: &Path,
    ) -> Result<Map<String, Value>> {
        settings.insert("awsCredentialExport".into(), self.export.clone().into());
        match &self.refresh {
            Some(refresh) => {
                settings.insert("awsAuthRefresh".into(), refresh.clone().into());
            }
            None => {
                let ours = settings
                    .get("awsAuthRefresh")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.contains(" login --profile ") && c.contains("creds"));
                if ours {
                    settings.remove("awsAuthRefresh");
                }
            }
        }
        match settings.get_mut("env") {
            Some(Value::Object(existing)) => existing.extend(self.env()),
            Some(_) => {
                return Err(Error::config(format!(
                    "{}: `env` is not an object; fix it, then run this again",
                    path.display()
                )))
            }
            None => {
                settings.insert("env".into(), Value::Object(self.env()));
            }
        }
        Ok(settings)
    }
}

/// A settings map as Claude Code's files are written: pretty JSON and a final newline.
pub fn render(settings: Map<String, Value>) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(&Value::Object(settings)).expect("JSON")
    )
}

/// What a settings file says about creds (for `doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    pub export: String,
    /// The profile `awsCredentialExport` exports (`""` when it names none).
    pub profile: String,
    pub format_claude: bool,
    pub refresh_logs_in: bool,
    pub env_region: Option<String>,
    pub uses_bedrock: bool,
}

/// How `settings` points Claude Code at creds, if it does.
pub fn pointer(settings: &Map<String, Value>) -> Option<Pointer> {
    let export = settings
        .get("awsCredentialExport")
        .and_then(Value::as_str)?;
    if !(export.contains(" export") && export.contains("creds")) {
        return None;
    }
    let env = settings.get("env").and_then(Value::as_object);
    let env_str = |k: &str| env.and_then(|e| e.get(k)).and_then(Value::as_str);
    Some(Pointer {
        export: export.to_string(),
        profile: export
            .split_whitespace()
            .skip_while(|w| *w != "--profile" && *w != "-p")
            .nth(1)
            .unwrap_or("")
            .to_string(),
        format_claude: export.contains("--format claude"),
        refresh_logs_in: settings
            .get("awsAuthRefresh")
            .and_then(Value::as_str)
            .is_some_and(|c| c.contains("login")),
        env_region: env_str("AWS_REGION").map(str::to_string),
        uses_bedrock: env_str("CLAUDE_CODE_USE_BEDROCK") == Some("1"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_order_and_other_keys() {
        let path = Path::new("s.json");
        let old = parse_settings(
            path,
            r#"{"theme": "dark", "env": {"FOO": "bar"}, "awsAuthRefresh": "/x/creds login --profile old"}"#,
        )
        .unwrap();
        let hooks = Hooks::new(Path::new("/bin/creds"), "keys", "eu-west-1", false);
        let merged = hooks.merge_into(old, path).unwrap();
        assert_eq!(
            merged.keys().collect::<Vec<_>>(),
            ["theme", "env", "awsCredentialExport"]
        );
        assert_eq!(merged["env"]["FOO"], "bar");
        assert_eq!(merged["env"]["AWS_REGION"], "eu-west-1");
        let p = pointer(&merged).unwrap();
        assert_eq!(p.profile, "keys");
        assert!(p.format_claude && p.uses_bedrock && !p.refresh_logs_in);
        let bad = parse_settings(path, r#"{"env": 1}"#).unwrap();
        assert!(hooks.merge_into(bad, path).is_err());
        assert!(parse_settings(path, "{\n oops")
            .unwrap_err()
            .message
            .contains("s.json:2:"));
    }

    #[test]
    fn program_paths_are_quoted_for_the_shell() {
        assert_eq!(shell_word(Path::new("/usr/bin/creds")), "/usr/bin/creds");
        assert_eq!(shell_word(Path::new("/my dir/it's")), "'/my dir/it'\\''s'");
    }
}
