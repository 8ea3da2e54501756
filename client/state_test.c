/*
 * Tests of the participant's local state (client/state.c) and of the digests
 * and derived ids it keeps beside the wire (client/digest.c): what `psi
 * submit`, `psi agent` and `psi results` rely on to never submit twice, to
 * resume after a crash, and to agree byte for byte with the hub.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "digest.h"
#include "psi/error.h"
#include "client_state_fixture.h"
#include "sqlite_file.h"
#include "state.h"

static int setup(void **state)
{
    return state_fixture_setup(state, "client-state");
}

static int teardown(void **state)
{
    return state_fixture_teardown(state);
}

static void reopen(struct fixture *f)
{
    psi_state_close(f->st);
    f->st = NULL;
    assert_int_equal(psi_state_open(&f->st, f->dir), 0);
}

#define IND(t, v)                                                                                  \
    {                                                                                              \
        (char *)(t), (char *)(v)                                                                   \
    }

static const unsigned char upload_a[16] = {0xa1, 0xa2};
static const unsigned char upload_b[16] = {0xb1, 0xb2};

static void test_config_round_trip(void **state)
{
    struct fixture *f = *state;
    struct psi_state_config cfg;
    reopen(f);
    assert_int_equal(psi_state_config_get(f->st, &cfg), 0);
    assert_string_equal(cfg.id, "agency-a");
    assert_string_equal(cfg.hub_url, "tcp://127.0.0.1:4433");
    assert_string_equal(cfg.hub_vkey, "hub+01020304+AQID");
    assert_memory_equal(cfg.hub_key, test_config.hub_key, 32);
}

static void test_create_refuses_existing_and_open_missing(void **state)
{
    struct fixture *f = *state;
    struct psi_state *other = NULL;
    assert_int_equal(psi_state_create(&other, f->dir, &test_config), PSI_ERR_EXISTS);
    assert_null(other);
    assert_int_equal(psi_state_open(&other, "/nonexistent/psi-state"), PSI_ERR_NOT_FOUND);
    assert_null(other);
    struct psi_state_config bad = test_config;
    snprintf(bad.id, sizeof bad.id, "-bad id");
    assert_int_equal(psi_state_create(&other, test_tmpdir(), &bad), PSI_ERR_INVALID);
}

static void set_user_version(const char *dir, int version)
{
    char path[320], sql[64];
    snprintf(path, sizeof path, "%s/state.db", dir);
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", version);
    assert_int_equal(test_sqlite_exec(path, sql), SQLITE_OK);
}

static void test_open_refuses_unknown_schema(void **state)
{
    struct fixture *f = *state;
    psi_state_close(f->st);
    f->st = NULL;
    /* A database written by a later version: refused, not misread. */
    set_user_version(f->dir, 99);
    assert_int_equal(psi_state_open(&f->st, f->dir), PSI_ERR_UNSUPPORTED);
    assert_null(f->st);
    set_user_version(f->dir, PSI_STATE_SCHEMA_VERSION);
    assert_int_equal(psi_state_open(&f->st, f->dir), 0);
}

static void test_pending_survives_reopen_and_becomes_positions(void **state)
{
    struct fixture *f = *state;
    struct psi_state_indicator items[] = {IND("ipv4", "203.0.113.7"), IND("domain", "evil.example"),
                                          IND("sha256", "ab")};
    struct psi_state_submission sub;
    struct psi_state_indicator_list list;
    unsigned char keep[3];

    assert_int_equal(psi_state_pending_get(f->st, &sub), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_pending_record(f->st, upload_a, "2026-W48", items, 3), 0);
    /* A crash here: the pending submission is still there after reopening. */
    reopen(f);
    assert_int_equal(psi_state_pending_get(f->st, &sub), 0);
    assert_memory_equal(sub.upload_id, upload_a, 16);
    assert_string_equal(sub.epoch, "2026-W48");
    assert_int_equal(sub.count, 3);
    assert_int_equal(sub.status, PSI_STATE_SUBMISSION_PENDING);
    assert_int_equal(psi_state_pending_items(f->st, upload_a, &list), 0);
    assert_int_equal(list.count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(list.items[i].type, items[i].type);
        assert_string_equal(list.items[i].value, items[i].value);
    }
    psi_state_indicator_list_clear(&list);
    assert_int_equal(psi_state_pending_items(f->st, upload_b, &list), PSI_ERR_NOT_FOUND);

    /* Only one submission pending at a time. */
    assert_int_equal(psi_state_pending_record(f->st, upload_b, "2026-W48", items, 1),
                     PSI_ERR_STATE);

    /* Not yet done: nothing counts as submitted. */
    assert_int_equal(psi_state_filter_new(f->st, "2026-W48", items, 3, keep), 0);
    assert_int_equal(keep[0] + keep[1] + keep[2], 3);

    assert_int_equal(psi_state_pending_done(f->st, upload_b, 7, 100, NULL), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_pending_done(f->st, upload_a, 7, 100, "receipt"), 0);
    assert_int_equal(psi_state_pending_get(f->st, &sub), PSI_ERR_NOT_FOUND);
    /* Done twice is refused: the receipt is recorded once. */
    assert_int_equal(psi_state_pending_done(f->st, upload_a, 7, 100, NULL), PSI_ERR_NOT_FOUND);

    uint64_t n = 0;
    assert_int_equal(psi_state_submitted_count(f->st, "2026-W48", &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(psi_state_submitted_count(f->st, "2026-W49", &n), 0);
    assert_int_equal(n, 0);

    struct psi_state_indicator ind;
    assert_int_equal(psi_state_position_get(f->st, "2026-W48", 101, &ind), 0);
    assert_string_equal(ind.type, "domain");
    assert_string_equal(ind.value, "evil.example");
    psi_state_indicator_clear(&ind);
    assert_int_equal(psi_state_position_get(f->st, "2026-W48", 103, &ind), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_position_get(f->st, "2026-W49", 101, &ind), PSI_ERR_NOT_FOUND);

    /* Now submitted in this epoch, not in the next one. */
    struct psi_state_indicator probe[] = {IND("ipv4", "203.0.113.7"), IND("ipv4", "203.0.113.8"),
                                          IND("domain", "EVIL.example")};
    assert_int_equal(psi_state_filter_new(f->st, "2026-W48", probe, 3, keep), 0);
    assert_int_equal(keep[0], 0);
    assert_int_equal(keep[1], 1);
    assert_int_equal(keep[2], 1);
    assert_int_equal(psi_state_filter_new(f->st, "2026-W49", probe, 3, keep), 0);
    assert_int_equal(keep[0], 1);

    /* Recording an already submitted indicator again is refused whole. */
    assert_int_equal(psi_state_pending_record(f->st, upload_b, "2026-W48", probe, 3),
                     PSI_ERR_EXISTS);
    assert_int_equal(psi_state_pending_get(f->st, &sub), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_pending_record(f->st, upload_b, "2026-W48", probe + 1, 2), 0);
    assert_int_equal(psi_state_pending_done(f->st, upload_b, 8, 103, NULL), 0);
    assert_int_equal(psi_state_submitted_count(f->st, "2026-W48", &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(psi_state_position_get(f->st, "2026-W48", 104, &ind), 0);
    assert_string_equal(ind.value, "EVIL.example");
    psi_state_indicator_clear(&ind);
}

static void test_pending_refuses_duplicates_within(void **state)
{
    struct fixture *f = *state;
    struct psi_state_indicator items[] = {IND("ipv4", "203.0.113.7"), IND("ipv4", "203.0.113.7")};
    struct psi_state_submission sub;
    assert_int_equal(psi_state_pending_record(f->st, upload_a, "e", items, 2), PSI_ERR_EXISTS);
    assert_int_equal(psi_state_pending_get(f->st, &sub), PSI_ERR_NOT_FOUND);
    assert_non_null(strstr(psi_state_error(f->st), "appears twice"));
}

static void test_refused_frees_indicators(void **state)
{
    struct fixture *f = *state;
    struct psi_state_indicator items[] = {IND("url", "http://a.example/")};
    struct psi_state_submission sub;
    unsigned char keep[1];
    assert_int_equal(psi_state_pending_record(f->st, upload_a, "e", items, 1), 0);
    assert_int_equal(psi_state_pending_refused(f->st, upload_b, "no"), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_pending_refused(f->st, upload_a, "over quota"), 0);
    assert_int_equal(psi_state_pending_get(f->st, &sub), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_filter_new(f->st, "e", items, 1, keep), 0);
    assert_int_equal(keep[0], 1);
    /* A new submission of the same indicator is allowed, under a new upload id. */
    assert_int_equal(psi_state_pending_record(f->st, upload_b, "e", items, 1), 0);
    assert_int_equal(psi_state_pending_done(f->st, upload_b, 1, 0, NULL), 0);
    assert_int_equal(psi_state_filter_new(f->st, "e", items, 1, keep), 0);
    assert_int_equal(keep[0], 0);
}

static void test_positions_out_of_range(void **state)
{
    struct fixture *f = *state;
    struct psi_state_indicator items[] = {IND("md5", "00"), IND("md5", "01")};
    assert_int_equal(psi_state_pending_record(f->st, upload_a, "e", items, 2), 0);
    assert_int_equal(psi_state_pending_done(f->st, upload_a, 1, (uint64_t)INT64_MAX - 1, NULL),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_state_pending_done(f->st, upload_a, UINT64_MAX, 0, NULL),
                     PSI_ERR_TOO_LARGE);
    /* Still pending, and still completes with sane numbers. */
    assert_int_equal(psi_state_pending_done(f->st, upload_a, 1, 0, NULL), 0);
}

static void test_results_map_back(void **state)
{
    struct fixture *f = *state;
    struct psi_state_indicator items[] = {IND("ipv4", "203.0.113.7"), IND("domain", "b.example"),
                                          IND("domain", "a.example")};
    assert_int_equal(psi_state_pending_record(f->st, upload_a, "e1", items, 3), 0);
    assert_int_equal(psi_state_pending_done(f->st, upload_a, 1, 10, NULL), 0);

    const char *const p1[] = {"vendor-x", "agency-b"};
    const char *const p2[] = {"agency-c"};
    const char *const p3[] = {"agency-b", "agency-c"};
    struct psi_state_match m[] = {{10, p1, 2}, {11, p2, 1}, {12, p2, 1}, {99, p3, 2}};
    struct psi_state_result_list r;

    assert_int_equal(psi_state_results_get(f->st, "e1", &r), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_results_store(f->st, "e1", 2, m, 4), 0);
    assert_int_equal(psi_state_results_get(f->st, "e1", &r), 0);
    assert_string_equal(r.epoch, "e1");
    assert_int_equal(r.threshold, 2);
    assert_int_equal(r.count, 3);
    assert_int_equal(r.unmapped, 1); /* position 99, two peers, counted once */
    /* Sorted by type then value; peers sorted. */
    assert_string_equal(r.items[0].value, "a.example");
    assert_int_equal(r.items[0].position, 12);
    assert_string_equal(r.items[1].value, "b.example");
    assert_string_equal(r.items[2].type, "ipv4");
    assert_int_equal(r.items[2].n_peers, 2);
    assert_string_equal(r.items[2].peers[0], "agency-b");
    assert_string_equal(r.items[2].peers[1], "vendor-x");
    psi_state_result_list_clear(&r);

    /* A later fetch replaces the earlier one. */
    assert_int_equal(psi_state_results_store(f->st, "e1", 3, m, 1), 0);
    assert_int_equal(psi_state_results_get(f->st, "e1", &r), 0);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.unmapped, 0);
    assert_int_equal(r.threshold, 3);
    psi_state_result_list_clear(&r);

    /* An empty answer is an answer. */
    assert_int_equal(psi_state_results_store(f->st, "e2", 2, NULL, 0), 0);
    assert_int_equal(psi_state_results_get(f->st, "e2", &r), 0);
    assert_int_equal(r.count, 0);
    psi_state_result_list_clear(&r);
}

static void test_agent_work(void **state)
{
    struct fixture *f = *state;
    struct psi_state_work w = {.submission_id = 42, .owner = "agency-b", .epoch = "e", .count = 9};
    struct psi_state_work got;
    assert_int_equal(psi_state_work_get(f->st, 42, &got), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_work_done(f->st, 42, 1, NULL), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_state_work_begin(f->st, &w, upload_a), 0);
    assert_int_equal(psi_state_work_get(f->st, 42, &got), 0);
    assert_int_equal(got.status, PSI_STATE_WORK_PENDING);
    assert_string_equal(got.owner, "agency-b");
    assert_int_equal(got.count, 9);
    /* Beginning again (a restarted agent) is fine. */
    assert_int_equal(psi_state_work_begin(f->st, &w, upload_a), 0);
    assert_int_equal(psi_state_work_done(f->st, 42, 4, "r"), 0);
    assert_int_equal(psi_state_work_get(f->st, 42, &got), 0);
    assert_int_equal(got.status, PSI_STATE_WORK_DONE);
    assert_int_equal(got.matched, 4);
    w.submission_id = 43;
    assert_int_equal(psi_state_work_refused(f->st, &w, "bad signature"), 0);
    assert_int_equal(psi_state_work_get(f->st, 43, &got), 0);
    assert_int_equal(got.status, PSI_STATE_WORK_REFUSED);
}

/* ---------------------------------------------------------------- digests */

static void test_submission_digest_layout(void **state)
{
    (void)state;
    unsigned char elements[64], expect[32], got[32];
    for (size_t i = 0; i < sizeof elements; i++)
        elements[i] = (unsigned char)i;
    /* The layout written out by hand, as psi.proto states it. */
    unsigned char msg[256];
    size_t n = 0;
    memcpy(msg, "psi/submission/v1", 17);
    n = 17;
    msg[n++] = 0;
    memcpy(msg + n, "2026-W48", 8);
    n += 8;
    msg[n++] = 0;
    memcpy(msg + n, "agency-a", 8);
    n += 8;
    msg[n++] = 0;
    const unsigned char count[8] = {0, 0, 0, 0, 0, 0, 0, 2};
    memcpy(msg + n, count, 8);
    n += 8;
    memcpy(msg + n, elements, 64);
    n += 64;
    crypto_hash_sha256(expect, msg, n);

    struct psi_submission_digest d;
    psi_submission_digest_begin(&d, "2026-W48", "agency-a", 2);
    psi_submission_digest_add(&d, elements, 10); /* streamed in uneven pieces */
    psi_submission_digest_add(&d, elements + 10, 0);
    psi_submission_digest_add(&d, elements + 10, 54);
    psi_submission_digest_end(&d, got);
    assert_memory_equal(got, expect, 32);

    /* Signature context: "psi/submission-sig/v1" 0x00 hub_key digest. */
    unsigned char pk[32], sk[64], hub[32], sig[64];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(hub, sizeof hub);
    assert_int_equal(psi_submission_sign(sig, sk, hub, got), 0);
    memcpy(msg, "psi/submission-sig/v1", 21);
    n = 21;
    msg[n++] = 0;
    memcpy(msg + n, hub, 32);
    n += 32;
    memcpy(msg + n, got, 32);
    n += 32;
    assert_int_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
    assert_int_equal(psi_submission_verify(sig, pk, hub, got), 0);
    hub[0] ^= 1; /* for another hub: not valid */
    assert_int_equal(psi_submission_verify(sig, pk, hub, got), -1);
    sodium_memzero(sk, sizeof sk);
}

static void test_tag_digest_and_crossblind_signature(void **state)
{
    (void)state;
    unsigned char tags[48], expect[32], got[32], msg[256];
    for (size_t i = 0; i < sizeof tags; i++)
        tags[i] = (unsigned char)(0xf0 ^ i);
    memcpy(msg, "psi/tags/v1", 11);
    msg[11] = 0;
    memcpy(msg + 12, tags, 48);
    crypto_hash_sha256(expect, msg, 60);
    struct psi_tag_digest d;
    psi_tag_digest_begin(&d);
    psi_tag_digest_add(&d, tags, 16);
    psi_tag_digest_add(&d, tags + 16, 32);
    psi_tag_digest_end(&d, got);
    assert_memory_equal(got, expect, 32);

    unsigned char pk[32], sk[64], hub[32], sub_digest[32], sig[64];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(hub, sizeof hub);
    randombytes_buf(sub_digest, sizeof sub_digest);
    assert_int_equal(psi_crossblind_sign(sig, sk, hub, sub_digest, 3, got), 0);
    size_t n = 21;
    memcpy(msg, "psi/crossblind-sig/v1", 21);
    msg[n++] = 0;
    memcpy(msg + n, hub, 32);
    n += 32;
    memcpy(msg + n, sub_digest, 32);
    n += 32;
    const unsigned char count[8] = {0, 0, 0, 0, 0, 0, 0, 3};
    memcpy(msg + n, count, 8);
    n += 8;
    memcpy(msg + n, got, 32);
    n += 32;
    assert_int_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
    sodium_memzero(sk, sizeof sk);
}

static void test_tag_context_is_symmetric(void **state)
{
    (void)state;
    unsigned char c1[PSI_TAG_CONTEXT_MAX], c2[PSI_TAG_CONTEXT_MAX];
    size_t n1 = psi_tag_context(c1, sizeof c1, "2026-W48", "sg-csa", "fr-ccn");
    size_t n2 = psi_tag_context(c2, sizeof c2, "2026-W48", "fr-ccn", "sg-csa");
    const unsigned char expect[] = "\x00\x08"
                                   "2026-W48"
                                   "\x00\x06"
                                   "fr-ccn"
                                   "\x00\x06"
                                   "sg-csa";
    assert_int_equal(n1, sizeof expect - 1);
    assert_int_equal(n2, n1);
    assert_memory_equal(c1, expect, n1);
    assert_memory_equal(c2, expect, n2);
    /* A prefix sorts first (byte order, not length order). */
    n1 = psi_tag_context(c1, sizeof c1, "e", "ab", "a");
    assert_int_equal(n1, 2 + 1 + 2 + 1 + 2 + 2);
    assert_memory_equal(c1 + 3,
                        "\x00\x01"
                        "a"
                        "\x00\x02"
                        "ab",
                        7);
    /* Byte order: 'Z' (0x5a) < 'a' (0x61). */
    n1 = psi_tag_context(c1, sizeof c1, "e", "a", "Z");
    assert_int_equal(n1, 2 + 1 + 2 + 1 + 2 + 1);
    assert_memory_equal(c1 + 3,
                        "\x00\x01"
                        "Z",
                        3);
    /* Empty fields and short buffers are refused. */
    assert_int_equal(psi_tag_context(c1, sizeof c1, "", "a", "b"), 0);
    assert_int_equal(psi_tag_context(c1, sizeof c1, "e", "", "b"), 0);
    assert_int_equal(psi_tag_context(c1, 8, "e", "aaa", "bbb"), 0);
}

static void test_derived_ids(void **state)
{
    (void)state;
    unsigned char r1[16], r2[16], u1[16], u2[16], hub[32] = {9}, digest[32] = {7};
    psi_commit_request_id(r1, upload_a);
    psi_commit_request_id(r2, upload_a);
    assert_memory_equal(r1, r2, 16);
    psi_commit_request_id(r2, upload_b);
    assert_memory_not_equal(r1, r2, 16);
    /* The request id is not the upload id itself. */
    assert_memory_not_equal(r1, upload_a, 16);

    psi_crossblind_upload_id(u1, hub, "agency-a", 5, digest);
    psi_crossblind_upload_id(u2, hub, "agency-a", 5, digest);
    assert_memory_equal(u1, u2, 16);
    psi_crossblind_upload_id(u2, hub, "agency-a", 6, digest);
    assert_memory_not_equal(u1, u2, 16);
    psi_crossblind_upload_id(u2, hub, "agency-b", 5, digest);
    assert_memory_not_equal(u1, u2, 16);
    digest[0] ^= 1;
    psi_crossblind_upload_id(u2, hub, "agency-a", 5, digest);
    assert_memory_not_equal(u1, u2, 16);

    /* A feed's upload id: the same for the same hub, vendor and filter (a
     * re-run continues the upload), another for any of them changed, and
     * never a cross-blind batch's. */
    unsigned char f1[16], f2[16], other_hub[32] = {10};
    psi_feed_upload_id(f1, hub, "vendor-x", digest);
    psi_feed_upload_id(f2, hub, "vendor-x", digest);
    assert_memory_equal(f1, f2, 16);
    psi_feed_upload_id(f2, other_hub, "vendor-x", digest);
    assert_memory_not_equal(f1, f2, 16);
    psi_feed_upload_id(f2, hub, "vendor-y", digest);
    assert_memory_not_equal(f1, f2, 16);
    psi_feed_upload_id(f2, hub, "vendor-", digest);
    assert_memory_not_equal(f1, f2, 16);
    digest[31] ^= 1;
    psi_feed_upload_id(f2, hub, "vendor-x", digest);
    assert_memory_not_equal(f1, f2, 16);
    psi_crossblind_upload_id(u2, hub, "vendor-x", 0, digest);
    assert_memory_not_equal(f2, u2, 16);
    assert_memory_not_equal(f2, digest, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_existing_and_open_missing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_unknown_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_survives_reopen_and_becomes_positions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pending_refuses_duplicates_within, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_frees_indicators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positions_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_map_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agent_work, setup, teardown),
        cmocka_unit_test(test_submission_digest_layout),
        cmocka_unit_test(test_tag_digest_and_crossblind_signature),
        cmocka_unit_test(test_tag_context_is_symmetric),
        cmocka_unit_test(test_derived_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
