/* psi feed: publish a vendor's blinded feed, or query one (protocol 2). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "commands.h"
#include "digest.h"
#include "feed_agent.h"
#include "epoch_guard.h"
#include "hub_client.h"
#include "indicators.h"
#include "log_view.h"
#include "methods.h"
#include "peers.h"
#include "psi.pb-c.h"
#include "psi/error.h"
#include "psi/feed.h"
#include "psi/feedfilter.h"
#include "psi/ident.h"
#include "psi/indicator.h"
#include "psi/ioc_reader.h"
#include "psi/oprf.h"

enum {
    PUBLISH_STATE,
    PUBLISH_FPR,
    PUBLISH_FORMAT,
    PUBLISH_ALL_ATTRIBUTES,
    PUBLISH_EXCLUDE,
};

#define FEED_ENVIRONMENT                                                                           \
    "PSI_HUB_TIMEOUT=SECONDS in the environment bounds each wait for the hub\n"                    \
    "(default 30).\n"

static const struct psi_cmdline_option publish_options[] = {
    [PUBLISH_STATE] = {PSI_CLI_STATE_OPTION},
    [PUBLISH_FPR] = {.name = "fpr",
                     .value_name = "RATE",
                     .help = "false-positive rate per query the filter states\n"
                             "(default 1e-9; 1e-12 .. 0.1)"},
    [PUBLISH_FORMAT] = {PSI_INDICATORS_FORMAT_OPTION},
    [PUBLISH_ALL_ATTRIBUTES] = {PSI_INDICATORS_ALL_ATTRIBUTES_OPTION},
    [PUBLISH_EXCLUDE] = {PSI_INDICATORS_EXCLUDE_OPTION},
};

static const struct psi_cmdline_command publish_command = {
    .name = "feed publish",
    .about = "For vendors (docs/feeds.md): reads indicator files, canonicalises and\n"
             "de-duplicates them as 'psi ingest' does, derives this vendor's VOPRF key of\n"
             "the hub's current epoch from DIR/mutual.seed, announces its public key\n"
             "(signed), evaluates every indicator on all cores, builds a Bloom filter of\n"
             "the outputs and uploads it, signed. Publishing again in the same epoch\n"
             "replaces the epoch's feed. The filter is a function of the seed, the epoch,\n"
             "the indicators and the rate: a run that was interrupted, run again,\n"
             "continues the upload it left at the hub, and a feed the hub already holds\n"
             "is not sent again.\n",
    PSI_CMDLINE_OPTIONS(publish_options),
    .operand = "FILE",
    .operands_min = 1,
    .operands_max = PSI_CMDLINE_ANY,
    .operand_help = "indicator files ('-' for standard input)",
    .epilogue = FEED_ENVIRONMENT,
};

enum {
    QUERY_STATE,
    QUERY_VENDOR,
    QUERY_JSON,
    QUERY_TIMEOUT,
    QUERY_FORMAT,
};

static const struct psi_cmdline_option query_options[] = {
    [QUERY_STATE] = {PSI_CLI_STATE_OPTION},
    [QUERY_VENDOR] = {.name = "vendor",
                      .value_name = "ID",
                      .required = true,
                      .help = "the vendor whose feed to query"},
    [QUERY_JSON] = {.name = "json",
                    .help = "one JSON object a line: {\"type\",\"value\",\"vendor\"}"},
    [QUERY_TIMEOUT] = {.name = "timeout",
                       .value_name = "SECONDS",
                       .help = "how long to wait for the vendor's answer to each batch\n"
                               "(default 300)"},
    [QUERY_FORMAT] = {PSI_INDICATORS_FORMAT_OPTION},
};

static const struct psi_cmdline_command query_command = {
    .name = "feed query",
    .about = "For agencies (docs/feeds.md): reads indicator files, fetches the vendor's\n"
             "filter of the epoch (kept in DIR/feeds/VENDOR/EPOCH.filter; checked against\n"
             "the vendor's signatures and announced key), blinds the indicators, sends\n"
             "them through the hub to the vendor's agent, verifies the vendor's proof\n"
             "that it answered with its announced key (an answer that fails is refused),\n"
             "and prints the indicators that are in the feed, then the filter's\n"
             "false-positive rate. Every query counts against the quota the hub operator\n"
             "set for this agency at the vendor.\n",
    PSI_CMDLINE_OPTIONS(query_options),
    .operand = "FILE",
    .operands_min = 1,
    .operands_max = PSI_CMDLINE_ANY,
    .operand_help = "indicator files ('-' for standard input)",
    .epilogue = FEED_ENVIRONMENT,
};

/* Room for the envelope around a chunk or a batch: far more than it takes. */
#define ENVELOPE_ALLOWANCE 4096u
#define DEFAULT_TIMEOUT_S 300u
#define FEEDS_DIR "feeds"
/* Indicators evaluated or blinded per step: every core busy, progress shown. */
#define SLICE 4096u

/* ---------------------------------------------------------------- shared */

struct feed_cmd {
    const char *cmd; /* "feed publish" or "feed query" */
    struct psi_cli_session session;
    struct psi_hub_client *hub;
    Psi__HubInfo *info;
    struct psi_ioc_set *set;
};

static void feed_cmd_close(struct feed_cmd *fc)
{
    psi_ioc_set_free(fc->set);
    if (fc->info)
        protobuf_c_message_free_unpacked(&fc->info->base, NULL);
    psi_hub_client_close(fc->hub);
    psi_cli_session_close(&fc->session);
}

/* Session, indicator files (local mistakes first), hub and its info. */
static int feed_cmd_open(struct feed_cmd *fc, const char *dir, int n_files, char **files,
                         const struct psi_indicators_input *in)
{
    struct psi_hub_failure f;
    if (psi_cli_session_open(&fc->session, fc->cmd, dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    if (psi_cli_session_lock(&fc->session))
        return PSI_CMDLINE_EXIT_FAILURE;
    if (psi_ioc_set_new(&fc->set))
        return psi_cmdline_fail(fc->cmd, "out of memory");
    char err[512];
    if (psi_indicators_read_files(fc->set, files, n_files, in, NULL, err, sizeof err))
        return psi_cmdline_fail(fc->cmd, "%s", err);
    if (psi_ioc_set_count(fc->set) == 0)
        return psi_cmdline_fail(fc->cmd, "no indicators in the files given");
    if (psi_hub_client_open(&fc->hub, &fc->session.identity, &fc->session.config, &f))
        return psi_cmdline_fail(fc->cmd, "%s", f.text);
    if (psi_hub_client_call(fc->hub, PSI_METHOD_NAME(INFO), NULL, NULL, &psi__hub_info__descriptor,
                            (ProtobufCMessage **)&fc->info, &f))
        return psi_cmdline_fail(fc->cmd, "%s", f.text);
    const Psi__HubInfo *hi = fc->info;
    if (!psi_epoch_label_is_valid(hi->epoch))
        return psi_cmdline_fail(fc->cmd, "the hub announced an invalid epoch label");
    /* Before the epoch's key is derived or a filter of it trusted. */
    char why[256 + 2 * PSI_STATE_EPOCH_MAX];
    if (psi_epoch_guard_admit(fc->session.state, hi->epoch_mode, hi->epoch,
                              psi_epoch_guard_now_ms(), why, sizeof why))
        return psi_cmdline_fail(fc->cmd, "%s", why);
    if (hi->max_chunk_elements == 0 || hi->max_message_bytes < 4 * ENVELOPE_ALLOWANCE)
        return psi_cmdline_fail(fc->cmd, "the hub's limits leave no room for feeds");
    psi_hub_client_set_max_message(fc->hub, hi->max_message_bytes);
    return 0;
}

static void hex_prefix(char out[17], const unsigned char *bytes)
{
    sodium_bin2hex(out, 17, bytes, 8);
}

/* ---------------------------------------------------------------- publish */

static int announce_key(struct feed_cmd *fc, const char *epoch, const unsigned char pk[32])
{
    unsigned char statement[PSI_FEED_STATEMENT_MAX], sig[64];
    size_t len = 0;
    struct psi_hub_failure f;
    if (psi_feed_key_statement(statement, sizeof statement, &len, fc->session.config.hub_key, epoch,
                               pk) ||
        crypto_sign_detached(sig, NULL, statement, len, fc->session.identity.secret_key) != 0)
        return psi_cmdline_fail(fc->cmd, "cannot sign the feed key");
    Psi__FeedAnnounce msg = PSI__FEED_ANNOUNCE__INIT;
    msg.epoch = (char *)epoch;
    msg.public_key.data = (uint8_t *)pk;
    msg.public_key.len = 32;
    msg.signature.data = sig;
    msg.signature.len = sizeof sig;
    Psi__FeedAnnounceReceipt *receipt = NULL;
    if (psi_hub_client_call(fc->hub, PSI_METHOD_NAME(FEED_ANNOUNCE), NULL, &msg.base,
                            &psi__feed_announce_receipt__descriptor, (ProtobufCMessage **)&receipt,
                            &f))
        return psi_cmdline_fail(fc->cmd, "%s", f.text);
    protobuf_c_message_free_unpacked(&receipt->base, NULL);
    return 0;
}

/* outputs[i] = F(k_v, member i), in slices with progress. */
static int evaluate_all(struct feed_cmd *fc, const unsigned char sk[32], unsigned char *outputs)
{
    size_t n = psi_ioc_set_count(fc->set);
    struct psi_cli_progress progress;
    int status = 0;
    psi_cli_progress_begin(&progress, fc->cmd, "evaluating", n);
    for (size_t begin = 0; begin < n; begin += SLICE) {
        size_t k = n - begin < SLICE ? n - begin : SLICE;
        struct psi_indicator_batch e;
        size_t bad = 0;
        int rc = psi_indicator_batch_from_set(&e, fc->set, begin, k);
        if (!rc)
            rc = psi_feed_evaluate_batch(sk, k, e.inputs, e.lens,
                                         outputs + begin * PSI_OPRF_OUTPUT_BYTES, &bad, 0);
        psi_indicator_batch_clear(&e);
        if (rc) {
            status = psi_cmdline_fail(fc->cmd, "cannot evaluate indicators %zu-%zu: %s", begin,
                                      begin + k - 1, psi_strerror(rc));
            break;
        }
        psi_cli_progress_add(&progress, k);
    }
    psi_cli_progress_end(&progress);
    return status;
}

/* Whether the hub holds this very filter as this vendor's feed of the epoch:
 * an earlier run was killed after the hub answered its commit, or the same
 * feed is published twice. A feed without its signed commit is never held
 * (the hub stores both in one transaction). */
static int hub_holds_feed(struct feed_cmd *fc, const char *epoch, size_t size,
                          const struct psi_feed_filter_info *info, int *holds)
{
    struct psi_hub_failure f;
    Psi__FeedGetRequest req = PSI__FEED_GET_REQUEST__INIT;
    Psi__FeedChunk *chunk = NULL;
    *holds = 0;
    req.vendor = (char *)fc->session.config.id;
    req.epoch = (char *)epoch;
    req.offset = 0;
    req.limit = 1;
    if (psi_hub_client_call(fc->hub, PSI_METHOD_NAME(FEED_GET), NULL, &req.base,
                            &psi__feed_chunk__descriptor, (ProtobufCMessage **)&chunk, &f)) {
        if (f.refused && f.code == PSI_ERR_NOT_FOUND)
            return 0; /* no feed of this epoch yet */
        return psi_cmdline_fail(fc->cmd, "%s", f.text);
    }
    const Psi__FeedInfo *fi = chunk->feed;
    *holds = fi && fi->digest.len == 32 && sodium_memcmp(fi->digest.data, info->digest, 32) == 0 &&
             fi->size == (uint64_t)size && fi->count == info->item_count && fi->rate == info->rate;
    protobuf_c_message_free_unpacked(&chunk->base, NULL);
    return 0;
}

/* Uploads the filter and commits it, unless the hub holds it already
 * (*held). The upload id is derived from the filter's digest, so a run
 * after one that was killed midway sends only the chunks the hub lacks
 * (psi_hub_client_upload), rather than staging the filter once more beside
 * the abandoned upload (which the hub would keep, counted against this
 * vendor's staging limit, for two days). */
static int upload_and_commit(struct feed_cmd *fc, const char *epoch, const unsigned char *bytes,
                             size_t size, const struct psi_feed_filter_info *info, int *held)
{
    unsigned char upload_id[16], statement[PSI_FEED_STATEMENT_MAX], sig[64];
    size_t len = 0;
    struct psi_hub_failure f;
    struct psi_cli_progress progress;
    int status = hub_holds_feed(fc, epoch, size, info, held);
    if (status || *held)
        return status;
    psi_feed_upload_id(upload_id, fc->session.config.hub_key, fc->session.config.id, info->digest);
    size_t chunk = fc->info->max_message_bytes - ENVELOPE_ALLOWANCE;
    psi_cli_progress_begin(&progress, fc->cmd, "uploading bytes", size);
    int rc = psi_hub_client_upload(fc->hub, upload_id, bytes, size, 1, chunk, &progress, &f);
    psi_cli_progress_end(&progress);
    if (rc)
        return psi_cmdline_fail(fc->cmd, "%s", f.text);
    if (psi_feed_commit_statement(statement, sizeof statement, &len, fc->session.config.hub_key,
                                  epoch, info->item_count, (uint64_t)size, info->digest) ||
        crypto_sign_detached(sig, NULL, statement, len, fc->session.identity.secret_key) != 0)
        return psi_cmdline_fail(fc->cmd, "cannot sign the feed");
    Psi__FeedCommit commit = PSI__FEED_COMMIT__INIT;
    commit.upload_id.data = upload_id;
    commit.upload_id.len = sizeof upload_id;
    commit.epoch = (char *)epoch;
    commit.count = info->item_count;
    commit.rate = info->rate;
    commit.size = size;
    commit.digest.data = (uint8_t *)info->digest;
    commit.digest.len = 32;
    commit.signature.data = sig;
    commit.signature.len = sizeof sig;
    Psi__FeedReceipt *receipt = NULL;
    if (psi_hub_client_call(fc->hub, PSI_METHOD_NAME(FEED_COMMIT), NULL, &commit.base,
                            &psi__feed_receipt__descriptor, (ProtobufCMessage **)&receipt, &f))
        return psi_cmdline_fail(fc->cmd, "%s", f.text);
    protobuf_c_message_free_unpacked(&receipt->base, NULL);
    return 0;
}

static int parse_rate(const char *text, double *rate)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= PSI_FEED_FILTER_MIN_RATE) ||
        !(v <= PSI_FEED_FILTER_MAX_RATE))
        return -1;
    *rate = v;
    return 0;
}

static int feed_publish(const char *dir, double rate, const struct psi_indicators_input *in,
                        int n_files, char **files)
{
    struct feed_cmd fc;
    memset(&fc, 0, sizeof fc);
    fc.cmd = "feed publish";
    unsigned char *outputs = NULL, *bytes = NULL;
    unsigned char sk[32], pk[32], seed[32];
    struct psi_feed_filter *filter = NULL;
    char path[4096], err[512];
    int status = feed_cmd_open(&fc, dir, n_files, files, in);
    if (status)
        goto out;
    const char *epoch = fc.info->epoch;
    size_t n = psi_ioc_set_count(fc.set);

    if (psi_cli_path(path, sizeof path, dir, PSI_CLI_SEED_FILE)) {
        status = psi_cmdline_fail(fc.cmd, "state directory path too long");
        goto out;
    }
    if (psi_cli_seed_read(path, seed, err, sizeof err)) {
        status = psi_cmdline_fail(fc.cmd, "%s", err);
        goto out;
    }
    int rc = psi_feed_derive_key(seed, epoch, sk, pk);
    sodium_memzero(seed, sizeof seed);
    if (rc) {
        status = psi_cmdline_fail(fc.cmd, "cannot derive the feed key of epoch %s: %s", epoch,
                                  psi_strerror(rc));
        goto out;
    }
    if ((status = announce_key(&fc, epoch, pk)) != 0)
        goto out;
    /* The vendor's agent answers queries of this epoch only from now on:
     * recorded before any agency can query the feed (feed.commit). */
    if ((status = psi_feed_agent_note_announced(fc.cmd, dir, epoch)) != 0)
        goto out;

    if (n > SIZE_MAX / PSI_OPRF_OUTPUT_BYTES || !(outputs = malloc(n * PSI_OPRF_OUTPUT_BYTES))) {
        status = psi_cmdline_fail(fc.cmd, "out of memory for %zu outputs", n);
        goto out;
    }
    if ((status = evaluate_all(&fc, sk, outputs)) != 0)
        goto out;
    struct psi_feed_filter_params params = {epoch, fc.session.config.id, pk, rate, 0};
    if (psi_feed_filter_build(&filter, &params, outputs, n, err, sizeof err) != 0) {
        status = psi_cmdline_fail(fc.cmd, "cannot build the filter: %s", err);
        goto out;
    }
    struct psi_feed_filter_info info;
    uint64_t size = 0;
    size_t len = 0;
    if (psi_feed_filter_get_info(filter, &info) || psi_feed_filter_encoded_size(filter, &size) ||
        size > SIZE_MAX || !(bytes = malloc((size_t)size)) ||
        psi_feed_filter_encode(filter, bytes, (size_t)size, &len)) {
        status = psi_cmdline_fail(fc.cmd, "cannot encode the filter (%" PRIu64 " bytes)", size);
        goto out;
    }
    int held = 0;
    if ((status = upload_and_commit(&fc, epoch, bytes, len, &info, &held)) != 0)
        goto out;
    char digest[17];
    hex_prefix(digest, info.digest);
    printf("psi feed publish: epoch %s: %zu indicators published: filter of %zu bytes in %" PRIu32
           " shard%s (%.2f bits per indicator), false-positive rate %g per query, digest "
           "%s...%s\n",
           epoch, n, len, info.shard_count, info.shard_count == 1 ? "" : "s",
           (double)info.total_bits / (double)n, info.rate, digest,
           held ? " (the hub held this feed already: nothing sent)" : "");
out:
    sodium_memzero(sk, sizeof sk);
    psi_feed_filter_free(filter);
    free(outputs);
    free(bytes);
    if (fflush(stdout) != 0 && !status)
        status = psi_cmdline_fail(fc.cmd, "cannot write to standard output");
    feed_cmd_close(&fc);
    return status;
}

/* ---------------------------------------------------------------- query */

/* What the hub says identifies the vendor's feed, checked against the
 * vendor's pinned key: its two signatures bind the key and the filter. */
static int check_feed_info(struct feed_cmd *fc, const Psi__FeedInfo *fi, const char *vendor,
                           const unsigned char vendor_key[32])
{
    unsigned char statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    if (!fi || !fi->vendor || strcmp(fi->vendor, vendor) != 0 || !fi->epoch ||
        strcmp(fi->epoch, fc->info->epoch) != 0 || fi->public_key.len != 32 ||
        fi->key_signature.len != 64 || fi->digest.len != 32 || fi->signature.len != 64 ||
        fi->size == 0 || fi->size > ((uint64_t)1 << 40) || fi->count == 0)
        return psi_cmdline_fail(fc->cmd, "the hub's description of %s's feed is malformed", vendor);
    if (psi_feed_key_statement(statement, sizeof statement, &len, fc->session.config.hub_key,
                               fi->epoch, fi->public_key.data) ||
        crypto_sign_verify_detached(fi->key_signature.data, statement, len, vendor_key) != 0)
        return psi_cmdline_fail(
            fc->cmd, "%s's feed key of epoch %s is not signed by %s's pinned key: refused", vendor,
            fi->epoch, vendor);
    if (psi_feed_commit_statement(statement, sizeof statement, &len, fc->session.config.hub_key,
                                  fi->epoch, fi->count, fi->size, fi->digest.data) ||
        crypto_sign_verify_detached(fi->signature.data, statement, len, vendor_key) != 0)
        return psi_cmdline_fail(fc->cmd,
                                "%s's feed of epoch %s is not signed by %s's pinned key: refused",
                                vendor, fi->epoch, vendor);
    return 0;
}

/* The vendor's key as this party pinned it through the log (peers.h), and
 * that the roster still shows it, an active vendor with that key. */
static int vendor_key_of(struct feed_cmd *fc, const char *vendor, unsigned char key[32])
{
    Psi__Roster *roster = NULL;
    struct psi_hub_failure f;
    if (psi_hub_client_call(fc->hub, PSI_METHOD_NAME(ROSTER), NULL, NULL, &psi__roster__descriptor,
                            (ProtobufCMessage **)&roster, &f))
        return psi_cmdline_fail(fc->cmd, "%s", f.text);
    struct psi_peers_tally tally;
    char why[PSI_LOG_WHY_MAX];
    if (psi_peers_update(&fc->session, fc->hub, roster, NULL, NULL, &tally, why, sizeof why)) {
        protobuf_c_message_free_unpacked(&roster->base, NULL);
        return psi_cmdline_fail(fc->cmd, "cannot verify admissions in the hub's log: %s", why);
    }
    struct psi_state_peer pinned;
    int status = -1;
    if (psi_state_peer_get(fc->session.state, vendor, &pinned) != 0) {
        status =
            psi_cmdline_fail(fc->cmd,
                             "%s is not a pinned peer: its admission is not proven in the hub's "
                             "log ('psi peers' says why)",
                             vendor);
        goto out;
    }
    for (size_t i = 0; i < roster->n_participants; i++) {
        const Psi__Participant *p = roster->participants[i];
        if (!p->id || strcmp(p->id, vendor) != 0)
            continue;
        if (psi_role_parse(pinned.role) != PSI_ROLE_VENDOR || p->removed)
            status = psi_cmdline_fail(fc->cmd, "%s is not an active vendor", vendor);
        else if (p->public_key.len != 32 ||
                 sodium_memcmp(p->public_key.data, pinned.public_key, 32) != 0)
            status =
                psi_cmdline_fail(fc->cmd,
                                 "the hub shows another key for %s than the one pinned from log "
                                 "entry %" PRIu64 ": refused",
                                 vendor, pinned.admit_index);
        else {
            memcpy(key, pinned.public_key, 32);
            status = 0;
        }
        break;
    }
    if (status < 0)
        status = psi_cmdline_fail(fc->cmd, "%s is not on the hub's roster", vendor);
out:
    protobuf_c_message_free_unpacked(&roster->base, NULL);
    return status;
}

static int make_dir(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* DIR/feeds/VENDOR/EPOCH.filter, its directories made. */
static int cache_path(struct feed_cmd *fc, const char *vendor, const char *epoch, char *out,
                      size_t cap)
{
    char feeds[4096], mine[4096], name[PSI_FEED_EPOCH_MAX + 16];
    snprintf(name, sizeof name, "%s.filter", epoch);
    if (psi_cli_path(feeds, sizeof feeds, fc->session.dir, FEEDS_DIR) ||
        psi_cli_path(mine, sizeof mine, feeds, vendor) || psi_cli_path(out, cap, mine, name))
        return psi_cmdline_fail(fc->cmd, "state directory path too long");
    if (make_dir(feeds) || make_dir(mine))
        return psi_cmdline_fail(fc->cmd, "cannot create %s: %s", mine, strerror(errno));
    return 0;
}

static int get_chunk(struct feed_cmd *fc, const char *vendor, uint64_t offset,
                     Psi__FeedChunk **chunk)
{
    struct psi_hub_failure f;
    Psi__FeedGetRequest req = PSI__FEED_GET_REQUEST__INIT;
    req.vendor = (char *)vendor;
    req.epoch = fc->info->epoch;
    req.offset = offset;
    req.limit = fc->info->max_message_bytes / 2 - ENVELOPE_ALLOWANCE;
    *chunk = NULL;
    if (psi_hub_client_call(fc->hub, PSI_METHOD_NAME(FEED_GET), NULL, &req.base,
                            &psi__feed_chunk__descriptor, (ProtobufCMessage **)chunk, &f))
        return psi_cmdline_fail(fc->cmd, "%s", f.text);
    if ((*chunk)->offset != offset || !(*chunk)->feed)
        return psi_cmdline_fail(fc->cmd, "the hub answered feed.get for another offset");
    return 0;
}

/* The vendor's filter of the epoch: from the cache when it is the one the
 * vendor signed, else fetched, checked and cached. *key gets the announced
 * VOPRF key the filter and the answers must match. */
static int fetch_filter(struct feed_cmd *fc, const char *vendor, struct psi_feed_filter **filter,
                        unsigned char key[32])
{
    unsigned char vendor_key[32];
    char path[4096], why[512] = "";
    Psi__FeedChunk *first = NULL, *chunk = NULL;
    unsigned char *bytes = NULL;
    int status;
    *filter = NULL;
    if ((status = vendor_key_of(fc, vendor, vendor_key)) != 0)
        return status;
    if ((status = get_chunk(fc, vendor, 0, &first)) != 0)
        goto out;
    const Psi__FeedInfo *fi = first->feed;
    if ((status = check_feed_info(fc, fi, vendor, vendor_key)) != 0)
        goto out;
    memcpy(key, fi->public_key.data, 32);
    struct psi_feed_filter_expect expect = {fi->epoch, vendor, key};
    if ((status = cache_path(fc, vendor, fi->epoch, path, sizeof path)) != 0)
        goto out;
    struct psi_feed_filter_info info;
    int rc = psi_feed_filter_load(filter, path, &expect, why, sizeof why);
    if (rc == 0 && psi_feed_filter_get_info(*filter, &info) == 0 &&
        sodium_memcmp(info.digest, fi->digest.data, 32) == 0)
        goto out; /* the cached filter is the published one */
    if (rc != 0 && rc != PSI_ERR_NOT_FOUND)
        psi_cmdline_note(fc->cmd, "the cached filter %s is refused (%s); fetching it again", path,
                         why);
    psi_feed_filter_free(*filter);
    *filter = NULL;

    if (fi->size > SIZE_MAX || !(bytes = malloc((size_t)fi->size))) {
        status =
            psi_cmdline_fail(fc->cmd, "out of memory for a filter of %" PRIu64 " bytes", fi->size);
        goto out;
    }
    struct psi_cli_progress progress;
    psi_cli_progress_begin(&progress, fc->cmd, "fetching the filter, bytes", fi->size);
    uint64_t have = 0;
    chunk = first;
    for (;;) {
        const Psi__FeedInfo *ci = chunk->feed;
        if (ci->digest.len != 32 || sodium_memcmp(ci->digest.data, fi->digest.data, 32) != 0 ||
            ci->size != fi->size) {
            status = psi_cmdline_fail(fc->cmd, "%s's feed changed while it was fetched; run again",
                                      vendor);
            break;
        }
        if (chunk->data.len == 0 || chunk->data.len > fi->size - have) {
            status = psi_cmdline_fail(
                fc->cmd, "the hub sent a feed chunk of %zu bytes at %" PRIu64 " of %" PRIu64,
                chunk->data.len, have, fi->size);
            break;
        }
        memcpy(bytes + have, chunk->data.data, chunk->data.len);
        have += chunk->data.len;
        psi_cli_progress_add(&progress, chunk->data.len);
        if (chunk != first)
            protobuf_c_message_free_unpacked(&chunk->base, NULL);
        chunk = NULL;
        if (have == fi->size)
            break;
        if ((status = get_chunk(fc, vendor, have, &chunk)) != 0)
            break;
    }
    psi_cli_progress_end(&progress);
    if (status)
        goto out;
    rc = psi_feed_filter_decode(filter, bytes, (size_t)fi->size, &expect, why, sizeof why);
    if (rc) {
        status = psi_cmdline_fail(fc->cmd, "%s's feed filter is refused: %s", vendor, why);
        goto out;
    }
    if (psi_feed_filter_get_info(*filter, &info) != 0 ||
        sodium_memcmp(info.digest, fi->digest.data, 32) != 0 || info.item_count != fi->count ||
        info.rate != fi->rate) {
        status = psi_cmdline_fail(fc->cmd, "%s's feed filter is not the one %s signed: refused",
                                  vendor, vendor);
        goto out;
    }
    if (psi_feed_filter_save(*filter, path, why, sizeof why))
        psi_cmdline_note(fc->cmd, "cannot cache the filter: %s", why);
out:
    if (status) {
        psi_feed_filter_free(*filter);
        *filter = NULL;
    }
    if (chunk && chunk != first)
        protobuf_c_message_free_unpacked(&chunk->base, NULL);
    if (first)
        protobuf_c_message_free_unpacked(&first->base, NULL);
    free(bytes);
    return status;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Polls query.result until the batch is answered or the timeout passes. */
static int wait_for_answer(struct feed_cmd *fc, const char *vendor, uint64_t query_id, size_t batch,
                           size_t batches, uint64_t timeout_s, Psi__QueryResult **result)
{
    struct psi_hub_failure f;
    Psi__QueryResultRequest req = PSI__QUERY_RESULT_REQUEST__INIT;
    req.query_id = query_id;
    double started = psi_cli_now();
    unsigned pause = 200;
    int terminal = isatty(fileno(stderr));
    *result = NULL;
    for (;;) {
        if (psi_hub_client_call(fc->hub, PSI_METHOD_NAME(QUERY_RESULT), NULL, &req.base,
                                &psi__query_result__descriptor, (ProtobufCMessage **)result, &f))
            return psi_cmdline_fail(fc->cmd, "%s", f.text);
        if ((*result)->answered)
            break;
        protobuf_c_message_free_unpacked(&(*result)->base, NULL);
        *result = NULL;
        double waited = psi_cli_now() - started;
        if (waited >= (double)timeout_s) {
            if (terminal)
                fputs("\r\033[K", stderr);
            return psi_cmdline_fail(fc->cmd,
                                    "no answer from %s to query batch %" PRIu64 " within %" PRIu64
                                    " s (is its agent running? it may also limit queries per "
                                    "agency); the batch stays counted against the quota",
                                    vendor, query_id, timeout_s);
        }
        if (terminal) {
            fprintf(stderr, "\rpsi %s: waiting for %s's answer to batch %zu/%zu (%.0f s)\033[K",
                    fc->cmd, vendor, batch, batches, waited);
            fflush(stderr);
        }
        sleep_ms(pause);
        pause = pause < 2000 ? pause * 2 : 2000;
    }
    if (terminal)
        fputs("\r\033[K", stderr);
    return 0;
}

static int print_found(const struct psi_ioc_ref *ref, const char *vendor, int json)
{
    if (!json)
        return printf("%-6s  %s\n", psi_ioc_type_name(ref->type), ref->value) < 0 ? -1 : 0;
    json_t *o = json_pack("{s:s, s:s, s:s}", "type", psi_ioc_type_name(ref->type), "value",
                          ref->value, "vendor", vendor);
    if (!o)
        return -1;
    int rc = json_dumpf(o, stdout, JSON_COMPACT) == 0 && putchar('\n') != EOF ? 0 : -1;
    json_decref(o);
    return rc;
}

/* A batch recorded in flight (state.h, "feed queries") is submitted, if
 * its ticket is not recorded yet, under its recorded request id: the hub
 * answers a resend with its first reply, so the batch is charged once. Then
 * its answer is awaited, verified against the vendor's announced key and
 * finalised; the outputs are kept and the batch, blinds and all, deleted in
 * one transaction. A resumed batch (from an earlier run) that gets no answer
 * in time is dropped, so that one never answered cannot hold every later
 * query up; a batch of this run stays recorded for the next. */
static int finish_batch(struct feed_cmd *fc, const char *vendor, const unsigned char key[32],
                        struct psi_state_feed_batch *b, int resumed, size_t batch, size_t batches,
                        uint64_t timeout_s)
{
    struct psi_hub_failure f;
    struct psi_state *st = fc->session.state;
    const char *epoch = fc->info->epoch;
    struct psi_indicator_batch e;
    Psi__QueryTicket *ticket = NULL;
    Psi__QueryResult *result = NULL;
    unsigned char *outputs = malloc(b->count * PSI_OPRF_OUTPUT_BYTES);
    int status = 0;
    memset(&e, 0, sizeof e);
    if (!outputs) {
        status = psi_cmdline_fail(fc->cmd, "out of memory");
        goto out;
    }
    if (b->query_id == 0) {
        Psi__QuerySubmit submit = PSI__QUERY_SUBMIT__INIT;
        submit.vendor = (char *)vendor;
        submit.epoch = (char *)epoch;
        submit.elements.data = b->blinded;
        submit.elements.len = b->count * 32;
        submit.signature.data = b->signature;
        submit.signature.len = sizeof b->signature;
        if (psi_hub_client_call(fc->hub, PSI_METHOD_NAME(QUERY_SUBMIT), b->request_id, &submit.base,
                                &psi__query_ticket__descriptor, (ProtobufCMessage **)&ticket, &f)) {
            /* The hub's verdict (over quota, ...): it did not charge the
             * batch and never will; anything else may have reached it. */
            if (f.refused && psi_hub_refusal_is_final(f.code))
                (void)psi_state_feed_pending_done(st, vendor, epoch, NULL);
            status = psi_cmdline_fail(fc->cmd, "%s", f.text);
            goto out;
        }
        if (ticket->count != b->count) {
            status =
                psi_cmdline_fail(fc->cmd, "the hub's ticket counts %" PRIu64 " queries, not %zu",
                                 ticket->count, b->count);
            goto out;
        }
        b->query_id = ticket->query_id;
        if (psi_state_feed_pending_ticket(st, vendor, epoch, b->query_id)) {
            status =
                psi_cmdline_fail(fc->cmd, "cannot record the ticket of query batch %" PRIu64 ": %s",
                                 b->query_id, psi_state_error(st));
            goto out;
        }
#ifdef PSI_TEST_HOOKS
        /* The test hook: die once the batch is charged, before its answer is
         * taken, as a killed run would (tests/e2e/feed.sh). */
        if (getenv("PSI_TEST_FEED_QUERY_EXIT_CHARGED") != NULL) {
            fprintf(stderr,
                    "psi %s: TEST HOOK PSI_TEST_FEED_QUERY_EXIT_CHARGED: exiting after "
                    "query batch %" PRIu64 " was charged\n",
                    fc->cmd, b->query_id);
            _exit(3);
        }
#endif
    }
    status = wait_for_answer(fc, vendor, b->query_id, batch, batches, timeout_s, &result);
    if (status) {
        if (resumed) {
            (void)psi_state_feed_pending_done(st, vendor, epoch, NULL);
            fprintf(stderr,
                    "psi %s: query batch %" PRIu64 " of an earlier run is dropped unanswered; "
                    "its %zu queries stay counted\n",
                    fc->cmd, b->query_id, b->count);
        }
        goto out;
    }
    if (!result->vendor || strcmp(result->vendor, vendor) != 0 || !result->epoch ||
        strcmp(result->epoch, epoch) != 0 || result->evaluated.len != b->count * 32 ||
        result->proof.len != 64) {
        status = psi_cmdline_fail(
            fc->cmd, "the answer to query batch %" PRIu64 " is malformed: refused", b->query_id);
        goto out;
    }
    int rc = psi_indicator_batch_from_list(&e, b->items, b->count);
    if (rc) {
        status = psi_cmdline_fail(fc->cmd, "cannot prepare the queries: %s", psi_strerror(rc));
        goto out;
    }
    /* RFC 9497 VOPRF: nothing of an answer is used unless its proof holds
     * against the key the vendor announced (and signed) for the epoch. */
    rc = psi_feed_finish_batch(key, b->count, e.inputs, e.lens, b->blinds, b->blinded,
                               result->evaluated.data, result->proof.data, outputs, 0);
    if (rc == PSI_ERR_VERIFY || rc == PSI_ERR_ENCODING || rc == PSI_ERR_IDENTITY) {
        (void)psi_state_feed_pending_done(st, vendor, epoch, NULL);
        status = psi_cmdline_fail(fc->cmd,
                                  "%s's answer to query batch %" PRIu64 " does not verify against "
                                  "its announced key of epoch %s: refused, nothing of it is used",
                                  vendor, b->query_id, epoch);
        goto out;
    }
    if (rc) {
        status = psi_cmdline_fail(fc->cmd, "cannot finish the queries: %s", psi_strerror(rc));
        goto out;
    }
    if (psi_state_feed_pending_done(st, vendor, epoch, outputs))
        status = psi_cmdline_fail(fc->cmd, "cannot keep the answers of query batch %" PRIu64 ": %s",
                                  b->query_id, psi_state_error(st));
out:
    psi_indicator_batch_clear(&e);
    if (outputs) {
        sodium_memzero(outputs, b->count * PSI_OPRF_OUTPUT_BYTES);
        free(outputs);
    }
    if (ticket)
        protobuf_c_message_free_unpacked(&ticket->base, NULL);
    if (result)
        protobuf_c_message_free_unpacked(&result->base, NULL);
    return status;
}

/* One new batch of the indicators of the set at idx[0..n): blind with fresh
 * blinds, sign, record in flight (before anything is sent), then finish. */
static int query_batch(struct feed_cmd *fc, const char *vendor, const unsigned char key[32],
                       const size_t *idx, size_t n, size_t batch, size_t batches,
                       uint64_t timeout_s)
{
    if (n == 0) /* nothing to ask: no batch, no charge */
        return 0;
    struct psi_indicator_batch e;
    struct psi_state_feed_batch b;
    int status = 0;
    memset(&e, 0, sizeof e);
    memset(&b, 0, sizeof b);
    b.count = n;
    b.blinds = sodium_malloc(n * 32);
    b.blinded = malloc(n * 32);
    b.items = calloc(n, sizeof *b.items);
    if (!b.blinds || !b.blinded || !b.items) {
        status = psi_cmdline_fail(fc->cmd, "cannot prepare the queries: %s",
                                  psi_strerror(PSI_ERR_NOMEM));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct psi_ioc_ref ref;
        if (psi_ioc_set_get(fc->set, idx[i], &ref)) {
            status = psi_cmdline_fail(fc->cmd, "cannot read the indicators");
            goto out;
        }
        b.items[i].type = strdup(psi_ioc_type_name(ref.type));
        b.items[i].value = strdup(ref.value);
        if (!b.items[i].type || !b.items[i].value) {
            status = psi_cmdline_fail(fc->cmd, "out of memory");
            goto out;
        }
    }
    int rc = psi_indicator_batch_from_list(&e, b.items, n);
    if (rc) {
        status = psi_cmdline_fail(fc->cmd, "cannot prepare the queries: %s", psi_strerror(rc));
        goto out;
    }
    if ((rc = psi_feed_blind_batch(n, e.inputs, e.lens, b.blinds, b.blinded, 0)) != 0) {
        status = psi_cmdline_fail(fc->cmd, "cannot blind the queries: %s", psi_strerror(rc));
        goto out;
    }
    unsigned char digest[32], statement[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    if (psi_feed_query_digest(b.blinded, n, digest) ||
        psi_feed_query_statement(statement, sizeof statement, &len, fc->session.config.hub_key,
                                 vendor, fc->info->epoch, n, digest) ||
        crypto_sign_detached(b.signature, NULL, statement, len, fc->session.identity.secret_key) !=
            0) {
        status = psi_cmdline_fail(fc->cmd, "cannot sign the query batch");
        goto out;
    }
    memcpy(b.vendor_key, key, 32);
    randombytes_buf(b.request_id, sizeof b.request_id);
    if (psi_state_feed_pending_record(fc->session.state, vendor, fc->info->epoch, &b)) {
        status = psi_cmdline_fail(fc->cmd, "cannot record the query batch: %s",
                                  psi_state_error(fc->session.state));
        goto out;
    }
    status = finish_batch(fc, vendor, key, &b, 0, batch, batches, timeout_s);
out:
    psi_indicator_batch_clear(&e);
    psi_state_feed_batch_clear(&b); /* the blinds wiped */
    return status;
}

static int feed_query(const char *dir, const char *vendor, int json, uint64_t timeout_s,
                      const struct psi_indicators_input *in, int n_files, char **files)
{
    struct feed_cmd fc;
    memset(&fc, 0, sizeof fc);
    fc.cmd = "feed query";
    struct psi_feed_filter *filter = NULL;
    unsigned char key[32];
    size_t found = 0;
    size_t *todo = NULL;
    int status = feed_cmd_open(&fc, dir, n_files, files, in);
    if (status)
        goto out;
    if ((status = fetch_filter(&fc, vendor, &filter, key)) != 0)
        goto out;
    struct psi_state *st = fc.session.state;
    const char *epoch = fc.info->epoch;
    /* A batch a killed run left in flight: of an epoch that is over, it
     * can no longer be used; of this one, it is finished first, without
     * being charged again. */
    char other[PSI_STATE_EPOCH_MAX + 1];
    while (psi_state_feed_pending_other_epoch(st, vendor, epoch, other) == 0) {
        fprintf(stderr,
                "psi %s: dropping the query batch to %s left in flight in epoch %s, "
                "which is over\n",
                fc.cmd, vendor, other);
        if (psi_state_feed_pending_done(st, vendor, other, NULL)) {
            status = psi_cmdline_fail(fc.cmd, "%s", psi_state_error(st));
            goto out;
        }
    }
    struct psi_state_feed_batch pending;
    int rc = psi_state_feed_pending_get(st, vendor, epoch, &pending);
    if (rc == 0) {
        if (sodium_memcmp(pending.vendor_key, key, 32) != 0) {
            fprintf(stderr,
                    "psi %s: dropping the query batch left in flight: it was made for "
                    "another key of %s\n",
                    fc.cmd, vendor);
            rc = psi_state_feed_pending_done(st, vendor, epoch, NULL);
        } else {
            fprintf(stderr,
                    "psi %s: resuming query batch %" PRIu64 " (%zu queries) of an "
                    "earlier run, already counted\n",
                    fc.cmd, pending.query_id, pending.count);
            status = finish_batch(&fc, vendor, key, &pending, 1, 0, 0, timeout_s);
        }
        psi_state_feed_batch_clear(&pending);
        if (status)
            goto out;
    }
    if (rc && rc != PSI_ERR_NOT_FOUND) {
        status = psi_cmdline_fail(fc.cmd, "%s", psi_state_error(st));
        goto out;
    }
    /* What this state was answered already in the epoch costs nothing. */
    size_t n = psi_ioc_set_count(fc.set), todo_n = 0;
    todo = malloc((n ? n : 1) * sizeof *todo);
    if (!todo) {
        status = psi_cmdline_fail(fc.cmd, "out of memory");
        goto out;
    }
    unsigned char output[PSI_STATE_FEED_OUTPUT_BYTES];
    for (size_t i = 0; i < n; i++) {
        struct psi_ioc_ref ref;
        if (psi_ioc_set_get(fc.set, i, &ref)) {
            status = psi_cmdline_fail(fc.cmd, "cannot read the indicators");
            goto out;
        }
        rc = psi_state_feed_answer_get(st, vendor, epoch, key, psi_ioc_type_name(ref.type),
                                       ref.value, output);
        if (rc == PSI_ERR_NOT_FOUND)
            todo[todo_n++] = i;
        else if (rc) {
            status = psi_cmdline_fail(fc.cmd, "%s", psi_state_error(st));
            goto out;
        }
    }
    size_t per = fc.info->max_chunk_elements;
    size_t by_size = (fc.info->max_message_bytes - ENVELOPE_ALLOWANCE) / 32;
    if (per > by_size)
        per = by_size;
    if (per > PSI_VOPRF_MAX_BATCH)
        per = PSI_VOPRF_MAX_BATCH;
    size_t batches = (todo_n + per - 1) / per;
    for (size_t b = 0; b < batches; b++) {
        size_t begin = b * per, k = todo_n - begin < per ? todo_n - begin : per;
        status = query_batch(&fc, vendor, key, todo + begin, k, b + 1, batches, timeout_s);
        if (status)
            goto out;
    }
    /* Every answer, kept in the state, against the filter, in the set's order. */
    for (size_t i = 0; i < n; i++) {
        struct psi_ioc_ref ref;
        if (psi_ioc_set_get(fc.set, i, &ref) ||
            psi_state_feed_answer_get(st, vendor, epoch, key, psi_ioc_type_name(ref.type),
                                      ref.value, output)) {
            status = psi_cmdline_fail(fc.cmd, "cannot read the answers kept in the state: %s",
                                      psi_state_error(st));
            goto out;
        }
        if (psi_feed_filter_contains(filter, output) != 1)
            continue;
        if (print_found(&ref, vendor, json)) {
            status = psi_cmdline_fail(fc.cmd, "cannot write to standard output");
            goto out;
        }
        found++;
    }
    sodium_memzero(output, sizeof output);
    struct psi_feed_filter_info info;
    if (psi_feed_filter_get_info(filter, &info) != 0) {
        status = psi_cmdline_fail(fc.cmd, "cannot read the filter");
        goto out;
    }
    if (fflush(stdout) != 0) {
        status = psi_cmdline_fail(fc.cmd, "cannot write to standard output");
        goto out;
    }
    /* The summary: on stdout with the text, on stderr beside JSON. */
    fprintf(json ? stderr : stdout,
            "psi feed query: %zu of %zu indicators are in %s's feed of epoch %s (%" PRIu64
            " items); false-positive rate %g per query, so about %.2g of these may be false "
            "positives (%zu asked now, %zu answered earlier in the epoch: not counted again)\n",
            found, n, vendor, info.epoch, info.item_count, info.rate, (double)n * info.rate, todo_n,
            n - todo_n);
out:
    free(todo);
    psi_feed_filter_free(filter);
    if (fflush(stdout) != 0 && !status)
        status = psi_cmdline_fail(fc.cmd, "cannot write to standard output");
    feed_cmd_close(&fc);
    return status;
}

/* ---------------------------------------------------------------- the command */

static int cmd_publish(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&publish_command, argc, argv, &args, &status))
        return status;
    double rate = PSI_FEED_FILTER_DEFAULT_RATE;
    const char *rate_text = args.value[PUBLISH_FPR];
    if (rate_text && parse_rate(rate_text, &rate))
        return psi_cmdline_usage_error(
            publish_command.name, "--fpr wants a rate in [%g, %g], not '%s'",
            PSI_FEED_FILTER_MIN_RATE, PSI_FEED_FILTER_MAX_RATE, rate_text);
    struct psi_indicators_input in = {.all_attributes = args.given[PUBLISH_ALL_ATTRIBUTES],
                                      .exclude = args.value[PUBLISH_EXCLUDE]};
    if ((status = psi_indicators_format_option(publish_command.name, args.value[PUBLISH_FORMAT],
                                               &in.format)) != 0)
        return status;
    return feed_publish(args.value[PUBLISH_STATE], rate, &in, args.operand_count, args.operands);
}

static int cmd_query(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&query_command, argc, argv, &args, &status))
        return status;
    uint64_t timeout_s = DEFAULT_TIMEOUT_S;
    if ((status =
             psi_cmdline_option_u64(&query_command, &args, QUERY_TIMEOUT, 1, 86400, &timeout_s)))
        return status;
    const char *vendor = args.value[QUERY_VENDOR];
    if (!psi_id_is_valid(vendor))
        return psi_cmdline_usage_error(query_command.name, "'%s' is not a participant id", vendor);
    struct psi_indicators_input in = {.format = PSI_IOC_FORMAT_AUTO};
    if ((status = psi_indicators_format_option(query_command.name, args.value[QUERY_FORMAT],
                                               &in.format)) != 0)
        return status;
    return feed_query(args.value[QUERY_STATE], vendor, args.given[QUERY_JSON], timeout_s, &in,
                      args.operand_count, args.operands);
}

static const struct psi_cmdline_subcommand feed_subcommands[] = {
    {"publish", cmd_publish, "evaluate a vendor's indicators and publish them as a filter"},
    {"query", cmd_query, "ask which of my indicators are in a vendor's feed"},
};

static const struct psi_cmdline_group feed_group = {
    .name = "feed",
    .about = "Blinded vendor feeds (protocol 2, docs/feeds.md): a vendor publishes its\n"
             "indicators once per epoch; agencies query them, blinded, through the hub.\n",
    PSI_CMDLINE_SUBCOMMANDS(feed_subcommands),
};

int psi_cmd_feed(int argc, char **argv)
{
    return psi_cmdline_dispatch(&feed_group, argc, argv);
}
