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
import os
import pathlib
import select
import signal
import sqlite3
import subprocess
import time

import pytest

from tetherlib import TOOLS_DIR, Tether

QUEUE_ISSUE_LOOP = pathlib.Path(TOOLS_DIR) / "queue_issue_loop"
TOTAL = 1000
CLIENTS = 16
TENANT = "acme"
CLI_CONNECTOR = "after-crash"  # made with `tether connector create` (a generated key)
# Generous: with sanitizers on a loaded 2-core machine an issuance costs a few ms of CPU.
REPORT_DEADLINE_SECONDS = 120
EXIT_DEADLINE_SECONDS = 30


class QueueIssueLoop:
    """A running queue_issue_loop whose stdout we read line by line with a deadline."""

    def __init__(self, t: Tether, count, prefix):
        assert QUEUE_ISSUE_LOOP.exists(), \
            f"{QUEUE_ISSUE_LOOP} was not built (tests/tools/queue_issue_loop.cc)"
        self.stderr_path = t.root / f"queue_issue_loop-{prefix}.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [str(QUEUE_ISSUE_LOOP), "--data", str(t.data), "--tenant", TENANT,
             "--count", str(count), "--threads", str(CLIENTS),
             "--passphrase-file", str(t.passfile), "--prefix", prefix],
            stdout=subprocess.PIPE, stderr=self._stderr)
        self._buf = b""
        self.serials = []

    def stderr(self):
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def _read_some(self, timeout):
        """Reads what is available within timeout; returns False at end of stream."""
        ready, _, _ = select.select([self.proc.stdout], [], [], max(timeout, 0))
        if not ready:
            return True
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        for line in lines:
            word, _, serial = line.decode().partition(" ")
            assert word == "issued" and serial, f"unexpected queue_issue_loop output {line!r}"
            self.serials.append(serial)
        return True

    def wait_for_reports(self, n):
        deadline = time.monotonic() + REPORT_DEADLINE_SECONDS
        while len(self.serials) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                self.terminate()
                pytest.fail(f"queue_issue_loop reported {len(self.serials)} of {n} issuances "
                            f"within {REPORT_DEADLINE_SECONDS}s\nstderr: {self.stderr()}")
            if not self._read_some(min(left, 1.0)):
                self.proc.wait(timeout=EXIT_DEADLINE_SECONDS)
                pytest.fail(f"queue_issue_loop ended (exit {self.proc.returncode}) after "
                            f"reporting {len(self.serials)} of {n}\nstderr: {self.stderr()}")

    def kill(self):
        """SIGKILL, then collect every line it had already written (those are committed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=EXIT_DEADLINE_SECONDS)
        deadline = time.monotonic() + EXIT_DEADLINE_SECONDS
        while self._read_some(deadline - time.monotonic()):
            assert time.monotonic() < deadline, "stdout did not close after the process died"
        assert self._buf == b"", f"partial line {self._buf!r}: lines are written whole"
        self.close()

    def run_to_end(self):
        deadline = time.monotonic() + REPORT_DEADLINE_SECONDS
        while self._read_some(deadline - time.monotonic()):
            if time.monotonic() >= deadline:
                self.terminate()
                pytest.fail(f"queue_issue_loop did not finish within {REPORT_DEADLINE_SECONDS}s")
        rc = self.proc.wait(timeout=EXIT_DEADLINE_SECONDS)
        self.close()
        assert rc == 0, f"queue_issue_loop exited {rc}\nstderr: {self.stderr()}"

    def terminate(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=EXIT_DEADLINE_SECONDS)

    def close(self):
        if not self.proc.stdout.closed:
            self.proc.stdout.close()
        self._stderr.close()


@pytest.fixture
def loops():
    """Every loop a test starts is killed at the end, whatever happened."""
    started = []
    yield started
    for loop in started:
        loop.terminate()
        loop.close()


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

    loop = QueueIssueLoop(t, TOTAL, "crash")
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
    more = QueueIssueLoop(t, CLIENTS * 2, "more")
    loops.append(more)
    more.run_to_end()
    assert len(more.serials) == CLIENTS * 2
    stored_after = check_store(t)
    assert stored <= stored_after
    assert len(stored_after) == len(stored) + 1 + CLIENTS * 2
