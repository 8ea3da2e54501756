/*
 * The reason a check gives a person: the client's modules that decide
 * (epoch_guard.c, log_view.c, ...) return an error code and leave one line
 * saying why in a caller's buffer. psi_reason writes that line and returns
 * the code, so a refusal is one statement:
 *     return psi_reason(why, whylen, PSI_ERR_VERIFY, "entry %zu ...", i);
 */
#ifndef PSI_CLIENT_REASON_H
#define PSI_CLIENT_REASON_H

#include <stddef.h>

/* Formats the reason into why[0..whylen) (truncated, always terminated when
 * whylen > 0) and returns code. */
int psi_reason(char *why, size_t whylen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
