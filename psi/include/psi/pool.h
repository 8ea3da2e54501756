/*
 * Bounded data parallelism for batch crypto.
 *
 * Blinding, re-blinding and tagging cost one or two scalar multiplications per
 * element and are independent across elements, so a batch is split into at
 * most `threads` contiguous ranges, one per worker thread, the caller's thread
 * being one of them. Never a thread per element, never more than
 * PSI_POOL_MAX_THREADS. Contiguous ranges whose boundaries fall on multiples of
 * PSI_POOL_RANGE_ALIGN elements keep threads from writing the same output cache
 * line. If a thread cannot be started its range runs on the caller's thread,
 * so the work always completes. Threads live only for one call.
 */
#ifndef PSI_POOL_H
#define PSI_POOL_H

#include <stddef.h>

#include "psi/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Upper bound on worker threads of one call, whatever the caller asks. */
#define PSI_POOL_MAX_THREADS 256U
/* Range boundaries are multiples of this many elements (8 elements of 16 or
 * 32 bytes fill whole 64-byte cache lines), so a range holds at least this
 * many elements unless it is the last one. */
#define PSI_POOL_RANGE_ALIGN 8U

/*
 * Work on elements [begin, end). Returns 0 or a negative psi error code; on
 * error it stops and sets *failed_at to the index of the element that failed
 * (it may leave *failed_at alone when no element is to blame).
 */
typedef int (*psi_range_fn)(void *ctx, size_t begin, size_t end, size_t *failed_at);

/* Number of online cores (at least 1). */
PSI_EXPORT PSI_MUST_CHECK unsigned psi_online_cores(void);

/*
 * Run fn over [0, n) split into contiguous ranges across at most `threads`
 * threads (0 means psi_online_cores()). fn must be safe to run concurrently on
 * disjoint ranges. Returns 0 if every range succeeded; otherwise the error of
 * the failing range that starts lowest, and, if failed_at is not NULL, the
 * index it reported — the same answer whatever the number of threads when fn
 * stops at the first failure of its range. n == 0 calls nothing.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_parallel_for(size_t n, unsigned threads, psi_range_fn fn,
                                               void *ctx, size_t *failed_at);

#ifdef __cplusplus
}
#endif
#endif
