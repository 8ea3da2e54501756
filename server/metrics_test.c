/* Tests of what the status endpoints write: the request counts and
 * histograms of /metrics, label and HTML escaping, the refusals of the last
 * hour, the --http address rule (loopback unless allowed), and the page's
 * escaping of what the store holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hub_status.h"
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

/* Strings from the store reach the page escaped: a hostile name, epoch or
 * checkpoint cannot add markup, and the map keeps one cell per pair. */
static void page_escapes_the_store(void **state)
{
    (void)state;
    json_error_t error;
    json_t *status = json_loads(
        "{\"hub\": {\"name\": \"<script>alert(1)</script>\", \"verifier_key\": \"k&\","
        " \"threshold\": 2},"
        " \"epoch\": \"e\\\"<b>\", \"generated\": \"t\", \"refusals_last_hour\": 3,"
        " \"participants\": [{\"id\": \"a<i>\", \"role\": \"agency\", \"removed\": false,"
        "   \"policy\": {\"operator\": {\"share_all\": true}, \"party\": null,"
        "   \"effective\": {\"share_all\": true}}, \"submissions\": 1, \"elements\": 5,"
        "   \"element_quota\": {\"limit\": 9, \"used\": 5, \"default\": false},"
        "   \"sets\": [{\"submission\": 7, \"count\": 5, \"done\": [], \"pending\": [\"b\"]}]},"
        "  {\"id\": \"b\", \"role\": \"agency\", \"removed\": true, \"policy\": {},"
        "   \"sets\": []}],"
        " \"overlap\": {\"epoch\": \"e\", \"note\": \"n\", \"participants\": [\"a<i>\", \"b\"],"
        "   \"pairs\": [{\"a\": \"a<i>\", \"b\": \"b\", \"matches\": 4},"
        "             {\"a\": \"b\", \"b\": \"a<i>\", \"matches\": 0}]},"
        " \"query_quotas\": [], \"log\": {\"size\": 12, \"checkpoint\": \"c</pre><x>\"},"
        " \"store\": {\"elements\": 5, \"tags\": 0, \"matches\": 4, \"bytes\": 4096}}",
        0, &error);
    assert_non_null(status);
    struct psi_text_buf page = {0};
    psi_hub_status_html(status, &page);
    assert_false(page.failed);
    const char *html = page.text;
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<i>"));
    assert_null(strstr(html, "<x>"));
    assert_null(strstr(html, "<b>"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "data-a=\"a&lt;i&gt;\" data-b=\"b\" data-count=\"4\""));
    assert_non_null(strstr(html, "data-a=\"b\" data-b=\"a&lt;i&gt;\" data-count=\"0\""));
    assert_non_null(strstr(html, "0 of 1</span>; pending: b"));
    assert_non_null(strstr(html, "5 of 9</td>"));
    assert_non_null(strstr(html, "id=\"refusals\">3<"));
    size_t cells = 0;
    for (const char *p = html; (p = strstr(p, "class=\"cell\"")) != NULL; p++)
        cells++;
    assert_int_equal(cells, 2);
    psi_text_free(&page);

    struct psi_text_buf metrics = {0};
    psi_hub_status_metrics(status, &metrics);
    assert_non_null(strstr(metrics.text, "psi_hub_info{name=\"<script>alert(1)</script>\","
                                         "epoch=\"e\\\"<b>\"} 1\n"));
    assert_non_null(strstr(metrics.text, "psi_hub_store_bytes 4096\n"));
    assert_non_null(strstr(metrics.text, "psi_hub_participants{role=\"agency\"} 2\n"));
    psi_text_free(&metrics);
    json_decref(status);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escaping),
        cmocka_unit_test(request_families),
        cmocka_unit_test(refusals_of_the_last_hour),
        cmocka_unit_test(http_addresses),
        cmocka_unit_test(page_escapes_the_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
