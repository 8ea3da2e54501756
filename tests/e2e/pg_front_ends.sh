#!/usr/bin/env bash
# One hub, two front-ends, one PostgreSQL store (docs/hub.md, "Several
# front-ends"): `psi-hub init --store postgresql://...`, then two
# `psi-hub serve` on the same directory and different addresses. Six
# agencies are split between them (three talk to front-end A, three to B) and
# an auditor talks to B:
#  1. all six submit at once, then all six agents cross-blind at once, so
#     that the two halves of many pairs arrive through different front-ends
#     at the same moment;
#  2. every party's results are exactly the overlaps the scenario planted;
#  3. the log is one sequence: its entries are 0..size-1 without a gap, the
#     head's size is their number, and `psi audit verify` (the auditor, via
#     B) re-checks every entry and checkpoint from the start;
#  4. the same hub answers from both: the auditor's verify through A agrees
#     with what it verified through B;
#  5. a write through B wakes an agent subscribed to A's wake-up socket: a1's
#     agent, waiting 600 s between polls, cross-blinds b1's new set within
#     seconds (each front-end publishes the log's growth, whoever wrote).
# Replays and retries that cross front-ends, and the two halves of a pair
# committed at the same moment, are checked on two connections in
# server/store_pg_test.c.
#
# Env (set by ctest): PSI_BIN build dir. PSI_PG_FE_SIZE: indicators a party.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
# shellcheck source=tests/e2e/lib/pg.bash
. "$here/lib/pg.bash"
harness_init pg_front_ends "${PSI_BIN:-$here/../../build}"
pg_require
size=${PSI_PG_FE_SIZE:-1500}
side_a=(a1 a2 a3)
side_b=(b1 b2 b3)
parties=("${side_a[@]}" "${side_b[@]}")

pg_up
db_url=$(pg_db hub)
hub_init "$WORK/hub" pg-hub --store "$db_url"
[ -f "$HUB_DIR/store.url" ] && [ ! -e "$HUB_DIR/hub.db" ] ||
    fail "init --store postgresql://... did not write store.url (and only it)"
url_a=$HUB_URL
url_b="tcp://127.0.0.1:$(free_port)"
[ "$url_b" != "$url_a" ] || url_b="tcp://127.0.0.1:$(free_port)"

# fe_start NAME URL: psi-hub serve on URL, waiting for its "serving" line.
declare -A FE_PID=()
fe_start() {
    local name=$1 url=$2 log="$WORK/logs/fe.$1.log" i
    : >"$log"
    "$PSI_HUB" serve --dir "$HUB_DIR" --listen "$url" >>"$log" 2>&1 &
    FE_PID[$name]=$!
    HARNESS_PIDS+=($!)
    for i in $(seq 200); do
        grep -q 'psi-hub: serving' "$log" && return 0
        kill -0 "${FE_PID[$name]}" 2>/dev/null || { sed 's/^/    | /' "$log" >&2; fail "front-end $name exited"; }
        sleep 0.05
    done
    fail "front-end $name did not report serving within 10 s"
}
fe_start A "$url_a"
fe_start B "$url_b"
say "front-ends A ($url_a) and B ($url_b) over one PostgreSQL store"

for p in "${side_a[@]}"; do HUB_URL=$url_a party_new "$p" agency --share-with all; done
for p in "${side_b[@]}"; do HUB_URL=$url_b party_new "$p" agency --share-with all; done
HUB_URL=$url_b party_new auditor-x auditor
scenario_new "$size" "${parties[@]}"

# --------------------------------------------- 1. everything at once
run_all() { # run_all WHAT CMD-ARGS...: the command for every party at once
    local what=$1 p pid rc=0
    shift
    declare -A pids=()
    for p in "${parties[@]}"; do
        "$PSI" "$@" --state "$(party_dir "$p")" ${WITH_FILE:+"$WORK/sc/$p.txt"} \
            >"$WORK/logs/$what.$p.log" 2>&1 &
        pids[$p]=$!
        HARNESS_PIDS+=($!)
    done
    for p in "${parties[@]}"; do
        wait "${pids[$p]}" || { rc=$?; sed 's/^/    | /' "$WORK/logs/$what.$p.log" >&2; fail "$what of $p failed ($rc)"; }
    done
}
WITH_FILE=1 run_all submit submit
say "six submissions at once through two front-ends: all acknowledged"
for round in 1 2; do run_all "agent$round" agent --once; done
say "six agents at once, twice: done"

# --------------------------------------------- 2. exact results
results_match_scenario "results through two front-ends" "${parties[@]}"
say "results: $(wc -l <"$WORK/actual.tsv") overlaps, exactly as planted"

# --------------------------------------------- 3. one log
entries=$(pg_sql "$db_url" "SELECT count(*) FROM psi.log_entry")
span=$(pg_sql "$db_url" "SELECT coalesce(max(idx) + 1, 0) FROM psi.log_entry")
head=$(pg_sql "$db_url" "SELECT size FROM psi.log_head")
[ "$entries" = "$span" ] && [ "$entries" = "$head" ] ||
    fail "the log is not one sequence: $entries entries, indexes up to $span, head size $head"
must "$PSI" audit verify --state "$(party_dir auditor-x)" >"$WORK/logs/verify"
say "the log: $entries entries 0..$((entries - 1)), head size $head; psi audit verify passes"

# --------------------------------------------- 4. one nonce table, one hub
# The auditor's state points at B; the same verify through A (its hub URL
# changed in its state) sees the same, newer-or-equal checkpoint.
sqlite3 "$(party_dir auditor-x)/state.db" "UPDATE config SET hub_url = '$url_a'" ||
    fail "cannot point the auditor at front-end A"
must "$PSI" audit verify --state "$(party_dir auditor-x)" >"$WORK/logs/verify-a"
say "psi audit verify through front-end A agrees with what it verified through B"

# --------------------------------------------- 5. the wake-up crosses front-ends
"$PSI" agent --state "$(party_dir a1)" --interval 600 >"$WORK/logs/agent-a1.log" 2>&1 &
HARNESS_PIDS+=($!)
agent_a1=$!
sleep 3 # its first round (nothing to do), then it waits
printf 'domain\tlate-%s.example\n' one two >"$WORK/late.txt"
must "$PSI" submit --state "$(party_dir b1)" "$WORK/late.txt" >/dev/null
t0=$(date +%s)
until grep -q 'cross-blinded submission [0-9]* of b1' "$WORK/logs/agent-a1.log"; do
    [ $(($(date +%s) - t0)) -lt 20 ] ||
        fail "a1's agent (front-end A) was not woken by b1's submission through B within 20 s: $(tail -n 3 "$WORK/logs/agent-a1.log")"
    kill -0 "$agent_a1" 2>/dev/null || fail "a1's agent exited: $(tail -n 3 "$WORK/logs/agent-a1.log")"
    sleep 0.2
done
say "b1's submission through B woke a1's agent on A within $(($(date +%s) - t0)) s"
kill -TERM "$agent_a1" 2>/dev/null || true
wait "$agent_a1" 2>/dev/null || true

hub_pids_alive=0
for n in A B; do kill -0 "${FE_PID[$n]}" 2>/dev/null && hub_pids_alive=$((hub_pids_alive + 1)); done
[ "$hub_pids_alive" = 2 ] || fail "a front-end died during the run: $(cat "$WORK/logs/fe".*.log)"
grep -qi 'password\|panic\|assert' "$WORK/logs/fe.A.log" "$WORK/logs/fe.B.log" &&
    fail "a front-end's log says something it must not: $(grep -i 'password\|panic\|assert' "$WORK"/logs/fe.*.log)"
say "OK — six parties over two front-ends: exact results, one log, audit verify passes"
