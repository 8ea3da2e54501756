#!/usr/bin/env bash
# The operator's request log of psi-hub serve: refusals name the participant
# the request claimed (a wrong key, an unknown id), a resumed upload's
# `submit.commit NOT_FOUND` is info and not an error, --log-level error hides
# the info lines, and --log-format json writes JSON lines that parse, with
# the fields promised, and never an element, a tag or a key.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
harness_init serve_log "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=20
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed (scripts/setup.sh installs it)"

hub_init "$WORK/hub" log-hub --epoch manual:L1
party_new a agency --share-with all
party_new b agency --share-with all
A=$(party_dir a)
must "$PSI" init --state "$WORK/impostor" --id b --hub "$HUB_URL" --hub-key "$HUB_KEY" >/dev/null
must "$PSI" init --state "$WORK/stranger" --id stranger --hub "$HUB_URL" --hub-key "$HUB_KEY" >/dev/null
must "$PSI" epoch --state "$WORK/impostor" --accept L1 >/dev/null
must "$PSI" epoch --state "$WORK/stranger" --accept L1 >/dev/null
latest_log() { ls -t "$WORK"/logs/hub.log.* | head -n 1; }

# ---- text, info (the defaults)
hub_start
log=$(latest_log)
mkdir -p "$WORK/data"
printf 'domain\tone.test\ndomain\ttwo.test\n' >"$WORK/data/a.txt"
must "$PSI" submit --state "$A" "$WORK/data/a.txt" >/dev/null
# As if psi submit had been killed after recording its submission and before
# its upload reached the hub: the next submit resumes it, asks the hub for
# the commit first, and is answered NOT_FOUND (nothing staged), then uploads.
sqlite3 "$A/state.db" "BEGIN;
    INSERT INTO submissions(upload_id, epoch, count, status, created_ms)
      VALUES (x'00112233445566778899aabbccddeeff', 'L1', 1, 0, 0);
    INSERT INTO pending_items(upload_id, ord, type, value)
      VALUES (x'00112233445566778899aabbccddeeff', 0, 'domain', 'resumed.test');
    COMMIT;"
out=$(must "$PSI" submit --state "$A" "$WORK/data/a.txt")
grep -q "finished an interrupted submission of 1 indicators" <<<"$out" ||
    fail "the interrupted submission was not resumed: $out"
"$PSI" status --state "$WORK/impostor" >/dev/null 2>&1 && fail "the impostor was answered"
"$PSI" status --state "$WORK/stranger" >/dev/null 2>&1 && fail "the stranger was answered"
hub_stop
grep -Eq '^[0-9T:.-]+Z info a submit\.commit NOT_FOUND [0-9]+ms in=[0-9]+ out=[0-9]+$' "$log" ||
    fail "the resume's submit.commit NOT_FOUND is not an info line: $(grep submit.commit "$log")"
grep -q ' error ' "$log" && fail "an error line in a run without errors: $(grep ' error ' "$log")"
grep -Eq '^[0-9T:.-]+Z warn b\(unverified\) [a-z.]+ VERIFY ' "$log" ||
    fail "the wrong key's refusal does not name b as claimed: $(grep VERIFY "$log" || cat "$log")"
grep -Eq '^[0-9T:.-]+Z warn stranger\(unverified\) [a-z.]+ DENIED ' "$log" ||
    fail "the unknown participant's refusal does not name it: $(grep DENIED "$log" || cat "$log")"
grep -Eq '^[0-9T:.-]+Z info a upload\.chunk ok ' "$log" || fail "no info line of a's upload"
grep -Eq '^[0-9T:.-]+Z info psi-hub: shutting down$' "$log" || fail "no shutdown line"
say "text: resume NOT_FOUND at info; wrong key 'b(unverified) VERIFY'; unknown 'stranger(unverified) DENIED'"

# ---- --log-level error: no info (nor warn) lines
HUB_SERVE_ARGS=(--log-level error)
hub_start
log=$(latest_log)
must "$PSI" status --state "$A" >/dev/null
"$PSI" status --state "$WORK/stranger" >/dev/null 2>&1 && fail "the stranger was answered"
hub_stop
grep -Eq ' (info|warn|debug) ' "$log" && fail "--log-level error wrote: $(cat "$log")"
grep -q '^psi-hub: serving log-hub on ' "$log" || fail "the serving line went missing: $(cat "$log")"
say "--log-level error: $(wc -l <"$log") lines, none below error"

# ---- --log-format json: JSON lines with the fields, nothing secret
HTTP_PORT=$(free_port)
HUB_SERVE_ARGS=(--log-format json --log-level debug --http "127.0.0.1:$HTTP_PORT")
hub_start
log=$(latest_log)
[ "$(python3 "$here/lib/http_probe.py" get "http://127.0.0.1:$HTTP_PORT/metrics" "$WORK/m.txt")" = 200 ] ||
    fail "/metrics"
printf 'domain\tthree.test\n' >>"$WORK/data/a.txt"
must "$PSI" submit --state "$A" "$WORK/data/a.txt" >/dev/null
must "$PSI" agent --state "$(party_dir b)" --once >/dev/null
"$PSI" status --state "$WORK/impostor" >/dev/null 2>&1 && fail "the impostor was answered"
# another hub on the taken port: its failure is one JSON line too
must "$PSI_HUB" init --dir "$WORK/hub2" --name other-hub >/dev/null
rc=0
"$PSI_HUB" serve --dir "$WORK/hub2" --listen "$HUB_URL" --log-format json \
    >/dev/null 2>"$WORK/logs/taken.err" || rc=$?
[ "$rc" -eq 1 ] || fail "serve on a taken port exited $rc, not 1"
python3 -c 'import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["level"] == "error" and o["msg"].startswith("serve: cannot listen on "), o' \
    "$WORK/logs/taken.err" || fail "the failure is not one JSON line: $(cat "$WORK/logs/taken.err")"
hub_stop
python3 - "$log" <<'PY' || fail "the JSON log: $(head -c 2000 "$log")"
import json, sys
requests = events = 0
seen, said = set(), set()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("psi-hub: "):  # the announcements on stdout
        continue
    obj = json.loads(line)
    assert obj["level"] in ("error", "warn", "info", "debug"), obj
    assert obj["time"].endswith("Z"), obj
    if "msg" in obj:
        assert set(obj) == {"time", "level", "msg"}, obj
        events += 1
        said.add(obj["msg"].split(" ")[0])
        continue
    requests += 1
    assert set(obj) == {"time", "level", "participant", "verified", "method", "result",
                        "duration_ms", "bytes_in", "bytes_out"}, obj
    seen.add((obj["participant"], obj["verified"], obj["method"], obj["result"]))
    assert obj["bytes_in"] > 0 and obj["bytes_out"] > 0, obj
assert any(p == "a" and v is True and m == "submit.commit" and r == "ok"
           for p, v, m, r in seen), seen
assert any(p == "b" and v is True and r == "ok" for p, v, m, r in seen), seen
assert any(p == "b" and v is False and r == "VERIFY" for p, v, m, r in seen), seen
assert requests > 5 and events >= 2, (requests, events)
assert {"serving", "shutting", "http"} <= said, said
print(f"{requests} request lines, {events} event lines")
PY
# Elements and tags are 32 and 16 bytes, keys 32: as hex or base64 they would
# be runs of 22 characters or more of those alphabets.
grep -Eq '[0-9a-fA-F]{22,}|[A-Za-z0-9+/]{22,}' "$log" &&
    fail "the log holds something like a key or an element: $(grep -Eo '[0-9a-fA-F]{22,}|[A-Za-z0-9+/]{22,}' "$log" | head -n 3)"
say "json: every line parses with the promised fields; no element, tag or key"
say "ok"
