"""The Debian package: built by packaging/deb/build.sh, unpacked into a temporary root, and the
installed binary run."""

import gzip
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_deb_installs_and_runs(tmp_path):
    debs = sorted((ROOT / "target" / "debian").glob("creds_*.deb"))
    assert debs, "scripts/test builds the .deb first (packaging/deb/build.sh)"
    deb = debs[-1]
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version", "Architecture", "Depends"], capture_output=True, text=True, check=True).stdout
    assert "Package: creds" in fields and "Depends: libc6" in fields
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    creds = root / "usr" / "bin" / "creds"
    assert os.access(creds, os.X_OK)
    version = subprocess.run([str(creds), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("creds ")
    with gzip.open(root / "usr/share/man/man1/creds.1.gz", "rt") as man:
        assert ".TH creds 1" in man.read()
    for completion in ["usr/share/bash-completion/completions/creds", "usr/share/zsh/vendor-completions/_creds", "usr/share/fish/vendor_completions.d/creds.fish"]:
        assert "export" in (root / completion).read_text()

    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\naws_access_key_id = AKIDDEBTEST000000001\naws_secret_access_key = deb-secret\n")
    out = subprocess.run([str(creds), "export"], capture_output=True, text=True, env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["AccessKeyId"] == "AKIDDEBTEST000000001"
