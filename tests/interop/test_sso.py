"""IAM Identity Center tokens shared both ways between creds and real clients: botocore/boto3
and the Debian AWS CLI v2, against the fake IAM Identity Center and moto's STS."""

import datetime
import json
import sys

AWS_CLI = "/usr/bin/aws"
CORP_TOKEN = "ee0bfd2552fbd840c02cc48b6e823320543c450f.json"  # sha1("corp")

SSO_CONFIG = """\
[sso-session corp]
sso_start_url = https://d-test.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Dev
region = us-east-1
"""

BOTO3_CALLER = """
import json, sys, boto3
session = boto3.Session(profile_name="dev")
identity = session.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1").get_caller_identity()
print(json.dumps({"Arn": identity["Arn"], "AccessKeyId": session.get_credentials().access_key}))
"""


def stamp(minutes):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def token_path(home):
    return home.root / ".aws" / "sso" / "cache" / CORP_TOKEN


def sso_home(home, fake_sso):
    home.config(SSO_CONFIG)
    home.env.update(AWS_ENDPOINT_URL_SSO=fake_sso.url, AWS_ENDPOINT_URL_SSO_OIDC=fake_sso.url)
    return home


def write_token(home, issued, minutes):
    """The token `issued` by the fake, in the AWS CLI's file, expiring in `minutes`."""
    path = token_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "startUrl": "https://d-test.awsapps.com/start", "region": "us-east-1", "accessToken": issued["accessToken"],
        "expiresAt": stamp(minutes), "clientId": "client-0", "clientSecret": "csecret-0",
        "registrationExpiresAt": stamp(60 * 24 * 30), "refreshToken": issued["refreshToken"],
    }))
    return path


def bearers(fake_sso):
    return [token for op, token in fake_sso.log() if op == "GetRoleCredentials"]


def test_botocore_written_token_is_used_and_renewed_by_creds(creds_bin, home, moto, fake_sso):
    sso_home(home, fake_sso)
    # Renewals return a new refresh token, as IAM Identity Center does (botocore drops the
    # refresh token from the file when a renewal returns none).
    fake_sso.configure(rotate=True)
    issued = fake_sso.issue()
    path = write_token(home, issued, minutes=5)
    # botocore's own SSO token provider renews the token (5 minutes left) and writes the file.
    out = home.run([sys.executable, "-c", BOTO3_CALLER, moto.url])
    assert out.returncode == 0, out.stderr
    assert fake_sso.count("CreateToken") == 1
    by_botocore = json.loads(path.read_text())
    assert by_botocore["accessToken"] != issued["accessToken"]
    assert by_botocore["refreshToken"] != issued["refreshToken"]

    # creds uses botocore's token as it is.
    out = home.run([creds_bin, "export", "--profile", "dev"])
    assert out.returncode == 0, out.stderr
    assert fake_sso.count("CreateToken") == 1
    assert bearers(fake_sso)[-1] == by_botocore["accessToken"]

    # In the refresh window again: creds renews it, in the CLI's format...
    path.write_text(path.read_text().replace(by_botocore["expiresAt"], stamp(5)))
    out = home.run([creds_bin, "export", "--profile", "dev", "--refresh"])
    assert out.returncode == 0, out.stderr
    assert fake_sso.count("CreateToken") == 2
    by_creds = json.loads(path.read_text())
    assert by_creds["accessToken"] != by_botocore["accessToken"]
    assert by_creds["refreshToken"] not in (issued["refreshToken"], by_botocore["refreshToken"]), "the rotated refresh token is saved"
    assert list(by_creds) == ["startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret", "registrationExpiresAt", "refreshToken"]

    # ...and botocore and the AWS CLI use creds' token without renewing or signing in.
    out = home.run([sys.executable, "-c", BOTO3_CALLER, moto.url])
    assert out.returncode == 0, out.stderr
    assert fake_sso.count("CreateToken") == 2
    assert bearers(fake_sso)[-1] == by_creds["accessToken"]
    home.env["AWS_DATA_PATH"] = aws_cli_data_path(home, fake_sso)
    out = home.run([AWS_CLI, "sts", "get-caller-identity", "--profile", "dev", "--endpoint-url", moto.url, "--output", "json"])
    assert out.returncode == 0, out.stderr
    assert bearers(fake_sso)[-1] == by_creds["accessToken"]
    assert fake_sso.count("CreateToken") == 2


def aws_cli_data_path(home, fake_sso):
    """AWS CLI 2.9.19 predates AWS_ENDPOINT_URL_*: its SSO portal client reaches the fake through
    an endpoint rule set on AWS_DATA_PATH."""
    data = home.root / "aws-data" / "sso" / "2019-06-10"
    data.mkdir(parents=True)
    flag = {"required": True, "default": False, "type": "Boolean"}
    (data / "endpoint-rule-set-1.json").write_text(json.dumps({
        "version": "1.0",
        "parameters": {
            "Region": {"builtIn": "AWS::Region", "required": False, "type": "String"},
            "UseDualStack": {"builtIn": "AWS::UseDualStack", **flag},
            "UseFIPS": {"builtIn": "AWS::UseFIPS", **flag},
            "Endpoint": {"builtIn": "SDK::Endpoint", "required": False, "type": "String"},
        },
        "rules": [{"conditions": [], "endpoint": {"url": fake_sso.url, "properties": {}, "headers": {}}, "type": "endpoint"}],
    }))
    return str(home.root / "aws-data")


def test_creds_login_token_serves_boto3_and_the_aws_cli(creds_bin, home, moto, fake_sso):
    sso_home(home, fake_sso)
    fake_sso.configure(pending=1)
    out = home.run([creds_bin, "login", "--profile", "dev", "--no-browser"])
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert fake_sso.count("StartDeviceAuthorization") == 1
    token = json.loads(token_path(home).read_text())

    out = home.run([sys.executable, "-c", BOTO3_CALLER, moto.url])
    assert out.returncode == 0, out.stderr
    assert bearers(fake_sso)[-1] == token["accessToken"]

    home.env["AWS_DATA_PATH"] = aws_cli_data_path(home, fake_sso)
    out = home.run([AWS_CLI, "sts", "get-caller-identity", "--profile", "dev", "--endpoint-url", moto.url, "--output", "json"])
    assert out.returncode == 0, out.stderr
    assert "Arn" in json.loads(out.stdout)
    assert bearers(fake_sso)[-1] == token["accessToken"]
    # Neither client signed in again or renewed the token.
    assert fake_sso.count("StartDeviceAuthorization") == 1
    assert fake_sso.count("CreateToken") == 2  # one pending answer, then the token


def test_sso_calls_go_through_the_proxy(creds_bin, home, moto, fake_sso, proxy):
    """IAM Identity Center's OIDC (a renewal) and portal (GetRoleCredentials) calls, and STS, go
    through a real proxy with basic auth, like every AWS call of creds."""
    sso_home(home, fake_sso)
    home.config(SSO_CONFIG + f"""
[profile hop]
role_arn = arn:aws:iam::222222222222:role/InteropB
source_profile = dev
role_session_name = interop-b
""")
    fake_sso.configure(rotate=True)
    issued = fake_sso.issue()
    path = write_token(home, issued, minutes=5)
    port, log = proxy
    env = dict(home.env, HTTP_PROXY=f"http://user:s3cret@127.0.0.1:{port}")
    out = home.run([creds_bin, "export", "--profile", "hop"], env=env)
    assert out.returncode == 0, out.stderr
    assert fake_sso.count("CreateToken") == 1 and fake_sso.count("GetRoleCredentials") == 1
    text = log.read_text()
    assert text.count(f"POST {fake_sso.url}/token") == 1, text
    assert text.count(f"GET {fake_sso.url}/federation/credentials") == 1, text
    assert text.count(f"POST {moto.url}/") == 1, text


def test_setup_sso_writes_profiles_from_the_portal(creds_bin, home, moto, fake_sso):
    """`creds setup sso` through aws-sdk-sso against the fake portal's ListAccounts and
    ListAccountRoles (two to a page, so every listing is paginated); boto3 then uses a generated
    profile with the same token."""
    sso_home(home, fake_sso)
    fake_sso.configure(accounts=[
        ["111111111111", "Dev", ["Dev", "ReadOnly"]],
        ["222222222222", "Prod", ["Admin", "ReadOnly", "Billing"]],
        ["333333333333", "Sandbox", ["PowerUser"]],
    ])
    issued = fake_sso.issue()
    write_token(home, issued, minutes=60)
    config = home.root / ".aws" / "config"
    before = config.read_text()
    out = home.run([creds_bin, "setup", "sso", "--region", "eu-central-1"])
    assert out.returncode == 0 and out.stdout == "", out.stderr
    after = config.read_text()
    assert after.startswith(before)
    names = [line[len("[profile "):-1] for line in after.splitlines() if line.startswith("[profile ")]
    assert names == ["dev", "dev-readonly", "prod-admin", "prod-billing", "prod-readonly", "sandbox-poweruser"], names
    assert fake_sso.count("ListAccounts") == 2 and fake_sso.count("ListAccountRoles") == 4
    again = home.run([creds_bin, "setup", "sso"])
    assert again.returncode == 0 and config.read_text() == after, again.stderr
    boto3 = "import boto3, json, sys; print(json.dumps(boto3.Session(profile_name='prod-billing').client('sts', endpoint_url=sys.argv[1]).get_caller_identity()))"
    out = home.run([creds_bin, "export", "--profile", "prod-billing"])
    assert out.returncode == 0, out.stderr
    got = home.run([sys.executable, "-c", boto3, moto.url])
    assert got.returncode == 0, got.stderr


def test_login_in_a_terminal_writes_each_line_once(creds_bin, home, moto, fake_sso):
    """Issue 17, item 7: `creds login` with stderr on a terminal (tmux): the long form of the
    sign-in (no one-line form besides it) and "signed in" once each; the terminal is stderr,
    so nothing is written to it a second time."""
    import shlex
    from conftest import Tmux
    sso_home(home, fake_sso)
    fake_sso.configure(pending=3)
    tmux = Tmux(home, f"{shlex.quote(creds_bin)} login --profile dev --no-browser; echo exit=$?; exec cat", "login-tty")
    try:
        screen = tmux.wait_for(lambda s: "exit=" in s, 60)
        assert screen, tmux.screen()
    finally:
        tmux.close()
    assert "exit=0" in screen, screen
    assert screen.count("creds: signed in to sso-session `corp` until") == 1, screen
    assert screen.count("Open this URL:") == 1, screen
    assert screen.count("and enter the code:") == 1, screen
    assert "(code CODE-" not in screen, f"the one-line form besides the long one:\n{screen}"


SESSION_ENDS = """
import glob, json, os, sys, urllib.request, urllib.error
uri, token = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
cache, token_file = sys.argv[1], sys.argv[2]
# The session ends: the cached role credentials expire, the SSO token expires and its refresh
# token is refused from now on.
for path in glob.glob(os.path.join(cache, "*.json")):
    entry = json.load(open(path))
    entry["Credentials"]["Expiration"] = "2001-01-01T00:00:00Z"
    open(path, "w").write(json.dumps(entry))
sso = json.load(open(token_file))
sso.update(expiresAt="2001-01-01T00:00:00Z", refreshToken="revoked-by-the-admin")
open(token_file, "w").write(json.dumps(sso))
answers = []
for _ in range(10):
    try:
        with urllib.request.urlopen(urllib.request.Request(uri, headers={"Authorization": token}), timeout=10) as r:
            answers.append([r.status, ""])
    except urllib.error.HTTPError as e:
        answers.append([e.code, json.load(e)["Message"]])
print(json.dumps(answers))
"""


def test_exec_server_whose_session_ends_asks_once_and_names_the_login(creds_bin, home, moto, fake_sso):
    """Issue 17, item 13: the SSO session ends under `creds exec --server`: one refused renewal,
    then every request answered at once with the command to run, which creds' stderr shows
    once (before, every request tried the refused refresh token again)."""
    sso_home(home, fake_sso)
    path = write_token(home, fake_sso.issue(), 120)
    out = home.run([creds_bin, "exec", "--server", "-p", "dev", "--", sys.executable, "-c", SESSION_ENDS,
                    str(home.cache), str(path)], timeout=120)
    assert out.returncode == 0, out.stderr
    answers = json.loads(out.stdout)
    assert {status for status, _ in answers} == {403}, answers
    assert all("run `creds login --profile dev`" in message for _, message in answers), answers
    assert fake_sso.count("CreateToken") == 1, "one refused renewal"
    assert out.stderr.count("creds login --profile dev") == 1, out.stderr
