/*
 * The participant's conversation with its hub: one method call at a time,
 * signed with the participant's identity, sealed to the hub key pinned at
 * `psi init`, and answered by a reply that must be signed by that same key.
 *
 * It promises that every reply a command acts on is authentic (signed by the
 * pinned hub key, answering this request) and well formed (it parses as the
 * method's reply message), and that every failure has one line for a person
 * saying which of three things went wrong: the hub did not answer, the hub
 * answered with a refusal, or something answered that is not the hub.
 */
#ifndef PSI_CLIENT_HUB_CLIENT_H
#define PSI_CLIENT_HUB_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "envelope.h"
#include "identity.h"
#include "cli.h"
#include "state.h"

/* How long a call waits for the hub before giving up (each attempt); the
 * environment variable PSI_HUB_TIMEOUT (seconds) changes it. */
#define PSI_HUB_CLIENT_TIMEOUT_S 30u
#define PSI_HUB_CLIENT_TIMEOUT_MAX_S 3600u
#define PSI_HUB_CLIENT_TIMEOUT_ENV "PSI_HUB_TIMEOUT"

struct psi_hub_client;

struct psi_hub_failure {
    int code;    /* a psi error code */
    int refused; /* 1: the hub answered, authentically, and refused (code is its status) */
    char text[768];
};

/* True if a refusal with this status is the method's own verdict on the
 * request (bad epoch, digest, signature, quota, shape...): the hub did not
 * act on it and will refuse it again. False for refusals of the hub's
 * pipeline (clock window, replay, authentication, its store), which come
 * before a retried request is answered from the stored reply: the request
 * may have been acted on already, and a later retry may pass. */
int psi_hub_refusal_is_final(int status);

/* Prepares calls to the hub of cfg on behalf of me (which must outlive the
 * client). No network traffic yet. */
int psi_hub_client_open(struct psi_hub_client **out, const struct psi_identity *me,
                        const struct psi_state_config *cfg, struct psi_hub_failure *f);
void psi_hub_client_close(struct psi_hub_client *c);
/* The size a request body may have, from the hub's "info" (0 until known). */
void psi_hub_client_set_max_message(struct psi_hub_client *c, uint32_t max_message_bytes);

/*
 * Calls method with request (NULL: an Empty message) and unpacks the reply as
 * reply_type into *reply (free with protobuf_c_message_free_unpacked(*reply,
 * NULL)). request_id NULL means a fresh random id; a caller that may retry a
 * logical request passes the same id every time. 0 on success, else a
 * negative code with f filled.
 */
int psi_hub_client_call(struct psi_hub_client *c, const char *method,
                        const unsigned char *request_id, const ProtobufCMessage *request,
                        const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply,
                        struct psi_hub_failure *f);

/*
 * Uploads bytes (total bytes of items of item_bytes each) under upload_id in
 * chunks of at most chunk_bytes (a multiple of item_bytes), with
 * "upload.chunk". The first chunk always goes (the hub takes bytes it already
 * holds as a no-op); its ack says how much of the upload the hub holds, and
 * the chunks below that are skipped: a resumed upload sends only the rest.
 * Every ack is checked for coherence. progress (may be NULL) counts items.
 */
int psi_hub_client_upload(struct psi_hub_client *c, const unsigned char upload_id[16],
                          const unsigned char *bytes, size_t total, size_t item_bytes,
                          size_t chunk_bytes, struct psi_cli_progress *progress,
                          struct psi_hub_failure *f);

#endif
