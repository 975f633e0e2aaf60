#!/usr/bin/env python3
"""tether gateway against nginx, configured alike, measured in one run and printed as ratios.

Both proxies get the same server certificate, trust the same tether root for client
certificates, run two workers and forward to the same upstream (a separate nginx answering
`200 ok`). The same load client (tls_load, built from bench/tls_load.cc) presents the same
connector certificate to both. Per server and mode it measures:

  full       full mTLS handshakes/s          (target: tether >= 1.0x nginx)
  resume     resumed handshakes/s
  keepalive  requests/s on kept-alive connections, and p99 latency  (target: >= 0.8x nginx)
  idle       memory per idle TLS connection: Pss of the server's processes before and while
             --idle-connections handshaken connections are held, divided  (target: <= 1.5x nginx)
  slowread   memory per slow reader: --slow-readers clients each ask for a 7 MiB response and
             never read it; Pss growth while they hang, divided (nginx buffers to a temp file)

The load client shares the machine's cores with the servers, so rates are often bound by the
client; beside each rate the server's own CPU time per operation is reported, from the
utime+stime of all its processes (nginx master and workers) in /proc over the run.

Every load run is bounded by --seconds and --max-ops. Servers listen on 127.0.0.1 only and are
stopped by their PIDs. Only the standard library, plus tests/integration/testpki.py (which needs
python3-cryptography) for the server certificate.

    scripts/bench gateway [--seconds 5] [--json out.json]
    python3 bench/gateway_bench.py --tether build/release/src/tether \
        --tls-load build/release/bench/tether_tls_load
"""
import argparse
import datetime
import ipaddress
import json
import os
import pathlib
import platform
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

SNI = "gw.bench.test"
TENANT, CONNECTOR = "bench", "c1"
WORKERS = 2
HEADER_TIMEOUT_S = 30  # > the idle hold: neither server may close a connection that sent nothing
IDLE_TIMEOUT_S = 60
START_TIMEOUT = 20     # a server printing/accepting after start
STOP_TIMEOUT = 10
RUN_SLACK = 30         # beyond --seconds, for a tls_load run to finish before it is killed
SETTLE = 1.0           # after a server starts / the idle connections are up, before sampling
CLK_TCK = os.sysconf("SC_CLK_TCK")

MODES = ("idle", "slowread", "full", "resume", "keepalive")
SLOW_BODY = 7 << 20
# (key, label, mode, field, better, target) — better: "higher" or "lower"; target on the ratio.
METRICS = [
    ("full_rate", "full handshakes/s", "full", "rate", "higher", 1.0),
    ("resume_rate", "resumed handshakes/s", "resume", "rate", "higher", None),
    ("keepalive_rate", "keep-alive requests/s", "keepalive", "rate", "higher", 0.8),
    ("keepalive_p99", "keep-alive p99 ms", "keepalive", "p99_ms", "lower", None),
    ("idle_kib", "memory per idle conn KiB", "idle", "kib_per_conn", "lower", 1.5),
    ("slowread_kib", "memory per slow reader KiB", "slowread", "kib_per_conn", "lower", None),
    ("full_cpu", "server CPU ms / full handshake", "full", "server_cpu_ms_per_op", "lower", None),
    ("resume_cpu", "server CPU ms / resumed hs", "resume", "server_cpu_ms_per_op", "lower", None),
    ("keepalive_cpu", "server CPU ms / request", "keepalive", "server_cpu_ms_per_op", "lower", None),
]


class BenchError(Exception):
    pass


def log(msg):
    print(f"== {msg}", file=sys.stderr, flush=True)


# --- /proc accounting ---------------------------------------------------------------------------

def children_of(pid):
    kids = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            kids.append(int(entry.name))
    return kids


def process_tree(pid):
    """`pid` and all its descendants (nginx: master and workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children_of(p))
    return out


def cpu_seconds(pids):
    """utime + stime of the processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
    return total / CLK_TCK


def machine_busy_seconds():
    """CPU time the whole machine spent busy (all cores: user, nice, system, irq, softirq, steal)."""
    fields = [int(x) for x in pathlib.Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def memory_kib(pids):
    """(Pss, Rss) summed over the processes, in KiB. Pss splits pages the nginx master shares with
    its workers instead of counting them once per process."""
    pss = rss = 0
    for pid in pids:
        try:
            text = pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1])
            elif line.startswith("Rss:"):
                rss += int(line.split()[1])
    return pss, rss


# --- helpers ------------------------------------------------------------------------------------

def free_port():
    """A port free right now on 127.0.0.1 (nginx cannot listen on port 0); callers retry if it
    was taken in between."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"{what} did not accept connections on 127.0.0.1:{port} within {timeout} s")


def stop_process(proc, pids, what):
    """Stops `proc` (SIGTERM, then SIGKILL) and any of `pids` (its children) still alive, by PID."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log(f"{what} did not stop within {STOP_TIMEOUT} s of SIGTERM: SIGKILL")
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
    for pid in pids:
        if pid == proc.pid:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def tail(path, n=15):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def run_tool(args, what, timeout=120):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise BenchError(f"{what} failed (exit {proc.returncode}): {' '.join(map(str, args))}\n"
                         f"{proc.stdout}{proc.stderr}")
    return proc.stdout


# --- PKI ----------------------------------------------------------------------------------------

class Pki:
    """A tether CA with tenant `bench` and connector `c1` (the client certificate), and a server
    certificate for gw.bench.test / 127.0.0.1 from a throwaway server CA, made the way the TLS
    integration tests make theirs (tests/integration/testpki.py)."""

    def __init__(self, tether, d, client_key_type):
        self.data = d / "data"
        run_tool([tether, "ca", "init", "--data", self.data, "--insecure-no-passphrase"], "tether ca init")
        run_tool([tether, "tenant", "create", TENANT, "--data", self.data], "tether tenant create")
        bundle = d / "bundle"
        run_tool([tether, "connector", "create", "--tenant", TENANT, "--id", CONNECTOR,
                  "--key-type", client_key_type, "--out", bundle, "--data", self.data],
                 "tether connector create")
        self.client_chain = bundle / "certs" / "connector.pem"  # leaf, then the intermediate
        self.client_key = bundle / "certs" / "connector-key.pem"
        self.client_trust = bundle / "certs" / "ca.pem"         # the tether root
        self.db = self.data / "tether.db"
        self.server_ca, self.server_cert, self.server_key = make_server_cert(d)


def make_server_cert(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    import testpki

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = testpki.ec_key(), testpki.ec_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tether bench server CA")])

    def builder(subject, public_key):
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
                .public_key(public_key).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=2)))

    ca = (builder(ca_name, ca_key.public_key())
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf = (builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SNI)]), key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(SNI), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = d / "server-ca.pem", d / "server.pem", d / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    testpki.write_key(paths[2], key)
    return paths


# --- servers ------------------------------------------------------------------------------------

NGINX_COMMON = """\
pid {d}/nginx.pid;
error_log {d}/error.log notice;
{user}
events {{ worker_connections 16384; }}
"""
NGINX_HTTP_COMMON = """\
  access_log {access_log};
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  default_type text/plain;
  keepalive_timeout {idle}s;
  keepalive_requests 1000000;
"""

UPSTREAM_CONF = NGINX_COMMON + """\
worker_processes 1;
http {{
""" + NGINX_HTTP_COMMON + """\
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 200 "ok\\n"; }}
    location = /big {{ alias {d}/big.bin; }}
  }}
}}
"""

# tether's TLS settings (src/tls/server_context.cc), spelled for nginx: TLS 1.2 and 1.3, the same
# TLS 1.2 ciphers and TLS 1.3 suites in the same order, server preference; client certificate
# required and verified against the tether root (the client sends leaf + intermediate, hence
# depth 2); tickets on plus a shared session cache.
PROXY_CONF = NGINX_COMMON + """\
worker_processes {workers};
worker_rlimit_nofile {nofile};
http {{
""" + NGINX_HTTP_COMMON + """\
  client_header_timeout {header}s;
  upstream backend {{
    server 127.0.0.1:{upstream_port};
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{port} ssl;
    server_name {sni};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
    ssl_prefer_server_ciphers on;
    ssl_client_certificate {trust};
    ssl_verify_client on;
    ssl_verify_depth 2;
    ssl_session_tickets on;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1h;
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


class Nginx:
    """One nginx (master + workers) in its own prefix directory, on a free port."""

    def __init__(self, nginx, d, template, workers, what, **params):
        self.what, self.workers, self.d = what, workers, d
        (d / "tmp").mkdir(parents=True, exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        for attempt in range(3):
            self.port = free_port()
            conf = d / "nginx.conf"
            conf.write_text(template.format(d=d, user=user, port=self.port, workers=workers, **params))
            self.stderr = open(d / "stderr.log", "ab")
            self.proc = subprocess.Popen([nginx, "-p", str(d), "-c", str(conf), "-g", "daemon off;"],
                                         stdout=self.stderr, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            if wait_port(self.port, self.proc, START_TIMEOUT, what):
                break
            self.proc.wait(timeout=STOP_TIMEOUT)
            self.stderr.close()
            errors = tail(d / "stderr.log") + tail(d / "error.log")
            if "Address already in use" not in errors or attempt == 2:
                raise BenchError(f"{what} exited at start:\n{errors}")
            log(f"{what}: port {self.port} was taken, retrying with another")
        deadline = time.monotonic() + START_TIMEOUT
        while len(self.pids()) < workers + 1:
            if time.monotonic() > deadline:
                raise BenchError(f"{what}: {workers} workers did not start")
            time.sleep(0.05)
        self._known = self.pids()

    def pids(self):
        return process_tree(self.proc.pid)

    def stop(self):
        stop_process(self.proc, self._known, self.what)
        self.stderr.close()


def tether_gateway_available(tether):
    """Whether this tether binary has the gateway subcommand (an unknown subcommand makes CLI11
    print the top-level help, without --config)."""
    proc = subprocess.run([tether, "gateway", "--help"], capture_output=True, text=True, timeout=30)
    return proc.returncode == 0 and "--config" in proc.stdout


class TetherGateway:
    """`tether gateway --config gw.toml`, its stdout (JSON lines: listening events, then one access
    log line per request) going to a file, tailed here until both listeners are announced."""

    def __init__(self, tether, d, pki, upstream_port, extra_toml=""):
        self.what = "tether gateway"
        d.mkdir(parents=True, exist_ok=True)
        conf = d / "gw.toml"
        conf.write_text(f"""\
workers = {WORKERS}

[listener]
address = "127.0.0.1"
port = 0
server_cert = "{pki.server_cert}"
server_key = "{pki.server_key}"
trust = ["{pki.client_trust}"]

[limits]
header_timeout = "{HEADER_TIMEOUT_S}s"
idle_timeout = "{IDLE_TIMEOUT_S}s"

[admin]
address = "127.0.0.1"
port = 0

[store]
path = "{pki.db}"

[[route]]
name = "bench"
protocol = "http"
upstream = "127.0.0.1:{upstream_port}"
allow = ["tenant:{TENANT}"]
{extra_toml}""")
        self.stdout_path, self.stderr_path = d / "stdout.log", d / "stderr.log"
        self.stdout, self.stderr = open(self.stdout_path, "ab"), open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([tether, "gateway", "--config", str(conf)], stdout=self.stdout,
                                     stderr=self.stderr, stdin=subprocess.DEVNULL)
        try:
            self.port, admin_port = self._wait_listening()
            self._wait_ready(admin_port)
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self):
        ports = {}
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for line in self.stdout_path.read_text(errors="replace").splitlines():
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("event") == "listening":
                    ports[event.get("listener")] = event.get("port")
            if "tls" in ports and "admin" in ports:
                return ports["tls"], ports["admin"]
            if self.proc.poll() is not None:
                raise BenchError(f"tether gateway exited {self.proc.returncode} at start:\n"
                                 f"{tail(self.stderr_path)}\n{tail(self.stdout_path)}")
            time.sleep(0.05)
        raise BenchError(f"tether gateway printed no listening lines for tls and admin within "
                         f"{START_TIMEOUT} s (saw {ports}):\n{tail(self.stdout_path)}")

    def _wait_ready(self, admin_port):
        url = f"http://127.0.0.1:{admin_port}/readyz"
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise BenchError(f"{url} did not answer 200 within {START_TIMEOUT} s (last: {last})")

    def pids(self):
        return process_tree(self.proc.pid)

    def stop(self):
        stop_process(self.proc, [], self.what)
        self.stdout.close()
        self.stderr.close()


# --- load runs ----------------------------------------------------------------------------------

class Bench:
    def __init__(self, args, pki):
        self.args, self.pki = args, pki

    def client_args(self, port, mode, connections, seconds):
        a = self.args
        return [a.tls_load, "--port", str(port), "--cert", self.pki.client_chain,
                "--key", self.pki.client_key, "--ca", self.pki.server_ca, "--sni", SNI,
                "--mode", mode, "--connections", str(connections), "--duration", str(seconds),
                "--max-ops", str(a.max_ops), "--path", "/bench"]

    def measure(self, server, mode, upstream):
        a = self.args
        if mode == "idle":
            return self.measure_idle(server)
        if mode == "slowread":
            return self.measure_slowread(server)
        pids, up_pids = server.pids(), upstream.pids()
        cpu0, up0 = cpu_seconds(pids), cpu_seconds(up_pids)
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy0 = machine_busy_seconds()
        proc = subprocess.run(self.client_args(server.port, mode, a.connections, a.seconds),
                              capture_output=True, text=True, timeout=a.seconds + RUN_SLACK)
        busy1 = machine_busy_seconds()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu1, up1 = cpu_seconds(pids), cpu_seconds(up_pids)
        result = parse_client(proc, mode)
        ops = result["ops"]
        client_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        # CPU the rest of the machine used meanwhile (other jobs, this driver): the noise gauge.
        other = (busy1 - busy0) - (cpu1 - cpu0) - (up1 - up0) - client_cpu
        result.update(other_cpu_per_s=max(0.0, other) / result["seconds"],server_cpu_s=cpu1 - cpu0, upstream_cpu_s=up1 - up0, client_cpu_s=client_cpu,
                      server_cpu_ms_per_op=1000 * (cpu1 - cpu0) / ops if ops else None,
                      client_cpu_ms_per_op=1000 * client_cpu / ops if ops else None)
        return result

    def measure_idle(self, server):
        a = self.args
        pids = server.pids()
        time.sleep(SETTLE)
        pss0, rss0 = memory_kib(pids)
        hold = SETTLE + 3
        proc = subprocess.Popen(self.client_args(server.port, "idle", a.idle_connections, hold),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Reading the ready line blocks; the watchdog bounds it (and the whole run) in time.
        watchdog = threading.Timer(a.seconds + hold + 2 * RUN_SLACK, proc.kill)
        watchdog.start()
        try:
            ready = None
            deadline = time.monotonic() + a.seconds + RUN_SLACK
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "ready":
                    ready = event
                    break
            if ready is None:
                out, err = proc.communicate(timeout=RUN_SLACK)
                raise BenchError(f"tls_load idle exited {proc.returncode} before ready: {err.strip()}")
            time.sleep(SETTLE)
            pss1, rss1 = memory_kib(pids)
            out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()) + hold)
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
        finally:
            watchdog.cancel()
        result = parse_client(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), "idle")
        n = result["ops"]
        result.update(pss_before_kib=pss0, pss_held_kib=pss1, rss_before_kib=rss0, rss_held_kib=rss1,
                      kib_per_conn=(pss1 - pss0) / n if n else None,
                      rss_kib_per_conn=(rss1 - rss0) / n if n else None)
        return result


    def measure_slowread(self, server):
        """Clients that ask for SLOW_BODY bytes and never read: what each costs the server while
        its socket buffers are full and it must hold (or stop reading) the rest."""
        a = self.args
        pids = server.pids()
        time.sleep(SETTLE)
        pss0, rss0 = memory_kib(pids)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.pki.server_ca)
        ctx.load_cert_chain(self.pki.client_chain, self.pki.client_key)
        socks = []
        try:
            for _ in range(a.slow_readers):
                raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
                s = ctx.wrap_socket(raw, server_hostname=SNI)
                s.sendall(f"GET /big HTTP/1.1\r\nHost: {SNI}\r\n\r\n".encode())
                socks.append(s)
            # Each server has read from the upstream what it will hold: Pss stops moving.
            deadline = time.monotonic() + a.seconds + RUN_SLACK
            last = None
            while time.monotonic() < deadline:
                time.sleep(SETTLE)
                pss1, rss1 = memory_kib(pids)
                if last is not None and abs(pss1 - last) < 64:
                    break
                last = pss1
        finally:
            for s in socks:
                s.close()
        n = len(socks)
        return {"ops": n, "pss_before_kib": pss0, "pss_held_kib": pss1, "rss_before_kib": rss0,
                "rss_held_kib": rss1, "kib_per_conn": (pss1 - pss0) / n if n else None,
                "rss_kib_per_conn": (rss1 - rss0) / n if n else None}


def parse_client(proc, mode):
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    results = [json.loads(l) for l in lines if '"mode"' in l]
    if not results:
        raise BenchError(f"tls_load --mode {mode} exited {proc.returncode} without a result: "
                         f"{proc.stderr.strip()}")
    r = results[-1]
    if proc.returncode != 0 or r["ops"] == 0:
        raise BenchError(f"tls_load --mode {mode}: nothing succeeded: {r.get('first_error')}")
    return r


# --- report -------------------------------------------------------------------------------------

def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def fmt(v, digits=1):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    return f"{v:,.{digits}f}".replace(",", " ")


def summarize(results, servers):
    """Median over rounds of every metric, per server."""
    out = {}
    for name in servers:
        out[name] = {}
        for key, _, mode, field, _, _ in METRICS:
            rounds = results.get(name, {}).get(mode, [])
            out[name][key] = median([r.get(field) for r in rounds if isinstance(r, dict)])
    return out


def report(summary, tether_note, results):
    """The comparison table, then the load client's cost and the machine's other load."""
    rows = []
    for key, label, mode, field, better, target in METRICS:
        t, n = summary.get("tether", {}).get(key), summary["nginx"].get(key)
        ratio = t / n if t is not None and n else None
        if target is None:
            goal, met = "", ""
        else:
            goal = (">= " if better == "higher" else "<= ") + f"{target:.1f}x"
            if ratio is None:
                met = "pending"
            else:
                met = "yes" if (ratio >= target if better == "higher" else ratio <= target) else "NO"
        digits = 3 if "cpu" in key or "p99" in key else 1
        rows.append((label, fmt(t if t is not None else tether_note, digits), fmt(n, digits),
                     fmt(ratio, 2) if ratio is not None else "—", goal, met))
    head = ("metric", "tether", "nginx", "tether/nginx", "target", "met?")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                       for i, (c, w) in enumerate(zip(r, widths))) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    # The load client's own cost: when it is near the server's, the rate is client-bound.
    print()
    print("load client CPU ms/op (same client for both; compare with the server's):")
    for mode in ("full", "resume", "keepalive"):
        cells = []
        for name in ("tether", "nginx"):
            rounds = [r for r in results.get(name, {}).get(mode, []) if isinstance(r, dict)]
            cells.append(f"{name} {fmt(median([r.get('client_cpu_ms_per_op') for r in rounds]), 3)}")
        print(f"  {mode:9}  " + "  ".join(cells))
    others = [r["other_cpu_per_s"] for runs in results.values() for rs in runs.values()
              for r in rs if isinstance(r, dict) and r.get("other_cpu_per_s") is not None]
    if others:
        print(f"other load on the machine during the runs: median {median(others):.2f}, "
              f"max {max(others):.2f} cores (of {os.cpu_count()}); above ~0.2 the rates are noisy")


def machine_note():
    model = ""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "openssl": ssl, "loadavg": os.getloadavg()}


# --- main ---------------------------------------------------------------------------------------

def raise_nofile(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise BenchError(f"--idle-connections needs about {needed} open files, the hard limit "
                             f"(ulimit -Hn) is {hard}: lower --idle-connections or raise the limit")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tether", default=str(ROOT / "build/release/src/tether"),
                   help="tether binary: makes the PKI, and runs `gateway` when it has it")
    p.add_argument("--tls-load", default=str(ROOT / "build/release/bench/tether_tls_load"),
                   help="the load client (bench/tls_load.cc)")
    p.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx",
                   help="nginx binary, for the proxy and the upstream")
    p.add_argument("--seconds", type=float, default=5, help="time bound of each load run (1..120)")
    p.add_argument("--max-ops", type=int, default=500000, help="count bound of each load run")
    p.add_argument("--connections", type=int, default=16,
                   help="concurrent connections of the full, resume and keepalive runs")
    p.add_argument("--slow-readers", type=int, default=50,
                   help="clients that never read a 7 MiB response, in slowread mode")
    p.add_argument("--idle-connections", type=int, default=1000,
                   help="connections held open for the memory measurement")
    p.add_argument("--rounds", type=int, default=3,
                   help="repeat every rate run, alternating which server goes first; the table "
                        "shows medians (idle runs once, on fresh servers)")
    p.add_argument("--modes", default=",".join(MODES), help="subset of " + ",".join(MODES))
    p.add_argument("--skip-tether", action="store_true", help="measure nginx only")
    p.add_argument("--nginx-access-log", action="store_true",
                   help="let the nginx proxy write an access log (tether always logs each request)")
    p.add_argument("--client-key-type", default="ecdsa-p256",
                   help="key type of the connector certificate the load client presents (tether "
                        "connector create --key-type); ECDSA keeps the client's share of the cores small")
    p.add_argument("--tmpdir", default=None, help="where the temporary PKI and server dirs go")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--json", help="write the raw numbers to this file")
    a = p.parse_args()
    if not 1 <= a.seconds <= 120:
        p.error(f"--seconds {a.seconds}: use 1 to 120")
    if not 1 <= a.connections <= 1000 or not 1 <= a.idle_connections <= 50000:
        p.error("--connections 1..1000 and --idle-connections 1..50000")
    if a.max_ops < 1:
        p.error("--max-ops must be at least 1")
    if not 1 <= a.rounds <= 20:
        p.error("--rounds 1..20")
    a.modes = [m for m in a.modes.split(",") if m]
    if bad := [m for m in a.modes if m not in MODES]:
        p.error(f"--modes: unknown {bad}; use a subset of {','.join(MODES)}")
    for flag, path in (("--tether", a.tether), ("--tls-load", a.tls_load), ("--nginx", a.nginx)):
        if not os.access(path, os.X_OK):
            p.error(f"{flag} {path}: not an executable file (scripts/bench gateway builds and installs them)")
    return a


def main():
    a = parse_args()
    nofile = raise_nofile(a.idle_connections + 1024)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tether-gw-bench-", dir=a.tmpdir))
    servers, started = {}, []
    results = {"tether": {}, "nginx": {}}
    tether_note = None
    try:
        log(f"PKI in {tmp}")
        pki = Pki(a.tether, tmp, a.client_key_type)
        (tmp / "upstream").mkdir(parents=True, exist_ok=True)
        (tmp / "upstream" / "big.bin").write_bytes(os.urandom(SLOW_BODY))
        upstream = Nginx(a.nginx, tmp / "upstream", UPSTREAM_CONF, 1, "upstream nginx",
                         idle=IDLE_TIMEOUT_S, access_log="off")
        started.append(upstream)
        access_log = f"{tmp}/nginx/access.log" if a.nginx_access_log else "off"
        servers["nginx"] = Nginx(a.nginx, tmp / "nginx", PROXY_CONF, WORKERS, "nginx proxy",
                                 nofile=max(8192, a.idle_connections * 2 + 1024),
                                 header=HEADER_TIMEOUT_S, idle=IDLE_TIMEOUT_S, sni=SNI,
                                 upstream_port=upstream.port, cert=pki.server_cert,
                                 key=pki.server_key, trust=pki.client_trust, access_log=access_log)
        started.append(servers["nginx"])
        if a.skip_tether:
            tether_note = "skipped"
        elif not tether_gateway_available(a.tether):
            tether_note = "not available"
            print(f"tether gateway: not available ({a.tether} has no `gateway` subcommand yet); "
                  "measuring nginx only", flush=True)
        else:
            try:
                servers["tether"] = TetherGateway(a.tether, tmp / "tether", pki, upstream.port)
                started.append(servers["tether"])
            except BenchError as e:
                tether_note = "failed to start"
                print(f"tether gateway: failed to start: {e}", flush=True)
        log(f"upstream :{upstream.port}, " + ", ".join(f"{n} :{s.port}" for n, s in servers.items())
            + f"; RLIMIT_NOFILE {nofile}")
        time.sleep(SETTLE)

        bench = Bench(a, pki)
        order = [n for n in ("tether", "nginx") if n in servers]
        # idle and slowread first, and only once: on servers that have served little yet (later
        # rounds would reuse the heap the first round's connections freed, and measure close to
        # nothing).
        for mode in [m for m in MODES if m in a.modes]:
            for rnd in range(1 if mode in ("idle", "slowread") else a.rounds):
                for name in (order if rnd % 2 == 0 else order[::-1]):
                    try:
                        r = bench.measure(servers[name], mode, upstream)
                    except (BenchError, subprocess.TimeoutExpired) as e:
                        r = {"error": str(e)}
                        print(f"{name} {mode}: {e}", flush=True)
                    results[name].setdefault(mode, []).append(r)
                    brief = {k: round(v, 3) if isinstance(v, float) else v for k in (
                        "ops", "rate", "p99_ms", "errors", "server_cpu_ms_per_op", "client_cpu_ms_per_op",
                        "other_cpu_per_s", "kib_per_conn", "error") if (v := r.get(k)) is not None}
                    log(f"{name} {mode}: {brief}")
                    time.sleep(0.5)
    except BenchError as e:
        print(f"gateway_bench: {e}", file=sys.stderr)
        return 1
    finally:
        for s in reversed(started):
            s.stop()
        if a.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    summary = summarize(results, servers.keys() | {"nginx"})
    print()
    print(f"tether gateway vs nginx: {WORKERS} workers each, {a.seconds:g} s per run, "
          f"{a.connections} connections, {a.idle_connections} idle connections, "
          f"{a.rounds} round(s), nginx access log {'on' if a.nginx_access_log else 'off'}")
    report(summary, tether_note, results)
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps({
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine_note(), "options": vars(a), "tether": tether_note or "measured",
            "summary": summary, "runs": results}, indent=2, default=str) + "\n")
    errors = [r for runs in results.values() for rs in runs.values() for r in rs if "error" in r]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
