/* What psi results prints: one function per format (results_export.h). */
#include "results_export.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "psi/error.h"

/* ---------------------------------------------------------------- SHA-1, UUIDv5 */

static uint32_t rol(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80];
    for (size_t i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/* One-shot over two pieces (a namespace and a name). */
static void sha1_two(const void *a, size_t alen, const void *b, size_t blen, unsigned char out[20])
{
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    unsigned char block[64];
    size_t fill = 0;
    uint64_t total = (uint64_t)(alen + blen) * 8;
    const unsigned char *parts[2] = {a, b};
    const size_t lens[2] = {alen, blen};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < lens[p]; i++) {
            block[fill++] = parts[p][i];
            if (fill == 64) {
                sha1_block(h, block);
                fill = 0;
            }
        }
    block[fill++] = 0x80;
    if (fill > 56) {
        memset(block + fill, 0, 64 - fill);
        sha1_block(h, block);
        fill = 0;
    }
    memset(block + fill, 0, 56 - fill);
    for (int i = 0; i < 8; i++)
        block[56 + i] = (unsigned char)(total >> (56 - 8 * i));
    sha1_block(h, block);
    for (size_t i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[4 * i + 3] = (unsigned char)h[i];
    }
}

void psi_sha1(const void *data, size_t len, unsigned char out[20])
{
    sha1_two(data, len, "", 0, out);
}

void psi_uuid_v5(const unsigned char ns[16], const void *name, size_t len, char out[37])
{
    unsigned char d[20];
    sha1_two(ns, 16, name, len, d);
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x50); /* version 5 */
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[d[i] >> 4];
        out[o++] = hex[d[i] & 15];
    }
    out[o] = '\0';
}

const unsigned char psi_results_uuid_namespace[16] = {43,  228, 228, 210, 184, 149, 88,  168,
                                                      132, 229, 185, 18,  134, 73,  148, 182};

/* "PREFIX--" and the UUIDv5 of the parts joined by NUL bytes (no part holds
 * one), so that ("a", "bc") and ("ab", "c") differ. */
static void make_id(char *out, size_t cap, const char *prefix, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(parts[i]) + 1;
    char *name = malloc(len ? len : 1);
    char uuid[37];
    if (!name) {
        snprintf(out, cap, "%s--00000000-0000-5000-8000-000000000000", prefix);
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        memcpy(name + o, parts[i], l);
        o += l;
        name[o++] = '\0';
    }
    psi_uuid_v5(psi_results_uuid_namespace, name, o, uuid);
    free(name);
    if (prefix)
        snprintf(out, cap, "%s--%s", prefix, uuid);
    else
        snprintf(out, cap, "%s", uuid);
}

#define ID_MAX 96

/* ---------------------------------------------------------------- shared pieces */

int psi_results_format_from_name(const char *name, enum psi_results_format *out)
{
    static const char *const names[] = {"table", "json", "csv", "stix", "misp"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum psi_results_format)i;
            return 0;
        }
    return -1;
}

void psi_results_timestamp(int64_t ms, char out[32])
{
    if (ms < 0)
        ms = 0;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || tm.tm_year + 1900 > 9999) {
        snprintf(out, 32, "1970-01-01T00:00:00.000Z");
        return;
    }
    char t[80];
    snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    memcpy(out, t, 31);
    out[31] = '\0';
}

/* The earliest first and latest last sighting of a result; a result never
 * seen (stored before migration 6) counts as seen when fetched. */
static void seen_span(const struct psi_state_result_list *list, const struct psi_state_result *r,
                      int64_t *first, int64_t *last)
{
    *first = 0;
    *last = 0;
    for (size_t j = 0; j < r->n_peers; j++) {
        int64_t f = r->first_seen_ms[j] ? r->first_seen_ms[j] : list->fetched_ms;
        int64_t l = r->last_seen_ms[j] ? r->last_seen_ms[j] : list->fetched_ms;
        if (!*first || f < *first)
            *first = f;
        if (l > *last)
            *last = l;
    }
}

static int64_t peer_first(const struct psi_state_result_list *list,
                          const struct psi_state_result *r, size_t j)
{
    return r->first_seen_ms[j] ? r->first_seen_ms[j] : list->fetched_ms;
}

static int64_t peer_last(const struct psi_state_result_list *list, const struct psi_state_result *r,
                         size_t j)
{
    return r->last_seen_ms[j] ? r->last_seen_ms[j] : list->fetched_ms;
}

static json_t *ts_string(int64_t ms)
{
    char t[32];
    psi_results_timestamp(ms, t);
    return json_string(t);
}

/* What kind of place an origin is: "misp" (an attribute of an event),
 * "stix" (an object of a bundle), or "file" (a line of text or CSV). */
static const char *origin_kind(const struct psi_state_origin *o)
{
    if (o->event)
        return "misp";
    if (o->object)
        return "stix";
    return "file";
}

/* One origin as a JSON object, with only what is known. */
static json_t *origin_json(const struct psi_state_origin *o)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    int bad = 0;
    if (o->file)
        bad |= json_object_set_new(obj, "file", json_string(o->file));
    if (o->line)
        bad |= json_object_set_new(obj, "line", json_integer((json_int_t)o->line));
    if (o->path)
        bad |= json_object_set_new(obj, "path", json_string(o->path));
    if (o->event)
        bad |= json_object_set_new(obj, "misp_event", json_string(o->event));
    if (o->object)
        bad |= json_object_set_new(obj, o->event ? "misp_attribute" : "stix_id",
                                   json_string(o->object));
    if (o->to_ids >= 0)
        bad |= json_object_set_new(obj, "to_ids", json_boolean(o->to_ids));
    if (bad) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static int dump(FILE *out, json_t *doc, size_t flags)
{
    if (!doc)
        return PSI_ERR_NOMEM;
    int rc = json_dumpf(doc, out, flags | JSON_PRESERVE_ORDER) == 0 ? 0 : PSI_ERR_IO;
    if (!rc && fputc('\n', out) == EOF)
        rc = PSI_ERR_IO;
    json_decref(doc);
    return rc;
}

/* ---------------------------------------------------------------- JSON lines */

int psi_results_write_json(FILE *out, const struct psi_state_result_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        const struct psi_state_result *r = &list->items[i];
        json_t *obj = json_object(), *peers = json_array(), *sources = json_array(),
               *seen = json_array();
        int bad = !obj || !peers || !sources || !seen;
        for (size_t j = 0; !bad && j < r->n_peers; j++) {
            json_t *s = json_object();
            bad = json_array_append_new(peers, json_string(r->peers[j])) != 0 || !s ||
                  json_object_set_new(s, "peer", json_string(r->peers[j])) != 0 ||
                  json_object_set_new(s, "first_seen", ts_string(peer_first(list, r, j))) != 0 ||
                  json_object_set_new(s, "last_seen", ts_string(peer_last(list, r, j))) != 0 ||
                  json_array_append_new(seen, s) != 0;
        }
        for (size_t j = 0; !bad && j < r->n_origins; j++)
            bad = json_array_append_new(sources, origin_json(&r->origins[j])) != 0;
        int64_t first, last;
        seen_span(list, r, &first, &last);
        /* insertion order: the keys of old first (type, value, peers) */
        bad = bad || json_object_set_new(obj, "type", json_string(r->type)) != 0 ||
              json_object_set_new(obj, "value", json_string(r->value)) != 0 ||
              json_object_set_new(obj, "peers", peers) != 0 ||
              json_object_set_new(obj, "epoch", json_string(list->epoch)) != 0 ||
              json_object_set_new(obj, "first_seen", ts_string(first)) != 0 ||
              json_object_set_new(obj, "last_seen", ts_string(last)) != 0 ||
              json_object_set_new(obj, "seen", seen) != 0 ||
              json_object_set_new(obj, "sources", sources) != 0;
        if (bad) {
            json_decref(obj);
            return PSI_ERR_NOMEM;
        }
        int rc = dump(out, obj, JSON_COMPACT);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- CSV */

int psi_results_csv_field(FILE *out, const char *field)
{
    if (!field)
        field = "";
    if (!strpbrk(field, ",\"\r\n"))
        return fputs(field, out) == EOF ? PSI_ERR_IO : 0;
    if (fputc('"', out) == EOF)
        return PSI_ERR_IO;
    for (const char *p = field; *p; p++) {
        if (*p == '"' && fputc('"', out) == EOF)
            return PSI_ERR_IO;
        if (fputc(*p, out) == EOF)
            return PSI_ERR_IO;
    }
    return fputc('"', out) == EOF ? PSI_ERR_IO : 0;
}

/* Appends text to a growing string, with sep before it unless first. */
static int append(char **buf, size_t *len, const char *sep, const char *text)
{
    size_t add = (*len ? strlen(sep) : 0) + strlen(text);
    char *grown = realloc(*buf, *len + add + 1);
    if (!grown)
        return PSI_ERR_NOMEM;
    *buf = grown;
    if (*len) {
        memcpy(*buf + *len, sep, strlen(sep));
        *len += strlen(sep);
    }
    memcpy(*buf + *len, text, strlen(text) + 1);
    *len += strlen(text);
    return 0;
}

/* The sources of a result in one CSV cell each: "file:line" places, MISP
 * event uuids, and object ids (MISP attribute uuids, STIX ids), joined by
 * " ". */
static int csv_sources(const struct psi_state_result *r, char **files, char **events,
                       char **objects)
{
    size_t lf = 0, le = 0, lo = 0;
    int rc = 0;
    *files = *events = *objects = NULL;
    for (size_t j = 0; !rc && j < r->n_origins; j++) {
        const struct psi_state_origin *o = &r->origins[j];
        char place[1200];
        if (o->line)
            snprintf(place, sizeof place, "%.1024s:%" PRIu64, o->file ? o->file : "", o->line);
        else
            snprintf(place, sizeof place, "%.1024s", o->file ? o->file : "");
        if (place[0])
            rc = append(files, &lf, " ", place);
        if (!rc && o->event)
            rc = append(events, &le, " ", o->event);
        if (!rc && o->object)
            rc = append(objects, &lo, " ", o->object);
    }
    return rc;
}

int psi_results_write_csv(FILE *out, const struct psi_state_result_list *list)
{
    if (fputs("epoch,type,value,peer,first_seen,last_seen,source_files,misp_events,"
              "source_objects\r\n",
              out) == EOF)
        return PSI_ERR_IO;
    for (size_t i = 0; i < list->count; i++) {
        const struct psi_state_result *r = &list->items[i];
        char *files, *events, *objects;
        int rc = csv_sources(r, &files, &events, &objects);
        for (size_t j = 0; !rc && j < r->n_peers; j++) {
            char first[32], last[32];
            psi_results_timestamp(peer_first(list, r, j), first);
            psi_results_timestamp(peer_last(list, r, j), last);
            const char *cells[] = {list->epoch, r->type, r->value, r->peers[j], first,
                                   last,        files,   events,   objects};
            for (size_t c = 0; !rc && c < sizeof cells / sizeof cells[0]; c++) {
                if (c && fputc(',', out) == EOF)
                    rc = PSI_ERR_IO;
                if (!rc)
                    rc = psi_results_csv_field(out, cells[c]);
            }
            if (!rc && fputs("\r\n", out) == EOF)
                rc = PSI_ERR_IO;
        }
        free(files);
        free(events);
        free(objects);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- STIX 2.1 */

/* The STIX pattern of one indicator: an equality comparison on the
 * observable's property, the value a quoted string (\ and ' escaped). */
static char *stix_pattern(const char *type, const char *value)
{
    const char *path;
    if (!strcmp(type, "ipv4") || !strcmp(type, "cidr4"))
        path = "ipv4-addr:value";
    else if (!strcmp(type, "ipv6") || !strcmp(type, "cidr6"))
        path = "ipv6-addr:value";
    else if (!strcmp(type, "domain"))
        path = "domain-name:value";
    else if (!strcmp(type, "url"))
        path = "url:value";
    else if (!strcmp(type, "email"))
        path = "email-addr:value";
    else if (!strcmp(type, "md5"))
        path = "file:hashes.MD5";
    else if (!strcmp(type, "sha1"))
        path = "file:hashes.'SHA-1'";
    else if (!strcmp(type, "sha256"))
        path = "file:hashes.'SHA-256'";
    else if (!strcmp(type, "sha512"))
        path = "file:hashes.'SHA-512'";
    else
        return NULL;
    size_t len = strlen(path) + 2 * strlen(value) + 16;
    char *p = malloc(len);
    if (!p)
        return NULL;
    size_t o = (size_t)snprintf(p, len, "[%s = '", path);
    for (const char *v = value; *v; v++) {
        if (*v == '\'' || *v == '\\')
            p[o++] = '\\';
        p[o++] = *v;
    }
    memcpy(p + o, "']", 3);
    return p;
}

static json_t *stix_identity(const char *id, const char *name, int64_t created)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = json_object_set_new(o, "type", json_string("identity")) ||
              json_object_set_new(o, "spec_version", json_string("2.1")) ||
              json_object_set_new(o, "id", json_string(id)) ||
              json_object_set_new(o, "created", ts_string(created)) ||
              json_object_set_new(o, "modified", ts_string(created)) ||
              json_object_set_new(o, "name", json_string(name)) ||
              json_object_set_new(o, "identity_class", json_string("organization"));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void identity_id(char out[ID_MAX], const char *party)
{
    const char *parts[] = {"identity", party};
    make_id(out, ID_MAX, "identity", parts, 2);
}

/* Where an indicator came from, as STIX external references. */
static json_t *stix_references(const struct psi_state_result *r)
{
    json_t *refs = json_array();
    for (size_t j = 0; refs && j < r->n_origins; j++) {
        const struct psi_state_origin *o = &r->origins[j];
        json_t *ref = json_object();
        char desc[1400];
        const char *kind = origin_kind(o);
        if (o->event)
            snprintf(desc, sizeof desc, "MISP event %s, attribute %s (%.1024s)", o->event,
                     o->object ? o->object : "?", o->file ? o->file : "");
        else if (o->line)
            snprintf(desc, sizeof desc, "%.1024s line %" PRIu64, o->file ? o->file : "", o->line);
        else
            snprintf(desc, sizeof desc, "%.1024s%s%.256s", o->file ? o->file : "",
                     o->path ? " " : "", o->path ? o->path : "");
        int bad = !ref || json_object_set_new(ref, "source_name", json_string(kind)) ||
                  json_object_set_new(ref, "description", json_string(desc)) ||
                  (o->object && json_object_set_new(ref, "external_id", json_string(o->object)));
        if (bad || json_array_append_new(refs, ref)) {
            json_decref(refs);
            return NULL;
        }
    }
    return refs;
}

int psi_results_write_stix(FILE *out, const struct psi_state_result_list *list, const char *self)
{
    char self_id[ID_MAX], id[ID_MAX];
    identity_id(self_id, self);
    int64_t first_all = list->fetched_ms;
    for (size_t i = 0; i < list->count; i++) {
        int64_t f, l;
        seen_span(list, &list->items[i], &f, &l);
        if (f && f < first_all)
            first_all = f;
    }
    json_t *objects = json_array();
    json_t *bundle = json_object();
    const char *bparts[] = {"bundle", self, list->epoch};
    make_id(id, ID_MAX, "bundle", bparts, 3);
    int bad = !objects || !bundle || json_object_set_new(bundle, "type", json_string("bundle")) ||
              json_object_set_new(bundle, "id", json_string(id)) ||
              json_array_append_new(objects, stix_identity(self_id, self, first_all));
    /* One identity per peer, once, in order of first mention. */
    json_t *named = json_object();
    bad = bad || !named;
    for (size_t i = 0; !bad && i < list->count; i++)
        for (size_t j = 0; !bad && j < list->items[i].n_peers; j++) {
            const char *peer = list->items[i].peers[j];
            if (json_object_get(named, peer))
                continue;
            identity_id(id, peer);
            bad = json_object_set_new(named, peer, json_true()) ||
                  json_array_append_new(objects, stix_identity(id, peer, first_all));
        }
    json_decref(named);
    for (size_t i = 0; !bad && i < list->count; i++) {
        const struct psi_state_result *r = &list->items[i];
        if (!psi_results_misp_type(r->type, NULL))
            continue; /* a type this version cannot name (a newer state's) */
        char ind_id[ID_MAX];
        const char *parts[] = {"indicator", self, r->type, r->value};
        make_id(ind_id, ID_MAX, "indicator", parts, 4);
        int64_t first, last;
        seen_span(list, r, &first, &last);
        char *pattern = stix_pattern(r->type, r->value);
        json_t *ind = json_object();
        json_t *refs = stix_references(r);
        bad = !pattern || !ind || !refs ||
              json_object_set_new(ind, "type", json_string("indicator")) ||
              json_object_set_new(ind, "spec_version", json_string("2.1")) ||
              json_object_set_new(ind, "id", json_string(ind_id)) ||
              json_object_set_new(ind, "created_by_ref", json_string(self_id)) ||
              json_object_set_new(ind, "created", ts_string(first)) ||
              json_object_set_new(ind, "modified", ts_string(last)) ||
              json_object_set_new(ind, "name", json_string(r->value)) ||
              json_object_set_new(ind, "indicator_types", json_pack("[s]", "malicious-activity")) ||
              json_object_set_new(ind, "pattern", json_string(pattern)) ||
              json_object_set_new(ind, "pattern_type", json_string("stix")) ||
              json_object_set_new(ind, "valid_from", ts_string(first));
        free(pattern);
        if (!bad && json_array_size(refs) > 0)
            bad = json_object_set(ind, "external_references", refs);
        json_decref(refs);
        if (bad)
            json_decref(ind);
        else
            bad = json_array_append_new(objects, ind);
        for (size_t j = 0; !bad && j < r->n_peers; j++) {
            char peer_id[ID_MAX];
            identity_id(peer_id, r->peers[j]);
            const char *sparts[] = {"sighting", self, list->epoch, r->peers[j], r->type, r->value};
            make_id(id, ID_MAX, "sighting", sparts, 6);
            json_t *s = json_object();
            char summary[256];
            snprintf(summary, sizeof summary, "held also by %.64s in epoch %.64s (psi)",
                     r->peers[j], list->epoch);
            bad = !s || json_object_set_new(s, "type", json_string("sighting")) ||
                  json_object_set_new(s, "spec_version", json_string("2.1")) ||
                  json_object_set_new(s, "id", json_string(id)) ||
                  json_object_set_new(s, "created_by_ref", json_string(self_id)) ||
                  json_object_set_new(s, "created", ts_string(peer_first(list, r, j))) ||
                  json_object_set_new(s, "modified", ts_string(peer_last(list, r, j))) ||
                  json_object_set_new(s, "first_seen", ts_string(peer_first(list, r, j))) ||
                  json_object_set_new(s, "last_seen", ts_string(peer_last(list, r, j))) ||
                  json_object_set_new(s, "count", json_integer(1)) ||
                  json_object_set_new(s, "sighting_of_ref", json_string(ind_id)) ||
                  json_object_set_new(s, "where_sighted_refs", json_pack("[s]", peer_id)) ||
                  json_object_set_new(s, "description", json_string(summary)) ||
                  json_array_append_new(objects, s);
        }
    }
    if (bad) {
        json_decref(bundle);
        json_decref(objects);
        return PSI_ERR_NOMEM;
    }
    if (json_object_set_new(bundle, "objects", objects)) {
        json_decref(bundle);
        return PSI_ERR_NOMEM;
    }
    return dump(out, bundle, JSON_INDENT(2));
}

/* ---------------------------------------------------------------- MISP */

const char *psi_results_misp_type(const char *type, const char **category)
{
    static const struct {
        const char *psi, *misp, *category;
    } map[] = {
        {"ipv4", "ip-dst", "Network activity"},     {"ipv6", "ip-dst", "Network activity"},
        {"cidr4", "ip-dst", "Network activity"},    {"cidr6", "ip-dst", "Network activity"},
        {"domain", "domain", "Network activity"},   {"url", "url", "Network activity"},
        {"email", "email-src", "Payload delivery"}, {"md5", "md5", "Payload delivery"},
        {"sha1", "sha1", "Payload delivery"},       {"sha256", "sha256", "Payload delivery"},
        {"sha512", "sha512", "Payload delivery"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(type, map[i].psi)) {
            if (category)
                *category = map[i].category;
            return map[i].misp;
        }
    return NULL;
}

/* A machine tag namespace:predicate="value" (quotes in value dropped). */
static json_t *misp_tag(const char *predicate, const char *value)
{
    char name[256];
    char clean[160];
    size_t o = 0;
    for (const char *v = value; *v && o + 1 < sizeof clean; v++)
        if (*v != '"')
            clean[o++] = *v;
    clean[o] = '\0';
    snprintf(name, sizeof name, "psi:%s=\"%s\"", predicate, clean);
    return json_pack("{ss}", "name", name);
}

static json_t *unix_string(int64_t ms)
{
    char t[32];
    snprintf(t, sizeof t, "%" PRId64, ms / 1000);
    return json_string(t);
}

int psi_results_write_misp(FILE *out, const struct psi_state_result_list *list, const char *self)
{
    char event_uuid[ID_MAX], id[ID_MAX];
    const char *eparts[] = {"misp-event", self, list->epoch};
    make_id(event_uuid, ID_MAX, NULL, eparts, 3);
    char info[256], date[16];
    snprintf(info, sizeof info, "psi results of %.64s, epoch %.64s: indicators also held by others",
             self, list->epoch);
    char ts[32];
    psi_results_timestamp(list->fetched_ms, ts);
    snprintf(date, sizeof date, "%.10s", ts);

    json_t *attrs = json_array();
    int bad = !attrs;
    for (size_t i = 0; !bad && i < list->count; i++) {
        const struct psi_state_result *r = &list->items[i];
        const char *category = NULL;
        const char *type = psi_results_misp_type(r->type, &category);
        if (!type)
            continue;
        const char *aparts[] = {"misp-attribute", self, list->epoch, r->type, r->value};
        make_id(id, ID_MAX, NULL, aparts, 5);
        /* to_ids: false only when every MISP source said false */
        int to_ids = r->n_origins == 0;
        for (size_t j = 0; j < r->n_origins; j++)
            if (r->origins[j].to_ids != 0)
                to_ids = 1;
        int64_t first, last;
        seen_span(list, r, &first, &last);
        char *comment = NULL;
        size_t clen = 0;
        bad = append(&comment, &clen, "", "psi: also held by ");
        for (size_t j = 0; !bad && j < r->n_peers; j++)
            bad = append(&comment, &clen, j ? ", " : "", r->peers[j]);
        json_t *tags = json_array(), *sightings = json_array();
        bad = bad || !tags || !sightings;
        for (size_t j = 0; !bad && j < r->n_origins; j++)
            if (r->origins[j].event) {
                char src[160];
                snprintf(src, sizeof src, "; source: event %s attribute %s", r->origins[j].event,
                         r->origins[j].object ? r->origins[j].object : "?");
                bad = append(&comment, &clen, "", src) ||
                      json_array_append_new(tags, misp_tag("source-event", r->origins[j].event));
            }
        bad = bad || json_array_append_new(tags, misp_tag("epoch", list->epoch));
        for (size_t j = 0; !bad && j < r->n_peers; j++) {
            bad = json_array_append_new(tags, misp_tag("peer", r->peers[j])) ||
                  json_array_append_new(
                      sightings, json_pack("{ss ss s:o ss s:{ss}}", "type", "0", "uuid", id,
                                           "date_sighting", unix_string(peer_last(list, r, j)),
                                           "source", "psi", "Organisation", "name", r->peers[j]));
        }
        json_t *a = json_object();
        bad = bad || !a || json_object_set_new(a, "uuid", json_string(id)) ||
              json_object_set_new(a, "type", json_string(type)) ||
              json_object_set_new(a, "category", json_string(category)) ||
              json_object_set_new(a, "to_ids", json_boolean(to_ids)) ||
              json_object_set_new(a, "value", json_string(r->value)) ||
              json_object_set_new(a, "comment", json_string(comment)) ||
              json_object_set_new(a, "distribution", json_string("5")) ||
              json_object_set_new(a, "timestamp", unix_string(last)) ||
              json_object_set_new(a, "first_seen", ts_string(first)) ||
              json_object_set_new(a, "last_seen", ts_string(last)) ||
              json_object_set(a, "Tag", tags) || json_object_set(a, "Sighting", sightings) ||
              json_array_append(attrs, a);
        json_decref(a);
        json_decref(tags);
        json_decref(sightings);
        free(comment);
    }
    json_t *event =
        bad ? NULL
            : json_pack("{ss ss ss ss ss ss s:o sb s:[o] s:O s:{ss}}", "uuid", event_uuid, "info",
                        info, "date", date, "threat_level_id", "4", "analysis", "2", "distribution",
                        "0", "timestamp", unix_string(list->fetched_ms), "published", 0, "Tag",
                        misp_tag("epoch", list->epoch), "Attribute", attrs, "Orgc", "name", self);
    json_decref(attrs);
    if (!event)
        return PSI_ERR_NOMEM;
    json_t *doc = json_pack("{s:o}", "Event", event);
    return dump(out, doc, JSON_INDENT(2));
}
