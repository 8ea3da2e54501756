/*
 * The prime-order group ristretto255 (RFC 9496) and its scalars, as the OPRF
 * suite ristretto255-SHA512 (RFC 9497, section 4.1) needs them.
 *
 * libsodium does the arithmetic; this module adds what the RFCs demand on top
 * of it and libsodium 1.0.18 leaves out: element decoding that also refuses
 * the identity, scalar decoding that refuses non-canonical encodings (libsodium
 * silently reduces them and ignores the top bit), hash-to-group and
 * hash-to-scalar over expand_message_xmd(SHA-512), and scalar multiplication
 * that yields the identity (32 zero bytes) for a zero scalar instead of
 * failing. Elements and scalars are 32-byte encodings; nothing allocates.
 */
#ifndef PSI_GROUP_H
#define PSI_GROUP_H

#include <stddef.h>

#include "psi/export.h"
#include "psi/xmd.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PSI_GROUP_ELEMENT_BYTES 32U
#define PSI_GROUP_SCALAR_BYTES 32U
/* Bytes of uniform input the element derivation (RFC 9496, 4.3.4) consumes. */
#define PSI_GROUP_UNIFORM_BYTES 64U

/* Makes libsodium ready (sodium_init); every public entry point of libpsi
 * that uses the group calls it, so callers need not. 0 or PSI_ERR_CRYPTO. */
PSI_EXPORT PSI_MUST_CHECK int psi_group_ready(void);

/* DeserializeElement: 0 if `element` is a canonical ristretto255 encoding
 * of an element other than the identity; PSI_ERR_IDENTITY for the identity,
 * PSI_ERR_ENCODING for anything else that does not decode. */
PSI_EXPORT PSI_MUST_CHECK int psi_group_check_element(const unsigned char element[32]);

/* DeserializeScalar: 0 if `scalar` is the little-endian encoding of an
 * integer < L (so its top three bits are zero), else PSI_ERR_ENCODING.
 * Runs in constant time: scalars are often secret. Zero is canonical. */
PSI_EXPORT PSI_MUST_CHECK int psi_group_check_scalar(const unsigned char scalar[32]);

/* psi_group_check_scalar, and also PSI_ERR_INVALID for zero: the check for
 * keys, blinds and nonces, which must be invertible. */
PSI_EXPORT PSI_MUST_CHECK int psi_group_check_nonzero_scalar(const unsigned char scalar[32]);

/* Element derivation from 64 uniform bytes (RFC 9496, 4.3.4; libsodium's
 * crypto_core_ristretto255_from_hash). */
PSI_EXPORT PSI_MUST_CHECK int psi_group_element_from_uniform(unsigned char element[32],
                                                             const unsigned char uniform[64]);

/* hash_to_ristretto255 (RFC 9380, appendix B) with expand_message_xmd
 * SHA-512 under `dst`. May return the identity (with negligible
 * probability); callers that forbid it check. */
PSI_EXPORT PSI_MUST_CHECK int psi_group_hash_to_group(unsigned char element[32],
                                                      const struct psi_xmd_part *parts,
                                                      size_t n_parts, const unsigned char *dst,
                                                      size_t dst_len);

/* HashToScalar of RFC 9497: 64 bytes of expand_message_xmd SHA-512 under
 * `dst`, read little-endian and reduced mod L. May be zero. */
PSI_EXPORT PSI_MUST_CHECK int psi_group_hash_to_scalar(unsigned char scalar[32],
                                                       const struct psi_xmd_part *parts,
                                                       size_t n_parts, const unsigned char *dst,
                                                       size_t dst_len);

/* out = scalar * element. The scalar must be canonical (checked by the
 * caller) and the element a valid encoding, the identity included; a zero
 * scalar or the identity give the identity. PSI_ERR_ENCODING if the element
 * does not decode. */
PSI_EXPORT PSI_MUST_CHECK int psi_group_mult(unsigned char out[32], const unsigned char scalar[32],
                                             const unsigned char element[32]);

/* out = scalar * Generator(); a zero scalar gives the identity. */
PSI_EXPORT PSI_MUST_CHECK int psi_group_mult_base(unsigned char out[32],
                                                  const unsigned char scalar[32]);

/* out = a + b (either may be the identity). PSI_ERR_ENCODING if one does not
 * decode. */
PSI_EXPORT PSI_MUST_CHECK int psi_group_add(unsigned char out[32], const unsigned char a[32],
                                            const unsigned char b[32]);

#ifdef __cplusplus
}
#endif
#endif
