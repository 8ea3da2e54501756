/* psi epoch: the epochs this participant has used or accepted, and accepting
 * an operator's manual epoch (see epoch_guard.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "epoch_guard.h"
#include "hub_client.h"
#include "methods.h"
#include "psi.pb-c.h"
#include "psi/error.h"
#include "psi/ident.h"

enum {
    EPOCH_STATE,
    EPOCH_ACCEPT,
};

static const struct psi_cmdline_option epoch_options[] = {
    [EPOCH_STATE] = {PSI_CLI_STATE_OPTION},
    [EPOCH_ACCEPT] = {.name = "accept",
                      .value_name = "LABEL",
                      .help = "accept the manual epoch LABEL (the hub operator's choice):\n"
                              "submit, agent and feed then work under it"},
};

static const struct psi_cmdline_command epoch_command = {
    .name = "epoch",
    .about = "Epochs decide which key blinds a set and which sets can be linked, so this\n"
             "participant takes them from the hub only on its own terms: a week or day\n"
             "label must be the one this machine's clock gives now (the neighbouring one\n"
             "within 2 hours of the boundary), an epoch once left is never used again,\n"
             "and a hub in manual mode gets work done only under labels accepted here.\n",
    PSI_CMDLINE_OPTIONS(epoch_options),
    .epilogue = "Without --accept: prints each epoch used (in order of first use) or\n"
                "accepted, then the hub's current epoch and its mode.\n",
};

static const char *kind_name(enum psi_state_epoch_kind kind)
{
    switch (kind) {
    case PSI_STATE_EPOCH_WEEK: return "week";
    case PSI_STATE_EPOCH_DAY: return "day";
    default: return "manual";
    }
}

static int print_epoch(void *ctx, const struct psi_state_epoch *e)
{
    (void)ctx;
    if (e->seq > 0) {
        char when[32] = "?";
        time_t t = (time_t)(e->used_ms / 1000);
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%-24s %-7s used since %s%s\n", e->label, kind_name(e->kind), when,
               e->accepted ? " (accepted)" : "");
    } else {
        printf("%-24s %-7s accepted, not used yet\n", e->label, kind_name(e->kind));
    }
    return 0;
}

static int accept_label(struct psi_cli_session *s, const char *label)
{
    if (!psi_epoch_label_is_valid(label)) {
        psi_cmdline_note("epoch", "'%s' is not an epoch label", label);
        return PSI_CMDLINE_EXIT_USAGE;
    }
    /* Accepting an epoch left behind would change nothing (it stays
     * refused); saying so beats a silent no-op. */
    struct psi_state_epoch mine, newest;
    if (psi_state_epoch_get(s->state, label, &mine) == 0 && mine.seq > 0 &&
        psi_state_epoch_newest(s->state, &newest) == 0 && strcmp(newest.label, label) != 0)
        return psi_cmdline_fail("epoch",
                                "epoch %s was used before and %s since; it is never used again",
                                label, newest.label);
    if (psi_state_epoch_accept(s->state, label))
        return psi_cmdline_fail("epoch", "cannot record the epoch in %s: %s", s->dir,
                                psi_state_error(s->state));
    printf("psi epoch: accepted %s\n", label);
    return 0;
}

static int list_epochs(struct psi_cli_session *s)
{
    if (psi_state_epoch_each(s->state, print_epoch, NULL))
        return psi_cmdline_fail("epoch", "cannot read the epochs of %s: %s", s->dir,
                                psi_state_error(s->state));
    struct psi_hub_client *hub = NULL;
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    int status = 0;
    if (psi_hub_client_open(&hub, &s->identity, &s->config, &f) ||
        psi_hub_client_call(hub, PSI_METHOD_NAME(INFO), NULL, NULL, &psi__hub_info__descriptor,
                            (ProtobufCMessage **)&info, &f)) {
        status = psi_cmdline_fail("epoch", "%s", f.text);
    } else {
        const char *mode = info->epoch_mode[0] ? info->epoch_mode : "unstated";
        printf("hub: current epoch %s (%s mode)\n",
               psi_epoch_label_is_valid(info->epoch) ? info->epoch : "(invalid)", mode);
        protobuf_c_message_free_unpacked(&info->base, NULL);
    }
    psi_hub_client_close(hub);
    return status;
}

int psi_cmd_epoch(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&epoch_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[EPOCH_STATE], *label = args.value[EPOCH_ACCEPT];
    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "epoch", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    if (psi_cli_session_lock(&s)) {
        psi_cli_session_close(&s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    status = label ? accept_label(&s, label) : list_epochs(&s);
    if (fflush(stdout) != 0 && !status)
        status = psi_cmdline_fail("epoch", "cannot write to standard output");
    psi_cli_session_close(&s);
    return status;
}
