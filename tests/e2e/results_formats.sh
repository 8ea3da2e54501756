#!/usr/bin/env bash
# psi results' formats and provenance end to end (docs/analyst.md), against a
# real psi-hub on loopback:
#
#  1. agency-a submits a MISP event (tests/fixtures/ioc/event.misp.json, with
#     an event uuid, attribute uuids and a URL holding a comma added), a STIX bundle
#     (tests/fixtures/ioc/bundle.stix.json) and a text file; agency-b and
#     agency-c submit text and CSV files that share some of those values; all run
#     their agents.
#  2. agency-a's results in every format: JSON lines keep type/value/peers
#     and add epoch, first/last seen and sources; the provenance of a value
#     from a MISP attribute names that attribute's uuid (and its event's), of
#     a value from the bundle its STIX id, of a text value its file and line;
#     CSV (RFC 4180, read back with python's csv) has exactly one row per
#     (value, peer), a value holding a comma included; the MISP event read
#     back through `psi ingest --format misp` is exactly the set of matched
#     values; two STIX exports name the same objects by the same ids, and a
#     second results run keeps first_seen.
#  3. The STIX bundle validates against the official STIX 2.1 JSON schemas
#     (python3 jsonschema, Draft 2020-12). The schemas live in ../shared:
#     without them that check is left out and, once every other check has
#     passed, the test says so in one line and exits 77 (skipped).
#
# Env (set by ctest): PSI_BIN build dir, PSI_SOURCE source dir, PSI_SHARED.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/harness.bash"
harness_init results_formats "${PSI_BIN:-$here/../../build}"
src=${PSI_SOURCE:-$here/../..}
schemas=${PSI_SHARED:-$here/../../../shared}/spec/stix2.1-schemas/schemas
command -v python3 >/dev/null || skip "python3 is not installed"

# ---------------------------------------------------------------- the files

data="$WORK/data"
mkdir -p "$data"
EVENT_UUID=5e3c6a2b-7d41-4c8e-9a1f-0b2c3d4e5f60
# The fixture with uuids: attribute i gets ...-0000000000i(i).
python3 - "$src/tests/fixtures/ioc/event.misp.json" "$data/event.misp.json" "$EVENT_UUID" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ev = doc["Event"]
ev["uuid"] = sys.argv[3]
# a value holding a comma, for the CSV's quoting
ev["Attribute"].append({"type": "url", "category": "Network activity", "to_ids": True,
                        "value": "https://evil.example/p,q?x=1"})
for i, a in enumerate(ev["Attribute"]):
    a["uuid"] = "6a0b1c2d-3e4f-4a5b-8c6d-%012d" % (i + 1)
json.dump(doc, open(sys.argv[2], "w"), indent=1)
PY
ATTR_IP=6a0b1c2d-3e4f-4a5b-8c6d-000000000001 # 198.51.100.23
cp "$src/tests/fixtures/ioc/bundle.stix.json" "$data/bundle.stix.json"
STIX_ID=indicator--11111111-2222-4333-8444-555555555501 # 203.0.113.45
{
    echo "# agency-a's own notes"
    echo "203.0.113.5"
    echo "shared.example.com"
} >"$data/a.txt"
{
    echo "198.51.100.23"
    echo "cdn-sync.example.net"
    echo "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
    echo "203.0.113.5"
    echo "203.0.113.45"
    echo "billing@invoice-desk.example.com"
    echo "b-only.example.org"
} >"$data/b.txt"
printf 'indicator,comment\n"https://evil.example/p,q?x=1","a comma, quoted"\n' >"$data/b.csv"
{
    echo "198.51.100.23"
    echo "shared.example.com"
    echo "ad0234829205b9033196ba818f7a872b"
    echo "c-only.example.org"
} >"$data/c.txt"

# The answer: (type, value, peer) of a's set also in b's or c's.
ingest_flat "$WORK/a.set" "$data/event.misp.json" "$data/bundle.stix.json" "$data/a.txt"
ingest_flat "$WORK/b.set" "$data/b.txt" "$data/b.csv"
ingest_flat "$WORK/c.set" "$data/c.txt"
{
    LC_ALL=C comm -12 "$WORK/a.set" "$WORK/b.set" | awk '{ print $0 "\tagency-b" }'
    LC_ALL=C comm -12 "$WORK/a.set" "$WORK/c.set" | awk '{ print $0 "\tagency-c" }'
} | LC_ALL=C sort >"$WORK/expected.pairs"
cut -f1,2 "$WORK/expected.pairs" | LC_ALL=C sort -u >"$WORK/expected.values"
[ "$(wc -l <"$WORK/expected.pairs")" -eq 10 ] ||
    fail "the files share $(wc -l <"$WORK/expected.pairs") (value, peer) pairs, not 10"

# ---------------------------------------------------------------- 1. the run

hub_init "$WORK/hub" results-hub --epoch manual:2026-W49
party_new agency-a agency --share-with all
party_new agency-b agency --share-with all
party_new agency-c agency --share-with all
hub_start
A=$(party_dir agency-a)
must "$PSI" submit --state "$A" "$data/event.misp.json" "$data/bundle.stix.json" \
    "$data/a.txt" >/dev/null
must "$PSI" submit --state "$(party_dir agency-b)" "$data/b.txt" "$data/b.csv" >/dev/null
must "$PSI" submit --state "$(party_dir agency-c)" "$data/c.txt" >/dev/null
for p in agency-a agency-b agency-c; do
    must "$PSI" agent --state "$(party_dir $p)" --once >"$WORK/logs/agent.$p"
done
say "three agencies submitted; agency-a's set came from a MISP event, a STIX bundle and text"

# ---------------------------------------------------------------- 2. the formats

must_to "$WORK/r.jsonl" "$PSI" results --state "$A" --json
must_to "$WORK/r2.jsonl" "$PSI" results --state "$A" --format json
python3 - "$WORK/r.jsonl" "$WORK/r2.jsonl" "$WORK/got.pairs" "$ATTR_IP" "$EVENT_UUID" \
    "$STIX_ID" "$data" <<'PY' || fail "the JSON lines are not what they must be"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
again = {(r["type"], r["value"]): r for r in (json.loads(l) for l in open(sys.argv[2]))}
attr, event, stix_id, data = sys.argv[4:8]
pairs = []
for r in rows:
    assert list(r)[:3] == ["type", "value", "peers"], list(r)
    assert r["epoch"] == "2026-W49", r
    for k in ("first_seen", "last_seen"):
        assert r[k].endswith("Z") and len(r[k]) == 24, r[k]
    assert r["sources"], r
    # a later run keeps first_seen
    assert again[(r["type"], r["value"])]["first_seen"] == r["first_seen"]
    for p in r["peers"]:
        pairs.append("%s\t%s\t%s" % (r["type"], r["value"], p))
by_value = {r["value"]: r for r in rows}
src = by_value["198.51.100.23"]["sources"][0]
assert src["misp_attribute"] == attr and src["misp_event"] == event, src
assert src["file"].endswith("event.misp.json") and src["to_ids"] is True, src
src = by_value["203.0.113.45"]["sources"][0]
assert src["stix_id"] == stix_id, src
src = by_value["203.0.113.5"]["sources"][0]
assert src["file"] == data + "/a.txt" and src["line"] == 2, src
open(sys.argv[3], "w").write("".join(sorted(p + "\n" for p in pairs)))
PY
LC_ALL=C sort -o "$WORK/got.pairs" "$WORK/got.pairs"
compare_or_fail "agency-a's (value, peer) results" "$WORK/expected.pairs" "$WORK/got.pairs"
say "JSON lines: the old keys first, epoch, first/last seen, and each value's sources"
say "provenance: 198.51.100.23 names MISP attribute $ATTR_IP of event $EVENT_UUID"

must_to "$WORK/r.csv" "$PSI" results --state "$A" --format csv
python3 - "$WORK/r.csv" "$WORK/csv.pairs" "$ATTR_IP" <<'PY' || fail "the CSV is not what it must be"
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f))
head = rows[0]
assert head[:6] == ["epoch", "type", "value", "peer", "first_seen", "last_seen"], head
assert all(len(r) == len(head) for r in rows), rows
ip = [r for r in rows[1:] if r[2] == "198.51.100.23"]
assert ip and all(sys.argv[3] in r[head.index("source_objects")] for r in ip), ip
assert any(r[2] == "https://evil.example/p,q?x=1" for r in rows[1:]), rows
open(sys.argv[2], "w").write("".join(sorted("%s\t%s\t%s\n" % (r[1], r[2], r[3]) for r in rows[1:])))
PY
LC_ALL=C sort -o "$WORK/csv.pairs" "$WORK/csv.pairs"
compare_or_fail "the CSV rows" "$WORK/expected.pairs" "$WORK/csv.pairs"
say "CSV: one row per (value, peer), a value with a comma quoted, read back by python's csv"

must_to "$WORK/r.misp.json" "$PSI" results --state "$A" --format misp
ingest_flat "$WORK/misp.values" --format misp "$WORK/r.misp.json"
compare_or_fail "the MISP export read back by psi ingest" "$WORK/expected.values" \
    "$WORK/misp.values"
python3 - "$WORK/r.misp.json" "$EVENT_UUID" <<'PY' || fail "the MISP event is not what it must be"
import json, sys
ev = json.load(open(sys.argv[1]))["Event"]
for a in ev["Attribute"]:
    tags = [t["name"] for t in a["Tag"]]
    peers = [s["Organisation"]["name"] for s in a["Sighting"]]
    assert peers and all('psi:peer="%s"' % p in tags for p in peers), a
    assert all(s["source"] == "psi" and s["type"] == "0" for s in a["Sighting"]), a
    if a["value"] == "198.51.100.23":
        assert a["type"] == "ip-dst" and a["category"] == "Network activity", a
        assert 'psi:source-event="%s"' % sys.argv[2] in tags and sys.argv[2] in a["comment"], a
    if a["value"] == "billing@invoice-desk.example.com":
        assert a["type"] == "email-src" and a["category"] == "Payload delivery", a
PY
say "MISP: the event read back by psi ingest --format misp is the set of matched values"

must_to "$WORK/s1.json" "$PSI" results --state "$A" --format stix
must_to "$WORK/s2.json" "$PSI" results --state "$A" --format stix
python3 - "$WORK/s1.json" "$WORK/s2.json" <<'PY' || fail "the STIX ids are not deterministic"
import json, sys
ids = [[o["id"] for o in json.load(open(f))["objects"]] for f in sys.argv[1:3]]
assert ids[0] == ids[1] and len(ids[0]) == len(set(ids[0])), ids
PY
say "STIX: two exports name the same objects by the same ids"

# ---------------------------------------------------------------- 3. the schemas

if [ ! -d "$schemas" ]; then
    skip "STIX schema validation: no schemas in $schemas (every other check passed)"
fi
python3 "$here/lib/stix_validate.py" "$schemas" "$WORK/s1.json" >"$WORK/logs/validate" 2>&1 || {
    sed 's/^/    | /' "$WORK/logs/validate" | head -n 30 >&2
    fail "the STIX bundle does not validate against the STIX 2.1 schemas"
}
say "STIX: $(cat "$WORK/logs/validate")"
say "ok"
