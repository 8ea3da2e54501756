/* psi status: which peers have cross-blinded my submissions, and which not yet. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "hub_client.h"
#include "psi/ident.h"
#include "sub_status.h"

enum {
    STATUS_STATE,
    STATUS_JSON,
    STATUS_EPOCH,
};

static const struct psi_cmdline_option status_options[] = {
    [STATUS_STATE] = {PSI_CLI_STATE_OPTION},
    [STATUS_JSON] = {.name = "json", .help = "one JSON object on stdout"},
    [STATUS_EPOCH] = {.name = "epoch",
                      .value_name = "LABEL",
                      .help = "an earlier epoch (default: the hub's current epoch)"},
};

static const struct psi_cmdline_command status_command = {
    .name = "status",
    .about =
        "Asks the hub where this participant's submissions of the epoch stand:\n"
        "for each, the peers that may cross-blind it (both policies allow the\n"
        "pair) that have done so and those that have not yet, and how many sets\n"
        "of peers this participant's own agent has still to cross-blind. Results\n"
        "are complete when nobody is left: the first line says so,\n"
        "  epoch 2026-W49: complete: all 3 peers have cross-blinded your 2 submissions\n"
        "then a table (submission, indicators, cross-blinded by, not yet). With\n"
        "--json one object:\n"
        "  {\"epoch\":\"2026-W49\",\"complete\":false,\"own_pending\":0,\"submissions\":\n"
        "   [{\"submission\":7,\"count\":39,\"done\":[\"fr-ccn\"],\"pending\":[\"ke-dci\"]}]}\n"
        "No match counts: whether a peer cross-blinded a set never depends on\n"
        "a match (docs/trust.md).\n",
    PSI_CMDLINE_OPTIONS(status_options),
    .epilogue = "PSI_HUB_TIMEOUT=SECONDS in the environment bounds each wait for the hub\n"
                "(default 30).\n",
};

static json_t *id_array(char **ids, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(ids[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int print_json(const Psi__Status *st)
{
    json_t *subs = json_array();
    json_t *obj = json_pack("{s:s, s:b, s:I, s:o*}", "epoch", st->epoch, "complete",
                            psi_sub_status_complete(st), "own_pending", (json_int_t)st->own_pending,
                            "submissions", subs);
    int bad = obj == NULL;
    for (size_t i = 0; !bad && i < st->n_submissions; i++) {
        const Psi__SubmissionStatus *s = st->submissions[i];
        json_t *one =
            json_pack("{s:I, s:I, s:o*, s:o*}", "submission", (json_int_t)s->submission_id, "count",
                      (json_int_t)s->count, "done", id_array(s->done, s->n_done), "pending",
                      id_array(s->pending, s->n_pending));
        bad = one == NULL || json_array_append_new(subs, one) != 0;
    }
    char *line = bad ? NULL : json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!line)
        return -1;
    puts(line);
    free(line);
    return 0;
}

static void print_ids(char **ids, size_t n, int width)
{
    int used = 0;
    if (n == 0)
        used = printf("-");
    for (size_t i = 0; i < n; i++)
        used += printf("%s%s", i ? ", " : "", ids[i]);
    if (width > used)
        printf("%*s", width - used, "");
}

static void print_table(const Psi__Status *st)
{
    char line[1024];
    psi_sub_status_line(st, line, sizeof line);
    printf("epoch %s: %s\n", st->epoch, line);
    if (st->n_submissions == 0)
        return;
    int width = 16;
    for (size_t i = 0; i < st->n_submissions; i++) {
        int w = 0;
        for (size_t k = 0; k < st->submissions[i]->n_done; k++)
            w += (int)strlen(st->submissions[i]->done[k]) + (k ? 2 : 0);
        if (w > width)
            width = w > 60 ? 60 : w;
    }
    printf("\n%-10s  %-10s  %-*s  %s\n", "SUBMISSION", "INDICATORS", width, "CROSS-BLINDED BY",
           "NOT YET");
    for (size_t i = 0; i < st->n_submissions; i++) {
        const Psi__SubmissionStatus *s = st->submissions[i];
        printf("%-10" PRIu64 "  %-10" PRIu64 "  ", s->submission_id, s->count);
        print_ids(s->done, s->n_done, width);
        printf("  ");
        print_ids(s->pending, s->n_pending, 0);
        putchar('\n');
    }
}

int psi_cmd_status(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&status_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[STATUS_STATE];
    const char *epoch = args.given[STATUS_EPOCH] ? args.value[STATUS_EPOCH] : "";
    if (epoch[0] && !psi_epoch_label_is_valid(epoch))
        return psi_cmdline_usage_error("status", "'%s' is not an epoch label", epoch);

    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "status", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    struct psi_hub_client *hub = NULL;
    struct psi_hub_failure f;
    Psi__Status *st = NULL;
    if (psi_hub_client_open(&hub, &s.identity, &s.config, &f) ||
        psi_sub_status_fetch(hub, s.config.id, epoch, &st, &f)) {
        status = psi_cmdline_fail("status", "%s", f.text);
        goto out;
    }
    if (args.given[STATUS_JSON]) {
        if (print_json(st) != 0) {
            status = psi_cmdline_fail("status", "out of memory");
            goto out;
        }
    } else {
        print_table(st);
    }
    if (fflush(stdout) != 0)
        status = psi_cmdline_fail("status", "cannot write to standard output");
out:
    if (st)
        psi__status__free_unpacked(st, NULL);
    psi_hub_client_close(hub);
    psi_cli_session_close(&s);
    return status;
}
