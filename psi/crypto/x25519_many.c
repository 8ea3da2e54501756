/*
 * X25519 of many points under one key (psi/curve25519.h, psi_x25519_many).
 *
 * Cross-blinding multiplies thousands of points by the same per-epoch key,
 * so the Montgomery ladders of eight points can run side by side in the
 * eight 64-bit lanes of an AVX-512 register: the key, hence every swap of
 * the ladder, is the same in all lanes. The lanes multiply with AVX-512
 * IFMA (52-bit products, low and high halves), which suits field elements
 * of five 51-bit limbs. Where the CPU lacks IFMA, or PSI_X25519_IMPL says
 * so, each point goes through libsodium's crypto_scalarmult. Both give the
 * same bytes for every input (the tests compare them), so parties on
 * different CPUs agree on every tag. The lanes are compiled on x86-64 with
 * GCC or Clang unless PSI_X25519_NO_LANES is defined (a build as another
 * CPU would have it), and chosen at run time.
 *
 * The eight-lane code is constant time in the key and in the points: the
 * ladder's swaps are masks made from the key's bits, never branches or
 * indexes; the loop bounds and every memory index depend only on the
 * number of points.
 *
 * Bounds (8-lane field, radix 2^51): IFMA reads only the low 52 bits of its
 * factors, so every factor must have limbs below 2^52. Each operation ends
 * with one parallel carry (each limb keeps its low 51 bits and takes the
 * excess of the limb below; limb 4's excess comes back into limb 0 times
 * 19): after a multiplication the column sums stay below 2^61, so the
 * limbs end below 2^51 + 2^15; after an addition or subtraction of such
 * limbs, below 2^51 + 2^6. Both are below 2^52.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fe25519.h"
#include "psi/curve25519.h"
#include "psi/error.h"
#include "x25519_many.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(PSI_X25519_NO_LANES)
#define HAVE_LANES8 1
#include <immintrin.h>
#else
#define HAVE_LANES8 0
#endif

#define LANES 8

static size_t at_most(size_t n, size_t max)
{
    return n > max ? max : n;
}

/* ---- one point at a time: libsodium ---- */

static int many_libsodium(unsigned char *out, const unsigned char key[32],
                          const unsigned char *points, size_t n, size_t *zero_index)
{
    unsigned char product[PSI_CURVE25519_BYTES];
    int rc = PSI_OK;

    for (size_t i = 0; i < n; i++) {
        /* libsodium's implementations do not all allow out == point. */
        if (crypto_scalarmult(product, key, points + i * PSI_CURVE25519_BYTES) != 0 &&
            rc == PSI_OK) {
            rc = PSI_ERR_IDENTITY;
            *zero_index = i;
        }
        memcpy(out + i * PSI_CURVE25519_BYTES, product, sizeof product);
    }
    sodium_memzero(product, sizeof product);
    return rc;
}

/* ---- eight points at a time: AVX-512 IFMA ---- */

#if HAVE_LANES8

#define LANES8 __attribute__((target("avx512f,avx512ifma")))
#define INLINE __attribute__((always_inline)) inline

/* The clamped scalar of RFC 7748 (decodeScalar25519). */
static void clamp(unsigned char k[32], const unsigned char key[32])
{
    memcpy(k, key, 32);
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
}

static int is_zero32(const unsigned char *s)
{
    return sodium_is_zero(s, PSI_CURVE25519_BYTES);
}

/* Limb k of eight field elements, lane i holding element i. */
typedef struct {
    __m512i l[5];
} fe8;

LANES8 INLINE static __m512i times19(__m512i x)
{
    return _mm512_add_epi64(_mm512_add_epi64(x, _mm512_slli_epi64(x, 1)), _mm512_slli_epi64(x, 4));
}

/* The parallel carry of five column sums below 2^63 into h. */
LANES8 INLINE static void carry8(fe8 *h, __m512i c0, __m512i c1, __m512i c2, __m512i c3, __m512i c4)
{
    const __m512i mask = _mm512_set1_epi64((INT64_C(1) << 51) - 1);

    h->l[0] = _mm512_add_epi64(_mm512_and_si512(c0, mask), times19(_mm512_srli_epi64(c4, 51)));
    h->l[1] = _mm512_add_epi64(_mm512_and_si512(c1, mask), _mm512_srli_epi64(c0, 51));
    h->l[2] = _mm512_add_epi64(_mm512_and_si512(c2, mask), _mm512_srli_epi64(c1, 51));
    h->l[3] = _mm512_add_epi64(_mm512_and_si512(c3, mask), _mm512_srli_epi64(c2, 51));
    h->l[4] = _mm512_add_epi64(_mm512_and_si512(c4, mask), _mm512_srli_epi64(c3, 51));
}

/* From the low halves lo[k] (weight 2^(51 k)) and high halves hi[k] (weight
 * 2^(51 k + 52) = 2 * 2^(51 (k + 1))) of the products a_i b_j, i + j = k:
 * the columns of weight 2^(51 k), k = 0..9, columns 5..9 folded onto 0..4
 * times 19 (2^255 = 19 mod p), then carried. */
LANES8 INLINE static void reduce8(fe8 *h, const __m512i lo[9], const __m512i hi[9])
{
    __m512i col[10];

    col[0] = lo[0];
    for (int k = 1; k < 9; k++) {
        col[k] = _mm512_add_epi64(lo[k], _mm512_slli_epi64(hi[k - 1], 1));
    }
    col[9] = _mm512_slli_epi64(hi[8], 1);
    carry8(h, _mm512_add_epi64(col[0], times19(col[5])), _mm512_add_epi64(col[1], times19(col[6])),
           _mm512_add_epi64(col[2], times19(col[7])), _mm512_add_epi64(col[3], times19(col[8])),
           _mm512_add_epi64(col[4], times19(col[9])));
}

LANES8 INLINE static void zero_columns(__m512i lo[9], __m512i hi[9])
{
    for (int k = 0; k < 9; k++) {
        lo[k] = _mm512_setzero_si512();
        hi[k] = _mm512_setzero_si512();
    }
}

LANES8 INLINE static void mul8(fe8 *h, const fe8 *f, const fe8 *g)
{
    __m512i lo[9], hi[9];

    zero_columns(lo, hi);
#pragma GCC unroll 5
    for (int i = 0; i < 5; i++) {
#pragma GCC unroll 5
        for (int j = 0; j < 5; j++) {
            lo[i + j] = _mm512_madd52lo_epu64(lo[i + j], f->l[i], g->l[j]);
            hi[i + j] = _mm512_madd52hi_epu64(hi[i + j], f->l[i], g->l[j]);
        }
    }
    reduce8(h, lo, hi);
}

/* mul8(h, f, f) with each cross product computed once and doubled. */
LANES8 INLINE static void sq8(fe8 *h, const fe8 *f)
{
    __m512i lo[9], hi[9];

    zero_columns(lo, hi);
#pragma GCC unroll 5
    for (int i = 0; i < 5; i++) {
#pragma GCC unroll 5
        for (int j = i + 1; j < 5; j++) {
            lo[i + j] = _mm512_madd52lo_epu64(lo[i + j], f->l[i], f->l[j]);
            hi[i + j] = _mm512_madd52hi_epu64(hi[i + j], f->l[i], f->l[j]);
        }
    }
    for (int k = 0; k < 9; k++) {
        lo[k] = _mm512_slli_epi64(lo[k], 1);
        hi[k] = _mm512_slli_epi64(hi[k], 1);
    }
#pragma GCC unroll 5
    for (size_t i = 0; i < 5; i++) {
        lo[2 * i] = _mm512_madd52lo_epu64(lo[2 * i], f->l[i], f->l[i]);
        hi[2 * i] = _mm512_madd52hi_epu64(hi[2 * i], f->l[i], f->l[i]);
    }
    reduce8(h, lo, hi);
}

/* h = f * 121665, the (A - 2) / 4 of Curve25519. */
LANES8 INLINE static void mul_a24_8(fe8 *h, const fe8 *f)
{
    const __m512i a24 = _mm512_set1_epi64(121665);
    __m512i lo[9], hi[9];

    zero_columns(lo, hi);
    for (int i = 0; i < 5; i++) {
        lo[i] = _mm512_madd52lo_epu64(lo[i], f->l[i], a24);
        hi[i] = _mm512_madd52hi_epu64(hi[i], f->l[i], a24);
    }
    reduce8(h, lo, hi);
}

LANES8 INLINE static void add8(fe8 *h, const fe8 *f, const fe8 *g)
{
    carry8(h, _mm512_add_epi64(f->l[0], g->l[0]), _mm512_add_epi64(f->l[1], g->l[1]),
           _mm512_add_epi64(f->l[2], g->l[2]), _mm512_add_epi64(f->l[3], g->l[3]),
           _mm512_add_epi64(f->l[4], g->l[4]));
}

/* f + 2p - g: 2p's limbs (2^52 - 38, then 2^52 - 2) exceed any g limb. */
LANES8 INLINE static void sub8(fe8 *h, const fe8 *f, const fe8 *g)
{
    const __m512i two_p0 = _mm512_set1_epi64((INT64_C(1) << 52) - 38);
    const __m512i two_p = _mm512_set1_epi64((INT64_C(1) << 52) - 2);

    carry8(h, _mm512_sub_epi64(_mm512_add_epi64(f->l[0], two_p0), g->l[0]),
           _mm512_sub_epi64(_mm512_add_epi64(f->l[1], two_p), g->l[1]),
           _mm512_sub_epi64(_mm512_add_epi64(f->l[2], two_p), g->l[2]),
           _mm512_sub_epi64(_mm512_add_epi64(f->l[3], two_p), g->l[3]),
           _mm512_sub_epi64(_mm512_add_epi64(f->l[4], two_p), g->l[4]));
}

/* Swaps f and g in every lane where mask is all ones (it is all ones or all
 * zeros in every lane: one key bit). */
LANES8 INLINE static void cswap8(fe8 *f, fe8 *g, __m512i mask)
{
    for (int k = 0; k < 5; k++) {
        __m512i x = _mm512_and_si512(_mm512_xor_si512(f->l[k], g->l[k]), mask);
        f->l[k] = _mm512_xor_si512(f->l[k], x);
        g->l[k] = _mm512_xor_si512(g->l[k], x);
    }
}

LANES8 static void sq8_times(fe8 *h, const fe8 *f, int n)
{
    sq8(h, f);
    for (int i = 1; i < n; i++) {
        sq8(h, h);
    }
}

/* t = f^(2^250 - 1) and f11 = f^11: the chains of fe25519_invert and
 * fe25519_pow_p58 up to where they part. */
LANES8 static void pow_2_250_minus_1_8(fe8 *t, fe8 *f11, const fe8 *f)
{
    fe8 f2, f9, a, b, c;

    sq8(&f2, f);            /* 2 */
    sq8_times(&a, &f2, 2);  /* 8 */
    mul8(&f9, &a, f);       /* 9 */
    mul8(f11, &f9, &f2);    /* 11 */
    sq8(&a, f11);           /* 22 */
    mul8(&a, &a, &f9);      /* 2^5 - 1 */
    sq8_times(&b, &a, 5);   /* 2^10 - 2^5 */
    mul8(&a, &b, &a);       /* 2^10 - 1 */
    sq8_times(&b, &a, 10);  /* 2^20 - 2^10 */
    mul8(&b, &b, &a);       /* 2^20 - 1 */
    sq8_times(&c, &b, 20);  /* 2^40 - 2^20 */
    mul8(&b, &c, &b);       /* 2^40 - 1 */
    sq8_times(&b, &b, 10);  /* 2^50 - 2^10 */
    mul8(&a, &b, &a);       /* 2^50 - 1 */
    sq8_times(&b, &a, 50);  /* 2^100 - 2^50 */
    mul8(&b, &b, &a);       /* 2^100 - 1 */
    sq8_times(&c, &b, 100); /* 2^200 - 2^100 */
    mul8(&b, &c, &b);       /* 2^200 - 1 */
    sq8_times(&b, &b, 50);  /* 2^250 - 2^50 */
    mul8(t, &b, &a);        /* 2^250 - 1 */
    sodium_memzero(&f2, sizeof f2);
    sodium_memzero(&f9, sizeof f9);
    sodium_memzero(&a, sizeof a);
    sodium_memzero(&b, sizeof b);
    sodium_memzero(&c, sizeof c);
}

/* h = f^(p - 2), the inverse (0 for 0). */
LANES8 static void invert8(fe8 *h, const fe8 *f)
{
    fe8 t, f11;

    pow_2_250_minus_1_8(&t, &f11, f);
    sq8_times(&t, &t, 5); /* 2^255 - 2^5 */
    mul8(h, &t, &f11);    /* 2^255 - 21 = p - 2 */
    sodium_memzero(&t, sizeof t);
    sodium_memzero(&f11, sizeof f11);
}

/* h = f^((p - 5) / 8). */
LANES8 static void pow_p58_8(fe8 *h, const fe8 *f)
{
    fe8 t, f11;

    pow_2_250_minus_1_8(&t, &f11, f);
    sq8_times(&t, &t, 2); /* 2^252 - 4 */
    mul8(h, &t, f);       /* 2^252 - 3 = (p - 5) / 8 */
    sodium_memzero(&t, sizeof t);
    sodium_memzero(&f11, sizeof f11);
}

/* The Montgomery ladder of RFC 7748, section 5, on eight u-coordinates
 * x1 at once under the clamped scalar k: x2 / z2 is k * x1. */
LANES8 static void ladder8(fe8 *x2, fe8 *z2, const fe8 *x1, const unsigned char k[32])
{
    fe8 x3 = *x1, z3, a, aa, b, bb, e, c, d, da, cb, t;
    uint64_t swap = 0;

    for (int i = 0; i < 5; i++) {
        x2->l[i] = _mm512_set1_epi64(i == 0);
        z2->l[i] = _mm512_setzero_si512();
        z3.l[i] = x2->l[i];
    }
    for (int i = 254; i >= 0; i--) {
        uint64_t bit = (uint64_t)(k[i >> 3] >> (i & 7)) & 1U;
        __m512i mask;

        swap ^= bit;
        mask = _mm512_set1_epi64((long long)(0 - swap));
        cswap8(x2, &x3, mask);
        cswap8(z2, &z3, mask);
        swap = bit;

        add8(&a, x2, z2);
        sub8(&b, x2, z2);
        add8(&c, &x3, &z3);
        sub8(&d, &x3, &z3);
        mul8(&da, &d, &a);
        mul8(&cb, &c, &b);
        sq8(&aa, &a);
        sq8(&bb, &b);
        add8(&t, &da, &cb);
        sq8(&x3, &t);
        sub8(&t, &da, &cb);
        sq8(&t, &t);
        mul8(&z3, x1, &t);
        mul8(x2, &aa, &bb);
        sub8(&e, &aa, &bb);
        mul_a24_8(&t, &e);
        add8(&t, &t, &aa);
        mul8(z2, &e, &t);
    }
    {
        __m512i mask = _mm512_set1_epi64((long long)(0 - swap));
        cswap8(x2, &x3, mask);
        cswap8(z2, &z3, mask);
    }
    sodium_memzero(&x3, sizeof x3);
    sodium_memzero(&z3, sizeof z3);
    sodium_memzero(&a, sizeof a);
    sodium_memzero(&aa, sizeof aa);
    sodium_memzero(&b, sizeof b);
    sodium_memzero(&bb, sizeof bb);
    sodium_memzero(&e, sizeof e);
    sodium_memzero(&c, sizeof c);
    sodium_memzero(&d, sizeof d);
    sodium_memzero(&da, sizeof da);
    sodium_memzero(&cb, sizeof cb);
    sodium_memzero(&t, sizeof t);
}

/* Eight field elements into lanes (their limbs are below 2^52, as every
 * fe25519 result is), and back. */
LANES8 static void fe8_from_lanes(fe8 *h, const fe25519 in[LANES])
{
    uint64_t limbs[5][LANES];

    for (int lane = 0; lane < LANES; lane++) {
        for (int i = 0; i < 5; i++) {
            limbs[i][lane] = in[lane].v[i];
        }
    }
    for (int i = 0; i < 5; i++) {
        h->l[i] = _mm512_loadu_si512(limbs[i]);
    }
    sodium_memzero(limbs, sizeof limbs);
}

LANES8 static void fe8_to_lanes(fe25519 out[LANES], const fe8 *h)
{
    uint64_t limbs[5][LANES];

    for (int i = 0; i < 5; i++) {
        _mm512_storeu_si512(limbs[i], h->l[i]);
    }
    for (int lane = 0; lane < LANES; lane++) {
        for (int i = 0; i < 5; i++) {
            out[lane].v[i] = limbs[i][lane];
        }
    }
    sodium_memzero(limbs, sizeof limbs);
}

/* out[i] = X25519(k, u[i]) for eight points (k already clamped). */
LANES8 static void x25519_8(unsigned char out[LANES][32], const unsigned char k[32],
                            const unsigned char u[LANES][32])
{
    unsigned char masked[32];
    fe25519 lanes[LANES];
    fe8 x1, x2, z2, zi;

    /* decodeUCoordinate: the top bit is ignored, the rest read mod p. */
    for (int lane = 0; lane < LANES; lane++) {
        memcpy(masked, u[lane], 32);
        masked[31] &= 127;
        fe25519_from_bytes_256(&lanes[lane], masked);
    }
    fe8_from_lanes(&x1, lanes);
    ladder8(&x2, &z2, &x1, k);
    invert8(&zi, &z2);
    mul8(&x2, &x2, &zi);
    fe8_to_lanes(lanes, &x2);
    for (int lane = 0; lane < LANES; lane++) {
        fe25519_to_bytes(out[lane], &lanes[lane]);
    }
    sodium_memzero(masked, sizeof masked);
    sodium_memzero(lanes, sizeof lanes);
    sodium_memzero(&x1, sizeof x1);
    sodium_memzero(&x2, sizeof x2);
    sodium_memzero(&z2, sizeof z2);
    sodium_memzero(&zi, sizeof zi);
}

/* Lanes beyond the last point of a batch multiply the base point (u = 9). */
static int many_lanes8(unsigned char *out, const unsigned char key[32], const unsigned char *points,
                       size_t n, size_t *zero_index)
{
    unsigned char k[32], in[LANES][32], res[LANES][32];
    int rc = PSI_OK;

    clamp(k, key);
    for (size_t at = 0; at < n; at += LANES) {
        size_t count = at_most(n - at, LANES);

        memset(in, 0, sizeof in);
        for (size_t lane = 0; lane < LANES; lane++) {
            if (lane < count) {
                memcpy(in[lane], points + (at + lane) * 32, 32);
            } else {
                in[lane][0] = 9;
            }
        }
        x25519_8(res, k, (const unsigned char(*)[32])in);
        for (size_t lane = 0; lane < count; lane++) {
            memcpy(out + (at + lane) * 32, res[lane], 32);
            if (rc == PSI_OK && is_zero32(res[lane])) {
                rc = PSI_ERR_IDENTITY;
                *zero_index = at + lane;
            }
        }
    }
    sodium_memzero(k, sizeof k);
    sodium_memzero(in, sizeof in);
    sodium_memzero(res, sizeof res);
    return rc;
}

/* out[i] = in[i]^e for eight elements, e the exponent of `invert`
 * (p - 2) or not (p - 5) / 8. */
LANES8 static void pow_lanes8(fe25519 out[LANES], const fe25519 in[LANES], int invert)
{
    fe8 f, h;

    fe8_from_lanes(&f, in);
    if (invert) {
        invert8(&h, &f);
    } else {
        pow_p58_8(&h, &f);
    }
    fe8_to_lanes(out, &h);
    sodium_memzero(&f, sizeof f);
    sodium_memzero(&h, sizeof h);
}

static int cpu_has_lanes8(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
}

#else /* !HAVE_LANES8 */

static void pow_lanes8(fe25519 out[LANES], const fe25519 in[LANES], int invert)
{
    (void)out;
    (void)in;
    (void)invert;
}

static int many_lanes8(unsigned char *out, const unsigned char key[32], const unsigned char *points,
                       size_t n, size_t *zero_index)
{
    return many_libsodium(out, key, points, n, zero_index);
}

static int cpu_has_lanes8(void)
{
    return 0;
}

#endif

/* ---- the choice ---- */

static enum psi_x25519_impl chosen = PSI_X25519_IMPL_LIBSODIUM;
static int lanes8_usable; /* the CPU's answer, asked once */
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
    const char *want = getenv("PSI_X25519_IMPL");
    int want_libsodium = want != NULL && strcmp(want, "libsodium") == 0;

    lanes8_usable = cpu_has_lanes8();
    /* cppcheck 2.10 wrongly calls lanes8_usable always false (the CPU's
     * answer is 1 on this project's machines). */
    // cppcheck-suppress knownConditionTrueFalse
    chosen = lanes8_usable && !want_libsodium ? PSI_X25519_IMPL_LANES8 : PSI_X25519_IMPL_LIBSODIUM;
}

int psi_x25519_impl_available(enum psi_x25519_impl impl)
{
    (void)pthread_once(&choose_once, choose);
    switch (impl) {
    case PSI_X25519_IMPL_LIBSODIUM: return 1;
    case PSI_X25519_IMPL_LANES8: return lanes8_usable;
    default: return 0;
    }
}

enum psi_x25519_impl psi_x25519_impl_chosen(void)
{
    (void)pthread_once(&choose_once, choose);
    return chosen;
}

const char *psi_x25519_implementation(void)
{
    return psi_x25519_impl_chosen() == PSI_X25519_IMPL_LANES8 ? "avx512ifma" : "libsodium";
}

/* A tail of fewer points than this goes one by one through libsodium: eight
 * lanes cost the same for one point as for eight, about four libsodium
 * multiplications (14.7 us a lane against 30.2 us, docs/performance.md). */
#define LANES8_MIN_POINTS 4

int psi_x25519_many_with(enum psi_x25519_impl impl, unsigned char *out, const unsigned char key[32],
                         const unsigned char *points, size_t n, size_t *zero_index)
{
    size_t ignored = 0;

    if (out == NULL || key == NULL || (points == NULL && n != 0)) {
        return PSI_ERR_INVALID;
    }
    if (n > SIZE_MAX / PSI_CURVE25519_BYTES) {
        return PSI_ERR_TOO_LARGE;
    }
    if (zero_index == NULL) {
        zero_index = &ignored;
    }
    if (impl == PSI_X25519_IMPL_LANES8 && psi_x25519_impl_available(impl)) {
        /* The lanes read every point of a block before writing any result,
         * so out may equal points; the tail goes through libsodium. */
        size_t whole = n - n % LANES;
        size_t tail_zero = 0;
        int rc, tail_rc;

        if (n % LANES >= LANES8_MIN_POINTS) {
            whole = n;
        }
        rc = many_lanes8(out, key, points, whole, zero_index);
        tail_rc = many_libsodium(out + whole * 32, key, points + whole * 32, n - whole, &tail_zero);
        if (rc == PSI_OK && tail_rc != PSI_OK) {
            rc = tail_rc;
            *zero_index = whole + tail_zero;
        }
        return rc;
    }
    return many_libsodium(out, key, points, n, zero_index);
}

int psi_x25519_many(unsigned char *out, const unsigned char key[32], const unsigned char *points,
                    size_t n, size_t *zero_index)
{
    return psi_x25519_many_with(psi_x25519_impl_chosen(), out, key, points, n, zero_index);
}

/* Eight exponentiations in lanes from this many on; fewer go one by one. */
#define LANES8_MIN_POWS 4

static void pow_many(fe25519 *out, const fe25519 *in, size_t n, int invert)
{
    fe25519 block_in[LANES], block_out[LANES];
    size_t at = 0;

    if (psi_x25519_impl_chosen() == PSI_X25519_IMPL_LANES8) {
        while (n - at >= LANES8_MIN_POWS) {
            size_t count = at_most(n - at, LANES);

            for (size_t lane = 0; lane < LANES; lane++) {
                if (lane < count) {
                    block_in[lane] = in[at + lane];
                } else {
                    fe25519_one(&block_in[lane]);
                }
            }
            pow_lanes8(block_out, block_in, invert);
            memcpy(out + at, block_out, count * sizeof block_out[0]);
            at += count;
        }
    }
    for (; at < n; at++) {
        if (invert) {
            fe25519_invert(&out[at], &in[at]);
        } else {
            fe25519_pow_p58(&out[at], &in[at]);
        }
    }
    sodium_memzero(block_in, sizeof block_in);
    sodium_memzero(block_out, sizeof block_out);
}

void psi_fe25519_invert_many(fe25519 *out, const fe25519 *in, size_t n)
{
    pow_many(out, in, n, 1);
}

void psi_fe25519_pow_p58_many(fe25519 *out, const fe25519 *in, size_t n)
{
    pow_many(out, in, n, 0);
}
