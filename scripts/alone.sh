#!/usr/bin/env bash
# The README's test command on the repository alone: copies the files git
# tracks (nothing untracked, no build, no ../shared) into a fresh temporary
# folder whose parent holds nothing else, runs `bash scripts/setup.sh && bash
# scripts/test.sh` there, and checks that the tests needing the real data of
# ../shared were reported skipped (never passed) and that nothing failed.
#
#   scripts/alone.sh [--then-shared]
#
# PSI_CMAKE_FLAGS is passed on to setup.sh (CI runs this with the sanitizer
# flags, so the copy's build is also the AddressSanitizer build).
# --then-shared: afterwards, when ../shared/data/ioc is beside this checkout,
# link it beside the copy and run the skipped tests (ctest -L shared) in the
# same build, so they too run under that build's flags.
# Removes the copy on exit (PSI_KEEP_WORK=1 keeps it when a step failed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
then_shared=0
case "${1:-}" in
  --then-shared) then_shared=1 ;;
  "") ;;
  *) echo "usage: scripts/alone.sh [--then-shared]" >&2; exit 2 ;;
esac

top=$(mktemp -d "${TMPDIR:-/tmp}/psi-alone.XXXXXX")
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "${PSI_KEEP_WORK:-}" ]; then
    echo "alone: copy kept in $top" >&2
  else
    rm -rf "$top"
  fi
  exit "$rc"
}
trap cleanup EXIT
copy="$top/psi"
mkdir -p "$copy"
git -C "$here" ls-files -z | (cd "$here" && tar --null -T - -cf -) | tar -xf - -C "$copy"
[ ! -e "$top/shared" ] || { echo "alone: $top/shared exists" >&2; exit 1; }
echo "alone: $(git -C "$here" ls-files | wc -l) tracked files copied to $copy (no ../shared beside it)"

log="$top/test.log"
(cd "$copy" && bash scripts/setup.sh && bash scripts/test.sh) 2>&1 | tee "$log"
grep -q '^test: no real indicator data in ' "$log" ||
  { echo "alone: scripts/test.sh did not say that the real data is missing" >&2; exit 1; }
# Every test labelled "shared" must have been skipped, not passed.
mapfile -t needs < <(ctest --test-dir "$copy/build" -N -L shared | sed -n 's/^ *Test *#[0-9]*: //p')
[ "${#needs[@]}" -gt 0 ] || { echo "alone: no test is labelled shared" >&2; exit 1; }
for t in "${needs[@]}"; do
  grep -Eq "Test +#[0-9]+: $t \.* *\*+Skipped" "$log" ||
    { echo "alone: $t was not reported skipped" >&2; exit 1; }
done
echo "alone: OK (the repository alone passes; ${#needs[@]} tests skipped for want of ../shared: ${needs[*]})"

if [ "$then_shared" -eq 1 ]; then
  if [ -d "$here/../shared/data/ioc" ]; then
    ln -s "$(cd "$here/../shared" && pwd)" "$top/shared"
    ctest --test-dir "$copy/build" --output-on-failure -L shared --timeout 900
    echo "alone: the ${#needs[@]} tests of the real data pass in the same build"
  else
    echo "alone: no ../shared beside $here: the tests of the real data were not run"
  fi
fi
