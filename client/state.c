/* The participant's local state in SQLite (see state.h for what it promises). */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "psi/error.h"
#include "psi/ident.h"
#include "psi_migrate.h"

struct psi_state {
    sqlite3 *db;
    char message[512];
};

/* The schema is one numbered list of migrations on PRAGMA user_version
 * (MIGRATIONS below, applied by sqlite/psi_migrate.h): psi_state_create runs
 * all of it, psi_state_open what an older file lacks.
 *
 * 1: the first state. Positions are unique per epoch both by position and
 * by indicator: the second index is what makes "never submit twice in an
 * epoch" a property of the store and not only of the caller. */
static const char schema_v1[] =
    "CREATE TABLE config("
    "  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
    "  participant_id TEXT NOT NULL,"
    "  hub_url TEXT NOT NULL,"
    "  hub_key BLOB NOT NULL CHECK (length(hub_key) = 32),"
    "  hub_vkey TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE submissions("
    "  upload_id BLOB PRIMARY KEY CHECK (length(upload_id) = 16),"
    "  epoch TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status IN (0, 1, 2)),"
    "  submission_id INTEGER,"
    "  position_base INTEGER,"
    "  receipt TEXT,"
    "  reason TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  finished_ms INTEGER);"
    "CREATE UNIQUE INDEX submissions_one_pending ON submissions(status) WHERE status = 0;"
    "CREATE TABLE pending_items("
    "  upload_id BLOB NOT NULL REFERENCES submissions(upload_id),"
    "  ord INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (upload_id, ord)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX pending_items_by_indicator ON pending_items(upload_id, type, value);"
    "CREATE TABLE positions("
    "  epoch TEXT NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  submission_id INTEGER NOT NULL,"
    "  PRIMARY KEY (epoch, position));"
    "CREATE UNIQUE INDEX positions_by_indicator ON positions(epoch, type, value);"
    "CREATE TABLE agent_work("
    "  submission_id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  epoch TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status IN (0, 1, 2)),"
    "  upload_id BLOB,"
    "  matched INTEGER,"
    "  receipt TEXT,"
    "  reason TEXT,"
    "  updated_ms INTEGER NOT NULL);"
    "CREATE TABLE results_fetched("
    "  epoch TEXT PRIMARY KEY,"
    "  threshold INTEGER NOT NULL,"
    "  matches INTEGER NOT NULL,"
    "  fetched_ms INTEGER NOT NULL);"
    "CREATE TABLE results("
    "  epoch TEXT NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  PRIMARY KEY (epoch, position, peer)) WITHOUT ROWID;";

/* 2..4 were tables "created on first use" (CREATE TABLE IF NOT EXISTS on
 * each call) before the state had numbered migrations; a file of version 1
 * may hold any of them already, so these steps keep IF NOT EXISTS. */

/* 2: checkpoints of the hub's log this participant verified. */
static const char log_schema[] = "CREATE TABLE IF NOT EXISTS log_checkpoints("
                                 "  size INTEGER PRIMARY KEY,"
                                 "  root BLOB NOT NULL CHECK (length(root) = 32),"
                                 "  note TEXT NOT NULL,"
                                 "  source TEXT NOT NULL,"
                                 "  seen_ms INTEGER NOT NULL);";

/* 3: the party's own policy (one row; its share list is ids joined by
 * ',', which no id holds) and the peers it pinned. */
static const char party_schema[] = "CREATE TABLE IF NOT EXISTS party_policy("
                                   "  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
                                   "  share_all INTEGER NOT NULL CHECK (share_all IN (0, 1)),"
                                   "  contribute_only INTEGER NOT NULL"
                                   "    CHECK (contribute_only IN (0, 1)),"
                                   "  share_with TEXT NOT NULL,"
                                   "  issued_ms INTEGER NOT NULL,"
                                   "  sent_ms INTEGER NOT NULL DEFAULT 0);"
                                   "CREATE TABLE IF NOT EXISTS peers("
                                   "  id TEXT PRIMARY KEY,"
                                   "  role TEXT NOT NULL,"
                                   "  public_key BLOB NOT NULL CHECK (length(public_key) = 32),"
                                   "  admit_index INTEGER NOT NULL,"
                                   "  proven_size INTEGER NOT NULL,"
                                   "  pinned_ms INTEGER NOT NULL,"
                                   "  reviewed INTEGER NOT NULL DEFAULT 0);";

/* 4: the epochs used and accepted. */
static const char epoch_schema[] = "CREATE TABLE IF NOT EXISTS epochs("
                                   "  label TEXT PRIMARY KEY,"
                                   "  kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),"
                                   "  start_ms INTEGER NOT NULL,"
                                   "  accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),"
                                   "  seq INTEGER NOT NULL,"
                                   "  used_ms INTEGER NOT NULL);";

/* 5: feed queries (protocol 2): the answers got, per vendor, epoch and
 * indicator, and the one batch in flight per vendor and epoch, with its
 * blinds (secret: deleted when the batch ends). */
static const char feed_schema[] = "CREATE TABLE IF NOT EXISTS feed_answers("
                                  "  vendor TEXT NOT NULL,"
                                  "  epoch TEXT NOT NULL,"
                                  "  vendor_key BLOB NOT NULL CHECK (length(vendor_key) = 32),"
                                  "  type TEXT NOT NULL,"
                                  "  value TEXT NOT NULL,"
                                  "  output BLOB NOT NULL CHECK (length(output) = 64),"
                                  "  query_id INTEGER NOT NULL,"
                                  "  PRIMARY KEY (vendor, epoch, type, value));"
                                  "CREATE TABLE IF NOT EXISTS feed_pending("
                                  "  vendor TEXT NOT NULL,"
                                  "  epoch TEXT NOT NULL,"
                                  "  vendor_key BLOB NOT NULL CHECK (length(vendor_key) = 32),"
                                  "  request_id BLOB NOT NULL CHECK (length(request_id) = 16),"
                                  "  query_id INTEGER NOT NULL DEFAULT 0,"
                                  "  signature BLOB NOT NULL CHECK (length(signature) = 64),"
                                  "  count INTEGER NOT NULL CHECK (count > 0),"
                                  "  blinds BLOB NOT NULL CHECK (length(blinds) = 32 * count),"
                                  "  blinded BLOB NOT NULL CHECK (length(blinded) = 32 * count),"
                                  "  created_ms INTEGER NOT NULL,"
                                  "  PRIMARY KEY (vendor, epoch));"
                                  "CREATE TABLE IF NOT EXISTS feed_pending_items("
                                  "  vendor TEXT NOT NULL,"
                                  "  epoch TEXT NOT NULL,"
                                  "  ord INTEGER NOT NULL,"
                                  "  type TEXT NOT NULL,"
                                  "  value TEXT NOT NULL,"
                                  "  PRIMARY KEY (vendor, epoch, ord));";

/* 6: provenance. Where each submitted indicator came from (at most
 * PSI_STATE_ORIGINS_MAX places an indicator, the first recorded; '' and 0
 * for what a reader did not know, so that the unique index sees equal
 * origins as equal), and when each (indicator, peer) pair of an epoch's
 * results was first and last seen by psi results. */
static const char provenance_schema[] =
    "CREATE TABLE origins("
    "  type TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  file TEXT NOT NULL DEFAULT '',"
    "  line INTEGER NOT NULL DEFAULT 0,"
    "  path TEXT NOT NULL DEFAULT '',"
    "  event TEXT NOT NULL DEFAULT '',"
    "  object TEXT NOT NULL DEFAULT '',"
    "  to_ids INTEGER NOT NULL DEFAULT -1 CHECK (to_ids IN (-1, 0, 1)),"
    "  recorded_ms INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX origins_unique ON origins(type, value, file, line, path, event, object);"
    "CREATE TABLE results_seen("
    "  epoch TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  first_ms INTEGER NOT NULL,"
    "  last_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (epoch, type, value, peer)) WITHOUT ROWID;";

static const struct psi_sqlite_migration MIGRATIONS[] = {
    {1, "the first state", schema_v1, NULL},
    {2, "verified log checkpoints", log_schema, NULL},
    {3, "the party's policy and pinned peers", party_schema, NULL},
    {4, "epochs", epoch_schema, NULL},
    {5, "feed query answers and the batch in flight", feed_schema, NULL},
    {6, "indicator origins and when results were seen", provenance_schema, NULL},
};

_Static_assert(sizeof MIGRATIONS / sizeof MIGRATIONS[0] == PSI_STATE_SCHEMA_VERSION,
               "the last migration is the schema version");

static void say(struct psi_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct psi_state *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof st->message, fmt, ap);
    va_end(ap);
}

/* Keeps the message and evaluates to code (a macro, so that the static
 * analyzer, which does not follow variadic calls, sees the code returned). */
#define fail(st, code, ...) (say((st), __VA_ARGS__), (code))

static int fail_sql(struct psi_state *st, const char *what)
{
    return fail(st, PSI_ERR_STORE, "%s: %s", what, sqlite3_errmsg(st->db));
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int exec(struct psi_state *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        say(st, "%s", msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return PSI_ERR_STORE;
    }
    return 0;
}

static int prepare(struct psi_state *st, const char *sql, sqlite3_stmt **stmt)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK)
        return fail_sql(st, "preparing a query");
    return 0;
}

/* Rolls back an open transaction after a failure, keeping the first message. */
static void rollback(struct psi_state *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Ends the write transaction begun by the caller: commits it when rc is 0,
 * rolls it back when rc is not or the commit fails. Returns that outcome. */
static int end_transaction(struct psi_state *st, int rc)
{
    if (!rc)
        rc = exec(st, "COMMIT");
    if (rc)
        rollback(st);
    return rc;
}

/* SQLite integers are signed 64-bit: larger hub numbers would wrap. */
static int check_u64(struct psi_state *st, uint64_t v, const char *what)
{
    if (v > (uint64_t)INT64_MAX)
        return fail(st, PSI_ERR_TOO_LARGE, "%s %" PRIu64 " exceeds the store's range", what, v);
    return 0;
}

static char *dup_column(sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    if (text)
        memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

static int copy_column(sqlite3_stmt *stmt, int col, char *out, size_t outlen)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    if (len >= outlen)
        return PSI_ERR_TOO_LARGE;
    if (text)
        memcpy(out, text, len);
    out[len] = '\0';
    return 0;
}

static int db_path(char *out, size_t outlen, const char *dir)
{
    int n = snprintf(out, outlen, "%s/%s", dir, PSI_STATE_DB_NAME);
    return (n < 0 || (size_t)n >= outlen) ? PSI_ERR_TOO_LARGE : 0;
}

/* A database that could not be made whole is removed with its companions,
 * so that creating it can simply be tried again. */
static void remove_db_files(const char *path)
{
    char companion[4200];
    unlink(path);
    snprintf(companion, sizeof companion, "%s-wal", path);
    unlink(companion);
    snprintf(companion, sizeof companion, "%s-shm", path);
    unlink(companion);
}

static int open_db(struct psi_state **out, const char *path, int flags)
{
    struct psi_state *st = calloc(1, sizeof *st);
    if (!st)
        return PSI_ERR_NOMEM;
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        /* Only the error code can be returned; the caller names the path. */
        sqlite3_close(st->db);
        free(st);
        return PSI_ERR_STORE;
    }
    sqlite3_busy_timeout(st->db, 10000);
    sqlite3_extended_result_codes(st->db, 1);
    /* WAL with a full sync on every commit: what this file acknowledges,
     * and what the hub was told it holds, survives a crash. */
    int rc = exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                      /* deleted rows are overwritten: a feed batch's blinds */
                      " PRAGMA secure_delete=ON;");
    if (rc) {
        sqlite3_close(st->db);
        free(st);
        return rc;
    }
    *out = st;
    return 0;
}

/* Brings the open file to the current schema (or to upto, for tests). */
static int migrate(struct psi_state *st, int create, int upto)
{
    const struct psi_sqlite_migrate_opts opts = {create, NULL, upto};
    char why[sizeof st->message] = "";
    int rc = psi_sqlite_migrate(st->db, MIGRATIONS, sizeof MIGRATIONS / sizeof MIGRATIONS[0], &opts,
                                NULL, why, sizeof why);
    if (rc)
        say(st, "%s", why);
    return rc == PSI_ERR_UNSUPPORTED ? rc : rc ? PSI_ERR_STORE : 0;
}

static int create_at(struct psi_state **out, const char *dir, const struct psi_state_config *cfg,
                     int upto);

int psi_state_create(struct psi_state **out, const char *dir, const struct psi_state_config *cfg)
{
    return create_at(out, dir, cfg, 0);
}

int psi_state_create_at_version(const char *dir, const struct psi_state_config *cfg, int version)
{
    if (version < 1 || version > PSI_STATE_SCHEMA_VERSION)
        return PSI_ERR_INVALID;
    struct psi_state *st = NULL;
    int rc = create_at(&st, dir, cfg, version);
    psi_state_close(st);
    return rc;
}

static int create_at(struct psi_state **out, const char *dir, const struct psi_state_config *cfg,
                     int upto)
{
    char path[4096];
    struct stat sb;
    *out = NULL;
    if (db_path(path, sizeof path, dir))
        return PSI_ERR_TOO_LARGE;
    if (stat(path, &sb) == 0)
        return PSI_ERR_EXISTS;
    if (!psi_id_is_valid(cfg->id) || cfg->hub_url[0] == '\0')
        return PSI_ERR_INVALID;
    /* Position maps say what this participant holds: owner-only, like the
     * keys (SQLite gives its -wal and -shm files the same mode). */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? PSI_ERR_EXISTS : PSI_ERR_IO;
    close(fd);
    struct psi_state *st;
    int rc = open_db(&st, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (rc) {
        remove_db_files(path);
        return rc;
    }
    rc = migrate(st, 1, upto);
    if (!rc)
        rc = exec(st, "BEGIN IMMEDIATE");
    sqlite3_stmt *stmt = NULL;
    if (!rc)
        rc = prepare(st,
                     "INSERT INTO config(singleton, participant_id, hub_url, hub_key, hub_vkey,"
                     " created_ms) VALUES (1, ?, ?, ?, ?, ?)",
                     &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, cfg->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, cfg->hub_url, -1, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 3, cfg->hub_key, 32, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, cfg->hub_vkey, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, now_ms());
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "recording the configuration");
    }
    sqlite3_finalize(stmt);
    rc = end_transaction(st, rc);
    if (rc) {
        psi_state_close(st);
        remove_db_files(path);
        return rc;
    }
    *out = st;
    return 0;
}

int psi_state_open(struct psi_state **out, const char *dir)
{
    char path[4096];
    struct stat sb;
    *out = NULL;
    if (db_path(path, sizeof path, dir))
        return PSI_ERR_TOO_LARGE;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? PSI_ERR_NOT_FOUND : PSI_ERR_IO;
    struct psi_state *st;
    int rc = open_db(&st, path, SQLITE_OPEN_READWRITE);
    if (rc)
        return rc;
    /* An older file is migrated; a newer one (or one of no version) is
     * refused rather than guessed at: PSI_ERR_UNSUPPORTED. */
    rc = migrate(st, 0, 0);
    if (rc) {
        psi_state_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

void psi_state_close(struct psi_state *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st);
}

const char *psi_state_error(const struct psi_state *st)
{
    return st && st->message[0] ? st->message : "no details";
}

int psi_state_config_get(struct psi_state *st, struct psi_state_config *cfg)
{
    sqlite3_stmt *stmt = NULL;
    memset(cfg, 0, sizeof *cfg);
    int rc = prepare(st, "SELECT participant_id, hub_url, hub_key, hub_vkey FROM config", &stmt);
    if (rc)
        return rc;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        if (copy_column(stmt, 0, cfg->id, sizeof cfg->id) ||
            copy_column(stmt, 1, cfg->hub_url, sizeof cfg->hub_url) ||
            copy_column(stmt, 3, cfg->hub_vkey, sizeof cfg->hub_vkey) ||
            sqlite3_column_bytes(stmt, 2) != 32)
            rc = fail(st, PSI_ERR_STORE, "the configuration row is damaged");
        else
            memcpy(cfg->hub_key, sqlite3_column_blob(stmt, 2), 32);
    } else if (step == SQLITE_DONE) {
        rc = fail(st, PSI_ERR_STORE, "the configuration row is missing");
    } else {
        rc = fail_sql(st, "reading the configuration");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_filter_new(struct psi_state *st, const char *epoch,
                         const struct psi_state_indicator *items, size_t n, unsigned char *keep)
{
    sqlite3_stmt *stmt = NULL;
    int rc =
        prepare(st, "SELECT 1 FROM positions WHERE epoch = ? AND type = ? AND value = ?", &stmt);
    if (rc)
        return rc;
    /* One read transaction: a consistent view, and far fewer lock round trips. */
    rc = exec(st, "BEGIN");
    sqlite3_bind_text(stmt, 1, epoch, -1, SQLITE_STATIC);
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_bind_text(stmt, 2, items[i].type, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, items[i].value, -1, SQLITE_STATIC);
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW)
            keep[i] = 0;
        else if (step == SQLITE_DONE)
            keep[i] = 1;
        else
            rc = fail_sql(st, "looking up submitted indicators");
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    return end_transaction(st, rc);
}

int psi_state_pending_record(struct psi_state *st,
                             const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES],
                             const char *epoch, const struct psi_state_indicator *items, size_t n)
{
    sqlite3_stmt *seen = NULL, *ins = NULL, *sub = NULL, *pending = NULL;
    if (check_u64(st, n, "submission size"))
        return PSI_ERR_TOO_LARGE;
    /* IMMEDIATE: two `psi submit` on one state directory serialise here. */
    int rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    rc = prepare(st, "SELECT 1 FROM submissions WHERE status = 0", &pending);
    if (!rc) {
        int step = sqlite3_step(pending);
        if (step == SQLITE_ROW)
            rc = fail(st, PSI_ERR_STATE, "another submission is pending");
        else if (step != SQLITE_DONE)
            rc = fail_sql(st, "looking for a pending submission");
    }
    if (!rc)
        rc = prepare(st,
                     "INSERT INTO submissions(upload_id, epoch, count, status, created_ms)"
                     " VALUES (?, ?, ?, 0, ?)",
                     &sub);
    if (!rc) {
        sqlite3_bind_blob(sub, 1, upload_id, PSI_STATE_UPLOAD_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_text(sub, 2, epoch, -1, SQLITE_STATIC);
        sqlite3_bind_int64(sub, 3, (sqlite3_int64)n);
        sqlite3_bind_int64(sub, 4, now_ms());
        if (sqlite3_step(sub) != SQLITE_DONE)
            rc = fail_sql(st, "recording the submission");
    }
    if (!rc)
        rc = prepare(st, "SELECT 1 FROM positions WHERE epoch = ? AND type = ? AND value = ?",
                     &seen);
    if (!rc)
        rc = prepare(st, "INSERT INTO pending_items(upload_id, ord, type, value) VALUES (?,?,?,?)",
                     &ins);
    if (!rc) {
        sqlite3_bind_text(seen, 1, epoch, -1, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 1, upload_id, PSI_STATE_UPLOAD_ID_BYTES, SQLITE_STATIC);
    }
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_bind_text(seen, 2, items[i].type, -1, SQLITE_STATIC);
        sqlite3_bind_text(seen, 3, items[i].value, -1, SQLITE_STATIC);
        int step = sqlite3_step(seen);
        sqlite3_reset(seen);
        if (step == SQLITE_ROW) {
            rc = fail(st, PSI_ERR_EXISTS, "%s:%s is already submitted in epoch %s", items[i].type,
                      items[i].value, epoch);
            break;
        }
        if (step != SQLITE_DONE) {
            rc = fail_sql(st, "looking up submitted indicators");
            break;
        }
        sqlite3_bind_int64(ins, 2, (sqlite3_int64)i);
        sqlite3_bind_text(ins, 3, items[i].type, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, items[i].value, -1, SQLITE_STATIC);
        step = sqlite3_step(ins);
        sqlite3_reset(ins);
        if ((step & 0xff) == SQLITE_CONSTRAINT)
            rc = fail(st, PSI_ERR_EXISTS, "%s:%s appears twice in the submission", items[i].type,
                      items[i].value);
        else if (step != SQLITE_DONE)
            rc = fail_sql(st, "recording the submission's order");
    }
    sqlite3_finalize(pending);
    sqlite3_finalize(sub);
    sqlite3_finalize(seen);
    sqlite3_finalize(ins);
    return end_transaction(st, rc);
}

static int read_submission(sqlite3_stmt *stmt, struct psi_state_submission *out)
{
    memset(out, 0, sizeof *out);
    if (sqlite3_column_bytes(stmt, 0) != PSI_STATE_UPLOAD_ID_BYTES ||
        copy_column(stmt, 1, out->epoch, sizeof out->epoch))
        return PSI_ERR_STORE;
    memcpy(out->upload_id, sqlite3_column_blob(stmt, 0), PSI_STATE_UPLOAD_ID_BYTES);
    out->count = (uint64_t)sqlite3_column_int64(stmt, 2);
    out->status = (enum psi_state_submission_status)sqlite3_column_int(stmt, 3);
    out->submission_id = (uint64_t)sqlite3_column_int64(stmt, 4);
    out->position_base = (uint64_t)sqlite3_column_int64(stmt, 5);
    return 0;
}

int psi_state_pending_get(struct psi_state *st, struct psi_state_submission *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st,
                     "SELECT upload_id, epoch, count, status, submission_id, position_base"
                     " FROM submissions WHERE status = 0",
                     &stmt);
    if (rc)
        return rc;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        if (read_submission(stmt, out))
            rc = fail(st, PSI_ERR_STORE, "the pending submission's row is damaged");
    } else if (step == SQLITE_DONE) {
        rc = PSI_ERR_NOT_FOUND;
    } else {
        rc = fail_sql(st, "looking for a pending submission");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_pending_items(struct psi_state *st,
                            const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES],
                            struct psi_state_indicator_list *out)
{
    sqlite3_stmt *count = NULL, *stmt = NULL;
    memset(out, 0, sizeof *out);
    int rc = exec(st, "BEGIN");
    if (!rc)
        rc =
            prepare(st, "SELECT count FROM submissions WHERE upload_id = ? AND status = 0", &count);
    sqlite3_int64 n = 0;
    if (!rc) {
        sqlite3_bind_blob(count, 1, upload_id, PSI_STATE_UPLOAD_ID_BYTES, SQLITE_STATIC);
        int step = sqlite3_step(count);
        if (step == SQLITE_ROW)
            n = sqlite3_column_int64(count, 0);
        else if (step == SQLITE_DONE)
            rc = fail(st, PSI_ERR_NOT_FOUND, "no such pending submission");
        else
            rc = fail_sql(st, "reading the pending submission");
    }
    if (!rc && (n < 0 || (uint64_t)n > SIZE_MAX / sizeof *out->items))
        rc = fail(st, PSI_ERR_STORE, "the pending submission's count is damaged");
    if (!rc && n > 0) {
        out->items = calloc((size_t)n, sizeof *out->items);
        if (!out->items)
            rc = PSI_ERR_NOMEM;
    }
    if (!rc)
        rc = prepare(st,
                     "SELECT ord, type, value FROM pending_items WHERE upload_id = ? ORDER BY ord",
                     &stmt);
    if (!rc) {
        sqlite3_bind_blob(stmt, 1, upload_id, PSI_STATE_UPLOAD_ID_BYTES, SQLITE_STATIC);
        int step;
        while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
            /* Rows must be exactly 0..n-1 in order: anything else is damage. */
            if (sqlite3_column_int64(stmt, 0) != (sqlite3_int64)out->count ||
                out->count >= (size_t)n) {
                rc = fail(st, PSI_ERR_STORE, "the pending submission's order is damaged");
                break;
            }
            struct psi_state_indicator *ind = &out->items[out->count];
            ind->type = dup_column(stmt, 1);
            ind->value = dup_column(stmt, 2);
            out->count++;
            if (!ind->type || !ind->value)
                rc = PSI_ERR_NOMEM;
        }
        if (!rc && step != SQLITE_DONE)
            rc = fail_sql(st, "reading the pending submission");
        if (!rc && out->count != (size_t)n)
            rc = fail(st, PSI_ERR_STORE, "the pending submission lacks %zu of its indicators",
                      (size_t)n - out->count);
    }
    sqlite3_finalize(count);
    sqlite3_finalize(stmt);
    rc = end_transaction(st, rc);
    if (rc)
        psi_state_indicator_list_clear(out);
    return rc;
}

/* Deletes the indicator order kept for a pending upload, in the caller's
 * transaction. */
static int clear_pending_order(struct psi_state *st,
                               const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES])
{
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st, "DELETE FROM pending_items WHERE upload_id = ?", &stmt);
    if (!rc) {
        sqlite3_bind_blob(stmt, 1, upload_id, PSI_STATE_UPLOAD_ID_BYTES, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "clearing the pending order");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_pending_done(struct psi_state *st,
                           const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES],
                           uint64_t submission_id, uint64_t position_base, const char *receipt)
{
    struct psi_state_submission sub;
    sqlite3_stmt *stmt = NULL;
    int rc = check_u64(st, submission_id, "submission id");
    if (!rc)
        rc = check_u64(st, position_base, "position base");
    if (rc)
        return rc;
    rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    rc = psi_state_pending_get(st, &sub);
    if (rc == PSI_ERR_NOT_FOUND ||
        (!rc && memcmp(sub.upload_id, upload_id, PSI_STATE_UPLOAD_ID_BYTES) != 0))
        rc = fail(st, PSI_ERR_NOT_FOUND, "no such pending submission");
    if (!rc && sub.count > (uint64_t)INT64_MAX - position_base)
        rc = fail(st, PSI_ERR_TOO_LARGE,
                  "positions %" PRIu64 "+%" PRIu64 " exceed the store's range", position_base,
                  sub.count);
    if (!rc)
        rc = prepare(st,
                     "INSERT INTO positions(epoch, position, type, value, submission_id)"
                     " SELECT ?, ? + ord, type, value, ? FROM pending_items WHERE upload_id = ?",
                     &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, sub.epoch, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(stmt, 2, (sqlite3_int64)position_base);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)submission_id);
        sqlite3_bind_blob(stmt, 4, upload_id, PSI_STATE_UPLOAD_ID_BYTES, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "recording the submission's positions");
        else if ((uint64_t)sqlite3_changes64(st->db) != sub.count)
            rc = fail(st, PSI_ERR_STORE, "the pending submission lacks some of its indicators");
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (!rc)
        rc = clear_pending_order(st, upload_id);
    if (!rc)
        rc = prepare(st,
                     "UPDATE submissions SET status = 1, submission_id = ?, position_base = ?,"
                     " receipt = ?, finished_ms = ? WHERE upload_id = ?",
                     &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)submission_id);
        sqlite3_bind_int64(stmt, 2, (sqlite3_int64)position_base);
        if (receipt && receipt[0])
            sqlite3_bind_text(stmt, 3, receipt, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(stmt, 3);
        sqlite3_bind_int64(stmt, 4, now_ms());
        sqlite3_bind_blob(stmt, 5, upload_id, PSI_STATE_UPLOAD_ID_BYTES, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "marking the submission done");
    }
    sqlite3_finalize(stmt);
    return end_transaction(st, rc);
}

int psi_state_pending_refused(struct psi_state *st,
                              const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES],
                              const char *reason)
{
    sqlite3_stmt *stmt = NULL;
    int rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    rc = clear_pending_order(st, upload_id);
    if (!rc)
        rc = prepare(st,
                     "UPDATE submissions SET status = 2, reason = ?, finished_ms = ?"
                     " WHERE upload_id = ? AND status = 0",
                     &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, reason ? reason : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, now_ms());
        sqlite3_bind_blob(stmt, 3, upload_id, PSI_STATE_UPLOAD_ID_BYTES, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "marking the submission refused");
        else if (sqlite3_changes(st->db) != 1)
            rc = fail(st, PSI_ERR_NOT_FOUND, "no such pending submission");
    }
    sqlite3_finalize(stmt);
    return end_transaction(st, rc);
}

int psi_state_submitted_count(struct psi_state *st, const char *epoch, uint64_t *count)
{
    sqlite3_stmt *stmt = NULL;
    *count = 0;
    int rc = prepare(st, "SELECT count(*) FROM positions WHERE epoch = ?", &stmt);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, epoch, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *count = (uint64_t)sqlite3_column_int64(stmt, 0);
    else
        rc = fail_sql(st, "counting submitted indicators");
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_position_get(struct psi_state *st, const char *epoch, uint64_t position,
                           struct psi_state_indicator *out)
{
    sqlite3_stmt *stmt = NULL;
    memset(out, 0, sizeof *out);
    if (position > (uint64_t)INT64_MAX)
        return PSI_ERR_NOT_FOUND;
    int rc =
        prepare(st, "SELECT type, value FROM positions WHERE epoch = ? AND position = ?", &stmt);
    if (rc)
        return rc;
    sqlite3_bind_text(stmt, 1, epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)position);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->type = dup_column(stmt, 0);
        out->value = dup_column(stmt, 1);
        if (!out->type || !out->value) {
            psi_state_indicator_clear(out);
            rc = PSI_ERR_NOMEM;
        }
    } else if (step == SQLITE_DONE) {
        rc = PSI_ERR_NOT_FOUND;
    } else {
        rc = fail_sql(st, "reading a position");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_work_get(struct psi_state *st, uint64_t submission_id, struct psi_state_work *out)
{
    sqlite3_stmt *stmt = NULL;
    memset(out, 0, sizeof *out);
    if (submission_id > (uint64_t)INT64_MAX)
        return PSI_ERR_NOT_FOUND;
    int rc = prepare(st,
                     "SELECT owner, epoch, count, status, matched FROM agent_work"
                     " WHERE submission_id = ?",
                     &stmt);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)submission_id);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->submission_id = submission_id;
        if (copy_column(stmt, 0, out->owner, sizeof out->owner) ||
            copy_column(stmt, 1, out->epoch, sizeof out->epoch))
            rc = fail(st, PSI_ERR_STORE, "the agent's record of task %" PRIu64 " is damaged",
                      submission_id);
        out->count = (uint64_t)sqlite3_column_int64(stmt, 2);
        out->status = (enum psi_state_work_status)sqlite3_column_int(stmt, 3);
        out->matched = (uint64_t)sqlite3_column_int64(stmt, 4);
    } else if (step == SQLITE_DONE) {
        rc = PSI_ERR_NOT_FOUND;
    } else {
        rc = fail_sql(st, "reading the agent's work");
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int work_upsert(struct psi_state *st, const struct psi_state_work *task, int status,
                       const unsigned char *upload_id, const char *reason)
{
    sqlite3_stmt *stmt = NULL;
    int rc = check_u64(st, task->submission_id, "submission id");
    if (!rc)
        rc = check_u64(st, task->count, "submission size");
    if (!rc)
        rc = prepare(st,
                     "INSERT INTO agent_work(submission_id, owner, epoch, count, status,"
                     " upload_id, reason, updated_ms) VALUES (?,?,?,?,?,?,?,?)"
                     " ON CONFLICT(submission_id) DO UPDATE SET status = excluded.status,"
                     " upload_id = coalesce(excluded.upload_id, upload_id),"
                     " reason = excluded.reason, updated_ms = excluded.updated_ms",
                     &stmt);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)task->submission_id);
    sqlite3_bind_text(stmt, 2, task->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, task->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)task->count);
    sqlite3_bind_int(stmt, 5, status);
    if (upload_id)
        sqlite3_bind_blob(stmt, 6, upload_id, PSI_STATE_UPLOAD_ID_BYTES, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 6);
    if (reason)
        sqlite3_bind_text(stmt, 7, reason, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 7);
    sqlite3_bind_int64(stmt, 8, now_ms());
    if (sqlite3_step(stmt) != SQLITE_DONE)
        rc = fail_sql(st, "recording the agent's work");
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_work_begin(struct psi_state *st, const struct psi_state_work *task,
                         const unsigned char upload_id[PSI_STATE_UPLOAD_ID_BYTES])
{
    return work_upsert(st, task, PSI_STATE_WORK_PENDING, upload_id, NULL);
}

int psi_state_work_refused(struct psi_state *st, const struct psi_state_work *task,
                           const char *reason)
{
    return work_upsert(st, task, PSI_STATE_WORK_REFUSED, NULL, reason);
}

int psi_state_work_done(struct psi_state *st, uint64_t submission_id, uint64_t matched,
                        const char *receipt)
{
    sqlite3_stmt *stmt = NULL;
    int rc = check_u64(st, matched, "match count");
    if (!rc)
        rc = prepare(st,
                     "UPDATE agent_work SET status = 1, matched = ?, receipt = ?, reason = NULL,"
                     " updated_ms = ? WHERE submission_id = ?",
                     &stmt);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)matched);
    if (receipt && receipt[0])
        sqlite3_bind_text(stmt, 2, receipt, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 2);
    sqlite3_bind_int64(stmt, 3, now_ms());
    sqlite3_bind_int64(stmt, 4,
                       submission_id > (uint64_t)INT64_MAX ? -1 : (sqlite3_int64)submission_id);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        rc = fail_sql(st, "recording the agent's work");
    else if (sqlite3_changes(st->db) != 1)
        rc = fail(st, PSI_ERR_NOT_FOUND, "no record of task %" PRIu64, submission_id);
    sqlite3_finalize(stmt);
    return rc;
}

/* Each (indicator, peer) pair of epoch's results: first seen now unless
 * seen before, last seen now. */
static int seen_update(struct psi_state *st, const char *epoch)
{
    sqlite3_stmt *stmt = NULL;
    int rc =
        prepare(st,
                "INSERT INTO results_seen(epoch, type, value, peer, first_ms, last_ms)"
                " SELECT r.epoch, p.type, p.value, r.peer, ?2, ?2 FROM results r"
                " JOIN positions p ON p.epoch = r.epoch AND p.position = r.position"
                " WHERE r.epoch = ?1 AND true"
                " ON CONFLICT(epoch, type, value, peer) DO UPDATE SET last_ms = excluded.last_ms",
                &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, epoch, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, now_ms());
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "recording when results were seen");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_results_store(struct psi_state *st, const char *epoch, uint32_t threshold,
                            const struct psi_state_match *matches, size_t n)
{
    sqlite3_stmt *del = NULL, *ins = NULL, *meta = NULL;
    int rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    rc = prepare(st, "DELETE FROM results WHERE epoch = ?", &del);
    if (!rc) {
        sqlite3_bind_text(del, 1, epoch, -1, SQLITE_STATIC);
        if (sqlite3_step(del) != SQLITE_DONE)
            rc = fail_sql(st, "replacing results");
    }
    if (!rc)
        rc = prepare(st, "INSERT OR IGNORE INTO results(epoch, position, peer) VALUES (?,?,?)",
                     &ins);
    if (!rc)
        sqlite3_bind_text(ins, 1, epoch, -1, SQLITE_STATIC);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = check_u64(st, matches[i].position, "position");
        for (size_t j = 0; !rc && j < matches[i].n_peers; j++) {
            sqlite3_bind_int64(ins, 2, (sqlite3_int64)matches[i].position);
            sqlite3_bind_text(ins, 3, matches[i].peers[j], -1, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE)
                rc = fail_sql(st, "storing results");
            sqlite3_reset(ins);
        }
    }
    if (!rc)
        rc = seen_update(st, epoch);
    if (!rc)
        rc = prepare(st,
                     "INSERT INTO results_fetched(epoch, threshold, matches, fetched_ms)"
                     " VALUES (?,?,?,?) ON CONFLICT(epoch) DO UPDATE SET"
                     " threshold = excluded.threshold, matches = excluded.matches,"
                     " fetched_ms = excluded.fetched_ms",
                     &meta);
    if (!rc) {
        sqlite3_bind_text(meta, 1, epoch, -1, SQLITE_STATIC);
        sqlite3_bind_int64(meta, 2, threshold);
        sqlite3_bind_int64(meta, 3, (sqlite3_int64)n);
        sqlite3_bind_int64(meta, 4, now_ms());
        if (sqlite3_step(meta) != SQLITE_DONE)
            rc = fail_sql(st, "storing results");
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    sqlite3_finalize(meta);
    return end_transaction(st, rc);
}

static int peers_append(struct psi_state_result *r, sqlite3_stmt *stmt, int col)
{
    char **grown = realloc(r->peers, (r->n_peers + 1) * sizeof *grown);
    if (!grown)
        return PSI_ERR_NOMEM;
    r->peers = grown;
    int64_t *first = realloc(r->first_seen_ms, (r->n_peers + 1) * sizeof *first);
    if (!first)
        return PSI_ERR_NOMEM;
    r->first_seen_ms = first;
    int64_t *last = realloc(r->last_seen_ms, (r->n_peers + 1) * sizeof *last);
    if (!last)
        return PSI_ERR_NOMEM;
    r->last_seen_ms = last;
    r->peers[r->n_peers] = dup_column(stmt, col);
    if (!r->peers[r->n_peers])
        return PSI_ERR_NOMEM;
    r->first_seen_ms[r->n_peers] = sqlite3_column_int64(stmt, col + 1);
    r->last_seen_ms[r->n_peers] = sqlite3_column_int64(stmt, col + 2);
    r->n_peers++;
    return 0;
}

static char *dup_nonempty(sqlite3_stmt *stmt, int col)
{
    const unsigned char *t = sqlite3_column_text(stmt, col);
    if (!t || !t[0])
        return NULL;
    return strdup((const char *)t);
}

/* The recorded origins of each result's indicator. */
static int origins_fill(struct psi_state *st, struct psi_state_result_list *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st,
                     "SELECT file, line, path, event, object, to_ids FROM origins"
                     " WHERE type = ? AND value = ? ORDER BY rowid",
                     &stmt);
    for (size_t i = 0; !rc && i < out->count; i++) {
        struct psi_state_result *r = &out->items[i];
        sqlite3_bind_text(stmt, 1, r->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, r->value, -1, SQLITE_STATIC);
        int step;
        while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
            if (r->n_origins == PSI_STATE_ORIGINS_MAX)
                continue;
            struct psi_state_origin *o = &r->origins[r->n_origins++];
            memset(o, 0, sizeof *o);
            o->line = (uint64_t)sqlite3_column_int64(stmt, 1);
            o->to_ids = sqlite3_column_int(stmt, 5);
            o->file = dup_nonempty(stmt, 0);
            o->path = dup_nonempty(stmt, 2);
            o->event = dup_nonempty(stmt, 3);
            o->object = dup_nonempty(stmt, 4);
        }
        if (!rc && step != SQLITE_DONE)
            rc = fail_sql(st, "reading origins");
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int bind_or_empty(sqlite3_stmt *stmt, int col, const char *text)
{
    return sqlite3_bind_text(stmt, col, text ? text : "", -1, SQLITE_TRANSIENT);
}

int psi_state_origins_record(struct psi_state *st, const struct psi_state_origin_record *recs,
                             size_t n)
{
    sqlite3_stmt *stmt = NULL;
    int rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    rc = prepare(st,
                 "INSERT OR IGNORE INTO origins(type, value, file, line, path, event, object,"
                 " to_ids, recorded_ms) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
                 " WHERE (SELECT count(*) FROM origins WHERE type = ?1 AND value = ?2) < ?10",
                 &stmt);
    int64_t now = now_ms();
    for (size_t i = 0; !rc && i < n; i++) {
        const struct psi_state_origin *o = &recs[i].origin;
        int to_ids = o->to_ids < 0 ? -1 : o->to_ids > 0;
        sqlite3_bind_text(stmt, 1, recs[i].type, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, recs[i].value, -1, SQLITE_STATIC);
        bind_or_empty(stmt, 3, o->file);
        sqlite3_bind_int64(stmt, 4, o->line > (uint64_t)INT64_MAX ? 0 : (sqlite3_int64)o->line);
        bind_or_empty(stmt, 5, o->path);
        bind_or_empty(stmt, 6, o->event);
        bind_or_empty(stmt, 7, o->object);
        sqlite3_bind_int(stmt, 8, to_ids);
        sqlite3_bind_int64(stmt, 9, now);
        sqlite3_bind_int(stmt, 10, PSI_STATE_ORIGINS_MAX);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "recording origins");
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    return end_transaction(st, rc);
}

int psi_state_results_get(struct psi_state *st, const char *epoch,
                          struct psi_state_result_list *out)
{
    sqlite3_stmt *meta = NULL, *stmt = NULL;
    size_t cap = 0;
    memset(out, 0, sizeof *out);
    if (strlen(epoch) >= sizeof out->epoch)
        return PSI_ERR_TOO_LARGE;
    memcpy(out->epoch, epoch, strlen(epoch) + 1);
    int rc = exec(st, "BEGIN");
    if (!rc)
        rc = prepare(st, "SELECT threshold FROM results_fetched WHERE epoch = ?", &meta);
    if (!rc) {
        sqlite3_bind_text(meta, 1, epoch, -1, SQLITE_STATIC);
        int step = sqlite3_step(meta);
        if (step == SQLITE_ROW)
            out->threshold = (uint32_t)sqlite3_column_int64(meta, 0);
        else if (step == SQLITE_DONE)
            rc = PSI_ERR_NOT_FOUND;
        else
            rc = fail_sql(st, "reading results");
    }
    /* Sorted by indicator for a person; unmapped positions last. */
    if (!rc)
        rc = prepare(st,
                     "SELECT r.position, p.type, p.value, r.peer,"
                     " coalesce(s.first_ms, 0), coalesce(s.last_ms, 0) FROM results r"
                     " LEFT JOIN positions p ON p.epoch = r.epoch AND p.position = r.position"
                     " LEFT JOIN results_seen s ON s.epoch = r.epoch AND s.type = p.type"
                     " AND s.value = p.value AND s.peer = r.peer"
                     " WHERE r.epoch = ?"
                     " ORDER BY p.type IS NULL, p.type, p.value, r.position, r.peer",
                     &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, epoch, -1, SQLITE_STATIC);
        int step;
        struct psi_state_result *last = NULL;
        int have_unmapped = 0;
        uint64_t last_unmapped = 0;
        while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
            uint64_t position = (uint64_t)sqlite3_column_int64(stmt, 0);
            if (sqlite3_column_type(stmt, 1) == SQLITE_NULL) {
                /* Count each unmapped position once, not once per peer. */
                if (!have_unmapped || last_unmapped != position)
                    out->unmapped++;
                have_unmapped = 1;
                last_unmapped = position;
                continue;
            }
            if (!last || last->position != position) {
                if (out->count == cap) {
                    size_t ncap = cap ? cap * 2 : 64;
                    struct psi_state_result *grown = realloc(out->items, ncap * sizeof *grown);
                    if (!grown) {
                        rc = PSI_ERR_NOMEM;
                        break;
                    }
                    out->items = grown;
                    cap = ncap;
                }
                last = &out->items[out->count++];
                memset(last, 0, sizeof *last);
                last->position = position;
                last->type = dup_column(stmt, 1);
                last->value = dup_column(stmt, 2);
                if (!last->type || !last->value) {
                    rc = PSI_ERR_NOMEM;
                    break;
                }
            }
            rc = peers_append(last, stmt, 3);
        }
        if (!rc && step != SQLITE_DONE)
            rc = fail_sql(st, "reading results");
    }
    if (!rc) {
        sqlite3_int64 fetched = 0;
        sqlite3_stmt *f = NULL;
        rc = prepare(st, "SELECT fetched_ms FROM results_fetched WHERE epoch = ?", &f);
        if (!rc) {
            sqlite3_bind_text(f, 1, epoch, -1, SQLITE_STATIC);
            if (sqlite3_step(f) == SQLITE_ROW)
                fetched = sqlite3_column_int64(f, 0);
        }
        sqlite3_finalize(f);
        out->fetched_ms = fetched;
    }
    if (!rc)
        rc = origins_fill(st, out);
    sqlite3_finalize(meta);
    sqlite3_finalize(stmt);
    rc = end_transaction(st, rc);
    if (rc)
        psi_state_result_list_clear(out);
    return rc;
}

void psi_state_indicator_clear(struct psi_state_indicator *ind)
{
    free(ind->type);
    free(ind->value);
    ind->type = NULL;
    ind->value = NULL;
}

void psi_state_indicator_list_clear(struct psi_state_indicator_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        psi_state_indicator_clear(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

void psi_state_result_list_clear(struct psi_state_result_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        struct psi_state_result *r = &list->items[i];
        free(r->type);
        free(r->value);
        for (size_t j = 0; j < r->n_peers; j++)
            free(r->peers[j]);
        free(r->peers);
        free(r->first_seen_ms);
        free(r->last_seen_ms);
        for (size_t j = 0; j < r->n_origins; j++) {
            free(r->origins[j].file);
            free(r->origins[j].path);
            free(r->origins[j].event);
            free(r->origins[j].object);
        }
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
    list->unmapped = 0;
}

/* ---------------------------------------------------------------- audit log
 *
 * Checkpoints of the hub's log that this participant verified (cmd_audit.c;
 * table log_checkpoints, migration 2). */

void psi_state_checkpoint_clear(struct psi_state_checkpoint *cp)
{
    free(cp->note);
    free(cp->source);
    memset(cp, 0, sizeof *cp);
}

static int checkpoint_row(struct psi_state *st, sqlite3_stmt *stmt,
                          struct psi_state_checkpoint *out)
{
    sqlite3_int64 size = sqlite3_column_int64(stmt, 0);
    if (size < 0 || sqlite3_column_bytes(stmt, 1) != 32)
        return fail(st, PSI_ERR_STORE, "a recorded checkpoint is damaged");
    out->size = (uint64_t)size;
    memcpy(out->root, sqlite3_column_blob(stmt, 1), 32);
    out->note = dup_column(stmt, 2);
    out->source = dup_column(stmt, 3);
    out->seen_ms = sqlite3_column_int64(stmt, 4);
    if (!out->note || !out->source) {
        psi_state_checkpoint_clear(out);
        return PSI_ERR_NOMEM;
    }
    return 0;
}

int psi_state_checkpoint_latest(struct psi_state *st, struct psi_state_checkpoint *out)
{
    sqlite3_stmt *stmt = NULL;
    memset(out, 0, sizeof *out);
    int rc = prepare(st,
                     "SELECT size, root, note, source, seen_ms FROM log_checkpoints"
                     " ORDER BY size DESC LIMIT 1",
                     &stmt);
    if (!rc) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW)
            rc = checkpoint_row(st, stmt, out);
        else if (step == SQLITE_DONE)
            rc = PSI_ERR_NOT_FOUND;
        else
            rc = fail_sql(st, "reading the latest checkpoint");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_checkpoint_record(struct psi_state *st, uint64_t size, const unsigned char root[32],
                                const char *note, const char *source)
{
    sqlite3_stmt *stmt = NULL;
    int rc = check_u64(st, size, "checkpoint size");
    if (!rc)
        rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    /* Under the write lock: compare with what is recorded, then insert. */
    rc = prepare(st,
                 "SELECT (SELECT max(size) FROM log_checkpoints),"
                 " (SELECT root FROM log_checkpoints WHERE size = ?)",
                 &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)size);
        if (sqlite3_step(stmt) != SQLITE_ROW) {
            rc = fail_sql(st, "reading the recorded checkpoints");
        } else if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
            if (sqlite3_column_bytes(stmt, 1) != 32 ||
                memcmp(sqlite3_column_blob(stmt, 1), root, 32) != 0)
                rc = fail(st, PSI_ERR_VERIFY,
                          "a checkpoint of size %" PRIu64 " with another root is recorded", size);
            else
                rc = 1; /* recorded already */
        } else if (sqlite3_column_type(stmt, 0) != SQLITE_NULL &&
                   sqlite3_column_int64(stmt, 0) > (sqlite3_int64)size) {
            rc = fail(st, PSI_ERR_STATE,
                      "a checkpoint of size %" PRIu64 " is older than the latest recorded (%lld)",
                      size, (long long)sqlite3_column_int64(stmt, 0));
        }
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (!rc)
        rc = prepare(st,
                     "INSERT INTO log_checkpoints(size, root, note, source, seen_ms)"
                     " VALUES (?, ?, ?, ?, ?)",
                     &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)size);
        sqlite3_bind_blob(stmt, 2, root, 32, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, note, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, source, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, now_ms());
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "recording a checkpoint");
    }
    sqlite3_finalize(stmt);
    if (rc == 1)
        rc = 0;
    return end_transaction(st, rc);
}

int psi_state_receipts_each(struct psi_state *st, psi_state_receipt_fn fn, void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    int rc = exec(st, "BEGIN");
    if (rc)
        return rc;
    rc = prepare(st,
                 "SELECT 'submission', submission_id, receipt FROM submissions"
                 " WHERE status = 1 AND receipt IS NOT NULL"
                 " UNION ALL SELECT 'crossblind', submission_id, receipt FROM agent_work"
                 " WHERE status = 1 AND receipt IS NOT NULL ORDER BY 1 DESC, 2",
                 &stmt);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *what = (const char *)sqlite3_column_text(stmt, 0);
        sqlite3_int64 id = sqlite3_column_int64(stmt, 1);
        const char *receipt = (const char *)sqlite3_column_text(stmt, 2);
        if (!what || !receipt || id < 0)
            rc = fail(st, PSI_ERR_STORE, "a stored receipt is damaged");
        else
            rc = fn(ctx, what, (uint64_t)id, receipt);
    }
    if (!rc && step != SQLITE_DONE)
        rc = fail_sql(st, "reading receipts");
    sqlite3_finalize(stmt);
    /* A read transaction: ending it cannot lose anything. */
    exec(st, "COMMIT");
    return rc;
}

/* ---------------------------------------------------------------- the party's own rules
 *
 * The policy is one row; its share list is kept as ids joined by ',' (an id
 * never holds one, proto/envelope.h). Peers are pinned once and never
 * updated but for the reviewed mark. */

void psi_state_policy_clear(struct psi_state_policy *p)
{
    free(p->share_with);
    memset(p, 0, sizeof *p);
}

/* Splits a stored share list into p->share_with. */
static int policy_split(struct psi_state *st, const char *joined, struct psi_state_policy *p)
{
    size_t n = 0;
    if (*joined) {
        n = 1;
        for (const char *c = joined; *c; c++)
            n += *c == ',';
    }
    if (n > PSI_STATE_SHARE_MAX)
        return fail(st, PSI_ERR_STORE, "the stored policy lists too many ids");
    p->share_with = n ? calloc(n, sizeof *p->share_with) : NULL;
    if (n && !p->share_with)
        return PSI_ERR_NOMEM;
    const char *c = joined;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(c, ",");
        if (len == 0 || len > PSI_ID_MAX)
            return fail(st, PSI_ERR_STORE, "the stored policy is damaged");
        memcpy(p->share_with[i], c, len);
        p->share_with[i][len] = '\0';
        c += len + (c[len] == ',');
    }
    p->share_count = n;
    return 0;
}

int psi_state_policy_get(struct psi_state *st, struct psi_state_policy *out)
{
    sqlite3_stmt *stmt = NULL;
    memset(out, 0, sizeof *out);
    int rc = prepare(st,
                     "SELECT share_all, contribute_only, share_with, issued_ms, sent_ms"
                     " FROM party_policy",
                     &stmt);
    if (!rc) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) {
            out->share_all = sqlite3_column_int(stmt, 0);
            out->contribute_only = sqlite3_column_int(stmt, 1);
            const char *joined = (const char *)sqlite3_column_text(stmt, 2);
            out->issued_ms = sqlite3_column_int64(stmt, 3);
            out->sent_ms = sqlite3_column_int64(stmt, 4);
            rc = policy_split(st, joined ? joined : "", out);
            if (!rc && out->share_all && out->share_count)
                rc = fail(st, PSI_ERR_STORE, "the stored policy is damaged");
        } else if (step == SQLITE_DONE) {
            rc = PSI_ERR_NOT_FOUND;
        } else {
            rc = fail_sql(st, "reading the policy");
        }
    }
    sqlite3_finalize(stmt);
    if (rc)
        psi_state_policy_clear(out);
    return rc;
}

int psi_state_policy_set(struct psi_state *st, const struct psi_state_policy *p)
{
    if (p->share_count > PSI_STATE_SHARE_MAX || (p->share_all && p->share_count))
        return fail(st, PSI_ERR_INVALID, "a policy shares with all or with a list, not both");
    size_t cap = p->share_count * (PSI_ID_MAX + 1) + 1, len = 0;
    char *joined = malloc(cap);
    if (!joined)
        return PSI_ERR_NOMEM;
    joined[0] = '\0';
    for (size_t i = 0; i < p->share_count; i++) {
        size_t n = strlen(p->share_with[i]);
        if (n == 0 || n > PSI_ID_MAX || strchr(p->share_with[i], ',')) {
            free(joined);
            return fail(st, PSI_ERR_INVALID, "an id of the policy is invalid");
        }
        if (i)
            joined[len++] = ',';
        memcpy(joined + len, p->share_with[i], n + 1);
        len += n;
    }
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st,
                     "INSERT OR REPLACE INTO party_policy(singleton, share_all, contribute_only,"
                     " share_with, issued_ms, sent_ms) VALUES (1, ?, ?, ?, ?, 0)",
                     &stmt);
    if (!rc) {
        sqlite3_bind_int(stmt, 1, p->share_all ? 1 : 0);
        sqlite3_bind_int(stmt, 2, p->contribute_only ? 1 : 0);
        sqlite3_bind_text(stmt, 3, joined, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, p->issued_ms);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "recording the policy");
    }
    sqlite3_finalize(stmt);
    free(joined);
    return rc;
}

int psi_state_policy_sent(struct psi_state *st, int64_t issued_ms)
{
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st, "UPDATE party_policy SET sent_ms = ? WHERE issued_ms = ?", &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, now_ms());
        sqlite3_bind_int64(stmt, 2, issued_ms);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "recording that the hub has the policy");
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int peer_row(struct psi_state *st, sqlite3_stmt *stmt, struct psi_state_peer *out)
{
    const char *id = (const char *)sqlite3_column_text(stmt, 0);
    const char *role = (const char *)sqlite3_column_text(stmt, 1);
    memset(out, 0, sizeof *out);
    if (!id || !role || strlen(id) > PSI_ID_MAX || strlen(role) >= sizeof out->role ||
        sqlite3_column_bytes(stmt, 2) != 32 || sqlite3_column_int64(stmt, 3) < 0 ||
        sqlite3_column_int64(stmt, 4) < 0)
        return fail(st, PSI_ERR_STORE, "a pinned peer is damaged");
    snprintf(out->id, sizeof out->id, "%s", id);
    snprintf(out->role, sizeof out->role, "%s", role);
    memcpy(out->public_key, sqlite3_column_blob(stmt, 2), 32);
    out->admit_index = (uint64_t)sqlite3_column_int64(stmt, 3);
    out->proven_size = (uint64_t)sqlite3_column_int64(stmt, 4);
    out->pinned_ms = sqlite3_column_int64(stmt, 5);
    out->reviewed = sqlite3_column_int(stmt, 6);
    return 0;
}

#define PEER_COLUMNS "id, role, public_key, admit_index, proven_size, pinned_ms, reviewed"

int psi_state_peer_get(struct psi_state *st, const char *id, struct psi_state_peer *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st, "SELECT " PEER_COLUMNS " FROM peers WHERE id = ?", &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW)
            rc = peer_row(st, stmt, out);
        else if (step == SQLITE_DONE)
            rc = PSI_ERR_NOT_FOUND;
        else
            rc = fail_sql(st, "reading a pinned peer");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_peer_pin(struct psi_state *st, const struct psi_state_peer *peer)
{
    sqlite3_stmt *stmt = NULL;
    int rc = check_u64(st, peer->admit_index, "log index");
    if (!rc)
        rc = check_u64(st, peer->proven_size, "log size");
    if (!rc)
        rc = prepare(st,
                     "INSERT INTO peers(id, role, public_key, admit_index, proven_size, pinned_ms)"
                     " VALUES (?, ?, ?, ?, ?, ?)",
                     &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, peer->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, peer->role, -1, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 3, peer->public_key, 32, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, (sqlite3_int64)peer->admit_index);
        sqlite3_bind_int64(stmt, 5, (sqlite3_int64)peer->proven_size);
        sqlite3_bind_int64(stmt, 6, now_ms());
        int step = sqlite3_step(stmt);
        if ((step & 0xff) == SQLITE_CONSTRAINT)
            rc = fail(st, PSI_ERR_EXISTS, "%s is pinned already", peer->id);
        else if (step != SQLITE_DONE)
            rc = fail_sql(st, "pinning a peer");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_peers_each(struct psi_state *st, psi_state_peer_fn fn, void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st, "SELECT " PEER_COLUMNS " FROM peers ORDER BY id", &stmt);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct psi_state_peer peer;
        rc = peer_row(st, stmt, &peer);
        if (!rc)
            rc = fn(ctx, &peer);
    }
    if (!rc && step != SQLITE_DONE)
        rc = fail_sql(st, "reading the pinned peers");
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_peers_reviewed(struct psi_state *st)
{
    return exec(st, "UPDATE peers SET reviewed = 1 WHERE reviewed = 0");
}

int psi_state_work_elements(struct psi_state *st, const char *owner, const char *epoch,
                            uint64_t except, uint64_t *elements)
{
    sqlite3_stmt *stmt = NULL;
    *elements = 0;
    int rc = check_u64(st, except, "submission id");
    if (!rc)
        rc = prepare(st,
                     "SELECT coalesce(sum(count), 0) FROM agent_work WHERE owner = ? AND epoch = ?"
                     " AND status IN (0, 1) AND submission_id <> ?",
                     &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, epoch, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)except);
        if (sqlite3_step(stmt) != SQLITE_ROW || sqlite3_column_int64(stmt, 0) < 0)
            rc = fail_sql(st, "counting the work done for a peer");
        else
            *elements = (uint64_t)sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* ---------------------------------------------------------------- epochs
 *
 * The epochs this participant used or accepted (table epochs, migration 4). */

#define EPOCH_COLUMNS "label, kind, start_ms, accepted, seq, used_ms"

static int epoch_row(struct psi_state *st, sqlite3_stmt *stmt, struct psi_state_epoch *out)
{
    const unsigned char *label = sqlite3_column_text(stmt, 0);
    int n = sqlite3_column_bytes(stmt, 0);
    int kind = sqlite3_column_int(stmt, 1);
    if (!label || n < 1 || (size_t)n > PSI_STATE_EPOCH_MAX || kind < 0 || kind > 2)
        return fail(st, PSI_ERR_STORE, "a recorded epoch is damaged");
    memset(out, 0, sizeof *out);
    memcpy(out->label, label, (size_t)n);
    out->kind = (enum psi_state_epoch_kind)kind;
    out->start_ms = sqlite3_column_int64(stmt, 2);
    out->accepted = sqlite3_column_int(stmt, 3);
    out->seq = sqlite3_column_int64(stmt, 4);
    out->used_ms = sqlite3_column_int64(stmt, 5);
    return 0;
}

/* One row of a query with label (may be NULL) bound to ?1. */
static int epoch_query_one(struct psi_state *st, const char *sql, const char *label,
                           struct psi_state_epoch *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st, sql, &stmt);
    if (!rc && label && sqlite3_bind_text(stmt, 1, label, -1, SQLITE_STATIC) != SQLITE_OK)
        rc = fail_sql(st, "reading an epoch");
    if (!rc) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW)
            rc = epoch_row(st, stmt, out);
        else if (step == SQLITE_DONE)
            rc = PSI_ERR_NOT_FOUND;
        else
            rc = fail_sql(st, "reading an epoch");
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int epoch_label_ok(struct psi_state *st, const char *label)
{
    if (!psi_epoch_label_is_valid(label))
        return fail(st, PSI_ERR_INVALID, "an epoch label must be 1 to %u of [A-Za-z0-9._:-]",
                    PSI_EPOCH_LABEL_MAX);
    return 0;
}

int psi_state_epoch_get(struct psi_state *st, const char *label, struct psi_state_epoch *out)
{
    int rc = epoch_label_ok(st, label);
    return rc ? rc
              : epoch_query_one(st, "SELECT " EPOCH_COLUMNS " FROM epochs WHERE label = ?1", label,
                                out);
}

int psi_state_epoch_newest(struct psi_state *st, struct psi_state_epoch *out)
{
    return epoch_query_one(
        st, "SELECT " EPOCH_COLUMNS " FROM epochs WHERE seq > 0 ORDER BY seq DESC LIMIT 1", NULL,
        out);
}

int psi_state_epoch_latest_clock(struct psi_state *st, struct psi_state_epoch *out)
{
    return epoch_query_one(st,
                           "SELECT " EPOCH_COLUMNS " FROM epochs WHERE seq > 0 AND kind IN (0, 1)"
                           " ORDER BY start_ms DESC LIMIT 1",
                           NULL, out);
}

int psi_state_epoch_accept(struct psi_state *st, const char *label)
{
    sqlite3_stmt *stmt = NULL;
    int rc = epoch_label_ok(st, label);
    if (!rc)
        rc = prepare(st,
                     "INSERT INTO epochs(" EPOCH_COLUMNS ") VALUES (?1, 2, 0, 1, 0, 0)"
                     " ON CONFLICT(label) DO UPDATE SET accepted = 1",
                     &stmt);
    if (!rc && (sqlite3_bind_text(stmt, 1, label, -1, SQLITE_STATIC) != SQLITE_OK ||
                sqlite3_step(stmt) != SQLITE_DONE))
        rc = fail_sql(st, "recording an accepted epoch");
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_epoch_use(struct psi_state *st, const char *label, enum psi_state_epoch_kind kind,
                        int64_t start_ms)
{
    sqlite3_stmt *stmt = NULL;
    int rc = epoch_label_ok(st, label);
    /* Checked and recorded in one write transaction: two commands of one
     * state cannot both take a step back. */
    if (!rc)
        rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    struct psi_state_epoch newest, mine;
    int have_newest = psi_state_epoch_newest(st, &newest);
    int have_mine = psi_state_epoch_get(st, label, &mine);
    if ((have_newest && have_newest != PSI_ERR_NOT_FOUND) ||
        (have_mine && have_mine != PSI_ERR_NOT_FOUND)) {
        exec(st, "ROLLBACK");
        return PSI_ERR_STORE;
    }
    if (have_mine == 0 && mine.seq > 0) {
        /* Used before: only the newest may be used again. */
        if (have_newest == 0 && strcmp(newest.label, label) != 0) {
            exec(st, "ROLLBACK");
            return fail(st, PSI_ERR_EPOCH,
                        "epoch %s was used before and %s since; never going back", label,
                        newest.label);
        }
        return exec(st, "COMMIT");
    }
    int64_t seq = have_newest == 0 ? newest.seq + 1 : 1;
    rc = prepare(st,
                 "INSERT INTO epochs(" EPOCH_COLUMNS ") VALUES (?1, ?2, ?3, 0, ?4, ?5)"
                 " ON CONFLICT(label) DO UPDATE SET kind = ?2, start_ms = ?3, seq = ?4,"
                 " used_ms = ?5",
                 &stmt);
    if (!rc &&
        (sqlite3_bind_text(stmt, 1, label, -1, SQLITE_STATIC) != SQLITE_OK ||
         sqlite3_bind_int(stmt, 2, (int)kind) != SQLITE_OK ||
         sqlite3_bind_int64(stmt, 3, start_ms) != SQLITE_OK ||
         sqlite3_bind_int64(stmt, 4, seq) != SQLITE_OK ||
         sqlite3_bind_int64(stmt, 5, now_ms()) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE))
        rc = fail_sql(st, "recording an epoch used");
    sqlite3_finalize(stmt);
    if (rc) {
        exec(st, "ROLLBACK");
        return rc;
    }
    return exec(st, "COMMIT");
}

int psi_state_epoch_each(struct psi_state *st, psi_state_epoch_fn fn, void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    int rc =
        prepare(st, "SELECT " EPOCH_COLUMNS " FROM epochs ORDER BY seq = 0, seq, label", &stmt);
    while (!rc) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = fail_sql(st, "reading the epochs");
            break;
        }
        struct psi_state_epoch e;
        rc = epoch_row(st, stmt, &e);
        if (!rc)
            rc = fn(ctx, &e);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* ---------------------------------------------------------------- feed queries
 *
 * What `psi feed query` got, and the batch it has in flight (migration 5). */

void psi_state_feed_batch_clear(struct psi_state_feed_batch *b)
{
    if (!b)
        return;
    if (b->blinds)
        sodium_free(b->blinds); /* wiped */
    free(b->blinded);
    if (b->items) {
        for (size_t i = 0; i < b->count; i++)
            psi_state_indicator_clear(&b->items[i]);
        free(b->items);
    }
    sodium_memzero(b, sizeof *b);
}

int psi_state_feed_pending_record(struct psi_state *st, const char *vendor, const char *epoch,
                                  const struct psi_state_feed_batch *b)
{
    sqlite3_stmt *batch = NULL, *item = NULL;
    if (b->count == 0 || b->count > INT32_MAX / 32)
        return fail(st, PSI_ERR_INVALID, "a feed batch of %zu queries", b->count);
    int rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    rc = prepare(st,
                 "INSERT INTO feed_pending(vendor, epoch, vendor_key, request_id, query_id,"
                 " signature, count, blinds, blinded, created_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 &batch);
    if (!rc) {
        sqlite3_bind_text(batch, 1, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(batch, 2, epoch, -1, SQLITE_STATIC);
        sqlite3_bind_blob(batch, 3, b->vendor_key, 32, SQLITE_STATIC);
        sqlite3_bind_blob(batch, 4, b->request_id, 16, SQLITE_STATIC);
        sqlite3_bind_int64(batch, 5, (sqlite3_int64)b->query_id);
        sqlite3_bind_blob(batch, 6, b->signature, 64, SQLITE_STATIC);
        sqlite3_bind_int64(batch, 7, (sqlite3_int64)b->count);
        sqlite3_bind_blob(batch, 8, b->blinds, (int)(b->count * 32), SQLITE_STATIC);
        sqlite3_bind_blob(batch, 9, b->blinded, (int)(b->count * 32), SQLITE_STATIC);
        sqlite3_bind_int64(batch, 10, now_ms());
        int step = sqlite3_step(batch);
        if ((step & 0xff) == SQLITE_CONSTRAINT)
            rc = fail(st, PSI_ERR_EXISTS, "a feed batch to %s is already in flight in epoch %s",
                      vendor, epoch);
        else if (step != SQLITE_DONE)
            rc = fail_sql(st, "recording the feed batch");
    }
    if (!rc)
        rc = prepare(st,
                     "INSERT INTO feed_pending_items(vendor, epoch, ord, type, value)"
                     " VALUES (?,?,?,?,?)",
                     &item);
    if (!rc) {
        sqlite3_bind_text(item, 1, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(item, 2, epoch, -1, SQLITE_STATIC);
    }
    for (size_t i = 0; !rc && i < b->count; i++) {
        sqlite3_bind_int64(item, 3, (sqlite3_int64)i);
        sqlite3_bind_text(item, 4, b->items[i].type, -1, SQLITE_STATIC);
        sqlite3_bind_text(item, 5, b->items[i].value, -1, SQLITE_STATIC);
        if (sqlite3_step(item) != SQLITE_DONE)
            rc = fail_sql(st, "recording the feed batch's indicators");
        sqlite3_reset(item);
    }
    sqlite3_finalize(batch);
    sqlite3_finalize(item);
    return end_transaction(st, rc);
}

int psi_state_feed_pending_get(struct psi_state *st, const char *vendor, const char *epoch,
                               struct psi_state_feed_batch *out)
{
    sqlite3_stmt *batch = NULL, *items = NULL;
    memset(out, 0, sizeof *out);
    int rc = exec(st, "BEGIN");
    if (!rc)
        rc = prepare(st,
                     "SELECT vendor_key, request_id, query_id, signature, count, blinds, blinded"
                     " FROM feed_pending WHERE vendor = ? AND epoch = ?",
                     &batch);
    if (!rc) {
        sqlite3_bind_text(batch, 1, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(batch, 2, epoch, -1, SQLITE_STATIC);
        int step = sqlite3_step(batch);
        if (step == SQLITE_DONE)
            rc = fail(st, PSI_ERR_NOT_FOUND, "no feed batch in flight");
        else if (step != SQLITE_ROW)
            rc = fail_sql(st, "reading the feed batch in flight");
    }
    if (!rc) {
        sqlite3_int64 n = sqlite3_column_int64(batch, 4);
        if (n <= 0 || n > INT32_MAX / 32 || sqlite3_column_bytes(batch, 0) != 32 ||
            sqlite3_column_bytes(batch, 1) != 16 || sqlite3_column_bytes(batch, 3) != 64 ||
            sqlite3_column_bytes(batch, 5) != n * 32 || sqlite3_column_bytes(batch, 6) != n * 32 ||
            sqlite3_column_int64(batch, 2) < 0)
            rc = fail(st, PSI_ERR_STORE, "the feed batch in flight is damaged");
        else {
            out->count = (size_t)n;
            memcpy(out->vendor_key, sqlite3_column_blob(batch, 0), 32);
            memcpy(out->request_id, sqlite3_column_blob(batch, 1), 16);
            out->query_id = (uint64_t)sqlite3_column_int64(batch, 2);
            memcpy(out->signature, sqlite3_column_blob(batch, 3), 64);
            out->blinds = sodium_malloc(out->count * 32);
            out->blinded = malloc(out->count * 32);
            out->items = calloc(out->count, sizeof *out->items);
            if (!out->blinds || !out->blinded || !out->items)
                rc = PSI_ERR_NOMEM;
            else {
                memcpy(out->blinds, sqlite3_column_blob(batch, 5), out->count * 32);
                memcpy(out->blinded, sqlite3_column_blob(batch, 6), out->count * 32);
            }
        }
    }
    if (!rc)
        rc = prepare(st,
                     "SELECT ord, type, value FROM feed_pending_items WHERE vendor = ? AND"
                     " epoch = ? ORDER BY ord",
                     &items);
    if (!rc) {
        sqlite3_bind_text(items, 1, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(items, 2, epoch, -1, SQLITE_STATIC);
        size_t got = 0;
        int step;
        while (!rc && (step = sqlite3_step(items)) == SQLITE_ROW) {
            if (got >= out->count || sqlite3_column_int64(items, 0) != (sqlite3_int64)got) {
                rc = fail(st, PSI_ERR_STORE, "the feed batch's indicators are damaged");
                break;
            }
            out->items[got].type = dup_column(items, 1);
            out->items[got].value = dup_column(items, 2);
            if (!out->items[got].type || !out->items[got].value)
                rc = PSI_ERR_NOMEM;
            got++;
        }
        if (!rc && step != SQLITE_DONE)
            rc = fail_sql(st, "reading the feed batch's indicators");
        if (!rc && got != out->count)
            rc = fail(st, PSI_ERR_STORE, "the feed batch lacks %zu of its indicators",
                      out->count - got);
    }
    sqlite3_finalize(batch);
    sqlite3_finalize(items);
    rc = end_transaction(st, rc);
    if (rc)
        psi_state_feed_batch_clear(out);
    return rc;
}

int psi_state_feed_pending_other_epoch(struct psi_state *st, const char *vendor, const char *epoch,
                                       char *other)
{
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st, "SELECT epoch FROM feed_pending WHERE vendor = ? AND epoch <> ? LIMIT 1",
                     &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, epoch, -1, SQLITE_STATIC);
        int step = sqlite3_step(stmt);
        if (step == SQLITE_DONE)
            rc = fail(st, PSI_ERR_NOT_FOUND, "no feed batch of another epoch");
        else if (step != SQLITE_ROW || copy_column(stmt, 0, other, PSI_STATE_EPOCH_MAX + 1))
            rc = fail_sql(st, "looking for feed batches of other epochs");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_feed_pending_ticket(struct psi_state *st, const char *vendor, const char *epoch,
                                  uint64_t query_id)
{
    sqlite3_stmt *stmt = NULL;
    int rc = check_u64(st, query_id, "query id");
    if (!rc)
        rc = prepare(st, "UPDATE feed_pending SET query_id = ? WHERE vendor = ? AND epoch = ?",
                     &stmt);
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)query_id);
        sqlite3_bind_text(stmt, 2, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, epoch, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = fail_sql(st, "recording the feed batch's ticket");
        else if (sqlite3_changes(st->db) != 1)
            rc = fail(st, PSI_ERR_NOT_FOUND, "no feed batch in flight");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int psi_state_feed_pending_done(struct psi_state *st, const char *vendor, const char *epoch,
                                const unsigned char *outputs)
{
    sqlite3_stmt *keep = NULL, *del = NULL, *del_items = NULL;
    int rc = exec(st, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    if (outputs)
        rc = prepare(st,
                     "INSERT OR REPLACE INTO feed_answers(vendor, epoch, vendor_key, type, value,"
                     " output, query_id) SELECT p.vendor, p.epoch, p.vendor_key, i.type, i.value,"
                     " ?, p.query_id FROM feed_pending p JOIN feed_pending_items i"
                     " ON i.vendor = p.vendor AND i.epoch = p.epoch"
                     " WHERE p.vendor = ? AND p.epoch = ? AND i.ord = ?",
                     &keep);
    if (!rc)
        rc = prepare(st, "SELECT count FROM feed_pending WHERE vendor = ? AND epoch = ?", &del);
    sqlite3_int64 n = 0;
    if (!rc) {
        sqlite3_bind_text(del, 1, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(del, 2, epoch, -1, SQLITE_STATIC);
        int step = sqlite3_step(del);
        if (step == SQLITE_ROW)
            n = sqlite3_column_int64(del, 0);
        else if (step == SQLITE_DONE)
            rc = fail(st, PSI_ERR_NOT_FOUND, "no feed batch in flight");
        else
            rc = fail_sql(st, "reading the feed batch in flight");
    }
    if (!rc && keep) {
        sqlite3_bind_text(keep, 2, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(keep, 3, epoch, -1, SQLITE_STATIC);
        for (sqlite3_int64 i = 0; !rc && i < n; i++) {
            sqlite3_bind_blob(keep, 1, outputs + (size_t)i * PSI_STATE_FEED_OUTPUT_BYTES,
                              PSI_STATE_FEED_OUTPUT_BYTES, SQLITE_STATIC);
            sqlite3_bind_int64(keep, 4, i);
            if (sqlite3_step(keep) != SQLITE_DONE || sqlite3_changes(st->db) != 1)
                rc = fail_sql(st, "keeping the feed answers");
            sqlite3_reset(keep);
        }
    }
    if (!rc)
        rc = prepare(st, "DELETE FROM feed_pending_items WHERE vendor = ? AND epoch = ?",
                     &del_items);
    if (!rc) {
        sqlite3_bind_text(del_items, 1, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(del_items, 2, epoch, -1, SQLITE_STATIC);
        if (sqlite3_step(del_items) != SQLITE_DONE)
            rc = fail_sql(st, "deleting the feed batch");
    }
    sqlite3_finalize(keep);
    sqlite3_finalize(del);
    sqlite3_finalize(del_items);
    if (!rc) {
        sqlite3_stmt *gone = NULL;
        rc = prepare(st, "DELETE FROM feed_pending WHERE vendor = ? AND epoch = ?", &gone);
        if (!rc) {
            sqlite3_bind_text(gone, 1, vendor, -1, SQLITE_STATIC);
            sqlite3_bind_text(gone, 2, epoch, -1, SQLITE_STATIC);
            if (sqlite3_step(gone) != SQLITE_DONE)
                rc = fail_sql(st, "deleting the feed batch");
        }
        sqlite3_finalize(gone);
    }
    return end_transaction(st, rc);
}

int psi_state_feed_answer_get(struct psi_state *st, const char *vendor, const char *epoch,
                              const unsigned char vendor_key[32], const char *type,
                              const char *value, unsigned char output[PSI_STATE_FEED_OUTPUT_BYTES])
{
    sqlite3_stmt *stmt = NULL;
    int rc = prepare(st,
                     "SELECT output FROM feed_answers WHERE vendor = ? AND epoch = ? AND"
                     " type = ? AND value = ? AND vendor_key = ?",
                     &stmt);
    if (!rc) {
        sqlite3_bind_text(stmt, 1, vendor, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, epoch, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, value, -1, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 5, vendor_key, 32, SQLITE_STATIC);
        int step = sqlite3_step(stmt);
        if (step == SQLITE_DONE)
            rc = PSI_ERR_NOT_FOUND;
        else if (step != SQLITE_ROW)
            rc = fail_sql(st, "reading a feed answer");
        else if (sqlite3_column_bytes(stmt, 0) != PSI_STATE_FEED_OUTPUT_BYTES)
            rc = fail(st, PSI_ERR_STORE, "a kept feed answer is damaged");
        else
            memcpy(output, sqlite3_column_blob(stmt, 0), PSI_STATE_FEED_OUTPUT_BYTES);
    }
    sqlite3_finalize(stmt);
    return rc;
}
