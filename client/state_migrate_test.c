/*
 * The participant's state migrates from every earlier schema version
 * (client/state.c, numbered migrations on PRAGMA user_version): a file made
 * as version k, for each k, opens with the current code at the current
 * version, keeps what it held, and every table works. A version-1 file that
 * already has the tables the code before the numbered migrations created
 * "on first use" migrates too. A newer file, or one of no version, is
 * refused and left as it was.
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
#include <sodium.h>
#include <sqlite3.h>

#include "psi/error.h"
#include "scratch.h"
#include "sqlite_file.h"
#include "state.h"

static const struct psi_state_config config = {
    .id = "agency-m",
    .hub_url = "tcp://127.0.0.1:4433",
    .hub_key = {1, 2, 3},
    .hub_vkey = "hub+01020304+AQID",
};

static void new_dir(char *dir, size_t cap)
{
    assert_int_equal(test_scratch_dir(dir, cap, "client-migrate"), 0);
}

/* The file's own view, for what no state operation says: its version, and
 * the tables the old code made on first use (planted here as it made them). */
static void sql(const char *dir, const char *statements)
{
    char path[320];
    snprintf(path, sizeof path, "%s/state.db", dir);
    assert_int_equal(test_sqlite_exec(path, statements), SQLITE_OK);
}

static int user_version(const char *dir)
{
    char path[320];
    snprintf(path, sizeof path, "%s/state.db", dir);
    int v = test_sqlite_user_version(path);
    assert_true(v >= 0);
    return v;
}

static int count_epoch(void *ctx, const struct psi_state_epoch *e)
{
    (void)e;
    ++*(int *)ctx;
    return 0;
}

/* Everything the current schema holds works on the migrated file. */
static void check_current(const char *dir)
{
    struct psi_state *st = NULL;
    assert_int_equal(psi_state_open(&st, dir), 0);
    assert_int_equal(user_version(dir), PSI_STATE_SCHEMA_VERSION);
    struct psi_state_config cfg;
    assert_int_equal(psi_state_config_get(st, &cfg), 0);
    assert_string_equal(cfg.id, config.id);
    assert_string_equal(cfg.hub_url, config.hub_url);
    assert_memory_equal(cfg.hub_key, config.hub_key, 32);

    const unsigned char root[32] = {7};
    struct psi_state_checkpoint cp;
    assert_int_equal(psi_state_checkpoint_record(st, 3, root, "note", "test"), 0);
    assert_int_equal(psi_state_checkpoint_latest(st, &cp), 0);
    assert_int_equal(cp.size, 3);
    psi_state_checkpoint_clear(&cp);

    struct psi_state_policy p, got;
    memset(&p, 0, sizeof p);
    p.share_all = 1;
    p.issued_ms = 11;
    assert_int_equal(psi_state_policy_set(st, &p), 0);
    assert_int_equal(psi_state_policy_get(st, &got), 0);
    assert_int_equal(got.share_all, 1);
    assert_int_equal(got.issued_ms, 11);
    psi_state_policy_clear(&got);
    assert_int_equal(psi_state_peers_reviewed(st), 0);

    int epochs = 0;
    assert_int_equal(psi_state_epoch_accept(st, "E1"), 0);
    assert_int_equal(psi_state_epoch_each(st, count_epoch, &epochs), 0);
    assert_int_equal(epochs, 1);

    /* feed queries (migration 5): a batch in flight, then its answer kept */
    struct psi_state_indicator item = {"domain", "example.org"};
    struct psi_state_feed_batch b, got_b;
    memset(&b, 0, sizeof b);
    unsigned char blinds[32] = {9}, blinded[32] = {8}, out[64] = {7}, answer[64];
    b.vendor_key[0] = 1;
    b.count = 1;
    b.blinds = blinds;
    b.blinded = blinded;
    b.items = &item;
    assert_int_equal(psi_state_feed_pending_record(st, "vendor-v", "E1", &b), 0);
    assert_int_equal(psi_state_feed_pending_ticket(st, "vendor-v", "E1", 5), 0);
    assert_int_equal(psi_state_feed_pending_get(st, "vendor-v", "E1", &got_b), 0);
    assert_int_equal(got_b.query_id, 5);
    assert_memory_equal(got_b.blinds, blinds, 32);
    assert_string_equal(got_b.items[0].value, "example.org");
    psi_state_feed_batch_clear(&got_b);
    assert_int_equal(psi_state_feed_pending_done(st, "vendor-v", "E1", out), 0);
    assert_int_equal(psi_state_feed_pending_get(st, "vendor-v", "E1", &got_b), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_feed_answer_get(st, "vendor-v", "E1", b.vendor_key, "domain",
                                               "example.org", answer),
                     0);
    assert_memory_equal(answer, out, 64);

    /* provenance (migration 6): origins kept, bounded, read back with results */
    struct psi_state_origin_record rec = {"domain", "example.org", {0}};
    rec.origin.file = "event.json";
    rec.origin.event = "5e3c6a2b-0000-4000-8000-000000000001";
    rec.origin.object = "5e3c6a2b-0000-4000-8000-000000000002";
    rec.origin.to_ids = 1;
    assert_int_equal(psi_state_origins_record(st, &rec, 1), 0);
    assert_int_equal(psi_state_origins_record(st, &rec, 1), 0); /* not repeated */
    for (int i = 0; i < 20; i++) {
        rec.origin.line = (uint64_t)i + 1;
        assert_int_equal(psi_state_origins_record(st, &rec, 1), 0);
    }
    const unsigned char uid[16] = {3};
    assert_int_equal(psi_state_pending_record(st, uid, "E1", &item, 1), 0);
    assert_int_equal(psi_state_pending_done(st, uid, 1, 0, NULL), 0);
    const char *peers[] = {"peer-p"};
    const struct psi_state_match m = {0, peers, 1};
    assert_int_equal(psi_state_results_store(st, "E1", 2, &m, 1), 0);
    struct psi_state_result_list list;
    assert_int_equal(psi_state_results_get(st, "E1", &list), 0);
    assert_int_equal(list.count, 1);
    assert_int_equal(list.items[0].n_origins, PSI_STATE_ORIGINS_MAX);
    assert_string_equal(list.items[0].origins[0].object, rec.origin.object);
    assert_int_equal(list.items[0].origins[0].to_ids, 1);
    assert_null(list.items[0].origins[0].path);
    int64_t first = list.items[0].first_seen_ms[0];
    assert_true(first > 0);
    psi_state_result_list_clear(&list);
    assert_int_equal(psi_state_results_store(st, "E1", 2, &m, 1), 0);
    assert_int_equal(psi_state_results_get(st, "E1", &list), 0);
    assert_int_equal(list.items[0].first_seen_ms[0], first);
    assert_true(list.items[0].last_seen_ms[0] >= first);
    psi_state_result_list_clear(&list);
    psi_state_close(st);
    /* and opens again as it is */
    assert_int_equal(psi_state_open(&st, dir), 0);
    assert_int_equal(psi_state_checkpoint_latest(st, &cp), 0);
    psi_state_checkpoint_clear(&cp);
    psi_state_close(st);
}

static void migrates_from_every_version(void **state)
{
    (void)state;
    for (int k = 1; k <= PSI_STATE_SCHEMA_VERSION; k++) {
        char dir[256];
        new_dir(dir, sizeof dir);
        assert_int_equal(psi_state_create_at_version(dir, &config, k), 0);
        assert_int_equal(user_version(dir), k);
        check_current(dir);
        test_remove_tree(dir);
    }
}

/* Version 1 as the code before the numbered migrations left it, after it
 * had made its tables on first use (with a row in one of them). */
static void migrates_version_1_with_first_use_tables(void **state)
{
    (void)state;
    char dir[256];
    new_dir(dir, sizeof dir);
    assert_int_equal(psi_state_create_at_version(dir, &config, 1), 0);
    sql(dir, "CREATE TABLE log_checkpoints(size INTEGER PRIMARY KEY,"
             " root BLOB NOT NULL CHECK (length(root) = 32), note TEXT NOT NULL,"
             " source TEXT NOT NULL, seen_ms INTEGER NOT NULL);"
             "INSERT INTO log_checkpoints VALUES (2, zeroblob(32), 'old', 'hub', 1);"
             "CREATE TABLE epochs(label TEXT PRIMARY KEY,"
             " kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)), start_ms INTEGER NOT NULL,"
             " accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)), seq INTEGER NOT NULL,"
             " used_ms INTEGER NOT NULL);");
    struct psi_state *st = NULL;
    assert_int_equal(psi_state_open(&st, dir), 0);
    struct psi_state_checkpoint cp;
    assert_int_equal(psi_state_checkpoint_latest(st, &cp), 0);
    assert_int_equal(cp.size, 2);
    assert_string_equal(cp.note, "old");
    psi_state_checkpoint_clear(&cp);
    psi_state_close(st);
    check_current(dir);
    test_remove_tree(dir);
}

static void refuses_newer_and_unnumbered(void **state)
{
    (void)state;
    char dir[256];
    new_dir(dir, sizeof dir);
    struct psi_state *st = NULL;
    assert_int_equal(psi_state_create(&st, dir, &config), 0);
    psi_state_close(st);
    st = NULL;
    sql(dir, "PRAGMA user_version = 99");
    assert_int_equal(psi_state_open(&st, dir), PSI_ERR_UNSUPPORTED);
    assert_null(st);
    assert_int_equal(user_version(dir), 99); /* untouched */
    sql(dir, "PRAGMA user_version = 0");
    assert_int_equal(psi_state_open(&st, dir), PSI_ERR_UNSUPPORTED);
    assert_int_equal(user_version(dir), 0);
    test_remove_tree(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(migrates_from_every_version),
        cmocka_unit_test(migrates_version_1_with_first_use_tables),
        cmocka_unit_test(refuses_newer_and_unnumbered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
