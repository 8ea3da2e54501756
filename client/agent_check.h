/*
 * The checks an agent makes before it does any work on a set the hub lists.
 * The hub is trusted for availability, never for privacy (docs/trust.md), so
 * every check that protects this party rests on what the party itself holds:
 * a set is cross-blinded only if
 *   - this party's own policy (its state, never the hub's copy) shares with
 *     the owner;
 *   - the owner is a peer this party pinned: its admission (id, role, key) is
 *     a log entry proven included in a checkpoint this party verified, and
 *     the key the hub shows now is that key;
 *   - the owner signed the set, for this hub, with that pinned key;
 *   - the set fits this party's budget for the owner in the epoch.
 * The hub's word (its roster, the owner's policy as the hub holds it) can
 * only add refusals: it narrows, it never widens.
 *
 * Pure: a roster, a pinned peer, a task in; a verdict and a reason for a
 * person out.
 */
#ifndef PSI_CLIENT_AGENT_CHECK_H
#define PSI_CLIENT_AGENT_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "psi.pb-c.h"
#include "state.h"

/* What the agent knows of itself and its hub. */
struct psi_agent_self {
    const char *id;
    const unsigned char *public_key;       /* 32 bytes: this participant's identity key */
    const unsigned char *hub_key;          /* 32 bytes: the pinned hub key */
    const struct psi_state_policy *policy; /* this party's own policy */
    uint64_t peer_limit;                   /* elements per peer and epoch */
};

/* What the agent knows of the task's owner from its own state. */
struct psi_agent_owner {
    const struct psi_state_peer *pinned; /* NULL: no proven admission */
    uint64_t used; /* elements of the owner's sets in the epoch already taken on */
};

/* 1 if the policy shares with id, else 0. */
int psi_agent_policy_allows(const struct psi_state_policy *policy, const char *id);

/* 0 if the task may be worked on; otherwise PSI_ERR_DENIED (a check failed),
 * PSI_ERR_QUOTA (the set would pass the budget) or PSI_ERR_PROTOCOL (the
 * task is malformed), with the reason in reason. */
int psi_agent_check_task(const struct psi_agent_self *self, const Psi__Roster *roster,
                         const struct psi_agent_owner *owner, const char *list_epoch,
                         const Psi__Submission *task, char *reason, size_t reason_len);

/* 0 if the hub matches under this psi's mutual suite (psi/blind.h); else
 * PSI_ERR_PROTOCOL with a reason naming both suites. hub_suite is the
 * hub's HubInfo.mutual_suite (0, from a hub older than the field, is suite
 * 1, ristretto255). Submission and agent both ask it before any work: sets
 * of one suite never match sets of another, so working would only hide the
 * mismatch behind empty results. */
int psi_agent_check_suite(uint32_t hub_suite, char *reason, size_t reason_len);

/* The mutual suite this psi announces (SubmitCommit and CrossBlindCommit's
 * mutual_suite) and checks the hub's against: psi_mutual_suite(). In a
 * test-hook build (PSI_TEST_HOOKS) the environment variable
 * PSI_TEST_MUTUAL_SUITE_CLAIM=N makes it claim suite N instead, as a psi
 * of another suite would (tests/e2e/mutual_suite.sh). */
#define PSI_TEST_MUTUAL_SUITE_CLAIM_ENV "PSI_TEST_MUTUAL_SUITE_CLAIM"
unsigned psi_client_mutual_suite(void);

/* The elements of a set, before the key touches any: 0 if each of the count
 * 32-byte elements is an element of this psi's suite; otherwise
 * PSI_ERR_ENCODING or PSI_ERR_IDENTITY, *bad_index the first bad one and a
 * reason naming it. For X25519 (psi_curve25519_check_u): a u-coordinate at
 * or above 2^255 - 19 or with its top bit set is not canonical (two
 * encodings of one point would let an owner plant a set whose "different"
 * elements tag alike); a small-order u (0, 1, 2^255 - 20, the two of order
 * 8) gives the all-zero result or a point independent of the key, which
 * would match across unrelated parties. For ristretto255: decodes, not the
 * identity. */
int psi_agent_check_elements(const unsigned char *elements, size_t count, size_t *bad_index,
                             char *reason, size_t reason_len);

#endif
