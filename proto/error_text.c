/* The wire helpers' error lines (error_text.h). */
#include "error_text.h"

#include <stdarg.h>
#include <stdio.h>

void psi_proto_set_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
