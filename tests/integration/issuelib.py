"""A running issuance tool (tests/tools/issue_loop, queue_issue_loop) whose stdout is read line
by line with a deadline. Each tool prints "issued <serial>" once that issuance is committed;
the crash tests kill it and check that every reported serial is in the store."""
import os
import select
import signal
import subprocess
import time

import pytest

EXIT_DEADLINE_SECONDS = 30


class IssueLoop:
    def __init__(self, tool, args, stderr_path, report_deadline):
        assert tool.exists(), f"{tool} was not built (tests/tools/{tool.name}.cc)"
        self.name = tool.name
        self.report_deadline = report_deadline
        self.stderr_path = stderr_path
        self._stderr = open(stderr_path, "wb")
        self.proc = subprocess.Popen([str(tool), *args], stdout=subprocess.PIPE,
                                     stderr=self._stderr)
        self._buf = b""
        self.serials = []

    def stderr(self):
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def _read_some(self, timeout):
        """Reads what is available within timeout; returns False at end of stream."""
        ready, _, _ = select.select([self.proc.stdout], [], [], max(timeout, 0))
        if not ready:
            return True
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        for line in lines:
            word, _, serial = line.decode().partition(" ")
            assert word == "issued" and serial, f"unexpected {self.name} output {line!r}"
            self.serials.append(serial)
        return True

    def wait_for_reports(self, n):
        deadline = time.monotonic() + self.report_deadline
        while len(self.serials) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                self.terminate()
                pytest.fail(f"{self.name} reported {len(self.serials)} of {n} issuances within "
                            f"{self.report_deadline}s\nstderr: {self.stderr()}")
            if not self._read_some(min(left, 1.0)):
                self.proc.wait(timeout=EXIT_DEADLINE_SECONDS)
                pytest.fail(f"{self.name} ended (exit {self.proc.returncode}) after reporting "
                            f"{len(self.serials)} of {n} issuances\nstderr: {self.stderr()}")

    def kill(self):
        """SIGKILL, then collect every line it had already written (those are committed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=EXIT_DEADLINE_SECONDS)
        deadline = time.monotonic() + EXIT_DEADLINE_SECONDS
        while self._read_some(deadline - time.monotonic()):
            assert time.monotonic() < deadline, f"{self.name}'s stdout did not close after it died"
        assert self._buf == b"", f"partial line {self._buf!r}: lines are written whole"
        self.close()

    def run_to_end(self):
        deadline = time.monotonic() + self.report_deadline
        while self._read_some(deadline - time.monotonic()):
            if time.monotonic() >= deadline:
                self.terminate()
                pytest.fail(f"{self.name} did not finish within {self.report_deadline}s")
        rc = self.proc.wait(timeout=EXIT_DEADLINE_SECONDS)
        self.close()
        assert rc == 0, f"{self.name} exited {rc}\nstderr: {self.stderr()}"

    def terminate(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=EXIT_DEADLINE_SECONDS)

    def close(self):
        if not self.proc.stdout.closed:
            self.proc.stdout.close()
        self._stderr.close()


@pytest.fixture
def loops():
    """Every loop a test starts is killed at the end, whatever happened."""
    started = []
    yield started
    for loop in started:
        loop.terminate()
        loop.close()
