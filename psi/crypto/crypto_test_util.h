/*
 * Helpers shared by the tests of the crypto core (xmd, group, oprf, blind,
 * pool): decoding the hexadecimal test vectors of the RFCs. Test-only; not
 * part of libpsi.
 */
#ifndef PSI_CRYPTO_TEST_UTIL_H
#define PSI_CRYPTO_TEST_UTIL_H

#include <stddef.h>
#include <string.h>

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes hex (spaces ignored, so the RFC's grouped notation works) into out
 * of capacity cap; returns the number of bytes, or (size_t)-1 on a bad digit,
 * an odd count, or overflow. */
static size_t unhex(unsigned char *out, size_t cap, const char *hex)
{
    size_t n = 0;
    int high = -1;

    for (; *hex != '\0'; hex++) {
        int v;

        if (*hex == ' ' || *hex == '\n') {
            continue;
        }
        v = hex_nibble(*hex);
        if (v < 0) {
            return (size_t)-1;
        }
        if (high < 0) {
            high = v;
            continue;
        }
        if (n == cap) {
            return (size_t)-1;
        }
        out[n++] = (unsigned char)(high * 16 + v);
        high = -1;
    }
    return high < 0 ? n : (size_t)-1;
}

/* unhex into a buffer that must be exactly `len` bytes long; aborts the test
 * otherwise (a vector typed wrong must not pass silently). */
#define UNHEX_EXACT(buf, len, hex) assert_int_equal(unhex((buf), (len), (hex)), (len))

/* The u-coordinates of small order on Curve25519 and its twist, canonical
 * encodings (0, 1, the two of order 8, p - 1), little-endian hex: what
 * psi_curve25519_check_u refuses and X25519 sends to all zeros. */
#define X25519_SMALL_ORDER_COUNT 5
__attribute__((
    unused)) static const char *const x25519_small_order_hex[X25519_SMALL_ORDER_COUNT] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

#endif
