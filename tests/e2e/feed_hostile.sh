#!/usr/bin/env bash
# A hostile hub operator against the vendor's agent (protocol 2, docs/trust.md):
# the operator holds hub.db and writes query batches straight into it, hoping
# the vendor's agent evaluates guesses of its choosing. Against a real
# psi-hub and real agents:
#
#  1. A vendor publishes a feed; agency-a queries it with the agent running
#     (the batch later replayed).
#  2. The operator stops the hub and writes rows into hub.db's query table:
#     a batch of an agency that does not exist, agency-a's batch with its
#     elements altered after signing, a replay of agency-a's answered batch
#     under a new query id, that batch relabelled with another epoch, and one
#     without a signature.
#  3. agency-a queries again; the vendor's agent runs --once with a
#     --feed-limit of exactly agency-a's two real batches: none of the staged
#     rows is answered, each is refused with one line naming its id, the
#     claimed agency and the reason, and agency-a's real batch is answered
#     and finds exactly its members (so the forged rows counted nothing
#     against agency-a's limit). A second run reports nothing again.
#  4. One more real batch is past the limit: left unanswered, reported.
#  5. The hub moves to E2 before the vendor publishes: the pending E1 batch is
#     refused (the hub's epoch is not the vendor's). After the vendor
#     publishes E2, a genuinely signed E1 batch staged again under a new id is
#     refused (not the vendor's latest epoch) and an E2 query is answered.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init feed_hostile "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=20
command -v sqlite3 >/dev/null || fail "the sqlite3 command-line tool is needed"

hub_init "$WORK/hub" hostile-hub --epoch manual:E1
party_new vendor-v vendor
party_new agency-a agency
must "$PSI_HUB" quota --dir "$HUB_DIR" --agency agency-a --vendor vendor-v --limit 10000 >/dev/null
hub_start
db="$HUB_DIR/hub.db"
sql() { sqlite3 -batch -bail "$db" "$@"; }

data="$WORK/data"
mkdir -p "$data"
awk 'BEGIN { for (i = 1; i <= 2000; i++) printf "m-%d.feed.example\n", i }' >"$data/feed.txt"
# query NAME FIRST LAST: members m-FIRST..m-LAST and as many non-members.
query_file() {
    local name=$1 first=$2 last=$3 i
    for i in $(seq "$first" "$last"); do
        echo "m-$i.feed.example"
        echo "absent-$i.query.example"
    done >"$data/$name.txt"
    for i in $(seq "$first" "$last"); do printf 'domain\tm-%d.feed.example\n' "$i"; done |
        LC_ALL=C sort >"$data/$name.expect"
}
# found OUT: the text output's indicators as sorted "type<TAB>value".
found() {
    grep -v '^psi feed query:' "$1" | awk '{ print $1 "\t" $2 }' | LC_ALL=C sort
}
agent_once() { # LOG [ARGS...]: the vendor's agent, one drain, stdout and stderr in LOG
    local log=$1 rc=0
    shift
    "$PSI" agent --state "$(party_dir vendor-v)" --once "$@" >"$log" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || fail "psi agent --once exited $rc: $(cat "$log")"
}
# The query ids of agency-a's rows, oldest first.
rows_of() { sql "SELECT id FROM query WHERE agency = '$1' ORDER BY id"; }
wait_for_rows() { # AGENCY N: until AGENCY has N rows in hub.db
    local i
    for i in $(seq 300); do
        [ "$(sql "SELECT count(*) FROM query WHERE agency = '$1'")" -ge "$2" ] && return 0
        sleep 0.1
    done
    fail "$1's query batch never reached the hub"
}

# ---------------------------------------------------------------- 1. a feed, a real query

must "$PSI" feed publish --state "$(party_dir vendor-v)" "$data/feed.txt" >/dev/null
"$PSI" agent --state "$(party_dir vendor-v)" --interval 1 >"$WORK/logs/agent-bg.log" 2>&1 &
HARNESS_PIDS+=($!)
AGENT=$!
query_file q1 1 50
must_to "$WORK/logs/q1.out" "$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v \
    --timeout 60 "$data/q1.txt"
compare_or_fail "agency-a's first query" "$data/q1.expect" <(found "$WORK/logs/q1.out")
kill -TERM "$AGENT"
wait "$AGENT" 2>/dev/null || true
Q1=$(rows_of agency-a)
[ "$(sql "SELECT count FROM query WHERE id = $Q1 AND evaluated IS NOT NULL")" = 100 ] ||
    fail "agency-a's first batch ($Q1) is not an answered batch of 100"

# ---------------------------------------------------------------- 2. the operator stages rows

say "the operator writes forged batches into hub.db"
hub_stop
# Each copies the answered row $Q1 (valid points, agency-a's real signature)
# and changes what the operator wants; unanswered, so query.work lists it.
stage() { # AGENCY EPOCH ELEMENTS SIGNATURE: prints the new row's id
    sql "INSERT INTO query(agency, vendor, epoch, count, elements, log_index, created_ms,
                           signature)
         SELECT $1, vendor, $2, count, $3, log_index, created_ms, $4 FROM query WHERE id = $Q1
         RETURNING id"
}
GHOST=$(stage "'ghost-agency'" epoch elements signature)
# The elements rotated by one: the same points, another batch than was signed.
ALTERED=$(stage "'agency-a'" epoch "substr(elements, 33) || substr(elements, 1, 32)" signature)
REPLAY=$(stage "'agency-a'" epoch elements signature)
RELABEL=$(stage "'agency-a'" "'E0'" elements signature)
UNSIGNED=$(stage "'agency-a'" epoch elements NULL)
STAGED="$GHOST $ALTERED $REPLAY $RELABEL $UNSIGNED"
hub_start

# ---------------------------------------------------------------- 3. the agent runs

query_file q2 51 80
"$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v --timeout 60 \
    "$data/q2.txt" >"$WORK/logs/q2.out" 2>"$WORK/logs/q2.err" &
Q2_PID=$!
HARNESS_PIDS+=($Q2_PID)
wait_for_rows agency-a 6
# agency-a's limit is exactly its two real batches (100 + 60): had any of the
# four forged rows claiming agency-a been counted, its real batch would be
# past the limit.
agent_once "$WORK/logs/agent1.log" --feed-limit 160
rc=0
wait "$Q2_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "agency-a's real query failed: $(cat "$WORK/logs/q2.err")"
compare_or_fail "agency-a's second query" "$data/q2.expect" <(found "$WORK/logs/q2.out")

for id in $STAGED; do
    [ "$(sql "SELECT count(*) FROM query WHERE id = $id AND (evaluated IS NOT NULL OR
                                                     answered_ms IS NOT NULL)")" = 0 ] ||
        fail "staged batch $id was answered"
    [ "$(grep -c "refused query batch $id of " "$WORK/logs/agent1.log")" -eq 1 ] ||
        fail "staged batch $id is not reported on exactly one line: $(cat "$WORK/logs/agent1.log")"
done
expect_line() { # ID TEXT
    grep -qF "psi agent: refused query batch $1 of $2" "$WORK/logs/agent1.log" ||
        fail "no line \"refused query batch $1 of $2\": $(cat "$WORK/logs/agent1.log")"
}
expect_line "$GHOST" "ghost-agency: ghost-agency is not a known agency"
expect_line "$ALTERED" "agency-a: the signature is not agency-a's over this batch"
expect_line "$REPLAY" "agency-a: a replay: this vendor evaluated this very batch of agency-a before, as query batch $Q1"
expect_line "$RELABEL" "agency-a: batch of epoch E0, but this vendor answers only its latest announced epoch E1"
expect_line "$UNSIGNED" "agency-a: the batch carries no signature of agency-a"
grep -q "1 feed query batch answered (60 queries), 0 not answered, 5 refused" \
    "$WORK/logs/agent1.log" || fail "unexpected tally: $(cat "$WORK/logs/agent1.log")"
# Counted on the authenticated id: agency-a's two real batches, nothing else.
used=$(sqlite3 "$(party_dir vendor-v)/feed-agent.db" \
    "SELECT group_concat(agency || '=' || queries) FROM answered WHERE epoch = 'E1'")
[ "$used" = "agency-a=160" ] || fail "the vendor counted $used, not agency-a=160"

# A second run reports nothing again: the refusals are recorded.
agent_once "$WORK/logs/agent2.log" --feed-limit 160
grep -q "refused query batch" "$WORK/logs/agent2.log" && fail "refusals reported again: $(cat "$WORK/logs/agent2.log")"

# ---------------------------------------------------------------- 4. past the limit

query_file q3 81 85
rc=0
"$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v --timeout 2 \
    "$data/q3.txt" >/dev/null 2>"$WORK/logs/q3.err" || rc=$?
[ "$rc" -eq 1 ] || fail "a query with no agent running: exit $rc"
Q3=$(sql "SELECT max(id) FROM query WHERE agency = 'agency-a'")
agent_once "$WORK/logs/agent3.log" --feed-limit 160
grep -q "not answering query batch $Q3 of agency-a (10 queries): 160 of this vendor's limit of 160 queries per agency and epoch are used" \
    "$WORK/logs/agent3.log" || fail "the batch past the limit: $(cat "$WORK/logs/agent3.log")"
[ "$(sql "SELECT count(*) FROM query WHERE id = $Q3 AND answered_ms IS NULL")" = 1 ] ||
    fail "the batch past the limit was answered"

# ---------------------------------------------------------------- 5. epochs

say "the hub moves to E2 before the vendor does"
must "$PSI_HUB" epoch --dir "$HUB_DIR" --set E2 >/dev/null
agent_once "$WORK/logs/agent4.log"
grep -qF "refused query batch $Q3 of agency-a: the hub names epoch E2 now, not this vendor's latest announced epoch E1" \
    "$WORK/logs/agent4.log" || fail "the pending E1 batch in E2: $(cat "$WORK/logs/agent4.log")"
# A manual epoch is the operator's word: the parties that work in it accept it.
for p in vendor-v agency-a; do
    must "$PSI" epoch --state "$(party_dir "$p")" --accept E2 >/dev/null
done
must "$PSI" feed publish --state "$(party_dir vendor-v)" "$data/feed.txt" >/dev/null
# agency-a's genuinely signed E1 batch, never evaluated, staged under a new id.
hub_stop
OLD=$(sql "INSERT INTO query(agency, vendor, epoch, count, elements, log_index, created_ms,
                             signature)
           SELECT agency, vendor, epoch, count, elements, log_index, created_ms, signature
           FROM query WHERE id = $Q3 RETURNING id")
hub_start
query_file q4 86 100
"$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v --timeout 60 \
    "$data/q4.txt" >"$WORK/logs/q4.out" 2>"$WORK/logs/q4.err" &
Q4_PID=$!
HARNESS_PIDS+=($Q4_PID)
wait_for_rows agency-a 9
agent_once "$WORK/logs/agent5.log" --feed-limit 160
rc=0
wait "$Q4_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "agency-a's E2 query failed: $(cat "$WORK/logs/q4.err")"
compare_or_fail "agency-a's E2 query" "$data/q4.expect" <(found "$WORK/logs/q4.out")
grep -qF "refused query batch $OLD of agency-a: batch of epoch E1, but this vendor answers only its latest announced epoch E2" \
    "$WORK/logs/agent5.log" || fail "the old-epoch batch: $(cat "$WORK/logs/agent5.log")"
[ "$(sql "SELECT count(*) FROM query WHERE id IN ($Q3, $OLD) AND answered_ms IS NOT NULL")" = 0 ] ||
    fail "an E1 batch was answered in E2"
say "PASS"
