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
        cmocka_unit_test_setup_teardown(refuses_newer_and_foreign_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
