#!/usr/bin/env bash
# scripts/package.sh refuses, in one line and before building anything,
# when a tool the packages need is missing: scdoc (the man pages), cpack,
# dpkg-shlibdeps (the dependencies). (Its cpack failures are checked by
# package_install, which has a release build to run cpack in.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../scripts/package.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash=$(command -v bash)
mkdir -p "$work/bin"
ln -s "$(command -v dirname)" "$work/bin/dirname"
# tools_but NAME: every tool package.sh checks for, but NAME, on $work/bin.
tools_but() {
    local tool
    for tool in scdoc dpkg-shlibdeps cpack; do
        rm -f "$work/bin/$tool"
        [ "$tool" = "$1" ] || ln -s "$(command -v "$tool" || echo /bin/true)" "$work/bin/$tool"
    done
}
for missing in scdoc dpkg-shlibdeps cpack; do
    tools_but "$missing"
    rc=0
    PATH="$work/bin" "$bash" "$script" "$work/build" >"$work/out" 2>"$work/err" || rc=$?
    want="package: $missing is missing (scripts/setup.sh installs it)"
    if [ "$rc" -ne 1 ] || [ "$(cat "$work/err")" != "$want" ] || [ -s "$work/out" ]; then
        echo "package_script: FAIL: without $missing: exit $rc, stderr '$(cat "$work/err")', not '$want'" >&2
        exit 1
    fi
    [ ! -e "$work/build" ] || { echo "package_script: FAIL: without $missing it built in $work/build" >&2; exit 1; }
    echo "package_script: without $missing: exit 1, '$want'"
done
echo "package_script: OK"
