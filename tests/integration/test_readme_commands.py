"""The commands in README.md's "What works today" block run as printed.

Each `tether ...` line is run in order in a fresh directory, with its optional `[...]` parts
left out, the literal placeholders DIR (the data directory) and F (the passphrase file) as
files of those names, and the files the commands read (edge-2.csr, ca.pem, leaf.pem,
uploaded-chain.pem) made first. `--limbo` is left out: the conformance test runs the suite.
"""
import os
import pathlib
import re
import shlex

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tetherlib import PASSPHRASE, TETHER, run

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def readme_commands():
    text = README.read_text()
    block = text.split("## What works today", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    block = block.replace("\\\n", " ")
    commands = []
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if not line.startswith("tether "):
            continue
        while re.search(r"\[[^\[\]]*\]", line):
            line = re.sub(r"\s*\[[^\[\]]*\]", "", line)
        commands.append(shlex.split(line))
    return commands


def make_inputs(cwd: pathlib.Path):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "connector/acme/edge-2")])).sign(key, hashes.SHA256())
    (cwd / "edge-2.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))


def files_from_bundle(cwd: pathlib.Path):
    """What `cert verify` and `check-chain` read, from the bundle made just before."""
    chain = (cwd / "bundle/certs/connector.pem").read_text()
    root = (cwd / "bundle/certs/ca.pem").read_text()
    (cwd / "ca.pem").write_text(root)
    # The leaf followed by its intermediate, as connector.pem holds them.
    (cwd / "leaf.pem").write_text(chain)
    (cwd / "uploaded-chain.pem").write_text(chain + root)


def test_readme_commands_run_as_printed(tmp_path):
    commands = readme_commands()
    assert len(commands) >= 15, commands
    (tmp_path / "F").write_text(PASSPHRASE + "\n")
    (tmp_path / "F").chmod(0o600)
    make_inputs(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env.update(TETHER_DATA="DIR", TETHER_CA_PASSPHRASE_FILE="F")
    ran = 0
    for argv in commands:
        if "--limbo" in argv:
            continue
        if argv[1:3] == ["cert", "verify"] or argv[1:3] == ["cert", "check-chain"]:
            files_from_bundle(tmp_path)
        proc = run([TETHER, *argv[1:]], env=env, cwd=tmp_path)
        assert proc.returncode == 0, f"{shlex.join(argv)} exited {proc.returncode}\n{proc.stdout}{proc.stderr}"
        ran += 1
    assert (tmp_path / "bundle/certs/connector-key.pem").exists()
    assert (tmp_path / "bundle2/certs/connector.pem").exists()
    assert not (tmp_path / "bundle2/certs/connector-key.pem").exists(), "CSR mode: the key stays with you"
    assert (tmp_path / "crl.pem").exists()
    assert ran == len(commands) - 1
