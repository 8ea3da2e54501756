/* Fuzz target: what is inside the seal of a request. The fuzzer's bytes are
 * taken as the SignedRequest message, sealed here to the fixture hub's key
 * and handed to psi_request_open, so that the parsing behind the seal (which
 * fuzzed frames cannot reach: a seal does not open by chance) is exercised. */
#include "envelope.h"
#include "fuzz.h"
#include "psi/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct psi_identity hub, agency;
    if (hub.secret_key == NULL) {
        fuzz_identity(&hub, FUZZ_HUB);
        fuzz_identity(&agency, FUZZ_AGENCY);
    }
    size_t frame_len = 0;
    uint8_t *frame = fuzz_seal(hub.public_key, data, size, &frame_len);
    if (frame == NULL)
        return 0;
    struct psi_request req;
    int rc = psi_request_open(&hub, frame, frame_len, &req);
    free(frame);
    if (rc != 0) {
        FUZZ_CHECK(
            rc == PSI_ERR_PARSE || rc == PSI_ERR_PROTOCOL || rc == PSI_ERR_TOO_LARGE,
            "a sealed request that does not parse is PSI_ERR_PARSE, _PROTOCOL or _TOO_LARGE");
        FUZZ_CHECK(req.body == NULL && req.signed_bytes == NULL, "a refused frame leaves nothing");
        return 0;
    }
    FUZZ_CHECK(psi_id_is_valid(req.sender) && req.signed_bytes != NULL,
               "an opened request names a valid sender and keeps what was signed");
    rc = psi_request_verify(&req, agency.public_key);
    FUZZ_CHECK(rc == 0 || rc == PSI_ERR_VERIFY, "verification says yes or PSI_ERR_VERIFY");
    psi_request_clear(&req);
    return 0;
}
