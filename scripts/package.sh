#!/usr/bin/env bash
# Builds the Debian packages of psi from this tree: a release-configured
# build (no test hooks, no tests, prefix /usr, no RPATH: libpsi is in the
# system's library path) and `cpack -G DEB` (stripped).
#
#   scripts/package.sh [BUILD_DIR]     (after scripts/setup.sh; default ./build-release)
#
# Leaves in BUILD_DIR/debs and lists on stdout, one path a line:
#   psi_VERSION-1_ARCH.deb         psi, psi-hub, man pages, bash completion,
#                                  systemd units; creates the psi-hub and
#                                  psi-agent system users
#   libpsi0_VERSION-1_ARCH.deb     the shared library
#   libpsi-dev_VERSION-1_ARCH.deb  headers, libpsi.so, psi.pc
# Their dependencies on Debian's libraries come from dpkg-shlibdeps.
# Install with: apt-get install ./psi_*.deb ./libpsi0_*.deb [./libpsi-dev_*.deb]
# (docs/operations.md). PSI_CMAKE_FLAGS is not used: a package is never a
# sanitizer or test build. scdoc is required (the package holds the man
# pages) and handed to CMake, so a build directory configured without it
# cannot make packages without them.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build-release"}
for tool in scdoc dpkg-shlibdeps cpack; do
    command -v "$tool" >/dev/null || {
        echo "package: $tool is missing (scripts/setup.sh installs it)" >&2
        exit 1
    }
done
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_SKIP_INSTALL_RPATH=ON -DPSI_TEST_HOOKS=OFF -DPSI_BUILD_TESTS=OFF \
    -DPSI_BUILD_BENCH=OFF -DPSI_SANITIZE=OFF -DPSI_FUZZ=OFF -DSCDOC="$(command -v scdoc)" >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
rm -rf "$build/debs"
mkdir -p "$build/debs"
if ! (cd "$build" && cpack -G DEB -B "$build/debs" >"$build/debs/cpack.log" 2>&1); then
    echo "package: cpack failed:" >&2
    tail -n 20 "$build/debs/cpack.log" | sed 's/^/    | /' >&2
    exit 1
fi
rm -rf "$build/debs/_CPack_Packages"
found=0
for name in psi libpsi0 libpsi-dev; do
    deb=$(find "$build/debs" -maxdepth 1 -name "${name}_*.deb" | head -n 1)
    [ -n "$deb" ] || { echo "package: cpack made no ${name}_*.deb (see $build/debs/cpack.log)" >&2; exit 1; }
    echo "$deb"
    found=$((found + 1))
done
[ "$found" -eq 3 ]
