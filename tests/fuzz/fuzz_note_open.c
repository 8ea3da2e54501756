/* Fuzz target: a signed note (psi_note_open), as auditors and clients read
 * checkpoints. The known keys are the fixture log key and the agency's key
 * (seeds signed by gen_seeds verify); notes by unknown keys, such as the
 * spec's vectors, exercise the parser up to the key lookup. */
#include "fuzz.h"
#include "psi/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct psi_note_verifier known[2];
    if (known[0].name[0] == '\0') {
        struct psi_identity agency;
        fuzz_log_verifier(&known[0]);
        fuzz_identity(&agency, FUZZ_AGENCY);
        snprintf(known[1].name, sizeof known[1].name, "%s", agency.name);
        memcpy(known[1].public_key, agency.public_key, 32);
        if (psi_note_key_id(&known[1].key_id, known[1].name, known[1].public_key) != 0)
            abort();
        psi_identity_clear(&agency);
    }
    size_t text_len = SIZE_MAX;
    unsigned char verified[2] = {7, 7};
    int rc = psi_note_open((const char *)data, size, known, 2, &text_len, verified);
    if (rc != 0) {
        FUZZ_CHECK(rc == PSI_ERR_PARSE || rc == PSI_ERR_VERIFY || rc == PSI_ERR_NOT_FOUND,
                   "a note is refused as malformed, unverified or unknown");
        return 0;
    }
    FUZZ_CHECK(text_len > 0 && text_len < size && data[text_len - 1] == '\n',
               "an opened note's text is a prefix ending in a newline");
    FUZZ_CHECK(verified[0] <= 1 && verified[1] <= 1 && verified[0] + verified[1] >= 1,
               "an opened note is verified by at least one known key");
    return 0;
}
