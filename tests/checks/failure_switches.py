"""A `switch` over a failure code (Errc, HandshakeReason, TlsAlert) has no `default:`, so that
-Wswitch (an error under -Werror) names every code a new row of the failure table leaves unmapped.

A switch is over a failure code when one of its own case labels names one (`case Errc::...`);
labels of switches nested in it belong to those. Comments and string literals are ignored.

Usage: failure_switches.py [--expect N] PATH...   (directories are searched for *.cc and *.h)
Exits 0 when exactly N such switches have a default (0 unless given), listing each as file:line.
"""
import argparse
import pathlib
import re
import sys

FAILURE_CASE = re.compile(r"\bcase\s+(?:::)?(?:tether::)?(?:Errc|HandshakeReason|TlsAlert)::")
DEFAULT = re.compile(r"\bdefault\s*:")
SWITCH = re.compile(r"\bswitch\s*\(")
COMMENT_OR_STRING = re.compile(r'//[^\n]*|/\*.*?\*/|R"(?P<d>[^(\s]*)\(.*?\)(?P=d)"|"(?:\\.|[^"\\\n])*"'
                               r"|'(?:\\.|[^'\\\n])*'", re.S)


def blank(match):
    return re.sub(r"[^\n]", " ", match.group(0))


def closing(text, start, open_char, close_char):
    """Index just past the bracket matching the one at `start`."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_char:
            depth += 1
        elif text[i] == close_char:
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def switches(text):
    """(start, body_start, body_end) of every switch statement."""
    for m in SWITCH.finditer(text):
        after_condition = closing(text, m.end() - 1, "(", ")")
        body = text.find("{", after_condition)
        if body < 0:
            continue
        yield m.start(), body, closing(text, body, "{", "}")


def violations(path):
    text = COMMENT_OR_STRING.sub(blank, path.read_text(errors="replace"))
    found = list(switches(text))
    out = []
    for start, body, end in found:
        own = list(text[body:end])
        for _, inner_body, inner_end in found:  # nested switches' labels are theirs
            if body < inner_body < end:
                own[inner_body - body:inner_end - body] = " " * (inner_end - inner_body)
        own = "".join(own)
        if FAILURE_CASE.search(own) and DEFAULT.search(own):
            out.append(f"{path}:{text.count(chr(10), 0, start) + 1}: a switch over a failure code "
                       "has a default: list every code, so -Wswitch catches a new one")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("paths", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    files = []
    for p in args.paths:
        files += sorted(q for q in p.rglob("*") if q.suffix in (".cc", ".h")) if p.is_dir() else [p]
    found = [v for f in files for v in violations(f)]
    for v in found:
        print(v)
    print(f"{len(found)} switch(es) over failure codes with a default in {len(files)} file(s); "
          f"expected {args.expect}")
    return 0 if len(found) == args.expect else 1


if __name__ == "__main__":
    sys.exit(main())
