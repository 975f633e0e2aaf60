"""The gateway's HTTP layer as an attacker sees it: request targets that try to escape
their route, request framing that tries to smuggle a second request, client-sent forwarding
headers, and a second process on the gateway's port.

Upstreams are real: nginx as a file server that decodes and normalises paths (what most
upstreams do), and the HTTP echo server that records every request it received. Clients are raw
TLS sockets (Python ssl), so targets and framing reach the gateway exactly as written, and curl.
"""
import json
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest

import testpki
from gatewaylib import Gateway
from testpki import make_server_pki
from tetherlib import TETHER, Tether
from upstreams import EchoHttpServer, NginxFileServer

CLIENT_TIMEOUT = 20
HOSTS = ("acme.test", "globex.test")
ACME_SECRET = "acme's own file\n"
GLOBEX_SECRET = "globex's secret: never for acme\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    t = Tether(tmp_path_factory.mktemp("tether"))
    t.tenant("acme")
    t.tenant("globex")
    return t


@pytest.fixture(scope="module")
def server_pki(tmp_path_factory):
    return make_server_pki(tmp_path_factory.mktemp("server-pki"), "requests test server CA", HOSTS)


@pytest.fixture(scope="module")
def acme(pki):
    return testpki.make_bundle(pki, "acme", "edge-1", "--key-type", "ecdsa-p256")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """nginx serving /acme/secret.txt and /globex/secret.txt from one root: two tenants' routes
    on one upstream."""
    root = tmp_path_factory.mktemp("www")
    for tenant, text in (("acme", ACME_SECRET), ("globex", GLOBEX_SECRET)):
        (root / tenant).mkdir()
        (root / tenant / "secret.txt").write_text(text)
    with NginxFileServer(root, tmp_path_factory.mktemp("nginx")) as nginx:
        yield nginx


@pytest.fixture(scope="module")
def echo():
    with EchoHttpServer() as server:
        yield server


def routes(files, echo):
    return f"""
[[route]]
name = "acme-files"
upstream = "127.0.0.1:{files.port}"
match = {{ path_prefix = "/acme" }}
allow = ["tenant:acme"]

[[route]]
name = "globex-files"
upstream = "127.0.0.1:{files.port}"
match = {{ path_prefix = "/globex" }}
allow = ["tenant:globex"]

[[route]]
name = "acme-echo"
upstream = "127.0.0.1:{echo.port}"
match = {{ path_prefix = "/echo" }}
allow = ["tenant:acme"]
"""


@pytest.fixture(scope="module")
def gateway(pki, server_pki, files, echo, tmp_path_factory):
    gw = Gateway(tmp_path_factory.mktemp("gateway"), pki.db, server_pki, [pki.root_pem],
                 routes(files, echo))
    with gw:
        yield gw


def tls_context(server_pki, bundle):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(server_pki / "server-ca.pem")
    ctx.load_cert_chain(bundle.chain, bundle.key)
    return ctx


def exchange(gw, server_pki, bundle, raw_request, host="acme.test"):
    """Sends `raw_request` (bytes) on a new mTLS connection and reads until the gateway closes
    it. Returns (status, head, body, closed): closed is True when the gateway closed the
    connection on its own after the response."""
    ctx = tls_context(server_pki, bundle)
    with socket.create_connection(("127.0.0.1", gw.port), timeout=CLIENT_TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as sock:
            sock.sendall(raw_request)
            data = b""
            deadline = time.monotonic() + CLIENT_TIMEOUT
            closed = False
            while time.monotonic() < deadline:
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, ssl.SSLEOFError):
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), f"no response to {raw_request!r}: {data!r}"
    return int(head.split(b" ", 2)[1]), head.decode(), body, closed


def get(target, case, host="acme.test"):
    return (f"GET {target} HTTP/1.1\r\nHost: {host}\r\nX-Test-Case: {case}\r\n"
            f"Connection: close\r\n\r\n").encode()


# --- request targets -------------------------------------------------------------------------

# Each tries to read /globex/secret.txt through acme's /acme route (or to leave the route some
# other way). Dot segments in every encoding, encoded separators, path parameters, double
# encoding, overlong UTF-8, NUL, invalid escapes, empty segments and case tricks.
ESCAPES = [
    "/acme/../globex/secret.txt",
    "/acme/./../globex/secret.txt",
    "/acme/x/../../globex/secret.txt",
    "/acme/%2e%2e/globex/secret.txt",
    "/acme/%2E%2E/globex/secret.txt",
    "/acme/%2e%2E/globex/secret.txt",
    "/acme/.%2e/globex/secret.txt",
    "/acme/.%2E/globex/secret.txt",
    "/acme/%2e./globex/secret.txt",
    "/acme/%2e/%2e%2e/globex/secret.txt",
    "/acme/%2e%2e%2fglobex/secret.txt",
    "/acme/..%2fglobex/secret.txt",
    "/acme/..%2Fglobex/secret.txt",
    "/acme/%2e%2e%2f%2e%2e%2fglobex%2fsecret.txt",
    "/acme%2f..%2fglobex/secret.txt",
    "/acme%2F%2E%2E%2Fglobex%2Fsecret.txt",
    "/acme/..;/globex/secret.txt",
    "/acme/..;jsessionid=1/globex/secret.txt",
    "/acme/..%3b/globex/secret.txt",
    "/acme/%2e%2e;x/globex/secret.txt",
    "/acme;/../globex/secret.txt",
    "/acme/..%5cglobex/secret.txt",
    "/acme/..%5Cglobex%5Csecret.txt",
    "/acme/..\\globex/secret.txt",
    "/acme//../globex/secret.txt",
    "//acme/../globex/secret.txt",
    "/%61cme/../globex/secret.txt",
    "/acme/%252e%252e/globex/secret.txt",
    "/acme/%25%32%65%25%32%65/globex/secret.txt",
    "/acme/%c0%ae%c0%ae/globex/secret.txt",
    "/acme/..%00/globex/secret.txt",
    "/acme/%00/../globex/secret.txt",
    "/acme/..%09/globex/secret.txt",
    "/acme/%zz/../globex/secret.txt",
    "/acme/%2/../globex/secret.txt",
    "/acme/secret.txt#/../../globex/secret.txt",
    "/acme/secret.txt?f=/../globex/secret.txt",
    "/acme/%2e%2e",
    "/./globex/secret.txt",
    "/acme/.../globex/secret.txt",
]


def inside(path, prefix):
    return path == prefix or path.startswith(prefix + "/")


def test_encoded_targets_never_leave_their_route(gateway, server_pki, acme, files):
    assert len(ESCAPES) >= 30
    errors = "tether_request_errors_total"
    bad_before = gateway.counter(errors, reason="bad_request")
    no_route_before = gateway.counter(errors, reason="no_route")
    outcomes = []
    for i, target in enumerate(ESCAPES):
        case = f"escape-{i}"
        status, head, body, _ = exchange(gateway, server_pki, acme, get(target, case))
        assert GLOBEX_SECRET.encode() not in body, f"{target!r} read globex's file"
        outcomes.append((case, target, status, body))
    # nginx (one worker) logs requests in the order it finished them: once a last request's row
    # is in, every row of the cases before it is too.
    status, _, _, _ = exchange(gateway, server_pki, acme, get("/acme/secret.txt", "escape-marker"))
    assert status == 200
    files.wait_for_case("escape-marker")
    served = {row[0]: row for row in files.log()}
    refused = 0
    for case, target, status, body in outcomes:
        if case in served:
            _, request_uri, uri, upstream_status = served[case]
            # What nginx made of the forwarded target (decoded, normalised) lies in the route.
            assert inside(uri, "/acme"), f"{target!r} reached nginx as {request_uri!r} = {uri!r}"
            assert status == upstream_status, (target, status, upstream_status)
        else:
            # Refused by the gateway itself, with its JSON reason.
            assert status in (400, 404), f"{target!r}: {status} {body!r}"
            assert b'"error"' in body, body
            refused += 1
    print(f"\n{len(ESCAPES)} targets: {refused} refused by the gateway, "
          f"{len(ESCAPES) - refused} reached nginx inside /acme")
    # Each refusal was counted under its reason.
    refused_with = lambda code: sum(1 for case, _, status, _ in outcomes
                                    if case not in served and status == code)
    gateway.wait_count(errors, bad_before, refused_with(400), reason="bad_request")
    gateway.wait_count(errors, no_route_before, refused_with(404), reason="no_route")
    # The control: acme reads its own file; globex's route refuses acme by identity.
    status, _, body, _ = exchange(gateway, server_pki, acme, get("/acme/secret.txt", "control"))
    assert (status, body) == (200, ACME_SECRET.encode())
    status, _, body, _ = exchange(gateway, server_pki, acme, get("/globex/secret.txt", "direct"))
    assert status == 403 and b'"forbidden"' in body


def test_encoded_dot_segment_is_400_naming_the_segment(gateway, server_pki, acme, files):
    start = gateway.mark()
    target = "/acme/%2e%2e/globex/named.txt"
    with gateway.counts("tether_request_errors_total", reason="bad_request", status="400"):
        status, _, body, closed = exchange(gateway, server_pki, acme, get(target, "named"))
    assert status == 400
    assert b'dot segment \\"%2e%2e\\"' in body, body
    # Log lines are written in batches: wait for this request's own line.
    line = gateway.request_line(start, status=400, path=target)
    assert "dot segment" in line["detail"]
    assert not any(row[0] == "named" for row in files.log())


def test_decoded_path_is_what_routes_match_and_nginx_serves(gateway, server_pki, acme, files):
    # "%61cme" is "acme", "//" is merged: both are acme's route, and reach nginx as such.
    for case, target in (("decoded", "/%61cme/secret.txt"), ("merged", "//acme//secret.txt")):
        status, _, body, _ = exchange(gateway, server_pki, acme, get(target, case))
        assert (status, body) == (200, ACME_SECRET.encode()), (target, status, body)
        row = files.wait_for_case(case)
        assert row[1] == "/acme/secret.txt", row


# --- request framing -------------------------------------------------------------------------

SMUGGLED = b"GET /echo/smuggled HTTP/1.1\r\nHost: acme.test\r\nX-Test-Case: smuggled\r\n\r\n"


@pytest.mark.parametrize("case,te,status", [
    (0, "chunked, identity", 400), (1, "identity", 400), (2, "gzip", 400), (3, "xchunked", 400),
    (4, "chunked, chunked", 400), (5, "chunked\r\nTransfer-Encoding: identity", 400),
    (6, "gzip, chunked", 501),
])
def test_bad_transfer_encoding_is_refused_and_closes(gateway, server_pki, acme, echo, case, te,
                                                     status):
    before = len(echo.requests)
    start = gateway.mark()
    # The body is a whole second request: a gateway that framed this request as bodiless would
    # read it as the next request on the connection.
    path = f"/echo/te-{case}"
    request = (f"POST {path} HTTP/1.1\r\nHost: acme.test\r\nTransfer-Encoding: {te}\r\n"
               f"X-Test-Case: te\r\n\r\n").encode() + SMUGGLED
    reason = {400: "bad_request", 501: "not_implemented"}[status]
    with gateway.counts("tether_request_errors_total", reason=reason, status=str(status)):
        got, _, body, closed = exchange(gateway, server_pki, acme, request)
    assert got == status, body
    assert closed, "the gateway kept a connection whose framing it refused"
    # This request's own line (log lines come in batches). Two Transfer-Encoding fields where
    # the first is chunked fail in Beast's parser already, before the path is known.
    line = gateway.wait_for(lambda e: e.get("event") == "request" and e.get("status") == status
                            and e.get("path") in (path, "") and "Transfer-Encoding" in e.get("detail", ""),
                            15, f"the request line of {path}", start)
    # The upstream's own log: neither request reached it.
    assert echo.requests[before:] == [], echo.requests[before:]


def test_transfer_encoding_with_content_length_is_400(gateway, server_pki, acme, echo):
    before = len(echo.requests)
    request = (b"POST /echo/x HTTP/1.1\r\nHost: acme.test\r\nContent-Length: 5\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED)
    with gateway.counts("tether_request_errors_total", reason="bad_request"):
        got, _, _, closed = exchange(gateway, server_pki, acme, request)
    assert got == 400 and closed
    assert echo.requests[before:] == []


def test_chunked_body_is_forwarded(gateway, server_pki, acme, echo):
    request = (b"POST /echo/chunked HTTP/1.1\r\nHost: acme.test\r\nTransfer-Encoding: chunked\r\n"
               b"X-Test-Case: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    got, _, _, _ = exchange(gateway, server_pki, acme, request)
    assert got == 200
    seen = [r for r in echo.requests if r["path"] == "/echo/chunked"]
    assert seen and seen[-1]["body"] == b"hello"


# --- forwarding headers ----------------------------------------------------------------------

def test_client_forwarding_headers_never_reach_the_upstream(gateway, server_pki, acme, echo):
    request = (b"GET /echo/fwd HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n"
               b"X-Forwarded-For: 203.0.113.7\r\nForwarded: for=203.0.113.7;host=admin\r\n"
               b"X-Real-IP: 203.0.113.7\r\nX-Forwarded-Host: admin.internal\r\n"
               b"X-Forwarded-Proto: http\r\nx-forwarded-port: 80\r\n\r\n")
    got, _, _, _ = exchange(gateway, server_pki, acme, request)
    assert got == 200
    seen = [r for r in echo.requests if r["path"] == "/echo/fwd"][-1]
    names = {name.lower(): value for name, value in seen["header_lines"]}
    assert [v for n, v in seen["header_lines"] if n.lower() == "x-forwarded-for"] == ["127.0.0.1"]
    assert names["x-forwarded-proto"] == "https"
    assert names["x-forwarded-host"] == "acme.test"
    for name in ("forwarded", "x-real-ip", "x-forwarded-port"):
        assert name not in names, seen["header_lines"]
    assert "203.0.113.7" not in str(seen["header_lines"])


# --- port ownership --------------------------------------------------------------------------

def test_second_gateway_on_a_port_in_use_exits_and_the_first_keeps_serving(
        gateway, pki, server_pki, acme, files, echo, tmp_path):
    results = []
    stop = threading.Event()

    def client():
        ctx = tls_context(server_pki, acme)
        while len(results) < 100 and not stop.is_set():
            try:
                status, _, _, _ = exchange(gateway, server_pki, acme,
                                           get("/acme/secret.txt", "owner"))
                results.append(status)
            except (OSError, AssertionError) as e:
                results.append(repr(e))
        del ctx

    thread = threading.Thread(target=client)
    thread.start()
    second = Gateway(tmp_path / "second", pki.db, server_pki, [pki.root_pem], routes(files, echo))
    second.write_config(text=second.config_text().replace("port = 0\n", f"port = {gateway.port}\n", 1))
    started = time.monotonic()
    proc = subprocess.run([TETHER, "gateway", "--config", str(second.config_path)],
                          capture_output=True, text=True, timeout=30)
    took = time.monotonic() - started
    thread.join(120)
    stop.set()
    assert proc.returncode != 0
    assert took < 5, f"the second gateway took {took:.1f}s to give up"
    assert f"listener.port {gateway.port}" in proc.stderr and "in use" in proc.stderr, proc.stderr
    assert '"ready"' not in proc.stdout
    assert results == [200] * 100, results
    print(f"\nsecond gateway exited {proc.returncode} in {took:.2f}s: {proc.stderr.strip()}")


# --- PROXY protocol v2 and per-source limits -------------------------------------------------

PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def proxy_v2_header(src, sport, dst, dport):
    """A PROXY protocol v2 header for TCP over IPv4, as HAProxy's send-proxy-v2 writes it."""
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(">HH", sport, dport)
    return PROXY_V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack(">H", len(body)) + body


def exchange_behind_balancer(gw, server_pki, bundle, header, raw_request):
    """A load balancer's view: the PROXY header first, then the client's TLS connection."""
    ctx = tls_context(server_pki, bundle)
    with socket.create_connection(("127.0.0.1", gw.port), timeout=CLIENT_TIMEOUT) as raw:
        raw.sendall(header)
        with ctx.wrap_socket(raw, server_hostname="acme.test") as sock:
            sock.sendall(raw_request)
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    return int(data.split(b" ", 2)[1]), data


def proxied_gateway(pki, server_pki, files, echo, workdir, trusted):
    return Gateway(workdir, pki.db, server_pki, [pki.root_pem], routes(files, echo),
                   extra_listener=f"proxy_protocol = true\nproxy_protocol_from = {json.dumps(trusted)}\n")


def test_proxy_protocol_from_a_trusted_balancer_names_the_client(pki, server_pki, acme, files,
                                                                 echo, tmp_path):
    with proxied_gateway(pki, server_pki, files, echo, tmp_path / "gw", ["127.0.0.0/8"]) as gw:
        start = gw.mark()
        header = proxy_v2_header("203.0.113.9", 4242, "127.0.0.1", gw.port)
        request = (b"GET /echo/proxied HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n"
                   b"X-Forwarded-For: 198.51.100.1\r\n\r\n")
        status, _ = exchange_behind_balancer(gw, server_pki, acme, header, request)
        assert status == 200
        seen = [r for r in echo.requests if r["path"] == "/echo/proxied"][-1]
        xff = [v for n, v in seen["header_lines"] if n.lower() == "x-forwarded-for"]
        assert xff == ["203.0.113.9"], seen["header_lines"]
        assert gw.handshake_line(start, outcome="accepted")["peer"] == "203.0.113.9:4242"
        assert gw.request_line(start, status=200)["peer"] == "203.0.113.9:4242"

        # A client that connects directly (no header) is refused before TLS, with the reason.
        start = gw.mark()
        with gw.counts("tether_connections_refused_total", reason="proxy_protocol_invalid"), \
                pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            exchange(gw, server_pki, acme, get("/echo/direct", "direct"))
        line = gw.wait_for(lambda e: e.get("event") == "connection_refused", 15,
                           "a connection_refused line", start)
        assert line["reason"] == "proxy_protocol_invalid", line
        assert "signature" in line["detail"] or "TLS handshake" in line["detail"], line


def test_proxy_protocol_from_an_untrusted_address_is_refused(pki, server_pki, acme, files, echo,
                                                             tmp_path):
    with proxied_gateway(pki, server_pki, files, echo, tmp_path / "gw", ["10.0.0.0/8"]) as gw:
        start = gw.mark()
        before = len(echo.requests)
        header = proxy_v2_header("203.0.113.9", 4242, "127.0.0.1", gw.port)
        with gw.counts("tether_connections_refused_total", reason="proxy_protocol_untrusted"), \
                pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            exchange_behind_balancer(gw, server_pki, acme, header, get("/echo/x", "untrusted"))
        line = gw.wait_for(lambda e: e.get("event") == "connection_refused", 15,
                           "a connection_refused line", start)
        assert line["reason"] == "proxy_protocol_untrusted", line
        assert line["peer"].startswith("127.0.0.1:"), line
        assert echo.requests[before:] == []


def test_connections_per_source_are_limited(pki, server_pki, acme, files, echo, tmp_path):
    gw = Gateway(tmp_path / "gw", pki.db, server_pki, [pki.root_pem], routes(files, echo),
                 limits={"max_connections_per_source": 2})
    with gw:
        ctx = tls_context(server_pki, acme)
        held = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", gw.port), timeout=CLIENT_TIMEOUT),
                                server_hostname="acme.test") for _ in range(2)]
        start = gw.mark()
        with gw.counts("tether_connections_refused_total", reason="max_connections_per_source"), \
                pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            exchange(gw, server_pki, acme, get("/acme/secret.txt", "third"))
        line = gw.wait_for(lambda e: e.get("event") == "connection_refused", 15,
                           "a connection_refused line", start)
        assert line["reason"] == "max_connections_per_source", line
        assert "127.0.0.1" in line["detail"], line
        held.pop().close()
        # The closed one's slot is free again (the gateway notices the close asynchronously).
        deadline = time.monotonic() + 15
        while True:
            try:
                status, _, _, _ = exchange(gw, server_pki, acme, get("/acme/secret.txt", "again"))
                break
            except (ssl.SSLError, ConnectionError, OSError):
                assert time.monotonic() < deadline, "a freed per-source slot was never reused"
                time.sleep(0.05)
        assert status == 200
        for s in held:
            s.close()
