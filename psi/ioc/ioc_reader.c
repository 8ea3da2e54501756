/*
 * Indicator files in: loading, format detection, plain text and CSV. The
 * JSON formats (STIX, MISP) are in ioc_json.c. The rules each reader follows
 * are stated in psi/ioc_reader.h.
 */
#include "psi/ioc_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ioc_reader_impl.h"
#include "psi/error.h"

static const char *const format_names[] = {"auto", "text", "csv", "stix", "misp"};

const char *psi_ioc_format_name(enum psi_ioc_format format)
{
    if ((unsigned)format >= sizeof format_names / sizeof format_names[0])
        return "auto";
    return format_names[format];
}

int psi_ioc_format_from_name(const char *name, enum psi_ioc_format *format)
{
    if (name == NULL || format == NULL)
        return PSI_ERR_INVALID;
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *format = (enum psi_ioc_format)i;
            return PSI_OK;
        }
    }
    return PSI_ERR_NOT_FOUND;
}

int psi_ioc_reader_fail(const struct psi_ioc_reader *r, int code, unsigned long line,
                        const char *fmt, ...)
{
    if (r->err == NULL || r->errlen == 0)
        return code;
    int n;
    if (line > 0)
        n = snprintf(r->err, r->errlen, "%s:%lu: ", r->name, line);
    else
        n = snprintf(r->err, r->errlen, "%s: ", r->name);
    if (n < 0 || (size_t)n >= r->errlen)
        return code;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- MISP attribute types ------------------------------------------------ */

struct misp_entry {
    const char *name;
    struct psi_ioc_misp_kind kind;
};

#define ONE(t)                                                                                     \
    {                                                                                              \
        false,                                                                                     \
        {                                                                                          \
            t, PSI_IOC_NONE                                                                        \
        }                                                                                          \
    }
#define TWO(a, b)                                                                                  \
    {                                                                                              \
        true,                                                                                      \
        {                                                                                          \
            a, b                                                                                   \
        }                                                                                          \
    }

/* "link" is left out on purpose: it points at the report that describes the
 * event, and every party holding that report would "match" on it. */
static const struct misp_entry misp_types[] = {
    {"ip-dst", ONE(PSI_IOC_IPV4)},
    {"ip-src", ONE(PSI_IOC_IPV4)},
    {"ip-dst|port", TWO(PSI_IOC_IPV4, PSI_IOC_NONE)},
    {"ip-src|port", TWO(PSI_IOC_IPV4, PSI_IOC_NONE)},
    {"domain", ONE(PSI_IOC_DOMAIN)},
    {"hostname", ONE(PSI_IOC_DOMAIN)},
    {"domain|ip", TWO(PSI_IOC_DOMAIN, PSI_IOC_IPV4)},
    {"hostname|port", TWO(PSI_IOC_DOMAIN, PSI_IOC_NONE)},
    {"url", ONE(PSI_IOC_URL)},
    {"uri", ONE(PSI_IOC_URL)},
    {"email", ONE(PSI_IOC_EMAIL)},
    {"email-src", ONE(PSI_IOC_EMAIL)},
    {"email-dst", ONE(PSI_IOC_EMAIL)},
    {"email-reply-to", ONE(PSI_IOC_EMAIL)},
    {"md5", ONE(PSI_IOC_MD5)},
    {"sha1", ONE(PSI_IOC_SHA1)},
    {"sha256", ONE(PSI_IOC_SHA256)},
    {"sha512", ONE(PSI_IOC_SHA512)},
    {"filename|md5", TWO(PSI_IOC_NONE, PSI_IOC_MD5)},
    {"filename|sha1", TWO(PSI_IOC_NONE, PSI_IOC_SHA1)},
    {"filename|sha256", TWO(PSI_IOC_NONE, PSI_IOC_SHA256)},
    {"filename|sha512", TWO(PSI_IOC_NONE, PSI_IOC_SHA512)},
    {"malware-sample", TWO(PSI_IOC_NONE, PSI_IOC_MD5)},
};

bool psi_ioc_misp_kind(const char *misp_type, struct psi_ioc_misp_kind *kind)
{
    for (size_t i = 0; i < sizeof misp_types / sizeof misp_types[0]; i++) {
        if (strcmp(misp_type, misp_types[i].name) == 0) {
            *kind = misp_types[i].kind;
            return true;
        }
    }
    return false;
}

int psi_ioc_offer(struct psi_ioc_set *set, enum psi_ioc_type type, const char *value, size_t len)
{
    int rc = psi_ioc_set_offer(set, type, value, len, NULL);
    if (rc == 0 || rc == 1 || rc == PSI_ERR_UNSUPPORTED)
        return PSI_OK;
    return rc;
}

/* A value of kind `type` (PSI_IOC_NONE: not an indicator part), offered or,
 * not for detection, counted so. */
static int offer_part(struct psi_ioc_set *set, enum psi_ioc_type type, const char *value,
                      size_t len, bool for_detection)
{
    if (type == PSI_IOC_NONE)
        return PSI_OK;
    if (!for_detection) {
        psi_ioc_set_skip_value(set, PSI_IOC_SKIP_NOT_FOR_DETECTION, NULL, value, len);
        return PSI_OK;
    }
    return psi_ioc_offer(set, type, value, len);
}

int psi_ioc_offer_misp(struct psi_ioc_set *set, const char *misp_type, const char *value,
                       size_t len, bool for_detection)
{
    struct psi_ioc_misp_kind kind;
    enum psi_ioc_type own;
    if (psi_ioc_type_from_name(misp_type, &own) == PSI_OK)
        return offer_part(set, own, value, len, for_detection);
    if (!psi_ioc_misp_kind(misp_type, &kind)) {
        char name[PSI_IOC_UNSUPPORTED_NAME_MAX + 1];
        (void)snprintf(name, sizeof name, "misp:%s", misp_type);
        psi_ioc_set_skip_value(set, PSI_IOC_SKIP_UNSUPPORTED, name, value, len);
        return PSI_OK;
    }
    if (!kind.composite)
        return offer_part(set, kind.part[0], value, len, for_detection);
    /* The last '|': a file name may hold one, an address or hash never. */
    const char *bar = NULL;
    for (size_t i = len; i > 0; i--) {
        if (value[i - 1] == '|') {
            bar = value + i - 1;
            break;
        }
    }
    if (bar == NULL) {
        psi_ioc_set_skip_value(set, PSI_IOC_SKIP_MALFORMED, NULL, value, len);
        return PSI_OK;
    }
    size_t first_len = (size_t)(bar - value);
    int rc = offer_part(set, kind.part[0], value, first_len, for_detection);
    if (rc == PSI_OK)
        rc = offer_part(set, kind.part[1], bar + 1, len - first_len - 1, for_detection);
    return rc;
}

/* ---- one line of columns ------------------------------------------------ */

/* What the columns of one text line (or CSV row) gave; see the header for
 * how a line with no indicator is counted. */
struct line_tally {
    bool taken;    /* an indicator was added (new or duplicate) */
    bool refused;  /* a column was refused for a specific reason */
    bool filename; /* a column looked like a file name */
};

static int tally_column(struct psi_ioc_set *set, struct line_tally *t, const char *s, size_t len)
{
    struct psi_ioc ioc;
    enum psi_ioc_skip why;
    if (len == 0)
        return PSI_OK;
    int rc = psi_ioc_canonicalise(s, len, &ioc, &why);
    if (rc == PSI_OK) {
        rc = psi_ioc_set_take(set, &ioc, s, len);
        if (rc == PSI_ERR_UNSUPPORTED) { /* excluded, and counted so */
            t->refused = true;
            return PSI_OK;
        }
        if (rc < 0)
            return rc;
        t->taken = true;
        return PSI_OK;
    }
    if (rc != PSI_ERR_UNSUPPORTED)
        return rc;
    if (why == PSI_IOC_SKIP_FILENAME) {
        t->filename = true;
    } else if (why != PSI_IOC_SKIP_UNSUPPORTED) {
        psi_ioc_set_skip_value(set, why, NULL, s, len);
        t->refused = true;
    }
    return PSI_OK;
}

/* line, len: the whole line (or row), the value an observer is shown when
 * the line counts once. */
static void tally_finish(struct psi_ioc_set *set, const struct line_tally *t, const char *line,
                         size_t len)
{
    if (t->taken || t->refused)
        return;
    psi_ioc_set_skip_value(set, t->filename ? PSI_IOC_SKIP_FILENAME : PSI_IOC_SKIP_UNSUPPORTED,
                           NULL, line, len);
}

/* ---- plain text --------------------------------------------------------- */

static bool is_text_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_column_break(char c)
{
    return is_text_space(c) || c == ',' || c == ';' || c == '|';
}

static int read_text_line(struct psi_ioc_set *set, const char *s, size_t len)
{
    while (len > 0 && is_text_space(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_text_space(s[len - 1]))
        len--;
    if (len == 0 || s[0] == '#' || (len >= 2 && s[0] == '/' && s[1] == '/'))
        return PSI_OK;
    struct line_tally t = {false, false, false};
    size_t i = 0;
    while (i < len) {
        while (i < len && is_column_break(s[i]))
            i++;
        size_t start = i;
        while (i < len && !is_column_break(s[i]))
            i++;
        int rc = tally_column(set, &t, s + start, i - start);
        if (rc != PSI_OK)
            return rc;
    }
    tally_finish(set, &t, s, len);
    return PSI_OK;
}

static int read_text(const struct psi_ioc_reader *r, const char *buf, size_t len)
{
    size_t pos = 0;
    unsigned long line = 0;
    while (pos < len) {
        line++;
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - buf) : len;
        r->origin->line = line;
        int rc = read_text_line(r->set, buf + pos, end - pos);
        if (rc != PSI_OK)
            return psi_ioc_reader_fail(r, rc, line, "%s", psi_strerror(rc));
        pos = end + 1;
    }
    return PSI_OK;
}

/* ---- CSV ---------------------------------------------------------------- */

struct csv_field {
    size_t off, len;
};

struct csv_record {
    char *bytes; /* unquoted field contents, back to back */
    size_t len, cap;
    struct csv_field *fields;
    size_t nfields, fields_cap;
    unsigned long line; /* where the record starts */
    size_t start;       /* its bytes in the input: from start ... */
};

struct csv_parser {
    const char *buf;
    size_t len, pos;
    unsigned long line;
    char delimiter;
};

static int record_put(struct csv_record *rec, const char *s, size_t n)
{
    if (n == 0)
        return PSI_OK; /* and no memcpy to a buffer not yet allocated */
    if (n > rec->cap - rec->len) {
        size_t cap = rec->cap == 0 ? 256 : rec->cap;
        while (cap - rec->len < n) {
            if (cap > SIZE_MAX / 2)
                return PSI_ERR_NOMEM;
            cap *= 2;
        }
        char *bytes = realloc(rec->bytes, cap);
        if (bytes == NULL)
            return PSI_ERR_NOMEM;
        rec->bytes = bytes;
        rec->cap = cap;
    }
    memcpy(rec->bytes + rec->len, s, n);
    rec->len += n;
    return PSI_OK;
}

static int record_field(struct csv_record *rec, size_t off)
{
    if (rec->nfields == rec->fields_cap) {
        size_t cap = rec->fields_cap == 0 ? 16 : rec->fields_cap * 2;
        if (cap > SIZE_MAX / sizeof(struct csv_field))
            return PSI_ERR_NOMEM;
        struct csv_field *f = realloc(rec->fields, cap * sizeof *f);
        if (f == NULL)
            return PSI_ERR_NOMEM;
        rec->fields = f;
        rec->fields_cap = cap;
    }
    rec->fields[rec->nfields].off = off;
    rec->fields[rec->nfields].len = rec->len - off;
    rec->nfields++;
    return PSI_OK;
}

/* Reads the next record. Returns 0, PSI_ERR_PARSE (message written) or
 * PSI_ERR_NOMEM; *done is set at the end of the input. */
static int csv_next(const struct psi_ioc_reader *r, struct csv_parser *p, struct csv_record *rec,
                    bool *done)
{
    rec->len = 0;
    rec->nfields = 0;
    rec->line = p->line;
    rec->start = p->pos;
    if (p->pos >= p->len) {
        *done = true;
        return PSI_OK;
    }
    *done = false;
    for (;;) {
        size_t off = rec->len;
        int rc;
        if (p->pos < p->len && p->buf[p->pos] == '"') {
            unsigned long opened = p->line;
            p->pos++;
            for (;;) {
                if (p->pos >= p->len)
                    return psi_ioc_reader_fail(r, PSI_ERR_PARSE, opened,
                                               "quoted field is never closed");
                char c = p->buf[p->pos];
                if (c == '"') {
                    if (p->pos + 1 < p->len && p->buf[p->pos + 1] == '"') {
                        rc = record_put(rec, "\"", 1);
                        p->pos += 2;
                    } else {
                        p->pos++;
                        break;
                    }
                } else {
                    if (c == '\n')
                        p->line++;
                    rc = record_put(rec, &c, 1);
                    p->pos++;
                }
                if (rc != PSI_OK)
                    return rc;
            }
            if (p->pos < p->len && p->buf[p->pos] == '\r' &&
                (p->pos + 1 == p->len || p->buf[p->pos + 1] == '\n'))
                p->pos++;
            if (p->pos < p->len && p->buf[p->pos] != p->delimiter && p->buf[p->pos] != '\n') {
                unsigned char bad = (unsigned char)p->buf[p->pos];
                if (bad >= 0x21 && bad < 0x7f)
                    return psi_ioc_reader_fail(r, PSI_ERR_PARSE, p->line,
                                               "'%c' after the closing quote of a field", bad);
                return psi_ioc_reader_fail(r, PSI_ERR_PARSE, p->line,
                                           "byte 0x%02x after the closing quote of a field", bad);
            }
        } else {
            size_t start = p->pos;
            while (p->pos < p->len && p->buf[p->pos] != p->delimiter && p->buf[p->pos] != '\n')
                p->pos++;
            size_t end = p->pos;
            if (end > start && p->buf[end - 1] == '\r' && (end == p->len || p->buf[end] == '\n'))
                end--;
            rc = record_put(rec, p->buf + start, end - start);
            if (rc != PSI_OK)
                return rc;
        }
        rc = record_field(rec, off);
        if (rc != PSI_OK)
            return rc;
        if (p->pos >= p->len)
            return PSI_OK;
        char sep = p->buf[p->pos++];
        if (sep == '\n') {
            p->line++;
            return PSI_OK;
        }
    }
}

static void field_text(const struct csv_record *rec, size_t i, const char **s, size_t *len)
{
    /* a record of empty fields has no buffer yet */
    *s = rec->bytes == NULL ? "" : rec->bytes + rec->fields[i].off;
    *len = rec->fields[i].len;
    while (*len > 0 && is_text_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_text_space((*s)[*len - 1]))
        (*len)--;
}

static bool field_is(const struct csv_record *rec, size_t i, const char *name)
{
    const char *s;
    size_t len;
    field_text(rec, i, &s, &len);
    if (strlen(name) != len)
        return false;
    for (size_t k = 0; k < len; k++) {
        char a = s[k], b = name[k];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

static bool blank_record(const struct csv_record *rec)
{
    return rec->nfields == 1 && rec->fields[0].len == 0;
}

/* A header row has no field that is an indicator or refused as one. */
static bool looks_like_header(const struct csv_record *rec)
{
    for (size_t i = 0; i < rec->nfields; i++) {
        const char *s;
        size_t len;
        struct psi_ioc ioc;
        enum psi_ioc_skip why;
        field_text(rec, i, &s, &len);
        int rc = psi_ioc_canonicalise(s, len, &ioc, &why);
        if (rc == PSI_OK || (why != PSI_IOC_SKIP_UNSUPPORTED && why != PSI_IOC_SKIP_FILENAME))
            return false;
    }
    return true;
}

/* Column names that say "indicators here", and the kind they imply
 * (PSI_IOC_NONE: detect per value). */
struct column_name {
    const char *name;
    enum psi_ioc_type type;
};

static const struct column_name indicator_columns[] = {
    {"indicator", PSI_IOC_NONE},  {"ioc", PSI_IOC_NONE},    {"value", PSI_IOC_NONE},
    {"observable", PSI_IOC_NONE}, {"hash", PSI_IOC_NONE},   {"ip", PSI_IOC_IPV4},
    {"host", PSI_IOC_DOMAIN},     {"fqdn", PSI_IOC_DOMAIN},
};

/* The kind a column name implies, if it names one. */
static bool column_kind(const struct csv_record *rec, size_t i, enum psi_ioc_type *type)
{
    const char *s;
    size_t len;
    char name[32];
    field_text(rec, i, &s, &len);
    if (len == 0 || len >= sizeof name)
        return false;
    for (size_t k = 0; k < len; k++)
        name[k] = (char)((s[k] >= 'A' && s[k] <= 'Z') ? s[k] - 'A' + 'a' : s[k]);
    name[len] = '\0';
    for (size_t k = 0; k < sizeof indicator_columns / sizeof indicator_columns[0]; k++) {
        if (strcmp(name, indicator_columns[k].name) == 0) {
            *type = indicator_columns[k].type;
            return true;
        }
    }
    if (psi_ioc_type_from_name(name, type) == PSI_OK)
        return true;
    struct psi_ioc_misp_kind kind;
    if (psi_ioc_misp_kind(name, &kind) && !kind.composite) {
        *type = kind.part[0];
        return true;
    }
    return false;
}

static char detect_delimiter(const char *buf, size_t len)
{
    size_t comma = 0, semicolon = 0, tab = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && c == '\n')
            break;
        else if (!quoted && c == ',')
            comma++;
        else if (!quoted && c == ';')
            semicolon++;
        else if (!quoted && c == '\t')
            tab++;
    }
    if (semicolon > comma && semicolon >= tab)
        return ';';
    if (tab > comma && tab > semicolon)
        return '\t';
    return ',';
}

enum csv_mode { CSV_ALL, CSV_COLUMN, CSV_TYPED };

/* The row as it is in the input (up to where the parser stands, less the
 * line end): what an observer is shown when a row counts once. */
static void row_text(const struct csv_parser *p, const struct csv_record *rec, const char **s,
                     size_t *len)
{
    size_t end = p->pos;
    while (end > rec->start && (p->buf[end - 1] == '\n' || p->buf[end - 1] == '\r'))
        end--;
    *s = p->buf + rec->start;
    *len = end - rec->start;
}

/* A MISP CSV export's to_ids cell: "0", "false" (any case) say "not for
 * detection"; anything else, or no cell, says nothing against it. */
static bool cell_for_detection(const struct csv_record *rec, bool has_column, size_t column)
{
    if (!has_column || column >= rec->nfields)
        return true;
    return !field_is(rec, column, "0") && !field_is(rec, column, "false");
}

static int read_csv(const struct psi_ioc_reader *r, const char *buf, size_t len,
                    const struct psi_csv_opts *opts)
{
    struct csv_parser p = {buf, len, 0, 1, 0};
    struct csv_record rec = {0};
    bool done = false;
    int rc;
    enum csv_mode mode = CSV_ALL;
    size_t column = 0, type_column = 0, to_ids_column = 0;
    bool has_to_ids = false;
    enum psi_ioc_type column_type = PSI_IOC_NONE;

    if (opts != NULL && opts->delimiter != 0)
        p.delimiter = opts->delimiter;
    else
        p.delimiter = detect_delimiter(buf, len);
    if (p.delimiter == '"' || p.delimiter == '\n' || p.delimiter == '\r') {
        rc = psi_ioc_reader_fail(r, PSI_ERR_INVALID, 0,
                                 "a quote or line end cannot be the "
                                 "CSV delimiter");
        goto out;
    }
    /* skip leading blank lines to the first record */
    do {
        rc = csv_next(r, &p, &rec, &done);
        if (rc != PSI_OK)
            goto out;
    } while (!done && blank_record(&rec));
    if (done)
        goto out;

    bool header = looks_like_header(&rec);
    if (opts != NULL && opts->column_name != NULL) {
        if (!header) {
            rc = psi_ioc_reader_fail(r, PSI_ERR_PARSE, rec.line,
                                     "no header row to find column '%s' in", opts->column_name);
            goto out;
        }
        bool found = false;
        for (size_t i = 0; i < rec.nfields && !found; i++) {
            if (field_is(&rec, i, opts->column_name)) {
                column = i;
                found = true;
            }
        }
        if (!found) {
            rc = psi_ioc_reader_fail(r, PSI_ERR_PARSE, rec.line, "no column named '%s'",
                                     opts->column_name);
            goto out;
        }
        mode = CSV_COLUMN;
        if (!column_kind(&rec, column, &column_type))
            column_type = PSI_IOC_NONE;
    } else if (opts != NULL && opts->column_index > 0) {
        column = opts->column_index - 1;
        mode = CSV_COLUMN;
        if (!header || column >= rec.nfields || !column_kind(&rec, column, &column_type))
            column_type = PSI_IOC_NONE;
    } else if (header) {
        bool has_type = false, has_value = false;
        for (size_t i = 0; i < rec.nfields; i++) {
            if (!has_type && field_is(&rec, i, "type")) {
                type_column = i;
                has_type = true;
            }
            if (!has_value && field_is(&rec, i, "value")) {
                column = i;
                has_value = true;
            }
        }
        if (has_type && has_value) {
            mode = CSV_TYPED;
            for (size_t i = 0; i < rec.nfields && !has_to_ids && !r->all_attributes; i++) {
                if (field_is(&rec, i, "to_ids")) {
                    to_ids_column = i;
                    has_to_ids = true;
                }
            }
        } else {
            for (size_t i = 0; i < rec.nfields; i++) {
                if (column_kind(&rec, i, &column_type)) {
                    column = i;
                    mode = CSV_COLUMN;
                    break;
                }
            }
        }
    }

    bool first = true;
    for (;;) {
        if (!first || header) {
            rc = csv_next(r, &p, &rec, &done);
            if (rc != PSI_OK)
                goto out;
            if (done)
                break;
        }
        first = false;
        if (blank_record(&rec))
            continue;
        r->origin->line = rec.line;
        const char *s;
        size_t slen;
        if (mode == CSV_ALL) {
            struct line_tally t = {false, false, false};
            for (size_t i = 0; i < rec.nfields; i++) {
                field_text(&rec, i, &s, &slen);
                rc = tally_column(r->set, &t, s, slen);
                if (rc != PSI_OK)
                    goto fail_row;
            }
            row_text(&p, &rec, &s, &slen);
            tally_finish(r->set, &t, s, slen);
            continue;
        }
        if (column >= rec.nfields || (mode == CSV_TYPED && type_column >= rec.nfields)) {
            row_text(&p, &rec, &s, &slen);
            psi_ioc_set_skip_value(r->set, PSI_IOC_SKIP_MALFORMED, NULL, s, slen);
            continue;
        }
        field_text(&rec, column, &s, &slen);
        if (slen == 0)
            continue;
        if (mode == CSV_TYPED) {
            const char *ts;
            size_t tlen;
            char type_name[PSI_IOC_UNSUPPORTED_NAME_MAX + 1];
            field_text(&rec, type_column, &ts, &tlen);
            if (tlen >= sizeof type_name || memchr(ts, '\0', tlen) != NULL)
                tlen = sizeof type_name - 1;
            memcpy(type_name, ts, tlen);
            type_name[tlen] = '\0';
            rc = psi_ioc_offer_misp(r->set, type_name, s, slen,
                                    cell_for_detection(&rec, has_to_ids, to_ids_column));
        } else {
            rc = psi_ioc_offer(r->set, column_type, s, slen);
        }
        if (rc != PSI_OK)
            goto fail_row;
    }
    rc = PSI_OK;
    goto out;
fail_row:
    rc = psi_ioc_reader_fail(r, rc, rec.line, "%s", psi_strerror(rc));
out:
    free(rec.bytes);
    free(rec.fields);
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* What a parsed JSON document is, by its top (or its first element's):
 * PSI_IOC_FORMAT_AUTO when neither. */
static enum psi_ioc_format json_kind(json_t *doc)
{
    json_t *probe = doc;
    if (json_is_array(doc))
        probe = json_array_get(doc, 0);
    const char *type = json_string_value(json_object_get(probe, "type"));
    if (type != NULL && (strcmp(type, "bundle") == 0 || strcmp(type, "indicator") == 0))
        return PSI_IOC_FORMAT_STIX;
    if (json_object_get(probe, "Event") != NULL || json_object_get(probe, "response") != NULL ||
        json_object_get(probe, "Attribute") != NULL)
        return PSI_IOC_FORMAT_MISP;
    return PSI_IOC_FORMAT_AUTO;
}

/* How a format is named in messages. */
static const char *format_phrase(enum psi_ioc_format format)
{
    switch (format) {
    case PSI_IOC_FORMAT_STIX: return "a STIX 2 bundle";
    case PSI_IOC_FORMAT_MISP: return "a MISP event";
    case PSI_IOC_FORMAT_CSV: return "CSV";
    case PSI_IOC_FORMAT_TEXT: return "text";
    case PSI_IOC_FORMAT_AUTO: break;
    }
    return "JSON";
}

static int read_json(const struct psi_ioc_reader *r, const char *buf, size_t len,
                     enum psi_ioc_format format, enum psi_ioc_format *read_as)
{
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, 0, &jerr);
    if (doc == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return psi_ioc_reader_fail(r, PSI_ERR_NOMEM, 0, "out of memory reading JSON");
        unsigned long line = jerr.line > 0 ? (unsigned long)jerr.line : 1;
        size_t i = 0;
        while (i < len && is_json_space(buf[i]))
            i++;
        /* --format stix or misp on a text list: say so, not where JSON broke */
        if (format != PSI_IOC_FORMAT_AUTO && i < len && buf[i] != '{' && buf[i] != '[' &&
            buf[i] != '"')
            return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0,
                                       "not JSON, so not %s; read it as text or csv (or auto)",
                                       format_phrase(format));
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, line, "JSON: %s", jerr.text);
    }
    enum psi_ioc_format kind = json_kind(doc);
    if (format == PSI_IOC_FORMAT_AUTO)
        format = kind;
    int rc;
    if (format == PSI_IOC_FORMAT_STIX && kind == PSI_IOC_FORMAT_MISP)
        rc = psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0,
                                 "this is a MISP event, not a STIX 2 bundle; read it as misp "
                                 "(or auto)");
    else if (format == PSI_IOC_FORMAT_STIX)
        rc = psi_ioc_read_stix_json(r, doc);
    else if (format == PSI_IOC_FORMAT_MISP)
        rc = psi_ioc_read_misp_json(r, doc);
    else
        rc = psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0,
                                 "JSON that is neither a STIX 2 bundle nor a MISP event");
    if (format == PSI_IOC_FORMAT_MISP && rc == PSI_ERR_PARSE && kind == PSI_IOC_FORMAT_STIX &&
        r->err != NULL && r->errlen > 0) {
        size_t used = strlen(r->err);
        (void)snprintf(r->err + used, r->errlen - used,
                       " (it is a STIX 2 bundle: read it as stix)");
    }
    if (format == PSI_IOC_FORMAT_STIX || format == PSI_IOC_FORMAT_MISP)
        *read_as = format;
    json_decref(doc);
    return rc;
}

/* ---- entry points ------------------------------------------------------- */

static bool ends_with_ci(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    if (n < m)
        return false;
    for (size_t i = 0; i < m; i++) {
        char c = name[n - m + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != suffix[i])
            return false;
    }
    return true;
}

/* Opens like a JSON document: '{', or '[' followed by a JSON value opener (a
 * text list may open with "[2001:db8::1]:443"). */
static bool opens_like_json(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && is_json_space(buf[i]))
        i++;
    if (i < len && buf[i] == '{')
        return true;
    if (i < len && buf[i] == '[') {
        i++;
        while (i < len && is_json_space(buf[i]))
            i++;
        if (i == len || buf[i] == '{' || buf[i] == '[' || buf[i] == '"' || buf[i] == ']')
            return true;
    }
    return false;
}

/* JSON if it opens like it, or is named *.json. */
static bool looks_like_json(const char *name, const char *buf, size_t len)
{
    return opens_like_json(buf, len) || ends_with_ci(name, ".json");
}

/*
 * A file given as text or CSV that is in fact a JSON document (a STIX
 * bundle or a MISP event read with --format text or csv) would be read as
 * lines of JSON syntax: report links and attack-pattern URLs taken as
 * indicators, to_ids ignored. It is refused, naming what it is. Only a
 * document that parses whole counts, so a text list that merely opens with
 * '[' or '{' is read as asked.
 */
static int refuse_json_as_text(const struct psi_ioc_reader *r, const char *buf, size_t len,
                               enum psi_ioc_format format)
{
    if (!opens_like_json(buf, len))
        return PSI_OK;
    json_t *doc = json_loadb(buf, len, 0, NULL);
    if (doc == NULL)
        return PSI_OK;
    enum psi_ioc_format kind = json_kind(doc);
    json_decref(doc);
    if (kind == PSI_IOC_FORMAT_AUTO)
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "this is a JSON document, not %s",
                                   format_phrase(format));
    return psi_ioc_reader_fail(
        r, PSI_ERR_PARSE, 0, "this is %s (JSON), not %s; read it as %s (or auto)",
        format_phrase(kind), format_phrase(format), psi_ioc_format_name(kind));
}

static int read_buffer(const struct psi_ioc_reader *r, const char *buf, size_t len,
                       enum psi_ioc_format format, const struct psi_csv_opts *csv,
                       enum psi_ioc_format *read_as)
{
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    if (len >= 2 && ((unsigned char)buf[0] == 0xff || (unsigned char)buf[0] == 0xfe) &&
        (unsigned char)buf[1] == ((unsigned char)buf[0] ^ 0x01u))
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 1, "UTF-16 text; convert it to UTF-8");
    bool asked = format != PSI_IOC_FORMAT_AUTO;
    if (format == PSI_IOC_FORMAT_AUTO) {
        if (looks_like_json(r->name, buf, len))
            ; /* STIX or MISP: decided on the parsed document */
        else if (ends_with_ci(r->name, ".csv"))
            format = PSI_IOC_FORMAT_CSV;
        else
            format = PSI_IOC_FORMAT_TEXT;
    }
    bool csv_options = csv != NULL && (csv->column_name != NULL || csv->column_index > 0);
    if (csv_options && format != PSI_IOC_FORMAT_CSV)
        return psi_ioc_reader_fail(
            r, PSI_ERR_INVALID, 0, "a column is only chosen in CSV input (this is %s)",
            format == PSI_IOC_FORMAT_AUTO ? "JSON" : psi_ioc_format_name(format));
    if (format == PSI_IOC_FORMAT_TEXT || format == PSI_IOC_FORMAT_CSV) {
        const char *nul = memchr(buf, '\0', len);
        if (nul != NULL) {
            unsigned long line = 1;
            for (const char *c = buf; c < nul; c++)
                line += *c == '\n';
            return psi_ioc_reader_fail(r, PSI_ERR_PARSE, line, "NUL byte: this is not a text file");
        }
        if (asked) {
            int rc = refuse_json_as_text(r, buf, len, format);
            if (rc != PSI_OK)
                return rc;
        }
        *read_as = format;
        if (format == PSI_IOC_FORMAT_TEXT)
            return read_text(r, buf, len);
        return read_csv(r, buf, len, csv);
    }
    return read_json(r, buf, len, format, read_as);
}

int psi_ioc_read_buffer_ex(const char *name, const void *data, size_t len,
                           const struct psi_ioc_read_opts *opts, struct psi_ioc_set *set,
                           enum psi_ioc_format *read_as, char *err, size_t errlen)
{
    static const struct psi_ioc_read_opts defaults = {PSI_IOC_FORMAT_AUTO, NULL, false};
    enum psi_ioc_format ignored;
    if (read_as == NULL)
        read_as = &ignored;
    *read_as = PSI_IOC_FORMAT_AUTO;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (name == NULL)
        name = "(buffer)";
    if (opts == NULL)
        opts = &defaults;
    struct psi_ioc_origin origin = {name, 0, NULL, NULL, NULL, -1};
    struct psi_ioc_reader r = {name, set, err, errlen, &origin, opts->all_attributes};
    if (set == NULL || (data == NULL && len > 0) || (unsigned)opts->format > PSI_IOC_FORMAT_MISP)
        return psi_ioc_reader_fail(&r, PSI_ERR_INVALID, 0, "invalid arguments");
    psi_ioc_set_origin(set, &origin);
    int rc = read_buffer(&r, data == NULL ? "" : data, len, opts->format, opts->csv, read_as);
    psi_ioc_set_origin(set, NULL);
    return rc;
}

int psi_ioc_read_buffer(const char *name, const void *data, size_t len, enum psi_ioc_format format,
                        const struct psi_csv_opts *csv, struct psi_ioc_set *set, char *err,
                        size_t errlen)
{
    struct psi_ioc_read_opts opts = {format, csv, false};
    return psi_ioc_read_buffer_ex(name, data, len, &opts, set, NULL, err, errlen);
}

static int io_failure(const struct psi_ioc_reader *r, int e)
{
    char text[128];
    if (e == 0 || strerror_r(e, text, sizeof text) != 0)
        (void)snprintf(text, sizeof text, "read error");
    return psi_ioc_reader_fail(r, PSI_ERR_IO, 0, "%s", text);
}

/* Reads a stream whole into *out (malloc'd; free it), at most
 * PSI_IOC_FILE_MAX bytes. 0 or an error with its line. */
static int load_stream(const struct psi_ioc_reader *r, FILE *stream, char **out, size_t *out_len)
{
    size_t cap = (size_t)64 * 1024, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return psi_ioc_reader_fail(r, PSI_ERR_NOMEM, 0, "out of memory");
    errno = 0;
    for (;;) {
        if (len == cap) {
            if (cap == PSI_IOC_FILE_MAX) {
                /* full: one more byte means over the limit */
                int c = fgetc(stream);
                if (c == EOF && !ferror(stream))
                    break;
                free(buf);
                if (c == EOF)
                    return io_failure(r, errno);
                return psi_ioc_reader_fail(r, PSI_ERR_TOO_LARGE, 0,
                                           "larger than %lu MiB, the most read at once",
                                           PSI_IOC_FILE_MAX / (1024UL * 1024UL));
            }
            size_t grown = cap > PSI_IOC_FILE_MAX / 2 ? PSI_IOC_FILE_MAX : cap * 2;
            char *more = realloc(buf, grown);
            if (more == NULL) {
                free(buf);
                return psi_ioc_reader_fail(r, PSI_ERR_NOMEM, 0, "out of memory");
            }
            buf = more;
            cap = grown;
        }
        size_t n = fread(buf + len, 1, cap - len, stream);
        len += n;
        if (n == 0) {
            if (ferror(stream)) {
                int e = errno;
                free(buf);
                return io_failure(r, e);
            }
            break;
        }
    }
    *out = buf;
    *out_len = len;
    return PSI_OK;
}

int psi_ioc_read_stream_ex(FILE *stream, const char *name, const struct psi_ioc_read_opts *opts,
                           struct psi_ioc_set *set, enum psi_ioc_format *read_as, char *err,
                           size_t errlen)
{
    struct psi_ioc_reader r = {name == NULL ? "(stream)" : name, set, err, errlen, NULL, false};
    if (read_as != NULL)
        *read_as = PSI_IOC_FORMAT_AUTO;
    if (stream == NULL)
        return psi_ioc_reader_fail(&r, PSI_ERR_INVALID, 0, "invalid arguments");
    char *buf = NULL;
    size_t len = 0;
    int rc = load_stream(&r, stream, &buf, &len);
    if (rc != PSI_OK)
        return rc;
    rc = psi_ioc_read_buffer_ex(r.name, buf, len, opts, set, read_as, err, errlen);
    free(buf);
    return rc;
}

int psi_ioc_read_stream(FILE *stream, const char *name, enum psi_ioc_format format,
                        const struct psi_csv_opts *csv, struct psi_ioc_set *set, char *err,
                        size_t errlen)
{
    struct psi_ioc_read_opts opts = {format, csv, false};
    return psi_ioc_read_stream_ex(stream, name, &opts, set, NULL, err, errlen);
}

int psi_ioc_read_file_ex(const char *path, const struct psi_ioc_read_opts *opts,
                         struct psi_ioc_set *set, enum psi_ioc_format *read_as, char *err,
                         size_t errlen)
{
    struct psi_ioc_reader r = {path == NULL ? "(null)" : path, set, err, errlen, NULL, false};
    if (read_as != NULL)
        *read_as = PSI_IOC_FORMAT_AUTO;
    if (path == NULL || set == NULL)
        return psi_ioc_reader_fail(&r, PSI_ERR_INVALID, 0, "invalid arguments");
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return io_failure(&r, errno);
    int rc = psi_ioc_read_stream_ex(f, path, opts, set, read_as, err, errlen);
    (void)fclose(f);
    return rc;
}

int psi_ioc_read_file(const char *path, enum psi_ioc_format format, const struct psi_csv_opts *csv,
                      struct psi_ioc_set *set, char *err, size_t errlen)
{
    struct psi_ioc_read_opts opts = {format, csv, false};
    return psi_ioc_read_file_ex(path, &opts, set, NULL, err, errlen);
}

/* ---- exclusions --------------------------------------------------------- */

int psi_ioc_read_exclusions_buffer(const char *name, const void *data, size_t len,
                                   struct psi_ioc_set *set, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    struct psi_ioc_reader r = {name == NULL ? "(buffer)" : name, set, err, errlen, NULL, false};
    if (set == NULL || (data == NULL && len > 0))
        return psi_ioc_reader_fail(&r, PSI_ERR_INVALID, 0, "invalid arguments");
    const char *buf = data == NULL ? "" : data;
    if (memchr(buf, '\0', len) != NULL)
        return psi_ioc_reader_fail(&r, PSI_ERR_PARSE, 0, "NUL byte: this is not a text file");
    size_t pos = 0;
    unsigned long line = 0;
    while (pos < len) {
        line++;
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - buf) : len;
        const char *s = buf + pos;
        size_t n = end - pos;
        pos = end + 1;
        /* a comment: the whole line, or from a '#' after white space */
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '#' && (i == 0 || is_text_space(s[i - 1]))) {
                n = i;
                break;
            }
        }
        while (n > 0 && is_text_space(s[0])) {
            s++;
            n--;
        }
        while (n > 0 && is_text_space(s[n - 1]))
            n--;
        if (n == 0)
            continue;
        enum psi_ioc_skip why = PSI_IOC_SKIP_UNSUPPORTED;
        int rc = psi_ioc_set_exclude(set, s, n, &why);
        if (rc == PSI_ERR_UNSUPPORTED &&
            (why == PSI_IOC_SKIP_RESERVED || why == PSI_IOC_SKIP_GENERIC))
            continue;
        if (rc == PSI_ERR_UNSUPPORTED)
            return psi_ioc_reader_fail(&r, PSI_ERR_PARSE, line,
                                       "'%.*s' is no indicator or address range (%s)",
                                       n > 80 ? 80 : (int)n, s, psi_ioc_skip_name(why));
        if (rc != PSI_OK)
            return psi_ioc_reader_fail(&r, rc, line, "%s", psi_strerror(rc));
    }
    return PSI_OK;
}

int psi_ioc_read_exclusions(const char *path, struct psi_ioc_set *set, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    struct psi_ioc_reader r = {path == NULL ? "(null)" : path, set, err, errlen, NULL, false};
    if (path == NULL || set == NULL)
        return psi_ioc_reader_fail(&r, PSI_ERR_INVALID, 0, "invalid arguments");
    errno = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return io_failure(&r, errno);
    char *buf = NULL;
    size_t len = 0;
    int rc = load_stream(&r, f, &buf, &len);
    if (f != stdin)
        (void)fclose(f);
    if (rc != PSI_OK)
        return rc;
    rc = psi_ioc_read_exclusions_buffer(path, buf, len, set, err, errlen);
    free(buf);
    return rc;
}
