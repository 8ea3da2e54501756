/* Fuzz target: checkpoints. The bytes are parsed as a checkpoint body
 * (psi_checkpoint_parse), which must format back to exactly the same bytes
 * (the grammar has one spelling per value), and opened as a signed
 * checkpoint (psi_checkpoint_open) with the fixture log key and origin. */
#include "fuzz.h"
#include "psi/checkpoint.h"
#include "psi/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct psi_note_verifier log_key;
    if (log_key.name[0] == '\0')
        fuzz_log_verifier(&log_key);
    const char *text = (const char *)data;
    struct psi_checkpoint cp;
    if (psi_checkpoint_parse(&cp, text, size) == 0) {
        char *again = malloc(size + 1);
        size_t len = 0;
        FUZZ_CHECK(again != NULL && psi_checkpoint_format(again, size + 1, &len, &cp) == 0 &&
                       len == size && memcmp(again, text, size) == 0,
                   "a parsed checkpoint formats back to the same bytes");
        free(again);
    }
    int rc = psi_checkpoint_open(&cp, text, size, &log_key, FUZZ_LOG_ORIGIN);
    FUZZ_CHECK(rc == 0 || rc == PSI_ERR_PARSE || rc == PSI_ERR_VERIFY || rc == PSI_ERR_NOT_FOUND ||
                   rc == PSI_ERR_DENIED,
               "a checkpoint is opened or refused with a documented code");
    if (rc == 0)
        FUZZ_CHECK(strcmp(cp.origin, FUZZ_LOG_ORIGIN) == 0, "an opened checkpoint has our origin");
    return 0;
}
