/*
 * The operator's log: what psi-hub serve says on stderr, one line per event,
 * each at a level (error, warn, info, debug), as text or as JSON lines
 * (`--log-level`, `--log-format`). Not the audit log (log.h): this one is
 * the operator's, unsigned, and forgets nothing it was not told.
 *
 * The request line is built from the pipeline's outcome, never from the
 * request: a participant (as verified, or as the request claimed it when it
 * was refused before its signature verified, and then marked so), the
 * method, the result, the duration and the bytes in and out. Indicators,
 * elements, tags and keys never reach it. Its level says what the operator
 * should make of it: answers of normal use (ok, and the "not there (yet)"
 * a client resumes or polls on) are info, refusals are warn, the hub's own
 * failures are error.
 *
 * The settings are the process's (serve sets them once, before any thread
 * starts); each line is written with one call, so lines of concurrent
 * requests never interleave.
 */
#ifndef PSI_HUB_OPLOG_H
#define PSI_HUB_OPLOG_H

#include <stddef.h>
#include <stdint.h>

enum psi_oplog_level { PSI_OPLOG_ERROR, PSI_OPLOG_WARN, PSI_OPLOG_INFO, PSI_OPLOG_DEBUG };
enum psi_oplog_format { PSI_OPLOG_TEXT, PSI_OPLOG_JSON };

/* "error" ... "debug" / "text", "json": 0, or -1 for another word. */
int psi_oplog_parse_level(const char *word, enum psi_oplog_level *level);
int psi_oplog_parse_format(const char *word, enum psi_oplog_format *format);
const char *psi_oplog_level_name(enum psi_oplog_level level);

/* The process's settings (default: info, text). */
void psi_oplog_setup(enum psi_oplog_level level, enum psi_oplog_format format);
/* 1 under --log-format json. */
int psi_oplog_json(void);
/* 1 if a line of that level is written under the settings. */
int psi_oplog_enabled(enum psi_oplog_level level);

/* An event line: "psi-hub: " and the message in text, {"msg": ...} in
 * JSON. */
void psi_oplog_say(enum psi_oplog_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One request, as the pipeline's outcome says it. */
struct psi_oplog_request {
    const char *participant; /* "-" when the request named none it could read */
    int verified;            /* participant authenticated (else: as claimed) */
    const char *method;      /* "-" when the seal did not open */
    int status;              /* 0 or the psi error code answered */
    uint64_t duration_ms;
    uint64_t bytes_in, bytes_out;
};

/* The level a request's line is written at (see the opening paragraph). */
enum psi_oplog_level psi_oplog_request_level(const char *method, int status);
/* 1 if the status is a refusal of the request (its line is a warning). */
int psi_oplog_is_refusal(const char *method, int status);

void psi_oplog_request(const struct psi_oplog_request *r);

/* The line psi_oplog_request would write at `now_ms`, into out (NUL
 * terminated, without the newline); for tests. */
size_t psi_oplog_format_request(char *out, size_t cap, uint64_t now_ms,
                                const struct psi_oplog_request *r);

#endif
