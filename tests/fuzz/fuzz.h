/*
 * What the fuzz targets (tests/fuzz/fuzz_*.c) and the seed generator
 * (gen_seeds.c) share: fixed test keys made from constant seeds, so that the
 * seeds gen_seeds writes (signed notes, sealed requests, receipts) open and
 * verify inside the targets and the fuzzer starts past the signature checks;
 * the names and labels those seeds use; and FUZZ_CHECK, which turns a broken
 * promise into a crash the fuzzer keeps.
 *
 * These keys are public by construction: never use them outside fuzzing.
 */
#ifndef PSI_FUZZ_H
#define PSI_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "identity.h"
#include "methods.h"
#include "psi/error.h"
#include "psi/merkle.h"
#include "psi/note.h"
#include "psi/oprf.h"

/* libFuzzer's entry points. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A promise of the code under test is broken: that is a finding, not a
 * harness error, so it crashes and libFuzzer keeps the input. */
#define FUZZ_CHECK(cond, promise)                                                                  \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: broken promise at %s:%d: %s\n", __FILE__, __LINE__, promise);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The parties of the fixture. The hub's key also signs the log (the hub's
 * name is the log's origin and its key name, as in psi.proto). */
enum fuzz_party {
    FUZZ_HUB = 0,
    FUZZ_AGENCY,
    FUZZ_VENDOR,
    FUZZ_AUDITOR,
    FUZZ_STRANGER, /* has a key, is never admitted */
};
#define FUZZ_PARTY_COUNT 5U

#define FUZZ_HUB_NAME "fuzz-hub"
#define FUZZ_LOG_ORIGIN FUZZ_HUB_NAME
#define FUZZ_EPOCH "E1"
#define FUZZ_VENDOR_NAME "vendor-v"

static inline const char *fuzz_party_name(enum fuzz_party who)
{
    switch (who) {
    case FUZZ_HUB: return FUZZ_HUB_NAME;
    case FUZZ_AGENCY: return "agency-a";
    case FUZZ_VENDOR: return FUZZ_VENDOR_NAME;
    case FUZZ_AUDITOR: return "auditor-1";
    case FUZZ_STRANGER: return "stranger";
    }
    abort();
}

static inline void fuzz_party_seed(unsigned char seed[32], enum fuzz_party who)
{
    memset(seed, 'A' + (int)who, 32);
}

/* The identity of a party, as psi_identity_generate would make it but from
 * the fixed seed (release with psi_identity_clear). Aborts if libsodium
 * cannot start: a broken harness must not look like a quiet pass. */
static inline void fuzz_identity(struct psi_identity *id, enum fuzz_party who)
{
    unsigned char seed[32];
    if (sodium_init() < 0)
        abort();
    memset(id, 0, sizeof *id);
    fuzz_party_seed(seed, who);
    id->secret_key = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (id->secret_key == NULL ||
        crypto_sign_seed_keypair(id->public_key, id->secret_key, seed) != 0)
        abort();
    snprintf(id->name, sizeof id->name, "%s", fuzz_party_name(who));
}

/* The log's signing key and its verifier (the hub's identity key). */
static inline void fuzz_log_signer(struct psi_note_signer *signer)
{
    unsigned char seed[32];
    fuzz_party_seed(seed, FUZZ_HUB);
    if (sodium_init() < 0 || psi_note_signer_from_seed(signer, FUZZ_LOG_ORIGIN, seed) != 0)
        abort();
}

static inline void fuzz_log_verifier(struct psi_note_verifier *verifier)
{
    struct psi_note_signer signer;
    fuzz_log_signer(&signer);
    psi_note_signer_verifier(verifier, &signer);
    psi_note_signer_wipe(&signer);
}

/* The request id every seed of a request or reply carries. */
static inline void fuzz_request_id(unsigned char id[16])
{
    memset(id, 'R', 16);
}

/* The vendor's VOPRF key pair of the fixture epoch (RFC 9497 DeriveKeyPair
 * from a fixed seed, info = the epoch, as psi.proto says vendors derive it):
 * feed filters are expected to carry its public key, and gen_seeds answers
 * query batches with it. */
static inline void fuzz_vendor_keypair(unsigned char sk[32], unsigned char pk[32])
{
    unsigned char seed[32];
    memset(seed, 'V', sizeof seed);
    if (sodium_init() < 0 ||
        psi_oprf_derive_keypair(PSI_OPRF_MODE_VOPRF, seed, (const unsigned char *)FUZZ_EPOCH,
                                strlen(FUZZ_EPOCH), sk, pk) != 0)
        abort();
}

static inline void fuzz_vendor_key(unsigned char key[32])
{
    unsigned char sk[32];
    fuzz_vendor_keypair(sk, key);
    sodium_memzero(sk, sizeof sk);
}

/* The methods of the catalogue (proto/methods.h) as fuzz_hub_request
 * chooses them (a record's first byte, modulo the count), and after them one
 * the hub does not know. A record is method, sender, body length (2 bytes,
 * big-endian), body. */
#define FUZZ_HUB_RECORD_HEADER 4U
#define FUZZ_HUB_REQUESTS_MAX 8U
#define FUZZ_HUB_UNKNOWN_METHOD "no.such.method"
#define FUZZ_HUB_METHOD_COUNT ((unsigned)PSI_METHOD_COUNT + 1U)
static inline const char *fuzz_hub_method(unsigned i)
{
    i %= FUZZ_HUB_METHOD_COUNT;
    return i < (unsigned)PSI_METHOD_COUNT ? psi_method_name((enum psi_method_id)i)
                                          : FUZZ_HUB_UNKNOWN_METHOD;
}

/* Leaf `index` of the made-up tree of fuzz_merkle_proof: the leaf hash of
 * the index as 8 big-endian bytes (a psi_merkle_reader callback). */
static inline int fuzz_merkle_leaf(void *ctx, uint64_t index, unsigned char hash[32])
{
    unsigned char entry[8];
    (void)ctx;
    for (int i = 0; i < 8; i++)
        entry[i] = (unsigned char)(index >> (56 - 8 * i));
    psi_merkle_leaf_hash(hash, entry, sizeof entry);
    return 0;
}

/* Where targets that need files make them: $TMPDIR (scripts/fuzz.sh points
 * it at a fresh directory, in memory when /dev/shm exists), else /tmp. */
static inline const char *fuzz_tmpdir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir != NULL && dir[0] != '\0' ? dir : "/tmp";
}

/* 0x01 || crypto_box_seal(plain) to the X25519 form of an Ed25519 key: a
 * frame as the envelope seals it, so that a target can hand the fuzzer's
 * bytes to the parser behind the seal. malloc'd; NULL on failure. */
static inline uint8_t *fuzz_seal(const unsigned char ed_key[32], const uint8_t *plain, size_t len,
                                 size_t *frame_len)
{
    unsigned char x_key[crypto_box_PUBLICKEYBYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(x_key, ed_key) != 0)
        abort();
    uint8_t *frame = malloc(1 + crypto_box_SEALBYTES + len);
    if (frame == NULL)
        return NULL;
    frame[0] = 0x01;
    if (crypto_box_seal(frame + 1, plain, len, x_key) != 0)
        abort();
    *frame_len = 1 + crypto_box_SEALBYTES + len;
    return frame;
}

#endif
