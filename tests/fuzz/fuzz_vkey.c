/* Fuzz target: key strings a person pastes or a file holds: note verifier
 * keys (psi_note_verifier_parse), signer keys (psi_note_signer_parse) and the
 * identity verifier keys `psi-hub admit --key` takes (psi_vkey_parse). A key
 * that parses must format to a string of the same length that parses to the
 * same key (not to the same bytes: the key ID's hex digits may come in upper
 * case, as Go's sumdb/note accepts them, and are written in lower case). */
#include "envelope.h"
#include "fuzz.h"
#include "psi/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char out[PSI_NOTE_SIGNER_KEY_MAX];
    size_t len = 0;
    struct psi_note_verifier verifier, verifier_again;
    if (psi_note_verifier_parse(&verifier, text, size) == 0)
        FUZZ_CHECK(psi_note_verifier_format(out, sizeof out, &len, &verifier) == 0 && len == size &&
                       psi_note_verifier_parse(&verifier_again, out, len) == 0 &&
                       strcmp(verifier_again.name, verifier.name) == 0 &&
                       verifier_again.key_id == verifier.key_id &&
                       memcmp(verifier_again.public_key, verifier.public_key, 32) == 0,
                   "a parsed verifier key formats to the same key");
    struct psi_note_signer signer, signer_again;
    if (psi_note_signer_parse(&signer, text, size) == 0) {
        FUZZ_CHECK(psi_note_signer_format(out, sizeof out, &len, &signer) == 0 && len == size &&
                       psi_note_signer_parse(&signer_again, out, len) == 0 &&
                       strcmp(signer_again.name, signer.name) == 0 &&
                       signer_again.key_id == signer.key_id &&
                       sodium_memcmp(signer_again.secret_key, signer.secret_key, 64) == 0,
                   "a parsed signer key formats to the same key");
        psi_note_signer_wipe(&signer);
        psi_note_signer_wipe(&signer_again);
        sodium_memzero(out, sizeof out);
    }
    char *vkey = malloc(size + 1);
    if (vkey == NULL)
        return 0;
    memcpy(vkey, data, size);
    vkey[size] = '\0';
    char name[65];
    unsigned char key[32];
    int rc = psi_vkey_parse(vkey, name, key);
    FUZZ_CHECK(rc == 0 || rc == PSI_ERR_PARSE || rc == PSI_ERR_VERIFY ||
                   rc == PSI_ERR_UNSUPPORTED || rc == PSI_ERR_TOO_LARGE,
               "a verifier key is accepted or refused as documented");
    if (rc == 0)
        FUZZ_CHECK(psi_id_is_valid(name), "an accepted key names a valid id");
    free(vkey);
    return 0;
}
