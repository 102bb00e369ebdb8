"""A fake Amazon Bedrock Runtime on 127.0.0.1 for Claude Code: answers `invoke` with an Anthropic
message and `invoke-with-response-stream` with a valid `application/vnd.amazon.eventstream`
body, and logs each request's path and the access key id of its SigV4 `Credential=`. In
bearer mode (`Authorization: Bearer bedrock-api-key-...`) it verifies the token as Bedrock
would (`bedrock_token.verify`, with the secret keys the test gives it) and answers 403 to one
that does not verify, 401 to one the test has revoked."""

import base64
import binascii
import json
import re
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bedrock_token

TEXT = "hello from the fake bedrock"


def _header(name, value):
    n, v = name.encode(), value.encode()
    return struct.pack("!B", len(n)) + n + struct.pack("!BH", 7, len(v)) + v


def event_message(event):
    """One event-stream message carrying an Anthropic streaming event, as Bedrock sends it."""
    headers = _header(":event-type", "chunk") + _header(":content-type", "application/json") + _header(":message-type", "event")
    payload = json.dumps({"bytes": base64.b64encode(json.dumps(event).encode()).decode()}).encode()
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack("!II", total, len(headers))
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + payload
    return message + struct.pack("!I", binascii.crc32(message) & 0xFFFFFFFF)


def converse_event(event_type, body):
    """One event-stream message of the Converse API's stream (`converse-stream`): the event's
    type in `:event-type`, its body as the JSON payload."""
    headers = _header(":event-type", event_type) + _header(":content-type", "application/json") + _header(":message-type", "event")
    payload = json.dumps(body).encode()
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack("!II", total, len(headers))
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + payload
    return message + struct.pack("!I", binascii.crc32(message) & 0xFFFFFFFF)


def converse_body(command=None, tool="bash"):
    """A `converse-stream` answer: the text, or (with `command`) a call of the `tool` that runs it."""
    if command is None:
        block = [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": TEXT}})]
        stop = "end_turn"
    else:
        block = [
            ("contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "tooluse_fake_1", "name": tool}}}),
            ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": json.dumps({"command": command, "description": "Print the environment"})}}}),
        ]
        stop = "tool_use"
    events = [
        ("messageStart", {"role": "assistant"}),
        *block,
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": stop}),
        ("metadata", {"usage": {"inputTokens": 5, "outputTokens": 6, "totalTokens": 11}, "metrics": {"latencyMs": 10}}),
    ]
    return b"".join(converse_event(t, b) for t, b in events)


def stream_body(model, command=None):
    """A streamed answer: the text, or (with `command`) a Bash tool call that runs it."""
    if command is None:
        block = [
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": TEXT}},
        ]
        stop = "end_turn"
    else:
        block = [
            {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_fake_1", "name": "Bash", "input": {}}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": json.dumps({"command": command, "description": "Print the environment"})}},
        ]
        stop = "tool_use"
    events = [
        {"type": "message_start", "message": {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 1}}},
        *block,
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 6}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 5, "outputTokenCount": 6, "invocationLatency": 10, "firstByteLatency": 5}},
    ]
    return b"".join(event_message(e) for e in events)


class FakeBedrock:
    def __init__(self):
        self.requests = []  # (method, path, access key id or None)
        self.lock = threading.Lock()
        self.rejected = set()  # access key ids answered 403 ExpiredTokenException
        self.secrets = {}  # access key id -> secret key, to verify bearer tokens with
        self.tokens = []  # (bearer token, None if it verified, else why not)
        self.revoked = set()  # bearer tokens answered 401 (after a second: the next differs)
        self.revoke_first = False  # revoke the first bearer token seen
        self.revoke_status = 401  # how a revoked token is answered
        self.bash_command = None  # when set: the conversation's first answer runs it with Bash
        self.tool_results = []  # what the Bash tool call returned, as text
        self.bodies = []  # the Converse requests' bodies
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body, content_type="application/json", extra=()):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                authorization = self.headers.get("Authorization", "")
                match = re.search(r"Credential=([^/]+)/", authorization)
                with fake.lock:
                    fake.requests.append((self.command, self.path, match.group(1) if match else None))
                bearer = authorization.split(" ", 1)[0] == "Bearer"
                if bearer:
                    # Claude Code sends a bare `Bearer` when its apiKeyHelper failed.
                    token = authorization[len("Bearer"):].strip()
                    try:
                        bedrock_token.verify(token, lambda key: fake.secrets[key])
                        why = None
                    except (AssertionError, KeyError, ValueError) as e:
                        why = repr(e)
                    with fake.lock:
                        fake.tokens.append((token, why))
                        if fake.revoke_first and not fake.revoked:
                            fake.revoked.add(token)
                        revoked = token in fake.revoked
                    if why is not None:
                        return self._reply(403, json.dumps({"message": "The bearer token is not valid"}).encode(), extra=[("x-amzn-ErrorType", "AccessDeniedException")])
                    if revoked:
                        time.sleep(1.1)
                        if fake.revoke_status == 403:
                            return self._reply(403, json.dumps({"message": "Bearer token has expired"}).encode(), extra=[("x-amzn-ErrorType", "AccessDeniedException")])
                        return self._reply(401, json.dumps({"message": "Bearer token has expired"}).encode(), extra=[("x-amzn-ErrorType", "UnauthorizedException")])
                route = re.match(r"^/model/([^/]+)/(invoke|invoke-with-response-stream|converse-stream)$", self.path.split("?")[0])
                if self.command != "POST" or not route:
                    return self._reply(404, json.dumps({"message": "not found"}).encode(), extra=[("x-amzn-ErrorType", "ResourceNotFoundException")])
                if not match and not bearer:
                    # What Bedrock answers a request with neither a signature nor a token.
                    return self._reply(403, json.dumps({"message": "Missing Authentication Token"}).encode(), extra=[("x-amzn-ErrorType", "MissingAuthenticationTokenException")])
                model = route.group(1)
                with fake.lock:
                    rejected = match is not None and match.group(1) in fake.rejected
                if rejected:
                    return self._reply(403, json.dumps({"message": "The security token included in the request is expired"}).encode(), extra=[("x-amzn-ErrorType", "ExpiredTokenException")])
                if route.group(2) == "invoke":
                    body = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 6}}
                    return self._reply(200, json.dumps(body).encode())
                if route.group(2) == "converse-stream":
                    return self._converse(body)
                command = None
                if fake.bash_command is not None:
                    try:
                        request = json.loads(body or b"{}")
                    except ValueError:
                        request = {}
                    tools = {t.get("name") for t in request.get("tools") or []}
                    results = [c for m in request.get("messages") or [] if isinstance(m.get("content"), list)
                               for c in m["content"] if c.get("type") == "tool_result"]
                    if results:
                        with fake.lock:
                            for r in results:
                                content = r.get("content")
                                if isinstance(content, list):
                                    content = "".join(part.get("text", "") for part in content)
                                fake.tool_results.append(content or "")
                    elif "Bash" in tools:
                        command = fake.bash_command
                return self._reply(200, stream_body(model, command), "application/vnd.amazon.eventstream", [("x-amzn-bedrock-content-type", "application/json")])

            def _converse(self, body):
                """The Converse API, as the AI SDK's Bedrock provider (opencode) calls it."""
                try:
                    request = json.loads(body or b"{}")
                except ValueError:
                    request = {}
                with fake.lock:
                    fake.bodies.append(request)
                command = None
                if fake.bash_command is not None:
                    tools = {t.get("toolSpec", {}).get("name") for t in (request.get("toolConfig") or {}).get("tools") or []}
                    results = [c["toolResult"] for m in request.get("messages") or [] for c in m.get("content") or [] if "toolResult" in c]
                    if results:
                        with fake.lock:
                            for r in results:
                                fake.tool_results.append("".join(part.get("text", "") for part in r.get("content") or []))
                    elif "bash" in tools:
                        command = fake.bash_command
                return self._reply(200, converse_body(command), "application/vnd.amazon.eventstream")

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def shell_env(self):
        """The variables the agent's first shell tool call printed (the fake asked it for `env`)."""
        assert self.tool_results, f"the agent ran no shell tool: {self.requests}"
        with self.lock:
            return dict(line.split("=", 1) for line in self.tool_results[0].splitlines() if "=" in line)

    def model_requests(self):
        with self.lock:
            return [r for r in self.requests if r[1].startswith("/model/")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
