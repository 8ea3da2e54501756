#!/usr/bin/env bash
# The hub operator's commands, end to end: init, admit, policy, remove,
# roster, epoch, quota and serve, their refusals and exit codes (0 success, 1
# failure, 2 usage: one line, in psi's words), --help of every command psi-hub
# --help lists, and a clean stop on SIGTERM and SIGINT (exit 0).
# Needs only psi-hub: participants' verifier keys are made with `psi-hub init`
# too (a key string is a key string).
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${PSI_BIN:-$here/../../build}
HUB="$build/server/psi-hub"
[ -x "$HUB" ] || { echo "hub_lifecycle: FAIL: no $HUB (build psi_hub first)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/psi-hub-lifecycle-XXXXXX")
SERVE_PID=""
cleanup() {
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -KILL "$SERVE_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "hub_lifecycle: FAIL: $*" >&2; exit 1; }
checks=0

# expect STATUS [--err TEXT] [--out TEXT] -- CMD...: runs CMD, checks its exit
# status and that stderr / stdout contain TEXT.
expect() {
    local want=$1 err_text="" out_text=""
    shift
    while [ "$1" != "--" ]; do
        case $1 in
        --err) err_text=$2; shift 2 ;;
        --out) out_text=$2; shift 2 ;;
        *) fail "expect: bad option $1" ;;
        esac
    done
    shift
    local rc=0
    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "exit $rc (want $want) from: $* -- stderr: $(head -c 400 "$WORK/err")"
    if [ -n "$err_text" ] && ! grep -qF -- "$err_text" "$WORK/err"; then
        fail "stderr of '$*' lacks '$err_text': $(head -c 400 "$WORK/err")"
    fi
    if [ -n "$out_text" ] && ! grep -qF -- "$out_text" "$WORK/out"; then
        fail "stdout of '$*' lacks '$out_text': $(head -c 400 "$WORK/out")"
    fi
    checks=$((checks + 1))
}

# A verifier key string for ID, made by initialising a throwaway hub.
vkey() {
    "$HUB" init --dir "$WORK/keys/$1" --name "$1" | tail -n 1
}
mkdir -p "$WORK/keys"

# ---------------------------------------------------------------- usage
# A usage error is exactly one line on stderr that names what was wrong and
# where help is, nothing on stdout, exit 2 (the same voice as psi's,
# cmdline/cmdline.h).
expect_usage() {
    local want=$1 rc=0
    shift
    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "exit $rc (want 2) from: $*"
    [ -s "$WORK/out" ] && fail "output on stdout from: $*"
    [ "$(cat "$WORK/err")" = "$want" ] || fail "stderr of '$*' is not '$want': $(head -c 400 "$WORK/err")"
    checks=$((checks + 1))
}
expect_usage "psi-hub: no command given (psi-hub --help)" "$HUB"
expect_usage "psi-hub: unknown command 'frobnicate' (psi-hub --help)" "$HUB" frobnicate
expect_usage "psi-hub: unknown option '--bogus' (psi-hub --help)" "$HUB" --bogus
expect 0 --out "usage: psi-hub COMMAND" -- "$HUB" --help
[ -s "$WORK/err" ] && fail "output on stderr from: psi-hub --help"
# Every command psi-hub --help lists ("  psi-hub NAME  summary"): --help is
# its usage on stdout, nothing on stderr, exit 0; an unknown option is one line.
commands=$(sed -n 's/^  psi-hub \([a-z]*\)  .*/\1/p' "$WORK/out")
# prune and backup: tests/e2e/retention.sh
[ "$(echo "$commands" | wc -l)" -eq 10 ] || fail "psi-hub --help lists $(echo $commands), not 10 commands"
for c in $commands; do
    expect 0 --out "usage: psi-hub $c " -- "$HUB" "$c" --help
    [ -s "$WORK/err" ] && fail "output on stderr from: psi-hub $c --help"
    head -n 1 "$WORK/out" | grep -q "^usage: psi-hub $c " || fail "psi-hub $c --help does not start with its usage"
    expect_usage "psi-hub $c: unknown option '--bogus' (psi-hub $c --help)" "$HUB" "$c" --bogus
done
D="$WORK/hub"
expect_usage "psi-hub init: option '--name' is required (psi-hub init --help)" "$HUB" init --dir "$D"
expect_usage "psi-hub init: option '--dir' is required (psi-hub init --help)" "$HUB" init --name h
expect_usage "psi-hub init: option '--dir' needs a value (psi-hub init --help)" "$HUB" init --name h --dir
expect_usage "psi-hub init: option '--dir' given twice (psi-hub init --help)" "$HUB" init --name h --dir a --dir=b
expect_usage "psi-hub init: unexpected argument 'extra' (psi-hub init --help)" "$HUB" init --name h --dir "$D" extra
expect 2 --err "--epoch wants week, day or manual:LABEL" -- "$HUB" init --dir "$D" --name h --epoch month
expect 2 --err "--epoch wants" -- "$HUB" init --dir "$D" --name h --epoch "manual:a b"
expect_usage "psi-hub init: option '--threshold' wants a whole number from 2 to 1000, not '1' (psi-hub init --help)" \
    "$HUB" init --dir "$D" --name h --threshold 1
expect 2 --err "option '--threshold' wants a whole number" -- "$HUB" init --dir "$D" --name h --threshold 2x
expect 2 --err "option '--max-message-bytes' wants a whole number from 65536 to 268435456" -- \
    "$HUB" init --dir "$D" --name h --max-message-bytes 100
expect_usage "psi-hub init: the name must be 1..64 of [A-Za-z0-9._-], not 'bad name' (psi-hub init --help)" \
    "$HUB" init --dir "$D" --name "bad name"
[ ! -e "$D" ] || fail "a refused init left $D behind"

# ---------------------------------------------------------------- init
expect 0 --out "created hub test-hub" -- "$HUB" init --dir "$D" --name test-hub
last=$(tail -n 1 "$WORK/out")
[[ "$last" =~ ^test-hub\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$ ]] || fail "last line of init is not a verifier key: $last"
[ "$(stat -c %a "$D")" = 700 ] || fail "hub dir mode $(stat -c %a "$D"), want 700"
[ "$(stat -c %a "$D/hub.key")" = 600 ] || fail "hub.key mode $(stat -c %a "$D/hub.key"), want 600"
[ -f "$D/hub.db" ] || fail "no hub.db"
if command -v sqlite3 >/dev/null; then
    [ "$(sqlite3 "$D/hub.db" 'PRAGMA journal_mode')" = wal ] || fail "hub.db is not in WAL mode"
fi
expect 1 --err "exists already" -- "$HUB" init --dir "$D" --name test-hub

# ---------------------------------------------------------------- epoch
expect 0 -- "$HUB" epoch --dir "$D"
[ "$(cat "$WORK/out")" = "$(date -u +%G-W%V)" ] || fail "epoch $(cat "$WORK/out"), want $(date -u +%G-W%V)"
expect 1 --err "--set needs a hub created with --epoch manual" -- "$HUB" epoch --dir "$D" --set x
expect 1 --err "no hub in" -- "$HUB" epoch --dir "$WORK/nowhere"
M="$WORK/manual"
expect 0 -- "$HUB" init --dir "$M" --name manual-hub --epoch manual:op-1 --threshold 3
expect 0 -- "$HUB" epoch --dir "$M"
[ "$(cat "$WORK/out")" = op-1 ] || fail "manual epoch $(cat "$WORK/out"), want op-1"
expect 0 -- "$HUB" epoch --dir "$M" --set op-2
[ "$(cat "$WORK/out")" = op-2 ] || fail "epoch after --set: $(cat "$WORK/out")"
expect 0 -- "$HUB" epoch --dir "$M"
[ "$(cat "$WORK/out")" = op-2 ] || fail "epoch not kept: $(cat "$WORK/out")"
expect 2 --err "an epoch label is" -- "$HUB" epoch --dir "$M" --set "bad label"
D2="$WORK/daily"
expect 0 -- "$HUB" init --dir "$D2" --name daily-hub --epoch day
expect 0 -- "$HUB" epoch --dir "$D2"
[ "$(cat "$WORK/out")" = "$(date -u +%F)" ] || fail "day epoch $(cat "$WORK/out")"

# ---------------------------------------------------------------- admit
KA=$(vkey agency-a)
KB=$(vkey agency-b)
KV=$(vkey vendor-v)
KX=$(vkey auditor-x)
expect 0 --out "admitted agency-a (agency; receives results, shares with all)" -- \
    "$HUB" admit --dir "$D" --id agency-a --role agency --key "$KA"
expect 0 -- "$HUB" admit --dir "$D" --id agency-b --role agency --key "$KB" --share-with agency-a
expect 0 --out "contribute-only, shares with agency-a,agency-b" -- \
    "$HUB" admit --dir "$D" --id vendor-v --role vendor --key "$KV" \
    --share-with agency-a,agency-b --contribute-only
expect 0 -- "$HUB" admit --dir "$D" --id auditor-x --role auditor --key "$KX"
expect 1 --err "exists already; use psi-hub policy" -- \
    "$HUB" admit --dir "$D" --id agency-a --role agency --key "$KA"
expect 1 --err "the key is for 'agency-b', not 'agency-c'" -- \
    "$HUB" admit --dir "$D" --id agency-c --role agency --key "$KB"
expect 1 --err "not a verifier key string" -- \
    "$HUB" admit --dir "$D" --id agency-c --role agency --key "agency-c+0000+AAAA"
# agency-a's public key under another name (a valid key string: the key hash
# is SHA-256("agency-c\n" || 0x01 || key)): one key, one participant
key_b64=${KA#*+}          # NAME+HASH+BASE64: the base64 may hold + too
key_b64=${key_b64#*+}
key_hash=$({ printf 'agency-c\n'; printf '%s' "$key_b64" | base64 -d; } | sha256sum | cut -c1-8)
expect 1 --err "this key is already admitted as 'agency-a'" -- \
    "$HUB" admit --dir "$D" --id agency-c --role agency --key "agency-c+$key_hash+$key_b64"
expect 2 --err "--role must be agency, vendor or auditor" -- \
    "$HUB" admit --dir "$D" --id agency-c --role spy --key "$KA"
expect 2 --err "--share-with wants all or ID" -- \
    "$HUB" admit --dir "$D" --id agency-c --role agency --key "$KA" --share-with "a,,b"
expect 2 --err "is not a participant id" -- \
    "$HUB" admit --dir "$D" --id agency-c --role agency --key "$KA" --share-with "a,b c"
expect_usage "psi-hub admit: option '--key' is required (psi-hub admit --help)" \
    "$HUB" admit --dir "$D" --id agency-c --role agency
expect 1 --err "no hub in" -- "$HUB" admit --dir "$WORK/nowhere" --id agency-a --role agency --key "$KA"

# ---------------------------------------------------------------- roster
expect 0 -- "$HUB" roster --dir "$D"
[ "$(wc -l <"$WORK/out")" -eq 4 ] || fail "roster has $(wc -l <"$WORK/out") lines, want 4"
grep -E "^agency-b +agency +active +receives results, shares with agency-a; party: no statement; admitted at entry [0-9]+ +agency-b\+" "$WORK/out" >/dev/null ||
    fail "roster line of agency-b: $(grep agency-b "$WORK/out")"
grep -E "^auditor-x +auditor +active +audits" "$WORK/out" >/dev/null || fail "roster line of auditor-x"
grep -qF "$KV" "$WORK/out" || fail "roster does not show vendor-v's key"

# ---------------------------------------------------------------- policy
expect 0 --out "agency-b now receives results, shares with all" -- \
    "$HUB" policy --dir "$D" --id agency-b --share-with all
expect 0 --out "vendor-v now receives results, shares with agency-a,agency-b" -- \
    "$HUB" policy --dir "$D" --id vendor-v --receive
expect 0 --out "vendor-v now contribute-only, shares with agency-a" -- \
    "$HUB" policy --dir "$D" --id vendor-v --contribute-only --share-with agency-a
expect 2 --err "nothing to change" -- "$HUB" policy --dir "$D" --id vendor-v
expect 2 --err "exclude each other" -- "$HUB" policy --dir "$D" --id vendor-v --receive --contribute-only
expect 1 --err "no participant 'nobody'" -- "$HUB" policy --dir "$D" --id nobody --receive

# ---------------------------------------------------------------- remove
expect 0 --out "removed agency-b" -- "$HUB" remove --dir "$D" --id agency-b
expect 1 --err "participant 'agency-b' is already removed" -- "$HUB" remove --dir "$D" --id agency-b
expect 1 --err "no participant 'nobody'" -- "$HUB" remove --dir "$D" --id nobody
expect 1 --err "participant 'agency-b' was removed" -- "$HUB" policy --dir "$D" --id agency-b --receive
expect 1 --err "exists already" -- "$HUB" admit --dir "$D" --id agency-b --role agency --key "$KB"
expect 0 -- "$HUB" roster --dir "$D"
grep -E "^agency-b +agency +removed " "$WORK/out" >/dev/null || fail "roster does not show agency-b removed"

# ---------------------------------------------------------------- quota
expect_usage "psi-hub quota: option '--limit' is required (psi-hub quota --help)" \
    "$HUB" quota --dir "$D" --agency agency-a --vendor vendor-v
expect_usage "psi-hub quota: option '--elements' is required (psi-hub quota --help)" \
    "$HUB" quota --dir "$D" --id agency-a
expect 2 --err "are two forms; give one" -- "$HUB" quota --dir "$D" --id agency-a --limit 3
expect 2 --err "option '--elements' wants a whole number from 0 to 9223372036854775807, not '-1'" -- \
    "$HUB" quota --dir "$D" --id agency-a --elements -1
expect 0 --out "agency-a may submit 5000 elements per epoch" -- \
    "$HUB" quota --dir "$D" --id agency-a --elements=5000
expect 0 --out "agency-a may send 7 queries per epoch to vendor-v's feed" -- \
    "$HUB" quota --dir "$D" --agency agency-a --vendor vendor-v --limit 7

# ---------------------------------------------------------------- serve
expect 2 --err "--listen must be tcp://HOST:PORT" -- "$HUB" serve --dir "$D" --listen ipc:///tmp/x
expect 2 --err "option '--contexts' wants a whole number from 1 to 256, not '0'" -- \
    "$HUB" serve --dir "$D" --listen tcp://127.0.0.1:0 --contexts 0
expect_usage "psi-hub serve: option '--listen' is required (psi-hub serve --help)" "$HUB" serve --dir "$D"
expect 1 --err "cannot load the hub key" -- "$HUB" serve --dir "$WORK/nowhere" --listen tcp://127.0.0.1:0

# serve_until SIGNAL: starts the hub, waits for its line, changes the roster
# while it serves, stops it with SIGNAL and checks exit status 0.
serve_until() {
    local sig=$1 log="$WORK/serve.$1.log"
    "$HUB" serve --dir "$D" --listen tcp://127.0.0.1:0 --contexts 3 >"$log" 2>&1 &
    SERVE_PID=$!
    local i line=""
    for i in $(seq 1 100); do
        line=$(grep -m1 '^psi-hub: serving' "$log" 2>/dev/null || true)
        [ -n "$line" ] && break
        kill -0 "$SERVE_PID" 2>/dev/null || fail "serve exited early: $(cat "$log")"
        sleep 0.1
    done
    [[ "$line" =~ ^psi-hub:\ serving\ test-hub\ on\ tcp://127\.0\.0\.1:[1-9][0-9]*$ ]] ||
        fail "serving line: '$line'"
    # a second serve of the same hub is refused by its lock (tests/e2e/locks.sh);
    # another hub cannot take the same port
    local url=${line##* on }
    expect 1 --err "is served by pid $SERVE_PID" -- "$HUB" serve --dir "$D" --listen "$url"
    [ -d "$WORK/other-hub" ] || "$HUB" init --dir "$WORK/other-hub" --name other-hub >/dev/null
    expect 1 --err "cannot listen on" -- "$HUB" serve --dir "$WORK/other-hub" --listen "$url"
    # the operator's commands work beside a serving hub
    local id="late-$sig"
    expect 0 -- "$HUB" admit --dir "$D" --id "$id" --role agency --key "$(vkey "$id")"
    kill "-$sig" "$SERVE_PID"
    local rc=0
    for i in $(seq 1 100); do
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$SERVE_PID" 2>/dev/null && fail "serve still runs 10 s after SIG$sig"
    wait "$SERVE_PID" || rc=$?
    SERVE_PID=""
    [ "$rc" -eq 0 ] || fail "serve exited $rc on SIG$sig, want 0: $(tail -n 5 "$log")"
    grep -q "shutting down" "$log" || fail "serve did not say it was shutting down"
    checks=$((checks + 1))
}
serve_until TERM
serve_until INT
expect 0 -- "$HUB" roster --dir "$D"
grep -q "^late-TERM " "$WORK/out" && grep -q "^late-INT " "$WORK/out" ||
    fail "admissions made while serving are missing"

echo "hub_lifecycle: ok ($checks checks)"
