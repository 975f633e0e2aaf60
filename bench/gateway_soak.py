#!/usr/bin/env python3
"""A soak of the tether gateway: cycles of full handshakes, keep-alive requests and 1,000 idle
connections opened and closed, for --minutes. After every cycle it prints the gateway's RSS, its
open file descriptors and its session cache; at the end it checks that RSS stayed within the
session cache's configured size plus 64 MiB and that the open descriptors came back to where
they started. Before the soak it measures memory per cached session on tether and on nginx
alike: memory growth over --session-handshakes full handshakes (each leaves one session in the
cache), divided by that count.

The servers, PKI and load client are the gateway benchmark's (gateway_bench.py): two workers,
the same certificates, tls_load as the client. Every load run is bounded in time and count.

    scripts/bench soak [--minutes 5] [--session-cache 32MiB]
"""
import argparse
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gateway_bench as gb  # noqa: E402

MIB = 1 << 20
UNITS = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def parse_size(text):
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(text[:-len(unit)]) * factor
    return int(text)


def vm_rss(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise gb.BenchError(f"no VmRSS for {pid}")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def metrics(admin_port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith("tether_tls_session_cache_") or line.startswith("tether_connections_open"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def run_load(bench, server, mode, seconds, connections, max_ops=None):
    a = bench.args
    args = bench.client_args(server.port, mode, connections, seconds)
    if max_ops is not None:
        args[args.index("--max-ops") + 1] = str(max_ops)
    proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + gb.RUN_SLACK)
    return gb.parse_client(proc, mode)


def session_memory(bench, server, count, seconds):
    """Memory growth per full handshake, each of which leaves one session in the cache."""
    pids = server.pids()
    time.sleep(gb.SETTLE)
    pss0, _ = gb.memory_kib(pids)
    r = run_load(bench, server, "full", seconds, bench.args.connections, max_ops=count)
    time.sleep(gb.SETTLE)
    pss1, _ = gb.memory_kib(pids)
    return r["ops"], (pss1 - pss0) * 1024 / r["ops"]


def pre_handshake_memory(server, pid, count):
    """Connections that open and send nothing: RSS per connection while they are open, and RSS
    once they closed (the gateway gives freed memory back within its 1 s control tick)."""
    time.sleep(gb.SETTLE)
    before = vm_rss(pid)
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(count)]
    deadline = time.monotonic() + 15
    while open_fds(pid) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(gb.SETTLE)
    held = vm_rss(pid)
    for s in socks:
        s.close()
    deadline = time.monotonic() + 15
    while open_fds(pid) > 64 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2 * gb.SETTLE + 1)  # one control tick, which trims
    after = vm_rss(pid)
    return (held - before) / count, before, held, after


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tether", default=str(gb.ROOT / "build/release/src/tether"))
    p.add_argument("--tls-load", default=str(gb.ROOT / "build/release/bench/tether_tls_load"))
    p.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--phase-seconds", type=float, default=4, help="length of each load phase")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--idle-connections", type=int, default=1000)
    p.add_argument("--session-cache", default="32MiB", help="tls.session_cache_size of the gateway")
    p.add_argument("--session-handshakes", type=int, default=10000,
                   help="full handshakes of the memory-per-session measurement (fewer than either cache holds)")
    p.add_argument("--max-ops", type=int, default=500000)
    p.add_argument("--client-key-type", default="ecdsa-p256")
    p.add_argument("--tmpdir", default=None)
    a = p.parse_args()
    a.seconds = a.phase_seconds
    limit = parse_size(a.session_cache)
    gb.raise_nofile(a.idle_connections + 1024)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tether-gw-soak-", dir=a.tmpdir))
    started = []
    failures = []
    try:
        pki = gb.Pki(a.tether, tmp, a.client_key_type)
        (tmp / "upstream").mkdir(parents=True, exist_ok=True)
        (tmp / "upstream" / "big.bin").write_bytes(b"x")
        upstream = gb.Nginx(a.nginx, tmp / "upstream", gb.UPSTREAM_CONF, 1, "upstream nginx",
                            idle=gb.IDLE_TIMEOUT_S, access_log="off")
        started.append(upstream)
        nginx = gb.Nginx(a.nginx, tmp / "nginx", gb.PROXY_CONF, gb.WORKERS, "nginx proxy",
                         nofile=a.idle_connections * 2 + 1024, header=gb.HEADER_TIMEOUT_S,
                         idle=gb.IDLE_TIMEOUT_S, sni=gb.SNI, upstream_port=upstream.port,
                         cert=pki.server_cert, key=pki.server_key, trust=pki.client_trust,
                         access_log="off")
        started.append(nginx)
        tether = gb.TetherGateway(a.tether, tmp / "tether", pki, upstream.port,
                                  extra_toml=f'\n[tls]\nsession_cache_size = "{a.session_cache}"\n')
        started.append(tether)
        admin_port = json.loads(next(l for l in tether.stdout_path.read_text().splitlines()
                                     if '"listener":"admin"' in l))["port"]
        bench = gb.Bench(a, pki)

        # Memory per cached session, both servers measured alike.
        per_session = {}
        for name, server in (("tether", tether), ("nginx", nginx)):
            n, b = session_memory(bench, server, a.session_handshakes, 60)
            per_session[name] = b
            print(f"memory per cached session, {name}: {b:.0f} bytes ({n} full handshakes)", flush=True)
        print(f"memory per cached session, tether/nginx: {per_session['tether'] / per_session['nginx']:.2f}x",
              flush=True)

        pid = tether.proc.pid
        pre = pre_handshake_memory(tether, pid, 2000)
        print(f"2000 connections that send nothing: +{pre[0] / 1024:.1f} KiB RSS each while open; "
              f"RSS {pre[1] / MIB:.1f} -> {pre[2] / MIB:.1f} MiB open -> {pre[3] / MIB:.1f} MiB "
              f"after they closed", flush=True)
        rss_start, fds_start = vm_rss(pid), open_fds(pid)
        peak = rss_start
        print(f"soak: {a.minutes:g} min, session cache {a.session_cache}; start RSS "
              f"{rss_start / MIB:.1f} MiB, {fds_start} fds", flush=True)
        print(f"{'cycle':>5} {'full/s':>8} {'req/s':>8} {'idle':>5} {'RSS MiB':>8} {'fds':>5} "
              f"{'cache MiB':>9} {'sessions':>8} {'evicted':>8}", flush=True)
        end = time.monotonic() + a.minutes * 60
        cycle = 0
        while time.monotonic() < end:
            cycle += 1
            full = run_load(bench, tether, "full", a.phase_seconds, a.connections)
            peak = max(peak, vm_rss(pid))
            keep = run_load(bench, tether, "keepalive", a.phase_seconds, a.connections)
            peak = max(peak, vm_rss(pid))
            idle = bench.measure_idle(tether)
            peak = max(peak, vm_rss(pid), idle["rss_held_kib"] * 1024)
            # The idle connections are closed when tls_load exits; the gateway notices at once.
            deadline = time.monotonic() + 15
            while open_fds(pid) > fds_start + 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            m = metrics(admin_port)
            rss = vm_rss(pid)
            peak = max(peak, rss)
            print(f"{cycle:>5} {full['rate']:>8.0f} {keep['rate']:>8.0f} {idle['ops']:>5} "
                  f"{rss / MIB:>8.1f} {open_fds(pid):>5} "
                  f"{m.get('tether_tls_session_cache_bytes', float('nan')) / MIB:>9.2f} "
                  f"{m.get('tether_tls_session_cache_sessions', float('nan')):>8.0f} "
                  f"{m.get('tether_tls_session_cache_evictions_total', float('nan')):>8.0f}", flush=True)
        # Descriptors back to their start value (bounded wait: closes are asynchronous, and the
        # pooled upstream connections close once idle for 30 s, checked every 5 s).
        deadline = time.monotonic() + 60
        while open_fds(pid) != fds_start and time.monotonic() < deadline:
            time.sleep(0.1)
        fds_end = open_fds(pid)
        bound = limit + 64 * MIB
        print(f"peak RSS {peak / MIB:.1f} MiB (bound: session cache {limit / MIB:.0f} MiB + 64 MiB = "
              f"{bound / MIB:.0f} MiB); fds {fds_start} -> {fds_end}", flush=True)
        if peak > bound:
            failures.append(f"peak RSS {peak / MIB:.1f} MiB over {bound / MIB:.0f} MiB")
        if fds_end != fds_start:
            failures.append(f"open fds {fds_end}, started at {fds_start}")
    except gb.BenchError as e:
        print(f"gateway_soak: {e}", file=sys.stderr)
        return 1
    finally:
        for s in reversed(started):
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print(f"FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
