/* The hub's side of the audit log (see log.h). */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "psi/error.h"
#include "psi/ident.h"

/* ---------------------------------------------------------------- the tree in the store */

static int read_leaf(void *ctx, uint64_t index, unsigned char hash[32])
{
    struct psi_txn *t = ctx;
    int rc = t->ops->log_hash_get(t, 0, index, hash);
    /* A leaf hash inside the tree is never missing: that would be damage. */
    return rc == PSI_ERR_NOT_FOUND ? PSI_ERR_STORE : rc;
}

static int read_subtree(void *ctx, unsigned level, uint64_t index, unsigned char hash[32])
{
    struct psi_txn *t = ctx;
    return t->ops->log_hash_get(t, level, index, hash);
}

static int store_subtree(void *ctx, unsigned level, uint64_t index, const unsigned char hash[32])
{
    struct psi_txn *t = ctx;
    return t->ops->log_hash_put(t, level, index, hash);
}

/* The frontier as the store holds it; empty before the first append. */
static int head(struct psi_txn *t, struct psi_merkle_frontier *frontier, char *checkpoint,
                size_t cap)
{
    int rc = t->ops->log_head_get(t, frontier, checkpoint, cap);
    if (rc == PSI_ERR_NOT_FOUND) {
        psi_merkle_frontier_init(frontier);
        if (checkpoint != NULL && cap > 0)
            checkpoint[0] = '\0';
        return 0;
    }
    return rc;
}

int psi_hub_log_append(struct psi_txn *t, const struct psi_logentry *entry, uint64_t *index)
{
    unsigned char *bytes = malloc(PSI_LOGENTRY_MAX_BYTES);
    struct psi_merkle_frontier *frontier = malloc(sizeof *frontier);
    size_t len = 0;
    int rc = bytes && frontier ? 0 : PSI_ERR_NOMEM;
    if (rc == 0)
        rc = psi_logentry_encode(bytes, PSI_LOGENTRY_MAX_BYTES, &len, entry);
    if (rc == 0)
        rc = head(t, frontier, NULL, 0);
    if (rc == 0) {
        uint64_t at = frontier->size;
        unsigned char leaf[32];
        psi_merkle_leaf_hash(leaf, bytes, len);
        rc = t->ops->log_entry_put(t, at, bytes, len);
        if (rc == 0)
            rc = t->ops->log_hash_put(t, 0, at, leaf);
        if (rc == 0)
            rc = psi_merkle_frontier_append(frontier, leaf, store_subtree, t);
        /* The stored checkpoint stays until the write is sealed. */
        if (rc == 0)
            rc = t->ops->log_head_put(t, frontier, NULL);
        if (rc == 0 && index != NULL)
            *index = at;
    }
    free(bytes);
    free(frontier);
    return rc;
}

/* ---------------------------------------------------------------- entries of the hub */

static int by_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int psi_hub_log_roster(struct psi_txn *t, enum psi_logentry_kind kind,
                       const struct psi_store_participant *p, uint64_t now_ms, uint64_t *index)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.time_ms = now_ms;
    struct psi_logentry_roster *r = &e.u.roster;
    snprintf(r->participant, sizeof r->participant, "%s", p->id);
    r->role = psi_role_parse(p->role);
    memcpy(r->public_key, p->public_key, 32);
    r->share_all = p->share_all != 0;
    r->contribute_only = p->contribute_only != 0;
    if (r->share_all)
        return psi_hub_log_append(t, &e, index);

    /* The list in byte order without repeats: the one encoding it has. */
    const char **ids = malloc((p->share_count ? p->share_count : 1) * sizeof *ids);
    unsigned char *list = malloc((size_t)PSI_LOGENTRY_SHARE_MAX * (PSI_LOGENTRY_ID_MAX + 1U));
    int rc = ids && list ? 0 : PSI_ERR_NOMEM;
    size_t n = 0, len = 0;
    for (size_t i = 0; rc == 0 && i < p->share_count; i++)
        ids[n++] = p->share_with[i];
    if (rc == 0) {
        qsort(ids, n, sizeof *ids, by_id);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            if (kept == 0 || strcmp(ids[kept - 1], ids[i]) != 0)
                ids[kept++] = ids[i];
        n = kept;
        if (n > PSI_LOGENTRY_SHARE_MAX)
            rc = PSI_ERR_TOO_LARGE;
    }
    if (rc == 0)
        rc = psi_logentry_share_list_build(
            list, (size_t)PSI_LOGENTRY_SHARE_MAX * (PSI_LOGENTRY_ID_MAX + 1U), &len, ids, n);
    if (rc == 0) {
        r->share_count = n;
        r->share_list = len ? list : NULL;
        r->share_list_len = len;
        rc = psi_hub_log_append(t, &e, index);
    }
    free(ids);
    free(list);
    return rc;
}

int psi_hub_log_refusal(struct psi_txn *t, int code, int authenticated, const char *participant,
                        const char *method, const uint8_t *frame, size_t frame_len, uint64_t now_ms)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_REFUSAL;
    e.time_ms = now_ms;
    struct psi_logentry_refusal *r = &e.u.refusal;
    r->code = code;
    r->authenticated = authenticated != 0;
    /* What the request claimed is kept only where it is a valid id/method:
     * the entry must have an encoding whatever a stranger sent. */
    if (participant != NULL && psi_id_is_valid(participant))
        snprintf(r->participant, sizeof r->participant, "%s", participant);
    if (method != NULL && psi_method_name_is_valid(method))
        snprintf(r->method, sizeof r->method, "%s", method);
    if (r->authenticated && r->participant[0] == '\0')
        r->authenticated = 0;
    crypto_hash_sha256(r->frame_digest, frame, frame_len);
    return psi_hub_log_append(t, &e, NULL);
}

/* ---------------------------------------------------------------- the entries of the hub's writes
 */

static void entry_init(struct psi_logentry *e, enum psi_logentry_kind kind, uint64_t now_ms)
{
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->time_ms = now_ms;
}

int psi_hub_log_submission(struct psi_txn *t, const struct psi_store_submission *sub,
                           uint64_t now_ms, uint64_t *index)
{
    struct psi_logentry e;
    entry_init(&e, PSI_LOGENTRY_SUBMISSION, now_ms);
    struct psi_logentry_submission *l = &e.u.submission;
    snprintf(l->participant, sizeof l->participant, "%s", sub->owner);
    snprintf(l->epoch, sizeof l->epoch, "%s", sub->epoch);
    l->submission_id = sub->id;
    l->count = sub->count;
    l->position_base = sub->position_base;
    memcpy(l->digest, sub->digest, sizeof l->digest);
    memcpy(l->signature, sub->signature, sizeof l->signature);
    return psi_hub_log_append(t, &e, index);
}

int psi_hub_log_crossblind(struct psi_txn *t, const struct psi_store_submission *sub,
                           const struct psi_store_crossblind *cb, uint64_t owner_matched,
                           uint64_t blinder_matched, uint64_t now_ms, uint64_t *index)
{
    struct psi_logentry e;
    entry_init(&e, PSI_LOGENTRY_CROSSBLIND, now_ms);
    struct psi_logentry_crossblind *l = &e.u.crossblind;
    snprintf(l->participant, sizeof l->participant, "%s", cb->blinder);
    l->submission_id = cb->submission_id;
    l->count = cb->count;
    memcpy(l->tag_digest, cb->tag_digest, sizeof l->tag_digest);
    memcpy(l->signature, cb->signature, sizeof l->signature);
    int rc = psi_hub_log_append(t, &e, index);
    if (rc != 0)
        return rc;
    /* The pair in byte order, as the entry's encoding has it. */
    struct psi_logentry m;
    entry_init(&m, PSI_LOGENTRY_MATCH, now_ms);
    struct psi_logentry_match *p = &m.u.match;
    int owner_first = strcmp(sub->owner, cb->blinder) < 0;
    snprintf(p->epoch, sizeof p->epoch, "%s", sub->epoch);
    snprintf(p->participant_a, sizeof p->participant_a, "%s",
             owner_first ? sub->owner : cb->blinder);
    snprintf(p->participant_b, sizeof p->participant_b, "%s",
             owner_first ? cb->blinder : sub->owner);
    p->matched_a = owner_first ? owner_matched : blinder_matched;
    p->matched_b = owner_first ? blinder_matched : owner_matched;
    return psi_hub_log_append(t, &m, NULL);
}

int psi_hub_log_epoch_key(struct psi_txn *t, const struct psi_store_feed_key *key, uint64_t now_ms,
                          uint64_t *index)
{
    struct psi_logentry e;
    entry_init(&e, PSI_LOGENTRY_EPOCH_KEY, now_ms);
    struct psi_logentry_epoch_key *l = &e.u.epoch_key;
    snprintf(l->participant, sizeof l->participant, "%s", key->vendor);
    snprintf(l->epoch, sizeof l->epoch, "%s", key->epoch);
    memcpy(l->public_key, key->public_key, sizeof l->public_key);
    memcpy(l->signature, key->signature, sizeof l->signature);
    return psi_hub_log_append(t, &e, index);
}

int psi_hub_log_feed(struct psi_txn *t, const struct psi_store_feed *feed, uint64_t now_ms,
                     uint64_t *index)
{
    struct psi_logentry e;
    entry_init(&e, PSI_LOGENTRY_FEED, now_ms);
    struct psi_logentry_feed *l = &e.u.feed;
    snprintf(l->participant, sizeof l->participant, "%s", feed->vendor);
    snprintf(l->epoch, sizeof l->epoch, "%s", feed->epoch);
    l->count = feed->count;
    l->size = feed->size;
    memcpy(l->feed_digest, feed->digest, sizeof l->feed_digest);
    memcpy(l->signature, feed->signature, sizeof l->signature);
    return psi_hub_log_append(t, &e, index);
}

int psi_hub_log_query(struct psi_txn *t, const struct psi_store_query *q,
                      const unsigned char elements_digest[32], uint64_t now_ms, uint64_t *index)
{
    struct psi_logentry e;
    entry_init(&e, PSI_LOGENTRY_QUERY, now_ms);
    struct psi_logentry_query *l = &e.u.query;
    snprintf(l->participant, sizeof l->participant, "%s", q->agency);
    snprintf(l->vendor, sizeof l->vendor, "%s", q->vendor);
    snprintf(l->epoch, sizeof l->epoch, "%s", q->epoch);
    l->count = q->count;
    memcpy(l->elements_digest, elements_digest, sizeof l->elements_digest);
    memcpy(l->signature, q->signature, sizeof l->signature);
    return psi_hub_log_append(t, &e, index);
}

int psi_hub_log_quota(struct psi_txn *t, const char *agency, const char *vendor, uint64_t limit,
                      uint64_t now_ms)
{
    struct psi_logentry e;
    entry_init(&e, PSI_LOGENTRY_QUOTA, now_ms);
    snprintf(e.u.quota.agency, sizeof e.u.quota.agency, "%s", agency);
    snprintf(e.u.quota.vendor, sizeof e.u.quota.vendor, "%s", vendor);
    e.u.quota.limit = limit;
    return psi_hub_log_append(t, &e, NULL);
}

/* ---------------------------------------------------------------- checkpoints and receipts */

static int sign_checkpoint(const struct psi_identity *hub,
                           const struct psi_merkle_frontier *frontier, char *out, size_t cap)
{
    struct psi_note_signer signer;
    struct psi_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", hub->name);
    cp.size = frontier->size;
    psi_merkle_frontier_root(cp.root, frontier);
    /* The identity's secret key is libsodium's seed || public key. */
    int rc = psi_note_signer_from_seed(&signer, hub->name, hub->secret_key);
    if (rc == 0) {
        size_t len = 0;
        rc = psi_checkpoint_sign(out, cap, &len, &cp, &signer);
    }
    psi_note_signer_wipe(&signer);
    return rc;
}

int psi_hub_log_seal(struct psi_txn *t, const struct psi_identity *hub, char **note)
{
    struct psi_merkle_frontier *frontier = malloc(sizeof *frontier);
    char *checkpoint = malloc(PSI_HUB_CHECKPOINT_MAX);
    int rc = frontier && checkpoint ? 0 : PSI_ERR_NOMEM;
    if (rc == 0)
        rc = head(t, frontier, NULL, 0);
    if (rc == 0)
        rc = sign_checkpoint(hub, frontier, checkpoint, PSI_HUB_CHECKPOINT_MAX);
    if (rc == 0)
        rc = t->ops->log_head_put(t, frontier, checkpoint);
    free(frontier);
    if (rc == 0 && note != NULL)
        *note = checkpoint;
    else
        free(checkpoint);
    return rc;
}

int psi_hub_log_seal_receipt(struct psi_txn *t, const struct psi_identity *hub, uint64_t index,
                             char **receipt)
{
    char *note = NULL;
    uint8_t *entry = NULL;
    size_t entry_len = 0;
    struct psi_tlog_proof *proof = malloc(sizeof *proof);
    *receipt = NULL;
    int rc = proof ? psi_hub_log_seal(t, hub, &note) : PSI_ERR_NOMEM;
    /* The tree just sealed: its size is the head's. */
    uint64_t size = 0;
    if (rc == 0) {
        struct psi_merkle_frontier f;
        rc = head(t, &f, NULL, 0);
        size = f.size;
    }
    if (rc == 0)
        rc = psi_hub_log_entry(t, index, &entry, &entry_len);
    if (rc == 0) {
        memset(proof, 0, sizeof *proof);
        proof->index = index;
        unsigned char path[PSI_MERKLE_MAX_PROOF_HASHES][32];
        size_t count = 0;
        rc = psi_hub_log_inclusion(t, index, size, path, &count);
        /* An inclusion proof has at most 64 hashes, as a receipt holds. */
        if (rc == 0 && count > PSI_MERKLE_MAX_INCLUSION_HASHES)
            rc = PSI_ERR_STATE;
        if (rc == 0) {
            memcpy(proof->hashes, path, count * 32);
            proof->hash_count = count;
        }
    }
    if (rc == 0) {
        proof->extra = entry;
        proof->extra_len = entry_len;
        proof->checkpoint = note;
        proof->checkpoint_len = strlen(note);
        size_t cap = 64u + sodium_base64_ENCODED_LEN(entry_len, sodium_base64_VARIANT_ORIGINAL) +
                     (size_t)proof->hash_count * 46u + proof->checkpoint_len + 16u;
        char *text = malloc(cap);
        size_t len = 0;
        rc = text ? psi_tlog_proof_format(text, cap, &len, proof) : PSI_ERR_NOMEM;
        if (rc == 0)
            *receipt = text;
        else
            free(text);
    }
    free(entry);
    free(note);
    free(proof);
    return rc;
}

/* ---------------------------------------------------------------- reads */

int psi_hub_log_latest(struct psi_txn *t, uint64_t *size, char *checkpoint, size_t cap)
{
    struct psi_merkle_frontier f;
    int rc = t->ops->log_head_get(t, &f, checkpoint, cap);
    if (rc != 0)
        return rc;
    if (checkpoint[0] == '\0')
        return PSI_ERR_NOT_FOUND;
    /* Sealing follows every append in the same transaction, so a committed
     * head's size is its checkpoint's; the checkpoint is what is promised. */
    size_t text_len = 0;
    struct psi_checkpoint cp;
    const char *sep = strstr(checkpoint, "\n\n");
    if (sep == NULL)
        return PSI_ERR_STORE;
    text_len = (size_t)(sep - checkpoint) + 1;
    if (psi_checkpoint_parse(&cp, checkpoint, text_len) != 0)
        return PSI_ERR_STORE;
    *size = cp.size;
    return 0;
}

int psi_hub_log_entry(struct psi_txn *t, uint64_t index, uint8_t **entry, size_t *len)
{
    return t->ops->log_entry_get(t, index, entry, len);
}

int psi_hub_log_inclusion(struct psi_txn *t, uint64_t index, uint64_t size,
                          unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], size_t *count)
{
    struct psi_merkle_reader reader = {t, read_leaf, read_subtree};
    return psi_merkle_inclusion_proof(proof, count, &reader, index, size);
}

int psi_hub_log_consistency(struct psi_txn *t, uint64_t old_size, uint64_t new_size,
                            unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], size_t *count)
{
    struct psi_merkle_reader reader = {t, read_leaf, read_subtree};
    return psi_merkle_consistency_proof(proof, count, &reader, old_size, new_size);
}
