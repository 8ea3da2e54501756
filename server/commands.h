/*
 * The subcommands of psi-hub. Each takes the arguments after its name
 * (argv[0] is the subcommand), prints its usage on bad arguments, and returns
 * the exit status: 0 success, 1 a failure explained on stderr in one line,
 * 2 a usage error.
 */
#ifndef PSI_HUB_COMMANDS_H
#define PSI_HUB_COMMANDS_H

int psi_hub_cmd_init(int argc, char **argv);
int psi_hub_cmd_admit(int argc, char **argv);
int psi_hub_cmd_policy(int argc, char **argv);
int psi_hub_cmd_remove(int argc, char **argv);
int psi_hub_cmd_epoch(int argc, char **argv);
int psi_hub_cmd_roster(int argc, char **argv);
int psi_hub_cmd_serve(int argc, char **argv);
int psi_hub_cmd_quota(int argc, char **argv);

/* A command's options: "--name VALUE" into *value, or "--name" setting *flag. */
struct psi_hub_option {
    const char *name;
    const char **value;
    int *flag;
};

/* Parses argv[1..] against opts (ended by a NULL name). Returns 0 to go on,
 * or 1 with *exit_status set: 0 after printing usage for --help, 2 after a
 * usage error explained on stderr. */
int psi_hub_parse_options(const char *cmd, const char *usage, int argc, char **argv,
                          const struct psi_hub_option *opts, int *exit_status);

#endif
