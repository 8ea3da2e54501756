/* The agent's checks before any work (see agent_check.h). */
#include "agent_check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "digest.h"
#include "envelope.h"
#include "psi/blind.h"
#include "psi/curve25519.h"
#include "psi/error.h"
#include "psi/group.h"
#include "psi/ident.h"

static int verdict(int code, char *reason, size_t reason_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int verdict(int code, char *reason, size_t reason_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, reason_len, fmt, ap);
    va_end(ap);
    return code;
}

static const Psi__Participant *roster_find(const Psi__Roster *roster, const char *id)
{
    for (size_t i = 0; i < roster->n_participants; i++)
        if (roster->participants[i]->id && strcmp(roster->participants[i]->id, id) == 0)
            return roster->participants[i];
    return NULL;
}

/* True if the hub's copy of p's policy lets it share overlaps with other. */
static int roster_policy_allows(const Psi__Participant *p, const char *other)
{
    if (p->share_all)
        return 1;
    for (size_t i = 0; i < p->n_share_with; i++)
        if (p->share_with[i] && strcmp(p->share_with[i], other) == 0)
            return 1;
    return 0;
}

int psi_agent_policy_allows(const struct psi_state_policy *policy, const char *id)
{
    if (!policy)
        return 0;
    if (policy->share_all)
        return 1;
    for (size_t i = 0; i < policy->share_count; i++)
        if (strcmp(policy->share_with[i], id) == 0)
            return 1;
    return 0;
}

static int role_submits(const char *role)
{
    enum psi_role r = psi_role_parse(role);
    return r == PSI_ROLE_AGENCY || r == PSI_ROLE_VENDOR;
}

int psi_agent_check_task(const struct psi_agent_self *self, const Psi__Roster *roster,
                         const struct psi_agent_owner *owner_state, const char *list_epoch,
                         const Psi__Submission *t, char *reason, size_t reason_len)
{
    /* The task's own fields first: nothing below prints or compares a
     * string that has not been checked. */
    if (!psi_id_is_valid(t->owner))
        return verdict(PSI_ERR_PROTOCOL, reason, reason_len, "the task names no valid owner");
    if (!psi_epoch_label_is_valid(t->epoch))
        return verdict(PSI_ERR_PROTOCOL, reason, reason_len, "the task names no valid epoch");
    if (t->digest.len != PSI_DIGEST_BYTES || t->signature.len != PSI_SIGNATURE_BYTES)
        return verdict(PSI_ERR_PROTOCOL, reason, reason_len,
                       "the task's digest or signature has the wrong size");
    if (t->count == 0)
        return verdict(PSI_ERR_PROTOCOL, reason, reason_len, "the task is an empty set");
    if (strcmp(t->epoch, list_epoch) != 0)
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "the task is of epoch %s, the work list of %s", t->epoch, list_epoch);
    if (strcmp(t->owner, self->id) == 0)
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "the task is this participant's own set");

    /* This party's own rules, whatever the hub says. */
    if (!self->policy)
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "this participant has no sharing policy of its own (set one with "
                       "'psi policy')");
    if (!psi_agent_policy_allows(self->policy, t->owner))
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "this participant's own policy does not share with %s", t->owner);
    const struct psi_state_peer *pinned = owner_state ? owner_state->pinned : NULL;
    if (!pinned)
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "%s's admission is not proven in the hub's log: not a peer of this "
                       "participant",
                       t->owner);
    if (!role_submits(pinned->role))
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "%s was admitted as %s, not as an agency or a vendor", t->owner,
                       pinned->role);

    /* The hub's word can only narrow. */
    const Psi__Participant *owner = roster_find(roster, t->owner);
    if (!owner)
        return verdict(PSI_ERR_DENIED, reason, reason_len, "%s is not in the hub's roster",
                       t->owner);
    if (owner->removed)
        return verdict(PSI_ERR_DENIED, reason, reason_len, "%s has been removed from the roster",
                       t->owner);
    if (owner->public_key.len != 32 || memcmp(owner->public_key.data, pinned->public_key, 32) != 0)
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "the hub shows another key for %s than the one pinned from log entry "
                       "%" PRIu64,
                       t->owner, pinned->admit_index);
    const Psi__Participant *me = roster_find(roster, self->id);
    if (!me || me->removed)
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "this participant (%s) is not an active roster member", self->id);
    if (me->public_key.len != 32 || memcmp(me->public_key.data, self->public_key, 32) != 0)
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "the roster holds another key for this participant (%s)", self->id);
    if (!roster_policy_allows(owner, self->id))
        return verdict(PSI_ERR_DENIED, reason, reason_len, "%s's policy does not share with %s",
                       t->owner, self->id);
    if (!roster_policy_allows(me, t->owner))
        return verdict(PSI_ERR_DENIED, reason, reason_len,
                       "the hub's policy for %s does not share with %s", self->id, t->owner);

    if (psi_submission_verify(t->signature.data, pinned->public_key, self->hub_key,
                              t->digest.data) != 0)
        return verdict(
            PSI_ERR_DENIED, reason, reason_len,
            "the signature is not %s's (by its pinned key) over this digest for this hub",
            t->owner);
    uint64_t used = owner_state->used;
    if (used > self->peer_limit || t->count > self->peer_limit - used)
        return verdict(PSI_ERR_QUOTA, reason, reason_len,
                       "its %" PRIu64 " elements would take %s past this agent's limit of "
                       "%" PRIu64 " elements per peer and epoch (%" PRIu64
                       " taken on in %s already); refused whole",
                       t->count, t->owner, self->peer_limit, used, t->epoch);
    return 0;
}

unsigned psi_client_mutual_suite(void)
{
#ifdef PSI_TEST_HOOKS
    const char *claim = getenv(PSI_TEST_MUTUAL_SUITE_CLAIM_ENV);
    if (claim != NULL && claim[0] >= '1' && claim[0] <= '9' && claim[1] == '\0')
        return (unsigned)(claim[0] - '0');
#endif
    return psi_mutual_suite();
}

int psi_agent_check_suite(uint32_t hub_suite, char *reason, size_t reason_len)
{
    unsigned hub = hub_suite != 0 ? hub_suite : PSI_MUTUAL_SUITE_RISTRETTO255;
    unsigned mine = psi_client_mutual_suite();
    if (hub == mine)
        return 0;
    return verdict(PSI_ERR_PROTOCOL, reason, reason_len,
                   "the hub matches under mutual suite %u (%s), this psi under suite %u (%s): %s",
                   hub, psi_mutual_suite_name(hub), mine, psi_mutual_suite_name(mine),
                   hub < mine ? "the hub's psi-hub is older than this psi" : "upgrade psi");
}

int psi_agent_check_elements(const unsigned char *elements, size_t count, size_t *bad_index,
                             char *reason, size_t reason_len)
{
    int x25519 = psi_mutual_suite() == PSI_MUTUAL_SUITE_X25519;
    for (size_t i = 0; i < count; i++) {
        const unsigned char *e = elements + i * PSI_ELEMENT_BYTES;
        int rc = x25519 ? psi_curve25519_check_u(e) : psi_group_check_element(e);
        if (rc == 0)
            continue;
        *bad_index = i;
        if (!x25519)
            return verdict(rc, reason, reason_len, "element %zu is not a ristretto255 element (%s)",
                           i, rc == PSI_ERR_IDENTITY ? "the identity" : "does not decode");
        if (rc == PSI_ERR_ENCODING)
            return verdict(rc, reason, reason_len,
                           "element %zu is not a canonical X25519 u-coordinate (2^255 - 19 or "
                           "more, or its top bit set)",
                           i);
        return verdict(rc, reason, reason_len,
                       "element %zu is the u-coordinate of a small-order point (it would tag "
                       "alike under every key)",
                       i);
    }
    return 0;
}
