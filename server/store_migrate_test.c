/*
 * The SQLite store migrates from every earlier schema version: a store made
 * as version k (psi_store_sqlite_create_at_version), for each k, holding a
 * participant as that version kept it, opens through the registry's ops at
 * the current version with the participant intact, and every later table
 * works. So does a store of before the versions were numbered (schema
 * version 1 or 2 in meta, user_version 0). A newer store, or a file that is
 * no store, is refused with a reason and left untouched. The rows planted
 * and read here with SQL are the file as older code left it: this test is
 * of this backend, not of the contract (store_contract_test.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "scratch.h"
#include "sqlite_file.h"
#include "psi/error.h"
#include "store.h"
#include "store_sqlite.h"

struct fixture {
    char dir[256];
    char path[4096];
    const struct psi_store_ops *ops;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(test_scratch_dir(f->dir, sizeof f->dir, "store-migrate"), 0);
    char err[256];
    assert_int_equal(
        psi_store_in_dir(f->dir, "sqlite", &f->ops, f->path, sizeof f->path, err, sizeof err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_remove_tree(f->dir);
    free(f);
    return 0;
}

static void sql(const char *path, const char *statements)
{
    assert_int_equal(test_sqlite_exec(path, statements), SQLITE_OK);
}

static int user_version(const char *path)
{
    int v = test_sqlite_user_version(path);
    assert_true(v >= 0);
    return v;
}

/* A participant as every version since the first keeps one. */
static const char PLANT[] =
    "INSERT INTO meta(key, value) VALUES ('name', 'hub-m');"
    "INSERT INTO participant(id, role, public_key, share_all, contribute_only, removed,"
    " admitted_ms) VALUES ('agency-a', 'agency', zeroblob(32), 1, 0, 0, 5);";

/* Opens the store with the current code and checks it whole. */
static void check_current(struct fixture *f, int had_admit_index)
{
    struct psi_store *st = NULL;
    char err[512] = "";
    int rc = f->ops->open(f->path, &st, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "open: %s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(user_version(f->path), PSI_STORE_SQLITE_SCHEMA_VERSION);
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, f->ops, st, PSI_TXN_WRITE), 0);
    char name[64];
    assert_int_equal(f->ops->meta_get(&t, "name", name, sizeof name), 0);
    assert_string_equal(name, "hub-m");
    assert_int_equal(f->ops->meta_get(&t, "schema_version", name, sizeof name),
                     PSI_ERR_NOT_FOUND); /* user_version is the one record */
    struct psi_store_participant p;
    assert_int_equal(f->ops->participant_get(&t, "agency-a", &p), 0);
    assert_int_equal(p.share_all, 1);
    assert_int_equal(p.admit_logged, had_admit_index); /* admitted before entries were kept */
    psi_store_participant_clear(&p);
    /* the tables of every later version */
    assert_int_equal(f->ops->element_quota_set(&t, "agency-a", 10), 0);
    int granted = 0;
    assert_int_equal(f->ops->refusal_budget_take(&t, "agency-a", 1, 10, 1, &granted), 0);
    assert_int_equal(granted, 1);
    assert_int_equal(f->ops->log_entry_put(&t, 0, (const uint8_t *)"e", 1), 0);
    struct psi_store_query q;
    memset(&q, 0, sizeof q);
    snprintf(q.agency, sizeof q.agency, "agency-a");
    snprintf(q.vendor, sizeof q.vendor, "vendor-v");
    snprintf(q.epoch, sizeof q.epoch, "E1");
    q.count = 1;
    q.has_signature = 1;
    memset(q.signature, 3, sizeof q.signature);
    const uint8_t element[PSI_STORE_ELEMENT_BYTES] = {1};
    assert_int_equal(f->ops->query_add(&t, &q, element, 1), 0);
    struct psi_store_query back;
    assert_int_equal(f->ops->query_get(&t, q.id, &back, NULL, NULL, NULL), 0);
    assert_int_equal(back.has_signature, 1);
    assert_int_equal(psi_txn_commit(&t), 0);
    f->ops->close(st);
    /* a second open finds nothing to do */
    assert_int_equal(f->ops->open(f->path, &st, err, sizeof err), 0);
    f->ops->close(st);
}

static void migrates_from_every_version(void **state)
{
    struct fixture *f = *state;
    char err[256];
    for (int k = 1; k <= PSI_STORE_SQLITE_SCHEMA_VERSION; k++) {
        f->ops->destroy(f->path);
        assert_int_equal(psi_store_sqlite_create_at_version(f->path, k, err, sizeof err), 0);
        assert_int_equal(user_version(f->path), k);
        sql(f->path, PLANT);
        check_current(f, 0);
    }
}

/* Stores of before the numbered versions: SCHEMA_VERSION 1 in meta (its
 * participants without admit_index) or 2, and the tables later code added
 * on open maybe present already (here: the audit log). */
static void migrates_unnumbered_stores(void **state)
{
    struct fixture *f = *state;
    char err[256];
    for (int k = 1; k <= 2; k++) {
        f->ops->destroy(f->path);
        assert_int_equal(
            psi_store_sqlite_create_at_version(f->path, k == 1 ? 3 : 6, err, sizeof err), 0);
        if (k == 1) /* a version-1 participant table, with the log beside it */
            sql(f->path, "DROP TABLE element_quota; DROP TABLE party_share;"
                         " DROP TABLE party_policy; ALTER TABLE participant DROP COLUMN"
                         " admit_index;");
        sql(f->path, PLANT);
        sql(f->path, k == 1 ? "PRAGMA user_version = 0; INSERT INTO meta(key, value)"
                              " VALUES ('schema_version', '1');"
                            : "PRAGMA user_version = 0; INSERT INTO meta(key, value)"
                              " VALUES ('schema_version', '2');");
        check_current(f, 0);
    }
}

/* A hub of version 6 with tags (one row per tag under three strings, and a
 * second index): agency-a's four positions under agency-b's key, as the old
 * code stored them. Tag values are one byte repeated. */
static const char PLANT_V6_TAGS[] =
    "INSERT INTO participant(id, role, public_key, share_all, contribute_only, removed,"
    " admitted_ms) VALUES ('agency-b', 'agency', zeroblob(32), 1, 0, 0, 5);"
    "INSERT INTO submission(id, owner, epoch, count, position_base, digest, signature,"
    " created_ms) VALUES (1, 'agency-a', 'E1', 4, 0, zeroblob(32), zeroblob(64), 6),"
    " (2, 'agency-b', 'E1', 4, 0, zeroblob(32), zeroblob(64), 7);"
    "INSERT INTO crossblind(submission_id, blinder, count, tag_digest, signature, created_ms)"
    " VALUES (1, 'agency-b', 4, zeroblob(32), zeroblob(64), 8);"
    "INSERT INTO tag(epoch, owner, blinder, position, tag) VALUES"
    " ('E1', 'agency-a', 'agency-b', 0, x'0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a'),"
    " ('E1', 'agency-a', 'agency-b', 1, x'0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),"
    " ('E1', 'agency-a', 'agency-b', 2, x'0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c'),"
    " ('E1', 'agency-a', 'agency-b', 3, x'0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b');";

/* One party's results: its matched positions, each held by `peer` alone. */
struct positions {
    const char *peer;
    uint64_t at[8];
    size_t n;
};

static int position_one(void *ctx, uint64_t position, const char *const *peers, size_t count)
{
    struct positions *r = ctx;
    assert_int_equal(count, 1);
    assert_string_equal(peers[0], r->peer);
    assert_true(r->n < 8);
    r->at[r->n++] = position;
    return 0;
}

/* The single integer a query returns. */
static long long query_int(const char *path, const char *query)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, query, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    long long v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* Version 7 keeps tags under a pair id with one index: the old tags are
 * carried over, and a later batch joins against them as it would have. */
static void migrated_tags_still_match(void **state)
{
    struct fixture *f = *state;
    char err[512] = "";
    assert_int_equal(psi_store_sqlite_create_at_version(f->path, 6, err, sizeof err), 0);
    sql(f->path, PLANT);
    sql(f->path, PLANT_V6_TAGS);
    struct psi_store *st = NULL;
    assert_int_equal(f->ops->open(f->path, &st, err, sizeof err), 0);
    assert_int_equal(user_version(f->path), 7);

    /* agency-b's positions under agency-a's key: 0 and 2 equal a's 2 and
     * 0; 1 and 3 equal nothing of a's. */
    struct psi_store_crossblind cb;
    memset(&cb, 0, sizeof cb);
    cb.submission_id = 2;
    snprintf(cb.blinder, sizeof cb.blinder, "agency-a");
    cb.count = 4;
    uint8_t tags[4 * PSI_STORE_TAG_BYTES];
    const uint8_t values[4] = {0x0c, 0x01, 0x0a, 0x02};
    for (size_t i = 0; i < 4; i++)
        memset(tags + i * PSI_STORE_TAG_BYTES, values[i], PSI_STORE_TAG_BYTES);
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, f->ops, st, PSI_TXN_WRITE), 0);
    uint64_t matched = 0, peer_matched = 0;
    assert_int_equal(f->ops->crossblind_add(&t, &cb, tags, 9, &matched, &peer_matched), 0);
    assert_int_equal(matched, 2);
    assert_int_equal(peer_matched, 2);
    struct positions a = {"agency-b", {0}, 0}, b = {"agency-a", {0}, 0};
    assert_int_equal(f->ops->results(&t, "agency-a", "E1", 2, position_one, &a), 0);
    assert_int_equal(f->ops->results(&t, "agency-b", "E1", 2, position_one, &b), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    f->ops->close(st);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.at[0], 0);
    assert_int_equal(a.at[1], 2);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.at[0], 0);
    assert_int_equal(b.at[1], 2);
    /* all eight tags kept, under two pairs, and no second index */
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM tag"), 8);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM tag_pair"), 2);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                        " AND tbl_name = 'tag' AND sql IS NOT NULL"),
                     0);
}

static void refuses_newer_and_foreign_files(void **state)
{
    struct fixture *f = *state;
    char err[512] = "";
    struct psi_store *st = NULL;
    assert_int_equal(f->ops->create(f->path, &st, err, sizeof err), 0);
    f->ops->close(st);
    st = NULL;
    sql(f->path, "PRAGMA user_version = 99");
    assert_int_equal(f->ops->open(f->path, &st, err, sizeof err), PSI_ERR_STORE);
    assert_null(st);
    assert_non_null(strstr(err, "not a psi-hub store this version can open"));
    assert_non_null(strstr(err, "newer"));
    assert_int_equal(user_version(f->path), 99);
    f->ops->destroy(f->path);
    sql(f->path, "CREATE TABLE mine (x INTEGER)");
    err[0] = '\0';
    assert_int_equal(f->ops->open(f->path, &st, err, sizeof err), PSI_ERR_STORE);
    assert_non_null(strstr(err, "not a psi-hub store"));
    assert_int_equal(user_version(f->path), 0); /* left as it was */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrates_from_every_version, setup, teardown),
        cmocka_unit_test_setup_teardown(migrates_unnumbered_stores, setup, teardown),
        cmocka_unit_test_setup_teardown(migrated_tags_still_match, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_newer_and_foreign_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
