/*
 * Small helpers shared by the hub's method files (methods.c, feeds.c): how a
 * method refuses a request, serialises its reply and parses its body, and
 * what counts as a valid group element off the wire. Internal to the hub;
 * each helper behaves exactly as the copies it replaces did.
 */
#ifndef PSI_HUB_METHOD_UTIL_H
#define PSI_HUB_METHOD_UTIL_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "hub.h"
#include "psi/error.h"
#include "store.h"

/* Writes the formatted reason into call->error and returns status, so a
 * method can `return psi_method_refuse(...)`. */
int psi_method_refuse(struct psi_method_call *call, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Serialises a reply message into call->reply_body (malloc'd, owned by the
 * call). 0 or PSI_ERR_NOMEM. */
int psi_method_reply(struct psi_method_call *call, const ProtobufCMessage *msg);

/* Room for one more item in a reply's growing array (n used of *cap, items
 * of item_bytes): when full, reallocates it to twice as many (first when
 * empty). *out is the array to use from now on. 0, or PSI_ERR_NOMEM with
 * items and *cap as they were. */
int psi_method_room(void *items, size_t n, size_t *cap, size_t item_bytes, size_t first,
                    void **out);

/* Whether e is a valid ristretto255 encoding other than the identity. */
int psi_method_element_is_valid(const uint8_t e[PSI_STORE_ELEMENT_BYTES]);

/* Declares `type *msg` parsed from the call's body, or returns the method
 * with PSI_ERR_PARSE naming the method when the body does not parse. */
#define UNPACK(type, fn, call, name)                                                               \
    type *msg = fn(NULL, (call)->body_len, (call)->body);                                          \
    if (msg == NULL)                                                                               \
        return psi_method_refuse(call, PSI_ERR_PARSE, "malformed body of %s", name);

#endif
