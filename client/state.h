/*
 * The participant's local state: one SQLite database (DIR/state.db, WAL,
 * synchronous=FULL) that remembers what the hub cannot be asked for again.
 *
 * It promises that an indicator is never submitted twice in one epoch, and
 * that a submission interrupted at any point can be resumed: the shuffled
 * order of a submission is recorded in one transaction before its first byte
 * leaves the machine, and turns into position -> indicator rows in one
 * transaction when the hub's receipt arrives. It also keeps the agent's
 * cross-blind work and the results last fetched. Keys never enter the
 * database: they are files of their own beside it.
 *
 * Only state.c speaks SQL to state.db. The client has one other database, the
 * vendor agent's own record DIR/feed-agent.db, which only feed_agent.c opens
 * (feed_agent.h). Every function here returns 0 or a negative psi error code
 * (PSI_ERR_STORE when SQLite fails, with its message in psi_state_error()).
 */
#ifndef PSI_CLIENT_STATE_H
#define PSI_CLIENT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "identity.h"
#include "psi/ident.h"

#define PSI_STATE_DB_NAME "state.db"
#define PSI_STATE_URL_MAX 256
/* Epoch labels: psi/ident.h's limit (the client takes a label off the wire
 * only if psi_epoch_label_is_valid). */
#define PSI_STATE_EPOCH_MAX PSI_EPOCH_LABEL_MAX
#define PSI_STATE_UPLOAD_ID_BYTES 16
/* Schema version written by this code (PRAGMA user_version): the number of
 * its last migration (client/state.c). Opening migrates an older file
 * forward and refuses a newer one. */
#define PSI_STATE_SCHEMA_VERSION 6

struct psi_state;

/* What `psi init` records and every other command reads back. */
struct psi_state_config {
    char id[PSI_ID_MAX + 1];
    char hub_url[PSI_STATE_URL_MAX + 1];
    unsigned char hub_key[32];
    char hub_vkey[PSI_VKEY_MAX + 1];
};

/* One canonical indicator: its type name ("ipv4", "domain", ...) and value. */
struct psi_state_indicator {
    char *type;
    char *value;
};

/* A list of indicators whose strings the list owns. */
struct psi_state_indicator_list {
    struct psi_state_indicator *items;
    size_t count;
};

enum psi_state_submission_status {
    PSI_STATE_SUBMISSION_PENDING = 0, /* recorded, maybe partly uploaded */
    PSI_STATE_SUBMISSION_DONE = 1,    /* the hub's receipt is recorded */
    PSI_STATE_SUBMISSION_REFUSED = 2, /* the hub refused it; nothing kept */
};

struct psi_state_submission {
    unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES];
    char epoch[PSI_STATE_EPOCH_MAX + 1];
    uint64_t count;
    enum psi_state_submission_status status;
    uint64_t submission_id; /* when done */
    uint64_t position_base; /* when done */
};

enum psi_state_work_status {
    PSI_STATE_WORK_PENDING = 0, /* tags being computed or uploaded */
    PSI_STATE_WORK_DONE = 1,    /* the hub acknowledged the cross-blind batch */
    PSI_STATE_WORK_REFUSED = 2, /* the agent refused the task (reason kept) */
};

/* One cross-blind task as the agent records it. */
struct psi_state_work {
    uint64_t submission_id;
    char owner[PSI_ID_MAX + 1];
    char epoch[PSI_STATE_EPOCH_MAX + 1];
    uint64_t count;
    enum psi_state_work_status status;
    uint64_t matched;
};

/* The places kept for one indicator (migration 6): the first recorded. */
#define PSI_STATE_ORIGINS_MAX 16

/* Where an indicator was read (psi_ioc_origin, kept): NULL/0 when unknown. */
struct psi_state_origin {
    char *file;    /* the file as given to psi submit */
    uint64_t line; /* text, CSV: 1-based line; 0 */
    char *path;    /* JSON path of the object */
    char *event;   /* MISP event uuid */
    char *object;  /* STIX object id or MISP attribute uuid */
    int to_ids;    /* MISP: 1 or 0 as the attribute said; -1 unknown */
};

/* One matched position of the participant's own set, mapped back. */
struct psi_state_result {
    char *type;
    char *value;
    uint64_t position;
    char **peers;
    size_t n_peers;
    int64_t *first_seen_ms; /* per peer: the first psi results run that saw it */
    int64_t *last_seen_ms;  /* per peer: the latest run that saw it */
    struct psi_state_origin origins[PSI_STATE_ORIGINS_MAX];
    size_t n_origins;
};

struct psi_state_result_list {
    char epoch[PSI_STATE_EPOCH_MAX + 1];
    uint32_t threshold;
    int64_t fetched_ms; /* when the results were last fetched */
    struct psi_state_result *items;
    size_t count;
    size_t unmapped; /* matched positions this database knows no indicator for */
};

/* A matched position and its peers, as fetched from the hub. */
struct psi_state_match {
    uint64_t position;
    const char *const *peers;
    size_t n_peers;
};

/* Creates DIR/state.db (which must not exist) with the configuration. */
int psi_state_create(struct psi_state **st, const char *dir, const struct psi_state_config *cfg);
/* Opens an existing DIR/state.db; PSI_ERR_NOT_FOUND if there is none. */
int psi_state_open(struct psi_state **st, const char *dir);
/* For tests of the migrations: creates dir's state as version `version`
 * (1..PSI_STATE_SCHEMA_VERSION) of the schema left it, and closes it. */
int psi_state_create_at_version(const char *dir, const struct psi_state_config *cfg, int version);
void psi_state_close(struct psi_state *st);
/* The last SQLite or consistency message, for a person; never NULL. */
const char *psi_state_error(const struct psi_state *st);

int psi_state_config_get(struct psi_state *st, struct psi_state_config *cfg);

/* keep[i] = 1 for each indicator not yet submitted (done) in epoch, else 0. */
int psi_state_filter_new(struct psi_state *st, const char *epoch,
                         const struct psi_state_indicator *items, size_t n, unsigned char *keep);

/* Records a pending submission: its upload id, epoch and the indicators in
 * the order they will be uploaded, in one transaction. PSI_ERR_STATE if
 * another submission is pending, PSI_ERR_EXISTS if one of the indicators is
 * already submitted in the epoch. */
int psi_state_pending_record(struct psi_state *st,
                             const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES],
                             const char *epoch, const struct psi_state_indicator *items, size_t n);
/* The pending submission, if any (PSI_ERR_NOT_FOUND otherwise). */
int psi_state_pending_get(struct psi_state *st, struct psi_state_submission *out);
/* The indicators of a pending submission, in upload order. */
int psi_state_pending_items(struct psi_state *st,
                            const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES],
                            struct psi_state_indicator_list *out);
/* The receipt arrived: positions base+i -> indicator i, status done, one
 * transaction. receipt may be NULL. */
int psi_state_pending_done(struct psi_state *st,
                           const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES],
                           uint64_t submission_id, uint64_t position_base, const char *receipt);
/* The hub refused it for good: its indicators are free to submit again. */
int psi_state_pending_refused(struct psi_state *st,
                              const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES],
                              const char *reason);
/* How many indicators are submitted (done) in epoch. */
int psi_state_submitted_count(struct psi_state *st, const char *epoch, uint64_t *count);
/* The indicator at a position of epoch (PSI_ERR_NOT_FOUND if unknown). */
int psi_state_position_get(struct psi_state *st, const char *epoch, uint64_t position,
                           struct psi_state_indicator *out);

/* Agent bookkeeping. work_get returns PSI_ERR_NOT_FOUND for an unseen task. */
int psi_state_work_get(struct psi_state *st, uint64_t submission_id, struct psi_state_work *out);
int psi_state_work_begin(struct psi_state *st, const struct psi_state_work *task,
                         const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES]);
int psi_state_work_done(struct psi_state *st, uint64_t submission_id, uint64_t matched,
                        const char *receipt);
int psi_state_work_refused(struct psi_state *st, const struct psi_state_work *task,
                           const char *reason);

/* Replaces the stored results of epoch with those just fetched (one
 * transaction), then reads them back mapped to indicators. */
int psi_state_results_store(struct psi_state *st, const char *epoch, uint32_t threshold,
                            const struct psi_state_match *matches, size_t n);
int psi_state_results_get(struct psi_state *st, const char *epoch,
                          struct psi_state_result_list *out);

/* One origin of one indicator, for psi_state_origins_record. */
struct psi_state_origin_record {
    const char *type;
    const char *value;
    struct psi_state_origin origin; /* strings borrowed */
};

/* Records where indicators came from, in one transaction: an origin
 * recorded already is not repeated, and an indicator keeps at most
 * PSI_STATE_ORIGINS_MAX (the first). */
int psi_state_origins_record(struct psi_state *st, const struct psi_state_origin_record *recs,
                             size_t n);

void psi_state_indicator_clear(struct psi_state_indicator *ind);
void psi_state_indicator_list_clear(struct psi_state_indicator_list *list);
void psi_state_result_list_clear(struct psi_state_result_list *list);

/* ---------------------------------------------------------------- audit log
 *
 * What `psi audit` (cmd_audit.c) keeps: the checkpoints of the hub's log this
 * participant has verified, each signed by the hub and consistent with the
 * one trusted before it; the newest is where the next check starts. The
 * table is created on first use, so a database made before it needs no
 * migration. Receipts themselves stay where the commands that received them
 * put them (submissions, agent work); psi_state_receipts_each walks them. */

struct psi_state_checkpoint {
    uint64_t size;
    unsigned char root[32];
    char *note;   /* the signed checkpoint, verbatim (malloc'd) */
    char *source; /* what recorded it: "verify", "receipt", "submit", ... (malloc'd) */
    int64_t seen_ms;
};

/* The trusted checkpoint of the largest size; PSI_ERR_NOT_FOUND if none. */
int psi_state_checkpoint_latest(struct psi_state *st, struct psi_state_checkpoint *out);
/* Records a checkpoint the caller has verified: signed by the hub, and
 * consistent with the latest one (or the first). PSI_ERR_STATE if its size
 * is below the latest one's, PSI_ERR_VERIFY if a checkpoint of the same size
 * with another root is recorded already (that would be a fork: kept out);
 * recording the same checkpoint again is a no-op. */
int psi_state_checkpoint_record(struct psi_state *st, uint64_t size, const unsigned char root[32],
                                const char *note, const char *source);
void psi_state_checkpoint_clear(struct psi_state_checkpoint *cp);

/* Calls fn for every receipt held: what = "submission" or "crossblind",
 * the submission id it is about, and the receipt text. A non-zero return of
 * fn stops the walk and is returned. */
typedef int (*psi_state_receipt_fn)(void *ctx, const char *what, uint64_t submission_id,
                                    const char *receipt);
int psi_state_receipts_each(struct psi_state *st, psi_state_receipt_fn fn, void *ctx);

/* ---------------------------------------------------------------- the party's own rules
 *
 * What this participant decides for itself, whatever the hub says
 * (docs/trust.md): its sharing policy, the peers it has proven admitted in
 * the hub's log, and the work its agent has done for each peer. Tables are
 * created on first use. */

/* The longest share list a policy holds (as the log's, PSI_LOGENTRY_SHARE_MAX). */
#define PSI_STATE_SHARE_MAX 512

/* The party's own sharing policy. share_with (when !share_all) is sorted,
 * without duplicates. */
struct psi_state_policy {
    int share_all;
    int contribute_only;
    size_t share_count;
    char (*share_with)[PSI_ID_MAX + 1]; /* malloc'd */
    int64_t issued_ms;                  /* when it was set: the statement's time */
    int64_t sent_ms;                    /* when the hub acknowledged it; 0: not yet */
};

/* The policy; PSI_ERR_NOT_FOUND when none was ever set. */
int psi_state_policy_get(struct psi_state *st, struct psi_state_policy *out);
/* Replaces the policy (issued_ms as given, not sent yet). */
int psi_state_policy_set(struct psi_state *st, const struct psi_state_policy *p);
/* The hub acknowledged the statement issued at issued_ms. */
int psi_state_policy_sent(struct psi_state *st, int64_t issued_ms);
void psi_state_policy_clear(struct psi_state_policy *p);

/* A peer as this party has verified it: its admission (id, role, key) is the
 * log entry at admit_index, proven included in a checkpoint of size
 * proven_size that this state trusted. */
struct psi_state_peer {
    char id[PSI_ID_MAX + 1];
    char role[16];
    unsigned char public_key[32];
    uint64_t admit_index;
    uint64_t proven_size;
    int64_t pinned_ms;
    int reviewed; /* listed by `psi peers` since it was pinned */
};

/* The pinned peer of that id; PSI_ERR_NOT_FOUND if none. */
int psi_state_peer_get(struct psi_state *st, const char *id, struct psi_state_peer *out);
/* Pins a peer; PSI_ERR_EXISTS if the id is pinned already (a pin never
 * changes: another key for the same id is a conflict for a person). */
int psi_state_peer_pin(struct psi_state *st, const struct psi_state_peer *peer);
/* Calls fn for every pinned peer, by id. */
typedef int (*psi_state_peer_fn)(void *ctx, const struct psi_state_peer *peer);
int psi_state_peers_each(struct psi_state *st, psi_state_peer_fn fn, void *ctx);
/* Marks every pinned peer as reviewed (`psi peers` listed them). */
int psi_state_peers_reviewed(struct psi_state *st);

/* Elements of owner's sets in epoch that the agent has cross-blinded or begun
 * to (refused tasks do not count), other than submission `except`. */
int psi_state_work_elements(struct psi_state *st, const char *owner, const char *epoch,
                            uint64_t except, uint64_t *elements);

/* ---------------------------------------------------------------- epochs
 *
 * The epochs this participant has used or accepted (client/epoch_guard.c
 * decides; this is its memory). Created on first use, like the log tables.
 * seq orders first uses: a label used later has a larger seq; 0 = never used
 * (only accepted). kind says how the label was admitted. */

enum psi_state_epoch_kind {
    PSI_STATE_EPOCH_WEEK = 0,   /* a week label checked against the clock */
    PSI_STATE_EPOCH_DAY = 1,    /* a day label checked against the clock */
    PSI_STATE_EPOCH_MANUAL = 2, /* a label the party accepted (psi epoch --accept) */
};

struct psi_state_epoch {
    char label[PSI_STATE_EPOCH_MAX + 1];
    enum psi_state_epoch_kind kind;
    int64_t start_ms; /* week/day: when the period starts (UTC); manual: 0 */
    int accepted;     /* psi epoch --accept was run for it */
    int64_t seq;      /* order of first use; 0 if never used */
    int64_t used_ms;  /* first use; 0 if never used */
};

/* The row of label; PSI_ERR_NOT_FOUND if it was never used nor accepted. */
int psi_state_epoch_get(struct psi_state *st, const char *label, struct psi_state_epoch *out);
/* The most recently first-used epoch (largest seq); PSI_ERR_NOT_FOUND if none. */
int psi_state_epoch_newest(struct psi_state *st, struct psi_state_epoch *out);
/* The used week or day epoch that starts latest; PSI_ERR_NOT_FOUND if none. */
int psi_state_epoch_latest_clock(struct psi_state *st, struct psi_state_epoch *out);
/* Records that the party accepted label (a manual epoch). Idempotent. */
int psi_state_epoch_accept(struct psi_state *st, const char *label);
/* Records a use of label admitted as kind: the first use gets the next seq;
 * a later use of the newest label is a no-op. PSI_ERR_EPOCH if label was
 * used before and another label has been first used since (never back). */
int psi_state_epoch_use(struct psi_state *st, const char *label, enum psi_state_epoch_kind kind,
                        int64_t start_ms);
/* Calls fn for every epoch row, in order of first use, accepted-only last. */
typedef int (*psi_state_epoch_fn)(void *ctx, const struct psi_state_epoch *e);
int psi_state_epoch_each(struct psi_state *st, psi_state_epoch_fn fn, void *ctx);

/* ---------------------------------------------------------------- feed queries
 *
 * Protocol 2 (docs/feeds.md): what `psi feed query` got from a vendor's feed
 * in an epoch, so that asking again costs nothing, and the one batch it has
 * in flight, so that an interrupted query resumes it instead of paying for
 * it again (tables feed_answers, feed_pending, feed_pending_items; migration
 * 5). An answer is the finalised 64-byte OPRF output of one canonical
 * indicator under the vendor's key of the epoch: it is checked against
 * whichever filter the vendor publishes in that epoch. */
#define PSI_STATE_FEED_OUTPUT_BYTES 64

struct psi_state_feed_batch {
    unsigned char vendor_key[32];
    unsigned char request_id[16]; /* of its query.submit: a resend is the same request */
    uint64_t query_id;            /* 0 until the hub's ticket is recorded */
    unsigned char signature[64];
    size_t count;
    unsigned char *blinds;  /* count x 32, sodium_malloc'd: secret, wiped by _clear */
    unsigned char *blinded; /* count x 32 */
    struct psi_state_indicator *items;
};

/* Records a batch before it is sent; at most one per (vendor, epoch)
 * (PSI_ERR_EXISTS). */
int psi_state_feed_pending_record(struct psi_state *st, const char *vendor, const char *epoch,
                                  const struct psi_state_feed_batch *b);
/* The batch in flight for (vendor, epoch) (fresh buffers: clear it), or
 * PSI_ERR_NOT_FOUND. */
int psi_state_feed_pending_get(struct psi_state *st, const char *vendor, const char *epoch,
                               struct psi_state_feed_batch *out);
/* Any batch in flight for vendor in an epoch other than epoch: its label in
 * other (PSI_STATE_EPOCH_MAX + 1 bytes), or PSI_ERR_NOT_FOUND. */
int psi_state_feed_pending_other_epoch(struct psi_state *st, const char *vendor, const char *epoch,
                                       char *other);
int psi_state_feed_pending_ticket(struct psi_state *st, const char *vendor, const char *epoch,
                                  uint64_t query_id);
/* Ends the batch in flight, in one transaction: with outputs (count x 64),
 * keeps each item's answer; with NULL, drops it. Either way its blinds are
 * deleted (secure_delete). */
int psi_state_feed_pending_done(struct psi_state *st, const char *vendor, const char *epoch,
                                const unsigned char *outputs);
void psi_state_feed_batch_clear(struct psi_state_feed_batch *b);
/* The kept answer for one indicator, or PSI_ERR_NOT_FOUND. */
int psi_state_feed_answer_get(struct psi_state *st, const char *vendor, const char *epoch,
                              const unsigned char vendor_key[32], const char *type,
                              const char *value, unsigned char output[PSI_STATE_FEED_OUTPUT_BYTES]);

#endif
