"""The real Claude Code (npm @anthropic-ai/claude-code, run offline) against a fake Bedrock
Runtime, with its settings written by `creds setup`: every Bedrock request must be signed with
the access key id that `creds export` prints, and upstream calls stay at one per hop. Every
test runs on the oldest supported Claude Code and on the newest, installed side by side."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from fake_bedrock import TEXT
from test_sso import SSO_CONFIG, stamp, token_path

from conftest import Tmux

NODE_MODULES = Path(__file__).resolve().parent / "js" / "node_modules"
# tests/interop/js/package.json pins both (the newest under an npm alias).
VERSIONS = {
    "2.1.197": NODE_MODULES / "@anthropic-ai" / "claude-code" / "bin" / "claude.exe",
    "2.1.332": NODE_MODULES / "claude-code-newest" / "bin" / "claude.exe",
}
ROLE = "arn:aws:iam::222222222222:role/BedrockCross"
CONFIG = SSO_CONFIG + f"""
[profile cross]
role_arn = {ROLE}
source_profile = dev
role_session_name = claude-cross
region = us-east-1
"""


@pytest.fixture(params=sorted(VERSIONS))
def claude(request):
    path = VERSIONS[request.param]
    assert path.exists(), f"scripts/test installs Claude Code {request.param} (tests/interop/js): {path}"
    return request.param, path


def claude_home(home, fake_sso, bedrock, token_minutes=120, refreshable=True):
    home.config(CONFIG)
    home.env.update(
        AWS_ENDPOINT_URL_SSO=fake_sso.url,
        AWS_ENDPOINT_URL_SSO_OIDC=fake_sso.url,
        ANTHROPIC_BEDROCK_BASE_URL=bedrock.url,
        DISABLE_TELEMETRY="1",
        DISABLE_AUTOUPDATER="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        CLAUDE_CODE_MAX_RETRIES="1",
    )
    home.env.pop("AWS_REGION", None)
    issued = fake_sso.issue()
    token = {"startUrl": "https://d-test.awsapps.com/start", "region": "us-east-1", "accessToken": issued["accessToken"], "expiresAt": stamp(token_minutes)}
    if refreshable:
        token.update(clientId="client-0", clientSecret="csecret-0", registrationExpiresAt=stamp(60 * 24 * 30), refreshToken=issued["refreshToken"])
    path = token_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(token))
    return home


def run_claude(home, claude):
    return home.run([str(claude[1]), "-p", "hi"], timeout=170)


def exported_key(home, creds_bin, profile):
    out = home.run([creds_bin, "export", "--profile", profile, "--format", "claude"])
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["Credentials"]["AccessKeyId"]


def assert_signed_with(bedrock, key):
    requests = bedrock.model_requests()
    assert len(requests) >= 2, bedrock.requests
    assert {r[2] for r in requests} == {key}, bedrock.requests


def test_version(claude):
    version, path = claude
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith(f"{version} (Claude Code)"), out.stdout + out.stderr


def test_sso_profile(creds_bin, home, moto, fake_sso, bedrock, claude):
    claude_home(home, fake_sso, bedrock)
    setup = home.run([creds_bin, "setup", "claude", "--profile", "dev"])
    assert setup.returncode == 0, setup.stderr
    settings = json.loads((home.root / ".claude" / "settings.json").read_text())
    assert settings["awsAuthRefresh"].endswith("login --profile dev")
    out = run_claude(home, claude)
    assert out.returncode == 0, out.stdout + out.stderr
    assert TEXT in out.stdout
    key = exported_key(home, creds_bin, "dev")
    assert key.startswith("ASIASSO")
    assert_signed_with(bedrock, key)
    # Only creds called IAM Identity Center: setup claude's env has no AWS_PROFILE, so Claude
    # Code's own SDK does not resolve the profile again (issue 17, item 13).
    assert "AWS_PROFILE" not in settings["env"]
    assert fake_sso.count("GetRoleCredentials") == 1
    assert fake_sso.count_by("GetRoleCredentials", "aws-sdk-rust") == 1


def test_claude_codes_start_renews_and_fetches_once(creds_bin, home, moto, fake_sso, bedrock, claude):
    """The SSO token inside its refresh window at Claude Code's start: one renewal and one
    GetRoleCredentials in all, both creds' (with AWS_PROFILE in the env block, Claude Code's
    SDK fetched the role credentials again: 3 in all on 2.1.197, 2 on 2.1.332)."""
    claude_home(home, fake_sso, bedrock, token_minutes=10)
    assert home.run([creds_bin, "setup", "claude", "--profile", "dev"]).returncode == 0
    out = run_claude(home, claude)
    assert out.returncode == 0, out.stdout + out.stderr
    assert TEXT in out.stdout
    calls = {op: (fake_sso.count(op), fake_sso.count_by(op, "aws-sdk-rust")) for op in ("CreateToken", "GetRoleCredentials")}
    assert calls == {"CreateToken": (1, 1), "GetRoleCredentials": (1, 1)}, calls


def test_cross_account_chain_on_sso(creds_bin, home, moto, fake_sso, bedrock, claude):
    claude_home(home, fake_sso, bedrock)
    assert home.run([creds_bin, "setup", "claude", "--profile", "cross"]).returncode == 0
    out = run_claude(home, claude)
    assert out.returncode == 0, out.stdout + out.stderr
    assert TEXT in out.stdout
    # One AssumeRole in all (no AWS_PROFILE for Claude Code's SDK to resolve itself); creds'
    # own export afterwards is a cache hit, and every Bedrock request carries creds' key.
    assert moto.count(ROLE) == 1
    key = exported_key(home, creds_bin, "cross")
    assert moto.count(ROLE) == 1, "creds answered from its cache"
    assert_signed_with(bedrock, key)
    assert fake_sso.count_by("GetRoleCredentials", "aws-sdk-rust") == 1


def test_aws_profile_with_credential_process(creds_bin, home, moto, fake_sso, bedrock, claude):
    claude_home(home, fake_sso, bedrock)
    setup = home.run([creds_bin, "setup", "profile", "claude-bedrock", "--from", "cross"])
    assert setup.returncode == 0, setup.stderr
    # No awsCredentialExport: Claude Code resolves AWS_PROFILE itself and runs the
    # credential_process for every request, several at once.
    (home.root / ".claude").mkdir(exist_ok=True)
    (home.root / ".claude" / "settings.json").write_text(json.dumps({"env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1", "AWS_PROFILE": "claude-bedrock"}}))
    out = run_claude(home, claude)
    assert out.returncode == 0, out.stdout + out.stderr
    assert TEXT in out.stdout
    key = exported_key(home, creds_bin, "cross")
    assert_signed_with(bedrock, key)
    assert moto.count(ROLE) == 1, "one AssumeRole however many processes Claude Code started"
    assert fake_sso.count("GetRoleCredentials") == 1, "and one GetRoleCredentials: nothing but creds calls IAM Identity Center here"


def test_expired_session_fails_and_doctor_names_the_fix(creds_bin, home, moto, fake_sso, bedrock, claude):
    claude_home(home, fake_sso, bedrock, token_minutes=-5, refreshable=False)
    assert home.run([creds_bin, "setup", "claude", "--profile", "dev"]).returncode == 0
    fake_sso.configure(deny=True)  # the awsAuthRefresh login is denied rather than left waiting
    out = run_claude(home, claude)
    assert out.returncode != 0, out.stdout
    assert TEXT not in out.stdout
    doctor = home.run([creds_bin, "doctor", "--profile", "dev"])
    assert doctor.returncode == 4, doctor.stdout + doctor.stderr
    assert "creds login --profile dev" in doctor.stdout


def past_first_run(home, version):
    """Past Claude Code's first-run screens: onboarding done, the working folder trusted."""
    (home.root / ".claude.json").write_text(json.dumps({
        "hasCompletedOnboarding": True,
        "lastOnboardingVersion": version,
        "theme": "dark",
        "projects": {str(home.root): {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}},
    }))


def test_interactive_sign_in_is_visible_at_once(creds_bin, home, moto, fake_sso, bedrock, claude):
    """An SSO session that has ended, Claude Code started in a terminal: the sign-in URL and
    code are on the screen within seconds of StartDeviceAuthorization (Claude Code itself
    draws nothing while awsAuthRefresh runs), and once approved a prompt gets its answer
    signed with creds' key."""
    version, path = claude
    claude_home(home, fake_sso, bedrock, token_minutes=-5, refreshable=False)
    assert home.run([creds_bin, "setup", "claude", "--profile", "dev"]).returncode == 0
    past_first_run(home, version)
    fake_sso.configure(pending=100000)
    tmux = Tmux(home, f"{path} 2>{home.root}/claude.stderr", version.replace(".", "-"))
    try:
        deadline = time.monotonic() + 60
        while fake_sso.count("StartDeviceAuthorization") == 0:
            assert time.monotonic() < deadline, f"no sign-in started; screen:\n{tmux.screen()}"
            time.sleep(0.1)
        started = time.monotonic()
        screen = tmux.wait_for(lambda s: "user_code=CODE-" in s and "(code CODE-" in s, 10)
        assert screen, f"Claude Code {version}: no URL and code on the screen within 10 s:\n{tmux.screen()}"
        shown_after = time.monotonic() - started
        assert shown_after < 5, shown_after
        # Approved only once Claude Code has drawn (at about 21 s): what creds writes then must
        # not land on its screen (issue 17, item 13).
        drawn = tmux.wait_for(lambda s: "Sign-in" in s or "Cloud authentication" in s, 40)
        assert drawn, f"Claude Code {version} drew no box for the hook:\n{tmux.screen()}"
        assert time.monotonic() - tmux.started > 16, "approved after Claude Code has drawn"
        signin = [line for line in drawn.splitlines() if "(code CODE-" in line]
        if version == "2.1.332":
            # stdout lines show plainly, stderr lines are marked as errors.
            assert signin and not any("✘" in line for line in signin), f"the sign-in line marked as an error:\n{drawn}"
        fake_sso.configure(pending=0)
        ready = tmux.wait_for(lambda s: f"Claude Code v{version}" in s and "❯" in s, 60)
        assert ready, f"Claude Code {version} did not become ready:\n{tmux.screen()}"
        time.sleep(2)
        ready = tmux.screen()
        prompt_rows = [line for line in ready.splitlines() if "❯" in line]
        assert prompt_rows and not any("creds" in line or "signed in" in line for line in prompt_rows), \
            f"Claude Code {version}: creds wrote into the prompt's input row:\n{ready}"
        assert "creds: signed in" not in ready, f"Claude Code {version}: written over its screen:\n{ready}"
        time.sleep(1)
        tmux.keys("say hi", "Enter")
        answered = tmux.wait_for(lambda s: TEXT in s, 60)
        assert answered, f"Claude Code {version}: no answer on the screen:\n{tmux.screen()}"
        key = exported_key(home, creds_bin, "dev")
        assert_signed_with(bedrock, key)
        print(f"Claude Code {version}: URL and code on screen {shown_after:.1f} s after StartDeviceAuthorization")
    finally:
        tmux.close()


def test_sign_in_mid_session_shows_in_claude_codes_box(creds_bin, home, moto, fake_sso, bedrock, claude):
    """The session ends while Claude Code runs: a 403 makes it run awsAuthRefresh, whose one
    line (URL with the code, the code again) shows in Claude Code's own box, and nothing is
    written over what Claude Code drew; once approved, the question is answered."""
    version, path = claude
    claude_home(home, fake_sso, bedrock, token_minutes=120, refreshable=False)
    assert home.run([creds_bin, "setup", "claude", "--profile", "dev"]).returncode == 0
    past_first_run(home, version)
    tmux = Tmux(home, f"{path} 2>{home.root}/claude.stderr", "mid-" + version.replace(".", "-"))
    try:
        assert tmux.wait_for(lambda s: f"Claude Code v{version}" in s and "❯" in s, 60), tmux.screen()
        time.sleep(1)
        tmux.keys("say hi", "Enter")
        assert tmux.wait_for(lambda s: TEXT in s, 60), tmux.screen()
        # Claude Code has been drawing for a while (creds writes to the terminal only before),
        # and its start-up awsAuthRefresh (run at every start: with no AWS_PROFILE its own
        # default chain finds nothing) is more than 30 s old, after which it runs it again.
        time.sleep(max(0.0, 32 - (time.monotonic() - tmux.started)))
        # The session ends: Bedrock refuses the key, the SSO token expires, creds' cache is gone.
        bedrock.rejected.add(exported_key(home, creds_bin, "dev"))
        token = json.loads(token_path(home).read_text())
        token["expiresAt"] = stamp(-5)
        token_path(home).write_text(json.dumps(token))
        assert home.run([creds_bin, "cache", "clear", "--all"]).returncode == 0
        fake_sso.configure(pending=100000)
        tmux.keys("say hi again", "Enter")
        shown = tmux.wait_for(lambda s: "(code CODE-" in s, 40)
        assert shown, f"Claude Code {version}: the sign-in did not show:\n{tmux.screen()}"
        lines = [line for line in shown.splitlines() if "(code CODE-" in line]
        assert all(line.lstrip().startswith("│") for line in lines), f"written over Claude Code's screen:\n{shown}"
        fake_sso.configure(pending=0)
        answered = tmux.wait_for(lambda s: s.count(TEXT) >= 2, 60)
        assert answered, f"Claude Code {version}: no answer after the sign-in:\n{tmux.screen()}"
    finally:
        tmux.close()


def test_claude_as_a_child_of_creds_exec_server(creds_bin, home, moto, fake_sso, bedrock, claude):
    """No settings edit at all: `creds exec --server -p cross -- claude -p hi`. Claude Code's own
    default chain reads the container endpoint; every model request is signed with creds' key."""
    claude_home(home, fake_sso, bedrock)
    home.env.update(CLAUDE_CODE_USE_BEDROCK="1", AWS_REGION="us-east-1")
    out = home.run([creds_bin, "exec", "--server", "-p", "cross", "--", str(claude[1]), "-p", "hi"], timeout=170)
    assert out.returncode == 0, out.stdout + out.stderr
    assert TEXT in out.stdout
    assert not (home.root / ".claude" / "settings.json").exists()
    key = exported_key(home, creds_bin, "cross")
    assert_signed_with(bedrock, key)
    # The commands Claude Code's agent runs inherit the endpoint (measured with `env` through
    # the Bash tool): they can ask it for the keys, as Claude Code does. The README says so.
    bedrock.bash_command = "env"
    out = home.run([creds_bin, "exec", "--server", "-p", "cross", "--", str(claude[1]), "-p", "hi",
                    "--allowedTools", "Bash(env)"], timeout=170)
    assert out.returncode == 0, out.stdout + out.stderr
    env = bedrock.shell_env()
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")
    assert "AWS_CONTAINER_AUTHORIZATION_TOKEN" in env and "AWS_SECRET_ACCESS_KEY" not in env


def test_bearer_mode_claude_code_holds_only_a_bedrock_token(creds_bin, home, moto, fake_sso, bedrock, claude):
    """`setup claude --bearer`: every model request carries a Bedrock token that verifies for
    the credentials creds holds, and none a SigV4 signature; when the fake answers 401 to a
    token, Claude Code runs the helper again and goes on with a new valid one. (Answered 403
    instead, neither version runs the helper again: measured with `fake.revoke_status = 403`,
    2.1.197 exits with "Failed to authenticate. API Error: 403", 2.1.332 with "AWS
    authentication failed · run `creds login --profile dev` and retry".)"""
    version, _ = claude
    claude_home(home, fake_sso, bedrock)
    setup = home.run([creds_bin, "setup", "claude", "--profile", "dev", "--bearer", "--region", "us-east-1",
                      "--model", "us.anthropic.claude-haiku-4-5-20251001-v1:0"])
    assert setup.returncode == 0, setup.stderr
    settings = json.loads((home.root / ".claude" / "settings.json").read_text())
    assert "awsCredentialExport" not in settings and "bedrock-token" in settings["apiKeyHelper"]
    process = json.loads(home.run([creds_bin, "export", "--profile", "dev"]).stdout)
    bedrock.secrets[process["AccessKeyId"]] = process["SecretAccessKey"]
    out = run_claude(home, claude)
    assert out.returncode == 0, out.stdout + out.stderr
    assert TEXT in out.stdout
    requests = bedrock.model_requests()
    assert requests and all(r[2] is None for r in requests), bedrock.requests
    assert all("us.anthropic.claude-haiku-4-5-20251001-v1" in r[1] for r in requests), requests
    assert bedrock.tokens and all(why is None for _, why in bedrock.tokens), bedrock.tokens
    # Revoked: the first token of the next session gets a 401; Claude Code runs the helper
    # again and goes on with a new token that verifies.
    count = len(bedrock.tokens)
    bedrock.revoke_first = True
    again = run_claude(home, claude)
    assert again.returncode == 0, f"Claude Code {version}:\n" + again.stdout + again.stderr
    assert TEXT in again.stdout
    later = bedrock.tokens[count:]
    revoked = later[0][0]
    assert revoked in bedrock.revoked
    fresh = [(t, why) for t, why in later if t != revoked]
    assert fresh and all(why is None for _, why in fresh), later
    helper_runs = len({t for t, _ in later})
    print(f"Claude Code {version} bearer mode: after a 401, {len(later)} token requests, {helper_runs} distinct tokens")


def test_the_agents_shell_is_marked_and_holds_no_aws_keys_in_bearer_mode(creds_bin, home, moto, fake_sso, bedrock, claude):
    """Measured through Claude Code's own Bash tool (the fake Bedrock asks it to run `env`):
    the agent's commands carry CLAUDECODE=1, which creds' login guard reads, and in bearer mode
    no AWS secret key or session token."""
    version, _ = claude
    claude_home(home, fake_sso, bedrock)
    setup = home.run([creds_bin, "setup", "claude", "--profile", "dev", "--bearer", "--region", "us-east-1",
                      "--model", "us.anthropic.claude-haiku-4-5-20251001-v1:0"])
    assert setup.returncode == 0, setup.stderr
    process = json.loads(home.run([creds_bin, "export", "--profile", "dev"]).stdout)
    bedrock.secrets[process["AccessKeyId"]] = process["SecretAccessKey"]
    bedrock.bash_command = "env"
    out = home.run([str(claude[1]), "-p", "hi", "--allowedTools", "Bash(env)"], timeout=170)
    assert out.returncode == 0, out.stdout + out.stderr
    assert bedrock.tool_results, f"Claude Code {version} ran no Bash tool: {out.stdout}{out.stderr}"
    env = bedrock.shell_env()
    assert env.get("CLAUDECODE") == "1", sorted(env)
    # The agent's shell has the entry point too: only CLAUDECODE tells it from a hook.
    assert "CLAUDE_CODE_ENTRYPOINT" in env, sorted(env)
    for secret in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK"):
        assert secret not in env, f"{secret} reached the agent's shell"
    assert process["SecretAccessKey"] not in bedrock.tool_results[0]
    markers = sorted(k for k in env if k.startswith(("CLAUDE", "AWS_", "ANTHROPIC")))
    print(f"Claude Code {version} Bash tool environment: {markers}")


def test_the_agents_shell_holds_no_aws_keys_in_sigv4_mode_either(creds_bin, home, moto, fake_sso, bedrock, claude):
    """SigV4 mode (awsCredentialExport), measured through the Bash tool as above: Claude Code
    keeps what creds exported to itself; the commands its agent runs get no AWS keys. The
    modes differ in what Claude Code itself holds: role credentials, or a Bedrock-only token."""
    version, _ = claude
    claude_home(home, fake_sso, bedrock)
    assert home.run([creds_bin, "setup", "claude", "--profile", "dev"]).returncode == 0
    process = json.loads(home.run([creds_bin, "export", "--profile", "dev", "--format", "process"]).stdout)
    bedrock.bash_command = "env"
    out = home.run([str(claude[1]), "-p", "hi", "--allowedTools", "Bash(env)"], timeout=170)
    assert out.returncode == 0, out.stdout + out.stderr
    assert bedrock.tool_results, f"Claude Code {version} ran no Bash tool: {out.stdout}{out.stderr}"
    assert_signed_with(bedrock, process["AccessKeyId"])
    env = bedrock.shell_env()
    for secret in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK"):
        assert secret not in env, f"{secret} reached the agent's shell"
    assert process["SecretAccessKey"] not in bedrock.tool_results[0]
    assert process["SessionToken"] not in bedrock.tool_results[0]

def test_creds_login_from_claude_codes_bash_tool_starts_no_sign_in(creds_bin, home, moto, fake_sso, bedrock, claude):
    """The guard end to end: Claude Code's agent runs `creds login --force` through its Bash
    tool; creds starts no sign-in (no device authorization) and exits 4 with its one line."""
    version, _ = claude
    claude_home(home, fake_sso, bedrock)
    assert home.run([creds_bin, "setup", "claude", "--profile", "dev"]).returncode == 0
    bedrock.bash_command = f"{creds_bin} login --profile dev --force; echo exit=$?"
    out = home.run([str(claude[1]), "-p", "hi", "--allowedTools", "Bash"], timeout=170)
    assert out.returncode == 0, out.stdout + out.stderr
    assert bedrock.tool_results, f"Claude Code {version} ran no Bash tool: {out.stdout}{out.stderr}"
    result = bedrock.tool_results[0]
    assert "exit=4" in result, result
    assert "creds starts none from Claude Code's Bash tool (CLAUDECODE is set)" in result, result
    assert fake_sso.count("StartDeviceAuthorization") == 0



def test_bearer_mode_with_a_session_that_needs_a_person(creds_bin, home, moto, fake_sso, bedrock, claude):
    """Bearer mode, an IAM Identity Center session over and not renewable: the helper fails
    with creds' one line (exit 4). Measured on both versions: Claude Code then sends a bare
    `Authorization: Bearer`, which Bedrock refuses (403), and never runs `awsAuthRefresh` in
    this mode, not even after the 403 (a wrapper records each run); 2.1.332's message names the
    awsAuthRefresh command. So in bearer mode a person signs in with `creds login`."""
    version, _ = claude
    claude_home(home, fake_sso, bedrock, token_minutes=-5, refreshable=False)
    setup = home.run([creds_bin, "setup", "claude", "--profile", "dev", "--bearer", "--region", "us-east-1",
                      "--model", "us.anthropic.claude-haiku-4-5-20251001-v1:0"])
    assert setup.returncode == 0, setup.stderr
    path = home.root / ".claude" / "settings.json"
    settings = json.loads(path.read_text())
    assert settings["awsAuthRefresh"].endswith("login --profile dev")
    runs = home.root / "refresh-runs"
    settings["awsAuthRefresh"] = f"echo ran >> {runs}; {settings['awsAuthRefresh']}"
    path.write_text(json.dumps(settings))
    fake_sso.configure(deny=True)  # a sign-in, were one started, is denied rather than left waiting
    out = run_claude(home, claude)
    said = out.stdout + out.stderr
    assert out.returncode == 1 and TEXT not in out.stdout, said
    assert "apiKeyHelper failed: exited 4: creds: profile `dev` (sso-session `corp`)" in said, said
    assert "run `creds login --profile dev`" in said, said
    assert bedrock.tokens and all(token == "" for token, _ in bedrock.tokens), bedrock.tokens
    assert not runs.exists(), f"Claude Code {version} ran awsAuthRefresh in bearer mode"
    assert fake_sso.count("StartDeviceAuthorization") == 0
    # doctor says how to sign in in this mode, and asks for no awsAuthRefresh.
    doctor = home.run([creds_bin, "doctor", "--profile", "dev"])
    assert "claude code: when the session needs a person, run `creds login --profile dev` in a terminal: Claude Code runs no awsAuthRefresh in bearer mode" in doctor.stdout, doctor.stdout
    assert "no awsAuthRefresh for" not in doctor.stdout, doctor.stdout
    print(f"Claude Code {version} bearer mode, session over: exit {out.returncode}, "
          f"{len(bedrock.model_requests())} refused requests, said {said.strip().splitlines()[0]!r}")


def test_aws_profile_beside_the_export_does_not_replace_it(creds_bin, home, moto, fake_sso, bedrock, claude):
    """AWS_PROFILE in the settings' env (as an organization's managed settings may set it)
    beside awsCredentialExport: measured on both versions, Bedrock requests are still signed
    with what creds exports, not with the other profile; `doctor` names the mismatch."""
    version, _ = claude
    claude_home(home, fake_sso, bedrock)
    home.config(CONFIG + "\n[profile other]\naws_access_key_id = AKIAOTHERPROFILE0001\naws_secret_access_key = x\nregion = us-east-1\n")
    assert home.run([creds_bin, "setup", "claude", "--profile", "dev"]).returncode == 0
    path = home.root / ".claude" / "settings.json"
    settings = json.loads(path.read_text())
    settings["env"]["AWS_PROFILE"] = "other"
    path.write_text(json.dumps(settings))
    out = run_claude(home, claude)
    assert out.returncode == 0 and TEXT in out.stdout, out.stdout + out.stderr
    assert_signed_with(bedrock, exported_key(home, creds_bin, "dev"))
    doctor = home.run([creds_bin, "doctor", "--profile", "dev"])
    assert "awsCredentialExport exports profile `dev` but AWS_PROFILE is `other`" in doctor.stdout, doctor.stdout
