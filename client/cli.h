/*
 * What every subcommand of `psi` shares: the one-line failure voice, one
 * option parser and one subcommand dispatch, the participant's state
 * directory (identity key, mutual-protocol seed and state database) and
 * progress on a terminal.
 *
 * Failures reach a person as ONE line on stderr, "psi CMD: what and why",
 * and exit status 1. Usage errors are one line too, naming what was wrong
 * and where help is, "psi CMD: unknown option '--colum' (psi CMD --help)",
 * and exit status 2. --help prints the usage on stdout and exits 0.
 */
#ifndef PSI_CLIENT_CLI_H
#define PSI_CLIENT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "identity.h"
#include "state.h"

#define PSI_CLI_EXIT_FAILURE 1
#define PSI_CLI_EXIT_USAGE 2

/* File names inside the state directory. */
#define PSI_CLI_IDENTITY_FILE "id.key"
#define PSI_CLI_SEED_FILE "mutual.seed"

/* Prints "psi CMD: <message>" as one line on stderr (a note, not a failure). */
void psi_cli_note(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a failure; evaluates to PSI_CLI_EXIT_FAILURE (a macro, so that
 * the caller's code, and its static analysis, see the constant). */
#define psi_cli_fail(cmd, ...) (psi_cli_note((cmd), __VA_ARGS__), PSI_CLI_EXIT_FAILURE)

/* ---------------------------------------------------------------- options
 *
 * Each command describes its options in a table, indexed by an enum of its
 * own with designated initialisers, and its usage text is generated from that
 * table: --help lists every option the command accepts, and nothing else.
 *
 * How arguments read, for every command alike:
 *   --name VALUE and --name=VALUE; -x VALUE and -xVALUE for an option with a
 *   short name; short flags may be grouped (-jq);
 *   -h and --help anywhere before "--" print the usage (stdout, exit 0);
 *   options and operands may come in any order; "--" ends the options;
 *   "-" alone is an operand (standard input);
 *   long names match exactly (no abbreviations: adding an option never
 *   changes what an existing command line means);
 *   an option that takes a value may be given once: twice is a usage error;
 *   a flag given twice is the flag given.
 */

/* One option of a command. */
struct psi_cli_option {
    const char *name;       /* long name, without "--" */
    const char *value_name; /* what its value is ("DIR"); NULL: a flag, no value */
    const char *help;       /* lines separated by '\n', shown beside the name */
    char short_name;        /* 'f' for -f, or 0 for none */
    bool required;
};

#define PSI_CLI_OPTIONS_MAX 16
/* operands_max of a command that takes any number of operands. */
#define PSI_CLI_ANY 0x7fffffff

/* One command (or subcommand): what its usage text says and its options. */
struct psi_cli_command {
    const char *name;  /* as messages name it: "submit", "feed publish" */
    const char *about; /* paragraphs between the synopsis and the options */
    const struct psi_cli_option *options;
    size_t option_count; /* at most PSI_CLI_OPTIONS_MAX */
    const char *operand; /* what an operand is ("FILE"), or NULL for none */
    int operands_min, operands_max;
    const char *operand_help;
    const char *epilogue; /* after the options: environment, exit status */
};

/* .options and .option_count of a command, from an array of options. */
#define PSI_CLI_OPTIONS(table)                                                                     \
    .options = (table), .option_count = sizeof(table) / sizeof((table)[0])

/* What the arguments said, by the index of each option in its table. The
 * operands are argv's, gathered in order at its front (argv is reordered). */
struct psi_cli_args {
    const char *value[PSI_CLI_OPTIONS_MAX]; /* an option's value, or NULL */
    bool given[PSI_CLI_OPTIONS_MAX];
    char **operands;
    int operand_count;
};

enum psi_cli_parsed {
    PSI_CLI_PARSED_RUN,   /* go on with args */
    PSI_CLI_PARSED_HELP,  /* --help was asked */
    PSI_CLI_PARSED_ERROR, /* a usage error, said in why */
};

/* Parses argv[1..argc) against the command's table, printing nothing. On
 * PSI_CLI_PARSED_ERROR why holds what was wrong, for a person:
 *   unknown option '--colum'           option '--state' needs a value
 *   option '--json' takes no value     option '--state' given twice
 *   option '--state' is required       unexpected argument 'x'
 *   no FILE given */
enum psi_cli_parsed psi_cli_parse_args(const struct psi_cli_command *cmd, int argc, char **argv,
                                       struct psi_cli_args *args, char *why, size_t whylen);

/* The same, and what a person sees: with --help the usage on stdout, on a
 * usage error its one line on stderr. Returns true when the command is to
 * go on, false when it is to return *status at once (0 or 2). */
bool psi_cli_parse(const struct psi_cli_command *cmd, int argc, char **argv,
                   struct psi_cli_args *args, int *status);

/* The usage text: synopsis, about, one line per option (with continuation
 * lines), the operand, -h/--help, epilogue. */
void psi_cli_usage_print(const struct psi_cli_command *cmd, FILE *out);

/* Prints the usage error line "psi CMD: <message> (psi CMD --help)" on stderr
 * ("psi: ... (psi --help)" for an empty cmd); evaluates to PSI_CLI_EXIT_USAGE. */
int psi_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The value of option k of cmd (args as psi_cli_parse left them) as a
 * decimal integer in [min, max] into *out, which keeps its default when the
 * option was not given: 0, or the usage error printed ("option '--interval'
 * wants a whole number from 1 to 86400, not 'x'") and PSI_CLI_EXIT_USAGE. */
int psi_cli_option_u64(const struct psi_cli_command *cmd, const struct psi_cli_args *args, size_t k,
                       uint64_t min, uint64_t max, uint64_t *out);

/* ---------------------------------------------------------------- subcommands
 *
 * `psi` itself, `psi audit` and `psi feed` dispatch to subcommands the same
 * way, from a table of them. */

struct psi_cli_subcommand {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
    const char *summary;               /* one line, for the group's usage */
};

struct psi_cli_group {
    const char *name;  /* "audit", "feed"; "" for psi itself */
    const char *about; /* what the group is for, or NULL */
    const struct psi_cli_subcommand *subcommands;
    size_t count;
};

#define PSI_CLI_SUBCOMMANDS(table)                                                                 \
    .subcommands = (table), .count = sizeof(table) / sizeof((table)[0])

/* Runs the subcommand argv[1] names with the arguments after it, and returns
 * its exit status. --help (or -h) prints the group's usage on stdout (0); no
 * subcommand, an unknown one or an option before it is a usage error (2). */
int psi_cli_dispatch(const struct psi_cli_group *group, int argc, char **argv);

/* The group's usage: synopsis, about, one line per subcommand. */
void psi_cli_group_usage_print(const struct psi_cli_group *group, FILE *out);

/* ---------------------------------------------------------------- values */

/* Parses a decimal unsigned integer in [min, max]; 0 or PSI_ERR_PARSE. */
int psi_cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* Checks a hub URL of the form tcp://HOST:PORT (also tcp4://, tcp6://). */
int psi_cli_check_hub_url(const char *url);

/* Parses a --share-with value into policy (share_all, share_count and
 * share_with; the other fields are left as they are): "all", "none", or
 * participant ids separated by commas (sorted and de-duplicated here).
 * 0, or PSI_ERR_PARSE with a reason for a person in err. */
int psi_cli_parse_share_with(const char *text, struct psi_state_policy *policy, char *err,
                             size_t errlen);

/* Joins dir and name into out; PSI_ERR_TOO_LARGE if it does not fit. */
int psi_cli_path(char *out, size_t outlen, const char *dir, const char *name);

/* The mutual-protocol seed file: a readable text file, mode 0600,
 *     untrusted comment: psi mutual-protocol seed of ID
 *     <base64 of 32 bytes>
 * Write refuses to overwrite. Read refuses a file others may read, and
 * leaves its reason in err. The caller wipes the seed after use. */
int psi_cli_seed_write(const char *path, const char *id, const unsigned char seed[32]);
int psi_cli_seed_read(const char *path, unsigned char seed[32], char *err, size_t errlen);

/* A participant's state directory, opened: config, state database and
 * identity. The seed is read only by the commands that need it. */
struct psi_cli_session {
    const char *cmd;
    const char *dir;
    struct psi_state *state;
    struct psi_state_config config;
    struct psi_identity identity;
    int have_identity;
};

/* Opens DIR: checks it exists, opens the state database and the identity.
 * On failure prints the one line and returns 1. */
int psi_cli_session_open(struct psi_cli_session *s, const char *cmd, const char *dir);
void psi_cli_session_close(struct psi_cli_session *s);
/* Reads DIR/mutual.seed and derives the key of epoch; wipes the seed.
 * On failure prints the one line and returns 1. */
int psi_cli_epoch_key(struct psi_cli_session *s, const char *epoch, unsigned char key[32]);

/* Progress of a long step, on stderr, only when stderr is a terminal:
 * "psi submit: blinding 12000/50000 (24000/s)", redrawn at most ten times a
 * second and cleared by psi_cli_progress_end. */
struct psi_cli_progress {
    const char *cmd;
    const char *what;
    uint64_t total;
    uint64_t done;
    double started;
    double last_drawn;
    int enabled;
};

void psi_cli_progress_begin(struct psi_cli_progress *p, const char *cmd, const char *what,
                            uint64_t total);
void psi_cli_progress_add(struct psi_cli_progress *p, uint64_t n);
void psi_cli_progress_end(struct psi_cli_progress *p);

/* Seconds on a monotonic clock. */
double psi_cli_now(void);
/* The wall clock, Unix milliseconds. */
int64_t psi_cli_wall_ms(void);

#endif
