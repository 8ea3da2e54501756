/* Tests of the operator's log: levels of request outcomes, the text and
 * JSON lines (the claimed participant named, marked as unverified), and the
 * parsing of --log-level / --log-format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "oplog.h"
#include "psi/error.h"

/* 2026-12-02T13:45:01.123Z */
#define NOW_MS 1796219101123ull

static void levels_of_outcomes(void **state)
{
    (void)state;
    assert_int_equal(psi_oplog_request_level("info", 0), PSI_OPLOG_INFO);
    /* a resumed upload that is gone or incomplete: the client uploads again */
    assert_int_equal(psi_oplog_request_level("submit.commit", PSI_ERR_NOT_FOUND), PSI_OPLOG_INFO);
    assert_int_equal(psi_oplog_request_level("submit.commit", PSI_ERR_PROTOCOL), PSI_OPLOG_INFO);
    assert_int_equal(psi_oplog_request_level("log.checkpoint", PSI_ERR_NOT_FOUND), PSI_OPLOG_INFO);
    assert_int_equal(psi_oplog_request_level("query.answer", PSI_ERR_EXISTS), PSI_OPLOG_INFO);
    assert_int_equal(psi_oplog_request_level("submit.commit", PSI_ERR_EPOCH), PSI_OPLOG_INFO);
    assert_false(psi_oplog_is_refusal("submit.commit", PSI_ERR_NOT_FOUND));
    /* refusals */
    assert_int_equal(psi_oplog_request_level("upload.chunk", PSI_ERR_PROTOCOL), PSI_OPLOG_WARN);
    static const int refused[] = {PSI_ERR_DENIED, PSI_ERR_VERIFY, PSI_ERR_STALE,  PSI_ERR_REPLAY,
                                  PSI_ERR_QUOTA,  PSI_ERR_PARSE,  PSI_ERR_INVALID};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(psi_oplog_request_level("info", refused[i]), PSI_OPLOG_WARN);
        assert_true(psi_oplog_is_refusal("info", refused[i]));
    }
    /* the hub's own failures */
    assert_int_equal(psi_oplog_request_level("results", PSI_ERR_STORE), PSI_OPLOG_ERROR);
    assert_int_equal(psi_oplog_request_level("results", PSI_ERR_NOMEM), PSI_OPLOG_ERROR);
    assert_false(psi_oplog_is_refusal("results", PSI_ERR_STORE));
}

static void parse_words(void **state)
{
    (void)state;
    enum psi_oplog_level level = PSI_OPLOG_INFO;
    enum psi_oplog_format format = PSI_OPLOG_TEXT;
    assert_int_equal(psi_oplog_parse_level("error", &level), 0);
    assert_int_equal(level, PSI_OPLOG_ERROR);
    assert_int_equal(psi_oplog_parse_level("debug", &level), 0);
    assert_int_equal(level, PSI_OPLOG_DEBUG);
    assert_int_equal(psi_oplog_parse_level("verbose", &level), -1);
    assert_int_equal(psi_oplog_parse_level("", &level), -1);
    assert_int_equal(psi_oplog_parse_format("json", &format), 0);
    assert_int_equal(format, PSI_OPLOG_JSON);
    assert_int_equal(psi_oplog_parse_format("xml", &format), -1);
    /* the settings decide what is written */
    psi_oplog_setup(PSI_OPLOG_WARN, PSI_OPLOG_TEXT);
    assert_true(psi_oplog_enabled(PSI_OPLOG_ERROR));
    assert_true(psi_oplog_enabled(PSI_OPLOG_WARN));
    assert_false(psi_oplog_enabled(PSI_OPLOG_INFO));
    psi_oplog_setup(PSI_OPLOG_INFO, PSI_OPLOG_TEXT);
}

static void text_lines(void **state)
{
    (void)state;
    char line[512];
    psi_oplog_setup(PSI_OPLOG_INFO, PSI_OPLOG_TEXT);
    struct psi_oplog_request ok = {"agency-a", 1, "work.list", 0, 3, 120, 456};
    psi_oplog_format_request(line, sizeof line, NOW_MS, &ok);
    assert_string_equal(line,
                        "2026-12-02T13:45:01.123Z info agency-a work.list ok 3ms in=120 out=456");
    struct psi_oplog_request wrong_key = {"agency-b", 0, "info", PSI_ERR_VERIFY, 0, 300, 90};
    psi_oplog_format_request(line, sizeof line, NOW_MS, &wrong_key);
    assert_string_equal(
        line, "2026-12-02T13:45:01.123Z warn agency-b(unverified) info VERIFY 0ms in=300 out=90");
    struct psi_oplog_request sealed_shut = {"-", 0, "-", PSI_ERR_PARSE, 0, 10, 80};
    psi_oplog_format_request(line, sizeof line, NOW_MS, &sealed_shut);
    assert_string_equal(line, "2026-12-02T13:45:01.123Z warn - - PARSE 0ms in=10 out=80");
}

static void json_lines(void **state)
{
    (void)state;
    char line[512];
    psi_oplog_setup(PSI_OPLOG_INFO, PSI_OPLOG_JSON);
    struct psi_oplog_request stranger = {"agency-x", 0, "info", PSI_ERR_DENIED, 2, 300, 95};
    psi_oplog_format_request(line, sizeof line, NOW_MS, &stranger);
    json_error_t error;
    json_t *obj = json_loads(line, 0, &error);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "time")),
                        "2026-12-02T13:45:01.123Z");
    assert_string_equal(json_string_value(json_object_get(obj, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(obj, "participant")), "agency-x");
    assert_true(json_is_false(json_object_get(obj, "verified")));
    assert_string_equal(json_string_value(json_object_get(obj, "method")), "info");
    assert_string_equal(json_string_value(json_object_get(obj, "result")), "DENIED");
    assert_int_equal(json_integer_value(json_object_get(obj, "duration_ms")), 2);
    assert_int_equal(json_integer_value(json_object_get(obj, "bytes_in")), 300);
    assert_int_equal(json_integer_value(json_object_get(obj, "bytes_out")), 95);
    assert_int_equal(json_object_size(obj), 9);
    json_decref(obj);
    psi_oplog_setup(PSI_OPLOG_INFO, PSI_OPLOG_TEXT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(levels_of_outcomes),
        cmocka_unit_test(parse_words),
        cmocka_unit_test(text_lines),
        cmocka_unit_test(json_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
