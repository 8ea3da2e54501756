/*
 * The peers a participant works for, as it has proven them itself.
 *
 * The hub's roster is the hub's word, and the hub is trusted for
 * availability, never for privacy (docs/trust.md): an operator can add a row
 * to its store with a key it holds. So a participant pins a peer only when
 * the peer's admission (id, role, key) is an entry of the hub's log, proven
 * included in a checkpoint that this state trusts (signed by the hub's key
 * and consistent with every checkpoint trusted before). An admission the
 * operator made in the log is visible to every party and to auditors; one it
 * made only in its store is never pinned. A pin never changes: a roster that
 * shows another key for a pinned id is a conflict, reported, and the agent
 * works for nobody under that id.
 */
#ifndef PSI_CLIENT_PEERS_H
#define PSI_CLIENT_PEERS_H

#include <stddef.h>

#include "cli.h"
#include "hub_client.h"
#include "psi.pb-c.h"
#include "state.h"

/* Called once for every roster member that cannot be pinned, with the reason. */
typedef void (*psi_peers_report_fn)(void *ctx, const char *id, const char *reason);

struct psi_peers_tally {
    size_t pinned;    /* newly pinned by this call */
    size_t known;     /* pinned before, with the key the roster shows */
    size_t unproven;  /* admissions that did not verify (reported) */
    size_t conflicts; /* roster keys that differ from the pinned ones (reported) */
};

/*
 * Brings this state's pins up to date with the roster the hub just gave:
 * every member other than this participant that is not pinned yet is pinned
 * if its admission entry verifies. The hub's checkpoint is fetched and
 * trusted (with a consistency proof) only when there is something to prove.
 * 0, or an error with why when the log itself cannot be trusted (then
 * nothing new is pinned; pins made before stand).
 */
int psi_peers_update(struct psi_cli_session *s, struct psi_hub_client *hub,
                     const Psi__Roster *roster, psi_peers_report_fn report, void *report_ctx,
                     struct psi_peers_tally *tally, char *why, size_t whylen);

/* A short fingerprint of a key for a person: the first 16 bytes of its
 * SHA-256 in hex, in groups of four ("a1b2:c3d4:..."), NUL-terminated. */
#define PSI_PEERS_FINGERPRINT_MAX 40u
void psi_peers_fingerprint(const unsigned char key[32], char out[PSI_PEERS_FINGERPRINT_MAX]);

#endif
