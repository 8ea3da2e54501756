#!/usr/bin/env bash
# Bash completion (packaging/completion/psi.bash) completes from the
# programs' own --help:
#   psi sub<TAB> -> submit;  psi-hub ser<TAB> -> serve;  psi audit <TAB> ->
#   the subcommands `psi audit --help` lists;  psi submit --<TAB> -> exactly
#   the options `psi submit --help` prints; an option's DIR value completes
#   directories only, a FILE value files (and directories, to go down), a
#   value written a|b|c its choices.
# Runs a bash with the completion file loaded and the built programs first
# on PATH, and asks the completion function what a TAB would offer.
#   bash_completion.sh PSI_DIR PSI_HUB_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
completion="$here/../../packaging/completion/psi.bash"
psi_dir=${1:?PSI_DIR}
hub_dir=${2:?PSI_HUB_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/fs/state-a" "$work/fs/state-b"
: >"$work/fs/stix.json"
fails=0

# offered WORD...: what TAB offers after WORD... (the last word is the one
# being completed), sorted, one line, in a fresh bash.
offered() {
    (cd "$work/fs" && PATH="$psi_dir:$hub_dir:$PATH" bash --norc --noprofile -c '
        set -u
        . "$1"; shift
        complete -p psi psi-hub >/dev/null || { echo "not registered"; exit 1; }
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
        _psi_complete
        printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " " | sed "s/ $//"' \
        bash "$completion" "$@")
}
expect() {
    local want=$1 got
    shift
    got=$(offered "$@")
    if [ "$got" = "$want" ]; then
        echo "bash_completion: '$*<TAB>' -> $got"
    else
        echo "bash_completion: FAIL: '$*<TAB>' offered '$got', not '$want'" >&2
        fails=$((fails + 1))
    fi
}
# The options a help text prints, as the completion should offer them.
help_options() {
    "$@" --help | sed -nE 's/^  (-([A-Za-z0-9]), |    )?--([a-z0-9][a-z0-9-]*).*/--\3 -\2/p' |
        tr ' ' '\n' | grep -v '^-$' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}

expect "submit" psi sub
expect "serve" psi-hub ser
expect "$(PATH="$psi_dir:$PATH" psi audit --help | sed -nE 's/^  psi audit ([a-z-]+) .*/\1/p' |
    LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" psi audit ""
expect "verify" psi audit ver
expect "$(help_options "$psi_dir/psi" submit | tr ' ' '\n' | grep '^--' | tr '\n' ' ' | sed 's/ $//')" \
    psi submit --
expect "$(help_options "$psi_dir/psi" ingest)" psi ingest -
expect "$(help_options "$hub_dir/psi-hub" serve | tr ' ' '\n' | grep '^--' | tr '\n' ' ' | sed 's/ $//')" \
    psi-hub serve --
expect "--state" psi submit --sta
expect "state-a state-b" psi submit --state st
expect "state-a state-b stix.json" psi audit verify --save st
expect "agency auditor vendor" psi-hub admit --role ""
expect "day manual: week" psi-hub init --epoch ""
expect "state-a state-b stix.json" psi submit --state state-a st

# The expectations above must not be vacuous: psi submit has a --state.
grep -q -- '--state' <<<"$(offered psi submit --)" || {
    echo "bash_completion: FAIL: 'psi submit --<TAB>' does not offer --state" >&2
    fails=$((fails + 1))
}
[ "$fails" -eq 0 ] || exit 1
echo "bash_completion: OK"
