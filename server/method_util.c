/* Helpers shared by the hub's method files (method_util.h). */
#include "method_util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "psi/error.h"

int psi_method_refuse(struct psi_method_call *call, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->error, sizeof call->error, fmt, ap);
    va_end(ap);
    return status;
}

int psi_method_reply(struct psi_method_call *call, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL)
        return PSI_ERR_NOMEM;
    protobuf_c_message_pack(msg, buf);
    call->reply_body = buf;
    call->reply_len = n;
    return 0;
}

int psi_method_element_is_valid(const uint8_t e[PSI_STORE_ELEMENT_BYTES])
{
    return crypto_core_ristretto255_is_valid_point(e) == 1 &&
           !sodium_is_zero(e, PSI_STORE_ELEMENT_BYTES);
}

int psi_method_room(void *items, size_t n, size_t *cap, size_t item_bytes, size_t first,
                    void **out)
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
