/*
 * What the benchmarks share: the machine's load average, printed beside
 * every figure (these machines are shared and noisy).
 */
#ifndef PSI_BENCH_UTIL_H
#define PSI_BENCH_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The 1-minute load average from /proc/loadavg, or -1 if unknown. */
static inline double bench_load_average(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    char line[128];
    double load = -1.0;
    if (f == NULL)
        return load;
    if (fgets(line, sizeof line, f) != NULL) {
        char *end = NULL;
        errno = 0;
        double v = strtod(line, &end);
        if (end != line && errno == 0 && (*end == ' ' || *end == '\n') && v >= 0.0)
            load = v;
    }
    fclose(f);
    return load;
}

#endif
