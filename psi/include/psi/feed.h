/*
 * Protocol 2 (blinded vendor feeds): the batch work of each side and the
 * statements a vendor signs, on top of the RFC 9497 VOPRF of psi/oprf.h.
 *
 *   vendor, publish   psi_feed_derive_key, psi_feed_evaluate_batch (then
 *                     psi/feedfilter.h builds the filter of the outputs)
 *   agency, query     psi_feed_blind_batch
 *   vendor, answer    psi_feed_answer_batch: BlindEvaluate of every element
 *                     and one batched DLEQ proof against the announced key
 *   agency, result    psi_feed_finish_batch: verifies the proof, and only if
 *                     it holds, finalises every element into its output
 *
 * The module promises: VOPRF mode throughout (a vendor must prove every
 * answer against its one announced key of the epoch, so it cannot key
 * agencies apart to learn who asks); every element from outside decodes and
 * is not the identity before it is used (else the error names its index in
 * *bad_index); a batch is 1..PSI_VOPRF_MAX_BATCH elements (one proof covers
 * at most that many); no output is released from an answer whose proof does
 * not verify (outputs are zeroed on every error); results do not depend on
 * the number of threads (0 = every online core, psi/pool.h); secret
 * intermediates are wiped, and the caller wipes the blinds after finishing.
 *
 * The statements are the exact bytes a participant signs with its Ed25519
 * identity key (proto/psi.proto: the vendor's FeedAnnounce and FeedCommit,
 * the agency's QuerySubmit); the hub, agencies and auditors rebuild them here
 * to verify (the log keeps the signatures, psi/logentry.h).
 *
 * Every function returns 0 or a negative psi error code (psi/error.h).
 */
#ifndef PSI_FEED_H
#define PSI_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"
#include "psi/ident.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PSI_FEED_KEY_SIG_DST "psi/feed-key-sig/v1"
#define PSI_FEED_SIG_DST "psi/feed-sig/v1"
#define PSI_FEED_QUERY_SIG_DST "psi/query-sig/v1"
#define PSI_FEED_QUERY_DST "psi/query/v1"
/* Longest epoch label of the feed protocol: psi/ident.h's, as everywhere. */
#define PSI_FEED_EPOCH_MAX PSI_EPOCH_LABEL_MAX
/* Room for any of the statements: the longest is the query's, DST (16),
 * 0x00, hub key, vendor id, 0x00, epoch, 0x00, count and digest (40). */
#define PSI_FEED_STATEMENT_MAX (16U + 1U + 32U + PSI_ID_MAX + 1U + PSI_FEED_EPOCH_MAX + 1U + 40U)

/*
 * The vendor's VOPRF key pair of an epoch: RFC 9497 DeriveKeyPair in VOPRF
 * mode from its secret seed with info = the epoch label (valid by
 * psi_epoch_label_is_valid of psi/ident.h, else PSI_ERR_INVALID).
 * Deterministic: the vendor re-derives it instead of storing it.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_derive_key(const unsigned char seed[32], const char *epoch,
                                                  unsigned char sk[32], unsigned char pk[32]);

/* outputs[i] = RFC 9497 Evaluate(sk, inputs[i]) in VOPRF mode (64 bytes
 * each); inputs[i] has lens[i] bytes (1..65535). n >= 1. */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_evaluate_batch(const unsigned char sk[32], size_t n,
                                                      const unsigned char *const *inputs,
                                                      const size_t *lens, unsigned char *outputs,
                                                      size_t *bad_index, unsigned threads);

/* blinded[i] = Blind(inputs[i]) with a fresh random blinds[i] (32 bytes
 * each; keep them secret until psi_feed_finish_batch, then wipe them).
 * 1 <= n <= PSI_VOPRF_MAX_BATCH. */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_blind_batch(size_t n, const unsigned char *const *inputs,
                                                   const size_t *lens, unsigned char *blinds,
                                                   unsigned char *blinded, unsigned threads);

/* evaluated[i] = sk * blinded[i], and proof = one DLEQ proof over the batch
 * that they were made with the key of pk (pk must be sk * G). A blinded
 * element that does not decode or is the identity: PSI_ERR_ENCODING or
 * PSI_ERR_IDENTITY with its index in *bad_index (if not NULL). */
PSI_EXPORT PSI_MUST_CHECK int
psi_feed_answer_batch(const unsigned char sk[32], const unsigned char pk[32], size_t n,
                      const unsigned char *blinded, unsigned char *evaluated,
                      unsigned char proof[64], size_t *bad_index, unsigned threads);

/* Verifies the proof of (blinded, evaluated) against pk, then outputs[i] =
 * Finalize(inputs[i], blinds[i], evaluated[i]). PSI_ERR_VERIFY if the proof
 * fails (a wrong key, a changed element or proof): nothing is finalised. */
PSI_EXPORT PSI_MUST_CHECK int
psi_feed_finish_batch(const unsigned char pk[32], size_t n, const unsigned char *const *inputs,
                      const size_t *lens, const unsigned char *blinds, const unsigned char *blinded,
                      const unsigned char *evaluated, const unsigned char proof[64],
                      unsigned char *outputs, unsigned threads);

/* "psi/feed-key-sig/v1" || 0x00 || hub_key || epoch || 0x00 || public_key:
 * what a vendor signs to announce its key of an epoch. */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_key_statement(unsigned char *out, size_t cap, size_t *len,
                                                     const unsigned char hub_key[32],
                                                     const char *epoch,
                                                     const unsigned char public_key[32]);

/* "psi/feed-sig/v1" || 0x00 || hub_key || epoch || 0x00 || u64be(count) ||
 * u64be(size) || digest: what a vendor signs to publish a filter (digest =
 * the filter file's last 32 bytes, size = its length in bytes). */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_commit_statement(unsigned char *out, size_t cap, size_t *len,
                                                        const unsigned char hub_key[32],
                                                        const char *epoch, uint64_t count,
                                                        uint64_t size,
                                                        const unsigned char digest[32]);

/* digest = SHA-256("psi/query/v1" || 0x00 || blinded elements): n
 * consecutive 32-byte elements (elements may be NULL when n == 0). */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_query_digest(const unsigned char *elements, size_t n,
                                                    unsigned char digest[32]);

/* "psi/query-sig/v1" || 0x00 || hub_key || vendor || 0x00 || epoch || 0x00 ||
 * u64be(count) || digest: what an agency signs to send a batch of count
 * blinded queries (digest from psi_feed_query_digest) to vendor's feed of
 * the epoch. PSI_ERR_INVALID for a vendor that is not a participant id. */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_query_statement(unsigned char *out, size_t cap, size_t *len,
                                                       const unsigned char hub_key[32],
                                                       const char *vendor, const char *epoch,
                                                       uint64_t count,
                                                       const unsigned char digest[32]);

#ifdef __cplusplus
}
#endif
#endif
