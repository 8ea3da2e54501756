/* GF(2^255 - 19) in five 51-bit limbs (see fe25519.h). */
#include "fe25519.h"

#include <string.h>

#define LIMB_MASK ((UINT64_C(1) << 51) - 1)

__extension__ typedef unsigned __int128 u128;

static uint64_t load64_le(const unsigned char *s)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) {
        v |= (uint64_t)s[i] << (8 * i);
    }
    return v;
}

static void store64_le(unsigned char *s, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        s[i] = (unsigned char)(v >> (8 * i));
    }
}

/* Brings every limb below 2^51 plus a small excess (at most 19 * 2^13 in
 * limb 0), whatever limbs below 2^63 it starts from. */
static void carry(fe25519 *h)
{
    uint64_t c;

    c = h->v[0] >> 51;
    h->v[0] &= LIMB_MASK;
    h->v[1] += c;
    c = h->v[1] >> 51;
    h->v[1] &= LIMB_MASK;
    h->v[2] += c;
    c = h->v[2] >> 51;
    h->v[2] &= LIMB_MASK;
    h->v[3] += c;
    c = h->v[3] >> 51;
    h->v[3] &= LIMB_MASK;
    h->v[4] += c;
    c = h->v[4] >> 51;
    h->v[4] &= LIMB_MASK;
    h->v[0] += 19 * c;
    c = h->v[0] >> 51;
    h->v[0] &= LIMB_MASK;
    h->v[1] += c;
}

void fe25519_from_bytes_256(fe25519 *h, const unsigned char s[32])
{
    h->v[0] = load64_le(s) & LIMB_MASK;
    h->v[1] = (load64_le(s + 6) >> 3) & LIMB_MASK;
    h->v[2] = (load64_le(s + 12) >> 6) & LIMB_MASK;
    h->v[3] = (load64_le(s + 19) >> 1) & LIMB_MASK;
    h->v[4] = (load64_le(s + 24) >> 12) & LIMB_MASK;
    /* Bit 255 is worth 2^255 = 19 mod p. */
    h->v[0] += 19 * (uint64_t)(s[31] >> 7);
    carry(h);
}

void fe25519_from_bytes_be48(fe25519 *h, const unsigned char s[48])
{
    unsigned char low[32], high[32];
    fe25519 lo, hi, factor;

    /* The integer is low + high * 2^256 with 2^256 = 38 mod p. */
    for (unsigned i = 0; i < 32; i++) {
        low[i] = s[47 - i];
    }
    memset(high, 0, sizeof high);
    for (unsigned i = 0; i < 16; i++) {
        high[i] = s[15 - i];
    }
    fe25519_from_bytes_256(&lo, low);
    fe25519_from_bytes_256(&hi, high);
    fe25519_zero(&factor);
    factor.v[0] = 38;
    fe25519_mul(&hi, &hi, &factor);
    fe25519_add(h, &lo, &hi);
}

void fe25519_to_bytes(unsigned char s[32], const fe25519 *f)
{
    fe25519 h = *f;
    uint64_t q;

    carry(&h);
    /* Now h < 2^255 + 2^18 < 2p: subtract p once if h >= p, i.e. if h + 19
     * reaches 2^255. */
    q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;
    h.v[0] += 19 * q;
    h.v[1] += h.v[0] >> 51;
    h.v[0] &= LIMB_MASK;
    h.v[2] += h.v[1] >> 51;
    h.v[1] &= LIMB_MASK;
    h.v[3] += h.v[2] >> 51;
    h.v[2] &= LIMB_MASK;
    h.v[4] += h.v[3] >> 51;
    h.v[3] &= LIMB_MASK;
    h.v[4] &= LIMB_MASK; /* drops the 2^255 of h + 19 - 2^255 */

    store64_le(s, h.v[0] | (h.v[1] << 51));
    store64_le(s + 8, (h.v[1] >> 13) | (h.v[2] << 38));
    store64_le(s + 16, (h.v[2] >> 26) | (h.v[3] << 25));
    store64_le(s + 24, (h.v[3] >> 39) | (h.v[4] << 12));
}

void fe25519_zero(fe25519 *h)
{
    memset(h, 0, sizeof *h);
}

void fe25519_one(fe25519 *h)
{
    fe25519_zero(h);
    h->v[0] = 1;
}

void fe25519_copy(fe25519 *h, const fe25519 *f)
{
    *h = *f;
}

void fe25519_add(fe25519 *h, const fe25519 *f, const fe25519 *g)
{
    for (unsigned i = 0; i < 5; i++) {
        h->v[i] = f->v[i] + g->v[i];
    }
    carry(h);
}

void fe25519_sub(fe25519 *h, const fe25519 *f, const fe25519 *g)
{
    /* f + 4p - g: 4p's limbs exceed any g limb below 2^52, so no limb goes
     * negative. */
    static const uint64_t four_p[5] = {
        0x1FFFFFFFFFFFB4ULL, 0x1FFFFFFFFFFFFCULL, 0x1FFFFFFFFFFFFCULL,
        0x1FFFFFFFFFFFFCULL, 0x1FFFFFFFFFFFFCULL,
    };
    for (unsigned i = 0; i < 5; i++) {
        h->v[i] = f->v[i] + four_p[i] - g->v[i];
    }
    carry(h);
}

void fe25519_neg(fe25519 *h, const fe25519 *f)
{
    fe25519 zero;

    fe25519_zero(&zero);
    fe25519_sub(h, &zero, f);
}

/* The carry chain shared by mul and sq: five 128-bit column sums to limbs. */
static void reduce_columns(fe25519 *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
    uint64_t c;

    r1 += (uint64_t)(r0 >> 51);
    h->v[0] = (uint64_t)r0 & LIMB_MASK;
    r2 += (uint64_t)(r1 >> 51);
    h->v[1] = (uint64_t)r1 & LIMB_MASK;
    r3 += (uint64_t)(r2 >> 51);
    h->v[2] = (uint64_t)r2 & LIMB_MASK;
    r4 += (uint64_t)(r3 >> 51);
    h->v[3] = (uint64_t)r3 & LIMB_MASK;
    c = (uint64_t)(r4 >> 51);
    h->v[4] = (uint64_t)r4 & LIMB_MASK;
    h->v[0] += 19 * c;
    h->v[1] += h->v[0] >> 51;
    h->v[0] &= LIMB_MASK;
}

void fe25519_mul(fe25519 *h, const fe25519 *f, const fe25519 *g)
{
    const uint64_t *a = f->v, *b = g->v;
    /* Limbs above the fifth wrap around times 19 (2^255 = 19 mod p). */
    uint64_t b1_19 = 19 * b[1], b2_19 = 19 * b[2], b3_19 = 19 * b[3], b4_19 = 19 * b[4];

    reduce_columns(h,
                   (u128)a[0] * b[0] + (u128)a[1] * b4_19 + (u128)a[2] * b3_19 +
                       (u128)a[3] * b2_19 + (u128)a[4] * b1_19,
                   (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * b4_19 + (u128)a[3] * b3_19 +
                       (u128)a[4] * b2_19,
                   (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0] + (u128)a[3] * b4_19 +
                       (u128)a[4] * b3_19,
                   (u128)a[0] * b[3] + (u128)a[1] * b[2] + (u128)a[2] * b[1] + (u128)a[3] * b[0] +
                       (u128)a[4] * b4_19,
                   (u128)a[0] * b[4] + (u128)a[1] * b[3] + (u128)a[2] * b[2] + (u128)a[3] * b[1] +
                       (u128)a[4] * b[0]);
}

void fe25519_sq(fe25519 *h, const fe25519 *f)
{
    /* mul with equal factors: each cross product a_i a_j (i != j) once,
     * doubled. */
    const uint64_t *a = f->v;
    uint64_t a0_2 = 2 * a[0], a1_2 = 2 * a[1], a2_2 = 2 * a[2];
    uint64_t a3_19 = 19 * a[3], a4_19 = 19 * a[4];

    reduce_columns(h, (u128)a[0] * a[0] + (u128)a1_2 * a4_19 + (u128)a2_2 * a3_19,
                   (u128)a0_2 * a[1] + (u128)a2_2 * a4_19 + (u128)a[3] * a3_19,
                   (u128)a0_2 * a[2] + (u128)a[1] * a[1] + (u128)(2 * a[3]) * a4_19,
                   (u128)a0_2 * a[3] + (u128)a1_2 * a[2] + (u128)a[4] * a4_19,
                   (u128)a0_2 * a[4] + (u128)a1_2 * a[3] + (u128)a[2] * a[2]);
}

/* h = f^(2^n): n squarings. */
static void sq_times(fe25519 *h, const fe25519 *f, unsigned n)
{
    fe25519_sq(h, f);
    for (unsigned i = 1; i < n; i++) {
        fe25519_sq(h, h);
    }
}

/* t = f^(2^250 - 1) and f11 = f^11, the common start of both chains. */
static void pow_2_250_minus_1(fe25519 *t, fe25519 *f11, const fe25519 *f)
{
    fe25519 f2, f9, a, b, c;

    fe25519_sq(&f2, f);         /* 2 */
    sq_times(&a, &f2, 2);       /* 8 */
    fe25519_mul(&f9, &a, f);    /* 9 */
    fe25519_mul(f11, &f9, &f2); /* 11 */
    fe25519_sq(&a, f11);        /* 22 */
    fe25519_mul(&a, &a, &f9);   /* 31 = 2^5 - 1 */
    sq_times(&b, &a, 5);        /* 2^10 - 2^5 */
    fe25519_mul(&a, &b, &a);    /* 2^10 - 1 */
    sq_times(&b, &a, 10);       /* 2^20 - 2^10 */
    fe25519_mul(&b, &b, &a);    /* 2^20 - 1 */
    sq_times(&c, &b, 20);       /* 2^40 - 2^20 */
    fe25519_mul(&b, &c, &b);    /* 2^40 - 1 */
    sq_times(&b, &b, 10);       /* 2^50 - 2^10 */
    fe25519_mul(&a, &b, &a);    /* 2^50 - 1 */
    sq_times(&b, &a, 50);       /* 2^100 - 2^50 */
    fe25519_mul(&b, &b, &a);    /* 2^100 - 1 */
    sq_times(&c, &b, 100);      /* 2^200 - 2^100 */
    fe25519_mul(&b, &c, &b);    /* 2^200 - 1 */
    sq_times(&b, &b, 50);       /* 2^250 - 2^50 */
    fe25519_mul(t, &b, &a);     /* 2^250 - 1 */
}

void fe25519_invert(fe25519 *h, const fe25519 *f)
{
    fe25519 t, f11;

    pow_2_250_minus_1(&t, &f11, f);
    sq_times(&t, &t, 5);      /* 2^255 - 2^5 */
    fe25519_mul(h, &t, &f11); /* 2^255 - 21 = p - 2 */
}

void fe25519_pow_p58(fe25519 *h, const fe25519 *f)
{
    fe25519 t, f11;

    pow_2_250_minus_1(&t, &f11, f);
    sq_times(&t, &t, 2);   /* 2^252 - 4 */
    fe25519_mul(h, &t, f); /* 2^252 - 3 = (p - 5) / 8 */
}

void fe25519_cmov(fe25519 *h, const fe25519 *g, unsigned b)
{
    uint64_t mask = (uint64_t)0 - (uint64_t)b;

    for (unsigned i = 0; i < 5; i++) {
        h->v[i] ^= mask & (h->v[i] ^ g->v[i]);
    }
}

void fe25519_cswap(fe25519 *f, fe25519 *g, unsigned b)
{
    uint64_t mask = (uint64_t)0 - (uint64_t)b;

    for (unsigned i = 0; i < 5; i++) {
        uint64_t x = mask & (f->v[i] ^ g->v[i]);
        f->v[i] ^= x;
        g->v[i] ^= x;
    }
}

unsigned fe25519_is_zero(const fe25519 *f)
{
    unsigned char s[32];
    unsigned acc = 0;

    fe25519_to_bytes(s, f);
    for (unsigned i = 0; i < 32; i++) {
        acc |= s[i];
    }
    /* acc is in [0, 255]: acc - 1 borrows into bit 8 only for 0. */
    return ((acc - 1U) >> 8) & 1U;
}

unsigned fe25519_eq(const fe25519 *f, const fe25519 *g)
{
    fe25519 d;

    fe25519_sub(&d, f, g);
    return fe25519_is_zero(&d);
}

unsigned fe25519_sgn0(const fe25519 *f)
{
    unsigned char s[32];

    fe25519_to_bytes(s, f);
    return s[0] & 1U;
}
