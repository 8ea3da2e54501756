/* The reason a check gives a person (reason.h). */
#include "reason.h"

#include <stdarg.h>
#include <stdio.h>

int psi_reason(char *why, size_t whylen, int code, const char *fmt, ...)
{
    if (why == NULL || whylen == 0)
        return code;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return code;
}
