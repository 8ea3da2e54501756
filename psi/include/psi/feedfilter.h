/*
 * The feed filter of protocol 2 (blinded vendor feeds): a Bloom filter of a
 * vendor's OPRF outputs that agencies download once and query locally.
 *
 * A vendor evaluates every item y of its feed with its epoch VOPRF key,
 * F(k_v, "type:value") (RFC 9497, 64 bytes, psi/oprf.h), and publishes the
 * filter built here from those outputs. An agency learns F(k_v, x) for its
 * own indicators x through the blinded, proven evaluation of psi/oprf.h and
 * asks psi_feed_filter_contains. The module promises:
 *
 *  - a stated false-positive rate per query (default 1e-9), written in the
 *    file and kept by the sizing: every shard is sized for the items it holds;
 *  - no false negatives for the outputs the filter was built from;
 *  - sharding by OPRF-output prefix (the top bits of the first four bytes,
 *    a power-of-two number of shards), so that every shard stays inside
 *    libbloom's `int` sizes (bits and bytes) whatever the feed's size;
 *  - a documented file format (docs/feeds.md gives it byte by byte), closed
 *    by a SHA-256 digest over everything before it, that is refused with a
 *    clear message when it is truncated, corrupted, describes parameters
 *    libbloom does not reproduce, or belongs to another epoch, vendor or key
 *    than the caller expects.
 *
 * Each output enters its shard as two libbloom items, its two 32-byte halves,
 * each sized for sqrt(rate); a query is positive only if both halves are.
 * Why: libbloom 1.6 derives its k probe positions from two 32-bit murmur
 * hashes (x_i = (a + i*b) mod 2^32 mod bits). Some hash pairs make the probes
 * repeat a few positions, which adds roughly 3 / (k * bits) to the false-
 * positive rate; measured, a 1000-item filter stated at 1e-6 answered
 * 6.3e-6. Two independent halves need both to fail, the same bits and the
 * same number of probes in total, and the measured rate matches the stated
 * one (docs/feeds.md has the figures).
 *
 * Every function returns 0 (or, for psi_feed_filter_contains, 1) or a
 * negative psi error code (psi/error.h); functions that take `err` also write
 * a sentence for a person there (NUL-terminated, cut to errlen; err may be
 * NULL). A filter is immutable once built or loaded and may be queried from
 * several threads at once.
 */
#ifndef PSI_FEEDFILTER_H
#define PSI_FEEDFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"
#include "psi/ident.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PSI_FEED_FILTER_VERSION 1U
#define PSI_FEED_FILTER_MAGIC "PSI-FEED"
#define PSI_FEED_FILTER_MAGIC_BYTES 8U
/* The items: RFC 9497 outputs, 64 bytes. */
#define PSI_FEED_FILTER_ITEM_BYTES 64U
#define PSI_FEED_FILTER_KEY_BYTES 32U
#define PSI_FEED_FILTER_DIGEST_BYTES 32U
/* Epoch labels and vendor ids (participant ids) follow psi/ident.h; these
 * are its limits under the filter's names. */
#define PSI_FEED_FILTER_EPOCH_MAX PSI_EPOCH_LABEL_MAX
#define PSI_FEED_FILTER_VENDOR_MAX PSI_ID_MAX

/* Stated false-positive rate per query: default and accepted range. Below
 * 1e-12 the 32-bit hashes of libbloom make the promise cost more than it is
 * worth (see the shard floor below); above 0.1 a filter says nothing useful. */
#define PSI_FEED_FILTER_DEFAULT_RATE 1e-9
#define PSI_FEED_FILTER_MIN_RATE 1e-12
#define PSI_FEED_FILTER_MAX_RATE 0.1

/* Size target of one shard in bits (128 MiB): half of libbloom's INT_MAX, so
 * that the binomial spread of items over shards stays far from the limit
 * (a shard that would still cross it doubles the shard count). A caller may
 * aim at smaller shards (tests do, to get many). */
#define PSI_FEED_FILTER_TARGET_SHARD_BITS (1U << 30)
#define PSI_FEED_FILTER_MIN_TARGET_SHARD_BITS (1U << 16)
/* At most 2^16 shards (2^46 bits in all). */
#define PSI_FEED_FILTER_MAX_SHARDS 65536U
/* libbloom refuses fewer than 1000 entries. A shard is sized for
 * max(1000, 2 * its outputs, the floor) halves, where the floor makes the
 * shard at least 64 / (k * sqrt(rate)) bits (k: libbloom's hashes per half):
 * it keeps the repeating-probe term of one half (about 3 / (k * bits)) times
 * the other half's rate under a tenth of the stated rate. 16 KiB at 1e-9. */
#define PSI_FEED_FILTER_MIN_SHARD_ENTRIES 1000U

struct psi_feed_filter;

struct psi_feed_filter_params {
    const char *epoch;               /* NUL-terminated epoch label */
    const char *vendor;              /* NUL-terminated participant id */
    const unsigned char *vendor_key; /* 32-byte VOPRF public key (ristretto255) */
    double rate;                     /* per query; 0 means PSI_FEED_FILTER_DEFAULT_RATE */
    uint32_t target_shard_bits;      /* 0 means PSI_FEED_FILTER_TARGET_SHARD_BITS */
};

/* What the filter's header says, plus figures derived from it. */
struct psi_feed_filter_info {
    char epoch[PSI_FEED_FILTER_EPOCH_MAX + 1U];
    char vendor[PSI_FEED_FILTER_VENDOR_MAX + 1U];
    unsigned char vendor_key[PSI_FEED_FILTER_KEY_BYTES];
    double rate;         /* stated false-positive rate per query */
    double formula_rate; /* Bloom formula at the fullest shard's capacity and libbloom's
                            rounded parameters (k rounded up): the rate to expect */
    uint64_t item_count;
    uint32_t shard_count;
    uint64_t total_bits;    /* over all shards */
    unsigned max_probes;    /* bit probes of a positive query (2 x hashes, largest shard) */
    uint64_t encoded_bytes; /* size of the file */
    unsigned char digest[PSI_FEED_FILTER_DIGEST_BYTES]; /* its last 32 bytes */
};

/* What the caller expects a filter to be: all three are required. */
struct psi_feed_filter_expect {
    const char *epoch;
    const char *vendor;
    const unsigned char *vendor_key; /* 32 bytes */
};

/*
 * Builds the filter of `count` outputs (count * 64 bytes, the feed's
 * F(k_v, item) in any order; duplicates are harmless but count as items).
 * The work of the shards is spread over the online cores.
 * PSI_ERR_INVALID for a missing argument, an invalid epoch or vendor id, a
 * rate outside [MIN_RATE, MAX_RATE], target_shard_bits outside
 * [MIN_TARGET_SHARD_BITS, TARGET_SHARD_BITS], or count == 0; PSI_ERR_ENCODING /
 * PSI_ERR_IDENTITY for a vendor key that is not a valid ristretto255 point;
 * PSI_ERR_TOO_LARGE when even PSI_FEED_FILTER_MAX_SHARDS shards cannot hold
 * the feed; PSI_ERR_NOMEM.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_filter_build(struct psi_feed_filter **out,
                                                    const struct psi_feed_filter_params *params,
                                                    const unsigned char *outputs, size_t count,
                                                    char *err, size_t errlen);

/*
 * 1 if `output` (64 bytes) may be in the feed (a member, or a false positive
 * at the stated rate), 0 if it is not; PSI_ERR_INVALID for NULL arguments.
 */
PSI_EXPORT PSI_MUST_CHECK int
psi_feed_filter_contains(const struct psi_feed_filter *filter,
                         const unsigned char output[PSI_FEED_FILTER_ITEM_BYTES]);

PSI_EXPORT PSI_MUST_CHECK int psi_feed_filter_get_info(const struct psi_feed_filter *filter,
                                                       struct psi_feed_filter_info *info);

/* The exact size of the encoded filter, and the encoding itself into out (of
 * capacity cap; PSI_ERR_TOO_LARGE if smaller than the size). */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_filter_encoded_size(const struct psi_feed_filter *filter,
                                                           uint64_t *size);
PSI_EXPORT PSI_MUST_CHECK int psi_feed_filter_encode(const struct psi_feed_filter *filter,
                                                     unsigned char *out, size_t cap, size_t *len);

/* Writes the encoding to `path` atomically (a temporary file beside it, made
 * durable, then renamed over it). PSI_ERR_IO with the reason in err. */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_filter_save(const struct psi_feed_filter *filter,
                                                   const char *path, char *err, size_t errlen);

/*
 * Decodes a filter and checks it against what the caller expects, in this
 * order (the first failure is the answer):
 *   PSI_ERR_PARSE        not a feed filter (magic); cut short, or the sizes
 *                        the header declares do not add up to the length
 *                        (truncated, trailing bytes, a size field out of range);
 *   PSI_ERR_UNSUPPORTED  another version, or flags this version does not know;
 *   PSI_ERR_VERIFY       the SHA-256 digest does not match (corrupted);
 *   PSI_ERR_PARSE        an epoch, vendor id, rate or key outside its rule;
 *   PSI_ERR_EPOCH        a filter of another epoch than expect->epoch;
 *   PSI_ERR_VERIFY       another vendor, or another vendor key;
 *   PSI_ERR_PARSE        parameters libbloom does not reproduce (bits, bytes
 *                        or hashes differ from bloom_init's for the header's
 *                        entries and rate), shards that cannot hold the item
 *                        count, padding bits set;
 *   PSI_ERR_INVALID      missing arguments; PSI_ERR_NOMEM.
 * The message in err names the field and the values.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_filter_decode(struct psi_feed_filter **out,
                                                     const unsigned char *bytes, size_t len,
                                                     const struct psi_feed_filter_expect *expect,
                                                     char *err, size_t errlen);

/* psi_feed_filter_decode of the file at `path` (PSI_ERR_IO if it cannot be
 * read, PSI_ERR_NOT_FOUND if it does not exist). */
PSI_EXPORT PSI_MUST_CHECK int psi_feed_filter_load(struct psi_feed_filter **out, const char *path,
                                                   const struct psi_feed_filter_expect *expect,
                                                   char *err, size_t errlen);

PSI_EXPORT void psi_feed_filter_free(struct psi_feed_filter *filter);

#ifdef __cplusplus
}
#endif
#endif
