#!/usr/bin/env bash
# Runs every test of the project (unit, vectors, end-to-end on loopback) with
# ctest. Usage: scripts/test.sh [BUILD_DIR]   (after scripts/setup.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
if [ ! -f "$build/CTestTestfile.cmake" ]; then
  echo "test: no build in $build; run scripts/setup.sh first" >&2
  exit 1
fi
if [ ! -d "$here/../shared/data/ioc" ]; then
  echo "test: the shared data folder $here/../shared is missing (tests read real indicator files from it)" >&2
  exit 1
fi
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900
