/*
 * The requester's side of the transport (see rpc.h).
 */
#include "rpc.h"
#include "rpc_socket.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <sodium.h>

#include "error_text.h"
#include "psi/error.h"

#define URL_MAX 255
/* An hour per attempt is already more patience than any caller wants. */
#define TIMEOUT_MAX_MS 3600000u
#define RETRIES_MAX 100u

struct psi_rpc {
    nng_socket socket;
    char url[URL_MAX + 1];
    const struct psi_identity *me;
    unsigned char hub_key[32];
    unsigned timeout_ms;
    unsigned retries;
    atomic_int connected; /* set by nng's thread once a connection is up */
    int probed;           /* the first call checked that something listens */
    int unreachable;      /* the last call failed because nothing could be reached */
    psi_rpc_wait_fn wait_fn;
    void *wait_arg;
    /* The reply is awaited through an aio so that the wait can be reported
     * while it lasts (a timed-out nng_recv would abort the request). */
    nng_aio *recv_aio;
    nng_mtx *mtx;
    nng_cv *cv;
    int recv_done;
};

static void on_recv_done(void *arg)
{
    struct psi_rpc *rpc = arg;
    nng_mtx_lock(rpc->mtx);
    rpc->recv_done = 1;
    nng_cv_wake(rpc->cv);
    nng_mtx_unlock(rpc->mtx);
}

/* "5 s" or "250 ms", as a person would say it. */
static void format_duration(char *out, size_t outlen, unsigned ms)
{
    if (ms % 1000u == 0)
        snprintf(out, outlen, "%u s", ms / 1000u);
    else
        snprintf(out, outlen, "%u ms", ms);
}

static void on_pipe_added(nng_pipe pipe, nng_pipe_ev event, void *arg)
{
    (void)pipe;
    (void)event;
    atomic_store((atomic_int *)arg, 1);
}

/* A REQ socket dialling url in the background, with our limits (rpc_socket.h). */
int psi_rpc_open_socket(nng_socket *sock, const char *url, unsigned timeout_ms,
                        atomic_int *connected, char *err, size_t errlen)
{
    int rc = nng_req0_open(sock);
    if (rc != 0) {
        psi_proto_set_error(err, errlen, "cannot open a socket for hub %s: %s", url,
                            nng_strerror(rc));
        return PSI_ERR_NETWORK;
    }
    nng_duration timeout = (nng_duration)timeout_ms;
    /* Our retries carry a fresh nonce; nng's would resend the same frame. */
    if ((rc = nng_socket_set_ms(*sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
        (rc = nng_socket_set_ms(*sock, NNG_OPT_SENDTIMEO, timeout)) != 0 ||
        (rc = nng_socket_set_ms(*sock, NNG_OPT_RECVTIMEO, timeout)) != 0 ||
        (rc = nng_socket_set_size(*sock, NNG_OPT_RECVMAXSZ, PSI_RPC_REPLY_MAX)) != 0 ||
        (rc = nng_socket_set_ms(*sock, NNG_OPT_RECONNMINT, 100)) != 0 ||
        (rc = nng_socket_set_ms(*sock, NNG_OPT_RECONNMAXT, 2000)) != 0 ||
        (connected != NULL &&
         (rc = nng_pipe_notify(*sock, NNG_PIPE_EV_ADD_POST, on_pipe_added, connected)) != 0)) {
        psi_proto_set_error(err, errlen, "cannot set up the socket for hub %s: %s", url,
                            nng_strerror(rc));
        nng_close(*sock);
        return PSI_ERR_NETWORK;
    }
    /* Non-blocking: a hub that is down now may be up by the time we send,
     * and one that stays down shows as a timeout, not as a hang. */
    rc = nng_dial(*sock, url, NULL, NNG_FLAG_NONBLOCK);
    if (rc != 0) {
        int invalid = rc == NNG_EADDRINVAL || rc == NNG_ENOTSUP || rc == NNG_EINVAL;
        psi_proto_set_error(err, errlen, "%s hub address '%s': %s",
                            invalid ? "invalid" : "cannot dial", url, nng_strerror(rc));
        nng_close(*sock);
        return invalid ? PSI_ERR_INVALID : PSI_ERR_NETWORK;
    }
    return 0;
}

int psi_rpc_check_url_and_timeout(const char *url, unsigned timeout_ms, char *err, size_t errlen)
{
    if (url == NULL || url[0] == '\0' || strnlen(url, URL_MAX + 1) > URL_MAX) {
        psi_proto_set_error(err, errlen, "invalid hub address (empty or longer than %d bytes)",
                            URL_MAX);
        return PSI_ERR_INVALID;
    }
    if (timeout_ms == 0 || timeout_ms > TIMEOUT_MAX_MS) {
        psi_proto_set_error(err, errlen, "invalid timeout %u ms (1 .. %u)", timeout_ms,
                            TIMEOUT_MAX_MS);
        return PSI_ERR_INVALID;
    }
    return 0;
}

int psi_rpc_open(struct psi_rpc **rpc, const char *url, const struct psi_identity *me,
                 const unsigned char hub_key[32], unsigned timeout_ms, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (rpc == NULL || me == NULL || me->secret_key == NULL || hub_key == NULL) {
        psi_proto_set_error(err, errlen, "no identity or hub key given");
        return PSI_ERR_INVALID;
    }
    *rpc = NULL;
    int rc = psi_rpc_check_url_and_timeout(url, timeout_ms, err, errlen);
    if (rc != 0)
        return rc;
    struct psi_rpc *r = calloc(1, sizeof *r);
    if (r == NULL) {
        psi_proto_set_error(err, errlen, "out of memory");
        return PSI_ERR_NOMEM;
    }
    memcpy(r->url, url, strlen(url) + 1);
    r->me = me;
    memcpy(r->hub_key, hub_key, sizeof r->hub_key);
    r->timeout_ms = timeout_ms;
    r->retries = PSI_RPC_DEFAULT_RETRIES;
    atomic_init(&r->connected, 0);
    if (nng_mtx_alloc(&r->mtx) != 0 || nng_cv_alloc(&r->cv, r->mtx) != 0 ||
        nng_aio_alloc(&r->recv_aio, on_recv_done, r) != 0) {
        psi_proto_set_error(err, errlen, "out of memory");
        if (r->cv != NULL)
            nng_cv_free(r->cv);
        if (r->mtx != NULL)
            nng_mtx_free(r->mtx);
        free(r);
        return PSI_ERR_NOMEM;
    }
    rc = psi_rpc_open_socket(&r->socket, url, timeout_ms, &r->connected, err, errlen);
    if (rc != 0) {
        nng_aio_free(r->recv_aio);
        nng_cv_free(r->cv);
        nng_mtx_free(r->mtx);
        free(r);
        return rc;
    }
    *rpc = r;
    return 0;
}

void psi_rpc_set_retries(struct psi_rpc *rpc, unsigned retries)
{
    if (rpc != NULL)
        rpc->retries = retries > RETRIES_MAX ? RETRIES_MAX : retries;
}

void psi_rpc_set_wait_report(struct psi_rpc *rpc, psi_rpc_wait_fn fn, void *arg)
{
    if (rpc != NULL) {
        rpc->wait_fn = fn;
        rpc->wait_arg = arg;
    }
}

int psi_rpc_unreachable(const struct psi_rpc *rpc)
{
    return rpc != NULL && rpc->unreachable;
}

void psi_rpc_close(struct psi_rpc *rpc)
{
    if (rpc == NULL)
        return;
    nng_close(rpc->socket);
    nng_aio_stop(rpc->recv_aio);
    nng_aio_free(rpc->recv_aio);
    nng_cv_free(rpc->cv);
    nng_mtx_free(rpc->mtx);
    sodium_memzero(rpc, sizeof *rpc);
    free(rpc);
}

/* Turns an answer frame into the call's result. *unbound is set when the
 * frame is the hub's, authentic, but answers another request or none: no
 * answer to this one (the caller asks again). */
static int take_reply(struct psi_rpc *rpc, const unsigned char request_id[PSI_REQUEST_ID_BYTES],
                      const uint8_t *frame, size_t frame_len, uint8_t **reply_body,
                      size_t *reply_len, int *unbound, char *err, size_t errlen)
{
    struct psi_reply reply;
    *unbound = 0;
    int rc = psi_reply_open(rpc->me, rpc->hub_key, request_id, frame, frame_len, &reply);
    switch (rc) {
    case 0: break;
    case PSI_ERR_REPLAY:
        *unbound = 1;
        psi_proto_set_error(err, errlen,
                            "hub %s: the answers that came name another request, or none "
                            "(copies of other answers?); this request got none",
                            rpc->url);
        return PSI_ERR_NETWORK;
    case PSI_ERR_VERIFY:
        psi_proto_set_error(
            err, errlen,
            "reply from hub %s not signed by the expected hub key (or not sealed to '%s')",
            rpc->url, rpc->me->name);
        return PSI_ERR_NETWORK;
    case PSI_ERR_PROTOCOL:
        psi_proto_set_error(err, errlen,
                            "reply from hub %s does not answer this request (request id or status)",
                            rpc->url);
        return PSI_ERR_NETWORK;
    case PSI_ERR_UNSUPPORTED:
        psi_proto_set_error(err, errlen, "reply from hub %s has an unknown frame type 0x%02x",
                            rpc->url, (unsigned)frame[0]);
        return PSI_ERR_NETWORK;
    case PSI_ERR_NOMEM:
        psi_proto_set_error(err, errlen, "out of memory reading the reply from hub %s", rpc->url);
        return PSI_ERR_NOMEM;
    default:
        psi_proto_set_error(err, errlen, "malformed reply from hub %s (%s)", rpc->url,
                            psi_strerror(rc));
        return PSI_ERR_NETWORK;
    }
    if (reply.status != 0) {
        rc = reply.status;
        psi_proto_set_error(err, errlen, "hub refused: %s",
                            reply.error[0] != '\0' ? reply.error : psi_strerror(rc));
        psi_reply_clear(&reply);
        return rc;
    }
    *reply_body = reply.body; /* handed over: the caller frees it */
    *reply_len = reply.body_len;
    reply.body = NULL;
    reply.body_len = 0;
    psi_reply_clear(&reply);
    return 0;
}

/* Whether anything listens at the hub's address, asked once, before the
 * first call made while the socket has no connection yet: a TCP connection
 * of our own, closed at once. The socket's dialler retries quietly in the
 * background, so a refusal (nothing listening, no route, a name that does
 * not resolve) would show only as a timeout; the probe hears it at once.
 * 0 when something listens; NNG_ETIMEDOUT when the probe could not tell
 * within wait_ms; else the nng error of the refusal. Other schemes than
 * tcp are not probed (0). */
static int probe_listener(const char *url, nng_duration wait_ms)
{
    if (strncmp(url, "tcp://", 6) != 0 && strncmp(url, "tcp4://", 7) != 0 &&
        strncmp(url, "tcp6://", 7) != 0)
        return 0;
    nng_stream_dialer *dialer = NULL;
    nng_aio *aio = NULL;
    if (nng_stream_dialer_alloc(&dialer, url) != 0)
        return 0; /* the socket's own dial said the address is fine: let it try */
    if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
        nng_stream_dialer_free(dialer);
        return 0;
    }
    nng_aio_set_timeout(aio, wait_ms);
    nng_stream_dialer_dial(dialer, aio);
    nng_aio_wait(aio);
    int rc = nng_aio_result(aio);
    if (rc == 0)
        nng_stream_free(nng_aio_get_output(aio, 0));
    nng_aio_free(aio);
    nng_stream_dialer_free(dialer);
    switch (rc) {
    case 0:
    case NNG_ETIMEDOUT:
    case NNG_ECONNREFUSED:
    case NNG_EUNREACHABLE:
    case NNG_EADDRINVAL:
    case NNG_ECONNRESET: return rc;
    default: return 0; /* anything else: no verdict, the call goes on as before */
    }
}

static const char *refusal_phrase(int nng_rc)
{
    switch (nng_rc) {
    case NNG_ECONNREFUSED: return "connection refused";
    case NNG_EUNREACHABLE: return "no route to the host";
    case NNG_EADDRINVAL: return "the address does not resolve";
    case NNG_ECONNRESET: return "connection reset";
    default: return nng_strerror(nng_rc);
    }
}

/* Waits for the reply of the request just sent, until deadline, telling the
 * wait report about it once a second. 0 and the message, or an nng error. */
static int receive_reply(struct psi_rpc *rpc, nng_time deadline, nng_msg **msg)
{
    nng_time start = nng_clock();
    nng_time now = start;
    nng_duration left = now < deadline ? (nng_duration)(deadline - now) : 1;
    int reported = 0;
    *msg = NULL;
    rpc->recv_done = 0;
    nng_aio_set_timeout(rpc->recv_aio, left);
    nng_recv_aio(rpc->socket, rpc->recv_aio);
    nng_mtx_lock(rpc->mtx);
    while (!rpc->recv_done) {
        nng_time tick = now + 1000;
        (void)nng_cv_until(rpc->cv, tick);
        if (rpc->recv_done)
            break;
        now = nng_clock();
        if (rpc->wait_fn != NULL && now >= tick) {
            nng_mtx_unlock(rpc->mtx);
            rpc->wait_fn(rpc->wait_arg, (unsigned)(now - start), 0);
            reported = 1;
            nng_mtx_lock(rpc->mtx);
        }
    }
    nng_mtx_unlock(rpc->mtx);
    if (reported)
        rpc->wait_fn(rpc->wait_arg, (unsigned)(nng_clock() - start), 1);
    int rc = nng_aio_result(rpc->recv_aio);
    if (rc == 0)
        *msg = nng_aio_get_msg(rpc->recv_aio);
    return rc;
}

int psi_rpc_call_id(struct psi_rpc *rpc, const unsigned char request_id[PSI_REQUEST_ID_BYTES],
                    const char *method, const uint8_t *body, size_t body_len, uint8_t **reply_body,
                    size_t *reply_len, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (reply_body != NULL)
        *reply_body = NULL;
    if (reply_len != NULL)
        *reply_len = 0;
    if (rpc == NULL || request_id == NULL || method == NULL || (body == NULL && body_len > 0) ||
        reply_body == NULL || reply_len == NULL) {
        psi_proto_set_error(err, errlen, "invalid arguments to a hub call");
        return PSI_ERR_INVALID;
    }
    rpc->unreachable = 0;
    unsigned attempts = 0;
    for (unsigned attempt = 0; attempt <= rpc->retries; attempt++) {
        uint8_t *frame = NULL;
        size_t frame_len = 0;
        int rc = psi_request_seal(rpc->me, rpc->hub_key, method, request_id, body, body_len, &frame,
                                  &frame_len);
        if (rc != 0) {
            psi_proto_set_error(err, errlen, "cannot build the request '%s' for hub %s: %s", method,
                                rpc->url, psi_strerror(rc));
            return rc;
        }
        /* The request is well formed: is anybody there to take it? */
        if (!rpc->probed && !atomic_load(&rpc->connected)) {
            rpc->probed = 1;
            int prc = probe_listener(rpc->url, (nng_duration)rpc->timeout_ms);
            if (prc != 0 && !atomic_load(&rpc->connected)) {
                rpc->unreachable = 1;
                free(frame);
                if (prc == NNG_ETIMEDOUT) {
                    char within[32];
                    format_duration(within, sizeof within, rpc->timeout_ms);
                    psi_proto_set_error(err, errlen,
                                        "cannot reach the hub at %s: no connection within %s",
                                        rpc->url, within);
                    return PSI_ERR_TIMEOUT;
                }
                psi_proto_set_error(err, errlen, "cannot reach the hub at %s: %s", rpc->url,
                                    refusal_phrase(prc));
                return PSI_ERR_NETWORK;
            }
        }
        attempts++;
        nng_time deadline = nng_clock() + rpc->timeout_ms;
        int nrc = nng_socket_set_ms(rpc->socket, NNG_OPT_SENDTIMEO, (nng_duration)rpc->timeout_ms);
        if (nrc == 0)
            nrc = nng_send(rpc->socket, frame, frame_len, 0);
        free(frame);
        if (nrc == 0) {
            /* The attempt's time is shared between send and receive. */
            nng_msg *answer = NULL;
            nrc = receive_reply(rpc, deadline, &answer);
            if (nrc == 0) {
                int unbound = 0;
                rc = take_reply(rpc, request_id, nng_msg_body(answer), nng_msg_len(answer),
                                reply_body, reply_len, &unbound, err, errlen);
                nng_msg_free(answer);
                /* Not an answer to this request, whatever it says: anyone on
                 * the path can copy a signed reply. Asked again like a lost
                 * reply (same request id, new nonce); if only such copies
                 * come, the call fails as a transport failure, never as a
                 * refusal. */
                if (unbound && attempt < rpc->retries)
                    continue;
                /* Our nonce is fresh on every attempt, so the hub calls it a replay only
                 * when nng itself re-sent this very frame after a reconnect and the hub
                 * saw both copies. Asking again under the same request id (new nonce)
                 * yields the first copy's stored reply, or the action done once. */
                if (rc == PSI_ERR_REPLAY && attempt < rpc->retries)
                    continue;
                return rc;
            }
        }
        if (nrc != NNG_ETIMEDOUT) {
            psi_proto_set_error(err, errlen, "cannot talk to hub %s: %s", rpc->url,
                                nng_strerror(nrc));
            return PSI_ERR_NETWORK;
        }
        /* Nobody to retry with: say so now rather than after every retry. */
        if (!atomic_load(&rpc->connected))
            break;
    }
    char within[32];
    format_duration(within, sizeof within, rpc->timeout_ms);
    if (!atomic_load(&rpc->connected)) {
        rpc->unreachable = 1;
        psi_proto_set_error(err, errlen, "cannot reach the hub at %s: no connection within %s",
                            rpc->url, within);
    } else if (attempts > 1)
        psi_proto_set_error(err, errlen, "hub %s did not answer within %s (%u attempts)", rpc->url,
                            within, attempts);
    else
        psi_proto_set_error(err, errlen, "hub %s did not answer within %s", rpc->url, within);
    return PSI_ERR_TIMEOUT;
}

int psi_rpc_call(struct psi_rpc *rpc, const char *method, const uint8_t *body, size_t body_len,
                 uint8_t **reply_body, size_t *reply_len, char *err, size_t errlen)
{
    unsigned char request_id[PSI_REQUEST_ID_BYTES];
    if (sodium_init() < 0) {
        psi_proto_set_error(err, errlen, "libsodium could not start");
        return PSI_ERR_CRYPTO;
    }
    randombytes_buf(request_id, sizeof request_id);
    return psi_rpc_call_id(rpc, request_id, method, body, body_len, reply_body, reply_len, err,
                           errlen);
}
