"""A connector bundle in a real mutual-TLS handshake against `openssl s_server`.

The server plays the gateway as docs/architecture.md describes it: it requires a client certificate
(`-Verify 1 -verify_return_error`) and trusts only the tether root (`-CAfile ca.pem`). It is not
given the issuing intermediate: a connector sends `certs/connector.pem`, which holds the leaf then
the intermediate, as its chain (SSL_CTX_use_certificate_chain_file, Python's load_cert_chain and
gnutls-cli all do), so the server must get the intermediate from the client. `s_client -cert`
sends only the first certificate of its file, so the tests hand it the intermediate with
`-cert_chain` - the same bytes on the wire as the real connector. (-Verify 1 allows one
untrusted intermediate between the leaf and the trusted root.)

Every rejection asserts the verify error s_server logged and the alert s_client received.
The server's own certificate comes from a throwaway CA that only the clients trust.
"""
import re
import socket
import ssl
import subprocess
import threading

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

import testpki
from testpki import faketime_env, issue_with_tether_key, make_server_pki
from tetherlib import Tether, run, serial_hex

TENANT = "acme"
READY_TIMEOUT = 20     # s_server printing its ACCEPT line
CLIENT_TIMEOUT = 30    # one client handshake plus one message
EXIT_TIMEOUT = 20      # s_server exiting after its one connection (-naccept 1)


# --- PKI fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server_pki(tmp_path_factory):
    """A throwaway CA and a server certificate for localhost / 127.0.0.1, unrelated to tether."""
    return make_server_pki(tmp_path_factory.mktemp("server-pki"), "interop test server CA")


@pytest.fixture(scope="module")
def tether(tmp_path_factory):
    t = Tether(tmp_path_factory.mktemp("tether"))
    t.tenant(TENANT)
    return t


def make_bundle(t, cid, *extra):
    return testpki.make_bundle(t, TENANT, cid, *extra)


@pytest.fixture(scope="module")
def connector(tether):
    """The default profile (RSA-2048): the one RSA key this module generates."""
    return make_bundle(tether, "edge-1")


# --- processes ---------------------------------------------------------------------------------

class SServer:
    """`openssl s_server` on 127.0.0.1 with a kernel-chosen port (-accept 127.0.0.1:0), serving
    exactly one connection (-naccept 1). Its output is read by a thread; start() returns once
    the ACCEPT line names the port, and stop() kills it by PID if it is still running."""

    def __init__(self, server_pki, ca_file, extra=(), env=None):
        self.argv = ["openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1",
                     "-cert", str(server_pki / "server.pem"), "-key", str(server_pki / "server-key.pem"),
                     "-Verify", "1", "-verify_return_error", "-CAfile", str(ca_file), *extra]
        self.env = env
        self.lines = []
        self.port = None
        self.ready = threading.Event()
        self.proc = None
        self.reader = None

    def __enter__(self):
        # stdin stays an open pipe: s_server reads it for commands and would quit on EOF.
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=self.env,
                                     start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(READY_TIMEOUT) or self.port is None:
            self.stop()
            raise AssertionError(f"s_server printed no 'ACCEPT 127.0.0.1:<port>' line within "
                                 f"{READY_TIMEOUT}s; output so far:\n{self.output}")
        return self

    def __exit__(self, *exc):
        self.stop()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            m = re.match(r"ACCEPT 127\.0\.0\.1:(\d+)$", line.strip())
            if m:
                self.port = int(m.group(1))
                self.ready.set()
        self.ready.set()  # EOF: wake start() even when the ACCEPT line never came

    @property
    def output(self):
        return "".join(self.lines)

    def finish(self):
        """Waits for the server to exit after its one connection; returns all it printed."""
        try:
            self.proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"s_server did not exit within {EXIT_TIMEOUT}s after its one "
                                 f"connection; output:\n{self.output}")
        self.reader.join(timeout=EXIT_TIMEOUT)
        assert not self.reader.is_alive(), "s_server's output did not reach EOF after it exited"
        return self.output

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=EXIT_TIMEOUT)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


def s_client(server, server_pki, bundle, message="", with_intermediate=True, env=None, wait_for_alert=False):
    argv = ["openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-brief",
            "-CAfile", str(server_pki / "server-ca.pem"), "-verify_return_error",
            "-cert", str(bundle.chain), "-key", str(bundle.key)]
    if with_intermediate:
        argv += ["-cert_chain", str(bundle.intermediate)]
    if wait_for_alert:
        # TLS 1.3 (RFC 8446 4.4.2): the client's certificate follows its Finished, so the
        # client reports the handshake done before the server judged it. -ign_eof keeps
        # s_client reading after its (empty) input until the server's alert arrives.
        argv.append("-ign_eof")
    try:
        return subprocess.run(argv, input=message, capture_output=True, text=True,
                              timeout=CLIENT_TIMEOUT, env=env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"s_client did not finish within {CLIENT_TIMEOUT}s: the server neither "
                             f"rejected nor closed the connection; s_server output:\n{server.output}") from e


def assert_accepted(server_out, cid, message):
    assert "verify error" not in server_out, server_out
    assert re.search(rf"depth=0 CN = connector/{TENANT}/{cid}\nverify return:1\n", server_out), server_out
    assert message.strip() in server_out, f"s_server never received the client's data:\n{server_out}"
    assert "1 server accepts that finished" in server_out, server_out


def assert_rejected(server_out, client, verify_error, alert, alert_number):
    """s_server logged `verify error:num=N:<reason>` and s_client received the matching alert."""
    client_out = client.stdout + client.stderr
    assert f"verify error:{verify_error}" in server_out, \
        f"expected s_server to log 'verify error:{verify_error}':\n{server_out}"
    assert "0 server accepts that finished" in server_out, server_out
    assert client.returncode != 0, client_out
    assert f"alert {alert}" in client_out and f"SSL alert number {alert_number}" in client_out, \
        f"expected s_client to receive alert '{alert}' ({alert_number}):\n{client_out}"


def handshake(server_pki, ca_file, bundle, cid, server_extra=(), env=None):
    message = f"hello from connector/{TENANT}/{cid}\n"
    with SServer(server_pki, ca_file, server_extra, env=env) as server:
        client = s_client(server, server_pki, bundle, message, env=env)
        out = server.finish()
    assert client.returncode == 0, client.stdout + client.stderr
    assert "Verification: OK" in client.stderr, client.stderr  # the client checked the server, too
    assert_accepted(out, cid, message)
    return out


def rejected(server_pki, ca_file, bundle, server_extra=(), env=None, with_intermediate=True):
    with SServer(server_pki, ca_file, server_extra, env=env) as server:
        client = s_client(server, server_pki, bundle, with_intermediate=with_intermediate, env=env,
                          wait_for_alert=True)
        return server.finish(), client


# --- accepted ----------------------------------------------------------------------------------

def test_openssl_s_server_accepts_connector(server_pki, connector):
    out = handshake(server_pki, connector.ca, connector, "edge-1")
    assert "issuer=O = tether, CN = tether Connector CA" in out


def test_intermediate_must_come_from_the_client(server_pki, connector):
    # The server trusts only the root: a client that sends its leaf alone cannot be chained.
    out, client = rejected(server_pki, connector.ca, connector, with_intermediate=False)
    assert_rejected(out, client, "num=20:unable to get local issuer certificate", "unknown ca", 48)


# --- rejected ----------------------------------------------------------------------------------

def test_expired_certificate_rejected(server_pki, tether):
    bundle = make_bundle(tether, "short-lived", "--key-type", "ecdsa-p256", "--days", "1")
    handshake(server_pki, bundle.ca, bundle, "short-lived")  # today it is fine: only time differs
    # Both ends two days ahead: the server judges the clock; the client just stays consistent.
    out, client = rejected(server_pki, bundle.ca, bundle, env=faketime_env("+2d"))
    assert re.search(r"depth=0 CN = connector/acme/short-lived\nverify error:num=10:certificate has expired",
                     out), out
    assert_rejected(out, client, "num=10:certificate has expired", "certificate expired", 45)


def test_same_cn_from_another_ca_rejected(server_pki, tether, connector, tmp_path):
    (tmp_path / "other-ca").mkdir()
    other = Tether(tmp_path / "other-ca")
    other.tenant(TENANT)
    impostor = make_bundle(other, "edge-1", "--key-type", "ecdsa-p256")
    # Same names all the way up (connector/acme/edge-1 < tether Connector CA < tether Root CA),
    # different keys: only the signatures and key identifiers tell them apart.
    leaf = x509.load_pem_x509_certificate(impostor.chain.read_bytes())
    real = x509.load_pem_x509_certificate(connector.chain.read_bytes())
    assert leaf.subject == real.subject and leaf.issuer == real.issuer
    handshake(server_pki, impostor.ca, impostor, "edge-1")  # a good bundle, for its own CA
    out, client = rejected(server_pki, connector.ca, impostor)
    # The impostor intermediate names "tether Root CA" as issuer but its AKI matches no trusted
    # key, so OpenSSL finds no issuer for it (RFC 5280 4.2.1.1 key identifiers).
    assert re.search(r"depth=1 O = tether, CN = tether Connector CA\n"
                     r"verify error:num=20:unable to get local issuer certificate", out), out
    assert_rejected(out, client, "num=20:unable to get local issuer certificate", "unknown ca", 48)


@pytest.fixture(scope="module")
def revocation(tether, tmp_path_factory):
    """One revoked connector, one bystander, and a CRL published after the revocation."""
    victim = make_bundle(tether, "revoked-1", "--key-type", "ecdsa-p256")
    bystander = make_bundle(tether, "bystander-1", "--key-type", "ecdsa-p256")
    proc = tether.check("connector", "revoke", "--tenant", TENANT, "--id", "revoked-1", "--reason", "keyCompromise")
    assert victim.serial_hex in proc.stdout, proc.stdout
    crl = tmp_path_factory.mktemp("crl") / "crl.pem"
    tether.check("crl", "--out", str(crl))
    listed = [serial_hex(r.serial_number) for r in x509.load_pem_x509_crl(crl.read_bytes())]
    assert listed == [victim.serial_hex], f"CRL lists {listed}, expected only {victim.serial_hex}"
    return victim, bystander, crl


def test_revoked_certificate_rejected_with_crl_check(server_pki, revocation):
    victim, _, crl = revocation
    out, client = rejected(server_pki, victim.ca, victim, ["-crl_check", "-CRL", str(crl)])
    assert_rejected(out, client, "num=23:certificate revoked", "certificate revoked", 44)


def test_crl_that_does_not_list_connector_accepts_it(server_pki, revocation):
    _, bystander, crl = revocation
    handshake(server_pki, bystander.ca, bystander, "bystander-1", ["-crl_check", "-CRL", str(crl)])


def test_server_auth_only_certificate_rejected(server_pki, tether, tmp_path):
    # Everything of a connector certificate but the EKU, signed by the real issuing CA key.
    cid = "server-only"
    bundle = issue_with_tether_key(tether, tmp_path, f"connector/{TENANT}/{cid}", ExtendedKeyUsageOID.SERVER_AUTH,
                                   f"spiffe://tether.internal/tenant/{TENANT}/connector/{cid}")
    certs = bundle.certs
    # The chain itself is sound: the same openssl accepts it for the purpose it does have.
    proc = run(["openssl", "verify", "-CAfile", str(bundle.ca), "-untrusted", str(bundle.intermediate),
                "-purpose", "sslserver", str(certs / "connector.pem")], timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out, client = rejected(server_pki, bundle.ca, bundle)
    # X509_V_ERR_INVALID_PURPOSE (26): OpenSSL 3.0 words it "unsuitable certificate purpose"
    # (1.1 said "unsupported"); the TLS alert is unsupported_certificate (RFC 8446 6.2).
    assert re.search(rf"depth=0 CN = connector/{TENANT}/{cid}\nverify error:num=26:unsuitable certificate purpose",
                     out), out
    assert_rejected(out, client, "num=26:unsuitable certificate purpose", "unsupported certificate", 43)


# --- other clients -----------------------------------------------------------------------------

def test_python_ssl_client_accepted(server_pki, connector):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_cert_chain(str(connector.chain), str(connector.key))  # leaf + intermediate, as shipped
    ctx.load_verify_locations(str(server_pki / "server-ca.pem"))
    message = "hello from python ssl\n"
    with SServer(server_pki, connector.ca) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=CLIENT_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(message.encode())
                version = tls.version()
        out = server.finish()
    assert version == "TLSv1.3"
    assert_accepted(out, "edge-1", message)


def test_gnutls_cli_client_accepted(server_pki, connector):
    message = "hello from gnutls-cli\n"
    with SServer(server_pki, connector.ca) as server:
        try:
            client = subprocess.run(
                ["gnutls-cli", "--x509cafile", str(server_pki / "server-ca.pem"),
                 "--x509certfile", str(connector.chain), "--x509keyfile", str(connector.key),
                 "--port", str(server.port), "127.0.0.1"],
                input=message, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"gnutls-cli did not finish within {CLIENT_TIMEOUT}s; "
                                 f"s_server output:\n{server.output}") from e
        out = server.finish()
    assert client.returncode == 0, client.stdout + client.stderr
    assert "Handshake was completed" in client.stdout + client.stderr, client.stdout + client.stderr
    assert_accepted(out, "edge-1", message)
