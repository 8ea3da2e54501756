/* expand_message_xmd(SHA-512): every RFC 9380 appendix K.3 vector, the
 * oversize-DST rule of section 5.3.3 (expected values computed with an
 * independent Python/hashlib implementation), the limits and every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto_test_util.h"
#include "psi/error.h"
#include "psi/xmd.h"

static const char k3_dst[] = "QUUX-V01-CS02-with-expander-SHA512-256";

struct xmd_vector {
    const char *msg; /* NULL: built by make_msg */
    int long_msg;    /* 128: "q128_" + 128 'q'; 512: "a512_" + 512 'a' */
    size_t len;
    const char *uniform_hex;
};

static const struct xmd_vector k3[] = {
    {"", 0, 0x20, "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"},
    {"abc", 0, 0x20, "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc"},
    {"abcdef0123456789", 0, 0x20,
     "087e45a86e2939ee8b91100af1583c4938e0f5fc6c9db4b107b83346bc967f58"},
    {NULL, 128, 0x20, "7336234ee9983902440f6bc35b348352013becd88938d2afec44311caf8356b3"},
    {NULL, 512, 0x20, "57b5f7e766d5be68a6bfe1768e3c2b7f1228b3e4b3134956dd73a59b954c66f4"},
    {"", 0, 0x80,
     "41b037d1734a5f8df225dd8c7de38f851efdb45c372887be655212d07251b921"
     "b052b62eaed99b46f72f2ef4cc96bfaf254ebbbec091e1a3b9e4fb5e5b619d2e"
     "0c5414800a1d882b62bb5cd1778f098b8eb6cb399d5d9d18f5d5842cf5d13d7e"
     "b00a7cff859b605da678b318bd0e65ebff70bec88c753b159a805d2c89c55961"},
    {"abc", 0, 0x80,
     "7f1dddd13c08b543f2e2037b14cefb255b44c83cc397c1786d975653e36a6b11"
     "bdd7732d8b38adb4a0edc26a0cef4bb45217135456e58fbca1703cd6032cb134"
     "7ee720b87972d63fbf232587043ed2901bce7f22610c0419751c065922b48843"
     "1851041310ad659e4b23520e1772ab29dcdeb2002222a363f0c2b1c972b3efe1"},
    {"abcdef0123456789", 0, 0x80,
     "3f721f208e6199fe903545abc26c837ce59ac6fa45733f1baaf0222f8b7acb04"
     "24814fcb5eecf6c1d38f06e9d0a6ccfbf85ae612ab8735dfdf9ce84c372a77c8"
     "f9e1c1e952c3a61b7567dd0693016af51d2745822663d0c2367e3f4f0bed827f"
     "eecc2aaf98c949b5ed0d35c3f1023d64ad1407924288d366ea159f46287e61ac"},
    {NULL, 128, 0x80,
     "b799b045a58c8d2b4334cf54b78260b45eec544f9f2fb5bd12fb603eaee70db7"
     "317bf807c406e26373922b7b8920fa29142703dd52bdf280084fb7ef69da78af"
     "df80b3586395b433dc66cde048a258e476a561e9deba7060af40adf30c64249c"
     "a7ddea79806ee5beb9a1422949471d267b21bc88e688e4014087a0b592b695ed"},
    {NULL, 512, 0x80,
     "05b0bfef265dcee87654372777b7c44177e2ae4c13a27f103340d9cd11c86cb2"
     "426ffcad5bd964080c2aee97f03be1ca18e30a1f14e27bc11ebbd650f305269c"
     "c9fb1db08bf90bfc79b42a952b46daf810359e7bc36452684784a64952c343c5"
     "2e5124cd1f71d474d5197fefc571a92929c9084ffe1112cf5eea5192ebff330b"},
};

/* Fills msg with the vector's message; returns its length. */
static size_t make_msg(unsigned char *msg, const struct xmd_vector *v)
{
    if (v->msg != NULL) {
        size_t len = strlen(v->msg);
        memcpy(msg, v->msg, len);
        return len;
    }
    if (v->long_msg == 128) {
        memcpy(msg, "q128_", 6); /* the NUL is overwritten next */
        memset(msg + 5, 'q', 128);
        return 133;
    }
    memcpy(msg, "a512_", 6); /* the NUL is overwritten next */
    memset(msg + 5, 'a', 512);
    return 517;
}

static void test_k3_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof k3 / sizeof k3[0]; i++) {
        unsigned char msg[600], want[128], got[128];
        size_t msg_len = make_msg(msg, &k3[i]);

        UNHEX_EXACT(want, k3[i].len, k3[i].uniform_hex);
        memset(got, 0xaa, sizeof got);
        assert_int_equal(psi_expand_message_xmd_sha512(got, k3[i].len, msg, msg_len,
                                                       (const unsigned char *)k3_dst,
                                                       strlen(k3_dst)),
                         PSI_OK);
        assert_memory_equal(got, want, k3[i].len);
        /* Nothing written past the requested length. */
        if (k3[i].len < sizeof got) {
            assert_int_equal(got[k3[i].len], 0xaa);
        }
    }
}

/* The message in pieces gives the same bytes as in one piece. */
static void test_parts_equal_whole(void **state)
{
    static const unsigned char whole[] = "abcdef0123456789";
    struct psi_xmd_part parts[4] = {{whole, 3}, {NULL, 0}, {whole + 3, 10}, {whole + 13, 3}};
    unsigned char a[0x80], b[0x80];

    (void)state;
    assert_int_equal(psi_expand_message_xmd_sha512(a, sizeof a, whole, 16,
                                                   (const unsigned char *)k3_dst, strlen(k3_dst)),
                     PSI_OK);
    assert_int_equal(psi_expand_message_xmd_sha512_parts(
                         b, sizeof b, parts, 4, (const unsigned char *)k3_dst, strlen(k3_dst)),
                     PSI_OK);
    assert_memory_equal(a, b, sizeof a);
    /* and zero parts is the empty message */
    assert_int_equal(psi_expand_message_xmd_sha512_parts(
                         b, 0x20, NULL, 0, (const unsigned char *)k3_dst, strlen(k3_dst)),
                     PSI_OK);
    UNHEX_EXACT(a, 0x20, k3[0].uniform_hex);
    assert_memory_equal(a, b, 0x20);
}

/* A 256-byte DST is replaced by SHA-512("H2C-OVERSIZE-DST-" || DST). */
static void test_oversize_dst(void **state)
{
    static const struct {
        const char *msg;
        size_t len;
        const char *hex;
    } vectors[] = {
        {"", 32, "dbca46d0bb0328fcadef194e5a1cbbff8fe17e459eebf4d99fe7dcc99dce5043"},
        {"abc", 32, "54b9c525c79ee116edfad67abc801f278168e0ecdb9c81e2e4f24ef6fa5b5124"},
        {"abcdef0123456789", 32,
         "26bf53fc17a78696e7a1e0d3e97c2cf5de5401b16a3a2c1b8d14dfcb36a7910b"},
        {"abc", 128,
         "ed8f15cced5baaa71ce61ad07b021589b741b87ebbf65e8900552c78c5613160"
         "aa402b74af6807a80579b579f664476d947d65522c5a1fc51bcec13de45cc298"
         "17e7d46ddb858e5438cfc85ae4d817b83485cc53a7835be727608f2b1ab26d97"
         "a86456d469a8f6402fa7bc5e94f5221fda7a509deb4f3aca2464fa06df199533"},
    };
    static const char prefix[] = "QUUX-V01-CS02-with-expander-SHA512-256-long-DST-";
    unsigned char dst[256], hashed_dst[64], want[128], got[128], direct[128];
    crypto_hash_sha512_state st;
    size_t i;

    (void)state;
    memcpy(dst, prefix, sizeof prefix - 1);
    memset(dst + sizeof prefix - 1, '1', sizeof dst - (sizeof prefix - 1));
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, (const unsigned char *)"H2C-OVERSIZE-DST-", 17);
    crypto_hash_sha512_update(&st, dst, sizeof dst);
    crypto_hash_sha512_final(&st, hashed_dst);
    for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        UNHEX_EXACT(want, vectors[i].len, vectors[i].hex);
        assert_int_equal(psi_expand_message_xmd_sha512(got, vectors[i].len,
                                                       (const unsigned char *)vectors[i].msg,
                                                       strlen(vectors[i].msg), dst, sizeof dst),
                         PSI_OK);
        assert_memory_equal(got, want, vectors[i].len);
        assert_int_equal(psi_expand_message_xmd_sha512(
                             direct, vectors[i].len, (const unsigned char *)vectors[i].msg,
                             strlen(vectors[i].msg), hashed_dst, sizeof hashed_dst),
                         PSI_OK);
        assert_memory_equal(direct, want, vectors[i].len);
    }
}

/* A DST of exactly 255 bytes is used directly, not hashed. */
static void test_dst_255_direct(void **state)
{
    unsigned char dst[255], want[32], got[32];

    (void)state;
    memset(dst, 'A', sizeof dst);
    UNHEX_EXACT(want, 32, "d755d4a8760c75b7c564ba6893385571505e01a9613de85e938bbae77da37d9b");
    assert_int_equal(psi_expand_message_xmd_sha512(got, sizeof got, (const unsigned char *)"abc", 3,
                                                   dst, sizeof dst),
                     PSI_OK);
    assert_memory_equal(got, want, sizeof got);
}

/* ell = 255 (16320 bytes) is the largest output; one more byte is refused. */
static void test_output_limits(void **state)
{
    unsigned char *out = malloc(PSI_XMD_SHA512_MAX_OUTPUT_BYTES + 1);
    unsigned char tail[32];
    const unsigned char *dst = (const unsigned char *)k3_dst;

    (void)state;
    assert_non_null(out);
    assert_int_equal(psi_expand_message_xmd_sha512(out, PSI_XMD_SHA512_MAX_OUTPUT_BYTES,
                                                   (const unsigned char *)"abc", 3, dst,
                                                   strlen(k3_dst)),
                     PSI_OK);
    UNHEX_EXACT(tail, 32, "3c0ef3ed762c2d948ebb2b9a6d4e6c518b93eccdfbd3c9a4a789bdd9271bf96a");
    assert_memory_equal(out + PSI_XMD_SHA512_MAX_OUTPUT_BYTES - 32, tail, 32);
    assert_int_equal(psi_expand_message_xmd_sha512(out, PSI_XMD_SHA512_MAX_OUTPUT_BYTES + 1,
                                                   (const unsigned char *)"abc", 3, dst,
                                                   strlen(k3_dst)),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_expand_message_xmd_sha512(out, 65536, (const unsigned char *)"abc", 3, dst,
                                                   strlen(k3_dst)),
                     PSI_ERR_TOO_LARGE);
    /* An empty output is allowed and writes nothing. */
    out[0] = 0x5c;
    assert_int_equal(psi_expand_message_xmd_sha512(out, 0, NULL, 0, dst, strlen(k3_dst)), PSI_OK);
    assert_int_equal(out[0], 0x5c);
    assert_int_equal(psi_expand_message_xmd_sha512(NULL, 0, NULL, 0, dst, strlen(k3_dst)), PSI_OK);
    free(out);
}

static void test_errors(void **state)
{
    unsigned char out[32];
    const unsigned char *dst = (const unsigned char *)k3_dst;
    struct psi_xmd_part bad_part = {NULL, 1};

    (void)state;
    assert_int_equal(psi_expand_message_xmd_sha512(NULL, 32, NULL, 0, dst, 5), PSI_ERR_INVALID);
    assert_int_equal(psi_expand_message_xmd_sha512(out, 32, NULL, 1, dst, 5), PSI_ERR_INVALID);
    assert_int_equal(psi_expand_message_xmd_sha512(out, 32, NULL, 0, NULL, 5), PSI_ERR_INVALID);
    assert_int_equal(psi_expand_message_xmd_sha512(out, 32, NULL, 0, NULL, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_expand_message_xmd_sha512(out, 32, NULL, 0, dst, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_expand_message_xmd_sha512_parts(out, 32, NULL, 1, dst, 5),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_expand_message_xmd_sha512_parts(out, 32, &bad_part, 1, dst, 5),
                     PSI_ERR_INVALID);
    /* An empty message given as NULL is fine. */
    assert_int_equal(psi_expand_message_xmd_sha512(out, 32, NULL, 0, dst, strlen(k3_dst)), PSI_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k3_vectors),    cmocka_unit_test(test_parts_equal_whole),
        cmocka_unit_test(test_oversize_dst),  cmocka_unit_test(test_dst_255_direct),
        cmocka_unit_test(test_output_limits), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
