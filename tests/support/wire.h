/*
 * What a participant computes before it talks to the hub, written out from
 * psi.proto and docs/wire.md for the tests: blinded-looking elements, the
 * submission digest and signature, the tag digest and the cross-blind
 * signature, the bodies of upload.chunk and submit.commit, and a whole
 * request frame signed and sealed by hand. Independent of the client's code
 * on purpose: the tests pin the documented wire, not one implementation of
 * it. Used in process (the tests of server/), over sockets (tests/hub_*_test.c,
 * tests/hostile_network_test.c, tests/bench/bench_load.c) and by the fuzz
 * seed generator. Nothing here asserts; what allocates returns NULL on
 * failure.
 */
#ifndef PSI_TEST_WIRE_H
#define PSI_TEST_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "identity.h"

/* v as 8 big-endian bytes. */
void hub_test_u64be(unsigned char out[8], uint64_t v);

/* n valid, random elements of the build's mutual suite (psi_mutual_suite():
 * X25519 u-coordinates or ristretto255 points; n * 32 bytes, malloc'd). */
uint8_t *hub_test_elements(uint64_t n);

/* SHA-256("psi/submission/v1" 0 epoch 0 sender 0 u64be(count) elements) */
void hub_test_submission_digest(const char *epoch, const char *sender, uint64_t count,
                                const uint8_t *elements, unsigned char digest[32]);

/* Ed25519(sender, "psi/submission-sig/v1" 0 hub_key digest) */
void hub_test_submission_sign(const unsigned char *secret_key, const unsigned char hub_key[32],
                              const unsigned char digest[32], unsigned char sig[64]);

/* SHA-256("psi/tags/v1" 0 tags) */
void hub_test_tag_digest(const uint8_t *tags, uint64_t count, unsigned char digest[32]);

/* Ed25519(sender, "psi/crossblind-sig/v1" 0 hub_key submission_digest
 * u64be(count) tag_digest) */
void hub_test_crossblind_sign(const unsigned char *secret_key, const unsigned char hub_key[32],
                              const unsigned char submission_digest[32], uint64_t count,
                              const unsigned char tag_digest[32], unsigned char sig[64]);

/* A stand-in for an indicator's tag under a pair of keys: the hub only
 * compares tags, so equal indicators get equal bytes. */
void hub_test_tag(uint32_t indicator, uint8_t tag[16]);

/* msg serialized (malloc'd, one spare byte so that an empty message is not a
 * NULL pointer); its length in *len. */
uint8_t *hub_test_pack(const ProtobufCMessage *msg, size_t *len);

/* The body of upload.chunk: items (len bytes) at offset of upload_id. */
uint8_t *hub_test_chunk_body(const uint8_t upload_id[16], uint64_t offset, const uint8_t *items,
                             size_t len, size_t *body_len);

/* The body of submit.commit for upload_id: epoch, the count claimed, the
 * submission digest and its signature (as the caller made them, right or
 * wrong on purpose). */
uint8_t *hub_test_commit_body(const uint8_t upload_id[16], const char *epoch, uint64_t count,
                              const unsigned char digest[32], const unsigned char sig[64],
                              size_t *body_len);

/* A request frame built by hand from the wire format (docs/wire.md):
 * Request{hub_key, who->name, method, timestamp_ms, fresh nonce, rid, body},
 * signed with who's key, sealed to hub_key. raw_request, when not NULL,
 * replaces the serialized Request (signed and sealed all the same). malloc'd;
 * NULL on failure. */
uint8_t *hub_test_craft(const struct psi_identity *who, const unsigned char hub_key[32],
                        const char *method, uint64_t timestamp_ms, const uint8_t *body,
                        size_t body_len, const uint8_t *raw_request, size_t raw_len,
                        const unsigned char rid[16], size_t *frame_len);

#endif
