//! The `creds export` formats, byte for byte (`aws-compat.md` §1.4 and §2).
//!
//! - `process`: the `credential_process` document exactly as `aws configure export-credentials`
//!   prints it (Python `json.dumps(indent=2)`), with `Expiration` in UTC with `Z`;
//! - `claude`: `{"Credentials":{...}}`, Claude Code's `awsCredentialExport` shape;
//! - `env`, `env-no-export`, `fish`, `powershell`, `windows-cmd`: the AWS CLI v2 lines, plus
//!   `AWS_REGION` and `AWS_DEFAULT_REGION` when a region is known.

use crate::secret::Credentials;
use crate::wire::json_str;

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
}

/// The document for `format`, ending in a newline.
pub fn render(format: Format, c: &Credentials, region: Option<&str>) -> String {
    let expiry = c.expiration.map(crate::wire::format_time);
    let token = c.session_token.as_ref().map(|t| t.expose());
    match format {
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
            format!("{{\n{}\n}}\n", body.join(",\n"))
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
            format!("{{\"Credentials\":{{{body}}}}}\n")
        }
        _ => {
            let mut vars = vec![
                ("AWS_ACCESS_KEY_ID", c.access_key_id.as_str()),
                ("AWS_SECRET_ACCESS_KEY", c.secret_access_key.expose()),
            ];
            if let Some(t) = token {
                vars.push(("AWS_SESSION_TOKEN", t));
            }
            if let Some(e) = &expiry {
                vars.push(("AWS_CREDENTIAL_EXPIRATION", e));
            }
            if let Some(r) = region {
                vars.push(("AWS_REGION", r));
                vars.push(("AWS_DEFAULT_REGION", r));
            }
            vars.iter()
                .map(|(name, value)| match format {
                    Format::Env => format!("export {name}={value}\n"),
                    Format::EnvNoExport => format!("{name}={value}\n"),
                    Format::Fish => format!("set -gx {name} \"{value}\"\n"),
                    Format::Powershell => format!("$Env:{name}=\"{value}\"\n"),
                    _ => format!("set {name}={value}\n"),
                })
                .collect()
        }
    }
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
            render(Format::Process, &creds(true, true), Some("eu-west-1")),
            "{\n  \"Version\": 1,\n  \"AccessKeyId\": \"ASIAEXAMPLE\",\n  \"SecretAccessKey\": \"se/cr+et\",\n  \"SessionToken\": \"to/ken=\",\n  \"Expiration\": \"2026-01-01T12:00:00Z\"\n}\n"
        );
        assert_eq!(render(Format::Process, &creds(false, false), None), "{\n  \"Version\": 1,\n  \"AccessKeyId\": \"ASIAEXAMPLE\",\n  \"SecretAccessKey\": \"se/cr+et\"\n}\n");
    }

    #[test]
    fn claude_format_is_exact() {
        assert_eq!(
            render(Format::Claude, &creds(true, true), None),
            "{\"Credentials\":{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"se/cr+et\",\"SessionToken\":\"to/ken=\",\"Expiration\":\"2026-01-01T12:00:00Z\"}}\n"
        );
    }

    #[test]
    fn shell_formats_are_exact() {
        let c = creds(true, true);
        let r = Some("eu-west-1");
        assert_eq!(
            render(Format::Env, &c, r),
            "export AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nexport AWS_SECRET_ACCESS_KEY=se/cr+et\nexport AWS_SESSION_TOKEN=to/ken=\nexport AWS_CREDENTIAL_EXPIRATION=2026-01-01T12:00:00Z\nexport AWS_REGION=eu-west-1\nexport AWS_DEFAULT_REGION=eu-west-1\n"
        );
        assert_eq!(
            render(Format::EnvNoExport, &creds(false, false), None),
            "AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nAWS_SECRET_ACCESS_KEY=se/cr+et\n"
        );
        assert_eq!(
            render(Format::Fish, &c, None),
            "set -gx AWS_ACCESS_KEY_ID \"ASIAEXAMPLE\"\nset -gx AWS_SECRET_ACCESS_KEY \"se/cr+et\"\nset -gx AWS_SESSION_TOKEN \"to/ken=\"\nset -gx AWS_CREDENTIAL_EXPIRATION \"2026-01-01T12:00:00Z\"\n"
        );
        assert_eq!(
            render(Format::Powershell, &c, r),
            "$Env:AWS_ACCESS_KEY_ID=\"ASIAEXAMPLE\"\n$Env:AWS_SECRET_ACCESS_KEY=\"se/cr+et\"\n$Env:AWS_SESSION_TOKEN=\"to/ken=\"\n$Env:AWS_CREDENTIAL_EXPIRATION=\"2026-01-01T12:00:00Z\"\n$Env:AWS_REGION=\"eu-west-1\"\n$Env:AWS_DEFAULT_REGION=\"eu-west-1\"\n"
        );
        assert_eq!(render(Format::WindowsCmd, &creds(false, true), None), "set AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nset AWS_SECRET_ACCESS_KEY=se/cr+et\nset AWS_CREDENTIAL_EXPIRATION=2026-01-01T12:00:00Z\n");
    }
}
