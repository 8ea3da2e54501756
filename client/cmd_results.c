/* psi results: which of my indicators others also hold, and who. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "hub_client.h"
#include "log_view.h"
#include "methods.h"
#include "psi.pb-c.h"
#include "psi/error.h"
#include "psi/ident.h"
#include "results_export.h"
#include "sub_status.h"

enum {
    RESULTS_STATE,
    RESULTS_JSON,
    RESULTS_EPOCH,
    RESULTS_FORMAT,
    RESULTS_WAIT,
    RESULTS_TIMEOUT,
};

#define RESULTS_WAIT_DEFAULT_S 300
#define RESULTS_WAIT_MAX_S 86400

static const struct psi_cmdline_option results_options[] = {
    [RESULTS_STATE] = {PSI_CLI_STATE_OPTION},
    [RESULTS_JSON] = {.name = "json", .help = "the same as --format json"},
    [RESULTS_EPOCH] = {.name = "epoch",
                       .value_name = "LABEL",
                       .help = "an earlier epoch (default: the hub's current epoch)"},
    [RESULTS_FORMAT] = {.name = "format",
                        .value_name = "FORMAT",
                        .help = "table (default), json (one object a line), csv (a row per\n"
                                "value and peer), stix (a STIX 2.1 bundle) or misp (a MISP\n"
                                "event): docs/analyst.md"},
    [RESULTS_WAIT] = {.name = "wait",
                      .help = "first wait until the results are complete (psi status)"},
    [RESULTS_TIMEOUT] = {.name = "timeout",
                         .value_name = "S",
                         .help = "with --wait: give up after S seconds, exit 1\n"
                                 "(default 300)"},
};

static const struct psi_cmdline_command results_command = {
    .name = "results",
    .about =
        "Asks the hub which positions of this participant's submissions other\n"
        "participants also hold, maps them back to indicators with the local\n"
        "state (the hub never had them), stores them there, and prints them:\n"
        "a table (type, value, held also by), or with --json one object a line:\n"
        "  {\"type\":\"ipv4\",\"value\":\"203.0.113.7\",\"peers\":[\"agency-b\",\"vendor-x\"],\n"
        "   \"epoch\":...,\"first_seen\":...,\"last_seen\":...,\"seen\":[...],\"sources\":[...]}\n"
        "or as CSV, a STIX 2.1 bundle or a MISP event (--format), each naming the\n"
        "epoch, the peers, when each was first and last seen, and where the\n"
        "indicator was read at submit (file, line, MISP event and attribute, STIX id).\n"
        "Only indicators held by at least the hub's threshold of parties are shown.\n"
        "Then prints the hub's log checkpoint it saw (on stderr in every format but\n"
        "the table), after checking its signature and its consistency with the one\n"
        "seen before: what participants compare to catch a hub showing them\n"
        "different logs.\n"
        "The table starts with whether the results are complete, that is whether\n"
        "every peer that may has cross-blinded this participant's submissions and\n"
        "its own agent has cross-blinded theirs (psi status has the detail):\n"
        "  complete: all 3 peers have cross-blinded your 2 submissions\n"
        "  incomplete: ke-dci has not yet cross-blinded submission 7\n"
        "In every other format that line goes to stderr; stdout keeps the results.\n"
        "--wait asks until they are complete (backing off to every 2 s) and then\n"
        "prints them; after --timeout S it gives up with one line, exit 1.\n",
    PSI_CMDLINE_OPTIONS(results_options),
    .epilogue = "PSI_HUB_TIMEOUT=SECONDS in the environment bounds each wait for the hub\n"
                "(default 30).\n",
};

/* The hub's latest checkpoint: opened with the pinned hub key, trusted only
 * along a consistency proof from the one this state trusted before, and
 * printed, so that participants can compare what the hub showed each of them
 * (psi audit compare) and catch a split view. */
static int see_checkpoint(struct psi_cli_session *s, struct psi_hub_client *hub, FILE *out)
{
    struct psi_note_verifier key;
    struct psi_checkpoint cp;
    char *note = NULL;
    char why[PSI_LOG_WHY_MAX] = "";
    int rc = psi_log_key(&s->config, &key, why, sizeof why);
    if (!rc)
        rc = psi_log_fetch_checkpoint(hub, &key, &cp, &note, why, sizeof why);
    if (!rc)
        rc = psi_log_trust(s->state, hub, &cp, note, "results", NULL, NULL, why, sizeof why);
    if (rc) {
        psi_cmdline_note("results", "the hub's log: %s", why);
    } else {
        fprintf(out, "checkpoint seen (compare with other participants: psi audit compare):\n%s",
                note);
    }
    free(note);
    return rc;
}

static void print_table(const struct psi_state_result_list *list, const char *id)
{
    if (list->count == 0) {
        printf("epoch %s: none of %s's indicators is known to be held by others"
               " (threshold %" PRIu32 ")\n",
               list->epoch, id, list->threshold);
        return;
    }
    /* Column widths from the data, with long values (URLs) let run over. */
    int value_width = 5;
    for (size_t i = 0; i < list->count; i++) {
        size_t len = strlen(list->items[i].value);
        if (len > (size_t)value_width)
            value_width = len > 60 ? 60 : (int)len;
    }
    printf("epoch %s: %zu of %s's indicators are also held by others (threshold %" PRIu32 ")\n\n",
           list->epoch, list->count, id, list->threshold);
    printf("%-6s  %-*s  %s\n", "TYPE", value_width, "VALUE", "HELD ALSO BY");
    for (size_t i = 0; i < list->count; i++) {
        const struct psi_state_result *r = &list->items[i];
        printf("%-6s  %-*s  ", r->type, value_width, r->value);
        for (size_t j = 0; j < r->n_peers; j++)
            printf("%s%s", j ? ", " : "", r->peers[j]);
        putchar('\n');
    }
}

/* The formats for programs (results_export.h), on stdout. */
static int write_format(enum psi_results_format format, const struct psi_state_result_list *list,
                        const char *self)
{
    switch (format) {
    case PSI_RESULTS_JSON: return psi_results_write_json(stdout, list);
    case PSI_RESULTS_CSV: return psi_results_write_csv(stdout, list);
    case PSI_RESULTS_STIX: return psi_results_write_stix(stdout, list, self);
    case PSI_RESULTS_MISP: return psi_results_write_misp(stdout, list, self);
    case PSI_RESULTS_TABLE: break;
    }
    return 0;
}

/* Asks for the status until it is complete (every 0.25 s at first, doubling
 * to every 2 s) or wait_s seconds have passed (a failure saying who is
 * missing). */
static int wait_complete(struct psi_hub_client *hub, const char *me, const char *epoch,
                         uint64_t wait_s, Psi__Status **out, struct psi_hub_failure *f)
{
    double start = psi_cli_now(), pause = 0.25;
    for (;;) {
        int rc = psi_sub_status_fetch(hub, me, epoch, out, f);
        if (rc != 0) {
            if (f->refused && f->code == PSI_ERR_PROTOCOL) {
                char why[512];
                snprintf(why, sizeof why, "%.500s", f->text);
                snprintf(f->text, sizeof f->text,
                         "cannot wait: the hub does not say whether results are complete (%s)",
                         why);
            }
            return rc;
        }
        if (psi_sub_status_complete(*out))
            return 0;
        double waited = psi_cli_now() - start;
        if (waited >= (double)wait_s) {
            char line[600];
            psi_sub_status_line(*out, line, sizeof line);
            snprintf(f->text, sizeof f->text, "still %s after %" PRIu64 " s (--timeout)", line,
                     wait_s);
            psi__status__free_unpacked(*out, NULL);
            *out = NULL;
            f->code = PSI_ERR_TIMEOUT;
            return PSI_ERR_TIMEOUT;
        }
        psi__status__free_unpacked(*out, NULL);
        *out = NULL;
        double left = (double)wait_s - waited, nap = pause < left ? pause : left;
        struct timespec ts = {(time_t)nap, (long)((nap - (double)(time_t)nap) * 1e9)};
        while (nanosleep(&ts, &ts) != 0)
            ;
        pause = pause * 2 > 2.0 ? 2.0 : pause * 2;
    }
}

int psi_cmd_results(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&results_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[RESULTS_STATE];
    const char *epoch = args.given[RESULTS_EPOCH] ? args.value[RESULTS_EPOCH] : "";
    enum psi_results_format format = PSI_RESULTS_TABLE;
    if (args.given[RESULTS_FORMAT] &&
        psi_results_format_from_name(args.value[RESULTS_FORMAT], &format))
        return psi_cmdline_usage_error("results",
                                       "'%s' is not a format (table, json, csv, stix, misp)",
                                       args.value[RESULTS_FORMAT]);
    if (args.given[RESULTS_JSON]) {
        if (args.given[RESULTS_FORMAT] && format != PSI_RESULTS_JSON)
            return psi_cmdline_usage_error("results", "--json and --format %s disagree",
                                           args.value[RESULTS_FORMAT]);
        format = PSI_RESULTS_JSON;
    }
    /* Every format but the table is for programs: stdout holds it alone. */
    int json = format != PSI_RESULTS_TABLE;
    if (epoch[0] && !psi_epoch_label_is_valid(epoch))
        return psi_cmdline_usage_error("results", "'%s' is not an epoch label", epoch);
    uint64_t wait_s = RESULTS_WAIT_DEFAULT_S;
    if ((status = psi_cmdline_option_u64(&results_command, &args, RESULTS_TIMEOUT, 1,
                                         RESULTS_WAIT_MAX_S, &wait_s)) != 0)
        return status;
    if (args.given[RESULTS_TIMEOUT] && !args.given[RESULTS_WAIT])
        return psi_cmdline_usage_error("results", "--timeout goes with --wait");

    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "results", dir))
        return PSI_CMDLINE_EXIT_FAILURE;

    struct psi_hub_client *hub = NULL;
    struct psi_hub_failure f;
    Psi__Results *res = NULL;
    Psi__Status *st = NULL;
    char status_note[800] = "";
    struct psi_state_match *matches = NULL;
    struct psi_state_result_list list = {0};

    if (psi_hub_client_open(&hub, &s.identity, &s.config, &f)) {
        status = psi_cmdline_fail("results", "%s", f.text);
        goto out;
    }
    /* Whether the results are complete is asked first, so that "complete"
     * is a fact about the results fetched after it. */
    if (args.given[RESULTS_WAIT]) {
        if (wait_complete(hub, s.config.id, epoch, wait_s, &st, &f) != 0) {
            status = psi_cmdline_fail("results", "%s", f.text);
            goto out;
        }
    } else if (psi_sub_status_fetch(hub, s.config.id, epoch, &st, &f) != 0) {
        /* A hub older than the method refuses it (PROTOCOL); anything else
         * would fail the results too, so it is the command's failure. */
        if (!f.refused || f.code != PSI_ERR_PROTOCOL) {
            status = psi_cmdline_fail("results", "%s", f.text);
            goto out;
        }
        snprintf(status_note, sizeof status_note, "%s", f.text);
        st = NULL;
    }
    Psi__ResultsRequest req = PSI__RESULTS_REQUEST__INIT;
    req.participant = s.config.id;
    req.epoch = (char *)epoch;
    if (psi_hub_client_call(hub, PSI_METHOD_NAME(RESULTS), NULL, &req.base,
                            &psi__results__descriptor, (ProtobufCMessage **)&res, &f)) {
        status = psi_cmdline_fail("results", "%s", f.text);
        goto out;
    }
    /* Everything in the answer is checked before it is stored or shown. */
    if (!psi_epoch_label_is_valid(res->epoch) || (epoch[0] && strcmp(res->epoch, epoch) != 0)) {
        status = psi_cmdline_fail(
            "results", "the hub answered for epoch '%.64s', not the one asked", res->epoch);
        goto out;
    }
    if (res->n_matches > 0) {
        matches = calloc(res->n_matches, sizeof *matches);
        if (!matches) {
            status = psi_cmdline_fail("results", "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < res->n_matches; i++) {
        const Psi__Match *m = res->matches[i];
        if (m->n_peers == 0) {
            status = psi_cmdline_fail("results",
                                      "the hub sent a match (position %" PRIu64 ") without peers",
                                      m->position);
            goto out;
        }
        for (size_t j = 0; j < m->n_peers; j++)
            if (!psi_id_is_valid(m->peers[j]) || strcmp(m->peers[j], s.config.id) == 0) {
                status = psi_cmdline_fail(
                    "results", "the hub sent an invalid peer for position %" PRIu64, m->position);
                goto out;
            }
        matches[i].position = m->position;
        matches[i].peers = (const char *const *)m->peers;
        matches[i].n_peers = m->n_peers;
    }
    /* The state lock only now: while results --wait waits, this
     * participant's own agent must go on taking it for its rounds. */
    if (psi_cli_session_lock(&s)) {
        status = PSI_CMDLINE_EXIT_FAILURE;
        goto out;
    }
    int rc = psi_state_results_store(s.state, res->epoch, res->threshold, matches, res->n_matches);
    if (!rc)
        rc = psi_state_results_get(s.state, res->epoch, &list);
    if (rc) {
        status = psi_cmdline_fail("results", "cannot store results in %s: %s", dir,
                                  psi_state_error(s.state));
        goto out;
    }
    if (st != NULL) {
        char line[1024];
        psi_sub_status_line(st, line, sizeof line);
        if (json)
            psi_cmdline_note("results", "%s", line);
        else
            printf("%s\n", line);
    } else {
        psi_cmdline_note("results", "the hub does not say whether these results are complete: %s",
                         status_note);
    }
    if (format == PSI_RESULTS_TABLE) {
        print_table(&list, s.config.id);
    } else if ((rc = write_format(format, &list, s.config.id)) != 0) {
        status = psi_cmdline_fail("results", "cannot write the results: %s", psi_strerror(rc));
        goto out;
    }
    /* In a format for programs, stdout is for the results only. */
    if (see_checkpoint(&s, hub, json ? stderr : stdout))
        status = PSI_CMDLINE_EXIT_FAILURE;
    if (list.unmapped > 0)
        psi_cmdline_note("results",
                         "%zu matched positions of epoch %s are not in %s"
                         " (submitted from another state directory?)",
                         list.unmapped, list.epoch, dir);
    if (fflush(stdout) != 0)
        status = psi_cmdline_fail("results", "cannot write the results to standard output");
out:
    psi_state_result_list_clear(&list);
    free(matches);
    if (res)
        protobuf_c_message_free_unpacked(&res->base, NULL);
    if (st)
        psi__status__free_unpacked(st, NULL);
    psi_hub_client_close(hub);
    psi_cli_session_close(&s);
    return status;
}
