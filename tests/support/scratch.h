/*
 * Scratch space for tests: a directory of the test's own, made fresh with
 * mkdtemp under $TMPDIR (else /tmp) so that tests run in parallel, or by
 * different users, never share a path, and its removal with everything in it.
 * Nothing here asserts: each function says what went wrong on stderr and
 * returns -1, so that benchmarks and threads can use it as well as cmocka
 * tests.
 */
#ifndef PSI_TEST_SCRATCH_H
#define PSI_TEST_SCRATCH_H

#include <stddef.h>

/* Where scratch directories go: $TMPDIR when it is set and not empty, else
 * "/tmp". */
const char *test_tmpdir(void);

/* Makes a new, empty directory "TMPDIR/psi-TAG-XXXXXX" (mode 0700) and puts
 * its path in dir (cap bytes). 0, or -1 when the path does not fit or mkdtemp
 * fails. */
int test_scratch_dir(char *dir, size_t cap, const char *tag);

/* Removes path and, when it is a directory, everything below it (symbolic
 * links are removed, never followed). 0 when nothing is left (also when
 * there was nothing), else -1. */
int test_remove_tree(const char *path);

#endif
