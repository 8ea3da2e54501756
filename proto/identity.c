/*
 * Identity keys (see identity.h). The file is written once and never
 * rewritten, so a crash leaves either no file or a complete one after fsync;
 * the load path trusts nothing in it: permissions, size, line shapes, the key
 * id and the name are all checked, and every buffer that held the seed is
 * wiped.
 */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "envelope.h"
#include "error_text.h"
#include "psi/error.h"
#include "psi/note.h"

#define SEED_BYTES crypto_sign_SEEDBYTES
#define SECRET_BYTES crypto_sign_SECRETKEYBYTES
#define COMMENT_PREFIX "untrusted comment: "
/* A key file is two short lines; anything much larger is not one. */
#define KEY_FILE_MAX 1024

/* Fills id from a name and a seed; the secret lives in guarded memory. */
static int identity_from_seed(struct psi_identity *id, const char *name,
                              const unsigned char seed[SEED_BYTES])
{
    size_t n = strlen(name);
    unsigned char *secret = sodium_malloc(SECRET_BYTES);
    if (secret == NULL)
        return PSI_ERR_NOMEM;
    if (crypto_sign_seed_keypair(id->public_key, secret, seed) != 0) {
        sodium_free(secret);
        return PSI_ERR_CRYPTO;
    }
    sodium_mprotect_readonly(secret);
    memcpy(id->name, name, n + 1);
    id->secret_key = secret;
    return 0;
}

int psi_identity_generate(struct psi_identity *id, const char *name)
{
    if (id == NULL)
        return PSI_ERR_INVALID;
    memset(id, 0, sizeof *id);
    if (!psi_id_is_valid(name))
        return PSI_ERR_INVALID;
    if (sodium_init() < 0)
        return PSI_ERR_CRYPTO;
    unsigned char seed[SEED_BYTES];
    randombytes_buf(seed, sizeof seed);
    int rc = identity_from_seed(id, name, seed);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

void psi_identity_clear(struct psi_identity *id)
{
    if (id == NULL)
        return;
    if (id->secret_key != NULL)
        sodium_free(id->secret_key); /* wipes before unmapping */
    sodium_memzero(id, sizeof *id);
}

/* ------------------------------------------------------------ public form */

int psi_identity_vkey(const struct psi_identity *id, char *out, size_t outlen)
{
    if (id == NULL || out == NULL || !psi_id_is_valid(id->name))
        return PSI_ERR_INVALID;
    struct psi_note_verifier verifier;
    memset(&verifier, 0, sizeof verifier);
    memcpy(verifier.name, id->name, strlen(id->name) + 1);
    memcpy(verifier.public_key, id->public_key, sizeof verifier.public_key);
    int rc = psi_note_key_id(&verifier.key_id, id->name, id->public_key);
    if (rc != 0)
        return rc;
    size_t len = 0;
    return psi_note_verifier_format(out, outlen, &len, &verifier);
}

int psi_vkey_parse(const char *vkey, char name[65], unsigned char key[32])
{
    if (vkey == NULL || name == NULL || key == NULL)
        return PSI_ERR_INVALID;
    size_t len = strnlen(vkey, PSI_VKEY_MAX + 1);
    if (len > PSI_VKEY_MAX)
        return PSI_ERR_TOO_LARGE;
    struct psi_note_verifier verifier;
    int rc = psi_note_verifier_parse(&verifier, vkey, len);
    if (rc != 0)
        return rc;
    /* Every key names a participant (or the hub): the same rules as ids. */
    if (!psi_id_is_valid(verifier.name))
        return PSI_ERR_PARSE;
    memcpy(name, verifier.name, strlen(verifier.name) + 1);
    memcpy(key, verifier.public_key, sizeof verifier.public_key);
    return 0;
}

/* ------------------------------------------------------------ key files */

static int write_all(int fd, const char *bytes, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The directory entry must be durable too, or a crash can lose a key that
 * was reported saved. Some file systems cannot sync a directory (EINVAL):
 * there the file's own fsync is all there is. */
static int sync_parent_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL) {
        dir[0] = '.';
        dir[1] = '\0';
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir)
            return 0;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int rc = (fsync(fd) != 0 && errno != EINVAL && errno != EBADF) ? -1 : 0;
    close(fd);
    return rc;
}

int psi_identity_save(const struct psi_identity *id, const char *path)
{
    if (id == NULL || id->secret_key == NULL || path == NULL || path[0] == '\0' ||
        !psi_id_is_valid(id->name))
        return PSI_ERR_INVALID;
    if (sodium_init() < 0)
        return PSI_ERR_CRYPTO;

    /* The signer and the text hold the seed: keep both in guarded memory. */
    struct psi_note_signer *signer = sodium_malloc(sizeof *signer);
    size_t text_cap = sizeof COMMENT_PREFIX + 64 + PSI_ID_MAX + PSI_NOTE_SIGNER_KEY_MAX + 2;
    char *text = sodium_malloc(text_cap);
    if (signer == NULL || text == NULL) {
        if (signer != NULL)
            sodium_free(signer);
        if (text != NULL)
            sodium_free(text);
        return PSI_ERR_NOMEM;
    }
    int rc = psi_note_signer_from_seed(signer, id->name, id->secret_key); /* seed || pk */
    size_t len = 0, key_len = 0;
    if (rc == 0) {
        int n = snprintf(text, text_cap, COMMENT_PREFIX "psi identity key of %s\n", id->name);
        len = n > 0 ? (size_t)n : 0;
        rc = n > 0 && (size_t)n < text_cap ? 0 : PSI_ERR_INVALID;
    }
    if (rc == 0)
        rc = psi_note_signer_format(text + len, text_cap - len, &key_len, signer);
    if (rc == 0 && len + key_len + 1 < text_cap) {
        len += key_len;
        text[len++] = '\n';
    } else if (rc == 0) {
        rc = PSI_ERR_TOO_LARGE;
    }
    /* The signer's public half must be ours: the seed alone is stored. */
    if (rc == 0 && sodium_memcmp(signer->secret_key + 32, id->public_key, 32) != 0)
        rc = PSI_ERR_INVALID;

    if (rc == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            rc = errno == EEXIST ? PSI_ERR_EXISTS : PSI_ERR_IO;
        } else {
            /* A umask cannot widen the mode, but make it exactly 0600. */
            int failed = fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0;
            failed = close(fd) != 0 || failed;
            if (failed) {
                unlink(path); /* never leave half a key behind */
                rc = PSI_ERR_IO;
            } else if (sync_parent_directory(path) != 0) {
                rc = PSI_ERR_IO;
            }
        }
    }
    sodium_free(text);
    sodium_free(signer);
    return rc;
}

/* Reads the whole file into guarded memory after checking what it is. */
static int read_key_file(const char *path, char **text, size_t *text_len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        psi_proto_set_error(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
        return PSI_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        psi_proto_set_error(err, errlen, "cannot inspect key file %s: %s", path, strerror(errno));
        close(fd);
        return PSI_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        psi_proto_set_error(err, errlen, "key file %s is not a regular file", path);
        close(fd);
        return PSI_ERR_IO;
    }
    if ((st.st_mode & 077) != 0) {
        psi_proto_set_error(err, errlen,
                            "key file %s is accessible by group or others (mode %04o); "
                            "run: chmod 600 %s",
                            path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return PSI_ERR_DENIED;
    }
    if (st.st_size > KEY_FILE_MAX) {
        psi_proto_set_error(err, errlen, "key file %s is too large to be a key file (%lld bytes)",
                            path, (long long)st.st_size);
        close(fd);
        return PSI_ERR_PARSE;
    }
    char *buf = sodium_malloc(KEY_FILE_MAX + 1);
    if (buf == NULL) {
        close(fd);
        return PSI_ERR_NOMEM;
    }
    size_t len = 0;
    /* Read to EOF, not to st_size: the file may change under us. */
    for (;;) {
        ssize_t n = read(fd, buf + len, KEY_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            psi_proto_set_error(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
            sodium_free(buf);
            close(fd);
            return PSI_ERR_IO;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > KEY_FILE_MAX) {
            psi_proto_set_error(err, errlen, "key file %s is too large to be a key file", path);
            sodium_free(buf);
            close(fd);
            return PSI_ERR_PARSE;
        }
    }
    close(fd);
    buf[len] = '\0';
    *text = buf;
    *text_len = len;
    return 0;
}

/* Checks the two lines and parses the key line into signer. The comment is
 * untrusted by name: it must be there and be printable text, but what it
 * says is ignored; the key line alone says whose key this is. */
static int parse_key_file(const char *path, const char *text, size_t len,
                          struct psi_note_signer *signer, char *err, size_t errlen)
{
    const size_t prefix = sizeof COMMENT_PREFIX - 1;
    if (len < prefix || memcmp(text, COMMENT_PREFIX, prefix) != 0) {
        psi_proto_set_error(err, errlen, "%s:1: not a psi key file (expected \"%s...\")", path,
                            COMMENT_PREFIX);
        return PSI_ERR_PARSE;
    }
    const char *newline = memchr(text, '\n', len);
    if (newline == NULL) {
        psi_proto_set_error(err, errlen, "%s:2: the key line is missing", path);
        return PSI_ERR_PARSE;
    }
    for (const char *p = text; p < newline; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f) {
            psi_proto_set_error(err, errlen, "%s:1: control character in the comment line", path);
            return PSI_ERR_PARSE;
        }
    }
    const char *key = newline + 1;
    size_t key_len = len - (size_t)(key - text);
    if (key_len > 0 && key[key_len - 1] == '\n')
        key_len--; /* the final newline is optional */
    if (key_len == 0) {
        psi_proto_set_error(err, errlen, "%s:2: the key line is missing", path);
        return PSI_ERR_PARSE;
    }
    if (memchr(key, '\n', key_len) != NULL || memchr(key, '\0', key_len) != NULL) {
        psi_proto_set_error(err, errlen, "%s:3: unexpected text after the key line", path);
        return PSI_ERR_PARSE;
    }
    int rc = psi_note_signer_parse(signer, key, key_len);
    if (rc == PSI_ERR_UNSUPPORTED) {
        psi_proto_set_error(err, errlen, "%s:2: not an Ed25519 key", path);
    } else if (rc == PSI_ERR_VERIFY) {
        psi_proto_set_error(err, errlen, "%s:2: the key id does not match the key (damaged file?)",
                            path);
    } else if (rc != 0) {
        psi_proto_set_error(
            err, errlen, "%s:2: malformed key line (expected PRIVATE+KEY+name+keyid+base64)", path);
        rc = PSI_ERR_PARSE;
    } else if (!psi_id_is_valid(signer->name)) {
        psi_proto_set_error(err, errlen,
                            "%s:2: key name is not a valid id (1..%u of A-Z a-z 0-9 . _ -)", path,
                            PSI_ID_MAX);
        rc = PSI_ERR_PARSE;
    }
    return rc;
}

int psi_identity_load(struct psi_identity *id, const char *path, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (id == NULL || path == NULL) {
        psi_proto_set_error(err, errlen, "no identity or path given");
        return PSI_ERR_INVALID;
    }
    memset(id, 0, sizeof *id);
    if (sodium_init() < 0) {
        psi_proto_set_error(err, errlen, "libsodium could not start");
        return PSI_ERR_CRYPTO;
    }
    char *text = NULL;
    size_t len = 0;
    int rc = read_key_file(path, &text, &len, err, errlen);
    if (rc != 0)
        return rc;
    struct psi_note_signer *signer = sodium_malloc(sizeof *signer);
    if (signer == NULL) {
        sodium_free(text);
        psi_proto_set_error(err, errlen, "out of memory");
        return PSI_ERR_NOMEM;
    }
    rc = parse_key_file(path, text, len, signer, err, errlen);
    if (rc == 0) {
        rc = identity_from_seed(id, signer->name, signer->secret_key);
        if (rc != 0)
            psi_proto_set_error(err, errlen, "%s: cannot set up the key: %s", path,
                                psi_strerror(rc));
    }
    sodium_free(signer);
    sodium_free(text);
    return rc;
}
