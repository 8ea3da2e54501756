/* The operator's HTTP endpoints (status_http.h). */
#include "status_http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

#include "hub_status.h"
#include "oplog.h"
#include "psi/error.h"

enum page { PAGE_HTML, PAGE_JSON, PAGE_METRICS, PAGE_COUNT };

struct psi_status_http;

/* What a handler serves; its handler's data. */
struct endpoint {
    struct psi_status_http *http;
    enum page page;
    const char *path;
};

struct psi_status_http {
    struct endpoint endpoints[PAGE_COUNT];
    const struct psi_hub *hub;
    struct psi_hub_metrics *metrics;
    struct psi_store *store;
    nng_http_server *server;
    nng_http_handler *handlers[PAGE_COUNT];
    int added[PAGE_COUNT];
    nng_thread *thread;
    nng_mtx *lock;
    nng_cv *wake;
    nng_aio *queue[PSI_STATUS_HTTP_QUEUE];
    size_t head, queued;
    int stopping;
};

int psi_status_http_is_loopback(const char *host)
{
    if (strcmp(host, "localhost") == 0)
        return 1;
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) == 1)
        return addr[0] == 127;
    if (inet_pton(AF_INET6, host, addr) == 1) {
        static const unsigned char loopback6[16] = {[15] = 1};
        return memcmp(addr, loopback6, sizeof addr) == 0;
    }
    return 0;
}

int psi_status_http_split(const char *address, char *host, size_t host_cap, unsigned *port)
{
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon == address || colon[1] == '\0')
        return -1;
    const char *start = address, *end = colon;
    if (address[0] == '[') {
        if (colon[-1] != ']')
            return -1;
        start = address + 1;
        end = colon - 1;
    } else if (memchr(address, ':', (size_t)(colon - address)) != NULL) {
        return -1; /* an IPv6 literal needs its brackets */
    }
    if (end <= start || (size_t)(end - start) >= host_cap)
        return -1;
    unsigned long value = 0;
    for (const char *d = colon + 1; *d != '\0'; d++) {
        if (*d < '0' || *d > '9' || value > 65535)
            return -1;
        value = value * 10 + (unsigned long)(*d - '0');
    }
    if (value > 65535)
        return -1;
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    *port = (unsigned)value;
    return 0;
}

static void respond(nng_aio *aio, uint16_t code, const char *content_type, const char *body,
                    size_t len)
{
    nng_http_res *res = NULL;
    int rv = nng_http_res_alloc(&res);
    if (rv == 0)
        rv = nng_http_res_set_status(res, code);
    if (rv == 0 && content_type != NULL)
        rv = nng_http_res_set_header(res, "Content-Type", content_type);
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Cache-Control", "no-store");
    if (rv == 0)
        rv = nng_http_res_copy_data(res, body, len);
    if (rv != 0) {
        nng_http_res_free(res);
        nng_aio_finish(aio, rv);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

static void render_page(struct psi_status_http *h, nng_aio *aio, enum page page);

/* One answer, and its line at debug level: the page's own path (never the
 * URI the client sent), how long it took. */
static void render(struct psi_status_http *h, nng_aio *aio)
{
    const struct endpoint *e = nng_http_handler_get_data(nng_aio_get_input(aio, 1));
    uint64_t start = psi_hub_now_ms();
    render_page(h, aio, e->page);
    psi_oplog_say(PSI_OPLOG_DEBUG, "http %s answered in %llu ms", e->path,
                  (unsigned long long)(psi_hub_now_ms() - start));
}

static void render_page(struct psi_status_http *h, nng_aio *aio, enum page page)
{
    uint64_t now = psi_hub_now_ms();
    char err[512] = "";
    json_t *status = psi_hub_status_collect(h->hub, h->store, now,
                                            psi_hub_metrics_refusals_last_hour(h->metrics, now),
                                            err, sizeof err);
    if (status == NULL) {
        psi_oplog_say(PSI_OPLOG_ERROR, "status page: %s", err);
        static const char msg[] = "the hub's store failed; see the hub's log\n";
        respond(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", msg,
                sizeof msg - 1);
        return;
    }
    struct psi_text_buf out = {0};
    const char *type = "text/html; charset=utf-8";
    if (page == PAGE_HTML) {
        psi_hub_status_html(status, &out);
    } else if (page == PAGE_JSON) {
        char *text = json_dumps(status, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        if (text == NULL)
            out.failed = 1;
        else
            psi_text_printf(&out, "%s\n", text);
        free(text);
        type = "application/json";
    } else {
        psi_hub_metrics_write(h->metrics, &out);
        psi_hub_status_metrics(status, &out);
        type = "text/plain; version=0.0.4; charset=utf-8";
    }
    json_decref(status);
    if (out.failed) {
        psi_text_free(&out);
        static const char msg[] = "out of memory\n";
        respond(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", msg,
                sizeof msg - 1);
        return;
    }
    respond(aio, NNG_HTTP_STATUS_OK, type, out.text != NULL ? out.text : "", out.len);
    psi_text_free(&out);
}

static void renderer(void *arg)
{
    struct psi_status_http *h = arg;
    for (;;) {
        nng_mtx_lock(h->lock);
        while (h->queued == 0 && !h->stopping)
            nng_cv_wait(h->wake);
        if (h->queued == 0) {
            nng_mtx_unlock(h->lock);
            return;
        }
        nng_aio *aio = h->queue[h->head];
        h->head = (h->head + 1) % PSI_STATUS_HTTP_QUEUE;
        h->queued--;
        nng_mtx_unlock(h->lock);
        render(h, aio);
    }
}

/* nng's callback: queue the request for the renderer, never work here (this
 * runs on nng's task threads, which the request path shares). */
static void on_request(nng_aio *aio)
{
    const struct endpoint *e = nng_http_handler_get_data(nng_aio_get_input(aio, 1));
    struct psi_status_http *h = e->http;
    nng_mtx_lock(h->lock);
    if (h->stopping || h->queued == PSI_STATUS_HTTP_QUEUE) {
        nng_mtx_unlock(h->lock);
        static const char msg[] = "busy: too many status requests at once\n";
        respond(aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", msg,
                sizeof msg - 1);
        return;
    }
    h->queue[(h->head + h->queued) % PSI_STATUS_HTTP_QUEUE] = aio;
    h->queued++;
    nng_cv_wake1(h->wake);
    nng_mtx_unlock(h->lock);
}

int psi_status_http_start(struct psi_status_http **out, const struct psi_hub *hub,
                          struct psi_hub_metrics *metrics, const char *address, int *bound_port,
                          char *err, size_t errlen)
{
    char host[256], url_text[300];
    unsigned port = 0;
    *out = NULL;
    if (psi_status_http_split(address, host, sizeof host, &port) != 0) {
        snprintf(err, errlen, "--http must be HOST:PORT, not '%s'", address);
        return PSI_ERR_INVALID;
    }
    struct psi_status_http *h = calloc(1, sizeof *h);
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return PSI_ERR_NOMEM;
    }
    h->hub = hub;
    h->metrics = metrics;
    static const char *const paths[PAGE_COUNT] = {"/", "/status.json", "/metrics"};
    for (int i = 0; i < PAGE_COUNT; i++)
        h->endpoints[i] = (struct endpoint){h, (enum page)i, paths[i]};
    if (psi_hub_connect(hub, &h->store, err, errlen) != 0) {
        free(h);
        return PSI_ERR_STORE;
    }
    snprintf(url_text, sizeof url_text, "http://%s%s%s:%u", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", port);
    nng_url *url = NULL;
    int rv = nng_mtx_alloc(&h->lock);
    if (rv == 0)
        rv = nng_cv_alloc(&h->wake, h->lock);
    if (rv == 0)
        rv = nng_url_parse(&url, url_text);
    if (rv == 0)
        rv = nng_http_server_hold(&h->server, url);
    nng_url_free(url);
    for (int i = 0; rv == 0 && i < PAGE_COUNT; i++) {
        rv = nng_http_handler_alloc(&h->handlers[i], paths[i], on_request);
        if (rv == 0)
            rv = nng_http_handler_set_data(h->handlers[i], &h->endpoints[i], NULL);
        if (rv == 0)
            rv = nng_http_server_add_handler(h->server, h->handlers[i]);
        if (rv == 0)
            h->added[i] = 1;
    }
    if (rv == 0)
        rv = nng_thread_create(&h->thread, renderer, h);
    if (rv == 0)
        rv = nng_http_server_start(h->server);
    if (rv != 0) {
        snprintf(err, errlen, "cannot serve http on %s: %s", address, nng_strerror(rv));
        psi_status_http_stop(h);
        return PSI_ERR_NETWORK;
    }
    nng_sockaddr sa;
    *bound_port = (int)port;
    if (nng_http_server_get_addr(h->server, &sa) == 0) {
        if (sa.s_family == NNG_AF_INET)
            *bound_port = ntohs(sa.s_in.sa_port);
        else if (sa.s_family == NNG_AF_INET6)
            *bound_port = ntohs(sa.s_in6.sa_port);
    }
    *out = h;
    return 0;
}

void psi_status_http_stop(struct psi_status_http *h)
{
    if (h == NULL)
        return;
    /* First the renderer: it answers what is queued, then ends, and from
     * then on a request is answered 503 at once. Only then the server, so
     * that no request of a closing connection is still in our hands. */
    if (h->lock != NULL) {
        nng_mtx_lock(h->lock);
        h->stopping = 1;
        if (h->wake != NULL)
            nng_cv_wake(h->wake);
        nng_mtx_unlock(h->lock);
    }
    if (h->thread != NULL)
        nng_thread_destroy(h->thread);
    if (h->server != NULL)
        nng_http_server_stop(h->server);
    for (int i = 0; i < PAGE_COUNT; i++) {
        if (h->added[i])
            (void)nng_http_server_del_handler(h->server, h->handlers[i]);
        if (h->handlers[i] != NULL)
            nng_http_handler_free(h->handlers[i]);
    }
    if (h->server != NULL)
        nng_http_server_release(h->server);
    if (h->wake != NULL)
        nng_cv_free(h->wake);
    if (h->lock != NULL)
        nng_mtx_free(h->lock);
    if (h->store != NULL)
        h->hub->ops->close(h->store);
    free(h);
}
