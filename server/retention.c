/*
 * The operator's commands that keep a hub's disk in check: prune (removes
 * the data of old epochs, then gives the space back) and backup (a
 * consistent copy of the store). Both work on the store directly, also while
 * the hub serves; what they do and what they leave is docs/operations.md,
 * "Back up and prune".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmdline.h"
#include "commands.h"
#include "hub.h"
#include "psi/error.h"

#define MAX_KEEP_EPOCHS 1000000u

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Opens the store of hub directory dir; says why not in one line. */
static int open_hub_store(const char *cmd, const char *dir, const struct psi_store_ops **ops,
                          struct psi_store **st)
{
    char location[4096], err[512];
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        psi_cmdline_note(cmd, "no hub directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        psi_cmdline_note(cmd, "%s is not a hub directory", dir);
        return -1;
    }
    int rc = psi_store_in_dir(dir, NULL, ops, location, sizeof location, err, sizeof err);
    if (rc == PSI_ERR_NOT_FOUND) {
        psi_cmdline_note(cmd, "no hub in %s (%s)", dir, err);
        return -1;
    }
    if (rc != 0 || (*ops)->open(location, st, err, sizeof err) != 0) {
        psi_cmdline_note(cmd, "%s", err);
        return -1;
    }
    return 0;
}

static int store_failure(const char *cmd, const struct psi_store_ops *ops, struct psi_store *st,
                         int rc)
{
    if (rc == PSI_ERR_STORE)
        return psi_cmdline_fail(cmd, "store: %s", ops->last_error(st));
    return psi_cmdline_fail(cmd, "%s", psi_strerror(rc));
}

/* ---------------------------------------------------------------- prune */

enum { PRUNE_DIR, PRUNE_KEEP };

static const struct psi_cmdline_option prune_options[] = {
    [PRUNE_DIR] = {.name = "dir", .value_name = "DIR", .required = true, .help = "the hub"},
    [PRUNE_KEEP] = {.name = "keep-epochs",
                    .value_name = "N",
                    .required = true,
                    .help = "keep the N most recent epochs that hold data (N >= 1)"},
};

static const struct psi_cmdline_command prune_command = {
    .name = "prune",
    .about = "Removes the data of every epoch older than the N most recent epochs that hold\n"
             "data: submissions and their elements, cross-blind batches, tags, matches,\n"
             "vendor feeds and feed query batches. The current epoch is always kept. Epochs\n"
             "are ordered by the time they last received data. The audit log stays whole:\n"
             "its entries still verify. The delete is one transaction, taken while the hub\n"
             "serves; then the store is compacted (SQLite: a full VACUUM, during which the\n"
             "hub's writes wait; PostgreSQL: the epoch's tag partition is dropped, then a\n"
             "plain VACUUM). Prints what it removed per epoch and the store's size before\n"
             "and after. A pruned epoch cannot be made current again.\n",
    PSI_CMDLINE_OPTIONS(prune_options),
};

_Static_assert(MAX_KEEP_EPOCHS == 1000000u, "a bound on N that no hub reaches");

struct epoch_choice {
    const char *current;
    uint64_t keep;
    uint64_t kept;
    size_t count;
    struct psi_store_epoch_usage *prune; /* malloc'd, count of them */
    int failed;
};

static int choose_epoch(void *ctx, const struct psi_store_epoch_usage *u)
{
    struct epoch_choice *c = ctx;
    if (strcmp(u->epoch, c->current) == 0 || c->kept < c->keep) {
        c->kept++;
        printf("psi-hub prune: keeping epoch %s (%" PRIu64 " sets, %" PRIu64 " elements)\n",
               u->epoch, u->submissions, u->elements);
        return 0;
    }
    void *m = realloc(c->prune, (c->count + 1) * sizeof *c->prune);
    if (m == NULL) {
        c->failed = 1;
        return PSI_ERR_NOMEM;
    }
    c->prune = m;
    c->prune[c->count++] = *u;
    return 0;
}

int psi_hub_cmd_prune(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&prune_command, argc, argv, &args, &status))
        return status;
    uint64_t keep = 0;
    if ((status = psi_cmdline_option_u64(&prune_command, &args, PRUNE_KEEP, 1, MAX_KEEP_EPOCHS,
                                         &keep)) != 0)
        return status;
    const char *dir = args.value[PRUNE_DIR];
    const struct psi_store_ops *ops = NULL;
    struct psi_store *st = NULL;
    if (open_hub_store("prune", dir, &ops, &st) != 0)
        return 1;
    uint64_t before = 0, after = 0;
    char current[PSI_EPOCH_LABEL_MAX + 1] = "";
    struct epoch_choice choice = {.current = current, .keep = keep};
    struct psi_txn t;
    int rc = ops->disk_bytes(st, &before);
    if (rc == 0)
        rc = psi_txn_begin(&t, ops, st, PSI_TXN_WRITE);
    if (rc != 0) {
        status = store_failure("prune", ops, st, rc);
        goto out;
    }
    rc = psi_hub_current_epoch(&t, psi_hub_now_ms(), current, sizeof current);
    if (rc == 0)
        rc = ops->epoch_list(&t, choose_epoch, &choice);
    for (size_t i = 0; rc == 0 && i < choice.count; i++) {
        struct psi_store_epoch_usage removed;
        char key[sizeof PSI_META_PRUNED_PREFIX + PSI_EPOCH_LABEL_MAX], when[32];
        rc = ops->epoch_prune(&t, choice.prune[i].epoch, &removed);
        snprintf(key, sizeof key, PSI_META_PRUNED_PREFIX "%s", choice.prune[i].epoch);
        snprintf(when, sizeof when, "%" PRIu64, psi_hub_now_ms());
        if (rc == 0)
            rc = ops->meta_set(&t, key, when);
        choice.prune[i] = removed;
    }
    if (rc == 0)
        rc = psi_txn_commit(&t);
    psi_txn_rollback(&t);
    if (rc != 0) {
        status = store_failure("prune", ops, st, rc);
        goto out;
    }
    for (size_t i = 0; i < choice.count; i++) {
        const struct psi_store_epoch_usage *u = &choice.prune[i];
        printf("psi-hub prune: removed epoch %s: %" PRIu64 " sets, %" PRIu64 " elements, %" PRIu64
               " cross-blind batches, %" PRIu64 " tags, %" PRIu64 " matches, %" PRIu64
               " feeds, %" PRIu64 " feed keys, %" PRIu64 " query batches\n",
               u->epoch, u->submissions, u->elements, u->crossblinds, u->tags, u->matches, u->feeds,
               u->feed_keys, u->queries);
    }
    if (choice.count == 0) {
        printf("psi-hub prune: nothing to prune (%" PRIu64 " epochs hold data); the store "
               "takes %" PRIu64 " bytes\n",
               choice.kept, before);
        goto out;
    }
    fflush(stdout);
    double start = monotonic_s();
    rc = ops->compact(st);
    double took = monotonic_s() - start;
    if (rc == 0)
        rc = ops->disk_bytes(st, &after);
    if (rc != 0) {
        status = store_failure("prune", ops, st, rc);
        goto out;
    }
    printf("psi-hub prune: %zu epoch%s removed; the store took %" PRIu64 " bytes, now %" PRIu64
           " (compacted in %.2f s)\n",
           choice.count, choice.count == 1 ? "" : "s", before, after, took);
out:
    free(choice.prune);
    ops->close(st);
    if (fflush(stdout) != 0 && status == 0)
        status = 1;
    return status;
}

/* ---------------------------------------------------------------- backup */

enum { BACKUP_DIR, BACKUP_OUT, BACKUP_FORCE };

static const struct psi_cmdline_option backup_options[] = {
    [BACKUP_DIR] = {.name = "dir", .value_name = "DIR", .required = true, .help = "the hub"},
    [BACKUP_OUT] = {.name = "out",
                    .value_name = "FILE",
                    .required = true,
                    .help = "the copy of the store to write (mode 0600)"},
    [BACKUP_FORCE] = {.name = "force", .help = "replace FILE if it exists"},
};

static const struct psi_cmdline_command backup_command = {
    .name = "backup",
    .about = "Writes a consistent copy of the hub's store, as of one moment, to FILE while\n"
             "the hub serves (SQLite's online backup; the hub's requests go on). The copy\n"
             "is the store alone: the hub key DIR/hub.key is not in it and is backed up\n"
             "once, apart. To restore: a new directory (mode 0700) with the key as\n"
             "hub.key (0600) and FILE as hub.db (docs/operations.md, \"Back up and prune\").\n"
             "FILE appears only when it is whole. A PostgreSQL store is refused: back it up\n"
             "with pg_dump (docs/operations.md).\n",
    PSI_CMDLINE_OPTIONS(backup_options),
};

int psi_hub_cmd_backup(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&backup_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[BACKUP_DIR], *out = args.value[BACKUP_OUT];
    int force = args.given[BACKUP_FORCE];
    struct stat sb;
    if (stat(out, &sb) == 0 && !force)
        return psi_cmdline_fail("backup", "%s exists (--force replaces it)", out);
    if (stat(out, &sb) == 0 && !S_ISREG(sb.st_mode))
        return psi_cmdline_fail("backup", "%s is not a file", out);
    const struct psi_store_ops *ops = NULL;
    struct psi_store *st = NULL;
    if (open_hub_store("backup", dir, &ops, &st) != 0)
        return 1;
    /* With --force the new copy is written beside the old one and replaces
     * it only when whole. */
    char target[4200], err[512] = "";
    int n = force ? snprintf(target, sizeof target, "%s.new-%ld", out, (long)getpid())
                  : snprintf(target, sizeof target, "%s", out);
    if (n < 0 || (size_t)n >= sizeof target) {
        ops->close(st);
        return psi_cmdline_fail("backup", "the path %s is too long", out);
    }
    double start = monotonic_s();
    int rc = ops->backup(st, target, err, sizeof err);
    double took = monotonic_s() - start;
    ops->close(st);
    if (rc == PSI_ERR_UNSUPPORTED)
        return psi_cmdline_fail("backup", "the %s store cannot copy itself into a file: %s",
                                ops->backend, err);
    if (rc != 0)
        return psi_cmdline_fail("backup", "%s", err);
    if (force && rename(target, out) != 0) {
        status = psi_cmdline_fail("backup", "cannot replace %s: %s", out, strerror(errno));
        unlink(target);
        return status;
    }
    long long size = stat(out, &sb) == 0 ? (long long)sb.st_size : -1;
    printf("psi-hub backup: the store of %s copied to %s (%lld bytes in %.2f s); the hub key "
           "%s/" PSI_HUB_KEY_FILE " is not in it\n",
           dir, out, size, took, dir);
    if (fflush(stdout) != 0)
        return 1;
    return 0;
}
