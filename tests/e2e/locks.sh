#!/usr/bin/env bash
# Locks end to end (docs/operations.md, "Locks"), with real processes:
#
#  1. psi-hub serve: a second serve on the same directory is refused in one
#     line naming the first one's pid, exit 1; the lock goes with the
#     process: after SIGTERM, and after SIGKILL (the lock file still names
#     the dead pid), the hub starts again; a stale lock file written by hand
#     does not block either.
#  2. psi agent: a second agent on a state directory is refused naming the
#     running agent's pid, exit 1; state-changing commands run beside the
#     agent (psi submit, psi policy); after SIGTERM the next agent starts.
#  3. The state lock: a command waits for a holder, up to PSI_STATE_LOCK_WAIT
#     seconds, then gives up naming the holder's pid; an agent waiting for it
#     stops at once on SIGTERM; a holder that lets go in time is waited for.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init locks "${PSI_BIN:-$here/../../build}"
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

# hold_lock FILE SECONDS: a process that holds FILE's lock as psi does (flock,
# "PID SINCE" in the file) for SECONDS; sets HOLDER_PID once it holds it.
hold_lock() {
    python3 - "$1" "$2" <<'EOF_PY' &
import fcntl, os, sys, time
f = open(sys.argv[1], "a+")
fcntl.flock(f, fcntl.LOCK_EX)
f.truncate(0)
f.write("%d 2026-01-01T00:00:00Z\n" % os.getpid())
f.flush()
open(sys.argv[1] + ".held", "w").close()
time.sleep(float(sys.argv[2]))
EOF_PY
    HOLDER_PID=$!
    HARNESS_PIDS+=("$HOLDER_PID")
    local i
    for i in $(seq 100); do [ -f "$1.held" ] && break; sleep 0.05; done
    [ -f "$1.held" ] || fail "the helper did not take $1"
    rm -f "$1.held"
}

hub_init "$WORK/hub" locks-hub
party_new agency-a agency --share-with all
party_new agency-b agency --share-with all
A=$(party_dir agency-a)
B=$(party_dir agency-b)

# ---------------------------------------------------------------- 1. one serve per hub directory

hub_start
expect_refusal 1 "$PSI_HUB" serve --dir "$HUB_DIR" --listen "tcp://127.0.0.1:$(free_port)"
grep -q "^psi-hub serve: $HUB_DIR is served by pid $HUB_PID (since 20[0-9-]*T[0-9:]*Z)$" \
    "$WORK/logs/refusal.err" || fail "second serve: $(cat "$WORK/logs/refusal.err")"
say "a second serve: $(cat "$WORK/logs/refusal.err")"
hub_stop
hub_start # released on SIGTERM
old_pid=$HUB_PID
hub_kill
grep -q "^$old_pid " "$HUB_DIR/hub.lock" || fail "the killed hub's lock file does not name it"
hub_start # a file left by a killed hub is no lock
hub_stop
echo "1 2020-01-01T00:00:00Z" >"$HUB_DIR/hub.lock"
hub_start # nor one written by hand
say "the hub's lock is released on SIGTERM and SIGKILL; a stale lock file does not block"

# ---------------------------------------------------------------- 2. one agent per state directory

printf 'shared-%d.example.org\n' $(seq 1 50) >"$WORK/a.txt"
printf 'shared-%d.example.org\n' $(seq 25 80) >"$WORK/b.txt"
must "$PSI" submit --state "$B" "$WORK/b.txt" >/dev/null
"$PSI" agent --state "$A" --interval 1 >"$WORK/logs/agent.a.log" 2>&1 &
AGENT_A=$!
HARNESS_PIDS+=("$AGENT_A")
for _ in $(seq 100); do grep -q "^$AGENT_A " "$A/agent.lock" 2>/dev/null && break; sleep 0.05; done
expect_refusal 1 "$PSI" agent --state "$A" --once
grep -q "^psi agent: another agent runs on $A: pid $AGENT_A (since " "$WORK/logs/refusal.err" ||
    fail "second agent: $(cat "$WORK/logs/refusal.err")"
say "a second agent: $(cat "$WORK/logs/refusal.err")"
# state-changing commands beside the running agent: they wait for its round
must "$PSI" submit --state "$A" "$WORK/a.txt" >/dev/null
must "$PSI" policy --state "$A" --share-with all >/dev/null
must "$PSI" agent --state "$B" --once >/dev/null
for _ in $(seq 150); do
    grep -q "cross-blinded submission" "$WORK/logs/agent.a.log" && break
    sleep 0.1
done
grep -q "cross-blinded submission" "$WORK/logs/agent.a.log" ||
    fail "the running agent did not do its work: $(cat "$WORK/logs/agent.a.log")"
must_to "$WORK/logs/a.results" "$PSI" results --state "$A" --wait --timeout 30 --json
[ "$(wc -l <"$WORK/logs/a.results")" -eq 26 ] ||
    fail "agency-a's results hold $(wc -l <"$WORK/logs/a.results") values, not 26"
kill -TERM "$AGENT_A"
rc=0
wait "$AGENT_A" || rc=$?
[ "$rc" -eq 0 ] || fail "the agent exited $rc on SIGTERM"
must "$PSI" agent --state "$A" --once >/dev/null # released on exit
say "beside a running agent, submit, policy and results ran; after SIGTERM the next agent starts"

# ---------------------------------------------------------------- 3. the state lock's bounded wait

hold_lock "$A/state.lock" 30
start=$(date +%s)
PSI_STATE_LOCK_WAIT=1 expect_refusal 1 "$PSI" submit --state "$A" "$WORK/a.txt"
grep -q "^psi submit: $A is in use by pid $HOLDER_PID (since 2026-01-01T00:00:00Z); gave up after 1 s" \
    "$WORK/logs/refusal.err" || fail "held state lock: $(cat "$WORK/logs/refusal.err")"
PSI_STATE_LOCK_WAIT=1 expect_refusal 1 "$PSI" agent --state "$A" --once
grep -q "^psi agent: $A is in use by pid $HOLDER_PID" "$WORK/logs/refusal.err" ||
    fail "agent round under a held state lock: $(cat "$WORK/logs/refusal.err")"
say "a held state lock: $(cat "$WORK/logs/refusal.err")"
# an agent waiting for the state lock stops at once on SIGTERM
"$PSI" agent --state "$A" --interval 1 >"$WORK/logs/agent.waiting.log" 2>&1 &
AGENT_W=$!
HARNESS_PIDS+=("$AGENT_W")
sleep 1
kill -TERM "$AGENT_W"
for _ in $(seq 30); do kill -0 "$AGENT_W" 2>/dev/null || break; sleep 0.1; done
kill -0 "$AGENT_W" 2>/dev/null && fail "an agent waiting for the state lock did not stop within 3 s of SIGTERM"
rc=0
wait "$AGENT_W" || rc=$?
[ "$rc" -eq 0 ] || fail "the waiting agent exited $rc on SIGTERM: $(cat "$WORK/logs/agent.waiting.log")"
grep -q "^psi agent: stopped while waiting for $A, in use by pid $HOLDER_PID" \
    "$WORK/logs/agent.waiting.log" || fail "the waiting agent said: $(cat "$WORK/logs/agent.waiting.log")"
kill "$HOLDER_PID"
wait "$HOLDER_PID" 2>/dev/null || true
hold_lock "$A/state.lock" 2
PSI_STATE_LOCK_WAIT=20 must "$PSI" policy --state "$A" --share-with all >/dev/null
wait "$HOLDER_PID" 2>/dev/null || true
say "a command waited for a holder that let go in time"
hub_stop
say "ok"
