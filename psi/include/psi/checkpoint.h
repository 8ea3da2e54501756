/*
 * Signed tree heads and receipts of the audit log, in the C2SP text formats.
 *
 * Checkpoint (c2sp.org/tlog-checkpoint): a signed note (psi/note.h) whose
 * text is the origin line, the tree size in decimal (no leading zeros), the
 * base64 root hash (32 bytes), then optional non-empty extension lines:
 *
 *     hub.example.org/psi
 *     20852163
 *     CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
 *
 * Receipt (c2sp.org/tlog-proof, "tlog-proof@v1" as published by C2SP): the
 * line "c2sp.org/tlog-proof@v1", an optional line "extra <base64>" (opaque
 * and unauthenticated), the line "index <decimal, no leading zeros>", zero or
 * more lines each holding one base64 SHA-256 proof hash (RFC 6962 audit path,
 * the leaf's sibling first), one empty line, then the signed checkpoint
 * verbatim (with its signature lines, witness cosignatures included).
 *
 * What this module promises: the parsers accept exactly these grammars (every
 * line ends in "\n"; base64 canonical and padded; hashes exactly 32 bytes;
 * numbers within uint64_t) and refuse anything else with PSI_ERR_PARSE. Opening
 * a checkpoint requires a valid signature by the given log key (other
 * signatures, e.g. witness cosignatures, are ignored here) and that the
 * origin is the one expected. psi_tlog_proof_verify is the single call a
 * client makes on a receipt. Parsed structures may point into the caller's
 * text (documented per field); nothing allocates.
 */
#ifndef PSI_CHECKPOINT_H
#define PSI_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"
#include "psi/merkle.h"
#include "psi/note.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest origin line accepted, in bytes (a limit of this implementation). */
#define PSI_CHECKPOINT_ORIGIN_MAX 255U
/* Buffer size, NUL included, for a checkpoint body without extensions. */
#define PSI_CHECKPOINT_BODY_MAX (PSI_CHECKPOINT_ORIGIN_MAX + 1U + 20U + 1U + 44U + 1U + 1U)
/* The first line of a receipt. */
#define PSI_TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"

struct psi_checkpoint {
    char origin[PSI_CHECKPOINT_ORIGIN_MAX + 1U]; /* NUL-terminated, non-empty */
    uint64_t size;
    unsigned char root[32];
    /* Extension lines, each ending in "\n", none empty; NULL/0 for none.
     * After parsing, this points into the parsed text. */
    const char *extensions;
    size_t extensions_len;
};

/* The checkpoint note text. The origin must be non-empty valid UTF-8 without
 * control characters; extensions must be complete non-empty lines. 0,
 * PSI_ERR_INVALID, or PSI_ERR_TOO_LARGE (out_cap too small; without
 * extensions PSI_CHECKPOINT_BODY_MAX suffices). */
PSI_EXPORT PSI_MUST_CHECK int psi_checkpoint_format(char *out, size_t out_cap, size_t *out_len,
                                                    const struct psi_checkpoint *checkpoint);

/* Parses a checkpoint note text (as returned by psi_note_open: ends in
 * "\n"). 0 or PSI_ERR_PARSE. */
PSI_EXPORT PSI_MUST_CHECK int psi_checkpoint_parse(struct psi_checkpoint *checkpoint,
                                                   const char *text, size_t text_len);

/* Formats and signs a checkpoint with the log key. The key name should be the
 * origin (C2SP SHOULD); that is the caller's choice. Errors of
 * psi_checkpoint_format and psi_note_sign. */
PSI_EXPORT PSI_MUST_CHECK int psi_checkpoint_sign(char *out, size_t out_cap, size_t *out_len,
                                                  const struct psi_checkpoint *checkpoint,
                                                  const struct psi_note_signer *log_key);

/* Opens a signed checkpoint: the note must carry a valid signature by
 * `log_key`, and its origin must equal `origin` (NUL-terminated; NULL means
 * the log key's name). On success *checkpoint is filled (its extensions point
 * into `note`). Errors of psi_note_open, PSI_ERR_PARSE for a bad body, and
 * PSI_ERR_DENIED for another origin. */
PSI_EXPORT PSI_MUST_CHECK int psi_checkpoint_open(struct psi_checkpoint *checkpoint,
                                                  const char *note, size_t note_len,
                                                  const struct psi_note_verifier *log_key,
                                                  const char *origin);

/* A receipt: entry index, inclusion proof, signed checkpoint. */
struct psi_tlog_proof {
    uint64_t index;
    size_t hash_count; /* at most PSI_MERKLE_MAX_INCLUSION_HASHES */
    unsigned char hashes[PSI_MERKLE_MAX_INCLUSION_HASHES][32];
    /* Opaque extra data, raw bytes; NULL/0 for none. Formatting writes an
     * "extra" line only when extra_len > 0. Parsing points this into the
     * caller's buffer (see psi_tlog_proof_parse). */
    const unsigned char *extra;
    size_t extra_len;
    /* The signed checkpoint note, verbatim; after parsing, points into the
     * parsed text. */
    const char *checkpoint;
    size_t checkpoint_len;
};

/* The receipt text. 0, PSI_ERR_INVALID (too many hashes, no checkpoint, a
 * checkpoint that does not end in "\n" or starts with an empty line), or
 * PSI_ERR_TOO_LARGE. */
PSI_EXPORT PSI_MUST_CHECK int psi_tlog_proof_format(char *out, size_t out_cap, size_t *out_len,
                                                    const struct psi_tlog_proof *proof);

/* Parses a receipt text. Extra data, if present, is decoded into
 * extra_buf[0..extra_cap) and proof->extra points there; PSI_ERR_TOO_LARGE if
 * it does not fit (pass NULL/0 to refuse receipts with extra data). The
 * checkpoint is not checked here (psi_tlog_proof_verify does). 0,
 * PSI_ERR_PARSE, PSI_ERR_TOO_LARGE (also for more than 64 proof hashes). */
PSI_EXPORT PSI_MUST_CHECK int psi_tlog_proof_parse(struct psi_tlog_proof *proof, const char *text,
                                                   size_t text_len, unsigned char *extra_buf,
                                                   size_t extra_cap);

/* Verifies a receipt for the entry whose leaf hash is `leaf_hash`: opens its
 * checkpoint with `log_key` and `origin` (as psi_checkpoint_open), requires
 * index < size, and verifies the inclusion proof against the checkpoint's
 * root. On success, *checkpoint (if not NULL) receives the checkpoint, so the
 * caller can check it for consistency with the last one it trusts. Errors of
 * psi_checkpoint_open; PSI_ERR_VERIFY when the index or the proof does not
 * fit the checkpoint. */
PSI_EXPORT PSI_MUST_CHECK int psi_tlog_proof_verify(const struct psi_tlog_proof *proof,
                                                    const struct psi_note_verifier *log_key,
                                                    const char *origin,
                                                    const unsigned char leaf_hash[32],
                                                    struct psi_checkpoint *checkpoint);

#ifdef __cplusplus
}
#endif
#endif
