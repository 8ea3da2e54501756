/*
 * bench_load: one hub, many clients at once. Starts a real psi-hub on a free
 * loopback port and C client threads, each a participant of its own with its
 * own connection (proto/rpc.h, the client's transport), doing for S seconds
 * what participants do:
 *
 *   submit   upload.chunk + submit.commit of a set of E blinded elements
 *            (every --every rounds, and in the first);
 *   agent    work.list, then for up to W listed sets: work.fetch (all of
 *            it), tags for every element, upload.chunk + crossblind.commit;
 *   results  its own results.
 *
 * Elements are random points standing for k·H(x); a set's indicators are
 * drawn from a universe of U, and a tag is a hash of the indicator, so sets
 * overlap and the hub's join finds matches as it would. Every call is timed
 * from send to authentic reply (queueing at the hub included). Prints, per
 * method: calls, errors, calls per second, p50, p99 and max latency; then the
 * totals, the hub's peak memory and the rows it holds. Exits 1 if any call
 * failed: under load the error count must be zero.
 *
 * Usage: bench_load [--clients C] [--seconds S] [--elements E] [--universe U]
 *                   [--work W] [--every K] [--contexts N] [--hub PATH]
 *                   [--store URL] [--front-ends F]
 * (defaults: C 64, S 20, E 512, U 50000, W 2, K 8, N 8: the hub's default;
 * PATH: the psi-hub of this build; the hub's default store, SQLite; F 1).
 * --store is given to `psi-hub init --store`; --front-ends starts F
 * `psi-hub serve` processes on the one hub directory and store, each with N
 * contexts, and spreads the clients over them round-robin (client i talks
 * to front-end i mod F). Several front-ends need a store made for them
 * (--store postgresql://...): on SQLite F is 1. Loopback only; never run by
 * ctest. The last line is machine-readable key=value pairs.
 *
 * Contexts and the SQLite store: every request records its nonce and its
 * reply in a write transaction (BEGIN IMMEDIATE on the one file), so the
 * hub's contexts run the crypto and parsing side by side but queue for the
 * one write lock; more contexts then add lock waits (busy-timeout sleeps)
 * and not throughput, which is why 1 context does as well as 8 there
 * (docs/performance.md, "Several front-ends").
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bench_util.h"
#include "envelope.h"
#include "hub_process.h"
#include "wire.h"
#include "identity.h"
#include "psi.pb-c.h"
#include "psi/blind.h"
#include "psi/error.h"
#include "rpc.h"

static const char usage[] =
    "usage: bench_load [--clients C] [--seconds S] [--elements E] [--universe U]\n"
    "                  [--work W] [--every K] [--contexts N] [--hub PATH]\n"
    "                  [--store URL] [--front-ends F]\n";

#define MAX_FRONT_ENDS 16

enum method { M_UPLOAD, M_SUBMIT, M_WORK_LIST, M_WORK_FETCH, M_CROSSBLIND, M_RESULTS, M_COUNT };
static const char *const method_names[M_COUNT] = {
    "upload.chunk", "submit.commit", "work.list", "work.fetch", "crossblind.commit", "results",
};

static struct {
    unsigned clients, seconds, elements, universe, work, every, contexts, front_ends;
    char hub_bin[512];
    char store[512]; /* psi-hub init --store, or empty: the default */
    struct hub_test_hub hub;
    /* the serving processes: front[0] is hub itself once it serves; the
     * others are copies of it (same directory, key and store) with their
     * own process, address and log */
    struct hub_test_hub front[MAX_FRONT_ENDS];
    char epoch[64];
    struct psi_identity *ids;
    /* indicators of each submission in position order, by submission id:
     * what only the owner knows, shared here so agents can make tags */
    pthread_rwlock_t lock;
    uint32_t **indicators_of;
    size_t indicators_cap;
    uint64_t deadline_ns;
} B;

struct latencies {
    uint64_t *ns;
    size_t n, cap;
    unsigned long errors;
};

struct client {
    unsigned index;
    struct psi_rpc *rpc;
    struct latencies lat[M_COUNT];
    unsigned long submissions, crossblinds, elements_sent, tags_sent, results_positions;
    char first_error[512];
};

static int parse_uint(const char *text, unsigned lo, unsigned hi, unsigned *out)
{
    char *end = NULL;
    if (text == NULL)
        return -1;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static void record(struct latencies *l, uint64_t ns)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        uint64_t *m = realloc(l->ns, cap * sizeof *m);
        if (m == NULL)
            return;
        l->ns = m;
        l->cap = cap;
    }
    l->ns[l->n++] = ns;
}

/* One timed call; 0 or the error (counted, the first one kept). */
static int timed_call(struct client *c, enum method m, const void *body, size_t body_len,
                      uint8_t **reply, size_t *reply_len)
{
    char err[400] = "";
    uint64_t t0 = hub_test_mono_ns();
    int rc =
        psi_rpc_call(c->rpc, method_names[m], body, body_len, reply, reply_len, err, sizeof err);
    uint64_t t1 = hub_test_mono_ns();
    if (rc != 0) {
        c->lat[m].errors++;
        if (c->first_error[0] == '\0')
            snprintf(c->first_error, sizeof c->first_error, "%s: %s", method_names[m], err);
        return rc;
    }
    record(&c->lat[m], t1 - t0);
    return 0;
}

static int upload(struct client *c, const uint8_t *bytes, size_t len, uint8_t upload_id[16])
{
    randombytes_buf(upload_id, 16);
    for (size_t at = 0; at < len; at += 1u << 20) {
        size_t n, reply_len;
        uint8_t *body = hub_test_chunk_body(upload_id, at, bytes + at,
                                            len - at < (1u << 20) ? len - at : 1u << 20, &n),
                *reply = NULL;
        int rc = timed_call(c, M_UPLOAD, body, n, &reply, &reply_len);
        free(body);
        free(reply);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void remember_indicators(uint64_t submission_id, uint32_t *indicators)
{
    pthread_rwlock_wrlock(&B.lock);
    if (submission_id >= B.indicators_cap) {
        size_t cap = B.indicators_cap ? B.indicators_cap : 1024;
        while (cap <= submission_id)
            cap *= 2;
        uint32_t **m = realloc(B.indicators_of, cap * sizeof *m);
        if (m != NULL) {
            memset(m + B.indicators_cap, 0, (cap - B.indicators_cap) * sizeof *m);
            B.indicators_of = m;
            B.indicators_cap = cap;
        }
    }
    if (submission_id < B.indicators_cap)
        B.indicators_of[submission_id] = indicators;
    else
        free(indicators);
    pthread_rwlock_unlock(&B.lock);
}

static const uint32_t *indicators_for(uint64_t submission_id)
{
    pthread_rwlock_rdlock(&B.lock);
    const uint32_t *p = submission_id < B.indicators_cap ? B.indicators_of[submission_id] : NULL;
    pthread_rwlock_unlock(&B.lock);
    return p;
}

static int submit(struct client *c)
{
    const struct psi_identity *me = &B.ids[c->index];
    size_t count = B.elements;
    uint8_t *elements = hub_test_elements(count);
    uint32_t *indicators = malloc(count * sizeof *indicators);
    if (elements == NULL || indicators == NULL) {
        free(elements);
        free(indicators);
        return PSI_ERR_NOMEM;
    }
    for (size_t i = 0; i < count; i++)
        indicators[i] = randombytes_uniform(B.universe);
    uint8_t upload_id[16];
    int rc = upload(c, elements, count * 32, upload_id);
    if (rc == 0) {
        unsigned char digest[32], sig[64];
        hub_test_submission_digest(B.epoch, me->name, count, elements, digest);
        hub_test_submission_sign(me->secret_key, B.hub.hub_key, digest, sig);
        size_t n, reply_len;
        uint8_t *body = hub_test_commit_body(upload_id, B.epoch, count, digest, sig, &n),
                *reply = NULL;
        rc = timed_call(c, M_SUBMIT, body, n, &reply, &reply_len);
        free(body);
        if (rc == 0) {
            Psi__SubmitReceipt *r = psi__submit_receipt__unpack(NULL, reply_len, reply);
            if (r == NULL) {
                rc = PSI_ERR_PARSE;
            } else {
                remember_indicators(r->submission_id, indicators);
                indicators = NULL;
                c->submissions++;
                c->elements_sent += count;
                psi__submit_receipt__free_unpacked(r, NULL);
            }
        }
        free(reply);
    }
    free(indicators);
    free(elements);
    return rc;
}

static int crossblind_one(struct client *c, const Psi__Submission *task)
{
    const struct psi_identity *me = &B.ids[c->index];
    const uint32_t *indicators = indicators_for(task->submission_id);
    if (indicators == NULL || task->count == 0 || task->count > B.elements ||
        task->digest.len != 32)
        return 0; /* not one of ours (cannot happen) */
    size_t count = (size_t)task->count;
    uint8_t *tags = malloc(count * 16);
    if (tags == NULL)
        return PSI_ERR_NOMEM;
    int rc = 0;
    for (size_t at = 0; rc == 0 && at < count;) {
        Psi__FetchRequest fr = PSI__FETCH_REQUEST__INIT;
        fr.submission_id = task->submission_id;
        fr.offset = at;
        fr.limit = (uint32_t)(count - at);
        size_t n, reply_len;
        uint8_t *body = hub_test_pack(&fr.base, &n), *reply = NULL;
        rc = timed_call(c, M_WORK_FETCH, body, n, &reply, &reply_len);
        free(body);
        if (rc != 0)
            break;
        Psi__FetchReply *got = psi__fetch_reply__unpack(NULL, reply_len, reply);
        free(reply);
        if (got == NULL || got->elements.len == 0 || got->elements.len % 32 != 0 ||
            got->offset != at || at + got->elements.len / 32 > count) {
            if (got != NULL)
                psi__fetch_reply__free_unpacked(got, NULL);
            rc = PSI_ERR_PARSE;
            break;
        }
        size_t k = got->elements.len / 32;
        for (size_t i = 0; i < k; i++) /* stands for k_me·element, hashed */
            hub_test_tag(indicators[at + i], tags + (at + i) * 16);
        at += k;
        psi__fetch_reply__free_unpacked(got, NULL);
    }
    uint8_t upload_id[16];
    if (rc == 0)
        rc = upload(c, tags, count * 16, upload_id);
    if (rc == 0) {
        unsigned char tag_digest[32], sig[64];
        hub_test_tag_digest(tags, count, tag_digest);
        hub_test_crossblind_sign(me->secret_key, B.hub.hub_key, task->digest.data, count,
                                 tag_digest, sig);
        Psi__CrossBlindCommit m = PSI__CROSS_BLIND_COMMIT__INIT;
        m.upload_id.data = upload_id;
        m.upload_id.len = 16;
        m.submission_id = task->submission_id;
        m.count = count;
        m.tag_digest.data = tag_digest;
        m.tag_digest.len = 32;
        m.signature.data = sig;
        m.signature.len = 64;
        m.mutual_suite = psi_mutual_suite();
        size_t n, reply_len;
        uint8_t *body = hub_test_pack(&m.base, &n), *reply = NULL;
        rc = timed_call(c, M_CROSSBLIND, body, n, &reply, &reply_len);
        free(body);
        if (rc == 0) {
            Psi__CrossBlindReceipt *r = psi__cross_blind_receipt__unpack(NULL, reply_len, reply);
            if (r != NULL)
                psi__cross_blind_receipt__free_unpacked(r, NULL);
            c->crossblinds++;
            c->tags_sent += count;
        }
        free(reply);
    }
    free(tags);
    return rc;
}

static int agent(struct client *c)
{
    size_t reply_len;
    uint8_t *reply = NULL;
    int rc = timed_call(c, M_WORK_LIST, NULL, 0, &reply, &reply_len);
    if (rc != 0)
        return rc;
    Psi__WorkList *work = psi__work_list__unpack(NULL, reply_len, reply);
    free(reply);
    if (work == NULL)
        return PSI_ERR_PARSE;
    /* Start at a random task, so that agents do not all take the same ones. */
    size_t start = work->n_tasks ? randombytes_uniform((uint32_t)work->n_tasks) : 0;
    for (size_t i = 0; rc == 0 && i < work->n_tasks && i < B.work; i++)
        rc = crossblind_one(c, work->tasks[(start + i) % work->n_tasks]);
    psi__work_list__free_unpacked(work, NULL);
    return rc;
}

static int results(struct client *c)
{
    Psi__ResultsRequest m = PSI__RESULTS_REQUEST__INIT;
    m.participant = B.ids[c->index].name;
    m.epoch = (char *)"";
    size_t n, reply_len;
    uint8_t *body = hub_test_pack(&m.base, &n), *reply = NULL;
    int rc = timed_call(c, M_RESULTS, body, n, &reply, &reply_len);
    free(body);
    if (rc == 0) {
        Psi__Results *r = psi__results__unpack(NULL, reply_len, reply);
        if (r == NULL)
            rc = PSI_ERR_PARSE;
        else {
            c->results_positions = r->n_matches;
            psi__results__free_unpacked(r, NULL);
        }
    }
    free(reply);
    return rc;
}

static void *client_thread(void *arg)
{
    struct client *c = arg;
    char err[400];
    const struct hub_test_hub *front = &B.front[c->index % B.front_ends];
    if (psi_rpc_open(&c->rpc, front->url, &B.ids[c->index], B.hub.hub_key, 120000, err,
                     sizeof err) != 0) {
        snprintf(c->first_error, sizeof c->first_error, "open: %s", err);
        c->lat[M_UPLOAD].errors++;
        return NULL;
    }
    psi_rpc_set_retries(c->rpc, 0); /* a timeout is an error here, not a retry */
    for (unsigned round = 0; hub_test_mono_ns() < B.deadline_ns; round++) {
        if (round % B.every == 0)
            (void)submit(c);
        if (hub_test_mono_ns() >= B.deadline_ns)
            break;
        (void)agent(c);
        if (hub_test_mono_ns() >= B.deadline_ns)
            break;
        (void)results(c);
    }
    psi_rpc_close(c->rpc);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_ms(const uint64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1e6;
}

static int setup(void)
{
    char options[600] = "--epoch manual:load";
    if (B.store[0] != '\0')
        snprintf(options, sizeof options, "--epoch manual:load --store '%s'", B.store);
    if (hub_test_hub_create(&B.hub, B.hub_bin, "bench-load", "load-hub", options) != 0)
        return -1;
    B.ids = calloc(B.clients, sizeof *B.ids);
    if (B.ids == NULL)
        return -1;
    for (unsigned i = 0; i < B.clients; i++) {
        char name[32];
        snprintf(name, sizeof name, "agency-%03u", i);
        if (psi_identity_generate(&B.ids[i], name) != 0 ||
            hub_test_hub_admit(&B.hub, &B.ids[i], "agency", "--share-with all") != 0)
            return -1;
    }
    for (unsigned k = 0; k < B.front_ends; k++) {
        struct hub_test_hub *front = &B.front[k];
        *front = B.hub;
        if (k > 0)
            snprintf(front->log_path, sizeof front->log_path, "%s/hub.%u.log", B.hub.dir, k);
        if (hub_test_hub_serve(front, B.contexts, NULL) != 0)
            return -1;
    }
    /* the epoch, from the hub itself */
    struct psi_rpc *rpc = NULL;
    char err[512];
    uint8_t *reply = NULL;
    size_t n = 0;
    if (psi_rpc_open(&rpc, B.front[0].url, &B.ids[0], B.hub.hub_key, 10000, err, sizeof err) != 0 ||
        psi_rpc_call(rpc, "info", NULL, 0, &reply, &n, err, sizeof err) != 0) {
        fprintf(stderr, "bench_load: info: %s\n", err);
        psi_rpc_close(rpc);
        return -1;
    }
    psi_rpc_close(rpc);
    Psi__HubInfo *info = psi__hub_info__unpack(NULL, n, reply);
    free(reply);
    if (info == NULL)
        return -1;
    snprintf(B.epoch, sizeof B.epoch, "%s", info->epoch);
    psi__hub_info__free_unpacked(info, NULL);
    return 0;
}

/* Stops every serving front-end; 0 if all stopped cleanly, else the first
 * other status. */
static int stop_front_ends(void)
{
    int first = 0;
    for (unsigned k = 0; k < B.front_ends; k++) {
        if (B.front[k].pid <= 0)
            continue;
        int status = hub_test_hub_stop(&B.front[k]);
        if (status != 0 && first == 0)
            first = status;
    }
    return first;
}

/* Frees the participants and the indicator lists of the run. */
static void free_run(void)
{
    for (unsigned i = 0; B.ids != NULL && i < B.clients; i++)
        psi_identity_clear(&B.ids[i]);
    free(B.ids);
    B.ids = NULL;
    for (size_t i = 0; i < B.indicators_cap; i++)
        free(B.indicators_of[i]);
    free(B.indicators_of);
    B.indicators_of = NULL;
    B.indicators_cap = 0;
}

int main(int argc, char **argv)
{
    B.clients = 64;
    B.seconds = 20;
    B.elements = 512;
    B.universe = 50000;
    B.work = 2;
    B.every = 8;
    B.contexts = 8;
    B.front_ends = 1;
    snprintf(B.hub_bin, sizeof B.hub_bin, "%s/server/psi-hub", PSI_BINARY_DIR);
    for (int i = 1; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(opt, "--clients") == 0) {
            bad = parse_uint(val, 1, 1000, &B.clients);
        } else if (strcmp(opt, "--seconds") == 0) {
            bad = parse_uint(val, 1, 3600, &B.seconds);
        } else if (strcmp(opt, "--elements") == 0) {
            bad = parse_uint(val, 1, 100000, &B.elements);
        } else if (strcmp(opt, "--universe") == 0) {
            bad = parse_uint(val, 1, 100000000, &B.universe);
        } else if (strcmp(opt, "--work") == 0) {
            bad = parse_uint(val, 0, 1000, &B.work);
        } else if (strcmp(opt, "--every") == 0) {
            bad = parse_uint(val, 1, 1000000, &B.every);
        } else if (strcmp(opt, "--contexts") == 0) {
            bad = parse_uint(val, 1, 256, &B.contexts);
        } else if (strcmp(opt, "--front-ends") == 0) {
            bad = parse_uint(val, 1, MAX_FRONT_ENDS, &B.front_ends);
        } else if (strcmp(opt, "--store") == 0 && val != NULL && strchr(val, '\'') == NULL) {
            bad = snprintf(B.store, sizeof B.store, "%s", val) >= (int)sizeof B.store;
        } else if (strcmp(opt, "--hub") == 0 && val != NULL) {
            snprintf(B.hub_bin, sizeof B.hub_bin, "%s", val);
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "bench_load: bad option %s\n%s", opt, usage);
            return 2;
        }
    }
    if (B.front_ends > 1 && strncmp(B.store, "postgresql://", 13) != 0) {
        fprintf(stderr,
                "bench_load: --front-ends %u needs a store several hubs can share "
                "(--store postgresql://...); the SQLite store has one front-end\n",
                B.front_ends);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    pthread_rwlock_init(&B.lock, NULL);
    double load = bench_load_average();
    if (setup() != 0) {
        fprintf(stderr, "bench_load: could not set up the hub\n");
        stop_front_ends();
        hub_test_hub_destroy(&B.hub);
        free_run();
        return 1;
    }
    printf("bench_load: %u clients (one participant each), %u s, %u elements a submission "
           "(every %u rounds), up to %u sets cross-blinded a round, %u front-end(s) with %u "
           "contexts each, store %s; load average %.2f before\n",
           B.clients, B.seconds, B.elements, B.every, B.work, B.front_ends, B.contexts,
           B.store[0] ? "postgresql" : "sqlite", load);
    fflush(stdout);

    struct client *clients = calloc(B.clients, sizeof *clients);
    pthread_t *threads = calloc(B.clients, sizeof *threads);
    if (clients == NULL || threads == NULL) {
        fprintf(stderr, "bench_load: out of memory for %u clients\n", B.clients);
        stop_front_ends();
        hub_test_hub_destroy(&B.hub);
        free_run();
        free(clients);
        free(threads);
        return 1;
    }
    uint64_t start = hub_test_mono_ns();
    B.deadline_ns = start + (uint64_t)B.seconds * 1000000000u;
    unsigned started = 0; /* the report covers these; the run fails if not all */
    for (unsigned i = 0; i < B.clients; i++) {
        clients[i].index = i;
        if (pthread_create(&threads[i], NULL, client_thread, &clients[i]) != 0) {
            fprintf(stderr, "bench_load: cannot start thread %u\n", i);
            break;
        }
        started++;
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    double seconds = (double)(hub_test_mono_ns() - start) / 1e9;

    printf("%-18s %8s %7s %9s %9s %9s %9s\n", "method", "calls", "errors", "calls/s", "p50 ms",
           "p99 ms", "max ms");
    unsigned long total_calls = 0, total_errors = 0, submissions = 0, crossblinds = 0, elements = 0,
                  tags = 0;
    for (int m = 0; m < M_COUNT; m++) {
        size_t n = 0;
        unsigned long errors = 0;
        for (unsigned i = 0; i < B.clients; i++) {
            n += clients[i].lat[m].n;
            errors += clients[i].lat[m].errors;
        }
        uint64_t *all = malloc((n + 1) * sizeof *all);
        size_t k = 0;
        for (unsigned i = 0; i < B.clients; i++) {
            if (clients[i].lat[m].n > 0)
                memcpy(all + k, clients[i].lat[m].ns, clients[i].lat[m].n * sizeof *all);
            k += clients[i].lat[m].n;
        }
        qsort(all, n, sizeof *all, cmp_u64);
        printf("%-18s %8zu %7lu %9.1f %9.1f %9.1f %9.1f\n", method_names[m], n, errors,
               (double)n / seconds, percentile_ms(all, n, 0.50), percentile_ms(all, n, 0.99),
               n ? (double)all[n - 1] / 1e6 : 0.0);
        free(all);
        total_calls += n;
        total_errors += errors;
    }
    const char *first_error = NULL;
    for (unsigned i = 0; i < B.clients; i++) {
        submissions += clients[i].submissions;
        crossblinds += clients[i].crossblinds;
        elements += clients[i].elements_sent;
        tags += clients[i].tags_sent;
        if (first_error == NULL && clients[i].first_error[0] != '\0')
            first_error = clients[i].first_error;
        for (int m = 0; m < M_COUNT; m++)
            free(clients[i].lat[m].ns);
    }
    long hwm = 0; /* the largest front-end's */
    for (unsigned k = 0; k < B.front_ends; k++) {
        long kib = hub_test_proc_kib(B.front[k].pid, "VmHWM");
        hwm = kib > hwm ? kib : hwm;
    }
    struct hub_test_counts counts;
    memset(&counts, 0, sizeof counts);
    if (B.store[0] == '\0') /* the rows are counted in the SQLite file */
        (void)hub_test_counts_read(&B.hub, NULL, &counts);
    printf("total: %lu calls in %.1f s = %.1f calls/s, %lu errors; %lu submissions (%lu "
           "elements), %lu sets cross-blinded (%lu tags)\n",
           total_calls, seconds, (double)total_calls / seconds, total_errors, submissions, elements,
           crossblinds, tags);
    if (B.store[0] == '\0')
        printf("hub: VmHWM %ld KiB; rows: %lld submissions, %lld cross-blind batches, %lld tags, "
               "%lld overlaps\n",
               hwm, counts.submissions, counts.crossblinds, counts.tags, counts.overlaps);
    else
        printf("hub: VmHWM %ld KiB (the largest front-end's)\n", hwm);
    if (first_error != NULL)
        printf("first error: %s\n", first_error);
    printf("clients=%u seconds=%.1f calls=%lu calls_per_s=%.1f errors=%lu submissions=%lu "
           "crossblinds=%lu hub_vmhwm_kib=%ld front_ends=%u contexts=%u store=%s\n",
           B.clients, seconds, total_calls, (double)total_calls / seconds, total_errors,
           submissions, crossblinds, hwm, B.front_ends, B.contexts,
           B.store[0] ? "postgresql" : "sqlite");
    int stop = stop_front_ends();
    if (stop != 0)
        fprintf(stderr, "bench_load: a psi-hub did not stop cleanly (status %d); logs in %s\n",
                stop, B.hub.dir);
    else
        hub_test_hub_destroy(&B.hub);
    free_run();
    free(clients);
    free(threads);
    return total_errors == 0 && stop == 0 && started == B.clients ? 0 : 1;
}
