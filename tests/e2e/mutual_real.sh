#!/usr/bin/env bash
# Protocol 1 end to end on real published indicator sets, checked against the
# plaintext answer.
#
# Five participants are made from files of $PSI_SHARED/data/ioc (read in
# place, never copied into the repository), combined so that overlaps are
# known: A = file1 + file2, B = file2 + file3, C = file3 + half of file1,
# D = file4 + slices of file2 and file3, and a contribute-only vendor
# V = file5 + slices of file1 and file4. Each participant's set is what
# `psi ingest` makes of its files; the answer each must get is computed here
# with plain joins over those sets, and compared with `psi results --json`.
#
# It shows:
#  1. every agency learns exactly which of its indicators others hold, and who;
#  2. policy: A and D do not share (--share-with lists), so neither appears as
#     the other's peer although their sets overlap, while both see B and C;
#  3. the contribute-only vendor gives (others see it as a peer) but
#     `psi results` is refused for it;
#  4. threshold: on a hub initialised with --threshold 3, a position is
#     revealed only if at least 3 parties (its owner included) hold it.
#
# Without $PSI_SHARED/data/ioc (../shared beside the checkout) it says so in
# one line and exits 77, which ctest reports as skipped.
#
# Env (set by ctest): PSI_BIN build dir, PSI_SOURCE source dir, PSI_SHARED.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
harness_init mutual_real "${PSI_BIN:-$here/../../build}"
shared=${PSI_SHARED:-$here/../../../shared}
ioc="$shared/data/ioc"
[ -d "$ioc" ] || skip "no real indicator data in $ioc"

file1="$ioc/unit42-text/Gamaredon_Gamaredon_IoCs_JAN2022.txt" # text, ~1000
file2="$ioc/unit42-stix/trickbot.json"                         # STIX 2 bundle, ~700
file3="$ioc/eset-misp/badiis_misp-badiis.json"                 # MISP event, ~140
file4="$ioc/eset-misp/oceanlotus_oceanlotus.misp.event.json"   # MISP event, ~90
file5="$ioc/unit42-text/Darkside_Darkside_IOCs.txt"            # text, defanged, ~70
for f in "$file1" "$file2" "$file3" "$file4" "$file5"; do
    [ -r "$f" ] || fail "missing input $f"
done
# ESET publishes its MISP attributes with to_ids false, which psi leaves out
# by default: every ingest and submit here reads them all (--all-attributes).

# ---------------------------------------------------------------- inputs
sets="$WORK/sets"
mkdir -p "$sets" "$WORK/inputs"
for i in 1 2 3 4 5; do
    f="file$i"
    ingest_flat "$sets/S$i.tsv" --all-attributes "${!f}"
    [ -s "$sets/S$i.tsv" ] || fail "psi ingest found no indicator in ${!f}"
done
# Slices of a canonical set, written back as plain text (one value a line).
slice() { # slice SET EVERY OFFSET OUT
    awk -F '\t' -v n="$2" -v o="$3" '(NR % n) == o { print $2 }' "$1" >"$4"
}
slice "$sets/S1.tsv" 2 0 "$WORK/inputs/half1.txt"
slice "$sets/S2.tsv" 3 1 "$WORK/inputs/slice2.txt"
slice "$sets/S3.tsv" 4 2 "$WORK/inputs/slice3.txt"
slice "$sets/S1.tsv" 5 3 "$WORK/inputs/slice1.txt"
slice "$sets/S4.tsv" 4 0 "$WORK/inputs/slice4.txt"

declare -A inputs=(
    [a]="$file1 $file2"
    [b]="$file2 $file3"
    [c]="$file3 $WORK/inputs/half1.txt"
    [d]="$file4 $WORK/inputs/slice2.txt $WORK/inputs/slice3.txt"
    [v]="$file5 $WORK/inputs/slice1.txt $WORK/inputs/slice4.txt"
)
all_parties=(a b c d v)  # sorted: the order of peer lists
for p in "${all_parties[@]}"; do
    # shellcheck disable=SC2086  # the paths have no blanks (checked above)
    ingest_flat "$sets/$p.tsv" --all-attributes ${inputs[$p]}
    say "party $p: $(wc -l <"$sets/$p.tsv") indicators"
done

# expected_flat OUT THRESHOLD DENIED_PAIRS RECEIVERS...: the plaintext answer.
# A position of X is revealed with peers Y (Y holds it, the pair is allowed)
# when 1 + #peers >= threshold.
expected_flat() {
    local out=$1 threshold=$2 denied=$3
    shift 3
    local args=()
    for p in "${all_parties[@]}"; do args+=("$p=$sets/$p.tsv"); done
    awk -F '\t' -v threshold="$threshold" -v denied="$denied" -v receivers="$*" \
        -v parties="${all_parties[*]}" '
        BEGIN {
            np = split(parties, order, " ")
            nd = split(denied, pairs, " ")
            for (i = 1; i <= nd; i++) {
                split(pairs[i], ab, ",")
                deny[ab[1], ab[2]] = 1; deny[ab[2], ab[1]] = 1
            }
            nr = split(receivers, rl, " ")
            for (i = 1; i <= nr; i++) receiving[rl[i]] = 1
            # Each file argument is NAME=PATH; read them in order.
            for (i = 1; i < ARGC; i++) {
                split(ARGV[i], np_, "="); name = np_[1]; path = np_[2]
                while ((getline line < path) > 0) {
                    held[name, line] = 1
                    if (!(line in seen)) { seen[line] = 1; keys[++nk] = line }
                }
                close(path)
                ARGV[i] = ""
            }
            for (r = 1; r <= np; r++) {
                x = order[r]
                if (!(x in receiving)) continue
                for (k = 1; k <= nk; k++) {
                    key = keys[k]
                    if (!((x, key) in held)) continue
                    peers = ""; n = 0
                    for (q = 1; q <= np; q++) {
                        y = order[q]
                        if (y == x || !((y, key) in held) || ((x, y) in deny)) continue
                        peers = peers (n ? "," : "") y; n++
                    }
                    if (n >= 1 && n + 1 >= threshold) print x "\t" key "\t" peers
                }
            }
            exit
        }' "${args[@]}" | LC_ALL=C sort >"$out"
}

# run_protocol TAG: submit, two agent rounds, every receiver's results.
run_protocol() {
    local tag=$1 p
    for p in "${all_parties[@]}"; do
        # shellcheck disable=SC2086
        must "$PSI" submit --state "$(party_dir "$tag$p")" --all-attributes ${inputs[$p]} >/dev/null
    done
    for _ in 1 2; do
        for p in "${all_parties[@]}"; do
            must "$PSI" agent --state "$(party_dir "$tag$p")" --once >/dev/null
        done
    done
}

# results_of TAG OUT RECEIVERS...: flattened results, the tag stripped from ids.
results_of() {
    local tag=$1 out=$2 p
    shift 2
    : >"$out"
    for p in "$@"; do
        results_flat "$tag$p" "$WORK/r.tsv"
        awk -v tag="$tag" 'BEGIN { FS = OFS = "\t" }
            function bare(id) { return index(id, tag) == 1 ? substr(id, length(tag) + 1) : id }
            { n = split($4, peers, ","); $1 = bare($1); $4 = ""
              for (i = 1; i <= n; i++) $4 = $4 (i > 1 ? "," : "") bare(peers[i])
              print }' "$WORK/r.tsv" >>"$out"
    done
    LC_ALL=C sort -o "$out" "$out"
}

# ------------------------------------------- run 1: policy and contribute-only
hub_init "$WORK/hub1" real-hub
party_new m-a agency --share-with m-b,m-c,m-v
party_new m-b agency --share-with all
party_new m-c agency --share-with all
party_new m-d agency --share-with m-b,m-c,m-v
party_new m-v vendor --share-with all --contribute-only
hub_start
run_protocol m-
results_of m- "$WORK/actual1.tsv" a b c d
expected_flat "$WORK/expected1.tsv" 2 "a,d" a b c d
compare_or_fail "results on the real sets (policy: a and d do not share)" \
    "$WORK/expected1.tsv" "$WORK/actual1.tsv"
say "run 1: $(wc -l <"$WORK/actual1.tsv") revealed positions across a, b, c, d equal the plaintext joins"

# The policy check must have had something to hide, and the peers to keep.
hidden=$(LC_ALL=C comm -12 "$sets/a.tsv" "$sets/d.tsv" | wc -l)
[ "$hidden" -gt 0 ] || fail "a and d hold no indicator in common: the policy check tests nothing"
for pair in "a:d" "d:a"; do
    x=${pair%%:*} y=${pair##*:}
    if [ -n "$(awk -F '\t' -v x="$x" -v y="$y" '$1 == x && ("," $4 ",") ~ ("," y ",")' "$WORK/actual1.tsv")" ]; then
        fail "$x sees $y as a peer although their policies exclude each other"
    fi
    for z in b c; do
        awk -F '\t' -v x="$x" -v z="$z" '$1 == x && ("," $4 ",") ~ ("," z ",") { f = 1 } END { exit !f }' \
            "$WORK/actual1.tsv" || fail "$x does not see $z as a peer"
    done
done
say "policy: a and d share $hidden indicators, yet neither sees the other; both see b and c"

# The vendor gives: others see it as a peer. It never receives.
awk -F '\t' '("," $4 ",") ~ /,v,/ { f = 1 } END { exit !f }' "$WORK/actual1.tsv" ||
    fail "no agency sees the contribute-only vendor v as a peer"
if "$PSI" results --state "$(party_dir m-v)" --json >"$WORK/v.out" 2>"$WORK/v.err"; then
    fail "the contribute-only vendor v was given results"
fi
[ ! -s "$WORK/v.out" ] || fail "the contribute-only vendor v was refused but printed results"
say "vendor v is seen as a peer $(awk -F '\t' '("," $4 ",") ~ /,v,/' "$WORK/actual1.tsv" | wc -l) times; its results were refused: $(head -n 1 "$WORK/v.err")"
hub_stop

# ---------------------------------------------------------- run 2: threshold 3
hub_init "$WORK/hub2" real-hub-t3 --threshold 3
for p in a b c d; do party_new "t-$p" agency --share-with all; done
party_new t-v vendor --share-with all --contribute-only
hub_start
run_protocol t-
results_of t- "$WORK/actual2.tsv" a b c d
expected_flat "$WORK/expected2.tsv" 3 "" a b c d
expected_flat "$WORK/pairs2.tsv" 2 "" a b c d
compare_or_fail "results with threshold 3" "$WORK/expected2.tsv" "$WORK/actual2.tsv"
withheld=$(($(wc -l <"$WORK/pairs2.tsv") - $(wc -l <"$WORK/actual2.tsv")))
[ "$withheld" -gt 0 ] || fail "no position is held by exactly two parties: the threshold check tests nothing"
[ -s "$WORK/actual2.tsv" ] || fail "no position is held by three parties: the threshold check tests nothing"
say "threshold 3: $(wc -l <"$WORK/actual2.tsv") positions revealed, $withheld held by only two parties withheld"
hub_stop
say "OK"
