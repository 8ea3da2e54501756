/* Helpers shared by the hub's method files (method_util.h). */
#include "method_util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "psi/blind.h"
#include "psi/curve25519.h"
#include "oplog.h"
#include "psi/error.h"

int psi_method_refuse(struct psi_method_call *call, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->error, sizeof call->error, fmt, ap);
    va_end(ap);
    return status;
}

/* A handler and its catalogue entry disagree: a bug of the hub, refused
 * rather than answered, so that the client never reads one message as
 * another. Said on stderr too: the operator, not the caller, can fix it. */
static int not_catalogued(struct psi_method_call *call, const char *what,
                          const ProtobufCMessageDescriptor *got,
                          const ProtobufCMessageDescriptor *want)
{
    psi_oplog_say(PSI_OPLOG_ERROR, "%s: the handler's %s is %s, the catalogue's %s",
                  call->method->name, what, got->name, want->name);
    return psi_method_refuse(call, PSI_ERR_INVALID,
                             "the hub's %s of %s disagrees with its method catalogue", what,
                             call->method->name);
}

int psi_method_request_is_catalogued(struct psi_method_call *call, const ProtobufCMessage *msg)
{
    if (msg->descriptor == call->method->request)
        return 1;
    not_catalogued(call, "request", msg->descriptor, call->method->request);
    return 0;
}

int psi_method_reply(struct psi_method_call *call, const ProtobufCMessage *msg)
{
    if (msg->descriptor != call->method->reply)
        return not_catalogued(call, "reply", msg->descriptor, call->method->reply);
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL)
        return PSI_ERR_NOMEM;
    protobuf_c_message_pack(msg, buf);
    call->reply_body = buf;
    call->reply_len = n;
    return 0;
}

int psi_method_take_upload(struct psi_method_call *call,
                           const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES], uint64_t count,
                           size_t item_bytes, uint8_t **out)
{
    const struct psi_store_ops *ops = call->txn->ops;
    uint64_t received = 0, total = 0;
    *out = NULL;
    int rc = ops->staging_size(call->txn, call->sender->id, upload_id, &received, &total);
    if (rc != 0)
        return rc;
    char hex[2 * PSI_STORE_UPLOAD_ID_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, upload_id, PSI_STORE_UPLOAD_ID_BYTES);
    if (received == 0)
        return psi_method_refuse(call, PSI_ERR_NOT_FOUND, "no upload %s", hex);
    /* The limit first: count * item_bytes must not overflow, and an upload
     * can never hold more than the limit anyway. */
    if (count > call->hub->staging_limit / item_bytes || received != count * item_bytes) {
        if (item_bytes == 1)
            return psi_method_refuse(call, PSI_ERR_PROTOCOL, "upload %s holds %llu bytes, not %llu",
                                     hex, (unsigned long long)received, (unsigned long long)count);
        return psi_method_refuse(call, PSI_ERR_PROTOCOL,
                                 "upload %s holds %llu bytes, %llu items of %zu bytes need %llu",
                                 hex, (unsigned long long)received, (unsigned long long)count,
                                 item_bytes, (unsigned long long)count * item_bytes);
    }
    uint8_t *buf = malloc((size_t)received);
    if (buf == NULL)
        return PSI_ERR_NOMEM;
    rc = ops->staging_read(call->txn, call->sender->id, upload_id, 0, buf, (size_t)received);
    if (rc != 0) {
        free(buf);
        /* It was there a moment ago, in this transaction: the store is wrong. */
        return rc == PSI_ERR_NOT_FOUND ? PSI_ERR_STORE : rc;
    }
    *out = buf;
    return 0;
}

int psi_method_element_is_valid(const uint8_t e[PSI_STORE_ELEMENT_BYTES])
{
    return crypto_core_ristretto255_is_valid_point(e) == 1 &&
           !sodium_is_zero(e, PSI_STORE_ELEMENT_BYTES);
}

int psi_method_mutual_element_check(const uint8_t e[PSI_STORE_ELEMENT_BYTES])
{
    if (psi_mutual_suite() == PSI_MUTUAL_SUITE_X25519)
        return psi_curve25519_check_u(e);
    return psi_method_element_is_valid(e) ? 0 : PSI_ERR_ENCODING;
}

int psi_method_room(void *items, size_t n, size_t *cap, size_t item_bytes, size_t first, void **out)
{
    *out = items;
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : first;
    if (ncap > SIZE_MAX / item_bytes)
        return PSI_ERR_NOMEM;
    void *m = realloc(items, ncap * item_bytes);
    if (m == NULL)
        return PSI_ERR_NOMEM;
    *out = m;
    *cap = ncap;
    return 0;
}
