/*
 * The command line of every program of the project (psi, psi-hub): one
 * voice for messages, one option parser with generated usage text, and one
 * subcommand dispatch. It knows nothing of what the commands do.
 *
 * What it promises, for every command of every program alike:
 *
 *   Messages are ONE line on stderr, "PROGRAM CMD: what and why" (control
 *   characters in the text become spaces, so no text forges a line).
 *   A failure exits 1 (PSI_CMDLINE_EXIT_FAILURE).
 *   A usage error is one line too, naming what was wrong and where help is,
 *   "psi-hub admit: unknown option '--bogus' (psi-hub admit --help)", and
 *   exits 2 (PSI_CMDLINE_EXIT_USAGE).
 *   -h and --help print the usage, generated from the command's option
 *   table, on stdout and exit 0.
 *
 * PROGRAM is the one name each main() sets with psi_cmdline_set_program
 * before anything else, like BSD's setprogname.
 */
#ifndef PSI_CMDLINE_H
#define PSI_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PSI_CMDLINE_EXIT_FAILURE 1
#define PSI_CMDLINE_EXIT_USAGE 2

/* The program's name, which begins every message and usage text ("psi",
 * "psi-hub"). main() sets it once; name must outlive the process (a string
 * literal). Until it is set, the program is "?". */
void psi_cmdline_set_program(const char *name);
const char *psi_cmdline_program(void);

/* Prints "PROGRAM CMD: <message>" as one line on stderr ("PROGRAM: ..." for
 * an empty cmd); a note, not a failure. */
void psi_cmdline_note(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a failure; evaluates to PSI_CMDLINE_EXIT_FAILURE (a macro, so
 * that the caller's code, and its static analysis, see the constant). */
#define psi_cmdline_fail(cmd, ...) (psi_cmdline_note((cmd), __VA_ARGS__), PSI_CMDLINE_EXIT_FAILURE)

/* Prints the usage error line "PROGRAM CMD: <message> (PROGRAM CMD --help)"
 * on stderr ("PROGRAM: ... (PROGRAM --help)" for an empty cmd); evaluates
 * to PSI_CMDLINE_EXIT_USAGE. */
int psi_cmdline_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- options
 *
 * Each command describes its options in a table, indexed by an enum of its
 * own with designated initialisers, and its usage text is generated from that
 * table: --help lists every option the command accepts, and nothing else.
 *
 * How arguments read:
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
struct psi_cmdline_option {
    const char *name;       /* long name, without "--" */
    const char *value_name; /* what its value is ("DIR"); NULL: a flag, no value */
    const char *help;       /* lines separated by '\n', shown beside the name */
    char short_name;        /* 'f' for -f, or 0 for none */
    bool required;
};

#define PSI_CMDLINE_OPTIONS_MAX 16
/* operands_max of a command that takes any number of operands. */
#define PSI_CMDLINE_ANY 0x7fffffff

/* One command (or subcommand): what its usage text says and its options. */
struct psi_cmdline_command {
    const char *name;  /* as messages name it: "submit", "feed publish" */
    const char *about; /* paragraphs between the synopsis and the options */
    const struct psi_cmdline_option *options;
    size_t option_count; /* at most PSI_CMDLINE_OPTIONS_MAX */
    const char *operand; /* what an operand is ("FILE"), or NULL for none */
    int operands_min, operands_max;
    const char *operand_help;
    const char *epilogue; /* after the options: environment, exit status */
};

/* .options and .option_count of a command, from an array of options. */
#define PSI_CMDLINE_OPTIONS(table)                                                                 \
    .options = (table), .option_count = sizeof(table) / sizeof((table)[0])

/* What the arguments said, by the index of each option in its table. The
 * operands are argv's, gathered in order at its front (argv is reordered). */
struct psi_cmdline_args {
    const char *value[PSI_CMDLINE_OPTIONS_MAX]; /* an option's value, or NULL */
    bool given[PSI_CMDLINE_OPTIONS_MAX];
    char **operands;
    int operand_count;
};

enum psi_cmdline_parsed {
    PSI_CMDLINE_PARSED_RUN,   /* go on with args */
    PSI_CMDLINE_PARSED_HELP,  /* --help was asked */
    PSI_CMDLINE_PARSED_ERROR, /* a usage error, said in why */
};

/* Parses argv[1..argc) against the command's table, printing nothing. On
 * PSI_CMDLINE_PARSED_ERROR why holds what was wrong, for a person:
 *   unknown option '--colum'           option '--state' needs a value
 *   option '--json' takes no value     option '--state' given twice
 *   option '--state' is required       unexpected argument 'x'
 *   no FILE given */
enum psi_cmdline_parsed psi_cmdline_parse_args(const struct psi_cmdline_command *cmd, int argc,
                                               char **argv, struct psi_cmdline_args *args,
                                               char *why, size_t whylen);

/* The same, and what a person sees: with --help the usage on stdout, on a
 * usage error its one line on stderr. Returns true when the command is to
 * go on, false when it is to return *status at once (0 or 2). */
bool psi_cmdline_parse(const struct psi_cmdline_command *cmd, int argc, char **argv,
                       struct psi_cmdline_args *args, int *status);

/* The usage text: synopsis, about, one line per option (with continuation
 * lines), the operand, -h/--help, epilogue. */
void psi_cmdline_usage_print(const struct psi_cmdline_command *cmd, FILE *out);

/* The value of option k of cmd (args as psi_cmdline_parse left them) as a
 * decimal integer in [min, max] into *out, which keeps its default when the
 * option was not given: 0, or the usage error printed ("option '--interval'
 * wants a whole number from 1 to 86400, not 'x'") and PSI_CMDLINE_EXIT_USAGE. */
int psi_cmdline_option_u64(const struct psi_cmdline_command *cmd,
                           const struct psi_cmdline_args *args, size_t k, uint64_t min,
                           uint64_t max, uint64_t *out);

/* ---------------------------------------------------------------- subcommands
 *
 * A program (psi, psi-hub) and a command with subcommands of its own (psi
 * audit, psi feed) dispatch the same way, from a table of them. */

struct psi_cmdline_subcommand {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
    const char *summary;               /* one line, for the group's usage */
};

struct psi_cmdline_group {
    const char *name;  /* "audit", "feed"; "" for the program itself */
    const char *about; /* what the group is for, or NULL */
    const struct psi_cmdline_subcommand *subcommands;
    size_t count;
};

#define PSI_CMDLINE_SUBCOMMANDS(table)                                                             \
    .subcommands = (table), .count = sizeof(table) / sizeof((table)[0])

/* Runs the subcommand argv[1] names with the arguments after it, and returns
 * its exit status. --help (or -h) prints the group's usage on stdout (0); no
 * subcommand, an unknown one or an option before it is a usage error (2). */
int psi_cmdline_dispatch(const struct psi_cmdline_group *group, int argc, char **argv);

/* The group's usage: synopsis, about, one line per subcommand. */
void psi_cmdline_group_usage_print(const struct psi_cmdline_group *group, FILE *out);

/* ---------------------------------------------------------------- values */

/* Parses a decimal unsigned integer in [min, max] (digits only: no sign, no
 * space); 0 or PSI_ERR_PARSE. */
int psi_cmdline_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

#endif
