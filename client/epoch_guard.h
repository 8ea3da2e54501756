/*
 * Epochs follow the participant's clock, never the hub's word alone.
 *
 * An epoch's label picks the blinding key and the tags, so a hub that kept
 * one epoch forever could link a party's sets across weeks, and a hub that
 * went back to a past epoch could get work done under that epoch's keys.
 * Before a command uses an epoch (submit, the agent's round, feed publish
 * and query), psi_epoch_guard_admit decides on this side:
 *
 *  - in the hub's week or day mode the label must be the ISO week
 *    (YYYY-Www) or UTC day (YYYY-MM-DD) this machine's clock says it is now
 *    (by psi/epoch.h, the rule the hub derives its label with),
 *    or the neighbouring one within PSI_EPOCH_GUARD_TOLERANCE_MS of the
 *    boundary (two clocks are never exactly equal);
 *  - any other label (the hub's manual mode, or a mode it does not say) is
 *    taken only once the party accepted it with `psi epoch --accept LABEL`,
 *    whatever it looks like: a manual label that reads like a week is still
 *    the operator's choice, not the calendar's;
 *  - never back: every epoch admitted is recorded in the state, a week or
 *    day label older than one used before is refused, and a label used
 *    before is refused once another has been used since.
 *
 * A hub that lies about its mode gains nothing: "manual" needs the party's
 * word, "week"/"day" needs the clock's. Every refusal is one line in why.
 */
#ifndef PSI_CLIENT_EPOCH_GUARD_H
#define PSI_CLIENT_EPOCH_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "hub_client.h"
#include "state.h"

/* How far from a week or day boundary the neighbouring label is still taken:
 * two hours covers clocks that disagree by minutes and a hub whose epoch
 * turned over a little before or after ours, and no more. */
#define PSI_EPOCH_GUARD_TOLERANCE_MS ((int64_t)2 * 3600 * 1000)

/* The hub's epoch modes as HubInfo.epoch_mode names them. */
#define PSI_EPOCH_MODE_WEEK "week"
#define PSI_EPOCH_MODE_DAY "day"
#define PSI_EPOCH_MODE_MANUAL "manual"

/* Admits label, announced by a hub in hub_mode ("week", "day", "manual";
 * NULL or anything else counts as manual) at now_ms (unix ms, this machine's
 * clock), and records its use in st. 0, or PSI_ERR_EPOCH (refused: the one
 * line is in why), PSI_ERR_STORE / PSI_ERR_INVALID with why. */
int psi_epoch_guard_admit(struct psi_state *st, const char *hub_mode, const char *label,
                          int64_t now_ms, char *why, size_t whylen);

/* For a command that holds a label from another answer (the agent's work
 * list): asks the hub's "info" for its epoch mode and admits label with it
 * at this machine's time. 0, or non-zero with why. */
int psi_epoch_guard_admit_hub(struct psi_cli_session *s, struct psi_hub_client *hub,
                              const char *label, char *why, size_t whylen);

/* Now, by this machine's clock, in unix ms. */
int64_t psi_epoch_guard_now_ms(void);

#endif
