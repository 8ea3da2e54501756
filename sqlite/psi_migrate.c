/* Numbered schema migrations on PRAGMA user_version (see psi_migrate.h). */
#include "psi_migrate.h"

#include <stdio.h>
#include <string.h>

#include "psi/error.h"

int psi_sqlite_user_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *s = NULL;
    int rc = PSI_ERR_STORE;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        *version = sqlite3_column_int(s, 0);
        rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

int psi_sqlite_has_column(sqlite3 *db, const char *table, const char *column)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &s,
                           NULL) != SQLITE_OK ||
        sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC) != SQLITE_OK) {
        sqlite3_finalize(s);
        return PSI_ERR_STORE;
    }
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : PSI_ERR_STORE;
}

static int exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return PSI_ERR_STORE;
    }
    return 0;
}

/* Runs the steps after *version up to target, in the open transaction. */
static int apply(sqlite3 *db, const struct psi_sqlite_migration *steps, size_t count, int version,
                 int target, char *err, size_t errlen)
{
    for (size_t i = 0; i < count && steps[i].version <= target; i++) {
        const struct psi_sqlite_migration *m = &steps[i];
        if (m->version <= version)
            continue;
        char what[160];
        snprintf(what, sizeof what, "migrating to version %d (%s)", m->version, m->what);
        int rc = m->sql != NULL ? exec(db, m->sql, what, err, errlen) : 0;
        if (rc == 0 && m->run != NULL) {
            char why[256] = "";
            rc = m->run(db, why, sizeof why);
            if (rc != 0)
                snprintf(err, errlen, "%s: %s", what, why[0] ? why : sqlite3_errmsg(db));
        }
        if (rc != 0)
            return rc;
    }
    char pragma[48];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", target);
    return exec(db, pragma, "recording the schema version", err, errlen);
}

int psi_sqlite_migrate(sqlite3 *db, const struct psi_sqlite_migration *steps, size_t count,
                       const struct psi_sqlite_migrate_opts *opts, int *from, char *err,
                       size_t errlen)
{
    int last = count > 0 ? steps[count - 1].version : 0;
    int target = opts->upto > 0 && opts->upto < last ? opts->upto : last;
    int version = 0;
    /* The common case, a file of this version, takes no write lock. */
    if (psi_sqlite_user_version(db, &version) != 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        return PSI_ERR_STORE;
    }
    if (from != NULL)
        *from = version;
    if (version == target && version > 0)
        return 0;
    if (version > last) {
        snprintf(err, errlen, "schema version %d is newer than this program knows (%d)", version,
                 last);
        return PSI_ERR_UNSUPPORTED;
    }
    int rc = exec(db, "BEGIN IMMEDIATE", "locking for migration", err, errlen);
    if (rc != 0)
        return rc;
    /* Again under the lock: another process may have migrated it since. */
    rc = psi_sqlite_user_version(db, &version) != 0 ? PSI_ERR_STORE : 0;
    int stored = version;
    if (rc == 0 && version == 0 && opts->legacy != NULL)
        rc = opts->legacy(db, &version, err, errlen);
    if (rc == 0 && from != NULL)
        *from = version;
    if (rc == 0 && version == 0 && !opts->create) {
        snprintf(err, errlen, "not a database of this schema (no schema version)");
        rc = PSI_ERR_UNSUPPORTED;
    } else if (rc == 0 && version > last) {
        snprintf(err, errlen, "schema version %d is newer than this program knows (%d)", version,
                 last);
        rc = PSI_ERR_UNSUPPORTED;
    }
    if (rc == 0 && version <= target && stored != target)
        rc = apply(db, steps, count, version, target, err, errlen);
    if (rc == 0)
        rc = exec(db, "COMMIT", "committing the migration", err, errlen);
    if (rc != 0 && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
