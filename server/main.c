/* psi-hub: the hub operator's tool. Dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <sodium.h>

#include "commands.h"
#include "psi/indicator.h"

#ifndef PSI_VERSION
#define PSI_VERSION "unknown" /* set by CMake from the project version */
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"init", psi_hub_cmd_init},     {"admit", psi_hub_cmd_admit}, {"policy", psi_hub_cmd_policy},
    {"remove", psi_hub_cmd_remove}, {"epoch", psi_hub_cmd_epoch}, {"roster", psi_hub_cmd_roster},
    {"serve", psi_hub_cmd_serve},   {"quota", psi_hub_cmd_quota},
};

static void usage(FILE *out)
{
    fputs("usage: psi-hub COMMAND [OPTIONS]\n"
          "\n"
          "The matching hub: keeps the roster, stores blinded sets, joins tags, serves.\n"
          "\n"
          "  init   --dir DIR --name NAME [--epoch week|day|manual:LABEL] [--threshold T]\n"
          "         [--max-message-bytes N]\n"
          "         create a hub: key DIR/hub.key, store DIR/hub.db; the last line\n"
          "         printed is the hub's verifier key, for participants to trust\n"
          "  admit  --dir DIR --id ID --role agency|vendor|auditor --key VKEY\n"
          "         [--share-with all|ID[,ID...]] [--contribute-only]\n"
          "         admit a participant with the key string that `psi init` printed\n"
          "  policy --dir DIR --id ID [--share-with all|ID[,ID...]]\n"
          "         [--contribute-only | --receive]\n"
          "         change whom a participant shares overlaps with, whether it gets results\n"
          "  remove --dir DIR --id ID\n"
          "         refuse a participant's requests from now on; its data is no longer\n"
          "         matched or revealed\n"
          "  epoch  --dir DIR [--set LABEL]\n"
          "         print the current epoch; in manual mode, set it\n"
          "  roster --dir DIR\n"
          "         list participants and their policies\n"
          "  serve  --dir DIR --listen tcp://HOST:PORT [--contexts N]\n"
          "         serve requests until SIGTERM or SIGINT\n"
          "  quota  --dir DIR --agency ID --vendor ID --limit N\n"
          "         set how many feed queries an agency may send a vendor per epoch\n"
          "\n"
          "'psi-hub COMMAND --help' describes a command. Exit status: 0 success,\n"
          "1 failure, 2 usage error.\n",
          out);
}

int main(int argc, char **argv)
{
    /* The program's version and the canonicalisation rules it matches under
     * (it refuses submissions made under others). */
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("psi-hub %s (indicator rules %u)\n", PSI_VERSION, (unsigned)PSI_IOC_RULES_VERSION);
        return 0;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "psi-hub: libsodium failed to initialise\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            int status = commands[i].run(argc - 1, argv + 1);
            nng_fini(); /* nng's threads free what they hold before exit */
            return status;
        }
    fprintf(stderr, "psi-hub: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
