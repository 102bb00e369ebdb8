"""Fixtures for the interop tests: moto's server as STS on 127.0.0.1, and a temporary HOME."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fake_bedrock import FakeBedrock

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def creds_bin():
    path = Path(os.environ.get("CREDS_BIN", ROOT / "target" / "release" / "creds"))
    assert path.is_file(), f"build creds first: {path} is missing (scripts/test builds it)"
    return str(path)


class Moto:
    def __init__(self, url):
        self.url = url

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10).read()

    def assumed_roles(self):
        """The role ARNs of every AssumeRole call moto has answered since the last reset."""
        with urllib.request.urlopen(self.url + "/moto-api/data.json", timeout=10) as r:
            data = json.load(r)
        return [r["role_arn"] for r in data.get("sts", {}).get("AssumedRole", [])]

    def count(self, role_arn):
        return self.assumed_roles().count(role_arn)


def age_entry(path, left, fetched_ago=None):
    """Rewrites the cache entry at `path` to expire `left` (a timedelta) from now and, given
    `fetched_ago`, as fetched that long ago."""
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    entry = json.loads(Path(path).read_text())
    entry["Credentials"]["Expiration"] = stamp(now + left)
    if fetched_ago is not None:
        entry["FetchedAt"] = stamp(now - fetched_ago)
    Path(path).write_text(json.dumps(entry))


def cache_entry(cache, hop):
    """The path and content of the entry of `hop` in the creds cache directory `cache`."""
    for path in sorted(cache.glob("*.json")):
        data = json.loads(path.read_text())
        if hop in data["Hop"]:
            return path, data
    raise AssertionError(f"no cache entry for {hop} in {cache}")


def start_moto(url, log, extra=(), context=None):
    """Starts moto's server on `url`'s port with `extra` arguments, logging to `log`, and
    waits (at most 60 s) until it answers; `context` is the TLS context to reach it with."""
    port = url.rsplit(":", 1)[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port, *extra],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/data.json", timeout=2, context=context).read()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto's server did not start on {url}; see {log.name}")
            time.sleep(0.2)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def moto_server():
    url = f"http://127.0.0.1:{free_port()}"
    with open(ROOT / "target" / "moto.log", "w") as log:
        proc = start_moto(url, log)
        yield Moto(url)
        stop(proc)


@pytest.fixture
def moto(moto_server):
    moto_server.reset()
    return moto_server


class Home:
    """A temporary HOME with ~/.aws files, a private creds cache and a clean environment."""

    def __init__(self, root, moto_url):
        self.root = root
        (root / ".aws").mkdir()
        self.cache = root / "cache"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CREDS_", "_CREDS_")) and not k.lower().endswith("_proxy")}
        self.env.update(
            HOME=str(root),
            CREDS_CACHE_DIR=str(self.cache),
            AWS_REGION="us-east-1",
            AWS_ENDPOINT_URL_STS=moto_url,
            AWS_EC2_METADATA_DISABLED="true",
        )

    def config(self, text):
        (self.root / ".aws" / "config").write_text(text)

    def run(self, args, timeout=120, env=None, **kw):
        if "input" not in kw:
            kw["stdin"] = subprocess.DEVNULL
        return subprocess.run(args, env=env or self.env, capture_output=True, text=True, timeout=timeout, **kw)

    def age(self, hop, left, fetched_ago=None):
        """`age_entry` on the cache entry of `hop`."""
        age_entry(self.entry(hop)[0], left, fetched_ago)

    def entry(self, hop):
        return cache_entry(self.cache, hop)


@pytest.fixture
def home(tmp_path, moto):
    return Home(tmp_path, moto.url)


class FakeSso:
    """The tests' fake IAM Identity Center (examples/fake_sso.rs) as a process."""

    def __init__(self, proc, port):
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def configure(self, **settings):
        self._call("POST", "/_fake/config", settings)

    def issue(self):
        return self._call("POST", "/_fake/issue", {})

    def counts(self):
        return self._call("GET", "/_fake/counts")

    def count(self, op):
        return self.counts().get(op, 0)

    def log(self):
        return self._call("GET", "/_fake/log")

    def count_by(self, op, agent):
        """Calls of `op` whose user agent contains `agent` (creds: "aws-sdk-rust")."""
        return sum(1 for o, ua in self._call("GET", "/_fake/agents") if o == op and agent in ua)


@pytest.fixture
def fake_sso():
    binary = ROOT / "target" / "debug" / "examples" / "fake_sso"
    assert binary.is_file(), f"{binary} is missing: `cargo test` (or `cargo build --example fake_sso`) builds it"
    proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    yield FakeSso(proc, port)
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def bedrock():
    """A fake Bedrock Runtime on 127.0.0.1 (`fake_bedrock.py`), for the agents' tests."""
    fake = FakeBedrock()
    yield fake
    fake.close()


@pytest.fixture
def proxy(tmp_path):
    """A real proxy (Debian's tinyproxy) on 127.0.0.1 with basic auth; its log names every
    request it forwarded."""
    port = free_port()
    log = tmp_path / "tinyproxy.log"
    conf = tmp_path / "tinyproxy.conf"
    conf.write_text(f"Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{log}\"\nLogLevel Info\nMaxClients 20\nBasicAuth user s3cret\nAllow 127.0.0.1\n")
    proc = subprocess.Popen(["tinyproxy", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not (log.exists() and "listening" in log.read_text().lower()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("tinyproxy did not start (scripts/test installs it)")
        time.sleep(0.1)
    yield port, log
    proc.terminate()
    proc.wait(timeout=10)


class Tmux:
    """A program in a real terminal: a tmux server of its own (`-L`), read with capture-pane."""

    def __init__(self, home, command, name):
        self.socket = f"creds-{name}-{os.getpid()}"
        self.env = dict(home.env, TERM="xterm-256color")
        self.started = time.monotonic()
        self.run("new-session", "-d", "-x", "160", "-y", "50", "-s", "t", "-c", str(home.root), command)

    def run(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True, timeout=30)

    def screen(self):
        return self.run("capture-pane", "-p", "-J", "-t", "t").stdout

    def keys(self, *keys):
        self.run("send-keys", "-t", "t", *keys)

    def wait_for(self, predicate, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.2)
        return None

    def close(self):
        self.run("kill-server")
