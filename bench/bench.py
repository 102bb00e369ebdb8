#!/usr/bin/env python3
"""Cache-hit benchmark: `creds export` against a floor measured in the same run.

Starts moto's STS on 127.0.0.1, warms the cache for a two-hop role chain, then times
`creds export --profile hop2` against `floor <cache file>` (a dependency-free Rust program that
reads the same config, credentials and cache files and prints the entry) with hyperfine, and
measures peak RSS with GNU time. Prints the ratio of medians and the peak RSS; with --check,
fails if the ratio is above --max-ratio or the RSS above --max-rss-kib.

It also times the same cache hit with 10,000 more profiles in the config file (1.1 MB) against
the plain hit, interleaved the same way: with --check, that ratio must stay under
--max-ratio-10k (3.5) and its peak RSS under --max-rss-kib. (A regression to reading every
section, as `-v` does, measures about 26 on the same machine: 39 ms against 1.5 ms.)

And it times a hit inside the refresh-ahead window (the top hop aged to 20 minutes left, with a
renewal running: the bench holds its lock) against the plain hit: with --check that ratio must
stay under --max-ratio-ahead (1.3): a caller inside the window does not wait on AWS. The call
that starts the renewal (a fork and exec more) is timed too, and reported.
"""

import argparse
import datetime
import fcntl
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "interop"))
from conftest import age_entry, free_port  # noqa: E402


def wait_unlocked(path):
    """Waits (at most 30 s) until no process holds the lock on `path`: the last background
    renewal has exited."""
    for _ in range(600):
        with open(path, "a+") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                subprocess.run(["sleep", "0.05"])
    sys.exit("a background renewal did not exit within 30 s")


def timed(cmd, env):
    """One run of `cmd`, timed from here (fork and exec included), in seconds."""
    started = datetime.datetime.now().timestamp()
    run = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = datetime.datetime.now().timestamp() - started
    if run.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {run.stderr}")
    return took


def measure(args, floor):
    """One measurement: medians of interleaved hyperfine rounds, and peak RSS."""
    port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            (home / ".aws").mkdir()
            (home / ".aws" / "config").write_text(
                "[profile base]\nregion = us-east-1\n\n"
                "[profile hop1]\nrole_arn = arn:aws:iam::111111111111:role/BenchA\nsource_profile = base\n\n"
                "[profile hop2]\nrole_arn = arn:aws:iam::222222222222:role/BenchB\nsource_profile = hop1\nregion = us-east-1\n"
            )
            (home / ".aws" / "credentials").write_text("[base]\naws_access_key_id = AKIABENCH0000000001\naws_secret_access_key = bench-secret\n")
            env = {"PATH": os.environ["PATH"], "HOME": str(home), "CREDS_CACHE_DIR": str(home / "cache"), "AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{port}"}
            for _ in range(300):
                warm = subprocess.run([args.creds, "export", "--profile", "hop2"], env=env, capture_output=True, text=True)
                if warm.returncode == 0:
                    break
                subprocess.run(["sleep", "0.1"])
            else:
                sys.exit(f"cannot warm the cache: {warm.stderr}")
            entry = next(p for p in (home / "cache").glob("*.json") if "BenchB" in json.loads(p.read_text())["Hop"])

            creds_cmd = f"{args.creds} export --profile hop2"
            floor_cmd = f"{floor} {entry}"
            # The same chain in a config file with 10,000 more profiles (same cache keys).
            big = home / ".aws" / "config-10k"
            extra = "".join(
                f"[profile team-{i}]\nrole_arn = arn:aws:iam::{100000000000 + i}:role/Team{i}\nsource_profile = base\nregion = us-east-1\n\n"
                for i in range(10_000)
            )
            small = (home / ".aws" / "config").read_text()
            big.write_text(extra[: len(extra) // 2] + small + "\n" + extra[len(extra) // 2 :])
            env_big = dict(env, AWS_CONFIG_FILE=str(big))
            check = subprocess.run(creds_cmd.split(), env=env_big, capture_output=True, text=True)
            if check.returncode != 0 or "cached" not in subprocess.run([args.creds, "-v", "export", "--profile", "hop2"], env=env_big, capture_output=True, text=True).stderr:
                sys.exit(f"the 10,000-profile config is not a cache hit: {check.stderr}")
            # Several short rounds, alternating which command goes first, so that drift in the
            # machine's load hits both alike; medians are taken over every run of every round.
            times = {"floor": [], "creds": [], "creds-10k": [], "creds-plain": []}
            rounds = 8
            for r in range(rounds):
                # The plain hit against the hit with 10,000 profiles, in turns.
                for name, cmd_env in ([("creds-plain", env), ("creds-10k", env_big)] if r % 2 == 0 else [("creds-10k", env_big), ("creds-plain", env)]):
                    out = home / f"hyperfine-{name}-{r}.json"
                    subprocess.run(["taskset", "-c", "1", "hyperfine", "-N", "--style", "none", "--warmup", "10", "--runs", str(max(args.runs // rounds // 2, 10)), "--export-json", str(out), "-n", name, creds_cmd], env=cmd_env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    times[name] += json.loads(out.read_text())["results"][0]["times"]
                out = home / f"hyperfine-{r}.json"
                pair = [("floor", floor_cmd), ("creds", creds_cmd)]
                if r % 2:
                    pair.reverse()
                cmd = ["taskset", "-c", "1", "hyperfine", "-N", "--style", "none", "--warmup", "20", "--runs", str(max(args.runs // rounds, 10)), "--export-json", str(out)]
                for name, command in pair:
                    cmd += ["-n", name, command]
                subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for result in json.loads(out.read_text())["results"]:
                    times[result["command"]] += result["times"]

            # Inside the refresh-ahead window: an hour-long role fetched 40 minutes ago.
            in_window = (datetime.timedelta(minutes=20), datetime.timedelta(minutes=40))
            age_entry(entry, *in_window)
            renew = entry.with_suffix(".renew")
            with open(renew, "a+") as held:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a renewal is running
                times["ahead"], times["ahead-plain"] = [], []
                for r in range(4):
                    out = home / f"hyperfine-ahead-{r}.json"
                    pair = [("ahead-plain", creds_cmd + " --no-refresh-ahead"), ("ahead", creds_cmd)]
                    if r % 2:
                        pair.reverse()
                    cmd = ["taskset", "-c", "1", "hyperfine", "-N", "--style", "none", "--warmup", "10", "--runs", str(max(args.runs // 8, 10)), "--export-json", str(out)]
                    for name, command in pair:
                        cmd += ["-n", name, command]
                    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for result in json.loads(out.read_text())["results"]:
                        times[result["command"]] += result["times"]
            # The call that starts the renewal (which then renews the entry against moto; the
            # entry is aged again before each call), against a plain hit timed the same way.
            starting, plain_timed = [], []
            for _ in range(10):
                wait_unlocked(renew)
                age_entry(entry, *in_window)
                starting.append(timed(creds_cmd.split(), env))
                plain_timed.append(timed((creds_cmd + " --no-refresh-ahead").split(), env))
            wait_unlocked(renew)  # the last renewal ends before anything else is measured

            def peak_rss(cmd, cmd_env=env):
                peak = 0
                for _ in range(20):
                    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd.split()], env=cmd_env, capture_output=True, text=True, check=True)
                    peak = max(peak, int(r.stderr.strip().splitlines()[-1]))
                return peak

            rss_creds, rss_floor = peak_rss(creds_cmd), peak_rss(floor_cmd)
            rss_big = peak_rss(creds_cmd, env_big)
    finally:
        moto.terminate()
        moto.wait(timeout=10)

    f, c = statistics.median(times["floor"]), statistics.median(times["creds"])
    plain, big = statistics.median(times["creds-plain"]), statistics.median(times["creds-10k"])
    ahead, ahead_plain = statistics.median(times["ahead"]), statistics.median(times["ahead-plain"])
    report = {
        "floor_median_ms": round(f * 1000, 3),
        "creds_median_ms": round(c * 1000, 3),
        "ratio": round(c / f, 3),
        "creds_peak_rss_kib": rss_creds,
        "floor_peak_rss_kib": rss_floor,
        "creds_10k_median_ms": round(big * 1000, 3),
        "creds_plain_median_ms": round(plain * 1000, 3),
        "ratio_10k": round(big / plain, 3),
        "creds_10k_peak_rss_kib": rss_big,
        "creds_ahead_median_ms": round(ahead * 1000, 3),
        "ratio_ahead": round(ahead / ahead_plain, 3),
        "creds_ahead_starting_median_ms": round(statistics.median(starting) * 1000, 3),
        "creds_plain_same_timing_median_ms": round(statistics.median(plain_timed) * 1000, 3),
        "creds_binary_bytes": os.path.getsize(args.creds),
        "runs_each": len(times["creds"]),
    }
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--creds", default=str(ROOT / "target" / "release" / "creds"))
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--max-ratio", type=float, default=1.5)
    ap.add_argument("--max-rss-kib", type=int, default=8 * 1024)
    ap.add_argument("--max-ratio-10k", type=float, default=3.5, help="the hit with 10,000 profiles against the plain hit")
    ap.add_argument("--max-ratio-ahead", type=float, default=1.3, help="a hit inside the refresh-ahead window against the plain hit")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--attempts", type=int, default=3, help="with --check: measure again (up to this many times in all) while over target; load on a shared machine only ever slows a run, so one run within target shows the code is")
    args = ap.parse_args()

    target = ROOT / "target"
    floor = target / "bench-floor"
    subprocess.run(["rustc", "--edition", "2021", "-C", "opt-level=3", "-C", "panic=abort", "-C", "strip=symbols", str(ROOT / "bench" / "floor.rs"), "-o", str(floor)], check=True)

    reports = []
    for attempt in range(args.attempts if args.check else 1):
        report = measure(args, floor)
        reports.append(report)
        print(json.dumps(report, indent=2))
        within = (
            report["ratio"] <= args.max_ratio
            and report["ratio_10k"] <= args.max_ratio_10k
            and report["ratio_ahead"] <= args.max_ratio_ahead
            and max(report["creds_peak_rss_kib"], report["creds_10k_peak_rss_kib"]) <= args.max_rss_kib
        )
        if within or not args.check:
            break
        print(f"bench: attempt {attempt + 1} over target; measuring again", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2) + "\n")
    if args.check:
        report = reports[-1]
        problems = []
        if report["ratio"] > args.max_ratio:
            problems.append(f"cache-hit ratio {[r['ratio'] for r in reports]} > {args.max_ratio} in every attempt")
        if report["ratio_10k"] > args.max_ratio_10k:
            problems.append(f"10,000-profile ratio {[r['ratio_10k'] for r in reports]} > {args.max_ratio_10k} in every attempt")
        if report["ratio_ahead"] > args.max_ratio_ahead:
            problems.append(f"refresh-ahead ratio {[r['ratio_ahead'] for r in reports]} > {args.max_ratio_ahead} in every attempt")
        for key in ("creds_peak_rss_kib", "creds_10k_peak_rss_kib"):
            if report[key] > args.max_rss_kib:
                problems.append(f"{key} {report[key]} KiB > {args.max_rss_kib} KiB")
        if problems:
            sys.exit("bench: " + "; ".join(problems))
        print(f"bench: ok (ratio {report['ratio']} <= {args.max_ratio}, 10,000 profiles {report['ratio_10k']} <= {args.max_ratio_10k}, inside the refresh-ahead window {report['ratio_ahead']} <= {args.max_ratio_ahead} (the call that starts the renewal {report['creds_ahead_starting_median_ms']} ms against {report['creds_plain_same_timing_median_ms']} ms for a plain hit timed the same way), peak RSS {report['creds_peak_rss_kib']} and {report['creds_10k_peak_rss_kib']} KiB <= {args.max_rss_kib} KiB, attempt {len(reports)})")


if __name__ == "__main__":
    main()
