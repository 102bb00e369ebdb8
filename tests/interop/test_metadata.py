"""`credential_source = Ec2InstanceMetadata | EcsContainer` as the base of a role chain on moto,
against the tests' fake IMDSv2 and container endpoint (fake_metadata.py); metadata calls never
go through a proxy, while STS calls do."""

import json
import shlex
import sys

import pytest

from fake_metadata import FakeMetadata

ROLE_B = "arn:aws:iam::222222222222:role/InteropB"
EXPECTED_ARN = "arn:aws:sts::222222222222:assumed-role/InteropB/interop-b"
BOTO3_CALLER = """
import json, sys, boto3
sts = boto3.Session(profile_name="consumer").client("sts", endpoint_url=sys.argv[1])
print(json.dumps(sts.get_caller_identity()))
"""


@pytest.fixture
def metadata():
    server = FakeMetadata()
    yield server
    server.close()


def config(creds_bin, source):
    return f"""\
[profile box]
role_arn = {ROLE_B}
credential_source = {source}
role_session_name = interop-b

[profile consumer]
region = us-east-1
credential_process = {shlex.quote(creds_bin)} export --profile box --format process
"""


def test_instance_metadata_is_the_base_of_a_role_chain(creds_bin, home, moto, metadata, proxy):
    home.config(config(creds_bin, "Ec2InstanceMetadata"))
    port, proxy_log = proxy
    del home.env["AWS_EC2_METADATA_DISABLED"]
    home.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = metadata.url
    proxied = dict(home.env, HTTP_PROXY=f"http://user:s3cret@127.0.0.1:{port}")
    first = home.run([creds_bin, "export", "--profile", "box"], env=proxied)
    assert first.returncode == 0, first.stderr
    # IMDSv2: a session token first, then every GET carried it.
    assert metadata.log[0] == ("PUT", "/latest/api/token", True), metadata.log
    assert [p for m, p, ok in metadata.log if m == "GET"] == [
        "/latest/meta-data/iam/security-credentials/",
        "/latest/meta-data/iam/security-credentials/interop-instance-role",
    ], metadata.log
    assert all(ok for _, _, ok in metadata.log), metadata.log
    # The role was assumed with the instance's credentials, through the proxy; the metadata
    # service was reached directly.
    assert moto.count(ROLE_B) == 1
    text = proxy_log.read_text()
    assert text.count(f"POST {moto.url}/") == 1, text
    assert metadata.url not in text, "metadata calls never go through a proxy"
    # boto3 through credential_process is served from the cache.
    out = home.run([sys.executable, "-c", BOTO3_CALLER, moto.url])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"] == EXPECTED_ARN
    # Both hops are cached: a second consumer calls neither.
    calls = len(metadata.log)
    again = home.run([creds_bin, "export", "--profile", "box"])
    assert again.returncode == 0, again.stderr
    assert len(metadata.log) == calls and moto.count(ROLE_B) == 1
    _, entry = home.entry("instance-metadata")
    assert entry["Credentials"]["AccessKeyId"] in metadata.issued
    # doctor names the endpoint and where it came from, and no secret.
    doctor = home.run([creds_bin, "doctor", "--profile", "box"])
    assert f"instance-metadata {metadata.url}" in doctor.stdout, doctor.stdout
    assert "AWS_EC2_METADATA_SERVICE_ENDPOINT" in doctor.stdout, doctor.stdout
    # Turned off: exit 3, nothing on stdout.
    home.env["AWS_EC2_METADATA_DISABLED"] = "true"
    off = home.run([creds_bin, "export", "--profile", "box", "--no-cache"])
    assert (off.returncode, off.stdout) == (3, ""), off.stderr
    assert "AWS_EC2_METADATA_DISABLED" in off.stderr


def test_container_credentials_are_the_base_of_a_role_chain(creds_bin, home, moto, metadata, tmp_path):
    home.config(config(creds_bin, "EcsContainer"))
    token = tmp_path / "eks-pod-identity-token"
    token.write_text(metadata.container_token)
    home.env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=metadata.url + "/v2/credentials/task-1",
                    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token))
    out = home.run([sys.executable, "-c", BOTO3_CALLER, moto.url])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"] == EXPECTED_ARN
    assert metadata.log == [("GET", "/v2/credentials/task-1", True)]
    assert moto.count(ROLE_B) == 1
    _, entry = home.entry("container")
    assert entry["Credentials"]["AccessKeyId"] in metadata.issued
    # The token from the variable when there is no file; a wrong one is refused clearly.
    del home.env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    home.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "wrong"
    bad = home.run([creds_bin, "export", "--profile", "box", "--no-cache"])
    assert (bad.returncode, bad.stdout) == (5, ""), bad.stderr
    assert metadata.log[-1] == ("GET", "/v2/credentials/task-1", False)
    assert "profile `box` (credential_source = EcsContainer)" in bad.stderr, bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "refused" in bad.stderr and "AWS_CONTAINER_AUTHORIZATION_TOKEN" in bad.stderr, bad.stderr
    home.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = metadata.container_token
    good = home.run([creds_bin, "export", "--profile", "box", "--no-cache"])
    assert good.returncode == 0, good.stderr
    # A dead endpoint fails within the provider's bounds, as a network error.
    home.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/v2/credentials/none"
    dead = home.run([creds_bin, "export", "--profile", "box", "--no-cache"], timeout=60)
    assert (dead.returncode, dead.stdout) == (6, ""), dead.stderr


def test_a_trickling_container_endpoint_is_given_up_on(creds_bin, home, moto, metadata):
    """Issue 17, item 4: an endpoint that sends its reply one byte a second restarts every
    read timeout; creds' one deadline per call (20 s) ends it with exit 6."""
    home.config(config(creds_bin, "EcsContainer"))
    home.env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=metadata.url + "/v2/credentials/trickle",
                    AWS_CONTAINER_AUTHORIZATION_TOKEN=metadata.container_token)
    slow = home.run([creds_bin, "export", "--profile", "box", "--no-cache"], timeout=90)
    assert (slow.returncode, slow.stdout) == (6, ""), slow.stderr
    assert len(slow.stderr.strip().splitlines()) == 1, slow.stderr
    assert "no complete answer within 20 s" in slow.stderr, slow.stderr
    assert metadata.url + "/v2/credentials/trickle" in slow.stderr, slow.stderr
