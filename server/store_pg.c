/*
 * The PostgreSQL store backend (libpq): the hub's state in a database server,
 * so that several psi-hub processes ("front-ends") serve one hub at once.
 *
 * What it promises, beyond store.h:
 * - Everything lives in the schema "psi" of the database the location names;
 *   create makes that schema (refusing one that exists), destroy drops it.
 * - Every connection sets synchronous_commit on: a commit is on the server's
 *   disk (WAL flushed) before the hub answers.
 * - PSI_TXN_WRITE is an ordinary READ COMMITTED transaction: no global write
 *   lock, so independent requests of any front-end run side by side. Where
 *   two writers must not interleave, the operation takes a transaction-level
 *   advisory lock on what they share (lock_key), always before it reads what
 *   it then relies on, in a statement of its own, so that the read's
 *   snapshot (READ COMMITTED: taken per statement) is newer than the commit
 *   of the lock's previous holder:
 *     the log head (log_head_get in a write transaction): one appender at a
 *       time, so the log is one sequence whichever front-end appends;
 *     a reply (reply_get in a write transaction, per sender and request id):
 *       a retry that lands on another front-end while the first attempt is
 *       still running waits for it and then finds its stored reply;
 *     an owner's positions in an epoch (positions_in_epoch): submissions of
 *       one owner get disjoint position ranges;
 *     a pair of an epoch (crossblind_add, per unordered pair): see there;
 *     an agency's queries of a vendor in an epoch (queries_used), the
 *       refusal budget of a participant, the creation of a tag partition.
 *   Unique keys do the rest: a nonce recorded twice, at once on two
 *   front-ends, is inserted once (the second insert waits for the first
 *   transaction and then finds the row: PSI_ERR_REPLAY).
 * - PSI_TXN_READ is REPEATABLE READ, READ ONLY: one snapshot for the whole
 *   read, as SQLite's WAL snapshot gives.
 * - The tag table is partitioned by epoch (one partition per epoch label,
 *   made on first use and listed in tag_partition), so forgetting an epoch's
 *   tags is dropping its partition.
 * - Each connection prepares a statement once, on first use (STMT_SQL), and
 *   reconnects when the server went away (checked when a transaction
 *   begins; the transaction in progress then is lost, never half-applied).
 *
 * The schema's history is one numbered list (MIGRATIONS, recorded in
 * psi.schema_version). Statements raise no constraint error the hub expects
 * (a failed statement would abort the whole PostgreSQL transaction): inserts
 * that may meet an existing key say ON CONFLICT DO NOTHING and the row count
 * tells. This file and store_sqlite.c are the only ones that know SQL.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "psi/error.h"
#include "store.h"
#include "store_pg.h"

#define BLOCK_ELEMENTS 16384u
#define FEED_BLOCK_BYTES ((uint64_t)1 << 20)
#define MAX_PARAMS 12

/* ---------------------------------------------------------------- the schema */

/* "a allows b": the effective policy (store.h), as store_sqlite.c states it. */
#define ALLOWS(a_id, a_all, b_id)                                                                  \
    "((" a_all " = 1 OR EXISTS (SELECT 1 FROM share sh WHERE sh.owner = " a_id                     \
    " AND sh.peer = " b_id ")) AND NOT EXISTS (SELECT 1 FROM party_policy pp"                      \
    " WHERE pp.id = " a_id " AND pp.share_all = 0 AND NOT EXISTS (SELECT 1 FROM party_share ps"    \
    " WHERE ps.owner = " a_id " AND ps.peer = " b_id ")))"

/* 1: the first PostgreSQL store: the SQLite schema at its version 6, with
 * bytea for blobs, bigint for ids and positions, and the tag table
 * partitioned by epoch. */
static const char SCHEMA_V1_ROSTER[] =
    "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE participant ("
    "  id text PRIMARY KEY,"
    "  role text NOT NULL CHECK (role IN ('agency', 'vendor', 'auditor')),"
    "  public_key bytea NOT NULL CHECK (length(public_key) = 32),"
    "  share_all integer NOT NULL, contribute_only integer NOT NULL,"
    "  removed integer NOT NULL DEFAULT 0, admitted_ms bigint NOT NULL, admit_index bigint);"
    "CREATE TABLE share (owner text NOT NULL REFERENCES participant(id), peer text NOT NULL,"
    "  PRIMARY KEY (owner, peer));"
    "CREATE TABLE party_policy ("
    "  id text PRIMARY KEY REFERENCES participant(id), issued_ms bigint NOT NULL,"
    "  share_all integer NOT NULL, contribute_only integer NOT NULL,"
    "  signature bytea NOT NULL, log_index bigint NOT NULL, created_ms bigint NOT NULL);"
    "CREATE TABLE party_share (owner text NOT NULL REFERENCES participant(id),"
    "  peer text NOT NULL, PRIMARY KEY (owner, peer));"
    "CREATE TABLE element_quota (participant text PRIMARY KEY REFERENCES participant(id),"
    "  max_elements bigint NOT NULL CHECK (max_elements >= 0));"
    "CREATE TABLE nonce (sender text NOT NULL, nonce bytea NOT NULL,"
    "  timestamp_ms bigint NOT NULL, PRIMARY KEY (sender, nonce));"
    "CREATE INDEX nonce_age ON nonce(timestamp_ms);"
    "CREATE TABLE refusal_budget (participant text PRIMARY KEY,"
    "  window_start_ms bigint NOT NULL, used bigint NOT NULL);"
    "CREATE TABLE reply (sender text NOT NULL, request_id bytea NOT NULL,"
    "  method text NOT NULL, body bytea NOT NULL, created_ms bigint NOT NULL,"
    "  PRIMARY KEY (sender, request_id));"
    "CREATE INDEX reply_age ON reply(created_ms);";
static const char SCHEMA_V1_WORK[] =
    "CREATE TABLE upload (sender text NOT NULL, upload_id bytea NOT NULL,"
    "  received bigint NOT NULL, touched_ms bigint NOT NULL, PRIMARY KEY (sender, upload_id));"
    "CREATE TABLE upload_chunk (sender text NOT NULL, upload_id bytea NOT NULL,"
    "  start bigint NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (sender, upload_id, start));"
    "CREATE TABLE submission ("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  owner text NOT NULL REFERENCES participant(id), epoch text NOT NULL,"
    "  count bigint NOT NULL, position_base bigint NOT NULL, digest bytea NOT NULL,"
    "  signature bytea NOT NULL, created_ms bigint NOT NULL);"
    "CREATE INDEX submission_epoch ON submission(epoch, owner);"
    "CREATE TABLE element_block (submission_id bigint NOT NULL REFERENCES submission(id),"
    "  block bigint NOT NULL, elements bytea NOT NULL, PRIMARY KEY (submission_id, block));"
    "CREATE TABLE crossblind ("
    "  submission_id bigint NOT NULL REFERENCES submission(id),"
    "  blinder text NOT NULL REFERENCES participant(id),"
    "  count bigint NOT NULL, tag_digest bytea NOT NULL, signature bytea NOT NULL,"
    "  created_ms bigint NOT NULL, PRIMARY KEY (submission_id, blinder));"
    /* tag: the tag of owner's position under blinder's key, one partition
     * per epoch (tag_partition lists them). One index, the join's: a
     * position is written once because its batch is (the crossblind key)
     * and positions are owned by one submission (positions_in_epoch), so a
     * primary key would only double the bytes of every tag. */
    "CREATE TABLE tag (epoch text NOT NULL, owner text NOT NULL, blinder text NOT NULL,"
    "  position bigint NOT NULL, tag bytea NOT NULL) PARTITION BY LIST (epoch);"
    "CREATE INDEX tag_join ON tag(epoch, owner, blinder, tag);"
    "CREATE TABLE tag_partition (epoch text PRIMARY KEY, name text NOT NULL UNIQUE);"
    "CREATE TABLE overlap (epoch text NOT NULL, owner text NOT NULL,"
    "  position bigint NOT NULL, peer text NOT NULL,"
    "  PRIMARY KEY (epoch, owner, position, peer));";
static const char SCHEMA_V1_LOG[] =
    "CREATE TABLE log_entry (idx bigint PRIMARY KEY CHECK (idx >= 0), entry bytea NOT NULL);"
    "CREATE TABLE log_hash (level integer NOT NULL CHECK (level BETWEEN 0 AND 63),"
    "  idx bigint NOT NULL, hash bytea NOT NULL CHECK (length(hash) = 32),"
    "  PRIMARY KEY (level, idx));"
    "CREATE TABLE log_head (singleton integer PRIMARY KEY CHECK (singleton = 1),"
    "  size bigint NOT NULL, frontier bytea NOT NULL, checkpoint text NOT NULL);"
    "CREATE FUNCTION log_kept() RETURNS trigger LANGUAGE plpgsql AS"
    "  'BEGIN RAISE EXCEPTION ''the audit log is never rewritten''; END';"
    "CREATE TRIGGER log_entry_kept BEFORE UPDATE OR DELETE ON log_entry"
    "  FOR EACH ROW EXECUTE FUNCTION log_kept();"
    "CREATE TRIGGER log_hash_kept BEFORE UPDATE OR DELETE ON log_hash"
    "  FOR EACH ROW EXECUTE FUNCTION log_kept();";
static const char SCHEMA_V1_FEEDS[] =
    "CREATE TABLE feed_key (vendor text NOT NULL, epoch text NOT NULL,"
    "  public_key bytea NOT NULL, signature bytea NOT NULL, log_index bigint NOT NULL,"
    "  created_ms bigint NOT NULL, PRIMARY KEY (vendor, epoch));"
    "CREATE TABLE feed (vendor text NOT NULL, epoch text NOT NULL, count bigint NOT NULL,"
    "  rate double precision NOT NULL, size bigint NOT NULL, digest bytea NOT NULL,"
    "  signature bytea NOT NULL, created_ms bigint NOT NULL, PRIMARY KEY (vendor, epoch));"
    "CREATE TABLE feed_block (vendor text NOT NULL, epoch text NOT NULL, block bigint NOT NULL,"
    "  bytes bytea NOT NULL, PRIMARY KEY (vendor, epoch, block));"
    "CREATE TABLE quota (agency text NOT NULL, vendor text NOT NULL,"
    "  max_queries bigint NOT NULL CHECK (max_queries >= 0), PRIMARY KEY (agency, vendor));"
    "CREATE TABLE query ("
    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  agency text NOT NULL, vendor text NOT NULL, epoch text NOT NULL,"
    "  count bigint NOT NULL CHECK (count > 0), elements bytea NOT NULL,"
    "  log_index bigint NOT NULL, created_ms bigint NOT NULL,"
    "  evaluated bytea, proof bytea, answered_ms bigint, signature bytea);"
    "CREATE INDEX query_pending ON query(vendor, answered_ms, id);"
    "CREATE INDEX query_usage ON query(agency, vendor, epoch);";

/* 2: the blocks of points (elements, evaluated queries) and of feed filters
 * are stored as they are, never compressed: they are random bytes, which
 * compression only costs time on, and the space a store reports is then the
 * space they take. */
static const char SCHEMA_V2_UNCOMPRESSED[] =
    "ALTER TABLE element_block ALTER COLUMN elements SET STORAGE EXTERNAL;"
    "ALTER TABLE feed_block ALTER COLUMN bytes SET STORAGE EXTERNAL;"
    "ALTER TABLE query ALTER COLUMN elements SET STORAGE EXTERNAL,"
    "  ALTER COLUMN evaluated SET STORAGE EXTERNAL;";

static const struct {
    int version;
    const char *about;
    const char *sql[4]; /* run in order; NULL ends */
} MIGRATIONS[] = {
    {1,
     "the first PostgreSQL store",
     {SCHEMA_V1_ROSTER, SCHEMA_V1_WORK, SCHEMA_V1_LOG, SCHEMA_V1_FEEDS}},
    {2, "point and filter blocks uncompressed", {SCHEMA_V2_UNCOMPRESSED}},
};

#define MIGRATION_COUNT (sizeof MIGRATIONS / sizeof MIGRATIONS[0])

_Static_assert(PSI_STORE_PG_SCHEMA_VERSION == 2, "the last migration is the current version");

/* ---------------------------------------------------------------- statements */

/* The space of the store: the files of the schema psi's tables and
 * indexes, with the TOAST tables (and their indexes) that hold the tables'
 * large values; not pg_database_size, for the database may hold other
 * schemas and its catalogs are not the hub's. Only each relation's data
 * (its main fork): the free-space and visibility maps, a few pages a table
 * that VACUUM makes, are PostgreSQL's bookkeeping, and counting them would
 * make a compacted store look larger than before. The server's WAL is the
 * cluster's and not counted either. */
#define STORE_BYTES_SQL                                                                            \
    "SELECT coalesce(sum(pg_relation_size(r.oid)), 0)::bigint FROM pg_class r WHERE r.oid IN ("    \
    " SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"                  \
    "  WHERE n.nspname = 'psi' AND c.relkind IN ('r', 'i')"                                        \
    " UNION ALL SELECT c.reltoastrelid FROM pg_class c"                                            \
    "  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'psi'"                      \
    " UNION ALL SELECT i.indexrelid FROM pg_index i JOIN pg_class c ON c.reltoastrelid = "         \
    "i.indrelid"                                                                                   \
    "  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'psi')"

enum stmt_id {
    S_LOCK,
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
    S_PARTITION_GET,
    S_PARTITION_LAST,
    S_PARTITION_ADD,
    S_TAG_ADD,
    S_JOIN_OWNER,
    S_JOIN_PEER,
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
    S_QUERY_ANSWER,
    S_EPOCH_LIST,
    S_EPOCH_USAGE,
    S_PRUNE_OVERLAP,
    S_PRUNE_CROSSBLIND,
    S_PRUNE_BLOCK,
    S_PRUNE_SUBMISSION,
    S_PRUNE_FEED_BLOCK,
    S_PRUNE_FEED,
    S_PRUNE_FEED_KEY,
    S_PRUNE_QUERY,
    S_PARTITION_FORGET,
    S_USAGE,
    S_OVERLAP_COUNTS,
    S_COUNT
};

static const char *const STMT_SQL[S_COUNT] = {
    /* A transaction-level advisory lock on a name (see the top). */
    [S_LOCK] = "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))",
    [S_META_GET] = "SELECT value FROM meta WHERE key = $1",
    [S_META_SET] = "INSERT INTO meta(key, value) VALUES ($1, $2)"
                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [S_PART_GET] = "SELECT id, role, public_key, removed, share_all, contribute_only,"
                   " admit_index FROM participant WHERE id = $1",
    [S_PART_SHARES] = "SELECT peer FROM share WHERE owner = $1 ORDER BY peer COLLATE \"C\"",
    [S_PART_ADD] = "INSERT INTO participant(id, role, public_key, share_all, contribute_only,"
                   " removed, admitted_ms) VALUES ($1, $2, $3, $4::integer, $5::integer, 0, $6)"
                   " ON CONFLICT (id) DO NOTHING",
    [S_SHARE_ADD] = "INSERT INTO share(owner, peer) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [S_SHARE_CLEAR] = "DELETE FROM share WHERE owner = $1",
    [S_PART_POLICY] = "UPDATE participant SET share_all = $2::integer,"
                      " contribute_only = $3::integer WHERE id = $1",
    [S_PART_REMOVE] = "UPDATE participant SET removed = 1 WHERE id = $1",
    [S_PART_LIST] = "SELECT id FROM participant ORDER BY id COLLATE \"C\"",
    [S_PART_ADMIT_INDEX] = "UPDATE participant SET admit_index = $2::bigint WHERE id = $1",
    [S_PARTY_GET] = "SELECT issued_ms, share_all, contribute_only, signature, log_index"
                    " FROM party_policy WHERE id = $1",
    [S_PARTY_SHARES] = "SELECT peer FROM party_share WHERE owner = $1 ORDER BY peer COLLATE \"C\"",
    [S_PARTY_PUT] = "INSERT INTO party_policy(id, issued_ms, share_all, contribute_only,"
                    " signature, log_index, created_ms)"
                    " SELECT $1, $2::bigint, $3::integer, $4::integer, $5::bytea, $6::bigint,"
                    " $7::bigint WHERE EXISTS (SELECT 1 FROM participant WHERE id = $1)"
                    " ON CONFLICT (id) DO UPDATE SET issued_ms = excluded.issued_ms,"
                    " share_all = excluded.share_all, contribute_only = excluded.contribute_only,"
                    " signature = excluded.signature, log_index = excluded.log_index,"
                    " created_ms = excluded.created_ms",
    [S_PARTY_SHARE_CLEAR] = "DELETE FROM party_share WHERE owner = $1",
    [S_PARTY_SHARE_ADD] = "INSERT INTO party_share(owner, peer) VALUES ($1, $2)"
                          " ON CONFLICT DO NOTHING",
    [S_NONCE_ADD] = "INSERT INTO nonce(sender, nonce, timestamp_ms) VALUES ($1, $2, $3)"
                    " ON CONFLICT DO NOTHING",
    /* Forgetting skips rows another writer is forgetting at the moment:
     * requests never wait on each other's housekeeping. */
    [S_NONCE_FORGET] = "DELETE FROM nonce WHERE (sender, nonce) IN (SELECT sender, nonce"
                       " FROM nonce WHERE timestamp_ms < $1 FOR UPDATE SKIP LOCKED)",
    [S_REFUSAL_GET] = "SELECT window_start_ms, used FROM refusal_budget WHERE participant = $1",
    [S_REFUSAL_SET] = "INSERT INTO refusal_budget(participant, window_start_ms, used)"
                      " VALUES ($1, $2, $3) ON CONFLICT (participant) DO UPDATE"
                      " SET window_start_ms = excluded.window_start_ms, used = excluded.used",
    [S_REPLY_GET] = "SELECT method, body FROM reply WHERE sender = $1 AND request_id = $2",
    [S_REPLY_PUT] = "INSERT INTO reply(sender, request_id, method, body, created_ms)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    [S_REPLY_FORGET] = "DELETE FROM reply WHERE (sender, request_id) IN (SELECT sender,"
                       " request_id FROM reply WHERE created_ms < $1 FOR UPDATE SKIP LOCKED)",
    [S_UPLOAD_FORGET_CHUNKS] = "DELETE FROM upload_chunk c USING (SELECT sender, upload_id"
                               " FROM upload WHERE touched_ms < $1 FOR UPDATE SKIP LOCKED) u"
                               " WHERE u.sender = c.sender AND u.upload_id = c.upload_id",
    [S_UPLOAD_FORGET] = "DELETE FROM upload WHERE (sender, upload_id) IN (SELECT sender,"
                        " upload_id FROM upload WHERE touched_ms < $1 FOR UPDATE SKIP LOCKED)",
    [S_UPLOAD_SIZE] = "SELECT received FROM upload WHERE sender = $1 AND upload_id = $2",
    [S_UPLOAD_TOTAL] = "SELECT coalesce(sum(received), 0)::bigint FROM upload WHERE sender = $1",
    [S_UPLOAD_READ] = "SELECT start, bytes FROM upload_chunk"
                      " WHERE sender = $1 AND upload_id = $2 AND start < $4::bigint"
                      " AND start + length(bytes) > $3::bigint ORDER BY start",
    [S_UPLOAD_TOUCH] = "INSERT INTO upload(sender, upload_id, received, touched_ms)"
                       " VALUES ($1, $2, $3, $4) ON CONFLICT (sender, upload_id) DO UPDATE"
                       " SET received = excluded.received, touched_ms = excluded.touched_ms",
    [S_UPLOAD_CHUNK_ADD] = "INSERT INTO upload_chunk(sender, upload_id, start, bytes)"
                           " VALUES ($1, $2, $3, $4)",
    [S_UPLOAD_DROP_CHUNKS] = "DELETE FROM upload_chunk WHERE sender = $1 AND upload_id = $2",
    [S_UPLOAD_DROP] = "DELETE FROM upload WHERE sender = $1 AND upload_id = $2",
    [S_POSITIONS] = "SELECT coalesce(sum(count), 0)::bigint FROM submission"
                    " WHERE owner = $1 AND epoch = $2",
    [S_SUBMISSION_ADD] = "INSERT INTO submission(owner, epoch, count, position_base, digest,"
                         " signature, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                         " RETURNING id",
    [S_BLOCK_ADD] = "INSERT INTO element_block(submission_id, block, elements)"
                    " VALUES ($1, $2, $3)",
    [S_SUBMISSION_GET] = "SELECT id, owner, epoch, count, position_base, digest, signature"
                         " FROM submission WHERE id = $1",
    [S_SUBMISSION_LIST] = "SELECT id, owner, epoch, count, position_base, digest, signature"
                          " FROM submission WHERE owner = $1 AND epoch = $2 ORDER BY id",
    [S_BLOCK_GET] = "SELECT elements FROM element_block WHERE submission_id = $1 AND block = $2",
    [S_WORK_LIST] =
        "SELECT s.id, s.owner, s.epoch, s.count, s.position_base, s.digest, s.signature"
        " FROM submission s JOIN participant p ON p.id = s.owner"
        " JOIN participant me ON me.id = $1"
        " WHERE s.epoch = $2 AND s.owner <> $1 AND p.removed = 0 AND me.removed = 0"
        " AND p.role <> 'auditor' AND me.role <> 'auditor'"
        " AND " ALLOWS("p.id", "p.share_all", "me.id") " AND " ALLOWS(
            "me.id", "me.share_all",
            "p.id") " AND NOT EXISTS (SELECT 1 FROM crossblind c WHERE c.submission_id = s.id"
                    " AND c.blinder = $1)"
                    " AND ($3::bigint = 0 OR s.id = $3::bigint)"
                    " ORDER BY s.id",
    [S_CROSSBLIND_GET] = "SELECT 1 FROM crossblind WHERE submission_id = $1 AND blinder = $2",
    [S_CROSSBLIND_ADD] = "INSERT INTO crossblind(submission_id, blinder, count, tag_digest,"
                         " signature, created_ms) SELECT $1::bigint, $2, $3::bigint, $4::bytea,"
                         " $5::bytea, $6::bigint"
                         " WHERE EXISTS (SELECT 1 FROM participant WHERE id = $2)"
                         " ON CONFLICT DO NOTHING",
    [S_PARTITION_GET] = "SELECT name FROM tag_partition WHERE epoch = $1",
    /* The greatest number of a partition's name tag_N: prune drops
     * partitions, so their count may be a number in use. */
    [S_PARTITION_LAST] = "SELECT coalesce(max(substring(name FROM 5)::bigint), 0)::bigint"
                         " FROM tag_partition",
    [S_PARTITION_ADD] = "INSERT INTO tag_partition(epoch, name) VALUES ($1, $2)",
    /* A batch's tags in one statement: $5 holds $6 tags of 16 bytes, tag k
     * of position $4 + k. */
    [S_TAG_ADD] = "INSERT INTO tag(epoch, owner, blinder, position, tag)"
                  " SELECT $1, $2, $3, $4::bigint + k,"
                  " substring($5::bytea FROM (k * 16 + 1)::integer FOR 16)"
                  " FROM generate_series(0::bigint, $6::bigint - 1) AS k",
    /* The incremental join (store_sqlite.c): the batch's tags (owner i,
     * blinder j, positions $4..$5) against j's tags under i's key.
     * The other side is looked up once per tag of the batch, by the whole
     * index key (a LATERAL subquery that OFFSET 0 keeps from being flattened
     * into a join): left to the planner, a join of a partition it believes
     * tiny (no statistics yet) became a nested loop comparing every tag of
     * the batch with every tag of the other side, 1.3-1.7 s a batch of 2,000
     * (auto_explain, bench_tags 6 x 2,000), where the lookups take
     * milliseconds whatever the statistics say. */
    [S_JOIN_OWNER] = "INSERT INTO overlap(epoch, owner, position, peer)"
                     " SELECT a.epoch, a.owner, a.position, a.blinder FROM tag a"
                     " CROSS JOIN LATERAL (SELECT 1 FROM tag b WHERE b.epoch = $1"
                     " AND b.owner = $3 AND b.blinder = $2 AND b.tag = a.tag OFFSET 0) m"
                     " WHERE a.epoch = $1 AND a.owner = $2 AND a.blinder = $3"
                     " AND a.position BETWEEN $4::bigint AND $5::bigint ON CONFLICT DO NOTHING",
    [S_JOIN_PEER] = "INSERT INTO overlap(epoch, owner, position, peer)"
                    " SELECT b.epoch, b.owner, b.position, b.blinder FROM tag a"
                    " CROSS JOIN LATERAL (SELECT b.epoch, b.owner, b.position, b.blinder"
                    " FROM tag b WHERE b.epoch = $1 AND b.owner = $3 AND b.blinder = $2"
                    " AND b.tag = a.tag OFFSET 0) b"
                    " WHERE a.epoch = $1 AND a.owner = $2 AND a.blinder = $3"
                    " AND a.position BETWEEN $4::bigint AND $5::bigint ON CONFLICT DO NOTHING",
    [S_RESULTS] = "SELECT o.position, o.peer FROM overlap o"
                  " JOIN participant p ON p.id = o.peer JOIN participant me ON me.id = $2"
                  " WHERE o.epoch = $1 AND o.owner = $2 AND p.removed = 0"
                  " AND " ALLOWS("p.id", "p.share_all", "me.id") " AND " ALLOWS(
                      "me.id", "me.share_all", "p.id") " ORDER BY o.position, o.peer COLLATE \"C\"",
    [S_LOG_HEAD_GET] = "SELECT size, frontier, checkpoint FROM log_head WHERE singleton = 1",
    [S_LOG_HEAD_PUT] = "INSERT INTO log_head(singleton, size, frontier, checkpoint)"
                       " VALUES (1, $1, $2, coalesce($3::text, ''))"
                       " ON CONFLICT (singleton) DO UPDATE SET size = excluded.size,"
                       " frontier = excluded.frontier,"
                       " checkpoint = coalesce($3::text, log_head.checkpoint)",
    [S_LOG_ENTRY_PUT] = "INSERT INTO log_entry(idx, entry) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [S_LOG_ENTRY_GET] = "SELECT entry FROM log_entry WHERE idx = $1",
    [S_LOG_HASH_PUT] = "INSERT INTO log_hash(level, idx, hash) VALUES ($1, $2, $3)"
                       " ON CONFLICT DO NOTHING",
    [S_LOG_HASH_GET] = "SELECT hash FROM log_hash WHERE level = $1 AND idx = $2",
    [S_FEED_KEY_PUT] = "INSERT INTO feed_key(vendor, epoch, public_key, signature, log_index,"
                       " created_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    [S_FEED_KEY_GET] = "SELECT public_key, signature, log_index FROM feed_key"
                       " WHERE vendor = $1 AND epoch = $2",
    [S_FEED_BLOCK_CLEAR] = "DELETE FROM feed_block WHERE vendor = $1 AND epoch = $2",
    [S_FEED_PUT] = "INSERT INTO feed(vendor, epoch, count, rate, size, digest, signature,"
                   " created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                   " ON CONFLICT (vendor, epoch) DO UPDATE SET count = excluded.count,"
                   " rate = excluded.rate, size = excluded.size, digest = excluded.digest,"
                   " signature = excluded.signature, created_ms = excluded.created_ms",
    [S_FEED_BLOCK_ADD] = "INSERT INTO feed_block(vendor, epoch, block, bytes)"
                         " VALUES ($1, $2, $3, $4)",
    [S_FEED_GET] = "SELECT count, rate, size, digest, signature FROM feed"
                   " WHERE vendor = $1 AND epoch = $2",
    [S_FEED_BLOCK_GET] = "SELECT bytes FROM feed_block"
                         " WHERE vendor = $1 AND epoch = $2 AND block = $3",
    [S_QUOTA_SET] =
        "INSERT INTO quota(agency, vendor, max_queries) VALUES ($1, $2, $3)"
        " ON CONFLICT (agency, vendor) DO UPDATE SET max_queries = excluded.max_queries",
    [S_QUOTA_GET] = "SELECT max_queries FROM quota WHERE agency = $1 AND vendor = $2",
    [S_QUERIES_USED] = "SELECT coalesce(sum(count), 0)::bigint FROM query"
                       " WHERE agency = $1 AND vendor = $2 AND epoch = $3",
    [S_ELEMENT_QUOTA_SET] = "INSERT INTO element_quota(participant, max_elements)"
                            " SELECT $1, $2::bigint"
                            " WHERE EXISTS (SELECT 1 FROM participant WHERE id = $1)"
                            " ON CONFLICT (participant)"
                            " DO UPDATE SET max_elements = excluded.max_elements",
    [S_ELEMENT_QUOTA_GET] = "SELECT max_elements FROM element_quota WHERE participant = $1",
    [S_QUERY_ADD] = "INSERT INTO query(agency, vendor, epoch, count, elements, log_index,"
                    " created_ms, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    " RETURNING id",
    [S_QUERY_GET] = "SELECT id, agency, vendor, epoch, count, log_index, answered_ms, signature,"
                    " elements, evaluated, proof FROM query WHERE id = $1",
    [S_QUERY_PENDING] = "SELECT id, agency, vendor, epoch, count, log_index, answered_ms,"
                        " signature FROM query WHERE vendor = $1 AND answered_ms IS NULL"
                        " ORDER BY id",
    [S_QUERY_ANSWER] = "UPDATE query SET evaluated = $2, proof = $3, answered_ms = $4"
                       " WHERE id = $1 AND answered_ms IS NULL"
                       " AND length($2::bytea) = count * 32",
    [S_EPOCH_LIST] = "SELECT epoch, max(at)::bigint FROM ("
                     " SELECT epoch, max(created_ms) AS at FROM submission GROUP BY epoch"
                     " UNION ALL SELECT epoch, max(created_ms) FROM feed_key GROUP BY epoch"
                     " UNION ALL SELECT epoch, max(created_ms) FROM feed GROUP BY epoch"
                     " UNION ALL SELECT epoch, max(created_ms) FROM query GROUP BY epoch) e"
                     " GROUP BY epoch ORDER BY 2 DESC, epoch COLLATE \"C\" DESC",
    [S_EPOCH_USAGE] = "SELECT (SELECT count(*) FROM submission WHERE epoch = $1),"
                      " (SELECT coalesce(sum(count), 0)::bigint FROM submission WHERE epoch = $1),"
                      " (SELECT count(*) FROM crossblind"
                      "  WHERE submission_id IN (SELECT id FROM submission WHERE epoch = $1)),"
                      /* the tags as their batches count them: reading the tag
                       * table would hold a lock on it that a partition's
                       * maker, waiting, could deadlock with (epoch_prune) */
                      " (SELECT coalesce(sum(c.count), 0)::bigint FROM crossblind c"
                      "  JOIN submission s ON s.id = c.submission_id WHERE s.epoch = $1),"
                      " (SELECT count(*) FROM overlap WHERE epoch = $1),"
                      " (SELECT count(*) FROM feed_key WHERE epoch = $1),"
                      " (SELECT count(*) FROM feed WHERE epoch = $1),"
                      " (SELECT count(*) FROM query WHERE epoch = $1)",
    /* Children before parents: the foreign keys are enforced. The tags go
     * with their partition (epoch_prune). */
    [S_PRUNE_OVERLAP] = "DELETE FROM overlap WHERE epoch = $1",
    [S_PRUNE_CROSSBLIND] = "DELETE FROM crossblind"
                           " WHERE submission_id IN (SELECT id FROM submission WHERE epoch = $1)",
    [S_PRUNE_BLOCK] = "DELETE FROM element_block"
                      " WHERE submission_id IN (SELECT id FROM submission WHERE epoch = $1)",
    [S_PRUNE_SUBMISSION] = "DELETE FROM submission WHERE epoch = $1",
    [S_PRUNE_FEED_BLOCK] = "DELETE FROM feed_block WHERE epoch = $1",
    [S_PRUNE_FEED] = "DELETE FROM feed WHERE epoch = $1",
    [S_PRUNE_FEED_KEY] = "DELETE FROM feed_key WHERE epoch = $1",
    [S_PRUNE_QUERY] = "DELETE FROM query WHERE epoch = $1",
    [S_PARTITION_FORGET] = "DELETE FROM tag_partition WHERE epoch = $1",
    /* bytes: as disk_bytes (STORE_BYTES_SQL) */
    [S_USAGE] = "SELECT (SELECT coalesce(sum(count), 0)::bigint FROM submission),"
                " (SELECT coalesce(sum(count), 0)::bigint FROM crossblind),"
                " (SELECT count(*) FROM overlap), (" STORE_BYTES_SQL ")",
    [S_OVERLAP_COUNTS] = "SELECT owner, peer, count(*) FROM overlap WHERE epoch = $1"
                         " GROUP BY owner, peer ORDER BY owner COLLATE \"C\", peer COLLATE \"C\"",
};

struct psi_store {
    PGconn *conn;
    unsigned char prepared[S_COUNT];
    enum psi_txn_kind kind;
    char error[512];
};

/* ---------------------------------------------------------------- parameters */

/* The parameters of one statement: text (numbers as decimal text) or
 * binary (bytea). */
struct params {
    int n;
    const char *value[MAX_PARAMS];
    int length[MAX_PARAMS];
    int format[MAX_PARAMS];
    char number[MAX_PARAMS][24];
};

static void p_text(struct params *p, const char *v)
{
    p->value[p->n] = v;
    p->length[p->n] = 0;
    p->format[p->n] = 0;
    p->n++;
}

static void p_u64(struct params *p, uint64_t v)
{
    snprintf(p->number[p->n], sizeof p->number[0], "%" PRIu64, v);
    p_text(p, p->number[p->n]);
}

static void p_int(struct params *p, int v)
{
    snprintf(p->number[p->n], sizeof p->number[0], "%d", v);
    p_text(p, p->number[p->n]);
}

static void p_blob(struct params *p, const void *v, size_t n)
{
    static const char nothing[1] = {0};
    p->value[p->n] = n > 0 ? (const char *)v : nothing;
    p->length[p->n] = (int)n;
    p->format[p->n] = 1;
    p->n++;
}

static void p_null(struct params *p)
{
    p->value[p->n] = NULL;
    p->length[p->n] = 0;
    p->format[p->n] = 0;
    p->n++;
}

/* ---------------------------------------------------------------- helpers */

/* The first line of the connection's error, after what. */
static int fail(struct psi_store *st, const char *what)
{
    const char *msg = PQerrorMessage(st->conn);
    size_t len = strcspn(msg, "\n");
    snprintf(st->error, sizeof st->error, "%s: %.*s", what, (int)len, msg);
    return PSI_ERR_STORE;
}

/* Runs statement id with p (binary results). NULL on failure (*rc set). */
static PGresult *run(struct psi_store *st, enum stmt_id id, const struct params *p,
                     const char *what, int *rc)
{
    char name[16];
    snprintf(name, sizeof name, "psi%d", (int)id);
    if (!st->prepared[id]) {
        PGresult *r = PQprepare(st->conn, name, STMT_SQL[id], 0, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            *rc = fail(st, what);
            return NULL;
        }
        st->prepared[id] = 1;
    }
    for (int i = 0; i < p->n; i++)
        if (p->length[i] < 0) {
            snprintf(st->error, sizeof st->error, "%s: a value too large", what);
            *rc = PSI_ERR_STORE;
            return NULL;
        }
    PGresult *r = PQexecPrepared(st->conn, name, p->n, p->value, p->length, p->format, 1);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        *rc = fail(st, what);
        PQclear(r);
        return NULL;
    }
    *rc = 0;
    return r;
}

/* Runs a statement for its row count: *changed (NULL: not wanted). */
static int run_count(struct psi_store *st, enum stmt_id id, const struct params *p,
                     const char *what, uint64_t *changed)
{
    int rc;
    PGresult *r = run(st, id, p, what, &rc);
    if (r == NULL)
        return rc;
    if (changed != NULL)
        *changed = strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

static int run_simple(struct psi_store *st, const char *sql, const char *what)
{
    PGresult *r = PQexec(st->conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok ? 0 : fail(st, what);
}

/* Binary columns: bigint (8 bytes), integer (4), big-endian. */
static uint64_t col_u64(const PGresult *r, int row, int col)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    int n = PQgetlength(r, row, col);
    if (PQgetisnull(r, row, col) || (n != 8 && n != 4))
        return 0;
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x = x << 8 | v[i];
    if (n == 4)
        return (x & 0x80000000u) ? 0 : x;
    return (x >> 63) ? 0 : x;
}

static int col_text(const PGresult *r, int row, int col, char *out, size_t cap)
{
    int n = PQgetlength(r, row, col);
    if (PQgetisnull(r, row, col) || n < 0 || (size_t)n >= cap)
        return -1;
    memcpy(out, PQgetvalue(r, row, col), (size_t)n);
    out[n] = '\0';
    return 0;
}

static int col_blob(const PGresult *r, int row, int col, unsigned char *out, size_t n)
{
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != (int)n)
        return -1;
    memcpy(out, PQgetvalue(r, row, col), n);
    return 0;
}

/* A malloc'd copy of a bytea column (at least one byte allocated). */
static int col_blob_copy(const PGresult *r, int row, int col, uint8_t **out, size_t *len)
{
    int n = PQgetlength(r, row, col);
    if (PQgetisnull(r, row, col) || n < 0)
        return -1;
    *out = malloc(n > 0 ? (size_t)n : 1);
    if (*out == NULL)
        return -1;
    if (n > 0)
        memcpy(*out, PQgetvalue(r, row, col), (size_t)n);
    *len = (size_t)n;
    return 0;
}

/* The advisory lock on the name kind:a:b:c (b and c may be NULL), held to
 * the end of the transaction. Only write transactions take locks. */
static int lock_key(struct psi_txn *t, const char *kind, const char *a, const char *b,
                    const char *c)
{
    if (t->kind != PSI_TXN_WRITE)
        return 0;
    char key[4 * (PSI_STORE_ID_MAX + 8)];
    snprintf(key, sizeof key, "%s\x1f%s\x1f%s\x1f%s", kind, a ? a : "", b ? b : "", c ? c : "");
    struct params p = {0};
    p_text(&p, key);
    uint64_t ignored;
    return run_count(t->store, S_LOCK, &p, "lock", &ignored);
}

/* ---------------------------------------------------------------- locations */

int psi_store_pg_is_location(const char *location)
{
    if (location == NULL)
        return 0;
    if (strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0)
        return 1;
    /* keyword=value pairs naming where */
    return strchr(location, '=') != NULL &&
           (strstr(location, "host=") != NULL || strstr(location, "dbname=") != NULL ||
            strstr(location, "service=") != NULL);
}

void psi_store_pg_redact(const char *location, char *out, size_t cap)
{
    if (cap == 0)
        return;
    size_t o = 0;
    const char *s = location;
    int url = strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
    const char *userinfo_end = NULL;
    if (url) {
        const char *start = strstr(s, "://") + 3;
        const char *at = strchr(start, '@');
        const char *slash = strchr(start, '/');
        if (at != NULL && (slash == NULL || at < slash))
            userinfo_end = at;
    }
    while (*s != '\0' && o + 1 < cap) {
        if (userinfo_end != NULL && *s == ':' && s < userinfo_end && strstr(s, "://") != s) {
            /* user:password@ -> user:***@ */
            const char *stars = ":***";
            for (const char *q = stars; *q != '\0' && o + 1 < cap; q++)
                out[o++] = *q;
            s = userinfo_end;
            continue;
        }
        if (strncmp(s, "password=", 9) == 0 &&
            (s == location || s[-1] == ' ' || s[-1] == '?' || s[-1] == '&')) {
            const char *keep = "password=***";
            for (const char *q = keep; *q != '\0' && o + 1 < cap; q++)
                out[o++] = *q;
            s += 9;
            if (*s == '\'') {
                s++;
                while (*s != '\0' && *s != '\'')
                    s += (*s == '\\' && s[1] != '\0') ? 2 : 1;
                if (*s == '\'')
                    s++;
            } else {
                while (*s != '\0' && *s != ' ' && *s != '&')
                    s++;
            }
            continue;
        }
        out[o++] = *s++;
    }
    out[o] = '\0';
}

/* ---------------------------------------------------------------- lifecycle */

static void store_close(struct psi_store *st)
{
    if (st == NULL)
        return;
    PQfinish(st->conn);
    free(st);
}

/* What every session of the hub sets: every commit durable, our schema,
 * quiet notices. */
static const char SESSION_SETUP[] = "SET synchronous_commit TO on; SET search_path TO psi;"
                                    " SET client_min_messages TO warning";

static int store_connect(const char *location, struct psi_store **out, char *err, size_t errlen)
{
    char shown[512];
    psi_store_pg_redact(location, shown, sizeof shown);
    struct psi_store *st = calloc(1, sizeof *st);
    if (st == NULL)
        return PSI_ERR_NOMEM;
    st->conn = PQconnectdb(location);
    if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK) {
        const char *msg = st->conn ? PQerrorMessage(st->conn) : "out of memory";
        snprintf(err, errlen, "cannot connect to %s: %.*s", shown, (int)strcspn(msg, "\n"), msg);
        store_close(st);
        return PSI_ERR_STORE;
    }
    /* Quiet notices; every commit durable; our schema first. */
    PQsetNoticeProcessor(st->conn, NULL, NULL);
    if (run_simple(st, SESSION_SETUP, "set up") != 0) {
        snprintf(err, errlen, "cannot set up %s: %s", shown, st->error);
        store_close(st);
        return PSI_ERR_STORE;
    }
    *out = st;
    return 0;
}

/* The schema version of the store the connection sees: 0 if there is no
 * psi schema. */
static int schema_version(struct psi_store *st, int *version)
{
    PGresult *r = PQexec(st->conn, "SELECT to_regclass('psi.schema_version') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return fail(st, "schema");
    }
    int have = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    *version = 0;
    if (!have) {
        r = PQexec(st->conn, "SELECT 1 FROM pg_namespace WHERE nspname = 'psi'");
        int exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
        PQclear(r);
        *version = exists ? -1 : 0; /* -1: a psi schema that is not a store */
        return 0;
    }
    r = PQexec(st->conn, "SELECT max(version) FROM psi.schema_version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return fail(st, "schema");
    }
    long v = PQgetisnull(r, 0, 0) ? -1 : strtol(PQgetvalue(r, 0, 0), NULL, 10);
    *version = v < 0 || v > INT_MAX ? -1 : (int)v;
    PQclear(r);
    return 0;
}

/* Runs the migrations after `from`, in one transaction, under an advisory
 * lock so that front-ends opening at once migrate once. */
static int migrate(struct psi_store *st, int create, char *shown, char *err, size_t errlen)
{
    if (run_simple(st, "BEGIN", "migrate") != 0 ||
        run_simple(st, "SELECT pg_advisory_xact_lock(hashtextextended('psi migrate', 0))",
                   "migrate") != 0)
        goto failed;
    int version = 0;
    if (schema_version(st, &version) != 0)
        goto failed;
    if (create && version != 0) {
        run_simple(st, "ROLLBACK", "migrate");
        snprintf(err, errlen, "%s holds a psi-hub store already", shown);
        return PSI_ERR_EXISTS;
    }
    if (!create && version <= 0) {
        run_simple(st, "ROLLBACK", "migrate");
        snprintf(err, errlen, "%s holds no psi-hub store", shown);
        return PSI_ERR_NOT_FOUND;
    }
    if (version > PSI_STORE_PG_SCHEMA_VERSION) {
        run_simple(st, "ROLLBACK", "migrate");
        snprintf(err, errlen,
                 "%s is not a psi-hub store this version can open: schema version %d is newer"
                 " than %d",
                 shown, version, PSI_STORE_PG_SCHEMA_VERSION);
        return PSI_ERR_UNSUPPORTED;
    }
    if (create && (run_simple(st, "CREATE SCHEMA psi", "create") != 0 ||
                   run_simple(st,
                              "CREATE TABLE schema_version (version integer PRIMARY KEY,"
                              " about text NOT NULL)",
                              "create") != 0))
        goto failed;
    for (size_t i = 0; i < MIGRATION_COUNT; i++) {
        if (MIGRATIONS[i].version <= version)
            continue;
        char record[256];
        snprintf(record, sizeof record, "INSERT INTO schema_version VALUES (%d, '%s')",
                 MIGRATIONS[i].version, MIGRATIONS[i].about);
        for (size_t k = 0; k < 4 && MIGRATIONS[i].sql[k] != NULL; k++)
            if (run_simple(st, MIGRATIONS[i].sql[k], MIGRATIONS[i].about) != 0)
                goto failed;
        if (run_simple(st, record, MIGRATIONS[i].about) != 0)
            goto failed;
    }
    if (run_simple(st, "COMMIT", "migrate") == 0)
        return 0;
failed:
    snprintf(err, errlen, "%s: %s", shown, st->error);
    run_simple(st, "ROLLBACK", "migrate");
    return PSI_ERR_STORE;
}

static int connect_and_migrate(const char *location, int create, struct psi_store **out, char *err,
                               size_t errlen)
{
    char shown[512];
    psi_store_pg_redact(location, shown, sizeof shown);
    struct psi_store *st = NULL;
    int rc = store_connect(location, &st, err, errlen);
    if (rc == 0)
        rc = migrate(st, create, shown, err, errlen);
    if (rc != 0) {
        store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

static int store_create(const char *location, struct psi_store **out, char *err, size_t errlen)
{
    return connect_and_migrate(location, 1, out, err, errlen);
}

static int store_open(const char *location, struct psi_store **out, char *err, size_t errlen)
{
    return connect_and_migrate(location, 0, out, err, errlen);
}

static void store_destroy(const char *location)
{
    struct psi_store *st = NULL;
    char err[512];
    if (store_connect(location, &st, err, sizeof err) != 0)
        return;
    (void)run_simple(st, "DROP SCHEMA IF EXISTS psi CASCADE", "destroy");
    store_close(st);
}

static const char *store_last_error(struct psi_store *st)
{
    return st->error;
}

/* ---------------------------------------------------------------- transactions */

static int store_begin(struct psi_store *st, enum psi_txn_kind kind)
{
    const char *sql = kind == PSI_TXN_WRITE ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                            : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    st->kind = kind;
    if (run_simple(st, sql, "begin") == 0)
        return 0;
    if (PQstatus(st->conn) != CONNECTION_BAD)
        return PSI_ERR_STORE;
    /* The server went away (restarted): connect again, prepare anew. */
    PQreset(st->conn);
    if (PQstatus(st->conn) != CONNECTION_OK)
        return fail(st, "reconnect");
    memset(st->prepared, 0, sizeof st->prepared);
    if (run_simple(st, SESSION_SETUP, "reconnect") != 0)
        return PSI_ERR_STORE;
    return run_simple(st, sql, "begin");
}

static int store_commit(struct psi_store *st)
{
    PGresult *r = PQexec(st->conn, "COMMIT");
    /* A transaction that failed on the server answers COMMIT with ROLLBACK. */
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    PQclear(r);
    if (!ok) {
        fail(st, "commit");
        if (st->error[sizeof "commit: " - 1] == '\0')
            snprintf(st->error, sizeof st->error, "commit: the transaction was rolled back");
    }
    return ok ? 0 : PSI_ERR_STORE;
}

static void store_rollback(struct psi_store *st)
{
    if (PQtransactionStatus(st->conn) != PQTRANS_IDLE)
        (void)run_simple(st, "ROLLBACK", "rollback");
}

static int store_mark(struct psi_store *st)
{
    return run_simple(st, "SAVEPOINT psi_mark", "savepoint");
}

static int store_undo_to_mark(struct psi_store *st)
{
    int rc = run_simple(st, "ROLLBACK TO SAVEPOINT psi_mark", "rollback to savepoint");
    if (rc == 0)
        rc = run_simple(st, "RELEASE SAVEPOINT psi_mark", "release savepoint");
    return rc;
}

/* ---------------------------------------------------------------- small shapes */

/* One row of one statement, or PSI_ERR_NOT_FOUND; *out the result. */
static int one_row(struct psi_store *st, enum stmt_id id, const struct params *p, const char *what,
                   PGresult **out)
{
    int rc;
    *out = run(st, id, p, what, &rc);
    if (*out == NULL)
        return rc;
    if (PQntuples(*out) == 0) {
        PQclear(*out);
        *out = NULL;
        return PSI_ERR_NOT_FOUND;
    }
    return 0;
}

static int one_u64(struct psi_store *st, enum stmt_id id, const struct params *p, uint64_t *v,
                   const char *what)
{
    PGresult *r;
    int rc = one_row(st, id, p, what, &r);
    if (rc != 0)
        return rc;
    *v = col_u64(r, 0, 0);
    PQclear(r);
    return 0;
}

/* ---------------------------------------------------------------- meta */

static int meta_get(struct psi_txn *t, const char *key, char *value, size_t cap)
{
    struct params p = {0};
    p_text(&p, key);
    PGresult *r;
    int rc = one_row(t->store, S_META_GET, &p, "meta", &r);
    if (rc != 0)
        return rc;
    rc = col_text(r, 0, 0, value, cap) == 0 ? 0 : PSI_ERR_TOO_LARGE;
    PQclear(r);
    return rc;
}

static int meta_set(struct psi_txn *t, const char *key, const char *value)
{
    struct params p = {0};
    p_text(&p, key);
    p_text(&p, value);
    return run_count(t->store, S_META_SET, &p, "meta", NULL);
}

/* ---------------------------------------------------------------- participants */

static int read_ids(struct psi_store *st, enum stmt_id which, const char *id,
                    char (**list)[PSI_STORE_ID_MAX + 1], size_t *count)
{
    struct params p = {0};
    p_text(&p, id);
    int rc;
    PGresult *r = run(st, which, &p, "participant", &rc);
    if (r == NULL)
        return rc;
    int n = PQntuples(r);
    if (n > 0) {
        *list = calloc((size_t)n, sizeof **list);
        if (*list == NULL) {
            PQclear(r);
            return PSI_ERR_NOMEM;
        }
    }
    for (int i = 0; i < n; i++)
        if (col_text(r, i, 0, (*list)[i], PSI_STORE_ID_MAX + 1) != 0) {
            PQclear(r);
            snprintf(st->error, sizeof st->error, "participant: an id too long");
            return PSI_ERR_STORE;
        }
    *count = (size_t)n;
    PQclear(r);
    return 0;
}

static int party_get(struct psi_store *st, const char *id, struct psi_store_party_policy *out)
{
    struct params p = {0};
    p_text(&p, id);
    PGresult *r;
    int rc = one_row(st, S_PARTY_GET, &p, "party policy", &r);
    if (rc == PSI_ERR_NOT_FOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (col_blob(r, 0, 3, out->signature, sizeof out->signature) != 0) {
        PQclear(r);
        snprintf(st->error, sizeof st->error, "party policy: a damaged signature");
        return PSI_ERR_STORE;
    }
    out->set = 1;
    out->issued_ms = col_u64(r, 0, 0);
    out->share_all = col_u64(r, 0, 1) != 0;
    out->contribute_only = col_u64(r, 0, 2) != 0;
    out->log_index = col_u64(r, 0, 4);
    PQclear(r);
    return read_ids(st, S_PARTY_SHARES, id, &out->share_with, &out->share_count);
}

static int participant_get(struct psi_txn *t, const char *id, struct psi_store_participant *out)
{
    struct psi_store *st = t->store;
    memset(out, 0, sizeof *out);
    struct params p = {0};
    p_text(&p, id);
    PGresult *r;
    int rc = one_row(st, S_PART_GET, &p, "participant", &r);
    if (rc != 0)
        return rc;
    if (col_text(r, 0, 0, out->id, sizeof out->id) != 0 ||
        col_text(r, 0, 1, out->role, sizeof out->role) != 0 ||
        col_blob(r, 0, 2, out->public_key, sizeof out->public_key) != 0) {
        PQclear(r);
        snprintf(st->error, sizeof st->error, "participant: a damaged row");
        return PSI_ERR_STORE;
    }
    out->removed = col_u64(r, 0, 3) != 0;
    out->share_all = col_u64(r, 0, 4) != 0;
    out->contribute_only = col_u64(r, 0, 5) != 0;
    out->admit_logged = !PQgetisnull(r, 0, 6);
    out->admit_index = out->admit_logged ? col_u64(r, 0, 6) : 0;
    PQclear(r);
    rc = read_ids(st, S_PART_SHARES, id, &out->share_with, &out->share_count);
    if (rc == 0)
        rc = party_get(st, id, &out->party);
    if (rc != 0)
        psi_store_participant_clear(out);
    return rc;
}

/* Replaces owner's rows of a share table (clear, then add each). */
static int set_list(struct psi_store *st, enum stmt_id clear, enum stmt_id add, const char *id,
                    const char (*list)[PSI_STORE_ID_MAX + 1], size_t count, const char *what)
{
    struct params p = {0};
    p_text(&p, id);
    int rc = run_count(st, clear, &p, what, NULL);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        struct params q = {0};
        p_text(&q, id);
        p_text(&q, list[i]);
        rc = run_count(st, add, &q, what, NULL);
    }
    return rc;
}

static int participant_add(struct psi_txn *t, const struct psi_store_participant *p,
                           uint64_t now_ms)
{
    struct params q = {0};
    p_text(&q, p->id);
    p_text(&q, p->role);
    p_blob(&q, p->public_key, sizeof p->public_key);
    p_int(&q, p->share_all ? 1 : 0);
    p_int(&q, p->contribute_only ? 1 : 0);
    p_u64(&q, now_ms);
    uint64_t added = 0;
    int rc = run_count(t->store, S_PART_ADD, &q, "participant", &added);
    if (rc != 0)
        return rc;
    if (added == 0)
        return PSI_ERR_EXISTS;
    return set_list(t->store, S_SHARE_CLEAR, S_SHARE_ADD, p->id,
                    (const char(*)[PSI_STORE_ID_MAX + 1]) p->share_with, p->share_count, "share");
}

static int participant_set_policy(struct psi_txn *t, const char *id, int share_all,
                                  const char (*share_with)[PSI_STORE_ID_MAX + 1],
                                  size_t share_count, int contribute_only)
{
    struct params p = {0};
    p_text(&p, id);
    p_int(&p, share_all ? 1 : 0);
    p_int(&p, contribute_only ? 1 : 0);
    uint64_t changed = 0;
    int rc = run_count(t->store, S_PART_POLICY, &p, "policy", &changed);
    if (rc != 0)
        return rc;
    if (changed == 0)
        return PSI_ERR_NOT_FOUND;
    return set_list(t->store, S_SHARE_CLEAR, S_SHARE_ADD, id, share_with, share_count, "share");
}

static int update_one(struct psi_txn *t, enum stmt_id id, struct params *p, const char *what)
{
    uint64_t changed = 0;
    int rc = run_count(t->store, id, p, what, &changed);
    return rc != 0 ? rc : changed == 0 ? PSI_ERR_NOT_FOUND : 0;
}

static int participant_remove(struct psi_txn *t, const char *id)
{
    struct params p = {0};
    p_text(&p, id);
    return update_one(t, S_PART_REMOVE, &p, "remove");
}

static int participant_list(struct psi_txn *t, psi_store_participant_fn fn, void *ctx)
{
    struct params p = {0};
    int rc;
    PGresult *r = run(t->store, S_PART_LIST, &p, "roster", &rc);
    if (r == NULL)
        return rc;
    int n = PQntuples(r);
    for (int i = 0; rc == 0 && i < n; i++) {
        struct psi_store_participant part;
        rc = participant_get(t, PQgetvalue(r, i, 0), &part);
        if (rc == 0) {
            rc = fn(ctx, &part);
            psi_store_participant_clear(&part);
        }
    }
    PQclear(r);
    return rc;
}

static int participant_set_admit_index(struct psi_txn *t, const char *id, uint64_t index)
{
    struct params p = {0};
    p_text(&p, id);
    p_u64(&p, index);
    return update_one(t, S_PART_ADMIT_INDEX, &p, "participant");
}

static int party_policy_put(struct psi_txn *t, const char *id,
                            const struct psi_store_party_policy *pp, uint64_t now_ms)
{
    struct params p = {0};
    p_text(&p, id);
    p_u64(&p, pp->issued_ms);
    p_int(&p, pp->share_all ? 1 : 0);
    p_int(&p, pp->contribute_only ? 1 : 0);
    p_blob(&p, pp->signature, sizeof pp->signature);
    p_u64(&p, pp->log_index);
    p_u64(&p, now_ms);
    int rc = update_one(t, S_PARTY_PUT, &p, "party policy");
    if (rc != 0)
        return rc;
    return set_list(t->store, S_PARTY_SHARE_CLEAR, S_PARTY_SHARE_ADD, id,
                    (const char(*)[PSI_STORE_ID_MAX + 1]) pp->share_with, pp->share_count,
                    "party policy");
}

/* ---------------------------------------------------------------- quotas */

static int element_quota_set(struct psi_txn *t, const char *id, uint64_t limit)
{
    struct params p = {0};
    p_text(&p, id);
    p_u64(&p, limit);
    return update_one(t, S_ELEMENT_QUOTA_SET, &p, "element quota");
}

static int element_quota_get(struct psi_txn *t, const char *id, uint64_t *limit)
{
    struct params p = {0};
    p_text(&p, id);
    return one_u64(t->store, S_ELEMENT_QUOTA_GET, &p, limit, "element quota");
}

/* ---------------------------------------------------------------- nonces and replies */

static int refusal_budget_take(struct psi_txn *t, const char *participant, uint64_t now_ms,
                               uint64_t window_ms, uint32_t budget, int *granted)
{
    struct psi_store *st = t->store;
    *granted = 0;
    int rc = lock_key(t, "refusal", participant, NULL, NULL);
    if (rc != 0)
        return rc;
    struct params p = {0};
    p_text(&p, participant);
    PGresult *r;
    rc = one_row(st, S_REFUSAL_GET, &p, "refusal budget", &r);
    uint64_t start = now_ms, used = 0;
    if (rc == 0) {
        start = col_u64(r, 0, 0);
        used = col_u64(r, 0, 1);
        PQclear(r);
    } else if (rc != PSI_ERR_NOT_FOUND) {
        return rc;
    }
    if (now_ms < start || now_ms - start >= window_ms) {
        start = now_ms;
        used = 0;
    }
    if (used >= budget)
        return 0;
    struct params q = {0};
    p_text(&q, participant);
    p_u64(&q, start);
    p_u64(&q, used + 1);
    rc = run_count(st, S_REFUSAL_SET, &q, "refusal budget", NULL);
    if (rc == 0)
        *granted = 1;
    return rc;
}

static int nonce_record(struct psi_txn *t, const char *sender,
                        const unsigned char nonce[PSI_STORE_NONCE_BYTES], uint64_t timestamp_ms,
                        uint64_t forget_before_ms)
{
    struct params f = {0};
    p_u64(&f, forget_before_ms);
    int rc = run_count(t->store, S_NONCE_FORGET, &f, "nonce", NULL);
    if (rc != 0)
        return rc;
    struct params p = {0};
    p_text(&p, sender);
    p_blob(&p, nonce, PSI_STORE_NONCE_BYTES);
    p_u64(&p, timestamp_ms);
    uint64_t added = 0;
    rc = run_count(t->store, S_NONCE_ADD, &p, "nonce", &added);
    return rc != 0 ? rc : added == 0 ? PSI_ERR_REPLAY : 0;
}

static int reply_get(struct psi_txn *t, const char *sender,
                     const unsigned char request_id[PSI_STORE_REQUEST_ID_BYTES],
                     char method[PSI_STORE_METHOD_MAX + 1], uint8_t **body, size_t *body_len)
{
    *body = NULL;
    *body_len = 0;
    /* A retry on another front-end waits here for the first attempt. */
    char hex[2 * PSI_STORE_REQUEST_ID_BYTES + 1];
    for (size_t i = 0; i < PSI_STORE_REQUEST_ID_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", request_id[i]);
    int rc = lock_key(t, "reply", sender, hex, NULL);
    if (rc != 0)
        return rc;
    struct params p = {0};
    p_text(&p, sender);
    p_blob(&p, request_id, PSI_STORE_REQUEST_ID_BYTES);
    PGresult *r;
    rc = one_row(t->store, S_REPLY_GET, &p, "reply", &r);
    if (rc != 0)
        return rc;
    if (col_text(r, 0, 0, method, PSI_STORE_METHOD_MAX + 1) != 0)
        rc = PSI_ERR_STORE;
    else if (col_blob_copy(r, 0, 1, body, body_len) != 0)
        rc = PSI_ERR_NOMEM;
    PQclear(r);
    if (rc == PSI_ERR_STORE)
        snprintf(t->store->error, sizeof t->store->error, "reply: a damaged row");
    return rc;
}

static int reply_put(struct psi_txn *t, const char *sender,
                     const unsigned char request_id[PSI_STORE_REQUEST_ID_BYTES], const char *method,
                     const uint8_t *body, size_t body_len, uint64_t now_ms)
{
    struct params p = {0};
    p_text(&p, sender);
    p_blob(&p, request_id, PSI_STORE_REQUEST_ID_BYTES);
    p_text(&p, method);
    p_blob(&p, body, body_len);
    p_u64(&p, now_ms);
    uint64_t added = 0;
    int rc = run_count(t->store, S_REPLY_PUT, &p, "reply", &added);
    return rc != 0 ? rc : added == 0 ? PSI_ERR_EXISTS : 0;
}

static int forget_older(struct psi_txn *t, uint64_t replies_before_ms, uint64_t uploads_before_ms)
{
    const enum stmt_id ids[3] = {S_REPLY_FORGET, S_UPLOAD_FORGET_CHUNKS, S_UPLOAD_FORGET};
    const uint64_t limits[3] = {replies_before_ms, uploads_before_ms, uploads_before_ms};
    for (int i = 0; i < 3; i++) {
        struct params p = {0};
        p_u64(&p, limits[i]);
        int rc = run_count(t->store, ids[i], &p, "forget", NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- staging */

static void p_upload(struct params *p, const char *sender,
                     const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES])
{
    p_text(p, sender);
    p_blob(p, upload_id, PSI_STORE_UPLOAD_ID_BYTES);
}

static int staging_size(struct psi_txn *t, const char *sender,
                        const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES],
                        uint64_t *received, uint64_t *sender_total)
{
    *received = 0;
    *sender_total = 0;
    struct params p = {0};
    p_upload(&p, sender, upload_id);
    int rc = one_u64(t->store, S_UPLOAD_SIZE, &p, received, "upload");
    if (rc != 0 && rc != PSI_ERR_NOT_FOUND)
        return rc;
    struct params q = {0};
    p_text(&q, sender);
    return one_u64(t->store, S_UPLOAD_TOTAL, &q, sender_total, "upload");
}

static int staging_read(struct psi_txn *t, const char *sender,
                        const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES], uint64_t offset,
                        uint8_t *out, size_t len)
{
    if (len == 0)
        return 0;
    uint64_t end = offset + len;
    struct params p = {0};
    p_upload(&p, sender, upload_id);
    p_u64(&p, offset);
    p_u64(&p, end);
    int rc;
    PGresult *r = run(t->store, S_UPLOAD_READ, &p, "upload", &rc);
    if (r == NULL)
        return rc;
    uint64_t filled = offset;
    for (int i = 0; i < PQntuples(r) && filled < end; i++) {
        uint64_t start = col_u64(r, i, 0);
        int n = PQgetlength(r, i, 1);
        const uint8_t *b = (const uint8_t *)PQgetvalue(r, i, 1);
        if (n <= 0 || start > filled)
            break;
        uint64_t chunk_end = start + (uint64_t)n;
        uint64_t to = chunk_end < end ? chunk_end : end;
        if (to > filled) {
            memcpy(out + (filled - offset), b + (filled - start), (size_t)(to - filled));
            filled = to;
        }
    }
    PQclear(r);
    return filled == end ? 0 : PSI_ERR_NOT_FOUND;
}

static int staging_append(struct psi_txn *t, const char *sender,
                          const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES], uint64_t offset,
                          const uint8_t *bytes, size_t len, uint64_t now_ms)
{
    struct params p = {0};
    p_upload(&p, sender, upload_id);
    p_u64(&p, offset + len);
    p_u64(&p, now_ms);
    int rc = run_count(t->store, S_UPLOAD_TOUCH, &p, "upload", NULL);
    if (rc != 0 || len == 0)
        return rc;
    struct params q = {0};
    p_upload(&q, sender, upload_id);
    p_u64(&q, offset);
    p_blob(&q, bytes, len);
    return run_count(t->store, S_UPLOAD_CHUNK_ADD, &q, "upload", NULL);
}

static int staging_drop(struct psi_txn *t, const char *sender,
                        const unsigned char upload_id[PSI_STORE_UPLOAD_ID_BYTES])
{
    const enum stmt_id ids[2] = {S_UPLOAD_DROP_CHUNKS, S_UPLOAD_DROP};
    for (int i = 0; i < 2; i++) {
        struct params p = {0};
        p_upload(&p, sender, upload_id);
        int rc = run_count(t->store, ids[i], &p, "upload", NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- submissions */

static int positions_in_epoch(struct psi_txn *t, const char *owner, const char *epoch,
                              uint64_t *positions)
{
    /* The next submission of owner takes the positions after these: one
     * writer per (owner, epoch) at a time, from here to its commit. */
    int rc = lock_key(t, "positions", owner, epoch, NULL);
    if (rc != 0)
        return rc;
    struct params p = {0};
    p_text(&p, owner);
    p_text(&p, epoch);
    return one_u64(t->store, S_POSITIONS, &p, positions, "submission");
}

static int submission_add(struct psi_txn *t, struct psi_store_submission *sub,
                          const uint8_t *elements, uint64_t now_ms)
{
    struct psi_store *st = t->store;
    struct params p = {0};
    p_text(&p, sub->owner);
    p_text(&p, sub->epoch);
    p_u64(&p, sub->count);
    p_u64(&p, sub->position_base);
    p_blob(&p, sub->digest, sizeof sub->digest);
    p_blob(&p, sub->signature, sizeof sub->signature);
    p_u64(&p, now_ms);
    int rc = one_u64(st, S_SUBMISSION_ADD, &p, &sub->id, "submission");
    if (rc != 0)
        return rc == PSI_ERR_NOT_FOUND ? PSI_ERR_STORE : rc;
    for (uint64_t first = 0, block = 0; first < sub->count; first += BLOCK_ELEMENTS, block++) {
        uint64_t n = sub->count - first < BLOCK_ELEMENTS ? sub->count - first : BLOCK_ELEMENTS;
        struct params b = {0};
        p_u64(&b, sub->id);
        p_u64(&b, block);
        p_blob(&b, elements + first * PSI_STORE_ELEMENT_BYTES, (size_t)n * PSI_STORE_ELEMENT_BYTES);
        rc = run_count(st, S_BLOCK_ADD, &b, "elements", NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int submission_row(const PGresult *r, int i, struct psi_store_submission *out)
{
    memset(out, 0, sizeof *out);
    out->id = col_u64(r, i, 0);
    out->count = col_u64(r, i, 3);
    out->position_base = col_u64(r, i, 4);
    return col_text(r, i, 1, out->owner, sizeof out->owner) != 0 ||
                   col_text(r, i, 2, out->epoch, sizeof out->epoch) != 0 ||
                   col_blob(r, i, 5, out->digest, sizeof out->digest) != 0 ||
                   col_blob(r, i, 6, out->signature, sizeof out->signature) != 0
               ? -1
               : 0;
}

static int submission_get(struct psi_txn *t, uint64_t id, struct psi_store_submission *out)
{
    memset(out, 0, sizeof *out);
    if (id > (uint64_t)INT64_MAX)
        return PSI_ERR_NOT_FOUND;
    struct params p = {0};
    p_u64(&p, id);
    PGresult *r;
    int rc = one_row(t->store, S_SUBMISSION_GET, &p, "submission", &r);
    if (rc != 0)
        return rc;
    if (submission_row(r, 0, out) != 0) {
        snprintf(t->store->error, sizeof t->store->error, "submission: a damaged row");
        rc = PSI_ERR_STORE;
    }
    PQclear(r);
    return rc;
}

static int elements_read(struct psi_txn *t, uint64_t submission_id, uint64_t offset, uint64_t count,
                         uint8_t *out)
{
    uint64_t at = offset, end = offset + count;
    while (at < end) {
        uint64_t block = at / BLOCK_ELEMENTS, within = at % BLOCK_ELEMENTS;
        struct params p = {0};
        p_u64(&p, submission_id);
        p_u64(&p, block);
        PGresult *r;
        int rc = one_row(t->store, S_BLOCK_GET, &p, "elements", &r);
        if (rc != 0)
            return rc;
        uint64_t held = (uint64_t)PQgetlength(r, 0, 0) / PSI_STORE_ELEMENT_BYTES;
        if (within >= held) {
            PQclear(r);
            return PSI_ERR_NOT_FOUND;
        }
        uint64_t n = held - within < end - at ? held - within : end - at;
        memcpy(out + (at - offset) * PSI_STORE_ELEMENT_BYTES,
               PQgetvalue(r, 0, 0) + within * PSI_STORE_ELEMENT_BYTES,
               (size_t)n * PSI_STORE_ELEMENT_BYTES);
        PQclear(r);
        at += n;
    }
    return 0;
}

/* ---------------------------------------------------------------- work */

static int list_submissions(struct psi_txn *t, enum stmt_id which, const char *id,
                            const char *epoch, uint64_t only_id, psi_store_submission_fn fn,
                            void *ctx)
{
    struct params p = {0};
    p_text(&p, id);
    p_text(&p, epoch);
    if (which == S_WORK_LIST)
        p_u64(&p, only_id);
    int rc;
    PGresult *r = run(t->store, which, &p, "work", &rc);
    if (r == NULL)
        return rc;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        struct psi_store_submission s;
        if (submission_row(r, i, &s) != 0) {
            snprintf(t->store->error, sizeof t->store->error, "work: a damaged row");
            rc = PSI_ERR_STORE;
        } else {
            rc = fn(ctx, &s);
        }
    }
    PQclear(r);
    return rc;
}

static int submission_list(struct psi_txn *t, const char *owner, const char *epoch,
                           psi_store_submission_fn fn, void *ctx)
{
    return list_submissions(t, S_SUBMISSION_LIST, owner, epoch, 0, fn, ctx);
}

static int work_list(struct psi_txn *t, const char *me, const char *epoch,
                     psi_store_submission_fn fn, void *ctx)
{
    return list_submissions(t, S_WORK_LIST, me, epoch, 0, fn, ctx);
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
    *status = PSI_WORK_NONE;
    if (submission_id == 0 || submission_id > (uint64_t)INT64_MAX)
        return 0;
    struct params p = {0};
    p_u64(&p, submission_id);
    p_text(&p, me);
    PGresult *r;
    int rc = one_row(t->store, S_CROSSBLIND_GET, &p, "work", &r);
    if (rc == 0) {
        PQclear(r);
        *status = PSI_WORK_DONE;
        return 0;
    }
    if (rc != PSI_ERR_NOT_FOUND)
        return rc;
    int found = 0;
    rc = list_submissions(t, S_WORK_LIST, me, epoch, submission_id, count_one, &found);
    if (rc == 0 && found)
        *status = PSI_WORK_PENDING;
    return rc;
}

/* ---------------------------------------------------------------- cross-blind and match */

/* The tag partition of epoch, made on its first use. Makers take one lock,
 * so two front-ends never make the same partition; the second finds the
 * first's row once the first committed. */
static int tag_partition(struct psi_txn *t, const char *epoch)
{
    struct psi_store *st = t->store;
    struct params p = {0};
    p_text(&p, epoch);
    PGresult *r;
    int rc = one_row(st, S_PARTITION_GET, &p, "tag partition", &r);
    if (rc == 0) {
        PQclear(r);
        return 0;
    }
    if (rc != PSI_ERR_NOT_FOUND)
        return rc;
    if ((rc = lock_key(t, "tag partition", NULL, NULL, NULL)) != 0)
        return rc;
    rc = one_row(st, S_PARTITION_GET, &p, "tag partition", &r);
    if (rc == 0) {
        PQclear(r);
        return 0;
    }
    if (rc != PSI_ERR_NOT_FOUND)
        return rc;
    uint64_t last = 0;
    struct params none = {0};
    if ((rc = one_u64(st, S_PARTITION_LAST, &none, &last, "tag partition")) != 0)
        return rc;
    char name[32];
    snprintf(name, sizeof name, "tag_%" PRIu64, last + 1);
    char *literal = PQescapeLiteral(st->conn, epoch, strlen(epoch));
    if (literal == NULL)
        return fail(st, "tag partition");
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE %s PARTITION OF tag FOR VALUES IN (%s)", name, literal);
    PQfreemem(literal);
    if ((rc = run_simple(st, sql, "tag partition")) != 0)
        return rc;
    struct params a = {0};
    p_text(&a, epoch);
    p_text(&a, name);
    return run_count(st, S_PARTITION_ADD, &a, "tag partition", NULL);
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
    if (cb->count > SIZE_MAX / PSI_STORE_TAG_BYTES)
        return PSI_ERR_TOO_LARGE;

    /* The pair's lock, before anything of the pair is read or written.
     * Batch (owner i, blinder j) matches against (owner j, blinder i):
     * whichever of the two commits second must see the other. Both take
     * this lock (the pair unordered), so they run one after the other;
     * the second's join statement, in READ COMMITTED, takes its snapshot
     * after the first committed and so sees all of its tags. Batches of
     * other pairs share no tags with this join and need no order. */
    const char *lo = strcmp(sub.owner, cb->blinder) < 0 ? sub.owner : cb->blinder;
    const char *hi = lo == sub.owner ? cb->blinder : sub.owner;
    if ((rc = lock_key(t, "pair", sub.epoch, lo, hi)) != 0)
        return rc;

    struct params p = {0};
    p_u64(&p, cb->submission_id);
    p_text(&p, cb->blinder);
    p_u64(&p, cb->count);
    p_blob(&p, cb->tag_digest, sizeof cb->tag_digest);
    p_blob(&p, cb->signature, sizeof cb->signature);
    p_u64(&p, now_ms);
    uint64_t added = 0;
    if ((rc = run_count(st, S_CROSSBLIND_ADD, &p, "crossblind", &added)) != 0)
        return rc;
    if (added == 0)
        return PSI_ERR_EXISTS; /* done already, or no such blinder */
    if (cb->count == 0)
        return 0;
    if ((rc = tag_partition(t, sub.epoch)) != 0)
        return rc;

    struct params g = {0};
    p_text(&g, sub.epoch);
    p_text(&g, sub.owner);
    p_text(&g, cb->blinder);
    p_u64(&g, sub.position_base);
    p_blob(&g, tags, (size_t)cb->count * PSI_STORE_TAG_BYTES);
    p_u64(&g, cb->count);
    if ((rc = run_count(st, S_TAG_ADD, &g, "tags", NULL)) != 0)
        return rc;

    const enum stmt_id joins[2] = {S_JOIN_OWNER, S_JOIN_PEER};
    for (int i = 0; i < 2; i++) {
        struct params j = {0};
        p_text(&j, sub.epoch);
        p_text(&j, sub.owner);
        p_text(&j, cb->blinder);
        p_u64(&j, sub.position_base);
        p_u64(&j, sub.position_base + cb->count - 1);
        if ((rc = run_count(st, joins[i], &j, "match", i == 0 ? matched : peer_matched)) != 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- results */

static int results(struct psi_txn *t, const char *me, const char *epoch, uint32_t threshold,
                   psi_store_match_fn fn, void *ctx)
{
    struct params p = {0};
    p_text(&p, epoch);
    p_text(&p, me);
    int rc;
    PGresult *r = run(t->store, S_RESULTS, &p, "results", &rc);
    if (r == NULL)
        return rc;
    int rows = PQntuples(r);
    const char **peers = rows > 0 ? malloc((size_t)rows * sizeof *peers) : NULL;
    if (rows > 0 && peers == NULL) {
        PQclear(r);
        return PSI_ERR_NOMEM;
    }
    /* Rows come in position order; a position's peers are handed on
     * together if enough parties hold it. */
    for (int i = 0; rc == 0 && i < rows;) {
        uint64_t position = col_u64(r, i, 0);
        size_t n = 0;
        while (i < rows && col_u64(r, i, 0) == position) {
            if (PQgetlength(r, i, 1) > (int)PSI_STORE_ID_MAX) {
                snprintf(t->store->error, sizeof t->store->error, "results: a damaged peer");
                rc = PSI_ERR_STORE;
                break;
            }
            peers[n++] = PQgetvalue(r, i, 1);
            i++;
        }
        if (rc == 0 && (uint64_t)n + 1 >= threshold)
            rc = fn(ctx, position, peers, n);
    }
    free(peers);
    PQclear(r);
    return rc;
}

/* ---------------------------------------------------------------- audit log */

static int log_head_get(struct psi_txn *t, struct psi_merkle_frontier *frontier, char *checkpoint,
                        size_t cap)
{
    struct psi_store *st = t->store;
    /* A writer that reads the head is about to append to it (server/log.c):
     * appenders queue here, one at a time, until the holder commits, so the
     * log is one sequence whichever front-end writes. The head is read
     * after the lock, in a statement of its own. */
    int rc = lock_key(t, "log head", NULL, NULL, NULL);
    if (rc != 0)
        return rc;
    struct params p = {0};
    PGresult *r;
    if ((rc = one_row(st, S_LOG_HEAD_GET, &p, "log head", &r)) != 0)
        return rc;
    uint64_t size = col_u64(r, 0, 0);
    int bytes = PQgetlength(r, 0, 1);
    if (bytes < 0 || bytes % 32 != 0 || (size_t)bytes > sizeof frontier->hashes ||
        psi_merkle_frontier_load(frontier, size,
                                 (const unsigned char(*)[32])(const void *)PQgetvalue(r, 0, 1),
                                 (size_t)bytes / 32) != 0) {
        snprintf(st->error, sizeof st->error, "log head: the stored frontier is damaged");
        rc = PSI_ERR_STORE;
    } else if (checkpoint != NULL && cap > 0 && col_text(r, 0, 2, checkpoint, cap) != 0) {
        rc = PSI_ERR_TOO_LARGE;
    }
    PQclear(r);
    return rc;
}

static int log_head_put(struct psi_txn *t, const struct psi_merkle_frontier *frontier,
                        const char *checkpoint)
{
    struct params p = {0};
    p_u64(&p, frontier->size);
    p_blob(&p, frontier->hashes, psi_merkle_frontier_count(frontier) * 32);
    if (checkpoint != NULL)
        p_text(&p, checkpoint);
    else
        p_null(&p);
    return run_count(t->store, S_LOG_HEAD_PUT, &p, "log head", NULL);
}

static int insert_once(struct psi_txn *t, enum stmt_id id, struct params *p, const char *what)
{
    uint64_t added = 0;
    int rc = run_count(t->store, id, p, what, &added);
    return rc != 0 ? rc : added == 0 ? PSI_ERR_EXISTS : 0;
}

static int log_entry_put(struct psi_txn *t, uint64_t index, const uint8_t *entry, size_t len)
{
    struct params p = {0};
    p_u64(&p, index);
    p_blob(&p, entry, len);
    return insert_once(t, S_LOG_ENTRY_PUT, &p, "log entry");
}

static int log_entry_get(struct psi_txn *t, uint64_t index, uint8_t **entry, size_t *len)
{
    *entry = NULL;
    *len = 0;
    struct params p = {0};
    p_u64(&p, index);
    PGresult *r;
    int rc = one_row(t->store, S_LOG_ENTRY_GET, &p, "log entry", &r);
    if (rc != 0)
        return rc;
    rc = col_blob_copy(r, 0, 0, entry, len) == 0 ? 0 : PSI_ERR_NOMEM;
    PQclear(r);
    return rc;
}

static int log_hash_put(struct psi_txn *t, unsigned level, uint64_t index,
                        const unsigned char hash[32])
{
    struct params p = {0};
    p_int(&p, (int)level);
    p_u64(&p, index);
    p_blob(&p, hash, 32);
    return insert_once(t, S_LOG_HASH_PUT, &p, "log hash");
}

static int log_hash_get(struct psi_txn *t, unsigned level, uint64_t index, unsigned char hash[32])
{
    struct params p = {0};
    p_int(&p, (int)level);
    p_u64(&p, index);
    PGresult *r;
    int rc = one_row(t->store, S_LOG_HASH_GET, &p, "log hash", &r);
    if (rc != 0)
        return rc;
    if (col_blob(r, 0, 0, hash, 32) != 0) {
        snprintf(t->store->error, sizeof t->store->error, "log hash: a damaged row");
        rc = PSI_ERR_STORE;
    }
    PQclear(r);
    return rc;
}

/* ---------------------------------------------------------------- vendor feeds */

static int feed_key_put(struct psi_txn *t, const struct psi_store_feed_key *k, uint64_t now_ms)
{
    struct params p = {0};
    p_text(&p, k->vendor);
    p_text(&p, k->epoch);
    p_blob(&p, k->public_key, sizeof k->public_key);
    p_blob(&p, k->signature, sizeof k->signature);
    p_u64(&p, k->log_index);
    p_u64(&p, now_ms);
    return insert_once(t, S_FEED_KEY_PUT, &p, "feed key");
}

static int feed_key_get(struct psi_txn *t, const char *vendor, const char *epoch,
                        struct psi_store_feed_key *out)
{
    struct params p = {0};
    p_text(&p, vendor);
    p_text(&p, epoch);
    PGresult *r;
    int rc = one_row(t->store, S_FEED_KEY_GET, &p, "feed key", &r);
    if (rc != 0)
        return rc;
    memset(out, 0, sizeof *out);
    snprintf(out->vendor, sizeof out->vendor, "%s", vendor);
    snprintf(out->epoch, sizeof out->epoch, "%s", epoch);
    out->log_index = col_u64(r, 0, 2);
    if (col_blob(r, 0, 0, out->public_key, sizeof out->public_key) != 0 ||
        col_blob(r, 0, 1, out->signature, sizeof out->signature) != 0) {
        snprintf(t->store->error, sizeof t->store->error, "feed key: a damaged row");
        rc = PSI_ERR_STORE;
    }
    PQclear(r);
    return rc;
}

static int feed_put(struct psi_txn *t, const struct psi_store_feed *f, const uint8_t *bytes,
                    uint64_t now_ms)
{
    struct psi_store *st = t->store;
    struct params c = {0};
    p_text(&c, f->vendor);
    p_text(&c, f->epoch);
    int rc = run_count(st, S_FEED_BLOCK_CLEAR, &c, "feed", NULL);
    if (rc != 0)
        return rc;
    char rate[40];
    snprintf(rate, sizeof rate, "%.17g", f->rate);
    struct params p = {0};
    p_text(&p, f->vendor);
    p_text(&p, f->epoch);
    p_u64(&p, f->count);
    p_text(&p, rate);
    p_u64(&p, f->size);
    p_blob(&p, f->digest, sizeof f->digest);
    p_blob(&p, f->signature, sizeof f->signature);
    p_u64(&p, now_ms);
    if ((rc = run_count(st, S_FEED_PUT, &p, "feed", NULL)) != 0)
        return rc;
    for (uint64_t at = 0, block = 0; at < f->size; at += FEED_BLOCK_BYTES, block++) {
        uint64_t n = f->size - at < FEED_BLOCK_BYTES ? f->size - at : FEED_BLOCK_BYTES;
        struct params b = {0};
        p_text(&b, f->vendor);
        p_text(&b, f->epoch);
        p_u64(&b, block);
        p_blob(&b, bytes + at, (size_t)n);
        if ((rc = run_count(st, S_FEED_BLOCK_ADD, &b, "feed", NULL)) != 0)
            return rc;
    }
    return 0;
}

/* A binary float8 column. */
static double col_double(const PGresult *r, int row, int col)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    if (PQgetlength(r, row, col) != 8)
        return 0.0;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits = bits << 8 | v[i];
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static int feed_get(struct psi_txn *t, const char *vendor, const char *epoch,
                    struct psi_store_feed *out)
{
    struct params p = {0};
    p_text(&p, vendor);
    p_text(&p, epoch);
    PGresult *r;
    int rc = one_row(t->store, S_FEED_GET, &p, "feed", &r);
    if (rc != 0)
        return rc;
    memset(out, 0, sizeof *out);
    snprintf(out->vendor, sizeof out->vendor, "%s", vendor);
    snprintf(out->epoch, sizeof out->epoch, "%s", epoch);
    out->count = col_u64(r, 0, 0);
    out->rate = col_double(r, 0, 1);
    out->size = col_u64(r, 0, 2);
    if (col_blob(r, 0, 3, out->digest, sizeof out->digest) != 0 ||
        col_blob(r, 0, 4, out->signature, sizeof out->signature) != 0) {
        snprintf(t->store->error, sizeof t->store->error, "feed: a damaged row");
        rc = PSI_ERR_STORE;
    }
    PQclear(r);
    return rc;
}

static int feed_read(struct psi_txn *t, const char *vendor, const char *epoch, uint64_t offset,
                     uint8_t *out, size_t len)
{
    uint64_t at = offset, end = offset + len;
    while (at < end) {
        uint64_t block = at / FEED_BLOCK_BYTES, within = at % FEED_BLOCK_BYTES;
        struct params p = {0};
        p_text(&p, vendor);
        p_text(&p, epoch);
        p_u64(&p, block);
        PGresult *r;
        int rc = one_row(t->store, S_FEED_BLOCK_GET, &p, "feed", &r);
        if (rc != 0)
            return rc;
        uint64_t held = (uint64_t)PQgetlength(r, 0, 0);
        if (within >= held) {
            PQclear(r);
            return PSI_ERR_NOT_FOUND;
        }
        uint64_t n = held - within < end - at ? held - within : end - at;
        memcpy(out + (at - offset), PQgetvalue(r, 0, 0) + within, (size_t)n);
        PQclear(r);
        at += n;
    }
    return 0;
}

static int quota_set(struct psi_txn *t, const char *agency, const char *vendor, uint64_t limit)
{
    struct params p = {0};
    p_text(&p, agency);
    p_text(&p, vendor);
    p_u64(&p, limit);
    return run_count(t->store, S_QUOTA_SET, &p, "quota", NULL);
}

static int quota_get(struct psi_txn *t, const char *agency, const char *vendor, uint64_t *limit)
{
    struct params p = {0};
    p_text(&p, agency);
    p_text(&p, vendor);
    return one_u64(t->store, S_QUOTA_GET, &p, limit, "quota");
}

static int queries_used(struct psi_txn *t, const char *agency, const char *vendor,
                        const char *epoch, uint64_t *used)
{
    /* The hub adds a batch after counting: one counter at a time. */
    int rc = lock_key(t, "queries", agency, vendor, epoch);
    if (rc != 0)
        return rc;
    struct params p = {0};
    p_text(&p, agency);
    p_text(&p, vendor);
    p_text(&p, epoch);
    return one_u64(t->store, S_QUERIES_USED, &p, used, "queries");
}

static int query_add(struct psi_txn *t, struct psi_store_query *q, const uint8_t *elements,
                     uint64_t now_ms)
{
    if (q->count > SIZE_MAX / PSI_STORE_ELEMENT_BYTES || q->count == 0)
        return PSI_ERR_INVALID;
    struct params p = {0};
    p_text(&p, q->agency);
    p_text(&p, q->vendor);
    p_text(&p, q->epoch);
    p_u64(&p, q->count);
    p_blob(&p, elements, (size_t)q->count * PSI_STORE_ELEMENT_BYTES);
    p_u64(&p, q->log_index);
    p_u64(&p, now_ms);
    if (q->has_signature)
        p_blob(&p, q->signature, sizeof q->signature);
    else
        p_null(&p);
    int rc = one_u64(t->store, S_QUERY_ADD, &p, &q->id, "query");
    return rc == PSI_ERR_NOT_FOUND ? PSI_ERR_STORE : rc;
}

static int query_row(const PGresult *r, int i, struct psi_store_query *q)
{
    memset(q, 0, sizeof *q);
    q->id = col_u64(r, i, 0);
    q->count = col_u64(r, i, 4);
    q->log_index = col_u64(r, i, 5);
    q->answered = !PQgetisnull(r, i, 6);
    q->has_signature = col_blob(r, i, 7, q->signature, sizeof q->signature) == 0;
    return col_text(r, i, 1, q->agency, sizeof q->agency) != 0 ||
                   col_text(r, i, 2, q->vendor, sizeof q->vendor) != 0 ||
                   col_text(r, i, 3, q->epoch, sizeof q->epoch) != 0 ||
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
    if (id > (uint64_t)INT64_MAX)
        return PSI_ERR_NOT_FOUND;
    struct params p = {0};
    p_u64(&p, id);
    PGresult *r;
    int rc = one_row(st, S_QUERY_GET, &p, "query", &r);
    if (rc != 0)
        return rc;
    size_t got = 0;
    if (query_row(r, 0, out) != 0) {
        rc = PSI_ERR_STORE;
    } else {
        size_t bytes = (size_t)out->count * PSI_STORE_ELEMENT_BYTES;
        if (elements != NULL && (col_blob_copy(r, 0, 8, elements, &got) != 0 || got != bytes))
            rc = PSI_ERR_STORE;
        if (rc == 0 && out->answered && evaluated != NULL &&
            (col_blob_copy(r, 0, 9, evaluated, &got) != 0 || got != bytes ||
             (proof != NULL && col_blob(r, 0, 10, proof, PSI_STORE_PROOF_BYTES) != 0)))
            rc = PSI_ERR_STORE;
    }
    PQclear(r);
    if (rc != 0) {
        snprintf(st->error, sizeof st->error, "query: a damaged row");
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
    struct params p = {0};
    p_text(&p, vendor);
    int rc;
    PGresult *r = run(t->store, S_QUERY_PENDING, &p, "query", &rc);
    if (r == NULL)
        return rc;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        struct psi_store_query q;
        if (query_row(r, i, &q) != 0) {
            snprintf(t->store->error, sizeof t->store->error, "query: a damaged row");
            rc = PSI_ERR_STORE;
        } else {
            rc = fn(ctx, &q);
        }
    }
    PQclear(r);
    return rc;
}

static int query_answer(struct psi_txn *t, uint64_t id, const uint8_t *evaluated,
                        const unsigned char proof[PSI_STORE_PROOF_BYTES], uint64_t now_ms)
{
    struct psi_store_query q;
    int rc = query_get(t, id, &q, NULL, NULL, NULL);
    if (rc != 0)
        return rc;
    struct params p = {0};
    p_u64(&p, id);
    p_blob(&p, evaluated, (size_t)q.count * PSI_STORE_ELEMENT_BYTES);
    p_blob(&p, proof, PSI_STORE_PROOF_BYTES);
    p_u64(&p, now_ms);
    uint64_t changed = 0;
    rc = run_count(t->store, S_QUERY_ANSWER, &p, "query answer", &changed);
    return rc != 0 ? rc : changed != 1 ? PSI_ERR_EXISTS : 0; /* answered already */
}

/* ---------------------------------------------------------------- retention and backup */

static int epoch_usage(struct psi_store *st, const char *epoch, struct psi_store_epoch_usage *u)
{
    struct params p = {0};
    p_text(&p, epoch);
    PGresult *r;
    int rc = one_row(st, S_EPOCH_USAGE, &p, "epoch usage", &r);
    if (rc != 0)
        return rc;
    uint64_t *field[] = {&u->submissions, &u->elements,  &u->crossblinds, &u->tags,
                         &u->matches,     &u->feed_keys, &u->feeds,       &u->queries};
    for (int i = 0; i < (int)(sizeof field / sizeof field[0]); i++)
        *field[i] = col_u64(r, 0, i);
    PQclear(r);
    return 0;
}

static int epoch_list(struct psi_txn *t, psi_store_epoch_fn fn, void *ctx)
{
    struct psi_store *st = t->store;
    struct params none = {0};
    int rc;
    PGresult *r = run(st, S_EPOCH_LIST, &none, "epoch list", &rc);
    if (r == NULL)
        return rc;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        struct psi_store_epoch_usage u;
        memset(&u, 0, sizeof u);
        if (col_text(r, i, 0, u.epoch, sizeof u.epoch) != 0) {
            rc = PSI_ERR_TOO_LARGE;
            break;
        }
        u.last_ms = col_u64(r, i, 1);
        rc = epoch_usage(st, u.epoch, &u);
        if (rc == 0)
            rc = fn(ctx, &u);
    }
    PQclear(r);
    return rc;
}

/* The epoch's tags go with its partition: DROP TABLE, which gives the
 * partition's files back to the file system when the transaction commits.
 * It locks the whole tag table until then (ACCESS EXCLUSIVE): the hub's
 * cross-blinds and joins of other epochs wait for the prune's commit. It
 * comes first, so that the prune takes that lock before any row lock a
 * cross-blind could be waiting on, and after the partition lock, which a
 * partition's maker holds while it waits for the tag table: the prune's
 * transaction reads nothing of the tag table before (epoch_list and
 * epoch_usage count tags by their batches), so the two cannot wait for each
 * other. */
static int drop_tag_partition(struct psi_txn *t, const char *epoch)
{
    struct psi_store *st = t->store;
    int rc = lock_key(t, "tag partition", NULL, NULL, NULL);
    if (rc != 0)
        return rc;
    struct params p = {0};
    p_text(&p, epoch);
    PGresult *r;
    rc = one_row(st, S_PARTITION_GET, &p, "prune", &r);
    if (rc == PSI_ERR_NOT_FOUND)
        return 0; /* no cross-blind batch in this epoch */
    if (rc != 0)
        return rc;
    char name[64];
    if (col_text(r, 0, 0, name, sizeof name) != 0) {
        PQclear(r);
        snprintf(st->error, sizeof st->error, "prune: a damaged tag partition name");
        return PSI_ERR_STORE;
    }
    PQclear(r);
    char *ident = PQescapeIdentifier(st->conn, name, strlen(name));
    if (ident == NULL)
        return fail(st, "prune");
    char sql[128];
    snprintf(sql, sizeof sql, "DROP TABLE psi.%s", ident);
    PQfreemem(ident);
    if ((rc = run_simple(st, sql, "prune")) != 0)
        return rc;
    return run_count(st, S_PARTITION_FORGET, &p, "prune", NULL);
}

static int epoch_prune(struct psi_txn *t, const char *epoch, struct psi_store_epoch_usage *removed)
{
    static const enum stmt_id order[] = {
        S_PRUNE_OVERLAP,    S_PRUNE_CROSSBLIND, S_PRUNE_BLOCK,    S_PRUNE_SUBMISSION,
        S_PRUNE_FEED_BLOCK, S_PRUNE_FEED,       S_PRUNE_FEED_KEY, S_PRUNE_QUERY,
    };
    memset(removed, 0, sizeof *removed);
    if (strlen(epoch) > PSI_STORE_EPOCH_MAX)
        return PSI_ERR_INVALID;
    memcpy(removed->epoch, epoch, strlen(epoch) + 1);
    int rc = epoch_usage(t->store, epoch, removed);
    if (rc == 0)
        rc = drop_tag_partition(t, epoch);
    for (size_t i = 0; rc == 0 && i < sizeof order / sizeof order[0]; i++) {
        struct params p = {0};
        p_text(&p, epoch);
        rc = run_count(t->store, order[i], &p, "prune", NULL);
    }
    return rc;
}

static int store_disk_bytes(struct psi_store *st, uint64_t *bytes)
{
    PGresult *r = PQexec(st->conn, STORE_BYTES_SQL);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
    if (ok)
        *bytes = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return ok ? 0 : fail(st, "disk bytes");
}

/* A plain VACUUM (outside a transaction: it cannot run in one) of the tables
 * epoch_prune deletes from. It takes no lock that keeps the hub's readers or
 * writers waiting; it makes the deleted rows' space free for new rows and
 * gives back to the file system only the empty pages at the end of a table
 * (most of a pruned epoch's elements: their TOAST pages were written before
 * the kept epochs'). VACUUM FULL would give back all, but locks each table
 * for the whole rewrite. The tags went back to the file system already, with
 * their partition. */
static int store_compact(struct psi_store *st)
{
    return run_simple(st,
                      "VACUUM psi.overlap, psi.crossblind, psi.element_block, psi.submission,"
                      " psi.feed_block, psi.feed, psi.feed_key, psi.query",
                      "compact");
}

static int store_backup(struct psi_store *st, const char *path, char *err, size_t errlen)
{
    (void)st;
    (void)path;
    snprintf(err, errlen,
             "back up a PostgreSQL store with pg_dump of its database (the schema psi), and the"
             " hub key apart (docs/operations.md, \"Back up and prune\")");
    return PSI_ERR_UNSUPPORTED;
}

/* ---------------------------------------------------------------- the operator's view */

static int usage(struct psi_txn *t, struct psi_store_usage *out)
{
    memset(out, 0, sizeof *out);
    struct params none = {0};
    PGresult *r;
    int rc = one_row(t->store, S_USAGE, &none, "usage", &r);
    if (rc != 0)
        return rc;
    out->elements = col_u64(r, 0, 0);
    out->tags = col_u64(r, 0, 1);
    out->matches = col_u64(r, 0, 2);
    out->bytes = col_u64(r, 0, 3);
    PQclear(r);
    return 0;
}

static int overlap_counts(struct psi_txn *t, const char *epoch, psi_store_overlap_fn fn, void *ctx)
{
    struct psi_store *st = t->store;
    struct params p = {0};
    p_text(&p, epoch);
    int rc;
    PGresult *r = run(st, S_OVERLAP_COUNTS, &p, "overlap", &rc);
    if (r == NULL)
        return rc;
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        char owner[PSI_STORE_ID_MAX + 1], peer[PSI_STORE_ID_MAX + 1];
        if (col_text(r, i, 0, owner, sizeof owner) != 0 ||
            col_text(r, i, 1, peer, sizeof peer) != 0) {
            snprintf(st->error, sizeof st->error, "overlap: a damaged row");
            rc = PSI_ERR_STORE;
            break;
        }
        rc = fn(ctx, owner, peer, col_u64(r, i, 2));
    }
    PQclear(r);
    return rc;
}

const struct psi_store_ops psi_store_pg_ops = {
    .backend = "postgresql",
    .several_front_ends = 1,
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
