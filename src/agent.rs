//! Pure: whether creds runs in an AI agent's own shell, from the markers agents set for the
//! commands they run. Claude Code sets `CLAUDECODE=1` for its Bash tool, but not for the
//! hooks it runs itself (`awsCredentialExport`, `awsAuthRefresh`, `apiKeyHelper`), which
//! carry `CLAUDE_CODE_ENTRYPOINT` instead (`docs/claude-code.md`). There, `creds login`
//! starts no sign-in in the user's browser: an agent must not sign itself in by accident.

use crate::context::Env;

/// The variables agents set for the commands they run, and who sets each.
pub const MARKERS: &[(&str, &str)] = &[
    ("CLAUDECODE", "Claude Code's Bash tool"),
    ("CODEX_SANDBOX", "Codex"),
    ("GEMINI_CLI", "Gemini CLI"),
    ("CURSOR_AGENT", "Cursor's agent"),
    ("OPENCODE", "opencode's shell tool"),
];

/// The variable that lets an agent's shell sign in anyway (`1` or `true`).
pub const ALLOW: &str = "CREDS_ALLOW_AGENT_LOGIN";

/// The agent whose shell this is: the first marker set to anything but empty or `0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agent {
    pub var: &'static str,
    pub who: &'static str,
}

impl Agent {
    pub fn detect(env: &Env) -> Option<Agent> {
        MARKERS.iter().find_map(|(var, who)| {
            env.get(var)
                .filter(|v| !v.is_empty() && *v != "0")
                .map(|_| Agent { var, who })
        })
    }

    /// How the run is described in messages: `Claude Code's Bash tool (CLAUDECODE is set)`.
    pub fn describe(&self) -> String {
        format!("{} ({} is set)", self.who, self.var)
    }
}

/// Whether `CREDS_ALLOW_AGENT_LOGIN` lets an agent's shell sign in.
pub fn allowed(env: &Env) -> bool {
    env.get(ALLOW)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn every_marker_is_an_agent_and_a_hook_is_not() {
        for (var, who) in MARKERS {
            let found = Agent::detect(&env(&[(var, "1")])).unwrap();
            assert_eq!((found.var, found.who), (*var, *who));
        }
        assert_eq!(
            Agent::detect(&env(&[("CODEX_SANDBOX", "seatbelt")])).map(|a| a.var),
            Some("CODEX_SANDBOX")
        );
        // Claude Code's hooks: its entry point, no CLAUDECODE.
        assert_eq!(
            Agent::detect(&env(&[("CLAUDE_CODE_ENTRYPOINT", "cli")])),
            None
        );
        assert_eq!(Agent::detect(&env(&[("CLAUDECODE", "0")])), None);
        assert_eq!(Agent::detect(&env(&[("CLAUDECODE", "")])), None);
        assert!(allowed(&env(&[(ALLOW, "1")])) && allowed(&env(&[(ALLOW, "TRUE")])));
        assert!(!allowed(&env(&[(ALLOW, "0")])) && !allowed(&env(&[])));
    }
}
