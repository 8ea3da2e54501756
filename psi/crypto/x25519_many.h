/*
 * The implementations behind psi_x25519_many (psi/curve25519.h), private to
 * psi/crypto and its tests: which exist on this CPU, which one the process
 * uses, and a call to a given one, so that a test can compare them on the
 * same inputs in one process; and the field exponentiations of many
 * elements, which the hash to the curve uses the same way.
 */
#ifndef PSI_CRYPTO_X25519_MANY_H
#define PSI_CRYPTO_X25519_MANY_H

#include <stddef.h>

#include "fe25519.h"

enum psi_x25519_impl {
    PSI_X25519_IMPL_LIBSODIUM, /* crypto_scalarmult, one point at a time */
    PSI_X25519_IMPL_LANES8,    /* eight ladders side by side, AVX-512 IFMA */
};

/* 1 if impl can run on this CPU (libsodium always can). */
int psi_x25519_impl_available(enum psi_x25519_impl impl);

/* The one psi_x25519_many uses: LANES8 where available, unless the
 * environment variable PSI_X25519_IMPL is "libsodium" (read once). */
enum psi_x25519_impl psi_x25519_impl_chosen(void);

/* psi_x25519_many through impl (LANES8 where unavailable falls back to
 * libsodium). */
int psi_x25519_many_with(enum psi_x25519_impl impl, unsigned char *out, const unsigned char key[32],
                         const unsigned char *points, size_t n, size_t *zero_index);

/* out[i] = in[i]^(p - 2) (fe25519_invert) and in[i]^((p - 5) / 8)
 * (fe25519_pow_p58) for i < n, eight at a time in lanes where the process
 * uses them (psi_x25519_impl_chosen), else one by one: the same values
 * either way. out may equal in. Constant time in the elements. */
void psi_fe25519_invert_many(fe25519 *out, const fe25519 *in, size_t n);
void psi_fe25519_pow_p58_many(fe25519 *out, const fe25519 *in, size_t n);

#endif
