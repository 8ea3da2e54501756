/* A SQLite file seen from outside (sqlite_file.h). */
#include "sqlite_file.h"

#include <stdio.h>

#include <sqlite3.h>

int test_sqlite_exec(const char *path, const char *statements)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    char *msg = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, statements, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "test_sqlite_exec: %s: %s\n", path, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc;
}

/* The first column of the first row of sql, or -1. */
static long long single_value(const char *path, int flags, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, flags, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    else
        fprintf(stderr, "test_sqlite: %s: %s: %s\n", path, sql, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

int test_sqlite_user_version(const char *path)
{
    return (int)single_value(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                             "PRAGMA user_version");
}

long long test_sqlite_count_rows(const char *path, const char *table)
{
    char sql[128];
    int n = snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
    if (n < 0 || (size_t)n >= sizeof sql)
        return -1;
    return single_value(path, SQLITE_OPEN_READONLY, sql);
}
