"""`creds exec`: boto3, the AWS CLI v2 and the JS SDK as its children, with the keys in their
environment and behind `--server`'s local endpoint; the endpoint refuses strangers; exit codes
and signals reach the child; credentials that last 15 minutes are renewed under a child that
keeps calling."""

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_interop import AWS_CLI, EXPECTED_ARN, JS_DIR, ROLE_B, chain_config

BOTO3 = """
import json, sys, boto3
session = boto3.Session()
identity = session.client("sts", endpoint_url=sys.argv[1]).get_caller_identity()
print(json.dumps({"Arn": identity["Arn"], "Method": session.get_credentials().method}))
"""

PROBE = """
import json, os, urllib.request, urllib.error
uri, token = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
def status(headers, method="GET", url=uri):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers, method=method), timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None
ok, doc = status({"Authorization": token})
print(json.dumps({
    "ok": ok, "keys": sorted(doc), "env_keys": "AWS_ACCESS_KEY_ID" in os.environ,
    "none": status({})[0], "wrong": status({"Authorization": "x" * len(token)})[0],
    "post": status({"Authorization": token}, "POST")[0],
}))
"""


def three_sdks(home, moto, exec_):
    """The AWS CLI v2 and the JS SDK as children of `exec_`: both see the chain's role."""
    cli = home.run([*exec_, AWS_CLI, "sts", "get-caller-identity", "--endpoint-url", moto.url, "--output", "json"])
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["Arn"] == EXPECTED_ARN
    js = home.run([*exec_, "node", str(JS_DIR / "caller.mjs")], cwd=JS_DIR, env=dict(home.env, STS_ENDPOINT=moto.url))
    assert js.returncode == 0, js.stderr
    assert json.loads(js.stdout)["Arn"] == EXPECTED_ARN
    assert moto.count(ROLE_B) == 1, "one AssumeRole for every child"


def test_exec_with_keys_in_the_environment(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    home.env["AWS_PROFILE"] = "consumer"  # removed for the child: the keys decide
    exec_ = [creds_bin, "exec", "-p", "hop2", "--"]
    out = home.run([*exec_, sys.executable, "-c", BOTO3, moto.url])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"Arn": EXPECTED_ARN, "Method": "env"}
    three_sdks(home, moto, exec_)
    # The child's exit code is creds' exit code.
    assert home.run([*exec_, sys.executable, "-c", "raise SystemExit(17)"]).returncode == 17


def test_exec_server_serves_every_sdk_and_refuses_strangers(creds_bin, home, moto):
    home.config(chain_config(creds_bin))
    exec_ = [creds_bin, "exec", "--server", "-p", "hop2", "--"]
    out = home.run([*exec_, sys.executable, "-c", BOTO3, moto.url])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"Arn": EXPECTED_ARN, "Method": "container-role"}
    three_sdks(home, moto, exec_)
    probe = home.run([*exec_, sys.executable, "-c", PROBE])
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == {
        "ok": 200, "keys": ["AccessKeyId", "AccountId", "Expiration", "SecretAccessKey", "Token"], "env_keys": False,
        "none": 401, "wrong": 401, "post": 405,
    }


def test_exec_server_forwards_sigterm_and_exits_with_the_childs_code(creds_bin, home, moto, tmp_path):
    home.config(chain_config(creds_bin))
    ready, got = tmp_path / "ready", tmp_path / "got"
    child = f"""
import signal, sys, time
def on_term(*_):
    open({str(got)!r}, "w").write("TERM")
    sys.exit(42)
signal.signal(signal.SIGTERM, on_term)
open({str(ready)!r}, "w").write("ok")
for _ in range(300):
    time.sleep(0.1)
"""
    proc = subprocess.Popen([creds_bin, "exec", "--server", "-p", "hop2", "--", sys.executable, "-c", child],
                            env=home.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 42, err
    assert got.read_text() == "TERM"
    assert out == b"" and err == b""


def test_exec_server_renews_under_a_child_that_keeps_calling(creds_bin, home, moto):
    """A child calls GetCallerIdentity through the container provider until told to stop (a
    new boto3 session each time, so every call asks the endpoint). Meanwhile the role's cache
    entry is aged twice: into the refresh-ahead window (a background renewal follows), then
    under --min-ttl (the endpoint renews it before answering). Every call succeeds. Each step
    waits for the event it needs, not for a time, so a slow machine only makes it slower."""
    home.config(chain_config(creds_bin))
    stop, calls_file = home.root / "stop-calling", home.root / "calls"
    child = """
import json, os, sys, time, boto3
calls = failures = 0
deadline = time.monotonic() + 120
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:
    try:
        boto3.Session().client("sts", endpoint_url=sys.argv[1]).get_caller_identity()
    except Exception as e:  # noqa: BLE001
        failures += 1
        print(repr(e), file=sys.stderr)
    calls += 1
    with open(sys.argv[3], "a") as f:
        f.write("call\\n")
    time.sleep(0.1)
print(json.dumps({"calls": calls, "failures": failures}))
"""
    proc = subprocess.Popen([creds_bin, "exec", "--server", "--min-ttl", "890", "-p", "hop2", "--", sys.executable, "-c", child,
                             moto.url, str(stop), str(calls_file)],
                            env=home.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def calls():
        return len(calls_file.read_text().splitlines()) if calls_file.exists() else 0

    def wait(what, done, seconds=60):
        deadline = time.monotonic() + seconds
        while not done():
            assert proc.poll() is None, (what, proc.communicate())
            if time.monotonic() > deadline:
                stop.touch()
                pytest.fail(f"{what} within {seconds} s; calls {calls()}, AssumeRole {moto.count(ROLE_B)}: {proc.communicate(timeout=60)}")
            time.sleep(0.05)

    def age(left, fetched_ago):
        home.age("InteropB", datetime.timedelta(seconds=left), datetime.timedelta(seconds=fetched_ago))

    try:
        wait("the child's first calls", lambda: calls() >= 3)
        age(1400, 2200)  # inside --min-ttl (890 s) + the 10-minute window: renewed in the background
        wait("the background renewal", lambda: moto.count(ROLE_B) == 2)
        at = calls()
        wait("calls after the renewal", lambda: calls() >= at + 3)
        age(800, 2800)  # under --min-ttl: the endpoint renews before answering
        wait("the synchronous renewal", lambda: moto.count(ROLE_B) == 3)
        at = calls()
        wait("calls after the synchronous renewal", lambda: calls() >= at + 3)
    finally:
        stop.touch()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    got = json.loads(out)
    assert got["failures"] == 0 and got["calls"] >= 9, got
    assert moto.count(ROLE_B) == 3, "one synchronous renewal"


def test_exec_server_killed_outright_takes_its_child_along(creds_bin, home, moto, tmp_path):
    """Issue 17, item 10: `kill -9` of `creds exec --server` ends its child (Linux: the kernel
    sends it SIGTERM when creds dies), which would otherwise run on against an endpoint that is
    gone."""
    home.config(chain_config(creds_bin))
    pid_file = tmp_path / "child.pid"
    child = f"""
import os, time
open({str(pid_file)!r}, "w").write(str(os.getpid()))
for _ in range(600):
    time.sleep(0.1)
"""
    proc = subprocess.Popen([creds_bin, "exec", "--server", "-p", "hop2", "--", sys.executable, "-c", child],
                            env=home.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, "the child did not start"
        time.sleep(0.05)
    pid = int(pid_file.read_text())

    def alive():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    assert alive()
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not alive(), "the child outlived a killed creds"
    finally:
        if alive():
            os.kill(pid, signal.SIGKILL)
