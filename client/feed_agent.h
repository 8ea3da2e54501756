/*
 * The vendor's side of protocol 2 in `psi agent`: answering the query batches
 * the hub relays (docs/feeds.md).
 *
 * For each batch it promises: the answer is RFC 9497 BlindEvaluate of every
 * element with the vendor's one VOPRF key of the batch's epoch (derived from
 * DIR/mutual.seed, never stored) and one batched DLEQ proof against the key
 * it announced; a batch with an element that is not a valid point is not
 * answered; an optional per-agency limit (queries per agency and epoch,
 * counted in DIR/feed-agent.db, so it holds across runs) leaves batches past
 * it unanswered and says so once; a retried answer reuses its request id, so
 * the hub records it once.
 *
 * Test hook, never for production: with PSI_TEST_FEED_WRONG_KEY set in the
 * environment the agent answers under another key (with a proof that is
 * valid for that key), which the hub and agencies must refuse. It announces
 * itself on stderr at every answer.
 */
#ifndef PSI_CLIENT_FEED_AGENT_H
#define PSI_CLIENT_FEED_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "hub_client.h"
#include "psi.pb-c.h"

#define PSI_FEED_AGENT_DB_FILE "feed-agent.db"
#define PSI_FEED_AGENT_WRONG_KEY_ENV "PSI_TEST_FEED_WRONG_KEY"

struct psi_feed_agent;

struct psi_feed_agent_tally {
    size_t answered;   /* batches answered */
    uint64_t elements; /* elements in them */
    size_t declined;   /* batches left unanswered (limit, bad element, refused) */
};

/* per_agency_limit: queries per agency and epoch this vendor answers (0: no
 * limit of its own; the hub's quota still holds). */
int psi_feed_agent_open(struct psi_feed_agent **out, struct psi_cli_session *s,
                        uint64_t per_agency_limit);
void psi_feed_agent_close(struct psi_feed_agent *fa);

/* One round: if the roster says this participant is a vendor, fetches the
 * pending batches (query.work) and answers each. *did_work says whether a
 * batch was answered. 0 if the round ran, 1 on a failure that ends it (a
 * note is printed). */
int psi_feed_agent_round(struct psi_feed_agent *fa, struct psi_hub_client *hub,
                         const Psi__Roster *roster, struct psi_feed_agent_tally *tally,
                         int *did_work);

#endif
