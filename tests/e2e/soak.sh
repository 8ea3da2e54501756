#!/usr/bin/env bash
# Crash soak: many crashes of the hub and of the clients during one
# multi-party run, and still nothing acknowledged is lost, nothing is stored
# twice, and every participant gets exactly the planted answer.
#
#  1. Four agencies (a few thousand indicators each, in several submissions)
#     submit and run their agents side by side, and a vendor publishes its
#     blinded feed (tens of thousands of items) again and again, a new
#     version each time, replacing the last, and runs its agent; two of the
#     agencies query the feed, one with a quota small enough to run out. Every
#     command that fails is re-run until it succeeds, while the hub (64 KiB
#     messages, so that a feed goes up in several chunks) is killed with
#     SIGKILL at random moments, PSI_SOAK_KILLS times (default 24), and
#     restarted each time; one kill in four waits for the vendor's upload to
#     be under way. At every kill, with the hub down, its SQLite store is read
#     directly: each party holds at least every indicator of its acknowledged
#     submissions (psi submit exited 0) and at most those plus the one in
#     flight, and no element is stored twice; the vendor's feed is its last
#     acknowledged version or the one in flight, whole (blocks, size, count,
#     SHA-256 digest); no agency has used more than its quota, and every query
#     batch and answer has its log entry. After the kills, no upload of the
#     vendor is left staged at the hub.
#  2. Each party's last submission (40% of its indicators) is run with
#     `psi submit` killed (SIGKILL) three times: at a random moment, as soon
#     as the hub has staged its upload, and as soon as the hub has answered
#     its commit; then re-run to the end; then `psi agent --once` is killed
#     at random moments and re-run. The hub's rows show no duplicate: one
#     position per indicator, one cross-blind batch per (submission, blinder),
#     one tag per position and blinder. The vendor's next feed version is
#     published with `psi feed publish` killed the same way (twice at random,
#     after the first upload chunk, after the commit), then re-run: one feed,
#     that version, whole; no upload left staged; one FEED log entry.
#  3. Every party's results equal the overlaps planted by psi-scenario; every
#     feed query answered during the kills found exactly the members of the
#     feed version it was answered from (named by its item count), and one
#     more finds those of the last version; the quotas add up (the store's
#     count, the over-quota refusal, the log); no log holds a sanitizer
#     report; if the client has `psi audit verify`, an auditor's verify passes.
#
# Env (set by ctest): PSI_BIN build dir. PSI_SOAK_KILLS: hub kills (default
# 24). PSI_SOAK_SIZE: indicators a party (default 3000). PSI_SOAK_CHUNKS:
# submissions a party (default 10). PSI_SOAK_FEED_SIZE: items of the feed's
# common part (default 24000). PSI_KEEP_WORK=1 keeps the workspace of a
# failed run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
harness_init soak "${PSI_BIN:-$here/../../build}"
command -v sqlite3 >/dev/null || fail "the sqlite3 command is needed (scripts/setup.sh installs it)"
command -v python3 >/dev/null || fail "python3 is needed (scripts/setup.sh installs it)"

kills_wanted=${PSI_SOAK_KILLS:-24}
size=${PSI_SOAK_SIZE:-3000}
chunks=${PSI_SOAK_CHUNKS:-10}
[ "$chunks" -ge 2 ] || fail "PSI_SOAK_CHUNKS must be at least 2"
# The vendor's feed: version K holds the common part and feed_step*K items
# of its own, so every version has its own item count.
feed_size=${PSI_SOAK_FEED_SIZE:-24000}
feed_step=50
feeds_max=40 # versions published in part 1 at most; part 2 publishes one or two more
vendor=v1
queriers=(s1 s2)
# at most this many seconds between a party's submissions (the kills come
# every 2 s or so): the submissions spread over the first part of the kills
pace=$((3 * kills_wanted / (chunks - 1)))
parties=(s1 s2 s3 s4)
scenario_new "$size" "${parties[@]}"
seed=$SCENARIO_SEED
say "$chunks submissions each; vendor $vendor, feed versions of $feed_size + ${feed_step}K items; $kills_wanted hub kills"

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

# The feed's common part; version K adds vK-1 ... vK-(feed_step*K). The
# query set: 200 items of the common part, the first and last item of each
# version (members of that version only), the item just past each version's
# own (never a member), and 200 names that are in no version.
mkdir -p "$WORK/feed" "$WORK/answers"
awk -v n="$feed_size" 'BEGIN { for (i = 1; i <= n; i++) printf "fill-%d.feed.example\n", i }' \
    >"$WORK/feed/common.txt"
version_file() { # K: the items of version K's own, in $WORK/feed/version.K.txt
    [ -s "$WORK/feed/version.$1.txt" ] ||
        awk -v k="$1" -v n=$((feed_step * $1)) \
            'BEGIN { for (i = 1; i <= n; i++) printf "v%d-%d.feed.example\n", k, i }' \
            >"$WORK/feed/version.$1.txt"
}
version_count() { echo $((feed_size + feed_step * $1)); }
awk -v n="$feed_size" -v seed="$seed" 'BEGIN { srand(seed); while (k < 200) {
        i = int(rand() * n) + 1; if (!(i in seen)) { seen[i] = 1; k++; printf "fill-%d.feed.example\n", i } } }' \
    >"$WORK/feed/common-members.txt"
{
    cat "$WORK/feed/common-members.txt"
    for k in $(seq 1 $((feeds_max + 2))); do
        printf 'v%d-1.feed.example\nv%d-%d.feed.example\nv%d-%d.feed.example\n' \
            "$k" "$k" $((feed_step * k)) "$k" $((feed_step * k + 1))
    done
    for i in $(seq 1 200); do echo "absent-$i.query.example"; done
} >"$WORK/feed/query.txt"
queries=$(wc -l <"$WORK/feed/query.txt") # one batch: far below the hub's batch size
# members K: the values of the query set in version K, sorted.
members() {
    { cat "$WORK/feed/common-members.txt"; printf 'v%d-1.feed.example\nv%d-%d.feed.example\n' \
        "$1" "$1" $((feed_step * $1)); } | LC_ALL=C sort
}
# s1 may query all along; s2 runs out after 6 batches.
declare -A quota=([s1]=1000000 [s2]=$((6 * queries)))

# A manual epoch: a run that crosses midnight UTC must not change epochs.
# Messages of 64 KiB: the feed's filter goes up in several chunks.
hub_init "$WORK/hub" soak-hub --epoch manual:soak --max-message-bytes 65536
for p in "${parties[@]}"; do party_new "$p" agency --share-with all; done
# The vendor shares with nobody but itself: it takes no part in the agencies'
# mutual matching (whose counts part 2 checks), only in the feed.
party_new "$vendor" vendor --share-with "$vendor"
for a in "${queriers[@]}"; do
    must "$PSI_HUB" quota --dir "$HUB_DIR" --agency "$a" --vendor "$vendor" --limit "${quota[$a]}" >/dev/null
done
audit=""
if grep -q 'audit verify' <<<"$("$PSI" audit --help 2>/dev/null)"; then
    audit=auditor-1
    party_new "$audit" auditor
fi
hub_start
db="$HUB_DIR/hub.db"

# The vendor's feed, its staged uploads, its FEED log entries and the queries,
# from the store (hub down, or beside it): prints "feed COUNT SIZE DIGEST16"
# (or "feed none"), "staged BYTES", "feeds N" (FEED log entries), then per
# agency "quota AGENCY USED LIMIT BATCHES ANSWERED"; exits 1 with "FAIL: why"
# if the feed is not whole, a quota is passed, or a query batch or answer
# lacks its log entry (or the other way round).
cat >"$WORK/feedcheck.py" <<'EOF'
import hashlib, sqlite3, sys
db, vendor, epoch = sys.argv[1:4]
quotas = [a.split(":") for a in sys.argv[4:]]
c = sqlite3.connect(db)
c.execute("BEGIN")
def fail(why):
    print("FAIL: " + why)
    sys.exit(1)
rows = c.execute("SELECT count, size, hex(digest), rate FROM feed WHERE vendor = ? AND epoch = ?",
                 (vendor, epoch)).fetchall()
if len(rows) > 1:
    fail("%d feed rows for %s/%s" % (len(rows), vendor, epoch))
blocks = c.execute("SELECT block, bytes FROM feed_block WHERE vendor = ? AND epoch = ? ORDER BY block",
                   (vendor, epoch)).fetchall()
if not rows:
    if blocks:
        fail("%d feed blocks but no feed" % len(blocks))
    print("feed none")
else:
    count, size, digest, rate = rows[0]
    if [b for b, _ in blocks] != list(range(len(blocks))):
        fail("feed blocks %s are not 0..n-1" % [b for b, _ in blocks])
    data = b"".join(bytes(x) for _, x in blocks)
    if len(data) != size:
        fail("the feed's blocks hold %d bytes, its row says %d" % (len(data), size))
    if hashlib.sha256(data[:-32]).digest() != data[-32:] or data[-32:].hex().upper() != digest:
        fail("the stored filter does not match its digest")
    e = data[12]; v = data[13 + e]
    if data[:8] != b"PSI-FEED" or data[13:13 + e].decode() != epoch or data[14 + e:14 + e + v].decode() != vendor:
        fail("the stored filter is not %s's of epoch %s" % (vendor, epoch))
    if int.from_bytes(data[54 + e + v:62 + e + v], "big") != count:
        fail("the stored filter's item count differs from its row (%d)" % count)
    print("feed %d %d %s" % (count, size, digest[:16].lower()))
print("staged %d" % c.execute("SELECT coalesce(sum(received), 0) FROM upload WHERE sender = ?",
                              (vendor,)).fetchone()[0])
kinds = {}
for (k, n) in c.execute("SELECT substr(entry, 2, 1), count(*) FROM log_entry GROUP BY 1"):
    kinds[bytes(k)[0]] = n
print("feeds %d" % kinds.get(9, 0))
for agency, limit in quotas:
    used, batches, answered = c.execute(
        "SELECT coalesce(sum(count), 0), count(*), count(answered_ms) FROM query"
        " WHERE agency = ? AND vendor = ? AND epoch = ?", (agency, vendor, epoch)).fetchone()
    if used > int(limit):
        fail("%s has %d queries stored at %s, over its quota of %s" % (agency, used, vendor, limit))
    print("quota %s %d %s %d %d" % (agency, used, limit, batches, answered))
batches, answered = c.execute("SELECT count(*), count(answered_ms) FROM query").fetchone()
if batches != kinds.get(10, 0) or answered != kinds.get(12, 0):
    fail("%d query batches and %d answers stored, %d QUERY and %d ANSWER log entries"
         % (batches, answered, kinds.get(10, 0), kinds.get(12, 0)))
c.execute("COMMIT")
EOF
quota_args=()
for a in "${queriers[@]}"; do quota_args+=("$a:${quota[$a]}"); done
feedcheck() { # [WHEN]: sets fc, an array of the lines above; or fails with the reason
    local out
    out=$(python3 "$WORK/feedcheck.py" "$db" "$vendor" soak "${quota_args[@]}" 2>&1) ||
        fail "${1:-}the store's feed rows: $(printf '%s\n' "$out" | tail -n 1)"
    mapfile -t fc <<<"$out"
}
# used_of AGENCY: the queries the store counts for AGENCY at the vendor.
used_of() {
    local line
    feedcheck
    for line in "${fc[@]}"; do
        case $line in "quota $1 "*) read -r _ _ line _ <<<"$line" && echo "$line" ;; esac
    done
}

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
        grep -vE 'submissions? cross-blinded \(|feed query batch(es)? answered \(' "$log.run" | tail -n 1 >>"$log.failed"
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

# The vendor: feed versions 1, 2, ... each published (re-run until it
# succeeds), then a pause; feed.acked lists "K DIGEST16" of each version
# whose psi feed publish exited 0, feed.inflight the version being published.
publish_loop() {
    local k=0 n reruns=0 log state out count digest
    log="$WORK/logs/loop.$vendor-publish.log"
    state=$(party_dir "$vendor")
    : >"$WORK/run/feed.acked"
    : >"$WORK/run/feed.inflight"
    while [ ! -e "$WORK/run/stop" ] && [ "$k" -lt "$feeds_max" ]; do
        k=$((k + 1))
        version_file "$k"
        echo "$k" >"$WORK/run/feed.inflight"
        n=$(retry "$log" "$PSI" feed publish --state "$state" \
            "$WORK/feed/common.txt" "$WORK/feed/version.$k.txt") || return 1
        reruns=$((reruns + n))
        out=$(grep 'indicators published' "$log.run" | tail -n 1)
        count=$(sed -n 's/.*: \([0-9]*\) indicators published.*/\1/p' <<<"$out")
        digest=$(sed -n 's/.* digest \([0-9a-f]*\)\.\.\..*/\1/p' <<<"$out")
        if [ "$count" != "$(version_count "$k")" ] || [ -z "$digest" ]; then
            echo "version $k: unexpected publish output: $out" >>"$log"
            return 1
        fi
        echo "$k $digest" >>"$WORK/run/feed.acked"
        : >"$WORK/run/feed.inflight"
        [ -e "$WORK/run/stop" ] || sleep "$(printf '%d.%03d' $((RANDOM % 3)) $((RANDOM % 1000)))"
    done
    while [ ! -e "$WORK/run/stop" ]; do sleep 0.2; done
    echo "$k $reruns" >"$WORK/run/published"
}

# The vendor's agent, answering the agencies' query batches.
vendor_agent_loop() {
    local n reruns=0 log="$WORK/logs/loop.$vendor-agent.log"
    while [ ! -e "$WORK/run/stop" ]; do
        n=$(retry "$log" "$PSI" agent --state "$(party_dir "$vendor")" --once) || return 1
        reruns=$((reruns + n))
        sleep 0.2
    done
    echo "$reruns" >"$WORK/run/reruns.$vendor-agent"
}

# An agency queries the feed until told to stop, or until its quota is spent
# (the hub's refusal is kept in overquota.AGENCY). Each answer (stdout, and
# the summary on stderr that names the feed's item count) is kept in
# answers/AGENCY.N for part 3. A run that fails is run again: a fresh batch,
# counted against the quota again. An agency keeps the answers it got in
# the epoch and asks only for the rest (docs/feeds.md): forget_answers makes
# each run ask the whole set again, so that runs keep spending the quota; a
# batch in flight that a failed run left is kept, and resumed by the next.
forget_answers() {
    sqlite3 -cmd ".timeout 20000" "$(party_dir "$1")/state.db" "DELETE FROM feed_answers" >/dev/null ||
        fail "cannot clear the feed answers kept in $1's state"
}
query_loop() {
    local a=$1 ok=0 failed=0 log
    log="$WORK/logs/loop.$a-query.log"
    while [ ! -e "$WORK/run/stop" ]; do
        forget_answers "$a"
        if "$PSI" feed query --state "$(party_dir "$a")" --vendor "$vendor" --json --timeout 20 \
            "$WORK/feed/query.txt" >"$WORK/run/query.$a.out" 2>"$WORK/run/query.$a.err"; then
            ok=$((ok + 1))
            mv "$WORK/run/query.$a.out" "$WORK/answers/$a.$ok.jsonl"
            mv "$WORK/run/query.$a.err" "$WORK/answers/$a.$ok.err"
        else
            cat "$WORK/run/query.$a.err" >>"$log"
            if grep -q 'over quota' "$WORK/run/query.$a.err"; then
                cp "$WORK/run/query.$a.err" "$WORK/run/overquota.$a"
                break
            fi
            failed=$((failed + 1))
            tail -n 1 "$WORK/run/query.$a.err" >>"$log.failed"
            [ "$failed" -lt 500 ] || { echo "gave up after $failed failures" >>"$log"; return 1; }
        fi
        sleep "0.$((RANDOM % 5 + 1))"
    done
    while [ ! -e "$WORK/run/stop" ]; do sleep 0.2; done
    echo "$ok $failed" >"$WORK/run/queries.$a"
}

# With the hub down: the feed is whole, and it is the last acknowledged
# version or the one in flight (a newer one replaces it); quotas kept, every
# batch and answer logged (feedcheck).
check_feed() {
    local inflight acked last="" last_digest="" count size digest allowed
    inflight=$(cat "$WORK/run/feed.inflight" 2>/dev/null || true)
    mapfile -t acked <"$WORK/run/feed.acked"
    feedcheck "kill $kills: "
    read -r _ count size digest <<<"${fc[0]}"
    if [ ${#acked[@]} -gt 0 ]; then read -r last last_digest <<<"${acked[-1]}"; fi
    if [ "$count" = none ]; then
        [ -z "$last" ] || fail "kill $kills: feed version $last was acknowledged but the store holds no feed"
        return 0
    fi
    allowed=" ${last:+$(version_count "$last")} ${inflight:+$(version_count "$inflight")} "
    case "$allowed" in
    *" $count "*) ;;
    *) fail "kill $kills: the store holds a feed of $count items; the last acknowledged version is ${last:-none} ($(version_count "${last:-0}") items), in flight ${inflight:-none}" ;;
    esac
    if [ -n "$last" ] && [ "$count" = "$(version_count "$last")" ] && [ "$digest" != "$last_digest" ]; then
        fail "kill $kills: the store's feed of version $last has digest $digest..., publish reported $last_digest..."
    fi
}

export PSI_HUB_TIMEOUT=2 # commands give up soon while the hub is down, then re-run
loop_pids=()
for p in "${parties[@]}"; do
    party_loop "$p" &
    loop_pids+=($!)
    HARNESS_PIDS+=($!)
done
publish_loop &
loop_pids+=($!)
HARNESS_PIDS+=($!)
vendor_agent_loop &
loop_pids+=($!)
HARNESS_PIDS+=($!)
for a in "${queriers[@]}"; do
    query_loop "$a" &
    loop_pids+=($!)
    HARNESS_PIDS+=($!)
done

kills=0
busy_kills=0
publish_kills=0 # kills with a psi feed publish running
upload_kills=0  # ... of them, with its upload under way (chunks answered, no commit yet)
t0=$(date +%s)
while [ "$kills" -lt "$kills_wanted" ]; do
    # a random moment: right after a restart as well as seconds into the work
    sleep "$(printf '%d.%03d' $((RANDOM % 4)) $((RANDOM % 1000)))"
    for pid in "${loop_pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" || fail "a party's loop gave up: $(tail -n 3 "$WORK"/logs/loop.*.log)"; }
    done
    if [ $((kills % 4)) -eq 2 ] && [ "$(wc -l <"$WORK/run/feed.acked")" -lt "$feeds_max" ]; then
        # every fourth kill waits (up to 8 s) for the hub to answer one of the
        # vendor's upload chunks and lands at once (tail follows the log as
        # it grows), among the other chunks or in the commit; the commands
        # running are counted before the wait, so as not to delay the kill
        running=$(pgrep -fc "^$PSI " || true)
        publishing=$(pgrep -fc "^$PSI feed publish " || true)
        hublog=$(current_hub_log)
        lines=$(wc -l <"$hublog")
        timeout 8 grep -q -m 1 " $vendor upload\.chunk " \
            < <(tail -n +$((lines + 1)) -s 0.05 -f --pid="$HUB_PID" "$hublog") || true
    else
        if [ $((kills % 2)) -eq 1 ]; then
            # every other kill lands within 30 ms of the hub answering a
            # request, so that it falls among the requests of a command
            # (chunks, commits)
            hublog=$(current_hub_log)
            lines=$(wc -l <"$hublog")
            t1=$(date +%s)
            while [ "$(wc -l <"$hublog")" -le "$lines" ] && [ $(($(date +%s) - t1)) -lt 5 ]; do
                sleep 0.005
            done
            sleep "$(printf '0.%03d' $((RANDOM % 30)))"
        fi
        # client commands running at the moment of the kill (this build's psi only)
        running=$(pgrep -fc "^$PSI " || true)
        publishing=$(pgrep -fc "^$PSI feed publish " || true)
    fi
    hub_kill
    kills=$((kills + 1))
    [ "${running:-0}" -eq 0 ] || busy_kills=$((busy_kills + 1))
    if [ "${publishing:-0}" -gt 0 ]; then
        publish_kills=$((publish_kills + 1))
        # in the upload: this hub's last word to the vendor's upload or
        # commit was an upload chunk
        if grep -E " $vendor (upload\.chunk|feed\.commit) " "$(current_hub_log)" | tail -n 1 |
            grep -q 'upload\.chunk'; then
            upload_kills=$((upload_kills + 1))
        fi
    fi
    check_acknowledged
    check_feed
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
read -r feeds_published publish_reruns <"$WORK/run/published"
reruns=$((reruns + publish_reruns + $(cat "$WORK/run/reruns.$vendor-agent")))
query_ok=0
query_failed=0
for a in "${queriers[@]}"; do
    read -r ok failed <"$WORK/run/queries.$a"
    query_ok=$((query_ok + ok))
    query_failed=$((query_failed + failed))
done
say "survived $kills hub kills (SIGKILL) in $kill_seconds s, $busy_kills of them with client commands running, $publish_kills during a feed publish, $upload_kills of those in the middle of its upload; $acked_total submissions and $(wc -l <"$WORK/run/feed.acked") feed versions acknowledged, every one in the store at every kill; $reruns interrupted client commands and $query_failed feed queries re-run until they succeeded; $query_ok feed queries answered"
feedcheck "after the kills: "
read -r _ staged <<<"${fc[1]}"
say "vendor $vendor: $feeds_published feed versions published, $publish_reruns publish runs interrupted; the store holds ${fc[0]#feed } (items, bytes, digest), $staged bytes of uploads staged, ${fc[2]#feeds } FEED log entries"
[ "$staged" = 0 ] ||
    fail "the vendor's publishes all finished, yet $staged bytes of its uploads stay staged at the hub (abandoned by interrupted runs)"
if cat "$WORK"/logs/loop.*.log.failed >"$WORK/run/failed" 2>/dev/null; [ -s "$WORK/run/failed" ]; then
    say "how the interrupted commands failed (last line of each failed run, counted):"
    sed -E 's/[0-9]+/N/g' "$WORK/run/failed" | LC_ALL=C sort | uniq -c | LC_ALL=C sort -rn |
        head -n 12 | sed 's/^/    /'
fi
if grep -h 'refused submission' "$WORK"/logs/loop.*.log >"$WORK/run/refusals" 2>/dev/null; then
    say "sets an agent refused during the kills (the hub's answer was not what the agent checks for):"
    LC_ALL=C sort "$WORK/run/refusals" | uniq -c | head -n 12 | sed 's/^/    /'
fi

# ------------------------------ 2. SIGKILL psi submit, psi agent, psi feed publish
# kill_midway LOG WHEN CMD...: runs CMD in the background and kills it
# (SIGKILL) when WHEN says: a number is a random moment within that many
# milliseconds (submit and agent take 50-300 ms here, a feed publish a few
# seconds); "log:TEXT" is as soon as
# the hub's request log shows TEXT (the hub has answered that request, the
# client may not have recorded it yet). Counts it if it was still running.
client_kills=0
kill_midway() {
    local log=$1 when=$2 victim rc=0 hublog lines
    shift 2
    hublog=$(current_hub_log)
    lines=$(wc -l <"$hublog")
    "$@" >>"$log" 2>&1 &
    victim=$!
    HARNESS_PIDS+=("$victim")
    case $when in
    log:*)
        # tail follows the log as it grows (inotify), and ends with the
        # victim: the kill comes a millisecond or so after the line
        timeout 60 grep -q -m 1 -F -- "${when#log:}" \
            < <(tail -n +$((lines + 1)) -s 0.05 -f --pid="$victim" "$hublog") || true
        killed_at="killed when the hub logged '${when#log:}'"
        ;;
    *)
        when=$((RANDOM % when + 1))
        sleep "$(printf '%d.%03d' $((when / 1000)) $((when % 1000)))"
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

# The vendor's next version, with psi feed publish killed twice at random
# (mostly while it evaluates; if a run finishes first, the next version takes
# over), then once the hub has answered its first upload chunk (the rest not
# sent), then once the hub has answered its commit (that run continues the
# upload the killed one left); then run again to the end: the store holds
# that version, once and whole, nothing of the interrupted uploads stays
# staged, and the log has one FEED entry for it.
final=$((feeds_published + 1))
for when in 2000 2000 "log: $vendor upload.chunk ok" "log: $vendor feed.commit ok"; do
    case $when in
    log:*" upload.chunk "*)
        feedcheck
        read -r _ count _ <<<"${fc[0]}"
        if [ "$count" = "$(version_count "$final")" ]; then
            final=$((final + 1)) # a random kill came too late: the hub has this version
        fi
        feed_entries_before=${fc[2]#feeds }
        ;;
    esac
    version_file "$final"
    feed_files=("$WORK/feed/common.txt" "$WORK/feed/version.$final.txt")
    kill_midway "$WORK/logs/killed.$vendor.log" "$when" "$PSI" feed publish --state "$(party_dir "$vendor")" "${feed_files[@]}"
    feedcheck "after a killed psi feed publish: "
    say "$vendor: psi feed publish (version $final) $killed_at: hub has ${fc[1]#staged } bytes staged, feed of ${fc[0]#feed } (items, bytes, digest), ${fc[2]#feeds } FEED log entries"
done
out=$(must "$PSI" feed publish --state "$(party_dir "$vendor")" "${feed_files[@]}")
feedcheck "after the re-run of psi feed publish: "
read -r _ count size digest <<<"${fc[0]}"
read -r _ staged <<<"${fc[1]}"
feed_entries=$((${fc[2]#feeds } - feed_entries_before))
[ "$count" = "$(version_count "$final")" ] ||
    fail "after the re-run the store's feed has $count items, version $final has $(version_count "$final")"
grep -q "digest $digest\.\.\." <<<"$out" ||
    fail "the store's feed (digest $digest...) is not the one the re-run reports: $out"
[ "$staged" = 0 ] ||
    fail "the killed runs of psi feed publish left $staged bytes of uploads staged at the hub"
[ "$feed_entries" = 1 ] ||
    fail "version $final was published $feed_entries times (FEED log entries), not once"
say "$vendor: re-run finished: one feed, version $final ($count items, $size bytes, digest $digest...), whole; nothing staged; one FEED log entry for it"

# ------------------------------------------------ 3. the answer
results_match_scenario "results after the soak" "${parties[@]}"

# Every feed query answered during the kills found exactly the members of the
# query set in the version it was answered from (its summary names the
# feed's item count; at 1e-9 a false positive among ~300 non-members has odds
# of 3e-7).
declare -A by_version=()
answers=0
for err in "$WORK"/answers/*.err; do
    [ -e "$err" ] || continue
    name=$(basename "$err" .err)
    items=$(sed -n "s/.*'s feed of epoch soak (\([0-9]*\) items).*/\1/p" "$err")
    k=$(((${items:-0} - feed_size) / feed_step))
    { [ -n "$items" ] && [ "$k" -ge 1 ] && [ "$k" -le "$final" ] && [ "$items" = "$(version_count "$k")" ]; } ||
        fail "feed query answer $name: no feed version has ${items:-no} items: $(tail -n 1 "$err")"
    members "$k" >"$WORK/want.txt"
    if grep -qv "\"vendor\":\"$vendor\"" "${err%.err}.jsonl"; then
        fail "feed query answer $name names another vendor: $(grep -v "\"vendor\":\"$vendor\"" "${err%.err}.jsonl" | head -n 1)"
    fi
    sed -n 's/.*"value":"\([^"]*\)".*/\1/p' "${err%.err}.jsonl" | LC_ALL=C sort >"$WORK/got.txt"
    compare_or_fail "the items feed query $name found in version $k" "$WORK/want.txt" "$WORK/got.txt"
    by_version[$k]=$((${by_version[$k]:-0} + 1))
    answers=$((answers + 1))
done
summary=""
for k in $(printf '%s\n' "${!by_version[@]}" | sort -n); do summary+=" v$k:${by_version[$k]}"; done
say "$answers feed query answers from the kills, each exactly the members of its version (answers by version:${summary:- none})"

# One more query of s1 finds the members of the last version (from the answers
# it kept: no new queries counted); s2 spends what
# is left of its quota, and then the hub refuses it, counting exactly the
# batches the store holds (and so it did during the kills, if s2 ran out).
"$PSI" agent --state "$(party_dir "$vendor")" --interval 1 >"$WORK/logs/agent-final.log" 2>&1 &
agent_pid=$!
HARNESS_PIDS+=("$agent_pid")
# s1 asks once (the last run of its loop may have failed with the hub down),
# then again: the second is answered from the answers it kept, checked
# against the last version's filter, and costs nothing.
must_to "$WORK/final.0.jsonl" "$PSI" feed query --state "$(party_dir s1)" --vendor "$vendor" \
    --json --timeout 60 "$WORK/feed/query.txt"
s1_before=$(used_of s1)
must_to "$WORK/final.jsonl" "$PSI" feed query --state "$(party_dir s1)" --vendor "$vendor" --json \
    --timeout 60 "$WORK/feed/query.txt"
members "$final" >"$WORK/want.txt"
sed -n 's/.*"value":"\([^"]*\)".*/\1/p' "$WORK/final.jsonl" | LC_ALL=C sort >"$WORK/got.txt"
compare_or_fail "the items s1's last feed query found in version $final" "$WORK/want.txt" "$WORK/got.txt"
limit=${quota[s2]}
# A batch s2 left in flight during the kills (charged) would be resumed by the
# next run instead of a new batch being charged: dropped, as after a second
# timeout, so that each run below charges (or is refused) a whole set.
sqlite3 -cmd ".timeout 20000" "$(party_dir s2)/state.db" \
    "DELETE FROM feed_pending_items; DELETE FROM feed_pending" >/dev/null ||
    fail "cannot drop s2's feed batch in flight"
used=$(used_of s2)
if [ -e "$WORK/run/overquota.s2" ]; then
    grep -q "over quota: s2 has sent $limit of its $limit queries to $vendor in epoch soak; a batch of $queries would pass it" \
        "$WORK/run/overquota.s2" || fail "s2's refusal during the kills: $(tail -n 1 "$WORK/run/overquota.s2")"
    [ "$used" = "$limit" ] || fail "s2 was refused at its quota of $limit during the kills, but the store counts $used"
fi
while [ $((used + queries)) -le "$limit" ]; do
    forget_answers s2
    must_to "$WORK/logs/s2-spend.jsonl" "$PSI" feed query --state "$(party_dir s2)" --vendor "$vendor" \
        --json --timeout 60 "$WORK/feed/query.txt"
    used=$((used + queries))
done
rc=0
forget_answers s2
"$PSI" feed query --state "$(party_dir s2)" --vendor "$vendor" --json --timeout 60 "$WORK/feed/query.txt" \
    >"$WORK/logs/s2-over.out" 2>"$WORK/logs/s2-over.err" || rc=$?
{ [ "$rc" = 1 ] && grep -q "over quota: s2 has sent $used of its $limit queries to $vendor in epoch soak; a batch of $queries would pass it" \
    "$WORK/logs/s2-over.err"; } || fail "s2 past its quota: exit $rc: $(tail -n 1 "$WORK/logs/s2-over.err")"
[ "$(used_of s2)" = "$limit" ] || fail "s2's quota is $limit, the store counts $(used_of s2) queries"
kill -TERM "$agent_pid"
wait "$agent_pid" 2>/dev/null || true
read -r s1_answers _ <"$WORK/run/queries.s1"
s1_used=$(used_of s1)
[ "$s1_used" -ge $((s1_answers * queries)) ] ||
    fail "s1 got $s1_answers answers of $queries queries each, but the store counts $s1_used queries"
[ "$s1_used" = "$s1_before" ] ||
    fail "s1's last query of a set it was answered already counted $((s1_used - s1_before)) queries"
feedcheck "at the end: "
for line in "${fc[@]}"; do
    case $line in
    "quota "*)
        read -r _ a u l b n <<<"$line"
        say "quota of $a at $vendor: $u of $l queries used ($b batches, $n answered); a QUERY log entry for each batch, an ANSWER entry for each answer"
        ;;
    esac
done

if [ -n "$audit" ]; then
    out=$(must "$PSI" audit verify --state "$(party_dir "$audit")")
    say "psi audit verify: passed ($(printf '%s\n' "$out" | grep -m1 -i 'entries' || true))"
else
    say "psi audit verify is not in the client: the audit check is skipped"
fi
hub_stop
# A sanitizer build's report in any command or hub log: the loops re-run a
# command that failed, so look for them here.
if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/logs/* >"$WORK/sanitized" 2>/dev/null; then
    fail "sanitizer reports in $(tr '\n' ' ' <"$WORK/sanitized"): $(grep -h -m 1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK"/logs/* | head -n 3)"
fi
say "OK — $kills hub kills ($publish_kills during feed publishes, $upload_kills in the middle of a feed upload) and $client_kills client kills survived; $(wc -l <"$WORK/actual.tsv") overlaps as planted; $((answers + 1)) feed query answers right"
