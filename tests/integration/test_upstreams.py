"""The upstream peers of the gateway tests (upstreams.py), each proven against real clients
without the gateway: curl against EchoHttpServer, the websockets client against
WebSocketEchoServer, mosquitto_pub/mosquitto_sub against a real mosquitto broker, and
SlowlorisClients against a plain (and a TLS) socket server opened here."""
import json
import os
import selectors
import socket
import ssl
import subprocess
import threading
import time

import pytest

from testpki import make_server_pki
from upstreams import (EchoHttpServer, Mosquitto, SlowlorisClients, WebSocketEchoServer, mqtt_pub, mqtt_sub,
                       websocket_echo_roundtrip)

CURL_TIMEOUT = 30


def curl(*args, timeout=CURL_TIMEOUT):
    return subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=timeout)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


# --- EchoHttpServer --------------------------------------------------------------------------

def test_echo_http_keepalive_reuses_connection_and_echoes_repeated_headers():
    with EchoHttpServer() as up:
        proc = curl("-w", "\n%{http_code} %{num_connects}\n", "-H", "X-Rep: one", "-H", "X-Rep: two",
                    "-H", "X-Other: z", f"{up.url}/first", f"{up.url}/second?q=1")
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        first, first_status, second, second_status = json.loads(lines[0]), lines[1], json.loads(lines[2]), lines[3]
        assert first_status == "200 1" and second_status == "200 0", "curl reused its connection"

        assert (first["method"], first["path"], second["path"]) == ("GET", "/first", "/second?q=1")
        assert first["connection_id"] == second["connection_id"]
        assert up.connections_accepted == 1
        assert first["headers"]["X-Rep"] == ["one", "two"]
        assert first["headers"]["X-Other"] == ["z"]
        names = [name for name, _ in first["header_lines"]]
        assert names.index("X-Rep") < names.index("X-Other"), "header lines kept in the order sent"
        assert [r["path"] for r in up.requests] == ["/first", "/second?q=1"]

        # A second curl is a second connection.
        again = json.loads(curl(f"{up.url}/third").stdout)
        assert again["connection_id"] != first["connection_id"]
        assert up.connections_accepted == 2


def test_echo_http_body_length_content_length_status_and_bytes():
    with EchoHttpServer() as up:
        proc = curl("-D", "-", "-X", "POST", "--data-binary", "x" * 1234, f"{up.url}/post")
        head, body = proc.stdout.split("\n\n", 1)  # text mode: CRLF read as LF
        assert head.startswith("HTTP/1.1 200")
        assert f"Content-Length: {len(body)}" in head
        assert "Content-Type: application/json" in head
        echo = json.loads(body)
        assert (echo["method"], echo["body_len"]) == ("POST", 1234)
        assert up.requests[-1]["body"] == b"x" * 1234

        chunked = json.loads(curl("-H", "Transfer-Encoding: chunked", "--data-binary", "abcdef", f"{up.url}/c").stdout)
        assert chunked["body_len"] == 6

        status = curl("-o", "/dev/null", "-w", "%{http_code}", f"{up.url}/status/503")
        assert status.stdout == "503"
        assert curl("-o", "/dev/null", "-w", "%{http_code}", f"{up.url}/status/404").stdout == "404"

        sized = curl("-o", "/dev/null", "-w", "%{http_code} %{size_download}", f"{up.url}/bytes/100000")
        assert sized.stdout == "200 100000"


def test_echo_http_slow_delays_the_answer():
    with EchoHttpServer() as up:
        proc = curl("-o", "/dev/null", "-w", "%{http_code} %{time_total}", f"{up.url}/slow?ms=600")
        code, seconds = proc.stdout.split()
        assert code == "200" and float(seconds) >= 0.6

        # A client that gives up first sees a timeout (what the gateway's 504 tests rely on).
        timed_out = curl("--max-time", "0.5", f"{up.url}/slow?ms=5000")
        assert timed_out.returncode == 28, (timed_out.returncode, timed_out.stderr)


def test_echo_http_stop_closes_open_keepalive_connections():
    up = EchoHttpServer().start()
    try:
        sock = socket.create_connection(("127.0.0.1", up.port), timeout=10)
        sock.sendall(b"GET /keep HTTP/1.1\r\nHost: x\r\n\r\n")
        response = b""
        while b"}" not in response:
            chunk = sock.recv(65536)
            assert chunk, "server closed before answering"
            response += chunk
        assert up.connections_open == 1
    finally:
        up.stop()
    assert sock.recv(65536) == b"", "stop() closed the idle keep-alive connection"
    sock.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", up.port), timeout=2).close()


# --- WebSocketEchoServer ---------------------------------------------------------------------

def test_websocket_echo_roundtrip_plain_ws_records_handshake_headers():
    with WebSocketEchoServer() as ws:
        messages = ["hello", b"\x00\x01binary\xff", "x" * 100000]
        echoes = websocket_echo_roundtrip(("127.0.0.1", ws.port), messages=messages,
                                          extra_headers=[("X-Tether-Identity", "acme/edge-1"), ("X-Rep", "a"),
                                                         ("X-Rep", "b")],
                                          path="/chat?room=1")
        assert echoes == messages
        assert isinstance(echoes[1], bytes) and isinstance(echoes[0], str)
        assert ws.messages_echoed == 3
        [hs] = ws.handshakes
        assert hs.path == "/chat?room=1"
        assert hs.get("X-Tether-Identity") == "acme/edge-1"
        assert hs.get_all("X-Rep") == ["a", "b"]
        assert hs.get("Upgrade").lower() == "websocket"

        # Two connections, two handshakes recorded.
        assert websocket_echo_roundtrip(f"{ws.url}/again", messages=["again"]) == ["again"]
        assert [h.path for h in ws.handshakes] == ["/chat?room=1", "/again"]


def test_websocket_echo_roundtrip_over_tls_checks_the_server_name(tmp_path):
    pki = make_server_pki(tmp_path, "ws test CA")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pki / "server.pem", pki / "server-key.pem")
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(pki / "server-ca.pem")
    with WebSocketEchoServer(ssl_context=server_ctx) as ws:
        assert ws.url.startswith("wss://")
        echoes = websocket_echo_roundtrip(("127.0.0.1", ws.port), ssl_context=client_ctx, server_hostname="localhost",
                                          messages=["over tls"], extra_headers={"X-Tether-Identity": "acme/edge-2"})
        assert echoes == ["over tls"]
        assert ws.handshakes[0].get("X-Tether-Identity") == "acme/edge-2"
        with pytest.raises(ssl.SSLCertVerificationError):
            websocket_echo_roundtrip(("127.0.0.1", ws.port), ssl_context=client_ctx, server_hostname="not-localhost",
                                     messages=["x"])


# --- Mosquitto -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def broker():
    with Mosquitto() as b:
        yield b


def test_mosquitto_pub_sub_roundtrip(broker):
    assert " running" in broker.log()
    sub = mqtt_sub("127.0.0.1", broker.port, "tether/test/roundtrip", count=2, timeout=20)
    try:
        mqtt_pub("127.0.0.1", broker.port, "tether/test/roundtrip", "first message")
        mqtt_pub("127.0.0.1", broker.port, "tether/test/roundtrip", b"\x00binary\xff")
        result = sub.result()
    finally:
        sub.stop()
    assert result.returncode == 0, result.output
    assert result.messages[0] == "first message"
    assert result.payloads == [b"first message", b"\x00binary\xff"]


def test_mqtt_sub_reports_its_timeout_when_nothing_arrives(broker):
    sub = mqtt_sub("127.0.0.1", broker.port, "tether/test/silence", count=1, timeout=1)
    result = sub.result()
    assert result.returncode == 27, result.output  # mosquitto_sub's -W timeout status
    assert result.messages == []


def test_mqtt_sub_without_broker_fails_with_output():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(AssertionError, match="did not receive SUBACK"):
            mqtt_sub("127.0.0.1", port, "t", timeout=2)


def test_mosquitto_stop_ends_the_broker_process():
    b = Mosquitto().start()
    pid, port = b.pid, b.port
    b.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# --- SlowlorisClients ------------------------------------------------------------------------

class SinkServer:
    """Accepts connections on 127.0.0.1:0 and counts the bytes each sends, from one selectors
    thread; optionally completes a TLS handshake first (blocking, in the same thread, which is
    fine for the few TLS connections the test opens). close_some(n) closes n connections."""

    def __init__(self, ssl_context=None):
        self.ssl = ssl_context
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1024)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.lsock, selectors.EVENT_READ, None)
        self.lock = threading.Lock()
        self.received = {}   # socket -> bytes
        self.to_close = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_event.is_set():
            for key, _ in self.sel.select(0.1):
                if key.data is None:
                    self.accept()
                else:
                    self.read(key.fileobj)
            with self.lock:
                while self.to_close and self.received:
                    sock = next(iter(self.received))
                    del self.received[sock]
                    self.sel.unregister(sock)
                    sock.close()
                    self.to_close -= 1

    def accept(self):
        try:
            sock, _ = self.lsock.accept()
        except BlockingIOError:
            return
        if self.ssl is not None:
            sock.settimeout(10)
            sock = self.ssl.wrap_socket(sock, server_side=True)
        sock.setblocking(False)
        with self.lock:
            self.received[sock] = b""
        self.sel.register(sock, selectors.EVENT_READ, "conn")

    def read(self, sock):
        try:
            data = sock.recv(4096)
        except (BlockingIOError, ssl.SSLWantReadError):
            return
        with self.lock:
            if data:
                self.received[sock] += data
            else:
                del self.received[sock]
                self.sel.unregister(sock)
                sock.close()

    def snapshot(self):
        with self.lock:
            return list(self.received.values())

    def close_some(self, n):
        with self.lock:
            self.to_close += n

    def stop(self):
        self.stop_event.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "sink server thread did not end within 10s"
        for sock in list(self.received):
            sock.close()
        self.lsock.close()
        self.sel.close()


def test_slowloris_connections_stay_open_and_trickle_header_bytes():
    sink = SinkServer()
    try:
        with SlowlorisClients("127.0.0.1", sink.port, count=500, interval=0.2) as clients:
            assert (clients.opened, clients.failed) == (500, [])
            wait_until(lambda: len(sink.snapshot()) == 500, 20, "the sink to hold 500 connections")
            wait_until(lambda: all(len(b) >= 5 for b in sink.snapshot()), 30,
                       "every connection to have trickled 5 bytes")
            seen = sink.snapshot()
            assert all(b"GET / HTTP/1.1\r\nHost: localhost\r\n".startswith(b[:5]) for b in seen)
            assert all(b"\r\n\r\n" not in b for b in seen), "the request head is never finished"
            assert clients.open_count == 500 and clients.closed_count == 0
            assert clients.bytes_sent >= 2500

            # The server closing connections is noticed and timed.
            sink.close_some(100)
            clients.wait_closed(100, timeout=20)
            assert clients.open_count == 400
            assert len(clients.closed) == 100 and all(reason for _, _, reason in clients.closed)
            sent_before = clients.bytes_sent
            clients.wait_ticks(3)
            assert clients.bytes_sent >= sent_before + 3 * 400, "the survivors keep trickling"
    finally:
        sink.stop()


def test_slowloris_over_tls(tmp_path):
    pki = make_server_pki(tmp_path, "slowloris test CA")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pki / "server.pem", pki / "server-key.pem")
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(pki / "server-ca.pem")
    sink = SinkServer(server_ctx)
    try:
        with SlowlorisClients("127.0.0.1", sink.port, count=40, ssl_context=client_ctx,
                              server_hostname="localhost", interval=0.1) as clients:
            assert (clients.opened, clients.failed) == (40, [])
            wait_until(lambda: len(sink.snapshot()) == 40 and all(len(b) >= 5 for b in sink.snapshot()), 30,
                       "40 TLS connections to have trickled 5 decrypted bytes")
            assert all(b[:5] == b"GET /" for b in sink.snapshot())
            sink.close_some(40)
            clients.wait_closed(timeout=20)
            assert clients.open_count == 0
    finally:
        sink.stop()


def test_slowloris_reports_connections_that_fail_to_open():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening
        with SlowlorisClients("127.0.0.1", port, count=5, connect_timeout=5) as clients:
            assert clients.opened == 0
            assert len(clients.failed) == 5 and all("ConnectionRefused" in err for _, err in clients.failed)
