/*
 * How the wire helpers (identity.c, rpc.c) say what went wrong: a formatted
 * line in a caller's buffer, which the caller may leave out (NULL or 0
 * bytes). Internal to psiproto.
 */
#ifndef PSI_PROTO_ERROR_TEXT_H
#define PSI_PROTO_ERROR_TEXT_H

#include <stddef.h>

/* Writes the formatted text into err (truncated to errlen, always ended),
 * or nothing when err is NULL or errlen is 0. */
void psi_proto_set_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
