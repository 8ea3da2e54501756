/* Fuzz target: a request frame as the hub receives it off the wire
 * (psi_request_open with the fixture's hub identity). A frame that opens is
 * then checked against the fixture agency's key (psi_request_verify), so
 * that seeds sealed and signed by gen_seeds reach the signature check. */
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
    struct psi_request req;
    int rc = psi_request_open(&hub, data, size, &req);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && req.body == NULL && req.signed_bytes == NULL,
                   "a refused frame is a negative code and leaves nothing allocated");
        return 0;
    }
    FUZZ_CHECK(psi_id_is_valid(req.sender) && req.signed_bytes != NULL &&
                   (req.body != NULL || req.body_len == 0),
               "an opened request names a valid sender and keeps what was signed");
    rc = psi_request_verify(&req, agency.public_key);
    FUZZ_CHECK(rc == 0 || rc == PSI_ERR_VERIFY, "verification says yes or PSI_ERR_VERIFY");
    psi_request_clear(&req);
    return 0;
}
