#!/usr/bin/env bash
# `cmake --install` gives a usable libpsi: headers under include/psi/, the
# library and psi.pc, so that `cc x.c $(pkg-config --cflags --libs psi)` builds
# a program that runs. Checked with a program that evaluates an OPRF and
# canonicalises an indicator through the installed headers only.
set -euo pipefail
: "${PSI_BIN:?PSI_BIN (the build dir) must be set}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$PSI_BIN" --prefix "$work/prefix" >/dev/null
for h in error.h oprf.h blind.h indicator.h ioc_reader.h merkle.h note.h checkpoint.h; do
  [ -f "$work/prefix/include/psi/$h" ] || { echo "install: include/psi/$h missing" >&2; exit 1; }
done
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
echo "install: OK (headers, library and psi.pc usable; program printed $got)"
