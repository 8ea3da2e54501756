/* Tests of what the status endpoints write: the request counts and
 * histograms of /metrics, label and HTML escaping, the refusals of the last
 * hour, and the --http address rule (loopback unless allowed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "psi/error.h"
#include "status_http.h"
#include "text_buf.h"

#define MINUTE_MS 60000ull
#define T0 (1796219101123ull)

static void escaping(void **state)
{
    (void)state;
    struct psi_text_buf b = {0};
    psi_text_html(&b, "<a href=\"x\">'&'</a>");
    assert_string_equal(b.text, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    psi_text_free(&b);
    psi_text_label_value(&b, "a\\b\"c\nd");
    assert_string_equal(b.text, "a\\\\b\\\"c\\nd");
    psi_text_free(&b);
    psi_text_printf(&b, "%d-%s", 42, "x");
    assert_string_equal(b.text, "42-x");
    assert_int_equal(b.len, 4);
    assert_false(b.failed);
    psi_text_free(&b);
}

static void request_families(void **state)
{
    (void)state;
    struct psi_hub_metrics *m = NULL;
    assert_int_equal(psi_hub_metrics_new(&m), 0);
    psi_hub_metrics_count(m, "work.list", 0, 0, 800, T0);   /* 0.8 ms */
    psi_hub_metrics_count(m, "work.list", 0, 0, 30000, T0); /* 30 ms */
    psi_hub_metrics_count(m, "info", PSI_ERR_VERIFY, 1, 100, T0);
    /* a name outside the catalogue is "unknown": nobody grows the series */
    psi_hub_metrics_count(m, "no.such\"method", PSI_ERR_PROTOCOL, 1, 100, T0);
    struct psi_text_buf b = {0};
    psi_hub_metrics_write(m, &b);
    assert_false(b.failed);
    const char *t = b.text;
    assert_non_null(strstr(t, "# TYPE psi_hub_requests_total counter\n"));
    assert_non_null(strstr(t, "psi_hub_requests_total{method=\"work.list\",result=\"ok\"} 2\n"));
    assert_non_null(strstr(t, "psi_hub_requests_total{method=\"info\",result=\"VERIFY\"} 1\n"));
    assert_non_null(
        strstr(t, "psi_hub_requests_total{method=\"unknown\",result=\"PROTOCOL\"} 1\n"));
    assert_null(strstr(t, "no.such"));
    assert_non_null(strstr(t, "psi_hub_refusals_total{method=\"info\",result=\"VERIFY\"} 1\n"));
    assert_null(strstr(t, "psi_hub_refusals_total{method=\"work.list\""));
    assert_non_null(strstr(t, "# TYPE psi_hub_request_duration_seconds histogram\n"));
    assert_non_null(strstr(
        t, "psi_hub_request_duration_seconds_bucket{method=\"work.list\",le=\"0.001\"} 1\n"));
    assert_non_null(strstr(
        t, "psi_hub_request_duration_seconds_bucket{method=\"work.list\",le=\"0.025\"} 1\n"));
    assert_non_null(
        strstr(t, "psi_hub_request_duration_seconds_bucket{method=\"work.list\",le=\"0.05\"} 2\n"));
    assert_non_null(
        strstr(t, "psi_hub_request_duration_seconds_bucket{method=\"work.list\",le=\"+Inf\"} 2\n"));
    assert_non_null(
        strstr(t, "psi_hub_request_duration_seconds_sum{method=\"work.list\"} 0.030800\n"));
    assert_non_null(strstr(t, "psi_hub_request_duration_seconds_count{method=\"work.list\"} 2\n"));
    psi_text_free(&b);
    psi_hub_metrics_free(m);
}

static void refusals_of_the_last_hour(void **state)
{
    (void)state;
    struct psi_hub_metrics *m = NULL;
    assert_int_equal(psi_hub_metrics_new(&m), 0);
    assert_int_equal(psi_hub_metrics_refusals_last_hour(m, T0), 0);
    psi_hub_metrics_count(m, "info", PSI_ERR_DENIED, 1, 10, T0);
    psi_hub_metrics_count(m, "info", PSI_ERR_DENIED, 1, 10, T0 + 30 * MINUTE_MS);
    psi_hub_metrics_count(m, "info", 0, 0, 10, T0 + 30 * MINUTE_MS); /* not a refusal */
    assert_int_equal(psi_hub_metrics_refusals_last_hour(m, T0 + 30 * MINUTE_MS), 2);
    /* an hour and a bit later the first has left the window */
    assert_int_equal(psi_hub_metrics_refusals_last_hour(m, T0 + 61 * MINUTE_MS), 1);
    /* a refusal in the same slot an hour on replaces the old minute */
    psi_hub_metrics_count(m, "info", PSI_ERR_STALE, 1, 10, T0 + 90 * MINUTE_MS);
    assert_int_equal(psi_hub_metrics_refusals_last_hour(m, T0 + 90 * MINUTE_MS), 1);
    assert_int_equal(psi_hub_metrics_refusals_last_hour(m, T0 + 200 * MINUTE_MS), 0);
    psi_hub_metrics_free(m);
}

static void http_addresses(void **state)
{
    (void)state;
    char host[64];
    unsigned port = 1;
    assert_int_equal(psi_status_http_split("127.0.0.1:8080", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(psi_status_http_split("[::1]:0", host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(psi_status_http_split("::1:80", host, sizeof host, &port), -1);
    assert_int_equal(psi_status_http_split("127.0.0.1", host, sizeof host, &port), -1);
    assert_int_equal(psi_status_http_split("127.0.0.1:", host, sizeof host, &port), -1);
    assert_int_equal(psi_status_http_split(":80", host, sizeof host, &port), -1);
    assert_int_equal(psi_status_http_split("host:65536", host, sizeof host, &port), -1);
    assert_int_equal(psi_status_http_split("host:8x", host, sizeof host, &port), -1);
    assert_true(psi_status_http_is_loopback("127.0.0.1"));
    assert_true(psi_status_http_is_loopback("127.3.2.1"));
    assert_true(psi_status_http_is_loopback("::1"));
    assert_true(psi_status_http_is_loopback("localhost"));
    assert_false(psi_status_http_is_loopback("0.0.0.0"));
    assert_false(psi_status_http_is_loopback("::"));
    assert_false(psi_status_http_is_loopback("10.0.0.1"));
    assert_false(psi_status_http_is_loopback("128.0.0.1"));
    assert_false(psi_status_http_is_loopback("example.org"));
    assert_false(psi_status_http_is_loopback("127.0.0.1.example.org"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escaping),
        cmocka_unit_test(request_families),
        cmocka_unit_test(refusals_of_the_last_hour),
        cmocka_unit_test(http_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
