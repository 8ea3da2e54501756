/*
 * Tests of the vendor agent's checks before it evaluates a feed query batch
 * (client/feed_agent.c, psi_feed_agent_check). A hostile hub is the adversary:
 * every batch here is one a hub could relay — for an agency that does not
 * exist, signed by another agency, altered after signing, unsigned, replayed
 * under a new query id, of another epoch — and the one legitimate kind, which
 * passes and is counted on the agency that signed it. The vendor's record
 * lives in DIR/feed-agent.db, so the last test reopens the agent.
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

#include "feed_agent.h"
#include "psi/error.h"
#include "psi/feed.h"
#include "scratch.h"

#define VENDOR "vendor-v"

struct agency {
    const char *id;
    unsigned char pk[32], sk[64];
};

struct world {
    char dir[256];
    struct psi_cli_session session;
    struct agency a, b, outsider;
    struct psi_feed_agent *fa;
    int lookup_fails;
    char reason[512];
};

static struct world w;

/* The known agencies: a and b; the outsider has a key but no admission. */
static int key_of(void *ctx, const char *agency, unsigned char key[32])
{
    struct world *wd = ctx;
    if (wd->lookup_fails)
        return PSI_ERR_STORE;
    const struct agency *known[2] = {&wd->a, &wd->b};
    for (size_t i = 0; i < 2; i++)
        if (strcmp(agency, known[i]->id) == 0) {
            memcpy(key, known[i]->pk, 32);
            return 0;
        }
    return PSI_ERR_NOT_FOUND;
}

static void remove_db(const char *dir)
{
    static const char *const names[] = {"feed-agent.db", "feed-agent.db-wal", "feed-agent.db-shm"};
    char path[320];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
}

static int open_agent(uint64_t per_agency, uint64_t total)
{
    struct psi_feed_agent_limits limits = {per_agency, total};
    return psi_feed_agent_open(&w.fa, &w.session, &limits, key_of, &w);
}

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    memset(&w, 0, sizeof w);
    if (test_scratch_dir(w.dir, sizeof w.dir, "feed-agent") != 0)
        return -1;
    w.session.cmd = "agent";
    w.session.dir = w.dir;
    snprintf(w.session.config.id, sizeof w.session.config.id, "%s", VENDOR);
    randombytes_buf(w.session.config.hub_key, 32);
    w.a.id = "agency-a";
    w.b.id = "agency-b";
    w.outsider.id = "ghost";
    crypto_sign_keypair(w.a.pk, w.a.sk);
    crypto_sign_keypair(w.b.pk, w.b.sk);
    crypto_sign_keypair(w.outsider.pk, w.outsider.sk);
    if (psi_feed_agent_note_announced("feed publish", w.dir, "E1") != 0)
        return -1;
    return open_agent(10, 15) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    psi_feed_agent_close(w.fa);
    test_remove_tree(w.dir);
    return 0;
}

/* A batch as the hub relays it, with its own copy of the fields. */
struct batch {
    Psi__QueryBatch msg;
    char agency[65], epoch[65];
    unsigned char elements[8 * 32];
    unsigned char signature[64];
};

/* n random elements for agency, signed by signer for vendor and epoch. */
static void make_batch(struct batch *b, uint64_t query_id, const char *agency,
                       const struct agency *signer, const char *vendor, const char *epoch, size_t n)
{
    unsigned char digest[32], statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    memset(b, 0, sizeof *b);
    assert_true(n <= 8);
    randombytes_buf(b->elements, n * 32);
    snprintf(b->agency, sizeof b->agency, "%s", agency);
    snprintf(b->epoch, sizeof b->epoch, "%s", epoch);
    assert_int_equal(psi_feed_query_digest(b->elements, n, digest), 0);
    assert_int_equal(psi_feed_query_statement(statement, sizeof statement, &len,
                                              w.session.config.hub_key, vendor, epoch, n, digest),
                     0);
    crypto_sign_detached(b->signature, NULL, statement, len, signer->sk);
    psi__query_batch__init(&b->msg);
    b->msg.query_id = query_id;
    b->msg.agency = b->agency;
    b->msg.epoch = b->epoch;
    b->msg.elements.data = b->elements;
    b->msg.elements.len = n * 32;
    b->msg.signature.data = b->signature;
    b->msg.signature.len = sizeof b->signature;
}

static enum psi_feed_verdict check(const struct batch *b, const char *hub_epoch)
{
    enum psi_feed_verdict v = PSI_FEED_EVALUATE;
    assert_int_equal(psi_feed_agent_check(w.fa, &b->msg, hub_epoch, &v, w.reason, sizeof w.reason),
                     0);
    return v;
}

static void expect_refused(const struct batch *b, const char *hub_epoch, const char *why)
{
    assert_int_equal(check(b, hub_epoch), PSI_FEED_REFUSED);
    if (!strstr(w.reason, why))
        fail_msg("reason \"%s\" lacks \"%s\"", w.reason, why);
    /* Recorded: the same batch again is not reported again. */
    assert_int_equal(check(b, hub_epoch), PSI_FEED_REFUSED_BEFORE);
}

static void legitimate_batch_passes_and_a_retry_counts_once(void **state)
{
    (void)state;
    struct batch b;
    make_batch(&b, 1, "agency-a", &w.a, VENDOR, "E1", 4);
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
    /* The same batch under the same id: a retry, not counted again. */
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
    struct batch c;
    make_batch(&c, 2, "agency-a", &w.a, VENDOR, "E1", 4);
    assert_int_equal(check(&c, "E1"), PSI_FEED_EVALUATE); /* 8 of 10 */
}

static void unknown_agency_refused(void **state)
{
    (void)state;
    struct batch b;
    make_batch(&b, 3, "ghost", &w.outsider, VENDOR, "E1", 2);
    expect_refused(&b, "E1", "ghost is not a known agency");
    make_batch(&b, 4, "no such id!", &w.outsider, VENDOR, "E1", 2);
    expect_refused(&b, "E1", "malformed batch");
}

static void forged_altered_or_unsigned_refused(void **state)
{
    (void)state;
    struct batch b;
    /* Claims agency-a, signed by agency-b. */
    make_batch(&b, 5, "agency-a", &w.b, VENDOR, "E1", 2);
    expect_refused(&b, "E1", "the signature is not agency-a's");
    /* Signed by agency-a, one element altered afterwards. */
    make_batch(&b, 6, "agency-a", &w.a, VENDOR, "E1", 2);
    b.elements[40] ^= 1;
    expect_refused(&b, "E1", "forged or altered");
    /* Signed by agency-a for another vendor. */
    make_batch(&b, 7, "agency-a", &w.a, "vendor-w", "E1", 2);
    expect_refused(&b, "E1", "the signature is not agency-a's");
    /* Elements dropped after signing: the count no longer matches. */
    make_batch(&b, 8, "agency-a", &w.a, VENDOR, "E1", 3);
    b.msg.elements.len = 64; /* two of the three elements */
    expect_refused(&b, "E1", "forged or altered");
    /* No signature at all (a store row written by hand). */
    make_batch(&b, 9, "agency-a", &w.a, VENDOR, "E1", 2);
    b.msg.signature.len = 0;
    expect_refused(&b, "E1", "carries no signature of agency-a");
    /* Not a whole number of elements, or none. */
    make_batch(&b, 10, "agency-a", &w.a, VENDOR, "E1", 2);
    b.msg.elements.len = 33;
    expect_refused(&b, "E1", "malformed batch");
    make_batch(&b, 11, "agency-a", &w.a, VENDOR, "E1", 2);
    b.msg.elements.len = 0;
    expect_refused(&b, "E1", "malformed batch");
}

static void replay_under_new_id_refused(void **state)
{
    (void)state;
    struct batch b;
    make_batch(&b, 12, "agency-b", &w.b, VENDOR, "E1", 2);
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
    b.msg.query_id = 13;
    expect_refused(&b, "E1",
                   "a replay: this vendor evaluated this very batch of agency-b before, "
                   "as query batch 12");
    /* ... and under the first id it is still a retry. */
    b.msg.query_id = 12;
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
}

static void other_epochs_refused(void **state)
{
    (void)state;
    struct batch b;
    /* Properly signed for an epoch this vendor never announced. */
    make_batch(&b, 14, "agency-a", &w.a, VENDOR, "E0", 2);
    expect_refused(&b, "E1",
                   "batch of epoch E0, but this vendor answers only its latest "
                   "announced epoch E1");
    /* The hub names another epoch than the vendor's latest. */
    make_batch(&b, 15, "agency-a", &w.a, VENDOR, "E1", 2);
    expect_refused(&b, "E2",
                   "the hub names epoch E2 now, not this vendor's latest announced "
                   "epoch E1");
    /* The vendor moves to E2: E1 batches are refused from then on, even if
     * E1 is announced again, and E2 ones pass. */
    assert_int_equal(psi_feed_agent_note_announced("feed publish", w.dir, "E2"), 0);
    assert_int_equal(psi_feed_agent_note_announced("feed publish", w.dir, "E1"), 0);
    make_batch(&b, 16, "agency-a", &w.a, VENDOR, "E1", 2);
    expect_refused(&b, "E1",
                   "batch of epoch E1, but this vendor answers only its latest "
                   "announced epoch E2");
    make_batch(&b, 17, "agency-a", &w.a, VENDOR, "E2", 2);
    assert_int_equal(check(&b, "E2"), PSI_FEED_EVALUATE);
}

static void no_announced_epoch_refuses_everything(void **state)
{
    (void)state;
    psi_feed_agent_close(w.fa);
    w.fa = NULL;
    remove_db(w.dir);
    assert_int_equal(open_agent(0, 0), 0);
    struct batch b;
    make_batch(&b, 18, "agency-a", &w.a, VENDOR, "E1", 2);
    expect_refused(&b, "E1", "this vendor has announced no feed key");
}

static void limits_count_authenticated_batches_only(void **state)
{
    (void)state;
    struct batch b;
    /* Forged batches claiming agency-a (6 queries) count nothing ... */
    for (uint64_t id = 20; id < 23; id++) {
        make_batch(&b, id, "agency-a", &w.outsider, VENDOR, "E1", 2);
        assert_int_equal(check(&b, "E1"), PSI_FEED_REFUSED);
    }
    /* ... so agency-a's own 4 + 4 + 2 fit its limit of 10, and the next
     * does not. */
    make_batch(&b, 23, "agency-a", &w.a, VENDOR, "E1", 4);
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
    make_batch(&b, 24, "agency-a", &w.a, VENDOR, "E1", 4);
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
    make_batch(&b, 25, "agency-a", &w.a, VENDOR, "E1", 2);
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
    make_batch(&b, 26, "agency-a", &w.a, VENDOR, "E1", 1);
    assert_int_equal(check(&b, "E1"), PSI_FEED_OVER_LIMIT);
    assert_non_null(strstr(w.reason, "10 of this vendor's limit of 10 queries per agency"));
    /* Over a limit is not a refusal: the batch is judged again next time. */
    assert_int_equal(check(&b, "E1"), PSI_FEED_OVER_LIMIT);
    /* The vendor-wide cap: 10 of 15 used; agency-b's 4 fit, 2 more do not. */
    make_batch(&b, 27, "agency-b", &w.b, VENDOR, "E1", 4);
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
    make_batch(&b, 28, "agency-b", &w.b, VENDOR, "E1", 2);
    assert_int_equal(check(&b, "E1"), PSI_FEED_OVER_LIMIT);
    assert_non_null(strstr(w.reason, "14 of this vendor's limit of 15 queries per epoch for all "
                                     "agencies together"));
    make_batch(&b, 29, "agency-b", &w.b, VENDOR, "E1", 1);
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
}

static void record_survives_a_restart(void **state)
{
    (void)state;
    struct batch b, c;
    make_batch(&b, 30, "agency-a", &w.a, VENDOR, "E1", 8);
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
    make_batch(&c, 31, "ghost", &w.outsider, VENDOR, "E1", 1);
    assert_int_equal(check(&c, "E1"), PSI_FEED_REFUSED);
    psi_feed_agent_close(w.fa);
    w.fa = NULL;
    assert_int_equal(open_agent(10, 15), 0);
    /* The replay, the limit and the refusal are all remembered. */
    b.msg.query_id = 32;
    assert_int_equal(check(&b, "E1"), PSI_FEED_REFUSED);
    assert_non_null(strstr(w.reason, "as query batch 30"));
    make_batch(&b, 33, "agency-a", &w.a, VENDOR, "E1", 3);
    assert_int_equal(check(&b, "E1"), PSI_FEED_OVER_LIMIT);
    assert_int_equal(check(&c, "E1"), PSI_FEED_REFUSED_BEFORE);
}

static void failed_lookup_is_an_error_not_a_verdict(void **state)
{
    (void)state;
    struct batch b;
    enum psi_feed_verdict v = PSI_FEED_EVALUATE;
    make_batch(&b, 34, "agency-a", &w.a, VENDOR, "E1", 2);
    w.lookup_fails = 1;
    assert_int_equal(psi_feed_agent_check(w.fa, &b.msg, "E1", &v, w.reason, sizeof w.reason),
                     PSI_ERR_STORE);
    assert_int_not_equal(v, PSI_FEED_EVALUATE);
    w.lookup_fails = 0;
    /* Nothing was recorded: it passes once the lookup works. */
    assert_int_equal(check(&b, "E1"), PSI_FEED_EVALUATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(legitimate_batch_passes_and_a_retry_counts_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_agency_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(forged_altered_or_unsigned_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_under_new_id_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(other_epochs_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(no_announced_epoch_refuses_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(limits_count_authenticated_batches_only, setup, teardown),
        cmocka_unit_test_setup_teardown(record_survives_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_lookup_is_an_error_not_a_verdict, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
