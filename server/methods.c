/*
 * The hub's methods (bodies as in psi.proto). Each runs inside the request's
 * transaction, checks every field that came off the wire before it uses it,
 * and on refusal says what was wrong in call->error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "epoch.h"
#include "hub.h"
#include "oplog.h"
#include "feeds.h"
#include "log.h"
#include "method_util.h"
#include "psi.pb-c.h"
#include "psi/blind.h"
#include "psi/error.h"
#include "psi/indicator.h"

static const char SUBMISSION_DST[] = "psi/submission/v1";
static const char SUBMISSION_SIG_DST[] = "psi/submission-sig/v1";
static const char TAGS_DST[] = "psi/tags/v1";
static const char CROSSBLIND_SIG_DST[] = "psi/crossblind-sig/v1";

static void put_u64be(unsigned char out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* ---------------------------------------------------------------- info, roster */

/* Elements and tags of one mutual suite mean nothing under another: a party
 * on another suite is refused whole, in one line naming both, never left to
 * find no matches. 0 is a client older than the field, all of suite 1. */
static int refuse_other_suite(struct psi_method_call *call, uint32_t claimed, const char *what)
{
    uint32_t suite = claimed != 0 ? claimed : PSI_MUTUAL_SUITE_RISTRETTO255;
    if (suite == psi_mutual_suite())
        return 0;
    return psi_method_refuse(
        call, PSI_ERR_PROTOCOL,
        "these %s are of mutual suite %u (%s); this hub matches under "
        "suite %u (%s): %s",
        what, (unsigned)suite, psi_mutual_suite_name(suite), psi_mutual_suite(),
        psi_mutual_suite_name(psi_mutual_suite()),
        suite < psi_mutual_suite() ? "upgrade psi" : "the hub's psi-hub is older than this psi");
}

int hub_method_info(struct psi_method_call *call)
{
    UNPACK(Psi__Empty, psi__empty__unpack, call);
    psi__empty__free_unpacked(msg, NULL);
    Psi__HubInfo info = PSI__HUB_INFO__INIT;
    info.name = (char *)call->hub->name;
    info.epoch = (char *)call->epoch;
    info.max_message_bytes = call->hub->max_message_bytes;
    info.max_chunk_elements = call->hub->max_chunk_elements;
    info.threshold = call->hub->threshold;
    info.indicator_rules = PSI_IOC_RULES_VERSION;
    info.notify_port = call->hub->notify_port;
    info.mutual_suite = psi_mutual_suite();
    /* The mode as the store's settings say, read in the same transaction as
     * the label: clients decide by it whether the clock or their party must
     * vouch for the label. */
    char mode[16] = "";
    if (call->txn->ops->meta_get(call->txn, PSI_META_EPOCH_MODE, mode, sizeof mode) == 0)
        info.epoch_mode = mode;
    return psi_method_reply(call, &info.base);
}

struct roster_build {
    struct psi_method_call *call;
    Psi__Participant **items;
    size_t n, cap;
};

/* One participant as the hub acts on it: its effective policy (the
 * operator's narrowed by its own statement), and the log entry that admitted
 * it, verbatim, so that a party can prove the admission included in a
 * checkpoint before it works for this id (docs/trust.md). */
static int roster_add(void *ctx, const struct psi_store_participant *p)
{
    struct roster_build *rb = ctx;
    void *room;
    if (psi_method_room(rb->items, rb->n, &rb->cap, sizeof(Psi__Participant *), 16, &room) != 0)
        return PSI_ERR_NOMEM;
    rb->items = room;
    Psi__Participant *q = calloc(1, sizeof *q);
    if (q == NULL)
        return PSI_ERR_NOMEM;
    psi__participant__init(q);
    rb->items[rb->n++] = q;
    int share_all = 0;
    char(*shares)[PSI_STORE_ID_MAX + 1] = NULL;
    size_t share_count = 0;
    int rc = psi_store_participant_effective_shares(p, &share_all, &shares, &share_count);
    if (rc != 0)
        return rc;
    q->id = strdup(p->id);
    q->role = strdup(p->role);
    q->public_key.data = malloc(PSI_STORE_KEY_BYTES);
    q->share_with = share_count ? calloc(share_count, sizeof *q->share_with) : NULL;
    if (q->id == NULL || q->role == NULL || q->public_key.data == NULL ||
        (share_count && q->share_with == NULL)) {
        free(shares);
        return PSI_ERR_NOMEM;
    }
    memcpy(q->public_key.data, p->public_key, PSI_STORE_KEY_BYTES);
    q->public_key.len = PSI_STORE_KEY_BYTES;
    q->removed = p->removed != 0;
    q->share_all = share_all != 0;
    q->contribute_only = psi_store_participant_contribute_only(p) != 0;
    for (size_t i = 0; i < share_count; i++) {
        q->share_with[i] = strdup(shares[i]);
        if (q->share_with[i] == NULL) {
            free(shares);
            return PSI_ERR_NOMEM;
        }
        q->n_share_with = i + 1;
    }
    free(shares);
    if (p->admit_logged) {
        uint8_t *entry = NULL;
        size_t len = 0;
        rc = psi_hub_log_entry(rb->call->txn, p->admit_index, &entry, &len);
        if (rc != 0)
            return rc == PSI_ERR_NOT_FOUND ? PSI_ERR_STORE : rc;
        q->admit_index = p->admit_index;
        q->admit_entry.data = entry;
        q->admit_entry.len = len;
    }
    return 0;
}

static void roster_free(struct roster_build *rb)
{
    for (size_t i = 0; i < rb->n; i++) {
        Psi__Participant *q = rb->items[i];
        free(q->id);
        free(q->role);
        free(q->public_key.data);
        free(q->admit_entry.data);
        for (size_t k = 0; k < q->n_share_with; k++)
            free(q->share_with[k]);
        free(q->share_with);
        free(q);
    }
    free(rb->items);
}

int hub_method_roster(struct psi_method_call *call)
{
    UNPACK(Psi__Empty, psi__empty__unpack, call);
    psi__empty__free_unpacked(msg, NULL);
    struct roster_build rb = {call, NULL, 0, 0};
    int rc = call->txn->ops->participant_list(call->txn, roster_add, &rb);
    if (rc == 0) {
        Psi__Roster roster = PSI__ROSTER__INIT;
        roster.participants = rb.items;
        roster.n_participants = rb.n;
        rc = psi_method_reply(call, &roster.base);
    }
    roster_free(&rb);
    return rc;
}

/* ---------------------------------------------------------------- uploads */

int hub_method_upload_chunk(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    const char *sender = call->sender->id;
    UNPACK(Psi__UploadChunk, psi__upload_chunk__unpack, call);
    int rc = 0;
    uint64_t received = 0, total = 0;
    if (msg->upload_id.len != PSI_STORE_UPLOAD_ID_BYTES) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "upload_id must be %d bytes, not %zu",
                               PSI_STORE_UPLOAD_ID_BYTES, msg->upload_id.len);
        goto out;
    }
    if (msg->items.len == 0) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "empty chunk");
        goto out;
    }
    const unsigned char *upload_id = msg->upload_id.data;
    rc = ops->staging_size(call->txn, sender, upload_id, &received, &total);
    if (rc != 0)
        goto out;
    uint64_t offset = msg->offset;
    size_t len = msg->items.len;
    if (offset > received) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL,
                               "chunk at byte %llu leaves a gap: the upload holds %llu bytes",
                               (unsigned long long)offset, (unsigned long long)received);
        goto out;
    }
    /* offset <= received, so the sums below cannot overflow. */
    size_t overlap = received - offset < len ? (size_t)(received - offset) : len;
    if (overlap > 0) {
        uint8_t *held = malloc(overlap);
        if (held == NULL) {
            rc = PSI_ERR_NOMEM;
            goto out;
        }
        rc = ops->staging_read(call->txn, sender, upload_id, offset, held, overlap);
        int same = rc == 0 && memcmp(held, msg->items.data, overlap) == 0;
        free(held);
        if (rc != 0)
            goto out;
        if (!same) {
            rc = psi_method_refuse(call, PSI_ERR_PROTOCOL,
                                   "chunk at byte %llu differs from the bytes already held",
                                   (unsigned long long)offset);
            goto out;
        }
    }
    size_t tail = len - overlap;
    if (tail > 0) {
        if (total + tail > call->hub->staging_limit) {
            rc = psi_method_refuse(call, PSI_ERR_QUOTA,
                                   "staging limit of %llu bytes per participant reached",
                                   (unsigned long long)call->hub->staging_limit);
            goto out;
        }
        rc = ops->staging_append(call->txn, sender, upload_id, received, msg->items.data + overlap,
                                 tail, call->now_ms);
        if (rc != 0)
            goto out;
        received += tail;
    }
    Psi__UploadAck ack = PSI__UPLOAD_ACK__INIT;
    ack.upload_id = msg->upload_id;
    ack.received = received;
    rc = psi_method_reply(call, &ack.base);
out:
    psi__upload_chunk__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- submissions */

static void submission_digest(const char *epoch, const char *sender, uint64_t count,
                              const uint8_t *elements, unsigned char digest[32])
{
    static const unsigned char zero = 0;
    unsigned char n[8];
    put_u64be(n, count);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)SUBMISSION_DST, strlen(SUBMISSION_DST));
    crypto_hash_sha256_update(&h, &zero, 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)epoch, strlen(epoch));
    crypto_hash_sha256_update(&h, &zero, 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)sender, strlen(sender));
    crypto_hash_sha256_update(&h, &zero, 1);
    crypto_hash_sha256_update(&h, n, sizeof n);
    crypto_hash_sha256_update(&h, elements, (size_t)count * PSI_STORE_ELEMENT_BYTES);
    crypto_hash_sha256_final(&h, digest);
}

static int submission_signature_ok(const unsigned char hub_key[32], const unsigned char digest[32],
                                   const unsigned char signature[64],
                                   const unsigned char owner_key[32])
{
    unsigned char m[sizeof SUBMISSION_SIG_DST + 32 + 32];
    memcpy(m, SUBMISSION_SIG_DST, sizeof SUBMISSION_SIG_DST); /* with its 0x00 */
    memcpy(m + sizeof SUBMISSION_SIG_DST, hub_key, 32);
    memcpy(m + sizeof SUBMISSION_SIG_DST + 32, digest, 32);
    return crypto_sign_verify_detached(signature, m, sizeof m, owner_key) == 0;
}

int hub_method_submit_commit(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    const char *sender = call->sender->id;
    UNPACK(Psi__SubmitCommit, psi__submit_commit__unpack, call);
    uint8_t *elements = NULL;
    char *log_receipt = NULL;
    int rc = 0;
    if (msg->upload_id.len != PSI_STORE_UPLOAD_ID_BYTES || msg->digest.len != 32 ||
        msg->signature.len != 64) {
        rc = psi_method_refuse(
            call, PSI_ERR_PROTOCOL,
            "submit.commit needs a 16-byte upload_id, a 32-byte digest and a 64-byte "
            "signature");
        goto out;
    }
    if (!psi_epoch_label_is_valid(msg->epoch)) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "invalid epoch label");
        goto out;
    }
    if (strcmp(msg->epoch, call->epoch) != 0) {
        rc = psi_method_refuse(call, PSI_ERR_EPOCH, "submission for epoch %s, current epoch is %s",
                               msg->epoch, call->epoch);
        goto out;
    }
    /* Sets canonicalised under other rules would not match where they should:
     * refused whole, before the quota is touched. The hub matches under its
     * own build's rules; 0 is a client older than the field, all of rules 1. */
    uint32_t rules = msg->indicator_rules != 0 ? msg->indicator_rules : 1u;
    if (rules != PSI_IOC_RULES_VERSION) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL,
                               "this submission was canonicalised under indicator rules %u; "
                               "epoch %s is under rules %u: %s",
                               (unsigned)rules, msg->epoch, (unsigned)PSI_IOC_RULES_VERSION,
                               rules < PSI_IOC_RULES_VERSION
                                   ? "upgrade psi"
                                   : "the hub's psi-hub is older than this psi");
        goto out;
    }
    if ((rc = refuse_other_suite(call, msg->mutual_suite, "elements")) != 0)
        goto out;
    if (msg->count == 0) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "empty submission");
        goto out;
    }
    /* The element quota, before anything is read: a submission that would
     * pass it is refused whole, and the refusal is logged. */
    uint64_t used = 0, limit = PSI_ELEMENT_QUOTA_DEFAULT;
    rc = ops->positions_in_epoch(call->txn, sender, msg->epoch, &used);
    if (rc == 0) {
        rc = ops->element_quota_get(call->txn, sender, &limit);
        if (rc == PSI_ERR_NOT_FOUND) {
            limit = PSI_ELEMENT_QUOTA_DEFAULT;
            rc = 0;
        }
    }
    if (rc != 0)
        goto out;
    if (used > limit || msg->count > limit - used) {
        rc = psi_method_refuse(call, PSI_ERR_QUOTA,
                               "element quota: %llu elements would pass it in epoch %s "
                               "(used %llu, limit %llu)",
                               (unsigned long long)msg->count, msg->epoch, (unsigned long long)used,
                               (unsigned long long)limit);
        goto out;
    }
    rc = psi_method_take_upload(call, msg->upload_id.data, msg->count, PSI_STORE_ELEMENT_BYTES,
                                &elements);
    if (rc != 0)
        goto out;
    unsigned char digest[32];
    submission_digest(msg->epoch, sender, msg->count, elements, digest);
    if (sodium_memcmp(digest, msg->digest.data, 32) != 0) {
        rc = psi_method_refuse(call, PSI_ERR_VERIFY,
                               "submission digest does not match the uploaded elements");
        goto out;
    }
    if (!submission_signature_ok(call->hub->identity.public_key, digest, msg->signature.data,
                                 call->sender->public_key)) {
        rc = psi_method_refuse(call, PSI_ERR_VERIFY, "bad submission signature");
        goto out;
    }
    for (uint64_t k = 0; k < msg->count; k++) {
        int bad = psi_method_mutual_element_check(elements + k * PSI_STORE_ELEMENT_BYTES);
        if (bad != 0) {
            rc = psi_method_refuse(call, PSI_ERR_ENCODING,
                                   "element %llu is not an element of mutual suite %u (%s): %s",
                                   (unsigned long long)k, psi_mutual_suite(),
                                   psi_mutual_suite_name(psi_mutual_suite()),
                                   bad == PSI_ERR_IDENTITY ? "a point of small order"
                                   : psi_mutual_suite() == PSI_MUTUAL_SUITE_X25519
                                       ? "not a canonical u-coordinate"
                                       : "not a valid non-identity ristretto255 point");
            goto out;
        }
    }
    struct psi_store_submission sub;
    memset(&sub, 0, sizeof sub);
    snprintf(sub.owner, sizeof sub.owner, "%s", sender);
    snprintf(sub.epoch, sizeof sub.epoch, "%s", msg->epoch);
    sub.count = msg->count;
    memcpy(sub.digest, digest, 32);
    memcpy(sub.signature, msg->signature.data, 64);
    rc = ops->positions_in_epoch(call->txn, sender, msg->epoch, &sub.position_base);
    if (rc == 0)
        rc = ops->submission_add(call->txn, &sub, elements, call->now_ms);
    if (rc == 0)
        rc = ops->staging_drop(call->txn, sender, msg->upload_id.data);
    /* The log entry, in the same transaction; the receipt proves it. */
    uint64_t index = 0;
    if (rc == 0)
        rc = psi_hub_log_submission(call->txn, &sub, call->now_ms, &index);
    if (rc == 0)
        rc = psi_hub_log_seal_receipt(call->txn, &call->hub->identity, index, &log_receipt);
    if (rc != 0)
        goto out;
    Psi__SubmitReceipt receipt = PSI__SUBMIT_RECEIPT__INIT;
    receipt.submission_id = sub.id;
    receipt.position_base = sub.position_base;
    receipt.receipt = log_receipt;
    rc = psi_method_reply(call, &receipt.base);
out:
    free(log_receipt);
    free(elements);
    psi__submit_commit__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- work */

struct work_build {
    Psi__Submission **items;
    size_t n, cap;
};

static int work_add(void *ctx, const struct psi_store_submission *s)
{
    struct work_build *wb = ctx;
    void *room;
    if (psi_method_room(wb->items, wb->n, &wb->cap, sizeof(Psi__Submission *), 16, &room) != 0)
        return PSI_ERR_NOMEM;
    wb->items = room;
    /* One allocation holds the message and copies of its fields. */
    struct task {
        Psi__Submission msg;
        struct psi_store_submission row;
    } *t = calloc(1, sizeof *t);
    if (t == NULL)
        return PSI_ERR_NOMEM;
    t->row = *s;
    psi__submission__init(&t->msg);
    t->msg.submission_id = t->row.id;
    t->msg.owner = t->row.owner;
    t->msg.epoch = t->row.epoch;
    t->msg.count = t->row.count;
    t->msg.digest.data = t->row.digest;
    t->msg.digest.len = sizeof t->row.digest;
    t->msg.signature.data = t->row.signature;
    t->msg.signature.len = sizeof t->row.signature;
    t->msg.position_base = t->row.position_base;
    wb->items[wb->n++] = &t->msg;
    return 0;
}

int hub_method_work_list(struct psi_method_call *call)
{
    UNPACK(Psi__Empty, psi__empty__unpack, call);
    psi__empty__free_unpacked(msg, NULL);
    struct work_build wb = {NULL, 0, 0};
    int rc = call->txn->ops->work_list(call->txn, call->sender->id, call->epoch, work_add, &wb);
    if (rc == 0) {
        Psi__WorkList list = PSI__WORK_LIST__INIT;
        list.epoch = (char *)call->epoch;
        list.tasks = wb.items;
        list.n_tasks = wb.n;
        rc = psi_method_reply(call, &list.base);
    }
    for (size_t i = 0; i < wb.n; i++)
        free(wb.items[i]); /* the struct task that starts with it */
    free(wb.items);
    return rc;
}

/* The submission with this id, or a refusal saying there is none. */
static int get_submission(struct psi_method_call *call, uint64_t id,
                          struct psi_store_submission *sub)
{
    int rc = call->txn->ops->submission_get(call->txn, id, sub);
    if (rc == PSI_ERR_NOT_FOUND)
        return psi_method_refuse(call, PSI_ERR_NOT_FOUND, "no submission %llu",
                                 (unsigned long long)id);
    return rc;
}

int hub_method_work_fetch(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    UNPACK(Psi__FetchRequest, psi__fetch_request__unpack, call);
    uint8_t *elements = NULL;
    int rc = 0;
    struct psi_store_submission sub;
    if (msg->limit == 0 || msg->limit > call->hub->max_chunk_elements) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "limit must be 1..%u elements",
                               call->hub->max_chunk_elements);
        goto out;
    }
    rc = get_submission(call, msg->submission_id, &sub);
    if (rc != 0)
        goto out;
    enum psi_work_status status;
    rc = ops->work_status(call->txn, call->sender->id, call->epoch, sub.id, &status);
    if (rc != 0)
        goto out;
    if (status == PSI_WORK_NONE) {
        rc = psi_method_refuse(call, PSI_ERR_DENIED, "submission %llu is not in your work",
                               (unsigned long long)sub.id);
        goto out;
    }
    if (msg->offset > sub.count) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "offset %llu is beyond the %llu elements",
                               (unsigned long long)msg->offset, (unsigned long long)sub.count);
        goto out;
    }
    uint64_t n = sub.count - msg->offset < msg->limit ? sub.count - msg->offset : msg->limit;
    elements = malloc(n > 0 ? (size_t)n * PSI_STORE_ELEMENT_BYTES : 1);
    if (elements == NULL) {
        rc = PSI_ERR_NOMEM;
        goto out;
    }
    rc = ops->elements_read(call->txn, sub.id, msg->offset, n, elements);
    if (rc != 0) {
        rc = rc == PSI_ERR_NOT_FOUND ? PSI_ERR_STORE : rc;
        goto out;
    }
    Psi__FetchReply reply = PSI__FETCH_REPLY__INIT;
    reply.submission_id = sub.id;
    reply.offset = msg->offset;
    reply.elements.data = elements;
    reply.elements.len = (size_t)n * PSI_STORE_ELEMENT_BYTES;
    rc = psi_method_reply(call, &reply.base);
out:
    free(elements);
    psi__fetch_request__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- cross-blind */

static void tag_digest_of(const uint8_t *tags, uint64_t count, unsigned char out[32])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)TAGS_DST, sizeof TAGS_DST);
    crypto_hash_sha256_update(&h, tags, (size_t)count * PSI_STORE_TAG_BYTES);
    crypto_hash_sha256_final(&h, out);
}

static int crossblind_signature_ok(const unsigned char hub_key[32],
                                   const unsigned char submission_digest[32], uint64_t count,
                                   const unsigned char tag_digest[32],
                                   const unsigned char signature[64],
                                   const unsigned char blinder_key[32])
{
    unsigned char m[sizeof CROSSBLIND_SIG_DST + 32 + 32 + 8 + 32];
    size_t at = 0;
    memcpy(m, CROSSBLIND_SIG_DST, sizeof CROSSBLIND_SIG_DST); /* with its 0x00 */
    at += sizeof CROSSBLIND_SIG_DST;
    memcpy(m + at, hub_key, 32);
    at += 32;
    memcpy(m + at, submission_digest, 32);
    at += 32;
    put_u64be(m + at, count);
    at += 8;
    memcpy(m + at, tag_digest, 32);
    return crypto_sign_verify_detached(signature, m, sizeof m, blinder_key) == 0;
}

int hub_method_crossblind_commit(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    const char *sender = call->sender->id;
    UNPACK(Psi__CrossBlindCommit, psi__cross_blind_commit__unpack, call);
    uint8_t *tags = NULL;
    char *log_receipt = NULL;
    int rc = 0;
    struct psi_store_submission sub;
    if (msg->upload_id.len != PSI_STORE_UPLOAD_ID_BYTES || msg->tag_digest.len != 32 ||
        msg->signature.len != 64) {
        rc = psi_method_refuse(
            call, PSI_ERR_PROTOCOL,
            "crossblind.commit needs a 16-byte upload_id, a 32-byte tag_digest and a "
            "64-byte signature");
        goto out;
    }
    if ((rc = refuse_other_suite(call, msg->mutual_suite, "tags")) != 0)
        goto out;
    rc = get_submission(call, msg->submission_id, &sub);
    if (rc != 0)
        goto out;
    if (strcmp(sub.epoch, call->epoch) != 0) {
        rc = psi_method_refuse(call, PSI_ERR_EPOCH,
                               "submission %llu is of epoch %s, current epoch is %s",
                               (unsigned long long)sub.id, sub.epoch, call->epoch);
        goto out;
    }
    enum psi_work_status status;
    rc = ops->work_status(call->txn, sender, call->epoch, sub.id, &status);
    if (rc != 0)
        goto out;
    if (status != PSI_WORK_PENDING) {
        rc = psi_method_refuse(call, PSI_ERR_DENIED,
                               status == PSI_WORK_DONE
                                   ? "submission %llu is already cross-blinded by you"
                                   : "submission %llu is not in your work",
                               (unsigned long long)sub.id);
        goto out;
    }
    if (msg->count != sub.count) {
        rc =
            psi_method_refuse(call, PSI_ERR_PROTOCOL, "%llu tags for a submission of %llu elements",
                              (unsigned long long)msg->count, (unsigned long long)sub.count);
        goto out;
    }
    rc = psi_method_take_upload(call, msg->upload_id.data, msg->count, PSI_STORE_TAG_BYTES, &tags);
    if (rc != 0)
        goto out;
    unsigned char digest[32];
    tag_digest_of(tags, msg->count, digest);
    if (sodium_memcmp(digest, msg->tag_digest.data, 32) != 0) {
        rc = psi_method_refuse(call, PSI_ERR_VERIFY, "tag digest does not match the uploaded tags");
        goto out;
    }
    if (!crossblind_signature_ok(call->hub->identity.public_key, sub.digest, msg->count, digest,
                                 msg->signature.data, call->sender->public_key)) {
        rc = psi_method_refuse(call, PSI_ERR_VERIFY, "bad cross-blind signature");
        goto out;
    }
    struct psi_store_crossblind cb;
    memset(&cb, 0, sizeof cb);
    cb.submission_id = sub.id;
    snprintf(cb.blinder, sizeof cb.blinder, "%s", sender);
    cb.count = msg->count;
    memcpy(cb.tag_digest, digest, 32);
    memcpy(cb.signature, msg->signature.data, 64);
    uint64_t matched = 0, peer_matched = 0;
    rc = ops->crossblind_add(call->txn, &cb, tags, call->now_ms, &matched, &peer_matched);
    if (rc == 0)
        rc = ops->staging_drop(call->txn, sender, msg->upload_id.data);
    /* The batch's entry, then the pair's match record, always, zero counts
     * included: were it written only when something matched, the log's size
     * (in every checkpoint a participant sees) would tell the cross-blinder
     * whether its batch matched (docs/trust.md). */
    uint64_t index = 0;
    if (rc == 0)
        rc = psi_hub_log_crossblind(call->txn, &sub, &cb, matched, peer_matched, call->now_ms,
                                    &index);
    if (rc == 0)
        rc = psi_hub_log_seal_receipt(call->txn, &call->hub->identity, index, &log_receipt);
    if (rc != 0)
        goto out;
    Psi__CrossBlindReceipt receipt = PSI__CROSS_BLIND_RECEIPT__INIT;
    receipt.submission_id = sub.id;
    receipt.receipt = log_receipt;
    rc = psi_method_reply(call, &receipt.base);
out:
    free(log_receipt);
    free(tags);
    psi__cross_blind_commit__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- a party's own policy */

static int by_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * policy.set: the sender's own statement of whom it shares with and whether
 * it takes results, signed over psi_policy_statement. From now on the hub
 * acts on the operator's policy narrowed by it (store.h), and it is logged
 * (PARTY_POLICY) so that auditors check the hub against the party's word.
 */
int hub_method_policy_set(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    const char *sender = call->sender->id;
    UNPACK(Psi__PolicySet, psi__policy_set__unpack, call);
    const char **ids = NULL;
    unsigned char *list = NULL, *statement = NULL;
    char *log_receipt = NULL;
    struct psi_store_party_policy pp;
    struct psi_store_participant me;
    memset(&pp, 0, sizeof pp);
    memset(&me, 0, sizeof me);
    int rc = 0;
    size_t n = msg->n_share_with;
    if (msg->signature.len != PSI_LOGENTRY_SIGNATURE_BYTES) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "policy.set needs a 64-byte signature");
        goto out;
    }
    if (msg->share_all && n > 0) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "share_all with a share list");
        goto out;
    }
    if (n > PSI_LOGENTRY_SHARE_MAX) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "a share list of at most %u ids",
                               PSI_LOGENTRY_SHARE_MAX);
        goto out;
    }
    /* The list in byte order, as the statement was signed over it. */
    ids = malloc((n ? n : 1) * sizeof *ids);
    list = malloc(n ? n * (PSI_LOGENTRY_ID_MAX + 1U) : 1);
    statement = malloc(PSI_POLICY_STATEMENT_MAX);
    pp.share_with = n ? calloc(n, sizeof *pp.share_with) : NULL;
    if (ids == NULL || list == NULL || statement == NULL || (n && pp.share_with == NULL)) {
        rc = PSI_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!psi_id_is_valid(msg->share_with[i])) {
            rc = psi_method_refuse(call, PSI_ERR_PROTOCOL,
                                   "share_with entry %zu is not a participant id", i);
            goto out;
        }
        ids[i] = msg->share_with[i];
    }
    qsort(ids, n, sizeof *ids, by_id);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(ids[i - 1], ids[i]) == 0) {
            rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "share_with names %s twice", ids[i]);
            goto out;
        }
    }
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_PARTY_POLICY;
    e.time_ms = call->now_ms;
    struct psi_logentry_party_policy *lp = &e.u.party_policy;
    snprintf(lp->participant, sizeof lp->participant, "%s", sender);
    lp->issued_ms = msg->issued_ms;
    lp->share_all = msg->share_all != 0;
    lp->contribute_only = msg->contribute_only != 0;
    size_t list_len = 0, statement_len = 0;
    rc = psi_logentry_share_list_build(list, n ? n * (PSI_LOGENTRY_ID_MAX + 1U) : 1, &list_len, ids,
                                       n);
    if (rc != 0)
        goto out;
    lp->share_count = n;
    lp->share_list = list_len ? list : NULL;
    lp->share_list_len = list_len;
    memcpy(lp->signature, msg->signature.data, PSI_LOGENTRY_SIGNATURE_BYTES);
    rc = psi_policy_statement(statement, PSI_POLICY_STATEMENT_MAX, &statement_len,
                              call->hub->identity.public_key, lp);
    if (rc != 0)
        goto out;
    if (crypto_sign_verify_detached(lp->signature, statement, statement_len,
                                    call->sender->public_key) != 0) {
        rc = psi_method_refuse(call, PSI_ERR_VERIFY, "bad policy signature");
        goto out;
    }
    /* Statements only move forward: an older one (a replay of a captured
     * request body, or one reordered on its way) cannot undo a newer one. */
    rc = ops->participant_get(call->txn, sender, &me);
    if (rc != 0)
        goto out;
    if (me.party.set && msg->issued_ms <= me.party.issued_ms) {
        rc = psi_method_refuse(call, PSI_ERR_STALE,
                               "policy statement issued at %llu ms, not after the one accepted "
                               "(issued at %llu ms)",
                               (unsigned long long)msg->issued_ms,
                               (unsigned long long)me.party.issued_ms);
        goto out;
    }
    uint64_t index = 0;
    rc = psi_hub_log_append(call->txn, &e, &index);
    if (rc != 0)
        goto out;
    pp.set = 1;
    pp.issued_ms = lp->issued_ms;
    pp.share_all = lp->share_all;
    pp.contribute_only = lp->contribute_only;
    for (size_t i = 0; i < n; i++)
        snprintf(pp.share_with[i], sizeof pp.share_with[i], "%s", ids[i]);
    pp.share_count = n;
    memcpy(pp.signature, lp->signature, sizeof pp.signature);
    pp.log_index = index;
    rc = ops->party_policy_put(call->txn, sender, &pp, call->now_ms);
    if (rc == 0)
        rc = psi_hub_log_seal_receipt(call->txn, &call->hub->identity, index, &log_receipt);
    if (rc != 0)
        goto out;
    Psi__PolicyReceipt receipt = PSI__POLICY_RECEIPT__INIT;
    receipt.receipt = log_receipt;
    rc = psi_method_reply(call, &receipt.base);
out:
    free(log_receipt);
    free(statement);
    free(list);
    free(ids);
    free(pp.share_with);
    psi_store_participant_clear(&me);
    psi__policy_set__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- results */

struct results_build {
    Psi__Match **items;
    size_t n, cap;
};

static int results_add(void *ctx, uint64_t position, const char *const *peers, size_t count)
{
    struct results_build *rb = ctx;
    void *room;
    if (psi_method_room(rb->items, rb->n, &rb->cap, sizeof(Psi__Match *), 64, &room) != 0)
        return PSI_ERR_NOMEM;
    rb->items = room;
    Psi__Match *m = calloc(1, sizeof *m);
    if (m == NULL)
        return PSI_ERR_NOMEM;
    psi__match__init(m);
    rb->items[rb->n++] = m;
    m->position = position;
    m->peers = calloc(count, sizeof *m->peers);
    if (m->peers == NULL)
        return PSI_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        m->peers[i] = strdup(peers[i]);
        if (m->peers[i] == NULL)
            return PSI_ERR_NOMEM;
        m->n_peers = i + 1;
    }
    return 0;
}

int hub_method_results(struct psi_method_call *call)
{
    UNPACK(Psi__ResultsRequest, psi__results_request__unpack, call);
    struct results_build rb = {NULL, 0, 0};
    int rc = 0;
    if (strcmp(msg->participant, call->sender->id) != 0) {
        rc = psi_method_refuse(call, PSI_ERR_DENIED, "results of another participant");
        goto out;
    }
    const char *epoch = msg->epoch[0] ? msg->epoch : call->epoch;
    if (!psi_epoch_label_is_valid(epoch)) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "invalid epoch label");
        goto out;
    }
    rc = call->txn->ops->results(call->txn, call->sender->id, epoch, call->hub->threshold,
                                 results_add, &rb);
    if (rc != 0)
        goto out;
    Psi__Results results = PSI__RESULTS__INIT;
    results.epoch = (char *)epoch;
    results.matches = rb.items;
    results.n_matches = rb.n;
    results.threshold = call->hub->threshold;
    rc = psi_method_reply(call, &results.base);
out:
    for (size_t i = 0; i < rb.n; i++) {
        for (size_t k = 0; k < rb.items[i]->n_peers; k++)
            free(rb.items[i]->peers[k]);
        free(rb.items[i]->peers);
        free(rb.items[i]);
    }
    free(rb.items);
    psi__results_request__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- status */

/* The ids that may cross-blind sender's sets now: not the sender, not
 * removed, not auditors, and both effective policies allow the pair (the
 * rule of work_list, seen from the owner's side). */
struct status_peers {
    const struct psi_store_participant *sender;
    char (*ids)[PSI_STORE_ID_MAX + 1];
    size_t n, cap;
};

static int status_peer(void *ctx, const struct psi_store_participant *p)
{
    struct status_peers *sp = ctx;
    if (p->removed || strcmp(p->role, "auditor") == 0 || strcmp(p->id, sp->sender->id) == 0 ||
        !psi_store_participant_allows(p, sp->sender->id) ||
        !psi_store_participant_allows(sp->sender, p->id))
        return 0;
    void *room;
    if (psi_method_room(sp->ids, sp->n, &sp->cap, sizeof *sp->ids, 16, &room) != 0)
        return PSI_ERR_NOMEM;
    sp->ids = room;
    memcpy(sp->ids[sp->n++], p->id, sizeof sp->ids[0]);
    return 0;
}

struct status_build {
    struct psi_method_call *call;
    const char *epoch;
    const struct status_peers *peers;
    Psi__SubmissionStatus **items;
    size_t n, cap;
};

static int status_add(void *ctx, const struct psi_store_submission *s)
{
    struct status_build *sb = ctx;
    void *room;
    if (psi_method_room(sb->items, sb->n, &sb->cap, sizeof(Psi__SubmissionStatus *), 8, &room) != 0)
        return PSI_ERR_NOMEM;
    sb->items = room;
    Psi__SubmissionStatus *m = calloc(1, sizeof *m);
    if (m == NULL)
        return PSI_ERR_NOMEM;
    psi__submission_status__init(m);
    sb->items[sb->n++] = m;
    m->submission_id = s->id;
    m->count = s->count;
    size_t np = sb->peers->n;
    m->done = calloc(np ? np : 1, sizeof *m->done);
    m->pending = calloc(np ? np : 1, sizeof *m->pending);
    if (m->done == NULL || m->pending == NULL)
        return PSI_ERR_NOMEM;
    for (size_t i = 0; i < np; i++) {
        const char *peer = sb->peers->ids[i];
        enum psi_work_status st = PSI_WORK_NONE;
        int rc = sb->call->txn->ops->work_status(sb->call->txn, peer, sb->epoch, s->id, &st);
        if (rc != 0)
            return rc;
        char *copy = strdup(peer);
        if (copy == NULL)
            return PSI_ERR_NOMEM;
        if (st == PSI_WORK_DONE)
            m->done[m->n_done++] = copy;
        else
            m->pending[m->n_pending++] = copy;
    }
    return 0;
}

static int count_work(void *ctx, const struct psi_store_submission *s)
{
    (void)s;
    *(uint64_t *)ctx += 1;
    return 0;
}

int hub_method_status(struct psi_method_call *call)
{
    UNPACK(Psi__StatusRequest, psi__status_request__unpack, call);
    const struct psi_store_ops *ops = call->txn->ops;
    struct status_peers sp = {call->sender, NULL, 0, 0};
    struct status_build sb = {call, NULL, &sp, NULL, 0, 0};
    int rc = 0;
    const char *epoch = msg->epoch[0] ? msg->epoch : call->epoch;
    if (!psi_epoch_label_is_valid(epoch)) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "invalid epoch label");
        goto out;
    }
    sb.epoch = epoch;
    uint64_t own_pending = 0, size = 0;
    char checkpoint[PSI_HUB_CHECKPOINT_MAX];
    if ((rc = ops->participant_list(call->txn, status_peer, &sp)) != 0 ||
        (rc = ops->submission_list(call->txn, call->sender->id, epoch, status_add, &sb)) != 0)
        goto out;
    if (strcmp(epoch, call->epoch) == 0 &&
        (rc = ops->work_list(call->txn, call->sender->id, epoch, count_work, &own_pending)) != 0)
        goto out;
    rc = psi_hub_log_latest(call->txn, &size, checkpoint, sizeof checkpoint);
    if (rc == PSI_ERR_NOT_FOUND)
        size = 0;
    else if (rc != 0)
        goto out;
    Psi__Status status = PSI__STATUS__INIT;
    status.epoch = (char *)epoch;
    status.submissions = sb.items;
    status.n_submissions = sb.n;
    status.own_pending = own_pending;
    status.log_size = size;
    rc = psi_method_reply(call, &status.base);
out:
    for (size_t i = 0; i < sb.n; i++) {
        Psi__SubmissionStatus *m = sb.items[i];
        for (size_t k = 0; k < m->n_done; k++)
            free(m->done[k]);
        for (size_t k = 0; k < m->n_pending; k++)
            free(m->pending[k]);
        free(m->done);
        free(m->pending);
        free(m);
    }
    free(sb.items);
    free(sp.ids);
    psi__status_request__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- the audit log */

static int log_size(struct psi_method_call *call, uint64_t *size, char *checkpoint, size_t cap)
{
    int rc = psi_hub_log_latest(call->txn, size, checkpoint, cap);
    if (rc == PSI_ERR_NOT_FOUND)
        return psi_method_refuse(call, PSI_ERR_NOT_FOUND, "the log has no checkpoint yet");
    return rc;
}

int hub_method_log_checkpoint(struct psi_method_call *call)
{
    UNPACK(Psi__Empty, psi__empty__unpack, call);
    psi__empty__free_unpacked(msg, NULL);
    char checkpoint[PSI_HUB_CHECKPOINT_MAX];
    uint64_t size = 0;
    int rc = log_size(call, &size, checkpoint, sizeof checkpoint);
    if (rc != 0)
        return rc;
    Psi__LogCheckpoint reply = PSI__LOG_CHECKPOINT__INIT;
    reply.checkpoint = checkpoint;
    return psi_method_reply(call, &reply.base);
}

int hub_method_log_entries(struct psi_method_call *call)
{
    UNPACK(Psi__LogEntriesRequest, psi__log_entries_request__unpack, call);
    char checkpoint[PSI_HUB_CHECKPOINT_MAX];
    uint64_t size = 0, start = msg->start;
    uint32_t count = msg->count;
    psi__log_entries_request__free_unpacked(msg, NULL);
    if (count == 0 || count > PSI_HUB_LOG_ENTRIES_MAX)
        return psi_method_refuse(call, PSI_ERR_PROTOCOL, "count must be 1..%u entries",
                                 PSI_HUB_LOG_ENTRIES_MAX);
    int rc = log_size(call, &size, checkpoint, sizeof checkpoint);
    if (rc != 0)
        return rc;
    if (start > size)
        return psi_method_refuse(call, PSI_ERR_PROTOCOL,
                                 "entry %llu is beyond the log's %llu entries",
                                 (unsigned long long)start, (unsigned long long)size);
    uint64_t n = size - start < count ? size - start : count;
    ProtobufCBinaryData *items = calloc(n ? (size_t)n : 1, sizeof *items);
    if (items == NULL)
        return PSI_ERR_NOMEM;
    /* A run from start up to the first entry the store lacks: a gap is left
     * for the auditor to see where it is, never closed up. */
    size_t have = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *entry = NULL;
        size_t len = 0;
        rc = psi_hub_log_entry(call->txn, start + i, &entry, &len);
        if (rc == PSI_ERR_NOT_FOUND) {
            psi_oplog_say(PSI_OPLOG_ERROR, "log entry %llu is missing from the store",
                          (unsigned long long)start + i);
            rc = 0;
            break;
        }
        if (rc != 0)
            break;
        items[have].data = entry;
        items[have].len = len;
        have++;
    }
    if (rc == 0) {
        Psi__LogEntries reply = PSI__LOG_ENTRIES__INIT;
        reply.start = start;
        reply.entries = items;
        reply.n_entries = have;
        rc = psi_method_reply(call, &reply.base);
    }
    for (size_t i = 0; i < have; i++)
        free(items[i].data);
    free(items);
    return rc;
}

static int reply_proof(struct psi_method_call *call, unsigned char (*proof)[32], size_t count)
{
    ProtobufCBinaryData items[PSI_MERKLE_MAX_PROOF_HASHES];
    for (size_t i = 0; i < count; i++) {
        items[i].data = proof[i];
        items[i].len = 32;
    }
    Psi__LogProof reply = PSI__LOG_PROOF__INIT;
    reply.hashes = items;
    reply.n_hashes = count;
    return psi_method_reply(call, &reply.base);
}

int hub_method_log_inclusion(struct psi_method_call *call)
{
    UNPACK(Psi__LogInclusionRequest, psi__log_inclusion_request__unpack, call);
    uint64_t index = msg->index, tree_size = msg->tree_size, size = 0;
    psi__log_inclusion_request__free_unpacked(msg, NULL);
    char checkpoint[PSI_HUB_CHECKPOINT_MAX];
    int rc = log_size(call, &size, checkpoint, sizeof checkpoint);
    if (rc != 0)
        return rc;
    if (tree_size > size || index >= tree_size)
        return psi_method_refuse(
            call, PSI_ERR_PROTOCOL, "no entry %llu in a tree of %llu entries (the log has %llu)",
            (unsigned long long)index, (unsigned long long)tree_size, (unsigned long long)size);
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
    size_t count = 0;
    rc = psi_hub_log_inclusion(call->txn, index, tree_size, proof, &count);
    return rc != 0 ? rc : reply_proof(call, proof, count);
}

int hub_method_log_consistency(struct psi_method_call *call)
{
    UNPACK(Psi__LogConsistencyRequest, psi__log_consistency_request__unpack, call);
    uint64_t old_size = msg->old_size, new_size = msg->new_size, size = 0;
    psi__log_consistency_request__free_unpacked(msg, NULL);
    char checkpoint[PSI_HUB_CHECKPOINT_MAX];
    int rc = log_size(call, &size, checkpoint, sizeof checkpoint);
    if (rc != 0)
        return rc;
    if (old_size > new_size || new_size > size)
        return psi_method_refuse(
            call, PSI_ERR_PROTOCOL,
            "no consistency proof from %llu to %llu entries (the log has %llu)",
            (unsigned long long)old_size, (unsigned long long)new_size, (unsigned long long)size);
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
    size_t count = 0;
    rc = psi_hub_log_consistency(call->txn, old_size, new_size, proof, &count);
    return rc != 0 ? rc : reply_proof(call, proof, count);
}

/* ---------------------------------------------------------------- the table */

/* Made from the catalogue (proto/methods.h), row for row: a method exists
 * here exactly when it is catalogued, with the catalogue's messages and
 * flags, and its handler is hub_method_<handler>. */
#define HUB_METHOD_ROW(id, handler_, name_, request_, reply_, flags)                               \
    [PSI_METHOD_##id] = {                                                                          \
        .name = (name_),                                                                           \
        .handler = hub_method_##handler_,                                                          \
        .request = &(request_),                                                                    \
        .reply = &(reply_),                                                                        \
        .writes = (PSI_MF_WRITES & (flags)) != 0,                                                  \
        .for_auditors = (PSI_MF_FOR_AUDITORS & (flags)) != 0,                                      \
        .gives_results = (PSI_MF_GIVES_RESULTS & (flags)) != 0,                                    \
        .auditors_only = (PSI_MF_AUDITORS_ONLY & (flags)) != 0,                                    \
    },
static const struct psi_method METHODS[PSI_METHOD_COUNT] = {PSI_METHODS(HUB_METHOD_ROW)};
#undef HUB_METHOD_ROW

const struct psi_method *psi_hub_method(const char *name)
{
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
        if (strcmp(METHODS[i].name, name) == 0)
            return &METHODS[i];
    return NULL;
}
