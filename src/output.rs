//! The `creds export` formats, byte for byte (`docs/aws-compat.md` §1.4 and §2).
//!
//! - `process`: the `credential_process` document exactly as `aws configure export-credentials`
//!   prints it (Python `json.dumps(indent=2)`), with `Expiration` in UTC with `Z`;
//! - `claude`: `{"Credentials":{...}}`, Claude Code's `awsCredentialExport` shape;
//! - `env`, `env-no-export`, `fish`, `powershell`, `windows-cmd`: the AWS CLI v2 lines, plus
//!   `AWS_REGION` and `AWS_DEFAULT_REGION` when a region is known.

use crate::error::{Error, Result};
use crate::secret::Credentials;
use crate::wire::{json_object, json_str};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The credential_process document (`{"Version": 1, ...}`), as `aws configure export-credentials`.
    Process,
    /// Claude Code's awsCredentialExport document (`{"Credentials": {...}}`); always has a SessionToken.
    Claude,
    /// `export AWS_ACCESS_KEY_ID=...` lines for sh, bash and zsh.
    Env,
    /// `AWS_ACCESS_KEY_ID=...` lines (dotenv files, `env $(...)`).
    EnvNoExport,
    /// `set -gx AWS_ACCESS_KEY_ID "..."` lines for fish.
    Fish,
    /// `$Env:AWS_ACCESS_KEY_ID="..."` lines for PowerShell.
    Powershell,
    /// `set AWS_ACCESS_KEY_ID=...` lines for cmd.exe.
    WindowsCmd,
    /// A Bedrock short-term API key (`bedrock-api-key-...`), for Claude Code's apiKeyHelper.
    BedrockToken,
    /// `{"token": "bedrock-api-key-..."}`, for Claude Desktop's credential helper.
    BedrockTokenJson,
}

impl Format {
    /// Whether the document is a Bedrock token minted from the credentials.
    pub fn is_bedrock_token(self) -> bool {
        matches!(self, Format::BedrockToken | Format::BedrockTokenJson)
    }
}

/// The document of a Bedrock token `format`, ending in a newline.
pub fn render_token(format: Format, token: &crate::secret::Secret) -> String {
    match format {
        Format::BedrockTokenJson => {
            format!("{}\n", json_object(&[("token", json_str(token.expose()))]))
        }
        _ => format!("{}\n", token.expose()),
    }
}

/// The document for `format`, ending in a newline.
pub fn render(format: Format, c: &Credentials, region: Option<&str>) -> Result<String> {
    let expiry = c.expiration.map(crate::wire::format_time);
    let token = c.session_token.as_ref().map(|t| t.expose());
    match format {
        Format::BedrockToken | Format::BedrockTokenJson => Err(Error::usage(
            "a Bedrock token is minted by `creds export`, not rendered from credentials",
        )),
        Format::Process => {
            let mut fields = vec![
                ("Version", "1".to_string()),
                ("AccessKeyId", json_str(&c.access_key_id)),
                ("SecretAccessKey", json_str(c.secret_access_key.expose())),
            ];
            if let Some(t) = token {
                fields.push(("SessionToken", json_str(t)));
            }
            if let Some(e) = &expiry {
                fields.push(("Expiration", json_str(e)));
            }
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("  \"{k}\": {v}"))
                .collect();
            Ok(format!("{{\n{}\n}}\n", body.join(",\n")))
        }
        Format::Claude => {
            let mut body = format!(
                "\"AccessKeyId\":{},\"SecretAccessKey\":{}",
                json_str(&c.access_key_id),
                json_str(c.secret_access_key.expose())
            );
            if let Some(t) = token {
                body.push_str(&format!(",\"SessionToken\":{}", json_str(t)));
            }
            if let Some(e) = &expiry {
                body.push_str(&format!(",\"Expiration\":{}", json_str(e)));
            }
            Ok(format!("{{\"Credentials\":{{{body}}}}}\n"))
        }
        _ => {
            let mut out = String::new();
            for (name, value) in key_variables(c).into_iter().chain(region_variables(region)) {
                out.push_str(&shell_line(format, name, &value)?);
            }
            Ok(out)
        }
    }
}

/// The credentials as the SDKs' environment variables, in the AWS CLI's order: the keys, the
/// session token and the expiration (what the shell formats print, and `creds exec` sets).
pub fn key_variables(c: &Credentials) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            c.secret_access_key.expose().to_string(),
        ),
    ];
    if let Some(t) = &c.session_token {
        vars.push(("AWS_SESSION_TOKEN", t.expose().to_string()));
    }
    if let Some(e) = c.expiration {
        vars.push(("AWS_CREDENTIAL_EXPIRATION", crate::wire::format_time(e)));
    }
    vars
}

/// `AWS_REGION` and `AWS_DEFAULT_REGION`, when a region is known.
pub fn region_variables(region: Option<&str>) -> Vec<(&'static str, String)> {
    region
        .map(|r| {
            vec![
                ("AWS_REGION", r.to_string()),
                ("AWS_DEFAULT_REGION", r.to_string()),
            ]
        })
        .unwrap_or_default()
}

/// Whether `value` prints the same quoted or not in every shell: the AWS CLI's output for
/// every real key, token, time and region.
fn plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=._:-".contains(&b))
}

/// One `NAME=value` line in `format`'s syntax. A value made only of `[A-Za-z0-9+/=._:-]`
/// prints as the AWS CLI prints it; any other value is quoted so that the shell reads it back
/// literally, never as code, or refused where the shell has no such quoting (cmd.exe).
fn shell_line(format: Format, name: &str, value: &str) -> Result<String> {
    let plain = plain(value);
    Ok(match format {
        Format::Env if plain => format!("export {name}={value}\n"),
        Format::Env => format!("export {name}={}\n", sh_quote(value)),
        Format::EnvNoExport if plain => format!("{name}={value}\n"),
        Format::EnvNoExport => format!("{name}={}\n", sh_quote(value)),
        Format::Fish if plain => format!("set -gx {name} \"{value}\"\n"),
        Format::Fish => format!("set -gx {name} {}\n", fish_quote(value)),
        Format::Powershell if plain => format!("$Env:{name}=\"{value}\"\n"),
        Format::Powershell => format!("$Env:{name}={}\n", powershell_quote(value)),
        Format::WindowsCmd if plain => format!("set {name}={value}\n"),
        _ => {
            // cmd.exe expands %VAR% and !VAR! even inside quotes, and a line break ends the
            // command: such a value cannot be written safely. Anything else is safe inside
            // `set "NAME=value"`.
            if value
                .chars()
                .any(|c| matches!(c, '%' | '!' | '"' | '^') || c.is_control())
            {
                return Err(Error::other(format!("{name} holds characters that cmd.exe would run or expand (%, !, \", ^ or a control character); use --format powershell or --format process")));
            }
            format!("set \"{name}={value}\"\n")
        }
    })
}

/// POSIX shell single quotes: `'...'`, with `'` written as `'\''`.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// fish single quotes: only `\` and `'` are special inside them.
fn fish_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// PowerShell single quotes (no expansion); a `'` (or a typographic single quote, which
/// PowerShell also accepts as a delimiter) is doubled.
fn powershell_quote(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use chrono::{DateTime, Utc};

    fn creds(token: bool, expiry: bool) -> Credentials {
        Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("se/cr+et"),
            session_token: token.then(|| Secret::new("to/ken=")),
            expiration: expiry.then(|| {
                DateTime::parse_from_rfc3339("2026-01-01T12:00:00.750+00:00")
                    .unwrap()
                    .with_timezone(&Utc)
            }),
            account_id: Some("123456789012".into()),
        }
    }

    #[test]
    fn process_format_is_exact() {
        assert_eq!(
            render(Format::Process, &creds(true, true), Some("eu-west-1")).unwrap(),
            "{\n  \"Version\": 1,\n  \"AccessKeyId\": \"ASIAEXAMPLE\",\n  \"SecretAccessKey\": \"se/cr+et\",\n  \"SessionToken\": \"to/ken=\",\n  \"Expiration\": \"2026-01-01T12:00:00Z\"\n}\n"
        );
        assert_eq!(render(Format::Process, &creds(false, false), None).unwrap(), "{\n  \"Version\": 1,\n  \"AccessKeyId\": \"ASIAEXAMPLE\",\n  \"SecretAccessKey\": \"se/cr+et\"\n}\n");
    }

    #[test]
    fn claude_format_is_exact() {
        assert_eq!(
            render(Format::Claude, &creds(true, true), None).unwrap(),
            "{\"Credentials\":{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"se/cr+et\",\"SessionToken\":\"to/ken=\",\"Expiration\":\"2026-01-01T12:00:00Z\"}}\n"
        );
    }

    #[test]
    fn shell_formats_are_exact() {
        let c = creds(true, true);
        let r = Some("eu-west-1");
        assert_eq!(
            render(Format::Env, &c, r).unwrap(),
            "export AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nexport AWS_SECRET_ACCESS_KEY=se/cr+et\nexport AWS_SESSION_TOKEN=to/ken=\nexport AWS_CREDENTIAL_EXPIRATION=2026-01-01T12:00:00Z\nexport AWS_REGION=eu-west-1\nexport AWS_DEFAULT_REGION=eu-west-1\n"
        );
        assert_eq!(
            render(Format::EnvNoExport, &creds(false, false), None).unwrap(),
            "AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nAWS_SECRET_ACCESS_KEY=se/cr+et\n"
        );
        assert_eq!(
            render(Format::Fish, &c, None).unwrap(),
            "set -gx AWS_ACCESS_KEY_ID \"ASIAEXAMPLE\"\nset -gx AWS_SECRET_ACCESS_KEY \"se/cr+et\"\nset -gx AWS_SESSION_TOKEN \"to/ken=\"\nset -gx AWS_CREDENTIAL_EXPIRATION \"2026-01-01T12:00:00Z\"\n"
        );
        assert_eq!(
            render(Format::Powershell, &c, r).unwrap(),
            "$Env:AWS_ACCESS_KEY_ID=\"ASIAEXAMPLE\"\n$Env:AWS_SECRET_ACCESS_KEY=\"se/cr+et\"\n$Env:AWS_SESSION_TOKEN=\"to/ken=\"\n$Env:AWS_CREDENTIAL_EXPIRATION=\"2026-01-01T12:00:00Z\"\n$Env:AWS_REGION=\"eu-west-1\"\n$Env:AWS_DEFAULT_REGION=\"eu-west-1\"\n"
        );
        assert_eq!(render(Format::WindowsCmd, &creds(false, true), None).unwrap(), "set AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nset AWS_SECRET_ACCESS_KEY=se/cr+et\nset AWS_CREDENTIAL_EXPIRATION=2026-01-01T12:00:00Z\n");
    }

    #[test]
    fn hostile_values_are_quoted_for_each_shell_never_run() {
        let mut c = creds(true, false);
        c.access_key_id = "ASIA$(touch x)".into();
        c.secret_access_key = Secret::new("it's`id`\\n");
        let region = Some("us-east-1;touch${IFS}pwned");
        assert_eq!(
            render(Format::Env, &c, region).unwrap(),
            "export AWS_ACCESS_KEY_ID='ASIA$(touch x)'\nexport AWS_SECRET_ACCESS_KEY='it'\\''s`id`\\n'\nexport AWS_SESSION_TOKEN=to/ken=\nexport AWS_REGION='us-east-1;touch${IFS}pwned'\nexport AWS_DEFAULT_REGION='us-east-1;touch${IFS}pwned'\n"
        );
        assert_eq!(
            render(Format::Fish, &c, None).unwrap(),
            "set -gx AWS_ACCESS_KEY_ID 'ASIA$(touch x)'\nset -gx AWS_SECRET_ACCESS_KEY 'it\\'s`id`\\\\n'\nset -gx AWS_SESSION_TOKEN \"to/ken=\"\n"
        );
        assert_eq!(
            render(Format::Powershell, &c, None).unwrap(),
            "$Env:AWS_ACCESS_KEY_ID='ASIA$(touch x)'\n$Env:AWS_SECRET_ACCESS_KEY='it''s`id`\\n'\n$Env:AWS_SESSION_TOKEN=\"to/ken=\"\n"
        );
        assert!(render(Format::WindowsCmd, &c, None)
            .unwrap()
            .starts_with("set \"AWS_ACCESS_KEY_ID=ASIA$(touch x)\"\n"));
        c.access_key_id = "ASIA%PATH%".into();
        let err = render(Format::WindowsCmd, &c, None).unwrap_err();
        assert!(err.line().contains("AWS_ACCESS_KEY_ID"), "{}", err.line());
        assert!(!err.line().contains("PATH"), "{}", err.line());
        c.access_key_id = "ASIA&calc".into();
        c.secret_access_key = Secret::new("plain");
        assert!(render(Format::WindowsCmd, &c, None)
            .unwrap()
            .starts_with("set \"AWS_ACCESS_KEY_ID=ASIA&calc\"\n"));
    }
}
