/*
 * A growing text buffer for the pages psi-hub serve --http renders: append
 * with printf formats or with an escape for the place the text goes (HTML,
 * a Prometheus label value). A failed allocation is remembered and every
 * later append is a no-op, so a renderer checks once, at the end.
 */
#ifndef PSI_HUB_TEXT_BUF_H
#define PSI_HUB_TEXT_BUF_H

#include <stddef.h>

struct psi_text_buf {
    char *text; /* NUL-terminated once anything was appended */
    size_t len, cap;
    int failed; /* out of memory at some append */
};

void psi_text_printf(struct psi_text_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s with & < > " ' as character references: safe in element text and in
 * a quoted attribute. */
void psi_text_html(struct psi_text_buf *b, const char *s);
/* s as a Prometheus label value (text format 0.0.4): \ " and newline
 * escaped as \\ \" \n. */
void psi_text_label_value(struct psi_text_buf *b, const char *s);
void psi_text_free(struct psi_text_buf *b);

#endif
