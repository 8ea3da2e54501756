/*
 * Inside psiproto: the socket set-up of rpc.c, shared with the test-only
 * rpc_raw.c. Not for programs.
 */
#ifndef PSI_PROTO_RPC_SOCKET_H
#define PSI_PROTO_RPC_SOCKET_H

#include <stdatomic.h>
#include <stddef.h>

#include <nng/nng.h>

/* A REQ socket dialling url in the background (non-blocking), with the
 * client's limits; connected (may be NULL) is set to 1 once a pipe is up.
 * 0, PSI_ERR_NETWORK, or PSI_ERR_INVALID for an address nng refuses; err
 * (may be NULL) says why. */
int psi_rpc_open_socket(nng_socket *sock, const char *url, unsigned timeout_ms,
                        atomic_int *connected, char *err, size_t errlen);

/* 0 when url is non-empty and not too long and timeout_ms is within range;
 * else PSI_ERR_INVALID. */
int psi_rpc_check_url_and_timeout(const char *url, unsigned timeout_ms, char *err, size_t errlen);

#endif
