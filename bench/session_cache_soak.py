#!/usr/bin/env python3
"""Memory per cached TLS session, and server CPU per full and per resumed handshake.

Starts `tether gateway` (the binary given, release build preferred) with a throwaway PKI, makes
--full full TLS handshakes with one client certificate (each a fresh session the gateway caches;
one request with `Connection: close` so that both ends close cleanly), then --resumed
resumptions, each offering the newest ticket (TLS 1.3 tickets resume once). Prints the gateway's
VmRSS before and after the full handshakes, their difference per handshake, and the gateway's
CPU time (utime + stime from /proc/PID/stat) per full and per resumed handshake.

    /usr/bin/python3 bench/session_cache_soak.py --tether build/release/src/tether \
        --full 5000 --resumed 2000 [--cache-size 32MiB]

--cache-size writes [tls] session_cache_size, which builds before that setting refuse; leave it
out to compare with them. Uses the integration tests' helpers (tests/integration).
"""
import argparse
import os
import pathlib
import socket
import ssl
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def one_connection(port, ctx, session=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    with ctx.wrap_socket(raw, server_hostname="acme.test", session=session) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        assert data.startswith(b"HTTP/1.1 "), data[:200]
        return s.session, s.session_reused


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tether", required=True, help="the tether binary to run")
    parser.add_argument("--full", type=int, default=5000, help="full handshakes (default 5000)")
    parser.add_argument("--resumed", type=int, default=2000, help="resumptions (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="full handshakes before the RSS "
                        "baseline, so one-off allocations are not counted (default 200)")
    parser.add_argument("--cache-size", help="[tls] session_cache_size, e.g. 32MiB")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    os.environ["TETHER_BIN"] = str(pathlib.Path(args.tether).resolve())
    sys.path.insert(0, str(ROOT / "tests/integration"))
    import testpki  # noqa: E402 (needs TETHER_BIN set first)
    from gatewaylib import Gateway, free_port
    from tetherlib import Tether

    with tempfile.TemporaryDirectory(prefix="tether-soak-") as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "tether").mkdir()
        pki = Tether(tmp / "tether")
        pki.tenant("acme")
        bundle = testpki.make_bundle(pki, "acme", "edge-1", "--key-type", "ecdsa-p256")
        server_pki = testpki.make_server_pki(tmp / "server-pki", "soak server CA", ("acme.test",))
        # Requests outside /api get the gateway's own 404: no upstream needed.
        routes = (f'[[route]]\nname = "acme-api"\nupstream = "127.0.0.1:{free_port()}"\n'
                  'match = { sni = "acme.test", path_prefix = "/api" }\nallow = ["tenant:acme"]\n')
        extra = f'[tls]\nsession_cache_size = "{args.cache_size}"\n' if args.cache_size else ""
        gw = Gateway(tmp / "gateway", pki.db, server_pki, [pki.root_pem], routes,
                     workers=args.workers, extra_tables=extra)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_verify_locations(server_pki / "server-ca.pem")
        ctx.load_cert_chain(bundle.chain, bundle.key)
        with gw:
            pid = gw.proc.pid
            for _ in range(args.warmup):
                one_connection(gw.port, ctx)
            time.sleep(0.5)
            rss_before, cpu_before, t0 = rss_kib(pid), cpu_seconds(pid), time.monotonic()
            session = None
            for _ in range(args.full):
                session, _ = one_connection(gw.port, ctx)
            time.sleep(0.5)
            rss_after, cpu_after, t1 = rss_kib(pid), cpu_seconds(pid), time.monotonic()
            reused = 0
            for _ in range(args.resumed):
                session, was_reused = one_connection(gw.port, ctx, session)
                reused += was_reused
            cpu_resumed, t2 = cpu_seconds(pid), time.monotonic()
            metrics = gw.admin_get("/metrics")[1]
        cache_lines = [line for line in metrics.splitlines()
                       if line.startswith("tether_tls_session_cache")]

    delta = (rss_after - rss_before) * 1024
    print(f"binary: {args.tether}")
    print(f"full handshakes: {args.full} (after {args.warmup} warm-up), resumptions: "
          f"{args.resumed} ({reused} resumed)")
    print(f"VmRSS before: {rss_before} KiB, after: {rss_after} KiB, "
          f"delta: {delta / 2**20:.1f} MiB = {delta / args.full:.0f} bytes per full handshake")
    print(f"server CPU per full handshake: {(cpu_after - cpu_before) / args.full * 1e3:.3f} ms "
          f"(wall {(t1 - t0) / args.full * 1e3:.2f} ms)")
    if args.resumed:
        print(f"server CPU per resumed handshake: "
              f"{(cpu_resumed - cpu_after) / args.resumed * 1e3:.3f} ms "
              f"(wall {(t2 - t1) / args.resumed * 1e3:.2f} ms)")
    for line in cache_lines:
        print(line)


if __name__ == "__main__":
    main()
