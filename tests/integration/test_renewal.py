"""`tether connector renew` keeps what it replaces: the key type, the lifetime and the mode (CSR
or a key made by the CA) of the newest unrevoked certificate; flags may change type and
lifetime; a CSR-mode connector renews only with --csr; --out names an existing bundle only with
--force, which replaces it whole."""
import json
import os
import pathlib
import select
import signal
import sqlite3
import stat
import subprocess
import tarfile
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tetherlib import TOOLS_DIR, Tether, serial_hex, split_pem

REPLACE_LOOP = pathlib.Path(TOOLS_DIR) / "bundle_replace_loop"
KILL_ROUNDS = 5
REPORT_DEADLINE_SECONDS = 60

TENANT = "acme"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    t = Tether(tmp_path_factory.mktemp("renewal"))
    t.tenant(TENANT)
    return t


def leaf_of(bundle):
    return x509.load_pem_x509_certificate(split_pem((bundle / "certs" / "connector.pem").read_text())[0].encode())


def lifetime_days(cert):
    return (cert.not_valid_after - cert.not_valid_before).total_seconds() / 86400


def renew(ca, cid, out, *extra):
    return ca.run("connector", "renew", "--tenant", TENANT, "--id", cid, "--out", str(out), *extra)


def csr_file(tmp_path, cid, name="request.csr"):
    key = ec.generate_private_key(ec.SECP384R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"connector/{TENANT}/{cid}")])).sign(key, hashes.SHA256())
    path = tmp_path / name
    path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    return path, key


def test_renew_keeps_key_type_and_lifetime(ca, tmp_path):
    ca.connector(TENANT, "keep-1", tmp_path / "first", "--key-type", "ecdsa-p384", "--days", "90")
    proc = renew(ca, "keep-1", tmp_path / "second")
    assert proc.returncode == 0, proc.stderr
    leaf = leaf_of(tmp_path / "second")
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.public_key().curve.name == "secp384r1", "the key type was reset to the default"
    assert lifetime_days(leaf) == 90, "the lifetime was reset to the default"
    key = serialization.load_pem_private_key((tmp_path / "second/certs/connector-key.pem").read_bytes(), None)
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()


def test_renew_flags_override_key_type_and_lifetime(ca, tmp_path):
    ca.connector(TENANT, "override-1", tmp_path / "first", "--key-type", "ecdsa-p384", "--days", "90")
    proc = renew(ca, "override-1", tmp_path / "second", "--key-type", "ecdsa-p256", "--days", "30")
    assert proc.returncode == 0, proc.stderr
    leaf = leaf_of(tmp_path / "second")
    assert leaf.public_key().curve.name == "secp256r1"
    assert lifetime_days(leaf) == 30


def test_csr_mode_connector_is_not_renewed_without_a_csr(ca, tmp_path):
    csr, _ = csr_file(tmp_path, "csr-1")
    ca.connector(TENANT, "csr-1", tmp_path / "first", "--csr", str(csr))
    before = ca.check("connector", "show", "--tenant", TENANT, "--id", "csr-1", "--json").stdout
    proc = renew(ca, "csr-1", tmp_path / "second")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"connector '{TENANT}/csr-1' makes its own key" in proc.stderr, proc.stderr
    assert "renew it with --csr FILE" in proc.stderr, proc.stderr
    assert proc.stderr.endswith("[invalid_argument]\n"), proc.stderr
    assert not (tmp_path / "second").exists()
    assert ca.check("connector", "show", "--tenant", TENANT, "--id", "csr-1", "--json").stdout == before, \
        "a refused renewal issued something"


def test_csr_mode_connector_renews_with_a_csr_and_gets_no_key(ca, tmp_path):
    csr, _ = csr_file(tmp_path, "csr-2")
    ca.connector(TENANT, "csr-2", tmp_path / "first", "--csr", str(csr))
    csr2, key2 = csr_file(tmp_path, "csr-2", "second.csr")
    proc = renew(ca, "csr-2", tmp_path / "second", "--csr", str(csr2), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["csr_mode"] is True
    assert not (tmp_path / "second/certs/connector-key.pem").exists()
    assert leaf_of(tmp_path / "second").public_key().public_numbers() == key2.public_key().public_numbers()


def test_existing_out_is_refused_without_force(ca, tmp_path):
    bundle = ca.connector(TENANT, "force-0", tmp_path / "bundle", "--key-type", "ecdsa-p256")
    before = (bundle / "certs/connector.pem").read_bytes()
    proc = renew(ca, "force-0", bundle)
    assert proc.returncode == 1, proc.stderr
    assert f"--out '{bundle}' exists and is not an empty directory" in proc.stderr
    assert "--force" in proc.stderr, "the message says how to replace it"
    assert (bundle / "certs/connector.pem").read_bytes() == before


def test_force_replaces_the_directory_bundle_whole(ca, tmp_path):
    bundle = ca.connector(TENANT, "force-1", tmp_path / "bundle", "--key-type", "ecdsa-p256")
    old_serial = serial_hex(leaf_of(bundle).serial_number)
    (bundle / "certs" / "stale.txt").write_text("from the old bundle\n")
    proc = renew(ca, "force-1", bundle, "--force", "--json")
    assert proc.returncode == 0, proc.stderr
    new_serial = json.loads(proc.stdout)["serial"]
    assert new_serial != old_serial
    assert serial_hex(leaf_of(bundle).serial_number) == new_serial
    assert sorted(p.name for p in (bundle / "certs").iterdir()) == ["ca.pem", "connector-key.pem", "connector.pem"], \
        "the old bundle was merged into, not replaced"
    assert stat.S_IMODE((bundle / "certs/connector-key.pem").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"], "a staging copy was left behind"


def read_reports(proc, want, deadline):
    """Reads "replaced <n>" lines until n reaches `want`; bounded by `deadline`."""
    seen = 0
    while seen < want:
        left = deadline - time.monotonic()
        assert left > 0, f"bundle_replace_loop reported {seen} of {want} replacements in time"
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            line = proc.stdout.readline()
            assert line, f"bundle_replace_loop ended after {seen}: {proc.stderr.read()}"
            seen = int(line.split()[1])
    return seen


@pytest.mark.parametrize("round_", range(KILL_ROUNDS))
def test_kill_during_force_replace_leaves_a_whole_bundle(ca, tmp_path, round_):
    """SIGKILL while a bundle is being replaced again and again: the path holds one whole bundle,
    the old or the new (its key matches its certificate), never a mix or a half."""
    a = ca.connector(TENANT, f"kill-a-{round_}", tmp_path / "a", "--key-type", "ecdsa-p256")
    b = ca.connector(TENANT, f"kill-b-{round_}", tmp_path / "b", "--key-type", "ecdsa-p256")
    target = ca.connector(TENANT, f"kill-t-{round_}", tmp_path / "target", "--key-type", "ecdsa-p256")
    proc = subprocess.Popen([str(REPLACE_LOOP), str(target), str(a), str(b), "100000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Kill at a different point each round: after 3, 5, 7, ... reported replacements, so the
        # kill lands somewhere inside a later one.
        read_reports(proc, 3 + 2 * round_, time.monotonic() + REPORT_DEADLINE_SECONDS)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=REPORT_DEADLINE_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=REPORT_DEADLINE_SECONDS)
    assert proc.returncode == -signal.SIGKILL
    files = sorted(p.name for p in (target / "certs").iterdir())
    assert files == ["ca.pem", "connector-key.pem", "connector.pem"], files
    leaf = leaf_of(target)
    key = serialization.load_pem_private_key((target / "certs/connector-key.pem").read_bytes(), None)
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers(), "a mixed bundle"
    assert leaf.serial_number in {leaf_of(a).serial_number, leaf_of(b).serial_number}
    assert (target / "certs/ca.pem").read_bytes() == ca.root_pem.read_bytes()


def test_force_replaces_a_tar_gz_bundle(ca, tmp_path):
    out = tmp_path / "edge.tar.gz"
    ca.connector(TENANT, "force-2", out, "--key-type", "ecdsa-p256")
    proc = renew(ca, "force-2", out, "--force", "--json")
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(out, "r:gz") as tar:
        pem = tar.extractfile(f"{TENANT}-force-2/certs/connector.pem").read().decode()
    leaf = x509.load_pem_x509_certificate(split_pem(pem)[0].encode())
    assert serial_hex(leaf.serial_number) == json.loads(proc.stdout)["serial"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edge.tar.gz"]


def test_force_never_replaces_a_directory_that_is_not_a_bundle(ca, tmp_path):
    ca.connector(TENANT, "force-3", tmp_path / "bundle", "--key-type", "ecdsa-p256")
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_text("not a bundle\n")
    proc = renew(ca, "force-3", other, "--force")
    assert proc.returncode == 1, proc.stderr
    assert "is not a bundle directory (no certs/connector.pem)" in proc.stderr, proc.stderr
    assert sorted(p.name for p in other.iterdir()) == ["holiday.jpg"]


def test_expiring_list_reports_an_older_certificate_still_valid(ca, tmp_path):
    ca.connector(TENANT, "old-1", tmp_path / "short", "--key-type", "ecdsa-p256", "--days", "20")
    old_serial = serial_hex(leaf_of(tmp_path / "short").serial_number)
    proc = renew(ca, "old-1", tmp_path / "long", "--days", "365", "--json")
    new_serial = json.loads(proc.stdout)["serial"]
    listed = json.loads(ca.check("connector", "list", "--tenant", TENANT, "--expiring-within", "30d",
                                 "--json").stdout)
    mine = [c for c in listed if c["id"] == "old-1"]
    assert len(mine) == 1, listed
    assert [e["serial"] for e in mine[0]["expiring"]] == [old_serial]
    assert mine[0]["serial"] == new_serial, "the current certificate is still the new one"
    assert mine[0]["status"] == "expiring"
    text = ca.check("connector", "list", "--tenant", TENANT, "--expiring-within", "30d").stdout
    assert any(line.startswith(f"{TENANT}/old-1\texpiring\t") and f"\t{old_serial}\t" in line
               for line in text.splitlines()), text


def test_last_presented_is_unknown_until_recorded(ca, tmp_path):
    ca.connector(TENANT, "seen-1", tmp_path / "b", "--key-type", "ecdsa-p256")
    serial = serial_hex(leaf_of(tmp_path / "b").serial_number)
    show = ca.check("connector", "show", "--tenant", TENANT, "--id", "seen-1").stdout
    assert "last presented: unknown" in show, show
    assert json.loads(ca.check("connector", "show", "--tenant", TENANT, "--id", "seen-1",
                               "--json").stdout)["last_presented"] is None

    # What a gateway records (store method record_presentations), written directly here.
    db = sqlite3.connect(ca.db)
    with db:
        db.execute("INSERT INTO certificate_presentations (serial, last_presented_at) VALUES (?, ?)",
                   (serial, 1800000000))
    db.close()
    show = ca.check("connector", "show", "--tenant", TENANT, "--id", "seen-1").stdout
    assert f"last presented: {serial} at 2027-01-15T08:00:00Z" in show, show
    listed = json.loads(ca.check("connector", "list", "--tenant", TENANT, "--json").stdout)
    mine = [c for c in listed if c["id"] == "seen-1"][0]
    assert mine["last_presented"] == {"serial": serial, "at": "2027-01-15T08:00:00Z"}
    text = ca.check("connector", "list", "--tenant", TENANT).stdout
    assert f"{TENANT}/seen-1\t" in text and f"last presented: {serial} at 2027-01-15T08:00:00Z" in text, text
