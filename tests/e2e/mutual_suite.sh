#!/usr/bin/env bash
# Hub and parties agree on the mutual suite (docs/protocol.md, "The mutual
# suite"), with the real programs on loopback:
#
#  1. The hub announces its suite; a psi that claims another one (the test
#     hook PSI_TEST_MUTUAL_SUITE_CLAIM, as a psi of the other suite would)
#     stops before uploading anything: `psi submit` exits 1 with one line
#     naming both suites, and the hub stores no submission of it.
#  2. Its agent stops the same way, and cross-blinds nothing.
#  3. Without the claim, the same two parties submit and cross-blind, and
#     each learns exactly the planted overlap: the suite check costs nothing
#     to parties that agree.
#
# The hook exists only in builds configured -DPSI_TEST_HOOKS=ON (as
# scripts/setup.sh configures build/); elsewhere this test is skipped.
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init mutual_suite "${PSI_BIN:-$here/../../build}"
grep -q '^PSI_TEST_HOOKS:BOOL=ON$' "${PSI_BIN:-$here/../../build}/CMakeCache.txt" 2>/dev/null ||
    skip "psi was built without -DPSI_TEST_HOOKS=ON: no psi of another suite to test"
export PSI_HUB_TIMEOUT=10

hub_init "$WORK/hub" suite-hub
party_new agency-a agency --share-with all
party_new agency-b agency --share-with all
hub_start
A=$(party_dir agency-a)
B=$(party_dir agency-b)
for i in $(seq 1 30); do echo "203.0.113.$i"; done >"$WORK/a.txt"
for i in $(seq 21 50); do echo "203.0.113.$i"; done >"$WORK/b.txt"

# The hub's suite, from its build: the other one is what a mismatched psi has.
if grep -q '^PSI_MUTUAL_SUITE:STRING=ristretto255$' "${PSI_BIN:-$here/../../build}/CMakeCache.txt"; then
    hub_suite=1 hub_name=ristretto255 other_suite=2 other_name=X25519
else
    hub_suite=2 hub_name=X25519 other_suite=1 other_name=ristretto255
fi

# one_line_refusal FILE: exactly one line, naming both suites.
one_line_refusal() {
    local n
    n=$(wc -l <"$1")
    [ "$n" -eq 1 ] || fail "expected one line on stderr, got $n: $(cat "$1")"
    grep -qF "suite $hub_suite ($hub_name)" "$1" && grep -qF "suite $other_suite ($other_name)" "$1" ||
        fail "the refusal does not name both suites: $(cat "$1")"
}

must "$PSI" submit --state "$A" "$WORK/a.txt" >/dev/null
rc=0
PSI_TEST_MUTUAL_SUITE_CLAIM=$other_suite "$PSI" submit --state "$B" "$WORK/b.txt" \
    >"$WORK/logs/b.out" 2>"$WORK/logs/b.err" || rc=$?
[ "$rc" -eq 1 ] || fail "psi submit of another suite exited $rc, expected 1"
one_line_refusal "$WORK/logs/b.err"
[ "$(sqlite3 "$HUB_DIR/hub.db" 'SELECT count(*) FROM submission')" -eq 1 ] ||
    fail "the hub stored a submission of the other suite"
say "psi submit of suite $other_suite stopped: $(cat "$WORK/logs/b.err")"

rc=0
PSI_TEST_MUTUAL_SUITE_CLAIM=$other_suite "$PSI" agent --state "$B" --once \
    >"$WORK/logs/agent-b.out" 2>"$WORK/logs/agent-b.err" || rc=$?
[ "$rc" -ne 0 ] || fail "the agent of another suite worked"
grep -qF "suite $hub_suite ($hub_name)" "$WORK/logs/agent-b.err" &&
    grep -qF "suite $other_suite ($other_name)" "$WORK/logs/agent-b.err" ||
    fail "the agent's refusal does not name both suites: $(cat "$WORK/logs/agent-b.err")"
[ "$(sqlite3 "$HUB_DIR/hub.db" 'SELECT count(*) FROM tag')" -eq 0 ] ||
    fail "tags were stored by an agent of the other suite"
say "psi agent of suite $other_suite stopped, no tags stored"

must "$PSI" submit --state "$B" "$WORK/b.txt" >/dev/null
must "$PSI" agent --state "$A" --once >/dev/null
must "$PSI" agent --state "$B" --once >/dev/null
for p in "$A" "$B"; do
    n=$(must "$PSI" results --state "$p" --json | grep -c '"value"' || true)
    [ "$n" -eq 10 ] || fail "$(basename "$p") sees $n overlaps, expected the 10 planted"
done
say "on the hub's suite both parties see exactly the 10 common indicators"
hub_stop
