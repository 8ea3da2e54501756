/*
 * The fixture the tests of the participant's state share
 * (tests/client_state_test.c, client_log_state_test.c): a state created in a
 * fresh temporary directory for a fixed configuration, and removed with its
 * directory afterwards. Include after cmocka.h.
 */
#ifndef PSI_TESTS_CLIENT_STATE_FIXTURE_H
#define PSI_TESTS_CLIENT_STATE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "state.h"

struct fixture {
    char dir[64];
    struct psi_state *st;
};

static const struct psi_state_config test_config = {
    .id = "agency-a",
    .hub_url = "tcp://127.0.0.1:4433",
    .hub_key = {1, 2, 3},
    .hub_vkey = "hub+01020304+AQID",
};

/* Removes the state's database files (not the directory). */
static inline void state_fixture_remove_db(const char *dir)
{
    static const char *const names[] = {"state.db", "state.db-wal", "state.db-shm"};
    char path[128];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
}

/* A cmocka set-up: a state of test_config in a new directory made from
 * dir_template (mkdtemp's XXXXXX at its end). */
static inline int state_fixture_setup(void **state, const char *dir_template)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f || sodium_init() < 0) {
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof f->dir, "%s", dir_template);
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    if (psi_state_create(&f->st, f->dir, &test_config) != 0) {
        state_fixture_remove_db(f->dir);
        rmdir(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* The cmocka tear-down of state_fixture_setup. */
static inline int state_fixture_teardown(void **state)
{
    struct fixture *f = *state;
    psi_state_close(f->st);
    state_fixture_remove_db(f->dir);
    rmdir(f->dir);
    free(f);
    return 0;
}

#endif
