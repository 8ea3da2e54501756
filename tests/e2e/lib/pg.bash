# PostgreSQL for the e2e tests of the PostgreSQL store: a cluster of the
# test's own (tests/support/pg_cluster.sh) in the workspace, stopped and
# removed on any exit. Sourced after harness.bash and harness_init.
#
#   pg_require               skips the test (exit 77, says why) without the
#                            server programs; setup.sh installs them
#   pg_up                    starts the cluster; sets PG_DIR
#   pg_db NAME               creates database NAME; prints its URL
#   pg_kill / pg_restart     SIGKILL every process of the cluster / start it again
#   pg_sql URL SQL           one psql query, unaligned, no headers

PG_CLUSTER="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../support" && pwd)/pg_cluster.sh"
PG_DIR=""

pg_require() {
    bash "$PG_CLUSTER" available ||
        skip "no PostgreSQL 15 server programs in /usr/lib/postgresql/15/bin (scripts/setup.sh installs postgresql-15)"
    command -v psql >/dev/null || skip "no psql (postgresql-client-15)"
}

pg_cleanup() {
    local rc=$?
    [ -z "$PG_DIR" ] || bash "$PG_CLUSTER" stop "$PG_DIR" >/dev/null 2>&1 || true
    # harness_cleanup reads the script's exit status from $?; errexit off,
    # or a failed test's status would end the trap before the clean-up.
    set +e
    (exit "$rc")
    harness_cleanup
}

pg_up() {
    # Outside $WORK: the server's user must reach it, and $WORK is 0700 root.
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/psi-pg.XXXXXX")
    rmdir "$PG_DIR"
    trap pg_cleanup EXIT
    must bash "$PG_CLUSTER" start "$PG_DIR" >/dev/null
}

pg_db() { must bash "$PG_CLUSTER" createdb "$PG_DIR" "$1"; }
pg_kill() { must bash "$PG_CLUSTER" kill "$PG_DIR" >/dev/null; }
pg_restart() { must bash "$PG_CLUSTER" restart "$PG_DIR" >/dev/null; }
pg_sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$1" -c "$2"; }
