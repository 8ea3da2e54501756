/*
 * The hub under hostile input, over real sockets: a real psi-hub process
 * (init, admit, serve on a free loopback port) receives flipped, truncated,
 * replayed, oversized, stale and malformed frames, requests from strangers
 * and removed participants, and method calls that break the protocol's
 * rules. After each, the hub must still answer a well-formed request, and
 * the state in its store must be as it was (counted in the SQLite file).
 * Requests are built here from the envelope API and protobuf-c, and some by
 * hand from the wire format, never with the client binary.
 * PSI_KEEP=1 keeps the hub's directory (and its request log, hub.log).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <sodium.h>

#include "envelope.h"
#include "hub_process.h"
#include "wire.h"
#include "identity.h"
#include "psi.pb-c.h"
#include "psi/blind.h"
#include "psi/error.h"
#include "rpc.h"
#include "rpc_raw.h"

#define HUB_BIN PSI_BINARY_DIR "/server/psi-hub"
#define MAX_MESSAGE 65536
#define TIMEOUT_MS 5000

static struct {
    struct hub_test_hub hub;
    struct psi_identity a, b, r, stranger;
    char epoch[64];
} H;

/* ---------------------------------------------------------------- the process */

static int setup_group(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    char options[64];
    snprintf(options, sizeof options, "--max-message-bytes %d", MAX_MESSAGE);
    assert_int_equal(hub_test_hub_create(&H.hub, HUB_BIN, "hub-security", "test-hub", options), 0);
    assert_int_equal(psi_identity_generate(&H.a, "agency-a"), 0);
    assert_int_equal(psi_identity_generate(&H.b, "agency-b"), 0);
    assert_int_equal(psi_identity_generate(&H.r, "agency-r"), 0);
    assert_int_equal(psi_identity_generate(&H.stranger, "agency-x"), 0);
    const struct psi_identity *admitted[3] = {&H.a, &H.b, &H.r};
    for (int i = 0; i < 3; i++)
        assert_int_equal(hub_test_hub_admit(&H.hub, admitted[i], "agency", NULL), 0);
    assert_int_equal(hub_test_hub_serve(&H.hub, 4, NULL), 0);
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    psi_identity_clear(&H.a);
    psi_identity_clear(&H.b);
    psi_identity_clear(&H.r);
    psi_identity_clear(&H.stranger);
    return hub_test_hub_finish(&H.hub, 1);
}

/* ---------------------------------------------------------------- the state */

static struct hub_test_counts snapshot(void)
{
    struct hub_test_counts c;
    assert_int_equal(hub_test_counts_read(&H.hub, NULL, &c), 0);
    return c;
}

/* Every table as it was, the nonces (refusal bookkeeping) aside. */
static void assert_same(struct hub_test_counts x, struct hub_test_counts y)
{
    assert_int_equal(hub_test_counts_compare(&x, &y), 0);
}

/* ---------------------------------------------------------------- requests */

static int send_frame(const uint8_t *frame, size_t len, uint8_t **reply, size_t *reply_len)
{
    return psi_rpc_raw(H.hub.url, frame, len, reply, reply_len, TIMEOUT_MS);
}

static uint8_t *seal(const struct psi_identity *who, const unsigned char rid[16],
                     const char *method, const uint8_t *body, size_t body_len, size_t *len)
{
    uint8_t *frame = NULL;
    assert_int_equal(psi_request_seal(who, H.hub.hub_key, method, rid, body, body_len, &frame, len),
                     0);
    return frame;
}

/* Sends a frame and opens the reply as who; returns the hub's status. */
static int exchange(const struct psi_identity *who, const unsigned char rid[16],
                    const uint8_t *frame, size_t len, struct psi_reply *r)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    assert_int_equal(send_frame(frame, len, &reply, &reply_len), 0);
    memset(r, 0, sizeof *r);
    assert_int_equal(psi_reply_open(who, H.hub.hub_key, rid, reply, reply_len, r), 0);
    free(reply);
    return r->status;
}

/* One request with a fresh id; *r must be cleared by the caller. */
static int request(const struct psi_identity *who, const char *method, const uint8_t *body,
                   size_t body_len, struct psi_reply *r)
{
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    size_t len;
    uint8_t *frame = seal(who, rid, method, body, body_len, &len);
    int status = exchange(who, rid, frame, len, r);
    free(frame);
    return status;
}

static void expect_refusal(const struct psi_identity *who, const char *method, const uint8_t *body,
                           size_t body_len, int want, const char *needle)
{
    struct psi_reply r;
    int status = request(who, method, body, body_len, &r);
    if (status != want || strstr(r.error, needle) == NULL)
        fail_msg("%s: status %d '%s', want %d '%s'", method, status, r.error, want, needle);
    psi_reply_clear(&r);
}

/* The hub still answers a well-formed request: info and roster. */
static void hub_answers(void)
{
    struct psi_reply r;
    assert_int_equal(request(&H.a, "info", NULL, 0, &r), 0);
    Psi__HubInfo *info = psi__hub_info__unpack(NULL, r.body_len, r.body);
    assert_non_null(info);
    assert_string_equal(info->name, "test-hub");
    assert_int_equal(info->max_message_bytes, MAX_MESSAGE);
    assert_int_equal(info->threshold, 2);
    snprintf(H.epoch, sizeof H.epoch, "%s", info->epoch);
    psi__hub_info__free_unpacked(info, NULL);
    psi_reply_clear(&r);
    assert_int_equal(request(&H.b, "roster", NULL, 0, &r), 0);
    Psi__Roster *roster = psi__roster__unpack(NULL, r.body_len, r.body);
    assert_non_null(roster);
    assert_int_equal(roster->n_participants, 3);
    psi__roster__free_unpacked(roster, NULL);
    psi_reply_clear(&r);
}

static void upload_bytes(const struct psi_identity *who, const uint8_t upload_id[16],
                         const uint8_t *bytes, size_t len)
{
    for (size_t at = 0; at < len; at += 8192) {
        size_t n;
        uint8_t *body =
            hub_test_chunk_body(upload_id, at, bytes + at, len - at < 8192 ? len - at : 8192, &n);
        struct psi_reply r;
        assert_int_equal(request(who, "upload.chunk", body, n, &r), 0);
        psi_reply_clear(&r);
        free(body);
    }
}

static uint8_t *submit_body(const struct psi_identity *who, const char *epoch,
                            const uint8_t upload_id[16], const uint8_t *elements, uint64_t count,
                            size_t *len)
{
    static unsigned char digest[32], sig[64];
    hub_test_submission_digest(epoch, who->name, count, elements, digest);
    hub_test_submission_sign(who->secret_key, H.hub.hub_key, digest, sig);
    return hub_test_commit_body(upload_id, epoch, count, digest, sig, len);
}

/* A frame built by hand from the wire format (tests/support/wire.h). */
static uint8_t *craft(const struct psi_identity *who, const char *method, uint64_t timestamp_ms,
                      const uint8_t *body, size_t body_len, const uint8_t *raw_request,
                      size_t raw_len, const unsigned char rid[16], size_t *frame_len)
{
    uint8_t *frame = hub_test_craft(who, H.hub.hub_key, method, timestamp_ms, body, body_len,
                                    raw_request, raw_len, rid, frame_len);
    assert_non_null(frame);
    return frame;
}

static uint64_t now_ms(void)
{
    return hub_test_now_ms();
}

/* ---------------------------------------------------------------- the tests */

static void flipped_byte(void **state)
{
    (void)state;
    hub_answers();
    struct hub_test_counts before = snapshot();
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    size_t len;
    uint8_t *frame = seal(&H.a, rid, "info", NULL, 0, &len);
    size_t where[] = {0, 1, len / 2, len - 1};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        frame[where[i]] ^= 0x20;
        uint8_t *reply = NULL;
        size_t reply_len = 0;
        assert_int_equal(send_frame(frame, len, &reply, &reply_len), 0);
        assert_int_equal(reply[0], PSI_FRAME_PLAIN_ERROR);
        struct psi_reply r;
        assert_int_equal(psi_reply_open(&H.a, H.hub.hub_key, NULL, reply, reply_len, &r), 0);
        assert_int_not_equal(r.status, 0);
        assert_non_null(strstr(r.error, "malformed request"));
        psi_reply_clear(&r);
        free(reply);
        frame[where[i]] ^= 0x20;
    }
    free(frame);
    hub_answers();
    assert_same(before, snapshot());
}

static void replayed_frame(void **state)
{
    (void)state;
    struct hub_test_counts before = snapshot();
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    size_t len;
    uint8_t *frame = seal(&H.a, rid, "info", NULL, 0, &len);
    struct psi_reply r;
    assert_int_equal(exchange(&H.a, rid, frame, len, &r), 0);
    psi_reply_clear(&r);
    assert_int_equal(exchange(&H.a, rid, frame, len, &r), PSI_ERR_REPLAY);
    assert_string_equal(r.error, "replayed request");
    psi_reply_clear(&r);
    free(frame);
    hub_answers();
    assert_same(before, snapshot());
}

/* The same request id with a fresh nonce: the first reply, one submission. */
static void retried_commit(void **state)
{
    (void)state;
    hub_answers();
    struct hub_test_counts before = snapshot();
    uint8_t *elements = hub_test_elements(300), upload_id[16];
    randombytes_buf(upload_id, sizeof upload_id);
    upload_bytes(&H.a, upload_id, elements, (size_t)300 * 32);
    size_t n;
    uint8_t *body = submit_body(&H.a, H.epoch, upload_id, elements, 300, &n);
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    uint8_t *replies[2];
    size_t lens[2];
    for (int i = 0; i < 2; i++) {
        size_t len;
        uint8_t *frame = seal(&H.a, rid, "submit.commit", body, n, &len);
        struct psi_reply r;
        assert_int_equal(exchange(&H.a, rid, frame, len, &r), 0);
        replies[i] = malloc(r.body_len + 1);
        memcpy(replies[i], r.body, r.body_len);
        lens[i] = r.body_len;
        psi_reply_clear(&r);
        free(frame);
    }
    assert_int_equal(lens[0], lens[1]);
    assert_memory_equal(replies[0], replies[1], lens[0]);
    Psi__SubmitReceipt *receipt = psi__submit_receipt__unpack(NULL, lens[0], replies[0]);
    assert_non_null(receipt);
    assert_int_equal(receipt->position_base, 0);
    psi__submit_receipt__free_unpacked(receipt, NULL);
    struct hub_test_counts after = snapshot();
    assert_int_equal(after.submissions, before.submissions + 1);
    assert_int_equal(after.blocks, before.blocks + 1);
    assert_int_equal(after.uploads, before.uploads);
    free(replies[0]);
    free(replies[1]);
    free(body);
    free(elements);
    hub_answers();
}

static void unknown_key(void **state)
{
    (void)state;
    struct hub_test_counts before = snapshot();
    expect_refusal(&H.stranger, "info", NULL, 0, PSI_ERR_DENIED, "unknown participant 'agency-x'");
    /* a known id signed with another key */
    struct psi_identity impostor;
    assert_int_equal(psi_identity_generate(&impostor, "agency-a"), 0);
    expect_refusal(&impostor, "info", NULL, 0, PSI_ERR_VERIFY, "bad signature");
    psi_identity_clear(&impostor);
    hub_answers();
    assert_same(before, snapshot());
}

static void removed_participant(void **state)
{
    (void)state;
    struct psi_reply r;
    assert_int_equal(request(&H.r, "info", NULL, 0, &r), 0);
    psi_reply_clear(&r);
    assert_int_equal(
        hub_test_hub_command(&H.hub, NULL, 0, "remove --dir '%s' --id agency-r", H.hub.hub_dir), 0);
    struct hub_test_counts before = snapshot();
    expect_refusal(&H.r, "info", NULL, 0, PSI_ERR_DENIED, "participant 'agency-r' was removed");
    expect_refusal(&H.r, "work.list", NULL, 0, PSI_ERR_DENIED, "was removed");
    hub_answers();
    assert_same(before, snapshot());
}

static void results_of_another(void **state)
{
    (void)state;
    struct hub_test_counts before = snapshot();
    Psi__ResultsRequest m = PSI__RESULTS_REQUEST__INIT;
    m.participant = (char *)"agency-b";
    m.epoch = (char *)"";
    size_t n;
    uint8_t *body = hub_test_pack(&m.base, &n);
    expect_refusal(&H.a, "results", body, n, PSI_ERR_DENIED, "results of another participant");
    free(body);
    hub_answers();
    assert_same(before, snapshot());
}

static void oversized_message(void **state)
{
    (void)state;
    struct hub_test_counts before = snapshot();
    size_t len = MAX_MESSAGE + 1024;
    uint8_t *frame = malloc(len), *reply = NULL;
    randombytes_buf(frame, len);
    frame[0] = PSI_FRAME_SEALED;
    size_t reply_len = 0;
    int rc = psi_rpc_raw(H.hub.url, frame, len, &reply, &reply_len, 1500);
    print_message("oversized frame of %zu bytes: %s\n", len,
                  rc == 0 ? "answered" : psi_strerror(rc));
    if (rc == 0) { /* an error answer is also acceptable */
        assert_int_equal(reply[0], PSI_FRAME_PLAIN_ERROR);
        free(reply);
    } else {
        assert_true(rc == PSI_ERR_TIMEOUT || rc == PSI_ERR_NETWORK);
    }
    free(frame);
    hub_answers();
    assert_same(before, snapshot());
}

static void truncated_frame(void **state)
{
    (void)state;
    struct hub_test_counts before = snapshot();
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    size_t len;
    uint8_t *frame = seal(&H.a, rid, "info", NULL, 0, &len);
    const size_t cuts[] = {0, 1, 20, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        uint8_t *reply = NULL;
        size_t reply_len = 0;
        assert_int_equal(send_frame(frame, cuts[i], &reply, &reply_len), 0);
        assert_int_equal(reply[0], PSI_FRAME_PLAIN_ERROR);
        struct psi_reply r;
        assert_int_equal(psi_reply_open(&H.a, H.hub.hub_key, NULL, reply, reply_len, &r), 0);
        assert_int_not_equal(r.status, 0);
        psi_reply_clear(&r);
        free(reply);
    }
    free(frame);
    hub_answers();
    assert_same(before, snapshot());
}

static void malformed_inside(void **state)
{
    (void)state;
    struct hub_test_counts before = snapshot();
    /* a valid seal and signature around a body that is not a SubmitCommit */
    const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    expect_refusal(&H.a, "submit.commit", junk, sizeof junk, PSI_ERR_PARSE,
                   "malformed body of submit.commit");
    expect_refusal(&H.a, "upload.chunk", junk, sizeof junk, PSI_ERR_PARSE,
                   "malformed body of upload.chunk");
    /* a valid seal and signature around bytes that are not a Request */
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    size_t len;
    uint8_t *frame = craft(&H.a, "info", now_ms(), NULL, 0, junk, sizeof junk, rid, &len);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    assert_int_equal(send_frame(frame, len, &reply, &reply_len), 0);
    assert_int_equal(reply[0], PSI_FRAME_PLAIN_ERROR);
    struct psi_reply r;
    assert_int_equal(psi_reply_open(&H.a, H.hub.hub_key, NULL, reply, reply_len, &r), 0);
    assert_int_equal(r.status, PSI_ERR_PARSE);
    psi_reply_clear(&r);
    free(reply);
    free(frame);
    hub_answers();
    assert_same(before, snapshot());
}

static void wrong_epoch(void **state)
{
    (void)state;
    hub_answers();
    uint8_t *elements = hub_test_elements(10), upload_id[16];
    randombytes_buf(upload_id, sizeof upload_id);
    upload_bytes(&H.b, upload_id, elements, (size_t)10 * 32);
    struct hub_test_counts before = snapshot();
    size_t n;
    uint8_t *body = submit_body(&H.b, "1999-W01", upload_id, elements, 10, &n);
    char want[160];
    snprintf(want, sizeof want, "submission for epoch 1999-W01, current epoch is %s", H.epoch);
    expect_refusal(&H.b, "submit.commit", body, n, PSI_ERR_EPOCH, want);
    free(body);
    free(elements);
    hub_answers();
    assert_same(before, snapshot());
}

static void stale_timestamp(void **state)
{
    (void)state;
    struct hub_test_counts before = snapshot();
    const int64_t skews[] = {-400000, 400000};
    for (int i = 0; i < 2; i++) {
        unsigned char rid[16];
        randombytes_buf(rid, sizeof rid);
        size_t len;
        uint8_t *frame = craft(&H.a, "info", (uint64_t)((int64_t)now_ms() + skews[i]), NULL, 0,
                               NULL, 0, rid, &len);
        struct psi_reply r;
        assert_int_equal(exchange(&H.a, rid, frame, len, &r), PSI_ERR_STALE);
        assert_non_null(strstr(r.error, "timestamp"));
        psi_reply_clear(&r);
        free(frame);
    }
    /* the hand-made frame is accepted when its clock is right */
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    size_t len;
    uint8_t *frame = craft(&H.a, "info", now_ms(), NULL, 0, NULL, 0, rid, &len);
    struct psi_reply r;
    assert_int_equal(exchange(&H.a, rid, frame, len, &r), 0);
    psi_reply_clear(&r);
    free(frame);
    hub_answers();
    assert_same(before, snapshot());
}

static void crossblind_unknown_submission(void **state)
{
    (void)state;
    uint8_t tags[4 * 16], upload_id[16];
    randombytes_buf(tags, sizeof tags);
    randombytes_buf(upload_id, sizeof upload_id);
    upload_bytes(&H.b, upload_id, tags, sizeof tags);
    struct hub_test_counts before = snapshot();
    unsigned char fake_digest[32] = {0}, tag_digest[32], sig[64];
    hub_test_tag_digest(tags, 4, tag_digest);
    hub_test_crossblind_sign(H.b.secret_key, H.hub.hub_key, fake_digest, 4, tag_digest, sig);
    Psi__CrossBlindCommit m = PSI__CROSS_BLIND_COMMIT__INIT;
    m.upload_id.data = upload_id;
    m.upload_id.len = 16;
    m.submission_id = 424242;
    m.count = 4;
    m.tag_digest.data = tag_digest;
    m.tag_digest.len = 32;
    m.signature.data = sig;
    m.signature.len = 64;
    m.mutual_suite = psi_mutual_suite();
    size_t n;
    uint8_t *body = hub_test_pack(&m.base, &n);
    expect_refusal(&H.b, "crossblind.commit", body, n, PSI_ERR_NOT_FOUND, "no submission 424242");
    free(body);
    hub_answers();
    assert_same(before, snapshot());
}

static void invalid_point(void **state)
{
    (void)state;
    hub_answers();
    uint8_t *elements = hub_test_elements(50), upload_id[16];
    memset(elements + (size_t)37 * 32, 0xee, 32); /* not a canonical encoding */
    randombytes_buf(upload_id, sizeof upload_id);
    upload_bytes(&H.b, upload_id, elements, (size_t)50 * 32);
    struct hub_test_counts before = snapshot();
    size_t n;
    uint8_t *body = submit_body(&H.b, H.epoch, upload_id, elements, 50, &n);
    expect_refusal(&H.b, "submit.commit", body, n, PSI_ERR_ENCODING, "element 37 ");
    free(body);
    free(elements);
    hub_answers();
    assert_same(before, snapshot());
}

/* Many clients at once: reads and writes from several threads, each on its
 * own socket, all answered, none lost to a busy store. */
struct client_run {
    const struct psi_identity *who;
    int index, failures;
};

static void *client_thread(void *arg)
{
    struct client_run *run = arg;
    uint8_t upload_id[16], chunk[512];
    randombytes_buf(upload_id, sizeof upload_id);
    randombytes_buf(chunk, sizeof chunk);
    for (int i = 0; i < 20; i++) {
        struct psi_reply r;
        int status;
        if (i % 2 == 0) {
            status = request(run->who, "info", NULL, 0, &r);
        } else {
            size_t n;
            uint8_t *body = hub_test_chunk_body(upload_id, (uint64_t)(i / 2) * sizeof chunk, chunk,
                                                sizeof chunk, &n);
            status = request(run->who, "upload.chunk", body, n, &r);
            free(body);
        }
        if (status != 0)
            run->failures++;
        psi_reply_clear(&r);
    }
    return NULL;
}

static void concurrent_clients(void **state)
{
    (void)state;
    struct hub_test_counts before = snapshot();
    enum { THREADS = 6 };
    pthread_t threads[THREADS];
    struct client_run runs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        runs[t].who = t % 2 ? &H.a : &H.b;
        runs[t].index = t;
        runs[t].failures = 0;
        assert_int_equal(pthread_create(&threads[t], NULL, client_thread, &runs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
        assert_int_equal(runs[t].failures, 0);
    }
    struct hub_test_counts after = snapshot();
    assert_int_equal(after.uploads, before.uploads + THREADS);
    assert_int_equal(after.chunks, before.chunks + (long long)THREADS * 10);
    hub_answers();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flipped_byte),        cmocka_unit_test(replayed_frame),
        cmocka_unit_test(retried_commit),      cmocka_unit_test(unknown_key),
        cmocka_unit_test(removed_participant), cmocka_unit_test(results_of_another),
        cmocka_unit_test(oversized_message),   cmocka_unit_test(truncated_frame),
        cmocka_unit_test(malformed_inside),    cmocka_unit_test(wrong_epoch),
        cmocka_unit_test(stale_timestamp),     cmocka_unit_test(crossblind_unknown_submission),
        cmocka_unit_test(invalid_point),       cmocka_unit_test(concurrent_clients),
    };
    int failed = cmocka_run_group_tests(tests, setup_group, teardown_group);
    nng_fini(); /* let nng's threads free what they hold before the leak check */
    return failed;
}
