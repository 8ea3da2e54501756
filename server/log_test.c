/*
 * The hub's audit log over the real SQLite store: appends, checkpoints,
 * inclusion and consistency proofs checked against roots computed here from
 * the leaf hashes alone (across tile boundaries, for many sizes), proofs that
 * read O(log n) stored hashes, receipts that verify, rollback and the
 * append-only triggers, a store reopened; then through the request pipeline:
 * the log methods and who may call them, refusals recorded (bad signature,
 * replay, denied, removed) and not recorded (unknown sender, malformed
 * requests), a submission answered with a receipt for its own entry, and the
 * whole log re-checked clean by the auditor's module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "hub.h"
#include "hub_fixture.h"
#include "wire.h"
#include "log.h"
#include "psi/blind.h"
#include "psi/audit.h"
#include "psi/error.h"
#include "psi/indicator.h"

#define EPOCH "E1"

struct fixture {
    char dir[256];
    struct psi_hub hub;
    struct psi_store *st;
    struct psi_note_verifier log_key;
    struct psi_identity a, b, aud, gone, impostor, stranger;
};

/* ---------------------------------------------------------------- set-up */

static void admit(struct fixture *f, const struct psi_identity *who, const char *role)
{
    struct psi_store_participant p = hub_test_participant(who, role, 0);
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    assert_int_equal(f->hub.ops->participant_add(&t, &p, 1), 0);
    assert_int_equal(psi_hub_log_roster(&t, PSI_LOGENTRY_ADMIT, &p, 1, NULL), 0);
    assert_int_equal(psi_hub_log_seal(&t, &f->hub.identity, NULL), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hub_test_open_hub(f->dir, sizeof f->dir, "log-test", "log-hub", EPOCH, &f->hub, &f->st);
    memcpy(f->log_key.name, "log-hub", 8);
    memcpy(f->log_key.public_key, f->hub.identity.public_key, 32);
    assert_int_equal(psi_note_key_id(&f->log_key.key_id, "log-hub", f->log_key.public_key), 0);
    assert_int_equal(psi_identity_generate(&f->a, "agency-a"), 0);
    assert_int_equal(psi_identity_generate(&f->b, "agency-b"), 0);
    assert_int_equal(psi_identity_generate(&f->aud, "auditor-1"), 0);
    assert_int_equal(psi_identity_generate(&f->gone, "agency-gone"), 0);
    assert_int_equal(psi_identity_generate(&f->impostor, "agency-a"), 0); /* not a's key */
    assert_int_equal(psi_identity_generate(&f->stranger, "stranger"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    psi_identity_clear(&f->a);
    psi_identity_clear(&f->b);
    psi_identity_clear(&f->aud);
    psi_identity_clear(&f->gone);
    psi_identity_clear(&f->impostor);
    psi_identity_clear(&f->stranger);
    hub_test_close_hub(f->dir, &f->hub, f->st);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- the log alone */

/* An entry a test can make many of: a refusal with its number in the digest. */
static void numbered_entry(struct psi_logentry *e, uint64_t n)
{
    memset(e, 0, sizeof *e);
    e->kind = PSI_LOGENTRY_REFUSAL;
    e->time_ms = 1000 + n;
    e->u.refusal.code = PSI_ERR_REPLAY;
    memcpy(e->u.refusal.frame_digest, &n, sizeof n);
}

/* The latest checkpoint, opened with the hub's key. */
static void latest(struct fixture *f, struct psi_checkpoint *cp)
{
    struct psi_txn t;
    char note[PSI_HUB_CHECKPOINT_MAX];
    uint64_t size = 0;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_READ), 0);
    assert_int_equal(psi_hub_log_latest(&t, &size, note, sizeof note), 0);
    psi_txn_rollback(&t);
    assert_int_equal(psi_checkpoint_open(cp, note, strlen(note), &f->log_key, NULL), 0);
    assert_true(cp->size == size);
}

/* Leaf hashes of the whole log, read back as entries and hashed here. */
struct leaves {
    unsigned char (*hash)[32];
    uint64_t n;
};

static int leaves_leaf(void *ctx, uint64_t index, unsigned char out[32])
{
    const struct leaves *l = ctx;
    if (index >= l->n)
        return PSI_ERR_INVALID;
    memcpy(out, l->hash[index], 32);
    return 0;
}

static void read_leaves(struct fixture *f, struct leaves *l, uint64_t n)
{
    struct psi_txn t;
    l->hash = malloc((size_t)n * 32 + 1);
    l->n = n;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_READ), 0);
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *e = NULL;
        size_t len = 0;
        assert_int_equal(psi_hub_log_entry(&t, i, &e, &len), 0);
        psi_merkle_leaf_hash(l->hash[i], e, len);
        free(e);
    }
    psi_txn_rollback(&t);
}

static void root_of(const struct leaves *l, uint64_t size, unsigned char root[32])
{
    struct psi_merkle_reader r = {(void *)l, leaves_leaf, NULL};
    assert_int_equal(psi_merkle_root(root, &r, size), 0);
}

/* Counts the stored hashes a proof reads. */
static unsigned hash_reads;
static struct psi_store_ops counting_ops;
static const struct psi_store_ops *counted_ops; /* the backend counted */
static int counting_hash_get(struct psi_txn *t, unsigned level, uint64_t index,
                             unsigned char hash[32])
{
    hash_reads++;
    return counted_ops->log_hash_get(t, level, index, hash);
}

static void test_append_proofs_and_reads(void **state)
{
    struct fixture *f = *state;
    static const uint64_t sealed_at[] = {1, 2, 3, 7, 8, 255, 256, 257, 511, 600};
    unsigned char roots[sizeof sealed_at / sizeof sealed_at[0]][32];
    uint64_t n = 0;
    for (size_t k = 0; k < sizeof sealed_at / sizeof sealed_at[0]; k++) {
        struct psi_txn t;
        assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
        for (; n < sealed_at[k]; n++) {
            struct psi_logentry e;
            uint64_t index = 99;
            numbered_entry(&e, n);
            assert_int_equal(psi_hub_log_append(&t, &e, &index), 0);
            assert_true(index == n);
        }
        assert_int_equal(psi_hub_log_seal(&t, &f->hub.identity, NULL), 0);
        assert_int_equal(psi_txn_commit(&t), 0);
        struct psi_checkpoint cp;
        latest(f, &cp);
        assert_true(cp.size == sealed_at[k]);
        assert_string_equal(cp.origin, "log-hub");
        memcpy(roots[k], cp.root, 32);
    }
    struct leaves l;
    read_leaves(f, &l, n);
    /* Every signed root is the root of its prefix, computed here. */
    for (size_t k = 0; k < sizeof sealed_at / sizeof sealed_at[0]; k++) {
        unsigned char root[32];
        root_of(&l, sealed_at[k], root);
        assert_memory_equal(root, roots[k], 32);
    }

    counted_ops = f->hub.ops;
    counting_ops = *counted_ops;
    counting_ops.log_hash_get = counting_hash_get;
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, &counting_ops, f->st, PSI_TXN_READ), 0);
    static const uint64_t indices[] = {0, 1, 2, 254, 255, 256, 257, 300, 510, 511, 599};
    for (size_t k = 0; k < sizeof sealed_at / sizeof sealed_at[0]; k++) {
        uint64_t size = sealed_at[k];
        for (size_t i = 0; i < sizeof indices / sizeof indices[0]; i++) {
            if (indices[i] >= size)
                continue;
            unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
            size_t count = 0;
            hash_reads = 0;
            assert_int_equal(psi_hub_log_inclusion(&t, indices[i], size, proof, &count), 0);
            /* O(log n): one stored hash per level, and a few to finish
             * subtrees that are not complete; never a scan of the leaves. */
            assert_true(hash_reads <= 4 * 10 + 4);
            assert_int_equal(psi_merkle_verify_inclusion(l.hash[indices[i]], indices[i], size,
                                                         (const unsigned char(*)[32])proof, count,
                                                         roots[k]),
                             0);
        }
        for (size_t j = 0; j <= k; j++) {
            unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
            size_t count = 0;
            hash_reads = 0;
            assert_int_equal(psi_hub_log_consistency(&t, sealed_at[j], sealed_at[k], proof, &count),
                             0);
            assert_true(hash_reads <= 4 * 10 + 4);
            assert_int_equal(psi_merkle_verify_consistency(sealed_at[j], sealed_at[k],
                                                           (const unsigned char(*)[32])proof, count,
                                                           roots[j], roots[k]),
                             0);
        }
    }
    /* A proof beyond the tree is refused by the proof builder. */
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
    size_t count = 0;
    assert_int_not_equal(psi_hub_log_inclusion(&t, 600, 600, proof, &count), 0);
    psi_txn_rollback(&t);
    free(l.hash);
}

static void test_receipt(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    char *receipt = NULL;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    for (uint64_t i = 0; i < 9; i++) {
        struct psi_logentry e;
        numbered_entry(&e, i);
        assert_int_equal(psi_hub_log_append(&t, &e, NULL), 0);
    }
    assert_int_equal(psi_hub_log_seal_receipt(&t, &f->hub.identity, 5, &receipt), 0);
    uint8_t *entry = NULL;
    size_t entry_len = 0;
    assert_int_equal(psi_hub_log_entry(&t, 5, &entry, &entry_len), 0);
    assert_int_equal(psi_txn_commit(&t), 0);

    assert_non_null(receipt);
    assert_true(
        strncmp(receipt, PSI_TLOG_PROOF_HEADER "\nextra ", strlen(PSI_TLOG_PROOF_HEADER) + 7) == 0);
    struct psi_tlog_proof proof;
    unsigned char extra[PSI_LOGENTRY_MAX_BYTES];
    assert_int_equal(psi_tlog_proof_parse(&proof, receipt, strlen(receipt), extra, sizeof extra),
                     0);
    assert_true(proof.index == 5);
    assert_int_equal(proof.extra_len, entry_len);
    assert_memory_equal(proof.extra, entry, entry_len);
    unsigned char leaf[32];
    psi_merkle_leaf_hash(leaf, entry, entry_len);
    struct psi_checkpoint cp;
    assert_int_equal(psi_tlog_proof_verify(&proof, &f->log_key, NULL, leaf, &cp), 0);
    assert_true(cp.size == 9);
    /* Another entry's hash does not verify. */
    leaf[0] ^= 1;
    assert_int_equal(psi_tlog_proof_verify(&proof, &f->log_key, NULL, leaf, &cp), PSI_ERR_VERIFY);
    free(entry);
    free(receipt);
}

static void test_rollback_and_append_only(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    struct psi_logentry e;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    for (uint64_t i = 0; i < 3; i++) {
        numbered_entry(&e, i);
        assert_int_equal(psi_hub_log_append(&t, &e, NULL), 0);
    }
    assert_int_equal(psi_hub_log_seal(&t, &f->hub.identity, NULL), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    struct psi_checkpoint before, after;
    latest(f, &before);

    /* Appended and sealed, then rolled back: nothing of it stays. */
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    numbered_entry(&e, 77);
    uint64_t index = 0;
    assert_int_equal(psi_hub_log_append(&t, &e, &index), 0);
    assert_true(index == 3);
    assert_int_equal(psi_hub_log_seal(&t, &f->hub.identity, NULL), 0);
    psi_txn_rollback(&t);
    latest(f, &after);
    assert_true(after.size == 3);
    assert_memory_equal(after.root, before.root, 32);

    /* The next append takes index 3 again. */
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    numbered_entry(&e, 3);
    assert_int_equal(psi_hub_log_append(&t, &e, &index), 0);
    assert_true(index == 3);
    /* The backend refuses to write an index twice. */
    static const uint8_t junk[4] = {1, 2, 3, 4};
    unsigned char hash[32] = {0};
    assert_int_equal(f->hub.ops->log_entry_put(&t, 0, junk, sizeof junk), PSI_ERR_EXISTS);
    assert_int_equal(f->hub.ops->log_hash_put(&t, 0, 0, hash), PSI_ERR_EXISTS);
    assert_int_equal(f->hub.ops->log_hash_get(&t, 5, 0, hash), PSI_ERR_NOT_FOUND);
    uint8_t *none = NULL;
    size_t none_len = 0;
    assert_int_equal(f->hub.ops->log_entry_get(&t, 42, &none, &none_len), PSI_ERR_NOT_FOUND);
    assert_null(none);
    assert_int_equal(psi_hub_log_seal(&t, &f->hub.identity, NULL), 0);
    assert_int_equal(psi_txn_commit(&t), 0);

    /* Nor can anything rewrite or delete an entry or a hash through SQL: a
     * hostile operator's view of the SQLite backend's file, whose triggers
     * refuse it (not part of the ops contract; store_contract_test.c). */
    char path[512];
    snprintf(path, sizeof path, "%s/hub.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    static const char *const rewrites[] = {
        "UPDATE log_entry SET entry = X'00' WHERE idx = 1",
        "DELETE FROM log_entry WHERE idx = 1",
        "UPDATE log_hash SET hash = zeroblob(32) WHERE level = 0 AND idx = 1",
        "DELETE FROM log_hash WHERE level = 0 AND idx = 1",
    };
    for (size_t i = 0; i < sizeof rewrites / sizeof rewrites[0]; i++)
        assert_int_not_equal(sqlite3_exec(db, rewrites[i], NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    /* Reopened, the store goes on from its stored frontier. */
    f->hub.ops->close(f->st);
    char err[256];
    assert_int_equal(psi_hub_connect(&f->hub, &f->st, err, sizeof err), 0);
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    numbered_entry(&e, 4);
    assert_int_equal(psi_hub_log_append(&t, &e, &index), 0);
    assert_true(index == 4);
    assert_int_equal(psi_hub_log_seal(&t, &f->hub.identity, NULL), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    struct leaves l;
    read_leaves(f, &l, 5);
    unsigned char root[32];
    root_of(&l, 5, root);
    latest(f, &after);
    assert_true(after.size == 5);
    assert_memory_equal(root, after.root, 32);
    free(l.hash);
}

/* ---------------------------------------------------------------- through the pipeline */

/* Sends a frame as it is; returns the reply's status and body (malloc'd). */
static int send_frame(struct fixture *f, const struct psi_identity *who,
                      const unsigned char rid[16], const uint8_t *frame, size_t frame_len,
                      uint8_t **out, size_t *out_len)
{
    struct psi_hub_outcome o;
    return hub_test_send_frame(&f->hub, f->st, who, rid, frame, frame_len, NULL, 0, out, out_len,
                               &o);
}

static int call(struct fixture *f, const struct psi_identity *who, const char *method,
                const ProtobufCMessage *msg, uint8_t **out, size_t *out_len)
{
    unsigned char rid[16];
    size_t n = 0;
    Psi__Empty empty = PSI__EMPTY__INIT;
    randombytes_buf(rid, sizeof rid);
    uint8_t *body = hub_test_pack(msg ? msg : &empty.base, &n);
    struct psi_hub_outcome o;
    int status =
        hub_test_call(&f->hub, f->st, who, rid, method, body, n, NULL, 0, out, out_len, &o);
    free(body);
    return status;
}

static uint64_t log_size(struct fixture *f)
{
    struct psi_checkpoint cp;
    latest(f, &cp);
    return cp.size;
}

/* The last entry of the log, decoded (refusals point into nothing). */
static void last_entry(struct fixture *f, struct psi_logentry *e)
{
    struct psi_txn t;
    uint64_t n = log_size(f);
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_READ), 0);
    assert_int_equal(psi_hub_log_entry(&t, n - 1, &bytes, &len), 0);
    psi_txn_rollback(&t);
    assert_int_equal(psi_logentry_decode(e, bytes, len), 0);
    free(bytes);
}

static int entries_call(struct fixture *f, const struct psi_identity *who, uint64_t start,
                        uint32_t count, Psi__LogEntries **reply)
{
    Psi__LogEntriesRequest m = PSI__LOG_ENTRIES_REQUEST__INIT;
    m.start = start;
    m.count = count;
    uint8_t *out = NULL;
    size_t out_len = 0;
    *reply = NULL;
    int rc = call(f, who, "log.entries", &m.base, &out, &out_len);
    if (rc == 0) {
        *reply = psi__log_entries__unpack(NULL, out_len, out);
        assert_non_null(*reply);
    }
    free(out);
    return rc;
}

static void test_methods_and_refusals(void **state)
{
    struct fixture *f = *state;
    admit(f, &f->a, "agency");
    admit(f, &f->b, "agency");
    admit(f, &f->aud, "auditor");
    admit(f, &f->gone, "agency");
    struct psi_store_participant p;
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, f->hub.ops, f->st, PSI_TXN_WRITE), 0);
    assert_int_equal(f->hub.ops->participant_remove(&t, "agency-gone"), 0);
    assert_int_equal(f->hub.ops->participant_get(&t, "agency-gone", &p), 0);
    assert_int_equal(psi_hub_log_roster(&t, PSI_LOGENTRY_REMOVE, &p, 2, NULL), 0);
    assert_int_equal(psi_hub_log_seal(&t, &f->hub.identity, NULL), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    psi_store_participant_clear(&p);
    assert_true(log_size(f) == 5);

    /* log.checkpoint for anyone on the roster. */
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(call(f, &f->a, "log.checkpoint", NULL, &out, &out_len), 0);
    Psi__LogCheckpoint *cpm = psi__log_checkpoint__unpack(NULL, out_len, out);
    assert_non_null(cpm);
    struct psi_checkpoint cp;
    assert_int_equal(
        psi_checkpoint_open(&cp, cpm->checkpoint, strlen(cpm->checkpoint), &f->log_key, NULL), 0);
    assert_true(cp.size == 5);
    psi__log_checkpoint__free_unpacked(cpm, NULL);
    free(out);

    /* log.entries: auditors only; an agency's try is a logged denial. */
    Psi__LogEntries *entries = NULL;
    assert_int_equal(entries_call(f, &f->a, 0, 5, &entries), PSI_ERR_DENIED);
    struct psi_logentry e;
    assert_true(log_size(f) == 6);
    last_entry(f, &e);
    assert_int_equal(e.kind, PSI_LOGENTRY_REFUSAL);
    assert_int_equal(e.u.refusal.code, PSI_ERR_DENIED);
    assert_int_equal(e.u.refusal.authenticated, 1);
    assert_string_equal(e.u.refusal.participant, "agency-a");
    assert_string_equal(e.u.refusal.method, "log.entries");

    assert_int_equal(entries_call(f, &f->aud, 0, 256, &entries), 0);
    if (entries == NULL)
        return; /* not reached: the assertion above has failed */
    assert_true(entries->start == 0);
    assert_int_equal(entries->n_entries, 6); /* the run ends at the tree's end */
    psi__log_entries__free_unpacked(entries, NULL);
    assert_int_equal(entries_call(f, &f->aud, 4, 1, &entries), 0);
    if (entries == NULL)
        return; /* not reached: the assertion above has failed */
    assert_int_equal(entries->n_entries, 1);
    psi__log_entries__free_unpacked(entries, NULL);
    /* Bounds: refused, and not logged (they say nothing about anyone). */
    assert_int_equal(entries_call(f, &f->aud, 0, 0, &entries), PSI_ERR_PROTOCOL);
    assert_int_equal(entries_call(f, &f->aud, 0, 257, &entries), PSI_ERR_PROTOCOL);
    assert_int_equal(entries_call(f, &f->aud, 7, 1, &entries), PSI_ERR_PROTOCOL);
    assert_true(log_size(f) == 6);

    /* log.inclusion and log.consistency for everyone, within the tree. */
    Psi__LogInclusionRequest inc = PSI__LOG_INCLUSION_REQUEST__INIT;
    inc.index = 2;
    inc.tree_size = 6;
    assert_int_equal(call(f, &f->b, "log.inclusion", &inc.base, &out, &out_len), 0);
    Psi__LogProof *proof = psi__log_proof__unpack(NULL, out_len, out);
    assert_non_null(proof);
    assert_int_equal(proof->n_hashes, 3);
    psi__log_proof__free_unpacked(proof, NULL);
    free(out);
    inc.tree_size = 7;
    assert_int_equal(call(f, &f->b, "log.inclusion", &inc.base, NULL, NULL), PSI_ERR_PROTOCOL);
    inc.index = 6;
    inc.tree_size = 6;
    assert_int_equal(call(f, &f->b, "log.inclusion", &inc.base, NULL, NULL), PSI_ERR_PROTOCOL);
    Psi__LogConsistencyRequest con = PSI__LOG_CONSISTENCY_REQUEST__INIT;
    con.old_size = 3;
    con.new_size = 6;
    assert_int_equal(call(f, &f->aud, "log.consistency", &con.base, &out, &out_len), 0);
    proof = psi__log_proof__unpack(NULL, out_len, out);
    assert_non_null(proof);
    assert_true(proof->n_hashes > 0);
    psi__log_proof__free_unpacked(proof, NULL);
    free(out);
    con.old_size = 5;
    con.new_size = 4;
    assert_int_equal(call(f, &f->b, "log.consistency", &con.base, NULL, NULL), PSI_ERR_PROTOCOL);
    con.old_size = 5;
    con.new_size = 9;
    assert_int_equal(call(f, &f->b, "log.consistency", &con.base, NULL, NULL), PSI_ERR_PROTOCOL);
    assert_true(log_size(f) == 6);

    /* A bad signature under a roster name: logged, not authenticated. */
    assert_int_equal(call(f, &f->impostor, "log.checkpoint", NULL, NULL, NULL), PSI_ERR_VERIFY);
    assert_true(log_size(f) == 7);
    last_entry(f, &e);
    assert_int_equal(e.u.refusal.code, PSI_ERR_VERIFY);
    assert_int_equal(e.u.refusal.authenticated, 0);
    assert_string_equal(e.u.refusal.participant, "agency-a");

    /* Someone off the roster: not logged. */
    assert_int_equal(call(f, &f->stranger, "log.checkpoint", NULL, NULL, NULL), PSI_ERR_DENIED);
    assert_true(log_size(f) == 7);

    /* A removed participant, signing with its key: a logged denial. */
    assert_int_equal(call(f, &f->gone, "log.checkpoint", NULL, NULL, NULL), PSI_ERR_DENIED);
    assert_true(log_size(f) == 8);
    last_entry(f, &e);
    assert_int_equal(e.u.refusal.code, PSI_ERR_DENIED);
    assert_int_equal(e.u.refusal.authenticated, 1);
    assert_string_equal(e.u.refusal.participant, "agency-gone");

    /* A replayed frame: the first answered, the second a logged replay. */
    unsigned char rid[16];
    uint8_t *frame = NULL, *body = NULL;
    size_t frame_len = 0, n = 0;
    Psi__Empty empty = PSI__EMPTY__INIT;
    randombytes_buf(rid, sizeof rid);
    body = hub_test_pack(&empty.base, &n);
    assert_int_equal(psi_request_seal(&f->b, f->hub.identity.public_key, "info", rid, body, n,
                                      &frame, &frame_len),
                     0);
    assert_int_equal(send_frame(f, &f->b, rid, frame, frame_len, NULL, NULL), 0);
    assert_true(log_size(f) == 8);
    assert_int_equal(send_frame(f, &f->b, rid, frame, frame_len, NULL, NULL), PSI_ERR_REPLAY);
    assert_true(log_size(f) == 9);
    last_entry(f, &e);
    assert_int_equal(e.u.refusal.code, PSI_ERR_REPLAY);
    assert_int_equal(e.u.refusal.authenticated, 1);
    assert_string_equal(e.u.refusal.method, "info");
    unsigned char digest[32];
    crypto_hash_sha256(digest, frame, frame_len);
    assert_memory_equal(e.u.refusal.frame_digest, digest, 32);
    free(frame);
    free(body);

    /* An auditor calling a method that is not for auditors: logged. */
    assert_int_equal(call(f, &f->aud, "work.list", NULL, NULL, NULL), PSI_ERR_DENIED);
    assert_true(log_size(f) == 10);

    /* A submission: its receipt proves its own entry. */
    uint64_t count = 7;
    uint8_t *elements = hub_test_elements(count), upload_id[16];
    randombytes_buf(upload_id, sizeof upload_id);
    Psi__UploadChunk chunk = PSI__UPLOAD_CHUNK__INIT;
    chunk.upload_id.data = upload_id;
    chunk.upload_id.len = 16;
    chunk.items.data = elements;
    chunk.items.len = (size_t)count * 32;
    assert_int_equal(call(f, &f->a, "upload.chunk", &chunk.base, &out, &out_len), 0);
    free(out);
    unsigned char sdigest[32], sig[64];
    hub_test_submission_digest(EPOCH, "agency-a", count, elements, sdigest);
    hub_test_submission_sign(f->a.secret_key, f->hub.identity.public_key, sdigest, sig);
    Psi__SubmitCommit commit = PSI__SUBMIT_COMMIT__INIT;
    commit.upload_id.data = upload_id;
    commit.upload_id.len = 16;
    commit.epoch = (char *)EPOCH;
    commit.count = count;
    commit.digest.data = sdigest;
    commit.digest.len = 32;
    commit.signature.data = sig;
    commit.signature.len = 64;
    commit.indicator_rules = PSI_IOC_RULES_VERSION;
    commit.mutual_suite = psi_mutual_suite();
    assert_int_equal(call(f, &f->a, "submit.commit", &commit.base, &out, &out_len), 0);
    Psi__SubmitReceipt *sr = psi__submit_receipt__unpack(NULL, out_len, out);
    assert_non_null(sr);
    free(out);
    struct psi_tlog_proof tp;
    unsigned char extra[PSI_LOGENTRY_MAX_BYTES];
    assert_int_equal(
        psi_tlog_proof_parse(&tp, sr->receipt, strlen(sr->receipt), extra, sizeof extra), 0);
    unsigned char leaf[32];
    psi_merkle_leaf_hash(leaf, tp.extra, tp.extra_len);
    assert_int_equal(psi_tlog_proof_verify(&tp, &f->log_key, NULL, leaf, &cp), 0);
    assert_true(tp.index == 10 && cp.size == 11);
    assert_int_equal(psi_logentry_decode(&e, tp.extra, tp.extra_len), 0);
    assert_int_equal(e.kind, PSI_LOGENTRY_SUBMISSION);
    assert_string_equal(e.u.submission.participant, "agency-a");
    assert_true(e.u.submission.submission_id == sr->submission_id);
    assert_true(e.u.submission.count == count);
    assert_memory_equal(e.u.submission.digest, sdigest, 32);
    assert_memory_equal(e.u.submission.signature, sig, 64);
    psi__submit_receipt__free_unpacked(sr, NULL);

    /* A commit with a bad signature: refused, its entry undone, the refusal
     * logged in its place. */
    randombytes_buf(upload_id, sizeof upload_id);
    assert_int_equal(call(f, &f->b, "upload.chunk", &chunk.base, &out, &out_len), 0);
    free(out);
    hub_test_submission_digest(EPOCH, "agency-b", count, elements, sdigest);
    hub_test_submission_sign(f->b.secret_key, f->hub.identity.public_key, sdigest, sig);
    sig[0] ^= 1;
    assert_int_equal(call(f, &f->b, "submit.commit", &commit.base, NULL, NULL), PSI_ERR_VERIFY);
    assert_true(log_size(f) == 12);
    last_entry(f, &e);
    assert_int_equal(e.kind, PSI_LOGENTRY_REFUSAL);
    assert_int_equal(e.u.refusal.code, PSI_ERR_VERIFY);
    assert_string_equal(e.u.refusal.method, "submit.commit");
    free(elements);

    /* The auditor's module finds the whole log clean. */
    struct psi_audit *audit = NULL;
    assert_int_equal(psi_audit_create(&audit, f->hub.identity.public_key, NULL, NULL), 0);
    assert_int_equal(entries_call(f, &f->aud, 0, 256, &entries), 0);
    if (entries == NULL) {
        psi_audit_destroy(audit);
        return; /* not reached: the assertion above has failed */
    }
    assert_int_equal(entries->n_entries, 12); /* and this call's start is no refusal */
    for (size_t i = 0; i < entries->n_entries; i++)
        assert_int_equal(psi_audit_entry(audit, entries->entries[i].data, entries->entries[i].len),
                         0);
    psi__log_entries__free_unpacked(entries, NULL);
    struct psi_audit_summary s;
    psi_audit_get_summary(audit, &s);
    assert_true(s.violations == 0);
    assert_true(s.per_kind[PSI_LOGENTRY_ADMIT] == 4);
    assert_true(s.per_kind[PSI_LOGENTRY_REMOVE] == 1);
    assert_true(s.per_kind[PSI_LOGENTRY_SUBMISSION] == 1);
    assert_true(s.per_kind[PSI_LOGENTRY_REFUSAL] == 6);
    psi_audit_destroy(audit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_proofs_and_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receipt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_and_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods_and_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
