#include "psi/feedfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bloom.h>
#include <sodium.h>

#include "psi/error.h"
#include "psi/ident.h"
#include "psi/pool.h"

_Static_assert(sizeof(double) == 8, "the rate travels as an IEEE 754 binary64");

/* libbloom 1.6's own constants (bloom.c): ln(2)^2 and ln(2). Predicting its
 * sizes with the same expressions lets us refuse a shard whose bits would
 * overflow libbloom's int before bloom_init computes them. */
#define BLOOM_LN2_SQUARED 0.480453013918201
#define BLOOM_LN2 0.693147180559945

/* libbloom's sizes are int; stay a byte's worth below INT_MAX. */
#define SHARD_BITS_LIMIT ((double)INT_MAX - 8.0)

/* magic, version, flags */
#define PREFIX_BYTES (PSI_FEED_FILTER_MAGIC_BYTES + 2U + 2U)
/* entries, bits, hashes */
#define SHARD_ENTRY_BYTES 12U
#define MAX_HASHES 255U

struct psi_feed_filter {
    char epoch[PSI_FEED_FILTER_EPOCH_MAX + 1U];
    char vendor[PSI_FEED_FILTER_VENDOR_MAX + 1U];
    unsigned char vendor_key[PSI_FEED_FILTER_KEY_BYTES];
    double rate;
    uint64_t item_count;
    uint32_t shard_count;
    unsigned shard_shift; /* 32 - log2(shard_count); 32 for a single shard */
    struct bloom *shards; /* shard_count of them, calloc'ed (bloom_free is safe on zeros) */
    unsigned char digest[PSI_FEED_FILTER_DIGEST_BYTES];
};

/*
 * libbloom 1.6 has no save or load: a shard's bit array lives in the private
 * field `bf` of struct bloom, which bloom.h says clients must not touch, and
 * whether bloom_init succeeded is the private `ready`. Writing a filter to a
 * file and reading it back needs exactly that array, so this is the one place
 * that reaches into libbloom's private fields; a libbloom with another layout
 * breaks here and nowhere else. The array is `bytes` long (a public field).
 */
static unsigned char *shard_bit_array(struct bloom *shard)
{
    return shard->ready ? shard->bf : NULL;
}

/* Writes why something failed into err, when the caller gave one. */
__attribute__((format(printf, 3, 4))) static void say(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        (void)vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
}

/* Says why and evaluates to code: a macro, so that the code returned is
 * visible where it is used (the static analyzer does not follow variadic
 * calls). code is evaluated after the message: it must not depend on errno. */
#define fail(err, errlen, code, ...) (say((err), (errlen), __VA_ARGS__), (code))

static void put_be16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint16_t get_be16(const unsigned char *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const unsigned char *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* A header string of len bytes, copied and NUL-terminated: valid by its rule
 * of psi/ident.h and without a NUL of its own (so it has one encoding). */
static int header_str_ok(const char *s, size_t len, int (*rule)(const char *))
{
    return strlen(s) == len && rule(s);
}

static int rate_is_valid(double rate)
{
    return isfinite(rate) && rate >= PSI_FEED_FILTER_MIN_RATE && rate <= PSI_FEED_FILTER_MAX_RATE;
}

/* The libbloom parameters of one half: its error is sqrt(rate) (sqrt is
 * correctly rounded, so every machine derives the same double), bits per
 * entry and hashes as bloom_init computes them, and the floor on a shard's
 * entries (feedfilter.h, PSI_FEED_FILTER_MIN_SHARD_ENTRIES). */
struct half_sizing {
    double error;
    double bits_per_entry;
    unsigned hashes;
    uint64_t min_entries;
};

static void size_half(double rate, struct half_sizing *s)
{
    double floor_bits;
    double floor_entries;

    s->error = sqrt(rate);
    s->bits_per_entry = -(log(s->error) / BLOOM_LN2_SQUARED);
    s->hashes = (unsigned)ceil(BLOOM_LN2 * s->bits_per_entry);
    floor_bits = 64.0 / ((double)s->hashes * s->error);
    floor_entries = ceil(floor_bits / s->bits_per_entry);
    s->min_entries = floor_entries > PSI_FEED_FILTER_MIN_SHARD_ENTRIES
                         ? (uint64_t)floor_entries
                         : PSI_FEED_FILTER_MIN_SHARD_ENTRIES;
}

static uint64_t shard_entries_for(const struct half_sizing *s, uint64_t outputs)
{
    uint64_t halves = 2U * outputs;
    return halves > s->min_entries ? halves : s->min_entries;
}

/* libbloom's bit count for `entries`, or -1 if it would not fit its int. */
static double predicted_bits(const struct half_sizing *s, uint64_t entries)
{
    double bits = (double)entries * s->bits_per_entry;
    return entries > (uint64_t)INT_MAX || bits > SHARD_BITS_LIMIT ? -1.0 : floor(bits);
}

static unsigned log2_of_power(uint32_t v)
{
    unsigned n = 0;
    while (v > 1U) {
        v >>= 1;
        n++;
    }
    return n;
}

static uint32_t shard_of(const struct psi_feed_filter *f, const unsigned char *output)
{
    return f->shard_shift >= 32U ? 0U : get_be32(output) >> f->shard_shift;
}

static struct psi_feed_filter *filter_new(uint32_t shard_count)
{
    struct psi_feed_filter *f = shard_count > 0 ? calloc(1, sizeof *f) : NULL;

    if (f == NULL) {
        return NULL;
    }
    f->shards = calloc(shard_count, sizeof *f->shards);
    if (f->shards == NULL) {
        free(f);
        return NULL;
    }
    f->shard_count = shard_count;
    f->shard_shift = 32U - log2_of_power(shard_count);
    return f;
}

void psi_feed_filter_free(struct psi_feed_filter *filter)
{
    uint32_t i;

    if (filter == NULL) {
        return;
    }
    for (i = 0; i < filter->shard_count; i++) {
        bloom_free(&filter->shards[i]);
    }
    free(filter->shards);
    free(filter);
}

/* ------------------------------------------------------------ encoding */

/* Where encoded bytes go: memory, a file, or nowhere (digest only). Every
 * byte but the digest's own is hashed on its way. */
struct sink {
    unsigned char *buf;
    size_t cap;
    size_t len;
    FILE *file;
    crypto_hash_sha256_state sha;
    int error;
};

static void sink_raw(struct sink *s, const void *bytes, size_t n)
{
    if (s->error != PSI_OK || n == 0) {
        return;
    }
    if (s->buf != NULL) {
        if (n > s->cap - s->len) {
            s->error = PSI_ERR_TOO_LARGE;
            return;
        }
        memcpy(s->buf + s->len, bytes, n);
        s->len += n;
    } else if (s->file != NULL) {
        if (fwrite(bytes, 1, n, s->file) != n) {
            s->error = PSI_ERR_IO;
        }
    }
}

static void sink_put(struct sink *s, const void *bytes, size_t n)
{
    if (s->error == PSI_OK) {
        crypto_hash_sha256_update(&s->sha, bytes, n);
    }
    sink_raw(s, bytes, n);
}

static size_t header_bytes(const struct psi_feed_filter *f)
{
    return PREFIX_BYTES + 1U + strlen(f->epoch) + 1U + strlen(f->vendor) +
           PSI_FEED_FILTER_KEY_BYTES + 8U + 8U + 4U + (size_t)f->shard_count * SHARD_ENTRY_BYTES;
}

static uint64_t body_bytes(const struct psi_feed_filter *f)
{
    uint64_t total = 0;
    uint32_t i;

    for (i = 0; i < f->shard_count; i++) {
        total += (uint64_t)f->shards[i].bytes;
    }
    return total;
}

/* Writes the whole encoding; the digest is written and also returned. */
static void encode_into(const struct psi_feed_filter *f, struct sink *s,
                        unsigned char digest[PSI_FEED_FILTER_DIGEST_BYTES])
{
    unsigned char head[PREFIX_BYTES + 2U * (1U + 64U) + 32U + 8U + 8U + 4U];
    unsigned char entry[SHARD_ENTRY_BYTES];
    size_t n = 0;
    size_t epoch_len = strlen(f->epoch);
    size_t vendor_len = strlen(f->vendor);
    uint64_t rate_bits;
    uint32_t i;

    crypto_hash_sha256_init(&s->sha);
    memcpy(head, PSI_FEED_FILTER_MAGIC, PSI_FEED_FILTER_MAGIC_BYTES);
    n = PSI_FEED_FILTER_MAGIC_BYTES;
    put_be16(head + n, PSI_FEED_FILTER_VERSION);
    put_be16(head + n + 2, 0);
    n += 4;
    head[n++] = (unsigned char)epoch_len;
    memcpy(head + n, f->epoch, epoch_len);
    n += epoch_len;
    head[n++] = (unsigned char)vendor_len;
    memcpy(head + n, f->vendor, vendor_len);
    n += vendor_len;
    memcpy(head + n, f->vendor_key, PSI_FEED_FILTER_KEY_BYTES);
    n += PSI_FEED_FILTER_KEY_BYTES;
    memcpy(&rate_bits, &f->rate, sizeof rate_bits);
    put_be64(head + n, rate_bits);
    n += 8;
    put_be64(head + n, f->item_count);
    n += 8;
    put_be32(head + n, f->shard_count);
    n += 4;
    sink_put(s, head, n);
    for (i = 0; i < f->shard_count; i++) {
        put_be32(entry, (uint32_t)f->shards[i].entries);
        put_be32(entry + 4, (uint32_t)f->shards[i].bits);
        put_be32(entry + 8, (uint32_t)f->shards[i].hashes);
        sink_put(s, entry, sizeof entry);
    }
    for (i = 0; i < f->shard_count; i++) {
        sink_put(s, shard_bit_array(&f->shards[i]), (size_t)f->shards[i].bytes);
    }
    crypto_hash_sha256_final(&s->sha, digest);
    sink_raw(s, digest, PSI_FEED_FILTER_DIGEST_BYTES);
}

int psi_feed_filter_encoded_size(const struct psi_feed_filter *filter, uint64_t *size)
{
    if (filter == NULL || size == NULL) {
        return PSI_ERR_INVALID;
    }
    *size = (uint64_t)header_bytes(filter) + body_bytes(filter) + PSI_FEED_FILTER_DIGEST_BYTES;
    return PSI_OK;
}

int psi_feed_filter_encode(const struct psi_feed_filter *filter, unsigned char *out, size_t cap,
                           size_t *len)
{
    struct sink s;
    unsigned char digest[PSI_FEED_FILTER_DIGEST_BYTES];
    uint64_t size;
    int rc;

    if (out == NULL || len == NULL) {
        return PSI_ERR_INVALID;
    }
    if ((rc = psi_feed_filter_encoded_size(filter, &size)) != PSI_OK) {
        return rc;
    }
    if (size > cap) {
        return PSI_ERR_TOO_LARGE;
    }
    memset(&s, 0, sizeof s);
    s.buf = out;
    s.cap = cap;
    encode_into(filter, &s, digest);
    if (s.error != PSI_OK) {
        return s.error;
    }
    *len = s.len;
    return PSI_OK;
}

int psi_feed_filter_save(const struct psi_feed_filter *filter, const char *path, char *err,
                         size_t errlen)
{
    static const char suffix[] = ".XXXXXX";
    unsigned char digest[PSI_FEED_FILTER_DIGEST_BYTES];
    struct sink s;
    char *tmp;
    size_t path_len;
    int fd;
    int rc = PSI_OK;

    if (filter == NULL || path == NULL) {
        return fail(err, errlen, PSI_ERR_INVALID, "no filter or no path");
    }
    path_len = strlen(path);
    tmp = malloc(path_len + sizeof suffix);
    if (tmp == NULL) {
        return fail(err, errlen, PSI_ERR_NOMEM, "out of memory");
    }
    memcpy(tmp, path, path_len);
    memcpy(tmp + path_len, suffix, sizeof suffix);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = fail(err, errlen, PSI_ERR_IO, "%s: cannot create a temporary file: %s", path,
                  strerror(errno));
        free(tmp);
        return rc;
    }
    memset(&s, 0, sizeof s);
    s.file = fdopen(fd, "wb");
    if (s.file == NULL) {
        rc = fail(err, errlen, PSI_ERR_IO, "%s: %s", tmp, strerror(errno));
        close(fd);
        goto out;
    }
    encode_into(filter, &s, digest);
    if (s.error != PSI_OK || fflush(s.file) != 0 || fsync(fd) != 0) {
        rc = fail(err, errlen, PSI_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        fclose(s.file);
        goto out;
    }
    if (fclose(s.file) != 0) {
        rc = fail(err, errlen, PSI_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        rc = fail(err, errlen, PSI_ERR_IO, "%s: cannot rename into place: %s", path,
                  strerror(errno));
        goto out;
    }
    free(tmp);
    return PSI_OK;
out:
    (void)unlink(tmp);
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------ building */

struct build_job {
    struct psi_feed_filter *filter;
    const unsigned char *outputs;
    const size_t *order;   /* item indices grouped by shard */
    const size_t *offsets; /* shard s holds order[offsets[s] .. offsets[s + 1]) */
};

static void add_output(struct bloom *shard, const unsigned char *output)
{
    (void)bloom_add(shard, output, PSI_FEED_FILTER_ITEM_BYTES / 2);
    (void)bloom_add(shard, output + PSI_FEED_FILTER_ITEM_BYTES / 2, PSI_FEED_FILTER_ITEM_BYTES / 2);
}

static int add_shard_range(void *ctx, size_t begin, size_t end, size_t *failed_at)
{
    const struct build_job *job = ctx;
    size_t s;
    size_t i;

    (void)failed_at;
    for (s = begin; s < end; s++) {
        for (i = job->offsets[s]; i < job->offsets[s + 1]; i++) {
            add_output(&job->filter->shards[s],
                       job->outputs + job->order[i] * PSI_FEED_FILTER_ITEM_BYTES);
        }
    }
    return PSI_OK;
}

/* Counts outputs per shard for `shard_count` shards; 0 if every shard fits
 * libbloom's int sizes, PSI_ERR_TOO_LARGE if one does not. */
static int count_shards(const unsigned char *outputs, size_t count, uint32_t shard_count,
                        const struct half_sizing *half, size_t *counts)
{
    unsigned shift = 32U - log2_of_power(shard_count);
    size_t i;
    uint32_t s;

    memset(counts, 0, shard_count * sizeof *counts);
    for (i = 0; i < count; i++) {
        s = shift >= 32U ? 0U : get_be32(outputs + i * PSI_FEED_FILTER_ITEM_BYTES) >> shift;
        counts[s]++;
    }
    for (s = 0; s < shard_count; s++) {
        if (predicted_bits(half, shard_entries_for(half, counts[s])) < 0) {
            return PSI_ERR_TOO_LARGE;
        }
    }
    return PSI_OK;
}

int psi_feed_filter_build(struct psi_feed_filter **out, const struct psi_feed_filter_params *params,
                          const unsigned char *outputs, size_t count, char *err, size_t errlen)
{
    struct psi_feed_filter *f = NULL;
    struct half_sizing half;
    struct build_job job;
    struct sink digest_only;
    size_t *counts = NULL;
    size_t *offsets = NULL;
    size_t *order = NULL;
    double rate;
    double target;
    uint32_t shard_count = 1;
    uint32_t s;
    size_t i;
    int rc;

    if (out == NULL) {
        return fail(err, errlen, PSI_ERR_INVALID, "no place for the filter");
    }
    *out = NULL;
    if (params == NULL || outputs == NULL || params->epoch == NULL || params->vendor == NULL ||
        params->vendor_key == NULL) {
        return fail(err, errlen, PSI_ERR_INVALID, "missing feed parameters or outputs");
    }
    if (count == 0) {
        return fail(err, errlen, PSI_ERR_INVALID, "a feed needs at least one item");
    }
    if (!psi_epoch_label_is_valid(params->epoch)) {
        return fail(err, errlen, PSI_ERR_INVALID,
                    "epoch label must be 1..%u bytes of [A-Za-z0-9._:-]", PSI_EPOCH_LABEL_MAX);
    }
    if (!psi_id_is_valid(params->vendor)) {
        return fail(err, errlen, PSI_ERR_INVALID, "vendor is not a valid participant id");
    }
    if (sodium_is_zero(params->vendor_key, PSI_FEED_FILTER_KEY_BYTES)) {
        return fail(err, errlen, PSI_ERR_IDENTITY, "vendor key is the identity element");
    }
    if (!crypto_core_ristretto255_is_valid_point(params->vendor_key)) {
        return fail(err, errlen, PSI_ERR_ENCODING, "vendor key is not a valid ristretto255 point");
    }
    rate = params->rate == 0.0 ? PSI_FEED_FILTER_DEFAULT_RATE : params->rate;
    if (!rate_is_valid(rate)) {
        return fail(err, errlen, PSI_ERR_INVALID, "false-positive rate %g outside [%g, %g]", rate,
                    PSI_FEED_FILTER_MIN_RATE, PSI_FEED_FILTER_MAX_RATE);
    }
    target = params->target_shard_bits == 0 ? (double)PSI_FEED_FILTER_TARGET_SHARD_BITS
                                            : (double)params->target_shard_bits;
    if (target < (double)PSI_FEED_FILTER_MIN_TARGET_SHARD_BITS ||
        target > (double)PSI_FEED_FILTER_TARGET_SHARD_BITS) {
        return fail(err, errlen, PSI_ERR_INVALID, "shard size target %.0f bits outside [%u, %u]",
                    target, PSI_FEED_FILTER_MIN_TARGET_SHARD_BITS,
                    PSI_FEED_FILTER_TARGET_SHARD_BITS);
    }
    if (count > SIZE_MAX / PSI_FEED_FILTER_ITEM_BYTES) {
        return fail(err, errlen, PSI_ERR_TOO_LARGE, "too many items");
    }
    size_half(rate, &half);

    /* The fewest shards (a power of two) that meet the size target on
     * average; more if the spread still pushes one past libbloom's int. */
    while (shard_count < PSI_FEED_FILTER_MAX_SHARDS &&
           2.0 * (double)count * half.bits_per_entry / (double)shard_count > target) {
        shard_count <<= 1;
    }
    counts = malloc((size_t)PSI_FEED_FILTER_MAX_SHARDS * sizeof *counts);
    if (counts == NULL) {
        return fail(err, errlen, PSI_ERR_NOMEM, "out of memory");
    }
    while ((rc = count_shards(outputs, count, shard_count, &half, counts)) == PSI_ERR_TOO_LARGE &&
           shard_count < PSI_FEED_FILTER_MAX_SHARDS) {
        shard_count <<= 1;
    }
    if (rc != PSI_OK) {
        free(counts);
        return fail(err, errlen, PSI_ERR_TOO_LARGE,
                    "%zu items do not fit %u shards of libbloom's int sizes", count,
                    PSI_FEED_FILTER_MAX_SHARDS);
    }

    f = filter_new(shard_count);
    if (f == NULL) {
        rc = fail(err, errlen, PSI_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(f->epoch, params->epoch, strlen(params->epoch) + 1U);
    memcpy(f->vendor, params->vendor, strlen(params->vendor) + 1U);
    memcpy(f->vendor_key, params->vendor_key, PSI_FEED_FILTER_KEY_BYTES);
    f->rate = rate;
    f->item_count = (uint64_t)count;
    for (s = 0; s < shard_count; s++) {
        if (bloom_init(&f->shards[s], (int)shard_entries_for(&half, counts[s]), half.error) != 0) {
            rc = fail(err, errlen, PSI_ERR_NOMEM, "out of memory for shard %u", s);
            goto done;
        }
    }

    if (shard_count == 1) {
        for (i = 0; i < count; i++) {
            add_output(&f->shards[0], outputs + i * PSI_FEED_FILTER_ITEM_BYTES);
        }
    } else {
        /* Group the items by shard (a counting sort of indices), then let
         * each thread fill whole shards: libbloom is not thread-safe within
         * one filter, but shards are independent. */
        offsets = malloc(((size_t)shard_count + 1U) * sizeof *offsets);
        order = malloc(count * sizeof *order);
        if (offsets == NULL || order == NULL) {
            rc = fail(err, errlen, PSI_ERR_NOMEM, "out of memory");
            goto done;
        }
        offsets[0] = 0;
        for (s = 0; s < shard_count; s++) {
            offsets[s + 1] = offsets[s] + counts[s];
            counts[s] = offsets[s];
        }
        for (i = 0; i < count; i++) {
            order[counts[shard_of(f, outputs + i * PSI_FEED_FILTER_ITEM_BYTES)]++] = i;
        }
        job.filter = f;
        job.outputs = outputs;
        job.order = order;
        job.offsets = offsets;
        if ((rc = psi_parallel_for(shard_count, 0, add_shard_range, &job, NULL)) != PSI_OK) {
            rc = fail(err, errlen, rc, "building the shards failed");
            goto done;
        }
    }

    memset(&digest_only, 0, sizeof digest_only);
    encode_into(f, &digest_only, f->digest);
    *out = f;
    f = NULL;
    rc = PSI_OK;
done:
    psi_feed_filter_free(f);
    free(counts);
    free(offsets);
    free(order);
    return rc;
}

/* ------------------------------------------------------------ queries */

int psi_feed_filter_contains(const struct psi_feed_filter *filter,
                             const unsigned char output[PSI_FEED_FILTER_ITEM_BYTES])
{
    struct bloom *shard;

    if (filter == NULL || output == NULL) {
        return PSI_ERR_INVALID;
    }
    shard = &filter->shards[shard_of(filter, output)];
    return bloom_check(shard, output, PSI_FEED_FILTER_ITEM_BYTES / 2) == 1 &&
           bloom_check(shard, output + PSI_FEED_FILTER_ITEM_BYTES / 2,
                       PSI_FEED_FILTER_ITEM_BYTES / 2) == 1;
}

int psi_feed_filter_get_info(const struct psi_feed_filter *filter,
                             struct psi_feed_filter_info *info)
{
    uint32_t s;
    int rc;

    if (filter == NULL || info == NULL) {
        return PSI_ERR_INVALID;
    }
    memset(info, 0, sizeof *info);
    memcpy(info->epoch, filter->epoch, sizeof info->epoch);
    memcpy(info->vendor, filter->vendor, sizeof info->vendor);
    memcpy(info->vendor_key, filter->vendor_key, sizeof info->vendor_key);
    info->rate = filter->rate;
    info->item_count = filter->item_count;
    info->shard_count = filter->shard_count;
    for (s = 0; s < filter->shard_count; s++) {
        const struct bloom *b = &filter->shards[s];
        double k = (double)b->hashes;
        double half = pow(1.0 - exp(-k * (double)b->entries / (double)b->bits), k);
        if (half * half > info->formula_rate) {
            info->formula_rate = half * half;
        }
        if (2U * (unsigned)b->hashes > info->max_probes) {
            info->max_probes = 2U * (unsigned)b->hashes;
        }
        info->total_bits += (uint64_t)b->bits;
    }
    if ((rc = psi_feed_filter_encoded_size(filter, &info->encoded_bytes)) != PSI_OK) {
        return rc;
    }
    memcpy(info->digest, filter->digest, sizeof info->digest);
    return PSI_OK;
}

/* ------------------------------------------------------------ decoding */

struct cursor {
    const unsigned char *bytes;
    size_t len;
    size_t pos;
};

static const unsigned char *take(struct cursor *c, size_t n)
{
    const unsigned char *p;

    if (n > c->len - c->pos) {
        return NULL;
    }
    p = c->bytes + c->pos;
    c->pos += n;
    return p;
}

/* The header as read, before anything is trusted. */
struct header {
    uint16_t version;
    uint16_t flags;
    char epoch[PSI_FEED_FILTER_EPOCH_MAX + 1U];
    size_t epoch_len;
    char vendor[PSI_FEED_FILTER_VENDOR_MAX + 1U];
    size_t vendor_len;
    const unsigned char *vendor_key;
    double rate;
    uint64_t item_count;
    uint32_t shard_count;
    const unsigned char *table; /* shard_count entries of 12 bytes */
    const unsigned char *body;  /* the shards' bit arrays */
    uint64_t body_len;
};

#define TRUNCATED(what)                                                                            \
    fail(err, errlen, PSI_ERR_PARSE, "feed filter truncated: %zu bytes end inside the %s", len,    \
         what)

/* Reads the header's fields and checks that the sizes it declares add up to
 * exactly `len` bytes; nothing else is judged before the digest is. */
static int read_structure(struct header *h, const unsigned char *bytes, size_t len, char *err,
                          size_t errlen)
{
    struct cursor c = {bytes, len, 0};
    const unsigned char *p;
    uint64_t rate_bits;
    uint64_t total;
    uint32_t s;

    if ((p = take(&c, PSI_FEED_FILTER_MAGIC_BYTES)) == NULL) {
        return TRUNCATED("magic");
    }
    if (memcmp(p, PSI_FEED_FILTER_MAGIC, PSI_FEED_FILTER_MAGIC_BYTES) != 0) {
        return fail(err, errlen, PSI_ERR_PARSE,
                    "not a psi feed filter (the file does not start with \"%s\")",
                    PSI_FEED_FILTER_MAGIC);
    }
    if ((p = take(&c, 4)) == NULL) {
        return TRUNCATED("version");
    }
    h->version = get_be16(p);
    h->flags = get_be16(p + 2);
    if (h->version != PSI_FEED_FILTER_VERSION) {
        return fail(err, errlen, PSI_ERR_UNSUPPORTED,
                    "feed filter version %u; this build reads version %u", h->version,
                    PSI_FEED_FILTER_VERSION);
    }
    if (h->flags != 0) {
        return fail(err, errlen, PSI_ERR_UNSUPPORTED,
                    "feed filter flags 0x%04x; version %u defines none", h->flags,
                    PSI_FEED_FILTER_VERSION);
    }
    if ((p = take(&c, 1)) == NULL) {
        return TRUNCATED("epoch");
    }
    h->epoch_len = p[0];
    if (h->epoch_len == 0 || h->epoch_len > PSI_FEED_FILTER_EPOCH_MAX) {
        return fail(err, errlen, PSI_ERR_PARSE, "epoch length %zu outside 1..%u", h->epoch_len,
                    PSI_FEED_FILTER_EPOCH_MAX);
    }
    if ((p = take(&c, h->epoch_len)) == NULL) {
        return TRUNCATED("epoch");
    }
    memcpy(h->epoch, p, h->epoch_len);
    h->epoch[h->epoch_len] = '\0';
    if ((p = take(&c, 1)) == NULL) {
        return TRUNCATED("vendor id");
    }
    h->vendor_len = p[0];
    if (h->vendor_len == 0 || h->vendor_len > PSI_FEED_FILTER_VENDOR_MAX) {
        return fail(err, errlen, PSI_ERR_PARSE, "vendor id length %zu outside 1..%u", h->vendor_len,
                    PSI_FEED_FILTER_VENDOR_MAX);
    }
    if ((p = take(&c, h->vendor_len)) == NULL) {
        return TRUNCATED("vendor id");
    }
    memcpy(h->vendor, p, h->vendor_len);
    h->vendor[h->vendor_len] = '\0';
    if ((h->vendor_key = take(&c, PSI_FEED_FILTER_KEY_BYTES)) == NULL) {
        return TRUNCATED("vendor key");
    }
    if ((p = take(&c, 8 + 8 + 4)) == NULL) {
        return TRUNCATED("rate, item count and shard count");
    }
    rate_bits = get_be64(p);
    memcpy(&h->rate, &rate_bits, sizeof h->rate);
    h->item_count = get_be64(p + 8);
    h->shard_count = get_be32(p + 16);
    if (h->shard_count == 0 || h->shard_count > PSI_FEED_FILTER_MAX_SHARDS ||
        (h->shard_count & (h->shard_count - 1U)) != 0) {
        return fail(err, errlen, PSI_ERR_PARSE, "shard count %u is not a power of two in 1..%u",
                    h->shard_count, PSI_FEED_FILTER_MAX_SHARDS);
    }
    if ((h->table = take(&c, (size_t)h->shard_count * SHARD_ENTRY_BYTES)) == NULL) {
        return TRUNCATED("shard table");
    }
    h->body_len = 0;
    for (s = 0; s < h->shard_count; s++) {
        const unsigned char *e = h->table + (size_t)s * SHARD_ENTRY_BYTES;
        uint32_t entries = get_be32(e);
        uint32_t bits = get_be32(e + 4);
        uint32_t hashes = get_be32(e + 8);
        if (entries < PSI_FEED_FILTER_MIN_SHARD_ENTRIES || entries > (uint32_t)INT_MAX ||
            bits == 0 || bits > (uint32_t)INT_MAX || hashes == 0 || hashes > MAX_HASHES) {
            return fail(err, errlen, PSI_ERR_PARSE,
                        "shard %u: entries %u, bits %u, hashes %u outside libbloom's ranges "
                        "(entries 1000..%d, bits 1..%d, hashes 1..%u)",
                        s, entries, bits, hashes, INT_MAX, INT_MAX, MAX_HASHES);
        }
        h->body_len += ((uint64_t)bits + 7U) / 8U;
    }
    total = (uint64_t)c.pos + h->body_len + PSI_FEED_FILTER_DIGEST_BYTES;
    if ((uint64_t)len < total) {
        return fail(err, errlen, PSI_ERR_PARSE,
                    "feed filter truncated: %zu bytes, the header describes %llu", len,
                    (unsigned long long)total);
    }
    if ((uint64_t)len > total) {
        return fail(err, errlen, PSI_ERR_PARSE,
                    "feed filter has %llu trailing bytes after the %llu its header describes",
                    (unsigned long long)((uint64_t)len - total), (unsigned long long)total);
    }
    h->body = bytes + c.pos;
    return PSI_OK;
}

static void hex_prefix(char out[17], const unsigned char *bytes)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 8; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[16] = '\0';
}

/* The header's own rules and the caller's expectations, once the digest
 * says the bytes are the ones the vendor wrote. */
static int check_claims(const struct header *h, const struct psi_feed_filter_expect *expect,
                        char *err, size_t errlen)
{
    char have[17];
    char want[17];

    if (!header_str_ok(h->epoch, h->epoch_len, psi_epoch_label_is_valid)) {
        return fail(err, errlen, PSI_ERR_PARSE, "epoch label has a byte outside [A-Za-z0-9._:-]");
    }
    if (!header_str_ok(h->vendor, h->vendor_len, psi_id_is_valid)) {
        return fail(err, errlen, PSI_ERR_PARSE, "vendor \"%s\" is not a valid participant id",
                    h->vendor);
    }
    if (!rate_is_valid(h->rate)) {
        return fail(err, errlen, PSI_ERR_PARSE, "false-positive rate %g outside [%g, %g]", h->rate,
                    PSI_FEED_FILTER_MIN_RATE, PSI_FEED_FILTER_MAX_RATE);
    }
    if (h->item_count == 0) {
        return fail(err, errlen, PSI_ERR_PARSE, "feed filter of zero items");
    }
    if (!crypto_core_ristretto255_is_valid_point(h->vendor_key)) {
        return fail(err, errlen, PSI_ERR_PARSE, "vendor key is not a valid ristretto255 point");
    }
    if (strcmp(h->epoch, expect->epoch) != 0) {
        return fail(err, errlen, PSI_ERR_EPOCH, "feed filter of epoch \"%s\", expected \"%s\"",
                    h->epoch, expect->epoch);
    }
    if (strcmp(h->vendor, expect->vendor) != 0) {
        return fail(err, errlen, PSI_ERR_VERIFY, "feed filter of vendor \"%s\", expected \"%s\"",
                    h->vendor, expect->vendor);
    }
    if (sodium_memcmp(h->vendor_key, expect->vendor_key, PSI_FEED_FILTER_KEY_BYTES) != 0) {
        hex_prefix(have, h->vendor_key);
        hex_prefix(want, expect->vendor_key);
        return fail(err, errlen, PSI_ERR_VERIFY,
                    "feed filter made with vendor key %s..., but %s's key of epoch %s is %s...",
                    have, h->vendor, h->epoch, want);
    }
    return PSI_OK;
}

/* Re-runs bloom_init for each shard with the header's entries and rate and
 * adopts the stored bit array only where libbloom reproduces the header's
 * bits, bytes and hashes exactly. */
static int adopt_shards(struct psi_feed_filter *f, const struct header *h, char *err, size_t errlen)
{
    struct half_sizing half;
    const unsigned char *array = h->body;
    uint64_t capacity = 0;
    uint32_t s;

    size_half(h->rate, &half);
    for (s = 0; s < h->shard_count; s++) {
        const unsigned char *e = h->table + (size_t)s * SHARD_ENTRY_BYTES;
        uint32_t entries = get_be32(e);
        uint32_t bits = get_be32(e + 4);
        uint32_t hashes = get_be32(e + 8);
        uint32_t bytes = (bits + 7U) / 8U;
        struct bloom *shard = &f->shards[s];
        unsigned char *bit_array;

        /* Predict first, so a forged entries count cannot make bloom_init
         * allocate more than the file holds. */
        if (predicted_bits(&half, entries) != (double)bits) {
            return fail(err, errlen, PSI_ERR_PARSE,
                        "shard %u: %u entries at rate %g give %.0f bits in libbloom, the header "
                        "says %u",
                        s, entries, h->rate, predicted_bits(&half, entries), bits);
        }
        if (bloom_init(shard, (int)entries, half.error) != 0) {
            return fail(err, errlen, PSI_ERR_NOMEM, "out of memory for shard %u", s);
        }
        if ((uint32_t)shard->bits != bits || (uint32_t)shard->bytes != bytes ||
            (uint32_t)shard->hashes != hashes) {
            return fail(err, errlen, PSI_ERR_PARSE,
                        "shard %u: header says bits %u, bytes %u, hashes %u for %u entries at "
                        "rate %g; libbloom gives bits %d, bytes %d, hashes %d",
                        s, bits, bytes, hashes, entries, h->rate, shard->bits, shard->bytes,
                        shard->hashes);
        }
        if (bits % 8U != 0 && (array[bytes - 1U] >> (bits % 8U)) != 0) {
            return fail(err, errlen, PSI_ERR_PARSE, "shard %u: padding bits after bit %u are set",
                        s, bits);
        }
        bit_array = shard_bit_array(shard);
        if (bit_array == NULL) {
            return fail(err, errlen, PSI_ERR_STATE, "shard %u: libbloom did not initialise it", s);
        }
        memcpy(bit_array, array, bytes);
        array += bytes;
        capacity += entries / 2U;
    }
    if (capacity < h->item_count) {
        return fail(err, errlen, PSI_ERR_PARSE,
                    "shards sized for %llu outputs cannot hold the %llu items the header states",
                    (unsigned long long)capacity, (unsigned long long)h->item_count);
    }
    return PSI_OK;
}

int psi_feed_filter_decode(struct psi_feed_filter **out, const unsigned char *bytes, size_t len,
                           const struct psi_feed_filter_expect *expect, char *err, size_t errlen)
{
    struct header h;
    struct psi_feed_filter *f;
    unsigned char digest[PSI_FEED_FILTER_DIGEST_BYTES];
    int rc;

    if (out == NULL) {
        return fail(err, errlen, PSI_ERR_INVALID, "no place for the filter");
    }
    *out = NULL;
    if (bytes == NULL || expect == NULL || expect->epoch == NULL || expect->vendor == NULL ||
        expect->vendor_key == NULL) {
        return fail(err, errlen, PSI_ERR_INVALID,
                    "decoding a feed filter needs its bytes and the expected epoch, vendor "
                    "and key");
    }
    memset(&h, 0, sizeof h);
    if ((rc = read_structure(&h, bytes, len, err, errlen)) != PSI_OK) {
        return rc;
    }
    crypto_hash_sha256(digest, bytes, (unsigned long long)(len - PSI_FEED_FILTER_DIGEST_BYTES));
    if (sodium_memcmp(digest, bytes + len - PSI_FEED_FILTER_DIGEST_BYTES,
                      PSI_FEED_FILTER_DIGEST_BYTES) != 0) {
        return fail(err, errlen, PSI_ERR_VERIFY,
                    "feed filter corrupted: its SHA-256 digest does not match its contents");
    }
    if ((rc = check_claims(&h, expect, err, errlen)) != PSI_OK) {
        return rc;
    }
    f = filter_new(h.shard_count);
    if (f == NULL) {
        return fail(err, errlen, PSI_ERR_NOMEM, "out of memory");
    }
    memcpy(f->epoch, h.epoch, sizeof f->epoch);
    memcpy(f->vendor, h.vendor, sizeof f->vendor);
    memcpy(f->vendor_key, h.vendor_key, PSI_FEED_FILTER_KEY_BYTES);
    f->rate = h.rate;
    f->item_count = h.item_count;
    memcpy(f->digest, digest, sizeof f->digest);
    if ((rc = adopt_shards(f, &h, err, errlen)) != PSI_OK) {
        psi_feed_filter_free(f);
        return rc;
    }
    *out = f;
    return PSI_OK;
}

int psi_feed_filter_load(struct psi_feed_filter **out, const char *path,
                         const struct psi_feed_filter_expect *expect, char *err, size_t errlen)
{
    struct stat st;
    unsigned char *bytes;
    size_t len;
    size_t got = 0;
    int fd;
    int rc;

    if (out == NULL || path == NULL) {
        return fail(err, errlen, PSI_ERR_INVALID, "no place for the filter or no path");
    }
    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return fail(err, errlen, e == ENOENT ? PSI_ERR_NOT_FOUND : PSI_ERR_IO, "%s: %s", path,
                    strerror(e));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, PSI_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return fail(err, errlen, PSI_ERR_TOO_LARGE, "%s: too large", path);
    }
    len = (size_t)st.st_size;
    bytes = malloc(len > 0 ? len : 1U);
    if (bytes == NULL) {
        close(fd);
        return fail(err, errlen, PSI_ERR_NOMEM, "%s: out of memory for %zu bytes", path, len);
    }
    while (got < len) {
        ssize_t n = read(fd, bytes + got, len - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (got != len) {
        free(bytes);
        return fail(err, errlen, PSI_ERR_IO, "%s: read %zu of %zu bytes", path, got, len);
    }
    rc = psi_feed_filter_decode(out, bytes, len, expect, err, errlen);
    free(bytes);
    return rc;
}
