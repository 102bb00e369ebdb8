"""`creds export -f bedrock-token` against real components: credentials from moto's STS, the
token verified with botocore's signer, and compared with what AWS's own generator
(`aws-bedrock-token-generator`) makes of the same credentials."""

import datetime
import json

from aws_bedrock_token_generator import BedrockTokenGenerator
from botocore.credentials import Credentials

import bedrock_token
from test_interop import chain_config


def export(home, creds_bin, profile, fmt):
    out = home.run([creds_bin, "export", "-p", profile, "-f", fmt])
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_token_from_assumed_role_credentials_verifies_and_lasts_their_life_less_min_ttl(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    process = json.loads(export(home, creds_bin, "hop2", "process"))
    out = export(home, creds_bin, "hop2", "bedrock-token")
    assert out.endswith("\n") and out.count("\n") == 1
    token = out.strip()
    q = bedrock_token.verify(token, lambda key: process["SecretAccessKey"] if key == process["AccessKeyId"] else None)
    assert q["X-Amz-Security-Token"] == process["SessionToken"]
    assert "/us-east-1/bedrock/" in q["X-Amz-Credential"]
    # moto's role credentials last an hour; the token an hour less --min-ttl (15 minutes),
    # counted from its own X-Amz-Date.
    expiration = datetime.datetime.strptime(process["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    signed = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    assert int(q["X-Amz-Expires"]) == int((expiration - signed).total_seconds()) - 15 * 60
    # The JSON form carries the same kind of token, alone.
    doc = json.loads(export(home, creds_bin, "hop2", "bedrock-token-json"))
    assert list(doc) == ["token"]
    bedrock_token.verify(doc["token"], lambda key: process["SecretAccessKey"])


def test_a_token_is_what_awss_generator_makes_of_the_same_credentials(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    token = export(home, creds_bin, "base", "bedrock-token").strip()
    _, q = bedrock_token.decode(token)
    # Long-term keys: the 12-hour cap, as the generator's default.
    assert q["X-Amz-Expires"] == "43200"
    assert "X-Amz-Security-Token" not in q
    when = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    from unittest import mock
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        theirs = BedrockTokenGenerator().get_token(
            Credentials("AKIAINTEROPBASE00001", "interop-base-secret"), "us-east-1")
    assert token == theirs


def test_a_token_from_a_session_matches_the_generator_too(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    process = json.loads(export(home, creds_bin, "hop1", "process"))
    token = export(home, creds_bin, "hop1", "bedrock-token").strip()
    _, q = bedrock_token.decode(token)
    when = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    theirs = bedrock_token.presign(process["AccessKeyId"], process["SecretAccessKey"], process["SessionToken"],
                                   "us-east-1", when, int(q["X-Amz-Expires"]))
    assert token == theirs


def test_doctor_check_in_bearer_mode_mints_a_token_and_says_until_when(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    setup = home.run([creds_bin, "setup", "claude", "--profile", "hop2", "--bearer", "--region", "us-east-1"])
    assert setup.returncode == 0, setup.stderr
    doctor = home.run([creds_bin, "doctor", "--profile", "hop2", "--check"])
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "as apiKeyHelper (bearer mode" in doctor.stdout, doctor.stdout
    line = next(l for l in doctor.stdout.splitlines() if l.startswith("check: a Bedrock token"))
    # moto's role credentials last an hour: the token 45 minutes less the seconds since.
    seconds = lambda text: int(text.rsplit("(", 1)[1].rstrip("s)"))
    assert 2640 <= seconds(line) <= 2700, line
    assert "bedrock-api-key" not in doctor.stdout + doctor.stderr
    report = json.loads(home.run([creds_bin, "doctor", "--profile", "hop2", "--check", "--json"]).stdout)
    assert 2640 <= seconds(report["check"]["bedrock_token_until"]) <= 2700, report["check"]
