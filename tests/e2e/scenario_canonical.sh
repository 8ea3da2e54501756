#!/usr/bin/env bash
# The scenario generator and the canonicaliser agree, with no cryptography in
# between: for generated scenarios (several seeds), the overlaps computed in
# plaintext from `psi ingest` of each party's file are exactly the ones
# psi-scenario wrote down in expected.jsonl, and each party's set has the size
# the generator was asked for. When the demo fails, this test says whether
# the canonical forms or the protocol are to blame. Also checks that the
# generator is deterministic for a seed.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
harness_init scenario_canonical "${PSI_BIN:-$here/../../build}"

parties=(fr-ccn sg-csa br-pf ke-dci vendor-x)
size=500
for seed in 1 42 20251126; do
    sc="$WORK/s$seed"
    must "$PSI_SCENARIO" --out "$sc" --seed "$seed" --size "$size" \
        --parties "$(IFS=,; echo "${parties[*]}")" >/dev/null
    args=()
    for p in "${parties[@]}"; do
        ingest_flat "$sc/$p.set" "$sc/$p.txt"
        n=$(wc -l <"$sc/$p.set")
        [ "$n" -eq "$size" ] || fail "seed $seed: psi ingest reads $n indicators in $p.txt, the generator wrote $size"
        args+=("$p=$sc/$p.set")
    done
    # Plaintext overlaps: for each party, each indicator others hold, with them.
    # Parties in byte order, so that peer lists come out sorted as --flatten sorts.
    awk -F '\t' -v parties="$(printf '%s\n' "${parties[@]}" | LC_ALL=C sort | tr '\n' ' ')" '
        BEGIN {
            np = split(parties, order, " ")
            for (i = 1; i < ARGC; i++) {
                split(ARGV[i], kv, "="); name = kv[1]; path = kv[2]
                while ((getline line < path) > 0) { held[name, line] = 1; n[line]++ }
                close(path)
            }
            for (key in n) {
                if (n[key] < 2) continue
                for (a = 1; a <= np; a++) {
                    x = order[a]
                    if (!((x, key) in held)) continue
                    peers = ""; c = 0
                    for (b = 1; b <= np; b++)
                        if (b != a && ((order[b], key) in held)) peers = peers (c++ ? "," : "") order[b]
                    print x "\t" key "\t" peers
                }
            }
            exit
        }' "${args[@]}" | LC_ALL=C sort >"$sc/plain.tsv"
    "$PSI_SCENARIO" --flatten "$sc/expected.jsonl" | LC_ALL=C sort >"$sc/expected.tsv"
    compare_or_fail "seed $seed: plaintext overlaps of psi ingest and expected.jsonl" \
        "$sc/expected.tsv" "$sc/plain.tsv"
    [ -s "$sc/expected.tsv" ] || fail "seed $seed: no overlap planted"
    defanged=$(grep -cE '\[\.\]|\(\.\)|\{\.\}|\[dot\]|hxxp|hXXp|h\*\*p|\[at\]|\(at\)|\[://\]' "$sc"/*.txt | awk -F: '{ s += $2 } END { print s }')
    say "seed $seed: $(wc -l <"$sc/expected.tsv") planted overlaps = plaintext overlaps of psi ingest ($defanged defanged lines)"
done

# Same seed, same files.
must "$PSI_SCENARIO" --out "$WORK/again" --seed 42 --size "$size" \
    --parties "$(IFS=,; echo "${parties[*]}")" >/dev/null
for f in "$WORK/again"/*; do
    cmp -s "$f" "$WORK/s42/$(basename "$f")" || fail "psi-scenario is not deterministic: $(basename "$f") differs for seed 42"
done
say "OK"
