/* Hashing to Curve25519 and checking u-coordinates (psi/curve25519.h,
 * h2c_curve25519.h). */
#include "psi/curve25519.h"

#include <string.h>

#include <sodium.h>

#include "fe25519.h"
#include "h2c_curve25519.h"
#include "x25519_many.h"
#include "psi/error.h"

/* The bytes of expand_message_xmd per field element: L = ceil((ceil(log2(p))
 * + k) / 8) = ceil((255 + 128) / 8) = 48 (RFC 9380, section 5). */
#define FIELD_ELEMENT_HASH_BYTES 48U

/* J = 486662, the Montgomery curve's A (K = 1). */
static const fe25519 curve_a = {{486662, 0, 0, 0, 0}};
/* sqrt(-1) = 2^((p - 1) / 4). */
static const fe25519 sqrt_minus_one = {{0x61b274a0ea0b0ULL, 0xd5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL,
                                        0x78595a6804c9eULL, 0x2b8324804fc1dULL}};
/* c2 of appendix G.2.1: 2^((p + 3) / 8). */
static const fe25519 two_pow_c1 = {{0x61b274a0ea0b1ULL, 0xd5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL,
                                    0x78595a6804c9eULL, 0x2b8324804fc1dULL}};
/* sqrt(-486664) with sgn0 = 0: the factor of the birational map between
 * Curve25519 and edwards25519 (RFC 7748, section 4.1). */
static const fe25519 sqrt_minus_a_minus_2 = {{0x604aaff457e06ULL, 0x2296fa350598dULL,
                                              0x7f13dfb16874fULL, 0x35de93d846e01ULL,
                                              0xf26edf460a00ULL}};
/* 2 d, d = -121665 / 121666 of edwards25519. */
static const fe25519 edwards_2d = {{0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL,
                                    0x6738cc7407977ULL, 0x2406d9dc56dffULL}};

int psi_h2c_curve25519_hash_to_field(fe25519 u[2], const struct psi_xmd_part *parts, size_t n_parts,
                                     const unsigned char *dst, size_t dst_len)
{
    unsigned char uniform[2 * FIELD_ELEMENT_HASH_BYTES];
    int rc;

    rc = psi_expand_message_xmd_sha512_parts(uniform, sizeof uniform, parts, n_parts, dst, dst_len);
    if (rc == PSI_OK) {
        fe25519_from_bytes_be48(&u[0], uniform);
        fe25519_from_bytes_be48(&u[1], uniform + FIELD_ELEMENT_HASH_BYTES);
    }
    sodium_memzero(uniform, sizeof uniform);
    return rc;
}

/* Appendix G.2.1 up to its one exponentiation: what the rest of the map
 * needs, and the exponentiation's input (pow_in = gx1 gxd^7). */
struct elligator2_half {
    fe25519 tv1, xd, x1n, gxd, gx1, tv3;
};

static void elligator2_begin(struct elligator2_half *h, fe25519 *pow_in, const fe25519 *u)
{
    /* The steps and names of RFC 9380, appendix G.2.1. */
    fe25519 tv2, one;

    fe25519_one(&one);
    fe25519_sq(&h->tv1, u);
    fe25519_add(&h->tv1, &h->tv1, &h->tv1);
    fe25519_add(&h->xd, &h->tv1, &one); /* non-zero: -1 is a square, 2 u^2 is not -1 */
    fe25519_neg(&h->x1n, &curve_a);     /* x1 = -J / (1 + 2 u^2) */
    fe25519_sq(&tv2, &h->xd);
    fe25519_mul(&h->gxd, &tv2, &h->xd); /* xd^3 */
    fe25519_mul(&h->gx1, &curve_a, &h->tv1);
    fe25519_mul(&h->gx1, &h->gx1, &h->x1n);
    fe25519_add(&h->gx1, &h->gx1, &tv2);
    fe25519_mul(&h->gx1, &h->gx1, &h->x1n); /* x1n^3 + J x1n^2 xd + x1n xd^2 */
    fe25519_sq(&h->tv3, &h->gxd);
    fe25519_sq(&tv2, &h->tv3);              /* gxd^4 */
    fe25519_mul(&h->tv3, &h->tv3, &h->gxd); /* gxd^3 */
    fe25519_mul(&h->tv3, &h->tv3, &h->gx1); /* gx1 gxd^3 */
    fe25519_mul(pow_in, &tv2, &h->tv3);     /* gx1 gxd^7 */
    sodium_memzero(&tv2, sizeof tv2);
}

/* The rest of the map, from pow_out = pow_in^((p - 5) / 8). */
static void elligator2_finish(fe25519 *xn, fe25519 *xd, fe25519 *y, const struct elligator2_half *h,
                              const fe25519 *pow_out, const fe25519 *u)
{
    fe25519 tv2, gx2, y11, y12, y1, x2n, y21, y22, y2, neg_y;
    unsigned e1, e2, e3, e4;

    fe25519_mul(&y11, pow_out, &h->tv3); /* candidate root of gx1 / gxd */
    fe25519_mul(&y12, &y11, &sqrt_minus_one);
    fe25519_sq(&tv2, &y11);
    fe25519_mul(&tv2, &tv2, &h->gxd);
    e1 = fe25519_eq(&tv2, &h->gx1);
    fe25519_copy(&y1, &y12);
    fe25519_cmov(&y1, &y11, e1);         /* the root of g(x1) if it is a square */
    fe25519_mul(&x2n, &h->x1n, &h->tv1); /* x2 = 2 u^2 x1 */
    fe25519_mul(&y21, &y11, u);
    fe25519_mul(&y21, &y21, &two_pow_c1);
    fe25519_mul(&y22, &y21, &sqrt_minus_one);
    fe25519_mul(&gx2, &h->gx1, &h->tv1); /* g(x2) = 2 u^2 g(x1) */
    fe25519_sq(&tv2, &y21);
    fe25519_mul(&tv2, &tv2, &h->gxd);
    e2 = fe25519_eq(&tv2, &gx2);
    fe25519_copy(&y2, &y22);
    fe25519_cmov(&y2, &y21, e2); /* the root of g(x2) if it is a square */
    fe25519_sq(&tv2, &y1);
    fe25519_mul(&tv2, &tv2, &h->gxd);
    e3 = fe25519_eq(&tv2, &h->gx1); /* g(x1) is a square: x = x1 */
    fe25519_copy(xn, &x2n);
    fe25519_cmov(xn, &h->x1n, e3);
    fe25519_copy(xd, &h->xd);
    fe25519_copy(y, &y2);
    fe25519_cmov(y, &y1, e3);
    e4 = fe25519_sgn0(y);
    fe25519_neg(&neg_y, y);
    fe25519_cmov(y, &neg_y, e3 ^ e4);

    sodium_memzero(&tv2, sizeof tv2);
    sodium_memzero(&gx2, sizeof gx2);
    sodium_memzero(&y11, sizeof y11);
    sodium_memzero(&y12, sizeof y12);
    sodium_memzero(&y1, sizeof y1);
    sodium_memzero(&y21, sizeof y21);
    sodium_memzero(&y22, sizeof y22);
    sodium_memzero(&y2, sizeof y2);
    sodium_memzero(&x2n, sizeof x2n);
    sodium_memzero(&neg_y, sizeof neg_y);
}

void psi_h2c_curve25519_elligator2(fe25519 *xn, fe25519 *xd, fe25519 *y, const fe25519 *u)
{
    struct elligator2_half half;
    fe25519 pow;

    elligator2_begin(&half, &pow, u);
    fe25519_pow_p58(&pow, &pow); /* (gx1 gxd^7)^((p - 5) / 8) */
    elligator2_finish(xn, xd, y, &half, &pow, u);
    sodium_memzero(&half, sizeof half);
    sodium_memzero(&pow, sizeof pow);
}

void psi_h2c_montgomery_to_edwards(struct psi_ed25519_point *p, const fe25519 *xn,
                                   const fe25519 *xd, const fe25519 *y)
{
    fe25519 en, ed, fn, fd, one;

    /* x_e = c xn / (xd y) = en / ed, y_e = (xn - xd) / (xn + xd) = fn / fd.
     * xn + xd is never zero: u = -1 is on neither the curve nor its twist
     * in a way Elligator reaches (486660 is not a square, so (-1, y) is not
     * on the curve). ed is zero only for y = 0, the point (0, 0), whose
     * image is (0, -1): en is then 0, and ed = 1 gives it. */
    fe25519_mul(&en, xn, &sqrt_minus_a_minus_2);
    fe25519_mul(&ed, xd, y);
    fe25519_sub(&fn, xn, xd);
    fe25519_add(&fd, xn, xd);
    fe25519_one(&one);
    fe25519_cmov(&ed, &one, fe25519_is_zero(&ed));
    /* Extended coordinates of (en / ed, fn / fd). */
    fe25519_mul(&p->X, &en, &fd);
    fe25519_mul(&p->Y, &fn, &ed);
    fe25519_mul(&p->Z, &ed, &fd);
    fe25519_mul(&p->T, &en, &fn);
    sodium_memzero(&en, sizeof en);
    sodium_memzero(&ed, sizeof ed);
    sodium_memzero(&fn, sizeof fn);
    sodium_memzero(&fd, sizeof fd);
}

void psi_ed25519_add(struct psi_ed25519_point *r, const struct psi_ed25519_point *p,
                     const struct psi_ed25519_point *q)
{
    /* Extended coordinates for a = -1 (Hisil, Wong, Carter, Dawson 2008,
     * "add-2008-hwcd-3"): complete on edwards25519 since d is not a square. */
    fe25519 a, b, c, d, e, f, g, h, t;

    fe25519_sub(&a, &p->Y, &p->X);
    fe25519_sub(&t, &q->Y, &q->X);
    fe25519_mul(&a, &a, &t);
    fe25519_add(&b, &p->Y, &p->X);
    fe25519_add(&t, &q->Y, &q->X);
    fe25519_mul(&b, &b, &t);
    fe25519_mul(&c, &p->T, &q->T);
    fe25519_mul(&c, &c, &edwards_2d);
    fe25519_mul(&d, &p->Z, &q->Z);
    fe25519_add(&d, &d, &d);
    fe25519_sub(&e, &b, &a);
    fe25519_sub(&f, &d, &c);
    fe25519_add(&g, &d, &c);
    fe25519_add(&h, &b, &a);
    fe25519_mul(&r->X, &e, &f);
    fe25519_mul(&r->Y, &g, &h);
    fe25519_mul(&r->T, &e, &h);
    fe25519_mul(&r->Z, &f, &g);
    sodium_memzero(&a, sizeof a);
    sodium_memzero(&b, sizeof b);
    sodium_memzero(&c, sizeof c);
    sodium_memzero(&d, sizeof d);
    sodium_memzero(&e, sizeof e);
    sodium_memzero(&f, sizeof f);
    sodium_memzero(&g, sizeof g);
    sodium_memzero(&h, sizeof h);
    sodium_memzero(&t, sizeof t);
}

void psi_ed25519_to_montgomery(unsigned char u[32], unsigned char v[32],
                               const struct psi_ed25519_point *p)
{
    fe25519 num, den, inv, t;

    /* u = (Z + Y) / (Z - Y) and v = c u / x = c (Z + Y) Z / ((Z - Y) X):
     * one inversion of (Z - Y) X serves both. For the identity (X = 0, Y =
     * Z) the inverse of 0 is 0, and so are u and v. */
    fe25519_add(&num, &p->Z, &p->Y);
    fe25519_sub(&den, &p->Z, &p->Y);
    fe25519_mul(&t, &den, &p->X);
    fe25519_invert(&inv, &t);
    fe25519_mul(&t, &num, &p->X);
    fe25519_mul(&t, &t, &inv);
    fe25519_to_bytes(u, &t);
    if (v != NULL) {
        fe25519_mul(&t, &num, &p->Z);
        fe25519_mul(&t, &t, &inv);
        fe25519_mul(&t, &t, &sqrt_minus_a_minus_2);
        fe25519_to_bytes(v, &t);
    }
    sodium_memzero(&num, sizeof num);
    sodium_memzero(&den, sizeof den);
    sodium_memzero(&inv, sizeof inv);
    sodium_memzero(&t, sizeof t);
}

void psi_ed25519_to_bytes(unsigned char s[32], const struct psi_ed25519_point *p)
{
    fe25519 inv, x, y;

    fe25519_invert(&inv, &p->Z);
    fe25519_mul(&x, &p->X, &inv);
    fe25519_mul(&y, &p->Y, &inv);
    fe25519_to_bytes(s, &y);
    s[31] = (unsigned char)(s[31] | (fe25519_sgn0(&x) << 7));
    sodium_memzero(&inv, sizeof inv);
    sodium_memzero(&x, sizeof x);
    sodium_memzero(&y, sizeof y);
}

/* q0 = 8 (q0 + q1): the sum of the two mapped points, cofactor cleared
 * (h_eff = 8, three doublings). */
static void sum_clear_cofactor(struct psi_ed25519_point *q0, const struct psi_ed25519_point *q1)
{
    psi_ed25519_add(q0, q0, q1);
    psi_ed25519_add(q0, q0, q0);
    psi_ed25519_add(q0, q0, q0);
    psi_ed25519_add(q0, q0, q0);
}

int psi_curve25519_hash_to_curve(unsigned char u[32], unsigned char v[32],
                                 const struct psi_xmd_part *parts, size_t n_parts,
                                 const unsigned char *dst, size_t dst_len)
{
    fe25519 field[2], xn, xd, y;
    struct psi_ed25519_point q0, q1;
    int rc;

    if (u == NULL) {
        return PSI_ERR_INVALID;
    }
    rc = psi_h2c_curve25519_hash_to_field(field, parts, n_parts, dst, dst_len);
    if (rc != PSI_OK) {
        memset(u, 0, PSI_CURVE25519_BYTES);
        if (v != NULL) {
            memset(v, 0, PSI_CURVE25519_BYTES);
        }
        return rc;
    }
    psi_h2c_curve25519_elligator2(&xn, &xd, &y, &field[0]);
    psi_h2c_montgomery_to_edwards(&q0, &xn, &xd, &y);
    psi_h2c_curve25519_elligator2(&xn, &xd, &y, &field[1]);
    psi_h2c_montgomery_to_edwards(&q1, &xn, &xd, &y);
    sum_clear_cofactor(&q0, &q1);
    psi_ed25519_to_montgomery(u, v, &q0);

    sodium_memzero(field, sizeof field);
    sodium_memzero(&xn, sizeof xn);
    sodium_memzero(&xd, sizeof xd);
    sodium_memzero(&y, sizeof y);
    sodium_memzero(&q0, sizeof q0);
    sodium_memzero(&q1, sizeof q1);
    return PSI_OK;
}

static size_t at_most(size_t n, size_t max)
{
    return n > max ? max : n;
}

int psi_h2c_curve25519_hash_many(unsigned char *u, const unsigned char *const *inputs,
                                 const size_t *lens, size_t n, const unsigned char *dst,
                                 size_t dst_len, size_t *failed_at)
{
    /* Per chunk: two maps an element, so 2 * CHUNK exponentiations, then
     * CHUNK inversions, each batch through the lanes. */
    enum { CHUNK = 16 };
    fe25519 field[CHUNK][2], xn, xd, y, num[CHUNK], den_x[CHUNK], x[CHUNK], pow[2 * CHUNK];
    struct elligator2_half half[2 * CHUNK];
    struct psi_ed25519_point q0, q1;
    int rc = PSI_OK;

    for (size_t at = 0; at < n && rc == PSI_OK; at += CHUNK) {
        size_t count = at_most(n - at, CHUNK);

        for (size_t i = 0; i < count; i++) {
            struct psi_xmd_part part = {inputs[at + i], lens[at + i]};

            rc = psi_h2c_curve25519_hash_to_field(field[i], &part, 1, dst, dst_len);
            if (rc != PSI_OK) {
                *failed_at = at + i;
                break;
            }
            elligator2_begin(&half[2 * i], &pow[2 * i], &field[i][0]);
            elligator2_begin(&half[2 * i + 1], &pow[2 * i + 1], &field[i][1]);
        }
        if (rc != PSI_OK) {
            break;
        }
        psi_fe25519_pow_p58_many(pow, pow, 2 * count);
        for (size_t i = 0; i < count; i++) {
            elligator2_finish(&xn, &xd, &y, &half[2 * i], &pow[2 * i], &field[i][0]);
            psi_h2c_montgomery_to_edwards(&q0, &xn, &xd, &y);
            elligator2_finish(&xn, &xd, &y, &half[2 * i + 1], &pow[2 * i + 1], &field[i][1]);
            psi_h2c_montgomery_to_edwards(&q1, &xn, &xd, &y);
            sum_clear_cofactor(&q0, &q1);
            /* u = (Z + Y) / (Z - Y), as psi_ed25519_to_montgomery; the
             * inverse of (Z - Y) X leaves u = (Z + Y) X / ((Z - Y) X). */
            fe25519_add(&num[i], &q0.Z, &q0.Y);
            fe25519_sub(&den_x[i], &q0.Z, &q0.Y);
            fe25519_mul(&den_x[i], &den_x[i], &q0.X);
            fe25519_copy(&x[i], &q0.X);
        }
        psi_fe25519_invert_many(den_x, den_x, count);
        for (size_t i = 0; i < count; i++) {
            fe25519_mul(&num[i], &num[i], &x[i]);
            fe25519_mul(&num[i], &num[i], &den_x[i]);
            fe25519_to_bytes(u + PSI_CURVE25519_BYTES * (at + i), &num[i]);
        }
    }
    sodium_memzero(field, sizeof field);
    sodium_memzero(&xn, sizeof xn);
    sodium_memzero(&xd, sizeof xd);
    sodium_memzero(&y, sizeof y);
    sodium_memzero(num, sizeof num);
    sodium_memzero(den_x, sizeof den_x);
    sodium_memzero(x, sizeof x);
    sodium_memzero(pow, sizeof pow);
    sodium_memzero(half, sizeof half);
    sodium_memzero(&q0, sizeof q0);
    sodium_memzero(&q1, sizeof q1);
    return rc;
}

/* The canonical u-coordinates of the points of small order on Curve25519 and
 * its twist, little-endian; 0 (order 2) is tested apart. */
static const unsigned char small_order_u[][PSI_CURVE25519_BYTES] = {
    /* 1: order 4 */
    {0x01},
    /* order 8 */
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    /* order 8 */
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
     0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
     0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    /* p - 1: order 4 */
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

/* 1 if u < p = 2^255 - 19 read little-endian with the top bit clear. */
static int u_is_canonical(const unsigned char u[32])
{
    size_t i;

    if ((u[31] & 0x80) != 0) {
        return 0;
    }
    /* u >= p exactly when bytes 1..30 are 0xff, byte 31 is 0x7f and byte 0
     * is at least 0xed. */
    if (u[31] != 0x7f || u[0] < 0xed) {
        return 1;
    }
    for (i = 1; i < 31; i++) {
        if (u[i] != 0xff) {
            return 1;
        }
    }
    return 0;
}

int psi_curve25519_check_u(const unsigned char u[32])
{
    size_t i;

    if (u == NULL) {
        return PSI_ERR_INVALID;
    }
    /* u is public (another party's blinded element): plain comparisons. */
    if (!u_is_canonical(u)) {
        return PSI_ERR_ENCODING;
    }
    if (sodium_is_zero(u, PSI_CURVE25519_BYTES)) {
        return PSI_ERR_IDENTITY;
    }
    for (i = 0; i < sizeof small_order_u / sizeof small_order_u[0]; i++) {
        if (memcmp(u, small_order_u[i], PSI_CURVE25519_BYTES) == 0) {
            return PSI_ERR_IDENTITY;
        }
    }
    return PSI_OK;
}
