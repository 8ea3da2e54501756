#!/usr/bin/env bash
# The main job: a five-party matching run on loopback, checked against the
# answer planted in a generated scenario.
#
#   scripts/demo.sh [BUILD_DIR]       (after scripts/setup.sh; default ./build)
#   scripts/demo.sh PREFIX            the programs of `cmake --install --prefix PREFIX`
#                                     (PREFIX/bin); PSI_SCENARIO_BIN names the scenario
#                                     generator, which is not installed (BUILD/tests/psi-scenario)
#
# Four agencies (fr-ccn, sg-csa, br-pf, ke-dci) and one contribute-only vendor
# (vendor-x) each hold a list of a few hundred indicators, some written
# defanged; the scenario generator planted indicators shared by two, three and
# all five parties, and wrote down who must learn what. The hub runs on a free
# loopback port with its SQLite store; every party submits its blinded set, the
# agents cross-blind each other's sets, and each agency reads which of its own
# indicators others hold. The vendor gives but must not receive. Exit 0 with
# "demo: OK" when every agency learnt exactly the planted overlaps; otherwise a
# diff and exit 1. Builds nothing; cleans up its hub and files on any exit
# (PSI_KEEP_WORK=1 keeps the files of a failed run). PSI_DEMO_SEED and
# PSI_DEMO_SIZE change the scenario.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/tests/e2e/lib/harness.bash"
harness_init demo "${1:-$here/build}"

agencies=(fr-ccn sg-csa br-pf ke-dci)
vendor="vendor-x"
parties=("${agencies[@]}" "$vendor")
seed=${PSI_DEMO_SEED:-20251126}
size=${PSI_DEMO_SIZE:-300}
started=$(date +%s.%N)
elapsed() { awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }

# 1. The scenario: one indicator file per party and the answer.
scenario="$WORK/scenario"
must "$PSI_SCENARIO" --out "$scenario" --seed "$seed" --size "$size" \
    --parties "$(IFS=,; echo "${parties[*]}")" >/dev/null
"$PSI_SCENARIO" --flatten "$scenario/expected.jsonl" | awk -v v="$vendor" -F '\t' '$1 != v' |
    LC_ALL=C sort >"$WORK/expected.tsv"
say "scenario (seed $seed): $size indicators a party, some defanged; $(wc -l <"$WORK/expected.tsv") planted overlaps for the ${#agencies[@]} agencies to find"

# 2. The hub and its roster.
hub_init "$WORK/hub" demo-hub
for id in "${agencies[@]}"; do
    party_new "$id" agency --share-with all
done
party_new "$vendor" vendor --share-with all --contribute-only
hub_start
say "hub serving on $HUB_URL; roster: ${parties[*]} ($vendor contribute-only)"

# 3. Every party submits its blinded set.
for id in "${parties[@]}"; do
    must "$PSI" submit --state "$(party_dir "$id")" "$scenario/$id.txt" >"$WORK/logs/submit.$id.log"
done
say "all ${#parties[@]} parties submitted ($(elapsed))"

# 4. The agents cross-blind what their policy allows; a second round picks up
#    work that appeared while the first was running.
for round in 1 2; do
    for id in "${parties[@]}"; do
        must "$PSI" agent --state "$(party_dir "$id")" --once >"$WORK/logs/agent.$round.$id.log"
    done
done
say "cross-blinding done ($(elapsed))"

# 5. Results: each agency maps its matched positions back to its indicators.
: >"$WORK/actual.tsv"
for id in "${agencies[@]}"; do
    results_flat "$id" "$WORK/results.$id.tsv"
    cat "$WORK/results.$id.tsv" >>"$WORK/actual.tsv"
done
LC_ALL=C sort -o "$WORK/actual.tsv" "$WORK/actual.tsv"

# The contribute-only vendor must be refused its results.
if "$PSI" results --state "$(party_dir "$vendor")" --json >"$WORK/logs/vendor.out" 2>"$WORK/logs/vendor.err"; then
    sed 's/^/    | /' "$WORK/logs/vendor.out" >&2
    fail "$vendor is contribute-only, yet 'psi results' gave it an answer"
fi
[ -s "$WORK/logs/vendor.out" ] && fail "$vendor was refused, yet 'psi results' printed results"
say "$vendor (contribute-only) asked for results and was refused: $(head -n 1 "$WORK/logs/vendor.err")"

# 6. The report, as each agency sees it.
echo
echo "Overlap report: what each agency learnt (indicator -> the other parties that hold it)"
for id in "${agencies[@]}"; do
    n=$(wc -l <"$WORK/results.$id.tsv")
    echo
    echo "  $id — $n of its indicators are also held by others:"
    awk 'BEGIN { FS = "\t" }
         { peers = $4; gsub(/,/, ", ", peers); printf "    %-7s %-58s -> %s\n", $2, $3, peers }' \
        "$WORK/results.$id.tsv"
done
echo

# 7. The check: exactly what the scenario planted, for every agency.
compare_or_fail "the overlaps the agencies learnt" "$WORK/expected.tsv" "$WORK/actual.tsv"
[ -s "$WORK/expected.tsv" ] || fail "the scenario planted no overlap: nothing was tested"

hub_stop
echo "demo: OK — $(wc -l <"$WORK/actual.tsv") overlaps across ${#parties[@]} parties matched the planted scenario ($(elapsed))"
