/*
 * Readers of indicator files: plain text, CSV, STIX 2.x bundles, MISP events.
 *
 * Each reader turns one file (or buffer) into values offered to a
 * psi_ioc_set (indicator.h), which canonicalises, de-duplicates and counts
 * them. The readers promise:
 *
 *  - a value of no supported type is counted (skipped, with its reason and,
 *    for unsupported kinds, a name such as "misp:regkey" or
 *    "stix:process:command_line"), never fatal;
 *  - a malformed file is an error: the call returns PSI_ERR_PARSE and writes
 *    one line "NAME:LINE: what is wrong" to err. JSON syntax errors carry the
 *    line jansson reports; errors in the shape of a well-formed JSON document
 *    name the JSON path instead ("NAME: $.objects: not an array"), because
 *    jansson keeps no positions for values;
 *  - no input crashes them: binary garbage, NUL bytes, huge lines, deep
 *    nesting. Text and CSV refuse NUL bytes and UTF-16 with an error that
 *    says so; values longer than PSI_IOC_INPUT_MAX are skipped as too long.
 *
 * On error the set keeps what was read before the error; callers wanting
 * all-or-nothing read into a fresh set.
 *
 * Plain text (one indicator a line, "type detected"): blank lines and lines
 * starting with '#' or "//" are ignored. A line is cut into columns at white
 * space, ',', ';' and '|'; every column that is an indicator is taken, every
 * column refused for a specific reason (reserved, generic, too long,
 * ambiguous, malformed URL) is counted. A line with neither (a header such as
 * "Domains:", a note, a command line) counts once as unsupported, or once as
 * "filename" if one of its columns was a file name. So "1.2.3.4<TAB>Cobalt
 * Strike C2" yields 1.2.3.4 and counts nothing else; a URL holding ',', ';',
 * '|' or a space must come in CSV or JSON. The netstat form "1.2.3.4.443" is
 * the address 1.2.3.4 (indicator.h).
 *
 * CSV (RFC 4180: quoted fields, "" inside quotes, fields across lines): the
 * delimiter is ',' unless the first line has more ';' or TABs. The first row
 * is a header if none of its fields is an indicator (kept or refused for a
 * specific reason, such as a private address). Empty cells are not values;
 * a row too short for the chosen column is one malformed value. The column
 * is the one the caller names (header name, case-insensitive) or numbers
 * (from 1); otherwise a header with both "type" and "value" columns means typed rows
 * (MISP CSV export: the type column holds MISP or psi type names), else the
 * first column named after an indicator kind (indicator, ioc, value,
 * observable, ip, domain, hostname, url, email, hash, md5, sha1, sha256,
 * sha512, or a MISP type such as ip-dst) is read, typed by its name when the
 * name is a type; with no such column every field is read as in plain text.
 *
 * STIX 2.x: objects of type "indicator" with a STIX pattern, cyber-observables
 * and observed-data (below). Every comparison
 * in a pattern is one value, whatever AND/OR/FOLLOWEDBY joins it (each is an
 * indicator of the same activity). Equality on ipv4-addr:value,
 * ipv6-addr:value, domain-name:value, url:value, email-addr:value,
 * email-message:from_ref.value / sender_ref.value, network-traffic:
 * dst_ref.value / src_ref.value and file:hashes.MD5 / SHA-1 / SHA-256 /
 * SHA-512 (quoted or not) is read; any other path or operator counts as
 * unsupported under its name; a pattern that does not parse counts as
 * malformed, and so does an indicator without a pattern. Revoked indicators
 * are ignored; a pattern_type other than "stix" (yara, snort, ...) is one
 * unsupported value. Cyber-observables at the top of a bundle (2.1) and in an
 * observed-data's "objects" dictionary (2.0) are values too: ipv4-addr,
 * ipv6-addr, domain-name, url, email-addr by their "value", file by each
 * hash of a known algorithm (others: "stix:file:hashes.NAME"; none:
 * "stix:file"); other observable types count once as unsupported
 * "stix:TYPE". Domain and relationship objects are not values and are not
 * counted. A bundle from which no value is read is an error (PSI_ERR_PARSE,
 * "nothing to read: ...").
 *
 * MISP: {"response":[{"Event":{...}}]}, {"Event":{...}}, an array of those,
 * or {"response":{"Attribute":[...]}}. Attributes of the event and of its
 * objects are read, deleted ones ignored. Composite types are split
 * (ip-dst|port -> the address, domain|ip -> both, filename|sha256 -> the
 * hash). "link" (a reference to a report) and types with no indicator kind
 * here (text, filename, regkey, port, ...) count as unsupported under
 * "misp:TYPE". An attribute whose to_ids is false (false, 0, "0", "false")
 * counts each indicator part it holds as not-for-detection, unless
 * psi_ioc_read_opts.all_attributes; one without to_ids is read. A MISP CSV
 * export's to_ids column is honoured the same way.
 *
 * A format asked for must match the content: text or CSV that is a whole
 * JSON document, STIX asked of a MISP event (and the reverse), or STIX or
 * MISP asked of a file that is not JSON, fail with PSI_ERR_PARSE and a line
 * naming what the file is.
 */
#ifndef PSI_IOC_READER_H
#define PSI_IOC_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "psi/export.h"
#include "psi/indicator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest file read (they are read whole). */
#define PSI_IOC_FILE_MAX (1024UL * 1024UL * 1024UL)

enum psi_ioc_format {
    PSI_IOC_FORMAT_AUTO = 0, /* JSON -> STIX or MISP by content; *.csv -> CSV; else text */
    PSI_IOC_FORMAT_TEXT,
    PSI_IOC_FORMAT_CSV,
    PSI_IOC_FORMAT_STIX,
    PSI_IOC_FORMAT_MISP,
};

/* CSV column choice; a NULL options pointer means all defaults. */
struct psi_csv_opts {
    const char *column_name; /* header name, case-insensitive; NULL: not given */
    size_t column_index;     /* 1-based column number; 0: not given */
    char delimiter;          /* ',', ';', '\t'...; 0: detect */
};

/* Everything a read is asked to do; a NULL pointer means all defaults. */
struct psi_ioc_read_opts {
    enum psi_ioc_format format;     /* PSI_IOC_FORMAT_AUTO: decide by content */
    const struct psi_csv_opts *csv; /* NULL: defaults */
    bool all_attributes;            /* MISP (and MISP CSV): also the attributes whose
                                       to_ids is false (else skipped as
                                       "not-for-detection") */
};

/* "auto", "text", "csv", "stix", "misp". */
PSI_EXPORT const char *psi_ioc_format_name(enum psi_ioc_format format);
/* PSI_ERR_NOT_FOUND for an unknown name. */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_format_from_name(const char *name,
                                                       enum psi_ioc_format *format);

/*
 * Read a file into set. err (errlen bytes, may be 0) receives one line
 * without a trailing newline when the call fails. Returns 0, PSI_ERR_IO
 * (cannot open or read), PSI_ERR_TOO_LARGE (over PSI_IOC_FILE_MAX),
 * PSI_ERR_PARSE (malformed), PSI_ERR_NOMEM or PSI_ERR_INVALID (bad
 * arguments, e.g. a CSV column given for a non-CSV format).
 */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_read_file(const char *path, enum psi_ioc_format format,
                                                const struct psi_csv_opts *csv,
                                                struct psi_ioc_set *set, char *err, size_t errlen);

/* The same for an open stream read to its end; name is used in messages and
 * for format detection (its extension). */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_read_stream(FILE *stream, const char *name,
                                                  enum psi_ioc_format format,
                                                  const struct psi_csv_opts *csv,
                                                  struct psi_ioc_set *set, char *err,
                                                  size_t errlen);

/* The same for bytes in memory (any bytes: fuzzing uses this entry). */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_read_buffer(const char *name, const void *buf, size_t len,
                                                  enum psi_ioc_format format,
                                                  const struct psi_csv_opts *csv,
                                                  struct psi_ioc_set *set, char *err,
                                                  size_t errlen);

/*
 * The same with every option (opts NULL: defaults). *read_as (if read_as is
 * not NULL) receives the format the input was read as, PSI_IOC_FORMAT_AUTO
 * if it was not decided (an error before). Each value read is offered with
 * its origin (file, line, JSON path, STIX id, MISP uuids: indicator.h), so a
 * set's observer sees where it came from.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_read_file_ex(const char *path,
                                                   const struct psi_ioc_read_opts *opts,
                                                   struct psi_ioc_set *set,
                                                   enum psi_ioc_format *read_as, char *err,
                                                   size_t errlen);
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_read_stream_ex(FILE *stream, const char *name,
                                                     const struct psi_ioc_read_opts *opts,
                                                     struct psi_ioc_set *set,
                                                     enum psi_ioc_format *read_as, char *err,
                                                     size_t errlen);
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_read_buffer_ex(const char *name, const void *buf, size_t len,
                                                     const struct psi_ioc_read_opts *opts,
                                                     struct psi_ioc_set *set,
                                                     enum psi_ioc_format *read_as, char *err,
                                                     size_t errlen);

/*
 * A party's own exclusions (psi_ioc_set_exclude, indicator.h) from a file:
 * one value or range a line; blank lines, lines starting with '#', and a
 * '#' comment after white space are ignored. A line that is no indicator or
 * range ("update.exe", "10.1.2.3/8") fails the read, FILE:LINE: what: an
 * exclusion silently not taken would let the party share what it meant to
 * keep; a reserved or generic value ("localhost", "co.uk") is accepted and
 * has no effect (it is never kept anyway). Returns as psi_ioc_read_file;
 * the exclusions of lines before an error stay taken.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_read_exclusions(const char *path, struct psi_ioc_set *set,
                                                      char *err, size_t errlen);
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_read_exclusions_buffer(const char *name, const void *buf,
                                                             size_t len, struct psi_ioc_set *set,
                                                             char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
