/*
 * The participant's view of the hub's audit log: the hub's log key, signed
 * checkpoints fetched and opened, consistency and inclusion proofs fetched
 * and verified, receipts verified, and the trust this state places in one
 * checkpoint advanced only along proven consistency.
 *
 * It promises that nothing the hub says about its log is believed unless it
 * verifies: a checkpoint must carry the hub key's signature (the key pinned
 * at `psi init`, origin = its name); a newer checkpoint is trusted only with
 * a consistency proof from the one trusted before; a checkpoint of the same
 * size as the trusted one must have its root; a smaller one is a rollback.
 * Every failure leaves one line for a person in `why`.
 *
 * Used by `psi audit` (cmd_audit.c) and, to keep receipts and the newest
 * checkpoint seen, by the commands that write (submit, agent).
 */
#ifndef PSI_CLIENT_LOG_VIEW_H
#define PSI_CLIENT_LOG_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "hub_client.h"
#include "psi/checkpoint.h"
#include "psi/logentry.h"
#include "psi/merkle.h"
#include "psi/note.h"
#include "state.h"

/* Entries asked for in one log.entries call (a tlog-tiles bundle's worth). */
#define PSI_LOG_ENTRIES_BATCH 256u
/* The longest checkpoint note or receipt text accepted from the hub or a file. */
#define PSI_LOG_TEXT_MAX ((size_t)64 * 1024)
#define PSI_LOG_WHY_MAX 768u

/* The hub's log key: the verifier of the hub's identity key string recorded
 * at `psi init` (its name is the log's origin). 0 or PSI_ERR_PARSE. */
int psi_log_key(const struct psi_state_config *cfg, struct psi_note_verifier *key, char *why,
                size_t whylen);

/* Calls log.checkpoint and opens the answer with key. On success *note is the
 * signed note (malloc'd, NUL-terminated) and *cp its content. */
int psi_log_fetch_checkpoint(struct psi_hub_client *hub, const struct psi_note_verifier *key,
                             struct psi_checkpoint *cp, char **note, char *why, size_t whylen);

/* Opens a checkpoint note held in memory (from a file or a receipt). */
int psi_log_open_checkpoint(const char *note, size_t note_len, const struct psi_note_verifier *key,
                            struct psi_checkpoint *cp, char *why, size_t whylen);

/* Calls log.consistency and verifies the proof that the tree (old_size,
 * old_root) is a prefix of (new_size, new_root); equal sizes need equal roots
 * and no call. PSI_ERR_VERIFY when it does not hold (or the hub cannot prove
 * it), else 0 or the call's error. */
int psi_log_prove_consistency(struct psi_hub_client *hub, uint64_t old_size,
                              const unsigned char old_root[32], uint64_t new_size,
                              const unsigned char new_root[32], char *why, size_t whylen);

/* Calls log.inclusion for entry `index` of the tree of `size` entries: the
 * proof hashes (count checked against the tree's shape). */
int psi_log_fetch_inclusion(struct psi_hub_client *hub, uint64_t index, uint64_t size,
                            unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], size_t *count,
                            char *why, size_t whylen);

/*
 * Advances this state's trust to the checkpoint cp (already opened with the
 * hub key; note is its text): with no checkpoint trusted yet, trusts it (first
 * use, *first_use = 1); else requires a consistency proof from the trusted one
 * (fetched from hub; hub may be NULL only when sizes are equal) and records
 * cp. *trusted (if not NULL) receives the checkpoint trusted before (size 0
 * and no note at first use). PSI_ERR_VERIFY names a fork or a rollback.
 */
int psi_log_trust(struct psi_state *st, struct psi_hub_client *hub, const struct psi_checkpoint *cp,
                  const char *note, const char *source, struct psi_state_checkpoint *trusted,
                  int *first_use, char *why, size_t whylen);

/* A receipt verified: the entry it proves (decoded, and its bytes) and the
 * checkpoint it is proved against. */
struct psi_log_receipt {
    uint64_t index;
    struct psi_logentry entry;
    unsigned char entry_bytes[PSI_LOGENTRY_MAX_BYTES];
    size_t entry_len;
    struct psi_checkpoint checkpoint;
    char *note; /* the checkpoint's signed note (malloc'd) */
};

/* Verifies a receipt text: a tlog-proof whose extra data is the entry, whose
 * inclusion proof puts that entry at its index in its checkpoint, which the
 * hub key signed. 0, or PSI_ERR_PARSE / PSI_ERR_VERIFY with why. Release
 * with psi_log_receipt_clear. */
int psi_log_receipt_verify(const char *text, size_t text_len, const struct psi_note_verifier *key,
                           struct psi_log_receipt *out, char *why, size_t whylen);
void psi_log_receipt_clear(struct psi_log_receipt *r);

/* What a participant sent and signed, which its receipt must log exactly.
 * kind PSI_LOGENTRY_SUBMISSION: submission_id, epoch, count, digest (the
 * submission digest) and signature of submit.commit. kind
 * PSI_LOGENTRY_CROSSBLIND: submission_id (the set cross-blinded), count,
 * digest (the tag digest) and signature of crossblind.commit; epoch unused.
 * kind PSI_LOGENTRY_PARTY_POLICY: statement (the bytes signed, as
 * psi_policy_statement built them for hub_key) and signature of policy.set;
 * the entry must restate exactly those bytes. */
struct psi_log_expected {
    enum psi_logentry_kind kind;
    uint64_t submission_id;
    const char *epoch;
    uint64_t count;
    const unsigned char *digest;    /* PSI_LOGENTRY_DIGEST_BYTES */
    const unsigned char *signature; /* PSI_LOGENTRY_SIGNATURE_BYTES */
    const unsigned char *statement; /* PARTY_POLICY only */
    size_t statement_len;
    const unsigned char *hub_key; /* PARTY_POLICY only: 32 bytes */
};

/* 0 if entry logs exactly what this participant (participant) sent, as x
 * says; else PSI_ERR_VERIFY with one line in why naming the first field that
 * differs ("the hub's receipt logs another digest than the one sent"). */
int psi_log_entry_matches(const struct psi_logentry *entry, const char *participant,
                          const struct psi_log_expected *x, char *why, size_t whylen);

/* For the commands that write: verifies the receipt the hub just gave for
 * what this participant sent (x), checks with psi_log_entry_matches that its
 * entry is exactly that (kind, participant, submission, and every field the
 * participant signed), and only then advances the trusted checkpoint to the
 * receipt's (with a consistency proof; hub may be NULL only when no proof is
 * needed). A receipt that fails any check advances nothing. An empty receipt
 * (a hub without a log) is accepted with a note. 0, or non-zero with why: the
 * caller tells the person (the write itself stands; the receipt text stays
 * in the state for `psi audit`, which checks it again). */
int psi_log_keep_receipt(struct psi_cli_session *s, struct psi_hub_client *hub,
                         const struct psi_log_expected *x, const char *receipt, char *why,
                         size_t whylen);

#endif
