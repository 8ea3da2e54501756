/* The in-process hub's test set-up (hub_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub_fixture.h"
#include "scratch.h"
#include "sqlite_file.h"

void hub_test_set_meta(const struct psi_store_ops *ops, struct psi_store *st, const char *key,
                       const char *value)
{
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, ops, st, PSI_TXN_WRITE), 0);
    assert_int_equal(ops->meta_set(&t, key, value), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

void hub_test_create_hub(const char *dir, const char *name, const char *epoch, struct psi_hub *hub,
                         struct psi_store **st)
{
    char path[512], err[256];
    struct psi_identity hub_id;
    assert_int_equal(psi_identity_generate(&hub_id, name), 0);
    snprintf(path, sizeof path, "%s/hub.key", dir);
    assert_int_equal(psi_identity_save(&hub_id, path), 0);
    psi_identity_clear(&hub_id);
    const struct psi_store_ops *ops = NULL;
    assert_int_equal(
        psi_store_in_dir(dir, PSI_STORE_DEFAULT_BACKEND, &ops, path, sizeof path, err, sizeof err),
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

long long hub_test_count_rows(const char *dir, const char *table)
{
    char path[512];
    snprintf(path, sizeof path, "%s/hub.db", dir);
    long long n = test_sqlite_count_rows(path, table);
    assert_true(n >= 0);
    return n;
}

void hub_test_take_body(const struct psi_reply *r, uint8_t **out, size_t *out_len)
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

struct psi_store_participant hub_test_participant(const struct psi_identity *who, const char *role,
                                                  int contribute_only)
{
    struct psi_store_participant p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "%s", who->name);
    snprintf(p.role, sizeof p.role, "%s", role);
    memcpy(p.public_key, who->public_key, 32);
    p.share_all = 1;
    p.contribute_only = contribute_only;
    return p;
}

void hub_test_admit(const struct psi_hub *hub, struct psi_store *st, const struct psi_identity *who,
                    const char *role, int contribute_only)
{
    struct psi_store_participant p = hub_test_participant(who, role, contribute_only);
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, hub->ops, st, PSI_TXN_WRITE), 0);
    assert_int_equal(hub->ops->participant_add(&t, &p, 1), 0);
    assert_int_equal(psi_txn_commit(&t), 0);
}

int hub_test_send_frame(const struct psi_hub *hub, struct psi_store *st,
                        const struct psi_identity *who, const unsigned char rid[16],
                        const uint8_t *frame, size_t frame_len, char *error, size_t error_cap,
                        uint8_t **out, size_t *out_len, struct psi_hub_outcome *o)
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

int hub_test_call(const struct psi_hub *hub, struct psi_store *st, const struct psi_identity *who,
                  const unsigned char rid[16], const char *method, const uint8_t *body,
                  size_t body_len, char *error, size_t error_cap, uint8_t **out, size_t *out_len,
                  struct psi_hub_outcome *o)
{
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    assert_int_equal(psi_request_seal(who, hub->identity.public_key, method, rid, body, body_len,
                                      &frame, &frame_len),
                     0);
    int status =
        hub_test_send_frame(hub, st, who, rid, frame, frame_len, error, error_cap, out, out_len, o);
    free(frame);
    return status;
}

void hub_test_remove_dir(const char *dir)
{
    assert_int_equal(test_remove_tree(dir), 0);
}

void hub_test_open_hub(char *dir, size_t dir_cap, const char *tag, const char *name,
                       const char *epoch, struct psi_hub *hub, struct psi_store **st)
{
    assert_int_equal(test_scratch_dir(dir, dir_cap, tag), 0);
    hub_test_create_hub(dir, name, epoch, hub, st);
}

void hub_test_close_hub(const char *dir, struct psi_hub *hub, struct psi_store *st)
{
    if (st != NULL)
        hub->ops->close(st);
    psi_hub_unload(hub);
    hub_test_remove_dir(dir);
}
