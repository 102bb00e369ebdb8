"""A test-side verifier of Bedrock short-term API keys: decodes a token and checks its SigV4
presign with botocore's signer (the one AWS's Python generator uses), given the secret key of
the credentials it claims. Used by the tests and by the fake Bedrock."""

import base64
import datetime
import urllib.parse
from unittest import mock

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PREFIX = "bedrock-api-key-"


def decode(token):
    """The presigned URL of `token` and its query as a dict (decoded values)."""
    assert token.startswith(PREFIX), token[:20]
    url = base64.b64decode(token[len(PREFIX):]).decode()
    assert url.endswith("&Version=1"), url
    host_path, query = url.split("?", 1)
    assert host_path == "bedrock.amazonaws.com/", url
    return url, dict(urllib.parse.parse_qsl(query, keep_blank_values=True))


def presign(access_key, secret_key, session_token, region, when, expires):
    """The token botocore's SigV4QueryAuth makes at `when` (a naive UTC datetime)."""
    request = AWSRequest(method="POST", url="https://bedrock.amazonaws.com/",
                         headers={"host": "bedrock.amazonaws.com"},
                         params={"Action": "CallWithBearerToken"})
    creds = Credentials(access_key, secret_key, session_token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4QueryAuth(creds, "bedrock", region, expires=expires).add_auth(request)
    url = request.url.replace("https://", "") + "&Version=1"
    return PREFIX + base64.b64encode(url.encode()).decode()


def verify(token, secret_for, now=None):
    """Checks `token` as Bedrock would: the action, the service, `Version=1`, a lifetime of at
    most 12 hours that has not run out at `now`, and the signature, recomputed with the secret
    key `secret_for(access_key_id)` returns. Returns the decoded query; raises AssertionError."""
    url, q = decode(token)
    assert q["Action"] == "CallWithBearerToken", url
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256", url
    assert q["X-Amz-SignedHeaders"] == "host", url
    access_key, day, region, service, terminator = q["X-Amz-Credential"].split("/")
    assert (service, terminator) == ("bedrock", "aws4_request"), url
    when = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    assert day == when.strftime("%Y%m%d"), url
    expires = int(q["X-Amz-Expires"])
    assert 1 <= expires <= 43200, url
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert when - datetime.timedelta(minutes=5) <= now < when + datetime.timedelta(seconds=expires), (now, url)
    again = presign(access_key, secret_for(access_key), q.get("X-Amz-Security-Token"), region, when, expires)
    assert decode(again)[1]["X-Amz-Signature"] == q["X-Amz-Signature"], "the signature does not verify"
    return q
