#!/bin/sh
# Installs creds from this source tree: the binary (cargo install), its man page and shell
# completions under PREFIX (default ~/.local). Needs a Rust toolchain (rustup.rs).
#   sh packaging/install.sh            # ~/.local/share/{man,bash-completion,...}
#   PREFIX=/usr/local sudo -E sh packaging/install.sh
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-$HOME/.local}
command -v cargo >/dev/null || { echo "install.sh: cargo is needed (https://rustup.rs)" >&2; exit 1; }
cargo install --locked --path . --root "$PREFIX"
bin="$PREFIX/bin/creds"
mkdir -p "$PREFIX/share/man/man1" "$PREFIX/share/bash-completion/completions" "$PREFIX/share/zsh/site-functions" "$PREFIX/share/fish/vendor_completions.d"
"$bin" manpage > "$PREFIX/share/man/man1/creds.1"
"$bin" completions bash > "$PREFIX/share/bash-completion/completions/creds"
"$bin" completions zsh > "$PREFIX/share/zsh/site-functions/_creds"
"$bin" completions fish > "$PREFIX/share/fish/vendor_completions.d/creds.fish"
echo "installed $bin ($("$bin" --version)); make sure $PREFIX/bin is on PATH"
echo "next: creds setup claude --profile YOUR_PROFILE"
