/*
 * Tests of the request transport against a tiny hub started here: an nng REP
 * socket on a loopback port, served by a thread that opens requests with the
 * envelope and answers as a test asks (echo, stay silent once, refuse, sign
 * with the wrong key, ...).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>
#include <sodium.h>

#include "envelope.h"
#include "identity.h"
#include "psi/error.h"
#include "rpc.h"
#include "rpc_raw.h"

enum behaviour {
    ECHO,        /* answer every request with its body */
    SILENT_ONCE, /* drop the first request, then echo */
    SILENT,      /* never answer */
    REFUSE,      /* a plain error, as for an unknown participant */
    WRONG_KEY,   /* a reply signed by a key that is not the hub's */
    RAW_ECHO,    /* send the frame back as it came */
    REPLAY_ONCE, /* call the first request a replay (as after nng's own resend), then echo */
};

#define SEEN_MAX 8

struct hub {
    nng_socket socket;
    nng_thread *thread;
    nng_mtx *lock;
    char url[64];
    enum behaviour behaviour;
    struct psi_identity identity, impostor;
    const struct psi_identity *client;
    /* what arrived, under lock */
    size_t seen;
    unsigned char request_ids[SEEN_MAX][PSI_REQUEST_ID_BYTES];
    unsigned char nonces[SEEN_MAX][PSI_NONCE_BYTES];
    char methods[SEEN_MAX][PSI_METHOD_MAX + 1];
    int verified[SEEN_MAX];
};

struct fixture {
    struct hub hub;
    struct psi_identity client;
};

static void answer(struct hub *h, const uint8_t *frame, size_t len)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    if (h->behaviour == RAW_ECHO) {
        nng_send(h->socket, (void *)frame, len, 0);
        return;
    }
    struct psi_request req;
    int rc = psi_request_open(&h->identity, frame, len, &req);
    if (rc != 0) {
        if (psi_reply_seal(&h->identity, NULL, NULL, rc, "cannot open the request", NULL, 0, &reply,
                           &reply_len) == 0)
            nng_send(h->socket, reply, reply_len, 0);
        free(reply);
        return;
    }
    int verified = psi_request_verify(&req, h->client->public_key) == 0;
    nng_mtx_lock(h->lock);
    size_t n = h->seen++;
    if (n < SEEN_MAX) {
        memcpy(h->request_ids[n], req.request_id, PSI_REQUEST_ID_BYTES);
        memcpy(h->nonces[n], req.nonce, PSI_NONCE_BYTES);
        memcpy(h->methods[n], req.method, sizeof h->methods[n]);
        h->verified[n] = verified;
    }
    nng_mtx_unlock(h->lock);

    switch (h->behaviour) {
    case SILENT: break;
    case REPLAY_ONCE:
        if (n == 0) {
            rc = psi_reply_seal(&h->identity, h->client->public_key, req.request_id, PSI_ERR_REPLAY,
                                "replayed request", NULL, 0, &reply, &reply_len);
            break;
        }
        rc = psi_reply_seal(&h->identity, h->client->public_key, req.request_id, 0, NULL, req.body,
                            req.body_len, &reply, &reply_len);
        break;
    case SILENT_ONCE:
        if (n == 0)
            break;
        /* fall through */
    case ECHO:
        rc = psi_reply_seal(&h->identity, h->client->public_key, req.request_id, 0, NULL, req.body,
                            req.body_len, &reply, &reply_len);
        break;
    case REFUSE:
        rc = psi_reply_seal(&h->identity, NULL, req.request_id, PSI_ERR_NOT_FOUND,
                            "unknown participant 'x'", NULL, 0, &reply, &reply_len);
        break;
    case WRONG_KEY:
        rc = psi_reply_seal(&h->impostor, h->client->public_key, req.request_id, 0, NULL, req.body,
                            req.body_len, &reply, &reply_len);
        break;
    case RAW_ECHO: break;
    }
    if (reply != NULL && rc == 0)
        nng_send(h->socket, reply, reply_len, 0);
    free(reply);
    psi_request_clear(&req);
}

static void serve(void *arg)
{
    struct hub *h = arg;
    for (;;) {
        void *frame = NULL;
        size_t len = 0;
        int rc = nng_recv(h->socket, &frame, &len, NNG_FLAG_ALLOC);
        if (rc == NNG_ECLOSED)
            return;
        if (rc != 0)
            continue;
        answer(h, frame, len);
        nng_free(frame, len);
    }
}

static void hub_start(struct hub *h, enum behaviour behaviour)
{
    h->behaviour = behaviour;
    h->seen = 0;
    assert_int_equal(nng_rep0_open(&h->socket), 0);
    nng_listener listener;
    assert_int_equal(nng_listen(h->socket, "tcp://127.0.0.1:0", &listener, 0), 0);
    nng_sockaddr addr;
    assert_int_equal(nng_listener_get_addr(listener, NNG_OPT_LOCADDR, &addr), 0);
    snprintf(h->url, sizeof h->url, "tcp://127.0.0.1:%u", (unsigned)ntohs(addr.s_in.sa_port));
    assert_int_equal(nng_thread_create(&h->thread, serve, h), 0);
}

static void hub_stop(struct hub *h)
{
    nng_close(h->socket); /* the serving thread's recv returns NNG_ECLOSED */
    nng_thread_destroy(h->thread);
}

static size_t hub_seen(struct hub *h)
{
    nng_mtx_lock(h->lock);
    size_t n = h->seen;
    nng_mtx_unlock(h->lock);
    return n;
}

/* A loopback address where nothing listens: a port the kernel handed out,
 * then closed again. */
static void unused_url(char *url, size_t len)
{
    nng_socket s;
    nng_listener l;
    nng_sockaddr addr;
    assert_int_equal(nng_rep0_open(&s), 0);
    assert_int_equal(nng_listen(s, "tcp://127.0.0.1:0", &l, 0), 0);
    assert_int_equal(nng_listener_get_addr(l, NNG_OPT_LOCADDR, &addr), 0);
    snprintf(url, len, "tcp://127.0.0.1:%u", (unsigned)ntohs(addr.s_in.sa_port));
    nng_close(s);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL || nng_mtx_alloc(&f->hub.lock) != 0 ||
        psi_identity_generate(&f->hub.identity, "hub") != 0 ||
        psi_identity_generate(&f->hub.impostor, "impostor") != 0 ||
        psi_identity_generate(&f->client, "agency-a") != 0)
        return -1;
    f->hub.client = &f->client;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    psi_identity_clear(&f->hub.identity);
    psi_identity_clear(&f->hub.impostor);
    psi_identity_clear(&f->client);
    nng_mtx_free(f->hub.lock);
    free(f);
    return 0;
}

static struct psi_rpc *connect_to(struct fixture *f, const char *url, unsigned timeout_ms)
{
    struct psi_rpc *rpc = NULL;
    char err[256];
    assert_int_equal(psi_rpc_open(&rpc, url, &f->client, f->hub.identity.public_key, timeout_ms,
                                  err, sizeof err),
                     0);
    assert_non_null(rpc);
    return rpc;
}

/* ------------------------------------------------------------ tests */

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    hub_start(&f->hub, ECHO);
    struct psi_rpc *rpc = connect_to(f, f->hub.url, 5000);
    const uint8_t body[] = "blinded elements";
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    char err[256];
    assert_int_equal(
        psi_rpc_call(rpc, "upload.chunk", body, sizeof body, &reply, &reply_len, err, sizeof err),
        0);
    assert_string_equal(err, "");
    assert_int_equal(reply_len, sizeof body);
    assert_memory_equal(reply, body, sizeof body);
    free(reply);
    /* a second call on the same handle, empty body, new request id */
    assert_int_equal(psi_rpc_call(rpc, "info", NULL, 0, &reply, &reply_len, err, sizeof err), 0);
    assert_non_null(reply);
    assert_int_equal(reply_len, 0);
    free(reply);
    assert_int_equal(hub_seen(&f->hub), 2);
    assert_string_equal(f->hub.methods[0], "upload.chunk");
    assert_string_equal(f->hub.methods[1], "info");
    assert_true(f->hub.verified[0] && f->hub.verified[1]);
    assert_memory_not_equal(f->hub.request_ids[0], f->hub.request_ids[1], PSI_REQUEST_ID_BYTES);
    psi_rpc_close(rpc);
    hub_stop(&f->hub);
}

static void test_refused_when_nothing_listens(void **state)
{
    struct fixture *f = *state;
    char url[64];
    unused_url(url, sizeof url);
    struct psi_rpc *rpc = connect_to(f, url, 5000);
    uint8_t *reply = (uint8_t *)"untouched";
    size_t reply_len = 7;
    char err[256];
    nng_time start = nng_clock();
    assert_int_equal(psi_rpc_call(rpc, "info", NULL, 0, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_NETWORK);
    nng_time took = nng_clock() - start;
    assert_null(reply);
    assert_int_equal(reply_len, 0);
    /* refused at once, not after the 5 s timeout, nor after retries */
    assert_true(took < 1000);
    assert_true(psi_rpc_unreachable(rpc));
    char want[128];
    snprintf(want, sizeof want, "cannot reach the hub at %s: connection refused", url);
    assert_string_equal(err, want);
    psi_rpc_close(rpc);
}

struct wait_seen {
    unsigned waiting, done, last_ms;
};

static void count_wait(void *arg, unsigned waited_ms, int done)
{
    struct wait_seen *w = arg;
    if (done)
        w->done++;
    else
        w->waiting++;
    w->last_ms = waited_ms;
}

/* A connected hub that does not answer: the wait is reported once a second,
 * then once as over; a hub that answers at once reports nothing. */
static void test_wait_is_reported(void **state)
{
    struct fixture *f = *state;
    hub_start(&f->hub, SILENT);
    struct psi_rpc *rpc = connect_to(f, f->hub.url, 2600);
    psi_rpc_set_retries(rpc, 0);
    struct wait_seen w = {0, 0, 0};
    psi_rpc_set_wait_report(rpc, count_wait, &w);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    char err[256];
    assert_int_equal(psi_rpc_call(rpc, "info", NULL, 0, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_TIMEOUT);
    assert_false(psi_rpc_unreachable(rpc));
    assert_int_equal(w.waiting, 2);
    assert_int_equal(w.done, 1);
    assert_true(w.last_ms >= 2500);
    psi_rpc_close(rpc);
    hub_stop(&f->hub);

    hub_start(&f->hub, ECHO);
    rpc = connect_to(f, f->hub.url, 5000);
    memset(&w, 0, sizeof w);
    psi_rpc_set_wait_report(rpc, count_wait, &w);
    assert_int_equal(psi_rpc_call(rpc, "info", NULL, 0, &reply, &reply_len, err, sizeof err), 0);
    free(reply);
    assert_int_equal(w.waiting + w.done, 0);
    psi_rpc_close(rpc);
    hub_stop(&f->hub);
}

static void test_retry_keeps_request_id(void **state)
{
    struct fixture *f = *state;
    hub_start(&f->hub, SILENT_ONCE);
    struct psi_rpc *rpc = connect_to(f, f->hub.url, 400);
    unsigned char request_id[PSI_REQUEST_ID_BYTES];
    randombytes_buf(request_id, sizeof request_id);
    const uint8_t body[] = {1, 2, 3, 4};
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    char err[256];
    assert_int_equal(psi_rpc_call_id(rpc, request_id, "submit.commit", body, sizeof body, &reply,
                                     &reply_len, err, sizeof err),
                     0);
    assert_int_equal(reply_len, sizeof body);
    assert_memory_equal(reply, body, sizeof body);
    free(reply);
    assert_int_equal(hub_seen(&f->hub), 2);
    /* the same logical request, but a fresh nonce: a retry, not a replay */
    assert_memory_equal(f->hub.request_ids[0], request_id, PSI_REQUEST_ID_BYTES);
    assert_memory_equal(f->hub.request_ids[1], request_id, PSI_REQUEST_ID_BYTES);
    assert_memory_not_equal(f->hub.nonces[0], f->hub.nonces[1], PSI_NONCE_BYTES);
    assert_true(f->hub.verified[0] && f->hub.verified[1]);
    psi_rpc_close(rpc);
    hub_stop(&f->hub);
}

/* A replay refusal of our own fresh nonce means nng re-sent the frame: the
 * client asks again under the same request id, with a new nonce. */
static void test_replay_refusal_is_retried(void **state)
{
    struct fixture *f = *state;
    hub_start(&f->hub, REPLAY_ONCE);
    struct psi_rpc *rpc = connect_to(f, f->hub.url, 2000);
    unsigned char request_id[PSI_REQUEST_ID_BYTES];
    randombytes_buf(request_id, sizeof request_id);
    const uint8_t body[] = {9, 8, 7};
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    char err[256];
    assert_int_equal(psi_rpc_call_id(rpc, request_id, "submit.commit", body, sizeof body, &reply,
                                     &reply_len, err, sizeof err),
                     0);
    assert_int_equal(reply_len, sizeof body);
    free(reply);
    assert_int_equal(hub_seen(&f->hub), 2);
    assert_memory_equal(f->hub.request_ids[1], request_id, PSI_REQUEST_ID_BYTES);
    assert_memory_not_equal(f->hub.nonces[0], f->hub.nonces[1], PSI_NONCE_BYTES);

    /* with no retries left the refusal is reported as the hub said it */
    hub_stop(&f->hub);
    psi_rpc_close(rpc);
    hub_start(&f->hub, REPLAY_ONCE);
    rpc = connect_to(f, f->hub.url, 2000);
    psi_rpc_set_retries(rpc, 0);
    assert_int_equal(psi_rpc_call(rpc, "info", NULL, 0, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_REPLAY);
    assert_null(reply);
    psi_rpc_close(rpc);
    hub_stop(&f->hub);
}

static void test_silent_hub_times_out_after_retries(void **state)
{
    struct fixture *f = *state;
    hub_start(&f->hub, SILENT);
    struct psi_rpc *rpc = connect_to(f, f->hub.url, 200);
    psi_rpc_set_retries(rpc, 2);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    char err[256];
    nng_time start = nng_clock();
    assert_int_equal(psi_rpc_call(rpc, "info", NULL, 0, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_TIMEOUT);
    nng_time took = nng_clock() - start;
    assert_true(took >= 550 && took < 3000);
    assert_null(reply);
    char want[128];
    snprintf(want, sizeof want, "hub %s did not answer within 200 ms (3 attempts)", f->hub.url);
    assert_string_equal(err, want);
    assert_int_equal(hub_seen(&f->hub), 3);
    assert_memory_equal(f->hub.request_ids[0], f->hub.request_ids[2], PSI_REQUEST_ID_BYTES);

    /* no retries: one attempt, said in the simplest words */
    psi_rpc_set_retries(rpc, 0);
    assert_int_equal(psi_rpc_call(rpc, "info", NULL, 0, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_TIMEOUT);
    snprintf(want, sizeof want, "hub %s did not answer within 200 ms", f->hub.url);
    assert_string_equal(err, want);
    assert_int_equal(hub_seen(&f->hub), 4);
    psi_rpc_close(rpc);
    hub_stop(&f->hub);
}

static void test_hub_refusal(void **state)
{
    struct fixture *f = *state;
    hub_start(&f->hub, REFUSE);
    struct psi_rpc *rpc = connect_to(f, f->hub.url, 5000);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    char err[256];
    assert_int_equal(psi_rpc_call(rpc, "roster", NULL, 0, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_NOT_FOUND);
    assert_string_equal(err, "hub refused: unknown participant 'x'");
    assert_null(reply);
    /* refused at once: no retries */
    assert_int_equal(hub_seen(&f->hub), 1);
    psi_rpc_close(rpc);
    hub_stop(&f->hub);
}

static void test_reply_from_wrong_key(void **state)
{
    struct fixture *f = *state;
    hub_start(&f->hub, WRONG_KEY);
    struct psi_rpc *rpc = connect_to(f, f->hub.url, 5000);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    char err[256];
    assert_int_equal(
        psi_rpc_call(rpc, "info", (const uint8_t *)"x", 1, &reply, &reply_len, err, sizeof err),
        PSI_ERR_NETWORK);
    assert_null(reply);
    assert_non_null(strstr(err, "not signed by the expected hub key"));
    assert_non_null(strstr(err, f->hub.url));
    psi_rpc_close(rpc);

    /* a client that trusts another hub key: its request is sealed to that
     * key, which this hub cannot open; the hub's plain error is then not
     * signed by the key the client expects */
    struct psi_rpc *confused = NULL;
    assert_int_equal(psi_rpc_open(&confused, f->hub.url, &f->client, f->hub.impostor.public_key,
                                  5000, err, sizeof err),
                     0);
    assert_int_equal(psi_rpc_call(confused, "info", NULL, 0, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_NETWORK);
    assert_non_null(strstr(err, "not signed by the expected hub key"));
    psi_rpc_close(confused);
    hub_stop(&f->hub);
}

static void test_raw_frames(void **state)
{
    struct fixture *f = *state;
    hub_start(&f->hub, RAW_ECHO);
    const uint8_t frame[] = {0x01, 0xde, 0xad, 0xbe, 0xef};
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    assert_int_equal(psi_rpc_raw(f->hub.url, frame, sizeof frame, &reply, &reply_len, 5000), 0);
    assert_int_equal(reply_len, sizeof frame);
    assert_memory_equal(reply, frame, sizeof frame);
    free(reply);
    /* an empty frame is sendable too */
    assert_int_equal(psi_rpc_raw(f->hub.url, NULL, 0, &reply, &reply_len, 5000), 0);
    assert_int_equal(reply_len, 0);
    assert_non_null(reply);
    free(reply);
    hub_stop(&f->hub);

    /* a real hub answers garbage with a signed plain error */
    hub_start(&f->hub, ECHO);
    assert_int_equal(psi_rpc_raw(f->hub.url, frame, sizeof frame, &reply, &reply_len, 5000), 0);
    assert_true(reply_len > 1);
    assert_int_equal(reply[0], PSI_FRAME_PLAIN_ERROR);
    struct psi_reply opened;
    unsigned char any_id[PSI_REQUEST_ID_BYTES] = {0};
    /* it names no request, so no requester takes it as an answer ... */
    assert_int_equal(
        psi_reply_open(&f->client, f->hub.identity.public_key, any_id, reply, reply_len, &opened),
        PSI_ERR_REPLAY);
    /* ... but it is the hub's, and can be inspected */
    assert_int_equal(
        psi_reply_open(&f->client, f->hub.identity.public_key, NULL, reply, reply_len, &opened), 0);
    assert_int_equal(opened.status, PSI_ERR_PARSE); /* 4 sealed bytes cannot be a seal */
    assert_string_equal(opened.error, "cannot open the request");
    psi_reply_clear(&opened);
    free(reply);
    hub_stop(&f->hub);

    char url[64];
    unused_url(url, sizeof url);
    assert_int_equal(psi_rpc_raw(url, frame, sizeof frame, &reply, &reply_len, 200),
                     PSI_ERR_TIMEOUT);
    assert_null(reply);
    assert_int_equal(psi_rpc_raw("nonsense", frame, sizeof frame, &reply, &reply_len, 200),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_rpc_raw(url, NULL, 3, &reply, &reply_len, 200), PSI_ERR_INVALID);
    assert_int_equal(psi_rpc_raw(url, frame, sizeof frame, NULL, &reply_len, 200), PSI_ERR_INVALID);
}

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct psi_rpc *rpc = NULL;
    char err[256];
    const unsigned char *key = f->hub.identity.public_key;
    assert_int_equal(psi_rpc_open(&rpc, "nonsense", &f->client, key, 100, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_non_null(strstr(err, "invalid hub address 'nonsense'"));
    assert_null(rpc);
    assert_int_equal(psi_rpc_open(&rpc, "foo://127.0.0.1:1", &f->client, key, 100, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_rpc_open(&rpc, "", &f->client, key, 100, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_rpc_open(&rpc, "tcp://127.0.0.1:1", &f->client, key, 0, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_non_null(strstr(err, "invalid timeout"));
    assert_int_equal(psi_rpc_open(&rpc, "tcp://127.0.0.1:1", NULL, key, 100, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(
        psi_rpc_open(&rpc, "tcp://127.0.0.1:1", &f->client, NULL, 100, err, sizeof err),
        PSI_ERR_INVALID);
    char long_url[400];
    memset(long_url, 'a', sizeof long_url - 1);
    long_url[sizeof long_url - 1] = '\0';
    assert_int_equal(psi_rpc_open(&rpc, long_url, &f->client, key, 100, err, sizeof err),
                     PSI_ERR_INVALID);

    char url[64];
    unused_url(url, sizeof url);
    rpc = connect_to(f, url, 100);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    /* a method outside [a-z.]{1,32} is refused before anything is sent */
    assert_int_equal(psi_rpc_call(rpc, "Bad Method", NULL, 0, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_non_null(strstr(err, "cannot build the request"));
    assert_int_equal(psi_rpc_call(rpc, "info", NULL, 4, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_rpc_call(rpc, "info", NULL, 0, NULL, &reply_len, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_rpc_call(NULL, "info", NULL, 0, &reply, &reply_len, err, sizeof err),
                     PSI_ERR_INVALID);
    psi_rpc_close(rpc);
    psi_rpc_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused_when_nothing_listens),
        cmocka_unit_test(test_wait_is_reported),
        cmocka_unit_test(test_retry_keeps_request_id),
        cmocka_unit_test(test_replay_refusal_is_retried),
        cmocka_unit_test(test_silent_hub_times_out_after_retries),
        cmocka_unit_test(test_hub_refusal),
        cmocka_unit_test(test_reply_from_wrong_key),
        cmocka_unit_test(test_raw_frames),
        cmocka_unit_test(test_bad_arguments),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    nng_fini(); /* let nng's threads free what they hold before the leak check */
    return failed;
}
