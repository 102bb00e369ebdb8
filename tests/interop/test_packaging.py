"""The packages: the Debian package (packaging/deb/build.sh) unpacked into a temporary root and
its binary run; the release archives and SHA256SUMS (packaging/release.sh), the Homebrew formula
and Scoop manifest it renders, and packaging/install.sh against the archives served on
127.0.0.1."""

import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest

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


ARCHIVES = ROOT / "target" / "release-archives"
VERSION = next(line.split('"')[1] for line in (ROOT / "Cargo.toml").read_text().splitlines() if line.startswith("version = "))
LINUX = f"creds-{VERSION}-x86_64-unknown-linux-gnu"
WINDOWS = f"creds-{VERSION}-x86_64-pc-windows-gnu"


def sums():
    """SHA256SUMS as {file: hex}."""
    lines = (ARCHIVES / "SHA256SUMS").read_text().splitlines()
    return {name.lstrip("*"): digest for digest, name in (line.split(maxsplit=1) for line in lines)}


def test_release_archives_and_their_checksums(tmp_path):
    import hashlib
    import tarfile
    import zipfile
    listed = sums()
    assert set(listed) == {f"{LINUX}.tar.gz", f"{WINDOWS}.zip"}, listed
    for name, digest in listed.items():
        assert hashlib.sha256((ARCHIVES / name).read_bytes()).hexdigest() == digest, name
    with tarfile.open(ARCHIVES / f"{LINUX}.tar.gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert {f"{LINUX}/creds", f"{LINUX}/README.md", f"{LINUX}/creds.1", f"{LINUX}/completions/_creds",
                f"{LINUX}/completions/creds.bash", f"{LINUX}/completions/creds.fish"} <= set(members)
        assert members[f"{LINUX}/creds"].mode & 0o777 == 0o755 and members[f"{LINUX}/creds"].uid == 0
        tar.extractall(tmp_path, filter="data")
    out = subprocess.run([str(tmp_path / LINUX / "creds"), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"creds {VERSION}"
    with zipfile.ZipFile(ARCHIVES / f"{WINDOWS}.zip") as z:
        names = set(z.namelist())
        assert {f"{WINDOWS}/creds.exe", f"{WINDOWS}/completions/_creds.ps1", f"{WINDOWS}/README.md"} <= names
        assert z.read(f"{WINDOWS}/creds.exe")[:2] == b"MZ"


def test_the_archives_are_reproducible(tmp_path):
    """The same binaries give byte-identical archives (fixed owners, modes and times)."""
    again = tmp_path / "again"
    subprocess.run([str(ROOT / "packaging" / "release.sh"), "--out", str(again),
                    f"x86_64-unknown-linux-gnu={ROOT / 'target' / 'release' / 'creds'}"],
                   check=True, capture_output=True, cwd=ROOT)
    assert (again / f"{LINUX}.tar.gz").read_bytes() == (ARCHIVES / f"{LINUX}.tar.gz").read_bytes()


def test_homebrew_formula_and_scoop_manifest():
    for formula in [ROOT / "packaging" / "homebrew" / "creds.rb", ARCHIVES / "creds.rb"]:
        check = subprocess.run(["ruby", "-c", str(formula)], capture_output=True, text=True)
        assert check.returncode == 0 and "Syntax OK" in check.stdout, check.stderr
    rendered = (ARCHIVES / "creds.rb").read_text()
    listed = sums()
    assert f'sha256 "{listed[LINUX + ".tar.gz"]}"' in rendered
    assert f'version "{VERSION}"' in rendered and f"/{LINUX}.tar.gz" in rendered
    # The macOS archives are built on macOS (the hosted workflow): their placeholders remain.
    assert "@SHA256_aarch64-apple-darwin@" in rendered and "on_arm do" in rendered
    scoop = json.loads((ARCHIVES / "creds.json").read_text())
    win = scoop["architecture"]["64bit"]
    assert win["hash"] == listed[WINDOWS + ".zip"] and win["url"].endswith(f"/{WINDOWS}.zip")
    assert win["extract_dir"] == WINDOWS and scoop["bin"] == "creds.exe" and scoop["version"] == VERSION


def install_sh(*args, env=None):
    return subprocess.run(["sh", str(ROOT / "packaging" / "install.sh"), *args], capture_output=True, text=True,
                          env=env, timeout=120, stdin=subprocess.DEVNULL)


def test_install_sh_picks_the_archive_for_each_machine():
    cases = {("Darwin", "arm64"): "aarch64-apple-darwin", ("Darwin", "x86_64"): "x86_64-apple-darwin",
             ("Linux", "x86_64"): "x86_64-unknown-linux-gnu", ("MINGW64_NT-10.0-22631", "x86_64"): "x86_64-pc-windows-gnu",
             ("MSYS_NT-10.0", "x86_64"): "x86_64-pc-windows-gnu"}
    for (s, m), target in cases.items():
        out = install_sh("--print-target", env=dict(os.environ, CREDS_UNAME_S=s, CREDS_UNAME_M=m))
        assert out.returncode == 0 and out.stdout.strip() == target, (s, m, out.stderr)
    none = install_sh(env=dict(os.environ, CREDS_UNAME_S="Linux", CREDS_UNAME_M="aarch64"))
    assert none.returncode == 1 and "no release archive for Linux on aarch64" in none.stderr
    assert "--from-source" in none.stderr


@pytest.fixture
def served(tmp_path):
    """The release folder over HTTP on 127.0.0.1 (a copy the test may tamper with)."""
    import shutil
    import socket
    import sys
    import time
    import urllib.request
    folder = tmp_path / "served"
    shutil.copytree(ARCHIVES, folder)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/SHA256SUMS", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    yield folder, url
    proc.kill()
    proc.wait()


def test_install_sh_installs_the_verified_archive(tmp_path, served):
    folder, url = served
    prefix = tmp_path / "prefix"
    env = dict(os.environ, PREFIX=str(prefix), CREDS_RELEASE_URL=url, CREDS_UNAME_S="Linux", CREDS_UNAME_M="x86_64")
    out = install_sh(env=env)
    assert out.returncode == 0, out.stderr
    version = subprocess.run([str(prefix / "bin" / "creds"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"creds {VERSION}"
    assert (prefix / "share" / "man" / "man1" / "creds.1").is_file()
    assert "export" in (prefix / "share" / "zsh" / "site-functions" / "_creds").read_text()
    # A tampered archive is refused and nothing is installed.
    other = tmp_path / "other"
    archive = folder / f"{LINUX}.tar.gz"
    archive.write_bytes(archive.read_bytes() + b"x")
    bad = install_sh(env=dict(env, PREFIX=str(other)))
    assert bad.returncode == 1 and "does not match its checksum" in bad.stderr, bad.stderr
    assert not other.exists()
