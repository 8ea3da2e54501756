#!/usr/bin/env bash
# The systemd units (packaging/systemd) as `cmake --install` writes them:
#  - `systemd-analyze verify` accepts psi-hub.service and psi-agent@.service
#    with nothing to say (an unknown directive is only a warning to it, so any
#    output fails), their ExecStart pointed at the installed programs of a
#    DESTDIR install and MANPATH at its man pages (Documentation= is checked);
#  - the hardening the issue asks for is there, and
#    `systemd-analyze security --offline` rates each unit's exposure as OK;
#  - each unit's command line, expanded as systemd would with the shipped
#    /etc/default file, starts the installed program (a hub, and an agent of a
#    party admitted at it), and SIGTERM stops both cleanly (exit 0).
#   systemd_units.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?BUILD_DIR}" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/../e2e/lib/harness.bash"
harness_name=systemd_units
command -v systemd-analyze >/dev/null ||
    skip "SKIPPED: systemd-analyze is not installed (Debian package systemd)"

harness_workspace
root="$WORK/root"
DESTDIR="$root" cmake --install "$build" >"$WORK/logs/install.log" 2>&1 ||
    fail "cmake --install failed: $(tail -n 3 "$WORK/logs/install.log")"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
units=$(find "$root" -path '*/lib/systemd/system' -type d)
[ -n "$units" ] || fail "no lib/systemd/system in the install"
mkdir -p "$WORK/units"
for unit in psi-hub.service psi-agent@.service; do
    [ -f "$units/$unit" ] || fail "$unit is not installed"
    grep -q "^ExecStart=$prefix/bin/" "$units/$unit" ||
        fail "$unit: ExecStart does not name $prefix/bin: $(grep ExecStart "$units/$unit")"
    sed "s|^ExecStart=$prefix/|ExecStart=$root$prefix/|" "$units/$unit" >"$WORK/units/$unit"
    for directive in User= StateDirectory= NoNewPrivileges=yes ProtectSystem=strict \
        ProtectHome=yes PrivateTmp=yes 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
        Restart=on-failure PrivateDevices=yes CapabilityBoundingSet= \
        SystemCallFilter=@system-service MemoryDenyWriteExecute=yes ProtectKernelTunables=yes; do
        grep -q "^$directive" "$units/$unit" || fail "$unit lacks $directive"
    done
done
grep -q '^StateDirectory=psi-hub$' "$units/psi-hub.service" || fail "psi-hub.service: StateDirectory is not psi-hub"
grep -q '^StateDirectory=psi-agent/%i$' "$units/psi-agent@.service" ||
    fail "psi-agent@.service: StateDirectory is not psi-agent/%i"

out=$(cd "$WORK/units" && MANPATH="$root$prefix/share/man" \
    systemd-analyze verify "$WORK/units/psi-hub.service" "$WORK/units/psi-agent@.service" 2>&1) ||
    fail "systemd-analyze verify refused the units: $out"
[ -z "$out" ] || fail "systemd-analyze verify had something to say: $out"
say "systemd-analyze verify: psi-hub.service and psi-agent@.service accepted, nothing to say"
for unit in psi-hub.service psi-agent@.service; do
    exposure=$(systemd-analyze security --offline=yes --no-pager "$WORK/units/$unit" 2>&1 |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
    case "$exposure" in
    *" OK") say "systemd-analyze security: $unit exposure $exposure" ;;
    *) fail "systemd-analyze security rates $unit '${exposure:-?}', not OK" ;;
    esac
done

# ---- the units' command lines run the installed programs
# expand_exec UNIT INSTANCE: ExecStart's words into EXEC_ARGV, with the
# unit's Environment= lines and its environment files read first, "${VAR}"
# one word and "$VAR" split at white space, as systemd does.
expand_exec() {
    local file=$1 instance=$2 line word var
    local -a words
    EXEC_ARGV=()
    while IFS= read -r line; do
        case "$line" in
        Environment=*) export "${line#Environment=}" ;;
        EnvironmentFile=*)
            line=${line#EnvironmentFile=}
            line=${line#-}
            line=${line//%i/$instance}
            # The shipped files are plain KEY=VALUE lines with double quotes.
            # shellcheck disable=SC1090
            [ -f "$root$line" ] && { set -a; . "$root$line"; set +a; }
            ;;
        esac
    done <"$file"
    line=$(sed -n 's/^ExecStart=//p' "$file")
    read -r -a words <<<"${line//%i/$instance}"
    for word in "${words[@]}"; do
        if [[ $word =~ ^\$\{([A-Z_]+)\}$ ]]; then
            var=${BASH_REMATCH[1]}
            EXEC_ARGV+=("${!var}")
        elif [[ $word =~ ^\$([A-Z_]+)$ ]]; then
            var=${BASH_REMATCH[1]}
            # shellcheck disable=SC2206
            EXEC_ARGV+=(${!var})
        else
            EXEC_ARGV+=("$word")
        fi
    done
}

PSI="$root$prefix/bin/psi"
PSI_HUB="$root$prefix/bin/psi-hub"
hub_init "$WORK/hub" unit-hub >/dev/null
party_new fr-ccn agency --share-with all
# The hub's unit, with the hub's directory and address of this test.
expand_exec "$WORK/units/psi-hub.service" ""
[ "${EXEC_ARGV[0]}" = "$PSI_HUB" ] || fail "psi-hub.service runs ${EXEC_ARGV[0]}"
[ "${EXEC_ARGV[*]:1:5}" = "serve --dir /var/lib/psi-hub/hub --listen tcp://127.0.0.1:7000" ] ||
    fail "psi-hub.service's command line is '${EXEC_ARGV[*]}'"
# Configured as an operator would: in the installed /etc/default/psi-hub.
sysconf=$(sed -n 's/^EnvironmentFile=-\(.*\)\/default\/psi-hub$/\1/p' "$WORK/units/psi-hub.service")
[ -f "$root$sysconf/default/psi-hub" ] || fail "$sysconf/default/psi-hub is not installed"
printf 'PSI_HUB_LISTEN=%s\nPSI_HUB_OPTIONS="--contexts 4 --no-notify"\n' "$HUB_URL" \
    >>"$root$sysconf/default/psi-hub"
expand_exec "$WORK/units/psi-hub.service" ""
[ "${EXEC_ARGV[*]:4}" = "--listen $HUB_URL --contexts 4 --no-notify" ] ||
    fail "/etc/default/psi-hub did not reach the command line: '${EXEC_ARGV[*]}'"
# The hub's directory is fixed (/var/lib/psi-hub/hub): this test's instead.
EXEC_ARGV[3]=$HUB_DIR
"${EXEC_ARGV[@]}" >"$WORK/logs/hub.log" 2>&1 &
HUB_PID=$!
for _ in $(seq 200); do
    grep -q 'psi-hub: serving' "$WORK/logs/hub.log" && break
    kill -0 "$HUB_PID" 2>/dev/null || fail "the hub's unit command exited: $(tail -n 2 "$WORK/logs/hub.log")"
    sleep 0.05
done
grep -q 'psi-hub: serving' "$WORK/logs/hub.log" || fail "the hub's unit command did not serve within 10 s"
say "psi-hub.service's command line serves: ${EXEC_ARGV[*]}"

# An agent instance whose state directory is this test's party.
mkdir -p "$WORK/var"
ln -s "$(party_dir fr-ccn)" "$WORK/var/fr-ccn"
expand_exec "$WORK/units/psi-agent@.service" fr-ccn
[ "${EXEC_ARGV[*]:1:3}" = "agent --state /var/lib/psi-agent/fr-ccn" ] ||
    fail "psi-agent@fr-ccn.service's command line is '${EXEC_ARGV[*]}'"
EXEC_ARGV[3]="$WORK/var/fr-ccn"
"${EXEC_ARGV[@]}" >"$WORK/logs/agent.log" 2>&1 &
agent=$!
HARNESS_PIDS+=("$agent")
sleep 2
kill -0 "$agent" 2>/dev/null || fail "the agent's unit command exited: $(tail -n 2 "$WORK/logs/agent.log")"
kill -TERM "$agent"
rc=0
wait "$agent" || rc=$?
[ "$rc" -eq 0 ] || fail "psi agent exited $rc on SIGTERM (expected 0): $(tail -n 2 "$WORK/logs/agent.log")"
say "psi-agent@fr-ccn.service's command line runs the agent; SIGTERM stopped it (exit 0)"
hub_stop
say "SIGTERM stopped the hub (exit 0)"
echo "systemd_units: OK"
