/* The auditor's checks: a clean multi-party log with every kind gives no
 * violation and the right counts; then hand-built logs, one family of
 * violation each (malformed entries, roster misuse, causes not admitted or
 * removed, roles, signatures, policies at the time of the entry, sequence and
 * repeats, counts), each named with its entry index and nothing else; the
 * signature contexts of psi.proto re-stated byte by byte; arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "psi/audit.h"
#include "psi/feed.h"
#include "psi/error.h"
#include "psi/logentry.h"

#define MAX_VIOLATIONS 64

struct party {
    const char *id;
    unsigned char pk[32];
    unsigned char sk[64];
};

enum { A, B, C, V, X, N_PARTIES }; /* agencies a, b, c; vendor v; auditor x */

static struct party parties[N_PARTIES] = {
    {"agency-a", {0}, {0}}, {"agency-b", {0}, {0}},  {"agency-c", {0}, {0}},
    {"vendor-v", {0}, {0}}, {"auditor-x", {0}, {0}},
};
static unsigned char hub_pk[32], hub_sk[64];
static unsigned char other_hub_pk[32], other_hub_sk[64];

struct seen {
    uint64_t index;
    enum psi_audit_check check;
    char detail[PSI_AUDIT_DETAIL_MAX + 1];
};

struct ctx {
    struct psi_audit *audit;
    uint64_t next;
    struct seen seen[MAX_VIOLATIONS];
    size_t n_seen;
    int stop_with;
};

static int collect(void *p, const struct psi_audit_violation *v)
{
    struct ctx *c = p;
    if (c->n_seen < MAX_VIOLATIONS) {
        c->seen[c->n_seen].index = v->index;
        c->seen[c->n_seen].check = v->check;
        memcpy(c->seen[c->n_seen].detail, v->detail, sizeof v->detail);
        c->n_seen++;
    }
    return c->stop_with;
}

static int setup_keys(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    for (int i = 0; i < N_PARTIES; i++) {
        unsigned char seed[32];
        memset(seed, 0x10 + i, sizeof seed);
        crypto_sign_seed_keypair(parties[i].pk, parties[i].sk, seed);
    }
    unsigned char seed[32];
    memset(seed, 0x70, sizeof seed);
    crypto_sign_seed_keypair(hub_pk, hub_sk, seed);
    memset(seed, 0x71, sizeof seed);
    crypto_sign_seed_keypair(other_hub_pk, other_hub_sk, seed);
    return 0;
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    if (c == NULL || psi_audit_create(&c->audit, hub_pk, collect, c) != 0)
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    psi_audit_destroy(c->audit);
    free(c);
    return 0;
}

/* ---------------------------------------------------------------- building entries */

/* Copies the string src into the char array dst, terminator included; the
 * test fails if it does not fit. */
#define SET_STR(dst, src) set_str((dst), sizeof(dst), (src))
static void set_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    assert_true(n < cap);
    memcpy(dst, src, n + 1);
}

/* Encodes e and feeds it; returns its index. */
static uint64_t feed(struct ctx *c, const struct psi_logentry *e)
{
    unsigned char buf[PSI_LOGENTRY_MAX_BYTES];
    size_t len = 0;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, e), 0);
    assert_int_equal(psi_audit_entry(c->audit, buf, len), 0);
    return c->next++;
}

static uint64_t feed_raw(struct ctx *c, const unsigned char *bytes, size_t len)
{
    assert_int_equal(psi_audit_entry(c->audit, bytes, len), 0);
    return c->next++;
}

/* A roster entry; share is NULL for share_all, else a sorted NULL-ended list. */
static uint64_t roster(struct ctx *c, enum psi_logentry_kind kind, int who,
                       enum psi_logentry_role role, const unsigned char *key,
                       const char *const *share)
{
    unsigned char list[16 * 65];
    size_t count = 0, len = 0;
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.time_ms = 1000 + c->next;
    SET_STR(e.u.roster.participant, parties[who].id);
    e.u.roster.role = role;
    memcpy(e.u.roster.public_key, key != NULL ? key : parties[who].pk, 32);
    if (share == NULL) {
        e.u.roster.share_all = 1;
    } else {
        while (share[count] != NULL)
            count++;
        assert_int_equal(psi_logentry_share_list_build(list, sizeof list, &len, share, count), 0);
        e.u.roster.share_count = count;
        e.u.roster.share_list = len ? list : NULL;
        e.u.roster.share_list_len = len;
    }
    return feed(c, &e);
}

static uint64_t admit(struct ctx *c, int who, enum psi_logentry_role role)
{
    return roster(c, PSI_LOGENTRY_ADMIT, who, role, NULL, NULL);
}

static void admit_all(struct ctx *c)
{
    admit(c, A, PSI_LOGENTRY_ROLE_AGENCY);
    admit(c, B, PSI_LOGENTRY_ROLE_AGENCY);
    admit(c, C, PSI_LOGENTRY_ROLE_AGENCY);
    admit(c, V, PSI_LOGENTRY_ROLE_VENDOR);
    admit(c, X, PSI_LOGENTRY_ROLE_AUDITOR);
}

static void submission_sig(unsigned char sig[64], const unsigned char *signer_sk,
                           const unsigned char *for_hub, const unsigned char digest[32])
{
    /* psi.proto: Ed25519(sender, "psi/submission-sig/v1" || 0x00 || hub_key || digest),
     * written out here independently of the module under test. */
    unsigned char m[22 + 32 + 32];
    memcpy(m, "psi/submission-sig/v1", 21);
    m[21] = 0x00;
    memcpy(m + 22, for_hub, 32);
    memcpy(m + 54, digest, 32);
    crypto_sign_detached(sig, NULL, m, sizeof m, signer_sk);
}

static void crossblind_sig(unsigned char sig[64], const unsigned char *signer_sk,
                           const unsigned char *for_hub, const unsigned char sub_digest[32],
                           uint64_t count, const unsigned char tag_digest[32])
{
    /* Ed25519(sender, "psi/crossblind-sig/v1" || 0x00 || hub_key ||
     *   submission digest || u64be(count) || tag_digest) */
    unsigned char m[22 + 32 + 32 + 8 + 32];
    memcpy(m, "psi/crossblind-sig/v1", 21);
    m[21] = 0x00;
    memcpy(m + 22, for_hub, 32);
    memcpy(m + 54, sub_digest, 32);
    for (int i = 0; i < 8; i++)
        m[86 + i] = (unsigned char)(count >> (56 - 8 * i));
    memcpy(m + 94, tag_digest, 32);
    crypto_sign_detached(sig, NULL, m, sizeof m, signer_sk);
}

/* The digest a submission of that id carries in these logs. */
static void digest_of(uint64_t id, unsigned char digest[32])
{
    unsigned char seed[8];
    for (int i = 0; i < 8; i++)
        seed[i] = (unsigned char)(id >> (56 - 8 * i));
    crypto_hash_sha256(digest, seed, sizeof seed);
}

/* A submission signed by `signer` (normally `who`) for hub `for_hub`. */
static uint64_t submit_as(struct ctx *c, int who, const char *epoch, uint64_t id, uint64_t count,
                          uint64_t base, const unsigned char *signer_sk,
                          const unsigned char *for_hub)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_SUBMISSION;
    e.time_ms = 1000 + c->next;
    struct psi_logentry_submission *s = &e.u.submission;
    SET_STR(s->participant, parties[who].id);
    SET_STR(s->epoch, epoch);
    s->submission_id = id;
    s->count = count;
    s->position_base = base;
    digest_of(id, s->digest);
    submission_sig(s->signature, signer_sk, for_hub, s->digest);
    return feed(c, &e);
}

static uint64_t submit(struct ctx *c, int who, const char *epoch, uint64_t id, uint64_t count,
                       uint64_t base)
{
    return submit_as(c, who, epoch, id, count, base, parties[who].sk, hub_pk);
}

/* A cross-blind batch; the signature covers signed_count and the digest of
 * submission signed_sub (normally count and sub). */
static uint64_t crossblind_as(struct ctx *c, int who, uint64_t sub, uint64_t count,
                              uint64_t signed_sub, uint64_t signed_count,
                              const unsigned char *signer_sk)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_CROSSBLIND;
    e.time_ms = 1000 + c->next;
    struct psi_logentry_crossblind *b = &e.u.crossblind;
    SET_STR(b->participant, parties[who].id);
    b->submission_id = sub;
    b->count = count;
    memset(b->tag_digest, (int)(0x40 + sub), 32);
    unsigned char sub_digest[32];
    digest_of(signed_sub, sub_digest);
    crossblind_sig(b->signature, signer_sk, hub_pk, sub_digest, signed_count, b->tag_digest);
    return feed(c, &e);
}

static uint64_t crossblind(struct ctx *c, int who, uint64_t sub, uint64_t count)
{
    return crossblind_as(c, who, sub, count, sub, count, parties[who].sk);
}

static uint64_t match(struct ctx *c, const char *epoch, int x, int y, uint64_t mx, uint64_t my)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_MATCH;
    e.time_ms = 1000 + c->next;
    SET_STR(e.u.match.epoch, epoch);
    /* the encoding wants the pair in byte order */
    int swap = strcmp(parties[x].id, parties[y].id) > 0;
    SET_STR(e.u.match.participant_a, parties[swap ? y : x].id);
    SET_STR(e.u.match.participant_b, parties[swap ? x : y].id);
    e.u.match.matched_a = swap ? my : mx;
    e.u.match.matched_b = swap ? mx : my;
    return feed(c, &e);
}

static uint64_t refusal(struct ctx *c, int authenticated, const char *id)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_REFUSAL;
    e.time_ms = 1000 + c->next;
    e.u.refusal.code = PSI_ERR_REPLAY;
    e.u.refusal.authenticated = authenticated;
    SET_STR(e.u.refusal.participant, id);
    SET_STR(e.u.refusal.method, "submit.commit");
    memset(e.u.refusal.frame_digest, 0x99, 32);
    return feed(c, &e);
}

static uint64_t epoch_key(struct ctx *c, int who, const char *epoch, unsigned char key_byte)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_EPOCH_KEY;
    e.time_ms = 1000 + c->next;
    SET_STR(e.u.epoch_key.participant, parties[who].id);
    SET_STR(e.u.epoch_key.epoch, epoch);
    memset(e.u.epoch_key.public_key, key_byte, 32);
    unsigned char m[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    assert_int_equal(
        psi_feed_key_statement(m, sizeof m, &len, hub_pk, epoch, e.u.epoch_key.public_key), 0);
    crypto_sign_detached(e.u.epoch_key.signature, NULL, m, len, parties[who].sk);
    return feed(c, &e);
}

static uint64_t feed_pub(struct ctx *c, int who, const char *epoch)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_FEED;
    e.time_ms = 1000 + c->next;
    SET_STR(e.u.feed.participant, parties[who].id);
    SET_STR(e.u.feed.epoch, epoch);
    e.u.feed.count = 1000;
    e.u.feed.size = 6000;
    memset(e.u.feed.feed_digest, 0xfe, 32);
    unsigned char m[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    assert_int_equal(psi_feed_commit_statement(m, sizeof m, &len, hub_pk, epoch, 1000, 6000,
                                               e.u.feed.feed_digest),
                     0);
    crypto_sign_detached(e.u.feed.signature, NULL, m, len, parties[who].sk);
    return feed(c, &e);
}

/* A query entry of count elements, signed by `signer`'s key. */
static uint64_t query_signed(struct ctx *c, int who, int vendor, const char *epoch, uint64_t count,
                             int signer)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_QUERY;
    e.time_ms = 1000 + c->next;
    SET_STR(e.u.query.participant, parties[who].id);
    SET_STR(e.u.query.vendor, parties[vendor].id);
    SET_STR(e.u.query.epoch, epoch);
    e.u.query.count = count;
    memset(e.u.query.elements_digest, 0xe1, 32);
    unsigned char m[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    assert_int_equal(psi_feed_query_statement(m, sizeof m, &len, hub_pk, parties[vendor].id, epoch,
                                              count, e.u.query.elements_digest),
                     0);
    crypto_sign_detached(e.u.query.signature, NULL, m, len, parties[signer].sk);
    return feed(c, &e);
}

static uint64_t query(struct ctx *c, int who, int vendor, const char *epoch)
{
    return query_signed(c, who, vendor, epoch, 10, who);
}

static uint64_t quota(struct ctx *c, int agency, int vendor, uint64_t limit)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_QUOTA;
    e.time_ms = 1000 + c->next;
    SET_STR(e.u.quota.agency, parties[agency].id);
    SET_STR(e.u.quota.vendor, parties[vendor].id);
    e.u.quota.limit = limit;
    return feed(c, &e);
}

static uint64_t query_n(struct ctx *c, int who, int vendor, const char *epoch, uint64_t count)
{
    return query_signed(c, who, vendor, epoch, count, who);
}

static uint64_t answer(struct ctx *c, int vendor, int agency, const char *epoch,
                       uint64_t query_index, uint64_t count, unsigned char key_byte)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_ANSWER;
    e.time_ms = 1000 + c->next;
    SET_STR(e.u.answer.vendor, parties[vendor].id);
    SET_STR(e.u.answer.agency, parties[agency].id);
    SET_STR(e.u.answer.epoch, epoch);
    e.u.answer.query_index = query_index;
    e.u.answer.count = count;
    memset(e.u.answer.public_key, key_byte, 32);
    memset(e.u.answer.answer_digest, 0xad, 32);
    return feed(c, &e);
}

/* ---------------------------------------------------------------- expectations */

struct want {
    uint64_t index;
    enum psi_audit_check check;
};

/* The violations seen are exactly `want`, in order; then forgets them. */
static void expect(struct ctx *c, const struct want *want, size_t n)
{
    if (c->n_seen != n) {
        for (size_t i = 0; i < c->n_seen; i++)
            print_message("seen: entry %llu %s: %s\n", (unsigned long long)c->seen[i].index,
                          psi_audit_check_name(c->seen[i].check), c->seen[i].detail);
    }
    assert_int_equal(c->n_seen, n);
    for (size_t i = 0; i < n; i++) {
        if (c->seen[i].index != want[i].index || c->seen[i].check != want[i].check)
            print_message("violation %zu: entry %llu %s: %s\n", i,
                          (unsigned long long)c->seen[i].index,
                          psi_audit_check_name(c->seen[i].check), c->seen[i].detail);
        assert_true(c->seen[i].index == want[i].index);
        assert_int_equal(c->seen[i].check, want[i].check);
        assert_true(strlen(c->seen[i].detail) > 0);
    }
    c->n_seen = 0;
}

#define EXPECT(c, ...)                                                                             \
    do {                                                                                           \
        const struct want want_[] = {__VA_ARGS__};                                                 \
        expect((c), want_, sizeof want_ / sizeof want_[0]);                                        \
    } while (0)

static void expect_none(struct ctx *c)
{
    expect(c, NULL, 0);
}

/* ---------------------------------------------------------------- tests */

static void test_clean_log(void **state)
{
    struct ctx *c = *state;
    admit_all(c);                      /* 0..4 */
    refusal(c, 0, "");                 /* 5 */
    submit(c, A, "2026-W48", 1, 5, 0); /* 6 */
    submit(c, B, "2026-W48", 2, 4, 0); /* 7 */
    crossblind(c, B, 1, 5);            /* 8 */
    crossblind(c, A, 2, 4);            /* 9 */
    match(c, "2026-W48", A, B, 2, 2);  /* 10 */
    submit(c, A, "2026-W48", 3, 3, 5); /* 11: a delta */
    crossblind(c, B, 3, 3);            /* 12 */
    match(c, "2026-W48", B, A, 1, 1);  /* 13: 3 and 3 in all */
    submit(c, C, "2026-W48", 4, 2, 0); /* 14 */
    crossblind(c, A, 4, 2);            /* 15 */
    crossblind(c, C, 1, 5);            /* 16 */
    crossblind(c, C, 3, 3);            /* 17 */
    match(c, "2026-W48", A, C, 2, 2);  /* 18 */
    submit(c, A, "2026-W49", 5, 1, 0); /* 19: a new epoch restarts */
    static const char *const only_a[] = {"agency-a", NULL};
    roster(c, PSI_LOGENTRY_POLICY, C, PSI_LOGENTRY_ROLE_AGENCY, NULL, only_a); /* 20 */
    refusal(c, 1, "agency-b");                                                 /* 21 */
    epoch_key(c, V, "2026-W48", 0x01);                                         /* 22 */
    epoch_key(c, V, "2026-W48", 0x01);         /* 23: the same key again */
    feed_pub(c, V, "2026-W48");                /* 24 */
    quota(c, A, V, 10);                        /* 25 */
    query(c, A, V, "2026-W48");                /* 26: 10 of 10 */
    answer(c, V, A, "2026-W48", 26, 10, 0x01); /* 27 */
    roster(c, PSI_LOGENTRY_REMOVE, B, PSI_LOGENTRY_ROLE_AGENCY, NULL, NULL); /* 28 */
    refusal(c, 1, "agency-b"); /* 29: removed, still known */
    expect_none(c);

    struct psi_audit_summary s;
    psi_audit_get_summary(c->audit, &s);
    assert_true(s.entries == 30);
    assert_true(s.violations == 0);
    assert_true(s.per_kind[0] == 0);
    assert_true(s.per_kind[PSI_LOGENTRY_ADMIT] == 5);
    assert_true(s.per_kind[PSI_LOGENTRY_POLICY] == 1);
    assert_true(s.per_kind[PSI_LOGENTRY_REMOVE] == 1);
    assert_true(s.per_kind[PSI_LOGENTRY_EPOCH_KEY] == 2);
    assert_true(s.per_kind[PSI_LOGENTRY_SUBMISSION] == 5);
    assert_true(s.per_kind[PSI_LOGENTRY_CROSSBLIND] == 6);
    assert_true(s.per_kind[PSI_LOGENTRY_MATCH] == 3);
    assert_true(s.per_kind[PSI_LOGENTRY_REFUSAL] == 3);
    assert_true(s.per_kind[PSI_LOGENTRY_FEED] == 1);
    assert_true(s.per_kind[PSI_LOGENTRY_QUERY] == 1);
    assert_true(s.per_kind[PSI_LOGENTRY_QUOTA] == 1);
    assert_true(s.per_kind[PSI_LOGENTRY_ANSWER] == 1);
}

static void test_malformed(void **state)
{
    struct ctx *c = *state;
    static const unsigned char garbage[] = {0x01, 0x05, 0x00};
    static const unsigned char future[] = {0x02, 0x01};
    admit(c, A, PSI_LOGENTRY_ROLE_AGENCY); /* 0 */
    feed_raw(c, garbage, sizeof garbage);  /* 1 */
    feed_raw(c, future, sizeof future);    /* 2 */
    feed_raw(c, NULL, 0);                  /* 3 */
    submit(c, A, "e1", 1, 1, 0);           /* 4: still checked, clean */
    submit(c, A, "e1", 2, 1, 0);           /* 5: base should be 1 */
    EXPECT(c, {1, PSI_AUDIT_MALFORMED}, {2, PSI_AUDIT_MALFORMED}, {3, PSI_AUDIT_MALFORMED},
           {5, PSI_AUDIT_COUNTS});
    struct psi_audit_summary s;
    psi_audit_get_summary(c->audit, &s);
    assert_true(s.per_kind[0] == 3);
    assert_true(s.per_check[PSI_AUDIT_MALFORMED] == 3);
    assert_true(s.per_check[PSI_AUDIT_COUNTS] == 1);
    assert_true(s.violations == 4);
}

static void test_roster_violations(void **state)
{
    struct ctx *c = *state;
    static const char *const none[] = {NULL};
    admit(c, A, PSI_LOGENTRY_ROLE_AGENCY);                                            /* 0 */
    admit(c, A, PSI_LOGENTRY_ROLE_AGENCY);                                            /* 1 */
    roster(c, PSI_LOGENTRY_POLICY, B, PSI_LOGENTRY_ROLE_AGENCY, NULL, none);          /* 2 */
    roster(c, PSI_LOGENTRY_REMOVE, B, PSI_LOGENTRY_ROLE_AGENCY, NULL, NULL);          /* 3 */
    roster(c, PSI_LOGENTRY_POLICY, A, PSI_LOGENTRY_ROLE_VENDOR, NULL, none);          /* 4: role */
    roster(c, PSI_LOGENTRY_POLICY, A, PSI_LOGENTRY_ROLE_AGENCY, parties[B].pk, none); /* 5: key */
    roster(c, PSI_LOGENTRY_REMOVE, A, PSI_LOGENTRY_ROLE_AGENCY, parties[C].pk, NULL); /* 6 */
    roster(c, PSI_LOGENTRY_REMOVE, A, PSI_LOGENTRY_ROLE_AGENCY, NULL, NULL);          /* 7 */
    roster(c, PSI_LOGENTRY_POLICY, A, PSI_LOGENTRY_ROLE_AGENCY, NULL, none);          /* 8 */
    admit(c, A, PSI_LOGENTRY_ROLE_AGENCY); /* 9: no re-admission */
    EXPECT(c, {1, PSI_AUDIT_ROSTER}, {2, PSI_AUDIT_ROSTER}, {3, PSI_AUDIT_ROSTER},
           {4, PSI_AUDIT_ROSTER}, {5, PSI_AUDIT_ROSTER}, {6, PSI_AUDIT_ROSTER},
           {7, PSI_AUDIT_ROSTER}, {8, PSI_AUDIT_ROSTER}, {9, PSI_AUDIT_ROSTER});
    /* The remove at 6 (other key) took effect; A's key stayed its own: its
     * submissions still verify, and they are from a removed party. */
    submit(c, A, "e1", 1, 1, 0); /* 10 */
    EXPECT(c, {10, PSI_AUDIT_REMOVED});
}

static void test_causes_not_admitted_or_removed(void **state)
{
    struct ctx *c = *state;
    admit(c, A, PSI_LOGENTRY_ROLE_AGENCY);                                   /* 0 */
    submit(c, B, "e1", 1, 3, 0);                                             /* 1: unknown */
    refusal(c, 1, "agency-c");                                               /* 2: unknown */
    refusal(c, 0, "agency-c");                                               /* 3: claimed only */
    submit(c, A, "e1", 2, 3, 0);                                             /* 4 */
    admit(c, B, PSI_LOGENTRY_ROLE_AGENCY);                                   /* 5 */
    crossblind(c, B, 2, 3);                                                  /* 6 */
    roster(c, PSI_LOGENTRY_REMOVE, B, PSI_LOGENTRY_ROLE_AGENCY, NULL, NULL); /* 7 */
    submit(c, B, "e1", 3, 3, 3);                                             /* 8: removed */
    crossblind(c, C, 2, 3);                                                  /* 9: unknown */
    epoch_key(c, C, "e1", 1);                                                /* 10: unknown */
    EXPECT(c, {1, PSI_AUDIT_NOT_ADMITTED}, {2, PSI_AUDIT_NOT_ADMITTED}, {8, PSI_AUDIT_REMOVED},
           {9, PSI_AUDIT_NOT_ADMITTED}, {10, PSI_AUDIT_NOT_ADMITTED});
}

static void test_roles(void **state)
{
    struct ctx *c = *state;
    admit_all(c);                /* 0..4 */
    submit(c, X, "e1", 1, 2, 0); /* 5: auditors never submit */
    submit(c, A, "e1", 2, 2, 0); /* 6 */
    crossblind(c, X, 2, 2);      /* 7: nor cross-blind */
    crossblind(c, A, 1, 2);      /* 8 */
    match(c, "e1", A, X, 1, 1);  /* 9: nor match */
    epoch_key(c, X, "e1", 3);    /* 10: nor announce keys */
    epoch_key(c, A, "e1", 4);    /* 11: agencies may */
    feed_pub(c, A, "e1");        /* 12: but only vendors publish */
    EXPECT(c, {5, PSI_AUDIT_ROLE}, {7, PSI_AUDIT_ROLE}, {9, PSI_AUDIT_ROLE}, {10, PSI_AUDIT_ROLE},
           {12, PSI_AUDIT_ROLE});
}

static void test_signatures(void **state)
{
    struct ctx *c = *state;
    admit_all(c);                                                /* 0..4 */
    submit_as(c, A, "e1", 1, 4, 0, parties[A].sk, other_hub_pk); /* 5: for another hub */
    submit_as(c, A, "e1", 2, 4, 4, parties[B].sk, hub_pk);       /* 6: B's key */
    submit(c, B, "e1", 3, 4, 0);                                 /* 7: fine */
    crossblind_as(c, A, 3, 4, 3, 5, parties[A].sk);              /* 8: signed count 5 */
    crossblind_as(c, C, 3, 4, 1, 4, parties[C].sk);              /* 9: another digest */
    crossblind_as(c, B, 1, 4, 1, 4, parties[C].sk);              /* 10: C signs for B */
    crossblind(c, C, 1, 4);                                      /* 11: fine */
    EXPECT(c, {5, PSI_AUDIT_SIGNATURE}, {6, PSI_AUDIT_SIGNATURE}, {8, PSI_AUDIT_SIGNATURE},
           {9, PSI_AUDIT_SIGNATURE}, {10, PSI_AUDIT_SIGNATURE});
}

/* The auditor checks a signature against the key the roster had for the
 * party, which the log fixes at admission. */
/* Protocol 2's signed entries: a vendor's key and feed, an agency's query
 * batch, each against the cause's roster key and this hub's key. */
static void test_feed_signatures(void **state)
{
    struct ctx *c = *state;
    admit_all(c);        /* 0..4 */
    quota(c, A, V, 100); /* 5 */
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_EPOCH_KEY;
    SET_STR(e.u.epoch_key.participant, parties[V].id);
    SET_STR(e.u.epoch_key.epoch, "e1");
    memset(e.u.epoch_key.public_key, 1, 32);
    unsigned char m[PSI_FEED_STATEMENT_MAX];
    size_t len = 0;
    assert_int_equal(
        psi_feed_key_statement(m, sizeof m, &len, other_hub_pk, "e1", e.u.epoch_key.public_key), 0);
    crypto_sign_detached(e.u.epoch_key.signature, NULL, m, len, parties[V].sk);
    feed(c, &e);              /* 6: signed for another hub */
    epoch_key(c, V, "e1", 1); /* 7: fine */
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_FEED;
    SET_STR(e.u.feed.participant, parties[V].id);
    SET_STR(e.u.feed.epoch, "e1");
    e.u.feed.count = 1000;
    e.u.feed.size = 6000;
    assert_int_equal(psi_feed_commit_statement(m, sizeof m, &len, hub_pk, "e1", 1000, 6001,
                                               e.u.feed.feed_digest),
                     0);
    crypto_sign_detached(e.u.feed.signature, NULL, m, len, parties[V].sk);
    feed(c, &e);                       /* 8: signed for another size */
    feed_pub(c, V, "e1");              /* 9: fine */
    query_signed(c, A, V, "e1", 5, B); /* 10: B signs for A */
    query_signed(c, A, V, "e1", 5, A); /* 11: fine */
    EXPECT(c, {6, PSI_AUDIT_SIGNATURE}, {8, PSI_AUDIT_SIGNATURE}, {10, PSI_AUDIT_SIGNATURE});
}

static void test_signature_against_roster_key(void **state)
{
    struct ctx *c = *state;
    /* A admitted with C's key: A's own signatures do not verify, C's do. */
    roster(c, PSI_LOGENTRY_ADMIT, A, PSI_LOGENTRY_ROLE_AGENCY, parties[C].pk, NULL); /* 0 */
    submit(c, A, "e1", 1, 1, 0);                                                     /* 1 */
    submit_as(c, A, "e1", 2, 1, 1, parties[C].sk, hub_pk);                           /* 2 */
    EXPECT(c, {1, PSI_AUDIT_SIGNATURE});
}

static void test_policies_at_the_time(void **state)
{
    struct ctx *c = *state;
    static const char *const only_c[] = {"agency-c", NULL};
    static const char *const a_and_c[] = {"agency-a", "agency-c", NULL};
    static const char *const only_a[] = {"agency-a", NULL};
    roster(c, PSI_LOGENTRY_ADMIT, A, PSI_LOGENTRY_ROLE_AGENCY, NULL, only_c); /* 0 */
    admit(c, B, PSI_LOGENTRY_ROLE_AGENCY);                                    /* 1 */
    admit(c, C, PSI_LOGENTRY_ROLE_AGENCY);                                    /* 2 */
    submit(c, A, "e1", 1, 4, 0);                                              /* 3 */
    submit(c, B, "e1", 2, 4, 0);                                              /* 4 */
    crossblind(c, B, 1, 4);                                                   /* 5: A refuses B */
    crossblind(c, A, 2, 4);                                                   /* 6: same pair */
    match(c, "e1", A, B, 1, 1);                                               /* 7 */
    EXPECT(c, {5, PSI_AUDIT_POLICY}, {6, PSI_AUDIT_POLICY}, {7, PSI_AUDIT_POLICY});

    /* B narrows to A only, A opens to B: now allowed both ways. */
    roster(c, PSI_LOGENTRY_POLICY, B, PSI_LOGENTRY_ROLE_AGENCY, NULL, only_a);  /* 8 */
    roster(c, PSI_LOGENTRY_POLICY, A, PSI_LOGENTRY_ROLE_AGENCY, NULL, a_and_c); /* 9: no B */
    match(c, "e1", A, B, 1, 1);                                                 /* 10 */
    EXPECT(c, {10, PSI_AUDIT_POLICY});
    static const char *const b_and_c[] = {"agency-b", "agency-c", NULL};
    roster(c, PSI_LOGENTRY_POLICY, A, PSI_LOGENTRY_ROLE_AGENCY, NULL, b_and_c); /* 11 */
    match(c, "e1", A, B, 1, 1);                                                 /* 12: fine now */
    expect_none(c);
    /* ... and B and C never allowed each other (B's list is A only). */
    submit(c, C, "e1", 3, 2, 0); /* 13 */
    crossblind(c, B, 3, 2);      /* 14 */
    crossblind(c, A, 3, 2);      /* 15: fine */
    crossblind(c, C, 3, 2);      /* 16: its own */
    EXPECT(c, {14, PSI_AUDIT_POLICY}, {16, PSI_AUDIT_POLICY});
    /* After C is removed, nothing with C is allowed. */
    roster(c, PSI_LOGENTRY_REMOVE, C, PSI_LOGENTRY_ROLE_AGENCY, NULL, NULL); /* 17 */
    crossblind(c, C, 1, 4);     /* 18: the blinder is removed */
    match(c, "e1", A, C, 1, 1); /* 19 */
    EXPECT(c, {18, PSI_AUDIT_REMOVED}, {18, PSI_AUDIT_POLICY}, {19, PSI_AUDIT_REMOVED},
           {19, PSI_AUDIT_POLICY});
}

static void test_sequence(void **state)
{
    struct ctx *c = *state;
    admit_all(c);                /* 0..4 */
    crossblind(c, A, 9, 4);      /* 5: no submission 9 */
    submit(c, A, "e1", 1, 4, 0); /* 6 */
    submit(c, B, "e1", 1, 4, 0); /* 7: id 1 again */
    submit(c, B, "e1", 2, 4, 4); /* 8: B's base is 4 now (7 counted) */
    crossblind(c, B, 1, 4);      /* 9 */
    crossblind(c, B, 1, 4);      /* 10: again */
    match(c, "e1", A, B, 1, 1);  /* 11: A has not cross-blinded B's set */
    match(c, "e1", A, C, 0, 0);  /* 12: C has no submission, nobody cross-blinded */
    epoch_key(c, V, "e1", 1);    /* 13 */
    epoch_key(c, V, "e1", 2);    /* 14: a second, different key */
    feed_pub(c, V, "e2");        /* 15: no key for e2 */
    query(c, A, V, "e3");        /* 16: no feed for e3 */
    query(c, A, V, "e2");        /* 17: fine (the feed of 15 exists) */
    EXPECT(c, {5, PSI_AUDIT_SEQUENCE}, {7, PSI_AUDIT_SEQUENCE}, {10, PSI_AUDIT_SEQUENCE},
           {11, PSI_AUDIT_SEQUENCE}, {11, PSI_AUDIT_COUNTS}, {12, PSI_AUDIT_SEQUENCE},
           {14, PSI_AUDIT_SEQUENCE}, {15, PSI_AUDIT_SEQUENCE}, {16, PSI_AUDIT_SEQUENCE},
           {16, PSI_AUDIT_QUOTA}, {17, PSI_AUDIT_QUOTA});
}

/* Quotas: the latest QUOTA entry of the pair bounds the queries of each
 * epoch (none: 0). Answers: to a logged batch, once, with its parties and
 * count, under the vendor's announced key of the epoch. */
static void test_quotas_and_proofs(void **state)
{
    struct ctx *c = *state;
    admit_all(c);                /* 0..4 */
    epoch_key(c, V, "e1", 1);    /* 5 */
    feed_pub(c, V, "e1");        /* 6 */
    query_n(c, A, V, "e1", 5);   /* 7: no quota yet: 0 */
    quota(c, A, V, 100);         /* 8 */
    query_n(c, A, V, "e1", 90);  /* 9: 95 of 100 */
    query_n(c, A, V, "e1", 5);   /* 10: 100 of 100 */
    query_n(c, A, V, "e1", 1);   /* 11: 101: over */
    query_n(c, B, V, "e1", 50);  /* 12: B has no quota */
    quota(c, A, V, 200);         /* 13: raised */
    query_n(c, A, V, "e1", 99);  /* 14: 200 of 200 */
    epoch_key(c, V, "e2", 2);    /* 15 */
    feed_pub(c, V, "e2");        /* 16 */
    query_n(c, A, V, "e2", 200); /* 17: a new epoch starts at 0 */
    quota(c, A, X, 5);           /* 18: X is an auditor */
    quota(c, V, V, 5);           /* 19: V is no agency */
    query_n(c, A, B, "e1", 1);   /* 20: B is no vendor (and no feed) */
    EXPECT(c, {7, PSI_AUDIT_QUOTA}, {11, PSI_AUDIT_QUOTA}, {12, PSI_AUDIT_QUOTA},
           {18, PSI_AUDIT_ROLE}, {18, PSI_AUDIT_ROLE}, {19, PSI_AUDIT_ROLE}, {20, PSI_AUDIT_ROLE},
           {20, PSI_AUDIT_SEQUENCE}, {20, PSI_AUDIT_QUOTA});

    answer(c, V, A, "e1", 9, 90, 1);   /* 21: fine */
    answer(c, V, A, "e1", 9, 90, 1);   /* 22: again */
    answer(c, V, A, "e1", 10, 4, 1);   /* 23: 4 of 5 */
    answer(c, V, A, "e2", 17, 200, 1); /* 24: key 1 is e1's, not e2's */
    answer(c, V, B, "e1", 14, 99, 1);  /* 25: batch 14 was A's */
    answer(c, V, A, "e1", 8, 1, 1);    /* 26: entry 8 is a quota */
    answer(c, V, A, "e1", 40, 1, 1);   /* 27: a later entry */
    answer(c, V, A, "e3", 12, 50, 1);  /* 28: e3 has no key, batch 12 was B's e1 */
    EXPECT(c, {22, PSI_AUDIT_SEQUENCE}, {23, PSI_AUDIT_COUNTS}, {24, PSI_AUDIT_PROOF},
           {25, PSI_AUDIT_SEQUENCE}, {26, PSI_AUDIT_SEQUENCE}, {27, PSI_AUDIT_SEQUENCE},
           {28, PSI_AUDIT_SEQUENCE}, {28, PSI_AUDIT_PROOF});
}

static void test_counts(void **state)
{
    struct ctx *c = *state;
    admit_all(c);                /* 0..4 */
    submit(c, A, "e1", 1, 4, 1); /* 5: base must be 0 */
    submit(c, A, "e1", 2, 2, 4); /* 6: 4 counted from 5 */
    submit(c, B, "e1", 3, 3, 0); /* 7 */
    crossblind(c, B, 1, 5);      /* 8: 5 tags for 4 elements (signed over 5) */
    crossblind(c, A, 3, 3);      /* 9 */
    match(c, "e1", A, B, 4, 3);  /* 10: A's 4 of 4 blinded by B (8 counted 4) */
    match(c, "e1", A, B, 1, 0);  /* 11: A at 5 > 4 */
    crossblind(c, B, 2, 2);      /* 12: now 6 of A blinded by B */
    match(c, "e1", A, B, 0, 1);  /* 13: B at 4 > 3 */
    EXPECT(c, {5, PSI_AUDIT_COUNTS}, {8, PSI_AUDIT_COUNTS}, {11, PSI_AUDIT_COUNTS},
           {13, PSI_AUDIT_COUNTS});
    /* One side matched, the other not: impossible for equal tags. */
    submit(c, A, "e2", 4, 2, 0); /* 14 */
    submit(c, C, "e2", 5, 2, 0); /* 15 */
    crossblind(c, C, 4, 2);      /* 16 */
    crossblind(c, A, 5, 2);      /* 17 */
    match(c, "e2", A, C, 1, 0);  /* 18 */
    match(c, "e2", A, C, 0, 1);  /* 19: now both sides have one */
    EXPECT(c, {18, PSI_AUDIT_COUNTS});
}

/* The hub writes a match record after every batch, zero counts included: a
 * zero record is valid as soon as one direction of the pair was
 * cross-blinded (the other may not be yet), never before; the invariants of
 * nonzero counts stay. */
static void test_zero_match_records(void **state)
{
    struct ctx *c = *state;
    admit_all(c);                /* 0..4 */
    submit(c, A, "e1", 1, 4, 0); /* 5 */
    match(c, "e1", A, B, 0, 0);  /* 6: no batch between A and B yet */
    crossblind(c, B, 1, 4);      /* 7: first batch of the pair; B has no submission */
    match(c, "e1", A, B, 0, 0);  /* 8: fine */
    submit(c, B, "e1", 2, 3, 0); /* 9 */
    crossblind(c, A, 2, 3);      /* 10 */
    match(c, "e1", A, B, 2, 2);  /* 11: fine */
    match(c, "e1", A, B, 0, 0);  /* 12: fine, totals stay 2 and 2 */
    match(c, "e1", A, C, 0, 0);  /* 13: nothing between A and C */
    match(c, "e1", A, B, 3, 0);  /* 14: 5 of A's 4 blinded */
    match(c, "e2", A, B, 0, 0);  /* 15: another epoch, no batch */
    EXPECT(c, {6, PSI_AUDIT_SEQUENCE}, {13, PSI_AUDIT_SEQUENCE}, {14, PSI_AUDIT_COUNTS},
           {15, PSI_AUDIT_SEQUENCE});
    struct psi_audit_summary s;
    psi_audit_get_summary(c->audit, &s);
    assert_true(s.per_kind[PSI_LOGENTRY_MATCH] == 7);
}

/* A party's statement, signed by hand as a client would. */
static uint64_t party_policy_as(struct ctx *c, int who, uint64_t issued_ms,
                                const char *const *share, int contribute_only,
                                const unsigned char *signer_sk)
{
    unsigned char list[16 * 65], statement[PSI_POLICY_STATEMENT_MAX];
    size_t count = 0, len = 0, slen = 0;
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_PARTY_POLICY;
    e.time_ms = 1000 + c->next;
    SET_STR(e.u.party_policy.participant, parties[who].id);
    e.u.party_policy.issued_ms = issued_ms;
    e.u.party_policy.contribute_only = contribute_only;
    if (share == NULL) {
        e.u.party_policy.share_all = 1;
    } else {
        while (share[count] != NULL)
            count++;
        assert_int_equal(psi_logentry_share_list_build(list, sizeof list, &len, share, count), 0);
        e.u.party_policy.share_count = count;
        e.u.party_policy.share_list = len ? list : NULL;
        e.u.party_policy.share_list_len = len;
    }
    assert_int_equal(
        psi_policy_statement(statement, sizeof statement, &slen, hub_pk, &e.u.party_policy), 0);
    crypto_sign_detached(e.u.party_policy.signature, NULL, statement, slen, signer_sk);
    return feed(c, &e);
}

/* A party's statement narrows the operator's policy from its entry on; a
 * forged one (another key, or bound to another hub) is reported and not
 * applied; a statement not issued after the last is reported. */
static void test_party_policy(void **state)
{
    struct ctx *c = *state;
    static const char *const only_c[] = {"agency-c", NULL};
    static const char *const only_b[] = {"agency-b", NULL};
    admit_all(c);                                         /* 0..4: all share with all */
    submit(c, A, "e1", 1, 4, 0);                          /* 5 */
    submit(c, C, "e1", 2, 2, 0);                          /* 6 */
    party_policy_as(c, A, 100, only_c, 0, parties[A].sk); /* 7: A: C only */
    crossblind(c, B, 1, 4);                               /* 8: A no longer allows B */
    crossblind(c, C, 1, 4);                               /* 9: fine */
    party_policy_as(c, A, 200, only_b, 0, parties[B].sk); /* 10: forged: B's key */
    crossblind(c, A, 2, 2);                               /* 11: still C only: fine */
    party_policy_as(c, A, 100, NULL, 0, parties[A].sk);   /* 12: not after 100 */
    party_policy_as(c, A, 300, only_b, 1, parties[A].sk); /* 13: B only */
    submit(c, B, "e1", 3, 1, 0);                          /* 14 */
    crossblind(c, A, 3, 1);                               /* 15: fine */
    submit(c, A, "e1", 4, 1, 4);                          /* 16 */
    crossblind(c, C, 4, 1);                               /* 17: A no longer allows C */
    /* The operator narrows B to C; the party's word cannot widen it back. */
    roster(c, PSI_LOGENTRY_POLICY, B, PSI_LOGENTRY_ROLE_AGENCY, NULL, only_c); /* 18 */
    party_policy_as(c, B, 50, NULL, 0, parties[B].sk); /* 19: B says "all" */
    crossblind(c, B, 4, 1);                            /* 20: the operator's word holds */
    party_policy_as(c, X, 60, NULL, 0, parties[X].sk); /* 21: an auditor */
    EXPECT(c, {8, PSI_AUDIT_POLICY}, {10, PSI_AUDIT_SIGNATURE}, {12, PSI_AUDIT_SEQUENCE},
           {17, PSI_AUDIT_POLICY}, {20, PSI_AUDIT_POLICY}, {21, PSI_AUDIT_ROLE});

    /* Signed for another hub: the statement names the hub's key. */
    struct ctx other;
    memset(&other, 0, sizeof other);
    assert_int_equal(psi_audit_create(&other.audit, other_hub_pk, collect, &other), 0);
    admit_all(&other);
    party_policy_as(&other, A, 100, NULL, 0, parties[A].sk); /* 5 */
    EXPECT(&other, {5, PSI_AUDIT_SIGNATURE});
    psi_audit_destroy(other.audit);
    struct psi_audit_summary s;
    psi_audit_get_summary(c->audit, &s);
    assert_true(s.per_kind[PSI_LOGENTRY_PARTY_POLICY] == 6);
}

static uint64_t element_quota(struct ctx *c, int who, uint64_t limit)
{
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_ELEMENT_QUOTA;
    e.time_ms = 1000 + c->next;
    SET_STR(e.u.element_quota.participant, parties[who].id);
    e.u.element_quota.limit = limit;
    return feed(c, &e);
}

/* Submissions of a participant in an epoch stay within the element quota in
 * force (the default without an entry). */
static void test_element_quota(void **state)
{
    struct ctx *c = *state;
    admit_all(c);                                        /* 0..4 */
    submit(c, A, "e1", 1, PSI_ELEMENT_QUOTA_DEFAULT, 0); /* 5: the default, exactly */
    submit(c, A, "e1", 2, 1, PSI_ELEMENT_QUOTA_DEFAULT); /* 6: one past it */
    element_quota(c, B, 10);                             /* 7 */
    submit(c, B, "e1", 3, 6, 0);                         /* 8 */
    submit(c, B, "e1", 4, 4, 6);                         /* 9: 10 of 10 */
    submit(c, B, "e1", 5, 1, 10);                        /* 10: 11 */
    submit(c, B, "e2", 6, 10, 0);                        /* 11: a new epoch */
    element_quota(c, B, 20);                             /* 12: raised */
    submit(c, B, "e1", 7, 9, 11);                        /* 13: 20 of 20 */
    element_quota(c, X, 5);                              /* 14: an auditor */
    element_quota(c, C, 0);                              /* 15 */
    submit(c, C, "e1", 8, 1, 0);                         /* 16: quota 0 */
    EXPECT(c, {6, PSI_AUDIT_QUOTA}, {10, PSI_AUDIT_QUOTA}, {14, PSI_AUDIT_ROLE},
           {16, PSI_AUDIT_QUOTA});
    struct psi_audit_summary s;
    psi_audit_get_summary(c->audit, &s);
    assert_true(s.per_kind[PSI_LOGENTRY_ELEMENT_QUOTA] == 4);
}

static void test_callback_stops(void **state)
{
    struct ctx *c = *state;
    unsigned char buf[PSI_LOGENTRY_MAX_BYTES];
    static const unsigned char garbage[] = {0xff};
    c->stop_with = 42;
    assert_int_equal(psi_audit_entry(c->audit, garbage, 1), 42);
    /* A violation inside a check stops there too. */
    struct psi_logentry e;
    memset(&e, 0, sizeof e);
    e.kind = PSI_LOGENTRY_SUBMISSION;
    SET_STR(e.u.submission.participant, "nobody");
    SET_STR(e.u.submission.epoch, "e1");
    e.u.submission.count = 1;
    size_t len = 0;
    assert_int_equal(psi_logentry_encode(buf, sizeof buf, &len, &e), 0);
    assert_int_equal(psi_audit_entry(c->audit, buf, len), 42);
    assert_int_equal(c->n_seen, 2);
    assert_true(c->seen[1].index == 1);
    c->n_seen = 0;
}

static void test_without_callback_counts(void **state)
{
    (void)state;
    struct psi_audit *a = NULL;
    static const unsigned char garbage[] = {0x01};
    assert_int_equal(psi_audit_create(&a, hub_pk, NULL, NULL), 0);
    assert_int_equal(psi_audit_entry(a, garbage, 1), 0);
    struct psi_audit_summary s;
    psi_audit_get_summary(a, &s);
    assert_true(s.entries == 1 && s.violations == 1 && s.per_check[PSI_AUDIT_MALFORMED] == 1);
    psi_audit_destroy(a);
}

/* Many submissions and batches: the tables grow and still find everything. */
static void test_many_entries(void **state)
{
    struct ctx *c = *state;
    admit_all(c);
    for (uint64_t i = 0; i < 2000; i++) {
        submit(c, A, "e1", 100 + i, 1, i);
        crossblind(c, B, 100 + i, 1);
    }
    submit(c, B, "e1", 5000, 1, 0);
    crossblind(c, A, 5000, 1);
    match(c, "e1", A, B, 1, 1);
    expect_none(c);
    struct psi_audit_summary s;
    psi_audit_get_summary(c->audit, &s);
    assert_true(s.per_kind[PSI_LOGENTRY_SUBMISSION] == 2001);
    assert_true(s.per_kind[PSI_LOGENTRY_CROSSBLIND] == 2001);
}

static void test_signature_functions(void **state)
{
    (void)state;
    unsigned char digest[32], tags[32], sig[64];
    memset(digest, 0x5a, 32);
    memset(tags, 0xa5, 32);
    submission_sig(sig, parties[A].sk, hub_pk, digest);
    assert_int_equal(psi_audit_submission_signature_verify(hub_pk, parties[A].pk, digest, sig), 0);
    assert_int_equal(
        psi_audit_submission_signature_verify(other_hub_pk, parties[A].pk, digest, sig),
        PSI_ERR_VERIFY);
    sig[0] ^= 1;
    assert_int_equal(psi_audit_submission_signature_verify(hub_pk, parties[A].pk, digest, sig),
                     PSI_ERR_VERIFY);
    crossblind_sig(sig, parties[B].sk, hub_pk, digest, 77, tags);
    assert_int_equal(
        psi_audit_crossblind_signature_verify(hub_pk, parties[B].pk, digest, 77, tags, sig), 0);
    assert_int_equal(
        psi_audit_crossblind_signature_verify(hub_pk, parties[B].pk, digest, 78, tags, sig),
        PSI_ERR_VERIFY);
    assert_int_equal(
        psi_audit_crossblind_signature_verify(hub_pk, parties[A].pk, digest, 77, tags, sig),
        PSI_ERR_VERIFY);
    assert_int_equal(psi_audit_submission_signature_verify(NULL, parties[A].pk, digest, sig),
                     PSI_ERR_INVALID);
    assert_int_equal(
        psi_audit_crossblind_signature_verify(hub_pk, parties[B].pk, NULL, 77, tags, sig),
        PSI_ERR_INVALID);
}

static void test_arguments_and_names(void **state)
{
    (void)state;
    struct psi_audit *a = NULL;
    assert_int_equal(psi_audit_create(NULL, hub_pk, NULL, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_audit_create(&a, NULL, NULL, NULL), PSI_ERR_INVALID);
    assert_null(a);
    assert_int_equal(psi_audit_create(&a, hub_pk, NULL, NULL), 0);
    assert_int_equal(psi_audit_entry(a, NULL, 3), PSI_ERR_INVALID);
    assert_int_equal(psi_audit_entry(NULL, NULL, 0), PSI_ERR_INVALID);
    struct psi_audit_summary s;
    memset(&s, 0xff, sizeof s);
    psi_audit_get_summary(NULL, &s);
    assert_true(s.entries == 0);
    psi_audit_get_summary(a, NULL);
    psi_audit_destroy(a);
    psi_audit_destroy(NULL);
    assert_string_equal(psi_audit_check_name(PSI_AUDIT_SIGNATURE), "signature");
    assert_string_equal(psi_audit_check_name(PSI_AUDIT_COUNTS), "counts");
    assert_string_equal(psi_audit_check_name(PSI_AUDIT_QUOTA), "quota");
    assert_string_equal(psi_audit_check_name(PSI_AUDIT_PROOF), "proof");
    assert_string_equal(psi_audit_check_name(PSI_AUDIT_NOT_ADMITTED), "not-admitted");
    assert_string_equal(psi_audit_check_name(0), "unknown");
    assert_string_equal(psi_audit_check_name(100), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roster_violations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_causes_not_admitted_or_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signatures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signature_against_roster_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_signatures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies_at_the_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quotas_and_proofs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_match_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_party_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_element_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops, setup, teardown),
        cmocka_unit_test(test_without_callback_counts),
        cmocka_unit_test_setup_teardown(test_many_entries, setup, teardown),
        cmocka_unit_test(test_signature_functions),
        cmocka_unit_test(test_arguments_and_names),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
