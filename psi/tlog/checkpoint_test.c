/* C2SP checkpoints and tlog-proof receipts: the base64 root hashes of
 * spec/tlog.md section 2 in checkpoint form, the C2SP examples of
 * tlog-checkpoint and tlog-proof, signing and opening, receipts for the
 * 8-leaf tree verified end to end with every proof bit flipped and every
 * other way to break them, and every error path of checkpoint.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "psi/checkpoint.h"
#include "psi/error.h"
#include "psi/merkle.h"
#include "psi/note.h"
#include "tlog_test_util.h"

static const struct {
    const char *hex, *b64;
} roots[9] = {
    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
    {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="},
    {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="},
    {"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
     "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc="},
    {"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="},
    {"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
     "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ="},
    {"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
     "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8="},
    {"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
     "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw="},
    {"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
     "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="},
};

/* testdata/inclusion/2/happy-path.json, base64 as published. */
static const char leaf5_b64[] = "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=";
static const char *const proof5_b64[3] = {
    "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
    "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
    "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
};

static const char origin[] = "hub.example.org/psi";
static struct psi_note_signer log_signer;
static struct psi_note_verifier log_key;

static int setup(void **state)
{
    unsigned char seed[32];
    (void)state;
    memset(seed, 0x42, sizeof seed);
    if (psi_note_signer_from_seed(&log_signer, origin, seed) != 0)
        return -1;
    psi_note_signer_verifier(&log_key, &log_signer);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    psi_note_signer_wipe(&log_signer);
    return 0;
}

static void b64_32(unsigned char out[32], const char *b64)
{
    size_t len = 0;
    if (sodium_base642bin(out, 32, b64, strlen(b64), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != 32)
        abort();
}

static void test_format_parse_roots(void **state)
{
    char body[PSI_CHECKPOINT_BODY_MAX];
    char want[PSI_CHECKPOINT_BODY_MAX];
    size_t len = 0;
    struct psi_checkpoint cp, back;
    (void)state;

    for (uint64_t n = 0; n <= 8; n++) {
        memset(&cp, 0, sizeof cp);
        memcpy(cp.origin, origin, sizeof origin);
        cp.size = n;
        tlog_unhex(cp.root, 32, roots[n].hex);
        assert_int_equal(psi_checkpoint_format(body, sizeof body, &len, &cp), 0);
        snprintf(want, sizeof want, "%s\n%llu\n%s\n", origin, (unsigned long long)n, roots[n].b64);
        assert_string_equal(body, want);
        assert_int_equal(len, strlen(want));
        assert_int_equal(psi_checkpoint_parse(&back, body, len), 0);
        assert_string_equal(back.origin, origin);
        assert_int_equal(back.size, n);
        assert_memory_equal(back.root, cp.root, 32);
        assert_null(back.extensions);
        assert_int_equal(back.extensions_len, 0);
    }
}

static void test_c2sp_example_and_extensions(void **state)
{
    static const char example[] = "example.com/behind-the-sofa\n20852163\n"
                                  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    static const char with_ext[] = "example.com/behind-the-sofa\n20852163\n"
                                   "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
                                   "ext one\n\xe2\x98\x83 two\n";
    struct psi_checkpoint cp;
    char out[512];
    size_t len = 0;
    (void)state;

    assert_int_equal(psi_checkpoint_parse(&cp, example, strlen(example)), 0);
    assert_string_equal(cp.origin, "example.com/behind-the-sofa");
    assert_int_equal(cp.size, 20852163);
    assert_int_equal(cp.root[0], 0x0a);
    assert_int_equal(cp.root[31], 0x62);
    assert_int_equal(psi_checkpoint_format(out, sizeof out, &len, &cp), 0);
    assert_string_equal(out, example);

    assert_int_equal(psi_checkpoint_parse(&cp, with_ext, strlen(with_ext)), 0);
    assert_ptr_equal(cp.extensions, with_ext + strlen(example));
    assert_int_equal(cp.extensions_len, strlen("ext one\n\xe2\x98\x83 two\n"));
    assert_int_equal(psi_checkpoint_format(out, sizeof out, &len, &cp), 0);
    assert_string_equal(out, with_ext);
    /* The largest size. */
    {
        static const char big[] = "o\n18446744073709551615\n"
                                  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_int_equal(psi_checkpoint_parse(&cp, big, strlen(big)), 0);
        assert_true(cp.size == UINT64_MAX);
    }
}

static void test_parse_errors(void **state)
{
    struct psi_checkpoint cp;
    static const char *const bad[] = {
        "",
        "origin\n",
        "origin\n8\n",
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", /* no final newline */
        "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",     /* empty origin */
        "origin\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n00\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n-8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n+8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n 8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n8 \nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n0x8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n18446744073709551616\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n99999999999999999999\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n",    /* no padding */
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n",   /* padding bits */
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n",   /* 31 bytes */
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyhA\n",   /* 33 bytes */
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n",   /* URL alphabet */
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n", /* empty extension */
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\nx\n\ny\n",
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\next",     /* unfinished */
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\ne\txt\n", /* control */
        "or\x01gin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "or\xffgin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&cp, 0x33, sizeof cp);
        assert_int_equal(psi_checkpoint_parse(&cp, bad[i], strlen(bad[i])), PSI_ERR_PARSE);
        assert_int_equal(cp.size, 0); /* cleared */
    }
    /* An origin longer than we take. */
    {
        char text[600];
        memset(text, 'o', PSI_CHECKPOINT_ORIGIN_MAX + 1);
        snprintf(text + PSI_CHECKPOINT_ORIGIN_MAX + 1, sizeof text - PSI_CHECKPOINT_ORIGIN_MAX - 1,
                 "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
        assert_int_equal(psi_checkpoint_parse(&cp, text, strlen(text)), PSI_ERR_PARSE);
        memmove(text + 1, text + 2, strlen(text + 2) + 1);
        assert_int_equal(psi_checkpoint_parse(&cp, text, strlen(text)), 0);
    }
    assert_int_equal(psi_checkpoint_parse(NULL, "x", 1), PSI_ERR_INVALID);
    assert_int_equal(psi_checkpoint_parse(&cp, NULL, 1), PSI_ERR_INVALID);
}

static void test_format_errors(void **state)
{
    struct psi_checkpoint cp;
    char out[PSI_CHECKPOINT_BODY_MAX];
    size_t len = 0;
    (void)state;
    memset(&cp, 0, sizeof cp);
    assert_int_equal(psi_checkpoint_format(out, sizeof out, &len, &cp), PSI_ERR_INVALID);
    memcpy(cp.origin, "a\nb", 4);
    assert_int_equal(psi_checkpoint_format(out, sizeof out, &len, &cp), PSI_ERR_INVALID);
    memcpy(cp.origin, origin, sizeof origin);
    cp.size = UINT64_MAX;
    assert_int_equal(psi_checkpoint_format(out, sizeof out, &len, &cp), 0);
    assert_int_equal(psi_checkpoint_format(out, len, &len, &cp), PSI_ERR_TOO_LARGE);
    cp.extensions = "no newline";
    cp.extensions_len = 10;
    assert_int_equal(psi_checkpoint_format(out, sizeof out, &len, &cp), PSI_ERR_INVALID);
    cp.extensions = "\n";
    cp.extensions_len = 1;
    assert_int_equal(psi_checkpoint_format(out, sizeof out, &len, &cp), PSI_ERR_INVALID);
    cp.extensions = NULL;
    cp.extensions_len = 3;
    assert_int_equal(psi_checkpoint_format(out, sizeof out, &len, &cp), PSI_ERR_INVALID);
    cp.extensions_len = 0;
    assert_int_equal(psi_checkpoint_format(NULL, 9, &len, &cp), PSI_ERR_INVALID);
    assert_int_equal(psi_checkpoint_format(out, sizeof out, &len, NULL), PSI_ERR_INVALID);
}

static size_t sign_cp(char *out, size_t cap, uint64_t size, const char *root_hex)
{
    struct psi_checkpoint cp;
    size_t len = 0;
    memset(&cp, 0, sizeof cp);
    memcpy(cp.origin, origin, sizeof origin);
    cp.size = size;
    tlog_unhex(cp.root, 32, root_hex);
    assert_int_equal(psi_checkpoint_sign(out, cap, &len, &cp, &log_signer), 0);
    return len;
}

static void test_sign_open(void **state)
{
    char note[1024], other[1024];
    size_t len, olen = 0;
    struct psi_checkpoint cp;
    struct psi_note_signer stranger;
    struct psi_note_verifier stranger_key;
    (void)state;

    len = sign_cp(note, sizeof note, 8, roots[8].hex);
    assert_int_equal(psi_checkpoint_open(&cp, note, len, &log_key, NULL), 0);
    assert_string_equal(cp.origin, origin);
    assert_int_equal(cp.size, 8);
    {
        unsigned char want[32];
        tlog_unhex(want, 32, roots[8].hex);
        assert_memory_equal(cp.root, want, 32);
    }
    assert_int_equal(psi_checkpoint_open(&cp, note, len, &log_key, origin), 0);
    assert_int_equal(psi_checkpoint_open(&cp, note, len, &log_key, "other.example/log"),
                     PSI_ERR_DENIED);
    assert_int_equal(cp.size, 0);
    /* Body changed after signing: the size, a bit of the root. */
    memcpy(other, note, len + 1);
    other[strlen(origin) + 1] = '9';
    assert_int_equal(psi_checkpoint_open(&cp, other, len, &log_key, NULL), PSI_ERR_VERIFY);
    /* Signed by someone else only; a key of another name. */
    memset(other, 0x07, 32);
    assert_int_equal(psi_note_signer_from_seed(&stranger, origin, (unsigned char *)other), 0);
    psi_note_signer_verifier(&stranger_key, &stranger);
    assert_int_equal(psi_checkpoint_open(&cp, note, len, &stranger_key, NULL), PSI_ERR_NOT_FOUND);
    psi_note_signer_wipe(&stranger);
    assert_int_equal(
        psi_note_signer_from_seed(&stranger, "other.example/log", (unsigned char *)other), 0);
    {
        struct psi_checkpoint c2;
        memset(&c2, 0, sizeof c2);
        memcpy(c2.origin, origin, sizeof origin);
        c2.size = 3;
        assert_int_equal(psi_checkpoint_sign(other, sizeof other, &olen, &c2, &stranger), 0);
        psi_note_signer_verifier(&stranger_key, &stranger);
        /* Origin defaults to the key name, which differs here. */
        assert_int_equal(psi_checkpoint_open(&cp, other, olen, &stranger_key, NULL),
                         PSI_ERR_DENIED);
        assert_int_equal(psi_checkpoint_open(&cp, other, olen, &stranger_key, origin), 0);
        assert_int_equal(cp.size, 3);
    }
    psi_note_signer_wipe(&stranger);
    /* A signed note whose text is no checkpoint. */
    assert_int_equal(
        psi_note_sign(other, sizeof other, &olen, "not a checkpoint\n", 17, &log_signer, 1), 0);
    assert_int_equal(psi_checkpoint_open(&cp, other, olen, &log_key, NULL), PSI_ERR_PARSE);
    /* Too small a buffer for the signature. */
    {
        struct psi_checkpoint c3;
        memset(&c3, 0, sizeof c3);
        memcpy(c3.origin, origin, sizeof origin);
        assert_int_equal(psi_checkpoint_sign(other, len, &olen, &c3, &log_signer),
                         PSI_ERR_TOO_LARGE);
        assert_int_equal(psi_checkpoint_sign(other, 10, &olen, &c3, &log_signer),
                         PSI_ERR_TOO_LARGE);
        assert_int_equal(psi_checkpoint_sign(NULL, 10, &olen, &c3, &log_signer), PSI_ERR_INVALID);
        c3.origin[0] = '\0';
        assert_int_equal(psi_checkpoint_sign(other, sizeof other, &olen, &c3, &log_signer),
                         PSI_ERR_INVALID);
    }
    assert_int_equal(psi_checkpoint_open(NULL, note, len, &log_key, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_checkpoint_open(&cp, NULL, len, &log_key, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_checkpoint_open(&cp, note, len, NULL, NULL), PSI_ERR_INVALID);
}

/* ---- receipts ----------------------------------------------------------- */

static void test_c2sp_proof_example(void **state)
{
    static const char example[] = "c2sp.org/tlog-proof@v1\n"
                                  "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
                                  "index 73894\n"
                                  "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
                                  "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
                                  "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
                                  "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
                                  "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
                                  "\n"
                                  "example.com/fancylog\n"
                                  "109482\n"
                                  "sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"
                                  "\n"
                                  "\xE2\x80\x94 example.com/fancylog hI2DJw[...]1roloI=\n";
    struct psi_tlog_proof p;
    unsigned char extra[64];
    char out[2048];
    size_t len = 0;
    unsigned char h[32];
    (void)state;

    assert_int_equal(psi_tlog_proof_parse(&p, example, strlen(example), extra, sizeof extra), 0);
    assert_int_equal(p.index, 73894);
    assert_int_equal(p.hash_count, 5);
    b64_32(h, "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=");
    assert_memory_equal(p.hashes[0], h, 32);
    b64_32(h, "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=");
    assert_memory_equal(p.hashes[4], h, 32);
    assert_ptr_equal(p.extra, extra);
    assert_int_equal(p.extra_len, 39);
    assert_memory_equal(extra, "age-v1.2.1-darwin-arm64.tar.gz", 30);
    assert_ptr_equal(p.checkpoint, strstr(example, "example.com/fancylog\n109482"));
    assert_int_equal(p.checkpoint_len, strlen(p.checkpoint));
    /* Format gives back the same bytes. */
    assert_int_equal(psi_tlog_proof_format(out, sizeof out, &len, &p), 0);
    assert_int_equal(len, strlen(example));
    assert_string_equal(out, example);
    /* The extra data needs room; without a buffer it is refused. */
    assert_int_equal(psi_tlog_proof_parse(&p, example, strlen(example), extra, 38),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_tlog_proof_parse(&p, example, strlen(example), NULL, 0),
                     PSI_ERR_TOO_LARGE);
    /* Its checkpoint is no valid note: verification says so. */
    assert_int_equal(psi_tlog_proof_parse(&p, example, strlen(example), extra, sizeof extra), 0);
    assert_int_equal(psi_tlog_proof_verify(&p, &log_key, "example.com/fancylog", h, NULL),
                     PSI_ERR_PARSE);
}

struct receipt {
    char checkpoint[1024];
    struct psi_tlog_proof proof;
    unsigned char leaf[32];
};

static void make_receipt(struct receipt *r)
{
    memset(r, 0, sizeof *r);
    r->proof.checkpoint_len = sign_cp(r->checkpoint, sizeof r->checkpoint, 8, roots[8].hex);
    r->proof.checkpoint = r->checkpoint;
    r->proof.index = 5;
    r->proof.hash_count = 3;
    for (int i = 0; i < 3; i++)
        b64_32(r->proof.hashes[i], proof5_b64[i]);
    b64_32(r->leaf, leaf5_b64);
}

static int starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static void test_receipt_round_trip(void **state)
{
    struct receipt r;
    struct psi_tlog_proof back;
    struct psi_checkpoint cp;
    char text[4096];
    unsigned char extra_in[5] = {1, 2, 3, 4, 5}, extra_out[8];
    size_t len = 0;
    (void)state;

    make_receipt(&r);
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, &cp), 0);
    assert_int_equal(cp.size, 8);
    r.proof.extra = extra_in;
    r.proof.extra_len = sizeof extra_in;
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, &r.proof), 0);
    assert_true(starts_with(text, "c2sp.org/tlog-proof@v1\nextra AQIDBAU=\nindex 5\n"
                                  "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\n"
                                  "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=\n"
                                  "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=\n\n"
                                  "hub.example.org/psi\n8\n"
                                  "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
                                  "\xE2\x80\x94 hub.example.org/psi "));
    assert_int_equal(psi_tlog_proof_parse(&back, text, len, extra_out, sizeof extra_out), 0);
    assert_int_equal(back.extra_len, 5);
    assert_memory_equal(back.extra, extra_in, 5);
    assert_int_equal(back.index, 5);
    assert_int_equal(back.hash_count, 3);
    assert_memory_equal(back.hashes, r.proof.hashes, (size_t)3 * 32);
    assert_int_equal(back.checkpoint_len, r.proof.checkpoint_len);
    assert_memory_equal(back.checkpoint, r.checkpoint, back.checkpoint_len);
    assert_int_equal(psi_tlog_proof_verify(&back, &log_key, origin, r.leaf, &cp), 0);
    /* Without extra data there is no extra line; a size-1 tree has no
     * proof hashes at all. */
    r.proof.extra = NULL;
    r.proof.extra_len = 0;
    r.proof.index = 0;
    r.proof.hash_count = 0;
    r.proof.checkpoint_len = sign_cp(r.checkpoint, sizeof r.checkpoint, 1, roots[1].hex);
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, &r.proof), 0);
    assert_true(starts_with(text, "c2sp.org/tlog-proof@v1\nindex 0\n\nhub.example.org/psi\n1\n"));
    assert_int_equal(psi_tlog_proof_parse(&back, text, len, NULL, 0), 0);
    assert_null(back.extra);
    assert_int_equal(back.hash_count, 0);
    tlog_unhex(r.leaf, 32, roots[1].hex);
    assert_int_equal(psi_tlog_proof_verify(&back, &log_key, NULL, r.leaf, NULL), 0);
    /* An explicit empty extra line is read as no data. */
    {
        static const char empty_extra[] = "c2sp.org/tlog-proof@v1\nextra \nindex 0\n\nx\n";
        assert_int_equal(psi_tlog_proof_parse(&back, empty_extra, strlen(empty_extra), NULL, 0), 0);
        assert_int_equal(back.extra_len, 0);
    }
}

static void test_receipt_verify_failures(void **state)
{
    struct receipt r;
    struct psi_checkpoint cp;
    (void)state;

    make_receipt(&r);
    /* Every bit of every proof hash. */
    for (size_t i = 0; i < 3; i++)
        for (unsigned bit = 0; bit < 256; bit++) {
            r.proof.hashes[i][bit / 8] ^= (unsigned char)(1U << (bit % 8));
            assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, &cp),
                             PSI_ERR_VERIFY);
            assert_int_equal(cp.size, 0);
            r.proof.hashes[i][bit / 8] ^= (unsigned char)(1U << (bit % 8));
        }
    /* Wrong leaf, index, proof length. */
    r.leaf[0] ^= 1;
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL), PSI_ERR_VERIFY);
    r.leaf[0] ^= 1;
    {
        const uint64_t indices[] = {4, 6, 7, 8, 9, UINT64_MAX};
        for (size_t i = 0; i < sizeof indices / sizeof indices[0]; i++) {
            r.proof.index = indices[i];
            assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL),
                             PSI_ERR_VERIFY);
        }
        r.proof.index = 5;
    }
    r.proof.hash_count = 2;
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL), PSI_ERR_VERIFY);
    r.proof.hash_count = 4;
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL), PSI_ERR_VERIFY);
    r.proof.hash_count = PSI_MERKLE_MAX_INCLUSION_HASHES + 1;
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL),
                     PSI_ERR_INVALID);
    r.proof.hash_count = 3;
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL), 0);
    /* A checkpoint of another size with its own valid signature and root. */
    r.proof.checkpoint_len = sign_cp(r.checkpoint, sizeof r.checkpoint, 7, roots[7].hex);
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL), PSI_ERR_VERIFY);
    /* Index beyond the checkpoint's size. */
    r.proof.checkpoint_len = sign_cp(r.checkpoint, sizeof r.checkpoint, 5, roots[5].hex);
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL), PSI_ERR_VERIFY);
    /* The checkpoint: tampered, wrong origin, unknown key. */
    make_receipt(&r);
    r.checkpoint[strlen(origin) + 1] = '9';
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL), PSI_ERR_VERIFY);
    make_receipt(&r);
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, "x.example/log", r.leaf, NULL),
                     PSI_ERR_DENIED);
    {
        struct psi_note_verifier other = log_key;
        other.key_id ^= 0x100;
        assert_int_equal(psi_tlog_proof_verify(&r.proof, &other, NULL, r.leaf, NULL),
                         PSI_ERR_NOT_FOUND);
    }
    assert_int_equal(psi_tlog_proof_verify(NULL, &log_key, NULL, r.leaf, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_tlog_proof_verify(&r.proof, NULL, NULL, r.leaf, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, NULL, NULL), PSI_ERR_INVALID);
    r.proof.checkpoint = NULL;
    assert_int_equal(psi_tlog_proof_verify(&r.proof, &log_key, NULL, r.leaf, NULL),
                     PSI_ERR_INVALID);
}

static void test_receipt_parse_errors(void **state)
{
    struct psi_tlog_proof p;
    unsigned char extra[16];
    static const char *const bad[] = {
        "",
        "c2sp.org/tlog-proof@v1",
        "c2sp.org/tlog-proof@v1\n",
        "c2sp.org/tlog-proof@v2\nindex 0\n\nx\n",
        "c2sp.org/tlog-proof@v1 \nindex 0\n\nx\n",
        "C2SP.org/tlog-proof@v1\nindex 0\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 00\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 01\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex -1\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex \n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex  1\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\nx\n",
        "c2sp.org/tlog-proof@v1\nIndex 1\n\nx\n",
        "c2sp.org/tlog-proof@v1\n\nindex 1\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 1\nextra AAAA\n\nx\n", /* extra after index */
        "c2sp.org/tlog-proof@v1\nextra AAA\nindex 1\n\nx\n",  /* bad base64 */
        "c2sp.org/tlog-proof@v1\nextra AAAB==\nindex 1\n\nx\n",
        "c2sp.org/tlog-proof@v1\nextra AAAA\nextra AAAA\nindex 1\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "c2sp.org/tlog-proof@v1\nindex 1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n",
        "c2sp.org/tlog-proof@v1\nindex 1\n\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 1\n\nx",
        "c2sp.org/tlog-proof@v1\nindex 1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 1\n XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\nx\n",
        "c2sp.org/tlog-proof@v1\nindex 1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\r\n\nx\n",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&p, 0x44, sizeof p);
        assert_int_equal(psi_tlog_proof_parse(&p, bad[i], strlen(bad[i]), extra, sizeof extra),
                         PSI_ERR_PARSE);
        assert_int_equal(p.index, 0); /* cleared */
    }
    /* 64 hashes are fine, 65 are too many. */
    for (int hashes = 64; hashes <= 65; hashes++) {
        char text[8192];
        size_t len = (size_t)snprintf(text, sizeof text, "c2sp.org/tlog-proof@v1\nindex 1\n");
        for (int i = 0; i < hashes; i++)
            len += (size_t)snprintf(text + len, sizeof text - len,
                                    "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
        len += (size_t)snprintf(text + len, sizeof text - len, "\nx\n");
        assert_true(len < sizeof text);
        if (hashes == 64) {
            assert_int_equal(psi_tlog_proof_parse(&p, text, len, NULL, 0), 0);
            assert_int_equal(p.hash_count, 64);
        } else {
            assert_int_equal(psi_tlog_proof_parse(&p, text, len, NULL, 0), PSI_ERR_TOO_LARGE);
        }
    }
    assert_int_equal(psi_tlog_proof_parse(NULL, "x", 1, NULL, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_tlog_proof_parse(&p, NULL, 1, NULL, 0), PSI_ERR_INVALID);
    assert_int_equal(psi_tlog_proof_parse(&p, "x", 1, NULL, 3), PSI_ERR_INVALID);
}

static void test_receipt_format_errors(void **state)
{
    struct receipt r;
    char text[4096];
    size_t len = 0;
    (void)state;
    make_receipt(&r);
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, &r.proof), 0);
    assert_int_equal(psi_tlog_proof_format(text, len, &len, &r.proof), PSI_ERR_TOO_LARGE);
    r.proof.hash_count = PSI_MERKLE_MAX_INCLUSION_HASHES + 1;
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, &r.proof), PSI_ERR_INVALID);
    r.proof.hash_count = 3;
    r.proof.extra_len = 4;
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, &r.proof), PSI_ERR_INVALID);
    r.proof.extra_len = 0;
    r.proof.checkpoint_len -= 1; /* no final newline */
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, &r.proof), PSI_ERR_INVALID);
    r.proof.checkpoint_len = 0;
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, &r.proof), PSI_ERR_INVALID);
    r.proof.checkpoint = "\nx\n";
    r.proof.checkpoint_len = 3;
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, &r.proof), PSI_ERR_INVALID);
    r.proof.checkpoint = NULL;
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, &r.proof), PSI_ERR_INVALID);
    assert_int_equal(psi_tlog_proof_format(NULL, 1, &len, &r.proof), PSI_ERR_INVALID);
    assert_int_equal(psi_tlog_proof_format(text, sizeof text, &len, NULL), PSI_ERR_INVALID);
}

/* A receipt for every leaf of a 1000-leaf log, proofs from the store. */
static void test_receipts_from_store(void **state)
{
    struct tlog_store s;
    struct psi_merkle_reader reader;
    struct psi_checkpoint cp;
    struct psi_tlog_proof p, back;
    char checkpoint[1024], text[4096];
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
    size_t len = 0, count = 0;
    (void)state;

    tlog_store_init(&s, 1000);
    reader = tlog_store_reader(&s, 1);
    memset(&cp, 0, sizeof cp);
    memcpy(cp.origin, origin, sizeof origin);
    cp.size = 1000;
    assert_int_equal(psi_merkle_root(cp.root, &reader, 1000), 0);
    assert_int_equal(psi_checkpoint_sign(checkpoint, sizeof checkpoint, &len, &cp, &log_signer), 0);
    for (uint64_t i = 0; i < 1000; i += 7) {
        memset(&p, 0, sizeof p);
        p.index = i;
        p.checkpoint = checkpoint;
        p.checkpoint_len = len;
        assert_int_equal(psi_merkle_inclusion_proof(proof, &count, &reader, i, 1000), 0);
        p.hash_count = count;
        memcpy(p.hashes, proof, count * 32);
        assert_int_equal(psi_tlog_proof_format(text, sizeof text, &count, &p), 0);
        assert_int_equal(psi_tlog_proof_parse(&back, text, count, NULL, 0), 0);
        assert_int_equal(psi_tlog_proof_verify(&back, &log_key, NULL, s.leaves[i], NULL), 0);
        assert_int_equal(
            psi_tlog_proof_verify(&back, &log_key, NULL, s.leaves[(i + 1) % 1000], NULL),
            PSI_ERR_VERIFY);
    }
    tlog_store_free(&s);
}

/* Found by fuzzing (tests/fuzz/fuzz_checkpoint): libsodium 1.0.18's decoder
 * reads a byte above 0x7f as '/', so an em dash (e2 80 94) passed for "///"
 * in a root hash and the checkpoint parsed. Every base64 field of the C2SP
 * formats goes through one decoder; here a root, a receipt's proof hash, its
 * extra line and a verifier key are each given a byte outside the alphabet. */
static void test_base64_outside_alphabet(void **state)
{
    char text[256], root[45];
    unsigned char extra[16];
    struct psi_checkpoint cp;
    struct psi_tlog_proof p;
    (void)state;

    memset(root, '/', 42); /* 32 bytes of 0xff */
    memcpy(root + 42, "8=", 3);
    snprintf(text, sizeof text, "%s\n1\n%s\n", origin, root);
    assert_int_equal(psi_checkpoint_parse(&cp, text, strlen(text)), 0);
    assert_int_equal(cp.root[0], 0xff);
    {
        static const char em_dash[3] = {'\xe2', '\x80', '\x94'}; /* U+2014, no terminator */
        memcpy(root, em_dash, sizeof em_dash);
    }
    snprintf(text, sizeof text, "%s\n1\n%s\n", origin, root);
    assert_int_equal(psi_checkpoint_parse(&cp, text, strlen(text)), PSI_ERR_PARSE);

    snprintf(text, sizeof text, "c2sp.org/tlog-proof@v1\nindex 0\n%s\n\nx\n", root);
    assert_int_equal(psi_tlog_proof_parse(&p, text, strlen(text), NULL, 0), PSI_ERR_PARSE);
    snprintf(text, sizeof text, "c2sp.org/tlog-proof@v1\nextra AAA\xbf\nindex 0\n\nx\n");
    assert_int_equal(psi_tlog_proof_parse(&p, text, strlen(text), extra, sizeof extra),
                     PSI_ERR_PARSE);
    snprintf(text, sizeof text, "c2sp.org/tlog-proof@v1\nextra AAA/\nindex 0\n\nx\n");
    assert_int_equal(psi_tlog_proof_parse(&p, text, strlen(text), extra, sizeof extra), 0);

    /* A verifier key string whose base64 holds a '/', then a 0xbf for it. */
    struct psi_note_signer signer;
    struct psi_note_verifier verifier;
    unsigned char seed[32] = {0};
    size_t len = 0;
    char *slash = NULL;
    for (unsigned i = 0; slash == NULL && i < 256; i++) {
        seed[0] = (unsigned char)i;
        assert_int_equal(psi_note_signer_from_seed(&signer, "fuzz", seed), 0);
        psi_note_signer_verifier(&verifier, &signer);
        assert_int_equal(psi_note_verifier_format(text, sizeof text, &len, &verifier), 0);
        slash = strchr(strrchr(text, '+'), '/');
    }
    assert_non_null(slash);
    assert_int_equal(psi_note_verifier_parse(&verifier, text, len), 0);
    *slash = '\xbf';
    assert_int_equal(psi_note_verifier_parse(&verifier, text, len), PSI_ERR_PARSE);
    psi_note_signer_wipe(&signer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_parse_roots),
        cmocka_unit_test(test_c2sp_example_and_extensions),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_format_errors),
        cmocka_unit_test(test_sign_open),
        cmocka_unit_test(test_c2sp_proof_example),
        cmocka_unit_test(test_receipt_round_trip),
        cmocka_unit_test(test_receipt_verify_failures),
        cmocka_unit_test(test_receipt_parse_errors),
        cmocka_unit_test(test_receipt_format_errors),
        cmocka_unit_test(test_receipts_from_store),
        cmocka_unit_test(test_base64_outside_alphabet),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
