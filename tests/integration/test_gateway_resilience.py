"""`tether gateway` under operational stress: certificates swapped under load by hot
reload, a refused bad config, and slowloris clients that must not starve normal ones."""
import hashlib
import os
import signal
import ssl
import threading
import time

import pytest

import testpki
from gatewaylib import Gateway
from test_gateway import HOSTS, client_context, connect, curl, http_over
from testpki import make_server_pki
from tetherlib import Tether
from upstreams import EchoHttpServer, SlowlorisClients

LOAD_TIMEOUT = 60


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    t = Tether(tmp_path_factory.mktemp("tether"))
    t.tenant("acme")
    return t


@pytest.fixture(scope="module")
def acme(pki):
    return testpki.make_bundle(pki, "acme", "edge-1", "--key-type", "ecdsa-p256")


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


def fingerprint(sock):
    return hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest()


class Load:
    """Clients making requests until stopped: `threads` that each open a new connection per
    request (full handshakes), and one keep-alive connection opened before anything changes.
    Records every failure and which server certificate each request saw."""

    def __init__(self, gw, ctx, threads=2):
        self.gw, self.ctx = gw, ctx
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.seen = {}  # server certificate fingerprint -> requests
        self.failures = []
        self.keepalive_requests = 0
        self.keepalive = connect(gw, ctx, "acme.test")
        self.threads = [threading.Thread(target=self.new_connections) for _ in range(threads)]
        self.threads.append(threading.Thread(target=self.keep_alive))

    def record(self, fp=None, failure=None):
        with self.lock:
            if failure:
                self.failures.append(failure)
            else:
                self.seen[fp] = self.seen.get(fp, 0) + 1

    def new_connections(self):
        while not self.stop_flag.is_set():
            try:
                with connect(self.gw, self.ctx, "acme.test") as s:
                    status = http_over(s, "acme.test", "/load", close=True)[0]
                    self.record(fingerprint(s)) if status == 200 else self.record(failure=f"status {status}")
            except Exception as e:  # every failure counts, whatever its kind
                self.record(failure=f"{type(e).__name__}: {e}")

    def keep_alive(self):
        while not self.stop_flag.is_set():
            try:
                status = http_over(self.keepalive, "acme.test", "/keepalive")[0]
                if status != 200:
                    self.record(failure=f"keep-alive status {status}")
                self.keepalive_requests += 1
            except Exception as e:
                self.record(failure=f"keep-alive connection: {type(e).__name__}: {e}")
                return
            time.sleep(0.02)

    def count(self, fp):
        with self.lock:
            return self.seen.get(fp, 0)

    def wait(self, predicate, what, timeout=LOAD_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"gave up after {timeout}s waiting for {what}; seen={self.seen} failures={self.failures[:5]}"
            time.sleep(0.05)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join(LOAD_TIMEOUT)
        self.keepalive.close()


def pki_dir_fingerprint(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    cert = x509.load_pem_x509_certificate((d / "server.pem").read_bytes())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def test_certificate_swapped_under_load_fails_no_request(pki, acme, upstream, tmp_path):
    v1 = make_server_pki(tmp_path / "v1", "reload CA one", HOSTS)
    v2 = make_server_pki(tmp_path / "v2", "reload CA two", HOSTS)
    both = tmp_path / "both-cas.pem"
    both.write_bytes((v1 / "server-ca.pem").read_bytes() + (v2 / "server-ca.pem").read_bytes())
    current = tmp_path / "current"
    os.symlink(v1, current)
    gw = Gateway(tmp_path / "gw", pki.db, v1, [pki.root_pem], routes(upstream),
                 server_cert=current / "server.pem", server_key=current / "server-key.pem")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(both)
    ctx.load_cert_chain(acme.chain, acme.key)
    fp1, fp2 = pki_dir_fingerprint(v1), pki_dir_fingerprint(v2)
    with gw, Load(gw, ctx) as load:
        load.wait(lambda: load.count(fp1) >= 30, "30 requests served with the first certificate")
        start = gw.mark()
        # An atomic symlink swap, as Kubernetes does for mounted secrets.
        os.symlink(v2, tmp_path / "next")
        os.replace(tmp_path / "next", current)
        applied = gw.wait_for(lambda e: e.get("event") == "reload", 20, "the reload line", start)
        assert applied["outcome"] == "applied" and applied["trigger"] == "file_change", applied
        load.wait(lambda: load.count(fp2) >= 30, "30 requests served with the new certificate")
        keepalive_before = load.keepalive_requests
        load.wait(lambda: load.keepalive_requests > keepalive_before + 5, "the keep-alive connection to go on")
    print(f"\nhot reload under load: {load.seen.get(fp1, 0)} requests with the old certificate, "
          f"{load.seen.get(fp2, 0)} with the new, {load.keepalive_requests} on one keep-alive "
          f"connection across the swap, {len(load.failures)} failed")
    assert load.failures == [], load.failures[:10]


def test_bad_config_is_refused_and_the_old_one_keeps_serving(pki, acme, upstream, tmp_path):
    server = make_server_pki(tmp_path / "server", "bad reload CA", HOSTS)
    gw = Gateway(tmp_path / "gw", pki.db, server, [pki.root_pem], routes(upstream))
    with gw:
        start = gw.mark()
        gw.write_config(text=gw.config_text() + "\n[[route]]\nname = \"broken\"\nallow = [\"nobody:x\"]\n")
        refused = gw.wait_for(lambda e: e.get("event") == "reload", 20, "the reload line", start)
        assert refused["outcome"] == "refused", refused
        assert "route[1]" in refused["error"], refused
        _, body, status = curl(gw, server, acme, "acme.test", "/still-served")
        assert status == "200", body
        # SIGHUP with the good config back: applied.
        gw.write_config()
        gw.wait_for(lambda e: e.get("event") == "reload" and e.get("outcome") == "applied", 20,
                    "the good config to be applied", start)
        start = gw.mark()
        gw.proc.send_signal(signal.SIGHUP)
        line = gw.wait_for(lambda e: e.get("event") == "reload", 20, "a reload after SIGHUP", start)
        assert line["trigger"] == "SIGHUP" and line["outcome"] == "applied", line


def test_slowloris_does_not_starve_normal_clients(pki, acme, upstream, tmp_path):
    server = make_server_pki(tmp_path / "server", "slowloris CA", HOSTS)
    gw = Gateway(tmp_path / "gw", pki.db, server, [pki.root_pem], routes(upstream),
                 limits={"header_timeout": "60s"})
    ctx = client_context(server, acme)
    with gw, SlowlorisClients("127.0.0.1", gw.port, count=500, ssl_context=ctx,
                              server_hostname="acme.test", interval=1.0) as slow:
        assert slow.opened == 500, f"only {slow.opened} slowloris connections opened: {slow.failed[:3]}"
        slow.wait_ticks(2)
        timings = []
        for i in range(10):
            began = time.monotonic()
            proc, body, status = curl(gw, server, acme, "acme.test", f"/normal/{i}")
            assert status == "200", proc.stderr + body
            timings.append(time.monotonic() - began)
        still_open = slow.open_count
    print(f"\nslowloris: 500 connections trickling headers, {still_open} still open; 10 normal "
          f"requests served, slowest {max(timings) * 1000:.0f} ms")
    assert still_open >= 490, f"the gateway dropped slowloris connections early: {still_open} open"


def test_header_timeout_closes_slow_clients_with_a_log_line(pki, acme, upstream, tmp_path):
    server = make_server_pki(tmp_path / "server", "header timeout CA", HOSTS)
    gw = Gateway(tmp_path / "gw", pki.db, server, [pki.root_pem], routes(upstream),
                 limits={"header_timeout": "2s"}, workers=1)
    ctx = client_context(server, acme)
    with gw:
        start = gw.mark()
        with gw.counts("tether_request_errors_total", at_least=True, reason="request_timeout",
                       status="408"), \
                SlowlorisClients("127.0.0.1", gw.port, count=20, ssl_context=ctx,
                                 server_hostname="acme.test", interval=0.5) as slow:
            slow.wait_closed(timeout=30)
            assert slow.open_count == 0
        line = gw.request_line(start, status=408)
        assert "header_timeout" in line["detail"], line
