#!/usr/bin/env bash
# Static checks over every C file of the project (libraries, programs,
# tests, benchmarks, fuzz targets): clang-format (style: .clang-format; the
# tree must be formatted as it says), clang-tidy (configuration: .clang-tidy)
# and cppcheck (configuration: .cppcheck, suppressions:
# .cppcheck-suppressions). All must be clean; CI runs this (.ci/run).
#
#   scripts/lint.sh [--format-only | --tidy-only | --cppcheck-only] [FILE-REGEX]
#   scripts/lint.sh --fix-format      reformat the tree in place, then stop
#
# FILE-REGEX limits clang-tidy to the matching paths (a Python regular
# expression, as run-clang-tidy takes it), e.g. 'psi/tlog/merkle'.
# Configures build-lint with clang and compile_commands.json (only the
# generated headers are built), then prints every finding and a one-line
# tally per tool. Exits 1 if either tool found anything, 2 on usage errors.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build-lint"
run_format=1
run_tidy=1
run_cppcheck=1
fix_format=0
filter=""
usage() {
  sed -n '2,/^set -e/p' "$0" | sed -e '/^set -e/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --format-only) run_tidy=0; run_cppcheck=0; shift ;;
    --fix-format) fix_format=1; shift ;;
    --tidy-only) run_format=0; run_cppcheck=0; shift ;;
    --cppcheck-only) run_format=0; run_tidy=0; shift ;;
    -h|--help) usage ;;
    -*) echo "lint: unknown option $1" >&2; usage ;;
    *) [ -z "$filter" ] || usage; filter=$1; shift ;;
  esac
done

# The C files git tracks (generated ones live in build trees, never tracked).
c_files() {
  git -C "$here" ls-files -z -- '*.c' '*.h' | { [ -n "$filter" ] && grep -zE "$filter" || cat; }
}

# The tools (Debian: clang-format, clang-tidy, cppcheck; clang and its
# libFuzzer runtime for the fuzz targets' compile commands).
missing=()
command -v clang-format >/dev/null || missing+=(clang-format)
command -v run-clang-tidy >/dev/null || missing+=(clang-tidy)
command -v cppcheck >/dev/null || missing+=(cppcheck)
command -v clang >/dev/null || missing+=(clang)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "lint: missing ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "lint: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" libclang-rt-14-dev >/dev/null
fi

if [ "$fix_format" -eq 1 ]; then
  c_files | (cd "$here" && xargs -0 clang-format -i)
  echo "lint: reformatted $(c_files | tr -cd '\0' | wc -c) files"
  exit 0
fi

failed=0
if [ "$run_format" -eq 1 ]; then
  mkdir -p "$build"
  out="$build/clang-format.log"
  echo "lint: $(clang-format --version | sed 's/^Debian //') ..." >&2
  (cd "$here" && c_files | xargs -0 clang-format --dry-run) >"$out" 2>&1 || true
  unformatted=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$out" | cut -d: -f1 | sort -u || true)
  if [ -n "$unformatted" ]; then
    echo "$unformatted" | sed 's/^/  not formatted: /'
    echo "lint: clang-format: $(echo "$unformatted" | wc -l) files differ from .clang-format" \
      "(see $out; scripts/lint.sh --fix-format reformats them)"
    failed=1
  else
    echo "lint: clang-format: clean over $(c_files | tr -cd '\0' | wc -c) files"
  fi
  [ "$run_tidy" -eq 1 ] || [ "$run_cppcheck" -eq 1 ] || exit "$failed"
fi

# Every target, the fuzz targets and the test hooks (PSI_TEST_HOOKS) included;
# only the generated headers are built (clang-tidy and cppcheck read the
# sources).
CC=clang cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DPSI_FUZZ=ON -DPSI_BUILD_TESTS=ON -DPSI_BUILD_BENCH=ON -DPSI_SANITIZE=OFF -DPSI_TEST_HOOKS=ON >/dev/null
cmake --build "$build" --target psiproto fuzz_proto_list -j "$(nproc)" >/dev/null

if [ -n "$filter" ]; then
  files_regex="^$here/(?=(psi|proto|cmdline|sqlite|server|client|tests)/).*($filter)"
else
  files_regex="^$here/(psi|proto|cmdline|sqlite|server|client|tests)/"
fi
# how many compile commands the regex takes (run-clang-tidy is Python too)
files=$(python3 -c 'import json, re, sys
print(sum(1 for c in json.load(open(sys.argv[1])) if re.search(sys.argv[2], c["file"])))' \
  "$build/compile_commands.json" "$files_regex")

if [ "$run_tidy" -eq 1 ]; then
  out="$build/clang-tidy.log"
  echo "lint: clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -n 1) ..." >&2
  # run-clang-tidy exits non-zero when a file has findings (WarningsAsErrors: '*')
  rc=0
  run-clang-tidy -p "$build" -j "$(nproc)" -quiet "$files_regex" >"$out.raw" 2>&1 || rc=$?
  sed -E 's/\x1b\[[0-9;]*m//g' "$out.raw" >"$out" # without its colours
  rm -f "$out.raw"
  findings=$(grep -cE '^/.*:[0-9]+:[0-9]+: (error|warning): ' "$out" || true)
  grep -E -A3 '^/.*:[0-9]+:[0-9]+: (error|warning): ' "$out" | sed "s|$here/||" || true
  if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    echo "lint: clang-tidy: $findings findings (exit $rc) over $files files; full output in $out"
    failed=1
  else
    echo "lint: clang-tidy: clean over $files files"
  fi
fi

if [ "$run_cppcheck" -eq 1 ]; then
  out="$build/cppcheck.log"
  echo "lint: $(cppcheck --version) ..." >&2
  # The generated protobuf-c header refuses older libprotobuf-c by version;
  # cppcheck does not read system headers, so it is told the version here.
  pbc_version=$(sed -n 's/^#define PROTOBUF_C_VERSION_NUMBER[[:space:]]*\([0-9]*\).*/\1/p' \
    /usr/include/protobuf-c/protobuf-c.h)
  rc=0
  # shellcheck disable=SC2046  # the options file holds one option a line
  cppcheck --project="$build/compile_commands.json" $(grep -v '^#' "$here/.cppcheck") \
    --suppressions-list="$here/.cppcheck-suppressions" \
    --suppress="*:$build/*" -DPROTOBUF_C_VERSION_NUMBER="$pbc_version" \
    -j "$(nproc)" --error-exitcode=1 \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' >"$out" 2>&1 || rc=$?
  findings=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: ' "$out" || true)
  grep -E '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: ' "$out" | sed "s|$here/||" || true
  checked=$(grep -c '^Checking ' "$out" || true)
  if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    echo "lint: cppcheck: $findings findings (exit $rc); full output in $out"
    failed=1
  else
    echo "lint: cppcheck: clean ($checked file configurations checked)"
  fi
fi
exit "$failed"
