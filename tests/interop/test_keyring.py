"""`creds keys` and `CREDS_CACHE=keyring` against a real Secret Service: Debian's gnome-keyring
on a private D-Bus session bus started by the test (and a bus with no provider at all), with
moto as STS behind a recorder that logs which access key signed each request."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import Tmux

ROLE_B = "arn:aws:iam::222222222222:role/InteropB"
KEY_ID = "AKIAKEYRINGINTEROP01"
SECRET = "keyring-interop-Secret/0123456789abcdefghij"
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class Bus:
    """A private session bus (no service activation), and optionally gnome-keyring on it,
    unlocked with a test password."""

    def __init__(self, root, provider, unlock=True):
        root.mkdir(parents=True, exist_ok=True)
        conf = root / "bus.conf"
        conf.write_text(BUS_CONFIG.format(dir=root))
        self.procs = []
        bus = subprocess.Popen(["dbus-daemon", "--nofork", "--print-address=1", f"--config-file={conf}"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs.append(bus)
        self.address = bus.stdout.readline().strip()
        assert self.address.startswith("unix:"), "dbus-daemon did not start (scripts/test installs dbus)"
        self.daemon = None
        if provider:
            home = root / "keyring-home"
            home.mkdir(exist_ok=True)
            env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.address, HOME=str(home),
                       XDG_DATA_HOME=str(home / "data"), XDG_RUNTIME_DIR=str(root))
            unlocking = ["--unlock"] if unlock else []
            self.daemon = subprocess.Popen(["gnome-keyring-daemon", "--foreground", *unlocking, "--components=secrets"],
                                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, env=env)
            if unlock:
                self.daemon.stdin.write(b"test-password")
            self.daemon.stdin.close()
            self.procs.append(self.daemon)
            deadline = time.monotonic() + 20
            # Ready means serving its default collection, unlocked when it was given the
            # password: owning the bus name may come first.
            while not (self.has_owner("org.freedesktop.secrets") and self.default_collection_unlocked() == unlock):
                if self.daemon.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    pytest.fail("gnome-keyring-daemon did not start (scripts/test installs gnome-keyring)")
                time.sleep(0.1)

    def has_owner(self, name):
        return "boolean true" in self.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus.NameHasOwner", f"string:{name}")

    def call(self, dest, path, method, *args):
        return subprocess.run(["dbus-send", f"--bus={self.address}", "--print-reply", f"--dest={dest}", path, method, *args],
                              capture_output=True, text=True, timeout=10).stdout

    def default_collection_unlocked(self):
        """Whether the Secret Service has a default collection and it is unlocked."""
        alias = re.search(r'object path "([^"]+)"',
                          self.call("org.freedesktop.secrets", "/org/freedesktop/secrets",
                                    "org.freedesktop.Secret.Service.ReadAlias", "string:default"))
        if not alias or alias.group(1) == "/":
            return False
        locked = self.call("org.freedesktop.secrets", alias.group(1), "org.freedesktop.DBus.Properties.Get",
                           "string:org.freedesktop.Secret.Collection", "string:Locked")
        return "boolean false" in locked

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


class Recorder:
    """STS in front of moto: forwards every request and records the access key id of its SigV4
    `Credential=` and the operation."""

    def __init__(self, moto_url):
        self.calls = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                signed = re.search(r"Credential=([A-Z0-9]+)/", self.headers.get("Authorization", ""))
                action = re.search(rb"Action=(\w+)", body)
                owner.calls.append((action.group(1).decode() if action else "?", signed.group(1) if signed else None))
                request = urllib.request.Request(moto_url + self.path, data=body, method="POST",
                                                 headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                try:
                    with urllib.request.urlopen(request, timeout=30) as r:
                        status, data, ctype = r.status, r.read(), r.headers.get("Content-Type", "text/xml")
                except urllib.error.HTTPError as e:
                    status, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "text/xml")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def keyring_bus(tmp_path_factory):
    bus = Bus(tmp_path_factory.mktemp("bus"), provider=True)
    yield bus
    bus.close()


@pytest.fixture
def sts(home, moto):
    recorder = Recorder(moto.url)
    home.env["AWS_ENDPOINT_URL_STS"] = recorder.url
    yield recorder
    recorder.close()


def config(creds_bin):
    return f"""\
[profile admin]
role_arn = {ROLE_B}
source_profile = user
role_session_name = interop-b

[profile consumer]
region = us-east-1
credential_process = {shlex.quote(creds_bin)} export --profile admin --format process
"""


def files_holding(root, needle):
    return [p for p in Path(root).rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_keys_in_the_secret_service_serve_sessions_and_roles(creds_bin, home, moto, sts, keyring_bus):
    home.env["DBUS_SESSION_BUS_ADDRESS"] = keyring_bus.address
    home.config(config(creds_bin))
    add = home.run([creds_bin, "keys", "add", "user"], input=f"{KEY_ID}\n{SECRET}\n")
    assert add.returncode == 0 and add.stdout == "", add.stderr
    listed = home.run([creds_bin, "keys", "list"])
    assert listed.stdout == f"user\t{KEY_ID}\tin the keyring\n", listed
    # The profile itself: a session (GetSessionToken signed with the stored key), never the key.
    out = home.run([creds_bin, "export", "--profile", "user"])
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["AccessKeyId"] != KEY_ID and doc["SessionToken"], doc
    assert sts.calls == [("GetSessionToken", KEY_ID)], sts.calls
    # A role above it, consumed by boto3 through credential_process: AssumeRole signed with it.
    boto3 = "import boto3, sys, json; print(json.dumps(boto3.Session(profile_name='consumer').client('sts', endpoint_url=sys.argv[1]).get_caller_identity()))"
    out = home.run([sys.executable, "-c", boto3, moto.url])
    assert out.returncode == 0, out.stderr
    assert ("AssumeRole", KEY_ID) in sts.calls, sts.calls
    assert moto.count(ROLE_B) == 1
    # The AWS CLI gets the profile's session through the credential_process creds wrote.
    cli = home.run(["/usr/bin/aws", "sts", "get-caller-identity", "--profile", "user", "--endpoint-url", moto.url, "--output", "json"])
    assert cli.returncode == 0, cli.stderr
    # doctor: where the keys are, that the keyring answered.
    doctor = home.run([creds_bin, "doctor", "--profile", "user"])
    assert f"long-term keys {KEY_ID} in the OS keyring" in doctor.stdout, doctor.stdout
    assert re.search(r"keyring: Secret Service answered in \d+ ms; it holds the secret of " + KEY_ID, doctor.stdout), doctor.stdout
    # The secret is in no file of HOME (the cache holds sessions only).
    assert files_holding(home.root, SECRET) == []
    # remove: out of the keyring and the config.
    removed = home.run([creds_bin, "keys", "remove", "user"])
    assert removed.returncode == 0, removed.stderr
    assert "creds_keyring" not in (home.root / ".aws" / "config").read_text()


def test_keys_import_moves_keys_and_keeps_the_file(creds_bin, home, moto, sts, keyring_bus):
    home.env["DBUS_SESSION_BUS_ADDRESS"] = keyring_bus.address
    home.config("[profile user]\nregion = us-east-1\n")
    original = f"# team keys\n[other]\naws_access_key_id = AKIAOTHER00000000001\naws_secret_access_key = other\n\n[user]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\nregion = us-east-1\n"
    path = home.root / ".aws" / "credentials"
    path.write_text(original)
    out = home.run([creds_bin, "keys", "import", "user"])
    assert out.returncode == 0, out.stderr
    assert path.read_text() == original.replace(f"aws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n", "")
    assert (home.root / ".aws" / "credentials.bak").read_text() == original
    (home.root / ".aws" / "credentials.bak").unlink()
    out = home.run([creds_bin, "export", "--profile", "user"])
    assert out.returncode == 0, out.stderr
    assert sts.calls == [("GetSessionToken", KEY_ID)]
    assert files_holding(home.root, SECRET) == []


def test_keyring_cache_single_flight_and_no_files(creds_bin, home, moto, sts, keyring_bus):
    home.env.update(DBUS_SESSION_BUS_ADDRESS=keyring_bus.address, CREDS_CACHE="keyring")
    home.config(f"""\
[profile base]
aws_access_key_id = AKIAINTEROPBASE00001
aws_secret_access_key = interop-base-secret

[profile admin]
role_arn = {ROLE_B}
source_profile = base
role_session_name = interop-b
""")
    with ThreadPoolExecutor(max_workers=50) as pool:
        runs = list(pool.map(lambda _: home.run([creds_bin, "export", "--profile", "admin"]), range(50)))
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs if r.returncode]
    assert all(r.stderr == "" for r in runs), [r.stderr for r in runs if r.stderr]
    assert len({json.loads(r.stdout)["AccessKeyId"] for r in runs}) == 1
    assert moto.count(ROLE_B) == 1 and len(sts.calls) == 1, sts.calls
    assert list(home.cache.glob("*.json")) == [], "nothing in the file cache"
    # `cache list` and `cache clear` see the entry in the keyring; after a clear, the next
    # export fetches again.
    listed = home.run([creds_bin, "cache", "list"])
    assert listed.returncode == 0 and "(0 entries) and the OS keyring (1 entry)" in listed.stdout, listed
    assert "interop-b" in listed.stdout or "InteropB" in listed.stdout, listed.stdout
    cleared = home.run([creds_bin, "cache", "clear", "--all"])
    assert cleared.returncode == 0 and cleared.stderr.endswith("and 1 from the OS keyring\n"), cleared
    assert home.run([creds_bin, "export", "--profile", "admin"]).returncode == 0
    assert moto.count(ROLE_B) == 2


def test_a_stuck_or_missing_keyring_never_hangs(creds_bin, home, moto, sts, keyring_bus, tmp_path):
    home.env["DBUS_SESSION_BUS_ADDRESS"] = keyring_bus.address
    home.config(config(creds_bin))
    assert home.run([creds_bin, "keys", "add", "user"], input=f"{KEY_ID} {SECRET}").returncode == 0
    # The daemon stopped (SIGSTOP): every call hangs; creds gives up at its 2 s deadline.
    os.kill(keyring_bus.daemon.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        out = home.run([creds_bin, "export", "--profile", "user"], timeout=30)
        took = time.monotonic() - started
        assert (out.returncode, out.stdout) == (3, ""), out.stderr
        assert "did not answer within 2000 ms" in out.stderr, out.stderr
        assert took < 15, took
        cached = home.run([creds_bin, "export", "--profile", "admin"], env=dict(home.env, CREDS_CACHE="keyring"), timeout=30)
        assert cached.returncode == 3, cached.stderr  # the keys themselves are in the stuck keyring
        # A creds killed (-9) in the middle of a keyring write, and one in the middle of an
        # export, leave nothing that blocks the next ones.
        killed = []
        for args in (["keys", "add", "user"], ["export", "--profile", "user"]):
            proc = subprocess.Popen([creds_bin, *args], env=dict(home.env, CREDS_KEYRING_TIMEOUT="30"),
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            proc.stdin.write(f"{KEY_ID} {SECRET}-rotated".encode())
            proc.stdin.close()
            killed.append(proc)
        time.sleep(1.5)
        for proc in killed:
            assert proc.poll() is None, "still waiting on the stopped keyring"
            proc.kill()
            proc.wait(timeout=10)
    finally:
        os.kill(keyring_bus.daemon.pid, signal.SIGCONT)
    started = time.monotonic()
    again = home.run([creds_bin, "keys", "add", "user"], input=f"{KEY_ID} {SECRET}", timeout=30)
    assert again.returncode == 0, again.stderr
    out = home.run([creds_bin, "export", "--profile", "user", "--refresh"], timeout=30)
    assert out.returncode == 0, out.stderr
    assert time.monotonic() - started < 10
    assert sts.calls[-1] == ("GetSessionToken", KEY_ID)
    # A bus with no Secret Service at all: exit 3 at once naming the fix; the keyring cache
    # falls back to files with one warning.
    empty = Bus(tmp_path / "empty-bus", provider=False)
    try:
        env = dict(home.env, DBUS_SESSION_BUS_ADDRESS=empty.address)
        add = home.run([creds_bin, "keys", "add", "other"], input=f"{KEY_ID} {SECRET}", env=env)
        assert add.returncode == 3 and "the OS keyring cannot be used" in add.stderr, add.stderr
        home.config(config(creds_bin) + "\n[profile base]\naws_access_key_id = AKIAINTEROPBASE00001\naws_secret_access_key = s\n")
        env["CREDS_CACHE"] = "keyring"
        out = home.run([creds_bin, "export", "--profile", "base", "--format", "claude"], env=env)
        assert out.returncode == 0, out.stderr
        assert len(out.stderr.splitlines()) == 1 and "using the file cache" in out.stderr, out.stderr
    finally:
        empty.close()
    # A Secret Service whose collection is locked (it would need an unlock prompt, and there is
    # no display): exit 3 saying it is locked and how to unlock it.
    locked = Bus(tmp_path / "locked-bus", provider=True, unlock=False)
    try:
        env = dict(home.env, DBUS_SESSION_BUS_ADDRESS=locked.address)
        add = home.run([creds_bin, "keys", "add", "other"], input=f"{KEY_ID} {SECRET}", env=env, timeout=30)
        assert add.returncode == 3 and "locked" in add.stderr, add.stderr
        assert len(add.stderr.splitlines()) == 1, add.stderr
    finally:
        locked.close()


def test_keys_add_in_a_terminal_does_not_show_the_secret(creds_bin, home, moto, sts, keyring_bus):
    """`creds keys add` in a real terminal (tmux): the key id is echoed, the secret is not, and
    the terminal echoes again afterwards."""
    home.env["DBUS_SESSION_BUS_ADDRESS"] = keyring_bus.address
    home.config("")
    tmux = Tmux(home, f"{shlex.quote(creds_bin)} keys add tty; echo exit=$?; exec cat", "keys")
    try:
        assert tmux.wait_for(lambda s: "AWS access key id:" in s, 10), tmux.screen()
        tmux.keys(KEY_ID, "Enter")
        assert tmux.wait_for(lambda s: "AWS secret access key (not shown):" in s, 10), tmux.screen()
        tmux.keys(SECRET, "Enter")
        screen = tmux.wait_for(lambda s: "exit=" in s, 15)
        assert screen and "exit=0" in screen, tmux.screen()
        assert KEY_ID in screen and SECRET not in screen, screen
        assert "stored " + KEY_ID + " for profile `tty`" in screen, screen
        tmux.keys("echo-is-back")  # no Enter: only the terminal's echo can show it
        assert tmux.wait_for(lambda s: "echo-is-back" in s, 5), "the terminal echoes again"
    finally:
        tmux.close()
    out = home.run([creds_bin, "export", "--profile", "tty"])
    assert out.returncode == 0, out.stderr
    assert sts.calls == [("GetSessionToken", KEY_ID)]
