/*
 * expand_message_xmd with SHA-512 (RFC 9380, section 5.3.1).
 *
 * The one place where a byte string and a domain separation tag (DST) become
 * uniform bytes: hash-to-group and hash-to-scalar of the OPRF suite and of the
 * mutual protocol all go through it. libsodium 1.0.18 has no expander, so this
 * one is built on crypto_hash_sha512_*. It promises the exact RFC output,
 * including the rule for DSTs longer than 255 bytes (section 5.3.3: such a DST
 * is replaced by SHA-512("H2C-OVERSIZE-DST-" || DST)). It never allocates and
 * wipes its intermediate digests, because messages are often private inputs.
 */
#ifndef PSI_XMD_H
#define PSI_XMD_H

#include <stddef.h>

#include "psi/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SHA-512 output size (b_in_bytes) and the largest output: 255 blocks. */
#define PSI_XMD_SHA512_BLOCK_BYTES 64U
#define PSI_XMD_SHA512_MAX_OUTPUT_BYTES ((size_t)255 * PSI_XMD_SHA512_BLOCK_BYTES)
/* A DST longer than this is hashed down first (RFC 9380, section 5.3.3). */
#define PSI_XMD_MAX_DIRECT_DST_BYTES 255U

/* One piece of a message given in several pieces (the pieces are
 * concatenated); lets callers hash length-prefixed transcripts without
 * copying them into one buffer. */
struct psi_xmd_part {
    const unsigned char *bytes; /* may be NULL only when len == 0 */
    size_t len;
};

/*
 * out[0..out_len) = expand_message_xmd(msg, dst, out_len) with H = SHA-512.
 * msg may be NULL when msg_len == 0; out may be NULL when out_len == 0 (the
 * RFC allows an empty output; nothing is written).
 * Errors: PSI_ERR_INVALID for a NULL pointer with a non-zero length or an
 * empty DST (RFC 9380 requires a non-empty tag); PSI_ERR_TOO_LARGE when
 * out_len > PSI_XMD_SHA512_MAX_OUTPUT_BYTES (16320).
 */
PSI_EXPORT PSI_MUST_CHECK int
psi_expand_message_xmd_sha512(unsigned char *out, size_t out_len, const unsigned char *msg,
                              size_t msg_len, const unsigned char *dst, size_t dst_len);

/* The same, with the message given as n_parts consecutive pieces. */
PSI_EXPORT PSI_MUST_CHECK int
psi_expand_message_xmd_sha512_parts(unsigned char *out, size_t out_len,
                                    const struct psi_xmd_part *parts, size_t n_parts,
                                    const unsigned char *dst, size_t dst_len);

#ifdef __cplusplus
}
#endif
#endif
