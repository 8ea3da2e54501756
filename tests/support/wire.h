/*
 * What a participant computes before it talks to the hub, written out from
 * psi.proto for the hub's tests (server/hub_test.c in process,
 * tests/hub_security_test.c over sockets): blinded-looking elements, the
 * submission digest and signature, the tag digest and the cross-blind
 * signature. Independent of the client's code on purpose: the tests pin the
 * documented wire, not one implementation of it.
 */
#ifndef PSI_HUB_TEST_UTIL_H
#define PSI_HUB_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "psi.pb-c.h"

static inline void hub_test_u64be(unsigned char out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* n valid, random ristretto255 points. */
static inline uint8_t *hub_test_elements(uint64_t n)
{
    uint8_t *e = malloc((size_t)n * 32 + 1);
    for (uint64_t i = 0; e != NULL && i < n; i++) {
        unsigned char h[64];
        randombytes_buf(h, sizeof h);
        crypto_core_ristretto255_from_hash(e + i * 32, h);
    }
    return e;
}

/* SHA-256("psi/submission/v1" 0 epoch 0 sender 0 u64be(count) elements) */
static inline void hub_test_submission_digest(const char *epoch, const char *sender, uint64_t count,
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
static inline void hub_test_submission_sign(const unsigned char *secret_key,
                                            const unsigned char hub_key[32],
                                            const unsigned char digest[32], unsigned char sig[64])
{
    unsigned char m[22 + 32 + 32];
    memcpy(m, "psi/submission-sig/v1", 22); /* with its 0x00 */
    memcpy(m + 22, hub_key, 32);
    memcpy(m + 54, digest, 32);
    crypto_sign_detached(sig, NULL, m, sizeof m, secret_key);
}

/* SHA-256("psi/tags/v1" 0 tags) */
static inline void hub_test_tag_digest(const uint8_t *tags, uint64_t count,
                                       unsigned char digest[32])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)"psi/tags/v1", 12);
    crypto_hash_sha256_update(&h, tags, (size_t)count * 16);
    crypto_hash_sha256_final(&h, digest);
}

/* Ed25519(sender, "psi/crossblind-sig/v1" 0 hub_key submission_digest
 * u64be(count) tag_digest) */
static inline void hub_test_crossblind_sign(const unsigned char *secret_key,
                                            const unsigned char hub_key[32],
                                            const unsigned char submission_digest[32],
                                            uint64_t count, const unsigned char tag_digest[32],
                                            unsigned char sig[64])
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
static inline void hub_test_tag(uint32_t indicator, uint8_t tag[16])
{
    unsigned char h[32], in[4];
    hub_test_u64be(h, indicator); /* scratch */
    memcpy(in, h + 4, 4);
    crypto_hash_sha256(h, in, sizeof in);
    memcpy(tag, h, 16);
}

static inline uint8_t *hub_test_pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *out = malloc(*len + 1);
    if (out != NULL)
        protobuf_c_message_pack(msg, out);
    return out;
}

#endif
