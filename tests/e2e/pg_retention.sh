#!/usr/bin/env bash
# Prune, the status page and backup on a hub whose store is PostgreSQL
# (docs/operations.md, "Back up and prune"), against a real psi-hub serving
# with --http and a cluster of the test's own:
#
#  1. Two agencies run three epochs (manual epochs E1, E2, E3), each with its
#     own sets and 500 shared values; /status.json counts every epoch's
#     elements, tags and matches.
#  2. `psi-hub prune --keep-epochs 2` while the hub serves removes E1 (said
#     with its counts): E1's tag partition is dropped (no longer a table of
#     the schema psi, nor in psi.tag_partition), E2's and E3's stay; the
#     kept epochs' results are exactly what they were; `psi audit verify`
#     passes; /status.json counts what is left; E1 cannot be made current
#     again.
#  3. A new epoch E4 after the prune: its cross-blinds make a new tag
#     partition (whose name must not be one still in use) and its results
#     are right.
#  4. `psi-hub backup` on this hub says, in one line, to use pg_dump. The
#     way docs/operations.md gives instead: pg_dump of the schema psi,
#     pg_restore into a new database, a new hub directory with the hub key
#     and a store.url naming that database; served, `psi audit verify`
#     passes and the results are the same.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
# shellcheck source=tests/e2e/lib/pg.bash
. "$here/lib/pg.bash"
harness_init pg_retention "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=20
pg_require
PG_BIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PG_BIN/pg_dump" ] || [ ! -x "$PG_BIN/pg_restore" ]; then
    skip "no pg_dump / pg_restore in $PG_BIN (postgresql-client-15)"
fi
probe() { python3 "$here/lib/http_probe.py" "$@"; }

# expect_refusal STATUS CMD...: CMD exits STATUS with exactly one line on stderr.
expect_refusal() {
    local want=$1 rc=0
    shift
    "$@" >"$WORK/logs/refusal.out" 2>"$WORK/logs/refusal.err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "exit $rc (expected $want) from: $* : $(cat "$WORK/logs/refusal.err")"
    [ "$(wc -l <"$WORK/logs/refusal.err")" -eq 1 ] ||
        fail "not one line on stderr from: $* : $(cat "$WORK/logs/refusal.err")"
}

# status_counts URL: "elements tags matches" of /status.json's store
status_counts() {
    [ "$(probe get "$BASE/status.json" "$WORK/status.json")" = 200 ] || fail "/status.json"
    python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["store"]
assert s["bytes"] > 0, s
print(s["elements"], s["tags"], s["matches"])' "$WORK/status.json"
}

partitions() { # the epochs with a tag partition, and the tag partitions that are tables
    pg_sql "$db_url" "SELECT string_agg(epoch, ' ' ORDER BY epoch) FROM psi.tag_partition"
    pg_sql "$db_url" "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'psi.tag'::regclass"
}

data="$WORK/data"
mkdir -p "$data"
make_sets() { # EPOCH: each agency 1500 domains, 500 of them shared
    local e=$1
    seq 1 500 | sed "s/.*/shared-&.$e.example.org/" >"$data/$e.common"
    { cat "$data/$e.common"; seq 1 1000 | sed "s/.*/a-&.$e.example.org/"; } >"$data/a.$e.txt"
    { cat "$data/$e.common"; seq 1 1000 | sed "s/.*/b-&.$e.example.net/"; } >"$data/b.$e.txt"
}
run_epoch() { # EPOCH
    local e=$1 p
    if [ "$e" != E1 ]; then
        must "$PSI_HUB" epoch --dir "$HUB_DIR" --set "$e" >/dev/null
        for p in "$A" "$B"; do must "$PSI" epoch --state "$p" --accept "$e" >/dev/null; done
    fi
    make_sets "$e"
    must "$PSI" submit --state "$A" "$data/a.$e.txt" >/dev/null
    must "$PSI" submit --state "$B" "$data/b.$e.txt" >/dev/null
    for p in "$A" "$B"; do must "$PSI" agent --state "$p" --once >/dev/null; done
    results_flat agency-a "$WORK/logs/a.$e.before"
    [ "$(wc -l <"$WORK/logs/a.$e.before")" -eq 500 ] ||
        fail "agency-a's results of $e hold $(wc -l <"$WORK/logs/a.$e.before") values, not 500"
}

# ---------------------------------------------------------------- 1. three epochs

pg_up
db_url=$(pg_db hub)
hub_init "$WORK/hub" pg-retention --store "$db_url" --epoch manual:E1
party_new agency-a agency --share-with all
party_new agency-b agency --share-with all
party_new auditor-x auditor
A=$(party_dir agency-a)
B=$(party_dir agency-b)
X=$(party_dir auditor-x)
HTTP_PORT=$(free_port)
HUB_SERVE_ARGS=(--http "127.0.0.1:$HTTP_PORT")
BASE="http://127.0.0.1:$HTTP_PORT"
hub_start

for e in E1 E2 E3; do run_epoch "$e"; done
results_flat agency-b "$WORK/logs/b.E3.before"
must "$PSI" audit verify --state "$X" >/dev/null
counts=$(status_counts)
[ "$counts" = "9000 9000 3000" ] ||
    fail "/status.json's store before prune: $counts (elements tags matches), not 9000 9000 3000"
[ "$(partitions | tr '\n' ' ')" = "E1 E2 E3 3 " ] || fail "tag partitions before prune: $(partitions)"
e1_table=$(pg_sql "$db_url" "SELECT name FROM psi.tag_partition WHERE epoch = 'E1'")
[ "$(pg_sql "$db_url" "SELECT to_regclass('psi.$e1_table') IS NOT NULL")" = t ] ||
    fail "E1's tag partition psi.$e1_table is not a table"
say "three epochs: /status.json counts 9000 elements, 9000 tags, 3000 matches; 3 tag partitions"

# ---------------------------------------------------------------- 2. prune while serving

out=$(must "$PSI_HUB" prune --dir "$HUB_DIR" --keep-epochs 2)
printf '%s\n' "$out" | sed 's/^/    | /'
for e in E3 E2; do
    grep -q "^psi-hub prune: keeping epoch $e (2 sets, 3000 elements)$" <<<"$out" ||
        fail "prune did not keep $e"
done
grep -q "^psi-hub prune: removed epoch E1: 2 sets, 3000 elements, 2 cross-blind batches, 3000 tags, 1000 matches, 0 feeds, 0 feed keys, 0 query batches$" <<<"$out" ||
    fail "prune did not say what it removed of E1"
grep -q "^psi-hub prune: 1 epoch removed; the store took [0-9]* bytes, now [0-9]* " <<<"$out" ||
    fail "prune gave no figures"
read -r before after < <(sed -n 's/.*the store took \([0-9]*\) bytes, now \([0-9]*\) .*/\1 \2/p' <<<"$out")
say "store (the schema psi's tables) before prune: $before bytes, after: $after bytes ($((after * 100 / before))%)"
[ "$after" -lt "$before" ] || fail "the store took $before bytes before prune and $after after"
[ "$(partitions | tr '\n' ' ')" = "E2 E3 2 " ] || fail "tag partitions after prune: $(partitions)"
[ "$(pg_sql "$db_url" "SELECT to_regclass('psi.$e1_table') IS NULL")" = t ] ||
    fail "E1's tag partition psi.$e1_table is still a table"
[ "$(pg_sql "$db_url" "SELECT count(*) FROM psi.submission WHERE epoch = 'E1'")" = 0 ] ||
    fail "E1's submissions are still in the store"
[ "$(pg_sql "$db_url" "SELECT count(*) FROM psi.meta WHERE key = 'pruned_epoch:E1'")" = 1 ] ||
    fail "no meta pruned_epoch:E1"
expect_refusal 1 "$PSI_HUB" epoch --dir "$HUB_DIR" --set E1
grep -q "epoch E1 was pruned" "$WORK/logs/refusal.err" || fail "$(cat "$WORK/logs/refusal.err")"

for e in E2 E3; do
    must_to "$WORK/logs/a.$e.json" "$PSI" results --state "$A" --epoch "$e" --json
    "$PSI_SCENARIO" --flatten "$WORK/logs/a.$e.json" |
        awk 'BEGIN { FS = OFS = "\t" } { print "agency-a", $0 }' | LC_ALL=C sort >"$WORK/logs/a.$e.after"
    cmp -s "$WORK/logs/a.$e.before" "$WORK/logs/a.$e.after" || fail "agency-a's results of $e changed"
done
results_flat agency-b "$WORK/logs/b.E3.after"
cmp -s "$WORK/logs/b.E3.before" "$WORK/logs/b.E3.after" || fail "agency-b's results of E3 changed"
must_to "$WORK/logs/a.E1.pruned" "$PSI" results --state "$A" --epoch E1 --json
[ ! -s "$WORK/logs/a.E1.pruned" ] || fail "results of the pruned epoch E1 still come from the hub"
out=$(must "$PSI" audit verify --state "$X")
grep -q "^consistency: proved from the trusted checkpoint" <<<"$out" ||
    fail "audit verify after prune: $out"
counts=$(status_counts)
[ "$counts" = "6000 6000 2000" ] ||
    fail "/status.json's store after prune: $counts (elements tags matches), not 6000 6000 2000"
say "after prune: E1's partition dropped, E2's and E3's results unchanged, psi audit verify passes, /status.json counts 6000 6000 2000"

# ---------------------------------------------------------------- 3. a new epoch after the prune

run_epoch E4
[ "$(partitions | tr '\n' ' ')" = "E2 E3 E4 3 " ] || fail "tag partitions with E4: $(partitions)"
counts=$(status_counts)
[ "$counts" = "9000 9000 3000" ] || fail "/status.json's store with E4: $counts, not 9000 9000 3000"
say "E4 after the prune: a new tag partition, 500 results"

# ---------------------------------------------------------------- 4. backup: pg_dump

expect_refusal 1 "$PSI_HUB" backup --dir "$HUB_DIR" --out "$WORK/hub-backup.db"
grep -q "pg_dump" "$WORK/logs/refusal.err" || fail "backup on PostgreSQL: $(cat "$WORK/logs/refusal.err")"
[ ! -e "$WORK/hub-backup.db" ] || fail "backup on PostgreSQL left a file"
say "psi-hub backup: $(cat "$WORK/logs/refusal.err")"

must "$PSI" audit verify --state "$X" >/dev/null # a checkpoint the dump holds
dump="$WORK/hub.pgdump"
must "$PG_BIN/pg_dump" --format=custom --schema=psi --file="$dump" "$db_url"
restored_url=$(pg_db restored)
must "$PG_BIN/pg_restore" --exit-on-error --dbname="$restored_url" "$dump"
hub_stop
restored="$WORK/restored"
mkdir -m 700 "$restored"
install -m 600 "$HUB_DIR/hub.key" "$restored/hub.key"
(umask 077 && printf '%s\n' "$restored_url" >"$restored/store.url")
HUB_DIR=$restored
hub_start
out=$(must "$PSI" audit verify --state "$X")
grep -q "^consistency: proved from the trusted checkpoint" <<<"$out" ||
    fail "audit verify against the restored hub: $out"
must_to "$WORK/logs/b.E3.json" "$PSI" results --state "$B" --epoch E3 --json
"$PSI_SCENARIO" --flatten "$WORK/logs/b.E3.json" |
    awk 'BEGIN { FS = OFS = "\t" } { print "agency-b", $0 }' | LC_ALL=C sort >"$WORK/logs/b.E3.restored"
cmp -s "$WORK/logs/b.E3.before" "$WORK/logs/b.E3.restored" ||
    fail "agency-b's results of E3 from the restored hub differ"
counts=$(status_counts)
[ "$counts" = "9000 9000 3000" ] || fail "/status.json of the restored hub: $counts"
say "pg_dump -> pg_restore into a new database, served: psi audit verify passes, E3's results the same ($(stat -c %s "$dump") bytes of dump)"
hub_stop
say "ok"
