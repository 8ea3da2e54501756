/*
 * gen_seeds: writes the seed corpora of the fuzz targets at run time, so that
 * no generated message and no copy of a real indicator file is committed.
 *
 *     gen_seeds OUTDIR [stix=FILE | misp=FILE | text=FILE]...
 *
 * For every target it writes valid inputs made with the project's own
 * encoders and the fixture keys of fuzz.h: sealed and signed requests, reply
 * messages, every protobuf message with every field set, signed notes,
 * checkpoints and receipts, proofs, log entries of every kind and a tile
 * bundle, key files and key strings, feed filters, a client state database,
 * and a body for every hub method. Real indicator files given on the command
 * line become small seeds: STIX and MISP documents are cut down (every array
 * longer than 3 elements keeps a sliding window of 3), and lines of text files
 * become values for the canonicaliser. Seeds go to OUTDIR/<target>/.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "envelope.h"
#include "fuzz.h"
#include "fuzz_proto_messages.h"
#include "psi/blind.h"
#include "psi/checkpoint.h"
#include "psi/error.h"
#include "psi/feedfilter.h"
#include "psi/indicator.h"
#include "psi/logentry.h"
#include "psi/tiles.h"
#include "wire.h"
#include "state.h"

static const char *out_dir;
static unsigned seed_counter;

static void die(const char *what)
{
    fprintf(stderr, "gen_seeds: %s\n", what);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "gen_seeds: %s: %s\n", what, psi_strerror(rc));
        exit(1);
    }
}

static void target_dir(char *path, size_t cap, const char *target)
{
    snprintf(path, cap, "%s/%s", out_dir, target);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        die(path);
}

/* Writes one seed; seeds are numbered so that names never collide. */
static void write_seed(const char *target, const void *bytes, size_t len)
{
    char path[4096];
    target_dir(path, sizeof path, target);
    size_t at = strlen(path);
    snprintf(path + at, sizeof path - at, "/gen-%05u", seed_counter++);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(bytes, 1, len, f) != len || fclose(f) != 0)
        die(path);
}

/* A seed of a target whose first byte chooses a mode or a type. */
static void seed_with_byte(const char *target, uint8_t first, const void *bytes, size_t len)
{
    uint8_t *buf = malloc(len + 1);
    if (buf == NULL)
        die("out of memory");
    buf[0] = first;
    if (len > 0)
        memcpy(buf + 1, bytes, len);
    write_seed(target, buf, len + 1);
    free(buf);
}

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *out = malloc(*len + 1);
    if (out == NULL)
        die("out of memory");
    protobuf_c_message_pack(msg, out);
    return out;
}

/* ------------------------------------------------------------ protobuf */

/* A message of any type with every field set (repeated fields twice,
 * nested messages to depth 3), made through protobuf-c's reflection so that
 * a message added to psi.proto gets a seed without a change here. */
static ProtobufCMessage *filled(const ProtobufCMessageDescriptor *d, unsigned depth)
{
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    if (m == NULL)
        die("out of memory");
    d->message_init(m);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth == 0)
            continue;
        size_t n = f->label == PROTOBUF_C_LABEL_REPEATED ? 2 : 1, size;
        switch (f->type) {
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
        case PROTOBUF_C_TYPE_DOUBLE: size = 8; break;
        case PROTOBUF_C_TYPE_STRING:
        case PROTOBUF_C_TYPE_MESSAGE: size = sizeof(void *); break;
        case PROTOBUF_C_TYPE_BYTES: size = sizeof(ProtobufCBinaryData); break;
        case PROTOBUF_C_TYPE_BOOL: size = sizeof(protobuf_c_boolean); break;
        default: size = 4; break;
        }
        unsigned char *at = (unsigned char *)m + f->offset;
        if (n > 1) {
            unsigned char *array = calloc(n, size);
            if (array == NULL)
                die("out of memory");
            memcpy(at, &array, sizeof array);
            memcpy((unsigned char *)m + f->quantifier_offset, &n, sizeof n);
            at = array;
        }
        for (size_t j = 0; j < n; j++, at += size) {
            uint64_t one = 1 + j;
            uint32_t one32 = (uint32_t)one;
            ProtobufCBinaryData bytes = {32, malloc(32)};
            char *text = strdup(j == 0 ? "agency-a" : FUZZ_EPOCH);
            ProtobufCMessage *sub;
            switch (f->type) {
            case PROTOBUF_C_TYPE_STRING:
                memcpy(at, &text, sizeof text);
                text = NULL;
                break;
            case PROTOBUF_C_TYPE_BYTES:
                if (bytes.data == NULL)
                    die("out of memory");
                memset(bytes.data, (int)(0x30 + i), 32);
                memcpy(at, &bytes, sizeof bytes);
                bytes.data = NULL;
                break;
            case PROTOBUF_C_TYPE_MESSAGE:
                sub = filled(f->descriptor, depth - 1);
                *(ProtobufCMessage **)at = sub; /* a message field is a pointer */
                break;
            default:
                if (size == 8)
                    memcpy(at, &one, 8);
                else
                    memcpy(at, &one32, size);
                break;
            }
            free(text);
            free(bytes.data);
        }
    }
    return m;
}

static void proto_seeds(void)
{
    size_t count = sizeof fuzz_proto_messages / sizeof fuzz_proto_messages[0];
    for (size_t i = 0; i < count; i++) {
        ProtobufCMessage *m = filled(fuzz_proto_messages[i], 3);
        size_t len;
        uint8_t *bytes = pack(m, &len);
        seed_with_byte("fuzz_proto_unpack", (uint8_t)i, bytes, len);
        seed_with_byte("fuzz_proto_unpack", (uint8_t)i, NULL, 0);
        free(bytes);
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

/* ------------------------------------------------------------ hub, envelope */

/* Appends one request record of fuzz_hub_request (fuzz.h) to rec. */
static void hub_record(uint8_t *rec, size_t *len, const char *method, enum fuzz_party sender,
                       const uint8_t *body, size_t body_len)
{
    unsigned i = 0;
    while (i < FUZZ_HUB_METHOD_COUNT && strcmp(fuzz_hub_method(i), method) != 0)
        i++;
    if (i == FUZZ_HUB_METHOD_COUNT || body_len > 0xffff)
        die(method);
    rec[*len] = (uint8_t)i;
    rec[*len + 1] = (uint8_t)sender;
    rec[*len + 2] = (uint8_t)(body_len >> 8);
    rec[*len + 3] = (uint8_t)body_len;
    if (body_len > 0)
        memcpy(rec + *len + FUZZ_HUB_RECORD_HEADER, body, body_len);
    *len += FUZZ_HUB_RECORD_HEADER + body_len;
}

struct body {
    const char *method;
    enum fuzz_party sender;
    uint8_t *bytes;
    size_t len;
};

static void add_body(struct body *b, size_t *n, const char *method, enum fuzz_party sender,
                     const ProtobufCMessage *msg)
{
    b[*n].method = method;
    b[*n].sender = sender;
    b[*n].bytes = pack(msg, &b[*n].len);
    ++*n;
}

static void u64be(unsigned char out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(v >> (56 - 8 * i));
}

/* Ed25519(signer, context 0x00 part1 part2 ...): the signatures psi.proto
 * defines for commits, announcements and query batches. */
static void sign_parts(unsigned char sig[64], const struct psi_identity *signer,
                       const char *context, const void *const *parts, const size_t *lens,
                       size_t count)
{
    unsigned char message[512];
    size_t len = strlen(context) + 1;
    memcpy(message, context, len);
    for (size_t i = 0; i < count; i++) {
        if (len + lens[i] > sizeof message)
            die("signed message too long");
        memcpy(message + len, parts[i], lens[i]);
        len += lens[i];
    }
    crypto_sign_detached(sig, NULL, message, len, signer->secret_key);
}

/* A feed filter of the fixture vendor, its key and epoch (malloc'd). */
static unsigned char *feed_filter_bytes(size_t count, double rate, size_t *len)
{
    static unsigned char outputs[200 * PSI_FEED_FILTER_ITEM_BYTES];
    unsigned char key[32];
    fuzz_vendor_key(key);
    if (count > 200)
        die("too many feed items");
    for (size_t i = 0; i < sizeof outputs; i++)
        outputs[i] = (unsigned char)(i * 131 + i / 64);
    const struct psi_feed_filter_params params = {FUZZ_EPOCH, FUZZ_VENDOR_NAME, key, rate,
                                                  PSI_FEED_FILTER_MIN_TARGET_SHARD_BITS};
    struct psi_feed_filter *filter = NULL;
    char err[256];
    uint64_t size = 0;
    check(psi_feed_filter_build(&filter, &params, outputs, count, err, sizeof err), err);
    check(psi_feed_filter_encoded_size(filter, &size), "a filter's size");
    unsigned char *bytes = malloc((size_t)size);
    if (bytes == NULL)
        die("out of memory");
    check(psi_feed_filter_encode(filter, bytes, (size_t)size, len), "encoding a filter");
    psi_feed_filter_free(filter);
    return bytes;
}

/* A body for every method, from the sender that may call it. The upload,
 * submission, feed announcement and feed carry true digests and
 * signatures, so the hub target starts from requests the hub accepts. */
static size_t hub_bodies(struct body *b, const struct psi_identity *party)
{
    size_t n = 0;
    const unsigned char *hub_key = party[FUZZ_HUB].public_key;
    unsigned char upload_id[16], feed_upload_id[16], elements[3 * 32], digest[32], sig[64];
    unsigned char vendor_key[32], key_sig[64], feed_sig[64];
    memset(upload_id, 'U', sizeof upload_id);
    memset(feed_upload_id, 'F', sizeof feed_upload_id);
    for (size_t i = 0; i < 3; i++) {
        unsigned char h[64];
        memset(h, (int)i + 1, sizeof h);
        crypto_core_ristretto255_from_hash(elements + 32 * i, h);
    }
    hub_test_submission_digest(FUZZ_EPOCH, "agency-a", 3, elements, digest);
    hub_test_submission_sign(party[FUZZ_AGENCY].secret_key, hub_key, digest, sig);
    fuzz_vendor_key(vendor_key);
    const void *key_parts[] = {hub_key, FUZZ_EPOCH, "", vendor_key};
    const size_t key_lens[] = {32, strlen(FUZZ_EPOCH), 1, 32};
    sign_parts(key_sig, &party[FUZZ_VENDOR], "psi/feed-key-sig/v1", key_parts, key_lens, 4);
    size_t filter_len = 0;
    unsigned char *filter = feed_filter_bytes(200, 0, &filter_len);
    unsigned char count_be[8], size_be[8];
    u64be(count_be, 200);
    u64be(size_be, filter_len);
    const void *feed_parts[] = {hub_key,  FUZZ_EPOCH, "",
                                count_be, size_be,    filter + filter_len - 32};
    const size_t feed_lens[] = {32, strlen(FUZZ_EPOCH), 1, 8, 8, 32};
    sign_parts(feed_sig, &party[FUZZ_VENDOR], "psi/feed-sig/v1", feed_parts, feed_lens, 6);

    Psi__Empty empty = PSI__EMPTY__INIT;
    Psi__UploadChunk chunk = PSI__UPLOAD_CHUNK__INIT;
    chunk.upload_id = (ProtobufCBinaryData){16, upload_id};
    chunk.items = (ProtobufCBinaryData){sizeof elements, elements};
    Psi__SubmitCommit commit = PSI__SUBMIT_COMMIT__INIT;
    commit.upload_id = chunk.upload_id;
    commit.epoch = (char *)FUZZ_EPOCH;
    commit.count = 3;
    commit.digest = (ProtobufCBinaryData){32, digest};
    commit.signature = (ProtobufCBinaryData){64, sig};
    commit.indicator_rules = PSI_IOC_RULES_VERSION;
    commit.mutual_suite = psi_mutual_suite();
    Psi__FetchRequest fetch = PSI__FETCH_REQUEST__INIT;
    fetch.submission_id = 1;
    fetch.limit = 16;
    Psi__CrossBlindCommit cb = PSI__CROSS_BLIND_COMMIT__INIT;
    cb.upload_id = chunk.upload_id;
    cb.submission_id = 1;
    cb.count = 3;
    cb.tag_digest = commit.digest;
    cb.signature = commit.signature;
    cb.mutual_suite = psi_mutual_suite();
    Psi__ResultsRequest results = PSI__RESULTS_REQUEST__INIT;
    results.participant = (char *)"agency-a";
    results.epoch = (char *)FUZZ_EPOCH;
    Psi__StatusRequest status = PSI__STATUS_REQUEST__INIT;
    status.epoch = (char *)FUZZ_EPOCH;
    Psi__LogEntriesRequest entries = PSI__LOG_ENTRIES_REQUEST__INIT;
    entries.count = 4;
    Psi__LogInclusionRequest inclusion = PSI__LOG_INCLUSION_REQUEST__INIT;
    inclusion.tree_size = 1;
    Psi__LogConsistencyRequest consistency = PSI__LOG_CONSISTENCY_REQUEST__INIT;
    consistency.old_size = 1;
    consistency.new_size = 2;
    Psi__FeedAnnounce announce = PSI__FEED_ANNOUNCE__INIT;
    announce.epoch = (char *)FUZZ_EPOCH;
    announce.public_key = (ProtobufCBinaryData){32, vendor_key};
    announce.signature = (ProtobufCBinaryData){64, key_sig};
    Psi__UploadChunk feed_chunk = PSI__UPLOAD_CHUNK__INIT;
    feed_chunk.upload_id = (ProtobufCBinaryData){16, feed_upload_id};
    feed_chunk.items = (ProtobufCBinaryData){filter_len, filter};
    Psi__FeedCommit feed = PSI__FEED_COMMIT__INIT;
    feed.upload_id = feed_chunk.upload_id;
    feed.epoch = (char *)FUZZ_EPOCH;
    feed.count = 200;
    feed.rate = PSI_FEED_FILTER_DEFAULT_RATE;
    feed.size = filter_len;
    feed.digest = (ProtobufCBinaryData){32, filter + filter_len - 32};
    feed.signature = (ProtobufCBinaryData){64, feed_sig};
    Psi__FeedGetRequest get = PSI__FEED_GET_REQUEST__INIT;
    get.vendor = (char *)FUZZ_VENDOR_NAME;
    get.epoch = (char *)FUZZ_EPOCH;
    get.limit = 4096;
    unsigned char query_digest[32], query_sig[64], three[8];
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)"psi/query/v1", 13); /* with its NUL */
    crypto_hash_sha256_update(&h, elements, sizeof elements);
    crypto_hash_sha256_final(&h, query_digest);
    u64be(three, 3);
    const void *query_parts[] = {hub_key, FUZZ_VENDOR_NAME, "", FUZZ_EPOCH, "",
                                 three,   query_digest};
    const size_t query_lens[] = {32, strlen(FUZZ_VENDOR_NAME), 1, strlen(FUZZ_EPOCH), 1, 8, 32};
    sign_parts(query_sig, &party[FUZZ_AGENCY], "psi/query-sig/v1", query_parts, query_lens, 7);
    Psi__QuerySubmit query = PSI__QUERY_SUBMIT__INIT;
    query.vendor = (char *)FUZZ_VENDOR_NAME;
    query.epoch = (char *)FUZZ_EPOCH;
    query.elements = chunk.items;
    query.signature = (ProtobufCBinaryData){64, query_sig};
    /* The vendor's answer to that batch, proven: the hub verifies it. */
    unsigned char vendor_sk[32], evaluated[sizeof elements], proof[PSI_OPRF_PROOF_BYTES];
    fuzz_vendor_keypair(vendor_sk, vendor_key);
    for (size_t i = 0; i < 3; i++)
        check(psi_oprf_blind_evaluate(vendor_sk, elements + 32 * i, evaluated + 32 * i),
              "evaluating a query");
    check(psi_voprf_prove(vendor_sk, vendor_key, 3, elements, evaluated, NULL, proof),
          "proving an answer");
    sodium_memzero(vendor_sk, sizeof vendor_sk);
    Psi__QueryAnswer answer = PSI__QUERY_ANSWER__INIT;
    answer.query_id = 1;
    answer.evaluated = (ProtobufCBinaryData){sizeof evaluated, evaluated};
    answer.proof = (ProtobufCBinaryData){sizeof proof, proof};
    Psi__QueryResultRequest result = PSI__QUERY_RESULT_REQUEST__INIT;
    result.query_id = 1;
    /* The agency's own policy (share with all), signed as the hub checks it. */
    struct psi_logentry_party_policy own;
    memset(&own, 0, sizeof own);
    snprintf(own.participant, sizeof own.participant, "%s", fuzz_party_name(FUZZ_AGENCY));
    own.issued_ms = 1700000000000ULL;
    own.share_all = 1;
    unsigned char statement[PSI_POLICY_STATEMENT_MAX], policy_sig[64];
    size_t statement_len = 0;
    check(psi_policy_statement(statement, sizeof statement, &statement_len, hub_key, &own),
          "a policy statement");
    crypto_sign_detached(policy_sig, NULL, statement, statement_len, party[FUZZ_AGENCY].secret_key);
    Psi__PolicySet policy = PSI__POLICY_SET__INIT;
    policy.issued_ms = own.issued_ms;
    policy.share_all = 1;
    policy.signature = (ProtobufCBinaryData){sizeof policy_sig, policy_sig};

    /* In the order of the stories envelope_seeds makes, 8 requests each: a
     * feed published and queried, a submission and its results, the log. */
    add_body(b, &n, "feed.announce", FUZZ_VENDOR, &announce.base);
    add_body(b, &n, "upload.chunk", FUZZ_VENDOR, &feed_chunk.base);
    add_body(b, &n, "feed.commit", FUZZ_VENDOR, &feed.base);
    add_body(b, &n, "feed.get", FUZZ_AGENCY, &get.base);
    add_body(b, &n, "query.submit", FUZZ_AGENCY, &query.base);
    add_body(b, &n, "query.work", FUZZ_VENDOR, &empty.base);
    add_body(b, &n, "query.answer", FUZZ_VENDOR, &answer.base);
    add_body(b, &n, "query.result", FUZZ_AGENCY, &result.base);
    add_body(b, &n, "upload.chunk", FUZZ_AGENCY, &chunk.base);
    add_body(b, &n, "submit.commit", FUZZ_AGENCY, &commit.base);
    add_body(b, &n, "work.list", FUZZ_AGENCY, &empty.base);
    add_body(b, &n, "work.fetch", FUZZ_AGENCY, &fetch.base);
    add_body(b, &n, "crossblind.commit", FUZZ_AGENCY, &cb.base);
    add_body(b, &n, "results", FUZZ_AGENCY, &results.base);
    add_body(b, &n, "status", FUZZ_AGENCY, &status.base);
    add_body(b, &n, "info", FUZZ_AGENCY, &empty.base);
    add_body(b, &n, "roster", FUZZ_AUDITOR, &empty.base);
    add_body(b, &n, "log.checkpoint", FUZZ_AGENCY, &empty.base);
    add_body(b, &n, "log.entries", FUZZ_AUDITOR, &entries.base);
    add_body(b, &n, "log.inclusion", FUZZ_AGENCY, &inclusion.base);
    add_body(b, &n, "log.consistency", FUZZ_AUDITOR, &consistency.base);
    add_body(b, &n, "policy.set", FUZZ_AGENCY, &policy.base);
    add_body(b, &n, FUZZ_HUB_UNKNOWN_METHOD, FUZZ_AGENCY, &empty.base);
    free(filter);
    return n;
}

static void envelope_seeds(void)
{
    struct psi_identity party[FUZZ_PARTY_COUNT];
    for (unsigned i = 0; i < FUZZ_PARTY_COUNT; i++)
        fuzz_identity(&party[i], (enum fuzz_party)i);
    const struct psi_identity *hub = &party[FUZZ_HUB];
    unsigned char request_id[PSI_REQUEST_ID_BYTES], hub_x_pk[32], hub_x_sk[32];
    fuzz_request_id(request_id);
    if (crypto_sign_ed25519_pk_to_curve25519(hub_x_pk, hub->public_key) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(hub_x_sk, hub->secret_key) != 0)
        die("hub key conversion");

    struct body bodies[32];
    size_t n = hub_bodies(bodies, party), story_len = 0, total = 0;
    for (size_t i = 0; i < n; i++)
        total += FUZZ_HUB_RECORD_HEADER + bodies[i].len;
    /* One seed per request, and the whole story in order, 8 requests an
     * input: uploads before their commits, a feed before its queries. */
    uint8_t *story = malloc(total);
    if (story == NULL)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t one_len = 0;
        uint8_t *one = malloc(FUZZ_HUB_RECORD_HEADER + bodies[i].len);
        if (one == NULL)
            die("out of memory");
        hub_record(one, &one_len, bodies[i].method, bodies[i].sender, bodies[i].bytes,
                   bodies[i].len);
        write_seed("fuzz_hub_request", one, one_len);
        free(one);
        hub_record(story, &story_len, bodies[i].method, bodies[i].sender, bodies[i].bytes,
                   bodies[i].len);
        if ((i + 1) % FUZZ_HUB_REQUESTS_MAX == 0 || i + 1 == n) {
            write_seed("fuzz_hub_request", story, story_len);
            story_len = 0;
        }
        /* The same request off the wire, and inside its seal. */
        uint8_t *frame = NULL;
        size_t frame_len = 0;
        check(psi_request_seal(&party[bodies[i].sender], hub->public_key, bodies[i].method,
                               request_id, bodies[i].bytes, bodies[i].len, &frame, &frame_len),
              "sealing a request");
        write_seed("fuzz_request_open", frame, frame_len);
        size_t inner_len = frame_len - 1 - crypto_box_SEALBYTES;
        uint8_t *inner = malloc(inner_len + 1);
        if (inner == NULL ||
            crypto_box_seal_open(inner, frame + 1, frame_len - 1, hub_x_pk, hub_x_sk) != 0)
            die("opening a sealed request");
        write_seed("fuzz_request_sealed", inner, inner_len);
        free(inner);
        free(frame);
    }
    free(story);
    size_t stranger_len = 0;
    uint8_t stranger[FUZZ_HUB_RECORD_HEADER];
    hub_record(stranger, &stranger_len, "info", FUZZ_STRANGER, NULL, 0);
    write_seed("fuzz_hub_request", stranger, stranger_len);

    /* Replies: the Reply message for the target to sign (sealed and plain
     * modes), and a plain error frame exactly as the hub sends one. */
    for (size_t i = 0; i < n; i++) {
        Psi__Reply reply = PSI__REPLY__INIT;
        reply.request_id = (ProtobufCBinaryData){PSI_REQUEST_ID_BYTES, request_id};
        reply.body = (ProtobufCBinaryData){bodies[i].len, bodies[i].bytes};
        reply.timestamp_ms = 1700000000000ULL;
        size_t len;
        uint8_t *bytes = pack(&reply.base, &len);
        seed_with_byte("fuzz_reply_open", PSI_FRAME_SEALED, bytes, len);
        free(bytes);
    }
    Psi__Reply refusal = PSI__REPLY__INIT;
    refusal.status = PSI_ERR_DENIED;
    refusal.error = (char *)"agency-a may not call log.entries";
    size_t len;
    uint8_t *bytes = pack(&refusal.base, &len);
    seed_with_byte("fuzz_reply_open", PSI_FRAME_PLAIN_ERROR, bytes, len);
    seed_with_byte("fuzz_reply_open", PSI_FRAME_SEALED, bytes, len);
    free(bytes);
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    check(psi_reply_seal(hub, NULL, NULL, PSI_ERR_PARSE, "malformed request", NULL, 0, &frame,
                         &frame_len),
          "a plain error reply");
    write_seed("fuzz_reply_open", frame, frame_len);
    free(frame);
    check(psi_reply_seal(hub, party[FUZZ_AGENCY].public_key, request_id, 0, NULL, bodies[0].bytes,
                         bodies[0].len, &frame, &frame_len),
          "a sealed reply");
    write_seed("fuzz_reply_open", frame, frame_len);
    free(frame);

    for (size_t i = 0; i < n; i++)
        free(bodies[i].bytes);
    sodium_memzero(hub_x_sk, sizeof hub_x_sk);
    for (unsigned i = 0; i < FUZZ_PARTY_COUNT; i++)
        psi_identity_clear(&party[i]);
}

/* ------------------------------------------------------------ keys */

static void key_seeds(void)
{
    char path[4096], text[PSI_NOTE_SIGNER_KEY_MAX];
    size_t len;
    struct psi_identity agency;
    fuzz_identity(&agency, FUZZ_AGENCY);
    target_dir(path, sizeof path, "fuzz_identity_file");
    size_t at = strlen(path);
    snprintf(path + at, sizeof path - at, "/gen-%05u", seed_counter++);
    check(psi_identity_save(&agency, path), "saving an identity");
    check(psi_identity_vkey(&agency, text, sizeof text), "an identity's vkey");
    write_seed("fuzz_vkey", text, strlen(text));
    psi_identity_clear(&agency);

    struct psi_note_signer signer;
    struct psi_note_verifier verifier;
    fuzz_log_signer(&signer);
    psi_note_signer_verifier(&verifier, &signer);
    check(psi_note_verifier_format(text, sizeof text, &len, &verifier), "a verifier key");
    write_seed("fuzz_vkey", text, len);
    check(psi_note_signer_format(text, sizeof text, &len, &signer), "a signer key");
    write_seed("fuzz_vkey", text, len);
    psi_note_signer_wipe(&signer);
    sodium_memzero(text, sizeof text);
}

/* ------------------------------------------------------------ log */

/* Encodes one entry of every kind it knows into entries[0..), lengths in
 * lens; returns how many. */
static size_t log_entries(unsigned char entries[][PSI_LOGENTRY_MAX_BYTES], size_t *lens)
{
    size_t n = 0;
    static const char *const share[] = {"agency-b", "vendor-v"};
    unsigned char share_list[2 * 65];
    size_t share_len = 0;
    check(psi_logentry_share_list_build(share_list, sizeof share_list, &share_len, share, 2),
          "a share list");
    for (unsigned kind = 1; kind <= PSI_LOGENTRY_KIND_MAX; kind++) {
        struct psi_logentry e;
        memset(&e, 0, sizeof e);
        e.kind = (enum psi_logentry_kind)kind;
        e.time_ms = 1700000000000ULL + kind;
        switch (e.kind) {
        case PSI_LOGENTRY_ADMIT:
        case PSI_LOGENTRY_POLICY:
        case PSI_LOGENTRY_REMOVE:
            snprintf(e.u.roster.participant, sizeof e.u.roster.participant, "agency-a");
            e.u.roster.role = PSI_ROLE_AGENCY;
            memset(e.u.roster.public_key, 'K', 32);
            if (kind == PSI_LOGENTRY_POLICY) {
                e.u.roster.share_count = 2;
                e.u.roster.share_list = share_list;
                e.u.roster.share_list_len = share_len;
            } else {
                e.u.roster.share_all = 1;
            }
            break;
        case PSI_LOGENTRY_EPOCH_KEY:
            snprintf(e.u.epoch_key.participant, sizeof e.u.epoch_key.participant, "agency-a");
            snprintf(e.u.epoch_key.epoch, sizeof e.u.epoch_key.epoch, FUZZ_EPOCH);
            fuzz_vendor_key(e.u.epoch_key.public_key);
            break;
        case PSI_LOGENTRY_SUBMISSION:
            snprintf(e.u.submission.participant, sizeof e.u.submission.participant, "agency-a");
            snprintf(e.u.submission.epoch, sizeof e.u.submission.epoch, FUZZ_EPOCH);
            e.u.submission.submission_id = 1;
            e.u.submission.count = 3;
            memset(e.u.submission.digest, 'D', 32);
            memset(e.u.submission.signature, 'S', 64);
            break;
        case PSI_LOGENTRY_CROSSBLIND:
            snprintf(e.u.crossblind.participant, sizeof e.u.crossblind.participant, "agency-b");
            e.u.crossblind.submission_id = 1;
            e.u.crossblind.count = 3;
            memset(e.u.crossblind.tag_digest, 'T', 32);
            memset(e.u.crossblind.signature, 'S', 64);
            break;
        case PSI_LOGENTRY_MATCH:
            snprintf(e.u.match.epoch, sizeof e.u.match.epoch, FUZZ_EPOCH);
            snprintf(e.u.match.participant_a, sizeof e.u.match.participant_a, "agency-a");
            snprintf(e.u.match.participant_b, sizeof e.u.match.participant_b, "agency-b");
            e.u.match.matched_a = 2;
            e.u.match.matched_b = 1;
            break;
        case PSI_LOGENTRY_REFUSAL:
            e.u.refusal.code = PSI_ERR_DENIED;
            e.u.refusal.authenticated = 1;
            snprintf(e.u.refusal.participant, sizeof e.u.refusal.participant, "agency-a");
            snprintf(e.u.refusal.method, sizeof e.u.refusal.method, "log.entries");
            memset(e.u.refusal.frame_digest, 'F', 32);
            break;
        case PSI_LOGENTRY_FEED:
            snprintf(e.u.feed.participant, sizeof e.u.feed.participant, FUZZ_VENDOR_NAME);
            snprintf(e.u.feed.epoch, sizeof e.u.feed.epoch, FUZZ_EPOCH);
            e.u.feed.count = 100;
            memset(e.u.feed.feed_digest, 'F', 32);
            break;
        case PSI_LOGENTRY_QUERY:
            snprintf(e.u.query.participant, sizeof e.u.query.participant, "agency-a");
            snprintf(e.u.query.vendor, sizeof e.u.query.vendor, FUZZ_VENDOR_NAME);
            snprintf(e.u.query.epoch, sizeof e.u.query.epoch, FUZZ_EPOCH);
            e.u.query.count = 5;
            break;
        case PSI_LOGENTRY_QUOTA:
            snprintf(e.u.quota.agency, sizeof e.u.quota.agency, "agency-a");
            snprintf(e.u.quota.vendor, sizeof e.u.quota.vendor, FUZZ_VENDOR_NAME);
            e.u.quota.limit = 1000;
            break;
        case PSI_LOGENTRY_ANSWER:
            snprintf(e.u.answer.vendor, sizeof e.u.answer.vendor, FUZZ_VENDOR_NAME);
            snprintf(e.u.answer.agency, sizeof e.u.answer.agency, "agency-a");
            snprintf(e.u.answer.epoch, sizeof e.u.answer.epoch, FUZZ_EPOCH);
            e.u.answer.query_index = 9;
            e.u.answer.count = 5;
            fuzz_vendor_key(e.u.answer.public_key);
            memset(e.u.answer.answer_digest, 'A', 32);
            break;
        case PSI_LOGENTRY_PARTY_POLICY:
            snprintf(e.u.party_policy.participant, sizeof e.u.party_policy.participant, "agency-b");
            e.u.party_policy.issued_ms = 1700000000000ULL;
            e.u.party_policy.share_count = 2;
            e.u.party_policy.share_list = share_list;
            e.u.party_policy.share_list_len = share_len;
            memset(e.u.party_policy.signature, 'S', 64);
            break;
        case PSI_LOGENTRY_ELEMENT_QUOTA:
            snprintf(e.u.element_quota.participant, sizeof e.u.element_quota.participant,
                     "agency-a");
            e.u.element_quota.limit = 5000;
            break;
        default: /* a kind added since: no seed of it until it is added here */ continue;
        }
        check(psi_logentry_encode(entries[n], PSI_LOGENTRY_MAX_BYTES, &lens[n], &e),
              "encoding a log entry");
        n++;
    }
    return n;
}

static int stored_leaf(void *ctx, uint64_t index, unsigned char hash[32])
{
    const unsigned char(*leaves)[32] = ctx;
    memcpy(hash, leaves[index], 32);
    return 0;
}

static void log_seeds(void)
{
    static unsigned char entries[PSI_LOGENTRY_KIND_MAX][PSI_LOGENTRY_MAX_BYTES];
    static unsigned char bundle[PSI_LOGENTRY_KIND_MAX * (PSI_LOGENTRY_MAX_BYTES + 2)];
    static unsigned char leaves[PSI_LOGENTRY_KIND_MAX][32];
    size_t lens[PSI_LOGENTRY_KIND_MAX], bundle_len = 0;
    size_t count = log_entries(entries, lens);
    for (size_t i = 0; i < count; i++) {
        write_seed("fuzz_logentry", entries[i], lens[i]);
        check(psi_tile_bundle_append(bundle, sizeof bundle, &bundle_len, entries[i], lens[i]),
              "a bundle");
        psi_merkle_leaf_hash(leaves[i], entries[i], lens[i]);
    }
    write_seed("fuzz_logentry", bundle, bundle_len);

    /* A log of those entries: its checkpoint, signed, and receipts for
     * every third entry (each carries its entry in the extra line). */
    struct psi_note_signer signer;
    fuzz_log_signer(&signer);
    struct psi_merkle_frontier frontier;
    psi_merkle_frontier_init(&frontier);
    for (size_t i = 0; i < count; i++)
        check(psi_merkle_frontier_append(&frontier, leaves[i], NULL, NULL), "appending");
    struct psi_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, FUZZ_LOG_ORIGIN);
    cp.size = frontier.size;
    psi_merkle_frontier_root(cp.root, &frontier);
    static char note[4096], receipt[8192], body[PSI_CHECKPOINT_BODY_MAX + 64];
    size_t note_len, len;
    check(psi_checkpoint_format(body, sizeof body, &len, &cp), "a checkpoint body");
    write_seed("fuzz_checkpoint", body, len);
    check(psi_checkpoint_sign(note, sizeof note, &note_len, &cp, &signer), "a checkpoint");
    write_seed("fuzz_checkpoint", note, note_len);
    write_seed("fuzz_note_open", note, note_len);
    cp.extensions = "witness: fuzz\n";
    cp.extensions_len = strlen(cp.extensions);
    check(psi_checkpoint_sign(body, sizeof body, &len, &cp, &signer), "a checkpoint, extended");
    write_seed("fuzz_checkpoint", body, len);

    /* A note signed by the log and the agency key. */
    struct psi_note_signer two[2];
    unsigned char seed_bytes[32];
    two[0] = signer;
    fuzz_party_seed(seed_bytes, FUZZ_AGENCY);
    check(psi_note_signer_from_seed(&two[1], "agency-a", seed_bytes), "agency signer");
    static const char text[] = "psi fuzz seed\nsigned twice\n";
    check(psi_note_sign(receipt, sizeof receipt, &len, text, strlen(text), two, 2), "a note");
    write_seed("fuzz_note_open", receipt, len);
    psi_note_signer_wipe(&two[0]);
    psi_note_signer_wipe(&two[1]);

    const struct psi_merkle_reader reader = {leaves, stored_leaf, NULL};
    for (size_t i = 0; i < count; i += 3) {
        static struct psi_tlog_proof proof;
        unsigned char path[PSI_MERKLE_MAX_PROOF_HASHES][32];
        size_t hashes = 0;
        memset(&proof, 0, sizeof proof);
        check(psi_merkle_inclusion_proof(path, &hashes, &reader, i, count), "an inclusion proof");
        proof.index = i;
        proof.hash_count = hashes;
        memcpy(proof.hashes, path, hashes * 32);
        proof.extra = entries[i];
        proof.extra_len = lens[i];
        proof.checkpoint = note;
        proof.checkpoint_len = note_len;
        check(psi_tlog_proof_format(receipt, sizeof receipt, &len, &proof), "a receipt");
        write_seed("fuzz_tlog_proof", receipt, len);
    }
    psi_note_signer_wipe(&signer);
}

/* Inputs of fuzz_merkle_proof: mode byte, a, b, hashes. Raw modes get true
 * proofs of the made-up tree (they verify); generated modes get sizes. */
static void merkle_seeds(void)
{
    static const uint64_t sizes[][2] = {{0, 1}, {3, 7}, {4, 8}, {5, 300}, {255, 599}};
    const struct psi_merkle_reader reader = {NULL, fuzz_merkle_leaf, NULL};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char input[17 + (2 + PSI_MERKLE_MAX_PROOF_HASHES) * 32];
        unsigned char path[PSI_MERKLE_MAX_PROOF_HASHES][32];
        uint64_t a = sizes[i][0], b = sizes[i][1];
        size_t count = 0;
        for (unsigned mode = 0; mode < 4; mode++) {
            input[0] = (uint8_t)mode;
            for (int k = 0; k < 8; k++) {
                input[1 + k] = (uint8_t)(a >> (56 - 8 * k));
                input[9 + k] = (uint8_t)((mode >= 2 ? b - 1 : b) >> (56 - 8 * k));
            }
            size_t len = 17;
            if (mode == 0) {
                check(fuzz_merkle_leaf(NULL, a, input + 17), "a leaf");
                check(psi_merkle_root(input + 49, &reader, b), "a root");
                check(psi_merkle_inclusion_proof(path, &count, &reader, a, b), "a proof");
            } else if (mode == 1) {
                check(psi_merkle_root(input + 17, &reader, a), "an old root");
                check(psi_merkle_root(input + 49, &reader, b), "a root");
                check(psi_merkle_consistency_proof(path, &count, &reader, a, b), "a proof");
            } else {
                count = 0;
                input[17] = (uint8_t)(a * 37 + mode);
                len = 18;
            }
            if (mode < 2) {
                memcpy(input + 81, path, count * 32);
                len = 81 + count * 32;
            }
            write_seed("fuzz_merkle_proof", input, len);
        }
    }
}

/* ------------------------------------------------------------ feed filter */

static void feed_seeds(void)
{
    static const size_t counts[] = {1, 20, 50};
    static const double rates[] = {1e-3, 0.1, 1e-6};
    for (size_t i = 0; i < 3; i++) {
        size_t len = 0;
        unsigned char *bytes = feed_filter_bytes(counts[i], rates[i], &len);
        write_seed("fuzz_feedfilter", bytes, len);
        free(bytes);
    }
}

/* ------------------------------------------------------------ client state */

static void state_seed(void)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/state-XXXXXX", out_dir);
    if (mkdtemp(dir) == NULL)
        die("a temporary directory");
    struct psi_state_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.id, sizeof cfg.id, "agency-a");
    snprintf(cfg.hub_url, sizeof cfg.hub_url, "tcp://127.0.0.1:7000");
    struct psi_identity hub;
    fuzz_identity(&hub, FUZZ_HUB);
    memcpy(cfg.hub_key, hub.public_key, 32);
    check(psi_identity_vkey(&hub, cfg.hub_vkey, sizeof cfg.hub_vkey), "the hub's vkey");
    psi_identity_clear(&hub);
    struct psi_state *st = NULL;
    check(psi_state_create(&st, dir, &cfg), "a state database");
    struct psi_state_indicator items[] = {
        {"ipv4", "192.0.2.1"}, {"domain", "evil.example"}, {"sha256", "00ff"}};
    unsigned char done_id[16], pending_id[16];
    memset(done_id, 'A', 16);
    memset(pending_id, 'B', 16);
    check(psi_state_pending_record(st, done_id, FUZZ_EPOCH, items, 2), "a submission");
    check(psi_state_pending_done(st, done_id, 1, 0, "receipt text"), "its receipt");
    check(psi_state_pending_record(st, pending_id, FUZZ_EPOCH, items + 2, 1), "a pending one");
    const char *peers[] = {"agency-b", "vendor-v"};
    const struct psi_state_match matches[] = {{0, peers, 2}, {1, peers, 1}, {7, peers + 1, 1}};
    check(psi_state_results_store(st, FUZZ_EPOCH, 2, matches, 3), "results");
    struct psi_state_work work = {2, "agency-b", FUZZ_EPOCH, 3, PSI_STATE_WORK_PENDING, 0};
    check(psi_state_work_begin(st, &work, pending_id), "agent work");
    check(psi_state_work_done(st, 2, 1, "receipt of work"), "agent work done");
    unsigned char root[32];
    memset(root, 'R', 32);
    check(psi_state_checkpoint_record(st, 3, root, "checkpoint note\n", "verify"), "a checkpoint");
    psi_state_close(st);
    snprintf(path, sizeof path, "%s/" PSI_STATE_DB_NAME, dir);
    FILE *f = fopen(path, "rb");
    static unsigned char db[1 << 20];
    size_t len = f ? fread(db, 1, sizeof db, f) : 0;
    if (f == NULL || len == 0 || len == sizeof db)
        die("reading the state database back");
    fclose(f);
    unlink(path);
    rmdir(dir);
    write_seed("fuzz_client_state", db, len);
}

/* ------------------------------------------------------------ indicators */

/* A copy of v in which every array longer than 3 keeps the 3 elements from
 * window * 3 (modulo its length): a small document of the same shape. */
static json_t *cut_down(const json_t *v, size_t window, size_t *longest)
{
    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        json_t *out = json_array();
        if (n > *longest)
            *longest = n;
        for (size_t k = 0; k < n && k < 3; k++) {
            size_t at = n > 3 ? (window * 3 + k) % n : k;
            json_array_append_new(out, cut_down(json_array_get(v, at), window, longest));
        }
        return out;
    }
    if (json_is_object(v)) {
        json_t *out = json_object();
        for (void *it = json_object_iter((json_t *)v); it != NULL;
             it = json_object_iter_next((json_t *)v, it))
            json_object_set_new(out, json_object_iter_key(it),
                                cut_down(json_object_iter_value(it), window, longest));
        return out;
    }
    return json_deep_copy(v);
}

static void json_seeds(const char *target, const char *file)
{
    json_error_t error;
    json_t *doc = json_load_file(file, 0, &error);
    if (doc == NULL) {
        fprintf(stderr, "gen_seeds: %s:%d: %s\n", file, error.line, error.text);
        exit(1);
    }
    size_t longest = 0;
    for (size_t window = 0; window < 40 && (window == 0 || window * 3 < longest); window++) {
        json_t *small = cut_down(doc, window, &longest);
        char *text = json_dumps(small, JSON_INDENT(1));
        if (text == NULL)
            die("json_dumps");
        write_seed(target, text, strlen(text));
        free(text);
        json_decref(small);
    }
    json_decref(doc);
}

/* Lines of a text file as values for the canonicaliser: untyped, and typed
 * as the untyped reading took them. */
static void text_seeds(const char *file)
{
    FILE *f = fopen(file, "rb");
    if (f == NULL)
        die(file);
    char line[1024];
    for (unsigned n = 0; n < 60 && fgets(line, sizeof line, f) != NULL; n++) {
        size_t len = strcspn(line, "\r\n");
        struct psi_ioc ioc;
        enum psi_ioc_skip why;
        seed_with_byte("fuzz_ioc_canonical", PSI_IOC_NONE, line, len);
        if (psi_ioc_canonicalise(line, len, &ioc, &why) == 0)
            seed_with_byte("fuzz_ioc_canonical", (uint8_t)ioc.type, line, len);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_seeds OUTDIR [stix=FILE | misp=FILE | text=FILE]...\n");
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0700) != 0 && errno != EEXIST)
        die(out_dir);
    if (sodium_init() < 0)
        die("libsodium cannot start");
    proto_seeds();
    envelope_seeds();
    key_seeds();
    log_seeds();
    merkle_seeds();
    feed_seeds();
    state_seed();
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "stix=", 5) == 0)
            json_seeds("fuzz_ioc_stix", argv[i] + 5);
        else if (strncmp(argv[i], "misp=", 5) == 0)
            json_seeds("fuzz_ioc_misp", argv[i] + 5);
        else if (strncmp(argv[i], "text=", 5) == 0)
            text_seeds(argv[i] + 5);
        else
            die("arguments are stix=FILE, misp=FILE or text=FILE");
    }
    printf("gen_seeds: %u seeds in %s\n", seed_counter, out_dir);
    return 0;
}
