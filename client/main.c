/* psi: the participant's tool. Dispatches to one subcommand. */
#include <stdio.h>

#include <nng/nng.h>
#include <sodium.h>

#include "cmdline.h"
#include "commands.h"

static const struct psi_cmdline_subcommand commands[] = {
    {"init", psi_cmd_init, "create a participant's state directory and keys"},
    {"ingest", psi_cmd_ingest, "canonicalise indicator files and print the set"},
    {"submit", psi_cmd_submit, "blind and submit indicators to the hub"},
    {"agent", psi_cmd_agent, "cross-blind other participants' sets (the work the hub lists)"},
    {"policy", psi_cmd_policy, "set or show this participant's own sharing policy"},
    {"peers", psi_cmd_peers, "list the peers verified through the hub's log"},
    {"results", psi_cmd_results, "show which of my indicators others also hold, and who"},
    {"audit", psi_cmd_audit, "verify the hub's log, receipts and checkpoints (auditors)"},
    {"feed", psi_cmd_feed, "publish a blinded vendor feed, or query one (protocol 2)"},
    {"epoch", psi_cmd_epoch, "show the epochs used here, or accept a manual one"},
};

static const struct psi_cmdline_group psi = {
    .name = "",
    .about = NULL,
    PSI_CMDLINE_SUBCOMMANDS(commands),
};

int main(int argc, char **argv)
{
    psi_cmdline_set_program("psi");
    if (sodium_init() < 0)
        return psi_cmdline_fail("", "libsodium failed to initialise");
    int status = psi_cmdline_dispatch(&psi, argc, argv);
    nng_fini(); /* nng's threads free what they hold before exit */
    return status;
}
