/*
 * psi-hub serve --http: the status page (/), /status.json and /metrics on
 * nng's own HTTP server, for the hub's operator.
 *
 * It never touches the request path: the HTTP handlers only queue the
 * request, and one thread of its own, with its own store connection and
 * read transactions only, renders the answers one at a time. At most
 * PSI_STATUS_HTTP_QUEUE requests wait; more are answered 503 at once.
 * Unknown paths get 404 and other methods than GET/HEAD 405 (nng's router);
 * requests nng cannot parse (a header past its limits) get 400 or are
 * dropped by nng.
 *
 * The address must be loopback (127.0.0.0/8, ::1, localhost) unless the
 * operator allows another one (--http-allow): the page shows the overlap
 * map, which is for the operator only.
 */
#ifndef PSI_HUB_STATUS_HTTP_H
#define PSI_HUB_STATUS_HTTP_H

#include <stddef.h>

#include "hub.h"
#include "metrics.h"

#define PSI_STATUS_HTTP_QUEUE 16

struct psi_status_http;

/* 1 if host (an IP literal, without brackets, or "localhost") is a
 * loopback address. */
int psi_status_http_is_loopback(const char *host);

/* Splits HOST:PORT ([V6]:PORT for IPv6) into host and port; 0 or -1. */
int psi_status_http_split(const char *address, char *host, size_t host_cap, unsigned *port);

/* Starts serving on address (HOST:PORT; port 0: a free one, *bound_port
 * says which). err gets a reason. */
int psi_status_http_start(struct psi_status_http **out, const struct psi_hub *hub,
                          struct psi_hub_metrics *metrics, const char *address, int *bound_port,
                          char *err, size_t errlen);
/* Stops taking requests, finishes the one in hand, frees everything. */
void psi_status_http_stop(struct psi_status_http *h);

#endif
