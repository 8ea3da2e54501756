#!/usr/bin/env bash
# `psi ingest` end to end on the repository's own fixture files
# (tests/fixtures/ioc: a text list, a hash list, a STIX bundle, a MISP event):
# what it prints (text and --json), its summary, its exit statuses and
# one-line errors. Needs only the psi binary (not the hub). Counts are those
# derived by hand in psi/ioc/ioc_reader_test.c. The same on the real published
# files of ../shared is tests/e2e/ingest_shared.sh.
#
# Env (set by ctest): PSI_BIN build dir, PSI_SOURCE source dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${PSI_BIN:-$here/../../build}
DATA="${PSI_SOURCE:-$here/../..}/tests/fixtures/ioc"
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
# shellcheck source=tests/e2e/lib/ingest.bash
. "$here/lib/ingest.bash"
harness_init_psi_only ingest "$build"
[ -d "$DATA" ] || fail "missing fixture folder $DATA"

# ---- help and usage errors
ingest_run 0 --help
grep -q '^usage: psi ingest' "$WORK/out" || fail "--help does not print the usage"
grep -q 'Exit status' "$WORK/out" || fail "--help does not describe exit statuses"
ingest_run 2
grep -q 'no FILE given' "$WORK/err" || fail "no file: wrong message: $(cat "$WORK/err")"
ingest_run 2 --bogus x
grep -q "unknown option '--bogus'" "$WORK/err" || fail "unknown option: $(cat "$WORK/err")"
ingest_run 2 --format yaml x
grep -q "unknown format 'yaml'" "$WORK/err" || fail "bad format: $(cat "$WORK/err")"
ingest_run 2 --format
grep -qF "psi ingest: option '--format' needs a value (psi ingest --help)" "$WORK/err" || fail "missing value: $(cat "$WORK/err")"
ingest_run 2 --column 0 x.csv
ingest_run 2 --format stix --column 2 x.json
grep -q -- "--column applies to CSV input" "$WORK/err" || fail "--column on STIX: $(cat "$WORK/err")"

# ---- a text file with fanged and defanged forms of one address
ingest_run 0 "$DATA/campaign-notes.txt"
expect_lines "$WORK/out" 7
expect_line "$WORK/out" $'ipv4\t203.0.113.45'
expect_line "$WORK/out" $'url\thttps://login-portal.example.net/owa/auth.php'
expect_line "$WORK/out" $'email\tmail@invoice-desk.example.com'
expect_line "$WORK/out" $'sha256\t9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'
[ "$(head -n 1 "$WORK/out")" = $'ipv4\t203.0.113.45' ] || fail "first line is not the first indicator of the file"
grep -q '[][]' "$WORK/out" && fail "defanged brackets left in the output"
expect_line "$WORK/err" "psi ingest: 1 file: 12 read, 7 kept, 1 duplicates, 4 skipped (unsupported 2, reserved 1, filename 1)"
# every line is TYPE<TAB>VALUE with a known type
awk -F '\t' 'NF != 2 || $1 !~ /^(ipv4|ipv6|cidr4|cidr6|domain|email|url|md5|sha1|sha256|sha512)$/ { bad = 1 }
             END { exit bad }' "$WORK/out" || fail "a line is not TYPE<TAB>VALUE"

# ---- --json: one object a line, escaped by jansson
ingest_run 0 --json "$DATA/campaign-notes.txt"
expect_lines "$WORK/out" 7
expect_line "$WORK/out" '{"type":"ipv4","value":"203.0.113.45"}'
grep -vq '^{"type":"[a-z0-9]*","value":"[^"]*"}$' "$WORK/out" && fail "--json line not of the documented shape"
printf 'http://evil.com/a\\b"c\njörg@evil.com\n' >"$WORK/quote.txt"
ingest_run 0 --json "$WORK/quote.txt"
expect_line "$WORK/out" '{"type":"url","value":"http://evil.com/a\\b%22c"}'
expect_line "$WORK/out" '{"type":"email","value":"jörg@evil.com"}'

# ---- several files and formats at once, with per-file counts
# The MISP event repeats two values of the bundle, the hash list one of the
# bundle and one of its own: 6 + (9 - 2) + (3 - 1) printed.
ingest_run 0 "$DATA/bundle.stix.json" "$DATA/event.misp.json" "$DATA/beacon.sha256"
expect_lines "$WORK/out" $((6 + 7 + 2))
expect_line "$WORK/err" "psi ingest: $DATA/bundle.stix.json: 8 read, 6 kept, 0 duplicates, 2 skipped (unsupported 2)"
expect_line "$WORK/err" "psi ingest: $DATA/event.misp.json: 12 read, 7 kept, 2 duplicates, 3 skipped (unsupported 3)"
expect_line "$WORK/err" "psi ingest: $DATA/beacon.sha256: 4 read, 2 kept, 2 duplicates, 0 skipped"
expect_line "$WORK/err" "psi ingest: 3 files: 24 read, 15 kept, 4 duplicates, 5 skipped (unsupported 5)"
grep -q 'unsupported kinds:.*stix:process:command_line 1' "$WORK/err" || fail "unsupported STIX kinds not named"
grep -q 'misp:regkey|value 1' "$WORK/err" || fail "unsupported MISP kinds not named"
expect_line "$WORK/out" $'domain\trelay.example.org'
expect_line "$WORK/out" $'ipv4\t198.51.100.25'

# ---- the same file twice: everything the second time is a duplicate
ingest_run 0 -q "$DATA/beacon.sha256" "$DATA/beacon.sha256"
expect_lines "$WORK/out" 3
[ -s "$WORK/err" ] && fail "-q still printed: $(cat "$WORK/err")"

# ---- standard input, skipped values and their reasons
printf '%s\n' '# list' 'hxxps://Evil[.]com:443/Path#x' '10.0.0.1' 'localhost' '010.1.1.1' \
    'update.exe' 'faß.de' '2001:DB8:0:0::1' 'Cobalt Strike' >"$WORK/in.txt"
ingest_run 0 - <"$WORK/in.txt"
expect_line "$WORK/out" $'url\thttps://evil.com/Path'
expect_line "$WORK/out" $'domain\txn--fa-hia.de'
expect_line "$WORK/out" $'ipv6\t2001:db8::1'
expect_lines "$WORK/out" 3
expect_line "$WORK/err" "psi ingest: 1 file: 8 read, 3 kept, 0 duplicates, 5 skipped (unsupported 1, reserved 1, generic 1, ambiguous 1, filename 1)"

# ---- CSV with a column chosen by name and by number
printf 'when,host,note\n2024-01-01,"evil[.]com","a, b"\n2024-01-02,1.2.3.4,x\n' >"$WORK/f.csv"
ingest_run 0 --column host "$WORK/f.csv"
expect_lines "$WORK/out" 2
expect_line "$WORK/out" $'domain\tevil.com'
ingest_run 0 --format csv --column 3 "$WORK/f.csv"
expect_lines "$WORK/out" 0
ingest_run 1 --column nope "$WORK/f.csv"
expect_line "$WORK/err" "psi ingest: $WORK/f.csv:1: no column named 'nope'"

# ---- malformed files: one line FILE:LINE: what, exit 1, nothing printed
printf '{\n "type": "bundle",\n "objects": [\n  {"type": "indicator",}\n ]\n}\n' >"$WORK/bad.json"
ingest_run 1 "$DATA/campaign-notes.txt" "$WORK/bad.json"
expect_line "$WORK/err" "psi ingest: $WORK/bad.json:4: JSON: string or '}' expected near '}'"
[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "an error takes more than one line: $(cat "$WORK/err")"
[ -s "$WORK/out" ] && fail "a failed run printed a set"
printf 'ioc\n"evil.com\n' >"$WORK/bad.csv"
ingest_run 1 "$WORK/bad.csv"
expect_line "$WORK/err" "psi ingest: $WORK/bad.csv:2: quoted field is never closed"
printf 'a\0b\n' >"$WORK/bin.txt"
ingest_run 1 "$WORK/bin.txt"
expect_line "$WORK/err" "psi ingest: $WORK/bin.txt:1: NUL byte: this is not a text file"
ingest_run 1 "$WORK/missing.txt"
expect_line "$WORK/err" "psi ingest: $WORK/missing.txt: No such file or directory"
ingest_run 1 --format misp "$DATA/bundle.stix.json"
grep -q 'no "Event", "response" or "Attribute"' "$WORK/err" || fail "STIX read as MISP: $(cat "$WORK/err")"

# ---- --format auto says how it read each file (stderr: stdout stays the set)
ingest_run 0 "$DATA/event.misp.json" "$DATA/bundle.stix.json" "$DATA/campaign-notes.txt"
expect_line "$WORK/err" "psi ingest: $DATA/event.misp.json: read as a MISP event (auto)"
expect_line "$WORK/err" "psi ingest: $DATA/bundle.stix.json: read as a STIX 2 bundle (auto)"
expect_line "$WORK/err" "psi ingest: $DATA/campaign-notes.txt: read as text (auto)"
grep -q 'read as' "$WORK/out" && fail "a format note went to stdout"
ingest_run 0 --format misp "$DATA/event.misp.json"
grep -q 'read as' "$WORK/err" && fail "a note for a format that was given: $(cat "$WORK/err")"

# ---- STIX cyber-observables (an OpenCTI-style export with no indicator):
# exactly the indicators of the same values given as patterns
ingest_run 0 "$DATA/opencti-observables.stix.json"
cp "$WORK/out" "$WORK/observables.out"
expect_lines "$WORK/out" 8
expect_line "$WORK/out" $'ipv6\t2001:db8::bad:1'
expect_line "$WORK/out" $'md5\t5d41402abc4b2a76b9719d911017c592'
expect_line "$WORK/err" "psi ingest: 1 file: 9 read, 8 kept, 0 duplicates, 1 skipped (generic 1)"
ingest_run 0 "$DATA/opencti-patterns.stix.json"
cmp -s "$WORK/out" "$WORK/observables.out" || fail "observables and patterns of the same values differ"
# a bundle with nothing to read is an error, not "0 read"
printf '{"type":"bundle","objects":[{"type":"identity","name":"x"},{"type":"report","name":"y"}]}\n' >"$WORK/reports.json"
ingest_run 1 "$WORK/reports.json"
expect_line "$WORK/err" "psi ingest: $WORK/reports.json: nothing to read: no indicator, cyber-observable or observed-data in this STIX bundle (2 objects of other types)"

# ---- a file that is not the --format given is refused, naming what it is
ingest_run 1 --format csv "$DATA/event.misp.json"
expect_line "$WORK/err" "psi ingest: $DATA/event.misp.json: this is a MISP event (JSON), not CSV; read it as misp (or auto)"
ingest_run 1 --format text "$DATA/bundle.stix.json"
expect_line "$WORK/err" "psi ingest: $DATA/bundle.stix.json: this is a STIX 2 bundle (JSON), not text; read it as stix (or auto)"
[ -s "$WORK/out" ] && fail "a refused file printed a set"
ingest_run 1 --format stix "$DATA/campaign-notes.txt"
expect_line "$WORK/err" "psi ingest: $DATA/campaign-notes.txt: not JSON, so not a STIX 2 bundle; read it as text or csv (or auto)"

# ---- MISP to_ids: honoured by default, --all-attributes reads the rest
cat >"$WORK/toids.json" <<'EOF_MISP'
{"Event": {"uuid": "5e1f0000-0000-4000-8000-00000000e001", "Attribute": [
 {"uuid": "a0000000-0000-4000-8000-000000000001", "type": "domain", "to_ids": true, "value": "c2.example.com"},
 {"uuid": "a0000000-0000-4000-8000-000000000002", "type": "domain", "to_ids": false, "value": "news.example.com"},
 {"uuid": "a0000000-0000-4000-8000-000000000003", "type": "link", "to_ids": false, "value": "https://report.example.com/"}]}}
EOF_MISP
ingest_run 0 "$WORK/toids.json"
expect_lines "$WORK/out" 1
expect_line "$WORK/err" "psi ingest: 1 file: 3 read, 1 kept, 0 duplicates, 2 skipped (unsupported 1, not-for-detection 1)"
expect_line "$WORK/err" "psi ingest: 1 MISP value not meant for detection (to_ids false) left out; --all-attributes reads them"
ingest_run 0 --all-attributes "$WORK/toids.json"
expect_lines "$WORK/out" 2
expect_line "$WORK/out" $'domain\tnews.example.com'

# ---- public suffixes are generic as domain indicators (rules version 2)
printf 'co.uk\ngithub.io\nexample.co.uk\nevil.github.io\nhttps://s3.amazonaws.com/b/x.exe\n' >"$WORK/psl.txt"
ingest_run 0 "$WORK/psl.txt"
expect_lines "$WORK/out" 3
expect_line "$WORK/out" $'domain\texample.co.uk'
expect_line "$WORK/err" "psi ingest: 1 file: 5 read, 3 kept, 0 duplicates, 2 skipped (generic 2)"

# ---- --exclude: the party's own values and ranges are skipped as excluded
printf '# ours\n198.51.100.0/24\nrelay.example.org   # our relay\n2001:db8::/32\n' >"$WORK/exclude.txt"
ingest_run 0 --exclude "$WORK/exclude.txt" "$DATA/event.misp.json" "$DATA/campaign-notes.txt"
expect_line "$WORK/err" "psi ingest: $DATA/event.misp.json: 12 read, 5 kept, 0 duplicates, 7 skipped (unsupported 3, excluded 4)"
grep -q '198\.51\.100\.' "$WORK/out" && fail "an excluded range was kept"
grep -q $'^ipv6\t2001:db8' "$WORK/out" && fail "an excluded IPv6 range was kept"
expect_line "$WORK/out" $'url\thttps://relay.example.org/Gate.php?id=7'
printf 'evil.example.com\nupdate.exe\n' >"$WORK/bad-exclude.txt"
ingest_run 1 --exclude "$WORK/bad-exclude.txt" "$DATA/event.misp.json"
expect_line "$WORK/err" "psi ingest: $WORK/bad-exclude.txt:2: 'update.exe' is no indicator or address range (filename)"
ingest_run 1 --exclude "$WORK/none.txt" "$DATA/event.misp.json"
expect_line "$WORK/err" "psi ingest: $WORK/none.txt: No such file or directory"

# ---- --explain: every skipped value, with where and why (stderr), as text
# or JSON; the set on stdout is unchanged
ingest_run 0 --explain "$DATA/campaign-notes.txt" "$WORK/toids.json"
expect_lines "$WORK/out" 8
expect_line "$WORK/err" "psi ingest: $DATA/campaign-notes.txt:12: skipped reserved: 10.20.30.40"
expect_line "$WORK/err" "psi ingest: $DATA/campaign-notes.txt:17: skipped filename: dropper.exe"
expect_line "$WORK/err" "psi ingest: $DATA/campaign-notes.txt:5: skipped unsupported: Network indicators:"
expect_line "$WORK/err" "psi ingest: $WORK/toids.json: \$.Event.Attribute[1]: skipped not-for-detection: news.example.com"
expect_line "$WORK/err" "psi ingest: $WORK/toids.json: \$.Event.Attribute[2]: skipped unsupported (misp:link): https://report.example.com/"
[ "$(grep -c ': skipped ' "$WORK/err")" -eq 6 ] || fail "--explain: not one line per skipped value: $(cat "$WORK/err")"
ingest_run 0 --explain --json "$WORK/toids.json"
expect_line "$WORK/err" '{"file":"'"$WORK"'/toids.json","path":"$.Event.Attribute[1]","event":"5e1f0000-0000-4000-8000-00000000e001","object":"a0000000-0000-4000-8000-000000000002","reason":"not-for-detection","value":"news.example.com"}'
expect_line "$WORK/out" '{"type":"domain","value":"c2.example.com"}'
printf 'a\tb\\c\xff\n' >"$WORK/odd.txt"
ingest_run 0 --explain "$WORK/odd.txt"
expect_line "$WORK/err" "psi ingest: $WORK/odd.txt:1: skipped unsupported: a\x09b\\\\c\xff"
# bounded: at most 1000 a reason listed, the rest counted
awk 'BEGIN { for (i = 0; i < 1500; i++) printf "10.0.%d.%d\n", i / 250, i % 250 + 1 }' >"$WORK/many.txt"
ingest_run 0 --explain -q "$WORK/many.txt"
[ "$(grep -c ': skipped reserved: ' "$WORK/err")" -eq 1000 ] || fail "--explain did not stop at 1000"
expect_line "$WORK/err" "psi ingest: --explain: 500 more skipped as reserved not listed (at most 1000 a reason are)"

# ---- every fixture file at once: the set is the union, in a stable order
ingest_union_of_all "fixture"
