/*
 * Epoch labels of the calendar: ISO 8601 weeks and UTC days.
 *
 * An epoch's label picks the blinding key and is part of every digest, so the
 * hub that announces it and the participant that checks it against its own
 * clock must derive it by the same rule, down to the last day of a year. This
 * module is that one rule. It promises:
 *
 *  - the week label "YYYY-Www" of a time is its ISO 8601 week: weeks start on
 *    Monday 00:00 UTC and belong to the year of their Thursday, so
 *    2021-01-03 is in 2020-W53 and 2024-12-30 in 2025-W01;
 *  - the day label "YYYY-MM-DD" of a time is its UTC date;
 *  - parsing is strict and the exact inverse: a label is a week or day label
 *    only if it has exactly that form and the calendar has that period (week
 *    53 only in the years that have one, 29 February only in leap years, years
 *    0001..9999); anything else is "manual", a label that says nothing about
 *    time;
 *  - for every week or day label, the label of its start time is the label.
 *
 * Times are Unix milliseconds (proleptic Gregorian calendar, no leap
 * seconds). Pure functions over numbers and strings: no clock, no I/O, no
 * allocation, no locale.
 */
#ifndef PSI_EPOCH_H
#define PSI_EPOCH_H

#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Characters of a week label ("2026-W48") and of a day label ("2026-11-27"),
 * without the terminating NUL. */
#define PSI_EPOCH_WEEK_LABEL_LEN 8U
#define PSI_EPOCH_DAY_LABEL_LEN 10U
/* A buffer that holds either label and its NUL. */
#define PSI_EPOCH_CALENDAR_LABEL_SIZE (PSI_EPOCH_DAY_LABEL_LEN + 1U)

/* Lengths of the periods, in milliseconds. */
#define PSI_EPOCH_DAY_MS ((int64_t)86400 * 1000)
#define PSI_EPOCH_WEEK_MS (7 * PSI_EPOCH_DAY_MS)

/* What a label says about time. */
enum psi_epoch_kind {
    PSI_EPOCH_KIND_MANUAL = 0, /* neither: the operator's word, no period */
    PSI_EPOCH_KIND_WEEK = 1,   /* "YYYY-Www", an ISO 8601 week */
    PSI_EPOCH_KIND_DAY = 2,    /* "YYYY-MM-DD", a UTC day */
};

/* The period a label names. */
struct psi_epoch_period {
    enum psi_epoch_kind kind;
    int64_t start_ms;  /* week/day: Unix ms of its first instant; manual: 0 */
    int64_t length_ms; /* PSI_EPOCH_WEEK_MS, PSI_EPOCH_DAY_MS; manual: 0 */
};

/*
 * Writes the week (kind PSI_EPOCH_KIND_WEEK) or day (PSI_EPOCH_KIND_DAY) label
 * of the time unix_ms, NUL-terminated, into out[0..outlen).
 * Errors: PSI_ERR_INVALID for a NULL out, the manual kind, or a time whose
 * label's year is not 0001..9999 (the label has four digits for it);
 * PSI_ERR_TOO_LARGE when the label and its NUL do not fit in outlen (out is
 * then the empty string if outlen > 0).
 */
PSI_EXPORT PSI_MUST_CHECK int psi_epoch_label_of_time(enum psi_epoch_kind kind, int64_t unix_ms,
                                                      char *out, size_t outlen);

/*
 * Classifies label: a week label, a day label, or neither (manual), and for
 * week and day labels the period it names, into *period. Every string is one
 * of the three, so the only error is PSI_ERR_INVALID for a NULL argument.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_epoch_label_parse(const char *label,
                                                    struct psi_epoch_period *period);

#ifdef __cplusplus
}
#endif
#endif
