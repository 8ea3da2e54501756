#include "psi/group.h"

#include <string.h>

#include <sodium.h>

#include "psi/error.h"

/* The group order L = 2^252 + 27742317777372353535851937790883648493,
 * little-endian. */
static const unsigned char group_order[PSI_GROUP_SCALAR_BYTES] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

int psi_group_ready(void)
{
    return sodium_init() < 0 ? PSI_ERR_CRYPTO : PSI_OK;
}

int psi_group_check_element(const unsigned char element[32])
{
    if (element == NULL) {
        return PSI_ERR_INVALID;
    }
    /* libsodium accepts the all-zero encoding (the identity, whose only
     * encoding it is); RFC 9497 refuses it, so test for it first. */
    if (sodium_is_zero(element, PSI_GROUP_ELEMENT_BYTES)) {
        return PSI_ERR_IDENTITY;
    }
    if (crypto_core_ristretto255_is_valid_point(element) != 1) {
        return PSI_ERR_ENCODING;
    }
    return PSI_OK;
}

int psi_group_check_scalar(const unsigned char scalar[32])
{
    unsigned int less = 0;  /* 1 once scalar < L is decided */
    unsigned int equal = 1; /* 1 while every byte so far equals L's */
    size_t i;

    if (scalar == NULL) {
        return PSI_ERR_INVALID;
    }
    /* Compare from the most significant byte without branching on the
     * secret: `less` latches at the first differing byte. */
    for (i = PSI_GROUP_SCALAR_BYTES; i-- > 0;) {
        unsigned int s = scalar[i];
        unsigned int l = group_order[i];

        less |= ((s - l) >> 8) & equal & 1U;
        equal &= (((s ^ l) - 1U) >> 8) & 1U;
    }
    return less ? PSI_OK : PSI_ERR_ENCODING;
}

int psi_group_check_nonzero_scalar(const unsigned char scalar[32])
{
    int rc = psi_group_check_scalar(scalar);

    if (rc != PSI_OK) {
        return rc;
    }
    return sodium_is_zero(scalar, PSI_GROUP_SCALAR_BYTES) ? PSI_ERR_INVALID : PSI_OK;
}

int psi_group_element_from_uniform(unsigned char element[32], const unsigned char uniform[64])
{
    if (element == NULL || uniform == NULL) {
        return PSI_ERR_INVALID;
    }
    return crypto_core_ristretto255_from_hash(element, uniform) == 0 ? PSI_OK : PSI_ERR_CRYPTO;
}

int psi_group_hash_to_group(unsigned char element[32], const struct psi_xmd_part *parts,
                            size_t n_parts, const unsigned char *dst, size_t dst_len)
{
    unsigned char uniform[PSI_GROUP_UNIFORM_BYTES];
    int rc;

    if (element == NULL) {
        return PSI_ERR_INVALID;
    }
    rc = psi_expand_message_xmd_sha512_parts(uniform, sizeof uniform, parts, n_parts, dst, dst_len);
    if (rc == PSI_OK) {
        rc = psi_group_element_from_uniform(element, uniform);
    }
    sodium_memzero(uniform, sizeof uniform);
    return rc;
}

int psi_group_hash_to_scalar(unsigned char scalar[32], const struct psi_xmd_part *parts,
                             size_t n_parts, const unsigned char *dst, size_t dst_len)
{
    unsigned char uniform[PSI_GROUP_UNIFORM_BYTES];
    int rc;

    if (scalar == NULL) {
        return PSI_ERR_INVALID;
    }
    rc = psi_expand_message_xmd_sha512_parts(uniform, sizeof uniform, parts, n_parts, dst, dst_len);
    if (rc == PSI_OK) {
        crypto_core_ristretto255_scalar_reduce(scalar, uniform);
    }
    sodium_memzero(uniform, sizeof uniform);
    return rc;
}

int psi_group_mult(unsigned char out[32], const unsigned char scalar[32],
                   const unsigned char element[32])
{
    if (out == NULL || scalar == NULL || element == NULL) {
        return PSI_ERR_INVALID;
    }
    /* libsodium reports an identity result as a failure; here the identity
     * is a legitimate value (an accumulator, a zero challenge), so the two
     * cases that produce it are answered without calling it. */
    if (sodium_is_zero(element, PSI_GROUP_ELEMENT_BYTES) ||
        sodium_is_zero(scalar, PSI_GROUP_SCALAR_BYTES)) {
        if (crypto_core_ristretto255_is_valid_point(element) != 1) {
            return PSI_ERR_ENCODING;
        }
        memset(out, 0, PSI_GROUP_ELEMENT_BYTES);
        return PSI_OK;
    }
    /* With a non-zero canonical scalar and a non-identity element of a
     * prime-order group the product is never the identity, so a failure
     * means the element did not decode. */
    if (crypto_scalarmult_ristretto255(out, scalar, element) != 0) {
        return PSI_ERR_ENCODING;
    }
    return PSI_OK;
}

int psi_group_mult_base(unsigned char out[32], const unsigned char scalar[32])
{
    if (out == NULL || scalar == NULL) {
        return PSI_ERR_INVALID;
    }
    if (sodium_is_zero(scalar, PSI_GROUP_SCALAR_BYTES)) {
        memset(out, 0, PSI_GROUP_ELEMENT_BYTES);
        return PSI_OK;
    }
    if (crypto_scalarmult_ristretto255_base(out, scalar) != 0) {
        return PSI_ERR_CRYPTO;
    }
    return PSI_OK;
}

int psi_group_add(unsigned char out[32], const unsigned char a[32], const unsigned char b[32])
{
    if (out == NULL || a == NULL || b == NULL) {
        return PSI_ERR_INVALID;
    }
    return crypto_core_ristretto255_add(out, a, b) == 0 ? PSI_OK : PSI_ERR_ENCODING;
}
