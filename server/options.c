/* Option parsing shared by the subcommands of psi-hub (see commands.h). */
#include <stdio.h>
#include <string.h>

#include "commands.h"

int psi_hub_parse_options(const char *cmd, const char *usage, int argc, char **argv,
                          const struct psi_hub_option *opts, int *exit_status)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            *exit_status = 0;
            return 1;
        }
        const struct psi_hub_option *o = opts;
        while (o->name != NULL && strcmp(o->name, argv[i]) != 0)
            o++;
        if (o->name == NULL) {
            fprintf(stderr, "psi-hub %s: unknown option '%s'\n", cmd, argv[i]);
            fputs(usage, stderr);
            *exit_status = 2;
            return 1;
        }
        if (o->flag != NULL) {
            *o->flag = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "psi-hub %s: %s needs a value\n", cmd, argv[i]);
            *exit_status = 2;
            return 1;
        }
        *o->value = argv[++i];
    }
    return 0;
}
