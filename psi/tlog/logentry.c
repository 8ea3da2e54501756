/* Audit log entries: canonical encoding and strict decoding (logentry.h). */
#include "psi/logentry.h"

#include <string.h>

#include "psi/error.h"
#include "psi/ident.h"

/* ---------------------------------------------------------------- field rules */

/* The rules are psi/ident.h's; the log adds only that a refusal's method may
 * be empty (unknown). */

/* A string field of n bytes at s (n from a u8 length), as its rule sees it:
 * NUL-terminated in a copy; refused if it holds a NUL itself (its encoding
 * would not be the string's). */
static int bytes_ok(const unsigned char *s, size_t n, int (*rule)(const char *))
{
    char copy[UINT8_MAX + 1U];
    if (n > UINT8_MAX || (n > 0 && memchr(s, '\0', n) != NULL))
        return 0;
    if (n > 0)
        memcpy(copy, s, n);
    copy[n] = '\0';
    return rule(copy);
}

static int method_or_empty(const char *s)
{
    return s[0] == '\0' || psi_method_name_is_valid(s);
}

/* Byte order of two strings, shorter first on a common prefix (memcmp of the
 * NUL-terminated strings would give the same order). */
static int bytes_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Walks `count` ids of an encoded share list within list[0..max_len): each a
 * valid id, strictly increasing, at most PSI_LOGENTRY_SHARE_MAX of them.
 * 0 and the bytes they take in *used, or PSI_ERR_PARSE. */
static int share_list_walk(const unsigned char *list, size_t max_len, size_t count, size_t *used)
{
    const unsigned char *prev = NULL;
    size_t prev_len = 0, off = 0;
    if (count > PSI_LOGENTRY_SHARE_MAX || (list == NULL && (max_len > 0 || count > 0)))
        return PSI_ERR_PARSE;
    for (size_t i = 0; i < count; i++) {
        if (off >= max_len)
            return PSI_ERR_PARSE;
        size_t len = list[off];
        const unsigned char *id = list + off + 1U;
        if (len > max_len - off - 1U || !bytes_ok(id, len, psi_id_is_valid) ||
            (prev != NULL && bytes_cmp(prev, prev_len, id, len) >= 0))
            return PSI_ERR_PARSE;
        prev = id;
        prev_len = len;
        off += 1U + len;
    }
    *used = off;
    return 0;
}

/* ---------------------------------------------------------------- writer */

struct writer {
    unsigned char *out;
    size_t cap;
    size_t len; /* counts on past cap, so the caller learns the size needed */
};

static void put_bytes(struct writer *w, const void *bytes, size_t len)
{
    if (w->len <= w->cap && len <= w->cap - w->len && len > 0)
        memcpy(w->out + w->len, bytes, len);
    w->len += len;
}

static void put_u8(struct writer *w, unsigned v)
{
    unsigned char b = (unsigned char)v;
    put_bytes(w, &b, 1);
}

static void put_u16(struct writer *w, size_t v)
{
    unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    put_bytes(w, b, 2);
}

static void put_u32(struct writer *w, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put_bytes(w, b, 4);
}

static void put_u64(struct writer *w, uint64_t v)
{
    unsigned char b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)v;
        v >>= 8;
    }
    put_bytes(w, b, 8);
}

/* The string fields are checked before anything is written. */
static void put_str(struct writer *w, const char *s)
{
    size_t n = strlen(s);
    put_u8(w, (unsigned)n);
    put_bytes(w, s, n);
}

static int id_ok(const char *s)
{
    return psi_id_is_valid(s);
}

static int epoch_ok(const char *s)
{
    return psi_epoch_label_is_valid(s);
}

/* A fixed-size field: read no further than its last byte. */
static int method_ok(const char *s)
{
    return strnlen(s, PSI_LOGENTRY_METHOD_MAX + 1U) <= PSI_LOGENTRY_METHOD_MAX &&
           method_or_empty(s);
}

static int flag_ok(int v)
{
    return v == 0 || v == 1;
}

static int role_ok(unsigned role)
{
    return psi_role_is_valid(role);
}

static int check_roster(const struct psi_logentry_roster *r)
{
    size_t used = 0;
    if (!id_ok(r->participant) || !role_ok((unsigned)r->role) || !flag_ok(r->share_all) ||
        !flag_ok(r->contribute_only))
        return PSI_ERR_INVALID;
    if (share_list_walk(r->share_list, r->share_list_len, r->share_count, &used) != 0 ||
        used != r->share_list_len || (r->share_all && r->share_count > 0))
        return PSI_ERR_INVALID;
    return 0;
}

static int check_party_policy(const struct psi_logentry_party_policy *p)
{
    size_t used = 0;
    if (!id_ok(p->participant) || !flag_ok(p->share_all) || !flag_ok(p->contribute_only))
        return PSI_ERR_INVALID;
    if (share_list_walk(p->share_list, p->share_list_len, p->share_count, &used) != 0 ||
        used != p->share_list_len || (p->share_all && p->share_count > 0))
        return PSI_ERR_INVALID;
    return 0;
}

static int check_entry(const struct psi_logentry *e)
{
    switch (e->kind) {
    case PSI_LOGENTRY_ADMIT:
    case PSI_LOGENTRY_POLICY:
    case PSI_LOGENTRY_REMOVE: return check_roster(&e->u.roster);
    case PSI_LOGENTRY_EPOCH_KEY:
        return id_ok(e->u.epoch_key.participant) && epoch_ok(e->u.epoch_key.epoch)
                   ? 0
                   : PSI_ERR_INVALID;
    case PSI_LOGENTRY_SUBMISSION:
        return id_ok(e->u.submission.participant) && epoch_ok(e->u.submission.epoch) &&
                       e->u.submission.count > 0
                   ? 0
                   : PSI_ERR_INVALID;
    case PSI_LOGENTRY_CROSSBLIND:
        return id_ok(e->u.crossblind.participant) && e->u.crossblind.count > 0 ? 0
                                                                               : PSI_ERR_INVALID;
    case PSI_LOGENTRY_MATCH: {
        const struct psi_logentry_match *m = &e->u.match;
        if (!epoch_ok(m->epoch) || !id_ok(m->participant_a) || !id_ok(m->participant_b))
            return PSI_ERR_INVALID;
        return strcmp(m->participant_a, m->participant_b) < 0 ? 0 : PSI_ERR_INVALID;
    }
    case PSI_LOGENTRY_REFUSAL: {
        const struct psi_logentry_refusal *r = &e->u.refusal;
        if (r->code >= 0 || !flag_ok(r->authenticated) || !method_ok(r->method))
            return PSI_ERR_INVALID;
        if (r->participant[0] == '\0')
            return r->authenticated ? PSI_ERR_INVALID : 0;
        return id_ok(r->participant) ? 0 : PSI_ERR_INVALID;
    }
    case PSI_LOGENTRY_FEED:
        return id_ok(e->u.feed.participant) && epoch_ok(e->u.feed.epoch) ? 0 : PSI_ERR_INVALID;
    case PSI_LOGENTRY_QUERY:
        return id_ok(e->u.query.participant) && id_ok(e->u.query.vendor) &&
                       epoch_ok(e->u.query.epoch) && e->u.query.count > 0
                   ? 0
                   : PSI_ERR_INVALID;
    case PSI_LOGENTRY_QUOTA:
        return id_ok(e->u.quota.agency) && id_ok(e->u.quota.vendor) ? 0 : PSI_ERR_INVALID;
    case PSI_LOGENTRY_ANSWER:
        return id_ok(e->u.answer.vendor) && id_ok(e->u.answer.agency) &&
                       epoch_ok(e->u.answer.epoch) && e->u.answer.count > 0
                   ? 0
                   : PSI_ERR_INVALID;
    case PSI_LOGENTRY_PARTY_POLICY: return check_party_policy(&e->u.party_policy);
    case PSI_LOGENTRY_ELEMENT_QUOTA:
        return id_ok(e->u.element_quota.participant) ? 0 : PSI_ERR_INVALID;
    }
    return PSI_ERR_INVALID;
}

/* The flags, share count and share list, as roster and party-policy entries
 * and the policy statement write them. */
static void put_policy(struct writer *w, int share_all, int contribute_only, size_t share_count,
                       const unsigned char *share_list, size_t share_list_len)
{
    put_u8(w, (unsigned)share_all | (unsigned)contribute_only << 1);
    put_u16(w, share_count);
    put_bytes(w, share_list, share_list_len);
}

int psi_logentry_encode(unsigned char *out, size_t out_cap, size_t *out_len,
                        const struct psi_logentry *e)
{
    if (e == NULL || out_len == NULL || (out == NULL && out_cap > 0))
        return PSI_ERR_INVALID;
    int rc = check_entry(e);
    if (rc != 0)
        return rc;
    struct writer w = {out, out_cap, 0};
    put_u8(&w, PSI_LOGENTRY_VERSION);
    put_u8(&w, (unsigned)e->kind);
    put_u64(&w, e->time_ms);
    switch (e->kind) {
    case PSI_LOGENTRY_ADMIT:
    case PSI_LOGENTRY_POLICY:
    case PSI_LOGENTRY_REMOVE: {
        const struct psi_logentry_roster *r = &e->u.roster;
        put_str(&w, r->participant);
        put_u8(&w, (unsigned)r->role);
        put_bytes(&w, r->public_key, PSI_LOGENTRY_KEY_BYTES);
        put_policy(&w, r->share_all, r->contribute_only, r->share_count, r->share_list,
                   r->share_list_len);
        break;
    }
    case PSI_LOGENTRY_EPOCH_KEY:
        put_str(&w, e->u.epoch_key.participant);
        put_str(&w, e->u.epoch_key.epoch);
        put_bytes(&w, e->u.epoch_key.public_key, PSI_LOGENTRY_KEY_BYTES);
        put_bytes(&w, e->u.epoch_key.signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        break;
    case PSI_LOGENTRY_SUBMISSION: {
        const struct psi_logentry_submission *s = &e->u.submission;
        put_str(&w, s->participant);
        put_str(&w, s->epoch);
        put_u64(&w, s->submission_id);
        put_u64(&w, s->count);
        put_u64(&w, s->position_base);
        put_bytes(&w, s->digest, PSI_LOGENTRY_DIGEST_BYTES);
        put_bytes(&w, s->signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        break;
    }
    case PSI_LOGENTRY_CROSSBLIND: {
        const struct psi_logentry_crossblind *c = &e->u.crossblind;
        put_str(&w, c->participant);
        put_u64(&w, c->submission_id);
        put_u64(&w, c->count);
        put_bytes(&w, c->tag_digest, PSI_LOGENTRY_DIGEST_BYTES);
        put_bytes(&w, c->signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        break;
    }
    case PSI_LOGENTRY_MATCH: {
        const struct psi_logentry_match *m = &e->u.match;
        put_str(&w, m->epoch);
        put_str(&w, m->participant_a);
        put_str(&w, m->participant_b);
        put_u64(&w, m->matched_a);
        put_u64(&w, m->matched_b);
        break;
    }
    case PSI_LOGENTRY_REFUSAL: {
        const struct psi_logentry_refusal *r = &e->u.refusal;
        /* code < 0 was checked; -INT32_MIN fits a uint32_t. */
        put_u32(&w, (uint32_t)(-(int64_t)r->code));
        put_u8(&w, (unsigned)r->authenticated);
        put_str(&w, r->participant);
        put_str(&w, r->method);
        put_bytes(&w, r->frame_digest, PSI_LOGENTRY_DIGEST_BYTES);
        break;
    }
    case PSI_LOGENTRY_FEED:
        put_str(&w, e->u.feed.participant);
        put_str(&w, e->u.feed.epoch);
        put_u64(&w, e->u.feed.count);
        put_u64(&w, e->u.feed.size);
        put_bytes(&w, e->u.feed.feed_digest, PSI_LOGENTRY_DIGEST_BYTES);
        put_bytes(&w, e->u.feed.signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        break;
    case PSI_LOGENTRY_QUERY:
        put_str(&w, e->u.query.participant);
        put_str(&w, e->u.query.vendor);
        put_str(&w, e->u.query.epoch);
        put_u64(&w, e->u.query.count);
        put_bytes(&w, e->u.query.elements_digest, PSI_LOGENTRY_DIGEST_BYTES);
        put_bytes(&w, e->u.query.signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        break;
    case PSI_LOGENTRY_QUOTA:
        put_str(&w, e->u.quota.agency);
        put_str(&w, e->u.quota.vendor);
        put_u64(&w, e->u.quota.limit);
        break;
    case PSI_LOGENTRY_ANSWER: {
        const struct psi_logentry_answer *a = &e->u.answer;
        put_str(&w, a->vendor);
        put_str(&w, a->agency);
        put_str(&w, a->epoch);
        put_u64(&w, a->query_index);
        put_u64(&w, a->count);
        put_bytes(&w, a->public_key, PSI_LOGENTRY_KEY_BYTES);
        put_bytes(&w, a->answer_digest, PSI_LOGENTRY_DIGEST_BYTES);
        break;
    }
    case PSI_LOGENTRY_PARTY_POLICY: {
        const struct psi_logentry_party_policy *p = &e->u.party_policy;
        put_str(&w, p->participant);
        put_u64(&w, p->issued_ms);
        put_policy(&w, p->share_all, p->contribute_only, p->share_count, p->share_list,
                   p->share_list_len);
        put_bytes(&w, p->signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        break;
    }
    case PSI_LOGENTRY_ELEMENT_QUOTA:
        put_str(&w, e->u.element_quota.participant);
        put_u64(&w, e->u.element_quota.limit);
        break;
    }
    *out_len = w.len;
    return w.len <= out_cap ? 0 : PSI_ERR_TOO_LARGE;
}

/* ---------------------------------------------------------------- reader */

struct reader {
    const unsigned char *in;
    size_t len;
    size_t off;
    int bad; /* set by the first read past the end or field that breaks its rule */
};

static const unsigned char *take(struct reader *r, size_t n)
{
    if (r->bad || n > r->len - r->off) {
        r->bad = 1;
        return NULL;
    }
    const unsigned char *p = r->in + r->off;
    r->off += n;
    return p;
}

static unsigned get_u8(struct reader *r)
{
    const unsigned char *p = take(r, 1);
    return p ? p[0] : 0U;
}

static size_t get_u16(struct reader *r)
{
    const unsigned char *p = take(r, 2);
    return p ? (size_t)p[0] << 8 | p[1] : 0U;
}

static uint32_t get_u32(struct reader *r)
{
    const unsigned char *p = take(r, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0U;
}

static uint64_t get_u64(struct reader *r)
{
    const unsigned char *p = take(r, 8);
    uint64_t v = 0;
    if (p != NULL)
        for (int i = 0; i < 8; i++)
            v = v << 8 | p[i];
    return v;
}

static void get_fixed(struct reader *r, unsigned char *out, size_t n)
{
    const unsigned char *p = take(r, n);
    if (p != NULL)
        memcpy(out, p, n);
    else
        memset(out, 0, n);
}

enum str_rule { STR_ID, STR_ID_OR_EMPTY, STR_EPOCH, STR_METHOD };

/* A u8-length string into out (room for max + 1), checked against its rule. */
static void get_str(struct reader *r, char *out, size_t max, enum str_rule rule)
{
    out[0] = '\0';
    size_t n = get_u8(r);
    const unsigned char *p = take(r, n);
    if (p == NULL)
        return;
    int ok = 0;
    switch (rule) {
    case STR_ID: ok = bytes_ok(p, n, psi_id_is_valid); break;
    case STR_ID_OR_EMPTY: ok = n == 0 || bytes_ok(p, n, psi_id_is_valid); break;
    case STR_EPOCH: ok = bytes_ok(p, n, psi_epoch_label_is_valid); break;
    case STR_METHOD: ok = bytes_ok(p, n, method_or_empty); break;
    }
    if (!ok || n > max) {
        r->bad = 1;
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Flags, share count and share list (see put_policy); the list points into
 * the input. */
static void get_policy(struct reader *r, int *share_all, int *contribute_only, size_t *share_count,
                       const unsigned char **share_list, size_t *share_list_len)
{
    unsigned flags = get_u8(r);
    if (flags > 3U)
        r->bad = 1;
    *share_all = (int)(flags & 1U);
    *contribute_only = (int)(flags >> 1 & 1U);
    *share_count = get_u16(r);
    if (r->bad || *share_count > PSI_LOGENTRY_SHARE_MAX || (*share_all && *share_count > 0)) {
        r->bad = 1;
        return;
    }
    size_t used = 0;
    if (share_list_walk(r->in + r->off, r->len - r->off, *share_count, &used) != 0) {
        r->bad = 1;
        return;
    }
    *share_list = used ? r->in + r->off : NULL;
    *share_list_len = used;
    r->off += used;
}

static void get_roster(struct reader *r, struct psi_logentry_roster *ro)
{
    get_str(r, ro->participant, PSI_LOGENTRY_ID_MAX, STR_ID);
    unsigned role = get_u8(r);
    if (!role_ok(role))
        r->bad = 1;
    ro->role = (enum psi_role)role;
    get_fixed(r, ro->public_key, PSI_LOGENTRY_KEY_BYTES);
    get_policy(r, &ro->share_all, &ro->contribute_only, &ro->share_count, &ro->share_list,
               &ro->share_list_len);
}

int psi_logentry_decode(struct psi_logentry *e, const unsigned char *in, size_t in_len)
{
    if (e == NULL || (in == NULL && in_len > 0))
        return PSI_ERR_INVALID;
    memset(e, 0, sizeof *e);
    struct reader r = {in, in_len, 0, 0};
    unsigned version = get_u8(&r);
    unsigned kind = get_u8(&r);
    if (r.bad)
        return PSI_ERR_PARSE;
    if (version != PSI_LOGENTRY_VERSION || kind == 0 || kind > PSI_LOGENTRY_KIND_MAX)
        return PSI_ERR_UNSUPPORTED;
    e->kind = (enum psi_logentry_kind)kind;
    e->time_ms = get_u64(&r);
    switch (e->kind) {
    case PSI_LOGENTRY_ADMIT:
    case PSI_LOGENTRY_POLICY:
    case PSI_LOGENTRY_REMOVE: get_roster(&r, &e->u.roster); break;
    case PSI_LOGENTRY_EPOCH_KEY:
        get_str(&r, e->u.epoch_key.participant, PSI_LOGENTRY_ID_MAX, STR_ID);
        get_str(&r, e->u.epoch_key.epoch, PSI_LOGENTRY_EPOCH_MAX, STR_EPOCH);
        get_fixed(&r, e->u.epoch_key.public_key, PSI_LOGENTRY_KEY_BYTES);
        get_fixed(&r, e->u.epoch_key.signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        break;
    case PSI_LOGENTRY_SUBMISSION: {
        struct psi_logentry_submission *s = &e->u.submission;
        get_str(&r, s->participant, PSI_LOGENTRY_ID_MAX, STR_ID);
        get_str(&r, s->epoch, PSI_LOGENTRY_EPOCH_MAX, STR_EPOCH);
        s->submission_id = get_u64(&r);
        s->count = get_u64(&r);
        s->position_base = get_u64(&r);
        get_fixed(&r, s->digest, PSI_LOGENTRY_DIGEST_BYTES);
        get_fixed(&r, s->signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        if (s->count == 0)
            r.bad = 1;
        break;
    }
    case PSI_LOGENTRY_CROSSBLIND: {
        struct psi_logentry_crossblind *c = &e->u.crossblind;
        get_str(&r, c->participant, PSI_LOGENTRY_ID_MAX, STR_ID);
        c->submission_id = get_u64(&r);
        c->count = get_u64(&r);
        get_fixed(&r, c->tag_digest, PSI_LOGENTRY_DIGEST_BYTES);
        get_fixed(&r, c->signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        if (c->count == 0)
            r.bad = 1;
        break;
    }
    case PSI_LOGENTRY_MATCH: {
        struct psi_logentry_match *m = &e->u.match;
        get_str(&r, m->epoch, PSI_LOGENTRY_EPOCH_MAX, STR_EPOCH);
        get_str(&r, m->participant_a, PSI_LOGENTRY_ID_MAX, STR_ID);
        get_str(&r, m->participant_b, PSI_LOGENTRY_ID_MAX, STR_ID);
        m->matched_a = get_u64(&r);
        m->matched_b = get_u64(&r);
        if (!r.bad && strcmp(m->participant_a, m->participant_b) >= 0)
            r.bad = 1;
        break;
    }
    case PSI_LOGENTRY_REFUSAL: {
        struct psi_logentry_refusal *f = &e->u.refusal;
        uint32_t magnitude = get_u32(&r);
        unsigned authenticated = get_u8(&r);
        get_str(&r, f->participant, PSI_LOGENTRY_ID_MAX, STR_ID_OR_EMPTY);
        get_str(&r, f->method, PSI_LOGENTRY_METHOD_MAX, STR_METHOD);
        get_fixed(&r, f->frame_digest, PSI_LOGENTRY_DIGEST_BYTES);
        if (magnitude == 0 || magnitude > (uint32_t)INT32_MAX + 1U || authenticated > 1U ||
            (authenticated && f->participant[0] == '\0'))
            r.bad = 1;
        f->code = magnitude > (uint32_t)INT32_MAX ? INT32_MIN : -(int32_t)magnitude;
        f->authenticated = (int)authenticated;
        break;
    }
    case PSI_LOGENTRY_FEED:
        get_str(&r, e->u.feed.participant, PSI_LOGENTRY_ID_MAX, STR_ID);
        get_str(&r, e->u.feed.epoch, PSI_LOGENTRY_EPOCH_MAX, STR_EPOCH);
        e->u.feed.count = get_u64(&r);
        e->u.feed.size = get_u64(&r);
        get_fixed(&r, e->u.feed.feed_digest, PSI_LOGENTRY_DIGEST_BYTES);
        get_fixed(&r, e->u.feed.signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        break;
    case PSI_LOGENTRY_QUERY:
        get_str(&r, e->u.query.participant, PSI_LOGENTRY_ID_MAX, STR_ID);
        get_str(&r, e->u.query.vendor, PSI_LOGENTRY_ID_MAX, STR_ID);
        get_str(&r, e->u.query.epoch, PSI_LOGENTRY_EPOCH_MAX, STR_EPOCH);
        e->u.query.count = get_u64(&r);
        get_fixed(&r, e->u.query.elements_digest, PSI_LOGENTRY_DIGEST_BYTES);
        get_fixed(&r, e->u.query.signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        if (e->u.query.count == 0)
            r.bad = 1;
        break;
    case PSI_LOGENTRY_QUOTA:
        get_str(&r, e->u.quota.agency, PSI_LOGENTRY_ID_MAX, STR_ID);
        get_str(&r, e->u.quota.vendor, PSI_LOGENTRY_ID_MAX, STR_ID);
        e->u.quota.limit = get_u64(&r);
        break;
    case PSI_LOGENTRY_ANSWER: {
        struct psi_logentry_answer *a = &e->u.answer;
        get_str(&r, a->vendor, PSI_LOGENTRY_ID_MAX, STR_ID);
        get_str(&r, a->agency, PSI_LOGENTRY_ID_MAX, STR_ID);
        get_str(&r, a->epoch, PSI_LOGENTRY_EPOCH_MAX, STR_EPOCH);
        a->query_index = get_u64(&r);
        a->count = get_u64(&r);
        get_fixed(&r, a->public_key, PSI_LOGENTRY_KEY_BYTES);
        get_fixed(&r, a->answer_digest, PSI_LOGENTRY_DIGEST_BYTES);
        if (a->count == 0)
            r.bad = 1;
        break;
    }
    case PSI_LOGENTRY_PARTY_POLICY: {
        struct psi_logentry_party_policy *p = &e->u.party_policy;
        get_str(&r, p->participant, PSI_LOGENTRY_ID_MAX, STR_ID);
        p->issued_ms = get_u64(&r);
        get_policy(&r, &p->share_all, &p->contribute_only, &p->share_count, &p->share_list,
                   &p->share_list_len);
        get_fixed(&r, p->signature, PSI_LOGENTRY_SIGNATURE_BYTES);
        break;
    }
    case PSI_LOGENTRY_ELEMENT_QUOTA:
        get_str(&r, e->u.element_quota.participant, PSI_LOGENTRY_ID_MAX, STR_ID);
        e->u.element_quota.limit = get_u64(&r);
        break;
    }
    if (r.bad || r.off != r.len) {
        memset(e, 0, sizeof *e);
        return PSI_ERR_PARSE;
    }
    return 0;
}

/* ---------------------------------------------------------------- share lists */

int psi_logentry_share_list_build(unsigned char *out, size_t out_cap, size_t *out_len,
                                  const char *const *ids, size_t count)
{
    if (out_len == NULL || (ids == NULL && count > 0) || (out == NULL && out_cap > 0) ||
        count > PSI_LOGENTRY_SHARE_MAX)
        return PSI_ERR_INVALID;
    struct writer w = {out, out_cap, 0};
    for (size_t i = 0; i < count; i++) {
        if (!id_ok(ids[i]) || (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0))
            return PSI_ERR_INVALID;
        put_str(&w, ids[i]);
    }
    *out_len = w.len;
    return w.len <= out_cap ? 0 : PSI_ERR_TOO_LARGE;
}

int psi_logentry_share_next(const unsigned char *list, size_t list_len, size_t *offset,
                            char id[PSI_LOGENTRY_ID_MAX + 1U])
{
    if (offset == NULL || id == NULL || (list == NULL && list_len > 0))
        return PSI_ERR_INVALID;
    id[0] = '\0';
    if (*offset >= list_len)
        return PSI_ERR_NOT_FOUND;
    size_t len = list[*offset];
    if (len > list_len - *offset - 1U || len > PSI_LOGENTRY_ID_MAX)
        return PSI_ERR_PARSE;
    memcpy(id, list + *offset + 1U, len);
    id[len] = '\0';
    *offset += 1U + len;
    return 0;
}

int psi_logentry_share_list_has(const unsigned char *list, size_t list_len, const char *id)
{
    if (id == NULL || (list == NULL && list_len > 0))
        return 0;
    size_t want = strlen(id), off = 0;
    while (off < list_len) {
        size_t len = list[off];
        if (len > list_len - off - 1U)
            return 0;
        if (len == want && memcmp(list + off + 1U, id, len) == 0)
            return 1;
        off += 1U + len;
    }
    return 0;
}

int psi_logentry_roster_allows(const struct psi_logentry_roster *roster, const char *id)
{
    if (roster == NULL || id == NULL)
        return 0;
    if (roster->share_all)
        return 1;
    return psi_logentry_share_list_has(roster->share_list, roster->share_list_len, id);
}

/* ---------------------------------------------------------------- policy statements */

static const char POLICY_SIG_CONTEXT[] = "psi/policy-sig/v1"; /* sizeof counts the 0x00 */

int psi_policy_statement(unsigned char *out, size_t out_cap, size_t *out_len,
                         const unsigned char hub_key[PSI_LOGENTRY_KEY_BYTES],
                         const struct psi_logentry_party_policy *p)
{
    if (out_len == NULL || hub_key == NULL || p == NULL || (out == NULL && out_cap > 0))
        return PSI_ERR_INVALID;
    int rc = check_party_policy(p);
    if (rc != 0)
        return rc;
    struct writer w = {out, out_cap, 0};
    put_bytes(&w, POLICY_SIG_CONTEXT, sizeof POLICY_SIG_CONTEXT);
    put_bytes(&w, hub_key, PSI_LOGENTRY_KEY_BYTES);
    put_str(&w, p->participant);
    put_u64(&w, p->issued_ms);
    put_policy(&w, p->share_all, p->contribute_only, p->share_count, p->share_list,
               p->share_list_len);
    *out_len = w.len;
    return w.len <= out_cap ? 0 : PSI_ERR_TOO_LARGE;
}

/* ---------------------------------------------------------------- names */

const char *psi_logentry_kind_name(unsigned kind)
{
    static const char *const names[PSI_LOGENTRY_KIND_MAX + 1U] = {
        "unknown",    "admit",      "policy", "remove",       "epoch-key",
        "submission", "crossblind", "match",  "refusal",      "feed",
        "query",      "quota",      "answer", "party-policy", "element-quota",
    };
    return kind <= PSI_LOGENTRY_KIND_MAX ? names[kind] : names[0];
}
