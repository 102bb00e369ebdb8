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


STALLER = """
import json, os, socket, sys, threading, time
from botocore.utils import ContainerMetadataFetcher
uri, token = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
port = int(uri.split(":")[2].split("/")[0])
# Three connections that send nothing, one that sends a byte every half second, and a flood of
# idle ones: none may hold the child's own requests.
silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
def trickle():
    s = socket.create_connection(("127.0.0.1", port))
    for b in b"GET /creds HTTP/1.1\\r\\n":
        try:
            s.send(bytes([b]))
        except OSError:
            return
        time.sleep(0.5)
threading.Thread(target=trickle, daemon=True).start()
flood = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
time.sleep(0.2)
# botocore's own fetcher, with a 1 s timeout (its default is 2 s) and no retry.
class Impatient(ContainerMetadataFetcher):
    TIMEOUT_SECONDS = 1
    RETRY_ATTEMPTS = 1
fetcher = Impatient()
keys = [fetcher.retrieve_full_uri(uri, headers={"Authorization": token})["AccessKeyId"] for _ in range(5)]
# The silent connections are closed by creds once the request deadline has passed.
for s in silent:
    s.settimeout(10)
closed = [s.recv(1) == b"" for s in silent]
print(json.dumps({"keys": len(set(keys)), "calls": len(keys), "closed": closed}))
"""


def test_exec_server_answers_while_other_connections_stall(creds_bin, home, moto):
    """Issue 17, item 1: connections that send nothing, or a byte now and then, or a hundred
    idle ones, do not delay the child's requests: botocore's container fetcher with a 1 s
    timeout and no retry still gets every answer."""
    home.config(chain_config(creds_bin))
    out = home.run([creds_bin, "exec", "--server", "-p", "hop2", "--", sys.executable, "-c", STALLER], timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"keys": 1, "calls": 5, "closed": [True, True, True]}
    assert out.stderr == ""


HANGING_PROCESS = """
import datetime, json, os, sys, time
d = sys.argv[1]
with open(os.path.join(d, "calls"), "a") as f:
    f.write("call\\n")
n = len(open(os.path.join(d, "calls")).read().splitlines())
if os.path.exists(os.path.join(d, "hang")):
    open(os.path.join(d, "hanging"), "w").write("yes")
    for _ in range(600):
        if os.path.exists(os.path.join(d, "release")):
            break
        time.sleep(0.05)
    os.remove(os.path.join(d, "hanging"))
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=20)
print(json.dumps({"Version": 1, "AccessKeyId": f"AKIDHANG{n:012d}", "SecretAccessKey": "secret",
                  "SessionToken": "token", "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}))
"""

SECOND_REQUEST = """
import datetime, glob, json, os, sys, threading, time, urllib.request, urllib.error
uri, token = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
d, cache = sys.argv[1], sys.argv[2]
def get(timeout):
    try:
        with urllib.request.urlopen(urllib.request.Request(uri, headers={"Authorization": token}), timeout=timeout) as r:
            return [r.status, json.load(r).get("AccessKeyId")]
    except urllib.error.HTTPError as e:
        return [e.code, json.load(e).get("Code")]
    except OSError as e:
        return ["no answer", str(e)]
def age():
    for path in glob.glob(os.path.join(cache, "*.json")):
        entry = json.load(open(path))
        left = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=90)
        entry["Credentials"]["Expiration"] = left.strftime("%Y-%m-%dT%H:%M:%SZ")
        open(path, "w").write(json.dumps(entry))
def wait_for(name):
    for _ in range(600):
        if os.path.exists(os.path.join(d, name)):
            return
        time.sleep(0.05)
    raise SystemExit(f"no {name}")
out = {}
def round_(renewal, meanwhile):
    # A request that renews through the hanging process, and another while it hangs.
    age()
    open(os.path.join(d, "hang"), "w").write("")
    first = threading.Thread(target=lambda: out.__setitem__(renewal, get(60)))
    first.start()
    wait_for("hanging")
    out[meanwhile] = get(5)
    open(os.path.join(d, "release"), "w").write("")
    first.join()
    os.remove(os.path.join(d, "release"))
# Round 1: the cached entry is under --min-ttl and its credential_process hangs. Nothing valid
# has been served yet: a second request is told to try again (503) instead of queueing.
round_("renewal", "meanwhile")
# Round 2: the same, but the credentials served last are still valid: they are served.
round_("renewal2", "still_valid")
print(json.dumps(out))
"""


def test_exec_server_does_not_queue_behind_a_hanging_renewal(creds_bin, home, moto, tmp_path):
    """Issue 17, item 2: while one request waits on a credential_process that hangs, another
    is answered at once: with the credentials served last while they are still valid, else with
    503 (which the SDKs retry), never after the hanging process's 40 s."""
    process = tmp_path / "hang.py"
    process.write_text(HANGING_PROCESS)
    home.config(f"[profile hang]\ncredential_process = {sys.executable} {process} {tmp_path}\n")
    out = home.run([creds_bin, "exec", "--server", "-p", "hang", "--", sys.executable, "-c", SECOND_REQUEST,
                    str(tmp_path), str(home.cache)], timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "meanwhile": [503, "Renewing"],
        "renewal": [200, "AKIDHANG000000000002"],
        "still_valid": [200, "AKIDHANG000000000002"],
        "renewal2": [200, "AKIDHANG000000000003"],
    }
