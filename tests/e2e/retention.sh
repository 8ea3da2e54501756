#!/usr/bin/env bash
# Retention and backup end to end, against a real psi-hub on loopback
# (docs/operations.md, "Back up and prune"):
#
#  1. Two agencies run three epochs of the manual hub (psi-hub epoch --set),
#     each with its own sets and overlaps. `psi-hub prune --keep-epochs 1`
#     while the hub serves removes the two older epochs (said per epoch) and
#     the store (hub.db + WAL) shrinks by about their share (figures
#     printed); the kept epoch's results are exactly what they were; `psi
#     audit verify` passes against the served hub; a pruned epoch cannot be
#     made current again. prune refuses N = 0, a missing directory and an
#     unknown option, one line each.
#  2. `psi-hub backup` taken while parties submit; it refuses an existing
#     file without --force. Restored into a fresh directory (the hub key
#     copied apart, the backup as hub.db) and served: `psi audit verify`
#     passes for an auditor whose trusted checkpoint is older than the
#     backup (its log is a prefix of the original's), and an auditor that
#     already trusted a newer checkpoint sees the restored hub as a rollback
#     and says so.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init retention "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=10

# expect_refusal STATUS CMD...: CMD exits STATUS with exactly one line on stderr.
expect_refusal() {
    local want=$1 rc=0
    shift
    "$@" >"$WORK/logs/refusal.out" 2>"$WORK/logs/refusal.err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "exit $rc (expected $want) from: $* : $(cat "$WORK/logs/refusal.err")"
    [ "$(wc -l <"$WORK/logs/refusal.err")" -eq 1 ] ||
        fail "not one line on stderr from: $* : $(cat "$WORK/logs/refusal.err")"
}

store_bytes() { # DIR: hub.db and its WAL
    local n=0 f
    for f in "$1/hub.db" "$1/hub.db-wal"; do
        [ -f "$f" ] && n=$((n + $(stat -c %s "$f")))
    done
    echo "$n"
}

# ---------------------------------------------------------------- 1. three epochs, pruned

data="$WORK/data"
mkdir -p "$data"
# epoch E: each agency 4000 domains, 1000 of them shared, none shared across epochs
make_sets() { # EPOCH
    local e=$1
    seq 1 1000 | sed "s/.*/shared-&.$e.example.org/" >"$data/$e.common"
    { cat "$data/$e.common"; seq 1 3000 | sed "s/.*/a-&.$e.example.org/"; } >"$data/a.$e.txt"
    { cat "$data/$e.common"; seq 1 3000 | sed "s/.*/b-&.$e.example.net/"; } >"$data/b.$e.txt"
}

hub_init "$WORK/hub" retention-hub --epoch manual:E1
party_new agency-a agency --share-with all
party_new agency-b agency --share-with all
party_new auditor-x auditor
party_new auditor-y auditor
A=$(party_dir agency-a)
B=$(party_dir agency-b)
X=$(party_dir auditor-x)
Y=$(party_dir auditor-y)
hub_start

for e in E1 E2 E3; do
    if [ "$e" != E1 ]; then
        must "$PSI_HUB" epoch --dir "$HUB_DIR" --set "$e" >/dev/null
        for p in "$A" "$B"; do must "$PSI" epoch --state "$p" --accept "$e" >/dev/null; done
    fi
    make_sets "$e"
    must "$PSI" submit --state "$A" "$data/a.$e.txt" >/dev/null
    must "$PSI" submit --state "$B" "$data/b.$e.txt" >/dev/null
    for p in "$A" "$B"; do must "$PSI" agent --state "$p" --once >/dev/null; done
    results_flat agency-a "$WORK/logs/a.$e.before"
    [ "$(wc -l <"$WORK/logs/a.$e.before")" -eq 1000 ] ||
        fail "agency-a's results of $e hold $(wc -l <"$WORK/logs/a.$e.before") values, not 1000"
done
results_flat agency-b "$WORK/logs/b.E3.before"
must "$PSI" audit verify --state "$X" >/dev/null

before=$(store_bytes "$HUB_DIR")
out=$(must "$PSI_HUB" prune --dir "$HUB_DIR" --keep-epochs 1)
printf '%s\n' "$out" | sed 's/^/    | /'
grep -q '^psi-hub prune: keeping epoch E3 (2 sets, 8000 elements)$' <<<"$out" ||
    fail "prune did not keep E3"
for e in E1 E2; do
    grep -q "^psi-hub prune: removed epoch $e: 2 sets, 8000 elements, 2 cross-blind batches, 8000 tags, 2000 matches," <<<"$out" ||
        fail "prune did not say what it removed of $e"
done
after=$(store_bytes "$HUB_DIR")
say "store (hub.db + WAL) before prune: $before bytes, after: $after bytes ($((after * 100 / before))%)"
# Two of the three epochs' data is gone; the roster, the log and the kept
# epoch remain: at least 40% of the bytes must have come back.
[ "$after" -lt $((before * 60 / 100)) ] ||
    fail "the store took $before bytes before prune and $after after: the pruned epochs' space was not given back"
grep -q "the store took $before bytes, now $after " <<<"$out" ||
    fail "prune's own figures ($(tail -n 1 <<<"$out")) are not the files' ($before, $after)"

# The kept epoch's results, exactly as before; the pruned epochs' are gone.
results_flat agency-a "$WORK/logs/a.E3.after"
results_flat agency-b "$WORK/logs/b.E3.after"
cmp -s "$WORK/logs/a.E3.before" "$WORK/logs/a.E3.after" || fail "agency-a's results of E3 changed"
cmp -s "$WORK/logs/b.E3.before" "$WORK/logs/b.E3.after" || fail "agency-b's results of E3 changed"
must_to "$WORK/logs/a.E1.pruned" "$PSI" results --state "$A" --epoch E1 --json
[ ! -s "$WORK/logs/a.E1.pruned" ] || fail "results of the pruned epoch E1 still come from the hub"
# The log stays whole and verifies: every entry re-checked, proved
# consistent with the checkpoint the auditor trusted before the prune.
out=$(must "$PSI" audit verify --state "$X")
grep -q "^consistency: proved from the trusted checkpoint" <<<"$out" ||
    fail "audit verify after prune: $out"
say "after prune: E3's results unchanged, psi audit verify passes"
expect_refusal 1 "$PSI_HUB" epoch --dir "$HUB_DIR" --set E1
grep -q "epoch E1 was pruned" "$WORK/logs/refusal.err" || fail "$(cat "$WORK/logs/refusal.err")"
# a second prune finds nothing to do
out=$(must "$PSI_HUB" prune --dir "$HUB_DIR" --keep-epochs 1)
grep -q '^psi-hub prune: nothing to prune (1 epochs hold data)' <<<"$out" || fail "second prune: $out"

expect_refusal 2 "$PSI_HUB" prune --dir "$HUB_DIR" --keep-epochs 0
grep -q -- "--keep-epochs' wants a whole number from 1" "$WORK/logs/refusal.err" ||
    fail "$(cat "$WORK/logs/refusal.err")"
expect_refusal 1 "$PSI_HUB" prune --dir "$WORK/no-such-hub" --keep-epochs 1
grep -q "no hub directory $WORK/no-such-hub" "$WORK/logs/refusal.err" ||
    fail "$(cat "$WORK/logs/refusal.err")"
expect_refusal 1 "$PSI_HUB" prune --dir "$HUB_DIR/hub.key" --keep-epochs 1
grep -q "is not a hub directory" "$WORK/logs/refusal.err" || fail "$(cat "$WORK/logs/refusal.err")"
mkdir -p "$WORK/empty"
expect_refusal 1 "$PSI_HUB" prune --dir "$WORK/empty" --keep-epochs 1
grep -q "no hub in $WORK/empty" "$WORK/logs/refusal.err" || fail "$(cat "$WORK/logs/refusal.err")"
expect_refusal 2 "$PSI_HUB" prune --dir "$HUB_DIR" --keep-epochs 1 --older-than 3
grep -q "unknown option '--older-than'" "$WORK/logs/refusal.err" ||
    fail "$(cat "$WORK/logs/refusal.err")"

# ---------------------------------------------------------------- 2. backup while parties submit

more() { # PARTY-STATE TAG N: N small submissions of the current epoch
    local i
    for i in $(seq 1 "$3"); do
        seq 1 200 | sed "s/.*/$2-$i-&.late.example/" >"$data/$2.$i.txt"
        "$PSI" submit --state "$1" "$data/$2.$i.txt" >>"$WORK/logs/more.$2.log" 2>&1 || return 1
    done
}
more "$A" a 8 &
SUB_A=$!
HARNESS_PIDS+=("$SUB_A")
more "$B" b 8 &
SUB_B=$!
HARNESS_PIDS+=("$SUB_B")
# the auditor trusts a checkpoint from before the backup
must "$PSI" audit verify --state "$X" >/dev/null
sleep 1
backup="$WORK/backup/hub-backup.db"
mkdir -p "$WORK/backup"
out=$(must "$PSI_HUB" backup --dir "$HUB_DIR" --out "$backup")
say "$out"
[ "$(stat -c %a "$backup")" = 600 ] || fail "the backup's mode is $(stat -c %a "$backup"), not 600"
kill -0 "$SUB_A" 2>/dev/null || kill -0 "$SUB_B" 2>/dev/null ||
    say "note: the submissions ended before the backup was taken"
wait "$SUB_A" || fail "agency-a's submissions failed during the backup: $(tail -n 3 "$WORK/logs/more.a.log")"
wait "$SUB_B" || fail "agency-b's submissions failed during the backup: $(tail -n 3 "$WORK/logs/more.b.log")"
expect_refusal 1 "$PSI_HUB" backup --dir "$HUB_DIR" --out "$backup"
grep -q "exists (--force replaces it)" "$WORK/logs/refusal.err" || fail "$(cat "$WORK/logs/refusal.err")"
cp "$backup" "$WORK/backup/first.db"
# --force replaces what is there (a stand-in, so that the check does not hang
# on whether the store changed between the two backups)
echo "not a backup" >"$backup"
must "$PSI_HUB" backup --dir "$HUB_DIR" --out "$backup" --force >/dev/null
[ "$(head -c 15 "$backup")" = "SQLite format 3" ] || fail "--force did not replace the file"
cp "$WORK/backup/first.db" "$backup"
expect_refusal 1 "$PSI_HUB" backup --dir "$HUB_DIR" --out "$WORK/backup" --force
grep -q "is not a file" "$WORK/logs/refusal.err" || fail "$(cat "$WORK/logs/refusal.err")"
expect_refusal 1 "$PSI_HUB" backup --dir "$HUB_DIR" --out "$WORK/no-such-dir/b.db"
grep -q "cannot create $WORK/no-such-dir/b.db.partial" "$WORK/logs/refusal.err" ||
    fail "$(cat "$WORK/logs/refusal.err")"
expect_refusal 1 "$PSI_HUB" backup --dir "$WORK/empty" --out "$WORK/backup/x.db"
grep -q "no hub in $WORK/empty" "$WORK/logs/refusal.err" || fail "$(cat "$WORK/logs/refusal.err")"
# One more write after the backup, whatever the timing of the submissions
# above (on a loaded machine they may all end before the backup is taken):
# then the hub's log is surely longer than the backup's.
seq 1 20 | sed 's/.*/after-backup-&.late.example/' >"$data/after-backup.txt"
must "$PSI" submit --state "$A" "$data/after-backup.txt" >/dev/null
# auditor-y now trusts the hub's latest checkpoint, newer than the backup
must "$PSI" audit verify --state "$Y" >/dev/null

# Restore: a fresh directory, the key kept apart, the backup as the store.
hub_stop
restored="$WORK/restored"
mkdir -m 700 "$restored"
install -m 600 "$HUB_DIR/hub.key" "$restored/hub.key"
install -m 600 "$backup" "$restored/hub.db"
HUB_DIR=$restored
hub_start
out=$(must "$PSI" audit verify --state "$X")
grep -q "^consistency: proved from the trusted checkpoint" <<<"$out" ||
    fail "the auditor's older checkpoint is not proved consistent with the restored hub: $out"
say "restored hub: psi audit verify passes for the auditor (its checkpoint precedes the backup)"
rc=0
out=$("$PSI" audit verify --state "$Y" 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "auditor-y, which trusted a newer checkpoint, accepted the restored (older) hub"
grep -q "consistency: FAILED" <<<"$out" || fail "auditor-y's refusal of the rollback: $out"
say "auditor-y, which had seen a newer checkpoint, sees the restored hub as a rollback: $(grep 'consistency: FAILED' <<<"$out")"
hub_stop
say "ok"
