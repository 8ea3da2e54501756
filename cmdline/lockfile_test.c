/*
 * Directory locks (lockfile.h) on real files in a scratch directory: flock
 * conflicts between two open file descriptions, so one process can play both
 * holders; a child process plays a holder that dies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lockfile.h"
#include "psi/error.h"
#include "scratch.h"

struct fixture {
    char dir[4096];
    char path[4200];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL || test_scratch_dir(f->dir, sizeof f->dir, "lockfile") != 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/test.lock", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = test_remove_tree(f->dir);
    free(f);
    return rc;
}

static void test_second_exclusive_names_the_holder(void **state)
{
    struct fixture *f = *state;
    char holder[PSI_LOCKFILE_HOLDER_MAX];
    int fd = psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder);
    assert_true(fd >= 0);
    assert_int_equal(psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder),
                     PSI_ERR_EXISTS);
    char expected[64];
    snprintf(expected, sizeof expected, "pid %ld (since 20", (long)getpid());
    assert_true(strncmp(holder, expected, strlen(expected)) == 0);
    assert_non_null(strchr(holder, 'Z'));
    /* a shared taker is refused too */
    assert_int_equal(psi_lockfile_take(f->path, PSI_LOCK_SHARED, 0, NULL, holder), PSI_ERR_EXISTS);
    psi_lockfile_release(fd);
    fd = psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder);
    assert_true(fd >= 0);
    psi_lockfile_release(fd);
}

static void test_shared_holders_share(void **state)
{
    struct fixture *f = *state;
    char holder[PSI_LOCKFILE_HOLDER_MAX];
    int a = psi_lockfile_take(f->path, PSI_LOCK_SHARED, 0, NULL, holder);
    int b = psi_lockfile_take(f->path, PSI_LOCK_SHARED, 0, NULL, holder);
    assert_true(a >= 0 && b >= 0);
    /* shared holders write nothing: the exclusive taker cannot name them */
    assert_int_equal(psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder),
                     PSI_ERR_EXISTS);
    assert_string_equal(holder, "another process");
    psi_lockfile_release(a);
    psi_lockfile_release(b);
}

static void test_a_stale_file_is_no_lock(void **state)
{
    struct fixture *f = *state;
    FILE *out = fopen(f->path, "w");
    assert_non_null(out);
    fprintf(out, "999999 2020-01-01T00:00:00Z\n");
    assert_int_equal(fclose(out), 0);
    char holder[PSI_LOCKFILE_HOLDER_MAX];
    int fd = psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder);
    assert_true(fd >= 0);
    /* and the file now names this process, not the one that is gone */
    char text[64] = "";
    FILE *in = fopen(f->path, "r");
    assert_non_null(in);
    assert_non_null(fgets(text, sizeof text, in));
    fclose(in);
    assert_int_equal(strtol(text, NULL, 10), (long)getpid());
    psi_lockfile_release(fd);
}

/* A holder that exits (here: _exit without releasing, as a killed process
 * would) leaves the lock free. */
static void test_released_when_the_holder_dies(void **state)
{
    struct fixture *f = *state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        char h[PSI_LOCKFILE_HOLDER_MAX];
        int fd = psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 0, NULL, h);
        char b = fd >= 0 ? 'y' : 'n';
        if (write(ready[1], &b, 1) != 1)
            _exit(2);
        sleep(1);
        _exit(0);
    }
    char b = 0;
    assert_int_equal(read(ready[0], &b, 1), 1);
    assert_int_equal(b, 'y');
    char holder[PSI_LOCKFILE_HOLDER_MAX];
    assert_int_equal(psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder),
                     PSI_ERR_EXISTS);
    char expected[32];
    snprintf(expected, sizeof expected, "pid %ld ", (long)child);
    assert_true(strncmp(holder, expected, strlen(expected)) == 0);
    /* waiting long enough outlasts the holder */
    int fd = psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 5000, NULL, holder);
    assert_true(fd >= 0);
    int wstatus = 0;
    assert_int_equal(waitpid(child, &wstatus, 0), child);
    psi_lockfile_release(fd);
    close(ready[0]);
    close(ready[1]);
}

static void test_a_bounded_wait_gives_up(void **state)
{
    struct fixture *f = *state;
    char holder[PSI_LOCKFILE_HOLDER_MAX];
    int fd = psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder);
    assert_true(fd >= 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 300, NULL, holder),
                     PSI_ERR_EXISTS);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(waited >= 0.25);
    psi_lockfile_release(fd);
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* A signal ends the wait (the agent's SIGTERM handler must be able to stop
 * it), and says who held the lock. */
static void test_a_signal_ends_the_wait(void **state)
{
    struct fixture *f = *state;
    char holder[PSI_LOCKFILE_HOLDER_MAX];
    int fd = psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder);
    assert_true(fd >= 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    alarm(1);
    assert_int_equal(psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 10000, NULL, holder),
                     PSI_ERR_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    alarm(0);
    sigaction(SIGALRM, &old, NULL);
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    char expected[32];
    snprintf(expected, sizeof expected, "pid %ld ", (long)getpid());
    assert_true(strncmp(holder, expected, strlen(expected)) == 0);
    /* a stop flag, set by a handler that ran on another thread, ends it too */
    volatile sig_atomic_t stop = 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(psi_lockfile_take(f->path, PSI_LOCK_EXCLUSIVE, 10000, &stop, holder),
                     PSI_ERR_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    psi_lockfile_release(fd);
}

static void test_an_unusable_path_is_explained(void **state)
{
    struct fixture *f = *state;
    char path[4300], holder[PSI_LOCKFILE_HOLDER_MAX];
    snprintf(path, sizeof path, "%s/missing/x.lock", f->dir);
    assert_int_equal(psi_lockfile_take(path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder), PSI_ERR_IO);
    assert_non_null(strstr(holder, "cannot open"));
    psi_lockfile_release(-1); /* nothing to release is no error */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_second_exclusive_names_the_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_holders_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_stale_file_is_no_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_released_when_the_holder_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_bounded_wait_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_signal_ends_the_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_unusable_path_is_explained, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
