/* Fuzz target: every method of the hub as it receives it, through the whole
 * pipeline (psi_hub_handle: seal, roster, signature, freshness, replay,
 * retries, role, method, SQLite store). The hub lives in a temporary
 * directory for the life of the process, with the fixture agency, vendor and
 * auditor admitted and a query quota of the agency at the vendor. An input is a sequence of up to
 * FUZZ_HUB_REQUESTS_MAX requests (so that one input can upload, commit, then query: state a method
 * needs is made by the input itself), each a record (fuzz.h): the method (fuzz_hub_method), the
 * sender (low 3 bits, modulo the parties; the hub itself and the stranger are not admitted) with a
 * top bit that reuses the previous request id (a retry), the body's length (2 bytes, big-endian;
 * cut to what the input holds) and the body, which the sender signs and seals
 * as psi_request_seal does. Every reply must open as the hub's answer to its
 * request, and a refusal must say why (docs/protocol.md, guarantee 4). The hub's
 * store keeps what earlier inputs did, so a finding may need the inputs
 * before it: the corpus replays them. PSI_FUZZ_VERBOSE=1 prints every
 * answer, to see what a corpus reaches. */
#include <unistd.h>

#include "feeds.h"
#include "fuzz.h"
#include "hub.h"
#include "log.h"
#include "psi/error.h"

static struct psi_hub hub;
static struct psi_store *store;
static struct psi_identity party[FUZZ_PARTY_COUNT];

/* Admits a party and logs it, as `psi-hub admit` does. */
static void admit(struct psi_txn *t, enum fuzz_party who, const char *role)
{
    struct psi_store_participant p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "%s", party[who].name);
    snprintf(p.role, sizeof p.role, "%s", role);
    memcpy(p.public_key, party[who].public_key, 32);
    p.share_all = 1;
    if (hub.ops->participant_add(t, &p, psi_hub_now_ms()) != 0 ||
        psi_hub_log_roster(t, PSI_LOGENTRY_ADMIT, &p, psi_hub_now_ms(), NULL) != 0 ||
        psi_hub_log_seal(t, &hub.identity, NULL) != 0)
        abort();
}

/* A hub as `psi-hub init` and `psi-hub admit` leave it (with the fixture's
 * key, which they cannot be given), in a fresh directory under TMPDIR. */
static void hub_setup(void)
{
    static char dir[4096];
    char path[4200], err[256];
    struct psi_txn t;
    for (unsigned i = 0; i < FUZZ_PARTY_COUNT; i++)
        fuzz_identity(&party[i], (enum fuzz_party)i);
    snprintf(dir, sizeof dir, "%s/psi-fuzz-hub-XXXXXX", fuzz_tmpdir());
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof path, "%s/" PSI_HUB_KEY_FILE, dir);
    if (psi_identity_save(&party[FUZZ_HUB], path) != 0)
        abort();
    const struct psi_store_ops *ops = NULL;
    if (psi_store_in_dir(dir, PSI_STORE_DEFAULT_BACKEND, &ops, path, sizeof path, err,
                         sizeof err) != 0 ||
        ops->create(path, &store, err, sizeof err) != 0 ||
        psi_txn_begin(&t, ops, store, PSI_TXN_WRITE) != 0 ||
        ops->meta_set(&t, PSI_META_NAME, FUZZ_HUB_NAME) != 0 ||
        ops->meta_set(&t, PSI_META_EPOCH_MODE, "manual") != 0 ||
        ops->meta_set(&t, PSI_META_EPOCH_LABEL, FUZZ_EPOCH) != 0 ||
        ops->meta_set(&t, PSI_META_THRESHOLD, "2") != 0 ||
        ops->meta_set(&t, PSI_META_MAX_MESSAGE, "1048576") != 0 ||
        psi_hub_log_seal(&t, &party[FUZZ_HUB], NULL) != 0 || psi_txn_commit(&t) != 0)
        abort();
    ops->close(store);
    if (psi_hub_load(&hub, dir, err, sizeof err) != 0 ||
        psi_hub_connect(&hub, &store, err, sizeof err) != 0 ||
        psi_txn_begin(&t, hub.ops, store, PSI_TXN_WRITE) != 0) {
        fprintf(stderr, "fuzz: hub set-up failed: %s\n", err);
        abort();
    }
    admit(&t, FUZZ_AGENCY, "agency");
    admit(&t, FUZZ_VENDOR, "vendor");
    admit(&t, FUZZ_AUDITOR, "auditor");
    /* A query quota, as `psi-hub quota` sets it, so that queries reach the
     * vendor. */
    if (psi_feed_quota_set(&t, party[FUZZ_AGENCY].name, party[FUZZ_VENDOR].name, 1000000,
                           psi_hub_now_ms(), err, sizeof err) != 0 ||
        psi_hub_log_seal(&t, &hub.identity, NULL) != 0 || psi_txn_commit(&t) != 0) {
        fprintf(stderr, "fuzz: hub set-up failed: %s\n", err);
        abort();
    }
}

/* Sends one request and checks the answer. */
static void request(uint8_t method_byte, uint8_t sender_byte, const uint8_t *body, size_t len)
{
    static unsigned char request_id[PSI_REQUEST_ID_BYTES];
    const char *method = fuzz_hub_method(method_byte);
    const struct psi_identity *sender = &party[(sender_byte & 7) % FUZZ_PARTY_COUNT];
    if ((sender_byte & 0x80) == 0)
        randombytes_buf(request_id, sizeof request_id);
    uint8_t *frame = NULL, *reply = NULL;
    size_t frame_len = 0, reply_len = 0;
    if (psi_request_seal(sender, hub.identity.public_key, method, request_id, body, len, &frame,
                         &frame_len) != 0)
        abort();
    struct psi_hub_outcome outcome;
    int rc = psi_hub_handle(&hub, store, frame, frame_len, &reply, &reply_len, &outcome);
    free(frame);
    FUZZ_CHECK(rc == 0 && reply != NULL, "the hub answers every request");
    struct psi_reply r;
    rc = psi_reply_open(sender, hub.identity.public_key, request_id, reply, reply_len, &r);
    free(reply);
    FUZZ_CHECK(rc == 0, "the hub's reply opens as its answer to the request");
    FUZZ_CHECK(r.status == outcome.status, "the reply carries the status the hub logs");
    FUZZ_CHECK(r.status == 0 || r.error[0] != '\0', "a refusal says what was wrong");
    if (getenv("PSI_FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "%s from %s: %d %s\n", method, sender->name, r.status, r.error);
    psi_reply_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL)
        hub_setup();
    for (unsigned n = 0; n < FUZZ_HUB_REQUESTS_MAX && size >= FUZZ_HUB_RECORD_HEADER; n++) {
        size_t len = (size_t)data[2] << 8 | data[3];
        if (len > size - FUZZ_HUB_RECORD_HEADER)
            len = size - FUZZ_HUB_RECORD_HEADER;
        request(data[0], data[1], data + FUZZ_HUB_RECORD_HEADER, len);
        data += FUZZ_HUB_RECORD_HEADER + len;
        size -= FUZZ_HUB_RECORD_HEADER + len;
    }
    return 0;
}
