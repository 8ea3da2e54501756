/*
 * psi-hub serve: the nng service. One REP socket, N contexts, each driven by
 * its own aio callback through recv -> handle -> send -> recv, each with its
 * own store connection, so N requests are in hand at once and reads run side
 * by side. Messages above the hub's maximum are dropped by nng before they
 * reach a handler. A signal only writes a byte to a pipe; the main thread
 * then closes the socket, waits for every context and closes the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#include "cmdline.h"
#include "commands.h"
#include "lockfile.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "oplog.h"
#include "psi/error.h"
#include "status_http.h"

#define DEFAULT_CONTEXTS 8 /* as serve_options say */
#define MAX_CONTEXTS 256
#define DEFAULT_CONNECTIONS 128
#define MAX_CONNECTIONS 4096

/* nng reads up to the maximum message size on every connection before a
 * handler sees anything, and anyone may connect: without a cap, memory grows
 * with the number of open connections. The cap is enforced when a connection
 * is about to join the socket, before it can deliver a byte. Admitted pipe
 * ids are remembered so that a removal is counted only for a pipe that was
 * counted when it came. */
struct connection_cap {
    nng_mtx *lock;
    size_t limit, open;
    uint32_t *ids; /* limit entries; the first `open` are admitted pipes */
    unsigned long refused;
};

static void on_pipe_event(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
    struct connection_cap *cap = arg;
    uint32_t id = (uint32_t)nng_pipe_id(pipe);
    nng_mtx_lock(cap->lock);
    if (ev == NNG_PIPE_EV_ADD_PRE) {
        if (cap->open >= cap->limit) {
            cap->refused++;
            nng_mtx_unlock(cap->lock);
            nng_pipe_close(pipe);
            return;
        }
        cap->ids[cap->open++] = id;
    } else if (ev == NNG_PIPE_EV_REM_POST) {
        for (size_t i = 0; i < cap->open; i++)
            if (cap->ids[i] == id) {
                cap->ids[i] = cap->ids[--cap->open];
                break;
            }
    }
    nng_mtx_unlock(cap->lock);
}

/* The wake-up socket (docs/hub.md, "Waking agents"): after each write the
 * hub committed, the log's size, 8 bytes big-endian, to every subscriber.
 * nng's pub0 never blocks a sender: a subscriber that does not keep up loses
 * messages, which only makes it fall back to its own polling. */
struct notifier {
    nng_socket sock;
    int on;
};

struct worker {
    const struct psi_hub *hub;
    nng_aio *aio;
    nng_ctx ctx;
    struct psi_store *store;
    struct notifier *notify;
    struct psi_hub_metrics *metrics;
    int sending;
};

/* The log's size as the store holds it now. */
static int log_size(const struct psi_hub *hub, struct psi_store *st, uint64_t *size)
{
    struct psi_txn t;
    char checkpoint[PSI_HUB_CHECKPOINT_MAX];
    if (psi_txn_begin(&t, hub->ops, st, PSI_TXN_READ) != 0)
        return PSI_ERR_STORE;
    int rc = psi_hub_log_latest(&t, size, checkpoint, sizeof checkpoint);
    psi_txn_rollback(&t);
    return rc;
}

static void publish(struct notifier *n, uint64_t size)
{
    unsigned char msg[8];
    for (int i = 0; i < 8; i++)
        msg[i] = (unsigned char)(size >> (56 - 8 * i));
    (void)nng_send(n->sock, msg, sizeof msg, NNG_FLAG_NONBLOCK);
}

/* Publishes the log's size after a write of method succeeded. */
static void notify_write(struct worker *w, const struct psi_hub_outcome *o)
{
    if (!w->notify->on || o->status != 0)
        return;
    const struct psi_method *m = psi_hub_method(o->method);
    if (m == NULL || !m->writes)
        return;
    uint64_t size = 0;
    if (log_size(w->hub, w->store, &size) == 0)
        publish(w->notify, size);
}

/* Writes this process did not make (another front-end on the same store,
 * an admin command) wake the subscribers too: every WATCH_MS the main
 * thread looks at the log's size and publishes it when it grew. */
#define WATCH_MS 1000

struct log_watch {
    struct psi_store *store; /* NULL: not watching */
    uint64_t seen;
    int have_seen;
};

static void watch_log(const struct psi_hub *hub, struct notifier *n, struct log_watch *lw)
{
    uint64_t size = 0;
    if (lw->store == NULL || log_size(hub, lw->store, &size) != 0)
        return;
    if (lw->have_seen && size > lw->seen)
        publish(n, size);
    lw->seen = size;
    lw->have_seen = 1;
}

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;
    ssize_t n = write(signal_pipe[1], &b, 1);
    (void)n;
    errno = saved;
}

static uint64_t monotonic_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The request's line in the operator's log and its counts. */
static void account_request(struct worker *w, const struct psi_hub_outcome *o, uint64_t start_us,
                            size_t bytes_in, size_t bytes_out)
{
    uint64_t end_us = monotonic_us();
    uint64_t took_us = end_us >= start_us ? end_us - start_us : 0;
    struct psi_oplog_request r = {
        .participant = o->participant,
        .verified = o->verified,
        .method = o->method,
        .status = o->status,
        .duration_ms = took_us / 1000u,
        .bytes_in = bytes_in,
        .bytes_out = bytes_out,
    };
    psi_oplog_request(&r);
    psi_hub_metrics_count(w->metrics, o->method, o->status,
                          psi_oplog_is_refusal(o->method, o->status), took_us, psi_hub_now_ms());
}

/* Why serve cannot go on, in one line: as every command says it
 * ("psi-hub serve: ..."), or as a JSON line under --log-format json, so a
 * log collector reads it like the rest. */
static void serve_failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void serve_failure(const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (psi_oplog_json())
        psi_oplog_say(PSI_OPLOG_ERROR, "serve: %s", why);
    else
        psi_cmdline_note("serve", "%s", why);
}

static void worker_receive(struct worker *w)
{
    w->sending = 0;
    nng_ctx_recv(w->ctx, w->aio);
}

static void worker_step(void *arg)
{
    struct worker *w = arg;
    int rv = nng_aio_result(w->aio);
    if (w->sending) {
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(w->aio));
        if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
            return;
        worker_receive(w);
        return;
    }
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
        return;
    if (rv != 0) {
        worker_receive(w);
        return;
    }
    nng_msg *msg = nng_aio_get_msg(w->aio);
    uint64_t start = monotonic_us();
    struct psi_hub_outcome outcome;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int rc = psi_hub_handle(w->hub, w->store, nng_msg_body(msg), nng_msg_len(msg), &reply,
                            &reply_len, &outcome);
    account_request(w, &outcome, start, nng_msg_len(msg), rc == 0 ? reply_len : 0);
    notify_write(w, &outcome);
    /* The request message is reused for the reply. */
    nng_msg_clear(msg);
    if (rc != 0 || nng_msg_append(msg, reply, reply_len) != 0) {
        free(reply);
        nng_msg_free(msg);
        worker_receive(w);
        return;
    }
    free(reply);
    nng_aio_set_msg(w->aio, msg);
    w->sending = 1;
    nng_ctx_send(w->ctx, w->aio);
}

static int install_signals(void)
{
    if (pipe(signal_pipe) != 0)
        return -1;
    for (int i = 0; i < 2; i++)
        (void)fcntl(signal_pipe[i], F_SETFD, FD_CLOEXEC);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

enum {
    SERVE_DIR,
    SERVE_LISTEN,
    SERVE_CONTEXTS,
    SERVE_MAX_CONNECTIONS,
    SERVE_NOTIFY_PORT,
    SERVE_NO_NOTIFY,
    SERVE_HTTP,
    SERVE_HTTP_ALLOW,
    SERVE_LOG_LEVEL,
    SERVE_LOG_FORMAT
};

static const struct psi_cmdline_option serve_options[] = {
    [SERVE_DIR] = {.name = "dir", .value_name = "DIR", .required = true, .help = "the hub"},
    [SERVE_LISTEN] = {.name = "listen",
                      .value_name = "tcp://HOST:PORT",
                      .required = true,
                      .help = "where to listen; port 0 picks a free port"},
    [SERVE_CONTEXTS] = {.name = "contexts",
                        .value_name = "N",
                        .help = "requests in hand at once (default 8, at most 256)"},
    [SERVE_MAX_CONNECTIONS] = {.name = "max-connections",
                               .value_name = "C",
                               .help = "connections open at once (default 128, at most\n"
                                       "4096); more are closed on arrival, which bounds\n"
                                       "the memory nng holds for messages in flight"},
    [SERVE_NOTIFY_PORT] = {.name = "notify-port",
                           .value_name = "P",
                           .help = "the wake-up socket's port on the --listen host\n"
                                   "(default 0: a free port, announced in the hub's\n"
                                   "info); agents subscribe to look for work at once"},
    [SERVE_NO_NOTIFY] = {.name = "no-notify", .help = "no wake-up socket: agents only poll"},
    [SERVE_HTTP] = {.name = "http",
                    .value_name = "HOST:PORT",
                    .help = "the operator's status page, /status.json and /metrics\n"
                            "over HTTP (read only; port 0 picks a free port);\n"
                            "HOST must be loopback unless --http-allow is given"},
    [SERVE_HTTP_ALLOW] = {.name = "http-allow",
                          .help = "lets --http listen on an address that is not\n"
                                  "loopback: the page shows the overlap map"},
    [SERVE_LOG_LEVEL] = {.name = "log-level",
                         .value_name = "error|warn|info|debug",
                         .help = "the least level logged on stderr (default info:\n"
                                 "every request; warn: refusals and failures)"},
    [SERVE_LOG_FORMAT] = {.name = "log-format",
                          .value_name = "text|json",
                          .help = "text lines (default) or JSON lines"},
};

static const struct psi_cmdline_command serve_command = {
    .name = "serve",
    .about = "Serves the hub of DIR on an nng REP socket with N contexts. One serve a\n"
             "directory: a second one says which pid holds DIR/hub.lock and exits 1. The line\n"
             "  psi-hub: serving NAME on tcp://HOST:PORT\n"
             "says when requests are taken. One line per request goes to stderr: time,\n"
             "level, participant (as claimed, marked so, when refused before its\n"
             "signature verified), method, result, duration, bytes in and out; never\n"
             "an indicator, element, tag or key. With --http the line\n"
             "  psi-hub: status page on http://HOST:PORT/\n"
             "follows (on stdout). SIGTERM or SIGINT stops the hub\n"
             "cleanly (exit 0). After each write it publishes the log's size (public\n"
             "in every checkpoint, nothing else) on an nng pub0 socket, the wake-up\n"
             "socket agents subscribe to; writes made elsewhere (another psi-hub serve\n"
             "on the same store, an admin command) within a second.\n",
    PSI_CMDLINE_OPTIONS(serve_options),
};

_Static_assert(DEFAULT_CONTEXTS == 8 && MAX_CONTEXTS == 256 && DEFAULT_CONNECTIONS == 128 &&
                   MAX_CONNECTIONS == 4096,
               "serve_options state the defaults and limits");

int psi_hub_cmd_serve(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int exit_status = 0;
    if (!psi_cmdline_parse(&serve_command, argc, argv, &args, &exit_status))
        return exit_status;
    const char *dir = args.value[SERVE_DIR], *listen = args.value[SERVE_LISTEN];
    if (strncmp(listen, "tcp://", 6) != 0 || strrchr(listen, ':') == listen + 3)
        return psi_cmdline_usage_error("serve", "--listen must be tcp://HOST:PORT, not '%s'",
                                       listen);
    uint64_t contexts_n = DEFAULT_CONTEXTS, connections_n = DEFAULT_CONNECTIONS;
    if ((exit_status = psi_cmdline_option_u64(&serve_command, &args, SERVE_CONTEXTS, 1,
                                              MAX_CONTEXTS, &contexts_n)) ||
        (exit_status = psi_cmdline_option_u64(&serve_command, &args, SERVE_MAX_CONNECTIONS, 1,
                                              MAX_CONNECTIONS, &connections_n)))
        return exit_status;
    uint64_t notify_port = 0;
    if ((exit_status = psi_cmdline_option_u64(&serve_command, &args, SERVE_NOTIFY_PORT, 0, 65535,
                                              &notify_port)))
        return exit_status;
    enum psi_oplog_level log_level = PSI_OPLOG_INFO;
    enum psi_oplog_format log_format = PSI_OPLOG_TEXT;
    if (args.given[SERVE_LOG_LEVEL] &&
        psi_oplog_parse_level(args.value[SERVE_LOG_LEVEL], &log_level) != 0)
        return psi_cmdline_usage_error("serve",
                                       "--log-level must be error, warn, info or debug, not '%s'",
                                       args.value[SERVE_LOG_LEVEL]);
    if (args.given[SERVE_LOG_FORMAT] &&
        psi_oplog_parse_format(args.value[SERVE_LOG_FORMAT], &log_format) != 0)
        return psi_cmdline_usage_error("serve", "--log-format must be text or json, not '%s'",
                                       args.value[SERVE_LOG_FORMAT]);
    const char *http = args.given[SERVE_HTTP] ? args.value[SERVE_HTTP] : NULL;
    if (http != NULL) {
        char host[256];
        unsigned http_port = 0;
        if (psi_status_http_split(http, host, sizeof host, &http_port) != 0)
            return psi_cmdline_usage_error(
                "serve", "--http must be HOST:PORT ([ADDRESS]:PORT for IPv6), not '%s'", http);
        if (!psi_status_http_is_loopback(host) && !args.given[SERVE_HTTP_ALLOW])
            return psi_cmdline_usage_error("serve",
                                           "--http %s is not a loopback address: the status "
                                           "page shows the overlap map; add --http-allow to "
                                           "serve it there",
                                           http);
    } else if (args.given[SERVE_HTTP_ALLOW]) {
        return psi_cmdline_usage_error("serve", "--http-allow without --http");
    }
    psi_oplog_setup(log_level, log_format);
    size_t contexts = (size_t)contexts_n, connections = (size_t)connections_n;
    struct connection_cap cap = {.limit = connections}, notify_cap = {.limit = connections};
    struct notifier notifier = {NNG_SOCKET_INITIALIZER, 0};
    struct log_watch watch = {NULL, 0, 0};

    struct psi_hub hub;
    char err[512];
    if (psi_hub_load(&hub, dir, err, sizeof err) != 0) {
        serve_failure("%s", err);
        return 1;
    }
    /* One hub process per directory, unless the backend serialises several
     * (docs/operations.md, "Locks"); held until the process ends. */
    char lock_path[4200], holder[PSI_LOCKFILE_HOLDER_MAX];
    snprintf(lock_path, sizeof lock_path, "%s/" PSI_HUB_LOCK_FILE, dir);
    int lock_fd = psi_lockfile_take(
        lock_path, hub.ops->several_front_ends ? PSI_LOCK_SHARED : PSI_LOCK_EXCLUSIVE, 0, NULL,
        holder);
    if (lock_fd < 0) {
        if (lock_fd == PSI_ERR_EXISTS)
            psi_cmdline_note("serve", "%s is served by %s", dir, holder);
        else
            psi_cmdline_note("serve", "%s", holder);
        psi_hub_unload(&hub);
        return 1;
    }
    int status = 1;
    struct psi_hub_metrics *metrics = NULL;
    struct psi_status_http *status_http = NULL;
    nng_socket sock = NNG_SOCKET_INITIALIZER;
    nng_listener listener = NNG_LISTENER_INITIALIZER;
    struct worker *workers = calloc(contexts, sizeof *workers);
    size_t started = 0;
    if (workers == NULL) {
        serve_failure("out of memory");
        goto out;
    }
    if (install_signals() != 0) {
        serve_failure("cannot install signal handlers: %s", strerror(errno));
        goto out;
    }
    if (psi_hub_metrics_new(&metrics) != 0) {
        serve_failure("out of memory");
        goto out;
    }
    cap.ids = calloc(connections, sizeof *cap.ids);
    notify_cap.ids = calloc(connections, sizeof *notify_cap.ids);
    if (cap.ids == NULL || nng_mtx_alloc(&cap.lock) != 0 || notify_cap.ids == NULL ||
        nng_mtx_alloc(&notify_cap.lock) != 0) {
        serve_failure("out of memory");
        goto out;
    }
    int rv = nng_rep0_open(&sock);
    if (rv == 0)
        rv = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, hub.max_message_bytes);
    if (rv == 0)
        rv = nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, on_pipe_event, &cap);
    if (rv == 0)
        rv = nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, on_pipe_event, &cap);
    if (rv != 0) {
        serve_failure("cannot open the socket: %s", nng_strerror(rv));
        goto out;
    }
    for (size_t i = 0; i < contexts; i++) {
        struct worker *w = &workers[i];
        w->hub = &hub;
        w->notify = &notifier;
        w->metrics = metrics;
        if (psi_hub_connect(&hub, &w->store, err, sizeof err) != 0) {
            serve_failure("%s", err);
            goto out;
        }
        rv = nng_aio_alloc(&w->aio, worker_step, w);
        if (rv == 0) {
            rv = nng_ctx_open(&w->ctx, sock);
            if (rv != 0) {
                nng_aio_free(w->aio);
                w->aio = NULL;
            }
        }
        if (rv != 0) {
            hub.ops->close(w->store);
            w->store = NULL;
            serve_failure("cannot set up context %zu: %s", i, nng_strerror(rv));
            goto out;
        }
        started = i + 1;
    }
    rv = nng_listener_create(&listener, sock, listen);
    if (rv == 0)
        rv = nng_listener_set_size(listener, NNG_OPT_RECVMAXSZ, hub.max_message_bytes);
    if (rv == 0)
        rv = nng_listener_start(listener, 0);
    if (rv != 0) {
        serve_failure("cannot listen on %s: %s", listen, nng_strerror(rv));
        goto out;
    }
    int port = 0;
    if (nng_listener_get_int(listener, NNG_OPT_TCP_BOUND_PORT, &port) != 0)
        port = 0;
    const char *colon = strrchr(listen, ':');
    if (!args.given[SERVE_NO_NOTIFY]) {
        char url[300];
        nng_listener nl = NNG_LISTENER_INITIALIZER;
        int np = 0;
        snprintf(url, sizeof url, "%.*s:%u", (int)(colon - listen), listen, (unsigned)notify_port);
        rv = nng_pub0_open(&notifier.sock);
        if (rv == 0)
            rv = nng_pipe_notify(notifier.sock, NNG_PIPE_EV_ADD_PRE, on_pipe_event, &notify_cap);
        if (rv == 0)
            rv = nng_pipe_notify(notifier.sock, NNG_PIPE_EV_REM_POST, on_pipe_event, &notify_cap);
        /* subscribers never send: nothing larger than a header is read */
        if (rv == 0)
            rv = nng_socket_set_size(notifier.sock, NNG_OPT_RECVMAXSZ, 64);
        if (rv == 0)
            rv = nng_listener_create(&nl, notifier.sock, url);
        if (rv == 0)
            rv = nng_listener_start(nl, 0);
        if (rv == 0)
            rv = nng_listener_get_int(nl, NNG_OPT_TCP_BOUND_PORT, &np);
        if (rv != 0) {
            serve_failure("cannot open the wake-up socket on %s: %s", url, nng_strerror(rv));
            goto out;
        }
        notifier.on = 1;
        hub.notify_port = (uint32_t)np;
    }
    int http_port = 0;
    if (http != NULL) {
        if (psi_status_http_start(&status_http, &hub, metrics, http, &http_port, err, sizeof err) !=
            0) {
            serve_failure("%s", err);
            goto out;
        }
    }
    for (size_t i = 0; i < started; i++)
        worker_receive(&workers[i]);
    printf("psi-hub: serving %s on %.*s:%d\n", hub.name, (int)(colon - listen), listen, port);
    if (notifier.on)
        printf("psi-hub: wake-up socket on %.*s:%u\n", (int)(colon - listen), listen,
               (unsigned)hub.notify_port);
    /* after the lines scripts wait for, whose order stays as it was */
    if (http != NULL)
        printf("psi-hub: status page on http://%.*s:%d/\n", (int)(strrchr(http, ':') - http), http,
               http_port);
    fflush(stdout);
    if (http != NULL)
        psi_oplog_say(PSI_OPLOG_INFO,
                      "serving %s on %.*s:%d (%zu contexts, at most %zu connections), "
                      "status page on port %d",
                      hub.name, (int)(colon - listen), listen, port, contexts, connections,
                      http_port);
    else
        psi_oplog_say(PSI_OPLOG_INFO,
                      "serving %s on %.*s:%d (%zu contexts, at most %zu connections)", hub.name,
                      (int)(colon - listen), listen, port, contexts, connections);

    if (notifier.on && psi_hub_connect(&hub, &watch.store, err, sizeof err) != 0) {
        fprintf(stderr, "psi-hub: the wake-up socket announces only this process's writes: %s\n",
                err);
        watch.store = NULL;
    }
    watch_log(&hub, &notifier, &watch);

    for (;;) {
        struct pollfd pfd = {.fd = signal_pipe[0], .events = POLLIN};
        int ready = poll(&pfd, 1, watch.store != NULL ? WATCH_MS : -1);
        if (ready == 0) {
            watch_log(&hub, &notifier, &watch);
            continue;
        }
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            break;
        unsigned char b;
        ssize_t n = read(signal_pipe[0], &b, 1);
        if (n == 1 || (n < 0 && errno != EINTR) || n == 0)
            break;
    }
    psi_oplog_say(PSI_OPLOG_INFO, "shutting down");
    status = 0;

out:
    /* Closing the socket ends every pending receive with NNG_ECLOSED;
     * stopping an aio waits for a callback that is still running. */
    psi_status_http_stop(status_http);
    nng_close(sock);
    nng_close(notifier.sock);
    for (size_t i = 0; i < started; i++) {
        nng_aio_stop(workers[i].aio);
        nng_ctx_close(workers[i].ctx);
        nng_aio_free(workers[i].aio);
    }
    for (size_t i = 0; workers != NULL && i < contexts; i++)
        if (workers[i].store != NULL)
            hub.ops->close(workers[i].store);
    if (watch.store != NULL)
        hub.ops->close(watch.store);
    free(workers);
    /* nng_close has run every pipe callback by now. */
    if (cap.refused > 0)
        psi_oplog_say(PSI_OPLOG_WARN, "%lu connection(s) refused over the cap of %zu", cap.refused,
                      connections);
    if (cap.lock != NULL)
        nng_mtx_free(cap.lock);
    free(cap.ids);
    if (notify_cap.lock != NULL)
        nng_mtx_free(notify_cap.lock);
    free(notify_cap.ids);
    psi_hub_metrics_free(metrics);
    psi_hub_unload(&hub);
    psi_lockfile_release(lock_fd);
    return status;
}
