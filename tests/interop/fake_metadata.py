"""A fake EC2 instance metadata service (IMDSv2) and a fake container credentials endpoint on
127.0.0.1, with the shapes and the token rules of the real ones:

- IMDSv2: `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` issues a session
  token; every `GET` needs it in `X-aws-ec2-metadata-token` (401 without it or with a wrong
  one); `/latest/meta-data/iam/security-credentials/` names the role and
  `.../security-credentials/ROLE` gives its credentials (`Code`, `Type`, `LastUpdated`, ...).
- Container: `GET /v2/credentials/ID` with `Authorization` equal to the expected token (403
  otherwise) gives `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`, `RoleArn`;
  `GET /v2/credentials/trickle` sends its reply one byte a second.

Every request is logged as (method, path, whether its token was right)."""

import datetime
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = "interop-instance-role"


def _credentials(prefix):
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=6)
    return {
        "AccessKeyId": f"ASIA{prefix}{secrets.token_hex(6).upper()}",
        "SecretAccessKey": secrets.token_urlsafe(30),
        "Token": secrets.token_urlsafe(60),
        "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class FakeMetadata:
    def __init__(self, container_token="container-secret-token"):
        self.tokens = set()
        self.container_token = container_token
        self.log = []
        self.issued = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, content_type="text/plain"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                ok = self.path == "/latest/api/token" and ttl is not None and ttl.isdigit()
                owner.log.append(("PUT", self.path, ok))
                if not ok:
                    return self._send(400, "missing or bad X-aws-ec2-metadata-token-ttl-seconds")
                token = secrets.token_urlsafe(24)
                owner.tokens.add(token)
                self.send_response(200)
                self.send_header("X-aws-ec2-metadata-token-ttl-seconds", ttl)
                self.send_header("Content-Length", str(len(token)))
                self.end_headers()
                self.wfile.write(token.encode())

            def do_GET(self):
                if self.path.startswith("/latest/"):
                    return self._imds()
                ok = self.headers.get("Authorization") == owner.container_token
                owner.log.append(("GET", self.path, ok))
                if not self.path.startswith("/v2/credentials/"):
                    return self._send(404, "not found")
                if not ok:
                    return self._send(403, json.dumps({"code": "AccessDenied", "message": "wrong authorization token"}), "application/json")
                if self.path.endswith("/trickle"):
                    return self._trickle()
                creds = dict(_credentials("CONTAINER"), RoleArn="arn:aws:iam::111111111111:role/task-role")
                owner.issued.append(creds["AccessKeyId"])
                self._send(200, json.dumps(creds), "application/json")

            def _trickle(self):
                """A reply sent one byte a second (each byte restarts a read timeout); it ends
                when the client hangs up, or after five minutes."""
                body = json.dumps(_credentials("TRICKLE")).encode()
                body += b" " * max(0, 300 - len(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                for i in range(len(body)):
                    try:
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(1)

            def _imds(self):
                ok = self.headers.get("X-aws-ec2-metadata-token") in owner.tokens
                owner.log.append(("GET", self.path, ok))
                if not ok:
                    return self._send(401, "")
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path == base:
                    return self._send(200, ROLE)
                if self.path == base + ROLE:
                    creds = dict(_credentials("INSTANCE"), Code="Success", Type="AWS-HMAC",
                                 LastUpdated=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
                    owner.issued.append(creds["AccessKeyId"])
                    return self._send(200, json.dumps(creds, indent=2))
                self._send(404, "not found")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
