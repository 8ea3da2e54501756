/* The hub's methods of protocol 2, blinded vendor feeds (feeds.h). */
#include "feeds.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "epoch.h"
#include "log.h"
#include "method_util.h"
#include "psi.pb-c.h"
#include "psi/error.h"
#include "psi/feed.h"
#include "psi/feedfilter.h"
#include "psi/ident.h"
#include "psi/oprf.h"

/* Room left in a reply for everything but the elements it carries. */
#define REPLY_ALLOWANCE (64u << 10)

static int is_role(const struct psi_store_participant *p, enum psi_role role)
{
    return psi_role_parse(p->role) == role;
}

/* The index of the first element of n that is not a valid non-identity
 * point, or n. */
static size_t first_bad_element(const uint8_t *elements, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!psi_method_element_is_valid(elements + i * PSI_STORE_ELEMENT_BYTES))
            return i;
    return n;
}

static int signature_ok(const unsigned char *statement, size_t len,
                        const unsigned char signature[64], const unsigned char key[32])
{
    return crypto_sign_verify_detached(signature, statement, len, key) == 0;
}

/* The current epoch, or the one asked for if it is the current one. */
static int epoch_is_current(struct psi_method_call *call, const char *asked, const char **epoch)
{
    *epoch = asked[0] ? asked : call->epoch;
    if (!psi_epoch_label_is_valid(*epoch))
        return psi_method_refuse(call, PSI_ERR_PROTOCOL, "invalid epoch label");
    if (strcmp(*epoch, call->epoch) != 0)
        return psi_method_refuse(call, PSI_ERR_EPOCH, "epoch %s is not the current epoch %s",
                                 *epoch, call->epoch);
    return 0;
}

/* A vendor on the roster, not removed. */
static int vendor_of(struct psi_method_call *call, const char *id)
{
    struct psi_store_participant p;
    memset(&p, 0, sizeof p);
    if (!psi_id_is_valid(id))
        return psi_method_refuse(call, PSI_ERR_PROTOCOL, "'%s' is not a participant id", id);
    int rc = call->txn->ops->participant_get(call->txn, id, &p);
    if (rc == PSI_ERR_NOT_FOUND)
        return psi_method_refuse(call, PSI_ERR_NOT_FOUND, "no participant '%s'", id);
    if (rc != 0)
        return rc;
    if (!is_role(&p, PSI_ROLE_VENDOR))
        rc = psi_method_refuse(call, PSI_ERR_NOT_FOUND, "'%s' is not a vendor", id);
    else if (p.removed)
        rc = psi_method_refuse(call, PSI_ERR_NOT_FOUND, "vendor '%s' was removed", id);
    psi_store_participant_clear(&p);
    return rc;
}

/* ---------------------------------------------------------------- feed.announce */

int hub_method_feed_announce(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    const char *sender = call->sender->id;
    UNPACK(Psi__FeedAnnounce, psi__feed_announce__unpack, call);
    char *log_receipt = NULL;
    const char *epoch = NULL;
    int rc = 0;
    if (!is_role(call->sender, PSI_ROLE_VENDOR)) {
        rc = psi_method_refuse(call, PSI_ERR_DENIED, "only vendors announce feed keys");
        goto out;
    }
    if (msg->public_key.len != 32 || msg->signature.len != 64) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL,
                               "feed.announce needs a 32-byte public key and a 64-byte signature");
        goto out;
    }
    if ((rc = epoch_is_current(call, msg->epoch, &epoch)) != 0)
        goto out;
    if (!psi_method_element_is_valid(msg->public_key.data)) {
        rc = psi_method_refuse(call, PSI_ERR_ENCODING,
                               "the public key is not a valid non-identity ristretto255 point");
        goto out;
    }
    unsigned char statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    if (psi_feed_key_statement(statement, sizeof statement, &len, call->hub->identity.public_key,
                               epoch, msg->public_key.data) != 0 ||
        !signature_ok(statement, len, msg->signature.data, call->sender->public_key)) {
        rc = psi_method_refuse(call, PSI_ERR_VERIFY, "bad signature of the feed key");
        goto out;
    }
    struct psi_store_feed_key known;
    rc = ops->feed_key_get(call->txn, sender, epoch, &known);
    if (rc == 0) {
        /* One key per vendor and epoch: the same one again is a no-op. */
        if (sodium_memcmp(known.public_key, msg->public_key.data, 32) != 0) {
            rc = psi_method_refuse(
                call, PSI_ERR_EXISTS,
                "%s announced another key for epoch %s already; a vendor has one key "
                "per epoch",
                sender, epoch);
            goto out;
        }
        rc = psi_hub_log_seal_receipt(call->txn, &call->hub->identity, known.log_index,
                                      &log_receipt);
    } else if (rc == PSI_ERR_NOT_FOUND) {
        memset(&known, 0, sizeof known);
        snprintf(known.vendor, sizeof known.vendor, "%s", sender);
        snprintf(known.epoch, sizeof known.epoch, "%s", epoch);
        memcpy(known.public_key, msg->public_key.data, 32);
        memcpy(known.signature, msg->signature.data, 64);
        rc = psi_hub_log_epoch_key(call->txn, &known, call->now_ms, &known.log_index);
        if (rc == 0)
            rc = ops->feed_key_put(call->txn, &known, call->now_ms);
        if (rc == 0)
            rc = psi_hub_log_seal_receipt(call->txn, &call->hub->identity, known.log_index,
                                          &log_receipt);
    }
    if (rc != 0)
        goto out;
    Psi__FeedAnnounceReceipt receipt = PSI__FEED_ANNOUNCE_RECEIPT__INIT;
    receipt.epoch = (char *)epoch;
    receipt.receipt = log_receipt;
    rc = psi_method_reply(call, &receipt.base);
out:
    free(log_receipt);
    psi__feed_announce__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- feed.commit */

int hub_method_feed_commit(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    const char *sender = call->sender->id;
    UNPACK(Psi__FeedCommit, psi__feed_commit__unpack, call);
    uint8_t *bytes = NULL;
    char *log_receipt = NULL;
    struct psi_feed_filter *filter = NULL;
    const char *epoch = NULL;
    int rc = 0;
    if (!is_role(call->sender, PSI_ROLE_VENDOR)) {
        rc = psi_method_refuse(call, PSI_ERR_DENIED, "only vendors publish feeds");
        goto out;
    }
    if (msg->upload_id.len != PSI_STORE_UPLOAD_ID_BYTES || msg->digest.len != 32 ||
        msg->signature.len != 64) {
        rc = psi_method_refuse(
            call, PSI_ERR_PROTOCOL,
            "feed.commit needs a 16-byte upload_id, a 32-byte digest and a 64-byte "
            "signature");
        goto out;
    }
    if ((rc = epoch_is_current(call, msg->epoch, &epoch)) != 0)
        goto out;
    struct psi_store_feed_key key;
    rc = ops->feed_key_get(call->txn, sender, epoch, &key);
    if (rc == PSI_ERR_NOT_FOUND) {
        rc = psi_method_refuse(call, PSI_ERR_STATE, "%s has announced no feed key for epoch %s",
                               sender, epoch);
        goto out;
    }
    if (rc != 0)
        goto out;
    /* The vendor's signature first: a forged commit does not cost a decode. */
    unsigned char statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    if (psi_feed_commit_statement(statement, sizeof statement, &len, call->hub->identity.public_key,
                                  epoch, msg->count, msg->size, msg->digest.data) != 0 ||
        !signature_ok(statement, len, msg->signature.data, call->sender->public_key)) {
        rc = psi_method_refuse(call, PSI_ERR_VERIFY, "bad signature of the feed");
        goto out;
    }
    rc = psi_method_take_upload(call, msg->upload_id.data, msg->size, 1, &bytes);
    if (rc != 0)
        goto out;
    /* The filter must be what the vendor signed, for the vendor, the epoch
     * and the announced key: agencies will check the same. */
    char why[256] = "";
    struct psi_feed_filter_expect expect = {epoch, sender, key.public_key};
    rc = psi_feed_filter_decode(&filter, bytes, (size_t)msg->size, &expect, why, sizeof why);
    if (rc != 0) {
        rc = psi_method_refuse(call, rc == PSI_ERR_NOMEM ? PSI_ERR_NOMEM : PSI_ERR_PROTOCOL,
                               "the uploaded feed filter is refused: %s", why);
        goto out;
    }
    struct psi_feed_filter_info info;
    if ((rc = psi_feed_filter_get_info(filter, &info)) != 0)
        goto out;
    if (info.item_count != msg->count || info.rate != msg->rate ||
        sodium_memcmp(info.digest, msg->digest.data, 32) != 0) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL,
                               "the commit says %" PRIu64 " items at rate %g, the filter %" PRIu64
                               " items at rate %g%s",
                               msg->count, msg->rate, info.item_count, info.rate,
                               sodium_memcmp(info.digest, msg->digest.data, 32) != 0
                                   ? ", and its digest differs"
                                   : "");
        goto out;
    }
    struct psi_store_feed feed;
    memset(&feed, 0, sizeof feed);
    snprintf(feed.vendor, sizeof feed.vendor, "%s", sender);
    snprintf(feed.epoch, sizeof feed.epoch, "%s", epoch);
    feed.count = msg->count;
    feed.rate = msg->rate;
    feed.size = msg->size;
    memcpy(feed.digest, msg->digest.data, 32);
    memcpy(feed.signature, msg->signature.data, 64);
    rc = ops->feed_put(call->txn, &feed, bytes, call->now_ms);
    if (rc == 0)
        rc = ops->staging_drop(call->txn, sender, msg->upload_id.data);
    uint64_t index = 0;
    if (rc == 0)
        rc = psi_hub_log_feed(call->txn, &feed, call->now_ms, &index);
    if (rc == 0)
        rc = psi_hub_log_seal_receipt(call->txn, &call->hub->identity, index, &log_receipt);
    if (rc != 0)
        goto out;
    Psi__FeedReceipt receipt = PSI__FEED_RECEIPT__INIT;
    receipt.epoch = (char *)epoch;
    receipt.digest.data = feed.digest;
    receipt.digest.len = 32;
    receipt.receipt = log_receipt;
    rc = psi_method_reply(call, &receipt.base);
out:
    psi_feed_filter_free(filter);
    free(log_receipt);
    free(bytes);
    psi__feed_commit__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- feed.get */

int hub_method_feed_get(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    UNPACK(Psi__FeedGetRequest, psi__feed_get_request__unpack, call);
    uint8_t *data = NULL;
    int rc = 0;
    const char *epoch = msg->epoch[0] ? msg->epoch : call->epoch;
    uint32_t max = call->hub->max_message_bytes / 2;
    if (!psi_epoch_label_is_valid(epoch)) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "invalid epoch label");
        goto out;
    }
    if (msg->limit == 0 || msg->limit > max) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL, "limit must be 1..%" PRIu32 " bytes", max);
        goto out;
    }
    if ((rc = vendor_of(call, msg->vendor)) != 0)
        goto out;
    struct psi_store_feed feed;
    struct psi_store_feed_key key;
    rc = ops->feed_get(call->txn, msg->vendor, epoch, &feed);
    if (rc == PSI_ERR_NOT_FOUND) {
        rc = psi_method_refuse(call, PSI_ERR_NOT_FOUND, "%s has published no feed for epoch %s",
                               msg->vendor, epoch);
        goto out;
    }
    if (rc == 0)
        rc = ops->feed_key_get(call->txn, msg->vendor, epoch, &key);
    if (rc != 0)
        goto out;
    if (msg->offset > feed.size) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL,
                               "offset %" PRIu64 " is past the feed's %" PRIu64 " bytes",
                               msg->offset, feed.size);
        goto out;
    }
    size_t n = feed.size - msg->offset < msg->limit ? (size_t)(feed.size - msg->offset)
                                                    : (size_t)msg->limit;
    data = malloc(n > 0 ? n : 1);
    if (data == NULL) {
        rc = PSI_ERR_NOMEM;
        goto out;
    }
    if (n > 0 && (rc = ops->feed_read(call->txn, msg->vendor, epoch, msg->offset, data, n)) != 0) {
        rc = rc == PSI_ERR_NOT_FOUND ? PSI_ERR_STORE : rc;
        goto out;
    }
    Psi__FeedInfo info = PSI__FEED_INFO__INIT;
    info.vendor = msg->vendor;
    info.epoch = (char *)epoch;
    info.public_key.data = key.public_key;
    info.public_key.len = 32;
    info.key_signature.data = key.signature;
    info.key_signature.len = 64;
    info.count = feed.count;
    info.rate = feed.rate;
    info.size = feed.size;
    info.digest.data = feed.digest;
    info.digest.len = 32;
    info.signature.data = feed.signature;
    info.signature.len = 64;
    Psi__FeedChunk chunk = PSI__FEED_CHUNK__INIT;
    chunk.feed = &info;
    chunk.offset = msg->offset;
    chunk.data.data = data;
    chunk.data.len = n;
    rc = psi_method_reply(call, &chunk.base);
out:
    free(data);
    psi__feed_get_request__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- query.submit */

int hub_method_query_submit(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    const char *sender = call->sender->id;
    UNPACK(Psi__QuerySubmit, psi__query_submit__unpack, call);
    char *log_receipt = NULL;
    const char *epoch = NULL;
    int rc = 0;
    if (!is_role(call->sender, PSI_ROLE_AGENCY)) {
        rc = psi_method_refuse(call, PSI_ERR_DENIED, "only agencies query vendor feeds");
        goto out;
    }
    if ((rc = epoch_is_current(call, msg->epoch, &epoch)) != 0)
        goto out;
    if ((rc = vendor_of(call, msg->vendor)) != 0)
        goto out;
    size_t max = call->hub->max_chunk_elements < PSI_VOPRF_MAX_BATCH ? call->hub->max_chunk_elements
                                                                     : PSI_VOPRF_MAX_BATCH;
    size_t n = msg->elements.len / PSI_STORE_ELEMENT_BYTES;
    /* cppcheck 2.10 wrongly calls n > max always true */
    // cppcheck-suppress knownConditionTrueFalse
    if (msg->elements.len % PSI_STORE_ELEMENT_BYTES != 0 || n == 0 || n > max) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL,
                               "a query batch is 1..%zu elements of 32 bytes, not %zu bytes", max,
                               msg->elements.len);
        goto out;
    }
    /* The agency's signature: the log shows each batch was its own. */
    unsigned char digest[32], statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    if (msg->signature.len != 64 || psi_feed_query_digest(msg->elements.data, n, digest) != 0 ||
        psi_feed_query_statement(statement, sizeof statement, &len, call->hub->identity.public_key,
                                 msg->vendor, epoch, n, digest) != 0 ||
        !signature_ok(statement, len, msg->signature.data, call->sender->public_key)) {
        rc = psi_method_refuse(call, PSI_ERR_VERIFY, "bad signature of the query batch");
        goto out;
    }
    size_t bad = first_bad_element(msg->elements.data, n);
    if (bad < n) {
        rc = psi_method_refuse(call, PSI_ERR_ENCODING,
                               "element %zu is not a valid non-identity ristretto255 point", bad);
        goto out;
    }
    struct psi_store_feed feed;
    rc = ops->feed_get(call->txn, msg->vendor, epoch, &feed);
    if (rc == PSI_ERR_NOT_FOUND) {
        rc = psi_method_refuse(call, PSI_ERR_NOT_FOUND, "%s has published no feed for epoch %s",
                               msg->vendor, epoch);
        goto out;
    }
    if (rc != 0)
        goto out;
    /* The quota: what bounds how much of the feed an agency can enumerate. */
    uint64_t limit = 0, used = 0;
    rc = ops->quota_get(call->txn, sender, msg->vendor, &limit);
    if (rc == PSI_ERR_NOT_FOUND) {
        rc = psi_method_refuse(
            call, PSI_ERR_QUOTA,
            "no query quota for %s at %s: the hub operator sets one with 'psi-hub quota'", sender,
            msg->vendor);
        goto out;
    }
    if (rc == 0)
        rc = ops->queries_used(call->txn, sender, msg->vendor, epoch, &used);
    if (rc != 0)
        goto out;
    if (used > limit || n > limit - used) {
        rc = psi_method_refuse(call, PSI_ERR_QUOTA,
                               "over quota: %s has sent %" PRIu64 " of its %" PRIu64
                               " queries to %s in "
                               "epoch %s; a batch of %zu would pass it",
                               sender, used, limit, msg->vendor, epoch, n);
        goto out;
    }
    struct psi_store_query q;
    memset(&q, 0, sizeof q);
    snprintf(q.agency, sizeof q.agency, "%s", sender);
    snprintf(q.vendor, sizeof q.vendor, "%s", msg->vendor);
    snprintf(q.epoch, sizeof q.epoch, "%s", epoch);
    q.count = n;
    /* Kept for the vendor's agent: it evaluates a batch only with it. */
    memcpy(q.signature, msg->signature.data, sizeof q.signature);
    q.has_signature = 1;
    rc = psi_hub_log_query(call->txn, &q, digest, call->now_ms, &q.log_index);
    if (rc == 0)
        rc = ops->query_add(call->txn, &q, msg->elements.data, call->now_ms);
    if (rc == 0)
        rc = psi_hub_log_seal_receipt(call->txn, &call->hub->identity, q.log_index, &log_receipt);
    if (rc != 0)
        goto out;
    Psi__QueryTicket ticket = PSI__QUERY_TICKET__INIT;
    ticket.query_id = q.id;
    ticket.count = n;
    ticket.used = used + n;
    ticket.limit = limit;
    ticket.receipt = log_receipt;
    rc = psi_method_reply(call, &ticket.base);
out:
    free(log_receipt);
    psi__query_submit__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- query.work */

struct work_build {
    struct psi_method_call *call;
    Psi__QueryBatch **items;
    size_t n, cap;
    size_t bytes, budget;
};

static int work_add(void *ctx, const struct psi_store_query *q)
{
    struct work_build *wb = ctx;
    size_t len = (size_t)q->count * PSI_STORE_ELEMENT_BYTES;
    if (wb->n > 0 && len > wb->budget - wb->bytes)
        return 1; /* full: the rest next time */
    void *room;
    if (psi_method_room(wb->items, wb->n, &wb->cap, sizeof(Psi__QueryBatch *), 8, &room) != 0)
        return PSI_ERR_NOMEM;
    wb->items = room;
    /* One allocation holds the message and copies of its strings. */
    struct batch {
        Psi__QueryBatch msg;
        struct psi_store_query row;
    } *b = calloc(1, sizeof *b);
    if (b == NULL)
        return PSI_ERR_NOMEM;
    b->row = *q;
    psi__query_batch__init(&b->msg);
    b->msg.query_id = q->id;
    b->msg.agency = b->row.agency;
    b->msg.epoch = b->row.epoch;
    if (b->row.has_signature) {
        b->msg.signature.data = b->row.signature;
        b->msg.signature.len = sizeof b->row.signature;
    }
    wb->items[wb->n++] = &b->msg;
    int rc = wb->call->txn->ops->query_get(wb->call->txn, q->id, &b->row, &b->msg.elements.data,
                                           NULL, NULL);
    if (rc != 0)
        return rc;
    b->msg.elements.len = len;
    wb->bytes += len;
    return 0;
}

int hub_method_query_work(struct psi_method_call *call)
{
    UNPACK(Psi__Empty, psi__empty__unpack, call);
    psi__empty__free_unpacked(msg, NULL);
    if (!is_role(call->sender, PSI_ROLE_VENDOR))
        return psi_method_refuse(call, PSI_ERR_DENIED, "only vendors answer feed queries");
    struct work_build wb = {call, NULL, 0, 0, 0, 0};
    wb.budget = call->hub->max_message_bytes > 2 * REPLY_ALLOWANCE
                    ? call->hub->max_message_bytes - REPLY_ALLOWANCE
                    : call->hub->max_message_bytes / 2;
    int rc = call->txn->ops->query_pending(call->txn, call->sender->id, work_add, &wb);
    if (rc == 1)
        rc = 0;
    if (rc == 0) {
        Psi__QueryWork work = PSI__QUERY_WORK__INIT;
        work.batches = wb.items;
        work.n_batches = wb.n;
        rc = psi_method_reply(call, &work.base);
    }
    for (size_t i = 0; i < wb.n; i++) {
        free(wb.items[i]->elements.data);
        free(wb.items[i]); /* the struct batch that starts with it */
    }
    free(wb.items);
    return rc;
}

/* ---------------------------------------------------------------- query.answer */

static void answer_digest(const uint8_t *blinded, const uint8_t *evaluated, size_t n,
                          const unsigned char proof[64], unsigned char digest[32])
{
    static const unsigned char zero = 0;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)PSI_HUB_ANSWER_DST,
                              strlen(PSI_HUB_ANSWER_DST));
    crypto_hash_sha256_update(&h, &zero, 1);
    crypto_hash_sha256_update(&h, blinded, n * PSI_STORE_ELEMENT_BYTES);
    crypto_hash_sha256_update(&h, evaluated, n * PSI_STORE_ELEMENT_BYTES);
    crypto_hash_sha256_update(&h, proof, 64);
    crypto_hash_sha256_final(&h, digest);
}

int hub_method_query_answer(struct psi_method_call *call)
{
    const struct psi_store_ops *ops = call->txn->ops;
    const char *sender = call->sender->id;
    UNPACK(Psi__QueryAnswer, psi__query_answer__unpack, call);
    uint8_t *blinded = NULL;
    int rc = 0;
    if (!is_role(call->sender, PSI_ROLE_VENDOR)) {
        rc = psi_method_refuse(call, PSI_ERR_DENIED, "only vendors answer feed queries");
        goto out;
    }
    struct psi_store_query q;
    rc = ops->query_get(call->txn, msg->query_id, &q, &blinded, NULL, NULL);
    if (rc == PSI_ERR_NOT_FOUND || (rc == 0 && strcmp(q.vendor, sender) != 0)) {
        rc = psi_method_refuse(call, PSI_ERR_NOT_FOUND, "no query batch %" PRIu64 " for %s",
                               msg->query_id, sender);
        goto out;
    }
    if (rc != 0)
        goto out;
    if (q.answered) {
        rc = psi_method_refuse(call, PSI_ERR_EXISTS, "query batch %" PRIu64 " is answered already",
                               msg->query_id);
        goto out;
    }
    size_t n = (size_t)q.count;
    if (msg->evaluated.len != n * PSI_STORE_ELEMENT_BYTES || msg->proof.len != 64) {
        rc = psi_method_refuse(call, PSI_ERR_PROTOCOL,
                               "the answer of batch %" PRIu64
                               " needs %zu evaluated elements and a 64-byte "
                               "proof",
                               msg->query_id, n);
        goto out;
    }
    size_t bad = first_bad_element(msg->evaluated.data, n);
    if (bad < n) {
        rc = psi_method_refuse(
            call, PSI_ERR_ENCODING,
            "evaluated element %zu is not a valid non-identity ristretto255 point", bad);
        goto out;
    }
    struct psi_store_feed_key key;
    rc = ops->feed_key_get(call->txn, sender, q.epoch, &key);
    if (rc == PSI_ERR_NOT_FOUND) {
        rc = psi_method_refuse(call, PSI_ERR_STATE, "%s has announced no key for epoch %s", sender,
                               q.epoch);
        goto out;
    }
    if (rc != 0)
        goto out;
    /* The proof that the vendor used its one announced key: the hub relays
     * no answer without it (agencies check it again). */
    if (psi_voprf_verify(key.public_key, n, blinded, msg->evaluated.data, msg->proof.data) != 0) {
        rc = psi_method_refuse(call, PSI_ERR_VERIFY,
                               "the proof of the answer to batch %" PRIu64
                               " does not verify against %s's "
                               "announced key of epoch %s",
                               msg->query_id, sender, q.epoch);
        goto out;
    }
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_ANSWER;
    e.time_ms = call->now_ms;
    snprintf(e.u.answer.vendor, sizeof e.u.answer.vendor, "%s", sender);
    snprintf(e.u.answer.agency, sizeof e.u.answer.agency, "%s", q.agency);
    snprintf(e.u.answer.epoch, sizeof e.u.answer.epoch, "%s", q.epoch);
    e.u.answer.query_index = q.log_index;
    e.u.answer.count = q.count;
    memcpy(e.u.answer.public_key, key.public_key, 32);
    answer_digest(blinded, msg->evaluated.data, n, msg->proof.data, e.u.answer.answer_digest);
    rc = ops->query_answer(call->txn, msg->query_id, msg->evaluated.data, msg->proof.data,
                           call->now_ms);
    if (rc == PSI_ERR_EXISTS) {
        rc = psi_method_refuse(call, PSI_ERR_EXISTS, "query batch %" PRIu64 " is answered already",
                               msg->query_id);
        goto out;
    }
    if (rc == 0)
        rc = psi_hub_log_append(call->txn, &e, NULL);
    if (rc == 0)
        rc = psi_hub_log_seal(call->txn, &call->hub->identity, NULL);
    if (rc != 0)
        goto out;
    Psi__QueryAnswerAck ack = PSI__QUERY_ANSWER_ACK__INIT;
    ack.query_id = msg->query_id;
    rc = psi_method_reply(call, &ack.base);
out:
    free(blinded);
    psi__query_answer__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- query.result */

int hub_method_query_result(struct psi_method_call *call)
{
    UNPACK(Psi__QueryResultRequest, psi__query_result_request__unpack, call);
    uint8_t *evaluated = NULL;
    unsigned char proof[PSI_STORE_PROOF_BYTES];
    struct psi_store_query q;
    int rc = call->txn->ops->query_get(call->txn, msg->query_id, &q, NULL, &evaluated, proof);
    if (rc == PSI_ERR_NOT_FOUND || (rc == 0 && strcmp(q.agency, call->sender->id) != 0)) {
        rc = psi_method_refuse(call, PSI_ERR_NOT_FOUND, "no query batch %" PRIu64 " of %s",
                               msg->query_id, call->sender->id);
        goto out;
    }
    if (rc != 0)
        goto out;
    Psi__QueryResult result = PSI__QUERY_RESULT__INIT;
    result.query_id = q.id;
    result.answered = q.answered != 0;
    result.vendor = q.vendor;
    result.epoch = q.epoch;
    if (q.answered) {
        result.evaluated.data = evaluated;
        result.evaluated.len = (size_t)q.count * PSI_STORE_ELEMENT_BYTES;
        result.proof.data = proof;
        result.proof.len = sizeof proof;
    }
    rc = psi_method_reply(call, &result.base);
out:
    free(evaluated);
    psi__query_result_request__free_unpacked(msg, NULL);
    return rc;
}

/* ---------------------------------------------------------------- quotas */

int psi_feed_quota_set(struct psi_txn *t, const char *agency, const char *vendor, uint64_t limit,
                       uint64_t now_ms, char *err, size_t errlen)
{
    const struct psi_store_ops *ops = t->ops;
    struct psi_store_participant a, v;
    memset(&a, 0, sizeof a);
    memset(&v, 0, sizeof v);
    int rc = ops->participant_get(t, agency, &a);
    if (rc == PSI_ERR_NOT_FOUND)
        snprintf(err, errlen, "no participant '%s'", agency);
    else if (rc == 0 && (!is_role(&a, PSI_ROLE_AGENCY) || a.removed)) {
        snprintf(err, errlen, "'%s' is not an active agency", agency);
        rc = PSI_ERR_DENIED;
    }
    if (rc == 0) {
        rc = ops->participant_get(t, vendor, &v);
        if (rc == PSI_ERR_NOT_FOUND)
            snprintf(err, errlen, "no participant '%s'", vendor);
        else if (rc == 0 && (!is_role(&v, PSI_ROLE_VENDOR) || v.removed)) {
            snprintf(err, errlen, "'%s' is not an active vendor", vendor);
            rc = PSI_ERR_DENIED;
        }
    }
    psi_store_participant_clear(&a);
    psi_store_participant_clear(&v);
    if (rc == 0 && limit > (uint64_t)INT64_MAX) {
        snprintf(err, errlen, "a limit is at most %" PRId64, INT64_MAX);
        rc = PSI_ERR_INVALID;
    }
    if (rc == 0)
        rc = ops->quota_set(t, agency, vendor, limit);
    if (rc == 0)
        rc = psi_hub_log_quota(t, agency, vendor, limit, now_ms);
    return rc;
}
