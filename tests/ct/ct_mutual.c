/*
 * ct_mutual: constant time of the X25519 suite's secret paths, checked with
 * valgrind memcheck (tests/CMakeLists.txt runs it under valgrind when
 * valgrind is installed).
 *
 * The secrets (an indicator, a per-epoch key) are marked undefined with
 * VALGRIND_MAKE_MEM_UNDEFINED; memcheck then reports every conditional jump
 * and every memory index that depends on them. The paths checked:
 *   - psi_curve25519_hash_to_curve on a secret indicator (expand_message_xmd,
 *     hash_to_field, two Elligator 2 maps, the Edwards sum, the cofactor,
 *     the conversion to u): the project's own code, end to end;
 *   - X25519 (crypto_scalarmult) with a secret key on a public u, blinding
 *     and cross-blinding as the batches do it;
 *   - the tag's SHA-512 over a secret doubly blinded element.
 * The batches call X25519 through psi_x25519_many, whose libsodium path is
 * the crypto_scalarmult checked here; its eight-lane path (AVX-512 IFMA)
 * cannot run under valgrind, whose virtual CPU has no AVX-512, so memcheck
 * does not check it (docs/protocol.md says how it is kept constant time).
 * Not covered: X25519 with a secret u (H(x) at submission): libsodium
 * 1.0.18 tests the input against its small-order list and branches on the
 * answer, which memcheck reports although it reveals only "small order or
 * not" (never, for a hashed u). Validity checks of keys (canonical, non-zero)
 * branch on their verdict by design.
 *
 * `ct_mutual --control` branches on a secret byte on purpose: the ctest
 * ct_mutual_control expects memcheck to report it, which shows the check
 * can fail.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <valgrind/memcheck.h>

#include "psi/blind.h"
#include "psi/curve25519.h"
#include "psi/error.h"

static const unsigned char dst[] = PSI_MUTUAL_X25519_DST_HASH_TO_GROUP;

int main(int argc, char **argv)
{
    unsigned char indicator[] = "ipv4:203.0.113.7";
    unsigned char key[32], u[32], blinded[32], doubly[32], digest[64];
    struct psi_xmd_part part = {indicator, sizeof indicator - 1};
    crypto_hash_sha512_state st;
    int rc;

    if (sodium_init() < 0) {
        fputs("ct_mutual: libsodium failed to initialise\n", stderr);
        return 2;
    }
    randombytes_buf(key, sizeof key);
    VALGRIND_MAKE_MEM_UNDEFINED(indicator, sizeof indicator);
    VALGRIND_MAKE_MEM_UNDEFINED(key, sizeof key);

    if (argc > 1 && strcmp(argv[1], "--control") == 0) {
        /* A branch on a secret: memcheck must report it. */
        volatile int sink = 0;
        if (indicator[0] == 'i') {
            sink = 1;
        }
        return sink == 2;
    }

    rc = psi_curve25519_hash_to_curve(u, NULL, &part, 1, dst, sizeof dst - 1);
    /* rc depends on lengths only; u is secret. */
    if (rc != PSI_OK) {
        fprintf(stderr, "ct_mutual: hash failed: %d\n", rc);
        return 2;
    }

    /* X25519 with a secret key on a public element (another party's). */
    VALGRIND_MAKE_MEM_DEFINED(u, sizeof u);
    rc = crypto_scalarmult(blinded, key, u);
    VALGRIND_MAKE_MEM_DEFINED(&rc, sizeof rc); /* the all-zero verdict is public */
    if (rc != 0) {
        return 2;
    }
    VALGRIND_MAKE_MEM_DEFINED(blinded, sizeof blinded);
    rc = crypto_scalarmult(doubly, key, blinded);
    VALGRIND_MAKE_MEM_DEFINED(&rc, sizeof rc);
    if (rc != 0) {
        return 2;
    }

    /* The tag over the secret doubly blinded element. */
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, (const unsigned char *)PSI_MUTUAL_X25519_DST_TAG,
                              sizeof PSI_MUTUAL_X25519_DST_TAG - 1);
    crypto_hash_sha512_update(&st, doubly, sizeof doubly);
    crypto_hash_sha512_final(&st, digest);

    VALGRIND_MAKE_MEM_DEFINED(digest, sizeof digest);
    printf("ct_mutual: hash, X25519 and tag ran on secrets; tag %02x%02x...\n", digest[0],
           digest[1]);
    return 0;
}
