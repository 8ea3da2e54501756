#!/usr/bin/env bash
# The README's commands are accepted by the programs it documents:
#
#  1. Every `psi` and `psi-hub` command line of README.md, in its ```sh code
#     blocks (continued lines joined, comments dropped) and in its inline
#     `code` spans, names a command (and subcommand) whose --help exits 0,
#     and every option it uses (--opt or --opt=VALUE) appears in that
#     command's --help. A misspelt or removed option, or a subcommand that is
#     gone, fails here with the README line.
#  2. The user guide's sequence runs for real on loopback, with the README's
#     own arguments where they are self-contained: psi-hub init with the
#     README's --name, admit, quota, serve; two agencies psi init with the
#     README's --share-with, psi policy, psi peers, psi ingest, psi submit,
#     psi agent --once, psi results (table and --json); each agency finds
#     the indicator both hold.
#
# Env (set by ctest): PSI_BIN build dir, PSI_SOURCE the source tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
harness_init readme_commands "${PSI_BIN:-$here/../../build}"
command -v python3 >/dev/null || fail "python3 is needed (scripts/setup.sh installs it)"
readme="${PSI_SOURCE:-$here/../..}/README.md"
[ -f "$readme" ] || fail "no README.md at $readme"

# ------------------------------------------------ 1. every command line parses
# One command a line: LINE-NUMBER<TAB>WORD<TAB>WORD...
python3 - "$readme" >"$WORK/commands.tsv" <<'EOF'
import re, shlex, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
out = []
in_sh = False
pending, start = "", 0
for n, line in enumerate(lines, 1):
    if line.startswith("```"):
        in_sh = (not in_sh) and line.strip() == "```sh"
        continue
    if in_sh:
        text = line
        if pending:
            text = pending + " " + text.strip()
        elif re.match(r"\s*psi(-hub)?\s", text):
            start = n
        else:
            continue
        if text.rstrip().endswith("\\"):
            pending = text.rstrip()[:-1]
            continue
        pending = ""
        # a comment starts with '#' after whitespace, outside quotes
        words = shlex.split(text, comments=True)
        out.append((start, words))
    else:
        for span in re.findall(r"`([^`]+)`", line):
            if re.match(r"psi(-hub)? [a-z]", span):
                try:
                    out.append((n, shlex.split(span)))
                except ValueError:
                    pass
for n, words in out:
    print("\t".join([str(n)] + words))
EOF
[ "$(wc -l <"$WORK/commands.tsv")" -ge 25 ] || fail "too few commands found in README.md: $(cat "$WORK/commands.tsv")"

checked=0
options=0
while IFS=$'\t' read -r -a w; do
    n=${w[0]}
    prog=${w[1]}
    case "$prog" in
    psi) bin=$PSI ;;
    psi-hub) bin=$PSI_HUB ;;
    *) continue ;;
    esac
    sub=("${w[2]}")
    # a group (psi audit, psi feed) names its subcommands in its --help
    if [ "${#w[@]}" -gt 3 ] && [[ ${w[3]} != -* ]] &&
        grep -q "^  $prog ${w[2]} ${w[3]} " <<<"$("$bin" "${w[2]}" --help 2>/dev/null)"; then
        sub+=("${w[3]}")
    fi
    "$bin" "${sub[@]}" --help >"$WORK/help.out" 2>"$WORK/help.err" ||
        fail "README.md:$n: '$prog ${sub[*]} --help' fails: $(head -n 1 "$WORK/help.err")"
    for word in "${w[@]:2}"; do
        case "$word" in
        --*)
            opt=${word%%=*}
            grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" "$WORK/help.out" ||
                fail "README.md:$n: '$prog ${sub[*]}' has no option $opt (its --help does not list it)"
            options=$((options + 1))
            ;;
        esac
    done
    checked=$((checked + 1))
done <"$WORK/commands.tsv"
say "$checked README command lines: every command exists and each of their $options options is in its --help"

# ------------------------------------------------ 2. the user guide, for real
# The README's hub name, as its first command gives it.
name=$(awk -F'\t' '$2 == "psi-hub" && $3 == "init" { for (i = 4; i < NF; i++) if ($i == "--name") { print $(i + 1); exit } }' "$WORK/commands.tsv")
[ -n "$name" ] || fail "README.md has no psi-hub init --name"
hub="$WORK/hub"
must_to "$WORK/hub.init" "$PSI_HUB" init --dir "$hub" --name "$name"
hub_key=$(tail -n 1 "$WORK/hub.init")
case "$hub_key" in "$name+"*) ;; *) fail "psi-hub init --name $name printed '$hub_key'" ;; esac
port=$(free_port)
url="tcp://127.0.0.1:$port"

# Two agencies as the README's agency section inits them: fr-ccn, ke-dci
# (ke-dci admitted --share-with fr-ccn,sg-csa, as in the operator's section).
new_agency() {
    local id=$1
    shift
    must_to "$WORK/$id.init" "$PSI" init --state "$WORK/$id" --id "$id" --hub "$url" --hub-key "$hub_key" "$@"
    tail -n 1 "$WORK/$id.init"
}
key_fr=$(new_agency fr-ccn --share-with all)
key_ke=$(new_agency ke-dci --share-with fr-ccn,sg-csa)
must "$PSI_HUB" admit --dir "$hub" --id fr-ccn --role agency --key "$key_fr" >/dev/null
must "$PSI_HUB" admit --dir "$hub" --id ke-dci --role agency --key "$key_ke" --share-with fr-ccn,sg-csa >/dev/null
must "$PSI_HUB" quota --dir "$hub" --id ke-dci --elements 200000 >/dev/null
"$PSI_HUB" serve --dir "$hub" --listen "$url" >"$WORK/logs/hub.log" 2>&1 &
HUB_PID=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$HUB_PID" 2>/dev/null || fail "psi-hub serve exited: $(tail -n 3 "$WORK/logs/hub.log")"
    sleep 0.1
done

mkdir -p "$WORK/feeds"
printf '203.0.113.7\nfr-only.example.org\n' >"$WORK/feeds/c2.txt"
printf '203[.]0.113.7\nke-only.example.net\n' >"$WORK/feeds/ke.txt"
must "$PSI" policy --state "$WORK/ke-dci" --share-with fr-ccn,sg-csa >/dev/null
must "$PSI" peers --state "$WORK/fr-ccn" >/dev/null
must_to "$WORK/ingest.out" "$PSI" ingest "$WORK/feeds/c2.txt"
grep -q "203.0.113.7" "$WORK/ingest.out" || fail "psi ingest did not list 203.0.113.7"
must "$PSI" submit --state "$WORK/fr-ccn" "$WORK/feeds/c2.txt" >/dev/null
must "$PSI" submit --state "$WORK/ke-dci" "$WORK/feeds/ke.txt" >/dev/null
for id in fr-ccn ke-dci; do must "$PSI" agent --state "$WORK/$id" --once >/dev/null; done
must_to "$WORK/fr.json" "$PSI" results --state "$WORK/fr-ccn" --json
# The README's line, then the keys added since (epoch, seen, sources: docs/analyst.md).
grep -q '^{"type":"ipv4","value":"203.0.113.7","peers":\["ke-dci"\],"epoch":"' "$WORK/fr.json" ||
    fail "fr-ccn's results are not the README's example line: $(cat "$WORK/fr.json")"
must_to "$WORK/ke.txt" "$PSI" results --state "$WORK/ke-dci"
if ! grep -q "203.0.113.7" "$WORK/ke.txt" || ! grep -q "fr-ccn" "$WORK/ke.txt"; then
    fail "ke-dci's results do not show 203.0.113.7 held by fr-ccn: $(cat "$WORK/ke.txt")"
fi
say "the user guide's sequence ran on loopback with the README's hub name '$name': each agency found the indicator both hold"
say "OK"
