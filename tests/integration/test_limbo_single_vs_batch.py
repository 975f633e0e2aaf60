"""`tether cert verify` on one certificate and `tether cert verify --limbo` give the same answer.

A sample of the x509-limbo suite (every case outside the large bettertls family, and every
50th bettertls case) is run both ways: the batch mode over a suite file holding just the
sample, and the single-certificate command once per case with each field of the case written
to files and flags. Result and reason (`<reason>: <sentence>`) must be identical.
"""
import gzip
import json
import pathlib

import pytest

from tetherlib import TETHER, run

SUITE = pathlib.Path(__file__).resolve().parents[1] / "conformance" / "limbo.json.gz"
BETTERTLS_STRIDE = 50


def sample_cases():
    with gzip.open(SUITE) as f:
        cases = json.load(f)["testcases"]
    bettertls = [c for c in cases if c["id"].startswith("bettertls::")]
    others = [c for c in cases if not c["id"].startswith("bettertls::")]
    return others + bettertls[::BETTERTLS_STRIDE]


def single_command(case, d: pathlib.Path):
    """The `tether cert verify` argv for one case, with its certificates written under d."""
    def write(name, pems):
        path = d / name
        path.write_text("".join(pems))
        return str(path)

    argv = [TETHER, "cert", "verify", "--trust", write("trusted.pem", case["trusted_certs"])]
    if case["untrusted_intermediates"]:
        argv += ["--untrusted", write("untrusted.pem", case["untrusted_intermediates"])]
    argv += ["--purpose", {"SERVER": "server", "CLIENT": "client"}[case["validation_kind"]]]
    if case["validation_time"]:
        argv += ["--at", case["validation_time"]]
    names = ([case["expected_peer_name"]] if case["expected_peer_name"] else []) + \
        (case["expected_peer_names"] or [])
    for name in names:
        argv += ["--name", name["value"]]
    for eku in case["extended_key_usage"] or []:
        argv += ["--eku", eku]
    for ku in case["key_usage"] or []:
        argv += ["--key-usage", ku]
    if case["max_chain_depth"] is not None:
        argv += ["--max-depth", str(case["max_chain_depth"])]
    for i, crl in enumerate(case["crls"] or []):
        argv += ["--crl", write(f"crl{i}.pem", [crl])]
    if case["crls"]:
        argv += ["--crl-check-all"]
    return argv + [write("leaf.pem", [case["peer_certificate"]])]


@pytest.fixture(scope="module")
def sample_and_batch(tmp_path_factory):
    cases = sample_cases()
    d = tmp_path_factory.mktemp("limbo")
    suite = d / "sample.json"  # plain JSON: the batch mode reads .gz and plain alike
    suite.write_text(json.dumps({"version": 1, "testcases": cases}))
    proc = run([TETHER, "cert", "verify", "--limbo", str(suite)], timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = {r["id"]: r for r in json.loads(proc.stdout)["results"]}
    assert len(results) == len(cases)
    return cases, results


def test_sample_covers_every_family_and_both_outcomes(sample_and_batch):
    cases, results = sample_and_batch
    families = {c["id"].split("::")[0] for c in cases}
    assert {"bettertls", "crl", "cve", "pathlen", "pathological", "rfc5280", "webpki"} <= families
    outcomes = {r["actual_result"] for r in results.values()}
    assert outcomes == {"SUCCESS", "FAILURE"}, outcomes


def test_single_certificate_command_agrees_with_batch(sample_and_batch, tmp_path):
    cases, results = sample_and_batch
    differences = []
    for i, case in enumerate(cases):
        d = tmp_path / str(i)
        d.mkdir()
        argv = single_command(case, d)
        proc = run(argv)
        assert proc.returncode in (0, 1), f"{case['id']}: exit {proc.returncode}: {proc.stderr}"
        single = "SUCCESS" if proc.returncode == 0 else "FAILURE"
        batch = results[case["id"]]
        if single != batch["actual_result"]:
            differences.append(f"{case['id']}: single {single} ({proc.stdout.strip()}), "
                               f"batch {batch['actual_result']} ({batch['context']})")
        elif single == "FAILURE" and proc.stdout.strip() != batch["context"]:
            differences.append(f"{case['id']}: single says '{proc.stdout.strip()}', "
                               f"batch says '{batch['context']}'")
    assert not differences, "\n".join(differences)
