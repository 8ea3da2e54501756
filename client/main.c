/* psi: the participant's tool. Dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <sodium.h>

#include "commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
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

static void usage(FILE *out)
{
    fprintf(out, "usage: psi COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'psi COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "psi: libsodium failed to initialise\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            int status = commands[i].run(argc - 1, argv + 1);
            nng_fini(); /* nng's threads free what they hold before exit */
            return status;
        }
    fprintf(stderr, "psi: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
