/* The auditor's checks over the hub's log (audit.h). */
#include "psi/audit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "psi/error.h"
#include "psi/feed.h"
#include "psi/ident.h"

static const char SUBMISSION_SIG_CONTEXT[] = "psi/submission-sig/v1"; /* sizeof counts the 0x00 */
static const char CROSSBLIND_SIG_CONTEXT[] = "psi/crossblind-sig/v1";

int psi_audit_submission_signature_verify(const unsigned char hub_key[32],
                                          const unsigned char owner_key[32],
                                          const unsigned char digest[32],
                                          const unsigned char signature[64])
{
    unsigned char m[sizeof SUBMISSION_SIG_CONTEXT + 32U + 32U];
    if (hub_key == NULL || owner_key == NULL || digest == NULL || signature == NULL)
        return PSI_ERR_INVALID;
    memcpy(m, SUBMISSION_SIG_CONTEXT, sizeof SUBMISSION_SIG_CONTEXT);
    memcpy(m + sizeof SUBMISSION_SIG_CONTEXT, hub_key, 32);
    memcpy(m + sizeof SUBMISSION_SIG_CONTEXT + 32U, digest, 32);
    return crypto_sign_verify_detached(signature, m, sizeof m, owner_key) == 0 ? 0 : PSI_ERR_VERIFY;
}

int psi_audit_crossblind_signature_verify(const unsigned char hub_key[32],
                                          const unsigned char blinder_key[32],
                                          const unsigned char submission_digest[32], uint64_t count,
                                          const unsigned char tag_digest[32],
                                          const unsigned char signature[64])
{
    unsigned char m[sizeof CROSSBLIND_SIG_CONTEXT + 32U + 32U + 8U + 32U];
    size_t at = sizeof CROSSBLIND_SIG_CONTEXT;
    if (hub_key == NULL || blinder_key == NULL || submission_digest == NULL || tag_digest == NULL ||
        signature == NULL)
        return PSI_ERR_INVALID;
    memcpy(m, CROSSBLIND_SIG_CONTEXT, at);
    memcpy(m + at, hub_key, 32);
    at += 32U;
    memcpy(m + at, submission_digest, 32);
    at += 32U;
    for (int i = 7; i >= 0; i--) {
        m[at + (size_t)i] = (unsigned char)count;
        count >>= 8;
    }
    at += 8U;
    memcpy(m + at, tag_digest, 32);
    return crypto_sign_verify_detached(signature, m, sizeof m, blinder_key) == 0 ? 0
                                                                                 : PSI_ERR_VERIFY;
}

const char *psi_audit_check_name(unsigned check)
{
    static const char *const names[PSI_AUDIT_CHECK_MAX + 1U] = {
        "unknown",   "malformed", "roster",   "not-admitted", "removed", "role",
        "signature", "policy",    "sequence", "counts",       "quota",   "proof",
    };
    return check <= PSI_AUDIT_CHECK_MAX ? names[check] : names[0];
}

/* ---------------------------------------------------------------- a hash table
 *
 * One table holds every record, keyed by a type letter and the record's
 * fields separated by 0x00 (ids and epochs never hold one). A record's value
 * lives inline in its node, zeroed when created. */

struct node {
    struct node *next;
    uint64_t hash;
    size_t key_len;
    size_t value_size;
    /* then, aligned as malloc aligns: value_size bytes (rounded up), the key */
};

struct table {
    struct node **buckets;
    size_t bucket_count; /* a power of two */
    size_t count;
    unsigned char sip_key[crypto_shorthash_KEYBYTES];
};

static size_t round_up(size_t n)
{
    return (n + sizeof(max_align_t) - 1U) / sizeof(max_align_t) * sizeof(max_align_t);
}

static void *node_value(struct node *n)
{
    return (unsigned char *)n + round_up(sizeof *n);
}

static unsigned char *node_key(struct node *n)
{
    return (unsigned char *)node_value(n) + round_up(n->value_size);
}

static uint64_t key_hash(const struct table *t, const unsigned char *key, size_t len)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h = 0;
    crypto_shorthash(out, key, len, t->sip_key);
    for (size_t i = 0; i < sizeof out; i++)
        h = h << 8 | out[i];
    return h;
}

static void *table_find(const struct table *t, const unsigned char *key, size_t len)
{
    uint64_t h = key_hash(t, key, len);
    for (struct node *n = t->buckets[h & (t->bucket_count - 1U)]; n != NULL; n = n->next)
        if (n->hash == h && n->key_len == len && memcmp(node_key(n), key, len) == 0)
            return node_value(n);
    return NULL;
}

static int table_grow(struct table *t)
{
    size_t count = t->bucket_count * 2U;
    struct node **buckets = calloc(count, sizeof(struct node *));
    if (buckets == NULL)
        return PSI_ERR_NOMEM;
    for (size_t i = 0; i < t->bucket_count; i++) {
        struct node *n = t->buckets[i];
        while (n != NULL) {
            struct node *next = n->next;
            n->next = buckets[n->hash & (count - 1U)];
            buckets[n->hash & (count - 1U)] = n;
            n = next;
        }
    }
    free(t->buckets);
    t->buckets = buckets;
    t->bucket_count = count;
    return 0;
}

/* The record of that key, created (zeroed) if there is none; *created says
 * which. NULL when out of memory. */
static void *table_get_or_add(struct table *t, const unsigned char *key, size_t len,
                              size_t value_size, int *created)
{
    void *found = table_find(t, key, len);
    if (created != NULL)
        *created = found == NULL;
    if (found != NULL)
        return found;
    if (t->count >= t->bucket_count && t->bucket_count < (SIZE_MAX >> 2) / sizeof(void *) &&
        table_grow(t) != 0)
        return NULL;
    struct node *n = calloc(1, round_up(sizeof *n) + round_up(value_size) + len);
    if (n == NULL)
        return NULL;
    n->hash = key_hash(t, key, len);
    n->key_len = len;
    n->value_size = value_size;
    memcpy(node_key(n), key, len);
    n->next = t->buckets[n->hash & (t->bucket_count - 1U)];
    t->buckets[n->hash & (t->bucket_count - 1U)] = n;
    t->count++;
    return node_value(n);
}

/* ---------------------------------------------------------------- records */

/* Key of a record: a type letter, then fields each followed by 0x00. */
struct key {
    unsigned char bytes[1U + 3U * (PSI_LOGENTRY_EPOCH_MAX + 1U) + 8U];
    size_t len;
};

static void key_begin(struct key *k, char type)
{
    k->bytes[0] = (unsigned char)type;
    k->len = 1;
}

/* Fields are ids and epochs, checked by the decoder: at most 64 bytes. */
static void key_str(struct key *k, const char *s)
{
    size_t n = strlen(s);
    memcpy(k->bytes + k->len, s, n + 1U);
    k->len += n + 1U;
}

static void key_u64(struct key *k, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        k->bytes[k->len++] = (unsigned char)(v >> (8 * i));
}

/* 'R' id: a participant as the roster has it. */
struct member {
    uint64_t admitted_at; /* entry index */
    int removed;
    uint64_t removed_at;
    enum psi_role role;
    unsigned char public_key[32];
    int share_all;
    int contribute_only;
    size_t share_count;
    unsigned char *share_list; /* malloc'd copy of the encoded list */
    size_t share_list_len;
    /* The party's own statement (PARTY_POLICY), once one verified: the
     * operator's policy above is narrowed by it. */
    int has_party;
    uint64_t party_at; /* entry index */
    uint64_t party_issued_ms;
    int party_share_all;
    int party_contribute_only;
    unsigned char *party_share_list; /* malloc'd copy of the encoded list */
    size_t party_share_list_len;
};

/* 'S' u64 id: a submission. */
struct submission {
    uint64_t logged_at;
    char owner[PSI_LOGENTRY_ID_MAX + 1U];
    char epoch[PSI_LOGENTRY_EPOCH_MAX + 1U];
    uint64_t count;
    unsigned char digest[32];
};

/* 'P' epoch owner: positions the owner has in the epoch. */
struct positions {
    uint64_t total;
};

/* 'C' u64 submission blinder: a cross-blind batch done. */
struct batch_done {
    uint64_t logged_at;
};

/* 'Q' epoch x y: x's positions cross-blinded by y, and those matched with y. */
struct pair_side {
    uint64_t blinded;
    uint64_t matched;
};

/* 'K' epoch id: an announced epoch key. 'F' epoch id: a feed published. */
struct epoch_key {
    uint64_t logged_at;
    unsigned char public_key[32];
};

struct feed_done {
    uint64_t logged_at;
};

/* 'E' id: the operator's element quota of a participant (per epoch). No
 * record: PSI_ELEMENT_QUOTA_DEFAULT. */
struct element_quota {
    uint64_t limit;
};

/* 'L' agency vendor: the operator's query quota (per epoch). No record: 0. */
struct quota {
    uint64_t limit;
};

/* 'U' epoch agency vendor: queries the agency sent to the vendor's feed. */
struct usage {
    uint64_t used;
};

/* 'B' u64 index: the query batch logged at that entry. */
struct query_batch {
    char agency[PSI_LOGENTRY_ID_MAX + 1U];
    char vendor[PSI_LOGENTRY_ID_MAX + 1U];
    char epoch[PSI_LOGENTRY_EPOCH_MAX + 1U];
    uint64_t count;
    int answered;
    uint64_t answered_at;
};

struct psi_audit {
    unsigned char hub_key[32];
    psi_audit_violation_fn fn;
    void *ctx;
    struct table table;
    struct psi_audit_summary summary;
    uint64_t index; /* of the entry being checked */
    unsigned kind;  /* its kind */
    int failed;     /* out of memory once: unusable */
};

/* ---------------------------------------------------------------- life */

int psi_audit_create(struct psi_audit **out, const unsigned char hub_key[32],
                     psi_audit_violation_fn fn, void *ctx)
{
    if (out == NULL || hub_key == NULL)
        return PSI_ERR_INVALID;
    *out = NULL;
    if (sodium_init() < 0)
        return PSI_ERR_CRYPTO;
    struct psi_audit *a = calloc(1, sizeof *a);
    if (a == NULL)
        return PSI_ERR_NOMEM;
    a->table.bucket_count = 256;
    a->table.buckets = calloc(a->table.bucket_count, sizeof(struct node *));
    if (a->table.buckets == NULL) {
        free(a);
        return PSI_ERR_NOMEM;
    }
    randombytes_buf(a->table.sip_key, sizeof a->table.sip_key);
    memcpy(a->hub_key, hub_key, 32);
    a->fn = fn;
    a->ctx = ctx;
    *out = a;
    return 0;
}

void psi_audit_destroy(struct psi_audit *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->table.bucket_count; i++) {
        struct node *n = a->table.buckets[i];
        while (n != NULL) {
            struct node *next = n->next;
            if (node_key(n)[0] == 'R') {
                struct member *m = node_value(n);
                free(m->share_list);
                free(m->party_share_list);
            }
            free(n);
            n = next;
        }
    }
    free(a->table.buckets);
    sodium_memzero(a->table.sip_key, sizeof a->table.sip_key);
    free(a);
}

void psi_audit_get_summary(const struct psi_audit *a, struct psi_audit_summary *summary)
{
    if (summary == NULL)
        return;
    if (a == NULL) {
        memset(summary, 0, sizeof *summary);
        return;
    }
    *summary = a->summary;
}

/* ---------------------------------------------------------------- reporting */

static int report(struct psi_audit *a, enum psi_audit_check check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int report(struct psi_audit *a, enum psi_audit_check check, const char *fmt, ...)
{
    struct psi_audit_violation v;
    va_list ap;
    v.index = a->index;
    v.check = check;
    v.kind = a->kind;
    va_start(ap, fmt);
    vsnprintf(v.detail, sizeof v.detail, fmt, ap);
    va_end(ap);
    a->summary.violations++;
    a->summary.per_check[check]++;
    return a->fn != NULL ? a->fn(a->ctx, &v) : 0;
}

/* Returns from the checking function when the callback asks to stop. */
#define REPORT(...)                                                                                \
    do {                                                                                           \
        int report_rc_ = report(__VA_ARGS__);                                                      \
        if (report_rc_ != 0)                                                                       \
            return report_rc_;                                                                     \
    } while (0)

/* ---------------------------------------------------------------- lookups */

static struct member *member_find(struct psi_audit *a, const char *id)
{
    struct key k;
    key_begin(&k, 'R');
    key_str(&k, id);
    return table_find(&a->table, k.bytes, k.len);
}

/* The hub's effective policy: the operator's, narrowed by the party's own
 * statement when it made one (a peer must be allowed by both). */
static int member_allows(const struct member *m, const char *id)
{
    int operator_allows =
        m->share_all || psi_logentry_share_list_has(m->share_list, m->share_list_len, id);
    int party_allows =
        !m->has_party || m->party_share_all ||
        psi_logentry_share_list_has(m->party_share_list, m->party_share_list_len, id);
    return operator_allows && party_allows;
}

static struct positions *positions_get(struct psi_audit *a, const char *epoch, const char *owner,
                                       int add)
{
    struct key k;
    key_begin(&k, 'P');
    key_str(&k, epoch);
    key_str(&k, owner);
    if (!add)
        return table_find(&a->table, k.bytes, k.len);
    return table_get_or_add(&a->table, k.bytes, k.len, sizeof(struct positions), NULL);
}

static struct pair_side *pair_get(struct psi_audit *a, const char *epoch, const char *x,
                                  const char *y, int add)
{
    struct key k;
    key_begin(&k, 'Q');
    key_str(&k, epoch);
    key_str(&k, x);
    key_str(&k, y);
    if (!add)
        return table_find(&a->table, k.bytes, k.len);
    return table_get_or_add(&a->table, k.bytes, k.len, sizeof(struct pair_side), NULL);
}

/*
 * The cause of an entry must be on the roster and not removed, and its role
 * must be allowed to act (auditors never act). *out is the member when it is
 * on the roster at all (removed or not), so that its signature can still be
 * checked; NULL otherwise. Returns the callback's stop value or 0.
 */
static int check_party(struct psi_audit *a, const char *id, const char *what, int acts,
                       struct member **out)
{
    struct member *m = member_find(a, id);
    *out = m;
    if (m == NULL) {
        REPORT(a, PSI_AUDIT_NOT_ADMITTED, "%s %s is not on the roster", what, id);
        return 0;
    }
    if (m->removed)
        REPORT(a, PSI_AUDIT_REMOVED, "%s %s was removed at entry %" PRIu64, what, id,
               m->removed_at);
    if (acts && m->role == PSI_ROLE_AUDITOR)
        REPORT(a, PSI_AUDIT_ROLE, "%s %s is an auditor", what, id);
    return 0;
}

/* ---------------------------------------------------------------- roster */

static int set_policy(struct member *m, const struct psi_logentry_roster *r)
{
    unsigned char *copy = NULL;
    if (r->share_list_len > 0) {
        copy = malloc(r->share_list_len);
        if (copy == NULL)
            return PSI_ERR_NOMEM;
        memcpy(copy, r->share_list, r->share_list_len);
    }
    free(m->share_list);
    m->share_list = copy;
    m->share_list_len = r->share_list_len;
    m->share_count = r->share_count;
    m->share_all = r->share_all;
    m->contribute_only = r->contribute_only;
    return 0;
}

static int same_identity(const struct member *m, const struct psi_logentry_roster *r)
{
    return m->role == r->role && memcmp(m->public_key, r->public_key, 32) == 0;
}

static int check_admit(struct psi_audit *a, const struct psi_logentry_roster *r)
{
    struct key k;
    int created = 0;
    key_begin(&k, 'R');
    key_str(&k, r->participant);
    struct member *m = table_get_or_add(&a->table, k.bytes, k.len, sizeof *m, &created);
    if (m == NULL)
        return PSI_ERR_NOMEM;
    if (!created) {
        REPORT(a, PSI_AUDIT_ROSTER, "admits %s, admitted already at entry %" PRIu64, r->participant,
               m->admitted_at);
        return 0;
    }
    m->admitted_at = a->index;
    m->role = r->role;
    memcpy(m->public_key, r->public_key, 32);
    return set_policy(m, r);
}

static int check_policy(struct psi_audit *a, const struct psi_logentry_roster *r)
{
    struct member *m = member_find(a, r->participant);
    if (m == NULL) {
        REPORT(a, PSI_AUDIT_ROSTER, "changes the policy of %s, who is not on the roster",
               r->participant);
        return 0;
    }
    if (m->removed) {
        REPORT(a, PSI_AUDIT_ROSTER, "changes the policy of %s, removed at entry %" PRIu64,
               r->participant, m->removed_at);
        return 0;
    }
    if (!same_identity(m, r)) {
        REPORT(a, PSI_AUDIT_ROSTER, "a policy change that changes the key or role of %s",
               r->participant);
        return 0;
    }
    return set_policy(m, r);
}

static int check_remove(struct psi_audit *a, const struct psi_logentry_roster *r)
{
    struct member *m = member_find(a, r->participant);
    if (m == NULL) {
        REPORT(a, PSI_AUDIT_ROSTER, "removes %s, who is not on the roster", r->participant);
        return 0;
    }
    if (m->removed) {
        REPORT(a, PSI_AUDIT_ROSTER, "removes %s, removed already at entry %" PRIu64, r->participant,
               m->removed_at);
        return 0;
    }
    if (!same_identity(m, r))
        REPORT(a, PSI_AUDIT_ROSTER, "the removal of %s names another key or role", r->participant);
    m->removed = 1;
    m->removed_at = a->index;
    return 0;
}

/* ---------------------------------------------------------------- a party's own word */

/* A party's statement must be signed with its roster key at that point and
 * issued after the one before it; then it narrows the operator's policy of
 * the party from here on. A statement that does not verify is reported and
 * not applied: a party's policy is only what the party signed. */
static int check_party_policy(struct psi_audit *a, const struct psi_logentry_party_policy *p)
{
    struct member *m;
    int rc = check_party(a, p->participant, "the policy's party", 1, &m);
    if (rc != 0 || m == NULL)
        return rc;
    unsigned char statement[PSI_POLICY_STATEMENT_MAX];
    size_t len = 0;
    int built = psi_policy_statement(statement, sizeof statement, &len, a->hub_key, p);
    if (built != 0 ||
        crypto_sign_verify_detached(p->signature, statement, len, m->public_key) != 0) {
        REPORT(a, PSI_AUDIT_SIGNATURE,
               "the policy statement of %s is not signed with its roster key", p->participant);
        return 0;
    }
    if (m->has_party && p->issued_ms <= m->party_issued_ms) {
        REPORT(a, PSI_AUDIT_SEQUENCE,
               "the policy statement of %s was issued at %" PRIu64 ", not after the one of entry "
               "%" PRIu64 " (issued at %" PRIu64 ")",
               p->participant, p->issued_ms, m->party_at, m->party_issued_ms);
        return 0;
    }
    unsigned char *copy = NULL;
    if (p->share_list_len > 0) {
        copy = malloc(p->share_list_len);
        if (copy == NULL)
            return PSI_ERR_NOMEM;
        memcpy(copy, p->share_list, p->share_list_len);
    }
    free(m->party_share_list);
    m->party_share_list = copy;
    m->party_share_list_len = p->share_list_len;
    m->party_share_all = p->share_all;
    m->party_contribute_only = p->contribute_only;
    m->party_issued_ms = p->issued_ms;
    m->party_at = a->index;
    m->has_party = 1;
    return 0;
}

static int check_element_quota(struct psi_audit *a, const struct psi_logentry_element_quota *q)
{
    struct member *m;
    int rc = check_party(a, q->participant, "the quota's participant", 1, &m);
    if (rc != 0)
        return rc;
    struct key k;
    key_begin(&k, 'E');
    key_str(&k, q->participant);
    struct element_quota *quota = table_get_or_add(&a->table, k.bytes, k.len, sizeof *quota, NULL);
    if (quota == NULL)
        return PSI_ERR_NOMEM;
    quota->limit = q->limit;
    return 0;
}

/* ---------------------------------------------------------------- epoch keys, feeds */

/* 1 if signature is key's Ed25519 signature of the statement, which the
 * builder returned `built` for (0: built, len bytes). */
static int statement_signed(int built, const unsigned char *statement, size_t len,
                            const unsigned char signature[64], const unsigned char key[32])
{
    return built == 0 && crypto_sign_verify_detached(signature, statement, len, key) == 0;
}

static int check_epoch_key(struct psi_audit *a, const struct psi_logentry_epoch_key *e)
{
    struct member *m;
    int rc = check_party(a, e->participant, "the announcer", 1, &m);
    if (rc != 0)
        return rc;
    unsigned char statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    int built = psi_feed_key_statement(statement, sizeof statement, &len, a->hub_key, e->epoch,
                                       e->public_key);
    if (m != NULL && !statement_signed(built, statement, len, e->signature, m->public_key))
        REPORT(a, PSI_AUDIT_SIGNATURE,
               "the key %s announced for epoch %s is not signed with its roster key",
               e->participant, e->epoch);
    struct key k;
    int created = 0;
    key_begin(&k, 'K');
    key_str(&k, e->epoch);
    key_str(&k, e->participant);
    struct epoch_key *known = table_get_or_add(&a->table, k.bytes, k.len, sizeof *known, &created);
    if (known == NULL)
        return PSI_ERR_NOMEM;
    if (created) {
        known->logged_at = a->index;
        memcpy(known->public_key, e->public_key, 32);
    } else if (memcmp(known->public_key, e->public_key, 32) != 0) {
        /* One key per party and epoch is what keeps a vendor from telling
         * askers apart by answering each under its own key. */
        REPORT(a, PSI_AUDIT_SEQUENCE,
               "%s announces a second, different key for epoch %s (the first at entry %" PRIu64 ")",
               e->participant, e->epoch, known->logged_at);
    }
    return 0;
}

static int check_feed(struct psi_audit *a, const struct psi_logentry_feed *f)
{
    struct member *m;
    int rc = check_party(a, f->participant, "the publisher", 1, &m);
    if (rc != 0)
        return rc;
    if (m != NULL && m->role != PSI_ROLE_VENDOR && m->role != PSI_ROLE_AUDITOR)
        REPORT(a, PSI_AUDIT_ROLE, "the publisher %s is not a vendor", f->participant);
    unsigned char statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    int built = psi_feed_commit_statement(statement, sizeof statement, &len, a->hub_key, f->epoch,
                                          f->count, f->size, f->feed_digest);
    if (m != NULL && !statement_signed(built, statement, len, f->signature, m->public_key))
        REPORT(a, PSI_AUDIT_SIGNATURE,
               "the feed %s published for epoch %s is not signed with its roster key",
               f->participant, f->epoch);
    struct key k;
    key_begin(&k, 'K');
    key_str(&k, f->epoch);
    key_str(&k, f->participant);
    if (table_find(&a->table, k.bytes, k.len) == NULL)
        REPORT(a, PSI_AUDIT_SEQUENCE, "%s publishes a feed for epoch %s without an epoch key",
               f->participant, f->epoch);
    k.bytes[0] = 'F';
    struct feed_done *done = table_get_or_add(&a->table, k.bytes, k.len, sizeof *done, NULL);
    if (done == NULL)
        return PSI_ERR_NOMEM;
    done->logged_at = a->index;
    return 0;
}

static int check_query(struct psi_audit *a, const struct psi_logentry_query *q)
{
    struct member *m;
    int rc = check_party(a, q->participant, "the querier", 1, &m);
    unsigned char statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    int built = psi_feed_query_statement(statement, sizeof statement, &len, a->hub_key, q->vendor,
                                         q->epoch, q->count, q->elements_digest);
    if (rc == 0 && m != NULL &&
        !statement_signed(built, statement, len, q->signature, m->public_key))
        REPORT(a, PSI_AUDIT_SIGNATURE,
               "the query batch of %s to %s is not signed with %s's roster key", q->participant,
               q->vendor, q->participant);
    if (rc == 0)
        rc = check_party(a, q->vendor, "the vendor", 1, &m);
    if (rc != 0)
        return rc;
    if (m != NULL && m->role != PSI_ROLE_VENDOR)
        REPORT(a, PSI_AUDIT_ROLE, "%s queries %s, who is not a vendor", q->participant, q->vendor);
    struct key k;
    key_begin(&k, 'F');
    key_str(&k, q->epoch);
    key_str(&k, q->vendor);
    if (table_find(&a->table, k.bytes, k.len) == NULL)
        REPORT(a, PSI_AUDIT_SEQUENCE, "%s queries %s, who has published no feed for epoch %s",
               q->participant, q->vendor, q->epoch);

    /* The quota in force now bounds everything sent in the epoch so far. */
    key_begin(&k, 'L');
    key_str(&k, q->participant);
    key_str(&k, q->vendor);
    const struct quota *quota = table_find(&a->table, k.bytes, k.len);
    uint64_t limit = quota != NULL ? quota->limit : 0;
    key_begin(&k, 'U');
    key_str(&k, q->epoch);
    key_str(&k, q->participant);
    key_str(&k, q->vendor);
    struct usage *u = table_get_or_add(&a->table, k.bytes, k.len, sizeof *u, NULL);
    if (u == NULL)
        return PSI_ERR_NOMEM;
    u->used = q->count > UINT64_MAX - u->used ? UINT64_MAX : u->used + q->count;
    if (u->used > limit)
        REPORT(a, PSI_AUDIT_QUOTA,
               "%s has sent %" PRIu64 " queries to %s in epoch %s, over its quota of %" PRIu64,
               q->participant, u->used, q->vendor, q->epoch, limit);

    key_begin(&k, 'B');
    key_u64(&k, a->index);
    struct query_batch *b = table_get_or_add(&a->table, k.bytes, k.len, sizeof *b, NULL);
    if (b == NULL)
        return PSI_ERR_NOMEM;
    memcpy(b->agency, q->participant, sizeof b->agency);
    memcpy(b->vendor, q->vendor, sizeof b->vendor);
    memcpy(b->epoch, q->epoch, sizeof b->epoch);
    b->count = q->count;
    return 0;
}

static int check_quota(struct psi_audit *a, const struct psi_logentry_quota *q)
{
    struct member *m;
    int rc = check_party(a, q->agency, "the agency", 1, &m);
    if (rc != 0)
        return rc;
    if (m != NULL && m->role != PSI_ROLE_AGENCY)
        REPORT(a, PSI_AUDIT_ROLE, "a query quota for %s, who is not an agency", q->agency);
    rc = check_party(a, q->vendor, "the vendor", 1, &m);
    if (rc != 0)
        return rc;
    if (m != NULL && m->role != PSI_ROLE_VENDOR)
        REPORT(a, PSI_AUDIT_ROLE, "a query quota at %s, who is not a vendor", q->vendor);
    struct key k;
    key_begin(&k, 'L');
    key_str(&k, q->agency);
    key_str(&k, q->vendor);
    struct quota *quota = table_get_or_add(&a->table, k.bytes, k.len, sizeof *quota, NULL);
    if (quota == NULL)
        return PSI_ERR_NOMEM;
    quota->limit = q->limit;
    return 0;
}

/* An answer must answer a logged batch, once, with the batch's parties and
 * count, under the key the vendor announced for the epoch: the hub checked
 * the proof against that key, and a key per asker is what the one-key rule
 * forbids. */
static int check_answer(struct psi_audit *a, const struct psi_logentry_answer *ans)
{
    struct member *m;
    int rc = check_party(a, ans->vendor, "the answering vendor", 1, &m);
    if (rc != 0)
        return rc;
    struct key k;
    key_begin(&k, 'B');
    key_u64(&k, ans->query_index);
    struct query_batch *b =
        ans->query_index < a->index ? table_find(&a->table, k.bytes, k.len) : NULL;
    if (b == NULL) {
        REPORT(a, PSI_AUDIT_SEQUENCE,
               "%s answers the query batch of entry %" PRIu64 ", which is no earlier query",
               ans->vendor, ans->query_index);
    } else {
        if (strcmp(b->agency, ans->agency) != 0 || strcmp(b->vendor, ans->vendor) != 0 ||
            strcmp(b->epoch, ans->epoch) != 0)
            REPORT(a, PSI_AUDIT_SEQUENCE,
                   "the answer to entry %" PRIu64 " names %s, %s, %s; the batch was %s to %s in %s",
                   ans->query_index, ans->agency, ans->vendor, ans->epoch, b->agency, b->vendor,
                   b->epoch);
        if (b->count != ans->count)
            REPORT(a, PSI_AUDIT_COUNTS,
                   "the answer to entry %" PRIu64 " holds %" PRIu64 " elements, the batch %" PRIu64,
                   ans->query_index, ans->count, b->count);
        if (b->answered)
            REPORT(a, PSI_AUDIT_SEQUENCE,
                   "the query batch of entry %" PRIu64 " is answered again (first at entry %" PRIu64
                   ")",
                   ans->query_index, b->answered_at);
        b->answered = 1;
        b->answered_at = a->index;
    }
    key_begin(&k, 'K');
    key_str(&k, ans->epoch);
    key_str(&k, ans->vendor);
    const struct epoch_key *key = table_find(&a->table, k.bytes, k.len);
    if (key == NULL)
        REPORT(a, PSI_AUDIT_PROOF, "%s answers in epoch %s without an announced key", ans->vendor,
               ans->epoch);
    else if (memcmp(key->public_key, ans->public_key, 32) != 0)
        REPORT(a, PSI_AUDIT_PROOF,
               "%s's answer to entry %" PRIu64 " was proven under a key other than the one it "
               "announced for epoch %s (entry %" PRIu64 ")",
               ans->vendor, ans->query_index, ans->epoch, key->logged_at);
    return 0;
}

/* ---------------------------------------------------------------- protocol 1 */

static int check_submission(struct psi_audit *a, const struct psi_logentry_submission *s)
{
    struct member *m;
    int rc = check_party(a, s->participant, "the submitter", 1, &m);
    if (rc != 0)
        return rc;
    if (m != NULL && psi_audit_submission_signature_verify(a->hub_key, m->public_key, s->digest,
                                                           s->signature) != 0)
        REPORT(a, PSI_AUDIT_SIGNATURE,
               "the signature of submission %" PRIu64 " does not verify with the key of %s",
               s->submission_id, s->participant);

    struct positions *pos = positions_get(a, s->epoch, s->participant, 1);
    if (pos == NULL)
        return PSI_ERR_NOMEM;
    if (s->position_base != pos->total)
        REPORT(a, PSI_AUDIT_COUNTS,
               "submission %" PRIu64 " starts at position %" PRIu64 ", but %s had %" PRIu64
               " positions in epoch %s before it",
               s->submission_id, s->position_base, s->participant, pos->total, s->epoch);
    if (s->count > UINT64_MAX - pos->total) {
        REPORT(a, PSI_AUDIT_COUNTS, "submission %" PRIu64 " takes %s past 2^64 positions",
               s->submission_id, s->participant);
        pos->total = UINT64_MAX;
    } else {
        pos->total += s->count;
    }

    /* The element quota in force now bounds everything submitted in the
     * epoch so far. */
    struct key k;
    key_begin(&k, 'E');
    key_str(&k, s->participant);
    const struct element_quota *quota = table_find(&a->table, k.bytes, k.len);
    uint64_t limit = quota != NULL ? quota->limit : PSI_ELEMENT_QUOTA_DEFAULT;
    if (pos->total > limit)
        REPORT(a, PSI_AUDIT_QUOTA,
               "submission %" PRIu64 " takes %s to %" PRIu64 " elements in epoch %s, over its "
               "quota of %" PRIu64,
               s->submission_id, s->participant, pos->total, s->epoch, limit);

    int created = 0;
    key_begin(&k, 'S');
    key_u64(&k, s->submission_id);
    struct submission *rec = table_get_or_add(&a->table, k.bytes, k.len, sizeof *rec, &created);
    if (rec == NULL)
        return PSI_ERR_NOMEM;
    if (!created) {
        REPORT(a, PSI_AUDIT_SEQUENCE,
               "submission id %" PRIu64 " was used already at entry %" PRIu64, s->submission_id,
               rec->logged_at);
        return 0;
    }
    rec->logged_at = a->index;
    memcpy(rec->owner, s->participant, sizeof rec->owner);
    memcpy(rec->epoch, s->epoch, sizeof rec->epoch);
    rec->count = s->count;
    memcpy(rec->digest, s->digest, 32);
    return 0;
}

/* Both parties on the roster, not removed, and each allowing the other. */
static int check_pair_policy(struct psi_audit *a, const char *x, const char *y)
{
    struct member *mx = member_find(a, x), *my = member_find(a, y);
    if (mx == NULL || my == NULL)
        return 0; /* reported by check_party */
    if (mx->removed || my->removed)
        REPORT(a, PSI_AUDIT_POLICY, "%s and %s: %s is removed", x, y, mx->removed ? x : y);
    else if (!member_allows(mx, y) || !member_allows(my, x))
        REPORT(a, PSI_AUDIT_POLICY,
               "the policies of %s and %s do not allow it (%s allows %s: %s; "
               "%s allows %s: %s)",
               x, y, x, y, member_allows(mx, y) ? "yes" : "no", y, x,
               member_allows(my, x) ? "yes" : "no");
    return 0;
}

static int check_crossblind(struct psi_audit *a, const struct psi_logentry_crossblind *c)
{
    struct member *m;
    int rc = check_party(a, c->participant, "the blinder", 1, &m);
    if (rc != 0)
        return rc;
    struct key k;
    key_begin(&k, 'S');
    key_u64(&k, c->submission_id);
    struct submission *sub = table_find(&a->table, k.bytes, k.len);
    if (sub == NULL) {
        REPORT(a, PSI_AUDIT_SEQUENCE,
               "a cross-blind batch of submission %" PRIu64 ", which no earlier entry holds",
               c->submission_id);
        return 0;
    }
    if (strcmp(sub->owner, c->participant) == 0) {
        REPORT(a, PSI_AUDIT_POLICY, "%s cross-blinds its own submission %" PRIu64, c->participant,
               c->submission_id);
    } else {
        rc = check_pair_policy(a, sub->owner, c->participant);
        if (rc != 0)
            return rc;
    }
    if (c->count != sub->count)
        REPORT(a, PSI_AUDIT_COUNTS,
               "a batch of %" PRIu64 " tags for submission %" PRIu64 " of %" PRIu64 " elements",
               c->count, c->submission_id, sub->count);
    if (m != NULL &&
        psi_audit_crossblind_signature_verify(a->hub_key, m->public_key, sub->digest, c->count,
                                              c->tag_digest, c->signature) != 0)
        REPORT(a, PSI_AUDIT_SIGNATURE,
               "the signature of the cross-blind batch of submission %" PRIu64
               " does not verify with the key of %s",
               c->submission_id, c->participant);

    int created = 0;
    key_begin(&k, 'C');
    key_u64(&k, c->submission_id);
    key_str(&k, c->participant);
    struct batch_done *done = table_get_or_add(&a->table, k.bytes, k.len, sizeof *done, &created);
    if (done == NULL)
        return PSI_ERR_NOMEM;
    if (!created) {
        REPORT(a, PSI_AUDIT_SEQUENCE,
               "%s cross-blinds submission %" PRIu64 " again (first at entry %" PRIu64 ")",
               c->participant, c->submission_id, done->logged_at);
        return 0;
    }
    done->logged_at = a->index;
    if (strcmp(sub->owner, c->participant) != 0) {
        struct pair_side *side = pair_get(a, sub->epoch, sub->owner, c->participant, 1);
        if (side == NULL)
            return PSI_ERR_NOMEM;
        /* Each batch covers one submission once, so the sum stays within the
         * owner's positions, which are below 2^64. */
        side->blinded += sub->count;
    }
    return 0;
}

/* One side of a match record: x's positions newly matched with y. A side
 * with nothing new says nothing about x's submissions (the hub writes a
 * record after every batch, also before the pair's other direction was
 * cross-blinded); one with new matches needs x's positions cross-blinded by
 * y, at least as many as are matched. */
static int check_match_side(struct psi_audit *a, const char *epoch, const char *x, const char *y,
                            uint64_t matched, uint64_t *total)
{
    struct pair_side *side = pair_get(a, epoch, x, y, 0);
    uint64_t blinded = side != NULL ? side->blinded : 0;
    uint64_t before = side != NULL ? side->matched : 0;
    *total = before;
    if (matched == 0)
        return 0;
    struct positions *pos = positions_get(a, epoch, x, 0);
    if (pos == NULL || pos->total == 0) {
        REPORT(a, PSI_AUDIT_SEQUENCE, "%s has no submission in epoch %s before this match", x,
               epoch);
    } else if (blinded == 0) {
        REPORT(a, PSI_AUDIT_SEQUENCE,
               "no cross-blind batch by %s of a submission of %s in epoch %s before this match", y,
               x, epoch);
    }
    uint64_t after = matched > UINT64_MAX - before ? UINT64_MAX : before + matched;
    if (after > blinded)
        REPORT(a, PSI_AUDIT_COUNTS,
               "%" PRIu64 " positions of %s matched with %s in epoch %s, but %s cross-blinded "
               "only %" PRIu64,
               after, x, y, epoch, y, blinded);
    side = pair_get(a, epoch, x, y, 1);
    if (side == NULL)
        return PSI_ERR_NOMEM;
    side->matched = after;
    *total = after;
    return 0;
}

static int check_match(struct psi_audit *a, const struct psi_logentry_match *m)
{
    struct member *ma, *mb;
    int rc = check_party(a, m->participant_a, "the matched party", 1, &ma);
    if (rc == 0)
        rc = check_party(a, m->participant_b, "the matched party", 1, &mb);
    if (rc == 0)
        rc = check_pair_policy(a, m->participant_a, m->participant_b);
    if (rc != 0)
        return rc;
    if (m->matched_a == 0 && m->matched_b == 0) {
        /* A record of nothing new still follows a batch of the pair. */
        const struct pair_side *ab = pair_get(a, m->epoch, m->participant_a, m->participant_b, 0);
        const struct pair_side *ba = pair_get(a, m->epoch, m->participant_b, m->participant_a, 0);
        if ((ab == NULL || ab->blinded == 0) && (ba == NULL || ba->blinded == 0))
            REPORT(a, PSI_AUDIT_SEQUENCE,
                   "a match record of %s and %s in epoch %s before any cross-blind batch "
                   "between them",
                   m->participant_a, m->participant_b, m->epoch);
        return 0;
    }
    uint64_t total_a = 0, total_b = 0;
    rc = check_match_side(a, m->epoch, m->participant_a, m->participant_b, m->matched_a, &total_a);
    if (rc == 0)
        rc = check_match_side(a, m->epoch, m->participant_b, m->participant_a, m->matched_b,
                              &total_b);
    if (rc != 0)
        return rc;
    /* An equal tag has a position on both sides. */
    if ((total_a == 0) != (total_b == 0))
        REPORT(a, PSI_AUDIT_COUNTS,
               "%s has %" PRIu64 " positions matched with %s in epoch %s, but %s has %" PRIu64
               " matched with %s",
               m->participant_a, total_a, m->participant_b, m->epoch, m->participant_b, total_b,
               m->participant_a);
    return 0;
}

static int check_refusal(struct psi_audit *a, const struct psi_logentry_refusal *r)
{
    if (r->authenticated && member_find(a, r->participant) == NULL)
        REPORT(a, PSI_AUDIT_NOT_ADMITTED,
               "a refusal names %s as its authenticated sender, who is not on the roster",
               r->participant);
    return 0;
}

/* ---------------------------------------------------------------- one entry */

int psi_audit_entry(struct psi_audit *a, const unsigned char *bytes, size_t len)
{
    if (a == NULL || (bytes == NULL && len > 0))
        return PSI_ERR_INVALID;
    if (a->failed)
        return PSI_ERR_NOMEM;
    struct psi_logentry e;
    int rc = psi_logentry_decode(&e, bytes, len);
    a->index = a->summary.entries;
    a->summary.entries++;
    if (rc != 0) {
        a->kind = 0;
        a->summary.per_kind[0]++;
        return report(a, PSI_AUDIT_MALFORMED, "the entry (%zu bytes) does not decode: %s", len,
                      psi_strerror(rc));
    }
    a->kind = (unsigned)e.kind;
    a->summary.per_kind[e.kind]++;
    switch (e.kind) {
    case PSI_LOGENTRY_ADMIT: rc = check_admit(a, &e.u.roster); break;
    case PSI_LOGENTRY_POLICY: rc = check_policy(a, &e.u.roster); break;
    case PSI_LOGENTRY_REMOVE: rc = check_remove(a, &e.u.roster); break;
    case PSI_LOGENTRY_EPOCH_KEY: rc = check_epoch_key(a, &e.u.epoch_key); break;
    case PSI_LOGENTRY_SUBMISSION: rc = check_submission(a, &e.u.submission); break;
    case PSI_LOGENTRY_CROSSBLIND: rc = check_crossblind(a, &e.u.crossblind); break;
    case PSI_LOGENTRY_MATCH: rc = check_match(a, &e.u.match); break;
    case PSI_LOGENTRY_REFUSAL: rc = check_refusal(a, &e.u.refusal); break;
    case PSI_LOGENTRY_FEED: rc = check_feed(a, &e.u.feed); break;
    case PSI_LOGENTRY_QUERY: rc = check_query(a, &e.u.query); break;
    case PSI_LOGENTRY_QUOTA: rc = check_quota(a, &e.u.quota); break;
    case PSI_LOGENTRY_ANSWER: rc = check_answer(a, &e.u.answer); break;
    case PSI_LOGENTRY_PARTY_POLICY: rc = check_party_policy(a, &e.u.party_policy); break;
    case PSI_LOGENTRY_ELEMENT_QUOTA: rc = check_element_quota(a, &e.u.element_quota); break;
    }
    if (rc == PSI_ERR_NOMEM)
        a->failed = 1;
    return rc;
}
