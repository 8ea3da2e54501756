/* The operator's snapshot of the hub, as JSON and as HTML (hub_status.h). */
#include "hub_status.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"
#include "log.h"
#include "psi/error.h"
#include "psi/logentry.h"

#define OVERLAP_NOTE                                                                               \
    "The hub already knows these counts: it joins the participants' tags and records every "       \
    "match (the MATCH entries of its log carry them too). This page is for the hub's operator."

/* ---------------------------------------------------------------- collecting */

struct collect {
    struct psi_txn *t;
    const char *epoch;
    json_t *participants; /* array, roster order */
};

static json_t *id_array(char (*ids)[PSI_STORE_ID_MAX + 1], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, json_string(ids[i]));
    return a;
}

static int add_participant(void *ctx, const struct psi_store_participant *p)
{
    struct collect *c = ctx;
    json_t *op =
        json_pack("{s:b, s:o, s:b}", "share_all", p->share_all, "share_with",
                  id_array(p->share_with, p->share_count), "contribute_only", p->contribute_only);
    json_t *party = json_null();
    if (p->party.set)
        party =
            json_pack("{s:b, s:o, s:b, s:I, s:I}", "share_all", p->party.share_all, "share_with",
                      id_array(p->party.share_with, p->party.share_count), "contribute_only",
                      p->party.contribute_only, "issued_ms", (json_int_t)p->party.issued_ms,
                      "log_index", (json_int_t)p->party.log_index);
    int share_all = 0;
    char(*ids)[PSI_STORE_ID_MAX + 1] = NULL;
    size_t count = 0;
    if (psi_store_participant_effective_shares(p, &share_all, &ids, &count) != 0)
        return PSI_ERR_NOMEM;
    json_t *effective =
        json_pack("{s:b, s:o, s:b}", "share_all", share_all, "share_with", id_array(ids, count),
                  "contribute_only", psi_store_participant_contribute_only(p));
    free(ids);
    json_t *entry =
        json_pack("{s:s, s:s, s:b, s:o, s:{s:o, s:o, s:o}}", "id", p->id, "role", p->role,
                  "removed", p->removed, "admit_index",
                  p->admit_logged ? json_integer((json_int_t)p->admit_index) : json_null(),
                  "policy", "operator", op, "party", party, "effective", effective);
    if (entry == NULL || json_array_append_new(c->participants, entry) != 0)
        return PSI_ERR_NOMEM;
    return 0;
}

static const char *string_of(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "";
}

static uint64_t u64_of(const json_t *obj, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(obj, key));
    return v > 0 ? (uint64_t)v : 0;
}

/* Takes part in matching: not an auditor. */
static int is_matcher(const json_t *p)
{
    return strcmp(string_of(p, "role"), "auditor") != 0;
}

struct sets {
    struct collect *c;
    json_t *sets;
    uint64_t submissions;
};

static int add_set(void *ctx, const struct psi_store_submission *s)
{
    struct sets *w = ctx;
    struct collect *c = w->c;
    json_t *done = json_array(), *pending = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(c->participants, i, p)
    {
        const char *id = string_of(p, "id");
        if (!is_matcher(p) || strcmp(id, s->owner) == 0)
            continue;
        enum psi_work_status status = PSI_WORK_NONE;
        int rc = c->t->ops->work_status(c->t, id, c->epoch, s->id, &status);
        if (rc != 0) {
            json_decref(done);
            json_decref(pending);
            return rc;
        }
        if (status == PSI_WORK_DONE)
            json_array_append_new(done, json_string(id));
        else if (status == PSI_WORK_PENDING)
            json_array_append_new(pending, json_string(id));
    }
    json_t *set = json_pack("{s:I, s:I, s:o, s:o}", "submission", (json_int_t)s->id, "count",
                            (json_int_t)s->count, "done", done, "pending", pending);
    if (set == NULL || json_array_append_new(w->sets, set) != 0)
        return PSI_ERR_NOMEM;
    w->submissions++;
    return 0;
}

/* Submissions, elements, sets and element quota of each participant. */
static int add_work(struct collect *c)
{
    size_t i;
    json_t *p;
    json_array_foreach(c->participants, i, p)
    {
        const char *id = string_of(p, "id");
        struct sets w = {c, json_array(), 0};
        uint64_t elements = 0, limit = PSI_ELEMENT_QUOTA_DEFAULT;
        int is_default = 0;
        int rc = is_matcher(p) ? c->t->ops->submission_list(c->t, id, c->epoch, add_set, &w) : 0;
        if (rc == 0)
            rc = c->t->ops->positions_in_epoch(c->t, id, c->epoch, &elements);
        if (rc == 0) {
            rc = c->t->ops->element_quota_get(c->t, id, &limit);
            if (rc == PSI_ERR_NOT_FOUND) {
                limit = PSI_ELEMENT_QUOTA_DEFAULT;
                is_default = 1;
                rc = 0;
            }
        }
        if (rc != 0) {
            json_decref(w.sets);
            return rc;
        }
        json_object_set_new(p, "submissions", json_integer((json_int_t)w.submissions));
        json_object_set_new(p, "elements", json_integer((json_int_t)elements));
        json_object_set_new(p, "sets", w.sets);
        json_object_set_new(p, "element_quota",
                            json_pack("{s:I, s:I, s:b}", "limit", (json_int_t)limit, "used",
                                      (json_int_t)elements, "default", is_default));
    }
    return 0;
}

static int add_pair(void *ctx, const char *owner, const char *peer, uint64_t matches)
{
    json_t *counts = ctx;
    char key[2 * PSI_STORE_ID_MAX + 2];
    snprintf(key, sizeof key, "%s %s", owner, peer);
    return json_object_set_new(counts, key, json_integer((json_int_t)matches)) == 0 ? 0
                                                                                    : PSI_ERR_NOMEM;
}

/* Every ordered pair of matching participants, 0 included. */
static int add_overlap(struct collect *c, json_t *status)
{
    json_t *counts = json_object();
    int rc = c->t->ops->overlap_counts(c->t, c->epoch, add_pair, counts);
    if (rc != 0) {
        json_decref(counts);
        return rc;
    }
    json_t *ids = json_array(), *pairs = json_array();
    size_t i, j;
    json_t *a, *b;
    json_array_foreach(c->participants, i, a)
    {
        if (!is_matcher(a))
            continue;
        json_array_append_new(ids, json_string(string_of(a, "id")));
        json_array_foreach(c->participants, j, b)
        {
            if (!is_matcher(b) || i == j)
                continue;
            char key[2 * PSI_STORE_ID_MAX + 2];
            snprintf(key, sizeof key, "%s %s", string_of(a, "id"), string_of(b, "id"));
            json_int_t n = json_integer_value(json_object_get(counts, key));
            json_array_append_new(pairs, json_pack("{s:s, s:s, s:I}", "a", string_of(a, "id"), "b",
                                                   string_of(b, "id"), "matches", n));
        }
    }
    json_decref(counts);
    json_object_set_new(status, "overlap",
                        json_pack("{s:s, s:s, s:o, s:o}", "epoch", c->epoch, "note", OVERLAP_NOTE,
                                  "participants", ids, "pairs", pairs));
    return 0;
}

/* The operator's query quotas of every (agency, vendor) pair that has one. */
static int add_query_quotas(struct collect *c, json_t *status)
{
    json_t *quotas = json_array();
    size_t i, j;
    json_t *a, *v;
    json_array_foreach(c->participants, i, a)
    {
        if (strcmp(string_of(a, "role"), "agency") != 0)
            continue;
        json_array_foreach(c->participants, j, v)
        {
            if (strcmp(string_of(v, "role"), "vendor") != 0)
                continue;
            uint64_t limit = 0, used = 0;
            int rc = c->t->ops->quota_get(c->t, string_of(a, "id"), string_of(v, "id"), &limit);
            if (rc == PSI_ERR_NOT_FOUND)
                continue;
            if (rc == 0)
                rc = c->t->ops->queries_used(c->t, string_of(a, "id"), string_of(v, "id"), c->epoch,
                                             &used);
            if (rc != 0) {
                json_decref(quotas);
                return rc;
            }
            json_array_append_new(quotas,
                                  json_pack("{s:s, s:s, s:I, s:I}", "agency", string_of(a, "id"),
                                            "vendor", string_of(v, "id"), "limit",
                                            (json_int_t)limit, "used", (json_int_t)used));
        }
    }
    json_object_set_new(status, "query_quotas", quotas);
    return 0;
}

static void format_time(char *out, size_t cap, uint64_t now_ms)
{
    time_t secs = (time_t)(now_ms / 1000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "?");
}

json_t *psi_hub_status_collect(const struct psi_hub *hub, struct psi_store *st, uint64_t now_ms,
                               uint64_t refusals_last_hour, char *err, size_t errlen)
{
    char vkey[PSI_VKEY_MAX], epoch[PSI_STORE_EPOCH_MAX + 1], when[32];
    char checkpoint[PSI_HUB_CHECKPOINT_MAX];
    if (psi_identity_vkey(&hub->identity, vkey, sizeof vkey) != 0) {
        snprintf(err, errlen, "cannot encode the hub's verifier key");
        return NULL;
    }
    format_time(when, sizeof when, now_ms);
    struct psi_txn t;
    int rc = psi_txn_begin(&t, hub->ops, st, PSI_TXN_READ);
    if (rc != 0) {
        snprintf(err, errlen, "store: %s", hub->ops->last_error(st));
        return NULL;
    }
    json_t *status = NULL;
    struct collect c = {&t, epoch, json_array()};
    rc = psi_hub_current_epoch(&t, now_ms, epoch, sizeof epoch);
    if (rc == 0)
        rc = hub->ops->participant_list(&t, add_participant, &c);
    if (rc == 0)
        rc = add_work(&c);
    uint64_t log_size = 0;
    checkpoint[0] = '\0';
    if (rc == 0) {
        rc = psi_hub_log_latest(&t, &log_size, checkpoint, sizeof checkpoint);
        if (rc == PSI_ERR_NOT_FOUND) {
            log_size = 0;
            checkpoint[0] = '\0';
            rc = 0;
        }
    }
    struct psi_store_usage usage;
    if (rc == 0)
        rc = hub->ops->usage(&t, &usage);
    if (rc == 0) {
        status = json_pack(
            "{s:{s:s, s:s, s:I, s:I}, s:s, s:s, s:I, s:o, s:I, s:{s:I, s:s}, "
            "s:{s:I, s:I, s:I, s:I}}",
            "hub", "name", hub->name, "verifier_key", vkey, "threshold", (json_int_t)hub->threshold,
            "max_message_bytes", (json_int_t)hub->max_message_bytes, "epoch", epoch, "generated",
            when, "generated_ms", (json_int_t)now_ms, "participants", json_incref(c.participants),
            "refusals_last_hour", (json_int_t)refusals_last_hour, "log", "size",
            (json_int_t)log_size, "checkpoint", checkpoint, "store", "elements",
            (json_int_t)usage.elements, "tags", (json_int_t)usage.tags, "matches",
            (json_int_t)usage.matches, "bytes", (json_int_t)usage.bytes);
        if (status == NULL)
            rc = PSI_ERR_NOMEM;
    }
    if (rc == 0)
        rc = add_overlap(&c, status);
    if (rc == 0)
        rc = add_query_quotas(&c, status);
    if (rc != 0) {
        snprintf(err, errlen, "%s",
                 rc == PSI_ERR_STORE ? hub->ops->last_error(st) : psi_strerror(rc));
        json_decref(status);
        status = NULL;
    }
    psi_txn_rollback(&t);
    json_decref(c.participants);
    return status;
}

/* ---------------------------------------------------------------- the page */

static const char PAGE_STYLE[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#1c2733;background:#fbfcfd}"
    "h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;"
    "border-bottom:1px solid #d5dde5;padding-bottom:.2em}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d5dde5;"
    "padding:.25em .6em;text-align:left;vertical-align:top}th{background:#eef2f6}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "code,.key{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}"
    ".note{color:#4a5a6a;max-width:60em}.pending{color:#a33b00;font-weight:600}"
    ".done{color:#2b6a2b}.removed{color:#888;text-decoration:line-through}"
    "table.map td.cell{text-align:center;min-width:3.5em;font-weight:600}"
    "table.map td.self{background:#e3e7eb;color:#8a96a3;text-align:center}"
    "table.map th{text-align:center}"
    "pre{background:#eef2f6;padding:.6em;white-space:pre-wrap;word-break:break-all}";

static void html_id_list(struct psi_text_buf *out, const json_t *ids)
{
    size_t i;
    json_t *id;
    if (json_array_size(ids) == 0) {
        psi_text_printf(out, "none");
        return;
    }
    json_array_foreach(ids, i, id)
    {
        if (i > 0)
            psi_text_printf(out, ", ");
        psi_text_html(out, json_string_value(id) != NULL ? json_string_value(id) : "");
    }
}

static void html_policy(struct psi_text_buf *out, const json_t *policy)
{
    if (!json_is_object(policy)) {
        psi_text_printf(out, "no statement");
        return;
    }
    if (json_is_true(json_object_get(policy, "share_all")))
        psi_text_printf(out, "shares with all");
    else {
        psi_text_printf(out, "shares with ");
        html_id_list(out, json_object_get(policy, "share_with"));
    }
    if (json_is_true(json_object_get(policy, "contribute_only")))
        psi_text_printf(out, "; contribute-only");
}

static void html_roster(struct psi_text_buf *out, const json_t *participants)
{
    psi_text_printf(out, "<h2>Roster</h2>\n<table id=\"roster\"><tr><th>participant</th>"
                         "<th>role</th><th>operator's policy</th><th>party's own policy</th>"
                         "<th>acts on</th><th>admitted</th></tr>\n");
    size_t i;
    json_t *p;
    json_array_foreach(participants, i, p)
    {
        const json_t *policy = json_object_get(p, "policy");
        int removed = json_is_true(json_object_get(p, "removed"));
        psi_text_printf(out, "<tr class=\"participant\" data-id=\"");
        psi_text_html(out, string_of(p, "id"));
        psi_text_printf(out, "\"><td%s>", removed ? " class=\"removed\"" : "");
        psi_text_html(out, string_of(p, "id"));
        psi_text_printf(out, "%s</td><td>", removed ? " (removed)" : "");
        psi_text_html(out, string_of(p, "role"));
        psi_text_printf(out, "</td><td>");
        html_policy(out, json_object_get(policy, "operator"));
        psi_text_printf(out, "</td><td>");
        html_policy(out, json_object_get(policy, "party"));
        psi_text_printf(out, "</td><td>");
        html_policy(out, json_object_get(policy, "effective"));
        psi_text_printf(out, "</td><td>");
        const json_t *admit = json_object_get(p, "admit_index");
        if (json_is_integer(admit))
            psi_text_printf(out, "log entry %" JSON_INTEGER_FORMAT, json_integer_value(admit));
        else
            psi_text_printf(out, "-");
        psi_text_printf(out, "</td></tr>\n");
    }
    psi_text_printf(out, "</table>\n");
}

static void html_work(struct psi_text_buf *out, const json_t *participants)
{
    psi_text_printf(out, "<h2>Submissions and cross-blinding</h2>\n<table id=\"work\"><tr>"
                         "<th>participant</th><th>submissions</th><th>elements</th>"
                         "<th>element quota</th><th>sets: cross-blinded by peers</th></tr>\n");
    size_t i;
    json_t *p;
    json_array_foreach(participants, i, p)
    {
        if (!is_matcher(p))
            continue;
        const json_t *quota = json_object_get(p, "element_quota");
        psi_text_printf(out, "<tr data-id=\"");
        psi_text_html(out, string_of(p, "id"));
        psi_text_printf(out, "\"><td>");
        psi_text_html(out, string_of(p, "id"));
        psi_text_printf(out,
                        "</td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%" PRIu64
                        "</td><td class=\"num\">%" PRIu64 " of %" PRIu64 "%s</td><td>",
                        u64_of(p, "submissions"), u64_of(p, "elements"), u64_of(quota, "used"),
                        u64_of(quota, "limit"),
                        json_is_true(json_object_get(quota, "default")) ? " (default)" : "");
        const json_t *sets = json_object_get(p, "sets");
        if (json_array_size(sets) == 0)
            psi_text_printf(out, "no set this epoch");
        size_t k;
        json_t *set;
        json_array_foreach(sets, k, set)
        {
            const json_t *done = json_object_get(set, "done");
            const json_t *pending = json_object_get(set, "pending");
            size_t nd = json_array_size(done), np = json_array_size(pending);
            psi_text_printf(out,
                            "<div class=\"set\" data-submission=\"%" PRIu64
                            "\" data-done=\"%zu\" data-should=\"%zu\">set %" PRIu64 " (%" PRIu64
                            " elements): <span class=\"%s\">%zu of %zu</span>",
                            u64_of(set, "submission"), nd, nd + np, u64_of(set, "submission"),
                            u64_of(set, "count"), np > 0 ? "pending" : "done", nd, nd + np);
            if (np > 0) {
                psi_text_printf(out, "; pending: ");
                html_id_list(out, pending);
            }
            psi_text_printf(out, "</div>");
        }
        psi_text_printf(out, "</td></tr>\n");
    }
    psi_text_printf(out, "</table>\n");
}

/* A cell's background: from near white (0) to deep blue (the largest count
 * of the map), by the square root so that small counts still show. */
static void html_heat(struct psi_text_buf *out, uint64_t n, uint64_t max)
{
    double share = max > 0 ? (double)n / (double)max : 0.0;
    unsigned lightness = (unsigned)(97.0 - 60.0 * sqrt(share));
    psi_text_printf(out, "background:hsl(212,70%%,%u%%);color:%s", lightness,
                    lightness < 60 ? "#fff" : "#1c2733");
}

static void html_map(struct psi_text_buf *out, const json_t *overlap)
{
    const json_t *ids = json_object_get(overlap, "participants");
    const json_t *pairs = json_object_get(overlap, "pairs");
    uint64_t max = 0;
    size_t i, j;
    json_t *pair, *a, *b;
    json_array_foreach(pairs, i, pair) if (u64_of(pair, "matches") > max) max =
        u64_of(pair, "matches");
    psi_text_printf(out, "<h2>Overlap map, epoch ");
    psi_text_html(out, string_of(overlap, "epoch"));
    psi_text_printf(out, "</h2>\n<p class=\"note\" id=\"overlap-note\">");
    psi_text_html(out, string_of(overlap, "note"));
    psi_text_printf(out, " A row's cell says how many of that participant's indicators the "
                         "column's participant also holds.</p>\n");
    if (json_array_size(ids) < 2) {
        psi_text_printf(out, "<p>Fewer than two participants take part in matching.</p>\n");
        return;
    }
    psi_text_printf(out, "<table class=\"map\" id=\"overlap-map\"><tr><th>held by &rarr;</th>");
    json_array_foreach(ids, j, b)
    {
        psi_text_printf(out, "<th>");
        psi_text_html(out, json_string_value(b));
        psi_text_printf(out, "</th>");
    }
    psi_text_printf(out, "</tr>\n");
    size_t k = 0;
    json_array_foreach(ids, i, a)
    {
        psi_text_printf(out, "<tr><th>");
        psi_text_html(out, json_string_value(a));
        psi_text_printf(out, "</th>");
        json_array_foreach(ids, j, b)
        {
            if (i == j) {
                psi_text_printf(out, "<td class=\"self\">&ndash;</td>");
                continue;
            }
            /* pairs come in the same order: row by row, the diagonal left out */
            pair = json_array_get(pairs, k++);
            uint64_t n = u64_of(pair, "matches");
            psi_text_printf(out, "<td class=\"cell\" data-a=\"");
            psi_text_html(out, json_string_value(a));
            psi_text_printf(out, "\" data-b=\"");
            psi_text_html(out, json_string_value(b));
            psi_text_printf(out, "\" data-count=\"%" PRIu64 "\" style=\"", n);
            html_heat(out, n, max);
            psi_text_printf(out, "\">%" PRIu64 "</td>", n);
        }
        psi_text_printf(out, "</tr>\n");
    }
    psi_text_printf(out, "</table>\n");
}

static void html_quotas(struct psi_text_buf *out, const json_t *quotas)
{
    psi_text_printf(out, "<h2>Query quotas</h2>\n");
    if (json_array_size(quotas) == 0) {
        psi_text_printf(out, "<p>No agency may query a vendor's feed.</p>\n");
        return;
    }
    psi_text_printf(out, "<table id=\"query-quotas\"><tr><th>agency</th><th>vendor</th>"
                         "<th>queries this epoch</th></tr>\n");
    size_t i;
    json_t *q;
    json_array_foreach(quotas, i, q)
    {
        psi_text_printf(out, "<tr><td>");
        psi_text_html(out, string_of(q, "agency"));
        psi_text_printf(out, "</td><td>");
        psi_text_html(out, string_of(q, "vendor"));
        psi_text_printf(out, "</td><td class=\"num\">%" PRIu64 " of %" PRIu64 "</td></tr>\n",
                        u64_of(q, "used"), u64_of(q, "limit"));
    }
    psi_text_printf(out, "</table>\n");
}

void psi_hub_status_html(const json_t *status, struct psi_text_buf *out)
{
    const json_t *hub = json_object_get(status, "hub");
    const json_t *log = json_object_get(status, "log");
    const json_t *store = json_object_get(status, "store");
    psi_text_printf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                         "<title>psi-hub ");
    psi_text_html(out, string_of(hub, "name"));
    psi_text_printf(out,
                    "</title><style>%s</style></head>\n<body>\n<h1>psi-hub <span "
                    "id=\"hub-name\">",
                    PAGE_STYLE);
    psi_text_html(out, string_of(hub, "name"));
    psi_text_printf(out, "</span></h1>\n<p>Verifier key: <span class=\"key\" "
                         "id=\"verifier-key\">");
    psi_text_html(out, string_of(hub, "verifier_key"));
    psi_text_printf(out, "</span><br>Current epoch: <b id=\"epoch\">");
    psi_text_html(out, string_of(status, "epoch"));
    psi_text_printf(out, "</b>; threshold %" PRIu64 "; as of ", u64_of(hub, "threshold"));
    psi_text_html(out, string_of(status, "generated"));
    psi_text_printf(out, "</p>\n");
    const json_t *participants = json_object_get(status, "participants");
    html_map(out, json_object_get(status, "overlap"));
    html_work(out, participants);
    html_roster(out, participants);
    html_quotas(out, json_object_get(status, "query_quotas"));
    psi_text_printf(out,
                    "<h2>Refusals and the log</h2>\n<p>Refusals in the last hour: <b "
                    "id=\"refusals\">%" PRIu64 "</b> (counted by this serving process).<br>"
                    "Log size: <b id=\"log-size\">%" PRIu64 "</b> entries.<br>Store: %" PRIu64
                    " elements, %" PRIu64 " tags, %" PRIu64 " match records, %" PRIu64
                    " bytes.</p>\n<p>Latest checkpoint:</p><pre id=\"checkpoint\">",
                    u64_of(status, "refusals_last_hour"), u64_of(log, "size"),
                    u64_of(store, "elements"), u64_of(store, "tags"), u64_of(store, "matches"),
                    u64_of(store, "bytes"));
    const char *checkpoint = string_of(log, "checkpoint");
    psi_text_html(out, checkpoint[0] != '\0' ? checkpoint : "none yet");
    psi_text_printf(out, "</pre>\n<p class=\"note\">Also as <a href=\"/status.json\">"
                         "/status.json</a> and <a href=\"/metrics\">/metrics</a>.</p>\n"
                         "</body></html>\n");
}

/* ---------------------------------------------------------------- metrics */

static void gauge(struct psi_text_buf *out, const char *name, const char *help, uint64_t value)
{
    psi_text_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %" PRIu64 "\n", name, help, name, name,
                    value);
}

void psi_hub_status_metrics(const json_t *status, struct psi_text_buf *out)
{
    const json_t *hub = json_object_get(status, "hub");
    const json_t *store = json_object_get(status, "store");
    psi_text_printf(out, "# HELP psi_hub_info The hub's name and current epoch.\n"
                         "# TYPE psi_hub_info gauge\npsi_hub_info{name=\"");
    psi_text_label_value(out, string_of(hub, "name"));
    psi_text_printf(out, "\",epoch=\"");
    psi_text_label_value(out, string_of(status, "epoch"));
    psi_text_printf(out, "\"} 1\n");
    gauge(out, "psi_hub_elements_stored", "Elements of every submission the store holds.",
          u64_of(store, "elements"));
    gauge(out, "psi_hub_tags_stored", "Cross-blind tags the store holds.", u64_of(store, "tags"));
    gauge(out, "psi_hub_matches_stored", "Match records (each side of a match) the store holds.",
          u64_of(store, "matches"));
    gauge(out, "psi_hub_log_entries", "Entries of the audit log, as its latest checkpoint says.",
          u64_of(json_object_get(status, "log"), "size"));
    gauge(out, "psi_hub_store_bytes", "Bytes the store's data takes, as its backend counts them.",
          u64_of(store, "bytes"));
    static const char *const roles[] = {"agency", "vendor", "auditor"};
    psi_text_printf(out, "# HELP psi_hub_participants Participants on the roster (removed "
                         "ones included), by role.\n# TYPE psi_hub_participants gauge\n");
    for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) {
        uint64_t n = 0;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(status, "participants"), i,
                           p) if (strcmp(string_of(p, "role"), roles[r]) == 0) n++;
        psi_text_printf(out, "psi_hub_participants{role=\"%s\"} %" PRIu64 "\n", roles[r], n);
    }
}
