#!/usr/bin/env bash
# The Debian packages install on a fresh Debian 12 and work from there:
#  1. scripts/package.sh builds them from this tree (a release build beside
#     the test build: BUILD/package-release);
#  2. debootstrap makes a fresh bookworm root (--variant=minbase, from
#     http://deb.debian.org/debian; nothing cached between runs);
#  3. in a chroot, apt-get installs the three .deb files, pulling their
#     dependencies (libsodium23, libnng1, ...) from the archive;
#  4. the man pages, bash completion, units and /etc/default files are where
#     they belong, `man` is not needed to find them; psi --version and
#     psi-hub --version run; the postinst made the psi-hub and psi-agent
#     system users and their 0700 directories under /var/lib;
#  5. the completion installed completes `psi sub` to submit in the chroot;
#  6. scripts/demo.sh runs from the installed /usr/bin/psi and
#     /usr/bin/psi-hub in the chroot: a hub and five parties on loopback, and
#     the overlaps each agency learnt must be the planted ones;
#  7. `apt-get purge psi` removes the users and leaves their data to root.
# Needs root (debootstrap, chroot, mount) and the archive: without either it
# prints SKIPPED with the reason and exits 77 (ctest: skipped, never passed).
# /proc is mounted in the root for the demo and always unmounted on exit.
# Labelled `package` (ctest -L package). Prints the time each step took.
set -euo pipefail
: "${PSI_BIN:?PSI_BIN (the build dir) must be set}"
here=$(cd "$(dirname "$0")" && pwd)
src=${PSI_SOURCE:-$here/../..}
mirror=${PSI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
started=$(date +%s)
step_started=$started

say() { echo "package_install: $*"; }
fail() {
    echo "package_install: FAIL: $*" >&2
    exit 1
}
skip() {
    echo "package_install: SKIPPED: $*"
    exit 77
}
# step WHAT: says how long the step that ends here took.
step() {
    local now
    now=$(date +%s)
    say "$1 ($((now - step_started)) s)"
    step_started=$now
}

[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot and mount /proc); run ctest as root"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/setup.sh installs it)"
if grep -q '^PSI_SANITIZE:BOOL=ON' "$PSI_BIN/CMakeCache.txt"; then
    skip "a sanitizer build: the packages are release builds, tested once, in the build without sanitizers"
fi
scenario="$PSI_BIN/tests/psi-scenario"
[ -x "$scenario" ] || fail "no scenario generator $scenario (build the tests first)"
if ! wget -q -T 20 -t 2 -O /dev/null "$mirror/dists/bookworm/Release"; then
    skip "the Debian archive $mirror does not answer (the test installs from it)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/psi-package.XXXXXX")
root="$work/root"
cleanup() {
    local rc=$?
    # Unmount first, and remove nothing if /proc cannot be unmounted: rm
    # must never walk into a mounted file system.
    if mountpoint -q "$root/proc" 2>/dev/null; then
        umount "$root/proc" || umount -l "$root/proc" || true
    fi
    if mountpoint -q "$root/proc" 2>/dev/null; then
        echo "package_install: $root/proc is still mounted: $work left in place" >&2
    else
        rm -rf --one-file-system "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- 1. the packages
if ! bash "$src/scripts/package.sh" "$PSI_BIN/package-release" >"$work/debs.txt" 2>"$work/package.log"; then
    tail -n 20 "$work/package.log" | sed 's/^/    | /' >&2
    fail "scripts/package.sh failed"
fi
mapfile -t debs <"$work/debs.txt"
[ "${#debs[@]}" -eq 3 ] || fail "scripts/package.sh listed ${#debs[@]} packages, not 3: ${debs[*]}"
step "built ${debs[*]##*/}"

# ---- 2. a fresh Debian 12
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" | sed 's/^/    | /' >&2
    fail "debootstrap bookworm from $mirror failed"
fi
step "debootstrap --variant=minbase bookworm: $(du -sh --one-file-system "$root" | cut -f 1)"
mount -t proc proc "$root/proc"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"; }

# ---- 3. install
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
names=()
for deb in "${debs[@]}"; do names+=("./${deb##*/}"); done
if ! (cd "$root/tmp/debs" && chroot "$root" sh -c "cd /tmp/debs && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends ${names[*]}") >"$work/apt.log" 2>&1; then
    tail -n 30 "$work/apt.log" | sed 's/^/    | /' >&2
    fail "apt-get install of the packages failed in the fresh root"
fi
# scripts/package.sh's own failures, now that the packages are copied: a
# cpack that fails, and one that makes no package, are each said in a line.
mkdir -p "$work/fake"
printf '#!/bin/sh\necho "CPack Error: made to fail by the test" >&2\nexit 1\n' >"$work/fake/cpack"
chmod +x "$work/fake/cpack"
rc=0
PATH="$work/fake:$PATH" bash "$src/scripts/package.sh" "$PSI_BIN/package-release" >/dev/null 2>"$work/fail.err" || rc=$?
if [ "$rc" -ne 1 ] || ! grep -q '^package: cpack failed:' "$work/fail.err" ||
    ! grep -q 'made to fail' "$work/fail.err"; then
    fail "package.sh with a failing cpack: exit $rc, '$(head -n 3 "$work/fail.err")'"
fi
printf '#!/bin/sh\nexit 0\n' >"$work/fake/cpack"
rc=0
PATH="$work/fake:$PATH" bash "$src/scripts/package.sh" "$PSI_BIN/package-release" >/dev/null 2>"$work/fail.err" || rc=$?
if [ "$rc" -ne 1 ] || ! grep -q '^package: cpack made no psi_\*.deb' "$work/fail.err"; then
    fail "package.sh with a cpack that makes nothing: exit $rc, '$(head -n 3 "$work/fail.err")'"
fi
say "scripts/package.sh says when cpack fails and when it makes no package"
pulled=$(sed -n 's/^Setting up \([^ :]*\).*/\1/p' "$work/apt.log" | grep -v -e '^psi$' -e '^libpsi' | tr '\n' ' ')
step "apt-get install ${names[*]} (and from the archive: $pulled)"
for dep in libsodium23 libnng1; do
    grep -qw "$dep" <<<"$pulled" || fail "apt did not pull $dep from the archive"
done

# ---- 4. files, programs, users
for f in /usr/share/man/man1/psi.1.gz /usr/share/man/man8/psi-hub.8.gz \
    /usr/share/man/man7/psi-indicators.7.gz /usr/share/bash-completion/completions/psi \
    /usr/share/bash-completion/completions/psi-hub /usr/lib/systemd/system/psi-hub.service \
    /usr/lib/systemd/system/psi-agent@.service /etc/default/psi-hub /etc/default/psi-agent \
    /usr/include/psi/oprf.h /usr/lib/x86_64-linux-gnu/pkgconfig/psi.pc; do
    [ -s "$root$f" ] || fail "$f is not installed"
done
zcat "$root/usr/share/man/man1/psi.1.gz" | grep -q '^\.SS "\?psi submit' || fail "psi.1.gz has no 'psi submit' section"
grep -q '^ExecStart=/usr/bin/psi-hub serve' "$root/usr/lib/systemd/system/psi-hub.service" ||
    fail "the installed psi-hub.service does not run /usr/bin/psi-hub"
v_psi=$(in_root psi --version) || fail "psi --version failed in the root"
v_hub=$(in_root psi-hub --version) || fail "psi-hub --version failed in the root"
[[ $v_psi == "psi "*"(indicator rules "* ]] || fail "psi --version printed '$v_psi'"
[[ $v_hub == "psi-hub "* ]] || fail "psi-hub --version printed '$v_hub'"
for user in psi-hub psi-agent; do
    id_line=$(in_root id "$user") || fail "the postinst made no system user $user"
    uid=$(in_root id -u "$user")
    [ "$uid" -lt 1000 ] || fail "$user is not a system user (uid $uid)"
    perms=$(in_root stat -c '%U %a' "/var/lib/$user")
    [ "$perms" = "$user 700" ] || fail "/var/lib/$user is '$perms', not '$user 700'"
    say "user: $id_line; /var/lib/$user: $perms"
done
# Installed again (an upgrade runs the same postinst): the users stay as they were.
uid_before=$(in_root id -u psi-hub)
in_root dpkg -i "/tmp/debs/${names[0]#./}" >"$work/reinstall.log" 2>&1 ||
    fail "installing psi again failed: $(tail -n 3 "$work/reinstall.log")"
[ "$(in_root id -u psi-hub)" = "$uid_before" ] || fail "installing psi again changed the psi-hub user"
step "files in place; $v_psi; $v_hub; installing again keeps the users"

# ---- 5. completion, as installed
# shellcheck disable=SC2016  # expanded by the bash in the root
got=$(in_root bash --norc --noprofile -c '. /usr/share/bash-completion/completions/psi
    COMP_WORDS=(psi sub); COMP_CWORD=1; _psi_complete; echo "${COMPREPLY[*]}"')
[ "$got" = "submit" ] || fail "the installed completion offered '$got' for 'psi sub'"
say "installed completion: 'psi sub<TAB>' -> $got"

# ---- 6. the demo from the installed programs
mkdir -p "$root/opt/psi-demo/scripts" "$root/opt/psi-demo/tests/e2e/lib"
cp "$src/scripts/demo.sh" "$root/opt/psi-demo/scripts/"
cp "$src/tests/e2e/lib/harness.bash" "$root/opt/psi-demo/tests/e2e/lib/"
cp "$scenario" "$root/opt/psi-demo/psi-scenario"
if ! in_root env PSI_SCENARIO_BIN=/opt/psi-demo/psi-scenario \
    bash /opt/psi-demo/scripts/demo.sh /usr >"$work/demo.log" 2>&1; then
    tail -n 30 "$work/demo.log" | sed 's/^/    | /' >&2
    fail "the demo failed from the installed /usr/bin/psi and /usr/bin/psi-hub"
fi
ok=$(grep '^demo: OK' "$work/demo.log") || fail "the demo did not say OK"
overlaps=$(sed -n 's/^demo: OK — \([0-9]*\) overlaps across 5 parties.*/\1/p' <<<"$ok")
if [ -z "$overlaps" ] || [ "$overlaps" -eq 0 ]; then
    fail "the demo reported no overlap count: $ok"
fi
grep -q "hub serving on tcp://127.0.0.1" "$work/demo.log" || fail "the demo's hub did not serve on loopback"
step "demo from /usr/bin in the root: $overlaps overlaps across 5 parties, as planted"

# ---- 7. purge
in_root apt-get purge -y -q psi >"$work/purge.log" 2>&1 || fail "apt-get purge psi failed: $(tail -n 3 "$work/purge.log")"
in_root id psi-hub >/dev/null 2>&1 && fail "psi-hub is still a user after the purge"
owner=$(in_root stat -c '%U' /var/lib/psi-hub)
[ "$owner" = root ] || fail "/var/lib/psi-hub is owned by $owner after the purge, not root"
step "purged: users gone, /var/lib/psi-hub kept for root"

say "OK in $(($(date +%s) - started)) s"
