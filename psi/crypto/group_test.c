/* ristretto255 as the OPRF suite needs it: RFC 9496 appendix A.1 (generator
 * multiples, by scalar multiplication and by addition), A.2 (all 29 invalid
 * encodings refused, and the identity), A.3 (element derivation), and the
 * canonical-scalar rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto_test_util.h"
#include "psi/error.h"
#include "psi/group.h"

static const char *const generator_multiples[16] = {
    "00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000",
    "e2f2ae0a 6abc4e71 a884a961 c500515f 58e30b6a a582dd8d b6a65945 e08d2d76",
    "6a493210 f7499cd1 7fecb510 ae0cea23 a110e8d5 b901f8ac add3095c 73a3b919",
    "94741f5d 5d52755e ce4f23f0 44ee27d5 d1ea1e2b d196b462 166b1615 2a9d0259",
    "da808627 73358b46 6ffadfe0 b3293ab3 d9fd53c5 ea6c9553 58f56832 2daf6a57",
    "e882b131 016b52c1 d3337080 187cf768 423efccb b517bb49 5ab812c4 160ff44e",
    "f64746d3 c92b1305 0ed8d802 36a7f000 7c3b3f96 2f5ba793 d19a601e bb1df403",
    "44f53520 926ec81f bd5a3878 45beb7df 85a96a24 ece18738 bdcfa6a7 822a176d",
    "903293d8 f2287ebe 10e2374d c1a53e0b c887e592 699f02d0 77d5263c dd55601c",
    "02622ace 8f7303a3 1cafc63f 8fc48fdc 16e1c8c8 d234b2f0 d6685282 a9076031",
    "20706fd7 88b2720a 1ed2a5da d4952b01 f413bcf0 e7564de8 cdc81668 9e2db95f",
    "bce83f8b a5dd2fa5 72864c24 ba1810f9 522bc600 4afe9587 7ac73241 cafdab42",
    "e4549ee1 6b9aa030 99ca208c 67adafca fa4c3f3e 4e5303de 6026e3ca 8ff84460",
    "aa52e000 df2e16f5 5fb1032f c33bc427 42dad6bd 5a8fc0be 0167436c 5948501f",
    "46376b80 f409b29d c2b5f6f0 c5259199 0896e571 6f41477c d30085ab 7f10301e",
    "e0c418f7 c8d9c4cd d7395b93 ea124f3a d99021bb 681dfc33 02a9d99a 2e53e64e",
};

static const char *const invalid_encodings[29] = {
    /* Non-canonical field encodings. */
    "00ffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff",
    "ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffff7f",
    "f3ffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffff7f",
    "edffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffff7f",
    /* Negative field elements. */
    "01000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000",
    "01ffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffff7f",
    "ed57ffd8 c914fb20 1471d1c3 d245ce3c 746fcbe6 3a3679d5 1b6a516e bebe0e20",
    "c34c4e18 26e5d403 b78e246e 88aa051c 36ccf0aa febffe13 7d148a2b f9104562",
    "c940e5a4 404157cf b1628b10 8db051a8 d439e1a4 21394ec4 ebccb9ec 92a8ac78",
    "47cfc549 7c53dc8e 61c91d17 fd626ffb 1c49e2bc a94eed05 2281b510 b1117a24",
    "f1c6165d 33367351 b0da8f6e 4511010c 68174a03 b6581212 c71c0e1d 026c3c72",
    "87260f7a 2f124951 18360f02 c26a470f 450dadf3 4a413d21 042b43b9 d93e1309",
    /* Non-square x^2. */
    "26948d35 ca62e643 e26a8317 7332e6b6 afeb9d08 e4268b65 0f1f5bbd 8d81d371",
    "4eac077a 713c57b4 f4397629 a4145982 c661f480 44dd3f96 427d40b1 47d9742f",
    "de6a7b00 deadc788 eb6b6c8d 20c0ae96 c2f20190 78fa604f ee5b87d6 e989ad7b",
    "bcab477b e20861e0 1e4a0e29 5284146a 510150d9 817763ca f1a6f4b4 22d67042",
    "2a292df7 e32cabab bd9de088 d1d1abec 9fc0440f 637ed2fb a145094d c14bea08",
    "f4a9e534 fc0d216c 44b218fa 0c42d996 35a0127e e2e53c71 2f706096 49fdff22",
    "8268436f 8c412619 6cf64b3c 7ddbda90 746a3786 25f9813d d9b84570 77256731",
    "2810e5cb c2cc4d4e ece54f61 c6f69758 e289aa7a b440b3cb eaa21995 c2f4232b",
    /* Negative xy value. */
    "3eb858e7 8f5a7254 d8c97311 74a94f76 755fd394 1c0ac937 35c07ba1 4579630e",
    "a45fdc55 c76448c0 49a1ab33 f17023ed fb2be358 1e9c7aad e8a61252 15e04220",
    "d483fe81 3c6ba647 ebbfd3ec 41adca1c 6130c2be eee9d9bf 065c8d15 1c5f396e",
    "8a2e1d30 050198c6 5a544831 23960ccc 38aef684 8e1ec8f5 f780e852 3769ba32",
    "32888462 f8b486c6 8ad7dd96 10be5192 bbeaf3b4 43951ac1 a8118419 d9fa097b",
    "22714250 1b9d4355 ccba2904 04bde415 75b03769 3cef1f43 8c47f8fb f35d1165",
    "5c37cc49 1da847cf eb9281d4 07efc41e 15144c87 6e0170b4 99a96a22 ed31e01e",
    "44542511 7cb8c90e dcbc7c1c c0e74f74 7f2c1efa 5630a967 c64f2877 92a48a4b",
    /* s = -1, which causes y = 0. */
    "ecffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffff7f",
};

static const char group_order_hex[] =
    "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

/* A.1 by scalar multiplication: i * G for i = 0..15 (0 gives the identity),
 * both with the base-point routine and with the generator as an element. */
static void test_generator_multiples_by_scalar(void **state)
{
    unsigned char generator[32], want[32], got[32], scalar[32];
    unsigned i;

    (void)state;
    assert_int_equal(psi_group_ready(), PSI_OK);
    UNHEX_EXACT(generator, 32, generator_multiples[1]);
    for (i = 0; i < 16; i++) {
        UNHEX_EXACT(want, 32, generator_multiples[i]);
        memset(scalar, 0, sizeof scalar);
        scalar[0] = (unsigned char)i;
        assert_int_equal(psi_group_mult_base(got, scalar), PSI_OK);
        assert_memory_equal(got, want, 32);
        assert_int_equal(psi_group_mult(got, scalar, generator), PSI_OK);
        assert_memory_equal(got, want, 32);
    }
}

/* A.1 by addition: B[i+1] = B[i] + B[1], starting from the identity. */
static void test_generator_multiples_by_addition(void **state)
{
    unsigned char generator[32], acc[32] = {0}, want[32];
    unsigned i;

    (void)state;
    UNHEX_EXACT(generator, 32, generator_multiples[1]);
    for (i = 1; i < 16; i++) {
        assert_int_equal(psi_group_add(acc, acc, generator), PSI_OK);
        UNHEX_EXACT(want, 32, generator_multiples[i]);
        assert_memory_equal(acc, want, 32);
    }
}

/* A.2: every invalid encoding is refused as an encoding error, the identity
 * as the identity; the valid multiples pass. */
static void test_invalid_encodings(void **state)
{
    unsigned char element[32], out[32], one[32] = {1};
    size_t i;

    (void)state;
    for (i = 0; i < 29; i++) {
        UNHEX_EXACT(element, 32, invalid_encodings[i]);
        assert_int_equal(psi_group_check_element(element), PSI_ERR_ENCODING);
        assert_int_equal(psi_group_mult(out, one, element), PSI_ERR_ENCODING);
        assert_int_equal(psi_group_add(out, element, element), PSI_ERR_ENCODING);
    }
    memset(element, 0, sizeof element);
    assert_int_equal(psi_group_check_element(element), PSI_ERR_IDENTITY);
    for (i = 1; i < 16; i++) {
        UNHEX_EXACT(element, 32, generator_multiples[i]);
        assert_int_equal(psi_group_check_element(element), PSI_OK);
    }
    assert_int_equal(psi_group_check_element(NULL), PSI_ERR_INVALID);
}

/* A.3: element derivation from SHA-512 of the labels. */
static void test_element_derivation(void **state)
{
    static const struct {
        const char *label;
        const char *element;
    } vectors[] = {
        {"Ristretto is traditionally a short shot of espresso coffee",
         "3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46"},
        {"made with the normal amount of ground coffee but extracted with",
         "f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b"},
        {"about half the amount of water in the same amount of time",
         "006ccd2a9e6867e6a2c5cea83d3302cc9de128dd2a9a57dd8ee7b9d7ffe02826"},
    };
    unsigned char uniform[64], want[32], got[32];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        crypto_hash_sha512(uniform, (const unsigned char *)vectors[i].label,
                           strlen(vectors[i].label));
        UNHEX_EXACT(want, 32, vectors[i].element);
        assert_int_equal(psi_group_element_from_uniform(got, uniform), PSI_OK);
        assert_memory_equal(got, want, 32);
    }
    assert_int_equal(psi_group_element_from_uniform(NULL, uniform), PSI_ERR_INVALID);
    assert_int_equal(psi_group_element_from_uniform(got, NULL), PSI_ERR_INVALID);
}

/* Canonical scalars are exactly those below L. */
static void test_scalar_canonical(void **state)
{
    unsigned char s[32];

    (void)state;
    memset(s, 0, sizeof s);
    assert_int_equal(psi_group_check_scalar(s), PSI_OK);
    assert_int_equal(psi_group_check_nonzero_scalar(s), PSI_ERR_INVALID);
    s[0] = 1;
    assert_int_equal(psi_group_check_nonzero_scalar(s), PSI_OK);

    UNHEX_EXACT(s, 32, group_order_hex); /* L */
    assert_int_equal(psi_group_check_scalar(s), PSI_ERR_ENCODING);
    s[0]--; /* L - 1 */
    assert_int_equal(psi_group_check_scalar(s), PSI_OK);
    s[0] = (unsigned char)(s[0] + 2); /* L + 1 */
    assert_int_equal(psi_group_check_scalar(s), PSI_ERR_ENCODING);
    UNHEX_EXACT(s, 32, group_order_hex);
    s[15] = 0x15; /* above L in a middle byte */
    assert_int_equal(psi_group_check_scalar(s), PSI_ERR_ENCODING);
    s[15] = 0x13; /* below L in a middle byte, with larger low bytes */
    memset(s, 0xff, 15);
    assert_int_equal(psi_group_check_scalar(s), PSI_OK);
    /* Top bits: 2^252 + small is above L; bits 253..255 set are refused. */
    memset(s, 0, sizeof s);
    s[31] = 0x10;
    s[16] = 1;
    assert_int_equal(psi_group_check_scalar(s), PSI_ERR_ENCODING);
    memset(s, 0, sizeof s);
    s[0] = 1;
    s[31] = 0x80;
    assert_int_equal(psi_group_check_scalar(s), PSI_ERR_ENCODING);
    s[31] = 0x20;
    assert_int_equal(psi_group_check_scalar(s), PSI_ERR_ENCODING);
    memset(s, 0xff, sizeof s);
    assert_int_equal(psi_group_check_scalar(s), PSI_ERR_ENCODING);
    assert_int_equal(psi_group_check_scalar(NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_group_check_nonzero_scalar(NULL), PSI_ERR_INVALID);
}

/* HashToScalar output is canonical; hash-to-group equals xmd + derivation. */
static void test_hash_to_scalar_and_group(void **state)
{
    static const unsigned char dst[] = "psi-group-test";
    static const unsigned char msg[] = "ipv4:203.0.113.7";
    struct psi_xmd_part part = {msg, sizeof msg - 1};
    unsigned char uniform[64], scalar[32], want[32], got[32];

    (void)state;
    assert_int_equal(psi_group_hash_to_scalar(scalar, &part, 1, dst, sizeof dst - 1), PSI_OK);
    assert_int_equal(psi_group_check_scalar(scalar), PSI_OK);
    assert_int_equal(
        psi_expand_message_xmd_sha512(uniform, 64, msg, sizeof msg - 1, dst, sizeof dst - 1),
        PSI_OK);
    crypto_core_ristretto255_scalar_reduce(want, uniform);
    assert_memory_equal(scalar, want, 32);

    crypto_core_ristretto255_from_hash(want, uniform);
    assert_int_equal(psi_group_hash_to_group(got, &part, 1, dst, sizeof dst - 1), PSI_OK);
    assert_memory_equal(got, want, 32);

    assert_int_equal(psi_group_hash_to_group(NULL, &part, 1, dst, sizeof dst - 1), PSI_ERR_INVALID);
    assert_int_equal(psi_group_hash_to_scalar(NULL, &part, 1, dst, sizeof dst - 1),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_group_hash_to_group(got, &part, 1, dst, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_group_hash_to_scalar(got, &part, 1, NULL, 3), PSI_ERR_INVALID);
}

static void test_null_arguments(void **state)
{
    unsigned char a[32] = {1}, g[32];

    (void)state;
    UNHEX_EXACT(g, 32, generator_multiples[1]);
    assert_int_equal(psi_group_mult(NULL, a, g), PSI_ERR_INVALID);
    assert_int_equal(psi_group_mult(g, NULL, g), PSI_ERR_INVALID);
    assert_int_equal(psi_group_mult(a, a, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_group_mult_base(NULL, a), PSI_ERR_INVALID);
    assert_int_equal(psi_group_mult_base(g, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_group_add(NULL, g, g), PSI_ERR_INVALID);
    assert_int_equal(psi_group_add(a, NULL, g), PSI_ERR_INVALID);
    assert_int_equal(psi_group_add(a, g, NULL), PSI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_multiples_by_scalar),
        cmocka_unit_test(test_generator_multiples_by_addition),
        cmocka_unit_test(test_invalid_encodings),
        cmocka_unit_test(test_element_derivation),
        cmocka_unit_test(test_scalar_canonical),
        cmocka_unit_test(test_hash_to_scalar_and_group),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
