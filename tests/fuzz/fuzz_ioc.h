/*
 * The checks the indicator targets share. Beyond "no crash", they hold the
 * readers and the canonicaliser to what psi/indicator.h and
 * psi/ioc_reader.h promise: a failed read says why; every value read is
 * counted once (read = kept + duplicates + skipped); a set holds only
 * canonical values, each found at its own index; and canonicalising a
 * canonical value gives it back unchanged (the fixed point that makes two
 * parties agree on bytes).
 */
#ifndef PSI_FUZZ_IOC_H
#define PSI_FUZZ_IOC_H

#include "fuzz.h"
#include "psi/indicator.h"
#include "psi/ioc_reader.h"

static inline void fuzz_ioc_check_fixed_point(enum psi_ioc_type type, const char *value, size_t len)
{
    struct psi_ioc again;
    enum psi_ioc_skip why = PSI_IOC_SKIP_UNSUPPORTED;
    int rc = psi_ioc_canonicalise_as(type, value, len, &again, &why);
    if (rc != 0 || again.type != type || again.len != len || memcmp(again.value, value, len) != 0) {
        fprintf(stderr, "fuzz: %s \"%.*s\" canonicalises to %s \"%s\" (rc %d, %s)\n",
                psi_ioc_type_name(type), (int)len, value, psi_ioc_type_name(again.type),
                rc == 0 ? again.value : "", rc, rc == 0 ? "-" : psi_ioc_skip_name(why));
        FUZZ_CHECK(0, "a canonical value is a fixed point of canonicalisation");
    }
}

/* Every value counted reaches the observer once, with an origin. */
static inline void fuzz_ioc_seen(void *ctx, const struct psi_ioc_seen *seen)
{
    FUZZ_CHECK(seen->origin != NULL, "an observed value has an origin");
    FUZZ_CHECK(seen->input != NULL || seen->input_len == 0, "no length without a value");
    (*(uint64_t *)ctx)++;
}

/* The bytes as a party's exclusion list, then as a file of `format` read
 * against it (every MISP attribute): exclusions never break the counts. */
static inline void fuzz_ioc_exclusions(enum psi_ioc_format format, const uint8_t *data, size_t size)
{
    struct psi_ioc_set *set = NULL;
    char err[256] = "";
    if (psi_ioc_set_new(&set) != 0)
        abort();
    int rc = psi_ioc_read_exclusions_buffer("fuzz", data, size, set, err, sizeof err);
    FUZZ_CHECK(rc == 0 || (rc == PSI_ERR_PARSE && err[0] != '\0'),
               "an exclusion list is taken or refused with a reason");
    struct psi_ioc_read_opts opts = {format, NULL, true};
    (void)psi_ioc_read_buffer_ex("fuzz", data, size, &opts, set, NULL, err, sizeof err);
    const struct psi_ioc_stats *stats = psi_ioc_set_stats(set);
    uint64_t skipped = 0;
    for (size_t i = 0; i < PSI_IOC_SKIP_COUNT; i++)
        skipped += stats->skipped[i];
    FUZZ_CHECK(stats->read == stats->kept + stats->duplicates + skipped,
               "read = kept + duplicates + skipped, with exclusions");
    psi_ioc_set_free(set);
}

/* Reads the bytes as a file of `format` and checks the set it made. */
static inline void fuzz_ioc_read(enum psi_ioc_format format, const uint8_t *data, size_t size)
{
    struct psi_ioc_set *set = NULL;
    char err[256] = "";
    uint64_t seen = 0;
    if (psi_ioc_set_new(&set) != 0)
        abort();
    psi_ioc_set_observe(set, fuzz_ioc_seen, &seen);
    int rc = psi_ioc_read_buffer("fuzz", data, size, format, NULL, set, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == PSI_ERR_PARSE || rc == PSI_ERR_TOO_LARGE,
               "a reader returns 0, PSI_ERR_PARSE or PSI_ERR_TOO_LARGE for bytes in memory");
    FUZZ_CHECK(rc == 0 || err[0] != '\0', "a failed read says what was wrong");

    const struct psi_ioc_stats *stats = psi_ioc_set_stats(set);
    uint64_t skipped = 0;
    for (size_t i = 0; i < PSI_IOC_SKIP_COUNT; i++)
        skipped += stats->skipped[i];
    FUZZ_CHECK(stats->read == stats->kept + stats->duplicates + skipped,
               "read = kept + duplicates + skipped");
    FUZZ_CHECK(seen == stats->read, "the observer sees every value read");
    size_t count = psi_ioc_set_count(set);
    FUZZ_CHECK(count == stats->kept, "the set holds every value kept");
    /* Up to 64 members spread over the set: re-canonicalising every member of
     * a large file would cost more than reading it (fuzz_ioc_canonical checks
     * the fixed point on every value it makes). */
    size_t step = count > 64 ? count / 64 : 1;
    for (size_t i = 0; i < count; i += step) {
        struct psi_ioc_ref ref;
        size_t at = SIZE_MAX;
        FUZZ_CHECK(psi_ioc_set_get(set, i, &ref) == 0, "every member can be read back");
        FUZZ_CHECK(ref.len == strlen(ref.value), "a member is one NUL-terminated string");
        fuzz_ioc_check_fixed_point(ref.type, ref.value, ref.len);
        FUZZ_CHECK(psi_ioc_set_find(set, ref.type, ref.value, ref.len, &at) == 0 && at == i,
                   "every member is found at its own index");
    }
    psi_ioc_set_free(set);
    fuzz_ioc_exclusions(format, data, size);
}

#endif
