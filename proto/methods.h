/*
 * The catalogue of the hub's methods, defined once: for each method of
 * psi.proto its name on the wire, the message its request body is and the
 * message its reply body is, and who may call it and how the hub runs it.
 * It is part of the wire contract: the hub's dispatch table and handler
 * declarations (server/hub.h, server/methods.c), the names the client sends
 * (PSI_METHOD_NAME) and the fuzz target's list of methods (tests/fuzz/fuzz.h)
 * are all generated from PSI_METHODS below, so they cannot drift apart;
 * server/catalogue_test.c checks that the hub and the catalogue agree.
 *
 * To add a method, touch these:
 *   1. proto/psi.proto: its request and reply messages, with a comment
 *      `// method "x.y" -> Reply` saying what it does.
 *   2. PSI_METHODS below: one line (its place is its PSI_METHOD_ id and the
 *      fuzz target's choice byte, nothing stored or sent).
 *   3. The hub: the handler hub_method_<handler>, in server/methods.c (or
 *      server/feeds.c for protocol 2). Its declaration and its dispatch row
 *      come from this list; the build fails at link time until it exists.
 *   4. The client: send it as PSI_METHOD_NAME(ID) with the catalogue's
 *      request and reply messages.
 *   5. Tests beside the handler (server/hub_test.c, feeds_test.c or
 *      log_test.c) for what it promises; a seed body in
 *      tests/fuzz/gen_seeds.c so that the fuzzer starts past its parser.
 *      The catalogue test and the fuzz target need no change.
 *   6. docs/hub.md (and docs/log.md if it logs) for whoever runs or audits it.
 * A method's name, request, reply and flags are wire behaviour once
 * released: change them only with the protocol.
 */
#ifndef PSI_PROTO_METHODS_H
#define PSI_PROTO_METHODS_H

#include <stddef.h>

#include "psi.pb-c.h"

/*
 * What the hub does with a method besides running it (hub.c, in the order it
 * checks them). A method without flags reads, for every role but auditors.
 */
enum psi_method_flag {
    PSI_MF_NONE = 0,
    /* Changes state: runs in the request's write transaction, and its reply
     * is stored so that a retry of the request id gets it again instead of
     * acting twice. Methods without it run on a read snapshot. */
    PSI_MF_WRITES = 1 << 0,
    /* Auditors may call it; an auditor calling a method without it is
     * refused (DENIED). Other roles are not affected. */
    PSI_MF_FOR_AUDITORS = 1 << 1,
    /* It shows matches to the caller: refused (DENIED) to a participant that
     * is contribute-only by the operator's policy or its own. */
    PSI_MF_GIVES_RESULTS = 1 << 2,
    /* Refused (DENIED) to every role but auditors. */
    PSI_MF_AUDITORS_ONLY = 1 << 3,
};

/*
 * X(ID, handler, name, request, reply, flags) for every method:
 *   ID       the C name: PSI_METHOD_<ID>, PSI_METHOD_NAME(<ID>)
 *   handler  the hub's handler is hub_method_<handler>
 *   name     the method string of the request (envelope.h's rule: 1..32 of
 *            [a-z.])
 *   request  the descriptor of the request body's message
 *   reply    the descriptor of the reply body's message
 *   flags    PSI_MF_* above, or'ed
 * Log methods: anyone on the roster checks receipts and checkpoints; only
 * auditors read the entries themselves (who submitted what, when, how much).
 */
#define PSI_METHODS(X)                                                                             \
    X(INFO, info, "info", psi__empty__descriptor, psi__hub_info__descriptor, PSI_MF_FOR_AUDITORS)  \
    X(ROSTER, roster, "roster", psi__empty__descriptor, psi__roster__descriptor,                   \
      PSI_MF_FOR_AUDITORS)                                                                         \
    X(UPLOAD_CHUNK, upload_chunk, "upload.chunk", psi__upload_chunk__descriptor,                   \
      psi__upload_ack__descriptor, PSI_MF_WRITES)                                                  \
    X(SUBMIT_COMMIT, submit_commit, "submit.commit", psi__submit_commit__descriptor,               \
      psi__submit_receipt__descriptor, PSI_MF_WRITES)                                              \
    X(WORK_LIST, work_list, "work.list", psi__empty__descriptor, psi__work_list__descriptor,       \
      PSI_MF_NONE)                                                                                 \
    X(WORK_FETCH, work_fetch, "work.fetch", psi__fetch_request__descriptor,                        \
      psi__fetch_reply__descriptor, PSI_MF_NONE)                                                   \
    X(CROSSBLIND_COMMIT, crossblind_commit, "crossblind.commit",                                   \
      psi__cross_blind_commit__descriptor, psi__cross_blind_receipt__descriptor, PSI_MF_WRITES)    \
    X(POLICY_SET, policy_set, "policy.set", psi__policy_set__descriptor,                           \
      psi__policy_receipt__descriptor, PSI_MF_WRITES)                                              \
    X(RESULTS, results, "results", psi__results_request__descriptor, psi__results__descriptor,     \
      PSI_MF_GIVES_RESULTS)                                                                        \
    X(FEED_ANNOUNCE, feed_announce, "feed.announce", psi__feed_announce__descriptor,               \
      psi__feed_announce_receipt__descriptor, PSI_MF_WRITES)                                       \
    X(FEED_COMMIT, feed_commit, "feed.commit", psi__feed_commit__descriptor,                       \
      psi__feed_receipt__descriptor, PSI_MF_WRITES)                                                \
    X(FEED_GET, feed_get, "feed.get", psi__feed_get_request__descriptor,                           \
      psi__feed_chunk__descriptor, PSI_MF_NONE)                                                    \
    X(QUERY_SUBMIT, query_submit, "query.submit", psi__query_submit__descriptor,                   \
      psi__query_ticket__descriptor, PSI_MF_WRITES | PSI_MF_GIVES_RESULTS)                         \
    X(QUERY_WORK, query_work, "query.work", psi__empty__descriptor, psi__query_work__descriptor,   \
      PSI_MF_NONE)                                                                                 \
    X(QUERY_ANSWER, query_answer, "query.answer", psi__query_answer__descriptor,                   \
      psi__query_answer_ack__descriptor, PSI_MF_WRITES)                                            \
    X(QUERY_RESULT, query_result, "query.result", psi__query_result_request__descriptor,           \
      psi__query_result__descriptor, PSI_MF_GIVES_RESULTS)                                         \
    X(LOG_CHECKPOINT, log_checkpoint, "log.checkpoint", psi__empty__descriptor,                    \
      psi__log_checkpoint__descriptor, PSI_MF_FOR_AUDITORS)                                        \
    X(LOG_INCLUSION, log_inclusion, "log.inclusion", psi__log_inclusion_request__descriptor,       \
      psi__log_proof__descriptor, PSI_MF_FOR_AUDITORS)                                             \
    X(LOG_CONSISTENCY, log_consistency, "log.consistency",                                         \
      psi__log_consistency_request__descriptor, psi__log_proof__descriptor, PSI_MF_FOR_AUDITORS)   \
    X(LOG_ENTRIES, log_entries, "log.entries", psi__log_entries_request__descriptor,               \
      psi__log_entries__descriptor, PSI_MF_FOR_AUDITORS | PSI_MF_AUDITORS_ONLY)                    \
    X(STATUS, status, "status", psi__status_request__descriptor, psi__status__descriptor,          \
      PSI_MF_NONE)

/* PSI_METHOD_INFO, ...: a method's place in the catalogue. */
#define PSI_METHOD_ID_(id, handler, name, request, reply, flags) PSI_METHOD_##id,
enum psi_method_id { PSI_METHODS(PSI_METHOD_ID_) PSI_METHOD_COUNT };
#undef PSI_METHOD_ID_

/* One method as the catalogue says it. */
struct psi_method_entry {
    const char *name;
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    unsigned flags; /* PSI_MF_* */
};

#define PSI_METHOD_ENTRY_(id, handler, name_, request_, reply_, flags_)                            \
    [PSI_METHOD_##                                                                                 \
        id] = {.name = (name_), .request = &(request_), .reply = &(reply_), .flags = (flags_)},

/* The entry of method id, or NULL when id is not one. */
static inline const struct psi_method_entry *psi_method_entry(enum psi_method_id id)
{
    static const struct psi_method_entry entries[PSI_METHOD_COUNT] = {
        PSI_METHODS(PSI_METHOD_ENTRY_)};
    return (unsigned)id < PSI_METHOD_COUNT ? &entries[id] : NULL;
}
#undef PSI_METHOD_ENTRY_

/* The wire name of method id ("work.list"), or NULL when id is not one. */
static inline const char *psi_method_name(enum psi_method_id id)
{
    const struct psi_method_entry *e = psi_method_entry(id);
    return e != NULL ? e->name : NULL;
}

/* What the client sends: PSI_METHOD_NAME(WORK_LIST) is "work.list". */
#define PSI_METHOD_NAME(ID) psi_method_name(PSI_METHOD_##ID)

#endif
