#!/usr/bin/env bash
# The status page in a real browser: Debian's headless Chromium renders
# psi-hub's page after a 5-party run, and the rendered DOM lists every
# participant and holds one overlap-map cell per ordered pair with the count
# /status.json gives and each party's own `psi results` confirm. The
# screenshot is kept in the build tree (its path is printed) for a person to
# look at. Skipped (77) only when chromium is not installed.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
build=${PSI_BIN:-$here/../../build}
harness_init status_browser "$build"
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || skip "chromium is not installed (scripts/setup.sh installs it)"
export PSI_HUB_TIMEOUT=30
artefacts="$(cd "$build" && pwd)/test-artefacts"
mkdir -p "$artefacts"
shot="$artefacts/status-page.png"
rm -f "$shot"

parties=(fr-ccn sg-csa br-pf ke-dci nl-ncsc)
scenario_new 40 "${parties[@]}"
hub_init "$WORK/hub" browser-hub
for id in "${parties[@]}"; do party_new "$id" agency --share-with all; done
party_new auditor-1 auditor
HTTP_PORT=$(free_port)
HUB_SERVE_ARGS=(--http "127.0.0.1:$HTTP_PORT")
hub_start
BASE="http://127.0.0.1:$HTTP_PORT"
for id in "${parties[@]}"; do
    must "$PSI" submit --state "$(party_dir "$id")" "$WORK/sc/$id.txt" >/dev/null
done
for round in 1 2; do
    for id in "${parties[@]}"; do must "$PSI" agent --state "$(party_dir "$id")" --once >/dev/null; done
done
results_match_scenario "the parties' results" "${parties[@]}"

[ "$(python3 "$here/lib/http_probe.py" get "$BASE/status.json" "$WORK/status.json")" = 200 ] ||
    fail "/status.json"
read -r page_ms page_bytes < <(python3 "$here/lib/http_probe.py" time "$BASE/" 5)
read -r metrics_ms metrics_bytes < <(python3 "$here/lib/http_probe.py" time "$BASE/metrics" 5)
say "the hub renders / ($page_bytes bytes) in $page_ms ms and /metrics ($metrics_bytes bytes) in $metrics_ms ms (median of 5; figures, not checks)"
chromium_run() {
    timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$WORK/chromium" --window-size=1400,1000 "$@"
}
start=$(date +%s%N)
chromium_run --dump-dom "$BASE/" >"$WORK/dom.html" 2>"$WORK/logs/chromium.err" ||
    fail "chromium --dump-dom failed: $(tail -n 5 "$WORK/logs/chromium.err")"
took_ms=$((($(date +%s%N) - start) / 1000000))
[ -s "$WORK/dom.html" ] || fail "chromium rendered nothing: $(tail -n 5 "$WORK/logs/chromium.err")"
summary=$(must python3 "$here/lib/status_dom_check.py" "$WORK/dom.html" "$WORK/status.json" \
    "$WORK/actual.tsv")
say "rendered by $("$CHROMIUM" --version 2>/dev/null | head -n 1) in $took_ms ms (browser start included): $summary"

chromium_run --screenshot="$shot" "$BASE/" >/dev/null 2>"$WORK/logs/chromium.err" ||
    fail "chromium --screenshot failed: $(tail -n 5 "$WORK/logs/chromium.err")"
[ -s "$shot" ] && [ "$(head -c 4 "$shot" | od -An -c | tr -d ' ')" = "211PNG" ] ||
    fail "no PNG screenshot at $shot"
hub_stop
say "screenshot of the status page: $shot ($(wc -c <"$shot") bytes)"
say "ok"
