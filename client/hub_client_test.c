/*
 * Tests of the participant's calls to its hub (client/hub_client.c) against a
 * scripted hub: a REP socket in a thread that opens the client's sealed
 * requests with a real hub identity and answers as told, including the ways a
 * broken or hostile hub can answer. What is checked is what the commands rely
 * on: refusals come back as authentic refusals with the hub's status, answers
 * that are not the hub's or not well formed never reach a command, an upload
 * skips what the hub says it holds and refuses incoherent acknowledgements,
 * and a signed reply copied from another exchange is never taken as the
 * answer: the request is asked again, and a refusal that is not bound to it
 * never reaches a command as the hub's verdict.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <sodium.h>

#include "envelope.h"
#include "hub_client.h"
#include "identity.h"
#include "psi.pb-c.h"
#include "psi/error.h"
#include "scratch.h"
#include "wire.h"

/* chunk_bytes of the upload tests: at most 4 items of 32 bytes a chunk. */
#define CHUNK_4 ((size_t)4 * 32)

enum hub_mode {
    MODE_ACK,           /* acks exactly what it received */
    MODE_ACK_HOLDS_ALL, /* acks the whole upload at the first chunk */
    MODE_ACK_SHORT,     /* acks less than was sent */
    MODE_ACK_OTHER_ID,  /* acks another upload */
    MODE_REFUSE_EPOCH,  /* refuses every request with PSI_ERR_EPOCH */
    MODE_GARBAGE_BODY,  /* status 0 and a body that is no protobuf message */
    MODE_IMPOSTOR,      /* answers signed by another key */
    MODE_REPLAY_FIRST,  /* first answers with a copied plain error, then as MODE_ACK */
    MODE_REPLAY_ALWAYS, /* answers every request with a copied plain error */
};

struct fake_hub {
    nng_socket sock;
    pthread_t thread;
    struct psi_identity identity;
    struct psi_identity impostor;
    unsigned char client_key[32];
    enum hub_mode mode;
    int chunks; /* upload.chunk requests seen */
    char last_method[PSI_METHOD_MAX + 1];
    unsigned char last_request_id[PSI_REQUEST_ID_BYTES];
    /* what the replaying modes send: a signed plain error of another
     * exchange, as anyone on the path could have captured it */
    uint8_t *captured;
    size_t captured_len;
    int requests; /* requests seen since the test reset it */
    unsigned char nonces[2][PSI_NONCE_BYTES];
    unsigned char request_ids[2][PSI_REQUEST_ID_BYTES];
};

static struct fake_hub hub;
static struct psi_identity me;
static struct psi_state_config cfg;

static void answer(const struct psi_request *req)
{
    uint8_t *body = NULL, *frame = NULL;
    size_t body_len = 0, frame_len = 0;
    int status = 0;
    const char *error = "";
    const struct psi_identity *signer = &hub.identity;
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};

    snprintf(hub.last_method, sizeof hub.last_method, "%s", req->method);
    memcpy(hub.last_request_id, req->request_id, PSI_REQUEST_ID_BYTES);
    int n = hub.requests++;
    if (n < 2) {
        memcpy(hub.nonces[n], req->nonce, PSI_NONCE_BYTES);
        memcpy(hub.request_ids[n], req->request_id, PSI_REQUEST_ID_BYTES);
    }
    if (hub.mode == MODE_REPLAY_ALWAYS || (hub.mode == MODE_REPLAY_FIRST && n == 0)) {
        nng_send(hub.sock, hub.captured, hub.captured_len, 0);
        return;
    }
    if (hub.mode == MODE_REFUSE_EPOCH) {
        status = PSI_ERR_EPOCH;
        error = "submission for epoch e0, current epoch is e1";
    } else if (hub.mode == MODE_GARBAGE_BODY) {
        body = malloc(sizeof garbage);
        memcpy(body, garbage, sizeof garbage);
        body_len = sizeof garbage;
    } else if (strcmp(req->method, "upload.chunk") == 0) {
        Psi__UploadChunk *chunk = psi__upload_chunk__unpack(NULL, req->body_len, req->body);
        hub.chunks++;
        Psi__UploadAck ack = PSI__UPLOAD_ACK__INIT;
        unsigned char other[16] = {0};
        ack.upload_id = chunk->upload_id;
        ack.received = chunk->offset + chunk->items.len;
        if (hub.mode == MODE_ACK_HOLDS_ALL)
            ack.received = (uint64_t)10 * 32; /* the test uploads 10 items of 32 bytes */
        if (hub.mode == MODE_ACK_SHORT)
            ack.received = chunk->offset;
        if (hub.mode == MODE_ACK_OTHER_ID) {
            ack.upload_id.data = other;
            ack.upload_id.len = sizeof other;
        }
        body = hub_test_pack(&ack.base, &body_len);
        psi__upload_chunk__free_unpacked(chunk, NULL);
    } else {
        Psi__HubInfo info = PSI__HUB_INFO__INIT;
        info.name = (char *)"fake-hub";
        info.epoch = (char *)"e1";
        info.max_message_bytes = 1u << 20;
        info.max_chunk_elements = 4;
        info.threshold = 2;
        body = hub_test_pack(&info.base, &body_len);
    }
    if (hub.mode == MODE_IMPOSTOR)
        signer = &hub.impostor;
    if (psi_reply_seal(signer, hub.client_key, req->request_id, status, error, body, body_len,
                       &frame, &frame_len) == 0)
        nng_send(hub.sock, frame, frame_len, 0);
    free(frame);
    free(body);
}

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        void *frame = NULL;
        size_t len = 0;
        if (nng_recv(hub.sock, &frame, &len, NNG_FLAG_ALLOC) != 0)
            return NULL; /* closed */
        struct psi_request req;
        if (psi_request_open(&hub.identity, frame, len, &req) == 0) {
            answer(&req);
            psi_request_clear(&req);
        }
        nng_free(frame, len);
    }
}

static int setup(void **state)
{
    (void)state;
    memset(&hub, 0, sizeof hub);
    if (sodium_init() < 0 || psi_identity_generate(&hub.identity, "fake-hub") != 0 ||
        psi_identity_generate(&hub.impostor, "fake-hub") != 0 ||
        psi_identity_generate(&me, "agency-a") != 0)
        return -1;
    memcpy(hub.client_key, me.public_key, 32);
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.id, sizeof cfg.id, "agency-a");
    snprintf(cfg.hub_url, sizeof cfg.hub_url, "ipc://%s/psi-client-hub-test.%ld.sock",
             test_tmpdir(), (long)getpid());
    memcpy(cfg.hub_key, hub.identity.public_key, 32);
    if (nng_rep0_open(&hub.sock) != 0 || nng_listen(hub.sock, cfg.hub_url, NULL, 0) != 0)
        return -1;
    if (pthread_create(&hub.thread, NULL, serve, NULL) != 0)
        return -1;
    setenv(PSI_HUB_CLIENT_TIMEOUT_ENV, "2", 1);
    return 0;
}

/* A plain error the real hub signed for another request (other_id), or for
 * none (NULL: the hub could not read one): what a replayer would send. */
static void capture_plain_error(const unsigned char *other_id)
{
    free(hub.captured);
    hub.captured = NULL;
    assert_int_equal(psi_reply_seal(&hub.identity, NULL, other_id, PSI_ERR_EPOCH,
                                    "submission for epoch e0, current epoch is e1", NULL, 0,
                                    &hub.captured, &hub.captured_len),
                     0);
}

static int teardown(void **state)
{
    (void)state;
    nng_close(hub.sock);
    pthread_join(hub.thread, NULL);
    psi_identity_clear(&hub.identity);
    psi_identity_clear(&hub.impostor);
    psi_identity_clear(&me);
    free(hub.captured);
    return 0;
}

static struct psi_hub_client *open_client(void)
{
    struct psi_hub_client *c = NULL;
    struct psi_hub_failure f;
    assert_int_equal(psi_hub_client_open(&c, &me, &cfg, &f), 0);
    return c;
}

static void test_info_round_trip(void **state)
{
    (void)state;
    struct psi_hub_client *c = open_client();
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    hub.mode = MODE_ACK;
    assert_int_equal(psi_hub_client_call(c, "info", NULL, NULL, &psi__hub_info__descriptor,
                                         (ProtobufCMessage **)&info, &f),
                     0);
    assert_string_equal(info->epoch, "e1");
    assert_int_equal(info->max_chunk_elements, 4);
    assert_string_equal(hub.last_method, "info");
    protobuf_c_message_free_unpacked(&info->base, NULL);
    psi_hub_client_close(c);
}

static void test_request_id_is_the_callers(void **state)
{
    (void)state;
    struct psi_hub_client *c = open_client();
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    hub.mode = MODE_ACK;
    assert_int_equal(psi_hub_client_call(c, "info", rid, NULL, &psi__hub_info__descriptor,
                                         (ProtobufCMessage **)&info, &f),
                     0);
    assert_memory_equal(hub.last_request_id, rid, 16);
    protobuf_c_message_free_unpacked(&info->base, NULL);
    psi_hub_client_close(c);
}

static void test_refusal_is_authentic_and_final(void **state)
{
    (void)state;
    struct psi_hub_client *c = open_client();
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    hub.mode = MODE_REFUSE_EPOCH;
    assert_int_equal(psi_hub_client_call(c, "info", NULL, NULL, &psi__hub_info__descriptor,
                                         (ProtobufCMessage **)&info, &f),
                     PSI_ERR_EPOCH);
    assert_null(info);
    assert_int_equal(f.refused, 1);
    assert_int_equal(f.code, PSI_ERR_EPOCH);
    assert_non_null(strstr(f.text, "hub refused"));
    assert_non_null(strstr(f.text, "current epoch is e1"));
    assert_true(psi_hub_refusal_is_final(f.code));
    psi_hub_client_close(c);
}

static void test_refusal_classes(void **state)
{
    (void)state;
    /* The method's verdicts: the hub did not act, and will not. */
    assert_true(psi_hub_refusal_is_final(PSI_ERR_EPOCH));
    assert_true(psi_hub_refusal_is_final(PSI_ERR_VERIFY));
    assert_true(psi_hub_refusal_is_final(PSI_ERR_QUOTA));
    assert_true(psi_hub_refusal_is_final(PSI_ERR_PROTOCOL));
    /* The pipeline's: a retry may be answered from the stored reply. */
    assert_false(psi_hub_refusal_is_final(PSI_ERR_STALE));
    assert_false(psi_hub_refusal_is_final(PSI_ERR_REPLAY));
    assert_false(psi_hub_refusal_is_final(PSI_ERR_DENIED));
    assert_false(psi_hub_refusal_is_final(PSI_ERR_STORE));
    assert_false(psi_hub_refusal_is_final(PSI_ERR_TIMEOUT));
    assert_false(psi_hub_refusal_is_final(0));
}

static void test_malformed_answer_is_refused(void **state)
{
    (void)state;
    struct psi_hub_client *c = open_client();
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    hub.mode = MODE_GARBAGE_BODY;
    assert_int_equal(psi_hub_client_call(c, "info", NULL, NULL, &psi__hub_info__descriptor,
                                         (ProtobufCMessage **)&info, &f),
                     PSI_ERR_PROTOCOL);
    assert_null(info);
    assert_int_equal(f.refused, 0);
    assert_non_null(strstr(f.text, "malformed answer to info"));
    psi_hub_client_close(c);
}

static void test_impostor_is_not_the_hub(void **state)
{
    (void)state;
    struct psi_hub_client *c = open_client();
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    hub.mode = MODE_IMPOSTOR;
    int rc = psi_hub_client_call(c, "info", NULL, NULL, &psi__hub_info__descriptor,
                                 (ProtobufCMessage **)&info, &f);
    assert_int_not_equal(rc, 0);
    assert_null(info);
    assert_int_equal(f.refused, 0);
    assert_non_null(strstr(f.text, "expected hub key"));
    psi_hub_client_close(c);
}

/* A copied plain error, bound to another request or to none, is a lost
 * reply: asked again under the same request id with a fresh nonce, and the
 * hub's real answer is taken. */
static void test_copied_plain_error_is_retried(void **state)
{
    (void)state;
    unsigned char other[PSI_REQUEST_ID_BYTES];
    randombytes_buf(other, sizeof other);
    for (int unbound = 0; unbound < 2; unbound++) {
        capture_plain_error(unbound ? NULL : other);
        struct psi_hub_client *c = open_client();
        struct psi_hub_failure f;
        Psi__HubInfo *info = NULL;
        unsigned char rid[PSI_REQUEST_ID_BYTES];
        randombytes_buf(rid, sizeof rid);
        hub.mode = MODE_REPLAY_FIRST;
        hub.requests = 0;
        assert_int_equal(psi_hub_client_call(c, "info", rid, NULL, &psi__hub_info__descriptor,
                                             (ProtobufCMessage **)&info, &f),
                         0);
        assert_string_equal(info->epoch, "e1");
        assert_int_equal(hub.requests, 2);
        assert_memory_equal(hub.request_ids[0], rid, sizeof rid);
        assert_memory_equal(hub.request_ids[1], rid, sizeof rid);
        assert_memory_not_equal(hub.nonces[0], hub.nonces[1], PSI_NONCE_BYTES);
        protobuf_c_message_free_unpacked(&info->base, NULL);
        psi_hub_client_close(c);
    }
}

/* Only copies come: the call fails as a transport failure, never as the
 * hub's refusal (which a command would record as final). */
static void test_copied_plain_error_is_no_refusal(void **state)
{
    (void)state;
    capture_plain_error(NULL);
    struct psi_hub_client *c = open_client();
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    hub.mode = MODE_REPLAY_ALWAYS;
    hub.requests = 0;
    int rc = psi_hub_client_call(c, "info", NULL, NULL, &psi__hub_info__descriptor,
                                 (ProtobufCMessage **)&info, &f);
    assert_int_equal(rc, PSI_ERR_NETWORK);
    assert_null(info);
    assert_int_equal(f.refused, 0);
    assert_int_not_equal(f.code, PSI_ERR_EPOCH);
    assert_null(strstr(f.text, "hub refused"));
    assert_non_null(strstr(f.text, "another request"));
    assert_int_equal(hub.requests, 3); /* the first send and the two retries */
    psi_hub_client_close(c);
}

static void test_upload_in_chunks(void **state)
{
    (void)state;
    struct psi_hub_client *c = open_client();
    struct psi_hub_failure f;
    unsigned char id[16] = {1}, items[10 * 32];
    randombytes_buf(items, sizeof items);
    hub.mode = MODE_ACK;
    hub.chunks = 0;
    /* 10 items, 4 a chunk: 3 chunks */
    assert_int_equal(psi_hub_client_upload(c, id, items, sizeof items, 32, CHUNK_4, NULL, &f), 0);
    assert_int_equal(hub.chunks, 3);
    /* The hub holds it all already: one chunk is enough to learn it. */
    hub.mode = MODE_ACK_HOLDS_ALL;
    hub.chunks = 0;
    assert_int_equal(psi_hub_client_upload(c, id, items, sizeof items, 32, CHUNK_4, NULL, &f), 0);
    assert_int_equal(hub.chunks, 1);
    psi_hub_client_close(c);
}

static void test_upload_refuses_incoherent_acks(void **state)
{
    (void)state;
    struct psi_hub_client *c = open_client();
    struct psi_hub_failure f;
    unsigned char id[16] = {2}, items[10 * 32] = {0};
    hub.mode = MODE_ACK_SHORT;
    assert_int_equal(psi_hub_client_upload(c, id, items, sizeof items, 32, CHUNK_4, NULL, &f),
                     PSI_ERR_PROTOCOL);
    assert_non_null(strstr(f.text, "incoherently"));
    hub.mode = MODE_ACK_OTHER_ID;
    assert_int_equal(psi_hub_client_upload(c, id, items, sizeof items, 32, CHUNK_4, NULL, &f),
                     PSI_ERR_PROTOCOL);
    /* Sizes that do not fit items are refused before anything is sent. */
    hub.chunks = 0;
    assert_int_equal(psi_hub_client_upload(c, id, items, 33, 32, CHUNK_4, NULL, &f),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_hub_client_upload(c, id, items, 64, 32, 16, NULL, &f), PSI_ERR_INVALID);
    assert_int_equal(hub.chunks, 0);
    psi_hub_client_close(c);
}

static void test_request_larger_than_hub_allows(void **state)
{
    (void)state;
    struct psi_hub_client *c = open_client();
    struct psi_hub_failure f;
    unsigned char id[16] = {3}, items[64 * 32] = {0};
    psi_hub_client_set_max_message(c, 1024);
    hub.chunks = 0;
    assert_int_equal(psi_hub_client_upload(c, id, items, sizeof items, 32, sizeof items, NULL, &f),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(hub.chunks, 0);
    assert_non_null(strstr(f.text, "exceeds the hub's 1024 bytes"));
    psi_hub_client_close(c);
}

static void test_timeout_setting(void **state)
{
    (void)state;
    struct psi_hub_client *c = NULL;
    struct psi_hub_failure f;
    setenv(PSI_HUB_CLIENT_TIMEOUT_ENV, "soon", 1);
    assert_int_equal(psi_hub_client_open(&c, &me, &cfg, &f), PSI_ERR_INVALID);
    assert_null(c);
    assert_non_null(strstr(f.text, "PSI_HUB_TIMEOUT"));
    setenv(PSI_HUB_CLIENT_TIMEOUT_ENV, "0", 1);
    assert_int_equal(psi_hub_client_open(&c, &me, &cfg, &f), PSI_ERR_INVALID);
    setenv(PSI_HUB_CLIENT_TIMEOUT_ENV, "2", 1);
}

static void test_nobody_there(void **state)
{
    (void)state;
    struct psi_hub_client *c = NULL;
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    struct psi_state_config nowhere = cfg;
    snprintf(nowhere.hub_url, sizeof nowhere.hub_url, "ipc://%s/psi-client-nobody.%ld.sock",
             test_tmpdir(), (long)getpid());
    setenv(PSI_HUB_CLIENT_TIMEOUT_ENV, "1", 1);
    assert_int_equal(psi_hub_client_open(&c, &me, &nowhere, &f), 0);
    int rc = psi_hub_client_call(c, "info", NULL, NULL, &psi__hub_info__descriptor,
                                 (ProtobufCMessage **)&info, &f);
    assert_true(rc == PSI_ERR_TIMEOUT || rc == PSI_ERR_NETWORK);
    assert_int_equal(f.refused, 0);
    assert_non_null(strstr(f.text, nowhere.hub_url));
    psi_hub_client_close(c);
    setenv(PSI_HUB_CLIENT_TIMEOUT_ENV, "2", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_round_trip),
        cmocka_unit_test(test_request_id_is_the_callers),
        cmocka_unit_test(test_refusal_is_authentic_and_final),
        cmocka_unit_test(test_refusal_classes),
        cmocka_unit_test(test_malformed_answer_is_refused),
        cmocka_unit_test(test_impostor_is_not_the_hub),
        cmocka_unit_test(test_copied_plain_error_is_retried),
        cmocka_unit_test(test_copied_plain_error_is_no_refusal),
        cmocka_unit_test(test_upload_in_chunks),
        cmocka_unit_test(test_upload_refuses_incoherent_acks),
        cmocka_unit_test(test_request_larger_than_hub_allows),
        cmocka_unit_test(test_timeout_setting),
        cmocka_unit_test(test_nobody_there),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    nng_fini(); /* let nng's threads free what they hold before the leak check */
    return failed;
}
