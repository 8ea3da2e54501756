/*
 * Small helpers shared by the hub's method files (methods.c, feeds.c): how a
 * method refuses a request, parses its body, takes a finished upload and
 * serialises its reply, and what counts as a valid group element off the
 * wire. Internal to the hub. Bodies are parsed and replies serialised only as
 * the catalogue's messages of the method called (proto/methods.h): a handler
 * that disagrees with its catalogue entry refuses every request, loudly,
 * rather than put an unannounced message on the wire.
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
 * call). 0, PSI_ERR_NOMEM, or PSI_ERR_INVALID (a refusal saying so) when msg
 * is not the reply message the catalogue gives the method. */
int psi_method_reply(struct psi_method_call *call, const ProtobufCMessage *msg);

/* Whether msg, parsed from the call's body, is the catalogue's request
 * message of the method; if not, says so in call->error. UNPACK's check. */
int psi_method_request_is_catalogued(struct psi_method_call *call, const ProtobufCMessage *msg);

/* Reads the sender's whole upload upload_id, which must hold exactly count
 * items of item_bytes each, into *out (malloc'd). NOT_FOUND when there is no
 * such upload, PROTOCOL when it holds another size or more than the staging
 * limit could; a store failure as the store says. The upload stays staged:
 * the caller drops it in the transaction that uses it. */
int psi_method_take_upload(struct psi_method_call *call,
                           const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES], uint64_t count,
                           size_t item_bytes, uint8_t **out);

/* Room for one more item in a reply's growing array (n used of *cap, items
 * of item_bytes): when full, reallocates it to twice as many (first when
 * empty). *out is the array to use from now on. 0, or PSI_ERR_NOMEM with
 * items and *cap as they were. */
int psi_method_room(void *items, size_t n, size_t *cap, size_t item_bytes, size_t first,
                    void **out);

/* Whether e is a valid ristretto255 encoding other than the identity (the
 * elements of protocol 2's feeds). */
int psi_method_element_is_valid(const uint8_t e[PSI_STORE_ELEMENT_BYTES]);

/* Whether e is an element of the hub's mutual suite (protocol 1,
 * psi/blind.h): 0; PSI_ERR_ENCODING if not canonical (X25519) or not a
 * ristretto255 encoding other than the identity; PSI_ERR_IDENTITY for a
 * small-order X25519 u-coordinate. */
int psi_method_mutual_element_check(const uint8_t e[PSI_STORE_ELEMENT_BYTES]);

/* Declares `type *msg` parsed from the call's body by fn (psi__x__unpack),
 * or returns the method with PSI_ERR_PARSE naming it when the body does not
 * parse (and PSI_ERR_INVALID when type is not the catalogue's request). */
#define UNPACK(type, fn, call)                                                                     \
    type *msg = fn(NULL, (call)->body_len, (call)->body);                                          \
    if (msg == NULL)                                                                               \
        return psi_method_refuse(call, PSI_ERR_PARSE, "malformed body of %s",                      \
                                 (call)->method->name);                                            \
    if (!psi_method_request_is_catalogued(call, &msg->base)) {                                     \
        protobuf_c_message_free_unpacked(&msg->base, NULL);                                        \
        return PSI_ERR_INVALID;                                                                    \
    }

#endif
