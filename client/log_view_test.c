/*
 * Receipts are checked whole (client/log_view.c, psi_log_keep_receipt): a
 * receipt the hub signed, whose inclusion proof verifies, is still refused
 * when its entry logs anything but what the participant sent and signed:
 * another epoch, count, digest or signature of a submission, another count,
 * tag digest or signature of a cross-blind batch, another submission id or
 * another participant. A refused receipt moves no trust: the state's trusted
 * checkpoint stays where it was. Each receipt here is a real one: the entry
 * encoded, a one-entry tree, a checkpoint signed by the key the state pins.
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

#include "log_view.h"
#include "psi/checkpoint.h"
#include "psi/error.h"
#include "psi/logentry.h"
#include "psi/merkle.h"
#include "psi/note.h"
#include "scratch.h"
#include "state.h"

struct fixture {
    char dir[256];
    struct psi_cli_session s;
    struct psi_note_signer hub;
    unsigned char digest[PSI_LOGENTRY_DIGEST_BYTES];
    unsigned char signature[PSI_LOGENTRY_SIGNATURE_BYTES];
};

static int setup(void **state)
{
    if (sodium_init() < 0)
        return -1;
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f; /* the teardown frees it, whatever fails below */
    if (test_scratch_dir(f->dir, sizeof f->dir, "client-receipt") != 0)
        return -1;
    if (psi_note_signer_generate(&f->hub, "receipt-hub") != 0)
        return -1;
    struct psi_note_verifier v;
    psi_note_signer_verifier(&v, &f->hub);
    struct psi_state_config cfg = {.id = "agency-a", .hub_url = "tcp://127.0.0.1:4433"};
    size_t n = 0;
    if (psi_note_verifier_format(cfg.hub_vkey, sizeof cfg.hub_vkey, &n, &v) != 0)
        return -1;
    memcpy(cfg.hub_key, v.public_key, 32);
    f->s.cmd = "test";
    f->s.dir = f->dir;
    f->s.config = cfg;
    if (psi_state_create(&f->s.state, f->dir, &cfg) != 0)
        return -1;
    randombytes_buf(f->digest, sizeof f->digest);
    randombytes_buf(f->signature, sizeof f->signature);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    psi_state_close(f->s.state);
    test_remove_tree(f->dir);
    psi_note_signer_wipe(&f->hub);
    free(f);
    return 0;
}

/* The receipt a hub gives for entry e: the entry alone in a tree of one, the
 * checkpoint signed with the hub's key. malloc'd text. */
static char *receipt_of(struct fixture *f, const struct psi_logentry *e)
{
    unsigned char bytes[PSI_LOGENTRY_MAX_BYTES];
    size_t len = 0;
    assert_int_equal(psi_logentry_encode(bytes, sizeof bytes, &len, e), 0);
    struct psi_checkpoint cp = {.size = 1};
    snprintf(cp.origin, sizeof cp.origin, "%s", f->hub.name);
    psi_merkle_leaf_hash(cp.root, bytes, len);
    char note[1024];
    size_t note_len = 0;
    assert_int_equal(psi_checkpoint_sign(note, sizeof note - 1, &note_len, &cp, &f->hub), 0);
    struct psi_tlog_proof proof = {.index = 0,
                                   .extra = bytes,
                                   .extra_len = len,
                                   .checkpoint = note,
                                   .checkpoint_len = note_len};
    size_t cap = 4 * PSI_LOGENTRY_MAX_BYTES + 2048, out_len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    assert_int_equal(psi_tlog_proof_format(text, cap - 1, &out_len, &proof), 0);
    text[out_len] = '\0';
    return text;
}

static struct psi_logentry submission_entry(struct fixture *f)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_SUBMISSION;
    snprintf(e.u.submission.participant, sizeof e.u.submission.participant, "agency-a");
    snprintf(e.u.submission.epoch, sizeof e.u.submission.epoch, "2026-W10");
    e.u.submission.submission_id = 7;
    e.u.submission.count = 100;
    e.u.submission.position_base = 1000;
    memcpy(e.u.submission.digest, f->digest, sizeof f->digest);
    memcpy(e.u.submission.signature, f->signature, sizeof f->signature);
    return e;
}

static struct psi_logentry crossblind_entry(struct fixture *f)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_CROSSBLIND;
    snprintf(e.u.crossblind.participant, sizeof e.u.crossblind.participant, "agency-a");
    e.u.crossblind.submission_id = 9;
    e.u.crossblind.count = 50;
    memcpy(e.u.crossblind.tag_digest, f->digest, sizeof f->digest);
    memcpy(e.u.crossblind.signature, f->signature, sizeof f->signature);
    return e;
}

/* Keeps the receipt of e against what was sent (x); returns the code and
 * leaves the one line in why. */
static int keep(struct fixture *f, const struct psi_logentry *e, const struct psi_log_expected *x,
                char *why, size_t whylen)
{
    char *text = receipt_of(f, e);
    why[0] = '\0';
    int rc = psi_log_keep_receipt(&f->s, NULL, x, text, why, whylen);
    free(text);
    return rc;
}

static void assert_nothing_trusted(struct fixture *f)
{
    struct psi_state_checkpoint cp;
    assert_int_equal(psi_state_checkpoint_latest(f->s.state, &cp), PSI_ERR_NOT_FOUND);
}

static void expect_refused(struct fixture *f, const struct psi_logentry *e,
                           const struct psi_log_expected *x, const char *line)
{
    char why[PSI_LOG_WHY_MAX];
    assert_int_equal(keep(f, e, x, why, sizeof why), PSI_ERR_VERIFY);
    if (strstr(why, line) == NULL)
        fail_msg("why '%s' does not say '%s'", why, line);
    assert_null(strchr(why, '\n'));
    assert_nothing_trusted(f);
}

static void test_submission_receipt_checked_whole(void **state)
{
    struct fixture *f = *state;
    struct psi_logentry e = submission_entry(f);
    const struct psi_log_expected sent = {.kind = PSI_LOGENTRY_SUBMISSION,
                                          .submission_id = 7,
                                          .epoch = "2026-W10",
                                          .count = 100,
                                          .digest = f->digest,
                                          .signature = f->signature};
    struct psi_logentry other;

    other = e;
    other.u.submission.digest[5] ^= 1;
    expect_refused(f, &other, &sent, "the hub's receipt logs another digest than the one sent");
    other = e;
    other.u.submission.count = 99;
    expect_refused(f, &other, &sent, "the hub's receipt logs another count (99)");
    other = e;
    other.u.submission.signature[63] ^= 0x80;
    expect_refused(f, &other, &sent, "another signature than the one sent");
    other = e;
    snprintf(other.u.submission.epoch, sizeof other.u.submission.epoch, "2026-W09");
    expect_refused(f, &other, &sent, "another epoch than the one sent");
    other = e;
    other.u.submission.submission_id = 8;
    expect_refused(f, &other, &sent, "proves another entry");
    other = e;
    snprintf(other.u.submission.participant, sizeof other.u.submission.participant, "agency-b");
    expect_refused(f, &other, &sent, "proves another entry");
    /* a cross-blind receipt is no submission receipt */
    struct psi_logentry cb = crossblind_entry(f);
    cb.u.crossblind.submission_id = 7;
    expect_refused(f, &cb, &sent, "proves another entry (crossblind)");

    /* what was sent: kept, and its checkpoint trusted */
    char why[PSI_LOG_WHY_MAX];
    assert_int_equal(keep(f, &e, &sent, why, sizeof why), 0);
    struct psi_state_checkpoint cp;
    assert_int_equal(psi_state_checkpoint_latest(f->s.state, &cp), 0);
    assert_true(cp.size == 1);
    psi_state_checkpoint_clear(&cp);
}

static void test_crossblind_receipt_checked_whole(void **state)
{
    struct fixture *f = *state;
    struct psi_logentry e = crossblind_entry(f);
    const struct psi_log_expected sent = {.kind = PSI_LOGENTRY_CROSSBLIND,
                                          .submission_id = 9,
                                          .count = 50,
                                          .digest = f->digest,
                                          .signature = f->signature};
    struct psi_logentry other;

    other = e;
    other.u.crossblind.tag_digest[0] ^= 1;
    expect_refused(f, &other, &sent, "the hub's receipt logs another tag digest than the one sent");
    other = e;
    other.u.crossblind.count = 51;
    expect_refused(f, &other, &sent, "another count (51) than the one sent (50)");
    other = e;
    other.u.crossblind.signature[0] ^= 1;
    expect_refused(f, &other, &sent, "another signature than the one sent");
    other = e;
    other.u.crossblind.submission_id = 10;
    expect_refused(f, &other, &sent, "proves another entry");

    char why[PSI_LOG_WHY_MAX];
    assert_int_equal(keep(f, &e, &sent, why, sizeof why), 0);
}

/* No log, no receipt: accepted (the hub may run without one). */
static void test_empty_receipt(void **state)
{
    struct fixture *f = *state;
    const struct psi_log_expected sent = {.kind = PSI_LOGENTRY_CROSSBLIND,
                                          .submission_id = 9,
                                          .count = 50,
                                          .digest = f->digest,
                                          .signature = f->signature};
    char why[PSI_LOG_WHY_MAX] = "";
    assert_int_equal(psi_log_keep_receipt(&f->s, NULL, &sent, "", why, sizeof why), 0);
    assert_nothing_trusted(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submission_receipt_checked_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crossblind_receipt_checked_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_receipt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
