/*
 * The de-duplicating set of canonical indicators (psi_ioc_set_*, declared in
 * psi/indicator.h): insertion order kept, values stored once in chunks that
 * never move, counts of what was read, kept, duplicated and skipped. Its hash
 * table is keyed with a random SipHash key (crypto_shorthash), so a hostile
 * feed cannot make it slow.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ioc_set_impl.h"
#include "psi/error.h"
#include "psi/indicator.h"

struct member {
    const char *value;
    uint64_t hash;
    uint32_t len;
    uint8_t type;
};

/* Values live in chunks that never move, so references stay valid. */
struct chunk {
    struct chunk *next;
    size_t used, cap;
    char bytes[];
};

#define CHUNK_BYTES ((size_t)64 * 1024)

struct unsupported_name {
    char name[PSI_IOC_UNSUPPORTED_NAME_MAX + 1];
    uint64_t count;
};

/* An excluded range: network bytes (IPv4 in the first 4) and prefix. */
struct range {
    unsigned char net[16];
    unsigned bits;
    bool v6;
};

/* The party's own exclusions: exact canonical values (a set of their own,
 * without exclusions) and ranges, scanned in order (a party's list of its
 * own ranges is short). */
struct exclusions {
    struct psi_ioc_set *exact;
    struct range *ranges;
    size_t nranges, cap;
};

struct psi_ioc_set {
    struct member *members;
    size_t count, cap;
    size_t *slots; /* member index + 1; 0 is empty. Power-of-two size. */
    size_t nslots;
    struct chunk *chunks;
    unsigned char key[crypto_shorthash_KEYBYTES];
    struct psi_ioc_stats stats;
    struct unsupported_name names[PSI_IOC_UNSUPPORTED_NAMES_MAX];
    size_t nnames;
    uint64_t other_names;
    struct exclusions excl;
    psi_ioc_observer observer;
    void *observer_ctx;
    const struct psi_ioc_origin *origin;
};

int psi_ioc_set_new(struct psi_ioc_set **out)
{
    if (out == NULL)
        return PSI_ERR_INVALID;
    *out = NULL;
    if (sodium_init() < 0)
        return PSI_ERR_CRYPTO;
    struct psi_ioc_set *set = calloc(1, sizeof *set);
    if (set == NULL)
        return PSI_ERR_NOMEM;
    randombytes_buf(set->key, sizeof set->key);
    *out = set;
    return PSI_OK;
}

void psi_ioc_set_free(struct psi_ioc_set *set)
{
    if (set == NULL)
        return;
    struct chunk *c = set->chunks;
    while (c != NULL) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    free(set->members);
    free(set->slots);
    psi_ioc_set_free(set->excl.exact);
    free(set->excl.ranges);
    free(set);
}

static void notify(const struct psi_ioc_set *set, enum psi_ioc_outcome outcome, size_t index,
                   enum psi_ioc_skip reason, const char *kind, const char *in, size_t len)
{
    static const struct psi_ioc_origin nowhere = {NULL, 0, NULL, NULL, NULL, -1};
    if (set->observer == NULL)
        return;
    struct psi_ioc_seen seen = {outcome,
                                index,
                                reason,
                                kind,
                                in,
                                in == NULL ? 0 : len,
                                set->origin != NULL ? set->origin : &nowhere};
    set->observer(set->observer_ctx, &seen);
}

void psi_ioc_set_observe(struct psi_ioc_set *set, psi_ioc_observer fn, void *ctx)
{
    if (set == NULL)
        return;
    set->observer = fn;
    set->observer_ctx = ctx;
}

void psi_ioc_set_origin(struct psi_ioc_set *set, const struct psi_ioc_origin *origin)
{
    if (set != NULL)
        set->origin = origin;
}

static uint64_t member_hash(const struct psi_ioc_set *set, enum psi_ioc_type type,
                            const char *value, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v = 0;
    crypto_shorthash(h, (const unsigned char *)value, len, set->key);
    for (size_t i = 0; i < 8; i++)
        v = (v << 8) | h[i];
    return v ^ ((uint64_t)type * 0x9e3779b97f4a7c15u);
}

/* Linear probing: returns the slot holding the value or the empty slot where
 * it would go. The table is never more than half full. */
static size_t probe(const struct psi_ioc_set *set, uint64_t hash, enum psi_ioc_type type,
                    const char *value, size_t len)
{
    size_t mask = set->nslots - 1;
    size_t i = (size_t)hash & mask;
    for (;;) {
        size_t s = set->slots[i];
        if (s == 0)
            return i;
        const struct member *m = &set->members[s - 1];
        if (m->hash == hash && m->type == type && m->len == len &&
            memcmp(m->value, value, len) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

static int grow_slots(struct psi_ioc_set *set)
{
    size_t n = set->nslots == 0 ? 64 : set->nslots;
    while (n / 2 <= set->count + 1) {
        if (n > SIZE_MAX / 2 / sizeof(size_t))
            return PSI_ERR_NOMEM;
        n *= 2;
    }
    if (n == set->nslots)
        return PSI_OK;
    size_t *slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return PSI_ERR_NOMEM;
    free(set->slots);
    set->slots = slots;
    set->nslots = n;
    for (size_t k = 0; k < set->count; k++) {
        const struct member *m = &set->members[k];
        size_t i = (size_t)m->hash & (n - 1);
        while (slots[i] != 0)
            i = (i + 1) & (n - 1);
        slots[i] = k + 1;
    }
    return PSI_OK;
}

static const char *store_value(struct psi_ioc_set *set, const char *value, size_t len)
{
    struct chunk *c = set->chunks;
    if (c == NULL || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > CHUNK_BYTES ? len + 1 : CHUNK_BYTES;
        c = malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->next = set->chunks;
        c->used = 0;
        c->cap = cap;
        set->chunks = c;
    }
    char *dst = c->bytes + c->used;
    memcpy(dst, value, len);
    dst[len] = '\0';
    c->used += len + 1;
    return dst;
}

static bool valid_member(enum psi_ioc_type type, const char *value, size_t len)
{
    return type != PSI_IOC_NONE && (unsigned)type < PSI_IOC_TYPE_COUNT && value != NULL &&
           len > 0 && len <= PSI_IOC_VALUE_MAX;
}

static int add_from(struct psi_ioc_set *set, const struct psi_ioc *ioc, const char *in, size_t len)
{
    if (set == NULL || ioc == NULL || !valid_member(ioc->type, ioc->value, ioc->len))
        return PSI_ERR_INVALID;
    if ((set->count + 1) * 2 >= set->nslots) {
        int rc = grow_slots(set);
        if (rc != PSI_OK)
            return rc;
    }
    uint64_t hash = member_hash(set, ioc->type, ioc->value, ioc->len);
    size_t slot = probe(set, hash, ioc->type, ioc->value, ioc->len);
    set->stats.read++;
    if (set->slots[slot] != 0) {
        set->stats.duplicates++;
        notify(set, PSI_IOC_OUTCOME_DUPLICATE, set->slots[slot] - 1, PSI_IOC_SKIP_UNSUPPORTED, NULL,
               in, len);
        return 1;
    }
    if (set->count == set->cap) {
        size_t cap = set->cap == 0 ? 256 : set->cap * 2;
        if (cap > SIZE_MAX / sizeof(struct member)) {
            set->stats.read--;
            return PSI_ERR_NOMEM;
        }
        struct member *m = realloc(set->members, cap * sizeof *m);
        if (m == NULL) {
            set->stats.read--;
            return PSI_ERR_NOMEM;
        }
        set->members = m;
        set->cap = cap;
    }
    const char *stored = store_value(set, ioc->value, ioc->len);
    if (stored == NULL) {
        set->stats.read--;
        return PSI_ERR_NOMEM;
    }
    struct member *m = &set->members[set->count];
    m->value = stored;
    m->hash = hash;
    m->len = (uint32_t)ioc->len;
    m->type = (uint8_t)ioc->type;
    set->slots[slot] = ++set->count;
    set->stats.kept++;
    notify(set, PSI_IOC_OUTCOME_KEPT, set->count - 1, PSI_IOC_SKIP_UNSUPPORTED, NULL, in, len);
    return 0;
}

int psi_ioc_set_add(struct psi_ioc_set *set, const struct psi_ioc *ioc)
{
    return add_from(set, ioc, NULL, 0);
}

void psi_ioc_set_skip(struct psi_ioc_set *set, enum psi_ioc_skip reason, const char *name)
{
    psi_ioc_set_skip_value(set, reason, name, NULL, 0);
}

static void count_name(struct psi_ioc_set *set, const char *name);

void psi_ioc_set_skip_value(struct psi_ioc_set *set, enum psi_ioc_skip reason, const char *name,
                            const char *in, size_t len)
{
    if (set == NULL || (unsigned)reason >= PSI_IOC_SKIP_COUNT)
        return;
    set->stats.read++;
    set->stats.skipped[reason]++;
    if (reason != PSI_IOC_SKIP_UNSUPPORTED)
        name = NULL;
    if (name != NULL)
        count_name(set, name);
    notify(set, PSI_IOC_OUTCOME_SKIPPED, 0, reason, name, in, len);
}

static void count_name(struct psi_ioc_set *set, const char *name)
{
    size_t n = strlen(name);
    if (n > PSI_IOC_UNSUPPORTED_NAME_MAX)
        n = PSI_IOC_UNSUPPORTED_NAME_MAX;
    for (size_t i = 0; i < set->nnames; i++) {
        if (strncmp(set->names[i].name, name, n) == 0 && set->names[i].name[n] == '\0') {
            set->names[i].count++;
            return;
        }
    }
    if (set->nnames == PSI_IOC_UNSUPPORTED_NAMES_MAX) {
        set->other_names++;
        return;
    }
    memcpy(set->names[set->nnames].name, name, n);
    set->names[set->nnames].name[n] = '\0';
    set->names[set->nnames].count = 1;
    set->nnames++;
}

int psi_ioc_set_offer(struct psi_ioc_set *set, enum psi_ioc_type type, const char *in, size_t len,
                      enum psi_ioc_skip *why)
{
    struct psi_ioc ioc;
    enum psi_ioc_skip reason;
    int rc;
    if (set == NULL)
        return PSI_ERR_INVALID;
    if (type == PSI_IOC_NONE)
        rc = psi_ioc_canonicalise(in, len, &ioc, &reason);
    else
        rc = psi_ioc_canonicalise_as(type, in, len, &ioc, &reason);
    if (rc == PSI_ERR_UNSUPPORTED) {
        psi_ioc_set_skip_value(set, reason, NULL, in, len);
        if (why != NULL)
            *why = reason;
        return rc;
    }
    if (rc != PSI_OK)
        return rc;
    rc = psi_ioc_set_take(set, &ioc, in, len);
    if (rc == PSI_ERR_UNSUPPORTED && why != NULL)
        *why = PSI_IOC_SKIP_EXCLUDED;
    return rc;
}

/* ---- exclusions ---------------------------------------------------------- */

static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    size_t whole = bits / 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    unsigned rest = bits % 8;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

static bool host_bits_zero(const unsigned char *a, unsigned bits, unsigned total)
{
    for (unsigned i = bits; i < total; i++)
        if (a[i / 8] & (0x80u >> (i % 8)))
            return false;
    return true;
}

/* "a.b.c.d", "a.b.c.d/n", "x::y", "x::y/n" (no other spelling: callers pass
 * canonical values, or the trimmed text of an exclusion) into a range. */
static bool parse_range(const char *s, size_t len, struct range *out)
{
    char text[64];
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, s, len);
    text[len] = '\0';
    char *slash = strchr(text, '/');
    unsigned long bits = 0;
    bool has_bits = slash != NULL;
    if (has_bits) {
        *slash = '\0';
        const char *d = slash + 1;
        if (*d == '\0' || strlen(d) > 3)
            return false;
        for (; *d != '\0'; d++) {
            if (*d < '0' || *d > '9')
                return false;
            bits = bits * 10 + (unsigned long)(*d - '0');
        }
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->net) == 1) {
        out->v6 = false;
        out->bits = has_bits ? (unsigned)bits : 32;
        return out->bits <= 32;
    }
    if (inet_pton(AF_INET6, text, out->net) == 1) {
        out->v6 = true;
        out->bits = has_bits ? (unsigned)bits : 128;
        return out->bits <= 128;
    }
    return false;
}

static int add_range(struct exclusions *ex, const struct range *r)
{
    if (ex->nranges == ex->cap) {
        size_t cap = ex->cap == 0 ? 16 : ex->cap * 2;
        struct range *more = realloc(ex->ranges, cap * sizeof *more);
        if (more == NULL)
            return PSI_ERR_NOMEM;
        ex->ranges = more;
        ex->cap = cap;
    }
    ex->ranges[ex->nranges++] = *r;
    return PSI_OK;
}

static bool is_trim(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int psi_ioc_set_exclude(struct psi_ioc_set *set, const char *in, size_t len, enum psi_ioc_skip *why)
{
    enum psi_ioc_skip reason = PSI_IOC_SKIP_UNSUPPORTED;
    struct psi_ioc ioc;
    struct range range;
    if (set == NULL || (in == NULL && len > 0))
        return PSI_ERR_INVALID;
    if (in == NULL)
        in = "";
    int rc = psi_ioc_canonicalise(in, len, &ioc, &reason);
    if (rc == PSI_OK) {
        if (ioc.type == PSI_IOC_IPV4 || ioc.type == PSI_IOC_IPV6 || ioc.type == PSI_IOC_CIDR4 ||
            ioc.type == PSI_IOC_CIDR6) {
            if (!parse_range(ioc.value, ioc.len, &range))
                return PSI_ERR_INVALID; /* canonical addresses always parse */
            return add_range(&set->excl, &range);
        }
        if (set->excl.exact == NULL && (rc = psi_ioc_set_new(&set->excl.exact)) != PSI_OK)
            return rc;
        rc = psi_ioc_set_add(set->excl.exact, &ioc);
        return rc < 0 ? rc : PSI_OK;
    }
    if (rc != PSI_ERR_UNSUPPORTED)
        return rc;
    /* An address or range refused as reserved or generic ("10.0.0.0/8",
     * "0.0.0.0/0") can still be excluded: it is data about the party's own
     * networks, and excluding more than is ever kept is harmless. */
    while (len > 0 && is_trim(in[0])) {
        in++;
        len--;
    }
    while (len > 0 && is_trim(in[len - 1]))
        len--;
    if ((reason == PSI_IOC_SKIP_RESERVED || reason == PSI_IOC_SKIP_GENERIC) &&
        parse_range(in, len, &range)) {
        if (host_bits_zero(range.net, range.bits, range.v6 ? 128 : 32))
            return add_range(&set->excl, &range);
        reason = PSI_IOC_SKIP_AMBIGUOUS;
    }
    if (why != NULL)
        *why = reason;
    return PSI_ERR_UNSUPPORTED;
}

size_t psi_ioc_set_exclusion_count(const struct psi_ioc_set *set)
{
    if (set == NULL)
        return 0;
    return psi_ioc_set_count(set->excl.exact) + set->excl.nranges;
}

static bool excluded(const struct psi_ioc_set *set, const struct psi_ioc *ioc)
{
    const struct exclusions *ex = &set->excl;
    if (ex->exact != NULL &&
        psi_ioc_set_find(ex->exact, ioc->type, ioc->value, ioc->len, NULL) == PSI_OK)
        return true;
    if (ex->nranges == 0 || (ioc->type != PSI_IOC_IPV4 && ioc->type != PSI_IOC_IPV6 &&
                             ioc->type != PSI_IOC_CIDR4 && ioc->type != PSI_IOC_CIDR6))
        return false;
    struct range r;
    if (!parse_range(ioc->value, ioc->len, &r))
        return false;
    for (size_t i = 0; i < ex->nranges; i++) {
        const struct range *x = &ex->ranges[i];
        if (x->v6 == r.v6 && r.bits >= x->bits && prefix_equal(r.net, x->net, x->bits))
            return true;
    }
    return false;
}

int psi_ioc_set_take(struct psi_ioc_set *set, const struct psi_ioc *ioc, const char *in, size_t len)
{
    if (set == NULL || ioc == NULL)
        return PSI_ERR_INVALID;
    if (excluded(set, ioc)) {
        psi_ioc_set_skip_value(set, PSI_IOC_SKIP_EXCLUDED, NULL, in, len);
        return PSI_ERR_UNSUPPORTED;
    }
    return add_from(set, ioc, in, len);
}

size_t psi_ioc_set_count(const struct psi_ioc_set *set)
{
    return set == NULL ? 0 : set->count;
}

int psi_ioc_set_get(const struct psi_ioc_set *set, size_t index, struct psi_ioc_ref *out)
{
    if (set == NULL || out == NULL)
        return PSI_ERR_INVALID;
    if (index >= set->count)
        return PSI_ERR_NOT_FOUND;
    const struct member *m = &set->members[index];
    out->type = (enum psi_ioc_type)m->type;
    out->value = m->value;
    out->len = m->len;
    return PSI_OK;
}

int psi_ioc_set_find(const struct psi_ioc_set *set, enum psi_ioc_type type, const char *value,
                     size_t len, size_t *index)
{
    if (set == NULL || (value == NULL && len > 0))
        return PSI_ERR_INVALID;
    if (set->count == 0 || !valid_member(type, value, len))
        return PSI_ERR_NOT_FOUND;
    uint64_t hash = member_hash(set, type, value, len);
    size_t slot = probe(set, hash, type, value, len);
    if (set->slots[slot] == 0)
        return PSI_ERR_NOT_FOUND;
    if (index != NULL)
        *index = set->slots[slot] - 1;
    return PSI_OK;
}

const struct psi_ioc_stats *psi_ioc_set_stats(const struct psi_ioc_set *set)
{
    static const struct psi_ioc_stats none;
    return set == NULL ? &none : &set->stats;
}

size_t psi_ioc_set_unsupported_count(const struct psi_ioc_set *set)
{
    if (set == NULL)
        return 0;
    return set->nnames + (set->other_names > 0 ? 1 : 0);
}

int psi_ioc_set_unsupported(const struct psi_ioc_set *set, size_t i, const char **name,
                            uint64_t *count)
{
    if (set == NULL || name == NULL || count == NULL)
        return PSI_ERR_INVALID;
    if (i < set->nnames) {
        *name = set->names[i].name;
        *count = set->names[i].count;
        return PSI_OK;
    }
    if (i == set->nnames && set->other_names > 0) {
        *name = "(other)";
        *count = set->other_names;
        return PSI_OK;
    }
    return PSI_ERR_NOT_FOUND;
}
