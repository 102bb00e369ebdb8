# Homebrew formula for creds. At release time, point `url` at the release's source tarball and
# set `sha256` (`brew fetch --build-from-source` prints it); `head` builds the default branch.
class Creds < Formula
  desc "AWS credentials for Claude Code, credential_process and shells, cached"
  homepage "https://github.com/creds-dev/creds"
  url "https://github.com/creds-dev/creds/archive/refs/tags/v0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license any_of: ["MIT", "Apache-2.0"]
  head "https://github.com/creds-dev/creds.git", branch: "main"

  depends_on "rust" => :build

  def install
    system "cargo", "install", *std_cargo_args
    (man1/"creds.1").write Utils.safe_popen_read(bin/"creds", "manpage")
    generate_completions_from_executable(bin/"creds", "completions")
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/creds --version")
    (testpath/".aws/credentials").write "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"
    output = shell_output("HOME=#{testpath} #{bin}/creds export --format env")
    assert_match "export AWS_ACCESS_KEY_ID=AKIDEXAMPLE", output
  end
end
