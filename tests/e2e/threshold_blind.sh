#!/usr/bin/env bash
# The threshold leaks nothing through the side: with t = 3, whether the
# prober's one indicator is held by exactly one other party or by none must
# not change anything the prober, or a contribute-only party, is shown.
#
# The same scenario runs twice from the SAME initial state (hub directory and
# every party's state directory copied aside after init and put back before
# each run, so every key is identical): p (the prober) submits one probe
# indicator; holders h1 and h2 submit sets of the same sizes in both runs,
# and in run 1 h1's set holds the probe while in run 2 it holds another
# indicator in its place; v (a vendor, contribute-only) submits the same set
# both times. Every party's agent runs --once in the same order, twice. All
# p and v are shown (stdout and stderr of submit, agent, results,
# psi audit checkpoint and psi audit receipt) is kept, with times, dates,
# durations, and hex or base64 hashes and signatures masked (counts and the
# log's tree sizes kept), and the two transcripts must be equal byte for
# byte.
#
# Note: this needs the hub to append a MATCH entry after every cross-blind
# batch (docs/trust.md, "The log's size does not depend on matches"); a hub
# that logs MATCH only when something matched shows the prober a different
# tree size, and this test fails on it, as it must.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init threshold_blind "${PSI_BIN:-$here/../../build}"
export PSI_HUB_TIMEOUT=10

hub_init "$WORK/hub" blind-hub --threshold 3 --epoch manual:T1
party_new p agency --share-with all
party_new h1 agency --share-with all
party_new h2 agency --share-with all
party_new v vendor --share-with all --contribute-only
# The initial state, copied aside once: every run starts from these bytes.
cp -a "$WORK/hub" "$WORK/hub.initial"
cp -a "$WORK/parties" "$WORK/parties.initial"

mkdir -p "$WORK/data"
printf 'domain\tprobe-target.test\n' >"$WORK/data/p.txt"
printf 'domain\tfiller-h1-1.test\ndomain\tfiller-h1-2.test\n' >"$WORK/data/h1.base"
printf 'domain\tfiller-h2-1.test\ndomain\tfiller-h2-2.test\ndomain\tfiller-h2-3.test\n' \
    >"$WORK/data/h2.txt"
printf 'domain\tfiller-v-1.test\ndomain\tfiller-v-2.test\n' >"$WORK/data/v.txt"
# Run 1: h1 holds the probe. Run 2: the same number of indicators, not the probe.
{ cat "$WORK/data/h1.base"; printf 'domain\tprobe-target.test\n'; } >"$WORK/data/h1.run1"
{ cat "$WORK/data/h1.base"; printf 'domain\tother-than-probe.test\n'; } >"$WORK/data/h1.run2"

# Masks what differs from run to run for reasons that are not matches:
# times, dates, durations, hashes, signatures, keys. Numbers that are counts
# and tree sizes stay. Hashes and signatures go first: a base64 root ending
# in, say, "5s=" must not be read as a duration.
mask() {
    sed -E \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z?/<TIME>/g' \
        -e 's#[A-Za-z0-9+/]{20,}={0,2}#<B64>#g' \
        -e 's/\b[0-9a-fA-F]{16,}\b/<HEX>/g' \
        -e 's/[0-9]+(\.[0-9]+)? ?(ms|s|min|h)\b/<DURATION>/g' \
        -e 's/\b[0-9]{13}\b/<MS>/g'
}

# seen RUN WHO CMD...: runs CMD as WHO would, appending what WHO is shown
# (stdout, then stderr, then the exit status) to the run's transcript.
seen() {
    local run=$1 who=$2 rc=0
    shift 2
    "$@" >"$WORK/logs/seen.out" 2>"$WORK/logs/seen.err" || rc=$?
    {
        printf '== %s: %s\n' "$who" "${*##*/}" | sed -e "s#$WORK#<WORK>#g"
        sed -e "s#$WORK#<WORK>#g" "$WORK/logs/seen.out" | mask
        printf -- '-- stderr\n'
        sed -e "s#$WORK#<WORK>#g" "$WORK/logs/seen.err" | mask
        printf -- '-- exit %d\n' "$rc"
    } >>"$WORK/transcript.$run"
}

# quiet CMD...: a holder's command; it must succeed, its output is not kept.
quiet() { must "$@" >/dev/null; }

run_once() {
    local run=$1 round id
    rm -rf "$WORK/hub" "$WORK/parties"
    cp -a "$WORK/hub.initial" "$WORK/hub"
    cp -a "$WORK/parties.initial" "$WORK/parties"
    : >"$WORK/transcript.$run"
    hub_start
    seen "$run" p "$PSI" submit --state "$(party_dir p)" "$WORK/data/p.txt"
    quiet "$PSI" submit --state "$(party_dir h1)" "$WORK/data/h1.run$run"
    quiet "$PSI" submit --state "$(party_dir h2)" "$WORK/data/h2.txt"
    seen "$run" v "$PSI" submit --state "$(party_dir v)" "$WORK/data/v.txt"
    for round in 1 2; do
        for id in p h1 h2 v; do
            case $id in
            p | v) seen "$run" "$id" "$PSI" agent --state "$(party_dir "$id")" --once ;;
            *) quiet "$PSI" agent --state "$(party_dir "$id")" --once ;;
            esac
        done
    done
    for id in p v; do
        seen "$run" "$id" "$PSI" results --state "$(party_dir "$id")"
        seen "$run" "$id" "$PSI" audit receipt --state "$(party_dir "$id")"
        seen "$run" "$id" "$PSI" audit checkpoint --state "$(party_dir "$id")"
    done
    hub_stop
}

run_once 1
run_once 2
# The holder's side did differ: h1 held the probe in run 1 only (a check
# that the scenario is what it claims, not something p is shown).
grep -q probe-target "$WORK/data/h1.run1" && ! grep -q probe-target "$WORK/data/h1.run2" ||
    fail "the scenario does not differ between the runs"
if ! diff -u "$WORK/transcript.1" "$WORK/transcript.2" >"$WORK/logs/transcript.diff"; then
    printf '%s: FAIL: what the prober or the contribute-only party is shown depends on whether one other party holds the probe (- run 1: held by h1, + run 2: held by none):\n' \
        "$harness_name" >&2
    head -n 80 "$WORK/logs/transcript.diff" >&2
    exit 1
fi
say "transcripts equal ($(wc -l <"$WORK/transcript.1") lines): the prober and the contribute-only party learn nothing below the threshold"
say "PASS"
