#include "psi/xmd.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "psi/error.h"

/* SHA-512 input block size (s_in_bytes): Z_pad is one whole block of zeros. */
#define XMD_SHA512_INPUT_BLOCK_BYTES 128U

static const unsigned char oversize_dst_prefix[] = "H2C-OVERSIZE-DST-";

/*
 * Every b_0 starts with the same 128 zero bytes, exactly one SHA-512 block, so
 * the state after absorbing them is a constant. Computing it once saves one of
 * the three compressions of a 64-byte expansion (hash-to-group runs once per
 * indicator, so this is on the hot path).
 */
static crypto_hash_sha512_state zpad_state;
static pthread_once_t zpad_once = PTHREAD_ONCE_INIT;

static void zpad_state_init(void)
{
    static const unsigned char z_pad[XMD_SHA512_INPUT_BLOCK_BYTES];

    crypto_hash_sha512_init(&zpad_state);
    crypto_hash_sha512_update(&zpad_state, z_pad, sizeof z_pad);
}

int psi_expand_message_xmd_sha512_parts(unsigned char *out, size_t out_len,
                                        const struct psi_xmd_part *parts, size_t n_parts,
                                        const unsigned char *dst, size_t dst_len)
{
    unsigned char short_dst[crypto_hash_sha512_BYTES];
    unsigned char b_0[crypto_hash_sha512_BYTES];
    unsigned char b_i[crypto_hash_sha512_BYTES];
    unsigned char chained[crypto_hash_sha512_BYTES];
    unsigned char l_i_b_str[2];
    unsigned char dst_len_byte;
    unsigned char zero = 0;
    crypto_hash_sha512_state st;
    size_t ell, i, j, done;

    if ((out == NULL && out_len != 0) || (parts == NULL && n_parts != 0) || dst == NULL ||
        dst_len == 0) {
        return PSI_ERR_INVALID;
    }
    for (j = 0; j < n_parts; j++) {
        if (parts[j].bytes == NULL && parts[j].len != 0) {
            return PSI_ERR_INVALID;
        }
    }
    if (out_len > PSI_XMD_SHA512_MAX_OUTPUT_BYTES) {
        return PSI_ERR_TOO_LARGE;
    }
    if (dst_len > PSI_XMD_MAX_DIRECT_DST_BYTES) {
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, oversize_dst_prefix, sizeof oversize_dst_prefix - 1);
        crypto_hash_sha512_update(&st, dst, dst_len);
        crypto_hash_sha512_final(&st, short_dst);
        dst = short_dst;
        dst_len = sizeof short_dst;
    }
    if (out_len == 0) {
        return PSI_OK;
    }
    if (pthread_once(&zpad_once, zpad_state_init) != 0) {
        return PSI_ERR_CRYPTO;
    }
    ell = (out_len + PSI_XMD_SHA512_BLOCK_BYTES - 1) / PSI_XMD_SHA512_BLOCK_BYTES;
    dst_len_byte = (unsigned char)dst_len;
    l_i_b_str[0] = (unsigned char)(out_len >> 8);
    l_i_b_str[1] = (unsigned char)(out_len & 0xffU);

    /* b_0 = H(Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime) */
    st = zpad_state;
    for (j = 0; j < n_parts; j++) {
        if (parts[j].len != 0) {
            crypto_hash_sha512_update(&st, parts[j].bytes, parts[j].len);
        }
    }
    crypto_hash_sha512_update(&st, l_i_b_str, sizeof l_i_b_str);
    crypto_hash_sha512_update(&st, &zero, 1);
    crypto_hash_sha512_update(&st, dst, dst_len);
    crypto_hash_sha512_update(&st, &dst_len_byte, 1);
    crypto_hash_sha512_final(&st, b_0);

    /* b_1 = H(b_0 || I2OSP(1, 1) || DST_prime);
     * b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime) */
    memcpy(chained, b_0, sizeof chained);
    for (i = 1, done = 0; i <= ell; i++) {
        unsigned char counter = (unsigned char)i;
        size_t take;

        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, chained, sizeof chained);
        crypto_hash_sha512_update(&st, &counter, 1);
        crypto_hash_sha512_update(&st, dst, dst_len);
        crypto_hash_sha512_update(&st, &dst_len_byte, 1);
        crypto_hash_sha512_final(&st, b_i);

        take = out_len - done < sizeof b_i ? out_len - done : sizeof b_i;
        memcpy(out + done, b_i, take);
        done += take;
        for (j = 0; j < sizeof chained; j++) {
            chained[j] = (unsigned char)(b_0[j] ^ b_i[j]);
        }
    }

    sodium_memzero(b_0, sizeof b_0);
    sodium_memzero(b_i, sizeof b_i);
    sodium_memzero(chained, sizeof chained);
    sodium_memzero(&st, sizeof st);
    return PSI_OK;
}

int psi_expand_message_xmd_sha512(unsigned char *out, size_t out_len, const unsigned char *msg,
                                  size_t msg_len, const unsigned char *dst, size_t dst_len)
{
    struct psi_xmd_part part;

    if (msg == NULL && msg_len != 0) {
        return PSI_ERR_INVALID;
    }
    part.bytes = msg;
    part.len = msg_len;
    return psi_expand_message_xmd_sha512_parts(out, out_len, &part, 1, dst, dst_len);
}
