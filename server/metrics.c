/* The serving hub's own counts (metrics.h). */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "hub.h"
#include "psi/error.h"

/* The catalogue's methods, then "unknown" (a name it lacks) and "-" (no
 * method could be read). */
static const char *const METHOD_NAMES[] = {
#define PSI_METRICS_NAME_(id, handler, name, request, reply, flags) name,
    PSI_METHODS(PSI_METRICS_NAME_)
#undef PSI_METRICS_NAME_
        "unknown",
    "-",
};
#define METHOD_COUNT (sizeof METHOD_NAMES / sizeof METHOD_NAMES[0])
#define RESULT_COUNT 23 /* ok (0) and the codes -1 .. -22 of psi/error.h */
_Static_assert(PSI_ERR_EPOCH == -(RESULT_COUNT - 1), "one result slot per psi error code");

/* Upper bounds of the latency buckets, in microseconds (the +Inf bucket is
 * the count). */
static const uint64_t BUCKET_US[] = {1000,   2500,   5000,    10000,   25000,   50000,   100000,
                                     250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define BUCKET_COUNT (sizeof BUCKET_US / sizeof BUCKET_US[0])
#define MINUTES 60

struct psi_hub_metrics {
    nng_mtx *lock;
    uint64_t requests[METHOD_COUNT][RESULT_COUNT];
    uint64_t refusals[METHOD_COUNT][RESULT_COUNT];
    uint64_t buckets[METHOD_COUNT][BUCKET_COUNT];
    uint64_t count[METHOD_COUNT];
    uint64_t sum_us[METHOD_COUNT];
    /* refusals per minute of the last hour: minute[k] counts minute
     * minute_of[k] (since the epoch), kept at index minute % MINUTES */
    uint64_t per_minute[MINUTES];
    uint64_t minute_of[MINUTES];
};

int psi_hub_metrics_new(struct psi_hub_metrics **out)
{
    struct psi_hub_metrics *m = calloc(1, sizeof *m);
    if (m == NULL || nng_mtx_alloc(&m->lock) != 0) {
        free(m);
        return PSI_ERR_NOMEM;
    }
    *out = m;
    return 0;
}

void psi_hub_metrics_free(struct psi_hub_metrics *m)
{
    if (m == NULL)
        return;
    nng_mtx_free(m->lock);
    free(m);
}

static size_t method_index(const char *method)
{
    if (strcmp(method, "-") == 0)
        return METHOD_COUNT - 1;
    for (size_t i = 0; i + 2 < METHOD_COUNT; i++)
        if (strcmp(METHOD_NAMES[i], method) == 0)
            return i;
    return METHOD_COUNT - 2;
}

static size_t result_index(int status)
{
    return status <= 0 && status > -RESULT_COUNT ? (size_t)-status : (size_t)-PSI_ERR_INVALID;
}

void psi_hub_metrics_count(struct psi_hub_metrics *m, const char *method, int status, int refusal,
                           uint64_t duration_us, uint64_t now_ms)
{
    size_t mi = method_index(method), ri = result_index(status);
    uint64_t minute = now_ms / 60000u;
    nng_mtx_lock(m->lock);
    m->requests[mi][ri]++;
    m->count[mi]++;
    m->sum_us[mi] += duration_us;
    for (size_t b = 0; b < BUCKET_COUNT; b++)
        if (duration_us <= BUCKET_US[b])
            m->buckets[mi][b]++;
    if (refusal) {
        m->refusals[mi][ri]++;
        size_t k = (size_t)(minute % MINUTES);
        if (m->minute_of[k] != minute) {
            m->minute_of[k] = minute;
            m->per_minute[k] = 0;
        }
        m->per_minute[k]++;
    }
    nng_mtx_unlock(m->lock);
}

uint64_t psi_hub_metrics_refusals_last_hour(struct psi_hub_metrics *m, uint64_t now_ms)
{
    uint64_t minute = now_ms / 60000u, total = 0;
    nng_mtx_lock(m->lock);
    for (size_t k = 0; k < MINUTES; k++)
        if (m->minute_of[k] + MINUTES > minute && m->minute_of[k] <= minute)
            total += m->per_minute[k];
    nng_mtx_unlock(m->lock);
    return total;
}

static void write_labels(struct psi_text_buf *out, const char *method, const char *result)
{
    psi_text_printf(out, "{method=\"");
    psi_text_label_value(out, method);
    if (result != NULL) {
        psi_text_printf(out, "\",result=\"");
        psi_text_label_value(out, result);
    }
    psi_text_printf(out, "\"}");
}

void psi_hub_metrics_write(struct psi_hub_metrics *m, struct psi_text_buf *out)
{
    nng_mtx_lock(m->lock);
    psi_text_printf(out, "# HELP psi_hub_requests_total Requests answered, by method and result "
                         "(ok or the error code's name).\n"
                         "# TYPE psi_hub_requests_total counter\n");
    for (size_t mi = 0; mi < METHOD_COUNT; mi++)
        for (size_t ri = 0; ri < RESULT_COUNT; ri++)
            if (m->requests[mi][ri] != 0) {
                psi_text_printf(out, "psi_hub_requests_total");
                write_labels(out, METHOD_NAMES[mi], psi_hub_status_name(-(int)ri));
                psi_text_printf(out, " %llu\n", (unsigned long long)m->requests[mi][ri]);
            }
    psi_text_printf(out, "# HELP psi_hub_refusals_total Requests refused (the warnings of the "
                         "request log), by method and result.\n"
                         "# TYPE psi_hub_refusals_total counter\n");
    for (size_t mi = 0; mi < METHOD_COUNT; mi++)
        for (size_t ri = 0; ri < RESULT_COUNT; ri++)
            if (m->refusals[mi][ri] != 0) {
                psi_text_printf(out, "psi_hub_refusals_total");
                write_labels(out, METHOD_NAMES[mi], psi_hub_status_name(-(int)ri));
                psi_text_printf(out, " %llu\n", (unsigned long long)m->refusals[mi][ri]);
            }
    psi_text_printf(out, "# HELP psi_hub_request_duration_seconds Time from a request's "
                         "arrival to its reply, by method.\n"
                         "# TYPE psi_hub_request_duration_seconds histogram\n");
    for (size_t mi = 0; mi < METHOD_COUNT; mi++) {
        if (m->count[mi] == 0)
            continue;
        for (size_t b = 0; b < BUCKET_COUNT; b++) {
            psi_text_printf(out, "psi_hub_request_duration_seconds_bucket{method=\"");
            psi_text_label_value(out, METHOD_NAMES[mi]);
            psi_text_printf(out, "\",le=\"%g\"} %llu\n", (double)BUCKET_US[b] / 1e6,
                            (unsigned long long)m->buckets[mi][b]);
        }
        psi_text_printf(out, "psi_hub_request_duration_seconds_bucket{method=\"");
        psi_text_label_value(out, METHOD_NAMES[mi]);
        psi_text_printf(out, "\",le=\"+Inf\"} %llu\n", (unsigned long long)m->count[mi]);
        psi_text_printf(out, "psi_hub_request_duration_seconds_sum");
        write_labels(out, METHOD_NAMES[mi], NULL);
        psi_text_printf(out, " %.6f\n", (double)m->sum_us[mi] / 1e6);
        psi_text_printf(out, "psi_hub_request_duration_seconds_count");
        write_labels(out, METHOD_NAMES[mi], NULL);
        psi_text_printf(out, " %llu\n", (unsigned long long)m->count[mi]);
    }
    nng_mtx_unlock(m->lock);
}
