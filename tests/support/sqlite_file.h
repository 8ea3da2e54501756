/*
 * A SQLite file seen from outside, as an operator (or an attacker with the
 * disk) sees it: statements run on a connection of the test's own, a
 * schema's PRAGMA user_version, a table's rows counted. For what no store or
 * state operation says (the hub's store and the participant's state both
 * keep SQLite files), and for planting old schemas to migrate from. Nothing
 * here asserts: failures say why on stderr and return -1 (or SQLite's code).
 */
#ifndef PSI_TEST_SQLITE_FILE_H
#define PSI_TEST_SQLITE_FILE_H

/* Runs statements (';'-separated) on the file at path, created if missing.
 * SQLITE_OK (0), or SQLite's error code with its message on stderr. */
int test_sqlite_exec(const char *path, const char *statements);

/* The file's PRAGMA user_version, or -1. */
int test_sqlite_user_version(const char *path);

/* The number of rows of table in the file (opened read-only), or -1. */
long long test_sqlite_count_rows(const char *path, const char *table);

#endif
