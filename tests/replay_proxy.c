/*
 * psi-replay-proxy: a hostile path between participants and a real psi-hub,
 * for the end-to-end tests of reply binding (tests/e2e/replay.sh).
 *
 *   psi-replay-proxy --listen URL --hub URL [--replace-from K] [--replace-count N]
 *
 * At start it sends the hub a frame of garbage and keeps the hub's answer: a
 * plain error, signed by the hub and bound to no request, exactly what anyone
 * on the path can capture. It prints "captured N bytes" and then relays
 * requests one at a time. Requests K .. K+N-1 (counted from 0) are forwarded
 * to the hub, which acts on them, but the participant gets the captured
 * error instead of the hub's answer: the worst a replayer can do. Every
 * other request is relayed both ways untouched. One line on stderr per
 * request says what was done with it.
 *
 * It is a test tool: it trusts its arguments and stops on SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "envelope.h"
#include "psi/error.h"
#include "rpc.h"
#include "rpc_raw.h"

#define WAIT_MS 30000

static int parse_count(const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {{"listen", required_argument, NULL, 'l'},
                                            {"hub", required_argument, NULL, 'u'},
                                            {"replace-from", required_argument, NULL, 'f'},
                                            {"replace-count", required_argument, NULL, 'n'},
                                            {NULL, 0, NULL, 0}};
    const char *listen = NULL, *hub = NULL;
    uint64_t from = 0, count = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'l': listen = optarg; break;
        case 'u': hub = optarg; break;
        case 'f':
            if (parse_count(optarg, &from))
                return 2;
            break;
        case 'n':
            if (parse_count(optarg, &count))
                return 2;
            break;
        default: return 2;
        }
    }
    if (!listen || !hub) {
        fputs("usage: psi-replay-proxy --listen URL --hub URL [--replace-from K] "
              "[--replace-count N]\n",
              stderr);
        return 2;
    }

    /* The capture: what the hub signs for garbage. */
    static const uint8_t garbage[] = {PSI_FRAME_SEALED, 0xde, 0xad, 0xbe, 0xef};
    uint8_t *captured = NULL;
    size_t captured_len = 0;
    int rc = psi_rpc_raw(hub, garbage, sizeof garbage, &captured, &captured_len, WAIT_MS);
    if (rc != 0 || captured_len < 2 || captured[0] != PSI_FRAME_PLAIN_ERROR) {
        fprintf(stderr, "psi-replay-proxy: no plain error captured from %s (%s)\n", hub,
                psi_strerror(rc));
        return 1;
    }

    nng_socket front, back;
    int nrc = nng_rep0_open(&front);
    if (nrc == 0)
        nrc = nng_socket_set_size(front, NNG_OPT_RECVMAXSZ, PSI_FRAME_MAX_BYTES);
    if (nrc == 0)
        nrc = nng_listen(front, listen, NULL, 0);
    if (nrc == 0)
        nrc = nng_req0_open(&back);
    if (nrc == 0)
        nrc = nng_socket_set_ms(back, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    if (nrc == 0)
        nrc = nng_socket_set_ms(back, NNG_OPT_RECVTIMEO, WAIT_MS);
    if (nrc == 0)
        nrc = nng_socket_set_size(back, NNG_OPT_RECVMAXSZ, PSI_FRAME_MAX_BYTES);
    if (nrc == 0)
        nrc = nng_dial(back, hub, NULL, NNG_FLAG_NONBLOCK);
    if (nrc != 0) {
        fprintf(stderr, "psi-replay-proxy: cannot set up %s -> %s: %s\n", listen, hub,
                nng_strerror(nrc));
        free(captured);
        return 1;
    }
    printf("captured %zu bytes\n", captured_len);
    fflush(stdout);

    for (uint64_t i = 0;; i++) {
        void *request = NULL, *answer = NULL;
        size_t request_len = 0, answer_len = 0;
        if (nng_recv(front, &request, &request_len, NNG_FLAG_ALLOC) != 0)
            break;
        int replace = i >= from && i - from < count;
        nrc = nng_send(back, request, request_len, NNG_FLAG_ALLOC);
        if (nrc != 0)
            nng_free(request, request_len);
        if (nrc == 0)
            nrc = nng_recv(back, &answer, &answer_len, NNG_FLAG_ALLOC);
        if (nrc != 0) {
            fprintf(stderr, "psi-replay-proxy: request %" PRIu64 ": hub: %s\n", i,
                    nng_strerror(nrc));
            continue; /* the participant times out and retries */
        }
        fprintf(stderr, "psi-replay-proxy: request %" PRIu64 " (%zu bytes): %s\n", i, request_len,
                replace ? "answered with the capture" : "relayed");
        if (replace) {
            nng_free(answer, answer_len);
            nng_send(front, captured, captured_len, 0);
        } else if (nng_send(front, answer, answer_len, NNG_FLAG_ALLOC) != 0) {
            nng_free(answer, answer_len);
        }
    }
    nng_close(front);
    nng_close(back);
    free(captured);
    return 0;
}
