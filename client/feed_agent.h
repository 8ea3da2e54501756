/*
 * The vendor's side of protocol 2 in `psi agent`: answering the query batches
 * the hub relays (docs/feeds.md).
 *
 * The hub is trusted for availability, never for privacy (docs/trust.md): it
 * could forge batches of guesses and read the vendor's answers against the
 * feed filter. So before anything of a batch is evaluated the agent decides,
 * on its own state and never on the hub's word, that
 *
 *   - the claimed agency is one whose key the lookup given to
 *     psi_feed_agent_open knows (a pinned, logged agency);
 *   - the batch carries that agency's Ed25519 signature over
 *     psi_feed_query_statement(hub key, this vendor, epoch, n, digest of the
 *     elements): the hub can neither forge nor alter a batch;
 *   - its epoch is the latest one for which this vendor announced a key
 *     (`psi feed publish` records it, psi_feed_agent_note_announced), and the
 *     one the hub names now: no older epoch, none the vendor never keyed;
 *   - it was never evaluated before under another query id (every evaluated
 *     batch is kept by the digest of its signed statement): no replay;
 *   - it fits this vendor's limits of the epoch: per_agency queries per
 *     agency, counted on the authenticated id, and total queries for all
 *     agencies together.
 *
 * A batch that fails one of the first four is refused: reported once (one
 * line naming query id, claimed agency and reason), recorded in
 * DIR/feed-agent.db so it is not reported again, and never evaluated. One
 * past a limit is left unanswered and reported once per run (a higher limit
 * may answer it later). State is kept in DIR/feed-agent.db, so it holds
 * across runs: a SQLite file of its own beside state.db (state.h), opened
 * only by feed_agent.c and created on first use (every agent opens it).
 *
 * For an accepted batch the answer is RFC 9497 BlindEvaluate of every element
 * with the vendor's one VOPRF key of the epoch (derived from DIR/mutual.seed,
 * never stored) and one batched DLEQ proof against the key it announced; a
 * batch with an element that is not a valid point is not answered; a retried
 * answer (same query id, same batch) reuses its request id, so the hub
 * records it once.
 *
 * Test hook, compiled only in test builds (-DPSI_TEST_HOOKS=ON): with
 * PSI_TEST_FEED_WRONG_KEY set in the environment the agent answers under
 * another key (with a proof that is valid for that key), which the hub and
 * agencies must refuse. It announces itself on stderr at every answer. A
 * default build has neither the hook nor its name.
 */
#ifndef PSI_CLIENT_FEED_AGENT_H
#define PSI_CLIENT_FEED_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "hub_client.h"
#include "psi.pb-c.h"

#define PSI_FEED_AGENT_DB_FILE "feed-agent.db"
#ifdef PSI_TEST_HOOKS
#define PSI_FEED_AGENT_WRONG_KEY_ENV "PSI_TEST_FEED_WRONG_KEY"
#endif
/* Queries per epoch this vendor answers for all agencies together, unless
 * `psi agent --feed-total-limit` says otherwise. */
#define PSI_FEED_AGENT_TOTAL_LIMIT_DEFAULT 1000000u

struct psi_feed_agent;

/* The Ed25519 key of agency: 0 when agency is a pinned, logged participant
 * of role agency (key filled), PSI_ERR_NOT_FOUND when it is not, another
 * negative psi error when the lookup itself failed. */
typedef int (*psi_feed_agency_key_fn)(void *ctx, const char *agency, unsigned char key[32]);

struct psi_feed_agent_limits {
    uint64_t per_agency; /* queries per agency and epoch; 0: no limit of its own */
    uint64_t total;      /* queries per epoch, all agencies; 0: no limit */
};

struct psi_feed_agent_tally {
    size_t answered;   /* batches answered */
    uint64_t elements; /* elements in them */
    size_t declined;   /* batches left unanswered (limit, bad element, hub refusal) */
    size_t refused;    /* batches refused by a check (forged, replayed, other epoch ...) */
};

/* Opens DIR/feed-agent.db of the session. key_of (with key_ctx) is asked for
 * the key of every claimed agency; the agent keeps both. On failure prints
 * the one line and returns 1. */
int psi_feed_agent_open(struct psi_feed_agent **out, struct psi_cli_session *s,
                        const struct psi_feed_agent_limits *limits, psi_feed_agency_key_fn key_of,
                        void *key_ctx);
void psi_feed_agent_close(struct psi_feed_agent *fa);

/* Records in DIR/feed-agent.db that this vendor announced its key of epoch
 * (`psi feed publish`, once the hub accepted the announcement). The latest
 * epoch recorded is the only one the agent answers; recording an epoch again
 * does not make it the latest. 0, or 1 after printing the one line. */
int psi_feed_agent_note_announced(const char *cmd, const char *dir, const char *epoch);

enum psi_feed_verdict {
    PSI_FEED_EVALUATE,       /* passed every check; counted and recorded */
    PSI_FEED_REFUSED,        /* failed a check: recorded; report it, never evaluate */
    PSI_FEED_REFUSED_BEFORE, /* this very batch was refused before: skip silently */
    PSI_FEED_OVER_LIMIT,     /* authenticated, but past a limit: leave it unanswered */
};

/* The checks of one batch the hub relays, hub_epoch being the epoch the
 * hub's info names now. Sets *verdict and, unless it is PSI_FEED_EVALUATE
 * or PSI_FEED_REFUSED_BEFORE, the reason (one sentence). Returns 0, or a
 * negative psi error when the checks could not be made (the state database,
 * the key lookup); then nothing is recorded and the batch is not evaluated. */
int psi_feed_agent_check(struct psi_feed_agent *fa, const Psi__QueryBatch *b, const char *hub_epoch,
                         enum psi_feed_verdict *verdict, char *reason, size_t reason_cap);

/* One round: if the roster says this participant is a vendor, fetches the
 * pending batches (query.work), checks each (psi_feed_agent_check) and
 * answers those that pass. hub_epoch: the epoch the hub's info names now.
 * *did_work says whether a batch was answered. 0 if the round ran, 1 on a
 * failure that ends it (a note is printed). */
int psi_feed_agent_round(struct psi_feed_agent *fa, struct psi_hub_client *hub,
                         const Psi__Roster *roster, const char *hub_epoch,
                         struct psi_feed_agent_tally *tally, int *did_work);

#endif
