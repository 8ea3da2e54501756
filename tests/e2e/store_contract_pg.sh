#!/usr/bin/env bash
# The store contract suite (server/store_contract_test.c) on PostgreSQL: a
# cluster of its own, one database, PSI_STORE_BACKEND=postgresql. "A backend
# is done when the contract suite passes on it" (docs/hub.md, "The store").
#
# Env (set by ctest): PSI_BIN build dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib/harness.bash
. "$here/lib/harness.bash"
# shellcheck source=tests/e2e/lib/pg.bash
. "$here/lib/pg.bash"
harness_init store_contract_pg "${PSI_BIN:-$here/../../build}"
suite="$(cd "${PSI_BIN:-$here/../../build}" && pwd)/server/server_store_contract_test"
[ -x "$suite" ] || fail "missing $suite (build the tests first)"
pg_require
pg_up
url=$(pg_db contract)
out="$WORK/logs/contract.out"
rc=0
PSI_STORE_BACKEND=postgresql PSI_STORE_LOCATION="$url" "$suite" >"$out" 2>&1 || rc=$?
cat "$out"
[ "$rc" -eq 0 ] || fail "the contract suite failed on PostgreSQL (exit $rc)"
grep -q '\[  PASSED  \] [0-9]* test(s)' "$out" || fail "the contract suite said nothing of passing"
grep -q '\[  FAILED  \]' "$out" && fail "the contract suite failed a test"
# One skip is the backend's by design: a PostgreSQL store does not copy itself
# into a file (store.h, backup: PSI_ERR_UNSUPPORTED; pg_dump does,
# docs/operations.md). Any other skip is a failure.
others=$(grep -E '^\[  SKIPPED \] [A-Za-z_0-9]+$' "$out" | grep -v 'backup_is_a_snapshot$' || true)
[ -z "$others" ] || fail "the contract suite skipped: $others"
say "OK — $(grep -o '\[  PASSED  \] [0-9]* test(s)' "$out") of the store contract on PostgreSQL" \
    "(backup_is_a_snapshot skipped: pg_dump backs up a PostgreSQL store)"
