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
};

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
};

static const struct psi_cmdline_command ingest_command = {
    .name = "ingest",
    .about = "Read indicator files, canonicalise and de-duplicate the indicators, and print\n"
             "the set on standard output, one \"TYPE<TAB>VALUE\" line each, in the order first\n"
             "seen. A summary (values read, kept, duplicates, skipped by reason, unsupported\n"
             "kinds by name) goes to standard error.\n",
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
                "generic values (localhost, public resolvers, bare TLDs) are skipped and\n"
                "counted, like values of no supported type.\n"
                "\n"
                "Exit status: 0 done; 1 a file could not be read or is malformed (the message\n"
                "says FILE:LINE: what); 2 usage error.\n",
};

struct ingest_options {
    enum psi_ioc_format format;
    struct psi_csv_opts csv;
    bool json;
    bool quiet;
};

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

int psi_cmd_ingest(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&ingest_command, argc, argv, &args, &status))
        return status;
    struct ingest_options opt = {
        PSI_IOC_FORMAT_AUTO, {NULL, 0, 0}, args.given[INGEST_JSON], args.given[INGEST_QUIET]};
    const char *format = args.value[INGEST_FORMAT], *column = args.value[INGEST_COLUMN];
    if ((status = psi_indicators_format_option("ingest", format, &opt.format)) != 0)
        return status;
    if (column && !parse_column(column, &opt.csv))
        return psi_cmdline_usage_error(
            "ingest", "bad column '%s' (a header name or a number from 1)", column);
    if (column && opt.format != PSI_IOC_FORMAT_AUTO && opt.format != PSI_IOC_FORMAT_CSV)
        return psi_cmdline_usage_error("ingest",
                                       "--column applies to CSV input, not to --format %s",
                                       psi_ioc_format_name(opt.format));

    struct psi_ioc_set *set = NULL;
    int rc = psi_ioc_set_new(&set);
    if (rc != PSI_OK) {
        fprintf(stderr, "psi ingest: %s\n", psi_strerror(rc));
        return 1;
    }
    int nfiles = args.operand_count;
    char **files = args.operands;
    /* counts after each file, printed only once every file has been read:
     * a failed run says one thing, the error */
    struct psi_ioc_stats *after = calloc((size_t)nfiles, sizeof *after);
    if (after == NULL) {
        psi_ioc_set_free(set);
        fprintf(stderr, "psi ingest: %s\n", psi_strerror(PSI_ERR_NOMEM));
        return 1;
    }
    for (int i = 0; i < nfiles && status == 0; i++) {
        char err[512];
        const char *path = files[i];
        rc = psi_indicators_read_file(set, path, opt.format, &opt.csv, err, sizeof err);
        if (rc != PSI_OK) {
            fprintf(stderr, "psi ingest: %s\n", err);
            status = rc == PSI_ERR_INVALID ? 2 : 1;
        }
        after[i] = *psi_ioc_set_stats(set);
    }
    if (status == 0 && !opt.quiet && nfiles > 1) {
        static const struct psi_ioc_stats zero;
        for (int i = 0; i < nfiles; i++) {
            const char *path = files[i];
            print_counts(strcmp(path, "-") == 0 ? "(stdin)" : path, &after[i],
                         i == 0 ? &zero : &after[i - 1]);
        }
    }
    free(after);
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
    }
    psi_ioc_set_free(set);
    return status;
}
