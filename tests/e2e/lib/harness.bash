# Shared by scripts/demo.sh and tests/e2e/*.sh: the binaries, a workspace that
# is removed on any exit, a hub on a free loopback port, participants, and one
# loud failure voice. Sourced, never run (ctest only picks up tests/e2e/*.sh).
#
# The scripts run under `set -o pipefail`: never `CMD | grep -q PATTERN` for
# output of more than one line (grep leaves at its first match, CMD may die of
# SIGPIPE on its next line, and the pipeline fails at random); read the whole
# output first: `grep -q PATTERN <<<"$out"`.
#
#   harness_init NAME BUILD_DIR   sets PSI, PSI_HUB, PSI_SCENARIO, WORK; installs the trap.
#                                 BUILD_DIR may be an install prefix instead (PREFIX/bin/psi
#                                 and PREFIX/bin/psi-hub); the scenario generator, a test
#                                 tool that is not installed, is then $PSI_SCENARIO_BIN
#   harness_init_psi_only NAME BUILD_DIR   the same for a test that needs only psi
#   hub_init DIR NAME [ARGS]      psi-hub init; sets HUB_DIR, HUB_KEY, HUB_URL (free port),
#                                 and HUB_MANUAL_EPOCH (the label of --epoch manual:LABEL)
#   party_new ID ROLE [ADMIT...]  psi init + psi-hub admit; state in $WORK/parties/ID; with a
#                                 manual hub epoch, the party accepts it (psi epoch --accept)
#   hub_start / hub_stop / hub_kill   serve in the background / SIGTERM / SIGKILL; hub_start
#                                 adds the options in the array HUB_SERVE_ARGS (default none);
#                                 its output is in $WORK/logs/hub.log.* (one file a start)
#   scenario_new SIZE PARTY...    a scenario with a random seed (said) in $WORK/sc
#   results_match_scenario WHAT PARTY...   the parties' results are what $WORK/sc planted
#   must CMD...                   runs CMD; on failure shows it, its output, and exits 1
#   fail MSG                      prints "NAME: FAIL: MSG" and exits 1
#   skip MSG                      prints "NAME: skipped: MSG" and exits 77 (ctest: skipped)

harness_name=harness
HUB_PID=""
WORK=""
declare -a HUB_SERVE_ARGS=()
declare -a HARNESS_PIDS=()

say() { printf '%s: %s\n' "$harness_name" "$*"; }
fail() {
    printf '%s: FAIL: %s\n' "$harness_name" "$*" >&2
    exit 1
}
# Exit status 77 is each e2e test's SKIP_RETURN_CODE (tests/CMakeLists.txt).
skip() {
    printf '%s: skipped: %s\n' "$harness_name" "$*"
    exit 77
}

# Runs a command with its output kept in $WORK/logs; on failure shows the
# command, its exit status and the end of its output, then exits.
must() {
    local log rc=0
    log=$(mktemp "$WORK/logs/cmd.XXXXXX")
    "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '%s: FAIL: exit %d from: %s\n' "$harness_name" "$rc" "$*" >&2
        sed 's/^/    | /' "$log" | tail -n 30 >&2
        exit 1
    fi
    cat "$log"
    rm -f "$log"
}

# Like must, but stdout goes to a file and only stderr is shown on failure.
must_to() {
    local out=$1 rc=0
    shift
    "$@" >"$out" 2>"$out.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '%s: FAIL: exit %d from: %s\n' "$harness_name" "$rc" "$*" >&2
        sed 's/^/    | /' "$out.err" | tail -n 30 >&2
        exit 1
    fi
    rm -f "$out.err"
}

harness_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local pid
    # Background jobs of the script (loops of psi commands): their children
    # first, then themselves, each by its id.
    for pid in "${HARNESS_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            command -v pkill >/dev/null && pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    if [ -n "$HUB_PID" ] && kill -0 "$HUB_PID" 2>/dev/null; then
        kill -TERM "$HUB_PID" 2>/dev/null || true
        local i
        for i in $(seq 50); do kill -0 "$HUB_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$HUB_PID" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    if [ "$rc" -ne 0 ] && [ -n "$WORK" ] && [ -n "${PSI_KEEP_WORK:-}" ]; then
        printf '%s: workspace kept in %s\n' "$harness_name" "$WORK" >&2
    elif [ -n "$WORK" ]; then
        rm -rf "$WORK"
    fi
    exit "$rc"
}

# harness_binaries NAME BUILD_DIR BINARY...: the name, the paths of the
# binaries and a check that each named one (PSI, PSI_HUB, PSI_SCENARIO) is
# there.
harness_binaries() {
    harness_name=$1
    local build=$2
    shift 2
    [ -d "$build" ] || fail "no build directory '$build' (run scripts/setup.sh first)"
    build=$(cd "$build" && pwd)
    if [ -x "$build/bin/psi" ] && [ ! -f "$build/CMakeCache.txt" ]; then
        PSI="$build/bin/psi"
        PSI_HUB="$build/bin/psi-hub"
        PSI_SCENARIO=${PSI_SCENARIO_BIN:-$build/bin/psi-scenario}
    else
        PSI="$build/client/psi"
        PSI_HUB="$build/server/psi-hub"
        PSI_SCENARIO="$build/tests/psi-scenario"
    fi
    local b
    for b in "$@"; do
        [ -x "${!b}" ] || fail "missing binary ${!b} (run scripts/setup.sh first)"
    done
}

# The workspace, removed on any exit (kept on failure with PSI_KEEP_WORK).
harness_workspace() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/psi-$harness_name.XXXXXX")
    mkdir -p "$WORK/logs" "$WORK/parties"
    trap harness_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

harness_init() {
    harness_binaries "$1" "$2" PSI PSI_HUB PSI_SCENARIO
    harness_workspace
}

harness_init_psi_only() {
    harness_binaries "$1" "$2" PSI
    harness_workspace
}

# A loopback port nobody listens on now, below the kernel's range of
# ephemeral ports (ip_local_port_range): a port in that range can be taken at
# any moment by an outgoing connection of another test, between this check and
# the hub's bind. A connect that is refused means free; the hub's bind is the
# real test (hub_start reports failure).
free_port() {
    local port i low=32768 span
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    [ "$low" -gt 11024 ] || fail "ephemeral ports start at $low: no room below for test ports"
    span=$((low - 1 - 10000))
    for i in $(seq 100); do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % span))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    fail "no free loopback port found in 10000-$((low - 1))"
}

hub_init() {
    HUB_DIR=$1
    local name=$2
    shift 2
    local out arg prev=""
    # A manual epoch is the operator's word: each party must accept it
    # (client/epoch_guard.h), which party_new does for the test's parties.
    HUB_MANUAL_EPOCH=""
    for arg in "$@"; do
        case "$prev:$arg" in
        --epoch:manual:*) HUB_MANUAL_EPOCH=${arg#manual:} ;;
        *:--epoch=manual:*) HUB_MANUAL_EPOCH=${arg#--epoch=manual:} ;;
        esac
        prev=$arg
    done
    out=$(must "$PSI_HUB" init --dir "$HUB_DIR" --name "$name" "$@")
    HUB_KEY=$(printf '%s\n' "$out" | tail -n 1)
    [ -n "$HUB_KEY" ] || fail "psi-hub init printed no hub key"
    HUB_PORT=$(free_port)
    HUB_URL="tcp://127.0.0.1:$HUB_PORT"
}

party_dir() { echo "$WORK/parties/$1"; }

# party_new ID ROLE [extra psi-hub admit options]
party_new() {
    local id=$1 role=$2 out key
    shift 2
    out=$(must "$PSI" init --state "$(party_dir "$id")" --id "$id" --hub "$HUB_URL" \
        --hub-key "$HUB_KEY")
    key=$(printf '%s\n' "$out" | tail -n 1)
    [ -n "$key" ] || fail "psi init printed no key for $id"
    must "$PSI_HUB" admit --dir "$HUB_DIR" --id "$id" --role "$role" --key "$key" "$@" >/dev/null
    if [ -n "${HUB_MANUAL_EPOCH:-}" ]; then
        must "$PSI" epoch --state "$(party_dir "$id")" --accept "$HUB_MANUAL_EPOCH" >/dev/null
    fi
}

# Starts psi-hub serve in the background and waits for its "serving" line.
hub_start() {
    local log="$WORK/logs/hub.log" i
    "$PSI_HUB" serve --dir "$HUB_DIR" --listen "$HUB_URL" "${HUB_SERVE_ARGS[@]}" >>"$log" 2>&1 &
    HUB_PID=$!
    for i in $(seq 200); do
        if grep -q 'psi-hub: serving' "$log" 2>/dev/null; then
            # The line is per start; forget it so a restart waits for its own.
            mv "$log" "$log.$(date +%s%N)"
            return 0
        fi
        if ! kill -0 "$HUB_PID" 2>/dev/null; then
            local rc=0
            wait "$HUB_PID" || rc=$?
            HUB_PID=""
            sed 's/^/    | /' "$log" >&2
            fail "psi-hub serve exited ($rc) before serving on $HUB_URL"
        fi
        sleep 0.05
    done
    fail "psi-hub serve did not report serving on $HUB_URL within 10 s"
}

# SIGTERM, and the hub must exit cleanly (status 0) within 10 s.
hub_stop() {
    [ -n "$HUB_PID" ] || return 0
    local i rc=0
    kill -TERM "$HUB_PID"
    for i in $(seq 100); do kill -0 "$HUB_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$HUB_PID" 2>/dev/null; then
        kill -KILL "$HUB_PID"
        fail "psi-hub did not exit within 10 s of SIGTERM"
    fi
    wait "$HUB_PID" || rc=$?
    HUB_PID=""
    [ "$rc" -eq 0 ] || fail "psi-hub exited with status $rc on SIGTERM (expected 0)"
}

# SIGKILL: the crash the store must survive.
hub_kill() {
    [ -n "$HUB_PID" ] || return 0
    kill -KILL "$HUB_PID" 2>/dev/null || true
    wait "$HUB_PID" 2>/dev/null || true
    HUB_PID=""
}

# results_flat ID OUT: ID's results as sorted "ID<TAB>type<TAB>value<TAB>peers".
results_flat() {
    local id=$1 out=$2
    must_to "$WORK/logs/results.$id.jsonl" "$PSI" results --state "$(party_dir "$id")" --json
    "$PSI_SCENARIO" --flatten "$WORK/logs/results.$id.jsonl" |
        awk -v id="$id" 'BEGIN { FS = OFS = "\t" } { print id, $0 }' | LC_ALL=C sort >"$out"
}

# ingest_flat OUT FILE...: the canonical set of the files as sorted "type<TAB>value".
ingest_flat() {
    local out=$1
    shift
    must_to "$out.raw" "$PSI" ingest "$@"
    LC_ALL=C sort -u "$out.raw" >"$out"
    rm -f "$out.raw"
}

# scenario_new SIZE PARTY...: the scenario generator's indicator files for
# the parties (SIZE indicators each) and the answer they must give, in
# $WORK/sc, from a random seed that is said (to replay a failure).
scenario_new() {
    local size=$1 seed
    shift
    seed=$((RANDOM * 32768 + RANDOM))
    # shellcheck disable=SC2034  # for the scripts that derive more from the seed
    SCENARIO_SEED=$seed
    say "scenario seed $seed: $# parties, $size indicators each"
    must "$PSI_SCENARIO" --out "$WORK/sc" --seed "$seed" --size "$size" \
        --parties "$(IFS=,; echo "$*")" >/dev/null
}

# results_match_scenario WHAT PARTY...: every party's results together
# ($WORK/actual.tsv, sorted) are exactly what the scenario of $WORK/sc
# planted ($WORK/expected.tsv), or a diff and exit.
results_match_scenario() {
    local what=$1 p
    shift
    : >"$WORK/actual.tsv"
    for p in "$@"; do
        results_flat "$p" "$WORK/r.tsv"
        cat "$WORK/r.tsv" >>"$WORK/actual.tsv"
    done
    LC_ALL=C sort -o "$WORK/actual.tsv" "$WORK/actual.tsv"
    "$PSI_SCENARIO" --flatten "$WORK/sc/expected.jsonl" | LC_ALL=C sort >"$WORK/expected.tsv"
    compare_or_fail "$what" "$WORK/expected.tsv" "$WORK/actual.tsv"
}

# compare_or_fail WHAT EXPECTED ACTUAL: equal sorted files, or a diff and exit.
compare_or_fail() {
    local what=$1 expected=$2 actual=$3
    if ! diff -u "$expected" "$actual" >"$WORK/logs/diff" 2>&1; then
        printf '%s: FAIL: %s differ from what they must be (- expected, + got):\n' \
            "$harness_name" "$what" >&2
        head -n 60 "$WORK/logs/diff" >&2
        exit 1
    fi
}
