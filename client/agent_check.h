/*
 * The checks an agent makes before it does any work on a set the hub lists:
 * a set is cross-blinded only if an active roster member whose role submits
 * sets signed it, for this hub, and both that member's policy and ours allow
 * the pair. This is what keeps a hub from making an agent blind guesses of
 * the hub's own choosing (PROTOCOL.md, "Why it is safe").
 *
 * Pure: a roster and a task in, a verdict and a reason for a person out.
 */
#ifndef PSI_CLIENT_AGENT_CHECK_H
#define PSI_CLIENT_AGENT_CHECK_H

#include <stddef.h>

#include "psi.pb-c.h"

/* What the agent knows of itself and its hub. */
struct psi_agent_self {
    const char *id;
    const unsigned char *public_key; /* 32 bytes: this participant's identity key */
    const unsigned char *hub_key;    /* 32 bytes: the pinned hub key */
};

/* 0 if the task may be worked on; otherwise PSI_ERR_DENIED (a check failed)
 * or PSI_ERR_PROTOCOL (the task is malformed), with the reason in reason. */
int psi_agent_check_task(const struct psi_agent_self *self, const Psi__Roster *roster,
                         const char *list_epoch, const Psi__Submission *task, char *reason,
                         size_t reason_len);

#endif
