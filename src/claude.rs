//! Claude Code's settings files, as `setup claude` writes them and `doctor` checks them: where
//! they are, reading them (with line and column for broken JSON), and pure builders for what
//! creds puts into them. Writing is `crate::rewrite::edit`.

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

/// Every settings file Claude Code reads for a session started in `cwd`, in order (the
/// managed file, which wins over the others, last).
pub fn all_settings_paths(home: Option<&Path>, cwd: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(p) = settings_path(home, cwd, Scope::User) {
        files.push(p);
    }
    files.push(cwd.join(".claude").join("settings.json"));
    files.push(cwd.join(".claude").join("settings.local.json"));
    files.extend(
        managed_settings_paths(crate::platform::Platform::current())
            .iter()
            .map(PathBuf::from),
    );
    // In the home folder the project's settings are the user's: one file, read once.
    let mut seen = Vec::new();
    files.retain(|p| {
        let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        let new = !seen.contains(&real);
        seen.push(real);
        new
    });
    files
}

/// Where Claude Code reads the settings an organization manages on `platform` (Claude Code's
/// documentation; on Windows the current place first, then the one older versions read).
pub fn managed_settings_paths(platform: crate::platform::Platform) -> &'static [&'static str] {
    use crate::platform::Platform;
    match platform {
        Platform::MacOs => &["/Library/Application Support/ClaudeCode/managed-settings.json"],
        Platform::Linux | Platform::OtherUnix => &["/etc/claude-code/managed-settings.json"],
        Platform::Windows => &[
            r"C:\Program Files\ClaudeCode\managed-settings.json",
            r"C:\ProgramData\ClaudeCode\managed-settings.json",
        ],
    }
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

/// The program path as the first word of a hook or `credential_process` command on this
/// platform ([`crate::platform::command_word`]: single-quoted for `sh` when it needs to be,
/// double-quoted on Windows when it has a space).
pub fn shell_word(path: &Path) -> String {
    use crate::platform::{command_word, Platform};
    command_word(Platform::current(), &path.to_string_lossy())
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

/// The model Claude Code uses in bearer mode when neither `--model` nor the settings pin one:
/// Claude Code's own default on Bedrock. Model discovery goes out unsigned in bearer mode, so
/// the models are always pinned.
pub const DEFAULT_BEARER_MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

/// How long Claude Code reuses an `apiKeyHelper`'s token before running it again: 5 minutes
/// (its default), which every token creds mints outlives (`crate::bedrock::MIN_LIFETIME`).
pub const BEARER_HELPER_TTL_MS: &str = "300000";

/// The models Claude Code is pinned to in bearer mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Models {
    /// `ANTHROPIC_MODEL`.
    pub main: String,
    /// `ANTHROPIC_SMALL_FAST_MODEL` (background tasks).
    pub small: String,
}

/// What creds sets in Claude Code's settings for `profile`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hooks {
    /// `awsCredentialExport`: SigV4 credentials (`None` in bearer mode).
    pub export: Option<String>,
    /// `apiKeyHelper`: a Bedrock token (bearer mode).
    pub helper: Option<String>,
    /// The models, pinned in bearer mode.
    pub models: Option<Models>,
    /// `awsAuthRefresh`, for IAM Identity Center profiles only.
    pub refresh: Option<String>,
    pub region: String,
    pub profile: String,
}

impl Hooks {
    pub fn new(exe: &Path, profile: &str, region: &str, sso: bool) -> Hooks {
        Hooks {
            export: Some(export_command(exe, profile, "claude")),
            helper: None,
            models: None,
            refresh: sso.then(|| login_command(exe, profile)),
            region: region.to_string(),
            profile: profile.to_string(),
        }
    }

    /// Bearer mode: Claude Code holds only a Bedrock token from `apiKeyHelper`, never AWS
    /// keys, and calls Bedrock with the pinned `models`.
    pub fn bearer(exe: &Path, profile: &str, region: &str, sso: bool, models: Models) -> Hooks {
        Hooks {
            export: None,
            helper: Some(export_command(exe, profile, "bedrock-token")),
            models: Some(models),
            ..Hooks::new(exe, profile, region, sso)
        }
    }

    /// The models to pin: the flags', else the ones `settings` pin already, else Claude
    /// Code's default (the small model the same as the main one, as Claude Code does).
    pub fn models(
        model: Option<&str>,
        small: Option<&str>,
        settings: &Map<String, Value>,
    ) -> Models {
        let pinned = |key: &str| {
            settings
                .get("env")
                .and_then(|e| e.get(key))
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let main = model
            .map(str::to_string)
            .or_else(|| pinned("ANTHROPIC_MODEL"))
            .unwrap_or_else(|| DEFAULT_BEARER_MODEL.to_string());
        let small = small
            .map(str::to_string)
            .or_else(|| pinned("ANTHROPIC_SMALL_FAST_MODEL"))
            .unwrap_or_else(|| main.clone());
        Models { main, small }
    }

    /// The `env` block: Bedrock and its region, and no `AWS_PROFILE`. With `awsCredentialExport`
    /// set, Claude Code signs every Bedrock request with what creds prints; an `AWS_PROFILE`
    /// only made Claude Code's own SDK resolve the profile again at every start (measured with
    /// 2.1.197 and 2.1.332 on an SSO profile: 3 and 2 GetRoleCredentials a start with it, 1
    /// without, creds' own; the same answer, no slower).
    fn env(&self) -> Map<String, Value> {
        let mut env = Map::new();
        env.insert("CLAUDE_CODE_USE_BEDROCK".into(), "1".into());
        env.insert("AWS_REGION".into(), self.region.clone().into());
        if let Some(models) = &self.models {
            env.insert("CLAUDE_CODE_SKIP_BEDROCK_AUTH".into(), "1".into());
            env.insert(
                "CLAUDE_CODE_API_KEY_HELPER_TTL_MS".into(),
                BEARER_HELPER_TTL_MS.into(),
            );
            env.insert("ANTHROPIC_MODEL".into(), models.main.clone().into());
            env.insert(
                "ANTHROPIC_SMALL_FAST_MODEL".into(),
                models.small.clone().into(),
            );
        }
        env
    }

    /// The settings creds would write, alone (`--print`).
    pub fn document(&self) -> Map<String, Value> {
        let mut doc = Map::new();
        if let Some(export) = &self.export {
            doc.insert("awsCredentialExport".into(), export.clone().into());
        }
        if let Some(helper) = &self.helper {
            doc.insert("apiKeyHelper".into(), helper.clone().into());
        }
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
        // One mode at a time: the other mode's hook goes when it is creds'.
        match (&self.export, &self.helper) {
            (Some(export), _) => {
                settings.insert("awsCredentialExport".into(), export.clone().into());
                if creds_command(&settings, "apiKeyHelper", " export").is_some() {
                    settings.remove("apiKeyHelper");
                }
            }
            (None, Some(helper)) => {
                // Claude Code would sign with SigV4 through it and ignore the token.
                settings.remove("awsCredentialExport");
                settings.insert("apiKeyHelper".into(), helper.clone().into());
            }
            (None, None) => {}
        }
        match &self.refresh {
            Some(refresh) => {
                settings.insert("awsAuthRefresh".into(), refresh.clone().into());
            }
            None => {
                if creds_command(&settings, "awsAuthRefresh", " login --profile ").is_some() {
                    settings.remove("awsAuthRefresh");
                }
            }
        }
        match settings.get_mut("env") {
            Some(Value::Object(existing)) => {
                if self.models.is_none() {
                    // Bearer mode's switches go with it; pinned models stay the user's.
                    for key in [
                        "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
                        "CLAUDE_CODE_API_KEY_HELPER_TTL_MS",
                    ] {
                        existing.remove(key);
                    }
                }
                existing.extend(self.env());
                // The AWS_PROFILE an older `setup claude` put there (another profile is the
                // user's, and `doctor` names the mismatch).
                if existing.get("AWS_PROFILE").and_then(Value::as_str) == Some(&self.profile) {
                    existing.remove("AWS_PROFILE");
                }
            }
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
    /// The hook that runs creds: `awsCredentialExport` (SigV4 credentials) or `apiKeyHelper`
    /// (a Bedrock token: bearer mode).
    pub hook: &'static str,
    pub export: String,
    /// The profile the hook exports (`""` when it names none).
    pub profile: String,
    /// Bearer mode: `apiKeyHelper` runs `creds export --format bedrock-token`.
    pub bearer: bool,
    /// The model Claude Code is pinned to (`ANTHROPIC_MODEL` in the file's env).
    pub model: Option<String>,
    /// `CLAUDE_CODE_SKIP_BEDROCK_AUTH` in the file's env.
    pub skip_auth: bool,
    pub format_claude: bool,
    pub refresh_logs_in: bool,
    pub env_region: Option<String>,
}

/// The command `settings[key]` holds when it runs creds with `verb` (` export`, ` login`).
fn creds_command<'a>(settings: &'a Map<String, Value>, key: &str, verb: &str) -> Option<&'a str> {
    settings
        .get(key)
        .and_then(Value::as_str)
        .filter(|c| c.contains("creds") && c.contains(verb))
}

/// The profile a creds command line names with `--profile` or `-p`.
fn profile_of(command: &str) -> Option<&str> {
    command
        .split_whitespace()
        .skip_while(|w| *w != "--profile" && *w != "-p")
        .nth(1)
}

/// How `settings` points Claude Code at creds, if it does.
pub fn pointer(settings: &Map<String, Value>) -> Option<Pointer> {
    let runs_creds = |key: &'static str| creds_command(settings, key, " export").map(|c| (key, c));
    let (hook, export) = runs_creds("awsCredentialExport")
        .or_else(|| runs_creds("apiKeyHelper").filter(|(_, c)| c.contains("bedrock-token")))?;
    let env = settings.get("env").and_then(Value::as_object);
    let env_str = |k: &str| env.and_then(|e| e.get(k)).and_then(Value::as_str);
    Some(Pointer {
        hook,
        bearer: hook == "apiKeyHelper",
        model: env_str("ANTHROPIC_MODEL")
            .filter(|m| !m.is_empty())
            .map(str::to_string),
        skip_auth: env_str("CLAUDE_CODE_SKIP_BEDROCK_AUTH").is_some_and(truthy),
        export: export.to_string(),
        profile: profile_of(export).unwrap_or("").to_string(),
        format_claude: export.contains("--format claude"),
        refresh_logs_in: settings
            .get("awsAuthRefresh")
            .and_then(Value::as_str)
            .is_some_and(|c| c.contains("login")),
        env_region: env_str("AWS_REGION").map(str::to_string),
    })
}

/// The profile `settings`' `awsAuthRefresh` signs in for, when it runs `creds login`.
pub fn refresh_profile(settings: &Map<String, Value>) -> Option<String> {
    let command = creds_command(settings, "awsAuthRefresh", " login")?;
    profile_of(command).map(str::to_string)
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
        assert!(p.format_claude && !p.refresh_logs_in);
        let bad = parse_settings(path, r#"{"env": 1}"#).unwrap();
        assert!(hooks.merge_into(bad, path).is_err());
        assert!(parse_settings(path, "{\n oops")
            .unwrap_err()
            .line()
            .contains("s.json:2:"));
    }

    #[test]
    fn managed_settings_per_platform() {
        use crate::platform::Platform;
        assert_eq!(
            managed_settings_paths(Platform::Linux),
            ["/etc/claude-code/managed-settings.json"]
        );
        assert!(
            managed_settings_paths(Platform::MacOs)[0].starts_with("/Library/Application Support/")
        );
        assert_eq!(
            managed_settings_paths(Platform::Windows),
            [
                r"C:\Program Files\ClaudeCode\managed-settings.json",
                r"C:\ProgramData\ClaudeCode\managed-settings.json"
            ]
        );
        // Started in the home folder, the project's settings file is the user's: once.
        let home = Path::new("/h");
        let in_home = all_settings_paths(Some(home), home);
        assert_eq!(
            in_home
                .iter()
                .filter(|p| p.ends_with(".claude/settings.json"))
                .count(),
            1,
            "{in_home:?}"
        );
        assert_eq!(
            all_settings_paths(Some(home), Path::new("/w")).len(),
            in_home.len() + 1
        );
        let all = all_settings_paths(None, Path::new("/w"));
        assert_eq!(
            all.last().map(|p| p.display().to_string()).as_deref(),
            managed_settings_paths(Platform::current()).last().copied()
        );
    }

    #[test]
    fn program_paths_are_quoted_for_the_shell() {
        if cfg!(windows) {
            let exe = Path::new(r"C:\Program Files\creds\creds.exe");
            assert_eq!(shell_word(exe), r#""C:\Program Files\creds\creds.exe""#);
            assert_eq!(
                program_of(&export_command(exe, "p", "claude")),
                r"C:\Program Files\creds\creds.exe"
            );
        } else {
            assert_eq!(shell_word(Path::new("/usr/bin/creds")), "/usr/bin/creds");
            assert_eq!(shell_word(Path::new("/my dir/it's")), "'/my dir/it'\\''s'");
        }
    }
}

/// What outside Claude Code's settings files decides how it reaches Bedrock: the variables of
/// the environment `doctor` runs in (Claude Code inherits them) and which programs exist.
#[derive(Debug, Clone, Default)]
pub struct Outside {
    /// `AWS_BEARER_TOKEN_BEDROCK` is set (its value is a secret and never kept).
    pub bearer_token: bool,
    pub skip_bedrock_auth: Option<String>,
    pub bedrock_base_url: Option<String>,
    pub aws_profile: Option<String>,
    pub aws_region: Option<String>,
    /// `CLAUDE_CODE_USE_BEDROCK` in the environment (Claude Code honours it when no settings
    /// file sets it).
    pub use_bedrock: Option<String>,
}

/// A setting that keeps creds from doing its job, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub problem: String,
    pub fix: String,
}

/// The program a hook command runs: its first word, unquoted.
pub fn program_of(command: &str) -> String {
    let command = command.trim_start();
    if let Some(rest) = command.strip_prefix('\'') {
        return rest.split('\'').next().unwrap_or_default().to_string();
    }
    if let Some(rest) = command.strip_prefix('"') {
        return rest.split('"').next().unwrap_or_default().to_string();
    }
    command
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// The settings of Claude Code (every file, in the order it reads them, with its `env`) and of
/// the environment that make creds useless or noisy for `profile`. `exists` says whether a
/// hook's program can be run.
pub fn bedrock_findings(
    files: &[(String, Map<String, Value>)],
    outside: &Outside,
    profile: &str,
    exists: &dyn Fn(&str) -> bool,
    session_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<Finding> {
    let setup = format!("creds setup claude --profile {profile}");
    let mut out = Vec::new();
    let env_of = |map: &Map<String, Value>, key: &str| {
        map.get("env")
            .and_then(Value::as_object)
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    // The last place that sets a variable wins (files in Claude Code's order after the
    // environment it starts in).
    let effective = |key: &str, outside_value: Option<String>| {
        files
            .iter()
            .rev()
            .find_map(|(shown, map)| {
                env_of(map, key).map(|v| (v, format!("the env block of {shown}")))
            })
            .or_else(|| outside_value.map(|v| (v, "the environment".to_string())))
    };
    let bearer_files: Vec<&str> = files
        .iter()
        .filter(|(_, map)| env_of(map, "AWS_BEARER_TOKEN_BEDROCK").is_some_and(|v| !v.is_empty()))
        .map(|(shown, _)| shown.as_str())
        .collect();
    if outside.bearer_token || !bearer_files.is_empty() {
        let place = if bearer_files.is_empty() {
            "the environment".to_string()
        } else {
            bearer_files.join(", ")
        };
        out.push(Finding {
            problem: format!("AWS_BEARER_TOKEN_BEDROCK is set (in {place}): Claude Code then uses that Bedrock API key, never runs awsCredentialExport and signs nothing, so creds is bypassed"),
            fix: "unset AWS_BEARER_TOKEN_BEDROCK (and remove it from the settings' env) to use creds".into(),
        });
    }
    let skip = effective(
        "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
        outside.skip_bedrock_auth.clone(),
    );
    let base = effective(
        "ANTHROPIC_BEDROCK_BASE_URL",
        outside.bedrock_base_url.clone(),
    );
    if let (Some((skip, where_)), Some((url, _))) = (&skip, &base) {
        if truthy(skip) {
            out.push(Finding {
                problem: format!("gateway mode: CLAUDE_CODE_SKIP_BEDROCK_AUTH is set (in {where_}) with ANTHROPIC_BEDROCK_BASE_URL {url}: Claude Code sends unsigned requests to the gateway and creds is not used"),
                fix: "unset CLAUDE_CODE_SKIP_BEDROCK_AUTH if the gateway expects requests signed with your AWS credentials".into(),
            });
        }
    }
    let aws_profile = effective("AWS_PROFILE", outside.aws_profile.clone());
    for (shown, map) in files {
        for hook in ["awsCredentialExport", "awsAuthRefresh"] {
            let Some(command) = map.get(hook).and_then(Value::as_str) else {
                continue;
            };
            let program = program_of(command);
            if !program.is_empty() && !exists(&program) {
                out.push(Finding {
                    problem: format!("{shown}: {hook} runs `{program}`, which does not exist here: Claude Code's hook fails"),
                    fix: setup.clone(),
                });
            }
            if hook == "awsAuthRefresh" && command.contains("aws sso login") {
                out.push(Finding {
                    problem: format!("{shown}: awsAuthRefresh runs `aws sso login`, which signs in again through the browser even while the session can be renewed"),
                    fix: format!("{setup} (awsAuthRefresh becomes `creds login`, which does nothing while the session is valid or renewable)"),
                });
            }
        }
        if let (Some(p), Some(login)) = (pointer(map), refresh_profile(map)) {
            // awsAuthRefresh must renew the session the exported profile's credentials come
            // from, else a sign-in leaves the export failing.
            for (other, what) in [
                Some((p.profile.clone(), "awsCredentialExport exports".to_string())),
                aws_profile
                    .as_ref()
                    .map(|(v, w)| (v.clone(), format!("AWS_PROFILE (in {w}) is"))),
            ]
            .into_iter()
            .flatten()
            {
                if other.is_empty() || other == login {
                    continue;
                }
                if let (Some(a), Some(b)) = (session_of(&login), session_of(&other)) {
                    if a == b {
                        continue; // the same session: signing in for one renews the other
                    }
                }
                let sessions = |name: &str| {
                    session_of(name).map_or("no IAM Identity Center session".to_string(), |s| s)
                };
                out.push(Finding {
                    problem: format!(
                        "{shown}: awsAuthRefresh signs in for profile `{login}` ({}) but {what} profile `{other}` ({}): they share no sso-session, so signing in does not renew what Claude Code uses",
                        sessions(&login),
                        sessions(&other)
                    ),
                    fix: format!("creds setup claude --profile {}", p.profile),
                });
            }
        }
        if let (Some(p), Some((env_profile, where_))) = (pointer(map), &aws_profile) {
            if !p.profile.is_empty() && &p.profile != env_profile {
                out.push(Finding {
                    problem: format!("{shown}: awsCredentialExport exports profile `{}` but AWS_PROFILE is `{env_profile}` (in {where_}): Claude Code's own AWS calls and its awsAuthRefresh probe use the other profile", p.profile),
                    fix: format!("creds setup claude --profile {}", p.profile),
                });
            }
        }
    }
    let uses_creds = files.iter().any(|(_, map)| pointer(map).is_some());
    // Claude Code's own truthiness: "1" and "true" (and "yes", "on") alike; a settings file's
    // value wins over the environment's, which counts when none sets it.
    if uses_creds {
        match effective("CLAUDE_CODE_USE_BEDROCK", outside.use_bedrock.clone()) {
            Some((value, _)) if truthy(&value) => {}
            Some((value, where_)) => out.push(Finding {
                problem: format!("CLAUDE_CODE_USE_BEDROCK is \"{value}\" (in {where_}): Claude Code will not use Bedrock"),
                fix: setup.clone(),
            }),
            None => out.push(Finding {
                problem: "CLAUDE_CODE_USE_BEDROCK is not set (in no settings' env nor in the environment): Claude Code will not use Bedrock".into(),
                fix: setup.clone(),
            }),
        }
    }
    if uses_creds && effective("AWS_REGION", outside.aws_region.clone()).is_none() {
        out.push(Finding {
            problem: "Claude Code has no AWS_REGION for Bedrock (not in any settings' env nor in the environment)".into(),
            fix: format!("{setup} --region REGION"),
        });
    }
    out
}

#[cfg(test)]
mod findings {
    use super::*;

    fn file(json: &str) -> (String, Map<String, Value>) {
        (
            "s.json".into(),
            parse_settings(Path::new("s.json"), json).unwrap(),
        )
    }

    /// `dev` and `dev-admin` on sso-session `corp`, `other` on `team`, `keys` on none.
    fn session_of(profile: &str) -> Option<String> {
        match profile {
            "dev" | "dev-admin" => Some("sso-session `corp`".into()),
            "other" => Some("sso-session `team`".into()),
            _ => None,
        }
    }

    fn found(files: &[(String, Map<String, Value>)], outside: &Outside) -> Vec<String> {
        let exists = |p: &str| p == "/bin/creds" || p == "aws";
        bedrock_findings(files, outside, "dev", &exists, &session_of)
            .into_iter()
            .map(|f| f.problem)
            .collect()
    }

    const OK: &str = r#"{"awsCredentialExport": "/bin/creds export --profile dev --format claude", "awsAuthRefresh": "/bin/creds login --profile dev", "env": {"AWS_REGION": "us-east-1", "CLAUDE_CODE_USE_BEDROCK": "1"}}"#;

    #[test]
    fn each_setting_that_bypasses_or_breaks_creds() {
        let ok = file(OK);
        assert_eq!(
            found(std::slice::from_ref(&ok), &Outside::default()),
            Vec::<String>::new()
        );
        let bearer = Outside {
            bearer_token: true,
            ..Outside::default()
        };
        assert!(found(std::slice::from_ref(&ok), &bearer)[0]
            .starts_with("AWS_BEARER_TOKEN_BEDROCK is set (in the environment)"));
        let in_file = file(r#"{"env": {"AWS_BEARER_TOKEN_BEDROCK": "SECRETBEARER"}}"#);
        let text = found(&[ok.clone(), in_file], &Outside::default()).join(" ");
        assert!(
            text.contains("(in s.json)") && !text.contains("SECRETBEARER"),
            "{text}"
        );
        let gateway = file(
            r#"{"env": {"CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1", "ANTHROPIC_BEDROCK_BASE_URL": "https://gw"}}"#,
        );
        assert!(found(&[ok.clone(), gateway], &Outside::default())[0].starts_with("gateway mode"));
        let aws_sso = file(r#"{"awsAuthRefresh": "aws sso login --profile dev"}"#);
        assert!(found(&[ok.clone(), aws_sso], &Outside::default())[0].contains("`aws sso login`"));
        let missing = file(
            r#"{"awsCredentialExport": "'/opt/old creds' export --profile dev --format claude", "env": {"AWS_REGION": "x", "CLAUDE_CODE_USE_BEDROCK": "1"}}"#,
        );
        assert!(found(&[missing], &Outside::default())[0]
            .contains("runs `/opt/old creds`, which does not exist"));
        let other = file(
            r#"{"awsCredentialExport": "/bin/creds export --profile prod --format claude", "env": {"AWS_REGION": "x", "AWS_PROFILE": "dev", "CLAUDE_CODE_USE_BEDROCK": "1"}}"#,
        );
        assert!(found(&[other], &Outside::default())[0]
            .contains("exports profile `prod` but AWS_PROFILE is `dev`"));
        // An organization's managed settings win over the user's env: the finding names them.
        let managed = (
            "/etc/claude-code/managed-settings.json".to_string(),
            parse_settings(
                Path::new("managed-settings.json"),
                r#"{"env": {"AWS_PROFILE": "corp-default"}}"#,
            )
            .unwrap(),
        );
        let user = file(
            r#"{"awsCredentialExport": "/bin/creds export --profile dev --format claude", "env": {"AWS_REGION": "x", "AWS_PROFILE": "dev", "CLAUDE_CODE_USE_BEDROCK": "1"}}"#,
        );
        assert_eq!(
            found(&[user, managed], &Outside::default()),
            ["s.json: awsCredentialExport exports profile `dev` but AWS_PROFILE is `corp-default` (in the env block of /etc/claude-code/managed-settings.json): Claude Code's own AWS calls and its awsAuthRefresh probe use the other profile"]
        );
        let no_region = file(
            r#"{"awsCredentialExport": "/bin/creds export --profile dev --format claude", "env": {"CLAUDE_CODE_USE_BEDROCK": "1"}}"#,
        );
        assert!(
            found(std::slice::from_ref(&no_region), &Outside::default())[0]
                .contains("no AWS_REGION")
        );
        let region = Outside {
            aws_region: Some("us-east-1".into()),
            ..Outside::default()
        };
        assert_eq!(found(&[no_region], &region), Vec::<String>::new());
    }

    #[test]
    fn claude_code_uses_bedrock_when_it_reads_true() {
        let with = |value: Option<&str>| {
            let env = match value {
                Some(v) => format!(r#", "CLAUDE_CODE_USE_BEDROCK": "{v}""#),
                None => String::new(),
            };
            file(&OK.replace(r#", "CLAUDE_CODE_USE_BEDROCK": "1""#, &env))
        };
        let shell = |v: &str| Outside {
            use_bedrock: Some(v.into()),
            ..Outside::default()
        };
        for value in ["1", "true", "TRUE", "yes"] {
            assert_eq!(
                found(&[with(Some(value))], &Outside::default()),
                Vec::<String>::new(),
                "{value}"
            );
        }
        // Unset in the settings, set in the shell Claude Code starts in: used.
        assert_eq!(found(&[with(None)], &shell("1")), Vec::<String>::new());
        assert_eq!(found(&[with(None)], &shell("true")), Vec::<String>::new());
        // The settings' value wins over the shell's.
        let off = found(&[with(Some("0"))], &shell("1"));
        assert_eq!(off, ["CLAUDE_CODE_USE_BEDROCK is \"0\" (in the env block of s.json): Claude Code will not use Bedrock"]);
        assert!(found(&[with(None)], &Outside::default())[0]
            .contains("CLAUDE_CODE_USE_BEDROCK is not set"));
    }

    #[test]
    fn a_sign_in_for_another_session_is_named() {
        let login = |profile: &str, aws_profile: Option<&str>| {
            let mut text = OK.replace("login --profile dev", &format!("login --profile {profile}"));
            if let Some(p) = aws_profile {
                text = text.replace(
                    r#""AWS_REGION""#,
                    &format!(r#""AWS_PROFILE": "{p}", "AWS_REGION""#),
                );
            }
            file(&text)
        };
        // Another profile of the same session: signing in renews it too.
        let same = found(&[login("dev-admin", None)], &Outside::default());
        assert_eq!(same, Vec::<String>::new());
        // Another session: both named, with their sessions.
        assert_eq!(
            found(&[login("other", None)], &Outside::default()),
            ["s.json: awsAuthRefresh signs in for profile `other` (sso-session `team`) but awsCredentialExport exports profile `dev` (sso-session `corp`): they share no sso-session, so signing in does not renew what Claude Code uses"]
        );
        // AWS_PROFILE, from the shell, naming yet another: also named.
        let outside = Outside {
            aws_profile: Some("keys".into()),
            ..Outside::default()
        };
        let text = found(&[login("dev", None)], &outside).join("\n");
        assert!(
            text.contains("awsAuthRefresh signs in for profile `dev` (sso-session `corp`) but AWS_PROFILE (in the environment) is profile `keys` (no IAM Identity Center session)"),
            "{text}"
        );
    }
}
