/*
 * The signed, sealed envelope around every request and reply.
 *
 * A request is signed by its sender's Ed25519 identity key over the hub's key,
 * the method, a timestamp, a fresh nonce, a request id and the body, then
 * sealed (crypto_box_seal) to the hub's X25519 key derived from its Ed25519
 * key. A reply is signed by the hub and sealed back to the requester; errors
 * that arise before the requester is authenticated travel signed but unsealed.
 * Frame layouts and signature contexts are documented in psi.proto.
 *
 * This module checks form and signatures only. Freshness (timestamp window),
 * replay (nonce seen before) and retries (request id seen before) are the
 * hub's decisions, made with its store; the fields are handed to it here.
 */
#ifndef PSI_PROTO_ENVELOPE_H
#define PSI_PROTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "psi/ident.h"

#define PSI_NONCE_BYTES 16
#define PSI_REQUEST_ID_BYTES 16
#define PSI_ERROR_TEXT_MAX 256

#define PSI_FRAME_SEALED 0x01
#define PSI_FRAME_PLAIN_ERROR 0x02
/* The largest frame either side builds or opens: a bound on every length that
 * follows from the frame's (the hub may accept less, see HubInfo). */
#define PSI_FRAME_MAX_BYTES ((size_t)64 * 1024 * 1024)

/* A request as the hub sees it after opening the seal. body points into
 * storage owned by the struct; release with psi_request_clear(). */
struct psi_request {
    unsigned char hub_key[32];
    char sender[PSI_ID_MAX + 1];
    char method[PSI_METHOD_MAX + 1];
    uint64_t timestamp_ms;
    unsigned char nonce[PSI_NONCE_BYTES];
    unsigned char request_id[PSI_REQUEST_ID_BYTES];
    uint8_t *body;
    size_t body_len;
    /* kept to verify the signature once the sender's key is known: exactly
     * the bytes the sender signed ("psi/request/v1" || 0x00 || Request) */
    uint8_t *signed_bytes;
    size_t signed_len;
    unsigned char signature[64];
};

/* A reply as the requester sees it after opening and verifying it. */
struct psi_reply {
    unsigned char request_id[PSI_REQUEST_ID_BYTES];
    int status; /* 0 or a negative psi error code */
    char error[PSI_ERROR_TEXT_MAX + 1];
    uint64_t timestamp_ms;
    uint8_t *body;
    size_t body_len;
};

/* Sender side: build a sealed request frame (malloc'd, *frame_len bytes).
 * request_id is chosen by the caller (the same for retries); the nonce and
 * timestamp are fresh on every call. */
int psi_request_seal(const struct psi_identity *sender, const unsigned char hub_key[32],
                     const char *method, const unsigned char request_id[PSI_REQUEST_ID_BYTES],
                     const uint8_t *body, size_t body_len, uint8_t **frame, size_t *frame_len);

/* Hub side, step 1: open the seal with the hub's identity and parse. Checks
 * form (sizes, id syntax, method syntax, hub_key equal to the hub's own), not
 * the signature. Errors: PSI_ERR_TOO_LARGE (frame over PSI_FRAME_MAX_BYTES),
 * PSI_ERR_UNSUPPORTED (not a 0x01 frame), PSI_ERR_VERIFY (the seal does not
 * open: damaged, or sealed to another key), PSI_ERR_PARSE (malformed inside),
 * PSI_ERR_PROTOCOL (a request for another hub). On failure *out is cleared. */
int psi_request_open(const struct psi_identity *hub, const uint8_t *frame, size_t frame_len,
                     struct psi_request *out);

/* Hub side, step 2: verify the sender's signature once its key is looked up.
 * 0 or PSI_ERR_VERIFY. */
int psi_request_verify(const struct psi_request *req, const unsigned char sender_key[32]);

void psi_request_clear(struct psi_request *req);

/* Hub side: build a reply frame. recipient_key NULL makes a plain (unsealed)
 * error frame, for failures before the sender is authenticated: it must have
 * a negative status and no body (else PSI_ERR_INVALID); request_id should be
 * the request's whenever it could be read (the requester takes no unbound
 * error as an answer) and is NULL only when it could not. A sealed reply needs the request_id.
 * status is 0 or a negative psi error code; error (may be NULL) is cut to PSI_ERROR_TEXT_MAX bytes
 * at a UTF-8 boundary. */
int psi_reply_seal(const struct psi_identity *hub, const unsigned char *recipient_key,
                   const unsigned char request_id[PSI_REQUEST_ID_BYTES], int status,
                   const char *error, const uint8_t *body, size_t body_len, uint8_t **frame,
                   size_t *frame_len);

/* Requester side: open a reply frame, verify the hub's signature and that it
 * answers request_id: sealed or plain, a reply must name exactly that id.
 * request_id NULL accepts a reply naming any request or none: only for tools
 * and tests that inspect what the hub answered, never for a call's answer.
 * Returns 0 if the frame is authentic and bound (the hub's status is in
 * out->status). Errors: PSI_ERR_TOO_LARGE, PSI_ERR_UNSUPPORTED (frame type),
 * PSI_ERR_VERIFY (seal or hub signature), PSI_ERR_PARSE, PSI_ERR_PROTOCOL (a
 * positive status, a success or a body in a plain frame: a broken hub),
 * PSI_ERR_REPLAY (authentic, but naming another request or none: a copy of
 * some other answer, which a requester treats like a lost reply). Control
 * characters in the error text come out as '?'. */
int psi_reply_open(const struct psi_identity *me, const unsigned char hub_key[32],
                   const unsigned char request_id[PSI_REQUEST_ID_BYTES], const uint8_t *frame,
                   size_t frame_len, struct psi_reply *out);

void psi_reply_clear(struct psi_reply *reply);

#endif
