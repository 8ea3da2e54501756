#!/usr/bin/env bash
# Crashes of a hub on PostgreSQL with two front-ends (A and B, one store):
#
#  1. A front-end dies (SIGKILL) in the middle of submissions: the parties of
#     the other front-end carry on and finish; every chunk acknowledged
#     through the dead one is in the store; its parties then send the rest
#     through the other front-end, and each set is stored whole, once.
#  2. A front-end dies (SIGKILL) in the middle of cross-blinding (all agents
#     at work); it restarts, the agents run again, and every party's results
#     are exactly the planted overlaps. `psi audit verify` passes.
#  3. The PostgreSQL server dies (SIGKILL to the postmaster and every
#     backend) in the middle of two more parties' submissions; it restarts
#     (crash recovery), the front-ends reconnect by themselves, no chunk
#     acknowledged before the crash is missing, the rest goes in, results
#     are exact, and `psi audit verify` passes: consistent with the
#     checkpoint the auditor verified before the crash (nothing acknowledged
#     lost from the log either).
#
# Env (set by ctest): PSI_BIN build dir. PSI_PG_CRASH_SIZE: indicators a party.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
# shellcheck source=tests/e2e/lib/pg.bash
. "$here/lib/pg.bash"
harness_init pg_crash "${PSI_BIN:-$here/../../build}"
pg_require
command -v sqlite3 >/dev/null || fail "the sqlite3 command is needed (scripts/setup.sh installs it)"
size=${PSI_PG_CRASH_SIZE:-2000}
chunks=4
parties=(a1 a2 b1 b2 c1 c2)
declare -A SIDE=([a1]=A [a2]=A [b1]=B [b2]=B [c1]=A [c2]=B)

pg_up
db_url=$(pg_db hub)
hub_init "$WORK/hub" pg-crash-hub --store "$db_url"
declare -A FE_URL=([A]=$HUB_URL [B]="tcp://127.0.0.1:$(free_port)")
declare -A FE_PID=()
fe_start() {
    local name=$1 log="$WORK/logs/fe.$1.log" i
    : >"$log"
    "$PSI_HUB" serve --dir "$HUB_DIR" --listen "${FE_URL[$name]}" >>"$log" 2>&1 &
    FE_PID[$name]=$!
    HARNESS_PIDS+=($!)
    for i in $(seq 200); do
        grep -q 'psi-hub: serving' "$log" && return 0
        kill -0 "${FE_PID[$name]}" 2>/dev/null || { sed 's/^/    | /' "$log" >&2; fail "front-end $name exited"; }
        sleep 0.05
    done
    fail "front-end $name did not report serving within 10 s"
}
fe_kill() {
    kill -KILL "${FE_PID[$1]}" 2>/dev/null || true
    wait "${FE_PID[$1]}" 2>/dev/null || true
}
# point PARTY FRONT-END: the party talks to that front-end from now on.
point() {
    sqlite3 "$(party_dir "$1")/state.db" "UPDATE config SET hub_url = '${FE_URL[$2]}'" ||
        fail "cannot point $1 at front-end $2"
}
fe_start A
fe_start B
for p in "${parties[@]}"; do HUB_URL=${FE_URL[${SIDE[$p]}]} party_new "$p" agency --share-with all; done
HUB_URL=${FE_URL[B]} party_new auditor-x auditor
scenario_new "$size" "${parties[@]}"
mkdir -p "$WORK/chunks" "$WORK/run"
for p in "${parties[@]}"; do
    awk -v n="$chunks" -v dir="$WORK/chunks" -v p="$p" '{ print > (dir "/" p "." (NR % n)) }' "$WORK/sc/$p.txt"
    ingest_flat "$WORK/run/$p.set" "$WORK/sc/$p.txt"
done

# stored OWNER: "positions distinct" of OWNER's elements in the store.
stored() {
    pg_sql "$db_url" "SELECT coalesce(sum(s.count), 0) FROM psi.submission s WHERE s.owner = '$1'" >"$WORK/run/pos" ||
        fail "cannot read the store"
    pg_sql "$db_url" "SELECT count(*), count(DISTINCT substring(e.elements FROM k * 32 + 1 FOR 32))
        FROM psi.element_block e JOIN psi.submission s ON s.id = e.submission_id,
        generate_series(0, length(e.elements) / 32 - 1) AS k WHERE s.owner = '$1'" | tr '|' ' ' >"$WORK/run/els" ||
        fail "cannot read the store"
    local positions n d
    positions=$(cat "$WORK/run/pos")
    read -r n d <"$WORK/run/els"
    [ "$n" = "$positions" ] || fail "$1: $positions positions but $n elements stored"
    echo "$positions $d"
}
distinct() {
    [ $# -gt 0 ] || { echo 0; return; }
    ingest_flat "$WORK/run/distinct.tsv" "$@"
    wc -l <"$WORK/run/distinct.tsv"
}
submit_loop() {
    local p=$1 chunk
    for chunk in "$WORK/chunks/$p".*; do
        if "$PSI" submit --state "$(party_dir "$p")" "$chunk" >>"$WORK/logs/loop.$p.log" 2>&1; then
            echo "$chunk" >>"$WORK/run/acked.$p"
        else
            return 0
        fi
    done
    touch "$WORK/run/done.$p"
}
# submit_with_crash CRASH PARTY...: submission loops of the parties; after a
# first acknowledgement and a random moment, CRASH runs; the loops end.
submit_with_crash() {
    local crash=$1 p pid t0
    shift
    local pids=()
    for p in "$@"; do
        : >"$WORK/run/acked.$p"
        # A short wait where the crash hits, so that the submission in
        # flight gives up; the other front-end's parties wait as usual.
        PSI_HUB_TIMEOUT=${SURVIVOR_TIMEOUT[$p]:-3} submit_loop "$p" &
        pids+=($!)
        HARNESS_PIDS+=($!)
    done
    t0=$(date +%s)
    until cat "${@/#/$WORK/run/acked.}" | grep -q .; do
        [ $(($(date +%s) - t0)) -lt 120 ] || fail "no submission acknowledged within 120 s"
        sleep 0.05
    done
    sleep "0.$((RANDOM % 500 + 10))"
    $crash
    for pid in "${pids[@]}"; do
        t0=$(date +%s)
        while kill -0 "$pid" 2>/dev/null; do
            [ $(($(date +%s) - t0)) -lt 120 ] || fail "a psi submit still runs 120 s after the crash"
            sleep 0.1
        done
        wait "$pid" || true
    done
}
# acked_are_stored PARTY...: every acknowledged chunk is in the store, once.
acked_are_stored() {
    local p positions unique need
    for p in "$@"; do
        mapfile -t acked <"$WORK/run/acked.$p"
        need=$(distinct "${acked[@]}")
        read -r positions unique < <(stored "$p")
        [ "$positions" = "$unique" ] || fail "$p: $positions positions stored, $unique distinct (duplicates)"
        [ "$positions" -ge "$need" ] ||
            fail "$p: ${#acked[@]} chunks ($need indicators) acknowledged, the store holds $positions"
        say "$p: ${#acked[@]} of $chunks chunks acknowledged ($need indicators); the store holds $positions, all distinct"
    done
}
# finish PARTY...: the chunks not acknowledged, again; each set then whole, once.
finish() {
    local p chunk positions unique
    for p in "$@"; do
        for chunk in "$WORK/chunks/$p".*; do
            grep -qxF "$chunk" "$WORK/run/acked.$p" && continue
            must "$PSI" submit --state "$(party_dir "$p")" "$chunk" >/dev/null
        done
        read -r positions unique < <(stored "$p")
        [ "$positions" = "$unique" ] && [ "$positions" = "$(wc -l <"$WORK/run/$p.set")" ] ||
            fail "$p: the store holds $positions positions ($unique distinct), its set $(wc -l <"$WORK/run/$p.set")"
    done
}
agents_once() {
    local p
    for p in "$@"; do must "$PSI" agent --state "$(party_dir "$p")" --once >/dev/null; done
}

# --------------------------------------------- 1. a front-end dies mid-submission
kill_a() { fe_kill A; }
declare -A SURVIVOR_TIMEOUT=([b1]=60 [b2]=60)
submit_with_crash kill_a a1 a2 b1 b2
SURVIVOR_TIMEOUT=()
for p in b1 b2; do
    [ -e "$WORK/run/done.$p" ] || fail "$p (front-end B) did not finish its submissions while A was down: $(tail -n 3 "$WORK/logs/loop.$p.log")"
done
say "front-end A killed (SIGKILL) mid-submission; b1 and b2 finished through B"
acked_are_stored a1 a2
point a1 B
point a2 B
finish a1 a2 b1 b2
say "a1 and a2 sent the rest through front-end B: every set stored whole, once"

# --------------------------------------------- 2. a front-end dies mid-cross-blinding
fe_start A
point a1 A
point a2 A
agent_pids=()
for p in a1 a2 b1 b2; do
    PSI_HUB_TIMEOUT=3 "$PSI" agent --state "$(party_dir "$p")" --once >"$WORK/logs/agent-crash.$p.log" 2>&1 &
    agent_pids+=($!)
    HARNESS_PIDS+=($!)
done
sleep "0.$((RANDOM % 800 + 100))"
fe_kill A
for pid in "${agent_pids[@]}"; do wait "$pid" || true; done
say "front-end A killed (SIGKILL) while four agents cross-blinded"
fe_start A
agents_once a1 a2 b1 b2
agents_once a1 a2 b1 b2
# The planted overlaps among the four that took part so far (c1 and c2 have
# not submitted yet): the scenario's answer without them.
: >"$WORK/actual4.tsv"
for p in a1 a2 b1 b2; do
    results_flat "$p" "$WORK/r.tsv"
    cat "$WORK/r.tsv" >>"$WORK/actual4.tsv"
done
LC_ALL=C sort -o "$WORK/actual4.tsv" "$WORK/actual4.tsv"
"$PSI_SCENARIO" --flatten "$WORK/sc/expected.jsonl" |
    awk 'BEGIN { FS = OFS = "\t" }
        $1 != "c1" && $1 != "c2" {
            n = split($NF, peers, ","); kept = ""
            for (i = 1; i <= n; i++) if (peers[i] != "c1" && peers[i] != "c2") kept = kept (kept == "" ? "" : ",") peers[i]
            if (kept != "") { $NF = kept; print }
        }' | LC_ALL=C sort >"$WORK/expected4.tsv"
[ -s "$WORK/expected4.tsv" ] || fail "the scenario planted no overlap among a1, a2, b1, b2"
compare_or_fail "results after a front-end crash" "$WORK/expected4.tsv" "$WORK/actual4.tsv"
must "$PSI" audit verify --state "$(party_dir auditor-x)" >"$WORK/logs/verify1"
say "front-end A restarted: results exact ($(wc -l <"$WORK/actual4.tsv") overlaps), psi audit verify passes"

# --------------------------------------------- 3. the database server dies
before=$(pg_sql "$db_url" "SELECT size FROM psi.log_head")
submit_with_crash pg_kill c1 c2
say "PostgreSQL killed (SIGKILL: postmaster and backends) mid-submission of c1 (via A) and c2 (via B)"
pg_restart
acked_are_stored c1 c2
after=$(pg_sql "$db_url" "SELECT size FROM psi.log_head")
[ "$after" -ge "$before" ] || fail "the log shrank across the database crash: $before -> $after"
for n in A B; do kill -0 "${FE_PID[$n]}" 2>/dev/null || fail "front-end $n died with the database: $(tail -n 3 "$WORK/logs/fe.$n.log")"; done
finish c1 c2
say "PostgreSQL restarted; the front-ends reconnected; c1 and c2 finished, stored whole, once"
agents_once "${parties[@]}"
agents_once "${parties[@]}"
results_match_scenario "results after the database crash" "${parties[@]}"
must "$PSI" audit verify --state "$(party_dir auditor-x)" >"$WORK/logs/verify2"
say "OK — after two front-end crashes and a database crash: $(wc -l <"$WORK/actual.tsv") overlaps as planted, audit verify passes"
