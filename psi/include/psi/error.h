/*
 * Error codes shared by every module of the project.
 *
 * Every function of libpsi that can fail returns 0 on success or one of the
 * negative codes below; psi_strerror() turns a code into a short phrase for a
 * person. Codes are stable: they also travel in the hub's error replies.
 */
#ifndef PSI_ERROR_H
#define PSI_ERROR_H

#include "psi/export.h"

#ifdef __cplusplus
extern "C" {
#endif

enum psi_error {
    PSI_OK = 0,
    PSI_ERR_INVALID = -1,     /* an argument is out of its documented range */
    PSI_ERR_ENCODING = -2,    /* a group element or scalar does not decode */
    PSI_ERR_IDENTITY = -3,    /* the identity element where it is forbidden */
    PSI_ERR_VERIFY = -4,      /* a proof or signature does not verify */
    PSI_ERR_NOMEM = -5,       /* out of memory */
    PSI_ERR_IO = -6,          /* reading or writing a file failed */
    PSI_ERR_PARSE = -7,       /* malformed input (file, message, note) */
    PSI_ERR_UNSUPPORTED = -8, /* well formed, but of no supported kind */
    PSI_ERR_TOO_LARGE = -9,   /* a size exceeds a limit */
    PSI_ERR_CRYPTO = -10,     /* a primitive failed (e.g. key derivation) */
    PSI_ERR_STATE = -11,      /* the operation does not fit the current state */
    PSI_ERR_NOT_FOUND = -12,  /* no such participant, submission, entry */
    PSI_ERR_DENIED = -13,     /* refused by roster or policy */
    PSI_ERR_REPLAY = -14,     /* a nonce seen before */
    PSI_ERR_STALE = -15,      /* a timestamp outside the accepted window */
    PSI_ERR_PROTOCOL = -16,   /* a message that does not fit the protocol */
    PSI_ERR_STORE = -17,      /* the persistent store failed */
    PSI_ERR_NETWORK = -18,    /* the transport failed */
    PSI_ERR_TIMEOUT = -19,    /* no answer in time */
    PSI_ERR_QUOTA = -20,      /* over quota */
    PSI_ERR_EXISTS = -21,     /* already exists */
    PSI_ERR_EPOCH = -22,      /* wrong epoch */
};

/* A short phrase for an error code; never NULL. */
PSI_EXPORT const char *psi_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
