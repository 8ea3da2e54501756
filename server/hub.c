/* The request pipeline: from a sealed frame to a reply frame (see hub.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "epoch.h"
#include "hub.h"
#include "oplog.h"
#include "log.h"
#include "psi/error.h"
#include "psi/ident.h"

_Static_assert(PSI_STORE_NONCE_BYTES == PSI_NONCE_BYTES, "nonce sizes agree");
_Static_assert(PSI_STORE_REQUEST_ID_BYTES == PSI_REQUEST_ID_BYTES, "request id sizes agree");

uint64_t psi_hub_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *psi_hub_status_name(int status)
{
    switch (status) {
    case PSI_OK: return "ok";
    case PSI_ERR_INVALID: return "INVALID";
    case PSI_ERR_ENCODING: return "ENCODING";
    case PSI_ERR_IDENTITY: return "IDENTITY";
    case PSI_ERR_VERIFY: return "VERIFY";
    case PSI_ERR_NOMEM: return "NOMEM";
    case PSI_ERR_IO: return "IO";
    case PSI_ERR_PARSE: return "PARSE";
    case PSI_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case PSI_ERR_TOO_LARGE: return "TOO_LARGE";
    case PSI_ERR_CRYPTO: return "CRYPTO";
    case PSI_ERR_STATE: return "STATE";
    case PSI_ERR_NOT_FOUND: return "NOT_FOUND";
    case PSI_ERR_DENIED: return "DENIED";
    case PSI_ERR_REPLAY: return "REPLAY";
    case PSI_ERR_STALE: return "STALE";
    case PSI_ERR_PROTOCOL: return "PROTOCOL";
    case PSI_ERR_STORE: return "STORE";
    case PSI_ERR_NETWORK: return "NETWORK";
    case PSI_ERR_TIMEOUT: return "TIMEOUT";
    case PSI_ERR_QUOTA: return "QUOTA";
    case PSI_ERR_EXISTS: return "EXISTS";
    case PSI_ERR_EPOCH: return "EPOCH";
    default: return "ERROR";
    }
}

/* ---------------------------------------------------------------- loading */

static int parse_u32(const char *text, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < lo || v > hi)
        return PSI_ERR_INVALID;
    *out = (uint32_t)v;
    return 0;
}

int psi_hub_load(struct psi_hub *hub, const char *dir, char *err, size_t errlen)
{
    memset(hub, 0, sizeof *hub);
    hub->staging_limit = PSI_HUB_STAGING_LIMIT;
    char key_path[4096];
    int n = snprintf(key_path, sizeof key_path, "%s/" PSI_HUB_KEY_FILE, dir);
    if (n < 0 || (size_t)n >= sizeof key_path) {
        snprintf(err, errlen, "hub directory path too long");
        return PSI_ERR_INVALID;
    }
    char why[256] = "";
    int rc = psi_identity_load(&hub->identity, key_path, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "cannot load the hub key %s: %s", key_path,
                 why[0] ? why : psi_strerror(rc));
        return rc;
    }
    /* The backend is chosen here, once, from what the directory holds;
     * every connection and request after this goes through hub->ops. */
    rc = psi_store_in_dir(dir, NULL, &hub->ops, hub->store_path, sizeof hub->store_path, err,
                          errlen);
    if (rc != 0) {
        psi_hub_unload(hub);
        return rc;
    }
    struct psi_store *st = NULL;
    rc = psi_hub_connect(hub, &st, err, errlen);
    if (rc != 0) {
        psi_hub_unload(hub);
        return rc;
    }
    struct psi_txn t;
    char threshold[32] = "", max_message[32] = "";
    rc = psi_txn_begin(&t, hub->ops, st, PSI_TXN_READ);
    if (rc == 0)
        rc = hub->ops->meta_get(&t, PSI_META_NAME, hub->name, sizeof hub->name);
    if (rc == 0)
        rc = hub->ops->meta_get(&t, PSI_META_THRESHOLD, threshold, sizeof threshold);
    if (rc == 0)
        rc = hub->ops->meta_get(&t, PSI_META_MAX_MESSAGE, max_message, sizeof max_message);
    psi_txn_rollback(&t);
    hub->ops->close(st);
    char shown[512];
    psi_store_location_for_people(hub->store_path, shown, sizeof shown);
    if (rc != 0) {
        snprintf(err, errlen, "%s lacks the hub settings: %s", shown, psi_strerror(rc));
        psi_hub_unload(hub);
        return rc;
    }
    if (parse_u32(threshold, 2, PSI_HUB_MAX_THRESHOLD, &hub->threshold) != 0 ||
        parse_u32(max_message, PSI_HUB_MIN_MAX_MESSAGE, PSI_HUB_MAX_MAX_MESSAGE,
                  &hub->max_message_bytes) != 0) {
        snprintf(err, errlen, "%s holds invalid hub settings", shown);
        psi_hub_unload(hub);
        return PSI_ERR_STORE;
    }
    /* A fetch reply of max_chunk_elements must fit in a message, with room
     * for the envelope around it. */
    uint32_t fit = (hub->max_message_bytes - 4096u) / PSI_STORE_ELEMENT_BYTES;
    hub->max_chunk_elements = fit < PSI_HUB_MAX_CHUNK_ELEMENTS ? fit : PSI_HUB_MAX_CHUNK_ELEMENTS;
    return 0;
}

void psi_hub_unload(struct psi_hub *hub)
{
    psi_identity_clear(&hub->identity);
}

int psi_hub_connect(const struct psi_hub *hub, struct psi_store **st, char *err, size_t errlen)
{
    return hub->ops->open(hub->store_path, st, err, errlen);
}

int psi_hub_current_epoch(struct psi_txn *t, uint64_t now_ms, char *out, size_t cap)
{
    char mode_text[16] = "";
    int rc = t->ops->meta_get(t, PSI_META_EPOCH_MODE, mode_text, sizeof mode_text);
    if (rc != 0)
        return rc;
    char label[PSI_EPOCH_LABEL_MAX + 1] = "";
    if (strcmp(mode_text, "manual") == 0) {
        rc = t->ops->meta_get(t, PSI_META_EPOCH_LABEL, label, sizeof label);
        if (rc != 0 || !psi_epoch_label_is_valid(label))
            return PSI_ERR_STORE;
    } else {
        enum psi_epoch_mode mode;
        char unused[PSI_EPOCH_LABEL_MAX + 1];
        if (psi_epoch_mode_parse(mode_text, &mode, unused) != 0)
            return PSI_ERR_STORE;
        rc = psi_epoch_label_at(mode, (int64_t)(now_ms / 1000u), label);
        if (rc != 0)
            return rc;
    }
    size_t n = strlen(label);
    if (n >= cap)
        return PSI_ERR_TOO_LARGE;
    memcpy(out, label, n + 1);
    return 0;
}

/* ---------------------------------------------------------------- replies */

struct reply_out {
    uint8_t *frame;
    size_t len;
};

static int plain_error(const struct psi_hub *hub, const struct psi_request *req, int status,
                       struct reply_out *out, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* An error before the sender is authenticated: signed by the hub, not sealed. */
static int plain_error(const struct psi_hub *hub, const struct psi_request *req, int status,
                       struct reply_out *out, const char *fmt, ...)
{
    char text[PSI_ERROR_TEXT_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return psi_reply_seal(&hub->identity, NULL, req ? req->request_id : NULL, status, text, NULL, 0,
                          &out->frame, &out->len);
}

static int sealed_reply(const struct psi_hub *hub, const struct psi_request *req,
                        const unsigned char sender_key[32], int status, const char *error,
                        const uint8_t *body, size_t body_len, struct reply_out *out)
{
    int rc = psi_reply_seal(&hub->identity, sender_key, req->request_id, status,
                            status != 0 ? error : NULL, status == 0 ? body : NULL,
                            status == 0 ? body_len : 0, &out->frame, &out->len);
    return rc;
}

/* ---------------------------------------------------------------- pipeline */

struct request_state {
    const struct psi_hub *hub;
    struct psi_store *st;
    const uint8_t *frame; /* as received: its digest goes into refusal entries */
    size_t frame_len;
    struct psi_request req;
    struct psi_store_participant sender;
    const struct psi_method *method;
    uint64_t now_ms;
    int status;
    char error[PSI_ERROR_TEXT_MAX + 1];
    uint8_t *body; /* reply body on success */
    size_t body_len;
};

static void refuse(struct request_state *rs, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void refuse(struct request_state *rs, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rs->error, sizeof rs->error, fmt, ap);
    va_end(ap);
    rs->status = status;
}

static void store_failed(struct request_state *rs, int rc)
{
    if (rc == PSI_ERR_STORE)
        psi_oplog_say(PSI_OPLOG_ERROR, "store: %s", rs->hub->ops->last_error(rs->st));
    refuse(rs, rc == PSI_ERR_NOMEM ? rc : PSI_ERR_STORE, "the hub's store failed; try again");
}

/* The refusals the audit log records: those that say something about a
 * participant's conduct or the hub's enforcement (bad signatures, replays,
 * stale requests, policy and role denials, quotas), not malformed or
 * misdirected requests. */
static int refusal_is_logged(int status)
{
    return status == PSI_ERR_VERIFY || status == PSI_ERR_DENIED || status == PSI_ERR_REPLAY ||
           status == PSI_ERR_STALE || status == PSI_ERR_QUOTA;
}

/* Appends the refusal rs->status of the request to the log in t and seals
 * the log, while the claimed sender's refusal budget lasts (beyond it the
 * refusal is answered and in the request log only). */
static int log_refusal(struct request_state *rs, struct psi_txn *t, int authenticated)
{
    int granted = 0;
    int rc = t->ops->refusal_budget_take(t, rs->req.sender, rs->now_ms, PSI_HUB_REFUSAL_WINDOW_MS,
                                         PSI_HUB_REFUSAL_BUDGET, &granted);
    if (rc != 0 || !granted)
        return rc;
    rc = psi_hub_log_refusal(t, rs->status, authenticated, rs->req.sender, rs->req.method,
                             rs->frame, rs->frame_len, rs->now_ms);
    if (rc == 0)
        rc = psi_hub_log_seal(t, &rs->hub->identity, NULL);
    return rc;
}

/* Ends the write transaction t of a refused request: the refusal's log entry
 * (if it is one the log records) commits with what t keeps (the nonce). The
 * requester hears the refusal whatever happens to the store here; a store
 * failure is the operator's to see. */
static void finish_refused(struct request_state *rs, struct psi_txn *t, int authenticated)
{
    int rc = refusal_is_logged(rs->status) ? log_refusal(rs, t, authenticated) : 0;
    if (rc == 0)
        rc = psi_txn_commit(t);
    else
        psi_txn_rollback(t);
    if (rc != 0)
        psi_oplog_say(PSI_OPLOG_ERROR, "store: cannot record a refusal: %s",
                      rc == PSI_ERR_STORE ? rs->hub->ops->last_error(rs->st) : psi_strerror(rc));
}

/* The same for a refusal found outside a write transaction (a read method's). */
static void log_refused_alone(struct request_state *rs, int authenticated)
{
    if (!refusal_is_logged(rs->status))
        return;
    struct psi_txn t;
    if (psi_txn_begin(&t, rs->hub->ops, rs->st, PSI_TXN_WRITE) != 0) {
        psi_oplog_say(PSI_OPLOG_ERROR, "store: cannot record a refusal: %s",
                      rs->hub->ops->last_error(rs->st));
        return;
    }
    finish_refused(rs, &t, authenticated);
}

static int run_method(struct request_state *rs, struct psi_txn *t)
{
    char epoch[PSI_EPOCH_LABEL_MAX + 1];
    int rc = psi_hub_current_epoch(t, rs->now_ms, epoch, sizeof epoch);
    if (rc != 0) {
        store_failed(rs, rc);
        return rs->status;
    }
    struct psi_method_call call = {
        .hub = rs->hub,
        .method = rs->method,
        .txn = t,
        .sender = &rs->sender,
        .epoch = epoch,
        .now_ms = rs->now_ms,
        .body = rs->req.body,
        .body_len = rs->req.body_len,
    };
    rc = rs->method->handler(&call);
    if (rc == 0) {
        rs->body = call.reply_body;
        rs->body_len = call.reply_len;
        rs->status = 0;
        return 0;
    }
    free(call.reply_body);
    if (rc == PSI_ERR_STORE || rc == PSI_ERR_NOMEM)
        store_failed(rs, rc);
    else
        refuse(rs, rc, "%s", call.error[0] ? call.error : psi_strerror(rc));
    return rs->status;
}

/* Steps 4 to 8, inside the write transaction t that also records the nonce.
 * Returns with rs->status set; t committed or rolled back. */
static void authenticated(struct request_state *rs, struct psi_txn *t)
{
    const struct psi_store_ops *ops = rs->hub->ops;
    const char *sender = rs->req.sender;

    uint64_t ts = rs->req.timestamp_ms;
    uint64_t skew = ts > rs->now_ms ? ts - rs->now_ms : rs->now_ms - ts;
    if (skew > PSI_HUB_WINDOW_MS) {
        refuse(rs, PSI_ERR_STALE,
               "request timestamp is %" PRIu64 " s off the hub clock (window %" PRIu64 " s)",
               skew / 1000u, PSI_HUB_WINDOW_MS / 1000u);
        finish_refused(rs, t, 1);
        return;
    }
    /* A nonce need only be remembered while its request is inside the
     * window; twice the window leaves room for the hub's clock to step. */
    uint64_t forget = rs->now_ms > 2 * PSI_HUB_WINDOW_MS ? rs->now_ms - 2 * PSI_HUB_WINDOW_MS : 0;
    int rc = ops->nonce_record(t, sender, rs->req.nonce, ts, forget);
    if (rc == PSI_ERR_REPLAY) {
        refuse(rs, PSI_ERR_REPLAY, "replayed request");
        finish_refused(rs, t, 1);
        return;
    }
    if (rc != 0)
        goto store_error;

    char stored_method[PSI_STORE_METHOD_MAX + 1];
    uint8_t *stored = NULL;
    size_t stored_len = 0;
    rc = ops->reply_get(t, sender, rs->req.request_id, stored_method, &stored, &stored_len);
    if (rc == 0) {
        /* A retry: the first answer again, nothing done twice. */
        if (strcmp(stored_method, rs->req.method) != 0) {
            free(stored);
            refuse(rs, PSI_ERR_PROTOCOL, "request id already used for method %s", stored_method);
        } else {
            rs->body = stored;
            rs->body_len = stored_len;
            rs->status = 0;
        }
        rc = psi_txn_commit(t);
        if (rc != 0) {
            free(rs->body);
            rs->body = NULL;
            store_failed(rs, rc);
        }
        return;
    }
    if (rc != PSI_ERR_NOT_FOUND)
        goto store_error;

    if (rs->method == NULL) {
        refuse(rs, PSI_ERR_PROTOCOL, "unknown method '%s'", rs->req.method);
    } else if (psi_role_parse(rs->sender.role) == PSI_ROLE_AUDITOR && !rs->method->for_auditors) {
        refuse(rs, PSI_ERR_DENIED, "auditors may not call %s", rs->method->name);
    } else if (psi_role_parse(rs->sender.role) != PSI_ROLE_AUDITOR && rs->method->auditors_only) {
        refuse(rs, PSI_ERR_DENIED, "only auditors may call %s", rs->method->name);
    } else if (psi_store_participant_contribute_only(&rs->sender) && rs->method->gives_results) {
        refuse(rs, PSI_ERR_DENIED, "contribute-only: participant '%s' receives no results", sender);
    }
    if (rs->status != 0) {
        finish_refused(rs, t, 1); /* keeps the nonce */
        return;
    }

    if (!rs->method->writes) {
        /* Reads run on a snapshot, beside other requests. */
        rc = psi_txn_commit(t);
        if (rc != 0)
            goto store_error_closed;
        struct psi_txn r;
        rc = psi_txn_begin(&r, ops, rs->st, PSI_TXN_READ);
        if (rc != 0)
            goto store_error_closed;
        run_method(rs, &r);
        psi_txn_rollback(&r);
        if (rs->status != 0)
            log_refused_alone(rs, 1);
        return;
    }

    rc = ops->forget_older(t, rs->now_ms - PSI_HUB_REPLY_KEEP_MS,
                           rs->now_ms - PSI_HUB_UPLOAD_KEEP_MS);
    if (rc == 0)
        rc = ops->mark(rs->st);
    if (rc != 0)
        goto store_error;
    if (run_method(rs, t) != 0) {
        if (rs->status == PSI_ERR_STORE || rs->status == PSI_ERR_NOMEM) {
            psi_txn_rollback(t);
            return;
        }
        /* A refusal: undo the method's changes (its log entries with them),
         * keep the nonce, record the refusal. */
        rc = ops->undo_to_mark(rs->st);
        if (rc == 0) {
            finish_refused(rs, t, 1);
        } else {
            psi_txn_rollback(t);
            psi_oplog_say(PSI_OPLOG_ERROR, "store: %s", ops->last_error(rs->st));
        }
        return;
    }
    rc = ops->reply_put(t, sender, rs->req.request_id, rs->req.method, rs->body, rs->body_len,
                        rs->now_ms);
    if (rc == 0)
        rc = psi_txn_commit(t);
    if (rc != 0) {
        free(rs->body);
        rs->body = NULL;
        rs->body_len = 0;
        goto store_error;
    }
    return;

store_error:
    psi_txn_rollback(t);
store_error_closed:
    store_failed(rs, rc);
}

int psi_hub_handle(const struct psi_hub *hub, struct psi_store *st, const uint8_t *frame,
                   size_t frame_len, uint8_t **reply, size_t *reply_len,
                   struct psi_hub_outcome *outcome)
{
    struct request_state rs;
    memset(&rs, 0, sizeof rs);
    rs.hub = hub;
    rs.st = st;
    rs.frame = frame;
    rs.frame_len = frame_len;
    rs.now_ms = psi_hub_now_ms();
    struct reply_out out = {NULL, 0};
    snprintf(outcome->participant, sizeof outcome->participant, "-");
    outcome->verified = 0;
    snprintf(outcome->method, sizeof outcome->method, "-");
    int rc;

    /* 1. The seal and the form. */
    rc = psi_request_open(&hub->identity, frame, frame_len, &rs.req);
    if (rc != 0) {
        outcome->status = rc;
        rc = plain_error(hub, NULL, rc, &out, "malformed request: %s", psi_strerror(rc));
        goto done;
    }
    snprintf(outcome->method, sizeof outcome->method, "%s", rs.req.method);
    snprintf(outcome->participant, sizeof outcome->participant, "%s", rs.req.sender);
    rs.method = psi_hub_method(rs.req.method);

    /* 2. The roster, and 3. the signature: in the write transaction that
     * will record the nonce, so nothing changes between check and use. */
    struct psi_txn t;
    rc = psi_txn_begin(&t, hub->ops, st, PSI_TXN_WRITE);
    if (rc != 0) {
        store_failed(&rs, rc);
        outcome->status = rs.status;
        rc = plain_error(hub, &rs.req, rs.status, &out, "%s", rs.error);
        goto done;
    }
    rc = hub->ops->participant_get(&t, rs.req.sender, &rs.sender);
    if (rc == 0 && rs.sender.removed) {
        /* Logged: signed by the removed participant's key, a denial of that
         * participant; not, a bad signature under its name. */
        int signed_ok = psi_request_verify(&rs.req, rs.sender.public_key) == 0;
        outcome->verified = signed_ok;
        rs.status = signed_ok ? PSI_ERR_DENIED : PSI_ERR_VERIFY;
        finish_refused(&rs, &t, signed_ok);
        outcome->status = rs.status;
        rc = signed_ok ? plain_error(hub, &rs.req, rs.status, &out, "participant '%s' was removed",
                                     rs.req.sender)
                       : plain_error(hub, &rs.req, rs.status, &out, "bad signature");
        goto done;
    }
    if (rc != 0) {
        psi_txn_rollback(&t);
        if (rc == PSI_ERR_NOT_FOUND) {
            /* Not logged: a name off the roster says nothing about anyone on
             * it, and anyone may send it. */
            outcome->status = PSI_ERR_DENIED;
            rc = plain_error(hub, &rs.req, PSI_ERR_DENIED, &out, "unknown participant '%s'",
                             rs.req.sender);
        } else {
            store_failed(&rs, rc);
            outcome->status = rs.status;
            rc = plain_error(hub, &rs.req, rs.status, &out, "%s", rs.error);
        }
        goto done;
    }
    if (psi_request_verify(&rs.req, rs.sender.public_key) != 0) {
        /* Logged under the name it claims, as not authenticated. */
        rs.status = PSI_ERR_VERIFY;
        finish_refused(&rs, &t, 0);
        outcome->status = PSI_ERR_VERIFY;
        rc = plain_error(hub, &rs.req, PSI_ERR_VERIFY, &out, "bad signature");
        goto done;
    }
    outcome->verified = 1;

    /* 4.-8. */
    authenticated(&rs, &t);
    outcome->status = rs.status;
    rc = sealed_reply(hub, &rs.req, rs.sender.public_key, rs.status, rs.error, rs.body, rs.body_len,
                      &out);

done:
    free(rs.body);
    psi_store_participant_clear(&rs.sender);
    psi_request_clear(&rs.req);
    if (rc != 0 || out.frame == NULL)
        return rc != 0 ? rc : PSI_ERR_NOMEM;
    *reply = out.frame;
    *reply_len = out.len;
    return 0;
}
