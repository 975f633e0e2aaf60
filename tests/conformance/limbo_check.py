#!/usr/bin/env python3
"""Runs the x509-limbo suite through `tether cert verify --limbo` and checks the outcome.

Prints one summary line with agree / disagree / skipped by family (the family is the id's first
component, e.g. "bettertls"), and fails when:
  - agreement drops below the recorded floor (MIN_AGREE),
  - a case disagrees without an entry in limbo-divergences.txt,
  - an entry there no longer disagrees (the list must stay true),
  - a case was skipped, or one disagrees in a family where no divergence is allowed,
  - the slowest case took over 1 s (every case has to finish: some are built to exhaust
    naive path builders).

Usage: limbo_check.py TETHER_BIN SUITE [--summary FILE] [--results FILE]
"""
import argparse
import collections
import gzip
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DIVERGENCES = os.path.join(HERE, "limbo-divergences.txt")
# The recorded agreement: raise it when tether gets better, never lower it to make a run pass.
MIN_AGREE = 9760
NO_DIVERGENCE_FAMILIES = {"crl", "cve", "pathlen", "pathological"}
MAX_CASE_SECONDS = 1.0


def family(case_id):
    return case_id.split("::", 1)[0]


def load_divergences(path):
    """id -> reason, from lines "ID  # reason"; blank lines and full-line comments are skipped."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            case_id, sep, reason = line.partition("#")
            case_id, reason = case_id.strip(), reason.strip()
            if not sep or not reason:
                sys.exit(f"{path}:{n}: '{line}' has no reason: write 'ID  # why tether differs'")
            if case_id in out:
                sys.exit(f"{path}:{n}: '{case_id}' is listed twice")
            out[case_id] = reason
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tether")
    ap.add_argument("suite")
    ap.add_argument("--summary", help="also write the summary line here")
    ap.add_argument("--results", help="keep the harness JSON here")
    args = ap.parse_args()

    with gzip.open(args.suite) if args.suite.endswith(".gz") else open(args.suite, "rb") as f:
        suite = json.load(f)
    expected = {tc["id"]: tc["expected_result"] for tc in suite["testcases"]}

    run = subprocess.run([args.tether, "cert", "verify", "--limbo", args.suite],
                         capture_output=True, text=True, timeout=1200)
    if run.returncode != 0:
        sys.exit(f"tether cert verify --limbo exited {run.returncode}: {run.stderr.strip()}")
    if args.results:
        with open(args.results, "w", encoding="utf-8") as f:
            f.write(run.stdout)
    harness = json.loads(run.stdout)
    assert harness["version"] == 1 and harness["harness"].startswith("tether-"), harness.keys()
    results = {r["id"]: r for r in harness["results"]}
    missing = sorted(set(expected) - set(results))
    if missing:
        sys.exit(f"{len(missing)} cases have no result, first: {missing[0]}")

    m = re.search(r"slowest ([0-9.e-]+) s \((.*)\)", run.stderr)
    if not m:
        sys.exit(f"no 'slowest' figure in tether's summary: {run.stderr.strip()}")
    slowest, slowest_id = float(m.group(1)), m.group(2)

    divergences = load_divergences(DIVERGENCES)
    counts = collections.defaultdict(collections.Counter)
    problems = []
    for case_id, want in expected.items():
        r = results[case_id]
        got = r["actual_result"]
        fam = family(case_id)
        if got == "SKIPPED":
            counts[fam]["skipped"] += 1
            if case_id not in divergences:
                problems.append(f"{case_id}: skipped without a reason in the divergence list")
            continue
        if got == "FAILURE" and not r.get("context"):
            problems.append(f"{case_id}: FAILURE without a reason code in context")
        if got == want:
            counts[fam]["agree"] += 1
            if case_id in divergences:
                problems.append(f"{case_id}: listed as a divergence but now agrees ({got}); "
                                "remove it from limbo-divergences.txt")
            continue
        counts[fam]["disagree"] += 1
        if fam in NO_DIVERGENCE_FAMILIES:
            problems.append(f"{case_id}: disagrees ({got}, expected {want}: "
                            f"{r.get('context')}) in family '{fam}', where none is allowed")
        elif case_id not in divergences:
            problems.append(f"{case_id}: disagrees ({got}, expected {want}: "
                            f"{r.get('context')}) and is not in limbo-divergences.txt")
    for case_id in sorted(set(divergences) - set(expected)):
        problems.append(f"{case_id}: in limbo-divergences.txt but not in the suite")

    total = collections.Counter()
    for c in counts.values():
        total.update(c)
    by_family = ", ".join(
        f"{fam} {c['agree']}/{c['disagree']}/{c['skipped']}" for fam, c in sorted(counts.items()))
    line = (f"limbo: {total['agree']} agree, {total['disagree']} disagree, "
            f"{total['skipped']} skipped of {len(expected)} (by family agree/disagree/skipped: "
            f"{by_family}); slowest case {slowest * 1000:.1f} ms ({slowest_id})")
    print(line)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            f.write(line + "\n")

    if total["agree"] < MIN_AGREE:
        problems.append(f"agreement {total['agree']} is below the recorded {MIN_AGREE}")
    if slowest > MAX_CASE_SECONDS:
        problems.append(f"case {slowest_id} took {slowest:.3f} s, over {MAX_CASE_SECONDS} s")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
