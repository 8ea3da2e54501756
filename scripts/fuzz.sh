#!/usr/bin/env bash
# Fuzzes every input surface with libFuzzer (tests/fuzz/fuzz_*.c).
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET...]
#
# Configures and builds build-fuzz with clang (-DPSI_FUZZ=ON), writes the
# seed corpora (gen_seeds: generated messages, notes, receipts, entries...;
# the indicator fixtures of tests/fixtures/ioc and, when there, the real
# files of ../shared/data/ioc, cut down; the spec's note vectors; tests/fuzz/seeds), runs each target for N seconds (default 20), J
# at a time (default 1), and prints one line per target: executions, exec/s,
# coverage (libFuzzer's cov: edges, ft: features), corpus (inputs/bytes
# libFuzzer kept), crashes.
# The corpus of a target grows in build-fuzz/fuzz/corpus/TARGET across runs;
# seeds are rewritten each run in build-fuzz/fuzz/seeds, never committed.
# Exits 1 if any target crashed (or broke a promise: FUZZ_CHECK aborts), and
# keeps the input that did it in build-fuzz/fuzz/crashes/TARGET/; reproduce
# with: build-fuzz/tests/fuzz/TARGET FILE
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build-fuzz"
seconds=20
jobs=1
targets=()
usage() {
  sed -n '2,/^set -e/p' "$0" | sed -e '/^set -e/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
    --jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "fuzz: unknown option $1" >&2; usage ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [[ ! "$seconds" =~ ^[0-9]+$ || ! "$jobs" =~ ^[0-9]+$ || "$seconds" -lt 1 || "$jobs" -lt 1 ]]; then
  echo "fuzz: --seconds and --jobs take whole numbers of at least 1" >&2
  exit 2
fi

# clang and its libFuzzer runtime (Debian: clang, libclang-rt-14-dev).
fuzzer_runtime() {
  command -v clang >/dev/null &&
    [ -f "$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a" ]
}
if ! fuzzer_runtime; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz: clang with libFuzzer is missing (install clang and libclang-rt-14-dev as root)" >&2
    exit 1
  fi
  echo "fuzz: installing clang libclang-rt-14-dev" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi

# Only the targets and what they link are built (tests and benchmarks are
# the other builds' business, and clang's warnings differ from gcc's).
CC=clang cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPSI_FUZZ=ON \
  -DPSI_BUILD_TESTS=OFF -DPSI_BUILD_BENCH=OFF -DPSI_SANITIZE=OFF >/dev/null
cmake --build "$build" --target fuzz -j "$(nproc)" >/dev/null

if [ ${#targets[@]} -eq 0 ]; then
  for src in "$here"/tests/fuzz/fuzz_*.c; do
    targets+=("$(basename "$src" .c)")
  done
fi
for t in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz/$t" ]; then
    echo "fuzz: no target $t (the targets are tests/fuzz/fuzz_*.c)" >&2
    exit 2
  fi
done

# Seeds, rewritten every run.
work="$build/fuzz"
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds" "$work/corpus" "$work/crashes" "$work/logs"
ioc="${PSI_SHARED:-$here/../shared}/data/ioc"
spec="${PSI_SHARED:-$here/../shared}/spec/tlog.md"
sources=()
# The repository's own fixtures always seed the indicator targets; the real
# files of ../shared/data/ioc in addition when they are there.
ioc_dirs=("$here/tests/fixtures/ioc")
if [ -d "$ioc" ]; then
  ioc_dirs+=("$ioc")
else
  echo "fuzz: $ioc is missing: the indicator targets start from the repository's fixtures and hand-written seeds" >&2
fi
for kind in text csv stix misp; do mkdir -p "$seeds/fuzz_ioc_$kind"; done
while IFS= read -r -d '' f; do
  case "$f" in
    */LICENSE|*.md|*.adoc) continue ;;
    *.json)
      if grep -q '"bundle"' "$f"; then kind=stix; else kind=misp; fi
      sources+=("$kind=$f")
      # Whole files too, when small enough to mutate (the largest seed
      # sets how long libFuzzer lets inputs grow).
      if [ "$(stat -c %s "$f")" -le 20000 ]; then cp "$f" "$seeds/fuzz_ioc_$kind/"; fi
      ;;
    *)
      sources+=("text=$f")
      cp "$f" "$seeds/fuzz_ioc_text/"
      cp "$f" "$seeds/fuzz_ioc_csv/"
      ;;
  esac
done < <(find "${ioc_dirs[@]}" -type f -print0 | sort -z)
"$build/tests/fuzz/gen_seeds" "$seeds" "${sources[@]}" >/dev/null
# The signed-note vectors of the spec: a note by a key the target does not
# know, the same note signed twice, and the spec's key strings.
if [ -f "$spec" ]; then
  mkdir -p "$seeds/fuzz_note_open" "$seeds/fuzz_vkey"
  awk '/Expected `Sign` output/ {f = 1; next}
       f && /^```/ {if (g) exit; g = 1; next}
       g {print}' "$spec" > "$seeds/fuzz_note_open/spec-note"
  { cat "$seeds/fuzz_note_open/spec-note"; grep '^— EnochRoot ' "$spec"; } \
    > "$seeds/fuzz_note_open/spec-note-twice"
  n=0
  for key in $(grep -oE '^(skey|vkey): +[^ ]+' "$spec" | awk '{print $2}'; \
               grep -oE '`[A-Za-z]+[+][0-9a-f]{8}[+][A-Za-z0-9+/=]+`' "$spec" | tr -d '`'); do
    printf '%s' "$key" > "$seeds/fuzz_vkey/spec-key-$n"
    n=$((n + 1))
  done
fi

# Targets that need files make them here (in memory when possible).
if [ -d /dev/shm ] && [ -w /dev/shm ]; then tmp_root=/dev/shm; else tmp_root=${TMPDIR:-/tmp}; fi
scratch=$(mktemp -d "$tmp_root/psi-fuzz.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_target() {
  local t=$1 corpus="$work/corpus/$1" crashes="$work/crashes/$1" dirs
  mkdir -p "$corpus" "$crashes" "$scratch/$t"
  dirs=("$corpus")
  [ -d "$seeds/$t" ] && dirs+=("$seeds/$t")
  [ -d "$here/tests/fuzz/seeds/$t" ] && dirs+=("$here/tests/fuzz/seeds/$t")
  (cd "$scratch/$t" && TMPDIR="$scratch/$t" exec "$build/tests/fuzz/$t" \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "${dirs[@]}") > "$work/logs/$t.log" 2>&1
}

# Runs the targets, at most $jobs at once; rc of each in $work/logs/T.rc.
echo "fuzz: ${#targets[@]} targets, $seconds s each, $jobs at a time; logs in $work/logs" >&2
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  ( rc=0; run_target "$t" || rc=$?; echo "$rc" > "$work/logs/$t.rc" ) &
  pids+=("$!")
done
wait || true

failed=0
printf '%-22s %7s %11s %8s %6s %7s %-15s %s\n' target seconds execs exec/s cov ft corpus crashes
for t in "${targets[@]}"; do
  log="$work/logs/$t.log"
  rc=$(cat "$work/logs/$t.rc" 2>/dev/null || echo 1)
  stat_of() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
  execs=$(stat_of number_of_executed_units)
  rate=$(stat_of average_exec_per_sec)
  status=$(grep -E '^#[0-9]+[[:space:]].*cov: ' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$status")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$status")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<< "$status")
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  crashes=0
  if [ "$rc" -ne 0 ] || [ -n "$artifact" ]; then crashes=1; failed=1; fi
  printf '%-22s %7s %11s %8s %6s %7s %-15s %s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes"
  if [ "$crashes" -ne 0 ]; then
    grep -m 3 -E 'ERROR: |fuzz: broken promise|SUMMARY: ' "$log" | sed 's/^/    /' || true
    if [ -n "$artifact" ]; then
      echo "    input: $artifact (reproduce: $build/tests/fuzz/$t $artifact)"
    else
      echo "    exit $rc without an input written; see $log"
    fi
  fi
done
exit "$failed"
