/* results_export: SHA-1 and UUIDv5 against published vectors, CSV quoting,
 * deterministic STIX ids, MISP types, and hostile values kept intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "results_export.h"

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha1_vectors(void **state)
{
    (void)state;
    unsigned char d[20];
    char h[41];
    psi_sha1("abc", 3, d);
    hex(d, 20, h);
    assert_string_equal(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    psi_sha1("", 0, d);
    hex(d, 20, h);
    assert_string_equal(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes */
    psi_sha1(two, strlen(two), d);
    hex(d, 20, h);
    assert_string_equal(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void uuid_v5_vectors(void **state)
{
    (void)state;
    /* RFC 9562 A.4: the DNS namespace, "www.example.com" */
    static const unsigned char dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                          0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    char u[37];
    psi_uuid_v5(dns, "www.example.com", 15, u);
    assert_string_equal(u, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    /* STIX 2.1's namespace over an SCO's id-contributing properties */
    static const unsigned char stix[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                           0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};
    const char *name = "{\"value\":\"203.0.113.7\"}";
    psi_uuid_v5(stix, name, strlen(name), u);
    assert_string_equal(u, "9ddd739e-87b1-587d-83f2-62ef1130af2f");
    /* psi's own namespace is what the header says */
    psi_uuid_v5(dns, "results.psi.invalid", 19, u);
    unsigned char ns[16];
    memcpy(ns, psi_results_uuid_namespace, 16);
    char nshex[33];
    hex(ns, 16, nshex);
    assert_string_equal(nshex, "2be4e4d2b89558a884e5b912864994b6");
    assert_memory_equal(u, "2be4e4d2-b895-58a8-84e5-b912864994b6", 36);
}

/* ---- a small result list ---- */

static char *dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void add(struct psi_state_result_list *l, const char *type, const char *value,
                const char *peer1, const char *peer2)
{
    l->items = realloc(l->items, (l->count + 1) * sizeof *l->items);
    struct psi_state_result *r = &l->items[l->count++];
    memset(r, 0, sizeof *r);
    r->type = dup(type);
    r->value = dup(value);
    r->n_peers = peer2 ? 2 : 1;
    r->peers = calloc(2, sizeof *r->peers);
    r->first_seen_ms = calloc(2, sizeof *r->first_seen_ms);
    r->last_seen_ms = calloc(2, sizeof *r->last_seen_ms);
    r->peers[0] = dup(peer1);
    r->first_seen_ms[0] = 1764650107000; /* 2025-12-02T04:35:07Z */
    r->last_seen_ms[0] = 1764650107123;
    if (peer2) {
        r->peers[1] = dup(peer2);
        r->first_seen_ms[1] = 0; /* never recorded: the fetch time stands in */
        r->last_seen_ms[1] = 0;
    }
}

static void sample(struct psi_state_result_list *l)
{
    memset(l, 0, sizeof *l);
    strcpy(l->epoch, "2026-W48");
    l->threshold = 2;
    l->fetched_ms = 1764650200000;
    add(l, "ipv4", "203.0.113.7", "agency-b", "vendor-x");
    struct psi_state_origin *o = &l->items[0].origins[l->items[0].n_origins++];
    o->file = dup("event.json");
    o->path = dup("$.Event.Attribute[0]");
    o->event = dup("5b2c6a7e-1111-4aaa-8bbb-000000000001");
    o->object = dup("5b2c6a7e-1111-4aaa-8bbb-000000000002");
    o->to_ids = 1;
    o = &l->items[0].origins[l->items[0].n_origins++];
    o->file = dup("list, \"quoted\".txt");
    o->line = 12;
    o->to_ids = -1;
    add(l, "url", "http://a.example/x?q=1,2&r=\"it's\"", "agency-b", NULL);
    add(l, "sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "agency-b",
        NULL);
    add(l, "email", "billing@invoice-desk.example.com", "vendor-x", NULL);
}

static char *capture(int (*fn)(FILE *, const struct psi_state_result_list *, const char *),
                     const struct psi_state_result_list *l)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(f, l, "agency-a"), 0);
    fclose(f);
    return buf;
}

static int csv_fn(FILE *f, const struct psi_state_result_list *l, const char *self)
{
    (void)self;
    return psi_results_write_csv(f, l);
}

static int json_fn(FILE *f, const struct psi_state_result_list *l, const char *self)
{
    (void)self;
    return psi_results_write_json(f, l);
}

static void csv_quoting(void **state)
{
    (void)state;
    struct psi_state_result_list l;
    sample(&l);
    char *out = capture(csv_fn, &l);
    /* header + one row per (value, peer): 2 + 1 + 1 + 1 */
    size_t rows = 0;
    for (char *p = out; (p = strstr(p, "\r\n")) != NULL; p += 2)
        rows++;
    assert_int_equal(rows, 1 + 5);
    assert_non_null(strstr(out, "epoch,type,value,peer,first_seen,last_seen,"));
    assert_non_null(strstr(out, "2026-W48,url,\"http://a.example/x?q=1,2&r=\"\"it's\"\"\","
                                "agency-b,"));
    assert_non_null(strstr(out, "\"event.json list, \"\"quoted\"\".txt:12\""));
    assert_non_null(strstr(out, "2026-W48,ipv4,203.0.113.7,vendor-x,2025-12-02T04:36:40.000Z,"));
    free(out);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(psi_results_csv_field(f, "plain"), 0);
    fputc('|', f);
    assert_int_equal(psi_results_csv_field(f, "a\nb"), 0);
    fputc('|', f);
    assert_int_equal(psi_results_csv_field(f, ""), 0);
    fclose(f);
    assert_string_equal(buf, "plain|\"a\nb\"|");
    free(buf);
    psi_state_result_list_clear(&l);
}

static void json_keeps_old_keys(void **state)
{
    (void)state;
    struct psi_state_result_list l;
    sample(&l);
    char *out = capture(json_fn, &l);
    assert_memory_equal(out,
                        "{\"type\":\"ipv4\",\"value\":\"203.0.113.7\",\"peers\":[\"agency-b\","
                        "\"vendor-x\"],\"epoch\":\"2026-W48\"",
                        strlen("{\"type\":\"ipv4\",\"value\":\"203.0.113.7\",\"peers\":[\"agency-"
                               "b\",\"vendor-x\"],\"epoch\":\"2026-W48\""));
    json_error_t e;
    json_t *first = json_loadb(out, strcspn(out, "\n"), 0, &e);
    assert_non_null(first);
    json_t *src = json_array_get(json_object_get(first, "sources"), 0);
    assert_string_equal(json_string_value(json_object_get(src, "misp_attribute")),
                        "5b2c6a7e-1111-4aaa-8bbb-000000000002");
    assert_string_equal(json_string_value(json_object_get(first, "first_seen")),
                        "2025-12-02T04:35:07.000Z");
    json_decref(first);
    free(out);
    psi_state_result_list_clear(&l);
}

static int stix_id_ok(const char *id, const char *type)
{
    size_t n = strlen(type);
    if (strncmp(id, type, n) != 0 || strncmp(id + n, "--", 2) != 0)
        return 0;
    const char *u = id + n + 2;
    return strlen(u) == 36 && u[14] == '5' && strchr("89ab", u[19]) != NULL;
}

static void stix_deterministic(void **state)
{
    (void)state;
    struct psi_state_result_list l;
    sample(&l);
    char *a = capture(psi_results_write_stix, &l);
    char *b = capture(psi_results_write_stix, &l);
    assert_string_equal(a, b); /* same state, same bytes */
    json_error_t e;
    json_t *bundle = json_loads(a, 0, &e);
    assert_non_null(bundle);
    assert_true(stix_id_ok(json_string_value(json_object_get(bundle, "id")), "bundle"));
    json_t *objects = json_object_get(bundle, "objects");
    size_t i, identities = 0, indicators = 0, sightings = 0;
    json_t *o;
    json_array_foreach(objects, i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        assert_true(stix_id_ok(json_string_value(json_object_get(o, "id")), type));
        if (!strcmp(type, "identity"))
            identities++;
        if (!strcmp(type, "indicator")) {
            indicators++;
            assert_string_equal(json_string_value(json_object_get(o, "pattern_type")), "stix");
        }
        if (!strcmp(type, "sighting")) {
            sightings++;
            assert_int_equal(json_array_size(json_object_get(o, "where_sighted_refs")), 1);
        }
    }
    assert_int_equal(identities, 3); /* agency-a, agency-b, vendor-x */
    assert_int_equal(indicators, 4);
    assert_int_equal(sightings, 5);
    /* the url's quote is escaped in the pattern */
    assert_non_null(strstr(a, "[url:value = 'http://a.example/x?q=1,2&r=\\\"it\\\\'s\\\"']"));
    json_decref(bundle);
    free(b);

    /* a later fetch: the same ids */
    l.fetched_ms += 86400000;
    l.items[0].last_seen_ms[0] += 86400000;
    char *c = capture(psi_results_write_stix, &l);
    json_t *later = json_loads(c, 0, &e);
    bundle = json_loads(a, 0, &e);
    free(a);
    for (i = 0; i < json_array_size(json_object_get(later, "objects")); i++)
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(later, "objects"), i), "id")),
                            json_string_value(json_object_get(
                                json_array_get(json_object_get(bundle, "objects"), i), "id")));
    json_decref(later);
    json_decref(bundle);
    free(c);
    psi_state_result_list_clear(&l);
}

static void misp_types(void **state)
{
    (void)state;
    const char *cat = NULL;
    assert_string_equal(psi_results_misp_type("ipv4", &cat), "ip-dst");
    assert_string_equal(cat, "Network activity");
    assert_string_equal(psi_results_misp_type("cidr6", &cat), "ip-dst");
    assert_string_equal(psi_results_misp_type("domain", &cat), "domain");
    assert_string_equal(psi_results_misp_type("url", &cat), "url");
    assert_string_equal(psi_results_misp_type("email", &cat), "email-src");
    assert_string_equal(cat, "Payload delivery");
    assert_string_equal(psi_results_misp_type("sha512", &cat), "sha512");
    assert_string_equal(cat, "Payload delivery");
    assert_null(psi_results_misp_type("none", &cat));

    struct psi_state_result_list l;
    sample(&l);
    char *out = capture(psi_results_write_misp, &l);
    json_error_t e;
    json_t *doc = json_loads(out, 0, &e);
    assert_non_null(doc);
    json_t *attrs = json_object_get(json_object_get(doc, "Event"), "Attribute");
    assert_int_equal(json_array_size(attrs), 4);
    json_t *a = json_array_get(attrs, 0);
    assert_string_equal(json_string_value(json_object_get(a, "type")), "ip-dst");
    assert_true(json_is_true(json_object_get(a, "to_ids")));
    assert_non_null(strstr(json_string_value(json_object_get(a, "comment")),
                           "event 5b2c6a7e-1111-4aaa-8bbb-000000000001"));
    assert_int_equal(json_array_size(json_object_get(a, "Sighting")), 2);
    int peer_tag = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(a, "Tag"), i, t)
    {
        if (!strcmp(json_string_value(json_object_get(t, "name")), "psi:peer=\"vendor-x\""))
            peer_tag = 1;
    }
    assert_true(peer_tag);
    json_decref(doc);
    free(out);
    psi_state_result_list_clear(&l);
}

static void empty_lists(void **state)
{
    (void)state;
    struct psi_state_result_list l;
    memset(&l, 0, sizeof l);
    strcpy(l.epoch, "E1");
    char *s = capture(psi_results_write_stix, &l);
    assert_non_null(strstr(s, "\"identity\""));
    free(s);
    s = capture(psi_results_write_misp, &l);
    assert_non_null(strstr(s, "\"Attribute\": []"));
    free(s);
    s = capture(csv_fn, &l);
    assert_string_equal(s, "epoch,type,value,peer,first_seen,last_seen,source_files,misp_events,"
                           "source_objects\r\n");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha1_vectors),       cmocka_unit_test(uuid_v5_vectors),
        cmocka_unit_test(csv_quoting),        cmocka_unit_test(json_keeps_old_keys),
        cmocka_unit_test(stix_deterministic), cmocka_unit_test(misp_types),
        cmocka_unit_test(empty_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
