/*
 * Tests of the hub's pipeline and methods in process: frames in, frames out,
 * through psi_hub_handle and the SQLite store, no sockets. Protocol 1 end to
 * end at the hub (submit, work, fetch, cross-blind, incremental join,
 * results under policy and threshold), and every refusal of every method,
 * each followed by a look at the store to see that nothing changed.
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

#include "commands.h"
#include "hub.h"
#include "hub_fixture.h"
#include "sqlite_file.h"
#include "wire.h"
#include "log.h"
#include "psi/audit.h"
#include "psi/blind.h"
#include "psi/error.h"
#include "psi/indicator.h"
#include "psi/logentry.h"

#define EPOCH "E1"

struct fixture {
    char dir[256];
    struct psi_hub hub;
    struct psi_store *st;
    struct psi_identity a, b, c, v, aud, stranger;
    char last_error[PSI_ERROR_TEXT_MAX + 1];
    struct psi_hub_outcome last_outcome; /* of the last call */
};

/* ---------------------------------------------------------------- set-up */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hub_test_open_hub(f->dir, sizeof f->dir, "hub-test", "test-hub", EPOCH, &f->hub, &f->st);
    assert_string_equal(f->hub.name, "test-hub");
    assert_int_equal(f->hub.threshold, 2);
    assert_int_equal(f->hub.max_chunk_elements, PSI_HUB_MAX_CHUNK_ELEMENTS);
    assert_int_equal(psi_identity_generate(&f->a, "agency-a"), 0);
    assert_int_equal(psi_identity_generate(&f->b, "agency-b"), 0);
    assert_int_equal(psi_identity_generate(&f->c, "agency-c"), 0);
    assert_int_equal(psi_identity_generate(&f->v, "vendor-v"), 0);
    assert_int_equal(psi_identity_generate(&f->aud, "auditor-1"), 0);
    assert_int_equal(psi_identity_generate(&f->stranger, "stranger"), 0);
    hub_test_admit(&f->hub, f->st, &f->a, "agency", 0);
    hub_test_admit(&f->hub, f->st, &f->b, "agency", 0);
    hub_test_admit(&f->hub, f->st, &f->c, "agency", 0);
    hub_test_admit(&f->hub, f->st, &f->v, "vendor", 1);
    hub_test_admit(&f->hub, f->st, &f->aud, "auditor", 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    psi_identity_clear(&f->a);
    psi_identity_clear(&f->b);
    psi_identity_clear(&f->c);
    psi_identity_clear(&f->v);
    psi_identity_clear(&f->aud);
    psi_identity_clear(&f->stranger);
    hub_test_close_hub(f->dir, &f->hub, f->st);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- requests */

/* Sends one request with the given id; returns the hub's status, the reply
 * body in *body (malloc'd) on success. The reply must be authentic. */
static int call_id(struct fixture *f, const struct psi_identity *who, const unsigned char rid[16],
                   const char *method, const uint8_t *body, size_t body_len, uint8_t **out,
                   size_t *out_len)
{
    struct psi_hub_outcome o;
    int status = hub_test_call(&f->hub, f->st, who, rid, method, body, body_len, f->last_error,
                               sizeof f->last_error, out, out_len, &o);
    assert_int_equal(o.status, status);
    assert_string_equal(o.method, method);
    /* the request log names the sender the request claims, authenticated or not */
    assert_string_equal(o.participant, who->name);
    f->last_outcome = o;
    return status;
}

static int call(struct fixture *f, const struct psi_identity *who, const char *method,
                const uint8_t *body, size_t body_len, uint8_t **out, size_t *out_len)
{
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    return call_id(f, who, rid, method, body, body_len, out, out_len);
}

static void expect_error(struct fixture *f, const char *needle)
{
    if (strstr(f->last_error, needle) == NULL)
        fail_msg("error '%s' does not say '%s'", f->last_error, needle);
}

static int upload(struct fixture *f, const struct psi_identity *who, const uint8_t upload_id[16],
                  uint64_t offset, const uint8_t *items, size_t len, uint64_t *received)
{
    size_t n;
    uint8_t *body = hub_test_chunk_body(upload_id, offset, items, len, &n), *out = NULL;
    size_t out_len = 0;
    int rc = call(f, who, "upload.chunk", body, n, &out, &out_len);
    free(body);
    if (rc == 0) {
        Psi__UploadAck *ack = psi__upload_ack__unpack(NULL, out_len, out);
        assert_non_null(ack);
        *received = ack->received;
        psi__upload_ack__free_unpacked(ack, NULL);
    }
    free(out);
    return rc;
}

/* Uploads in chunks of at most 1000 bytes. */
static void upload_all(struct fixture *f, const struct psi_identity *who, uint8_t upload_id[16],
                       const uint8_t *items, size_t len)
{
    randombytes_buf(upload_id, 16);
    uint64_t received = 0;
    for (size_t at = 0; at < len; at += 1000) {
        size_t n = len - at < 1000 ? len - at : 1000;
        assert_int_equal(upload(f, who, upload_id, at, items + at, n, &received), 0);
        assert_int_equal(received, at + n);
    }
}

struct commit_opts {
    const char *epoch;
    uint64_t count_delta; /* added to the true count */
    int bad_digest, bad_signature;
    uint32_t rules; /* SubmitCommit.indicator_rules; 0: the current rules */
    int omit_rules; /* the field left out, as an older client does */
    uint32_t suite; /* SubmitCommit.mutual_suite; 0: the hub's suite */
    int omit_suite; /* the field left out, as an older client does */
};

static int commit_submission(struct fixture *f, const struct psi_identity *who,
                             const uint8_t upload_id[16], const uint8_t *elements, uint64_t count,
                             const struct commit_opts *o, uint64_t *sid, uint64_t *base)
{
    const char *epoch = o && o->epoch ? o->epoch : EPOCH;
    uint64_t claimed = count + (o ? o->count_delta : 0);
    unsigned char digest[32], sig[64];
    hub_test_submission_digest(epoch, who->name, count, elements, digest);
    if (o && o->bad_digest)
        digest[0] ^= 1;
    hub_test_submission_sign(who->secret_key, f->hub.identity.public_key, digest, sig);
    if (o && o->bad_signature)
        sig[5] ^= 1;
    size_t n, out_len = 0;
    uint8_t *body = hub_test_commit_body(upload_id, epoch, claimed, digest, sig, &n), *out = NULL;
    if (o && (o->rules || o->omit_rules || o->suite || o->omit_suite)) {
        Psi__SubmitCommit *c = psi__submit_commit__unpack(NULL, n, body);
        assert_non_null(c);
        if (o->rules || o->omit_rules)
            c->indicator_rules = o->omit_rules ? 0 : o->rules;
        if (o->suite || o->omit_suite)
            c->mutual_suite = o->omit_suite ? 0 : o->suite;
        free(body);
        n = psi__submit_commit__get_packed_size(c);
        body = malloc(n);
        assert_non_null(body);
        psi__submit_commit__pack(c, body);
        psi__submit_commit__free_unpacked(c, NULL);
    }
    int rc = call(f, who, "submit.commit", body, n, &out, &out_len);
    free(body);
    if (rc == 0) {
        Psi__SubmitReceipt *r = psi__submit_receipt__unpack(NULL, out_len, out);
        assert_non_null(r);
        if (sid)
            *sid = r->submission_id;
        if (base)
            *base = r->position_base;
        psi__submit_receipt__free_unpacked(r, NULL);
    }
    free(out);
    return rc;
}

/* Submits elements standing for the given indicators; returns the id. */
static uint64_t submit(struct fixture *f, const struct psi_identity *who, uint64_t count,
                       uint8_t **elements_out)
{
    uint8_t *elements = hub_test_elements(count), upload_id[16];
    upload_all(f, who, upload_id, elements, (size_t)count * 32);
    uint64_t sid = 0;
    assert_int_equal(commit_submission(f, who, upload_id, elements, count, NULL, &sid, NULL), 0);
    if (elements_out)
        *elements_out = elements;
    else
        free(elements);
    return sid;
}

static int get_submission_digest(struct fixture *f, uint64_t sid, unsigned char digest[32],
                                 uint64_t *count)
{
    struct psi_txn t;
    struct psi_store_submission s;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_READ), 0);
    int rc = f->hub.ops->submission_get(&t, sid, &s);
    psi_txn_rollback(&t);
    if (rc == 0) {
        memcpy(digest, s.digest, 32);
        *count = s.count;
    }
    return rc;
}

struct crossblind_opts {
    int bad_digest, bad_signature;
    uint64_t claimed_count; /* 0: the true count */
    uint32_t suite;         /* CrossBlindCommit.mutual_suite; 0: the hub's suite */
    int omit_suite;         /* the field left out, as an older agent does */
};

/* Cross-blinds submission sid with tags standing for the indicators. */
static int crossblind(struct fixture *f, const struct psi_identity *who, uint64_t sid,
                      const uint32_t *indicators, uint64_t count, const struct crossblind_opts *o)
{
    uint8_t *tags = malloc((size_t)count * 16 + 1), upload_id[16];
    for (uint64_t k = 0; k < count; k++)
        hub_test_tag(indicators[k], tags + k * 16);
    upload_all(f, who, upload_id, tags, (size_t)count * 16);
    unsigned char sub_digest[32], tag_digest[32], sig[64];
    uint64_t sub_count = 0;
    if (get_submission_digest(f, sid, sub_digest, &sub_count) != 0)
        memset(sub_digest, 7, 32);
    uint64_t claimed = o && o->claimed_count ? o->claimed_count : count;
    hub_test_tag_digest(tags, count, tag_digest);
    if (o && o->bad_digest)
        tag_digest[3] ^= 1;
    hub_test_crossblind_sign(who->secret_key, f->hub.identity.public_key, sub_digest, claimed,
                             tag_digest, sig);
    if (o && o->bad_signature)
        sig[9] ^= 1;
    Psi__CrossBlindCommit m = PSI__CROSS_BLIND_COMMIT__INIT;
    m.upload_id.data = upload_id;
    m.upload_id.len = 16;
    m.submission_id = sid;
    m.count = claimed;
    m.tag_digest.data = tag_digest;
    m.tag_digest.len = 32;
    m.signature.data = sig;
    m.signature.len = 64;
    m.mutual_suite = psi_mutual_suite();
    if (o && (o->suite || o->omit_suite))
        m.mutual_suite = o->omit_suite ? 0 : o->suite;
    size_t n, out_len = 0;
    uint8_t *body = hub_test_pack(&m.base, &n), *out = NULL;
    int rc = call(f, who, "crossblind.commit", body, n, &out, &out_len);
    free(body);
    free(tags);
    if (rc == 0) {
        Psi__CrossBlindReceipt *r = psi__cross_blind_receipt__unpack(NULL, out_len, out);
        assert_non_null(r);
        assert_int_equal(r->submission_id, sid);
        psi__cross_blind_receipt__free_unpacked(r, NULL);
    }
    free(out);
    return rc;
}

static Psi__Results *results(struct fixture *f, const struct psi_identity *who, const char *of,
                             int *status)
{
    Psi__ResultsRequest m = PSI__RESULTS_REQUEST__INIT;
    m.participant = (char *)(of ? of : who->name);
    m.epoch = (char *)"";
    size_t n, out_len = 0;
    uint8_t *body = hub_test_pack(&m.base, &n), *out = NULL;
    *status = call(f, who, "results", body, n, &out, &out_len);
    free(body);
    Psi__Results *r = NULL;
    if (*status == 0) {
        r = psi__results__unpack(NULL, out_len, out);
        assert_non_null(r);
    }
    free(out);
    return r;
}

/* "pos:peer,peer;pos:peer" for comparisons. */
static void describe(const Psi__Results *r, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->n_matches; i++) {
        at += (size_t)snprintf(out + at, cap - at, "%s%llu:", i ? ";" : "",
                               (unsigned long long)r->matches[i]->position);
        for (size_t k = 0; k < r->matches[i]->n_peers; k++)
            at +=
                (size_t)snprintf(out + at, cap - at, "%s%s", k ? "," : "", r->matches[i]->peers[k]);
    }
}

static void expect_results(struct fixture *f, const struct psi_identity *who, const char *want)
{
    int status;
    Psi__Results *r = results(f, who, NULL, &status);
    assert_int_equal(status, 0);
    char got[1024];
    describe(r, got, sizeof got);
    if (strcmp(got, want) != 0)
        print_message("results of %s: '%s', want '%s'\n", who->name, got, want);
    assert_string_equal(got, want);
    psi__results__free_unpacked(r, NULL);
}

static size_t work_count(struct fixture *f, const struct psi_identity *who, uint64_t *first)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(call(f, who, "work.list", NULL, 0, &out, &out_len), 0);
    Psi__WorkList *w = psi__work_list__unpack(NULL, out_len, out);
    assert_non_null(w);
    assert_string_equal(w->epoch, EPOCH);
    size_t n = w->n_tasks;
    if (first && n > 0)
        *first = w->tasks[0]->submission_id;
    psi__work_list__free_unpacked(w, NULL);
    free(out);
    return n;
}

/* ---------------------------------------------------------------- protocol */

static void two_parties_match(void **state)
{
    struct fixture *f = *state;
    /* a holds indicators 1,2,3,4 at positions 0..3; b holds 3,4,5. */
    const uint32_t set_a[] = {1, 2, 3, 4}, set_b[] = {3, 4, 5};
    uint8_t *elements_a = NULL;
    uint64_t sa = submit(f, &f->a, 4, &elements_a);
    uint64_t sb = submit(f, &f->b, 3, NULL);

    uint64_t first = 0;
    assert_int_equal(work_count(f, &f->b, &first), 1);
    assert_int_equal(first, sa);
    assert_int_equal(work_count(f, &f->a, &first), 1);
    assert_int_equal(first, sb);
    assert_int_equal(work_count(f, &f->v, NULL), 2); /* contribute-only still gives */

    /* b fetches a's elements as a submitted them. */
    Psi__FetchRequest fr = PSI__FETCH_REQUEST__INIT;
    fr.submission_id = sa;
    fr.offset = 1;
    fr.limit = 100;
    size_t n, out_len;
    uint8_t *body = hub_test_pack(&fr.base, &n), *out = NULL;
    assert_int_equal(call(f, &f->b, "work.fetch", body, n, &out, &out_len), 0);
    Psi__FetchReply *reply = psi__fetch_reply__unpack(NULL, out_len, out);
    assert_non_null(reply);
    assert_int_equal(reply->elements.len, 3 * 32);
    assert_memory_equal(reply->elements.data, elements_a + 32, (size_t)3 * 32);
    psi__fetch_reply__free_unpacked(reply, NULL);
    free(out);
    free(body);
    free(elements_a);

    assert_int_equal(crossblind(f, &f->b, sa, set_a, 4, NULL), 0);
    expect_results(f, &f->a, ""); /* a has not blinded b's set yet */
    assert_int_equal(crossblind(f, &f->a, sb, set_b, 3, NULL), 0);
    expect_results(f, &f->a, "2:agency-b;3:agency-b");
    expect_results(f, &f->b, "0:agency-a;1:agency-a");
    assert_int_equal(work_count(f, &f->a, NULL), 0);
    assert_int_equal(work_count(f, &f->b, NULL), 0);
    assert_int_equal(hub_test_count_rows(f->dir, "overlap"), 4);
    assert_int_equal(hub_test_count_rows(f->dir, "upload"), 0); /* staging dropped on commit */

    /* A delta of a in the same epoch: positions go on from 4. */
    uint8_t *delta = hub_test_elements(2), upload_id[16];
    upload_all(f, &f->a, upload_id, delta, 64);
    uint64_t base = 0, sd = 0;
    assert_int_equal(commit_submission(f, &f->a, upload_id, delta, 2, NULL, &sd, &base), 0);
    assert_int_equal(base, 4);
    free(delta);
    const uint32_t delta_ind[] = {5, 6};
    assert_int_equal(crossblind(f, &f->b, sd, delta_ind, 2, NULL), 0);
    expect_results(f, &f->a, "2:agency-b;3:agency-b;4:agency-b");
    expect_results(f, &f->b, "0:agency-a;1:agency-a;2:agency-a");
}

/* Three parties, threshold 3: a position shows only when three hold it. */
static void threshold_and_policy(void **state)
{
    struct fixture *f = *state;
    const uint32_t set_a[] = {1, 2}, set_b[] = {1, 3}, set_c[] = {1, 2};
    uint64_t sa = submit(f, &f->a, 2, NULL), sb = submit(f, &f->b, 2, NULL),
             sc = submit(f, &f->c, 2, NULL);
    assert_int_equal(crossblind(f, &f->a, sb, set_b, 2, NULL), 0);
    assert_int_equal(crossblind(f, &f->a, sc, set_c, 2, NULL), 0);
    assert_int_equal(crossblind(f, &f->b, sa, set_a, 2, NULL), 0);
    assert_int_equal(crossblind(f, &f->b, sc, set_c, 2, NULL), 0);
    assert_int_equal(crossblind(f, &f->c, sa, set_a, 2, NULL), 0);
    assert_int_equal(crossblind(f, &f->c, sb, set_b, 2, NULL), 0);
    expect_results(f, &f->a, "0:agency-b,agency-c;1:agency-c");
    f->hub.threshold = 3;
    expect_results(f, &f->a, "0:agency-b,agency-c");
    expect_results(f, &f->b, "0:agency-a,agency-c");
    f->hub.threshold = 2;

    /* c stops sharing with a: a no longer sees c, c no longer sees a. */
    struct psi_txn t;
    const char only_b[1][PSI_STORE_ID_MAX + 1] = {"agency-b"};
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    assert_int_equal(f->hub.ops->participant_set_policy(&t, "agency-c", 0, only_b, 1, 0), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    expect_results(f, &f->a, "0:agency-b");
    expect_results(f, &f->c, "0:agency-b");
    expect_results(f, &f->b, "0:agency-a,agency-c");

    /* b is removed: its matches are no longer revealed, its requests refused. */
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    assert_int_equal(f->hub.ops->participant_remove(&t, "agency-b"), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    expect_results(f, &f->a, "");
    uint8_t *frame = NULL, *reply = NULL;
    size_t frame_len, reply_len;
    unsigned char rid[16] = {1};
    assert_int_equal(psi_request_seal(&f->b, f->hub.identity.public_key, "info", rid, NULL, 0,
                                      &frame, &frame_len),
                     0);
    struct psi_hub_outcome o;
    assert_int_equal(psi_hub_handle(&f->hub, f->st, frame, frame_len, &reply, &reply_len, &o), 0);
    assert_int_equal(o.status, PSI_ERR_DENIED);
    /* its own key signed it: the log names it as verified */
    assert_string_equal(o.participant, "agency-b");
    assert_true(o.verified);
    assert_int_equal(reply[0], PSI_FRAME_PLAIN_ERROR);
    struct psi_reply r;
    assert_int_equal(psi_reply_open(&f->b, f->hub.identity.public_key, rid, reply, reply_len, &r),
                     0);
    assert_string_equal(r.error, "participant 'agency-b' was removed");
    psi_reply_clear(&r);
    free(frame);
    free(reply);
}

/* A policy that lists peers: work only flows between pairs that allow each
 * other. */
static void work_follows_policy(void **state)
{
    struct fixture *f = *state;
    const char only_c[1][PSI_STORE_ID_MAX + 1] = {"agency-c"};
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    assert_int_equal(f->hub.ops->participant_set_policy(&t, "agency-a", 0, only_c, 1, 0), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    uint64_t sa = submit(f, &f->a, 3, NULL);
    assert_int_equal(work_count(f, &f->b, NULL), 0);
    assert_int_equal(work_count(f, &f->c, NULL), 1);
    const uint32_t ind[] = {1, 2, 3};
    assert_int_equal(crossblind(f, &f->b, sa, ind, 3, NULL), PSI_ERR_DENIED);
    expect_error(f, "not in your work");
    Psi__FetchRequest fr = PSI__FETCH_REQUEST__INIT;
    fr.submission_id = sa;
    fr.limit = 10;
    size_t n;
    uint8_t *body = hub_test_pack(&fr.base, &n);
    assert_int_equal(call(f, &f->b, "work.fetch", body, n, NULL, NULL), PSI_ERR_DENIED);
    assert_int_equal(call(f, &f->c, "work.fetch", body, n, NULL, NULL), 0);
    free(body);
    assert_int_equal(hub_test_count_rows(f->dir, "crossblind"), 0);
}

static void roles(void **state)
{
    struct fixture *f = *state;
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(call(f, &f->aud, "info", NULL, 0, &out, &out_len), 0);
    Psi__HubInfo *info = psi__hub_info__unpack(NULL, out_len, out);
    assert_non_null(info);
    assert_string_equal(info->name, "test-hub");
    assert_string_equal(info->epoch, EPOCH);
    assert_int_equal(info->threshold, 2);
    assert_int_equal(info->max_message_bytes, 8388608);
    assert_int_equal(info->max_chunk_elements, PSI_HUB_MAX_CHUNK_ELEMENTS);
    psi__hub_info__free_unpacked(info, NULL);
    free(out);

    assert_int_equal(call(f, &f->aud, "roster", NULL, 0, &out, &out_len), 0);
    Psi__Roster *roster = psi__roster__unpack(NULL, out_len, out);
    assert_non_null(roster);
    assert_int_equal(roster->n_participants, 5);
    int seen_vendor = 0;
    for (size_t i = 0; i < roster->n_participants; i++) {
        Psi__Participant *p = roster->participants[i];
        if (strcmp(p->id, "vendor-v") == 0) {
            seen_vendor = 1;
            assert_string_equal(p->role, "vendor");
            assert_true(p->contribute_only);
            assert_true(p->share_all);
            assert_memory_equal(p->public_key.data, f->v.public_key, 32);
        }
    }
    assert_true(seen_vendor);
    psi__roster__free_unpacked(roster, NULL);
    free(out);

    assert_int_equal(call(f, &f->aud, "work.list", NULL, 0, NULL, NULL), PSI_ERR_DENIED);
    expect_error(f, "auditors may not call work.list");
    int status;
    assert_null(results(f, &f->aud, NULL, &status));
    assert_int_equal(status, PSI_ERR_DENIED);
    assert_null(results(f, &f->v, NULL, &status));
    assert_int_equal(status, PSI_ERR_DENIED);
    expect_error(f, "contribute-only");
    assert_null(results(f, &f->a, "agency-b", &status));
    assert_int_equal(status, PSI_ERR_DENIED);
    expect_error(f, "results of another participant");
    assert_int_equal(call(f, &f->a, "no.such.method", NULL, 0, NULL, NULL), PSI_ERR_PROTOCOL);
    expect_error(f, "unknown method");
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    assert_int_equal(call(f, &f->a, "work.list", junk, sizeof junk, NULL, NULL), PSI_ERR_PARSE);
    expect_error(f, "malformed body of work.list");
}

/* ---------------------------------------------------------------- status */

/* The sender's status as "count:done1,done2/pending1;..." (0 when refused). */
static int status_of(struct fixture *f, const struct psi_identity *who, const char *epoch,
                     char *out, size_t cap, uint64_t *own_pending)
{
    Psi__StatusRequest m = PSI__STATUS_REQUEST__INIT;
    m.epoch = (char *)epoch;
    size_t n, out_len = 0;
    uint8_t *body = hub_test_pack(&m.base, &n), *reply = NULL;
    int rc = call(f, who, "status", body, n, &reply, &out_len);
    free(body);
    out[0] = '\0';
    if (rc != 0)
        return rc;
    Psi__Status *st = psi__status__unpack(NULL, out_len, reply);
    assert_non_null(st);
    size_t at = 0;
    for (size_t i = 0; i < st->n_submissions; i++) {
        const Psi__SubmissionStatus *ss = st->submissions[i];
        at += (size_t)snprintf(out + at, cap - at, "%s%llu:", i ? ";" : "",
                               (unsigned long long)ss->count);
        for (size_t k = 0; k < ss->n_done; k++)
            at += (size_t)snprintf(out + at, cap - at, "%s%s", k ? "," : "", ss->done[k]);
        at += (size_t)snprintf(out + at, cap - at, "/");
        for (size_t k = 0; k < ss->n_pending; k++)
            at += (size_t)snprintf(out + at, cap - at, "%s%s", k ? "," : "", ss->pending[k]);
    }
    if (own_pending)
        *own_pending = st->own_pending;
    psi__status__free_unpacked(st, NULL);
    free(reply);
    return 0;
}

static void expect_status(struct fixture *f, const struct psi_identity *who, const char *want,
                          uint64_t want_own)
{
    char got[1024];
    uint64_t own = 99;
    assert_int_equal(status_of(f, who, "", got, sizeof got, &own), 0);
    if (strcmp(got, want) != 0)
        print_message("status of %s: '%s', want '%s'\n", who->name, got, want);
    assert_string_equal(got, want);
    assert_int_equal(own, want_own);
}

/* status: a party sees its own submissions only, each with the peers that
 * may cross-blind it split into done and pending, under the current
 * policies; contribute-only parties may ask, auditors may not. */
static void status_of_submissions(void **state)
{
    struct fixture *f = *state;
    expect_status(f, &f->a, "", 0);
    const uint32_t set_a[] = {1, 2, 3}, set_b[] = {1, 4};
    uint64_t sa = submit(f, &f->a, 3, NULL), sb = submit(f, &f->b, 2, NULL);
    expect_status(f, &f->a, "3:/agency-b,agency-c,vendor-v", 1);
    expect_status(f, &f->b, "2:/agency-a,agency-c,vendor-v", 1);
    expect_status(f, &f->c, "", 2);
    assert_int_equal(crossblind(f, &f->b, sa, set_a, 3, NULL), 0);
    expect_status(f, &f->a, "3:agency-b/agency-c,vendor-v", 1);
    expect_status(f, &f->b, "2:/agency-a,agency-c,vendor-v", 0);
    assert_int_equal(crossblind(f, &f->a, sb, set_b, 2, NULL), 0);
    expect_status(f, &f->a, "3:agency-b/agency-c,vendor-v", 0);
    expect_status(f, &f->b, "2:agency-a/agency-c,vendor-v", 0);
    uint64_t sa2 = submit(f, &f->a, 1, NULL);
    assert_true(sa2 > sa);
    expect_status(f, &f->a, "3:agency-b/agency-c,vendor-v;1:/agency-b,agency-c,vendor-v", 0);

    /* contribute-only may ask (no matches in it); auditors may not */
    char got[256];
    assert_int_equal(status_of(f, &f->v, "", got, sizeof got, NULL), 0);
    assert_string_equal(got, "");
    assert_int_equal(status_of(f, &f->aud, "", got, sizeof got, NULL), PSI_ERR_DENIED);
    expect_error(f, "auditors may not call status");
    /* another epoch: none of a's; a bad label is refused */
    assert_int_equal(status_of(f, &f->a, "E0", got, sizeof got, NULL), 0);
    assert_string_equal(got, "");
    assert_int_equal(status_of(f, &f->a, "bad label!", got, sizeof got, NULL), PSI_ERR_PROTOCOL);
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    assert_int_equal(call(f, &f->a, "status", junk, sizeof junk, NULL, NULL), PSI_ERR_PARSE);

    /* a shares with c only: b, done or not, is no longer listed */
    const char only_c[1][PSI_STORE_ID_MAX + 1] = {"agency-c"};
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    assert_int_equal(f->hub.ops->participant_set_policy(&t, "agency-a", 0, only_c, 1, 0), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    expect_status(f, &f->a, "3:/agency-c;1:/agency-c", 0);
    expect_status(f, &f->b, "2:/agency-c,vendor-v", 0);
}

/* ---------------------------------------------------------------- uploads */

static void upload_rules(void **state)
{
    struct fixture *f = *state;
    uint8_t id[16], bytes[300];
    randombytes_buf(id, sizeof id);
    randombytes_buf(bytes, sizeof bytes);
    uint64_t received = 0;
    assert_int_equal(upload(f, &f->a, id, 0, bytes, 100, &received), 0);
    assert_int_equal(received, 100);
    /* a repeat of held bytes is acknowledged, nothing added */
    assert_int_equal(upload(f, &f->a, id, 0, bytes, 100, &received), 0);
    assert_int_equal(received, 100);
    assert_int_equal(upload(f, &f->a, id, 50, bytes + 50, 50, &received), 0);
    assert_int_equal(received, 100);
    /* overlapping and extending: the overlap must agree, the rest appends */
    assert_int_equal(upload(f, &f->a, id, 80, bytes + 80, 120, &received), 0);
    assert_int_equal(received, 200);
    assert_int_equal(hub_test_count_rows(f->dir, "upload_chunk"), 2);
    /* different bytes over a held range */
    uint8_t other[50];
    memcpy(other, bytes + 150, 50);
    other[10] ^= 1;
    assert_int_equal(upload(f, &f->a, id, 150, other, 50, &received), PSI_ERR_PROTOCOL);
    expect_error(f, "differs");
    /* a gap */
    assert_int_equal(upload(f, &f->a, id, 201, bytes, 10, &received), PSI_ERR_PROTOCOL);
    expect_error(f, "gap");
    /* an empty chunk, a short upload id */
    assert_int_equal(upload(f, &f->a, id, 200, bytes, 0, &received), PSI_ERR_PROTOCOL);
    Psi__UploadChunk m = PSI__UPLOAD_CHUNK__INIT;
    m.upload_id.data = id;
    m.upload_id.len = 15;
    m.items.data = bytes;
    m.items.len = 10;
    size_t n;
    uint8_t *body = hub_test_pack(&m.base, &n);
    assert_int_equal(call(f, &f->a, "upload.chunk", body, n, NULL, NULL), PSI_ERR_PROTOCOL);
    free(body);
    assert_int_equal(hub_test_count_rows(f->dir, "upload_chunk"), 2);
    /* uploads are per sender: b's upload of the same id is its own */
    assert_int_equal(upload(f, &f->b, id, 0, bytes, 10, &received), 0);
    assert_int_equal(received, 10);
    /* the per-sender staging limit */
    f->hub.staging_limit = 250;
    assert_int_equal(upload(f, &f->a, id, 200, bytes + 200, 51, &received), PSI_ERR_QUOTA);
    assert_int_equal(upload(f, &f->a, id, 200, bytes + 200, 50, &received), 0);
    assert_int_equal(received, 250);
    assert_int_equal(hub_test_count_rows(f->dir, "upload_chunk"), 4);
}

/* ---------------------------------------------------------------- submissions */

static void submission_refusals(void **state)
{
    struct fixture *f = *state;
    uint8_t *elements = hub_test_elements(5), id[16];
    upload_all(f, &f->a, id, elements, (size_t)5 * 32);
    struct commit_opts o;

    memset(&o, 0, sizeof o);
    o.epoch = "E0";
    assert_int_equal(commit_submission(f, &f->a, id, elements, 5, &o, NULL, NULL), PSI_ERR_EPOCH);
    expect_error(f, "submission for epoch E0, current epoch is E1");
    memset(&o, 0, sizeof o);
    o.count_delta = 1;
    assert_int_equal(commit_submission(f, &f->a, id, elements, 5, &o, NULL, NULL),
                     PSI_ERR_PROTOCOL);
    memset(&o, 0, sizeof o);
    o.bad_digest = 1;
    assert_int_equal(commit_submission(f, &f->a, id, elements, 5, &o, NULL, NULL), PSI_ERR_VERIFY);
    expect_error(f, "digest");
    memset(&o, 0, sizeof o);
    o.bad_signature = 1;
    assert_int_equal(commit_submission(f, &f->a, id, elements, 5, &o, NULL, NULL), PSI_ERR_VERIFY);
    expect_error(f, "bad submission signature");
    uint8_t unknown[16];
    randombytes_buf(unknown, sizeof unknown);
    assert_int_equal(commit_submission(f, &f->a, unknown, elements, 5, NULL, NULL, NULL),
                     PSI_ERR_NOT_FOUND);
    /* b cannot commit a's upload: uploads are per sender */
    assert_int_equal(commit_submission(f, &f->b, id, elements, 5, NULL, NULL, NULL),
                     PSI_ERR_NOT_FOUND);
    assert_int_equal(hub_test_count_rows(f->dir, "submission"), 0);
    assert_int_equal(hub_test_count_rows(f->dir, "upload"), 1);
    free(elements);

    /* the identity, and a non-canonical encoding */
    for (int bad = 0; bad < 2; bad++) {
        elements = hub_test_elements(4);
        if (bad == 0)
            memset(elements + (size_t)2 * 32, 0, 32);
        else
            memset(elements + (size_t)3 * 32, 0xff, 32);
        upload_all(f, &f->a, id, elements, (size_t)4 * 32);
        assert_int_equal(commit_submission(f, &f->a, id, elements, 4, NULL, NULL, NULL),
                         PSI_ERR_ENCODING);
        expect_error(f, bad == 0 ? "element 2 " : "element 3 ");
        free(elements);
    }
    assert_int_equal(hub_test_count_rows(f->dir, "submission"), 0);
    assert_int_equal(hub_test_count_rows(f->dir, "element_block"), 0);
}

/* A submission canonicalised under other indicator rules is refused whole,
 * naming both versions; one that leaves the field out (an older client) is
 * taken as rules 1; the hub's info says its rules. */
static void indicator_rules(void **state)
{
    struct fixture *f = *state;
    uint8_t *elements = hub_test_elements(3), id[16];
    upload_all(f, &f->a, id, elements, (size_t)3 * 32);
    struct commit_opts o;
    memset(&o, 0, sizeof o);
    o.rules = PSI_IOC_RULES_VERSION + 1;
    assert_int_equal(commit_submission(f, &f->a, id, elements, 3, &o, NULL, NULL),
                     PSI_ERR_PROTOCOL);
    char want[200];
    snprintf(want, sizeof want,
             "this submission was canonicalised under indicator rules %u; epoch %s is under "
             "rules %u",
             PSI_IOC_RULES_VERSION + 1, EPOCH, PSI_IOC_RULES_VERSION);
    expect_error(f, want);
    assert_int_equal(hub_test_count_rows(f->dir, "submission"), 0);
    /* the same upload under the hub's rules is taken */
    o.rules = PSI_IOC_RULES_VERSION;
    uint64_t sid = 0;
    assert_int_equal(commit_submission(f, &f->a, id, elements, 3, &o, &sid, NULL), 0);
    free(elements);
    /* an older client, no field: rules 1 (every earlier release) */
    elements = hub_test_elements(2);
    upload_all(f, &f->b, id, elements, (size_t)2 * 32);
    memset(&o, 0, sizeof o);
    o.omit_rules = 1;
    assert_int_equal(commit_submission(f, &f->b, id, elements, 2, &o, NULL, NULL),
                     PSI_IOC_RULES_VERSION == 1 ? 0 : PSI_ERR_PROTOCOL);
    free(elements);
    assert_int_equal(hub_test_count_rows(f->dir, "submission"), PSI_IOC_RULES_VERSION == 1 ? 2 : 1);

    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(call(f, &f->a, "info", NULL, 0, &out, &out_len), 0);
    Psi__HubInfo *info = psi__hub_info__unpack(NULL, out_len, out);
    assert_non_null(info);
    assert_int_equal(info->indicator_rules, PSI_IOC_RULES_VERSION);
    psi__hub_info__free_unpacked(info, NULL);
    free(out);
}

/* Elements and tags of another mutual suite are refused whole, in one line
 * naming both suites, before anything is stored; a client older than the
 * field (no mutual_suite) is of suite 1, ristretto255; the hub's info says
 * its suite. */
static void mutual_suite_agreement(void **state)
{
    struct fixture *f = *state;
    unsigned mine = psi_mutual_suite();
    unsigned other =
        mine == PSI_MUTUAL_SUITE_X25519 ? PSI_MUTUAL_SUITE_RISTRETTO255 : PSI_MUTUAL_SUITE_X25519;
    uint8_t *elements = hub_test_elements(3), id[16];
    upload_all(f, &f->a, id, elements, (size_t)3 * 32);
    struct commit_opts o;
    memset(&o, 0, sizeof o);
    o.suite = other;
    assert_int_equal(commit_submission(f, &f->a, id, elements, 3, &o, NULL, NULL),
                     PSI_ERR_PROTOCOL);
    char want[200];
    snprintf(want, sizeof want,
             "these elements are of mutual suite %u (%s); this hub matches under suite %u (%s)",
             other, psi_mutual_suite_name(other), mine, psi_mutual_suite_name(mine));
    expect_error(f, want);
    /* an older client, no field: ristretto255 */
    o.suite = 0;
    o.omit_suite = 1;
    assert_int_equal(commit_submission(f, &f->a, id, elements, 3, &o, NULL, NULL),
                     mine == PSI_MUTUAL_SUITE_RISTRETTO255 ? 0 : PSI_ERR_PROTOCOL);
    if (mine != PSI_MUTUAL_SUITE_RISTRETTO255)
        expect_error(f, "these elements are of mutual suite 1 (ristretto255)");
    assert_int_equal(hub_test_count_rows(f->dir, "submission"),
                     mine == PSI_MUTUAL_SUITE_RISTRETTO255 ? 1 : 0);
    free(elements);

    /* tags: b's batch under the other suite is refused, under its own taken */
    uint64_t sid = submit(f, &f->a, 3, NULL);
    static const uint32_t indicators[3] = {1, 2, 3};
    struct crossblind_opts co;
    memset(&co, 0, sizeof co);
    co.suite = other;
    assert_int_equal(crossblind(f, &f->b, sid, indicators, 3, &co), PSI_ERR_PROTOCOL);
    snprintf(want, sizeof want,
             "these tags are of mutual suite %u (%s); this hub matches under suite %u (%s)", other,
             psi_mutual_suite_name(other), mine, psi_mutual_suite_name(mine));
    expect_error(f, want);
    assert_int_equal(crossblind(f, &f->b, sid, indicators, 3, NULL), 0);

    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(call(f, &f->a, "info", NULL, 0, &out, &out_len), 0);
    Psi__HubInfo *info = psi__hub_info__unpack(NULL, out_len, out);
    assert_non_null(info);
    assert_int_equal(info->mutual_suite, mine);
    psi__hub_info__free_unpacked(info, NULL);
    free(out);
}

/* A retry (same request id, fresh nonce) gets the first answer and does not
 * act twice; the same id for another method is refused. */
static void retry_and_replay(void **state)
{
    struct fixture *f = *state;
    uint8_t *elements = hub_test_elements(3), upload_id[16];
    upload_all(f, &f->a, upload_id, elements, 96);
    unsigned char digest[32], sig[64];
    hub_test_submission_digest(EPOCH, "agency-a", 3, elements, digest);
    hub_test_submission_sign(f->a.secret_key, f->hub.identity.public_key, digest, sig);
    size_t n, len1, len2;
    uint8_t *body = hub_test_commit_body(upload_id, EPOCH, 3, digest, sig, &n), *first = NULL,
            *second = NULL;
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    assert_int_equal(call_id(f, &f->a, rid, "submit.commit", body, n, &first, &len1), 0);
    assert_int_equal(call_id(f, &f->a, rid, "submit.commit", body, n, &second, &len2), 0);
    assert_int_equal(len1, len2);
    assert_memory_equal(first, second, len1);
    assert_int_equal(hub_test_count_rows(f->dir, "submission"), 1);
    assert_int_equal(call_id(f, &f->a, rid, "info", NULL, 0, NULL, NULL), PSI_ERR_PROTOCOL);
    expect_error(f, "request id already used");
    free(first);
    free(second);
    free(body);
    free(elements);

    /* the identical frame twice: the second is a replay */
    uint8_t *frame = NULL, *reply = NULL;
    size_t frame_len, reply_len;
    randombytes_buf(rid, sizeof rid);
    assert_int_equal(psi_request_seal(&f->a, f->hub.identity.public_key, "info", rid, NULL, 0,
                                      &frame, &frame_len),
                     0);
    struct psi_hub_outcome o;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(psi_hub_handle(&f->hub, f->st, frame, frame_len, &reply, &reply_len, &o),
                         0);
        assert_int_equal(o.status, i == 0 ? 0 : PSI_ERR_REPLAY);
        assert_string_equal(o.participant, "agency-a");
        free(reply);
    }
    free(frame);

    /* unknown sender; a frame from nowhere */
    assert_int_equal(call(f, &f->stranger, "info", NULL, 0, NULL, NULL), PSI_ERR_DENIED);
    expect_error(f, "unknown participant 'stranger'");
    assert_string_equal(f->last_outcome.participant, "stranger");
    assert_false(f->last_outcome.verified);
    const uint8_t garbage[] = {1, 2, 3};
    assert_int_equal(
        psi_hub_handle(&f->hub, f->st, garbage, sizeof garbage, &reply, &reply_len, &o), 0);
    assert_int_not_equal(o.status, 0);
    assert_string_equal(o.participant, "-");
    assert_string_equal(o.method, "-");
    assert_int_equal(reply[0], PSI_FRAME_PLAIN_ERROR);
    free(reply);
}

/* ---------------------------------------------------------------- refusal budget */

/* Requests under a roster member's name with another key are refused and
 * logged, but no more than PSI_HUB_REFUSAL_BUDGET a window per name: anyone
 * may send them, and the log is append-only. */
static void refusal_budget(void **state)
{
    struct fixture *f = *state;
    struct psi_identity impostor_a, impostor_b;
    assert_int_equal(psi_identity_generate(&impostor_a, "agency-a"), 0);
    assert_int_equal(psi_identity_generate(&impostor_b, "agency-b"), 0);
    long long before = hub_test_count_rows(f->dir, "log_entry");
    for (unsigned i = 0; i < PSI_HUB_REFUSAL_BUDGET + 25; i++) {
        assert_int_equal(call(f, &impostor_a, "info", NULL, 0, NULL, NULL), PSI_ERR_VERIFY);
        expect_error(f, "bad signature");
        assert_string_equal(f->last_outcome.participant, "agency-a"); /* as claimed */
        assert_false(f->last_outcome.verified);
    }
    assert_int_equal(hub_test_count_rows(f->dir, "log_entry"), before + PSI_HUB_REFUSAL_BUDGET);
    /* another name has a budget of its own */
    assert_int_equal(call(f, &impostor_b, "info", NULL, 0, NULL, NULL), PSI_ERR_VERIFY);
    assert_int_equal(hub_test_count_rows(f->dir, "log_entry"), before + PSI_HUB_REFUSAL_BUDGET + 1);
    /* the real agency-a is served as ever */
    assert_int_equal(call(f, &f->a, "info", NULL, 0, NULL, NULL), 0);
    assert_true(f->last_outcome.verified);
    psi_identity_clear(&impostor_a);
    psi_identity_clear(&impostor_b);

    /* the windows, by the store's clock */
    struct psi_txn t;
    int granted = -1;
    const uint64_t t0 = 1000000, w = 500;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            f->hub.ops->refusal_budget_take(&t, "agency-c", t0 + (uint64_t)i, w, 2, &granted), 0);
        assert_int_equal(granted, i < 2);
    }
    assert_int_equal(f->hub.ops->refusal_budget_take(&t, "agency-c", t0 + w - 1, w, 2, &granted),
                     0);
    assert_int_equal(granted, 0);
    assert_int_equal(f->hub.ops->refusal_budget_take(&t, "agency-c", t0 + w, w, 2, &granted), 0);
    assert_int_equal(granted, 1); /* a new window */
    assert_int_equal(f->hub.ops->refusal_budget_take(&t, "agency-c", t0 - 5, w, 2, &granted), 0);
    assert_int_equal(granted, 1); /* the clock went back: a new window too */
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* A store made before the refusal budget and the vendor feeds existed gets
 * their tables when the hub opens it, and works. Such a store is one the
 * hub left before its schema versions were numbered (user_version 0,
 * schema_version 2 in meta): made so here by rewriting the SQLite file, as
 * only a test of this backend's migrations may (store_migrate_test.c has
 * the numbered versions). */
static void older_store_gets_new_tables(void **state)
{
    struct fixture *f = *state;
    f->hub.ops->close(f->st);
    f->st = NULL;
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/hub.db", f->dir);
    assert_int_equal(
        test_sqlite_exec(path, "DROP TABLE refusal_budget; DROP TABLE feed_key; DROP TABLE feed;"
                               " DROP TABLE feed_block; DROP TABLE quota; DROP TABLE query;"
                               " PRAGMA user_version = 0; INSERT INTO meta(key, value)"
                               " VALUES ('schema_version', '2');"),
        SQLITE_OK);
    assert_int_equal(psi_hub_connect(&f->hub, &f->st, err, sizeof err), 0);
    assert_int_equal(hub_test_count_rows(f->dir, "refusal_budget"), 0);
    assert_int_equal(hub_test_count_rows(f->dir, "feed_key"), 0);
    struct psi_identity impostor;
    assert_int_equal(psi_identity_generate(&impostor, "agency-b"), 0);
    assert_int_equal(call(f, &impostor, "info", NULL, 0, NULL, NULL), PSI_ERR_VERIFY);
    assert_int_equal(hub_test_count_rows(f->dir, "refusal_budget"), 1);
    psi_identity_clear(&impostor);
}

/* A query table made before the hub kept the agencies' signatures (in a
 * store of before the numbered versions, made so by rewriting the file)
 * gets the column on open; its old batches are listed without one (which the
 * vendor's agent refuses), new ones keep theirs. */
static int first_pending(void *ctx, const struct psi_store_query *q)
{
    *(struct psi_store_query *)ctx = *q;
    return 1;
}

static void older_query_table_gets_signatures(void **state)
{
    struct fixture *f = *state;
    f->hub.ops->close(f->st);
    f->st = NULL;
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/hub.db", f->dir);
    assert_int_equal(
        test_sqlite_exec(
            path, "DROP TABLE query; CREATE TABLE query ("
                  " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                  " agency TEXT NOT NULL, vendor TEXT NOT NULL, epoch TEXT NOT NULL,"
                  " count INTEGER NOT NULL CHECK (count > 0), elements BLOB NOT NULL,"
                  " log_index INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
                  " evaluated BLOB, proof BLOB, answered_ms INTEGER);"
                  "INSERT INTO query(agency, vendor, epoch, count, elements, log_index,"
                  " created_ms) VALUES ('agency-a', 'vendor-v', 'E1', 1, zeroblob(32), 0, 0);"
                  "PRAGMA user_version = 0;"
                  "INSERT INTO meta(key, value) VALUES ('schema_version', '2');"),
        SQLITE_OK);
    assert_int_equal(psi_hub_connect(&f->hub, &f->st, err, sizeof err), 0);
    struct psi_txn t;
    struct psi_store_query q;
    memset(&q, 0xff, sizeof q);
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    /* first_pending stops the listing at the first batch: 1 */
    assert_int_equal(f->hub.ops->query_pending(&t, "vendor-v", first_pending, &q), 1);
    assert_int_equal(q.id, 1);
    assert_int_equal(q.has_signature, 0);
    struct psi_store_query fresh;
    memset(&fresh, 0, sizeof fresh);
    snprintf(fresh.agency, sizeof fresh.agency, "agency-b");
    snprintf(fresh.vendor, sizeof fresh.vendor, "vendor-w");
    snprintf(fresh.epoch, sizeof fresh.epoch, "E1");
    fresh.count = 1;
    memset(fresh.signature, 7, sizeof fresh.signature);
    fresh.has_signature = 1;
    const uint8_t element[32] = {1};
    assert_int_equal(f->hub.ops->query_add(&t, &fresh, element, 1), 0);
    memset(&q, 0, sizeof q);
    assert_int_equal(f->hub.ops->query_get(&t, fresh.id, &q, NULL, NULL, NULL), 0);
    assert_int_equal(q.has_signature, 1);
    assert_memory_equal(q.signature, fresh.signature, sizeof q.signature);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* ---------------------------------------------------------------- cross-blind */

static void crossblind_refusals(void **state)
{
    struct fixture *f = *state;
    uint64_t sa = submit(f, &f->a, 3, NULL);
    const uint32_t ind[] = {1, 2, 3};
    struct crossblind_opts o;
    assert_int_equal(crossblind(f, &f->b, 999, ind, 3, NULL), PSI_ERR_NOT_FOUND);
    expect_error(f, "no submission 999");
    assert_int_equal(crossblind(f, &f->a, sa, ind, 3, NULL), PSI_ERR_DENIED); /* own */
    assert_int_equal(crossblind(f, &f->b, sa, ind, 2, NULL), PSI_ERR_PROTOCOL);
    memset(&o, 0, sizeof o);
    o.bad_digest = 1;
    assert_int_equal(crossblind(f, &f->b, sa, ind, 3, &o), PSI_ERR_VERIFY);
    memset(&o, 0, sizeof o);
    o.bad_signature = 1;
    assert_int_equal(crossblind(f, &f->b, sa, ind, 3, &o), PSI_ERR_VERIFY);
    memset(&o, 0, sizeof o);
    o.claimed_count = 4; /* 3 tags staged, 4 claimed */
    assert_int_equal(crossblind(f, &f->b, sa, ind, 3, &o), PSI_ERR_PROTOCOL);
    assert_int_equal(hub_test_count_rows(f->dir, "crossblind"), 0);
    assert_int_equal(hub_test_count_rows(f->dir, "tag"), 0);
    assert_int_equal(crossblind(f, &f->b, sa, ind, 3, NULL), 0);
    assert_int_equal(crossblind(f, &f->b, sa, ind, 3, NULL), PSI_ERR_DENIED);
    expect_error(f, "already cross-blinded");
    assert_int_equal(hub_test_count_rows(f->dir, "tag"), 3);

    /* a new epoch: the old submission is no longer cross-blinded */
    hub_test_set_meta(f->hub.ops, f->st, PSI_META_EPOCH_LABEL, "E2");
    assert_int_equal(crossblind(f, &f->c, sa, ind, 3, NULL), PSI_ERR_EPOCH);
    expect_error(f, "current epoch is E2");
    assert_int_equal(hub_test_count_rows(f->dir, "tag"), 3);
}

static void fetch_refusals(void **state)
{
    struct fixture *f = *state;
    uint64_t sa = submit(f, &f->a, 3, NULL);
    Psi__FetchRequest fr = PSI__FETCH_REQUEST__INIT;
    size_t n;
    uint8_t *body;
    const struct {
        uint64_t id, offset;
        uint32_t limit;
        int want;
    } cases[] = {
        {sa, 0, 0, PSI_ERR_PROTOCOL},
        {sa, 0, PSI_HUB_MAX_CHUNK_ELEMENTS + 1, PSI_ERR_PROTOCOL},
        {sa, 4, 1, PSI_ERR_PROTOCOL},
        {sa + 1000, 0, 1, PSI_ERR_NOT_FOUND},
        {UINT64_MAX, 0, 1, PSI_ERR_NOT_FOUND},
        {sa, 3, 5, 0}, /* at the end: no elements */
        {sa, 2, 5, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fr.submission_id = cases[i].id;
        fr.offset = cases[i].offset;
        fr.limit = cases[i].limit;
        body = hub_test_pack(&fr.base, &n);
        uint8_t *out = NULL;
        size_t out_len = 0;
        assert_int_equal(call(f, &f->b, "work.fetch", body, n, &out, &out_len), cases[i].want);
        if (cases[i].want == 0) {
            Psi__FetchReply *r = psi__fetch_reply__unpack(NULL, out_len, out);
            assert_non_null(r);
            assert_int_equal(r->elements.len, (3 - cases[i].offset) * 32);
            psi__fetch_reply__free_unpacked(r, NULL);
        }
        free(out);
        free(body);
    }
    /* own submission: not in one's work */
    fr.submission_id = sa;
    fr.offset = 0;
    fr.limit = 1;
    body = hub_test_pack(&fr.base, &n);
    assert_int_equal(call(f, &f->a, "work.fetch", body, n, NULL, NULL), PSI_ERR_DENIED);
    free(body);
}

/* Many positions through the incremental join, both orders of arrival. */
static void join_at_scale(void **state)
{
    struct fixture *f = *state;
    enum { N = 3000 };
    uint32_t *ia = malloc(N * sizeof *ia), *ib = malloc(N * sizeof *ib);
    for (uint32_t k = 0; k < N; k++) {
        ia[k] = k * 2;     /* evens */
        ib[k] = N - 1 - k; /* 0..N-1 reversed: shares the evens below N */
    }
    uint64_t sa = submit(f, &f->a, N, NULL), sb = submit(f, &f->b, N, NULL);
    assert_int_equal(crossblind(f, &f->a, sb, ib, N, NULL), 0);
    assert_int_equal(crossblind(f, &f->b, sa, ia, N, NULL), 0);
    assert_int_equal(hub_test_count_rows(f->dir, "overlap"), N);
    int status;
    Psi__Results *r = results(f, &f->a, NULL, &status);
    assert_int_equal(status, 0);
    assert_int_equal(r->n_matches, N / 2);
    for (size_t i = 0; i < r->n_matches; i++)
        assert_int_equal(r->matches[i]->position, i); /* evens below N sit first */
    psi__results__free_unpacked(r, NULL);
    free(ia);
    free(ib);
}

/* ---------------------------------------------------------------- the hub is not trusted for
 * privacy */

/* The log's size as its latest checkpoint states it, and its last entry. */
static uint64_t log_size(struct fixture *f)
{
    struct psi_txn t;
    char note[PSI_HUB_CHECKPOINT_MAX];
    uint64_t size = 0;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_READ), 0);
    assert_int_equal(psi_hub_log_latest(&t, &size, note, sizeof note), 0);
    psi_txn_rollback(&t);
    return size;
}

/* Entry `index`, decoded; the bytes in *bytes (malloc'd) when bytes is not
 * NULL. */
static void log_entry_at(struct fixture *f, uint64_t index, struct psi_logentry *e, uint8_t **bytes,
                         size_t *len)
{
    static uint8_t *held;
    struct psi_txn t;
    uint8_t *entry = NULL;
    size_t n = 0;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_READ), 0);
    assert_int_equal(psi_hub_log_entry(&t, index, &entry, &n), 0);
    psi_txn_rollback(&t);
    /* The decoded share list points into the bytes: keep them until the
     * next call. */
    free(held);
    held = entry;
    assert_int_equal(psi_logentry_decode(e, entry, n), 0);
    if (bytes != NULL) {
        *bytes = malloc(n);
        memcpy(*bytes, entry, n);
        *len = n;
    }
}

/* Each batch appends a CROSSBLIND and a MATCH entry, whether it matched or
 * not: the size of the log, in every checkpoint the cross-blinder sees, says
 * nothing about its match. */
static void match_entry_after_every_batch(void **state)
{
    struct fixture *f = *state;
    const uint32_t set_a[] = {1, 2}, set_b[] = {1, 3}, set_c[] = {7, 8};
    uint64_t sa = submit(f, &f->a, 2, NULL), sb = submit(f, &f->b, 2, NULL),
             sc = submit(f, &f->c, 2, NULL);
    struct psi_logentry e;
    uint64_t sizes[4], grew[4];
    /* With a common indicator: b over a's set, then a over b's (matches). */
    sizes[0] = log_size(f);
    assert_int_equal(crossblind(f, &f->b, sa, set_a, 2, NULL), 0);
    sizes[1] = log_size(f);
    assert_int_equal(crossblind(f, &f->a, sb, set_b, 2, NULL), 0);
    grew[1] = log_size(f) - sizes[1];
    log_entry_at(f, log_size(f) - 1, &e, NULL, NULL);
    assert_int_equal(e.kind, PSI_LOGENTRY_MATCH);
    assert_true(e.u.match.matched_a == 1 && e.u.match.matched_b == 1);
    grew[0] = sizes[1] - sizes[0];
    /* Without one: c over a's set, then a over c's (nothing in common). */
    sizes[2] = log_size(f);
    assert_int_equal(crossblind(f, &f->c, sa, set_a, 2, NULL), 0);
    sizes[3] = log_size(f);
    assert_int_equal(crossblind(f, &f->a, sc, set_c, 2, NULL), 0);
    grew[2] = sizes[3] - sizes[2];
    grew[3] = log_size(f) - sizes[3];
    for (int i = 0; i < 4; i++)
        assert_true(grew[i] == 2);
    log_entry_at(f, log_size(f) - 2, &e, NULL, NULL);
    assert_int_equal(e.kind, PSI_LOGENTRY_CROSSBLIND);
    log_entry_at(f, log_size(f) - 1, &e, NULL, NULL);
    assert_int_equal(e.kind, PSI_LOGENTRY_MATCH);
    assert_string_equal(e.u.match.participant_a, "agency-a");
    assert_string_equal(e.u.match.participant_b, "agency-c");
    assert_true(e.u.match.matched_a == 0 && e.u.match.matched_b == 0);
    /* The first batch of a pair (nothing to join yet) has its record too. */
    log_entry_at(f, sizes[2] + 1, &e, NULL, NULL);
    assert_int_equal(e.kind, PSI_LOGENTRY_MATCH);
    assert_true(e.u.match.matched_a == 0 && e.u.match.matched_b == 0);
    expect_results(f, &f->a, "0:agency-b");
}

/* Signs and sends a policy statement of who; share lists the ids it shares
 * with (sent in the order given: the hub sorts them as the statement
 * wants). flip_signature breaks the signature. */
static int policy_set(struct fixture *f, const struct psi_identity *who, uint64_t issued_ms,
                      const char *const *share, size_t n, int contribute_only, int flip_signature)
{
    const char *sorted[8];
    assert_true(n <= 8);
    /* Not memcpy: with share NULL the compiler may take share for non-NULL. */
    for (size_t i = 0; i < n; i++)
        sorted[i] = share[i];
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && strcmp(sorted[k - 1], sorted[k]) > 0; k--) {
            const char *tmp = sorted[k];
            sorted[k] = sorted[k - 1];
            sorted[k - 1] = tmp;
        }
    unsigned char list[8 * 65], statement[PSI_POLICY_STATEMENT_MAX], sig[64];
    size_t list_len = 0, len = 0;
    /* A list the statement cannot hold (an id twice) is signed as empty:
     * the hub refuses it before it looks at the signature. */
    int listed = psi_logentry_share_list_build(list, sizeof list, &list_len, sorted, n) == 0;
    struct psi_logentry_party_policy pp;
    memset(&pp, 0, sizeof pp);
    snprintf(pp.participant, sizeof pp.participant, "%s", who->name);
    pp.issued_ms = issued_ms;
    pp.share_all = share == NULL;
    pp.contribute_only = contribute_only;
    pp.share_count = listed ? n : 0;
    pp.share_list = listed && list_len ? list : NULL;
    pp.share_list_len = listed ? list_len : 0;
    assert_int_equal(
        psi_policy_statement(statement, sizeof statement, &len, f->hub.identity.public_key, &pp),
        0);
    crypto_sign_detached(sig, NULL, statement, len, who->secret_key);
    if (flip_signature)
        sig[17] ^= 1;
    Psi__PolicySet m = PSI__POLICY_SET__INIT;
    m.share_all = share == NULL;
    m.share_with = (char **)share;
    m.n_share_with = n;
    m.contribute_only = contribute_only != 0;
    m.issued_ms = issued_ms;
    m.signature.data = sig;
    m.signature.len = 64;
    size_t body_len, out_len = 0;
    uint8_t *body = hub_test_pack(&m.base, &body_len), *out = NULL;
    int rc = call(f, who, "policy.set", body, body_len, &out, &out_len);
    free(body);
    if (rc == 0) {
        Psi__PolicyReceipt *r = psi__policy_receipt__unpack(NULL, out_len, out);
        assert_non_null(r);
        assert_non_null(strstr(r->receipt, "c2sp.org/tlog-proof@v1"));
        psi__policy_receipt__free_unpacked(r, NULL);
    }
    free(out);
    return rc;
}

static void set_operator_policy(struct fixture *f, const char *id, const char *only)
{
    char one[1][PSI_STORE_ID_MAX + 1];
    snprintf(one[0], sizeof one[0], "%s", only ? only : "");
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    assert_int_equal(f->hub.ops->participant_set_policy(&t, id, only == NULL,
                                                        (const char(*)[PSI_STORE_ID_MAX + 1]) one,
                                                        only ? 1 : 0, 0),
                     0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* The roster's view of one participant: its effective policy. */
static void expect_roster_policy(struct fixture *f, const char *id, int share_all,
                                 const char *shares, int contribute_only)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(call(f, &f->a, "roster", NULL, 0, &out, &out_len), 0);
    Psi__Roster *r = psi__roster__unpack(NULL, out_len, out);
    assert_non_null(r);
    int found = 0;
    for (size_t i = 0; i < r->n_participants; i++) {
        const Psi__Participant *p = r->participants[i];
        if (strcmp(p->id, id) != 0)
            continue;
        found = 1;
        char got[256] = "";
        size_t at = 0;
        for (size_t k = 0; k < p->n_share_with; k++)
            at +=
                (size_t)snprintf(got + at, sizeof got - at, "%s%s", k ? "," : "", p->share_with[k]);
        assert_int_equal(p->share_all, share_all);
        assert_string_equal(got, shares);
        assert_int_equal(p->contribute_only, contribute_only);
    }
    assert_true(found);
    psi__roster__free_unpacked(r, NULL);
    free(out);
}

/* A party's own statement narrows the operator's policy: work list, results
 * and roster follow the intersection; the operator can narrow further but
 * never widen what the party stated; a bad signature and an old statement
 * are refused and logged. */
static void party_policy(void **state)
{
    struct fixture *f = *state;
    const uint32_t set_a[] = {1, 2}, set_b[] = {1, 3}, set_c[] = {2, 4};
    uint64_t sa = submit(f, &f->a, 2, NULL), sb = submit(f, &f->b, 2, NULL);
    assert_int_equal(work_count(f, &f->b, NULL), 1);
    assert_int_equal(crossblind(f, &f->b, sa, set_a, 2, NULL), 0);
    assert_int_equal(crossblind(f, &f->a, sb, set_b, 2, NULL), 0);
    expect_results(f, &f->a, "0:agency-b");

    /* a: "agency-c only", sent as a list of one. */
    const char *only_c[] = {"agency-c"};
    uint64_t before = log_size(f);
    assert_int_equal(policy_set(f, &f->a, 1000, only_c, 1, 0, 0), 0);
    struct psi_logentry e;
    log_entry_at(f, before, &e, NULL, NULL);
    assert_int_equal(e.kind, PSI_LOGENTRY_PARTY_POLICY);
    assert_string_equal(e.u.party_policy.participant, "agency-a");
    assert_true(e.u.party_policy.issued_ms == 1000 && e.u.party_policy.share_count == 1);
    assert_true(log_size(f) == before + 1);
    expect_results(f, &f->a, "");
    expect_results(f, &f->b, "");
    expect_roster_policy(f, "agency-a", 0, "agency-c", 0);
    /* Work follows it: c's set is a's work, and a's is c's; b's is not a's. */
    uint64_t sc = submit(f, &f->c, 2, NULL);
    uint64_t sb2 = submit(f, &f->b, 1, NULL);
    uint64_t first = 0;
    assert_int_equal(work_count(f, &f->a, &first), 1);
    assert_true(first == sc);
    assert_int_equal(crossblind(f, &f->a, sb2, set_b, 1, NULL), PSI_ERR_DENIED);
    assert_int_equal(crossblind(f, &f->c, sa, set_a, 2, NULL), 0);
    assert_int_equal(crossblind(f, &f->a, sc, set_c, 2, NULL), 0);
    expect_results(f, &f->a, "1:agency-c");

    /* Refused: a bad signature (VERIFY), an old or equal statement (STALE),
     * the same id twice (PROTOCOL); each leaves the policy as it was, and
     * the first two are logged. */
    const char *all_b[] = {"agency-b", "agency-c"};
    before = log_size(f);
    assert_int_equal(policy_set(f, &f->a, 2000, all_b, 2, 0, 1), PSI_ERR_VERIFY);
    expect_error(f, "bad policy signature");
    log_entry_at(f, before, &e, NULL, NULL);
    assert_int_equal(e.kind, PSI_LOGENTRY_REFUSAL);
    assert_int_equal(e.u.refusal.code, PSI_ERR_VERIFY);
    assert_int_equal(policy_set(f, &f->a, 1000, all_b, 2, 0, 0), PSI_ERR_STALE);
    expect_error(f, "not after the one accepted");
    log_entry_at(f, before + 1, &e, NULL, NULL);
    assert_int_equal(e.kind, PSI_LOGENTRY_REFUSAL);
    assert_int_equal(e.u.refusal.code, PSI_ERR_STALE);
    const char *twice[] = {"agency-b", "agency-b"};
    assert_int_equal(policy_set(f, &f->a, 3000, twice, 2, 0, 0), PSI_ERR_PROTOCOL);
    expect_error(f, "names agency-b twice");
    expect_results(f, &f->a, "1:agency-c");

    /* The operator narrows a to b only: with a's "c only", nobody. */
    set_operator_policy(f, "agency-a", "agency-b");
    expect_results(f, &f->a, "");
    expect_roster_policy(f, "agency-a", 0, "", 0);
    /* a now says all: the operator's "b only" holds; it cannot widen. */
    assert_int_equal(policy_set(f, &f->a, 4000, NULL, 0, 0, 0), 0);
    expect_roster_policy(f, "agency-a", 0, "agency-b", 0);
    expect_results(f, &f->a, "0:agency-b");
    expect_results(f, &f->c, "");
    /* The operator opens again: a's "all" and the operator's all. */
    set_operator_policy(f, "agency-a", NULL);
    expect_results(f, &f->a, "0:agency-b;1:agency-c");
    expect_roster_policy(f, "agency-a", 1, "", 0);
    /* a takes no results, by its own word. */
    assert_int_equal(policy_set(f, &f->a, 5000, NULL, 0, 1, 0), 0);
    int status;
    Psi__Results *r = results(f, &f->a, NULL, &status);
    assert_null(r);
    assert_int_equal(status, PSI_ERR_DENIED);
    expect_roster_policy(f, "agency-a", 1, "", 1);
    /* Auditors state no policy (they may call only info, roster, log). */
    assert_int_equal(policy_set(f, &f->aud, 1, NULL, 0, 0, 0), PSI_ERR_DENIED);
}

/* The per-participant element quota: a submission that would pass it is
 * refused whole and logged; a smaller one that fits goes through. */
static void element_quota(void **state)
{
    struct fixture *f = *state;
    char *quota_args[] = {"quota", "--dir", f->dir, "--id", "agency-a", "--elements", "10", NULL};
    assert_int_equal(psi_hub_cmd_quota(7, quota_args), 0);
    struct psi_logentry e;
    log_entry_at(f, log_size(f) - 1, &e, NULL, NULL);
    assert_int_equal(e.kind, PSI_LOGENTRY_ELEMENT_QUOTA);
    assert_string_equal(e.u.element_quota.participant, "agency-a");
    assert_true(e.u.element_quota.limit == 10);

    submit(f, &f->a, 6, NULL);
    uint8_t *elements = hub_test_elements(5), upload_id[16];
    upload_all(f, &f->a, upload_id, elements, (size_t)5 * 32);
    uint64_t before = log_size(f);
    assert_int_equal(commit_submission(f, &f->a, upload_id, elements, 5, NULL, NULL, NULL),
                     PSI_ERR_QUOTA);
    expect_error(f, "used 6, limit 10");
    assert_int_equal(hub_test_count_rows(f->dir, "submission"), 1);
    log_entry_at(f, before, &e, NULL, NULL);
    assert_int_equal(e.kind, PSI_LOGENTRY_REFUSAL);
    assert_int_equal(e.u.refusal.code, PSI_ERR_QUOTA);
    assert_true(e.u.refusal.authenticated);
    assert_string_equal(e.u.refusal.participant, "agency-a");
    assert_string_equal(e.u.refusal.method, "submit.commit");
    free(elements);
    /* 4 fit exactly; then nothing more. */
    uint64_t base = 0;
    elements = hub_test_elements(4);
    upload_all(f, &f->a, upload_id, elements, (size_t)4 * 32);
    assert_int_equal(commit_submission(f, &f->a, upload_id, elements, 4, NULL, NULL, &base), 0);
    assert_true(base == 6);
    free(elements);
    elements = hub_test_elements(1);
    upload_all(f, &f->a, upload_id, elements, 32);
    assert_int_equal(commit_submission(f, &f->a, upload_id, elements, 1, NULL, NULL, NULL),
                     PSI_ERR_QUOTA);
    expect_error(f, "used 10, limit 10");
    free(elements);
    /* Without a quota of its own, b has the default (refused before the
     * upload is even read). */
    unsigned char junk[64] = {0};
    size_t n;
    uint8_t *body =
        hub_test_commit_body(upload_id, EPOCH, PSI_ELEMENT_QUOTA_DEFAULT + 1U, junk, junk, &n);
    assert_int_equal(call(f, &f->b, "submit.commit", body, n, NULL, NULL), PSI_ERR_QUOTA);
    free(body);
    expect_error(f, "used 0, limit 1000000");
    /* The command's refusals. */
    char *auditor[] = {"quota", "--dir", f->dir, "--id", "auditor-1", "--elements", "5", NULL};
    assert_int_equal(psi_hub_cmd_quota(7, auditor), 1);
    char *nobody[] = {"quota", "--dir", f->dir, "--id", "nobody", "--elements", "5", NULL};
    assert_int_equal(psi_hub_cmd_quota(7, nobody), 1);
    char *mixed[] = {"quota", "--dir", f->dir, "--id", "agency-a", "--limit", "5", NULL};
    assert_int_equal(psi_hub_cmd_quota(7, mixed), 2);
    char *negative[] = {"quota", "--dir", f->dir, "--id", "agency-a", "--elements", "-1", NULL};
    assert_int_equal(psi_hub_cmd_quota(7, negative), 2);
}

/* Admits who through `psi-hub admit`, as the operator does. */
static void admit_by_command(struct fixture *f, const struct psi_identity *who, const char *role,
                             const char *share, int contribute_only)
{
    char vkey[PSI_VKEY_MAX], id[PSI_STORE_ID_MAX + 1], r[16], sh[128];
    assert_int_equal(psi_identity_vkey(who, vkey, sizeof vkey), 0);
    snprintf(id, sizeof id, "%s", who->name);
    snprintf(r, sizeof r, "%s", role);
    snprintf(sh, sizeof sh, "%s", share);
    char *args[] = {"admit", "--dir",        f->dir, "--id",
                    id,      "--role",       r,      "--key",
                    vkey,    "--share-with", sh,     contribute_only ? "--contribute-only" : NULL,
                    NULL};
    assert_int_equal(psi_hub_cmd_admit(contribute_only ? 12 : 11, args), 0);
}

/* Every roster member admitted through the log carries its ADMIT entry,
 * verbatim, and its index: the entry names the same id, role and key, and
 * its leaf is in the tree at that index. Then the log so far audits clean. */
static void roster_pins_admissions(void **state)
{
    struct fixture *f = *state;
    struct psi_identity p, q, x;
    assert_int_equal(psi_identity_generate(&p, "party-p"), 0);
    assert_int_equal(psi_identity_generate(&q, "party-q"), 0);
    assert_int_equal(psi_identity_generate(&x, "auditor-x"), 0);
    admit_by_command(f, &p, "agency", "all", 0);
    admit_by_command(f, &q, "vendor", "party-p,agency-a", 1);
    admit_by_command(f, &x, "auditor", "all", 0);
    char *tighten[] = {"policy",  "--dir",        f->dir,    "--id",
                       "party-q", "--share-with", "party-p", NULL};
    assert_int_equal(psi_hub_cmd_policy(7, tighten), 0);

    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(call(f, &p, "roster", NULL, 0, &out, &out_len), 0);
    Psi__Roster *r = psi__roster__unpack(NULL, out_len, out);
    assert_non_null(r);
    struct psi_note_verifier log_key;
    memset(&log_key, 0, sizeof log_key);
    memcpy(log_key.name, "test-hub", 9);
    memcpy(log_key.public_key, f->hub.identity.public_key, 32);
    assert_int_equal(psi_note_key_id(&log_key.key_id, "test-hub", log_key.public_key), 0);
    struct psi_txn t;
    char note[PSI_HUB_CHECKPOINT_MAX];
    uint64_t size = 0;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_READ), 0);
    assert_int_equal(psi_hub_log_latest(&t, &size, note, sizeof note), 0);
    struct psi_checkpoint cp;
    assert_int_equal(psi_checkpoint_open(&cp, note, strlen(note), &log_key, NULL), 0);
    size_t pinned = 0;
    for (size_t i = 0; i < r->n_participants; i++) {
        const Psi__Participant *m = r->participants[i];
        if (m->admit_entry.len == 0)
            continue; /* the fixture's members, put in the store without a log */
        pinned++;
        struct psi_logentry e;
        assert_int_equal(psi_logentry_decode(&e, m->admit_entry.data, m->admit_entry.len), 0);
        assert_int_equal(e.kind, PSI_LOGENTRY_ADMIT);
        assert_string_equal(e.u.roster.participant, m->id);
        assert_string_equal(psi_role_name(e.u.roster.role), m->role);
        assert_int_equal(m->public_key.len, 32);
        assert_memory_equal(e.u.roster.public_key, m->public_key.data, 32);
        unsigned char leaf[32], proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
        size_t count = 0;
        psi_merkle_leaf_hash(leaf, m->admit_entry.data, m->admit_entry.len);
        assert_int_equal(psi_hub_log_inclusion(&t, m->admit_index, cp.size, proof, &count), 0);
        assert_int_equal(psi_merkle_verify_inclusion(leaf, m->admit_index, cp.size,
                                                     (const unsigned char(*)[32])proof, count,
                                                     cp.root),
                         0);
        if (strcmp(m->id, "party-q") == 0) {
            /* The roster shows the policy now; the entry, the admission. */
            assert_int_equal(m->n_share_with, 1);
            assert_int_equal(e.u.roster.share_count, 2);
            assert_true(m->contribute_only && e.u.roster.contribute_only);
        }
    }
    assert_int_equal(pinned, 3);
    psi__roster__free_unpacked(r, NULL);
    free(out);

    /* The whole log (admissions, a policy change) audits clean. */
    struct psi_audit *audit = NULL;
    assert_int_equal(psi_audit_create(&audit, f->hub.identity.public_key, NULL, NULL), 0);
    for (uint64_t i = 0; i < size; i++) {
        uint8_t *entry = NULL;
        size_t len = 0;
        assert_int_equal(psi_hub_log_entry(&t, i, &entry, &len), 0);
        assert_int_equal(psi_audit_entry(audit, entry, len), 0);
        free(entry);
    }
    psi_txn_rollback(&t);
    struct psi_audit_summary sum;
    psi_audit_get_summary(audit, &sum);
    assert_true(sum.violations == 0);
    assert_true(sum.per_kind[PSI_LOGENTRY_ADMIT] == 3);
    psi_audit_destroy(audit);
    psi_identity_clear(&p);
    psi_identity_clear(&q);
    psi_identity_clear(&x);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(two_parties_match, setup, teardown),
        cmocka_unit_test_setup_teardown(threshold_and_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(work_follows_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(roles, setup, teardown),
        cmocka_unit_test_setup_teardown(status_of_submissions, setup, teardown),
        cmocka_unit_test_setup_teardown(upload_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(submission_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(retry_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(refusal_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(older_store_gets_new_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(older_query_table_gets_signatures, setup, teardown),
        cmocka_unit_test_setup_teardown(crossblind_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(fetch_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(join_at_scale, setup, teardown),
        cmocka_unit_test_setup_teardown(match_entry_after_every_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(party_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(element_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(roster_pins_admissions, setup, teardown),
        cmocka_unit_test_setup_teardown(indicator_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(mutual_suite_agreement, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
