#!/bin/sh
# Fails, naming what it found, if the connector-side shared object needs SQLite or libarchive:
# as a library it depends on (DT_NEEDED) or as a symbol it calls.
set -eu
lib="$1"
[ -f "$lib" ] || { echo "no such library: $lib" >&2; exit 1; }
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
symbols=$(nm -D "$lib" | awk '{print $NF}')
echo "$needed" | grep -q 'libssl' || { echo "check is blind: $lib does not need libssl" >&2; exit 1; }
echo "$symbols" | grep -q '^SSL_do_handshake' || { echo "check is blind: no SSL_do_handshake in $lib" >&2; exit 1; }
bad_libs=$(echo "$needed" | grep -E 'libsqlite3|libarchive' || true)
bad_symbols=$(echo "$symbols" | grep -E '^(sqlite3_|archive_)' || true)
if [ -n "$bad_libs" ] || [ -n "$bad_symbols" ]; then
  echo "the connector-side libraries reach the store or libarchive:" >&2
  [ -n "$bad_libs" ] && echo "  needs: $bad_libs" >&2
  [ -n "$bad_symbols" ] && echo "  symbols: $(echo "$bad_symbols" | head -5 | tr '\n' ' ')" >&2
  exit 1
fi
echo "connector-side libraries: $(echo "$needed" | tr '\n' ' ')— no SQLite, no libarchive"
