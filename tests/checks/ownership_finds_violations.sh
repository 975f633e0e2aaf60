#!/bin/sh
# tests/checks/ownership.sh refuses each kind of violation, naming the file: run on a fixture
# tree that has one of each, it must fail and name both.
set -u
here=$(dirname "$0")
out=$(sh "$here/ownership.sh" "$here/fixtures/ownership" 2>&1)
status=$?
[ "$status" -ne 0 ] || { echo "ownership.sh passed a tree with violations:"; echo "$out"; exit 1; }
echo "$out" | grep -q 'src/raw_free.cc:3:.*BIO_free' || { echo "BIO_free not named:"; echo "$out"; exit 1; }
echo "$out" | grep -q 'src/raw_ex_data.cc keeps ex_data and uses raw new/delete' ||
  { echo "raw new beside ex_data not named:"; echo "$out"; exit 1; }
echo "$out" | grep -qF 'x509/handles.h' && { echo "the handles header was flagged:"; echo "$out"; exit 1; }
echo "ownership.sh names both violations"
