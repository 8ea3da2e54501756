/*
 * The hub on a hostile network: a real psi-hub process receives, from several
 * client threads at once, thousands of random, truncated, bit-flipped,
 * oversized, replayed and re-ordered frames, stale requests, broken SP
 * streams, and well-signed requests from strangers, impostors and a removed
 * participant. Every one must get the answer the documented pipeline gives
 * (docs/hub.md, docs/wire.md): a signed plain error, a sealed refusal with the
 * right code, or a closed connection for what nng itself refuses. Then:
 *
 *  - the hub process is still the same one, and answers info and roster;
 *  - its store is as it was: every table's row count is unchanged by the
 *    garbage (the nonce table, the refusals' bookkeeping, aside), counted in
 *    the SQLite file;
 *  - the re-ordered sequences (chunks and commits of one participant arriving
 *    in a shuffled order, then retried in order) end as exactly one
 *    submission each, with the digest that was signed;
 *  - a full round between two legitimate participants (submit, work.list,
 *    work.fetch, tags, crossblind.commit, results) gives exactly the planted
 *    overlap, seen from both sides;
 *  - if the client has `psi audit verify`, an auditor's verify passes.
 *
 * Bounded: PSI_HOSTILE_FRAMES frames in all (default 5000) over THREADS
 * threads, and FLOOD_SECONDS at most. Loopback only. PSI_KEEP=1 keeps the
 * hub's directory and its request log.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <sodium.h>
#include <sqlite3.h>

#include "envelope.h"
#include "hub_process.h"
#include "wire.h"
#include "identity.h"
#include "psi.pb-c.h"
#include "psi/blind.h"
#include "psi/error.h"
#include "rpc.h"

#define HUB_BIN PSI_BINARY_DIR "/server/psi-hub"
#define PSI_BIN PSI_BINARY_DIR "/client/psi"
#define MAX_MESSAGE 65536u /* the smallest the hub allows: oversized frames stay cheap */
#define THREADS 8
#define DEFAULT_FRAMES 5000
#define FLOOD_SECONDS 70
#define REPLY_MS 10000u
#define CLOSE_MS 3000u

/* The re-ordered uploads: REORDER_CHUNKS chunks of REORDER_CHUNK_ELEMENTS. */
#define REORDER_CHUNKS 4
#define REORDER_CHUNK_ELEMENTS 8
#define REORDER_ELEMENTS ((size_t)REORDER_CHUNKS * REORDER_CHUNK_ELEMENTS)
#define REORDER_MAX 512

static struct {
    struct hub_test_hub hub;
    /* a, b: the final round; o: captured and re-ordered frames; r: removed */
    struct psi_identity a, b, o, r, stranger, impostor;
    char epoch[64];
    char auditor_state[400]; /* "" without psi audit */
    /* frames of o that the hub answered before the flood, to replay */
    uint8_t *captured[4];
    size_t captured_len[4];
    unsigned char captured_rid[4][16];
    uint8_t *captured_reply[4]; /* the body of the hub's first answer */
    size_t captured_reply_len[4];
    /* every submission digest of o the re-ordered sequences signed */
    pthread_mutex_t lock;
    unsigned char reorder_digest[REORDER_MAX][32];
    size_t reorder_count;
} H;

/* ---------------------------------------------------------------- requests */

/* A request over the real client transport (proto/rpc.h). */
static int call(const struct psi_identity *who, const char *method, const uint8_t *body,
                size_t body_len, uint8_t **reply, size_t *reply_len, char *err, size_t errlen)
{
    struct psi_rpc *rpc = NULL;
    *reply = NULL;
    *reply_len = 0;
    int rc = psi_rpc_open(&rpc, H.hub.url, who, H.hub.hub_key, REPLY_MS, err, errlen);
    if (rc != 0)
        return rc;
    rc = psi_rpc_call(rpc, method, body, body_len, reply, reply_len, err, errlen);
    psi_rpc_close(rpc);
    return rc;
}

static uint8_t *call_ok(const struct psi_identity *who, const char *method, const uint8_t *body,
                        size_t body_len, size_t *reply_len)
{
    uint8_t *reply = NULL;
    char err[512] = "";
    int rc = call(who, method, body, body_len, &reply, reply_len, err, sizeof err);
    if (rc != 0)
        fail_msg("%s as %s: %s (%s)", method, who->name, psi_strerror(rc), err);
    return reply;
}

static void upload(const struct psi_identity *who, const uint8_t upload_id[16],
                   const uint8_t *bytes, size_t len)
{
    for (size_t at = 0; at < len; at += 32768) {
        size_t n, reply_len;
        uint8_t *body =
            hub_test_chunk_body(upload_id, at, bytes + at, len - at < 32768 ? len - at : 32768, &n);
        free(call_ok(who, "upload.chunk", body, n, &reply_len));
        free(body);
    }
}

static uint8_t *commit_body(const struct psi_identity *who, const uint8_t upload_id[16],
                            const uint8_t *elements, uint64_t count, unsigned char digest[32],
                            size_t *len)
{
    unsigned char sig[64];
    hub_test_submission_digest(H.epoch, who->name, count, elements, digest);
    hub_test_submission_sign(who->secret_key, H.hub.hub_key, digest, sig);
    return hub_test_commit_body(upload_id, H.epoch, count, digest, sig, len);
}

/* ---------------------------------------------------------------- setup */

static int psi_has_audit_verify(void)
{
    if (access(PSI_BIN, X_OK) != 0)
        return 0;
    char out[8192] = "";
    int status = hub_test_run_capture("'" PSI_BIN "' audit --help 2>&1", out, sizeof out);
    return status == 0 && strstr(out, "audit verify") != NULL;
}

static int run_psi(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run_psi(const char *fmt, ...)
{
    char args[2048], cmd[2600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s", PSI_BIN, args);
    return hub_test_run_capture(cmd, NULL, 0);
}

/* The last lines of the text file at path (at most its last 8 KiB), on
 * stderr: what a failed command said. */
static void print_tail(const char *path, unsigned lines)
{
    char buf[8192];
    size_t n = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        long keep = (long)sizeof buf - 1;
        if (size >= 0 && fseek(f, size > keep ? size - keep : 0, SEEK_SET) == 0)
            n = fread(buf, 1, sizeof buf - 1, f);
    }
    fclose(f);
    buf[n] = '\0';
    size_t start = n > 0 && buf[n - 1] == '\n' ? n - 1 : n; /* the last line's end */
    unsigned seen = 0;
    while (start > 0 && !(buf[start - 1] == '\n' && ++seen == lines))
        start--;
    fputs(buf + start, stderr);
}

static void capture_frames(void)
{
    /* o: an info, then an upload of two chunks and its commit, each answered */
    uint8_t *elements = hub_test_elements(20), upload_id[16];
    randombytes_buf(upload_id, sizeof upload_id);
    unsigned char digest[32];
    size_t n[4];
    uint8_t *bodies[4] = {NULL, hub_test_chunk_body(upload_id, 0, elements, 320, &n[1]),
                          hub_test_chunk_body(upload_id, 320, elements + 320, 320, &n[2]),
                          commit_body(&H.o, upload_id, elements, 20, digest, &n[3])};
    n[0] = 0;
    const char *methods[4] = {"info", "upload.chunk", "upload.chunk", "submit.commit"};
    struct hub_test_sp c;
    assert_int_equal(hub_test_sp_open(&c, H.hub.url, NULL, REPLY_MS), 0);
    for (int i = 0; i < 4; i++) {
        randombytes_buf(H.captured_rid[i], 16);
        assert_int_equal(psi_request_seal(&H.o, H.hub.hub_key, methods[i], H.captured_rid[i],
                                          bodies[i], n[i], &H.captured[i], &H.captured_len[i]),
                         0);
        assert_int_equal(hub_test_sp_send(&c, H.captured[i], H.captured_len[i]), 0);
        uint8_t *reply;
        size_t reply_len;
        assert_int_equal(hub_test_sp_recv(&c, &reply, &reply_len, REPLY_MS), 0);
        struct psi_reply r;
        assert_int_equal(
            psi_reply_open(&H.o, H.hub.hub_key, H.captured_rid[i], reply, reply_len, &r), 0);
        if (r.status != 0)
            fail_msg("captured %s: %s", methods[i], r.error);
        H.captured_reply[i] = malloc(r.body_len + 1);
        assert_non_null(H.captured_reply[i]);
        if (r.body_len > 0)
            memcpy(H.captured_reply[i], r.body, r.body_len);
        H.captured_reply_len[i] = r.body_len;
        psi_reply_clear(&r);
        free(reply);
        free(bodies[i]);
    }
    hub_test_sp_close(&c);
    free(elements);
}

static int setup_group(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    pthread_mutex_init(&H.lock, NULL);
    assert_int_equal(
        hub_test_hub_create(&H.hub, HUB_BIN, "hostile", "hostile-hub", "--max-message-bytes 65536"),
        0);
    assert_int_equal(psi_identity_generate(&H.a, "agency-a"), 0);
    assert_int_equal(psi_identity_generate(&H.b, "agency-b"), 0);
    assert_int_equal(psi_identity_generate(&H.o, "agency-o"), 0);
    assert_int_equal(psi_identity_generate(&H.r, "agency-r"), 0);
    assert_int_equal(psi_identity_generate(&H.stranger, "agency-x"), 0);
    assert_int_equal(psi_identity_generate(&H.impostor, "agency-a"), 0);
    assert_int_equal(hub_test_hub_admit(&H.hub, &H.a, "agency", "--share-with all"), 0);
    assert_int_equal(hub_test_hub_admit(&H.hub, &H.b, "agency", "--share-with all"), 0);
    /* o shares with nobody on the roster: its sets make no work for a and b */
    assert_int_equal(hub_test_hub_admit(&H.hub, &H.o, "agency", "--share-with agency-none"), 0);
    assert_int_equal(hub_test_hub_admit(&H.hub, &H.r, "agency", NULL), 0);
    assert_int_equal(
        hub_test_hub_command(&H.hub, NULL, 0, "remove --dir '%s' --id agency-r", H.hub.hub_dir), 0);
    if (psi_has_audit_verify()) {
        snprintf(H.auditor_state, sizeof H.auditor_state, "%s/auditor", H.hub.dir);
        assert_int_equal(hub_test_hub_serve(&H.hub, 8, NULL), 0); /* psi init may ask the hub */
        char out[2048] = "", cmd[1400];
        snprintf(cmd, sizeof cmd,
                 "'%s' init --state '%s' --id auditor-1 --hub '%s' --hub-key '%s' 2>&1", PSI_BIN,
                 H.auditor_state, H.hub.url, H.hub.vkey);
        assert_int_equal(hub_test_run_capture(cmd, out, sizeof out), 0);
        size_t n = strlen(out);
        while (n > 0 && out[n - 1] == '\n')
            out[--n] = '\0';
        const char *key = strrchr(out, '\n');
        key = key ? key + 1 : out;
        assert_int_equal(hub_test_hub_command(&H.hub, NULL, 0,
                                              "admit --dir '%s' --id auditor-1 --role auditor "
                                              "--key '%s'",
                                              H.hub.hub_dir, key),
                         0);
    } else {
        print_message("psi audit verify is not in the client (yet): the audit check is skipped\n");
        assert_int_equal(hub_test_hub_serve(&H.hub, 8, NULL), 0);
    }
    size_t n;
    uint8_t *info = call_ok(&H.a, "info", NULL, 0, &n);
    Psi__HubInfo *hi = psi__hub_info__unpack(NULL, n, info);
    assert_non_null(hi);
    snprintf(H.epoch, sizeof H.epoch, "%s", hi->epoch);
    psi__hub_info__free_unpacked(hi, NULL);
    free(info);
    capture_frames();
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    struct psi_identity *ids[] = {&H.a, &H.b, &H.o, &H.r, &H.stranger, &H.impostor};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        psi_identity_clear(ids[i]);
    for (int i = 0; i < 4; i++) {
        free(H.captured[i]);
        free(H.captured_reply[i]);
    }
    return hub_test_hub_finish(&H.hub, 1);
}

/* ---------------------------------------------------------------- the flood */

enum frame_kind {
    K_RANDOM,    /* random bytes, any length up to 4 KiB, some with a 0x01 or 0x02 first */
    K_TRUNCATED, /* a well-formed request cut anywhere */
    K_FLIPPED,   /* a well-formed request with 1..3 bits flipped */
    K_OVERSIZED, /* a length over the hub's maximum on the stream */
    K_REPLAYED,  /* a frame the hub answered already */
    K_FRESH,     /* a well-formed info, answered, then the same frame again */
    K_STRANGER,  /* well-signed by a key not on the roster */
    K_IMPOSTOR,  /* a roster id, signed by another key */
    K_REMOVED,   /* well-signed by a removed participant */
    K_STALE,     /* well-signed, 400 s off the clock */
    K_SPJUNK,    /* a broken SP stream: bad handshake, short or headless message, cut message */
    K_REORDER,   /* an upload's chunks and commit shuffled, then retried in order */
    K_COUNT
};

static const char *const kind_names[K_COUNT] = {
    "random",   "truncated", "bit-flipped", "oversized", "replayed",  "fresh+replayed",
    "stranger", "impostor",  "removed",     "stale",     "broken SP", "re-ordered",
};

/* Out of 64 draws. */
static const unsigned kind_weight[K_COUNT] = {11, 7, 10, 5, 6, 3, 5, 4, 4, 4, 4, 1};

struct flood {
    int index;
    unsigned frames_goal;
    uint64_t deadline_ns;
    struct hub_test_sp conn;
    unsigned long frames[K_COUNT]; /* frames sent, by kind */
    unsigned long closed;          /* connections the hub closed, as it must */
    unsigned long unexpected;
    char first_unexpected[512];
};

static void unexpected(struct flood *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void unexpected(struct flood *f, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (f->unexpected++ < 10) /* the first few of each thread, as they happen */
        fprintf(stderr, "thread %d: unexpected: %s\n", f->index, what);
    if (f->first_unexpected[0] == '\0')
        snprintf(f->first_unexpected, sizeof f->first_unexpected, "%s", what);
}

static int ensure_conn(struct flood *f)
{
    if (f->conn.fd >= 0)
        return 0;
    int rc = hub_test_sp_open(&f->conn, H.hub.url, NULL, REPLY_MS);
    if (rc != 0)
        unexpected(f, "thread %d: cannot connect to the hub: %s", f->index, psi_strerror(rc));
    return rc;
}

/* Sends frame, opens the reply as who: returns the hub's status, or 1 if no
 * authentic reply came (then recorded as unexpected). *plain tells whether
 * it was a plain error frame. */
static int exchange_body(struct flood *f, enum frame_kind kind, const struct psi_identity *who,
                         const unsigned char rid[16], const uint8_t *frame, size_t len, int *plain,
                         char *text, size_t textlen, uint8_t **body, size_t *body_len)
{
    if (ensure_conn(f) != 0)
        return 1;
    f->frames[kind]++;
    int rc = hub_test_sp_send(&f->conn, frame, len);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    if (rc == 0)
        rc = hub_test_sp_recv(&f->conn, &reply, &reply_len, REPLY_MS);
    if (rc != 0) {
        unexpected(f, "%s frame of %zu bytes: no reply (%s)", kind_names[kind], len,
                   psi_strerror(rc));
        hub_test_sp_close(&f->conn);
        return 1;
    }
    struct psi_reply r;
    rc = psi_reply_open(who, H.hub.hub_key, rid, reply, reply_len, &r);
    *plain = reply_len > 0 && reply[0] == PSI_FRAME_PLAIN_ERROR;
    free(reply);
    if (rc != 0) {
        unexpected(f, "%s frame of %zu bytes: the reply does not open: %s", kind_names[kind], len,
                   psi_strerror(rc));
        return 1;
    }
    int status = r.status;
    if (text != NULL)
        snprintf(text, textlen, "%s", r.error);
    if (body != NULL) {
        *body = r.body;
        *body_len = r.body_len;
        r.body = NULL;
    }
    psi_reply_clear(&r);
    return status;
}

static int exchange(struct flood *f, enum frame_kind kind, const struct psi_identity *who,
                    const unsigned char rid[16], const uint8_t *frame, size_t len, int *plain,
                    char *text, size_t textlen)
{
    return exchange_body(f, kind, who, rid, frame, len, plain, text, textlen, NULL, NULL);
}

/* A plain, signed error with a negative status is what garbage must get. */
static void expect_plain(struct flood *f, enum frame_kind kind, const uint8_t *frame, size_t len,
                         const unsigned char rid[16], int want, const char *needle)
{
    int plain = 0;
    char text[PSI_ERROR_TEXT_MAX + 1] = "";
    int status = exchange(f, kind, &H.a, rid, frame, len, &plain, text, sizeof text);
    if (status == 1)
        return;
    if (!plain || status >= 0 || (want != 0 && status != want) ||
        (needle != NULL && strstr(text, needle) == NULL))
        unexpected(f,
                   "%s frame of %zu bytes: %s reply, status %d '%s' (want a plain error %d '%s')",
                   kind_names[kind], len, plain ? "plain" : "sealed", status, text, want,
                   needle ? needle : "");
}

static void expect_sealed(struct flood *f, enum frame_kind kind, const struct psi_identity *who,
                          const unsigned char rid[16], const uint8_t *frame, size_t len, int want)
{
    int plain = 0;
    char text[PSI_ERROR_TEXT_MAX + 1] = "";
    int status = exchange(f, kind, who, rid, frame, len, &plain, text, sizeof text);
    if (status == 1)
        return;
    if (plain || status != want)
        unexpected(f, "%s frame: %s reply, status %d '%s' (want sealed %d)", kind_names[kind],
                   plain ? "plain" : "sealed", status, text, want);
}

static uint8_t *sealed_info(const struct psi_identity *who, unsigned char rid[16], size_t *len)
{
    randombytes_buf(rid, 16);
    uint8_t *frame = NULL;
    if (psi_request_seal(who, H.hub.hub_key, "info", rid, NULL, 0, &frame, len) != 0)
        return NULL;
    return frame;
}

static void send_random(struct flood *f)
{
    size_t len = randombytes_uniform(4097);
    uint8_t *frame = malloc(len + 1);
    randombytes_buf(frame, len);
    if (len > 0) {
        uint32_t first = randombytes_uniform(3);
        if (first < 2)
            frame[0] = first == 0 ? PSI_FRAME_SEALED : PSI_FRAME_PLAIN_ERROR;
    }
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    expect_plain(f, K_RANDOM, frame, len, NULL /* garbage: no request id to bind */, 0,
                 "malformed request");
    free(frame);
}

static void send_truncated(struct flood *f)
{
    unsigned char rid[16];
    size_t len;
    uint8_t *frame = sealed_info(&H.a, rid, &len);
    size_t cut = randombytes_uniform((uint32_t)len); /* 0 .. len-1 */
    expect_plain(f, K_TRUNCATED, frame, cut, NULL /* garbage: no request id to bind */, 0,
                 "malformed request");
    free(frame);
}

static void send_flipped(struct flood *f)
{
    unsigned char rid[16];
    size_t len;
    uint8_t *frame = sealed_info(&H.a, rid, &len);
    uint32_t flips = 1 + randombytes_uniform(3);
    for (uint32_t i = 0; i < flips; i++) {
        size_t at = randombytes_uniform((uint32_t)len);
        frame[at] ^= (uint8_t)(1u << randombytes_uniform(8));
    }
    /* Flips that cancel out would leave a valid request: flip once more. */
    if (flips == 2)
        frame[len - 1] ^= 0x80;
    expect_plain(f, K_FLIPPED, frame, len, NULL /* garbage: no request id to bind */, 0,
                 "malformed request");
    free(frame);
}

static void send_oversized(struct flood *f)
{
    if (ensure_conn(f) != 0)
        return;
    f->frames[K_OVERSIZED]++;
    uint32_t variant = randombytes_uniform(3);
    uint8_t head[8];
    uint64_t claimed;
    if (variant == 0)
        claimed = MAX_MESSAGE + 1u + randombytes_uniform(65536); /* just over, and sent */
    else if (variant == 1)
        claimed = (uint64_t)1 << (32 + randombytes_uniform(31)); /* absurd */
    else
        claimed = UINT64_MAX;
    for (int i = 7; i >= 0; i--)
        head[7 - i] = (uint8_t)(claimed >> (8 * i));
    (void)hub_test_sp_write(&f->conn, head, sizeof head);
    size_t body = variant == 0 ? (size_t)claimed : 4096;
    uint8_t *bytes = malloc(body);
    randombytes_buf(bytes, body);
    bytes[0] = 0x80; /* a request id header, as nng would send */
    bytes[4] = PSI_FRAME_SEALED;
    /* The hub may close before all of it is written: that is the point. */
    (void)hub_test_sp_write(&f->conn, bytes, body);
    free(bytes);
    int rc = hub_test_sp_wait_closed(&f->conn, CLOSE_MS);
    if (rc != 0)
        unexpected(f,
                   "oversized message (%llu bytes claimed): the hub did not close the "
                   "connection (%s)",
                   (unsigned long long)claimed, psi_strerror(rc));
    else
        f->closed++;
    hub_test_sp_close(&f->conn);
}

/* A captured frame again. The hub refuses the nonce (docs/hub.md, step 5);
 * for a write whose reply is stored, docs/wire.md would have it answer with
 * that first reply instead: either is safe, and nothing is done twice. */
static void send_replayed(struct flood *f)
{
    uint32_t i = randombytes_uniform(4);
    int plain = 0;
    char text[PSI_ERROR_TEXT_MAX + 1] = "";
    uint8_t *body = NULL;
    size_t body_len = 0;
    int status = exchange_body(f, K_REPLAYED, &H.o, H.captured_rid[i], H.captured[i],
                               H.captured_len[i], &plain, text, sizeof text, &body, &body_len);
    int stored_reply = status == 0 && i > 0 && body_len == H.captured_reply_len[i] &&
                       (body_len == 0 || memcmp(body, H.captured_reply[i], body_len) == 0);
    if (status != 1 && (plain || (status != PSI_ERR_REPLAY && !stored_reply)))
        unexpected(f, "replayed frame %u: %s reply, status %d '%s' (want REPLAY%s)", i,
                   plain ? "plain" : "sealed", status, text, i > 0 ? " or the first reply" : "");
    free(body);
}

static void send_fresh(struct flood *f)
{
    unsigned char rid[16];
    size_t len;
    uint8_t *frame = sealed_info(&H.a, rid, &len);
    expect_sealed(f, K_FRESH, &H.a, rid, frame, len, 0);
    expect_sealed(f, K_FRESH, &H.a, rid, frame, len, PSI_ERR_REPLAY);
    free(frame);
}

static void send_signed_by(struct flood *f, enum frame_kind kind, const struct psi_identity *who,
                           int want, const char *needle)
{
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    /* sometimes a write method with a body, to show the body is never reached */
    static const char *const methods[] = {"info", "roster", "work.list", "upload.chunk",
                                          "submit.commit"};
    const char *method = methods[randombytes_uniform(5)];
    size_t body_len = strcmp(method, "upload.chunk") == 0 ? randombytes_uniform(2048) : 0;
    uint8_t *body = malloc(body_len + 1);
    randombytes_buf(body, body_len);
    uint8_t *frame = NULL;
    size_t len = 0;
    if (psi_request_seal(who, H.hub.hub_key, method, rid, body, body_len, &frame, &len) != 0) {
        unexpected(f, "cannot seal a request");
        free(body);
        return;
    }
    expect_plain(f, kind, frame, len, rid, want, needle);
    free(frame);
    free(body);
}

static void send_stale(struct flood *f)
{
    unsigned char rid[16];
    randombytes_buf(rid, sizeof rid);
    int64_t skew = randombytes_uniform(2) ? 400000 : -400000;
    size_t len;
    uint8_t *frame =
        hub_test_craft(&H.a, H.hub.hub_key, "info", (uint64_t)((int64_t)hub_test_now_ms() + skew),
                       NULL, 0, NULL, 0, rid, &len);
    expect_sealed(f, K_STALE, &H.a, rid, frame, len, PSI_ERR_STALE);
    free(frame);
}

static void send_spjunk(struct flood *f)
{
    uint32_t variant = randombytes_uniform(4);
    f->frames[K_SPJUNK]++;
    if (variant == 0) {
        /* another protocol's handshake (pair0), or 8 random bytes: refused */
        uint8_t hs[8] = {0x00, 'S', 'P', 0x00, 0x00, 0x10, 0x00, 0x00};
        if (randombytes_uniform(2))
            randombytes_buf(hs, sizeof hs);
        struct hub_test_sp c;
        if (hub_test_sp_open(&c, H.hub.url, hs, REPLY_MS) != 0)
            return; /* closed while we wrote: as good */
        if (hub_test_sp_wait_closed(&c, CLOSE_MS) != 0)
            unexpected(f, "a bad SP handshake: the hub kept the connection");
        else
            f->closed++;
        hub_test_sp_close(&c);
        return;
    }
    if (ensure_conn(f) != 0)
        return;
    if (variant == 1) {
        /* a message shorter than the 4-byte request id: the peer speaks garbage */
        uint8_t m[10] = {0, 0, 0, 0, 0, 0, 0, 2, 0x80, 0x01};
        (void)hub_test_sp_write(&f->conn, m, sizeof m);
        if (hub_test_sp_wait_closed(&f->conn, CLOSE_MS) != 0)
            unexpected(f, "a 2-byte SP message: the hub kept the connection");
        else
            f->closed++;
        hub_test_sp_close(&f->conn);
    } else if (variant == 2) {
        /* a message whose header never ends (no id with the high bit): nng
         * drops it and keeps the connection, which must still work */
        uint8_t m[8 + 64];
        memset(m, 0, sizeof m);
        m[7] = 64;
        for (int i = 8; i < (int)sizeof m; i += 4)
            m[i + 3] = (uint8_t)i;
        (void)hub_test_sp_write(&f->conn, m, sizeof m);
        unsigned char rid[16];
        size_t len;
        uint8_t *frame = sealed_info(&H.b, rid, &len);
        int plain = 0;
        int status = exchange(f, K_SPJUNK, &H.b, rid, frame, len, &plain, NULL, 0);
        if (status != 0 && status != 1)
            unexpected(f, "info after a headless SP message: status %d", status);
        free(frame);
    } else {
        /* a message cut short by a closed connection */
        unsigned char rid[16];
        size_t len;
        uint8_t *frame = sealed_info(&H.a, rid, &len);
        uint8_t head[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 7};
        uint64_t n = (uint64_t)len + 4u;
        for (int i = 7; i >= 0; i--) {
            head[i] = (uint8_t)(n & 0xffu);
            n >>= 8;
        }
        (void)hub_test_sp_write(&f->conn, head, sizeof head);
        (void)hub_test_sp_write(&f->conn, frame, len / 2);
        free(frame);
        hub_test_sp_close(&f->conn);
    }
}

/* Chunks and commit of one upload of o, shuffled; each answered as the
 * upload rules say; then every one retried in order with its request id,
 * which must complete exactly one submission. */
static void send_reordered(struct flood *f)
{
    uint8_t *elements = hub_test_elements(REORDER_ELEMENTS), upload_id[16];
    randombytes_buf(upload_id, sizeof upload_id);
    enum { STEPS = REORDER_CHUNKS + 1 };
    const size_t chunk_bytes = (size_t)REORDER_CHUNK_ELEMENTS * 32;
    uint8_t *bodies[STEPS];
    size_t lens[STEPS];
    unsigned char rids[STEPS][16], digest[32];
    for (int i = 0; i < REORDER_CHUNKS; i++)
        bodies[i] = hub_test_chunk_body(upload_id, (uint64_t)i * chunk_bytes,
                                        elements + (size_t)i * chunk_bytes, chunk_bytes, &lens[i]);
    bodies[REORDER_CHUNKS] =
        commit_body(&H.o, upload_id, elements, REORDER_ELEMENTS, digest, &lens[REORDER_CHUNKS]);
    int order[STEPS];
    for (int i = 0; i < STEPS; i++) {
        order[i] = i;
        randombytes_buf(rids[i], 16);
    }
    for (int i = STEPS - 1; i > 0; i--) {
        int j = (int)randombytes_uniform((uint32_t)i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t held = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < STEPS; k++) {
            int step = pass == 0 ? order[k] : k;
            const char *method = step < REORDER_CHUNKS ? "upload.chunk" : "submit.commit";
            uint8_t *frame = NULL;
            size_t len = 0;
            if (psi_request_seal(&H.o, H.hub.hub_key, method, rids[step], bodies[step], lens[step],
                                 &frame, &len) != 0) {
                unexpected(f, "cannot seal a request");
                continue;
            }
            int plain = 0;
            char text[PSI_ERROR_TEXT_MAX + 1] = "";
            int status =
                exchange(f, K_REORDER, &H.o, rids[step], frame, len, &plain, text, sizeof text);
            free(frame);
            if (status == 1)
                continue;
            int want_ok;
            if (pass == 1)
                want_ok = 1; /* a retry: the stored answer, or the act now */
            else if (step < REORDER_CHUNKS)
                want_ok = held == (size_t)step * chunk_bytes;
            else
                want_ok = held == REORDER_CHUNKS * chunk_bytes;
            if (want_ok && status == 0) {
                if (pass == 0 && step < REORDER_CHUNKS)
                    held += chunk_bytes;
            } else if (want_ok || status == 0 ||
                       (status != PSI_ERR_PROTOCOL && status != PSI_ERR_NOT_FOUND)) {
                unexpected(f,
                           "re-ordered %s (step %d of %d, %zu bytes held, pass %d): status %d "
                           "'%s', want %s",
                           method, step, STEPS, held, pass, status, text,
                           want_ok ? "ok" : "a gap refused");
            }
        }
    }
    pthread_mutex_lock(&H.lock);
    if (H.reorder_count < REORDER_MAX)
        memcpy(H.reorder_digest[H.reorder_count++], digest, 32);
    pthread_mutex_unlock(&H.lock);
    for (int i = 0; i < STEPS; i++)
        free(bodies[i]);
    free(elements);
}

static unsigned long frames_sent(const struct flood *f)
{
    unsigned long n = 0;
    for (int k = 0; k < K_COUNT; k++)
        n += f->frames[k];
    return n;
}

static enum frame_kind draw_kind(void)
{
    uint32_t x = randombytes_uniform(64);
    for (int k = 0; k < K_COUNT; k++) {
        if (x < kind_weight[k])
            return (enum frame_kind)k;
        x -= kind_weight[k];
    }
    return K_RANDOM;
}

static void *flood_thread(void *arg)
{
    struct flood *f = arg;
    f->conn.fd = -1;
    while (frames_sent(f) < f->frames_goal && hub_test_mono_ns() < f->deadline_ns) {
        switch (draw_kind()) {
        case K_RANDOM: send_random(f); break;
        case K_TRUNCATED: send_truncated(f); break;
        case K_FLIPPED: send_flipped(f); break;
        case K_OVERSIZED: send_oversized(f); break;
        case K_REPLAYED: send_replayed(f); break;
        case K_FRESH: send_fresh(f); break;
        case K_STRANGER:
            send_signed_by(f, K_STRANGER, &H.stranger, PSI_ERR_DENIED,
                           "unknown participant 'agency-x'");
            break;
        case K_IMPOSTOR:
            send_signed_by(f, K_IMPOSTOR, &H.impostor, PSI_ERR_VERIFY, "bad signature");
            break;
        case K_REMOVED:
            send_signed_by(f, K_REMOVED, &H.r, PSI_ERR_DENIED,
                           "participant 'agency-r' was removed");
            break;
        case K_STALE: send_stale(f); break;
        case K_SPJUNK: send_spjunk(f); break;
        case K_REORDER: send_reordered(f); break;
        case K_COUNT: break;
        }
    }
    hub_test_sp_close(&f->conn);
    return NULL;
}

/* ---------------------------------------------------------------- after */

static void hub_answers_info_and_roster(void)
{
    size_t n;
    uint8_t *body = call_ok(&H.b, "info", NULL, 0, &n);
    Psi__HubInfo *info = psi__hub_info__unpack(NULL, n, body);
    assert_non_null(info);
    assert_string_equal(info->name, "hostile-hub");
    assert_string_equal(info->epoch, H.epoch);
    assert_int_equal(info->max_message_bytes, MAX_MESSAGE);
    assert_int_equal(info->threshold, 2);
    psi__hub_info__free_unpacked(info, NULL);
    free(body);
    body = call_ok(&H.a, "roster", NULL, 0, &n);
    Psi__Roster *roster = psi__roster__unpack(NULL, n, body);
    assert_non_null(roster);
    size_t want = H.auditor_state[0] ? 5u : 4u, removed = 0;
    assert_int_equal(roster->n_participants, want);
    for (size_t i = 0; i < roster->n_participants; i++) {
        if (roster->participants[i]->removed) {
            assert_string_equal(roster->participants[i]->id, "agency-r");
            removed++;
        }
    }
    assert_int_equal(removed, 1);
    psi__roster__free_unpacked(roster, NULL);
    free(body);
}

/* Every re-ordered sequence is one submission of o, with the digest it signed.
 * Read from the hub's SQLite file by a connection of the test's own: the hub
 * is another process, and this is what its disk holds, not what its store
 * operations promise (those: server/store_contract_test.c). */
static void reordered_submissions_are_whole(size_t *count)
{
    char path[400];
    snprintf(path, sizeof path, "%s/hub.db", H.hub.hub_dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count, digest FROM submission WHERE owner = "
                                        "'agency-o' AND count = ?1",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(s, 1, REORDER_ELEMENTS);
    size_t rows = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const void *d = sqlite3_column_blob(s, 1);
        assert_int_equal(sqlite3_column_bytes(s, 1), 32);
        int found = 0;
        for (size_t i = 0; i < H.reorder_count && !found; i++)
            found = memcmp(H.reorder_digest[i], d, 32) == 0;
        assert_true(found);
        rows++;
    }
    sqlite3_finalize(s);
    *count = rows;
    /* nothing of o left staged */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM upload WHERE sender = 'agency-o'",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    assert_int_equal(rows, H.reorder_count);
}

/* ---------------------------------------------------------------- the round */

struct party_set {
    uint8_t *elements; /* position p holds indicator indicators[p] */
    uint32_t *indicators;
    size_t count;
    uint64_t submission_id, position_base;
};

static void make_set(struct party_set *s, uint32_t first, size_t count)
{
    s->count = count;
    s->elements = hub_test_elements(count);
    s->indicators = malloc(count * sizeof *s->indicators);
    for (size_t i = 0; i < count; i++)
        s->indicators[i] = first + (uint32_t)i;
    for (size_t i = count - 1; i > 0; i--) { /* shuffled, as a client does */
        size_t j = randombytes_uniform((uint32_t)i + 1);
        uint32_t t = s->indicators[i];
        s->indicators[i] = s->indicators[j];
        s->indicators[j] = t;
    }
}

static void submit_set(const struct psi_identity *who, struct party_set *s)
{
    uint8_t upload_id[16];
    randombytes_buf(upload_id, sizeof upload_id);
    upload(who, upload_id, s->elements, s->count * 32);
    unsigned char digest[32];
    size_t n, reply_len;
    uint8_t *body = commit_body(who, upload_id, s->elements, s->count, digest, &n);
    uint8_t *reply = call_ok(who, "submit.commit", body, n, &reply_len);
    Psi__SubmitReceipt *receipt = psi__submit_receipt__unpack(NULL, reply_len, reply);
    assert_non_null(receipt);
    s->submission_id = receipt->submission_id;
    s->position_base = receipt->position_base;
    psi__submit_receipt__free_unpacked(receipt, NULL);
    free(reply);
    free(body);
}

/* who's agent: the owner's set is in its work list; fetch it, tag every
 * element with the stand-in tag of its indicator, commit. */
static void crossblind(const struct psi_identity *who, const char *owner, const struct party_set *s)
{
    size_t n;
    uint8_t *body = call_ok(who, "work.list", NULL, 0, &n);
    Psi__WorkList *work = psi__work_list__unpack(NULL, n, body);
    assert_non_null(work);
    free(body);
    const Psi__Submission *task = NULL;
    for (size_t i = 0; i < work->n_tasks; i++)
        if (strcmp(work->tasks[i]->owner, owner) == 0)
            task = work->tasks[i];
    if (task == NULL) {
        psi__work_list__free_unpacked(work, NULL);
        fail_msg("%s: %s's set is not in its work list", who->name, owner);
        return;
    }
    assert_int_equal(task->submission_id, s->submission_id);
    assert_int_equal(task->count, s->count);
    unsigned char digest[32];
    assert_int_equal(task->digest.len, 32);
    memcpy(digest, task->digest.data, 32);
    psi__work_list__free_unpacked(work, NULL);

    uint8_t *tags = malloc(s->count * 16);
    for (size_t at = 0; at < s->count;) {
        Psi__FetchRequest fr = PSI__FETCH_REQUEST__INIT;
        fr.submission_id = s->submission_id;
        fr.offset = at;
        fr.limit = 1000;
        uint8_t *req = hub_test_pack(&fr.base, &n);
        size_t reply_len;
        uint8_t *reply = call_ok(who, "work.fetch", req, n, &reply_len);
        free(req);
        Psi__FetchReply *got = psi__fetch_reply__unpack(NULL, reply_len, reply);
        assert_non_null(got);
        assert_int_equal(got->offset, at);
        assert_true(got->elements.len > 0 && got->elements.len % 32 == 0);
        for (size_t k = 0; k < got->elements.len / 32; k++) {
            /* the element tells which indicator it is: the test's own table */
            assert_memory_equal(got->elements.data + k * 32, s->elements + (at + k) * 32, 32);
            hub_test_tag(s->indicators[at + k], tags + (at + k) * 16);
        }
        at += got->elements.len / 32;
        psi__fetch_reply__free_unpacked(got, NULL);
        free(reply);
    }
    uint8_t upload_id[16];
    randombytes_buf(upload_id, sizeof upload_id);
    upload(who, upload_id, tags, s->count * 16);
    unsigned char tag_digest[32], sig[64];
    hub_test_tag_digest(tags, s->count, tag_digest);
    hub_test_crossblind_sign(who->secret_key, H.hub.hub_key, digest, s->count, tag_digest, sig);
    Psi__CrossBlindCommit m = PSI__CROSS_BLIND_COMMIT__INIT;
    m.upload_id.data = upload_id;
    m.upload_id.len = 16;
    m.submission_id = s->submission_id;
    m.count = s->count;
    m.tag_digest.data = tag_digest;
    m.tag_digest.len = 32;
    m.signature.data = sig;
    m.signature.len = 64;
    m.mutual_suite = psi_mutual_suite();
    body = hub_test_pack(&m.base, &n);
    size_t reply_len;
    uint8_t *reply = call_ok(who, "crossblind.commit", body, n, &reply_len);
    Psi__CrossBlindReceipt *receipt = psi__cross_blind_receipt__unpack(NULL, reply_len, reply);
    assert_non_null(receipt);
    assert_int_equal(receipt->submission_id, s->submission_id);
    psi__cross_blind_receipt__free_unpacked(receipt, NULL);
    free(reply);
    free(body);
    free(tags);
}

/* who's results: exactly the positions whose indicator is in [lo, hi), each
 * with the one peer. */
static void check_results(const struct psi_identity *who, const struct party_set *s, uint32_t lo,
                          uint32_t hi, const char *peer)
{
    Psi__ResultsRequest m = PSI__RESULTS_REQUEST__INIT;
    m.participant = (char *)who->name;
    m.epoch = (char *)"";
    size_t n, reply_len;
    uint8_t *body = hub_test_pack(&m.base, &n);
    uint8_t *reply = call_ok(who, "results", body, n, &reply_len);
    free(body);
    Psi__Results *res = psi__results__unpack(NULL, reply_len, reply);
    assert_non_null(res);
    size_t want = 0;
    for (size_t p = 0; p < s->count; p++)
        want += s->indicators[p] >= lo && s->indicators[p] < hi;
    assert_int_equal(res->n_matches, want);
    for (size_t i = 0; i < res->n_matches; i++) {
        const Psi__Match *mt = res->matches[i];
        assert_true(mt->position >= s->position_base && mt->position < s->position_base + s->count);
        uint32_t ind = s->indicators[mt->position - s->position_base];
        assert_true(ind >= lo && ind < hi);
        assert_int_equal(mt->n_peers, 1);
        assert_string_equal(mt->peers[0], peer);
    }
    psi__results__free_unpacked(res, NULL);
    free(reply);
}

static void full_round(void)
{
    struct hub_test_counts before, after;
    assert_int_equal(hub_test_counts_read(&H.hub, NULL, &before), 0);
    /* a holds indicators 0..149, b 100..219: 50 in common */
    struct party_set sa, sb;
    make_set(&sa, 0, 150);
    make_set(&sb, 100, 120);
    submit_set(&H.a, &sa);
    submit_set(&H.b, &sb);
    crossblind(&H.b, "agency-a", &sa);
    crossblind(&H.a, "agency-b", &sb);
    check_results(&H.a, &sa, 100, 150, "agency-b");
    check_results(&H.b, &sb, 100, 150, "agency-a");
    assert_int_equal(hub_test_counts_read(&H.hub, NULL, &after), 0);
    assert_int_equal(after.submissions, before.submissions + 2);
    assert_int_equal(after.crossblinds, before.crossblinds + 2);
    assert_int_equal(after.tags, before.tags + 270);
    assert_int_equal(after.overlaps, before.overlaps + 100);
    free(sa.elements);
    free(sa.indicators);
    free(sb.elements);
    free(sb.indicators);
}

static void audit_verify_passes(void)
{
    if (H.auditor_state[0] == '\0')
        return;
    int rc = run_psi("audit verify --state '%s' >'%s/audit.out' 2>&1", H.auditor_state, H.hub.dir);
    if (rc != 0) {
        char path[600];
        snprintf(path, sizeof path, "%s/audit.out", H.hub.dir);
        print_tail(path, 20);
        fail_msg("psi audit verify exited %d after the flood", rc);
    }
    print_message("psi audit verify: passed\n");
}

/* ---------------------------------------------------------------- the test */

static void hostile_flood(void **state)
{
    (void)state;
    unsigned long goal = DEFAULT_FRAMES;
    const char *env = getenv("PSI_HOSTILE_FRAMES");
    if (env != NULL) {
        char *end = NULL;
        unsigned long v = strtoul(env, &end, 10);
        if (end != env && *end == '\0' && v >= THREADS && v <= 1000000)
            goal = v;
    }
    struct hub_test_counts before, after;
    assert_int_equal(hub_test_counts_read(&H.hub, "agency-o", &before), 0);
    pid_t pid = H.hub.pid;
    long rss_before = hub_test_proc_kib(pid, "VmRSS");

    static struct flood floods[THREADS];
    pthread_t threads[THREADS];
    uint64_t start = hub_test_mono_ns();
    for (int t = 0; t < THREADS; t++) {
        memset(&floods[t], 0, sizeof floods[t]);
        floods[t].index = t;
        floods[t].frames_goal = (unsigned)(goal / THREADS);
        floods[t].deadline_ns = start + (uint64_t)FLOOD_SECONDS * 1000000000u;
        assert_int_equal(pthread_create(&threads[t], NULL, flood_thread, &floods[t]), 0);
    }
    unsigned long total = 0, closed = 0, bad = 0, by_kind[K_COUNT] = {0};
    const char *first = NULL;
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
        total += frames_sent(&floods[t]);
        closed += floods[t].closed;
        bad += floods[t].unexpected;
        for (int k = 0; k < K_COUNT; k++)
            by_kind[k] += floods[t].frames[k];
        if (first == NULL && floods[t].first_unexpected[0] != '\0')
            first = floods[t].first_unexpected;
    }
    double seconds = (double)(hub_test_mono_ns() - start) / 1e9;
    print_message("hostile flood: %lu frames from %d threads in %.1f s (%.0f/s); %lu connections "
                  "closed by the hub as they must be; %lu unexpected answers\n",
                  total, THREADS, seconds, (double)total / seconds, closed, bad);
    for (int k = 0; k < K_COUNT; k++)
        print_message("  %-15s %lu\n", kind_names[k], by_kind[k]);
    print_message("hub RSS %ld KiB before the flood, %ld KiB after (VmHWM %ld KiB)\n", rss_before,
                  hub_test_proc_kib(pid, "VmRSS"), hub_test_proc_kib(pid, "VmHWM"));
    if (bad != 0)
        fail_msg("%lu unexpected answers; the first: %s", bad, first);
    /* Bounded by count, and by time only on a machine far slower than ours. */
    assert_true(total >= goal / 2);

    /* The same process, still answering. */
    assert_true(hub_test_hub_alive(&H.hub));
    assert_int_equal(H.hub.pid, pid);
    hub_answers_info_and_roster();

    /* The garbage changed nothing but the refusals' bookkeeping: nonces, and
     * the log's refusal entries. */
    assert_int_equal(hub_test_counts_read(&H.hub, "agency-o", &after), 0);
    assert_int_equal(hub_test_counts_compare(&before, &after), 0);
    print_message("store unchanged by the garbage: %lld submissions, %lld stored replies, %lld "
                  "uploads (nonces %lld -> %lld)\n",
                  after.submissions, after.replies, after.uploads, before.nonces, after.nonces);
    if (after.log_entries >= 0) {
        /* Only requests that parse and name a roster member can be logged
         * refusals (bad signature, removed, stale, replay), besides the
         * re-ordered uploads' submissions: random, cut, flipped, oversized
         * frames, broken streams and strangers never reach the log. */
        unsigned long loggable = by_kind[K_IMPOSTOR] + by_kind[K_REMOVED] + by_kind[K_STALE] +
                                 by_kind[K_REPLAYED] + by_kind[K_FRESH] + by_kind[K_REORDER];
        long long grown = after.log_entries - before.log_entries;
        print_message("audit log: %lld -> %lld entries (+%lld) for %lu frames that could be "
                      "logged refusals or re-ordered submissions\n",
                      before.log_entries, after.log_entries, grown, loggable);
        assert_true(grown >= 0 && (unsigned long long)grown <= loggable);
    }
    size_t reordered = 0;
    reordered_submissions_are_whole(&reordered);
    print_message("re-ordered uploads: %zu, each one whole submission with its signed digest\n",
                  reordered);

    full_round();
    print_message("full round after the flood: 150 and 120 indicators, 50 in common, found from "
                  "both sides\n");
    audit_verify_passes();
    assert_true(hub_test_hub_alive(&H.hub));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_flood),
    };
    int failed = cmocka_run_group_tests(tests, setup_group, teardown_group);
    nng_fini(); /* let nng's threads free what they hold before the leak check */
    return failed;
}
