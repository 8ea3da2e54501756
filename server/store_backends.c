/*
 * The registry of store backends: the one place that knows which backends
 * exist. The hub chooses its backend once, when it loads (psi_hub_load) or
 * when an admin command opens the store, and from then on speaks only to the
 * operations table it got here (see store.h).
 *
 * A hub directory says which backend holds its store by one file: the store
 * itself (SQLite: DIR/hub.db), or, for a backend whose store lives on a
 * server, a small file holding its location (PostgreSQL: DIR/store.url, mode
 * 0600, one line: the libpq connection string).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "psi/error.h"
#include "store.h"
#include "store_pg.h"

/* Defined by store_sqlite.c and store_pg.c; named here and nowhere else, so
 * that adding a backend is one line below. */
extern const struct psi_store_ops psi_store_sqlite_ops;
extern const struct psi_store_ops psi_store_pg_ops;

static const struct {
    const char *name;
    const struct psi_store_ops *ops;
    /* What marks a hub directory as this backend's: the file whose presence
     * says so. */
    const char *file;
    /* NULL: the file is the store, and its path the location handed to the
     * backend. Otherwise the file holds the location, and this says which
     * locations (psi-hub init --store LOCATION) are the backend's. */
    int (*is_location)(const char *location);
} BACKENDS[] = {
    {"sqlite", &psi_store_sqlite_ops, "hub.db", NULL},
    {"postgresql", &psi_store_pg_ops, "store.url", psi_store_pg_is_location},
};

#define BACKEND_COUNT (sizeof BACKENDS / sizeof BACKENDS[0])

/* The longest location a store.url may hold. */
#define LOCATION_MAX 4000

const struct psi_store_ops *psi_store_backend(const char *name)
{
    if (name == NULL)
        name = PSI_STORE_DEFAULT_BACKEND;
    for (size_t i = 0; i < BACKEND_COUNT; i++)
        if (strcmp(BACKENDS[i].name, name) == 0)
            return BACKENDS[i].ops;
    return NULL;
}

const struct psi_store_ops *psi_store_backend_at(size_t i)
{
    return i < BACKEND_COUNT ? BACKENDS[i].ops : NULL;
}

static size_t index_of(const struct psi_store_ops *ops)
{
    size_t i = 0;
    while (i < BACKEND_COUNT && BACKENDS[i].ops != ops)
        i++;
    return i;
}

static int file_of(const char *dir, size_t i, char *path, size_t cap)
{
    int n = snprintf(path, cap, "%s/%s", dir, BACKENDS[i].file);
    return n < 0 || (size_t)n >= cap ? PSI_ERR_TOO_LARGE : 0;
}

/* The location in backend i's file in dir (which exists). */
static int read_location(const char *path, char *location, size_t cap, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return PSI_ERR_IO;
    }
    char line[LOCATION_MAX + 2];
    size_t n = fread(line, 1, sizeof line - 1, f);
    int bad = ferror(f);
    fclose(f);
    line[n] = '\0';
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (bad || n == 0 || n > LOCATION_MAX || strchr(line, '\n') != NULL) {
        snprintf(err, errlen, "%s does not hold one store location", path);
        return PSI_ERR_PARSE;
    }
    if (n >= cap) {
        snprintf(err, errlen, "the store location in %s is too long", path);
        return PSI_ERR_TOO_LARGE;
    }
    memcpy(location, line, n + 1);
    return 0;
}

/* Backend i's location for dir: its file's path, or what its file holds. */
static int location_in(const char *dir, size_t i, char *location, size_t cap, char *err,
                       size_t errlen)
{
    char path[4096];
    if (file_of(dir, i, path, sizeof path) != 0) {
        snprintf(err, errlen, "hub directory path too long");
        return PSI_ERR_TOO_LARGE;
    }
    if (BACKENDS[i].is_location != NULL)
        return read_location(path, location, cap, err, errlen);
    if (snprintf(location, cap, "%s", path) >= (int)cap) {
        snprintf(err, errlen, "hub directory path too long");
        return PSI_ERR_TOO_LARGE;
    }
    return 0;
}

int psi_store_in_dir(const char *dir, const char *name, const struct psi_store_ops **ops,
                     char *location, size_t cap, char *err, size_t errlen)
{
    *ops = NULL;
    if (name != NULL) {
        const struct psi_store_ops *found = psi_store_backend(name);
        size_t i = index_of(found);
        if (i == BACKEND_COUNT) {
            snprintf(err, errlen, "no store backend called '%s'", name);
            return PSI_ERR_NOT_FOUND;
        }
        int rc = location_in(dir, i, location, cap, err, errlen);
        if (rc != 0)
            return rc;
        *ops = found;
        return 0;
    }
    for (size_t i = 0; i < BACKEND_COUNT; i++) {
        char path[4096];
        if (file_of(dir, i, path, sizeof path) != 0) {
            snprintf(err, errlen, "hub directory path too long");
            return PSI_ERR_TOO_LARGE;
        }
        struct stat sb;
        if (stat(path, &sb) == 0) {
            int rc = location_in(dir, i, location, cap, err, errlen);
            if (rc == 0)
                *ops = BACKENDS[i].ops;
            return rc;
        }
        if (errno != ENOENT) {
            snprintf(err, errlen, "cannot look at %s: %s", path, strerror(errno));
            return PSI_ERR_IO;
        }
    }
    snprintf(err, errlen, "no store of a known backend there");
    return PSI_ERR_NOT_FOUND;
}

int psi_store_for_new_hub(const char *dir, const char *store, const struct psi_store_ops **ops,
                          char *location, size_t cap, char *err, size_t errlen)
{
    *ops = NULL;
    if (store == NULL)
        store = PSI_STORE_DEFAULT_BACKEND;
    for (size_t i = 0; i < BACKEND_COUNT; i++) {
        if (BACKENDS[i].is_location == NULL && strcmp(store, BACKENDS[i].name) == 0) {
            if (file_of(dir, i, location, cap) != 0) {
                snprintf(err, errlen, "hub directory path too long");
                return PSI_ERR_TOO_LARGE;
            }
            *ops = BACKENDS[i].ops;
            return 0;
        }
        if (BACKENDS[i].is_location != NULL && BACKENDS[i].is_location(store)) {
            if (strlen(store) > LOCATION_MAX || strchr(store, '\n') != NULL ||
                snprintf(location, cap, "%s", store) >= (int)cap) {
                snprintf(err, errlen, "the store location is too long or has a line break");
                return PSI_ERR_INVALID;
            }
            *ops = BACKENDS[i].ops;
            return 0;
        }
    }
    snprintf(err, errlen,
             "--store wants sqlite, or a PostgreSQL location (postgresql://... or"
             " host=... dbname=...)");
    return PSI_ERR_INVALID;
}

int psi_store_bind_dir(const char *dir, const struct psi_store_ops *ops, const char *location,
                       char *err, size_t errlen)
{
    size_t i = index_of(ops);
    if (i == BACKEND_COUNT || BACKENDS[i].is_location == NULL)
        return 0; /* the store itself marks the directory */
    char path[4096];
    if (file_of(dir, i, path, sizeof path) != 0) {
        snprintf(err, errlen, "hub directory path too long");
        return PSI_ERR_TOO_LARGE;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return PSI_ERR_IO;
    }
    size_t len = strlen(location);
    int ok = write(fd, location, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(path);
        return PSI_ERR_IO;
    }
    return 0;
}

void psi_store_unbind_dir(const char *dir, const struct psi_store_ops *ops)
{
    size_t i = index_of(ops);
    char path[4096];
    if (i < BACKEND_COUNT && BACKENDS[i].is_location != NULL &&
        file_of(dir, i, path, sizeof path) == 0)
        unlink(path);
}

void psi_store_location_for_people(const char *location, char *out, size_t cap)
{
    if (psi_store_pg_is_location(location))
        psi_store_pg_redact(location, out, cap);
    else
        snprintf(out, cap, "%s", location);
}
