"""Real upstream peers for the gateway integration tests (no mocks).

- EchoHttpServer: threaded HTTP/1.1 keep-alive server that answers every request with a JSON
  description of it (method, path, headers in order, body length, the id of the TCP connection).
- WebSocketEchoServer / websocket_echo_roundtrip: an echo server and a client, both built on
  Debian's python3-websockets (10.4: asyncio API, no websockets.sync).
- Mosquitto / mqtt_sub / mqtt_pub: a real mosquitto broker and the real mosquitto_sub/_pub clients.
- SlowlorisClients: many connections (optionally TLS) that trickle header bytes from one thread.

Every server binds 127.0.0.1 and reports the port it got; every wait is bounded and raises with
what did not happen; everything started here is stopped by its handle or PID.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import http.server
import json
import os
import pathlib
import pwd
import resource
import selectors
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse

START_TIMEOUT = 20   # a server reporting it is ready
STOP_TIMEOUT = 10    # a server / thread / process ending after being told to
MAX_SLOW_MS = 30000
MAX_BYTES = 64 * 1024 * 1024


def _wait_for(predicate, timeout, what, interval=0.02):
    """Polls predicate until it returns true; raises AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --- HTTP echo -------------------------------------------------------------------------------

class _EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tether-test-echo/1"
    # A connection idle this long is closed by the server (keeps stop() and leaks bounded).
    timeout = 120

    def setup(self):
        super().setup()
        self.connection_id = self.server._register_connection(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server._unregister_connection(self.connection)

    def log_message(self, format, *args):  # quiet
        pass

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            body = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("EOF in chunked body")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline(65537)  # CRLF after the chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        body = self._read_body()
        header_lines = [[name, value] for name, value in self.headers.items()]
        headers = {}
        for name, value in header_lines:
            headers.setdefault(name, []).append(value)
        description = {
            "method": self.command,
            "path": self.path,
            "http_version": self.request_version,
            "headers": headers,
            "header_lines": header_lines,
            "body_len": len(body),
            "connection_id": self.connection_id,
        }
        self.server._record(dict(description, body=body))

        url = urllib.parse.urlsplit(self.path)
        status, payload, ctype = 200, None, "application/json"
        if url.path == "/slow":
            ms = int(urllib.parse.parse_qs(url.query).get("ms", ["0"])[0])
            ms = max(0, min(ms, MAX_SLOW_MS))
            if self.server._stopping.wait(ms / 1000.0):
                self.close_connection = True
                return
        elif url.path.startswith("/status/"):
            try:
                status = int(url.path[len("/status/"):])
            except ValueError:
                status = 0
            if not 200 <= status <= 599:
                status = 400
        elif url.path.startswith("/bytes/"):
            try:
                n = int(url.path[len("/bytes/"):])
            except ValueError:
                n = -1
            if 0 <= n <= MAX_BYTES:
                pattern = b"0123456789abcdef"
                payload = (pattern * (n // len(pattern) + 1))[:n]
                ctype = "application/octet-stream"
            else:
                status = 400
        elif url.path.startswith("/chunked/") or url.path.startswith("/until-close/"):
            # A body the upstream frames itself: chunked, or delimited by closing the connection.
            chunked = url.path.startswith("/chunked/")
            n = int(url.path.rsplit("/", 1)[1] or 0)
            pattern = b"0123456789abcdef"
            body = (pattern * (n // len(pattern) + 1))[:min(n, MAX_BYTES)]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command == "HEAD":
                return
            for off in range(0, len(body), 50000):
                piece = body[off:off + 50000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            return
        if payload is None:
            payload = json.dumps(description).encode()

        self.send_response(status)
        if status in (204, 304):
            self.end_headers()
            return
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            view = memoryview(payload)
            for off in range(0, len(view), 65536):
                self.wfile.write(view[off:off + 65536])

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True

    def __getattr__(self, name):
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; answer every method the same way.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class _EchoServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() joins the handler threads itself, with a bound
    allow_reuse_address = True

    def __init__(self):
        self._lock = threading.Lock()
        self._open = {}          # socket -> thread
        self._next_id = 0
        self._stopping = threading.Event()
        self.requests = []
        super().__init__(("127.0.0.1", 0), _EchoHandler)

    def _register_connection(self, sock):
        with self._lock:
            self._next_id += 1
            self._open[sock] = threading.current_thread()
            return self._next_id

    def _unregister_connection(self, sock):
        with self._lock:
            self._open.pop(sock, None)

    def _record(self, entry):
        with self._lock:
            self.requests.append(entry)


class EchoHttpServer:
    """HTTP/1.1 keep-alive echo server on 127.0.0.1:<ephemeral>.

    Any method/path -> 200 application/json {"method", "path", "http_version", "headers":
    {name: [values]}, "header_lines": [[name, value], ...], "body_len", "connection_id"}.
    /slow?ms=N sleeps N ms (<= 30000) first; /status/NNN answers NNN; /bytes/N answers N bytes.
    """

    def __init__(self):
        self._server = None
        self._thread = None
        self._stopped = False

    def start(self):
        self._server = _EchoServer()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="echo-http", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list:
        """Every request so far, in order: the response description plus "body" (bytes)."""
        with self._server._lock:
            return list(self._server.requests)

    @property
    def connections_accepted(self) -> int:
        with self._server._lock:
            return self._server._next_id

    @property
    def connections_open(self) -> int:
        with self._server._lock:
            return len(self._server._open)

    def wait_for_requests(self, n, timeout=START_TIMEOUT):
        _wait_for(lambda: len(self.requests) >= n, timeout, f"echo server to have received {n} requests "
                  f"(has {len(self.requests)})")
        return self.requests

    def stop(self):
        if self._server is None or self._stopped:
            return
        server, self._stopped = self._server, True
        server._stopping.set()
        server.shutdown()          # serve_forever returns (bounded by poll_interval)
        self._thread.join(STOP_TIMEOUT)
        server.socket.close()
        with server._lock:
            conns = dict(server._open)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for thread in conns.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in conns.values() if t.is_alive()]
        if alive:
            raise AssertionError(f"echo server handler threads did not end within {STOP_TIMEOUT}s: {alive}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- WebSocket echo --------------------------------------------------------------------------

def _websockets():
    try:
        import websockets  # Debian python3-websockets (10.4 on Debian 12)
        import websockets.exceptions
    except ImportError as e:  # pragma: no cover
        raise AssertionError("python3-websockets is not installed (scripts/deps.sh installs it)") from e
    return websockets


@dataclasses.dataclass
class WebSocketHandshake:
    path: str
    header_lines: list  # [(name, value), ...] as received, in order

    def get_all(self, name):
        return [v for k, v in self.header_lines if k.lower() == name.lower()]

    def get(self, name, default=None):
        values = self.get_all(name)
        return values[0] if values else default


class WebSocketEchoServer:
    """WebSocket echo server on 127.0.0.1:<ephemeral> (ws, or wss with ssl_context), run by
    websockets' asyncio server in a background thread with its own event loop. Echoes every text
    and binary message; records every handshake's path and request headers (`handshakes`)."""

    def __init__(self, ssl_context=None):
        self._ssl = ssl_context
        self._loop = None
        self._thread = None
        self._server = None
        self._ready = threading.Event()
        self._error = None
        self._lock = threading.Lock()
        self._handshakes = []
        self._messages = 0
        self.port = None

    @property
    def url(self) -> str:
        return f"{'wss' if self._ssl else 'ws'}://127.0.0.1:{self.port}"

    @property
    def handshakes(self) -> list:
        with self._lock:
            return list(self._handshakes)

    @property
    def messages_echoed(self) -> int:
        with self._lock:
            return self._messages

    async def _process_request(self, path, request_headers):
        with self._lock:
            self._handshakes.append(WebSocketHandshake(path, list(request_headers.raw_items())))
        return None  # continue the handshake

    async def _echo(self, ws, path=None):
        websockets = _websockets()
        try:
            async for message in ws:
                await ws.send(message)
                with self._lock:
                    self._messages += 1
        except websockets.exceptions.ConnectionClosed:
            pass

    def _run(self):
        websockets = _websockets()
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(websockets.serve(
                self._echo, "127.0.0.1", 0, ssl=self._ssl, process_request=self._process_request,
                max_size=16 * 1024 * 1024, close_timeout=2))
            self.port = self._server.sockets[0].getsockname()[1]
        except Exception as e:  # reported by start()
            self._error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def start(self):
        self._thread = threading.Thread(target=self._run, name="ws-echo", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise AssertionError(f"WebSocket echo server did not start listening within {START_TIMEOUT}s")
        if self._error is not None:
            raise AssertionError(f"WebSocket echo server failed to start: {self._error!r}")
        return self

    def stop(self):
        if self._loop is None or self._server is None or not self._thread.is_alive():
            return

        async def shutdown():
            self._server.close()  # also closes open connections (close code 1001)
            await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(STOP_TIMEOUT)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(STOP_TIMEOUT)
        if self._thread.is_alive():
            raise AssertionError(f"WebSocket echo server thread did not end within {STOP_TIMEOUT}s")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def websocket_echo_roundtrip(target, ssl_context=None, server_hostname=None, messages=("hello",),
                             extra_headers=None, timeout=30, path="/", connect_to=None):
    """Connects to `target` ("ws://h:p/path", "wss://h:p/path", "h:p" or (host, port); a bare
    host:port means wss when ssl_context is given, else ws), sends every message (str -> text
    frame, bytes -> binary frame) and returns the replies in order. `server_hostname` sets TLS SNI
    and certificate name checking; extra_headers is a dict or list of (name, value); connect_to,
    a (host, port), is where the TCP connection goes when the URL names a host that does not
    resolve (the URL's host is still sent as Host). Raises
    AssertionError if the whole exchange does not finish within `timeout` seconds."""
    websockets = _websockets()
    if isinstance(target, tuple):
        target = f"{target[0]}:{target[1]}"
    if "://" not in target:
        target = f"{'wss' if ssl_context is not None else 'ws'}://{target}{path}"
    kwargs = {"open_timeout": timeout, "close_timeout": 5, "max_size": 16 * 1024 * 1024}
    if target.startswith("wss://"):
        kwargs["ssl"] = ssl_context if ssl_context is not None else ssl.create_default_context()
        if server_hostname is not None:
            kwargs["server_hostname"] = server_hostname
    if connect_to is not None:
        kwargs["host"], kwargs["port"] = connect_to
    if extra_headers:
        kwargs["extra_headers"] = list(extra_headers.items()) if isinstance(extra_headers, dict) else list(extra_headers)

    async def exchange():
        replies = []
        async with websockets.connect(target, **kwargs) as ws:
            for message in messages:
                await ws.send(message)
                replies.append(await ws.recv())
        return replies

    async def bounded():
        try:
            return await asyncio.wait_for(exchange(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"WebSocket echo roundtrip with {target} did not finish within {timeout}s") from None

    return asyncio.run(bounded())


# --- MQTT: mosquitto broker and clients ------------------------------------------------------

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
# mosquitto_sub's -d lines go to stdout, block-buffered into a pipe; stdbuf (coreutils) makes it
# line-buffered and execs the program, so the PID we hold is mosquitto_sub's own.
STDBUF = shutil.which("stdbuf") or "/usr/bin/stdbuf"


def free_port() -> int:
    """A port the kernel just handed out for 127.0.0.1 (for programs that cannot bind port 0;
    the caller retries if someone else takes it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _LineReader:
    """Reads a pipe's lines in a background thread; wait_for(substring) is bounded."""

    def __init__(self, pipe, name):
        self._pipe = pipe
        self._cond = threading.Condition()
        self.lines = []
        self.eof = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self):
        for raw in iter(self._pipe.readline, b""):
            with self._cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\r\n"))
                self._cond.notify_all()
        with self._cond:
            self.eof = True
            self._cond.notify_all()

    def text(self):
        with self._cond:
            return "\n".join(self.lines)

    def wait_for(self, substrings, timeout):
        """Returns the first line holding any of `substrings`, or None at EOF / timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if any(s in line for s in substrings):
                        return line
                remaining = deadline - time.monotonic()
                if self.eof or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def join(self, timeout):
        self._thread.join(timeout)


def _stop_process(proc, timeout=STOP_TIMEOUT):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


class Mosquitto:
    """A real mosquitto broker on 127.0.0.1:<free port> (plain MQTT, anonymous allowed, no
    persistence, log to stdout). mosquitto cannot bind port 0, so a free port is picked and
    the start retried when the broker fails to bind it."""

    ATTEMPTS = 5

    def __init__(self, workdir=None, extra_config=""):
        self._own_dir = workdir is None
        self.dir = pathlib.Path(workdir or tempfile.mkdtemp(prefix="tether-mosquitto-"))
        self._extra = extra_config
        self.proc = None
        self.port = None
        self._log = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def log(self) -> str:
        return self._log.text() if self._log else ""

    def _config(self, port):
        lines = [
            f"listener {port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "log_dest stderr",  # unbuffered; stdout to a pipe is block-buffered
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "log_type subscribe", "log_type unsubscribe",
            "connection_messages true",
        ]
        if os.geteuid() == 0:
            # Started as root, mosquitto 2.x drops privileges to user "mosquitto" (and warns);
            # keep running as the user who started it so it can read the files tests hand it.
            lines.insert(0, f"user {pwd.getpwuid(os.geteuid()).pw_name}")
        return "\n".join(lines) + "\n" + self._extra

    def start(self):
        if not os.path.exists(MOSQUITTO):
            raise AssertionError("mosquitto not found: install the mosquitto package (scripts/deps.sh)")
        failures = []
        for attempt in range(self.ATTEMPTS):
            port = free_port()
            conf = self.dir / "mosquitto.conf"
            conf.write_text(self._config(port))
            proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log = _LineReader(proc.stdout, "mosquitto-log")
            line = log.wait_for([" running", "Error"], START_TIMEOUT)
            if line is not None and " running" in line and proc.poll() is None:
                self.proc, self.port, self._log = proc, port, log
                try:
                    _wait_for(lambda: self._can_connect(), START_TIMEOUT,
                              f"a TCP connect to mosquitto on 127.0.0.1:{port} to succeed")
                except AssertionError:
                    self.stop()
                    raise
                return self
            _stop_process(proc)
            log.join(STOP_TIMEOUT)
            proc.stdout.close()
            failures.append(f"attempt {attempt + 1} on port {port}:\n{log.text()}")
            if line is None and "Address already in use" not in log.text():
                break  # not a port race: no point retrying
        raise AssertionError(f"mosquitto did not report 'running' within {START_TIMEOUT}s:\n" + "\n".join(failures))

    def _can_connect(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self):
        if self.proc is not None:
            _stop_process(self.proc)
            self._log.join(STOP_TIMEOUT)
            self.proc.stdout.close()
            self.proc = None
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


_MSG_MARK = "TETHERMQTTMSG "  # -F prefix of each received message (payload in hex) on its own line


@dataclasses.dataclass
class MqttSubResult:
    messages: list      # payloads decoded as UTF-8 (invalid bytes replaced)
    payloads: list      # raw payload bytes
    returncode: int     # 0 after `count` messages; 27 when -W timed out; else CONNACK code / error
    output: str         # mosquitto_sub's stdout (debug lines) and stderr


class MqttSubscription:
    """A running mosquitto_sub. wait_subscribed() waits for the broker's SUBACK; result() waits
    for it to exit and returns an MqttSubResult."""

    def __init__(self, argv, timeout):
        self.argv = argv
        self.timeout = timeout
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self._out = _LineReader(self.proc.stdout, "mosquitto_sub-out")

    @property
    def pid(self):
        return self.proc.pid

    def wait_subscribed(self, timeout=START_TIMEOUT):
        line = self._out.wait_for(["received SUBACK"], timeout)
        if line is None:
            if self._out.eof:  # it is exiting: report how
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    pass
            status = f"exited {self.proc.poll()}" if self.proc.poll() is not None else "still running"
            raise AssertionError(f"mosquitto_sub did not receive SUBACK ({status}; waited at most {timeout}s); "
                                 f"argv {self.argv}\noutput:\n{self._out.text()}")
        return self

    def result(self, timeout=None):
        """Waits (bounded: the -W timeout plus a margin) for mosquitto_sub to exit."""
        timeout = timeout if timeout is not None else self.timeout + STOP_TIMEOUT
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"mosquitto_sub did not exit within {timeout}s; output:\n{self._out.text()}") from None
        self.stop()  # already exited: joins the reader, closes the pipe
        payloads = [bytes.fromhex(line[len(_MSG_MARK):].strip())
                    for line in self._out.lines if line.startswith(_MSG_MARK)]
        return MqttSubResult([p.decode(errors="replace") for p in payloads], payloads, rc, self._out.text())

    def stop(self):
        _stop_process(self.proc)
        self._out.join(STOP_TIMEOUT)
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def mqtt_sub(host, port, topic, count=1, tls_args=(), timeout=30, qos=0, wait_subscribed=True,
             extra_args=()):
    """Starts `mosquitto_sub -C count -W timeout` in the background and (unless
    wait_subscribed=False) returns only once the broker acknowledged the subscription, so a
    publish after this call is delivered. tls_args (e.g. ["--cafile", ca, "--cert", crt, "--key",
    key, "--tls-version", "tlsv1.3"]) are passed through unchanged."""
    argv = [STDBUF, "-oL", MOSQUITTO_SUB, "-h", str(host), "-p", str(port), "-t", topic, "-q", str(qos),
            "-C", str(count), "-W", str(max(1, int(timeout))), "-d", "-F", _MSG_MARK + "%x",
            *map(str, tls_args), *map(str, extra_args)]
    sub = MqttSubscription(argv, timeout)
    if wait_subscribed:
        try:
            sub.wait_subscribed()
        except AssertionError:
            sub.stop()
            raise
    return sub


def mqtt_pub(host, port, topic, message, tls_args=(), qos=0, timeout=30, check=True, extra_args=()):
    """Publishes one message with mosquitto_pub; returns the CompletedProcess (text output).
    With check=True a non-zero exit raises AssertionError with the output."""
    argv = [MOSQUITTO_PUB, "-h", str(host), "-p", str(port), "-t", topic, "-q", str(qos), "-d",
            *map(str, tls_args), *map(str, extra_args)]
    argv += ["-m", message] if isinstance(message, str) else ["-s"]
    try:
        proc = subprocess.run(argv, input=None if isinstance(message, str) else message,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"mosquitto_pub did not exit within {timeout}s: {argv}") from None
    proc = subprocess.CompletedProcess(argv, proc.returncode, proc.stdout.decode(errors="replace"),
                                       proc.stderr.decode(errors="replace"))
    if check and proc.returncode != 0:
        raise AssertionError(f"mosquitto_pub exited {proc.returncode}: {argv}\n{proc.stdout}\n{proc.stderr}")
    return proc


# --- Slowloris -------------------------------------------------------------------------------

def raise_nofile_limit(needed):
    """Raises RLIMIT_NOFILE's soft limit (to the hard limit) when it is below `needed`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise AssertionError(f"RLIMIT_NOFILE hard limit {hard} is below the {needed} descriptors needed")
    return soft


class _Conn:
    __slots__ = ("index", "sock", "sent", "received", "closed_at", "close_reason")

    def __init__(self, index, sock):
        self.index, self.sock = index, sock
        self.sent = 0
        self.received = b""
        self.closed_at = None
        self.close_reason = None


class SlowlorisClients:
    """`count` connections to host:port (TLS with ssl_context / server_hostname if given), opened
    by a bounded pool of `handshake_workers` threads, then one background thread that sends one
    byte of a never-finished request head (`prefix`, then an endless header value) per connection
    every `interval` seconds and notices when the server closes a connection.

    After start(): opened, failed (list of (index, error)), open_count, closed_count, closed
    (list of (index, seconds since trickling started, reason)), bytes_sent, received(i)."""

    def __init__(self, host, port, count=500, ssl_context=None, server_hostname=None, interval=1.0,
                 handshake_workers=16, connect_timeout=15.0,
                 prefix=b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slowloris: "):
        self.host, self.port, self.count = host, port, count
        self.ssl_context, self.server_hostname = ssl_context, server_hostname
        self.interval = interval
        self.workers = handshake_workers
        self.connect_timeout = connect_timeout
        self.prefix = prefix
        self._lock = threading.Lock()
        self._conns = []
        self.failed = []
        self._stop = threading.Event()
        self._thread = None
        self._sel = None
        self.started_at = None
        self.ticks = 0

    def _open_one(self, index):
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        try:
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_hostname=self.server_hostname)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return _Conn(index, sock)

    def start(self):
        raise_nofile_limit(self.count * 2 + 256)  # our sockets plus a same-process server's
        deadline = self.connect_timeout * (self.count / self.workers + 2)
        with concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="slowloris-open") as pool:
            futures = {pool.submit(self._open_one, i): i for i in range(self.count)}
            try:
                for fut in concurrent.futures.as_completed(futures, timeout=deadline):
                    try:
                        self._conns.append(fut.result())
                    except Exception as e:
                        self.failed.append((futures[fut], repr(e)))
            except concurrent.futures.TimeoutError:
                raise AssertionError(f"opening {self.count} slowloris connections did not finish within "
                                     f"{deadline:.0f}s") from None
        self._conns.sort(key=lambda c: c.index)
        self._sel = selectors.DefaultSelector()
        for conn in self._conns:
            self._sel.register(conn.sock, selectors.EVENT_READ, conn)
        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="slowloris", daemon=True)
        self._thread.start()
        return self

    def _next_byte(self, conn):
        if conn.sent < len(self.prefix):
            return self.prefix[conn.sent:conn.sent + 1]
        return b"a"

    def _mark_closed(self, conn, reason):
        if conn.closed_at is not None:
            return
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
        with self._lock:
            conn.closed_at = time.monotonic() - self.started_at
            conn.close_reason = reason

    def _read(self, conn):
        while True:
            try:
                data = conn.sock.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                return
            except (OSError, ssl.SSLError) as e:
                self._mark_closed(conn, f"recv error: {e!r}")
                return
            if not data:
                self._mark_closed(conn, "eof")
                return
            with self._lock:
                conn.received += data

    def _send(self, conn):
        try:
            n = conn.sock.send(self._next_byte(conn))
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            return
        except (OSError, ssl.SSLError) as e:
            self._mark_closed(conn, f"send error: {e!r}")
            return
        with self._lock:
            conn.sent += n

    def _run(self):
        next_tick = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_tick:
                for conn in self._conns:
                    if conn.closed_at is None:
                        self._send(conn)
                with self._lock:
                    self.ticks += 1
                next_tick = now + self.interval
            timeout = max(0.0, min(next_tick - time.monotonic(), 0.2))
            if not self._sel.get_map():
                self._stop.wait(timeout)
                continue
            for key, _ in self._sel.select(timeout):
                self._read(key.data)

    # --- reporting
    @property
    def opened(self) -> int:
        return len(self._conns)

    @property
    def open_count(self) -> int:
        with self._lock:
            return sum(1 for c in self._conns if c.closed_at is None)

    @property
    def closed_count(self) -> int:
        return self.opened - self.open_count

    @property
    def closed(self) -> list:
        with self._lock:
            return sorted(((c.index, c.closed_at, c.close_reason) for c in self._conns if c.closed_at is not None),
                          key=lambda t: t[1])

    @property
    def bytes_sent(self) -> int:
        with self._lock:
            return sum(c.sent for c in self._conns)

    def received(self, index) -> bytes:
        """What the server sent on connection `index` (e.g. a 408 response) before closing."""
        with self._lock:
            return next(c.received for c in self._conns if c.index == index)

    def wait_ticks(self, n, timeout=None):
        timeout = timeout if timeout is not None else self.interval * (n + 2) + 5
        start = self.ticks
        _wait_for(lambda: self.ticks >= start + n, timeout, f"{n} slowloris trickle rounds")

    def wait_closed(self, n=None, timeout=60):
        """Waits until at least n (default: all opened) connections were closed by the server."""
        n = self.opened if n is None else n
        _wait_for(lambda: self.closed_count >= n, timeout,
                  f"the server to close {n} slowloris connections (closed {self.closed_count} of {self.opened})")

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            if self._thread.is_alive():
                raise AssertionError(f"slowloris thread did not end within {STOP_TIMEOUT}s")
        for conn in self._conns:
            if conn.closed_at is None:
                conn.sock.close()
        if self._sel is not None:
            self._sel.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


# --- nginx as a path-decoding file server ------------------------------------------------------

class NginxFileServer:
    """A real nginx serving `root` on 127.0.0.1, as an upstream that percent-decodes and
    normalises request paths (merge_slashes on, dot segments resolved) before it serves them.

    Its access log records, per request, the X-Test-Case header, the target as received
    ($request_uri) and the path nginx served it as ($uri: decoded and normalised): what an
    upstream really made of each forwarded target. nginx cannot bind port 0, so it takes a free
    port and retries on a collision.
    """

    def __init__(self, root, workdir, nginx=None):
        self.root = pathlib.Path(root)
        self.dir = pathlib.Path(workdir)
        self.nginx = nginx or shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = None
        self.port = None
        self.log_path = self.dir / "access.log"

    def _config(self, port):
        d = self.dir
        # As root, nginx's workers would run as nobody, who cannot read pytest's 0700 directories.
        user = "user root;" if os.geteuid() == 0 else ""
        return f"""
{user}
worker_processes 1;
error_log {d}/error.log info;
pid {d}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  log_format tsv '$http_x_test_case\\t$request_uri\\t$uri\\t$status';
  access_log {d}/access.log tsv;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {self.root};
    location / {{ }}
  }}
}}
"""

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            port = free_port()
            conf = self.dir / "nginx.conf"
            conf.write_text(self._config(port))
            self.log_path.write_text("")
            self.proc = subprocess.Popen([self.nginx, "-p", str(self.dir), "-c", str(conf),
                                          "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, text=True)

            def listening():
                if self.proc.poll() is not None:
                    return "exited"
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return "up"
                except OSError:
                    return None
            state = _wait_for(listening, START_TIMEOUT, f"nginx to listen on port {port}")
            if state == "up":
                self.port = port
                return self
            err = self.proc.stderr.read()
            if "Address already in use" not in err:
                raise AssertionError(f"nginx did not start: {err}")
        raise AssertionError("nginx found no free port in 5 tries")

    def log(self):
        """[(test_case, request_uri, uri, status)] for every request nginx answered so far."""
        rows = []
        for line in self.log_path.read_text().splitlines():
            case, request_uri, uri, status = line.split("\t")
            rows.append((case, request_uri, uri, int(status)))
        return rows

    def wait_for_case(self, case, timeout=START_TIMEOUT):
        """The log row of the request sent with X-Test-Case `case`. nginx writes it after the
        response went out, so a client may see the response first."""
        return _wait_for(lambda: next((r for r in self.log() if r[0] == case), None), timeout,
                         f"nginx's access log row for {case!r}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
