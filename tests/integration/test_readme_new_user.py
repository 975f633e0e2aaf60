"""The README's quick start, followed exactly as a new user would, with no certificate made by
openssl anywhere: the commands, gateway.toml and the curl request are read from README.md, so the
README and this test cannot drift apart.

Only what a test must change is changed: the gateway's ports become 0 (it reports the ones it
got) and the route's upstream is a local echo server's port instead of 8080.
"""
import os
import pathlib
import re
import shlex
import subprocess

import pytest

from gatewaylib import Gateway
from tetherlib import TETHER, run
from upstreams import EchoHttpServer

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"
PASSPHRASE = "a long passphrase for the CA keys"


def readme_block(marker):
    """The fenced block right after `<!-- quick-start:MARKER -->` in README.md."""
    text = README.read_text()
    found = re.search(r"<!-- quick-start:" + re.escape(marker) + r" -->\n```\w*\n(.*?)```", text, re.S)
    assert found, f"README.md has no quick-start:{marker} block"
    return found.group(1)


def shell_lines(block):
    """The block's commands, continuation lines joined."""
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def tether_argv(line):
    argv = shlex.split(line)
    assert argv[0] == "tether", line
    return [TETHER, *argv[1:]]


def new_user_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env["TETHER_CA_PASSPHRASE"] = PASSPHRASE
    return env


def gateway_config(upstream_port):
    text = readme_block("gateway.toml")
    for line in ("port = 8443", "port = 9090", 'upstream = "127.0.0.1:8080"'):
        assert line in text, f"README's gateway.toml no longer has {line!r}: update this test"
    return (text.replace("port = 8443", "port = 0").replace("port = 9090", "port = 0")
            .replace('"127.0.0.1:8080"', f'"127.0.0.1:{upstream_port}"'))


@pytest.fixture
def new_user(tmp_path, monkeypatch):
    """An empty directory, and the README's setup commands run in it."""
    monkeypatch.chdir(tmp_path)
    commands = shell_lines(readme_block("commands"))
    assert commands[0] == f"export TETHER_CA_PASSPHRASE='{PASSPHRASE}'", commands[0]
    for line in commands[1:]:
        proc = run(tether_argv(line), env=new_user_env())
        assert proc.returncode == 0, f"{line}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return tmp_path


def start_gateway(workdir, config_text):
    gw = Gateway(workdir / "gw-run", workdir / "tether-data" / "tether.db", workdir, [], "",
                 server_cert=workdir / "certs" / "gw-1.pem", server_key=workdir / "certs" / "gw-1-key.pem")
    gw.env = new_user_env()
    gw.write_config(text=config_text)
    return gw


def curl_from_readme(port):
    lines = shell_lines(readme_block("request"))
    assert lines[0] == "tether gateway --config gateway.toml &", lines[0]
    argv = shlex.split(lines[1])
    assert argv[0] == "curl" and "--cacert" in argv and "https://localhost:8443/" in argv, argv
    return [("https://localhost:%d/" % port) if a == "https://localhost:8443/" else a for a in argv]


def test_readme_quick_start_works_for_a_new_user(new_user):
    with EchoHttpServer() as upstream:
        gw = start_gateway(new_user, gateway_config(upstream.port))
        # The README starts the gateway with its config in the current directory.
        (new_user / "gateway.toml").write_text(gw.config_path.read_text())
        with gw:
            argv = curl_from_readme(gw.port) + ["--silent", "--show-error", "--write-out", "\n%{http_code}"]
            proc = run(argv)
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.rsplit("\n", 1)[1] == "200", proc.stdout
            assert upstream.requests and upstream.requests[-1]["path"] == "/", upstream.requests
            line = gw.handshake_line(0, outcome="accepted")
            assert line["identity"] == "connector/acme/edge-1", line


def test_gateway_certificate_verifies_against_the_root_alone(new_user):
    # curl above trusted certs/ca.pem only; here the same with openssl, naming the root as the
    # one anchor and the file's own second certificate (the Server CA) as the only intermediate.
    chain = (new_user / "certs" / "gw-1.pem").read_text()
    assert chain.count("BEGIN CERTIFICATE") == 2, "leaf, then its issuing CA"
    proc = run(["openssl", "verify", "-purpose", "sslserver", "-CAfile", "certs/ca.pem",
                "-untrusted", "certs/gw-1.pem", "certs/gw-1.pem"])
    assert proc.returncode == 0 and "certs/gw-1.pem: OK" in proc.stdout, proc.stdout + proc.stderr
    issuer = run(["openssl", "x509", "-noout", "-issuer", "-in", "certs/gw-1.pem"], check=True).stdout
    assert "tether Server CA" in issuer, issuer
    assert (new_user / "certs" / "ca.pem").read_text() == (new_user / "bundle" / "certs" / "ca.pem").read_text(), \
        "the connector pins the same one root"
    assert oct((new_user / "certs" / "gw-1-key.pem").stat().st_mode & 0o777) == "0o600"


def test_gateway_certificate_is_refused_as_a_client_certificate(new_user):
    with EchoHttpServer() as upstream:
        gw = start_gateway(new_user, gateway_config(upstream.port))
        with gw:
            start = gw.mark()
            proc = run(["curl", "--silent", "--show-error", "--cacert", "certs/ca.pem",
                        "--cert", "certs/gw-1.pem", "--key", "certs/gw-1-key.pem",
                        f"https://localhost:{gw.port}/"])
            assert proc.returncode != 0, proc.stdout
            assert "alert unsupported certificate" in proc.stderr, proc.stderr
            line = gw.handshake_line(start, outcome="rejected", reason="bad_purpose")
            assert line["alert"] == "unsupported_certificate", line
            assert not upstream.requests


def test_connector_certificate_is_refused_as_the_gateway_server_certificate(new_user):
    with EchoHttpServer() as upstream:
        text = gateway_config(upstream.port)
        text = (text.replace('"certs/gw-1.pem"', '"bundle/certs/connector.pem"')
                .replace('"certs/gw-1-key.pem"', '"bundle/certs/connector-key.pem"'))
        config = new_user / "connector-as-server.toml"
        config.write_text(text)
        proc = run([TETHER, "gateway", "--config", str(config)], env=new_user_env(), timeout=30)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "server certificate 'bundle/certs/connector.pem'" in proc.stderr, proc.stderr
    assert "has no serverAuth in its extendedKeyUsage" in proc.stderr, proc.stderr
    assert "[bad_purpose]" in proc.stderr, proc.stderr
    assert '"ready"' not in proc.stdout
