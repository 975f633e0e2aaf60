"""tls::ServerContext against real clients, through tests/tools/tls_probe_server.

The probe server builds its TLS context with tls::ServerContext (TLS 1.2+, AEAD + ECDHE only,
client certificate required, only the given trust anchors, tether identity and revocation
checks) and prints one JSON line per handshake. Each test asserts the reason the server
recorded AND the alert the client received; accepted ones assert the identity the server saw.

The server's own certificate comes from a throwaway CA (made here) that only the clients trust.
"""
import json
import pathlib
import queue
import re
import socket
import ssl
import subprocess
import threading

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

import testpki
from testpki import faketime_env, issue_with_tether_key, make_server_pki
from tetherlib import TOOLS_DIR, Tether

TENANT = "acme"
READY_TIMEOUT = 20   # probe printing LISTENING
CLIENT_TIMEOUT = 30  # one client handshake plus one message
LINE_TIMEOUT = 20    # probe printing its outcome line / exiting
PROBE = pathlib.Path(TOOLS_DIR) / "tls_probe_server"


# --- PKI fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server_pki(tmp_path_factory):
    """A throwaway CA and a server certificate for localhost / 127.0.0.1, unrelated to tether."""
    return make_server_pki(tmp_path_factory.mktemp("server-pki"), "probe test server CA")


@pytest.fixture(scope="module")
def tether(tmp_path_factory):
    t = Tether(tmp_path_factory.mktemp("tether"))
    t.tenant(TENANT)
    return t


def make_bundle(t, cid, *extra):
    return testpki.make_bundle(t, TENANT, cid, "--key-type", "ecdsa-p256", *extra)


@pytest.fixture(scope="module")
def connector(tether):
    return make_bundle(tether, "edge-1")




# --- processes ---------------------------------------------------------------------------------

class Probe:
    """tls_probe_server serving one connection. start() returns once LISTENING names the port;
    outcome() returns the JSON line of the handshake; stop() kills it by PID if still running."""

    def __init__(self, server_pki, trust, extra=(), env=None):
        self.argv = [str(PROBE), "--cert", str(server_pki / "server.pem"),
                     "--key", str(server_pki / "server-key.pem"), "--trust", str(trust),
                     "--port", "0", "--connections", "1", *extra]
        self.env = env
        self.lines = queue.Queue()
        self.port = None
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=self.env, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        try:
            first = self.lines.get(timeout=READY_TIMEOUT)
        except queue.Empty:
            first = None
        m = re.match(r"LISTENING (\d+)$", (first or "").strip())
        if not m:
            self.stop()
            raise AssertionError(f"probe printed no LISTENING line within {READY_TIMEOUT}s: "
                                 f"{first!r}; stderr: {self.proc.stderr.read()}")
        self.port = int(m.group(1))
        return self

    def __exit__(self, *exc):
        self.stop()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def outcome(self):
        try:
            line = self.lines.get(timeout=LINE_TIMEOUT)
        except queue.Empty:
            line = None
        assert line, f"probe printed no outcome line within {LINE_TIMEOUT}s"
        self.proc.wait(timeout=LINE_TIMEOUT)
        assert self.proc.returncode == 0, self.proc.stderr.read()
        return json.loads(line)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=LINE_TIMEOUT)
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass


def s_client(probe, server_pki, bundle=None, extra=(), env=None, brief=True):
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{probe.port}",
            "-CAfile", str(server_pki / "server-ca.pem"), "-verify_return_error",
            # TLS 1.3 (RFC 8446 4.4.2): the client's certificate follows its Finished, so the
            # client reports the handshake done before the server judged it; -ign_eof keeps it
            # reading until the server's alert or close_notify arrives.
            "-ign_eof", *extra]
    if brief:
        argv.append("-brief")
    if bundle is not None:
        # s_client -cert sends only the first certificate; -cert_chain adds the intermediate,
        # the same bytes a connector sends from connector.pem.
        argv += ["-cert", str(bundle.chain), "-key", str(bundle.key), "-cert_chain", str(bundle.intermediate)]
    try:
        return subprocess.run(argv, input="", capture_output=True, text=True, timeout=CLIENT_TIMEOUT, env=env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"s_client did not finish within {CLIENT_TIMEOUT}s") from e


def assert_rejected(out, client, reason, alert_name, alert_text, alert_number):
    client_out = client.stdout + client.stderr
    assert out["outcome"] == "rejected", out
    assert out["reason"] == reason, out
    assert out["alert"] == alert_name and out["alert_sent"] == alert_name, out
    assert out["identity"] is None, out
    assert f"alert {alert_text}" in client_out and f"SSL alert number {alert_number}" in client_out, \
        f"expected the client to receive alert '{alert_text}' ({alert_number}):\n{client_out}"
    assert "hello " not in client_out, client_out


def rejected(server_pki, trust, bundle, probe_extra=(), client_extra=(), env=None):
    with Probe(server_pki, trust, probe_extra, env=env) as probe:
        client = s_client(probe, server_pki, bundle, client_extra, env=env)
        return probe.outcome(), client


# --- accepted ----------------------------------------------------------------------------------

def test_curl_with_connector_bundle_is_accepted(server_pki, connector):
    with Probe(server_pki, connector.ca) as probe:
        client = subprocess.run(
            ["curl", "-sS", "--http0.9", "--max-time", str(CLIENT_TIMEOUT),
             "--cacert", str(server_pki / "server-ca.pem"),
             "--cert", str(connector.chain), "--key", str(connector.key),
             f"https://localhost:{probe.port}/"],
            capture_output=True, text=True, timeout=CLIENT_TIMEOUT + 5)
        out = probe.outcome()
    assert out["outcome"] == "ok" and out["reason"] == "ok", out
    assert out["identity"] == f"connector/{TENANT}/edge-1", out
    assert out["serial"] == connector.serial_hex, out
    assert re.fullmatch(r"[0-9a-f]{64}", out["sha256"]), out
    assert out["tls_version"] == "TLSv1.3" and out["cipher"].startswith("TLS_"), out
    assert out["alert_sent"] is None, out
    assert client.stdout == f"hello connector/{TENANT}/edge-1\n", client.stdout + client.stderr


def test_python_ssl_tls12_gets_ecdhe_aead(server_pki, connector):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(connector.chain), str(connector.key))
    ctx.load_verify_locations(str(server_pki / "server-ca.pem"))
    with Probe(server_pki, connector.ca) as probe:
        with socket.create_connection(("127.0.0.1", probe.port), timeout=CLIENT_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                reply = tls.recv(100)
        out = probe.outcome()
    assert out["outcome"] == "ok" and out["identity"] == f"connector/{TENANT}/edge-1", out
    assert out["tls_version"] == "TLSv1.2", out
    assert re.fullmatch(r"ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)", out["cipher"]), out
    assert reply == f"hello connector/{TENANT}/edge-1\n".encode()


def test_certificate_request_lists_no_ca_names(server_pki, connector):
    with Probe(server_pki, connector.ca) as probe:
        client = s_client(probe, server_pki, connector, brief=False)
        out = probe.outcome()
    assert out["outcome"] == "ok", out
    assert "No client certificate CA names sent" in client.stdout, client.stdout
    assert f"hello connector/{TENANT}/edge-1" in client.stdout, client.stdout


# --- rejected ----------------------------------------------------------------------------------

def test_no_client_certificate_is_certificate_required(server_pki, connector):
    out, client = rejected(server_pki, connector.ca, None)
    assert_rejected(out, client, "certificate_required", "certificate_required", "certificate required", 116)


def test_connector_of_another_ca_is_unknown_issuer(server_pki, connector, tmp_path):
    (tmp_path / "other-ca").mkdir()
    other = Tether(tmp_path / "other-ca")
    other.tenant(TENANT)
    impostor = make_bundle(other, "edge-1")
    out, client = rejected(server_pki, connector.ca, impostor)
    assert_rejected(out, client, "unknown_issuer", "unknown_ca", "unknown ca", 48)


def test_expired_certificate_is_expired(server_pki, tether):
    bundle = make_bundle(tether, "short-lived", "--days", "1")
    env = faketime_env("+2d")
    out, client = rejected(server_pki, bundle.ca, bundle, env=env)
    assert_rejected(out, client, "expired", "certificate_expired", "certificate expired", 45)
    assert out["serial"] == bundle.serial_hex, out


def test_server_auth_only_certificate_is_bad_purpose(server_pki, tether, tmp_path):
    bundle = issue_with_tether_key(tether, tmp_path, f"connector/{TENANT}/server-only", ExtendedKeyUsageOID.SERVER_AUTH,
                                   f"spiffe://tether.internal/tenant/{TENANT}/connector/server-only")
    out, client = rejected(server_pki, bundle.ca, bundle)
    assert_rejected(out, client, "bad_purpose", "unsupported_certificate", "unsupported certificate", 43)


def test_revoked_serial_is_revoked(server_pki, connector):
    out, client = rejected(server_pki, connector.ca, connector, ["--revoked-serial", connector.serial_hex])
    assert_rejected(out, client, "revoked", "certificate_revoked", "certificate revoked", 44)
    assert out["serial"] == connector.serial_hex, out


def test_tls11_client_is_protocol_version(server_pki, connector):
    # OpenSSL 3 allows TLS 1.1 only at security level 0; the client must really offer it.
    out, client = rejected(server_pki, connector.ca, connector,
                           client_extra=["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
    assert_rejected(out, client, "protocol_version", "protocol_version", "protocol version", 70)


def test_certificate_without_tether_identity_is_bad_certificate(server_pki, tether, tmp_path):
    bundle = issue_with_tether_key(tether, tmp_path, "not a tether identity", ExtendedKeyUsageOID.CLIENT_AUTH,
                                   f"spiffe://tether.internal/tenant/{TENANT}/connector/whatever")
    out, client = rejected(server_pki, bundle.ca, bundle)
    assert_rejected(out, client, "bad_certificate", "bad_certificate", "bad certificate", 42)
    assert "not a tether identity" in out["detail"], out


def test_tls12_client_without_certificate_gets_handshake_failure(server_pki, connector):
    # TLS 1.2 has no certificate_required alert (RFC 5246 7.4.6): the reason is the same, but
    # OpenSSL sends handshake_failure, and alert_sent says so.
    out, client = rejected(server_pki, connector.ca, None, client_extra=["-tls1_2"])
    assert out["outcome"] == "rejected" and out["reason"] == "certificate_required", out
    assert out["alert_sent"] == "handshake_failure", out
    client_out = client.stdout + client.stderr
    assert "alert handshake failure" in client_out and "SSL alert number 40" in client_out, client_out


def test_curl_without_certificate_sees_certificate_required(server_pki, connector):
    with Probe(server_pki, connector.ca) as probe:
        client = subprocess.run(
            ["curl", "-sS", "--http0.9", "--max-time", str(CLIENT_TIMEOUT),
             "--cacert", str(server_pki / "server-ca.pem"), f"https://localhost:{probe.port}/"],
            capture_output=True, text=True, timeout=CLIENT_TIMEOUT + 5)
        out = probe.outcome()
    assert out["outcome"] == "rejected" and out["reason"] == "certificate_required", out
    assert client.returncode != 0, client.stdout + client.stderr
    assert "certificate required" in client.stderr, client.stderr


def test_python_ssl_from_another_ca_sees_unknown_ca(server_pki, connector, tmp_path):
    (tmp_path / "other-ca").mkdir()
    other = Tether(tmp_path / "other-ca")
    other.tenant(TENANT)
    impostor = make_bundle(other, "edge-1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_cert_chain(str(impostor.chain), str(impostor.key))
    ctx.load_verify_locations(str(server_pki / "server-ca.pem"))
    with Probe(server_pki, connector.ca) as probe:
        with socket.create_connection(("127.0.0.1", probe.port), timeout=CLIENT_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                # TLS 1.3: the alert arrives after the client considers the handshake done.
                with pytest.raises(ssl.SSLError, match="TLSV1_ALERT_UNKNOWN_CA"):
                    tls.recv(100)
        out = probe.outcome()
    assert out["reason"] == "unknown_issuer" and out["alert_sent"] == "unknown_ca", out


def test_resumed_session_still_yields_the_identity(server_pki, connector, tmp_path):
    # The verify hook does not run on resumption (RFC 8446 2.2); conclude_handshake re-reads the
    # identity from the session's certificate and asks the revocation set again.
    sess = tmp_path / "session.pem"
    probe = Probe(server_pki, connector.ca)
    probe.argv[probe.argv.index("--connections") + 1] = "2"
    with probe:
        first = s_client(probe, server_pki, connector, ["-sess_out", str(sess)])
        assert sess.exists(), first.stdout + first.stderr
        second = s_client(probe, server_pki, connector, ["-sess_in", str(sess)], brief=False)
        lines = [json.loads(probe.lines.get(timeout=LINE_TIMEOUT)) for _ in range(2)]
        probe.proc.wait(timeout=LINE_TIMEOUT)
    assert [o["resumed"] for o in lines] == [False, True], lines
    for o in lines:
        assert o["outcome"] == "ok" and o["identity"] == f"connector/{TENANT}/edge-1", o
    assert "Reused, TLSv1.3" in second.stdout, second.stdout
    assert f"hello connector/{TENANT}/edge-1" in second.stdout, second.stdout
