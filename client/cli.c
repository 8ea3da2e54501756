/* Shared pieces of the `psi` subcommands (see cli.h). */
#include "cli.h"
#include "lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "psi/blind.h"
#include "psi/error.h"

int psi_cli_check_hub_url(const char *url)
{
    static const char *const schemes[] = {"tcp://", "tcp4://", "tcp6://"};
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
            rest = url + strlen(schemes[i]);
    if (!rest || strlen(url) > PSI_STATE_URL_MAX)
        return PSI_ERR_PARSE;
    const char *colon = strrchr(rest, ':');
    if (!colon || colon == rest)
        return PSI_ERR_PARSE;
    for (const char *c = rest; c < colon; c++)
        if ((unsigned char)*c <= 0x20 || *c == '/' || *c == 0x7f)
            return PSI_ERR_PARSE;
    uint64_t port;
    return psi_cmdline_parse_u64(colon + 1, 1, 65535, &port);
}

int psi_cli_path(char *out, size_t outlen, const char *dir, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= outlen) ? PSI_ERR_TOO_LARGE : 0;
}

static int write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return PSI_ERR_IO;
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

int psi_cli_seed_write(const char *path, const char *id, const unsigned char seed[32])
{
    char text[256];
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, seed, 32, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(text, sizeof text, "untrusted comment: psi mutual-protocol seed of %s\n%s\n",
                     id, b64);
    sodium_memzero(b64, sizeof b64);
    if (n < 0 || (size_t)n >= sizeof text) {
        sodium_memzero(text, sizeof text);
        return PSI_ERR_TOO_LARGE;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_memzero(text, sizeof text);
        return errno == EEXIST ? PSI_ERR_EXISTS : PSI_ERR_IO;
    }
    int rc = write_all(fd, text, (size_t)n);
    sodium_memzero(text, sizeof text);
    if (!rc && fsync(fd) != 0)
        rc = PSI_ERR_IO;
    if (close(fd) != 0 && !rc)
        rc = PSI_ERR_IO;
    if (rc)
        unlink(path);
    return rc;
}

int psi_cli_seed_read(const char *path, unsigned char seed[32], char *err, size_t errlen)
{
    char text[512];
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return PSI_ERR_IO;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s is not a regular file", path);
        return PSI_ERR_IO;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        snprintf(err, errlen, "%s is accessible by others (mode %03o); chmod 600 it", path,
                 (unsigned)(sb.st_mode & 0777));
        return PSI_ERR_DENIED;
    }
    size_t len = 0;
    while (len < sizeof text - 1) {
        ssize_t n = read(fd, text + len, sizeof text - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            sodium_memzero(text, sizeof text);
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            return PSI_ERR_IO;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    text[len] = '\0';
    int rc = 0;
    const char *comment = "untrusted comment:";
    char *line2 = strchr(text, '\n');
    if (strncmp(text, comment, strlen(comment)) != 0 || !line2) {
        rc = PSI_ERR_PARSE;
    } else {
        line2++;
        size_t b64_len = strcspn(line2, "\r\n");
        size_t bin_len = 0;
        const char *end = NULL;
        if (sodium_base642bin(seed, 32, line2, b64_len, NULL, &bin_len, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            bin_len != 32 || end != line2 + b64_len)
            rc = PSI_ERR_PARSE;
    }
    sodium_memzero(text, sizeof text);
    if (rc) {
        sodium_memzero(seed, 32);
        snprintf(err, errlen, "%s is not a psi seed file", path);
    }
    return rc;
}

int psi_cli_session_open(struct psi_cli_session *s, const char *cmd, const char *dir)
{
    struct stat sb;
    char path[4096], err[512];
    memset(s, 0, sizeof *s);
    s->cmd = cmd;
    s->dir = dir;
    if (stat(dir, &sb) != 0)
        return psi_cmdline_fail(cmd, "state directory %s: %s (run 'psi init' first)", dir,
                                strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return psi_cmdline_fail(cmd, "state directory %s is not a directory", dir);
    int rc = psi_state_open(&s->state, dir);
    if (rc == PSI_ERR_NOT_FOUND)
        return psi_cmdline_fail(cmd, "%s holds no %s (run 'psi init' first)", dir,
                                PSI_STATE_DB_NAME);
    if (rc == PSI_ERR_UNSUPPORTED)
        return psi_cmdline_fail(cmd, "%s/%s has a schema this psi does not know", dir,
                                PSI_STATE_DB_NAME);
    if (rc)
        return psi_cmdline_fail(cmd, "cannot open %s/%s: %s", dir, PSI_STATE_DB_NAME,
                                psi_strerror(rc));
    if (psi_state_config_get(s->state, &s->config)) {
        psi_cmdline_note(cmd, "%s/%s: %s", dir, PSI_STATE_DB_NAME, psi_state_error(s->state));
        psi_cli_session_close(s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    snprintf(err, sizeof err, "path too long");
    if (psi_cli_path(path, sizeof path, dir, PSI_CLI_IDENTITY_FILE) ||
        psi_identity_load(&s->identity, path, err, sizeof err) != 0) {
        psi_cmdline_note(cmd, "identity key %s/%s: %s", dir, PSI_CLI_IDENTITY_FILE, err);
        psi_cli_session_close(s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    s->have_identity = 1;
    if (strcmp(s->identity.name, s->config.id) != 0) {
        psi_cmdline_note(cmd, "identity key %s/%s is for '%s', the state is for '%s'", dir,
                         PSI_CLI_IDENTITY_FILE, s->identity.name, s->config.id);
        psi_cli_session_close(s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    return 0;
}

/* PSI_STATE_LOCK_WAIT in milliseconds; the default for a value that is not
 * a number of seconds from 0 to 3600. */
static unsigned state_lock_wait_ms(void)
{
    const char *text = getenv("PSI_STATE_LOCK_WAIT");
    uint64_t s = PSI_CLI_STATE_LOCK_WAIT_S;
    if (text != NULL && psi_cmdline_parse_u64(text, 0, 3600, &s) != 0)
        s = PSI_CLI_STATE_LOCK_WAIT_S;
    return (unsigned)s * 1000u;
}

int psi_cli_session_lock(struct psi_cli_session *s)
{
    char path[4096], holder[PSI_LOCKFILE_HOLDER_MAX];
    if (s->state_locked)
        return 0;
    if (psi_cli_path(path, sizeof path, s->dir, PSI_CLI_STATE_LOCK_FILE))
        return psi_cmdline_fail(s->cmd, "state directory path too long");
    unsigned wait_ms = state_lock_wait_ms();
    int fd = psi_lockfile_take(path, PSI_LOCK_EXCLUSIVE, wait_ms, s->stop, holder);
    if (fd == PSI_ERR_EXISTS)
        return psi_cmdline_fail(s->cmd,
                                "%s is in use by %s; gave up after %u s (PSI_STATE_LOCK_WAIT)",
                                s->dir, holder, wait_ms / 1000u);
    if (fd == PSI_ERR_TIMEOUT)
        return psi_cmdline_fail(s->cmd, "stopped while waiting for %s, in use by %s", s->dir,
                                holder);
    if (fd < 0)
        return psi_cmdline_fail(s->cmd, "%s", holder);
    s->state_lock = fd;
    s->state_locked = 1;
    return 0;
}

void psi_cli_session_unlock(struct psi_cli_session *s)
{
    if (s->state_locked)
        psi_lockfile_release(s->state_lock);
    s->state_locked = 0;
}

int psi_cli_agent_lock(const char *cmd, const char *dir)
{
    char path[4096], holder[PSI_LOCKFILE_HOLDER_MAX];
    if (psi_cli_path(path, sizeof path, dir, PSI_CLI_AGENT_LOCK_FILE)) {
        psi_cmdline_note(cmd, "state directory path too long");
        return -1;
    }
    int fd = psi_lockfile_take(path, PSI_LOCK_EXCLUSIVE, 0, NULL, holder);
    if (fd == PSI_ERR_EXISTS)
        psi_cmdline_note(cmd, "another agent runs on %s: %s", dir, holder);
    else if (fd < 0)
        psi_cmdline_note(cmd, "%s", holder);
    return fd < 0 ? -1 : fd;
}

void psi_cli_session_close(struct psi_cli_session *s)
{
    psi_cli_session_unlock(s);
    if (s->have_identity)
        psi_identity_clear(&s->identity);
    s->have_identity = 0;
    psi_state_close(s->state);
    s->state = NULL;
}

int psi_cli_epoch_key(struct psi_cli_session *s, const char *epoch, unsigned char key[32])
{
    char path[4096], err[512];
    unsigned char seed[PSI_MUTUAL_SEED_BYTES];
    if (psi_cli_path(path, sizeof path, s->dir, PSI_CLI_SEED_FILE))
        return psi_cmdline_fail(s->cmd, "state directory path too long");
    if (psi_cli_seed_read(path, seed, err, sizeof err))
        return psi_cmdline_fail(s->cmd, "%s", err);
    int rc = psi_mutual_derive_key(seed, epoch, key);
    sodium_memzero(seed, sizeof seed);
    if (rc)
        return psi_cmdline_fail(s->cmd, "cannot derive the key of epoch '%s': %s", epoch,
                                psi_strerror(rc));
    return 0;
}

double psi_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_draw(struct psi_cli_progress *p)
{
    double elapsed = psi_cli_now() - p->started;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    fprintf(stderr, "\rpsi %s: %s %llu/%llu (%.0f/s)\033[K", p->cmd, p->what,
            (unsigned long long)p->done, (unsigned long long)p->total, rate);
    fflush(stderr);
}

void psi_cli_progress_begin(struct psi_cli_progress *p, const char *cmd, const char *what,
                            uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->what = what;
    p->total = total;
    p->started = psi_cli_now();
    p->last_drawn = 0;
    p->enabled = isatty(STDERR_FILENO);
}

void psi_cli_progress_add(struct psi_cli_progress *p, uint64_t n)
{
    p->done += n;
    if (!p->enabled)
        return;
    double now = psi_cli_now();
    if (now - p->last_drawn >= 0.1 || p->done == p->total) {
        p->last_drawn = now;
        progress_draw(p);
    }
}

void psi_cli_progress_end(struct psi_cli_progress *p)
{
    if (!p->enabled)
        return;
    /* Leave the screen as it was: the summary line follows on stdout. */
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    p->enabled = 0;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

int psi_cli_parse_share_with(const char *text, struct psi_state_policy *policy, char *err,
                             size_t errlen)
{
    free(policy->share_with);
    policy->share_with = NULL;
    policy->share_count = 0;
    policy->share_all = strcmp(text, "all") == 0;
    if (policy->share_all || strcmp(text, "none") == 0)
        return 0;
    size_t n = 1;
    for (const char *c = text; *c; c++)
        n += *c == ',';
    if (n > PSI_STATE_SHARE_MAX) {
        snprintf(err, errlen, "--share-with lists more than %d ids", PSI_STATE_SHARE_MAX);
        return PSI_ERR_PARSE;
    }
    policy->share_with = calloc(n, sizeof *policy->share_with);
    if (!policy->share_with) {
        snprintf(err, errlen, "out of memory");
        return PSI_ERR_PARSE;
    }
    const char *c = text;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(c, ",");
        if (len == 0 || len > PSI_ID_MAX) {
            snprintf(err, errlen, "--share-with takes all, none or ids separated by commas");
            goto bad;
        }
        memcpy(policy->share_with[i], c, len);
        policy->share_with[i][len] = '\0';
        if (!psi_id_is_valid(policy->share_with[i])) {
            snprintf(err, errlen, "--share-with: '%s' is not a valid participant id",
                     policy->share_with[i]);
            goto bad;
        }
        c += len + (c[len] == ',');
    }
    qsort(policy->share_with, n, sizeof *policy->share_with, compare_ids);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || strcmp(policy->share_with[kept - 1], policy->share_with[i]) != 0)
            memmove(policy->share_with[kept++], policy->share_with[i],
                    sizeof policy->share_with[0]);
    policy->share_count = kept;
    return 0;
bad:
    free(policy->share_with);
    policy->share_with = NULL;
    return PSI_ERR_PARSE;
}

int64_t psi_cli_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
