/*
 * Directory locks: one process at a time on a hub directory or a
 * participant's state directory (docs/operations.md, "Locks").
 *
 * A lock is flock(2) on a file in the directory, never the file itself: the
 * kernel drops the lock when its holder exits or is killed, so a file left
 * behind by a process that is gone locks nothing. An exclusive holder writes
 * "PID SINCE" into the file (SINCE: UTC, ISO 8601), so that whoever is
 * refused can say who holds it; shared holders write nothing. The lock is
 * released by psi_lockfile_release or by the holder's exit.
 */
#ifndef PSI_LOCKFILE_H
#define PSI_LOCKFILE_H

#include <signal.h>
#include <stddef.h>

enum psi_lock_mode {
    PSI_LOCK_EXCLUSIVE, /* one holder */
    PSI_LOCK_SHARED,    /* any number of shared holders, no exclusive one */
};

/* Room for the holder's description: "pid 1234 (since 2026-12-02T13:20:00Z)". */
#define PSI_LOCKFILE_HOLDER_MAX 96

/* Takes the lock on path (the file is created, mode 0644, if missing),
 * trying for up to wait_ms milliseconds (0: once). Returns the lock's file
 * descriptor (>= 0); PSI_ERR_EXISTS when another process holds it, with
 * holder describing it ("pid 1234 (since ...)", or "another process" when it
 * wrote nothing yet); PSI_ERR_TIMEOUT, with holder the same, when the wait
 * was ended early: *stop (when stop is not NULL) became non-zero, or a signal
 * interrupted this thread's pause (a process asked to stop stops waiting);
 * PSI_ERR_IO when the file cannot be opened or locked, with the reason in
 * holder. */
int psi_lockfile_take(const char *path, enum psi_lock_mode mode, unsigned wait_ms,
                      const volatile sig_atomic_t *stop, char holder[PSI_LOCKFILE_HOLDER_MAX]);

/* Releases a lock taken by psi_lockfile_take (fd < 0: nothing to do). The
 * file stays: a file is no lock. */
void psi_lockfile_release(int fd);

#endif
