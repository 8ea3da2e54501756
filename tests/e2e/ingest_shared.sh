#!/usr/bin/env bash
# `psi ingest` end to end on the real published indicator files of
# ../shared/data/ioc (beside the checkout, never in it): what it prints, its
# per-file and total counts, and the union of every file. Exits 77 (ctest:
# skipped) with one line when that folder is not there; tests/e2e/ingest.sh
# checks the same behaviour on the repository's own fixtures. Needs only the
# psi binary (not the hub). Counts are those derived by hand in
# psi/ioc/ioc_reader_test.c.
#
# Env (set by ctest): PSI_BIN build dir, PSI_SHARED shared dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${PSI_BIN:-$here/../../build}
shared=${PSI_SHARED:-$here/../../../shared}
DATA="$shared/data/ioc"
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
# shellcheck source=tests/e2e/lib/ingest.bash
. "$here/lib/ingest.bash"
harness_init_psi_only ingest_shared "$build"
[ -d "$DATA" ] || skip "no real indicator data in $DATA"

# ---- a text file with fanged and defanged forms of one address
ingest_run 0 "$DATA/unit42-text/Conti_IOCs.txt"
expect_lines "$WORK/out" 54
expect_line "$WORK/out" $'ipv4\t185.178.209.193'
expect_line "$WORK/out" $'domain\tbestarg.com'
expect_line "$WORK/out" $'sha256\t124ccbfc91951101809fb9a889faa3353f4cf352caac216e446c36be3d1056a2'
[ "$(head -n 1 "$WORK/out")" = $'ipv4\t185.178.209.193' ] || fail "first line is not the first indicator of the file"
grep -q '[][]' "$WORK/out" && fail "defanged brackets left in the output"
expect_line "$WORK/err" "psi ingest: 1 file: 55 read, 54 kept, 1 duplicates, 0 skipped"
# every line is TYPE<TAB>VALUE with a known type
awk -F '\t' 'NF != 2 || $1 !~ /^(ipv4|ipv6|cidr4|cidr6|domain|email|url|md5|sha1|sha256|sha512)$/ { bad = 1 }
             END { exit bad }' "$WORK/out" || fail "a line is not TYPE<TAB>VALUE"

# ---- several files and formats at once, with per-file counts (every MISP
# attribute: ESET publishes most with to_ids false, see below)
ingest_run 0 --all-attributes "$DATA/unit42-stix/ryuk-ransomware.json" \
    "$DATA/eset-misp/oceanlotus_oceanlotus.misp.event.json" "$DATA/unit42-text/DanaBotV4_C2s"
expect_lines "$WORK/out" $((16 + 92 + 48))
expect_line "$WORK/err" "psi ingest: $DATA/unit42-stix/ryuk-ransomware.json: 18 read, 16 kept, 0 duplicates, 2 skipped (unsupported 2)"
expect_line "$WORK/err" "psi ingest: $DATA/eset-misp/oceanlotus_oceanlotus.misp.event.json: 114 read, 92 kept, 3 duplicates, 19 skipped (unsupported 19)"
expect_line "$WORK/err" "psi ingest: 3 files: 180 read, 156 kept, 3 duplicates, 21 skipped (unsupported 21)"
grep -q 'unsupported kinds:.*stix:process:command_line 1' "$WORK/err" || fail "unsupported STIX kinds not named"
grep -q 'misp:regkey|value 3' "$WORK/err" || fail "unsupported MISP kinds not named"
expect_line "$WORK/out" $'domain\tdwarduong.com'
expect_line "$WORK/out" $'ipv4\t46.183.78.191'

# ---- MISP to_ids by default: oceanlotus publishes its 111 attributes with
# to_ids false; their 95 indicator values are left out, and said so
ingest_run 0 "$DATA/eset-misp/oceanlotus_oceanlotus.misp.event.json"
expect_lines "$WORK/out" 0
expect_line "$WORK/err" "psi ingest: $DATA/eset-misp/oceanlotus_oceanlotus.misp.event.json: read as a MISP event (auto)"
expect_line "$WORK/err" "psi ingest: 1 file: 114 read, 0 kept, 0 duplicates, 114 skipped (unsupported 19, not-for-detection 95)"
expect_line "$WORK/err" "psi ingest: 95 MISP values not meant for detection (to_ids false) left out; --all-attributes reads them"
# mozi marks 76 object attributes for detection
ingest_run 0 -q "$DATA/eset-misp/mozi_mozi.misp-event.json"
expect_lines "$WORK/out" 74

# ---- --format that does not match the content is refused, naming the format
ingest_run 1 --format csv "$DATA/eset-misp/mozi_mozi.misp-event.json"
expect_line "$WORK/err" "psi ingest: $DATA/eset-misp/mozi_mozi.misp-event.json: this is a MISP event (JSON), not CSV; read it as misp (or auto)"
ingest_run 1 --format text "$DATA/unit42-stix/trickbot.json"
expect_line "$WORK/err" "psi ingest: $DATA/unit42-stix/trickbot.json: this is a STIX 2 bundle (JSON), not text; read it as stix (or auto)"

# ---- the same file twice: everything the second time is a duplicate
ingest_run 0 -q "$DATA/eset-hashes/agrius.sha256" "$DATA/eset-hashes/agrius.sha256"
expect_lines "$WORK/out" 7
[ -s "$WORK/err" ] && fail "-q still printed: $(cat "$WORK/err")"

# ---- a malformed file after a real one: one line, exit 1, nothing printed
printf '{\n "type": "bundle",\n "objects": [\n  {"type": "indicator",}\n ]\n}\n' >"$WORK/bad.json"
ingest_run 1 "$DATA/unit42-text/DanaBotV4_C2s" "$WORK/bad.json"
expect_line "$WORK/err" "psi ingest: $WORK/bad.json:4: JSON: string or '}' expected near '}'"
[ -s "$WORK/out" ] && fail "a failed run printed a set"
ingest_run 1 --format misp "$DATA/unit42-stix/vicesociety.json"
grep -q 'no "Event", "response" or "Attribute"' "$WORK/err" || fail "STIX read as MISP: $(cat "$WORK/err")"

# ---- every shared file at once: the set is the union, in a stable order
ingest_union_of_all "shared"
