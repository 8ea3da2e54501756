/*
 * C2SP signed-note (c2sp.org/signed-note) with Ed25519 keys (signature type
 * 0x01), byte-compatible with golang.org/x/mod/sumdb/note.
 *
 * A note is a text ending in "\n", a blank line, then one or more lines
 * "— <key name> <base64(4-byte key ID || signature)>\n". Signatures cover the
 * text including its final newline. The key ID is the first four bytes,
 * big-endian, of SHA-256(name || "\n" || 0x01 || 32-byte public key).
 * Keys travel as strings: verifier "<name>+<8 hex key ID>+<base64(0x01 || pk)>"
 * and signer "PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || seed)>".
 *
 * What this module promises:
 * - Key names are 1..PSI_NOTE_NAME_MAX bytes of valid UTF-8 without '+',
 *   Unicode spaces or control characters; key strings are parsed strictly
 *   (canonical padded base64, 8 hex digits matching the computed key ID,
 *   type 0x01, exactly 32 key bytes).
 * - psi_note_open follows the specification's rules: the whole note must be
 *   valid UTF-8 without control characters other than "\n"; the text is
 *   separated from the signatures by the last blank line; every line after
 *   it must be a well-formed signature line (at most PSI_NOTE_MAX_SIGNATURES
 *   of them, base64 canonical); signatures by keys not in the known set are
 *   ignored (a key is known when both its name and its key ID match); every
 *   signature by a known key is verified (also repeated ones), and one that
 *   fails rejects the note; a note with no verified known signature is
 *   rejected. Base64 is stricter than Go's (non-zero padding bits are refused).
 * - Signer secrets are wiped (sodium_memzero) from every temporary; the
 *   signer struct itself holds the secret until psi_note_signer_wipe.
 * Nothing allocates. Output texts are NUL-terminated; the reported length
 * does not count the NUL, and out_cap must leave room for it (on
 * PSI_ERR_TOO_LARGE, *out_len is the length that was needed). Calls that
 * make keys, sign or verify start libsodium themselves and may also return
 * PSI_ERR_CRYPTO if it cannot start.
 */
#ifndef PSI_NOTE_H
#define PSI_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest key name accepted, in bytes (a limit of this implementation). */
#define PSI_NOTE_NAME_MAX 255U
#define PSI_NOTE_PUBLIC_KEY_BYTES 32U
#define PSI_NOTE_SEED_BYTES 32U
#define PSI_NOTE_SIGNATURE_BYTES 64U
/* Signature lines a note may carry (the C2SP minimum to accept is 16; Go's
 * sumdb/note uses 100). */
#define PSI_NOTE_MAX_SIGNATURES 100U
/* Buffer sizes, NUL included, for the longest key strings. */
#define PSI_NOTE_VERIFIER_KEY_MAX (PSI_NOTE_NAME_MAX + 1U + 8U + 1U + 44U + 1U)
#define PSI_NOTE_SIGNER_KEY_MAX (12U + PSI_NOTE_NAME_MAX + 1U + 8U + 1U + 44U + 1U)
/* Bytes one Ed25519 signature line adds to a note, at most (no NUL). */
#define PSI_NOTE_SIGNATURE_LINE_MAX (4U + PSI_NOTE_NAME_MAX + 1U + 92U + 1U)

/* A public key that may sign notes. */
struct psi_note_verifier {
    char name[PSI_NOTE_NAME_MAX + 1U]; /* NUL-terminated */
    uint32_t key_id;
    unsigned char public_key[PSI_NOTE_PUBLIC_KEY_BYTES];
};

/* A signing key. secret_key is libsodium's Ed25519 form (seed || public). */
struct psi_note_signer {
    char name[PSI_NOTE_NAME_MAX + 1U];
    uint32_t key_id;
    unsigned char secret_key[64];
};

/* The key ID of an Ed25519 key named `name` (NUL-terminated). 0, or
 * PSI_ERR_INVALID for a name that breaks the rules above. */
PSI_EXPORT PSI_MUST_CHECK int psi_note_key_id(uint32_t *key_id, const char *name,
                                              const unsigned char public_key[32]);

/* A fresh random signer named `name`. 0, PSI_ERR_INVALID (name),
 * PSI_ERR_CRYPTO (libsodium could not start). */
PSI_EXPORT PSI_MUST_CHECK int psi_note_signer_generate(struct psi_note_signer *signer,
                                                       const char *name);

/* The signer of Ed25519 seed `seed` named `name`. 0 or PSI_ERR_INVALID. */
PSI_EXPORT PSI_MUST_CHECK int psi_note_signer_from_seed(struct psi_note_signer *signer,
                                                        const char *name,
                                                        const unsigned char seed[32]);

/* The verifier matching a signer. */
PSI_EXPORT void psi_note_signer_verifier(struct psi_note_verifier *verifier,
                                         const struct psi_note_signer *signer);

/* Wipes a signer (sodium_memzero). */
PSI_EXPORT void psi_note_signer_wipe(struct psi_note_signer *signer);

/* Verifier key string. 0, or PSI_ERR_TOO_LARGE if out_cap is too small
 * (PSI_NOTE_VERIFIER_KEY_MAX always suffices). */
PSI_EXPORT PSI_MUST_CHECK int psi_note_verifier_format(char *out, size_t out_cap, size_t *out_len,
                                                       const struct psi_note_verifier *verifier);

/* Parses a verifier key string (no trailing newline). 0; PSI_ERR_PARSE for a
 * malformed string (name, hex, base64, key length); PSI_ERR_UNSUPPORTED for a
 * key type other than 0x01; PSI_ERR_VERIFY if the key ID does not match the
 * name and key. */
PSI_EXPORT PSI_MUST_CHECK int psi_note_verifier_parse(struct psi_note_verifier *verifier,
                                                      const char *vkey, size_t vkey_len);

/* Signer key string. The output is a secret: the caller wipes it. 0 or
 * PSI_ERR_TOO_LARGE (PSI_NOTE_SIGNER_KEY_MAX always suffices). */
PSI_EXPORT PSI_MUST_CHECK int psi_note_signer_format(char *out, size_t out_cap, size_t *out_len,
                                                     const struct psi_note_signer *signer);

/* Parses a signer key string; errors as psi_note_verifier_parse, and the
 * key ID is checked against the public key derived from the seed. */
PSI_EXPORT PSI_MUST_CHECK int psi_note_signer_parse(struct psi_note_signer *signer,
                                                    const char *skey, size_t skey_len);

/* Signs `text` with each signer in turn: out = text "\n" then one signature
 * line per signer. 0; PSI_ERR_PARSE if the text is empty, does not end in
 * "\n", is not valid UTF-8 or holds control characters other than "\n";
 * PSI_ERR_INVALID for no signers or more than PSI_NOTE_MAX_SIGNATURES;
 * PSI_ERR_TOO_LARGE if out_cap is too small (text_len + 1 + signers *
 * PSI_NOTE_SIGNATURE_LINE_MAX + 1 always suffices). `text` may be `out`
 * itself (signing in place, as the text opens the note). */
PSI_EXPORT PSI_MUST_CHECK int psi_note_sign(char *out, size_t out_cap, size_t *out_len,
                                            const char *text, size_t text_len,
                                            const struct psi_note_signer *signers,
                                            size_t signer_count);

/* Opens a signed note against the `known` verifiers. On success (0) the text
 * is note[0 .. *text_len) (final "\n" included) and, if `verified` is not
 * NULL, verified[i] is 1 for each known key whose signature verified and 0
 * otherwise. Errors: PSI_ERR_PARSE malformed note; PSI_ERR_VERIFY a known
 * key's signature does not verify; PSI_ERR_NOT_FOUND no signature by a known
 * key; PSI_ERR_INVALID NULL arguments. */
PSI_EXPORT PSI_MUST_CHECK int psi_note_open(const char *note, size_t note_len,
                                            const struct psi_note_verifier *known,
                                            size_t known_count, size_t *text_len,
                                            unsigned char *verified);

#ifdef __cplusplus
}
#endif
#endif
