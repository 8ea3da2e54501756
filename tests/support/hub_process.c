/*
 * Helpers for tests that drive a real psi-hub over loopback (see
 * hub_process.h).
 */
#include "hub_process.h"
#include "scratch.h"
#include "wire.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "psi.pb-c.h"
#include "psi/error.h"

/* ---------------------------------------------------------------- the process */

int hub_test_run_capture(const char *cmd, char *out, size_t cap)
{
    /* The tests run the built psi and psi-hub binaries: cmd is theirs (quoted
     * scratch paths, fixed options, redirections), the shell is wanted. */
    FILE *p = popen(cmd, "r"); /* NOLINT(cert-env33-c): runs the built binaries */
    if (p == NULL)
        return -1;
    size_t n = 0;
    char sink[256];
    if (out != NULL && cap > 0) {
        n = fread(out, 1, cap - 1, p);
        out[n] = '\0';
    }
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int hub_test_hub_command(const struct hub_test_hub *h, char *out, size_t cap, const char *fmt, ...)
{
    char args[3072], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof args)
        return -1;
    n = snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", h->bin, args);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return hub_test_run_capture(cmd, out, cap);
}

int hub_test_hub_create(struct hub_test_hub *h, const char *bin, const char *tag, const char *name,
                        const char *init_options)
{
    memset(h, 0, sizeof *h);
    snprintf(h->bin, sizeof h->bin, "%s", bin);
    snprintf(h->name, sizeof h->name, "%s", name);
    if (test_scratch_dir(h->dir, sizeof h->dir, tag) != 0)
        return PSI_ERR_IO;
    snprintf(h->hub_dir, sizeof h->hub_dir, "%s/hub", h->dir);
    snprintf(h->log_path, sizeof h->log_path, "%s/hub.log", h->dir);
    char out[4096];
    int rc = hub_test_hub_command(h, out, sizeof out, "init --dir '%s' --name '%s' %s", h->hub_dir,
                                  name, init_options ? init_options : "");
    if (rc != 0) {
        fprintf(stderr, "hub_test: psi-hub init exited %d\n", rc);
        return PSI_ERR_STATE;
    }
    /* The verifier key is the last line. */
    size_t len = strlen(out);
    while (len > 0 && out[len - 1] == '\n')
        out[--len] = '\0';
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    snprintf(h->vkey, sizeof h->vkey, "%s", last);
    char key_name[65];
    if (psi_vkey_parse(h->vkey, key_name, h->hub_key) != 0 || strcmp(key_name, name) != 0) {
        fprintf(stderr, "hub_test: psi-hub init printed no key for %s: '%s'\n", name, last);
        return PSI_ERR_PARSE;
    }
    return 0;
}

int hub_test_hub_admit(const struct hub_test_hub *h, const struct psi_identity *id,
                       const char *role, const char *options)
{
    char vkey[PSI_VKEY_MAX];
    if (psi_identity_vkey(id, vkey, sizeof vkey) != 0)
        return PSI_ERR_INVALID;
    int rc = hub_test_hub_command(h, NULL, 0, "admit --dir '%s' --id '%s' --role %s --key '%s' %s",
                                  h->hub_dir, id->name, role, vkey, options ? options : "");
    if (rc != 0) {
        fprintf(stderr, "hub_test: psi-hub admit %s exited %d\n", id->name, rc);
        return PSI_ERR_STATE;
    }
    return 0;
}

extern char **environ;

int hub_test_hub_serve(struct hub_test_hub *h, unsigned contexts, const char *extra_env)
{
    char contexts_text[16];
    snprintf(contexts_text, sizeof contexts_text, "%u", contexts);
    /* The child's environment is built here: after fork only exec. */
    size_t n_env = 0;
    while (environ[n_env] != NULL)
        n_env++;
    char **env = calloc(n_env + 2, sizeof *env);
    if (env == NULL)
        return PSI_ERR_NOMEM;
    memcpy(env, environ, n_env * sizeof *env);
    if (extra_env != NULL)
        env[n_env] = (char *)extra_env;
    int out[2];
    if (pipe(out) != 0) {
        free(env);
        return PSI_ERR_IO;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        free(env);
        return PSI_ERR_IO;
    }
    if (pid == 0) {
        dup2(out[1], 1);
        int fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0)
            dup2(fd, 2);
        close(out[0]);
        if (h->max_connections[0] != '\0')
            execle(h->bin, h->bin, "serve", "--dir", h->hub_dir, "--listen", "tcp://127.0.0.1:0",
                   "--contexts", contexts_text, "--max-connections", h->max_connections,
                   (char *)NULL, env);
        else
            execle(h->bin, h->bin, "serve", "--dir", h->hub_dir, "--listen", "tcp://127.0.0.1:0",
                   "--contexts", contexts_text, (char *)NULL, env);
        _exit(127);
    }
    free(env);
    close(out[1]);
    h->pid = pid;
    /* "psi-hub: serving NAME on tcp://127.0.0.1:PORT" */
    char line[256];
    size_t n = 0;
    struct pollfd pfd = {.fd = out[0], .events = POLLIN};
    int rc = 0;
    while (n < sizeof line - 1) {
        if (poll(&pfd, 1, 20000) <= 0) {
            rc = PSI_ERR_TIMEOUT;
            break;
        }
        ssize_t got = read(out[0], line + n, 1);
        if (got <= 0) {
            rc = PSI_ERR_STATE;
            break;
        }
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(out[0]);
    const char *on = strstr(line, " on tcp://");
    const char *colon = on ? strrchr(on, ':') : NULL;
    if (rc != 0 || strncmp(line, "psi-hub: serving ", 17) != 0 || on == NULL || colon == NULL) {
        fprintf(stderr, "hub_test: psi-hub serve did not say it was ready ('%s'); log in %s\n",
                line, h->log_path);
        return rc != 0 ? rc : PSI_ERR_PARSE;
    }
    snprintf(h->url, sizeof h->url, "%s", on + 4);
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || port <= 0 || port > 65535)
        return PSI_ERR_PARSE;
    h->port = (int)port;
    return 0;
}

int hub_test_hub_alive(const struct hub_test_hub *h)
{
    if (h->pid <= 0)
        return 0;
    int status;
    return waitpid(h->pid, &status, WNOHANG) == 0;
}

int hub_test_hub_stop(struct hub_test_hub *h)
{
    if (h->pid <= 0)
        return -1;
    int status = 0;
    kill(h->pid, SIGTERM);
    pid_t got = waitpid(h->pid, &status, 0);
    h->pid = 0;
    if (got < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

void hub_test_hub_destroy(struct hub_test_hub *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
        h->pid = 0;
    }
    if (h->dir[0] == '\0')
        return;
    if (getenv("PSI_KEEP") != NULL) {
        fprintf(stderr, "hub_test: kept %s\n", h->dir);
        return;
    }
    if (test_remove_tree(h->dir) != 0)
        fprintf(stderr, "hub_test: could not remove %s\n", h->dir);
}

int hub_test_hub_finish(struct hub_test_hub *h, int expect_serving)
{
    int status = h->pid > 0 ? hub_test_hub_stop(h) : (expect_serving ? -1 : 0);
    if (status != 0) {
        fprintf(stderr, "psi-hub did not stop cleanly on SIGTERM (status %d); kept %s\n", status,
                h->dir);
        return -1;
    }
    hub_test_hub_destroy(h); /* PSI_KEEP=1 keeps it */
    return 0;
}

long hub_test_proc_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t flen = strlen(field);
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            char *end = NULL;
            kib = strtol(line + flen + 1, &end, 10);
            if (end == line + flen + 1)
                kib = -1;
            break;
        }
    }
    fclose(f);
    return kib;
}

/* ---------------------------------------------------------------- the store */

/* The counts are read from the SQLite file by a connection of the test's
 * own: the hub runs as another process, and these are the tables an
 * operator (or an attacker with the disk) sees; the store's operations have
 * no counting operation, by design. */
static int count_rows(sqlite3 *db, const char *sql, const char *except, long long *out)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "hub_test: %s: %s\n", sql, sqlite3_errmsg(db));
        return PSI_ERR_STORE;
    }
    /* No participant id is empty, so "" excludes nobody. */
    int params = sqlite3_bind_parameter_count(s);
    for (int i = 1; i <= params; i++)
        sqlite3_bind_text(s, i, except ? except : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        fprintf(stderr, "hub_test: %s: %s\n", sql, sqlite3_errmsg(db));
        sqlite3_finalize(s);
        return PSI_ERR_STORE;
    }
    *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

int hub_test_counts_read(const struct hub_test_hub *h, const char *except,
                         struct hub_test_counts *c)
{
    char path[400];
    snprintf(path, sizeof path, "%s/hub.db", h->hub_dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return PSI_ERR_STORE;
    }
    sqlite3_busy_timeout(db, 10000);
    struct {
        const char *sql;
        long long *out;
    } q[] = {
        {"SELECT count(*) FROM participant WHERE id <> ?1", &c->participants},
        {"SELECT count(*) FROM participant WHERE removed = 1 AND id <> ?1", &c->removed},
        {"SELECT count(*) FROM submission WHERE owner <> ?1", &c->submissions},
        {"SELECT count(*) FROM element_block e JOIN submission s ON s.id = e.submission_id "
         "WHERE s.owner <> ?1",
         &c->blocks},
        {"SELECT count(*) FROM crossblind c JOIN submission s ON s.id = c.submission_id "
         "WHERE s.owner <> ?1 AND c.blinder <> ?1",
         &c->crossblinds},
        {"SELECT count(*) FROM tag t JOIN tag_pair p ON p.id = t.pair"
         " WHERE p.owner <> ?1 AND p.blinder <> ?1",
         &c->tags},
        {"SELECT count(*) FROM overlap WHERE owner <> ?1 AND peer <> ?1", &c->overlaps},
        {"SELECT count(*) FROM upload WHERE sender <> ?1", &c->uploads},
        {"SELECT count(*) FROM upload_chunk WHERE sender <> ?1", &c->chunks},
        {"SELECT count(*) FROM reply WHERE sender <> ?1", &c->replies},
        {"SELECT count(*) FROM nonce WHERE sender <> ?1", &c->nonces},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof q / sizeof q[0]; i++)
        rc = count_rows(db, q[i].sql, except, q[i].out);
    long long has_log = 0;
    if (rc == 0)
        rc = count_rows(db,
                        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                        "'log_entry'",
                        NULL, &has_log);
    c->log_entries = -1;
    if (rc == 0 && has_log)
        rc = count_rows(db, "SELECT count(*) FROM log_entry", NULL, &c->log_entries);
    sqlite3_close(db);
    return rc;
}

int hub_test_counts_compare(const struct hub_test_counts *a, const struct hub_test_counts *b)
{
    const struct {
        const char *name;
        long long x, y;
    } t[] = {
        {"participants", a->participants, b->participants},
        {"removed", a->removed, b->removed},
        {"submissions", a->submissions, b->submissions},
        {"element blocks", a->blocks, b->blocks},
        {"cross-blind batches", a->crossblinds, b->crossblinds},
        {"tags", a->tags, b->tags},
        {"overlaps", a->overlaps, b->overlaps},
        {"uploads", a->uploads, b->uploads},
        {"upload chunks", a->chunks, b->chunks},
        {"stored replies", a->replies, b->replies},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (t[i].x != t[i].y) {
            fprintf(stderr, "hub_test: %s: %lld before, %lld after\n", t[i].name, t[i].x, t[i].y);
            return PSI_ERR_STATE;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- frames */

uint64_t hub_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t hub_test_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- raw SP over TCP */

#define SP_PROTO_REQ 0x30u /* nng's protocol numbers: req0 = 3 << 4 */
#define SP_PROTO_REP 0x31u

static int wait_fd(int fd, short events, unsigned timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&pfd, 1, (int)timeout_ms);
        if (n > 0)
            return 0;
        if (n == 0)
            return PSI_ERR_TIMEOUT;
        if (errno != EINTR)
            return PSI_ERR_NETWORK;
    }
}

/* Reads exactly len bytes within timeout_ms in all. */
static int read_full(int fd, uint8_t *buf, size_t len, unsigned timeout_ms)
{
    uint64_t deadline = hub_test_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    size_t got = 0;
    while (got < len) {
        uint64_t now = hub_test_mono_ns();
        if (now >= deadline)
            return PSI_ERR_TIMEOUT;
        int rc = wait_fd(fd, POLLIN, (unsigned)((deadline - now) / 1000000u) + 1u);
        if (rc != 0)
            return rc;
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n == 0)
            return PSI_ERR_NETWORK;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return PSI_ERR_NETWORK;
        }
        got += (size_t)n;
    }
    return 0;
}

int hub_test_sp_write(struct hub_test_sp *c, const uint8_t *bytes, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        if (wait_fd(c->fd, POLLOUT, 10000) != 0)
            return PSI_ERR_NETWORK;
        ssize_t n = send(c->fd, bytes + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return PSI_ERR_NETWORK;
        }
        sent += (size_t)n;
    }
    return 0;
}

int hub_test_sp_open(struct hub_test_sp *c, const char *url, const uint8_t *handshake,
                     unsigned timeout_ms)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    randombytes_buf(&c->next_id, sizeof c->next_id);
    const char *prefix = "tcp://127.0.0.1:";
    if (strncmp(url, prefix, strlen(prefix)) != 0)
        return PSI_ERR_INVALID;
    char *end = NULL;
    long port = strtol(url + strlen(prefix), &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535)
        return PSI_ERR_INVALID;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return PSI_ERR_NETWORK;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return PSI_ERR_NETWORK;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c->fd = fd;
    const uint8_t mine[8] = {0x00, 'S', 'P', 0x00, 0x00, SP_PROTO_REQ, 0x00, 0x00};
    int rc = hub_test_sp_write(c, handshake ? handshake : mine, 8);
    if (rc == 0 && handshake == NULL) {
        uint8_t theirs[8];
        rc = read_full(fd, theirs, sizeof theirs, timeout_ms);
        if (rc == 0 && (theirs[0] != 0 || theirs[1] != 'S' || theirs[2] != 'P' || theirs[3] != 0 ||
                        theirs[4] != 0 || theirs[5] != SP_PROTO_REP))
            rc = PSI_ERR_PROTOCOL;
    }
    if (rc != 0)
        hub_test_sp_close(c);
    return rc;
}

int hub_test_sp_send(struct hub_test_sp *c, const uint8_t *frame, size_t len)
{
    uint8_t head[12];
    uint32_t id = (c->next_id++ | 0x80000000u);
    hub_test_u64be(head, (uint64_t)len + 4u);
    head[8] = (uint8_t)(id >> 24);
    head[9] = (uint8_t)(id >> 16);
    head[10] = (uint8_t)(id >> 8);
    head[11] = (uint8_t)id;
    c->waiting_id = id;
    int rc = hub_test_sp_write(c, head, sizeof head);
    if (rc == 0 && len > 0)
        rc = hub_test_sp_write(c, frame, len);
    return rc;
}

int hub_test_sp_recv(struct hub_test_sp *c, uint8_t **reply, size_t *reply_len, unsigned timeout_ms)
{
    *reply = NULL;
    *reply_len = 0;
    uint8_t head[12];
    int rc = read_full(c->fd, head, 8, timeout_ms);
    if (rc != 0)
        return rc;
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n = (n << 8) | head[i];
    if (n < 4 || n > (uint64_t)PSI_FRAME_MAX_BYTES + 4u)
        return PSI_ERR_PROTOCOL;
    rc = read_full(c->fd, head + 8, 4, timeout_ms);
    if (rc != 0)
        return rc;
    uint32_t id = (uint32_t)head[8] << 24 | (uint32_t)head[9] << 16 | (uint32_t)head[10] << 8 |
                  (uint32_t)head[11];
    size_t body = (size_t)n - 4u;
    uint8_t *buf = malloc(body + 1);
    if (buf == NULL)
        return PSI_ERR_NOMEM;
    rc = read_full(c->fd, buf, body, timeout_ms);
    if (rc == 0 && id != c->waiting_id)
        rc = PSI_ERR_PROTOCOL;
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *reply = buf;
    *reply_len = body;
    return 0;
}

int hub_test_sp_wait_closed(struct hub_test_sp *c, unsigned timeout_ms)
{
    uint8_t b[512];
    uint64_t deadline = hub_test_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        uint64_t now = hub_test_mono_ns();
        if (now >= deadline)
            return PSI_ERR_TIMEOUT;
        int rc = wait_fd(c->fd, POLLIN, (unsigned)((deadline - now) / 1000000u) + 1u);
        if (rc == PSI_ERR_TIMEOUT)
            return rc;
        ssize_t n = recv(c->fd, b, sizeof b, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            return 0; /* closed or reset */
        /* bytes sent before closing (the hub's own handshake): read on */
    }
}

void hub_test_sp_close(struct hub_test_sp *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
