#!/usr/bin/env bash
# bench_tags.sh: bytes per stored tag at rest and the join's time per batch,
# before and after a change of the SQLite store, in one run.
#
#   tests/bench/bench_tags.sh [BUILD_DIR] [--before REV] [--parties P] [--n N]
#        (defaults: ./build, REV 5798f2d (the last store with tags under three
#         strings and two indexes), P 10, n 2000; never run by ctest)
#
# Exports REV's tree (git archive) into a scratch directory, puts this
# tree's tests/bench/bench_tags.c in it (the store interface it uses is the
# same on both sides), builds only that benchmark there, and runs it and
# this build's bench_tags with the same options, one after the other. Both
# fill a store with the same tags from a fixed seed, so both must report the
# same number of overlaps: the script fails if they differ.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="$here/build"
before=5798f2d
args=()
while [ $# -gt 0 ]; do
    case $1 in
    --before) before=$2; shift 2 ;;
    --parties | --n) args+=("$1" "$2"); shift 2 ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "bench_tags.sh: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
after_bin="$(cd "$build" && pwd)/tests/bench_tags"
[ -x "$after_bin" ] || { echo "bench_tags.sh: missing $after_bin (build with PSI_BUILD_BENCH=ON)" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/bench_tags_before.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
git -C "$here" archive "$before" | tar -x -C "$scratch" ||
    { echo "bench_tags.sh: cannot export $before" >&2; exit 1; }
cp "$here/tests/bench/bench_tags.c" "$scratch/tests/bench/"
cat >>"$scratch/tests/CMakeLists.txt" <<'EOF'
if(TARGET bench_tags AND TARGET psi_hub_core)
  target_link_libraries(bench_tags PRIVATE psi_hub_core)
endif()
EOF
echo "bench_tags.sh: building bench_tags at $before in $scratch ..." >&2
cmake -S "$scratch" -B "$scratch/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$scratch/cmake.log" 2>&1 || { tail -n 20 "$scratch/cmake.log" >&2; exit 1; }
cmake --build "$scratch/build" -j "$(nproc)" --target bench_tags >"$scratch/build.log" 2>&1 ||
    { tail -n 20 "$scratch/build.log" >&2; exit 1; }

echo "== before ($before)"
"$scratch/build/tests/bench_tags" "${args[@]}" | tee "$scratch/before.txt"
echo "== after ($(git -C "$here" rev-parse --short HEAD), this build)"
"$after_bin" "${args[@]}" | tee "$scratch/after.txt"

field() { tail -n 1 "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }
ob=$(field "$scratch/before.txt" overlaps)
oa=$(field "$scratch/after.txt" overlaps)
[ "$ob" = "$oa" ] || { echo "bench_tags.sh: overlaps differ: $ob before, $oa after" >&2; exit 1; }
awk -v bb="$(field "$scratch/before.txt" bytes_per_tag)" -v ba="$(field "$scratch/after.txt" bytes_per_tag)" \
    -v tb="$(field "$scratch/before.txt" tag_table_bytes)" -v ta="$(field "$scratch/after.txt" tag_table_bytes)" \
    -v tags="$(field "$scratch/after.txt" tags)" \
    -v jb="$(field "$scratch/before.txt" add_ms)" -v ja="$(field "$scratch/after.txt" add_ms)" -v o="$oa" '
    BEGIN {
        printf "same overlaps (%d); store per tag %.1f -> %.1f bytes (tag tables alone %.1f -> %.1f); crossblind_add per batch %.2f -> %.2f ms (x%.2f)\n",
            o, bb, ba, tb / tags, ta / tags, jb, ja, ja / jb
    }'
