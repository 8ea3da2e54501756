/*
 * Identity keys of participants and of the hub: Ed25519 signing keys whose
 * X25519 form seals messages. Stored on disk as a small text file, created
 * with mode 0600, that a person can read:
 *
 *     untrusted comment: psi identity key of agency-a
 *     PRIVATE+KEY+agency-a+<8 hex key id>+<base64(0x01 || 32-byte seed)>
 *
 * The public form is the C2SP verifier key string NAME+KEYID+base64(0x01||pk),
 * the one string the hub prints for participants and auditors to trust, and
 * that `psi init` prints for `psi-hub admit --key`.
 */
#ifndef PSI_PROTO_IDENTITY_H
#define PSI_PROTO_IDENTITY_H

#include <stddef.h>

#define PSI_VKEY_MAX 256

struct psi_identity {
    char name[65];
    unsigned char public_key[32]; /* Ed25519 */
    unsigned char *secret_key;    /* 64-byte Ed25519 secret, in sodium_malloc'd memory */
};

/* Fresh random identity. */
int psi_identity_generate(struct psi_identity *id, const char *name);
/* Write to path with mode 0600; refuses to overwrite an existing file
 * (PSI_ERR_EXISTS); PSI_ERR_IO if it cannot be written (no partial file is
 * left behind). */
int psi_identity_save(const struct psi_identity *id, const char *path);
/* Read a key file; refuses a file readable by group or others. err gets a reason.
 * PSI_ERR_IO (cannot open/read, not a regular file), PSI_ERR_DENIED (group or
 * others have access), PSI_ERR_PARSE (not a key file), PSI_ERR_VERIFY (key id
 * does not match the key), PSI_ERR_UNSUPPORTED (not Ed25519). The comment
 * line is untrusted: the key line alone names the identity. */
int psi_identity_load(struct psi_identity *id, const char *path, char *err, size_t errlen);
/* Wipe and free the secret. */
void psi_identity_clear(struct psi_identity *id);
/* NAME+KEYID+base64(0x01||pk); PSI_ERR_TOO_LARGE if outlen is too small
 * (PSI_VKEY_MAX always suffices). */
int psi_identity_vkey(const struct psi_identity *id, char *out, size_t outlen);
/* Parse a verifier key string: name (<= 64) and 32-byte key. PSI_ERR_PARSE
 * (malformed, or the name is not a valid id), PSI_ERR_VERIFY (key id does
 * not match), PSI_ERR_UNSUPPORTED, PSI_ERR_TOO_LARGE (over PSI_VKEY_MAX). */
int psi_vkey_parse(const char *vkey, char name[65], unsigned char key[32]);

#endif
