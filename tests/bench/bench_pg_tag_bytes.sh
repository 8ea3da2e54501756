#!/usr/bin/env bash
# bench_pg_tag_bytes: the cost at rest of one stored tag on PostgreSQL.
#
#   tests/bench/bench_pg_tag_bytes.sh [BUILD_DIR] [--tags N] [--parties P]
#                                     (defaults: ./build, N 1000000, P 50; never run by ctest)
#
# A cluster of its own (tests/support/pg_cluster.sh), a store made by
# `psi-hub init --store`, then N tags of one epoch written into the store's
# tag table as the hub writes them (epoch, owner, blinder, position, 16-byte
# tag; owners and blinders spread over P parties named like agency-NN,
# positions dense per (owner, blinder), tags random), in one partition
# made as the store makes it. Measured: the partition's heap and its two
# indexes (primary key and the join's), after VACUUM ANALYZE, divided by N.
# The tags go in through SQL rather than through whole protocol runs: what is
# measured is the layout at rest, which does not depend on where the bytes
# came from. The last line is machine-readable key=value pairs.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/tests/e2e/lib/harness.bash"
# shellcheck source=tests/e2e/lib/pg.bash
. "$here/tests/e2e/lib/pg.bash"
build="$here/build"
tags=1000000
parties=50
while [ $# -gt 0 ]; do
    case $1 in
    --tags) tags=$2; shift 2 ;;
    --parties) parties=$2; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) build=$1; shift ;;
    esac
done
harness_init bench_pg_tag_bytes "$build"
pg_require
pg_up
url=$(pg_db bench)
hub_init "$WORK/hub" bench-hub --store "$url"
epoch=2026-W01
pairs=$((parties * (parties - 1)))
per_pair=$(((tags + pairs - 1) / pairs))
t0=$(date +%s%N)
pg_sql "$url" "
SET search_path TO psi;
CREATE TABLE tag_1 PARTITION OF tag FOR VALUES IN ('$epoch');
INSERT INTO tag_partition VALUES ('$epoch', 'tag_1');
INSERT INTO tag (epoch, owner, blinder, position, tag)
SELECT '$epoch', format('agency-%s', lpad(o::text, 2, '0')), format('agency-%s', lpad(b::text, 2, '0')),
       k, decode(md5(random()::text), 'hex')
FROM generate_series(1, $parties) o, generate_series(1, $parties) b, generate_series(0, $per_pair - 1) k
WHERE o <> b
LIMIT $tags;" >/dev/null
pg_sql "$url" "VACUUM ANALYZE psi.tag_1" >/dev/null
t1=$(date +%s%N)
read -r rows heap idx < <(pg_sql "$url" "SELECT count(*), pg_relation_size('psi.tag_1'),
    pg_indexes_size('psi.tag_1') FROM psi.tag_1" | tr '|' ' ')
total=$((heap + idx))
say "$rows tags of one epoch over $parties parties: heap $heap B, indexes $idx B"
say "per stored tag: heap $((heap / rows)) B + indexes $((idx / rows)) B = $((total / rows)) B (written in $(((t1 - t0) / 1000000)) ms)"
echo "tags=$rows parties=$parties heap_bytes=$heap index_bytes=$idx bytes_per_tag=$((total / rows))"
