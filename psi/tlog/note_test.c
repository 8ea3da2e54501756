/* C2SP signed notes: the golang.org/x/mod sumdb/note vectors of spec/tlog.md
 * section 5 (PeterNeumann keys and the byte-exact Sign output, the EnochRoot
 * second signature, the two malformed verifier keys), the opening rules
 * (unknown keys ignored, a failing known signature rejects, no known
 * signature rejects, malformed notes of every kind, the 100-signature limit)
 * and every error path of note.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "psi/error.h"
#include "psi/note.h"
#include "tlog_test_util.h"

static const char peter_skey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char peter_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char enoch_vkey[] = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
static const char text[] = "If you think cryptography is the answer to your problem,\n"
                           "then you don't know what your problem is.\n";
static const char peter_sig[] = "\xE2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAc"
                                "ElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char enoch_sig[] = "\xE2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm"
                                "2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

static struct psi_note_verifier peter, enoch;
static struct psi_note_signer peter_signer;

static int setup(void **state)
{
    (void)state;
    if (psi_note_verifier_parse(&peter, peter_vkey, strlen(peter_vkey)) != 0 ||
        psi_note_verifier_parse(&enoch, enoch_vkey, strlen(enoch_vkey)) != 0 ||
        psi_note_signer_parse(&peter_signer, peter_skey, strlen(peter_skey)) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    psi_note_signer_wipe(&peter_signer);
    return 0;
}

/* Builds text "\n" sigs... into buf; returns its length. */
static size_t make_note(char *buf, size_t cap, const char *body, const char *const *sigs,
                        size_t nsigs)
{
    size_t len = 0;
    int n = snprintf(buf, cap, "%s\n", body);
    assert_true(n > 0 && (size_t)n < cap);
    len = (size_t)n;
    for (size_t i = 0; i < nsigs; i++) {
        size_t sl = strlen(sigs[i]);
        assert_true(len + sl < cap);
        memcpy(buf + len, sigs[i], sl);
        len += sl;
    }
    buf[len] = '\0';
    return len;
}

static int open_str(const char *note, const struct psi_note_verifier *known, size_t n,
                    unsigned char *verified)
{
    size_t text_len = 0;
    return psi_note_open(note, strlen(note), known, n, &text_len, verified);
}

static void test_keys(void **state)
{
    unsigned char seed[32], pub[32];
    char out[PSI_NOTE_SIGNER_KEY_MAX];
    size_t len = 0;
    uint32_t id = 0;
    struct psi_note_verifier derived;
    (void)state;

    tlog_unhex(seed, 32, "810a1402d5146c8d84f2443330f54080ebf98ee17d9c74f6252fc5d5c7283173");
    tlog_unhex(pub, 32, "1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6");
    assert_string_equal(peter.name, "PeterNeumann");
    assert_int_equal(peter.key_id, 0xc74f20a3U);
    assert_memory_equal(peter.public_key, pub, 32);
    assert_memory_equal(peter_signer.secret_key, seed, 32);
    assert_memory_equal(peter_signer.secret_key + 32, pub, 32);
    assert_int_equal(peter_signer.key_id, 0xc74f20a3U);
    assert_string_equal(enoch.name, "EnochRoot");
    assert_int_equal(enoch.key_id, 0xaf0cfe78U);

    assert_int_equal(psi_note_key_id(&id, "PeterNeumann", pub), 0);
    assert_int_equal(id, 0xc74f20a3U);
    psi_note_signer_verifier(&derived, &peter_signer);
    assert_memory_equal(&derived, &peter, sizeof derived);

    /* Formatting gives back the very strings. */
    assert_int_equal(psi_note_verifier_format(out, sizeof out, &len, &peter), 0);
    assert_int_equal(len, strlen(peter_vkey));
    assert_string_equal(out, peter_vkey);
    assert_int_equal(psi_note_signer_format(out, sizeof out, &len, &peter_signer), 0);
    assert_int_equal(len, strlen(peter_skey));
    assert_string_equal(out, peter_skey);
    sodium_memzero(out, sizeof out);
    /* From the seed directly. */
    {
        struct psi_note_signer s;
        assert_int_equal(psi_note_signer_from_seed(&s, "PeterNeumann", seed), 0);
        assert_memory_equal(&s, &peter_signer, sizeof s);
        psi_note_signer_wipe(&s);
        for (size_t i = 0; i < sizeof s; i++)
            assert_int_equal(((unsigned char *)&s)[i], 0);
    }
    /* Upper-case hex is read too (Go's ParseUint does). */
    {
        struct psi_note_verifier v;
        static const char upper[] =
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        assert_int_equal(psi_note_verifier_parse(&v, upper, strlen(upper)), 0);
        assert_memory_equal(&v, &peter, sizeof v);
    }
}

static void test_bad_verifier_keys(void **state)
{
    struct psi_note_verifier v;
    static const struct {
        const char *vkey;
        int want;
    } bad[] = {
        /* The two vectors of note_test.go. */
        {"PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
         PSI_ERR_PARSE},
        {"PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PSI_ERR_UNSUPPORTED},
        /* Key ID that does not match. */
        {"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PSI_ERR_VERIFY},
        {"PeterNeumanm+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PSI_ERR_VERIFY},
        /* Structure. */
        {"", PSI_ERR_PARSE},
        {"PeterNeumann", PSI_ERR_PARSE},
        {"PeterNeumann+c74f20a3", PSI_ERR_PARSE},
        {"PeterNeumann+c74f20a3+", PSI_ERR_PARSE},
        {"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PSI_ERR_PARSE},
        {"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PSI_ERR_PARSE},
        {"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PSI_ERR_PARSE},
        {"PeterNeumann+c74f20a30+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PSI_ERR_PARSE},
        {"PeterNeumann+c74f20g3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PSI_ERR_PARSE},
        {"PeterNeumann+-74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", PSI_ERR_PARSE},
        /* Base64: no padding where it is due, junk, a newline, too short. */
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", PSI_ERR_PARSE},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!", PSI_ERR_PARSE},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n", PSI_ERR_PARSE},
        {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy", PSI_ERR_PARSE},
        {"PeterNeumann+c74f20a3+AQ==", PSI_ERR_PARSE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&v, 0x55, sizeof v);
        assert_int_equal(psi_note_verifier_parse(&v, bad[i].vkey, strlen(bad[i].vkey)),
                         bad[i].want);
        assert_int_equal(v.key_id, 0); /* cleared on failure */
    }
    /* A 0x01 key of 32 bytes whose name is too long for us. */
    {
        char longkey[PSI_NOTE_NAME_MAX + 64];
        memset(longkey, 'a', PSI_NOTE_NAME_MAX + 1);
        memcpy(longkey + PSI_NOTE_NAME_MAX + 1,
               "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", 55);
        assert_int_equal(psi_note_verifier_parse(&v, longkey, strlen(longkey)), PSI_ERR_PARSE);
    }
    assert_int_equal(psi_note_verifier_parse(NULL, peter_vkey, 3), PSI_ERR_INVALID);
    assert_int_equal(psi_note_verifier_parse(&v, NULL, 3), PSI_ERR_INVALID);
}

static void test_bad_signer_keys(void **state)
{
    struct psi_note_signer s;
    static const struct {
        const char *skey;
        int want;
    } bad[] = {
        {"PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
         PSI_ERR_VERIFY},
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+ZYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
         PSI_ERR_UNSUPPORTED},
        {"PRIVATE+KEZ+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
         PSI_ERR_PARSE},
        {"PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", PSI_ERR_PARSE},
        {"PRIVATE+KEY+", PSI_ERR_PARSE},
        {"PRIVATE+KEY", PSI_ERR_PARSE},
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKD==",
         PSI_ERR_PARSE},
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFzAA==",
         PSI_ERR_PARSE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&s, 0x55, sizeof s);
        assert_int_equal(psi_note_signer_parse(&s, bad[i].skey, strlen(bad[i].skey)), bad[i].want);
        for (size_t b = 0; b < sizeof s; b++)
            assert_int_equal(((unsigned char *)&s)[b], 0); /* no key left behind */
    }
    assert_int_equal(psi_note_signer_parse(NULL, peter_skey, 3), PSI_ERR_INVALID);
    assert_int_equal(psi_note_signer_parse(&s, NULL, 3), PSI_ERR_INVALID);
}

static void test_names(void **state)
{
    unsigned char pub[32] = {0};
    uint32_t id = 7;
    struct psi_note_signer s;
    unsigned char seed[32] = {1};
    static const char *const bad_names[] = {
        "",
        "a+b",
        "a b",
        "a\tb",
        "a\nb",
        "a\x01"
        "b",
        "a\x7f"
        "b",
        "a\xc2\xa0"
        "b",
        "a\xe2\x80\x83"
        "b",
        "a\xe3\x80\x80"
        "b",
        "a\xc2\x85"
        "b",
        "\xff",
        "\xc0\xae",
        "\xed\xa0\x80",
        "a\xe2\x80\xa8"
        "b",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        assert_int_equal(psi_note_key_id(&id, bad_names[i], pub), PSI_ERR_INVALID);
        assert_int_equal(psi_note_signer_from_seed(&s, bad_names[i], seed), PSI_ERR_INVALID);
    }
    /* Non-ASCII names without spaces are fine; so are URLs. */
    assert_int_equal(psi_note_key_id(&id,
                                     "h\xc3\xbc"
                                     "b.example/psi",
                                     pub),
                     0);
    assert_int_equal(psi_note_key_id(&id, "hub.example.org/psi", pub), 0);
    {
        char longname[PSI_NOTE_NAME_MAX + 2];
        memset(longname, 'n', sizeof longname);
        longname[PSI_NOTE_NAME_MAX] = '\0';
        assert_int_equal(psi_note_key_id(&id, longname, pub), 0);
        longname[PSI_NOTE_NAME_MAX] = 'n';
        longname[PSI_NOTE_NAME_MAX + 1] = '\0';
        assert_int_equal(psi_note_key_id(&id, longname, pub), PSI_ERR_INVALID);
    }
    assert_int_equal(psi_note_key_id(NULL, "a", pub), PSI_ERR_INVALID);
    assert_int_equal(psi_note_key_id(&id, NULL, pub), PSI_ERR_INVALID);
    assert_int_equal(psi_note_signer_from_seed(NULL, "a", seed), PSI_ERR_INVALID);
    assert_int_equal(psi_note_signer_from_seed(&s, "a", NULL), PSI_ERR_INVALID);
}

static void test_sign_vector(void **state)
{
    char out[1024];
    char want[1024];
    size_t len = 0, want_len;
    (void)state;

    want_len = make_note(want, sizeof want, text, (const char *const[]){peter_sig}, 1);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, text, strlen(text), &peter_signer, 1), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[len], '\0');
    /* Exactly big enough (with the NUL), one byte short. */
    assert_int_equal(psi_note_sign(out, want_len + 1, &len, text, strlen(text), &peter_signer, 1),
                     0);
    assert_int_equal(psi_note_sign(out, want_len, &len, text, strlen(text), &peter_signer, 1),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(len, want_len);
    /* In place: the text already at the start of the buffer. */
    memcpy(out, text, sizeof text);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, out, strlen(text), &peter_signer, 1), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(out, want, want_len);
}

static void test_open_vectors(void **state)
{
    char note[1024];
    size_t len, text_len = 0;
    unsigned char verified[2];
    struct psi_note_verifier both[2];
    (void)state;

    both[0] = peter;
    both[1] = enoch;
    /* Peter's signature alone. */
    len = make_note(note, sizeof note, text, (const char *const[]){peter_sig}, 1);
    assert_int_equal(psi_note_open(note, len, &peter, 1, &text_len, NULL), 0);
    assert_int_equal(text_len, strlen(text));
    assert_memory_equal(note, text, text_len);
    /* Both signatures, both keys known. */
    len = make_note(note, sizeof note, text, (const char *const[]){peter_sig, enoch_sig}, 2);
    memset(verified, 9, sizeof verified);
    assert_int_equal(psi_note_open(note, len, both, 2, &text_len, verified), 0);
    assert_int_equal(verified[0], 1);
    assert_int_equal(verified[1], 1);
    assert_int_equal(text_len, strlen(text));
    /* The EnochRoot signature verifies on its own. */
    assert_int_equal(psi_note_open(note, len, &enoch, 1, &text_len, verified), 0);
    assert_int_equal(verified[0], 1);
    /* Only Peter known: Enoch's is ignored. */
    assert_int_equal(psi_note_open(note, len, &peter, 1, &text_len, verified), 0);
    assert_int_equal(verified[0], 1);
    /* Signed only by a key we do not know. */
    len = make_note(note, sizeof note, text, (const char *const[]){enoch_sig}, 1);
    memset(verified, 9, sizeof verified);
    assert_int_equal(psi_note_open(note, len, &peter, 1, &text_len, verified), PSI_ERR_NOT_FOUND);
    assert_int_equal(verified[0], 0);
    assert_int_equal(text_len, 0);
    /* Peter known, Enoch's signature present: only Peter counted. */
    len = make_note(note, sizeof note, text, (const char *const[]){enoch_sig, peter_sig}, 2);
    assert_int_equal(psi_note_open(note, len, both, 2, &text_len, verified), 0);
    assert_int_equal(verified[0], 1);
    assert_int_equal(verified[1], 1);
    assert_int_equal(psi_note_open(note, len, NULL, 0, &text_len, NULL), PSI_ERR_NOT_FOUND);
}

static void test_open_bad_signatures(void **state)
{
    char note[1024], sig[256];
    size_t len, text_len = 0;
    unsigned char verified[2];
    struct psi_note_verifier both[2], impostor;
    (void)state;
    both[0] = peter;
    both[1] = enoch;

    /* Every character of Peter's base64 changed: the note is malformed
     * (non-canonical base64) or the signature fails; never accepted. */
    {
        const size_t start = strlen("\xE2\x80\x94 PeterNeumann ");
        const size_t end = strlen(peter_sig) - 1;
        for (size_t i = start; i < end; i++) {
            int rc;
            memcpy(sig, peter_sig, strlen(peter_sig) + 1);
            sig[i] = sig[i] == 'A' ? 'B' : 'A';
            if (sig[i] == '=')
                continue;
            len = make_note(note, sizeof note, text, (const char *const[]){sig}, 1);
            rc = psi_note_open(note, len, &peter, 1, &text_len, NULL);
            assert_true(rc == PSI_ERR_VERIFY || rc == PSI_ERR_PARSE || rc == PSI_ERR_NOT_FOUND);
            /* A changed key-ID byte makes the key unknown; otherwise, a
             * well-formed line by a known key that fails. */
            if (i >= start + 8)
                assert_true(rc == PSI_ERR_VERIFY || rc == PSI_ERR_PARSE);
        }
    }
    /* A valid signature by Enoch and a failing one by Peter: rejected, and
     * no verdict leaks out. */
    memcpy(sig, peter_sig, strlen(peter_sig) + 1);
    sig[40] = sig[40] == 'A' ? 'B' : 'A';
    len = make_note(note, sizeof note, text, (const char *const[]){enoch_sig, sig}, 2);
    memset(verified, 9, sizeof verified);
    assert_int_equal(psi_note_open(note, len, both, 2, &text_len, verified), PSI_ERR_VERIFY);
    assert_int_equal(verified[0], 0);
    assert_int_equal(verified[1], 0);
    /* Peter's signature over another text. */
    {
        char other[1024];
        size_t olen =
            make_note(other, sizeof other, "If you think\n", (const char *const[]){peter_sig}, 1);
        assert_int_equal(psi_note_open(other, olen, &peter, 1, &text_len, NULL), PSI_ERR_VERIFY);
    }
    /* A known name and ID with another public key: the signature fails. */
    impostor = peter;
    impostor.public_key[0] ^= 1;
    len = make_note(note, sizeof note, text, (const char *const[]){peter_sig}, 1);
    assert_int_equal(psi_note_open(note, len, &impostor, 1, &text_len, NULL), PSI_ERR_VERIFY);
    /* Same key, other name or other ID: unknown, so ignored. */
    impostor = peter;
    memcpy(impostor.name, "PeterNeumanm", 13);
    assert_int_equal(psi_note_open(note, len, &impostor, 1, &text_len, NULL), PSI_ERR_NOT_FOUND);
    impostor = peter;
    impostor.key_id ^= 1;
    assert_int_equal(psi_note_open(note, len, &impostor, 1, &text_len, NULL), PSI_ERR_NOT_FOUND);
    /* A signature of the wrong length by a known key fails (not ignored). */
    {
        /* The first 84 base64 characters: 63 bytes, ID and a short signature. */
        const size_t prefix = strlen("\xE2\x80\x94 PeterNeumann ");
        memcpy(sig, peter_sig, prefix + 84);
        memcpy(sig + prefix + 84, "\n", 2);
        len = make_note(note, sizeof note, text, (const char *const[]){sig}, 1);
        assert_int_equal(psi_note_open(note, len, &peter, 1, &text_len, NULL), PSI_ERR_VERIFY);
    }
    /* A repeated valid signature is fine; a repeated one that fails is not
     * excused by the good one. */
    len = make_note(note, sizeof note, text, (const char *const[]){peter_sig, peter_sig}, 2);
    assert_int_equal(psi_note_open(note, len, &peter, 1, &text_len, NULL), 0);
    memcpy(sig, peter_sig, strlen(peter_sig) + 1);
    sig[50] = sig[50] == 'A' ? 'B' : 'A';
    len = make_note(note, sizeof note, text, (const char *const[]){peter_sig, sig}, 2);
    assert_int_equal(psi_note_open(note, len, &peter, 1, &text_len, NULL), PSI_ERR_VERIFY);
}

static void test_open_malformed(void **state)
{
    char note[2048];
    size_t text_len = 0;
    static const char unknown_sig[] = "\xE2\x80\x94 someone.example AAAAAAA=\n";
    (void)state;

    /* No signatures, no blank line, no final newline. */
    snprintf(note, sizeof note, "%s", text);
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    snprintf(note, sizeof note, "%s\n", text);
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    snprintf(note, sizeof note, "%s%s", text, peter_sig);
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    snprintf(note, sizeof note, "%s\n%.*s", text, (int)strlen(peter_sig) - 1, peter_sig);
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    /* A junk line after the signatures, before them, a blank line after. */
    snprintf(note, sizeof note, "%s\n%sUnexpected line.\n", text, peter_sig);
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    snprintf(note, sizeof note, "%s\nUnexpected line.\n%s", text, peter_sig);
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    snprintf(note, sizeof note, "%s\n%s\n", text, peter_sig);
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    /* Control characters and bad UTF-8 anywhere. */
    snprintf(note, sizeof note, "\x01%s\n%s", text, peter_sig);
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    snprintf(note, sizeof note, "\xff%s\n%s", text, peter_sig);
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    snprintf(note, sizeof note, "%s\n%s\r\n", text, "\xE2\x80\x94 a AAAAAAA=");
    assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
    /* Bad signature lines: name with a space, no space, dash, base64. */
    {
        static const char *const lines[] = {
            ("\xE2\x80\x94 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
             "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
            "\xE2\x80\x94 PeterNeumann\n",
            "\xE2\x80\x94 PeterNeumann \n",
            "\xE2\x80\x94  AAAAAAA=\n",
            "\xE2\x80\x94PeterNeumann AAAAAAA=\n",
            "- PeterNeumann AAAAAAA=\n",
            "\xE2\x80\x93 PeterNeumann AAAAAAA=\n",
            "\xE2\x80\x94 a+b AAAAAAA=\n",
            "\xE2\x80\x94 someone AAAA\n",     /* 3 bytes: less than ID + 1 */
            "\xE2\x80\x94 someone AAAAAA==\n", /* 4 bytes: ID only */
            "\xE2\x80\x94 someone AAAAAAA\n",
            "\xE2\x80\x94 someone AAAAAAB=\n", /* non-zero padding bits */
            "\xE2\x80\x94 someone AAA=AAAA\n",
            "\xE2\x80\x94 someone AAAA AAAA\n",
            "\xE2\x80\x94 someone AAAAA\xc3\xa9==\n",
        };
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            snprintf(note, sizeof note, "%s\n%s%s", text, peter_sig, lines[i]);
            assert_int_equal(open_str(note, &peter, 1, NULL), PSI_ERR_PARSE);
        }
    }
    /* 100 signature lines are accepted, 101 are not. */
    {
        size_t len = (size_t)snprintf(note, sizeof note, "%s\n%s", text, peter_sig);
        char big[16384];
        memcpy(big, note, len);
        for (int i = 1; i < 100; i++) {
            len += (size_t)snprintf(big + len, sizeof big - len, "%s", unknown_sig);
            assert_true(len < sizeof big);
        }
        assert_int_equal(psi_note_open(big, len, &peter, 1, &text_len, NULL), 0);
        len += (size_t)snprintf(big + len, sizeof big - len, "%s", unknown_sig);
        assert_true(len < sizeof big);
        assert_int_equal(psi_note_open(big, len, &peter, 1, &text_len, NULL), PSI_ERR_PARSE);
    }
    /* A long signature by an unknown key (a post-quantum one, say) and a
     * long unknown name are skipped, not refused. */
    {
        char big[16384];
        size_t len = (size_t)snprintf(big, sizeof big, "%s\n%s\xE2\x80\x94 ", text, peter_sig);
        memset(big + len, 'n', 300);
        len += 300;
        big[len++] = ' ';
        memset(big + len, 'A', 4800);
        len += 4800;
        big[len++] = '\n';
        assert_int_equal(psi_note_open(big, len, &peter, 1, &text_len, NULL), 0);
        big[len - 2] = '='; /* padding inside: still well formed */
        assert_int_equal(psi_note_open(big, len, &peter, 1, &text_len, NULL), 0);
        big[len - 200] = '='; /* padding in the middle: malformed */
        assert_int_equal(psi_note_open(big, len, &peter, 1, &text_len, NULL), PSI_ERR_PARSE);
    }
    /* The text may hold blank lines: the last blank line splits. */
    {
        struct psi_note_signer gen;
        struct psi_note_verifier v;
        char out[1024];
        size_t len = 0;
        static const char body[] = "first\n\nsecond\n";
        assert_int_equal(psi_note_signer_generate(&gen, "gen.example/key"), 0);
        psi_note_signer_verifier(&v, &gen);
        assert_int_equal(psi_note_sign(out, sizeof out, &len, body, strlen(body), &gen, 1), 0);
        assert_int_equal(psi_note_open(out, len, &v, 1, &text_len, NULL), 0);
        assert_int_equal(text_len, strlen(body));
        psi_note_signer_wipe(&gen);
    }
    /* NULL arguments. */
    assert_int_equal(psi_note_open(NULL, 0, &peter, 1, &text_len, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_note_open(note, 1, NULL, 1, &text_len, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_note_open(note, 1, &peter, 1, NULL, NULL), PSI_ERR_INVALID);
}

static void test_sign_errors_and_many_signers(void **state)
{
    char out[4096];
    size_t len = 0, text_len = 0;
    struct psi_note_signer signers[3];
    struct psi_note_verifier verifiers[3];
    unsigned char verified[3];
    (void)state;

    assert_int_equal(psi_note_sign(out, sizeof out, &len, "", 0, &peter_signer, 1), PSI_ERR_PARSE);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, "no newline", 10, &peter_signer, 1),
                     PSI_ERR_PARSE);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, "tab\there\n", 9, &peter_signer, 1),
                     PSI_ERR_PARSE);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, "bad \xff\n", 6, &peter_signer, 1),
                     PSI_ERR_PARSE);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, "nul \0\n", 6, &peter_signer, 1),
                     PSI_ERR_PARSE);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, text, strlen(text), &peter_signer, 0),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, text, strlen(text), NULL, 1),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_note_sign(NULL, 0, &len, text, strlen(text), &peter_signer, 1),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, NULL, 1, &peter_signer, 1),
                     PSI_ERR_INVALID);
    {
        struct psi_note_signer many[PSI_NOTE_MAX_SIGNATURES + 1];
        for (size_t i = 0; i <= PSI_NOTE_MAX_SIGNATURES; i++)
            many[i] = peter_signer;
        assert_int_equal(psi_note_sign(out, sizeof out, &len, text, strlen(text), many,
                                       PSI_NOTE_MAX_SIGNATURES + 1),
                         PSI_ERR_INVALID);
        sodium_memzero(many, sizeof many);
    }
    {
        struct psi_note_signer broken = peter_signer;
        broken.name[0] = '\0';
        assert_int_equal(psi_note_sign(out, sizeof out, &len, text, strlen(text), &broken, 1),
                         PSI_ERR_INVALID);
        psi_note_signer_wipe(&broken);
    }
    /* Three fresh keys sign; any subset of them opens it. */
    assert_int_equal(psi_note_signer_generate(&signers[0], "log.example/a"), 0);
    assert_int_equal(psi_note_signer_generate(&signers[1], "witness.example/b"), 0);
    assert_int_equal(psi_note_signer_generate(&signers[2], "witness.example/c"), 0);
    assert_int_equal(psi_note_signer_generate(&signers[2], "bad name"), PSI_ERR_INVALID);
    assert_int_equal(psi_note_signer_generate(&signers[2], "witness.example/c"), 0);
    for (int i = 0; i < 3; i++)
        psi_note_signer_verifier(&verifiers[i], &signers[i]);
    assert_int_equal(psi_note_sign(out, sizeof out, &len, text, strlen(text), signers, 3), 0);
    assert_int_equal(psi_note_open(out, len, verifiers, 3, &text_len, verified), 0);
    assert_int_equal(verified[0] + verified[1] + verified[2], 3);
    assert_int_equal(psi_note_open(out, len, verifiers + 2, 1, &text_len, verified), 0);
    /* Key strings of generated keys round-trip. */
    {
        char key[PSI_NOTE_SIGNER_KEY_MAX];
        struct psi_note_signer back;
        struct psi_note_verifier vback;
        assert_int_equal(psi_note_signer_format(key, sizeof key, &len, &signers[1]), 0);
        assert_int_equal(psi_note_signer_parse(&back, key, len), 0);
        assert_memory_equal(&back, &signers[1], sizeof back);
        assert_int_equal(psi_note_signer_format(key, 10, &len, &signers[1]), PSI_ERR_TOO_LARGE);
        for (size_t i = 0; i < 10; i++)
            assert_int_equal(key[i], 0); /* the partial secret was wiped */
        assert_int_equal(psi_note_verifier_format(key, sizeof key, &len, &verifiers[1]), 0);
        assert_int_equal(psi_note_verifier_parse(&vback, key, len), 0);
        assert_memory_equal(&vback, &verifiers[1], sizeof vback);
        assert_int_equal(psi_note_verifier_format(key, 5, &len, &verifiers[1]), PSI_ERR_TOO_LARGE);
        assert_int_equal(psi_note_verifier_format(NULL, 5, &len, &verifiers[1]), PSI_ERR_INVALID);
        assert_int_equal(psi_note_signer_format(NULL, 5, &len, &signers[1]), PSI_ERR_INVALID);
        vback.name[0] = ' ';
        assert_int_equal(psi_note_verifier_format(key, sizeof key, &len, &vback), PSI_ERR_INVALID);
        back.name[0] = '+';
        assert_int_equal(psi_note_signer_format(key, sizeof key, &len, &back), PSI_ERR_INVALID);
        sodium_memzero(key, sizeof key);
        psi_note_signer_wipe(&back);
    }
    for (int i = 0; i < 3; i++)
        psi_note_signer_wipe(&signers[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_bad_verifier_keys),
        cmocka_unit_test(test_bad_signer_keys),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_sign_vector),
        cmocka_unit_test(test_open_vectors),
        cmocka_unit_test(test_open_bad_signatures),
        cmocka_unit_test(test_open_malformed),
        cmocka_unit_test(test_sign_errors_and_many_signers),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
