"""How long Claude Code keeps what `awsCredentialExport` printed, by how much lifetime it had
left: both pinned Claude Code versions, interactively in tmux, against the tests' fake Bedrock,
with a hook that prints new keys valid for 4, 6 or 10 minutes at every run. A prompt at the
start, one 90 s later and one 330 s later (past Expiration - 5 min for 10 minutes, past expiry
for 4); each hook run and the key of each model request are logged. About 7 minutes, all
sessions at once. Run from the repository: target/interop-venv/bin/python bench/claude_cache.py
(docs/claude-code.md, "Claude Code and short-lived credentials", records the result)."""

import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "interop"))

from conftest import Tmux  # noqa: E402
from fake_bedrock import TEXT, FakeBedrock  # noqa: E402
from test_claude import VERSIONS, past_first_run  # noqa: E402

HOOK = """#!/bin/sh
n=$(( $(cat "$0.runs" 2>/dev/null | wc -l) + 1 ))
date +%s.%N >> "$0.runs"
exp=$(date -u -d "+{minutes} minutes" +%Y-%m-%dT%H:%M:%SZ)
printf '{{"Credentials":{{"AccessKeyId":"AKIDL{minutes}RUN%04d","SecretAccessKey":"secret","SessionToken":"token","Expiration":"%s"}}}}' "$n" "$exp"
"""


class Home:
    def __init__(self, root, bedrock, minutes):
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CREDS_", "CLAUDE"))}
        self.env.update(HOME=str(root), DISABLE_TELEMETRY="1", DISABLE_AUTOUPDATER="1",
                        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1")
        hook = root / "hook.sh"
        hook.write_text(HOOK.format(minutes=minutes))
        hook.chmod(0o755)
        (root / ".claude").mkdir()
        (root / ".claude" / "settings.json").write_text(json.dumps({
            "awsCredentialExport": str(hook),
            "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1", "ANTHROPIC_BEDROCK_BASE_URL": bedrock.url},
        }))
        self.hook = hook

    def runs(self):
        path = Path(str(self.hook) + ".runs")
        return [float(t) for t in path.read_text().split()] if path.exists() else []


def main():
    sessions = []
    with tempfile.TemporaryDirectory() as tmp:
        for version, path in sorted(VERSIONS.items()):
            for minutes in (4, 6, 10):
                root = Path(tmp) / f"{version}-{minutes}"
                root.mkdir()
                bedrock = FakeBedrock()
                home = Home(root, bedrock, minutes)
                past_first_run(home, version)
                tmux = Tmux(home, f"{shlex.quote(str(path))} 2>{root}/claude.stderr", f"cache-{version.replace('.', '-')}-{minutes}")
                sessions.append((version, minutes, home, bedrock, tmux))
        start = time.monotonic()
        prompts = {}
        try:
            for at, text in [(25, "say hi"), (115, "say hi again"), (355, "say hi a third time")]:
                time.sleep(max(0.0, start + at - time.monotonic()))
                for version, minutes, home, bedrock, tmux in sessions:
                    tmux.keys(text, "Enter")
                    prompts.setdefault((version, minutes), []).append(time.time())
            time.sleep(40)
        finally:
            for *_, tmux in sessions:
                tmux.close()
        for version, minutes, home, bedrock, tmux in sessions:
            runs = home.runs()
            t0 = runs[0] if runs else time.time()
            keys = [key for method, p, key in bedrock.requests if key and "invoke" in p]
            stamped = [f"+{p - t0:.0f}s" for p in prompts[(version, minutes)]]
            print(json.dumps({"version": version, "minutes_left": minutes, "hook_runs_at": [f"+{r - t0:.0f}s" for r in runs],
                              "prompts_at": stamped, "keys_used_in_order": sorted(set(keys), key=keys.index),
                              "answered": sum(1 for *_, k in bedrock.requests if k)}))
            bedrock.close()


if __name__ == "__main__":
    main()
