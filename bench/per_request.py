"""Per-request benchmark: a consumer that runs `credential_process` before every request.

boto3 with a new `Session` for each of 100 STS calls to moto's server: every call resolves the
profile again, so it runs `creds export` (a cache hit) each time, as a short-lived script or a
per-request SDK setup does. The same 100 calls with the same credentials given directly are
the floor. creds' share of a request's wall time is (with creds - floor) / with creds, from
the medians (the totals carry the machine's noise).

    target/interop-venv/bin/python bench/per_request.py [--creds PATH] [--check --max-share 0.5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "interop"))
from conftest import free_port, start_moto, stop  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--creds", default=str(ROOT / "target" / "release" / "creds"))
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--max-share", type=float, default=0.5, help="creds' largest share of the wall time")
    args = ap.parse_args()
    url = f"http://127.0.0.1:{free_port()}"
    with open(ROOT / "target" / "moto-per-request.log", "w") as log:
        moto = start_moto(url, log)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            (home / ".aws").mkdir()
            (home / ".aws" / "config").write_text(
                "[profile base]\nregion = us-east-1\n"
                "aws_access_key_id = AKIAPERREQUEST000001\naws_secret_access_key = per-request-secret\n\n"
                "[profile role]\nrole_arn = arn:aws:iam::222222222222:role/PerRequest\nsource_profile = base\nregion = us-east-1\n\n"
                f"[profile consumer]\nregion = us-east-1\ncredential_process = {args.creds} export --profile role\n"
            )
            os.environ.clear()
            os.environ.update(HOME=str(home), PATH="/usr/bin:/bin", CREDS_CACHE_DIR=str(home / "cache"),
                              AWS_ENDPOINT_URL_STS=url, AWS_EC2_METADATA_DISABLED="true")
            import boto3  # after the environment is set: boto3 reads it
            warm = subprocess.run([args.creds, "export", "--profile", "role"], capture_output=True, text=True)
            if warm.returncode != 0:
                sys.exit(f"cannot warm the cache: {warm.stderr}")
            doc = json.loads(warm.stdout)

            def with_creds():
                boto3.Session(profile_name="consumer").client("sts", endpoint_url=url).get_caller_identity()

            def floor():
                boto3.Session(aws_access_key_id=doc["AccessKeyId"], aws_secret_access_key=doc["SecretAccessKey"],
                              aws_session_token=doc["SessionToken"], region_name="us-east-1").client(
                    "sts", endpoint_url=url).get_caller_identity()

            times = {"creds": [], "floor": []}
            # Call by call, the order alternating, so that the machine's load hits both alike.
            for i in range(args.requests):
                pair = (("creds", with_creds), ("floor", floor))
                for name, call in pair if i % 2 == 0 else reversed(pair):
                    start = time.perf_counter()
                    call()
                    times[name].append(time.perf_counter() - start)
            total_creds, total_floor = sum(times["creds"]), sum(times["floor"])
            med_creds, med_floor = statistics.median(times["creds"]), statistics.median(times["floor"])
            share = (med_creds - med_floor) / med_creds
            report = {
                "requests": len(times["creds"]),
                "with_creds_total_s": round(total_creds, 3),
                "floor_total_s": round(total_floor, 3),
                "with_creds_median_ms": round(statistics.median(times["creds"]) * 1000, 2),
                "floor_median_ms": round(statistics.median(times["floor"]) * 1000, 2),
                "creds_share": round(share, 3),
            }
            print(json.dumps(report))
            if args.check and share > args.max_share:
                sys.exit(f"per-request: creds' share {share:.3f} > {args.max_share}")
            print(f"per-request: ok ({report['requests']} requests, {report['with_creds_median_ms']} ms against "
                  f"{report['floor_median_ms']} ms a request; creds' share of the wall time {share:.3f} <= {args.max_share})")
    finally:
        stop(moto)


if __name__ == "__main__":
    main()
