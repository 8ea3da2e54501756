#!/usr/bin/env bash
# bench_wake: time to complete results for a new submission, with every agent
# running on its defaults and idle.
#
#   tests/bench/bench_wake.sh [BUILD_DIR] [--parties P] [--idle S] [--no-wake]
#                             (defaults: ./build, P 5, S 30; never run by ctest)
#
# P agencies share with all. Parties 2..P submit and their agents (psi agent,
# default --interval, started once and left running) cross-blind everything
# until all statuses are complete. The agents then sit idle for S seconds
# (their polling backs off: 10, 20, 40 s ... up to 160 s), and party 1, whose
# agent also runs, submits 39 new indicators. Measured: from the end of psi
# submit to the first `psi status` of party 1 that says complete (polled every
# 0.1 s), i.e. every other agent cross-blinded the new set. --no-wake runs the
# agents with --no-wake (polling only, as before the hub's wake-up socket).
# The last line is machine-readable key=value pairs.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/tests/e2e/lib/harness.bash"
build="$here/build"
nparties=5
idle=30
wake_opt=()
while [ $# -gt 0 ]; do
    case $1 in
    --parties) nparties=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --no-wake) wake_opt=(--no-wake); shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "bench_wake: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
[[ $nparties =~ ^[0-9]+$ ]] && [ "$nparties" -ge 2 ] && [ "$nparties" -le 32 ] ||
    { echo "bench_wake: --parties wants 2 to 32" >&2; exit 2; }
[[ $idle =~ ^[0-9]+$ ]] || { echo "bench_wake: --idle wants seconds" >&2; exit 2; }
harness_init bench_wake "$build"

hub_init "$WORK/hub" wake-hub --epoch manual:B1
for i in $(seq "$nparties"); do party_new "p$i" agency --share-with all; done
hub_start
mkdir -p "$WORK/data"
for i in $(seq "$nparties"); do
    for k in $(seq 200); do printf 'domain\td%d-%d.test\n' "$((k % 50))" "$((i * 1000 + k))"; done \
        >"$WORK/data/p$i.txt"
done
for k in $(seq 39); do printf 'domain\tnew-%d.test\n' "$k"; done >"$WORK/data/new.txt"
AGENT_PIDS=()
stop_agents() {
    local pid
    for pid in "${AGENT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${AGENT_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    AGENT_PIDS=()
}
trap 'stop_agents' EXIT
for i in $(seq 2 "$nparties"); do must "$PSI" submit --state "$(party_dir "p$i")" "$WORK/data/p$i.txt" >/dev/null; done
for i in $(seq "$nparties"); do
    "$PSI" agent --state "$(party_dir "p$i")" "${wake_opt[@]}" >"$WORK/logs/agent.p$i.log" 2>&1 &
    AGENT_PIDS+=($!)
done
complete() { "$PSI" status --state "$(party_dir "$1")" 2>/dev/null | head -n 1 | grep -q ': complete:'; }
t0=$(date +%s)
for i in $(seq 2 "$nparties"); do
    until complete "p$i"; do
        [ $(($(date +%s) - t0)) -lt 600 ] || fail "warm-up: p$i not complete within 600 s"
        sleep 0.5
    done
done
say "warm-up complete in $(($(date +%s) - t0)) s; agents idle for $idle s"
sleep "$idle"
load=$(cut -d' ' -f1 /proc/loadavg)
must "$PSI" submit --state "$(party_dir p1)" "$WORK/data/new.txt" >/dev/null
start=$(date +%s%N)
until complete p1; do
    [ $((($(date +%s%N) - start) / 1000000000)) -lt 900 ] || fail "p1 not complete within 900 s"
    sleep 0.1
done
ms=$((($(date +%s%N) - start) / 1000000))
stop_agents
hub_stop
mode=wake
[ ${#wake_opt[@]} -eq 0 ] || mode=poll
say "$nparties parties, agents idle $idle s ($mode): submit to complete in $ms ms (load $load)"
echo "bench=wake mode=$mode parties=$nparties idle_s=$idle submit_to_complete_ms=$ms load=$load"
