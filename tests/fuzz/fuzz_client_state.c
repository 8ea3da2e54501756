/* Fuzz target: the client's local state database (client/state.c), as `psi`
 * opens it at every command. The bytes become DIR/state.db (SQLite itself is
 * fuzzed upstream; what is tested here is the client's handling of rows and
 * values it did not write: damaged counts, blobs of the wrong size, missing
 * tables, texts too long). The database is opened with psi_state_open and
 * every read path runs: configuration, pending submission and its
 * indicators, positions, agent work, results, checkpoints and receipts.
 * Each must return 0 or a negative code, and whatever it returns must be
 * whole. */
#include <unistd.h>

#include "fuzz.h"
#include "state.h"

static int count_receipt(void *ctx, const char *what, uint64_t submission_id, const char *receipt)
{
    (void)submission_id;
    FUZZ_CHECK(what != NULL && receipt != NULL, "a receipt walked is whole");
    ++*(size_t *)ctx;
    return 0;
}

static void read_everything(struct psi_state *st)
{
    struct psi_state_config cfg;
    (void)psi_state_config_get(st, &cfg);
    struct psi_state_submission sub;
    const char *epoch = FUZZ_EPOCH;
    if (psi_state_pending_get(st, &sub) == 0) {
        struct psi_state_indicator_list list;
        if (psi_state_pending_items(st, sub.upload_id, &list) == 0) {
            for (size_t i = 0; i < list.count; i++)
                FUZZ_CHECK(list.items[i].type && list.items[i].value, "a pending item is whole");
            psi_state_indicator_list_clear(&list);
        }
        epoch = sub.epoch;
    }
    uint64_t count = 0;
    (void)psi_state_submitted_count(st, epoch, &count);
    for (uint64_t position = 0; position < 3; position++) {
        struct psi_state_indicator ind;
        if (psi_state_position_get(st, epoch, position, &ind) == 0) {
            FUZZ_CHECK(ind.type && ind.value, "a position maps to a whole indicator");
            psi_state_indicator_clear(&ind);
        }
        struct psi_state_work work;
        (void)psi_state_work_get(st, position + 1, &work);
    }
    struct psi_state_result_list results;
    if (psi_state_results_get(st, epoch, &results) == 0) {
        for (size_t i = 0; i < results.count; i++)
            FUZZ_CHECK(results.items[i].type && results.items[i].value &&
                           results.items[i].n_peers > 0,
                       "a result is a whole indicator with its peers");
        psi_state_result_list_clear(&results);
    }
    struct psi_state_checkpoint cp;
    if (psi_state_checkpoint_latest(st, &cp) == 0) {
        FUZZ_CHECK(cp.note && cp.source, "a checkpoint is whole");
        psi_state_checkpoint_clear(&cp);
    }
    size_t receipts = 0;
    (void)psi_state_receipts_each(st, count_receipt, &receipts);
    struct psi_state_indicator probe = {"ipv4", "192.0.2.1"};
    unsigned char keep = 2;
    if (psi_state_filter_new(st, epoch, &probe, 1, &keep) == 0)
        FUZZ_CHECK(keep <= 1, "the filter says keep or not");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[4096], db[4200], wal[4210], shm[4210];
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "%s/psi-fuzz-state-XXXXXX", fuzz_tmpdir());
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(db, sizeof db, "%s/" PSI_STATE_DB_NAME, dir);
        snprintf(wal, sizeof wal, "%s-wal", db);
        snprintf(shm, sizeof shm, "%s-shm", db);
    }
    unlink(wal);
    unlink(shm);
    FILE *f = fopen(db, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    struct psi_state *st = NULL;
    int rc = psi_state_open(&st, dir);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && st == NULL, "a refused database is a negative code and no state");
        return 0;
    }
    read_everything(st);
    psi_state_close(st);
    return 0;
}
