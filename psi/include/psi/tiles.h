/*
 * The audit log as static tiles (c2sp.org/tlog-tiles): resource paths, tile
 * contents and entry bundles, so that the log can be mirrored and audited
 * from plain files.
 *
 * Followed (C2SP tlog-tiles, editor's copy): a tile at level L (0..63) and
 * index N is served at "tile/<L>/<N>[.p/<W>]"; N is written as zero-padded
 * 3-digit path elements, all but the last prefixed with "x" (1234067 ->
 * "x001/x234/067", 0 -> "000"); ".p/<W>" marks a partial tile of width W
 * (1..255). Hash i of tile (L, N) is MTH of leaves
 * [(N*256 + i) * 256^L, (N*256 + i + 1) * 256^L), i.e. the complete subtree
 * of Merkle level 8L and index N*256 + i; a full tile is 256 hashes (8192
 * bytes), the partial tile at level L of a tree of size s has
 * floor(s / 256^L) mod 256 hashes. Entry bundles live at
 * "tile/entries/<N>[.p/<W>]" and are the entries of level-0 tile N, each
 * prefixed with its length as a big-endian uint16.
 *
 * Pure: functions return paths and bytes; the caller writes files. Tile
 * contents are read through a psi_merkle_reader (psi/merkle.h).
 */
#ifndef PSI_TILES_H
#define PSI_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"
#include "psi/merkle.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PSI_TILE_HEIGHT 8U
#define PSI_TILE_WIDTH 256U
#define PSI_TILE_FULL_BYTES ((size_t)PSI_TILE_WIDTH * 32U)
/* Highest level a path may name (the specification's bound). Levels above 7
 * name tiles no 64-bit tree has, so psi_tile_width gives 0 there. */
#define PSI_TILE_MAX_LEVEL 63U
/* Buffer size, NUL included, that fits any tile or entry-bundle path. */
#define PSI_TILE_PATH_MAX 64U
/* Longest entry an entry bundle can hold (uint16 length prefix). */
#define PSI_TILE_ENTRY_MAX 65535U

/* Number of hashes in tile (level, index) of a tree of tree_size leaves:
 * 256 for a full tile, 1..255 for a partial one, 0 if it does not exist.
 * For level 0 this is also the number of entries of entry bundle `index`. */
PSI_EXPORT unsigned psi_tile_width(unsigned level, uint64_t index, uint64_t tree_size);

/* "tile/<L>/<N>" for width 256, "tile/<L>/<N>.p/<W>" for width 1..255.
 * 0, PSI_ERR_INVALID (level > 63 or width 0 or > 256), PSI_ERR_TOO_LARGE
 * (PSI_TILE_PATH_MAX always suffices). */
PSI_EXPORT PSI_MUST_CHECK int psi_tile_path(char *out, size_t out_cap, size_t *out_len,
                                            unsigned level, uint64_t index, unsigned width);

/* "tile/entries/<N>[.p/<W>]", same rules. */
PSI_EXPORT PSI_MUST_CHECK int psi_tile_entries_path(char *out, size_t out_cap, size_t *out_len,
                                                    uint64_t index, unsigned width);

/* The bytes of tile (level, index) as the tree of tree_size leaves has it:
 * psi_tile_width() hashes of 32 bytes, read through `reader` (with subtree
 * hashes stored, 256 subtree callbacks; without, every leaf below the tile).
 * out_cap >= PSI_TILE_FULL_BYTES always suffices. 0, PSI_ERR_INVALID (the
 * tile does not exist at that size), PSI_ERR_TOO_LARGE, or a callback's
 * error. */
PSI_EXPORT PSI_MUST_CHECK int psi_tile_build(unsigned char *out, size_t out_cap, size_t *out_len,
                                             const struct psi_merkle_reader *reader, unsigned level,
                                             uint64_t index, uint64_t tree_size);

/* Appends one entry (uint16 big-endian length, then the bytes) to the bundle
 * in out[0 .. *bundle_len), updating *bundle_len. 0, PSI_ERR_TOO_LARGE (entry
 * longer than 65535 bytes, or no room: the bundle is then unchanged). */
PSI_EXPORT PSI_MUST_CHECK int psi_tile_bundle_append(unsigned char *out, size_t out_cap,
                                                     size_t *bundle_len, const unsigned char *entry,
                                                     size_t entry_len);

/* Reads the entry at *offset of a bundle and advances *offset past it.
 * 0 with *entry pointing into the bundle; PSI_ERR_NOT_FOUND at the end of
 * the bundle; PSI_ERR_PARSE if the bundle is cut short. */
PSI_EXPORT PSI_MUST_CHECK int psi_tile_bundle_next(const unsigned char *bundle, size_t bundle_len,
                                                   size_t *offset, const unsigned char **entry,
                                                   size_t *entry_len);

#ifdef __cplusplus
}
#endif
#endif
