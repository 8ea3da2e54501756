#!/usr/bin/env bash
# Crashes, end to end: nothing acknowledged is lost, nothing is stored twice,
# and the protocol still completes with the right answer.
#
#  1. Three agencies submit large generated sets, chunk after chunk, side by
#     side; once some chunks are acknowledged, the hub is killed with SIGKILL
#     at a random moment while others are in flight. With the hub down, its
#     SQLite store is read directly: every acknowledged chunk is there. The hub
#     restarts; the interrupted submissions are run again and finish.
#  2. A fourth agency's `psi submit` is killed with SIGKILL midway, then run
#     again: it finishes, and its elements are stored exactly once.
#  3. Every chunk of one agency submitted once more: nothing changes.
#  4. The agents cross-blind and every agency's results equal the overlaps
#     planted by the scenario generator.
# "Stored exactly once" is checked on the hub's own store: a party's elements
# are k·H(x) under one epoch key, so a duplicate indicator is a repeated
# 32-byte element.
#
# Env (set by ctest): PSI_BIN build dir. PSI_CRASH_SIZE: indicators a party.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
harness_init crash "${PSI_BIN:-$here/../../build}"
command -v sqlite3 >/dev/null || fail "the sqlite3 command is needed (scripts/setup.sh installs it)"

size=${PSI_CRASH_SIZE:-8000}
chunks=4
parties=(c1 c2 c3 c4)
say "PSI_CRASH_SIZE=$size"
scenario_new "$size" "${parties[@]}"

# Each party's file in $chunks pieces (lines dealt round-robin, so every piece
# mixes fanged and defanged forms and in-file duplicates may straddle pieces).
mkdir -p "$WORK/chunks" "$WORK/run"
for p in "${parties[@]}"; do
    awk -v n="$chunks" -v dir="$WORK/chunks" -v p="$p" \
        '{ print > (dir "/" p "." (NR % n)) }' "$WORK/sc/$p.txt"
    ingest_flat "$WORK/run/$p.set" "$WORK/sc/$p.txt"
done

hub_init "$WORK/hub" crash-hub
for p in "${parties[@]}"; do party_new "$p" agency --share-with all; done
hub_start
db="$HUB_DIR/hub.db"

# stored OWNER: "positions distinct" of OWNER's submissions, read from the store.
stored() {
    local rows
    rows=$(sqlite3 -batch "$db" "SELECT hex(e.elements) FROM element_block e
        JOIN submission s ON s.id = e.submission_id WHERE s.owner = '$1';") ||
        fail "cannot read $db"
    local positions
    positions=$(sqlite3 -batch "$db" "SELECT COALESCE(SUM(count), 0) FROM submission WHERE owner = '$1';")
    printf '%s\n' "$rows" | awk -v positions="$positions" '
        { for (i = 1; i + 63 <= length($0); i += 64) { e = substr($0, i, 64); n++; if (!(e in s)) { s[e] = 1; d++ } } }
        END { if (n != positions) { print "mismatch " positions " " n; exit } print positions + 0, d + 0 }'
}

# distinct FILE...: how many canonical indicators the files hold together.
distinct() {
    [ $# -gt 0 ] || { echo 0; return; }
    ingest_flat "$WORK/run/distinct.tsv" "$@"
    wc -l <"$WORK/run/distinct.tsv"
}

# ------------------------------------------------ 1. SIGKILL the hub mid-run
submit_loop() {
    local p=$1 chunk
    for chunk in "$WORK/chunks/$p".*; do
        if "$PSI" submit --state "$(party_dir "$p")" "$chunk" >>"$WORK/logs/loop.$p.log" 2>&1; then
            echo "$chunk" >>"$WORK/run/acked.$p"
        else
            echo "$chunk" >"$WORK/run/failed.$p"
            return 0
        fi
    done
    touch "$WORK/run/done.$p"
}
loop_pids=()
# A short wait for the hub, so that the submissions in flight give up while
# the hub is down (rather than reach the restarted hub by themselves).
for p in c1 c2 c3; do
    : >"$WORK/run/acked.$p"
    PSI_HUB_TIMEOUT=2 submit_loop "$p" &
    loop_pids+=($!)
    HARNESS_PIDS+=($!)
done

# Wait for a first acknowledgement, then kill at a random moment after it.
t0=$(date +%s)
until cat "$WORK/run/acked".* | grep -q .; do
    [ $(($(date +%s) - t0)) -lt 120 ] || fail "no submission acknowledged within 120 s"
    ls "$WORK/run/failed".* >/dev/null 2>&1 && fail "a submission failed before the crash: $(cat "$WORK/logs/loop".*.log)"
    sleep 0.05
done
sleep "0.$((RANDOM % 400 + 10))"
hub_kill
in_flight=0
for p in c1 c2 c3; do [ -e "$WORK/run/done.$p" ] || in_flight=$((in_flight + 1)); done
# The submissions in flight fail (the hub stays down); what was acknowledged
# is then final.
for pid in "${loop_pids[@]}"; do
    t0=$(date +%s)
    while kill -0 "$pid" 2>/dev/null; do
        [ $(($(date +%s) - t0)) -lt 60 ] || fail "a psi submit still runs 60 s after the hub died"
        sleep 0.1
    done
    wait "$pid" || true
done
say "hub killed (SIGKILL) with $in_flight of 3 submission loops unfinished; acknowledged chunks: $(cat "$WORK/run/acked".* | wc -l) of $((3 * chunks))"
[ "$in_flight" -gt 0 ] || say "note: every loop had finished before the kill; the crash hit an idle hub"
for p in c1 c2 c3; do
    [ -e "$WORK/run/failed.$p" ] &&
        say "$p: the submission in flight failed: $(grep -v '^psi submit: [0-9]* of' "$WORK/logs/loop.$p.log" | tail -n 1)"
done

# With the hub down, its store must hold every acknowledged submission.
for p in c1 c2 c3; do
    mapfile -t acked <"$WORK/run/acked.$p"
    need=$(distinct "${acked[@]}")
    read -r positions unique < <(stored "$p")
    [ "$positions" = "$unique" ] || fail "$p: $positions positions stored but only $unique distinct elements (duplicates)"
    [ "$positions" -ge "$need" ] ||
        fail "$p: ${#acked[@]} chunks ($need indicators) were acknowledged, but the store holds only $positions after the crash"
    say "after the crash: $p had ${#acked[@]} chunks acknowledged ($need indicators); the store holds $positions, all distinct"
done

# Restart, and run again every submission not acknowledged: the interrupted
# one is resumed, the ones never started are new.
hub_start
rerun=0
for p in c1 c2 c3; do
    for chunk in "$WORK/chunks/$p".*; do
        grep -qxF "$chunk" "$WORK/run/acked.$p" && continue
        out=$(must "$PSI" submit --state "$(party_dir "$p")" "$chunk")
        say "$p re-run: $(printf '%s\n' "$out" | grep -m1 'epoch' || true)"
        rerun=$((rerun + 1))
    done
done
for p in c1 c2 c3; do
    want=$(wc -l <"$WORK/run/$p.set")
    read -r positions unique < <(stored "$p")
    [ "$positions" = "$unique" ] || fail "$p: $positions positions stored, $unique distinct (duplicates)"
    [ "$positions" = "$want" ] || fail "$p: its set has $want indicators, the store holds $positions"
done
say "restarted; $rerun interrupted chunk submissions re-run; each party's set is stored whole, once"

# ------------------------------------------ 2. SIGKILL a psi submit midway
"$PSI" submit --state "$(party_dir c4)" "$WORK/sc/c4.txt" >"$WORK/logs/c4.killed.log" 2>&1 &
victim=$!
HARNESS_PIDS+=("$victim")
# A random moment within the ~1 s the submission takes here: reading,
# blinding, uploading or committing (the line below says how far it got).
sleep "0.$((RANDOM % 900 + 100))"
if kill -KILL "$victim" 2>/dev/null; then
    wait "$victim" 2>/dev/null || true
    staged=$(sqlite3 -batch "$db" "SELECT COALESCE(SUM(length(bytes)), 0) FROM upload_chunk WHERE sender = 'c4';")
    read -r positions unique < <(stored c4)
    say "psi submit of c4 killed (SIGKILL) midway: $staged bytes staged, $positions positions committed"
else
    wait "$victim" 2>/dev/null || true
    say "note: psi submit of c4 finished before SIGKILL could hit it"
fi
out=$(must "$PSI" submit --state "$(party_dir c4)" "$WORK/sc/c4.txt")
say "c4 re-run: $(printf '%s\n' "$out" | grep -m1 'epoch' || true)"
want=$(wc -l <"$WORK/run/c4.set")
read -r positions unique < <(stored c4)
[ "$positions" = "$unique" ] || fail "c4: $positions positions stored, $unique distinct (duplicates after the re-run)"
[ "$positions" = "$want" ] || fail "c4: its set has $want indicators, the store holds $positions after the re-run"
say "c4 re-run finished: $positions positions, no duplicates"

# ------------------------------------------------ 3. re-running changes nothing
for chunk in "$WORK/chunks/c1".*; do
    must "$PSI" submit --state "$(party_dir c1)" "$chunk" >/dev/null
done
read -r positions unique < <(stored c1)
[ "$positions" = "$(wc -l <"$WORK/run/c1.set")" ] && [ "$positions" = "$unique" ] ||
    fail "c1: submitting its chunks again changed the store ($positions positions, $unique distinct)"
say "c1 submitted all its chunks again: the store is unchanged"

# ------------------------------------------------ 4. the protocol completes
for _ in 1 2; do
    for p in "${parties[@]}"; do
        must "$PSI" agent --state "$(party_dir "$p")" --once >/dev/null
    done
done
results_match_scenario "results after the crashes" "${parties[@]}"
hub_stop
say "OK — $(wc -l <"$WORK/actual.tsv") overlaps as planted, after a hub crash and a client crash"
