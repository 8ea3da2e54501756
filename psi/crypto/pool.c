#include "psi/pool.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "psi/error.h"

struct range_task {
    psi_range_fn fn;
    void *ctx;
    size_t begin;
    size_t end;
    size_t failed_at;
    int rc;
};

unsigned psi_online_cores(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    if (cores < 1) {
        return 1;
    }
    if ((unsigned long)cores > PSI_POOL_MAX_THREADS) {
        return PSI_POOL_MAX_THREADS;
    }
    return (unsigned)cores;
}

static void run_range(struct range_task *task)
{
    task->failed_at = task->begin;
    task->rc = task->fn(task->ctx, task->begin, task->end, &task->failed_at);
}

static void *range_thread(void *arg)
{
    run_range(arg);
    return NULL;
}

int psi_parallel_for(size_t n, unsigned threads, psi_range_fn fn, void *ctx, size_t *failed_at)
{
    struct range_task tasks[PSI_POOL_MAX_THREADS];
    pthread_t ids[PSI_POOL_MAX_THREADS];
    int started[PSI_POOL_MAX_THREADS];
    size_t per_range, n_ranges, r;

    if (fn == NULL) {
        return PSI_ERR_INVALID;
    }
    if (n == 0) {
        return PSI_OK;
    }
    if (threads == 0) {
        threads = psi_online_cores();
    }
    if (threads > PSI_POOL_MAX_THREADS) {
        threads = PSI_POOL_MAX_THREADS;
    }
    /* Split evenly, then round each range up to the alignment; rounding may
     * leave fewer ranges than threads, never more. */
    per_range = n / threads + (n % threads != 0);
    if (per_range <= SIZE_MAX - (PSI_POOL_RANGE_ALIGN - 1)) { /* else rounding up would wrap */
        per_range =
            (per_range + PSI_POOL_RANGE_ALIGN - 1) / PSI_POOL_RANGE_ALIGN * PSI_POOL_RANGE_ALIGN;
    }
    n_ranges = (n - 1) / per_range + 1; /* n > 0 */

    r = 0;
    do { /* at least one range */
        tasks[r].fn = fn;
        tasks[r].ctx = ctx;
        tasks[r].begin = r * per_range;
        tasks[r].end = r + 1 == n_ranges ? n : (r + 1) * per_range;
        tasks[r].failed_at = tasks[r].begin;
        tasks[r].rc = PSI_OK;
        started[r] = 0;
    } while (++r < n_ranges);
    for (r = 1; r < n_ranges; r++) {
        started[r] = pthread_create(&ids[r], NULL, range_thread, &tasks[r]) == 0;
    }
    run_range(&tasks[0]);
    for (r = 1; r < n_ranges; r++) {
        if (started[r]) {
            (void)pthread_join(ids[r], NULL);
        } else {
            run_range(&tasks[r]);
        }
    }
    for (r = 0; r < n_ranges; r++) {
        if (tasks[r].rc != PSI_OK) {
            if (failed_at != NULL) {
                *failed_at = tasks[r].failed_at;
            }
            return tasks[r].rc;
        }
    }
    return PSI_OK;
}
