/*
 * The steps of hash_to_curve for curve25519_XMD:SHA-512_ELL2_RO_ (RFC 9380),
 * private to psi/crypto and shown to its tests, which pin each step on the
 * RFC's intermediate values (u0, u1, Q0, Q1) and compare the point
 * arithmetic with libsodium's. psi/curve25519.h is the public face.
 *
 * The sum of the two mapped points is computed on edwards25519, the same
 * group through the birational map of RFC 7748 (section 4.1), where the
 * extended-coordinate addition law is complete: one formula for every pair
 * of points, doubling included, so nothing branches on a secret. Every step
 * is straight-line and constant-time.
 */
#ifndef PSI_CRYPTO_H2C_CURVE25519_H
#define PSI_CRYPTO_H2C_CURVE25519_H

#include <stddef.h>

#include "fe25519.h"
#include "psi/xmd.h"

/* A point of edwards25519 in extended coordinates: x = X/Z, y = Y/Z,
 * x y = T/Z. */
struct psi_ed25519_point {
    fe25519 X, Y, Z, T;
};

/* hash_to_field(msg, 2) of the suite: expand_message_xmd(SHA-512) to 96
 * bytes, two 48-byte big-endian integers reduced mod p. 0 or the error of
 * psi_expand_message_xmd_sha512_parts. */
int psi_h2c_curve25519_hash_to_field(fe25519 u[2], const struct psi_xmd_part *parts, size_t n_parts,
                                     const unsigned char *dst, size_t dst_len);

/* map_to_curve_elligator2_curve25519 (RFC 9380, appendix G.2.1): the
 * Montgomery point (xn / xd, y). xd is never zero. */
void psi_h2c_curve25519_elligator2(fe25519 *xn, fe25519 *xd, fe25519 *y, const fe25519 *u);

/* The Montgomery point (xn / xd, y) on edwards25519: (sqrt(-486664) x / y,
 * (x - 1) / (x + 1)); the 2-torsion point (0, 0) goes to (0, -1). */
void psi_h2c_montgomery_to_edwards(struct psi_ed25519_point *p, const fe25519 *xn,
                                   const fe25519 *xd, const fe25519 *y);

/* r = p + q on edwards25519 (complete: r may be p or q, p may be q). */
void psi_ed25519_add(struct psi_ed25519_point *r, const struct psi_ed25519_point *p,
                     const struct psi_ed25519_point *q);

/* The Montgomery coordinates of p, 32 bytes little-endian each: u = (1 + y)
 * / (1 - y), v = sqrt(-486664) u / x; v may be NULL. The identity gives u =
 * v = 0. */
void psi_ed25519_to_montgomery(unsigned char u[32], unsigned char v[32],
                               const struct psi_ed25519_point *p);

/* u + 32 i = the u-coordinate of hash_to_curve(inputs[i]) under dst for
 * i < n: psi_curve25519_hash_to_curve's bytes, with the field
 * exponentiations of many elements done together (psi_fe25519_*_many:
 * eight at a time in AVX-512 IFMA lanes where the process uses them). 0, or
 * the error of psi_expand_message_xmd_sha512_parts with the failing index
 * in *failed_at. */
int psi_h2c_curve25519_hash_many(unsigned char *u, const unsigned char *const *inputs,
                                 const size_t *lens, size_t n, const unsigned char *dst,
                                 size_t dst_len, size_t *failed_at);

/* The RFC 8032 encoding of p (y little-endian, the sign of x in the top bit). */
void psi_ed25519_to_bytes(unsigned char s[32], const struct psi_ed25519_point *p);

#endif
