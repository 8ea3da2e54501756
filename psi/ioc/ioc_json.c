/*
 * Indicator files in JSON: STIX 2.x bundles (indicator patterns) and MISP
 * events. The rules are stated in psi/ioc_reader.h; here, why the parsing is
 * shaped as it is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ioc_reader_impl.h"
#include "psi/error.h"

/* ---- STIX patterns ------------------------------------------------------ */

/*
 * A pattern is parsed whole before any of its values is offered: a pattern
 * that does not parse is one malformed value, not a few values and an error.
 * The grammar is the STIX 2 pattern grammar, less what a matcher of
 * equalities never needs to understand (it is checked for shape only):
 *
 *   pattern    := obs_expr END
 *   obs_expr   := obs_term { (AND | OR | FOLLOWEDBY) obs_term }
 *   obs_term   := ( '[' cmp_expr ']' | '(' obs_expr ')' ) { qualifier }
 *   qualifier  := WITHIN number SECONDS | REPEATS number TIMES
 *               | START literal STOP literal
 *   cmp_expr   := cmp_term { (AND | OR) cmp_term }
 *   cmp_term   := '(' cmp_expr ')' | [NOT] EXISTS path | path [NOT] op value
 *   value      := literal | '(' literal { ',' literal } ')'
 */

enum token_kind {
    TOK_END,
    TOK_LBRACKET,
    TOK_RBRACKET,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_COMMA,
    TOK_STRING,  /* '...' (decoded into the value buffer) */
    TOK_LITERAL, /* number, true/false, h'..', b'..', t'..' */
    TOK_OP,      /* = != < <= > >= */
    TOK_WORD,    /* AND OR NOT LIKE ... (upper-case words) */
    TOK_PATH,    /* object-type:property.path */
};

struct token {
    enum token_kind kind;
    const char *text; /* in the pattern */
    size_t len;
    size_t value_off, value_len; /* TOK_STRING: decoded bytes in the value buffer */
};

/* One comparison found in a pattern. */
struct comparison {
    const char *path;
    size_t path_len;
    const char *op; /* "=", "LIKE", "EXISTS", ... */
    size_t op_len;
    bool negated;
    bool string_value; /* a single string literal */
    size_t value_off, value_len;
};

#define PATTERN_DEPTH_MAX 64

struct pattern_parser {
    const char *s;
    size_t len, pos;
    struct token tok; /* current token */
    char *values;     /* decoded string literals */
    size_t values_len;
    struct comparison *cmps;
    size_t ncmps, cmps_cap;
    int depth;
    bool nomem;
};

static bool p_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Reads a quoted string starting at s[pos] == '\''; decodes it to the value
 * buffer (STIX allows only \' and \\ as escapes). */
static bool p_string(struct pattern_parser *p, size_t *end)
{
    size_t i = p->pos + 1;
    size_t off = p->values_len;
    while (i < p->len) {
        char c = p->s[i];
        if (c == '\'') {
            p->tok.value_off = off;
            p->tok.value_len = p->values_len - off;
            *end = i + 1;
            return true;
        }
        if (c == '\\') {
            if (i + 1 >= p->len || (p->s[i + 1] != '\'' && p->s[i + 1] != '\\'))
                return false;
            c = p->s[i + 1];
            i++;
        }
        p->values[p->values_len++] = c;
        i++;
    }
    return false;
}

/* Advances to the next token; false on a lexical error. */
static bool p_next(struct pattern_parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\r' || p->s[p->pos] == '\n'))
        p->pos++;
    struct token *t = &p->tok;
    t->text = p->s + p->pos;
    t->len = 1;
    if (p->pos >= p->len) {
        t->kind = TOK_END;
        t->len = 0;
        return true;
    }
    char c = p->s[p->pos];
    size_t end = p->pos + 1;
    switch (c) {
    case '[': t->kind = TOK_LBRACKET; break;
    case ']': t->kind = TOK_RBRACKET; break;
    case '(': t->kind = TOK_LPAREN; break;
    case ')': t->kind = TOK_RPAREN; break;
    case ',': t->kind = TOK_COMMA; break;
    case '\'':
        t->kind = TOK_STRING;
        if (!p_string(p, &end))
            return false;
        break;
    case '=': t->kind = TOK_OP; break;
    case '!':
        if (p->pos + 1 >= p->len || p->s[p->pos + 1] != '=')
            return false;
        t->kind = TOK_OP;
        end++;
        break;
    case '<':
    case '>':
        t->kind = TOK_OP;
        if (p->pos + 1 < p->len && p->s[p->pos + 1] == '=')
            end++;
        break;
    default:
        if ((c >= '0' && c <= '9') || c == '-' || c == '+') {
            t->kind = TOK_LITERAL;
            while (end < p->len && ((p->s[end] >= '0' && p->s[end] <= '9') || p->s[end] == '.'))
                end++;
            break;
        }
        if (!p_ident_char(c))
            return false;
        while (end < p->len && p_ident_char(p->s[end]))
            end++;
        /* h'..', b'..', t'..': binary, base64 and timestamp literals */
        if (end == p->pos + 1 && end < p->len && p->s[end] == '\'' &&
            (c == 'h' || c == 'b' || c == 't')) {
            size_t save = p->pos;
            p->pos = end;
            bool ok = p_string(p, &end);
            p->pos = save;
            if (!ok)
                return false;
            t->kind = TOK_LITERAL;
            break;
        }
        if (end < p->len && p->s[end] == ':') {
            /* a path: object-type ':' property { '.' name | '.' 'quoted' | [index] } */
            t->kind = TOK_PATH;
            end++;
            while (end < p->len) {
                char d = p->s[end];
                if (p_ident_char(d) || d == '.') {
                    end++;
                } else if (d == '\'' && p->s[end - 1] == '.') {
                    size_t close = end + 1;
                    while (close < p->len && p->s[close] != '\'')
                        close++;
                    if (close >= p->len)
                        return false;
                    end = close + 1;
                } else if (d == '[') {
                    size_t close = end + 1;
                    while (close < p->len && p->s[close] != ']')
                        close++;
                    if (close >= p->len)
                        return false;
                    end = close + 1;
                } else {
                    break;
                }
            }
            break;
        }
        t->kind = (strncmp(t->text, "true", end - p->pos) == 0 && end - p->pos == 4) ||
                          (strncmp(t->text, "false", end - p->pos) == 0 && end - p->pos == 5)
                      ? TOK_LITERAL
                      : TOK_WORD;
        break;
    }
    t->len = end - p->pos;
    p->pos = end;
    return true;
}

static bool p_is_word(const struct pattern_parser *p, const char *word)
{
    return p->tok.kind == TOK_WORD && p->tok.len == strlen(word) &&
           memcmp(p->tok.text, word, p->tok.len) == 0;
}

static bool p_add_comparison(struct pattern_parser *p, const struct comparison *c)
{
    if (p->ncmps == p->cmps_cap) {
        size_t cap = p->cmps_cap == 0 ? 8 : p->cmps_cap * 2;
        struct comparison *more = realloc(p->cmps, cap * sizeof *more);
        if (more == NULL) {
            p->nomem = true;
            return false;
        }
        p->cmps = more;
        p->cmps_cap = cap;
    }
    p->cmps[p->ncmps++] = *c;
    return true;
}

static bool p_is_literal(const struct pattern_parser *p)
{
    return p->tok.kind == TOK_STRING || p->tok.kind == TOK_LITERAL;
}

static bool p_comparison(struct pattern_parser *p)
{
    struct comparison c = {0};
    if (p_is_word(p, "NOT")) {
        c.negated = true;
        if (!p_next(p))
            return false;
    }
    if (p_is_word(p, "EXISTS")) {
        c.op = p->tok.text;
        c.op_len = p->tok.len;
        if (!p_next(p) || p->tok.kind != TOK_PATH)
            return false;
        c.path = p->tok.text;
        c.path_len = p->tok.len;
        return p_add_comparison(p, &c) && p_next(p);
    }
    if (c.negated || p->tok.kind != TOK_PATH)
        return false;
    c.path = p->tok.text;
    c.path_len = p->tok.len;
    if (!p_next(p))
        return false;
    if (p_is_word(p, "NOT")) {
        c.negated = true;
        if (!p_next(p))
            return false;
    }
    static const char *const word_ops[] = {"LIKE", "MATCHES", "IN", "ISSUBSET", "ISSUPERSET"};
    bool op_ok = p->tok.kind == TOK_OP;
    for (size_t i = 0; i < sizeof word_ops / sizeof word_ops[0] && !op_ok; i++)
        op_ok = p_is_word(p, word_ops[i]);
    if (!op_ok)
        return false;
    c.op = p->tok.text;
    c.op_len = p->tok.len;
    if (!p_next(p))
        return false;
    if (p->tok.kind == TOK_LPAREN) {
        /* a list, for IN */
        do {
            if (!p_next(p) || !p_is_literal(p) || !p_next(p))
                return false;
        } while (p->tok.kind == TOK_COMMA);
        if (p->tok.kind != TOK_RPAREN)
            return false;
    } else if (p->tok.kind == TOK_STRING) {
        c.string_value = true;
        c.value_off = p->tok.value_off;
        c.value_len = p->tok.value_len;
    } else if (p->tok.kind != TOK_LITERAL) {
        return false;
    }
    return p_add_comparison(p, &c) && p_next(p);
}

static bool p_cmp_expr(struct pattern_parser *p);

static bool p_cmp_term(struct pattern_parser *p)
{
    if (p->tok.kind != TOK_LPAREN)
        return p_comparison(p);
    if (++p->depth > PATTERN_DEPTH_MAX || !p_next(p) || !p_cmp_expr(p) || p->tok.kind != TOK_RPAREN)
        return false;
    p->depth--;
    return p_next(p);
}

static bool p_cmp_expr(struct pattern_parser *p)
{
    if (!p_cmp_term(p))
        return false;
    while (p_is_word(p, "AND") || p_is_word(p, "OR")) {
        if (!p_next(p) || !p_cmp_term(p))
            return false;
    }
    return true;
}

static bool p_qualifiers(struct pattern_parser *p)
{
    for (;;) {
        if (p_is_word(p, "WITHIN") || p_is_word(p, "REPEATS")) {
            bool within = p_is_word(p, "WITHIN");
            if (!p_next(p) || p->tok.kind != TOK_LITERAL || !p_next(p) ||
                !p_is_word(p, within ? "SECONDS" : "TIMES") || !p_next(p))
                return false;
        } else if (p_is_word(p, "START")) {
            if (!p_next(p) || !p_is_literal(p) || !p_next(p) || !p_is_word(p, "STOP") ||
                !p_next(p) || !p_is_literal(p) || !p_next(p))
                return false;
        } else {
            return true;
        }
    }
}

static bool p_obs_expr(struct pattern_parser *p);

static bool p_obs_term(struct pattern_parser *p)
{
    if (++p->depth > PATTERN_DEPTH_MAX)
        return false;
    if (p->tok.kind == TOK_LBRACKET) {
        if (!p_next(p) || !p_cmp_expr(p) || p->tok.kind != TOK_RBRACKET)
            return false;
    } else if (p->tok.kind == TOK_LPAREN) {
        if (!p_next(p) || !p_obs_expr(p) || p->tok.kind != TOK_RPAREN)
            return false;
    } else {
        return false;
    }
    p->depth--;
    return p_next(p) && p_qualifiers(p);
}

static bool p_obs_expr(struct pattern_parser *p)
{
    if (!p_obs_term(p))
        return false;
    while (p_is_word(p, "AND") || p_is_word(p, "OR") || p_is_word(p, "FOLLOWEDBY")) {
        if (!p_next(p) || !p_obs_term(p))
            return false;
    }
    return true;
}

/* The indicator kind of an object path, if it holds one. *type PSI_IOC_NONE
 * means "detect" (network-traffic references are addresses or names). */
static bool stix_path_kind(const char *path, size_t len, enum psi_ioc_type *type)
{
    static const struct {
        const char *path;
        enum psi_ioc_type type;
    } paths[] = {
        {"ipv4-addr:value", PSI_IOC_IPV4},
        {"ipv6-addr:value", PSI_IOC_IPV6},
        {"domain-name:value", PSI_IOC_DOMAIN},
        {"url:value", PSI_IOC_URL},
        {"email-addr:value", PSI_IOC_EMAIL},
        {"email-message:from_ref.value", PSI_IOC_EMAIL},
        {"email-message:sender_ref.value", PSI_IOC_EMAIL},
        {"network-traffic:dst_ref.value", PSI_IOC_NONE},
        {"network-traffic:src_ref.value", PSI_IOC_NONE},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (strlen(paths[i].path) == len && memcmp(paths[i].path, path, len) == 0) {
            *type = paths[i].type;
            return true;
        }
    }
    static const char hashes[] = "file:hashes.";
    if (len <= sizeof hashes - 1 || memcmp(path, hashes, sizeof hashes - 1) != 0)
        return false;
    /* file:hashes.MD5, file:hashes.'SHA-256': compare without quotes, case
     * or dashes */
    char name[16];
    size_t n = 0;
    for (size_t i = sizeof hashes - 1; i < len; i++) {
        char c = path[i];
        if (c == '\'' || c == '-')
            continue;
        if (n + 1 >= sizeof name)
            return false;
        name[n++] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    name[n] = '\0';
    return psi_ioc_type_from_name(name, type) == PSI_OK && psi_ioc_type_is_file_hash(*type);
}

/* Counts one unsupported value under "stix:WHAT TEXT" (in, len: the value
 * for an observer; in may be NULL). */
static void skip_named(struct psi_ioc_set *set, const char *what, const char *text, size_t len,
                       const char *in, size_t in_len)
{
    char name[PSI_IOC_UNSUPPORTED_NAME_MAX + 1];
    int n =
        len > (size_t)PSI_IOC_UNSUPPORTED_NAME_MAX ? (int)PSI_IOC_UNSUPPORTED_NAME_MAX : (int)len;
    (void)snprintf(name, sizeof name, "stix:%s%.*s", what, n, text);
    psi_ioc_set_skip_value(set, PSI_IOC_SKIP_UNSUPPORTED, name, in, in_len);
}

static int read_pattern(struct psi_ioc_set *set, const char *pattern, size_t len)
{
    struct pattern_parser p = {0};
    p.s = pattern;
    p.len = len;
    p.values = malloc(len + 1);
    if (p.values == NULL)
        return PSI_ERR_NOMEM;
    bool ok = p_next(&p) && p_obs_expr(&p) && p.tok.kind == TOK_END;
    int rc = PSI_OK;
    if (p.nomem) {
        rc = PSI_ERR_NOMEM;
    } else if (!ok) {
        psi_ioc_set_skip_value(set, PSI_IOC_SKIP_MALFORMED, NULL, pattern, len);
    } else {
        for (size_t i = 0; i < p.ncmps && rc == PSI_OK; i++) {
            const struct comparison *c = &p.cmps[i];
            enum psi_ioc_type type;
            /* what an observer is shown: the literal, else the pattern */
            const char *in = c->string_value ? p.values + c->value_off : pattern;
            size_t in_len = c->string_value ? c->value_len : len;
            if (!stix_path_kind(c->path, c->path_len, &type))
                skip_named(set, "", c->path, c->path_len, in, in_len);
            else if (c->negated || c->op_len != 1 || c->op[0] != '=')
                skip_named(set, c->negated ? "operator NOT " : "operator ", c->op, c->op_len, in,
                           in_len);
            else if (!c->string_value)
                skip_named(set, "non-string value", "", 0, in, in_len);
            else
                rc = psi_ioc_offer(set, type, in, in_len);
        }
    }
    free(p.values);
    free(p.cmps);
    return rc;
}

/* ---- STIX cyber-observables ---------------------------------------------- */

/* The cyber-observable types (STIX 2.1 section 6) that hold one value of an
 * indicator kind in "value". */
static const struct {
    const char *type;
    enum psi_ioc_type kind;
} sco_values[] = {
    {"ipv4-addr", PSI_IOC_IPV4}, {"ipv6-addr", PSI_IOC_IPV6},   {"domain-name", PSI_IOC_DOMAIN},
    {"url", PSI_IOC_URL},        {"email-addr", PSI_IOC_EMAIL},
};

/* The other cyber-observable types: values of no indicator kind here,
 * counted as unsupported under "stix:TYPE". (Domain objects such as
 * identity, report or relationship are not values and are not counted.) */
static const char *const sco_others[] = {
    "artifact",        "autonomous-system", "directory",
    "email-message",   "mac-addr",          "mutex",
    "network-traffic", "process",           "software",
    "user-account",    "x509-certificate",  "windows-registry-key",
};

/* A readable text of an object for an observer: its "value", "name" or
 * "key", if a string. */
static const char *sco_text(json_t *obj, size_t *len)
{
    static const char *const keys[] = {"value", "name", "key", "command_line"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(obj, keys[i]);
        if (json_is_string(v)) {
            *len = json_string_length(v);
            return json_string_value(v);
        }
    }
    *len = 0;
    return NULL;
}

/* file: each hash of a known algorithm is a value ("MD5", "SHA-1",
 * "SHA-256", "SHA-512", any case, quotes and dashes ignored as in
 * patterns); other algorithms count as "stix:file:hashes.NAME"; a file with
 * no hash counts once as "stix:file". */
static int read_file_sco(struct psi_ioc_set *set, json_t *obj)
{
    json_t *hashes = json_object_get(obj, "hashes");
    size_t tlen;
    const char *text = sco_text(obj, &tlen);
    if (!json_is_object(hashes) || json_object_size(hashes) == 0) {
        skip_named(set, "file", "", 0, text, tlen);
        return PSI_OK;
    }
    const char *algorithm;
    json_t *value;
    json_object_foreach(hashes, algorithm, value)
    {
        char path[PSI_IOC_UNSUPPORTED_NAME_MAX + 1];
        enum psi_ioc_type type;
        int n = snprintf(path, sizeof path, "file:hashes.%s", algorithm);
        if (n < 0 || (size_t)n >= sizeof path)
            n = (int)sizeof path - 1;
        if (!stix_path_kind(path, (size_t)n, &type)) {
            skip_named(set, "", path, (size_t)n, json_string_value(value),
                       json_string_length(value));
            continue;
        }
        if (!json_is_string(value)) {
            psi_ioc_set_skip_value(set, PSI_IOC_SKIP_MALFORMED, NULL, NULL, 0);
            continue;
        }
        int rc = psi_ioc_offer(set, type, json_string_value(value), json_string_length(value));
        if (rc != PSI_OK)
            return rc;
    }
    return PSI_OK;
}

/* One cyber-observable object of type `type`. *seen is set when the type is
 * a cyber-observable (whether or not it held a value). */
static int read_sco(struct psi_ioc_set *set, json_t *obj, const char *type, bool *seen)
{
    *seen = true;
    for (size_t i = 0; i < sizeof sco_values / sizeof sco_values[0]; i++) {
        if (strcmp(type, sco_values[i].type) != 0)
            continue;
        json_t *value = json_object_get(obj, "value");
        if (!json_is_string(value)) {
            psi_ioc_set_skip_value(set, PSI_IOC_SKIP_MALFORMED, NULL, NULL, 0);
            return PSI_OK;
        }
        return psi_ioc_offer(set, sco_values[i].kind, json_string_value(value),
                             json_string_length(value));
    }
    if (strcmp(type, "file") == 0)
        return read_file_sco(set, obj);
    for (size_t i = 0; i < sizeof sco_others / sizeof sco_others[0]; i++) {
        if (strcmp(type, sco_others[i]) == 0) {
            size_t tlen;
            const char *text = sco_text(obj, &tlen);
            skip_named(set, "", type, strlen(type), text, tlen);
            return PSI_OK;
        }
    }
    *seen = false;
    return PSI_OK;
}

/* ---- STIX objects ------------------------------------------------------- */

/* What a bundle held, for the message when it held nothing to read. */
struct stix_tally {
    size_t objects, revoked;
};

static int read_stix_object(const struct psi_ioc_reader *r, json_t *obj, const char *where,
                            struct stix_tally *tally);

/* STIX 2.0 observed-data: its "objects" dictionary of cyber-observables
 * ("0": {...}, "1": {...}). In 2.1 it points at top-level objects instead
 * (object_refs), which are read where they are. */
static int read_observed_data(const struct psi_ioc_reader *r, json_t *obj, const char *where)
{
    json_t *objects = json_object_get(obj, "objects");
    if (objects == NULL)
        return PSI_OK;
    if (!json_is_object(objects))
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s.objects: not an object", where);
    char path[192];
    const char *key;
    json_t *sco;
    json_object_foreach(objects, key, sco)
    {
        (void)snprintf(path, sizeof path, "%s.objects.%s", where, key);
        r->origin->path = path;
        const char *type = json_string_value(json_object_get(sco, "type"));
        bool seen = false;
        int rc = json_is_object(sco) && type != NULL ? read_sco(r->set, sco, type, &seen) : PSI_OK;
        if (rc != PSI_OK)
            return psi_ioc_reader_fail(r, rc, 0, "%s: %s", path, psi_strerror(rc));
        /* everything in "objects" is meant as an observable: a custom type
         * counts as unsupported, a nameless entry as malformed */
        if (!seen && type != NULL)
            skip_named(r->set, "", type, strlen(type), NULL, 0);
        else if (!seen)
            psi_ioc_set_skip_value(r->set, PSI_IOC_SKIP_MALFORMED, NULL, NULL, 0);
    }
    r->origin->path = where;
    return PSI_OK;
}

static int read_stix_object(const struct psi_ioc_reader *r, json_t *obj, const char *where,
                            struct stix_tally *tally)
{
    tally->objects++;
    r->origin->path = where;
    r->origin->object = json_string_value(json_object_get(obj, "id"));
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type == NULL)
        return PSI_OK;
    if (json_is_true(json_object_get(obj, "revoked"))) {
        tally->revoked++;
        return PSI_OK;
    }
    if (strcmp(type, "observed-data") == 0)
        return read_observed_data(r, obj, where);
    if (strcmp(type, "indicator") != 0) {
        bool seen;
        int rc = read_sco(r->set, obj, type, &seen);
        if (rc != PSI_OK)
            return psi_ioc_reader_fail(r, rc, 0, "%s: %s", where, psi_strerror(rc));
        return PSI_OK;
    }
    const char *pattern_type = json_string_value(json_object_get(obj, "pattern_type"));
    json_t *pattern = json_object_get(obj, "pattern");
    if (pattern_type != NULL && strcmp(pattern_type, "stix") != 0) {
        skip_named(r->set, "pattern_type:", pattern_type, strlen(pattern_type),
                   json_string_value(pattern), json_string_length(pattern));
        return PSI_OK;
    }
    if (!json_is_string(pattern)) {
        psi_ioc_set_skip_value(r->set, PSI_IOC_SKIP_MALFORMED, NULL, NULL, 0);
        return PSI_OK;
    }
    int rc = read_pattern(r->set, json_string_value(pattern), json_string_length(pattern));
    if (rc != PSI_OK)
        return psi_ioc_reader_fail(r, rc, 0, "%s: %s", where, psi_strerror(rc));
    return PSI_OK;
}

static int read_stix_objects(const struct psi_ioc_reader *r, json_t *doc, struct stix_tally *tally)
{
    json_t *objects = doc;
    const char *where = "$";
    char path[64];
    if (json_is_object(doc)) {
        const char *type = json_string_value(json_object_get(doc, "type"));
        if (type != NULL && strcmp(type, "indicator") == 0)
            return read_stix_object(r, doc, "$", tally);
        if (type == NULL || strcmp(type, "bundle") != 0)
            return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0,
                                       "$.type: not \"bundle\"; this is no STIX 2 bundle");
        objects = json_object_get(doc, "objects");
        where = "$.objects";
        if (objects == NULL)
            return PSI_OK; /* an empty bundle may leave "objects" out */
    }
    if (!json_is_array(objects))
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s: not an array", where);
    size_t i;
    json_t *obj;
    json_array_foreach(objects, i, obj)
    {
        if (!json_is_object(obj))
            return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s[%zu]: not an object", where, i);
        (void)snprintf(path, sizeof path, "%s[%zu]", where, i);
        int rc = read_stix_object(r, obj, path, tally);
        if (rc != PSI_OK)
            return rc;
    }
    return PSI_OK;
}

int psi_ioc_read_stix_json(const struct psi_ioc_reader *r, json_t *doc)
{
    struct stix_tally tally = {0, 0};
    uint64_t before = psi_ioc_set_stats(r->set)->read;
    int rc = read_stix_objects(r, doc, &tally);
    r->origin->path = NULL;
    r->origin->object = NULL;
    if (rc != PSI_OK)
        return rc;
    /* A bundle of nothing this reader takes (only reports, identities,
     * relationships; every indicator revoked) is an error, not "0 read":
     * it is most often an export of the wrong thing. */
    if (psi_ioc_set_stats(r->set)->read == before) {
        if (tally.objects == 0)
            return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0,
                                       "nothing to read: an empty STIX bundle");
        if (tally.revoked > 0)
            return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0,
                                       "nothing to read: no indicator, cyber-observable or "
                                       "observed-data in this STIX bundle (%zu objects, %zu "
                                       "revoked)",
                                       tally.objects, tally.revoked);
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0,
                                   "nothing to read: no indicator, cyber-observable or "
                                   "observed-data in this STIX bundle (%zu object%s of other "
                                   "types)",
                                   tally.objects, tally.objects == 1 ? "" : "s");
    }
    return PSI_OK;
}

/* ---- MISP --------------------------------------------------------------- */

/* JSON paths for messages ("$.response[0].Event.Attribute"); a path too
 * long for the buffer is cut, which only shortens a message. */
static void json_path(char *buf, size_t cap, const char *fmt, ...) PSI_PRINTF(3, 4);

static void json_path(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

/* An attribute's to_ids: false, 0, "0" or "false" say "not for detection";
 * true, anything else or nothing say nothing against it (an attribute of an
 * object often has no to_ids of its own). */
static bool for_detection(json_t *attr)
{
    json_t *v = json_object_get(attr, "to_ids");
    if (json_is_false(v))
        return false;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    const char *text = json_string_value(v);
    return text == NULL || (strcmp(text, "0") != 0 && strcmp(text, "false") != 0);
}

static int read_misp_attributes(const struct psi_ioc_reader *r, json_t *attrs, const char *where)
{
    char path[192];
    if (attrs == NULL)
        return PSI_OK;
    if (!json_is_array(attrs))
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s: not an array", where);
    size_t i;
    json_t *attr;
    json_array_foreach(attrs, i, attr)
    {
        if (!json_is_object(attr))
            return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s[%zu]: not an object", where, i);
        if (json_is_true(json_object_get(attr, "deleted")))
            continue;
        json_path(path, sizeof path, "%s[%zu]", where, i);
        r->origin->path = path;
        r->origin->object = json_string_value(json_object_get(attr, "uuid"));
        r->origin->to_ids = json_object_get(attr, "to_ids") != NULL ? for_detection(attr) : -1;
        json_t *type = json_object_get(attr, "type");
        json_t *value = json_object_get(attr, "value");
        if (!json_is_string(type) || !json_is_string(value)) {
            psi_ioc_set_skip_value(r->set, PSI_IOC_SKIP_MALFORMED, NULL, json_string_value(value),
                                   json_string_length(value));
            continue;
        }
        int rc =
            psi_ioc_offer_misp(r->set, json_string_value(type), json_string_value(value),
                               json_string_length(value), r->all_attributes || for_detection(attr));
        if (rc != PSI_OK)
            return psi_ioc_reader_fail(r, rc, 0, "%s[%zu]: %s", where, i, psi_strerror(rc));
    }
    r->origin->path = NULL;
    r->origin->object = NULL;
    r->origin->to_ids = -1;
    return PSI_OK;
}

static int read_misp_event(const struct psi_ioc_reader *r, json_t *event, const char *where)
{
    char path[160];
    if (!json_is_object(event))
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s: not an object", where);
    r->origin->event = json_string_value(json_object_get(event, "uuid"));
    json_path(path, sizeof path, "%s.Attribute", where);
    int rc = read_misp_attributes(r, json_object_get(event, "Attribute"), path);
    if (rc != PSI_OK)
        return rc;
    json_t *objects = json_object_get(event, "Object");
    if (objects == NULL)
        return PSI_OK;
    if (!json_is_array(objects))
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s.Object: not an array", where);
    size_t i;
    json_t *obj;
    json_array_foreach(objects, i, obj)
    {
        if (!json_is_object(obj))
            return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s.Object[%zu]: not an object", where,
                                       i);
        if (json_is_true(json_object_get(obj, "deleted")))
            continue;
        json_path(path, sizeof path, "%s.Object[%zu].Attribute", where, i);
        rc = read_misp_attributes(r, json_object_get(obj, "Attribute"), path);
        if (rc != PSI_OK)
            return rc;
    }
    return PSI_OK;
}

/* An element of a response list or of a top-level array: {"Event": {...}}. */
static int read_misp_wrapped(const struct psi_ioc_reader *r, json_t *item, const char *where)
{
    char path[128];
    if (!json_is_object(item))
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s: not an object", where);
    json_t *event = json_object_get(item, "Event");
    if (event == NULL)
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0, "%s: no \"Event\"", where);
    json_path(path, sizeof path, "%s.Event", where);
    return read_misp_event(r, event, path);
}

static int read_misp_list(const struct psi_ioc_reader *r, json_t *list, const char *where)
{
    char path[128];
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        json_path(path, sizeof path, "%s[%zu]", where, i);
        int rc = read_misp_wrapped(r, item, path);
        if (rc != PSI_OK)
            return rc;
    }
    return PSI_OK;
}

int psi_ioc_read_misp_json(const struct psi_ioc_reader *r, json_t *doc)
{
    /* jansson hands over an object or an array, nothing else */
    if (json_is_array(doc))
        return read_misp_list(r, doc, "$");
    json_t *response = json_object_get(doc, "response");
    if (response != NULL) {
        if (json_is_array(response))
            return read_misp_list(r, response, "$.response");
        if (json_is_object(response) && json_object_get(response, "Attribute") != NULL)
            return read_misp_attributes(r, json_object_get(response, "Attribute"),
                                        "$.response.Attribute");
        return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0,
                                   "$.response: neither a list of events nor of attributes");
    }
    json_t *event = json_object_get(doc, "Event");
    if (event != NULL)
        return read_misp_event(r, event, "$.Event");
    if (json_object_get(doc, "Attribute") != NULL || json_object_get(doc, "Object") != NULL)
        return read_misp_event(r, doc, "$");
    return psi_ioc_reader_fail(r, PSI_ERR_PARSE, 0,
                               "$: no \"Event\", \"response\" or \"Attribute\"; this is no "
                               "MISP event");
}
