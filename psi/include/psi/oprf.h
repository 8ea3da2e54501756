/*
 * OPRF and VOPRF of RFC 9497, ciphersuite ristretto255-SHA512.
 *
 * Protocol 2 (vendor feeds) rests on this: a vendor evaluates its feed with
 * its key, an agency blinds its queries, the vendor evaluates them blindly and
 * proves (VOPRF) that it used its announced key, and the agency unblinds. The
 * module promises byte-exact RFC 9497 results (its test vectors pass) and the
 * input checks the RFC asks for: elements that do not decode or are the
 * identity are refused, scalars must be canonical (< L, top bits clear), and
 * private or public inputs are at most 65535 bytes (they are length-prefixed
 * with two bytes).
 *
 * Sizes: element, scalar and key 32 bytes; output and proof 64 bytes. A batch
 * is n consecutive 32-byte elements. Every function returns 0 or a negative
 * psi error code (psi/error.h); on error, outputs are unspecified (secret
 * intermediates are wiped either way).
 *
 * Differences from the RFC's interface, on purpose:
 * - Blind and GenerateProof take their random scalar from the caller when
 *   given (for the test vectors; it must be canonical and non-zero), else draw
 *   a fresh one.
 * - In VOPRF mode the server side is psi_oprf_blind_evaluate on each element
 *   followed by one psi_voprf_prove over the whole batch (RFC 9497
 *   BlindEvaluateBatch), and the client side is one psi_voprf_verify over the
 *   batch followed by psi_oprf_finalize on each element. psi_oprf_finalize
 *   therefore takes no proof in either mode: a VOPRF client MUST call
 *   psi_voprf_verify first and finalize only if it returned 0. (The Finalize
 *   hash is the same in both modes; the mode argument is only validated.)
 * - A batch proof covers 1..65535 elements: the composite transcript encodes
 *   the element index as I2OSP(i, 2), which overflows beyond that, so larger
 *   batches are refused with PSI_ERR_TOO_LARGE rather than proven ambiguously;
 *   an empty batch (n == 0) is PSI_ERR_INVALID. Split larger batches.
 * - psi_voprf_prove also checks that pk = sk * G (PSI_ERR_INVALID otherwise):
 *   a proof under a mismatched key could never verify.
 * - psi_voprf_prove and psi_voprf_verify spread the per-element work of a
 *   batch of more than 8 elements over the online cores (psi/pool.h).
 *
 * The mode argument is PSI_OPRF_MODE_OPRF or PSI_OPRF_MODE_VOPRF; anything
 * else (POPRF included) is PSI_ERR_INVALID. The mode selects the context
 * string "OPRFV1-" || I2OSP(mode, 1) || "-ristretto255-SHA512" and so the
 * DSTs "HashToGroup-", "HashToScalar-", "DeriveKeyPair" and "Seed-" ||
 * context string.
 */
#ifndef PSI_OPRF_H
#define PSI_OPRF_H

#include <stddef.h>

#include "psi/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PSI_OPRF_MODE_OPRF 0
#define PSI_OPRF_MODE_VOPRF 1

#define PSI_OPRF_ELEMENT_BYTES 32U
#define PSI_OPRF_SCALAR_BYTES 32U
#define PSI_OPRF_SEED_BYTES 32U
#define PSI_OPRF_OUTPUT_BYTES 64U
#define PSI_OPRF_PROOF_BYTES 64U
/* Longest private input or key info (two-byte length prefix). */
#define PSI_OPRF_MAX_INPUT_BYTES 65535U
/* Largest batch one proof may cover (two-byte element index). */
#define PSI_VOPRF_MAX_BATCH 65535U

/*
 * DeriveKeyPair (RFC 9497, 3.2.1): sk = HashToScalar(seed || I2OSP(len(info), 2)
 * || info || I2OSP(counter, 1)) under "DeriveKeyPair" || contextString, for the
 * first counter in 0..255 that gives a non-zero scalar; pk = sk * G.
 * info may be NULL when info_len == 0. PSI_ERR_TOO_LARGE if info_len > 65535,
 * PSI_ERR_CRYPTO if all 256 counters give zero (never in practice).
 */
PSI_EXPORT PSI_MUST_CHECK int psi_oprf_derive_keypair(int mode, const unsigned char seed[32],
                                                      const unsigned char *info, size_t info_len,
                                                      unsigned char sk[32], unsigned char pk[32]);

/*
 * Blind (RFC 9497, 3.3.1): blinded = blind * HashToGroup(input). With
 * blind_or_null == NULL a fresh random blind is drawn; otherwise it is used
 * as is and must be canonical (else PSI_ERR_ENCODING) and non-zero (else
 * PSI_ERR_INVALID). The blind is written to `blind` (keep it secret, wipe it
 * after finalize). PSI_ERR_IDENTITY if the input hashes to the identity.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_oprf_blind(int mode, const unsigned char *input, size_t input_len,
                                             const unsigned char *blind_or_null,
                                             unsigned char blind[32], unsigned char blinded[32]);

/*
 * BlindEvaluate (RFC 9497, 3.3.1): evaluated = sk * blinded. Same in both
 * modes (the VOPRF proof is psi_voprf_prove). sk must be canonical and
 * non-zero; blinded must decode and not be the identity.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_oprf_blind_evaluate(const unsigned char sk[32],
                                                      const unsigned char blinded[32],
                                                      unsigned char evaluated[32]);

/*
 * Finalize (RFC 9497, 3.3.1 / 3.3.2 without the proof check):
 * output = SHA-512(I2OSP(len(input), 2) || input || I2OSP(32, 2) ||
 * (blind^-1 * evaluated) || "Finalize"). In VOPRF mode call psi_voprf_verify
 * on the batch first (see above).
 */
PSI_EXPORT PSI_MUST_CHECK int psi_oprf_finalize(int mode, const unsigned char *input,
                                                size_t input_len, const unsigned char blind[32],
                                                const unsigned char evaluated[32],
                                                unsigned char output[64]);

/*
 * Evaluate (RFC 9497, 3.3.1): the server's direct computation of the output
 * for an input it knows, equal to what blind / blind_evaluate / finalize give.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_oprf_evaluate(int mode, const unsigned char sk[32],
                                                const unsigned char *input, size_t input_len,
                                                unsigned char output[64]);

/*
 * GenerateProof (RFC 9497, 2.2.1) with A = G, B = pk, C = blinded, D =
 * evaluated, composites by ComputeCompositesFast, in VOPRF mode. r_or_null:
 * NULL draws a fresh nonce; a given one must be canonical and non-zero.
 * proof = SerializeScalar(c) || SerializeScalar(s).
 */
PSI_EXPORT PSI_MUST_CHECK int
psi_voprf_prove(const unsigned char sk[32], const unsigned char pk[32], size_t n,
                const unsigned char *blinded, const unsigned char *evaluated,
                const unsigned char *r_or_null, unsigned char proof[64]);

/*
 * VerifyProof (RFC 9497, 2.2.2), composites by ComputeComposites, in VOPRF
 * mode. 0 if the proof verifies; PSI_ERR_VERIFY if not; PSI_ERR_ENCODING /
 * PSI_ERR_IDENTITY if pk or an element does not decode or is the identity,
 * or if a proof scalar is not canonical.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_voprf_verify(const unsigned char pk[32], size_t n,
                                               const unsigned char *blinded,
                                               const unsigned char *evaluated,
                                               const unsigned char proof[64]);

#ifdef __cplusplus
}
#endif
#endif
