/* The hub's "status" of this participant's submissions (sub_status.h). */
#include "sub_status.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "methods.h"
#include "psi/error.h"
#include "psi/ident.h"

static int peer_ok(const char *id, const char *me)
{
    return psi_id_is_valid(id) && strcmp(id, me) != 0;
}

int psi_sub_status_fetch(struct psi_hub_client *hub, const char *me, const char *epoch,
                         Psi__Status **out, struct psi_hub_failure *f)
{
    *out = NULL;
    Psi__StatusRequest req = PSI__STATUS_REQUEST__INIT;
    req.epoch = (char *)(epoch ? epoch : "");
    Psi__Status *st = NULL;
    int rc = psi_hub_client_call(hub, PSI_METHOD_NAME(STATUS), NULL, &req.base,
                                 &psi__status__descriptor, (ProtobufCMessage **)&st, f);
    if (rc)
        return rc;
    const char *bad = NULL;
    if (!psi_epoch_label_is_valid(st->epoch) ||
        (epoch && epoch[0] && strcmp(st->epoch, epoch) != 0))
        bad = "the hub answered for another epoch than the one asked";
    for (size_t i = 0; !bad && i < st->n_submissions; i++) {
        const Psi__SubmissionStatus *s = st->submissions[i];
        for (size_t k = 0; !bad && k < s->n_done; k++)
            if (!peer_ok(s->done[k], me))
                bad = "the hub's status names an invalid peer";
        for (size_t k = 0; !bad && k < s->n_pending; k++)
            if (!peer_ok(s->pending[k], me))
                bad = "the hub's status names an invalid peer";
    }
    if (bad) {
        psi__status__free_unpacked(st, NULL);
        f->code = PSI_ERR_PROTOCOL;
        f->refused = 0;
        snprintf(f->text, sizeof f->text, "%s", bad);
        return PSI_ERR_PROTOCOL;
    }
    *out = st;
    return 0;
}

int psi_sub_status_complete(const Psi__Status *st)
{
    if (st->own_pending > 0)
        return 0;
    for (size_t i = 0; i < st->n_submissions; i++)
        if (st->submissions[i]->n_pending > 0)
            return 0;
    return 1;
}

/* The n-th id the status names (done, then pending, submission by
 * submission), or NULL past the last. */
static const char *nth_peer(const Psi__Status *st, size_t n)
{
    for (size_t i = 0; i < st->n_submissions; i++) {
        const Psi__SubmissionStatus *s = st->submissions[i];
        if (n < s->n_done)
            return s->done[n];
        n -= s->n_done;
        if (n < s->n_pending)
            return s->pending[n];
        n -= s->n_pending;
    }
    return NULL;
}

size_t psi_sub_status_peers(const Psi__Status *st)
{
    size_t distinct = 0;
    const char *id;
    for (size_t n = 0; (id = nth_peer(st, n)) != NULL; n++) {
        size_t k = 0;
        while (k < n && strcmp(nth_peer(st, k), id) != 0)
            k++;
        distinct += k == n;
    }
    return distinct;
}

#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (at < cap) {                                                                            \
            int w_ = snprintf(out + at, cap - at, __VA_ARGS__);                                    \
            at += w_ > 0 ? (size_t)w_ : 0;                                                         \
        }                                                                                          \
    } while (0)

void psi_sub_status_line(const Psi__Status *st, char *out, size_t cap)
{
    size_t at = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    size_t subs = st->n_submissions, peers = psi_sub_status_peers(st);
    if (psi_sub_status_complete(st)) {
        if (subs == 0)
            APPEND("complete: no submission of yours in epoch %s", st->epoch);
        else if (peers == 0)
            APPEND("complete: no peer may cross-blind your %zu submission%s", subs,
                   subs == 1 ? "" : "s");
        else
            APPEND("complete: %s %zu peer%s ha%s cross-blinded your %zu submission%s",
                   peers == 1 ? "the" : "all", peers, peers == 1 ? "" : "s",
                   peers == 1 ? "s" : "ve", subs, subs == 1 ? "" : "s");
        return;
    }
    APPEND("incomplete: ");
    int first = 1;
    for (size_t i = 0; i < subs; i++) {
        const Psi__SubmissionStatus *s = st->submissions[i];
        if (s->n_pending == 0)
            continue;
        APPEND("%s", first ? "" : "; ");
        first = 0;
        for (size_t k = 0; k < s->n_pending; k++)
            APPEND("%s%s", k == 0 ? "" : (k + 1 == s->n_pending ? " and " : ", "), s->pending[k]);
        APPEND(" ha%s not yet cross-blinded submission %" PRIu64, s->n_pending == 1 ? "s" : "ve",
               s->submission_id);
    }
    if (st->own_pending > 0)
        APPEND("%syour agent has not yet cross-blinded %" PRIu64 " set%s of peers",
               first ? "" : "; ", st->own_pending, st->own_pending == 1 ? "" : "s");
    if (at >= cap && cap > 4)
        memcpy(out + cap - 4, "...", 4);
}
