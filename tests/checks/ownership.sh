#!/bin/sh
# Ownership of C library handles lives in the handles headers (x509/handles.h for OpenSSL, and
# one *_handles.h per other C library): fails, naming file and line, on
#   - a *_free function named anywhere else (called, or taken as a deleter);
#   - a raw new or delete in a file that keeps objects in OpenSSL ex_data (SslExData owns those).
set -eu
root="$1"
cd "$root"
sources=$(find src tests fuzz bench -path '*/fixtures' -prune -o \( -name '*.cc' -o -name '*.h' \) \
  ! -name handles.h ! -name '*_handles.h' -print 2>/dev/null | sort)
status=0
frees=$(grep -nE '\b[A-Za-z0-9]+_[A-Za-z0-9_]*free\b' $sources | grep -vE '^[^:]+:[0-9]+:\s*//' |
  grep -E '\b[A-Za-z0-9_]+_free\b' || true)
if [ -n "$frees" ]; then
  echo "a *_free outside the handles headers (give the type a handle there):" >&2
  echo "$frees" >&2
  status=1
fi
for f in $(grep -lE '_set_ex_data\(' $sources || true); do
  raw=$(grep -nE '(^|[^A-Za-z0-9_])(new|delete)[[:space:]]+[A-Za-z_(]' "$f" |
    grep -vE '^[0-9]+:\s*//' || true)
  if [ -n "$raw" ]; then
    echo "$f keeps ex_data and uses raw new/delete (use x509::SslExData):" >&2
    echo "$raw" >&2
    status=1
  fi
done
# The checks must see something to refuse: the handles header itself has frees.
grep -q 'X509_free' src/x509/handles.h || { echo "check is blind: no X509_free in handles.h" >&2; exit 1; }
[ "$status" -eq 0 ] && echo "ownership: no *_free outside the handles headers; no raw new/delete beside ex_data"
exit "$status"
