/* Hashing to Curve25519 (curve25519_XMD:SHA-512_ELL2_RO_, RFC 9380): every
 * vector of appendix J.4.1 (u0, u1, Q0, Q1, P.x, P.y; the three of
 * ../shared/spec/hash-to-curve25519.md among them) and of J.4.2, the
 * non-uniform suite (u0, Q, P); the field and point arithmetic against libsodium on random
 * points (Edwards addition against crypto_core_ed25519_add, the conversion
 * to Montgomery against crypto_sign_ed25519_pk_to_curve25519); outputs in
 * the prime-order subgroup; the u-coordinate check on every small-order and
 * non-canonical value. The test links psi_crypto to reach the private steps
 * (h2c_curve25519.h, fe25519.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto_test_util.h"
#include "fe25519.h"
#include "h2c_curve25519.h"
#include "psi/curve25519.h"
#include "psi/error.h"

static const char rfc_dst[] = "QUUX-V01-CS02-with-curve25519_XMD:SHA-512_ELL2_RO_";

struct h2c_vector {
    const char *msg;               /* "q128" and "a512": built by make_msg */
    const char *u0, *u1, *px, *py; /* big-endian, as the RFC prints them */
    const char *q0x, *q0y, *q1x, *q1y;
};

/* RFC 9380, appendix J.4.1 (all five messages; the first three are also in
 * ../shared/spec/hash-to-curve25519.md). */
static const struct h2c_vector vectors[] = {
    {"", "005fe8a7b8fef0a16c105e6cadf5a6740b3365e18692a9c05bfbb4d97f645a6a",
     "1347edbec6a2b5d8c02e058819819bee177077c9d10a4ce165aab0fd0252261a",
     "2de3780abb67e861289f5749d16d3e217ffa722192d16bbd9d1bfb9d112b98c0",
     "3b5dc2a498941a1033d176567d457845637554a2fe7a3507d21abd1c1bd6e878",
     "36b4df0c864c64707cbf6cf36e9ee2c09a6cb93b28313c169be29561bb904f98",
     "6cd59d664fb58c66c892883cd0eb792e52055284dac3907dd756b45d15c3983d",
     "3fa114783a505c0b2b2fbeef0102853c0b494e7757f2a089d0daae7ed9a0db2b",
     "76c0fe7fec932aaafb8eefb42d9cbb32eb931158f469ff3050af15cfdbbeff94"},
    {"abc", "49bed021c7a3748f09fa8cdfcac044089f7829d3531066ac9e74e0994e05bc7d",
     "5c36525b663e63389d886105cee7ed712325d5a97e60e140aba7e2ce5ae851b6",
     "2b4419f1f2d48f5872de692b0aca72cc7b0a60915dd70bde432e826b6abc526d",
     "1b8235f255a268f0a6fa8763e97eb3d22d149343d495da1160eff9703f2d07dd",
     "16b3d86e056b7970fa00165f6f48d90b619ad618791661b7b5e1ec78be10eac1",
     "4ab256422d84c5120b278cbdfc4e1facc5baadffeccecf8ee9bf3946106d50ca",
     "7ec29ddbf34539c40adfa98fcb39ec36368f47f30e8f888cc7e86f4d46e0c264",
     "10d1abc1cae2d34c06e247f2141ba897657fb39f1080d54f09ce0af128067c74"},
    {"abcdef0123456789", "6412b7485ba26d3d1b6c290a8e1435b2959f03721874939b21782df17323d160",
     "24c7b46c1c6d9a21d32f5707be1380ab82db1054fde82865d5c9e3d968f287b2",
     "68ca1ea5a6acf4e9956daa101709b1eee6c1bb0df1de3b90d4602382a104c036",
     "2a375b656207123d10766e68b938b1812a4a6625ff83cb8d5e86f58a4be08353",
     "71de3dadfe268872326c35ac512164850860567aea0e7325e6b91a98f86533ad",
     "26a08b6e9a18084c56f2147bf515414b9b63f1522e1b6c5649f7d4b0324296ec",
     "5704069021f61e41779e2ba6b932268316d6d2a6f064f997a22fef16d1eaeaca",
     "50483c7540f64fb4497619c050f2c7fe55454ec0f0e79870bb44302e34232210"},
    {"q128", "5e123990f11bbb5586613ffabdb58d47f64bb5f2fa115f8ea8df0188e0c9e1b5",
     "5e8553eb00438a0bb1e7faa59dec6d8087f9c8011e5fb8ed9df31cb6c0d4ac19",
     "096e9c8bae6c06b554c1ee69383bb0e82267e064236b3a30608d4ed20b73ac5a",
     "1eb5a62612cafb32b16c3329794645b5b948d9f8ffe501d4e26b073fef6de355",
     "7a94d45a198fb5daa381f45f2619ab279744efdd8bd8ed587fc5b65d6cea1df0",
     "67d44f85d376e64bb7d713585230cdbfafc8e2676f7568e0b6ee59361116a6e1",
     "30506fb7a32136694abd61b6113770270debe593027a968a01f271e146e60c18",
     "7eeee0e706b40c6b5174e551426a67f975ad5a977ee2f01e8e20a6d612458c3b"},
    {"a512", "20f481e85da7a3bf60ac0fb11ed1d0558fc6f941b3ac5469aa8b56ec883d6d7d",
     "017d57fd257e9a78913999a23b52ca988157a81b09c5442501d07fed20869465",
     "1bc61845a138e912f047b5e70ba9606ba2a447a4dade024c8ef3dd42b7bbc5fe",
     "623d05e47b70e25f7f1d51dda6d7c23c9a18ce015fe3548df596ea9e38c69bf1",
     "02d606e2699b918ee36f2818f2bc5013e437e673c9f9b9cdc15fd0c5ee913970",
     "29e9dc92297231ef211245db9e31767996c5625dfbf92e1c8107ef887365de1e",
     "38920e9b988d1ab7449c0fa9a6058192c0c797bb3d42ac345724341a1aa98745",
     "24dcc1be7c4d591d307e89049fd2ed30aae8911245a9d8554bf6032e5aa40d3d"},
};

/* RFC 9380, appendix J.4.2: curve25519_XMD:SHA-512_ELL2_NU_
 * (encode_to_curve: one field element, one map, the cofactor cleared). It
 * pins the single map and the cofactor clearing apart from the sum. */
static const char nu_dst[] = "QUUX-V01-CS02-with-curve25519_XMD:SHA-512_ELL2_NU_";

struct nu_vector {
    const char *msg;
    const char *u0, *px, *py, *qx, *qy;
};

static const struct nu_vector nu_vectors[] = {
    {"", "608d892b641f0328523802a6603427c26e55e6f27e71a91a478148d45b5093cd",
     "1bb913f0c9daefa0b3375378ffa534bda5526c97391952a7789eb976edfe4d08",
     "4548368f4f983243e747b62a600840ae7c1dab5c723991f85d3a9768479f3ec4",
     "51125222da5e763d97f3c10fcc92ea6860b9ccbbd2eb1285728f566721c1e65b",
     "343d2204f812d3dfc5304a5808c6c0d81a903a5d228b342442aa3c9ba5520a3d"},
    {"abc", "46f5b22494bfeaa7f232cc8d054be68561af50230234d7d1d63d1d9abeca8da5",
     "7c22950b7d900fa866334262fcaea47a441a578df43b894b4625c9b450f9a026",
     "5547bc00e4c09685dcbc6cb6765288b386d8bdcb595fa5a6e3969e08097f0541",
     "7d56d1e08cb0ccb92baf069c18c49bb5a0dcd927eff8dcf75ca921ef7f3e6eeb",
     "404d9a7dc25c9c05c44ab9a94590e7c3fe2dcec74533a0b24b188a5d5dacf429"},
    {"abcdef0123456789", "235fe40c443766ce7e18111c33862d66c3b33267efa50d50f9e8e5d252a40aaa",
     "31ad08a8b0deeb2a4d8b0206ca25f567ab4e042746f792f4b7973f3ae2096c52",
     "405070c28e78b4fa269427c82827261991b9718bd6c6e95d627d701a53c30db1",
     "3fbe66b9c9883d79e8407150e7c2a1c8680bee496c62fabe4619a72b3cabe90f",
     "08ec476147c9a0a3ff312d303dbbd076abb7551e5fce82b48ab14b433f8d0a7b"},
    {"q128", "001e92a544463bda9bd04ddbe3d6eed248f82de32f522669efc5ddce95f46f5b",
     "027877759d155b1997d0d84683a313eb78bdb493271d935b622900459d52ceaa",
     "54d691731a53baa30707f4a87121d5169fb5d587d70fb0292b5830dedbec4c18",
     "227e0bb89de700385d19ec40e857db6e6a3e634b1c32962f370d26f84ff19683",
     "5f86ff3851d262727326a32c1bf7655a03665830fa7f1b8b1e5a09d85bc66e4a"},
    {"a512", "1a68a1af9f663592291af987203393f707305c7bac9c8d63d6a729bdc553dc19",
     "5fd892c0958d1a75f54c3182a18d286efab784e774d1e017ba2fb252998b5dc1",
     "750af3c66101737423a4519ac792fb93337bd74ee751f19da4cf1e94f4d6d0b8",
     "3bcd651ee54d5f7b6013898aab251ee8ecc0688166fce6e9548d38472f6bd196",
     "1bb36ad9197299f111b4ef21271c41f4b7ecf5543db8bb5931307ebdb2eaa465"},
};

/* The RFC's messages: "q128" stands for "q128_" and 128 'q', "a512" for
 * "a512_" and 512 'a'; others are themselves. */
static size_t make_msg(char *out, size_t cap, const char *name)
{
    size_t n = strlen(name);
    if (strcmp(name, "q128") == 0 || strcmp(name, "a512") == 0) {
        size_t repeat = name[0] == 'q' ? 128 : 512;
        assert_true(5 + repeat < cap);
        memcpy(out, name, 4);
        out[4] = '_';
        memset(out + 5, name[0], repeat);
        return 5 + repeat;
    }
    assert_true(n < cap);
    memcpy(out, name, n);
    return n;
}

/* Big-endian hex to 32 bytes little-endian. */
static void be_hex_to_le(unsigned char out[32], const char *hex)
{
    unsigned char be[32];

    UNHEX_EXACT(be, 32, hex);
    for (size_t i = 0; i < 32; i++) {
        out[i] = be[31 - i];
    }
}

static void assert_fe_equals_hex(const fe25519 *f, const char *be_hex)
{
    unsigned char want[32], got[32];

    be_hex_to_le(want, be_hex);
    fe25519_to_bytes(got, f);
    assert_memory_equal(got, want, 32);
}

static int hash_msg(unsigned char u[32], unsigned char v[32], const char *msg, size_t len)
{
    struct psi_xmd_part part = {(const unsigned char *)msg, len};

    return psi_curve25519_hash_to_curve(u, v, &part, 1, (const unsigned char *)rfc_dst,
                                        sizeof rfc_dst - 1);
}

/* The affine Montgomery point of the map's (xn / xd, y). */
static void map_affine(fe25519 *x, fe25519 *y, const fe25519 *u)
{
    fe25519 xn, xd, inv;

    psi_h2c_curve25519_elligator2(&xn, &xd, y, u);
    fe25519_invert(&inv, &xd);
    fe25519_mul(x, &xn, &inv);
}

static void test_rfc_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct h2c_vector *t = &vectors[i];
        char msg[600];
        size_t len = make_msg(msg, sizeof msg, t->msg);
        struct psi_xmd_part part = {(const unsigned char *)msg, len};
        unsigned char u[32], v[32], want[32];
        fe25519 field[2];

        assert_int_equal(psi_h2c_curve25519_hash_to_field(
                             field, &part, 1, (const unsigned char *)rfc_dst, sizeof rfc_dst - 1),
                         PSI_OK);
        assert_fe_equals_hex(&field[0], t->u0);
        assert_fe_equals_hex(&field[1], t->u1);

        assert_int_equal(hash_msg(u, v, msg, len), PSI_OK);
        be_hex_to_le(want, t->px);
        assert_memory_equal(u, want, 32);
        be_hex_to_le(want, t->py);
        assert_memory_equal(v, want, 32);
        /* v is optional and does not change u. */
        memset(u, 0xaa, sizeof u);
        assert_int_equal(hash_msg(u, NULL, msg, len), PSI_OK);
        be_hex_to_le(want, t->px);
        assert_memory_equal(u, want, 32);
    }
}

/* Q0 and Q1, the two mapped points, of every vector. */
/* psi_h2c_curve25519_hash_many gives the RFC's points for all five
 * messages at once (repeated to fill lanes and leave tails), and the bytes
 * of psi_curve25519_hash_to_curve for random messages in batches of every
 * size around the lane count and its chunk of 16. */
static void test_hash_many(void **state)
{
    enum { MAX = 41 };
    static char msgs[MAX][600];
    const unsigned char *inputs[MAX];
    size_t lens[MAX], failed_at = 99;
    unsigned char many[MAX * 32], one[32], want[32];
    const size_t n_vectors = sizeof vectors / sizeof vectors[0];

    (void)state;
    for (size_t i = 0; i < MAX; i++) {
        lens[i] = make_msg(msgs[i], sizeof msgs[i], vectors[i % n_vectors].msg);
        inputs[i] = (const unsigned char *)msgs[i];
    }
    for (size_t n = 0; n <= MAX; n += (n < 20 ? 1 : 7)) {
        memset(many, 0xaa, sizeof many);
        assert_int_equal(psi_h2c_curve25519_hash_many(many, inputs, lens, n,
                                                      (const unsigned char *)rfc_dst,
                                                      sizeof rfc_dst - 1, &failed_at),
                         PSI_OK);
        for (size_t i = 0; i < n; i++) {
            be_hex_to_le(want, vectors[i % n_vectors].px);
            assert_memory_equal(many + 32 * i, want, 32);
        }
    }
    for (int round = 0; round < 20; round++) {
        size_t n = 1 + (size_t)randombytes_uniform(MAX);

        for (size_t i = 0; i < n; i++) {
            lens[i] = (size_t)randombytes_uniform(sizeof msgs[i]);
            randombytes_buf(msgs[i], lens[i]);
        }
        assert_int_equal(psi_h2c_curve25519_hash_many(many, inputs, lens, n,
                                                      (const unsigned char *)rfc_dst,
                                                      sizeof rfc_dst - 1, &failed_at),
                         PSI_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(hash_msg(one, NULL, msgs[i], lens[i]), PSI_OK);
            assert_memory_equal(many + 32 * i, one, 32);
        }
    }
    /* A failure names its index: an empty DST fails at the first. */
    assert_int_equal(psi_h2c_curve25519_hash_many(many, inputs, lens, 3,
                                                  (const unsigned char *)rfc_dst, 0, &failed_at),
                     PSI_ERR_INVALID);
    assert_int_equal(failed_at, 0);
}

static void test_rfc_intermediate_points(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct h2c_vector *t = &vectors[i];
        char msg[600];
        size_t len = make_msg(msg, sizeof msg, t->msg);
        struct psi_xmd_part part = {(const unsigned char *)msg, len};
        fe25519 field[2], x, y;

        assert_int_equal(psi_h2c_curve25519_hash_to_field(
                             field, &part, 1, (const unsigned char *)rfc_dst, sizeof rfc_dst - 1),
                         PSI_OK);
        map_affine(&x, &y, &field[0]);
        assert_fe_equals_hex(&x, t->q0x);
        assert_fe_equals_hex(&y, t->q0y);
        map_affine(&x, &y, &field[1]);
        assert_fe_equals_hex(&x, t->q1x);
        assert_fe_equals_hex(&y, t->q1y);
    }
}

/* encode_to_curve of the NU suite, from the same steps: u0, Q = map(u0), P =
 * 8 Q, each against J.4.2. */
static void test_rfc_nu_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof nu_vectors / sizeof nu_vectors[0]; i++) {
        const struct nu_vector *t = &nu_vectors[i];
        char msg[600];
        size_t len = make_msg(msg, sizeof msg, t->msg);
        unsigned char uniform[48], u[32], v[32], want[32];
        fe25519 u0, x, y, xn, xd;
        struct psi_ed25519_point p;

        assert_int_equal(
            psi_expand_message_xmd_sha512(uniform, sizeof uniform, (const unsigned char *)msg, len,
                                          (const unsigned char *)nu_dst, sizeof nu_dst - 1),
            PSI_OK);
        fe25519_from_bytes_be48(&u0, uniform);
        assert_fe_equals_hex(&u0, t->u0);
        map_affine(&x, &y, &u0);
        assert_fe_equals_hex(&x, t->qx);
        assert_fe_equals_hex(&y, t->qy);
        psi_h2c_curve25519_elligator2(&xn, &xd, &y, &u0);
        psi_h2c_montgomery_to_edwards(&p, &xn, &xd, &y);
        psi_ed25519_add(&p, &p, &p);
        psi_ed25519_add(&p, &p, &p);
        psi_ed25519_add(&p, &p, &p);
        psi_ed25519_to_montgomery(u, v, &p);
        be_hex_to_le(want, t->px);
        assert_memory_equal(u, want, 32);
        be_hex_to_le(want, t->py);
        assert_memory_equal(v, want, 32);
    }
}

/* Decodes an RFC 8032 point encoding with the field module (y, then x from
 * x^2 = (y^2 - 1) / (d y^2 + 1) and the sign bit): the test's own decoder. */
static void decode_edwards(struct psi_ed25519_point *p, const unsigned char s[32])
{
    static const unsigned char d_le[32] = {
        0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41,
        0x41, 0x4d, 0x0a, 0x70, 0x00, 0x98, 0xe8, 0x79, 0x77, 0x79, 0x40,
        0xc7, 0x8c, 0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52,
    };
    unsigned char y_bytes[32];
    fe25519 d, y, yy, num, den, den3, den7, t, x, check, one, sqrt_m1, neg_x;

    memcpy(y_bytes, s, 32);
    y_bytes[31] &= 0x7f;
    fe25519_from_bytes_256(&y, y_bytes);
    fe25519_from_bytes_256(&d, d_le);
    fe25519_one(&one);
    fe25519_sq(&yy, &y);
    fe25519_sub(&num, &yy, &one);
    fe25519_mul(&den, &yy, &d);
    fe25519_add(&den, &den, &one);
    /* x = num den^3 (num den^7)^((p - 5) / 8), times sqrt(-1) if needed. */
    fe25519_sq(&den3, &den);
    fe25519_mul(&den3, &den3, &den);
    fe25519_sq(&den7, &den3);
    fe25519_mul(&den7, &den7, &den);
    fe25519_mul(&t, &num, &den7);
    fe25519_pow_p58(&t, &t);
    fe25519_mul(&t, &t, &den3);
    fe25519_mul(&x, &t, &num);
    fe25519_sq(&check, &x);
    fe25519_mul(&check, &check, &den);
    if (!fe25519_eq(&check, &num)) {
        static const unsigned char m1[32] = {0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4,
                                             0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f,
                                             0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b,
                                             0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b};
        fe25519_from_bytes_256(&sqrt_m1, m1);
        fe25519_mul(&x, &x, &sqrt_m1);
        fe25519_sq(&check, &x);
        fe25519_mul(&check, &check, &den);
        assert_true(fe25519_eq(&check, &num));
    }
    fe25519_neg(&neg_x, &x);
    fe25519_cmov(&x, &neg_x, fe25519_sgn0(&x) ^ (unsigned)(s[31] >> 7));
    p->X = x;
    p->Y = y;
    fe25519_one(&p->Z);
    fe25519_mul(&p->T, &x, &y);
}

static void test_edwards_against_libsodium(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        unsigned char a[32], b[32], sum[32], got[32], u_want[32], u_got[32];
        struct psi_ed25519_point p, q, r;

        crypto_core_ed25519_random(a);
        crypto_core_ed25519_random(b);
        decode_edwards(&p, a);
        decode_edwards(&q, b);
        psi_ed25519_to_bytes(got, &p);
        assert_memory_equal(got, a, 32);

        /* Addition, and doubling through the same formula. */
        assert_int_equal(crypto_core_ed25519_add(sum, a, b), 0);
        psi_ed25519_add(&r, &p, &q);
        psi_ed25519_to_bytes(got, &r);
        assert_memory_equal(got, sum, 32);
        assert_int_equal(crypto_core_ed25519_add(sum, a, a), 0);
        psi_ed25519_add(&r, &p, &p);
        psi_ed25519_to_bytes(got, &r);
        assert_memory_equal(got, sum, 32);

        /* The birational map to Curve25519 (u only, as libsodium gives). */
        assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(u_want, a), 0);
        psi_ed25519_to_montgomery(u_got, NULL, &p);
        assert_memory_equal(u_got, u_want, 32);
    }
}

/* The Montgomery point (u, v) satisfies v^2 = u^3 + A u^2 + u. */
static void assert_on_curve(const unsigned char u_bytes[32], const unsigned char v_bytes[32])
{
    fe25519 u, v, lhs, rhs, t, a;

    fe25519_from_bytes_256(&u, u_bytes);
    fe25519_from_bytes_256(&v, v_bytes);
    fe25519_zero(&a);
    a.v[0] = 486662;
    fe25519_sq(&lhs, &v);
    fe25519_add(&t, &u, &a);
    fe25519_mul(&t, &t, &u);
    fe25519_one(&rhs);
    fe25519_add(&t, &t, &rhs);
    fe25519_mul(&rhs, &t, &u);
    assert_true(fe25519_eq(&lhs, &rhs));
}

static void test_outputs_in_prime_order_subgroup(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        unsigned char msg[40], u[32], v[32], ed[32], u_back[32], out[32];
        unsigned char key[32];
        struct psi_xmd_part part = {msg, (size_t)i % sizeof msg};

        randombytes_buf(msg, sizeof msg);
        assert_int_equal(psi_curve25519_hash_to_curve(
                             u, v, &part, 1, (const unsigned char *)rfc_dst, sizeof rfc_dst - 1),
                         PSI_OK);
        assert_on_curve(u, v);
        assert_int_equal(psi_curve25519_check_u(u), PSI_OK);
        /* Through edwards25519: libsodium's is_valid_point refuses anything
         * outside the prime-order subgroup, and maps it back to our u. */
        {
            fe25519 uf, vf, one, xn, yn, t, inv, c;
            static const unsigned char c_le[32] = {0x06, 0x7e, 0x45, 0xff, 0xaa, 0x04, 0x6e, 0xcc,
                                                   0x82, 0x1a, 0x7d, 0x4b, 0xd1, 0xd3, 0xa1, 0xc5,
                                                   0x7e, 0x4f, 0xfc, 0x03, 0xdc, 0x08, 0x7b, 0xd2,
                                                   0xbb, 0x06, 0xa0, 0x60, 0xf4, 0xed, 0x26, 0x0f};
            struct psi_ed25519_point p;

            fe25519_from_bytes_256(&uf, u);
            fe25519_from_bytes_256(&vf, v);
            fe25519_from_bytes_256(&c, c_le);
            fe25519_one(&one);
            /* x = c u / v, y = (u - 1) / (u + 1) */
            fe25519_mul(&t, &vf, &uf);
            fe25519_add(&inv, &uf, &one);
            fe25519_mul(&t, &t, &inv);
            fe25519_invert(&inv, &t);
            fe25519_mul(&xn, &c, &uf);
            fe25519_add(&t, &uf, &one);
            fe25519_mul(&xn, &xn, &t);
            fe25519_mul(&p.X, &xn, &inv);
            fe25519_sub(&yn, &uf, &one);
            fe25519_mul(&yn, &yn, &vf);
            fe25519_mul(&yn, &yn, &uf);
            fe25519_mul(&p.Y, &yn, &inv);
            fe25519_one(&p.Z);
            fe25519_mul(&p.T, &p.X, &p.Y);
            psi_ed25519_to_bytes(ed, &p);
            assert_int_equal(crypto_core_ed25519_is_valid_point(ed), 1);
            assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(u_back, ed), 0);
            assert_memory_equal(u_back, u, 32);
        }
        /* X25519 of a subgroup point is never the all-zero refusal. */
        randombytes_buf(key, sizeof key);
        assert_int_equal(crypto_scalarmult(out, key, u), 0);
    }
}

static void test_check_u(void **state)
{
    (void)state;
    static const char *const small_order_be[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000001",
        "00b8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0",
        "57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5f",
        "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec",
    };
    static const char *const non_canonical_be[] = {
        "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed", /* p */
        "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffee", /* p + 1 */
        "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "8000000000000000000000000000000000000000000000000000000000000009", /* top bit */
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    };
    unsigned char u[32], out[32], key[32];

    for (size_t i = 0; i < sizeof small_order_be / sizeof small_order_be[0]; i++) {
        be_hex_to_le(u, small_order_be[i]);
        assert_int_equal(psi_curve25519_check_u(u), PSI_ERR_IDENTITY);
        /* They are small order indeed: X25519 sends them to zero. */
        randombytes_buf(key, sizeof key);
        assert_int_not_equal(crypto_scalarmult(out, key, u), 0);
    }
    for (size_t i = 0; i < sizeof non_canonical_be / sizeof non_canonical_be[0]; i++) {
        be_hex_to_le(u, non_canonical_be[i]);
        assert_int_equal(psi_curve25519_check_u(u), PSI_ERR_ENCODING);
    }
    /* The largest canonical value, p - 2, and the base point 9 pass. */
    be_hex_to_le(u, "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeb");
    assert_int_equal(psi_curve25519_check_u(u), PSI_OK);
    memset(u, 0, sizeof u);
    u[0] = 9;
    assert_int_equal(psi_curve25519_check_u(u), PSI_OK);
    assert_int_equal(psi_curve25519_check_u(NULL), PSI_ERR_INVALID);
}

static void test_field_basics(void **state)
{
    (void)state;
    /* Canonical encoding of p + 5 and of 2^256 - 1 (= 37 + ... mod p). */
    unsigned char s[32], out[32];
    fe25519 a, b, c, inv, one;

    memset(s, 0xff, sizeof s);
    fe25519_from_bytes_256(&a, s); /* 2^256 - 1 = 2 p + 37 */
    fe25519_to_bytes(out, &a);
    memset(s, 0, sizeof s);
    s[0] = 37;
    assert_memory_equal(out, s, 32);
    /* x * x^-1 = 1 for random x; 0^-1 = 0. */
    fe25519_one(&one);
    for (int i = 0; i < 100; i++) {
        randombytes_buf(s, sizeof s);
        fe25519_from_bytes_256(&a, s);
        fe25519_invert(&inv, &a);
        fe25519_mul(&b, &a, &inv);
        assert_true(fe25519_eq(&b, &one));
        /* (a - b) + b = a, -a + a = 0 */
        randombytes_buf(s, sizeof s);
        fe25519_from_bytes_256(&b, s);
        fe25519_sub(&c, &a, &b);
        fe25519_add(&c, &c, &b);
        assert_true(fe25519_eq(&c, &a));
        fe25519_neg(&c, &a);
        fe25519_add(&c, &c, &a);
        assert_true(fe25519_is_zero(&c));
        /* cswap */
        c = a;
        fe25519_cswap(&a, &b, 1);
        assert_true(fe25519_eq(&b, &c));
        fe25519_cswap(&a, &b, 0);
        assert_true(fe25519_eq(&b, &c));
    }
    fe25519_zero(&a);
    fe25519_invert(&inv, &a);
    assert_true(fe25519_is_zero(&inv));
}

/* An independent reference for the field: schoolbook products of 32-bit
 * limbs, folded with 2^256 = 38 mod p, then p subtracted while the value is
 * at least p. Slow and plain; shares nothing with fe25519.c. */
static void ref_reduce(uint32_t r[8])
{
    static const uint32_t p32[8] = {0xffffffed, 0xffffffff, 0xffffffff, 0xffffffff,
                                    0xffffffff, 0xffffffff, 0xffffffff, 0x7fffffff};
    for (;;) {
        int ge = 1;
        for (size_t i = 8; i-- > 0;) {
            if (r[i] != p32[i]) {
                ge = r[i] > p32[i];
                break;
            }
        }
        if (!ge) {
            return;
        }
        uint64_t borrow = 0;
        for (size_t i = 0; i < 8; i++) {
            uint64_t d = (uint64_t)r[i] - p32[i] - borrow;
            r[i] = (uint32_t)d;
            borrow = (d >> 63) & 1;
        }
    }
}

static void ref_mulmod(unsigned char out[32], const unsigned char a[32], const unsigned char b[32])
{
    uint32_t x[8], y[8], r[8];
    uint64_t wide[17] = {0};
    for (size_t i = 0; i < 8; i++) {
        x[i] = (uint32_t)a[4 * i] | (uint32_t)a[4 * i + 1] << 8 | (uint32_t)a[4 * i + 2] << 16 |
               (uint32_t)a[4 * i + 3] << 24;
        y[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
               (uint32_t)b[4 * i + 3] << 24;
    }
    for (size_t i = 0; i < 8; i++) {
        uint64_t carry = 0;
        for (size_t j = 0; j < 8; j++) {
            uint64_t t = (uint64_t)x[i] * y[j] + (wide[i + j] & 0xffffffffU) + carry;
            wide[i + j] = t & 0xffffffffU;
            carry = t >> 32;
        }
        wide[i + 8] += carry;
    }
    /* Fold twice: the value is low + 2^256 high = low + 38 high. */
    for (int fold = 0; fold < 3; fold++) {
        uint64_t carry = 0;
        for (size_t i = 0; i < 8; i++) {
            uint64_t t = wide[i] + 38 * wide[i + 8] + carry;
            wide[i] = t & 0xffffffffU;
            carry = t >> 32;
        }
        memset(wide + 8, 0, 9 * sizeof wide[0]);
        wide[8] = carry;
    }
    for (size_t i = 0; i < 8; i++) {
        r[i] = (uint32_t)wide[i];
    }
    ref_reduce(r);
    for (size_t i = 0; i < 8; i++) {
        for (size_t k = 0; k < 4; k++) {
            out[4 * i + k] = (unsigned char)(r[i] >> (8 * k));
        }
    }
}

static void test_field_against_reference(void **state)
{
    (void)state;
    for (int i = 0; i < 2000; i++) {
        unsigned char a[32], b[32], want[32], got[32];
        fe25519 fa, fb, fh;

        randombytes_buf(a, sizeof a);
        randombytes_buf(b, sizeof b);
        if (i % 4 == 1) {
            memset(a, 0xff, sizeof a); /* near the top: 2^255 - 1 */
        }
        a[31] &= 0x7f;
        b[31] &= 0x7f;
        fe25519_from_bytes_256(&fa, a);
        fe25519_from_bytes_256(&fb, b);
        ref_mulmod(want, a, b);
        fe25519_mul(&fh, &fa, &fb);
        fe25519_to_bytes(got, &fh);
        assert_memory_equal(got, want, 32);
        ref_mulmod(want, a, a);
        fe25519_sq(&fh, &fa);
        fe25519_to_bytes(got, &fh);
        assert_memory_equal(got, want, 32);
        /* after a subtraction (limbs at their largest) the square still agrees */
        fe25519_sub(&fh, &fa, &fb);
        fe25519_to_bytes(got, &fh);
        ref_mulmod(want, got, got);
        fe25519_sq(&fh, &fh);
        fe25519_to_bytes(got, &fh);
        assert_memory_equal(got, want, 32);
    }
}

static void test_errors(void **state)
{
    (void)state;
    unsigned char u[32];
    struct psi_xmd_part part = {(const unsigned char *)"x", 1};

    assert_int_equal(
        psi_curve25519_hash_to_curve(NULL, NULL, &part, 1, (const unsigned char *)rfc_dst, 3),
        PSI_ERR_INVALID);
    memset(u, 0xaa, sizeof u);
    assert_int_equal(psi_curve25519_hash_to_curve(u, NULL, &part, 1, NULL, 0), PSI_ERR_INVALID);
    for (size_t i = 0; i < sizeof u; i++) {
        assert_int_equal(u[i], 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_vectors),
        cmocka_unit_test(test_rfc_intermediate_points),
        cmocka_unit_test(test_hash_many),
        cmocka_unit_test(test_rfc_nu_vectors),
        cmocka_unit_test(test_field_basics),
        cmocka_unit_test(test_field_against_reference),
        cmocka_unit_test(test_edwards_against_libsodium),
        cmocka_unit_test(test_outputs_in_prime_order_subgroup),
        cmocka_unit_test(test_check_u),
        cmocka_unit_test(test_errors),
    };
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
