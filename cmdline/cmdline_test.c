/*
 * The command line every program uses (cmdline/cmdline.c): a bad option is
 * named in one line that points at help, both value forms read alike, --help
 * wins wherever it stands, a value option given twice is refused, operands
 * may come anywhere, the usage text lists every option of the table it is
 * generated from, and every message names the program main() set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmdline.h"
#include "scratch.h"

enum {
    T_STATE,
    T_FORMAT,
    T_JSON,
    T_QUIET,
};

static const struct psi_cmdline_option test_options[] = {
    [T_STATE] = {.name = "state", .value_name = "DIR", .required = true, .help = "state"},
    [T_FORMAT] = {.name = "format",
                  .short_name = 'f',
                  .value_name = "FORMAT",
                  .help = "how to read\nsecond line"},
    [T_JSON] = {.name = "json", .short_name = 'j', .help = "json lines"},
    [T_QUIET] = {.name = "quiet", .short_name = 'q', .help = "no summary"},
};

static const struct psi_cmdline_command test_command = {
    .name = "submit",
    .about = "About the command.\n",
    PSI_CMDLINE_OPTIONS(test_options),
    .operand = "FILE",
    .operands_min = 1,
    .operands_max = 2,
    .operand_help = "input files",
    .epilogue = "The end.\n",
};

static const struct psi_cmdline_command no_operands = {
    .name = "peers",
    PSI_CMDLINE_OPTIONS(test_options),
};

/* Parses a NULL-terminated list of arguments (after the command's name). */
#define PARSE(cmd, args, why, ...) parse((cmd), (args), (why), __VA_ARGS__, (char *)NULL)

static char argv_store[16][64];
static char *argv_list[17];

static enum psi_cmdline_parsed parse(const struct psi_cmdline_command *cmd,
                                     struct psi_cmdline_args *args, char why[256], ...)
{
    va_list ap;
    int argc = 0;
    snprintf(argv_store[argc], sizeof argv_store[0], "%s", cmd->name);
    argv_list[argc] = argv_store[argc];
    argc++;
    va_start(ap, why);
    for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *)) {
        snprintf(argv_store[argc], sizeof argv_store[0], "%s", a);
        argv_list[argc] = argv_store[argc];
        argc++;
    }
    va_end(ap);
    argv_list[argc] = NULL;
    return psi_cmdline_parse_args(cmd, argc, argv_list, args, why, 256);
}

static void test_unknown_option_is_named(void **state)
{
    (void)state;
    struct psi_cmdline_args args;
    char why[256];
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d", "--colum", "x", "f"),
                     PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "unknown option '--colum'");
    assert_int_equal(PARSE(&test_command, &args, why, "--colum=3", "f"), PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "unknown option '--colum'");
    assert_int_equal(PARSE(&test_command, &args, why, "-x", "f"), PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "unknown option '-x'");
    assert_int_equal(PARSE(&test_command, &args, why, "-jx", "f"), PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "unknown option '-x'");
    /* No abbreviations: a prefix of an option is not that option. */
    assert_int_equal(PARSE(&test_command, &args, why, "--stat", "d", "f"),
                     PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "unknown option '--stat'");
}

static void test_missing_value(void **state)
{
    (void)state;
    struct psi_cmdline_args args;
    char why[256];
    assert_int_equal(PARSE(&test_command, &args, why, "f", "--state"), PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "option '--state' needs a value");
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d", "f", "-f"),
                     PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "option '-f' needs a value");
}

static void test_both_value_forms(void **state)
{
    (void)state;
    struct psi_cmdline_args args;
    char why[256];
    assert_int_equal(PARSE(&test_command, &args, why, "--state=/a=b", "--format", "csv", "f"),
                     PSI_CMDLINE_PARSED_RUN);
    assert_string_equal(args.value[T_STATE], "/a=b");
    assert_string_equal(args.value[T_FORMAT], "csv");
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d", "--format=text", "f"),
                     PSI_CMDLINE_PARSED_RUN);
    assert_string_equal(args.value[T_STATE], "d");
    assert_string_equal(args.value[T_FORMAT], "text");
    /* A value is taken as it is, even when it looks like an option. */
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "--json", "f"),
                     PSI_CMDLINE_PARSED_RUN);
    assert_string_equal(args.value[T_STATE], "--json");
    assert_false(args.given[T_JSON]);
    /* An empty value is a value. */
    assert_int_equal(PARSE(&test_command, &args, why, "--state=", "f"), PSI_CMDLINE_PARSED_RUN);
    assert_string_equal(args.value[T_STATE], "");
}

static void test_short_forms(void **state)
{
    (void)state;
    struct psi_cmdline_args args;
    char why[256];
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d", "-fcsv", "f"),
                     PSI_CMDLINE_PARSED_RUN);
    assert_string_equal(args.value[T_FORMAT], "csv");
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d", "-jqf", "stix", "f"),
                     PSI_CMDLINE_PARSED_RUN);
    assert_true(args.given[T_JSON]);
    assert_true(args.given[T_QUIET]);
    assert_string_equal(args.value[T_FORMAT], "stix");
}

static void test_flags_take_no_value(void **state)
{
    (void)state;
    struct psi_cmdline_args args;
    char why[256];
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d", "--json=yes", "f"),
                     PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "option '--json' takes no value");
    assert_int_equal(PARSE(&test_command, &args, why, "--help=me"), PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "option '--help' takes no value");
}

static void test_help_wherever_it_stands(void **state)
{
    (void)state;
    struct psi_cmdline_args args;
    char why[256];
    assert_int_equal(PARSE(&test_command, &args, why, "--help"), PSI_CMDLINE_PARSED_HELP);
    assert_int_equal(PARSE(&test_command, &args, why, "f", "-h"), PSI_CMDLINE_PARSED_HELP);
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d", "f", "f", "f", "--help"),
                     PSI_CMDLINE_PARSED_HELP);
    /* What comes first is read first: an unknown option before it is the error. */
    assert_int_equal(PARSE(&test_command, &args, why, "--bogus", "--help"),
                     PSI_CMDLINE_PARSED_ERROR);
    /* After "--" it is an operand. */
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d", "--", "--help"),
                     PSI_CMDLINE_PARSED_RUN);
    assert_string_equal(args.operands[0], "--help");
}

static void test_repeated_options(void **state)
{
    (void)state;
    struct psi_cmdline_args args;
    char why[256];
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "a", "--state=b", "f"),
                     PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "option '--state' given twice");
    assert_int_equal(
        PARSE(&test_command, &args, why, "--state", "a", "-f", "csv", "--format", "csv", "f"),
        PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "option '--format' given twice");
    /* A flag twice is the flag. */
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "a", "--json", "-j", "f"),
                     PSI_CMDLINE_PARSED_RUN);
    assert_true(args.given[T_JSON]);
}

static void test_required_and_operands(void **state)
{
    (void)state;
    struct psi_cmdline_args args;
    char why[256];
    assert_int_equal(PARSE(&test_command, &args, why, "f"), PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "option '--state' is required");
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d"), PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "no FILE given");
    assert_int_equal(PARSE(&test_command, &args, why, "--state", "d", "a", "b", "c"),
                     PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "unexpected argument 'c'");
    assert_int_equal(PARSE(&no_operands, &args, why, "--state", "d", "extra"),
                     PSI_CMDLINE_PARSED_ERROR);
    assert_string_equal(why, "unexpected argument 'extra'");
    /* Operands anywhere, in order; "-" is one. */
    assert_int_equal(PARSE(&test_command, &args, why, "a", "--state", "d", "-", "--json"),
                     PSI_CMDLINE_PARSED_RUN);
    assert_int_equal(args.operand_count, 2);
    assert_string_equal(args.operands[0], "a");
    assert_string_equal(args.operands[1], "-");
    assert_string_equal(args.value[T_STATE], "d");
    assert_true(args.given[T_JSON]);
    assert_false(args.given[T_QUIET]);
    assert_null(args.value[T_FORMAT]);
}

static char *usage_text(const struct psi_cmdline_command *cmd)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    psi_cmdline_usage_print(cmd, out);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void test_usage_lists_every_option(void **state)
{
    (void)state;
    char *text = usage_text(&test_command);
    assert_non_null(strstr(text, "usage: psi submit --state DIR [-f FORMAT] [-j] [-q] FILE...\n"));
    assert_non_null(strstr(text, "\nAbout the command.\n"));
    for (size_t k = 0; k < test_command.option_count; k++) {
        char name[64];
        snprintf(name, sizeof name, "--%s", test_options[k].name);
        assert_non_null(strstr(text, name));
    }
    assert_non_null(strstr(text, "  -f, --format FORMAT  how to read\n"
                                 "                       second line\n"));
    assert_non_null(strstr(text, "      --state DIR      state\n"));
    assert_non_null(strstr(text, "  FILE...              input files\n"));
    assert_non_null(strstr(text, "  -h, --help           this text\n"));
    assert_non_null(strstr(text, "\nThe end.\n"));
    free(text);
}

/* Runs fn with stderr going to a file; returns what it wrote (free it). */
static char *stderr_of(int (*fn)(void), int *status)
{
    char path[512];
    snprintf(path, sizeof path, "%s/psi-cli-test.XXXXXX", test_tmpdir());
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    *status = fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *text = calloc(1, 1024);
    assert_non_null(text);
    assert_true(pread(fd, text, 1023, 0) >= 0);
    close(fd);
    unlink(path);
    return text;
}

static int parse_bad_option(void)
{
    struct psi_cmdline_args args;
    int status = -1;
    char a0[] = "submit", a1[] = "--colum", a2[] = "f";
    char *argv[] = {a0, a1, a2, NULL};
    assert_false(psi_cmdline_parse(&test_command, 3, argv, &args, &status));
    return status;
}

static void test_usage_error_is_one_line(void **state)
{
    (void)state;
    int status = 0;
    char *text = stderr_of(parse_bad_option, &status);
    assert_int_equal(status, PSI_CMDLINE_EXIT_USAGE);
    assert_string_equal(text, "psi submit: unknown option '--colum' (psi submit --help)\n");
    free(text);
}

static int bad_number(void)
{
    static const struct psi_cmdline_option options[] = {
        {.name = "interval", .value_name = "SECONDS", .help = "how often"},
    };
    static const struct psi_cmdline_command agent = {.name = "agent", PSI_CMDLINE_OPTIONS(options)};
    struct psi_cmdline_args args;
    char a0[] = "agent", a1[] = "--interval=0";
    char *argv[] = {a0, a1, NULL};
    char why[256];
    uint64_t interval = 10;
    assert_int_equal(psi_cmdline_parse_args(&agent, 2, argv, &args, why, sizeof why),
                     PSI_CMDLINE_PARSED_RUN);
    int status = psi_cmdline_option_u64(&agent, &args, 0, 1, 86400, &interval);
    assert_int_equal(interval, 10);
    return status;
}

static void test_number_option(void **state)
{
    (void)state;
    int status = 0;
    char *text = stderr_of(bad_number, &status);
    assert_int_equal(status, PSI_CMDLINE_EXIT_USAGE);
    assert_string_equal(text, "psi agent: option '--interval' wants a whole number from 1 to "
                              "86400, not '0' (psi agent --help)\n");
    free(text);
}

/* ---------------------------------------------------------------- dispatch */

static int ran_argc;
static const char *ran_first;

static int run_sub(int argc, char **argv)
{
    ran_argc = argc;
    ran_first = argv[0];
    return 7;
}

/* The program's name comes from psi_cmdline_set_program alone. */
static int hub_usage_error(void)
{
    psi_cmdline_set_program("psi-hub");
    int status = psi_cmdline_usage_error("admit", "unknown option '%s'", "--bogus");
    psi_cmdline_note("", "a note\nwith a newline");
    psi_cmdline_set_program("psi");
    return status;
}

static void test_program_name(void **state)
{
    (void)state;
    int status = 0;
    char *text = stderr_of(hub_usage_error, &status);
    assert_int_equal(status, PSI_CMDLINE_EXIT_USAGE);
    assert_string_equal(text, "psi-hub admit: unknown option '--bogus' (psi-hub admit --help)\n"
                              "psi-hub: a note with a newline\n");
    free(text);
    assert_string_equal(psi_cmdline_program(), "psi");
}

static const struct psi_cmdline_subcommand subs[] = {
    {"publish", run_sub, "publish it"},
    {"query", run_sub, "query it"},
};

static const struct psi_cmdline_group group = {
    .name = "feed",
    .about = "Feeds.\n",
    PSI_CMDLINE_SUBCOMMANDS(subs),
};

static int dispatch_unknown(void)
{
    char a0[] = "feed", a1[] = "publsh";
    char *argv[] = {a0, a1, NULL};
    return psi_cmdline_dispatch(&group, 2, argv);
}

static int dispatch_nothing(void)
{
    char a0[] = "feed";
    char *argv[] = {a0, NULL};
    return psi_cmdline_dispatch(&group, 1, argv);
}

static void test_dispatch(void **state)
{
    (void)state;
    char a0[] = "feed", a1[] = "query", a2[] = "--x";
    char *argv[] = {a0, a1, a2, NULL};
    assert_int_equal(psi_cmdline_dispatch(&group, 3, argv), 7);
    assert_int_equal(ran_argc, 2);
    assert_string_equal(ran_first, "query");

    int status = 0;
    char *text = stderr_of(dispatch_unknown, &status);
    assert_int_equal(status, PSI_CMDLINE_EXIT_USAGE);
    assert_string_equal(text, "psi feed: unknown subcommand 'publsh' (psi feed --help)\n");
    free(text);
    text = stderr_of(dispatch_nothing, &status);
    assert_int_equal(status, PSI_CMDLINE_EXIT_USAGE);
    assert_string_equal(text, "psi feed: no subcommand given (psi feed --help)\n");
    free(text);

    char *usage = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&usage, &len);
    assert_non_null(out);
    psi_cmdline_group_usage_print(&group, out);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(usage, "usage: psi feed SUBCOMMAND [OPTIONS]\n"));
    assert_non_null(strstr(usage, "  psi feed publish  publish it\n"));
    assert_non_null(strstr(usage, "  psi feed query    query it\n"));
    free(usage);
}

int main(void)
{
    psi_cmdline_set_program("psi");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_option_is_named),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_both_value_forms),
        cmocka_unit_test(test_short_forms),
        cmocka_unit_test(test_flags_take_no_value),
        cmocka_unit_test(test_help_wherever_it_stands),
        cmocka_unit_test(test_repeated_options),
        cmocka_unit_test(test_required_and_operands),
        cmocka_unit_test(test_usage_lists_every_option),
        cmocka_unit_test(test_usage_error_is_one_line),
        cmocka_unit_test(test_number_option),
        cmocka_unit_test(test_program_name),
        cmocka_unit_test(test_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
