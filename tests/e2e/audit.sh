#!/usr/bin/env bash
# The audit log end to end, against a real psi-hub on loopback:
#
#  1. Three agencies (agency-c shares with agency-a only) and an auditor run
#     Protocol 1 (submissions, a delta, agents both ways, results); the
#     operator changes a policy, admits and removes a fourth agency; two
#     refusals happen (an auditor asks for results, an agency for the log's
#     entries). `psi audit verify` then passes: every entry re-checked, the
#     root recomputed, the count of each kind as the run made them, no
#     violation; and every participant's stored receipts verify.
#  2. `psi audit export` writes a tlog-tiles tree; `export --verify` with the
#     hub key alone recomputes the checkpoint's root from the entry bundles
#     and compares every tile; a changed bundle is caught.
#  3. Tampering with the hub's store (sqlite3 on hub.db, triggers dropped
#     first, as anyone with the file can), each caught with the index named:
#     an entry changed, an entry removed, two entries swapped, a checkpoint
#     signed by another key.
#  4. A split view: the hub directory copied, the two copies given different
#     writes, agency-a on one, agency-b on the other. `psi audit compare`
#     names the pair of their checkpoints as inconsistent, and
#     `psi audit verify` with a state that trusted the other fork fails
#     consistency.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init audit "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=5
command -v sqlite3 >/dev/null || fail "the sqlite3 command-line tool is needed"

# expect_failure OUT CMD...: CMD must exit 1; its stdout+stderr go to OUT.
expect_failure() {
    local out=$1 rc=0
    shift
    "$@" >"$out" 2>&1 || rc=$?
    if [ "$rc" -ne 1 ]; then
        sed 's/^/    | /' "$out" >&2
        fail "exit $rc (expected 1) from: $*"
    fi
}

# expect_line FILE PATTERN WHAT: a line of FILE matches the extended regexp.
expect_line() {
    grep -Eq -- "$2" "$1" || {
        sed 's/^/    | /' "$1" >&2
        fail "$3: no line matching '$2'"
    }
}

# ---------------------------------------------------------------- 1. a run

data="$WORK/data"
mkdir -p "$data"
for i in $(seq 1 20); do echo "203.0.113.$i"; echo "shared$i.example.com"; done >"$data/common.txt"
{ cat "$data/common.txt"; for i in $(seq 1 15); do echo "a-only$i.example.org"; done; } >"$data/a.txt"
{ cat "$data/common.txt"; for i in $(seq 1 10); do echo "192.0.2.$i"; done; } >"$data/b.txt"
{ head -n 10 "$data/common.txt"; for i in $(seq 1 5); do echo "c-only$i.example.net"; done; } \
    >"$data/c.txt"
for i in $(seq 1 5); do echo "a-delta$i.example.org"; done >"$data/a-delta.txt"

hub_init "$WORK/hub" audit-hub --epoch manual:2026-W48
party_new agency-a agency --share-with all
party_new agency-b agency --share-with all
party_new agency-c agency --share-with agency-a
party_new auditor-x auditor
A=$(party_dir agency-a)
B=$(party_dir agency-b)
C=$(party_dir agency-c)
X=$(party_dir auditor-x)
hub_start

must "$PSI" submit --state "$A" "$data/a.txt" >/dev/null
must "$PSI" submit --state "$B" "$data/b.txt" >/dev/null
must "$PSI" submit --state "$C" "$data/c.txt" >/dev/null
for p in "$A" "$B" "$C"; do must "$PSI" agent --state "$p" --once >/dev/null; done
must "$PSI" submit --state "$A" "$data/a-delta.txt" >/dev/null
for p in "$B" "$C"; do must "$PSI" agent --state "$p" --once >/dev/null; done
for p in "$A" "$B" "$C"; do must "$PSI" results --state "$p" --json >/dev/null; done

# The operator's roster changes, while the hub serves.
must "$PSI_HUB" policy --dir "$HUB_DIR" --id agency-c --share-with agency-a,agency-b >/dev/null
d_key=$(must "$PSI" init --state "$(party_dir agency-d)" --id agency-d --hub "$HUB_URL" \
    --hub-key "$HUB_KEY" | tail -n 1)
must "$PSI_HUB" admit --dir "$HUB_DIR" --id agency-d --role agency --key "$d_key" >/dev/null
must "$PSI_HUB" remove --dir "$HUB_DIR" --id agency-d >/dev/null

# Two refusals the log records: an auditor asking for results, an agency
# asking for the log's entries (only auditors read them).
expect_failure "$WORK/logs/aud-results" "$PSI" results --state "$X"
expect_failure "$WORK/logs/a-verify" "$PSI" audit verify --state "$A"
expect_line "$WORK/logs/a-verify" "only auditors may call log.entries" "agency-a's verify"

# Entries the run made: 5 admits (4 + agency-d), 1 policy, 1 remove,
# 4 submissions, cross-blind batches: b and c of a's first set, a and c...
# counted from the hub's own tables, which the log must agree with.
db="$HUB_DIR/hub.db"
n_sub=$(sqlite3 "$db" "SELECT count(*) FROM submission")
n_cb=$(sqlite3 "$db" "SELECT count(*) FROM crossblind")
must "$PSI" audit verify --state "$X" --save "$WORK/x.cp" >"$WORK/logs/verify"
v="$WORK/logs/verify"
expect_line "$v" "^consistency: first use" "the first verify"
expect_line "$v" "^root: recomputed from the [0-9]+ entries, equal to the checkpoint's" "verify"
# One match record per cross-blind batch, matched or not (docs/log.md); one
# policy statement per agency, sent by its agent's first round (psi init
# records the party's own policy; docs/client.md).
expect_line "$v" "^  admit 5 policy 1 remove 1 epoch-key 0 submission $n_sub crossblind $n_cb match $n_cb refusal 2 feed 0 query 0 quota 0 answer 0 party-policy 3 element-quota 0$" \
    "the per-kind counts"
expect_line "$v" "^violations: 0$" "verify"
expect_line "$v" "^the log of audit-hub verifies$" "verify"
size=$(sed -n '2p' "$WORK/x.cp")
[ "$size" -ge 15 ] || fail "the log holds $size entries, fewer than the run made"
say "verify: $size entries, $n_sub submissions, $n_cb cross-blind batches, no violation"

# A second verify proves consistency from the checkpoint trusted now.
must "$PSI" audit verify --state "$X" >"$v"
expect_line "$v" "^consistency: proved from the trusted checkpoint of size $size" "the second verify"

# Every participant's receipts: one per submission and per cross-blind batch.
for p in agency-a agency-b agency-c; do
    dir=$(party_dir "$p")
    want=$(( $(sqlite3 "$dir/state.db" "SELECT count(*) FROM submissions WHERE receipt IS NOT NULL") +
             $(sqlite3 "$dir/state.db" "SELECT count(*) FROM agent_work WHERE receipt IS NOT NULL") ))
    [ "$want" -ge 2 ] || fail "$p holds only $want receipts"
    must "$PSI" audit receipt --state "$dir" >"$WORK/logs/receipts.$p"
    got=$(grep -c ': ok$' "$WORK/logs/receipts.$p")
    [ "$got" -eq "$want" ] || fail "$p: $got of $want receipts verified"
    must "$PSI" audit checkpoint --state "$dir" >"$WORK/$p.cp"
done
# A receipt file given by name, and a damaged one.
# (sqlite3 adds a newline of its own; the receipt ends in one already.)
printf '%s\n' "$(sqlite3 "$A/state.db" \
    "SELECT receipt FROM submissions WHERE receipt IS NOT NULL LIMIT 1")" >"$WORK/a.receipt"
must "$PSI" audit receipt --state "$A" "$WORK/a.receipt" >/dev/null
sed '3s/^./X/' "$WORK/a.receipt" >"$WORK/a-bad.receipt"
expect_failure "$WORK/logs/bad-receipt" "$PSI" audit receipt --state "$A" "$WORK/a-bad.receipt"
expect_line "$WORK/logs/bad-receipt" "FAILED" "a damaged receipt"
say "receipts: every stored receipt of the three agencies verifies; a damaged one does not"

# The checkpoints the participants hold agree with the auditor's.
must "$PSI" audit compare --state "$X" "$WORK/x.cp" "$WORK/agency-a.cp" "$WORK/agency-b.cp" \
    "$WORK/agency-c.cp" >"$WORK/logs/compare"
expect_line "$WORK/logs/compare" "^all 4 checkpoints are consistent$" "compare"

# ---------------------------------------------------------------- 2. tiles

must "$PSI" audit export --state "$X" --out "$WORK/tiles" >/dev/null
[ -f "$WORK/tiles/checkpoint" ] || fail "the export has no checkpoint"
[ -n "$(find "$WORK/tiles/tile/entries" -type f)" ] || fail "the export has no entry bundle"
must "$PSI" audit export --verify --out "$WORK/tiles" --hub-key "$HUB_KEY" >"$WORK/logs/tiles"
expect_line "$WORK/logs/tiles" "^root: recomputed from the entry bundles alone, equal to the checkpoint's" \
    "export --verify"
cp -a "$WORK/tiles" "$WORK/tiles-bad"
bundle=$(find "$WORK/tiles-bad/tile/entries" -type f | head -n 1)
byte=$(od -An -tu1 -j40 -N1 "$bundle" | tr -d ' ')
if [ "$byte" = 0 ]; then printf '\001'; else printf '\000'; fi |
    dd of="$bundle" bs=1 seek=40 conv=notrunc status=none
expect_failure "$WORK/logs/tiles-bad" "$PSI" audit export --verify --out "$WORK/tiles-bad" \
    --hub-key "$HUB_KEY"
expect_line "$WORK/logs/tiles-bad" "^root: FAILED" "a changed entry bundle"
# Byte 40 of bundle 0 lies in entry 0 (2 length bytes, then the admission of
# agency-a: its key at bytes 20..51); the level-0 tile names it.
expect_line "$WORK/logs/tiles-bad" "^entry 0: its bundle does not hold the entry" \
    "a changed entry bundle"
say "tiles: the export reproduces the checkpoint's root from the bundles alone"

# ---------------------------------------------------------------- 3. tampering

hub_stop
cp -a "$HUB_DIR" "$WORK/hub.pristine"
cp -a "$X" "$WORK/x.pristine"

# tampered NAME SQL: a fresh copy of the hub with SQL applied, served, and a
# fresh copy of the auditor's state; the verify's output in $WORK/logs/NAME.
tampered() {
    local name=$1 sql=$2
    hub_stop
    rm -rf "$HUB_DIR" "$X"
    cp -a "$WORK/hub.pristine" "$HUB_DIR"
    cp -a "$WORK/x.pristine" "$X"
    sqlite3 "$HUB_DIR/hub.db" "$sql" || fail "$name: the SQL did not apply"
    hub_start
    expect_failure "$WORK/logs/$name" "$PSI" audit verify --state "$X"
}
notrigger="DROP TRIGGER log_entry_kept; DROP TRIGGER log_entry_not_deleted;"

# a. An entry changed: the last byte of a submission's signature.
idx=$(sqlite3 "$WORK/hub.pristine/hub.db" \
    "SELECT idx FROM log_entry WHERE substr(entry, 2, 1) = X'05' ORDER BY idx LIMIT 1")
tampered changed "$notrigger UPDATE log_entry SET entry = substr(entry, 1, length(entry) - 1) ||
    CASE WHEN substr(entry, -1) = X'00' THEN X'01' ELSE X'00' END WHERE idx = $idx;"
expect_line "$WORK/logs/changed" "^entry $idx: differs from the entry checkpoint $size commits to" \
    "a changed entry"
expect_line "$WORK/logs/changed" "^entry $idx \(submission\): signature:" "a changed entry"
say "tamper: a changed entry is named (entry $idx)"

# b. An entry removed.
tampered removed "$notrigger DELETE FROM log_entry WHERE idx = 7;"
expect_line "$WORK/logs/removed" "entry 7 is missing" "a removed entry"
say "tamper: a removed entry is named (entry 7)"

# c. Two entries swapped.
tampered swapped "$notrigger
    UPDATE log_entry SET idx = 1000000 WHERE idx = 8;
    UPDATE log_entry SET idx = 8 WHERE idx = 9;
    UPDATE log_entry SET idx = 9 WHERE idx = 1000000;"
expect_line "$WORK/logs/swapped" "^entry 8: differs" "swapped entries"
expect_line "$WORK/logs/swapped" "^entry 9: differs" "swapped entries"
say "tamper: two swapped entries are named (entries 8 and 9)"

# d. A checkpoint signed by another key: a second hub of the same name.
must "$PSI_HUB" init --dir "$WORK/evil" --name audit-hub --epoch manual:2026-W48 >/dev/null
tampered forged "ATTACH '$WORK/evil/hub.db' AS evil;
    UPDATE log_head SET checkpoint = (SELECT checkpoint FROM evil.log_head);"
expect_line "$WORK/logs/forged" "not signed by the hub key audit-hub" "a forged checkpoint"
say "tamper: a checkpoint signed by another key is refused"

# ---------------------------------------------------------------- 4. a split view

hub_stop
rm -rf "$HUB_DIR" "$X"
cp -a "$WORK/hub.pristine" "$HUB_DIR"
cp -a "$WORK/x.pristine" "$X"
cp -a "$WORK/hub.pristine" "$WORK/hub2"
hub_start
HUB1_URL=$HUB_URL
HUB2_PORT=$(free_port)
HUB2_URL="tcp://127.0.0.1:$HUB2_PORT"
"$PSI_HUB" serve --dir "$WORK/hub2" --listen "$HUB2_URL" >>"$WORK/logs/hub2.log" 2>&1 &
HUB2_PID=$!
HARNESS_PIDS+=("$HUB2_PID")
for i in $(seq 200); do
    grep -q 'psi-hub: serving' "$WORK/logs/hub2.log" 2>/dev/null && break
    kill -0 "$HUB2_PID" 2>/dev/null || fail "the second hub exited"
    sleep 0.05
done
repoint() { sqlite3 "$1/state.db" "UPDATE config SET hub_url = '$2'"; }

# Different writes on each copy: agency-a submits on the first, agency-b
# twice on the second.
repoint "$B" "$HUB2_URL"
for i in 1 2 3; do echo "fork1-$i.example.org"; done >"$data/fork1.txt"
for i in 1 2 3; do echo "fork2-$i.example.org"; done >"$data/fork2.txt"
for i in 1 2 3; do echo "fork2b-$i.example.org"; done >"$data/fork2b.txt"
must "$PSI" submit --state "$A" "$data/fork1.txt" >/dev/null
must "$PSI" submit --state "$B" "$data/fork2.txt" >/dev/null
must "$PSI" submit --state "$B" "$data/fork2b.txt" >/dev/null
must "$PSI" audit checkpoint --state "$A" >"$WORK/fork-a.cp"
must "$PSI" audit checkpoint --state "$B" >"$WORK/fork-b.cp"
[ "$(sed -n 2p "$WORK/fork-a.cp")" = $((size + 1)) ] || fail "agency-a's fork is not at $((size + 1))"
[ "$(sed -n 2p "$WORK/fork-b.cp")" = $((size + 2)) ] || fail "agency-b's fork is not at $((size + 2))"
# Each participant alone sees nothing wrong.
must "$PSI" audit receipt --state "$A" >/dev/null
must "$PSI" audit receipt --state "$B" >/dev/null

# Compared, through either hub, the pair is named.
expect_failure "$WORK/logs/split" "$PSI" audit compare --state "$A" "$WORK/x.cp" \
    "$WORK/fork-a.cp" "$WORK/fork-b.cp"
expect_line "$WORK/logs/split" "^\[1\] and \[2\]: consistent$" "split view: the common past"
expect_line "$WORK/logs/split" "^\[2\] .*fork-a.cp and \[3\] .*fork-b.cp: NOT consistent" \
    "split view"
expect_line "$WORK/logs/split" "not consistent: the hub showed different logs" "split view"
expect_failure "$WORK/logs/split2" "$PSI" audit compare --state "$B" "$WORK/fork-a.cp" \
    "$WORK/fork-b.cp"
expect_line "$WORK/logs/split2" "NOT consistent" "split view through the second hub"
# Equal sizes, different roots: agency-a catches up to size+2 on its fork.
echo "fork1-extra.example.org" >"$data/fork1b.txt"
must "$PSI" submit --state "$A" "$data/fork1b.txt" >/dev/null
must "$PSI" audit checkpoint --state "$A" >"$WORK/fork-a2.cp"
expect_failure "$WORK/logs/split3" "$PSI" audit compare --hub-key "$HUB_KEY" "$WORK/fork-a2.cp" \
    "$WORK/fork-b.cp"
expect_line "$WORK/logs/split3" "two checkpoints of size $((size + 2)) with different roots" \
    "split view at equal sizes, offline"

# The auditor trusts the second fork, then meets the first: consistency fails.
repoint "$X" "$HUB2_URL"
must "$PSI" audit verify --state "$X" >/dev/null
repoint "$X" "$HUB1_URL"
expect_failure "$WORK/logs/fork-verify" "$PSI" audit verify --state "$X"
expect_line "$WORK/logs/fork-verify" "^consistency: FAILED" "verify across the fork"
# ... and so does agency-b, whose receipts came from the second fork.
repoint "$B" "$HUB1_URL"
expect_failure "$WORK/logs/fork-receipt" "$PSI" audit receipt --state "$B"
expect_line "$WORK/logs/fork-receipt" "FAILED" "receipts across the fork"
say "split view: compare names the inconsistent pair; verify and receipt fail across the fork"

kill -TERM "$HUB2_PID" 2>/dev/null || true
wait "$HUB2_PID" 2>/dev/null || true
say "PASS"
