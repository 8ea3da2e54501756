/*
 * The serving hub's own counts, for /metrics and the status page: requests
 * by method and result, their latency as a histogram by method, and the
 * refusals of the last hour. Kept in memory by psi-hub serve (they start at
 * zero with the process, as Prometheus counters may); what the store holds
 * is read from the store at each scrape instead (hub_status.h).
 *
 * Labels come from fixed lists only: a method the catalogue does not name
 * is counted as "unknown" and a request whose seal did not open as "-", so
 * nobody can grow the set of series by sending new names. Every function is
 * safe to call from any thread.
 */
#ifndef PSI_HUB_METRICS_H
#define PSI_HUB_METRICS_H

#include <stdint.h>

#include "text_buf.h"

struct psi_hub_metrics;

int psi_hub_metrics_new(struct psi_hub_metrics **out);
void psi_hub_metrics_free(struct psi_hub_metrics *m);

/* One request answered with status after duration_us; refusal: the
 * operator's log counts it as one (oplog.h). */
void psi_hub_metrics_count(struct psi_hub_metrics *m, const char *method, int status, int refusal,
                           uint64_t duration_us, uint64_t now_ms);

/* Refusals counted in the hour before now_ms (by whole minutes). */
uint64_t psi_hub_metrics_refusals_last_hour(struct psi_hub_metrics *m, uint64_t now_ms);

/* The families psi_hub_requests_total, psi_hub_request_duration_seconds
 * and psi_hub_refusals_total in the text format 0.0.4. */
void psi_hub_metrics_write(struct psi_hub_metrics *m, struct psi_text_buf *out);

#endif
