/* A growing text buffer (text_buf.h). */
#include "text_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct psi_text_buf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap != 0 ? b->cap : 1024;
    while (cap < b->len + more + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *text = realloc(b->text, cap);
    if (text == NULL) {
        b->failed = 1;
        return -1;
    }
    b->text = text;
    b->cap = cap;
    return 0;
}

static void append(struct psi_text_buf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->text[b->len] = '\0';
}

void psi_text_printf(struct psi_text_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->text + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void psi_text_html(struct psi_text_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&': append(b, "&amp;", 5); break;
        case '<': append(b, "&lt;", 4); break;
        case '>': append(b, "&gt;", 4); break;
        case '"': append(b, "&quot;", 6); break;
        case '\'': append(b, "&#39;", 5); break;
        default: append(b, s, 1);
        }
    }
}

void psi_text_label_value(struct psi_text_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '\\': append(b, "\\\\", 2); break;
        case '"': append(b, "\\\"", 2); break;
        case '\n': append(b, "\\n", 2); break;
        default: append(b, s, 1);
        }
    }
}

void psi_text_free(struct psi_text_buf *b)
{
    free(b->text);
    memset(b, 0, sizeof *b);
}
