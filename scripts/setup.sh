#!/usr/bin/env bash
# Installs every Debian package the project needs and builds it.
# Idempotent; run as root on Debian 12. Usage: scripts/setup.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}

packages=(
  build-essential cmake pkg-config
  libsodium-dev libnng-dev libbloom-dev libsqlite3-dev
  protobuf-c-compiler libprotobuf-c-dev libjansson-dev libidn2-dev libpsl-dev
  libcmocka-dev sqlite3
  libpq-dev postgresql-15
  python3 python3-jsonschema
  # Packaging (docs/operations.md): man pages (scdoc; man-db and groff-base
  # to check they render), Debian packages (dpkg-dev: dpkg-shlibdeps for
  # cpack), the units' check (systemd: systemd-analyze) and the install test
  # on a fresh Debian 12 root (debootstrap, wget).
  scdoc man-db groff-base dpkg-dev systemd debootstrap wget
  # The status page tests: /metrics parsed by prometheus_client, the page
  # rendered by headless Chromium.
  python3-prometheus-client chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The build the tests run in: with the PSI_TEST_* hooks some tests need
# (PSI_TEST_HOOKS; a release build leaves it off, the default).
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPSI_TEST_HOOKS=ON ${PSI_CMAKE_FLAGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)"
