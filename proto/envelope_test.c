/*
 * Tests of the envelope: round trips, and every way a frame off the wire can
 * be wrong (flipped, truncated, oversized, for another hub, signed by another
 * key, malformed inside a valid seal, non-canonical, answering another
 * request). Hostile frames are built here by hand from the schema, with the
 * signature contexts as psi.proto documents them, so the tests also pin the
 * documented wire format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "envelope.h"
#include "identity.h"
#include "psi.pb-c.h"
#include "psi/error.h"

struct fixture {
    struct psi_identity hub, other_hub, alice, mallory;
    unsigned char request_id[PSI_REQUEST_ID_BYTES];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL || psi_identity_generate(&f->hub, "hub") != 0 ||
        psi_identity_generate(&f->other_hub, "other-hub") != 0 ||
        psi_identity_generate(&f->alice, "agency-a") != 0 ||
        psi_identity_generate(&f->mallory, "mallory") != 0)
        return -1;
    randombytes_buf(f->request_id, sizeof f->request_id);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    psi_identity_clear(&f->hub);
    psi_identity_clear(&f->other_hub);
    psi_identity_clear(&f->alice);
    psi_identity_clear(&f->mallory);
    free(f);
    return 0;
}

/* ------------------------------------------------------------ hand-made frames */

static uint8_t *pack_request(const Psi__Request *rq, size_t *len)
{
    *len = psi__request__get_packed_size(rq);
    uint8_t *out = malloc(*len + 1);
    assert_non_null(out);
    psi__request__pack(rq, out);
    return out;
}

static void sign_ctx(const char *ctx, const uint8_t *msg, size_t len, const unsigned char *sk,
                     unsigned char sig[64])
{
    size_t clen = strlen(ctx);
    uint8_t *m = malloc(clen + 1 + len);
    assert_non_null(m);
    memcpy(m, ctx, clen);
    m[clen] = 0;
    memcpy(m + clen + 1, msg, len);
    assert_int_equal(crypto_sign_detached(sig, NULL, m, clen + 1 + len, sk), 0);
    free(m);
}

/* 0x01 || crypto_box_seal(plain) to the X25519 form of an Ed25519 key. */
static uint8_t *seal_to(const unsigned char ed_pk[32], const uint8_t *plain, size_t len,
                        size_t *frame_len)
{
    unsigned char x[32];
    assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(x, ed_pk), 0);
    uint8_t *frame = malloc(1 + crypto_box_SEALBYTES + len);
    assert_non_null(frame);
    frame[0] = 0x01;
    assert_int_equal(crypto_box_seal(frame + 1, plain, len, x), 0);
    *frame_len = 1 + crypto_box_SEALBYTES + len;
    return frame;
}

/* A sealed request whose Request bytes are given (signed as documented,
 * signature cut or padded to sig_len bytes). */
static uint8_t *frame_of_request_bytes(const struct psi_identity *signer,
                                       const unsigned char hub_pk[32], const uint8_t *rq_bytes,
                                       size_t rq_len, size_t sig_len, size_t *frame_len)
{
    unsigned char sig[65] = {0};
    sign_ctx("psi/request/v1", rq_bytes, rq_len, signer->secret_key, sig);
    Psi__SignedRequest sr = PSI__SIGNED_REQUEST__INIT;
    sr.request.data = (uint8_t *)rq_bytes;
    sr.request.len = rq_len;
    sr.signature.data = sig;
    sr.signature.len = sig_len;
    size_t len = psi__signed_request__get_packed_size(&sr);
    uint8_t *packed = malloc(len);
    assert_non_null(packed);
    psi__signed_request__pack(&sr, packed);
    uint8_t *frame = seal_to(hub_pk, packed, len, frame_len);
    free(packed);
    return frame;
}

/* A well-formed Request that the tests then spoil one field at a time. */
struct request_fields {
    unsigned char hub_key[33];
    size_t hub_key_len;
    char sender[128];
    char method[64];
    unsigned char nonce[17];
    size_t nonce_len;
    unsigned char request_id[17];
    size_t request_id_len;
    size_t sig_len;
};

static void good_fields(struct request_fields *r, const struct fixture *f)
{
    memset(r, 0, sizeof *r);
    memcpy(r->hub_key, f->hub.public_key, 32);
    r->hub_key_len = 32;
    snprintf(r->sender, sizeof r->sender, "%s", "agency-a");
    snprintf(r->method, sizeof r->method, "%s", "info");
    randombytes_buf(r->nonce, 16);
    r->nonce_len = 16;
    memcpy(r->request_id, f->request_id, 16);
    r->request_id_len = 16;
    r->sig_len = 64;
}

static uint8_t *frame_of_fields(const struct fixture *f, const struct request_fields *r,
                                size_t *frame_len)
{
    static uint8_t body[] = {1, 2, 3};
    Psi__Request rq = PSI__REQUEST__INIT;
    rq.hub_key.data = (uint8_t *)r->hub_key;
    rq.hub_key.len = r->hub_key_len;
    rq.sender = (char *)r->sender;
    rq.method = (char *)r->method;
    rq.timestamp_ms = 1700000000000u;
    rq.nonce.data = (uint8_t *)r->nonce;
    rq.nonce.len = r->nonce_len;
    rq.request_id.data = (uint8_t *)r->request_id;
    rq.request_id.len = r->request_id_len;
    rq.body.data = body;
    rq.body.len = sizeof body;
    size_t len;
    uint8_t *bytes = pack_request(&rq, &len);
    uint8_t *frame =
        frame_of_request_bytes(&f->alice, f->hub.public_key, bytes, len, r->sig_len, frame_len);
    free(bytes);
    return frame;
}

/* A reply signed by `signer`, sealed to `recipient` (or plain if NULL). */
static uint8_t *frame_of_reply(const struct psi_identity *signer,
                               const struct psi_identity *recipient, const Psi__Reply *reply,
                               size_t *frame_len)
{
    size_t rlen = psi__reply__get_packed_size(reply);
    uint8_t *rbytes = malloc(rlen + 1);
    assert_non_null(rbytes);
    psi__reply__pack(reply, rbytes);
    unsigned char sig[64];
    sign_ctx("psi/reply/v1", rbytes, rlen, signer->secret_key, sig);
    Psi__SignedReply sr = PSI__SIGNED_REPLY__INIT;
    sr.reply.data = rbytes;
    sr.reply.len = rlen;
    sr.signature.data = sig;
    sr.signature.len = 64;
    size_t slen = psi__signed_reply__get_packed_size(&sr);
    uint8_t *sbytes = malloc(slen + 1);
    assert_non_null(sbytes);
    uint8_t *frame;
    if (recipient != NULL) {
        psi__signed_reply__pack(&sr, sbytes);
        frame = seal_to(recipient->public_key, sbytes, slen, frame_len);
        free(sbytes);
    } else {
        sbytes[0] = 0x02;
        psi__signed_reply__pack(&sr, sbytes + 1);
        frame = sbytes;
        *frame_len = slen + 1;
    }
    free(rbytes);
    return frame;
}

static int open_fields(struct fixture *f, const struct request_fields *r)
{
    size_t len;
    uint8_t *frame = frame_of_fields(f, r, &len);
    struct psi_request req;
    int rc = psi_request_open(&f->hub, frame, len, &req);
    psi_request_clear(&req);
    free(frame);
    return rc;
}

/* Ids and method names follow psi/ident.h (psi/core/ident_test.c tests the rules;
 * test_field_sizes_and_syntax, that the envelope applies them). */

/* ------------------------------------------------------------ round trips */

static void test_request_round_trip(void **state)
{
    struct fixture *f = *state;
    const uint8_t body[] = "the body";
    uint8_t *frame;
    size_t len;
    assert_int_equal(psi_request_seal(&f->alice, f->hub.public_key, "submit.commit", f->request_id,
                                      body, sizeof body, &frame, &len),
                     0);
    assert_int_equal(frame[0], PSI_FRAME_SEALED);
    struct psi_request req;
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), 0);
    assert_string_equal(req.sender, "agency-a");
    assert_string_equal(req.method, "submit.commit");
    assert_memory_equal(req.hub_key, f->hub.public_key, 32);
    assert_memory_equal(req.request_id, f->request_id, 16);
    assert_int_equal(req.body_len, sizeof body);
    assert_memory_equal(req.body, body, sizeof body);
    assert_true(req.timestamp_ms > 1600000000000u);
    assert_int_equal(psi_request_verify(&req, f->alice.public_key), 0);
    unsigned char first_nonce[16];
    memcpy(first_nonce, req.nonce, 16);
    psi_request_clear(&req);
    assert_null(req.body);
    free(frame);

    /* The same request id again: a fresh nonce every time. */
    assert_int_equal(psi_request_seal(&f->alice, f->hub.public_key, "submit.commit", f->request_id,
                                      body, sizeof body, &frame, &len),
                     0);
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), 0);
    assert_memory_equal(req.request_id, f->request_id, 16);
    assert_memory_not_equal(req.nonce, first_nonce, 16);
    psi_request_clear(&req);
    free(frame);

    /* An empty body travels as an empty, non-NULL body. */
    assert_int_equal(psi_request_seal(&f->alice, f->hub.public_key, "info", f->request_id, NULL, 0,
                                      &frame, &len),
                     0);
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), 0);
    assert_int_equal(req.body_len, 0);
    assert_non_null(req.body);
    assert_string_equal(req.method, "info");
    psi_request_clear(&req);
    free(frame);
}

static void test_reply_round_trip(void **state)
{
    struct fixture *f = *state;
    const uint8_t body[] = {9, 8, 7, 6};
    uint8_t *frame;
    size_t len;
    assert_int_equal(psi_reply_seal(&f->hub, f->alice.public_key, f->request_id, 0, NULL, body,
                                    sizeof body, &frame, &len),
                     0);
    assert_int_equal(frame[0], PSI_FRAME_SEALED);
    struct psi_reply reply;
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply), 0);
    assert_int_equal(reply.status, 0);
    assert_string_equal(reply.error, "");
    assert_int_equal(reply.body_len, sizeof body);
    assert_memory_equal(reply.body, body, sizeof body);
    assert_memory_equal(reply.request_id, f->request_id, 16);
    assert_true(reply.timestamp_ms > 1600000000000u);
    psi_reply_clear(&reply);
    assert_null(reply.body);

    /* Sealed to alice: mallory cannot open it. */
    assert_int_equal(
        psi_reply_open(&f->mallory, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_VERIFY);
    free(frame);

    /* A sealed error reply keeps status and text. */
    assert_int_equal(psi_reply_seal(&f->hub, f->alice.public_key, f->request_id, PSI_ERR_QUOTA,
                                    "over quota for epoch 2026-W48", NULL, 0, &frame, &len),
                     0);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply), 0);
    assert_int_equal(reply.status, PSI_ERR_QUOTA);
    assert_string_equal(reply.error, "over quota for epoch 2026-W48");
    assert_int_equal(reply.body_len, 0);
    psi_reply_clear(&reply);
    free(frame);
}

/* ------------------------------------------------------------ tampering */

static void test_request_every_flipped_byte(void **state)
{
    struct fixture *f = *state;
    const uint8_t body[] = {0x42};
    uint8_t *frame;
    size_t len;
    assert_int_equal(psi_request_seal(&f->alice, f->hub.public_key, "info", f->request_id, body,
                                      sizeof body, &frame, &len),
                     0);
    struct psi_request req;
    for (size_t i = 0; i < len; i++) {
        for (unsigned bit = 0; bit < 8; bit += 7) {
            frame[i] ^= (uint8_t)(1u << bit);
            int rc = psi_request_open(&f->hub, frame, len, &req);
            assert_int_equal(rc, i == 0 ? PSI_ERR_UNSUPPORTED : PSI_ERR_VERIFY);
            assert_null(req.body);
            frame[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Untouched, it still opens: the loop restored every byte. */
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), 0);
    psi_request_clear(&req);
    free(frame);
}

static void test_reply_every_flipped_byte(void **state)
{
    struct fixture *f = *state;
    uint8_t *frame;
    size_t len;
    struct psi_reply reply;
    /* sealed */
    assert_int_equal(psi_reply_seal(&f->hub, f->alice.public_key, f->request_id, 0, NULL,
                                    (const uint8_t *)"ok", 2, &frame, &len),
                     0);
    for (size_t i = 0; i < len; i++) {
        frame[i] ^= 0x01;
        int rc = psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply);
        assert_int_not_equal(rc, 0);
        frame[i] ^= 0x01;
    }
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply), 0);
    psi_reply_clear(&reply);
    free(frame);
    /* plain: no seal, the signature alone must catch every change */
    assert_int_equal(psi_reply_seal(&f->hub, NULL, f->request_id, PSI_ERR_NOT_FOUND, "unknown",
                                    NULL, 0, &frame, &len),
                     0);
    assert_int_equal(frame[0], PSI_FRAME_PLAIN_ERROR);
    for (size_t i = 0; i < len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            frame[i] ^= (uint8_t)(1u << bit);
            int rc =
                psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply);
            assert_int_not_equal(rc, 0);
            frame[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply), 0);
    psi_reply_clear(&reply);
    free(frame);
}

static void test_truncated_frames(void **state)
{
    struct fixture *f = *state;
    uint8_t *frame;
    size_t len;
    assert_int_equal(psi_request_seal(&f->alice, f->hub.public_key, "info", f->request_id, NULL, 0,
                                      &frame, &len),
                     0);
    struct psi_request req;
    for (size_t n = 0; n < len; n++) {
        /* a copy of exactly n bytes, so ASan sees any read past the end */
        uint8_t *cut = malloc(n > 0 ? n : 1);
        assert_non_null(cut);
        memcpy(cut, frame, n);
        int rc = psi_request_open(&f->hub, cut, n, &req);
        assert_int_equal(rc, n <= 1 + crypto_box_SEALBYTES ? PSI_ERR_PARSE : PSI_ERR_VERIFY);
        free(cut);
    }
    free(frame);

    assert_int_equal(
        psi_reply_seal(&f->hub, f->alice.public_key, f->request_id, 0, NULL, NULL, 0, &frame, &len),
        0);
    struct psi_reply reply;
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n > 0 ? n : 1);
        assert_non_null(cut);
        memcpy(cut, frame, n);
        assert_int_not_equal(
            psi_reply_open(&f->alice, f->hub.public_key, f->request_id, cut, n, &reply), 0);
        free(cut);
    }
    free(frame);

    assert_int_equal(
        psi_reply_seal(&f->hub, NULL, NULL, PSI_ERR_DENIED, "no", NULL, 0, &frame, &len), 0);
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n > 0 ? n : 1);
        assert_non_null(cut);
        memcpy(cut, frame, n);
        assert_int_not_equal(
            psi_reply_open(&f->alice, f->hub.public_key, f->request_id, cut, n, &reply), 0);
        free(cut);
    }
    free(frame);
}

static void test_oversized_frames(void **state)
{
    struct fixture *f = *state;
    uint8_t small[8] = {0x01};
    struct psi_request req;
    struct psi_reply reply;
    /* The length is refused before a single byte is read. */
    assert_int_equal(psi_request_open(&f->hub, small, (size_t)PSI_FRAME_MAX_BYTES + 1, &req),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_reply_open(&f->alice, f->hub.public_key, f->request_id, small,
                                    (size_t)PSI_FRAME_MAX_BYTES + 1, &reply),
                     PSI_ERR_TOO_LARGE);
    uint8_t *frame = NULL;
    size_t len = 0;
    assert_int_equal(psi_request_seal(&f->alice, f->hub.public_key, "info", f->request_id, small,
                                      (size_t)PSI_FRAME_MAX_BYTES + 1, &frame, &len),
                     PSI_ERR_TOO_LARGE);
    assert_null(frame);
    assert_int_equal(psi_reply_seal(&f->hub, f->alice.public_key, f->request_id, 0, NULL, small,
                                    (size_t)PSI_FRAME_MAX_BYTES + 1, &frame, &len),
                     PSI_ERR_TOO_LARGE);
    assert_null(frame);
}

static void test_unknown_frame_type(void **state)
{
    struct fixture *f = *state;
    uint8_t *frame;
    size_t len;
    assert_int_equal(psi_request_seal(&f->alice, f->hub.public_key, "info", f->request_id, NULL, 0,
                                      &frame, &len),
                     0);
    struct psi_request req;
    struct psi_reply reply;
    frame[0] = 0x03;
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), PSI_ERR_UNSUPPORTED);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_UNSUPPORTED);
    /* a plain error frame is no request */
    frame[0] = PSI_FRAME_PLAIN_ERROR;
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), PSI_ERR_UNSUPPORTED);
    free(frame);
}

/* ------------------------------------------------------------ wrong keys */

static void test_sealed_for_another_hub(void **state)
{
    struct fixture *f = *state;
    uint8_t *frame;
    size_t len;
    assert_int_equal(psi_request_seal(&f->alice, f->other_hub.public_key, "info", f->request_id,
                                      NULL, 0, &frame, &len),
                     0);
    struct psi_request req;
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), PSI_ERR_VERIFY);
    assert_int_equal(psi_request_open(&f->other_hub, frame, len, &req), 0);
    psi_request_clear(&req);
    free(frame);

    /* Signed for other_hub but re-sealed to hub: refused by the hub_key field. */
    struct request_fields r;
    good_fields(&r, f);
    memcpy(r.hub_key, f->other_hub.public_key, 32);
    assert_int_equal(open_fields(f, &r), PSI_ERR_PROTOCOL);
}

static void test_wrong_signer(void **state)
{
    struct fixture *f = *state;
    uint8_t *frame;
    size_t len;
    assert_int_equal(psi_request_seal(&f->mallory, f->hub.public_key, "info", f->request_id, NULL,
                                      0, &frame, &len),
                     0);
    struct psi_request req;
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), 0);
    assert_string_equal(req.sender, "mallory");
    assert_int_equal(psi_request_verify(&req, f->alice.public_key), PSI_ERR_VERIFY);
    assert_int_equal(psi_request_verify(&req, f->mallory.public_key), 0);
    /* A stolen signature does not cover changed bytes. */
    req.signature[0] ^= 1;
    assert_int_equal(psi_request_verify(&req, f->mallory.public_key), PSI_ERR_VERIFY);
    psi_request_clear(&req);
    free(frame);

    /* Mallory claims to be agency-a: the hub checks agency-a's key and refuses. */
    struct request_fields r;
    good_fields(&r, f);
    Psi__Request rq = PSI__REQUEST__INIT;
    rq.hub_key.data = r.hub_key;
    rq.hub_key.len = 32;
    rq.sender = r.sender;
    rq.method = r.method;
    rq.nonce.data = r.nonce;
    rq.nonce.len = 16;
    rq.request_id.data = r.request_id;
    rq.request_id.len = 16;
    size_t rq_len;
    uint8_t *bytes = pack_request(&rq, &rq_len);
    frame = frame_of_request_bytes(&f->mallory, f->hub.public_key, bytes, rq_len, 64, &len);
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), 0);
    assert_string_equal(req.sender, "agency-a");
    assert_int_equal(psi_request_verify(&req, f->alice.public_key), PSI_ERR_VERIFY);
    psi_request_clear(&req);
    free(frame);
    /* The documented signature context, made by hand, verifies. */
    frame = frame_of_request_bytes(&f->alice, f->hub.public_key, bytes, rq_len, 64, &len);
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), 0);
    assert_int_equal(psi_request_verify(&req, f->alice.public_key), 0);
    psi_request_clear(&req);
    free(frame);
    free(bytes);
}

static void test_reply_signed_by_another_key(void **state)
{
    struct fixture *f = *state;
    uint8_t *frame;
    size_t len;
    struct psi_reply reply;
    assert_int_equal(psi_reply_seal(&f->other_hub, f->alice.public_key, f->request_id, 0, NULL,
                                    (const uint8_t *)"x", 1, &frame, &len),
                     0);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_VERIFY);
    assert_null(reply.body);
    free(frame);
    assert_int_equal(
        psi_reply_seal(&f->mallory, NULL, NULL, PSI_ERR_DENIED, "go away", NULL, 0, &frame, &len),
        0);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_VERIFY);
    free(frame);

    /* A request signature is no reply signature (the contexts differ). */
    Psi__Reply r = PSI__REPLY__INIT;
    r.request_id.data = f->request_id;
    r.request_id.len = 16;
    size_t rlen = psi__reply__get_packed_size(&r);
    uint8_t rbytes[64];
    assert_true(rlen <= sizeof rbytes);
    psi__reply__pack(&r, rbytes);
    unsigned char sig[64];
    sign_ctx("psi/request/v1", rbytes, rlen, f->hub.secret_key, sig);
    Psi__SignedReply sr = PSI__SIGNED_REPLY__INIT;
    sr.reply.data = rbytes;
    sr.reply.len = rlen;
    sr.signature.data = sig;
    sr.signature.len = 64;
    size_t slen = psi__signed_reply__get_packed_size(&sr);
    uint8_t *sbytes = malloc(slen);
    assert_non_null(sbytes);
    psi__signed_reply__pack(&sr, sbytes);
    frame = seal_to(f->alice.public_key, sbytes, slen, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_VERIFY);
    free(frame);
    free(sbytes);
}

static void test_reply_for_another_request(void **state)
{
    struct fixture *f = *state;
    unsigned char other_id[16];
    memcpy(other_id, f->request_id, 16);
    other_id[15] ^= 0x80;
    uint8_t *frame;
    size_t len;
    struct psi_reply reply;
    assert_int_equal(
        psi_reply_seal(&f->hub, f->alice.public_key, other_id, 0, NULL, NULL, 0, &frame, &len), 0);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_REPLAY);
    free(frame);
    /* a plain error naming another request too */
    assert_int_equal(
        psi_reply_seal(&f->hub, NULL, other_id, PSI_ERR_STALE, "stale", NULL, 0, &frame, &len), 0);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_REPLAY);
    free(frame);
    /* a sealed reply must name its request: an empty id is refused */
    Psi__Reply r = PSI__REPLY__INIT;
    frame = frame_of_reply(&f->hub, &f->alice, &r, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_REPLAY);
    free(frame);
}

/* ------------------------------------------------------------ malformed content */

static void test_garbage_inside_valid_seal(void **state)
{
    struct fixture *f = *state;
    struct psi_request req;
    struct psi_reply reply;
    /* 0xff... is no protobuf: field number 0x1f.., wire type 7 */
    uint8_t garbage[40];
    memset(garbage, 0xff, sizeof garbage);
    size_t len;
    uint8_t *frame = seal_to(f->hub.public_key, garbage, sizeof garbage, &len);
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), PSI_ERR_PARSE);
    free(frame);
    frame = seal_to(f->alice.public_key, garbage, sizeof garbage, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_PARSE);
    free(frame);
    /* a length prefix that runs past the end */
    const uint8_t overrun[] = {0x0a, 0x7f, 0x01, 0x02};
    frame = seal_to(f->hub.public_key, overrun, sizeof overrun, &len);
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), PSI_ERR_PARSE);
    free(frame);
    /* an empty SignedRequest (no request, no signature) */
    const uint8_t empty[] = {0x00};
    frame = seal_to(f->hub.public_key, empty, 0, &len);
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), PSI_ERR_PARSE);
    free(frame);
    (void)empty;
    /* a valid SignedRequest around request bytes that do not parse */
    frame = frame_of_request_bytes(&f->alice, f->hub.public_key, garbage, sizeof garbage, 64, &len);
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), PSI_ERR_PARSE);
    free(frame);
    /* plain frame with garbage */
    uint8_t plain[sizeof garbage + 1];
    plain[0] = PSI_FRAME_PLAIN_ERROR;
    memcpy(plain + 1, garbage, sizeof garbage);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, plain, sizeof plain, &reply),
        PSI_ERR_PARSE);
}

static void test_field_sizes_and_syntax(void **state)
{
    struct fixture *f = *state;
    struct request_fields r;
    good_fields(&r, f);
    assert_int_equal(open_fields(f, &r), 0);

    good_fields(&r, f);
    r.hub_key_len = 33;
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);
    r.hub_key_len = 31;
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);
    r.hub_key_len = 0;
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);

    good_fields(&r, f);
    r.nonce_len = 15;
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);
    r.nonce_len = 17;
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);

    good_fields(&r, f);
    r.request_id_len = 17;
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);
    r.request_id_len = 0;
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);

    good_fields(&r, f);
    r.sig_len = 63;
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);
    r.sig_len = 65;
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);

    const char *bad_senders[] = {"", ".x", "-x", "a b", "agency\n", "a+b"};
    for (size_t i = 0; i < sizeof bad_senders / sizeof *bad_senders; i++) {
        good_fields(&r, f);
        snprintf(r.sender, sizeof r.sender, "%s", bad_senders[i]);
        assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);
    }
    good_fields(&r, f);
    memset(r.sender, 'a', PSI_ID_MAX + 1);
    r.sender[PSI_ID_MAX + 1] = '\0';
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);
    r.sender[PSI_ID_MAX] = '\0';
    assert_int_equal(open_fields(f, &r), 0);

    const char *bad_methods[] = {"", "Info", "info ", "a/b", "a:b", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_methods / sizeof *bad_methods; i++) {
        good_fields(&r, f);
        snprintf(r.method, sizeof r.method, "%s", bad_methods[i]);
        assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);
    }
    /* the one alphabet of method names, [a-z0-9._-] (the log's; the wire had
     * taken [a-z.] only) */
    const char *good_methods[] = {"submit_commit", "work-list", "a1", ".x"};
    for (size_t i = 0; i < sizeof good_methods / sizeof *good_methods; i++) {
        good_fields(&r, f);
        snprintf(r.method, sizeof r.method, "%s", good_methods[i]);
        assert_int_equal(open_fields(f, &r), 0);
    }
    good_fields(&r, f);
    memset(r.method, 'a', PSI_METHOD_MAX + 1);
    r.method[PSI_METHOD_MAX + 1] = '\0';
    assert_int_equal(open_fields(f, &r), PSI_ERR_PARSE);
    r.method[PSI_METHOD_MAX] = '\0';
    assert_int_equal(open_fields(f, &r), 0);
}

static void test_non_canonical_request(void **state)
{
    struct fixture *f = *state;
    struct request_fields r;
    good_fields(&r, f);
    Psi__Request rq = PSI__REQUEST__INIT;
    rq.hub_key.data = r.hub_key;
    rq.hub_key.len = 32;
    rq.sender = r.sender;
    rq.method = r.method;
    rq.nonce.data = r.nonce;
    rq.nonce.len = 16;
    rq.request_id.data = r.request_id;
    rq.request_id.len = 16;
    size_t n;
    uint8_t *bytes = pack_request(&rq, &n);
    struct psi_request req;
    size_t len;

    /* A second "sender" field appended: protobuf keeps the last one, so the
     * signed bytes would say one sender and the parse another. */
    uint8_t *dup = malloc(n + 3);
    assert_non_null(dup);
    memcpy(dup, bytes, n);
    dup[n] = 0x12; /* field 2, length-delimited */
    dup[n + 1] = 0x01;
    dup[n + 2] = 'x';
    uint8_t *frame = frame_of_request_bytes(&f->alice, f->hub.public_key, dup, n + 3, 64, &len);
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), PSI_ERR_PARSE);
    free(frame);
    free(dup);

    free(bytes);

    /* An embedded NUL would cut the sender short in C. The sender field is
     * put where an encoder puts it (after hub_key, before method), so only
     * the NUL makes the difference. */
    Psi__Request head = PSI__REQUEST__INIT, tail = rq;
    head.hub_key = rq.hub_key;
    tail.hub_key.data = NULL;
    tail.hub_key.len = 0;
    tail.sender = NULL;
    size_t head_len, tail_len;
    uint8_t *head_bytes = pack_request(&head, &head_len);
    uint8_t *tail_bytes = pack_request(&tail, &tail_len);
    const char *senders[] = {"agency-a", "agency-a\0evil"};
    const size_t sender_lens[] = {8, 13};
    for (size_t i = 0; i < 2; i++) {
        size_t total = head_len + 2 + sender_lens[i] + tail_len;
        uint8_t *joined = malloc(total);
        assert_non_null(joined);
        memcpy(joined, head_bytes, head_len);
        joined[head_len] = 0x12; /* field 2, length-delimited */
        joined[head_len + 1] = (uint8_t)sender_lens[i];
        memcpy(joined + head_len + 2, senders[i], sender_lens[i]);
        memcpy(joined + head_len + 2 + sender_lens[i], tail_bytes, tail_len);
        frame = frame_of_request_bytes(&f->alice, f->hub.public_key, joined, total, 64, &len);
        int rc = psi_request_open(&f->hub, frame, len, &req);
        assert_int_equal(rc, i == 0 ? 0 : PSI_ERR_PARSE);
        if (rc == 0) {
            assert_string_equal(req.sender, "agency-a");
            assert_int_equal(psi_request_verify(&req, f->alice.public_key), 0);
        }
        psi_request_clear(&req);
        free(frame);
        free(joined);
    }
    free(head_bytes);
    free(tail_bytes);
}

/* ------------------------------------------------------------ replies by hand */

static void test_plain_error_frames(void **state)
{
    struct fixture *f = *state;
    uint8_t *frame;
    size_t len;
    struct psi_reply reply;
    /* without a request id: the hub could not open the request */
    assert_int_equal(psi_reply_seal(&f->hub, NULL, NULL, PSI_ERR_NOT_FOUND,
                                    "unknown participant 'x'", NULL, 0, &frame, &len),
                     0);
    assert_int_equal(frame[0], PSI_FRAME_PLAIN_ERROR);
    /* bound to no request, it answers none: anyone could replay it to end any call */
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_REPLAY);
    /* inspected (no request id expected), it is the hub's */
    assert_int_equal(psi_reply_open(&f->alice, f->hub.public_key, NULL, frame, len, &reply), 0);
    assert_int_equal(reply.status, PSI_ERR_NOT_FOUND);
    assert_string_equal(reply.error, "unknown participant 'x'");
    assert_int_equal(reply.body_len, 0);
    psi_reply_clear(&reply);
    /* anyone can read it (nothing secret), the other hub's key does not verify it */
    assert_int_equal(psi_reply_open(&f->mallory, f->hub.public_key, NULL, frame, len, &reply), 0);
    psi_reply_clear(&reply);
    assert_int_equal(psi_reply_open(&f->alice, f->other_hub.public_key, NULL, frame, len, &reply),
                     PSI_ERR_VERIFY);
    free(frame);

    /* with the request id it answers */
    assert_int_equal(psi_reply_seal(&f->hub, NULL, f->request_id, PSI_ERR_REPLAY, "replayed", NULL,
                                    0, &frame, &len),
                     0);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply), 0);
    assert_int_equal(reply.status, PSI_ERR_REPLAY);
    assert_memory_equal(reply.request_id, f->request_id, 16);
    psi_reply_clear(&reply);
    free(frame);

    /* the hub cannot put a success or a body in a plain frame */
    frame = NULL;
    assert_int_equal(psi_reply_seal(&f->hub, NULL, NULL, 0, NULL, NULL, 0, &frame, &len),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_reply_seal(&f->hub, NULL, NULL, PSI_ERR_DENIED, "x", (const uint8_t *)"s",
                                    1, &frame, &len),
                     PSI_ERR_INVALID);
    assert_null(frame);

    /* ... and a forged one by hand is refused by the requester */
    Psi__Reply r = PSI__REPLY__INIT;
    r.status = 0;
    frame = frame_of_reply(&f->hub, NULL, &r, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_PROTOCOL);
    free(frame);
    uint8_t secret[] = {1, 2, 3};
    r.status = PSI_ERR_DENIED;
    r.body.data = secret;
    r.body.len = sizeof secret;
    frame = frame_of_reply(&f->hub, NULL, &r, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_PROTOCOL);
    free(frame);
}

static void test_reply_fields_checked(void **state)
{
    struct fixture *f = *state;
    size_t len;
    uint8_t *frame;
    struct psi_reply reply;
    Psi__Reply r = PSI__REPLY__INIT;
    r.request_id.data = f->request_id;
    r.request_id.len = 16;

    /* a positive status is no psi status */
    r.status = 3;
    frame = frame_of_reply(&f->hub, &f->alice, &r, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_PROTOCOL);
    free(frame);
    r.status = PSI_ERR_DENIED;

    /* a request id of the wrong size */
    r.request_id.len = 15;
    frame = frame_of_reply(&f->hub, &f->alice, &r, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_PARSE);
    free(frame);
    r.request_id.len = 16;

    /* error text over the limit */
    char text[PSI_ERROR_TEXT_MAX + 2];
    memset(text, 'e', PSI_ERROR_TEXT_MAX + 1);
    text[PSI_ERROR_TEXT_MAX + 1] = '\0';
    r.error = text;
    frame = frame_of_reply(&f->hub, &f->alice, &r, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_TOO_LARGE);
    free(frame);
    /* exactly at the limit is fine */
    text[PSI_ERROR_TEXT_MAX] = '\0';
    frame = frame_of_reply(&f->hub, &f->alice, &r, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply), 0);
    assert_int_equal(strlen(reply.error), PSI_ERROR_TEXT_MAX);
    psi_reply_clear(&reply);
    free(frame);

    /* control characters never reach a terminal */
    char escape[] = "bad \x1b[31mred\x1b[0m\r\n";
    r.error = escape;
    frame = frame_of_reply(&f->hub, &f->alice, &r, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply), 0);
    assert_string_equal(reply.error, "bad ?[31mred?[0m??");
    psi_reply_clear(&reply);
    free(frame);

    /* a duplicated field after the signed reply's fields */
    r.error = (char *)"";
    size_t rlen = psi__reply__get_packed_size(&r);
    uint8_t rbytes[128];
    assert_true(rlen + 4 <= sizeof rbytes);
    psi__reply__pack(&r, rbytes);
    rbytes[rlen] = 0x10; /* status again, varint */
    rbytes[rlen + 1] = 0x00;
    rlen += 2;
    unsigned char sig[64];
    sign_ctx("psi/reply/v1", rbytes, rlen, f->hub.secret_key, sig);
    Psi__SignedReply sr = PSI__SIGNED_REPLY__INIT;
    sr.reply.data = rbytes;
    sr.reply.len = rlen;
    sr.signature.data = sig;
    sr.signature.len = 64;
    uint8_t sbytes[256];
    size_t slen = psi__signed_reply__pack(&sr, sbytes);
    frame = seal_to(f->alice.public_key, sbytes, slen, &len);
    assert_int_equal(
        psi_reply_open(&f->alice, f->hub.public_key, f->request_id, frame, len, &reply),
        PSI_ERR_PARSE);
    free(frame);
}

static void test_long_error_text_cut(void **state)
{
    struct fixture *f = *state;
    /* 255 ASCII bytes then a 2-byte UTF-8 letter: cutting at 256 would split it */
    char text[400];
    memset(text, 'a', 255);
    memcpy(text + 255, "\xc3\xa9 and more", sizeof "\xc3\xa9 and more");
    uint8_t *frame;
    size_t len;
    assert_int_equal(
        psi_reply_seal(&f->hub, NULL, NULL, PSI_ERR_PARSE, text, NULL, 0, &frame, &len), 0);
    struct psi_reply reply;
    assert_int_equal(psi_reply_open(&f->alice, f->hub.public_key, NULL, frame, len, &reply), 0);
    assert_int_equal(strlen(reply.error), 255);
    assert_memory_equal(reply.error, text, 255);
    psi_reply_clear(&reply);
    free(frame);
}

/* ------------------------------------------------------------ robustness */

/* Random damage to the plaintext under a valid seal (what a hostile sender
 * can do): every outcome must be a clean error or a fully checked success,
 * never a crash or a read out of bounds (run under ASan). */
static void test_mutated_plaintext(void **state)
{
    struct fixture *f = *state;
    struct request_fields r;
    good_fields(&r, f);
    Psi__Request rq = PSI__REQUEST__INIT;
    rq.hub_key.data = r.hub_key;
    rq.hub_key.len = 32;
    rq.sender = r.sender;
    rq.method = r.method;
    rq.nonce.data = r.nonce;
    rq.nonce.len = 16;
    rq.request_id.data = r.request_id;
    rq.request_id.len = 16;
    uint8_t body[40];
    memset(body, 0x5a, sizeof body);
    rq.body.data = body;
    rq.body.len = sizeof body;
    size_t rq_len;
    uint8_t *rq_bytes = pack_request(&rq, &rq_len);
    unsigned char sig[64];
    sign_ctx("psi/request/v1", rq_bytes, rq_len, f->alice.secret_key, sig);
    Psi__SignedRequest sr = PSI__SIGNED_REQUEST__INIT;
    sr.request.data = rq_bytes;
    sr.request.len = rq_len;
    sr.signature.data = sig;
    sr.signature.len = 64;
    size_t plain_len = psi__signed_request__get_packed_size(&sr);
    uint8_t *plain = malloc(plain_len);
    assert_non_null(plain);
    psi__signed_request__pack(&sr, plain);

    uint8_t *mutated = malloc(plain_len);
    assert_non_null(mutated);
    for (unsigned round = 0; round < 3000; round++) {
        memcpy(mutated, plain, plain_len);
        size_t n = plain_len;
        unsigned changes = 1 + randombytes_uniform(4);
        for (unsigned c = 0; c < changes; c++)
            mutated[randombytes_uniform((uint32_t)n)] = (uint8_t)randombytes_uniform(256);
        if (randombytes_uniform(4) == 0)
            n = 1 + randombytes_uniform((uint32_t)n); /* and cut it short */
        size_t len;
        uint8_t *frame = seal_to(f->hub.public_key, mutated, n, &len);
        struct psi_request req;
        int rc = psi_request_open(&f->hub, frame, len, &req);
        if (rc == 0) {
            /* whatever got through is well formed, and its signature decides */
            assert_true(psi_id_is_valid(req.sender));
            assert_true(strlen(req.method) >= 1 && strlen(req.method) <= PSI_METHOD_MAX);
            assert_non_null(req.body);
            if (psi_request_verify(&req, f->alice.public_key) == 0)
                assert_memory_equal(req.signed_bytes + 15, rq_bytes, rq_len);
        } else {
            assert_true(rc == PSI_ERR_PARSE || rc == PSI_ERR_PROTOCOL);
            assert_null(req.body);
        }
        psi_request_clear(&req);
        free(frame);
    }
    /* unchanged, it opens */
    size_t len;
    uint8_t *frame = seal_to(f->hub.public_key, plain, plain_len, &len);
    struct psi_request req;
    assert_int_equal(psi_request_open(&f->hub, frame, len, &req), 0);
    assert_int_equal(psi_request_verify(&req, f->alice.public_key), 0);
    psi_request_clear(&req);
    free(frame);
    free(mutated);
    free(plain);
    free(rq_bytes);
}

/* ------------------------------------------------------------ arguments */

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    uint8_t *frame = (uint8_t *)"not touched";
    size_t len = 0;
    assert_int_equal(
        psi_request_seal(&f->alice, f->hub.public_key, "Bad", f->request_id, NULL, 0, &frame, &len),
        PSI_ERR_INVALID);
    assert_null(frame);
    assert_int_equal(
        psi_request_seal(&f->alice, f->hub.public_key, NULL, f->request_id, NULL, 0, &frame, &len),
        PSI_ERR_INVALID);
    assert_int_equal(
        psi_request_seal(NULL, f->hub.public_key, "info", f->request_id, NULL, 0, &frame, &len),
        PSI_ERR_INVALID);
    assert_int_equal(
        psi_request_seal(&f->alice, NULL, "info", f->request_id, NULL, 0, &frame, &len),
        PSI_ERR_INVALID);
    assert_int_equal(
        psi_request_seal(&f->alice, f->hub.public_key, "info", NULL, NULL, 0, &frame, &len),
        PSI_ERR_INVALID);
    assert_int_equal(psi_request_seal(&f->alice, f->hub.public_key, "info", f->request_id, NULL, 5,
                                      &frame, &len),
                     PSI_ERR_INVALID);
    assert_int_equal(
        psi_request_seal(&f->alice, f->hub.public_key, "info", f->request_id, NULL, 0, NULL, &len),
        PSI_ERR_INVALID);
    /* a public key that is no curve point cannot be sealed to */
    unsigned char bad_key[32];
    memset(bad_key, 0xff, sizeof bad_key);
    assert_int_equal(
        psi_request_seal(&f->alice, bad_key, "info", f->request_id, NULL, 0, &frame, &len),
        PSI_ERR_ENCODING);
    assert_int_equal(
        psi_reply_seal(&f->hub, bad_key, f->request_id, 0, NULL, NULL, 0, &frame, &len),
        PSI_ERR_ENCODING);
    /* replies: positive status, sealed without a request id */
    assert_int_equal(
        psi_reply_seal(&f->hub, f->alice.public_key, f->request_id, 1, NULL, NULL, 0, &frame, &len),
        PSI_ERR_INVALID);
    assert_int_equal(
        psi_reply_seal(&f->hub, f->alice.public_key, NULL, 0, NULL, NULL, 0, &frame, &len),
        PSI_ERR_INVALID);
    struct psi_request req;
    assert_int_equal(psi_request_open(NULL, frame, 0, &req), PSI_ERR_INVALID);
    assert_int_equal(psi_request_open(&f->hub, NULL, 10, &req), PSI_ERR_INVALID);
    assert_int_equal(psi_request_open(&f->hub, NULL, 0, &req), PSI_ERR_PARSE);
    assert_int_equal(psi_request_verify(NULL, f->alice.public_key), PSI_ERR_INVALID);
    assert_int_equal(psi_request_verify(&req, f->alice.public_key), PSI_ERR_INVALID);
    struct psi_reply reply;
    assert_int_equal(psi_reply_open(&f->alice, NULL, f->request_id, frame, 0, &reply),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_reply_open(&f->alice, f->hub.public_key, f->request_id, NULL, 0, &reply),
                     PSI_ERR_PARSE);
    psi_request_clear(NULL);
    psi_reply_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_reply_round_trip),
        cmocka_unit_test(test_request_every_flipped_byte),
        cmocka_unit_test(test_reply_every_flipped_byte),
        cmocka_unit_test(test_truncated_frames),
        cmocka_unit_test(test_oversized_frames),
        cmocka_unit_test(test_unknown_frame_type),
        cmocka_unit_test(test_sealed_for_another_hub),
        cmocka_unit_test(test_wrong_signer),
        cmocka_unit_test(test_reply_signed_by_another_key),
        cmocka_unit_test(test_reply_for_another_request),
        cmocka_unit_test(test_garbage_inside_valid_seal),
        cmocka_unit_test(test_field_sizes_and_syntax),
        cmocka_unit_test(test_non_canonical_request),
        cmocka_unit_test(test_plain_error_frames),
        cmocka_unit_test(test_reply_fields_checked),
        cmocka_unit_test(test_long_error_text_cut),
        cmocka_unit_test(test_mutated_plaintext),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
