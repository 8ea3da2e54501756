/*
 * The subcommands of `psi`. Each lives in its own cmd_*.c file, takes the
 * arguments after its name (argv[0] is the subcommand name), reads them with
 * psi_cmdline_parse over its own option table (or dispatches to subcommands
 * of its own with psi_cmdline_dispatch: audit, feed), and returns the process
 * exit status: 0 on success, 1 on a failure it has explained on stderr in one
 * line, 2 on a usage error (one line too, cmdline.h).
 */
#ifndef PSI_CLIENT_COMMANDS_H
#define PSI_CLIENT_COMMANDS_H

int psi_cmd_ingest(int argc, char **argv);
int psi_cmd_init(int argc, char **argv);
int psi_cmd_submit(int argc, char **argv);
int psi_cmd_agent(int argc, char **argv);
int psi_cmd_results(int argc, char **argv);
int psi_cmd_status(int argc, char **argv);
int psi_cmd_audit(int argc, char **argv);
int psi_cmd_feed(int argc, char **argv);
int psi_cmd_policy(int argc, char **argv);
int psi_cmd_peers(int argc, char **argv);
int psi_cmd_epoch(int argc, char **argv);

#endif
