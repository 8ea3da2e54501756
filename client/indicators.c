/* The indicators a command reads and sends (see indicators.h). */
#include "indicators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "psi/error.h"

int psi_indicators_format_option(const char *cmd, const char *name, enum psi_ioc_format *format)
{
    *format = PSI_IOC_FORMAT_AUTO;
    if (!name || psi_ioc_format_from_name(name, format) == PSI_OK)
        return 0;
    return psi_cmdline_usage_error(cmd, "unknown format '%s' (auto, text, csv, stix, misp)", name);
}

const char *psi_indicators_format_phrase(enum psi_ioc_format format)
{
    switch (format) {
    case PSI_IOC_FORMAT_TEXT: return "text";
    case PSI_IOC_FORMAT_CSV: return "CSV";
    case PSI_IOC_FORMAT_STIX: return "a STIX 2 bundle";
    case PSI_IOC_FORMAT_MISP: return "a MISP event";
    case PSI_IOC_FORMAT_AUTO: break;
    }
    return "undecided";
}

int psi_indicators_exclude(struct psi_ioc_set *set, const struct psi_indicators_input *in,
                           char *err, size_t errlen)
{
    err[0] = '\0';
    if (in == NULL || in->exclude == NULL)
        return 0;
    int rc = psi_ioc_read_exclusions(in->exclude, set, err, errlen);
    if (rc && !err[0])
        snprintf(err, errlen, "%s: %s", in->exclude, psi_strerror(rc));
    return rc;
}

int psi_indicators_read_file(struct psi_ioc_set *set, const char *path,
                             const struct psi_indicators_input *in, enum psi_ioc_format *read_as,
                             char *err, size_t errlen)
{
    struct psi_ioc_read_opts opts = {PSI_IOC_FORMAT_AUTO, NULL, false};
    if (in != NULL) {
        bool column = in->csv.column_name != NULL || in->csv.column_index > 0;
        opts = (struct psi_ioc_read_opts){in->format, column ? &in->csv : NULL, in->all_attributes};
    }
    err[0] = '\0';
    int rc = strcmp(path, "-") == 0
                 ? psi_ioc_read_stream_ex(stdin, "(stdin)", &opts, set, read_as, err, errlen)
                 : psi_ioc_read_file_ex(path, &opts, set, read_as, err, errlen);
    if (rc && !err[0])
        snprintf(err, errlen, "%s: %s", path, psi_strerror(rc));
    return rc;
}

int psi_indicators_read_files(struct psi_ioc_set *set, char *const *files, int count,
                              const struct psi_indicators_input *in, const char *cmd, char *err,
                              size_t errlen)
{
    int rc = psi_indicators_exclude(set, in, err, errlen);
    if (rc)
        return rc;
    for (int i = 0; i < count; i++) {
        enum psi_ioc_format read_as;
        rc = psi_indicators_read_file(set, files[i], in, &read_as, err, errlen);
        if (rc)
            return rc;
        if (cmd != NULL && (in == NULL || in->format == PSI_IOC_FORMAT_AUTO))
            fprintf(stderr, "psi %s: %s: read as %s (auto)\n", cmd,
                    strcmp(files[i], "-") == 0 ? "(stdin)" : files[i],
                    psi_indicators_format_phrase(read_as));
    }
    return 0;
}

/* One indicator of a run, however it is held. */
struct indicator {
    enum psi_ioc_type type;
    const char *value;
    size_t len;
};

typedef int (*indicator_at)(const void *source, size_t i, struct indicator *out);

static int set_member_at(const void *source, size_t i, struct indicator *out)
{
    struct psi_ioc_ref ref;
    int rc = psi_ioc_set_get(source, i, &ref);
    if (!rc)
        *out = (struct indicator){ref.type, ref.value, ref.len};
    return rc;
}

static int list_item_at(const void *source, size_t i, struct indicator *out)
{
    const struct psi_state_indicator *item = (const struct psi_state_indicator *)source + i;
    if (psi_ioc_type_from_name(item->type, &out->type) != PSI_OK)
        return PSI_ERR_PARSE;
    out->value = item->value;
    out->len = strlen(item->value);
    return 0;
}

/* Two passes over the run: the room the encodings take, then the encodings. */
static int encode_run(struct psi_indicator_batch *b, indicator_at at, const void *source,
                      size_t begin, size_t n)
{
    memset(b, 0, sizeof *b);
    size_t total = 0;
    struct indicator ind;
    for (size_t i = 0; i < n; i++) {
        int rc = at(source, begin + i, &ind);
        if (rc)
            return rc;
        total += strlen(psi_ioc_type_name(ind.type)) + 1 + ind.len;
    }
    b->bytes = malloc(total ? total : 1);
    b->inputs = calloc(n ? n : 1, sizeof *b->inputs);
    b->lens = calloc(n ? n : 1, sizeof *b->lens);
    if (!b->bytes || !b->inputs || !b->lens)
        return PSI_ERR_NOMEM;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = at(source, begin + i, &ind);
        if (!rc)
            rc = psi_ioc_encode(ind.type, ind.value, ind.len, b->bytes + used, total - used,
                                &b->lens[i]);
        if (rc)
            return rc;
        b->inputs[i] = b->bytes + used;
        used += b->lens[i];
    }
    b->count = n;
    return 0;
}

int psi_indicator_batch_from_set(struct psi_indicator_batch *batch, const struct psi_ioc_set *set,
                                 size_t begin, size_t n)
{
    return encode_run(batch, set_member_at, set, begin, n);
}

int psi_indicator_batch_from_list(struct psi_indicator_batch *batch,
                                  const struct psi_state_indicator *items, size_t n)
{
    return encode_run(batch, list_item_at, items, 0, n);
}

void psi_indicator_batch_clear(struct psi_indicator_batch *batch)
{
    free(batch->bytes);
    free(batch->inputs);
    free(batch->lens);
    memset(batch, 0, sizeof *batch);
}
