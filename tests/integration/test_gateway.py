"""`tether gateway` end to end with real clients and real upstreams.

Clients: curl, gnutls-cli, openssl s_client, Python ssl, mosquitto_pub/_sub, a WebSocket client.
Upstreams: a local HTTP echo server, a WebSocket echo server, a mosquitto broker. Every refused
handshake asserts both the alert the client saw and the reason in the gateway's log line.
"""
import json
import sqlite3
import subprocess
import socket
import ssl
import threading
import time
import types

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

import testpki
from gatewaylib import Gateway, free_port
from testpki import faketime_env, issue_with_tether_key, make_server_pki
from tetherlib import TETHER as TETHER_BIN, Tether, run, run_bytes
from upstreams import EchoHttpServer, Mosquitto, WebSocketEchoServer, mqtt_pub, mqtt_sub, websocket_echo_roundtrip

CLIENT_TIMEOUT = 20
HOSTS = ("acme.test", "globex.test", "localhost")


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    t = Tether(tmp_path_factory.mktemp("tether"))
    t.tenant("acme")
    t.tenant("globex")
    return t


@pytest.fixture(scope="module")
def server_pki(tmp_path_factory):
    return make_server_pki(tmp_path_factory.mktemp("server-pki"), "gateway test server CA", HOSTS)


@pytest.fixture(scope="module")
def acme(pki):
    return testpki.make_bundle(pki, "acme", "edge-1", "--key-type", "ecdsa-p256")


@pytest.fixture(scope="module")
def globex(pki):
    return testpki.make_bundle(pki, "globex", "gx-1", "--key-type", "ecdsa-p256")


@pytest.fixture(scope="module")
def upstreams():
    with EchoHttpServer() as acme_up, EchoHttpServer() as globex_up, WebSocketEchoServer() as ws, \
            Mosquitto() as broker:
        yield {"acme": acme_up, "globex": globex_up, "ws": ws, "mqtt": broker}


def routes_toml(upstreams, mqtt_port, down_port):
    return f"""
[[route]]
name = "acme-api"
upstream = "127.0.0.1:{upstreams['acme'].port}"
match = {{ sni = "acme.test" }}
allow = ["tenant:acme"]

[[route]]
name = "acme-down"
upstream = "127.0.0.1:{down_port}"
match = {{ sni = "acme.test", path_prefix = "/down" }}
allow = ["tenant:acme"]

[[route]]
name = "acme-ws"
protocol = "websocket"
upstream = "127.0.0.1:{upstreams['ws'].port}"
match = {{ sni = "acme.test", path_prefix = "/ws" }}
allow = ["connector:acme/*"]

[[route]]
name = "globex-api"
upstream = "127.0.0.1:{upstreams['globex'].port}"
match = {{ sni = "globex.test" }}
allow = ["tenant:globex"]

[[route]]
name = "acme-mqtt"
protocol = "tcp"
upstream = "127.0.0.1:{upstreams['mqtt'].port}"
match = {{ port = {mqtt_port} }}
allow = ["tenant:acme"]
"""


@pytest.fixture(scope="module")
def gateway(pki, server_pki, upstreams, tmp_path_factory):
    down_port = free_port()  # nothing listens there: 502
    gw = Gateway(tmp_path_factory.mktemp("gateway"), pki.db, server_pki, [pki.root_pem],
                 routes_toml(upstreams, free_port(), down_port))
    with gw:
        yield gw


# --- clients -----------------------------------------------------------------------------------

def curl(gw, server_pki, bundle, host, path="/", extra=(), port=None):
    port = port or gw.port
    args = ["curl", "-sS", "--max-time", str(CLIENT_TIMEOUT), "--cacert", str(server_pki / "server-ca.pem"),
            "--resolve", f"{host}:{port}:127.0.0.1", "-w", "\n%{http_code}"]
    if bundle is not None:
        args += ["--cert", str(bundle.chain), "--key", str(bundle.key)]
    proc = run(args + list(extra) + [f"https://{host}:{port}{path}"], timeout=CLIENT_TIMEOUT + 10)
    body, _, status = proc.stdout.rpartition("\n")
    return proc, body, status


def client_context(server_pki, bundle, version=ssl.TLSVersion.TLSv1_3):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_verify_locations(server_pki / "server-ca.pem")
    if bundle is not None:
        ctx.load_cert_chain(bundle.chain, bundle.key)
    return ctx


def http_over(sock, host, path="/", close=False, extra_headers=""):
    """One HTTP/1.1 request on an open TLS socket; returns (status, headers text, body bytes)."""
    conn = "close" if close else "keep-alive"
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: {conn}\r\n{extra_headers}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before response headers: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    headers = head.decode()
    length = next(int(line.split(":", 1)[1]) for line in headers.split("\r\n")
                  if line.lower().startswith("content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the response body"
        body += chunk
    return int(headers.split(" ", 2)[1]), headers, body


def connect(gw, ctx, sni, session=None):
    raw = socket.create_connection(("127.0.0.1", gw.port), timeout=CLIENT_TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname=sni, session=session)


# --- accepted clients --------------------------------------------------------------------------

def test_curl_reaches_upstream_which_sees_identity_headers(gateway, server_pki, acme, upstreams):
    start = gateway.mark()
    proc, body, status = curl(gateway, server_pki, acme, "acme.test", "/hello?x=1",
                              ["-H", "X-Tether-Identity: connector/globex/evil",
                               "-H", "X-Tether-Tenant: globex", "-H", "x-tether-cert-sha256: 00",
                               "-H", "X-Tether-Admin: yes"])
    assert status == "200", proc.stderr
    seen = json.loads(body)
    assert seen["path"] == "/hello?x=1"
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    # Set by the gateway, exactly once each; the spoofed values are gone.
    assert headers["x-tether-identity"] == ["connector/acme/edge-1"], headers
    assert headers["x-tether-tenant"] == ["acme"], headers
    sha = run(["openssl", "x509", "-in", str(acme.chain), "-noout", "-fingerprint", "-sha256"], check=True).stdout
    assert headers["x-tether-cert-sha256"] == [sha.split("=", 1)[1].strip().replace(":", "").lower()], headers
    assert "x-tether-admin" not in headers, headers
    assert headers["x-forwarded-proto"] == ["https"]
    line = gateway.request_line(start, route="acme-api", status=200)
    assert line["identity"] == "connector/acme/edge-1" and line["path"] == "/hello", line
    hs = gateway.handshake_line(start, outcome="accepted")
    assert hs["reason"] == "ok" and hs["serial"] == acme.serial_hex and hs["sni"] == "acme.test", hs
    assert hs["tls_version"] == "TLSv1.3" and hs["cipher"].startswith("TLS_"), hs


def test_keep_alive_requests_share_pooled_upstream_connections(gateway, server_pki, acme, upstreams):
    ctx = client_context(server_pki, acme)
    with connect(gateway, ctx, "acme.test") as s:
        ids = [json.loads(http_over(s, "acme.test", f"/k{i}")[2])["connection_id"] for i in range(5)]
    # One client connection, five requests: the upstream connection is reused from the pool.
    assert len(set(ids)) == 1, ids


def test_python_ssl_tls12_and_tls13_interoperate(gateway, server_pki, acme):
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        with connect(gateway, client_context(server_pki, acme, version), "acme.test") as s:
            assert s.version() == name
            status, _, body = http_over(s, "acme.test", close=True)
            assert status == 200, body
            assert json.loads(body)["headers"]["X-Tether-Identity"] == ["connector/acme/edge-1"]
            if version == ssl.TLSVersion.TLSv1_2:
                assert "ECDHE" in s.cipher()[0] and "GCM" in s.cipher()[0] or "CHACHA20" in s.cipher()[0], s.cipher()


def test_gnutls_cli_interoperates(gateway, server_pki, acme):
    request = "GET /gnutls HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n\r\n"
    proc = run(["gnutls-cli", "--x509cafile", str(server_pki / "server-ca.pem"),
                "--x509certfile", str(acme.chain), "--x509keyfile", str(acme.key),
                "--sni-hostname", "acme.test", "--verify-hostname", "acme.test",
                "-p", str(gateway.port), "127.0.0.1"], input=request, timeout=CLIENT_TIMEOUT + 10)
    assert "HTTP/1.1 200 OK" in proc.stdout, proc.stdout + proc.stderr
    assert '"X-Tether-Identity": ["connector/acme/edge-1"]' in proc.stdout, proc.stdout


def test_leaf_alone_is_accepted_from_curl_and_openssl_s_client(gateway, server_pki, acme, upstreams):
    # The gateway finds the issuing CA itself (the CA's issuing.pem beside the store): a client
    # may send its leaf without the intermediate.
    leaf_only = types.SimpleNamespace(chain=acme.leaf, key=acme.key)
    start = gateway.mark()
    proc, body, status = curl(gateway, server_pki, leaf_only, "acme.test", "/leaf-curl")
    assert status == "200", proc.stderr + body
    line = gateway.handshake_line(start, outcome="accepted")
    assert line["identity"] == "connector/acme/edge-1", line
    request = b"GET /leaf-s-client HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n\r\n"
    proc = run_bytes(["openssl", "s_client", "-quiet", "-connect", f"127.0.0.1:{gateway.port}",
                      "-servername", "acme.test", "-CAfile", str(server_pki / "server-ca.pem"),
                      "-verify_return_error", "-cert", str(acme.leaf), "-key", str(acme.key)],
                     input=request, timeout=CLIENT_TIMEOUT + 10)
    assert proc.stdout.startswith(b"HTTP/1.1 200"), proc.stdout + proc.stderr
    paths = [r["path"] for r in upstreams["acme"].requests]
    assert "/leaf-curl" in paths and "/leaf-s-client" in paths


def server_cert_file(d, name, eku, sans, not_before, not_after):
    """A server certificate (self-signed, P-256) with the given EKU, SANs and validity."""
    import datetime
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    key = testpki.ec_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.ExtendedKeyUsage([eku]), critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]),
                                        critical=False)
    cert = builder.sign(key, hashes.SHA256())
    (d / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    testpki.write_key(d / f"{name}-key.pem", key)
    return d / f"{name}.pem", d / f"{name}-key.pem"


def test_gateway_refuses_to_start_with_a_server_certificate_clients_would_refuse(pki, server_pki, upstreams,
                                                                                 tmp_path):
    import datetime
    now = datetime.datetime.utcnow()
    day = datetime.timedelta(days=1)
    cases = [
        ("client-only", ExtendedKeyUsageOID.CLIENT_AUTH, ["acme.test"], now - day, now + day,
         "has no serverAuth in its extendedKeyUsage"),
        ("no-san", ExtendedKeyUsageOID.SERVER_AUTH, [], now - day, now + day,
         "has no DNS or IP subjectAltName"),
        ("expired", ExtendedKeyUsageOID.SERVER_AUTH, ["acme.test"], now - 3 * day, now - day, "expired at"),
    ]
    for name, eku, sans, nb, na, says in cases:
        cert, key = server_cert_file(tmp_path, name, eku, sans, nb, na)
        gw = Gateway(tmp_path / f"gw-{name}", pki.db, server_pki, [pki.root_pem],
                     routes_toml(upstreams, free_port(), free_port()), server_cert=cert, server_key=key)
        proc = run([TETHER_BIN, "gateway", "--config", str(gw.config_path)], timeout=30)
        assert proc.returncode == 1, (name, proc.stdout, proc.stderr)
        assert says in proc.stderr and f"{name}.pem" in proc.stderr, (name, proc.stderr)
        assert '"ready"' not in proc.stdout


def test_gateway_warns_from_30_days_before_its_server_certificate_expires(pki, server_pki, upstreams,
                                                                         tmp_path):
    import datetime
    now = datetime.datetime.utcnow()
    cert, key = server_cert_file(tmp_path, "soon", ExtendedKeyUsageOID.SERVER_AUTH, ["acme.test"],
                                 now - datetime.timedelta(days=1), now + datetime.timedelta(days=10, hours=1))
    gw = Gateway(tmp_path / "gw", pki.db, server_pki, [pki.root_pem],
                 routes_toml(upstreams, free_port(), free_port()), server_cert=cert, server_key=key)
    with gw:
        line = gw.wait_for(lambda e: e.get("event") == "warning" and "server certificate" in e.get("detail", ""),
                           15, "a warning about the server certificate")
    assert "soon.pem expires in 10 days" in line["detail"], line


def test_trust_domain_comes_from_the_store_and_a_different_one_is_refused(server_pki, upstreams, tmp_path):
    # A CA with its own trust domain: a gateway config that names none takes the CA's.
    (tmp_path / "ca").mkdir()
    other = Tether(tmp_path / "ca", init=False)
    other.check("ca", "init", "--key-type", "ecdsa-p256", "--trust-domain", "example.org")
    other.tenant("acme")
    bundle = testpki.make_bundle(other, "acme", "edge-9", "--key-type", "ecdsa-p256")
    gw = Gateway(tmp_path / "gw", other.db, server_pki, [other.root_pem],
                 routes_toml(upstreams, free_port(), free_port()))
    with gw:
        _, body, status = curl(gw, server_pki, bundle, "acme.test", "/from-example-org")
        assert status == "200", body
    # Naming another trust domain than the CA's is refused at start, naming both.
    gw.write_config(text='trust_domain = "tether.internal"\n' + gw.config_text())
    proc = run([TETHER_BIN, "gateway", "--config", str(gw.config_path)], timeout=30)
    assert proc.returncode == 2, "a config value refused as given is exit 2\n" + proc.stderr
    assert 'trust_domain = "tether.internal" differs from the CA\'s trust domain "example.org"' in proc.stderr, \
        proc.stderr


def test_upstream_down_is_502_with_json(gateway, server_pki, acme):
    start = gateway.mark()
    with gateway.counts("tether_request_errors_total", reason="bad_gateway", status="502"):
        _, body, status = curl(gateway, server_pki, acme, "acme.test", "/down/x")
    assert status == "502", body
    assert json.loads(body)["error"] == "bad_gateway", body
    assert json.loads(body)["route"] == "acme-down", body
    line = gateway.request_line(start, route="acme-down", status=502)
    assert "connection refused" in line["detail"].lower(), line
    # Where the upstream lives stays in the log: the client is never told.
    upstream_address = line["detail"].split("upstream ", 1)[1].split(":")[0]
    assert upstream_address == "127.0.0.1", line
    assert "127.0.0.1" not in body and "refused" not in body.lower(), body


# --- refused handshakes: alert seen by the client, reason in the log ---------------------------

def refused_handshake(gw, reason, at_least=False):
    """The block refuses one handshake (at_least: one or more) counted under `reason`."""
    return gw.counts("tether_handshakes_total", at_least=at_least, result="rejected", reason=reason)


def assert_refused(gw, start, proc, alert_text, reason):
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert alert_text in proc.stderr, f"expected the client to see '{alert_text}':\n{proc.stderr}"
    line = gw.handshake_line(start, outcome="rejected", reason=reason)
    return line


def test_curl_without_certificate_is_certificate_required(gateway, server_pki):
    start = gateway.mark()
    with refused_handshake(gateway, "certificate_required"):
        proc, _, _ = curl(gateway, server_pki, None, "acme.test")
    line = assert_refused(gateway, start, proc, "alert certificate required", "certificate_required")
    assert line["alert"] == "certificate_required", line


def test_curl_from_another_ca_with_the_same_cn_is_unknown_ca(gateway, server_pki, tmp_path):
    other = Tether(tmp_path)
    other.tenant("acme")
    impostor = testpki.make_bundle(other, "acme", "edge-1", "--key-type", "ecdsa-p256")
    start = gateway.mark()
    with refused_handshake(gateway, "unknown_issuer"):
        proc, _, _ = curl(gateway, server_pki, impostor, "acme.test")
    line = assert_refused(gateway, start, proc, "alert unknown ca", "unknown_issuer")
    assert line["serial"] == impostor.serial_hex, line


def test_curl_with_server_auth_only_certificate_is_unsupported_certificate(gateway, server_pki, pki, tmp_path):
    bundle = issue_with_tether_key(pki, tmp_path, "connector/acme/server-only", ExtendedKeyUsageOID.SERVER_AUTH,
                                   "spiffe://tether.internal/tenant/acme/connector/server-only")
    start = gateway.mark()
    with refused_handshake(gateway, "bad_purpose"):
        proc, _, _ = curl(gateway, server_pki, bundle, "acme.test")
    assert_refused(gateway, start, proc, "alert unsupported certificate", "bad_purpose")


def test_certificate_openssl_accepts_but_tether_refuses_is_bad_certificate(gateway, server_pki, pki, tmp_path):
    # The gateway runs the same checks on top of OpenSSL's as `tether cert verify`: here a
    # dNSName with an underscore, which OpenSSL's chain checks let through (RFC 5280 4.2.1.6).
    bundle = issue_with_tether_key(pki, tmp_path, "connector/acme/underscore", ExtendedKeyUsageOID.CLIENT_AUTH,
                                   "spiffe://tether.internal/tenant/acme/connector/underscore",
                                   extra_sans=[x509.DNSName("edge_1.acme.test")])
    start = gateway.mark()
    with refused_handshake(gateway, "bad_certificate"):
        proc, _, _ = curl(gateway, server_pki, bundle, "acme.test")
    line = assert_refused(gateway, start, proc, "alert bad certificate", "bad_certificate")
    assert "subjectAltName dNSName 'edge_1.acme.test' is not a host name" in line["detail"], line


def test_tls11_client_is_protocol_version(gateway, server_pki, acme):
    start = gateway.mark()
    with refused_handshake(gateway, "protocol_version"):
        proc = run(["openssl", "s_client", "-connect", f"127.0.0.1:{gateway.port}", "-servername", "acme.test",
                    "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-cert", str(acme.chain), "-key", str(acme.key)],
                   input="", timeout=CLIENT_TIMEOUT)
    assert proc.returncode != 0
    assert "alert protocol version" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    line = gateway.handshake_line(start, outcome="rejected", reason="protocol_version")
    assert line["alert"] == "protocol_version", line


def test_curl_with_expired_certificate_is_certificate_expired(pki, server_pki, upstreams, tmp_path):
    bundle = testpki.make_bundle(pki, "acme", "short-lived", "--key-type", "ecdsa-p256", "--days", "1")
    # The gateway runs two days ahead: the connector certificate has expired, its own has not.
    gw = Gateway(tmp_path / "gw", pki.db, server_pki, [pki.root_pem],
                 routes_toml(upstreams, free_port(), free_port()), env=faketime_env("+2d"), workers=1)
    with gw:
        start = gw.mark()
        with refused_handshake(gw, "expired"):
            proc, _, _ = curl(gw, server_pki, bundle, "acme.test")
        line = assert_refused(gw, start, proc, "alert certificate expired", "expired")
    assert line["alert"] == "certificate_expired", line


# --- tenant isolation --------------------------------------------------------------------------

def test_tenant_a_gets_403_on_tenant_b_route(gateway, server_pki, acme, upstreams):
    before = len(upstreams["globex"].requests)
    start = gateway.mark()
    with gateway.counts("tether_request_errors_total", reason="forbidden", status="403"):
        _, body, status = curl(gateway, server_pki, acme, "globex.test", "/private")
    assert status == "403", body
    refusal = json.loads(body)
    assert refusal["error"] == "forbidden" and refusal["route"] == "globex-api", refusal
    assert refusal["rule"] == "default-deny" and "connector/acme/edge-1" in refusal["reason"], refusal
    assert gateway.request_line(start, route="globex-api", status=403)["identity"] == "connector/acme/edge-1"
    assert len(upstreams["globex"].requests) == before, "tenant B's upstream saw tenant A's request"


def test_sni_of_one_host_and_host_header_of_another_never_reaches_it(gateway, server_pki, acme, upstreams):
    before = len(upstreams["globex"].requests)
    # SNI globex.test (B's host), Host acme.test (A's): routed by SNI, so B's rules decide: 403.
    with gateway.counts("tether_request_errors_total", reason="forbidden"):
        _, body, status = curl(gateway, server_pki, acme, "globex.test", "/x", ["-H", "Host: acme.test"])
    assert status == "403", body
    assert json.loads(body)["route"] == "globex-api", body
    # SNI acme.test (A's own), Host globex.test: allowed on A's route, but the Host names another
    # host than the TLS session was made for: 421 Misdirected Request.
    with gateway.counts("tether_request_errors_total", reason="misdirected_request", status="421"):
        _, body, status = curl(gateway, server_pki, acme, "acme.test", "/x", ["-H", "Host: globex.test"])
    assert status == "421", body
    assert json.loads(body)["error"] == "misdirected_request", body
    assert len(upstreams["globex"].requests) == before, "tenant B's upstream saw tenant A's request"


def test_session_ticket_for_one_sni_does_not_resume_under_another(gateway, server_pki, acme, upstreams):
    ctx = client_context(server_pki, acme)
    with connect(gateway, ctx, "acme.test") as s:
        assert http_over(s, "acme.test")[0] == 200  # reading a response also reads the tickets
        session = s.session
    assert session is not None and session.has_ticket
    # Control: the same SNI resumes.
    with connect(gateway, ctx, "acme.test", session) as s:
        assert s.session_reused, "a ticket for acme.test did not resume under acme.test"
        assert http_over(s, "acme.test", close=True)[0] == 200
    start = gateway.mark()
    before = len(upstreams["globex"].requests)
    with gateway.counts("tether_request_errors_total", reason="forbidden"), \
            connect(gateway, ctx, "globex.test", session) as s:
        assert not s.session_reused, "a ticket issued for acme.test resumed under globex.test"
        status, _, body = http_over(s, "globex.test", close=True)
    assert status == 403, body
    line = gateway.handshake_line(start, sni="globex.test", outcome="accepted")
    assert line["resumed"] is False, line
    assert len(upstreams["globex"].requests) == before


def test_tls12_resumed_session_keeps_its_sni_and_a_host_for_another_is_421(gateway, server_pki, acme,
                                                                          upstreams):
    ctx = client_context(server_pki, acme, ssl.TLSVersion.TLSv1_2)
    with connect(gateway, ctx, "acme.test") as s:
        assert http_over(s, "acme.test")[0] == 200
        session = s.session
    start = gateway.mark()
    before = len(upstreams["globex"].requests)
    with gateway.counts("tether_request_errors_total", reason="misdirected_request"), \
            connect(gateway, ctx, "acme.test", session) as s:
        assert s.session_reused, "the TLS 1.2 session did not resume"
        assert s.version() == "TLSv1.2"
        status, _, body = http_over(s, "globex.test", close=True)
    assert status == 421, body
    assert json.loads(body)["error"] == "misdirected_request", body
    line = gateway.handshake_line(start, resumed=True)
    assert line["sni"] == "acme.test", line
    assert gateway.request_line(start, status=421)["route"] == "acme-api"
    # As with TLS 1.3 tickets, the session does not resume under another server name.
    with connect(gateway, ctx, "globex.test", session) as s:
        assert not s.session_reused, "a TLS 1.2 session made for acme.test resumed under globex.test"
    assert len(upstreams["globex"].requests) == before


def test_sessions_resume_on_every_worker(gateway, server_pki, acme):
    # Two workers share one session cache: whichever worker a connection lands on (both accept
    # from the one listening socket), it resumes. TLS 1.3 tickets here are single-use, so each connection offers
    # the newest ticket it was given.
    ctx = client_context(server_pki, acme)
    with connect(gateway, ctx, "acme.test") as s:
        assert http_over(s, "acme.test")[0] == 200
        session = s.session
    start = gateway.mark()
    reused = []
    for _ in range(12):
        with connect(gateway, ctx, "acme.test", session) as s:
            assert http_over(s, "acme.test")[0] == 200
            reused.append(s.session_reused)
            session = s.session
    assert all(reused), reused
    lines = [gateway.handshake_line(start, timeout=15, resumed=True)]
    assert lines[0]["identity"] == "connector/acme/edge-1", lines


def test_session_cache_stays_within_its_size_and_the_newest_session_resumes(pki, server_pki, acme, upstreams,
                                                                           tmp_path):
    limit = 64 * 1024
    gw = Gateway(tmp_path / "gw", pki.db, server_pki, [pki.root_pem],
                 routes_toml(upstreams, free_port(), free_port()),
                 extra_tables='[tls]\nsession_cache_size = "64KiB"\n')
    ctx = client_context(server_pki, acme)
    with gw:
        assert gw.metric("tether_tls_session_cache_limit_bytes") == limit
        # More full handshakes than 64 KiB of sessions with a client certificate (about 900 bytes each).
        for _ in range(200):
            with connect(gw, ctx, "acme.test") as s:
                assert http_over(s, "acme.test", close=True)[0] == 200
                session = s.session
        held = gw.metric("tether_tls_session_cache_bytes")
        sessions = gw.metric("tether_tls_session_cache_sessions")
        assert 0 < held <= limit
        assert 20 < sessions < 200, sessions
        assert gw.metric("tether_tls_session_cache_evictions_total") > 0
        start = gw.mark()
        with connect(gw, ctx, "acme.test", session) as s:
            assert s.session_reused, "the newest session was evicted"
            assert http_over(s, "acme.test", close=True)[0] == 200
            session = s.session
        assert gw.handshake_line(start, resumed=True)["identity"] == "connector/acme/edge-1"

        # The size applies on reload; "off" empties the cache and nothing resumes any more.
        start = gw.mark()
        gw.extra_tables = '[tls]\nsession_cache_size = "off"\n'
        gw.write_config()
        gw.wait_for(lambda e: e.get("event") == "reload" and e.get("outcome") == "applied", 20,
                    "the reload with the cache off", start)
        assert gw.metric("tether_tls_session_cache_limit_bytes") == 0
        assert gw.metric("tether_tls_session_cache_sessions") == 0
        with connect(gw, ctx, "acme.test", session) as s:
            assert not s.session_reused, "a session resumed with the cache off"
            assert http_over(s, "acme.test", close=True)[0] == 200


# --- WebSocket and TCP ---------------------------------------------------------------------------

def test_websocket_echo_through_the_gateway(gateway, server_pki, acme, upstreams):
    ctx = client_context(server_pki, acme)
    messages = ["hello", b"\x00\x01binary", "x" * 70000]
    echoed = websocket_echo_roundtrip(f"wss://acme.test:{gateway.port}/ws/echo", ctx, "acme.test", messages,
                                      {"X-Tether-Identity": "connector/globex/evil"},
                                      connect_to=("127.0.0.1", gateway.port))
    assert echoed == messages
    handshake = upstreams["ws"].handshakes[-1]
    assert handshake.get_all("X-Tether-Identity") == ["connector/acme/edge-1"], handshake


def test_mosquitto_clients_through_a_tcp_route(gateway, server_pki, acme):
    port = next(iter(gateway.tcp_ports.values()))
    tls = ["--cafile", str(server_pki / "server-ca.pem"), "--cert", str(acme.chain), "--key", str(acme.key),
           "--tls-version", "tlsv1.3"]
    sub = mqtt_sub("localhost", port, "tether/test", count=2, tls_args=tls, timeout=30)
    mqtt_pub("localhost", port, "tether/test", "one", tls_args=tls)
    mqtt_pub("localhost", port, "tether/test", "two", tls_args=tls)
    result = sub.result(timeout=40)
    assert result.returncode == 0 and result.messages == ["one", "two"], result


def test_tcp_route_denies_another_tenant(gateway, server_pki, globex):
    port = next(iter(gateway.tcp_ports.values()))
    start = gateway.mark()
    tls = ["--cafile", str(server_pki / "server-ca.pem"), "--cert", str(globex.chain), "--key", str(globex.key)]
    with gateway.counts("tether_request_errors_total", reason="forbidden", status="403"):
        proc = mqtt_pub("localhost", port, "tether/test", "x", tls_args=tls, check=False)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    line = gateway.request_line(start, route="acme-mqtt", status=403)
    assert line["identity"] == "connector/globex/gx-1", line


# --- admin listener ------------------------------------------------------------------------------

def test_metrics_and_health(gateway):
    assert gateway.admin_get("/healthz")[0] == 200
    assert gateway.admin_get("/readyz")[0] == 200
    assert gateway.metric('tether_handshakes_total{result="accepted",reason="ok"') >= 1
    # The failure table's label sets are there from the start, counted or not.
    assert gateway.counter("tether_request_errors_total", reason="request_timeout", status="408") >= 0
    assert gateway.counter("tether_connections_refused_total", reason="max_connections") >= 0
    assert gateway.metric("tether_revocation_feed_up") == 1
    assert gateway.metric("tether_server_certificate_expiry_timestamp_seconds") > time.time()
    assert 0 <= gateway.metric("tether_revocation_sync_age_seconds") < 30


# --- revocation at once --------------------------------------------------------------------------

def test_revocation_closes_live_connections_and_refuses_new_handshakes_within_1s(gateway, server_pki, pki):
    bundle = testpki.make_bundle(pki, "acme", "revoke-me", "--key-type", "ecdsa-p256")
    ctx = client_context(server_pki, bundle)
    live = connect(gateway, ctx, "acme.test")
    assert http_over(live, "acme.test")[0] == 200  # a keep-alive connection, open and idle
    closed = {}

    def wait_for_close():
        live.settimeout(30)
        try:
            data = live.recv(1)
            closed["how"] = f"recv returned {data!r}"
        except (OSError, ssl.SSLError) as e:
            closed["how"] = f"{type(e).__name__}: {e}"
        closed["at"] = time.monotonic()

    def wait_for_commit():
        # The moment the revocation becomes visible in the store: what the delay is measured
        # from (the revoke command itself exits some time after its commit).
        with sqlite3.connect(f"file:{pki.db}?mode=ro", uri=True) as db:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if db.execute("SELECT 1 FROM revocations WHERE serial = ?", (bundle.serial_hex,)).fetchone():
                    closed["committed"] = time.monotonic()
                    return
                time.sleep(0.002)

    threads = [threading.Thread(target=wait_for_close), threading.Thread(target=wait_for_commit)]
    for t in threads:
        t.start()
    start = gateway.mark()
    issued = time.monotonic()
    pki.check("connector", "revoke", "--tenant", "acme", "--id", "revoke-me", "--reason", "keyCompromise")
    finished = time.monotonic()

    refused_at, attempts = None, []
    deadline = finished + 10
    revoked_before = gateway.counter("tether_handshakes_total", reason="revoked")
    while refused_at is None and time.monotonic() < deadline:
        began = time.monotonic()
        try:
            with connect(gateway, ctx, "acme.test") as s:
                http_over(s, "acme.test", close=True)
            attempts.append((began - issued, "accepted"))
        except (OSError, ssl.SSLError, AssertionError) as e:
            attempts.append((began - issued, str(e)))
            if "connection closed before response headers" in str(e):
                # Its handshake passed just before the revocation landed, and the gateway's
                # re-check after the handshake (or the live-connection close) ended it unanswered:
                # closed, as it should be; keep trying until a handshake itself is refused.
                continue
            assert "revoked" in str(e).lower(), attempts
            refused_at = time.monotonic()  # refused no later than this
    for t in threads:
        t.join(35)
    live.close()
    assert "committed" in closed, "the revocation never appeared in the store"
    assert refused_at is not None, f"new handshakes were still accepted 10 s after the revocation: {attempts}"
    assert "at" in closed, "the live connection of the revoked certificate stayed open"
    committed = closed["committed"]
    # Upper bounds: a new handshake refused by `refused_at` (the first one tried after the command
    # returned), the live connection seen closed at closed["at"].
    new_delay, live_delay = refused_at - committed, closed["at"] - committed
    print(f"\nrevocation: committed {(committed - issued) * 1000:.0f} ms into the revoke command "
          f"(which took {(finished - issued) * 1000:.0f} ms); after the commit the live connection "
          f"was closed within {live_delay * 1000:.0f} ms ({closed['how']}) and a new handshake "
          f"refused within {new_delay * 1000:.0f} ms")
    assert new_delay < 1.0 and live_delay < 1.0, (new_delay, live_delay, attempts)
    line = gateway.handshake_line(start, outcome="rejected", reason="revoked")
    assert line["serial"] == bundle.serial_hex and line["alert"] == "certificate_revoked", line
    event = gateway.wait_for(lambda e: e.get("event") == "connections_closed", 10,
                             "a connections_closed line", start)
    assert event["reason"] == "revoked" and bundle.serial_hex in event["serials"], event
    gateway.wait_count("tether_handshakes_total", revoked_before, at_least=True, reason="revoked")


def test_curl_with_revoked_certificate_sees_certificate_revoked(gateway, server_pki, pki):
    bundle = testpki.make_bundle(pki, "acme", "revoked-2", "--key-type", "ecdsa-p256")
    pki.check("connector", "revoke", "--tenant", "acme", "--id", "revoked-2")
    deadline = time.monotonic() + 5
    revoked_before = gateway.counter("tether_handshakes_total", reason="revoked")
    while True:  # bounded: the feed polls every 50 ms in these tests
        start = gateway.mark()
        proc, _, _ = curl(gateway, server_pki, bundle, "acme.test")
        # A handshake that passed just before the revocation landed ends with its connection
        # closed by the revocation ("Empty reply"): only a refused handshake ends the wait.
        if (proc.returncode != 0 and "alert" in proc.stderr) or time.monotonic() > deadline:
            break
    assert_refused(gateway, start, proc, "alert certificate revoked", "revoked")
    gateway.wait_count("tether_handshakes_total", revoked_before, at_least=True, reason="revoked")


def copy_store(src, dst):
    """A consistent copy of a live WAL-mode store (SQLite's backup API, WAL included)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    with sqlite3.connect(dst) as b:
        b.execute("PRAGMA journal_mode=WAL")


# Holds exclusive POSIX locks on the WAL index's lock bytes (offset 120, 8 bytes: SQLite's WAL
# locking protocol), as a stuck writer or a broken shared filesystem would: every read of the
# store then fails with "locking protocol".
LOCKER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 8, 120)
print("locked", flush=True)
time.sleep(120)
"""


def test_store_unreachable_keeps_the_last_known_set(pki, server_pki, upstreams, tmp_path):
    bundle = testpki.make_bundle(pki, "acme", "before-outage", "--key-type", "ecdsa-p256")
    pki.check("connector", "revoke", "--tenant", "acme", "--id", "before-outage")
    store = tmp_path / "copy.db"
    copy_store(pki.db, store)  # the revocation is in the gateway's store
    gw = Gateway(tmp_path / "gw", store, server_pki, [pki.root_pem],
                 routes_toml(upstreams, free_port(), free_port()), workers=1)
    with gw:
        start = gw.mark()
        locker = subprocess.Popen(["/usr/bin/python3", "-c", LOCKER, f"{store}-shm"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert locker.stdout.readline().strip() == "locked"
            down = gw.wait_for(lambda e: e.get("event") == "revocation_feed", 40, "the feed to go down", start)
            assert down["state"] == "down" and down["serials_kept"] >= 1, down
            assert "locking protocol" in down["error"], down
            assert gw.metric("tether_revocation_feed_up") == 0
            # The last known set still applies.
            with refused_handshake(gw, "revoked"):
                proc, _, _ = curl(gw, server_pki, bundle, "acme.test")
            assert_refused(gw, start, proc, "alert certificate revoked", "revoked")
        finally:
            locker.kill()
            locker.wait(10)
        up = gw.wait_for(lambda e: e.get("event") == "revocation_feed" and e.get("state") == "up", 40,
                         "the feed to come back", start)
        assert up["serials_loaded"] >= 1, up


# --- limits and upstream failures ----------------------------------------------------------------

def test_upstream_timeout_is_504_and_limits_are_enforced(pki, server_pki, acme, upstreams, tmp_path):
    gw = Gateway(tmp_path / "gw", pki.db, server_pki, [pki.root_pem],
                 routes_toml(upstreams, free_port(), free_port()), workers=1,
                 limits={"upstream_timeout": "1s", "max_header_bytes": 2048, "max_body_bytes": 4096})
    with gw:
        start = gw.mark()
        with gw.counts("tether_request_errors_total", reason="upstream_timeout", status="504"):
            _, body, status = curl(gw, server_pki, acme, "acme.test", "/slow?ms=5000")
        assert status == "504", body
        assert json.loads(body)["error"] == "upstream_timeout", body
        line = gw.request_line(start, route="acme-api", status=504)
        assert "upstream_timeout" in line["detail"], line

        with gw.counts("tether_request_errors_total", reason="headers_too_large", status="431"):
            _, body, status = curl(gw, server_pki, acme, "acme.test", "/big-header",
                                   ["-H", "X-Big: " + "a" * 4000])
        assert status == "431", body
        assert json.loads(body)["error"] == "headers_too_large", body

        with gw.counts("tether_request_errors_total", reason="body_too_large", status="413"):
            _, body, status = curl(gw, server_pki, acme, "acme.test", "/upload",
                                   ["--data-binary", "x" * 10000])
        assert status == "413", body
        assert json.loads(body)["error"] == "body_too_large", body

        # A body within the limit reaches the upstream whole.
        _, body, status = curl(gw, server_pki, acme, "acme.test", "/upload", ["--data-binary", "y" * 3000])
        assert status == "200", body
        assert json.loads(body)["body_len"] == 3000, body
