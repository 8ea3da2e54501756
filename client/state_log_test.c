/*
 * The audit log's part of the participant's state (client/state.c, the
 * section "audit log"): the trusted checkpoint and how it may move (forward
 * only, never to another root at a size already trusted, a repeat being a
 * no-op, across a reopen), and the walk over the receipts that submissions and
 * agent work stored, including a walker that stops.
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

#include "psi/error.h"
#include "client_state_fixture.h"
#include "state.h"

static int setup(void **state)
{
    return state_fixture_setup(state, "client-log");
}

static int teardown(void **state)
{
    return state_fixture_teardown(state);
}

static void root_of(unsigned char root[32], int n)
{
    memset(root, n, 32);
}

static void expect_latest(struct fixture *f, uint64_t size, int root_byte, const char *note,
                          const char *source)
{
    struct psi_state_checkpoint cp;
    unsigned char root[32];
    root_of(root, root_byte);
    assert_int_equal(psi_state_checkpoint_latest(f->st, &cp), 0);
    assert_true(cp.size == size);
    assert_memory_equal(cp.root, root, 32);
    assert_string_equal(cp.note, note);
    assert_string_equal(cp.source, source);
    assert_true(cp.seen_ms > 0);
    psi_state_checkpoint_clear(&cp);
    assert_null(cp.note);
}

static void test_checkpoints(void **state)
{
    struct fixture *f = *state;
    struct psi_state_checkpoint cp;
    unsigned char root[32];

    /* A state made before the log table: nothing trusted yet. */
    assert_int_equal(psi_state_checkpoint_latest(f->st, &cp), PSI_ERR_NOT_FOUND);
    assert_null(cp.note);

    root_of(root, 0xa0);
    assert_int_equal(psi_state_checkpoint_record(f->st, 10, root, "note 10\n", "verify"), 0);
    expect_latest(f, 10, 0xa0, "note 10\n", "verify");
    /* The same checkpoint again: nothing changes. */
    assert_int_equal(psi_state_checkpoint_record(f->st, 10, root, "note 10 again\n", "receipt"), 0);
    expect_latest(f, 10, 0xa0, "note 10\n", "verify");
    /* Another root at a trusted size: a fork, kept out. */
    root_of(root, 0xb0);
    assert_int_equal(psi_state_checkpoint_record(f->st, 10, root, "fork\n", "receipt"),
                     PSI_ERR_VERIFY);
    assert_non_null(strstr(psi_state_error(f->st), "another root"));
    /* Older than the latest: refused. */
    root_of(root, 0xc0);
    assert_int_equal(psi_state_checkpoint_record(f->st, 5, root, "old\n", "receipt"),
                     PSI_ERR_STATE);
    assert_non_null(strstr(psi_state_error(f->st), "older"));
    /* Beyond the store's integers. */
    assert_int_equal(psi_state_checkpoint_record(f->st, (uint64_t)INT64_MAX + 1, root, "x\n", "x"),
                     PSI_ERR_TOO_LARGE);
    expect_latest(f, 10, 0xa0, "note 10\n", "verify");

    /* Forward, and it stays across a reopen. */
    root_of(root, 0xd0);
    assert_int_equal(psi_state_checkpoint_record(f->st, 12, root, "note 12\n", "submission"), 0);
    psi_state_close(f->st);
    f->st = NULL;
    assert_int_equal(psi_state_open(&f->st, f->dir), 0);
    expect_latest(f, 12, 0xd0, "note 12\n", "submission");
    /* The size 10 one is still recorded: the same root is accepted, another not. */
    root_of(root, 0xa0);
    assert_int_equal(psi_state_checkpoint_record(f->st, 10, root, "note 10\n", "x"), 0);
    expect_latest(f, 12, 0xd0, "note 12\n", "submission");
}

struct walk {
    char what[4][16];
    uint64_t ids[4];
    char receipts[4][32];
    size_t n;
    int stop_after;
};

static int walker(void *ctx, const char *what, uint64_t submission_id, const char *receipt)
{
    struct walk *w = ctx;
    if (w->n < 4) {
        snprintf(w->what[w->n], sizeof w->what[w->n], "%s", what);
        w->ids[w->n] = submission_id;
        snprintf(w->receipts[w->n], sizeof w->receipts[w->n], "%s", receipt);
    }
    w->n++;
    return w->stop_after && (int)w->n >= w->stop_after ? 99 : 0;
}

static void test_receipts_walk(void **state)
{
    struct fixture *f = *state;
    struct walk w;
    memset(&w, 0, sizeof w);
    assert_int_equal(psi_state_receipts_each(f->st, walker, &w), 0);
    assert_int_equal(w.n, 0);

    /* A submission done with a receipt, one without; agent work with one. */
    unsigned char up1[16] = {1}, up2[16] = {2}, up3[16] = {3};
    struct psi_state_indicator one[] = {{(char *)"ipv4", (char *)"203.0.113.1"}};
    struct psi_state_indicator two[] = {{(char *)"ipv4", (char *)"203.0.113.2"}};
    assert_int_equal(psi_state_pending_record(f->st, up1, "E1", one, 1), 0);
    assert_int_equal(psi_state_pending_done(f->st, up1, 7, 0, "receipt-of-7"), 0);
    assert_int_equal(psi_state_pending_record(f->st, up2, "E1", two, 1), 0);
    assert_int_equal(psi_state_pending_done(f->st, up2, 8, 1, NULL), 0);
    struct psi_state_work task;
    memset(&task, 0, sizeof task);
    task.submission_id = 3;
    snprintf(task.owner, sizeof task.owner, "agency-b");
    snprintf(task.epoch, sizeof task.epoch, "E1");
    task.count = 5;
    assert_int_equal(psi_state_work_begin(f->st, &task, up3), 0);
    assert_int_equal(psi_state_work_done(f->st, 3, 1, "receipt-of-cb-3"), 0);

    assert_int_equal(psi_state_receipts_each(f->st, walker, &w), 0);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.what[0], "submission");
    assert_true(w.ids[0] == 7);
    assert_string_equal(w.receipts[0], "receipt-of-7");
    assert_string_equal(w.what[1], "crossblind");
    assert_true(w.ids[1] == 3);
    assert_string_equal(w.receipts[1], "receipt-of-cb-3");

    /* A walker that stops: its value comes back, and the state still works. */
    memset(&w, 0, sizeof w);
    w.stop_after = 1;
    assert_int_equal(psi_state_receipts_each(f->st, walker, &w), 99);
    assert_int_equal(w.n, 1);
    unsigned char root[32];
    root_of(root, 1);
    assert_int_equal(psi_state_checkpoint_record(f->st, 1, root, "n\n", "x"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receipts_walk, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
