"""`tether server` end to end: its API over HTTPS with real curl and openssl, its gateway's
whoami route with a bundle the API made, revocation into the CRL, and the credential rules."""
import json
import subprocess
import tarfile
import time

import pytest

from serverlib import Server


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    yield s
    s.stop()


def create_connector(server, tenant, connector, fmt="tar.gz"):
    status, _, _ = server.curl("POST", "/v1/tenants", {"id": tenant})
    assert status in (201, 409)
    out = server.dir / f"{tenant}-{connector}.{fmt}"
    status, head, data = server.curl("POST", f"/v1/tenants/{tenant}/connectors?format={fmt}",
                                     {"id": connector}, output=out)
    assert status == 201, data
    return out, head


def test_first_start_prints_password_and_makes_the_operator_files(server):
    assert server.one_time_password and len(server.one_time_password) >= 16
    assert (server.data / "admin" / "operator-key.pem").stat().st_mode & 0o077 == 0
    assert (server.data / "server" / "server-key.pem").stat().st_mode & 0o077 == 0
    # The API's certificate verifies against ca.pem for the name localhost (curl checks it too).
    status, head, body = server.curl("GET", "/v1/openapi.json", admin=False)
    assert status == 200
    assert json.loads(body)["openapi"].startswith("3.1")
    for header in ("strict-transport-security", "content-security-policy",
                   "x-content-type-options: nosniff", "referrer-policy"):
        assert header in head.lower(), head


def test_bundle_from_the_api_reaches_whoami_through_the_gateway(server):
    archive, head = create_connector(server, "demo", "edge-1")
    assert "application/gzip" in head
    with tarfile.open(archive) as tar:
        tar.extractall(server.dir)
    certs = server.dir / "demo-edge-1" / "certs"
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(certs / "ca.pem"),
                             "-untrusted", str(certs / "connector.pem"), str(certs / "connector.pem")],
                            capture_output=True, text=True, timeout=30)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    done = subprocess.run(["curl", "-sS", "--max-time", "30", "--cacert", str(certs / "ca.pem"),
                           "--cert", str(certs / "connector.pem"), "--key",
                           str(certs / "connector-key.pem"), server.gateway + "/whoami"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["identity"] == "connector/demo/edge-1"
    assert answer["tenant"] == "demo"


def test_no_credential_is_401_problem_details(server):
    status, head, body = server.curl("GET", "/v1/tenants", admin=False)
    assert status == 401
    assert "application/problem+json" in head
    problem = json.loads(body)
    assert problem["reason"] == "unauthenticated" and problem["status"] == 401


def test_invalid_id_is_400_naming_the_field(server):
    status, _, body = server.curl("POST", "/v1/tenants", {"id": "Not_Valid"})
    assert status == 400
    problem = json.loads(body)
    assert problem["reason"] == "invalid_id" and problem["field"] == "body.id"


def test_body_that_is_not_json_is_415(server):
    status, _, body = server.curl("POST", "/v1/tenants", extra=["-H", "Content-Type: text/plain",
                                                                "--data-binary", "id=x"])
    assert status == 415
    assert json.loads(body)["reason"] == "unsupported_media_type"


def test_oversized_upload_is_413(server):
    big = server.dir / "big.json"
    big.write_text(json.dumps({"id": "t", "name": "x" * (2 << 20)}))
    status, _, body = server.curl("POST", "/v1/tenants", extra=[
        "-H", "Content-Type: application/json", "--data-binary", f"@{big}"])
    assert status == 413
    assert json.loads(body)["reason"] == "body_too_large"


def test_revoked_certificate_is_in_the_crl_within_one_second(server):
    archive, head = create_connector(server, "acme", "edge-9", fmt="json")
    serial = json.loads(archive.read_bytes())["connector"]["certificates"][0]["serial"]
    started = time.monotonic()
    status, _, body = server.curl("POST", "/v1/tenants/acme/connectors/edge-9/revoke",
                                  {"reason": "keyCompromise"})
    assert status == 200, body
    crl = server.dir / "crl.der"
    status, _, _ = server.curl("GET", "/crl", admin=False, output=crl)
    elapsed = time.monotonic() - started
    assert status == 200
    text = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", str(crl), "-noout", "-text"],
                          capture_output=True, text=True, timeout=30)
    assert text.returncode == 0, text.stderr
    assert serial.upper().lstrip("0") in text.stdout.upper().replace(":", ""), text.stdout
    assert "Key Compromise" in text.stdout
    assert elapsed < 1.0, f"revoke and CRL fetch took {elapsed:.2f}s"


def test_one_time_password_session_must_change_it_and_send_csrf(server):
    jar = server.dir / "cookies"
    login = ["-c", str(jar)]
    status, _, body = server.curl("POST", "/v1/login",
                                  {"user": "admin", "password": server.one_time_password},
                                  admin=False, extra=login)
    assert status == 200, body
    csrf = json.loads(body)["csrf_token"]
    status, _, body = server.curl("GET", "/v1/tenants", admin=False, extra=["-b", str(jar)])
    assert status == 403 and json.loads(body)["reason"] == "password_change_required"
    change = {"current_password": server.one_time_password, "new_password": "a-new-long-passphrase"}
    status, _, body = server.curl("POST", "/v1/password", change, admin=False,
                                  extra=["-b", str(jar)])
    assert status == 403 and json.loads(body)["reason"] == "csrf_token_missing"
    status, _, body = server.curl("POST", "/v1/password", change, admin=False,
                                  extra=["-b", str(jar), "-H", f"X-CSRF-Token: {csrf}"])
    assert status == 204, body
    status, _, body = server.curl("GET", "/v1/tenants", admin=False, extra=["-b", str(jar)])
    assert status == 200, body


def test_wrong_password_ten_times_locks_out_with_429(server):
    for _ in range(10):
        status, _, _ = server.curl("POST", "/v1/login", {"user": "admin", "password": "wrong"},
                                   admin=False)
        assert status == 401
    status, head, body = server.curl("POST", "/v1/login",
                                     {"user": "admin", "password": server.one_time_password},
                                     admin=False)
    assert status == 429
    assert json.loads(body)["reason"] == "too_many_attempts"
    assert "retry-after" in head.lower()


def test_csr_claiming_another_identity_is_400_naming_the_csr(server):
    server.curl("POST", "/v1/tenants", {"id": "acme"})
    key = server.dir / "k.pem"
    csr = server.dir / "r.pem"
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", "/CN=connector\\/globex\\/edge-1"], check=True, capture_output=True,
                   timeout=30)
    status, _, body = server.curl("POST", "/v1/tenants/acme/connectors",
                                  {"id": "edge-1", "csr": csr.read_text()})
    assert status == 400, body
    problem = json.loads(body)
    assert problem["reason"] == "csr_identity_mismatch" and problem["field"] == "body.csr"


def test_malformed_pem_is_400_naming_the_csr(server):
    server.curl("POST", "/v1/tenants", {"id": "acme"})
    status, _, body = server.curl("POST", "/v1/tenants/acme/connectors",
                                  {"id": "edge-1", "csr": "-----BEGIN CERTIFICATE REQUEST-----\nnope"})
    assert status == 400, body
    assert json.loads(body)["field"] == "body.csr"


def test_shipped_example_config_starts_the_server(tmp_path):
    import pathlib
    example = (pathlib.Path(__file__).resolve().parents[2] / "deploy/server.example.toml").read_text()
    example = example.replace("port = 8444", "port = 0").replace("port = 8443", "port = 0")
    s = Server(tmp_path, example)
    try:
        assert s.api_port and s.gateway_port
    finally:
        s.stop()


def unpack(server, archive):
    with tarfile.open(archive) as tar:
        tar.extractall(server.dir)
    return server.dir / archive.name.replace(".tar.gz", "") / "certs"


def renew_self(server, certs, cn="connector\\/acme\\/edge-3"):
    key = server.dir / "new-key.pem"
    csr = server.dir / "new.csr"
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", f"/CN={cn}"], check=True, capture_output=True, timeout=30)
    out = server.dir / "renewed.pem"
    done = subprocess.run(["curl", "-sS", "--max-time", "30", "--cacert", str(server.ca),
                           "--cert", str(certs / "connector.pem"), "--key",
                           str(certs / "connector-key.pem"), "-H",
                           "Content-Type: application/pkcs10", "--data-binary", f"@{csr}",
                           "-o", str(out), "-w", "%{http_code}", server.api + "/v1/renew"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout), out


def test_connector_renews_itself_over_mtls_and_openssl_verifies_the_chain(server):
    certs = unpack(server, create_connector(server, "acme", "edge-3")[0])
    status, out = renew_self(server, certs)
    assert status == 200, out.read_text()
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(server.ca), "-untrusted",
                             str(out), "-purpose", "sslclient", str(out)],
                            capture_output=True, text=True, timeout=30)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    subject = subprocess.run(["openssl", "x509", "-in", str(out), "-noout", "-subject"],
                             capture_output=True, text=True, timeout=30).stdout
    assert "connector/acme/edge-3" in subject
    status, _, body = server.curl("GET", "/v1/audit?action=connector.renew")
    assert status == 200
    assert any(e["actor"] == "connector:acme/edge-3" for e in json.loads(body)["items"]), body


def test_revoked_connector_cannot_renew_itself(server):
    certs = unpack(server, create_connector(server, "acme", "edge-4")[0])
    status, _, _ = server.curl("POST", "/v1/tenants/acme/connectors/edge-4/revoke", {})
    assert status == 200
    status, out = renew_self(server, certs, cn="connector\\/acme\\/edge-4")
    assert status == 403
    problem = json.loads(out.read_text())
    assert problem["reason"] == "forbidden" and "revoked" in problem["detail"]


def test_tenant_admin_token_sees_nothing_of_another_tenant(server):
    create_connector(server, "acme", "edge-1")
    create_connector(server, "globex", "secret-box")
    status, _, body = server.curl("POST", "/v1/tokens",
                                  {"name": "acme-ci", "role": "tenant-admin", "tenant": "acme"})
    assert status == 201, body
    token = json.loads(body)["token"]
    bearer = ["-H", f"Authorization: Bearer {token}"]
    status, _, body = server.curl("GET", "/v1/tenants/globex/connectors", admin=False, extra=bearer)
    assert status == 403
    assert json.loads(body)["reason"] == "forbidden"
    status, _, body = server.curl("GET", "/v1/tenants/globex/connectors/secret-box", admin=False,
                                  extra=bearer)
    assert status == 403
    seen = []
    for path in ("/v1/tenants", "/v1/connectors", "/v1/audit?limit=1000",
                 "/v1/tenants/acme/connectors"):
        status, _, body = server.curl("GET", path, admin=False, extra=bearer)
        assert status == 200, (path, body)
        seen.append(body)
    for body in seen:
        assert b"globex" not in body and b"secret-box" not in body, body
    assert b"edge-1" in seen[1]
