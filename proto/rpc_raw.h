/*
 * Test-only: not part of the wire API (rpc.h) and not in any program. Linked
 * from the test-only library psiproto_raw (proto/CMakeLists.txt) by the tests
 * that send a hub frames no participant would (proto/rpc_test.c,
 * tests/hub_security_test.c, tests/replay_proxy.c).
 */
#ifndef PSI_PROTO_RPC_RAW_H
#define PSI_PROTO_RPC_RAW_H

#include <stddef.h>
#include <stdint.h>

/* For tests of the hub: sends the bytes of frame as they are (any length,
 * even 0) on a fresh REQ socket and returns the raw reply frame in *reply
 * (malloc'd, free() it). One attempt, no checks on the reply. 0, or
 * PSI_ERR_TIMEOUT (no reply: a hub that drops an oversized frame closes the
 * connection, which shows here as a timeout), PSI_ERR_NETWORK,
 * PSI_ERR_INVALID, PSI_ERR_NOMEM. */
int psi_rpc_raw(const char *url, const uint8_t *frame, size_t frame_len, uint8_t **reply,
                size_t *reply_len, unsigned timeout_ms);

#endif
