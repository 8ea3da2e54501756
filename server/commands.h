/*
 * The subcommands of psi-hub. Each takes the arguments after its name
 * (argv[0] is the subcommand), reads them with psi_cmdline_parse over its own
 * option table, and returns the exit status: 0 success, 1 a failure explained
 * on stderr in one line, 2 a usage error (one line too, cmdline.h).
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
int psi_hub_cmd_prune(int argc, char **argv);
int psi_hub_cmd_backup(int argc, char **argv);

#endif
