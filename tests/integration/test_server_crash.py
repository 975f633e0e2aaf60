"""kill -9 of `tether server` during 1,000 concurrent API issuances: after a restart every serial
that got a 201 is in the store with its audit event, no row is half-written, serials are unique."""
import http.client
import json
import signal
import sqlite3
import ssl
import threading
import time

from serverlib import Server

CLIENTS = 16
TOTAL = 1000
KILL_AFTER = 300


def test_every_201_survives_kill_9(tmp_path):
    server = Server(tmp_path)
    status, _, body = server.curl("POST", "/v1/tenants", {"id": "acme"})
    assert status == 201, body
    context = ssl.create_default_context(cafile=str(server.ca))
    context.load_cert_chain(str(server.admin_cert), str(server.admin_key))
    answered = []  # serials that got a 201
    lock = threading.Lock()
    killed = threading.Event()
    counter = iter(range(TOTAL))

    def client():
        conn = http.client.HTTPSConnection("localhost", server.api_port, context=context,
                                           timeout=60)
        while not killed.is_set():
            with lock:
                n = next(counter, None)
            if n is None:
                return
            body = json.dumps({"id": f"c-{n}", "key_type": "ecdsa-p256"})
            try:
                conn.request("POST", "/v1/tenants/acme/connectors", body,
                             {"Content-Type": "application/json"})
                res = conn.getresponse()
                data = res.read()
            except (OSError, http.client.HTTPException):
                return  # the server is gone
            if res.status == 201:
                serial = json.loads(data)["connector"]["certificates"][0]["serial"]
                with lock:
                    answered.append(serial)
                    if len(answered) >= KILL_AFTER and not killed.is_set():
                        killed.set()
                        server.proc.send_signal(signal.SIGKILL)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert killed.is_set(), f"only {len(answered)} issuances answered before the clients ended"
    server.proc.wait(timeout=30)
    server.stop()

    db = sqlite3.connect(server.data / "tether.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    stored = {row[0] for row in db.execute("SELECT serial FROM certificates WHERE kind='connector'")}
    audited = {row[0] for row in db.execute(
        "SELECT serial FROM audit_events WHERE action = 'connector.create'")}
    missing = [s for s in answered if s not in stored]
    assert not missing, f"{len(missing)} serials answered 201 are not in the store: {missing[:5]}"
    assert all(s in audited for s in answered)
    count = db.execute("SELECT COUNT(*) FROM certificates").fetchone()[0]
    distinct = db.execute("SELECT COUNT(DISTINCT serial) FROM certificates").fetchone()[0]
    assert count == distinct
    connectors = db.execute("SELECT COUNT(*) FROM connectors").fetchone()[0]
    assert connectors == len(stored), "a connector without its certificate, or the reverse"
    db.close()

    # The server starts again on the same data and serves what it stored.
    s2 = Server(tmp_path)
    try:
        status, _, body = s2.curl("GET", f"/v1/certificates/{answered[0]}")
        assert status == 200, body
    finally:
        s2.stop()
