/*
 * Epochs: the periods whose keys and tags belong together. A new epoch makes
 * the tags of the last one unlinkable, so every submission and cross-blind
 * batch names the epoch it belongs to and the hub accepts only the current
 * one. The label is part of every digest, so it is a short printable string:
 * its syntax and limit (PSI_EPOCH_LABEL_MAX, psi_epoch_label_is_valid) are
 * psi/ident.h's, the calendar of week and day labels psi/epoch.h's.
 *
 * Modes: "week" (ISO 8601 week of the UTC date, "2026-W48"), "day"
 * ("2026-11-27", UTC) and "manual" (a label the operator sets).
 */
#ifndef PSI_HUB_EPOCH_H
#define PSI_HUB_EPOCH_H

#include <stddef.h>
#include <stdint.h>

#include "psi/ident.h"

enum psi_epoch_mode { PSI_EPOCH_WEEK, PSI_EPOCH_DAY, PSI_EPOCH_MANUAL };

/* Parses "week", "day" or "manual:LABEL" (label into label, for manual). */
int psi_epoch_mode_parse(const char *text, enum psi_epoch_mode *mode,
                         char label[PSI_EPOCH_LABEL_MAX + 1]);
const char *psi_epoch_mode_name(enum psi_epoch_mode mode);

/* The label of the epoch that contains unix_seconds, for week and day mode,
 * by the rule of psi/epoch.h (the one the participants check it with).
 * 0, or PSI_ERR_INVALID for manual mode or a time before 1970 or past 9999. */
int psi_epoch_label_at(enum psi_epoch_mode mode, int64_t unix_seconds,
                       char out[PSI_EPOCH_LABEL_MAX + 1]);

#endif
