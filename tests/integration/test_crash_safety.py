"""kill -9 in the middle of 1000 issuances leaves the store consistent.

tests/tools/issue_loop.cc issues connector certificates through the real lifecycle and prints
"issued <serial>" after each committed issuance. We SIGKILL it once it has reported a given
number, then check the store with Python's sqlite3 and with tether itself:
  - SQLite integrity_check is ok and foreign_key_check finds nothing,
  - no half-written issuance: every connector has exactly one certificate, every certificate its
    connector and exactly one matching 'connector.create' audit event, and no such event lacks
    its certificate,
  - serials and fingerprints are unique, and every stored PEM parses, with the row's serial,
    identity and fingerprint,
  - every reported issuance is in the store (committed means durable), and at most one more
    (committed, killed before it was reported),
  - `tether connector list --json` and `tether crl` work on the store, and issuing more works.
"""
import hashlib
import json
import pathlib
import signal
import sqlite3

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

import issuelib
from issuelib import loops  # noqa: F401 (a fixture)
from tetherlib import TOOLS_DIR, Tether

ISSUE_LOOP = pathlib.Path(TOOLS_DIR) / "issue_loop"
TOTAL = 1000
TENANT = "acme"
# Generous: on a loaded 2-core machine with sanitizers an issuance takes ~10-30 ms.
REPORT_DEADLINE_SECONDS = 60


def issue_loop(t: Tether, count, prefix):
    return issuelib.IssueLoop(
        ISSUE_LOOP, ["--data", str(t.data), "--tenant", TENANT, "--count", str(count),
                 "--passphrase-file", str(t.passfile), "--prefix", prefix],
        t.root / f"{ISSUE_LOOP.name}-{prefix}.stderr", REPORT_DEADLINE_SECONDS)


def serial_int(text):
    return int(text, 16)


def check_store(t: Tether):
    """Asserts the consistency invariants; returns {serial: connector id} of the store."""
    db = sqlite3.connect(t.db, timeout=10)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []

        per_connector = db.execute(
            "SELECT c.tenant_id, c.id, COUNT(x.serial) FROM connectors c "
            "LEFT JOIN certificates x ON x.tenant_id = c.tenant_id AND x.connector_id = c.id "
            "GROUP BY c.tenant_id, c.id HAVING COUNT(x.serial) != 1").fetchall()
        assert per_connector == [], f"connectors without exactly one certificate: {per_connector[:5]}"

        orphans = db.execute(
            "SELECT x.serial FROM certificates x LEFT JOIN connectors c "
            "ON c.tenant_id = x.tenant_id AND c.id = x.connector_id WHERE c.id IS NULL").fetchall()
        assert orphans == [], f"certificates without a connector: {orphans[:5]}"

        unaudited = db.execute(
            "SELECT x.serial, (SELECT COUNT(*) FROM audit_events a WHERE a.action = 'connector.create' "
            "AND a.serial = x.serial AND a.identity = x.identity) AS n FROM certificates x "
            "WHERE n != 1").fetchall()
        assert unaudited == [], f"certificates without exactly one connector.create event: {unaudited[:5]}"

        phantom = db.execute(
            "SELECT a.id, a.serial FROM audit_events a LEFT JOIN certificates x ON x.serial = a.serial "
            "WHERE a.action = 'connector.create' AND x.serial IS NULL").fetchall()
        assert phantom == [], f"connector.create events without their certificate: {phantom[:5]}"

        rows = db.execute("SELECT serial, tenant_id, connector_id, identity, fingerprint, pem "
                          "FROM certificates").fetchall()
        assert len({r[0] for r in rows}) == len(rows), "duplicate serials"
        assert len({serial_int(r[0]) for r in rows}) == len(rows), "duplicate serial numbers"
        assert len({r[4] for r in rows}) == len(rows), "duplicate fingerprints"
        for serial, tenant, cid, identity, fingerprint, pem in rows:
            cert = x509.load_pem_x509_certificate(pem.encode())
            assert cert.serial_number == serial_int(serial), f"row {serial} holds another certificate"
            assert identity == f"connector/{tenant}/{cid}"
            assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == identity
            der = cert.public_bytes(serialization.Encoding.DER)
            assert hashlib.sha256(der).hexdigest() == fingerprint.replace(":", "").lower()

        # The tenant and the CA record are still there.
        assert db.execute("SELECT id FROM tenants").fetchall() == [(TENANT,)]
        assert db.execute("SELECT value FROM settings WHERE key = 'trust_domain'").fetchone() is not None
        return {serial: cid for serial, _, cid, _, _, _ in rows}
    finally:
        db.close()


def check_tether_still_works(t: Tether, expected_connectors, crl_path):
    listing = json.loads(t.check("connector", "list", "--json").stdout)
    assert len(listing) == expected_connectors
    assert all(c["status"] == "active" for c in listing)

    t.check("crl", "--out", str(crl_path))
    crl = x509.load_pem_x509_crl(crl_path.read_bytes())
    issuing = x509.load_pem_x509_certificate(t.issuing_pem.read_bytes())
    assert crl.is_signature_valid(issuing.public_key())


@pytest.mark.parametrize("kill_after", [50, 300, 700])
def test_kill_9_during_issuance_leaves_the_store_consistent(tmp_path, loops, kill_after):
    t = Tether(tmp_path)
    t.tenant(TENANT)

    loop = issue_loop(t, TOTAL, "crash")
    loops.append(loop)
    loop.wait_for_reports(kill_after)
    loop.kill()
    assert loop.proc.returncode == -signal.SIGKILL, "issue_loop must die by SIGKILL, not finish"
    reported = loop.serials
    assert len(reported) < TOTAL, "issue_loop finished before the kill: nothing was interrupted"

    # tether is the first to open the store after the crash (it recovers the WAL); reading
    # must work before anything else touches it.
    listing = json.loads(t.check("connector", "list", "--json").stdout)

    stored = check_store(t)
    missing = [s for s in reported if s not in stored]
    assert missing == [], f"{len(missing)} reported (committed) issuances are not in the store: {missing[:5]}"
    assert len(reported) <= len(stored) <= len(reported) + 1, \
        f"{len(stored)} certificates stored for {len(reported)} reported issuances"
    assert len(listing) == len(stored)
    # The connectors are the loop's, in order, with no gap.
    assert sorted(stored.values(), key=lambda c: int(c.split("-")[1])) == \
        [f"crash-{i}" for i in range(len(stored))]

    check_tether_still_works(t, len(stored), tmp_path / "crl-1.pem")

    # Issuing more works, through the CLI and through the library, including the connector the
    # kill may have interrupted (its id is free unless it was committed).
    t.connector(TENANT, "after-crash", tmp_path / "after-crash", "--key-type", "ecdsa-p256")
    more = issue_loop(t, 3, "more")
    loops.append(more)
    more.run_to_end()
    assert len(more.serials) == 3
    next_id = f"crash-{len(stored)}"
    t.connector(TENANT, next_id, tmp_path / "next", "--key-type", "ecdsa-p256")

    stored_after = check_store(t)
    assert len(stored_after) == len(stored) + 5
    assert set(stored) <= set(stored_after)
    check_tether_still_works(t, len(stored) + 5, tmp_path / "crl-2.pem")
