/* Fuzz target: receipts (C2SP tlog-proof). A receipt that parses must format
 * back to the same bytes, but for the one second spelling the parser accepts
 * on purpose (psi/tlog/checkpoint_test.c): an "extra " line with no data, read as
 * no extra data and formatted as no line. It is then verified
 * (psi_tlog_proof_verify) with the fixture log key for the entry its extra
 * line carries (as the hub's receipts do), and that entry is decoded as a
 * log entry. */
#include "fuzz.h"
#include "psi/checkpoint.h"
#include "psi/error.h"
#include "psi/logentry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct psi_note_verifier log_key;
    static struct psi_tlog_proof proof;
    static unsigned char extra[PSI_LOGENTRY_MAX_BYTES];
    if (log_key.name[0] == '\0')
        fuzz_log_verifier(&log_key);
    const char *text = (const char *)data;
    int rc = psi_tlog_proof_parse(&proof, text, size, extra, sizeof extra);
    if (rc != 0) {
        FUZZ_CHECK(rc == PSI_ERR_PARSE || rc == PSI_ERR_TOO_LARGE,
                   "a receipt is refused as documented");
        return 0;
    }
    static const char header[] = PSI_TLOG_PROOF_HEADER "\n", empty_extra[] = "extra \n";
    size_t skip = 0; /* the empty extra line's bytes, which the format omits */
    if (size >= strlen(header) + strlen(empty_extra) &&
        memcmp(text + strlen(header), empty_extra, strlen(empty_extra)) == 0)
        skip = strlen(empty_extra);
    char *again = malloc(size + 1);
    size_t len = 0;
    FUZZ_CHECK(
        again != NULL && psi_tlog_proof_format(again, size + 1, &len, &proof) == 0 &&
            len == size - skip && memcmp(again, text, strlen(header)) == 0 &&
            memcmp(again + strlen(header), text + strlen(header) + skip, len - strlen(header)) == 0,
        "a parsed receipt formats back to the same bytes");
    free(again);
    unsigned char leaf[32];
    struct psi_checkpoint cp;
    psi_merkle_leaf_hash(leaf, proof.extra, proof.extra_len);
    rc = psi_tlog_proof_verify(&proof, &log_key, FUZZ_LOG_ORIGIN, leaf, &cp);
    FUZZ_CHECK(rc == 0 || rc == PSI_ERR_PARSE || rc == PSI_ERR_VERIFY || rc == PSI_ERR_NOT_FOUND ||
                   rc == PSI_ERR_DENIED,
               "a receipt verifies or is refused with a documented code");
    if (rc == 0) {
        FUZZ_CHECK(proof.index < cp.size, "a verified receipt's entry lies inside its tree");
        struct psi_logentry entry;
        (void)psi_logentry_decode(&entry, proof.extra, proof.extra_len);
    }
    return 0;
}
