/*
 * Schema migrations of an SQLite file, as one numbered list on
 * PRAGMA user_version. The hub's store (server/store_sqlite.c) and the
 * participant's state (client/state.c) each keep their schema's history as
 * such a list; this module applies it, so both migrate the same way.
 *
 * Step k makes a database of version k - 1 one of version k; step 1 makes
 * the empty file a database. psi_sqlite_migrate applies every step the file
 * lacks in ONE write transaction (BEGIN IMMEDIATE), with user_version set
 * in it: a crash leaves the file at the version it had, and two processes
 * opening the same old file at once migrate it once. A step may ALTER
 * tables: its SQL runs first, then its function (for what plain SQL cannot
 * say, such as adding a column a file may already have). A file of a later
 * version than the list knows is refused, never guessed at.
 *
 * Links only SQLite: the client does not depend on server/ to use it.
 */
#ifndef PSI_SQLITE_MIGRATE_H
#define PSI_SQLITE_MIGRATE_H

#include <stddef.h>

#include <sqlite3.h>

struct psi_sqlite_migration {
    int version;      /* the version the step brings the file to: 1, 2, ... in order */
    const char *what; /* for a person, in error messages */
    const char *sql;  /* run first; may be NULL */
    /* run second; may be NULL. 0 or a negative psi error code; err gets a reason. */
    int (*run)(sqlite3 *db, char *err, size_t errlen);
};

/* How psi_sqlite_migrate treats a file of version 0. */
struct psi_sqlite_migrate_opts {
    /* 1: an empty file is to become a database (creating one). 0: a file of
     * version 0 that legacy() does not place is not one of ours, refused
     * with PSI_ERR_UNSUPPORTED and left untouched. */
    int create;
    /* A file made before its schema was numbered: sets *version to the
     * version it is equivalent to (0: none), inside the write transaction.
     * May be NULL. */
    int (*legacy)(sqlite3 *db, int *version, char *err, size_t errlen);
    /* Stop at this version (0: the last step). Tests make older files so. */
    int upto;
};

/* The file's PRAGMA user_version. 0 or PSI_ERR_STORE. */
int psi_sqlite_user_version(sqlite3 *db, int *version);

/* Brings db to the last version of steps[0..count) (or opts->upto). *from
 * (may be NULL) gets the version the file had. 0; PSI_ERR_UNSUPPORTED for a
 * file of a later version, or of none (see opts->create); PSI_ERR_STORE or
 * the code of a failed step, with err saying which step and why. */
int psi_sqlite_migrate(sqlite3 *db, const struct psi_sqlite_migration *steps, size_t count,
                       const struct psi_sqlite_migrate_opts *opts, int *from, char *err,
                       size_t errlen);

/* 1 if table has column, 0 if not (or no such table); PSI_ERR_STORE. For
 * steps that add a column a file may already have. */
int psi_sqlite_has_column(sqlite3 *db, const char *table, const char *column);

#endif
