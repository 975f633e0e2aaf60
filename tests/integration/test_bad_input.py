"""Bad input is refused with one line naming the problem, and changes nothing.

Every case runs one tether command that must fail and asserts:
  - the exit code (2 for input refused as given, 1 for an operation that failed: exit_code_for),
  - stderr is exactly one line, "tether: <message> [<reason>]", with the expected reason token
    and the offending value quoted in the message,
  - nothing on stdout,
  - the store is byte-for-byte unchanged (store_digest) and so is every other file of the data
    directory (CA files included),
  - no bundle output was written.
"""
import hashlib
import os
import pathlib
import re
import shutil
import sqlite3
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tetherlib import COMMAND_TIMEOUT, TETHER, Tether, exit_code_for, run

TRUST_DOMAIN = "tether.internal"
LONG_ID = "a" * 64


# ---------------------------------------------------------------------------------------------
# Helpers


def tree_snapshot(root: pathlib.Path):
    """{relative path: (mode, bytes or None for a directory)} under root; None if root is absent."""
    snap = {}
    if not root.exists():
        return None
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        st = p.lstat()
        snap[rel] = (st.st_mode, None if p.is_dir() else p.read_bytes())
    return snap


class Before:
    """What the data directory looked like before the failing command."""

    def __init__(self, t: Tether):
        self.store = t.store_digest() if t.data.exists() else None
        self.tree = tree_snapshot(t.data)


def clean_env():
    """The environment without tether's own variables, so only the arguments decide."""
    env = dict(os.environ)
    for key in ("TETHER_CA_PASSPHRASE", "TETHER_DATA"):
        env.pop(key, None)
    return env


def assert_refused(t: Tether, before: Before, proc, reason, needles, exit_code=None, out=None):
    exit_code = exit_code_for(reason) if exit_code is None else exit_code
    where = f"\nstdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
    assert proc.returncode == exit_code, f"exit code {proc.returncode}, expected {exit_code}" + where
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and proc.stderr.endswith("\n"), "stderr must be exactly one line" + where
    line = lines[0]
    assert re.fullmatch(r"tether: .+ \[[a-z_]+\]", line), "not 'tether: <message> [<reason>]'" + where
    assert line.endswith(f" [{reason}]"), f"expected reason [{reason}]" + where
    for needle in needles:
        assert needle in line, f"the message does not name {needle!r}" + where
    assert proc.stdout == "", "a refused command must print nothing on stdout" + where
    if before.store is None:
        assert not t.data.exists(), f"{t.data} was created by a refused command"
    else:
        assert t.store_digest() == before.store, "the store changed" + where
        assert tree_snapshot(t.data) == before.tree, "the data directory changed" + where
    if out is not None:
        assert not pathlib.Path(out).exists(), f"bundle output {out} was written" + where


# ---------------------------------------------------------------------------------------------
# A CA with tenant 'acme' and connector 'acme/edge-1', made once and copied for each test.


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("template")
    t = Tether(root)
    t.tenant("acme")
    t.connector("acme", "edge-1", root / "edge-1-bundle", "--key-type", "ecdsa-p256")
    return root


@pytest.fixture
def t(template, tmp_path):
    shutil.copytree(template / "data", tmp_path / "data", symlinks=True)
    return Tether(tmp_path, init=False)


@pytest.fixture
def out(tmp_path):
    return tmp_path / "bundle-out"


def create(tenant, cid, out, *extra):
    return ["connector", "create", "--tenant", tenant, "--id", cid, "--out", str(out), *extra]


def renew(tenant, cid, out, *extra):
    return ["connector", "renew", "--tenant", tenant, "--id", cid, "--out", str(out), *extra]


# (command, reason, what the message must name). {out} is replaced by the bundle path.
ARGUMENT_CASES = {
    # Invalid ids, wherever an id is taken.
    "connector-id-slash": (create("acme", "A/B", "{out}"), "invalid_id", ["connector id 'A/B'"]),
    "connector-id-dotdot": (create("acme", "../x", "{out}"), "invalid_id", ["connector id '../x'"]),
    "connector-id-empty": (create("acme", "", "{out}"), "invalid_id", ["connector id ''", "empty"]),
    "connector-id-64-chars": (create("acme", LONG_ID, "{out}"), "invalid_id",
                              [f"connector id '{LONG_ID}'", "64 characters"]),
    "connector-id-leading-dash": (create("acme", "-edge", "{out}"), "invalid_id", ["'-edge'"]),
    "tenant-id-slash-on-create": (create("A/B", "edge-2", "{out}"), "invalid_id", ["tenant id 'A/B'"]),
    "tenant-id-dotdot-on-renew": (renew("../x", "edge-1", "{out}"), "invalid_id", ["tenant id '../x'"]),
    "connector-id-slash-on-revoke": (["connector", "revoke", "--tenant", "acme", "--id", "A/B"],
                                     "invalid_id", ["connector id 'A/B'"]),
    "tenant-create-slash": (["tenant", "create", "A/B"], "invalid_id", ["tenant id 'A/B'"]),
    "tenant-create-dotdot": (["tenant", "create", "../x"], "invalid_id", ["tenant id '../x'"]),
    "tenant-create-empty": (["tenant", "create", ""], "invalid_id", ["tenant id ''", "empty"]),
    "tenant-create-64-chars": (["tenant", "create", LONG_ID], "invalid_id",
                               [f"tenant id '{LONG_ID}'", "64 characters"]),
    # Things that exist already, or do not exist.
    "duplicate-connector": (create("acme", "edge-1", "{out}"), "already_exists",
                            ["connector 'edge-1'", "tenant 'acme'"]),
    "duplicate-tenant": (["tenant", "create", "acme"], "already_exists", ["tenant 'acme'"]),
    "unknown-tenant-on-create": (create("nope", "edge-2", "{out}"), "not_found", ["tenant 'nope'"]),
    "unknown-tenant-on-renew": (renew("nope", "edge-1", "{out}"), "not_found", ["tenant 'nope'"]),
    "renew-unknown-connector": (renew("acme", "ghost", "{out}"), "not_found",
                                ["connector 'ghost'", "tenant 'acme'"]),
    "revoke-unknown-connector": (["connector", "revoke", "--tenant", "acme", "--id", "ghost"],
                                 "not_found", ["connector 'ghost'", "tenant 'acme'"]),
    "revoke-unknown-serial": (["connector", "revoke", "--tenant", "acme", "--id", "edge-1",
                               "--serial", "0badc0ffee"], "not_found", ["0badc0ffee", "acme/edge-1"]),
    "revoke-non-hex-serial": (["connector", "revoke", "--tenant", "acme", "--id", "edge-1",
                               "--serial", "xyz"], "invalid_argument", ["serial 'xyz'"]),
    "revoke-bad-reason": (["connector", "revoke", "--tenant", "acme", "--id", "edge-1",
                           "--reason", "bogus"], "invalid_argument", ["reason 'bogus'"]),
    # Out-of-range options.
    "days-0": (create("acme", "edge-2", "{out}", "--days", "0"), "invalid_argument", ["--days 0"]),
    "days-10000": (create("acme", "edge-2", "{out}", "--days", "10000"), "invalid_argument",
                   ["--days 10000"]),
    "renew-days-0": (renew("acme", "edge-1", "{out}", "--days", "0"), "invalid_argument", ["--days 0"]),
    "unknown-key-type": (create("acme", "edge-2", "{out}", "--key-type", "dsa"), "invalid_argument",
                         ["key type 'dsa'"]),
    "crl-validity-too-long": (["crl", "--next-update", "1000d"], "invalid_argument",
                              ["--next-update '1000d'", "366d"]),
}


@pytest.mark.parametrize("name", sorted(ARGUMENT_CASES))
def test_bad_argument_is_refused_and_changes_nothing(t, out, name):
    argv, reason, needles = ARGUMENT_CASES[name]
    argv = [str(out) if a == "{out}" else a for a in argv]
    before = Before(t)
    proc = t.run(*argv, env=clean_env())
    assert_refused(t, before, proc, reason, needles, out=out)


def test_out_pointing_to_non_empty_directory_is_refused(t, out):
    out.mkdir()
    (out / "keep.txt").write_text("someone else's file\n")
    before_out = tree_snapshot(out)
    before = Before(t)
    proc = t.run(*create("acme", "edge-2", out), env=clean_env())
    assert_refused(t, before, proc, "already_exists", [f"--out '{out}'", "not an empty directory"])
    assert tree_snapshot(out) == before_out, "the existing --out directory was modified"


def test_wrong_passphrase_is_refused(t, out, tmp_path):
    wrong = tmp_path / "wrong-passphrase"
    wrong.write_text("not-the-passphrase\n")
    before = Before(t)
    proc = t.run(*create("acme", "edge-2", out, "--passphrase-file", str(wrong)), env=clean_env())
    assert_refused(t, before, proc, "wrong_passphrase", ["wrong passphrase", "issuing-key.pem"], out=out)


def test_wrong_passphrase_is_refused_by_crl(t, tmp_path):
    wrong = tmp_path / "wrong-passphrase"
    wrong.write_text("not-the-passphrase\n")
    before = Before(t)
    proc = t.run("crl", "--out", str(tmp_path / "crl.pem"), "--passphrase-file", str(wrong),
                 env=clean_env())
    assert_refused(t, before, proc, "wrong_passphrase", ["wrong passphrase"], out=tmp_path / "crl.pem")


def test_missing_passphrase_is_refused(t, out):
    before = Before(t)
    proc = t.run(*create("acme", "edge-2", out), passphrase=False, env=clean_env())
    assert_refused(t, before, proc, "passphrase_required", ["no passphrase was given", "--passphrase-file"],
                   out=out)


# ---------------------------------------------------------------------------------------------
# CSR mode: the CSR proves possession of its key and never chooses the identity.


def make_csr(key=None, cn=None, sans=()):
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(key, hashes.SHA256())


def csr_pem(csr):
    return csr.public_bytes(serialization.Encoding.PEM)


def with_flipped_signature_byte(csr):
    """The same CSR with one bit of its signature changed; it still parses as a CSR."""
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    sig = csr.signature
    # The signature is the last field of the DER encoding (RFC 2986 4.2).
    assert der.endswith(sig)
    der[-len(sig) // 2] ^= 0x01
    tampered = x509.load_der_x509_csr(bytes(der))
    assert tampered.signature != sig, "the flipped byte must land inside the signature"
    assert tampered.tbs_certrequest_bytes == csr.tbs_certrequest_bytes
    assert not tampered.is_signature_valid, "the tampered CSR must not verify"
    return tampered.public_bytes(serialization.Encoding.PEM)


def corrupt_base64(pem: bytes):
    lines = pem.decode().splitlines()
    body = lines[1]
    lines[1] = body[:10] + "!!!!" + body[14:]
    return ("\n".join(lines) + "\n").encode()


def truncated(pem: bytes):
    lines = pem.decode().splitlines()
    return ("\n".join(lines[:2] + lines[-1:]) + "\n").encode()


def spiffe(tenant, cid):
    return f"spiffe://{TRUST_DOMAIN}/tenant/{tenant}/connector/{cid}"


CSR_CASES = {
    "bad-signature": (lambda: with_flipped_signature_byte(make_csr()), "bad_csr_signature",
                      ["CSR signature does not verify"]),
    "corrupt-base64": (lambda: corrupt_base64(csr_pem(make_csr())), "parse_error", ["CSR"]),
    "truncated-pem": (lambda: truncated(csr_pem(make_csr())), "parse_error", ["CSR"]),
    "not-pem-at-all": (lambda: b"this is not a certificate request\n", "parse_error", ["CSR"]),
    "empty-file": (lambda: b"", "parse_error", ["CSR is empty"]),
    "cn-names-other-connector": (lambda: csr_pem(make_csr(cn="connector/acme/other")),
                                 "csr_identity_mismatch", ["'connector/acme/other'", "connector/acme/edge-2"]),
    "cn-names-other-tenant": (lambda: csr_pem(make_csr(cn="connector/globex/edge-2")),
                              "csr_identity_mismatch", ["'connector/globex/edge-2'"]),
    "cn-names-admin": (lambda: csr_pem(make_csr(cn="admin/root")), "csr_identity_mismatch", ["'admin/root'"]),
    "san-uri-other-identity": (
        lambda: csr_pem(make_csr(sans=[x509.UniformResourceIdentifier(spiffe("globex", "edge-2"))])),
        "csr_identity_mismatch", [spiffe("globex", "edge-2")]),
    "san-uri-own-plus-other": (
        lambda: csr_pem(make_csr(cn="connector/acme/edge-2", sans=[
            x509.UniformResourceIdentifier(spiffe("acme", "edge-2")),
            x509.UniformResourceIdentifier(spiffe("acme", "edge-1"))])),
        "csr_identity_mismatch", [spiffe("acme", "edge-1")]),
    "san-dns": (lambda: csr_pem(make_csr(sans=[x509.DNSName("gateway.example.com")])),
                "csr_identity_mismatch", ["subjectAltName"]),
    "weak-rsa-1024": (lambda: csr_pem(make_csr(key=rsa.generate_private_key(65537, 1024))),
                      "unsupported_key", ["1024 bits"]),
    "curve-p521": (lambda: csr_pem(make_csr(key=ec.generate_private_key(ec.SECP521R1()))),
                   "unsupported_key", ["secp521r1"]),
}


@pytest.mark.parametrize("name", sorted(CSR_CASES))
def test_bad_csr_is_refused_and_changes_nothing(t, out, tmp_path, name):
    make, reason, needles = CSR_CASES[name]
    csr_file = tmp_path / "request.csr"
    csr_file.write_bytes(make())
    before = Before(t)
    proc = t.run(*create("acme", "edge-2", out, "--csr", str(csr_file)), env=clean_env())
    assert_refused(t, before, proc, reason, needles, out=out)


def test_bad_csr_signature_is_refused_on_renew(t, out, tmp_path):
    csr_file = tmp_path / "request.csr"
    csr_file.write_bytes(with_flipped_signature_byte(make_csr(cn="connector/acme/edge-1")))
    before = Before(t)
    proc = t.run(*renew("acme", "edge-1", out, "--csr", str(csr_file)), env=clean_env())
    assert_refused(t, before, proc, "bad_csr_signature", ["CSR signature does not verify"], out=out)


def test_unreadable_csr_message_names_the_file(t, out, tmp_path):
    csr_file = tmp_path / "request.csr"
    csr_file.write_bytes(corrupt_base64(csr_pem(make_csr())))
    before = Before(t)
    proc = t.run(*create("acme", "edge-2", out, "--csr", str(csr_file)), env=clean_env())
    assert_refused(t, before, proc, "parse_error", [str(csr_file)], out=out)


def test_good_csr_from_the_same_builder_is_accepted(t, out, tmp_path):
    """Control for the CSR cases: an untampered CSR from make_csr() is issued, with the identity
    the CA sets (CN and URI SAN), so the refusals above are about the one thing each case breaks."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr_file = tmp_path / "request.csr"
    csr_file.write_bytes(csr_pem(make_csr(key=key, cn="connector/acme/edge-2",
                                          sans=[x509.UniformResourceIdentifier(spiffe("acme", "edge-2"))])))
    t.check(*create("acme", "edge-2", out, "--csr", str(csr_file)))
    leaf = x509.load_pem_x509_certificate((out / "certs" / "connector.pem").read_bytes())
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "connector/acme/edge-2"
    uris = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.UniformResourceIdentifier)
    assert uris == [spiffe("acme", "edge-2")]
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    assert not (out / "certs" / "connector-key.pem").exists(), "CSR mode writes no private key"

    # With an empty subject the CA still sets the whole identity.
    out2 = tmp_path / "bundle-empty-subject"
    csr_file.write_bytes(csr_pem(make_csr()))
    t.check(*create("acme", "edge-3", out2, "--csr", str(csr_file)))
    leaf = x509.load_pem_x509_certificate((out2 / "certs" / "connector.pem").read_bytes())
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "connector/acme/edge-3"


# ---------------------------------------------------------------------------------------------
# ca init


@pytest.fixture
def fresh(tmp_path):
    """A Tether whose data directory does not exist yet."""
    return Tether(tmp_path, init=False)


def ca_init(t: Tether, *extra):
    return ["ca", "init", "--data", str(t.data), *extra]


@pytest.mark.parametrize("domain,needle", [
    ("Bad_Domain", "trust domain 'Bad_Domain'"),
    ("", "trust domain ''"),
    ("a..b", "trust domain 'a..b'"),
    ("-lead.example", "trust domain '-lead.example'"),
], ids=["uppercase-underscore", "empty", "empty-label", "leading-dash"])
def test_ca_init_refuses_invalid_trust_domain(fresh, domain, needle):
    before = Before(fresh)
    proc = fresh.run(*ca_init(fresh, "--trust-domain", domain), env=clean_env())
    assert_refused(fresh, before, proc, "invalid_argument", [needle])


def test_ca_init_refuses_unknown_key_type(fresh):
    before = Before(fresh)
    proc = fresh.run(*ca_init(fresh, "--key-type", "dsa"), env=clean_env())
    assert_refused(fresh, before, proc, "invalid_argument", ["key type 'dsa'"])


def test_ca_init_without_passphrase_is_a_usage_error(fresh):
    before = Before(fresh)
    proc = fresh.run(*ca_init(fresh), passphrase=False, env=clean_env())
    assert_refused(fresh, before, proc, "invalid_argument", ["need a passphrase", "--passphrase-file"],
                   exit_code=2)


def test_ca_init_with_short_passphrase_is_a_usage_error(fresh, tmp_path):
    short = tmp_path / "short"
    short.write_text("1234567\n")
    before = Before(fresh)
    proc = fresh.run(*ca_init(fresh, "--passphrase-file", str(short)), env=clean_env())
    assert_refused(fresh, before, proc, "invalid_argument", ["7 characters", "at least 8"], exit_code=2)


def test_ca_init_twice_leaves_the_existing_ca_untouched(t, tmp_path):
    ca_before = tree_snapshot(t.data / "ca")
    before = Before(t)
    other = tmp_path / "other-passphrase"
    other.write_text("another-good-passphrase\n")
    proc = t.run(*ca_init(t, "--passphrase-file", str(other)), env=clean_env())
    assert_refused(t, before, proc, "ca_exists", [f"'{t.data}/ca'"])
    assert tree_snapshot(t.data / "ca") == ca_before
    # And the original CA still signs with the original passphrase.
    t.connector("acme", "after-refusal", tmp_path / "after", "--key-type", "ecdsa-p256")


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_ca_init_creates_exactly_one_ca(tmp_path, round_):
    """Four `ca init` on the same fresh directory at once: one CA, recorded once, and every other
    command refused with one line. Regression: the store's first open left a read statement
    open while migrating, so concurrent openers failed at once with [store_busy] (and could run
    migration 1 twice)."""
    t = Tether(tmp_path, init=False)
    argv = [TETHER, "ca", "init", "--data", str(t.data), "--passphrase-file", str(t.passfile)]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=clean_env()) for _ in range(4)]
    results = []
    try:
        for p in procs:
            out_text, err_text = p.communicate(timeout=COMMAND_TIMEOUT)
            results.append((p.returncode, out_text, err_text))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=COMMAND_TIMEOUT)
    winners = [r for r in results if r[0] == 0]
    losers = [r for r in results if r[0] != 0]
    assert len(winners) == 1, f"expected exactly one CA to be created: {results}"
    for rc, out_text, err_text in losers:
        lines = err_text.splitlines()
        assert rc == 1 and len(lines) == 1 and out_text == "", results
        # Whether the loser saw the winner's CA before starting or only at its rename into place,
        # the reason is the same.
        assert re.fullmatch(r"tether: .+ \[ca_exists\]", lines[0]), results

    assert sorted(p.name for p in t.data.iterdir() if p.is_dir()) == ["ca"], "a partial CA was left behind"
    db = sqlite3.connect(t.db)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        inits = db.execute("SELECT COUNT(*) FROM audit_events WHERE action = 'ca.init'").fetchone()[0]
        root_sha = db.execute("SELECT value FROM settings WHERE key = 'root_sha256'").fetchone()[0]
    finally:
        db.close()
    assert inits == 1
    root = x509.load_pem_x509_certificate(t.root_pem.read_bytes())
    assert root_sha == hashlib.sha256(root.public_bytes(serialization.Encoding.DER)).hexdigest(), \
        "the store records another CA than the one in ca/"
    t.tenant("acme")
    t.connector("acme", "edge-1", tmp_path / "bundle", "--key-type", "ecdsa-p256")


def test_copied_data_directory_is_a_working_ca_and_reads_change_nothing(t):
    """Control: the copied data directory is a working CA (so the refusals above are real), and a
    command that only reads leaves the store digest alone (so the digest is a fair witness)."""
    listing = t.check("connector", "list", "--json").stdout
    assert '"edge-1"' in listing
    before = t.store_digest()
    proc = run([TETHER, "connector", "list", "--data", str(t.data)])
    assert proc.returncode == 0 and t.store_digest() == before, "a read must not change the store"
