#include "psi/tiles.h"

#include <string.h>

#include "psi/error.h"
#include "tlog_text.h"

unsigned psi_tile_width(unsigned level, uint64_t index, uint64_t tree_size)
{
    unsigned shift;
    uint64_t hashes, start;

    if (level > PSI_TILE_MAX_LEVEL)
        return 0;
    shift = level * PSI_TILE_HEIGHT;
    if (shift >= 64U)
        return 0;
    hashes = tree_size >> shift; /* complete subtrees at Merkle level 8L */
    if (index > (hashes >> 8))
        return 0;
    start = index << 8;
    if (hashes <= start)
        return 0;
    return hashes - start >= PSI_TILE_WIDTH ? PSI_TILE_WIDTH : (unsigned)(hashes - start);
}

/* N as 3-digit path elements, all but the last prefixed with "x". */
static void out_tile_index(struct psi_tlog_out *o, uint64_t index)
{
    /* written by psi_tlog_format_u64 and the memset below (cppcheck 2.10
     * does not follow writes through digits + 2) */
    // cppcheck-suppress unassignedVariable
    char digits[PSI_TLOG_U64_DIGITS + 2U];
    size_t n = psi_tlog_format_u64(digits + 2, index);
    size_t pad = (3U - n % 3U) % 3U;
    const char *d = digits + 2 - pad;

    memset(digits + 2 - pad, '0', pad);
    n += pad;
    for (size_t i = 0; i < n; i += 3) {
        if (i + 3 < n)
            psi_tlog_out_bytes(o, "x", 1);
        psi_tlog_out_bytes(o, d + i, 3);
        if (i + 3 < n)
            psi_tlog_out_bytes(o, "/", 1);
    }
}

static int tile_path(char *out, size_t out_cap, size_t *out_len, const char *dir, uint64_t index,
                     unsigned width)
{
    struct psi_tlog_out o = {out, out_cap, 0, 0};
    if (out == NULL || width == 0 || width > PSI_TILE_WIDTH)
        return PSI_ERR_INVALID;
    psi_tlog_out_str(&o, dir);
    out_tile_index(&o, index);
    if (width < PSI_TILE_WIDTH) {
        psi_tlog_out_str(&o, ".p/");
        psi_tlog_out_u64(&o, width);
    }
    return psi_tlog_out_finish(&o, out_len);
}

int psi_tile_path(char *out, size_t out_cap, size_t *out_len, unsigned level, uint64_t index,
                  unsigned width)
{
    char dir[16];
    struct psi_tlog_out d = {dir, sizeof dir, 0, 0};
    if (level > PSI_TILE_MAX_LEVEL)
        return PSI_ERR_INVALID;
    psi_tlog_out_str(&d, "tile/");
    psi_tlog_out_u64(&d, level);
    psi_tlog_out_str(&d, "/");
    if (psi_tlog_out_finish(&d, NULL) != 0)
        return PSI_ERR_INVALID; /* cannot happen: "tile/63/" fits */
    return tile_path(out, out_cap, out_len, dir, index, width);
}

int psi_tile_entries_path(char *out, size_t out_cap, size_t *out_len, uint64_t index,
                          unsigned width)
{
    return tile_path(out, out_cap, out_len, "tile/entries/", index, width);
}

int psi_tile_build(unsigned char *out, size_t out_cap, size_t *out_len,
                   const struct psi_merkle_reader *reader, unsigned level, uint64_t index,
                   uint64_t tree_size)
{
    unsigned width = psi_tile_width(level, index, tree_size);
    unsigned merkle_level = level * PSI_TILE_HEIGHT;

    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || reader == NULL || width == 0)
        return PSI_ERR_INVALID;
    if (out_cap < (size_t)width * 32U)
        return PSI_ERR_TOO_LARGE;
    for (unsigned i = 0; i < width; i++) {
        int rc =
            psi_merkle_subtree_hash(out + (size_t)i * 32U, reader, merkle_level, (index << 8) + i);
        if (rc != 0)
            return rc;
    }
    if (out_len != NULL)
        *out_len = (size_t)width * 32U;
    return PSI_OK;
}

int psi_tile_bundle_append(unsigned char *out, size_t out_cap, size_t *bundle_len,
                           const unsigned char *entry, size_t entry_len)
{
    size_t len;
    if (out == NULL || bundle_len == NULL || (entry == NULL && entry_len > 0) ||
        *bundle_len > out_cap)
        return PSI_ERR_INVALID;
    len = *bundle_len;
    if (entry_len > PSI_TILE_ENTRY_MAX || out_cap - len < 2U || out_cap - len - 2U < entry_len)
        return PSI_ERR_TOO_LARGE;
    out[len] = (unsigned char)(entry_len >> 8);
    out[len + 1] = (unsigned char)entry_len;
    if (entry_len > 0)
        memcpy(out + len + 2, entry, entry_len);
    *bundle_len = len + 2U + entry_len;
    return PSI_OK;
}

int psi_tile_bundle_next(const unsigned char *bundle, size_t bundle_len, size_t *offset,
                         const unsigned char **entry, size_t *entry_len)
{
    size_t pos, len;
    if ((bundle == NULL && bundle_len > 0) || offset == NULL || entry == NULL ||
        entry_len == NULL || *offset > bundle_len)
        return PSI_ERR_INVALID;
    *entry = NULL;
    *entry_len = 0;
    pos = *offset;
    /* cppcheck 2.10 wrongly thinks this cannot hold: the end of the bundle */
    // cppcheck-suppress knownConditionTrueFalse
    if (pos == bundle_len)
        return PSI_ERR_NOT_FOUND;
    if (bundle_len - pos < 2U)
        return PSI_ERR_PARSE;
    len = (size_t)bundle[pos] << 8 | bundle[pos + 1];
    if (bundle_len - pos - 2U < len)
        return PSI_ERR_PARSE;
    *entry = bundle + pos + 2;
    *entry_len = len;
    *offset = pos + 2U + len;
    return PSI_OK;
}
