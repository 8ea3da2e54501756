/*
 * The set-up the hub's in-process tests (server/hub_test.c, log_test.c,
 * feeds_test.c) share: a fresh hub directory holding a new hub key and a
 * store in manual epochs, loaded and connected as psi-hub serve would do it;
 * a look at the store from outside; a reply body taken out of a reply; the
 * directory removed. Failures are cmocka assertions: include after cmocka.h.
 */
#ifndef PSI_HUB_TEST_SETUP_H
#define PSI_HUB_TEST_SETUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hub.h"
#include "scratch.h"

static inline void hub_test_set_meta(const struct psi_store_ops *ops, struct psi_store *st,
                                     const char *key, const char *value)
{
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, ops, st, PSI_TXN_WRITE), 0);
    assert_int_equal(ops->meta_set(&t, key, value), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* Makes the existing, empty dir a hub called name (manual epochs, now at
 * epoch; threshold 2; messages up to 8 MiB), then loads *hub from it and
 * connects *st to its store. */
static inline void hub_test_create_hub(const char *dir, const char *name, const char *epoch,
                                       struct psi_hub *hub, struct psi_store **st)
{
    char path[512], err[256];
    struct psi_identity hub_id;
    assert_int_equal(psi_identity_generate(&hub_id, name), 0);
    snprintf(path, sizeof path, "%s/hub.key", dir);
    assert_int_equal(psi_identity_save(&hub_id, path), 0);
    psi_identity_clear(&hub_id);
    const struct psi_store_ops *ops = NULL;
    assert_int_equal(psi_store_in_dir(dir, PSI_STORE_DEFAULT_BACKEND, &ops, path, sizeof path,
                                      err, sizeof err),
                     0);
    struct psi_store *created = NULL;
    assert_int_equal(ops->create(path, &created, err, sizeof err), 0);
    hub_test_set_meta(ops, created, PSI_META_NAME, name);
    hub_test_set_meta(ops, created, PSI_META_EPOCH_MODE, "manual");
    hub_test_set_meta(ops, created, PSI_META_EPOCH_LABEL, epoch);
    hub_test_set_meta(ops, created, PSI_META_THRESHOLD, "2");
    hub_test_set_meta(ops, created, PSI_META_MAX_MESSAGE, "8388608");
    ops->close(created);
    assert_int_equal(psi_hub_load(hub, dir, err, sizeof err), 0);
    assert_int_equal(psi_hub_connect(hub, st, err, sizeof err), 0);
}

/* Rows of a table of dir's store, counted by a connection of its own. The
 * SQLite backend's file seen from outside, as an operator would: the ops
 * count nothing (the contract suite, store_contract_test.c, checks what
 * they promise); these tests check what the file holds beside it. */
static inline long long hub_test_count_rows(const char *dir, const char *table)
{
    char path[512], sql[128];
    snprintf(path, sizeof path, "%s/hub.db", dir);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    long long n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

/* When out is not NULL: a malloc'd copy of the reply's body in *out when its
 * status is 0, else NULL and 0. */
static inline void hub_test_take_body(const struct psi_reply *r, uint8_t **out, size_t *out_len)
{
    if (out == NULL)
        return;
    *out = NULL;
    *out_len = 0;
    if (r->status == 0) {
        *out = malloc(r->body_len + 1);
        memcpy(*out, r->body, r->body_len);
        *out_len = r->body_len;
    }
}

/* Puts who on the roster (sharing with all) without a log entry. */
static inline void hub_test_admit(const struct psi_hub *hub, struct psi_store *st,
                                  const struct psi_identity *who, const char *role,
                                  int contribute_only)
{
    struct psi_store_participant p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "%s", who->name);
    snprintf(p.role, sizeof p.role, "%s", role);
    memcpy(p.public_key, who->public_key, 32);
    p.share_all = 1;
    p.contribute_only = contribute_only;
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, hub->ops, st, PSI_TXN_WRITE), 0);
    assert_int_equal(hub->ops->participant_add(&t, &p, 1), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

/* Hands a request frame to the hub and opens the reply as who's answer to
 * request rid (it must be the hub's). Returns the status; the error text goes
 * to error (error_cap > 0), the body to *out (hub_test_take_body) and the
 * request log's view to *o. */
static inline int hub_test_send_frame(const struct psi_hub *hub, struct psi_store *st,
                                      const struct psi_identity *who, const unsigned char rid[16],
                                      const uint8_t *frame, size_t frame_len, char *error,
                                      size_t error_cap, uint8_t **out, size_t *out_len,
                                      struct psi_hub_outcome *o)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    assert_int_equal(psi_hub_handle(hub, st, frame, frame_len, &reply, &reply_len, o), 0);
    struct psi_reply r;
    memset(&r, 0, sizeof r);
    assert_int_equal(psi_reply_open(who, hub->identity.public_key, rid, reply, reply_len, &r), 0);
    if (error_cap > 0)
        snprintf(error, error_cap, "%s", r.error);
    int status = r.status;
    hub_test_take_body(&r, out, out_len);
    psi_reply_clear(&r);
    free(reply);
    return status;
}

/* Seals body as who's request for method, with request id rid, and sends it
 * (hub_test_send_frame). */
static inline int hub_test_call(const struct psi_hub *hub, struct psi_store *st,
                                const struct psi_identity *who, const unsigned char rid[16],
                                const char *method, const uint8_t *body, size_t body_len,
                                char *error, size_t error_cap, uint8_t **out, size_t *out_len,
                                struct psi_hub_outcome *o)
{
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    assert_int_equal(psi_request_seal(who, hub->identity.public_key, method, rid, body, body_len,
                                      &frame, &frame_len),
                     0);
    int status = hub_test_send_frame(hub, st, who, rid, frame, frame_len, error, error_cap, out,
                                     out_len, o);
    free(frame);
    return status;
}

static inline void hub_test_remove_dir(const char *dir)
{
    assert_int_equal(hub_test_remove_tree(dir), 0);
}

#endif
