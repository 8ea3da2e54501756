#!/usr/bin/env bash
# Replies are bound to their request, end to end: a hostile path
# (tests/replay_proxy.c) between a participant and a real psi-hub captures
# the signed plain error the hub gives garbage, forwards the participant's
# requests to the hub (which acts on them) and answers some of them with that
# copy instead of the hub's reply.
#
#  1. The first attempt of submit.commit is acted on by the hub and answered
#     with the copy: psi submit asks again under the same request id, gets the
#     hub's stored receipt, and records the submission as done, once.
#  2. Every attempt of submit.commit is answered with the copy: psi submit
#     fails with one line that is no refusal, and the submission stays
#     pending (never recorded as refused); relayed honestly, the next
#     psi submit finishes it with the hub's first answer.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init replay "${PSI_BIN:-$here/../../build}"
PROXY="$(dirname "$PSI")/../tests/psi-replay-proxy"
[ -x "$PROXY" ] || fail "missing binary $PROXY"
command -v sqlite3 >/dev/null || fail "the sqlite3 command-line tool is needed"
export PSI_HUB_TIMEOUT=5

hub_init "$WORK/hub" replay-hub --epoch manual:R1
REAL_URL=$HUB_URL
PROXY_URL="tcp://127.0.0.1:$(free_port)"
# The participant knows the hub by the proxy's address.
HUB_URL=$PROXY_URL
party_new agency-a agency --share-with all
HUB_URL=$REAL_URL
hub_start
A=$(party_dir agency-a)

PROXY_PID=""
# proxy_start FROM COUNT: requests FROM .. FROM+COUNT-1 get the copy.
proxy_start() {
    local log="$WORK/logs/proxy.$1.$2" i
    "$PROXY" --listen "$PROXY_URL" --hub "$REAL_URL" --replace-from "$1" --replace-count "$2" \
        >"$log.out" 2>"$log.err" &
    PROXY_PID=$!
    HARNESS_PIDS+=("$PROXY_PID")
    for i in $(seq 100); do
        grep -q '^captured ' "$log.out" 2>/dev/null && return 0
        kill -0 "$PROXY_PID" 2>/dev/null || { cat "$log.err" >&2; fail "the proxy exited"; }
        sleep 0.05
    done
    fail "the proxy captured nothing within 5 s"
}
proxy_stop() {
    kill -TERM "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
}
status_count() {
    sqlite3 "$A/state.db" "SELECT count(*) FROM submissions WHERE status = $1"
}

printf 'domain\texample-one.test\ndomain\texample-two.test\n' >"$WORK/one.txt"
printf 'domain\texample-three.test\n' >"$WORK/two.txt"

# 1. info (0), upload.chunk (1), submit.commit (2: the copy; 3: relayed).
proxy_start 2 1
out=$(must "$PSI" submit --state "$A" "$WORK/one.txt")
proxy_stop
grep -q 'answered with the capture' "$WORK/logs/proxy.2.1.err" ||
    fail "the proxy never replaced an answer"
grep -q ': submission 1 ' <<<"$out" || fail "submit did not report submission 1: $out"
[ "$(status_count 1)" = 1 ] && [ "$(status_count 2)" = 0 ] && [ "$(status_count 0)" = 0 ] ||
    fail "after a copied error and a retry: not exactly one submission done"
say "a copied error on the commit is retried; the hub's stored receipt recorded"

# 2. info (0), upload.chunk (1), submit.commit (2, 3, 4: all copies).
proxy_start 2 3
rc=0
"$PSI" submit --state "$A" "$WORK/two.txt" >"$WORK/logs/two.out" 2>"$WORK/logs/two.err" || rc=$?
proxy_stop
[ "$rc" -eq 1 ] || fail "submit answered only by copies exited $rc (expected 1)"
[ "$(wc -l <"$WORK/logs/two.err")" -eq 1 ] || fail "not one line: $(cat "$WORK/logs/two.err")"
grep -q 'another request' "$WORK/logs/two.err" || fail "the line does not say why: $(cat "$WORK/logs/two.err")"
if grep -q 'hub refused' "$WORK/logs/two.err"; then
    fail "a copied error was taken as the hub's refusal"
fi
[ "$(status_count 2)" = 0 ] || fail "a copied error made the submission refused"
[ "$(status_count 0)" = 1 ] || fail "the submission is no longer pending"

proxy_start 0 0
out=$(must "$PSI" submit --state "$A" "$WORK/two.txt")
proxy_stop
grep -q 'finished an interrupted submission of 1 indicators: submission 2' <<<"$out" ||
    fail "the pending submission was not finished with the hub's answer: $out"
[ "$(status_count 1)" = 2 ] && [ "$(status_count 2)" = 0 ] && [ "$(status_count 0)" = 0 ] ||
    fail "after resuming: not exactly two submissions done"
say "only copies: a transport failure, still pending; finished by the next run"
say "PASS"
