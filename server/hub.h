/*
 * The hub's request pipeline, independent of the transport: a sealed request
 * frame in, a reply frame out. serve.c feeds it from nng contexts; tests can
 * feed it directly.
 *
 * Each request goes through, in order: open the seal; look the sender up in
 * the roster; verify its signature; check the timestamp window; refuse a
 * nonce seen before; answer a request id seen before with the stored reply;
 * check the sender's role; dispatch. A method that changes state writes the
 * change and its reply in one transaction, so an acknowledged write survives
 * a crash and a retry never acts twice. Every refusal leaves the state as it
 * was (only the nonce of an authenticated request is kept, so that the same
 * frame cannot be tried again).
 */
#ifndef PSI_HUB_HUB_H
#define PSI_HUB_HUB_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "envelope.h"
#include "identity.h"
#include "methods.h"
#include "store.h"

#define PSI_HUB_WINDOW_MS ((uint64_t)300 * 1000) /* accepted clock skew of a request */
#define PSI_HUB_DEFAULT_MAX_MESSAGE (8u << 20)   /* bytes */
#define PSI_HUB_MIN_MAX_MESSAGE (64u << 10)
#define PSI_HUB_MAX_MAX_MESSAGE (256u << 20)
#define PSI_HUB_MAX_CHUNK_ELEMENTS 16384u
#define PSI_HUB_STAGING_LIMIT ((uint64_t)256 << 20) /* bytes staged per sender */
#define PSI_HUB_DEFAULT_THRESHOLD 2u
#define PSI_HUB_MAX_THRESHOLD 1000u
#define PSI_HUB_REPLY_KEEP_MS (7ull * 24 * 3600 * 1000)  /* stored replies for retries */
#define PSI_HUB_UPLOAD_KEEP_MS (2ull * 24 * 3600 * 1000) /* abandoned uploads */
/* Refusal entries the audit log takes per claimed participant and window:
 * anyone who knows a roster id can have requests refused under it, and the
 * log is append-only (docs/log.md, "Refusals"). */
#define PSI_HUB_REFUSAL_BUDGET 60u
#define PSI_HUB_REFUSAL_WINDOW_MS ((uint64_t)60 * 1000)

/* The hub's key inside a hub directory; its store is where the registry
 * says (psi_store_in_dir: hub.db for SQLite). */
#define PSI_HUB_KEY_FILE "hub.key"
/* psi-hub serve's lock (cmdline/lockfile.h): exclusive unless the store
 * backend admits several front-ends. */
#define PSI_HUB_LOCK_FILE "hub.lock"

/* Meta keys of the store. */
#define PSI_META_NAME "name"
#define PSI_META_EPOCH_MODE "epoch_mode"
#define PSI_META_EPOCH_LABEL "epoch_label"
#define PSI_META_THRESHOLD "threshold"
#define PSI_META_MAX_MESSAGE "max_message_bytes"
/* + LABEL: the epoch was pruned (psi-hub prune), at this Unix time in ms; it
 * cannot be made current again. */
#define PSI_META_PRUNED_PREFIX "pruned_epoch:"

/* What serve.c needs to know about a hub; read-only while serving. */
struct psi_hub {
    struct psi_identity identity;
    char name[PSI_STORE_ID_MAX + 1];
    uint32_t max_message_bytes;
    uint32_t max_chunk_elements;
    uint32_t threshold;
    uint64_t staging_limit;
    uint32_t notify_port;            /* HubInfo.notify_port: set by serve, 0 none */
    const struct psi_store_ops *ops; /* the backend, chosen once by psi_hub_load */
    char store_path[4096];           /* its location */
};

/* What the request log says about one request. */
struct psi_hub_outcome {
    /* The sender the request names, once its seal opened ("-" before): as
     * it claimed itself until its signature verified (verified 0), then as
     * authenticated (verified 1). A refusal names whom it refused. */
    char participant[PSI_STORE_ID_MAX + 1];
    int verified;
    char method[PSI_STORE_METHOD_MAX + 1]; /* "-" until the seal is opened */
    int status;
};

/* Loads the hub of dir: its key and settings. err gets a reason. */
int psi_hub_load(struct psi_hub *hub, const char *dir, char *err, size_t errlen);
void psi_hub_unload(struct psi_hub *hub);
/* A new connection to the hub's store (one per nng context). */
int psi_hub_connect(const struct psi_hub *hub, struct psi_store **st, char *err, size_t errlen);

/* Handles one request frame; *reply (malloc'd) is always set on return 0.
 * Returns non-zero only if no reply could be built at all (out of memory). */
int psi_hub_handle(const struct psi_hub *hub, struct psi_store *st, const uint8_t *frame,
                   size_t frame_len, uint8_t **reply, size_t *reply_len,
                   struct psi_hub_outcome *outcome);

/* The current epoch label, as the store's settings say at this instant. */
int psi_hub_current_epoch(struct psi_txn *t, uint64_t now_ms, char *out, size_t cap);

uint64_t psi_hub_now_ms(void);
/* "DENIED", "REPLAY", ...: the error code's name for logs; "ok" for 0. */
const char *psi_hub_status_name(int status);

/* ---- the methods (methods.c, feeds.c), called by the pipeline inside a
 * transaction. Which methods there are, and what each takes, answers and
 * is allowed, is the catalogue's (proto/methods.h). */

struct psi_method;

struct psi_method_call {
    const struct psi_hub *hub;
    const struct psi_method *method; /* the one called: its name and messages */
    struct psi_txn *txn;
    const struct psi_store_participant *sender;
    const char *epoch; /* current epoch */
    uint64_t now_ms;
    const uint8_t *body;
    size_t body_len;
    /* out: the reply body (malloc'd) on success, a reason on refusal */
    uint8_t *reply_body;
    size_t reply_len;
    char error[PSI_ERROR_TEXT_MAX + 1];
};

/* A row of the dispatch table, made from the catalogue's entry. */
struct psi_method {
    const char *name;
    int (*handler)(struct psi_method_call *call);
    const ProtobufCMessageDescriptor *request; /* the body it parses */
    const ProtobufCMessageDescriptor *reply;   /* the body it answers with */
    int writes;        /* PSI_MF_WRITES: a write transaction, reply stored */
    int for_auditors;  /* PSI_MF_FOR_AUDITORS: auditors may call it */
    int gives_results; /* PSI_MF_GIVES_RESULTS: refused to contribute-only participants */
    int auditors_only; /* PSI_MF_AUDITORS_ONLY: refused to every role but auditors */
};

/* The handlers, one per catalogue entry: hub_method_info, ... */
#define PSI_HUB_HANDLER_DECL_(id, handler, name, request, reply, flags)                            \
    int hub_method_##handler(struct psi_method_call *call);
PSI_METHODS(PSI_HUB_HANDLER_DECL_)
#undef PSI_HUB_HANDLER_DECL_

/* The method of that name, or NULL. */
const struct psi_method *psi_hub_method(const char *name);

#endif
