"""`tether cert check-chain`: the rules an uploaded trust set must meet (each followed by its issuer, issuer DN equal to the next subject, every signature verifying, CA:true on issuers).

PEM only, no private keys, only CERTIFICATE blocks, each certificate followed by its issuer
(issuer DN equal to the next subject), each signature verifying with the next certificate's key,
every issuer CA:true. A rejection exits 1 and prints one line `<reason>: <sentence>` naming the
first certificate (1-based, with its subject) or PEM block that breaks a rule.

The certificates are generated in this file with python `cryptography` (see ChainPki).
"""
import datetime
import json
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tetherlib import TETHER, exit_code_for

TIMEOUT = 60
DAY = datetime.timedelta(days=1)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tether check-chain"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _subject(cn):
    """The subject as tether prints it (x509::subject_string)."""
    return f"CN={cn},O=tether check-chain"


class ChainPki:
    """root (RSA) -> inter (P-256) -> leaf, plus the odd certificates the cases need."""

    def __init__(self):
        self.now = datetime.datetime.utcnow().replace(microsecond=0)
        self.root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.inter_key = ec.generate_private_key(ec.SECP256R1())
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        self.other_key = ec.generate_private_key(ec.SECP256R1())
        self.pem = {}
        self.root = self._cert("root", "root", self.root_key, self.root_key, ca=True)
        self.inter = self._cert("inter", "root", self.inter_key, self.root_key, ca=True)
        self.leaf = self._cert("leaf", "inter", self.leaf_key, self.inter_key, ca=False)
        self.other_root = self._cert("other root", "other root", self.other_key, self.other_key,
                                     ca=True)
        # Issued by a certificate that is not a CA.
        self.not_a_ca = self._cert("not a ca", "root", self.other_key, self.root_key, ca=False)
        self.under_not_a_ca = self._cert("under not a ca", "not a ca", self.leaf_key,
                                         self.other_key, ca=False)
        # Issuer DN says "inter", but signed with another key.
        self.forged_leaf = self._cert("forged leaf", "inter", self.leaf_key, self.other_key,
                                      ca=False)
        # A "root" whose self-signature was made with another key.
        self.broken_root = self._cert("broken root", "broken root", self.root_key, self.other_key,
                                      ca=True)
        csr = (x509.CertificateSigningRequestBuilder().subject_name(_name("csr"))
               .sign(self.leaf_key, hashes.SHA256()))
        self.pem["csr"] = csr.public_bytes(serialization.Encoding.PEM).decode()
        self.pem["pkcs8-key"] = self.leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        self.pem["ec-key"] = self.leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()).decode()
        self.pem["rsa-key"] = self.root_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()).decode()
        self.pem["encrypted-key"] = self.leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret")).decode()

    def _cert(self, cn, issuer_cn, key, signer, ca):
        pub = key.public_key()
        b = (x509.CertificateBuilder()
             .subject_name(_name(cn))
             .issuer_name(_name(issuer_cn))
             .public_key(pub)
             .serial_number(x509.random_serial_number())
             .not_valid_before(self.now - DAY)
             .not_valid_after(self.now + 365 * DAY)
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False))
        if not ca:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                critical=False)
        cert = b.sign(signer, hashes.SHA256())
        self.pem[cn] = cert.public_bytes(serialization.Encoding.PEM).decode()
        return cert

    def chain(self, *names):
        return "".join(self.pem[n] for n in names)


@pytest.fixture(scope="module")
def pki():
    return ChainPki()


def check_chain(path, *extra):
    return subprocess.run([TETHER, "cert", "check-chain", *extra, str(path)], capture_output=True,
                          text=True, timeout=TIMEOUT)


def write(tmp_path, content, name="chain.pem"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def rejected(proc):
    """(reason, sentence) of a rejection; asserts exactly one line on stdout and the exit code its
    reason calls for (1 for a chain rejected on its merits, 2 for a file that is not a chain)."""
    out = f"rc={proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, out
    reason, sep, sentence = lines[0].partition(": ")
    assert sep, out
    assert proc.returncode == exit_code_for(reason), out
    return reason, sentence


# --- accepted ---------------------------------------------------------------------------------

@pytest.mark.parametrize("names", [
    ("leaf", "inter", "root"),
    ("inter", "root"),
    ("leaf", "inter"),  # a chain may end at an intermediate: the gateway pins what it is given
    ("root",),
], ids=["three_certs_to_root", "two_certs_to_root", "two_certs_ending_at_intermediate",
        "root_alone"])
def test_valid_chain_is_accepted_and_listed(pki, tmp_path, names):
    proc = check_chain(write(tmp_path, pki.chain(*names)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"ok: {len(names)} certificate(s), each followed by its issuer"
    assert lines[1:] == [f"  {i}. {_subject(n)}" for i, n in enumerate(names, start=1)]


def test_valid_chain_json_lists_subjects(pki, tmp_path):
    proc = check_chain(write(tmp_path, pki.chain("leaf", "inter", "root")), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == {
        "result": "ok", "certificates": [_subject("leaf"), _subject("inter"), _subject("root")]}


def test_crlf_line_endings_are_accepted(pki, tmp_path):
    proc = check_chain(write(tmp_path, pki.chain("leaf", "inter", "root").replace("\n", "\r\n")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok: 3 certificate(s)")


# --- order ------------------------------------------------------------------------------------

@pytest.mark.parametrize("names,index,cn,issuer_cn,next_cn", [
    (("inter", "leaf"), 1, "inter", "root", "leaf"),
    (("root", "inter", "leaf"), 1, "root", "root", "inter"),
    (("leaf", "root", "inter"), 1, "leaf", "inter", "root"),
    (("inter", "root", "leaf"), 2, "root", "root", "leaf"),
    (("leaf", "inter", "other root"), 2, "inter", "root", "other root"),
], ids=["issuer_before_leaf", "root_first", "root_before_intermediate", "leaf_last",
        "wrong_root_last"])
def test_wrong_order_is_issuer_mismatch(pki, tmp_path, names, index, cn, issuer_cn, next_cn):
    reason, sentence = rejected(check_chain(write(tmp_path, pki.chain(*names))))
    assert reason == "issuer_mismatch", sentence
    assert sentence.startswith(
        f"certificate {index} ({_subject(cn)}) names issuer '{_subject(issuer_cn)}' but the next "
        f"certificate's subject is '{_subject(next_cn)}'"), sentence


# --- CA and signature rules -------------------------------------------------------------------

def test_non_ca_issuer_is_not_a_ca(pki, tmp_path):
    reason, sentence = rejected(
        check_chain(write(tmp_path, pki.chain("under not a ca", "not a ca", "root"))))
    assert reason == "not_a_ca", sentence
    # The issuer (certificate 2) is the one at fault, not the certificate it issued.
    assert sentence.startswith(f"certificate 2 ({_subject('not a ca')}) issues the certificate "
                               "before it but is not a CA"), sentence


def test_bad_signature_with_matching_dn(pki, tmp_path):
    reason, sentence = rejected(
        check_chain(write(tmp_path, pki.chain("forged leaf", "inter", "root"))))
    assert reason == "bad_signature", sentence
    assert sentence == (f"certificate 1 ({_subject('forged leaf')}): signature does not verify "
                        f"with the key of certificate 2 ({_subject('inter')})"), sentence


def test_self_signed_last_certificate_with_bad_signature(pki, tmp_path):
    reason, sentence = rejected(check_chain(write(tmp_path, pki.chain("broken root"))))
    assert reason == "bad_signature", sentence
    assert sentence.startswith(f"certificate 1 ({_subject('broken root')}) is self-issued"), \
        sentence


# --- file format ------------------------------------------------------------------------------

def test_der_file_is_not_pem(pki, tmp_path):
    der = pki.leaf.public_bytes(serialization.Encoding.DER)
    reason, sentence = rejected(check_chain(write(tmp_path, der, "chain.der")))
    assert reason == "not_pem", sentence
    assert "openssl x509 -inform der" in sentence, sentence


@pytest.mark.parametrize("key", ["pkcs8-key", "ec-key", "rsa-key", "encrypted-key"])
def test_private_key_is_refused(pki, tmp_path, key):
    reason, sentence = rejected(check_chain(write(tmp_path, pki.chain("leaf", "inter", key))))
    assert reason == "private_key_present", sentence
    assert "treat that key as exposed" in sentence, sentence


def test_private_key_alone_is_refused(pki, tmp_path):
    reason, sentence = rejected(check_chain(write(tmp_path, pki.pem["pkcs8-key"])))
    assert reason == "private_key_present", sentence


@pytest.mark.parametrize("names,block,label", [
    (("leaf", "csr", "inter"), 2, "CERTIFICATE REQUEST"),
    (("csr",), 1, "CERTIFICATE REQUEST"),
], ids=["csr_between_certificates", "csr_alone"])
def test_non_certificate_block_is_unexpected(pki, tmp_path, names, block, label):
    reason, sentence = rejected(check_chain(write(tmp_path, pki.chain(*names))))
    assert reason == "unexpected_pem_block", sentence
    assert sentence == (f"PEM block {block} is '{label}': the chain file may hold only "
                        "CERTIFICATE blocks"), sentence


def test_public_key_block_is_unexpected(pki, tmp_path):
    pub = pki.leaf_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    reason, sentence = rejected(check_chain(write(tmp_path, pki.chain("leaf") + pub)))
    assert reason == "unexpected_pem_block", sentence
    assert sentence.startswith("PEM block 2 is 'PUBLIC KEY'"), sentence


def test_corrupt_base64_is_parse_error(pki, tmp_path):
    lines = pki.pem["inter"].splitlines()
    lines[3] = "!!!!" + lines[3][4:]  # not base64 at all
    text = pki.pem["leaf"] + "\n".join(lines) + "\n"
    reason, sentence = rejected(check_chain(write(tmp_path, text)))
    assert reason == "parse_error", sentence
    assert sentence.startswith("PEM block 2 is malformed"), sentence


def test_base64_of_garbage_is_parse_error(pki, tmp_path):
    # Valid base64 whose bytes are not a certificate.
    garbage = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n" \
              "-----END CERTIFICATE-----\n"
    reason, sentence = rejected(check_chain(write(tmp_path, pki.chain("leaf") + garbage)))
    assert reason == "parse_error", sentence
    assert sentence.startswith("certificate 2 cannot be parsed"), sentence


def test_missing_end_line_is_parse_error(pki, tmp_path):
    text = pki.chain("leaf") + pki.pem["inter"].replace("-----END CERTIFICATE-----\n", "")
    reason, sentence = rejected(check_chain(write(tmp_path, text)))
    assert reason == "parse_error", sentence
    assert sentence.startswith("PEM block 2 is malformed"), sentence


@pytest.mark.parametrize("content", [b"", b"\n", b" \r\n\t\n"], ids=["empty", "newline", "blank"])
def test_empty_file_is_parse_error(tmp_path, content):
    reason, sentence = rejected(check_chain(write(tmp_path, content)))
    assert reason == "parse_error", sentence
    assert sentence == "the chain file is empty", sentence


def test_rejection_json(pki, tmp_path):
    proc = check_chain(write(tmp_path, pki.chain("inter", "leaf")), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["result"] == "rejected"
    assert doc["reason"] == "issuer_mismatch"
    assert doc["message"].startswith(f"certificate 1 ({_subject('inter')})")


def test_missing_file_is_an_io_failure(tmp_path):
    proc = check_chain(tmp_path / "nope.pem")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.endswith("[io_error]\n"), proc.stderr
    assert proc.stdout == ""
