# Homebrew formula for creds: installs the release archive for this Mac (Apple silicon or Intel)
# or Linux (x86_64). A template: packaging/release.sh writes it out with the release's version,
# URLs and SHA-256 checksums (target/release-archives/creds.rb), which is what a tap publishes.
class Creds < Formula
  desc "AWS credentials for Claude Code, credential_process and shells, cached"
  homepage "https://github.com/creds-dev/creds"
  version "@VERSION@"
  license any_of: ["MIT", "Apache-2.0"]

  on_macos do
    on_arm do
      url "@BASE_URL@/creds-@VERSION@-aarch64-apple-darwin.tar.gz"
      sha256 "@SHA256_aarch64-apple-darwin@"
    end
    on_intel do
      url "@BASE_URL@/creds-@VERSION@-x86_64-apple-darwin.tar.gz"
      sha256 "@SHA256_x86_64-apple-darwin@"
    end
  end

  on_linux do
    on_intel do
      url "@BASE_URL@/creds-@VERSION@-x86_64-unknown-linux-gnu.tar.gz"
      sha256 "@SHA256_x86_64-unknown-linux-gnu@"
    end
  end

  def install
    bin.install "creds"
    man1.install "creds.1"
    bash_completion.install "completions/creds.bash" => "creds"
    zsh_completion.install "completions/_creds"
    fish_completion.install "completions/creds.fish"
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/creds --version")
    (testpath/".aws/credentials").write "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"
    output = shell_output("HOME=#{testpath} #{bin}/creds export --format env")
    assert_match "export AWS_ACCESS_KEY_ID=AKIDEXAMPLE", output
  end
end
