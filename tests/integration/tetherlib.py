"""Shared helpers for integration tests: run the real tether binary against a fresh data dir.

Tests get the binary from $TETHER_BIN (set by CTest). Every helper has a bounded timeout and
raises with what did not happen.
"""
import hashlib
import os
import pathlib
import subprocess

TETHER = os.environ.get("TETHER_BIN", str(pathlib.Path(__file__).resolve().parents[2] / "build/debug/src/tether"))
TOOLS_DIR = os.environ.get("TETHER_TOOLS_DIR", str(pathlib.Path(TETHER).resolve().parents[1] / "tests"))
PASSPHRASE = "integration-test-passphrase"
COMMAND_TIMEOUT = 120


def run(args, check=False, env=None, timeout=COMMAND_TIMEOUT, input=None, cwd=None):
    """Runs a command; returns CompletedProcess with text stdout/stderr."""
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout, input=input, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args!r} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


def run_bytes(args, timeout=COMMAND_TIMEOUT, input=None):
    return subprocess.run(args, capture_output=True, timeout=timeout, input=input)


class Tether:
    """A tether data directory with an initialised CA, and a way to run commands against it."""

    def __init__(self, root: pathlib.Path, key_type="ecdsa-p256", passphrase=PASSPHRASE, init=True):
        self.root = pathlib.Path(root)
        self.data = self.root / "data"
        self.passfile = self.root / "passphrase"
        self.passfile.write_text(passphrase + "\n")
        if init:
            self.check("ca", "init", "--key-type", key_type, "--passphrase-file", str(self.passfile))

    def run(self, *args, passphrase=True, env=None):
        argv = [TETHER, *args]
        # Only subcommands that sign accept --passphrase-file; the caller says which.
        if passphrase and self._signs(args):
            argv += ["--passphrase-file", str(self.passfile)]
        argv += ["--data", str(self.data)] if self._takes_data(args) else []
        return run(argv, env=env)

    def check(self, *args, **kw):
        proc = self.run(*args, **kw)
        if proc.returncode != 0:
            raise AssertionError(f"tether {' '.join(args)} exited {proc.returncode}\n"
                                 f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    @staticmethod
    def _signs(args):
        a = list(args)
        return (a[:2] in (["ca", "init"], ["connector", "create"], ["connector", "renew"]) or a[:1] == ["crl"]) \
            and "--passphrase-file" not in a and "--insecure-no-passphrase" not in a

    @staticmethod
    def _takes_data(args):
        return list(args)[:1] != ["cert"] and "--data" not in args

    # Convenience wrappers
    def tenant(self, tenant_id):
        return self.check("tenant", "create", tenant_id)

    def connector(self, tenant, cid, out=None, *extra):
        out = out or self.root / f"bundle-{tenant}-{cid}"
        self.check("connector", "create", "--tenant", tenant, "--id", cid, "--out", str(out), *extra)
        return pathlib.Path(out)

    @property
    def db(self):
        return self.data / "tether.db"

    @property
    def root_pem(self):
        return self.data / "ca" / "root.pem"

    @property
    def issuing_pem(self):
        return self.data / "ca" / "issuing.pem"

    @property
    def issuing_key(self):
        return self.data / "ca" / "issuing-key.pem"

    def store_digest(self):
        """SHA-256 over every file of the store (db and any WAL/SHM left behind)."""
        h = hashlib.sha256()
        for p in sorted(self.data.glob("tether.db*")):
            h.update(p.name.encode())
            h.update(p.read_bytes())
        return h.hexdigest()


def serial_hex(number):
    """A serial as tether prints it: lowercase hex with an even number of digits."""
    digits = format(number, "x")
    return digits if len(digits) % 2 == 0 else "0" + digits


# What `tether` exits with for a reason token: 2 for input refused as given, 1 for an operation
# that failed or a certificate rejected on its merits (src/cli/exit_code.cc).
USAGE_REASONS = {"invalid_argument", "invalid_id", "parse_error", "not_pem", "unexpected_pem_block",
                 "private_key_present", "passphrase_required", "bad_csr_signature",
                 "csr_identity_mismatch", "store_unsupported"}


def exit_code_for(reason):
    return 2 if reason in USAGE_REASONS else 1


def split_pem(text):
    """Returns the PEM blocks in text, each with its BEGIN/END lines."""
    blocks, cur = [], []
    for line in text.splitlines():
        if line.startswith("-----BEGIN"):
            cur = [line]
        elif line.startswith("-----END"):
            cur.append(line)
            blocks.append("\n".join(cur) + "\n")
            cur = []
        elif cur:
            cur.append(line)
    return blocks
