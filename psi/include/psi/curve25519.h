/*
 * Curve25519 for the mutual protocol's X25519 suite: hashing to the curve
 * and the check of u-coordinates that come from outside.
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

#ifdef __cplusplus
}
#endif
#endif
