/*
 * The signed, sealed envelope (see envelope.h and the frame layouts in
 * psi.proto).
 *
 * Everything that comes off the wire is treated as hostile until checked: the
 * frame length is bounded before anything is allocated, protobuf-c decides
 * whether bytes parse at all, every field's size and syntax is checked before
 * it is copied into the fixed-size fields of the result, and a message must
 * re-encode to exactly the bytes that were signed (so the fields we act on are
 * the fields the signature covers: no duplicate fields, no text cut short by an
 * embedded NUL). Decrypted plaintext is wiped before it is freed.
 */
#include "envelope.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "psi.pb-c.h"
#include "psi/error.h"
#include "psi/ident.h"

#define REQUEST_CONTEXT "psi/request/v1"
#define REPLY_CONTEXT "psi/reply/v1"
#define SIGNATURE_BYTES crypto_sign_BYTES
#define KEY_BYTES crypto_sign_PUBLICKEYBYTES

/* ------------------------------------------------------------ wiping memory */

/* protobuf-c copies decrypted fields into its own allocations; this allocator
 * remembers each size so those copies are wiped when they are freed. */
#define WIPE_HEADER sizeof(max_align_t)

static void *wiping_alloc(void *allocator_data, size_t size)
{
    (void)allocator_data;
    if (size > SIZE_MAX - WIPE_HEADER)
        return NULL;
    unsigned char *block = malloc(WIPE_HEADER + size);
    if (block == NULL)
        return NULL;
    memcpy(block, &size, sizeof size);
    return block + WIPE_HEADER;
}

static void wiping_free(void *allocator_data, void *pointer)
{
    (void)allocator_data;
    if (pointer == NULL)
        return;
    unsigned char *block = (unsigned char *)pointer - WIPE_HEADER;
    size_t size;
    memcpy(&size, block, sizeof size);
    sodium_memzero(block, WIPE_HEADER + size);
    free(block);
}

static ProtobufCAllocator wiping_allocator = {wiping_alloc, wiping_free, NULL};

static void wipe_and_free(void *p, size_t len)
{
    if (p == NULL)
        return;
    sodium_memzero(p, len);
    free(p);
}

/* A copy that is never NULL, even for zero bytes, so callers can hand it to a
 * parser without a special case. */
static uint8_t *copy_bytes(const uint8_t *src, size_t len)
{
    uint8_t *dst = malloc(len > 0 ? len : 1);
    if (dst != NULL && len > 0)
        memcpy(dst, src, len);
    return dst;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------ crypto helpers */

/* context || 0x00 || message: the bytes each Ed25519 signature covers, so a
 * request signature can never be taken for a reply signature or for any other
 * signature a key makes. */
static uint8_t *with_context(const char *context, const uint8_t *message, size_t len,
                             size_t *out_len)
{
    size_t clen = strlen(context);
    if (len > SIZE_MAX - clen - 1)
        return NULL;
    uint8_t *out = malloc(clen + 1 + len);
    if (out == NULL)
        return NULL;
    memcpy(out, context, clen);
    out[clen] = 0x00;
    if (len > 0)
        memcpy(out + clen + 1, message, len);
    *out_len = clen + 1 + len;
    return out;
}

static int sign_with_context(const char *context, const uint8_t *message, size_t len,
                             const unsigned char *secret_key, unsigned char sig[SIGNATURE_BYTES])
{
    size_t mlen = 0;
    uint8_t *m = with_context(context, message, len, &mlen);
    if (m == NULL)
        return PSI_ERR_NOMEM;
    int rc = crypto_sign_detached(sig, NULL, m, mlen, secret_key) == 0 ? 0 : PSI_ERR_CRYPTO;
    wipe_and_free(m, mlen);
    return rc;
}

/* Packs msg into a new buffer *bytes of *len bytes and signs it under
 * context. The caller wipes and frees *bytes, whatever this returns. */
static int pack_and_sign(const ProtobufCMessage *msg, const char *context,
                         const unsigned char *secret_key, uint8_t **bytes, size_t *len,
                         unsigned char sig[SIGNATURE_BYTES])
{
    *len = protobuf_c_message_get_packed_size(msg);
    *bytes = malloc(*len > 0 ? *len : 1);
    if (*bytes == NULL)
        return PSI_ERR_NOMEM;
    protobuf_c_message_pack(msg, *bytes);
    return sign_with_context(context, *bytes, *len, secret_key, sig);
}

/* 0x01 || crypto_box_seal(plain, X25519 form of the Ed25519 key). */
static int seal_frame(const unsigned char ed_key[KEY_BYTES], const uint8_t *plain, size_t len,
                      uint8_t **frame, size_t *frame_len)
{
    unsigned char x_key[crypto_box_PUBLICKEYBYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(x_key, ed_key) != 0)
        return PSI_ERR_ENCODING;
    if (len > PSI_FRAME_MAX_BYTES - 1 - crypto_box_SEALBYTES)
        return PSI_ERR_TOO_LARGE;
    size_t total = 1 + crypto_box_SEALBYTES + len;
    uint8_t *out = malloc(total);
    if (out == NULL)
        return PSI_ERR_NOMEM;
    out[0] = PSI_FRAME_SEALED;
    if (crypto_box_seal(out + 1, plain, len, x_key) != 0) {
        free(out);
        return PSI_ERR_CRYPTO;
    }
    *frame = out;
    *frame_len = total;
    return 0;
}

/* Opens the sealed part of a frame (after the type byte) with the X25519 form
 * of an identity. The plaintext is malloc'd; wipe it before freeing. */
static int open_sealed(const struct psi_identity *me, const uint8_t *sealed, size_t len,
                       uint8_t **plain, size_t *plain_len)
{
    if (len <= crypto_box_SEALBYTES)
        return PSI_ERR_PARSE;
    unsigned char x_pk[crypto_box_PUBLICKEYBYTES];
    unsigned char x_sk[crypto_box_SECRETKEYBYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(x_pk, me->public_key) != 0)
        return PSI_ERR_ENCODING;
    if (crypto_sign_ed25519_sk_to_curve25519(x_sk, me->secret_key) != 0) {
        sodium_memzero(x_sk, sizeof x_sk);
        return PSI_ERR_CRYPTO;
    }
    size_t n = len - crypto_box_SEALBYTES;
    uint8_t *out = malloc(n);
    if (out == NULL) {
        sodium_memzero(x_sk, sizeof x_sk);
        return PSI_ERR_NOMEM;
    }
    int opened = crypto_box_seal_open(out, sealed, len, x_pk, x_sk);
    sodium_memzero(x_sk, sizeof x_sk);
    if (opened != 0) {
        wipe_and_free(out, n);
        return PSI_ERR_VERIFY;
    }
    *plain = out;
    *plain_len = n;
    return 0;
}

/* True if msg encodes to exactly bytes[0..len): the fields read are the
 * fields that were signed. */
static int encodes_to(const ProtobufCMessage *msg, const uint8_t *bytes, size_t len)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    if (n != len)
        return 0;
    if (n == 0)
        return 1;
    uint8_t *again = malloc(n);
    if (again == NULL)
        return -1;
    protobuf_c_message_pack(msg, again);
    int same = memcmp(again, bytes, n) == 0;
    wipe_and_free(again, n);
    return same;
}

/* ------------------------------------------------------------ requests */

int psi_request_seal(const struct psi_identity *sender, const unsigned char hub_key[32],
                     const char *method, const unsigned char request_id[PSI_REQUEST_ID_BYTES],
                     const uint8_t *body, size_t body_len, uint8_t **frame, size_t *frame_len)
{
    if (frame == NULL || frame_len == NULL)
        return PSI_ERR_INVALID;
    *frame = NULL;
    *frame_len = 0;
    if (sender == NULL || sender->secret_key == NULL || hub_key == NULL || request_id == NULL ||
        (body == NULL && body_len > 0))
        return PSI_ERR_INVALID;
    if (!psi_id_is_valid(sender->name) || !psi_method_name_is_valid(method))
        return PSI_ERR_INVALID;
    if (body_len > PSI_FRAME_MAX_BYTES)
        return PSI_ERR_TOO_LARGE;
    if (sodium_init() < 0)
        return PSI_ERR_CRYPTO;

    unsigned char nonce[PSI_NONCE_BYTES];
    randombytes_buf(nonce, sizeof nonce);
    Psi__Request request = PSI__REQUEST__INIT;
    request.hub_key.data = (uint8_t *)hub_key;
    request.hub_key.len = KEY_BYTES;
    request.sender = (char *)sender->name;
    request.method = (char *)method;
    request.timestamp_ms = now_ms();
    request.nonce.data = nonce;
    request.nonce.len = sizeof nonce;
    request.request_id.data = (uint8_t *)request_id;
    request.request_id.len = PSI_REQUEST_ID_BYTES;
    request.body.data = (uint8_t *)body;
    request.body.len = body_len;

    uint8_t *request_bytes = NULL, *signed_bytes = NULL;
    size_t request_len = 0, signed_len = 0;
    unsigned char sig[SIGNATURE_BYTES];
    int rc = pack_and_sign(&request.base, REQUEST_CONTEXT, sender->secret_key, &request_bytes,
                           &request_len, sig);
    if (rc != 0)
        goto done;

    Psi__SignedRequest signed_request = PSI__SIGNED_REQUEST__INIT;
    signed_request.request.data = request_bytes;
    signed_request.request.len = request_len;
    signed_request.signature.data = sig;
    signed_request.signature.len = sizeof sig;
    signed_len = psi__signed_request__get_packed_size(&signed_request);
    signed_bytes = malloc(signed_len);
    if (signed_bytes == NULL) {
        rc = PSI_ERR_NOMEM;
        goto done;
    }
    psi__signed_request__pack(&signed_request, signed_bytes);
    rc = seal_frame(hub_key, signed_bytes, signed_len, frame, frame_len);

done:
    wipe_and_free(request_bytes, request_len);
    wipe_and_free(signed_bytes, signed_len);
    return rc;
}

int psi_request_open(const struct psi_identity *hub, const uint8_t *frame, size_t frame_len,
                     struct psi_request *out)
{
    if (out == NULL)
        return PSI_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (hub == NULL || hub->secret_key == NULL || (frame == NULL && frame_len > 0))
        return PSI_ERR_INVALID;
    if (frame_len > PSI_FRAME_MAX_BYTES)
        return PSI_ERR_TOO_LARGE;
    if (frame_len < 1)
        return PSI_ERR_PARSE;
    if (frame[0] != PSI_FRAME_SEALED)
        return PSI_ERR_UNSUPPORTED;
    if (sodium_init() < 0)
        return PSI_ERR_CRYPTO;

    uint8_t *plain = NULL;
    size_t plain_len = 0;
    int rc = open_sealed(hub, frame + 1, frame_len - 1, &plain, &plain_len);
    if (rc != 0)
        return rc;

    Psi__SignedRequest *signed_request = NULL;
    Psi__Request *request = NULL;
    signed_request = psi__signed_request__unpack(&wiping_allocator, plain_len, plain);
    if (signed_request == NULL || signed_request->signature.len != SIGNATURE_BYTES ||
        signed_request->request.len == 0) {
        rc = PSI_ERR_PARSE;
        goto done;
    }
    const ProtobufCBinaryData *request_bytes = &signed_request->request;
    request = psi__request__unpack(&wiping_allocator, request_bytes->len, request_bytes->data);
    if (request == NULL) {
        rc = PSI_ERR_PARSE;
        goto done;
    }
    int canonical = encodes_to(&request->base, request_bytes->data, request_bytes->len);
    if (canonical <= 0) {
        rc = canonical < 0 ? PSI_ERR_NOMEM : PSI_ERR_PARSE;
        goto done;
    }
    if (request->hub_key.len != KEY_BYTES || request->nonce.len != PSI_NONCE_BYTES ||
        request->request_id.len != PSI_REQUEST_ID_BYTES || !psi_id_is_valid(request->sender) ||
        !psi_method_name_is_valid(request->method)) {
        rc = PSI_ERR_PARSE;
        goto done;
    }
    if (request->body.len > PSI_FRAME_MAX_BYTES) {
        rc = PSI_ERR_TOO_LARGE;
        goto done;
    }
    /* A request signed for another hub must not be replayable here. */
    if (sodium_memcmp(request->hub_key.data, hub->public_key, KEY_BYTES) != 0) {
        rc = PSI_ERR_PROTOCOL;
        goto done;
    }

    out->body = copy_bytes(request->body.data, request->body.len);
    out->signed_bytes =
        with_context(REQUEST_CONTEXT, request_bytes->data, request_bytes->len, &out->signed_len);
    if (out->body == NULL || out->signed_bytes == NULL) {
        rc = PSI_ERR_NOMEM;
        goto done;
    }
    out->body_len = request->body.len;
    memcpy(out->hub_key, request->hub_key.data, KEY_BYTES);
    memcpy(out->sender, request->sender, strlen(request->sender) + 1);
    memcpy(out->method, request->method, strlen(request->method) + 1);
    out->timestamp_ms = request->timestamp_ms;
    memcpy(out->nonce, request->nonce.data, PSI_NONCE_BYTES);
    memcpy(out->request_id, request->request_id.data, PSI_REQUEST_ID_BYTES);
    memcpy(out->signature, signed_request->signature.data, SIGNATURE_BYTES);
    rc = 0;

done:
    if (request != NULL)
        psi__request__free_unpacked(request, &wiping_allocator);
    if (signed_request != NULL)
        psi__signed_request__free_unpacked(signed_request, &wiping_allocator);
    wipe_and_free(plain, plain_len);
    if (rc != 0)
        psi_request_clear(out);
    return rc;
}

int psi_request_verify(const struct psi_request *req, const unsigned char sender_key[32])
{
    if (req == NULL || sender_key == NULL || req->signed_bytes == NULL)
        return PSI_ERR_INVALID;
    if (crypto_sign_verify_detached(req->signature, req->signed_bytes, req->signed_len,
                                    sender_key) != 0)
        return PSI_ERR_VERIFY;
    return 0;
}

void psi_request_clear(struct psi_request *req)
{
    if (req == NULL)
        return;
    wipe_and_free(req->body, req->body_len);
    wipe_and_free(req->signed_bytes, req->signed_len);
    sodium_memzero(req, sizeof *req);
}

/* ------------------------------------------------------------ replies */

/* The error text, cut to PSI_ERROR_TEXT_MAX bytes without splitting a UTF-8
 * sequence: an error must always be sendable, however long its cause. */
static size_t error_text_len(const char *error)
{
    size_t n = strlen(error);
    if (n <= PSI_ERROR_TEXT_MAX)
        return n;
    n = PSI_ERROR_TEXT_MAX;
    while (n > 0 && ((unsigned char)error[n] & 0xC0) == 0x80)
        n--;
    return n;
}

int psi_reply_seal(const struct psi_identity *hub, const unsigned char *recipient_key,
                   const unsigned char request_id[PSI_REQUEST_ID_BYTES], int status,
                   const char *error, const uint8_t *body, size_t body_len, uint8_t **frame,
                   size_t *frame_len)
{
    if (frame == NULL || frame_len == NULL)
        return PSI_ERR_INVALID;
    *frame = NULL;
    *frame_len = 0;
    if (hub == NULL || hub->secret_key == NULL || (body == NULL && body_len > 0) || status > 0)
        return PSI_ERR_INVALID;
    /* Nothing secret travels unsealed: a plain frame is an error and only that. */
    if (recipient_key == NULL && (status == 0 || body_len > 0))
        return PSI_ERR_INVALID;
    if (recipient_key != NULL && request_id == NULL)
        return PSI_ERR_INVALID;
    if (body_len > PSI_FRAME_MAX_BYTES)
        return PSI_ERR_TOO_LARGE;
    if (sodium_init() < 0)
        return PSI_ERR_CRYPTO;

    char text[PSI_ERROR_TEXT_MAX + 1] = "";
    if (error != NULL) {
        size_t n = error_text_len(error);
        memcpy(text, error, n);
        text[n] = '\0';
    }
    Psi__Reply reply = PSI__REPLY__INIT;
    if (request_id != NULL) {
        reply.request_id.data = (uint8_t *)request_id;
        reply.request_id.len = PSI_REQUEST_ID_BYTES;
    }
    reply.status = status;
    reply.error = text;
    reply.body.data = (uint8_t *)body;
    reply.body.len = body_len;
    reply.timestamp_ms = now_ms();

    uint8_t *reply_bytes = NULL, *signed_bytes = NULL;
    size_t reply_len = 0, signed_len = 0;
    unsigned char sig[SIGNATURE_BYTES];
    int rc =
        pack_and_sign(&reply.base, REPLY_CONTEXT, hub->secret_key, &reply_bytes, &reply_len, sig);
    if (rc != 0)
        goto done;

    Psi__SignedReply signed_reply = PSI__SIGNED_REPLY__INIT;
    signed_reply.reply.data = reply_bytes;
    signed_reply.reply.len = reply_len;
    signed_reply.signature.data = sig;
    signed_reply.signature.len = sizeof sig;
    signed_len = psi__signed_reply__get_packed_size(&signed_reply);
    if (recipient_key != NULL) {
        signed_bytes = malloc(signed_len);
        if (signed_bytes == NULL) {
            rc = PSI_ERR_NOMEM;
            goto done;
        }
        psi__signed_reply__pack(&signed_reply, signed_bytes);
        rc = seal_frame(recipient_key, signed_bytes, signed_len, frame, frame_len);
        goto done;
    }
    /* A plain error is small: its body is empty and its text bounded. */
    uint8_t *plain = malloc(1 + signed_len);
    if (plain == NULL) {
        rc = PSI_ERR_NOMEM;
        goto done;
    }
    plain[0] = PSI_FRAME_PLAIN_ERROR;
    psi__signed_reply__pack(&signed_reply, plain + 1);
    *frame = plain;
    *frame_len = 1 + signed_len;
    rc = 0;

done:
    wipe_and_free(reply_bytes, reply_len);
    wipe_and_free(signed_bytes, signed_len);
    return rc;
}

int psi_reply_open(const struct psi_identity *me, const unsigned char hub_key[32],
                   const unsigned char request_id[PSI_REQUEST_ID_BYTES], const uint8_t *frame,
                   size_t frame_len, struct psi_reply *out)
{
    if (out == NULL)
        return PSI_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (me == NULL || me->secret_key == NULL || hub_key == NULL || (frame == NULL && frame_len > 0))
        return PSI_ERR_INVALID;
    if (frame_len > PSI_FRAME_MAX_BYTES)
        return PSI_ERR_TOO_LARGE;
    if (frame_len < 2)
        return PSI_ERR_PARSE;

    int sealed = frame[0] == PSI_FRAME_SEALED;
    if (!sealed && frame[0] != PSI_FRAME_PLAIN_ERROR)
        return PSI_ERR_UNSUPPORTED;
    if (sodium_init() < 0)
        return PSI_ERR_CRYPTO;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    int rc;
    if (sealed) {
        rc = open_sealed(me, frame + 1, frame_len - 1, &plain, &plain_len);
        if (rc != 0)
            return rc;
    } else {
        plain = copy_bytes(frame + 1, frame_len - 1);
        if (plain == NULL)
            return PSI_ERR_NOMEM;
        plain_len = frame_len - 1;
    }

    Psi__SignedReply *signed_reply = NULL;
    Psi__Reply *reply = NULL;
    uint8_t *signed_message = NULL;
    size_t signed_message_len = 0;
    signed_reply = psi__signed_reply__unpack(&wiping_allocator, plain_len, plain);
    if (signed_reply == NULL || signed_reply->signature.len != SIGNATURE_BYTES) {
        rc = PSI_ERR_PARSE;
        goto done;
    }
    /* Only bytes the hub signed are parsed any further. */
    signed_message = with_context(REPLY_CONTEXT, signed_reply->reply.data, signed_reply->reply.len,
                                  &signed_message_len);
    if (signed_message == NULL) {
        rc = PSI_ERR_NOMEM;
        goto done;
    }
    if (crypto_sign_verify_detached(signed_reply->signature.data, signed_message,
                                    signed_message_len, hub_key) != 0) {
        rc = PSI_ERR_VERIFY;
        goto done;
    }
    reply =
        psi__reply__unpack(&wiping_allocator, signed_reply->reply.len, signed_reply->reply.data);
    if (reply == NULL) {
        rc = PSI_ERR_PARSE;
        goto done;
    }
    int canonical = encodes_to(&reply->base, signed_reply->reply.data, signed_reply->reply.len);
    if (canonical <= 0) {
        rc = canonical < 0 ? PSI_ERR_NOMEM : PSI_ERR_PARSE;
        goto done;
    }
    if (reply->request_id.len != 0 && reply->request_id.len != PSI_REQUEST_ID_BYTES) {
        rc = PSI_ERR_PARSE;
        goto done;
    }
    if (strlen(reply->error) > PSI_ERROR_TEXT_MAX) {
        rc = PSI_ERR_TOO_LARGE;
        goto done;
    }
    /* The form first: a hub that signs a success or a body into a plain frame
     * is broken whatever request it names. */
    if (reply->status > 0 || (!sealed && (reply->status == 0 || reply->body.len != 0))) {
        rc = PSI_ERR_PROTOCOL;
        goto done;
    }
    /* A reply counts only for the request it names. Signed replies hold no
     * secret and anyone on the path can copy one, so a reply naming another
     * request, or none (a plain error the hub could not bind), would let
     * them end any call with a refusal of their choosing. */
    if (request_id != NULL &&
        (reply->request_id.len != PSI_REQUEST_ID_BYTES ||
         sodium_memcmp(reply->request_id.data, request_id, PSI_REQUEST_ID_BYTES) != 0)) {
        rc = PSI_ERR_REPLAY;
        goto done;
    }

    out->body = copy_bytes(reply->body.data, reply->body.len);
    if (out->body == NULL) {
        rc = PSI_ERR_NOMEM;
        goto done;
    }
    out->body_len = reply->body.len;
    if (reply->request_id.len == PSI_REQUEST_ID_BYTES)
        memcpy(out->request_id, reply->request_id.data, PSI_REQUEST_ID_BYTES);
    out->status = reply->status;
    out->timestamp_ms = reply->timestamp_ms;
    /* The text ends up on a person's terminal: no control characters. */
    size_t n = strlen(reply->error);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)reply->error[i];
        out->error[i] = (char)((c < 0x20 || c == 0x7f) ? '?' : c);
    }
    out->error[n] = '\0';
    rc = 0;

done:
    if (reply != NULL)
        psi__reply__free_unpacked(reply, &wiping_allocator);
    if (signed_reply != NULL)
        psi__signed_reply__free_unpacked(signed_reply, &wiping_allocator);
    wipe_and_free(signed_message, signed_message_len);
    wipe_and_free(plain, plain_len);
    if (rc != 0)
        psi_reply_clear(out);
    return rc;
}

void psi_reply_clear(struct psi_reply *reply)
{
    if (reply == NULL)
        return;
    wipe_and_free(reply->body, reply->body_len);
    sodium_memzero(reply, sizeof *reply);
}
