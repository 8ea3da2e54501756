/*
 * The operator's commands on a hub directory: init, admit, policy, remove,
 * epoch, roster, quota. They work on the store directly, also while the hub serves
 * (the store serialises writers), each change in one transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cmdline.h"
#include "commands.h"
#include "epoch.h"
#include "feeds.h"
#include "hub.h"
#include "log.h"
#include "psi/error.h"
#include "psi/ident.h"

/* A roster entry of the audit log holds at most this many ids. */
#define MAX_SHARE_WITH ((size_t)PSI_LOGENTRY_SHARE_MAX)

/* "all" or ID[,ID...]: share_all, or a malloc'd list of ids. Returns 0, or
 * the exit status of the error it printed (a usage error, or out of memory). */
static int parse_share_with(const char *cmd, const char *text, int *share_all,
                            char (**list)[PSI_STORE_ID_MAX + 1], size_t *count)
{
    int status = PSI_CMDLINE_EXIT_USAGE;
    *list = NULL;
    *count = 0;
    *share_all = 0;
    if (strcmp(text, "all") == 0) {
        *share_all = 1;
        return 0;
    }
    size_t cap = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char id[PSI_STORE_ID_MAX + 1];
        if (n == 0 || n > PSI_STORE_ID_MAX) {
            psi_cmdline_usage_error(cmd, "--share-with wants all or ID[,ID...], not '%s'", text);
            goto bad;
        }
        memcpy(id, p, n);
        id[n] = '\0';
        if (!psi_id_is_valid(id)) {
            psi_cmdline_usage_error(cmd, "'%s' in --share-with is not a participant id", id);
            goto bad;
        }
        if (*count == cap) {
            if (cap >= MAX_SHARE_WITH) {
                psi_cmdline_usage_error(cmd, "--share-with lists more than %zu ids",
                                        MAX_SHARE_WITH);
                goto bad;
            }
            size_t ncap = cap ? cap * 2 : 8;
            void *m = realloc(*list, ncap * sizeof **list);
            if (m == NULL) {
                status = psi_cmdline_fail(cmd, "out of memory");
                goto bad;
            }
            *list = m;
            cap = ncap;
        }
        memcpy((*list)[(*count)++], id, n + 1);
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
bad:
    free(*list);
    *list = NULL;
    *count = 0;
    return status;
}

/* ---------------------------------------------------------------- the store */

/* The backend of the hub being administered: chosen by open_store (or by
 * init), once per command, from what the directory holds. */
static const struct psi_store_ops *store_ops;

static int open_store(const char *cmd, const char *dir, struct psi_store **st)
{
    char path[4096], err[512];
    int rc = psi_store_in_dir(dir, NULL, &store_ops, path, sizeof path, err, sizeof err);
    if (rc == PSI_ERR_NOT_FOUND) {
        psi_cmdline_note(cmd, "no hub in %s (%s)", dir, err);
        return -1;
    }
    if (rc != 0) {
        psi_cmdline_note(cmd, "%s", err);
        return -1;
    }
    if (store_ops->open(path, st, err, sizeof err) != 0) {
        psi_cmdline_note(cmd, "%s", err);
        return -1;
    }
    return 0;
}

/* The hub's key: roster changes are entries of the audit log, whose
 * checkpoints the hub signs. */
static int load_hub_key(const char *cmd, const char *dir, struct psi_identity *hub)
{
    char path[4096], why[256] = "";
    memset(hub, 0, sizeof *hub);
    int n = snprintf(path, sizeof path, "%s/" PSI_HUB_KEY_FILE, dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        psi_cmdline_note(cmd, "directory path too long");
        return -1;
    }
    int rc = psi_identity_load(hub, path, why, sizeof why);
    if (rc != 0) {
        psi_cmdline_note(cmd, "cannot load the hub key %s: %s", path,
                         why[0] ? why : psi_strerror(rc));
        return -1;
    }
    return 0;
}

/* The roster entry of participant id as the change left it, and a checkpoint
 * over it: in t, so the entry commits with the change. An admission keeps
 * the index of its entry with the participant: the roster hands the entry
 * out, for parties to prove it included in a checkpoint. */
static int log_roster_change(struct psi_txn *t, const struct psi_identity *hub,
                             enum psi_logentry_kind kind, const char *id)
{
    struct psi_store_participant p;
    uint64_t index = 0;
    int rc = store_ops->participant_get(t, id, &p);
    if (rc == 0)
        rc = psi_hub_log_roster(t, kind, &p, psi_hub_now_ms(), &index);
    if (rc == 0 && kind == PSI_LOGENTRY_ADMIT)
        rc = store_ops->participant_set_admit_index(t, id, index);
    if (rc == 0)
        rc = psi_hub_log_seal(t, hub, NULL);
    psi_store_participant_clear(&p);
    return rc;
}

static int store_error(const char *cmd, struct psi_store *st, int rc)
{
    if (rc == PSI_ERR_STORE)
        psi_cmdline_note(cmd, "store: %s", store_ops->last_error(st));
    else
        psi_cmdline_note(cmd, "%s", psi_strerror(rc));
    return 1;
}

/* Begins a write transaction *t (the caller rolls it back in every case) and
 * reads participant id into *p. Returns the store's code; a participant that
 * does not exist or is removed is said on stderr ("participant 'ID'
 * <removed_words>") and sets *said to 1 instead. */
static int begin_on_live_participant(const char *cmd, struct psi_store *st, const char *id,
                                     const char *removed_words, struct psi_txn *t,
                                     struct psi_store_participant *p, int *said)
{
    int rc = psi_txn_begin(t, store_ops, st, PSI_TXN_WRITE);
    if (rc == 0)
        rc = store_ops->participant_get(t, id, p);
    if (rc == PSI_ERR_NOT_FOUND) {
        psi_cmdline_note(cmd, "no participant '%s'", id);
        *said = 1;
        return 0;
    }
    if (rc == 0 && p->removed) {
        psi_cmdline_note(cmd, "participant '%s' %s", id, removed_words);
        *said = 1;
    }
    return rc;
}

static void print_shares(int share_all, char (*share_with)[PSI_STORE_ID_MAX + 1], size_t count)
{
    if (share_all) {
        printf("all");
        return;
    }
    if (count == 0)
        printf("nobody");
    for (size_t i = 0; i < count; i++)
        printf("%s%s", i ? "," : "", share_with[i]);
}

/* The operator's policy of p. */
static void print_policy(const struct psi_store_participant *p)
{
    if (psi_role_parse(p->role) == PSI_ROLE_AUDITOR) {
        printf("audits");
        return;
    }
    printf("%s, shares with ", p->contribute_only ? "contribute-only" : "receives results");
    print_shares(p->share_all, p->share_with, p->share_count);
}

/* The party's own statement of p, which narrows the operator's policy. */
static void print_party_policy(const struct psi_store_participant *p)
{
    if (!p->party.set) {
        printf("no statement");
        return;
    }
    printf("%s, shares with ", p->party.contribute_only ? "contribute-only" : "receives results");
    print_shares(p->party.share_all, p->party.share_with, p->party.share_count);
    printf(" (issued %llu ms, entry %llu)", (unsigned long long)p->party.issued_ms,
           (unsigned long long)p->party.log_index);
}

/* ---------------------------------------------------------------- init */

enum { INIT_DIR, INIT_NAME, INIT_EPOCH, INIT_THRESHOLD, INIT_MAX_MESSAGE, INIT_STORE };

static const struct psi_cmdline_option init_options[] = {
    [INIT_DIR] = {.name = "dir",
                  .value_name = "DIR",
                  .required = true,
                  .help = "the hub's directory, created here; an existing one\nis refused"},
    [INIT_NAME] = {.name = "name",
                   .value_name = "NAME",
                   .required = true,
                   .help = "the hub's name (1..64 of [A-Za-z0-9._-])"},
    [INIT_EPOCH] = {.name = "epoch",
                    .value_name = "week|day|manual:LABEL",
                    .help = "week: ISO weeks (2026-W48, UTC; the default);\n"
                            "day: 2026-11-27; manual:LABEL: LABEL until\n"
                            "`psi-hub epoch --set` changes it"},
    [INIT_THRESHOLD] = {.name = "threshold",
                        .value_name = "T",
                        .help = "reveal a position to its owner only when at least\n"
                                "T parties hold it, the owner included (2..1000,\n"
                                "default 2)"},
    [INIT_MAX_MESSAGE] = {.name = "max-message-bytes",
                          .value_name = "N",
                          .help = "largest request accepted (65536..268435456,\n"
                                  "default 8388608)"},
    [INIT_STORE] = {.name = "store",
                    .value_name = "sqlite|URL",
                    .help = "where the hub keeps its state: sqlite (DIR/hub.db,\n"
                            "the default), or a PostgreSQL database named by a\n"
                            "libpq URL (postgresql://...; DIR/store.url keeps it),\n"
                            "which several psi-hub serve processes may share"},
};

static const struct psi_cmdline_command init_command = {
    .name = "init",
    .about =
        "Creates DIR (mode 0700) with the hub's identity key DIR/hub.key (0600) and\n"
        "its store (DIR/hub.db, or --store), and prints as its last line the hub's verifier key,\n"
        "for participants to trust.\n",
    PSI_CMDLINE_OPTIONS(init_options),
};

_Static_assert(PSI_ID_MAX == 64U && PSI_HUB_MAX_THRESHOLD == 1000U &&
                   PSI_HUB_DEFAULT_THRESHOLD == 2U && PSI_HUB_MIN_MAX_MESSAGE == 65536U &&
                   PSI_HUB_MAX_MAX_MESSAGE == 268435456U && PSI_HUB_DEFAULT_MAX_MESSAGE == 8388608U,
               "init_options states the limits and defaults");

static void undo_init(const char *dir, const char *key_path, const char *store_path, int store_made)
{
    if (store_made)
        store_ops->destroy(store_path);
    psi_store_unbind_dir(dir, store_ops);
    unlink(key_path);
    rmdir(dir);
}

int psi_hub_cmd_init(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&init_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[INIT_DIR], *name = args.value[INIT_NAME];
    const char *epoch = args.value[INIT_EPOCH] ? args.value[INIT_EPOCH] : "week";
    if (!psi_id_is_valid(name))
        return psi_cmdline_usage_error("init", "the name must be 1..%u of [A-Za-z0-9._-], not '%s'",
                                       PSI_ID_MAX, name);
    enum psi_epoch_mode mode;
    char label[PSI_EPOCH_LABEL_MAX + 1];
    if (psi_epoch_mode_parse(epoch, &mode, label) != 0)
        return psi_cmdline_usage_error("init",
                                       "--epoch wants week, day or manual:LABEL (LABEL 1..%u of "
                                       "[A-Za-z0-9._:-]), not '%s'",
                                       PSI_EPOCH_LABEL_MAX, epoch);
    uint64_t threshold = PSI_HUB_DEFAULT_THRESHOLD, max_message = PSI_HUB_DEFAULT_MAX_MESSAGE;
    if ((status = psi_cmdline_option_u64(&init_command, &args, INIT_THRESHOLD, 2,
                                         PSI_HUB_MAX_THRESHOLD, &threshold)) ||
        (status =
             psi_cmdline_option_u64(&init_command, &args, INIT_MAX_MESSAGE, PSI_HUB_MIN_MAX_MESSAGE,
                                    PSI_HUB_MAX_MAX_MESSAGE, &max_message)))
        return status;
    char key_path[4096], store_path[4096], where_err[256];
    int n1 = snprintf(key_path, sizeof key_path, "%s/" PSI_HUB_KEY_FILE, dir);
    /* A new hub gets the default backend unless --store names another. */
    int where = psi_store_for_new_hub(dir, args.value[INIT_STORE], &store_ops, store_path,
                                      sizeof store_path, where_err, sizeof where_err);
    if (where != 0)
        return psi_cmdline_usage_error("init", "%s", where_err);
    if (n1 < 0 || (size_t)n1 >= sizeof key_path)
        return psi_cmdline_usage_error("init", "directory path too long");
    if (mkdir(dir, 0700) != 0) {
        if (errno == EEXIST)
            fprintf(stderr,
                    "psi-hub init: %s exists already; a hub is created in a new "
                    "directory\n",
                    dir);
        else
            psi_cmdline_note("init", "cannot create %s: %s", dir, strerror(errno));
        return 1;
    }
    (void)chmod(dir, 0700);

    struct psi_identity id;
    memset(&id, 0, sizeof id);
    struct psi_store *st = NULL;
    int store_made = 0;
    char vkey[PSI_VKEY_MAX], err[512];
    int rc = psi_identity_generate(&id, name);
    if (rc != 0) {
        psi_cmdline_note("init", "cannot generate the hub key: %s", psi_strerror(rc));
        goto fail;
    }
    rc = psi_identity_save(&id, key_path);
    if (rc != 0) {
        psi_cmdline_note("init", "cannot write %s: %s", key_path, psi_strerror(rc));
        goto fail;
    }
    rc = psi_identity_vkey(&id, vkey, sizeof vkey);
    if (rc != 0) {
        psi_cmdline_note("init", "cannot format the verifier key: %s", psi_strerror(rc));
        goto fail;
    }
    /* A store that was there before (a database that holds one) is never
     * undone; one half made is. */
    rc = store_ops->create(store_path, &st, err, sizeof err);
    store_made = rc != PSI_ERR_EXISTS;
    if (rc != 0) {
        psi_cmdline_note("init", "%s", err);
        goto fail;
    }
    rc = psi_store_bind_dir(dir, store_ops, store_path, err, sizeof err);
    if (rc != 0) {
        psi_cmdline_note("init", "%s", err);
        goto fail;
    }
    char threshold_s[16], max_s[16], created_s[24];
    snprintf(threshold_s, sizeof threshold_s, "%u", (unsigned)threshold);
    snprintf(max_s, sizeof max_s, "%u", (unsigned)max_message);
    snprintf(created_s, sizeof created_s, "%llu", (unsigned long long)psi_hub_now_ms());
    struct psi_txn t;
    rc = psi_txn_begin(&t, store_ops, st, PSI_TXN_WRITE);
    if (rc == 0)
        rc = store_ops->meta_set(&t, PSI_META_NAME, name);
    if (rc == 0)
        rc = store_ops->meta_set(&t, PSI_META_EPOCH_MODE, psi_epoch_mode_name(mode));
    if (rc == 0 && mode == PSI_EPOCH_MANUAL)
        rc = store_ops->meta_set(&t, PSI_META_EPOCH_LABEL, label);
    if (rc == 0)
        rc = store_ops->meta_set(&t, PSI_META_THRESHOLD, threshold_s);
    if (rc == 0)
        rc = store_ops->meta_set(&t, PSI_META_MAX_MESSAGE, max_s);
    if (rc == 0)
        rc = store_ops->meta_set(&t, "created_ms", created_s);
    /* The log starts with a signed checkpoint of the empty tree, so that
     * the first thing anyone trusts is the hub's word that it was empty. */
    if (rc == 0)
        rc = psi_hub_log_seal(&t, &id, NULL);
    if (rc == 0)
        rc = psi_txn_commit(&t);
    else
        psi_txn_rollback(&t);
    if (rc != 0) {
        store_error("init", st, rc);
        goto fail;
    }
    store_ops->close(st);
    psi_identity_clear(&id);
    printf("psi-hub: created hub %s in %s (epoch %s, threshold %u)\n", name, dir, epoch,
           (unsigned)threshold);
    printf("%s\n", vkey);
    return 0;

fail:
    if (st != NULL)
        store_ops->close(st);
    psi_identity_clear(&id);
    undo_init(dir, key_path, store_path, store_made);
    return 1;
}

/* ---------------------------------------------------------------- admit */

enum { ADMIT_DIR, ADMIT_ID, ADMIT_ROLE, ADMIT_KEY, ADMIT_SHARE_WITH, ADMIT_CONTRIBUTE_ONLY };

static const struct psi_cmdline_option admit_options[] = {
    [ADMIT_DIR] = {.name = "dir", .value_name = "DIR", .required = true, .help = "the hub"},
    [ADMIT_ID] = {.name = "id",
                  .value_name = "ID",
                  .required = true,
                  .help = "the participant's id (1..64 of [A-Za-z0-9._-])"},
    [ADMIT_ROLE] = {.name = "role",
                    .value_name = "agency|vendor|auditor",
                    .required = true,
                    .help = "the participant's role"},
    [ADMIT_KEY] = {.name = "key",
                   .value_name = "VKEY",
                   .required = true,
                   .help = "the key string `psi init` printed (its name must be ID)"},
    [ADMIT_SHARE_WITH] = {.name = "share-with",
                          .value_name = "all|ID,...",
                          .help = "whom its overlaps are shared with (default all); a\n"
                                  "pair is matched only when both sides allow each other"},
    [ADMIT_CONTRIBUTE_ONLY] = {.name = "contribute-only",
                               .help = "it gives (submits, cross-blinds) but gets no results"},
};

static const struct psi_cmdline_command admit_command = {
    .name = "admit",
    .about = "Admits a participant with the key string `psi init` printed.\n",
    PSI_CMDLINE_OPTIONS(admit_options),
    .epilogue = "An admitted id is changed with `psi-hub policy`, not admitted again. A key\n"
                "belongs to one participant: one another participant holds (or held before\n"
                "its removal) is refused.\n",
};

/* Finds the participant, removed or not, that holds a public key. */
struct key_owner {
    const unsigned char *key;
    char id[PSI_STORE_ID_MAX + 1];
};

static int find_key_owner(void *ctx, const struct psi_store_participant *p)
{
    struct key_owner *o = ctx;
    if (sodium_memcmp(p->public_key, o->key, PSI_STORE_KEY_BYTES) == 0)
        snprintf(o->id, sizeof o->id, "%s", p->id);
    return 0;
}

int psi_hub_cmd_admit(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&admit_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[ADMIT_DIR], *id = args.value[ADMIT_ID],
               *role = args.value[ADMIT_ROLE], *vkey = args.value[ADMIT_KEY];
    const char *share = args.value[ADMIT_SHARE_WITH] ? args.value[ADMIT_SHARE_WITH] : "all";
    int contribute_only = args.given[ADMIT_CONTRIBUTE_ONLY];
    if (!psi_id_is_valid(id))
        return psi_cmdline_usage_error(
            "admit", "'%s' is not a participant id (1..%u of [A-Za-z0-9._-])", id, PSI_ID_MAX);
    if (psi_role_parse(role) == PSI_ROLE_NONE)
        return psi_cmdline_usage_error("admit",
                                       "--role must be agency, vendor or auditor, not '%s'", role);
    struct psi_store_participant p;
    memset(&p, 0, sizeof p);
    if ((status = parse_share_with("admit", share, &p.share_all, &p.share_with, &p.share_count)))
        return status;
    char key_name[65];
    if (psi_vkey_parse(vkey, key_name, p.public_key) != 0) {
        psi_cmdline_note("admit", "--key is not a verifier key string "
                                  "(NAME+KEYID+BASE64)");
        psi_store_participant_clear(&p);
        return 1;
    }
    if (strcmp(key_name, id) != 0) {
        psi_cmdline_note("admit", "the key is for '%s', not '%s'", key_name, id);
        psi_store_participant_clear(&p);
        return 1;
    }
    snprintf(p.id, sizeof p.id, "%s", id);
    snprintf(p.role, sizeof p.role, "%s", role);
    p.contribute_only = contribute_only;

    struct psi_store *st = NULL;
    struct psi_identity hub;
    if (open_store("admit", dir, &st) != 0) {
        psi_store_participant_clear(&p);
        return 1;
    }
    if (load_hub_key("admit", dir, &hub) != 0) {
        store_ops->close(st);
        psi_store_participant_clear(&p);
        return 1;
    }
    struct psi_txn t;
    /* One key, one participant: a request names its sender, and a key held
     * by two ids would let its holder act as either. */
    struct key_owner owner = {p.public_key, ""};
    int rc = psi_txn_begin(&t, store_ops, st, PSI_TXN_WRITE);
    if (rc == 0)
        rc = store_ops->participant_list(&t, find_key_owner, &owner);
    int key_taken = rc == 0 && owner.id[0] != '\0' && strcmp(owner.id, id) != 0;
    if (rc == 0 && !key_taken)
        rc = store_ops->participant_add(&t, &p, psi_hub_now_ms());
    if (rc == 0 && !key_taken)
        rc = log_roster_change(&t, &hub, PSI_LOGENTRY_ADMIT, id);
    if (rc == 0 && !key_taken)
        rc = psi_txn_commit(&t);
    else
        psi_txn_rollback(&t);
    psi_identity_clear(&hub);
    int ret = 0;
    if (rc == PSI_ERR_EXISTS) {
        psi_cmdline_note("admit", "participant '%s' exists already; use psi-hub policy", id);
        ret = 1;
    } else if (key_taken) {
        fprintf(stderr,
                "psi-hub admit: this key is already admitted as '%s' (removed participants "
                "included); each participant needs a key of its own\n",
                owner.id);
        ret = 1;
    } else if (rc != 0) {
        ret = store_error("admit", st, rc);
    } else {
        printf("psi-hub: admitted %s (%s; ", id, role);
        print_policy(&p);
        printf(")\n");
    }
    store_ops->close(st);
    psi_store_participant_clear(&p);
    return ret;
}

/* ---------------------------------------------------------------- policy */

enum { POLICY_DIR, POLICY_ID, POLICY_SHARE_WITH, POLICY_CONTRIBUTE_ONLY, POLICY_RECEIVE };

static const struct psi_cmdline_option policy_options[] = {
    [POLICY_DIR] = {.name = "dir", .value_name = "DIR", .required = true, .help = "the hub"},
    [POLICY_ID] = {.name = "id", .value_name = "ID", .required = true, .help = "the participant"},
    [POLICY_SHARE_WITH] = {.name = "share-with",
                           .value_name = "all|ID,...",
                           .help = "whom its overlaps are shared with"},
    [POLICY_CONTRIBUTE_ONLY] = {.name = "contribute-only",
                                .help = "it gets no results from now on"},
    [POLICY_RECEIVE] = {.name = "receive", .help = "it gets results again"},
};

static const struct psi_cmdline_command policy_command = {
    .name = "policy",
    .about = "Changes a participant's policy: give at least one option besides --dir and\n"
             "--id. Results follow the current policy: a pair no longer allowed is no\n"
             "longer revealed.\n",
    PSI_CMDLINE_OPTIONS(policy_options),
};

int psi_hub_cmd_policy(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&policy_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[POLICY_DIR], *id = args.value[POLICY_ID],
               *share = args.value[POLICY_SHARE_WITH];
    int contribute_only = args.given[POLICY_CONTRIBUTE_ONLY], receive = args.given[POLICY_RECEIVE];
    if (contribute_only && receive)
        return psi_cmdline_usage_error("policy",
                                       "--contribute-only and --receive exclude each other");
    if (share == NULL && !contribute_only && !receive)
        return psi_cmdline_usage_error(
            "policy", "nothing to change: give --share-with, --contribute-only or --receive");
    int share_all = 0;
    char(*list)[PSI_STORE_ID_MAX + 1] = NULL;
    size_t count = 0;
    if (share != NULL && (status = parse_share_with("policy", share, &share_all, &list, &count)))
        return status;

    struct psi_store *st = NULL;
    struct psi_identity hub;
    if (open_store("policy", dir, &st) != 0) {
        free(list);
        return 1;
    }
    if (load_hub_key("policy", dir, &hub) != 0) {
        store_ops->close(st);
        free(list);
        return 1;
    }
    struct psi_store_participant p;
    memset(&p, 0, sizeof p);
    struct psi_txn t;
    int ret = 0;
    int rc = begin_on_live_participant("policy", st, id, "was removed", &t, &p, &ret);
    if (rc == 0 && ret == 0) {
        if (share != NULL) {
            psi_store_participant_clear(&p);
            p.share_all = share_all;
            p.share_with = list;
            p.share_count = count;
            list = NULL;
        }
        if (contribute_only)
            p.contribute_only = 1;
        if (receive)
            p.contribute_only = 0;
        rc = store_ops->participant_set_policy(&t, id, p.share_all,
                                               (const char(*)[PSI_STORE_ID_MAX + 1]) p.share_with,
                                               p.share_count, p.contribute_only);
        if (rc == 0)
            rc = log_roster_change(&t, &hub, PSI_LOGENTRY_POLICY, id);
        if (rc == 0)
            rc = psi_txn_commit(&t);
    }
    if (ret == 0 && rc != 0)
        ret = store_error("policy", st, rc);
    psi_txn_rollback(&t);
    psi_identity_clear(&hub);
    if (ret == 0) {
        printf("psi-hub: %s now ", id);
        print_policy(&p);
        printf("\n");
    }
    psi_store_participant_clear(&p);
    free(list);
    store_ops->close(st);
    return ret;
}

/* ---------------------------------------------------------------- remove */

enum { REMOVE_DIR, REMOVE_ID };

static const struct psi_cmdline_option remove_options[] = {
    [REMOVE_DIR] = {.name = "dir", .value_name = "DIR", .required = true, .help = "the hub"},
    [REMOVE_ID] = {.name = "id", .value_name = "ID", .required = true, .help = "the participant"},
};

static const struct psi_cmdline_command remove_command = {
    .name = "remove",
    .about = "Removes a participant: its requests are refused from now on; its data stays\n"
             "but is no longer matched or revealed to others.\n",
    PSI_CMDLINE_OPTIONS(remove_options),
};

int psi_hub_cmd_remove(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&remove_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[REMOVE_DIR], *id = args.value[REMOVE_ID];
    struct psi_store *st = NULL;
    struct psi_identity hub;
    if (open_store("remove", dir, &st) != 0)
        return 1;
    if (load_hub_key("remove", dir, &hub) != 0) {
        store_ops->close(st);
        return 1;
    }
    struct psi_store_participant p;
    memset(&p, 0, sizeof p);
    struct psi_txn t;
    int ret = 0;
    int rc = begin_on_live_participant("remove", st, id, "is already removed", &t, &p, &ret);
    if (rc == 0 && ret == 0) {
        rc = store_ops->participant_remove(&t, id);
        if (rc == 0)
            rc = log_roster_change(&t, &hub, PSI_LOGENTRY_REMOVE, id);
        if (rc == 0)
            rc = psi_txn_commit(&t);
    }
    if (ret == 0 && rc != 0)
        ret = store_error("remove", st, rc);
    psi_txn_rollback(&t);
    psi_identity_clear(&hub);
    if (ret == 0)
        printf("psi-hub: removed %s\n", id);
    psi_store_participant_clear(&p);
    store_ops->close(st);
    return ret;
}

/* ---------------------------------------------------------------- epoch */

enum { EPOCH_DIR, EPOCH_SET };

static const struct psi_cmdline_option epoch_options[] = {
    [EPOCH_DIR] = {.name = "dir", .value_name = "DIR", .required = true, .help = "the hub"},
    [EPOCH_SET] = {.name = "set",
                   .value_name = "LABEL",
                   .help = "make LABEL (1..64 of [A-Za-z0-9._:-]) the current\n"
                           "epoch (manual mode only)"},
};

static const struct psi_cmdline_command epoch_command = {
    .name = "epoch",
    .about = "Prints the current epoch. In manual mode, --set LABEL makes LABEL the\n"
             "current epoch: submissions and cross-blind batches of the previous epoch\n"
             "are refused from then on.\n",
    PSI_CMDLINE_OPTIONS(epoch_options),
};

_Static_assert(PSI_EPOCH_LABEL_MAX == 64U, "epoch_options states the label's length");

int psi_hub_cmd_epoch(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&epoch_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[EPOCH_DIR], *label = args.value[EPOCH_SET];
    if (label != NULL && !psi_epoch_label_is_valid(label))
        return psi_cmdline_usage_error("epoch",
                                       "an epoch label is 1..%u of [A-Za-z0-9._:-], not '%s'",
                                       PSI_EPOCH_LABEL_MAX, label);
    struct psi_store *st = NULL;
    if (open_store("epoch", dir, &st) != 0)
        return 1;
    struct psi_txn t;
    char mode[16] = "", current[PSI_EPOCH_LABEL_MAX + 1] = "";
    int ret = 0;
    int rc = psi_txn_begin(&t, store_ops, st, label != NULL ? PSI_TXN_WRITE : PSI_TXN_READ);
    if (rc == 0)
        rc = store_ops->meta_get(&t, PSI_META_EPOCH_MODE, mode, sizeof mode);
    if (rc == 0 && label != NULL) {
        if (strcmp(mode, "manual") != 0) {
            fprintf(stderr,
                    "psi-hub epoch: the epoch mode is %s; --set needs a hub created "
                    "with --epoch manual:LABEL\n",
                    mode);
            ret = 1;
        } else {
            char key[sizeof PSI_META_PRUNED_PREFIX + PSI_EPOCH_LABEL_MAX], when[32];
            snprintf(key, sizeof key, PSI_META_PRUNED_PREFIX "%s", label);
            rc = store_ops->meta_get(&t, key, when, sizeof when);
            if (rc == 0) {
                /* Its positions would start again from 0 beside the log's
                 * entries of the sets that were removed. */
                fprintf(stderr,
                        "psi-hub epoch: epoch %s was pruned (psi-hub prune); a pruned epoch "
                        "cannot be made current again\n",
                        label);
                ret = 1;
            } else if (rc == PSI_ERR_NOT_FOUND) {
                rc = store_ops->meta_set(&t, PSI_META_EPOCH_LABEL, label);
            }
        }
    }
    if (rc == 0 && ret == 0)
        rc = psi_hub_current_epoch(&t, psi_hub_now_ms(), current, sizeof current);
    if (rc == 0 && ret == 0)
        rc = psi_txn_commit(&t);
    if (ret == 0 && rc != 0)
        ret = store_error("epoch", st, rc);
    psi_txn_rollback(&t);
    if (ret == 0)
        printf("%s\n", current);
    store_ops->close(st);
    return ret;
}

/* ---------------------------------------------------------------- roster */

enum { ROSTER_DIR };

static const struct psi_cmdline_option roster_options[] = {
    [ROSTER_DIR] = {.name = "dir", .value_name = "DIR", .required = true, .help = "the hub"},
};

static const struct psi_cmdline_command roster_command = {
    .name = "roster",
    .about = "Lists the participants, one a line: id, role, status, the operator's policy,\n"
             "the party's own statement (policy.set; the hub acts on the operator's policy\n"
             "narrowed by it), the log entry that admitted it, verifier key.\n",
    PSI_CMDLINE_OPTIONS(roster_options),
};

static int print_participant(void *ctx, const struct psi_store_participant *p)
{
    (void)ctx;
    struct psi_identity id;
    memset(&id, 0, sizeof id);
    snprintf(id.name, sizeof id.name, "%s", p->id);
    memcpy(id.public_key, p->public_key, sizeof id.public_key);
    char vkey[PSI_VKEY_MAX] = "?";
    if (psi_identity_vkey(&id, vkey, sizeof vkey) != 0)
        snprintf(vkey, sizeof vkey, "?");
    printf("%-20s %-8s %-8s ", p->id, p->role, p->removed ? "removed" : "active");
    print_policy(p);
    if (psi_role_parse(p->role) != PSI_ROLE_AUDITOR) {
        printf("; party: ");
        print_party_policy(p);
    }
    if (p->admit_logged)
        printf("; admitted at entry %llu", (unsigned long long)p->admit_index);
    printf("  %s\n", vkey);
    return 0;
}

int psi_hub_cmd_roster(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&roster_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[ROSTER_DIR];
    struct psi_store *st = NULL;
    if (open_store("roster", dir, &st) != 0)
        return 1;
    struct psi_txn t;
    int rc = psi_txn_begin(&t, store_ops, st, PSI_TXN_READ);
    if (rc == 0)
        rc = store_ops->participant_list(&t, print_participant, NULL);
    psi_txn_rollback(&t);
    int ret = rc != 0 ? store_error("roster", st, rc) : 0;
    store_ops->close(st);
    return ret;
}

/* ---------------------------------------------------------------- quota */

enum { QUOTA_DIR, QUOTA_ID, QUOTA_ELEMENTS, QUOTA_AGENCY, QUOTA_VENDOR, QUOTA_LIMIT, QUOTA_COUNT };

static const struct psi_cmdline_option quota_options[] = {
    [QUOTA_DIR] = {.name = "dir", .value_name = "DIR", .required = true, .help = "the hub"},
    [QUOTA_ID] = {.name = "id", .value_name = "ID", .help = "the participant (element quota)"},
    [QUOTA_ELEMENTS] = {.name = "elements",
                        .value_name = "N",
                        .help = "elements it may submit per epoch (element quota)"},
    [QUOTA_AGENCY] = {.name = "agency", .value_name = "ID", .help = "the agency (query quota)"},
    [QUOTA_VENDOR] = {.name = "vendor", .value_name = "ID", .help = "the vendor (query quota)"},
    [QUOTA_LIMIT] = {.name = "limit",
                     .value_name = "N",
                     .help = "feed queries per epoch (query quota)"},
};

static const struct psi_cmdline_command quota_command = {
    .name = "quota",
    .about = "Two forms:\n"
             "  psi-hub quota --dir DIR --id ID --elements N\n"
             "  psi-hub quota --dir DIR --agency ID --vendor ID --limit N\n"
             "\n"
             "--id ID --elements N: sets how many elements participant ID may submit in\n"
             "each epoch (0..2^63-1; 0 refuses every submission). Without one the quota\n"
             "is 1000000 (PSI_ELEMENT_QUOTA_DEFAULT). A submission that would pass it is\n"
             "refused whole.\n"
             "\n"
             "--agency ID --vendor ID --limit N: sets how many feed queries agency ID may\n"
             "send to vendor ID's feed in each epoch (0..2^63-1; 0 refuses every query).\n"
             "Without a quota an agency may not query the vendor at all. A batch that\n"
             "would pass the limit is refused whole.\n",
    PSI_CMDLINE_OPTIONS(quota_options),
    .epilogue = "Both are entries of the audit log (ELEMENT_QUOTA, QUOTA), refusals are\n"
                "logged, and the auditor checks that every epoch kept the quota in force.\n",
};

_Static_assert(PSI_ELEMENT_QUOTA_DEFAULT == 1000000U, "quota_command states the default");

/* The element quota of participant id, its ELEMENT_QUOTA entry, in t. err
 * says why for PSI_ERR_NOT_FOUND (no such participant) and PSI_ERR_DENIED
 * (removed, or an auditor, who never submits). */
static int element_quota_set(struct psi_txn *t, const char *id, uint64_t limit, char *err,
                             size_t errlen)
{
    const struct psi_store_ops *ops = t->ops;
    struct psi_store_participant p;
    int rc = ops->participant_get(t, id, &p);
    if (rc == PSI_ERR_NOT_FOUND)
        snprintf(err, errlen, "no participant '%s'", id);
    else if (rc == 0 && (p.removed || psi_role_parse(p.role) == PSI_ROLE_AUDITOR)) {
        snprintf(err, errlen, "'%s' is %s", id,
                 p.removed ? "removed" : "an auditor, who submits nothing");
        rc = PSI_ERR_DENIED;
    }
    if (rc != PSI_ERR_NOT_FOUND)
        psi_store_participant_clear(&p);
    if (rc == 0)
        rc = ops->element_quota_set(t, id, limit);
    if (rc == 0) {
        struct psi_logentry e;
        memset(&e, 0, sizeof e);
        e.kind = PSI_LOGENTRY_ELEMENT_QUOTA;
        e.time_ms = psi_hub_now_ms();
        snprintf(e.u.element_quota.participant, sizeof e.u.element_quota.participant, "%s", id);
        e.u.element_quota.limit = limit;
        rc = psi_hub_log_append(t, &e, NULL);
    }
    return rc;
}

int psi_hub_cmd_quota(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&quota_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[QUOTA_DIR], *id = args.value[QUOTA_ID],
               *agency = args.value[QUOTA_AGENCY], *vendor = args.value[QUOTA_VENDOR];
    bool elements_form = args.given[QUOTA_ID] || args.given[QUOTA_ELEMENTS];
    if (elements_form &&
        (args.given[QUOTA_AGENCY] || args.given[QUOTA_VENDOR] || args.given[QUOTA_LIMIT]))
        return psi_cmdline_usage_error("quota", "--id/--elements (an element quota) and "
                                                "--agency/--vendor/--limit (a query quota) are "
                                                "two forms; give one");
    /* What the form needs, in the order of its synopsis. */
    static const size_t element_form[] = {QUOTA_ID, QUOTA_ELEMENTS, QUOTA_COUNT};
    static const size_t query_form[] = {QUOTA_AGENCY, QUOTA_VENDOR, QUOTA_LIMIT, QUOTA_COUNT};
    for (const size_t *k = elements_form ? element_form : query_form; *k != QUOTA_COUNT; k++)
        if (!args.given[*k])
            return psi_cmdline_usage_error("quota", "option '--%s' is required",
                                           quota_options[*k].name);
    uint64_t limit = 0;
    if ((status = psi_cmdline_option_u64(&quota_command, &args,
                                         elements_form ? QUOTA_ELEMENTS : QUOTA_LIMIT, 0,
                                         (uint64_t)INT64_MAX, &limit)))
        return status;
    const char *ids[] = {elements_form ? id : agency, elements_form ? NULL : vendor};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] != NULL && !psi_id_is_valid(ids[i]))
            return psi_cmdline_usage_error("quota", "'%s' is not a participant id", ids[i]);
    struct psi_store *st = NULL;
    struct psi_identity hub;
    if (load_hub_key("quota", dir, &hub) != 0)
        return 1;
    if (open_store("quota", dir, &st) != 0) {
        psi_identity_clear(&hub);
        return 1;
    }
    struct psi_txn t;
    char why[256] = "";
    int ret = 0;
    int rc = psi_txn_begin(&t, store_ops, st, PSI_TXN_WRITE);
    if (rc == 0 && elements_form)
        rc = element_quota_set(&t, id, limit, why, sizeof why);
    else if (rc == 0)
        rc = psi_feed_quota_set(&t, agency, vendor, limit, psi_hub_now_ms(), why, sizeof why);
    if (rc == PSI_ERR_NOT_FOUND || rc == PSI_ERR_DENIED || rc == PSI_ERR_INVALID) {
        psi_cmdline_note("quota", "%s", why);
        ret = 1;
    } else if (rc == 0) {
        rc = psi_hub_log_seal(&t, &hub, NULL);
        if (rc == 0)
            rc = psi_txn_commit(&t);
    }
    if (ret == 0 && rc != 0)
        ret = store_error("quota", st, rc);
    psi_txn_rollback(&t);
    psi_identity_clear(&hub);
    if (ret == 0 && elements_form)
        printf("psi-hub: %s may submit %llu elements per epoch\n", id, (unsigned long long)limit);
    else if (ret == 0)
        printf("psi-hub: %s may send %llu queries per epoch to %s's feed\n", agency,
               (unsigned long long)limit, vendor);
    store_ops->close(st);
    return ret;
}
