/* C2SP tlog-tiles: path encoding (the spec's examples and the extremes),
 * tile widths (the spec's 70,000 and 256 examples), tile contents, a root
 * recomputed from nothing but the tiles of a 1000-leaf log, entry bundles
 * checked against their level-0 tile, and every error path of tiles.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "psi/error.h"
#include "psi/merkle.h"
#include "psi/tiles.h"
#include "tlog_test_util.h"

static void check_path(unsigned level, uint64_t index, unsigned width, const char *want)
{
    char out[PSI_TILE_PATH_MAX];
    size_t len = 0;
    assert_int_equal(psi_tile_path(out, sizeof out, &len, level, index, width), 0);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

static void check_entries_path(uint64_t index, unsigned width, const char *want)
{
    char out[PSI_TILE_PATH_MAX];
    size_t len = 0;
    assert_int_equal(psi_tile_entries_path(out, sizeof out, &len, index, width), 0);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

static void test_paths(void **state)
{
    char out[PSI_TILE_PATH_MAX];
    size_t len = 0;
    (void)state;

    check_path(0, 1234067, 256, "tile/0/x001/x234/067");
    check_path(0, 0, 256, "tile/0/000");
    check_path(0, 7, 256, "tile/0/007");
    check_path(1, 999, 256, "tile/1/999");
    check_path(2, 1000, 256, "tile/2/x001/000");
    check_path(3, 1000000, 17, "tile/3/x001/x000/000.p/17");
    check_path(0, 0, 1, "tile/0/000.p/1");
    check_path(0, 0, 255, "tile/0/000.p/255");
    check_path(63, 0, 256, "tile/63/000");
    check_path(5, UINT64_MAX, 255, "tile/5/x018/x446/x744/x073/x709/x551/615.p/255");
    check_entries_path(1234067, 256, "tile/entries/x001/x234/067");
    check_entries_path(0, 112, "tile/entries/000.p/112");
    check_entries_path(UINT64_MAX, 255, "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255");
    assert_true(strlen("tile/entries/x018/x446/x744/x073/x709/x551/615.p/255") < PSI_TILE_PATH_MAX);

    assert_int_equal(psi_tile_path(out, sizeof out, &len, 64, 0, 256), PSI_ERR_INVALID);
    assert_int_equal(psi_tile_path(out, sizeof out, &len, 0, 0, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_tile_path(out, sizeof out, &len, 0, 0, 257), PSI_ERR_INVALID);
    assert_int_equal(psi_tile_path(NULL, 0, &len, 0, 0, 256), PSI_ERR_INVALID);
    assert_int_equal(psi_tile_entries_path(out, sizeof out, &len, 0, 0), PSI_ERR_INVALID);
    /* "tile/0/000" needs 11 bytes with its NUL. */
    assert_int_equal(psi_tile_path(out, 11, &len, 0, 0, 256), 0);
    assert_int_equal(psi_tile_path(out, 10, &len, 0, 0, 256), PSI_ERR_TOO_LARGE);
    assert_int_equal(len, 10);
}

static void test_widths(void **state)
{
    (void)state;
    /* tlog-tiles: a tree of 70,000 has 273 full level-0 tiles, a partial
     * one of width 112, one full level-1 tile, a partial level-1 tile of
     * width 17 and a partial level-2 tile of width 1. */
    for (uint64_t n = 0; n < 273; n++)
        assert_int_equal(psi_tile_width(0, n, 70000), 256);
    assert_int_equal(psi_tile_width(0, 273, 70000), 112);
    assert_int_equal(psi_tile_width(0, 274, 70000), 0);
    assert_int_equal(psi_tile_width(1, 0, 70000), 256);
    assert_int_equal(psi_tile_width(1, 1, 70000), 17);
    assert_int_equal(psi_tile_width(1, 2, 70000), 0);
    assert_int_equal(psi_tile_width(2, 0, 70000), 1);
    assert_int_equal(psi_tile_width(2, 1, 70000), 0);
    assert_int_equal(psi_tile_width(3, 0, 70000), 0);
    /* A tree of 256: a full level-0 tile and a level-1 tile of width 1. */
    assert_int_equal(psi_tile_width(0, 0, 256), 256);
    assert_int_equal(psi_tile_width(0, 1, 256), 0);
    assert_int_equal(psi_tile_width(1, 0, 256), 1);
    assert_int_equal(psi_tile_width(0, 0, 0), 0);
    /* The extremes. */
    assert_int_equal(psi_tile_width(7, 0, UINT64_MAX), 255);
    assert_int_equal(psi_tile_width(8, 0, UINT64_MAX), 0);
    assert_int_equal(psi_tile_width(64, 0, UINT64_MAX), 0);
    assert_int_equal(psi_tile_width(0, UINT64_MAX >> 8, UINT64_MAX), 255);
    assert_int_equal(psi_tile_width(0, UINT64_MAX, UINT64_MAX), 0);
}

/* A reader that knows nothing but tile bytes: level-0 tiles give leaf
 * hashes, level-1 tiles the hashes of Merkle level 8. */
struct tile_set {
    unsigned char level0[4][PSI_TILE_FULL_BYTES];
    size_t level0_len[4];
    unsigned char level1[PSI_TILE_FULL_BYTES];
    size_t level1_len;
    uint64_t leaf_reads, subtree_hits;
};

static int tiles_leaf(void *ctx, uint64_t index, unsigned char hash[32])
{
    struct tile_set *t = ctx;
    uint64_t tile = index >> 8, off = (index & 255U) * 32U;
    t->leaf_reads++;
    if (tile >= 4 || off + 32 > t->level0_len[tile])
        return PSI_ERR_NOT_FOUND;
    memcpy(hash, t->level0[tile] + off, 32);
    return PSI_OK;
}

static int tiles_subtree(void *ctx, unsigned level, uint64_t index, unsigned char hash[32])
{
    struct tile_set *t = ctx;
    if (level != 8 || index * 32U + 32U > t->level1_len)
        return PSI_ERR_NOT_FOUND;
    t->subtree_hits++;
    memcpy(hash, t->level1 + index * 32U, 32);
    return PSI_OK;
}

static int last_subtree(void *ctx, unsigned level, uint64_t index, const unsigned char hash[32])
{
    unsigned char *out = ctx;
    if (level == 8 && index == 0)
        memcpy(out, hash, 32);
    return PSI_OK;
}

static void test_root_from_tiles_of_1000_leaves(void **state)
{
    static struct tile_set t;
    struct tlog_store s;
    struct psi_merkle_reader store_reader, plain_reader;
    struct psi_merkle_reader tile_reader = {&t, tiles_leaf, tiles_subtree};
    unsigned char want[32], got[32], tile_root[32];
    size_t len = 0;
    (void)state;

    tlog_store_init(&s, 1000);
    store_reader = tlog_store_reader(&s, 1);
    plain_reader = tlog_store_reader(&s, 0);
    memset(&t, 0, sizeof t);
    for (uint64_t n = 0; n < 4; n++) {
        assert_int_equal(psi_tile_build(t.level0[n], sizeof t.level0[n], &t.level0_len[n],
                                        &store_reader, 0, n, 1000),
                         0);
        assert_int_equal(t.level0_len[n], (n < 3 ? 256U : 232U) * 32U);
        /* A level-0 tile is the leaf hashes. */
        assert_memory_equal(t.level0[n], s.leaves[n * 256], t.level0_len[n]);
    }
    assert_int_equal(
        psi_tile_build(t.level1, sizeof t.level1, &t.level1_len, &store_reader, 1, 0, 1000), 0);
    assert_int_equal(t.level1_len, 3 * 32);
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(t.level1 + i * 32, s.subtrees[8][i], 32);
    /* Each level-1 hash is the root of the level-0 tile below it. */
    memset(tile_root, 0, sizeof tile_root);
    assert_int_equal(psi_merkle_range_subtrees(0, (const unsigned char(*)[32])t.level0[0], 256,
                                               last_subtree, tile_root),
                     0);
    assert_memory_equal(tile_root, t.level1, 32);

    /* The root from the tiles alone: three level-8 hashes and the 232
     * leaves of the partial tile, nothing else. */
    assert_int_equal(psi_merkle_root(want, &plain_reader, 1000), 0);
    assert_int_equal(psi_merkle_root(got, &tile_reader, 1000), 0);
    assert_memory_equal(got, want, 32);
    assert_int_equal(t.subtree_hits, 3);
    assert_int_equal(t.leaf_reads, 232);
    /* And every smaller root too (partial tiles of smaller trees are
     * prefixes of these). */
    for (uint64_t n = 1; n <= 1000; n += 37) {
        assert_int_equal(psi_merkle_root(want, &plain_reader, n), 0);
        assert_int_equal(psi_merkle_root(got, &tile_reader, n), 0);
        assert_memory_equal(got, want, 32);
    }
    /* Tiles that do not exist at this size. */
    assert_int_equal(psi_tile_build(t.level1, sizeof t.level1, &len, &store_reader, 0, 4, 1000),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_tile_build(t.level1, sizeof t.level1, &len, &store_reader, 2, 0, 1000),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_tile_build(t.level1, (size_t)32 * 231, &len, &store_reader, 0, 3, 1000),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_tile_build(NULL, 0, &len, &store_reader, 0, 3, 1000), PSI_ERR_INVALID);
    assert_int_equal(psi_tile_build(t.level1, sizeof t.level1, &len, NULL, 0, 3, 1000),
                     PSI_ERR_INVALID);
    s.fail_leaf_at = 800;
    assert_int_equal(psi_tile_build(t.level1, sizeof t.level1, &len, &plain_reader, 0, 3, 1000),
                     PSI_ERR_STORE);
    assert_int_equal(len, 0);
    tlog_store_free(&s);
}

/* All tiles of the spec's 70,000-leaf example, and their shapes. */
static void test_tiles_of_70000(void **state)
{
    static unsigned char tile[PSI_TILE_FULL_BYTES];
    struct tlog_store s;
    struct psi_merkle_reader r;
    size_t len = 0;
    unsigned tiles = 0;
    (void)state;

    tlog_store_init(&s, 70000);
    r = tlog_store_reader(&s, 1);
    for (unsigned level = 0; level < 3; level++) {
        for (uint64_t n = 0; psi_tile_width(level, n, 70000) > 0; n++) {
            unsigned w = psi_tile_width(level, n, 70000);
            s.subtree_reads = s.leaf_reads = 0;
            assert_int_equal(psi_tile_build(tile, sizeof tile, &len, &r, level, n, 70000), 0);
            assert_int_equal(len, (size_t)w * 32);
            /* Stored subtrees: one read per hash. */
            assert_int_equal(s.subtree_reads + s.leaf_reads, w);
            if (level == 1)
                assert_memory_equal(tile, s.subtrees[8][n * 256], len);
            if (level == 2)
                assert_memory_equal(tile, s.subtrees[16][0], 32);
            tiles++;
        }
    }
    assert_int_equal(tiles, 274 + 2 + 1);
    tlog_store_free(&s);
}

static void test_entry_bundles(void **state)
{
    static unsigned char bundle[300000];
    static unsigned char entry[70000];
    unsigned char tile[PSI_TILE_FULL_BYTES], h[32];
    const unsigned char *e = NULL;
    size_t len = 0, off = 0, elen = 0, before;
    const size_t sizes[5] = {0, 1, 300, 65535, 17};
    (void)state;

    for (size_t i = 0; i < sizeof entry; i++)
        entry[i] = (unsigned char)(i * 7U);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(psi_tile_bundle_append(bundle, sizeof bundle, &len, entry, sizes[i]), 0);
    assert_int_equal(len, 10 + 0 + 1 + 300 + 65535 + 17);
    assert_int_equal(bundle[0], 0);
    assert_int_equal(bundle[1], 0);
    assert_int_equal(bundle[2], 0);
    assert_int_equal(bundle[3], 1);
    assert_int_equal(bundle[5], 0x01);
    assert_int_equal(bundle[6], 0x2c);
    /* Read back, and hash into a level-0 tile. */
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(psi_tile_bundle_next(bundle, len, &off, &e, &elen), 0);
        assert_int_equal(elen, sizes[i]);
        assert_memory_equal(e, entry, elen);
        psi_merkle_leaf_hash(tile + i * 32, e, elen);
    }
    assert_int_equal(psi_tile_bundle_next(bundle, len, &off, &e, &elen), PSI_ERR_NOT_FOUND);
    assert_null(e);
    psi_merkle_leaf_hash(h, entry, 300);
    assert_memory_equal(tile + 64, h, 32);
    /* Too long an entry; no room: nothing changes. */
    before = len;
    assert_int_equal(psi_tile_bundle_append(bundle, sizeof bundle, &len, entry, 65536),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_tile_bundle_append(bundle, before + 1, &len, entry, 0), PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_tile_bundle_append(bundle, before + 5, &len, entry, 4), PSI_ERR_TOO_LARGE);
    assert_int_equal(len, before);
    assert_int_equal(psi_tile_bundle_append(bundle, before + 6, &len, entry, 4), 0);
    assert_int_equal(len, before + 6);
    assert_int_equal(psi_tile_bundle_append(bundle, before, &len, entry, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_tile_bundle_append(NULL, 9, &len, entry, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_tile_bundle_append(bundle, 9, NULL, entry, 0), PSI_ERR_INVALID);
    {
        size_t zero = 0;
        assert_int_equal(psi_tile_bundle_append(bundle, 9, &zero, NULL, 3), PSI_ERR_INVALID);
    }
    /* Cut short: in a length prefix, in an entry. */
    off = 0;
    assert_int_equal(psi_tile_bundle_next(bundle, 1, &off, &e, &elen), PSI_ERR_PARSE);
    off = 0;
    assert_int_equal(psi_tile_bundle_next(bundle + 2, 2, &off, &e, &elen), PSI_ERR_PARSE);
    off = 4;
    assert_int_equal(psi_tile_bundle_next(bundle, 5, &off, &e, &elen), PSI_ERR_PARSE);
    off = 0;
    assert_int_equal(psi_tile_bundle_next(bundle, 0, &off, &e, &elen), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_tile_bundle_next(NULL, 0, &off, &e, &elen), PSI_ERR_NOT_FOUND);
    off = 7;
    assert_int_equal(psi_tile_bundle_next(bundle, 5, &off, &e, &elen), PSI_ERR_INVALID);
    assert_int_equal(psi_tile_bundle_next(NULL, 5, &off, &e, &elen), PSI_ERR_INVALID);
    assert_int_equal(psi_tile_bundle_next(bundle, 5, NULL, &e, &elen), PSI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_root_from_tiles_of_1000_leaves),
        cmocka_unit_test(test_tiles_of_70000),
        cmocka_unit_test(test_entry_bundles),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
