#!/usr/bin/env bash
# Runs every test of the project (unit, vectors, end-to-end on loopback) with
# ctest. Usage: scripts/test.sh [BUILD_DIR]   (after scripts/setup.sh)
# Needs only the repository; a test skipped for want of ../shared is reported
# as skipped by ctest, never as passed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
if [ ! -f "$build/CTestTestfile.cmake" ]; then
  echo "test: no build in $build; run scripts/setup.sh first" >&2
  exit 1
fi
# The real published indicator files beside the checkout (../shared/data/ioc,
# the build's PSI_SHARED_DIR) are optional: the tests that read them run when
# they are there and are reported skipped when not; everything else the tests
# need is in the repository.
shared=$(sed -n 's/^PSI_SHARED_DIR:PATH=//p' "$build/CMakeCache.txt")
shared=${shared:-$here/../shared}
if [ -d "$shared/data/ioc" ]; then
  echo "test: real indicator data found in $shared/data/ioc: the tests that read it run too"
else
  echo "test: no real indicator data in $shared/data/ioc: the tests that need it are skipped (ctest -L shared lists them)"
fi
# The install test of the Debian packages (ctest -L package) needs root and
# the Debian archive; without them it is reported skipped, with the reason.
if [ "$(id -u)" -eq 0 ]; then
  echo "test: running as root: the package install test builds the .deb files, debootstraps a Debian 12 root and installs them (a few minutes; skipped if the archive does not answer)"
else
  echo "test: not root: the package install test is skipped (ctest -L package lists it)"
fi
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900
