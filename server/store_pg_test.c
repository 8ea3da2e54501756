/*
 * The PostgreSQL backend under concurrency: two connections to one store,
 * as two front-ends have, with one transaction left open while the other
 * runs in a thread. What store_pg.c promises about writers that must not
 * interleave is checked here by making them meet:
 *   - the two halves of a pair, cross-blinded at the same moment, match
 *     (the second waits for the first and its join sees the first's tags);
 *   - log appends from both connections make one sequence;
 *   - a nonce recorded on one is a replay on the other;
 *   - a retry on the other connection gets the first attempt's reply;
 *   - an owner's submissions on both get disjoint positions;
 *   - a reader is never held up by a writer's locks;
 * and, through the whole request pipeline (psi_hub_handle) of one hub made
 * by `psi-hub init --store`, two front-ends' connections: a frame replayed
 * to the other is refused, a retry on the other gets the first reply.
 * The test starts a PostgreSQL cluster of its own
 * (tests/support/pg_cluster.sh) and stops it at the end; without the server
 * programs it says so and exits 77 (ctest: skipped).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "envelope.h"
#include "hub.h"
#include "hub_fixture.h"
#include "log.h"
#include "psi/error.h"
#include "psi/logentry.h"
#include "scratch.h"
#include "store.h"
#include "wire.h"

#define EPOCH "2026-W10"
#define NOW 5000000u
#define WAIT_US 300000 /* long enough for a thread to reach a lock it waits on */

static char cluster_dir[512];
static char store_url[512];

struct fixture {
    const struct psi_store_ops *ops;
    struct psi_store *one, *two; /* two front-ends' connections */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->ops = psi_store_backend("postgresql");
    assert_non_null(f->ops);
    char err[512] = "";
    f->ops->destroy(store_url);
    int rc = f->ops->create(store_url, &f->one, err, sizeof err);
    if (rc != 0)
        print_error("create: %s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(f->ops->open(store_url, &f->two, err, sizeof err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->one != NULL)
        f->ops->close(f->one);
    if (f->two != NULL)
        f->ops->close(f->two);
    f->ops->destroy(store_url);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------- a second front-end */

/* A job on the second connection, in a thread: run is called inside a
 * write transaction that the job commits itself (when run returns 0). */
struct job {
    struct fixture *f;
    int (*run)(struct job *j, struct psi_txn *t);
    volatile int done;
    int rc;
    /* what the runs take and give */
    uint64_t submission_id, matched, peer_matched, positions;
    const uint8_t *tags;
    unsigned char nonce[PSI_STORE_NONCE_BYTES];
    uint8_t *body;
    size_t body_len;
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct psi_txn t;
    j->rc = psi_txn_begin(&t, j->f->ops, j->f->two, PSI_TXN_WRITE);
    if (j->rc == 0) {
        j->rc = j->run(j, &t);
        if (j->rc == 0)
            j->rc = psi_txn_commit(&t);
        else
            psi_txn_rollback(&t);
    }
    __atomic_store_n(&j->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Starts j, lets it reach what it waits on, and checks that it waits. */
static pthread_t start_blocked(struct job *j)
{
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, job_main, j), 0);
    usleep(WAIT_US);
    assert_int_equal(__atomic_load_n(&j->done, __ATOMIC_SEQ_CST), 0);
    return th;
}

/* ---------------------------------------------------------------- helpers */

static void begin(struct fixture *f, struct psi_txn *t, struct psi_store *st,
                  enum psi_txn_kind kind)
{
    assert_int_equal(psi_txn_begin(t, f->ops, st, kind), 0);
}

static void admit(struct fixture *f, struct psi_txn *t, const char *id)
{
    struct psi_store_participant p;
    memset(&p, 0, sizeof p);
    snprintf(p.id, sizeof p.id, "%s", id);
    snprintf(p.role, sizeof p.role, "agency");
    memset(p.public_key, id[0], sizeof p.public_key);
    p.share_all = 1;
    assert_int_equal(f->ops->participant_add(t, &p, NOW), 0);
}

static uint64_t submit(struct fixture *f, struct psi_txn *t, const char *owner, uint64_t count)
{
    struct psi_store_submission s;
    memset(&s, 0, sizeof s);
    snprintf(s.owner, sizeof s.owner, "%s", owner);
    snprintf(s.epoch, sizeof s.epoch, EPOCH);
    uint64_t base = 0;
    assert_int_equal(f->ops->positions_in_epoch(t, owner, EPOCH, &base), 0);
    s.count = count;
    s.position_base = base;
    uint8_t *elements = calloc(count, PSI_STORE_ELEMENT_BYTES);
    assert_non_null(elements);
    for (uint64_t k = 0; k < count; k++)
        elements[k * PSI_STORE_ELEMENT_BYTES] = (uint8_t)(k + 1);
    assert_int_equal(f->ops->submission_add(t, &s, elements, NOW), 0);
    free(elements);
    return s.id;
}

static struct psi_store_crossblind batch(uint64_t submission_id, const char *blinder,
                                         uint64_t count)
{
    struct psi_store_crossblind cb;
    memset(&cb, 0, sizeof cb);
    cb.submission_id = submission_id;
    snprintf(cb.blinder, sizeof cb.blinder, "%s", blinder);
    cb.count = count;
    return cb;
}

/* ---------------------------------------------------------------- the pair */

static int add_half(struct job *j, struct psi_txn *t)
{
    struct psi_store_crossblind cb = batch(j->submission_id, "agency-i", 4);
    return j->f->ops->crossblind_add(t, &cb, j->tags, NOW, &j->matched, &j->peer_matched);
}

static int count_positions(void *ctx, uint64_t position, const char *const *peers, size_t n)
{
    (void)position;
    (void)peers;
    *(uint64_t *)ctx += n;
    return 0;
}

static void pair_halves_at_once(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    begin(f, &t, f->one, PSI_TXN_WRITE);
    admit(f, &t, "agency-i");
    admit(f, &t, "agency-j");
    uint64_t sub_i = submit(f, &t, "agency-i", 4);
    uint64_t sub_j = submit(f, &t, "agency-j", 4);
    /* A batch of another pair first, so that the epoch's tag partition
     * exists and its making (which locks the tag table) orders nothing. */
    admit(f, &t, "agency-k");
    uint64_t sub_k = submit(f, &t, "agency-k", 4);
    uint8_t tags_k[4 * PSI_STORE_TAG_BYTES];
    memset(tags_k, 0x77, sizeof tags_k);
    struct psi_store_crossblind warm = batch(sub_k, "agency-i", 4);
    uint64_t m = 0, pm = 0;
    assert_int_equal(f->ops->crossblind_add(&t, &warm, tags_k, NOW, &m, &pm), 0);
    assert_int_equal(psi_txn_commit(&t), 0);

    /* i's positions 1 and 3 are j's positions 2 and 0 (equal tags). */
    uint8_t tags_i[4 * PSI_STORE_TAG_BYTES], tags_j[4 * PSI_STORE_TAG_BYTES];
    for (size_t k = 0; k < 4; k++) {
        memset(tags_i + k * PSI_STORE_TAG_BYTES, (int)(0x10 + k), PSI_STORE_TAG_BYTES);
        memset(tags_j + k * PSI_STORE_TAG_BYTES, (int)(0x20 + k), PSI_STORE_TAG_BYTES);
    }
    memset(tags_j + (size_t)2 * PSI_STORE_TAG_BYTES, 0x11, PSI_STORE_TAG_BYTES);
    memset(tags_j, 0x13, PSI_STORE_TAG_BYTES);

    /* Front-end one takes i's batch (blinded by j) and has not committed
     * when front-end two takes j's batch (blinded by i). */
    begin(f, &t, f->one, PSI_TXN_WRITE);
    struct psi_store_crossblind cb = batch(sub_i, "agency-j", 4);
    uint64_t matched = 9, peer_matched = 9;
    assert_int_equal(f->ops->crossblind_add(&t, &cb, tags_i, NOW, &matched, &peer_matched), 0);
    assert_int_equal(matched, 0);
    struct job j = {.f = f, .run = add_half, .submission_id = sub_j, .tags = tags_j};
    pthread_t th = start_blocked(&j);
    /* a reader (a third front-end) is not held up meanwhile */
    struct psi_store *third = NULL;
    char err[512];
    assert_int_equal(f->ops->open(store_url, &third, err, sizeof err), 0);
    struct psi_txn r;
    uint64_t none = 0;
    begin(f, &r, third, PSI_TXN_READ);
    assert_int_equal(f->ops->results(&r, "agency-i", EPOCH, 2, count_positions, &none), 0);
    psi_txn_rollback(&r);
    f->ops->close(third);
    assert_int_equal(none, 0);
    assert_int_equal(psi_txn_commit(&t), 0);
    pthread_join(th, NULL);
    assert_int_equal(j.rc, 0);
    /* the second half saw the first: both matches, both ways */
    assert_int_equal(j.matched, 2);
    assert_int_equal(j.peer_matched, 2);

    begin(f, &t, f->one, PSI_TXN_READ);
    uint64_t seen_i = 0, seen_j = 0;
    assert_int_equal(f->ops->results(&t, "agency-i", EPOCH, 2, count_positions, &seen_i), 0);
    assert_int_equal(f->ops->results(&t, "agency-j", EPOCH, 2, count_positions, &seen_j), 0);
    psi_txn_rollback(&t);
    assert_int_equal(seen_i, 2);
    assert_int_equal(seen_j, 2);
}

/* ---------------------------------------------------------------- the log */

#define APPENDS ((uint64_t)25)

struct appender {
    struct fixture *f;
    struct psi_store *st;
    uint64_t first;
    int rc;
};

static void *append_many(void *arg)
{
    struct appender *a = arg;
    for (uint64_t n = 0; n < APPENDS && a->rc == 0; n++) {
        struct psi_txn t;
        struct psi_logentry e;
        memset(&e, 0, sizeof e);
        e.kind = PSI_LOGENTRY_REFUSAL;
        e.time_ms = NOW + a->first + n;
        e.u.refusal.code = PSI_ERR_REPLAY;
        uint64_t number = a->first + n;
        memcpy(e.u.refusal.frame_digest, &number, sizeof number);
        a->rc = psi_txn_begin(&t, a->f->ops, a->st, PSI_TXN_WRITE);
        if (a->rc != 0)
            break;
        a->rc = psi_hub_log_append(&t, &e, NULL);
        if (a->rc == 0)
            a->rc = psi_txn_commit(&t);
        else
            psi_txn_rollback(&t);
    }
    return NULL;
}

static void log_appends_from_two_connections(void **state)
{
    struct fixture *f = *state;
    struct appender a = {f, f->one, 0, 0}, b = {f, f->two, 1000, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, append_many, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, append_many, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);

    struct psi_txn t;
    begin(f, &t, f->one, PSI_TXN_READ);
    struct psi_merkle_frontier head;
    assert_int_equal(f->ops->log_head_get(&t, &head, NULL, 0), 0);
    assert_int_equal(head.size, 2 * APPENDS);
    /* one sequence: every index taken once, each entry's leaf hash beside it */
    int from_a = 0;
    for (uint64_t i = 0; i < 2 * APPENDS; i++) {
        uint8_t *entry = NULL;
        size_t len = 0;
        unsigned char leaf[32];
        assert_int_equal(f->ops->log_entry_get(&t, i, &entry, &len), 0);
        assert_int_equal(f->ops->log_hash_get(&t, 0, i, leaf), 0);
        struct psi_logentry e;
        assert_int_equal(psi_logentry_decode(&e, entry, len), 0);
        uint64_t number = 0;
        memcpy(&number, e.u.refusal.frame_digest, sizeof number);
        from_a += number < 1000;
        free(entry);
    }
    uint8_t *none = NULL;
    size_t none_len = 0;
    assert_int_equal(f->ops->log_entry_get(&t, 2 * APPENDS, &none, &none_len), PSI_ERR_NOT_FOUND);
    psi_txn_rollback(&t);
    assert_int_equal(from_a, APPENDS);
}

/* ---------------------------------------------------------------- nonces and replies */

static int record_nonce(struct job *j, struct psi_txn *t)
{
    return j->f->ops->nonce_record(t, "agency-a", j->nonce, NOW, 0);
}

static void nonce_on_both(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    struct job j = {.f = f, .run = record_nonce};
    memset(j.nonce, 0x5a, sizeof j.nonce);
    begin(f, &t, f->one, PSI_TXN_WRITE);
    assert_int_equal(f->ops->nonce_record(&t, "agency-a", j.nonce, NOW, 0), 0);
    pthread_t th = start_blocked(&j);
    assert_int_equal(psi_txn_commit(&t), 0);
    pthread_join(th, NULL);
    assert_int_equal(j.rc, PSI_ERR_REPLAY);
}

static const unsigned char REQUEST_ID[PSI_STORE_REQUEST_ID_BYTES] = {7, 7, 7};

static int retry(struct job *j, struct psi_txn *t)
{
    char method[PSI_STORE_METHOD_MAX + 1];
    return j->f->ops->reply_get(t, "agency-a", REQUEST_ID, method, &j->body, &j->body_len);
}

static void retry_on_the_other_gets_the_first_reply(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    begin(f, &t, f->one, PSI_TXN_WRITE);
    char method[PSI_STORE_METHOD_MAX + 1];
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal(f->ops->reply_get(&t, "agency-a", REQUEST_ID, method, &body, &len),
                     PSI_ERR_NOT_FOUND);
    /* the first attempt is still being handled when the retry arrives */
    struct job j = {.f = f, .run = retry};
    pthread_t th = start_blocked(&j);
    const uint8_t first[] = "the first reply";
    assert_int_equal(
        f->ops->reply_put(&t, "agency-a", REQUEST_ID, "submit.commit", first, sizeof first, NOW),
        0);
    assert_int_equal(psi_txn_commit(&t), 0);
    pthread_join(th, NULL);
    assert_int_equal(j.rc, 0);
    assert_int_equal(j.body_len, sizeof first);
    assert_memory_equal(j.body, first, sizeof first);
    free(j.body);
}

/* ---------------------------------------------------------------- positions */

static int second_submission(struct job *j, struct psi_txn *t)
{
    int rc = j->f->ops->positions_in_epoch(t, "agency-i", EPOCH, &j->positions);
    if (rc != 0)
        return rc;
    struct psi_store_submission s;
    memset(&s, 0, sizeof s);
    snprintf(s.owner, sizeof s.owner, "agency-i");
    snprintf(s.epoch, sizeof s.epoch, EPOCH);
    s.count = 3;
    s.position_base = j->positions;
    uint8_t elements[3 * PSI_STORE_ELEMENT_BYTES] = {0};
    return j->f->ops->submission_add(t, &s, elements, NOW);
}

static void positions_disjoint(void **state)
{
    struct fixture *f = *state;
    struct psi_txn t;
    begin(f, &t, f->one, PSI_TXN_WRITE);
    admit(f, &t, "agency-i");
    assert_int_equal(psi_txn_commit(&t), 0);
    begin(f, &t, f->one, PSI_TXN_WRITE);
    (void)submit(f, &t, "agency-i", 5); /* positions 0..4, not committed yet */
    struct job j = {.f = f, .run = second_submission};
    pthread_t th = start_blocked(&j);
    assert_int_equal(psi_txn_commit(&t), 0);
    pthread_join(th, NULL);
    assert_int_equal(j.rc, 0);
    assert_int_equal(j.positions, 5);
}

/* ---------------------------------------------------------------- the pipeline */

static void front_ends_share_nonces_and_replies(void **state)
{
    struct fixture *f = *state;
    /* the store of setup is dropped: psi-hub init makes the hub's own */
    f->ops->close(f->one);
    f->ops->close(f->two);
    f->one = f->two = NULL;
    f->ops->destroy(store_url);
    char dir[256], cmd[2048];
    assert_int_equal(test_scratch_dir(dir, sizeof dir, "pg-hub"), 0);
    snprintf(cmd, sizeof cmd,
             "'%s/server/psi-hub' init --dir '%s/hub' --name pg-hub --epoch manual:" EPOCH
             " --store '%s' >/dev/null",
             PSI_BINARY_DIR, dir, store_url);
    assert_int_equal(system(cmd), 0); /* NOLINT(cert-env33-c): the built psi-hub */
    char hub_dir[512], err[512] = "";
    snprintf(hub_dir, sizeof hub_dir, "%s/hub", dir);
    struct psi_hub hub;
    int rc = psi_hub_load(&hub, hub_dir, err, sizeof err);
    if (rc != 0)
        print_error("load: %s\n", err);
    assert_int_equal(rc, 0);
    struct psi_store *front_a = NULL, *front_b = NULL;
    assert_int_equal(psi_hub_connect(&hub, &front_a, err, sizeof err), 0);
    assert_int_equal(psi_hub_connect(&hub, &front_b, err, sizeof err), 0);
    struct psi_identity a;
    assert_int_equal(psi_identity_generate(&a, "agency-a"), 0);
    hub_test_admit(&hub, front_a, &a, "agency", 0);

    /* a frame replayed to the other front-end */
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    uint8_t *frame = NULL, *reply = NULL;
    size_t frame_len = 0, reply_len = 0;
    assert_int_equal(
        psi_request_seal(&a, hub.identity.public_key, "info", rid, NULL, 0, &frame, &frame_len), 0);
    struct psi_hub_outcome o;
    assert_int_equal(psi_hub_handle(&hub, front_a, frame, frame_len, &reply, &reply_len, &o), 0);
    assert_int_equal(o.status, 0);
    free(reply);
    assert_int_equal(psi_hub_handle(&hub, front_b, frame, frame_len, &reply, &reply_len, &o), 0);
    assert_int_equal(o.status, PSI_ERR_REPLAY);
    free(reply);
    free(frame);

    /* a submission through A, its commit retried through B */
    uint8_t *elements = hub_test_elements(3), upload_id[16];
    randombytes_buf(upload_id, sizeof upload_id);
    size_t n = 0;
    uint8_t *body =
        hub_test_chunk_body(upload_id, 0, elements, (size_t)3 * PSI_STORE_ELEMENT_BYTES, &n);
    char why[256];
    randombytes_buf(rid, sizeof rid);
    assert_int_equal(hub_test_call(&hub, front_a, &a, rid, "upload.chunk", body, n, why, sizeof why,
                                   NULL, NULL, &o),
                     0);
    free(body);
    unsigned char digest[32], sig[64];
    hub_test_submission_digest(EPOCH, "agency-a", 3, elements, digest);
    hub_test_submission_sign(a.secret_key, hub.identity.public_key, digest, sig);
    body = hub_test_commit_body(upload_id, EPOCH, 3, digest, sig, &n);
    uint8_t *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    randombytes_buf(rid, sizeof rid);
    rc = hub_test_call(&hub, front_a, &a, rid, "submit.commit", body, n, why, sizeof why, &first,
                       &first_len, &o);
    if (rc != 0)
        print_error("submit.commit: %s\n", why);
    assert_int_equal(rc, 0);
    assert_int_equal(hub_test_call(&hub, front_b, &a, rid, "submit.commit", body, n, why,
                                   sizeof why, &second, &second_len, &o),
                     0);
    assert_int_equal(first_len, second_len);
    assert_memory_equal(first, second, first_len);
    struct psi_txn t;
    assert_int_equal(psi_txn_begin(&t, hub.ops, front_b, PSI_TXN_READ), 0);
    uint64_t positions = 0;
    assert_int_equal(hub.ops->positions_in_epoch(&t, "agency-a", EPOCH, &positions), 0);
    psi_txn_rollback(&t);
    assert_int_equal(positions, 3); /* stored once */
    free(first);
    free(second);
    free(body);
    free(elements);
    psi_identity_clear(&a);
    hub.ops->close(front_a);
    hub.ops->close(front_b);
    psi_hub_unload(&hub);
    test_remove_tree(dir);
}

/* ---------------------------------------------------------------- the cluster */

/* Runs the cluster script with args; its first line of output into out. */
static int cluster(const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/support/pg_cluster.sh' %s", PSI_SOURCE_DIR, args);
    FILE *p = popen(cmd, "r"); /* NOLINT(cert-env33-c): runs the test's own script */
    if (p == NULL)
        return -1;
    char line[1024] = "";
    if (fgets(line, sizeof line, p) == NULL)
        line[0] = '\0';
    while (fgetc(p) != EOF) {
    }
    int status = pclose(p);
    line[strcspn(line, "\n")] = '\0';
    if (out != NULL)
        snprintf(out, cap, "%s", line);
    return status == 0 ? 0 : -1;
}

int main(void)
{
    if (cluster("available", NULL, 0) != 0) {
        printf("SKIPPED: no PostgreSQL 15 server programs (scripts/setup.sh installs "
               "postgresql-15)\n");
        return 77;
    }
    if (test_scratch_dir(cluster_dir, sizeof cluster_dir, "pg-cluster") != 0 ||
        rmdir(cluster_dir) != 0)
        return 1;
    char args[1024], base[512];
    snprintf(args, sizeof args, "start '%s'", cluster_dir);
    if (cluster(args, base, sizeof base) != 0) {
        fprintf(stderr, "store_pg_test: cannot start a PostgreSQL cluster in %s\n", cluster_dir);
        return 1;
    }
    snprintf(args, sizeof args, "createdb '%s' concurrency", cluster_dir);
    int rc = cluster(args, store_url, sizeof store_url);
    if (rc == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(pair_halves_at_once, setup, teardown),
            cmocka_unit_test_setup_teardown(log_appends_from_two_connections, setup, teardown),
            cmocka_unit_test_setup_teardown(nonce_on_both, setup, teardown),
            cmocka_unit_test_setup_teardown(retry_on_the_other_gets_the_first_reply, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(positions_disjoint, setup, teardown),
            cmocka_unit_test_setup_teardown(front_ends_share_nonces_and_replies, setup, teardown),
        };
        rc = cmocka_run_group_tests(tests, NULL, NULL);
    } else {
        fprintf(stderr, "store_pg_test: cannot create the test database\n");
    }
    snprintf(args, sizeof args, "stop '%s'", cluster_dir);
    (void)cluster(args, NULL, 0);
    return rc == 0 ? 0 : 1;
}
