/*
 * What the tests that drive a real psi-hub process over sockets share: the
 * process (init, admit, serve on a free loopback port, stop), the counts of
 * its store read straight from the SQLite file, the clocks requests carry,
 * and a raw client of nng's TCP transport (the SP protocol) that can say on
 * the stream what no well-behaved nng socket would: a length over the hub's
 * limit, a message cut short by a closed connection, a wrong handshake.
 * Frames crafted by hand from the wire format are wire.h's.
 *
 * Used by tests/hub_security_test.c, tests/hostile_network_test.c,
 * tests/hub_memory_test.c and the load benchmark tests/bench/bench_load.c.
 * Nothing here asserts: every function returns 0 or a negative psi error
 * code and says why on stderr, so that threads and benchmarks can use it as
 * well as cmocka tests. Only loopback addresses are ever used.
 */
#ifndef PSI_TEST_HUB_PROCESS_H
#define PSI_TEST_HUB_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "envelope.h"
#include "identity.h"

/* ---------------------------------------------------------------- the process */

struct hub_test_hub {
    char bin[512];      /* the psi-hub binary */
    char dir[256];      /* scratch directory (mkdtemp) */
    char hub_dir[300];  /* the hub's directory inside it */
    char log_path[300]; /* serve's stderr: one line per request */
    char name[65];
    char vkey[PSI_VKEY_MAX]; /* the hub's verifier key string */
    unsigned char hub_key[32];
    char url[128]; /* tcp://127.0.0.1:PORT once serving */
    int port;
    pid_t pid;                /* 0 when not serving */
    char max_connections[16]; /* serve's --max-connections when not empty */
};

/* A scratch directory (scratch.h: TMPDIR/psi-TAG-XXXXXX), then `psi-hub init
 * --dir DIR/hub --name NAME INIT_OPTIONS` (options may be NULL); fills the
 * hub's key. */
int hub_test_hub_create(struct hub_test_hub *h, const char *bin, const char *tag, const char *name,
                        const char *init_options);

/* Runs the shell command cmd with its stdout in out (may be NULL; what does
 * not fit in cap - 1 bytes is read and dropped), NUL-terminated; returns its
 * exit status, or -1 if it could not run or died by a signal. */
int hub_test_run_capture(const char *cmd, char *out, size_t cap);

/* Runs `psi-hub ARGS` (printf-style; the caller quotes paths) with stdout in
 * out (may be NULL) and stderr discarded; returns the exit status, or -1. */
int hub_test_hub_command(const struct hub_test_hub *h, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* psi-hub admit of id with role and further options (may be NULL). */
int hub_test_hub_admit(const struct hub_test_hub *h, const struct psi_identity *id,
                       const char *role, const char *options);

/* psi-hub serve --listen tcp://127.0.0.1:0 --contexts N in the background,
 * with extra_env ("NAME=VALUE", or NULL) added to its environment; waits for
 * its "serving" line and fills url and port. */
int hub_test_hub_serve(struct hub_test_hub *h, unsigned contexts, const char *extra_env);

/* 1 if the serving process is still running (not exited, not killed). */
int hub_test_hub_alive(const struct hub_test_hub *h);

/* SIGTERM, wait; returns the exit status (0 for a clean stop), or -1 if it
 * died by a signal or could not be waited for. */
int hub_test_hub_stop(struct hub_test_hub *h);

/* Removes the scratch directory unless PSI_KEEP is set (then says where). */
void hub_test_hub_destroy(struct hub_test_hub *h);

/* The end of a test group: stops the hub (with expect_serving, a hub that is
 * not serving any more is a failure too) and, when it stopped cleanly,
 * destroys it; otherwise keeps its directory and says so. 0, or -1. */
int hub_test_hub_finish(struct hub_test_hub *h, int expect_serving);

/* A field of /proc/PID/status in KiB ("VmHWM", "VmRSS"), or -1. */
long hub_test_proc_kib(pid_t pid, const char *field);

/* ---------------------------------------------------------------- the store */

/* Row counts of the hub's tables. With except != NULL, rows that belong to
 * that participant (as owner, sender, blinder or peer) are left out. */
struct hub_test_counts {
    long long participants, removed, submissions, blocks, crossblinds, tags, overlaps, uploads,
        chunks, replies, nonces;
    long long log_entries; /* the audit log's entries (all of them), -1 without a log */
};

int hub_test_counts_read(const struct hub_test_hub *h, const char *except,
                         struct hub_test_counts *c);
/* 0 if a and b agree on every table except nonces and log entries (the
 * refusals' bookkeeping); otherwise names the first difference on stderr
 * and returns PSI_ERR_STATE. */
int hub_test_counts_compare(const struct hub_test_counts *a, const struct hub_test_counts *b);

/* ---------------------------------------------------------------- clocks */

/* Unix time in milliseconds (the clock requests carry). */
uint64_t hub_test_now_ms(void);

/* Monotonic time in nanoseconds, for durations. */
uint64_t hub_test_mono_ns(void);

/* ---------------------------------------------------------------- raw SP over TCP */

/* One TCP connection speaking nng's SP protocol as a REQ peer: an 8-byte
 * handshake, then messages as u64be(length) || body, where a request body
 * starts with a 4-byte request id with its high bit set and the REP peer
 * echoes it in front of the reply. */
struct hub_test_sp {
    int fd;
    uint32_t next_id;
    uint32_t waiting_id;
};

/* Connects to url (tcp://127.0.0.1:PORT only) and exchanges handshakes; with
 * handshake NULL the REQ handshake is sent and the REP one checked, otherwise
 * the 8 given bytes are sent and nothing is checked. 0, PSI_ERR_NETWORK,
 * PSI_ERR_TIMEOUT, PSI_ERR_INVALID (not a loopback tcp url). */
int hub_test_sp_open(struct hub_test_sp *c, const char *url, const uint8_t *handshake,
                     unsigned timeout_ms);
/* Sends frame as one request message (id header added). */
int hub_test_sp_send(struct hub_test_sp *c, const uint8_t *frame, size_t len);
/* Writes bytes on the stream as they are. */
int hub_test_sp_write(struct hub_test_sp *c, const uint8_t *bytes, size_t len);
/* Receives the reply to the last request sent (malloc'd, without the id).
 * 0, PSI_ERR_TIMEOUT, PSI_ERR_NETWORK (the hub closed the connection),
 * PSI_ERR_PROTOCOL (another id, or a length over PSI_FRAME_MAX_BYTES). */
int hub_test_sp_recv(struct hub_test_sp *c, uint8_t **reply, size_t *reply_len,
                     unsigned timeout_ms);
/* Waits until the hub closes the connection, reading and dropping whatever
 * it sends first (its own handshake): 0 closed, PSI_ERR_TIMEOUT still open. */
int hub_test_sp_wait_closed(struct hub_test_sp *c, unsigned timeout_ms);
void hub_test_sp_close(struct hub_test_sp *c);

#endif
