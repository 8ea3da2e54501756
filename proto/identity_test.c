/*
 * Tests of identity keys: generation, the key file (round trip, mode 0600,
 * refusal of files others can read, every malformed shape), and the
 * verifier key string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "envelope.h"
#include "identity.h"
#include "psi/error.h"
#include "psi/note.h"
#include "scratch.h"

/* From the documentation of golang.org/x/mod/sumdb/note: a key pair made by
 * another implementation, so the key id and both strings are pinned. */
#define GO_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

struct dir {
    char path[256];
    char files[32][320];
    size_t count;
};

static int setup(void **state)
{
    struct dir *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -1;
    if (test_scratch_dir(d->path, sizeof d->path, "identity-test") != 0) {
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct dir *d = *state;
    test_remove_tree(d->path);
    free(d);
    return 0;
}

/* A fresh path in the test directory (removed at teardown). */
static const char *path_in(struct dir *d, const char *name)
{
    assert_true(d->count < 32);
    char *p = d->files[d->count++];
    char dir[sizeof d->path];
    memcpy(dir, d->path, sizeof dir);
    int n = snprintf(p, sizeof d->files[0], "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < sizeof d->files[0]);
    return p;
}

static const char *write_file(struct dir *d, const char *name, const char *text, size_t len,
                              mode_t mode)
{
    const char *p = path_in(d, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(p, mode), 0);
    return p;
}

static char *read_text(const char *path, size_t *len)
{
    static char buf[4096];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static int load(const char *path, struct psi_identity *id, char *err, size_t errlen)
{
    int rc = psi_identity_load(id, path, err, errlen);
    if (rc != 0) {
        assert_null(id->secret_key);
        assert_true(strlen(err) > 0);
    }
    return rc;
}

/* ------------------------------------------------------------ generate */

static void test_generate(void **state)
{
    (void)state;
    struct psi_identity a, b;
    assert_int_equal(psi_identity_generate(&a, "agency-a"), 0);
    assert_int_equal(psi_identity_generate(&b, "agency-a"), 0);
    assert_string_equal(a.name, "agency-a");
    assert_non_null(a.secret_key);
    /* libsodium's secret is seed || public key */
    assert_memory_equal(a.secret_key + 32, a.public_key, 32);
    assert_memory_not_equal(a.public_key, b.public_key, 32);
    const unsigned char msg[] = "hello";
    unsigned char sig[64];
    assert_int_equal(crypto_sign_detached(sig, NULL, msg, sizeof msg, a.secret_key), 0);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof msg, a.public_key), 0);
    psi_identity_clear(&a);
    assert_null(a.secret_key);
    assert_string_equal(a.name, "");
    psi_identity_clear(&b);
    psi_identity_clear(&b); /* twice is harmless */
    psi_identity_clear(NULL);

    struct psi_identity bad;
    assert_int_equal(psi_identity_generate(&bad, ""), PSI_ERR_INVALID);
    assert_int_equal(psi_identity_generate(&bad, "has space"), PSI_ERR_INVALID);
    assert_int_equal(psi_identity_generate(&bad, NULL), PSI_ERR_INVALID);
    assert_null(bad.secret_key);
    char long_name[80];
    memset(long_name, 'n', 65);
    long_name[65] = '\0';
    assert_int_equal(psi_identity_generate(&bad, long_name), PSI_ERR_INVALID);
    assert_int_equal(psi_identity_generate(NULL, "x"), PSI_ERR_INVALID);
}

/* ------------------------------------------------------------ key files */

static void test_save_load_round_trip(void **state)
{
    struct dir *d = *state;
    struct psi_identity id, again;
    assert_int_equal(psi_identity_generate(&id, "agency-a"), 0);
    const char *p = path_in(d, "agency-a.key");
    /* a permissive umask must not widen the mode */
    mode_t old = umask(0);
    assert_int_equal(psi_identity_save(&id, p), 0);
    umask(old);

    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    size_t len;
    const char *text = read_text(p, &len);
    const char *first = "untrusted comment: psi identity key of agency-a\nPRIVATE+KEY+agency-a+";
    assert_memory_equal(text, first, strlen(first));
    assert_int_equal(text[len - 1], '\n');

    char err[256];
    assert_int_equal(load(p, &again, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_string_equal(again.name, "agency-a");
    assert_memory_equal(again.public_key, id.public_key, 32);
    assert_memory_equal(again.secret_key, id.secret_key, 64);

    /* never overwritten */
    struct psi_identity other;
    assert_int_equal(psi_identity_generate(&other, "agency-b"), 0);
    assert_int_equal(psi_identity_save(&other, p), PSI_ERR_EXISTS);
    psi_identity_clear(&again);
    assert_int_equal(load(p, &again, err, sizeof err), 0);
    assert_memory_equal(again.public_key, id.public_key, 32);

    /* a directory that does not exist */
    assert_int_equal(psi_identity_save(&other, "/nonexistent-psi-dir/x.key"), PSI_ERR_IO);
    assert_int_equal(psi_identity_save(&other, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_identity_save(NULL, p), PSI_ERR_INVALID);
    struct psi_identity empty;
    memset(&empty, 0, sizeof empty);
    assert_int_equal(psi_identity_save(&empty, path_in(d, "empty.key")), PSI_ERR_INVALID);

    psi_identity_clear(&id);
    psi_identity_clear(&again);
    psi_identity_clear(&other);
}

static void test_refuses_open_permissions(void **state)
{
    struct dir *d = *state;
    struct psi_identity id, loaded;
    assert_int_equal(psi_identity_generate(&id, "agency-a"), 0);
    const char *p = path_in(d, "perm.key");
    assert_int_equal(psi_identity_save(&id, p), 0);
    char err[256];
    const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0660, 0700 | 0040};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        assert_int_equal(chmod(p, modes[i]), 0);
        assert_int_equal(load(p, &loaded, err, sizeof err), PSI_ERR_DENIED);
        assert_non_null(strstr(err, "chmod 600"));
        assert_non_null(strstr(err, p));
    }
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(load(p, &loaded, err, sizeof err), PSI_ERR_DENIED);
    assert_non_null(strstr(err, "mode 0644"));
    /* owner-only modes other than 0600 are fine */
    assert_int_equal(chmod(p, 0400), 0);
    assert_int_equal(load(p, &loaded, err, sizeof err), 0);
    assert_memory_equal(loaded.public_key, id.public_key, 32);
    psi_identity_clear(&loaded);
    assert_int_equal(chmod(p, 0600), 0);

    /* not a file, no file; the message names the path */
    assert_int_equal(load(d->path, &loaded, err, sizeof err), PSI_ERR_IO);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(load("/nonexistent-psi.key", &loaded, err, sizeof err), PSI_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent-psi.key"));
    assert_int_equal(psi_identity_load(NULL, p, err, sizeof err), PSI_ERR_INVALID);
    assert_int_equal(psi_identity_load(&loaded, NULL, err, sizeof err), PSI_ERR_INVALID);
    /* err may be absent */
    assert_int_equal(psi_identity_load(&loaded, "/nonexistent-psi.key", NULL, 0), PSI_ERR_IO);
    psi_identity_clear(&id);
}

struct bad_file {
    const char *text;
    int rc;
    const char *reason; /* a piece of the message */
};

static void test_malformed_files(void **state)
{
    struct dir *d = *state;
    /* A real key line to spoil. */
    struct psi_identity id;
    assert_int_equal(psi_identity_generate(&id, "agency-a"), 0);
    const char *good = path_in(d, "good.key");
    assert_int_equal(psi_identity_save(&id, good), 0);
    size_t len;
    char key_file[512];
    const char *text = read_text(good, &len);
    assert_true(len < sizeof key_file);
    memcpy(key_file, text, len + 1);
    char *key_line = strchr(key_file, '\n') + 1;
    key_line[strlen(key_line) - 1] = '\0'; /* without its newline */

    /* the same key under a wrong key id, with a type byte 0x02, as a vkey */
    char wrong_id[600], wrong_type[600], as_vkey[600], bad_name[600];
    snprintf(wrong_id, sizeof wrong_id, "untrusted comment: x\n%s\n", key_line);
    char *hex = wrong_id + strlen("untrusted comment: x\nPRIVATE+KEY+agency-a+");
    hex[0] = hex[0] == '0' ? '1' : '0';
    unsigned char typed[33];
    typed[0] = 0x02;
    memcpy(typed + 1, id.secret_key, 32);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, typed, sizeof typed, sodium_base64_VARIANT_ORIGINAL);
    snprintf(wrong_type, sizeof wrong_type, "untrusted comment: x\nPRIVATE+KEY+agency-a+%.8s+%s\n",
             key_line + strlen("PRIVATE+KEY+agency-a+"), b64);
    char vkey[PSI_VKEY_MAX];
    assert_int_equal(psi_identity_vkey(&id, vkey, sizeof vkey), 0);
    snprintf(as_vkey, sizeof as_vkey, "untrusted comment: x\n%s\n", vkey);
    /* a name note keys allow but ids do not, with a matching key id */
    struct psi_note_signer signer;
    assert_int_equal(psi_note_signer_from_seed(&signer, "-dash", id.secret_key), 0);
    char skey[PSI_NOTE_SIGNER_KEY_MAX];
    size_t skey_len;
    assert_int_equal(psi_note_signer_format(skey, sizeof skey, &skey_len, &signer), 0);
    psi_note_signer_wipe(&signer);
    snprintf(bad_name, sizeof bad_name, "untrusted comment: x\n%s\n", skey);
    char extra[600], ctrl[600], truncated[600];
    snprintf(extra, sizeof extra, "untrusted comment: x\n%s\nanother line\n", key_line);
    snprintf(ctrl, sizeof ctrl, "untrusted comment: \x1b[2J\n%s\n", key_line);
    snprintf(truncated, sizeof truncated, "untrusted comment: x\n%.*s\n", (int)strlen(key_line) - 4,
             key_line);
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "untrusted comment: ", 19);

    const struct bad_file cases[] = {
        {"", PSI_ERR_PARSE, "not a psi key file"},
        {"PRIVATE+KEY+agency-a+00000000+AAAA\n", PSI_ERR_PARSE, "not a psi key file"},
        {"untrusted comment: only a comment", PSI_ERR_PARSE, "key line is missing"},
        {"untrusted comment: only a comment\n", PSI_ERR_PARSE, "key line is missing"},
        {"untrusted comment: x\nPRIVATE+KEY+agency-a\n", PSI_ERR_PARSE, "malformed key line"},
        {"untrusted comment: x\nPRIVATE+KEY+agency-a+zzzzzzzz+AAAA\n", PSI_ERR_PARSE,
         "malformed key line"},
        {truncated, PSI_ERR_PARSE, "malformed key line"},
        {wrong_id, PSI_ERR_VERIFY, "key id does not match"},
        {wrong_type, PSI_ERR_UNSUPPORTED, "not an Ed25519 key"},
        {as_vkey, PSI_ERR_PARSE, "malformed key line"},
        {bad_name, PSI_ERR_PARSE, "not a valid id"},
        {extra, PSI_ERR_PARSE, "after the key line"},
        {ctrl, PSI_ERR_PARSE, "control character"},
        {big, PSI_ERR_PARSE, "too large"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad-%zu.key", i);
        const char *p = write_file(d, name, cases[i].text, strlen(cases[i].text), 0600);
        struct psi_identity loaded;
        char err[256];
        int rc = load(p, &loaded, err, sizeof err);
        if (rc != cases[i].rc || strstr(err, cases[i].reason) == NULL)
            fail_msg("case %zu: rc %d (%s), want %d (%s)", i, rc, err, cases[i].rc,
                     cases[i].reason);
        assert_non_null(strstr(err, p));
    }

    /* A file with an embedded NUL in the key line */
    char with_nul[512];
    int n = snprintf(with_nul, sizeof with_nul, "untrusted comment: x\n%s\n", key_line);
    assert_true(n > 30);
    with_nul[n - 5] = '\0';
    struct psi_identity loaded;
    char err[256];
    const char *p = write_file(d, "nul.key", with_nul, (size_t)n, 0600);
    assert_int_equal(load(p, &loaded, err, sizeof err), PSI_ERR_PARSE);

    /* Accepted: no final newline; a comment naming someone else (the key line
     * decides whose key it is). */
    char lenient[600];
    snprintf(lenient, sizeof lenient, "untrusted comment: psi identity key of agency-b\n%s",
             key_line);
    p = write_file(d, "lenient.key", lenient, strlen(lenient), 0600);
    assert_int_equal(load(p, &loaded, err, sizeof err), 0);
    assert_string_equal(loaded.name, "agency-a");
    assert_memory_equal(loaded.public_key, id.public_key, 32);
    psi_identity_clear(&loaded);
    psi_identity_clear(&id);
}

static void test_other_implementation(void **state)
{
    struct dir *d = *state;
    const char *text = "untrusted comment: made by Go\n" GO_SKEY "\n";
    const char *p = write_file(d, "go.key", text, strlen(text), 0600);
    struct psi_identity id;
    char err[256];
    assert_int_equal(load(p, &id, err, sizeof err), 0);
    assert_string_equal(id.name, "PeterNeumann");
    char vkey[PSI_VKEY_MAX];
    assert_int_equal(psi_identity_vkey(&id, vkey, sizeof vkey), 0);
    assert_string_equal(vkey, GO_VKEY);
    char name[65];
    unsigned char key[32];
    assert_int_equal(psi_vkey_parse(GO_VKEY, name, key), 0);
    assert_memory_equal(key, id.public_key, 32);
    psi_identity_clear(&id);
}

/* ------------------------------------------------------------ verifier keys */

static void test_vkey_round_trip(void **state)
{
    (void)state;
    struct psi_identity id;
    assert_int_equal(psi_identity_generate(&id, "agency-a"), 0);
    char vkey[PSI_VKEY_MAX];
    assert_int_equal(psi_identity_vkey(&id, vkey, sizeof vkey), 0);
    /* agency-a + 8 hex + base64 of 33 bytes (44 characters) */
    assert_int_equal(strlen(vkey), strlen("agency-a") + 1 + 8 + 1 + 44);
    assert_memory_equal(vkey, "agency-a+", 9);
    uint32_t key_id;
    assert_int_equal(psi_note_key_id(&key_id, "agency-a", id.public_key), 0);
    char hex[9];
    snprintf(hex, sizeof hex, "%08x", (unsigned)key_id);
    assert_memory_equal(vkey + 9, hex, 8);

    char name[65];
    unsigned char key[32];
    assert_int_equal(psi_vkey_parse(vkey, name, key), 0);
    assert_string_equal(name, "agency-a");
    assert_memory_equal(key, id.public_key, 32);

    /* a buffer too small */
    char small[20];
    assert_int_equal(psi_identity_vkey(&id, small, sizeof small), PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_identity_vkey(&id, NULL, 10), PSI_ERR_INVALID);
    assert_int_equal(psi_identity_vkey(NULL, vkey, sizeof vkey), PSI_ERR_INVALID);
    psi_identity_clear(&id);
}

static void test_vkey_parse_failures(void **state)
{
    (void)state;
    char name[65];
    unsigned char key[32];
    char spoiled[300];

    assert_int_equal(psi_vkey_parse("", name, key), PSI_ERR_PARSE);
    assert_int_equal(psi_vkey_parse("PeterNeumann", name, key), PSI_ERR_PARSE);
    assert_int_equal(psi_vkey_parse("PeterNeumann+c74f20a3", name, key), PSI_ERR_PARSE);
    assert_int_equal(psi_vkey_parse(GO_SKEY, name, key), PSI_ERR_PARSE);
    /* a key id that does not match */
    snprintf(spoiled, sizeof spoiled, "%s", GO_VKEY);
    spoiled[13] = 'd';
    assert_int_equal(psi_vkey_parse(spoiled, name, key), PSI_ERR_VERIFY);
    /* seven hex digits, a changed key byte, a trailing newline, cut base64 */
    snprintf(spoiled, sizeof spoiled, "PeterNeumann+c74f20a+%s", &GO_VKEY[22]);
    assert_int_equal(psi_vkey_parse(spoiled, name, key), PSI_ERR_PARSE);
    snprintf(spoiled, sizeof spoiled, "%s", GO_VKEY);
    spoiled[30] = spoiled[30] == 'A' ? 'B' : 'A';
    assert_int_equal(psi_vkey_parse(spoiled, name, key), PSI_ERR_VERIFY);
    snprintf(spoiled, sizeof spoiled, "%s\n", GO_VKEY);
    assert_int_equal(psi_vkey_parse(spoiled, name, key), PSI_ERR_PARSE);
    snprintf(spoiled, sizeof spoiled, "%.*s", (int)strlen(GO_VKEY) - 4, GO_VKEY);
    assert_int_equal(psi_vkey_parse(spoiled, name, key), PSI_ERR_PARSE);
    /* longer than any verifier key string */
    memset(spoiled, 'a', sizeof spoiled - 1);
    spoiled[sizeof spoiled - 1] = '\0';
    assert_int_equal(psi_vkey_parse(spoiled, name, key), PSI_ERR_TOO_LARGE);
    /* a valid note key whose name is no id: too long, or starting with '-' */
    unsigned char pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    const char *names[] = {"-dash",
                           "a-name-that-is-much-longer-than-sixty-four-bytes-which-is-the-limit"};
    for (size_t i = 0; i < 2; i++) {
        struct psi_note_verifier v;
        memset(&v, 0, sizeof v);
        snprintf(v.name, sizeof v.name, "%s", names[i]);
        memcpy(v.public_key, pk, 32);
        assert_int_equal(psi_note_key_id(&v.key_id, v.name, pk), 0);
        char text[PSI_NOTE_VERIFIER_KEY_MAX];
        size_t text_len;
        assert_int_equal(psi_note_verifier_format(text, sizeof text, &text_len, &v), 0);
        assert_int_equal(psi_vkey_parse(text, name, key), PSI_ERR_PARSE);
    }
    assert_int_equal(psi_vkey_parse(NULL, name, key), PSI_ERR_INVALID);
    assert_int_equal(psi_vkey_parse(GO_VKEY, NULL, key), PSI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_refuses_open_permissions),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_other_implementation),
        cmocka_unit_test(test_vkey_round_trip),
        cmocka_unit_test(test_vkey_parse_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
