#!/usr/bin/env bash
# bench_mutual: Protocol 1 for P parties of n indicators each on loopback,
# wall time against the cryptographic floor measured in the same run.
#
#   tests/bench/bench_mutual.sh [BUILD_DIR] [--parties P] [--n N] [--store URL]
#                                [--baseline BUILD_DIR]
#                                (defaults: ./build, P 5, n 5000, the SQLite store;
#                                 never run by ctest)
#
# --baseline B runs the same benchmark first with the binaries of build B (a
# build configured with -DPSI_MUTUAL_SUITE=ristretto255, say), then with
# BUILD_DIR's, and prints both and the speedup of BUILD_DIR's wall time over
# B's (docs/performance.md, "Protocol 1 on X25519").
#
# The parties work side by side, as they would on their own machines, but
# here they share this machine's cores: all P submit at once, then all P
# agents cross-blind at once. The floor is the elliptic-curve work alone, at
# the all-cores rates measured just before and just after (the better of the
# two): P*n elements blinded at submission at bench_blind's raw rate
# (expand_message_xmd, hash-to-group, scalar multiplication), plus
# P*(P-1)*n elements cross-blinded at bench_crossblind's crossblind_eps
# (scalar multiplication and the SHA-512 of the tag). For X25519 both
# multiply through psi_x25519_many, the fastest this CPU allows (eight
# AVX-512 IFMA lanes, or libsodium), so the floor is the library's own. Everything else (canonicalising,
# SQLite, nng, sealing, signatures, the hub's join) is the overhead the ratio
# shows. Other load on the machine skews both sides: the load average is
# printed. The results are checked against the planted scenario, so a fast
# wrong run cannot pass. --store is given to `psi-hub init --store` (a
# postgresql:// URL: the store's size is then its tables' in the database,
# indexes included). Also
# printed: the hub process's CPU time over the run (user + system) as a
# share of the wall time, its peak RSS, and the store's bytes per tag. The
# last line is machine-readable key=value pairs.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/tests/e2e/lib/harness.bash"
build="$here/build"
nparties=5
n=5000
store=""
baseline=
while [ $# -gt 0 ]; do
    case $1 in
    --parties) nparties=$2; shift 2 ;;
    --n) n=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "bench_mutual: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
[[ $nparties =~ ^[0-9]+$ ]] && [ "$nparties" -ge 2 ] && [ "$nparties" -le 64 ] ||
    { echo "bench_mutual: --parties wants 2 to 64" >&2; exit 2; }
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 20 ] || { echo "bench_mutual: --n wants 20 or more" >&2; exit 2; }
if [ -n "$baseline" ]; then
    # Side by side: the baseline build, then this one, on the same scenario
    # sizes; each prints its own figures, then the two wall times compare.
    field() { printf '%s\n' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }
    echo "== baseline: $baseline"
    base_out=$(bash "$0" "$baseline" --parties "$nparties" --n "$n") || exit 1
    printf '%s\n' "$base_out"
    echo "== this build: $build"
    this_out=$(bash "$0" "$build" --parties "$nparties" --n "$n") || exit 1
    printf '%s\n' "$this_out"
    base_line=$(printf '%s\n' "$base_out" | tail -n 1)
    this_line=$(printf '%s\n' "$this_out" | tail -n 1)
    awk -v bt="$(field "$base_line" total_s)" -v tt="$(field "$this_line" total_s)" \
        -v bc="$(field "$base_line" crossblind_s)" -v tc="$(field "$this_line" crossblind_s)" \
        -v bs="$(field "$base_line" submit_s)" -v ts="$(field "$this_line" submit_s)" \
        -v P="$nparties" -v n="$n" 'BEGIN {
        printf "speedup over the baseline: submit %.2fx, cross-blind %.2fx, total %.2fx\n", bs / ts, bc / tc, bt / tt
        printf "bench_mutual_compare parties=%d n=%d base_total_s=%.3f total_s=%.3f speedup=%.3f base_crossblind_s=%.3f crossblind_s=%.3f crossblind_speedup=%.3f\n", P, n, bt, tt, bt / tt, bc, tc, bc / tc
    }'
    exit 0
fi
harness_init bench_mutual "$build"
bench_blind="$(cd "$build" && pwd)/tests/bench_blind"
bench_crossblind="$(cd "$build" && pwd)/tests/bench_crossblind"
for b in "$bench_blind" "$bench_crossblind"; do
    [ -x "$b" ] || fail "missing $b (configure with PSI_BUILD_BENCH=ON)"
done

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

parties=()
for i in $(seq "$nparties"); do parties+=("p$i"); done

# The floor's rates on every core, measured before and after the run; the
# better of the two counts (other load on the machine only ever lowers it).
floor_n=$((n < 20000 ? n : 20000))
rate() { # rate BINARY KEY: the KEY=value of the binary's last line
    local line
    line=$("$1" --n "$floor_n" | tail -n 1) || fail "$1 failed"
    printf '%s\n' "$line" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { v = $2 } END { print v }'
}
blind_before=$(rate "$bench_blind" raw_parallel_eps)
cross_line=$("$bench_crossblind" --n "$floor_n" | tail -n 1) || fail "$bench_crossblind failed"
cross_before=$(printf '%s\n' "$cross_line" | tr ' ' '\n' | awk -F= '$1 == "crossblind_eps" { print $2 }')
suite=$(printf '%s\n' "$cross_line" | tr ' ' '\n' | awk -F= '$1 == "suite" { print $2 }')
[ -n "$blind_before" ] && [ -n "$cross_before" ] || fail "no rate from bench_blind or bench_crossblind"
load_before=$(cut -d' ' -f1 /proc/loadavg)

must "$PSI_SCENARIO" --out "$WORK/sc" --seed 7 --size "$n" \
    --parties "$(IFS=,; echo "${parties[*]}")" >/dev/null
if [ -n "$store" ]; then hub_init "$WORK/hub" bench-hub --store "$store"; else hub_init "$WORK/hub" bench-hub; fi
for p in "${parties[@]}"; do party_new "$p" agency --share-with all; done
hub_start

# run_all STEP: the function STEP for every party at once.
submit_one() { "$PSI" submit --state "$(party_dir "$1")" "$WORK/sc/$1.txt"; }
agent_one() { "$PSI" agent --state "$(party_dir "$1")" --once; }
run_all() {
    local step=$1 p pid rc=0 pids=()
    for p in "${parties[@]}"; do
        "$step" "$p" >"$WORK/logs/$step.$p.log" 2>&1 &
        pids+=($!)
        HARNESS_PIDS+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    if [ "$rc" -ne 0 ]; then
        tail -n 3 "$WORK/logs/$step".*.log >&2
        fail "a party's $step failed"
    fi
}

# The hub's CPU time so far: utime + stime (fields 14 and 15 of
# /proc/PID/stat, counted after the command's parenthesised name), seconds.
hub_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
        "/proc/$HUB_PID/stat"
}
hub_cpu_0=$(hub_cpu)
t0=$(now)
run_all submit_one
t_submit=$(since "$t0")
t1=$(now)
run_all agent_one
t_cross=$(since "$t1")
t_total=$(since "$t0")
hub_cpu_s=$(awk -v a="$hub_cpu_0" -v b="$(hub_cpu)" 'BEGIN { printf "%.2f", b - a }')
run_all agent_one # a second round, as in the demo (nothing should be left)

results_match_scenario "benchmark results" "${parties[@]}"
# The hub's peak resident memory and its store, per stored tag.
hub_hwm_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$HUB_PID/status")
hub_stop
if [ -z "$store" ]; then
    tags=$(sqlite3 "$WORK/hub/hub.db" 'SELECT count(*) FROM tag' 2>/dev/null || echo 0)
    db_bytes=$(( $(stat -c %s "$WORK/hub/hub.db") + $(stat -c %s "$WORK/hub/hub.db-wal" 2>/dev/null || echo 0) ))
else
    # the hub's tables (schema psi: tables, partitions, their indexes and
    # TOAST), without the database's catalogue or the server's WAL
    tags=$(psql -X "$store" -Atc 'SELECT count(*) FROM psi.tag' 2>/dev/null || echo 0)
    db_bytes=$(psql -X "$store" -Atc "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
        JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'psi' AND c.relkind = 'r'" \
        2>/dev/null | tail -n 1)
    db_bytes=${db_bytes:-0}
fi

blind_after=$(rate "$bench_blind" raw_parallel_eps)
cross_after=$(rate "$bench_crossblind" crossblind_eps)
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0 ? a : b) }'; }
blind_eps=$(best "$blind_before" "$blind_after")
cross_eps=$(best "$cross_before" "$cross_after")
cores=$(nproc)

awk -v P="$nparties" -v n="$n" -v be="$blind_eps" -v ce="$cross_eps" -v cores="$cores" \
    -v ts="$t_submit" -v tc="$t_cross" -v tt="$t_total" -v ov="$(wc -l <"$WORK/actual.tsv")" \
    -v bb="$blind_before" -v ba="$blind_after" -v cb="$cross_before" -v ca="$cross_after" \
    -v load="$load_before" -v hwm="$hub_hwm_kib" -v suite="${suite:-unknown}" -v tags="$tags" -v db="$db_bytes" \
    -v hubcpu="$hub_cpu_s" -v backend="${store:+postgresql}" '
    BEGIN {
        sub_ops = P * n; cross_ops = P * (P - 1) * n
        fs = sub_ops / be; fc = cross_ops / ce; floor = fs + fc
        printf "mutual suite:           %s\n", suite
        printf "parties x indicators:   %d x %d (%d overlaps found, as planted)\n", P, n, ov
        printf "group operations:       submit %d, cross-blind %d\n", sub_ops, cross_ops
        printf "floor rates, %d cores:   blind %.0f/s (before %.0f, after %.0f), cross-blind %.0f/s (before %.0f, after %.0f); load %s\n", cores, be, bb, ba, ce, cb, ca, load
        printf "crypto floor:           submit %.2f s + cross-blind %.2f s = %.2f s\n", fs, fc, floor
        printf "wall:                   submit %.2f s + cross-blind %.2f s = %.2f s\n", ts, tc, tt
        printf "ratio wall/floor:       submit %.2f, cross-blind %.2f, total %.2f\n", ts / fs, tc / fc, tt / floor
        printf "hub process CPU:        %.2f s = %.1f%% of the wall time (submit + cross-blind)\n", hubcpu, 100 * hubcpu / tt
        if (tags > 0)
            printf "hub:                    peak RSS %.1f MiB, %d tags stored: %.0f bytes of peak RSS and %.0f bytes of store per tag\n", hwm / 1024, tags, hwm * 1024 / tags, db / tags
        printf "bench_mutual suite=%s parties=%d n=%d cores=%d blind_eps=%.1f crossblind_eps=%.1f load1=%s floor_s=%.3f submit_s=%.3f crossblind_s=%.3f total_s=%.3f ratio=%.3f hub_hwm_kib=%d tags=%d store_bytes=%d hub_cpu_s=%.2f store=%s\n",
            suite, P, n, cores, be, ce, load, floor, ts, tc, tt, tt / floor, hwm, tags, db, hubcpu, backend == "" ? "sqlite" : backend
    }'
