/* Audit log entries: a byte-exact vector per layout family, a round trip of
 * every kind, every truncation and any trailing byte refused, unknown
 * versions and kinds, every field rule in both directions, share lists, the
 * largest entry, and the names. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "psi/error.h"
#include "psi/logentry.h"

static unsigned char share_buf[PSI_LOGENTRY_SHARE_MAX * (PSI_LOGENTRY_ID_MAX + 1U)];

static void from_hex(unsigned char *out, size_t out_len, const char *hex)
{
    assert_int_equal(strlen(hex), out_len * 2U);
    for (size_t i = 0; i < out_len; i++) {
        char pair[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
        char *end = NULL;
        unsigned long v;
        assert_true(isxdigit((unsigned char)pair[0]) && isxdigit((unsigned char)pair[1]));
        v = strtoul(pair, &end, 16);
        assert_true(end == pair + 2 && v <= 0xffUL);
        out[i] = (unsigned char)v;
    }
}

/* One valid entry of each kind, deterministic. */
static void sample(struct psi_logentry *e, unsigned kind)
{
    static const char *const share[] = {"agency-a", "agency-c"};
    size_t len = 0;
    memset(e, 0, sizeof *e);
    e->kind = (enum psi_logentry_kind)kind;
    e->time_ms = 1700000000000ULL + kind;
    switch (e->kind) {
    case PSI_LOGENTRY_ADMIT:
    case PSI_LOGENTRY_POLICY:
    case PSI_LOGENTRY_REMOVE:
        strcpy(e->u.roster.participant, "vendor-b");
        e->u.roster.role = PSI_LOGENTRY_ROLE_VENDOR;
        memset(e->u.roster.public_key, 0x33, 32);
        e->u.roster.contribute_only = kind == PSI_LOGENTRY_POLICY;
        assert_int_equal(psi_logentry_share_list_build(share_buf, sizeof share_buf, &len, share, 2),
                         0);
        e->u.roster.share_count = 2;
        e->u.roster.share_list = share_buf;
        e->u.roster.share_list_len = len;
        break;
    case PSI_LOGENTRY_EPOCH_KEY:
        strcpy(e->u.epoch_key.participant, "vendor-b");
        strcpy(e->u.epoch_key.epoch, "2026-W48");
        memset(e->u.epoch_key.public_key, 0x44, 32);
        memset(e->u.epoch_key.signature, 0x45, 64);
        break;
    case PSI_LOGENTRY_SUBMISSION:
        strcpy(e->u.submission.participant, "agency-a");
        strcpy(e->u.submission.epoch, "2026-W48");
        e->u.submission.submission_id = 7;
        e->u.submission.count = 3;
        e->u.submission.position_base = 10;
        memset(e->u.submission.digest, 0x11, 32);
        memset(e->u.submission.signature, 0x22, 64);
        break;
    case PSI_LOGENTRY_CROSSBLIND:
        strcpy(e->u.crossblind.participant, "agency-c");
        e->u.crossblind.submission_id = 7;
        e->u.crossblind.count = 3;
        memset(e->u.crossblind.tag_digest, 0x55, 32);
        memset(e->u.crossblind.signature, 0x66, 64);
        break;
    case PSI_LOGENTRY_MATCH:
        strcpy(e->u.match.epoch, "2026-W48");
        strcpy(e->u.match.participant_a, "agency-a");
        strcpy(e->u.match.participant_b, "agency-c");
        e->u.match.matched_a = 2;
        e->u.match.matched_b = 1;
        break;
    case PSI_LOGENTRY_REFUSAL:
        e->u.refusal.code = PSI_ERR_VERIFY;
        e->u.refusal.authenticated = 1;
        strcpy(e->u.refusal.participant, "agency-a");
        strcpy(e->u.refusal.method, "submit.commit");
        memset(e->u.refusal.frame_digest, 0x77, 32);
        break;
    case PSI_LOGENTRY_FEED:
        strcpy(e->u.feed.participant, "vendor-b");
        strcpy(e->u.feed.epoch, "2026-W48");
        e->u.feed.count = 1000000;
        e->u.feed.size = 5391726;
        memset(e->u.feed.feed_digest, 0x88, 32);
        memset(e->u.feed.signature, 0x8a, 64);
        break;
    case PSI_LOGENTRY_QUERY:
        strcpy(e->u.query.participant, "agency-a");
        strcpy(e->u.query.vendor, "vendor-b");
        strcpy(e->u.query.epoch, "2026-W48");
        e->u.query.count = 200;
        memset(e->u.query.elements_digest, 0x8b, 32);
        memset(e->u.query.signature, 0x8c, 64);
        break;
    case PSI_LOGENTRY_QUOTA:
        strcpy(e->u.quota.agency, "agency-a");
        strcpy(e->u.quota.vendor, "vendor-b");
        e->u.quota.limit = 5000;
        break;
    case PSI_LOGENTRY_ANSWER:
        strcpy(e->u.answer.vendor, "vendor-b");
        strcpy(e->u.answer.agency, "agency-a");
        strcpy(e->u.answer.epoch, "2026-W48");
        e->u.answer.query_index = 41;
        e->u.answer.count = 200;
        memset(e->u.answer.public_key, 0x99, 32);
        memset(e->u.answer.answer_digest, 0xaa, 32);
        break;
    case PSI_LOGENTRY_PARTY_POLICY:
        strcpy(e->u.party_policy.participant, "vendor-b");
        e->u.party_policy.issued_ms = 1700000000123ULL;
        e->u.party_policy.contribute_only = 1;
        assert_int_equal(psi_logentry_share_list_build(share_buf, sizeof share_buf, &len, share, 2),
                         0);
        e->u.party_policy.share_count = 2;
        e->u.party_policy.share_list = share_buf;
        e->u.party_policy.share_list_len = len;
        memset(e->u.party_policy.signature, 0xbb, 64);
        break;
    case PSI_LOGENTRY_ELEMENT_QUOTA:
        strcpy(e->u.element_quota.participant, "agency-a");
        e->u.element_quota.limit = 250000;
        break;
    }
}

static size_t encode(const struct psi_logentry *e, unsigned char *out, size_t cap)
{
    size_t len = 0;
    assert_int_equal(psi_logentry_encode(out, cap, &len, e), 0);
    return len;
}

/* ---------------------------------------------------------------- vectors */

static void test_vector_submission(void **state)
{
    (void)state;
    static const char hex[] =
        "01050000018bcfe56800086167656e63792d6108323032362d57343800000000000000070000000000000003"
        "000000000000000a111111111111111111111111111111111111111111111111111111111111111122222222"
        "2222222222222222222222222222222222222222222222222222222222222222222222222222222222222222"
        "22222222222222222222222222222222";
    unsigned char want[148], got[256];
    struct psi_logentry e;
    from_hex(want, sizeof want, hex);
    sample(&e, PSI_LOGENTRY_SUBMISSION);
    e.time_ms = 1700000000000ULL;
    size_t len = encode(&e, got, sizeof got);
    assert_int_equal(len, sizeof want);
    assert_memory_equal(got, want, sizeof want);
}

static void test_vector_roster(void **state)
{
    (void)state;
    static const char hex[] = "010100000000000000010876656e646f722d6202333333333333333333333333"
                              "3333333333333333333333333333333333333333020002086167656e63792d61"
                              "086167656e63792d63";
    unsigned char want[73], got[128];
    struct psi_logentry e;
    from_hex(want, sizeof want, hex);
    sample(&e, PSI_LOGENTRY_ADMIT);
    e.time_ms = 1;
    e.u.roster.contribute_only = 1;
    size_t len = encode(&e, got, sizeof got);
    assert_int_equal(len, sizeof want);
    assert_memory_equal(got, want, sizeof want);
}

/* ---------------------------------------------------------------- round trips */

static void assert_same(const struct psi_logentry *a, const struct psi_logentry *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_true(a->time_ms == b->time_ms);
    switch (a->kind) {
    case PSI_LOGENTRY_ADMIT:
    case PSI_LOGENTRY_POLICY:
    case PSI_LOGENTRY_REMOVE:
        assert_string_equal(a->u.roster.participant, b->u.roster.participant);
        assert_int_equal(a->u.roster.role, b->u.roster.role);
        assert_memory_equal(a->u.roster.public_key, b->u.roster.public_key, 32);
        assert_int_equal(a->u.roster.share_all, b->u.roster.share_all);
        assert_int_equal(a->u.roster.contribute_only, b->u.roster.contribute_only);
        assert_int_equal(a->u.roster.share_count, b->u.roster.share_count);
        assert_int_equal(a->u.roster.share_list_len, b->u.roster.share_list_len);
        if (a->u.roster.share_list_len > 0)
            assert_memory_equal(a->u.roster.share_list, b->u.roster.share_list,
                                a->u.roster.share_list_len);
        break;
    case PSI_LOGENTRY_EPOCH_KEY:
        assert_string_equal(a->u.epoch_key.participant, b->u.epoch_key.participant);
        assert_string_equal(a->u.epoch_key.epoch, b->u.epoch_key.epoch);
        assert_memory_equal(a->u.epoch_key.public_key, b->u.epoch_key.public_key, 32);
        assert_memory_equal(a->u.epoch_key.signature, b->u.epoch_key.signature, 64);
        break;
    case PSI_LOGENTRY_SUBMISSION:
        assert_string_equal(a->u.submission.participant, b->u.submission.participant);
        assert_string_equal(a->u.submission.epoch, b->u.submission.epoch);
        assert_true(a->u.submission.submission_id == b->u.submission.submission_id);
        assert_true(a->u.submission.count == b->u.submission.count);
        assert_true(a->u.submission.position_base == b->u.submission.position_base);
        assert_memory_equal(a->u.submission.digest, b->u.submission.digest, 32);
        assert_memory_equal(a->u.submission.signature, b->u.submission.signature, 64);
        break;
    case PSI_LOGENTRY_CROSSBLIND:
        assert_string_equal(a->u.crossblind.participant, b->u.crossblind.participant);
        assert_true(a->u.crossblind.submission_id == b->u.crossblind.submission_id);
        assert_true(a->u.crossblind.count == b->u.crossblind.count);
        assert_memory_equal(a->u.crossblind.tag_digest, b->u.crossblind.tag_digest, 32);
        assert_memory_equal(a->u.crossblind.signature, b->u.crossblind.signature, 64);
        break;
    case PSI_LOGENTRY_MATCH:
        assert_string_equal(a->u.match.epoch, b->u.match.epoch);
        assert_string_equal(a->u.match.participant_a, b->u.match.participant_a);
        assert_string_equal(a->u.match.participant_b, b->u.match.participant_b);
        assert_true(a->u.match.matched_a == b->u.match.matched_a);
        assert_true(a->u.match.matched_b == b->u.match.matched_b);
        break;
    case PSI_LOGENTRY_REFUSAL:
        assert_int_equal(a->u.refusal.code, b->u.refusal.code);
        assert_int_equal(a->u.refusal.authenticated, b->u.refusal.authenticated);
        assert_string_equal(a->u.refusal.participant, b->u.refusal.participant);
        assert_string_equal(a->u.refusal.method, b->u.refusal.method);
        assert_memory_equal(a->u.refusal.frame_digest, b->u.refusal.frame_digest, 32);
        break;
    case PSI_LOGENTRY_FEED:
        assert_string_equal(a->u.feed.participant, b->u.feed.participant);
        assert_string_equal(a->u.feed.epoch, b->u.feed.epoch);
        assert_true(a->u.feed.count == b->u.feed.count);
        assert_true(a->u.feed.size == b->u.feed.size);
        assert_memory_equal(a->u.feed.feed_digest, b->u.feed.feed_digest, 32);
        assert_memory_equal(a->u.feed.signature, b->u.feed.signature, 64);
        break;
    case PSI_LOGENTRY_QUERY:
        assert_string_equal(a->u.query.participant, b->u.query.participant);
        assert_string_equal(a->u.query.vendor, b->u.query.vendor);
        assert_string_equal(a->u.query.epoch, b->u.query.epoch);
        assert_true(a->u.query.count == b->u.query.count);
        assert_memory_equal(a->u.query.elements_digest, b->u.query.elements_digest, 32);
        assert_memory_equal(a->u.query.signature, b->u.query.signature, 64);
        break;
    case PSI_LOGENTRY_QUOTA:
        assert_string_equal(a->u.quota.agency, b->u.quota.agency);
        assert_string_equal(a->u.quota.vendor, b->u.quota.vendor);
        assert_true(a->u.quota.limit == b->u.quota.limit);
        break;
    case PSI_LOGENTRY_ANSWER:
        assert_string_equal(a->u.answer.vendor, b->u.answer.vendor);
        assert_string_equal(a->u.answer.agency, b->u.answer.agency);
        assert_string_equal(a->u.answer.epoch, b->u.answer.epoch);
        assert_true(a->u.answer.query_index == b->u.answer.query_index);
        assert_true(a->u.answer.count == b->u.answer.count);
        assert_memory_equal(a->u.answer.public_key, b->u.answer.public_key, 32);
        assert_memory_equal(a->u.answer.answer_digest, b->u.answer.answer_digest, 32);
        break;
    case PSI_LOGENTRY_PARTY_POLICY:
        assert_string_equal(a->u.party_policy.participant, b->u.party_policy.participant);
        assert_true(a->u.party_policy.issued_ms == b->u.party_policy.issued_ms);
        assert_int_equal(a->u.party_policy.share_all, b->u.party_policy.share_all);
        assert_int_equal(a->u.party_policy.contribute_only, b->u.party_policy.contribute_only);
        assert_int_equal(a->u.party_policy.share_count, b->u.party_policy.share_count);
        assert_int_equal(a->u.party_policy.share_list_len, b->u.party_policy.share_list_len);
        if (a->u.party_policy.share_list_len > 0)
            assert_memory_equal(a->u.party_policy.share_list, b->u.party_policy.share_list,
                                a->u.party_policy.share_list_len);
        assert_memory_equal(a->u.party_policy.signature, b->u.party_policy.signature, 64);
        break;
    case PSI_LOGENTRY_ELEMENT_QUOTA:
        assert_string_equal(a->u.element_quota.participant, b->u.element_quota.participant);
        assert_true(a->u.element_quota.limit == b->u.element_quota.limit);
        break;
    }
}

static void test_round_trip_every_kind(void **state)
{
    (void)state;
    for (unsigned kind = 1; kind <= PSI_LOGENTRY_KIND_MAX; kind++) {
        struct psi_logentry e, d;
        unsigned char buf[512], again[512];
        sample(&e, kind);
        size_t len = encode(&e, buf, sizeof buf);
        assert_int_equal(buf[0], PSI_LOGENTRY_VERSION);
        assert_int_equal(buf[1], kind);
        assert_int_equal(psi_logentry_decode(&d, buf, len), 0);
        assert_same(&e, &d);
        /* One encoding per value: decoding and encoding again gives the bytes. */
        size_t len2 = encode(&d, again, sizeof again);
        assert_int_equal(len2, len);
        assert_memory_equal(buf, again, len);
    }
}

static void test_round_trip_variants(void **state)
{
    (void)state;
    struct psi_logentry e, d;
    unsigned char buf[512];
    size_t len;

    /* share_all with an empty list */
    sample(&e, PSI_LOGENTRY_ADMIT);
    e.u.roster.share_all = 1;
    e.u.roster.share_count = 0;
    e.u.roster.share_list = NULL;
    e.u.roster.share_list_len = 0;
    len = encode(&e, buf, sizeof buf);
    assert_int_equal(psi_logentry_decode(&d, buf, len), 0);
    assert_same(&e, &d);
    assert_null(d.u.roster.share_list);

    /* An unauthenticated refusal without a claimed id or method; the
     * smallest and largest codes. */
    sample(&e, PSI_LOGENTRY_REFUSAL);
    e.u.refusal.authenticated = 0;
    e.u.refusal.participant[0] = '\0';
    e.u.refusal.method[0] = '\0';
    e.u.refusal.code = -1;
    len = encode(&e, buf, sizeof buf);
    assert_int_equal(psi_logentry_decode(&d, buf, len), 0);
    assert_same(&e, &d);
    e.u.refusal.code = INT32_MIN;
    len = encode(&e, buf, sizeof buf);
    assert_int_equal(psi_logentry_decode(&d, buf, len), 0);
    assert_int_equal(d.u.refusal.code, INT32_MIN);

    /* Extreme numbers, longest id and epoch. */
    sample(&e, PSI_LOGENTRY_SUBMISSION);
    e.time_ms = UINT64_MAX;
    e.u.submission.submission_id = UINT64_MAX;
    e.u.submission.count = UINT64_MAX;
    e.u.submission.position_base = UINT64_MAX;
    memset(e.u.submission.participant, 'x', PSI_LOGENTRY_ID_MAX);
    e.u.submission.participant[PSI_LOGENTRY_ID_MAX] = '\0';
    memset(e.u.submission.epoch, ':', PSI_LOGENTRY_EPOCH_MAX);
    e.u.submission.epoch[PSI_LOGENTRY_EPOCH_MAX] = '\0';
    len = encode(&e, buf, sizeof buf);
    assert_int_equal(psi_logentry_decode(&d, buf, len), 0);
    assert_same(&e, &d);

    /* A feed of zero items is a value (a vendor may publish an empty feed). */
    sample(&e, PSI_LOGENTRY_FEED);
    e.u.feed.count = 0;
    len = encode(&e, buf, sizeof buf);
    assert_int_equal(psi_logentry_decode(&d, buf, len), 0);
    assert_same(&e, &d);
}

/* ---------------------------------------------------------------- strictness */

static void test_every_truncation_refused(void **state)
{
    (void)state;
    for (unsigned kind = 1; kind <= PSI_LOGENTRY_KIND_MAX; kind++) {
        struct psi_logentry e, d;
        unsigned char buf[512];
        sample(&e, kind);
        size_t len = encode(&e, buf, sizeof buf);
        for (size_t cut = 0; cut < len; cut++) {
            int rc = psi_logentry_decode(&d, buf, cut);
            assert_int_equal(rc, PSI_ERR_PARSE);
            assert_int_equal(d.kind, 0); /* nothing half-decoded is left */
        }
    }
}

static void test_trailing_bytes_refused(void **state)
{
    (void)state;
    for (unsigned kind = 1; kind <= PSI_LOGENTRY_KIND_MAX; kind++) {
        struct psi_logentry e, d;
        unsigned char buf[512];
        sample(&e, kind);
        size_t len = encode(&e, buf, sizeof buf);
        buf[len] = 0;
        assert_int_equal(psi_logentry_decode(&d, buf, len + 1), PSI_ERR_PARSE);
        buf[len] = 0xff;
        buf[len + 1] = 0x00;
        assert_int_equal(psi_logentry_decode(&d, buf, len + 2), PSI_ERR_PARSE);
    }
}

static void test_bad_version_and_kinds(void **state)
{
    (void)state;
    struct psi_logentry e, d;
    unsigned char buf[512];
    sample(&e, PSI_LOGENTRY_MATCH);
    size_t len = encode(&e, buf, sizeof buf);
    static const unsigned bad_kinds[] = {0, PSI_LOGENTRY_KIND_MAX + 1U, 0x7f, 0xff};
    for (size_t i = 0; i < sizeof bad_kinds / sizeof bad_kinds[0]; i++) {
        buf[1] = (unsigned char)bad_kinds[i];
        assert_int_equal(psi_logentry_decode(&d, buf, len), PSI_ERR_UNSUPPORTED);
    }
    buf[1] = PSI_LOGENTRY_MATCH;
    assert_int_equal(psi_logentry_decode(&d, buf, len), 0);
    buf[0] = 0;
    assert_int_equal(psi_logentry_decode(&d, buf, len), PSI_ERR_UNSUPPORTED);
    buf[0] = 2;
    assert_int_equal(psi_logentry_decode(&d, buf, len), PSI_ERR_UNSUPPORTED);
    /* The kind byte of another layout: the fields do not fit. */
    buf[0] = 1;
    buf[1] = PSI_LOGENTRY_SUBMISSION;
    assert_int_equal(psi_logentry_decode(&d, buf, len), PSI_ERR_PARSE);
    /* Encoder: no such kind. */
    e.kind = (enum psi_logentry_kind)0;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    e.kind = (enum psi_logentry_kind)(PSI_LOGENTRY_KIND_MAX + 1U);
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
}

/* Decodes buf after setting one byte; expects PSI_ERR_PARSE. */
static void expect_parse_error_with(unsigned char *buf, size_t len, size_t at, unsigned char v)
{
    struct psi_logentry d;
    unsigned char saved = buf[at];
    buf[at] = v;
    assert_int_equal(psi_logentry_decode(&d, buf, len), PSI_ERR_PARSE);
    buf[at] = saved;
    assert_int_equal(psi_logentry_decode(&d, buf, len), 0);
}

static void test_decoder_field_rules(void **state)
{
    (void)state;
    struct psi_logentry e;
    unsigned char buf[512];
    size_t len;

    /* Roster: 10 header, 1+8 "vendor-b", role at 19, key 20..51, flags 52,
     * count 53..54, list from 55: 08 "agency-a" 08 "agency-c". */
    sample(&e, PSI_LOGENTRY_ADMIT);
    len = encode(&e, buf, sizeof buf);
    assert_int_equal(len, 73);
    expect_parse_error_with(buf, len, 19, 0);       /* role 0 */
    expect_parse_error_with(buf, len, 19, 4);       /* role 4 */
    expect_parse_error_with(buf, len, 52, 4);       /* undefined flag bit */
    expect_parse_error_with(buf, len, 52, 1);       /* share_all with a list */
    expect_parse_error_with(buf, len, 54, 1);       /* count 1: a trailing id */
    expect_parse_error_with(buf, len, 54, 3);       /* count 3: missing id */
    expect_parse_error_with(buf, len, 53, 0xff);    /* huge count */
    expect_parse_error_with(buf, len, 56 + 7, 'c'); /* "agency-c" twice: not increasing */
    /* A NUL inside a string: the id "vendor" would be read, not its bytes. */
    expect_parse_error_with(buf, len, 11 + 6, 0);   /* participant "vendor\0b" */
    expect_parse_error_with(buf, len, 11 + 0, '.'); /* participant ".endor-b" */
    expect_parse_error_with(buf, len, 56 + 6, 0);   /* share list "agency\0a" */
}

static void test_decoder_field_rules_more(void **state)
{
    (void)state;
    struct psi_logentry e, d;
    unsigned char buf[512];
    size_t len;

    /* An unsorted share list: swap the two ids' last letters. */
    sample(&e, PSI_LOGENTRY_ADMIT);
    len = encode(&e, buf, sizeof buf);
    buf[55 + 8] = 'c';
    buf[55 + 9 + 8] = 'a';
    assert_int_equal(psi_logentry_decode(&d, buf, len), PSI_ERR_PARSE);

    /* Ids: first byte after the header is the length of "vendor-b". */
    sample(&e, PSI_LOGENTRY_ADMIT);
    len = encode(&e, buf, sizeof buf);
    expect_parse_error_with(buf, len, 11, ' ');  /* bad character */
    expect_parse_error_with(buf, len, 11, '.');  /* leading dot */
    expect_parse_error_with(buf, len, 11, '-');  /* leading dash */
    expect_parse_error_with(buf, len, 11, 0xc3); /* not ASCII */
    expect_parse_error_with(buf, len, 10, 0);    /* empty id (and the rest shifts) */

    /* Submission: count zero, epoch with a space. Layout: 10 header,
     * 1+8 id, 1+8 epoch (epoch bytes 20..27), id 28..35, count 36..43. */
    sample(&e, PSI_LOGENTRY_SUBMISSION);
    len = encode(&e, buf, sizeof buf);
    expect_parse_error_with(buf, len, 43, 0);
    expect_parse_error_with(buf, len, 22, ' ');
    expect_parse_error_with(buf, len, 22, '/');

    /* Cross-blind: count zero (10 header, 1+8 id, sub id 19..26, count 27..34). */
    sample(&e, PSI_LOGENTRY_CROSSBLIND);
    len = encode(&e, buf, sizeof buf);
    expect_parse_error_with(buf, len, 34, 0);

    /* Match: a == b, and a > b. Layout: 10 header, 1+8 epoch, 1+8 a (bytes
     * 20..27), 1+8 b (bytes 29..36). */
    sample(&e, PSI_LOGENTRY_MATCH);
    len = encode(&e, buf, sizeof buf);
    expect_parse_error_with(buf, len, 36, 'a');
    expect_parse_error_with(buf, len, 27, 'z');

    /* Refusal: code 0 (10..13), authenticated 2 (14), authenticated without
     * an id, a method with an upper-case letter. */
    sample(&e, PSI_LOGENTRY_REFUSAL);
    len = encode(&e, buf, sizeof buf);
    assert_int_equal(buf[13], 4); /* PSI_ERR_VERIFY = -4 */
    expect_parse_error_with(buf, len, 13, 0);
    expect_parse_error_with(buf, len, 14, 2);
    expect_parse_error_with(buf, len, 10, 0x80); /* magnitude above 2^31 */
    expect_parse_error_with(buf, len, 25, 'S');  /* "submit.commit" -> "Submit..." */
    sample(&e, PSI_LOGENTRY_REFUSAL);
    e.u.refusal.authenticated = 0;
    e.u.refusal.participant[0] = '\0';
    len = encode(&e, buf, sizeof buf);
    expect_parse_error_with(buf, len, 14, 1); /* authenticated, no id */

    /* Query: count zero (its last byte, before digest and signature). */
    sample(&e, PSI_LOGENTRY_QUERY);
    len = encode(&e, buf, sizeof buf);
    expect_parse_error_with(buf, len, len - 97, 0);

    /* Answer: count zero (the last byte of the count, before key and
     * digest); a vendor id starting with '-'. */
    sample(&e, PSI_LOGENTRY_ANSWER);
    len = encode(&e, buf, sizeof buf);
    expect_parse_error_with(buf, len, len - 65, 0);
    expect_parse_error_with(buf, len, 11, '-');
    /* Quota: an agency id with a byte outside the alphabet. */
    sample(&e, PSI_LOGENTRY_QUOTA);
    len = encode(&e, buf, sizeof buf);
    expect_parse_error_with(buf, len, 11, '/');
}

static void test_encoder_refuses_values_without_encoding(void **state)
{
    (void)state;
    struct psi_logentry e;
    unsigned char buf[512];
    size_t len = 0;

    sample(&e, PSI_LOGENTRY_ADMIT);
    e.u.roster.role = (enum psi_logentry_role)4;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_ADMIT);
    e.u.roster.share_all = 2;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_ADMIT);
    e.u.roster.contribute_only = -1;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_ADMIT);
    e.u.roster.share_all = 1; /* with a list */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_ADMIT);
    e.u.roster.share_count = 1; /* does not match the list */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_ADMIT);
    e.u.roster.share_list_len -= 1; /* cut */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_ADMIT);
    strcpy(e.u.roster.participant, "has space");
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_ADMIT);
    memset(e.u.roster.participant, 'a', sizeof e.u.roster.participant); /* no NUL */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);

    sample(&e, PSI_LOGENTRY_SUBMISSION);
    e.u.submission.count = 0;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_SUBMISSION);
    e.u.submission.epoch[0] = '\0';
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_SUBMISSION);
    memset(e.u.submission.epoch, 'e', sizeof e.u.submission.epoch); /* 65, no NUL */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_CROSSBLIND);
    e.u.crossblind.count = 0;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_EPOCH_KEY);
    strcpy(e.u.epoch_key.epoch, "week 48");
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);

    sample(&e, PSI_LOGENTRY_MATCH);
    strcpy(e.u.match.participant_a, "agency-c"); /* a == b */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_MATCH);
    strcpy(e.u.match.participant_a, "zz"); /* a > b */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);

    sample(&e, PSI_LOGENTRY_REFUSAL);
    e.u.refusal.code = 0;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_REFUSAL);
    e.u.refusal.code = 5;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_REFUSAL);
    e.u.refusal.participant[0] = '\0'; /* authenticated, no id */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_REFUSAL);
    e.u.refusal.authenticated = 3;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_REFUSAL);
    strcpy(e.u.refusal.method, "Submit");
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_FEED);
    strcpy(e.u.feed.participant, "-x");
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_QUERY);
    e.u.query.count = 0;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_QUERY);
    e.u.query.vendor[0] = '\0';
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_QUOTA);
    e.u.quota.vendor[0] = '\0';
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_ANSWER);
    e.u.answer.count = 0;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_ANSWER);
    strcpy(e.u.answer.epoch, "a b");
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), PSI_ERR_INVALID);

    /* Arguments. */
    sample(&e, PSI_LOGENTRY_QUERY);
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, NULL, &e), PSI_ERR_INVALID);
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_logentry_encode(NULL, 10, &len, &e), PSI_ERR_INVALID);
    assert_int_equal(psi_logentry_decode(NULL, buf, 10), PSI_ERR_INVALID);
    assert_int_equal(psi_logentry_decode(&e, NULL, 10), PSI_ERR_INVALID);
    assert_int_equal(psi_logentry_decode(&e, NULL, 0), PSI_ERR_PARSE);
}

static void test_encoder_too_small(void **state)
{
    (void)state;
    struct psi_logentry e;
    unsigned char buf[512];
    size_t len = 0, need;
    sample(&e, PSI_LOGENTRY_SUBMISSION);
    need = encode(&e, buf, sizeof buf);
    memset(buf, 0xee, sizeof buf);
    assert_int_equal(psi_logentry_encode(buf, need - 1, &len, &e), PSI_ERR_TOO_LARGE);
    assert_int_equal(len, need);
    assert_int_equal(buf[need - 1], 0xee); /* nothing past the capacity */
    assert_int_equal(psi_logentry_encode(NULL, 0, &len, &e), PSI_ERR_TOO_LARGE);
    assert_int_equal(len, need);
    assert_int_equal(psi_logentry_encode(buf, need, &len, &e), 0);
}

/* ---------------------------------------------------------------- share lists */

static void test_share_lists(void **state)
{
    (void)state;
    static const char *const ids[] = {"a", "a.b", "b", "b-1"};
    static const char *const unsorted[] = {"b", "a"};
    static const char *const twice[] = {"a", "a"};
    static const char *const invalid[] = {"a", "b c"};
    unsigned char list[64];
    size_t len = 0, off = 0;
    char id[PSI_LOGENTRY_ID_MAX + 1];

    assert_int_equal(psi_logentry_share_list_build(list, sizeof list, &len, ids, 4), 0);
    assert_int_equal(len, 2 + 4 + 2 + 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(psi_logentry_share_next(list, len, &off, id), 0);
        assert_string_equal(id, ids[i]);
    }
    assert_int_equal(psi_logentry_share_next(list, len, &off, id), PSI_ERR_NOT_FOUND);
    off = 0;
    assert_int_equal(psi_logentry_share_next(list, 3, &off, id), 0); /* "a" */
    assert_int_equal(psi_logentry_share_next(list, 3, &off, id), PSI_ERR_PARSE);
    assert_int_equal(psi_logentry_share_next(NULL, 3, &off, id), PSI_ERR_INVALID);

    assert_int_equal(psi_logentry_share_list_build(list, sizeof list, &len, unsorted, 2),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_logentry_share_list_build(list, sizeof list, &len, twice, 2),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_logentry_share_list_build(list, sizeof list, &len, invalid, 2),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_logentry_share_list_build(list, 3, &len, ids, 4), PSI_ERR_TOO_LARGE);
    assert_int_equal(len, 12);
    assert_int_equal(psi_logentry_share_list_build(list, sizeof list, &len, NULL, 0), 0);
    assert_int_equal(len, 0);
    assert_int_equal(
        psi_logentry_share_list_build(list, sizeof list, &len, ids, PSI_LOGENTRY_SHARE_MAX + 1U),
        PSI_ERR_INVALID);

    /* allows */
    struct psi_logentry_roster r;
    memset(&r, 0, sizeof r);
    assert_int_equal(psi_logentry_share_list_build(list, sizeof list, &len, ids, 4), 0);
    r.share_list = list;
    r.share_list_len = len;
    r.share_count = 4;
    assert_int_equal(psi_logentry_roster_allows(&r, "a.b"), 1);
    assert_int_equal(psi_logentry_roster_allows(&r, "b-1"), 1);
    assert_int_equal(psi_logentry_roster_allows(&r, "a."), 0);
    assert_int_equal(psi_logentry_roster_allows(&r, "c"), 0);
    r.share_all = 1;
    assert_int_equal(psi_logentry_roster_allows(&r, "c"), 1);
    assert_int_equal(psi_logentry_roster_allows(NULL, "c"), 0);
}

/* The longest roster entry: 512 ids of 64 bytes. */
static void test_largest_entry(void **state)
{
    (void)state;
    static char names[PSI_LOGENTRY_SHARE_MAX + 1U][PSI_LOGENTRY_ID_MAX + 1U];
    static const char *ids[PSI_LOGENTRY_SHARE_MAX + 1U];
    static unsigned char entry[PSI_LOGENTRY_MAX_BYTES + 128U];
    for (size_t i = 0; i <= PSI_LOGENTRY_SHARE_MAX; i++) {
        memset(names[i], 'p', PSI_LOGENTRY_ID_MAX);
        snprintf(names[i] + PSI_LOGENTRY_ID_MAX - 4, 5, "%04zu", i);
        ids[i] = names[i];
    }
    size_t len = 0;
    struct psi_logentry e, d, pp;
    /* Samples before the list: they build their own in share_buf. */
    sample(&pp, PSI_LOGENTRY_PARTY_POLICY);
    sample(&e, PSI_LOGENTRY_POLICY);
    assert_int_equal(psi_logentry_share_list_build(share_buf, sizeof share_buf, &len, ids,
                                                   PSI_LOGENTRY_SHARE_MAX),
                     0);
    memset(e.u.roster.participant, 'q', PSI_LOGENTRY_ID_MAX);
    e.u.roster.participant[PSI_LOGENTRY_ID_MAX] = '\0';
    e.u.roster.share_count = PSI_LOGENTRY_SHARE_MAX;
    e.u.roster.share_list = share_buf;
    e.u.roster.share_list_len = len;
    size_t elen = 0;
    /* The longest party policy: the longest entry of all. */
    memcpy(pp.u.party_policy.participant, e.u.roster.participant, PSI_LOGENTRY_ID_MAX + 1U);
    pp.u.party_policy.share_count = PSI_LOGENTRY_SHARE_MAX;
    pp.u.party_policy.share_list = share_buf;
    pp.u.party_policy.share_list_len = len;
    assert_int_equal(psi_logentry_encode(entry, sizeof entry, &elen, &pp), 0);
    assert_int_equal(elen, PSI_LOGENTRY_MAX_BYTES);
    assert_int_equal(psi_logentry_decode(&d, entry, elen), 0);
    assert_same(&pp, &d);
    assert_int_equal(psi_logentry_encode(entry, sizeof entry, &elen, &e), 0);
    assert_int_equal(elen, PSI_LOGENTRY_MAX_BYTES - 39U);
    assert_true(PSI_LOGENTRY_MAX_BYTES <= 65535U);
    assert_int_equal(psi_logentry_decode(&d, entry, elen), 0);
    assert_same(&e, &d);
    /* One more id is refused by the decoder (count 513, list extended). */
    entry[elen] = PSI_LOGENTRY_ID_MAX;
    memcpy(entry + elen + 1, names[PSI_LOGENTRY_SHARE_MAX], PSI_LOGENTRY_ID_MAX);
    entry[10 + 1 + 64 + 1 + 32 + 1] = (unsigned char)((PSI_LOGENTRY_SHARE_MAX + 1U) >> 8);
    entry[10 + 1 + 64 + 1 + 32 + 2] = (unsigned char)(PSI_LOGENTRY_SHARE_MAX + 1U);
    assert_int_equal(psi_logentry_decode(&d, entry, elen + 1 + PSI_LOGENTRY_ID_MAX), PSI_ERR_PARSE);
}

/* Party policy: the entry's layout, its field rules, and the statement a
 * party signs, byte by byte. */
static void test_party_policy(void **state)
{
    (void)state;
    struct psi_logentry e, d;
    unsigned char buf[512];
    sample(&e, PSI_LOGENTRY_PARTY_POLICY);
    size_t len = encode(&e, buf, sizeof buf);
    /* 10 header, 1+8 "vendor-b", issued 19..26, flags 27, count 28..29,
     * list 30..47 (08 "agency-a" 08 "agency-c"), signature 48..111. */
    assert_int_equal(len, 112);
    assert_int_equal(buf[1], PSI_LOGENTRY_PARTY_POLICY);
    assert_int_equal(buf[27], 2); /* contribute_only */
    assert_int_equal(buf[29], 2);
    assert_int_equal(buf[30], 8);
    assert_int_equal(buf[48], 0xbb);
    expect_parse_error_with(buf, len, 27, 4);       /* undefined flag bit */
    expect_parse_error_with(buf, len, 27, 1);       /* share_all with a list */
    expect_parse_error_with(buf, len, 29, 1);       /* count 1: a trailing id */
    expect_parse_error_with(buf, len, 29, 3);       /* count 3: missing id */
    expect_parse_error_with(buf, len, 31 + 7, 'c'); /* "agency-c" twice */
    expect_parse_error_with(buf, len, 11, '.');     /* id starting with '.' */

    /* share_all, no list: round trip. */
    e.u.party_policy.share_all = 1;
    e.u.party_policy.contribute_only = 0;
    e.u.party_policy.share_count = 0;
    e.u.party_policy.share_list = NULL;
    e.u.party_policy.share_list_len = 0;
    len = encode(&e, buf, sizeof buf);
    assert_int_equal(len, 94);
    assert_int_equal(psi_logentry_decode(&d, buf, len), 0);
    assert_same(&e, &d);

    /* The encoder refuses what has no encoding. */
    size_t out = 0;
    sample(&e, PSI_LOGENTRY_PARTY_POLICY);
    e.u.party_policy.share_all = 1; /* with a list */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &out, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_PARTY_POLICY);
    e.u.party_policy.contribute_only = 2;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &out, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_PARTY_POLICY);
    e.u.party_policy.share_count = 1; /* the list holds two */
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &out, &e), PSI_ERR_INVALID);
    sample(&e, PSI_LOGENTRY_PARTY_POLICY);
    strcpy(e.u.party_policy.participant, "a b");
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &out, &e), PSI_ERR_INVALID);

    /* The statement: context, 0x00, hub key, the participant, issued_ms,
     * flags, count, list; the same policy fields as the entry, no signature. */
    unsigned char hub_key[32], st[PSI_POLICY_STATEMENT_MAX], want[128];
    memset(hub_key, 0x5a, sizeof hub_key);
    sample(&e, PSI_LOGENTRY_PARTY_POLICY);
    size_t slen = 0;
    assert_int_equal(psi_policy_statement(st, sizeof st, &slen, hub_key, &e.u.party_policy), 0);
    from_hex(want, 18, "7073692f706f6c6963792d7369672f763100"); /* "psi/policy-sig/v1" 0x00 */
    memcpy(want + 18, hub_key, 32);
    from_hex(want + 50, 9 + 8 + 1 + 2 + 18,
             "0876656e646f722d62"
             "0000018bcfe5687b"
             "02"
             "0002"
             "086167656e63792d61"
             "086167656e63792d63");
    assert_int_equal(slen, 50 + 38);
    assert_memory_equal(st, want, slen);
    /* The flags and list are exactly the entry's. */
    len = encode(&e, buf, sizeof buf);
    assert_true(len >= 27 + 1 + 2 + 18);
    assert_memory_equal(st + 50 + 9 + 8, buf + 27, 1 + 2 + 18);
    /* Too small: the length needed; invalid values refused. */
    assert_int_equal(psi_policy_statement(st, 10, &slen, hub_key, &e.u.party_policy),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(slen, 88);
    assert_int_equal(psi_policy_statement(NULL, 0, &slen, NULL, &e.u.party_policy),
                     PSI_ERR_INVALID);
    e.u.party_policy.share_all = 1;
    assert_int_equal(psi_policy_statement(st, sizeof st, &slen, hub_key, &e.u.party_policy),
                     PSI_ERR_INVALID);
}

static void test_element_quota(void **state)
{
    (void)state;
    struct psi_logentry e;
    unsigned char buf[64], want[64];
    sample(&e, PSI_LOGENTRY_ELEMENT_QUOTA);
    size_t len = encode(&e, buf, sizeof buf);
    from_hex(want, 27,
             "010e0000018bcfe5680e"
             "086167656e63792d61"
             "000000000003d090");
    assert_int_equal(len, 27);
    assert_memory_equal(buf, want, len);
    expect_parse_error_with(buf, len, 10, 0); /* empty id */
    expect_parse_error_with(buf, len, 11, '-');
    assert_true(PSI_ELEMENT_QUOTA_DEFAULT == 1000000U);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(psi_logentry_kind_name(PSI_LOGENTRY_ADMIT), "admit");
    assert_string_equal(psi_logentry_kind_name(PSI_LOGENTRY_SUBMISSION), "submission");
    assert_string_equal(psi_logentry_kind_name(PSI_LOGENTRY_QUERY), "query");
    assert_string_equal(psi_logentry_kind_name(PSI_LOGENTRY_QUOTA), "quota");
    assert_string_equal(psi_logentry_kind_name(PSI_LOGENTRY_ANSWER), "answer");
    assert_string_equal(psi_logentry_kind_name(PSI_LOGENTRY_PARTY_POLICY), "party-policy");
    assert_string_equal(psi_logentry_kind_name(PSI_LOGENTRY_ELEMENT_QUOTA), "element-quota");
    assert_string_equal(psi_logentry_kind_name(0), "unknown");
    assert_string_equal(psi_logentry_kind_name(99), "unknown");
    assert_string_equal(psi_logentry_role_name(PSI_LOGENTRY_ROLE_AUDITOR), "auditor");
    assert_string_equal(psi_logentry_role_name(0), "unknown");
    assert_int_equal(psi_logentry_role_parse("vendor"), PSI_LOGENTRY_ROLE_VENDOR);
    assert_int_equal(psi_logentry_role_parse("agency"), PSI_LOGENTRY_ROLE_AGENCY);
    assert_int_equal(psi_logentry_role_parse("auditor"), PSI_LOGENTRY_ROLE_AUDITOR);
    assert_int_equal(psi_logentry_role_parse("Agency"), 0);
    assert_int_equal(psi_logentry_role_parse(NULL), 0);
    assert_int_equal(psi_logentry_id_is_valid("sg-csa"), 1);
    assert_int_equal(psi_logentry_id_is_valid(".x"), 0);
    assert_int_equal(psi_logentry_id_is_valid(""), 0);
    assert_int_equal(psi_logentry_id_is_valid(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_submission),
        cmocka_unit_test(test_vector_roster),
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_round_trip_variants),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_trailing_bytes_refused),
        cmocka_unit_test(test_bad_version_and_kinds),
        cmocka_unit_test(test_decoder_field_rules),
        cmocka_unit_test(test_decoder_field_rules_more),
        cmocka_unit_test(test_encoder_refuses_values_without_encoding),
        cmocka_unit_test(test_encoder_too_small),
        cmocka_unit_test(test_share_lists),
        cmocka_unit_test(test_largest_entry),
        cmocka_unit_test(test_party_policy),
        cmocka_unit_test(test_element_quota),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
