#!/usr/bin/env bash
# psi status and psi results --wait: whether results are complete is a fact.
#
# Three agencies share with all. a, b and c submit; before any agent runs,
# `psi status` of a shows its submission pending at b and c (table and
# --json), `psi results` starts with "incomplete: ...", and `psi results
# --wait --timeout 2` gives up with one line, exit 1. Then each agent runs
# once; a's status is complete ("all 2 peers have cross-blinded your 1
# submission"), results say so on their first line (on stderr with --json,
# stdout keeping one indicator a line), and --wait returns at once. Nothing
# of b's or c's own submissions is in a's status.
#
# The agents' wake-up: every agent then runs on its defaults (--interval 10,
# backing off to a 20 s wait when idle). a submits a new set; its results
# must be complete within 10 s (psi results --wait --timeout 10), which only
# the hub's wake-up socket makes possible (polling alone would take ~20 s).
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
harness_init status_wait "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=10

hub_init "$WORK/hub" status-hub --epoch manual:S1
party_new a agency --share-with all
party_new b agency --share-with all
party_new c agency --share-with all
hub_start
A=$(party_dir a) B=$(party_dir b) C=$(party_dir c)

mkdir -p "$WORK/data"
printf 'domain\tshared-ab.test\ndomain\tonly-a.test\ndomain\tshared-abc.test\n' >"$WORK/data/a.txt"
printf 'domain\tshared-ab.test\ndomain\tshared-abc.test\ndomain\tonly-b.test\n' >"$WORK/data/b.txt"
printf 'domain\tshared-abc.test\ndomain\tonly-c.test\n' >"$WORK/data/c.txt"
for p in a b c; do must "$PSI" submit --state "$(party_dir $p)" "$WORK/data/$p.txt" >/dev/null; done

# ---- before any agent ran
out=$(must "$PSI" status --state "$A")
say "status of a before the agents: $(printf '%s\n' "$out" | head -n 1)"
printf '%s\n' "$out" | head -n 1 | grep -q '^epoch S1: incomplete: b and c have not yet cross-blinded submission 1; your agent has not yet cross-blinded 2 sets of peers$' ||
    fail "status of a does not say b and c are pending: $out"
printf '%s\n' "$out" | grep -Eq '^1 +3 +- +b, c$' || fail "status table of a: $out"
json=$(must "$PSI" status --state "$A" --json)
[ "$json" = '{"epoch":"S1","complete":false,"own_pending":2,"submissions":[{"submission":1,"count":3,"done":[],"pending":["b","c"]}]}' ] ||
    fail "status --json of a: $json"
table=$(must "$PSI" results --state "$A")
printf '%s\n' "$table" | head -n 1 | grep -q '^incomplete: b and c have not yet' ||
    fail "results do not start with incomplete: $table"
rc=0
"$PSI" results --state "$A" --wait --timeout 2 >"$WORK/logs/wait.out" 2>"$WORK/logs/wait.err" || rc=$?
[ "$rc" -eq 1 ] || fail "results --wait --timeout 2 exited $rc, expected 1"
grep -q '^psi results: still incomplete: b and c have not yet cross-blinded submission 1.* after 2 s (--timeout)$' \
    "$WORK/logs/wait.err" || fail "results --wait timeout line: $(cat "$WORK/logs/wait.err")"
[ ! -s "$WORK/logs/wait.out" ] || fail "results --wait printed results on timeout"

# ---- every agent once: complete
for p in a b c; do must "$PSI" agent --state "$(party_dir $p)" --once >/dev/null; done
out=$(must "$PSI" status --state "$A")
printf '%s\n' "$out" | head -n 1 | grep -q '^epoch S1: complete: all 2 peers have cross-blinded your 1 submission$' ||
    fail "status of a after the agents: $out"
printf '%s\n' "$out" | grep -Eq '^1 +3 +b, c +-$' || fail "status table of a: $out"
out=$(must "$PSI" status --state "$B" --json)
[ "$out" = '{"epoch":"S1","complete":true,"own_pending":0,"submissions":[{"submission":2,"count":3,"done":["a","c"],"pending":[]}]}' ] ||
    fail "status --json of b: $out"
start=$(date +%s%N)
must_to "$WORK/logs/a.table" "$PSI" results --state "$A" --wait --timeout 30
ms=$((($(date +%s%N) - start) / 1000000))
say "results --wait with complete results returned in $ms ms"
[ "$ms" -lt 5000 ] || fail "results --wait took $ms ms with complete results"
head -n 1 "$WORK/logs/a.table" | grep -q '^complete: all 2 peers have cross-blinded your 1 submission$' ||
    fail "results header: $(cat "$WORK/logs/a.table")"
grep -q '2 of a.s indicators are also held by others' "$WORK/logs/a.table" ||
    fail "results table: $(cat "$WORK/logs/a.table")"
# --json: stdout one indicator a line, the status line on stderr
"$PSI" results --state "$A" --json >"$WORK/logs/a.jsonl" 2>"$WORK/logs/a.jsonl.err" ||
    fail "results --json failed: $(cat "$WORK/logs/a.jsonl.err")"
[ "$(wc -l <"$WORK/logs/a.jsonl")" -eq 2 ] || fail "results --json: $(cat "$WORK/logs/a.jsonl")"
! grep -qv '"type"' "$WORK/logs/a.jsonl" || fail "results --json has a line that is no indicator"
grep -q '^psi results: complete: all 2 peers' "$WORK/logs/a.jsonl.err" ||
    fail "results --json stderr: $(cat "$WORK/logs/a.jsonl.err")"
# usage
rc=0
"$PSI" results --state "$A" --timeout 5 >/dev/null 2>"$WORK/logs/usage.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--timeout goes with --wait' "$WORK/logs/usage.err" ||
    fail "--timeout without --wait: exit $rc, $(cat "$WORK/logs/usage.err")"
# ---- the agents' wake-up
PIDS=()
for p in a b c; do
    "$PSI" agent --state "$(party_dir $p)" >"$WORK/logs/agent.$p.log" 2>&1 &
    PIDS+=($!)
    HARNESS_PIDS+=($!) # stopped by the harness if this script fails
done
sleep 3 # every agent has done its first round and naps (20 s by polling alone)
printf 'domain\tshared-ab.test\ndomain\tnew-a-1.test\ndomain\tnew-a-2.test\n' >"$WORK/data/a2.txt"
must "$PSI" submit --state "$A" "$WORK/data/a2.txt" >/dev/null
start=$(date +%s%N)
must_to "$WORK/logs/a2.table" "$PSI" results --state "$A" --wait --timeout 10
ms=$((($(date +%s%N) - start) / 1000000))
head -n 1 "$WORK/logs/a2.table" | grep -q '^complete: all 2 peers have cross-blinded your 2 submissions$' ||
    fail "results header after the wake-up: $(cat "$WORK/logs/a2.table")"
say "a new submission's results were complete $ms ms after psi submit, agents on their defaults"
for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
for pid in "${PIDS[@]}"; do
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || fail "an agent exited $rc on SIGTERM"
done
hub_stop
say "ok"
