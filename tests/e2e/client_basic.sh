#!/usr/bin/env bash
# The participant's tool end to end, against a real psi-hub on loopback:
#
#  1. Two agencies init, are admitted, submit small generated files (one plain
#     text with defanged values, comments and duplicates, one CSV), run their
#     agents once, and read their results; each learns exactly the plaintext
#     intersection the script computes itself (comm over sorted `psi ingest`
#     outputs), with the other as the peer, in JSON lines and in the table.
#  2. Submitting the same file again adds nothing (exit 0); a file with five
#     more indicators adds exactly those five; both agents pick the delta up.
#  3. A submission whose receipt was lost (the state put back to "pending",
#     as if psi submit had been killed after the hub's commit) is finished by
#     the next run with the hub's first answer: same submission id, nothing
#     submitted twice.
#  4. The agent without --once polls, and stops cleanly on SIGTERM.
#  5. Error paths, each one line on stderr and a non-zero exit: hub down
#     (connection refused, said in under 2 s with what to check), a
#     wrong hub key, an unreadable file, a malformed file (file:line), a
#     missing state directory, bad init arguments, usage errors (exit 2):
#     each a single line naming the bad option, missing value or argument;
#     --help (exit 0) for every command and subcommand psi --help lists;
#     --version of psi and psi-hub (program version, indicator rules).
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init client_basic "${PSI_BIN:-$here/../../build}"
# Error paths must not wait out the default 30 s.
export PSI_HUB_TIMEOUT=3

# expect_one_line_failure CODE CMD...: CMD exits CODE with exactly one line
# on stderr that starts "psi SUBCOMMAND: " and nothing on stdout; the line is
# left in $LINE.
LINE=""
expect_one_line_failure() {
    local code=$1 rc=0
    shift
    "$@" >"$WORK/logs/fail.out" 2>"$WORK/logs/fail.err" || rc=$?
    [ "$rc" -eq "$code" ] || {
        sed 's/^/    | /' "$WORK/logs/fail.err" >&2
        fail "exit $rc (expected $code) from: $*"
    }
    [ "$(wc -l <"$WORK/logs/fail.err")" -eq 1 ] || {
        sed 's/^/    | /' "$WORK/logs/fail.err" >&2
        fail "not exactly one line on stderr from: $*"
    }
    [ -s "$WORK/logs/fail.out" ] && fail "output on stdout from failing: $*"
    LINE=$(cat "$WORK/logs/fail.err")
    case "$LINE" in
    "psi $2: "*) ;;
    *) fail "the line does not start with 'psi $2: ': $LINE" ;;
    esac
}

expect_in_line() {
    case "$LINE" in
    *"$1"*) ;;
    *) fail "the line does not say '$1': $LINE" ;;
    esac
}

# ---------------------------------------------------------------- the files

data="$WORK/data"
mkdir -p "$data"
hash_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
{
    echo "# agency-a: C2 servers seen this week"
    echo
    for i in $(seq 1 30); do
        echo "203.0.113.$i"
        echo "shared$i.example.com"
        hash_of "shared-$i"
    done
    for i in $(seq 1 40); do
        printf '198.51.100.%d\tseen by a only\n' "$i"
        echo "a-only$i.example.org"
        echo "hxxp://a.example[.]net/path$i?Q=$i"
    done
    echo "203.0.113.1" # a duplicate
    echo "10.0.0.1"    # private: skipped
} >"$data/a.txt"
{
    echo "indicator,comment"
    for i in $(seq 1 30); do
        echo "203.0.113[.]$i,\"defanged, as in a report\""
        echo "SHARED$i[.]example[.]com,upper case"
        echo "$(hash_of "shared-$i" | tr 'a-f' 'A-F'),upper-case hex"
    done
    for i in $(seq 1 40); do
        echo "192.0.2.$i,b only"
        echo "b-only$i.example.org,b only"
        echo "$(hash_of "b-$i"),b only"
    done
} >"$data/b.csv"

# The answer, computed here from the canonical sets alone.
ingest_flat "$WORK/a.set" "$data/a.txt"
ingest_flat "$WORK/b.set" "$data/b.csv"
LC_ALL=C comm -12 "$WORK/a.set" "$WORK/b.set" >"$WORK/common.set"
[ "$(wc -l <"$WORK/common.set")" -eq 90 ] ||
    fail "the generated files share $(wc -l <"$WORK/common.set") indicators, not 90"

# ---------------------------------------------------------------- 1. the run

hub_init "$WORK/hub" client-hub --epoch manual:2026-W48
party_new agency-a agency --share-with all
party_new agency-b agency --share-with all
hub_start
A=$(party_dir agency-a)
B=$(party_dir agency-b)

for f in id.key mutual.seed state.db; do
    mode=$(stat -c %a "$A/$f")
    [ "$mode" = 600 ] || fail "$A/$f has mode $mode, not 600"
done
[ "$(stat -c %a "$A")" = 700 ] || fail "$A is not mode 700"

out=$(must "$PSI" submit --state "$A" "$data/a.txt")
grep -q "epoch 2026-W48: 210 new, 0 already submitted: submission" <<<"$out" ||
    fail "unexpected summary from the first submit of agency-a: $out"
out=$(must "$PSI" submit --state "$B" --format csv "$data/b.csv")
grep -q "epoch 2026-W48: 210 new, 0 already submitted" <<<"$out" ||
    fail "unexpected summary from the first submit of agency-b: $out"
say "both agencies submitted 210 indicators"

must "$PSI" agent --state "$A" --once >"$WORK/logs/agent.a"
must "$PSI" agent --state "$B" --once >"$WORK/logs/agent.b"
grep -q "1 submission cross-blinded (210 elements" "$WORK/logs/agent.a" ||
    fail "agency-a's agent did not cross-blind agency-b's set: $(cat "$WORK/logs/agent.a")"
grep -q "cross-blinded (" "$WORK/logs/agent.b" ||
    fail "agency-b's agent did not cross-blind agency-a's set: $(cat "$WORK/logs/agent.b")"

check_results() {
    local id=$1 peer=$2 set=$3
    results_flat "$id" "$WORK/results.$id.tsv"
    awk -v id="$id" -v peer="$peer" 'BEGIN { FS = OFS = "\t" } { print id, $1, $2, peer }' \
        "$set" | LC_ALL=C sort >"$WORK/expected.$id.tsv"
    compare_or_fail "$id's results" "$WORK/expected.$id.tsv" "$WORK/results.$id.tsv"
}
check_results agency-a agency-b "$WORK/common.set"
check_results agency-b agency-a "$WORK/common.set"
say "each agency learnt exactly the 90 common indicators, and who holds them"

table=$(must "$PSI" results --state "$A")
grep -q "90 of agency-a's indicators are also held by others" <<<"$table" ||
    fail "the table has no summary: $table"
grep -Eq '^ipv4 +203\.0\.113\.7 +agency-b$' <<<"$table" ||
    fail "the table lacks 203.0.113.7: $table"
grep -q "198.51.100" <<<"$table" && fail "the table shows an indicator nobody else holds"
# results ends with the log checkpoint it saw, signed by the hub: the one the
# state now trusts (what participants compare to catch a split view).
grep -q "^checkpoint seen" <<<"$table" || fail "results printed no checkpoint: $table"
seen=$(echo "$table" | sed -n '/^checkpoint seen/,$p' | sed 1d)
grep -q "^— " <<<"$seen" || fail "the checkpoint results printed has no signature line: $seen"
trusted=$(must "$PSI" audit checkpoint --state "$A")
case "$trusted" in *"$(echo "$seen" | sed -n 3p)"*) ;; *)
    fail "results printed a checkpoint (root $(echo "$seen" | sed -n 3p)) the state does not trust: $trusted" ;;
esac
must_to "$WORK/logs/by-epoch.jsonl" "$PSI" results --state "$A" --json --epoch 2026-W48
# The same results (each line's last_seen is the run's own: compared without it).
cmp -s <("$PSI_SCENARIO" --flatten "$WORK/logs/by-epoch.jsonl") \
    <("$PSI_SCENARIO" --flatten "$WORK/logs/results.agency-a.jsonl") ||
    fail "results --epoch of the current epoch differ from the default"
out=$(must "$PSI" results --state "$A" --epoch 2026-W01)
grep -q "epoch 2026-W01: none of agency-a's indicators" <<<"$out" ||
    fail "an epoch without submissions did not say so: $out"

# ---------------------------------------------------------------- 2. again, and a delta

out=$(must "$PSI" submit --state "$A" "$data/a.txt")
grep -q "nothing new (210 already submitted)" <<<"$out" ||
    fail "submitting the same file again did not say nothing new: $out"
{
    cat "$data/a.txt"
    for i in $(seq 41 44); do echo "a-only$i.example.org"; done
    echo "192.0.2.7" # agency-b holds it
} >"$data/a2.txt"
# --exclude: the party's own values are never submitted
printf 'a-only41.example.org\na-only42.example.org\na-only43.example.org\na-only44.example.org\n192.0.2.7/32\n' >"$data/exclude.txt"
out=$(must "$PSI" submit --state "$A" --exclude "$data/exclude.txt" "$data/a2.txt")
grep -q "nothing new (210 already submitted)" <<<"$out" ||
    fail "excluded indicators were submitted: $out"
out=$(must "$PSI" submit --state "$A" "$data/a2.txt")
grep -q "5 new, 210 already submitted" <<<"$out" ||
    fail "the delta was not exactly five new indicators: $out"
must "$PSI" agent --state "$B" --once >"$WORK/logs/agent.b2"
grep -q "1 submission cross-blinded (5 elements)" "$WORK/logs/agent.b2" ||
    fail "agency-b's agent did not take the delta: $(cat "$WORK/logs/agent.b2")"
must "$PSI" agent --state "$A" --once >"$WORK/logs/agent.a2"
grep -q "0 submissions cross-blinded" "$WORK/logs/agent.a2" ||
    fail "agency-a's agent found work where there was none: $(cat "$WORK/logs/agent.a2")"
printf 'ipv4\t192.0.2.7\n' | LC_ALL=C sort -m - "$WORK/common.set" >"$WORK/common2.set"
check_results agency-a agency-b "$WORK/common2.set"
say "a repeated submission added nothing; a delta of five added five, one of them shared"

# ---------------------------------------------------------------- 3. a lost receipt

if command -v sqlite3 >/dev/null; then
    {
        echo "b-late1.example.org"
        echo "b-late2.example.org"
    } >"$data/b2.txt"
    out=$(must "$PSI" submit --state "$B" "$data/b2.txt")
    sid=$(echo "$out" | sed -n 's/.*: submission \([0-9]*\) .*/\1/p')
    [ -n "$sid" ] || fail "no submission id in: $out"
    # As if psi submit had been killed between the hub's commit and recording
    # the receipt: the submission is pending again, its positions unknown.
    sqlite3 "$B/state.db" "BEGIN;
        INSERT INTO pending_items(upload_id, ord, type, value)
          SELECT s.upload_id, p.position - s.position_base, p.type, p.value
          FROM positions p JOIN submissions s ON p.submission_id = s.submission_id
          WHERE s.submission_id = $sid;
        DELETE FROM positions WHERE submission_id = $sid;
        UPDATE submissions SET status = 0, submission_id = NULL, position_base = NULL
          WHERE submission_id = $sid;
        COMMIT;"
    out=$(must "$PSI" submit --state "$B" "$data/b2.txt")
    grep -q "finished an interrupted submission of 2 indicators: submission $sid\$" <<<"$out" ||
        fail "the interrupted submission did not finish as submission $sid: $out"
    grep -q "nothing new (2 already submitted)" <<<"$out" ||
        fail "the resumed run submitted its indicators again: $out"
    rows=$(sqlite3 "$HUB_DIR/hub.db" "SELECT count(*) FROM submission WHERE owner = 'agency-b'" \
        2>/dev/null || echo "?")
    [ "$rows" = "?" ] || [ "$rows" -eq 2 ] ||
        fail "the hub holds $rows submissions of agency-b, not 2"
    say "a lost receipt was recovered from the hub's first answer; nothing submitted twice"
else
    say "sqlite3 not installed: lost-receipt check skipped"
fi

# ---------------------------------------------------------------- 4. the polling agent

must "$PSI" agent --state "$A" --once >/dev/null # drain: the poller starts idle
"$PSI" agent --state "$A" --interval 1 >"$WORK/logs/agent.daemon" 2>&1 &
agent_pid=$!
HARNESS_PIDS+=("$agent_pid")
sleep 2 # idle polls, backing off
echo "b-polled.example.org" >"$data/b3.txt"
must "$PSI" submit --state "$B" "$data/b3.txt" >/dev/null
for _ in $(seq 150); do
    grep -q "cross-blinded submission" "$WORK/logs/agent.daemon" && break
    sleep 0.1
done
grep -q "cross-blinded submission" "$WORK/logs/agent.daemon" ||
    fail "the polling agent did not pick up agency-b's new submission within 15 s"
kill -TERM "$agent_pid"
rc=0
for _ in $(seq 50); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$agent_pid" 2>/dev/null && fail "the agent did not stop within 5 s of SIGTERM"
wait "$agent_pid" || rc=$?
[ "$rc" -eq 0 ] || fail "the agent exited $rc on SIGTERM (expected 0)"
say "the polling agent did the new work and stopped cleanly on SIGTERM"

# ---------------------------------------------------------------- 5. failures

expect_one_line_failure 1 "$PSI" submit --state "$A" "$data/missing.txt"
expect_in_line "missing.txt"
printf '{"type": "bundle", "objects": [\n  {"type": "indicator",\n  oops\n' >"$data/bad.json"
expect_one_line_failure 1 "$PSI" submit --state "$A" --format stix "$data/bad.json"
expect_in_line "bad.json:"
expect_one_line_failure 1 "$PSI" submit --state "$A" --exclude "$data/missing-exclude.txt" "$data/a.txt"
expect_in_line "missing-exclude.txt"
printf '{"type": "bundle", "objects": []}\n' >"$data/bad-as-text.json"
expect_one_line_failure 1 "$PSI" submit --state "$A" --format text "$data/bad-as-text.json"
expect_in_line "not text"
expect_one_line_failure 1 "$PSI" submit --state "$WORK/nowhere" "$data/a.txt"
expect_in_line "$WORK/nowhere"
expect_one_line_failure 1 "$PSI" results --state "$WORK/nowhere"
expect_one_line_failure 1 "$PSI" agent --state "$WORK/nowhere" --once
expect_one_line_failure 2 "$PSI" submit --state "$A" --format word "$data/a.txt"
expect_in_line "word"
expect_one_line_failure 2 "$PSI" results --state "$A" --epoch "no such/label"
say "unreadable and malformed files, a missing state directory: one line each"

# A participant that trusts another hub's key: the real hub cannot open its
# requests, and its answers are not signed by the key the participant pinned.
other_key=$(must "$PSI_HUB" init --dir "$WORK/other-hub" --name other-hub | tail -n 1)
W="$WORK/parties/agency-w"
w_key=$(must "$PSI" init --state "$W" --id agency-w --hub "$HUB_URL" --hub-key "$other_key" |
    tail -n 1)
must "$PSI_HUB" admit --dir "$HUB_DIR" --id agency-w --role agency --key "$w_key" \
    --share-with all >/dev/null
expect_one_line_failure 1 "$PSI" submit --state "$W" "$data/a.txt"
expect_in_line "expected hub key"
expect_one_line_failure 1 "$PSI" results --state "$W"
expect_in_line "expected hub key"
say "a wrong hub key: refused in one line ($LINE)"

# Init refuses what it cannot use, and leaves nothing behind.
expect_one_line_failure 1 "$PSI" init --state "$WORK/x" --id agency-x --hub "$HUB_URL" \
    --hub-key "not-a-key"
expect_one_line_failure 1 "$PSI" init --state "$WORK/x" --id "bad id" --hub "$HUB_URL" \
    --hub-key "$HUB_KEY"
expect_one_line_failure 1 "$PSI" init --state "$WORK/x" --id agency-x --hub "http://h:1" \
    --hub-key "$HUB_KEY"
[ -e "$WORK/x" ] && fail "a refused psi init left $WORK/x behind"
expect_one_line_failure 1 "$PSI" init --state "$A" --id agency-a --hub "$HUB_URL" \
    --hub-key "$HUB_KEY"
expect_in_line "not empty"
for cmd in init submit agent results; do
    rc=0
    "$PSI" "$cmd" --bogus >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 2 ] || fail "psi $cmd --bogus exited $rc, not 2"
done
say "bad init arguments and usage errors refused"

# Usage errors, the same for every command: exit 2, nothing on stdout, and
# exactly one line on stderr that names what was wrong and where help is.
expect_usage() {
    local want=$1 rc=0
    shift
    "$@" >"$WORK/logs/usage.out" 2>"$WORK/logs/usage.err" || rc=$?
    [ "$rc" -eq 2 ] || fail "exit $rc (expected 2) from: $*"
    [ -s "$WORK/logs/usage.out" ] && fail "output on stdout from: $*"
    [ "$(cat "$WORK/logs/usage.err")" = "$want" ] || {
        sed 's/^/    | /' "$WORK/logs/usage.err" >&2
        fail "not the line '$want' from: $*"
    }
}
expect_usage "psi submit: unknown option '--colum' (psi submit --help)" \
    "$PSI" submit --state "$A" --colum 2 "$data/a.txt"
expect_usage "psi submit: option '--state' needs a value (psi submit --help)" \
    "$PSI" submit "$data/a.txt" --state
expect_usage "psi submit: option '--state' is required (psi submit --help)" \
    "$PSI" submit "$data/a.txt"
expect_usage "psi submit: option '--state' given twice (psi submit --help)" \
    "$PSI" submit --state "$A" --state="$B" "$data/a.txt"
expect_usage "psi results: unexpected argument 'extra' (psi results --help)" \
    "$PSI" results --state "$A" extra
expect_usage "psi agent: option '--interval' wants a whole number from 1 to 86400, not '0' (psi agent --help)" \
    "$PSI" agent --state "$A" --interval 0
expect_usage "psi feed publish: unknown option '--vendor' (psi feed publish --help)" \
    "$PSI" feed publish --state "$A" --vendor agency-b "$data/a.txt"
expect_usage "psi audit: unknown subcommand 'verfy' (psi audit --help)" "$PSI" audit verfy
expect_usage "psi: unknown command 'sumbit' (psi --help)" "$PSI" sumbit
expect_usage "psi: no command given (psi --help)" "$PSI"

# --help for every command psi --help lists, and for every subcommand the
# command's own --help lists: the usage on stdout, exit 0; and an unknown
# option refused in the one line. New commands are covered as they come.
expect_help() {
    local rc=0
    "$PSI" "$@" --help >"$WORK/logs/help.out" 2>"$WORK/logs/help.err" || rc=$?
    [ "$rc" -eq 0 ] || fail "exit $rc from: psi $* --help"
    [ -s "$WORK/logs/help.err" ] && fail "output on stderr from: psi $* --help"
    head -n 1 "$WORK/logs/help.out" | grep -q "^usage: psi $* " ||
        fail "psi $* --help does not start with 'usage: psi $*'"
    expect_usage "psi $*: unknown option '--bogus' (psi $* --help)" "$PSI" "$@" --bogus
}
# The NAMEs of the lines "  psi [GROUP] NAME  summary" of a group's usage.
listed() {
    awk -v p="  psi${*:+ $*} " -v n=$(($# + 2)) 'index($0, p) == 1 && NF > n { print $n }' \
        "$WORK/logs/help.out"
}
"$PSI" --help >"$WORK/logs/help.out" || fail "psi --help failed"
commands=$(listed)
[ "$(echo "$commands" | wc -l)" -ge 10 ] || fail "psi --help lists too few commands: $commands"
checked=0
for cmd in $commands; do
    expect_help "$cmd"
    checked=$((checked + 1))
    "$PSI" "$cmd" --help >"$WORK/logs/help.out"
    for sub in $(listed "$cmd"); do
        expect_help "$cmd" "$sub"
        checked=$((checked + 1))
    done
done
say "usage errors in one line (exit 2), --help of $checked commands and subcommands (exit 0)"

# --version: the program's version (the CMake project's) and the indicator
# rules it canonicalises under (PSI_IOC_RULES_VERSION), for both programs.
src=${PSI_SOURCE:-$here/../..}
want_version=$(sed -n 's/^project(psi VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
want_rules=$(sed -n 's/^#define PSI_IOC_RULES_VERSION \([0-9]*\)U*$/\1/p' "$src/psi/include/psi/indicator.h")
[ -n "$want_version" ] && [ -n "$want_rules" ] || fail "cannot read the version or the rules from $src"
for prog in "$PSI" "$PSI_HUB"; do
    name=$(basename "$prog")
    got=$("$prog" --version) || fail "$name --version failed"
    [ "$got" = "$name $want_version (indicator rules $want_rules)" ] ||
        fail "$name --version says '$got', not '$name $want_version (indicator rules $want_rules)'"
done
say "--version: $("$PSI" --version); $("$PSI_HUB" --version)"

# Hub down: nothing listens at its address, so the connection is refused:
# one line naming the address and what to check, exit 1, at once (well under
# 2 s, although PSI_HUB_TIMEOUT is 3 s: no waiting out the timeout, no retries).
hub_stop
for cmd in "submit --state $A $data/a.txt" "agent --state $A --once" "results --state $A --json"; do
    # shellcheck disable=SC2086 # the words of the command
    set -- $cmd
    t0=$(date +%s%N)
    expect_one_line_failure 1 "$PSI" "$@"
    t1=$(date +%s%N)
    expect_in_line "cannot reach the hub at $HUB_URL: connection refused"
    expect_in_line "is psi-hub serve running there?"
    ms=$(((t1 - t0) / 1000000))
    [ "$ms" -lt 2000 ] || fail "psi $1 took $ms ms to say the hub is down (want < 2000)"
    say "hub down: psi $1 failed in $ms ms"
done
say "hub down: one line each ($LINE)"

say "OK"
