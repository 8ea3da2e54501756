/*
 * The hub's side of the audit log (docs/log.md).
 *
 * Every state change appends its entry (psi/logentry.h) inside the
 * transaction of the change, so the entry and the change commit together or
 * not at all. The store keeps the entries, the leaf hashes, every complete
 * subtree hash (handed out by the frontier as appends complete them) and the
 * frontier itself: an append and a proof each cost O(log n) reads, whatever
 * the size of the log. Entries and hashes are never rewritten.
 *
 * After the entries of a write, psi_hub_log_seal signs a checkpoint of the
 * new tree with the hub's identity key (origin and key name: the hub's name,
 * so its verifier key string is the one `psi-hub init` printed) and stores it
 * as the latest. A checkpoint signed inside a transaction is only revealed
 * (in a reply, or by log.checkpoint) once the transaction committed, so two
 * revealed checkpoints are always consistent: a rolled-back one never left
 * the hub.
 */
#ifndef PSI_HUB_LOG_H
#define PSI_HUB_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "psi/checkpoint.h"
#include "psi/logentry.h"
#include "psi/merkle.h"
#include "store.h"

/* Room for a signed checkpoint of the hub (origin of at most 64 bytes, one
 * signature), NUL included. */
#define PSI_HUB_CHECKPOINT_MAX (PSI_CHECKPOINT_BODY_MAX + PSI_NOTE_SIGNATURE_LINE_MAX + 2U)
/* Entries one log.entries call may ask for. */
#define PSI_HUB_LOG_ENTRIES_MAX 256u

/* Appends one entry in t; *index (may be NULL) gets its index. 0, or
 * PSI_ERR_INVALID for an entry without an encoding, or a store error. */
int psi_hub_log_append(struct psi_txn *t, const struct psi_logentry *entry, uint64_t *index);

/* The roster entry (kind ADMIT, POLICY or REMOVE) of participant p as the
 * store holds it after the change, appended. PSI_ERR_TOO_LARGE for a share
 * list longer than the log takes (PSI_LOGENTRY_SHARE_MAX ids). */
int psi_hub_log_roster(struct psi_txn *t, enum psi_logentry_kind kind,
                       const struct psi_store_participant *p, uint64_t now_ms, uint64_t *index);

/* A refusal entry (see struct psi_logentry_refusal), appended. frame is the
 * request frame as received. */
int psi_hub_log_refusal(struct psi_txn *t, int code, int authenticated, const char *participant,
                        const char *method, const uint8_t *frame, size_t frame_len,
                        uint64_t now_ms);

/* The entries of the hub's writes, each built from the store's record of the
 * change (so a row and the entry recording it cannot disagree) and appended
 * in t; *index (may be NULL) gets the entry's index. */
int psi_hub_log_submission(struct psi_txn *t, const struct psi_store_submission *sub,
                           uint64_t now_ms, uint64_t *index);
/* A cross-blind batch of submission sub, then the MATCH entry of the pair it
 * completed, always, zero counts included (docs/trust.md): owner_matched
 * positions of sub's owner and blinder_matched of cb's blinder became
 * matched. *index gets the CROSSBLIND entry's index. */
int psi_hub_log_crossblind(struct psi_txn *t, const struct psi_store_submission *sub,
                           const struct psi_store_crossblind *cb, uint64_t owner_matched,
                           uint64_t blinder_matched, uint64_t now_ms, uint64_t *index);
int psi_hub_log_epoch_key(struct psi_txn *t, const struct psi_store_feed_key *key, uint64_t now_ms,
                          uint64_t *index);
int psi_hub_log_feed(struct psi_txn *t, const struct psi_store_feed *feed, uint64_t now_ms,
                     uint64_t *index);
/* A query batch; elements_digest: psi_feed_query_digest of its elements. */
int psi_hub_log_query(struct psi_txn *t, const struct psi_store_query *q,
                      const unsigned char elements_digest[32], uint64_t now_ms, uint64_t *index);
int psi_hub_log_quota(struct psi_txn *t, const char *agency, const char *vendor, uint64_t limit,
                      uint64_t now_ms);

/* Signs the checkpoint of the log as t holds it and stores it as the latest.
 * *note (if not NULL) gets the signed note (malloc'd). */
int psi_hub_log_seal(struct psi_txn *t, const struct psi_identity *hub, char **note);

/* Seals, then the receipt of entry `index` in the sealed tree: the
 * c2sp.org/tlog-proof text with the entry in its extra line (malloc'd). */
int psi_hub_log_seal_receipt(struct psi_txn *t, const struct psi_identity *hub, uint64_t index,
                             char **receipt);

/* ---- reads (log.* methods) */

/* The size of the log as its latest checkpoint states it, and that
 * checkpoint (NUL-terminated into checkpoint[0..cap), cap >=
 * PSI_HUB_CHECKPOINT_MAX). PSI_ERR_NOT_FOUND while the log has none. */
int psi_hub_log_latest(struct psi_txn *t, uint64_t *size, char *checkpoint, size_t cap);

/* Entry `index` (malloc'd); PSI_ERR_NOT_FOUND if the store lacks it. */
int psi_hub_log_entry(struct psi_txn *t, uint64_t index, uint8_t **entry, size_t *len);

/* RFC 9162 proofs over the stored hashes. */
int psi_hub_log_inclusion(struct psi_txn *t, uint64_t index, uint64_t size,
                          unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], size_t *count);
int psi_hub_log_consistency(struct psi_txn *t, uint64_t old_size, uint64_t new_size,
                            unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], size_t *count);

#endif
