/*
 * The registry of store backends: the one place that knows which backends
 * exist. The hub chooses its backend once, when it loads (psi_hub_load) or
 * when an admin command opens the store, and from then on speaks only to the
 * operations table it got here (see store.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "psi/error.h"
#include "store.h"

/* Defined by store_sqlite.c; named here and nowhere else, so that adding a
 * backend is one line below. */
extern const struct psi_store_ops psi_store_sqlite_ops;

static const struct {
    const char *name;
    const struct psi_store_ops *ops;
    /* What marks a hub directory as this backend's: the file whose presence
     * says so, which is also the location handed to the backend. */
    const char *file;
} BACKENDS[] = {
    {"sqlite", &psi_store_sqlite_ops, "hub.db"},
};

#define BACKEND_COUNT (sizeof BACKENDS / sizeof BACKENDS[0])

const struct psi_store_ops *psi_store_backend(const char *name)
{
    if (name == NULL)
        name = PSI_STORE_DEFAULT_BACKEND;
    for (size_t i = 0; i < BACKEND_COUNT; i++)
        if (strcmp(BACKENDS[i].name, name) == 0)
            return BACKENDS[i].ops;
    return NULL;
}

static int location_of(const char *dir, size_t i, char *location, size_t cap)
{
    int n = snprintf(location, cap, "%s/%s", dir, BACKENDS[i].file);
    return n < 0 || (size_t)n >= cap ? PSI_ERR_TOO_LARGE : 0;
}

int psi_store_in_dir(const char *dir, const char *name, const struct psi_store_ops **ops,
                     char *location, size_t cap, char *err, size_t errlen)
{
    *ops = NULL;
    if (name != NULL) {
        const struct psi_store_ops *found = psi_store_backend(name);
        size_t i = 0;
        while (i < BACKEND_COUNT && BACKENDS[i].ops != found)
            i++;
        if (i == BACKEND_COUNT) {
            snprintf(err, errlen, "no store backend called '%s'", name);
            return PSI_ERR_NOT_FOUND;
        }
        if (location_of(dir, i, location, cap) != 0) {
            snprintf(err, errlen, "hub directory path too long");
            return PSI_ERR_TOO_LARGE;
        }
        *ops = found;
        return 0;
    }
    for (size_t i = 0; i < BACKEND_COUNT; i++) {
        if (location_of(dir, i, location, cap) != 0) {
            snprintf(err, errlen, "hub directory path too long");
            return PSI_ERR_TOO_LARGE;
        }
        struct stat sb;
        if (stat(location, &sb) == 0) {
            *ops = BACKENDS[i].ops;
            return 0;
        }
        if (errno != ENOENT) {
            snprintf(err, errlen, "cannot look at %s: %s", location, strerror(errno));
            return PSI_ERR_IO;
        }
    }
    snprintf(err, errlen, "no store of a known backend there");
    return PSI_ERR_NOT_FOUND;
}
