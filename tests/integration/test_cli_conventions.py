"""Conventions every `tether` command keeps: exit code 2 for input refused as given and 1 for an
operation that failed, with "did you mean" for a mistyped flag or subcommand; with --json a
failure also prints {"error": {"code", "message"}} on stdout; the CA passphrase from
TETHER_CA_PASSPHRASE_FILE; `cert inspect` agreeing with openssl."""
import json
import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tetherlib import PASSPHRASE, TETHER, Tether, run, serial_hex, split_pem

TENANT = "acme"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    t = Tether(tmp_path_factory.mktemp("conventions"))
    t.tenant(TENANT)
    t.connector(TENANT, "edge-1", t.root / "edge-1", "--key-type", "ecdsa-p256")
    return t


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env.update(extra)
    return env


# (argv after `tether`, exit code, reason token, text the one stderr line must contain)
BAD_INPUT = {
    "unknown-subcommand": (["connector", "lsit"], 2, "invalid_argument", "did you mean 'list'"),
    "unknown-top-level-subcommand": (["conector", "list"], 2, "invalid_argument", "did you mean 'connector'"),
    "unknown-flag": (["connector", "list", "--tenat", "acme"], 2, "invalid_argument", "did you mean '--tenant'"),
    "flag-value-not-a-number": (["connector", "create", "--tenant", "acme", "--id", "x", "--out", "o",
                                 "--days", "abc"], 2, "invalid_argument", "--days"),
    "missing-required-flag": (["connector", "show", "--tenant", "acme"], 2, "invalid_argument", "--id"),
    "bad-id": (["connector", "show", "--tenant", "acme", "--id", "A/B"], 2, "invalid_id", "connector id 'A/B'"),
    "bad-duration": (["connector", "list", "--expiring-within", "soon"], 2, "invalid_argument", "'soon'"),
    "bad-serial": (["connector", "revoke", "--tenant", "acme", "--id", "edge-1", "--serial", "xyz"], 2,
                   "invalid_argument", "serial 'xyz'"),
    "crl-out-of-range": (["crl", "--next-update", "1000d"], 2, "invalid_argument", "366d"),
    "not-found": (["connector", "show", "--tenant", "acme", "--id", "ghost"], 1, "not_found", "connector 'ghost'"),
    "missing-file": (["cert", "inspect", "/nonexistent/cert.pem"], 1, "io_error", "/nonexistent/cert.pem"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_exit_code_and_message_for_bad_input(ca, name):
    argv, code, reason, needle = BAD_INPUT[name]
    proc = ca.run(*argv, env=clean_env())
    where = f"\nstdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
    assert proc.returncode == code, where
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, "one line on stderr" + where
    assert re.fullmatch(rf"tether: .+ \[{reason}\]", lines[0]), where
    assert needle in lines[0], where
    assert proc.stdout == "", where


@pytest.mark.parametrize("name", ["unknown-flag", "bad-id", "not-found", "missing-file"])
def test_json_failure_prints_the_error_object(ca, name):
    argv, code, reason, needle = BAD_INPUT[name]
    proc = ca.run(*argv, "--json", env=clean_env())
    assert proc.returncode == code, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}, doc
    assert doc["error"]["code"] == reason
    assert needle in doc["error"]["message"]


def test_help_is_not_an_error(ca):
    proc = run([TETHER, "connector", "renew", "--help"])
    assert proc.returncode == 0
    assert "--force" in proc.stdout


def test_passphrase_help_says_which_variable_holds_what():
    text = " ".join(run([TETHER, "crl", "--help"]).stdout.split())
    assert "$TETHER_CA_PASSPHRASE_FILE" in text and "$TETHER_CA_PASSPHRASE, which holds the passphrase itself" in text, text


def test_passphrase_file_from_the_environment(ca, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o600)
    proc = ca.run("connector", "create", "--tenant", TENANT, "--id", "env-file-1", "--out", str(tmp_path / "b"),
                  "--key-type", "ecdsa-p256", passphrase=False,
                  env=clean_env(TETHER_CA_PASSPHRASE_FILE=str(secret)))
    assert proc.returncode == 0, proc.stderr


def test_readable_passphrase_file_is_refused_naming_its_mode(ca, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o644)
    proc = ca.run("connector", "create", "--tenant", TENANT, "--id", "env-file-2", "--out", str(tmp_path / "b"),
                  passphrase=False, env=clean_env(TETHER_CA_PASSPHRASE_FILE=str(secret)))
    assert proc.returncode == 2, proc.stderr
    assert f"passphrase file '{secret}' (TETHER_CA_PASSPHRASE_FILE) has mode 0644" in proc.stderr, proc.stderr
    assert "chmod 600" in proc.stderr
    assert not (tmp_path / "b").exists()


def test_both_passphrase_variables_are_refused(ca, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o600)
    proc = ca.run("crl", passphrase=False,
                  env=clean_env(TETHER_CA_PASSPHRASE_FILE=str(secret), TETHER_CA_PASSPHRASE=PASSPHRASE))
    assert proc.returncode == 2
    assert "both TETHER_CA_PASSPHRASE_FILE and TETHER_CA_PASSPHRASE are set" in proc.stderr


# --- cert inspect ---------------------------------------------------------------------------

def openssl_field(path, *flags):
    out = run(["openssl", "x509", "-noout", *flags, "-in", str(path)], check=True).stdout.strip()
    return out.split("=", 1)[1]


def test_cert_inspect_agrees_with_openssl(ca, tmp_path):
    leaf = tmp_path / "leaf.pem"
    leaf.write_text(split_pem((ca.root / "edge-1/certs/connector.pem").read_text())[0])
    doc = json.loads(run([TETHER, "cert", "inspect", str(leaf), "--json"], check=True).stdout)
    openssl_fp = openssl_field(leaf, "-fingerprint", "-sha256")
    assert doc["sha256_fingerprint"] == openssl_fp.replace(":", "").lower()
    assert doc["serial"] == openssl_field(leaf, "-serial").lower()
    assert len(doc["serial"]) % 2 == 0
    assert doc["identity"] == f"connector/{TENANT}/edge-1"
    assert doc["key_type"] == "ecdsa-p256"
    assert doc["extended_key_usage"] == ["clientAuth"]
    assert doc["subject_alt_names"] == [f"URI:spiffe://tether.internal/tenant/{TENANT}/connector/edge-1"]
    cert = x509.load_pem_x509_certificate(leaf.read_bytes())
    assert doc["not_after"] == cert.not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ")

    openssl_text = run([TETHER, "cert", "inspect", str(leaf), "--openssl-format"], check=True).stdout
    assert f"SHA-256:     {openssl_fp}\n" in openssl_text, openssl_text


def test_cert_inspect_of_a_ca_certificate_names_no_identity(ca):
    doc = json.loads(run([TETHER, "cert", "inspect", str(ca.root_pem), "--json"], check=True).stdout)
    assert doc["identity"] is None
    assert doc["subject"] == doc["issuer"]


def test_cert_inspect_refuses_a_csr_with_the_reason(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])).sign(key, hashes.SHA256())
    path = tmp_path / "request.csr"
    path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    proc = run([TETHER, "cert", "inspect", str(path)])
    assert proc.returncode == 2, proc.stderr
    assert f"'{path}' is not a certificate: its first PEM block is 'CERTIFICATE REQUEST'" in proc.stderr, proc.stderr


def test_cert_inspect_refuses_garbage(tmp_path):
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x00\x01 not a certificate")
    proc = run([TETHER, "cert", "inspect", str(path)])
    assert proc.returncode == 2, proc.stderr
    assert f"'{path}' is not a certificate (PEM or DER)" in proc.stderr, proc.stderr


def test_fingerprints_are_lowercase_hex_everywhere(ca):
    shown = json.loads(ca.check("ca", "show", "--json").stdout)
    for which in ("root", "issuing"):
        assert re.fullmatch(r"[0-9a-f]{64}", shown[which]["sha256_fingerprint"]), shown
        assert len(shown[which]["serial"]) % 2 == 0
    conn = json.loads(ca.check("connector", "show", "--tenant", TENANT, "--id", "edge-1", "--json").stdout)
    for c in conn["certificates"]:
        assert re.fullmatch(r"[0-9a-f]{64}", c["sha256_fingerprint"])
        assert re.fullmatch(r"([0-9a-f]{2})+", c["serial"])


def test_ca_init_creates_missing_parents_of_data(tmp_path):
    data = tmp_path / "home" / "tether" / "data"
    proc = run([TETHER, "ca", "init", "--data", str(data), "--insecure-no-passphrase"])
    assert proc.returncode == 0, proc.stderr
    assert (data / "ca" / "root.pem").exists()
    assert (data.stat().st_mode & 0o777) == 0o700, oct(data.stat().st_mode)
