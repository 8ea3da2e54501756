/* psi submit: blind this participant's indicators and hand them to the hub. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent_check.h"
#include "cli.h"
#include "commands.h"
#include "digest.h"
#include "epoch_guard.h"
#include "hub_client.h"
#include "indicators.h"
#include "log_view.h"
#include "methods.h"
#include "psi.pb-c.h"
#include "psi/blind.h"
#include "psi/error.h"
#include "psi/ident.h"
#include "psi/indicator.h"
#include "psi/ioc_reader.h"

enum {
    SUBMIT_STATE,
    SUBMIT_FORMAT,
    SUBMIT_ALL_ATTRIBUTES,
    SUBMIT_EXCLUDE,
};

static const struct psi_cmdline_option submit_options[] = {
    [SUBMIT_STATE] = {PSI_CLI_STATE_OPTION},
    [SUBMIT_FORMAT] = {PSI_INDICATORS_FORMAT_OPTION},
    [SUBMIT_ALL_ATTRIBUTES] = {PSI_INDICATORS_ALL_ATTRIBUTES_OPTION},
    [SUBMIT_EXCLUDE] = {PSI_INDICATORS_EXCLUDE_OPTION},
};

static const struct psi_cmdline_command submit_command = {
    .name = "submit",
    .about = "Reads indicator files, canonicalises and de-duplicates them as 'psi ingest'\n"
             "does, drops those already submitted in the hub's current epoch, blinds the\n"
             "rest with this participant's key of the epoch, shuffles them and uploads\n"
             "them to the hub, signed. Only the blinded set leaves this machine; the\n"
             "position of each indicator is kept in DIR to read results later.\n"
             "\n"
             "Safe to interrupt: the order of a submission is recorded before it is\n"
             "uploaded, and running 'psi submit' again finishes an interrupted submission\n"
             "(never submitting anything twice) before it looks at new indicators.\n",
    PSI_CMDLINE_OPTIONS(submit_options),
    .operand = "FILE",
    .operands_min = 1,
    .operands_max = PSI_CMDLINE_ANY,
    .operand_help = "indicator files ('-' for standard input)",
    .epilogue = "Prints one line: the epoch, how many indicators were new, how many were\n"
                "already submitted, and the hub's submission id.\n"
                "\n"
                "PSI_HUB_TIMEOUT=SECONDS in the environment bounds each wait for the hub\n"
                "(default 30).\n",
};

/* Room for the envelope around an upload chunk (ids, signature, seal, the
 * chunk's own fields): far more than they take, far less than a chunk. */
#define ENVELOPE_ALLOWANCE 2048u

struct submit {
    struct psi_cli_session *session;
    struct psi_hub_client *hub;
    uint32_t chunk_elements;
};

/* ---------------------------------------------------------------- uploading */

/* Blinds every indicator of a recorded submission, in its recorded order, into
 * elements (count * 32 bytes), feeding the submission digest. Blinding is
 * deterministic: a resumed submission recomputes the very same elements. */
static int blind_all(struct submit *sb, const struct psi_state_submission *sub,
                     const struct psi_state_indicator_list *items, unsigned char *elements,
                     unsigned char digest[PSI_DIGEST_BYTES])
{
    struct psi_cli_session *s = sb->session;
    unsigned char key[PSI_SCALAR_BYTES];
    struct psi_submission_digest d;
    struct psi_cli_progress progress;
    int status = 0;
    /* Slices big enough to keep every core busy, small enough for progress. */
    const size_t slice = 4096;

    if (psi_cli_epoch_key(s, sub->epoch, key))
        return PSI_CMDLINE_EXIT_FAILURE;
    psi_cli_progress_begin(&progress, "submit", "blinding", items->count);
    for (size_t begin = 0; begin < items->count; begin += slice) {
        size_t n = items->count - begin < slice ? items->count - begin : slice;
        struct psi_indicator_batch batch;
        int rc = psi_indicator_batch_from_list(&batch, items->items + begin, n);
        if (!rc)
            rc = psi_blind_batch(key, n, batch.inputs, batch.lens,
                                 elements + begin * PSI_ELEMENT_BYTES, 0);
        psi_indicator_batch_clear(&batch);
        if (rc) {
            status =
                psi_cmdline_fail("submit", "cannot blind indicators %zu-%zu of the submission: %s",
                                 begin, begin + n - 1, psi_strerror(rc));
            break;
        }
        psi_cli_progress_add(&progress, n);
    }
    psi_cli_progress_end(&progress);
    sodium_memzero(key, sizeof key);
    if (status)
        return status;
    psi_submission_digest_begin(&d, sub->epoch, s->config.id, sub->count);
    psi_submission_digest_add(&d, elements, items->count * PSI_ELEMENT_BYTES);
    psi_submission_digest_end(&d, digest);
    return 0;
}

/* What a failed upload or commit means for the pending submission: the
 * hub's own verdict on it is final (*refused says which), anything else
 * leaves it pending for the next run. Prints the one line. */
static int commit_failure(const struct psi_hub_failure *f, int *refused, int quiet_epoch)
{
    if (f->refused && psi_hub_refusal_is_final(f->code)) {
        *refused = f->code;
        if (quiet_epoch && f->code == PSI_ERR_EPOCH)
            return PSI_CMDLINE_EXIT_FAILURE;
        return psi_cmdline_fail("submit", "%s", f->text);
    }
    return psi_cmdline_fail("submit", "%s; run psi submit again to resume", f->text);
}

/*
 * Uploads a recorded submission and commits it. The commit's request id
 * derives from the upload id, so whichever run commits, the hub acts once and
 * answers every retry with its first reply. A resumed submission first asks
 * for the commit: if an earlier run got that far, the hub's stored reply is
 * the receipt and nothing is uploaded again (the hub does not store
 * refusals, so a commit refused for an incomplete upload can be sent again
 * once the upload is complete). On success *receipt is the hub's (free it).
 * On failure the one line has been printed; *refused says whether the hub
 * refused for good. sum and sig receive the digest and signature sent, which
 * the receipt must log.
 */
static int upload_and_commit(struct submit *sb, const struct psi_state_submission *sub,
                             const struct psi_state_indicator_list *items, int resumed,
                             Psi__SubmitReceipt **receipt, int *refused, int quiet_epoch,
                             unsigned char sum[PSI_DIGEST_BYTES],
                             unsigned char sig[PSI_SIGNATURE_BYTES])
{
    struct psi_cli_session *s = sb->session;
    unsigned char request_id[16];
    struct psi_hub_failure f;

    *receipt = NULL;
    *refused = 0;
    if (sub->count == 0 || sub->count > SIZE_MAX / PSI_ELEMENT_BYTES)
        return psi_cmdline_fail("submit", "the pending submission's size is damaged");
    unsigned char *elements = malloc((size_t)sub->count * PSI_ELEMENT_BYTES);
    if (!elements)
        return psi_cmdline_fail("submit", "out of memory for %" PRIu64 " elements", sub->count);
    int status = blind_all(sb, sub, items, elements, sum);
    if (status) {
        free(elements);
        return status;
    }
    if (psi_submission_sign(sig, s->identity.secret_key, s->config.hub_key, sum) != 0) {
        free(elements);
        return psi_cmdline_fail("submit", "cannot sign the submission");
    }
    psi_commit_request_id(request_id, sub->upload_id);

    Psi__SubmitCommit commit = PSI__SUBMIT_COMMIT__INIT;
    commit.upload_id.data = (uint8_t *)sub->upload_id;
    commit.upload_id.len = PSI_STATE_UPLOAD_ID_BYTES;
    commit.epoch = (char *)sub->epoch;
    commit.count = sub->count;
    commit.digest.data = sum;
    commit.digest.len = PSI_DIGEST_BYTES;
    commit.signature.data = sig;
    commit.signature.len = PSI_SIGNATURE_BYTES;
    commit.indicator_rules = PSI_IOC_RULES_VERSION;
    commit.mutual_suite = psi_client_mutual_suite();

    int rc = -1;
    if (resumed) {
        rc =
            psi_hub_client_call(sb->hub, PSI_METHOD_NAME(SUBMIT_COMMIT), request_id, &commit.base,
                                &psi__submit_receipt__descriptor, (ProtobufCMessage **)receipt, &f);
        /* Refused as not there yet (no upload, or an incomplete one): upload
         * below. Any other answer stands. */
        if (rc && !(f.refused && (f.code == PSI_ERR_NOT_FOUND || f.code == PSI_ERR_PROTOCOL))) {
            free(elements);
            return commit_failure(&f, refused, quiet_epoch);
        }
    }
    if (rc) {
        struct psi_cli_progress progress;
        psi_cli_progress_begin(&progress, "submit", "uploading", sub->count);
        rc = psi_hub_client_upload(sb->hub, sub->upload_id, elements,
                                   (size_t)sub->count * PSI_ELEMENT_BYTES, PSI_ELEMENT_BYTES,
                                   (size_t)sb->chunk_elements * PSI_ELEMENT_BYTES, &progress, &f);
        psi_cli_progress_end(&progress);
        if (!rc)
            rc = psi_hub_client_call(sb->hub, PSI_METHOD_NAME(SUBMIT_COMMIT), request_id,
                                     &commit.base, &psi__submit_receipt__descriptor,
                                     (ProtobufCMessage **)receipt, &f);
        if (rc) {
            free(elements);
            return commit_failure(&f, refused, quiet_epoch);
        }
    }
    free(elements);
    const Psi__SubmitReceipt *r = *receipt;
    if (r->position_base > (uint64_t)INT64_MAX - sub->count) {
        status = psi_cmdline_fail("submit",
                                  "the hub's receipt holds impossible positions (%" PRIu64 "+)",
                                  r->position_base);
        protobuf_c_message_free_unpacked(&(*receipt)->base, NULL);
        *receipt = NULL;
        return status;
    }
    return 0;
}

/* Finishes the recorded submission sub: upload, commit, record the receipt.
 * On success *submission_id and *position_base say what the hub recorded.
 * A refusal by the hub is final: the submission is recorded as refused and
 * *refused is the hub's status (0 otherwise). With quiet_epoch, a refusal
 * for a past epoch is left to the caller to explain. */
static int finish_submission(struct submit *sb, const struct psi_state_submission *sub, int resumed,
                             int quiet_epoch, uint64_t *submission_id, uint64_t *position_base,
                             int *refused)
{
    struct psi_cli_session *s = sb->session;
    struct psi_state_indicator_list items;
    Psi__SubmitReceipt *receipt = NULL;
    unsigned char sum[PSI_DIGEST_BYTES], sig[PSI_SIGNATURE_BYTES];

    *refused = 0;
    if (psi_state_pending_items(s->state, sub->upload_id, &items))
        return psi_cmdline_fail("submit", "cannot read the pending submission from %s: %s", s->dir,
                                psi_state_error(s->state));
    int status =
        upload_and_commit(sb, sub, &items, resumed, &receipt, refused, quiet_epoch, sum, sig);
    psi_state_indicator_list_clear(&items);
    if (status) {
        /* Refused for good: forget it, so that its indicators may be sent
         * again in a new submission (a new upload id, a new request id). */
        if (*refused && psi_state_pending_refused(s->state, sub->upload_id, "refused by the hub"))
            psi_cmdline_note("submit", "cannot record the refusal in %s: %s", s->dir,
                             psi_state_error(s->state));
        return status;
    }
    int rc = psi_state_pending_done(s->state, sub->upload_id, receipt->submission_id,
                                    receipt->position_base, receipt->receipt);
    /* The log receipt: verified, its entry equal to what was sent and
     * signed, its checkpoint proved consistent with the one trusted and kept
     * (log_view.h); the submission stands anyway. */
    char why[PSI_LOG_WHY_MAX];
    const struct psi_log_expected sent = {.kind = PSI_LOGENTRY_SUBMISSION,
                                          .submission_id = receipt->submission_id,
                                          .epoch = sub->epoch,
                                          .count = sub->count,
                                          .digest = sum,
                                          .signature = sig};
    if (!rc && psi_log_keep_receipt(s, sb->hub, &sent, receipt->receipt, why, sizeof why))
        psi_cmdline_note("submit", "WARNING: the hub's log receipt is not kept: %s", why);
    *submission_id = receipt->submission_id;
    *position_base = receipt->position_base;
    protobuf_c_message_free_unpacked(&receipt->base, NULL);
    if (rc)
        /* The hub holds it; the next run retries the commit, gets the same
         * receipt, and records it then. */
        return psi_cmdline_fail("submit",
                                "the hub accepted submission %" PRIu64
                                " but recording it in %s failed (%s); run psi submit again",
                                *submission_id, s->dir, psi_state_error(s->state));
    return 0;
}

/* ---------------------------------------------------------------- the command */

static int hub_info(struct submit *sb, Psi__HubInfo **info)
{
    struct psi_hub_failure f;
    if (psi_hub_client_call(sb->hub, PSI_METHOD_NAME(INFO), NULL, NULL, &psi__hub_info__descriptor,
                            (ProtobufCMessage **)info, &f))
        return psi_cmdline_fail("submit", "%s", f.text);
    const Psi__HubInfo *hi = *info;
    if (!psi_epoch_label_is_valid(hi->epoch))
        return psi_cmdline_fail("submit", "the hub announced an invalid epoch label");
    char why[256];
    if (psi_agent_check_suite(hi->mutual_suite, why, sizeof why))
        return psi_cmdline_fail("submit", "%s", why);
    if (hi->max_chunk_elements == 0 || hi->max_message_bytes < 2 * ENVELOPE_ALLOWANCE)
        return psi_cmdline_fail("submit",
                                "the hub's limits leave no room for an upload"
                                " (%" PRIu32 " elements, %" PRIu32 " bytes a message)",
                                hi->max_chunk_elements, hi->max_message_bytes);
    uint32_t by_size = (hi->max_message_bytes - ENVELOPE_ALLOWANCE) / PSI_ELEMENT_BYTES;
    sb->chunk_elements = hi->max_chunk_elements < by_size ? hi->max_chunk_elements : by_size;
    psi_hub_client_set_max_message(sb->hub, hi->max_message_bytes);
    return 0;
}

/* Said after success only, so that a failure stays one line. */
static void note_skipped(const struct psi_ioc_stats *stats, uint64_t skipped, uint64_t read)
{
    if (skipped > 0)
        psi_cmdline_note("submit",
                         "%" PRIu64 " of %" PRIu64 " values read are not indicators"
                         " (see 'psi ingest --explain' for why)",
                         skipped, read);
    uint64_t not_for_detection = stats->skipped[PSI_IOC_SKIP_NOT_FOR_DETECTION];
    if (not_for_detection > 0)
        psi_cmdline_note("submit",
                         "%" PRIu64 " of them are MISP values not meant for detection (to_ids "
                         "false), left out; --all-attributes submits them",
                         not_for_detection);
}

/* ---------------------------------------------------------------- provenance */

/* The origins the readers report for the values kept (or met again), copied
 * as they come: at most PSI_STATE_ORIGINS_MAX per member of the set. */
struct origins {
    struct psi_state_origin_record *recs; /* type and value filled at the end */
    size_t *member;                       /* recs[i] is of set member member[i] */
    size_t count, cap;
    unsigned char *per_member; /* how many kept per member (saturating) */
    size_t members_cap;
    int failed;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void origins_seen(void *ctx, const struct psi_ioc_seen *seen)
{
    struct origins *o = ctx;
    if (o->failed || seen->outcome == PSI_IOC_OUTCOME_SKIPPED)
        return;
    size_t m = seen->index;
    if (m >= o->members_cap) {
        size_t ncap = o->members_cap ? o->members_cap : 1024;
        while (ncap <= m)
            ncap *= 2;
        unsigned char *grown = realloc(o->per_member, ncap);
        if (!grown) {
            o->failed = 1;
            return;
        }
        memset(grown + o->members_cap, 0, ncap - o->members_cap);
        o->per_member = grown;
        o->members_cap = ncap;
    }
    if (o->per_member[m] >= PSI_STATE_ORIGINS_MAX)
        return;
    if (o->count == o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 1024;
        struct psi_state_origin_record *recs = realloc(o->recs, ncap * sizeof *recs);
        if (recs)
            o->recs = recs;
        size_t *member = recs ? realloc(o->member, ncap * sizeof *member) : NULL;
        if (!member) {
            o->failed = 1;
            return;
        }
        o->member = member;
        o->cap = ncap;
    }
    const struct psi_ioc_origin *from = seen->origin;
    struct psi_state_origin *to = &o->recs[o->count].origin;
    memset(&o->recs[o->count], 0, sizeof o->recs[o->count]);
    to->file = dup_or_null(from->file);
    to->line = from->line;
    to->path = dup_or_null(from->path);
    to->event = dup_or_null(from->event);
    to->object = dup_or_null(from->object);
    to->to_ids = from->to_ids;
    o->member[o->count++] = m;
    o->per_member[m]++;
    if ((from->file && !to->file) || (from->path && !to->path) || (from->event && !to->event) ||
        (from->object && !to->object))
        o->failed = 1;
}

static void origins_clear(struct origins *o)
{
    for (size_t i = 0; i < o->count; i++) {
        free(o->recs[i].origin.file);
        free(o->recs[i].origin.path);
        free(o->recs[i].origin.event);
        free(o->recs[i].origin.object);
    }
    free(o->recs);
    free(o->member);
    free(o->per_member);
    memset(o, 0, sizeof *o);
}

/* Records in the state where each indicator of set came from: the
 * provenance psi results shows. A failure is a note, not a failed submit. */
static void origins_keep(struct psi_cli_session *s, const struct psi_ioc_set *set,
                         struct origins *o)
{
    if (o->failed) {
        psi_cmdline_note("submit", "out of memory for the indicators' origins: not recorded");
        return;
    }
    for (size_t i = 0; i < o->count; i++) {
        struct psi_ioc_ref ref;
        if (psi_ioc_set_get(set, o->member[i], &ref))
            return;
        o->recs[i].type = psi_ioc_type_name(ref.type);
        o->recs[i].value = ref.value;
    }
    if (o->count > 0 && psi_state_origins_record(s->state, o->recs, o->count))
        psi_cmdline_note("submit", "cannot record the indicators' origins in %s: %s", s->dir,
                         psi_state_error(s->state));
}

/* Fisher–Yates with an unbiased source: the hub must learn nothing from the
 * order (not the input order, not the type grouping). */
static void shuffle(struct psi_state_indicator *items, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = randombytes_uniform((uint32_t)i);
        struct psi_state_indicator t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}

int psi_cmd_submit(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&submit_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[SUBMIT_STATE];
    struct psi_indicators_input in = {.all_attributes = args.given[SUBMIT_ALL_ATTRIBUTES],
                                      .exclude = args.value[SUBMIT_EXCLUDE]};
    if ((status = psi_indicators_format_option("submit", args.value[SUBMIT_FORMAT], &in.format)) !=
        0)
        return status;

    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "submit", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    if (psi_cli_session_lock(&s)) {
        psi_cli_session_close(&s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }

    struct psi_ioc_set *set = NULL;
    struct psi_state_indicator *fresh = NULL;
    unsigned char *keep = NULL;
    Psi__HubInfo *info = NULL;
    struct psi_hub_failure f;
    struct submit sb = {.session = &s};
    struct origins origins = {0};
    struct psi_ioc_stats stats_kept = {0};

    /* Local mistakes first: a bad file fails before the hub is bothered. */
    if (psi_ioc_set_new(&set)) {
        status = psi_cmdline_fail("submit", "out of memory");
        goto out;
    }
    psi_ioc_set_observe(set, origins_seen, &origins);
    char err[512];
    if (psi_indicators_read_files(set, args.operands, args.operand_count, &in, NULL, err,
                                  sizeof err)) {
        status = psi_cmdline_fail("submit", "%s", err);
        goto out;
    }

    if (psi_hub_client_open(&sb.hub, &s.identity, &s.config, &f)) {
        status = psi_cmdline_fail("submit", "%s", f.text);
        goto out;
    }
    status = hub_info(&sb, &info);
    if (status)
        goto out;
    /* The epoch is this side's decision before its key is used: the clock's
     * for week and day labels, the party's for manual ones, never back. */
    char why[PSI_LOG_WHY_MAX];
    if (psi_epoch_guard_admit(s.state, info->epoch_mode, info->epoch, psi_epoch_guard_now_ms(), why,
                              sizeof why)) {
        status = psi_cmdline_fail("submit", "%s", why);
        goto out;
    }

    /* An interrupted submission is finished before anything new is sent. */
    struct psi_state_submission pending;
    int rc = psi_state_pending_get(s.state, &pending);
    if (rc && rc != PSI_ERR_NOT_FOUND) {
        status = psi_cmdline_fail("submit", "%s: %s", dir, psi_state_error(s.state));
        goto out;
    }
    if (rc == 0) {
        uint64_t id = 0, base = 0;
        int refused = 0;
        status = finish_submission(&sb, &pending, 1, 1, &id, &base, &refused);
        if (status && refused == PSI_ERR_EPOCH) {
            /* Its epoch is over: what it held is new again in this one. */
            psi_cmdline_note("submit",
                             "an interrupted submission of epoch %s (%" PRIu64
                             " indicators) came too late for the hub; dropped",
                             pending.epoch, pending.count);
            status = 0;
        } else if (status) {
            goto out;
        } else {
            printf("psi submit: epoch %s: finished an interrupted submission of %" PRIu64
                   " indicators: submission %" PRIu64 "\n",
                   pending.epoch, pending.count, id);
        }
    }

    size_t n = psi_ioc_set_count(set);
    if (n > UINT32_MAX) {
        status =
            psi_cmdline_fail("submit", "%zu indicators are more than one submission can hold", n);
        goto out;
    }
    fresh = calloc(n ? n : 1, sizeof *fresh);
    keep = calloc(n ? n : 1, 1);
    if (!fresh || !keep) {
        status = psi_cmdline_fail("submit", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct psi_ioc_ref ref;
        if (psi_ioc_set_get(set, i, &ref)) {
            status = psi_cmdline_fail("submit", "cannot read the indicator set");
            goto out;
        }
        fresh[i].type = (char *)psi_ioc_type_name(ref.type);
        fresh[i].value = (char *)ref.value;
    }
    if (psi_state_filter_new(s.state, info->epoch, fresh, n, keep)) {
        status = psi_cmdline_fail("submit", "%s: %s", dir, psi_state_error(s.state));
        goto out;
    }
    size_t n_new = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            fresh[n_new++] = fresh[i];
    size_t n_old = n - n_new;
    /* A copy: the set is freed before the notes that use it. */
    stats_kept = *psi_ioc_set_stats(set);
    const struct psi_ioc_stats *stats = &stats_kept;
    origins_keep(&s, set, &origins);
    uint64_t read = stats->read, skipped = stats->read - stats->kept - stats->duplicates;
    if (n_new == 0) {
        note_skipped(stats, skipped, read);
        printf("psi submit: epoch %s: nothing new (%zu already submitted)\n", info->epoch, n_old);
        goto out;
    }

    shuffle(fresh, n_new);
    struct psi_state_submission sub = {0};
    randombytes_buf(sub.upload_id, sizeof sub.upload_id);
    memcpy(sub.epoch, info->epoch, strlen(info->epoch) + 1);
    sub.count = n_new;
    /* Recorded before the first byte is sent: from here on, a killed run is
     * resumed by the next one. */
    if (psi_state_pending_record(s.state, sub.upload_id, sub.epoch, fresh, n_new)) {
        status = psi_cmdline_fail("submit", "cannot record the submission in %s: %s", dir,
                                  psi_state_error(s.state));
        goto out;
    }
    /* The set is no longer needed: the recorded order is what gets sent. */
    free(fresh);
    fresh = NULL;
    psi_ioc_set_free(set);
    set = NULL;

    uint64_t id = 0, base = 0;
    int refused = 0;
    status = finish_submission(&sb, &sub, 0, 0, &id, &base, &refused);
    if (status)
        goto out;
    note_skipped(stats, skipped, read);
    printf("psi submit: epoch %s: %zu new, %zu already submitted: submission %" PRIu64
           " (positions %" PRIu64 "-%" PRIu64 ")\n",
           sub.epoch, n_new, n_old, id, base, base + n_new - 1);
out:
    if (fflush(stdout) != 0 && !status)
        status = psi_cmdline_fail("submit", "cannot write to standard output");
    free(fresh);
    free(keep);
    origins_clear(&origins);
    psi_ioc_set_free(set);
    if (info)
        protobuf_c_message_free_unpacked(&info->base, NULL);
    psi_hub_client_close(sb.hub);
    psi_cli_session_close(&s);
    return status;
}
