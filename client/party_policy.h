/*
 * Telling the hub this participant's own policy.
 *
 * The policy itself lives in the participant's state (state.h) and is what
 * its agent enforces; the hub's copy is only a narrowing of the operator's
 * policy, so that the hub lists no work the agent would refuse and the log
 * shows what each party stated. The statement is signed (psi_policy_statement,
 * psi/logentry.h) and logged by the hub as a PARTY_POLICY entry.
 */
#ifndef PSI_CLIENT_PARTY_POLICY_H
#define PSI_CLIENT_PARTY_POLICY_H

#include <stddef.h>

#include "cli.h"
#include "hub_client.h"
#include "state.h"

/* Signs the policy (as recorded, with its issued_ms) and sends it with
 * policy.set; on the hub's receipt, records it as sent and keeps the receipt
 * checked (log_view.h). 0, or non-zero with one line in why. */
int psi_party_policy_send(struct psi_cli_session *s, struct psi_hub_client *hub,
                          const struct psi_state_policy *policy, char *why, size_t whylen);

#endif
