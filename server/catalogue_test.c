/*
 * The method catalogue (proto/methods.h) against the hub and the wire: every
 * catalogued method has exactly one row in the hub's dispatch table, with a
 * handler, the catalogue's messages and the catalogue's flags; names are
 * unique and pass the envelope's method-name rule (sealed and opened as a
 * request); psi.proto documents exactly the catalogued methods; every method
 * takes an empty body as its catalogued request (proto3: every message's
 * empty encoding) through the whole pipeline, and what it answers parses as
 * its catalogued reply; and a handler that parses or answers another
 * message than the catalogue says is refused, not put on the wire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "hub.h"
#include "hub_fixture.h"
#include "method_util.h"
#include "methods.h"
#include "psi.pb-c.h"
#include "psi/error.h"

#define EPOCH "E1"

/* ---------------------------------------------------------------- the catalogue alone */

static void names_are_unique_wire_names(void **state)
{
    (void)state;
    struct psi_identity sender, hub;
    assert_int_equal(psi_identity_generate(&sender, "agency-a"), 0);
    assert_int_equal(psi_identity_generate(&hub, "hub"), 0);
    unsigned char rid[PSI_REQUEST_ID_BYTES];
    randombytes_buf(rid, sizeof rid);
    for (int i = 0; i < PSI_METHOD_COUNT; i++) {
        const char *name = psi_method_name((enum psi_method_id)i);
        assert_non_null(name);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(name, psi_method_name((enum psi_method_id)k));
        /* The wire's rule is the envelope's: a name it will not seal, or
         * that comes out of the seal changed, is no method. */
        uint8_t *frame = NULL;
        size_t len = 0;
        assert_int_equal(
            psi_request_seal(&sender, hub.public_key, name, rid, NULL, 0, &frame, &len), 0);
        struct psi_request req;
        memset(&req, 0, sizeof req);
        assert_int_equal(psi_request_open(&hub, frame, len, &req), 0);
        assert_string_equal(req.method, name);
        psi_request_clear(&req);
        free(frame);
    }
    assert_null(psi_method_name(PSI_METHOD_COUNT));
    assert_null(psi_method_entry((enum psi_method_id) - 1));
    assert_string_equal(PSI_METHOD_NAME(WORK_LIST), "work.list");
    psi_identity_clear(&sender);
    psi_identity_clear(&hub);
}

static void messages_are_psi_proto_messages(void **state)
{
    (void)state;
    for (int i = 0; i < PSI_METHOD_COUNT; i++) {
        const struct psi_method_entry *e = psi_method_entry((enum psi_method_id)i);
        assert_non_null(e);
        const ProtobufCMessageDescriptor *d[2] = {e->request, e->reply};
        for (int k = 0; k < 2; k++) {
            assert_non_null(d[k]);
            assert_int_equal(d[k]->magic, PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
            assert_string_equal(d[k]->package_name, "psi");
            /* The envelope's own messages are never a method's body. */
            assert_string_not_equal(d[k]->short_name, "Request");
            assert_string_not_equal(d[k]->short_name, "Reply");
        }
        /* Nobody could call a method only auditors may call but auditors
         * may not. */
        if (e->flags & PSI_MF_AUDITORS_ONLY)
            assert_true(e->flags & PSI_MF_FOR_AUDITORS);
    }
}

/* psi.proto says `// method "x.y"` once for each method: the catalogue and
 * the protocol's prose name the same set. */
static void psi_proto_documents_every_method(void **state)
{
    (void)state;
    FILE *in = fopen(PSI_SOURCE_DIR "/proto/psi.proto", "r");
    assert_non_null(in);
    int seen[PSI_METHOD_COUNT] = {0};
    char line[512];
    while (fgets(line, sizeof line, in) != NULL) {
        static const char mark[] = "// method \"";
        const char *p = strstr(line, mark);
        if (p == NULL)
            continue;
        p += sizeof mark - 1;
        const char *end = strchr(p, '"');
        assert_non_null(end);
        int found = -1;
        for (int i = 0; i < PSI_METHOD_COUNT; i++) {
            const char *name = psi_method_name((enum psi_method_id)i);
            if (strlen(name) == (size_t)(end - p) && memcmp(name, p, (size_t)(end - p)) == 0)
                found = i;
        }
        if (found >= 0)
            seen[found]++;
        else
            fail_msg("psi.proto documents %.*s, which the catalogue lacks", (int)(end - p), p);
    }
    fclose(in);
    for (int i = 0; i < PSI_METHOD_COUNT; i++)
        if (seen[i] != 1)
            fail_msg("psi.proto documents %s %d times", psi_method_name((enum psi_method_id)i),
                     seen[i]);
}

/* ---------------------------------------------------------------- the hub's table */

static void hub_table_is_the_catalogue(void **state)
{
    (void)state;
    for (int i = 0; i < PSI_METHOD_COUNT; i++) {
        const struct psi_method_entry *e = psi_method_entry((enum psi_method_id)i);
        const struct psi_method *m = psi_hub_method(e->name);
        assert_non_null(m);
        assert_string_equal(m->name, e->name);
        assert_non_null(m->handler);
        assert_ptr_equal(m->request, e->request);
        assert_ptr_equal(m->reply, e->reply);
        assert_int_equal(m->writes, (e->flags & PSI_MF_WRITES) != 0);
        assert_int_equal(m->for_auditors, (e->flags & PSI_MF_FOR_AUDITORS) != 0);
        assert_int_equal(m->gives_results, (e->flags & PSI_MF_GIVES_RESULTS) != 0);
        assert_int_equal(m->auditors_only, (e->flags & PSI_MF_AUDITORS_ONLY) != 0);
        /* One handler per method: a row pasted twice would share one. */
        for (int k = 0; k < i; k++)
            assert_ptr_not_equal(m->handler,
                                 psi_hub_method(psi_method_name((enum psi_method_id)k))->handler);
    }
    assert_null(psi_hub_method("no.such.method"));
    assert_null(psi_hub_method(""));
}

/* ---------------------------------------------------------------- through the pipeline */

struct fixture {
    char dir[256];
    struct psi_hub hub;
    struct psi_store *st;
    struct psi_identity agency, auditor;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hub_test_open_hub(f->dir, sizeof f->dir, "catalogue-test", "catalogue-hub", EPOCH, &f->hub,
                      &f->st);
    assert_int_equal(psi_identity_generate(&f->agency, "agency-a"), 0);
    assert_int_equal(psi_identity_generate(&f->auditor, "auditor-1"), 0);
    hub_test_admit(&f->hub, f->st, &f->agency, "agency", 0);
    hub_test_admit(&f->hub, f->st, &f->auditor, "auditor", 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    psi_identity_clear(&f->agency);
    psi_identity_clear(&f->auditor);
    hub_test_close_hub(f->dir, &f->hub, f->st);
    free(f);
    return 0;
}

/* An empty body is every message's encoding with every field unset: each
 * handler must parse it as its catalogued request (whatever it then makes of
 * the fields), and an answer must be the catalogued reply. */
static void every_method_takes_its_catalogued_messages(void **state)
{
    struct fixture *f = *state;
    int answered = 0;
    for (int i = 0; i < PSI_METHOD_COUNT; i++) {
        const struct psi_method_entry *e = psi_method_entry((enum psi_method_id)i);
        const struct psi_identity *who =
            (e->flags & PSI_MF_AUDITORS_ONLY) ? &f->auditor : &f->agency;
        unsigned char rid[PSI_REQUEST_ID_BYTES];
        randombytes_buf(rid, sizeof rid);
        char error[PSI_ERROR_TEXT_MAX + 1] = "";
        uint8_t *out = NULL;
        size_t out_len = 0;
        struct psi_hub_outcome o;
        int status = hub_test_call(&f->hub, f->st, who, rid, e->name, NULL, 0, error, sizeof error,
                                   &out, &out_len, &o);
        if (status == PSI_ERR_PARSE || strstr(error, "catalogue") != NULL)
            fail_msg("%s with an empty body: %d %s", e->name, status, error);
        assert_string_equal(o.method, e->name);
        if (status == 0) {
            ProtobufCMessage *reply = protobuf_c_message_unpack(e->reply, NULL, out_len, out);
            if (reply == NULL)
                fail_msg("%s answered a body that is not %s", e->name, e->reply->name);
            protobuf_c_message_free_unpacked(reply, NULL);
            answered++;
        }
        free(out);
    }
    /* info, roster, work.list at least: the reply check ran. */
    assert_true(answered >= 3);
}

/* A handler and the catalogue disagreeing (here: made to, by calling the
 * helpers as another method's handler would) is refused, with the reason. */
static void a_handler_off_the_catalogue_is_refused(void **state)
{
    (void)state;
    struct psi_method_call call;
    memset(&call, 0, sizeof call);
    call.method = psi_hub_method(PSI_METHOD_NAME(INFO));
    assert_non_null(call.method);

    Psi__Roster roster = PSI__ROSTER__INIT;
    assert_int_equal(psi_method_reply(&call, &roster.base), PSI_ERR_INVALID);
    assert_null(call.reply_body);
    assert_non_null(strstr(call.error, "catalogue"));

    Psi__HubInfo info = PSI__HUB_INFO__INIT;
    assert_int_equal(psi_method_reply(&call, &info.base), 0);
    assert_non_null(call.reply_body);
    free(call.reply_body);

    Psi__Empty empty = PSI__EMPTY__INIT;
    Psi__ResultsRequest results = PSI__RESULTS_REQUEST__INIT;
    call.error[0] = '\0';
    assert_true(psi_method_request_is_catalogued(&call, &empty.base));
    assert_string_equal(call.error, "");
    assert_false(psi_method_request_is_catalogued(&call, &results.base));
    assert_non_null(strstr(call.error, "catalogue"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_are_unique_wire_names),
        cmocka_unit_test(messages_are_psi_proto_messages),
        cmocka_unit_test(psi_proto_documents_every_method),
        cmocka_unit_test(hub_table_is_the_catalogue),
        cmocka_unit_test_setup_teardown(every_method_takes_its_catalogued_messages, setup,
                                        teardown),
        cmocka_unit_test(a_handler_off_the_catalogue_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
