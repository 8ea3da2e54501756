/*
 * bench_tags: what a stored tag costs at rest, and what the join costs per
 * batch, in the hub's SQLite store. Fills a fresh store through the store
 * interface (server/store.h, as the hub's methods call it): P parties submit
 * n elements each in one epoch, then every party cross-blinds every other
 * party's submission, one batch per transaction as crossblind.commit does.
 * A tag stands for H(k_i k_j x): here a hash of the indicator x and the
 * unordered pair {i, j}, so two parties holding x produce equal tags and the
 * join finds them. Indicators come from a fixed-seed generator, so every run
 * of the same options stores the same tags and must find the same overlaps,
 * whatever the schema: tests/bench/bench_tags.sh runs this file against the
 * store of an older commit and of this one, and compares.
 *
 * Prints the store's size after a checkpoint (file + WAL) per tag, the tag
 * tables' own pages per tag (SQLite's dbstat, where available), and per
 * batch the time of crossblind_add (tag inserts + join) and of the commit.
 *
 * Usage: bench_tags [--parties P] [--n N] [--universe U] [--dir DIR]
 *                   [--store URL]
 * (defaults: P 10, n 2000, U 10 n; DIR: a fresh directory under /tmp, kept
 * only if given). --store: a PostgreSQL store (postgresql://...; where this
 * tree has one, PSI_BENCH_PG): the size at rest is then the pages of the
 * hub's tables in the database (schema psi, indexes and TOAST included,
 * after a CHECKPOINT), the tag tables' those of tag and its partitions.
 * Never run by ctest. The last line is machine-readable key=value pairs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "bench_util.h"
#include "store.h"
#ifdef PSI_BENCH_PG
#include <libpq-fe.h>
#endif

#define EPOCH "2026-W10"

static const char usage[] = "usage: bench_tags [--parties P] [--n N] [--universe U] [--dir DIR]\n"
                            "                  [--store URL]\n";

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_u64(const char *text, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    if (text == NULL || text[0] == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* xorshift64*: the same indicators on every run and every schema. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

/* The tag of indicator x between parties i and j (either order). */
static void tag_of(uint64_t x, unsigned i, unsigned j, uint8_t out[PSI_STORE_TAG_BYTES])
{
    uint64_t in[3] = {x, i < j ? i : j, i < j ? j : i};
    crypto_generichash(out, PSI_STORE_TAG_BYTES, (const unsigned char *)in, sizeof in, NULL, 0);
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* One integer from a query on the file, or -1 (dbstat may not be built in). */
static long long query_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

#ifdef PSI_BENCH_PG
/* One integer from a query on the PostgreSQL store at url, or -1. */
static long long pg_query_int(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    long long v = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
            v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    PQfinish(c);
    return v;
}
#endif

static void die(const char *what, const struct psi_store_ops *ops, struct psi_store *st)
{
    fprintf(stderr, "bench_tags: %s failed: %s\n", what, st ? ops->last_error(st) : "");
}

int main(int argc, char **argv)
{
    uint64_t parties = 10, n = 2000, universe = 0;
    const char *dir_opt = NULL, *store_opt = NULL;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(opt, "--parties") == 0) {
            bad = parse_u64(val, 2, 200, &parties);
        } else if (strcmp(opt, "--n") == 0) {
            bad = parse_u64(val, 1, 10000000, &n);
        } else if (strcmp(opt, "--universe") == 0) {
            bad = parse_u64(val, 1, UINT64_MAX / 2, &universe);
#ifdef PSI_BENCH_PG
        } else if (strcmp(opt, "--store") == 0 && val != NULL) {
            store_opt = val;
#endif
        } else if (strcmp(opt, "--dir") == 0 && val != NULL) {
            dir_opt = val;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "bench_tags: bad option %s %s\n%s", opt, val ? val : "", usage);
            return 2;
        }
        i++;
    }
    if (universe == 0)
        universe = 10 * n;
    if (sodium_init() < 0)
        return 1;

    char dir[256];
    if (dir_opt != NULL) {
        snprintf(dir, sizeof dir, "%s", dir_opt);
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "bench_tags: cannot make %s\n", dir);
            return 1;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        if (tmp == NULL || tmp[0] == '\0')
            tmp = "/tmp";
        int len = snprintf(dir, sizeof dir, "%s/bench_tags.XXXXXX", tmp);
        if (len < 0 || (size_t)len >= sizeof dir || mkdtemp(dir) == NULL) {
            fprintf(stderr, "bench_tags: cannot make a directory under %s\n", tmp);
            return 1;
        }
    }
    const struct psi_store_ops *ops = NULL;
    char path[512], err[512] = "";
#ifdef PSI_BENCH_PG
    int found = psi_store_for_new_hub(dir, store_opt, &ops, path, sizeof path, err, sizeof err);
#else
    int found = psi_store_in_dir(dir, "sqlite", &ops, path, sizeof path, err, sizeof err);
#endif
    if (found != 0) {
        fprintf(stderr, "bench_tags: %s\n", err);
        return 1;
    }
    ops->destroy(path);
    struct psi_store *st = NULL;
    if (ops->create(path, &st, err, sizeof err) != 0) {
        fprintf(stderr, "bench_tags: %s\n", err);
        return 1;
    }

    /* Each party's indicators, in position order. */
    uint64_t *indicators = calloc(parties * n, sizeof *indicators);
    uint8_t *elements = calloc(n, PSI_STORE_ELEMENT_BYTES);
    uint8_t *tags = calloc(n, PSI_STORE_TAG_BYTES);
    uint64_t *submission_ids = calloc(parties, sizeof *submission_ids);
    if (indicators == NULL || elements == NULL || tags == NULL || submission_ids == NULL) {
        fprintf(stderr, "bench_tags: out of memory\n");
        goto failed;
    }
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (uint64_t k = 0; k < parties * n; k++)
        indicators[k] = next_random(&seed) % universe;

    double load = bench_load_average();
    struct psi_txn t;
    if (psi_txn_begin(&t, ops, st, PSI_TXN_WRITE) != 0) {
        die("begin", ops, st);
        goto failed;
    }
    for (unsigned p = 0; p < parties; p++) {
        struct psi_store_participant who;
        memset(&who, 0, sizeof who);
        snprintf(who.id, sizeof who.id, "agency-%03u", p);
        snprintf(who.role, sizeof who.role, "agency");
        who.share_all = 1;
        if (ops->participant_add(&t, &who, 1) != 0) {
            die("participant_add", ops, st);
            goto failed;
        }
    }
    for (unsigned p = 0; p < parties; p++) {
        struct psi_store_submission sub;
        memset(&sub, 0, sizeof sub);
        snprintf(sub.owner, sizeof sub.owner, "agency-%03u", p);
        snprintf(sub.epoch, sizeof sub.epoch, EPOCH);
        sub.count = n;
        randombytes_buf(elements, n * PSI_STORE_ELEMENT_BYTES);
        if (ops->submission_add(&t, &sub, elements, 2) != 0) {
            die("submission_add", ops, st);
            goto failed;
        }
        submission_ids[p] = sub.id;
    }
    if (psi_txn_commit(&t) != 0) {
        die("commit", ops, st);
        goto failed;
    }

    /* Every party j cross-blinds every other party's submission: a batch a
     * transaction, as the hub's crossblind.commit. */
    uint64_t batches = 0, overlaps = 0, add_ns = 0, commit_ns = 0, worst_add_ns = 0;
    uint64_t start = now_ns();
    for (unsigned j = 0; j < parties; j++) {
        for (unsigned i = 0; i < parties; i++) {
            if (i == j)
                continue;
            for (uint64_t k = 0; k < n; k++)
                tag_of(indicators[i * n + k], i, j, tags + k * PSI_STORE_TAG_BYTES);
            struct psi_store_crossblind cb;
            memset(&cb, 0, sizeof cb);
            cb.submission_id = submission_ids[i];
            snprintf(cb.blinder, sizeof cb.blinder, "agency-%03u", j);
            cb.count = n;
            uint64_t matched = 0, peer_matched = 0;
            uint64_t t0 = now_ns();
            if (psi_txn_begin(&t, ops, st, PSI_TXN_WRITE) != 0) {
                die("begin", ops, st);
                goto failed;
            }
            if (ops->crossblind_add(&t, &cb, tags, 3, &matched, &peer_matched) != 0) {
                die("crossblind_add", ops, st);
                goto failed;
            }
            uint64_t t1 = now_ns();
            if (psi_txn_commit(&t) != 0) {
                die("commit", ops, st);
                goto failed;
            }
            uint64_t t2 = now_ns();
            add_ns += t1 - t0;
            commit_ns += t2 - t1;
            if (t1 - t0 > worst_add_ns)
                worst_add_ns = t1 - t0;
            overlaps += matched + peer_matched;
            batches++;
        }
    }
    double seconds = (double)(now_ns() - start) / 1e9;
    ops->close(st);
    free(indicators);
    free(elements);
    free(tags);
    free(submission_ids);

    long long bytes, tag_bytes, stored, schema;
    if (store_opt == NULL) {
        /* At rest: checkpointed, then file + WAL (what is left of it). */
        query_int(path, "PRAGMA wal_checkpoint(TRUNCATE)");
        char wal[600];
        snprintf(wal, sizeof wal, "%s-wal", path);
        bytes = file_size(path) + file_size(wal);
        tag_bytes = query_int(path, "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'tag%'"
                                    " OR name LIKE 'sqlite_autoindex_tag%'");
        stored = query_int(path, "SELECT count(*) FROM tag");
        schema = query_int(path, "PRAGMA user_version");
    } else {
#ifdef PSI_BENCH_PG
        pg_query_int(path, "CHECKPOINT");
        bytes = pg_query_int(path, "SELECT sum(pg_total_relation_size(c.oid))::bigint"
                                   " FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace"
                                   " WHERE s.nspname = 'psi' AND c.relkind = 'r'");
        tag_bytes = pg_query_int(path, "SELECT sum(pg_total_relation_size(c.oid))::bigint"
                                       " FROM pg_class c JOIN pg_namespace s"
                                       " ON s.oid = c.relnamespace WHERE s.nspname = 'psi'"
                                       " AND c.relkind = 'r' AND c.relname LIKE 'tag%'");
        stored = pg_query_int(path, "SELECT count(*) FROM psi.tag");
        schema = pg_query_int(path, "SELECT max(version) FROM psi.schema_version");
#else
        bytes = tag_bytes = stored = schema = -1;
#endif
    }
    uint64_t expect = parties * (parties - 1) * n;

    printf("store %s, schema %lld: %llu parties x %llu elements, universe %llu; load %.2f\n",
           store_opt ? "postgresql" : "sqlite", schema, (unsigned long long)parties,
           (unsigned long long)n, (unsigned long long)universe, load);
    printf("tags stored:       %lld (expected %llu)\n", stored, (unsigned long long)expect);
    printf("overlaps recorded: %llu (both sides)\n", (unsigned long long)overlaps);
    printf("store at rest:     %lld bytes = %.1f bytes per tag (tag tables alone: %.1f)\n", bytes,
           stored > 0 ? (double)bytes / (double)stored : 0.0,
           stored > 0 && tag_bytes >= 0 ? (double)tag_bytes / (double)stored : -1.0);
    printf("per batch of %llu: crossblind_add (insert + join) %.2f ms (worst %.2f), commit %.2f ms;"
           " %llu batches in %.1f s\n",
           (unsigned long long)n, (double)add_ns / 1e6 / (double)batches,
           (double)worst_add_ns / 1e6, (double)commit_ns / 1e6 / (double)batches,
           (unsigned long long)batches, seconds);
    printf("bench_tags store=%s schema=%lld parties=%llu n=%llu load1=%.2f tags=%lld overlaps=%llu "
           "store_bytes=%lld bytes_per_tag=%.2f tag_table_bytes=%lld add_ms=%.3f commit_ms=%.3f\n",
           store_opt ? "postgresql" : "sqlite", schema, (unsigned long long)parties,
           (unsigned long long)n, load, stored, (unsigned long long)overlaps, bytes,
           stored > 0 ? (double)bytes / (double)stored : 0.0, tag_bytes,
           (double)add_ns / 1e6 / (double)batches, (double)commit_ns / 1e6 / (double)batches);
    if (dir_opt == NULL || store_opt != NULL) {
        ops->destroy(path);
        rmdir(dir);
    }
    return stored == (long long)expect ? 0 : 1;

failed:
    ops->close(st);
    free(indicators);
    free(elements);
    free(tags);
    free(submission_ids);
    return 1;
}
