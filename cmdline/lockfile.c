/* Directory locks with flock(2) (lockfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lockfile.h"
#include "psi/error.h"

#define RETRY_MS 50u

/* 0, or -1 when a signal cut the pause short. */
static int sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    return nanosleep(&ts, NULL) == 0 ? 0 : -1;
}

/* What the exclusive holder wrote, as one printable line. */
static void describe_holder(int fd, char holder[PSI_LOCKFILE_HOLDER_MAX])
{
    char text[64];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    long pid = 0;
    char since[32] = "";
    if (n > 0) {
        text[n] = '\0';
        char *end = NULL;
        errno = 0;
        pid = strtol(text, &end, 10);
        if (errno != 0 || end == text || (*end != ' ' && *end != '\n' && *end != '\0'))
            pid = 0;
        else if (*end == ' ')
            snprintf(since, sizeof since, "%.*s", (int)strcspn(end + 1, " \n"), end + 1);
    }
    if (pid <= 0) {
        snprintf(holder, PSI_LOCKFILE_HOLDER_MAX, "another process");
        return;
    }
    /* the file is anyone's to write: only a timestamp's characters pass */
    for (char *c = since; *c; c++)
        if (strchr("0123456789-:.TZ", *c) == NULL)
            *c = '?';
    if (since[0])
        snprintf(holder, PSI_LOCKFILE_HOLDER_MAX, "pid %ld (since %s)", pid, since);
    else
        snprintf(holder, PSI_LOCKFILE_HOLDER_MAX, "pid %ld", pid);
}

static int write_holder(int fd)
{
    time_t now = time(NULL);
    struct tm tm;
    char since[32] = "?";
    if (gmtime_r(&now, &tm) != NULL)
        strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char text[64];
    int n = snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), since);
    if (n < 0 || (size_t)n >= sizeof text || ftruncate(fd, 0) != 0 ||
        pwrite(fd, text, (size_t)n, 0) != (ssize_t)n)
        return -1;
    return 0;
}

int psi_lockfile_take(const char *path, enum psi_lock_mode mode, unsigned wait_ms,
                      const volatile sig_atomic_t *stop, char holder[PSI_LOCKFILE_HOLDER_MAX])
{
    holder[0] = '\0';
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(holder, PSI_LOCKFILE_HOLDER_MAX, "cannot open %s: %s", path, strerror(errno));
        return PSI_ERR_IO;
    }
    int operation = (mode == PSI_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH) | LOCK_NB;
    unsigned waited = 0;
    for (;;) {
        if (flock(fd, operation) == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK) {
            snprintf(holder, PSI_LOCKFILE_HOLDER_MAX, "cannot lock %s: %s", path, strerror(errno));
            close(fd);
            return PSI_ERR_IO;
        }
        if (waited >= wait_ms) {
            describe_holder(fd, holder);
            close(fd);
            return PSI_ERR_EXISTS;
        }
        if ((stop != NULL && *stop) || sleep_ms(RETRY_MS) != 0) {
            describe_holder(fd, holder);
            close(fd);
            return PSI_ERR_TIMEOUT;
        }
        waited += RETRY_MS;
    }
    if (mode == PSI_LOCK_EXCLUSIVE && write_holder(fd) != 0) {
        snprintf(holder, PSI_LOCKFILE_HOLDER_MAX, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return PSI_ERR_IO;
    }
    return fd;
}

void psi_lockfile_release(int fd)
{
    if (fd < 0)
        return;
    /* An exclusive holder's words go with it, so a later reader of the file
     * never names a process that no longer holds anything. */
    if (ftruncate(fd, 0) != 0) {
        /* a holder's words left behind name a pid that holds nothing: the
         * next taker overwrites them */
    }
    close(fd);
}
