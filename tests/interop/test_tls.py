"""A private CA (AWS_CA_BUNDLE, the profile's ca_bundle): STS as moto's server over HTTPS with
a certificate from a CA made here, which no system trusts."""

import datetime
import ipaddress
import json
import ssl
import subprocess

import pytest
from conftest import free_port, start_moto, stop
from test_interop import AWS_CLI, EXPECTED_ARN, chain_config


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
