/* The participant's state in a scratch directory (client_state_fixture.h). */
#include "client_state_fixture.h"

#include <stdlib.h>

#include <sodium.h>

const struct psi_state_config test_config = {
    .id = "agency-a",
    .hub_url = "tcp://127.0.0.1:4433",
    .hub_key = {1, 2, 3},
    .hub_vkey = "hub+01020304+AQID",
};

int state_fixture_setup(void **state, const char *tag)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f || sodium_init() < 0) {
        free(f);
        return -1;
    }
    if (test_scratch_dir(f->dir, sizeof f->dir, tag) != 0) {
        free(f);
        return -1;
    }
    if (psi_state_create(&f->st, f->dir, &test_config) != 0) {
        test_remove_tree(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int state_fixture_teardown(void **state)
{
    struct fixture *f = *state;
    psi_state_close(f->st);
    test_remove_tree(f->dir);
    free(f);
    return 0;
}
