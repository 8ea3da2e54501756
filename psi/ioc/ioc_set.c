/*
 * The de-duplicating set of canonical indicators (psi_ioc_set_*, declared in
 * psi/indicator.h): insertion order kept, values stored once in chunks that
 * never move, counts of what was read, kept, duplicated and skipped. Its hash
 * table is keyed with a random SipHash key (crypto_shorthash), so a hostile
 * feed cannot make it slow.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

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
    free(set);
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

int psi_ioc_set_add(struct psi_ioc_set *set, const struct psi_ioc *ioc)
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
    return 0;
}

void psi_ioc_set_skip(struct psi_ioc_set *set, enum psi_ioc_skip reason, const char *name)
{
    if (set == NULL || (unsigned)reason >= PSI_IOC_SKIP_COUNT)
        return;
    set->stats.read++;
    set->stats.skipped[reason]++;
    if (reason != PSI_IOC_SKIP_UNSUPPORTED || name == NULL)
        return;
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
        psi_ioc_set_skip(set, reason, NULL);
        if (why != NULL)
            *why = reason;
        return rc;
    }
    if (rc != PSI_OK)
        return rc;
    return psi_ioc_set_add(set, &ioc);
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
