#!/usr/bin/env bash
# `cmake --install` into a temporary prefix gives:
#  - a usable libpsi: headers under include/psi/, the library and psi.pc, so
#    that `cc x.c $(pkg-config --cflags --libs psi)` builds a program that
#    runs (one that evaluates an OPRF and canonicalises an indicator through
#    the installed headers only);
#  - the man pages (when scdoc was found), bash completion, systemd units and
#    their /etc/default files, all under the prefix;
#  - programs that run from that prefix without LD_LIBRARY_PATH (their RPATH
#    is relative to themselves): `psi --help`, `psi-hub --help`, and the demo
#    (scripts/demo.sh PREFIX: a hub and five parties, all from PREFIX/bin).
set -euo pipefail
: "${PSI_BIN:?PSI_BIN (the build dir) must be set}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$PSI_BIN" --prefix "$work/prefix" >/dev/null
for h in error.h export.h oprf.h blind.h indicator.h ioc_reader.h merkle.h note.h checkpoint.h; do
  [ -f "$work/prefix/include/psi/$h" ] || { echo "install: include/psi/$h missing" >&2; exit 1; }
done
# What an operator needs besides the programs, all inside the prefix
# (packaging/CMakeLists.txt, docs/man): nothing is written outside it.
for f in share/bash-completion/completions/psi share/bash-completion/completions/psi-hub \
    lib/systemd/system/psi-hub.service lib/systemd/system/psi-agent@.service \
    etc/default/psi-hub etc/default/psi-agent; do
    [ -s "$work/prefix/$f" ] || { echo "install: $f missing" >&2; exit 1; }
done
if grep -q '^SCDOC:FILEPATH=/' "$PSI_BIN/CMakeCache.txt"; then
    for f in man1/psi.1.gz man8/psi-hub.8.gz man7/psi-indicators.7.gz; do
        [ -s "$work/prefix/share/man/$f" ] || { echo "install: share/man/$f missing" >&2; exit 1; }
    done
fi
pc=$(find "$work/prefix" -name psi.pc | head -n 1)
[ -n "$pc" ] || { echo "install: psi.pc missing" >&2; exit 1; }

cat > "$work/x.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <psi/oprf.h>
#include <psi/indicator.h>

int main(void)
{
    unsigned char seed[32], sk[32], pk[32], out1[64], out2[64], blind[32], blinded[32], ev[32];
    struct psi_ioc ioc;
    enum psi_ioc_skip why;
    if (sodium_init() < 0) return 1;
    memset(seed, 7, sizeof seed);
    if (psi_oprf_derive_keypair(PSI_OPRF_MODE_OPRF, seed, (const unsigned char *)"x", 1, sk, pk)) return 2;
    if (psi_ioc_canonicalise("hxxp://Evil[.]Example/Path", 26, &ioc, &why)) return 3;
    if (psi_oprf_evaluate(PSI_OPRF_MODE_OPRF, sk, (const unsigned char *)ioc.value, ioc.len, out1)) return 4;
    if (psi_oprf_blind(PSI_OPRF_MODE_OPRF, (const unsigned char *)ioc.value, ioc.len, NULL, blind, blinded)) return 5;
    if (psi_oprf_blind_evaluate(sk, blinded, ev)) return 6;
    if (psi_oprf_finalize(PSI_OPRF_MODE_OPRF, (const unsigned char *)ioc.value, ioc.len, blind, ev, out2)) return 7;
    if (memcmp(out1, out2, 64) != 0) return 8;
    printf("%s\n", ioc.value);
    return 0;
}
C
extra=()
if grep -q '^PSI_SANITIZE:BOOL=ON' "$PSI_BIN/CMakeCache.txt"; then
  extra=(-fsanitize=address,undefined)
fi
export PKG_CONFIG_PATH="$(dirname "$pc")"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "${extra[@]}" -o "$work/x" "$work/x.c" $(pkg-config --cflags --libs psi)
got=$(LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib/x86_64-linux-gnu" ASAN_OPTIONS=detect_leaks=0 "$work/x")
if [ "$got" != "http://evil.example/Path" ]; then
  echo "install: program built against the installed library printed '$got'" >&2
  exit 1
fi

# ---- the installed programs, from the prefix alone
unset LD_LIBRARY_PATH
for prog in psi psi-hub; do
  bin="$work/prefix/bin/$prog"
  [ -x "$bin" ] || { echo "install: bin/$prog missing" >&2; exit 1; }
  if ! "$bin" --help >"$work/help.txt" 2>&1; then
    echo "install: $prog --help from the prefix failed: $(head -n 3 "$work/help.txt")" >&2
    exit 1
  fi
  grep -q "usage: $prog" "$work/help.txt" || { echo "install: $prog --help printed no usage" >&2; exit 1; }
  # The build tree must play no part: the RPATH names no absolute directory.
  rpath=$(readelf -d "$bin" | grep -E '\((RUNPATH|RPATH)\)' | sed 's/.*\[\(.*\)\].*/\1/')
  case "$rpath" in
    '$ORIGIN/'*) ;;
    *) echo "install: $prog has RPATH '$rpath', not one relative to \$ORIGIN" >&2; exit 1 ;;
  esac
done
# The demo with the installed psi and psi-hub (a smaller scenario: the full
# one is scripts/demo.sh's own run in CI).
here=$(cd "$(dirname "$0")" && pwd)
src=${PSI_SOURCE:-$here/../..}
if ! PSI_SCENARIO_BIN="$PSI_BIN/tests/psi-scenario" PSI_DEMO_SIZE=80 \
    bash "$src/scripts/demo.sh" "$work/prefix" >"$work/demo.log" 2>&1; then
  echo "install: the demo from the installed programs failed:" >&2
  tail -n 20 "$work/demo.log" | sed 's/^/    | /' >&2
  exit 1
fi
grep -q '^demo: OK' "$work/demo.log" || { echo "install: the demo did not say OK" >&2; exit 1; }
echo "install: OK (headers, library and psi.pc usable; program printed $got; psi, psi-hub and the demo run from the prefix)"
