"""Test PKI shared by the TLS integration tests: a throwaway server CA, connector bundles as the
tests use them, and running a program with a shifted clock."""
import datetime
import glob
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tetherlib import PASSPHRASE, serial_hex, split_pem


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def write_key(path, key):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(path, 0o600)


def make_server_pki(d, ca_common_name, dns_names=("localhost",)):
    """A throwaway CA and a server certificate for `dns_names` and 127.0.0.1, unrelated to tether:
    server-ca.pem, server.pem, server-key.pem in `d` (made if missing)."""
    d.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.utcnow()
    ca_key, key = ec_key(), ec_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_common_name)])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([*(x509.DNSName(n) for n in dns_names),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "server-ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (d / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    write_key(d / "server-key.pem", key)
    return d


class Bundle:
    """A connector bundle's files, plus its intermediate split out for `s_client -cert_chain`."""

    def __init__(self, certs_dir):
        self.certs = certs_dir
        self.chain = certs_dir / "connector.pem"
        self.key = certs_dir / "connector-key.pem"
        self.ca = certs_dir / "ca.pem"
        blocks = split_pem(self.chain.read_text())
        assert len(blocks) == 2, "connector.pem holds the leaf then the intermediate"
        self.intermediate = certs_dir.parent / "intermediate.pem"
        self.intermediate.write_text(blocks[1])
        # The leaf alone, as `openssl s_client -cert` sends a certificate file with one block.
        self.leaf = certs_dir.parent / "leaf.pem"
        self.leaf.write_text(blocks[0])

    @property
    def serial_hex(self):
        return serial_hex(x509.load_pem_x509_certificate(self.chain.read_bytes()).serial_number)


def make_bundle(t, tenant, cid, *extra):
    return Bundle(t.connector(tenant, cid, t.root / f"bundle-{cid}", *extra) / "certs")


def faketime_env(offset):
    """Environment that runs a program `offset` ahead (e.g. "+2d"), as `faketime -f` does. The
    faketime wrapper forks and waits, so killing it by PID would orphan the program; preloading
    libfaketime directly keeps the PID we hold the PID of the program itself. An ASan-built
    program must be told it is not first in the library list."""
    libs = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    assert libs, "libfaketime.so.1 not found: install the faketime package"
    env = dict(os.environ)
    env.update(LD_PRELOAD=libs[0], FAKETIME=offset, FAKETIME_DONT_RESET="1",
               ASAN_OPTIONS=env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
    return env


def issue_with_tether_key(tether, tmp_path, cn, eku, uri, extra_sans=()):
    """A leaf signed by the real issuing CA key, with the given CN / EKU / URI SAN (and any
    further subjectAltName entries)."""
    issuing = x509.load_pem_x509_certificate(tether.issuing_pem.read_bytes())
    ca_key = serialization.load_pem_private_key(tether.issuing_key.read_bytes(), PASSPHRASE.encode())
    key = ec_key()
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(issuing.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing.public_key()), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri), *extra_sans]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    certs = tmp_path / "bundle" / "certs"
    certs.mkdir(parents=True)
    (certs / "connector.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM) + tether.issuing_pem.read_bytes())
    write_key(certs / "connector-key.pem", key)
    (certs / "ca.pem").write_bytes(tether.root_pem.read_bytes())
    return Bundle(certs)
