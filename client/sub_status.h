/*
 * Where this participant's submissions of an epoch stand: the hub's "status"
 * method, checked, and the one line that says whether results are complete
 * (psi status, psi results and its --wait).
 */
#ifndef PSI_CLIENT_SUB_STATUS_H
#define PSI_CLIENT_SUB_STATUS_H

#include <stddef.h>

#include "hub_client.h"
#include "psi.pb-c.h"

/* Asks the hub for the status of epoch (""/NULL: the current one) and checks
 * the answer (the epoch asked, valid ids, none of them this participant's
 * own). 0 with *out (free with psi__status__free_unpacked), else a negative
 * code with f filled (f->refused and PSI_ERR_PROTOCOL: a hub older than the
 * method). */
int psi_sub_status_fetch(struct psi_hub_client *hub, const char *me, const char *epoch,
                         Psi__Status **out, struct psi_hub_failure *f);

/* 1 when every peer that may cross-blind this participant's submissions has,
 * and its own agent has no set of a peer left: the results of the epoch are
 * all there will be until somebody submits again. */
int psi_sub_status_complete(const Psi__Status *st);

/* "complete: all 3 peers have cross-blinded your 2 submissions" or
 * "incomplete: ke-dci has not yet cross-blinded submission 7; ..." */
void psi_sub_status_line(const Psi__Status *st, char *out, size_t cap);

/* How many distinct peers the status names. */
size_t psi_sub_status_peers(const Psi__Status *st);

#endif
