#!/usr/bin/env bash
# bench_status: what the operator's status page costs the request path.
#
#   tests/bench/bench_status.sh [BUILD_DIR] [--clients C] [--seconds S] [--pause MS]
#                         (defaults: ./build, C 16, S 15, MS 0; never run by ctest)
#
# Runs bench_load (C participants submitting, cross-blinding and asking for
# results against a real psi-hub) twice: once on a plain hub, once on a hub
# serving --http while a scraper fetches /, /status.json and /metrics back
# to back for the whole run, pausing MS ms after each round of three (0: far
# more than any monitoring does; Prometheus scrapes every 15 s or so).
# Prints each run's totals, the scrapes made, the ratio of calls per second
# (scraped / plain) and the p99 latency of work.list and crossblind.commit
# in both. The last line is machine-readable key=value pairs. One run per
# figure: on a shared machine the spread between runs is part of what it
# shows.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/tests/e2e/lib/harness.bash"
build="$here/build"
clients=16
seconds=15
pause_ms=0
while [ $# -gt 0 ]; do
    case $1 in
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --pause) pause_ms=$2; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "bench_status: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
harness_init bench_status "$build"
bench="$(cd "$build" && pwd)/tests/bench_load"
[ -x "$bench" ] || fail "no $bench (build with benchmarks)"

# the hub bench_load starts, with --http on a port chosen here
port=$(free_port)
cat >"$WORK/hub-with-http" <<SH
#!/bin/sh
[ "\$1" = serve ] && exec "$PSI_HUB" "\$@" --http 127.0.0.1:$port
exec "$PSI_HUB" "\$@"
SH
chmod +x "$WORK/hub-with-http"

must_to "$WORK/plain.out" "$bench" --clients "$clients" --seconds "$seconds"
python3 - "$port" "$WORK/scrapes" "$pause_ms" <<'PY' &
import sys, time, urllib.request
port, out, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]) / 1000
scrapes, bytes_read, started = 0, 0, None
deadline = time.time() + 600
while time.time() < deadline:
    try:
        for path in ("/", "/status.json", "/metrics"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                bytes_read += len(r.read())
            scrapes += 1
            if started is None:
                started = time.time()
    except OSError:
        if started is not None:
            break  # the hub is gone: the run is over
        time.sleep(0.05)
        continue
    with open(out, "w") as f:
        f.write(f"{scrapes} {bytes_read} {time.time() - started:.1f}\n")
    time.sleep(pause)
PY
scraper=$!
HARNESS_PIDS+=("$scraper")
must_to "$WORK/scraped.out" "$bench" --clients "$clients" --seconds "$seconds" \
    --hub "$WORK/hub-with-http"
wait "$scraper" || true
read -r scrapes scraped_bytes scrape_s <"$WORK/scrapes" || fail "the scraper made no request"

value() { tail -n 1 "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
p99() { awk -v m="$2" '$1 == m { print $6 }' "$1"; }
echo "plain:   $(grep '^total:' "$WORK/plain.out")"
echo "scraped: $(grep '^total:' "$WORK/scraped.out")"
echo "scraper: $scrapes pages ($scraped_bytes bytes) in $scrape_s s"
a=$(value "$WORK/plain.out" calls_per_s)
b=$(value "$WORK/scraped.out" calls_per_s)
c=$(p99 "$WORK/plain.out" work.list)
d=$(p99 "$WORK/scraped.out" work.list)
e=$(p99 "$WORK/plain.out" crossblind.commit)
f=$(p99 "$WORK/scraped.out" crossblind.commit)
awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" -v e="$e" -v f="$f" -v s="$scrapes" -v t="$scrape_s" 'BEGIN {
    printf "calls/s scraped/plain %.2f; p99 work.list %s -> %s ms, crossblind.commit %s -> %s ms\n", b / a, c, d, e, f
    printf "plain_calls_per_s=%s scraped_calls_per_s=%s plain_p99_work_list_ms=%s scraped_p99_work_list_ms=%s plain_p99_crossblind_ms=%s scraped_p99_crossblind_ms=%s scrapes=%s scrape_s=%s\n", a, b, c, d, e, f, s, t }'
