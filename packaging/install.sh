#!/bin/sh
# Installs creds under PREFIX (default ~/.local): the binary, its man page and shell completions.
#
#   sh install.sh                  # the release archive for this machine, checksum verified
#   sh install.sh --from-source    # from this source tree with cargo (any platform Rust has)
#   sh install.sh --print-target   # which archive this machine takes, and nothing else
#
# The archive is picked from `uname -s` and `uname -m`: macOS on Apple silicon or Intel, Linux
# on x86_64, Windows (Git Bash, MSYS2, Cygwin) on x86_64. It is downloaded from
# CREDS_RELEASE_URL (default: the GitHub release of CREDS_VERSION, or of this tree's version)
# with SHA256SUMS beside it; an archive whose checksum differs is not installed.
#   PREFIX=/usr/local sudo -E sh install.sh
set -eu
PREFIX=${PREFIX:-$HOME/.local}
here=$(cd "$(dirname "$0")" && pwd)

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# The release target for an OS and machine name as `uname -s` and `uname -m` print them.
target_for() {
  case "$1:$2" in
    Darwin:arm64 | Darwin:aarch64) echo aarch64-apple-darwin ;;
    Darwin:x86_64) echo x86_64-apple-darwin ;;
    Linux:x86_64 | Linux:amd64) echo x86_64-unknown-linux-gnu ;;
    MINGW64_NT*:x86_64 | MSYS_NT*:x86_64 | CYGWIN_NT*:x86_64) echo x86_64-pc-windows-gnu ;;
    *) return 1 ;;
  esac
}

from_source() {
  command -v cargo >/dev/null || die "cargo is needed (https://rustup.rs)"
  cd "$here/.."
  cargo install --locked --path . --root "$PREFIX"
  bin="$PREFIX/bin/creds"
  mkdir -p "$PREFIX/share/man/man1" "$PREFIX/share/bash-completion/completions" "$PREFIX/share/zsh/site-functions" "$PREFIX/share/fish/vendor_completions.d"
  "$bin" manpage > "$PREFIX/share/man/man1/creds.1"
  "$bin" completions bash > "$PREFIX/share/bash-completion/completions/creds"
  "$bin" completions zsh > "$PREFIX/share/zsh/site-functions/_creds"
  "$bin" completions fish > "$PREFIX/share/fish/vendor_completions.d/creds.fish"
  done_message "$bin"
}

done_message() {
  echo "installed $1 ($("$1" --version)); make sure $(dirname "$1") is on PATH"
  echo "next: creds setup claude --profile YOUR_PROFILE"
}

fetch() { # URL FILE
  if command -v curl >/dev/null; then
    curl --proto '=https,http' -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null; then
    wget -q -O "$2" "$1"
  else
    die "curl or wget is needed to download $1"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "sha256sum or shasum is needed to verify the download"
  fi
}

from_release() {
  os=${CREDS_UNAME_S:-$(uname -s)}
  machine=${CREDS_UNAME_M:-$(uname -m)}
  target=$(target_for "$os" "$machine") ||
    die "no release archive for $os on $machine; install from source instead: sh $0 --from-source"
  version=${CREDS_VERSION:-}
  if [ -z "$version" ] && [ -f "$here/../Cargo.toml" ]; then
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/../Cargo.toml" | head -n1)
  fi
  [ -n "$version" ] || die "set CREDS_VERSION to the version to install"
  base=${CREDS_RELEASE_URL:-https://github.com/creds-dev/creds/releases/download/v$version}
  case "$target" in
    *windows*) archive="creds-$version-$target.zip" exe=creds.exe ;;
    *) archive="creds-$version-$target.tar.gz" exe=creds ;;
  esac
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  fetch "$base/SHA256SUMS" "$work/SHA256SUMS" || die "cannot download $base/SHA256SUMS"
  fetch "$base/$archive" "$work/$archive" || die "cannot download $base/$archive"
  want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$work/SHA256SUMS")
  [ -n "$want" ] || die "SHA256SUMS lists no $archive"
  got=$(sha256_of "$work/$archive")
  [ "$got" = "$want" ] || die "$archive does not match its checksum (got $got, SHA256SUMS says $want); nothing was installed"
  case "$archive" in
    *.zip) command -v unzip >/dev/null || die "unzip is needed"; unzip -q "$work/$archive" -d "$work" ;;
    *) tar -xzf "$work/$archive" -C "$work" ;;
  esac
  dir="$work/creds-$version-$target"
  mkdir -p "$PREFIX/bin" "$PREFIX/share/man/man1" "$PREFIX/share/bash-completion/completions" "$PREFIX/share/zsh/site-functions" "$PREFIX/share/fish/vendor_completions.d"
  # Replaced, not written over: a running creds keeps its old file.
  cp "$dir/$exe" "$PREFIX/bin/.$exe.new" && chmod 0755 "$PREFIX/bin/.$exe.new" && mv -f "$PREFIX/bin/.$exe.new" "$PREFIX/bin/$exe"
  cp "$dir/creds.1" "$PREFIX/share/man/man1/creds.1"
  cp "$dir/completions/creds.bash" "$PREFIX/share/bash-completion/completions/creds"
  cp "$dir/completions/_creds" "$PREFIX/share/zsh/site-functions/_creds"
  cp "$dir/completions/creds.fish" "$PREFIX/share/fish/vendor_completions.d/creds.fish"
  done_message "$PREFIX/bin/$exe"
}

case "${1:-}" in
  --from-source) from_source ;;
  --print-target)
    target_for "${CREDS_UNAME_S:-$(uname -s)}" "${CREDS_UNAME_M:-$(uname -m)}" || die "no release archive for this machine" ;;
  "") from_release ;;
  *) die "usage: sh install.sh [--from-source | --print-target]" ;;
esac
