/* Shared pieces of the `psi` subcommands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "psi/blind.h"
#include "psi/error.h"

__attribute__((format(printf, 2, 0)))
static void vline(const char *cmd, const char *fmt, va_list ap)
{
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    /* One line, whatever the message carries (a hub's error text may hold
     * newlines or control characters: they must not forge extra lines). */
    for (char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    fprintf(stderr, "psi%s%s: %s\n", cmd[0] ? " " : "", cmd, text);
}

void psi_cli_note(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(cmd, fmt, ap);
    va_end(ap);
}

int psi_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    psi_cli_note(cmd, "%s (psi%s%s --help)", message, cmd[0] ? " " : "", cmd);
    return PSI_CLI_EXIT_USAGE;
}

int psi_cli_option_u64(const struct psi_cli_command *cmd, const struct psi_cli_args *args, size_t k,
                       uint64_t min, uint64_t max, uint64_t *out)
{
    const char *text = args->value[k];
    if (!text || psi_cli_parse_u64(text, min, max, out) == 0)
        return 0;
    return psi_cli_usage_error(
        cmd->name, "option '--%s' wants a whole number from %llu to %llu, not '%s'",
        cmd->options[k].name, (unsigned long long)min, (unsigned long long)max, text);
}

/* ---------------------------------------------------------------- options */

#define PARSE_FAIL(...) (snprintf(why, whylen, __VA_ARGS__), PSI_CLI_PARSED_ERROR)

static const struct psi_cli_option *find_long(const struct psi_cli_command *cmd, const char *name,
                                              size_t len)
{
    for (size_t k = 0; k < cmd->option_count; k++)
        if (strlen(cmd->options[k].name) == len && strncmp(cmd->options[k].name, name, len) == 0)
            return &cmd->options[k];
    return NULL;
}

static const struct psi_cli_option *find_short(const struct psi_cli_command *cmd, char c)
{
    for (size_t k = 0; k < cmd->option_count; k++)
        if (cmd->options[k].short_name == c)
            return &cmd->options[k];
    return NULL;
}

/* Records option o (as the user wrote it: written) with value (NULL for a flag). */
static enum psi_cli_parsed take(const struct psi_cli_command *cmd, const struct psi_cli_option *o,
                                const char *written, const char *value, struct psi_cli_args *args,
                                char *why, size_t whylen)
{
    size_t k = (size_t)(o - cmd->options);
    if (o->value_name && args->given[k])
        return PARSE_FAIL("option '%s' given twice", written);
    args->given[k] = true;
    args->value[k] = value;
    return PSI_CLI_PARSED_RUN;
}

/* "--name", "--name=value" or "--name value" at argv[*i]. */
static enum psi_cli_parsed take_long(const struct psi_cli_command *cmd, int argc, char **argv,
                                     int *i, struct psi_cli_args *args, char *why, size_t whylen)
{
    const char *name = argv[*i] + 2;
    const char *equals = strchr(name, '=');
    size_t len = equals ? (size_t)(equals - name) : strlen(name);
    bool help = len == 4 && strncmp(name, "help", 4) == 0;
    const struct psi_cli_option *o = help ? NULL : find_long(cmd, name, len);
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
        return PSI_CLI_PARSED_HELP;
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
static enum psi_cli_parsed take_short(const struct psi_cli_command *cmd, int argc, char **argv,
                                      int *i, struct psi_cli_args *args, char *why, size_t whylen)
{
    for (const char *c = argv[*i] + 1; *c; c++) {
        char written[3] = {'-', *c, '\0'};
        const struct psi_cli_option *o = find_short(cmd, *c);
        if (!o && *c == 'h')
            return PSI_CLI_PARSED_HELP;
        if (!o)
            return PARSE_FAIL("unknown option '%s'", written);
        if (!o->value_name) {
            enum psi_cli_parsed rc = take(cmd, o, written, NULL, args, why, whylen);
            if (rc != PSI_CLI_PARSED_RUN)
                return rc;
            continue;
        }
        const char *value = c[1] ? c + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!value)
            return PARSE_FAIL("option '%s' needs a value", written);
        return take(cmd, o, written, value, args, why, whylen);
    }
    return PSI_CLI_PARSED_RUN;
}

/* What the arguments must hold once they are all read. */
static enum psi_cli_parsed check_complete(const struct psi_cli_command *cmd,
                                          const struct psi_cli_args *args, char *why, size_t whylen)
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
    return PSI_CLI_PARSED_RUN;
}

enum psi_cli_parsed psi_cli_parse_args(const struct psi_cli_command *cmd, int argc, char **argv,
                                       struct psi_cli_args *args, char *why, size_t whylen)
{
    memset(args, 0, sizeof *args);
    why[0] = '\0';
    if (cmd->option_count > PSI_CLI_OPTIONS_MAX)
        return PARSE_FAIL("more options than the parser holds (%zu)", cmd->option_count);
    int operands = 1; /* where the next operand goes: argv[1..] */
    bool options_ended = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        enum psi_cli_parsed rc = PSI_CLI_PARSED_RUN;
        if (options_ended || arg[0] != '-' || arg[1] == '\0')
            argv[operands++] = arg; /* never ahead of i: argv keeps every value read */
        else if (strcmp(arg, "--") == 0)
            options_ended = true;
        else if (arg[1] == '-')
            rc = take_long(cmd, argc, argv, &i, args, why, whylen);
        else
            rc = take_short(cmd, argc, argv, &i, args, why, whylen);
        if (rc != PSI_CLI_PARSED_RUN)
            return rc;
    }
    args->operands = argv + 1;
    args->operand_count = operands - 1;
    return check_complete(cmd, args, why, whylen);
}

bool psi_cli_parse(const struct psi_cli_command *cmd, int argc, char **argv,
                   struct psi_cli_args *args, int *status)
{
    char why[512];
    switch (psi_cli_parse_args(cmd, argc, argv, args, why, sizeof why)) {
    case PSI_CLI_PARSED_RUN: return true;
    case PSI_CLI_PARSED_HELP:
        psi_cli_usage_print(cmd, stdout);
        *status = fflush(stdout) == 0 ? 0 : PSI_CLI_EXIT_FAILURE;
        return false;
    case PSI_CLI_PARSED_ERROR: break;
    }
    *status = psi_cli_usage_error(cmd->name, "%s", why);
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

static void synopsis_print(const struct psi_cli_command *cmd, FILE *out)
{
    char word[160];
    size_t column = (size_t)fprintf(out, "usage: psi %s", cmd->name);
    size_t indent = column;
    for (size_t k = 0; k < cmd->option_count; k++) {
        const struct psi_cli_option *o = &cmd->options[k];
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
static void option_label(const struct psi_cli_option *o, bool shorts, char *out, size_t len)
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

static void options_print(const struct psi_cli_command *cmd, FILE *out)
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

void psi_cli_usage_print(const struct psi_cli_command *cmd, FILE *out)
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

void psi_cli_group_usage_print(const struct psi_cli_group *g, FILE *out)
{
    const char *sep = g->name[0] ? " " : "";
    const char *what = g->name[0] ? "SUBCOMMAND" : "COMMAND";
    size_t width = 0;
    for (size_t i = 0; i < g->count; i++)
        width = strlen(g->subcommands[i].name) > width ? strlen(g->subcommands[i].name) : width;
    fprintf(out, "usage: psi%s%s %s [OPTIONS]\n\n", sep, g->name, what);
    if (g->about)
        fprintf(out, "%s\n", g->about);
    for (size_t i = 0; i < g->count; i++)
        fprintf(out, "  psi%s%s %-*s  %s\n", sep, g->name, (int)width, g->subcommands[i].name,
                g->subcommands[i].summary);
    fprintf(out, "\n'psi%s%s %s --help' describes it and its options.\n", sep, g->name, what);
}

int psi_cli_dispatch(const struct psi_cli_group *g, int argc, char **argv)
{
    const char *what = g->name[0] ? "subcommand" : "command";
    if (argc < 2)
        return psi_cli_usage_error(g->name, "no %s given", what);
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        psi_cli_group_usage_print(g, stdout);
        return fflush(stdout) == 0 ? 0 : PSI_CLI_EXIT_FAILURE;
    }
    for (size_t i = 0; i < g->count; i++)
        if (strcmp(name, g->subcommands[i].name) == 0)
            return g->subcommands[i].run(argc - 1, argv + 1);
    if (name[0] == '-')
        return psi_cli_usage_error(g->name, "unknown option '%.200s'", name);
    return psi_cli_usage_error(g->name, "unknown %s '%.200s'", what, name);
}

/* ---------------------------------------------------------------- values */

int psi_cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
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

int psi_cli_check_hub_url(const char *url)
{
    static const char *const schemes[] = {"tcp://", "tcp4://", "tcp6://"};
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
            rest = url + strlen(schemes[i]);
    if (!rest || strlen(url) > PSI_STATE_URL_MAX)
        return PSI_ERR_PARSE;
    const char *colon = strrchr(rest, ':');
    if (!colon || colon == rest)
        return PSI_ERR_PARSE;
    for (const char *c = rest; c < colon; c++)
        if ((unsigned char)*c <= 0x20 || *c == '/' || *c == 0x7f)
            return PSI_ERR_PARSE;
    uint64_t port;
    return psi_cli_parse_u64(colon + 1, 1, 65535, &port);
}

int psi_cli_path(char *out, size_t outlen, const char *dir, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= outlen) ? PSI_ERR_TOO_LARGE : 0;
}

static int write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return PSI_ERR_IO;
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

int psi_cli_seed_write(const char *path, const char *id, const unsigned char seed[32])
{
    char text[256];
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, seed, 32, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(text, sizeof text, "untrusted comment: psi mutual-protocol seed of %s\n%s\n",
                     id, b64);
    sodium_memzero(b64, sizeof b64);
    if (n < 0 || (size_t)n >= sizeof text) {
        sodium_memzero(text, sizeof text);
        return PSI_ERR_TOO_LARGE;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_memzero(text, sizeof text);
        return errno == EEXIST ? PSI_ERR_EXISTS : PSI_ERR_IO;
    }
    int rc = write_all(fd, text, (size_t)n);
    sodium_memzero(text, sizeof text);
    if (!rc && fsync(fd) != 0)
        rc = PSI_ERR_IO;
    if (close(fd) != 0 && !rc)
        rc = PSI_ERR_IO;
    if (rc)
        unlink(path);
    return rc;
}

int psi_cli_seed_read(const char *path, unsigned char seed[32], char *err, size_t errlen)
{
    char text[512];
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return PSI_ERR_IO;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s is not a regular file", path);
        return PSI_ERR_IO;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        snprintf(err, errlen, "%s is accessible by others (mode %03o); chmod 600 it", path,
                 (unsigned)(sb.st_mode & 0777));
        return PSI_ERR_DENIED;
    }
    size_t len = 0;
    while (len < sizeof text - 1) {
        ssize_t n = read(fd, text + len, sizeof text - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            sodium_memzero(text, sizeof text);
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            return PSI_ERR_IO;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    text[len] = '\0';
    int rc = 0;
    const char *comment = "untrusted comment:";
    char *line2 = strchr(text, '\n');
    if (strncmp(text, comment, strlen(comment)) != 0 || !line2) {
        rc = PSI_ERR_PARSE;
    } else {
        line2++;
        size_t b64_len = strcspn(line2, "\r\n");
        size_t bin_len = 0;
        const char *end = NULL;
        if (sodium_base642bin(seed, 32, line2, b64_len, NULL, &bin_len, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            bin_len != 32 || end != line2 + b64_len)
            rc = PSI_ERR_PARSE;
    }
    sodium_memzero(text, sizeof text);
    if (rc) {
        sodium_memzero(seed, 32);
        snprintf(err, errlen, "%s is not a psi seed file", path);
    }
    return rc;
}

int psi_cli_session_open(struct psi_cli_session *s, const char *cmd, const char *dir)
{
    struct stat sb;
    char path[4096], err[512];
    memset(s, 0, sizeof *s);
    s->cmd = cmd;
    s->dir = dir;
    if (stat(dir, &sb) != 0)
        return psi_cli_fail(cmd, "state directory %s: %s (run 'psi init' first)", dir,
                            strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return psi_cli_fail(cmd, "state directory %s is not a directory", dir);
    int rc = psi_state_open(&s->state, dir);
    if (rc == PSI_ERR_NOT_FOUND)
        return psi_cli_fail(cmd, "%s holds no %s (run 'psi init' first)", dir, PSI_STATE_DB_NAME);
    if (rc == PSI_ERR_UNSUPPORTED)
        return psi_cli_fail(cmd, "%s/%s has a schema this psi does not know", dir,
                            PSI_STATE_DB_NAME);
    if (rc)
        return psi_cli_fail(cmd, "cannot open %s/%s: %s", dir, PSI_STATE_DB_NAME, psi_strerror(rc));
    if (psi_state_config_get(s->state, &s->config)) {
        psi_cli_note(cmd, "%s/%s: %s", dir, PSI_STATE_DB_NAME, psi_state_error(s->state));
        psi_cli_session_close(s);
        return PSI_CLI_EXIT_FAILURE;
    }
    snprintf(err, sizeof err, "path too long");
    if (psi_cli_path(path, sizeof path, dir, PSI_CLI_IDENTITY_FILE) ||
        psi_identity_load(&s->identity, path, err, sizeof err) != 0) {
        psi_cli_note(cmd, "identity key %s/%s: %s", dir, PSI_CLI_IDENTITY_FILE, err);
        psi_cli_session_close(s);
        return PSI_CLI_EXIT_FAILURE;
    }
    s->have_identity = 1;
    if (strcmp(s->identity.name, s->config.id) != 0) {
        psi_cli_note(cmd, "identity key %s/%s is for '%s', the state is for '%s'", dir,
                     PSI_CLI_IDENTITY_FILE, s->identity.name, s->config.id);
        psi_cli_session_close(s);
        return PSI_CLI_EXIT_FAILURE;
    }
    return 0;
}

void psi_cli_session_close(struct psi_cli_session *s)
{
    if (s->have_identity)
        psi_identity_clear(&s->identity);
    s->have_identity = 0;
    psi_state_close(s->state);
    s->state = NULL;
}

int psi_cli_epoch_key(struct psi_cli_session *s, const char *epoch, unsigned char key[32])
{
    char path[4096], err[512];
    unsigned char seed[PSI_MUTUAL_SEED_BYTES];
    if (psi_cli_path(path, sizeof path, s->dir, PSI_CLI_SEED_FILE))
        return psi_cli_fail(s->cmd, "state directory path too long");
    if (psi_cli_seed_read(path, seed, err, sizeof err))
        return psi_cli_fail(s->cmd, "%s", err);
    int rc = psi_mutual_derive_key(seed, epoch, key);
    sodium_memzero(seed, sizeof seed);
    if (rc)
        return psi_cli_fail(s->cmd, "cannot derive the key of epoch '%s': %s", epoch,
                            psi_strerror(rc));
    return 0;
}

double psi_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_draw(struct psi_cli_progress *p)
{
    double elapsed = psi_cli_now() - p->started;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    fprintf(stderr, "\rpsi %s: %s %llu/%llu (%.0f/s)\033[K", p->cmd, p->what,
            (unsigned long long)p->done, (unsigned long long)p->total, rate);
    fflush(stderr);
}

void psi_cli_progress_begin(struct psi_cli_progress *p, const char *cmd, const char *what,
                            uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->what = what;
    p->total = total;
    p->started = psi_cli_now();
    p->last_drawn = 0;
    p->enabled = isatty(STDERR_FILENO);
}

void psi_cli_progress_add(struct psi_cli_progress *p, uint64_t n)
{
    p->done += n;
    if (!p->enabled)
        return;
    double now = psi_cli_now();
    if (now - p->last_drawn >= 0.1 || p->done == p->total) {
        p->last_drawn = now;
        progress_draw(p);
    }
}

void psi_cli_progress_end(struct psi_cli_progress *p)
{
    if (!p->enabled)
        return;
    /* Leave the screen as it was: the summary line follows on stdout. */
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    p->enabled = 0;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

int psi_cli_parse_share_with(const char *text, struct psi_state_policy *policy, char *err,
                             size_t errlen)
{
    free(policy->share_with);
    policy->share_with = NULL;
    policy->share_count = 0;
    policy->share_all = strcmp(text, "all") == 0;
    if (policy->share_all || strcmp(text, "none") == 0)
        return 0;
    size_t n = 1;
    for (const char *c = text; *c; c++)
        n += *c == ',';
    if (n > PSI_STATE_SHARE_MAX) {
        snprintf(err, errlen, "--share-with lists more than %d ids", PSI_STATE_SHARE_MAX);
        return PSI_ERR_PARSE;
    }
    policy->share_with = calloc(n, sizeof *policy->share_with);
    if (!policy->share_with) {
        snprintf(err, errlen, "out of memory");
        return PSI_ERR_PARSE;
    }
    const char *c = text;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(c, ",");
        if (len == 0 || len > PSI_ID_MAX) {
            snprintf(err, errlen, "--share-with takes all, none or ids separated by commas");
            goto bad;
        }
        memcpy(policy->share_with[i], c, len);
        policy->share_with[i][len] = '\0';
        if (!psi_id_is_valid(policy->share_with[i])) {
            snprintf(err, errlen, "--share-with: '%s' is not a valid participant id",
                     policy->share_with[i]);
            goto bad;
        }
        c += len + (c[len] == ',');
    }
    qsort(policy->share_with, n, sizeof *policy->share_with, compare_ids);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || strcmp(policy->share_with[kept - 1], policy->share_with[i]) != 0)
            memmove(policy->share_with[kept++], policy->share_with[i],
                    sizeof policy->share_with[0]);
    policy->share_count = kept;
    return 0;
bad:
    free(policy->share_with);
    policy->share_with = NULL;
    return PSI_ERR_PARSE;
}

int64_t psi_cli_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
