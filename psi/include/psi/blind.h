/*
 * Commutative blinding for protocol 1 (mutual overlap discovery).
 *
 * Each party hashes its canonical indicators ("type:value") to ristretto255
 * and multiplies them by its per-epoch key; a peer multiplies the result by
 * its own key and hashes the doubly blinded point to a short tag. Because
 * k1 * (k2 * H(x)) = k2 * (k1 * H(x)), tags of a common indicator are equal
 * whichever party blinded first, and nothing else is. The module promises:
 * keys are canonical non-zero scalars (anything else is refused), every point
 * that comes from outside decodes and is not the identity before it is used
 * (else the error names its index), the doubly blinded points never leave this
 * module (only their tags), secret intermediates are wiped, and batches run
 * across at most `threads` threads (0 = every online core, psi/pool.h) with
 * results that do not depend on the number of threads.
 *
 * Domain separation tags of the mutual protocol, version 1 (distinct from the
 * RFC 9497 OPRF DSTs, which all contain "OPRFV1-"):
 *   PSI_MUTUAL_DST_HASH_TO_GROUP  hash_to_ristretto255 (RFC 9380 appendix B,
 *                                 expand_message_xmd SHA-512) of indicators
 *   PSI_MUTUAL_DST_DERIVE_KEY     HashToScalar for the per-epoch key
 *   PSI_MUTUAL_DST_TAG            prefix of the SHA-512 input of a tag
 * Changing any of them, or the byte layouts below, changes every tag: that is
 * a new protocol version.
 *
 * Every function returns 0 or a negative psi error code (psi/error.h). When
 * an error is found after work has begun (a bad point, say), the whole output
 * is zeroed, so no partial result can be mistaken for a complete one.
 */
#ifndef PSI_BLIND_H
#define PSI_BLIND_H

#include <stddef.h>

#include "psi/export.h"
#include "psi/ident.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PSI_ELEMENT_BYTES 32
#define PSI_SCALAR_BYTES 32
#define PSI_TAG_BYTES 16
#define PSI_MUTUAL_SEED_BYTES 32

#define PSI_MUTUAL_DST_HASH_TO_GROUP                                                               \
    "psi-mutual-v1-HashToGroup-ristretto255_XMD:SHA-512_R255MAP_RO_"
#define PSI_MUTUAL_DST_DERIVE_KEY "psi-mutual-v1-DeriveKey-ristretto255-SHA512"
#define PSI_MUTUAL_DST_TAG "psi-mutual-v1-Tag"

/* Longest indicator hashed to the group (as for OPRF inputs). */
#define PSI_MUTUAL_MAX_INPUT_BYTES 65535U
/* Longest epoch label, e.g. "2026-W48": psi/ident.h's, as everywhere. */
#define PSI_MUTUAL_MAX_EPOCH_BYTES PSI_EPOCH_LABEL_MAX
/* Longest tag context. */
#define PSI_MUTUAL_MAX_CONTEXT_BYTES 65535U

/*
 * Per-epoch key from a long-term secret seed and an epoch label (valid by
 * psi_epoch_label_is_valid of psi/ident.h): key = HashToScalar(seed ||
 * I2OSP(len(epoch), 2) || epoch || I2OSP(counter, 1)) under
 * PSI_MUTUAL_DST_DERIVE_KEY, for the first counter in 0..255 giving a non-zero
 * scalar. Deterministic, so a party re-derives it instead of storing it.
 * PSI_ERR_TOO_LARGE for a label longer than PSI_MUTUAL_MAX_EPOCH_BYTES,
 * PSI_ERR_INVALID for any other invalid one (empty, a byte outside the
 * alphabet). The 2-byte length prefix stays, whatever the limit.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_mutual_derive_key(const unsigned char seed[32], const char *epoch,
                                                    unsigned char key[32]);

/* H(x) = hash_to_ristretto255(input) under PSI_MUTUAL_DST_HASH_TO_GROUP, where
 * input is the indicator as the bytes "type:value" (at most 65535 bytes). */
PSI_EXPORT PSI_MUST_CHECK int psi_mutual_hash_to_group(const unsigned char *input, size_t len,
                                                       unsigned char point[32]);

/*
 * out[i] = key * H(inputs[i]) for i < n (out holds n * 32 bytes). inputs[i]
 * has lens[i] bytes (at most 65535; NULL only if 0). n == 0 does nothing and
 * the arrays may then be NULL.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_blind_batch(const unsigned char key[32], size_t n,
                                              const unsigned char *const *inputs,
                                              const size_t *lens, unsigned char *out,
                                              unsigned threads);

/*
 * out[i] = key * points[i] (n consecutive 32-byte points in, n out). Every
 * point must decode and not be the identity; otherwise PSI_ERR_ENCODING or
 * PSI_ERR_IDENTITY, and *bad_index (if bad_index is not NULL) is the lowest
 * such index. out may equal points (in place), but must not overlap it
 * otherwise.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_reblind_batch(const unsigned char key[32], size_t n,
                                                const unsigned char *points, unsigned char *out,
                                                size_t *bad_index, unsigned threads);

/*
 * tags[i] = first 16 bytes of SHA-512(PSI_MUTUAL_DST_TAG || context ||
 * key * points[i]) (tags holds n * 16 bytes). The context binds the tag to an
 * epoch and a pair of parties; the caller length-prefixes its fields so that
 * it parses uniquely (the DST and the point have fixed lengths). context may
 * be NULL when context_len == 0. Points are validated as in
 * psi_reblind_batch, with the same bad_index rule.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_tag_batch(const unsigned char key[32], size_t n,
                                            const unsigned char *points,
                                            const unsigned char *context, size_t context_len,
                                            unsigned char *tags, size_t *bad_index,
                                            unsigned threads);

/* out = key^-1 * point: removes a blind (for tests and tools). */
PSI_EXPORT PSI_MUST_CHECK int psi_unblind(const unsigned char key[32],
                                          const unsigned char point[32], unsigned char out[32]);

#ifdef __cplusplus
}
#endif
#endif
