"""A private CA (AWS_CA_BUNDLE, the profile's ca_bundle): STS as moto's server over HTTPS, and the
fake IAM Identity Center (OIDC and portal) behind a TLS front, with a certificate from a CA made
here, which no system trusts."""

import datetime
import ipaddress
import json
import select
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest
from conftest import free_port, start_moto, stop
from test_interop import AWS_CLI, EXPECTED_ARN, chain_config
from test_sso import SSO_CONFIG, sso_home, write_token


def make_ca_and_server_cert(dir):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    pem = lambda cert: cert.public_bytes(serialization.Encoding.PEM)  # noqa: E731

    def cert(subject, issuer, key, signer, ca):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("creds test CA", "creds test CA", ca_key, ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    server = cert("127.0.0.1", "creds test CA", key, ca_key, False)
    (dir / "ca.pem").write_bytes(pem(ca))
    (dir / "server.pem").write_bytes(pem(server))
    (dir / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    other_key = ec.generate_private_key(ec.SECP256R1())
    (dir / "other-ca.pem").write_bytes(pem(cert("another CA", "another CA", other_key, other_key, True)))


@pytest.fixture(scope="module")
def tls_moto(tmp_path_factory):
    dir = tmp_path_factory.mktemp("tls")
    make_ca_and_server_cert(dir)
    url = f"https://127.0.0.1:{free_port()}"
    context = ssl.create_default_context(cafile=str(dir / "ca.pem"))
    with open(dir / "moto.log", "w") as log:
        proc = start_moto(url, log, ["-c", str(dir / "server.pem"), "-k", str(dir / "server.key")], context)
        yield url, dir
        stop(proc)


def export(creds_bin, home, env):
    return subprocess.run([creds_bin, "export", "--profile", "hop2", "--no-cache", "--format", "process"], env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_private_ca(creds_bin, home, tls_moto):
    url, dir = tls_moto
    home.config(chain_config(creds_bin))
    base = dict(home.env, AWS_ENDPOINT_URL_STS=url)

    # Not trusted: a network failure (exit 6) that says how to trust the CA.
    out = export(creds_bin, home, base)
    assert out.returncode == 6, out.stderr
    assert out.stdout == ""
    assert "AWS_CA_BUNDLE" in out.stderr and out.stderr.count("\n") == 1, out.stderr

    # AWS_CA_BUNDLE: both AssumeRole calls over TLS to the private CA's server.
    out = export(creds_bin, home, dict(base, AWS_CA_BUNDLE=str(dir / "ca.pem")))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["AccessKeyId"].startswith("ASIA")

    # The AWS CLI, with the same AWS_CA_BUNDLE, consumes creds and calls the same server.
    env = dict(base, AWS_CA_BUNDLE=str(dir / "ca.pem"))
    cli = subprocess.run([AWS_CLI, "sts", "get-caller-identity", "--profile", "consumer", "--endpoint-url", url,
                          "--output", "json"], env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["Arn"] == EXPECTED_ARN

    # The selected profile's ca_bundle, with a leading ~; AWS_CA_BUNDLE wins over it.
    (home.root / "ca.pem").write_bytes((dir / "ca.pem").read_bytes())
    home.config(chain_config(creds_bin).replace("role_session_name = interop-b\n",
                                                "role_session_name = interop-b\nca_bundle = ~/ca.pem\n"))
    out = export(creds_bin, home, base)
    assert out.returncode == 0, out.stderr
    out = export(creds_bin, home, dict(base, AWS_CA_BUNDLE=str(dir / "other-ca.pem")))
    assert out.returncode == 6, "AWS_CA_BUNDLE replaces the profile's bundle"
    # The bundle replaces the system's roots, as in the AWS CLI: another CA is not enough.
    assert "certificate" in out.stderr, out.stderr

    # doctor names the bundle and what it holds.
    doctor = subprocess.run([creds_bin, "doctor", "--profile", "hop2"], env=base, capture_output=True, text=True, timeout=60)
    assert f"CA bundle: {home.root / 'ca.pem'} (from " in doctor.stdout + doctor.stderr
    assert "1 certificate)" in doctor.stdout + doctor.stderr


@pytest.mark.parametrize("content,says", [
    (None, "cannot be read"),
    (b"", "holds no certificate"),
    (b"not a certificate\n", "holds no certificate"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be read (number 1"),
    (b"-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n", "is not valid PEM"),
])
def test_unusable_ca_bundle_is_a_config_error(creds_bin, home, tls_moto, content, says):
    url, dir = tls_moto
    home.config(chain_config(creds_bin))
    bundle = home.root / "bundle.pem"
    if content is not None:
        bundle.write_bytes(content)
    out = export(creds_bin, home, dict(home.env, AWS_ENDPOINT_URL_STS=url, AWS_CA_BUNDLE=str(bundle)))
    assert out.returncode == 3, out.stderr
    assert out.stdout == ""
    assert str(bundle) in out.stderr and says in out.stderr and out.stderr.count("\n") == 1, out.stderr


class TlsFront:
    """HTTPS on 127.0.0.1 in front of a plain-HTTP server, with the private CA's server
    certificate: one thread a connection, which copies bytes both ways (one thread reads and
    writes the TLS socket, so OpenSSL never sees two at once) and ends when either side ends
    or nothing moves for 30 s. Counts the handshakes that failed (a client that did not trust
    the certificate)."""

    def __init__(self, backend_url, dir):
        self.backend = urllib.parse.urlsplit(backend_url).port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(dir / "server.pem", dir / "server.key")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.refused = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.relay, args=(conn,), daemon=True).start()

    def relay(self, conn):
        conn.settimeout(30)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            self.refused += 1
            conn.close()
            return
        with tls, socket.create_connection(("127.0.0.1", self.backend), timeout=30) as up:
            while True:
                ready = [tls] if tls.pending() else select.select([tls, up], [], [], 30)[0]
                if not ready:
                    return
                for src in ready:
                    try:
                        data = src.recv(65536)
                    except ssl.SSLWantReadError:
                        continue
                    except OSError:
                        return
                    if not data:
                        return
                    (up if src is tls else tls).sendall(data)

    def close(self):
        self.listener.close()


def test_sso_calls_trust_the_private_ca(creds_bin, home, moto, fake_sso, tls_moto):
    """IAM Identity Center behind TLS with a private CA: OIDC's CreateToken (a renewal) and the
    portal's GetRoleCredentials fail with exit 6 and the CA hint until AWS_CA_BUNDLE names the
    CA, then both go over TLS; STS stays moto over plain HTTP."""
    url, dir = tls_moto
    front = TlsFront(fake_sso.url, dir)
    try:
        sso_home(home, fake_sso)
        home.env.update(AWS_ENDPOINT_URL_SSO=front.url, AWS_ENDPOINT_URL_SSO_OIDC=front.url)
        home.config(SSO_CONFIG)
        fake_sso.configure(rotate=True)
        issued = fake_sso.issue()
        path = write_token(home, issued, minutes=5)

        out = home.run([creds_bin, "export", "--profile", "dev"])
        assert (out.returncode, out.stdout) == (6, ""), out.stderr
        assert "AWS_CA_BUNDLE" in out.stderr and out.stderr.count("\n") == 1, out.stderr
        # The front's thread sees the refused handshake when it reads creds' alert, which may
        # be just after creds exits.
        deadline = time.monotonic() + 10
        while front.refused == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert front.refused >= 1
        assert fake_sso.count("CreateToken") == 0 and fake_sso.count("GetRoleCredentials") == 0
        assert json.loads(path.read_text())["accessToken"] == issued["accessToken"], "the token is kept"

        out = home.run([creds_bin, "export", "--profile", "dev", "--refresh"], env=dict(home.env, AWS_CA_BUNDLE=str(dir / "ca.pem")))
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["AccessKeyId"]
        assert fake_sso.count("CreateToken") == 1 and fake_sso.count("GetRoleCredentials") == 1
        assert json.loads(path.read_text())["accessToken"] != issued["accessToken"], "renewed over TLS"
    finally:
        front.close()
