/*
 * Curve25519 for the mutual protocol's X25519 suite: hashing to the curve,
 * the check of u-coordinates that come from outside, and X25519 of many
 * points under one key.
 *
 * psi_curve25519_hash_to_curve is RFC 9380's hash_to_curve for the suite
 * curve25519_XMD:SHA-512_ELL2_RO_ (random-oracle construction: two Elligator
 * 2 maps, their sum, the cofactor cleared), so its output lies in the
 * prime-order subgroup. It runs in constant time in the message: the field
 * arithmetic is the project's own (psi/crypto/fe25519.c), straight-line,
 * with no branch or table index on secret data, because the message is a
 * party's private indicator. Nothing allocates; intermediates are wiped.
 *
 * Coordinates are 32 bytes little-endian, as X25519 (RFC 7748) takes them.
 */
#ifndef PSI_CURVE25519_H
#define PSI_CURVE25519_H

#include <stddef.h>

#include "psi/export.h"
#include "psi/xmd.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PSI_CURVE25519_BYTES 32U

/*
 * (u, v) = hash_to_curve(message) under `dst`, the message given in parts
 * (psi/xmd.h). v may be NULL when only u is wanted (X25519 needs only u).
 * The identity, which the construction reaches with negligible probability,
 * comes out as u = v = 0. PSI_ERR_INVALID for a NULL u or an empty dst,
 * else the errors of psi_expand_message_xmd_sha512_parts.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_curve25519_hash_to_curve(unsigned char u[32], unsigned char v[32],
                                                           const struct psi_xmd_part *parts,
                                                           size_t n_parts, const unsigned char *dst,
                                                           size_t dst_len);

/*
 * The check of a u-coordinate received from another party: 0 if u is the
 * canonical encoding (an integer below 2^255 - 19, top bit clear) of a point
 * other than the small-order ones; PSI_ERR_ENCODING if it is not canonical;
 * PSI_ERR_IDENTITY if it is one of the u-coordinates of small order on the
 * curve or its twist (0, 1, 2^255 - 20 and the two of order 8), whose
 * multiples reveal nothing of a key but are worthless as elements. A point
 * of the twist passes: X25519 is secure on it (docs/protocol.md).
 */
PSI_EXPORT PSI_MUST_CHECK int psi_curve25519_check_u(const unsigned char u[32]);

/*
 * X25519 (RFC 7748) of n points under one key: out[32 i .. 32 i + 31] =
 * X25519(key, points[32 i ..]), byte for byte what libsodium's
 * crypto_scalarmult gives (the key clamped, the top bit of each u ignored).
 * The points are not checked: check each with psi_curve25519_check_u first
 * when it comes from outside. out may equal points; any other overlap is
 * undefined. Where the CPU has AVX-512 IFMA, eight points go through one
 * ladder side by side (the key, hence every step, is the same for all);
 * elsewhere, or with the environment variable PSI_X25519_IMPL=libsodium,
 * each goes through crypto_scalarmult. Constant time in the key (and, on
 * the eight-lane path, in the points).
 *
 * PSI_OK; PSI_ERR_IDENTITY if a product is all-zero (a point of small
 * order), the first such index in *zero_index (which may be NULL), every
 * other product still written; PSI_ERR_INVALID for a NULL out, key, or
 * points with n > 0; PSI_ERR_TOO_LARGE if n * 32 overflows.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_x25519_many(unsigned char *out, const unsigned char key[32],
                                              const unsigned char *points, size_t n,
                                              size_t *zero_index);

/* The implementation psi_x25519_many uses in this process: "avx512ifma" or
 * "libsodium". */
PSI_EXPORT const char *psi_x25519_implementation(void);

#ifdef __cplusplus
}
#endif
#endif
