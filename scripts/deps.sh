# Sourced by scripts/run, scripts/test and scripts/fuzz: installs the Debian packages tether needs
# to build and test, only when one is missing (a fresh Debian 12 machine, as root).

TETHER_APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format
  libssl-dev openssl libsqlite3-dev sqlite3 libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev libboost1.81-dev
  libtomlplusplus-dev libcli11-dev libarchive-dev libargon2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-cryptography python3-pytest
  faketime gnutls-bin procps
  curl mosquitto mosquitto-clients python3-websockets
)

tether_install_deps() {
  local missing=()
  for pkg in "${TETHER_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "== installing missing packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: packages missing (${missing[*]}) and not running as root: install them with apt-get" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# nginx: the gateway benchmark's reference and upstream, and the path-decoding upstream of the
# gateway's target tests. Its package would start a system nginx on port 80; a policy-rc.d that
# refuses service starts keeps it stopped while it installs (unless the machine already has one).
tether_install_nginx() {
  dpkg-query -W -f='${Status}' nginx 2>/dev/null | grep -q "install ok installed" && return 0
  echo "== installing nginx"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: nginx is missing and not running as root: apt-get install nginx" >&2
    return 1
  fi
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx; } || rc=$?
  if [ "$made_policy" -eq 1 ]; then rm -f "$policy"; fi
  return "$rc"
}
