/*
 * The hub's side of protocol 2 (blinded vendor feeds, docs/feeds.md): the
 * methods feed.announce, feed.commit, feed.get, query.submit, query.work,
 * query.answer and query.result (hub_method_feed_announce, ..., declared
 * from the catalogue in hub.h), run by the request pipeline of hub.c like
 * every other method.
 *
 * The hub promises: one VOPRF key per vendor and epoch, announced under the
 * vendor's signature; a feed accepted only when its filter decodes for the
 * vendor, the epoch and that key and its signed digest, count, rate and size
 * are the filter's; blinded elements relayed, never anything else; every
 * query batch counted against the operator's quota for (agency, vendor,
 * epoch) and refused whole when it would pass it; every answer's batched DLEQ
 * proof verified against the announced key before it is relayed. Each of
 * these is a log entry (EPOCH_KEY, FEED, QUERY, ANSWER) in the transaction of
 * the change; refusals for quota, signatures and proofs are logged by the
 * pipeline.
 */
#ifndef PSI_HUB_FEEDS_H
#define PSI_HUB_FEEDS_H

#include "hub.h"

/* Domain separation of an answer's digest in its log entry. */
#define PSI_HUB_ANSWER_DST "psi/answer/v1"

/* The operator's quota (admin.c): sets the limit of agency's queries per
 * epoch to vendor's feed and logs it (a QUOTA entry), in t. err gets the
 * reason of a refusal (not an agency, not a vendor, removed). */
int psi_feed_quota_set(struct psi_txn *t, const char *agency, const char *vendor, uint64_t limit,
                       uint64_t now_ms, char *err, size_t errlen);

#endif
