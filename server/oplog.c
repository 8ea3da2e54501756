/* The operator's log (oplog.h). */
#include "oplog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "hub.h"
#include "psi/error.h"

static enum psi_oplog_level current_level = PSI_OPLOG_INFO;
static enum psi_oplog_format current_format = PSI_OPLOG_TEXT;

static const char *const LEVEL_NAMES[] = {
    [PSI_OPLOG_ERROR] = "error",
    [PSI_OPLOG_WARN] = "warn",
    [PSI_OPLOG_INFO] = "info",
    [PSI_OPLOG_DEBUG] = "debug",
};

int psi_oplog_parse_level(const char *word, enum psi_oplog_level *level)
{
    for (size_t i = 0; i < sizeof LEVEL_NAMES / sizeof LEVEL_NAMES[0]; i++)
        if (strcmp(word, LEVEL_NAMES[i]) == 0) {
            *level = (enum psi_oplog_level)i;
            return 0;
        }
    return -1;
}

int psi_oplog_parse_format(const char *word, enum psi_oplog_format *format)
{
    if (strcmp(word, "text") == 0)
        *format = PSI_OPLOG_TEXT;
    else if (strcmp(word, "json") == 0)
        *format = PSI_OPLOG_JSON;
    else
        return -1;
    return 0;
}

const char *psi_oplog_level_name(enum psi_oplog_level level)
{
    return (unsigned)level < sizeof LEVEL_NAMES / sizeof LEVEL_NAMES[0] ? LEVEL_NAMES[level] : "?";
}

void psi_oplog_setup(enum psi_oplog_level level, enum psi_oplog_format format)
{
    current_level = level;
    current_format = format;
}

int psi_oplog_json(void)
{
    return current_format == PSI_OPLOG_JSON;
}

int psi_oplog_enabled(enum psi_oplog_level level)
{
    return level <= current_level;
}

/* 2026-12-02T13:45:01.123Z */
static void format_time(char *out, size_t cap, uint64_t now_ms)
{
    time_t secs = (time_t)(now_ms / 1000u);
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&secs, &tm) != NULL)
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03uZ", when, (unsigned)(now_ms % 1000u));
}

/* Writes one line (a newline added) in one call. */
static void write_line(const char *line)
{
    fprintf(stderr, "%s\n", line);
}

/* A JSON object as one line, consumed; "{}" if it cannot be encoded. */
static void write_json(json_t *obj)
{
    char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
    write_line(text != NULL ? text : "{}");
    free(text);
    json_decref(obj);
}

void psi_oplog_say(enum psi_oplog_level level, const char *fmt, ...)
{
    if (!psi_oplog_enabled(level))
        return;
    char msg[1024], when[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    format_time(when, sizeof when, psi_hub_now_ms());
    if (current_format == PSI_OPLOG_JSON) {
        write_json(json_pack("{s:s, s:s, s:s}", "time", when, "level", psi_oplog_level_name(level),
                             "msg", msg));
        return;
    }
    char line[1200];
    snprintf(line, sizeof line, "%s %s psi-hub: %s", when, psi_oplog_level_name(level), msg);
    write_line(line);
}

/* Answers a client meets in normal use and acts on: nothing there (yet) —
 * a resumed submit.commit whose upload is gone or incomplete, a log without
 * a checkpoint, a feed not yet published —, already done (a retried
 * answer), or a new epoch the client has not moved to. */
static int is_expected(const char *method, int status)
{
    switch (status) {
    case PSI_ERR_NOT_FOUND:
    case PSI_ERR_EXISTS:
    case PSI_ERR_EPOCH: return 1;
    case PSI_ERR_PROTOCOL: return strcmp(method, "submit.commit") == 0;
    default: return 0;
    }
}

/* The hub's own failures, not the request's. */
static int is_hub_failure(int status)
{
    switch (status) {
    case PSI_ERR_STORE:
    case PSI_ERR_NOMEM:
    case PSI_ERR_IO:
    case PSI_ERR_CRYPTO:
    case PSI_ERR_STATE:
    case PSI_ERR_NETWORK:
    case PSI_ERR_TIMEOUT: return 1;
    default: return 0;
    }
}

enum psi_oplog_level psi_oplog_request_level(const char *method, int status)
{
    if (status == 0 || is_expected(method, status))
        return PSI_OPLOG_INFO;
    return is_hub_failure(status) ? PSI_OPLOG_ERROR : PSI_OPLOG_WARN;
}

int psi_oplog_is_refusal(const char *method, int status)
{
    return psi_oplog_request_level(method, status) == PSI_OPLOG_WARN;
}

size_t psi_oplog_format_request(char *out, size_t cap, uint64_t now_ms,
                                const struct psi_oplog_request *r)
{
    char when[48];
    format_time(when, sizeof when, now_ms);
    const char *level = psi_oplog_level_name(psi_oplog_request_level(r->method, r->status));
    if (current_format == PSI_OPLOG_JSON) {
        json_t *obj = json_pack(
            "{s:s, s:s, s:s, s:b, s:s, s:s, s:I, s:I, s:I}", "time", when, "level", level,
            "participant", r->participant, "verified", r->verified, "method", r->method, "result",
            psi_hub_status_name(r->status), "duration_ms", (json_int_t)r->duration_ms, "bytes_in",
            (json_int_t)r->bytes_in, "bytes_out", (json_int_t)r->bytes_out);
        char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
        json_decref(obj);
        int n = snprintf(out, cap, "%s", text != NULL ? text : "{}");
        free(text);
        return n > 0 ? (size_t)n : 0;
    }
    /* The participant, then "(unverified)" when it is only what the request
     * claimed: the fields stay separated by single spaces. */
    int n =
        snprintf(out, cap, "%s %s %s%s %s %s %llums in=%llu out=%llu", when, level, r->participant,
                 r->verified || strcmp(r->participant, "-") == 0 ? "" : "(unverified)", r->method,
                 psi_hub_status_name(r->status), (unsigned long long)r->duration_ms,
                 (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out);
    return n > 0 ? (size_t)n : 0;
}

void psi_oplog_request(const struct psi_oplog_request *r)
{
    if (!psi_oplog_enabled(psi_oplog_request_level(r->method, r->status)))
        return;
    char line[512];
    psi_oplog_format_request(line, sizeof line, psi_hub_now_ms(), r);
    write_line(line);
}
