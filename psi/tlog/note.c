#include "psi/note.h"

#include <string.h>

#include <sodium.h>

#include "psi/error.h"
#include "tlog_text.h"

#define ALG_ED25519 0x01U
/* U+2014 EM DASH and a space open every signature line. */
static const char sig_prefix[] = "\xE2\x80\x94 ";
#define SIG_PREFIX_LEN 4U
static const char signer_prefix[] = "PRIVATE+KEY+";
#define SIGNER_PREFIX_LEN 12U

/* libsodium wants sodium_init before use; it is idempotent and cheap after
 * the first call, so every entry point that signs or verifies calls it. */
static int sodium_ready(void)
{
    return sodium_init() < 0 ? PSI_ERR_CRYPTO : PSI_OK;
}

static int name_ok(const char *name, size_t len)
{
    return psi_tlog_name_ok(name, len, PSI_NOTE_NAME_MAX);
}

/* strlen bounded by the name limit, so a missing NUL cannot run away. */
static size_t name_len(const char *name)
{
    const char *nul = memchr(name, '\0', PSI_NOTE_NAME_MAX + 1U);
    return nul == NULL ? PSI_NOTE_NAME_MAX + 1U : (size_t)(nul - name);
}

static uint32_t compute_key_id(const char *name, size_t len, const unsigned char public_key[32])
{
    static const unsigned char sep_alg[2] = {'\n', ALG_ED25519};
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)name, len);
    crypto_hash_sha256_update(&st, sep_alg, sizeof sep_alg);
    crypto_hash_sha256_update(&st, public_key, 32);
    crypto_hash_sha256_final(&st, digest);
    return (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 | (uint32_t)digest[2] << 8 |
           (uint32_t)digest[3];
}

int psi_note_key_id(uint32_t *key_id, const char *name, const unsigned char public_key[32])
{
    size_t len;
    if (key_id == NULL || name == NULL || public_key == NULL)
        return PSI_ERR_INVALID;
    len = name_len(name);
    if (!name_ok(name, len))
        return PSI_ERR_INVALID;
    *key_id = compute_key_id(name, len, public_key);
    return PSI_OK;
}

int psi_note_signer_from_seed(struct psi_note_signer *signer, const char *name,
                              const unsigned char seed[32])
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    size_t len;

    if (signer == NULL || name == NULL || seed == NULL)
        return PSI_ERR_INVALID;
    len = name_len(name);
    if (!name_ok(name, len))
        return PSI_ERR_INVALID;
    if (sodium_ready() != 0)
        return PSI_ERR_CRYPTO;
    memset(signer, 0, sizeof *signer);
    if (crypto_sign_seed_keypair(pk, signer->secret_key, seed) != 0) {
        psi_note_signer_wipe(signer);
        return PSI_ERR_CRYPTO;
    }
    memcpy(signer->name, name, len);
    signer->name[len] = '\0';
    signer->key_id = compute_key_id(name, len, pk);
    return PSI_OK;
}

int psi_note_signer_generate(struct psi_note_signer *signer, const char *name)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    int rc;
    if (sodium_ready() != 0)
        return PSI_ERR_CRYPTO;
    randombytes_buf(seed, sizeof seed);
    rc = psi_note_signer_from_seed(signer, name, seed);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

void psi_note_signer_verifier(struct psi_note_verifier *verifier,
                              const struct psi_note_signer *signer)
{
    memset(verifier, 0, sizeof *verifier);
    memcpy(verifier->name, signer->name, sizeof verifier->name);
    verifier->key_id = signer->key_id;
    /* libsodium keeps the public key in the second half of the secret key. */
    memcpy(verifier->public_key, signer->secret_key + 32, 32);
}

void psi_note_signer_wipe(struct psi_note_signer *signer)
{
    if (signer != NULL)
        sodium_memzero(signer, sizeof *signer);
}

static void out_key_id(struct psi_tlog_out *o, uint32_t key_id)
{
    static const char hexdigits[] = "0123456789abcdef";
    char hex[8];
    for (unsigned i = 0; i < 8; i++)
        hex[i] = hexdigits[(key_id >> (28U - 4U * i)) & 0xFU];
    psi_tlog_out_bytes(o, hex, sizeof hex);
}

int psi_note_verifier_format(char *out, size_t out_cap, size_t *out_len,
                             const struct psi_note_verifier *verifier)
{
    struct psi_tlog_out o = {out, out_cap, 0, 0};
    unsigned char key[1 + 32];
    size_t len;

    if (out == NULL || verifier == NULL)
        return PSI_ERR_INVALID;
    len = name_len(verifier->name);
    if (!name_ok(verifier->name, len))
        return PSI_ERR_INVALID;
    key[0] = ALG_ED25519;
    memcpy(key + 1, verifier->public_key, 32);
    psi_tlog_out_bytes(&o, verifier->name, len);
    psi_tlog_out_bytes(&o, "+", 1);
    out_key_id(&o, verifier->key_id);
    psi_tlog_out_bytes(&o, "+", 1);
    psi_tlog_out_b64(&o, key, sizeof key);
    return psi_tlog_out_finish(&o, out_len);
}

int psi_note_signer_format(char *out, size_t out_cap, size_t *out_len,
                           const struct psi_note_signer *signer)
{
    struct psi_tlog_out o = {out, out_cap, 0, 0};
    unsigned char key[1 + 32];
    size_t len;
    int rc;

    if (out == NULL || signer == NULL)
        return PSI_ERR_INVALID;
    len = name_len(signer->name);
    if (!name_ok(signer->name, len))
        return PSI_ERR_INVALID;
    key[0] = ALG_ED25519;
    memcpy(key + 1, signer->secret_key, 32); /* the seed */
    psi_tlog_out_bytes(&o, signer_prefix, SIGNER_PREFIX_LEN);
    psi_tlog_out_bytes(&o, signer->name, len);
    psi_tlog_out_bytes(&o, "+", 1);
    out_key_id(&o, signer->key_id);
    psi_tlog_out_bytes(&o, "+", 1);
    psi_tlog_out_b64(&o, key, sizeof key);
    sodium_memzero(key, sizeof key);
    rc = psi_tlog_out_finish(&o, out_len);
    if (rc != 0)
        sodium_memzero(out, out_cap); /* a partial secret is still a secret */
    return rc;
}

static int parse_hex_key_id(const char *s, size_t len, uint32_t *key_id)
{
    uint32_t v = 0;
    if (len != 8)
        return PSI_ERR_PARSE;
    for (size_t i = 0; i < 8; i++) {
        unsigned d;
        char c = s[i];
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return PSI_ERR_PARSE;
        v = v << 4 | d;
    }
    *key_id = v;
    return PSI_OK;
}

/* The common tail of both key strings: "<name>+<hex8>+<base64(type || key)>",
 * split on '+' at most twice since base64 holds '+'. The 32 key bytes land in
 * `key` (a secret for signers: callers wipe it). */
static int parse_key_tail(const char *s, size_t len, char name[PSI_NOTE_NAME_MAX + 1U],
                          size_t *name_length, uint32_t *key_id, unsigned char key[32])
{
    const char *plus1 = memchr(s, '+', len);
    const char *hex, *plus2, *b64;
    size_t nlen, b64_len, decoded = 0;
    unsigned char typed[1 + 32];
    int rc;

    if (plus1 == NULL)
        return PSI_ERR_PARSE;
    nlen = (size_t)(plus1 - s);
    hex = plus1 + 1;
    plus2 = memchr(hex, '+', len - nlen - 1U);
    if (plus2 == NULL)
        return PSI_ERR_PARSE;
    b64 = plus2 + 1;
    b64_len = len - (size_t)(b64 - s);
    if (!name_ok(s, nlen) || parse_hex_key_id(hex, (size_t)(plus2 - hex), key_id) != 0)
        return PSI_ERR_PARSE;
    rc = psi_tlog_b64_decode(b64, b64_len, typed, sizeof typed, &decoded);
    if (rc == 0 && decoded == 0)
        rc = PSI_ERR_PARSE;
    if (rc == 0 && typed[0] != ALG_ED25519)
        rc = PSI_ERR_UNSUPPORTED;
    if (rc == 0 && decoded != sizeof typed)
        rc = PSI_ERR_PARSE;
    if (rc == 0) {
        memcpy(key, typed + 1, 32);
        memcpy(name, s, nlen);
        name[nlen] = '\0';
        *name_length = nlen;
    }
    sodium_memzero(typed, sizeof typed);
    return rc;
}

int psi_note_verifier_parse(struct psi_note_verifier *verifier, const char *vkey, size_t vkey_len)
{
    struct psi_note_verifier v;
    size_t nlen = 0;
    int rc;

    if (verifier == NULL || vkey == NULL)
        return PSI_ERR_INVALID;
    memset(verifier, 0, sizeof *verifier);
    memset(&v, 0, sizeof v);
    rc = parse_key_tail(vkey, vkey_len, v.name, &nlen, &v.key_id, v.public_key);
    if (rc != 0)
        return rc;
    if (compute_key_id(v.name, nlen, v.public_key) != v.key_id)
        return PSI_ERR_VERIFY;
    *verifier = v;
    return PSI_OK;
}

int psi_note_signer_parse(struct psi_note_signer *signer, const char *skey, size_t skey_len)
{
    char name[PSI_NOTE_NAME_MAX + 1U];
    unsigned char seed[32];
    uint32_t key_id = 0;
    size_t nlen = 0;
    int rc;

    if (signer == NULL || skey == NULL)
        return PSI_ERR_INVALID;
    memset(signer, 0, sizeof *signer);
    if (skey_len < SIGNER_PREFIX_LEN || memcmp(skey, signer_prefix, SIGNER_PREFIX_LEN) != 0)
        return PSI_ERR_PARSE;
    rc = parse_key_tail(skey + SIGNER_PREFIX_LEN, skey_len - SIGNER_PREFIX_LEN, name, &nlen,
                        &key_id, seed);
    if (rc == 0)
        rc = psi_note_signer_from_seed(signer, name, seed);
    if (rc == 0 && signer->key_id != key_id) {
        psi_note_signer_wipe(signer);
        rc = PSI_ERR_VERIFY;
    }
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int psi_note_sign(char *out, size_t out_cap, size_t *out_len, const char *text, size_t text_len,
                  const struct psi_note_signer *signers, size_t signer_count)
{
    struct psi_tlog_out o = {out, out_cap, 0, 0};

    if (out == NULL || text == NULL || (signers == NULL && signer_count > 0))
        return PSI_ERR_INVALID;
    if (signer_count == 0 || signer_count > PSI_NOTE_MAX_SIGNATURES)
        return PSI_ERR_INVALID;
    if (text_len == 0 || text[text_len - 1] != '\n' || !psi_tlog_text_ok(text, text_len))
        return PSI_ERR_PARSE;
    for (size_t i = 0; i < signer_count; i++) {
        if (!name_ok(signers[i].name, name_len(signers[i].name)))
            return PSI_ERR_INVALID;
    }
    if (sodium_ready() != 0)
        return PSI_ERR_CRYPTO;
    psi_tlog_out_bytes(&o, text, text_len);
    psi_tlog_out_bytes(&o, "\n", 1);
    for (size_t i = 0; i < signer_count; i++) {
        const struct psi_note_signer *s = &signers[i];
        unsigned char sig[4 + crypto_sign_BYTES];
        sig[0] = (unsigned char)(s->key_id >> 24);
        sig[1] = (unsigned char)(s->key_id >> 16);
        sig[2] = (unsigned char)(s->key_id >> 8);
        sig[3] = (unsigned char)s->key_id;
        if (crypto_sign_detached(sig + 4, NULL, (const unsigned char *)text, text_len,
                                 s->secret_key) != 0)
            return PSI_ERR_CRYPTO;
        psi_tlog_out_bytes(&o, sig_prefix, SIG_PREFIX_LEN);
        psi_tlog_out_str(&o, s->name);
        psi_tlog_out_bytes(&o, " ", 1);
        psi_tlog_out_b64(&o, sig, sizeof sig);
        psi_tlog_out_bytes(&o, "\n", 1);
    }
    return psi_tlog_out_finish(&o, out_len);
}

/* Index of the last "\n\n" in s[0..len), or len if there is none. */
static size_t last_blank_line(const char *s, size_t len)
{
    for (size_t i = len; i >= 2; i--) {
        if (s[i - 1] == '\n' && s[i - 2] == '\n')
            return i - 2;
    }
    return len;
}

static int open_note(const char *note, size_t note_len, const struct psi_note_verifier *known,
                     size_t known_count, size_t *text_len, unsigned char *verified)
{
    size_t split, pos, text_end, lines = 0, good = 0;
    int failed = 0;

    if (!psi_tlog_text_ok(note, note_len))
        return PSI_ERR_PARSE;
    split = last_blank_line(note, note_len);
    if (split == note_len)
        return PSI_ERR_PARSE;
    text_end = split + 1U; /* the text keeps its final newline */
    pos = split + 2U;
    if (pos == note_len || note[note_len - 1] != '\n')
        return PSI_ERR_PARSE;

    while (pos < note_len) {
        const char *line = note + pos;
        const char *nl = memchr(line, '\n', note_len - pos);
        size_t line_len = (size_t)(nl - line); /* nl != NULL: the note ends in "\n" */
        const char *name, *space, *b64;
        size_t nlen, b64_len, decoded = 0;
        unsigned char sig[4 + crypto_sign_BYTES];
        uint32_t key_id;

        pos += line_len + 1U;
        if (++lines > PSI_NOTE_MAX_SIGNATURES)
            return PSI_ERR_PARSE;
        if (line_len < SIG_PREFIX_LEN || memcmp(line, sig_prefix, SIG_PREFIX_LEN) != 0)
            return PSI_ERR_PARSE;
        name = line + SIG_PREFIX_LEN;
        space = memchr(name, ' ', line_len - SIG_PREFIX_LEN);
        if (space == NULL)
            return PSI_ERR_PARSE;
        nlen = (size_t)(space - name);
        b64 = space + 1;
        b64_len = line_len - SIG_PREFIX_LEN - nlen - 1U;
        /* Names of unknown keys are held to the rules but not to our length
         * limit: a longer name can only belong to a key we do not know. */
        if (!psi_tlog_name_ok(name, nlen, SIZE_MAX) || b64_len == 0 ||
            psi_tlog_b64_decode(b64, b64_len, sig, sizeof sig, &decoded) != 0 || decoded < 5)
            return PSI_ERR_PARSE;
        key_id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 |
                 (uint32_t)sig[3];
        for (size_t k = 0; k < known_count; k++) {
            if (known[k].key_id != key_id || name_len(known[k].name) != nlen ||
                memcmp(known[k].name, name, nlen) != 0)
                continue;
            /* A known key: its signature must verify, whatever the others do.
             * Keep parsing so that a malformed note is reported as such. */
            if (decoded == sizeof sig &&
                crypto_sign_verify_detached(sig + 4, (const unsigned char *)note, text_end,
                                            known[k].public_key) == 0) {
                if (verified != NULL)
                    verified[k] = 1;
                good++;
            } else {
                failed = 1;
            }
        }
    }
    if (failed)
        return PSI_ERR_VERIFY;
    if (good == 0)
        return PSI_ERR_NOT_FOUND;
    *text_len = text_end;
    return PSI_OK;
}

int psi_note_open(const char *note, size_t note_len, const struct psi_note_verifier *known,
                  size_t known_count, size_t *text_len, unsigned char *verified)
{
    int rc;
    if (note == NULL || text_len == NULL || (known == NULL && known_count > 0))
        return PSI_ERR_INVALID;
    *text_len = 0;
    if (verified != NULL && known_count > 0)
        memset(verified, 0, known_count);
    if (sodium_ready() != 0)
        return PSI_ERR_CRYPTO;
    rc = open_note(note, note_len, known, known_count, text_len, verified);
    if (rc != 0 && verified != NULL && known_count > 0)
        memset(verified, 0, known_count); /* no partial verdicts on a rejected note */
    return rc;
}
