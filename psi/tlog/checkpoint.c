#include "psi/checkpoint.h"

#include <string.h>

#include "psi/error.h"
#include "tlog_text.h"

/* 1 if s[0..len) is a run of complete, non-empty lines (possibly none). */
static int lines_ok(const char *s, size_t len)
{
    if (len == 0)
        return 1;
    if (s[len - 1] != '\n' || s[0] == '\n')
        return 0;
    for (size_t i = 1; i < len; i++) {
        if (s[i] == '\n' && s[i - 1] == '\n')
            return 0;
    }
    return 1;
}

/* The next line of s[*pos..len) without its "\n"; 0 if there is no complete
 * line left. */
static int next_line(const char *s, size_t len, size_t *pos, const char **line, size_t *line_len)
{
    const char *nl;
    if (*pos >= len)
        return 0;
    nl = memchr(s + *pos, '\n', len - *pos);
    if (nl == NULL)
        return 0;
    *line = s + *pos;
    *line_len = (size_t)(nl - *line);
    *pos += *line_len + 1U;
    return 1;
}

static int origin_ok(const char *origin, size_t len)
{
    return len > 0 && len <= PSI_CHECKPOINT_ORIGIN_MAX && memchr(origin, '\n', len) == NULL &&
           psi_tlog_text_ok(origin, len);
}

int psi_checkpoint_format(char *out, size_t out_cap, size_t *out_len,
                          const struct psi_checkpoint *checkpoint)
{
    struct psi_tlog_out o = {out, out_cap, 0, 0};
    size_t olen;

    if (out == NULL || checkpoint == NULL)
        return PSI_ERR_INVALID;
    olen = strnlen(checkpoint->origin, sizeof checkpoint->origin);
    if (!origin_ok(checkpoint->origin, olen))
        return PSI_ERR_INVALID;
    if (checkpoint->extensions_len > 0 &&
        (checkpoint->extensions == NULL ||
         !lines_ok(checkpoint->extensions, checkpoint->extensions_len) ||
         !psi_tlog_text_ok(checkpoint->extensions, checkpoint->extensions_len)))
        return PSI_ERR_INVALID;
    psi_tlog_out_bytes(&o, checkpoint->origin, olen);
    psi_tlog_out_bytes(&o, "\n", 1);
    psi_tlog_out_u64(&o, checkpoint->size);
    psi_tlog_out_bytes(&o, "\n", 1);
    psi_tlog_out_b64(&o, checkpoint->root, 32);
    psi_tlog_out_bytes(&o, "\n", 1);
    psi_tlog_out_bytes(&o, checkpoint->extensions, checkpoint->extensions_len);
    return psi_tlog_out_finish(&o, out_len);
}

int psi_checkpoint_parse(struct psi_checkpoint *checkpoint, const char *text, size_t text_len)
{
    struct psi_checkpoint cp;
    const char *line = NULL;
    size_t line_len = 0, pos = 0, decoded = 0;

    if (checkpoint == NULL || text == NULL)
        return PSI_ERR_INVALID;
    memset(checkpoint, 0, sizeof *checkpoint);
    memset(&cp, 0, sizeof cp);
    if (!psi_tlog_text_ok(text, text_len))
        return PSI_ERR_PARSE;
    if (!next_line(text, text_len, &pos, &line, &line_len) || !origin_ok(line, line_len))
        return PSI_ERR_PARSE;
    memcpy(cp.origin, line, line_len);
    cp.origin[line_len] = '\0';
    if (!next_line(text, text_len, &pos, &line, &line_len) ||
        psi_tlog_parse_u64(line, line_len, &cp.size) != 0)
        return PSI_ERR_PARSE;
    if (!next_line(text, text_len, &pos, &line, &line_len) ||
        psi_tlog_b64_decode(line, line_len, cp.root, sizeof cp.root, &decoded) != 0 ||
        decoded != sizeof cp.root)
        return PSI_ERR_PARSE;
    if (!lines_ok(text + pos, text_len - pos))
        return PSI_ERR_PARSE;
    if (pos < text_len) {
        cp.extensions = text + pos;
        cp.extensions_len = text_len - pos;
    }
    *checkpoint = cp;
    return PSI_OK;
}

int psi_checkpoint_sign(char *out, size_t out_cap, size_t *out_len,
                        const struct psi_checkpoint *checkpoint,
                        const struct psi_note_signer *log_key)
{
    size_t body_len = 0;
    int rc;

    if (out == NULL || checkpoint == NULL || log_key == NULL)
        return PSI_ERR_INVALID;
    /* The note starts with its text, so the body is formatted in place and
     * signed there (psi_note_sign allows text == out). */
    rc = psi_checkpoint_format(out, out_cap, &body_len, checkpoint);
    if (rc != 0) {
        if (out_len != NULL)
            *out_len = body_len;
        return rc;
    }
    return psi_note_sign(out, out_cap, out_len, out, body_len, log_key, 1);
}

int psi_checkpoint_open(struct psi_checkpoint *checkpoint, const char *note, size_t note_len,
                        const struct psi_note_verifier *log_key, const char *origin)
{
    struct psi_checkpoint cp;
    size_t text_len = 0;
    int rc;

    if (checkpoint == NULL || note == NULL || log_key == NULL)
        return PSI_ERR_INVALID;
    memset(checkpoint, 0, sizeof *checkpoint);
    rc = psi_note_open(note, note_len, log_key, 1, &text_len, NULL);
    if (rc != 0)
        return rc;
    rc = psi_checkpoint_parse(&cp, note, text_len);
    if (rc != 0)
        return rc;
    if (origin == NULL)
        origin = log_key->name;
    if (strcmp(cp.origin, origin) != 0)
        return PSI_ERR_DENIED;
    *checkpoint = cp;
    return PSI_OK;
}

int psi_tlog_proof_format(char *out, size_t out_cap, size_t *out_len,
                          const struct psi_tlog_proof *proof)
{
    struct psi_tlog_out o = {out, out_cap, 0, 0};

    if (out == NULL || proof == NULL)
        return PSI_ERR_INVALID;
    if (proof->hash_count > PSI_MERKLE_MAX_INCLUSION_HASHES ||
        (proof->extra == NULL && proof->extra_len > 0) || proof->checkpoint == NULL ||
        proof->checkpoint_len == 0 || proof->checkpoint[0] == '\n' ||
        proof->checkpoint[proof->checkpoint_len - 1] != '\n')
        return PSI_ERR_INVALID;
    psi_tlog_out_str(&o, PSI_TLOG_PROOF_HEADER "\n");
    if (proof->extra_len > 0) {
        psi_tlog_out_str(&o, "extra ");
        psi_tlog_out_b64(&o, proof->extra, proof->extra_len);
        psi_tlog_out_bytes(&o, "\n", 1);
    }
    psi_tlog_out_str(&o, "index ");
    psi_tlog_out_u64(&o, proof->index);
    psi_tlog_out_bytes(&o, "\n", 1);
    for (size_t i = 0; i < proof->hash_count; i++) {
        psi_tlog_out_b64(&o, proof->hashes[i], 32);
        psi_tlog_out_bytes(&o, "\n", 1);
    }
    psi_tlog_out_bytes(&o, "\n", 1);
    psi_tlog_out_bytes(&o, proof->checkpoint, proof->checkpoint_len);
    return psi_tlog_out_finish(&o, out_len);
}

static int has_prefix(const char *line, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);
    return len >= plen && memcmp(line, prefix, plen) == 0;
}

static int parse_proof(struct psi_tlog_proof *proof, const char *text, size_t text_len,
                       unsigned char *extra_buf, size_t extra_cap)
{
    const char *line = NULL;
    size_t line_len = 0, pos = 0, decoded = 0;
    int rc;

    if (!next_line(text, text_len, &pos, &line, &line_len) ||
        line_len != strlen(PSI_TLOG_PROOF_HEADER) ||
        memcmp(line, PSI_TLOG_PROOF_HEADER, line_len) != 0)
        return PSI_ERR_PARSE;
    if (!next_line(text, text_len, &pos, &line, &line_len))
        return PSI_ERR_PARSE;
    if (has_prefix(line, line_len, "extra ")) {
        rc = psi_tlog_b64_decode(line + 6, line_len - 6U, extra_buf, extra_cap, &decoded);
        if (rc != 0)
            return rc;
        if (decoded > extra_cap)
            return PSI_ERR_TOO_LARGE;
        proof->extra = decoded > 0 ? extra_buf : NULL;
        proof->extra_len = decoded;
        if (!next_line(text, text_len, &pos, &line, &line_len))
            return PSI_ERR_PARSE;
    }
    if (!has_prefix(line, line_len, "index ") ||
        psi_tlog_parse_u64(line + 6, line_len - 6U, &proof->index) != 0)
        return PSI_ERR_PARSE;
    for (;;) {
        if (!next_line(text, text_len, &pos, &line, &line_len))
            return PSI_ERR_PARSE; /* no empty line before the checkpoint */
        if (line_len == 0)
            break;
        if (proof->hash_count == PSI_MERKLE_MAX_INCLUSION_HASHES)
            return PSI_ERR_TOO_LARGE;
        if (psi_tlog_b64_decode(line, line_len, proof->hashes[proof->hash_count], 32, &decoded) !=
                0 ||
            decoded != 32)
            return PSI_ERR_PARSE;
        proof->hash_count++;
    }
    /* The checkpoint: everything that is left, a note of its own. */
    if (pos >= text_len || text[pos] == '\n' || text[text_len - 1] != '\n')
        return PSI_ERR_PARSE;
    proof->checkpoint = text + pos;
    proof->checkpoint_len = text_len - pos;
    return PSI_OK;
}

int psi_tlog_proof_parse(struct psi_tlog_proof *proof, const char *text, size_t text_len,
                         unsigned char *extra_buf, size_t extra_cap)
{
    int rc;
    if (proof == NULL || text == NULL || (extra_buf == NULL && extra_cap > 0))
        return PSI_ERR_INVALID;
    memset(proof, 0, sizeof *proof);
    rc = parse_proof(proof, text, text_len, extra_buf, extra_cap);
    if (rc != 0)
        memset(proof, 0, sizeof *proof); /* nothing half-parsed is left to use */
    return rc;
}

int psi_tlog_proof_verify(const struct psi_tlog_proof *proof,
                          const struct psi_note_verifier *log_key, const char *origin,
                          const unsigned char leaf_hash[32], struct psi_checkpoint *checkpoint)
{
    struct psi_checkpoint cp;
    int rc;

    if (checkpoint != NULL)
        memset(checkpoint, 0, sizeof *checkpoint);
    if (proof == NULL || log_key == NULL || leaf_hash == NULL || proof->checkpoint == NULL ||
        proof->hash_count > PSI_MERKLE_MAX_INCLUSION_HASHES)
        return PSI_ERR_INVALID;
    rc = psi_checkpoint_open(&cp, proof->checkpoint, proof->checkpoint_len, log_key, origin);
    if (rc != 0)
        return rc;
    if (proof->index >= cp.size)
        return PSI_ERR_VERIFY;
    rc = psi_merkle_verify_inclusion(leaf_hash, proof->index, cp.size, proof->hashes,
                                     proof->hash_count, cp.root);
    if (rc != 0)
        return rc;
    if (checkpoint != NULL)
        *checkpoint = cp;
    return PSI_OK;
}
