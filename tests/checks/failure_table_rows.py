"""A row added to the failure table (src/common/failures.def) without all four of its columns, or
with columns that break the table's rules, must not compile.

Each case copies the table, adds one row, and compiles the files that generate and check the
mappings (common/error.cc, common/handshake_reason.cc) against the copy: the control rows must
compile, every other case must fail with the compiler naming what is wrong.

Usage: failure_table_rows.py CXX SRC_DIR WORK_DIR
"""
import pathlib
import re
import subprocess
import sys

CASES = [
    # (what, row, expected compiler message: None = must compile)
    ("the table as it is", None, None),
    ("a complete new request failure", "TETHER_REQUEST_FAILURE(added_code, 418, none, none)", None),
    ("a row without its alert column", "TETHER_FAILURE(added_code, 400, none)",
     r"requires 4 arguments, but only 3 given|too few arguments provided to function-like macro"),
    ("a row with only its code", "TETHER_FAILURE(added_code)",
     r"requires 4 arguments, but only 1 given|too few arguments provided to function-like macro"),
    ("an empty handshake_reason column", "TETHER_FAILURE(added_code, 400, , none)", r"\breason_\b"),
    ("an empty tls_alert column", "TETHER_FAILURE(added_code, 400, none, )", r"\balert_\b"),
    ("an empty http_status column", "TETHER_FAILURE(added_code, , none, none)", r"checked_http_status"),
    ("an HTTP status outside 100..599", "TETHER_FAILURE(added_code, 42, none, none)",
     r"http_status_must_be_within_100_and_599"),
    ("a handshake reason without its alert", "TETHER_FAILURE(added_code, 422, expired, none)",
     r"added_code: tls_alert must be the alert of its handshake_reason"),
    ("an alert that is not its reason's", "TETHER_FAILURE(added_code, 422, expired, unknown_ca)",
     r"added_code: tls_alert must be the alert of its handshake_reason"),
    ("an unknown alert name", "TETHER_FAILURE(added_code, 422, expired, certificate_expird)",
     r"alert_certificate_expird"),
    ("an unknown handshake reason", "TETHER_FAILURE(added_code, 422, io_error, bad_certificate)",
     r"reason_io_error"),
    ("a failure answered 2xx", "TETHER_FAILURE(added_code, 204, none, none)",
     r"added_code: ok is answered 2xx, every failure 4xx or 5xx"),
    ("a request failure with a handshake reason",
     "TETHER_REQUEST_FAILURE(added_code, 400, expired, certificate_expired)",
     r"added_code: a request failure comes after the handshake"),
]


def table_with(original, row):
    if row is None:
        return original
    lines = original.splitlines(keepends=True)
    first_undef = next(i for i, line in enumerate(lines) if line.startswith("#undef"))
    return "".join(lines[:first_undef] + [row + "\n"] + lines[first_undef:])


def compile_against(cxx, src, work):
    out = []
    for unit in ("common/error.cc", "common/handshake_reason.cc"):
        proc = subprocess.run([cxx, "-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Werror",
                               f"-I{work}", f"-I{src}", str(src / unit)],
                              capture_output=True, text=True, timeout=120)
        out.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            return False, "".join(out)
    return True, "".join(out)


def main():
    cxx, src, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    original = (src / "common/failures.def").read_text()
    (work / "common").mkdir(parents=True, exist_ok=True)
    failures = []
    for what, row, expected in CASES:
        (work / "common/failures.def").write_text(table_with(original, row))
        compiled, output = compile_against(cxx, src, work)
        if expected is None and not compiled:
            failures.append(f"{what}: {row!r} should compile, but:\n{output[-3000:]}")
        elif expected is not None and compiled:
            failures.append(f"{what}: {row!r} compiled; it must not")
        elif expected is not None and not re.search(expected, output):
            failures.append(f"{what}: {row!r} failed, but without /{expected}/:\n{output[-3000:]}")
        else:
            print(f"ok: {what}")
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
