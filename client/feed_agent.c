/* The vendor's answers to feed queries, for `psi agent` (feed_agent.h). */
#include "feed_agent.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "methods.h"
#include "psi/error.h"
#include "psi/feed.h"
#include "psi/ident.h"
#include "psi/oprf.h"

struct psi_feed_agent {
    struct psi_cli_session *session;
    struct psi_feed_agent_limits limits;
    psi_feed_agency_key_fn key_of;
    void *key_ctx;
    sqlite3 *db; /* announced epochs, evaluated and refused batches, counts */
    char key_epoch[PSI_STATE_EPOCH_MAX + 1];
    unsigned char sk[32];
    unsigned char pk[32];
    int have_key;
#ifdef PSI_TEST_HOOKS
    int wrong_key; /* the test hook, in test builds only */
#endif
    /* Batches settled by this process (answered, declined or refused): not
     * worked on or reported again. */
    uint64_t *settled;
    size_t n_settled, cap_settled;
};

/* The vendor's own record (DIR/feed-agent.db):
 *   answered   queries evaluated per (epoch, authenticated agency): the limits
 *   announced  the epochs `psi feed publish` announced a key for, in order
 *   evaluated  every batch evaluated, by the SHA-256 of its signed statement
 *              (the replay check), with the query id it came under
 *   refused    every batch refused, by a digest of the batch as relayed, so
 *              that it is reported once */
static const char DB_SCHEMA[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS answered (epoch TEXT NOT NULL,"
    " agency TEXT NOT NULL, queries INTEGER NOT NULL,"
    " PRIMARY KEY (epoch, agency)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS announced (epoch TEXT PRIMARY KEY,"
    " seq INTEGER NOT NULL UNIQUE, announced_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS evaluated ("
    " statement BLOB PRIMARY KEY CHECK (length(statement) = 32),"
    " query_id INTEGER NOT NULL, agency TEXT NOT NULL, epoch TEXT NOT NULL,"
    " queries INTEGER NOT NULL, at_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS refused ("
    " batch BLOB PRIMARY KEY CHECK (length(batch) = 32),"
    " query_id INTEGER NOT NULL, agency TEXT NOT NULL, reason TEXT NOT NULL,"
    " at_ms INTEGER NOT NULL) WITHOUT ROWID;";

static int64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opens (and creates) DIR/feed-agent.db; on failure err says why. */
static int db_open(const char *dir, sqlite3 **db, char *err, size_t errlen)
{
    char path[4096];
    char *msg = NULL;
    *db = NULL;
    if (psi_cli_path(path, sizeof path, dir, PSI_FEED_AGENT_DB_FILE)) {
        snprintf(err, errlen, "state directory path too long");
        return -1;
    }
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(*db, 5000) != SQLITE_OK ||
        sqlite3_exec(*db, DB_SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 msg ? msg : (*db ? sqlite3_errmsg(*db) : "out of memory"));
        sqlite3_free(msg);
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

static int is_settled(const struct psi_feed_agent *fa, uint64_t id)
{
    for (size_t i = 0; i < fa->n_settled; i++)
        if (fa->settled[i] == id)
            return 1;
    return 0;
}

static int settle(struct psi_feed_agent *fa, uint64_t id)
{
    if (fa->n_settled == fa->cap_settled) {
        size_t ncap = fa->cap_settled ? fa->cap_settled * 2 : 16;
        uint64_t *grown = realloc(fa->settled, ncap * sizeof *grown);
        if (!grown)
            return -1;
        fa->settled = grown;
        fa->cap_settled = ncap;
    }
    fa->settled[fa->n_settled++] = id;
    return 0;
}

int psi_feed_agent_open(struct psi_feed_agent **out, struct psi_cli_session *s,
                        const struct psi_feed_agent_limits *limits, psi_feed_agency_key_fn key_of,
                        void *key_ctx)
{
    char err[4200];
    *out = NULL;
    if (!key_of)
        return psi_cmdline_fail(s->cmd, "the feed agent needs a lookup of agency keys");
    struct psi_feed_agent *fa = calloc(1, sizeof *fa);
    if (!fa)
        return psi_cmdline_fail(s->cmd, "out of memory");
    fa->session = s;
    fa->limits = *limits;
    fa->key_of = key_of;
    fa->key_ctx = key_ctx;
#ifdef PSI_TEST_HOOKS
    const char *hook = getenv(PSI_FEED_AGENT_WRONG_KEY_ENV);
    fa->wrong_key = hook != NULL && hook[0] != '\0';
#endif
    if (db_open(s->dir, &fa->db, err, sizeof err)) {
        free(fa);
        return psi_cmdline_fail(s->cmd, "%s", err);
    }
    *out = fa;
    return 0;
}

void psi_feed_agent_close(struct psi_feed_agent *fa)
{
    if (!fa)
        return;
    sodium_memzero(fa->sk, sizeof fa->sk);
    sqlite3_close(fa->db);
    free(fa->settled);
    free(fa);
}

int psi_feed_agent_note_announced(const char *cmd, const char *dir, const char *epoch)
{
    char err[4200];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (!psi_epoch_label_is_valid(epoch))
        return psi_cmdline_fail(cmd, "invalid epoch label");
    if (db_open(dir, &db, err, sizeof err))
        return psi_cmdline_fail(cmd, "%s", err);
    /* An epoch recorded before keeps its place: announcing it again never
     * makes an older epoch the latest. */
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO announced(epoch, seq, announced_ms)"
                                " SELECT ?1, coalesce(max(seq), 0) + 1, ?2 FROM announced"
                                " WHERE 1 ON CONFLICT(epoch) DO NOTHING",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, epoch, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_ms());
        rc = sqlite3_step(st);
    }
    int status = rc == SQLITE_DONE
                     ? 0
                     : psi_cmdline_fail(cmd, "cannot record the announced epoch in %s: %s",
                                        PSI_FEED_AGENT_DB_FILE, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return status;
}

/* The latest epoch this vendor announced a key for; *found 0 if none. */
static int latest_announced(struct psi_feed_agent *fa, char out[PSI_STATE_EPOCH_MAX + 1],
                            int *found)
{
    sqlite3_stmt *s = NULL;
    *found = 0;
    out[0] = '\0';
    if (sqlite3_prepare_v2(fa->db, "SELECT epoch FROM announced ORDER BY seq DESC LIMIT 1", -1, &s,
                           NULL) != SQLITE_OK)
        return PSI_ERR_STORE;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(s, 0);
        int n = sqlite3_column_bytes(s, 0);
        if (v && n > 0 && (size_t)n <= PSI_STATE_EPOCH_MAX) {
            memcpy(out, v, (size_t)n);
            out[n] = '\0';
            *found = 1;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : PSI_ERR_STORE;
}

/* One unsigned count from a query with text parameters a and b (b may be
 * NULL); 0 without a row. */
static int count_of(struct psi_feed_agent *fa, const char *sql, const char *a, const char *b,
                    uint64_t *n)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(fa->db, sql, -1, &s, NULL) != SQLITE_OK)
        return PSI_ERR_STORE;
    sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0)
        *n = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : PSI_ERR_STORE;
}

/* The key pair of epoch, derived once per epoch. */
static int epoch_key(struct psi_feed_agent *fa, const char *epoch)
{
    if (fa->have_key && strcmp(fa->key_epoch, epoch) == 0)
        return 0;
    char path[4096], err[512];
    unsigned char seed[32];
    struct psi_cli_session *s = fa->session;
    if (!psi_epoch_label_is_valid(epoch))
        return psi_cmdline_fail(s->cmd, "invalid epoch label");
    if (psi_cli_path(path, sizeof path, s->dir, PSI_CLI_SEED_FILE))
        return psi_cmdline_fail(s->cmd, "state directory path too long");
    if (psi_cli_seed_read(path, seed, err, sizeof err))
        return psi_cmdline_fail(s->cmd, "%s", err);
    int rc;
#ifdef PSI_TEST_HOOKS
    if (fa->wrong_key) {
        /* The test hook: another epoch's key, which the proof will match but
         * the announced key will not. */
        char other[PSI_STATE_EPOCH_MAX + 8];
        snprintf(other, sizeof other, "%.*s-wrong", 58, epoch);
        rc = psi_feed_derive_key(seed, other, fa->sk, fa->pk);
    } else {
        rc = psi_feed_derive_key(seed, epoch, fa->sk, fa->pk);
    }
#else
    rc = psi_feed_derive_key(seed, epoch, fa->sk, fa->pk);
#endif
    sodium_memzero(seed, sizeof seed);
    if (rc)
        return psi_cmdline_fail(s->cmd, "cannot derive the feed key of epoch '%s': %s", epoch,
                                psi_strerror(rc));
    memcpy(fa->key_epoch, epoch, strlen(epoch) + 1);
    fa->have_key = 1;
    return 0;
}

/* The request id of the answer to a batch: the same on every run, so that
 * the hub answers a retry from its stored reply. */
static void answer_request_id(unsigned char id[16], const char *me, uint64_t query_id)
{
    static const char dst[] = "psi/feed-answer-request/v1";
    unsigned char n[8], h[crypto_hash_sha256_BYTES];
    for (int i = 7; i >= 0; i--) {
        n[i] = (unsigned char)query_id;
        query_id >>= 8;
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)dst, sizeof dst);
    crypto_hash_sha256_update(&st, (const unsigned char *)me, strlen(me) + 1);
    crypto_hash_sha256_update(&st, n, sizeof n);
    crypto_hash_sha256_final(&st, h);
    memcpy(id, h, 16);
}

/* ---------------------------------------------------------------- checks */

static void put_u64(crypto_hash_sha256_state *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)v;
        v >>= 8;
    }
    crypto_hash_sha256_update(h, b, sizeof b);
}

static void put_text(crypto_hash_sha256_state *h, const char *text)
{
    size_t n = text ? strlen(text) : 0;
    put_u64(h, n);
    crypto_hash_sha256_update(h, (const unsigned char *)(text ? text : ""), n);
}

/* What identifies a batch as the hub relayed it: every field, so that a
 * refusal is reported once, and a changed batch is judged (and reported)
 * anew. */
static void relayed_digest(const Psi__QueryBatch *b, unsigned char out[32])
{
    static const char dst[] = "psi/feed-agent-batch/v1";
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)dst, sizeof dst);
    put_u64(&h, b->query_id);
    put_text(&h, b->agency);
    put_text(&h, b->epoch);
    put_u64(&h, b->elements.len);
    if (b->elements.len)
        crypto_hash_sha256_update(&h, b->elements.data, b->elements.len);
    put_u64(&h, b->signature.len);
    if (b->signature.len)
        crypto_hash_sha256_update(&h, b->signature.data, b->signature.len);
    crypto_hash_sha256_final(&h, out);
}

/* The claimed agency, fit to print. */
static const char *shown_agency(const Psi__QueryBatch *b)
{
    return b->agency && psi_id_is_valid(b->agency) ? b->agency : "(an invalid id)";
}

/* 1 if this relayed batch was refused before, 0 if not, or an error. */
static int refused_before(struct psi_feed_agent *fa, const unsigned char batch[32])
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(fa->db, "SELECT 1 FROM refused WHERE batch = ?1", -1, &s, NULL) !=
        SQLITE_OK)
        return PSI_ERR_STORE;
    sqlite3_bind_blob(s, 1, batch, 32, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : PSI_ERR_STORE;
}

static int record_refusal(struct psi_feed_agent *fa, const unsigned char batch[32],
                          const Psi__QueryBatch *b, const char *reason)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(fa->db,
                           "INSERT OR IGNORE INTO refused(batch, query_id, agency, reason, at_ms)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &s, NULL) != SQLITE_OK)
        return PSI_ERR_STORE;
    sqlite3_bind_blob(s, 1, batch, 32, SQLITE_STATIC);
    /* ids past INT64_MAX keep their bits: this column is only ever shown */
    sqlite3_bind_int64(s, 2, (sqlite3_int64)b->query_id);
    sqlite3_bind_text(s, 3, shown_agency(b), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now_ms());
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : PSI_ERR_STORE;
}

/* The checks that need no record of earlier work: the batch's form, the
 * agency, the epoch and the signature. 0 if it passes (statement gets the
 * SHA-256 of the signed statement), 1 if refused (reason set), or an
 * error. */
static int judge(struct psi_feed_agent *fa, const Psi__QueryBatch *b, const char *hub_epoch,
                 unsigned char statement_digest[32], char *reason, size_t cap)
{
    const struct psi_cli_session *s = fa->session;
    size_t n = b->elements.len / 32;
    if (b->elements.len % 32 != 0 || n == 0 || n > PSI_VOPRF_MAX_BATCH || !b->epoch ||
        !psi_epoch_label_is_valid(b->epoch) || !b->agency || !psi_id_is_valid(b->agency)) {
        snprintf(reason, cap, "malformed batch (%zu bytes of elements, or a bad epoch or id)",
                 b->elements.len);
        return 1;
    }
    unsigned char key[32];
    int rc = fa->key_of(fa->key_ctx, b->agency, key);
    if (rc == PSI_ERR_NOT_FOUND) {
        snprintf(reason, cap, "%s is not a known agency (no pinned, logged agency key)", b->agency);
        return 1;
    }
    if (rc)
        return rc;
    /* Only the current epoch's key is ever applied: the latest this vendor
     * announced, and the one the hub names now. */
    char latest[PSI_STATE_EPOCH_MAX + 1];
    int found = 0;
    if ((rc = latest_announced(fa, latest, &found)) != 0)
        return rc;
    if (!found) {
        snprintf(reason, cap,
                 "this vendor has announced no feed key ('psi feed publish' records it)");
        return 1;
    }
    if (strcmp(b->epoch, latest) != 0) {
        snprintf(reason, cap,
                 "batch of epoch %s, but this vendor answers only its latest announced epoch %s",
                 b->epoch, latest);
        return 1;
    }
    if (!hub_epoch || strcmp(hub_epoch, latest) != 0) {
        snprintf(
            reason, cap, "the hub names epoch %s now, not this vendor's latest announced epoch %s",
            hub_epoch && psi_epoch_label_is_valid(hub_epoch) ? hub_epoch : "(invalid)", latest);
        return 1;
    }
    unsigned char digest[32], statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    if (b->signature.len != crypto_sign_BYTES) {
        snprintf(reason, cap, "the batch carries no signature of %s", b->agency);
        return 1;
    }
    if (psi_feed_query_digest(b->elements.data, n, digest) != 0 ||
        psi_feed_query_statement(statement, sizeof statement, &len, s->config.hub_key, s->config.id,
                                 b->epoch, n, digest) != 0 ||
        crypto_sign_verify_detached(b->signature.data, statement, len, key) != 0) {
        snprintf(reason, cap,
                 "the signature is not %s's over this batch for this vendor (forged or altered)",
                 b->agency);
        return 1;
    }
    crypto_hash_sha256(statement_digest, statement, len);
    return 0;
}

/* The checks on the vendor's record, and the record, in one transaction:
 * never evaluated before under another query id, within both limits; then
 * counted and kept. */
static int admit(struct psi_feed_agent *fa, const Psi__QueryBatch *b,
                 const unsigned char statement_digest[32], enum psi_feed_verdict *verdict,
                 char *reason, size_t cap)
{
    uint64_t n = b->elements.len / 32;
    sqlite3_stmt *s = NULL;
    if (sqlite3_exec(fa->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return PSI_ERR_STORE;
    int rc = sqlite3_prepare_v2(fa->db, "SELECT query_id FROM evaluated WHERE statement = ?1", -1,
                                &s, NULL) == SQLITE_OK
                 ? 0
                 : PSI_ERR_STORE;
    if (rc == 0) {
        sqlite3_bind_blob(s, 1, statement_digest, 32, SQLITE_STATIC);
        int step = sqlite3_step(s);
        if (step == SQLITE_ROW) {
            uint64_t before = (uint64_t)sqlite3_column_int64(s, 0);
            /* The same batch under the same id is a retry of an answer the
             * hub may not have received: counted once already. */
            if (before == b->query_id) {
                *verdict = PSI_FEED_EVALUATE;
            } else {
                *verdict = PSI_FEED_REFUSED;
                snprintf(reason, cap,
                         "a replay: this vendor evaluated this very batch of %s before, as "
                         "query batch %" PRIu64,
                         b->agency, before);
            }
            sqlite3_finalize(s);
            return sqlite3_exec(fa->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0
                                                                                 : PSI_ERR_STORE;
        }
        if (step != SQLITE_DONE)
            rc = PSI_ERR_STORE;
    }
    sqlite3_finalize(s);
    s = NULL;
    uint64_t used = 0, all = 0;
    const struct psi_feed_agent_limits *lim = &fa->limits;
    if (rc == 0)
        rc = count_of(fa, "SELECT queries FROM answered WHERE epoch = ?1 AND agency = ?2", b->epoch,
                      b->agency, &used);
    if (rc == 0)
        rc = count_of(fa, "SELECT coalesce(sum(queries), 0) FROM answered WHERE epoch = ?1",
                      b->epoch, NULL, &all);
    if (rc == 0 && lim->per_agency > 0 && (used > lim->per_agency || n > lim->per_agency - used)) {
        *verdict = PSI_FEED_OVER_LIMIT;
        snprintf(reason, cap,
                 "%" PRIu64 " of this vendor's limit of %" PRIu64
                 " queries per agency and epoch are used",
                 used, lim->per_agency);
    } else if (rc == 0 && lim->total > 0 && (all > lim->total || n > lim->total - all)) {
        *verdict = PSI_FEED_OVER_LIMIT;
        snprintf(reason, cap,
                 "%" PRIu64 " of this vendor's limit of %" PRIu64
                 " queries per epoch for all agencies together are used",
                 all, lim->total);
    } else if (rc == 0) {
        *verdict = PSI_FEED_EVALUATE;
        if (sqlite3_prepare_v2(fa->db,
                               "INSERT INTO evaluated(statement, query_id, agency, epoch, queries,"
                               " at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               -1, &s, NULL) != SQLITE_OK) {
            rc = PSI_ERR_STORE;
        } else {
            sqlite3_bind_blob(s, 1, statement_digest, 32, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, (sqlite3_int64)b->query_id);
            sqlite3_bind_text(s, 3, b->agency, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 4, b->epoch, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 5, (sqlite3_int64)n);
            sqlite3_bind_int64(s, 6, now_ms());
            rc = sqlite3_step(s) == SQLITE_DONE ? 0 : PSI_ERR_STORE;
            sqlite3_finalize(s);
            s = NULL;
        }
        if (rc == 0 && sqlite3_prepare_v2(fa->db,
                                          "INSERT INTO answered(epoch, agency, queries)"
                                          " VALUES (?1, ?2, ?3) ON CONFLICT(epoch, agency)"
                                          " DO UPDATE SET queries = queries + excluded.queries",
                                          -1, &s, NULL) != SQLITE_OK)
            rc = PSI_ERR_STORE;
        if (rc == 0) {
            sqlite3_bind_text(s, 1, b->epoch, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, b->agency, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 3, (sqlite3_int64)n);
            rc = sqlite3_step(s) == SQLITE_DONE ? 0 : PSI_ERR_STORE;
        }
        sqlite3_finalize(s);
    }
    if (rc == 0 && sqlite3_exec(fa->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    sqlite3_exec(fa->db, "ROLLBACK", NULL, NULL, NULL);
    return PSI_ERR_STORE;
}

int psi_feed_agent_check(struct psi_feed_agent *fa, const Psi__QueryBatch *b, const char *hub_epoch,
                         enum psi_feed_verdict *verdict, char *reason, size_t reason_cap)
{
    unsigned char relayed[32], statement_digest[32];
    *verdict = PSI_FEED_REFUSED;
    if (reason_cap > 0)
        reason[0] = '\0';
    relayed_digest(b, relayed);
    int rc = refused_before(fa, relayed);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        *verdict = PSI_FEED_REFUSED_BEFORE;
        return 0;
    }
    rc = judge(fa, b, hub_epoch, statement_digest, reason, reason_cap);
    if (rc == 0)
        rc = admit(fa, b, statement_digest, verdict, reason, reason_cap);
    else if (rc == 1)
        rc = 0; /* refused: *verdict is PSI_FEED_REFUSED */
    if (rc == 0 && *verdict == PSI_FEED_REFUSED)
        rc = record_refusal(fa, relayed, b, reason);
    return rc;
}

/* ---------------------------------------------------------------- answers */

enum batch_outcome { BATCH_ANSWERED, BATCH_DECLINED, BATCH_FAILED };

/* Evaluates a batch that passed every check and sends the answer. */
static enum batch_outcome answer_batch(struct psi_feed_agent *fa, struct psi_hub_client *hub,
                                       const Psi__QueryBatch *b, struct psi_feed_agent_tally *t)
{
    const char *cmd = fa->session->cmd;
    size_t n = b->elements.len / 32;
    if (epoch_key(fa, b->epoch))
        return BATCH_FAILED;
#ifdef PSI_TEST_HOOKS
    if (fa->wrong_key)
        psi_cmdline_note(cmd, "TEST HOOK %s: answering batch %" PRIu64 " under a wrong key",
                         PSI_FEED_AGENT_WRONG_KEY_ENV, b->query_id);
#endif
    unsigned char *evaluated = malloc(b->elements.len);
    unsigned char proof[64];
    size_t bad = 0;
    if (!evaluated) {
        psi_cmdline_note(cmd, "out of memory");
        return BATCH_FAILED;
    }
    int rc = psi_feed_answer_batch(fa->sk, fa->pk, n, b->elements.data, evaluated, proof, &bad, 0);
    if (rc == PSI_ERR_ENCODING || rc == PSI_ERR_IDENTITY) {
        psi_cmdline_note(cmd,
                         "query batch %" PRIu64 " of %s: element %zu is not a valid point; "
                         "not answered",
                         b->query_id, b->agency, bad);
        free(evaluated);
        return BATCH_DECLINED;
    }
    if (rc) {
        psi_cmdline_note(cmd, "cannot answer query batch %" PRIu64 ": %s", b->query_id,
                         psi_strerror(rc));
        free(evaluated);
        return BATCH_FAILED;
    }
    unsigned char request_id[16];
    answer_request_id(request_id, fa->session->config.id, b->query_id);
    Psi__QueryAnswer answer = PSI__QUERY_ANSWER__INIT;
    answer.query_id = b->query_id;
    answer.evaluated.data = evaluated;
    answer.evaluated.len = b->elements.len;
    answer.proof.data = proof;
    answer.proof.len = sizeof proof;
    Psi__QueryAnswerAck *ack = NULL;
    struct psi_hub_failure f;
    rc = psi_hub_client_call(hub, PSI_METHOD_NAME(QUERY_ANSWER), request_id, &answer.base,
                             &psi__query_answer_ack__descriptor, (ProtobufCMessage **)&ack, &f);
    sodium_memzero(evaluated, b->elements.len);
    free(evaluated);
    if (rc) {
        psi_cmdline_note(cmd, "query batch %" PRIu64 " of %s: %s", b->query_id, b->agency, f.text);
        return f.refused && psi_hub_refusal_is_final(f.code) ? BATCH_DECLINED : BATCH_FAILED;
    }
    protobuf_c_message_free_unpacked(&ack->base, NULL);
    t->answered++;
    t->elements += n;
    return BATCH_ANSWERED;
}

static int is_vendor(const Psi__Roster *roster, const char *me)
{
    for (size_t i = 0; i < roster->n_participants; i++) {
        const Psi__Participant *p = roster->participants[i];
        if (p->id && strcmp(p->id, me) == 0)
            return psi_role_parse(p->role) == PSI_ROLE_VENDOR && !p->removed;
    }
    return 0;
}

int psi_feed_agent_round(struct psi_feed_agent *fa, struct psi_hub_client *hub,
                         const Psi__Roster *roster, const char *hub_epoch,
                         struct psi_feed_agent_tally *tally, int *did_work)
{
    const char *cmd = fa->session->cmd;
    *did_work = 0;
    if (!is_vendor(roster, fa->session->config.id))
        return 0;
    Psi__QueryWork *work = NULL;
    struct psi_hub_failure f;
    if (psi_hub_client_call(hub, PSI_METHOD_NAME(QUERY_WORK), NULL, NULL,
                            &psi__query_work__descriptor, (ProtobufCMessage **)&work, &f)) {
        psi_cmdline_note(cmd, "%s", f.text);
        return 1;
    }
    int status = 0;
    for (size_t i = 0; i < work->n_batches; i++) {
        const Psi__QueryBatch *b = work->batches[i];
        if (is_settled(fa, b->query_id))
            continue;
        enum psi_feed_verdict verdict;
        char reason[512];
        int rc = psi_feed_agent_check(fa, b, hub_epoch, &verdict, reason, sizeof reason);
        if (rc) {
            psi_cmdline_note(cmd, "cannot check query batch %" PRIu64 " (%s): %s", b->query_id,
                             PSI_FEED_AGENT_DB_FILE,
                             rc == PSI_ERR_STORE ? sqlite3_errmsg(fa->db) : psi_strerror(rc));
            status = 1;
            break;
        }
        enum batch_outcome outcome = BATCH_DECLINED;
        switch (verdict) {
        case PSI_FEED_REFUSED:
            psi_cmdline_note(cmd, "refused query batch %" PRIu64 " of %s: %s", b->query_id,
                             shown_agency(b), reason);
            tally->refused++;
            break;
        case PSI_FEED_REFUSED_BEFORE: break;
        case PSI_FEED_OVER_LIMIT:
            psi_cmdline_note(cmd, "not answering query batch %" PRIu64 " of %s (%zu queries): %s",
                             b->query_id, b->agency, b->elements.len / 32, reason);
            tally->declined++;
            break;
        case PSI_FEED_EVALUATE:
            outcome = answer_batch(fa, hub, b, tally);
            if (outcome == BATCH_DECLINED)
                tally->declined++;
            break;
        }
        if (outcome == BATCH_FAILED) {
            status = 1;
            break;
        }
        if (outcome == BATCH_ANSWERED)
            *did_work = 1;
        if (settle(fa, b->query_id)) {
            status = 1;
            break;
        }
    }
    protobuf_c_message_free_unpacked(&work->base, NULL);
    return status;
}
