"""opencode (npm `opencode-ai`, run offline) as a second agent that reads Bedrock credentials:
its Amazon Bedrock provider (the AI SDK's, through the AWS SDK for JavaScript's default chain)
against the fake Bedrock's Converse API. Two ways to give it creds' credentials: a profile
whose `credential_process` runs creds (opencode signs with SigV4), or `creds exec
--bedrock-token` (opencode holds a Bedrock token and no AWS keys). Its shell tool's
environment is measured through the fake's `bash` tool call."""

import json
import shlex
import subprocess
from pathlib import Path

import bedrock_token
from fake_bedrock import TEXT
from test_interop import ROLE_A, ROLE_B, chain_config
from test_sso import SSO_CONFIG

OPENCODE = Path(__file__).resolve().parent / "opencode" / "node_modules" / ".bin" / "opencode"
MODEL = "amazon-bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0"
# Offline and alone: no model list, update, share, plugin or language-server download, and no
# reading of the user's Claude Code files.
QUIET = {
    "OPENCODE_DISABLE_MODELS_FETCH": "1",
    "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_SHARE": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
    "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
    "OPENCODE_DISABLE_CLAUDE_CODE": "1",
}


def opencode_home(home, bedrock, profile=None):
    """opencode's project: its Bedrock provider pointed at the fake, with `profile` if given."""
    assert OPENCODE.exists(), f"scripts/test installs opencode (tests/interop/opencode): {OPENCODE}"
    options = {"region": "us-east-1", "endpoint": bedrock.url}
    if profile:
        options["profile"] = profile
    project = home.root / "project"
    project.mkdir(exist_ok=True)
    (project / "opencode.json").write_text(json.dumps({
        "provider": {"amazon-bedrock": {"options": options}},
        "model": MODEL,
        "autoupdate": False,
        "share": "disabled",
    }))
    home.env.update(QUIET)
    # opencode works in $PWD, not in the directory it is started in.
    home.env["PWD"] = str(project)
    return project


def run_opencode(home, project, prefix=()):
    return home.run([*prefix, str(OPENCODE), "run", "--pure", "--print-logs", "say hi"], cwd=project, timeout=170)


def test_version():
    out = subprocess.run([str(OPENCODE), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "1.18.33", out.stdout + out.stderr


def test_opencode_signs_every_request_with_creds_credentials(creds_bin, home, moto, bedrock):
    home.config(chain_config(creds_bin))
    project = opencode_home(home, bedrock, profile="consumer")
    bedrock.bash_command = "env"
    out = run_opencode(home, project)
    assert out.returncode == 0, out.stdout + out.stderr
    assert TEXT in out.stdout
    process = json.loads(home.run([creds_bin, "export", "-p", "hop2", "-f", "process"]).stdout)
    requests = bedrock.model_requests()
    # The title (small model), the turn that calls the tool, and the turn after it.
    assert len(requests) >= 3 and all(r[1].endswith("/converse-stream") for r in requests), requests
    assert {r[2] for r in requests} == {process["AccessKeyId"]}, requests
    assert moto.count(ROLE_A) == 1 and moto.count(ROLE_B) == 1
    env = bedrock.shell_env()
    # opencode marks its shell (creds' login guard reads OPENCODE) and gives it no keys: they
    # stay in its SDK.
    assert env.get("OPENCODE") == "1", sorted(env)
    for secret in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK"):
        assert secret not in env, f"{secret} reached opencode's shell"
    print(f"opencode shell markers: {sorted(k for k in env if k.startswith(('OPENCODE', 'AGENT', 'AWS_')))}")


def test_opencode_with_a_bedrock_token_from_creds_exec_holds_no_aws_keys(creds_bin, home, moto, bedrock):
    home.config(chain_config(creds_bin))
    project = opencode_home(home, bedrock)
    process = json.loads(home.run([creds_bin, "export", "-p", "hop2", "-f", "process"]).stdout)
    bedrock.secrets[process["AccessKeyId"]] = process["SecretAccessKey"]
    bedrock.bash_command = "env"
    # Keys a user's shell may hold must not reach the command, nor win over the token.
    home.env.update(AWS_ACCESS_KEY_ID="AKIASTALE", AWS_SECRET_ACCESS_KEY="stale", AWS_PROFILE="hop1")
    out = run_opencode(home, project, prefix=[creds_bin, "exec", "-p", "hop2", "--bedrock-token", "--"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert TEXT in out.stdout
    requests = bedrock.model_requests()
    assert len(requests) >= 3 and all(r[2] is None for r in requests), requests  # none signed
    assert len(bedrock.tokens) == len(requests) and all(why is None for _, why in bedrock.tokens), bedrock.tokens
    # One token for the whole run, for hop2's credentials, lasting their life less --min-ttl.
    assert len({t for t, _ in bedrock.tokens}) == 1
    _, q = bedrock_token.decode(bedrock.tokens[0][0])
    assert q["X-Amz-Security-Token"] == process["SessionToken"]
    env = bedrock.shell_env()
    assert env.get("OPENCODE") == "1"
    for secret in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_PROFILE"):
        assert secret not in env, f"{secret} reached opencode's shell"
    # What the agent's shell does hold: the Bedrock token, good only for Bedrock.
    assert env.get("AWS_BEARER_TOKEN_BEDROCK") == bedrock.tokens[0][0]


def test_creds_login_from_opencodes_shell_starts_no_sign_in(creds_bin, home, moto, fake_sso, bedrock):
    """The guard end to end: opencode's agent runs `creds login --force` through its shell
    tool; creds starts no sign-in (no device authorization) and exits 4 with its one line."""
    home.config(chain_config(creds_bin) + "\n" + SSO_CONFIG)
    home.env.update(AWS_ENDPOINT_URL_SSO=fake_sso.url, AWS_ENDPOINT_URL_SSO_OIDC=fake_sso.url)
    project = opencode_home(home, bedrock, profile="consumer")
    bedrock.bash_command = f"{shlex.quote(creds_bin)} login --profile dev --force; echo exit=$?"
    out = run_opencode(home, project)
    assert out.returncode == 0, out.stdout + out.stderr
    result = bedrock.tool_results[0] if bedrock.tool_results else ""
    assert "exit=4" in result, out.stdout + out.stderr + result
    assert "from opencode's shell tool (OPENCODE is set)" in result, result
    assert fake_sso.count("StartDeviceAuthorization") == 0
