#!/usr/bin/env bash
# Epochs are the party's decision, end to end, against a real psi-hub in
# manual mode:
#
#  1. A new manual label is refused by psi submit (one line naming
#     'psi epoch --accept') until the party accepts it.
#  2. After the parties used E2, the operator sets the hub back to E1
#     (psi-hub epoch --set): psi submit and psi agent refuse, each with one
#     line ("never going back"), and nothing is cross-blinded under E1.
#  3. psi epoch lists the epochs used and the hub's current one, and refuses
#     to accept an epoch left behind.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init epoch_guard "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=5

hub_init "$WORK/hub" epoch-hub --epoch manual:E1
party_new agency-a agency --share-with all
party_new agency-b agency --share-with all
hub_start
A=$(party_dir agency-a)
B=$(party_dir agency-b)
for i in 1 2 3 4; do printf 'domain\tshared-%d.test\ndomain\ta-only-%d.test\n' "$i" "$i"; done >"$WORK/a.txt"
for i in 1 2 3 4; do printf 'domain\tshared-%d.test\ndomain\tb-only-%d.test\n' "$i" "$i"; done >"$WORK/b.txt"
printf 'domain\tlater-a.test\n' >"$WORK/a2.txt"
printf 'domain\tlater-b.test\n' >"$WORK/b2.txt"

# one_line_refusal CMD...: exit 1, nothing on stdout, one line on stderr
# that names the command; the line is left in $LINE.
LINE=""
one_line_refusal() {
    local rc=0
    "$@" >"$WORK/logs/r.out" 2>"$WORK/logs/r.err" || rc=$?
    [ "$rc" -eq 1 ] || { cat "$WORK/logs/r.err" >&2; fail "exit $rc (expected 1) from: $*"; }
    [ "$(wc -l <"$WORK/logs/r.err")" -eq 1 ] || {
        sed 's/^/    | /' "$WORK/logs/r.err" >&2
        fail "not one line on stderr from: $*"
    }
    [ ! -s "$WORK/logs/r.out" ] || fail "output on stdout from: $*: $(cat "$WORK/logs/r.out")"
    LINE=$(cat "$WORK/logs/r.err")
}

# E1: both submit; no agent yet, so work is waiting under E1.
must "$PSI" submit --state "$A" "$WORK/a.txt" >/dev/null
must "$PSI" submit --state "$B" "$WORK/b.txt" >/dev/null

# 1. E2 is new: refused until accepted.
must "$PSI_HUB" epoch --dir "$HUB_DIR" --set E2 >/dev/null
one_line_refusal "$PSI" submit --state "$A" "$WORK/a2.txt"
case "$LINE" in
"psi submit: "*"E2"*"psi epoch --accept E2"*) ;;
*) fail "unexpected refusal of an unaccepted epoch: $LINE" ;;
esac
must "$PSI" epoch --state "$A" --accept E2 >/dev/null
must "$PSI" epoch --state "$B" --accept E2 >/dev/null
must "$PSI" submit --state "$A" "$WORK/a2.txt" >/dev/null
must "$PSI" submit --state "$B" "$WORK/b2.txt" >/dev/null
say "a new manual epoch is taken only once accepted"

# 2. Back to E1: refused by submit and by the agent, one line each.
must "$PSI_HUB" epoch --dir "$HUB_DIR" --set E1 >/dev/null
one_line_refusal "$PSI" submit --state "$A" "$WORK/a.txt"
case "$LINE" in
"psi submit: the hub's epoch E1 was used before and E2 since; never going back") ;;
*) fail "unexpected submit refusal after the epoch went back: $LINE" ;;
esac
one_line_refusal "$PSI" agent --state "$B" --once
case "$LINE" in
"psi agent: refused this round's work: the hub's epoch E1 was used before and E2 since; never going back") ;;
*) fail "unexpected agent refusal after the epoch went back: $LINE" ;;
esac
n=$(sqlite3 "$B/state.db" "SELECT count(*) FROM agent_work" 2>/dev/null || echo 0)
[ "$n" = 0 ] || fail "the agent worked under an epoch left behind ($n tasks recorded)"
say "an epoch set back is refused by submit and agent"

# 3. What psi epoch says.
out=$("$PSI" epoch --state "$A" 2>&1) || true
grep -q '^E1 .*manual .*used since' <<<"$out" || fail "psi epoch does not list E1: $out"
grep -q '^E2 .*manual .*used since' <<<"$out" || fail "psi epoch does not list E2: $out"
grep -q '^hub: current epoch E1 (manual mode)$' <<<"$out" ||
    fail "psi epoch does not show the hub's epoch: $out"
one_line_refusal "$PSI" epoch --state "$A" --accept E1
case "$LINE" in
*"E1 was used before and E2 since"*) ;;
*) fail "accepting an epoch left behind was not refused: $LINE" ;;
esac
say "psi epoch lists the epochs and refuses to take one back"
say "PASS"
