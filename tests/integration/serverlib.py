"""Starting a real `tether server` for tests: ports 0, readiness from its server_ready log line,
stopped by its PID. Every wait is bounded and says what it waited for."""
import json
import os
import re
import subprocess
import time

from tetherlib import TETHER

READY_TIMEOUT = 60


class Server:
    def __init__(self, tmp_path, config_text=None):
        self.dir = tmp_path
        self.data = tmp_path / "data"
        self.config = tmp_path / "server.toml"
        self.config.write_text(config_text or "[api]\nport = 0\n[listener]\nport = 0\n")
        self.out = open(tmp_path / "server.out", "w+")
        self.err = open(tmp_path / "server.err", "w+")
        self.proc = subprocess.Popen(
            [TETHER, "server", "--data", str(self.data), "--config", str(self.config)],
            stdout=self.out, stderr=self.err, env=dict(os.environ))
        ready = self.wait_for_log("server_ready")
        self.api_port = ready["api_port"]
        self.gateway_port = ready["gateway_port"]
        self.api = f"https://localhost:{self.api_port}"
        self.gateway = f"https://localhost:{self.gateway_port}"
        banner = (tmp_path / "server.err").read_text()
        found = re.search(r"one-time password (\S+)", banner)
        self.one_time_password = found.group(1) if found else None
        self.ca = self.data / "ca.pem"
        self.admin_cert = self.data / "admin" / "operator.pem"
        self.admin_key = self.data / "admin" / "operator-key.pem"

    def log_lines(self):
        self.out.flush()
        lines = []
        for line in (self.dir / "server.out").read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
        return lines

    def wait_for_log(self, event, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_lines():
                if line.get("event") == event:
                    return line
            if self.proc.poll() is not None:
                raise AssertionError(f"tether server exited ({self.proc.returncode}) before "
                                     f"'{event}': {(self.dir / 'server.err').read_text()}")
            time.sleep(0.05)
        raise AssertionError(f"no '{event}' log line within {timeout}s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.out.close()
        self.err.close()

    def curl(self, method, path, body=None, admin=True, extra=(), base=None, output=None):
        """Returns (status, headers text, body bytes)."""
        args = ["curl", "-sS", "--max-time", "30", "--cacert", str(self.ca), "-X", method,
                "-D", "-", "-o", str(output or (self.dir / "curl.body"))]
        if admin:
            args += ["--cert", str(self.admin_cert), "--key", str(self.admin_key)]
        if body is not None:
            args += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
        args += list(extra)
        args.append((base or self.api) + path)
        done = subprocess.run(args, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        head = done.stdout.decode("latin-1")
        status = int(head.split()[1])
        data = (output or (self.dir / "curl.body")).read_bytes()
        return status, head, data
