#include "psi/error.h"

const char *psi_strerror(int code)
{
    switch (code) {
    case PSI_OK: return "success";
    case PSI_ERR_INVALID: return "invalid argument";
    case PSI_ERR_ENCODING: return "invalid group element or scalar encoding";
    case PSI_ERR_IDENTITY: return "identity element not allowed";
    case PSI_ERR_VERIFY: return "verification failed";
    case PSI_ERR_NOMEM: return "out of memory";
    case PSI_ERR_IO: return "input/output error";
    case PSI_ERR_PARSE: return "malformed input";
    case PSI_ERR_UNSUPPORTED: return "unsupported";
    case PSI_ERR_TOO_LARGE: return "too large";
    case PSI_ERR_CRYPTO: return "cryptographic operation failed";
    case PSI_ERR_STATE: return "not allowed in the current state";
    case PSI_ERR_NOT_FOUND: return "not found";
    case PSI_ERR_DENIED: return "denied";
    case PSI_ERR_REPLAY: return "replayed request";
    case PSI_ERR_STALE: return "timestamp outside the accepted window";
    case PSI_ERR_PROTOCOL: return "protocol violation";
    case PSI_ERR_STORE: return "storage failure";
    case PSI_ERR_NETWORK: return "network failure";
    case PSI_ERR_TIMEOUT: return "timed out";
    case PSI_ERR_QUOTA: return "over quota";
    case PSI_ERR_EXISTS: return "already exists";
    case PSI_ERR_EPOCH: return "wrong epoch";
    default: return "unknown error";
    }
}
