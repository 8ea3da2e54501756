/* Calls from a participant to its hub (see hub_client.h), over proto/rpc.h. */
#include "hub_client.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "methods.h"
#include "psi.pb-c.h"
#include "psi/error.h"
#include "rpc.h"

struct psi_hub_client {
    struct psi_rpc *rpc;
    char url[PSI_STATE_URL_MAX + 1];
    uint32_t max_message_bytes;
    int waiting_shown; /* a "waiting for the hub" line is on the terminal */
};

/* A hub that is connected but has not answered yet: a line on the terminal,
 * redrawn each second, cleared when the answer (or the timeout) comes. */
static void show_wait(void *arg, unsigned waited_ms, int done)
{
    struct psi_hub_client *c = arg;
    if (done) {
        if (c->waiting_shown)
            fprintf(stderr, "\r\033[K");
        c->waiting_shown = 0;
    } else {
        fprintf(stderr, "\r\033[Kpsi: waiting for the hub at %s: no answer yet after %u s", c->url,
                waited_ms / 1000u);
        c->waiting_shown = 1;
    }
    fflush(stderr);
}

static void set_failure(struct psi_hub_failure *f, int code, int refused, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_failure(struct psi_hub_failure *f, int code, int refused, const char *fmt, ...)
{
    va_list ap;
    f->code = code;
    f->refused = refused;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof f->text, fmt, ap);
    va_end(ap);
}

int psi_hub_refusal_is_final(int status)
{
    switch (status) {
    case PSI_ERR_INVALID:
    case PSI_ERR_ENCODING:
    case PSI_ERR_IDENTITY:
    case PSI_ERR_VERIFY:
    case PSI_ERR_PARSE:
    case PSI_ERR_UNSUPPORTED:
    case PSI_ERR_TOO_LARGE:
    case PSI_ERR_NOT_FOUND:
    case PSI_ERR_PROTOCOL:
    case PSI_ERR_QUOTA:
    case PSI_ERR_EXISTS:
    case PSI_ERR_EPOCH: return 1;
    default: return 0;
    }
}

int psi_hub_client_open(struct psi_hub_client **out, const struct psi_identity *me,
                        const struct psi_state_config *cfg, struct psi_hub_failure *f)
{
    char err[512] = "";
    *out = NULL;
    struct psi_hub_client *c = calloc(1, sizeof *c);
    if (!c) {
        set_failure(f, PSI_ERR_NOMEM, 0, "out of memory");
        return PSI_ERR_NOMEM;
    }
    snprintf(c->url, sizeof c->url, "%s", cfg->hub_url);
    uint64_t timeout_s = PSI_HUB_CLIENT_TIMEOUT_S;
    const char *env = getenv(PSI_HUB_CLIENT_TIMEOUT_ENV);
    if (env && *env && psi_cmdline_parse_u64(env, 1, PSI_HUB_CLIENT_TIMEOUT_MAX_S, &timeout_s)) {
        set_failure(f, PSI_ERR_INVALID, 0, "%s must be a number of seconds from 1 to %u",
                    PSI_HUB_CLIENT_TIMEOUT_ENV, PSI_HUB_CLIENT_TIMEOUT_MAX_S);
        free(c);
        return PSI_ERR_INVALID;
    }
    int rc = psi_rpc_open(&c->rpc, cfg->hub_url, me, cfg->hub_key, (unsigned)timeout_s * 1000u, err,
                          sizeof err);
    if (rc) {
        set_failure(f, rc, 0, "cannot reach hub %s: %s", cfg->hub_url,
                    err[0] ? err : psi_strerror(rc));
        free(c);
        return rc;
    }
    if (isatty(STDERR_FILENO))
        psi_rpc_set_wait_report(c->rpc, show_wait, c);
    *out = c;
    return 0;
}

void psi_hub_client_close(struct psi_hub_client *c)
{
    if (!c)
        return;
    psi_rpc_close(c->rpc);
    free(c);
}

void psi_hub_client_set_max_message(struct psi_hub_client *c, uint32_t max_message_bytes)
{
    c->max_message_bytes = max_message_bytes;
}

int psi_hub_client_call(struct psi_hub_client *c, const char *method,
                        const unsigned char *request_id, const ProtobufCMessage *request,
                        const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply,
                        struct psi_hub_failure *f)
{
    Psi__Empty empty = PSI__EMPTY__INIT;
    char err[PSI_ERROR_TEXT_MAX + 256] = "";
    uint8_t *body = NULL, *answer = NULL;
    size_t answer_len = 0;

    *reply = NULL;
    if (!request)
        request = &empty.base;
    size_t len = protobuf_c_message_get_packed_size(request);
    if (c->max_message_bytes && len > c->max_message_bytes) {
        set_failure(f, PSI_ERR_TOO_LARGE, 0,
                    "a %s request of %zu bytes exceeds the hub's %" PRIu32 " bytes a message",
                    method, len, c->max_message_bytes);
        return PSI_ERR_TOO_LARGE;
    }
    body = malloc(len ? len : 1);
    if (!body) {
        set_failure(f, PSI_ERR_NOMEM, 0, "out of memory");
        return PSI_ERR_NOMEM;
    }
    protobuf_c_message_pack(request, body);
    int rc = request_id
                 ? psi_rpc_call_id(c->rpc, request_id, method, body, len, &answer, &answer_len, err,
                                   sizeof err)
                 : psi_rpc_call(c->rpc, method, body, len, &answer, &answer_len, err, sizeof err);
    free(body);
    if (rc) {
        /* rpc.h: the hub's own refusals come as its status with "hub
         * refused: ..."; timeouts, transport failures and answers that are
         * not authentic as TIMEOUT or NETWORK. */
        int refused =
            rc != PSI_ERR_TIMEOUT && rc != PSI_ERR_NETWORK && strncmp(err, "hub refused", 11) == 0;
        if (psi_rpc_unreachable(c->rpc))
            set_failure(f, rc, 0,
                        "%s (is psi-hub serve running there? is the hub address given to "
                        "psi init --hub right?)",
                        err);
        else if (err[0])
            set_failure(f, rc, refused, "%s", err);
        else
            set_failure(f, rc, refused, "%s to hub %s failed: %s", method, c->url,
                        psi_strerror(rc));
        return rc;
    }
    *reply = protobuf_c_message_unpack(reply_type, NULL, answer_len, answer);
    free(answer);
    if (!*reply) {
        set_failure(f, PSI_ERR_PROTOCOL, 0, "hub %s sent a malformed answer to %s", c->url, method);
        return PSI_ERR_PROTOCOL;
    }
    return 0;
}

int psi_hub_client_upload(struct psi_hub_client *c, const unsigned char upload_id[16],
                          const unsigned char *bytes, size_t total, size_t item_bytes,
                          size_t chunk_bytes, struct psi_cli_progress *progress,
                          struct psi_hub_failure *f)
{
    size_t offset = 0;
    if (item_bytes == 0 || chunk_bytes < item_bytes || total % item_bytes != 0) {
        set_failure(f, PSI_ERR_INVALID, 0, "invalid upload sizes");
        return PSI_ERR_INVALID;
    }
    chunk_bytes -= chunk_bytes % item_bytes;
    while (offset < total) {
        size_t len = total - offset < chunk_bytes ? total - offset : chunk_bytes;
        Psi__UploadChunk chunk = PSI__UPLOAD_CHUNK__INIT;
        Psi__UploadAck *ack = NULL;
        chunk.upload_id.data = (uint8_t *)upload_id;
        chunk.upload_id.len = 16;
        chunk.offset = offset;
        chunk.items.data = (uint8_t *)bytes + offset;
        chunk.items.len = len;
        int rc = psi_hub_client_call(c, PSI_METHOD_NAME(UPLOAD_CHUNK), NULL, &chunk.base,
                                     &psi__upload_ack__descriptor, (ProtobufCMessage **)&ack, f);
        if (rc)
            return rc;
        int coherent = ack->upload_id.len == 16 &&
                       memcmp(ack->upload_id.data, upload_id, 16) == 0 &&
                       ack->received >= offset + len && ack->received <= total &&
                       ack->received % item_bytes == 0;
        uint64_t received = ack->received;
        protobuf_c_message_free_unpacked(&ack->base, NULL);
        if (!coherent) {
            set_failure(f, PSI_ERR_PROTOCOL, 0,
                        "hub %s acknowledged an upload incoherently (%" PRIu64
                        " bytes held after %zu sent)",
                        c->url, received, offset + len);
            return PSI_ERR_PROTOCOL;
        }
        if (progress)
            psi_cli_progress_add(progress, (received - offset) / item_bytes);
        offset = (size_t)received;
    }
    return 0;
}
