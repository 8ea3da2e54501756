#!/usr/bin/env bash
# psi-hub serve --http after a real 3-party run: /status.json and /metrics
# hold the exact counts, /metrics parses with Prometheus's own parser
# (python3-prometheus-client), bad HTTP requests get 404/405 (and never stop
# the hub), and --http refuses an address that is not loopback without
# --http-allow; a damaged store gives 500 and a line in the log, never a
# dead hub.
#
# Agencies a, b, c share with all, auditor z watches, vendor v (which
# submits nothing and whose agent never runs) has a query quota for a, and c
# an element quota of 50. a holds 4 indicators, b 3, c 3; a and b share 2,
# a and c 2, b and c 1. After the agents of a, b and c ran once: 10
# elements, 20 tags (each set cross-blinded by its two agency peers), 10
# match records, every set still pending at v, and the overlap map
# (a,b)=(b,a)=2, (a,c)=(c,a)=2, (b,c)=(c,b)=1, the pairs with v 0, as each
# party's own `psi results` says.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
harness_init status_http "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=20
# Debian's python3 has python3-prometheus-client; another python3 first on
# PATH (a pyenv) may not
PYTHON=python3
"$PYTHON" -c 'import prometheus_client' 2>/dev/null || PYTHON=/usr/bin/python3
"$PYTHON" -c 'import prometheus_client' 2>/dev/null ||
    fail "python3-prometheus-client is missing (scripts/setup.sh installs it)"
probe() { python3 "$here/lib/http_probe.py" "$@"; }
command -v sqlite3 >/dev/null || fail "sqlite3 is missing (scripts/setup.sh installs it)"

hub_init "$WORK/hub" status-hub --epoch manual:S1
party_new a agency --share-with all
party_new b agency --share-with all
party_new c agency --share-with all
party_new z auditor
party_new v vendor --share-with all --contribute-only
must "$PSI_HUB" quota --dir "$HUB_DIR" --agency a --vendor v --limit 5 >/dev/null
must "$PSI_HUB" quota --dir "$HUB_DIR" --id c --elements 50 >/dev/null

# ---- --http is loopback unless allowed
rc=0
"$PSI_HUB" serve --dir "$HUB_DIR" --listen "$HUB_URL" --http 0.0.0.0:0 \
    >"$WORK/logs/open.out" 2>"$WORK/logs/open.err" || rc=$?
[ "$rc" -eq 2 ] || fail "serve --http 0.0.0.0:0 without --http-allow exited $rc, not 2"
[ "$(wc -l <"$WORK/logs/open.err")" -eq 1 ] &&
    grep -q "^psi-hub serve: --http 0.0.0.0:0 is not a loopback address: .*--http-allow" \
        "$WORK/logs/open.err" || fail "the refusal of 0.0.0.0 is not one line: $(cat "$WORK/logs/open.err")"
for bad in 10.1.2.3:80 '[::]:0' example.org:80; do
    rc=0
    "$PSI_HUB" serve --dir "$HUB_DIR" --listen "$HUB_URL" --http "$bad" \
        >/dev/null 2>"$WORK/logs/open.err" || rc=$?
    [ "$rc" -eq 2 ] && grep -q "not a loopback address" "$WORK/logs/open.err" ||
        fail "serve --http $bad was not refused ($rc): $(cat "$WORK/logs/open.err")"
done
rc=0
"$PSI_HUB" serve --dir "$HUB_DIR" --listen "$HUB_URL" --http 127.0.0.1 \
    >/dev/null 2>"$WORK/logs/open.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "must be HOST:PORT" "$WORK/logs/open.err" ||
    fail "serve --http without a port was not refused ($rc): $(cat "$WORK/logs/open.err")"
for args in "--http-allow" "--log-level loud" "--log-format xml"; do
    rc=0
    # shellcheck disable=SC2086  # the words of args are options
    "$PSI_HUB" serve --dir "$HUB_DIR" --listen "$HUB_URL" $args >/dev/null 2>"$WORK/logs/open.err" || rc=$?
    [ "$rc" -eq 2 ] && [ "$(wc -l <"$WORK/logs/open.err")" -eq 1 ] ||
        fail "serve $args was not refused in one line ($rc): $(cat "$WORK/logs/open.err")"
done
grep -q "^psi-hub serve: --log-format must be text or json, not 'xml'" "$WORK/logs/open.err" ||
    fail "the refusal of --log-format xml: $(cat "$WORK/logs/open.err")"
say "--http refuses 0.0.0.0, 10.1.2.3, [::], a host name and a missing port without --http-allow"

# allowed, it serves there
HTTP_PORT=$(free_port)
HUB_SERVE_ARGS=(--http "0.0.0.0:$HTTP_PORT" --http-allow)
hub_start
[ "$(probe get "http://127.0.0.1:$HTTP_PORT/status.json" "$WORK/s0.json")" = 200 ] ||
    fail "/status.json of a hub on 0.0.0.0 with --http-allow"
hub_stop

HTTP_PORT=$(free_port)
HUB_SERVE_ARGS=(--http "127.0.0.1:$HTTP_PORT")
hub_start
BASE="http://127.0.0.1:$HTTP_PORT"
grep -q "^psi-hub: status page on $BASE/\$" "$WORK"/logs/hub.log.* ||
    fail "serve did not announce its status page: $(cat "$WORK"/logs/hub.log.*)"

# ---- the run
mkdir -p "$WORK/data"
printf 'domain\tab.test\ndomain\tabc.test\ndomain\tac.test\ndomain\tonly-a.test\n' >"$WORK/data/a.txt"
printf 'domain\tab.test\ndomain\tabc.test\ndomain\tonly-b.test\n' >"$WORK/data/b.txt"
printf 'domain\tabc.test\ndomain\tac.test\ndomain\tonly-c.test\n' >"$WORK/data/c.txt"
for p in a b c; do must "$PSI" submit --state "$(party_dir $p)" "$WORK/data/$p.txt" >/dev/null; done

# before the agents: every set pending at both peers
[ "$(probe get "$BASE/status.json" "$WORK/before.json")" = 200 ] || fail "/status.json before"
python3 - "$WORK/before.json" <<'PY' || fail "/status.json before the agents ran"
import json, sys
s = json.load(open(sys.argv[1]))
by = {p["id"]: p for p in s["participants"]}
assert s["epoch"] == "S1", s["epoch"]
assert [p["sets"][0]["pending"] for p in (by["a"], by["b"], by["c"])] == \
    [["b", "c", "v"], ["a", "c", "v"], ["a", "b", "v"]], s
assert all(p["sets"][0]["done"] == [] for p in (by["a"], by["b"], by["c"])), s
assert all(x["matches"] == 0 for x in s["overlap"]["pairs"]), s["overlap"]
PY

for p in a b c; do must "$PSI" agent --state "$(party_dir $p)" --once >/dev/null; done

# ---- /status.json: the exact counts
[ "$(probe get "$BASE/status.json" "$WORK/status.json")" = 200 ] || fail "/status.json"
python3 - "$WORK/status.json" "$HUB_KEY" <<'PY' || fail "/status.json after the run: $(head -c 3000 "$WORK/status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["hub"]["name"] == "status-hub" and s["hub"]["verifier_key"] == sys.argv[2], s["hub"]
assert s["epoch"] == "S1"
by = {p["id"]: p for p in s["participants"]}
assert sorted(by) == ["a", "b", "c", "v", "z"], sorted(by)
assert s["query_quotas"] == [{"agency": "a", "vendor": "v", "limit": 5, "used": 0}], s["query_quotas"]
assert by["v"]["policy"]["operator"]["contribute_only"] is True, by["v"]
assert by["z"]["role"] == "auditor" and by["a"]["role"] == "agency"
assert by["a"]["policy"]["operator"]["share_all"] is True
assert by["a"]["policy"]["effective"]["share_all"] is True
for pid, n in (("a", 4), ("b", 3), ("c", 3)):
    p = by[pid]
    assert p["submissions"] == 1 and p["elements"] == n, p
    quota = {"limit": 50, "used": n, "default": False} if pid == "c" else \
        {"limit": 1000000, "used": n, "default": True}
    assert p["element_quota"] == quota, p
    assert len(p["sets"]) == 1 and p["sets"][0]["count"] == n, p
    assert p["sets"][0]["pending"] == ["v"], p  # v's agent never ran
    assert sorted(p["sets"][0]["done"]) == sorted({"a", "b", "c"} - {pid}), p
assert s["store"]["elements"] == 10 and s["store"]["tags"] == 20, s["store"]
assert s["store"]["matches"] == 10 and s["store"]["bytes"] > 0, s["store"]
assert s["overlap"]["participants"] == ["a", "b", "c", "v"], s["overlap"]
pairs = {(x["a"], x["b"]): x["matches"] for x in s["overlap"]["pairs"]}
want = {(x, y): 0 for x in "abcv" for y in "abcv" if x != y}
want.update({("a", "b"): 2, ("b", "a"): 2, ("a", "c"): 2, ("c", "a"): 2,
             ("b", "c"): 1, ("c", "b"): 1})
assert pairs == want, pairs
assert "already knows these counts" in s["overlap"]["note"]
assert s["log"]["size"] > 0 and s["log"]["checkpoint"].startswith("status-hub\n%d\n" % s["log"]["size"]), s["log"]
assert s["refusals_last_hour"] == 0, s["refusals_last_hour"]
PY
# the map agrees with each party's own results: for each of p's matched
# indicators, one count per peer that holds it
for p in a b c; do
    must_to "$WORK/r.$p.json" "$PSI" results --state "$(party_dir $p)" --json
done
python3 - "$WORK/status.json" "$WORK"/r.a.json "$WORK"/r.b.json "$WORK"/r.c.json <<'PY' ||
import json, sys
s = json.load(open(sys.argv[1]))
pairs = {(x["a"], x["b"]): x["matches"] for x in s["overlap"]["pairs"]}
seen = {}
for path, me in zip(sys.argv[2:], "abc"):
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        for peer in json.loads(line).get("peers", []):
            seen[(me, peer)] = seen.get((me, peer), 0) + 1
assert seen == {k: v for k, v in pairs.items() if v}, (seen, pairs)
PY
    fail "the overlap map differs from the parties' own results"
say "/status.json: 10 elements, 20 tags, the map (a,b)=2 (a,c)=2 (b,c)=1 both ways, as psi results say"

# ---- the page: every participant, one cell per ordered pair, escaped
[ "$(probe get "$BASE/" "$WORK/page.html")" = 200 ] || fail "the status page"
for id in a b c v z; do
    grep -q "<tr class=\"participant\" data-id=\"$id\">" "$WORK/page.html" ||
        fail "participant $id is not on the page"
done
[ "$(grep -o 'class="cell"' "$WORK/page.html" | wc -l)" -eq 12 ] || fail "the map has not 12 cells"
grep -q '<td>a</td><td>v</td><td class="num">0 of 5</td>' "$WORK/page.html" ||
    fail "the query quota of a for v is not on the page"
grep -q '<td class="num">3 of 50</td>' "$WORK/page.html" || fail "c's element quota is not on the page"
grep -q 'data-a="b" data-b="c" data-count="1"' "$WORK/page.html" || fail "cell (b,c) is not 1"
grep -qi '<script' "$WORK/page.html" && fail "the page has a script"
grep -Eqi '(src|href)="https?:' "$WORK/page.html" && fail "the page fetches something from elsewhere"

# ---- bad HTTP requests: 404, 405, and a huge URL never stops the hub
[ "$(probe raw 127.0.0.1 "$HTTP_PORT" GET /nothing-here)" = 404 ] || fail "an unknown path is not 404"
[ "$(probe raw 127.0.0.1 "$HTTP_PORT" POST /metrics)" = 405 ] || fail "POST /metrics is not 405"
[ "$(probe raw 127.0.0.1 "$HTTP_PORT" DELETE /)" = 405 ] || fail "DELETE / is not 405"
[ "$(probe raw 127.0.0.1 "$HTTP_PORT" HEAD /metrics)" = 200 ] || fail "HEAD /metrics is not 200"
[ "$(probe raw 127.0.0.1 "$HTTP_PORT" GET "/$(printf 'x%.0s' $(seq 4000))")" = 404 ] ||
    fail "a 4 KB unknown path is not 404"
big=$(probe raw 127.0.0.1 "$HTTP_PORT" GET "/$(head -c 100000 /dev/zero | tr '\0' x)")
case "$big" in 400 | 414 | 431 | closed) ;; *) fail "a 100 KB URL got $big" ;; esac
kill -0 "$HUB_PID" || fail "the hub died of a bad HTTP request"
say "bad HTTP requests: 404, 405, a 100 KB URL answered '$big'; the hub serves on"

# ---- refusals: a wrong key and an unknown participant, then /metrics
must "$PSI" init --state "$WORK/impostor" --id b --hub "$HUB_URL" --hub-key "$HUB_KEY" >/dev/null
must "$PSI" init --state "$WORK/stranger" --id stranger --hub "$HUB_URL" --hub-key "$HUB_KEY" >/dev/null
"$PSI" status --state "$WORK/impostor" >/dev/null 2>&1 && fail "the impostor was answered"
"$PSI" status --state "$WORK/stranger" >/dev/null 2>&1 && fail "the stranger was answered"
[ "$(probe get "$BASE/metrics" "$WORK/metrics.txt")" = 200 ] || fail "/metrics"
[ "$(probe get "$BASE/status.json" "$WORK/status2.json")" = 200 ] || fail "/status.json again"
python3 -c 'import json,sys; n = json.load(open(sys.argv[1]))["refusals_last_hour"]; sys.exit(n < 2)' \
    "$WORK/status2.json" || fail "refusals of the last hour are not counted"
must "$PYTHON" "$here/lib/metrics_check.py" "$WORK/metrics.txt" "$WORK/status2.json" \
    "$(ls "$WORK"/logs/hub.log.* | tail -n 1)" \
    'psi_hub_elements_stored=10' 'psi_hub_tags_stored=20' 'psi_hub_matches_stored=10' \
    'psi_hub_participants{role="agency"}=3' 'psi_hub_participants{role="auditor"}=1' \
    'psi_hub_participants{role="vendor"}=1' 'psi_hub_info{epoch="S1",name="status-hub"}=1'
grep -q 'psi_hub_refusals_total{method="info",result="VERIFY"}\|psi_hub_refusals_total{method="[a-z.]*",result="VERIFY"}' \
    "$WORK/metrics.txt" || fail "the wrong key's refusal is not counted"
grep -q 'result="DENIED"' "$WORK/metrics.txt" || fail "the stranger's refusal is not counted"
say "/metrics: $(wc -c <"$WORK/metrics.txt") bytes; parsed by prometheus_client, equal to the log and /status.json"

# ---- many at once: each answered 200, or 503 when more than 16 wait
python3 - "$HTTP_PORT" <<'PY' || fail "50 requests at once"
import sys, threading, urllib.request, urllib.error
port, codes = sys.argv[1], []
def get(path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
            r.read()
            codes.append(r.status)
    except urllib.error.HTTPError as e:
        codes.append(e.code)
threads = [threading.Thread(target=get, args=(p,)) for p in ["/", "/status.json", "/metrics"] * 17]
for t in threads: t.start()
for t in threads: t.join()
assert len(codes) == len(threads) and set(codes) <= {200, 503}, codes
print(f"{codes.count(200)} answered, {codes.count(503)} told to come back")
PY

# ---- another hub on the same HTTP port: one line, exit 1
must "$PSI_HUB" init --dir "$WORK/hub2" --name other-hub >/dev/null
rc=0
"$PSI_HUB" serve --dir "$WORK/hub2" --listen "tcp://127.0.0.1:$(free_port)" --http "127.0.0.1:$HTTP_PORT" \
    >/dev/null 2>"$WORK/logs/taken.err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l <"$WORK/logs/taken.err")" -eq 1 ] &&
    grep -q "^psi-hub serve: cannot serve http on 127.0.0.1:$HTTP_PORT: " "$WORK/logs/taken.err" ||
    fail "a taken HTTP port ($rc): $(cat "$WORK/logs/taken.err")"

# ---- the store fails under the page (this backend's file, damaged on
# purpose): 500 and one line in the log, and the hub serves on
sqlite3 "$HUB_DIR/hub.db" "ALTER TABLE overlap RENAME TO overlap_gone;"
[ "$(probe get "$BASE/status.json" "$WORK/broken.json")" = 500 ] || fail "a failing store is not 500"
[ "$(probe get "$BASE/metrics" "$WORK/broken.txt")" = 500 ] || fail "a failing store is not 500 for /metrics"
grep -q "error psi-hub: status page: .*overlap" "$(ls "$WORK"/logs/hub.log.* | tail -n 1)" ||
    fail "the store's failure is not in the log: $(tail -n 3 "$(ls "$WORK"/logs/hub.log.* | tail -n 1)")"
sqlite3 "$HUB_DIR/hub.db" "ALTER TABLE overlap_gone RENAME TO overlap;"
[ "$(probe get "$BASE/status.json" "$WORK/again.json")" = 200 ] || fail "the page did not come back"
must "$PSI" status --state "$(party_dir a)" >/dev/null
say "a failing store: 500 and its reason in the log; the page and the hub serve on"
hub_stop
say "ok"
