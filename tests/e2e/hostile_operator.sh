#!/usr/bin/env bash
# The hub's operator as the attacker (docs/trust.md): it holds the hub's key
# and its data directory, and wants participant b's indicators. b holds 80
# IPv4 indicators and shares with a only (a, with b only). The operator holds the key of
# "ghost" and of "phantom", and submits 294 guesses (all 80 of b's among them)
# under each. Each attack is staged as the operator would stage it, and in
# each the attacking identity's results hold none of b's indicators, b's agent
# reports the refusal in one line, and a and b still get exactly their
# overlap.
#
#  1. Rewrite b's hub-side policy to share with ghost (psi-hub policy, and the
#     same rows written straight into hub.db), ghost admitted in the log: b's
#     own policy (psi policy) decides; b's agent refuses ghost's set.
#  2. A participant that exists only in the store (a row in hub.db, no log
#     entry; its roster record pointing at another participant's admission):
#     b now shares with all, and its agent still refuses phantom's set: its
#     admission is not proven in the log.
#  3. ghost is admitted in the log and b shares with all: b's budget
#     (psi agent --peer-limit) refuses ghost's 294 guesses whole.
#  4. The hub shows another key for a pinned peer (a's row rewritten to the
#     operator's key): b's agent refuses a's next set.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init hostile_operator "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=10
command -v sqlite3 >/dev/null || fail "sqlite3 is needed (scripts/setup.sh installs it)"

data="$WORK/data"
mkdir -p "$data"
for i in $(seq 0 79); do echo "198.51.100.$i"; done >"$data/b.txt"         # b's 80
for i in $(seq 60 79); do echo "198.51.100.$i"; done >"$data/a.txt"        # a shares 20 of them
for i in $(seq 1 30); do echo "a-only$i.example.org"; done >>"$data/a.txt"
for i in $(seq 0 255); do echo "198.51.100.$i"; done >"$data/guesses.txt"  # the operator's guesses
for i in $(seq 0 37); do echo "203.0.113.$i"; done >>"$data/guesses.txt"
[ "$(wc -l <"$data/guesses.txt")" -eq 294 ] || fail "the guess list is not 294 lines"

hub_init "$WORK/hub" hub.example.org
party_new a agency --share-with b
must "$PSI" policy --state "$(party_dir a)" --share-with b --local >/dev/null
party_new b agency --share-with a
must "$PSI" policy --state "$(party_dir b)" --share-with a --local >/dev/null
party_new ghost agency # the operator holds ghost's key; the admission is logged
A=$(party_dir a) B=$(party_dir b) GHOST=$(party_dir ghost)

# expected overlap, computed from the plain files
LC_ALL=C comm -12 <(sort "$data/a.txt") <(sort "$data/b.txt") >"$WORK/overlap.txt"
[ "$(wc -l <"$WORK/overlap.txt")" -eq 20 ] || fail "the planted overlap is not 20"

# b_values_in ID: how many of b's indicators ID's results name
b_values_in() {
    must_to "$WORK/logs/results.$1.jsonl" "$PSI" results --state "$(party_dir "$1")" --json
    grep -o '"value":"[^"]*"' "$WORK/logs/results.$1.jsonl" | sed 's/"value":"//; s/"$//' |
        LC_ALL=C sort >"$WORK/logs/values.$1"
    LC_ALL=C comm -12 "$WORK/logs/values.$1" <(LC_ALL=C sort "$data/b.txt") | wc -l
}

# ---------------------------------------------------------------- 1. hub-side policy rewritten
say "1. the operator widens b's policy at the hub to include ghost"
must "$PSI_HUB" policy --dir "$WORK/hub" --id b --share-with a,ghost >/dev/null
# ...and, for good measure, straight in the store, with no log entry
sqlite3 "$WORK/hub/hub.db" "UPDATE participant SET share_all = 1 WHERE id = 'b';" ||
    fail "cannot rewrite b's row in hub.db"
hub_start
must "$PSI" submit --state "$A" "$data/a.txt" >/dev/null
must "$PSI" submit --state "$B" "$data/b.txt" >/dev/null
must "$PSI" submit --state "$GHOST" "$data/guesses.txt" >/dev/null
agents() { # agents LOG ID...: one --once round of each, in order
    local log=$1 p
    shift
    for p in "$@"; do
        "$PSI" agent --state "$(party_dir "$p")" --once ${PEER_LIMIT:+--peer-limit $PEER_LIMIT} \
            >>"$WORK/logs/$log.$p" 2>&1 || fail "agent of $p failed: $(tail -n 5 "$WORK/logs/$log.$p")"
    done
}
agents agent1 ghost a b
# b's first round told the hub its policy, and an honest hub narrows b's work
# to a's sets. The operator deletes that statement from its store.
grep -q "policy was sent to the hub" "$WORK/logs/agent1.b" ||
    fail "b's agent did not send its policy: $(cat "$WORK/logs/agent1.b")"
sqlite3 "$WORK/hub/hub.db" "DELETE FROM party_share WHERE owner = 'b'; DELETE FROM party_policy WHERE id = 'b';" ||
    fail "cannot delete b's statement from hub.db"
agents agent1 ghost a b
grep -q "refused submission [0-9]* of ghost: this participant's own policy does not share with ghost" \
    "$WORK/logs/agent1.b" || fail "b's agent did not refuse ghost's set by its own policy: $(cat "$WORK/logs/agent1.b")"
# one line in each of b's two runs
[ "$(grep -c "refused submission [0-9]* of ghost" "$WORK/logs/agent1.b")" -eq 2 ] ||
    fail "b's agent did not report ghost's refusal once a run: $(cat "$WORK/logs/agent1.b")"
n=$(b_values_in ghost)
[ "$n" -eq 0 ] || fail "ghost learned $n of b's indicators"
n=$(b_values_in a)
[ "$n" -eq 20 ] || fail "a sees $n of b's indicators, expected the 20 they share"
compare_or_fail "a's overlap with b" "$WORK/overlap.txt" "$WORK/logs/values.a"
grep -q '"peers":\["b"\]' "$WORK/logs/results.a.jsonl" || fail "a's results do not name b"
must "$PSI" results --state "$B" --json >"$WORK/logs/results.b.jsonl"
[ "$(grep -c '"peers":\["a"\]' "$WORK/logs/results.b.jsonl")" -eq 20 ] ||
    fail "b does not see its 20 common indicators with a"
say "1. ok: ghost learned nothing; a and b see their 20 common indicators"

# ---------------------------------------------------------------- 2. a participant only in the store
say "2. the operator adds phantom straight into hub.db, with no log entry"
phantom_out=$(must "$PSI" init --state "$WORK/parties/phantom" --id phantom --hub "$HUB_URL" \
    --hub-key "$HUB_KEY")
phantom_key=$(printf '%s\n' "$phantom_out" | tail -n 1)
# the raw Ed25519 key: the last field of NAME+KEYID+BASE64 holds a type byte first
# (NAME and KEYID hold no '+'; base64 may)
phantom_hex=$(printf '%s' "$phantom_key" | cut -d+ -f3- | base64 -d | tail -c 32 | od -An -tx1 | tr -d ' \n')
[ ${#phantom_hex} -eq 64 ] || fail "cannot read phantom's key"
a_index=$(sqlite3 "$WORK/hub/hub.db" "SELECT admit_index FROM participant WHERE id = 'a';")
sqlite3 "$WORK/hub/hub.db" "INSERT INTO participant(id, role, public_key, share_all, contribute_only,
    removed, admitted_ms, admit_index) VALUES ('phantom', 'agency', X'$phantom_hex', 1, 0, 0, 0,
    $a_index);" || fail "cannot add phantom to hub.db"
must "$PSI" policy --state "$B" --share-with all >/dev/null # b now shares with everyone admitted
must "$PSI" submit --state "$WORK/parties/phantom" "$data/guesses.txt" >/dev/null
# ghost is a logged peer, and b now shares with all: only b's budget stands
# between ghost's 294 guesses and b's key (part 3)
PEER_LIMIT=100 agents agent2 phantom b ghost phantom b
grep -q "refused submission [0-9]* of phantom: phantom's admission is not proven in the hub's log" \
    "$WORK/logs/agent2.b" || fail "b's agent did not refuse phantom's set: $(cat "$WORK/logs/agent2.b")"
grep -q "peer phantom: not pinned: its admission entry does not admit this id" "$WORK/logs/agent2.b" ||
    fail "b's agent did not say why phantom is not pinned: $(cat "$WORK/logs/agent2.b")"
n=$(b_values_in phantom)
[ "$n" -eq 0 ] || fail "phantom learned $n of b's indicators"
"$PSI" peers --state "$B" >"$WORK/logs/peers.b" 2>"$WORK/logs/peers.b.err" ||
    fail "psi peers failed: $(cat "$WORK/logs/peers.b.err")"
grep -q "^a " "$WORK/logs/peers.b" && grep -q "^ghost " "$WORK/logs/peers.b" ||
    fail "psi peers does not list a and ghost: $(cat "$WORK/logs/peers.b")"
grep -q "^phantom " "$WORK/logs/peers.b" && fail "psi peers lists phantom: $(cat "$WORK/logs/peers.b")"
grep -q "phantom: not pinned" "$WORK/logs/peers.b.err" ||
    fail "psi peers does not report phantom: $(cat "$WORK/logs/peers.b.err")"
grep -q "^ghost .*  new$" "$WORK/logs/peers.b" ||
    fail "psi peers does not mark ghost new at the first listing: $(cat "$WORK/logs/peers.b")"
"$PSI" peers --state "$B" --json --offline >"$WORK/logs/peers.b.json" ||
    fail "psi peers --json --offline failed"
grep -q '^{"id":"ghost","role":"agency","fingerprint":"[0-9a-f:]*","admit_index":[0-9]*,"shared":true,"new":false}$' \
    "$WORK/logs/peers.b.json" || fail "psi peers --json after a listing: $(cat "$WORK/logs/peers.b.json")"
must "$PSI" policy --state "$B" >"$WORK/logs/policy.b"
grep -q "^share with: all$" "$WORK/logs/policy.b" && grep -q "^hub told:   yes$" "$WORK/logs/policy.b" ||
    fail "psi policy does not show b's policy as sent: $(cat "$WORK/logs/policy.b")"
say "2. ok: phantom, in the store only, got nothing"

# ---------------------------------------------------------------- 3. the budget
say "3. b shares with all; ghost's 294 guesses met b's --peer-limit 100"
grep -q "refused submission [0-9]* of ghost: its 294 elements would take ghost past this agent's limit of 100 elements per peer and epoch (0 taken on" \
    "$WORK/logs/agent2.b" || fail "b's agent did not refuse ghost's set by its budget: $(cat "$WORK/logs/agent2.b")"
grep -q "cross-blinded submission [0-9]* of ghost" "$WORK/logs/agent2.b" &&
    fail "b's agent cross-blinded ghost's set"
n=$(b_values_in ghost)
[ "$n" -eq 0 ] || fail "ghost learned $n of b's indicators past b's budget"
say "3. ok: refused whole by the budget"

# ---------------------------------------------------------------- 4. a pinned peer's key swapped
say "4. the hub shows the operator's key for a"
ghost_hex=$(sqlite3 "$WORK/hub/hub.db" "SELECT hex(public_key) FROM participant WHERE id = 'ghost';")
a_hex=$(sqlite3 "$WORK/hub/hub.db" "SELECT hex(public_key) FROM participant WHERE id = 'a';")
echo "a-only99.example.org" >"$data/a2.txt"
must "$PSI" submit --state "$A" "$data/a2.txt" >/dev/null
sqlite3 "$WORK/hub/hub.db" "UPDATE participant SET public_key = X'$ghost_hex' WHERE id = 'a';"
"$PSI" agent --state "$B" --once >"$WORK/logs/agent4.b" 2>&1 || true
grep -q "another key for a than the one pinned" "$WORK/logs/agent4.b" ||
    fail "b's agent did not notice a's key was swapped: $(cat "$WORK/logs/agent4.b")"
grep -q "cross-blinded submission [0-9]* of a" "$WORK/logs/agent4.b" &&
    fail "b's agent worked on a set under a swapped key"
sqlite3 "$WORK/hub/hub.db" "UPDATE participant SET public_key = X'$a_hex' WHERE id = 'a';"
say "4. ok: the pinned key holds"

hub_stop
say "PASS"
