# Shared by tests/e2e/ingest.sh (the repository's fixtures) and
# tests/e2e/ingest_shared.sh (the real files of ../shared): `psi ingest` run
# with an expected exit status, and expectations on what it printed. Sourced
# after harness.bash and harness_init_psi_only (uses PSI, WORK, fail).
#
#   ingest_run STATUS ARGS...   psi ingest ARGS, stdout in $WORK/out, stderr in $WORK/err;
#                               an exit status other than STATUS fails the test
#   expect_line FILE LINE       FILE holds exactly that line, once
#   expect_lines FILE N         FILE has N lines
#   ingest_union_of_all KIND    every file of $DATA at once: a stable set, no line twice, the
#                               summary's count that of the lines; then "ok (N KIND files, ...)"

# shellcheck disable=SC2154  # harness_name: harness.bash's
ingest_run() {
    local want=$1 rc=0
    shift
    "$PSI" ingest "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        printf '%s: FAIL: exit %d (expected %d) from: psi ingest %s\n' "$harness_name" "$rc" \
            "$want" "$*" >&2
        sed 's/^/    | /' "$WORK/err" | tail -n 20 >&2
        exit 1
    fi
}

expect_line() {
    local n
    n=$(grep -cxF -- "$2" "$1" || true)
    [ "$n" -eq 1 ] || fail "expected the line '$2' once in $(basename "$1"), found it $n times"
}

expect_lines() {
    local n
    n=$(wc -l <"$1")
    [ "$n" -eq "$2" ] || fail "expected $2 lines in $(basename "$1"), got $n"
}

ingest_union_of_all() {
    local kind=$1 files dups total
    mapfile -t files < <(find "$DATA" -type f | LC_ALL=C sort)
    ingest_run 0 "${files[@]}"
    cp "$WORK/out" "$WORK/all.1"
    ingest_run 0 "${files[@]}"
    cmp -s "$WORK/out" "$WORK/all.1" || fail "two runs over the same files print different sets"
    dups=$(sort "$WORK/out" | uniq -d | wc -l)
    [ "$dups" -eq 0 ] || fail "the printed set has $dups repeated lines"
    total=$(grep -o '^psi ingest: [0-9]* files: [0-9]* read, [0-9]* kept' "$WORK/err" | tail -n 1 |
        awk '{print $7}')
    [ "$total" -eq "$(wc -l <"$WORK/out")" ] ||
        fail "summary says $total kept, $(wc -l <"$WORK/out") printed"
    say "ok (${#files[@]} $kind files, $total indicators)"
}
