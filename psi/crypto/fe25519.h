/*
 * Arithmetic in GF(2^255 - 19), private to psi/crypto: what hashing to
 * Curve25519 (RFC 9380, curve25519_XMD:SHA-512_ELL2_RO_) needs and libsodium
 * 1.0.18 does not expose.
 *
 * An element is five 51-bit limbs, little-endian (value = sum of v[i] *
 * 2^(51 i)), products through unsigned __int128. Every operation leaves its
 * result with limbs below 2^52, so any result may feed any operation, and
 * the representation is only made canonical by fe25519_to_bytes.
 *
 * It promises constant time: no branch and no memory index depends on the
 * value of an element. Equality, zero and sign tests return 0 or 1 computed
 * with masks; choices between elements go through fe25519_cmov. Inversion
 * and the square root exponent are fixed addition chains.
 */
#ifndef PSI_CRYPTO_FE25519_H
#define PSI_CRYPTO_FE25519_H

#include <stdint.h>

typedef struct {
    uint64_t v[5];
} fe25519;

/* Reads 32 bytes little-endian as a 256-bit integer and reduces it mod p
 * (the top bit counts: 2^255 = 19 mod p). */
void fe25519_from_bytes_256(fe25519 *h, const unsigned char s[32]);
/* Reads a big-endian integer of 48 bytes and reduces it mod p (RFC 9380's
 * hash_to_field with L = 48: OS2IP, then mod p). */
void fe25519_from_bytes_be48(fe25519 *h, const unsigned char s[48]);
/* The canonical encoding: the integer in [0, p) in 32 bytes little-endian. */
void fe25519_to_bytes(unsigned char s[32], const fe25519 *h);

void fe25519_zero(fe25519 *h);
void fe25519_one(fe25519 *h);
void fe25519_copy(fe25519 *h, const fe25519 *f);
void fe25519_add(fe25519 *h, const fe25519 *f, const fe25519 *g);
void fe25519_sub(fe25519 *h, const fe25519 *f, const fe25519 *g);
void fe25519_neg(fe25519 *h, const fe25519 *f);
void fe25519_mul(fe25519 *h, const fe25519 *f, const fe25519 *g);
void fe25519_sq(fe25519 *h, const fe25519 *f);
/* h = f^(p-2): the inverse of f, and 0 for 0. */
void fe25519_invert(fe25519 *h, const fe25519 *f);
/* h = f^((p-5)/8), the exponent of square roots when p = 5 mod 8. */
void fe25519_pow_p58(fe25519 *h, const fe25519 *f);

/* h = g if b == 1, unchanged if b == 0 (b must be 0 or 1). */
void fe25519_cmov(fe25519 *h, const fe25519 *g, unsigned b);
/* Swaps f and g if b == 1 (b must be 0 or 1). */
void fe25519_cswap(fe25519 *f, fe25519 *g, unsigned b);
/* 1 if f = g mod p, else 0. */
unsigned fe25519_eq(const fe25519 *f, const fe25519 *g);
/* 1 if f = 0 mod p, else 0. */
unsigned fe25519_is_zero(const fe25519 *f);
/* sgn0 of RFC 9380 (section 4.1): the parity of the canonical value. */
unsigned fe25519_sgn0(const fe25519 *f);

#endif
