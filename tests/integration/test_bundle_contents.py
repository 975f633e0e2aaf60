"""What `tether connector create` writes, checked with peers that did not write it.

Each test reads a bundle with openssl, Python's ssl module or python3-cryptography and asserts one
part of the default connector profile (README: the identity scheme): CN and SPIFFE URI SAN,
365-day validity, KeyUsage/EKU/basicConstraints, AKI/SKI, SHA-256 signature, RSA-2048 key, key
file mode 0600, random serials; then the .tar.gz, PKCS#12, ECDSA, CSR and --days forms.
"""
import datetime
import json
import os
import ssl
import stat
import tarfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tetherlib import Tether, run, serial_hex, split_pem

TENANT = "acme"
TRUST_DOMAIN = "tether.internal"
SERIAL_SAMPLE = 20


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """One CA for the whole module: every test issues under its own connector id."""
    t = Tether(tmp_path_factory.mktemp("ca"))
    t.tenant(TENANT)
    return t


# --- helpers -------------------------------------------------------------------------------

def load_chain(path):
    blocks = split_pem(path.read_text())
    return [x509.load_pem_x509_certificate(b.encode()) for b in blocks]


def public_der(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def cn_of(name):
    return [a.value for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)]


def openssl_verify_sslclient(tmp_path, chain_pem, ca_pem):
    """`openssl verify -CAfile ca -untrusted <intermediate> -purpose sslclient <leaf>`: the
    intermediate comes only from the bundle's chain file, the root only from ca.pem."""
    blocks = split_pem(chain_pem)
    assert len(blocks) == 2, f"connector.pem holds the leaf then the intermediate, got {len(blocks)} blocks"
    leaf, inter, ca_file = tmp_path / "v-leaf.pem", tmp_path / "v-intermediate.pem", tmp_path / "v-ca.pem"
    leaf.write_text(blocks[0])
    inter.write_text(blocks[1])
    ca_file.write_text(ca_pem)
    proc = run(["openssl", "verify", "-CAfile", str(ca_file), "-untrusted", str(inter),
                "-purpose", "sslclient", str(leaf)], timeout=30)
    assert proc.returncode == 0 and proc.stdout.strip() == f"{leaf}: OK", proc.stdout + proc.stderr


def assert_profile(leaf, issuing, tenant, cid, days):
    """The connector profile every key type shares."""
    assert leaf.subject.rfc4514_string() == f"CN=connector/{tenant}/{cid}"
    assert leaf.issuer == issuing.subject
    assert leaf.version == x509.Version.v3

    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert not san.critical  # RFC 5280 4.2.1.6: critical only when the subject is empty
    assert list(san.value) == [
        x509.UniformResourceIdentifier(f"spiffe://{TRUST_DOMAIN}/tenant/{tenant}/connector/{cid}")]

    assert leaf.not_valid_after - leaf.not_valid_before == datetime.timedelta(days=days)
    now = datetime.datetime.utcnow()
    assert leaf.not_valid_before <= now < leaf.not_valid_after

    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.CLIENT_AUTH], "EKU must be clientAuth only"

    bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False and bc.value.path_length is None

    ski = leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ski.value.digest == x509.SubjectKeyIdentifier.from_public_key(leaf.public_key()).digest
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    issuer_ski = issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert aki.value.key_identifier == issuer_ski.value.digest, "AKI must equal the issuing CA's SKI"

    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)
    issuing.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes,
                                ec.ECDSA(leaf.signature_hash_algorithm))

    # No extension beyond the profile's six.
    assert {type(e.value) for e in leaf.extensions} == {
        x509.BasicConstraints, x509.KeyUsage, x509.ExtendedKeyUsage, x509.SubjectKeyIdentifier,
        x509.AuthorityKeyIdentifier, x509.SubjectAlternativeName}


def assert_key_usage(leaf, digital_signature, key_encipherment):
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical, "KeyUsage must be critical"
    v = ku.value
    assert (v.digital_signature, v.key_encipherment) == (digital_signature, key_encipherment)
    assert not (v.content_commitment or v.data_encipherment or v.key_agreement or v.key_cert_sign
                or v.crl_sign), f"unexpected KeyUsage bits: {v}"


def issue(ca, cid, *extra):
    return ca.connector(TENANT, cid, ca.root / f"bundle-{cid}", *extra) / "certs"


# --- default bundle ------------------------------------------------------------------------

def test_default_bundle_passes_openssl_verify_purpose_sslclient(ca, tmp_path):
    certs = issue(ca, "verify-1")
    assert sorted(p.name for p in certs.iterdir()) == ["ca.pem", "connector-key.pem", "connector.pem"]
    openssl_verify_sslclient(tmp_path, (certs / "connector.pem").read_text(), (certs / "ca.pem").read_text())


def test_default_profile_fields(ca):
    certs = issue(ca, "profile-1")
    leaf, issuing = load_chain(certs / "connector.pem")
    assert issuing.public_bytes(serialization.Encoding.PEM) == ca.issuing_pem.read_bytes()
    assert (certs / "ca.pem").read_bytes() == ca.root_pem.read_bytes(), "ca.pem is the root: the one anchor"
    roots = load_chain(certs / "ca.pem")
    assert len(roots) == 1 and roots[0].subject == roots[0].issuer == issuing.issuer

    assert_profile(leaf, issuing, TENANT, "profile-1", days=365)
    assert_key_usage(leaf, digital_signature=True, key_encipherment=True)

    pub = leaf.public_key()
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048, "default key is RSA-2048"

    key_file = certs / "connector-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert public_der(key.public_key()) == public_der(pub), "connector-key.pem is the leaf's key"


def test_python_ssl_loads_bundle(ca):
    certs = issue(ca, "pyssl-1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_cert_chain(str(certs / "connector.pem"), str(certs / "connector-key.pem"))
    ctx.load_verify_locations(str(certs / "ca.pem"))
    anchors = ctx.get_ca_certs()
    assert [dict(x[0] for x in a["subject"]).get("commonName") for a in anchors] == ["tether Root CA"]


def test_serials_are_random_positive_and_wide(ca):
    # RFC 5280 4.1.2.2: positive, at most 20 octets. CA/B Forum BR 7.1: at least 64 bits from a
    # CSPRNG. tether draws 127 random bits and redraws when the top octet is zero, so every
    # serial is 121..127 bits long; a serial of 120 bits or fewer means the redraw is gone.
    serials = {}
    for i in range(SERIAL_SAMPLE):
        cid = f"serial-{i}"
        proc = ca.check("connector", "create", "--tenant", TENANT, "--id", cid, "--key-type", "ecdsa-p256",
                        "--json", "--out", str(ca.root / f"bundle-{cid}"))
        printed = json.loads(proc.stdout)["serial"]
        leaf = load_chain(ca.root / f"bundle-{cid}" / "certs" / "connector.pem")[0]
        s = leaf.serial_number
        assert s > 0, f"{cid}: serial {s} is not positive"
        assert 121 <= s.bit_length() <= 127, f"{cid}: serial {s:x} has {s.bit_length()} bits"
        assert printed == serial_hex(s), f"{cid}: CLI printed {printed}, certificate has {s:x}"
        serials[cid] = s
    assert len(set(serials.values())) == SERIAL_SAMPLE, f"repeated serials: {serials}"


# --- other forms ---------------------------------------------------------------------------

def test_out_with_a_trailing_slash_creates_that_directory(ca, tmp_path):
    # As the README prints it: `--out bundle/` makes `bundle` (its parent must exist).
    out = tmp_path / "bundle"
    ca.check("connector", "create", "--tenant", TENANT, "--id", "slash-1", "--out", f"{out}/")
    assert sorted(p.name for p in (out / "certs").iterdir()) == ["ca.pem", "connector-key.pem", "connector.pem"]
    missing = ca.run("connector", "create", "--tenant", TENANT, "--id", "slash-2", "--out",
                     f"{tmp_path}/no-such-dir/bundle/")
    assert missing.returncode != 0
    assert f"directory '{tmp_path}/no-such-dir' does not exist" in missing.stderr, missing.stderr


def test_tar_gz_bundle(ca, tmp_path):
    out = tmp_path / "edge.tar.gz"
    ca.connector(TENANT, "tar-1", out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, "the archive holds a private key"
    folder = f"{TENANT}-tar-1"
    with tarfile.open(out, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        files = {name: m for name, m in members.items() if m.isfile()}
        # Everything under one top-level <tenant>-<connector>/ folder.
        assert sorted(files) == [f"{folder}/certs/ca.pem", f"{folder}/certs/connector-key.pem",
                                 f"{folder}/certs/connector.pem"]
        assert set(members) - set(files) == {folder, f"{folder}/certs"}
        assert members[folder].isdir() and members[f"{folder}/certs"].isdir()
        assert stat.S_IMODE(files[f"{folder}/certs/connector-key.pem"].mode) == 0o600
        data = {name.removeprefix(folder + "/"): tar.extractfile(m).read() for name, m in files.items()}

    assert data["certs/ca.pem"] == ca.root_pem.read_bytes()
    openssl_verify_sslclient(tmp_path, data["certs/connector.pem"].decode(), data["certs/ca.pem"].decode())
    leaf, issuing = [x509.load_pem_x509_certificate(b.encode())
                     for b in split_pem(data["certs/connector.pem"].decode())]
    assert_profile(leaf, issuing, TENANT, "tar-1", days=365)
    key = serialization.load_pem_private_key(data["certs/connector-key.pem"], password=None)
    assert public_der(key.public_key()) == public_der(leaf.public_key())


def test_pkcs12_bundle(ca, tmp_path):
    passfile = tmp_path / "p12-pass"
    passfile.write_text("p12-bundle-passphrase\n")
    out = tmp_path / "edge.p12"
    ca.connector(TENANT, "p12-1", out, "--p12-passphrase-file", str(passfile))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600, "the PKCS#12 file holds a private key"

    proc = run(["openssl", "pkcs12", "-info", "-in", str(out), "-passin", f"file:{passfile}", "-noout"],
               timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = proc.stderr
    # What bundle.cc promises: AES-256-CBC under PBKDF2 for key and certificates, SHA-256 MAC.
    assert "MAC: sha256" in info, info
    assert info.count("Certificate bag") == 3, info  # leaf, issuing CA, root
    assert "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC" in info, info
    assert "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC" in info, info
    wrong = run(["openssl", "pkcs12", "-info", "-in", str(out), "-passin", "pass:wrong-passphrase",
                 "-noout"], timeout=30)
    assert wrong.returncode != 0 and "mac verify error" in wrong.stderr.lower(), wrong.stderr

    p12 = pkcs12.load_pkcs12(out.read_bytes(), b"p12-bundle-passphrase")
    leaf = p12.cert.certificate
    assert p12.cert.friendly_name == f"connector/{TENANT}/p12-1".encode()
    assert public_der(p12.key.public_key()) == public_der(leaf.public_key())
    extra = [c.certificate for c in p12.additional_certs]
    issuing = x509.load_pem_x509_certificate(ca.issuing_pem.read_bytes())
    root = x509.load_pem_x509_certificate(ca.root_pem.read_bytes())
    assert sorted(c.fingerprint(hashes.SHA256()) for c in extra) == \
        sorted(c.fingerprint(hashes.SHA256()) for c in (issuing, root))
    assert_profile(leaf, issuing, TENANT, "p12-1", days=365)

    key, cert, more = pkcs12.load_key_and_certificates(out.read_bytes(), b"p12-bundle-passphrase")
    assert cert == leaf and len(more) == 2 and isinstance(key, rsa.RSAPrivateKey)


def test_private_files_are_0600_even_under_umask_000(ca, tmp_path):
    # A umask can only take bits away; the key must not depend on one to stay private.
    passfile = tmp_path / "p12-pass"
    passfile.write_text("p12-bundle-passphrase\n")
    old = os.umask(0)
    try:
        certs = issue(ca, "umask-dir", "--key-type", "ecdsa-p256")
        ca.connector(TENANT, "umask-tar", tmp_path / "b.tar.gz", "--key-type", "ecdsa-p256")
        ca.connector(TENANT, "umask-p12", tmp_path / "b.p12", "--key-type", "ecdsa-p256",
                     "--p12-passphrase-file", str(passfile))
    finally:
        os.umask(old)
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in
             (certs / "connector-key.pem", tmp_path / "b.tar.gz", tmp_path / "b.p12")}
    assert all(m == 0o600 for m in modes.values()), {str(p): oct(m) for p, m in modes.items()}
    assert stat.S_IMODE(certs.stat().st_mode) == 0o700, oct(certs.stat().st_mode)


def test_ecdsa_p256_bundle(ca, tmp_path):
    certs = issue(ca, "ec-1", "--key-type", "ecdsa-p256")
    openssl_verify_sslclient(tmp_path, (certs / "connector.pem").read_text(), (certs / "ca.pem").read_text())
    leaf, issuing = load_chain(certs / "connector.pem")
    assert_profile(leaf, issuing, TENANT, "ec-1", days=365)
    # RFC 5480 3: keyEncipherment is meaningless for an ECDSA key, so only digitalSignature.
    assert_key_usage(leaf, digital_signature=True, key_encipherment=False)
    pub = leaf.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256r1"
    key_file = certs / "connector-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert public_der(key.public_key()) == public_der(pub)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_cert_chain(str(certs / "connector.pem"), str(key_file))


def make_csr(tmp_path, name, subj):
    key, csr = tmp_path / f"{name}-key.pem", tmp_path / f"{name}.csr"
    run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(csr), "-subj", subj], check=True, timeout=30)
    return key, csr


def test_csr_mode_key_stays_with_connector(ca, tmp_path):
    # The CSR names no identity: the CA sets the whole subject, and drops what the CSR asked for.
    key_file, csr = make_csr(tmp_path, "csr-1", "/O=requested-by-connector")
    certs = issue(ca, "csr-1", "--csr", str(csr))
    assert sorted(p.name for p in certs.iterdir()) == ["ca.pem", "connector.pem"], \
        "CSR mode: the private key never leaves the connector, so no connector-key.pem"
    openssl_verify_sslclient(tmp_path, (certs / "connector.pem").read_text(), (certs / "ca.pem").read_text())
    leaf, issuing = load_chain(certs / "connector.pem")
    assert_profile(leaf, issuing, TENANT, "csr-1", days=365)  # subject is exactly the CA's CN
    req = x509.load_pem_x509_csr(csr.read_bytes())
    assert public_der(leaf.public_key()) == public_der(req.public_key()), "certificate carries the CSR's key"
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_cert_chain(str(certs / "connector.pem"), str(key_file))
    assert public_der(key.public_key()) == public_der(leaf.public_key())


def test_csr_claiming_another_identity_is_refused(ca, tmp_path):
    _, csr = make_csr(tmp_path, "csr-2", f"/CN=connector\\/{TENANT}\\/someone-else")
    out = ca.root / "bundle-csr-2"
    proc = ca.run("connector", "create", "--tenant", TENANT, "--id", "csr-2", "--csr", str(csr), "--out", str(out))
    assert proc.returncode != 0
    assert f"CSR subject CN 'connector/{TENANT}/someone-else' claims another identity" in proc.stderr, proc.stderr
    assert not (out / "certs" / "connector.pem").exists()


def test_days_30(ca, tmp_path):
    certs = issue(ca, "days-30", "--key-type", "ecdsa-p256", "--days", "30")
    leaf, issuing = load_chain(certs / "connector.pem")
    assert leaf.not_valid_after - leaf.not_valid_before == datetime.timedelta(days=30)
    assert_profile(leaf, issuing, TENANT, "days-30", days=30)
    openssl_verify_sslclient(tmp_path, (certs / "connector.pem").read_text(), (certs / "ca.pem").read_text())
