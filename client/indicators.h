/*
 * The indicators a command reads and sends, from the files a person gives to
 * the bytes that are blinded: `psi ingest`, `psi submit` and `psi feed`
 * read files through here, and submit and feed encode what they blind here.
 *
 * It promises that every command reads a FILE the same way ("-" is standard
 * input, the format by --format or by content, canonical and de-duplicated
 * in a psi_ioc_set: psi/ioc_reader.h), that a failure leaves one line for a
 * person in err (FILE:LINE: what, as the reader says it), and that the bytes
 * hashed to the group are exactly psi_ioc_encode's "type:value" of the
 * canonical indicator, whether it comes from a set just read or from a
 * submission recorded in the state.
 */
#ifndef PSI_CLIENT_INDICATORS_H
#define PSI_CLIENT_INDICATORS_H

#include <stdbool.h>
#include <stddef.h>

#include "psi/indicator.h"
#include "psi/ioc_reader.h"
#include "state.h"

/* The --format option, as every command that reads indicator files takes it
 * (ingest adds its short name -f). */
#define PSI_INDICATORS_FORMAT_OPTION                                                               \
    .name = "format", .value_name = "FORMAT",                                                      \
    .help = "how to read the files: auto (default), text, csv, stix or misp;\n"                    \
            "auto reads JSON as a STIX 2 bundle or a MISP event by its\n"                          \
            "content, *.csv as CSV, anything else as text"

/* --all-attributes and --exclude, as ingest, submit and feed publish take
 * them. */
#define PSI_INDICATORS_ALL_ATTRIBUTES_OPTION                                                       \
    .name = "all-attributes",                                                                      \
    .help = "MISP: also read the attributes whose to_ids is false (not meant\n"                    \
            "for detection; by default they are left out and counted as\n"                         \
            "not-for-detection)"
#define PSI_INDICATORS_EXCLUDE_OPTION                                                              \
    .name = "exclude", .value_name = "FILE",                                                       \
    .help = "never take these: one value or address range a line ('#'\n"                           \
            "comments); an equal indicator, or an address or range inside\n"                       \
            "an excluded range, is skipped as excluded"

/* How a command reads its indicator files: the options above, parsed. */
struct psi_indicators_input {
    enum psi_ioc_format format;
    struct psi_csv_opts csv;
    bool all_attributes;
    const char *exclude; /* --exclude FILE, or NULL */
};

/* The format a --format value names (NULL: auto). 0, or the usage error
 * printed for cmd and PSI_CMDLINE_EXIT_USAGE (cli.h). */
int psi_indicators_format_option(const char *cmd, const char *name, enum psi_ioc_format *format);

/* How a note names a format: "text", "CSV", "a STIX 2 bundle", "a MISP event". */
const char *psi_indicators_format_phrase(enum psi_ioc_format format);

/* The exclusions of in->exclude (if any) into set, before any file is read.
 * 0, or the reader's error code with one line in err (never empty). */
int psi_indicators_exclude(struct psi_ioc_set *set, const struct psi_indicators_input *in,
                           char *err, size_t errlen);

/* Reads one file ("-": standard input) into set as in says (in NULL: all
 * defaults); *read_as (may be NULL) receives the format it was read as. 0,
 * or the reader's error code with one line in err (never empty). */
int psi_indicators_read_file(struct psi_ioc_set *set, const char *path,
                             const struct psi_indicators_input *in, enum psi_ioc_format *read_as,
                             char *err, size_t errlen);

/* Reads files[0..count) into set, stopping at the first that fails (as
 * above), after taking in's exclusions. With cmd not NULL and the format
 * auto, a note on standard error says how each file was read
 * ("psi CMD: FILE: read as a MISP event (auto)"). */
int psi_indicators_read_files(struct psi_ioc_set *set, char *const *files, int count,
                              const struct psi_indicators_input *in, const char *cmd, char *err,
                              size_t errlen);

/* The "type:value" encodings of a run of indicators, in one buffer, with
 * a pointer and a length per indicator: what psi_blind_batch and the feed's
 * VOPRF functions take. */
struct psi_indicator_batch {
    unsigned char *bytes;
    const unsigned char **inputs;
    size_t *lens;
    size_t count;
};

/* Members [begin, begin + n) of a set. 0 or a psi error code; clear the
 * batch either way. */
int psi_indicator_batch_from_set(struct psi_indicator_batch *batch, const struct psi_ioc_set *set,
                                 size_t begin, size_t n);

/* Indicators recorded in the state (type by name). PSI_ERR_PARSE for a type
 * this code does not know, else as above. */
int psi_indicator_batch_from_list(struct psi_indicator_batch *batch,
                                  const struct psi_state_indicator *items, size_t n);

void psi_indicator_batch_clear(struct psi_indicator_batch *batch);

#endif
