/*
 * The embedded store backend: one SQLite file in WAL mode with
 * synchronous=FULL, so a committed transaction is on disk before the hub
 * answers. Each connection caches its prepared statements. Writers take the
 * write lock up front (BEGIN IMMEDIATE) so a transaction never fails half way
 * on an upgrade; readers use WAL snapshots and run beside them.
 *
 * The schema's history is one numbered list of migrations (MIGRATIONS, on
 * PRAGMA user_version, applied by sqlite/psi_migrate.h): create runs all of
 * it on an empty file, open runs what an older store lacks. Every statement
 * runs one way: from the table of statements (STMT_SQL), prepared once per
 * connection and cached.
 *
 * This is the only file of the hub that knows SQL.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "psi/error.h"
#include "psi_migrate.h"
#include "store.h"
#include "store_sqlite.h"

#define BUSY_TIMEOUT_MS 30000
/* Elements are kept in blocks so that a fetch reads one or two rows. */
#define BLOCK_ELEMENTS 16384u
/* ---------------------------------------------------------------- the schema
 *
 * Step k of MIGRATIONS makes a store of version k - 1 one of version k. A
 * store made before the versions were numbered (user_version 0, a
 * 'schema_version' of 1 or 2 in meta) is placed at that version by
 * legacy_version; the steps after 2 then tolerate what such a store may
 * already hold (the tables it got on open, the query signature column), as
 * the code before them added those piecemeal. */

/* 1: the first store. */
static const char SCHEMA_V1[] =
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE participant ("
    "  id TEXT PRIMARY KEY,"
    "  role TEXT NOT NULL CHECK (role IN ('agency', 'vendor', 'auditor')),"
    "  public_key BLOB NOT NULL CHECK (length(public_key) = 32),"
    "  share_all INTEGER NOT NULL CHECK (share_all IN (0, 1)),"
    "  contribute_only INTEGER NOT NULL CHECK (contribute_only IN (0, 1)),"
    "  removed INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1)),"
    "  admitted_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE share ("
    "  owner TEXT NOT NULL REFERENCES participant(id),"
    "  peer TEXT NOT NULL,"
    "  PRIMARY KEY (owner, peer)) WITHOUT ROWID;"
    "CREATE TABLE nonce ("
    "  sender TEXT NOT NULL, nonce BLOB NOT NULL, timestamp_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (sender, nonce)) WITHOUT ROWID;"
    "CREATE INDEX nonce_age ON nonce(timestamp_ms);"
    "CREATE TABLE reply ("
    "  sender TEXT NOT NULL, request_id BLOB NOT NULL, method TEXT NOT NULL,"
    "  body BLOB NOT NULL, created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (sender, request_id));"
    "CREATE INDEX reply_age ON reply(created_ms);"
    "CREATE TABLE upload ("
    "  sender TEXT NOT NULL, upload_id BLOB NOT NULL, received INTEGER NOT NULL,"
    "  touched_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (sender, upload_id)) WITHOUT ROWID;"
    "CREATE TABLE upload_chunk ("
    "  sender TEXT NOT NULL, upload_id BLOB NOT NULL, start INTEGER NOT NULL,"
    "  bytes BLOB NOT NULL,"
    "  UNIQUE (sender, upload_id, start));"
    "CREATE TABLE submission ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  owner TEXT NOT NULL REFERENCES participant(id),"
    "  epoch TEXT NOT NULL, count INTEGER NOT NULL, position_base INTEGER NOT NULL,"
    "  digest BLOB NOT NULL, signature BLOB NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE INDEX submission_epoch ON submission(epoch, owner);"
    "CREATE TABLE element_block ("
    "  submission_id INTEGER NOT NULL REFERENCES submission(id),"
    "  block INTEGER NOT NULL, elements BLOB NOT NULL,"
    "  UNIQUE (submission_id, block));"
    "CREATE TABLE crossblind ("
    "  submission_id INTEGER NOT NULL REFERENCES submission(id),"
    "  blinder TEXT NOT NULL REFERENCES participant(id),"
    "  count INTEGER NOT NULL, tag_digest BLOB NOT NULL, signature BLOB NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (submission_id, blinder)) WITHOUT ROWID;"
    /* tag: the tag of owner's position under blinder's key. */
    "CREATE TABLE tag ("
    "  epoch TEXT NOT NULL, owner TEXT NOT NULL, blinder TEXT NOT NULL,"
    "  position INTEGER NOT NULL, tag BLOB NOT NULL,"
    "  PRIMARY KEY (epoch, owner, blinder, position)) WITHOUT ROWID;"
    "CREATE INDEX tag_join ON tag(epoch, owner, blinder, tag);"
    /* overlap: owner's position is also held by peer. */
    "CREATE TABLE overlap ("
    "  epoch TEXT NOT NULL, owner TEXT NOT NULL, position INTEGER NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  PRIMARY KEY (epoch, owner, position, peer)) WITHOUT ROWID;";

/* 2: admissions pinned to their log entry (admit_index; NULL for a
 * participant admitted before, whom the roster then lists without an entry),
 * parties' own policies (party_policy, party_share: a party's signed
 * statement, policy.set, which narrows the operator's policy), element
 * quotas. */
static const char SCHEMA_V2[] =
    "ALTER TABLE participant ADD COLUMN admit_index INTEGER;"
    "CREATE TABLE party_policy ("
    "  id TEXT PRIMARY KEY REFERENCES participant(id),"
    "  issued_ms INTEGER NOT NULL,"
    "  share_all INTEGER NOT NULL CHECK (share_all IN (0, 1)),"
    "  contribute_only INTEGER NOT NULL CHECK (contribute_only IN (0, 1)),"
    "  signature BLOB NOT NULL CHECK (length(signature) = 64),"
    "  log_index INTEGER NOT NULL, created_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE party_share ("
    "  owner TEXT NOT NULL REFERENCES participant(id),"
    "  peer TEXT NOT NULL,"
    "  PRIMARY KEY (owner, peer)) WITHOUT ROWID;"
    "CREATE TABLE element_quota ("
    "  participant TEXT PRIMARY KEY REFERENCES participant(id),"
    "  max_elements INTEGER NOT NULL CHECK (max_elements >= 0)) WITHOUT ROWID;";

/* 3: the audit log (server/log.h): entries, leaf and subtree hashes, and the
 * head (frontier and latest checkpoint). Entries and hashes are written
 * once; the triggers make the store itself refuse to rewrite them. */
static const char SCHEMA_V3[] =
    "CREATE TABLE IF NOT EXISTS log_entry ("
    "  idx INTEGER PRIMARY KEY CHECK (idx >= 0), entry BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS log_hash ("
    "  level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63), idx INTEGER NOT NULL,"
    "  hash BLOB NOT NULL CHECK (length(hash) = 32),"
    "  PRIMARY KEY (level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS log_head ("
    "  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
    "  size INTEGER NOT NULL, frontier BLOB NOT NULL, checkpoint TEXT NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS log_entry_kept BEFORE UPDATE ON log_entry"
    "  BEGIN SELECT RAISE(ABORT, 'log entries are never rewritten'); END;"
    "CREATE TRIGGER IF NOT EXISTS log_entry_not_deleted BEFORE DELETE ON log_entry"
    "  BEGIN SELECT RAISE(ABORT, 'log entries are never deleted'); END;"
    "CREATE TRIGGER IF NOT EXISTS log_hash_kept BEFORE UPDATE ON log_hash"
    "  BEGIN SELECT RAISE(ABORT, 'log hashes are never rewritten'); END;"
    "CREATE TRIGGER IF NOT EXISTS log_hash_not_deleted BEFORE DELETE ON log_hash"
    "  BEGIN SELECT RAISE(ABORT, 'log hashes are never deleted'); END;";

/* 4: vendor feeds (docs/feeds.md): announced keys, published filters (their
 * bytes in blocks), the operator's query quotas and the query batches with
 * their answers. */
static const char SCHEMA_V4[] =
    "CREATE TABLE IF NOT EXISTS feed_key ("
    "  vendor TEXT NOT NULL, epoch TEXT NOT NULL,"
    "  public_key BLOB NOT NULL CHECK (length(public_key) = 32),"
    "  signature BLOB NOT NULL CHECK (length(signature) = 64),"
    "  log_index INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (vendor, epoch)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS feed ("
    "  vendor TEXT NOT NULL, epoch TEXT NOT NULL, count INTEGER NOT NULL,"
    "  rate REAL NOT NULL, size INTEGER NOT NULL,"
    "  digest BLOB NOT NULL CHECK (length(digest) = 32),"
    "  signature BLOB NOT NULL CHECK (length(signature) = 64),"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (vendor, epoch)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS feed_block ("
    "  vendor TEXT NOT NULL, epoch TEXT NOT NULL, block INTEGER NOT NULL,"
    "  bytes BLOB NOT NULL, UNIQUE (vendor, epoch, block));"
    "CREATE TABLE IF NOT EXISTS quota ("
    "  agency TEXT NOT NULL, vendor TEXT NOT NULL,"
    "  max_queries INTEGER NOT NULL CHECK (max_queries >= 0),"
    "  PRIMARY KEY (agency, vendor)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS query ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  agency TEXT NOT NULL, vendor TEXT NOT NULL, epoch TEXT NOT NULL,"
    "  count INTEGER NOT NULL CHECK (count > 0), elements BLOB NOT NULL,"
    "  log_index INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
    "  evaluated BLOB, proof BLOB, answered_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS query_pending ON query(vendor, answered_ms, id);"
    "CREATE INDEX IF NOT EXISTS query_usage ON query(agency, vendor, epoch);";

/* 5: the agency's signature of a query batch, relayed to the vendor's
 * agent. Old rows keep NULL, which no agent evaluates. A legacy store may
 * have the column already. */
static int add_query_signature(sqlite3 *db, char *err, size_t errlen)
{
    int have = psi_sqlite_has_column(db, "query", "signature");
    if (have < 0) {
        snprintf(err, errlen, "cannot look at the query table: %s", sqlite3_errmsg(db));
        return PSI_ERR_STORE;
    }
    char *msg = NULL;
    if (!have && sqlite3_exec(db,
                              "ALTER TABLE query ADD COLUMN signature BLOB"
                              " CHECK (signature IS NULL OR length(signature) = 64)",
                              NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return PSI_ERR_STORE;
    }
    return 0;
}

/* 6: the audit log's budget of refusal entries, per claimed participant
 * (refusal_budget_take). */
static const char SCHEMA_V6[] = "CREATE TABLE IF NOT EXISTS refusal_budget ("
                                "  participant TEXT PRIMARY KEY, window_start_ms INTEGER NOT NULL,"
                                "  used INTEGER NOT NULL CHECK (used >= 0)) WITHOUT ROWID;";

/* 7: tags stored for size (docs/performance.md, "Tags at rest"). A tag row
 * names its (epoch, owner, blinder) by a small integer, tag_pair.id, instead
 * of three strings, and the one key (pair, tag, position) serves both the
 * join (equal tags of a pair) and uniqueness: no second index. The batch's
 * tags are inserted in key order, so a new pair's rows fill whole pages at
 * the end of the tree. Existing tags are carried over, in key order. */
static const char TAGS_BY_PAIR[] =
    "CREATE TABLE tag_pair ("
    "  id INTEGER PRIMARY KEY,"
    "  epoch TEXT NOT NULL, owner TEXT NOT NULL, blinder TEXT NOT NULL,"
    "  UNIQUE (epoch, owner, blinder));"
    "INSERT INTO tag_pair(epoch, owner, blinder)"
    "  SELECT DISTINCT epoch, owner, blinder FROM tag ORDER BY epoch, owner, blinder;"
    "CREATE TABLE tag_by_pair ("
    "  pair INTEGER NOT NULL REFERENCES tag_pair(id),"
    "  tag BLOB NOT NULL, position INTEGER NOT NULL,"
    "  PRIMARY KEY (pair, tag, position)) WITHOUT ROWID;"
    "INSERT INTO tag_by_pair(pair, tag, position)"
    "  SELECT p.id, t.tag, t.position FROM tag t JOIN tag_pair p"
    "  ON p.epoch = t.epoch AND p.owner = t.owner AND p.blinder = t.blinder"
    "  ORDER BY p.id, t.tag, t.position;"
    "DROP INDEX IF EXISTS tag_join;"
    "DROP TABLE tag;"
    "ALTER TABLE tag_by_pair RENAME TO tag;";

/* A store placed at version 2 by legacy_version may have been made by code
 * that kept tags so already: then there is nothing to do. */
static int store_tags_by_pair(sqlite3 *db, char *err, size_t errlen)
{
    int have = psi_sqlite_has_column(db, "tag", "pair");
    if (have < 0) {
        snprintf(err, errlen, "cannot look at the tag table: %s", sqlite3_errmsg(db));
        return PSI_ERR_STORE;
    }
    char *msg = NULL;
    if (!have && sqlite3_exec(db, TAGS_BY_PAIR, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return PSI_ERR_STORE;
    }
    return 0;
}

static const struct psi_sqlite_migration MIGRATIONS[] = {
    {1, "the first store", SCHEMA_V1, NULL},
    {2, "pinned admissions, party policies, element quotas", SCHEMA_V2, NULL},
    {3, "the audit log", SCHEMA_V3, NULL},
    {4, "vendor feeds", SCHEMA_V4, NULL},
    {5, "signatures of query batches", NULL, add_query_signature},
    {6, "the refusal budget", SCHEMA_V6, NULL},
    {7, "tags stored for size", NULL, store_tags_by_pair},
};

#define MIGRATION_COUNT (sizeof MIGRATIONS / sizeof MIGRATIONS[0])

_Static_assert(PSI_STORE_SQLITE_SCHEMA_VERSION == 7, "the last migration is the current version");

/* A store made before the versions were numbered kept its version in meta:
 * place it, and drop the old mark (user_version is the one record now). */
static int legacy_version(sqlite3 *db, int *version, char *err, size_t errlen)
{
    *version = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT value FROM meta WHERE key = 'schema_version'"
                           " AND EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'participant')",
                           -1, &s, NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        return 0; /* no meta table: not a store, or an empty file */
    }
    int rc = sqlite3_step(s);
    const unsigned char *v = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
    if (v != NULL && strcmp((const char *)v, "1") == 0)
        *version = 1;
    else if (v != NULL && strcmp((const char *)v, "2") == 0)
        *version = 2;
    sqlite3_finalize(s);
    if (*version == 0)
        return 0;
    char *msg = NULL;
    if (sqlite3_exec(db, "DELETE FROM meta WHERE key = 'schema_version'", NULL, NULL, &msg) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot renumber the store: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return PSI_ERR_STORE;
    }
    return 0;
}

/* "a allows b", the effective policy: the operator's policy of a shares with
 * everyone or lists b, and a's own statement, if it made one, does too.
 * Written once, used by the work list and the results. */
#define ALLOWS(a_id, a_all, b_id)                                                                  \
    "((" a_all " = 1 OR EXISTS (SELECT 1 FROM share sh WHERE sh.owner = " a_id                     \
    " AND sh.peer = " b_id ")) AND NOT EXISTS (SELECT 1 FROM party_policy pp"                      \
    " WHERE pp.id = " a_id " AND pp.share_all = 0 AND NOT EXISTS (SELECT 1 FROM party_share ps"    \
    " WHERE ps.owner = " a_id " AND ps.peer = " b_id ")))"

enum stmt_id {
    S_BEGIN_READ,
    S_BEGIN_WRITE,
    S_COMMIT,
    S_ROLLBACK,
    S_MARK,
    S_UNDO,
    S_RELEASE,
    S_META_GET,
    S_META_SET,
    S_PART_GET,
    S_PART_SHARES,
    S_PART_ADD,
    S_SHARE_ADD,
    S_SHARE_CLEAR,
    S_PART_POLICY,
    S_PART_REMOVE,
    S_PART_LIST,
    S_PART_ADMIT_INDEX,
    S_PARTY_GET,
    S_PARTY_SHARES,
    S_PARTY_PUT,
    S_PARTY_SHARE_CLEAR,
    S_PARTY_SHARE_ADD,
    S_NONCE_ADD,
    S_NONCE_FORGET,
    S_REFUSAL_GET,
    S_REFUSAL_SET,
    S_REPLY_GET,
    S_REPLY_PUT,
    S_REPLY_FORGET,
    S_UPLOAD_FORGET_CHUNKS,
    S_UPLOAD_FORGET,
    S_UPLOAD_SIZE,
    S_UPLOAD_TOTAL,
    S_UPLOAD_READ,
    S_UPLOAD_TOUCH,
    S_UPLOAD_CHUNK_ADD,
    S_UPLOAD_DROP_CHUNKS,
    S_UPLOAD_DROP,
    S_POSITIONS,
    S_SUBMISSION_ADD,
    S_BLOCK_ADD,
    S_SUBMISSION_GET,
    S_SUBMISSION_LIST,
    S_BLOCK_GET,
    S_WORK_LIST,
    S_CROSSBLIND_GET,
    S_CROSSBLIND_ADD,
    S_TAG_PAIR_GET,
    S_TAG_PAIR_ADD,
    S_TAG_ADD,
    S_TAG_FIND,
    S_OVERLAP_ADD,
    S_RESULTS,
    S_LOG_HEAD_GET,
    S_LOG_HEAD_PUT,
    S_LOG_ENTRY_PUT,
    S_LOG_ENTRY_GET,
    S_LOG_HASH_PUT,
    S_LOG_HASH_GET,
    S_FEED_KEY_PUT,
    S_FEED_KEY_GET,
    S_FEED_BLOCK_CLEAR,
    S_FEED_PUT,
    S_FEED_BLOCK_ADD,
    S_FEED_GET,
    S_FEED_BLOCK_GET,
    S_QUOTA_SET,
    S_QUOTA_GET,
    S_QUERIES_USED,
    S_ELEMENT_QUOTA_SET,
    S_ELEMENT_QUOTA_GET,
    S_QUERY_ADD,
    S_QUERY_GET,
    S_QUERY_PENDING,
    S_QUERY_COUNT,
    S_QUERY_ANSWER,
    S_EPOCH_LIST,
    S_EPOCH_USAGE,
    S_PRUNE_OVERLAP,
    S_PRUNE_TAG,
    S_PRUNE_TAG_PAIR,
    S_PRUNE_CROSSBLIND,
    S_PRUNE_BLOCK,
    S_PRUNE_SUBMISSION,
    S_PRUNE_FEED_BLOCK,
    S_PRUNE_FEED,
    S_PRUNE_FEED_KEY,
    S_PRUNE_QUERY,
    S_USAGE,
    S_OVERLAP_COUNTS,
    S_COUNT
};

static const char *const STMT_SQL[S_COUNT] = {
    [S_BEGIN_READ] = "BEGIN DEFERRED",
    [S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_MARK] = "SAVEPOINT psi_mark",
    [S_UNDO] = "ROLLBACK TO psi_mark",
    [S_RELEASE] = "RELEASE psi_mark",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [S_PART_GET] = "SELECT id, role, public_key, removed, share_all, contribute_only,"
                   " admit_index FROM participant WHERE id = ?1",
    [S_PART_SHARES] = "SELECT peer FROM share WHERE owner = ?1 ORDER BY peer",
    [S_PART_ADD] = "INSERT INTO participant(id, role, public_key, share_all, contribute_only,"
                   " removed, admitted_ms) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
    [S_SHARE_ADD] = "INSERT OR IGNORE INTO share(owner, peer) VALUES (?1, ?2)",
    [S_SHARE_CLEAR] = "DELETE FROM share WHERE owner = ?1",
    [S_PART_POLICY] = "UPDATE participant SET share_all = ?2, contribute_only = ?3"
                      " WHERE id = ?1",
    [S_PART_REMOVE] = "UPDATE participant SET removed = 1 WHERE id = ?1",
    [S_PART_LIST] = "SELECT id FROM participant ORDER BY id",
    [S_PART_ADMIT_INDEX] = "UPDATE participant SET admit_index = ?2 WHERE id = ?1",
    [S_PARTY_GET] = "SELECT issued_ms, share_all, contribute_only, signature, log_index"
                    " FROM party_policy WHERE id = ?1",
    [S_PARTY_SHARES] = "SELECT peer FROM party_share WHERE owner = ?1 ORDER BY peer",
    [S_PARTY_PUT] = "INSERT INTO party_policy(id, issued_ms, share_all, contribute_only,"
                    " signature, log_index, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                    " ON CONFLICT(id) DO UPDATE SET issued_ms = excluded.issued_ms,"
                    " share_all = excluded.share_all, contribute_only = excluded.contribute_only,"
                    " signature = excluded.signature, log_index = excluded.log_index,"
                    " created_ms = excluded.created_ms",
    [S_PARTY_SHARE_CLEAR] = "DELETE FROM party_share WHERE owner = ?1",
    [S_PARTY_SHARE_ADD] = "INSERT OR IGNORE INTO party_share(owner, peer) VALUES (?1, ?2)",
    [S_NONCE_ADD] = "INSERT OR IGNORE INTO nonce(sender, nonce, timestamp_ms)"
                    " VALUES (?1, ?2, ?3)",
    [S_NONCE_FORGET] = "DELETE FROM nonce WHERE timestamp_ms < ?1",
    [S_REFUSAL_GET] = "SELECT window_start_ms, used FROM refusal_budget WHERE participant = ?1",
    [S_REFUSAL_SET] = "INSERT OR REPLACE INTO refusal_budget(participant, window_start_ms, used)"
                      " VALUES (?1, ?2, ?3)",
    [S_REPLY_GET] = "SELECT method, body FROM reply WHERE sender = ?1 AND request_id = ?2",
    [S_REPLY_PUT] = "INSERT INTO reply(sender, request_id, method, body, created_ms)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_REPLY_FORGET] = "DELETE FROM reply WHERE created_ms < ?1",
    [S_UPLOAD_FORGET_CHUNKS] = "DELETE FROM upload_chunk WHERE (sender, upload_id) IN"
                               " (SELECT sender, upload_id FROM upload WHERE touched_ms < ?1)",
    [S_UPLOAD_FORGET] = "DELETE FROM upload WHERE touched_ms < ?1",
    [S_UPLOAD_SIZE] = "SELECT received FROM upload WHERE sender = ?1 AND upload_id = ?2",
    [S_UPLOAD_TOTAL] = "SELECT coalesce(sum(received), 0) FROM upload WHERE sender = ?1",
    [S_UPLOAD_READ] = "SELECT start, bytes FROM upload_chunk"
                      " WHERE sender = ?1 AND upload_id = ?2 AND start < ?4"
                      " AND start + length(bytes) > ?3 ORDER BY start",
    [S_UPLOAD_TOUCH] = "INSERT INTO upload(sender, upload_id, received, touched_ms)"
                       " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(sender, upload_id) DO UPDATE"
                       " SET received = excluded.received, touched_ms = excluded.touched_ms",
    [S_UPLOAD_CHUNK_ADD] = "INSERT INTO upload_chunk(sender, upload_id, start, bytes)"
                           " VALUES (?1, ?2, ?3, ?4)",
    [S_UPLOAD_DROP_CHUNKS] = "DELETE FROM upload_chunk WHERE sender = ?1 AND upload_id = ?2",
    [S_UPLOAD_DROP] = "DELETE FROM upload WHERE sender = ?1 AND upload_id = ?2",
    [S_POSITIONS] = "SELECT coalesce(sum(count), 0) FROM submission"
                    " WHERE owner = ?1 AND epoch = ?2",
    [S_SUBMISSION_ADD] = "INSERT INTO submission(owner, epoch, count, position_base, digest,"
                         " signature, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_BLOCK_ADD] = "INSERT INTO element_block(submission_id, block, elements)"
                    " VALUES (?1, ?2, ?3)",
    [S_SUBMISSION_GET] = "SELECT id, owner, epoch, count, position_base, digest, signature"
                         " FROM submission WHERE id = ?1",
    [S_SUBMISSION_LIST] = "SELECT id, owner, epoch, count, position_base, digest, signature"
                          " FROM submission WHERE epoch = ?2 AND owner = ?1 ORDER BY id",
    [S_BLOCK_GET] = "SELECT elements FROM element_block WHERE submission_id = ?1 AND block = ?2",
    [S_WORK_LIST] =
        "SELECT s.id, s.owner, s.epoch, s.count, s.position_base, s.digest, s.signature"
        " FROM submission s JOIN participant p ON p.id = s.owner"
        " JOIN participant me ON me.id = ?1"
        " WHERE s.epoch = ?2 AND s.owner <> ?1 AND p.removed = 0 AND me.removed = 0"
        " AND p.role <> 'auditor' AND me.role <> 'auditor'"
        " AND " ALLOWS("p.id", "p.share_all", "me.id") " AND " ALLOWS(
            "me.id", "me.share_all",
            "p.id") " AND NOT EXISTS (SELECT 1 FROM crossblind c WHERE c.submission_id = s.id"
                    " AND c.blinder = ?1)"
                    " AND (?3 = 0 OR s.id = ?3)"
                    " ORDER BY s.id",
    [S_CROSSBLIND_GET] = "SELECT 1 FROM crossblind WHERE submission_id = ?1 AND blinder = ?2",
    [S_CROSSBLIND_ADD] = "INSERT INTO crossblind(submission_id, blinder, count, tag_digest,"
                         " signature, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_TAG_PAIR_GET] = "SELECT id FROM tag_pair WHERE epoch = ?1 AND owner = ?2 AND blinder = ?3",
    [S_TAG_PAIR_ADD] = "INSERT INTO tag_pair(epoch, owner, blinder) VALUES (?1, ?2, ?3)",
    [S_TAG_ADD] = "INSERT INTO tag(pair, tag, position) VALUES (?1, ?2, ?3)",
    /* The incremental join, one probe per tag of the batch: the positions
     * of the other side's pair that hold an equal tag. */
    [S_TAG_FIND] = "SELECT position FROM tag WHERE pair = ?1 AND tag = ?2",
    [S_OVERLAP_ADD] = "INSERT OR IGNORE INTO overlap(epoch, owner, position, peer)"
                      " VALUES (?1, ?2, ?3, ?4)",
    [S_RESULTS] = "SELECT o.position, o.peer FROM overlap o"
                  " JOIN participant p ON p.id = o.peer JOIN participant me ON me.id = ?2"
                  " WHERE o.epoch = ?1 AND o.owner = ?2 AND p.removed = 0"
                  " AND " ALLOWS("p.id", "p.share_all", "me.id") " AND " ALLOWS(
                      "me.id", "me.share_all", "p.id") " ORDER BY o.position, o.peer",
    /* Tags are counted from their batches, not the tag table: one row per
     * tag of each batch, and the batches are few. */
    [S_USAGE] = "SELECT (SELECT coalesce(sum(count), 0) FROM submission),"
                " (SELECT coalesce(sum(count), 0) FROM crossblind),"
                " (SELECT count(*) FROM overlap),"
                " (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size())",
    [S_OVERLAP_COUNTS] = "SELECT owner, peer, count(*) FROM overlap WHERE epoch = ?1"
                         " GROUP BY owner, peer ORDER BY owner, peer",
    [S_LOG_HEAD_GET] = "SELECT size, frontier, checkpoint FROM log_head WHERE singleton = 1",
    [S_LOG_HEAD_PUT] = "INSERT INTO log_head(singleton, size, frontier, checkpoint)"
                       " VALUES (1, ?1, ?2, coalesce(?3, ''))"
                       " ON CONFLICT(singleton) DO UPDATE SET size = excluded.size,"
                       " frontier = excluded.frontier,"
                       " checkpoint = coalesce(?3, log_head.checkpoint)",
    [S_LOG_ENTRY_PUT] = "INSERT INTO log_entry(idx, entry) VALUES (?1, ?2)",
    [S_LOG_ENTRY_GET] = "SELECT entry FROM log_entry WHERE idx = ?1",
    [S_LOG_HASH_PUT] = "INSERT INTO log_hash(level, idx, hash) VALUES (?1, ?2, ?3)",
    [S_LOG_HASH_GET] = "SELECT hash FROM log_hash WHERE level = ?1 AND idx = ?2",
    [S_FEED_KEY_PUT] = "INSERT INTO feed_key(vendor, epoch, public_key, signature, log_index,"
                       " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_FEED_KEY_GET] = "SELECT public_key, signature, log_index FROM feed_key"
                       " WHERE vendor = ?1 AND epoch = ?2",
    [S_FEED_BLOCK_CLEAR] = "DELETE FROM feed_block WHERE vendor = ?1 AND epoch = ?2",
    [S_FEED_PUT] = "INSERT INTO feed(vendor, epoch, count, rate, size, digest, signature,"
                   " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                   " ON CONFLICT(vendor, epoch) DO UPDATE SET count = excluded.count,"
                   " rate = excluded.rate, size = excluded.size, digest = excluded.digest,"
                   " signature = excluded.signature, created_ms = excluded.created_ms",
    [S_FEED_BLOCK_ADD] = "INSERT INTO feed_block(vendor, epoch, block, bytes)"
                         " VALUES (?1, ?2, ?3, ?4)",
    [S_FEED_GET] = "SELECT count, rate, size, digest, signature FROM feed"
                   " WHERE vendor = ?1 AND epoch = ?2",
    [S_FEED_BLOCK_GET] = "SELECT bytes FROM feed_block"
                         " WHERE vendor = ?1 AND epoch = ?2 AND block = ?3",
    [S_QUOTA_SET] = "INSERT INTO quota(agency, vendor, max_queries) VALUES (?1, ?2, ?3)"
                    " ON CONFLICT(agency, vendor) DO UPDATE SET max_queries = excluded.max_queries",
    [S_QUOTA_GET] = "SELECT max_queries FROM quota WHERE agency = ?1 AND vendor = ?2",
    [S_QUERIES_USED] = "SELECT coalesce(sum(count), 0) FROM query"
                       " WHERE agency = ?1 AND vendor = ?2 AND epoch = ?3",
    [S_ELEMENT_QUOTA_SET] = "INSERT INTO element_quota(participant, max_elements) VALUES (?1, ?2)"
                            " ON CONFLICT(participant)"
                            " DO UPDATE SET max_elements = excluded.max_elements",
    [S_ELEMENT_QUOTA_GET] = "SELECT max_elements FROM element_quota WHERE participant = ?1",
    [S_QUERY_ADD] = "INSERT INTO query(agency, vendor, epoch, count, elements, log_index,"
                    " created_ms, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_QUERY_GET] = "SELECT id, agency, vendor, epoch, count, log_index, answered_ms, signature,"
                    " elements, evaluated, proof FROM query WHERE id = ?1",
    [S_QUERY_PENDING] = "SELECT id, agency, vendor, epoch, count, log_index, answered_ms,"
                        " signature FROM query WHERE vendor = ?1 AND answered_ms IS NULL"
                        " ORDER BY id",
    [S_QUERY_COUNT] = "SELECT count FROM query WHERE id = ?1",
    [S_QUERY_ANSWER] = "UPDATE query SET evaluated = ?2, proof = ?3, answered_ms = ?4"
                       " WHERE id = ?1 AND answered_ms IS NULL",
    [S_EPOCH_LIST] = "SELECT epoch, max(at) FROM ("
                     " SELECT epoch, max(created_ms) AS at FROM submission GROUP BY epoch"
                     " UNION ALL SELECT epoch, max(created_ms) FROM feed_key GROUP BY epoch"
                     " UNION ALL SELECT epoch, max(created_ms) FROM feed GROUP BY epoch"
                     " UNION ALL SELECT epoch, max(created_ms) FROM query GROUP BY epoch)"
                     " GROUP BY epoch ORDER BY 2 DESC, 1 DESC",
    [S_EPOCH_USAGE] = "SELECT (SELECT count(*) FROM submission WHERE epoch = ?1),"
                      " (SELECT coalesce(sum(count), 0) FROM submission WHERE epoch = ?1),"
                      " (SELECT count(*) FROM crossblind"
                      "  WHERE submission_id IN (SELECT id FROM submission WHERE epoch = ?1)),"
                      " (SELECT count(*) FROM tag"
                      "  WHERE pair IN (SELECT id FROM tag_pair WHERE epoch = ?1)),"
                      " (SELECT count(*) FROM overlap WHERE epoch = ?1),"
                      " (SELECT count(*) FROM feed_key WHERE epoch = ?1),"
                      " (SELECT count(*) FROM feed WHERE epoch = ?1),"
                      " (SELECT count(*) FROM query WHERE epoch = ?1)",
    /* Children before parents: the foreign keys are enforced. */
    [S_PRUNE_OVERLAP] = "DELETE FROM overlap WHERE epoch = ?1",
    [S_PRUNE_TAG] = "DELETE FROM tag WHERE pair IN (SELECT id FROM tag_pair WHERE epoch = ?1)",
    [S_PRUNE_TAG_PAIR] = "DELETE FROM tag_pair WHERE epoch = ?1",
    [S_PRUNE_CROSSBLIND] = "DELETE FROM crossblind"
                           " WHERE submission_id IN (SELECT id FROM submission WHERE epoch = ?1)",
    [S_PRUNE_BLOCK] = "DELETE FROM element_block"
                      " WHERE submission_id IN (SELECT id FROM submission WHERE epoch = ?1)",
    [S_PRUNE_SUBMISSION] = "DELETE FROM submission WHERE epoch = ?1",
    [S_PRUNE_FEED_BLOCK] = "DELETE FROM feed_block WHERE epoch = ?1",
    [S_PRUNE_FEED] = "DELETE FROM feed WHERE epoch = ?1",
    [S_PRUNE_FEED_KEY] = "DELETE FROM feed_key WHERE epoch = ?1",
    [S_PRUNE_QUERY] = "DELETE FROM query WHERE epoch = ?1",
};

struct psi_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    char error[256];
};

/* ---------------------------------------------------------------- helpers */

static int fail(struct psi_store *st, const char *what)
{
    snprintf(st->error, sizeof st->error, "%s: %s", what, sqlite3_errmsg(st->db));
    return PSI_ERR_STORE;
}

static sqlite3_stmt *prepare(struct psi_store *st, enum stmt_id id)
{
    if (st->stmt[id] == NULL) {
        if (sqlite3_prepare_v3(st->db, STMT_SQL[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
                               NULL) != SQLITE_OK) {
            fail(st, "prepare");
            return NULL;
        }
    }
    return st->stmt[id];
}

static void done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

static int bind_blob(sqlite3_stmt *s, int i, const void *v, size_t n)
{
    if (n > INT_MAX)
        return -1;
    return sqlite3_bind_blob(s, i, v, (int)n, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

static int bind_u64(sqlite3_stmt *s, int i, uint64_t v)
{
    if (v > (uint64_t)INT64_MAX)
        return -1;
    return sqlite3_bind_int64(s, i, (sqlite3_int64)v) == SQLITE_OK ? 0 : -1;
}

static uint64_t column_u64(sqlite3_stmt *s, int i)
{
    sqlite3_int64 v = sqlite3_column_int64(s, i);
    return v < 0 ? 0 : (uint64_t)v;
}

/* Copies a text column into a fixed buffer; refuses one that does not fit. */
static int column_text(sqlite3_stmt *s, int i, char *out, size_t cap)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    int n = sqlite3_column_bytes(s, i);
    if (v == NULL || n < 0 || (size_t)n >= cap)
        return -1;
    memcpy(out, v, (size_t)n);
    out[n] = '\0';
    return 0;
}

static int column_blob(sqlite3_stmt *s, int i, unsigned char *out, size_t n)
{
    const void *v = sqlite3_column_blob(s, i);
    if (v == NULL || sqlite3_column_bytes(s, i) != (int)n)
        return -1;
    memcpy(out, v, n);
    return 0;
}

/* Runs a statement that returns no rows. */
static int step_done(struct psi_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    int ret = 0;
    if (rc == SQLITE_CONSTRAINT)
        ret = PSI_ERR_EXISTS;
    else if (rc != SQLITE_DONE)
        ret = fail(st, what);
    done(s);
    return ret;
}

static int exec(struct psi_store *st, enum stmt_id id, const char *what)
{
    sqlite3_stmt *s = prepare(st, id);
    if (s == NULL)
        return PSI_ERR_STORE;
    return step_done(st, s, what);
}

/* ---------------------------------------------------------------- lifecycle */

static void store_close(struct psi_store *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st);
}

static int store_connect(const char *path, int flags, struct psi_store **out, char *err,
                         size_t errlen)
{
    struct psi_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return PSI_ERR_NOMEM;
    if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        store_close(st);
        return PSI_ERR_STORE;
    }
    sqlite3_extended_result_codes(st->db, 0);
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    /* WAL is a property of the file, synchronous and foreign keys of the
     * connection: set on every open. */
    char *msg = NULL;
    if (sqlite3_exec(st->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        store_close(st);
        return PSI_ERR_STORE;
    }
    *out = st;
    return 0;
}

/* Brings the connected file to the current schema, or to upto (tests). */
static int migrate(struct psi_store *st, const char *path, int create, int upto, char *err,
                   size_t errlen)
{
    struct psi_sqlite_migrate_opts opts = {create, create ? NULL : legacy_version, upto};
    char why[384] = "";
    int rc = psi_sqlite_migrate(st->db, MIGRATIONS, MIGRATION_COUNT, &opts, NULL, why, sizeof why);
    if (rc == PSI_ERR_UNSUPPORTED)
        snprintf(err, errlen, "%s is not a psi-hub store this version can open: %s", path, why);
    else if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, why);
    return rc != 0 ? PSI_ERR_STORE : 0;
}

static int create_at(const char *path, int upto, struct psi_store **out, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) == 0) {
        snprintf(err, errlen, "%s exists already", path);
        return PSI_ERR_EXISTS;
    }
    struct psi_store *st = NULL;
    int rc = store_connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &st, err, errlen);
    if (rc == 0)
        rc = migrate(st, path, 1, upto, err, errlen);
    if (rc != 0) {
        store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

static int store_create(const char *path, struct psi_store **out, char *err, size_t errlen)
{
    return create_at(path, 0, out, err, errlen);
}

int psi_store_sqlite_create_at_version(const char *path, int version, char *err, size_t errlen)
{
    if (version < 1 || version > PSI_STORE_SQLITE_SCHEMA_VERSION) {
        snprintf(err, errlen, "no schema version %d", version);
        return PSI_ERR_INVALID;
    }
    struct psi_store *st = NULL;
    int rc = create_at(path, version, &st, err, errlen);
    store_close(st);
    return rc;
}

/* Opening migrates a store an older version of the hub left (each
 * connection checks; the first one migrates, under the write lock). */
static int store_open(const char *path, struct psi_store **out, char *err, size_t errlen)
{
    struct psi_store *st = NULL;
    int rc = store_connect(path, SQLITE_OPEN_READWRITE, &st, err, errlen);
    if (rc == 0)
        rc = migrate(st, path, 0, 0, err, errlen);
    if (rc != 0) {
        store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

/* The file and the companions WAL mode keeps beside it. */
static void store_destroy(const char *path)
{
    char companion[4200];
    snprintf(companion, sizeof companion, "%s-wal", path);
    unlink(companion);
    snprintf(companion, sizeof companion, "%s-shm", path);
    unlink(companion);
    unlink(path);
}

static const char *store_last_error(struct psi_store *st)
{
    return st->error;
}

/* ---------------------------------------------------------------- transactions */

static int store_begin(struct psi_store *st, enum psi_txn_kind kind)
{
    return exec(st, kind == PSI_TXN_WRITE ? S_BEGIN_WRITE : S_BEGIN_READ, "begin");
}

static int store_commit(struct psi_store *st)
{
    return exec(st, S_COMMIT, "commit");
}

static void store_rollback(struct psi_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        (void)exec(st, S_ROLLBACK, "rollback");
}

static int store_mark(struct psi_store *st)
{
    return exec(st, S_MARK, "savepoint");
}

static int store_undo_to_mark(struct psi_store *st)
{
    int rc = exec(st, S_UNDO, "rollback to savepoint");
    if (rc == 0)
        rc = exec(st, S_RELEASE, "release savepoint");
    return rc;
}

/* ---------------------------------------------------------------- meta */

static int meta_get(struct psi_txn *t, const char *key, char *value, size_t cap)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_META_GET);
    if (s == NULL || bind_text(s, 1, key) != 0)
        return s ? (done(s), fail(st, "meta")) : PSI_ERR_STORE;
    int rc = sqlite3_step(s);
    int ret = 0;
    if (rc == SQLITE_ROW)
        ret = column_text(s, 0, value, cap) == 0 ? 0 : PSI_ERR_TOO_LARGE;
    else if (rc == SQLITE_DONE)
        ret = PSI_ERR_NOT_FOUND;
    else
        ret = fail(st, "meta");
    done(s);
    return ret;
}

static int meta_set(struct psi_txn *t, const char *key, const char *value)
{
    sqlite3_stmt *s = prepare(t->store, S_META_SET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, key) != 0 || bind_text(s, 2, value) != 0) {
        done(s);
        return fail(t->store, "meta");
    }
    return step_done(t->store, s, "meta");
}

/* ---------------------------------------------------------------- participants */

/* The ids a listing statement (S_PART_SHARES, S_PARTY_SHARES) gives for
 * owner `id`, appended to *list (malloc'd, grown). */
static int read_ids(struct psi_store *st, enum stmt_id which, const char *id,
                    char (**list)[PSI_STORE_ID_MAX + 1], size_t *count)
{
    sqlite3_stmt *s = prepare(st, which);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0) {
        done(s);
        return fail(st, "participant");
    }
    size_t cap = *count;
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            void *n = realloc(*list, ncap * sizeof **list);
            if (n == NULL) {
                ret = PSI_ERR_NOMEM;
                break;
            }
            *list = n;
            cap = ncap;
        }
        if (column_text(s, 0, (*list)[*count], PSI_STORE_ID_MAX + 1) != 0) {
            ret = fail(st, "participant");
            break;
        }
        (*count)++;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(st, "participant");
    done(s);
    return ret;
}

/* The party's own statement of participant id, if it made one. */
static int party_get(struct psi_store *st, const char *id, struct psi_store_party_policy *out)
{
    sqlite3_stmt *s = prepare(st, S_PARTY_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0) {
        done(s);
        return fail(st, "party policy");
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        done(s);
        return 0;
    }
    if (rc != SQLITE_ROW || column_blob(s, 3, out->signature, sizeof out->signature) != 0) {
        int ret = fail(st, "party policy");
        done(s);
        return ret;
    }
    out->set = 1;
    out->issued_ms = column_u64(s, 0);
    out->share_all = sqlite3_column_int(s, 1) != 0;
    out->contribute_only = sqlite3_column_int(s, 2) != 0;
    out->log_index = column_u64(s, 4);
    done(s);
    return read_ids(st, S_PARTY_SHARES, id, &out->share_with, &out->share_count);
}

static int participant_get(struct psi_txn *t, const char *id, struct psi_store_participant *out)
{
    struct psi_store *st = t->store;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = prepare(st, S_PART_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0) {
        done(s);
        return fail(st, "participant");
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        done(s);
        return PSI_ERR_NOT_FOUND;
    }
    if (rc != SQLITE_ROW || column_text(s, 0, out->id, sizeof out->id) != 0 ||
        column_text(s, 1, out->role, sizeof out->role) != 0 ||
        column_blob(s, 2, out->public_key, sizeof out->public_key) != 0) {
        int ret = fail(st, "participant");
        done(s);
        return ret;
    }
    out->removed = sqlite3_column_int(s, 3) != 0;
    out->share_all = sqlite3_column_int(s, 4) != 0;
    out->contribute_only = sqlite3_column_int(s, 5) != 0;
    out->admit_logged = sqlite3_column_type(s, 6) != SQLITE_NULL;
    out->admit_index = out->admit_logged ? column_u64(s, 6) : 0;
    done(s);

    int ret = read_ids(st, S_PART_SHARES, id, &out->share_with, &out->share_count);
    if (ret == 0)
        ret = party_get(st, id, &out->party);
    if (ret != 0)
        psi_store_participant_clear(out);
    return ret;
}

static int set_shares(struct psi_txn *t, const char *id,
                      const char (*share_with)[PSI_STORE_ID_MAX + 1], size_t share_count)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_SHARE_CLEAR);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0) {
        done(s);
        return fail(st, "share");
    }
    int rc = step_done(st, s, "share");
    for (size_t i = 0; rc == 0 && i < share_count; i++) {
        s = prepare(st, S_SHARE_ADD);
        if (s == NULL)
            return PSI_ERR_STORE;
        if (bind_text(s, 1, id) != 0 || bind_text(s, 2, share_with[i]) != 0) {
            done(s);
            return fail(st, "share");
        }
        rc = step_done(st, s, "share");
    }
    return rc;
}

static int participant_add(struct psi_txn *t, const struct psi_store_participant *p,
                           uint64_t now_ms)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_PART_ADD);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, p->id) != 0 || bind_text(s, 2, p->role) != 0 ||
        bind_blob(s, 3, p->public_key, sizeof p->public_key) != 0 ||
        sqlite3_bind_int(s, 4, p->share_all ? 1 : 0) != SQLITE_OK ||
        sqlite3_bind_int(s, 5, p->contribute_only ? 1 : 0) != SQLITE_OK ||
        bind_u64(s, 6, now_ms) != 0) {
        done(s);
        return fail(st, "participant");
    }
    int rc = step_done(st, s, "participant");
    if (rc != 0)
        return rc;
    return set_shares(t, p->id, (const char(*)[PSI_STORE_ID_MAX + 1]) p->share_with,
                      p->share_count);
}

static int participant_set_policy(struct psi_txn *t, const char *id, int share_all,
                                  const char (*share_with)[PSI_STORE_ID_MAX + 1],
                                  size_t share_count, int contribute_only)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_PART_POLICY);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0 || sqlite3_bind_int(s, 2, share_all ? 1 : 0) != SQLITE_OK ||
        sqlite3_bind_int(s, 3, contribute_only ? 1 : 0) != SQLITE_OK) {
        done(s);
        return fail(st, "policy");
    }
    int rc = step_done(st, s, "policy");
    if (rc != 0)
        return rc;
    if (sqlite3_changes(st->db) == 0)
        return PSI_ERR_NOT_FOUND;
    return set_shares(t, id, share_with, share_count);
}

static int participant_remove(struct psi_txn *t, const char *id)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_PART_REMOVE);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0) {
        done(s);
        return fail(st, "remove");
    }
    int rc = step_done(st, s, "remove");
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = PSI_ERR_NOT_FOUND;
    return rc;
}

static int participant_list(struct psi_txn *t, psi_store_participant_fn fn, void *ctx)
{
    struct psi_store *st = t->store;
    /* Ids first, then each participant: the listing statement must be done
     * before participant_get reuses the connection's statements. */
    sqlite3_stmt *s = prepare(st, S_PART_LIST);
    if (s == NULL)
        return PSI_ERR_STORE;
    char(*ids)[PSI_STORE_ID_MAX + 1] = NULL;
    size_t n = 0, cap = 0;
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *m = realloc(ids, ncap * sizeof *ids);
            if (m == NULL) {
                ret = PSI_ERR_NOMEM;
                break;
            }
            ids = m;
            cap = ncap;
        }
        if (column_text(s, 0, ids[n], sizeof ids[n]) != 0) {
            ret = fail(st, "roster");
            break;
        }
        n++;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(st, "roster");
    done(s);
    for (size_t i = 0; ret == 0 && i < n; i++) {
        struct psi_store_participant p;
        ret = participant_get(t, ids[i], &p);
        if (ret == 0) {
            ret = fn(ctx, &p);
            psi_store_participant_clear(&p);
        }
    }
    free(ids);
    return ret;
}

static int participant_set_admit_index(struct psi_txn *t, const char *id, uint64_t index)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_PART_ADMIT_INDEX);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0 || bind_u64(s, 2, index) != 0) {
        done(s);
        return fail(st, "participant");
    }
    int rc = step_done(st, s, "participant");
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = PSI_ERR_NOT_FOUND;
    return rc;
}

static int party_policy_put(struct psi_txn *t, const char *id,
                            const struct psi_store_party_policy *pp, uint64_t now_ms)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_PARTY_PUT);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0 || bind_u64(s, 2, pp->issued_ms) != 0 ||
        sqlite3_bind_int(s, 3, pp->share_all ? 1 : 0) != SQLITE_OK ||
        sqlite3_bind_int(s, 4, pp->contribute_only ? 1 : 0) != SQLITE_OK ||
        bind_blob(s, 5, pp->signature, sizeof pp->signature) != 0 ||
        bind_u64(s, 6, pp->log_index) != 0 || bind_u64(s, 7, now_ms) != 0) {
        done(s);
        return fail(st, "party policy");
    }
    int rc = step_done(st, s, "party policy");
    if (rc != 0)
        return rc == PSI_ERR_EXISTS ? PSI_ERR_NOT_FOUND : rc; /* the foreign key */
    s = prepare(st, S_PARTY_SHARE_CLEAR);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0) {
        done(s);
        return fail(st, "party policy");
    }
    rc = step_done(st, s, "party policy");
    for (size_t i = 0; rc == 0 && i < pp->share_count; i++) {
        s = prepare(st, S_PARTY_SHARE_ADD);
        if (s == NULL)
            return PSI_ERR_STORE;
        if (bind_text(s, 1, id) != 0 || bind_text(s, 2, pp->share_with[i]) != 0) {
            done(s);
            return fail(st, "party policy");
        }
        rc = step_done(st, s, "party policy");
    }
    return rc;
}

/* ---------------------------------------------------------------- nonces and replies */

static int nonce_record(struct psi_txn *t, const char *sender,
                        const unsigned char nonce[PSI_STORE_NONCE_BYTES], uint64_t timestamp_ms,
                        uint64_t forget_before_ms)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_NONCE_FORGET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_u64(s, 1, forget_before_ms) != 0) {
        done(s);
        return fail(st, "nonce");
    }
    int rc = step_done(st, s, "nonce");
    if (rc != 0)
        return rc;
    s = prepare(st, S_NONCE_ADD);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, sender) != 0 || bind_blob(s, 2, nonce, PSI_STORE_NONCE_BYTES) != 0 ||
        bind_u64(s, 3, timestamp_ms) != 0) {
        done(s);
        return fail(st, "nonce");
    }
    rc = step_done(st, s, "nonce");
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = PSI_ERR_REPLAY;
    return rc;
}

static int refusal_budget_take(struct psi_txn *t, const char *participant, uint64_t now_ms,
                               uint64_t window_ms, uint32_t budget, int *granted)
{
    struct psi_store *st = t->store;
    *granted = 0;
    sqlite3_stmt *s = prepare(st, S_REFUSAL_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, participant) != 0) {
        done(s);
        return fail(st, "refusal budget");
    }
    int rc = sqlite3_step(s);
    uint64_t start = now_ms, used = 0;
    if (rc == SQLITE_ROW) {
        start = column_u64(s, 0);
        used = column_u64(s, 1);
    }
    done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st, "refusal budget");
    /* a new window once the last has passed (or the clock went back) */
    if (now_ms < start || now_ms - start >= window_ms) {
        start = now_ms;
        used = 0;
    }
    if (used >= budget)
        return 0; /* spent: nothing written */
    s = prepare(st, S_REFUSAL_SET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, participant) != 0 || bind_u64(s, 2, start) != 0 ||
        bind_u64(s, 3, used + 1) != 0) {
        done(s);
        return fail(st, "refusal budget");
    }
    rc = step_done(st, s, "refusal budget");
    if (rc == 0)
        *granted = 1;
    return rc;
}

static int reply_get(struct psi_txn *t, const char *sender,
                     const unsigned char request_id[PSI_STORE_REQUEST_ID_BYTES],
                     char method[PSI_STORE_METHOD_MAX + 1], uint8_t **body, size_t *body_len)
{
    struct psi_store *st = t->store;
    *body = NULL;
    *body_len = 0;
    sqlite3_stmt *s = prepare(st, S_REPLY_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, sender) != 0 ||
        bind_blob(s, 2, request_id, PSI_STORE_REQUEST_ID_BYTES) != 0) {
        done(s);
        return fail(st, "reply");
    }
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_DONE) {
        ret = PSI_ERR_NOT_FOUND;
    } else if (rc != SQLITE_ROW || column_text(s, 0, method, PSI_STORE_METHOD_MAX + 1) != 0) {
        ret = fail(st, "reply");
    } else {
        int n = sqlite3_column_bytes(s, 1);
        const void *b = sqlite3_column_blob(s, 1);
        *body = malloc(n > 0 ? (size_t)n : 1);
        if (*body == NULL) {
            ret = PSI_ERR_NOMEM;
        } else {
            if (n > 0)
                memcpy(*body, b, (size_t)n);
            *body_len = (size_t)n;
        }
    }
    done(s);
    return ret;
}

static int reply_put(struct psi_txn *t, const char *sender,
                     const unsigned char request_id[PSI_STORE_REQUEST_ID_BYTES], const char *method,
                     const uint8_t *body, size_t body_len, uint64_t now_ms)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_REPLY_PUT);
    if (s == NULL)
        return PSI_ERR_STORE;
    static const uint8_t nothing[1] = {0};
    if (bind_text(s, 1, sender) != 0 ||
        bind_blob(s, 2, request_id, PSI_STORE_REQUEST_ID_BYTES) != 0 ||
        bind_text(s, 3, method) != 0 || bind_blob(s, 4, body ? body : nothing, body_len) != 0 ||
        bind_u64(s, 5, now_ms) != 0) {
        done(s);
        return fail(st, "reply");
    }
    return step_done(st, s, "reply");
}

static int forget_older(struct psi_txn *t, uint64_t replies_before_ms, uint64_t uploads_before_ms)
{
    struct psi_store *st = t->store;
    const enum stmt_id ids[3] = {S_REPLY_FORGET, S_UPLOAD_FORGET_CHUNKS, S_UPLOAD_FORGET};
    const uint64_t limits[3] = {replies_before_ms, uploads_before_ms, uploads_before_ms};
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *s = prepare(st, ids[i]);
        if (s == NULL)
            return PSI_ERR_STORE;
        if (bind_u64(s, 1, limits[i]) != 0) {
            done(s);
            return fail(st, "forget");
        }
        int rc = step_done(st, s, "forget");
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- staging */

static int bind_upload(sqlite3_stmt *s, const char *sender,
                       const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES])
{
    return bind_text(s, 1, sender) != 0 || bind_blob(s, 2, upload_id, PSI_STORE_UPLOAD_ID_BYTES);
}

static int staging_size(struct psi_txn *t, const char *sender,
                        const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES],
                        uint64_t *received, uint64_t *sender_total)
{
    struct psi_store *st = t->store;
    *received = 0;
    *sender_total = 0;
    sqlite3_stmt *s = prepare(st, S_UPLOAD_SIZE);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_upload(s, sender, upload_id) != 0) {
        done(s);
        return fail(st, "upload");
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *received = column_u64(s, 0);
    else if (rc != SQLITE_DONE) {
        rc = fail(st, "upload");
        done(s);
        return rc;
    }
    done(s);
    s = prepare(st, S_UPLOAD_TOTAL);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, sender) != 0) {
        done(s);
        return fail(st, "upload");
    }
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        rc = fail(st, "upload");
        done(s);
        return rc;
    }
    *sender_total = column_u64(s, 0);
    done(s);
    return 0;
}

static int staging_read(struct psi_txn *t, const char *sender,
                        const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES], uint64_t offset,
                        uint8_t *out, size_t len)
{
    struct psi_store *st = t->store;
    if (len == 0)
        return 0;
    uint64_t end = offset + len;
    sqlite3_stmt *s = prepare(st, S_UPLOAD_READ);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_upload(s, sender, upload_id) != 0 || bind_u64(s, 3, offset) != 0 ||
        bind_u64(s, 4, end) != 0) {
        done(s);
        return fail(st, "upload");
    }
    uint64_t filled = offset; /* bytes before this are copied */
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint64_t start = column_u64(s, 0);
        int n = sqlite3_column_bytes(s, 1);
        const uint8_t *b = sqlite3_column_blob(s, 1);
        if (n <= 0 || b == NULL || start > filled)
            break; /* a hole: cannot happen with contiguous appends */
        uint64_t chunk_end = start + (uint64_t)n;
        uint64_t from = filled, to = chunk_end < end ? chunk_end : end;
        if (to > from) {
            memcpy(out + (from - offset), b + (from - start), (size_t)(to - from));
            filled = to;
        }
        if (filled == end)
            break;
    }
    done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st, "upload");
    return filled == end ? 0 : PSI_ERR_NOT_FOUND;
}

static int staging_append(struct psi_txn *t, const char *sender,
                          const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES], uint64_t offset,
                          const uint8_t *bytes, size_t len, uint64_t now_ms)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_UPLOAD_TOUCH);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_upload(s, sender, upload_id) != 0 || bind_u64(s, 3, offset + len) != 0 ||
        bind_u64(s, 4, now_ms) != 0) {
        done(s);
        return fail(st, "upload");
    }
    int rc = step_done(st, s, "upload");
    if (rc != 0 || len == 0)
        return rc;
    s = prepare(st, S_UPLOAD_CHUNK_ADD);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_upload(s, sender, upload_id) != 0 || bind_u64(s, 3, offset) != 0 ||
        bind_blob(s, 4, bytes, len) != 0) {
        done(s);
        return fail(st, "upload");
    }
    return step_done(st, s, "upload");
}

static int staging_drop(struct psi_txn *t, const char *sender,
                        const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES])
{
    struct psi_store *st = t->store;
    const enum stmt_id ids[2] = {S_UPLOAD_DROP_CHUNKS, S_UPLOAD_DROP};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *s = prepare(st, ids[i]);
        if (s == NULL)
            return PSI_ERR_STORE;
        if (bind_upload(s, sender, upload_id) != 0) {
            done(s);
            return fail(st, "upload");
        }
        int rc = step_done(st, s, "upload");
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- submissions */

static int positions_in_epoch(struct psi_txn *t, const char *owner, const char *epoch,
                              uint64_t *positions)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_POSITIONS);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, owner) != 0 || bind_text(s, 2, epoch) != 0) {
        done(s);
        return fail(st, "submission");
    }
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        rc = fail(st, "submission");
        done(s);
        return rc;
    }
    *positions = column_u64(s, 0);
    done(s);
    return 0;
}

static int submission_add(struct psi_txn *t, struct psi_store_submission *sub,
                          const uint8_t *elements, uint64_t now_ms)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_SUBMISSION_ADD);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, sub->owner) != 0 || bind_text(s, 2, sub->epoch) != 0 ||
        bind_u64(s, 3, sub->count) != 0 || bind_u64(s, 4, sub->position_base) != 0 ||
        bind_blob(s, 5, sub->digest, sizeof sub->digest) != 0 ||
        bind_blob(s, 6, sub->signature, sizeof sub->signature) != 0 ||
        bind_u64(s, 7, now_ms) != 0) {
        done(s);
        return fail(st, "submission");
    }
    int rc = step_done(st, s, "submission");
    if (rc != 0)
        return rc;
    sub->id = (uint64_t)sqlite3_last_insert_rowid(st->db);
    for (uint64_t first = 0, block = 0; first < sub->count; first += BLOCK_ELEMENTS, block++) {
        uint64_t n = sub->count - first < BLOCK_ELEMENTS ? sub->count - first : BLOCK_ELEMENTS;
        s = prepare(st, S_BLOCK_ADD);
        if (s == NULL)
            return PSI_ERR_STORE;
        if (bind_u64(s, 1, sub->id) != 0 || bind_u64(s, 2, block) != 0 ||
            bind_blob(s, 3, elements + first * PSI_STORE_ELEMENT_BYTES,
                      (size_t)n * PSI_STORE_ELEMENT_BYTES) != 0) {
            done(s);
            return fail(st, "elements");
        }
        rc = step_done(st, s, "elements");
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int read_submission_row(sqlite3_stmt *s, struct psi_store_submission *out)
{
    out->id = column_u64(s, 0);
    out->count = column_u64(s, 3);
    out->position_base = column_u64(s, 4);
    if (column_text(s, 1, out->owner, sizeof out->owner) != 0 ||
        column_text(s, 2, out->epoch, sizeof out->epoch) != 0 ||
        column_blob(s, 5, out->digest, sizeof out->digest) != 0 ||
        column_blob(s, 6, out->signature, sizeof out->signature) != 0)
        return -1;
    return 0;
}

static int submission_get(struct psi_txn *t, uint64_t id, struct psi_store_submission *out)
{
    struct psi_store *st = t->store;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = prepare(st, S_SUBMISSION_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (id > (uint64_t)INT64_MAX) {
        done(s);
        return PSI_ERR_NOT_FOUND;
    }
    if (bind_u64(s, 1, id) != 0) {
        done(s);
        return fail(st, "submission");
    }
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_DONE)
        ret = PSI_ERR_NOT_FOUND;
    else if (rc != SQLITE_ROW || read_submission_row(s, out) != 0)
        ret = fail(st, "submission");
    done(s);
    return ret;
}

static int elements_read(struct psi_txn *t, uint64_t submission_id, uint64_t offset, uint64_t count,
                         uint8_t *out)
{
    struct psi_store *st = t->store;
    uint64_t at = offset, end = offset + count;
    while (at < end) {
        uint64_t block = at / BLOCK_ELEMENTS, within = at % BLOCK_ELEMENTS;
        sqlite3_stmt *s = prepare(st, S_BLOCK_GET);
        if (s == NULL)
            return PSI_ERR_STORE;
        if (bind_u64(s, 1, submission_id) != 0 || bind_u64(s, 2, block) != 0) {
            done(s);
            return fail(st, "elements");
        }
        int rc = sqlite3_step(s);
        if (rc != SQLITE_ROW) {
            rc = rc == SQLITE_DONE ? PSI_ERR_NOT_FOUND : fail(st, "elements");
            done(s);
            return rc;
        }
        uint64_t held = (uint64_t)sqlite3_column_bytes(s, 0) / PSI_STORE_ELEMENT_BYTES;
        const uint8_t *b = sqlite3_column_blob(s, 0);
        if (b == NULL || within >= held) {
            done(s);
            return PSI_ERR_NOT_FOUND;
        }
        uint64_t n = held - within < end - at ? held - within : end - at;
        memcpy(out + (at - offset) * PSI_STORE_ELEMENT_BYTES, b + within * PSI_STORE_ELEMENT_BYTES,
               (size_t)n * PSI_STORE_ELEMENT_BYTES);
        done(s);
        at += n;
    }
    return 0;
}

/* ---------------------------------------------------------------- work */

/* Runs statement which (?1 an id, ?2 an epoch, ?3 only_id when it has one)
 * and gives each submission row to fn. */
static int list_submissions(struct psi_txn *t, enum stmt_id which, const char *id,
                            const char *epoch, uint64_t only_id, psi_store_submission_fn fn,
                            void *ctx)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, which);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0 || bind_text(s, 2, epoch) != 0 ||
        (which == S_WORK_LIST && bind_u64(s, 3, only_id) != 0)) {
        done(s);
        return fail(st, "work");
    }
    /* Rows are copied out first: fn may use the connection. */
    struct psi_store_submission *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *m = realloc(rows, ncap * sizeof *rows);
            if (m == NULL) {
                ret = PSI_ERR_NOMEM;
                break;
            }
            rows = m;
            cap = ncap;
        }
        memset(&rows[n], 0, sizeof rows[n]);
        if (read_submission_row(s, &rows[n]) != 0) {
            ret = fail(st, "work");
            break;
        }
        n++;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(st, "work");
    done(s);
    for (size_t i = 0; ret == 0 && i < n; i++)
        ret = fn(ctx, &rows[i]);
    free(rows);
    return ret;
}

/* Lists work; only_id non-zero restricts the list to one submission. */
static int list_work(struct psi_txn *t, const char *me, const char *epoch, uint64_t only_id,
                     psi_store_submission_fn fn, void *ctx)
{
    return list_submissions(t, S_WORK_LIST, me, epoch, only_id, fn, ctx);
}

static int submission_list(struct psi_txn *t, const char *owner, const char *epoch,
                           psi_store_submission_fn fn, void *ctx)
{
    return list_submissions(t, S_SUBMISSION_LIST, owner, epoch, 0, fn, ctx);
}

static int work_list(struct psi_txn *t, const char *me, const char *epoch,
                     psi_store_submission_fn fn, void *ctx)
{
    return list_work(t, me, epoch, 0, fn, ctx);
}

static int count_one(void *ctx, const struct psi_store_submission *s)
{
    (void)s;
    *(int *)ctx += 1;
    return 0;
}

static int work_status(struct psi_txn *t, const char *me, const char *epoch, uint64_t submission_id,
                       enum psi_work_status *status)
{
    struct psi_store *st = t->store;
    *status = PSI_WORK_NONE;
    if (submission_id == 0 || submission_id > (uint64_t)INT64_MAX)
        return 0;
    sqlite3_stmt *s = prepare(st, S_CROSSBLIND_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_u64(s, 1, submission_id) != 0 || bind_text(s, 2, me) != 0) {
        done(s);
        return fail(st, "work");
    }
    int rc = sqlite3_step(s);
    done(s);
    if (rc == SQLITE_ROW) {
        *status = PSI_WORK_DONE;
        return 0;
    }
    if (rc != SQLITE_DONE)
        return fail(st, "work");
    int found = 0;
    rc = list_work(t, me, epoch, submission_id, count_one, &found);
    if (rc == 0 && found)
        *status = PSI_WORK_PENDING;
    return rc;
}

/* ---------------------------------------------------------------- cross-blind and match */

/* The id of the tags of (epoch, owner, blinder) in *id; 0 if there are none
 * yet, unless create (then a new id, the largest so far). */
static int tag_pair_id(struct psi_store *st, const char *epoch, const char *owner,
                       const char *blinder, int create, int64_t *id)
{
    *id = 0;
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *s = prepare(st, pass == 0 ? S_TAG_PAIR_GET : S_TAG_PAIR_ADD);
        if (s == NULL)
            return PSI_ERR_STORE;
        if (bind_text(s, 1, epoch) != 0 || bind_text(s, 2, owner) != 0 ||
            bind_text(s, 3, blinder) != 0) {
            done(s);
            return fail(st, "tags");
        }
        int rc = sqlite3_step(s);
        if (pass == 0 && rc == SQLITE_ROW)
            *id = sqlite3_column_int64(s, 0);
        else if (pass == 1 && rc == SQLITE_DONE)
            *id = sqlite3_last_insert_rowid(st->db);
        else if (rc != SQLITE_DONE) {
            rc = fail(st, "tags");
            done(s);
            return rc;
        }
        done(s);
        if (*id != 0 || !create)
            return 0;
    }
    return fail(st, "tags");
}

/* A tag of a batch and its index in the batch, sorted by value (then index). */
struct indexed_tag {
    uint8_t tag[PSI_STORE_TAG_BYTES];
    uint64_t index;
};

static int indexed_tag_cmp(const void *a, const void *b)
{
    const struct indexed_tag *x = a, *y = b;
    int c = memcmp(x->tag, y->tag, sizeof x->tag);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

/* Inserts count tags (tag k at position base + k) under pair, in key order:
 * a new pair's rows then append to the tree and fill its pages. */
static int tags_insert(struct psi_store *st, int64_t pair, const uint8_t *tags, uint64_t count,
                       uint64_t base)
{
    if (count > SIZE_MAX / sizeof(struct indexed_tag))
        return PSI_ERR_NOMEM;
    struct indexed_tag *sorted = malloc((size_t)count * sizeof *sorted);
    if (sorted == NULL)
        return PSI_ERR_NOMEM;
    for (uint64_t k = 0; k < count; k++) {
        memcpy(sorted[k].tag, tags + (size_t)k * PSI_STORE_TAG_BYTES, PSI_STORE_TAG_BYTES);
        sorted[k].index = k;
    }
    qsort(sorted, (size_t)count, sizeof *sorted, indexed_tag_cmp);

    int rc = 0;
    sqlite3_stmt *s = prepare(st, S_TAG_ADD);
    if (s == NULL)
        rc = PSI_ERR_STORE;
    else if (sqlite3_bind_int64(s, 1, pair) != SQLITE_OK)
        rc = fail(st, "tags");
    for (uint64_t n = 0; rc == 0 && n < count; n++) {
        if (bind_blob(s, 2, sorted[n].tag, PSI_STORE_TAG_BYTES) != 0 ||
            bind_u64(s, 3, base + sorted[n].index) != 0 || sqlite3_step(s) != SQLITE_DONE)
            rc = fail(st, "tags");
        sqlite3_reset(s);
    }
    if (s != NULL)
        done(s);
    free(sorted);
    return rc;
}

/* Records that owner's position is also held by peer; counts it in *added
 * if it is new. */
static int overlap_add(struct psi_store *st, const char *epoch, const char *owner,
                       uint64_t position, const char *peer, uint64_t *added)
{
    sqlite3_stmt *s = prepare(st, S_OVERLAP_ADD);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, epoch) != 0 || bind_text(s, 2, owner) != 0 ||
        bind_u64(s, 3, position) != 0 || bind_text(s, 4, peer) != 0) {
        done(s);
        return fail(st, "match");
    }
    int rc = step_done(st, s, "match");
    if (rc == 0)
        *added += (uint64_t)sqlite3_changes(st->db);
    return rc;
}

static int crossblind_add(struct psi_txn *t, const struct psi_store_crossblind *cb,
                          const uint8_t *tags, uint64_t now_ms, uint64_t *matched,
                          uint64_t *peer_matched)
{
    struct psi_store *st = t->store;
    *matched = 0;
    *peer_matched = 0;
    struct psi_store_submission sub;
    int rc = submission_get(t, cb->submission_id, &sub);
    if (rc != 0)
        return rc;
    if (cb->count != sub.count)
        return PSI_ERR_INVALID;

    sqlite3_stmt *s = prepare(st, S_CROSSBLIND_ADD);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_u64(s, 1, cb->submission_id) != 0 || bind_text(s, 2, cb->blinder) != 0 ||
        bind_u64(s, 3, cb->count) != 0 ||
        bind_blob(s, 4, cb->tag_digest, sizeof cb->tag_digest) != 0 ||
        bind_blob(s, 5, cb->signature, sizeof cb->signature) != 0 || bind_u64(s, 6, now_ms)) {
        done(s);
        return fail(st, "crossblind");
    }
    rc = step_done(st, s, "crossblind");
    if (rc != 0)
        return rc;

    if (cb->count == 0)
        return 0;
    int64_t pair = 0, other = 0;
    rc = tag_pair_id(st, sub.epoch, sub.owner, cb->blinder, 1, &pair);
    if (rc == 0)
        rc = tag_pair_id(st, sub.epoch, cb->blinder, sub.owner, 0, &other);
    if (rc == 0)
        rc = tags_insert(st, pair, tags, cb->count, sub.position_base);
    if (rc != 0 || other == 0)
        return rc; /* no tags of j under i's key yet: nothing to join */

    /* The incremental join: each tag of the batch against j's tags under
     * i's key; both sides of each match are recorded. */
    sqlite3_stmt *find = prepare(st, S_TAG_FIND);
    if (find == NULL)
        return PSI_ERR_STORE;
    for (uint64_t k = 0; rc == 0 && k < cb->count; k++) {
        if (sqlite3_bind_int64(find, 1, other) != SQLITE_OK ||
            bind_blob(find, 2, tags + k * PSI_STORE_TAG_BYTES, PSI_STORE_TAG_BYTES) != 0) {
            rc = fail(st, "match");
            break;
        }
        int step = SQLITE_DONE;
        while (rc == 0 && (step = sqlite3_step(find)) == SQLITE_ROW) {
            uint64_t peer_position = column_u64(find, 0);
            rc = overlap_add(st, sub.epoch, sub.owner, sub.position_base + k, cb->blinder, matched);
            if (rc == 0)
                rc =
                    overlap_add(st, sub.epoch, cb->blinder, peer_position, sub.owner, peer_matched);
        }
        if (rc == 0 && step != SQLITE_DONE)
            rc = fail(st, "match");
        sqlite3_reset(find);
    }
    done(find);
    return rc;
}

/* ---------------------------------------------------------------- results */

static int results(struct psi_txn *t, const char *me, const char *epoch, uint32_t threshold,
                   psi_store_match_fn fn, void *ctx)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_RESULTS);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, epoch) != 0 || bind_text(s, 2, me) != 0) {
        done(s);
        return fail(st, "results");
    }
    /* Rows come in position order; a position's peers are gathered, then
     * handed on if enough parties hold it. */
    char(*peers)[PSI_STORE_ID_MAX + 1] = NULL;
    const char **peer_ptrs = NULL;
    size_t n = 0, cap = 0;
    uint64_t position = 0;
    int rc, ret = 0;
    for (;;) {
        rc = sqlite3_step(s);
        uint64_t next = rc == SQLITE_ROW ? column_u64(s, 0) : 0;
        if (n > 0 && (rc != SQLITE_ROW || next != position)) {
            if ((uint64_t)n + 1 >= threshold) {
                for (size_t i = 0; i < n; i++)
                    peer_ptrs[i] = peers[i];
                ret = fn(ctx, position, peer_ptrs, n);
                if (ret != 0)
                    break;
            }
            n = 0;
        }
        if (rc != SQLITE_ROW)
            break;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            void *m = realloc(peers, ncap * sizeof *peers);
            void *q = m ? realloc(peer_ptrs, ncap * sizeof *peer_ptrs) : NULL;
            if (m)
                peers = m;
            if (q)
                peer_ptrs = q;
            if (m == NULL || q == NULL) {
                ret = PSI_ERR_NOMEM;
                break;
            }
            cap = ncap;
        }
        if (column_text(s, 1, peers[n], sizeof peers[n]) != 0) {
            ret = fail(st, "results");
            break;
        }
        n++;
        position = next;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(st, "results");
    done(s);
    free(peers);
    free(peer_ptrs);
    return ret;
}

/* ---------------------------------------------------------------- audit log */

static int log_head_get(struct psi_txn *t, struct psi_merkle_frontier *frontier, char *checkpoint,
                        size_t cap)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_LOG_HEAD_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        done(s);
        return PSI_ERR_NOT_FOUND;
    }
    int ret = 0;
    if (rc != SQLITE_ROW) {
        ret = fail(st, "log head");
    } else {
        sqlite3_int64 size = sqlite3_column_int64(s, 0);
        int bytes = sqlite3_column_bytes(s, 1);
        const void *hashes = sqlite3_column_blob(s, 1);
        if (size < 0 || bytes < 0 || bytes % 32 != 0 || (size_t)bytes > sizeof frontier->hashes ||
            (bytes > 0 && hashes == NULL) ||
            psi_merkle_frontier_load(frontier, (uint64_t)size, (const unsigned char(*)[32])hashes,
                                     (size_t)bytes / 32) != 0) {
            snprintf(st->error, sizeof st->error, "log head: the stored frontier is damaged");
            ret = PSI_ERR_STORE;
        } else if (checkpoint != NULL && cap > 0 && column_text(s, 2, checkpoint, cap) != 0) {
            ret = PSI_ERR_TOO_LARGE;
        }
    }
    done(s);
    return ret;
}

static int log_head_put(struct psi_txn *t, const struct psi_merkle_frontier *frontier,
                        const char *checkpoint)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_LOG_HEAD_PUT);
    if (s == NULL)
        return PSI_ERR_STORE;
    size_t count = psi_merkle_frontier_count(frontier);
    if (bind_u64(s, 1, frontier->size) != 0 || bind_blob(s, 2, frontier->hashes, count * 32) != 0 ||
        (checkpoint != NULL ? bind_text(s, 3, checkpoint)
                            : (sqlite3_bind_null(s, 3) == SQLITE_OK ? 0 : -1)) != 0) {
        done(s);
        return fail(st, "log head");
    }
    return step_done(st, s, "log head");
}

static int log_entry_put(struct psi_txn *t, uint64_t index, const uint8_t *entry, size_t len)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_LOG_ENTRY_PUT);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_u64(s, 1, index) != 0 || bind_blob(s, 2, entry, len) != 0) {
        done(s);
        return fail(st, "log entry");
    }
    return step_done(st, s, "log entry");
}

static int log_entry_get(struct psi_txn *t, uint64_t index, uint8_t **entry, size_t *len)
{
    struct psi_store *st = t->store;
    *entry = NULL;
    *len = 0;
    sqlite3_stmt *s = prepare(st, S_LOG_ENTRY_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_u64(s, 1, index) != 0) {
        done(s);
        return fail(st, "log entry");
    }
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_DONE) {
        ret = PSI_ERR_NOT_FOUND;
    } else if (rc != SQLITE_ROW) {
        ret = fail(st, "log entry");
    } else {
        int n = sqlite3_column_bytes(s, 0);
        const void *v = sqlite3_column_blob(s, 0);
        uint8_t *copy = malloc(n > 0 ? (size_t)n : 1);
        if (copy == NULL) {
            ret = PSI_ERR_NOMEM;
        } else {
            if (n > 0 && v != NULL)
                memcpy(copy, v, (size_t)n);
            *entry = copy;
            *len = n > 0 ? (size_t)n : 0;
        }
    }
    done(s);
    return ret;
}

static int log_hash_put(struct psi_txn *t, unsigned level, uint64_t index,
                        const unsigned char hash[32])
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_LOG_HASH_PUT);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (sqlite3_bind_int(s, 1, (int)level) != SQLITE_OK || bind_u64(s, 2, index) != 0 ||
        bind_blob(s, 3, hash, 32) != 0) {
        done(s);
        return fail(st, "log hash");
    }
    return step_done(st, s, "log hash");
}

static int log_hash_get(struct psi_txn *t, unsigned level, uint64_t index, unsigned char hash[32])
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_LOG_HASH_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (sqlite3_bind_int(s, 1, (int)level) != SQLITE_OK || bind_u64(s, 2, index) != 0) {
        done(s);
        return fail(st, "log hash");
    }
    int rc = sqlite3_step(s), ret = 0;
    if (rc == SQLITE_DONE)
        ret = PSI_ERR_NOT_FOUND;
    else if (rc != SQLITE_ROW || column_blob(s, 0, hash, 32) != 0)
        ret = fail(st, "log hash");
    done(s);
    return ret;
}

/* ---------------------------------------------------------------- vendor feeds */

static int feed_key_put(struct psi_txn *t, const struct psi_store_feed_key *k, uint64_t now_ms)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_FEED_KEY_PUT);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, k->vendor) != 0 || bind_text(s, 2, k->epoch) != 0 ||
        bind_blob(s, 3, k->public_key, sizeof k->public_key) != 0 ||
        bind_blob(s, 4, k->signature, sizeof k->signature) != 0 ||
        bind_u64(s, 5, k->log_index) != 0 || bind_u64(s, 6, now_ms) != 0) {
        done(s);
        return fail(st, "feed key");
    }
    return step_done(st, s, "feed key");
}

static int feed_key_get(struct psi_txn *t, const char *vendor, const char *epoch,
                        struct psi_store_feed_key *out)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_FEED_KEY_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    int rc;
    if (bind_text(s, 1, vendor) != 0 || bind_text(s, 2, epoch) != 0) {
        rc = fail(st, "feed key");
    } else if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        snprintf(out->vendor, sizeof out->vendor, "%s", vendor);
        snprintf(out->epoch, sizeof out->epoch, "%s", epoch);
        out->log_index = column_u64(s, 2);
        rc = column_blob(s, 0, out->public_key, sizeof out->public_key) != 0 ||
                     column_blob(s, 1, out->signature, sizeof out->signature) != 0
                 ? fail(st, "feed key")
                 : 0;
    } else {
        rc = rc == SQLITE_DONE ? PSI_ERR_NOT_FOUND : fail(st, "feed key");
    }
    done(s);
    return rc;
}

#define FEED_BLOCK_BYTES ((uint64_t)1 << 20)

/* Binds (vendor, epoch) to ?1, ?2 of the cached statement id. */
static sqlite3_stmt *prepare_feed(struct psi_store *st, enum stmt_id id, const char *vendor,
                                  const char *epoch, const char *what)
{
    sqlite3_stmt *s = prepare(st, id);
    if (s == NULL)
        return NULL;
    if (bind_text(s, 1, vendor) != 0 || bind_text(s, 2, epoch) != 0) {
        done(s);
        fail(st, what);
        return NULL;
    }
    return s;
}

static int feed_put(struct psi_txn *t, const struct psi_store_feed *f, const uint8_t *bytes,
                    uint64_t now_ms)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare_feed(st, S_FEED_BLOCK_CLEAR, f->vendor, f->epoch, "feed");
    if (s == NULL)
        return PSI_ERR_STORE;
    int rc = step_done(st, s, "feed");
    if (rc != 0)
        return rc;
    s = prepare_feed(st, S_FEED_PUT, f->vendor, f->epoch, "feed");
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_u64(s, 3, f->count) != 0 || sqlite3_bind_double(s, 4, f->rate) != SQLITE_OK ||
        bind_u64(s, 5, f->size) != 0 || bind_blob(s, 6, f->digest, sizeof f->digest) != 0 ||
        bind_blob(s, 7, f->signature, sizeof f->signature) != 0 || bind_u64(s, 8, now_ms) != 0) {
        done(s);
        return fail(st, "feed");
    }
    if ((rc = step_done(st, s, "feed")) != 0)
        return rc;
    for (uint64_t at = 0, block = 0; at < f->size; at += FEED_BLOCK_BYTES, block++) {
        uint64_t n = f->size - at < FEED_BLOCK_BYTES ? f->size - at : FEED_BLOCK_BYTES;
        s = prepare_feed(st, S_FEED_BLOCK_ADD, f->vendor, f->epoch, "feed");
        if (s == NULL)
            return PSI_ERR_STORE;
        if (bind_u64(s, 3, block) != 0 || bind_blob(s, 4, bytes + at, (size_t)n) != 0) {
            done(s);
            return fail(st, "feed");
        }
        if ((rc = step_done(st, s, "feed")) != 0)
            return rc;
    }
    return 0;
}

static int feed_get(struct psi_txn *t, const char *vendor, const char *epoch,
                    struct psi_store_feed *out)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare_feed(st, S_FEED_GET, vendor, epoch, "feed");
    if (s == NULL)
        return PSI_ERR_STORE;
    int rc;
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        snprintf(out->vendor, sizeof out->vendor, "%s", vendor);
        snprintf(out->epoch, sizeof out->epoch, "%s", epoch);
        out->count = column_u64(s, 0);
        out->rate = sqlite3_column_double(s, 1);
        out->size = column_u64(s, 2);
        rc = column_blob(s, 3, out->digest, sizeof out->digest) != 0 ||
                     column_blob(s, 4, out->signature, sizeof out->signature) != 0
                 ? fail(st, "feed")
                 : 0;
    } else {
        rc = rc == SQLITE_DONE ? PSI_ERR_NOT_FOUND : fail(st, "feed");
    }
    done(s);
    return rc;
}

static int feed_read(struct psi_txn *t, const char *vendor, const char *epoch, uint64_t offset,
                     uint8_t *out, size_t len)
{
    struct psi_store *st = t->store;
    uint64_t at = offset, end = offset + len;
    while (at < end) {
        uint64_t block = at / FEED_BLOCK_BYTES, within = at % FEED_BLOCK_BYTES;
        sqlite3_stmt *s = prepare_feed(st, S_FEED_BLOCK_GET, vendor, epoch, "feed");
        if (s == NULL)
            return PSI_ERR_STORE;
        int rc;
        if (bind_u64(s, 3, block) != 0) {
            done(s);
            return fail(st, "feed");
        }
        if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
            rc = rc == SQLITE_DONE ? PSI_ERR_NOT_FOUND : fail(st, "feed");
            done(s);
            return rc;
        }
        uint64_t held = (uint64_t)sqlite3_column_bytes(s, 0);
        const uint8_t *b = sqlite3_column_blob(s, 0);
        if (b == NULL || within >= held) {
            done(s);
            return PSI_ERR_NOT_FOUND;
        }
        uint64_t n = held - within < end - at ? held - within : end - at;
        memcpy(out + (at - offset), b + within, (size_t)n);
        done(s);
        at += n;
    }
    return 0;
}

static int quota_set(struct psi_txn *t, const char *agency, const char *vendor, uint64_t limit)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare_feed(st, S_QUOTA_SET, agency, vendor, "quota");
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_u64(s, 3, limit) != 0) {
        done(s);
        return fail(st, "quota");
    }
    return step_done(st, s, "quota");
}

/* One unsigned integer from a one-row statement with one to three text
 * parameters (b and c may be NULL); PSI_ERR_NOT_FOUND without a row. */
static int one_u64(struct psi_store *st, enum stmt_id id, const char *a, const char *b,
                   const char *c, uint64_t *out, const char *what)
{
    sqlite3_stmt *s = prepare(st, id);
    if (s == NULL)
        return PSI_ERR_STORE;
    int rc;
    if (bind_text(s, 1, a) != 0 || (b && bind_text(s, 2, b) != 0) ||
        (c && bind_text(s, 3, c) != 0)) {
        rc = fail(st, what);
    } else if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *out = column_u64(s, 0);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? PSI_ERR_NOT_FOUND : fail(st, what);
    }
    done(s);
    return rc;
}

static int quota_get(struct psi_txn *t, const char *agency, const char *vendor, uint64_t *limit)
{
    return one_u64(t->store, S_QUOTA_GET, agency, vendor, NULL, limit, "quota");
}

static int queries_used(struct psi_txn *t, const char *agency, const char *vendor,
                        const char *epoch, uint64_t *used)
{
    return one_u64(t->store, S_QUERIES_USED, agency, vendor, epoch, used, "queries");
}

static int element_quota_set(struct psi_txn *t, const char *id, uint64_t limit)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_ELEMENT_QUOTA_SET);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, id) != 0 || bind_u64(s, 2, limit) != 0) {
        done(s);
        return fail(st, "element quota");
    }
    int rc = step_done(st, s, "element quota");
    return rc == PSI_ERR_EXISTS ? PSI_ERR_NOT_FOUND : rc; /* the foreign key */
}

static int element_quota_get(struct psi_txn *t, const char *id, uint64_t *limit)
{
    return one_u64(t->store, S_ELEMENT_QUOTA_GET, id, NULL, NULL, limit, "element quota");
}

static int query_add(struct psi_txn *t, struct psi_store_query *q, const uint8_t *elements,
                     uint64_t now_ms)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_QUERY_ADD);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (q->count > SIZE_MAX / PSI_STORE_ELEMENT_BYTES || bind_text(s, 1, q->agency) != 0 ||
        bind_text(s, 2, q->vendor) != 0 || bind_text(s, 3, q->epoch) != 0 ||
        bind_u64(s, 4, q->count) != 0 ||
        bind_blob(s, 5, elements, (size_t)q->count * PSI_STORE_ELEMENT_BYTES) != 0 ||
        bind_u64(s, 6, q->log_index) != 0 || bind_u64(s, 7, now_ms) != 0 ||
        (q->has_signature ? bind_blob(s, 8, q->signature, sizeof q->signature)
                          : sqlite3_bind_null(s, 8)) != 0) {
        done(s);
        return fail(st, "query");
    }
    int rc = step_done(st, s, "query");
    if (rc == 0)
        q->id = (uint64_t)sqlite3_last_insert_rowid(st->db);
    return rc;
}

/* A malloc'd copy of a blob column of exactly n bytes. */
static int column_blob_copy(sqlite3_stmt *s, int i, size_t n, uint8_t **out)
{
    const void *v = sqlite3_column_blob(s, i);
    if (v == NULL || sqlite3_column_bytes(s, i) < 0 || (size_t)sqlite3_column_bytes(s, i) != n)
        return -1;
    *out = malloc(n > 0 ? n : 1);
    if (*out == NULL)
        return -1;
    memcpy(*out, v, n);
    return 0;
}

static int query_row(sqlite3_stmt *s, struct psi_store_query *q)
{
    memset(q, 0, sizeof *q);
    q->id = column_u64(s, 0);
    q->count = column_u64(s, 4);
    q->log_index = column_u64(s, 5);
    q->answered = sqlite3_column_type(s, 6) != SQLITE_NULL;
    /* A signature of another length (a store written by hand) is relayed as
     * none: the vendor's agent refuses the batch either way. */
    q->has_signature = sqlite3_column_type(s, 7) == SQLITE_BLOB &&
                       column_blob(s, 7, q->signature, sizeof q->signature) == 0;
    return column_text(s, 1, q->agency, sizeof q->agency) != 0 ||
                   column_text(s, 2, q->vendor, sizeof q->vendor) != 0 ||
                   column_text(s, 3, q->epoch, sizeof q->epoch) != 0 ||
                   q->count > SIZE_MAX / PSI_STORE_ELEMENT_BYTES
               ? -1
               : 0;
}

static int query_get(struct psi_txn *t, uint64_t id, struct psi_store_query *out,
                     uint8_t **elements, uint8_t **evaluated,
                     unsigned char proof[PSI_STORE_PROOF_BYTES])
{
    struct psi_store *st = t->store;
    if (elements != NULL)
        *elements = NULL;
    if (evaluated != NULL)
        *evaluated = NULL;
    sqlite3_stmt *s = prepare(st, S_QUERY_GET);
    if (s == NULL)
        return PSI_ERR_STORE;
    int rc;
    if (bind_u64(s, 1, id) != 0) {
        rc = fail(st, "query");
    } else if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        rc = 0;
        if (query_row(s, out) != 0)
            rc = fail(st, "query");
        size_t bytes = (size_t)out->count * PSI_STORE_ELEMENT_BYTES;
        if (rc == 0 && elements != NULL && column_blob_copy(s, 8, bytes, elements) != 0)
            rc = fail(st, "query elements");
        if (rc == 0 && out->answered && evaluated != NULL &&
            (column_blob_copy(s, 9, bytes, evaluated) != 0 ||
             (proof != NULL && column_blob(s, 10, proof, PSI_STORE_PROOF_BYTES) != 0)))
            rc = fail(st, "query answer");
    } else {
        rc = rc == SQLITE_DONE ? PSI_ERR_NOT_FOUND : fail(st, "query");
    }
    done(s);
    if (rc != 0) {
        if (elements != NULL) {
            free(*elements);
            *elements = NULL;
        }
        if (evaluated != NULL) {
            free(*evaluated);
            *evaluated = NULL;
        }
    }
    return rc;
}

static int query_pending(struct psi_txn *t, const char *vendor,
                         int (*fn)(void *ctx, const struct psi_store_query *q), void *ctx)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_QUERY_PENDING);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, vendor) != 0) {
        done(s);
        return fail(st, "query");
    }
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct psi_store_query q;
        if (query_row(s, &q) != 0) {
            ret = fail(st, "query");
            break;
        }
        if ((ret = fn(ctx, &q)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(st, "query");
    done(s);
    return ret;
}

static int query_answer(struct psi_txn *t, uint64_t id, const uint8_t *evaluated,
                        const unsigned char proof[PSI_STORE_PROOF_BYTES], uint64_t now_ms)
{
    struct psi_store *st = t->store;
    uint64_t count = 0;
    sqlite3_stmt *s = prepare(st, S_QUERY_COUNT);
    if (s == NULL)
        return PSI_ERR_STORE;
    int rc;
    if (bind_u64(s, 1, id) != 0)
        rc = fail(st, "query");
    else if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        count = column_u64(s, 0);
        rc = 0;
    } else
        rc = rc == SQLITE_DONE ? PSI_ERR_NOT_FOUND : fail(st, "query");
    done(s);
    if (rc != 0)
        return rc;
    if (count > SIZE_MAX / PSI_STORE_ELEMENT_BYTES)
        return fail(st, "query");
    s = prepare(st, S_QUERY_ANSWER);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_u64(s, 1, id) != 0 ||
        bind_blob(s, 2, evaluated, (size_t)count * PSI_STORE_ELEMENT_BYTES) != 0 ||
        bind_blob(s, 3, proof, PSI_STORE_PROOF_BYTES) != 0 || bind_u64(s, 4, now_ms) != 0) {
        done(s);
        return fail(st, "query answer");
    }
    rc = step_done(st, s, "query answer");
    if (rc == 0 && sqlite3_changes(st->db) != 1)
        rc = PSI_ERR_EXISTS; /* answered already */
    return rc;
}

/* ---------------------------------------------------------------- retention and backup */

static int epoch_usage(struct psi_store *st, const char *epoch, struct psi_store_epoch_usage *u)
{
    sqlite3_stmt *s = prepare(st, S_EPOCH_USAGE);
    if (s == NULL || bind_text(s, 1, epoch) != 0)
        return s ? (done(s), fail(st, "epoch usage")) : PSI_ERR_STORE;
    int ret = 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        uint64_t *field[] = {&u->submissions, &u->elements,  &u->crossblinds, &u->tags,
                             &u->matches,     &u->feed_keys, &u->feeds,       &u->queries};
        for (int i = 0; i < (int)(sizeof field / sizeof field[0]); i++)
            *field[i] = column_u64(s, i);
    } else {
        ret = fail(st, "epoch usage");
    }
    done(s);
    return ret;
}

static int epoch_list(struct psi_txn *t, psi_store_epoch_fn fn, void *ctx)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_EPOCH_LIST);
    if (s == NULL)
        return PSI_ERR_STORE;
    int rc, ret = 0;
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct psi_store_epoch_usage u;
        memset(&u, 0, sizeof u);
        if (column_text(s, 0, u.epoch, sizeof u.epoch) != 0) {
            ret = PSI_ERR_TOO_LARGE;
            break;
        }
        u.last_ms = column_u64(s, 1);
        ret = epoch_usage(st, u.epoch, &u);
        if (ret == 0)
            ret = fn(ctx, &u);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(st, "epoch list");
    done(s);
    return ret;
}

static int epoch_prune(struct psi_txn *t, const char *epoch, struct psi_store_epoch_usage *removed)
{
    struct psi_store *st = t->store;
    static const enum stmt_id order[] = {
        S_PRUNE_OVERLAP,    S_PRUNE_TAG,        S_PRUNE_TAG_PAIR, S_PRUNE_CROSSBLIND, S_PRUNE_BLOCK,
        S_PRUNE_SUBMISSION, S_PRUNE_FEED_BLOCK, S_PRUNE_FEED,     S_PRUNE_FEED_KEY,   S_PRUNE_QUERY,
    };
    memset(removed, 0, sizeof *removed);
    if (strlen(epoch) > PSI_STORE_EPOCH_MAX)
        return PSI_ERR_INVALID;
    memcpy(removed->epoch, epoch, strlen(epoch) + 1);
    int rc = epoch_usage(st, epoch, removed);
    for (size_t i = 0; rc == 0 && i < sizeof order / sizeof order[0]; i++) {
        sqlite3_stmt *s = prepare(st, order[i]);
        if (s == NULL)
            return PSI_ERR_STORE;
        if (bind_text(s, 1, epoch) != 0) {
            done(s);
            return fail(st, "prune");
        }
        rc = step_done(st, s, "prune");
    }
    return rc;
}

static int store_disk_bytes(struct psi_store *st, uint64_t *bytes)
{
    const char *path = sqlite3_db_filename(st->db, "main");
    if (path == NULL || path[0] == '\0') {
        snprintf(st->error, sizeof st->error, "the store has no file");
        return PSI_ERR_STORE;
    }
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(st->error, sizeof st->error, "cannot look at %s: %s", path, strerror(errno));
        return PSI_ERR_STORE;
    }
    *bytes = (uint64_t)sb.st_size;
    if (stat(wal, &sb) == 0)
        *bytes += (uint64_t)sb.st_size;
    return 0;
}

/* Copies the WAL into the file and truncates it. A TRUNCATE checkpoint
 * keeps the hub's writers out while it waits for its readers, so each try
 * waits at most CHECKPOINT_WAIT_MS for them, and writers get their turn
 * between tries. Readers or the hub's own checkpoint may keep it from
 * finishing (SQLITE_BUSY, or frames left): tried again a few times; what is
 * left then goes with the hub's own next checkpoints. */
#define CHECKPOINT_TRIES 10
#define CHECKPOINT_WAIT_MS 1000
#define CHECKPOINT_PAUSE_MS 100

static int checkpoint_truncate(struct psi_store *st)
{
    int ret = 0;
    sqlite3_busy_timeout(st->db, CHECKPOINT_WAIT_MS);
    for (int i = 0; i < CHECKPOINT_TRIES; i++) {
        int log = -1, done_frames = -1;
        int rc =
            sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done_frames);
        if (rc == SQLITE_OK && log == 0)
            break;
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
            ret = fail(st, "checkpoint");
            break;
        }
        sqlite3_sleep(CHECKPOINT_PAUSE_MS);
    }
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    return ret;
}

/* A full VACUUM: the stores were made with auto_vacuum off, which only a
 * VACUUM can change, and an incremental vacuum would leave the remaining
 * pages as scattered as the deletes left them. In WAL mode the VACUUM writes
 * the new file into the WAL; the checkpoints before and after copy it back
 * and truncate the WAL, so the space comes back to the file system. */
static int store_compact(struct psi_store *st)
{
    int rc = checkpoint_truncate(st);
    if (rc == 0 && sqlite3_exec(st->db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK)
        rc = fail(st, "compact");
    if (rc == 0)
        rc = checkpoint_truncate(st);
    return rc;
}

/* Pages copied per step of the online backup (4 MiB at SQLite's default
 * page size). */
#define BACKUP_STEP_PAGES 1024

/* SQLite's online backup, from inside one read transaction: the copy is the
 * snapshot that transaction sees, and in WAL mode the hub's writers go on
 * beside it (a backup stepped without it would restart whenever another
 * connection writes). The copy is written to PATH.partial and renamed, so a
 * file at path is always a whole backup. */
static int store_backup(struct psi_store *st, const char *path, char *err, size_t errlen)
{
    char partial[4200];
    int n = snprintf(partial, sizeof partial, "%s.partial", path);
    if (n < 0 || (size_t)n >= sizeof partial) {
        snprintf(err, errlen, "backup path too long");
        return PSI_ERR_TOO_LARGE;
    }
    struct stat sb;
    if (stat(path, &sb) == 0) {
        snprintf(err, errlen, "%s exists already", path);
        return PSI_ERR_EXISTS;
    }
    unlink(partial); /* left by a backup that was interrupted */
    int fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", partial, strerror(errno));
        return PSI_ERR_IO;
    }
    close(fd);
    sqlite3 *dest = NULL;
    int ret = 0;
    if (sqlite3_open_v2(partial, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", partial,
                 dest ? sqlite3_errmsg(dest) : "out of memory");
        ret = PSI_ERR_IO;
        goto out;
    }
    sqlite3_busy_timeout(dest, BUSY_TIMEOUT_MS);
    /* The read transaction that fixes the snapshot; a statement starts it. */
    if (sqlite3_exec(st->db, "BEGIN DEFERRED; SELECT count(*) FROM meta;", NULL, NULL, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot read the store: %s", sqlite3_errmsg(st->db));
        ret = PSI_ERR_STORE;
        goto out;
    }
    sqlite3_backup *b = sqlite3_backup_init(dest, "main", st->db, "main");
    if (b == NULL) {
        snprintf(err, errlen, "cannot start the backup: %s", sqlite3_errmsg(dest));
        ret = PSI_ERR_STORE;
    } else {
        int rc;
        while ((rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES)) == SQLITE_OK || rc == SQLITE_BUSY ||
               rc == SQLITE_LOCKED)
            if (rc != SQLITE_OK)
                sqlite3_sleep(10);
        if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE) {
            snprintf(err, errlen, "the backup failed: %s", sqlite3_errmsg(dest));
            ret = PSI_ERR_STORE;
        }
    }
    store_rollback(st);
out:
    if (dest != NULL && sqlite3_close(dest) != SQLITE_OK && ret == 0) {
        snprintf(err, errlen, "cannot close %s", partial);
        ret = PSI_ERR_IO;
    }
    if (ret == 0 && (fd = open(partial, O_RDONLY | O_CLOEXEC)) >= 0) {
        if (fsync(fd) != 0) {
            snprintf(err, errlen, "cannot sync %s: %s", partial, strerror(errno));
            ret = PSI_ERR_IO;
        }
        close(fd);
    }
    if (ret == 0 && rename(partial, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", partial, path, strerror(errno));
        ret = PSI_ERR_IO;
    }
    if (ret != 0)
        unlink(partial);
    return ret;
}

/* ---------------------------------------------------------------- the operator's view */

static int usage(struct psi_txn *t, struct psi_store_usage *out)
{
    struct psi_store *st = t->store;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = prepare(st, S_USAGE);
    if (s == NULL)
        return PSI_ERR_STORE;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        rc = fail(st, "usage");
        done(s);
        return rc;
    }
    out->elements = column_u64(s, 0);
    out->tags = column_u64(s, 1);
    out->matches = column_u64(s, 2);
    out->bytes = column_u64(s, 3);
    done(s);
    /* and the WAL as it stands: the space between checkpoints is the
     * operator's too (a busy hub's WAL grows to tens of MB) */
    const char *file = sqlite3_db_filename(st->db, "main");
    char wal[4200];
    struct stat info;
    if (file != NULL && file[0] != '\0' &&
        (size_t)snprintf(wal, sizeof wal, "%s-wal", file) < sizeof wal && stat(wal, &info) == 0 &&
        info.st_size > 0)
        out->bytes += (uint64_t)info.st_size;
    return 0;
}

static int overlap_counts(struct psi_txn *t, const char *epoch, psi_store_overlap_fn fn, void *ctx)
{
    struct psi_store *st = t->store;
    sqlite3_stmt *s = prepare(st, S_OVERLAP_COUNTS);
    if (s == NULL)
        return PSI_ERR_STORE;
    if (bind_text(s, 1, epoch) != 0) {
        done(s);
        return fail(st, "overlap");
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char owner[PSI_STORE_ID_MAX + 1], peer[PSI_STORE_ID_MAX + 1];
        if (column_text(s, 0, owner, sizeof owner) != 0 ||
            column_text(s, 1, peer, sizeof peer) != 0) {
            done(s);
            return fail(st, "overlap");
        }
        int stop = fn(ctx, owner, peer, column_u64(s, 2));
        if (stop != 0) {
            done(s);
            return stop;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = fail(st, "overlap");
        done(s);
        return rc;
    }
    done(s);
    return 0;
}

const struct psi_store_ops psi_store_sqlite_ops = {
    .backend = "sqlite",
    .several_front_ends = 0,
    .create = store_create,
    .open = store_open,
    .close = store_close,
    .destroy = store_destroy,
    .last_error = store_last_error,
    .begin = store_begin,
    .commit = store_commit,
    .rollback = store_rollback,
    .mark = store_mark,
    .undo_to_mark = store_undo_to_mark,
    .meta_get = meta_get,
    .meta_set = meta_set,
    .participant_get = participant_get,
    .participant_add = participant_add,
    .participant_set_policy = participant_set_policy,
    .participant_remove = participant_remove,
    .participant_list = participant_list,
    .participant_set_admit_index = participant_set_admit_index,
    .party_policy_put = party_policy_put,
    .element_quota_set = element_quota_set,
    .element_quota_get = element_quota_get,
    .nonce_record = nonce_record,
    .refusal_budget_take = refusal_budget_take,
    .reply_get = reply_get,
    .reply_put = reply_put,
    .forget_older = forget_older,
    .staging_size = staging_size,
    .staging_read = staging_read,
    .staging_append = staging_append,
    .staging_drop = staging_drop,
    .positions_in_epoch = positions_in_epoch,
    .submission_add = submission_add,
    .submission_get = submission_get,
    .submission_list = submission_list,
    .elements_read = elements_read,
    .work_list = work_list,
    .work_status = work_status,
    .crossblind_add = crossblind_add,
    .results = results,
    .log_head_get = log_head_get,
    .log_head_put = log_head_put,
    .log_entry_put = log_entry_put,
    .log_entry_get = log_entry_get,
    .log_hash_put = log_hash_put,
    .log_hash_get = log_hash_get,
    .feed_key_put = feed_key_put,
    .feed_key_get = feed_key_get,
    .feed_put = feed_put,
    .feed_get = feed_get,
    .feed_read = feed_read,
    .quota_set = quota_set,
    .quota_get = quota_get,
    .queries_used = queries_used,
    .query_add = query_add,
    .query_get = query_get,
    .query_pending = query_pending,
    .query_answer = query_answer,
    .epoch_list = epoch_list,
    .epoch_prune = epoch_prune,
    .disk_bytes = store_disk_bytes,
    .compact = store_compact,
    .backup = store_backup,
    .usage = usage,
    .overlap_counts = overlap_counts,
};
