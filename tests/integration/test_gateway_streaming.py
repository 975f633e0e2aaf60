"""Bodies stream through the gateway with backpressure: a client that never reads a
large response, or uploads a large body slowly, holds a bounded buffer in the gateway, not the
body; a 1 GiB response streams through in bounded memory.

Memory is the gateway process's own resident set (VmRSS from /proc), sampled while the transfers
are in flight. The gateway runs with a small ASan quarantine, since ASan otherwise keeps freed
memory resident on purpose, which would measure ASan rather than the gateway.
"""
import json
import os
import socket
import ssl
import threading
import time

import pytest

import testpki
from gatewaylib import Gateway
from testpki import make_server_pki
from tetherlib import Tether, run
from upstreams import EchoHttpServer, NginxFileServer

CLIENT_TIMEOUT = 60
MIB = 1 << 20
BIG = 7 * MIB
HUGE = 1 << 30
CLIENTS = 20
RSS_BOUND = 32 * MIB


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    t = Tether(tmp_path_factory.mktemp("tether"))
    t.tenant("acme")
    return t


@pytest.fixture(scope="module")
def server_pki(tmp_path_factory):
    return make_server_pki(tmp_path_factory.mktemp("server-pki"), "streaming test CA", ("acme.test",))


@pytest.fixture(scope="module")
def acme(pki):
    return testpki.make_bundle(pki, "acme", "edge-1", "--key-type", "ecdsa-p256")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    (root / "files").mkdir()
    (root / "files" / "big").write_bytes(os.urandom(BIG))
    with open(root / "files" / "huge", "wb") as f:
        f.truncate(HUGE)  # sparse: nginx reads zeros without the disk holding them
    with NginxFileServer(root, tmp_path_factory.mktemp("nginx")) as nginx:
        yield nginx


@pytest.fixture(scope="module")
def echo():
    with EchoHttpServer() as server:
        yield server


@pytest.fixture(scope="module")
def gateway(pki, server_pki, files, echo, tmp_path_factory):
    routes = f"""
[[route]]
name = "files"
upstream = "127.0.0.1:{files.port}"
match = {{ path_prefix = "/files" }}
allow = ["tenant:acme"]

[[route]]
name = "upload"
upstream = "127.0.0.1:{echo.port}"
match = {{ path_prefix = "/upload" }}
allow = ["tenant:acme"]

[[route]]
name = "chunked"
upstream = "127.0.0.1:{echo.port}"
match = {{ path_prefix = "/chunked" }}
allow = ["tenant:acme"]

[[route]]
name = "until-close"
upstream = "127.0.0.1:{echo.port}"
match = {{ path_prefix = "/until-close" }}
allow = ["tenant:acme"]
"""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1:detect_leaks=0"
    gw = Gateway(tmp_path_factory.mktemp("gateway"), pki.db, server_pki, [pki.root_pem], routes,
                 limits={"max_body_bytes": 16 * MIB, "idle_timeout": "120s"}, env=env)
    with gw:
        yield gw


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


class RssSampler:
    """The highest VmRSS of `pid` seen while it runs, sampled every 20 ms."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss(self.pid))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


def tls_connect(gw, server_pki, bundle):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(server_pki / "server-ca.pem")
    ctx.load_cert_chain(bundle.chain, bundle.key)
    raw = socket.create_connection(("127.0.0.1", gw.port), timeout=CLIENT_TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname="acme.test")


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the response head: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed in the response body"
        body += chunk
    return int(head.split(b" ")[1]), body


def warm_up(gw, server_pki, acme):
    """One full exchange each way first, so what the first request allocates once (pools,
    OpenSSL's per-thread state) is in the baseline."""
    for _ in range(2):
        with tls_connect(gw, server_pki, acme) as s:
            s.sendall(b"GET /files/big HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n\r\n")
            status, body = read_response(s)
            assert status == 200 and len(body) == BIG
        with tls_connect(gw, server_pki, acme) as s:
            s.sendall(b"POST /upload/warm HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n"
                      b"Content-Length: 65536\r\n\r\n" + b"w" * 65536)
            assert read_response(s)[0] == 200


def test_slow_readers_and_slow_uploaders_hold_bounded_memory(gateway, server_pki, acme, echo):
    warm_up(gateway, server_pki, acme)
    pid = gateway.proc.pid
    base = rss(pid)
    readers = []
    upload_results = []
    piece = os.urandom(256 << 10)

    def upload(i):
        with tls_connect(gateway, server_pki, acme) as s:
            s.sendall(f"POST /upload/{i} HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n"
                      f"Content-Length: {BIG}\r\n\r\n".encode())
            for _ in range(BIG // len(piece)):
                s.sendall(piece)
                time.sleep(0.01)  # a slow uploader: the pacing is the test's input, not a wait
            upload_results.append(read_response(s))

    with RssSampler(pid) as sampler:
        for _ in range(CLIENTS):
            s = tls_connect(gateway, server_pki, acme)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
            s.sendall(b"GET /files/big HTTP/1.1\r\nHost: acme.test\r\n\r\n")
            readers.append(s)  # and never read
        uploaders = [threading.Thread(target=upload, args=(i,)) for i in range(CLIENTS)]
        for t in uploaders:
            t.start()
        for t in uploaders:
            t.join(CLIENT_TIMEOUT * 2)
            assert not t.is_alive(), "an upload did not finish"
    growth = sampler.peak - base
    for s in readers:
        s.close()
    print(f"\n{CLIENTS} readers that never read {BIG // MIB} MiB + {CLIENTS} slow {BIG // MIB} MiB "
          f"uploads: gateway RSS {base / MIB:.1f} MiB -> peak {sampler.peak / MIB:.1f} MiB "
          f"(+{growth / MIB:.1f} MiB, bound {RSS_BOUND // MIB} MiB)")
    assert len(upload_results) == CLIENTS
    for status, body in upload_results:
        assert status == 200, body
        assert json.loads(body)["body_len"] == BIG
    assert growth < RSS_BOUND


def test_a_1gib_response_streams_through_in_bounded_memory(gateway, server_pki, acme):
    warm_up(gateway, server_pki, acme)
    pid = gateway.proc.pid
    base = rss(pid)
    with RssSampler(pid) as sampler:
        proc = run(["curl", "-sS", "--max-time", "300", "--cacert", str(server_pki / "server-ca.pem"),
                    "--resolve", f"acme.test:{gateway.port}:127.0.0.1",
                    "--cert", str(acme.chain), "--key", str(acme.key), "-o", "/dev/null",
                    "-w", "%{http_code} %{size_download} %{speed_download}",
                    f"https://acme.test:{gateway.port}/files/huge"], timeout=320)
    growth = sampler.peak - base
    status, size, speed = proc.stdout.split()
    print(f"\n1 GiB response: {status}, {int(size)} bytes at {float(speed) / MIB:.0f} MiB/s; gateway RSS "
          f"{base / MIB:.1f} -> peak {sampler.peak / MIB:.1f} MiB (+{growth / MIB:.1f} MiB)")
    assert status == "200", proc.stderr
    assert int(size) == HUGE
    assert growth < RSS_BOUND


def test_chunked_upload_and_close_delimited_answers_are_reframed(gateway, server_pki, acme, echo):
    # A chunked request body reaches the upstream whole, re-chunked by the gateway.
    with tls_connect(gateway, server_pki, acme) as s:
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (b"a" * 70000, b"b" * 5, b"c" * 100000))
        s.sendall(b"POST /upload/chunked HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
        status, body = read_response(s)
    assert status == 200
    seen = [r for r in echo.requests if r["path"] == "/upload/chunked"][-1]
    assert seen["body"] == b"a" * 70000 + b"b" * 5 + b"c" * 100000
    assert seen["headers"].get("Transfer-Encoding") == ["chunked"], seen["headers"]


def test_request_body_over_the_limit_mid_stream_is_413(gateway, server_pki, acme, echo):
    start = gateway.mark()
    with gateway.counts("tether_request_errors_total", reason="body_too_large", status="413"), \
            tls_connect(gateway, server_pki, acme) as s:
        # Chunked, so the size is known only as it arrives: 17 MiB against a 16 MiB limit.
        s.sendall(b"POST /upload/too-big HTTP/1.1\r\nHost: acme.test\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (MIB, b"z" * MIB)
        status = None
        try:
            for _ in range(17):
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        data = b""
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                data += got
        except (ConnectionResetError, ssl.SSLError):
            pass
        status = int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None
    line = gateway.request_line(start, path="/upload/too-big")
    assert line["status"] == 413, line
    assert "max_body_bytes" in line["detail"], line
    assert status in (413, None), data[:200]


def raw_exchange(gw, server_pki, bundle, request):
    """Sends `request` and reads until the gateway closes the connection."""
    with tls_connect(gw, server_pki, bundle) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode(), body


def dechunk(body):
    out, rest = b"", body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert rest == b"\r\n", rest[:50]
            return out
        out, rest = out + rest[:size], rest[size + 2:]


@pytest.mark.parametrize("kind", ["chunked", "until-close"])
def test_upstream_bodies_without_length_are_chunked_for_http11_and_closed_for_http10(
        gateway, server_pki, acme, kind):
    n = 300000
    expected = (b"0123456789abcdef" * (n // 16 + 1))[:n]
    head, body = raw_exchange(gateway, server_pki, acme,
                              f"GET /{kind}/{n} HTTP/1.1\r\nHost: acme.test\r\n"
                              f"Connection: close\r\n\r\n".encode())
    assert head.startswith("HTTP/1.1 200"), head
    assert "transfer-encoding: chunked" in head.lower(), head
    assert dechunk(body) == expected
    head, body = raw_exchange(gateway, server_pki, acme,
                              f"GET /{kind}/{n} HTTP/1.0\r\nHost: acme.test\r\n\r\n".encode())
    assert head.startswith("HTTP/1.0 200"), head
    assert "transfer-encoding" not in head.lower() and "content-length" not in head.lower(), head
    assert body == expected


def test_head_answers_carry_the_length_and_no_body(gateway, server_pki, acme):
    head, body = raw_exchange(gateway, server_pki, acme,
                              b"HEAD /files/big HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n\r\n")
    assert head.startswith("HTTP/1.1 200"), head
    assert f"content-length: {BIG}" in head.lower(), head
    assert body == b""
