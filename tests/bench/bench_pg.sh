#!/usr/bin/env bash
# bench_pg.sh: the hub on PostgreSQL against SQLite, in one session, on a
# PostgreSQL cluster of its own (tests/support/pg_cluster.sh: initdb into a
# scratch directory, fsync on, stopped and removed at the end).
#
#   tests/bench/bench_pg.sh [BUILD_DIR] [--clients C] [--seconds S]
#                           [--front-ends "1 2 4"] [--mutual P N] [--tags P N]
#        (defaults: ./build, C 64, S 20, front-ends "1 2 4"; never run by ctest)
#
# Runs bench_load with C clients for S seconds on SQLite (one front-end),
# then on PostgreSQL with each number of front-ends (a fresh database each
# time; the clients spread round-robin over the front-ends); with --mutual,
# then bench_mutual.sh of P parties x N on PostgreSQL; with --tags,
# bench_tags (tag storage and join per batch, through the store interface)
# of P x N on SQLite and then on PostgreSQL. Each run prints its
# own load average; a summary line per run ends the output.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="$here/build"
clients=64
seconds=20
fronts="1 2 4"
mutual_p=""
mutual_n=""
tags_p=""
tags_n=""
while [ $# -gt 0 ]; do
    case $1 in
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --front-ends) fronts=$2; shift 2 ;;
    --mutual) mutual_p=$2; mutual_n=$3; shift 3 ;;
    --tags) tags_p=$2; tags_n=$3; shift 3 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "bench_pg: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
build=$(cd "$build" && pwd)
bench_load="$build/tests/bench_load"
[ -x "$bench_load" ] || { echo "bench_pg: missing $bench_load (PSI_BUILD_BENCH=ON)" >&2; exit 1; }
cluster="$here/tests/support/pg_cluster.sh"
bash "$cluster" available ||
    { echo "bench_pg: no PostgreSQL 15 server programs (scripts/setup.sh installs postgresql-15)" >&2; exit 1; }

# Outside any 0700 directory of ours: the server's user must reach it.
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/psi-bench-pg.XXXXXX")
rmdir "$pg_dir"
trap 'bash "$cluster" stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
bash "$cluster" start "$pg_dir" >/dev/null

summary=()
last_line() { tail -n 1 "$1"; }

echo "== bench_load, SQLite, 1 front-end"
"$bench_load" --clients "$clients" --seconds "$seconds" | tee "$pg_dir.sqlite.txt"
summary+=("sqlite front_ends=1: $(last_line "$pg_dir.sqlite.txt")")
for f in $fronts; do
    url=$(bash "$cluster" createdb "$pg_dir" "load$f")
    echo "== bench_load, PostgreSQL, $f front-end(s)"
    "$bench_load" --clients "$clients" --seconds "$seconds" --store "$url" --front-ends "$f" |
        tee "$pg_dir.pg$f.txt"
    summary+=("postgresql front_ends=$f: $(last_line "$pg_dir.pg$f.txt")")
done
if [ -n "$mutual_p" ]; then
    url=$(bash "$cluster" createdb "$pg_dir" mutual)
    echo "== bench_mutual, PostgreSQL, $mutual_p x $mutual_n"
    bash "$here/tests/bench/bench_mutual.sh" "$build" --parties "$mutual_p" --n "$mutual_n" \
        --store "$url" | tee "$pg_dir.mutual.txt"
    summary+=("$(last_line "$pg_dir.mutual.txt")")
fi
if [ -n "$tags_p" ]; then
    echo "== bench_tags, SQLite, $tags_p x $tags_n"
    "$build/tests/bench_tags" --parties "$tags_p" --n "$tags_n" | tee "$pg_dir.tags-sqlite.txt"
    summary+=("$(last_line "$pg_dir.tags-sqlite.txt")")
    url=$(bash "$cluster" createdb "$pg_dir" tags)
    echo "== bench_tags, PostgreSQL, $tags_p x $tags_n"
    "$build/tests/bench_tags" --parties "$tags_p" --n "$tags_n" --store "$url" |
        tee "$pg_dir.tags-pg.txt"
    summary+=("$(last_line "$pg_dir.tags-pg.txt")")
fi
rm -f "$pg_dir".*.txt
echo "== summary"
printf '%s\n' "${summary[@]}"
