"""creds against real, independent components: moto's STS, and boto3, the AWS CLI v2 and the
AWS SDK for JavaScript v3 as consumers of `credential_process = creds export ...`."""

import datetime
import json
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

AWS_CLI = "/usr/bin/aws"  # Debian's AWS CLI v2 (a pip-installed v1 `aws` may come first on PATH)
JS_DIR = Path(__file__).resolve().parent / "js"
ROLE_A = "arn:aws:iam::111111111111:role/InteropA"
ROLE_B = "arn:aws:iam::222222222222:role/InteropB"
EXPECTED_ARN = "arn:aws:sts::222222222222:assumed-role/InteropB/interop-b"


def chain_config(creds_bin):
    return f"""\
[profile base]
aws_access_key_id = AKIAINTEROPBASE00001
aws_secret_access_key = interop-base-secret

[profile hop1]
role_arn = {ROLE_A}
source_profile = base
role_session_name = interop-a

[profile hop2]
role_arn = {ROLE_B}
source_profile = hop1
role_session_name = interop-b

[profile consumer]
region = us-east-1
credential_process = {shlex.quote(creds_bin)} export --profile hop2 --format process
"""


def test_aws_cli_v2_consumer(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    version = home.run([AWS_CLI, "--version"])
    assert version.stdout.startswith("aws-cli/2."), version.stdout + version.stderr
    out = home.run([AWS_CLI, "sts", "get-caller-identity", "--profile", "consumer", "--endpoint-url", moto.url, "--output", "json"])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"] == EXPECTED_ARN
    # The CLI runs the process for every command; the second is a cache hit in creds.
    out = home.run([AWS_CLI, "sts", "get-caller-identity", "--profile", "consumer", "--endpoint-url", moto.url, "--output", "json"])
    assert out.returncode == 0, out.stderr
    assert (moto.count(ROLE_A), moto.count(ROLE_B)) == (1, 1)


BOTO3_CALLER = """
import json, sys, boto3
session = boto3.Session(profile_name="consumer")
identity = session.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1").get_caller_identity()
frozen = session.get_credentials()
print(json.dumps({"Arn": identity["Arn"], "AccessKeyId": frozen.access_key, "Refreshable": hasattr(frozen, "_expiry_time") and frozen._expiry_time is not None}))
"""


def test_boto3_consumer(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    out = home.run([sys.executable, "-c", BOTO3_CALLER, moto.url])
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["Arn"] == EXPECTED_ARN
    assert got["AccessKeyId"].startswith("ASIA")
    assert got["Refreshable"], "botocore saw an Expiration and treats the credentials as refreshable"
    assert (moto.count(ROLE_A), moto.count(ROLE_B)) == (1, 1)


def test_javascript_sdk_consumer(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    home.env.update(AWS_PROFILE="consumer", STS_ENDPOINT=moto.url)
    out = home.run(["node", str(JS_DIR / "caller.mjs")], cwd=JS_DIR)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["Arn"] == EXPECTED_ARN
    assert got["Expiration"].endswith("Z")
    assert (moto.count(ROLE_A), moto.count(ROLE_B)) == (1, 1)


def test_consumers_share_one_cache(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    home.env.update(AWS_PROFILE="consumer", STS_ENDPOINT=moto.url)
    for args in ([AWS_CLI, "sts", "get-caller-identity", "--profile", "consumer", "--endpoint-url", moto.url], [sys.executable, "-c", BOTO3_CALLER, moto.url], ["node", str(JS_DIR / "caller.mjs")]):
        out = home.run(args, cwd=JS_DIR)
        assert out.returncode == 0, out.stderr
        assert EXPECTED_ARN in out.stdout
    assert (moto.count(ROLE_A), moto.count(ROLE_B)) == (1, 1)


def test_env_format_feeds_a_shell(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    script = f'eval "$({shlex.quote(creds_bin)} export --profile hop2 --format env)" && {AWS_CLI} sts get-caller-identity --endpoint-url {moto.url} --output json'
    out = home.run(["sh", "-c", script])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"] == EXPECTED_ARN


def test_claude_format_uses_get_session_token(creds_bin, home, moto):
    home.config("[default]\naws_access_key_id = AKIAINTEROPLONG00001\naws_secret_access_key = long-term-secret\n")
    out = home.run([creds_bin, "export", "--format", "claude"])
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert list(doc) == ["Credentials"]
    c = doc["Credentials"]
    assert list(c) == ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    assert c["AccessKeyId"] != "AKIAINTEROPLONG00001" and c["SessionToken"]
    assert c["Expiration"].endswith("Z")


def run_many(home, creds_bin, n=50):
    def one(_):
        return home.run([creds_bin, "export", "--profile", "hop2"])

    with ThreadPoolExecutor(max_workers=n) as pool:
        outs = list(pool.map(one, range(n)))
    for o in outs:
        assert o.returncode == 0, o.stderr
    assert len({o.stdout for o in outs}) == 1, "every caller printed the same credentials"
    return outs[0].stdout


def test_fifty_concurrent_callers_one_call_per_hop(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    cold = run_many(home, creds_bin)
    assert (moto.count(ROLE_A), moto.count(ROLE_B)) == (1, 1), "cold cache"

    # Make the top hop stale (5 minutes left, under the 15-minute --min-ttl).
    home.age(ROLE_B, datetime.timedelta(minutes=5))
    stale = run_many(home, creds_bin)
    assert (moto.count(ROLE_A), moto.count(ROLE_B)) == (1, 2), "stale cache: only the stale hop, once"
    assert stale != cold


def test_release_binary_ignores_a_test_clock_in_the_environment(creds_bin, home, moto):
    """A release binary has no test clock: `_CREDS_TEST_NOW` two days ahead must neither make a
    fresh entry look expired (an upstream call) nor change what is printed."""
    home.config(chain_config(creds_bin))
    first = home.run([creds_bin, "export", "--profile", "hop2"])
    assert first.returncode == 0, first.stderr
    assert (moto.count(ROLE_A), moto.count(ROLE_B)) == (1, 1)
    ahead = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    env = dict(home.env, _CREDS_TEST_NOW=ahead.strftime("%Y-%m-%dT%H:%M:%SZ"))
    again = subprocess.run([creds_bin, "-v", "export", "--profile", "hop2"], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert "cached, expires" in again.stderr, again.stderr
    assert (moto.count(ROLE_A), moto.count(ROLE_B)) == (1, 1), "no upstream call"
    # And the other way: a clock set in the past does not resurrect what has expired.
    home.age("InteropB", datetime.timedelta(minutes=5))
    behind = dict(home.env, _CREDS_TEST_NOW="2020-01-01T00:00:00Z")
    third = subprocess.run([creds_bin, "export", "--profile", "hop2"], env=behind, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert third.returncode == 0, third.stderr
    assert (moto.count(ROLE_A), moto.count(ROLE_B)) == (1, 2), "the stale top hop was fetched again"


def test_doctor_check_against_moto(creds_bin, home, moto):
    """`creds doctor --check` exports, then asks (moto's) STS who the credentials are, with the
    clock skew read from the reply's Date header."""
    home.config(chain_config(creds_bin))
    out = home.run([creds_bin, "doctor", "--profile", "hop2", "--check", "--json"])
    assert out.returncode == 0, out.stdout + out.stderr
    check = json.loads(out.stdout)["check"]
    assert check["arn"] == EXPECTED_ARN, check
    assert check["account"] == "222222222222" or check["account"].isdigit(), check
    assert check["clock_skew_seconds"] is not None and abs(check["clock_skew_seconds"]) < 60, check


def test_web_identity_against_moto(creds_bin, home, moto, tmp_path):
    """A web identity profile (STS AssumeRoleWithWebIdentity, unsigned) alone and as the base of a
    role chain, against moto; boto3 consumes the chain through credential_process."""
    token = tmp_path / "oidc-token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmNyZWRzIn0.c2lnbmF0dXJl")
    home.config(f"""\
[profile ci]
role_arn = arn:aws:iam::111111111111:role/GithubCi
web_identity_token_file = {token}
role_session_name = gh-run

[profile deploy]
role_arn = {ROLE_B}
source_profile = ci
role_session_name = interop-b

[profile consumer]
region = us-east-1
credential_process = {shlex.quote(creds_bin)} export --profile deploy --format process
""")
    alone = home.run([creds_bin, "export", "--profile", "ci"])
    assert alone.returncode == 0, alone.stderr
    assert json.loads(alone.stdout)["SessionToken"]
    out = home.run([sys.executable, "-c", BOTO3_CALLER, moto.url])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"] == EXPECTED_ARN
    cli = home.run([AWS_CLI, "sts", "get-caller-identity", "--profile", "consumer", "--endpoint-url", moto.url, "--output", "json"])
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["Arn"] == EXPECTED_ARN
    assert moto.count(ROLE_B) == 1, "the AWS CLI was served from the cache"


def test_mfa_chain_against_moto(creds_bin, home, moto, tmp_path):
    """An MFA role over long-term keys (mfa_process prints the code), consumed by boto3 and the
    AWS CLI v2 through credential_process: one MFA session for both."""
    helper = tmp_path / "mfa.sh"
    helper.write_text("#!/bin/sh\necho run >> \"$0.log\"\necho 123456\n")
    home.config(f"""\
[profile base]
aws_access_key_id = AKIAINTEROPBASE00001
aws_secret_access_key = interop-base-secret

[profile hop2]
role_arn = {ROLE_B}
source_profile = base
role_session_name = interop-b
mfa_serial = arn:aws:iam::000000000000:mfa/interop
mfa_process = sh {helper}

[profile consumer]
region = us-east-1
credential_process = {shlex.quote(creds_bin)} export --profile hop2 --format process
""")
    out = home.run([sys.executable, "-c", BOTO3_CALLER, moto.url])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"] == EXPECTED_ARN
    cli = home.run([AWS_CLI, "sts", "get-caller-identity", "--profile", "consumer", "--endpoint-url", moto.url, "--output", "json"])
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["Arn"] == EXPECTED_ARN
    assert (tmp_path / "mfa.sh.log").read_text().count("run") == 1, "one code for both consumers"
    assert moto.count(ROLE_B) == 1


def test_sts_calls_go_through_a_proxy_with_credentials(creds_bin, home, moto, proxy):
    port, log = proxy
    home.config(chain_config(creds_bin))
    forwarded = lambda: log.read_text().count(f"POST {moto.url}/")  # noqa: E731
    env = dict(home.env, HTTP_PROXY=f"http://user:s3cret@127.0.0.1:{port}")
    out = subprocess.run([creds_bin, "export", "--profile", "hop2", "--no-cache"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert forwarded() == 2, "both AssumeRole calls went through the proxy"
    # Lower case works too; NO_PROXY takes the endpoint out.
    env = dict(home.env, http_proxy=f"http://user:s3cret@127.0.0.1:{port}")
    assert subprocess.run([creds_bin, "export", "--profile", "hop2", "--no-cache"], env=env, capture_output=True, timeout=60).returncode == 0
    assert forwarded() == 4
    env = dict(home.env, HTTP_PROXY=f"http://user:s3cret@127.0.0.1:{port}", NO_PROXY="127.0.0.1")
    assert subprocess.run([creds_bin, "export", "--profile", "hop2", "--no-cache"], env=env, capture_output=True, timeout=60).returncode == 0
    assert forwarded() == 4, "NO_PROXY: not through the proxy"
    # A proxy that refuses (wrong password) is a network failure that says to check the proxy.
    env = dict(home.env, HTTP_PROXY=f"http://user:wrong@127.0.0.1:{port}")
    out = subprocess.run([creds_bin, "export", "--profile", "hop2", "--no-cache"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 6, out.stderr
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1, out.stderr
    # Named (issue 17, item 9): the proxy, the variable, its refusal; never the password.
    assert f"the proxy http://user:***@127.0.0.1:{port} (from HTTP_PROXY) refused the credentials in HTTP_PROXY (HTTP 401" in out.stderr, out.stderr
    assert "wrong" not in out.stderr
    # Through a CONNECT tunnel (https), with and without credentials.
    for proxy_url, said in [(f"http://user:wrong@127.0.0.1:{port}", "refused the credentials in HTTPS_PROXY (HTTP 401"),
                            (f"http://127.0.0.1:{port}", "asks for credentials (HTTP 407")]:
        env = dict(home.env, HTTPS_PROXY=proxy_url, AWS_ENDPOINT_URL_STS="https://127.0.0.1:1")
        out = subprocess.run([creds_bin, "export", "--profile", "hop2", "--no-cache"], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 6, out.stderr
        assert "(from HTTPS_PROXY) " + said in out.stderr, out.stderr
        assert "tunnel error" not in out.stderr
