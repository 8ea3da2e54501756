/*
 * psi ingest: read indicator files, canonicalise and de-duplicate them, and
 * print the set. It is the first step of every submission, shown on its own
 * so that a person can see exactly what would be blinded and sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "indicators.h"
#include "psi/error.h"
#include "psi/indicator.h"
#include "psi/ioc_reader.h"

enum {
    INGEST_FORMAT,
    INGEST_COLUMN,
    INGEST_JSON,
    INGEST_QUIET,
    INGEST_ALL_ATTRIBUTES,
    INGEST_EXCLUDE,
    INGEST_EXPLAIN,
};

/* --explain lists at most this many skipped values per reason (and counts
 * the rest), each shown with at most EXPLAIN_VALUE_MAX bytes of its value:
 * a huge file cannot make it hold more than ~9 x 1000 short records. */
#define EXPLAIN_PER_REASON 1000u
#define EXPLAIN_VALUE_MAX 200u

static const struct psi_cmdline_option ingest_options[] = {
    [INGEST_FORMAT] = {PSI_INDICATORS_FORMAT_OPTION, .short_name = 'f'},
    [INGEST_COLUMN] = {.name = "column",
                       .short_name = 'c',
                       .value_name = "COLUMN",
                       .help = "the CSV column to read, by header name or number (from 1).\n"
                               "Without it: a \"type\",\"value\" pair of columns, else the\n"
                               "first column named like an indicator (ioc, ip, domain,\n"
                               "url, sha256, ...), else every field."},
    [INGEST_JSON] = {.name = "json",
                     .short_name = 'j',
                     .help = "print one JSON object a line: {\"type\":\"ipv4\",\"value\":...}"},
    [INGEST_QUIET] = {.name = "quiet", .short_name = 'q', .help = "no summary"},
    [INGEST_ALL_ATTRIBUTES] = {PSI_INDICATORS_ALL_ATTRIBUTES_OPTION},
    [INGEST_EXCLUDE] = {PSI_INDICATORS_EXCLUDE_OPTION},
    [INGEST_EXPLAIN] = {.name = "explain",
                        .short_name = 'e',
                        .help = "list every skipped value on standard error, one line each:\n"
                                "\"psi ingest: FILE:LINE: skipped REASON: VALUE\" (JSON input:\n"
                                "FILE: PATH instead of the line); with --json one JSON object\n"
                                "each. At most 1000 per reason; the rest are counted."},
};

static const struct psi_cmdline_command ingest_command = {
    .name = "ingest",
    .about = "Read indicator files, canonicalise and de-duplicate the indicators, and print\n"
             "the set on standard output, one \"TYPE<TAB>VALUE\" line each, in the order first\n"
             "seen. A summary (values read, kept, duplicates, skipped by reason, unsupported\n"
             "kinds by name) goes to standard error, after one note a file saying how\n"
             "--format auto read it (\"psi ingest: FILE: read as a MISP event (auto)\").\n"
             "--explain adds every skipped value, with where it was and why.\n",
    PSI_CMDLINE_OPTIONS(ingest_options),
    .operand = "FILE",
    .operands_min = 1,
    .operands_max = PSI_CMDLINE_ANY,
    .operand_help = "indicator files ('-' for standard input)",
    .epilogue = "Types: ipv4 ipv6 cidr4 cidr6 domain email url md5 sha1 sha256 sha512.\n"
                "Text: one indicator a line; '#' and '//' lines are comments; columns split at\n"
                "blanks, ',', ';' and '|' (the columns holding indicators are taken).\n"
                "Defanged forms are refanged: [.] (.) [dot] hxxp h**p [:] [at] [://].\n"
                "Domains become lower-case IDNA A-labels, IPv6 RFC 5952 text, hashes lower\n"
                "case; URLs keep the case of their path. Private and reserved addresses and\n"
                "generic values (localhost, public resolvers, bare TLDs, public suffixes\n"
                "such as co.uk or github.io) are skipped and counted, like values of no\n"
                "supported type. STIX: indicator patterns, cyber-observables and observed-data.\n"
                "MISP: attributes with to_ids false are left out unless --all-attributes.\n"
                "Reasons: unsupported malformed reserved generic too-long ambiguous filename\n"
                "not-for-detection excluded.\n"
                "\n"
                "Exit status: 0 done; 1 a file could not be read, is malformed, is not the\n"
                "--format given, or is a STIX bundle with nothing to read (the message says\n"
                "FILE:LINE: what); 2 usage error.\n",
};

struct ingest_options {
    struct psi_indicators_input in;
    bool json;
    bool quiet;
    bool explain;
};

/* ---- --explain: the skipped values, with where and why ------------------- */

struct skip_record {
    enum psi_ioc_skip reason;
    unsigned long line;
    char *file, *path, *event, *object, *kind;
    char *value; /* at most EXPLAIN_VALUE_MAX bytes of it, any bytes */
    size_t value_len;
    bool cut;
};

struct explain {
    struct skip_record *items;
    size_t n, cap;
    uint64_t listed[PSI_IOC_SKIP_COUNT], unlisted[PSI_IOC_SKIP_COUNT];
    bool nomem;
};

static char *dup_or_null(const char *s, bool *nomem)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *nomem = true;
    return d;
}

static void explain_seen(void *ctx, const struct psi_ioc_seen *seen)
{
    struct explain *ex = ctx;
    if (seen->outcome != PSI_IOC_OUTCOME_SKIPPED || (unsigned)seen->reason >= PSI_IOC_SKIP_COUNT)
        return;
    if (ex->listed[seen->reason] >= EXPLAIN_PER_REASON || ex->nomem) {
        ex->unlisted[seen->reason]++;
        return;
    }
    if (ex->n == ex->cap) {
        size_t cap = ex->cap == 0 ? 64 : ex->cap * 2;
        struct skip_record *more = realloc(ex->items, cap * sizeof *more);
        if (more == NULL) {
            ex->nomem = true;
            ex->unlisted[seen->reason]++;
            return;
        }
        ex->items = more;
        ex->cap = cap;
    }
    const struct psi_ioc_origin *o = seen->origin;
    struct skip_record *r = &ex->items[ex->n];
    memset(r, 0, sizeof *r);
    r->reason = seen->reason;
    r->line = o->line;
    r->file = dup_or_null(o->file, &ex->nomem);
    r->path = dup_or_null(o->path, &ex->nomem);
    r->event = dup_or_null(o->event, &ex->nomem);
    r->object = dup_or_null(o->object, &ex->nomem);
    r->kind = dup_or_null(seen->kind, &ex->nomem);
    if (seen->input != NULL) {
        r->value_len = seen->input_len > EXPLAIN_VALUE_MAX ? EXPLAIN_VALUE_MAX : seen->input_len;
        r->cut = seen->input_len > EXPLAIN_VALUE_MAX;
        r->value = malloc(r->value_len + 1);
        if (r->value == NULL) {
            ex->nomem = true;
        } else {
            memcpy(r->value, seen->input, r->value_len);
            r->value[r->value_len] = '\0';
        }
    }
    ex->n++;
    ex->listed[seen->reason]++;
}

static void explain_free(struct explain *ex)
{
    for (size_t i = 0; i < ex->n; i++) {
        struct skip_record *r = &ex->items[i];
        free(r->file);
        free(r->path);
        free(r->event);
        free(r->object);
        free(r->kind);
        free(r->value);
    }
    free(ex->items);
}

/* Length of the UTF-8 sequence at s (n bytes left), 0 if it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2, min = 0x80, cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3, min = 0x800, cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, min = 0x10000, cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A value as one printable line of valid UTF-8: '\\' becomes "\\\\", control
 * bytes and bytes that are not UTF-8 become \xHH. out holds 4 * len + 1
 * bytes. */
static void escape_value(const char *in, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t seq = s[i] >= 0x80 ? utf8_sequence(s + i, len - i) : 0;
        if (seq > 0) {
            memcpy(out + o, s + i, seq);
            o += seq;
            i += seq;
        } else if (s[i] == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
            i++;
        } else if (s[i] < 0x20 || s[i] == 0x7f || s[i] >= 0x80) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[s[i] >> 4];
            out[o++] = hex[s[i] & 0xfu];
            i++;
        } else {
            out[o++] = (char)s[i++];
        }
    }
    out[o] = '\0';
}

static int explain_json(const struct skip_record *r, const char *value)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return PSI_ERR_NOMEM;
    int bad = json_object_set_new(obj, "file", json_string(r->file ? r->file : ""));
    if (r->line > 0)
        bad |= json_object_set_new(obj, "line", json_integer((json_int_t)r->line));
    if (r->path)
        bad |= json_object_set_new(obj, "path", json_string(r->path));
    if (r->event)
        bad |= json_object_set_new(obj, "event", json_string(r->event));
    if (r->object)
        bad |= json_object_set_new(obj, "object", json_string(r->object));
    bad |= json_object_set_new(obj, "reason", json_string(psi_ioc_skip_name(r->reason)));
    if (r->kind)
        bad |= json_object_set_new(obj, "kind", json_string(r->kind));
    if (value)
        bad |= json_object_set_new(obj, "value", json_string(value));
    if (r->cut)
        bad |= json_object_set_new(obj, "truncated", json_true());
    int rc = bad ? PSI_ERR_NOMEM : PSI_OK;
    if (rc == PSI_OK && (json_dumpf(obj, stderr, JSON_COMPACT) != 0 || fputc('\n', stderr) == EOF))
        rc = PSI_ERR_IO;
    json_decref(obj);
    return rc;
}

static void explain_print(const struct explain *ex, bool json)
{
    char value[4 * EXPLAIN_VALUE_MAX + 1];
    for (size_t i = 0; i < ex->n; i++) {
        const struct skip_record *r = &ex->items[i];
        if (r->value != NULL)
            escape_value(r->value, r->value_len, value);
        if (json) {
            (void)explain_json(r, r->value != NULL ? value : NULL);
            continue;
        }
        const char *file = r->file ? r->file : "(set)";
        if (r->path != NULL)
            fprintf(stderr, "psi ingest: %s: %s: skipped %s", file, r->path,
                    psi_ioc_skip_name(r->reason));
        else if (r->line > 0)
            fprintf(stderr, "psi ingest: %s:%lu: skipped %s", file, r->line,
                    psi_ioc_skip_name(r->reason));
        else
            fprintf(stderr, "psi ingest: %s: skipped %s", file, psi_ioc_skip_name(r->reason));
        if (r->kind != NULL)
            fprintf(stderr, " (%s)", r->kind);
        if (r->value != NULL)
            fprintf(stderr, ": %s%s\n", value, r->cut ? "..." : "");
        else
            fputs(": (no value)\n", stderr);
    }
    for (unsigned i = 0; i < PSI_IOC_SKIP_COUNT; i++) {
        if (ex->unlisted[i] == 0)
            continue;
        fprintf(stderr,
                "psi ingest: --explain: %llu more skipped as %s not listed (at most %u a "
                "reason are)\n",
                (unsigned long long)ex->unlisted[i], psi_ioc_skip_name((enum psi_ioc_skip)i),
                EXPLAIN_PER_REASON);
    }
}

static bool parse_column(const char *text, struct psi_csv_opts *csv)
{
    size_t n = strlen(text);
    if (n == 0)
        return false;
    bool digits = true;
    for (size_t i = 0; i < n; i++)
        if (text[i] < '0' || text[i] > '9')
            digits = false;
    if (!digits) {
        csv->column_name = text;
        return true;
    }
    if (n > 6)
        return false;
    size_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (size_t)(text[i] - '0');
    if (v == 0)
        return false;
    csv->column_index = v;
    return true;
}

static int print_set(const struct psi_ioc_set *set, bool json)
{
    size_t n = psi_ioc_set_count(set);
    for (size_t i = 0; i < n; i++) {
        struct psi_ioc_ref ref;
        if (psi_ioc_set_get(set, i, &ref) != PSI_OK)
            return PSI_ERR_STATE;
        if (!json) {
            if (printf("%s\t%s\n", psi_ioc_type_name(ref.type), ref.value) < 0)
                return PSI_ERR_IO;
            continue;
        }
        json_t *obj = json_object();
        json_t *value = json_stringn(ref.value, ref.len);
        if (obj == NULL || value == NULL ||
            json_object_set_new(obj, "type", json_string(psi_ioc_type_name(ref.type))) != 0 ||
            json_object_set_new(obj, "value", value) != 0) {
            json_decref(obj);
            return PSI_ERR_NOMEM;
        }
        int rc = json_dumpf(obj, stdout, JSON_COMPACT);
        json_decref(obj);
        if (rc != 0 || putchar('\n') == EOF)
            return PSI_ERR_IO;
    }
    return PSI_OK;
}

static uint64_t skipped_total(const struct psi_ioc_stats *s)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < PSI_IOC_SKIP_COUNT; i++)
        total += s->skipped[i];
    return total;
}

static void print_counts(const char *what, const struct psi_ioc_stats *now,
                         const struct psi_ioc_stats *before)
{
    struct psi_ioc_stats d = *now;
    d.read -= before->read;
    d.kept -= before->kept;
    d.duplicates -= before->duplicates;
    for (unsigned i = 0; i < PSI_IOC_SKIP_COUNT; i++)
        d.skipped[i] -= before->skipped[i];
    fprintf(stderr, "psi ingest: %s: %llu read, %llu kept, %llu duplicates, %llu skipped", what,
            (unsigned long long)d.read, (unsigned long long)d.kept,
            (unsigned long long)d.duplicates, (unsigned long long)skipped_total(&d));
    const char *sep = " (";
    for (unsigned i = 0; i < PSI_IOC_SKIP_COUNT; i++) {
        if (d.skipped[i] == 0)
            continue;
        fprintf(stderr, "%s%s %llu", sep, psi_ioc_skip_name((enum psi_ioc_skip)i),
                (unsigned long long)d.skipped[i]);
        sep = ", ";
    }
    fputs(sep[0] == ',' ? ")\n" : "\n", stderr);
}

static void print_unsupported(const struct psi_ioc_set *set)
{
    size_t n = psi_ioc_set_unsupported_count(set);
    if (n == 0)
        return;
    fputs("psi ingest: unsupported kinds:", stderr);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        uint64_t count;
        if (psi_ioc_set_unsupported(set, i, &name, &count) == PSI_OK)
            fprintf(stderr, "%s %s %llu", i == 0 ? "" : ",", name, (unsigned long long)count);
    }
    fputc('\n', stderr);
}

/* The closing hint when MISP attributes were left out for their to_ids. */
static void print_to_ids_hint(const struct psi_ioc_stats *stats)
{
    uint64_t n = stats->skipped[PSI_IOC_SKIP_NOT_FOR_DETECTION];
    if (n > 0)
        fprintf(stderr,
                "psi ingest: %llu MISP value%s not meant for detection (to_ids false) left out; "
                "--all-attributes reads them\n",
                (unsigned long long)n, n == 1 ? "" : "s");
}

int psi_cmd_ingest(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&ingest_command, argc, argv, &args, &status))
        return status;
    struct ingest_options opt = {
        {PSI_IOC_FORMAT_AUTO,
         {NULL, 0, 0},
         args.given[INGEST_ALL_ATTRIBUTES],
         args.value[INGEST_EXCLUDE]},
        args.given[INGEST_JSON],
        args.given[INGEST_QUIET],
        args.given[INGEST_EXPLAIN],
    };
    const char *format = args.value[INGEST_FORMAT], *column = args.value[INGEST_COLUMN];
    if ((status = psi_indicators_format_option("ingest", format, &opt.in.format)) != 0)
        return status;
    if (column && !parse_column(column, &opt.in.csv))
        return psi_cmdline_usage_error(
            "ingest", "bad column '%s' (a header name or a number from 1)", column);
    if (column && opt.in.format != PSI_IOC_FORMAT_AUTO && opt.in.format != PSI_IOC_FORMAT_CSV)
        return psi_cmdline_usage_error("ingest",
                                       "--column applies to CSV input, not to --format %s",
                                       psi_ioc_format_name(opt.in.format));

    struct psi_ioc_set *set = NULL;
    int rc = psi_ioc_set_new(&set);
    if (rc != PSI_OK) {
        fprintf(stderr, "psi ingest: %s\n", psi_strerror(rc));
        return 1;
    }
    struct explain ex;
    memset(&ex, 0, sizeof ex);
    if (opt.explain)
        psi_ioc_set_observe(set, explain_seen, &ex);
    int nfiles = args.operand_count;
    char **files = args.operands;
    /* counts and formats after each file, printed only once every file has
     * been read: a failed run says one thing, the error */
    struct psi_ioc_stats *after = calloc((size_t)nfiles, sizeof *after);
    enum psi_ioc_format *read_as = calloc((size_t)nfiles, sizeof *read_as);
    if (after == NULL || read_as == NULL) {
        free(after);
        free(read_as);
        psi_ioc_set_free(set);
        fprintf(stderr, "psi ingest: %s\n", psi_strerror(PSI_ERR_NOMEM));
        return 1;
    }
    char err[512];
    rc = psi_indicators_exclude(set, &opt.in, err, sizeof err);
    if (rc != PSI_OK) {
        fprintf(stderr, "psi ingest: %s\n", err);
        status = 1;
    }
    for (int i = 0; i < nfiles && status == 0; i++) {
        const char *path = files[i];
        rc = psi_indicators_read_file(set, path, &opt.in, &read_as[i], err, sizeof err);
        if (rc != PSI_OK) {
            fprintf(stderr, "psi ingest: %s\n", err);
            status = rc == PSI_ERR_INVALID ? 2 : 1;
        }
        after[i] = *psi_ioc_set_stats(set);
    }
    if (status == 0 && !opt.quiet && opt.in.format == PSI_IOC_FORMAT_AUTO) {
        for (int i = 0; i < nfiles; i++)
            fprintf(stderr, "psi ingest: %s: read as %s (auto)\n",
                    strcmp(files[i], "-") == 0 ? "(stdin)" : files[i],
                    psi_indicators_format_phrase(read_as[i]));
    }
    if (status == 0 && opt.explain)
        explain_print(&ex, opt.json);
    if (status == 0 && !opt.quiet && nfiles > 1) {
        static const struct psi_ioc_stats zero;
        for (int i = 0; i < nfiles; i++) {
            const char *path = files[i];
            print_counts(strcmp(path, "-") == 0 ? "(stdin)" : path, &after[i],
                         i == 0 ? &zero : &after[i - 1]);
        }
    }
    free(after);
    free(read_as);
    if (status == 0) {
        rc = print_set(set, opt.json);
        if (rc == PSI_OK && fflush(stdout) != 0)
            rc = PSI_ERR_IO;
        if (rc != PSI_OK) {
            fprintf(stderr, "psi ingest: writing the set: %s\n",
                    rc == PSI_ERR_IO ? strerror(errno) : psi_strerror(rc));
            status = 1;
        }
    }
    if (status == 0 && !opt.quiet) {
        static const struct psi_ioc_stats zero;
        char what[32];
        (void)snprintf(what, sizeof what, "%d file%s", nfiles, nfiles == 1 ? "" : "s");
        print_counts(what, psi_ioc_set_stats(set), &zero);
        print_unsupported(set);
        print_to_ids_hint(psi_ioc_set_stats(set));
    }
    psi_ioc_set_free(set);
    explain_free(&ex);
    return status;
}
