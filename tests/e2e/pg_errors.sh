#!/usr/bin/env bash
# The PostgreSQL store's refusals, each one line that says why, and nothing
# half made or overwritten:
#  1. init --store with something that is neither a backend nor a location;
#  2. init --store with a server that does not answer: the directory is not
#     left behind, and the URL's password is never printed;
#  3. init --store with a database that holds a store already: refused, and
#     that store still serves its hub;
#  4. a hub whose store.url is damaged (empty, two lines);
#  5. a hub whose database holds no store (dropped behind its back), or a
#     store of a newer schema version than this psi-hub knows; and, not a
#     refusal, an older store (version 1, before the point blocks were
#     stored uncompressed) is brought to the current version when opened.
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
# shellcheck source=tests/e2e/lib/pg.bash
. "$here/lib/pg.bash"
harness_init pg_errors "${PSI_BIN:-$here/../../build}"
pg_require

# refused OUT WHAT CMD...: CMD fails (not by a signal) and says WHAT in one line.
refused() {
    local out=$1 what=$2 rc=0
    shift 2
    "$@" >"$out" 2>&1 || rc=$?
    [ "$rc" -ne 0 ] || fail "accepted, but must be refused: $*"
    [ "$rc" -lt 128 ] || fail "died of signal $((rc - 128)): $*"
    grep -q -- "$what" "$out" || fail "refused without saying '$what': $(cat "$out")"
}

# 1.
refused "$WORK/logs/1" "wants sqlite, or a PostgreSQL location" \
    "$PSI_HUB" init --dir "$WORK/h1" --name h1 --store mysql://x/y
[ ! -e "$WORK/h1" ] || fail "a refused init left $WORK/h1"
say "init --store mysql://...: refused, nothing made"

# 2.
dead_port=$(free_port)
refused "$WORK/logs/2" "cannot connect to postgresql://psi:\*\*\*@127.0.0.1:$dead_port/hub" \
    "$PSI_HUB" init --dir "$WORK/h2" --name h2 --store "postgresql://psi:s3cret-pw@127.0.0.1:$dead_port/hub"
grep -q 's3cret-pw' "$WORK/logs/2" && fail "init printed the password: $(cat "$WORK/logs/2")"
[ ! -e "$WORK/h2" ] || fail "a failed init left $WORK/h2"
refused "$WORK/logs/2b" "cannot connect to host=127.0.0.1 port=$dead_port password=\*\*\* dbname=hub" \
    "$PSI_HUB" init --dir "$WORK/h2" --name h2 --store "host=127.0.0.1 port=$dead_port password=s3cret-pw dbname=hub"
grep -q 's3cret-pw' "$WORK/logs/2b" && fail "init printed the password: $(cat "$WORK/logs/2b")"
say "init --store with no server there: refused in one line, the password shown as ***, nothing left"

# 3.
pg_up
url=$(pg_db hub)
hub_init "$WORK/hub" pg-errors --store "$url"
refused "$WORK/logs/3" "holds a psi-hub store already" \
    "$PSI_HUB" init --dir "$WORK/h3" --name other --store "$url"
[ ! -e "$WORK/h3" ] || fail "a refused init left $WORK/h3"
must "$PSI_HUB" roster --dir "$WORK/hub" >/dev/null
[ "$(pg_sql "$url" "SELECT value FROM psi.meta WHERE key = 'name'")" = pg-errors ] ||
    fail "a refused init changed the store it was refused"
say "init --store with a database that holds a store: refused, that store untouched"

# 4.
cp "$WORK/hub/store.url" "$WORK/store.url.good"
: >"$WORK/hub/store.url"
refused "$WORK/logs/4a" "does not hold one store location" "$PSI_HUB" roster --dir "$WORK/hub"
printf '%s\n%s\n' "$url" "$url" >"$WORK/hub/store.url"
refused "$WORK/logs/4b" "does not hold one store location" "$PSI_HUB" roster --dir "$WORK/hub"
cp "$WORK/store.url.good" "$WORK/hub/store.url"
must "$PSI_HUB" roster --dir "$WORK/hub" >/dev/null
say "a damaged store.url: refused in one line"

# 5.
pg_sql "$url" "INSERT INTO psi.schema_version VALUES (99, 'from the future')" >/dev/null
refused "$WORK/logs/5a" "schema version 99 is newer than" "$PSI_HUB" roster --dir "$WORK/hub"
refused "$WORK/logs/5b" "schema version 99 is newer than" \
    "$PSI_HUB" serve --dir "$WORK/hub" --listen "tcp://127.0.0.1:$(free_port)"
pg_sql "$url" "DELETE FROM psi.schema_version WHERE version = 99" >/dev/null
must "$PSI_HUB" roster --dir "$WORK/hub" >/dev/null
storage() { # TABLE COLUMN: its attstorage (e: external, x: extended)
    pg_sql "$url" "SELECT attstorage FROM pg_attribute
        WHERE attrelid = 'psi.$1'::regclass AND attname = '$2'"
}
[ "$(storage element_block elements)" = e ] || fail "a new store's elements are not stored uncompressed"
pg_sql "$url" "DELETE FROM psi.schema_version WHERE version = 2;
    ALTER TABLE psi.element_block ALTER COLUMN elements SET STORAGE EXTENDED" >/dev/null
must "$PSI_HUB" roster --dir "$WORK/hub" >/dev/null
[ "$(pg_sql "$url" "SELECT max(version) FROM psi.schema_version")" = 2 ] ||
    fail "a version-1 store was not migrated when opened"
[ "$(storage element_block elements)" = e ] || fail "migration 2 did not change the elements' storage"
pg_sql "$url" "DROP SCHEMA psi CASCADE" >/dev/null
refused "$WORK/logs/5c" "holds no psi-hub store" "$PSI_HUB" roster --dir "$WORK/hub"
say "a store of a newer schema, and a database without a store: refused in one line; a version-1 store migrated"
say "OK — every refusal of the PostgreSQL store says why, and nothing is half made"
