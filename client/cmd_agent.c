/* psi agent: cross-blind the sets the hub lists as this participant's work. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <sodium.h>

#include "cli.h"
#include "commands.h"
#include "digest.h"
#include "epoch_guard.h"
#include "agent_check.h"
#include "feed_agent.h"
#include "hub_client.h"
#include "lockfile.h"
#include "log_view.h"
#include "methods.h"
#include "party_policy.h"
#include "peers.h"
#include "psi.pb-c.h"
#include "psi/blind.h"
#include "psi/curve25519.h"
#include "psi/error.h"
#include "psi/ident.h"

enum {
    AGENT_STATE,
    AGENT_ONCE,
    AGENT_INTERVAL,
    AGENT_PEER_LIMIT,
    AGENT_FEED_LIMIT,
    AGENT_FEED_TOTAL_LIMIT,
    AGENT_NO_WAKE,
};

static const struct psi_cmdline_option agent_options[] = {
    [AGENT_STATE] = {PSI_CLI_STATE_OPTION},
    [AGENT_ONCE] = {.name = "once", .help = "do the work listed now (until none is left) and exit"},
    [AGENT_INTERVAL] = {.name = "interval",
                        .value_name = "SECONDS",
                        .help = "without --once: poll every SECONDS (default 10); the\n"
                                "wait doubles while there is nothing to do, up to 16\n"
                                "times that, and drops back when work comes; a\n"
                                "message on the hub's wake-up socket ends a wait early"},
    [AGENT_PEER_LIMIT] = {.name = "peer-limit",
                          .value_name = "N",
                          .help = "cross-blind at most N elements of each peer's sets per\n"
                                  "epoch, counted in DIR/state.db (default 250000): this\n"
                                  "bounds how many guesses anyone can have tested against\n"
                                  "this participant's set in an epoch"},
    [AGENT_FEED_LIMIT] = {.name = "feed-limit",
                          .value_name = "N",
                          .help = "a vendor answers at most N feed queries per agency and\n"
                                  "epoch (counted on the agency that signed them, in\n"
                                  "DIR/feed-agent.db); later batches are left unanswered\n"
                                  "and reported (default: no limit of its own; the hub's\n"
                                  "quota always holds)"},
    [AGENT_FEED_TOTAL_LIMIT] = {.name = "feed-total-limit",
                                .value_name = "N",
                                .help = "a vendor answers at most N feed queries per epoch for\n"
                                        "all agencies together (default 1000000)"},
    [AGENT_NO_WAKE] = {.name = "no-wake",
                       .help = "do not subscribe to the hub's wake-up socket: poll only"},
};

static const struct psi_cmdline_command agent_command = {
    .name = "agent",
    .about = "Does the work the protocol asks of this participant: for every set the hub\n"
             "lists, it re-blinds the set with this participant's key of the epoch and\n"
             "returns only 16-byte tags, signed. It never takes the hub's word for whom\n"
             "it works: a set is cross-blinded only if\n"
             "  - this participant's own policy ('psi policy') shares with its owner;\n"
             "  - the owner is a pinned peer: its admission (id, role, key) is an entry of\n"
             "    the hub's log, proven included in a checkpoint this state verified\n"
             "    ('psi peers' lists them);\n"
             "  - the owner signed it for this hub with that key, and the blinded set\n"
             "    matches the signed digest;\n"
             "  - it fits this agent's budget for the owner in the epoch (--peer-limit).\n"
             "A set that fails a check is refused whole and reported in one line, and no\n"
             "work is done on it.\n"
             "\n"
             "A vendor's agent also answers the feed queries the hub relays (protocol 2):\n"
             "every blinded element evaluated with the vendor's key of the epoch, and one\n"
             "batched DLEQ proof per batch against the key it announced. It evaluates a\n"
             "batch only if a known agency signed it for this vendor, for the latest epoch\n"
             "'psi feed publish' announced (the one the hub names now), and it was never\n"
             "evaluated before; any other batch is refused, reported once and recorded.\n",
    PSI_CMDLINE_OPTIONS(agent_options),
    .epilogue = "Without --once it runs until SIGINT or SIGTERM, then stops cleanly. Killed\n"
                "at any point, it can be run again: it continues where it was and never\n"
                "returns a batch twice.\n"
                "\n"
                "One agent per state directory: a second one exits 1 naming the pid that\n"
                "holds DIR/agent.lock. Each round holds DIR/state.lock, which the commands\n"
                "that change the state hold too; a round waits for them at most\n"
                "PSI_STATE_LOCK_WAIT seconds (default 60), then tries again next time.\n"
                "\n"
                "PSI_HUB_TIMEOUT=SECONDS in the environment bounds each wait for the hub\n"
                "(default 30).\n",
};

#define DEFAULT_INTERVAL_S 10u
#define DEFAULT_PEER_LIMIT 250000u
#define BACKOFF_FACTOR_MAX 16u
#define MAX_INTERVAL_S 86400u
/* Room for the envelope around a chunk of tags. */
#define ENVELOPE_ALLOWANCE 2048u

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* What one round of the agent did. */
struct round_tally {
    size_t done;
    size_t refused;
    uint64_t elements;
};

enum task_outcome {
    TASK_DONE,
    TASK_REFUSED, /* a check failed: reported, recorded, not done */
    TASK_FAILED,  /* the hub did not answer, or a local failure: reported */
    TASK_STOPPED, /* a stop was requested */
};

struct agent {
    struct psi_cli_session *session;
    struct psi_hub_client *hub;
    struct psi_feed_agent *feeds; /* a vendor's answers to feed queries */
    struct psi_feed_agent_tally feed_tally;
    /* What the current round fetched: the roster (agent_agency_key reads it)
     * and the epoch the hub's info names. */
    const Psi__Roster *roster;
    char hub_epoch[PSI_STATE_EPOCH_MAX + 1];
    uint32_t notify_port;   /* HubInfo.notify_port of the last info; 0 none */
    uint32_t fetch_limit;   /* elements a fetch may ask for */
    size_t tag_chunk_bytes; /* bytes of tags an upload chunk may carry */
    char key_epoch[PSI_STATE_EPOCH_MAX + 1];
    unsigned char key[PSI_SCALAR_BYTES];
    int have_key;
    /* Submissions this process has settled (done or refused): if the hub
     * lists one again, it is not worked on or reported again, and a --once
     * run cannot loop on it. */
    uint64_t *settled;
    size_t n_settled, cap_settled;
    uint64_t peer_limit;               /* elements per peer and epoch */
    struct psi_state_policy policy;    /* this party's own, read every round */
    char reported[64][PSI_ID_MAX + 1]; /* peers whose pinning failure was reported */
    size_t n_reported;
    int policy_send_failed; /* reported once; not retried by this process */
};

/* Reports a roster member that cannot be pinned, once per process. */
static void report_unpinned(void *ctx, const char *id, const char *reason)
{
    struct agent *a = ctx;
    for (size_t i = 0; i < a->n_reported; i++)
        if (strcmp(a->reported[i], id) == 0)
            return;
    if (a->n_reported < sizeof a->reported / sizeof a->reported[0])
        snprintf(a->reported[a->n_reported++], sizeof a->reported[0], "%s", id);
    psi_cmdline_note("agent", "peer %s: %s", id, reason);
}

static int already_settled(const struct agent *a, uint64_t id)
{
    for (size_t i = 0; i < a->n_settled; i++)
        if (a->settled[i] == id)
            return 1;
    return 0;
}

/* 0, or -1 when out of memory (the caller must then not go round again). */
static int remember_settled(struct agent *a, uint64_t id)
{
    if (a->n_settled == a->cap_settled) {
        size_t ncap = a->cap_settled ? a->cap_settled * 2 : 16;
        uint64_t *grown = realloc(a->settled, ncap * sizeof *grown);
        if (!grown)
            return -1;
        a->settled = grown;
        a->cap_settled = ncap;
    }
    a->settled[a->n_settled++] = id;
    return 0;
}

/* Refuses a task: reported on stderr, recorded, and remembered. */
static enum task_outcome refuse(struct agent *a, const struct psi_state_work *w, const char *fmt,
                                ...) __attribute__((format(printf, 3, 4)));

static enum task_outcome refuse(struct agent *a, const struct psi_state_work *w, const char *fmt,
                                ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    psi_cmdline_note("agent", "refused submission %" PRIu64 " of %s: %s", w->submission_id,
                     w->owner[0] ? w->owner : "(no owner)", reason);
    if (psi_state_work_refused(a->session->state, w, reason))
        psi_cmdline_note("agent", "cannot record the refusal in %s: %s", a->session->dir,
                         psi_state_error(a->session->state));
    return TASK_REFUSED;
}

static enum task_outcome fail_task(struct agent *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum task_outcome fail_task(struct agent *a, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    (void)a;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    psi_cmdline_note("agent", "%s", text);
    return TASK_FAILED;
}

/* Fetches all elements of the task and checks them against its signed digest. */
static enum task_outcome fetch_elements(struct agent *a, const Psi__Submission *t,
                                        struct psi_state_work *w, unsigned char *elements)
{
    struct psi_cli_progress progress;
    struct psi_hub_failure f;
    uint64_t offset = 0;
    psi_cli_progress_begin(&progress, "agent", "fetching", t->count);
    while (offset < t->count) {
        if (stop_requested) {
            psi_cli_progress_end(&progress);
            return TASK_STOPPED;
        }
        Psi__FetchRequest req = PSI__FETCH_REQUEST__INIT;
        Psi__FetchReply *rep = NULL;
        uint64_t want = t->count - offset < a->fetch_limit ? t->count - offset : a->fetch_limit;
        req.submission_id = t->submission_id;
        req.offset = offset;
        req.limit = (uint32_t)want;
        if (psi_hub_client_call(a->hub, PSI_METHOD_NAME(WORK_FETCH), NULL, &req.base,
                                &psi__fetch_reply__descriptor, (ProtobufCMessage **)&rep, &f)) {
            psi_cli_progress_end(&progress);
            /* A fetch acts on nothing: any refusal just ends this task. */
            if (f.refused)
                return refuse(a, w, "the hub refused a fetch: %s", f.text);
            return fail_task(a, "fetching submission %" PRIu64 ": %s", t->submission_id, f.text);
        }
        size_t len = rep->elements.len;
        int ok = rep->submission_id == t->submission_id && rep->offset == offset && len > 0 &&
                 len % PSI_ELEMENT_BYTES == 0 && len / PSI_ELEMENT_BYTES <= want;
        if (ok)
            memcpy(elements + offset * PSI_ELEMENT_BYTES, rep->elements.data, len);
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        if (!ok) {
            psi_cli_progress_end(&progress);
            return refuse(a, w, "the hub answered a fetch at element %" PRIu64 " incoherently",
                          offset);
        }
        offset += len / PSI_ELEMENT_BYTES;
        psi_cli_progress_add(&progress, len / PSI_ELEMENT_BYTES);
    }
    psi_cli_progress_end(&progress);

    unsigned char sum[PSI_DIGEST_BYTES];
    struct psi_submission_digest d;
    psi_submission_digest_begin(&d, t->epoch, t->owner, t->count);
    psi_submission_digest_add(&d, elements, (size_t)t->count * PSI_ELEMENT_BYTES);
    psi_submission_digest_end(&d, sum);
    if (sodium_memcmp(sum, t->digest.data, PSI_DIGEST_BYTES) != 0)
        return refuse(a, w, "the elements the hub sent do not match %s's signed digest", w->owner);
    return TASK_DONE;
}

static int epoch_key(struct agent *a, const char *epoch)
{
    if (a->have_key && strcmp(a->key_epoch, epoch) == 0)
        return 0;
    sodium_memzero(a->key, sizeof a->key);
    a->have_key = 0;
    /* psi_cli_epoch_key prints its own line on failure. */
    if (psi_cli_epoch_key(a->session, epoch, a->key))
        return PSI_CMDLINE_EXIT_FAILURE;
    snprintf(a->key_epoch, sizeof a->key_epoch, "%s", epoch);
    a->have_key = 1;
    return 0;
}

/* Computes the tags of every element under this participant's key. */
static enum task_outcome compute_tags(struct agent *a, const Psi__Submission *t,
                                      struct psi_state_work *w, const unsigned char *elements,
                                      unsigned char *tags)
{
    unsigned char context[PSI_TAG_CONTEXT_MAX];
    size_t context_len =
        psi_tag_context(context, sizeof context, t->epoch, t->owner, a->session->config.id);
    if (context_len == 0)
        return fail_task(a, "cannot build the tag context of submission %" PRIu64,
                         t->submission_id);
    if (epoch_key(a, t->epoch))
        return TASK_FAILED;
    /* Every element is checked before the key touches any (agent_check.h). */
    char why[256];
    size_t first_bad = 0;
    if (psi_agent_check_elements(elements, (size_t)t->count, &first_bad, why, sizeof why))
        return refuse(a, w, "%s", why);
    struct psi_cli_progress progress;
    const size_t slice = 4096;
    enum task_outcome outcome = TASK_DONE;
    psi_cli_progress_begin(&progress, "agent", "tagging", t->count);
    for (size_t begin = 0; begin < t->count; begin += slice) {
        if (stop_requested) {
            outcome = TASK_STOPPED;
            break;
        }
        size_t n = t->count - begin < slice ? (size_t)t->count - begin : slice;
        size_t bad = 0;
        int rc = psi_tag_batch(a->key, n, elements + begin * PSI_ELEMENT_BYTES, context,
                               context_len, tags + begin * PSI_TAG_BYTES, &bad, 0);
        if (rc == PSI_ERR_ENCODING || rc == PSI_ERR_IDENTITY) {
            outcome = refuse(a, w, "element %zu is not a valid group element (%s)", begin + bad,
                             psi_strerror(rc));
            break;
        }
        if (rc) {
            outcome = fail_task(a, "cannot tag submission %" PRIu64 ": %s", t->submission_id,
                                psi_strerror(rc));
            break;
        }
        psi_cli_progress_add(&progress, n);
    }
    psi_cli_progress_end(&progress);
    return outcome;
}

/* Uploads the tags and commits the batch. The upload id and the commit's
 * request id are functions of the task, so a re-run continues the same
 * upload and repeats the same commit, which the hub answers once. */
static enum task_outcome return_tags(struct agent *a, const Psi__Submission *t,
                                     struct psi_state_work *w, const unsigned char *tags)
{
    struct psi_cli_session *s = a->session;
    unsigned char upload_id[16], request_id[16], tag_sum[PSI_DIGEST_BYTES];
    unsigned char sig[PSI_SIGNATURE_BYTES];
    struct psi_tag_digest td;
    struct psi_hub_failure f;
    size_t total = (size_t)t->count * PSI_TAG_BYTES;

    psi_crossblind_upload_id(upload_id, s->config.hub_key, s->config.id, t->submission_id,
                             t->digest.data);
    psi_commit_request_id(request_id, upload_id);
    if (psi_state_work_begin(s->state, w, upload_id))
        return fail_task(a, "cannot record work in %s: %s", s->dir, psi_state_error(s->state));
    psi_tag_digest_begin(&td);
    psi_tag_digest_add(&td, tags, total);
    psi_tag_digest_end(&td, tag_sum);
    if (psi_crossblind_sign(sig, s->identity.secret_key, s->config.hub_key, t->digest.data,
                            t->count, tag_sum) != 0)
        return fail_task(a, "cannot sign the tags of submission %" PRIu64, t->submission_id);

    struct psi_cli_progress progress;
    psi_cli_progress_begin(&progress, "agent", "uploading tags", t->count);
    int rc = psi_hub_client_upload(a->hub, upload_id, tags, total, PSI_TAG_BYTES,
                                   a->tag_chunk_bytes, &progress, &f);
    psi_cli_progress_end(&progress);
    if (rc && f.refused && psi_hub_refusal_is_final(f.code))
        return refuse(a, w, "the hub refused the tags: %s", f.text);
    if (rc)
        return fail_task(a, "uploading tags of submission %" PRIu64 ": %s", t->submission_id,
                         f.text);

    Psi__CrossBlindCommit commit = PSI__CROSS_BLIND_COMMIT__INIT;
    Psi__CrossBlindReceipt *receipt = NULL;
    commit.upload_id.data = upload_id;
    commit.upload_id.len = sizeof upload_id;
    commit.submission_id = t->submission_id;
    commit.count = t->count;
    commit.tag_digest.data = tag_sum;
    commit.tag_digest.len = sizeof tag_sum;
    commit.signature.data = sig;
    commit.signature.len = sizeof sig;
    commit.mutual_suite = psi_client_mutual_suite();
    rc = psi_hub_client_call(a->hub, PSI_METHOD_NAME(CROSSBLIND_COMMIT), request_id, &commit.base,
                             &psi__cross_blind_receipt__descriptor, (ProtobufCMessage **)&receipt,
                             &f);
    if (rc && f.refused && psi_hub_refusal_is_final(f.code))
        return refuse(a, w, "the hub refused the cross-blind batch: %s", f.text);
    if (rc)
        return fail_task(a, "committing tags of submission %" PRIu64 ": %s", t->submission_id,
                         f.text);
    int coherent = receipt->submission_id == t->submission_id;
    if (coherent && psi_state_work_done(s->state, t->submission_id, 0, receipt->receipt))
        psi_cmdline_note("agent", "cannot record finished work in %s: %s", s->dir,
                         psi_state_error(s->state));
    char why[PSI_LOG_WHY_MAX];
    const struct psi_log_expected sent = {.kind = PSI_LOGENTRY_CROSSBLIND,
                                          .submission_id = t->submission_id,
                                          .count = t->count,
                                          .digest = tag_sum,
                                          .signature = sig};
    if (coherent && psi_log_keep_receipt(s, a->hub, &sent, receipt->receipt, why, sizeof why))
        psi_cmdline_note("agent", "WARNING: the hub's log receipt is not kept: %s", why);
    protobuf_c_message_free_unpacked(&receipt->base, NULL);
    if (!coherent)
        return fail_task(a, "the hub's receipt for submission %" PRIu64 " is incoherent",
                         t->submission_id);
    return TASK_DONE;
}

/* Cross-blinds one checked task: fetches its elements, computes the tags
 * and returns them. */
static enum task_outcome cross_blind(struct agent *a, const Psi__Submission *t,
                                     struct psi_state_work *w)
{
    unsigned char *elements = malloc((size_t)t->count * PSI_ELEMENT_BYTES);
    unsigned char *tags = malloc((size_t)t->count * PSI_TAG_BYTES);
    enum task_outcome outcome;
    if (!elements || !tags)
        outcome = fail_task(a, "out of memory for the %" PRIu64 " elements of submission %" PRIu64,
                            t->count, t->submission_id);
    else
        outcome = fetch_elements(a, t, w, elements);
    if (outcome == TASK_DONE)
        outcome = compute_tags(a, t, w, elements, tags);
    if (outcome == TASK_DONE && stop_requested)
        outcome = TASK_STOPPED;
    if (outcome == TASK_DONE)
        outcome = return_tags(a, t, w, tags);
    free(elements);
    free(tags);
    return outcome;
}

static enum task_outcome do_task(struct agent *a, const Psi__Roster *roster, const char *list_epoch,
                                 const Psi__Submission *t, struct round_tally *tally)
{
    struct psi_state_work w;
    memset(&w, 0, sizeof w);
    w.submission_id = t->submission_id;
    w.count = t->count;
    /* Strings from the wire are checked before they are kept or printed. */
    if (psi_id_is_valid(t->owner))
        snprintf(w.owner, sizeof w.owner, "%s", t->owner);
    if (psi_epoch_label_is_valid(t->epoch))
        snprintf(w.epoch, sizeof w.epoch, "%s", t->epoch);
    char reason[512];
    struct psi_agent_self self = {a->session->config.id, a->session->identity.public_key,
                                  a->session->config.hub_key, &a->policy, a->peer_limit};
    struct psi_state_peer pinned;
    struct psi_agent_owner owner = {NULL, 0};
    int rc = 0;
    if (w.owner[0]) {
        rc = psi_state_peer_get(a->session->state, w.owner, &pinned);
        if (rc == 0)
            owner.pinned = &pinned;
        else if (rc != PSI_ERR_NOT_FOUND)
            return fail_task(a, "cannot read the pinned peers: %s",
                             psi_state_error(a->session->state));
        if (w.epoch[0] && t->submission_id <= (uint64_t)INT64_MAX &&
            psi_state_work_elements(a->session->state, w.owner, w.epoch, t->submission_id,
                                    &owner.used) != 0)
            return fail_task(a, "cannot read the work done for %s: %s", w.owner,
                             psi_state_error(a->session->state));
    }
    rc = psi_agent_check_task(&self, roster, &owner, list_epoch, t, reason, sizeof reason);
    int recordable = w.owner[0] && w.epoch[0] && t->submission_id <= (uint64_t)INT64_MAX &&
                     t->count <= (uint64_t)INT64_MAX;
    if (rc == 0 && (!recordable || t->count > SIZE_MAX / PSI_ELEMENT_BYTES)) {
        rc = PSI_ERR_PROTOCOL;
        snprintf(reason, sizeof reason, "the task's numbers are out of range");
    }
    enum task_outcome outcome;
    if (rc && !recordable) {
        /* Too malformed to record: reported and remembered only. */
        psi_cmdline_note("agent", "refused submission %" PRIu64 ": %s", t->submission_id, reason);
        outcome = TASK_REFUSED;
    } else if (rc) {
        outcome = refuse(a, &w, "%s", reason);
    } else {
        outcome = cross_blind(a, t, &w);
    }
    if (outcome == TASK_DONE) {
        tally->done++;
        tally->elements += t->count;
        /* The suite and the X25519 code this CPU runs (psi/curve25519.h),
         * so an operator can see which one did the work. */
        printf("psi agent: cross-blinded submission %" PRIu64 " of %s (%" PRIu64
               " elements; %s by %s)\n",
               t->submission_id, w.owner, t->count, psi_mutual_suite_name(psi_mutual_suite()),
               psi_mutual_suite() == PSI_MUTUAL_SUITE_X25519 ? psi_x25519_implementation()
                                                             : "libsodium");
        fflush(stdout);
    } else if (outcome == TASK_REFUSED) {
        tally->refused++;
    }
    if ((outcome == TASK_DONE || outcome == TASK_REFUSED) &&
        remember_settled(a, t->submission_id) != 0)
        outcome = fail_task(a, "out of memory");
    return outcome;
}

/* Sets the limits from the hub's "info". */
static int read_limits(struct agent *a)
{
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    if (psi_hub_client_call(a->hub, PSI_METHOD_NAME(INFO), NULL, NULL, &psi__hub_info__descriptor,
                            (ProtobufCMessage **)&info, &f)) {
        psi_cmdline_note("agent", "%s", f.text);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    int ok = info->max_chunk_elements > 0 && info->max_message_bytes > 2 * ENVELOPE_ALLOWANCE;
    if (ok) {
        uint32_t by_size = (info->max_message_bytes - ENVELOPE_ALLOWANCE) / PSI_ELEMENT_BYTES;
        a->fetch_limit = info->max_chunk_elements < by_size ? info->max_chunk_elements : by_size;
        /* tags are half the size of elements: a chunk of them fits where a
         * fetch of elements does */
        a->tag_chunk_bytes = (size_t)a->fetch_limit * PSI_TAG_BYTES;
        psi_hub_client_set_max_message(a->hub, info->max_message_bytes);
    }
    /* An invalid label matches no announced epoch: no batch is answered. */
    snprintf(a->hub_epoch, sizeof a->hub_epoch, "%s",
             info->epoch && psi_epoch_label_is_valid(info->epoch) ? info->epoch : "");
    a->notify_port = info->notify_port <= 65535 ? info->notify_port : 0;
    char why[256];
    int suite_rc = psi_agent_check_suite(info->mutual_suite, why, sizeof why);
    protobuf_c_message_free_unpacked(&info->base, NULL);
    if (!ok) {
        psi_cmdline_note("agent", "the hub's limits leave no room for work");
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    if (suite_rc) {
        psi_cmdline_note("agent", "%s", why);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    return 0;
}

/* One round: roster, work list, every task not settled before. Returns 0 if
 * the round ran (*new_tasks says whether it found any), 1 on a failure that
 * ends the round (reported), or -1 when a stop was requested. */
static int run_round(struct agent *a, struct round_tally *tally, int *new_tasks)
{
    struct psi_hub_failure f;
    Psi__Roster *roster = NULL;
    Psi__WorkList *work = NULL;
    int status = 0;
    *new_tasks = 0;
    if (read_limits(a))
        return 1;
    if (psi_hub_client_call(a->hub, PSI_METHOD_NAME(ROSTER), NULL, NULL, &psi__roster__descriptor,
                            (ProtobufCMessage **)&roster, &f) ||
        psi_hub_client_call(a->hub, PSI_METHOD_NAME(WORK_LIST), NULL, NULL,
                            &psi__work_list__descriptor, (ProtobufCMessage **)&work, &f)) {
        psi_cmdline_note("agent", "%s", f.text);
        status = 1;
        goto out;
    }
    if (!psi_epoch_label_is_valid(work->epoch)) {
        psi_cmdline_note("agent", "the hub's work list names an invalid epoch");
        status = 1;
        goto out;
    }
    char why[PSI_LOG_WHY_MAX];
    /* Nothing is cross-blinded under an epoch the clock or the party does
     * not vouch for, nor under one left behind (epoch_guard.h). */
    if (work->n_tasks > 0 &&
        psi_epoch_guard_admit_hub(a->session, a->hub, work->epoch, why, sizeof why)) {
        psi_cmdline_note("agent", "refused this round's work: %s", why);
        status = 1;
        goto out;
    }
    /* This party's own rules, read afresh: 'psi policy' may have changed
     * them while the agent runs. */
    psi_state_policy_clear(&a->policy);
    int prc = psi_state_policy_get(a->session->state, &a->policy);
    if (prc) {
        if (prc == PSI_ERR_NOT_FOUND)
            psi_cmdline_note(
                "agent",
                "%s has no sharing policy of its own: set one with 'psi policy --state "
                "%s --share-with all|ID,...'",
                a->session->dir, a->session->dir);
        else
            psi_cmdline_note("agent", "cannot read the policy in %s: %s", a->session->dir,
                             psi_state_error(a->session->state));
        status = 1;
        goto out;
    }
    if (!a->policy.sent_ms && !a->policy_send_failed) {
        /* 'psi init' or 'psi policy --local' left the hub untold. */
        if (psi_party_policy_send(a->session, a->hub, &a->policy, why, sizeof why)) {
            a->policy_send_failed = 1;
            psi_cmdline_note("agent",
                             "the hub did not take this participant's policy (it is enforced here "
                             "all the same): %s",
                             why);
        } else {
            psi_cmdline_note("agent", "this participant's policy was sent to the hub");
        }
    }
    struct psi_peers_tally pins;
    if (psi_peers_update(a->session, a->hub, roster, report_unpinned, a, &pins, why, sizeof why)) {
        psi_cmdline_note("agent", "cannot verify peers' admissions in the hub's log: %s", why);
        status = 1;
        goto out;
    }
    if (pins.pinned)
        psi_cmdline_note("agent",
                         "%zu new peer%s pinned from the hub's log ('psi peers' lists them)",
                         pins.pinned, pins.pinned == 1 ? "" : "s");
    for (size_t i = 0; i < work->n_tasks; i++) {
        const Psi__Submission *t = work->tasks[i];
        if (already_settled(a, t->submission_id))
            continue;
        *new_tasks = 1;
        enum task_outcome outcome = do_task(a, roster, work->epoch, t, tally);
        if (outcome == TASK_STOPPED) {
            status = -1;
            break;
        }
        if (outcome == TASK_FAILED) {
            status = 1;
            break;
        }
        if (stop_requested) {
            status = -1;
            break;
        }
    }
    if (status == 0 && !stop_requested) {
        int answered = 0;
        a->roster = roster;
        if (psi_feed_agent_round(a->feeds, a->hub, roster, a->hub_epoch, &a->feed_tally, &answered))
            status = 1;
        a->roster = NULL;
        if (answered)
            *new_tasks = 1;
    }
out:
    if (roster)
        protobuf_c_message_free_unpacked(&roster->base, NULL);
    if (work)
        protobuf_c_message_free_unpacked(&work->base, NULL);
    return status;
}

/* The key of a feed query's claimed agency (psi_feed_agency_key_fn): an
 * agency this party pinned through the log (client/peers.c), which the
 * roster of this round still shows, not removed, with that key. */
static int agent_agency_key(void *ctx, const char *agency, unsigned char key[32])
{
    const struct agent *a = ctx;
    struct psi_state_peer peer;
    /* The key this party pinned through the log; the hub's roster can only
     * take the agency away (removed, or shown with another key). */
    if (psi_state_peer_get(a->session->state, agency, &peer) != 0 ||
        psi_role_parse(peer.role) != PSI_ROLE_AGENCY)
        return PSI_ERR_NOT_FOUND;
    for (size_t i = 0; a->roster && i < a->roster->n_participants; i++) {
        const Psi__Participant *p = a->roster->participants[i];
        if (p->id && strcmp(p->id, agency) == 0 && !p->removed && p->public_key.len == 32 &&
            sodium_memcmp(p->public_key.data, peer.public_key, 32) == 0) {
            memcpy(key, peer.public_key, 32);
            return 0;
        }
    }
    return PSI_ERR_NOT_FOUND;
}

/* Sleeps up to seconds, waking early for a stop request. */
static void nap(unsigned seconds)
{
    struct timespec left = {(time_t)seconds, 0};
    while (!stop_requested && (left.tv_sec > 0 || left.tv_nsec > 0)) {
        struct timespec step = {0, 200000000L}; /* re-check the flag 5 times a second */
        if (left.tv_sec == 0 && left.tv_nsec < step.tv_nsec)
            step = left;
        if (nanosleep(&step, NULL) != 0 && errno != EINTR)
            break;
        if (left.tv_nsec >= step.tv_nsec) {
            left.tv_nsec -= step.tv_nsec;
        } else {
            left.tv_sec--;
            left.tv_nsec += 1000000000L - step.tv_nsec;
        }
    }
}

/* The hub's wake-up socket (docs/hub.md, "Waking agents"): a subscription
 * on the host of the hub's address, at the port the hub's info names. A
 * message there (the log's size: something was written) ends a nap early.
 * The hub's word decides nothing: a message only makes the agent look, with
 * every check, sooner; lost or forged messages only cost or save a poll.
 * A hub that sends them without end gets at most one woken round a
 * WAKE_MIN_GAP_S: the agent budgets its own work. */
#define WAKE_MIN_GAP_S 1.0

struct wake {
    nng_socket sock;
    int open;
    uint32_t port;     /* the port subscribed to */
    double last_woken; /* when a message last ended a nap (psi_cli_now) */
};

static void wake_close(struct wake *w)
{
    if (w->open)
        nng_close(w->sock);
    w->open = 0;
    w->port = 0;
}

/* (Re)subscribes when the hub names another port than the one subscribed. */
static void wake_follow(struct wake *w, const char *hub_url, uint32_t port)
{
    if (port == w->port && (w->open || port == 0))
        return;
    wake_close(w);
    const char *colon = strrchr(hub_url, ':');
    if (port == 0 || strncmp(hub_url, "tcp://", 6) != 0 || colon == NULL || colon < hub_url + 6)
        return;
    char url[PSI_STATE_URL_MAX + 16];
    snprintf(url, sizeof url, "%.*s:%u", (int)(colon - hub_url), hub_url, (unsigned)port);
    if (nng_sub0_open(&w->sock) != 0)
        return;
    w->open = 1;
    w->port = port;
    /* non-blocking dial: nng connects, and reconnects, in the background */
    if (nng_socket_set(w->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0) != 0 ||
        nng_socket_set_size(w->sock, NNG_OPT_RECVMAXSZ, 64) != 0 ||
        nng_socket_set_ms(w->sock, NNG_OPT_RECVTIMEO, 200) != 0 ||
        nng_dial(w->sock, url, NULL, NNG_FLAG_NONBLOCK) != 0)
        wake_close(w);
}

/* Naps up to seconds as nap() does, or until the wake-up socket says the
 * log grew. 1 when woken. */
static int wake_nap(struct wake *w, unsigned seconds)
{
    if (!w->open) {
        nap(seconds);
        return 0;
    }
    double end = psi_cli_now() + (double)seconds, floor_at = w->last_woken + WAKE_MIN_GAP_S;
    int pending = 0; /* a message came before floor_at */
    while (!stop_requested && psi_cli_now() < end) {
        if (pending && psi_cli_now() >= floor_at) {
            w->last_woken = psi_cli_now();
            return 1;
        }
        void *buf = NULL;
        size_t len = 0;
        int rv = nng_recv(w->sock, &buf, &len, NNG_FLAG_ALLOC); /* 200 ms at most */
        if (rv == 0) {
            nng_free(buf, len);
            /* one round for all that came together */
            while (nng_recv(w->sock, &buf, &len, NNG_FLAG_ALLOC | NNG_FLAG_NONBLOCK) == 0)
                nng_free(buf, len);
            pending = 1;
            continue;
        }
        if (rv != NNG_ETIMEDOUT && rv != NNG_EINTR && rv != NNG_EAGAIN) {
            wake_close(w); /* polling from now on */
            nap((unsigned)(end - psi_cli_now() > 0 ? end - psi_cli_now() : 0));
            return 0;
        }
    }
    return 0;
}

/* A round under the state lock: a command that changes the state (psi
 * submit, policy, ...) waits for the round, and the round for it. A lock not
 * had in time is a failed round (said in one line); the next round tries
 * again. A stop requested while it waits stops the agent. */
static int locked_round(struct agent *a, struct round_tally *tally, int *new_tasks)
{
    if (psi_cli_session_lock(a->session))
        return stop_requested ? -1 : 1;
    int rc = run_round(a, tally, new_tasks);
    psi_cli_session_unlock(a->session);
    return rc;
}

int psi_cmd_agent(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&agent_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[AGENT_STATE];
    int once = args.given[AGENT_ONCE], no_wake = args.given[AGENT_NO_WAKE];
    uint64_t interval = DEFAULT_INTERVAL_S, feed_limit = 0, peer_limit = DEFAULT_PEER_LIMIT,
             feed_total = PSI_FEED_AGENT_TOTAL_LIMIT_DEFAULT;
    if ((status = psi_cmdline_option_u64(&agent_command, &args, AGENT_PEER_LIMIT, 1,
                                         (uint64_t)INT64_MAX, &peer_limit)) != 0 ||
        (status = psi_cmdline_option_u64(&agent_command, &args, AGENT_INTERVAL, 1, MAX_INTERVAL_S,
                                         &interval)) != 0 ||
        (status = psi_cmdline_option_u64(&agent_command, &args, AGENT_FEED_LIMIT, 1,
                                         (uint64_t)INT64_MAX, &feed_limit)) != 0 ||
        (status = psi_cmdline_option_u64(&agent_command, &args, AGENT_FEED_TOTAL_LIMIT, 1,
                                         (uint64_t)INT64_MAX, &feed_total)) != 0)
        return status;

    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "agent", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    /* One agent per state directory, for its lifetime; each round also takes
     * the state lock, which the commands that change the state hold for
     * their duration (docs/client.md, "Locks"). */
    s.stop = &stop_requested;
    int agent_lock = psi_cli_agent_lock("agent", dir);
    if (agent_lock < 0) {
        psi_cli_session_close(&s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    struct agent a;
    memset(&a, 0, sizeof a);
    a.session = &s;
    a.peer_limit = peer_limit;
    struct psi_hub_failure f;
    if (psi_hub_client_open(&a.hub, &s.identity, &s.config, &f)) {
        psi_cli_session_close(&s);
        psi_lockfile_release(agent_lock);
        return psi_cmdline_fail("agent", "%s", f.text);
    }
    struct psi_feed_agent_limits limits = {feed_limit, feed_total};
    if (psi_feed_agent_open(&a.feeds, &s, &limits, agent_agency_key, &a)) {
        psi_hub_client_close(a.hub);
        psi_cli_session_close(&s);
        psi_lockfile_release(agent_lock);
        return PSI_CMDLINE_EXIT_FAILURE;
    }

    /* No SA_RESTART: a signal cuts a nap short. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct round_tally tally = {0};
    if (once) {
        /* Drain: rounds until one finds nothing new (work may appear while
         * a round runs). */
        for (;;) {
            int new_tasks = 0;
            int rc = locked_round(&a, &tally, &new_tasks);
            if (rc > 0) {
                status = PSI_CMDLINE_EXIT_FAILURE;
                break;
            }
            if (rc < 0 || !new_tasks)
                break;
        }
    } else {
        uint64_t wait = interval, cap = interval * BACKOFF_FACTOR_MAX;
        if (cap > MAX_INTERVAL_S)
            cap = MAX_INTERVAL_S;
        struct wake wake = {NNG_SOCKET_INITIALIZER, 0, 0, 0.0};
        while (!stop_requested) {
            struct round_tally before = tally;
            size_t answered_before = a.feed_tally.answered;
            int new_tasks = 0;
            int rc = locked_round(&a, &tally, &new_tasks);
            if (rc < 0)
                break;
            int progress = tally.done > before.done || a.feed_tally.answered > answered_before;
            if (rc == 0 && progress)
                wait = interval; /* work came: look again soon */
            else
                wait = wait * 2 > cap ? cap : wait * 2;
            if (rc == 0 && new_tasks && progress)
                continue; /* more may be waiting: no nap */
            /* the round read the hub's info: the port to subscribe to */
            if (!no_wake)
                wake_follow(&wake, s.config.hub_url, a.notify_port);
            wake_nap(&wake, (unsigned)wait);
        }
        wake_close(&wake);
    }
    if ((once && !status) || tally.done || tally.refused)
        printf("psi agent: %zu submission%s cross-blinded (%" PRIu64 " elements), %zu refused%s\n",
               tally.done, tally.done == 1 ? "" : "s", tally.elements, tally.refused,
               stop_requested ? "; stopped" : "");
    if (a.feed_tally.answered || a.feed_tally.declined || a.feed_tally.refused)
        printf("psi agent: %zu feed query batch%s answered (%" PRIu64 " queries), %zu not "
               "answered, %zu refused\n",
               a.feed_tally.answered, a.feed_tally.answered == 1 ? "" : "es", a.feed_tally.elements,
               a.feed_tally.declined, a.feed_tally.refused);
    if (fflush(stdout) != 0 && !status)
        status = PSI_CMDLINE_EXIT_FAILURE;
    psi_feed_agent_close(a.feeds);
    sodium_memzero(a.key, sizeof a.key);
    free(a.settled);
    psi_state_policy_clear(&a.policy);
    psi_hub_client_close(a.hub);
    psi_cli_session_close(&s);
    psi_lockfile_release(agent_lock);
    return status;
}
