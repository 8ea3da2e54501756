/* psi-hub: the hub operator's tool. Dispatches to one subcommand. */
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
    {"init", psi_hub_cmd_init, "create a hub (key and store); prints its verifier key"},
    {"admit", psi_hub_cmd_admit, "admit a participant with the key string `psi init` printed"},
    {"policy", psi_hub_cmd_policy, "change whom a participant shares with, and if it gets results"},
    {"remove", psi_hub_cmd_remove, "refuse a participant's requests from now on"},
    {"epoch", psi_hub_cmd_epoch, "print the current epoch; in manual mode, set it"},
    {"roster", psi_hub_cmd_roster, "list the participants and their policies"},
    {"serve", psi_hub_cmd_serve, "serve requests until SIGTERM or SIGINT"},
    {"quota", psi_hub_cmd_quota, "set a participant's element quota or an agency's feed queries"},
    {"prune", psi_hub_cmd_prune, "remove the data of old epochs and give the space back"},
    {"backup", psi_hub_cmd_backup, "write a consistent copy of the store while the hub serves"},
};

static const struct psi_cmdline_group hub = {
    .name = "",
    .about = "The matching hub: keeps the roster, stores blinded sets, joins tags, serves.\n"
             "'psi-hub --version' prints the program's version and the indicator rules it\n"
             "matches under. Exit status: 0 success, 1 failure, 2 usage error.\n",
    PSI_CMDLINE_SUBCOMMANDS(commands),
};

int main(int argc, char **argv)
{
    psi_cmdline_set_program("psi-hub");
    /* The program's version and the canonicalisation rules it matches under
     * (it refuses submissions made under others). */
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("psi-hub %s (indicator rules %u)\n", PSI_VERSION, (unsigned)PSI_IOC_RULES_VERSION);
        return 0;
    }
    if (sodium_init() < 0)
        return psi_cmdline_fail("", "libsodium failed to initialise");
    int status = psi_cmdline_dispatch(&hub, argc, argv);
    nng_fini(); /* nng's threads free what they hold before exit */
    return status;
}
