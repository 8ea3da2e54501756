/* psi: the participant's tool. Dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <sodium.h>

#include "cmdline.h"
#include "commands.h"
#include "psi/indicator.h"

#ifndef PSI_VERSION
#define PSI_VERSION "unknown" /* set by CMake from the project version */
#endif

static const struct psi_cmdline_subcommand commands[] = {
    {"init", psi_cmd_init, "create a participant's state directory and keys"},
    {"ingest", psi_cmd_ingest, "canonicalise indicator files and print the set"},
    {"submit", psi_cmd_submit, "blind and submit indicators to the hub"},
    {"agent", psi_cmd_agent, "cross-blind other participants' sets (the work the hub lists)"},
    {"policy", psi_cmd_policy, "set or show this participant's own sharing policy"},
    {"peers", psi_cmd_peers, "list the peers verified through the hub's log"},
    {"results", psi_cmd_results, "show which of my indicators others also hold, and who"},
    {"status", psi_cmd_status, "show which peers have cross-blinded my submissions"},
    {"audit", psi_cmd_audit, "verify the hub's log, receipts and checkpoints (auditors)"},
    {"feed", psi_cmd_feed, "publish a blinded vendor feed, or query one (protocol 2)"},
    {"epoch", psi_cmd_epoch, "show the epochs used here, or accept a manual one"},
};

static const struct psi_cmdline_group psi = {
    .name = "",
    .about = "'psi --version' prints the program's version and the indicator rules it\n"
             "applies (all parties must apply the same rules to match).\n",
    PSI_CMDLINE_SUBCOMMANDS(commands),
};

int main(int argc, char **argv)
{
    psi_cmdline_set_program("psi");
    /* The program's version and the canonicalisation rules it applies
     * (parties match only under the same rules: docs/indicators.md). */
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("psi %s (indicator rules %u)\n", PSI_VERSION, (unsigned)PSI_IOC_RULES_VERSION);
        return 0;
    }
    if (sodium_init() < 0)
        return psi_cmdline_fail("", "libsodium failed to initialise");
    int status = psi_cmdline_dispatch(&psi, argc, argv);
    nng_fini(); /* nng's threads free what they hold before exit */
    return status;
}
