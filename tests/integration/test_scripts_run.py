"""scripts/run as a new user meets it: it starts the server, and the two curl commands it
prints work when copied (run here by a shell, as a user would paste them)."""
import json
import os
import pathlib
import signal
import subprocess
import time

from tetherlib import TETHER

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_printed_commands_create_a_connector_and_reach_whoami(tmp_path):
    config = tmp_path / "server.toml"
    config.write_text("[api]\nport = 0\n[listener]\nport = 0\n")
    env = dict(os.environ, TETHER_BIN=TETHER, TETHER_DATA=str(tmp_path / "data"),
               TETHER_SERVER_CONFIG=str(config))
    err = open(tmp_path / "run.err", "w+")
    proc = subprocess.Popen([str(ROOT / "scripts/run")], env=env, stdout=subprocess.DEVNULL,
                            stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        text = ""
        while time.monotonic() < deadline:
            text = (tmp_path / "run.err").read_text()
            if "/whoami" in text and "2. Call" in text:
                break
            assert proc.poll() is None, f"scripts/run exited: {text}"
            time.sleep(0.1)
        else:
            raise AssertionError(f"scripts/run printed no commands within 90s: {text}")
        assert "one-time password" in text
        commands = [line for line in text.splitlines() if line.startswith("curl ")]
        assert len(commands) == 2, text
        work = tmp_path / "user"
        work.mkdir()
        for command in commands:
            done = subprocess.run(["bash", "-c", command], cwd=work, capture_output=True,
                                  text=True, timeout=60)
            assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        assert (work / "demo-edge-1" / "certs" / "connector-key.pem").exists()
        answer = json.loads(done.stdout)
        assert answer["identity"] == "connector/demo/edge-1"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        err.close()
