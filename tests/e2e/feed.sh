#!/usr/bin/env bash
# Blinded vendor feeds (protocol 2) end to end, against a real psi-hub:
#
#  1. A vendor publishes a feed of indicator files plus generated filler
#     (>= 200,000 items): the repository's fixtures (tests/fixtures/ioc)
#     always, and the real published files of $PSI_SHARED/data/ioc in
#     addition when that folder is there (one line says which); the operator
#     sets query quotas.
#  2. An agency queries a set with known overlaps (real and filler members,
#     and non-members): every true member is found, nothing else (at 1e-9 a
#     false positive among 1,000 non-members has odds of 1e-6), in text and
#     JSON, and the stated false-positive rate is printed.
#  3. Queries cost quota once per epoch: the same set asked again is
#     answered from the agency's state (the hub's count of its queries does
#     not grow) with the same result; a query killed once its batch was
#     charged (test hook PSI_TEST_FEED_QUERY_EXIT_CHARGED) is resumed by the
#     next run, not charged again, with the right answer, and its blinds are
#     gone from the state afterwards.
#     Over quota: a batch that would pass the agency's quota is refused with
#     a clear error, and the refusal is in the log; the same set asked again
#     costs nothing and is answered, a new indicator is refused.
#  4. A vendor agent answering under a wrong key (the agent's test hook
#     PSI_TEST_FEED_WRONG_KEY) is refused by the hub (logged) and the agency
#     gets no answer; the agency's own check of a proof is psi_feed_test.
#     The hook exists only in builds configured -DPSI_TEST_HOOKS=ON (as
#     scripts/setup.sh does); in another build this test says so and exits
#     77 (skipped).
#  5. The agency's cached filter, corrupted, is refused (and fetched again);
#     a filter of another vendor or another epoch in its place is refused.
#  6. The auditor's checks pass over the whole log: quotas kept, every
#     answer proven under the announced key.
#
# Env (set by ctest): PSI_BIN build dir, PSI_SOURCE source dir, PSI_SHARED the shared/ folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init feed "${PSI_BIN:-$here/../../build}"
grep -q '^PSI_TEST_HOOKS:BOOL=ON$' "${PSI_BIN:-$here/../../build}/CMakeCache.txt" 2>/dev/null ||
    skip "psi was built without -DPSI_TEST_HOOKS=ON: no wrong-key vendor to test"
export PSI_HUB_TIMEOUT=20
shared=${PSI_SHARED:-$here/../../../shared}
fixtures="${PSI_SOURCE:-$here/../..}/tests/fixtures/ioc"
[ -d "$fixtures" ] || fail "missing fixture folder $fixtures"
inputs=("$fixtures"/*)
min_real=15
if [ -d "$shared/data/ioc" ]; then
    inputs+=("$shared"/data/ioc/*/*)
    min_real=1000
    say "feed inputs: the repository's fixtures and the real files of $shared/data/ioc"
else
    say "feed inputs: the repository's fixtures only ($shared/data/ioc is not there)"
fi

hub_init "$WORK/hub" feed-hub --epoch manual:E1
party_new vendor-v vendor
party_new vendor-w vendor
party_new agency-a agency
party_new agency-b agency
party_new auditor-x auditor
must "$PSI_HUB" quota --dir "$HUB_DIR" --agency agency-a --vendor vendor-v --limit 20000 >/dev/null
must "$PSI_HUB" quota --dir "$HUB_DIR" --agency agency-b --vendor vendor-v --limit 100 >/dev/null
must "$PSI_HUB" quota --dir "$HUB_DIR" --agency agency-a --vendor vendor-w --limit 1000 >/dev/null
hub_start

# ---------------------------------------------------------------- the feed

data="$WORK/data"
mkdir -p "$data"
real=()
for f in "${inputs[@]}"; do
    if "$PSI" ingest "$f" >"$data/one.tsv" 2>/dev/null && [ -s "$data/one.tsv" ]; then
        real+=("$f")
        cat "$data/one.tsv" >>"$data/real.tsv"
    fi
done
LC_ALL=C sort -u "$data/real.tsv" -o "$data/real.tsv"
n_real=$(wc -l <"$data/real.tsv")
[ "$n_real" -ge "$min_real" ] || fail "only $n_real indicators in the input files"
awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "fill-%d.feed.example\n", i }' \
    >"$data/filler.txt"
say "vendor publishes ${#real[@]} files ($n_real indicators) + 200000 filler"
out=$(must "$PSI" feed publish --state "$(party_dir vendor-v)" "${real[@]}" "$data/filler.txt")
case "$out" in
*"epoch E1: "*" indicators published"*"false-positive rate 1e-09 per query"*) ;;
*) fail "unexpected publish output: $out" ;;
esac
n_feed=$(printf '%s\n' "$out" | sed -n 's/.*epoch E1: \([0-9]*\) indicators published.*/\1/p')
[ "$n_feed" -ge 200000 ] || fail "the feed holds $n_feed items, not >= 200000"
# A second vendor, for the wrong-vendor filter below.
printf 'other-%d.example.net\n' $(seq 1 2000) >"$data/w.txt"
must "$PSI" feed publish --state "$(party_dir vendor-w)" --fpr 1e-6 "$data/w.txt" >/dev/null

# The vendors' agents answer in the background.
"$PSI" agent --state "$(party_dir vendor-v)" --interval 1 >"$WORK/logs/agent-v.log" 2>&1 &
HARNESS_PIDS+=($!)
AGENT_V=$!
"$PSI" agent --state "$(party_dir vendor-w)" --interval 1 >"$WORK/logs/agent-w.log" 2>&1 &
HARNESS_PIDS+=($!)

# ---------------------------------------------------------------- a query with known overlaps

# Members: every 5th real indicator, 300 filler names; non-members: 1000.
awk 'NR % 5 == 0' "$data/real.tsv" >"$data/members.tsv"
for i in $(seq 1 300); do printf 'domain\tfill-%d.feed.example\n' $((i * 661)); done \
    >>"$data/members.tsv"
LC_ALL=C sort -u "$data/members.tsv" -o "$data/members.tsv"
{
    cut -f2 "$data/members.tsv"
    for i in $(seq 1 1000); do echo "absent-$i.query.example"; done
} >"$data/query-a.txt"
n_members=$(wc -l <"$data/members.tsv")
say "agency-a queries $n_members members and 1000 non-members"
must_to "$WORK/logs/found.jsonl" "$PSI" feed query --state "$(party_dir agency-a)" \
    --vendor vendor-v --json --timeout 120 "$data/query-a.txt"
python3 - "$WORK/logs/found.jsonl" >"$data/found.tsv" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert o["vendor"] == "vendor-v", o
    print(o["type"] + "\t" + o["value"])
EOF
LC_ALL=C sort -u "$data/found.tsv" -o "$data/found.tsv"
compare_or_fail "the indicators found in the feed" "$data/members.tsv" "$data/found.tsv"
# Text mode prints the same set and the stated rate.
out=$(must "$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v "$data/query-a.txt")
grep -q "^psi feed query: $n_members of $((n_members + 1000)) indicators are in vendor-v's feed of epoch E1 .*false-positive rate 1e-09 per query" <<<"$out" ||
    fail "text output lacks the summary with the rate: $(printf '%s\n' "$out" | tail -n 1)"
[ "$(printf '%s\n' "$out" | grep -vc '^psi feed query:')" -eq "$n_members" ] ||
    fail "text output does not list the $n_members members"

# ---------------------------------------------------------------- quota once

# used AGENCY: the queries the hub counted for AGENCY at vendor-v in E1.
used() {
    python3 - "$HUB_DIR/hub.db" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT coalesce(sum(count), 0) FROM query WHERE agency = ? AND vendor = ?"
                 " AND epoch = 'E1'", (sys.argv[2], "vendor-v")).fetchone()[0])
EOF
}
# pending STATE: rows of the batch in flight (blinds included) in a state.
pending() {
    python3 - "$1/state.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT (SELECT count(*) FROM feed_pending)"
                 " + (SELECT count(*) FROM feed_pending_items)").fetchone()[0])
EOF
}
# The same set again (the text run above was already the second): no new
# query is counted, and the result is the same.
before=$(used agency-a)
must_to "$WORK/logs/again.jsonl" "$PSI" feed query --state "$(party_dir agency-a)" \
    --vendor vendor-v --json --timeout 120 "$data/query-a.txt"
[ "$(used agency-a)" -eq "$before" ] ||
    fail "asking the same set again was counted: $before queries, then $(used agency-a)"
cmp -s "$WORK/logs/found.jsonl" "$WORK/logs/again.jsonl" ||
    fail "asking the same set again gave another answer"
say "the same $((n_members + 1000)) indicators asked again: answered from the state, $before queries counted before and after, same result"
# Killed once charged, before the answer is taken: the next run resumes the
# batch and is not charged again.
resume="$data/query-resume.txt"
{
    for i in $(seq 1 10); do echo "fill-$((i * 661 + 7)).feed.example"; done
    for i in $(seq 1 15); do echo "resume-absent-$i.query.example"; done
} >"$resume"
before=$(used agency-a)
rc=0
PSI_TEST_FEED_QUERY_EXIT_CHARGED=1 "$PSI" feed query --state "$(party_dir agency-a)" \
    --vendor vendor-v "$resume" >"$WORK/logs/killed.out" 2>"$WORK/logs/killed.err" || rc=$?
if [ "$rc" -ne 3 ] || ! grep -q "TEST HOOK PSI_TEST_FEED_QUERY_EXIT_CHARGED" "$WORK/logs/killed.err"; then
    fail "the query was not stopped by its test hook (exit $rc): $(cat "$WORK/logs/killed.err")"
fi
[ "$(used agency-a)" -eq $((before + 25)) ] ||
    fail "the killed query was not charged its 25 queries: $before, then $(used agency-a)"
[ "$(pending "$(party_dir agency-a)")" -gt 0 ] || fail "the killed query left no batch in flight"
must_to "$WORK/logs/resumed.out" "$PSI" feed query --state "$(party_dir agency-a)" \
    --vendor vendor-v --timeout 120 "$resume"
[ "$(used agency-a)" -eq $((before + 25)) ] ||
    fail "the resumed query was charged again: $((before + 25)), then $(used agency-a)"
for i in $(seq 1 10); do echo "fill-$((i * 661 + 7)).feed.example"; done | LC_ALL=C sort >"$data/resume.want"
grep -v '^psi feed query:' "$WORK/logs/resumed.out" | awk '{ print $2 }' | LC_ALL=C sort >"$data/resume.got"
compare_or_fail "the resumed query's members" "$data/resume.want" "$data/resume.got"
[ "$(pending "$(party_dir agency-a)")" -eq 0 ] ||
    fail "the finished batch (its blinds) is still in the state"
say "a query killed once charged: resumed by the next run, 25 queries counted once, the 10 members found, the blinds deleted"

# ---------------------------------------------------------------- over quota

head -n 150 "$data/query-a.txt" >"$data/query-b.txt"
rc=0
"$PSI" feed query --state "$(party_dir agency-b)" --vendor vendor-v "$data/query-b.txt" \
    >"$WORK/logs/b.out" 2>"$WORK/logs/b.err" || rc=$?
[ "$rc" -eq 1 ] || fail "over quota: exit $rc (expected 1)"
grep -q "over quota: agency-b has sent 0 of its 100 queries to vendor-v in epoch E1; a batch of 150 would pass it" \
    "$WORK/logs/b.err" || fail "over quota: unclear error: $(cat "$WORK/logs/b.err")"
[ -s "$WORK/logs/b.out" ] && fail "over quota: something was printed on stdout"
head -n 100 "$data/query-a.txt" >"$data/query-b2.txt"
must_to "$WORK/logs/b2.first" "$PSI" feed query --state "$(party_dir agency-b)" \
    --vendor vendor-v "$data/query-b2.txt"
# All 100 of its quota spent: the same set again is answered from its state.
must_to "$WORK/logs/b2.again" "$PSI" feed query --state "$(party_dir agency-b)" \
    --vendor vendor-v "$data/query-b2.txt"
grep -v '^psi feed query:' "$WORK/logs/b2.first" >"$WORK/logs/b2.first.found"
grep -v '^psi feed query:' "$WORK/logs/b2.again" >"$WORK/logs/b2.again.found"
cmp -s "$WORK/logs/b2.first.found" "$WORK/logs/b2.again.found" ||
    fail "agency-b's second query of the same set gave another answer"
[ "$(used agency-b)" -eq 100 ] || fail "agency-b's queries counted $(used agency-b), not 100"
# One indicator more is a batch past the quota.
{ cat "$data/query-b2.txt"; echo "one-more.query.example"; } >"$data/query-b3.txt"
rc=0
"$PSI" feed query --state "$(party_dir agency-b)" --vendor vendor-v "$data/query-b3.txt" \
    >/dev/null 2>"$WORK/logs/b2.err" || rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "has sent 100 of its 100 queries to vendor-v in epoch E1; a batch of 1 would pass it" "$WORK/logs/b2.err"; then
    fail "a batch past the quota was not refused: $(cat "$WORK/logs/b2.err")"
fi
say "agency-b, its 100 queries spent: the same 100 again answered from its state, one more refused"

# ---------------------------------------------------------------- a wrong key

kill -TERM "$AGENT_V"
wait "$AGENT_V" 2>/dev/null || true
PSI_TEST_FEED_WRONG_KEY=1 "$PSI" agent --state "$(party_dir vendor-v)" --interval 1 \
    >"$WORK/logs/agent-wrong.log" 2>&1 &
HARNESS_PIDS+=($!)
AGENT_WRONG=$!
# Indicators agency-a never asked (its answers so far are kept and cost nothing).
for i in $(seq 1 10); do echo "wrong-key-$i.query.example"; done >"$data/query-wrong.txt"
rc=0
"$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v --timeout 6 \
    "$data/query-wrong.txt" >"$WORK/logs/wrong.out" 2>"$WORK/logs/wrong.err" || rc=$?
[ "$rc" -eq 1 ] || fail "an answer under a wrong key: exit $rc (expected 1)"
grep -q "no answer from vendor-v" "$WORK/logs/wrong.err" ||
    fail "wrong key: unexpected error: $(cat "$WORK/logs/wrong.err")"
[ -s "$WORK/logs/wrong.out" ] && fail "wrong key: indicators were printed"
# The batch stays at the hub: the agent answers it (wrongly) at its next round,
# at most 16 s after the last one (its backoff); wait for the hub's refusal.
for i in $(seq 200); do
    grep -q "does not verify against" "$WORK/logs/agent-wrong.log" && break
    sleep 0.2
done
kill -TERM "$AGENT_WRONG"
wait "$AGENT_WRONG" 2>/dev/null || true
grep -q "TEST HOOK PSI_TEST_FEED_WRONG_KEY" "$WORK/logs/agent-wrong.log" ||
    fail "the agent's test hook did not announce itself"
grep -q "does not verify against vendor-v's announced key of epoch E1" \
    "$WORK/logs/agent-wrong.log" || fail "the hub did not refuse the wrong key's answer: $(cat "$WORK/logs/agent-wrong.log")"

# ---------------------------------------------------------------- cached filters

cache="$(party_dir agency-a)/feeds/vendor-v/E1.filter"
[ -f "$cache" ] || fail "no cached filter at $cache"
"$PSI" agent --state "$(party_dir vendor-v)" --interval 1 >"$WORK/logs/agent-v2.log" 2>&1 &
HARNESS_PIDS+=($!)
small="$data/query-small.txt"
head -n 20 "$data/query-a.txt" >"$small"
flip_byte() { # FILE OFFSET
    python3 - "$1" "$2" <<'EOF'
import sys
path, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, "rb").read())
b[at] ^= 0x40
open(path, "wb").write(bytes(b))
EOF
}
size=$(stat -c %s "$cache")
flip_byte "$cache" $((size / 2))
out=$("$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v "$small" 2>&1) ||
    fail "query after a corrupted cache failed: $out"
grep -q "the cached filter .* is refused (feed filter corrupted" <<<"$out" ||
    fail "the corrupted cached filter was not refused: $out"
cmp -s <(head -c 8 "$cache") <(printf 'PSI-FEED') || fail "the cache was not rewritten"
# Truncated.
truncate -s $((size - 100)) "$cache"
out=$("$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v "$small" 2>&1) ||
    fail "query after a truncated cache failed: $out"
grep -q "is refused (feed filter truncated" <<<"$out" ||
    fail "the truncated cached filter was not refused: $out"
# Another vendor's filter in vendor-v's place.
must "$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-w --timeout 60 "$small" \
    >/dev/null
cp "$(party_dir agency-a)/feeds/vendor-w/E1.filter" "$cache"
out=$("$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v "$small" 2>&1) ||
    fail "query after a foreign cache failed: $out"
grep -q 'is refused (feed filter of vendor "vendor-w", expected "vendor-v")' <<<"$out" ||
    fail "another vendor's filter was not refused: $out"
# Another epoch's: the hub moves to E2, the vendor publishes again, and the
# E1 filter put in E2's place is refused.
must "$PSI_HUB" epoch --dir "$HUB_DIR" --set E2 >/dev/null
# A manual epoch is the operator's word: the parties that work in it accept it.
for p in vendor-v agency-a; do
    must "$PSI" epoch --state "$(party_dir "$p")" --accept E2 >/dev/null
done
must "$PSI" feed publish --state "$(party_dir vendor-v)" "${real[@]}" >/dev/null
mkdir -p "$(party_dir agency-a)/feeds/vendor-v"
cp "$cache" "$(party_dir agency-a)/feeds/vendor-v/E2.filter"
out=$("$PSI" feed query --state "$(party_dir agency-a)" --vendor vendor-v "$small" 2>&1) ||
    fail "query in E2 failed: $out"
grep -q 'is refused (feed filter of epoch "E1", expected "E2")' <<<"$out" ||
    fail "a filter of another epoch was not refused: $out"
grep -q "indicators are in vendor-v's feed of epoch E2" <<<"$out" ||
    fail "no E2 result: $out"

# ---------------------------------------------------------------- the log

out=$(must "$PSI" audit verify --state "$(party_dir auditor-x)")
printf '%s\n' "$out" >"$WORK/logs/audit.txt"
grep -q "^violations: 0$" <<<"$out" && grep -q "^the log of feed-hub verifies$" <<<"$out" ||
    fail "the auditor's checks do not pass: $out"
grep -qE "quota [0-9]+ answer [0-9]+" <<<"$out" || fail "the audit counts no quotas or answers: $out"
python3 - "$HUB_DIR/hub.db" <<'EOF' || fail "the log lacks the feed entries"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
kinds = {}
refused = []
for (entry,) in db.execute("SELECT entry FROM log_entry ORDER BY idx"):
    kinds[entry[1]] = kinds.get(entry[1], 0) + 1
    if entry[1] == 8:  # refusal: code u32, authenticated u8, participant, method
        code = int.from_bytes(entry[10:14], "big")
        at = 15
        who = entry[at + 1 : at + 1 + entry[at]].decode()
        at += 1 + entry[at]
        method = entry[at + 1 : at + 1 + entry[at]].decode()
        refused.append((code, who, method))
need = {4: 3, 9: 3, 11: 3}  # epoch keys, feeds, quotas
for k, n in need.items():
    assert kinds.get(k, 0) >= n, (k, kinds)
assert kinds.get(10, 0) >= 5 and kinds.get(12, 0) >= 5, kinds  # queries, answers
assert (20, "agency-b", "query.submit") in refused, refused  # PSI_ERR_QUOTA = -20
assert (4, "vendor-v", "query.answer") in refused, refused  # PSI_ERR_VERIFY = -4
EOF
say "PASS"
