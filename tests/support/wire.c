/* What a participant computes, written out from the wire format (wire.h). */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "envelope.h"
#include "psi.pb-c.h"
#include "psi/blind.h"
#include "psi/indicator.h"

void hub_test_u64be(unsigned char out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* n valid, random elements of the build's mutual suite: X25519
 * u-coordinates of the prime-order subgroup, or ristretto255 points. */
uint8_t *hub_test_elements(uint64_t n)
{
    uint8_t *e = malloc((size_t)n * 32 + 1);
    for (uint64_t i = 0; e != NULL && i < n; i++) {
        unsigned char h[64];
        randombytes_buf(h, sizeof h);
        if (psi_mutual_suite() == PSI_MUTUAL_SUITE_X25519)
            crypto_scalarmult_base(e + i * 32, h);
        else
            crypto_core_ristretto255_from_hash(e + i * 32, h);
    }
    return e;
}

/* SHA-256("psi/submission/v1" 0 epoch 0 sender 0 u64be(count) elements) */
void hub_test_submission_digest(const char *epoch, const char *sender, uint64_t count,
                                const uint8_t *elements, unsigned char digest[32])
{
    static const unsigned char zero = 0;
    unsigned char n[8];
    hub_test_u64be(n, count);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)"psi/submission/v1", 17);
    crypto_hash_sha256_update(&h, &zero, 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)epoch, strlen(epoch));
    crypto_hash_sha256_update(&h, &zero, 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)sender, strlen(sender));
    crypto_hash_sha256_update(&h, &zero, 1);
    crypto_hash_sha256_update(&h, n, 8);
    crypto_hash_sha256_update(&h, elements, (size_t)count * 32);
    crypto_hash_sha256_final(&h, digest);
}

/* Ed25519(sender, "psi/submission-sig/v1" 0 hub_key digest) */
void hub_test_submission_sign(const unsigned char *secret_key, const unsigned char hub_key[32],
                              const unsigned char digest[32], unsigned char sig[64])
{
    unsigned char m[22 + 32 + 32];
    memcpy(m, "psi/submission-sig/v1", 22); /* with its 0x00 */
    memcpy(m + 22, hub_key, 32);
    memcpy(m + 54, digest, 32);
    crypto_sign_detached(sig, NULL, m, sizeof m, secret_key);
}

/* SHA-256("psi/tags/v1" 0 tags) */
void hub_test_tag_digest(const uint8_t *tags, uint64_t count, unsigned char digest[32])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)"psi/tags/v1", 12);
    crypto_hash_sha256_update(&h, tags, (size_t)count * 16);
    crypto_hash_sha256_final(&h, digest);
}

/* Ed25519(sender, "psi/crossblind-sig/v1" 0 hub_key submission_digest
 * u64be(count) tag_digest) */
void hub_test_crossblind_sign(const unsigned char *secret_key, const unsigned char hub_key[32],
                              const unsigned char submission_digest[32], uint64_t count,
                              const unsigned char tag_digest[32], unsigned char sig[64])
{
    unsigned char m[22 + 32 + 32 + 8 + 32];
    memcpy(m, "psi/crossblind-sig/v1", 22);
    memcpy(m + 22, hub_key, 32);
    memcpy(m + 54, submission_digest, 32);
    hub_test_u64be(m + 86, count);
    memcpy(m + 94, tag_digest, 32);
    crypto_sign_detached(sig, NULL, m, sizeof m, secret_key);
}

/* A stand-in for an indicator's tag under a pair of keys: the hub only
 * compares tags, so equal indicators get equal bytes. */
void hub_test_tag(uint32_t indicator, uint8_t tag[16])
{
    unsigned char h[32], in[4];
    hub_test_u64be(h, indicator); /* scratch */
    memcpy(in, h + 4, 4);
    crypto_hash_sha256(h, in, sizeof in);
    memcpy(tag, h, 16);
}

uint8_t *hub_test_pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *out = malloc(*len + 1);
    if (out != NULL)
        protobuf_c_message_pack(msg, out);
    return out;
}

uint8_t *hub_test_chunk_body(const uint8_t upload_id[16], uint64_t offset, const uint8_t *items,
                             size_t len, size_t *body_len)
{
    Psi__UploadChunk m = PSI__UPLOAD_CHUNK__INIT;
    m.upload_id.data = (uint8_t *)upload_id;
    m.upload_id.len = 16;
    m.offset = offset;
    m.items.data = (uint8_t *)items;
    m.items.len = len;
    return hub_test_pack(&m.base, body_len);
}

uint8_t *hub_test_commit_body(const uint8_t upload_id[16], const char *epoch, uint64_t count,
                              const unsigned char digest[32], const unsigned char sig[64],
                              size_t *body_len)
{
    Psi__SubmitCommit m = PSI__SUBMIT_COMMIT__INIT;
    m.upload_id.data = (uint8_t *)upload_id;
    m.upload_id.len = 16;
    m.epoch = (char *)epoch;
    m.count = count;
    m.digest.data = (uint8_t *)digest;
    m.digest.len = 32;
    m.signature.data = (uint8_t *)sig;
    m.signature.len = 64;
    m.indicator_rules = PSI_IOC_RULES_VERSION; /* as a current client canonicalised them */
    m.mutual_suite = psi_mutual_suite();       /* and blinded them */
    return hub_test_pack(&m.base, body_len);
}

uint8_t *hub_test_craft(const struct psi_identity *who, const unsigned char hub_key[32],
                        const char *method, uint64_t timestamp_ms, const uint8_t *body,
                        size_t body_len, const uint8_t *raw_request, size_t raw_len,
                        const unsigned char rid[16], size_t *frame_len)
{
    unsigned char nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    Psi__Request rq = PSI__REQUEST__INIT;
    rq.hub_key.data = (uint8_t *)hub_key;
    rq.hub_key.len = 32;
    rq.sender = (char *)who->name;
    rq.method = (char *)method;
    rq.timestamp_ms = timestamp_ms;
    rq.nonce.data = nonce;
    rq.nonce.len = 16;
    rq.request_id.data = (uint8_t *)rid;
    rq.request_id.len = 16;
    rq.body.data = (uint8_t *)body;
    rq.body.len = body_len;
    size_t req_len = 0;
    uint8_t *req;
    if (raw_request != NULL) {
        req = malloc(raw_len + 1);
        if (req != NULL)
            memcpy(req, raw_request, raw_len);
        req_len = raw_len;
    } else {
        req = hub_test_pack(&rq.base, &req_len);
    }
    if (req == NULL)
        return NULL;
    static const char ctx[] = "psi/request/v1"; /* with its 0x00 */
    uint8_t *to_sign = malloc(sizeof ctx + req_len);
    if (to_sign == NULL) {
        free(req);
        return NULL;
    }
    memcpy(to_sign, ctx, sizeof ctx);
    memcpy(to_sign + sizeof ctx, req, req_len);
    unsigned char sig[64];
    crypto_sign_detached(sig, NULL, to_sign, sizeof ctx + req_len, who->secret_key);
    free(to_sign);
    Psi__SignedRequest sr = PSI__SIGNED_REQUEST__INIT;
    sr.request.data = req;
    sr.request.len = req_len;
    sr.signature.data = sig;
    sr.signature.len = 64;
    size_t signed_len = 0;
    uint8_t *signed_bytes = hub_test_pack(&sr.base, &signed_len);
    free(req);
    unsigned char hub_x[32];
    uint8_t *frame = NULL;
    if (signed_bytes != NULL && crypto_sign_ed25519_pk_to_curve25519(hub_x, hub_key) == 0)
        frame = malloc(1 + crypto_box_SEALBYTES + signed_len);
    if (frame != NULL) {
        frame[0] = PSI_FRAME_SEALED;
        if (crypto_box_seal(frame + 1, signed_bytes, signed_len, hub_x) != 0) {
            free(frame);
            frame = NULL;
        } else {
            *frame_len = 1 + crypto_box_SEALBYTES + signed_len;
        }
    }
    free(signed_bytes);
    return frame;
}
