/* The vendor's answers to feed queries, for `psi agent` (feed_agent.h). */
#include "feed_agent.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "psi/error.h"
#include "psi/feed.h"
#include "psi/oprf.h"

struct psi_feed_agent {
    struct psi_cli_session *session;
    uint64_t per_agency_limit;
    sqlite3 *db; /* answered queries per (epoch, agency) */
    char key_epoch[PSI_STATE_EPOCH_MAX + 1];
    unsigned char sk[32];
    unsigned char pk[32];
    int have_key;
    int wrong_key; /* the test hook */
    /* Batches settled by this process (answered or declined): not worked on
     * or reported again. */
    uint64_t *settled;
    size_t n_settled, cap_settled;
};

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
                        uint64_t per_agency_limit)
{
    char path[4096];
    struct psi_feed_agent *fa = calloc(1, sizeof *fa);
    *out = NULL;
    if (!fa)
        return psi_cli_fail(s->cmd, "out of memory");
    fa->session = s;
    fa->per_agency_limit = per_agency_limit;
    const char *hook = getenv(PSI_FEED_AGENT_WRONG_KEY_ENV);
    fa->wrong_key = hook != NULL && hook[0] != '\0';
    if (psi_cli_path(path, sizeof path, s->dir, PSI_FEED_AGENT_DB_FILE)) {
        free(fa);
        return psi_cli_fail(s->cmd, "state directory path too long");
    }
    char *msg = NULL;
    if (sqlite3_open_v2(path, &fa->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(fa->db, 5000) != SQLITE_OK ||
        sqlite3_exec(fa->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS answered (epoch TEXT NOT NULL,"
                     " agency TEXT NOT NULL, queries INTEGER NOT NULL,"
                     " PRIMARY KEY (epoch, agency)) WITHOUT ROWID;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        int status = psi_cli_fail(s->cmd, "%s: %s", path,
                                  msg ? msg : (fa->db ? sqlite3_errmsg(fa->db) : "out of memory"));
        sqlite3_free(msg);
        sqlite3_close(fa->db);
        free(fa);
        return status;
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

/* Queries of agency in epoch this vendor has answered; -1 on failure. */
static int answered_get(struct psi_feed_agent *fa, const char *epoch, const char *agency,
                        uint64_t *n)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(fa->db, "SELECT queries FROM answered WHERE epoch = ?1 AND agency = ?2",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, epoch, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, agency, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0)
        *n = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int answered_add(struct psi_feed_agent *fa, const char *epoch, const char *agency,
                        uint64_t n)
{
    sqlite3_stmt *s = NULL;
    if (n > (uint64_t)INT64_MAX ||
        sqlite3_prepare_v2(fa->db,
                           "INSERT INTO answered(epoch, agency, queries) VALUES (?1, ?2, ?3)"
                           " ON CONFLICT(epoch, agency) DO UPDATE"
                           " SET queries = queries + excluded.queries",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, epoch, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, agency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)n);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The key pair of epoch, derived once per epoch. */
static int epoch_key(struct psi_feed_agent *fa, const char *epoch)
{
    if (fa->have_key && strcmp(fa->key_epoch, epoch) == 0)
        return 0;
    char path[4096], err[512];
    unsigned char seed[32];
    struct psi_cli_session *s = fa->session;
    if (strlen(epoch) > PSI_STATE_EPOCH_MAX)
        return psi_cli_fail(s->cmd, "epoch label too long");
    if (psi_cli_path(path, sizeof path, s->dir, PSI_CLI_SEED_FILE))
        return psi_cli_fail(s->cmd, "state directory path too long");
    if (psi_cli_seed_read(path, seed, err, sizeof err))
        return psi_cli_fail(s->cmd, "%s", err);
    int rc;
    if (fa->wrong_key) {
        /* The test hook: another epoch's key, which the proof will match but
         * the announced key will not. */
        char other[PSI_STATE_EPOCH_MAX + 8];
        snprintf(other, sizeof other, "%.*s-wrong", 58, epoch);
        rc = psi_feed_derive_key(seed, other, fa->sk, fa->pk);
    } else {
        rc = psi_feed_derive_key(seed, epoch, fa->sk, fa->pk);
    }
    sodium_memzero(seed, sizeof seed);
    if (rc)
        return psi_cli_fail(s->cmd, "cannot derive the feed key of epoch '%s': %s", epoch,
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

enum batch_outcome { BATCH_ANSWERED, BATCH_DECLINED, BATCH_FAILED };

static enum batch_outcome answer_batch(struct psi_feed_agent *fa, struct psi_hub_client *hub,
                                       const Psi__QueryBatch *b, struct psi_feed_agent_tally *t)
{
    const char *cmd = fa->session->cmd;
    size_t n = b->elements.len / 32;
    if (b->elements.len % 32 != 0 || n == 0 || n > PSI_VOPRF_MAX_BATCH ||
        !psi_cli_epoch_is_valid(b->epoch) || !psi_id_is_valid(b->agency)) {
        psi_cli_note(cmd, "query batch %" PRIu64 " is malformed; not answered", b->query_id);
        return BATCH_DECLINED;
    }
    if (fa->per_agency_limit > 0) {
        uint64_t used = 0;
        if (answered_get(fa, b->epoch, b->agency, &used)) {
            psi_cli_note(cmd, "%s: %s", PSI_FEED_AGENT_DB_FILE, sqlite3_errmsg(fa->db));
            return BATCH_FAILED;
        }
        if (used > fa->per_agency_limit || n > fa->per_agency_limit - used) {
            psi_cli_note(cmd,
                         "not answering query batch %" PRIu64 " of %s (%zu queries): %" PRIu64
                         " of this vendor's limit of %" PRIu64 " per agency and epoch are used",
                         b->query_id, b->agency, n, used, fa->per_agency_limit);
            return BATCH_DECLINED;
        }
    }
    if (epoch_key(fa, b->epoch))
        return BATCH_FAILED;
    if (fa->wrong_key)
        psi_cli_note(cmd, "TEST HOOK %s: answering batch %" PRIu64 " under a wrong key",
                     PSI_FEED_AGENT_WRONG_KEY_ENV, b->query_id);
    unsigned char *evaluated = malloc(b->elements.len);
    unsigned char proof[64];
    size_t bad = 0;
    if (!evaluated) {
        psi_cli_note(cmd, "out of memory");
        return BATCH_FAILED;
    }
    int rc = psi_feed_answer_batch(fa->sk, fa->pk, n, b->elements.data, evaluated, proof, &bad, 0);
    if (rc == PSI_ERR_ENCODING || rc == PSI_ERR_IDENTITY) {
        psi_cli_note(cmd,
                     "query batch %" PRIu64 " of %s: element %zu is not a valid point; "
                     "not answered",
                     b->query_id, b->agency, bad);
        free(evaluated);
        return BATCH_DECLINED;
    }
    if (rc) {
        psi_cli_note(cmd, "cannot answer query batch %" PRIu64 ": %s", b->query_id,
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
    rc = psi_hub_client_call(hub, "query.answer", request_id, &answer.base,
                             &psi__query_answer_ack__descriptor, (ProtobufCMessage **)&ack, &f);
    free(evaluated);
    if (rc) {
        psi_cli_note(cmd, "query batch %" PRIu64 " of %s: %s", b->query_id, b->agency, f.text);
        return f.refused && psi_hub_refusal_is_final(f.code) ? BATCH_DECLINED : BATCH_FAILED;
    }
    protobuf_c_message_free_unpacked(&ack->base, NULL);
    if (answered_add(fa, b->epoch, b->agency, n))
        psi_cli_note(cmd, "%s: %s", PSI_FEED_AGENT_DB_FILE, sqlite3_errmsg(fa->db));
    t->answered++;
    t->elements += n;
    return BATCH_ANSWERED;
}

static int is_vendor(const Psi__Roster *roster, const char *me)
{
    for (size_t i = 0; i < roster->n_participants; i++) {
        const Psi__Participant *p = roster->participants[i];
        if (p->id && strcmp(p->id, me) == 0)
            return p->role && strcmp(p->role, "vendor") == 0 && !p->removed;
    }
    return 0;
}

int psi_feed_agent_round(struct psi_feed_agent *fa, struct psi_hub_client *hub,
                         const Psi__Roster *roster, struct psi_feed_agent_tally *tally,
                         int *did_work)
{
    *did_work = 0;
    if (!is_vendor(roster, fa->session->config.id))
        return 0;
    Psi__QueryWork *work = NULL;
    struct psi_hub_failure f;
    if (psi_hub_client_call(hub, "query.work", NULL, NULL, &psi__query_work__descriptor,
                            (ProtobufCMessage **)&work, &f)) {
        psi_cli_note(fa->session->cmd, "%s", f.text);
        return 1;
    }
    int status = 0;
    for (size_t i = 0; i < work->n_batches; i++) {
        const Psi__QueryBatch *b = work->batches[i];
        if (is_settled(fa, b->query_id))
            continue;
        enum batch_outcome outcome = answer_batch(fa, hub, b, tally);
        if (outcome == BATCH_FAILED) {
            status = 1;
            break;
        }
        if (outcome == BATCH_DECLINED)
            tally->declined++;
        else
            *did_work = 1;
        if (settle(fa, b->query_id)) {
            status = 1;
            break;
        }
    }
    protobuf_c_message_free_unpacked(&work->base, NULL);
    return status;
}
