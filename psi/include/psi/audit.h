/*
 * The auditor's checks over the hub's log, as a pure state machine.
 *
 * Entries are fed in log order, from entry 0 (the checks need the whole
 * history: the roster at each point is the sum of the roster entries before
 * it). The verifier keeps the roster as it stands after each entry (keys,
 * roles, policies, removals), the submissions, cross-blind batches and match
 * totals, and reports every violation with the index of the entry that shows
 * it, then goes on, so one run names every problem:
 *
 * - an entry that does not decode (psi/logentry.h);
 * - a roster change that does not fit the roster (admitting an id twice,
 *   changing the policy of or removing an unknown or removed participant,
 *   changing a key or role outside an admission);
 * - a cause that is not on the roster, or was removed, at that point;
 * - a role doing what it may not (auditors never submit, cross-blind,
 *   announce keys, publish, query or match; only vendors publish feeds);
 * - a submission or cross-blind signature that does not verify against the
 *   cause's roster key at that point, with exactly the contexts of psi.proto
 *   ("psi/submission-sig/v1" and "psi/crossblind-sig/v1" over the hub key
 *   and the digests); likewise a vendor's epoch key and feed and an
 *   agency's query batch (the statements of psi/feed.h);
 * - a party's own policy statement (PARTY_POLICY) that does not verify
 *   against its roster key with psi_policy_statement (such a statement is
 *   not applied), or that was not issued after its previous one;
 * - a cross-blind batch or match record between parties whose policies did
 *   not both allow the other at that time (or with a removed party); a
 *   party's policy is the operator's (roster entries) narrowed by the
 *   party's latest verified statement;
 * - references and repeats that cannot be: a cross-blind batch of a
 *   submission no earlier entry holds, a submission id used twice, a batch
 *   done twice by the same party, a match record of nothing new before any
 *   batch of the pair, one with new matches of a side before that side was
 *   cross-blinded, a second different epoch key, a feed without an epoch
 *   key;
 * - counts that do not add up: position bases that are not the running total
 *   of the owner's positions in the epoch, a batch whose count is not its
 *   submission's, matched totals above the positions the peer cross-blinded,
 *   a pair where one side has matches and the other none;
 * - quotas: a participant's elements in an epoch above its element quota in
 *   force (the latest ELEMENT_QUOTA entry, else PSI_ELEMENT_QUOTA_DEFAULT);
 *   an agency's queries to a vendor above the query quota.
 *
 * The module allocates (its tables grow with the log) but does no I/O; its
 * hash tables are keyed with a random SipHash key, so a hostile log cannot
 * make them slow.
 */
#ifndef PSI_AUDIT_H
#define PSI_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"
#include "psi/logentry.h"

#ifdef __cplusplus
extern "C" {
#endif

enum psi_audit_check {
    PSI_AUDIT_MALFORMED = 1,    /* the entry does not decode */
    PSI_AUDIT_ROSTER = 2,       /* a roster change that does not fit the roster */
    PSI_AUDIT_NOT_ADMITTED = 3, /* a party not on the roster at that point */
    PSI_AUDIT_REMOVED = 4,      /* a party removed at that point */
    PSI_AUDIT_ROLE = 5,         /* a role doing what it may not */
    PSI_AUDIT_SIGNATURE = 6,    /* a signature that does not verify against the roster key */
    PSI_AUDIT_POLICY = 7,       /* a pair whose policies did not allow it */
    PSI_AUDIT_SEQUENCE = 8,     /* a reference to nothing before it, or a repeat */
    PSI_AUDIT_COUNTS = 9,       /* counts that do not add up */
    PSI_AUDIT_QUOTA = 10,       /* queries or elements past a quota */
    PSI_AUDIT_PROOF = 11,       /* an answer not proven under the vendor's announced key */
};
#define PSI_AUDIT_CHECK_MAX 11U

#define PSI_AUDIT_DETAIL_MAX 320U

struct psi_audit_violation {
    uint64_t index; /* the entry's index in the log */
    enum psi_audit_check check;
    unsigned kind;                         /* the entry's kind, 0 if malformed */
    char detail[PSI_AUDIT_DETAIL_MAX + 1]; /* what is wrong, for a person */
};

/* Called once per violation; a non-zero return stops psi_audit_entry, which
 * returns that value. */
typedef int (*psi_audit_violation_fn)(void *ctx, const struct psi_audit_violation *violation);

struct psi_audit_summary {
    uint64_t entries;                              /* entries fed */
    uint64_t per_kind[PSI_LOGENTRY_KIND_MAX + 1U]; /* [0]: entries that did not decode */
    uint64_t violations;                           /* all violations reported */
    uint64_t per_check[PSI_AUDIT_CHECK_MAX + 1U];  /* by check ([0] unused) */
};

struct psi_audit;

/* A verifier for the log of the hub whose Ed25519 identity key is hub_key
 * (signatures of participants are bound to it). fn may be NULL (violations
 * are then only counted). 0, PSI_ERR_INVALID, PSI_ERR_NOMEM, PSI_ERR_CRYPTO
 * (libsodium could not start). */
PSI_EXPORT PSI_MUST_CHECK int psi_audit_create(struct psi_audit **audit,
                                               const unsigned char hub_key[32],
                                               psi_audit_violation_fn fn, void *ctx);

/* Checks the next entry (its index is the number of entries fed before).
 * 0 when the entry was checked, whatever it showed (violations go to the
 * callback); PSI_ERR_NOMEM (the verifier is then unusable), or the callback's
 * non-zero return. */
PSI_EXPORT PSI_MUST_CHECK int psi_audit_entry(struct psi_audit *audit, const unsigned char *entry,
                                              size_t entry_len);

PSI_EXPORT void psi_audit_get_summary(const struct psi_audit *audit,
                                      struct psi_audit_summary *summary);

PSI_EXPORT void psi_audit_destroy(struct psi_audit *audit);

/* "malformed", "roster", "not-admitted", "removed", "role", "signature",
 * "policy", "sequence", "counts", "quota", "proof"; "unknown" otherwise. */
PSI_EXPORT const char *psi_audit_check_name(unsigned check);

/* 0 if `signature` is the owner's Ed25519 signature of
 * "psi/submission-sig/v1" || 0x00 || hub_key || digest; PSI_ERR_VERIFY. */
PSI_EXPORT PSI_MUST_CHECK int psi_audit_submission_signature_verify(
    const unsigned char hub_key[32], const unsigned char owner_key[32],
    const unsigned char digest[32], const unsigned char signature[64]);

/* 0 if `signature` is the blinder's Ed25519 signature of
 * "psi/crossblind-sig/v1" || 0x00 || hub_key || submission_digest ||
 * u64be(count) || tag_digest; PSI_ERR_VERIFY. */
PSI_EXPORT PSI_MUST_CHECK int psi_audit_crossblind_signature_verify(
    const unsigned char hub_key[32], const unsigned char blinder_key[32],
    const unsigned char submission_digest[32], uint64_t count, const unsigned char tag_digest[32],
    const unsigned char signature[64]);

#ifdef __cplusplus
}
#endif
#endif
