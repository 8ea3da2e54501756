/*
 * The requester's side of the transport: signed, sealed requests to one hub
 * over nng REQ/REP, one at a time.
 *
 * It promises that a call ends: the hub is dialled in the background, so a
 * silent hub yields PSI_ERR_TIMEOUT after the timeout rather than a hang,
 * and a hub address where nothing listens fails the first call at once
 * (psi_rpc_unreachable). It promises that a reply is acted on only if it is authentic:
 * sealed to us and signed by the hub key given at open (or a signed plain
 * error) and naming our request id; an authentic reply naming another
 * request, or none, is no answer: the request is sent again. And it makes retries safe: a request
 * that timed out is sent again with the same request id (and a fresh nonce
 * and timestamp, so it is no replay), and the hub answers a retry with its
 * first answer instead of acting twice. nng's own resending is switched off,
 * because it would resend the identical frame, nonce included.
 *
 * Every failure comes with a sentence for a person in err, naming the hub's
 * address. A struct psi_rpc is not for use by two threads at once.
 */
#ifndef PSI_PROTO_RPC_H
#define PSI_PROTO_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "identity.h"

/* Sends after the first, when an attempt times out. */
#define PSI_RPC_DEFAULT_RETRIES 2u
/* The largest reply frame accepted (nng refuses bigger messages). */
#define PSI_RPC_REPLY_MAX PSI_FRAME_MAX_BYTES

struct psi_rpc;

/* Opens a REQ socket and starts dialling url (e.g. "tcp://127.0.0.1:7000")
 * in the background. me must outlive the handle; hub_key is copied.
 * timeout_ms (> 0) bounds each attempt. 0, or PSI_ERR_INVALID (bad
 * arguments or address), PSI_ERR_NETWORK, PSI_ERR_NOMEM; err says why. */
int psi_rpc_open(struct psi_rpc **rpc, const char *url, const struct psi_identity *me,
                 const unsigned char hub_key[32], unsigned timeout_ms, char *err, size_t errlen);

/* How many times a call resends after a timeout (default
 * PSI_RPC_DEFAULT_RETRIES). A hub never reached during the first attempt is
 * not retried: the caller hears at once that nothing listens. */
void psi_rpc_set_retries(struct psi_rpc *rpc, unsigned retries);

/* Sends method+body as a new request (fresh random request id). On status 0
 * returns 0 and the reply body in *reply_body (malloc'd, never NULL on
 * success, free() it; *reply_len may be 0). Otherwise returns:
 *  - the hub's negative status, err = "hub refused: <its text>";
 *  - PSI_ERR_TIMEOUT when no answer came in time;
 *  - PSI_ERR_NETWORK when the transport failed or the answer was not
 *    authentic (not from the expected hub key, malformed), or when every
 *    attempt was answered by a reply naming another request or none (an
 *    authentic copy of some other answer: asked again like a lost reply,
 *    never taken as this call's answer);
 *  - PSI_ERR_INVALID / PSI_ERR_TOO_LARGE / PSI_ERR_NOMEM for the request.
 * *reply_body is NULL on every failure. */
int psi_rpc_call(struct psi_rpc *rpc, const char *method, const uint8_t *body, size_t body_len,
                 uint8_t **reply_body, size_t *reply_len, char *err, size_t errlen);

/* The same, with a caller-chosen request id: to resume a logical request
 * after a restart, and for tests of retries. */
int psi_rpc_call_id(struct psi_rpc *rpc, const unsigned char request_id[PSI_REQUEST_ID_BYTES],
                    const char *method, const uint8_t *body, size_t body_len, uint8_t **reply_body,
                    size_t *reply_len, char *err, size_t errlen);

/* Called about once a second while a call waits for the hub's reply
 * (waited_ms so far, done 0), and once more with done 1 when that wait ends,
 * if it was reported at all: a command shows progress on a terminal. fn NULL
 * (the default) reports nothing. */
typedef void (*psi_rpc_wait_fn)(void *arg, unsigned waited_ms, int done);
void psi_rpc_set_wait_report(struct psi_rpc *rpc, psi_rpc_wait_fn fn, void *arg);

/* 1 when the last call failed because the hub could not be reached at all:
 * before its first call, a handle that has no connection yet checks that
 * something listens at a tcp:// address, and a refusal (nothing listening,
 * no route, a name that does not resolve) fails the call at once with
 * PSI_ERR_NETWORK, "cannot reach the hub at URL: connection refused"; no
 * connection within the timeout is PSI_ERR_TIMEOUT ("no connection within
 * ..."). The caller adds what a person should check. */
int psi_rpc_unreachable(const struct psi_rpc *rpc);

void psi_rpc_close(struct psi_rpc *rpc);

#endif
