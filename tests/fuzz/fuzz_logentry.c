/* Fuzz target: entries of the audit log, as an auditor reads them from
 * log.entries or a tile mirror. An entry that decodes must encode back to
 * exactly the same bytes (one encoding per value, psi/logentry.h). The same
 * bytes are also walked as a tlog-tiles entry bundle (psi_tile_bundle_next),
 * and each entry in it is decoded. */
#include "fuzz.h"
#include "psi/error.h"
#include "psi/logentry.h"
#include "psi/tiles.h"

static void decode(const unsigned char *in, size_t len)
{
    static unsigned char again[PSI_LOGENTRY_MAX_BYTES];
    struct psi_logentry entry;
    int rc = psi_logentry_decode(&entry, in, len);
    if (rc != 0) {
        FUZZ_CHECK(rc == PSI_ERR_PARSE || rc == PSI_ERR_UNSUPPORTED, "refused as documented");
        return;
    }
    size_t again_len = 0;
    FUZZ_CHECK(psi_logentry_encode(again, sizeof again, &again_len, &entry) == 0 &&
                   again_len == len && memcmp(again, in, len) == 0,
               "a decoded entry encodes back to the same bytes");
    if (entry.kind <= PSI_LOGENTRY_REMOVE) {
        size_t offset = 0, ids = 0;
        char id[PSI_LOGENTRY_ID_MAX + 1];
        while (psi_logentry_share_next(entry.u.roster.share_list, entry.u.roster.share_list_len,
                                       &offset, id) == 0) {
            FUZZ_CHECK(psi_id_is_valid(id), "a share list holds valid ids");
            ids++;
        }
        FUZZ_CHECK(ids == entry.u.roster.share_count, "a share list holds share_count ids");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode(data, size);
    size_t offset = 0;
    const unsigned char *entry = NULL;
    size_t entry_len = 0;
    int rc;
    while ((rc = psi_tile_bundle_next(data, size, &offset, &entry, &entry_len)) == 0) {
        FUZZ_CHECK(entry_len <= size && offset <= size, "a bundle entry lies inside the bundle");
        decode(entry, entry_len);
    }
    FUZZ_CHECK(rc == PSI_ERR_NOT_FOUND || rc == PSI_ERR_PARSE, "a bundle ends or is cut short");
    return 0;
}
