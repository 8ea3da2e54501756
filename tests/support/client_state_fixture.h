/*
 * The fixture the tests of the participant's state share
 * (client/state_test.c, state_log_test.c, epoch_guard_test.c): a state
 * created for a fixed configuration in a scratch directory of its own
 * (scratch.h), and removed with its directory afterwards; the client's code
 * is psi_client_core's. Set-up and tear-down are cmocka's: they return 0 or
 * -1.
 */
#ifndef PSI_TEST_CLIENT_STATE_FIXTURE_H
#define PSI_TEST_CLIENT_STATE_FIXTURE_H

#include "scratch.h"
#include "state.h"

struct fixture {
    char dir[256];
    struct psi_state *st;
};

/* The configuration every fixture's state is created with. */
extern const struct psi_state_config test_config;

/* A cmocka set-up: a state of test_config in a new scratch directory
 * TMPDIR/psi-TAG-XXXXXX; *state is the struct fixture. */
int state_fixture_setup(void **state, const char *tag);

/* The cmocka tear-down of state_fixture_setup. */
int state_fixture_teardown(void **state);

#endif
