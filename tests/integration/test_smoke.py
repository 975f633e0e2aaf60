"""The happy path end to end: CA, tenant, connector bundle, verify, CRL."""
import json
import stat

from tetherlib import Tether, run, split_pem


def test_connector_bundle_verifies_with_openssl(tmp_path):
    t = Tether(tmp_path)
    t.tenant("acme")
    bundle = t.connector("acme", "edge-1")
    certs = bundle / "certs"
    chain = split_pem((certs / "connector.pem").read_text())
    assert len(chain) == 2, "connector.pem holds the leaf then the intermediate"
    (tmp_path / "intermediate.pem").write_text(chain[1])
    proc = run(["openssl", "verify", "-CAfile", str(certs / "ca.pem"), "-untrusted",
                str(tmp_path / "intermediate.pem"), "-purpose", "sslclient", str(certs / "connector.pem")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert stat.S_IMODE((certs / "connector-key.pem").stat().st_mode) == 0o600

    proc = t.check("cert", "verify", "--trust", str(certs / "ca.pem"), str(certs / "connector.pem"))
    assert proc.stdout.startswith("ok: connector/acme/edge-1")

    listing = json.loads(t.check("connector", "list", "--json").stdout)
    assert [(c["tenant"], c["id"], c["status"]) for c in listing] == [("acme", "edge-1", "active")]
