/*
 * The hub's persistent state, behind one narrow interface.
 *
 * A backend is an operations table (struct psi_store_ops) over an opaque
 * connection (struct psi_store). The hub opens one connection per nng context,
 * so reads of different requests run side by side; writes are serialised by
 * the backend. Every operation runs inside a transaction (struct psi_txn): a
 * request's state change and the reply stored for its request id commit
 * together or not at all, which is what makes an acknowledged write survive a
 * crash and a retried request never act twice. The audit log's entries are
 * written through the same transaction, so that each log entry commits with
 * the state change it records.
 *
 * The backend stores and joins; it does not decide. Policy (who may see whom)
 * is stated once, here, as the meaning of the work-list and results
 * operations; refusals with a reason for a person are the hub's (hub.c).
 * Every operation returns 0 or a negative psi error code: PSI_ERR_NOT_FOUND,
 * PSI_ERR_EXISTS, PSI_ERR_REPLAY where documented, PSI_ERR_STORE when the
 * backend failed (then the transaction must be rolled back).
 *
 * store_sqlite.c is the embedded backend, store_pg.c the PostgreSQL one
 * (several front-ends over one database); they are the only files that know
 * SQL.
 * The backend is chosen once, by name or by what a hub directory holds
 * (psi_store_backend, psi_store_in_dir: store_backends.c, the registry), and
 * everything else holds the const struct psi_store_ops * it got there.
 * store_contract_test.c states this contract as tests that run on any
 * backend: a backend is done when they pass on it (docs/hub.md, "The store").
 */
#ifndef PSI_HUB_STORE_H
#define PSI_HUB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "psi/ident.h"
#include "psi/merkle.h"

/* Participant ids, epoch labels and method names: psi/ident.h's limits. */
#define PSI_STORE_ID_MAX PSI_ID_MAX
#define PSI_STORE_EPOCH_MAX PSI_EPOCH_LABEL_MAX
#define PSI_STORE_METHOD_MAX PSI_METHOD_MAX
#define PSI_STORE_ROLE_MAX 15
#define PSI_STORE_META_MAX 256 /* a meta value */
#define PSI_STORE_KEY_BYTES 32 /* Ed25519 public key */
#define PSI_STORE_NONCE_BYTES 16
#define PSI_STORE_REQUEST_ID_BYTES 16
#define PSI_STORE_UPLOAD_ID_BYTES 16
#define PSI_STORE_DIGEST_BYTES 32
#define PSI_STORE_SIGNATURE_BYTES 64
#define PSI_STORE_ELEMENT_BYTES 32 /* a single-blinded ristretto255 point */
#define PSI_STORE_TAG_BYTES 16     /* a cross-blind tag */
#define PSI_STORE_PROOF_BYTES 64   /* a batched DLEQ proof (RFC 9497) */

struct psi_store; /* one connection to a backend; opaque */

/* ---- vendor feeds (protocol 2, docs/feeds.md) */

/* A vendor's VOPRF public key of an epoch, as it announced and signed it;
 * log_index: its EPOCH_KEY entry. */
struct psi_store_feed_key {
    char vendor[PSI_STORE_ID_MAX + 1];
    char epoch[PSI_STORE_EPOCH_MAX + 1];
    unsigned char public_key[PSI_STORE_KEY_BYTES];
    unsigned char signature[PSI_STORE_SIGNATURE_BYTES];
    uint64_t log_index;
};

/* A vendor's published feed filter of an epoch (its bytes are kept apart). */
struct psi_store_feed {
    char vendor[PSI_STORE_ID_MAX + 1];
    char epoch[PSI_STORE_EPOCH_MAX + 1];
    uint64_t count;
    double rate;
    uint64_t size;
    unsigned char digest[PSI_STORE_DIGEST_BYTES];
    unsigned char signature[PSI_STORE_SIGNATURE_BYTES];
};

/* A batch of blinded queries of an agency for a vendor; log_index: its
 * QUERY entry. signature: the agency's QuerySubmit signature, relayed to the
 * vendor's agent, which evaluates nothing without it (has_signature is 0
 * for a batch stored before the hub kept them). */
struct psi_store_query {
    uint64_t id;
    char agency[PSI_STORE_ID_MAX + 1];
    char vendor[PSI_STORE_ID_MAX + 1];
    char epoch[PSI_STORE_EPOCH_MAX + 1];
    uint64_t count;
    uint64_t log_index;
    unsigned char signature[PSI_STORE_SIGNATURE_BYTES];
    int has_signature;
    int answered;
};

enum psi_txn_kind {
    PSI_TXN_READ,  /* a consistent snapshot; runs beside writers */
    PSI_TXN_WRITE, /* exclusive among writers; taken up front, never upgraded */
};

/* A transaction in progress. The audit log appends its entries through it
 * (server/log.h), so they commit with the change they record. */
struct psi_txn {
    const struct psi_store_ops *ops;
    struct psi_store *store;
    enum psi_txn_kind kind;
    int open;
};

/* A party's own policy statement (method policy.set), as it signed it. */
struct psi_store_party_policy {
    int set; /* 0: the party stated none; the operator's policy alone holds */
    uint64_t issued_ms;
    int share_all;
    int contribute_only;
    size_t share_count; /* otherwise shares with these (malloc'd), in byte order */
    char (*share_with)[PSI_STORE_ID_MAX + 1];
    unsigned char signature[PSI_STORE_SIGNATURE_BYTES];
    uint64_t log_index; /* its PARTY_POLICY entry */
};

/* A participant: the operator's policy (share_all, share_with,
 * contribute_only: `psi-hub admit` / `policy`) and the party's own statement
 * (party). The hub acts on the operator's policy narrowed by the party's:
 * psi_store_participant_allows and psi_store_participant_contribute_only. */
struct psi_store_participant {
    char id[PSI_STORE_ID_MAX + 1];
    char role[PSI_STORE_ROLE_MAX + 1]; /* "agency" | "vendor" | "auditor" */
    unsigned char public_key[PSI_STORE_KEY_BYTES];
    int removed;
    int share_all;       /* shares overlaps with every participant */
    int contribute_only; /* gives, never receives results */
    size_t share_count;  /* otherwise shares with these (malloc'd) */
    char (*share_with)[PSI_STORE_ID_MAX + 1];
    int admit_logged;     /* admit_index is set (always, once the admission committed) */
    uint64_t admit_index; /* the ADMIT entry that admitted this id with this role and key */
    struct psi_store_party_policy party;
};

struct psi_store_submission {
    uint64_t id;
    char owner[PSI_STORE_ID_MAX + 1];
    char epoch[PSI_STORE_EPOCH_MAX + 1];
    uint64_t count;
    uint64_t position_base;
    unsigned char digest[PSI_STORE_DIGEST_BYTES];
    unsigned char signature[PSI_STORE_SIGNATURE_BYTES];
};

/* One cross-blind batch: the tags `blinder` computed over a submission. */
struct psi_store_crossblind {
    uint64_t submission_id;
    char blinder[PSI_STORE_ID_MAX + 1];
    uint64_t count;
    unsigned char tag_digest[PSI_STORE_DIGEST_BYTES];
    unsigned char signature[PSI_STORE_SIGNATURE_BYTES];
};

/* Where a submission stands in one participant's work. */
enum psi_work_status {
    PSI_WORK_NONE,    /* not this participant's to cross-blind */
    PSI_WORK_PENDING, /* in its work list */
    PSI_WORK_DONE,    /* already cross-blinded by it */
};

/* Callbacks of the listing operations; a non-zero return stops the listing
 * and is returned by the operation. */
typedef int (*psi_store_participant_fn)(void *ctx, const struct psi_store_participant *p);
typedef int (*psi_store_submission_fn)(void *ctx, const struct psi_store_submission *s);
/* One revealed position of a participant and the peers that hold it. */
typedef int (*psi_store_match_fn)(void *ctx, uint64_t position, const char *const *peers,
                                  size_t peer_count);
/* One ordered pair of the overlap map: matches of owner's positions held by peer. */
typedef int (*psi_store_overlap_fn)(void *ctx, const char *owner, const char *peer,
                                    uint64_t matches);

/* What a store holds, for the operator (psi-hub serve --http). */
struct psi_store_usage {
    uint64_t elements; /* of every submission of every epoch */
    uint64_t tags;     /* of every cross-blind batch of every epoch */
    uint64_t matches;  /* overlap records, each side of a match counted */
    uint64_t bytes;    /* the space the store's data takes, as the backend measures it */
};

/* What the store holds of one epoch (psi-hub prune, docs/operations.md):
 * its submissions ("sets") and their elements, cross-blind batches, tags and
 * matched positions (a position and a peer that holds it); vendor feeds
 * (announced keys and published filters) and feed query batches. last_ms:
 * the latest now_ms any of its submissions, feed keys, feeds or query batches
 * was stored with. */
struct psi_store_epoch_usage {
    char epoch[PSI_STORE_EPOCH_MAX + 1];
    uint64_t submissions, elements, crossblinds, tags, matches;
    uint64_t feed_keys, feeds, queries;
    uint64_t last_ms;
};
typedef int (*psi_store_epoch_fn)(void *ctx, const struct psi_store_epoch_usage *u);

struct psi_store_ops {
    const char *backend;
    /* 1 if several hub processes may serve one store at once (a database
     * server that serialises them); 0 (SQLite) if only one may: psi-hub serve
     * then holds its directory's lock exclusively (docs/operations.md,
     * "Locks"). */
    int several_front_ends;

    /* Create a new, empty store at location (refuses an existing one), or
     * open an existing one. err gets a reason for a person. */
    int (*create)(const char *location, struct psi_store **out, char *err, size_t errlen);
    int (*open)(const char *location, struct psi_store **out, char *err, size_t errlen);
    void (*close)(struct psi_store *st);
    /* Removes the closed store at location and all it holds: a store that
     * could not be made whole (psi-hub init undoing itself). Nothing there
     * is no error. */
    void (*destroy)(const char *location);
    /* The backend's own words for its last failure, for the operator's log. */
    const char *(*last_error)(struct psi_store *st);

    int (*begin)(struct psi_store *st, enum psi_txn_kind kind);
    int (*commit)(struct psi_store *st);
    void (*rollback)(struct psi_store *st);
    /* A mark inside a write transaction: undo_to_mark() forgets the changes
     * made since, keeping those before (a refused request keeps its nonce). */
    int (*mark)(struct psi_store *st);
    int (*undo_to_mark)(struct psi_store *st);

    /* Hub settings: name, epoch mode, ... (PSI_ERR_NOT_FOUND if unset). */
    int (*meta_get)(struct psi_txn *t, const char *key, char *value, size_t cap);
    int (*meta_set)(struct psi_txn *t, const char *key, const char *value);

    /* The roster. participant_get fills share_with (release with
     * psi_store_participant_clear); add refuses an existing id (EXISTS). */
    int (*participant_get)(struct psi_txn *t, const char *id, struct psi_store_participant *out);
    int (*participant_add)(struct psi_txn *t, const struct psi_store_participant *p,
                           uint64_t now_ms);
    int (*participant_set_policy)(struct psi_txn *t, const char *id, int share_all,
                                  const char (*share_with)[PSI_STORE_ID_MAX + 1],
                                  size_t share_count, int contribute_only);
    int (*participant_remove)(struct psi_txn *t, const char *id);
    int (*participant_list)(struct psi_txn *t, psi_store_participant_fn fn, void *ctx);
    /* Records the index of the ADMIT entry of the participant's admission. */
    int (*participant_set_admit_index)(struct psi_txn *t, const char *id, uint64_t index);
    /* Replaces the party's own statement (pp->set is ignored; the share list
     * is stored as given). PSI_ERR_NOT_FOUND for no such participant. */
    int (*party_policy_put)(struct psi_txn *t, const char *id,
                            const struct psi_store_party_policy *pp, uint64_t now_ms);

    /* Element quotas: the operator's limit of a participant's elements per
     * epoch (PSI_ERR_NOT_FOUND if none was set: the default holds). The
     * elements used in an epoch are positions_in_epoch. */
    int (*element_quota_set)(struct psi_txn *t, const char *id, uint64_t limit);
    int (*element_quota_get)(struct psi_txn *t, const char *id, uint64_t *limit);

    /* The audit log's budget of refusal entries for one claimed participant:
     * *granted = 1 (and the grant counted) while fewer than budget were
     * granted in the current window, which begins with its first grant and
     * lasts window_ms; *granted = 0, and nothing written, once it is spent. */
    int (*refusal_budget_take)(struct psi_txn *t, const char *participant, uint64_t now_ms,
                               uint64_t window_ms, uint32_t budget, int *granted);
    /* Records (sender, nonce) with the request's timestamp; PSI_ERR_REPLAY if
     * it was recorded before. Forgets nonces older than forget_before_ms. */
    int (*nonce_record)(struct psi_txn *t, const char *sender,
                        const unsigned char nonce[PSI_STORE_NONCE_BYTES], uint64_t timestamp_ms,
                        uint64_t forget_before_ms);

    /* The reply given to (sender, request_id): method and body (malloc'd). */
    int (*reply_get)(struct psi_txn *t, const char *sender,
                     const unsigned char request_id[PSI_STORE_REQUEST_ID_BYTES],
                     char method[PSI_STORE_METHOD_MAX + 1], uint8_t **body, size_t *body_len);
    int (*reply_put)(struct psi_txn *t, const char *sender,
                     const unsigned char request_id[PSI_STORE_REQUEST_ID_BYTES], const char *method,
                     const uint8_t *body, size_t body_len, uint64_t now_ms);
    /* Forgets stored replies and abandoned uploads older than the limits. */
    int (*forget_older)(struct psi_txn *t, uint64_t replies_before_ms, uint64_t uploads_before_ms);

    /* Staging of uploads, bytes contiguous from 0 per (sender, upload_id).
     * staging_size: bytes held for this upload (0 if none) and for all of the
     * sender's uploads. staging_read copies [offset, offset+len), which must
     * be held. staging_append adds bytes at the current end. */
    int (*staging_size)(struct psi_txn *t, const char *sender,
                        const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES],
                        uint64_t *received, uint64_t *sender_total);
    int (*staging_read)(struct psi_txn *t, const char *sender,
                        const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES], uint64_t offset,
                        uint8_t *out, size_t len);
    int (*staging_append)(struct psi_txn *t, const char *sender,
                          const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES], uint64_t offset,
                          const uint8_t *bytes, size_t len, uint64_t now_ms);
    int (*staging_drop)(struct psi_txn *t, const char *sender,
                        const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES]);

    /* Submissions. positions_in_epoch: how many positions the owner has
     * submitted in the epoch (the next submission's position base).
     * submission_add stores s (fills s->id) and its s->count elements. */
    int (*positions_in_epoch)(struct psi_txn *t, const char *owner, const char *epoch,
                              uint64_t *positions);
    int (*submission_add)(struct psi_txn *t, struct psi_store_submission *s,
                          const uint8_t *elements, uint64_t now_ms);
    int (*submission_get)(struct psi_txn *t, uint64_t id, struct psi_store_submission *out);
    /* owner's submissions of the epoch, in id order (whatever the policies
     * and roster say now: psi status shows a party its own). */
    int (*submission_list)(struct psi_txn *t, const char *owner, const char *epoch,
                           psi_store_submission_fn fn, void *ctx);
    int (*elements_read)(struct psi_txn *t, uint64_t submission_id, uint64_t offset, uint64_t count,
                         uint8_t *out);

    /* Work: the submissions of the epoch whose owner i is active and
     * different from me, where policy(i) allows me and policy(me) allows i,
     * and that me has not cross-blinded yet. Here and in results, "x allows
     * y" is the effective policy: the operator's allows y (share_all, or
     * listed) and, if x stated its own, so does x's. */
    int (*work_list)(struct psi_txn *t, const char *me, const char *epoch,
                     psi_store_submission_fn fn, void *ctx);
    /* The same rule for one submission of the epoch. */
    int (*work_status)(struct psi_txn *t, const char *me, const char *epoch, uint64_t submission_id,
                       enum psi_work_status *status);

    /* Stores a cross-blind batch and its cb->count tags (tag k belongs to
     * position base+k of the submission's owner i; cb->blinder is j), then
     * joins them with the tags of j's submissions under i's key in the same
     * epoch: equal tags become matches (i, pos_i, peer j) and (j, pos_j,
     * peer i). *matched: i's positions newly matched with j; *peer_matched:
     * j's positions newly matched with i (the log's match record). */
    int (*crossblind_add)(struct psi_txn *t, const struct psi_store_crossblind *cb,
                          const uint8_t *tags, uint64_t now_ms, uint64_t *matched,
                          uint64_t *peer_matched);

    /* me's matched positions of the epoch, in position order, with the peers
     * that still allow me, that me still allows, and that are not removed;
     * only positions held by at least threshold parties (me included). */
    int (*results)(struct psi_txn *t, const char *me, const char *epoch, uint32_t threshold,
                   psi_store_match_fn fn, void *ctx);

    /* The audit log (server/log.c decides what goes in; the backend keeps
     * it). The head is the tree's frontier (psi/merkle.h) and the latest
     * signed checkpoint: log_head_get gives PSI_ERR_NOT_FOUND before the
     * first write, and an empty checkpoint ("") until one is signed;
     * log_head_put with checkpoint NULL keeps the stored one. Entries and
     * hashes are written once and never rewritten: the put operations refuse
     * an index that is taken (PSI_ERR_EXISTS). Hash level 0 holds the leaf
     * hashes, levels >= 1 the complete subtrees; log_hash_get gives
     * PSI_ERR_NOT_FOUND for one not stored. log_entry_get: malloc'd bytes. */
    int (*log_head_get)(struct psi_txn *t, struct psi_merkle_frontier *frontier, char *checkpoint,
                        size_t cap);
    int (*log_head_put)(struct psi_txn *t, const struct psi_merkle_frontier *frontier,
                        const char *checkpoint);
    int (*log_entry_put)(struct psi_txn *t, uint64_t index, const uint8_t *entry, size_t len);
    int (*log_entry_get)(struct psi_txn *t, uint64_t index, uint8_t **entry, size_t *len);
    int (*log_hash_put)(struct psi_txn *t, unsigned level, uint64_t index,
                        const unsigned char hash[32]);
    int (*log_hash_get)(struct psi_txn *t, unsigned level, uint64_t index, unsigned char hash[32]);

    /* Vendor feeds. feed_key_put refuses a second key for (vendor, epoch)
     * (PSI_ERR_EXISTS); feed_key_get: PSI_ERR_NOT_FOUND if none. feed_put
     * stores the filter's f->size bytes, replacing the feed of (vendor,
     * epoch) if there is one; feed_read copies [offset, offset + len), which
     * must lie in the file (PSI_ERR_NOT_FOUND otherwise). */
    int (*feed_key_put)(struct psi_txn *t, const struct psi_store_feed_key *k, uint64_t now_ms);
    int (*feed_key_get)(struct psi_txn *t, const char *vendor, const char *epoch,
                        struct psi_store_feed_key *out);
    int (*feed_put)(struct psi_txn *t, const struct psi_store_feed *f, const uint8_t *bytes,
                    uint64_t now_ms);
    int (*feed_get)(struct psi_txn *t, const char *vendor, const char *epoch,
                    struct psi_store_feed *out);
    int (*feed_read)(struct psi_txn *t, const char *vendor, const char *epoch, uint64_t offset,
                     uint8_t *out, size_t len);

    /* Query quotas: the operator's limit per (agency, vendor), for every
     * epoch (PSI_ERR_NOT_FOUND if none was set), and the queries an agency
     * has sent a vendor in an epoch. */
    int (*quota_set)(struct psi_txn *t, const char *agency, const char *vendor, uint64_t limit);
    int (*quota_get)(struct psi_txn *t, const char *agency, const char *vendor, uint64_t *limit);
    int (*queries_used)(struct psi_txn *t, const char *agency, const char *vendor,
                        const char *epoch, uint64_t *used);

    /* Query batches. query_add stores q (with its signature) and its
     * q->count elements (fills q->id). query_get: the batch, its elements (malloc'd) and, once
     * answered, the evaluated elements (malloc'd; else NULL) and the proof.
     * query_pending lists the vendor's unanswered batches, oldest first, until
     * fn returns non-zero. query_answer records the answer of a batch. */
    int (*query_add)(struct psi_txn *t, struct psi_store_query *q, const uint8_t *elements,
                     uint64_t now_ms);
    int (*query_get)(struct psi_txn *t, uint64_t id, struct psi_store_query *out,
                     uint8_t **elements, uint8_t **evaluated,
                     unsigned char proof[PSI_STORE_PROOF_BYTES]);
    int (*query_pending)(struct psi_txn *t, const char *vendor,
                         int (*fn)(void *ctx, const struct psi_store_query *q), void *ctx);
    int (*query_answer)(struct psi_txn *t, uint64_t id, const uint8_t *evaluated,
                        const unsigned char proof[PSI_STORE_PROOF_BYTES], uint64_t now_ms);

    /* Retention and backup (psi-hub prune and backup, docs/operations.md).
     *
     * epoch_list: every epoch that holds a submission, a feed key, a feed or
     * a query batch, with what it holds, most recent first (by last_ms, then
     * by label, greater first). epoch_prune removes all of that for one epoch
     * and says what it removed in *removed (all zero for an epoch that holds
     * nothing); the audit log, the roster, quotas, stored replies, nonces and
     * staged uploads are not per epoch and stay as they are. */
    int (*epoch_list)(struct psi_txn *t, psi_store_epoch_fn fn, void *ctx);
    int (*epoch_prune)(struct psi_txn *t, const char *epoch, struct psi_store_epoch_usage *removed);
    /* Outside a transaction. disk_bytes: the space the store takes on disk
     * now. compact gives the space of removed data back to the file system;
     * it may keep the store's writers waiting while it runs. */
    int (*disk_bytes)(struct psi_store *st, uint64_t *bytes);
    int (*compact)(struct psi_store *st);
    /* Outside a transaction: a consistent copy of the whole store, as of one
     * moment, written to the new file path (refused with PSI_ERR_EXISTS if
     * path exists), mode 0600, which open() accepts as a store; the writers
     * of the store go on meanwhile. A backend that cannot copy itself into
     * a file returns PSI_ERR_UNSUPPORTED. err gets a reason for a person. */
    int (*backup)(struct psi_store *st, const char *path, char *err, size_t errlen);
    /* ---- the operator's view (the status page and metrics), read only */

    /* Totals over every epoch; bytes: SQLite counts the pages of its main
     * file (free pages included) and its WAL file as it stands; PostgreSQL
     * as its disk_bytes (the schema's tables, indexes and TOAST). */
    int (*usage)(struct psi_txn *t, struct psi_store_usage *out);
    /* The overlap map of an epoch as the join recorded it: for each ordered
     * pair (owner, peer) with at least one match, how many of owner's
     * positions peer also holds, whatever the policies, the threshold or
     * the roster say now (results filters; this does not). Pairs without a
     * match are not listed. Ordered by owner, then peer (bytewise). */
    int (*overlap_counts)(struct psi_txn *t, const char *epoch, psi_store_overlap_fn fn, void *ctx);
};

/* ---- the registry (store_backends.c) */

#define PSI_STORE_DEFAULT_BACKEND "sqlite"

/* The backend called name ("sqlite"; NULL: the default), or NULL. */
const struct psi_store_ops *psi_store_backend(const char *name);
/* The i-th backend of the registry (from 0), NULL past the last. */
const struct psi_store_ops *psi_store_backend_at(size_t i);

/* The backend and location of the store of hub directory dir: the backend
 * called name (NULL: the one whose store dir holds, PSI_ERR_NOT_FOUND if
 * none) and where its store lives in dir (whether or not it exists yet). err
 * gets a reason for a person. */
int psi_store_in_dir(const char *dir, const char *name, const struct psi_store_ops **ops,
                     char *location, size_t cap, char *err, size_t errlen);

/* The backend and location of a new hub's store in dir, from psi-hub init
 * --store: NULL or a backend name ("sqlite": the store in dir), or a
 * location a backend takes (a postgresql:// URL). err says why not. */
int psi_store_for_new_hub(const char *dir, const char *store, const struct psi_store_ops **ops,
                          char *location, size_t cap, char *err, size_t errlen);

/* For a backend whose store lives elsewhere, writes the file of dir that
 * names location (mode 0600: it may hold a password); nothing for one whose
 * store is in dir. unbind removes that file again (psi-hub init undoing). */
int psi_store_bind_dir(const char *dir, const struct psi_store_ops *ops, const char *location,
                       char *err, size_t errlen);
void psi_store_unbind_dir(const char *dir, const struct psi_store_ops *ops);

/* location as it may be printed or logged: without a password. */
void psi_store_location_for_people(const char *location, char *out, size_t cap);

/* Transactions over any backend. psi_txn_commit/rollback close t. */
int psi_txn_begin(struct psi_txn *t, const struct psi_store_ops *ops, struct psi_store *st,
                  enum psi_txn_kind kind);
int psi_txn_commit(struct psi_txn *t);
void psi_txn_rollback(struct psi_txn *t);

void psi_store_participant_clear(struct psi_store_participant *p);

/* The effective policy of p, as the hub acts on it: 1 if p allows `id`
 * (the operator's policy and, if p stated one, p's own); 1 if p takes no
 * results (either policy says contribute-only). */
int psi_store_participant_allows(const struct psi_store_participant *p, const char *id);
int psi_store_participant_contribute_only(const struct psi_store_participant *p);

/* The effective share list of p: *share_all = 1 when both policies share
 * with all; else the ids both allow (malloc'd, *count of them, in the order
 * of the list they come from; NULL when none). 0 or PSI_ERR_NOMEM. */
int psi_store_participant_effective_shares(const struct psi_store_participant *p, int *share_all,
                                           char (**ids)[PSI_STORE_ID_MAX + 1], size_t *count);

#endif
