/* Transactions and small helpers shared by every store backend. */
#include <stdlib.h>
#include <string.h>

#include "psi/error.h"
#include "store.h"

int psi_txn_begin(struct psi_txn *t, const struct psi_store_ops *ops, struct psi_store *st,
                  enum psi_txn_kind kind)
{
    memset(t, 0, sizeof *t);
    int rc = ops->begin(st, kind);
    if (rc != 0)
        return rc;
    t->ops = ops;
    t->store = st;
    t->kind = kind;
    t->open = 1;
    return 0;
}

int psi_txn_commit(struct psi_txn *t)
{
    if (!t->open)
        return PSI_ERR_STATE;
    int rc = t->ops->commit(t->store);
    if (rc != 0)
        t->ops->rollback(t->store);
    t->open = 0;
    return rc;
}

void psi_txn_rollback(struct psi_txn *t)
{
    if (!t->open)
        return;
    t->ops->rollback(t->store);
    t->open = 0;
}

void psi_store_participant_clear(struct psi_store_participant *p)
{
    free(p->share_with);
    p->share_with = NULL;
    p->share_count = 0;
    free(p->party.share_with);
    p->party.share_with = NULL;
    p->party.share_count = 0;
}

static int listed(char (*ids)[PSI_STORE_ID_MAX + 1], size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

int psi_store_participant_allows(const struct psi_store_participant *p, const char *id)
{
    int operator_allows = p->share_all || listed(p->share_with, p->share_count, id);
    int party_allows = !p->party.set || p->party.share_all ||
                       listed(p->party.share_with, p->party.share_count, id);
    return operator_allows && party_allows;
}

int psi_store_participant_contribute_only(const struct psi_store_participant *p)
{
    return p->contribute_only || (p->party.set && p->party.contribute_only);
}

int psi_store_participant_effective_shares(const struct psi_store_participant *p, int *share_all,
                                           char (**ids)[PSI_STORE_ID_MAX + 1], size_t *count)
{
    *ids = NULL;
    *count = 0;
    *share_all = p->share_all && (!p->party.set || p->party.share_all);
    if (*share_all)
        return 0;
    /* One list bounds the result: the operator's, unless it shares with all. */
    int from_party = p->share_all;
    char(*from)[PSI_STORE_ID_MAX + 1] = from_party ? p->party.share_with : p->share_with;
    size_t n = from_party ? p->party.share_count : p->share_count;
    if (n == 0)
        return 0;
    *ids = malloc(n * sizeof **ids);
    if (*ids == NULL)
        return PSI_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (psi_store_participant_allows(p, from[i]))
            memcpy((*ids)[(*count)++], from[i], sizeof from[i]);
    return 0;
}
