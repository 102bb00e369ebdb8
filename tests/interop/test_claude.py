"""The real Claude Code (npm @anthropic-ai/claude-code, run offline) against a fake Bedrock
Runtime, with its settings written by `creds setup`: every Bedrock request must be signed with
the access key id that `creds export` prints, and upstream calls stay at one per hop. Every
test runs on the oldest supported Claude Code and on the newest, installed side by side."""

import json
import subprocess
from pathlib import Path

import pytest

from fake_bedrock import TEXT, FakeBedrock
from test_sso import SSO_CONFIG, stamp, token_path

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


@pytest.fixture
def bedrock():
    fake = FakeBedrock()
    yield fake
    fake.close()


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
    # creds fetched the role credentials once; with awsAuthRefresh set, Claude Code also probes
    # its own default chain (AWS_PROFILE), which makes its own SSO calls.
    assert fake_sso.count_by("GetRoleCredentials", "aws-sdk-rust") == 1


def test_cross_account_chain_on_sso(creds_bin, home, moto, fake_sso, bedrock, claude):
    claude_home(home, fake_sso, bedrock)
    assert home.run([creds_bin, "setup", "claude", "--profile", "cross"]).returncode == 0
    out = run_claude(home, claude)
    assert out.returncode == 0, out.stdout + out.stderr
    assert TEXT in out.stdout
    # Claude Code's own awsAuthRefresh probe resolves AWS_PROFILE through its SDK and assumes
    # the role itself too (moto cannot tell the callers apart); creds' own export afterwards is
    # a cache hit, and every Bedrock request carries creds' key.
    assumed = moto.count(ROLE)
    assert assumed >= 1
    key = exported_key(home, creds_bin, "cross")
    assert moto.count(ROLE) == assumed, "creds answered from its cache"
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
