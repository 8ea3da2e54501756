/*
 * The entries of the hub's audit log: one canonical byte string per entry.
 *
 * Every state change of the hub is one entry (a leaf of the Merkle tree of
 * psi/merkle.h): roster changes, epoch keys, submissions, cross-blind batches,
 * match records, refusals, feed publications and query batches, parties' own
 * signed policy statements and element quotas. Entries hold
 * identities, digests, counts and signatures, never indicators, elements or
 * tags. The encoding is the contract between the hub that writes the log and
 * every auditor that re-checks it, so it is deterministic and strict: each
 * entry value has exactly one encoding, the encoder refuses values that have
 * none, and the decoder refuses every byte string that is not the encoding of
 * a value (a missing or trailing byte, an unknown version or kind, a flag bit
 * not defined, an unsorted list, an identifier outside its alphabet).
 *
 * Layout (docs/log.md gives it byte by byte): version (0x01), kind (u8),
 * time (u64 big-endian, hub clock in Unix milliseconds), then the kind's
 * fields in a fixed order. Integers are big-endian; strings are a u8 length
 * then the bytes; digests, keys and signatures are fixed-size byte strings
 * without a length.
 *
 * Nothing here allocates; decoded entries point into the decoded bytes only
 * for the roster's share list (see struct psi_logentry_roster).
 */
#ifndef PSI_LOGENTRY_H
#define PSI_LOGENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"
#include "psi/ident.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PSI_LOGENTRY_VERSION 1U
/* Participant ids, epoch labels and method names follow psi/ident.h (a
 * refusal's method may also be empty: unknown); these are its limits under
 * the log's names. */
#define PSI_LOGENTRY_ID_MAX PSI_ID_MAX
#define PSI_LOGENTRY_EPOCH_MAX PSI_EPOCH_LABEL_MAX
#define PSI_LOGENTRY_METHOD_MAX PSI_METHOD_MAX
/* Entries of a roster entry's share list. */
#define PSI_LOGENTRY_SHARE_MAX 512U
#define PSI_LOGENTRY_KEY_BYTES 32U
#define PSI_LOGENTRY_DIGEST_BYTES 32U
#define PSI_LOGENTRY_SIGNATURE_BYTES 64U
/* The longest encoded entry: a party-policy entry with the longest share
 * list (1 + 1 + 8 + 65 + 8 + 1 + 2 + 512 * 65 + 64 = 33430 bytes; a roster
 * entry's is 39 bytes shorter). It fits the 16-bit length of a tlog-tiles
 * entry bundle (psi/tiles.h). */
#define PSI_LOGENTRY_MAX_BYTES                                                                     \
    (10U + 1U + PSI_LOGENTRY_ID_MAX + 8U + 1U + 2U +                                               \
     PSI_LOGENTRY_SHARE_MAX * (1U + PSI_LOGENTRY_ID_MAX) + PSI_LOGENTRY_SIGNATURE_BYTES)

/* The element quota of a participant that no ELEMENT_QUOTA entry names: the
 * most elements it may submit in one epoch. The hub refuses a submission
 * that would pass its quota; auditors check every epoch against it. */
#define PSI_ELEMENT_QUOTA_DEFAULT 1000000U

enum psi_logentry_kind {
    PSI_LOGENTRY_ADMIT = 1,          /* the operator admitted a participant */
    PSI_LOGENTRY_POLICY = 2,         /* the operator changed a participant's policy */
    PSI_LOGENTRY_REMOVE = 3,         /* the operator removed a participant */
    PSI_LOGENTRY_EPOCH_KEY = 4,      /* a participant announced its public key of an epoch */
    PSI_LOGENTRY_SUBMISSION = 5,     /* a blinded set was committed */
    PSI_LOGENTRY_CROSSBLIND = 6,     /* a cross-blind batch (tags) was committed */
    PSI_LOGENTRY_MATCH = 7,          /* positions of a pair newly matched by a batch */
    PSI_LOGENTRY_REFUSAL = 8,        /* a request refused (bad signature, replay, policy, ...) */
    PSI_LOGENTRY_FEED = 9,           /* a vendor published a blinded feed */
    PSI_LOGENTRY_QUERY = 10,         /* a batch of feed queries was relayed */
    PSI_LOGENTRY_QUOTA = 11,         /* the operator set an agency's query quota at a vendor */
    PSI_LOGENTRY_ANSWER = 12,        /* a vendor's proven answer to a query batch was relayed */
    PSI_LOGENTRY_PARTY_POLICY = 13,  /* a party's own signed policy statement */
    PSI_LOGENTRY_ELEMENT_QUOTA = 14, /* the operator set a participant's element quota */
};
/* Kinds are 1..PSI_LOGENTRY_KIND_MAX; arrays indexed by kind have this + 1. */
#define PSI_LOGENTRY_KIND_MAX 14U

/* Roles are psi/ident.h's enum psi_role, encoded as its numbers; the log's
 * older names for them stay valid. */
#define psi_logentry_role psi_role
#define PSI_LOGENTRY_ROLE_AGENCY PSI_ROLE_AGENCY
#define PSI_LOGENTRY_ROLE_VENDOR PSI_ROLE_VENDOR
#define PSI_LOGENTRY_ROLE_AUDITOR PSI_ROLE_AUDITOR
#define psi_logentry_role_name psi_role_name
#define psi_logentry_role_parse psi_role_parse

/*
 * ADMIT, POLICY and REMOVE: the participant's roster record as it stands after
 * the change (for REMOVE, as it stood before it).
 *
 * The share list is carried in its encoded form in both directions: share_list
 * points to share_count ids, each a u8 length and the id's bytes, in strictly
 * increasing byte order (so the list has one encoding); it must be empty when
 * share_all is set. Build one with psi_logentry_share_list_build, walk one
 * with psi_logentry_share_next. After decoding, share_list points into the
 * decoded bytes.
 */
struct psi_logentry_roster {
    char participant[PSI_LOGENTRY_ID_MAX + 1U];
    enum psi_role role;
    unsigned char public_key[PSI_LOGENTRY_KEY_BYTES]; /* Ed25519 identity key */
    int share_all;                                    /* 0 or 1 */
    int contribute_only;                              /* 0 or 1 */
    size_t share_count;
    const unsigned char *share_list;
    size_t share_list_len;
};

/* EPOCH_KEY: a participant's public key of an epoch (ristretto255 point),
 * with its signature of the statement of psi/feed.h,
 * psi_feed_key_statement (hub key, epoch, public key). */
struct psi_logentry_epoch_key {
    char participant[PSI_LOGENTRY_ID_MAX + 1U];
    char epoch[PSI_LOGENTRY_EPOCH_MAX + 1U];
    unsigned char public_key[PSI_LOGENTRY_KEY_BYTES];
    unsigned char signature[PSI_LOGENTRY_SIGNATURE_BYTES];
};

/* SUBMISSION: as committed with submit.commit (digest and signature as
 * psi.proto defines them); positions position_base .. position_base+count-1
 * of the participant in the epoch. count >= 1. */
struct psi_logentry_submission {
    char participant[PSI_LOGENTRY_ID_MAX + 1U];
    char epoch[PSI_LOGENTRY_EPOCH_MAX + 1U];
    uint64_t submission_id;
    uint64_t count;
    uint64_t position_base;
    unsigned char digest[PSI_LOGENTRY_DIGEST_BYTES];
    unsigned char signature[PSI_LOGENTRY_SIGNATURE_BYTES];
};

/* CROSSBLIND: the tags `participant` computed over submission submission_id,
 * as committed with crossblind.commit. count >= 1. */
struct psi_logentry_crossblind {
    char participant[PSI_LOGENTRY_ID_MAX + 1U];
    uint64_t submission_id;
    uint64_t count;
    unsigned char tag_digest[PSI_LOGENTRY_DIGEST_BYTES];
    unsigned char signature[PSI_LOGENTRY_SIGNATURE_BYTES];
};

/* MATCH: in the epoch, matched_a positions of participant_a became matched
 * with participant_b, and matched_b positions of b with a, by the batch just
 * committed (counts of newly matched positions, not totals; zero counts are
 * valid: the hub writes one after every batch, so that the log's size never
 * depends on whether a batch matched). The pair is in strictly increasing
 * byte order (a < b), so a pair has one encoding. */
struct psi_logentry_match {
    char epoch[PSI_LOGENTRY_EPOCH_MAX + 1U];
    char participant_a[PSI_LOGENTRY_ID_MAX + 1U];
    char participant_b[PSI_LOGENTRY_ID_MAX + 1U];
    uint64_t matched_a;
    uint64_t matched_b;
};

/* REFUSAL: a request the hub refused. code is the negative psi_error it
 * answered; authenticated says whether `participant` is the authenticated
 * sender (1) or only the id the request claimed, possibly empty (0); method
 * may be empty when unknown; frame_digest = SHA-256 of the request frame as
 * received. */
struct psi_logentry_refusal {
    int32_t code;
    int authenticated; /* 0 or 1 */
    char participant[PSI_LOGENTRY_ID_MAX + 1U];
    char method[PSI_LOGENTRY_METHOD_MAX + 1U];
    unsigned char frame_digest[PSI_LOGENTRY_DIGEST_BYTES];
};

/* FEED: a vendor published a blinded feed of `count` items for the epoch,
 * a filter file of `size` bytes whose last 32 bytes, feed_digest, are the
 * SHA-256 of the rest (psi/feedfilter.h); signature: the vendor's, of
 * psi_feed_commit_statement (hub key, epoch, count, size, digest). */
struct psi_logentry_feed {
    char participant[PSI_LOGENTRY_ID_MAX + 1U];
    char epoch[PSI_LOGENTRY_EPOCH_MAX + 1U];
    uint64_t count;
    uint64_t size;
    unsigned char feed_digest[PSI_LOGENTRY_DIGEST_BYTES];
    unsigned char signature[PSI_LOGENTRY_SIGNATURE_BYTES];
};

/* QUERY: `participant` sent `count` blinded queries to `vendor`'s feed;
 * elements_digest = psi_feed_query_digest of them, signature: the sender's,
 * of psi_feed_query_statement (hub key, vendor, epoch, count, digest). */
struct psi_logentry_query {
    char participant[PSI_LOGENTRY_ID_MAX + 1U];
    char vendor[PSI_LOGENTRY_ID_MAX + 1U];
    char epoch[PSI_LOGENTRY_EPOCH_MAX + 1U];
    uint64_t count;
    unsigned char elements_digest[PSI_LOGENTRY_DIGEST_BYTES];
    unsigned char signature[PSI_LOGENTRY_SIGNATURE_BYTES];
};

/* QUOTA: from this entry on, `agency` may send at most `limit` queries per
 * epoch to `vendor`'s feed (0: none). The hub refuses a batch that would
 * pass it (a REFUSAL entry with PSI_ERR_QUOTA). */
struct psi_logentry_quota {
    char agency[PSI_LOGENTRY_ID_MAX + 1U];
    char vendor[PSI_LOGENTRY_ID_MAX + 1U];
    uint64_t limit;
};

/* ANSWER: `vendor` answered the query batch of entry query_index (`count`
 * elements of `agency` in `epoch`) with evaluated elements and one DLEQ
 * proof, which the hub verified against public_key before relaying it;
 * answer_digest = SHA-256("psi/answer/v1" || 0x00 || blinded elements ||
 * evaluated elements || proof). count >= 1. */
struct psi_logentry_answer {
    char vendor[PSI_LOGENTRY_ID_MAX + 1U];
    char agency[PSI_LOGENTRY_ID_MAX + 1U];
    char epoch[PSI_LOGENTRY_EPOCH_MAX + 1U];
    uint64_t query_index;
    uint64_t count;
    unsigned char public_key[PSI_LOGENTRY_KEY_BYTES];
    unsigned char answer_digest[PSI_LOGENTRY_DIGEST_BYTES];
};

/* PARTY_POLICY: `participant`'s own statement of whom it shares with and
 * whether it takes results, as it signed it at issued_ms (its clock). The
 * hub's policy for it is from then on the operator's narrowed by this one: a
 * peer must be allowed by both (share_all on one side: the other's list), and
 * it is contribute-only if either says so. The share list is encoded as in
 * struct psi_logentry_roster (strictly increasing, empty with share_all).
 * signature: the participant's Ed25519 signature of psi_policy_statement. */
struct psi_logentry_party_policy {
    char participant[PSI_LOGENTRY_ID_MAX + 1U];
    uint64_t issued_ms;
    int share_all;       /* 0 or 1 */
    int contribute_only; /* 0 or 1 */
    size_t share_count;
    const unsigned char *share_list;
    size_t share_list_len;
    unsigned char signature[PSI_LOGENTRY_SIGNATURE_BYTES];
};

/* ELEMENT_QUOTA: from this entry on, `participant` may submit at most
 * `limit` elements per epoch (0: none). Without one, the quota is
 * PSI_ELEMENT_QUOTA_DEFAULT. The hub refuses a submission that would pass it
 * (a REFUSAL entry with PSI_ERR_QUOTA). */
struct psi_logentry_element_quota {
    char participant[PSI_LOGENTRY_ID_MAX + 1U];
    uint64_t limit;
};

struct psi_logentry {
    enum psi_logentry_kind kind;
    uint64_t time_ms;
    union {
        struct psi_logentry_roster roster; /* ADMIT, POLICY, REMOVE */
        struct psi_logentry_epoch_key epoch_key;
        struct psi_logentry_submission submission;
        struct psi_logentry_crossblind crossblind;
        struct psi_logentry_match match;
        struct psi_logentry_refusal refusal;
        struct psi_logentry_feed feed;
        struct psi_logentry_query query;
        struct psi_logentry_quota quota;
        struct psi_logentry_answer answer;
        struct psi_logentry_party_policy party_policy;
        struct psi_logentry_element_quota element_quota;
    } u;
};

/* Encodes an entry. 0; PSI_ERR_INVALID for a value that has no encoding (an
 * unknown kind or role; an id, epoch or method outside its alphabet or
 * length; a flag other than 0/1; a share list that is malformed, not
 * strictly increasing, or not empty with share_all; a match pair not in
 * increasing order; a zero submission, cross-blind, query or answer count; a refusal
 * code that is not negative, or authenticated with an empty participant; a
 * party policy with a malformed share list or flag);
 * PSI_ERR_TOO_LARGE if out_cap is too small (*out_len is then the length
 * needed; PSI_LOGENTRY_MAX_BYTES always suffices). */
PSI_EXPORT PSI_MUST_CHECK int psi_logentry_encode(unsigned char *out, size_t out_cap,
                                                  size_t *out_len,
                                                  const struct psi_logentry *entry);

/* Decodes an entry. 0; PSI_ERR_UNSUPPORTED for another version or an unknown
 * kind; PSI_ERR_PARSE for anything else that is not exactly the encoding of
 * a value (cut short, trailing bytes, a field breaking its rule). */
PSI_EXPORT PSI_MUST_CHECK int psi_logentry_decode(struct psi_logentry *entry,
                                                  const unsigned char *in, size_t in_len);

/* Builds an encoded share list from `count` NUL-terminated ids, which must be
 * valid and strictly increasing in byte order (the caller sorts them).
 * 0; PSI_ERR_INVALID (count above PSI_LOGENTRY_SHARE_MAX, an invalid id, not
 * increasing); PSI_ERR_TOO_LARGE (out_cap too small; count * 65 suffices). */
PSI_EXPORT PSI_MUST_CHECK int psi_logentry_share_list_build(unsigned char *out, size_t out_cap,
                                                            size_t *out_len, const char *const *ids,
                                                            size_t count);

/* The id at *offset of an encoded share list, NUL-terminated into `id`; moves
 * *offset past it. 0; PSI_ERR_NOT_FOUND at the end; PSI_ERR_PARSE for a list
 * cut short. */
PSI_EXPORT PSI_MUST_CHECK int psi_logentry_share_next(const unsigned char *list, size_t list_len,
                                                      size_t *offset,
                                                      char id[PSI_LOGENTRY_ID_MAX + 1U]);

/* 1 if the roster record allows sharing with `id` (share_all, or `id` is in
 * its share list), else 0. */
PSI_EXPORT int psi_logentry_roster_allows(const struct psi_logentry_roster *roster, const char *id);

/* 1 if the encoded share list (share_list_len bytes) holds `id`, else 0. */
PSI_EXPORT int psi_logentry_share_list_has(const unsigned char *share_list, size_t share_list_len,
                                           const char *id);

/* The bytes a party signs to state its own policy (method policy.set; the
 * PARTY_POLICY entry carries the signature):
 *
 *   "psi/policy-sig/v1" || 0x00 || hub_key (32) || u8 len(participant) ||
 *   participant || u64be(issued_ms) || u8 flags (1 share_all, 2
 *   contribute_only) || u16be(share_count) || the share list, encoded as in a
 *   roster entry (strictly increasing; empty with share_all)
 *
 * The hub's key binds the statement to one hub, so it cannot be replayed at
 * another. p->signature is not read. 0; PSI_ERR_INVALID for a value without
 * an encoding (as psi_logentry_encode refuses it); PSI_ERR_TOO_LARGE when
 * out_cap is too small (*out_len is then the length needed;
 * PSI_POLICY_STATEMENT_MAX always suffices). */
#define PSI_POLICY_STATEMENT_MAX                                                                   \
    (18U + PSI_LOGENTRY_KEY_BYTES + 1U + PSI_LOGENTRY_ID_MAX + 8U + 1U + 2U +                      \
     PSI_LOGENTRY_SHARE_MAX * (1U + PSI_LOGENTRY_ID_MAX))
PSI_EXPORT PSI_MUST_CHECK int
psi_policy_statement(unsigned char *out, size_t out_cap, size_t *out_len,
                     const unsigned char hub_key[PSI_LOGENTRY_KEY_BYTES],
                     const struct psi_logentry_party_policy *p);

/* psi_id_is_valid of psi/ident.h, under the log's older name. */
#define psi_logentry_id_is_valid psi_id_is_valid

/* "admit", "policy", "remove", "epoch-key", "submission", "crossblind",
 * "match", "refusal", "feed", "query", "quota", "answer", "party-policy",
 * "element-quota"; "unknown" otherwise. */
PSI_EXPORT const char *psi_logentry_kind_name(unsigned kind);

#ifdef __cplusplus
}
#endif
#endif
