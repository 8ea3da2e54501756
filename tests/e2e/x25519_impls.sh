#!/usr/bin/env bash
# Parties whose CPUs run different X25519 code still agree on every tag
# (psi/curve25519.h, psi_x25519_many): three agencies on loopback, b's
# programs forced to libsodium's crypto_scalarmult (PSI_X25519_IMPL=
# libsodium), a's and c's on the default (eight lanes of AVX-512 IFMA where
# this CPU has them). Sets of 203, 117 and 64 indicators (batches with
# tails of every kind), planted overlaps: a-b 40, b-c 25, a-c 30, all three
# 10. Every party must see exactly its planted overlaps with the right
# peers, and each agent's log must name the code it ran.
#
# On a CPU without IFMA both sides run libsodium and the test says so (it
# still checks the overlaps). Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init x25519_impls "${PSI_BIN:-$here/../../build}"
grep -q '^PSI_MUTUAL_SUITE:STRING=ristretto255$' "${PSI_BIN:-$here/../../build}/CMakeCache.txt" 2>/dev/null &&
    skip "this build's mutual suite is ristretto255: no X25519 to compare"

hub_init "$WORK/hub" impls-hub
for p in a b c; do party_new "$p" agency --share-with all; done
hub_start

# Indicators from the documentation ranges (the indicator rules drop
# private addresses): 192.0.2.1-10 all three; 192.0.2.101-130 a-b;
# 192.0.2.201-220 a-c; 203.0.113.1-15 b-c; the rest each party's alone.
span() { for i in $(seq "$2" "$3"); do echo "$1.$i"; done; }
{ span 192.0.2 1 10; span 192.0.2 101 130; span 192.0.2 201 220; span 198.51.100 1 143; } >"$WORK/a.txt"
{ span 192.0.2 1 10; span 192.0.2 101 130; span 203.0.113 1 15; span 203.0.113 101 162; } >"$WORK/b.txt"
{ span 192.0.2 1 10; span 203.0.113 1 15; span 192.0.2 201 220; span 203.0.113 201 219; } >"$WORK/c.txt"
if [ "$(wc -l <"$WORK/a.txt")" -ne 203 ] || [ "$(wc -l <"$WORK/b.txt")" -ne 117 ] ||
    [ "$(wc -l <"$WORK/c.txt")" -ne 64 ]; then
    fail "the planted sets have the wrong sizes"
fi

impl_env() { # b's programs use libsodium, the others the default
    if [ "$1" = b ]; then echo PSI_X25519_IMPL=libsodium; else echo PSI_X25519_IMPL=auto; fi
}
for p in a b c; do
    must env "$(impl_env "$p")" "$PSI" submit --state "$(party_dir "$p")" "$WORK/$p.txt" >/dev/null
done
# Two rounds: in the first each agent also sends its policy, which the
# others' tasks wait for.
for _ in 1 2; do
    for p in a b c; do
        env "$(impl_env "$p")" "$PSI" agent --state "$(party_dir "$p")" --once \
            >>"$WORK/logs/agent.$p" 2>&1 || fail "agent $p failed: $(cat "$WORK/logs/agent.$p")"
    done
done

impl_of() { sed -n 's/.*cross-blinded submission .* by \([a-z0-9]*\))$/\1/p' "$WORK/logs/agent.$1" | sort -u; }
[ "$(impl_of b)" = libsodium ] || fail "b's agent did not run libsodium: $(impl_of b)"
a_impl=$(impl_of a)
c_impl=$(impl_of c)
if [ "$a_impl" != "$c_impl" ] || [ -z "$a_impl" ]; then
    fail "a and c ran different code: '$a_impl' '$c_impl'"
fi
if [ "$a_impl" = avx512ifma ]; then
    say "a and c cross-blinded with eight IFMA lanes, b with libsodium"
else
    say "this CPU has no AVX-512 IFMA: all three ran $a_impl (the overlaps are still checked)"
fi

# overlaps P PEER: how many of P's results name PEER.
for p in a b c; do
    must_to "$WORK/logs/results.$p.json" "$PSI" results --state "$(party_dir "$p")" --json
done
count_with() {
    grep -c "\"$2\"" "$WORK/logs/results.$1.json" || true
}
total() { grep -c '"value"' "$WORK/logs/results.$1.json" || true; }
check() { # check P TOTAL PEER1 N1 PEER2 N2
    [ "$(total "$1")" -eq "$2" ] || fail "$1 sees $(total "$1") overlaps, expected $2"
    [ "$(count_with "$1" "$3")" -eq "$4" ] || fail "$1 shares $(count_with "$1" "$3") with $3, expected $4"
    [ "$(count_with "$1" "$5")" -eq "$6" ] || fail "$1 shares $(count_with "$1" "$5") with $5, expected $6"
}
check a 60 b 40 c 30
check b 55 a 40 c 25
check c 45 a 30 b 25
say "every party sees exactly its planted overlaps across the two X25519 codes"
hub_stop
