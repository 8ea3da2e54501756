/*
 * The store contract: every operation of struct psi_store_ops (store.h), as
 * its comment there promises it, checked through the operations table alone.
 * Nothing here knows a backend: each test gets a fresh, empty location from
 * the registry and the ops of the backend under test, PSI_STORE_BACKEND (the
 * default backend when unset; ctest runs it on SQLite, and on PostgreSQL
 * through tests/e2e/store_contract_pg.sh, which starts a cluster and names
 * its database in PSI_STORE_LOCATION). A backend is done
 * when this suite passes on it (docs/hub.md, "The store").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"
#include "psi/error.h"
#include "psi/merkle.h"
#include "store.h"

#define EPOCH "2026-W01"
#define NOW 1000000u

struct fixture {
    char dir[256];
    char location[4096];
    const struct psi_store_ops *ops;
    struct psi_store *st;
};

static const char *backend_name(void)
{
    const char *name = getenv("PSI_STORE_BACKEND");
    return name != NULL && name[0] != '\0' ? name : PSI_STORE_DEFAULT_BACKEND;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(test_scratch_dir(f->dir, sizeof f->dir, "store-contract"), 0);
    char err[256] = "";
    /* A backend whose store lives on a server is given its location
     * (PSI_STORE_LOCATION, e.g. a PostgreSQL URL); one that keeps its store
     * in a hub directory gets a fresh one. */
    const char *location = getenv("PSI_STORE_LOCATION");
    if (location != NULL && location[0] != '\0') {
        f->ops = psi_store_backend(backend_name());
        assert_non_null(f->ops);
        assert_true(strlen(location) < sizeof f->location);
        snprintf(f->location, sizeof f->location, "%s", location);
    } else {
        assert_int_equal(psi_store_in_dir(f->dir, backend_name(), &f->ops, f->location,
                                          sizeof f->location, err, sizeof err),
                         0);
    }
    int rc = f->ops->create(f->location, &f->st, err, sizeof err);
    if (rc != 0)
        print_error("create %s: %s\n", f->location, err);
    assert_int_equal(rc, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->st != NULL)
        f->ops->close(f->st);
    f->ops->destroy(f->location);
    test_remove_tree(f->dir);
    free(f);
    return 0;
}

static void begin(struct fixture *f, struct psi_txn *t, enum psi_txn_kind kind)
{
    assert_int_equal(psi_txn_begin(t, f->ops, f->st, kind), 0);
}

/* Admits id with role; share: NULL for all, else a list of ids ending in
 * NULL. */
static void admit(struct fixture *f, struct psi_txn *t, const char *id, const char *role,
                  const char *const *share)
{
    struct psi_store_participant p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "%s", id);
    snprintf(p.role, sizeof p.role, "%s", role);
    memset(p.public_key, id[0] + (int)strlen(id), sizeof p.public_key);
    char list[8][PSI_STORE_ID_MAX + 1];
    if (share == NULL) {
        p.share_all = 1;
    } else {
        while (share[p.share_count] != NULL) {
            snprintf(list[p.share_count], sizeof list[0], "%s", share[p.share_count]);
            p.share_count++;
        }
        p.share_with = list;
    }
    assert_int_equal(f->ops->participant_add(t, &p, NOW), 0);
}

/* ---------------------------------------------------------------- the registry */

/* Every backend of the registry sets every operation of its table: the
 * members after `create` are all function pointers, so they are checked as
 * one array of them, which also covers an operation added later. */
typedef void (*any_fn)(void);
_Static_assert((sizeof(struct psi_store_ops) - offsetof(struct psi_store_ops, create)) %
                       sizeof(any_fn) ==
                   0,
               "the operations after create are function pointers");

static void every_backend_sets_every_operation(void **state)
{
    (void)state;
    size_t backends = 0;
    for (const struct psi_store_ops *ops; (ops = psi_store_backend_at(backends)) != NULL;
         backends++) {
        assert_non_null(ops->backend);
        assert_ptr_equal(psi_store_backend(ops->backend), ops);
        assert_true(ops->several_front_ends == 0 || ops->several_front_ends == 1);
        const unsigned char *at =
            (const unsigned char *)ops + offsetof(struct psi_store_ops, create);
        const unsigned char *end = (const unsigned char *)ops + sizeof *ops;
        for (size_t slot = 0; at < end; at += sizeof(any_fn), slot++) {
            any_fn fn;
            memcpy(&fn, at, sizeof fn);
            if (fn == NULL)
                print_error("the %s backend leaves operation %zu (counted from create) unset\n",
                            ops->backend, slot);
            assert_non_null(fn);
        }
    }
    assert_true(backends >= 2); /* sqlite and postgresql */
}

/* ---------------------------------------------------------------- lifecycle */

static void lifecycle(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    struct psi_store *other = NULL;
    /* create refuses an existing store; open opens it */
    assert_int_equal(f->ops->create(f->location, &other, err, sizeof err), PSI_ERR_EXISTS);
    assert_null(other);
    assert_int_equal(f->ops->open(f->location, &other, err, sizeof err), 0);
    struct psi_txn t;
    char v[PSI_STORE_META_MAX + 1];
    assert_int_equal(psi_txn_begin(&t, f->ops, other, PSI_TXN_WRITE), 0);
    assert_int_equal(f->ops->meta_get(&t, "name", v, sizeof v), PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->meta_set(&t, "name", "hub-a"), 0);
    assert_int_equal(f->ops->meta_set(&t, "name", "hub-b"), 0); /* replaced */
    assert_int_equal(psi_txn_commit(&t), 0);
    f->ops->close(other);
    /* what one connection committed, another reads */
    begin(f, &t, PSI_TXN_READ);
    assert_int_equal(f->ops->meta_get(&t, "name", v, sizeof v), 0);
    assert_string_equal(v, "hub-b");
    psi_txn_rollback(&t);
    /* destroyed, there is nothing left to open */
    f->ops->close(f->st);
    f->st = NULL;
    f->ops->destroy(f->location);
    assert_int_not_equal(f->ops->open(f->location, &other, err, sizeof err), 0);
    assert_int_equal(f->ops->create(f->location, &f->st, err, sizeof err), 0);
}

static void transactions(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    char v[64];
    /* a rolled-back write leaves nothing */
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->meta_set(&t, "k", "1"), 0);
    psi_txn_rollback(&t);
    begin(f, &t, PSI_TXN_READ);
    assert_int_equal(f->ops->meta_get(&t, "k", v, sizeof v), PSI_ERR_NOT_FOUND);
    psi_txn_rollback(&t);
    /* undo_to_mark forgets what came after the mark and keeps what came
     * before (a refused request keeps its nonce) */
    const unsigned char nonce[PSI_STORE_NONCE_BYTES] = {1};
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->nonce_record(&t, "agency-a", nonce, NOW, 0), 0);
    assert_int_equal(f->ops->mark(f->st), 0);
    assert_int_equal(f->ops->meta_set(&t, "k", "2"), 0);
    assert_int_equal(f->ops->undo_to_mark(f->st), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->meta_get(&t, "k", v, sizeof v), PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->nonce_record(&t, "agency-a", nonce, NOW, 0), PSI_ERR_REPLAY);
    psi_txn_rollback(&t);
    /* a committed mark keeps what came after it too */
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->mark(f->st), 0);
    assert_int_equal(f->ops->meta_set(&t, "k", "3"), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    begin(f, &t, PSI_TXN_READ);
    assert_int_equal(f->ops->meta_get(&t, "k", v, sizeof v), 0);
    assert_string_equal(v, "3");
    psi_txn_rollback(&t);
}

/* ---------------------------------------------------------------- roster */

struct listed {
    char ids[8][PSI_STORE_ID_MAX + 1];
    size_t n;
    size_t stop_after;
};

static int list_one(void *ctx, const struct psi_store_participant *p)
{
    struct listed *l = ctx;
    snprintf(l->ids[l->n++], sizeof l->ids[0], "%s", p->id);
    return l->stop_after != 0 && l->n == l->stop_after ? 7 : 0;
}

static void participants(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    struct psi_store_participant p;
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->participant_get(&t, "agency-a", &p), PSI_ERR_NOT_FOUND);
    static const char *const only_b[] = {"vendor-b", NULL};
    admit(f, &t, "vendor-b", "vendor", NULL);
    admit(f, &t, "agency-a", "agency", only_b);
    admit(f, &t, "auditor-c", "auditor", NULL);
    /* add refuses an existing id */
    struct psi_store_participant dup;
    memset(&dup, 0, sizeof dup);
    snprintf(dup.id, sizeof dup.id, "agency-a");
    snprintf(dup.role, sizeof dup.role, "vendor");
    dup.share_all = 1;
    assert_int_equal(f->ops->participant_add(&t, &dup, NOW), PSI_ERR_EXISTS);
    assert_int_equal(psi_txn_commit(&t), 0);

    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->participant_get(&t, "agency-a", &p), 0);
    assert_string_equal(p.id, "agency-a");
    assert_string_equal(p.role, "agency");
    unsigned char key[PSI_STORE_KEY_BYTES];
    memset(key, 'a' + 8, sizeof key);
    assert_memory_equal(p.public_key, key, sizeof key);
    assert_int_equal(p.removed, 0);
    assert_int_equal(p.share_all, 0);
    assert_int_equal(p.contribute_only, 0);
    assert_int_equal(p.share_count, 1);
    assert_string_equal(p.share_with[0], "vendor-b");
    assert_int_equal(p.admit_logged, 0);
    assert_int_equal(p.party.set, 0);
    assert_true(psi_store_participant_allows(&p, "vendor-b"));
    assert_false(psi_store_participant_allows(&p, "auditor-c"));
    psi_store_participant_clear(&p);

    /* listing: every id in order, stopped by a non-zero return */
    struct listed l;
    memset(&l, 0, sizeof l);
    assert_int_equal(f->ops->participant_list(&t, list_one, &l), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.ids[0], "agency-a");
    assert_string_equal(l.ids[1], "auditor-c");
    assert_string_equal(l.ids[2], "vendor-b");
    memset(&l, 0, sizeof l);
    l.stop_after = 2;
    assert_int_equal(f->ops->participant_list(&t, list_one, &l), 7);
    assert_int_equal(l.n, 2);

    /* the operator's policy is replaced as a whole */
    const char two[2][PSI_STORE_ID_MAX + 1] = {"auditor-c", "vendor-b"};
    assert_int_equal(f->ops->participant_set_policy(&t, "agency-a", 0, two, 2, 1), 0);
    assert_int_equal(f->ops->participant_get(&t, "agency-a", &p), 0);
    assert_int_equal(p.share_count, 2);
    assert_int_equal(p.contribute_only, 1);
    assert_true(psi_store_participant_contribute_only(&p));
    psi_store_participant_clear(&p);
    assert_int_equal(f->ops->participant_set_policy(&t, "agency-a", 1, NULL, 0, 0), 0);
    assert_int_equal(f->ops->participant_get(&t, "agency-a", &p), 0);
    assert_int_equal(p.share_all, 1);
    assert_int_equal(p.share_count, 0);
    assert_int_equal(p.contribute_only, 0);
    psi_store_participant_clear(&p);

    /* the admission's log entry */
    assert_int_equal(f->ops->participant_set_admit_index(&t, "agency-a", 41), 0);
    assert_int_equal(f->ops->participant_get(&t, "agency-a", &p), 0);
    assert_int_equal(p.admit_logged, 1);
    assert_int_equal(p.admit_index, 41);
    psi_store_participant_clear(&p);

    /* removal keeps the participant, marked */
    assert_int_equal(f->ops->participant_remove(&t, "vendor-b"), 0);
    assert_int_equal(f->ops->participant_get(&t, "vendor-b", &p), 0);
    assert_int_equal(p.removed, 1);
    psi_store_participant_clear(&p);
    memset(&l, 0, sizeof l);
    assert_int_equal(f->ops->participant_list(&t, list_one, &l), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static void party_policy_narrows(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    struct psi_store_participant p;
    begin(f, &t, PSI_TXN_WRITE);
    admit(f, &t, "agency-a", "agency", NULL);
    admit(f, &t, "agency-b", "agency", NULL);
    admit(f, &t, "vendor-c", "vendor", NULL);
    struct psi_store_party_policy pp;
    memset(&pp, 0, sizeof pp);
    char only_c[1][PSI_STORE_ID_MAX + 1] = {"vendor-c"};
    pp.issued_ms = 77;
    pp.share_count = 1;
    pp.share_with = only_c;
    memset(pp.signature, 9, sizeof pp.signature);
    pp.log_index = 5;
    assert_int_equal(f->ops->party_policy_put(&t, "nobody", &pp, NOW), PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->party_policy_put(&t, "agency-a", &pp, NOW), 0);
    assert_int_equal(f->ops->participant_get(&t, "agency-a", &p), 0);
    assert_int_equal(p.party.set, 1);
    assert_int_equal(p.party.issued_ms, 77);
    assert_int_equal(p.party.share_all, 0);
    assert_int_equal(p.party.contribute_only, 0);
    assert_int_equal(p.party.share_count, 1);
    assert_string_equal(p.party.share_with[0], "vendor-c");
    assert_memory_equal(p.party.signature, pp.signature, sizeof pp.signature);
    assert_int_equal(p.party.log_index, 5);
    /* the operator shares with all; the party's own statement narrows it */
    assert_true(psi_store_participant_allows(&p, "vendor-c"));
    assert_false(psi_store_participant_allows(&p, "agency-b"));
    psi_store_participant_clear(&p);
    /* a later statement replaces the earlier one */
    pp.issued_ms = 78;
    pp.share_all = 1;
    pp.share_count = 0;
    pp.share_with = NULL;
    pp.contribute_only = 1;
    assert_int_equal(f->ops->party_policy_put(&t, "agency-a", &pp, NOW), 0);
    assert_int_equal(f->ops->participant_get(&t, "agency-a", &p), 0);
    assert_int_equal(p.party.issued_ms, 78);
    assert_int_equal(p.party.share_all, 1);
    assert_int_equal(p.party.share_count, 0);
    assert_true(psi_store_participant_allows(&p, "agency-b"));
    assert_true(psi_store_participant_contribute_only(&p));
    psi_store_participant_clear(&p);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static void element_quotas(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    uint64_t limit = 99;
    begin(f, &t, PSI_TXN_WRITE);
    admit(f, &t, "agency-a", "agency", NULL);
    assert_int_equal(f->ops->element_quota_get(&t, "agency-a", &limit), PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->element_quota_set(&t, "agency-a", 1000), 0);
    assert_int_equal(f->ops->element_quota_get(&t, "agency-a", &limit), 0);
    assert_int_equal(limit, 1000);
    assert_int_equal(f->ops->element_quota_set(&t, "agency-a", 0), 0);
    assert_int_equal(f->ops->element_quota_get(&t, "agency-a", &limit), 0);
    assert_int_equal(limit, 0);
    assert_int_equal(f->ops->element_quota_set(&t, "nobody", 5), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* ---------------------------------------------------------------- requests */

static void refusal_budget(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    int granted = -1;
    begin(f, &t, PSI_TXN_WRITE);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            f->ops->refusal_budget_take(&t, "agency-a", NOW + (uint64_t)i, 1000, 3, &granted), 0);
        assert_int_equal(granted, 1);
    }
    assert_int_equal(f->ops->refusal_budget_take(&t, "agency-a", NOW + 999, 1000, 3, &granted), 0);
    assert_int_equal(granted, 0);
    /* another participant's budget is its own */
    assert_int_equal(f->ops->refusal_budget_take(&t, "agency-b", NOW + 999, 1000, 3, &granted), 0);
    assert_int_equal(granted, 1);
    /* the window, begun by the first grant, has passed: a new one */
    assert_int_equal(f->ops->refusal_budget_take(&t, "agency-a", NOW + 1000, 1000, 3, &granted), 0);
    assert_int_equal(granted, 1);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static void nonces(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    const unsigned char n1[PSI_STORE_NONCE_BYTES] = {1}, n2[PSI_STORE_NONCE_BYTES] = {2};
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->nonce_record(&t, "agency-a", n1, NOW, 0), 0);
    assert_int_equal(f->ops->nonce_record(&t, "agency-a", n1, NOW + 5, 0), PSI_ERR_REPLAY);
    assert_int_equal(f->ops->nonce_record(&t, "agency-b", n1, NOW, 0), 0); /* per sender */
    assert_int_equal(f->ops->nonce_record(&t, "agency-a", n2, NOW, 0), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    /* forgotten once older than the limit (then the timestamp window, the
     * hub's, refuses it instead) */
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->nonce_record(&t, "agency-c", n2, NOW + 100, NOW + 1), 0);
    assert_int_equal(f->ops->nonce_record(&t, "agency-a", n1, NOW + 100, NOW + 1), 0);
    assert_int_equal(f->ops->nonce_record(&t, "agency-c", n2, NOW + 100, NOW + 1), PSI_ERR_REPLAY);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static void replies(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    const unsigned char rid[PSI_STORE_REQUEST_ID_BYTES] = {3};
    char method[PSI_STORE_METHOD_MAX + 1];
    uint8_t *body = NULL;
    size_t len = 0;
    const uint8_t stored[] = {0, 1, 2, 0, 4};
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->reply_get(&t, "agency-a", rid, method, &body, &len),
                     PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->reply_put(&t, "agency-a", rid, "submit", stored, sizeof stored, NOW),
                     0);
    /* a retry is answered with the stored reply, never a second one */
    assert_int_equal(f->ops->reply_put(&t, "agency-a", rid, "submit", stored, 2, NOW),
                     PSI_ERR_EXISTS);
    assert_int_equal(f->ops->reply_put(&t, "agency-b", rid, "fetch", NULL, 0, NOW), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    begin(f, &t, PSI_TXN_READ);
    assert_int_equal(f->ops->reply_get(&t, "agency-a", rid, method, &body, &len), 0);
    assert_string_equal(method, "submit");
    assert_int_equal(len, sizeof stored);
    assert_memory_equal(body, stored, sizeof stored);
    free(body);
    body = NULL;
    assert_int_equal(f->ops->reply_get(&t, "agency-b", rid, method, &body, &len), 0);
    assert_string_equal(method, "fetch");
    assert_int_equal(len, 0);
    free(body);
    psi_txn_rollback(&t);
    /* forget_older drops replies older than its limit */
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->forget_older(&t, NOW + 1, 0), 0);
    body = NULL;
    assert_int_equal(f->ops->reply_get(&t, "agency-a", rid, method, &body, &len),
                     PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static void staging(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    const unsigned char u1[PSI_STORE_UPLOAD_ID_BYTES] = {1}, u2[PSI_STORE_UPLOAD_ID_BYTES] = {2};
    uint8_t bytes[100];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)i;
    uint64_t received = 99, total = 99;
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->staging_size(&t, "agency-a", u1, &received, &total), 0);
    assert_int_equal(received, 0);
    assert_int_equal(total, 0);
    assert_int_equal(f->ops->staging_append(&t, "agency-a", u1, 0, bytes, 30, NOW), 0);
    assert_int_equal(f->ops->staging_append(&t, "agency-a", u1, 30, bytes + 30, 50, NOW), 0);
    assert_int_equal(f->ops->staging_append(&t, "agency-a", u2, 0, bytes, 7, NOW), 0);
    assert_int_equal(f->ops->staging_append(&t, "agency-b", u1, 0, bytes, 11, NOW), 0);
    assert_int_equal(f->ops->staging_size(&t, "agency-a", u1, &received, &total), 0);
    assert_int_equal(received, 80);
    assert_int_equal(total, 87);
    uint8_t out[80];
    assert_int_equal(f->ops->staging_read(&t, "agency-a", u1, 0, out, 80), 0);
    assert_memory_equal(out, bytes, 80);
    assert_int_equal(f->ops->staging_read(&t, "agency-a", u1, 25, out, 10), 0); /* across */
    assert_memory_equal(out, bytes + 25, 10);
    assert_int_equal(f->ops->staging_drop(&t, "agency-a", u1), 0);
    assert_int_equal(f->ops->staging_size(&t, "agency-a", u1, &received, &total), 0);
    assert_int_equal(received, 0);
    assert_int_equal(total, 7);
    assert_int_equal(psi_txn_commit(&t), 0);
    /* abandoned uploads are forgotten */
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->forget_older(&t, 0, NOW + 1), 0);
    assert_int_equal(f->ops->staging_size(&t, "agency-b", u1, &received, &total), 0);
    assert_int_equal(received, 0);
    assert_int_equal(total, 0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* ---------------------------------------------------------------- matching */

static uint64_t submit_at(struct fixture *f, struct psi_txn *t, const char *owner,
                          const char *epoch, uint64_t count, uint64_t now_ms)
{
    struct psi_store_submission s;
    memset(&s, 0, sizeof s);
    snprintf(s.owner, sizeof s.owner, "%s", owner);
    snprintf(s.epoch, sizeof s.epoch, "%s", epoch);
    s.count = count;
    assert_int_equal(f->ops->positions_in_epoch(t, owner, epoch, &s.position_base), 0);
    memset(s.digest, 4, sizeof s.digest);
    memset(s.signature, 5, sizeof s.signature);
    uint8_t *elements = calloc(count, PSI_STORE_ELEMENT_BYTES);
    assert_non_null(elements);
    for (uint64_t i = 0; i < count; i++)
        elements[i * PSI_STORE_ELEMENT_BYTES] = (uint8_t)(s.position_base + i);
    assert_int_equal(f->ops->submission_add(t, &s, elements, now_ms), 0);
    free(elements);
    return s.id;
}

static uint64_t submit(struct fixture *f, struct psi_txn *t, const char *owner, const char *epoch,
                       uint64_t count)
{
    return submit_at(f, t, owner, epoch, count, NOW);
}

struct work {
    uint64_t ids[8];
    size_t n;
};

static int work_one(void *ctx, const struct psi_store_submission *s)
{
    struct work *w = ctx;
    w->ids[w->n++] = s->id;
    return 0;
}

static enum psi_work_status status_of(struct fixture *f, struct psi_txn *t, const char *me,
                                      uint64_t id)
{
    enum psi_work_status st = PSI_WORK_DONE + 1;
    assert_int_equal(f->ops->work_status(t, me, EPOCH, id, &st), 0);
    return st;
}

struct sub_listed {
    uint64_t ids[8];
    size_t n;
};

static int sub_list_one(void *ctx, const struct psi_store_submission *s)
{
    struct sub_listed *l = ctx;
    if (l->n < 8)
        l->ids[l->n] = s->id;
    l->n++;
    return 0;
}

static void submissions(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    begin(f, &t, PSI_TXN_WRITE);
    admit(f, &t, "agency-a", "agency", NULL);
    uint64_t positions = 9;
    assert_int_equal(f->ops->positions_in_epoch(&t, "agency-a", EPOCH, &positions), 0);
    assert_int_equal(positions, 0);
    uint64_t a1 = submit(f, &t, "agency-a", EPOCH, 3);
    uint64_t a2 = submit(f, &t, "agency-a", EPOCH, 40000); /* more than a block of any size */
    uint64_t other = submit(f, &t, "agency-a", "2026-W02", 2);
    assert_true(a1 != a2 && a2 != other);
    assert_int_equal(f->ops->positions_in_epoch(&t, "agency-a", EPOCH, &positions), 0);
    assert_int_equal(positions, 40003);
    struct psi_store_submission s;
    assert_int_equal(f->ops->submission_get(&t, a2, &s), 0);
    assert_int_equal(s.id, a2);
    assert_string_equal(s.owner, "agency-a");
    assert_string_equal(s.epoch, EPOCH);
    assert_int_equal(s.count, 40000);
    assert_int_equal(s.position_base, 3);
    assert_int_equal(s.digest[0], 4);
    assert_int_equal(s.signature[63], 5);
    assert_int_equal(f->ops->submission_get(&t, a2 + other + 100, &s), PSI_ERR_NOT_FOUND);
    uint8_t out[3 * PSI_STORE_ELEMENT_BYTES];
    /* elements read from any offset, across the backend's blocks */
    assert_int_equal(f->ops->elements_read(&t, a2, 16383, 3, out), 0);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(out[(size_t)i * PSI_STORE_ELEMENT_BYTES], (uint8_t)(3 + 16383 + i));
    assert_int_equal(f->ops->elements_read(&t, a1, 0, 3, out), 0);
    assert_int_equal(out[(size_t)2 * PSI_STORE_ELEMENT_BYTES], 2);
    /* submission_list: the owner's of the epoch, in id order, none of others */
    admit(f, &t, "agency-b", "agency", NULL);
    uint64_t b1 = submit(f, &t, "agency-b", EPOCH, 1);
    struct sub_listed l = {{0}, 0};
    assert_int_equal(f->ops->submission_list(&t, "agency-a", EPOCH, sub_list_one, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.ids[0], a1);
    assert_int_equal(l.ids[1], a2);
    l.n = 0;
    assert_int_equal(f->ops->submission_list(&t, "agency-a", "2026-W02", sub_list_one, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], other);
    l.n = 0;
    assert_int_equal(f->ops->submission_list(&t, "agency-b", EPOCH, sub_list_one, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], b1);
    l.n = 0;
    assert_int_equal(f->ops->submission_list(&t, "nobody", EPOCH, sub_list_one, &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* Tags of owner's count positions from base under blinder's key: tag(x) is
 * the same whoever's key blinded it second, as the commutative cross-blind
 * makes it; values[] are the owner's indicators. */
static void crossblind(struct fixture *f, struct psi_txn *t, uint64_t submission,
                       const char *blinder, const uint8_t *values, uint64_t count,
                       uint64_t *matched, uint64_t *peer_matched)
{
    struct psi_store_crossblind cb;
    memset(&cb, 0, sizeof cb);
    cb.submission_id = submission;
    snprintf(cb.blinder, sizeof cb.blinder, "%s", blinder);
    cb.count = count;
    uint8_t tags[16 * PSI_STORE_TAG_BYTES];
    memset(tags, 0, sizeof tags);
    for (uint64_t i = 0; i < count; i++)
        memset(tags + i * PSI_STORE_TAG_BYTES, values[i], PSI_STORE_TAG_BYTES);
    assert_int_equal(f->ops->crossblind_add(t, &cb, tags, NOW, matched, peer_matched), 0);
}

struct results {
    uint64_t positions[16];
    size_t peers[16];
    char first_peer[16][PSI_STORE_ID_MAX + 1];
    size_t n;
};

static int result_one(void *ctx, uint64_t position, const char *const *peers, size_t count)
{
    struct results *r = ctx;
    r->positions[r->n] = position;
    r->peers[r->n] = count;
    snprintf(r->first_peer[r->n], sizeof r->first_peer[0], "%s", count ? peers[0] : "");
    r->n++;
    return 0;
}

static struct results results_of(struct fixture *f, const char *me, uint32_t threshold)
{
    struct psi_txn t;
    struct results r;
    memset(&r, 0, sizeof r);
    begin(f, &t, PSI_TXN_READ);
    assert_int_equal(f->ops->results(&t, me, EPOCH, threshold, result_one, &r), 0);
    psi_txn_rollback(&t);
    return r;
}

/* A holds {1, 2, 3}, B holds {3, 4, 2}: they share 2 and 3. */
static const uint8_t A_VALUES[] = {1, 2, 3}, B_VALUES[] = {3, 4, 2};

static void join_in_order(struct fixture *f, int a_first)
{
    struct psi_txn t;
    begin(f, &t, PSI_TXN_WRITE);
    admit(f, &t, "agency-a", "agency", NULL);
    admit(f, &t, "agency-b", "agency", NULL);
    uint64_t sa = submit(f, &t, "agency-a", EPOCH, 3);
    uint64_t sb = submit(f, &t, "agency-b", EPOCH, 3);
    assert_int_equal(status_of(f, &t, "agency-b", sa), PSI_WORK_PENDING);
    assert_int_equal(status_of(f, &t, "agency-a", sa), PSI_WORK_NONE); /* its own */
    uint64_t m1 = 9, p1 = 9, m2 = 9, p2 = 9;
    /* the first batch finds nothing to join yet; the second finds both
     * sides: its owner's positions and the blinder's */
    if (a_first) {
        crossblind(f, &t, sa, "agency-b", A_VALUES, 3, &m1, &p1);
        crossblind(f, &t, sb, "agency-a", B_VALUES, 3, &m2, &p2);
    } else {
        crossblind(f, &t, sb, "agency-a", B_VALUES, 3, &m1, &p1);
        crossblind(f, &t, sa, "agency-b", A_VALUES, 3, &m2, &p2);
    }
    assert_int_equal(m1, 0);
    assert_int_equal(p1, 0);
    assert_int_equal(m2, 2);
    assert_int_equal(p2, 2);
    assert_int_equal(status_of(f, &t, "agency-b", sa), PSI_WORK_DONE);
    assert_int_equal(status_of(f, &t, "agency-a", sb), PSI_WORK_DONE);
    assert_int_equal(psi_txn_commit(&t), 0);
    /* A's positions 1 and 2 (values 2, 3), B's 0 and 2 (values 3, 2) */
    struct results r = results_of(f, "agency-a", 2);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.positions[0], 1);
    assert_int_equal(r.positions[1], 2);
    assert_int_equal(r.peers[0], 1);
    assert_string_equal(r.first_peer[0], "agency-b");
    r = results_of(f, "agency-b", 2);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.positions[0], 0);
    assert_int_equal(r.positions[1], 2);
    /* two parties hold each: a threshold of three shows none */
    r = results_of(f, "agency-a", 3);
    assert_int_equal(r.n, 0);
}

static void join_owner_first(void **state)
{
    join_in_order(*state, 1);
}

static void join_blinder_first(void **state)
{
    join_in_order(*state, 0);
}

/* A value held at two positions matches at both, and a later submission of
 * the same owner joins with what the pair already holds: A holds {5, 5, 6}
 * then {7}; B holds {5, 7}. */
static void join_repeated_values_and_later_submissions(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    begin(f, &t, PSI_TXN_WRITE);
    admit(f, &t, "agency-a", "agency", NULL);
    admit(f, &t, "agency-b", "agency", NULL);
    uint64_t sa1 = submit(f, &t, "agency-a", EPOCH, 3);
    uint64_t sb = submit(f, &t, "agency-b", EPOCH, 2);
    const uint8_t a1[] = {5, 5, 6}, a2[] = {7}, b[] = {5, 7};
    uint64_t m = 9, p = 9;
    crossblind(f, &t, sa1, "agency-b", a1, 3, &m, &p);
    assert_int_equal(m, 0);
    assert_int_equal(p, 0);
    crossblind(f, &t, sb, "agency-a", b, 2, &m, &p);
    assert_int_equal(m, 1); /* B's position 0 */
    assert_int_equal(p, 2); /* A's positions 0 and 1 */
    uint64_t sa2 = submit(f, &t, "agency-a", EPOCH, 1);
    crossblind(f, &t, sa2, "agency-b", a2, 1, &m, &p);
    assert_int_equal(m, 1); /* A's position 3 */
    assert_int_equal(p, 1); /* B's position 1 */
    assert_int_equal(psi_txn_commit(&t), 0);
    struct results r = results_of(f, "agency-a", 2);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.positions[0], 0);
    assert_int_equal(r.positions[1], 1);
    assert_int_equal(r.positions[2], 3);
    r = results_of(f, "agency-b", 2);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.positions[0], 0);
    assert_int_equal(r.positions[1], 1);
    assert_int_equal(r.peers[1], 1);
    assert_string_equal(r.first_peer[1], "agency-a");
}

static void threshold_and_policy_of_results(void **state)
{
    struct fixture *f = *state;
    join_in_order(f, 1);
    struct psi_txn t;
    /* C holds {2}: A's position 1 is then held by three parties */
    begin(f, &t, PSI_TXN_WRITE);
    admit(f, &t, "agency-c", "agency", NULL);
    uint64_t sc = submit(f, &t, "agency-c", EPOCH, 1);
    const uint8_t c_values[] = {2};
    struct work w;
    memset(&w, 0, sizeof w);
    assert_int_equal(f->ops->work_list(&t, "agency-c", EPOCH, work_one, &w), 0);
    assert_int_equal(w.n, 2); /* A's and B's submissions */
    uint64_t m = 0, p = 0;
    crossblind(f, &t, sc, "agency-a", c_values, 1, &m, &p);
    assert_int_equal(m, 0);
    crossblind(f, &t, w.ids[0], "agency-c", w.ids[0] == 1 ? A_VALUES : B_VALUES, 3, &m, &p);
    assert_int_equal(m, 1);
    assert_int_equal(p, 1);
    assert_int_equal(psi_txn_commit(&t), 0);
    struct results r = results_of(f, "agency-a", 3);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.positions[0], 1);
    assert_int_equal(r.peers[0], 2);
    /* results name only peers that still allow me, that I allow, and that
     * are not removed */
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->participant_remove(&t, "agency-c"), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    r = results_of(f, "agency-a", 2);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.peers[0], 1);
    assert_string_equal(r.first_peer[0], "agency-b");
    begin(f, &t, PSI_TXN_WRITE);
    const char none[1][PSI_STORE_ID_MAX + 1] = {"agency-z"};
    assert_int_equal(f->ops->participant_set_policy(&t, "agency-b", 0, none, 1, 0), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    assert_int_equal(results_of(f, "agency-a", 2).n, 0);
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->participant_set_policy(&t, "agency-b", 1, NULL, 0, 0), 0);
    struct psi_store_party_policy pp;
    memset(&pp, 0, sizeof pp);
    pp.share_count = 1;
    pp.share_with = (char(*)[PSI_STORE_ID_MAX + 1]) none;
    assert_int_equal(f->ops->party_policy_put(&t, "agency-a", &pp, NOW), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    assert_int_equal(results_of(f, "agency-a", 2).n, 0); /* A's own statement */
    assert_int_equal(results_of(f, "agency-b", 2).n, 0); /* A no longer allows B */
}

/* ---------------------------------------------------------------- the operator's view */

struct overlap_rows {
    char owner[8][PSI_STORE_ID_MAX + 1], peer[8][PSI_STORE_ID_MAX + 1];
    uint64_t matches[8];
    size_t n;
};

static int overlap_one(void *ctx, const char *owner, const char *peer, uint64_t matches)
{
    struct overlap_rows *r = ctx;
    assert_true(r->n < 8);
    snprintf(r->owner[r->n], sizeof r->owner[0], "%s", owner);
    snprintf(r->peer[r->n], sizeof r->peer[0], "%s", peer);
    r->matches[r->n++] = matches;
    return 0;
}

static int overlap_stop(void *ctx, const char *owner, const char *peer, uint64_t matches)
{
    (void)owner, (void)peer, (void)matches;
    *(int *)ctx += 1;
    return 7;
}

static struct overlap_rows overlap_of(struct fixture *f, const char *epoch)
{
    struct psi_txn t;
    struct overlap_rows r;
    memset(&r, 0, sizeof r);
    begin(f, &t, PSI_TXN_READ);
    assert_int_equal(f->ops->overlap_counts(&t, epoch, overlap_one, &r), 0);
    psi_txn_rollback(&t);
    return r;
}

static void usage_and_overlap_map(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    struct psi_store_usage u;
    begin(f, &t, PSI_TXN_READ);
    assert_int_equal(f->ops->usage(&t, &u), 0);
    psi_txn_rollback(&t);
    assert_int_equal(u.elements, 0);
    assert_int_equal(u.tags, 0);
    assert_int_equal(u.matches, 0);
    assert_true(u.bytes > 0); /* an empty store still has its schema */
    assert_int_equal(overlap_of(f, EPOCH).n, 0);

    /* A {1,2,3} and B {3,4,2} share 2 and 3; C {2} joins with A only */
    join_in_order(f, 1);
    begin(f, &t, PSI_TXN_WRITE);
    admit(f, &t, "agency-c", "agency", NULL);
    uint64_t sc = submit(f, &t, "agency-c", EPOCH, 1);
    const uint8_t c_values[] = {2};
    uint64_t m = 0, p = 0;
    crossblind(f, &t, sc, "agency-a", c_values, 1, &m, &p);
    crossblind(f, &t, 1, "agency-c", A_VALUES, 3, &m, &p);
    (void)submit(f, &t, "agency-c", "2026-W02", 2); /* another epoch */
    assert_int_equal(psi_txn_commit(&t), 0);

    struct overlap_rows r = overlap_of(f, EPOCH);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.owner[0], "agency-a");
    assert_string_equal(r.peer[0], "agency-b");
    assert_int_equal(r.matches[0], 2);
    assert_string_equal(r.owner[1], "agency-a");
    assert_string_equal(r.peer[1], "agency-c");
    assert_int_equal(r.matches[1], 1);
    assert_string_equal(r.owner[2], "agency-b");
    assert_string_equal(r.peer[2], "agency-a");
    assert_int_equal(r.matches[2], 2);
    assert_string_equal(r.owner[3], "agency-c");
    assert_string_equal(r.peer[3], "agency-a");
    assert_int_equal(r.matches[3], 1);
    assert_int_equal(overlap_of(f, "2026-W02").n, 0);

    /* the map is the join's, whatever the roster says now */
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->participant_remove(&t, "agency-c"), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    assert_int_equal(overlap_of(f, EPOCH).n, 4);

    /* a callback's non-zero return stops the listing and is returned */
    int calls = 0;
    begin(f, &t, PSI_TXN_READ);
    assert_int_equal(f->ops->overlap_counts(&t, EPOCH, overlap_stop, &calls), 7);
    assert_int_equal(calls, 1);
    assert_int_equal(f->ops->usage(&t, &u), 0);
    psi_txn_rollback(&t);
    assert_int_equal(u.elements, 3 + 3 + 1 + 2);
    assert_int_equal(u.tags, 3 + 3 + 1 + 3);
    assert_int_equal(u.matches, 6);
    assert_true(u.bytes > 0);
}

static void work_follows_policy(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    static const char *const only_a[] = {"agency-a", NULL};
    begin(f, &t, PSI_TXN_WRITE);
    admit(f, &t, "agency-a", "agency", NULL);
    admit(f, &t, "agency-b", "agency", NULL);
    admit(f, &t, "vendor-c", "vendor", only_a);
    admit(f, &t, "auditor-d", "auditor", NULL);
    uint64_t sa = submit(f, &t, "agency-a", EPOCH, 1);
    uint64_t sc = submit(f, &t, "vendor-c", EPOCH, 1);
    submit(f, &t, "agency-a", "2026-W02", 1); /* another epoch */
    struct work w;
    memset(&w, 0, sizeof w);
    assert_int_equal(f->ops->work_list(&t, "agency-b", EPOCH, work_one, &w), 0);
    assert_int_equal(w.n, 1); /* C does not share with B */
    assert_int_equal(w.ids[0], sa);
    assert_int_equal(status_of(f, &t, "agency-b", sc), PSI_WORK_NONE);
    memset(&w, 0, sizeof w);
    assert_int_equal(f->ops->work_list(&t, "agency-a", EPOCH, work_one, &w), 0);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.ids[0], sc);
    /* auditors neither blind nor are blinded */
    memset(&w, 0, sizeof w);
    assert_int_equal(f->ops->work_list(&t, "auditor-d", EPOCH, work_one, &w), 0);
    assert_int_equal(w.n, 0);
    assert_int_equal(status_of(f, &t, "auditor-d", sa), PSI_WORK_NONE);
    /* a removed owner's submissions are no one's work */
    assert_int_equal(f->ops->participant_remove(&t, "vendor-c"), 0);
    assert_int_equal(status_of(f, &t, "agency-a", sc), PSI_WORK_NONE);
    /* nor are those of one whose own statement leaves me out */
    struct psi_store_party_policy pp;
    memset(&pp, 0, sizeof pp);
    assert_int_equal(f->ops->party_policy_put(&t, "agency-a", &pp, NOW), 0); /* shares with none */
    assert_int_equal(status_of(f, &t, "agency-b", sa), PSI_WORK_NONE);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* ---------------------------------------------------------------- the log */

static void log_storage(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    struct psi_merkle_frontier fr;
    char cp[256];
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->log_head_get(&t, &fr, cp, sizeof cp), PSI_ERR_NOT_FOUND);
    psi_merkle_frontier_init(&fr);
    assert_int_equal(f->ops->log_head_put(&t, &fr, NULL), 0);
    assert_int_equal(f->ops->log_head_get(&t, &fr, cp, sizeof cp), 0);
    assert_string_equal(cp, ""); /* none signed yet */
    const uint8_t e0[] = {1, 2, 3}, e1[] = {4};
    unsigned char h[32], got[32];
    for (uint64_t i = 0; i < 2; i++) {
        memset(h, (int)(i + 1), sizeof h);
        assert_int_equal(f->ops->log_entry_put(&t, i, i ? e1 : e0, i ? sizeof e1 : sizeof e0), 0);
        assert_int_equal(psi_merkle_frontier_append(&fr, h, NULL, NULL), 0);
        assert_int_equal(f->ops->log_hash_put(&t, 0, i, h), 0);
    }
    assert_int_equal(f->ops->log_hash_put(&t, 1, 0, h), 0);
    assert_int_equal(f->ops->log_head_put(&t, &fr, "checkpoint 2"), 0);
    /* written once: a taken index is refused */
    assert_int_equal(f->ops->log_entry_put(&t, 1, e0, sizeof e0), PSI_ERR_EXISTS);
    assert_int_equal(f->ops->log_hash_put(&t, 0, 1, h), PSI_ERR_EXISTS);
    assert_int_equal(psi_txn_commit(&t), 0);

    begin(f, &t, PSI_TXN_WRITE);
    struct psi_merkle_frontier back;
    assert_int_equal(f->ops->log_head_get(&t, &back, cp, sizeof cp), 0);
    assert_int_equal(back.size, 2);
    assert_memory_equal(back.hashes, fr.hashes, psi_merkle_frontier_count(&fr) * 32);
    assert_string_equal(cp, "checkpoint 2");
    /* NULL keeps the stored checkpoint */
    assert_int_equal(f->ops->log_head_put(&t, &fr, NULL), 0);
    assert_int_equal(f->ops->log_head_get(&t, &back, cp, sizeof cp), 0);
    assert_string_equal(cp, "checkpoint 2");
    uint8_t *entry = NULL;
    size_t len = 0;
    assert_int_equal(f->ops->log_entry_get(&t, 0, &entry, &len), 0);
    assert_int_equal(len, sizeof e0);
    assert_memory_equal(entry, e0, sizeof e0);
    free(entry);
    entry = NULL;
    assert_int_equal(f->ops->log_entry_get(&t, 2, &entry, &len), PSI_ERR_NOT_FOUND);
    assert_null(entry);
    assert_int_equal(f->ops->log_hash_get(&t, 0, 0, got), 0);
    memset(h, 1, sizeof h);
    assert_memory_equal(got, h, 32);
    assert_int_equal(f->ops->log_hash_get(&t, 1, 0, got), 0);
    assert_int_equal(f->ops->log_hash_get(&t, 1, 1, got), PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->log_hash_get(&t, 0, 2, got), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* ---------------------------------------------------------------- feeds */

static void feed_keys(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    struct psi_store_feed_key k, got;
    memset(&k, 0, sizeof k);
    snprintf(k.vendor, sizeof k.vendor, "vendor-v");
    snprintf(k.epoch, sizeof k.epoch, EPOCH);
    memset(k.public_key, 1, sizeof k.public_key);
    memset(k.signature, 2, sizeof k.signature);
    k.log_index = 12;
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->feed_key_get(&t, "vendor-v", EPOCH, &got), PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->feed_key_put(&t, &k, NOW), 0);
    memset(k.public_key, 3, sizeof k.public_key);
    assert_int_equal(f->ops->feed_key_put(&t, &k, NOW), PSI_ERR_EXISTS); /* one per epoch */
    assert_int_equal(f->ops->feed_key_get(&t, "vendor-v", EPOCH, &got), 0);
    assert_string_equal(got.vendor, "vendor-v");
    assert_string_equal(got.epoch, EPOCH);
    assert_int_equal(got.public_key[0], 1);
    assert_int_equal(got.signature[0], 2);
    assert_int_equal(got.log_index, 12);
    assert_int_equal(f->ops->feed_key_get(&t, "vendor-v", "2026-W02", &got), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static void feeds(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    size_t size = (5u << 20) / 2; /* more than a block of any size a backend picks */
    uint8_t *bytes = malloc(size);
    assert_non_null(bytes);
    for (size_t i = 0; i < size; i++)
        bytes[i] = (uint8_t)(i * 7 + (i >> 12));
    struct psi_store_feed fd, got;
    memset(&fd, 0, sizeof fd);
    snprintf(fd.vendor, sizeof fd.vendor, "vendor-v");
    snprintf(fd.epoch, sizeof fd.epoch, EPOCH);
    fd.count = 1000;
    fd.rate = 0.001;
    fd.size = size;
    memset(fd.digest, 8, sizeof fd.digest);
    memset(fd.signature, 9, sizeof fd.signature);
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->feed_get(&t, "vendor-v", EPOCH, &got), PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->feed_put(&t, &fd, bytes, NOW), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    begin(f, &t, PSI_TXN_READ);
    assert_int_equal(f->ops->feed_get(&t, "vendor-v", EPOCH, &got), 0);
    assert_int_equal(got.count, 1000);
    assert_true(got.rate == 0.001);
    assert_int_equal(got.size, size);
    assert_int_equal(got.digest[31], 8);
    assert_int_equal(got.signature[63], 9);
    uint8_t *out = malloc(size);
    assert_non_null(out);
    assert_int_equal(f->ops->feed_read(&t, "vendor-v", EPOCH, 0, out, size), 0);
    assert_memory_equal(out, bytes, size);
    const uint64_t offsets[] = {1, (1u << 20) - 3, (2u << 20) + 5, size - 10};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        assert_int_equal(f->ops->feed_read(&t, "vendor-v", EPOCH, offsets[i], out, 10), 0);
        assert_memory_equal(out, bytes + offsets[i], 10);
    }
    assert_int_equal(f->ops->feed_read(&t, "vendor-v", EPOCH, size - 5, out, 10),
                     PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->feed_read(&t, "vendor-w", EPOCH, 0, out, 1), PSI_ERR_NOT_FOUND);
    psi_txn_rollback(&t);
    /* a second feed of the epoch replaces the first, bytes and all */
    fd.size = 100;
    fd.count = 3;
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->feed_put(&t, &fd, bytes + 1000, NOW), 0);
    assert_int_equal(f->ops->feed_get(&t, "vendor-v", EPOCH, &got), 0);
    assert_int_equal(got.size, 100);
    assert_int_equal(got.count, 3);
    assert_int_equal(f->ops->feed_read(&t, "vendor-v", EPOCH, 0, out, 100), 0);
    assert_memory_equal(out, bytes + 1000, 100);
    assert_int_equal(f->ops->feed_read(&t, "vendor-v", EPOCH, 100, out, 1), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_txn_commit(&t), 0);
    free(out);
    free(bytes);
}

struct pending {
    uint64_t ids[8];
    size_t n, stop_after;
};

static int pending_one(void *ctx, const struct psi_store_query *q)
{
    struct pending *p = ctx;
    p->ids[p->n++] = q->id;
    return p->stop_after != 0 && p->n == p->stop_after ? 1 : 0;
}

static uint64_t query(struct fixture *f, struct psi_txn *t, const char *agency, uint64_t count,
                      int signed_)
{
    struct psi_store_query q;
    memset(&q, 0, sizeof q);
    snprintf(q.agency, sizeof q.agency, "%s", agency);
    snprintf(q.vendor, sizeof q.vendor, "vendor-v");
    snprintf(q.epoch, sizeof q.epoch, EPOCH);
    q.count = count;
    q.log_index = 30 + count;
    q.has_signature = signed_;
    memset(q.signature, 6, sizeof q.signature);
    uint8_t elements[4 * PSI_STORE_ELEMENT_BYTES];
    memset(elements, (int)count, sizeof elements);
    assert_int_equal(f->ops->query_add(t, &q, elements, NOW), 0);
    return q.id;
}

static void quotas_and_queries(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    uint64_t v = 99;
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->quota_get(&t, "agency-a", "vendor-v", &v), PSI_ERR_NOT_FOUND);
    assert_int_equal(f->ops->quota_set(&t, "agency-a", "vendor-v", 10), 0);
    assert_int_equal(f->ops->quota_set(&t, "agency-a", "vendor-v", 20), 0);
    assert_int_equal(f->ops->quota_get(&t, "agency-a", "vendor-v", &v), 0);
    assert_int_equal(v, 20);
    assert_int_equal(f->ops->queries_used(&t, "agency-a", "vendor-v", EPOCH, &v), 0);
    assert_int_equal(v, 0);
    uint64_t q1 = query(f, &t, "agency-a", 2, 1);
    uint64_t q2 = query(f, &t, "agency-a", 3, 0);
    uint64_t q3 = query(f, &t, "agency-b", 4, 1);
    assert_true(q1 < q2 && q2 < q3);
    assert_int_equal(f->ops->queries_used(&t, "agency-a", "vendor-v", EPOCH, &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(f->ops->queries_used(&t, "agency-a", "vendor-v", "2026-W02", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(psi_txn_commit(&t), 0);

    begin(f, &t, PSI_TXN_WRITE);
    struct psi_store_query q;
    uint8_t *elements = NULL, *evaluated = NULL;
    unsigned char proof[PSI_STORE_PROOF_BYTES];
    assert_int_equal(f->ops->query_get(&t, q1, &q, &elements, &evaluated, proof), 0);
    assert_int_equal(q.id, q1);
    assert_string_equal(q.agency, "agency-a");
    assert_string_equal(q.vendor, "vendor-v");
    assert_string_equal(q.epoch, EPOCH);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.log_index, 32);
    assert_int_equal(q.has_signature, 1);
    assert_int_equal(q.signature[0], 6);
    assert_int_equal(q.answered, 0);
    assert_true(elements != NULL && elements[2 * PSI_STORE_ELEMENT_BYTES - 1] == 2);
    assert_null(evaluated);
    free(elements);
    assert_int_equal(f->ops->query_get(&t, q2, &q, NULL, NULL, NULL), 0);
    assert_int_equal(q.has_signature, 0);
    assert_int_equal(f->ops->query_get(&t, q3 + 10, &q, NULL, NULL, NULL), PSI_ERR_NOT_FOUND);

    /* pending: the vendor's unanswered batches, oldest first, until fn stops */
    struct pending p;
    memset(&p, 0, sizeof p);
    assert_int_equal(f->ops->query_pending(&t, "vendor-v", pending_one, &p), 0);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.ids[0], q1);
    assert_int_equal(p.ids[2], q3);
    memset(&p, 0, sizeof p);
    p.stop_after = 1;
    assert_int_equal(f->ops->query_pending(&t, "vendor-v", pending_one, &p), 1);
    assert_int_equal(p.n, 1);

    uint8_t answer[3 * PSI_STORE_ELEMENT_BYTES];
    memset(answer, 0xee, sizeof answer);
    memset(proof, 0xdd, sizeof proof);
    assert_int_equal(f->ops->query_answer(&t, q2, answer, proof, NOW), 0);
    assert_int_equal(f->ops->query_answer(&t, q2, answer, proof, NOW), PSI_ERR_EXISTS);
    assert_int_equal(f->ops->query_answer(&t, q3 + 10, answer, proof, NOW), PSI_ERR_NOT_FOUND);
    memset(proof, 0, sizeof proof);
    assert_int_equal(f->ops->query_get(&t, q2, &q, &elements, &evaluated, proof), 0);
    assert_int_equal(q.answered, 1);
    assert_non_null(evaluated);
    assert_memory_equal(evaluated, answer, sizeof answer);
    assert_int_equal(proof[63], 0xdd);
    free(elements);
    free(evaluated);
    memset(&p, 0, sizeof p);
    assert_int_equal(f->ops->query_pending(&t, "vendor-v", pending_one, &p), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.ids[1], q3);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* ---------------------------------------------------------------- retention and backup */

struct epochs {
    struct psi_store_epoch_usage u[8];
    size_t n;
};

static int epoch_one(void *ctx, const struct psi_store_epoch_usage *u)
{
    struct epochs *e = ctx;
    if (e->n < 8)
        e->u[e->n] = *u;
    e->n++;
    return 0;
}

static struct epochs epochs_of(struct fixture *f, struct psi_store *st)
{
    struct psi_txn t;
    struct epochs e;
    memset(&e, 0, sizeof e);
    assert_int_equal(psi_txn_begin(&t, f->ops, st, PSI_TXN_READ), 0);
    assert_int_equal(f->ops->epoch_list(&t, epoch_one, &e), 0);
    psi_txn_rollback(&t);
    return e;
}

/* EPOCH: A's and B's joined sets, a large set of A's, a feed key and a
 * query batch; 2026-W02 (later): a set of A's; 2026-W03 (later still): B's. */
static void three_epochs(struct fixture *f)
{
    join_in_order(f, 1);
    struct psi_txn t;
    begin(f, &t, PSI_TXN_WRITE);
    submit(f, &t, "agency-a", EPOCH, 40000);
    admit(f, &t, "vendor-v", "vendor", NULL);
    struct psi_store_feed_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.vendor, sizeof k.vendor, "vendor-v");
    snprintf(k.epoch, sizeof k.epoch, EPOCH);
    assert_int_equal(f->ops->feed_key_put(&t, &k, NOW), 0);
    query(f, &t, "agency-a", 2, 1);
    submit_at(f, &t, "agency-a", "2026-W02", 2, NOW + 5);
    submit_at(f, &t, "agency-b", "2026-W03", 1, NOW + 9);
    const uint8_t entry[] = {7, 7, 7};
    assert_int_equal(f->ops->log_entry_put(&t, 0, entry, sizeof entry), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static void epochs_listed_and_pruned(void **state)
{
    struct fixture *f = *state;
    struct epochs e = epochs_of(f, f->st);
    assert_int_equal(e.n, 0); /* an empty store holds no epoch */
    three_epochs(f);
    e = epochs_of(f, f->st);
    assert_int_equal(e.n, 3);
    assert_string_equal(e.u[0].epoch, "2026-W03");
    assert_int_equal(e.u[0].last_ms, NOW + 9);
    assert_string_equal(e.u[1].epoch, "2026-W02");
    assert_string_equal(e.u[2].epoch, EPOCH);
    const struct psi_store_epoch_usage *old = &e.u[2];
    assert_int_equal(old->last_ms, NOW);
    assert_int_equal(old->submissions, 3);
    assert_int_equal(old->elements, 40006);
    assert_int_equal(old->crossblinds, 2);
    assert_int_equal(old->tags, 6);
    assert_int_equal(old->matches, 4); /* A's positions 1, 2 and B's 0, 2 */
    assert_int_equal(old->feed_keys, 1);
    assert_int_equal(old->feeds, 0);
    assert_int_equal(old->queries, 1);
    assert_int_equal(e.u[1].submissions, 1);
    assert_int_equal(e.u[1].elements, 2);
    assert_int_equal(e.u[1].tags, 0);

    struct psi_txn t;
    struct psi_store_epoch_usage removed;
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->epoch_prune(&t, EPOCH, &removed), 0);
    assert_string_equal(removed.epoch, EPOCH);
    assert_int_equal(removed.submissions, 3);
    assert_int_equal(removed.elements, 40006);
    assert_int_equal(removed.tags, 6);
    assert_int_equal(removed.matches, 4);
    assert_int_equal(removed.queries, 1);
    /* an epoch that holds nothing: nothing removed, no error */
    assert_int_equal(f->ops->epoch_prune(&t, "2020-W01", &removed), 0);
    assert_int_equal(removed.submissions + removed.elements + removed.tags + removed.queries, 0);
    assert_int_equal(psi_txn_commit(&t), 0);

    e = epochs_of(f, f->st);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.u[0].epoch, "2026-W03");
    assert_string_equal(e.u[1].epoch, "2026-W02");
    begin(f, &t, PSI_TXN_READ);
    struct psi_store_submission sub;
    assert_int_equal(f->ops->submission_get(&t, 1, &sub), PSI_ERR_NOT_FOUND);
    uint64_t positions = 9;
    assert_int_equal(f->ops->positions_in_epoch(&t, "agency-a", EPOCH, &positions), 0);
    assert_int_equal(positions, 0);
    struct psi_store_feed_key k;
    assert_int_equal(f->ops->feed_key_get(&t, "vendor-v", EPOCH, &k), PSI_ERR_NOT_FOUND);
    struct pending p;
    memset(&p, 0, sizeof p);
    assert_int_equal(f->ops->query_pending(&t, "vendor-v", pending_one, &p), 0);
    assert_int_equal(p.n, 0);
    /* the kept epochs are whole, the log untouched */
    struct sub_listed l = {{0}, 0};
    assert_int_equal(f->ops->submission_list(&t, "agency-a", "2026-W02", sub_list_one, &l), 0);
    assert_int_equal(l.n, 1);
    uint8_t out[2 * PSI_STORE_ELEMENT_BYTES];
    assert_int_equal(f->ops->elements_read(&t, l.ids[0], 0, 2, out), 0);
    assert_int_equal(out[PSI_STORE_ELEMENT_BYTES], 1);
    uint8_t *entry = NULL;
    size_t len = 0;
    assert_int_equal(f->ops->log_entry_get(&t, 0, &entry, &len), 0);
    assert_int_equal(len, 3);
    free(entry);
    psi_txn_rollback(&t);
    assert_int_equal(results_of(f, "agency-a", 2).n, 0);
    /* a pruned epoch's data is not found in a new connection either */
    char err[256];
    struct psi_store *other = NULL;
    assert_int_equal(f->ops->open(f->location, &other, err, sizeof err), 0);
    assert_int_equal(epochs_of(f, other).n, 2);
    f->ops->close(other);
}

static void compact_gives_space_back(void **state)
{
    struct fixture *f = *state;
    three_epochs(f);
    uint64_t before = 0, pruned = 0, after = 0;
    assert_int_equal(f->ops->disk_bytes(f->st, &before), 0);
    assert_true(before > (uint64_t)40000 * PSI_STORE_ELEMENT_BYTES);
    struct psi_txn t;
    struct psi_store_epoch_usage removed;
    begin(f, &t, PSI_TXN_WRITE);
    assert_int_equal(f->ops->epoch_prune(&t, EPOCH, &removed), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    assert_int_equal(f->ops->disk_bytes(f->st, &pruned), 0);
    assert_int_equal(f->ops->compact(f->st), 0);
    assert_int_equal(f->ops->disk_bytes(f->st, &after), 0);
    print_message("store bytes: %llu before the prune, %llu after it, %llu compacted\n",
                  (unsigned long long)before, (unsigned long long)pruned,
                  (unsigned long long)after);
    /* the 40000 elements (1.28 MB) of the pruned epoch are given back */
    assert_true(after + (uint64_t)40000 * PSI_STORE_ELEMENT_BYTES <= before);
    assert_true(after < pruned);
    /* and the store still works */
    assert_int_equal(epochs_of(f, f->st).n, 2);
    begin(f, &t, PSI_TXN_WRITE);
    submit_at(f, &t, "agency-a", "2026-W02", 1, NOW + 20);
    assert_int_equal(psi_txn_commit(&t), 0);
}

static void backup_is_a_snapshot(void **state)
{
    struct fixture *f = *state;
    three_epochs(f);
    char dir[256], location[4096], err[256] = "";
    const struct psi_store_ops *ops = NULL;
    assert_int_equal(test_scratch_dir(dir, sizeof dir, "store-backup"), 0);
    /* a backend whose store lives on a server has no file in dir: its
     * backup must say it cannot copy itself into one */
    int in_dir =
        psi_store_in_dir(dir, backend_name(), &ops, location, sizeof location, err, sizeof err);
    if (in_dir != 0)
        snprintf(location, sizeof location, "%s/store-copy", dir);
    /* a writer of another connection holds its transaction open meanwhile:
     * the backup neither waits for it nor copies its uncommitted change */
    struct psi_store *writer = NULL;
    assert_int_equal(f->ops->open(f->location, &writer, err, sizeof err), 0);
    struct psi_txn w;
    assert_int_equal(psi_txn_begin(&w, f->ops, writer, PSI_TXN_WRITE), 0);
    assert_int_equal(f->ops->meta_set(&w, "during", "backup"), 0);
    int rc = f->ops->backup(f->st, location, err, sizeof err);
    if (rc == PSI_ERR_UNSUPPORTED) {
        assert_true(err[0] != '\0'); /* a reason for a person */
        print_message("%s: %s\n", f->ops->backend, err);
        psi_txn_rollback(&w);
        f->ops->close(writer);
        test_remove_tree(dir);
        skip();
    }
    assert_int_equal(rc, 0);
    assert_int_equal(in_dir, 0);
    assert_int_equal(psi_txn_commit(&w), 0);
    f->ops->close(writer);
    struct stat sb; /* the copy is for the operator alone */
    assert_int_equal(stat(location, &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
    /* an existing file is never overwritten */
    assert_int_equal(f->ops->backup(f->st, location, err, sizeof err), PSI_ERR_EXISTS);
    assert_non_null(strstr(err, "exists"));
    /* a path that cannot be written is explained */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/missing/hub.db", dir);
    err[0] = '\0';
    assert_int_not_equal(f->ops->backup(f->st, bad, err, sizeof err), 0);
    assert_true(err[0] != '\0');

    struct psi_store *copy = NULL;
    assert_int_equal(f->ops->open(location, &copy, err, sizeof err), 0);
    struct epochs e = epochs_of(f, copy);
    assert_int_equal(e.n, 3);
    assert_int_equal(e.u[2].elements, 40006);
    struct psi_txn t;
    char v[64];
    assert_int_equal(psi_txn_begin(&t, f->ops, copy, PSI_TXN_READ), 0);
    assert_int_equal(f->ops->meta_get(&t, "during", v, sizeof v), PSI_ERR_NOT_FOUND);
    uint8_t *entry = NULL;
    size_t len = 0;
    assert_int_equal(f->ops->log_entry_get(&t, 0, &entry, &len), 0);
    free(entry);
    psi_txn_rollback(&t);
    f->ops->close(copy);
    f->ops->destroy(location);
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_backend_sets_every_operation),
        cmocka_unit_test_setup_teardown(lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(participants, setup, teardown),
        cmocka_unit_test_setup_teardown(party_policy_narrows, setup, teardown),
        cmocka_unit_test_setup_teardown(element_quotas, setup, teardown),
        cmocka_unit_test_setup_teardown(refusal_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(nonces, setup, teardown),
        cmocka_unit_test_setup_teardown(replies, setup, teardown),
        cmocka_unit_test_setup_teardown(staging, setup, teardown),
        cmocka_unit_test_setup_teardown(submissions, setup, teardown),
        cmocka_unit_test_setup_teardown(join_owner_first, setup, teardown),
        cmocka_unit_test_setup_teardown(join_blinder_first, setup, teardown),
        cmocka_unit_test_setup_teardown(join_repeated_values_and_later_submissions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(threshold_and_policy_of_results, setup, teardown),
        cmocka_unit_test_setup_teardown(work_follows_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(usage_and_overlap_map, setup, teardown),
        cmocka_unit_test_setup_teardown(log_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(feed_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(feeds, setup, teardown),
        cmocka_unit_test_setup_teardown(quotas_and_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(epochs_listed_and_pruned, setup, teardown),
        cmocka_unit_test_setup_teardown(compact_gives_space_back, setup, teardown),
        cmocka_unit_test_setup_teardown(backup_is_a_snapshot, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
