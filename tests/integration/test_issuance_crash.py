"""kill -9 during 1,000 concurrent queued issuances: every answered issuance is in the store.

tests/tools/queue_issue_loop.cc is the issuing path of `tether server`: 16 client threads make
CSR-mode connector issuances (prepare on the client's thread, the write through the
IssuanceQueue's group commit) and the committer prints "issued <serial>" once a write's batch
has committed, as the server answers 201. We SIGKILL it after some hundreds of lines, then check
the store with Python's sqlite3 and with tether:
  - SQLite integrity_check is ok and foreign_key_check finds nothing,
  - no half-written issuance: every connector has exactly one certificate and every
    certificate exactly one matching 'connector.create' audit event, and no such event lacks
    its certificate,
  - serials are unique,
  - every reported serial is stored, and at most one more per client (a write committed whose
    answer the kill cut off),
  - `tether connector list --json` reads the store, and issuing more works.
"""
import json
import pathlib
import signal
import sqlite3

import pytest

import issuelib
from issuelib import loops  # noqa: F401 (a fixture)
from tetherlib import TOOLS_DIR, Tether

QUEUE_ISSUE_LOOP = pathlib.Path(TOOLS_DIR) / "queue_issue_loop"
TOTAL = 1000
CLIENTS = 16
TENANT = "acme"
CLI_CONNECTOR = "after-crash"  # made with `tether connector create` (a generated key)
# Generous: with sanitizers on a loaded 2-core machine an issuance costs a few ms of CPU.
REPORT_DEADLINE_SECONDS = 120


def queue_issue_loop(t: Tether, count, prefix):
    return issuelib.IssueLoop(
        QUEUE_ISSUE_LOOP, ["--data", str(t.data), "--tenant", TENANT, "--count", str(count), "--threads", str(CLIENTS),
                 "--passphrase-file", str(t.passfile), "--prefix", prefix],
        t.root / f"{QUEUE_ISSUE_LOOP.name}-{prefix}.stderr", REPORT_DEADLINE_SECONDS)


def check_store(t: Tether):
    """Asserts the consistency invariants; returns the set of stored serials."""
    db = sqlite3.connect(t.db, timeout=10)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []

        per_connector = db.execute(
            "SELECT c.id, COUNT(x.serial) FROM connectors c LEFT JOIN certificates x "
            "ON x.tenant_id = c.tenant_id AND x.connector_id = c.id "
            "GROUP BY c.tenant_id, c.id HAVING COUNT(x.serial) != 1").fetchall()
        assert per_connector == [], f"connectors without exactly one certificate: {per_connector[:5]}"

        unaudited = db.execute(
            "SELECT x.serial, (SELECT COUNT(*) FROM audit_events a WHERE a.action = "
            "'connector.create' AND a.serial = x.serial AND a.identity = x.identity) AS n "
            "FROM certificates x WHERE n != 1").fetchall()
        assert unaudited == [], f"certificates without exactly one connector.create event: {unaudited[:5]}"

        phantom = db.execute(
            "SELECT a.id, a.serial FROM audit_events a LEFT JOIN certificates x "
            "ON x.serial = a.serial WHERE a.action = 'connector.create' AND x.serial IS NULL"
        ).fetchall()
        assert phantom == [], f"connector.create events without their certificate: {phantom[:5]}"

        rows = db.execute("SELECT serial, connector_id, csr_mode FROM certificates").fetchall()
        serials = [r[0] for r in rows]
        assert len(set(serials)) == len(serials), "duplicate serials"
        assert len({int(s, 16) for s in serials}) == len(serials), "duplicate serial numbers"
        not_csr = [cid for _, cid, csr_mode in rows if csr_mode != 1 and cid != CLI_CONNECTOR]
        assert not_csr == [], f"the loop issues in CSR mode only: {not_csr[:5]}"
        return set(serials)
    finally:
        db.close()


@pytest.mark.parametrize("kill_after", [200, 600])
def test_kill_9_during_queued_issuance_loses_no_answered_certificate(tmp_path, loops, kill_after):
    t = Tether(tmp_path)
    t.tenant(TENANT)

    loop = queue_issue_loop(t, TOTAL, "crash")
    loops.append(loop)
    loop.wait_for_reports(kill_after)
    loop.kill()
    assert loop.proc.returncode == -signal.SIGKILL, "it must die by SIGKILL, not finish"
    reported = loop.serials
    assert len(reported) < TOTAL, "everything finished before the kill: nothing was interrupted"
    assert len(set(reported)) == len(reported), "a serial was answered twice"

    # tether is the first to open the store after the crash (it recovers the WAL).
    listing = json.loads(t.check("connector", "list", "--json").stdout)

    stored = check_store(t)
    missing = [s for s in reported if s not in stored]
    assert missing == [], \
        f"{len(missing)} answered (committed) issuances are not in the store: {missing[:5]}"
    # Each client waits for its answer before its next issuance, so at most one write per
    # client can be committed without its answer having been printed.
    assert len(reported) <= len(stored) <= len(reported) + CLIENTS, \
        f"{len(stored)} certificates stored for {len(reported)} answered issuances"
    assert len(listing) == len(stored)

    # Issuing more works, through the CLI and through the queue, on the recovered store.
    t.connector(TENANT, CLI_CONNECTOR, tmp_path / CLI_CONNECTOR, "--key-type", "ecdsa-p256")
    more = queue_issue_loop(t, CLIENTS * 2, "more")
    loops.append(more)
    more.run_to_end()
    assert len(more.serials) == CLIENTS * 2
    stored_after = check_store(t)
    assert stored <= stored_after
    assert len(stored_after) == len(stored) + 1 + CLIENTS * 2
