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
}
