/* psi audit: re-check the hub's log, verify receipts, export the log as
 * tiles, compare checkpoints collected from several participants. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "commands.h"
#include "hub_client.h"
#include "log_view.h"
#include "methods.h"
#include "psi.pb-c.h"
#include "psi/audit.h"
#include "psi/checkpoint.h"
#include "psi/error.h"
#include "psi/ident.h"
#include "psi/logentry.h"
#include "psi/merkle.h"
#include "psi/tiles.h"

static const char audit_epilogue[] =
    "Exit status 0 when everything verified, 1 on any failure or violation.\n"
    "PSI_HUB_TIMEOUT=SECONDS in the environment bounds each wait for the hub.\n";

#define AUDIT_STATE_HELP "a participant's state directory (from 'psi init')"

enum {
    VERIFY_STATE,
    VERIFY_SAVE,
};

static const struct psi_cmdline_option verify_options[] = {
    [VERIFY_STATE] = {PSI_CLI_STATE_OPTION},
    [VERIFY_SAVE] = {.name = "save",
                     .value_name = "FILE",
                     .help = "write the checkpoint seen to FILE"},
};

static const struct psi_cmdline_command verify_command = {
    .name = "audit verify",
    .about = "Fetches the hub's latest checkpoint, checks its signature and that it is\n"
             "consistent with the checkpoint DIR trusts (on first use, trusts it), fetches\n"
             "every entry from 0, recomputes the root, re-runs every check (roster,\n"
             "signatures, policies, counts) and prints the entries checked, the count of\n"
             "each kind, every violation with its entry index, and the checkpoint seen.\n"
             "Auditors only: the hub serves entries to auditors alone.\n",
    PSI_CMDLINE_OPTIONS(verify_options),
    .epilogue = audit_epilogue,
};

enum {
    RECEIPT_STATE,
};

static const struct psi_cmdline_option receipt_options[] = {
    [RECEIPT_STATE] = {PSI_CLI_STATE_OPTION},
};

static const struct psi_cmdline_command receipt_command = {
    .name = "audit receipt",
    .about = "Verifies receipts: each FILE, or every receipt DIR holds; each must prove\n"
             "its entry in a checkpoint signed by the hub, and that checkpoint must be\n"
             "consistent with the hub's latest.\n",
    PSI_CMDLINE_OPTIONS(receipt_options),
    .operand = "FILE",
    .operands_min = 0,
    .operands_max = PSI_CMDLINE_ANY,
    .operand_help = "receipt files (default: every receipt DIR holds)",
    .epilogue = audit_epilogue,
};

enum {
    CHECKPOINT_STATE,
};

static const struct psi_cmdline_option checkpoint_options[] = {
    [CHECKPOINT_STATE] = {PSI_CLI_STATE_OPTION},
};

static const struct psi_cmdline_command checkpoint_command = {
    .name = "audit checkpoint",
    .about = "Prints the newest checkpoint DIR trusts (no network): what participants\n"
             "exchange to catch a hub showing them different logs.\n",
    PSI_CMDLINE_OPTIONS(checkpoint_options),
    .epilogue = audit_epilogue,
};

enum {
    COMPARE_STATE,
    COMPARE_HUB_KEY,
};

static const struct psi_cmdline_option compare_options[] = {
    [COMPARE_STATE] = {.name = "state",
                       .value_name = "DIR",
                       .help = AUDIT_STATE_HELP "; needed\n"
                                                "to ask the hub for consistency proofs"},
    [COMPARE_HUB_KEY] = {.name = "hub-key",
                         .value_name = "VKEY",
                         .help = "the hub's key string, when no state directory is given"},
};

static const struct psi_cmdline_command compare_command = {
    .name = "audit compare",
    .about = "Proves the CHECKPOINT files consistent with each other: equal sizes need\n"
             "equal roots, others a consistency proof from the hub (needs --state);\n"
             "names every pair that is not. Needs --state or --hub-key.\n",
    PSI_CMDLINE_OPTIONS(compare_options),
    .operand = "CHECKPOINT",
    .operands_min = 1,
    .operands_max = PSI_CMDLINE_ANY,
    .operand_help = "checkpoint files, as 'psi audit checkpoint' or --save wrote them",
    .epilogue = audit_epilogue,
};

enum {
    EXPORT_STATE,
    EXPORT_OUT,
    EXPORT_VERIFY,
    EXPORT_HUB_KEY,
};

static const struct psi_cmdline_option export_options[] = {
    [EXPORT_STATE] = {.name = "state", .value_name = "DIR", .help = AUDIT_STATE_HELP},
    [EXPORT_OUT] = {.name = "out",
                    .value_name = "OUT",
                    .required = true,
                    .help = "where the tiles are written (or, with --verify, read)"},
    [EXPORT_VERIFY] = {.name = "verify",
                       .help = "check an exported tree offline instead of writing one"},
    [EXPORT_HUB_KEY] = {.name = "hub-key",
                        .value_name = "VKEY",
                        .help = "with --verify and no --state: the hub's key string"},
};

static const struct psi_cmdline_command export_command = {
    .name = "audit export",
    .about = "Writes the log as static tlog-tiles files: OUT/checkpoint, OUT/tile/<L>/<N>,\n"
             "OUT/tile/entries/<N>. With --verify, recomputes the checkpoint's root from\n"
             "the entry bundles alone, compares every tile, and runs the checks, offline.\n"
             "Needs --state, or --verify with --hub-key.\n",
    PSI_CMDLINE_OPTIONS(export_options),
    .epilogue = audit_epilogue,
};

#define MAX_LOCATED 16u /* differing entries named by a root mismatch hunt */

/* A failure line on stderr after what stdout holds so far, in that order. */
#define AUDIT_FAIL(...) (fflush(stdout), psi_cmdline_fail("audit", __VA_ARGS__))

/* ---------------------------------------------------------------- files */

static int read_file(const char *path, size_t max, char **out, size_t *len, char *why,
                     size_t whylen)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
        return PSI_ERR_IO;
    }
    char *buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        snprintf(why, whylen, "out of memory");
        return PSI_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, max + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(why, whylen, "cannot read %s", path);
        return PSI_ERR_IO;
    }
    if (n > max) {
        free(buf);
        snprintf(why, whylen, "%s is larger than %zu bytes", path, max);
        return PSI_ERR_TOO_LARGE;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Creates every missing directory on the way to the file `path`. */
static int make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return PSI_ERR_IO;
    }
    return 0;
}

/* Writes a file whole: to a temporary name, then renamed into place. */
static int write_file(const char *path, const void *bytes, size_t len)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return PSI_ERR_TOO_LARGE;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return PSI_ERR_IO;
    const unsigned char *p = bytes;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            return PSI_ERR_IO;
        }
        p += n;
        len -= (size_t)n;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return PSI_ERR_IO;
    }
    return 0;
}

static int join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? PSI_ERR_TOO_LARGE : 0;
}

/* ---------------------------------------------------------------- the tree in memory
 *
 * The leaf hashes of the whole log (32 bytes an entry: the entries themselves
 * are streamed and forgotten), and, for tiles, the hashes of complete
 * subtrees at Merkle levels 8, 16, ... */

struct tree {
    unsigned char (*leaves)[32];
    uint64_t size;
    uint64_t offset;               /* a reader over [offset, ...) for MTH of a range */
    unsigned char (*level[8])[32]; /* level[t]: subtrees of Merkle level 8t, t >= 1 */
    uint64_t level_count[8];
};

static int tree_leaf(void *ctx, uint64_t index, unsigned char hash[32])
{
    const struct tree *t = ctx;
    if (index + t->offset >= t->size)
        return PSI_ERR_INVALID;
    memcpy(hash, t->leaves[index + t->offset], 32);
    return 0;
}

static int tree_subtree(void *ctx, unsigned level, uint64_t index, unsigned char hash[32])
{
    const struct tree *t = ctx;
    if (t->offset != 0 || level % 8 != 0 || level / 8 >= 8)
        return PSI_ERR_NOT_FOUND;
    unsigned tl = level / 8;
    if (t->level[tl] == NULL || index >= t->level_count[tl])
        return PSI_ERR_NOT_FOUND;
    memcpy(hash, t->level[tl][index], 32);
    return 0;
}

static int tree_alloc(struct tree *t, uint64_t size, char *why, size_t whylen)
{
    memset(t, 0, sizeof *t);
    if (size > SIZE_MAX / 32 - 1) {
        snprintf(why, whylen, "a log of %" PRIu64 " entries does not fit in memory here", size);
        return PSI_ERR_TOO_LARGE;
    }
    t->leaves = malloc(size ? (size_t)size * 32 : 1);
    if (!t->leaves) {
        snprintf(why, whylen, "out of memory for %" PRIu64 " leaf hashes", size);
        return PSI_ERR_NOMEM;
    }
    t->size = size;
    return 0;
}

static void tree_free(struct tree *t)
{
    free(t->leaves);
    for (unsigned i = 0; i < 8; i++)
        free(t->level[i]);
    memset(t, 0, sizeof *t);
}

/* MTH of leaves [a, b) computed here. */
static int tree_range_hash(struct tree *t, uint64_t a, uint64_t b, unsigned char out[32])
{
    struct psi_merkle_reader r = {t, tree_leaf, NULL};
    t->offset = a;
    int rc = psi_merkle_root(out, &r, b - a);
    t->offset = 0;
    return rc;
}

static int tree_root(struct tree *t, unsigned char out[32])
{
    return tree_range_hash(t, 0, t->size, out);
}

/* The stored subtree levels tiles read (8, 16, ...), each from the one below. */
static int tree_tile_levels(struct tree *t)
{
    struct psi_merkle_reader r = {t, tree_leaf, tree_subtree};
    for (unsigned tl = 1; tl < 8; tl++) {
        uint64_t count = t->size >> (8 * tl);
        if (count == 0)
            break;
        t->level[tl] = malloc((size_t)count * 32);
        if (!t->level[tl])
            return PSI_ERR_NOMEM;
        for (uint64_t i = 0; i < count; i++) {
            int rc = psi_merkle_subtree_hash(t->level[tl][i], &r, 8 * tl, i);
            if (rc)
                return rc;
        }
        t->level_count[tl] = count;
    }
    return 0;
}

/* ---------------------------------------------------------------- printing */

static void print_note(const char *note)
{
    const char *p = note;
    while (*p) {
        size_t n = strcspn(p, "\n");
        printf("  %.*s\n", (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
}

static void b64(char out[45], const unsigned char hash[32])
{
    sodium_bin2base64(out, 45, hash, 32, sodium_base64_VARIANT_ORIGINAL);
}

static void describe_entry(char *out, size_t cap, const struct psi_logentry *e)
{
    switch (e->kind) {
    case PSI_LOGENTRY_ADMIT:
    case PSI_LOGENTRY_POLICY:
    case PSI_LOGENTRY_REMOVE:
        snprintf(out, cap, "%s of %s (%s)", psi_logentry_kind_name(e->kind),
                 e->u.roster.participant, psi_role_name(e->u.roster.role));
        break;
    case PSI_LOGENTRY_SUBMISSION:
        snprintf(out, cap, "submission %" PRIu64 " of %s, %" PRIu64 " elements, epoch %s",
                 e->u.submission.submission_id, e->u.submission.participant, e->u.submission.count,
                 e->u.submission.epoch);
        break;
    case PSI_LOGENTRY_CROSSBLIND:
        snprintf(out, cap, "cross-blind batch of submission %" PRIu64 " by %s, %" PRIu64 " tags",
                 e->u.crossblind.submission_id, e->u.crossblind.participant, e->u.crossblind.count);
        break;
    case PSI_LOGENTRY_MATCH:
        snprintf(out, cap, "match record of %s and %s, epoch %s", e->u.match.participant_a,
                 e->u.match.participant_b, e->u.match.epoch);
        break;
    case PSI_LOGENTRY_PARTY_POLICY:
        snprintf(out, cap, "policy statement of %s (%s, %zu listed%s)",
                 e->u.party_policy.participant,
                 e->u.party_policy.share_all ? "shares with all" : "shares with a list",
                 e->u.party_policy.share_count,
                 e->u.party_policy.contribute_only ? ", contribute-only" : "");
        break;
    case PSI_LOGENTRY_ELEMENT_QUOTA:
        snprintf(out, cap, "element quota of %s: %" PRIu64 " per epoch",
                 e->u.element_quota.participant, e->u.element_quota.limit);
        break;
    default: snprintf(out, cap, "%s", psi_logentry_kind_name(e->kind)); break;
    }
}

struct violation_printer {
    uint64_t printed;
};

static int print_violation(void *ctx, const struct psi_audit_violation *v)
{
    struct violation_printer *p = ctx;
    p->printed++;
    printf("entry %" PRIu64 " (%s): %s: %s\n", v->index,
           v->kind ? psi_logentry_kind_name(v->kind) : "undecodable",
           psi_audit_check_name(v->check), v->detail);
    return 0;
}

static void print_summary(const struct psi_audit_summary *s)
{
    printf("entries checked: %" PRIu64 "\n ", s->entries);
    for (unsigned k = 1; k <= PSI_LOGENTRY_KIND_MAX; k++)
        printf(" %s %" PRIu64, psi_logentry_kind_name(k), s->per_kind[k]);
    if (s->per_kind[0])
        printf(" undecodable %" PRIu64, s->per_kind[0]);
    printf("\nviolations: %" PRIu64 "\n", s->violations);
}

/* ---------------------------------------------------------------- fetching entries */

/* Calls fn for entries [0, size) in order, asking in bounded batches. A hub
 * that serves fewer entries than asked, or others, is named. */
typedef int (*entry_fn)(void *ctx, uint64_t index, const unsigned char *entry, size_t len);

static int fetch_entries(struct psi_hub_client *hub, uint64_t size, entry_fn fn, void *ctx,
                         char *why, size_t whylen)
{
    struct psi_cli_progress progress;
    psi_cli_progress_begin(&progress, "audit", "fetching entries", size);
    int rc = 0;
    for (uint64_t start = 0; start < size && !rc;) {
        uint64_t want = size - start < PSI_LOG_ENTRIES_BATCH ? size - start : PSI_LOG_ENTRIES_BATCH;
        Psi__LogEntriesRequest req = PSI__LOG_ENTRIES_REQUEST__INIT;
        Psi__LogEntries *reply = NULL;
        struct psi_hub_failure f;
        req.start = start;
        req.count = (uint32_t)want;
        rc = psi_hub_client_call(hub, PSI_METHOD_NAME(LOG_ENTRIES), NULL, &req.base,
                                 &psi__log_entries__descriptor, (ProtobufCMessage **)&reply, &f);
        if (rc) {
            snprintf(why, whylen, "fetching entries from %" PRIu64 ": %.600s", start, f.text);
            break;
        }
        if (reply->start != start) {
            rc = PSI_ERR_PROTOCOL;
            snprintf(why, whylen, "asked for entries from %" PRIu64 ", the hub sent from %" PRIu64,
                     start, reply->start);
        } else if (reply->n_entries != want) {
            rc = PSI_ERR_VERIFY;
            snprintf(why, whylen,
                     "the hub served %zu entries from %" PRIu64 " where its checkpoint has %" PRIu64
                     ": entry %" PRIu64 " is missing",
                     reply->n_entries, start, want,
                     /* cppcheck 2.10 wrongly calls this always false */
                     // cppcheck-suppress knownConditionTrueFalse
                     start + (reply->n_entries < want ? reply->n_entries : want));
        }
        for (size_t i = 0; !rc && i < reply->n_entries; i++)
            rc = fn(ctx, start + i, reply->entries[i].data, reply->entries[i].len);
        protobuf_c_message_free_unpacked(&reply->base, NULL);
        psi_cli_progress_add(&progress, want);
        start += want;
    }
    psi_cli_progress_end(&progress);
    return rc;
}

/* ---------------------------------------------------------------- locating a difference
 *
 * When the entries the hub serves do not give its checkpoint's root, the
 * entries that differ from those it committed to are found by descending the
 * tree: the committed hashes of a node's two halves come from the hub's
 * inclusion proofs (checked to combine into the committed node), and the
 * search goes into each half whose hash here differs. */

struct range {
    uint64_t lo, hi;
};

/* The ranges whose hashes PATH(m, D[lo:hi]) holds, leaf to root. */
static size_t path_ranges(uint64_t m, uint64_t lo, uint64_t hi, struct range *out)
{
    struct range stack[PSI_MERKLE_MAX_PROOF_HASHES];
    size_t n = 0;
    while (hi - lo > 1 && n < PSI_MERKLE_MAX_PROOF_HASHES) {
        uint64_t k = 1;
        while (k <= (hi - lo - 1) / 2)
            k <<= 1;
        if (m < lo + k) {
            stack[n++] = (struct range){lo + k, hi};
            hi = lo + k;
        } else {
            stack[n++] = (struct range){lo, lo + k};
            lo = lo + k;
        }
    }
    for (size_t i = 0; i < n; i++) /* root-first as found: reverse */
        out[i] = stack[n - 1 - i];
    return n;
}

struct locate {
    struct psi_hub_client *hub;
    struct tree *tree;
    uint64_t size;
    uint64_t found[MAX_LOCATED];
    size_t n_found;
    char why[PSI_LOG_WHY_MAX];
};

/* The committed hash of range [lo, hi), from the inclusion proof of leaf m. */
static int committed_hash(struct locate *l, uint64_t m, uint64_t lo, uint64_t hi,
                          unsigned char out[32])
{
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
    struct range ranges[PSI_MERKLE_MAX_PROOF_HASHES];
    size_t count = 0;
    int rc = psi_log_fetch_inclusion(l->hub, m, l->size, proof, &count, l->why, sizeof l->why);
    if (rc)
        return rc;
    size_t n = path_ranges(m, 0, l->size, ranges);
    for (size_t i = 0; i < n && i < count; i++)
        if (ranges[i].lo == lo && ranges[i].hi == hi) {
            memcpy(out, proof[i], 32);
            return 0;
        }
    snprintf(l->why, sizeof l->why, "no proof hash for entries [%" PRIu64 ", %" PRIu64 ")", lo, hi);
    return PSI_ERR_STATE;
}

static int locate(struct locate *l, uint64_t lo, uint64_t hi, const unsigned char committed[32])
{
    if (l->n_found >= MAX_LOCATED)
        return 0;
    if (hi - lo == 1) {
        l->found[l->n_found++] = lo;
        return 0;
    }
    uint64_t k = 1;
    while (k <= (hi - lo - 1) / 2)
        k <<= 1;
    unsigned char left[32], right[32], node[32], mine[32];
    int rc = committed_hash(l, lo, lo + k, hi, right);
    if (!rc)
        rc = committed_hash(l, lo + k, lo, lo + k, left);
    if (rc)
        return rc;
    psi_merkle_node_hash(node, left, right);
    if (sodium_memcmp(node, committed, 32) != 0) {
        snprintf(l->why, sizeof l->why,
                 "the hub's proofs for entries [%" PRIu64 ", %" PRIu64
                 ") do not combine into the hash its checkpoint commits to",
                 lo, hi);
        return PSI_ERR_VERIFY;
    }
    if ((rc = tree_range_hash(l->tree, lo, lo + k, mine)) != 0)
        return rc;
    if (sodium_memcmp(mine, left, 32) != 0 && (rc = locate(l, lo, lo + k, left)) != 0)
        return rc;
    if ((rc = tree_range_hash(l->tree, lo + k, hi, mine)) != 0)
        return rc;
    if (sodium_memcmp(mine, right, 32) != 0 && (rc = locate(l, lo + k, hi, right)) != 0)
        return rc;
    return 0;
}

/* ---------------------------------------------------------------- verify */

struct verify_pass {
    struct tree *tree;
    struct psi_audit *audit;
};

static int verify_entry(void *ctx, uint64_t index, const unsigned char *entry, size_t len)
{
    struct verify_pass *v = ctx;
    psi_merkle_leaf_hash(v->tree->leaves[index], entry, len);
    return psi_audit_entry(v->audit, entry, len);
}

/* Loads the hub's log key, connects to the hub and fetches its latest
 * checkpoint, verified under that key. Returns 0, or the exit status after
 * saying why; either way the caller frees *note and closes *hub. */
static int connect_at_checkpoint(struct psi_cli_session *s, struct psi_note_verifier *key,
                                 struct psi_hub_client **hub, struct psi_checkpoint *cp,
                                 char **note)
{
    char why[PSI_LOG_WHY_MAX];
    struct psi_hub_failure f;
    memset(cp, 0, sizeof *cp);
    *note = NULL;
    if (psi_log_key(&s->config, key, why, sizeof why))
        return AUDIT_FAIL("%s", why);
    if (psi_hub_client_open(hub, &s->identity, &s->config, &f))
        return AUDIT_FAIL("%s", f.text);
    if (psi_log_fetch_checkpoint(*hub, key, cp, note, why, sizeof why))
        return AUDIT_FAIL("the hub's checkpoint: %s", why);
    return 0;
}

static int cmd_verify(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&verify_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[VERIFY_STATE], *save = args.value[VERIFY_SAVE];

    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "audit", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    if (psi_cli_session_lock(&s)) {
        psi_cli_session_close(&s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    int failed = 0;
    char why[PSI_LOG_WHY_MAX];
    struct psi_note_verifier key;
    struct psi_hub_client *hub = NULL;
    struct psi_checkpoint cp;
    char *note = NULL;
    struct tree tree = {0};
    struct psi_audit *audit = NULL;
    struct violation_printer printer = {0};
    struct psi_state_checkpoint trusted = {0};

    status = connect_at_checkpoint(&s, &key, &hub, &cp, &note);
    if (status)
        goto out;
    printf("checkpoint of %s, size %" PRIu64 " (signature by %s verified):\n", cp.origin, cp.size,
           key.name);
    print_note(note);
    if (save && write_file(save, note, strlen(note)) != 0) {
        status = AUDIT_FAIL("cannot write the checkpoint to %s", save);
        goto out;
    }

    int first_use = 0;
    if (psi_log_trust(s.state, hub, &cp, note, "verify", &trusted, &first_use, why, sizeof why)) {
        printf("consistency: FAILED: %s\n", why);
        if (trusted.note) {
            printf("the checkpoint this state trusts:\n");
            print_note(trusted.note);
        }
        failed = 1;
    } else if (first_use) {
        printf("consistency: first use: this checkpoint is now the one %s trusts\n", dir);
    } else {
        printf("consistency: proved from the trusted checkpoint of size %" PRIu64 "\n",
               trusted.size);
    }

    why[0] = '\0'; /* it may still hold the consistency check's reason */
    if (tree_alloc(&tree, cp.size, why, sizeof why) ||
        psi_audit_create(&audit, s.config.hub_key, print_violation, &printer)) {
        status = AUDIT_FAIL("%s", why[0] ? why : "cannot start the checks");
        goto out;
    }
    struct verify_pass pass = {&tree, audit};
    why[0] = '\0';
    int rc = fetch_entries(hub, cp.size, verify_entry, &pass, why, sizeof why);
    if (rc) {
        status = AUDIT_FAIL("%s", why[0] ? why : psi_strerror(rc));
        goto out;
    }
    unsigned char root[32];
    if (tree_root(&tree, root)) {
        status = AUDIT_FAIL("cannot recompute the root");
        goto out;
    }
    if (sodium_memcmp(root, cp.root, 32) == 0) {
        printf("root: recomputed from the %" PRIu64 " entries, equal to the checkpoint's\n",
               cp.size);
    } else {
        failed = 1;
        char mine[45];
        b64(mine, root);
        printf("root: FAILED: the entries served give %s, not the checkpoint's root\n", mine);
        struct locate l = {hub, &tree, cp.size, {0}, 0, ""};
        rc = locate(&l, 0, cp.size, cp.root);
        for (size_t i = 0; i < l.n_found; i++)
            printf("entry %" PRIu64 ": differs from the entry checkpoint %" PRIu64
                   " commits to (changed, removed or moved)\n",
                   l.found[i], cp.size);
        if (rc)
            printf("the search for the differing entries stopped: %s\n", l.why);
    }
    struct psi_audit_summary sum;
    psi_audit_get_summary(audit, &sum);
    print_summary(&sum);
    if (sum.violations > 0)
        failed = 1;
    if (fflush(stdout) != 0)
        failed = 1;
    status = failed ? AUDIT_FAIL("the log of %s does NOT verify", cp.origin) : 0;
    if (!failed)
        printf("the log of %s verifies\n", cp.origin);
out:
    psi_audit_destroy(audit);
    tree_free(&tree);
    psi_state_checkpoint_clear(&trusted);
    free(note);
    psi_hub_client_close(hub);
    psi_cli_session_close(&s);
    return status;
}

/* ---------------------------------------------------------------- receipt */

struct receipt_item {
    char *label;
    char *text;
    int stored; /* from the state: its entry must be this participant's */
    const char *what;
    uint64_t submission_id;
};

struct receipt_list {
    struct receipt_item *items;
    size_t n, cap;
};

static int receipt_list_add(struct receipt_list *l, const char *label, const char *text,
                            size_t text_len, int stored, const char *what, uint64_t submission_id)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        void *m = realloc(l->items, ncap * sizeof *l->items);
        if (!m)
            return PSI_ERR_NOMEM;
        l->items = m;
        l->cap = ncap;
    }
    struct receipt_item *it = &l->items[l->n];
    it->label = strdup(label);
    it->text = malloc(text_len + 1);
    if (!it->label || !it->text) {
        free(it->label);
        free(it->text);
        return PSI_ERR_NOMEM;
    }
    memcpy(it->text, text, text_len);
    it->text[text_len] = '\0';
    it->stored = stored;
    it->what = what;
    it->submission_id = submission_id;
    l->n++;
    return 0;
}

static void receipt_list_free(struct receipt_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].label);
        free(l->items[i].text);
    }
    free(l->items);
}

static int collect_stored(void *ctx, const char *what, uint64_t submission_id, const char *receipt)
{
    char label[96];
    int sub = strcmp(what, "submission") == 0;
    if (sub)
        snprintf(label, sizeof label, "submission %" PRIu64, submission_id);
    else
        snprintf(label, sizeof label, "cross-blind batch of submission %" PRIu64, submission_id);
    return receipt_list_add(ctx, label, receipt, strlen(receipt), 1,
                            sub ? "submission" : "crossblind", submission_id);
}

static int cmd_receipt(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&receipt_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[RECEIPT_STATE];

    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "audit", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    if (psi_cli_session_lock(&s)) {
        psi_cli_session_close(&s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    size_t bad = 0;
    char why[PSI_LOG_WHY_MAX];
    struct psi_note_verifier key;
    struct psi_hub_client *hub = NULL;
    struct psi_checkpoint latest;
    char *note = NULL;
    struct receipt_list list = {0};
    struct psi_log_receipt *r = malloc(sizeof *r);

    if (!r) {
        status = AUDIT_FAIL("out of memory");
        goto out;
    }
    for (int i = 0; i < args.operand_count; i++) {
        char *text = NULL;
        size_t len = 0;
        if (read_file(args.operands[i], PSI_LOG_TEXT_MAX, &text, &len, why, sizeof why)) {
            status = AUDIT_FAIL("%s", why);
            goto out;
        }
        int rc = receipt_list_add(&list, args.operands[i], text, len, 0, NULL, 0);
        free(text);
        if (rc) {
            status = AUDIT_FAIL("out of memory");
            goto out;
        }
    }
    if (args.operand_count == 0 && psi_state_receipts_each(s.state, collect_stored, &list)) {
        status = AUDIT_FAIL("cannot read the receipts in %s: %s", dir, psi_state_error(s.state));
        goto out;
    }
    status = connect_at_checkpoint(&s, &key, &hub, &latest, &note);
    if (status)
        goto out;
    if (psi_log_trust(s.state, hub, &latest, note, "receipt", NULL, NULL, why, sizeof why)) {
        printf("the hub's latest checkpoint (size %" PRIu64 "): FAILED: %s\n", latest.size, why);
        bad++;
    } else {
        printf("the hub's latest checkpoint (size %" PRIu64 ") is consistent with the one %s "
               "trusts\n",
               latest.size, dir);
    }
    if (list.n == 0)
        printf("no receipts to verify\n");
    for (size_t i = 0; i < list.n; i++) {
        const struct receipt_item *it = &list.items[i];
        char what[256];
        int rc = psi_log_receipt_verify(it->text, strlen(it->text), &key, r, why, sizeof why);
        if (!rc && it->stored) {
            const struct psi_logentry *e = &r->entry;
            int sub = strcmp(it->what, "submission") == 0;
            int fits = sub ? e->kind == PSI_LOGENTRY_SUBMISSION &&
                                 strcmp(e->u.submission.participant, s.config.id) == 0 &&
                                 e->u.submission.submission_id == it->submission_id
                           : e->kind == PSI_LOGENTRY_CROSSBLIND &&
                                 strcmp(e->u.crossblind.participant, s.config.id) == 0 &&
                                 e->u.crossblind.submission_id == it->submission_id;
            if (!fits) {
                rc = PSI_ERR_VERIFY;
                snprintf(why, sizeof why, "it proves entry %" PRIu64 ", which is not this %s",
                         r->index, it->what);
            }
        }
        if (!rc)
            rc = psi_log_prove_consistency(hub, r->checkpoint.size, r->checkpoint.root, latest.size,
                                           latest.root, why, sizeof why);
        if (rc) {
            printf("%s: FAILED: %s\n", it->label, why);
            bad++;
        } else {
            describe_entry(what, sizeof what, &r->entry);
            printf("%s: entry %" PRIu64 " (%s) is in the checkpoint of size %" PRIu64
                   ", consistent with the latest: ok\n",
                   it->label, r->index, what, r->checkpoint.size);
        }
        psi_log_receipt_clear(r);
    }
    if (fflush(stdout) != 0)
        bad++;
    if (bad)
        status = AUDIT_FAIL("%zu receipt check(s) failed", bad);
out:
    free(r);
    receipt_list_free(&list);
    free(note);
    psi_hub_client_close(hub);
    psi_cli_session_close(&s);
    return status;
}

/* ---------------------------------------------------------------- checkpoint */

static int cmd_checkpoint(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&checkpoint_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[CHECKPOINT_STATE];
    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "audit", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    struct psi_state_checkpoint cp;
    int rc = psi_state_checkpoint_latest(s.state, &cp);
    if (rc == PSI_ERR_NOT_FOUND)
        status = AUDIT_FAIL("%s trusts no checkpoint yet (run 'psi audit receipt' or "
                            "'psi audit verify')",
                            dir);
    else if (rc)
        status = AUDIT_FAIL("%s: %s", dir, psi_state_error(s.state));
    else if (fputs(cp.note, stdout) == EOF || fflush(stdout) != 0)
        status = AUDIT_FAIL("cannot write to standard output");
    psi_state_checkpoint_clear(&cp);
    psi_cli_session_close(&s);
    return status;
}

/* ---------------------------------------------------------------- compare */

struct compared {
    const char *file;
    struct psi_checkpoint cp;
    char *note;
};

static int cmd_compare(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&compare_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[COMPARE_STATE], *vkey = args.value[COMPARE_HUB_KEY];
    if (!dir && !vkey)
        return psi_cmdline_usage_error(compare_command.name, "--state or --hub-key is needed");

    struct psi_cli_session s;
    int have_session = 0;
    size_t n = (size_t)args.operand_count, inconsistent = 0, unproven = 0;
    char why[PSI_LOG_WHY_MAX];
    struct psi_note_verifier key;
    struct psi_hub_client *hub = NULL;
    struct psi_hub_failure f;
    struct compared *cps = calloc(n, sizeof *cps);
    if (!cps)
        return AUDIT_FAIL("out of memory");

    if (dir) {
        if (psi_cli_session_open(&s, "audit", dir)) {
            free(cps);
            return PSI_CMDLINE_EXIT_FAILURE;
        }
        have_session = 1;
    }
    if (vkey) {
        int rc = psi_note_verifier_parse(&key, vkey, strlen(vkey));
        if (rc) {
            status = AUDIT_FAIL("--hub-key: not a verifier key string: %s", psi_strerror(rc));
            goto out;
        }
        if (have_session && memcmp(key.public_key, s.config.hub_key, 32) != 0) {
            status = AUDIT_FAIL("--hub-key is not the hub key %s was made for", dir);
            goto out;
        }
    } else if (psi_log_key(&s.config, &key, why, sizeof why)) {
        status = AUDIT_FAIL("%s", why);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        cps[i].file = args.operands[i];
        if (read_file(cps[i].file, PSI_LOG_TEXT_MAX, &cps[i].note, &len, why, sizeof why) ||
            psi_log_open_checkpoint(cps[i].note, len, &key, &cps[i].cp, why, sizeof why)) {
            status = AUDIT_FAIL("%s: %s", cps[i].file, why);
            goto out;
        }
        char root[45];
        b64(root, cps[i].cp.root);
        printf("[%zu] %s: size %" PRIu64 ", root %s\n", i + 1, cps[i].file, cps[i].cp.size, root);
    }
    if (have_session && psi_hub_client_open(&hub, &s.identity, &s.config, &f)) {
        status = AUDIT_FAIL("%s", f.text);
        goto out;
    }
    /* Every pair: a fork shows as the pairs that straddle it, and naming
     * each lets the participants see which side each of them was shown. */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            const struct compared *a = &cps[i], *b = &cps[j];
            if (a->cp.size > b->cp.size) {
                const struct compared *t = a;
                a = b;
                b = t;
            }
            size_t ia = (size_t)(a - cps) + 1, ib = (size_t)(b - cps) + 1;
            if (a->cp.size != b->cp.size && !hub) {
                printf("[%zu] and [%zu]: sizes %" PRIu64 " and %" PRIu64
                       " differ: not proven (give --state to ask the hub for a proof)\n",
                       ia, ib, a->cp.size, b->cp.size);
                unproven++;
                continue;
            }
            int rc = psi_log_prove_consistency(hub, a->cp.size, a->cp.root, b->cp.size, b->cp.root,
                                               why, sizeof why);
            if (rc == 0) {
                printf("[%zu] and [%zu]: consistent\n", ia, ib);
            } else if (rc == PSI_ERR_VERIFY) {
                printf("[%zu] %s and [%zu] %s: NOT consistent: %s\n", ia, a->file, ib, b->file,
                       why);
                inconsistent++;
            } else {
                printf("[%zu] and [%zu]: not proven: %s\n", ia, ib, why);
                unproven++;
            }
        }
    }
    if (fflush(stdout) != 0)
        unproven++;
    if (inconsistent)
        status = AUDIT_FAIL("%zu pair(s) of checkpoints are not consistent: the hub showed "
                            "different logs",
                            inconsistent);
    else if (unproven)
        status = AUDIT_FAIL("%zu pair(s) of checkpoints could not be proven consistent", unproven);
    else
        printf("all %zu checkpoints are consistent\n", n);
out:
    for (size_t i = 0; i < n; i++)
        free(cps[i].note);
    free(cps);
    psi_hub_client_close(hub);
    if (have_session)
        psi_cli_session_close(&s);
    return status;
}

/* ---------------------------------------------------------------- export */

/* Bytes of one entry bundle at most: 256 entries with their lengths. */
#define BUNDLE_MAX ((size_t)PSI_TILE_WIDTH * (2u + PSI_LOGENTRY_MAX_BYTES))

struct export_pass {
    struct tree *tree;
    unsigned char *bundle;
    size_t bundle_len;
    const char *out;
    uint64_t bundles;
    int io_failed;
    char path[4200];
};

static int tile_file(char *out, size_t cap, const char *dir, int entries, unsigned level,
                     uint64_t index, unsigned width)
{
    char rel[PSI_TILE_PATH_MAX];
    size_t len = 0;
    int rc = entries ? psi_tile_entries_path(rel, sizeof rel, &len, index, width)
                     : psi_tile_path(rel, sizeof rel, &len, level, index, width);
    return rc ? rc : join(out, cap, dir, rel);
}

static int export_entry(void *ctx, uint64_t index, const unsigned char *entry, size_t len)
{
    struct export_pass *x = ctx;
    psi_merkle_leaf_hash(x->tree->leaves[index], entry, len);
    if (psi_tile_bundle_append(x->bundle, BUNDLE_MAX, &x->bundle_len, entry, len))
        return PSI_ERR_TOO_LARGE;
    /* A bundle is complete at a tile boundary or at the end of the tree. */
    if ((index + 1) % PSI_TILE_WIDTH == 0 || index + 1 == x->tree->size) {
        uint64_t b = index / PSI_TILE_WIDTH;
        unsigned width = psi_tile_width(0, b, x->tree->size);
        if (tile_file(x->path, sizeof x->path, x->out, 1, 0, b, width) || make_parents(x->path) ||
            write_file(x->path, x->bundle, x->bundle_len)) {
            x->io_failed = 1;
            return PSI_ERR_IO;
        }
        x->bundle_len = 0;
        x->bundles++;
    }
    return 0;
}

/* Writes (or, checking, compares) every hash tile of the tree. */
static int for_each_tile(struct tree *t, const char *dir, int check, uint64_t *tiles,
                         uint64_t *mismatched)
{
    struct psi_merkle_reader r = {t, tree_leaf, tree_subtree};
    unsigned char *tile = malloc(PSI_TILE_FULL_BYTES);
    char path[4200];
    int rc = tile ? 0 : PSI_ERR_NOMEM;
    for (unsigned level = 0; !rc && level < 8; level++) {
        if ((t->size >> (8 * level)) == 0)
            break;
        for (uint64_t i = 0; !rc; i++) {
            unsigned width = psi_tile_width(level, i, t->size);
            if (width == 0)
                break;
            size_t len = 0;
            rc = psi_tile_build(tile, PSI_TILE_FULL_BYTES, &len, &r, level, i, t->size);
            if (!rc)
                rc = tile_file(path, sizeof path, dir, 0, level, i, width);
            if (rc)
                break;
            (*tiles)++;
            if (!check) {
                if (make_parents(path) || write_file(path, tile, len)) {
                    fprintf(stderr, "psi audit: cannot write %s\n", path);
                    rc = PSI_ERR_IO;
                }
                continue;
            }
            char *held = NULL, err[512];
            size_t held_len = 0;
            if (read_file(path, PSI_TILE_FULL_BYTES, &held, &held_len, err, sizeof err)) {
                printf("tile %s: FAILED: %s\n", path, err);
                (*mismatched)++;
            } else if (held_len != len || memcmp(held, tile, len) != 0) {
                printf("tile %s: FAILED: not the hashes the entries give\n", path);
                (*mismatched)++;
                /* Level 0 holds the leaf hashes: name the entries. */
                for (size_t k = 0; level == 0 && held_len == len && k < len / 32; k++)
                    if (memcmp(held + 32 * k, tile + 32 * k, 32) != 0)
                        printf("entry %" PRIu64 ": its bundle does not hold the entry whose hash "
                               "%s holds\n",
                               i * PSI_TILE_WIDTH + k, path);
            }
            free(held);
        }
    }
    free(tile);
    return rc;
}

static int export_write(struct psi_cli_session *s, const char *out)
{
    char why[PSI_LOG_WHY_MAX], path[4200];
    struct psi_note_verifier key;
    struct psi_hub_client *hub = NULL;
    struct psi_checkpoint cp;
    char *note = NULL;
    struct tree tree = {0};
    struct export_pass x;
    int status = 0;
    memset(&x, 0, sizeof x);

    status = connect_at_checkpoint(s, &key, &hub, &cp, &note);
    if (status)
        goto out;
    /* Only a log consistent with what this state trusts is worth mirroring. */
    if (psi_log_trust(s->state, hub, &cp, note, "export", NULL, NULL, why, sizeof why)) {
        status = AUDIT_FAIL("%s", why);
        goto out;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        status = AUDIT_FAIL("cannot create %s: %s", out, strerror(errno));
        goto out;
    }
    x.bundle = malloc(BUNDLE_MAX);
    if (!x.bundle || tree_alloc(&tree, cp.size, why, sizeof why)) {
        status = AUDIT_FAIL("out of memory");
        goto out;
    }
    x.tree = &tree;
    x.out = out;
    why[0] = '\0';
    int rc = fetch_entries(hub, cp.size, export_entry, &x, why, sizeof why);
    if (rc) {
        status = x.io_failed ? AUDIT_FAIL("cannot write %s", x.path)
                             : AUDIT_FAIL("%s", why[0] ? why : psi_strerror(rc));
        goto out;
    }
    unsigned char root[32];
    if (tree_root(&tree, root) || sodium_memcmp(root, cp.root, 32) != 0) {
        status = AUDIT_FAIL("the entries the hub serves do not give its checkpoint's root: "
                            "run 'psi audit verify' (nothing exported)");
        goto out;
    }
    uint64_t tiles = 0, unused = 0;
    if (tree_tile_levels(&tree) || for_each_tile(&tree, out, 0, &tiles, &unused)) {
        status = AUDIT_FAIL("cannot write the tiles under %s", out);
        goto out;
    }
    /* The checkpoint last: a mirror never names a tree whose files are not
     * all there. */
    if (join(path, sizeof path, out, "checkpoint") || write_file(path, note, strlen(note))) {
        status = AUDIT_FAIL("cannot write %s/checkpoint", out);
        goto out;
    }
    printf("exported %" PRIu64 " entries (%" PRIu64 " entry bundles, %" PRIu64
           " tiles) of %s to %s, checkpoint size %" PRIu64 "\n",
           cp.size, x.bundles, tiles, cp.origin, out, cp.size);
out:
    free(x.bundle);
    tree_free(&tree);
    free(note);
    psi_hub_client_close(hub);
    return status;
}

static int export_verify(const struct psi_note_verifier *key, const char *out)
{
    char why[PSI_LOG_WHY_MAX], path[4200];
    char *note = NULL, *bundle = NULL;
    size_t note_len = 0;
    struct psi_checkpoint cp;
    struct tree tree = {0};
    struct psi_audit *audit = NULL;
    struct violation_printer printer = {0};
    int status = 0, failed = 0;

    if (join(path, sizeof path, out, "checkpoint") ||
        read_file(path, PSI_LOG_TEXT_MAX, &note, &note_len, why, sizeof why) ||
        psi_log_open_checkpoint(note, note_len, key, &cp, why, sizeof why)) {
        status = AUDIT_FAIL("%s/checkpoint: %s", out, why);
        goto out;
    }
    printf("checkpoint of %s, size %" PRIu64 " (signature by %s verified):\n", cp.origin, cp.size,
           key->name);
    print_note(note);
    if (tree_alloc(&tree, cp.size, why, sizeof why) ||
        psi_audit_create(&audit, key->public_key, print_violation, &printer)) {
        status = AUDIT_FAIL("out of memory");
        goto out;
    }
    /* The entries, from the bundles alone. */
    for (uint64_t b = 0; b * PSI_TILE_WIDTH < cp.size; b++) {
        unsigned width = psi_tile_width(0, b, cp.size);
        size_t len = 0, off = 0;
        free(bundle);
        bundle = NULL;
        if (tile_file(path, sizeof path, out, 1, 0, b, width) ||
            read_file(path, BUNDLE_MAX, &bundle, &len, why, sizeof why)) {
            status = AUDIT_FAIL("entry bundle %" PRIu64 ": %s", b, why);
            goto out;
        }
        for (unsigned i = 0; i < width; i++) {
            const unsigned char *entry = NULL;
            size_t entry_len = 0;
            if (psi_tile_bundle_next((const unsigned char *)bundle, len, &off, &entry,
                                     &entry_len)) {
                status = AUDIT_FAIL("%s holds %u entries, the checkpoint needs %u", path, i, width);
                goto out;
            }
            uint64_t index = b * PSI_TILE_WIDTH + i;
            psi_merkle_leaf_hash(tree.leaves[index], entry, entry_len);
            if (psi_audit_entry(audit, entry, entry_len)) {
                status = AUDIT_FAIL("out of memory");
                goto out;
            }
        }
        if (off != len) {
            status = AUDIT_FAIL("%s holds more than its %u entries", path, width);
            goto out;
        }
    }
    unsigned char root[32];
    if (tree_root(&tree, root)) {
        status = AUDIT_FAIL("cannot recompute the root");
        goto out;
    }
    if (sodium_memcmp(root, cp.root, 32) == 0) {
        printf("root: recomputed from the entry bundles alone, equal to the checkpoint's\n");
    } else {
        printf("root: FAILED: the entry bundles do not give the checkpoint's root\n");
        failed = 1;
    }
    uint64_t tiles = 0, mismatched = 0;
    if (tree_tile_levels(&tree) || for_each_tile(&tree, out, 1, &tiles, &mismatched)) {
        status = AUDIT_FAIL("cannot recompute the tiles");
        goto out;
    }
    printf("tiles: %" PRIu64 " compared, %" PRIu64 " differ from the entries\n", tiles, mismatched);
    if (mismatched)
        failed = 1;
    struct psi_audit_summary sum;
    psi_audit_get_summary(audit, &sum);
    print_summary(&sum);
    if (sum.violations)
        failed = 1;
    if (fflush(stdout) != 0)
        failed = 1;
    status = failed ? AUDIT_FAIL("the export in %s does NOT verify", out) : 0;
    if (!failed)
        printf("the export in %s verifies\n", out);
out:
    psi_audit_destroy(audit);
    tree_free(&tree);
    free(bundle);
    free(note);
    return status;
}

static int cmd_export(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&export_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[EXPORT_STATE], *out = args.value[EXPORT_OUT],
               *vkey = args.value[EXPORT_HUB_KEY];
    int check = args.given[EXPORT_VERIFY];
    if (!dir && !(check && vkey))
        return psi_cmdline_usage_error(export_command.name,
                                       "--state is needed, or --verify with --hub-key");
    if (check && vkey) {
        struct psi_note_verifier key;
        int rc = psi_note_verifier_parse(&key, vkey, strlen(vkey));
        if (rc)
            return AUDIT_FAIL("--hub-key: not a verifier key string: %s", psi_strerror(rc));
        return export_verify(&key, out);
    }
    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "audit", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    if (check) {
        struct psi_note_verifier key;
        char why[PSI_LOG_WHY_MAX];
        status = psi_log_key(&s.config, &key, why, sizeof why) ? AUDIT_FAIL("%s", why)
                                                               : export_verify(&key, out);
    } else {
        status = export_write(&s, out);
    }
    psi_cli_session_close(&s);
    return status;
}

/* ---------------------------------------------------------------- dispatch */

static const struct psi_cmdline_subcommand audit_subcommands[] = {
    {"verify", cmd_verify, "fetch the hub's whole log and re-run every check"},
    {"receipt", cmd_receipt, "verify receipts, each in a checkpoint consistent with the latest"},
    {"checkpoint", cmd_checkpoint, "print the newest checkpoint this state trusts (no network)"},
    {"compare", cmd_compare, "prove checkpoint files consistent with each other"},
    {"export", cmd_export, "write the log as static tlog-tiles files, or verify such a tree"},
};

static const struct psi_cmdline_group audit_group = {
    .name = "audit",
    .about = "Checks that the hub keeps its log honestly: append-only, every entry signed\n"
             "by its cause, every match allowed by policy, every count adding up. The\n"
             "log holds digests and counts, never indicators (docs/log.md).\n",
    PSI_CMDLINE_SUBCOMMANDS(audit_subcommands),
};

int psi_cmd_audit(int argc, char **argv)
{
    return psi_cmdline_dispatch(&audit_group, argc, argv);
}
