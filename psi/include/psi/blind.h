/*
 * Commutative blinding for protocol 1 (mutual overlap discovery).
 *
 * Each party hashes its canonical indicators ("type:value") to a group and
 * multiplies them by its per-epoch key; a peer multiplies the result by its
 * own key and hashes the doubly blinded element to a short tag. Because
 * k1 * (k2 * H(x)) = k2 * (k1 * H(x)), tags of a common indicator are equal
 * whichever party blinded first, and nothing else is. Protocol 1 needs only
 * that commutativity: it never inverts a key.
 *
 * Two suites, both with 32-byte elements and keys (a libpsi build carries
 * one as the mutual suite, psi_mutual_suite(); the build option
 * PSI_MUTUAL_SUITE picks it):
 *   PSI_MUTUAL_SUITE_X25519 (2, the default): H = RFC 9380
 *     curve25519_XMD:SHA-512_ELL2_RO_ (psi/curve25519.h) and its Montgomery
 *     u-coordinate; blinding is X25519 (crypto_scalarmult, RFC 7748) with
 *     the key as the scalar. An element is a canonical u-coordinate (below
 *     2^255 - 19, top bit clear) not of small order; an all-zero result is
 *     refused.
 *   PSI_MUTUAL_SUITE_RISTRETTO255 (1, kept for comparison): H =
 *     hash_to_ristretto255 (RFC 9380 appendix B), ristretto255 scalar
 *     multiplication; an element decodes and is not the identity.
 * Hub and parties agree on the suite through its number (the wire's
 * mutual_suite fields, docs/protocol.md): elements of one suite are no
 * elements of the other.
 *
 * The module promises: keys are canonical non-zero scalars (anything else is
 * refused), every element that comes from outside is checked before it is
 * used (else the error names its index), the doubly blinded elements never
 * leave this module (only their tags), secret intermediates are wiped, the
 * work on indicators and keys runs in constant time, and batches run across
 * at most `threads` threads (0 = every online core, psi/pool.h) with results
 * that do not depend on the number of threads.
 *
 * Domain separation tags (distinct from the RFC 9497 OPRF DSTs, which all
 * contain "OPRFV1-"), per suite:
 *   ..._DST_HASH_TO_GROUP  the hash of indicators (expand_message_xmd SHA-512)
 *   ..._DST_DERIVE_KEY     HashToScalar for the per-epoch key
 *   ..._DST_TAG            prefix of the SHA-512 input of a tag
 * Changing any of them, or the byte layouts below, changes every tag: that is
 * a new suite number.
 *
 * Every function returns 0 or a negative psi error code (psi/error.h). When
 * an error is found after work has begun (a bad element, say), the whole
 * output is zeroed, so no partial result can be mistaken for a complete one.
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

/* The suites' numbers, as the wire carries them. */
#define PSI_MUTUAL_SUITE_RISTRETTO255 1U
#define PSI_MUTUAL_SUITE_X25519 2U

/* Suite 1, ristretto255. */
#define PSI_MUTUAL_DST_HASH_TO_GROUP                                                               \
    "psi-mutual-v1-HashToGroup-ristretto255_XMD:SHA-512_R255MAP_RO_"
#define PSI_MUTUAL_DST_DERIVE_KEY "psi-mutual-v1-DeriveKey-ristretto255-SHA512"
#define PSI_MUTUAL_DST_TAG "psi-mutual-v1-Tag"
/* Suite 2, X25519. */
#define PSI_MUTUAL_X25519_DST_HASH_TO_GROUP                                                        \
    "psi-mutual-v2-HashToCurve-curve25519_XMD:SHA-512_ELL2_RO_"
#define PSI_MUTUAL_X25519_DST_DERIVE_KEY "psi-mutual-v2-DeriveKey-X25519-SHA512"
#define PSI_MUTUAL_X25519_DST_TAG "psi-mutual-v2-Tag"

/* Longest indicator hashed to the group (as for OPRF inputs). */
#define PSI_MUTUAL_MAX_INPUT_BYTES 65535U
/* Longest epoch label, e.g. "2026-W48": psi/ident.h's, as everywhere. */
#define PSI_MUTUAL_MAX_EPOCH_BYTES PSI_EPOCH_LABEL_MAX
/* Longest tag context. */
#define PSI_MUTUAL_MAX_CONTEXT_BYTES 65535U

/* The suite of this libpsi's mutual protocol: PSI_MUTUAL_SUITE_X25519 or,
 * in a build with -DPSI_MUTUAL_SUITE=ristretto255, PSI_MUTUAL_SUITE_RISTRETTO255. */
PSI_EXPORT unsigned psi_mutual_suite(void);

/* "X25519" or "ristretto255" for a suite number, "unknown" for others. */
PSI_EXPORT const char *psi_mutual_suite_name(unsigned suite);

/*
 * Per-epoch key from a long-term secret seed and an epoch label (valid by
 * psi_epoch_label_is_valid of psi/ident.h): key = HashToScalar(seed ||
 * I2OSP(len(epoch), 2) || epoch || I2OSP(counter, 1)) under
 * the suite's DST_DERIVE_KEY, for the first counter in 0..255 giving a non-zero
 * scalar. Deterministic, so a party re-derives it instead of storing it.
 * PSI_ERR_TOO_LARGE for a label longer than PSI_MUTUAL_MAX_EPOCH_BYTES,
 * PSI_ERR_INVALID for any other invalid one (empty, a byte outside the
 * alphabet). The 2-byte length prefix stays, whatever the limit.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_mutual_derive_key(const unsigned char seed[32], const char *epoch,
                                                    unsigned char key[32]);

/* H(x) under the suite's DST_HASH_TO_GROUP (the u-coordinate of
 * hash_to_curve for X25519, hash_to_ristretto255 for ristretto255), where
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
 * point must be an element of the suite (X25519: psi_curve25519_check_u;
 * ristretto255: decodes, not the identity) and its product not all-zero;
 * otherwise PSI_ERR_ENCODING (not canonical, does not decode) or
 * PSI_ERR_IDENTITY (small order, identity, all-zero product), and *bad_index (if bad_index is not
 * NULL) is the lowest such index. out may equal points (in place), but must not overlap it
 * otherwise.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_reblind_batch(const unsigned char key[32], size_t n,
                                                const unsigned char *points, unsigned char *out,
                                                size_t *bad_index, unsigned threads);

/*
 * tags[i] = first 16 bytes of SHA-512(DST_TAG || context ||
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

/* out = key^-1 * point: removes a blind (for tests and tools). ristretto255
 * only: the protocol never needs it, and X25519 clamps the scalar, so the
 * X25519 suite answers PSI_ERR_UNSUPPORTED. */
PSI_EXPORT PSI_MUST_CHECK int psi_unblind(const unsigned char key[32],
                                          const unsigned char point[32], unsigned char out[32]);

#ifdef __cplusplus
}
#endif
#endif
