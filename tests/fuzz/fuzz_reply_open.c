/* Fuzz target: a reply as a participant receives it (psi_reply_open as the
 * fixture agency, expecting the fixture hub and request id). The first byte
 * chooses how the rest reaches it:
 *   0x01  the rest is a Reply message: signed here with the hub's key and
 *         sealed to the agency, as the hub sends a sealed reply;
 *   0x02  the same, signed but sent plain, as the hub sends an early error;
 *   else  the whole input is the frame, as it comes off the wire.
 * Signing here is what lets the fuzzer past the signature check to the
 * parsing and rules behind it (a forged signature never verifies). */
#include "envelope.h"
#include "fuzz.h"
#include "psi.pb-c.h"
#include "psi/error.h"

static const char REPLY_CONTEXT[] = "psi/reply/v1"; /* psi.proto: signed with its NUL */

/* SignedReply{reply, Ed25519(hub, context || reply)}, packed; malloc'd. */
static uint8_t *signed_reply(const struct psi_identity *hub, const uint8_t *reply, size_t len,
                             size_t *out_len)
{
    uint8_t *message = malloc(sizeof REPLY_CONTEXT + len);
    unsigned char sig[crypto_sign_BYTES];
    if (message == NULL)
        return NULL;
    memcpy(message, REPLY_CONTEXT, sizeof REPLY_CONTEXT);
    if (len > 0)
        memcpy(message + sizeof REPLY_CONTEXT, reply, len);
    crypto_sign_detached(sig, NULL, message, sizeof REPLY_CONTEXT + len, hub->secret_key);
    free(message);
    Psi__SignedReply msg = PSI__SIGNED_REPLY__INIT;
    msg.reply.data = (uint8_t *)reply;
    msg.reply.len = len;
    msg.signature.data = sig;
    msg.signature.len = sizeof sig;
    *out_len = psi__signed_reply__get_packed_size(&msg);
    uint8_t *out = malloc(*out_len + 1);
    if (out != NULL)
        psi__signed_reply__pack(&msg, out + 1);
    return out; /* out[0] left for the frame type */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct psi_identity hub, agency;
    if (hub.secret_key == NULL) {
        fuzz_identity(&hub, FUZZ_HUB);
        fuzz_identity(&agency, FUZZ_AGENCY);
    }
    unsigned char request_id[PSI_REQUEST_ID_BYTES];
    fuzz_request_id(request_id);
    const uint8_t *frame = data;
    size_t frame_len = size;
    uint8_t *signed_bytes = NULL, *sealed = NULL;
    if (size > 0 && (data[0] == PSI_FRAME_SEALED || data[0] == PSI_FRAME_PLAIN_ERROR)) {
        size_t signed_len = 0;
        signed_bytes = signed_reply(&hub, data + 1, size - 1, &signed_len);
        if (signed_bytes == NULL)
            return 0;
        signed_bytes[0] = PSI_FRAME_PLAIN_ERROR;
        frame = signed_bytes;
        frame_len = 1 + signed_len;
        if (data[0] == PSI_FRAME_SEALED) {
            sealed = fuzz_seal(agency.public_key, signed_bytes + 1, signed_len, &frame_len);
            frame = sealed;
        }
    }
    struct psi_reply reply;
    int rc = frame == NULL
                 ? PSI_ERR_NOMEM
                 : psi_reply_open(&agency, hub.public_key, request_id, frame, frame_len, &reply);
    free(signed_bytes);
    free(sealed);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0, "a refused reply is a negative code");
        return 0;
    }
    size_t error_len = strnlen(reply.error, sizeof reply.error);
    FUZZ_CHECK(reply.status <= 0 && error_len <= PSI_ERROR_TEXT_MAX,
               "an authentic reply has status 0 or a negative code, and a bounded text");
    for (size_t i = 0; i < error_len; i++)
        FUZZ_CHECK((unsigned char)reply.error[i] >= 0x20 && reply.error[i] != 0x7f,
                   "no control characters reach a person through the error text");
    FUZZ_CHECK(reply.body != NULL || reply.body_len == 0, "a body has bytes");
    FUZZ_CHECK(memcmp(reply.request_id, request_id, PSI_REQUEST_ID_BYTES) == 0,
               "a reply is taken only as the answer to the request it names");
    psi_reply_clear(&reply);
    return 0;
}
