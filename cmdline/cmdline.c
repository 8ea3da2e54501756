/* The command line of every program: messages, options, usage, dispatch
 * (see cmdline.h). */
#include "cmdline.h"

#include <stdarg.h>
#include <string.h>

#include "psi/error.h"

static const char *program = "?";

void psi_cmdline_set_program(const char *name)
{
    program = name;
}

const char *psi_cmdline_program(void)
{
    return program;
}

__attribute__((format(printf, 2, 0))) static void vline(const char *cmd, const char *fmt,
                                                        va_list ap)
{
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    /* One line, whatever the message carries (a hub's error text may hold
     * newlines or control characters: they must not forge extra lines). */
    for (char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    fprintf(stderr, "%s%s%s: %s\n", program, cmd[0] ? " " : "", cmd, text);
}

void psi_cmdline_note(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(cmd, fmt, ap);
    va_end(ap);
}

int psi_cmdline_usage_error(const char *cmd, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    psi_cmdline_note(cmd, "%s (%s%s%s --help)", message, program, cmd[0] ? " " : "", cmd);
    return PSI_CMDLINE_EXIT_USAGE;
}

int psi_cmdline_option_u64(const struct psi_cmdline_command *cmd,
                           const struct psi_cmdline_args *args, size_t k, uint64_t min,
                           uint64_t max, uint64_t *out)
{
    const char *text = args->value[k];
    if (!text || psi_cmdline_parse_u64(text, min, max, out) == 0)
        return 0;
    return psi_cmdline_usage_error(
        cmd->name, "option '--%s' wants a whole number from %llu to %llu, not '%s'",
        cmd->options[k].name, (unsigned long long)min, (unsigned long long)max, text);
}

/* ---------------------------------------------------------------- options */

#define PARSE_FAIL(...) (snprintf(why, whylen, __VA_ARGS__), PSI_CMDLINE_PARSED_ERROR)

static const struct psi_cmdline_option *find_long(const struct psi_cmdline_command *cmd,
                                                  const char *name, size_t len)
{
    for (size_t k = 0; k < cmd->option_count; k++)
        if (strlen(cmd->options[k].name) == len && strncmp(cmd->options[k].name, name, len) == 0)
            return &cmd->options[k];
    return NULL;
}

static const struct psi_cmdline_option *find_short(const struct psi_cmdline_command *cmd, char c)
{
    for (size_t k = 0; k < cmd->option_count; k++)
        if (cmd->options[k].short_name == c)
            return &cmd->options[k];
    return NULL;
}

/* Records option o (as the user wrote it: written) with value (NULL for a flag). */
static enum psi_cmdline_parsed take(const struct psi_cmdline_command *cmd,
                                    const struct psi_cmdline_option *o, const char *written,
                                    const char *value, struct psi_cmdline_args *args, char *why,
                                    size_t whylen)
{
    size_t k = (size_t)(o - cmd->options);
    if (o->value_name && args->given[k])
        return PARSE_FAIL("option '%s' given twice", written);
    args->given[k] = true;
    args->value[k] = value;
    return PSI_CMDLINE_PARSED_RUN;
}

/* "--name", "--name=value" or "--name value" at argv[*i]. */
static enum psi_cmdline_parsed take_long(const struct psi_cmdline_command *cmd, int argc,
                                         char **argv, int *i, struct psi_cmdline_args *args,
                                         char *why, size_t whylen)
{
    const char *name = argv[*i] + 2;
    const char *equals = strchr(name, '=');
    size_t len = equals ? (size_t)(equals - name) : strlen(name);
    bool help = len == 4 && strncmp(name, "help", 4) == 0;
    const struct psi_cmdline_option *o = help ? NULL : find_long(cmd, name, len);
    if (!o && !help)
        return PARSE_FAIL("unknown option '--%.*s'", (int)(len < 200 ? len : 200), name);
    const char *written = help ? "--help" : NULL;
    char known[80];
    if (o) {
        snprintf(known, sizeof known, "--%s", o->name);
        written = known;
    }
    if ((help || !o->value_name) && equals)
        return PARSE_FAIL("option '%s' takes no value", written);
    if (help)
        return PSI_CMDLINE_PARSED_HELP;
    const char *value = NULL;
    if (o->value_name && equals)
        value = equals + 1;
    else if (o->value_name && *i + 1 < argc)
        value = argv[++*i];
    else if (o->value_name)
        return PARSE_FAIL("option '%s' needs a value", written);
    return take(cmd, o, written, value, args, why, whylen);
}

/* "-x", "-xVALUE", "-x VALUE" or grouped flags "-jq" at argv[*i]. */
static enum psi_cmdline_parsed take_short(const struct psi_cmdline_command *cmd, int argc,
                                          char **argv, int *i, struct psi_cmdline_args *args,
                                          char *why, size_t whylen)
{
    for (const char *c = argv[*i] + 1; *c; c++) {
        char written[3] = {'-', *c, '\0'};
        const struct psi_cmdline_option *o = find_short(cmd, *c);
        if (!o && *c == 'h')
            return PSI_CMDLINE_PARSED_HELP;
        if (!o)
            return PARSE_FAIL("unknown option '%s'", written);
        if (!o->value_name) {
            enum psi_cmdline_parsed rc = take(cmd, o, written, NULL, args, why, whylen);
            if (rc != PSI_CMDLINE_PARSED_RUN)
                return rc;
            continue;
        }
        const char *value = c[1] ? c + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!value)
            return PARSE_FAIL("option '%s' needs a value", written);
        return take(cmd, o, written, value, args, why, whylen);
    }
    return PSI_CMDLINE_PARSED_RUN;
}

/* What the arguments must hold once they are all read. */
static enum psi_cmdline_parsed check_complete(const struct psi_cmdline_command *cmd,
                                              const struct psi_cmdline_args *args, char *why,
                                              size_t whylen)
{
    for (size_t k = 0; k < cmd->option_count; k++)
        if (cmd->options[k].required && !args->given[k])
            return PARSE_FAIL("option '--%s' is required", cmd->options[k].name);
    int most = cmd->operand ? cmd->operands_max : 0;
    if (args->operand_count > most)
        return PARSE_FAIL("unexpected argument '%.200s'", args->operands[most]);
    if (args->operand_count < cmd->operands_min && args->operand_count == 0)
        return PARSE_FAIL("no %s given", cmd->operand);
    if (args->operand_count < cmd->operands_min)
        return PARSE_FAIL("at least %d %s needed", cmd->operands_min, cmd->operand);
    return PSI_CMDLINE_PARSED_RUN;
}

enum psi_cmdline_parsed psi_cmdline_parse_args(const struct psi_cmdline_command *cmd, int argc,
                                               char **argv, struct psi_cmdline_args *args,
                                               char *why, size_t whylen)
{
    memset(args, 0, sizeof *args);
    why[0] = '\0';
    if (cmd->option_count > PSI_CMDLINE_OPTIONS_MAX)
        return PARSE_FAIL("more options than the parser holds (%zu)", cmd->option_count);
    int operands = 1; /* where the next operand goes: argv[1..] */
    bool options_ended = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        enum psi_cmdline_parsed rc = PSI_CMDLINE_PARSED_RUN;
        if (options_ended || arg[0] != '-' || arg[1] == '\0')
            argv[operands++] = arg; /* never ahead of i: argv keeps every value read */
        else if (strcmp(arg, "--") == 0)
            options_ended = true;
        else if (arg[1] == '-')
            rc = take_long(cmd, argc, argv, &i, args, why, whylen);
        else
            rc = take_short(cmd, argc, argv, &i, args, why, whylen);
        if (rc != PSI_CMDLINE_PARSED_RUN)
            return rc;
    }
    args->operands = argv + 1;
    args->operand_count = operands - 1;
    return check_complete(cmd, args, why, whylen);
}

bool psi_cmdline_parse(const struct psi_cmdline_command *cmd, int argc, char **argv,
                       struct psi_cmdline_args *args, int *status)
{
    char why[512];
    switch (psi_cmdline_parse_args(cmd, argc, argv, args, why, sizeof why)) {
    case PSI_CMDLINE_PARSED_RUN: return true;
    case PSI_CMDLINE_PARSED_HELP:
        psi_cmdline_usage_print(cmd, stdout);
        *status = fflush(stdout) == 0 ? 0 : PSI_CMDLINE_EXIT_FAILURE;
        return false;
    case PSI_CMDLINE_PARSED_ERROR: break;
    }
    *status = psi_cmdline_usage_error(cmd->name, "%s", why);
    return false;
}

/* ---------------------------------------------------------------- usage */

#define USAGE_WIDTH 80
/* Wider option labels have their help on the line below. */
#define LABEL_WIDTH_MAX 22

/* Appends a word to a synopsis, wrapping under the first word's end. */
static void synopsis_word(FILE *out, const char *word, size_t indent, size_t *column)
{
    if (*column + 1 + strlen(word) > USAGE_WIDTH && *column > indent) {
        fprintf(out, "\n%*s", (int)indent, "");
        *column = indent;
    }
    *column += (size_t)fprintf(out, " %s", word);
}

static void synopsis_print(const struct psi_cmdline_command *cmd, FILE *out)
{
    char word[160];
    size_t column = (size_t)fprintf(out, "usage: %s %s", program, cmd->name);
    size_t indent = column;
    for (size_t k = 0; k < cmd->option_count; k++) {
        const struct psi_cmdline_option *o = &cmd->options[k];
        char flag[80];
        if (o->short_name)
            snprintf(flag, sizeof flag, "-%c", o->short_name);
        else
            snprintf(flag, sizeof flag, "--%s", o->name);
        snprintf(word, sizeof word, "%s%s%s%s%s", o->required ? "" : "[", flag,
                 o->value_name ? " " : "", o->value_name ? o->value_name : "",
                 o->required ? "" : "]");
        synopsis_word(out, word, indent, &column);
    }
    if (cmd->operand) {
        const char *more = cmd->operands_max > 1 ? "..." : "";
        snprintf(word, sizeof word, cmd->operands_min > 0 ? "%s%s" : "[%s%s]", cmd->operand, more);
        synopsis_word(out, word, indent, &column);
    }
    fputc('\n', out);
}

/* The left column of an option's line: "-f, --format FORMAT" or "--state DIR". */
static void option_label(const struct psi_cmdline_option *o, bool shorts, char *out, size_t len)
{
    char prefix[8] = "";
    if (o->short_name)
        snprintf(prefix, sizeof prefix, "-%c, ", o->short_name);
    else if (shorts)
        snprintf(prefix, sizeof prefix, "    ");
    snprintf(out, len, "%s--%s%s%s", prefix, o->name, o->value_name ? " " : "",
             o->value_name ? o->value_name : "");
}

/* "  LABEL  help", the help's further lines indented under its first; a
 * label wider than the column has its help start on the next line. */
static void help_line(FILE *out, const char *label, int width, const char *help)
{
    if ((int)strlen(label) > width)
        fprintf(out, "  %s\n%*s", label, width + 4, "");
    else
        fprintf(out, "  %-*s  ", width, label);
    for (const char *c = help; *c; c++) {
        fputc(*c, out);
        if (*c == '\n' && c[1])
            fprintf(out, "%*s", width + 4, "");
    }
    fputc('\n', out);
}

static void options_print(const struct psi_cmdline_command *cmd, FILE *out)
{
    char label[160], operand[80] = "";
    bool shorts = false;
    for (size_t k = 0; k < cmd->option_count; k++)
        shorts = shorts || cmd->options[k].short_name;
    size_t width = strlen("-h, --help");
    for (size_t k = 0; k < cmd->option_count; k++) {
        option_label(&cmd->options[k], shorts, label, sizeof label);
        if (strlen(label) > width && strlen(label) <= LABEL_WIDTH_MAX)
            width = strlen(label);
    }
    if (cmd->operand)
        snprintf(operand, sizeof operand, "%s%s", cmd->operand, cmd->operands_max > 1 ? "..." : "");
    if (strlen(operand) > width && strlen(operand) <= LABEL_WIDTH_MAX)
        width = strlen(operand);
    for (size_t k = 0; k < cmd->option_count; k++) {
        option_label(&cmd->options[k], shorts, label, sizeof label);
        help_line(out, label, (int)width, cmd->options[k].help);
    }
    if (cmd->operand && cmd->operand_help)
        help_line(out, operand, (int)width, cmd->operand_help);
    help_line(out, "-h, --help", (int)width, "this text");
}

void psi_cmdline_usage_print(const struct psi_cmdline_command *cmd, FILE *out)
{
    synopsis_print(cmd, out);
    if (cmd->about)
        fprintf(out, "\n%s", cmd->about);
    fputc('\n', out);
    options_print(cmd, out);
    if (cmd->epilogue)
        fprintf(out, "\n%s", cmd->epilogue);
}

/* ---------------------------------------------------------------- subcommands */

void psi_cmdline_group_usage_print(const struct psi_cmdline_group *g, FILE *out)
{
    const char *sep = g->name[0] ? " " : "";
    const char *what = g->name[0] ? "SUBCOMMAND" : "COMMAND";
    size_t width = 0;
    for (size_t i = 0; i < g->count; i++)
        width = strlen(g->subcommands[i].name) > width ? strlen(g->subcommands[i].name) : width;
    fprintf(out, "usage: %s%s%s %s [OPTIONS]\n\n", program, sep, g->name, what);
    if (g->about)
        fprintf(out, "%s\n", g->about);
    for (size_t i = 0; i < g->count; i++)
        fprintf(out, "  %s%s%s %-*s  %s\n", program, sep, g->name, (int)width,
                g->subcommands[i].name, g->subcommands[i].summary);
    fprintf(out, "\n'%s%s%s %s --help' describes it and its options.\n", program, sep, g->name,
            what);
}

int psi_cmdline_dispatch(const struct psi_cmdline_group *g, int argc, char **argv)
{
    const char *what = g->name[0] ? "subcommand" : "command";
    if (argc < 2)
        return psi_cmdline_usage_error(g->name, "no %s given", what);
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        psi_cmdline_group_usage_print(g, stdout);
        return fflush(stdout) == 0 ? 0 : PSI_CMDLINE_EXIT_FAILURE;
    }
    for (size_t i = 0; i < g->count; i++)
        if (strcmp(name, g->subcommands[i].name) == 0)
            return g->subcommands[i].run(argc - 1, argv + 1);
    if (name[0] == '-')
        return psi_cmdline_usage_error(g->name, "unknown option '%.200s'", name);
    return psi_cmdline_usage_error(g->name, "unknown %s '%.200s'", what, name);
}

/* ---------------------------------------------------------------- values */

int psi_cmdline_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!text || !*text)
        return PSI_ERR_PARSE;
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9')
            return PSI_ERR_PARSE;
        unsigned digit = (unsigned)(*c - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return PSI_ERR_PARSE;
        v = v * 10 + digit;
    }
    if (v < min || v > max)
        return PSI_ERR_PARSE;
    *out = v;
    return 0;
}
