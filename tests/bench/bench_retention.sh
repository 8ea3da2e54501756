#!/usr/bin/env bash
# bench_retention: what prune and backup cost on a hub with three epochs of
# data, and how long the hub's writers wait meanwhile.
#
#   tests/bench/bench_retention.sh [BUILD_DIR] [--size N]
#                                  (defaults: ./build, N 50000; never run by ctest)
#
# Two agencies each submit N indicators in each of three manual epochs (a
# quarter of them shared) and cross-blind each other's sets. Then, while a
# third agency submits 20-indicator sets back to back (each `psi submit` is
# one write of the hub, timed), `psi-hub backup` and `psi-hub prune
# --keep-epochs 1` run against the serving hub. Measured: the store's bytes
# (hub.db + WAL) before and after prune and prune's own compaction time; the
# backup's size and time; the longest submit before, during backup and during
# prune. The last line is machine-readable key=value pairs.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/tests/e2e/lib/harness.bash"
build="$here/build"
size=50000
while [ $# -gt 0 ]; do
    case $1 in
    --size) size=$2; shift 2 ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "bench_retention: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
[[ $size =~ ^[0-9]+$ ]] && [ "$size" -ge 100 ] || { echo "bench_retention: --size wants >= 100" >&2; exit 2; }
harness_init bench_retention "$build"

store_bytes() {
    local n=0 f
    for f in "$HUB_DIR/hub.db" "$HUB_DIR/hub.db-wal"; do [ -f "$f" ] && n=$((n + $(stat -c %s "$f"))); done
    echo "$n"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

hub_init "$WORK/hub" retention-bench --epoch manual:R1
party_new a agency --share-with all
party_new b agency --share-with all
party_new w agency --share-with all
hub_start
mkdir -p "$WORK/data"
shared=$((size / 4))
for e in R1 R2 R3; do
    if [ "$e" != R1 ]; then
        must "$PSI_HUB" epoch --dir "$HUB_DIR" --set "$e" >/dev/null
        for p in a b w; do must "$PSI" epoch --state "$(party_dir $p)" --accept "$e" >/dev/null; done
    fi
    seq 1 "$shared" | sed "s/.*/s&.$e.test/" >"$WORK/data/common"
    { cat "$WORK/data/common"; seq 1 $((size - shared)) | sed "s/.*/a&.$e.test/"; } >"$WORK/data/a.txt"
    { cat "$WORK/data/common"; seq 1 $((size - shared)) | sed "s/.*/b&.$e.test/"; } >"$WORK/data/b.txt"
    must "$PSI" submit --state "$(party_dir a)" "$WORK/data/a.txt" >/dev/null
    must "$PSI" submit --state "$(party_dir b)" "$WORK/data/b.txt" >/dev/null
    for p in a b; do must "$PSI" agent --state "$(party_dir $p)" --once >/dev/null; done
    say "epoch $e: 2 x $size indicators submitted and cross-blinded"
done

# writer PHASE: submits 20-indicator sets of w until $WORK/stop.PHASE exists;
# one duration (ms) a line in $WORK/logs/submit.PHASE
writer() {
    local phase=$1 i=0 t0
    while [ ! -e "$WORK/stop.$phase" ]; do
        i=$((i + 1))
        seq 1 20 | sed "s/.*/w$phase-$i-&.test/" >"$WORK/data/w.txt"
        t0=$(now_ms)
        "$PSI" submit --state "$(party_dir w)" "$WORK/data/w.txt" >/dev/null 2>>"$WORK/logs/writer.err" || return 1
        echo $(($(now_ms) - t0)) >>"$WORK/logs/submit.$phase"
    done
}
longest() { sort -n "$WORK/logs/submit.$1" | tail -n 1; }
count() { wc -l <"$WORK/logs/submit.$1"; }
run_phase() { # PHASE CMD...: CMD while the writer runs; CMD's output in $WORK/logs/PHASE.out
    local phase=$1
    shift
    writer "$phase" &
    local wpid=$!
    sleep 1
    must "$@" >"$WORK/logs/$phase.out"
    sleep 0.5
    touch "$WORK/stop.$phase"
    wait "$wpid" || fail "the writer failed: $(tail -n 3 "$WORK/logs/writer.err")"
}

run_phase idle sleep 3
before=$(store_bytes)
run_phase backup "$PSI_HUB" backup --dir "$HUB_DIR" --out "$WORK/backup.db"
backup_s=$(sed -n 's/.* bytes in \([0-9.]*\) s).*/\1/p' "$WORK/logs/backup.out")
backup_bytes=$(stat -c %s "$WORK/backup.db")
run_phase prune "$PSI_HUB" prune --dir "$HUB_DIR" --keep-epochs 1
after=$(store_bytes)
compact_s=$(sed -n 's/.*(compacted in \([0-9.]*\) s).*/\1/p' "$WORK/logs/prune.out")
sed 's/^/    | /' "$WORK/logs/backup.out" "$WORK/logs/prune.out"
say "store before prune $before bytes, after $after; compaction $compact_s s"
say "backup: $backup_bytes bytes in $backup_s s"
say "longest submit: idle $(longest idle) ms ($(count idle) submits), during backup $(longest backup) ms ($(count backup)), during prune $(longest prune) ms ($(count prune))"
hub_stop
echo "size=$size before_bytes=$before after_bytes=$after compact_s=$compact_s backup_bytes=$backup_bytes backup_s=$backup_s submit_max_idle_ms=$(longest idle) submit_max_backup_ms=$(longest backup) submit_max_prune_ms=$(longest prune)"
