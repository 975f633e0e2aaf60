"""What `tether gateway` records in the store from its handshakes, off the handshake path: each
certificate's last presentation (shown by `tether connector show/list`) and handshake outcomes
per minute and reason (the handshake_counts table), written every
store.activity_flush_interval_ms and once more when the gateway stops.
"""
import calendar
import json
import sqlite3
import time

import pytest

import testpki
from gatewaylib import Gateway
from testpki import make_server_pki
from tetherlib import Tether, run
from upstreams import EchoHttpServer

CLIENT_TIMEOUT = 20
WAIT = 20  # seconds: bounded waits for a flush (the tests flush every 100 ms)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    t = Tether(tmp_path_factory.mktemp("tether"))
    t.tenant("acme")
    return t


@pytest.fixture(scope="module")
def server_pki(tmp_path_factory):
    return make_server_pki(tmp_path_factory.mktemp("server-pki"), "activity test server CA",
                           ("acme.test",))


@pytest.fixture(scope="module")
def upstream():
    with EchoHttpServer() as up:
        yield up


def routes(upstream):
    return f"""
[[route]]
name = "acme-api"
upstream = "127.0.0.1:{upstream.port}"
match = {{ sni = "acme.test" }}
allow = ["tenant:acme"]
"""


def curl(gw, server_pki, bundle):
    args = ["curl", "-sS", "--max-time", str(CLIENT_TIMEOUT),
            "--cacert", str(server_pki / "server-ca.pem"),
            "--resolve", f"acme.test:{gw.port}:127.0.0.1", "-w", "\n%{http_code}"]
    if bundle is not None:
        args += ["--cert", str(bundle.chain), "--key", str(bundle.key)]
    proc = run(args + [f"https://acme.test:{gw.port}/"], timeout=CLIENT_TIMEOUT + 10)
    _, _, status = proc.stdout.rpartition("\n")
    return proc, status


def handshake_counts(db):
    """{(outcome, reason): count} summed over every minute, read as any SQLite client would."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        rows = conn.execute("SELECT outcome, reason, sum(count) FROM handshake_counts "
                            "GROUP BY outcome, reason").fetchall()
    conn.close()
    return {(o, r): n for o, r, n in rows}


def last_presented(pki, tenant, cid):
    out = pki.check("connector", "show", "--tenant", tenant, "--id", cid, "--json").stdout
    return json.loads(out)["last_presented"]


def wait_until(what, probe, timeout=WAIT):
    """Polls `probe` until it returns something truthy, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert got, f"gave up after {timeout}s waiting for {what}"
    return got


def test_handshakes_reach_the_store_with_their_outcome_reason_and_serial(server_pki, upstream,
                                                                       tmp_path):
    # A CA of its own: the counts below are the whole table.
    (tmp_path / "ca").mkdir()
    pki = Tether(tmp_path / "ca")
    pki.tenant("acme")
    edge = testpki.make_bundle(pki, "acme", "edge-1", "--key-type", "ecdsa-p256")
    gone = testpki.make_bundle(pki, "acme", "gone-1", "--key-type", "ecdsa-p256")
    pki.check("connector", "revoke", "--tenant", "acme", "--id", "gone-1")
    assert last_presented(pki, "acme", "edge-1") is None, "presented before any gateway ran"
    assert handshake_counts(pki.db) == {}

    gw = Gateway(tmp_path / "gw", pki.db, server_pki, [pki.root_pem], routes(upstream),
                 activity_flush_ms=100)
    with gw:
        before = time.time()
        proc, status = curl(gw, server_pki, edge)
        assert status == "200", proc.stdout + proc.stderr
        start = gw.mark()
        proc, _ = curl(gw, server_pki, None)
        assert proc.returncode != 0 and "alert certificate required" in proc.stderr, proc.stderr
        gw.handshake_line(start, outcome="rejected", reason="certificate_required")
        start = gw.mark()
        proc, _ = curl(gw, server_pki, gone)
        assert proc.returncode != 0 and "alert certificate revoked" in proc.stderr, proc.stderr
        gw.handshake_line(start, outcome="rejected", reason="revoked")

        # (a) the accepted certificate's presentation, as the CLI shows it
        seen = wait_until("edge-1's last presentation in `tether connector show`",
                          lambda: last_presented(pki, "acme", "edge-1"))
        assert seen["serial"] == edge.serial_hex, seen
        at = calendar.timegm(time.strptime(seen["at"], "%Y-%m-%dT%H:%M:%SZ"))
        assert before - 2 <= at <= time.time() + 2, (seen, before)
        text = pki.check("connector", "show", "--tenant", "acme", "--id", "edge-1").stdout
        assert f"last presented: {edge.serial_hex} at {seen['at']}" in text, text
        assert last_presented(pki, "acme", "gone-1") is None, "a refused handshake is no presentation"

        # (b) one accepted handshake and each refusal under its exact reason
        expected = {("ok", "ok"): 1, ("refused", "certificate_required"): 1,
                    ("refused", "revoked"): 1}
        wait_until(f"handshake counts {expected}", lambda: handshake_counts(pki.db) == expected)
        assert gw.counter("tether_activity_write_failures_total") == 0
        # Later flushes add nothing: what was written was taken from the workers.
        flushes = gw.counter("tether_activity_flushes_total")
        wait_until("three more flushes",
                   lambda: gw.counter("tether_activity_flushes_total") >= flushes + 3)
        assert handshake_counts(pki.db) == expected
    assert gw.proc.returncode == 0, gw.stderr()


def test_stopping_writes_what_the_last_interval_saw(pki, server_pki, upstream, tmp_path):
    edge = testpki.make_bundle(pki, "acme", "edge-2", "--key-type", "ecdsa-p256")
    before = handshake_counts(pki.db)
    # A flush interval longer than the test: only the flush on stop can write.
    gw = Gateway(tmp_path / "gw", pki.db, server_pki, [pki.root_pem], routes(upstream),
                 activity_flush_ms=60000)
    with gw:
        proc, status = curl(gw, server_pki, edge)
        assert status == "200", proc.stdout + proc.stderr
        assert last_presented(pki, "acme", "edge-2") is None, "written before the interval ran out"
    assert gw.proc.returncode == 0, gw.stderr()
    seen = last_presented(pki, "acme", "edge-2")
    assert seen is not None and seen["serial"] == edge.serial_hex, seen
    after = handshake_counts(pki.db)
    assert after.get(("ok", "ok"), 0) == before.get(("ok", "ok"), 0) + 1, (before, after)


def test_store_refusing_the_writes_is_logged_counted_and_costs_handshakes_nothing(
        pki, server_pki, upstream, tmp_path):
    edge = testpki.make_bundle(pki, "acme", "edge-3", "--key-type", "ecdsa-p256")
    gw = Gateway(tmp_path / "gw", pki.db, server_pki, [pki.root_pem], routes(upstream),
                 activity_flush_ms=100)
    with gw:
        before = handshake_counts(pki.db).get(("ok", "ok"), 0)
        # The table the counts go to disappears (as if the store were broken).
        with sqlite3.connect(pki.db, timeout=10) as db:
            db.execute("ALTER TABLE handshake_counts RENAME TO hidden")
        db.close()
        start = gw.mark()
        proc, status = curl(gw, server_pki, edge)
        assert status == "200", "a handshake must not depend on the store: " + proc.stderr
        line = gw.wait_for(lambda e: e.get("event") == "activity_write_failed"
                           and e.get("what") == "handshake_counts", WAIT,
                           "an activity_write_failed line", start)
        assert "handshake_counts" in line["error"] and line["kept"] >= 1, line
        assert gw.counter("tether_activity_write_failures_total") >= 1
        # Presentations are written on their own, and the counts are kept until the store
        # takes them again.
        wait_until("edge-3's presentation", lambda: last_presented(pki, "acme", "edge-3"))
        with sqlite3.connect(pki.db, timeout=10) as db:
            db.execute("ALTER TABLE hidden RENAME TO handshake_counts")
        db.close()
        wait_until("the kept count", lambda: handshake_counts(pki.db).get(("ok", "ok"), 0) == before + 1)
    assert gw.proc.returncode == 0, gw.stderr()
