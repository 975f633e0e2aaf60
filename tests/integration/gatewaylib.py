"""A real `tether gateway` process for integration tests: writes its config, starts it, reads
its JSON log lines, and stops it by PID.

The gateway binds port 0 and reports the ports it got in `listening` lines; `start()` returns
once the `ready` line arrived and /readyz answers 200. Every wait is bounded and says what did
not happen.
"""
import contextlib
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request

from tetherlib import TETHER

START_TIMEOUT = 60
STOP_TIMEOUT = 15
COUNT_TIMEOUT = 10
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def free_port():
    """A port that was free a moment ago (for tcp routes, whose port the config must name)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_string(value):
    return json.dumps(str(value))


class Gateway:
    def __init__(self, workdir, store, server_pki, trust, routes, limits=None, workers=2,
                 extra_listener="", env=None, server_cert=None, server_key=None, poll_ms=50,
                 extra_tables="", activity_flush_ms=None):
        """`routes` is TOML text of [[route]] tables; `trust` a list of PEM paths; `extra_tables`
        TOML text of further top-level tables (e.g. "[tls]\nsession_cache_size = ...");
        `activity_flush_ms` sets store.activity_flush_interval_ms (else the default)."""
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "gateway.toml"
        self.server_cert = server_cert or server_pki / "server.pem"
        self.server_key = server_key or server_pki / "server-key.pem"
        self.store = store
        self.trust = trust
        self.routes = routes
        self.limits = limits or {}
        self.workers = workers
        self.extra_listener = extra_listener
        self.extra_tables = extra_tables
        self.poll_ms = poll_ms
        self.activity_flush_ms = activity_flush_ms
        self.env = env
        self.proc = None
        self.lines = []
        self.raw_stdout = []
        self.cond = threading.Condition()
        self.reader_done = False
        self.port = None
        self.admin_port = None
        self.tcp_ports = {}
        self.write_config()

    def config_text(self, routes=None):
        limits = "".join(f"{k} = {json.dumps(v)}\n" for k, v in self.limits.items())
        trust = ", ".join(toml_string(t) for t in self.trust)
        flush = ("" if self.activity_flush_ms is None
                 else f"activity_flush_interval_ms = {self.activity_flush_ms}\n")
        return (f"workers = {self.workers}\n"
                f"[listener]\naddress = \"127.0.0.1\"\nport = 0\n"
                f"server_cert = {toml_string(self.server_cert)}\n"
                f"server_key = {toml_string(self.server_key)}\n"
                f"trust = [{trust}]\n{self.extra_listener}\n"
                f"[limits]\n{limits}\n"
                f"{self.extra_tables}\n"
                f"[admin]\nport = 0\n\n"
                f"[store]\npath = {toml_string(self.store)}\npoll_interval_ms = {self.poll_ms}\n{flush}\n"
                f"{routes if routes is not None else self.routes}\n")

    def write_config(self, routes=None, text=None):
        """Writes the config atomically (rename), as an operator's deploy tool would."""
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text if text is not None else self.config_text(routes))
        os.replace(tmp, self.config_path)

    # --- process ---------------------------------------------------------------------------
    def start(self):
        self.stderr_path = self.workdir / "gateway.stderr"
        self.stderr_file = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([TETHER, "gateway", "--config", str(self.config_path)],
                                     stdout=subprocess.PIPE, stderr=self.stderr_file, text=True,
                                     env=self.env)
        threading.Thread(target=self._read, daemon=True).start()
        ready = self.wait_for(lambda e: e.get("event") == "ready", START_TIMEOUT, "the gateway's ready line")
        del ready
        for e in self.events("listening"):
            if e["listener"] == "tls":
                self.port = e["port"]
            elif e["listener"] == "tcp":
                self.tcp_ports[e["route"]] = e["port"]
            elif e["listener"] == "admin":
                self.admin_port = e["port"]
        assert self.port and self.admin_port, f"no tls/admin listening lines: {self.lines}"
        status, _ = self.admin_get("/readyz")
        assert status == 200, f"/readyz answered {status} after the ready line"
        return self

    def _read(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.raw_stdout.append(raw)
                try:
                    self.lines.append(json.loads(raw))
                except ValueError:
                    pass
                self.cond.notify_all()
        with self.cond:
            self.reader_done = True
            self.cond.notify_all()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        if self.proc:
            self.stderr_file.close()
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stderr(self):
        return self.stderr_path.read_text() if self.proc else ""

    # --- log lines ---------------------------------------------------------------------------
    def events(self, event):
        with self.cond:
            return [e for e in self.lines if e.get("event") == event]

    def wait_for(self, predicate, timeout, what, start=0):
        """The first log line (from index `start`) for which predicate holds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.lines[start:]:
                    if predicate(e):
                        return e
                if self.proc.poll() is not None and self.reader_done:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.5))
        raise AssertionError(f"gave up after {timeout}s waiting for {what}; gateway exit="
                             f"{self.proc.poll()}\nlines: {self.raw_stdout[-30:]}\nstderr: {self.stderr()[-3000:]}")

    def mark(self):
        with self.cond:
            return len(self.lines)

    def handshake_line(self, start, timeout=15, **match):
        def ok(e):
            return e.get("event") == "handshake" and all(e.get(k) == v for k, v in match.items())
        return self.wait_for(ok, timeout, f"a handshake line with {match}", start)

    def request_line(self, start, timeout=15, **match):
        def ok(e):
            return e.get("event") == "request" and all(e.get(k) == v for k, v in match.items())
        return self.wait_for(ok, timeout, f"a request line with {match}", start)

    # --- admin -------------------------------------------------------------------------------
    def admin_get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metric(self, line_prefix):
        """The value of the first metrics line that starts with `line_prefix`."""
        _, text = self.admin_get("/metrics")
        for line in text.splitlines():
            if line.startswith(line_prefix):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"no metrics line starts with {line_prefix!r}:\n{text}")

    def counter(self, name, **labels):
        """The value of the series `name` whose labels include `labels`. The failure table's label
        sets are rendered from the start, so a series that is missing is an error, not a 0."""
        _, text = self.admin_get("/metrics")
        values = []
        for line in text.splitlines():
            series, _, value = line.rpartition(" ")
            metric, _, label_text = series.partition("{")
            if metric != name:
                continue
            have = dict(LABEL.findall(label_text))
            if all(have.get(k) == str(v) for k, v in labels.items()):
                values.append(float(value))
        assert len(values) == 1, f"{len(values)} series {name}{labels} in /metrics:\n{text}"
        return values[0]

    @contextlib.contextmanager
    def counts(self, name, by=1, at_least=False, **labels):
        """Asserts that what runs inside the block adds `by` (or, with at_least, `by` or more) to
        the series `name`{labels}, e.g. `with gw.counts("tether_request_errors_total",
        reason="forbidden"):`."""
        before = self.counter(name, **labels)
        yield
        self.wait_count(name, before, by, at_least, **labels)

    def wait_count(self, name, before, by=1, at_least=False, **labels):
        """Waits until the series `name`{labels} went from `before` up by `by` (at_least: by `by`
        or more), and asserts it. Counters are bumped as the gateway finishes a handshake or a
        request, which may be just after the client saw the answer: the wait is bounded."""
        deadline = time.monotonic() + COUNT_TIMEOUT
        while True:
            now = self.counter(name, **labels)
            if now - before >= by or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if at_least:
            assert now - before >= by, f"{name}{labels} went from {before} to {now}, not up by {by}+"
        else:
            assert now - before == by, f"{name}{labels} went from {before} to {now}, not up by {by}"
