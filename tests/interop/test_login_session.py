"""`login_session` (an `aws login` console session): creds reads the AWS CLI's token file and
refreshes it through aws-config's provider against a fake AWS Sign-In on 127.0.0.1 (its
`CreateOAuth2Token` checks the DPoP proof's ES256 signature with the file's key), then assumes
a role on moto with the session's credentials."""

import base64
import datetime
import hashlib
import json
import shlex
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

SESSION = "arn:aws:iam::111111111111:user/Admin"
ROLE_B = "arn:aws:iam::222222222222:role/InteropB"
EXPECTED_ARN = "arn:aws:sts::222222222222:assumed-role/InteropB/interop-b"
BOTO3_CALLER = """
import json, sys, boto3
sts = boto3.Session(profile_name="consumer").client("sts", endpoint_url=sys.argv[1])
print(json.dumps(sts.get_caller_identity()))
"""


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeSignIn:
    """AWS Sign-In's `POST /v1/token` (grant_type refresh_token): checks the refresh token and
    the DPoP proof (typ dpop+jwt, htm POST, htu this URL, ES256 by `public_key`), then issues new
    credentials for 15 minutes and a new refresh token."""

    def __init__(self, public_key, refresh_token):
        self.public_key = public_key
        self.refresh_token = refresh_token
        self.calls = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, doc, error_type=None):
                data = json.dumps(doc).encode()
                self.send_response(status)
                if error_type:
                    self.send_header("X-Amzn-ErrorType", error_type)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                proof = owner.check_dpop(self.headers.get("DPoP", ""), self.path)
                owner.calls.append((self.path, body.get("grantType"), proof))
                if self.path != "/v1/token" or proof != "ok":
                    return self._send(400, {"error": "INVALID_REQUEST", "message": proof}, "ValidationException")
                if body.get("refreshToken") != owner.refresh_token:
                    # As AWS Sign-In answers a session that is over.
                    return self._send(401, {"error": "TOKEN_EXPIRED", "message": "The refresh token is no longer valid"}, "AccessDeniedException")
                owner.refresh_token = "refresh-" + str(len(owner.calls) + 1)
                self._send(200, {
                    "accessToken": {
                        "accessKeyId": f"ASIASIGNIN{len(owner.calls):06d}",
                        "secretAccessKey": "signin-secret",
                        "sessionToken": "signin-session-token",
                    },
                    "tokenType": "aws_sigv4",
                    "expiresIn": 900,
                    "refreshToken": owner.refresh_token,
                })

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check_dpop(self, jwt, path):
        try:
            head, payload, signature = jwt.split(".")
            header = json.loads(b64url_decode(head))
            claims = json.loads(b64url_decode(payload))
            raw = b64url_decode(signature)
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            self.public_key.verify(der, f"{head}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        except Exception as e:  # noqa: BLE001 - any flaw is a refused proof
            return f"bad DPoP proof: {e!r}"
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
            return f"bad DPoP header {header}"
        if claims.get("htm") != "POST" or not claims.get("htu", "").startswith(self.url):
            return f"bad DPoP claims {claims}"
        return "ok"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def login(home, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    server = FakeSignIn(key.public_key(), "refresh-1")
    cache = tmp_path / ".aws" / "login" / "cache"
    cache.mkdir(parents=True)
    path = cache / (hashlib.sha256(SESSION.encode()).hexdigest() + ".json")
    home.env["AWS_ENDPOINT_URL_SIGNIN"] = server.url
    yield server, path, pem
    server.close()


def token_file(pem, expires):
    return json.dumps({
        "accessToken": {
            "accessKeyId": "ASIAOLDSESSION000001",
            "secretAccessKey": "old-secret",
            "sessionToken": "old-session-token",
            "accountId": "111111111111",
            "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "tokenType": "aws_sigv4",
        "refreshToken": "refresh-1",
        "idToken": "eyJhbGciOiJub25lIn0.e30.",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "dpopKey": pem,
    }, indent=2)


def test_aws_login_session_is_refreshed_and_is_the_base_of_a_role_chain(creds_bin, home, moto, login):
    server, path, pem = login
    home.config(f"""\
[profile console]
login_session = {SESSION}
region = us-east-1

[profile admin]
role_arn = {ROLE_B}
source_profile = console
role_session_name = interop-b

[profile consumer]
region = us-east-1
credential_process = {shlex.quote(creds_bin)} export --profile admin --format process
""")
    # No session yet: exit 4, the file named, and the AWS CLI's command to run.
    out = home.run([creds_bin, "export", "--profile", "admin"])
    assert (out.returncode, out.stdout) == (4, ""), out.stderr
    assert str(path) in out.stderr and "aws login --profile admin" in out.stderr, out.stderr
    login_out = home.run([creds_bin, "login", "--profile", "admin"])
    assert login_out.returncode == 4 and "aws login --profile admin" in login_out.stderr, login_out.stderr
    # A session whose credentials expired: refreshed once with the DPoP-bound refresh token.
    now = datetime.datetime.now(datetime.timezone.utc)
    path.write_text(token_file(pem, now - datetime.timedelta(minutes=1)))
    out = home.run([sys.executable, "-c", BOTO3_CALLER, moto.url])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"] == EXPECTED_ARN
    assert server.calls == [("/v1/token", "refresh_token", "ok")], server.calls
    assert moto.count(ROLE_B) == 1
    # The AWS CLI's file now holds the new credentials and the rotated refresh token.
    saved = json.loads(path.read_text())
    assert saved["refreshToken"] == server.refresh_token == "refresh-2"
    assert saved["accessToken"]["accessKeyId"] == "ASIASIGNIN000001"
    assert saved["dpopKey"] == pem
    # creds login: the session is usable, nothing to do.
    ok = home.run([creds_bin, "login", "--profile", "admin"])
    assert ok.returncode == 0, ok.stderr
    assert len(server.calls) == 1
    # doctor names the session and its token file.
    doctor = home.run([creds_bin, "doctor", "--profile", "admin"])
    assert f"`aws login` session {SESSION} (token file {path}: present)" in doctor.stdout, doctor.stdout
    # A refresh the service refuses (the session is over): exit 4 and `aws login` again.
    path.write_text(token_file(pem, now - datetime.timedelta(minutes=1)).replace("refresh-1", "revoked"))
    over = home.run([creds_bin, "export", "--profile", "console", "--no-cache"])
    assert (over.returncode, over.stdout) == (4, ""), over.stderr
    assert "aws login --profile console" in over.stderr, over.stderr
