#!/usr/bin/env bash
# Test hooks stay out of release builds. tests/CMakeLists.txt compiles every
# program source that names a hook ("PSI_TEST_", itself or through a header)
# a second time as a release build does (psi_release_probe: the option off,
# all else equal); `strings` must find no "PSI_TEST_" in those objects, so a
# hook left unguarded fails here. When the build under test has the hooks on,
# its psi must show them, so the check is known to see them. psi and psi-hub
# must not hold psi_rpc_raw (a test-only library's). With --full it also
# configures a default tree and checks psi, psi-hub and libpsi themselves
# (several minutes; not run by ctest).
#
# Env (set by ctest): PSI_BIN build dir, PSI_SOURCE source dir,
# PSI_RELEASE_OBJECTS the probe's objects (':'-separated).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${PSI_BIN:-$here/../../build}
src=${PSI_SOURCE:-$here/../..}
name=release_strings
fail() {
    printf '%s: FAIL: %s\n' "$name" "$*" >&2
    exit 1
}
command -v strings >/dev/null || fail "strings (binutils) is not installed"
count() { strings "$1" | grep -c 'PSI_TEST_' || true; }

if grep -q '^PSI_TEST_HOOKS:BOOL=ON$' "$build/CMakeCache.txt"; then
    [ "$(count "$build/client/psi")" -gt 0 ] ||
        fail "the test-hook build's psi shows no PSI_TEST_ string: the check could not see one"
fi
IFS=: read -r -a objects <<<"${PSI_RELEASE_OBJECTS:-}"
[ "${#objects[@]}" -gt 0 ] || fail "PSI_RELEASE_OBJECTS is empty (no source guards a hook?)"
for o in "${objects[@]}"; do
    [ -f "$o" ] || fail "missing object $o (build the psi_release_probe target)"
    n=$(count "$o")
    [ "$n" -eq 0 ] || fail "$(basename "$o"), compiled without PSI_TEST_HOOKS, holds $n PSI_TEST_ strings"
done
checked="${#objects[@]} hook-naming sources compiled as in a release"

# psi_rpc_raw (proto/rpc_raw.c, raw frames to a hub) lives only in the
# test-only library psiproto_raw: no program links it, whatever the hooks
# option says, so this build's programs show it as a release's would.
for f in "$build/client/psi" "$build/server/psi-hub"; do
    [ -x "$f" ] || fail "missing program $f"
    ! grep -q ' [Tt] psi_rpc_raw$' <<<"$(nm "$f" 2>/dev/null)" || fail "$(basename "$f") holds psi_rpc_raw"
done
checked="$checked; no psi_rpc_raw in psi or psi-hub"

if [ "${1:-}" = "--full" ]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/psi-release.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    cmake -S "$src" -B "$work/b" -DCMAKE_BUILD_TYPE=Release -DPSI_BUILD_TESTS=OFF \
        -DPSI_BUILD_BENCH=OFF >"$work/configure.log" 2>&1 || fail "configure: $(tail -n 5 "$work/configure.log")"
    grep -q '^PSI_TEST_HOOKS:BOOL=OFF$' "$work/b/CMakeCache.txt" || fail "PSI_TEST_HOOKS is not off by default"
    cmake --build "$work/b" --target psi_cli psi_hub -j 2 >"$work/build.log" 2>&1 ||
        fail "build: $(tail -n 5 "$work/build.log")"
    for f in "$work/b/client/psi" "$work/b/server/psi-hub" "$work/b/psi/libpsi.so"; do
        [ "$(count "$f")" -eq 0 ] || fail "$(basename "$f") of a default build holds PSI_TEST_ strings"
        ! grep -q ' T psi_rpc_raw$' <<<"$(nm "$f" 2>/dev/null)" || fail "$(basename "$f") holds psi_rpc_raw"
    done
    checked="$checked; psi, psi-hub and libpsi of a default build"
fi
echo "$name: ok (no PSI_TEST_ string: $checked)"
