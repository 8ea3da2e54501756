/*
 * Identifiers: the one rule for each name that crosses a layer.
 *
 * Participant ids, epoch labels, method names and roles appear on the wire,
 * in the hub's store, in every audit log entry, in feed filters and signed
 * statements, and in the participant's state. Each layer used to check them
 * with its own copy; this module is the only definition, and every layer
 * (libpsi, proto/, server/, client/) checks with it. It promises:
 *
 *  - participant id: 1..PSI_ID_MAX (64) bytes of [A-Za-z0-9._-], not
 *    starting with '.' or '-' (an id is a file name and a command-line
 *    argument: never a hidden file, a path step or an option);
 *  - epoch label: 1..PSI_EPOCH_LABEL_MAX (64) bytes of [A-Za-z0-9._:-];
 *    this is the syntax only. Whether a label names an ISO week or a UTC day,
 *    and which, is the calendar rule of psi/epoch.h; every week or day label
 *    is a valid epoch label, the others are "manual" labels;
 *  - method name: 1..PSI_METHOD_MAX (32) bytes of [a-z0-9._-];
 *  - role: agency, vendor or auditor, with the names and the numbers the
 *    audit log encodes (1, 2, 3; 0 is no role).
 *
 * The limits were chosen once, to keep every format valid as it was: the
 * audit log and feed filters encode ids and labels with a u8 length and had
 * allowed 64-byte ids and labels (the hub had taken labels of at most 32
 * bytes only; it now takes 64, which every participant and auditor already
 * read); the log had allowed method names of [a-z0-9._-], the wire [a-z.]
 * (the wire now takes the log's, so no name valid anywhere became invalid).
 * A layer that needs a stricter rule for its own reason states it on top of
 * these functions, never as a copy. docs/wire.md, "Identifiers", says the
 * same for people.
 *
 * Strings are NUL-terminated and read up to one byte past the limit, so an
 * unterminated fixed-size field is refused, not overrun. Pure functions: no
 * I/O, no allocation, no locale.
 */
#ifndef PSI_IDENT_H
#define PSI_IDENT_H

#include <stddef.h>

#include "psi/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest participant id, epoch label and method name, in bytes (without
 * the NUL; a buffer for one has the limit + 1). */
#define PSI_ID_MAX 64U
#define PSI_EPOCH_LABEL_MAX 64U
#define PSI_METHOD_MAX 32U

/* 1 if `id` is a valid participant id, else 0 (also for NULL). */
PSI_EXPORT int psi_id_is_valid(const char *id);

/* 1 if `label` is a valid epoch label, else 0 (also for NULL). */
PSI_EXPORT int psi_epoch_label_is_valid(const char *label);

/* 1 if `method` is a valid method name, else 0 (also for NULL). Whether the
 * hub has a method of that name is the hub's business. */
PSI_EXPORT int psi_method_name_is_valid(const char *method);

/* The roles, numbered as the audit log encodes them (docs/log.md). */
enum psi_role {
    PSI_ROLE_NONE = 0, /* not a role: what psi_role_parse answers for no name */
    PSI_ROLE_AGENCY = 1,
    PSI_ROLE_VENDOR = 2,
    PSI_ROLE_AUDITOR = 3,
};
#define PSI_ROLE_MAX 3U

/* The name of a role: "agency", "vendor", "auditor"; "unknown" for any other
 * number (so it can always be printed). */
PSI_EXPORT const char *psi_role_name(unsigned role);

/* The role of that exact name, or PSI_ROLE_NONE for any other string or NULL. */
PSI_EXPORT enum psi_role psi_role_parse(const char *name);

/* 1 if `role` is one of the three roles, else 0. */
PSI_EXPORT int psi_role_is_valid(unsigned role);

#ifdef __cplusplus
}
#endif
#endif
