/* Fuzz target: feed filter files (psi_feed_filter_decode), as an agency
 * downloads them from a vendor through the hub. Each input is decoded twice:
 * as it is, and with its closing SHA-256 digest recomputed, so that mutations
 * reach the checks behind the digest (a fuzzer does not find SHA-256 by
 * chance). The expectation is the fixture's epoch, vendor and vendor key. A
 * refusal must say why; a filter that decodes must encode back to the same
 * bytes and answer queries with 0 or 1. */
#include "fuzz.h"
#include "psi/error.h"
#include "psi/feedfilter.h"

static void decode(const unsigned char *bytes, size_t len)
{
    static unsigned char vendor_key[PSI_FEED_FILTER_KEY_BYTES];
    static int ready;
    if (!ready) {
        fuzz_vendor_key(vendor_key);
        ready = 1;
    }
    const struct psi_feed_filter_expect expect = {FUZZ_EPOCH, FUZZ_VENDOR_NAME, vendor_key};
    struct psi_feed_filter *filter = NULL;
    char err[256] = "";
    int rc = psi_feed_filter_decode(&filter, bytes, len, &expect, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(filter == NULL && err[0] != '\0', "a refused filter comes with a reason");
        FUZZ_CHECK(rc == PSI_ERR_PARSE || rc == PSI_ERR_UNSUPPORTED || rc == PSI_ERR_VERIFY ||
                       rc == PSI_ERR_EPOCH,
                   "a filter is refused with a documented code");
        return;
    }
    uint64_t size = 0;
    unsigned char *again = malloc(len + 1);
    size_t again_len = 0;
    FUZZ_CHECK(psi_feed_filter_encoded_size(filter, &size) == 0 && size == len,
               "a decoded filter's encoded size is its length");
    FUZZ_CHECK(again != NULL && psi_feed_filter_encode(filter, again, len, &again_len) == 0 &&
                   again_len == len && memcmp(again, bytes, len) == 0,
               "a decoded filter encodes back to the same bytes");
    free(again);
    unsigned char output[PSI_FEED_FILTER_ITEM_BYTES];
    for (size_t i = 0; i + sizeof output <= len && i < 4 * sizeof output; i += sizeof output) {
        memcpy(output, bytes + i, sizeof output);
        rc = psi_feed_filter_contains(filter, output);
        FUZZ_CHECK(rc == 0 || rc == 1, "a query answers 0 or 1");
    }
    psi_feed_filter_free(filter);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode(data, size);
    if (size < PSI_FEED_FILTER_DIGEST_BYTES)
        return 0;
    unsigned char *fixed = malloc(size);
    if (fixed == NULL)
        return 0;
    memcpy(fixed, data, size);
    crypto_hash_sha256(fixed + size - PSI_FEED_FILTER_DIGEST_BYTES, fixed,
                       size - PSI_FEED_FILTER_DIGEST_BYTES);
    decode(fixed, size);
    free(fixed);
    return 0;
}
