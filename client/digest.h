/*
 * The digests and signatures of psi.proto, as the participant computes them:
 * the submission digest (streamed, so a set never needs to sit in memory
 * twice), the submitter's signature over it, the tag digest of a cross-blind
 * batch and the agent's signature over that; also the deterministic request
 * and upload ids that make a retried commit the same logical request, and the
 * tag context both agents of a pair derive identically.
 *
 * The byte layouts are the contract with the hub and are defined in
 * proto/psi.proto; this file only follows them.
 */
#ifndef PSI_CLIENT_DIGEST_H
#define PSI_CLIENT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define PSI_DIGEST_BYTES 32
#define PSI_SIGNATURE_BYTES 64
/* u16 length prefixes and two ids at most 64 bytes each, an epoch at most 255. */
#define PSI_TAG_CONTEXT_MAX (2 + 255 + 2 + 64 + 2 + 64)

/* SHA-256("psi/submission/v1" || 0x00 || epoch || 0x00 || sender || 0x00 ||
 *         u64be(count) || elements), fed with the elements as they come. */
struct psi_submission_digest {
    crypto_hash_sha256_state sha;
};

void psi_submission_digest_begin(struct psi_submission_digest *d, const char *epoch,
                                 const char *sender, uint64_t count);
void psi_submission_digest_add(struct psi_submission_digest *d, const unsigned char *elements,
                               size_t len);
void psi_submission_digest_end(struct psi_submission_digest *d,
                               unsigned char digest[PSI_DIGEST_BYTES]);

/* Ed25519 over "psi/submission-sig/v1" || 0x00 || hub_key || digest. */
int psi_submission_sign(unsigned char sig[PSI_SIGNATURE_BYTES], const unsigned char *secret_key,
                        const unsigned char hub_key[32],
                        const unsigned char digest[PSI_DIGEST_BYTES]);
/* 0 if sig is the owner's signature of the digest for this hub, else -1. */
int psi_submission_verify(const unsigned char sig[PSI_SIGNATURE_BYTES],
                          const unsigned char owner_key[32], const unsigned char hub_key[32],
                          const unsigned char digest[PSI_DIGEST_BYTES]);

/* SHA-256("psi/tags/v1" || 0x00 || tags), streamed. */
struct psi_tag_digest {
    crypto_hash_sha256_state sha;
};

void psi_tag_digest_begin(struct psi_tag_digest *d);
void psi_tag_digest_add(struct psi_tag_digest *d, const unsigned char *tags, size_t len);
void psi_tag_digest_end(struct psi_tag_digest *d, unsigned char digest[PSI_DIGEST_BYTES]);

/* Ed25519 over "psi/crossblind-sig/v1" || 0x00 || hub_key || submission digest
 * || u64be(count) || tag_digest. */
int psi_crossblind_sign(unsigned char sig[PSI_SIGNATURE_BYTES], const unsigned char *secret_key,
                        const unsigned char hub_key[32],
                        const unsigned char submission_digest[PSI_DIGEST_BYTES], uint64_t count,
                        const unsigned char tag_digest[PSI_DIGEST_BYTES]);

/* u16be(len(epoch)) || epoch || u16be(len(a)) || a || u16be(len(b)) || b,
 * where a < b are the two participant ids in byte order: both agents of a
 * pair compute the same context whoever owns the set. Returns the length, or
 * 0 if a field is empty or too long for its u16 (or the buffer). */
size_t psi_tag_context(unsigned char *out, size_t cap, const char *epoch, const char *id1,
                       const char *id2);

/* The request id of the commit of an upload: a function of the upload id
 * alone, so that every retry of the commit is the same logical request. */
void psi_commit_request_id(unsigned char request_id[16], const unsigned char upload_id[16]);

/* The upload id of a cross-blind batch: a function of the hub, the agent and
 * the task, so an agent that is killed and run again continues the same upload
 * and sends the same commit, and never a second one. */
void psi_crossblind_upload_id(unsigned char upload_id[16], const unsigned char hub_key[32],
                              const char *agent, uint64_t submission_id,
                              const unsigned char submission_digest[PSI_DIGEST_BYTES]);

/* The upload id of a vendor's feed filter: a function of the hub, the vendor
 * and the filter's digest (its SHA-256, docs/feeds.md), so that a psi feed
 * publish that is killed and run again (the filter is a function of the
 * seed, the epoch, the items and the rate) continues the same upload instead
 * of staging the whole filter again beside the abandoned one. */
void psi_feed_upload_id(unsigned char upload_id[16], const unsigned char hub_key[32],
                        const char *vendor, const unsigned char feed_digest[PSI_DIGEST_BYTES]);

#endif
