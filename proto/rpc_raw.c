/*
 * psi_rpc_raw (rpc_raw.h): raw frames to a hub, for tests only. Built into
 * the test-only library psiproto_raw, never into psi or psi-hub.
 */
#include "rpc_raw.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "psi/error.h"
#include "rpc_socket.h"

int psi_rpc_raw(const char *url, const uint8_t *frame, size_t frame_len, uint8_t **reply,
                size_t *reply_len, unsigned timeout_ms)
{
    if (reply != NULL)
        *reply = NULL;
    if (reply_len != NULL)
        *reply_len = 0;
    if (reply == NULL || reply_len == NULL || (frame == NULL && frame_len > 0))
        return PSI_ERR_INVALID;
    int rc = psi_rpc_check_url_and_timeout(url, timeout_ms, NULL, 0);
    if (rc != 0)
        return rc;
    nng_socket sock;
    rc = psi_rpc_open_socket(&sock, url, timeout_ms, NULL, NULL, 0);
    if (rc != 0)
        return rc;

    nng_msg *msg = NULL;
    int nrc = nng_msg_alloc(&msg, 0);
    if (nrc == 0 && frame_len > 0)
        nrc = nng_msg_append(msg, frame, frame_len);
    if (nrc == 0) {
        nrc = nng_sendmsg(sock, msg, 0);
        if (nrc == 0)
            msg = NULL; /* nng owns it now */
    }
    if (msg != NULL)
        nng_msg_free(msg);
    nng_msg *answer = NULL;
    if (nrc == 0)
        nrc = nng_recvmsg(sock, &answer, 0);
    if (nrc == 0) {
        size_t n = nng_msg_len(answer);
        uint8_t *copy = malloc(n > 0 ? n : 1);
        if (copy == NULL) {
            rc = PSI_ERR_NOMEM;
        } else {
            if (n > 0)
                memcpy(copy, nng_msg_body(answer), n);
            *reply = copy;
            *reply_len = n;
            rc = 0;
        }
        nng_msg_free(answer);
    } else {
        rc = nrc == NNG_ETIMEDOUT ? PSI_ERR_TIMEOUT
             : nrc == NNG_ENOMEM  ? PSI_ERR_NOMEM
                                  : PSI_ERR_NETWORK;
    }
    nng_close(sock);
    return rc;
}
