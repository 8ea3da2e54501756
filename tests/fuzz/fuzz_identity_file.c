/* Fuzz target: identity key files (psi_identity_load), as `psi` and `psi-hub`
 * read them at every start. The loader reads a path and has no buffer entry,
 * so the bytes are written to a 0600 temporary file, made once, unlinked at
 * once (it is read through /proc/self/fd) and rewritten for every input. A
 * refused file must come with a reason; a loaded one must yield its verifier
 * key string. */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "psi/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static int fd = -1;
    if (fd < 0) {
        char name[4096];
        snprintf(name, sizeof name, "%s/psi-fuzz-identity-XXXXXX", fuzz_tmpdir());
        fd = mkstemp(name); /* mode 0600, as the loader demands */
        if (fd < 0 || unlink(name) != 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    struct psi_identity id;
    char err[256] = "";
    int rc = psi_identity_load(&id, path, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == PSI_ERR_PARSE || rc == PSI_ERR_VERIFY || rc == PSI_ERR_UNSUPPORTED ||
                       rc == PSI_ERR_IO,
                   "a key file is refused as documented");
        FUZZ_CHECK(err[0] != '\0', "a refused key file comes with a reason");
        FUZZ_CHECK(id.secret_key == NULL, "a refused key file leaves no secret behind");
        return 0;
    }
    char vkey[PSI_VKEY_MAX];
    FUZZ_CHECK(psi_identity_vkey(&id, vkey, sizeof vkey) == 0, "a loaded identity has a vkey");
    psi_identity_clear(&id);
    return 0;
}
