/*
 * What psi-hub serve --http shows the operator: one snapshot of the hub,
 * read in one read transaction of its own store connection, as a JSON
 * document (/status.json). The status page (/) and the store's part of
 * /metrics are rendered from that same document, so the three cannot
 * disagree.
 *
 * The snapshot holds what the hub knows already and a participant never
 * sees whole: the roster with both policies, the current epoch, per
 * participant its submissions, elements, element quota and, for each of its
 * sets, which peers have cross-blinded it and which still should (the rule
 * of `status`); the overlap map, match counts of every ordered pair of
 * participants in the current epoch as the join recorded them; query quotas;
 * refusals of the last hour; the log's size and latest checkpoint; and what
 * the store holds. Never an element, a tag, an indicator or a key other than
 * the hub's own verifier key.
 */
#ifndef PSI_HUB_HUB_STATUS_H
#define PSI_HUB_HUB_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hub.h"
#include "text_buf.h"

/* The snapshot at now_ms (a new reference), or NULL with a reason in err.
 * refusals_last_hour comes from the serving process (metrics.h). */
json_t *psi_hub_status_collect(const struct psi_hub *hub, struct psi_store *st, uint64_t now_ms,
                               uint64_t refusals_last_hour, char *err, size_t errlen);

/* The status page: one HTML document, no script, no resource from
 * elsewhere. Every string from the store is escaped. */
void psi_hub_status_html(const json_t *status, struct psi_text_buf *out);

/* The store's gauges for /metrics (text format 0.0.4): elements, tags and
 * matches stored, log entries, store bytes, participants by role. */
void psi_hub_status_metrics(const json_t *status, struct psi_text_buf *out);

#endif
