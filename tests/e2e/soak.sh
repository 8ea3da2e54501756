#!/usr/bin/env bash
# Crash soak: many crashes of the hub and of the clients during one
# multi-party run, and still nothing acknowledged is lost, nothing is stored
# twice, and every participant gets exactly the planted answer.
#
#  1. Four agencies (a few thousand indicators each, in several submissions)
#     submit and run their agents side by side, re-running every command that
#     fails until it succeeds, while the hub is killed with SIGKILL at random
#     moments, PSI_SOAK_KILLS times (default 24, within ~90 s), and restarted
#     each time. At every kill, with the hub down, its SQLite store is read
#     directly: each party holds at least every indicator of its acknowledged
#     submissions (psi submit exited 0) and at most those plus the one in
#     flight, and no element is stored twice.
#  2. Each party's last submission (40% of its indicators) is run with
#     `psi submit` killed (SIGKILL) three times: at a random moment, as soon
#     as the hub has staged its upload, and as soon as the hub has answered
#     its commit; then re-run to the end; then `psi agent --once` is killed
#     at random moments and re-run. The hub's rows show no duplicate: one
#     position per indicator, one cross-blind batch per (submission, blinder),
#     one tag per position and blinder.
#  3. Every party's results equal the overlaps planted by psi-scenario, and,
#     if the client has `psi audit verify`, an auditor's verify passes.
#
# Env (set by ctest): PSI_BIN build dir. PSI_SOAK_KILLS: hub kills (default
# 24). PSI_SOAK_SIZE: indicators a party (default 3000). PSI_SOAK_CHUNKS:
# submissions a party (default 10). PSI_KEEP_WORK=1 keeps the workspace of a
# failed run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
harness_init soak "${PSI_BIN:-$here/../../build}"
command -v sqlite3 >/dev/null || fail "the sqlite3 command is needed (scripts/setup.sh installs it)"

kills_wanted=${PSI_SOAK_KILLS:-24}
size=${PSI_SOAK_SIZE:-3000}
chunks=${PSI_SOAK_CHUNKS:-10}
[ "$chunks" -ge 2 ] || fail "PSI_SOAK_CHUNKS must be at least 2"
# at most this many seconds between a party's submissions (the kills come
# every 2 s or so): the submissions spread over the first part of the kills
pace=$((3 * kills_wanted / (chunks - 1)))
parties=(s1 s2 s3 s4)
seed=$((RANDOM * 32768 + RANDOM))
say "scenario seed $seed: ${#parties[@]} parties, $size indicators and $chunks submissions each, $kills_wanted hub kills"
must "$PSI_SCENARIO" --out "$WORK/sc" --seed "$seed" --size "$size" \
    --parties "$(IFS=,; echo "${parties[*]}")" >/dev/null

# Each party's file in $chunks pieces: 40% of the lines in the last piece
# (submitted in part 2, large enough to be killed midway), the rest dealt
# round-robin over the others; and the canonical set of every piece, to know
# what an acknowledged piece must leave in the store.
mkdir -p "$WORK/chunks" "$WORK/run"
for p in "${parties[@]}"; do
    awk -v n="$chunks" -v dir="$WORK/chunks" -v p="$p" \
        '{ f = (NR % 5 < 2) ? n - 1 : NR % (n - 1); print > (dir "/" p "." f) }' "$WORK/sc/$p.txt"
    for i in $(seq 0 $((chunks - 1))); do
        ingest_flat "$WORK/chunks/$p.$i.set" "$WORK/chunks/$p.$i"
    done
    ingest_flat "$WORK/run/$p.set" "$WORK/sc/$p.txt"
done

# A manual epoch: a run that crosses midnight UTC must not change epochs.
hub_init "$WORK/hub" soak-hub --epoch manual:soak
for p in "${parties[@]}"; do party_new "$p" agency --share-with all; done
audit=""
if "$PSI" audit --help 2>/dev/null | grep -q 'audit verify'; then
    audit=auditor-1
    party_new "$audit" auditor
fi
hub_start
db="$HUB_DIR/hub.db"

q() { sqlite3 -batch "$db" "$1" || fail "cannot read $db: $1"; }

# stored OWNER: "positions distinct" of OWNER's submissions, from the store,
# read in one transaction (the hub may be committing beside us).
stored() {
    q "BEGIN; SELECT COALESCE(SUM(count), 0) FROM submission WHERE owner = '$1';
        SELECT hex(e.elements) FROM element_block e
        JOIN submission s ON s.id = e.submission_id WHERE s.owner = '$1'; COMMIT;" | awk '
        NR == 1 { positions = $0; next }
        { for (i = 1; i + 63 <= length($0); i += 64) { e = substr($0, i, 64); n++; if (!(e in s)) { s[e] = 1; d++ } } }
        END { if (n != positions) { print "mismatch " positions " " n; exit } print positions + 0, d + 0 }'
}

# union_size PIECE...: how many canonical indicators the pieces hold together.
union_size() {
    local files=() i
    for i in "$@"; do files+=("$WORK/chunks/$i.set"); done
    if [ ${#files[@]} -eq 0 ]; then echo 0; else cat "${files[@]}" | LC_ALL=C sort -u | wc -l; fi
}

# The request log of the hub serving now: hub_start renames each start's log
# to hub.log.<nanoseconds>, names that sort as the starts did.
current_hub_log() {
    local logs=("$WORK"/logs/hub.log.*)
    echo "${logs[-1]}"
}

# retry LOG CMD...: runs CMD until it exits 0 (at most 300 times); prints how
# many runs failed, and keeps the last line of each failed run (the agent's
# closing tally aside) in LOG.failed. A failure is a crash of the hub under
# the command.
retry() {
    local log=$1 failed=0
    shift
    until "$@" >"$log.run" 2>&1; do
        failed=$((failed + 1))
        cat "$log.run" >>"$log"
        # the reason, not psi agent's closing tally
        grep -vE 'submissions? cross-blinded \(' "$log.run" | tail -n 1 >>"$log.failed"
        [ "$failed" -lt 300 ] || { echo "gave up after $failed failures: $*" >>"$log"; return 1; }
        sleep "0.$((RANDOM % 3 + 1))"
    done
    cat "$log.run" >>"$log"
    echo "$failed"
}

# ------------------------------------------------ 1. SIGKILL the hub, many times
# One loop per party: its first chunks-1 pieces, each submission followed by
# its agent's work; then agent work and results until told to stop. Every
# command is re-run until it succeeds; what it took is counted.
party_loop() {
    local p=$1 i n reruns=0 log state
    log="$WORK/logs/loop.$p.log"
    state=$(party_dir "$p")
    : >"$WORK/run/acked.$p"
    for i in $(seq 0 $((chunks - 2))); do
        echo "$p.$i" >"$WORK/run/inflight.$p"
        n=$(retry "$log" "$PSI" submit --state "$state" "$WORK/chunks/$p.$i") || return 1
        echo "$p.$i" >>"$WORK/run/acked.$p"
        : >"$WORK/run/inflight.$p"
        reruns=$((reruns + n))
        n=$(retry "$log" "$PSI" agent --state "$state" --once) || return 1
        reruns=$((reruns + n))
        # spread the submissions over the kill window
        [ -e "$WORK/run/stop" ] || sleep "$(printf '%d.%03d' $((RANDOM % (pace + 1))) $((RANDOM % 1000)))"
    done
    while [ ! -e "$WORK/run/stop" ]; do
        n=$(retry "$log" "$PSI" agent --state "$state" --once) || return 1
        reruns=$((reruns + n))
        n=$(retry "$log" "$PSI" results --state "$state" --json) || return 1
        reruns=$((reruns + n))
    done
    echo "$reruns" >"$WORK/run/reruns.$p"
}

# With the hub down: the store holds every acknowledged submission, at most
# the one in flight besides, and each element once.
check_acknowledged() {
    local p acked inflight positions unique low high
    for p in "${parties[@]}"; do
        # in flight first: a reply that came just before the kill may move a
        # piece from in flight to acknowledged between the two reads
        inflight=$(cat "$WORK/run/inflight.$p" 2>/dev/null || true)
        mapfile -t acked <"$WORK/run/acked.$p"
        read -r positions unique < <(stored "$p")
        [ "$positions" = "$unique" ] ||
            fail "kill $kills: $p: $positions positions stored but $unique distinct elements (a duplicate)"
        low=$(union_size "${acked[@]}")
        high=$(union_size "${acked[@]}" ${inflight:+"$inflight"})
        [ "$positions" -ge "$low" ] ||
            fail "kill $kills: $p: ${#acked[@]} submissions acknowledged ($low indicators) but the store holds $positions"
        [ "$positions" -le "$high" ] ||
            fail "kill $kills: $p: the store holds $positions positions, more than the $high submitted"
    done
}

export PSI_HUB_TIMEOUT=2 # commands give up soon while the hub is down, then re-run
loop_pids=()
for p in "${parties[@]}"; do
    party_loop "$p" &
    loop_pids+=($!)
    HARNESS_PIDS+=($!)
done

kills=0
busy_kills=0
t0=$(date +%s)
while [ "$kills" -lt "$kills_wanted" ]; do
    # a random moment: right after a restart as well as seconds into the work
    sleep "$(printf '%d.%03d' $((RANDOM % 4)) $((RANDOM % 1000)))"
    if [ $((kills % 2)) -eq 1 ]; then
        # every other kill lands within 30 ms of the hub answering a request,
        # so that it falls among the requests of a command (chunks, commits)
        hublog=$(current_hub_log)
        lines=$(wc -l <"$hublog")
        t1=$(date +%s)
        while [ "$(wc -l <"$hublog")" -le "$lines" ] && [ $(($(date +%s) - t1)) -lt 5 ]; do
            sleep 0.005
        done
        sleep "$(printf '0.%03d' $((RANDOM % 30)))"
    fi
    for pid in "${loop_pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" || fail "a party's loop gave up: $(tail -n 3 "$WORK"/logs/loop.*.log)"; }
    done
    # client commands running at the moment of the kill (this build's psi only)
    running=$(pgrep -fc "^$PSI " || true)
    hub_kill
    kills=$((kills + 1))
    [ "${running:-0}" -eq 0 ] || busy_kills=$((busy_kills + 1))
    check_acknowledged
    hub_start
done
kill_seconds=$(($(date +%s) - t0))
touch "$WORK/run/stop"
for pid in "${loop_pids[@]}"; do
    wait "$pid" || fail "a party's loop gave up: $(tail -n 3 "$WORK"/logs/loop.*.log)"
done
unset PSI_HUB_TIMEOUT
reruns=0
for p in "${parties[@]}"; do reruns=$((reruns + $(cat "$WORK/run/reruns.$p"))); done
acked_total=$(cat "$WORK/run/acked".* | wc -l)
say "survived $kills hub kills (SIGKILL) in $kill_seconds s, $busy_kills of them with client commands running; $acked_total submissions acknowledged, every one in the store at every kill; $reruns interrupted client commands re-run until they succeeded"
if cat "$WORK"/logs/loop.*.log.failed >"$WORK/run/failed" 2>/dev/null && [ -s "$WORK/run/failed" ]; then
    say "how the interrupted commands failed (last line of each failed run, counted):"
    sed -E 's/[0-9]+/N/g' "$WORK/run/failed" | LC_ALL=C sort | uniq -c | LC_ALL=C sort -rn |
        head -n 12 | sed 's/^/    /'
fi
if grep -h 'refused submission' "$WORK"/logs/loop.*.log >"$WORK/run/refusals" 2>/dev/null; then
    say "sets an agent refused during the kills (the hub's answer was not what the agent checks for):"
    LC_ALL=C sort "$WORK/run/refusals" | uniq -c | head -n 12 | sed 's/^/    /'
fi

# ------------------------------------------ 2. SIGKILL psi submit and psi agent
# kill_midway LOG WHEN CMD...: runs CMD in the background and kills it
# (SIGKILL) when WHEN says: a number is a random moment within that many
# milliseconds (these commands take 50-300 ms here); "log:TEXT" is as soon as
# the hub's request log shows TEXT (the hub has answered that request, the
# client may not have recorded it yet). Counts it if it was still running.
client_kills=0
kill_midway() {
    local log=$1 when=$2 victim rc=0 hublog lines t0
    shift 2
    hublog=$(current_hub_log)
    lines=$(wc -l <"$hublog")
    "$@" >>"$log" 2>&1 &
    victim=$!
    HARNESS_PIDS+=("$victim")
    case $when in
    log:*)
        t0=$(date +%s)
        until tail -n +$((lines + 1)) "$hublog" | grep -qF -- "${when#log:}"; do
            kill -0 "$victim" 2>/dev/null || break
            [ $(($(date +%s) - t0)) -lt 60 ] || break
        done
        killed_at="killed when the hub logged '${when#log:}'"
        ;;
    *)
        when=$((RANDOM % when + 1))
        sleep "$(printf '0.%03d' "$when")"
        killed_at="killed after $when ms"
        ;;
    esac
    kill -KILL "$victim" 2>/dev/null || true
    wait "$victim" 2>/dev/null || rc=$?
    # 137 = killed by SIGKILL; anything else: it had finished before
    if [ "$rc" -eq 137 ]; then
        client_kills=$((client_kills + 1))
    else
        killed_at="finished first (exit $rc)"
    fi
}
last=$((chunks - 1))
for p in "${parties[@]}"; do
    # at a random moment (reading, blinding); once its upload is staged;
    # once its commit is answered
    for when in 120 "log: $p upload.chunk ok" "log: $p submit.commit ok"; do
        kill_midway "$WORK/logs/killed.$p.log" "$when" "$PSI" submit --state "$(party_dir "$p")" "$WORK/chunks/$p.$last"
        staged=$(q "SELECT COALESCE(SUM(length(bytes)), 0) FROM upload_chunk WHERE sender = '$p';")
        read -r positions unique < <(stored "$p")
        # the client's own record: submissions still pending (status 0)
        pending=$(sqlite3 -batch "$(party_dir "$p")/state.db" \
            "SELECT count(*) FROM submissions WHERE status = 0;" 2>/dev/null || echo '?')
        say "$p: psi submit $killed_at: hub has $staged bytes staged, $positions positions committed; client has $pending submission pending"
    done
    must "$PSI" submit --state "$(party_dir "$p")" "$WORK/chunks/$p.$last" >/dev/null
    read -r positions unique < <(stored "$p")
    want=$(wc -l <"$WORK/run/$p.set")
    [ "$positions" = "$unique" ] || fail "$p: $positions positions, $unique distinct after the re-run (duplicates)"
    [ "$positions" = "$want" ] || fail "$p: its set has $want indicators, the store holds $positions"
    say "$p: re-run finished: $positions positions, all distinct, the whole set"
done
for _ in 1 2; do
    for p in "${parties[@]}"; do
        kill_midway "$WORK/logs/killed.$p.log" 300 "$PSI" agent --state "$(party_dir "$p")" --once
        say "$p: psi agent $killed_at; cross-blind batches at the hub: $(q "SELECT count(*) FROM crossblind;")"
    done
done
for _ in 1 2; do
    for p in "${parties[@]}"; do must "$PSI" agent --state "$(party_dir "$p")" --once >/dev/null; done
done
say "$client_kills client commands killed (SIGKILL) while running, then re-run to the end"

# No duplicate anywhere: one batch per (submission, blinder), every other
# party's batch present, one tag per position and blinder, tags = batch sizes.
dups=$(q "SELECT count(*) FROM (SELECT 1 FROM crossblind GROUP BY submission_id, blinder HAVING count(*) > 1);")
[ "$dups" = 0 ] || fail "$dups (submission, blinder) pairs have more than one cross-blind batch"
submissions=$(q "SELECT count(*) FROM submission;")
batches=$(q "SELECT count(*) FROM crossblind;")
[ "$batches" = $((submissions * (${#parties[@]} - 1))) ] ||
    fail "$batches cross-blind batches for $submissions submissions of ${#parties[@]} parties (want $((submissions * (${#parties[@]} - 1))))"
tags=$(q "SELECT count(*) FROM tag;")
tagged=$(q "SELECT COALESCE(SUM(count), 0) FROM crossblind;")
[ "$tags" = "$tagged" ] || fail "$tags tags stored for cross-blind batches of $tagged"
positions=$(q "SELECT COALESCE(SUM(count), 0) FROM submission;")
[ "$tags" = $((positions * (${#parties[@]} - 1))) ] ||
    fail "$tags tags for $positions positions, want one per position and other party"
say "hub rows: $submissions submissions ($positions positions), $batches cross-blind batches, $tags tags, $(q "SELECT count(*) FROM overlap;") overlap rows: no duplicates"

# ------------------------------------------------ 3. the answer
: >"$WORK/actual.tsv"
for p in "${parties[@]}"; do
    results_flat "$p" "$WORK/r.tsv"
    cat "$WORK/r.tsv" >>"$WORK/actual.tsv"
done
LC_ALL=C sort -o "$WORK/actual.tsv" "$WORK/actual.tsv"
"$PSI_SCENARIO" --flatten "$WORK/sc/expected.jsonl" | LC_ALL=C sort >"$WORK/expected.tsv"
compare_or_fail "results after the soak" "$WORK/expected.tsv" "$WORK/actual.tsv"
if [ -n "$audit" ]; then
    out=$(must "$PSI" audit verify --state "$(party_dir "$audit")")
    say "psi audit verify: passed ($(printf '%s\n' "$out" | grep -m1 -i 'entries' || true))"
else
    say "psi audit verify is not in the client: the audit check is skipped"
fi
hub_stop
say "OK — $kills hub kills and $client_kills client kills survived; $(wc -l <"$WORK/actual.tsv") overlaps as planted"
