/*
 * The hub's feed methods in process (frames in, frames out, through
 * psi_hub_handle and the SQLite store): the whole of protocol 2 at the hub,
 * and every refusal of every feed method, with a look at the store and the
 * log after each to see that a refusal changed nothing but the refusal entry.
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

#include "feeds.h"
#include "hub.h"
#include "hub_fixture.h"
#include "wire.h"
#include "psi/error.h"
#include "psi/feed.h"
#include "psi/feedfilter.h"
#include "psi/logentry.h"
#include "psi/oprf.h"

#define EPOCH "E1"
#define FEED_ITEMS 3000u

struct fixture {
    char dir[256];
    struct psi_hub hub;
    struct psi_store *st;
    struct psi_identity a, b, v, w, aud;
    unsigned char sk[32], pk[32];   /* v's VOPRF key of EPOCH */
    unsigned char wsk[32], wpk[32]; /* w's */
    char last_error[PSI_ERROR_TEXT_MAX + 1];
};

/* ---------------------------------------------------------------- set-up */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hub_test_open_hub(f->dir, sizeof f->dir, "feeds-test", "test-hub", EPOCH, &f->hub, &f->st);
    assert_int_equal(psi_identity_generate(&f->a, "agency-a"), 0);
    assert_int_equal(psi_identity_generate(&f->b, "agency-b"), 0);
    assert_int_equal(psi_identity_generate(&f->v, "vendor-v"), 0);
    assert_int_equal(psi_identity_generate(&f->w, "vendor-w"), 0);
    assert_int_equal(psi_identity_generate(&f->aud, "auditor-1"), 0);
    hub_test_admit(&f->hub, f->st, &f->a, "agency", 0);
    hub_test_admit(&f->hub, f->st, &f->b, "agency", 0);
    hub_test_admit(&f->hub, f->st, &f->v, "vendor", 0);
    hub_test_admit(&f->hub, f->st, &f->w, "vendor", 0);
    hub_test_admit(&f->hub, f->st, &f->aud, "auditor", 0);
    unsigned char seed[32];
    randombytes_buf(seed, sizeof seed);
    assert_int_equal(psi_feed_derive_key(seed, EPOCH, f->sk, f->pk), 0);
    randombytes_buf(seed, sizeof seed);
    assert_int_equal(psi_feed_derive_key(seed, EPOCH, f->wsk, f->wpk), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    psi_identity_clear(&f->a);
    psi_identity_clear(&f->b);
    psi_identity_clear(&f->v);
    psi_identity_clear(&f->w);
    psi_identity_clear(&f->aud);
    hub_test_close_hub(f->dir, &f->hub, f->st);
    free(f);
    return 0;
}

/* Log entries of a kind, read through the store's operations. */
static long long entries_of(struct fixture *f, enum psi_logentry_kind kind)
{
    struct psi_txn t;
    struct psi_merkle_frontier head;
    char checkpoint[2048];
    long long n = 0;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_READ), 0);
    assert_int_equal(f->hub.ops->log_head_get(&t, &head, checkpoint, sizeof checkpoint), 0);
    for (uint64_t i = 0; i < head.size; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        struct psi_logentry e;
        assert_int_equal(f->hub.ops->log_entry_get(&t, i, &bytes, &len), 0);
        assert_int_equal(psi_logentry_decode(&e, bytes, len), 0);
        free(bytes);
        n += e.kind == kind;
    }
    psi_txn_rollback(&t);
    return n;
}

static int call(struct fixture *f, const struct psi_identity *who, const char *method,
                const ProtobufCMessage *msg, uint8_t **out, size_t *out_len)
{
    unsigned char rid[16];
    size_t body_len = 0;
    randombytes_buf(rid, sizeof rid);
    uint8_t *body = hub_test_pack(msg, &body_len);
    struct psi_hub_outcome o;
    int status = hub_test_call(&f->hub, f->st, who, rid, method, body, body_len, f->last_error,
                               sizeof f->last_error, out, out_len, &o);
    free(body);
    return status;
}

static void expect_error(struct fixture *f, const char *needle)
{
    if (strstr(f->last_error, needle) == NULL)
        fail_msg("error '%s' does not say '%s'", f->last_error, needle);
}

/* ---------------------------------------------------------------- protocol steps */

static int announce(struct fixture *f, const struct psi_identity *who, const char *epoch,
                    const unsigned char pk[32], int bad_signature)
{
    unsigned char statement[PSI_FEED_STATEMENT_MAX], sig[64];
    size_t len = 0;
    assert_int_equal(psi_feed_key_statement(statement, sizeof statement, &len,
                                            f->hub.identity.public_key, epoch, pk),
                     0);
    crypto_sign_detached(sig, NULL, statement, len, who->secret_key);
    if (bad_signature)
        sig[3] ^= 1;
    Psi__FeedAnnounce m = PSI__FEED_ANNOUNCE__INIT;
    m.epoch = (char *)epoch;
    m.public_key.data = (uint8_t *)pk;
    m.public_key.len = 32;
    m.signature.data = sig;
    m.signature.len = 64;
    return call(f, who, "feed.announce", &m.base, NULL, NULL);
}

/* The encoded filter of FEED_ITEMS items of vendor `vendor` under (sk, pk). */
static unsigned char *make_filter(const char *vendor, const unsigned char sk[32],
                                  const unsigned char pk[32], size_t *len, uint64_t *count)
{
    unsigned char *outputs = malloc((size_t)FEED_ITEMS * 64);
    assert_non_null(outputs);
    for (unsigned i = 0; i < FEED_ITEMS; i++) {
        char item[64];
        int n = snprintf(item, sizeof item, "domain:item-%u.example", i);
        assert_int_equal(psi_oprf_evaluate(PSI_OPRF_MODE_VOPRF, sk, (const unsigned char *)item,
                                           (size_t)n, outputs + (size_t)64 * i),
                         0);
    }
    struct psi_feed_filter_params p = {EPOCH, vendor, pk, 1e-6, 0};
    struct psi_feed_filter *filter = NULL;
    char err[256];
    assert_int_equal(psi_feed_filter_build(&filter, &p, outputs, FEED_ITEMS, err, sizeof err), 0);
    uint64_t size = 0;
    assert_int_equal(psi_feed_filter_encoded_size(filter, &size), 0);
    unsigned char *bytes = malloc((size_t)size);
    assert_non_null(bytes);
    assert_int_equal(psi_feed_filter_encode(filter, bytes, (size_t)size, len), 0);
    psi_feed_filter_free(filter);
    free(outputs);
    *count = FEED_ITEMS;
    return bytes;
}

static void upload_all(struct fixture *f, const struct psi_identity *who, uint8_t upload_id[16],
                       const uint8_t *bytes, size_t len)
{
    randombytes_buf(upload_id, 16);
    for (size_t at = 0; at < len; at += 100000) {
        Psi__UploadChunk m = PSI__UPLOAD_CHUNK__INIT;
        m.upload_id.data = upload_id;
        m.upload_id.len = 16;
        m.offset = at;
        m.items.data = (uint8_t *)bytes + at;
        m.items.len = len - at < 100000 ? len - at : 100000;
        assert_int_equal(call(f, who, "upload.chunk", &m.base, NULL, NULL), 0);
    }
}

struct commit_opts {
    uint64_t count_delta;
    int bad_signature;
    int no_upload;
};

static int commit_feed(struct fixture *f, const struct psi_identity *who, const uint8_t *bytes,
                       size_t len, uint64_t count, const struct commit_opts *o)
{
    uint8_t upload_id[16];
    if (o && o->no_upload)
        randombytes_buf(upload_id, 16);
    else
        upload_all(f, who, upload_id, bytes, len);
    uint64_t claimed = count + (o ? o->count_delta : 0);
    unsigned char statement[PSI_FEED_STATEMENT_MAX], sig[64];
    size_t slen = 0;
    assert_int_equal(psi_feed_commit_statement(statement, sizeof statement, &slen,
                                               f->hub.identity.public_key, EPOCH, claimed, len,
                                               bytes + len - 32),
                     0);
    crypto_sign_detached(sig, NULL, statement, slen, who->secret_key);
    if (o && o->bad_signature)
        sig[9] ^= 1;
    Psi__FeedCommit m = PSI__FEED_COMMIT__INIT;
    m.upload_id.data = upload_id;
    m.upload_id.len = 16;
    m.epoch = EPOCH;
    m.count = claimed;
    m.rate = 1e-6;
    m.size = len;
    m.digest.data = (uint8_t *)bytes + len - 32;
    m.digest.len = 32;
    m.signature.data = sig;
    m.signature.len = 64;
    return call(f, who, "feed.commit", &m.base, NULL, NULL);
}

static void set_quota(struct fixture *f, const char *agency, const char *vendor, uint64_t limit)
{
    struct psi_txn t;
    char err[256] = "";
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    assert_int_equal(psi_feed_quota_set(&t, agency, vendor, limit, 1, err, sizeof err), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static int submit_as(struct fixture *f, const struct psi_identity *who,
                     const struct psi_identity *signer, const char *vendor, const uint8_t *elements,
                     size_t n, uint64_t *query_id)
{
    unsigned char digest[32], statement[PSI_FEED_STATEMENT_MAX], sig[64];
    size_t len = 0;
    assert_int_equal(psi_feed_query_digest(elements, n, digest), 0);
    if (psi_feed_query_statement(statement, sizeof statement, &len, f->hub.identity.public_key,
                                 vendor, EPOCH, n, digest) == 0)
        crypto_sign_detached(sig, NULL, statement, len, signer->secret_key);
    else
        memset(sig, 0, sizeof sig);
    Psi__QuerySubmit m = PSI__QUERY_SUBMIT__INIT;
    m.vendor = (char *)vendor;
    m.epoch = "";
    m.elements.data = (uint8_t *)elements;
    m.elements.len = n * 32;
    m.signature.data = sig;
    m.signature.len = sizeof sig;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = call(f, who, "query.submit", &m.base, &out, &out_len);
    if (rc == 0) {
        Psi__QueryTicket *t = psi__query_ticket__unpack(NULL, out_len, out);
        assert_non_null(t);
        assert_int_equal(t->count, n);
        *query_id = t->query_id;
        psi__query_ticket__free_unpacked(t, NULL);
    }
    free(out);
    return rc;
}

static int submit(struct fixture *f, const struct psi_identity *who, const char *vendor,
                  const uint8_t *elements, size_t n, uint64_t *query_id)
{
    return submit_as(f, who, who, vendor, elements, n, query_id);
}

static int answer(struct fixture *f, const struct psi_identity *who, uint64_t query_id,
                  const uint8_t *evaluated, size_t n, const unsigned char proof[64])
{
    Psi__QueryAnswer m = PSI__QUERY_ANSWER__INIT;
    m.query_id = query_id;
    m.evaluated.data = (uint8_t *)evaluated;
    m.evaluated.len = n * 32;
    m.proof.data = (uint8_t *)proof;
    m.proof.len = 64;
    return call(f, who, "query.answer", &m.base, NULL, NULL);
}

static Psi__QueryResult *result(struct fixture *f, const struct psi_identity *who,
                                uint64_t query_id, int *rc)
{
    Psi__QueryResultRequest m = PSI__QUERY_RESULT_REQUEST__INIT;
    m.query_id = query_id;
    uint8_t *out = NULL;
    size_t out_len = 0;
    Psi__QueryResult *r = NULL;
    *rc = call(f, who, "query.result", &m.base, &out, &out_len);
    if (*rc == 0) {
        r = psi__query_result__unpack(NULL, out_len, out);
        assert_non_null(r);
    }
    free(out);
    return r;
}

/* A published feed of v, and quota for a. */
static void publish(struct fixture *f, unsigned char **bytes, size_t *len)
{
    uint64_t count = 0;
    assert_int_equal(announce(f, &f->v, EPOCH, f->pk, 0), 0);
    *bytes = make_filter("vendor-v", f->sk, f->pk, len, &count);
    assert_int_equal(commit_feed(f, &f->v, *bytes, *len, count, NULL), 0);
}

/* ---------------------------------------------------------------- tests */

static void announce_refusals(void **state)
{
    struct fixture *f = *state;
    unsigned char bad[32];
    memset(bad, 0xff, sizeof bad);
    assert_int_equal(announce(f, &f->a, EPOCH, f->pk, 0), PSI_ERR_DENIED);
    expect_error(f, "only vendors");
    assert_int_equal(announce(f, &f->v, EPOCH, f->pk, 1), PSI_ERR_VERIFY);
    assert_int_equal(announce(f, &f->v, "E0", f->pk, 0), PSI_ERR_EPOCH);
    assert_int_equal(announce(f, &f->v, EPOCH, bad, 0), PSI_ERR_ENCODING);
    assert_int_equal(hub_test_count_rows(f->dir, "feed_key"), 0);
    assert_int_equal(entries_of(f, PSI_LOGENTRY_EPOCH_KEY), 0);
    assert_int_equal(announce(f, &f->v, EPOCH, f->pk, 0), 0);
    assert_int_equal(announce(f, &f->v, EPOCH, f->pk, 0), 0); /* the same: a no-op */
    assert_int_equal(entries_of(f, PSI_LOGENTRY_EPOCH_KEY), 1);
    assert_int_equal(announce(f, &f->v, EPOCH, f->wpk, 0), PSI_ERR_EXISTS);
    expect_error(f, "one key per epoch");
    assert_int_equal(hub_test_count_rows(f->dir, "feed_key"), 1);
    /* Refusals the log records: the role, the signature. */
    assert_int_equal(entries_of(f, PSI_LOGENTRY_REFUSAL), 2);
}

static void commit_refusals(void **state)
{
    struct fixture *f = *state;
    size_t len = 0, wlen = 0;
    uint64_t count = 0;
    unsigned char *bytes = make_filter("vendor-v", f->sk, f->pk, &len, &count);
    unsigned char *wbytes = make_filter("vendor-w", f->wsk, f->wpk, &wlen, &count);
    struct commit_opts bad_sig = {0, 1, 0}, more = {1, 0, 0}, nothing = {0, 0, 1};

    assert_int_equal(commit_feed(f, &f->v, bytes, len, count, NULL), PSI_ERR_STATE);
    expect_error(f, "announced no feed key");
    assert_int_equal(announce(f, &f->v, EPOCH, f->pk, 0), 0);
    assert_int_equal(commit_feed(f, &f->a, bytes, len, count, NULL), PSI_ERR_DENIED);
    assert_int_equal(commit_feed(f, &f->v, bytes, len, count, &bad_sig), PSI_ERR_VERIFY);
    assert_int_equal(commit_feed(f, &f->v, bytes, len, count, &nothing), PSI_ERR_NOT_FOUND);
    assert_int_equal(commit_feed(f, &f->v, bytes, len, count, &more), PSI_ERR_PROTOCOL);
    expect_error(f, "the commit says 3001 items");
    /* Another vendor's filter (and key), signed by v: refused by the decode. */
    assert_int_equal(commit_feed(f, &f->v, wbytes, wlen, count, NULL), PSI_ERR_PROTOCOL);
    expect_error(f, "the uploaded feed filter is refused: feed filter of vendor \"vendor-w\"");
    /* A corrupted filter. */
    bytes[len / 2] ^= 1;
    assert_int_equal(commit_feed(f, &f->v, bytes, len, count, NULL), PSI_ERR_PROTOCOL);
    expect_error(f, "corrupted");
    bytes[len / 2] ^= 1;
    assert_int_equal(hub_test_count_rows(f->dir, "feed"), 0);
    assert_int_equal(entries_of(f, PSI_LOGENTRY_FEED), 0);

    assert_int_equal(commit_feed(f, &f->v, bytes, len, count, NULL), 0);
    assert_int_equal(hub_test_count_rows(f->dir, "feed"), 1);
    long long blocks = hub_test_count_rows(f->dir, "feed_block");
    /* Publishing again replaces the epoch's feed. */
    assert_int_equal(commit_feed(f, &f->v, bytes, len, count, NULL), 0);
    assert_int_equal(hub_test_count_rows(f->dir, "feed"), 1);
    assert_int_equal(hub_test_count_rows(f->dir, "feed_block"), blocks);
    assert_int_equal(entries_of(f, PSI_LOGENTRY_FEED), 2);
    free(bytes);
    free(wbytes);
}

static void get_reassembles_the_filter(void **state)
{
    struct fixture *f = *state;
    unsigned char *bytes = NULL;
    size_t len = 0;
    Psi__FeedGetRequest m = PSI__FEED_GET_REQUEST__INIT;
    m.vendor = "vendor-v";
    m.limit = 1000;
    assert_int_equal(call(f, &f->a, "feed.get", &m.base, NULL, NULL), PSI_ERR_NOT_FOUND);
    expect_error(f, "no feed");
    publish(f, &bytes, &len);
    m.vendor = "agency-b";
    assert_int_equal(call(f, &f->a, "feed.get", &m.base, NULL, NULL), PSI_ERR_NOT_FOUND);
    expect_error(f, "is not a vendor");
    m.vendor = "nobody";
    assert_int_equal(call(f, &f->a, "feed.get", &m.base, NULL, NULL), PSI_ERR_NOT_FOUND);
    m.vendor = "vendor-v";
    m.limit = 0;
    assert_int_equal(call(f, &f->a, "feed.get", &m.base, NULL, NULL), PSI_ERR_PROTOCOL);
    m.limit = 1000;
    m.offset = len + 1;
    assert_int_equal(call(f, &f->a, "feed.get", &m.base, NULL, NULL), PSI_ERR_PROTOCOL);
    unsigned char *got = malloc(len);
    assert_non_null(got);
    size_t have = 0;
    while (have < len) {
        m.offset = have;
        uint8_t *out = NULL;
        size_t out_len = 0;
        assert_int_equal(call(f, &f->a, "feed.get", &m.base, &out, &out_len), 0);
        Psi__FeedChunk *c = psi__feed_chunk__unpack(NULL, out_len, out);
        assert_non_null(c);
        assert_non_null(c->feed);
        assert_int_equal(c->feed->size, len);
        assert_int_equal(c->feed->count, FEED_ITEMS);
        assert_memory_equal(c->feed->public_key.data, f->pk, 32);
        assert_memory_equal(c->feed->digest.data, bytes + len - 32, 32);
        assert_true(c->data.len > 0 && c->data.len <= 1000);
        memcpy(got + have, c->data.data, c->data.len);
        have += c->data.len;
        psi__feed_chunk__free_unpacked(c, NULL);
        free(out);
    }
    assert_memory_equal(got, bytes, len);
    free(got);
    free(bytes);
}

/* Submit, quota, work, answer (bad, good, again), result: the agency's
 * finish gives the vendor's outputs, and the filter holds the members. */
static void query_round_trip_and_refusals(void **state)
{
    struct fixture *f = *state;
    unsigned char *bytes = NULL;
    size_t len = 0;
    publish(f, &bytes, &len);
    const char *items[4] = {"domain:item-7.example", "domain:item-2999.example",
                            "domain:absent.example", "domain:item-0.example"};
    const unsigned char *inputs[4];
    size_t lens[4];
    for (int i = 0; i < 4; i++) {
        inputs[i] = (const unsigned char *)items[i];
        lens[i] = strlen(items[i]);
    }
    unsigned char blinds[4 * 32], blinded[4 * 32], evaluated[4 * 32], proof[64];
    unsigned char wrong[4 * 32], wrong_proof[64], outputs[4 * 64];
    uint64_t qid = 0, other = 0;
    assert_int_equal(psi_feed_blind_batch(4, inputs, lens, blinds, blinded, 0), 0);

    assert_int_equal(submit(f, &f->a, "vendor-v", blinded, 4, &qid), PSI_ERR_QUOTA);
    expect_error(f, "no query quota for agency-a at vendor-v");
    set_quota(f, "agency-a", "vendor-v", 6);
    assert_int_equal(submit(f, &f->v, "vendor-v", blinded, 4, &qid), PSI_ERR_DENIED);
    assert_int_equal(submit(f, &f->a, "vendor-w", blinded, 4, &qid), PSI_ERR_NOT_FOUND);
    expect_error(f, "vendor-w has published no feed");
    assert_int_equal(submit(f, &f->a, "nobody", blinded, 4, &qid), PSI_ERR_NOT_FOUND);
    assert_int_equal(submit(f, &f->a, "vendor-v", blinded, 0, &qid), PSI_ERR_PROTOCOL);
    unsigned char bad[4 * 32];
    memcpy(bad, blinded, sizeof bad);
    memset(bad + 64, 0, 32);
    assert_int_equal(submit(f, &f->a, "vendor-v", bad, 4, &qid), PSI_ERR_ENCODING);
    expect_error(f, "element 2");
    assert_int_equal(submit_as(f, &f->a, &f->b, "vendor-v", blinded, 4, &qid), PSI_ERR_VERIFY);
    expect_error(f, "bad signature of the query batch");
    assert_int_equal(hub_test_count_rows(f->dir, "query"), 0);
    assert_int_equal(submit(f, &f->a, "vendor-v", blinded, 4, &qid), 0);
    assert_int_equal(submit(f, &f->a, "vendor-v", blinded, 3, &other), PSI_ERR_QUOTA);
    expect_error(f, "over quota: agency-a has sent 4 of its 6 queries to vendor-v in epoch E1; "
                    "a batch of 3 would pass it");
    assert_int_equal(hub_test_count_rows(f->dir, "query"), 1);
    assert_int_equal(entries_of(f, PSI_LOGENTRY_QUERY), 1);

    /* Work: the vendor's only. */
    Psi__Empty empty = PSI__EMPTY__INIT;
    assert_int_equal(call(f, &f->a, "query.work", &empty.base, NULL, NULL), PSI_ERR_DENIED);
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(call(f, &f->v, "query.work", &empty.base, &out, &out_len), 0);
    Psi__QueryWork *work = psi__query_work__unpack(NULL, out_len, out);
    assert_non_null(work);
    assert_int_equal(work->n_batches, 1);
    assert_int_equal(work->batches[0]->query_id, qid);
    assert_string_equal(work->batches[0]->agency, "agency-a");
    assert_memory_equal(work->batches[0]->elements.data, blinded, sizeof blinded);
    assert_string_equal(work->batches[0]->epoch, EPOCH);
    /* The agency's signature is relayed: the vendor's agent checks it against
     * the agency's key over (hub, vendor, epoch, count, digest). */
    {
        unsigned char digest[32], statement[PSI_FEED_STATEMENT_MAX];
        size_t slen = 0;
        assert_int_equal(work->batches[0]->signature.len, 64);
        assert_int_equal(psi_feed_query_digest(blinded, 4, digest), 0);
        assert_int_equal(psi_feed_query_statement(statement, sizeof statement, &slen,
                                                  f->hub.identity.public_key, "vendor-v", EPOCH, 4,
                                                  digest),
                         0);
        assert_int_equal(crypto_sign_verify_detached(work->batches[0]->signature.data, statement,
                                                     slen, f->a.public_key),
                         0);
    }
    psi__query_work__free_unpacked(work, NULL);
    free(out);

    /* Answers: another vendor, a wrong length, a wrong key, a bad proof. */
    assert_int_equal(psi_feed_answer_batch(f->sk, f->pk, 4, blinded, evaluated, proof, NULL, 0), 0);
    assert_int_equal(psi_feed_answer_batch(f->wsk, f->wpk, 4, blinded, wrong, wrong_proof, NULL, 0),
                     0);
    assert_int_equal(answer(f, &f->w, qid, evaluated, 4, proof), PSI_ERR_NOT_FOUND);
    assert_int_equal(answer(f, &f->v, qid, evaluated, 3, proof), PSI_ERR_PROTOCOL);
    assert_int_equal(answer(f, &f->v, qid, wrong, 4, wrong_proof), PSI_ERR_VERIFY);
    expect_error(f, "does not verify against vendor-v's announced key of epoch E1");
    unsigned char tampered[64];
    memcpy(tampered, proof, 64);
    tampered[1] ^= 1;
    assert_int_equal(answer(f, &f->v, qid, evaluated, 4, tampered), PSI_ERR_VERIFY);
    int rc = 0;
    Psi__QueryResult *r = result(f, &f->a, qid, &rc);
    assert_int_equal(rc, 0);
    assert_false(r->answered);
    psi__query_result__free_unpacked(r, NULL);
    assert_int_equal(entries_of(f, PSI_LOGENTRY_ANSWER), 0);

    assert_int_equal(answer(f, &f->v, qid, evaluated, 4, proof), 0);
    assert_int_equal(answer(f, &f->v, qid, evaluated, 4, proof), PSI_ERR_EXISTS);
    assert_int_equal(entries_of(f, PSI_LOGENTRY_ANSWER), 1);
    r = result(f, &f->b, qid, &rc);
    assert_int_equal(rc, PSI_ERR_NOT_FOUND);
    assert_null(r);
    r = result(f, &f->a, qid, &rc);
    assert_int_equal(rc, 0);
    assert_true(r->answered);
    assert_string_equal(r->vendor, "vendor-v");
    assert_int_equal(r->evaluated.len, sizeof evaluated);
    assert_int_equal(psi_feed_finish_batch(f->pk, 4, inputs, lens, blinds, blinded,
                                           r->evaluated.data, r->proof.data, outputs, 0),
                     0);
    psi__query_result__free_unpacked(r, NULL);
    struct psi_feed_filter_expect expect = {EPOCH, "vendor-v", f->pk};
    struct psi_feed_filter *filter = NULL;
    char err[256];
    assert_int_equal(psi_feed_filter_decode(&filter, bytes, len, &expect, err, sizeof err), 0);
    static const int member[4] = {1, 1, 0, 1};
    for (size_t k = 0; k < 4; k++)
        assert_int_equal(psi_feed_filter_contains(filter, outputs + 64 * k), member[k]);
    psi_feed_filter_free(filter);
    /* Logged refusals: the first quota (none set), a vendor submitting, a
     * batch signed by another, the over-quota batch, an agency asking for
     * work, the two proofs that failed. Not found, malformed and repeated
     * answers are not logged. */
    assert_int_equal(entries_of(f, PSI_LOGENTRY_REFUSAL), 7);
    free(bytes);
}

static void quota_rules(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    char err[256] = "";
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    assert_int_equal(psi_feed_quota_set(&t, "vendor-v", "vendor-w", 5, 1, err, sizeof err),
                     PSI_ERR_DENIED);
    assert_non_null(strstr(err, "'vendor-v' is not an active agency"));
    assert_int_equal(psi_feed_quota_set(&t, "agency-a", "agency-b", 5, 1, err, sizeof err),
                     PSI_ERR_DENIED);
    assert_non_null(strstr(err, "'agency-b' is not an active vendor"));
    assert_int_equal(psi_feed_quota_set(&t, "nobody", "vendor-v", 5, 1, err, sizeof err),
                     PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_feed_quota_set(&t, "agency-a", "vendor-v", 5, 1, err, sizeof err), 0);
    assert_int_equal(psi_feed_quota_set(&t, "agency-a", "vendor-v", 7, 1, err, sizeof err), 0);
    uint64_t limit = 0;
    assert_int_equal(f->hub.ops->quota_get(&t, "agency-a", "vendor-v", &limit), 0);
    assert_int_equal(limit, 7);
    assert_int_equal(f->hub.ops->quota_get(&t, "agency-b", "vendor-v", &limit), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_txn_commit(&t), 0);
    assert_int_equal(entries_of(f, PSI_LOGENTRY_QUOTA), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(announce_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(get_reassembles_the_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(query_round_trip_and_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(quota_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
