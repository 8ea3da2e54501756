/*
 * What the SQLite backend says of itself beyond the operations table (which
 * only the registry, store_backends.c, names): its schema version, and a
 * way for tests to make a store as an older version of this code left it,
 * to check that open migrates it (server/store_migrate_test.c).
 */
#ifndef PSI_HUB_STORE_SQLITE_H
#define PSI_HUB_STORE_SQLITE_H

#include <stddef.h>

/* The store's PRAGMA user_version: the number of its last migration. */
#define PSI_STORE_SQLITE_SCHEMA_VERSION 7

/* Creates a new store at path as version `version` (1..current) of the
 * schema left it: the migrations up to that one, and no further. 0 or a
 * negative psi error code, err saying why. */
int psi_store_sqlite_create_at_version(const char *path, int version, char *err, size_t errlen);

#endif
