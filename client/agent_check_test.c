/*
 * Tests of the agent's checks before any work (client/agent_check.c): each
 * refusal the agent can make on a task the hub lists, and the one case where
 * it works. A malicious hub is the adversary here, so every test is a task or
 * a roster a hub could send; what protects the party comes from its own
 * state (its policy, its pinned peers, its budget), built here by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "agent_check.h"
#include "digest.h"
#include "psi/blind.h"
#include "psi/error.h"

struct world {
    unsigned char hub_key[32];
    unsigned char owner_pk[32], owner_sk[64];
    unsigned char me_pk[32], me_sk[64];
    unsigned char digest[32], signature[64];
    char *owner_share[1], *me_share[1];
    Psi__Participant owner, me;
    Psi__Participant *people[2];
    Psi__Roster roster;
    Psi__Submission task;
    struct psi_agent_self self;
    char my_list[2][PSI_ID_MAX + 1];
    struct psi_state_policy my_policy;
    struct psi_state_peer pinned_owner;
    struct psi_agent_owner owner_state;
    char reason[512];
};

static struct world w;

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    memset(&w, 0, sizeof w);
    randombytes_buf(w.hub_key, sizeof w.hub_key);
    crypto_sign_keypair(w.owner_pk, w.owner_sk);
    crypto_sign_keypair(w.me_pk, w.me_sk);
    randombytes_buf(w.digest, sizeof w.digest);
    if (psi_submission_sign(w.signature, w.owner_sk, w.hub_key, w.digest) != 0)
        return -1;

    psi__participant__init(&w.owner);
    w.owner.id = (char *)"agency-b";
    w.owner.role = (char *)"agency";
    w.owner.public_key.data = w.owner_pk;
    w.owner.public_key.len = 32;
    w.owner.share_all = 1;
    psi__participant__init(&w.me);
    w.me.id = (char *)"agency-a";
    w.me.role = (char *)"agency";
    w.me.public_key.data = w.me_pk;
    w.me.public_key.len = 32;
    w.me.share_all = 1;
    w.people[0] = &w.owner;
    w.people[1] = &w.me;
    psi__roster__init(&w.roster);
    w.roster.participants = w.people;
    w.roster.n_participants = 2;

    psi__submission__init(&w.task);
    w.task.submission_id = 7;
    w.task.owner = (char *)"agency-b";
    w.task.epoch = (char *)"2026-W48";
    w.task.count = 3;
    w.task.digest.data = w.digest;
    w.task.digest.len = 32;
    w.task.signature.data = w.signature;
    w.task.signature.len = 64;

    w.self.id = "agency-a";
    w.self.public_key = w.me_pk;
    w.self.hub_key = w.hub_key;
    w.my_policy.share_all = 1;
    w.self.policy = &w.my_policy;
    w.self.peer_limit = 1000;
    snprintf(w.pinned_owner.id, sizeof w.pinned_owner.id, "agency-b");
    snprintf(w.pinned_owner.role, sizeof w.pinned_owner.role, "agency");
    memcpy(w.pinned_owner.public_key, w.owner_pk, 32);
    w.pinned_owner.admit_index = 1;
    w.owner_state.pinned = &w.pinned_owner;
    w.owner_state.used = 0;
    return 0;
}

static int check(void)
{
    w.reason[0] = '\0';
    return psi_agent_check_task(&w.self, &w.roster, &w.owner_state, "2026-W48", &w.task, w.reason,
                                sizeof w.reason);
}

static void expect_refusal(int code, const char *words)
{
    assert_int_equal(check(), code);
    if (!strstr(w.reason, words))
        fail_msg("reason '%s' does not say '%s'", w.reason, words);
}

static void test_a_good_task_passes(void **state)
{
    (void)state;
    assert_int_equal(check(), 0);
}

static void test_listed_share_with_both_ways_passes(void **state)
{
    (void)state;
    w.owner.share_all = 0;
    w.me.share_all = 0;
    w.owner_share[0] = (char *)"agency-a";
    w.me_share[0] = (char *)"agency-b";
    w.owner.share_with = w.owner_share;
    w.owner.n_share_with = 1;
    w.me.share_with = w.me_share;
    w.me.n_share_with = 1;
    assert_int_equal(check(), 0);
}

static void test_owner_policy_excludes_me(void **state)
{
    (void)state;
    w.owner.share_all = 0;
    w.owner_share[0] = (char *)"agency-c";
    w.owner.share_with = w.owner_share;
    w.owner.n_share_with = 1;
    expect_refusal(PSI_ERR_DENIED, "agency-b's policy does not share with agency-a");
}

static void test_hub_policy_for_me_excludes_owner(void **state)
{
    (void)state;
    w.me.share_all = 0;
    expect_refusal(PSI_ERR_DENIED, "the hub's policy for agency-a does not share with agency-b");
}

/* The attack of the issue: the operator widens this party's policy at the
 * hub (the roster says share_all) to include a participant the party never
 * allowed. The party's own policy decides. */
static void test_own_policy_decides_whatever_the_hub_says(void **state)
{
    (void)state;
    w.my_policy.share_all = 0;
    snprintf(w.my_list[0], sizeof w.my_list[0], "agency-c");
    w.my_policy.share_with = w.my_list;
    w.my_policy.share_count = 1;
    w.me.share_all = 1; /* the hub's copy: rewritten to all */
    expect_refusal(PSI_ERR_DENIED, "this participant's own policy does not share with agency-b");
    snprintf(w.my_list[1], sizeof w.my_list[1], "agency-b");
    w.my_policy.share_count = 2;
    assert_int_equal(check(), 0);
    w.self.policy = NULL;
    expect_refusal(PSI_ERR_DENIED, "no sharing policy of its own");
}

/* A participant that exists only in the hub's store is not a peer. */
static void test_unpinned_owner_is_refused(void **state)
{
    (void)state;
    w.owner_state.pinned = NULL;
    expect_refusal(PSI_ERR_DENIED, "admission is not proven in the hub's log");
}

/* The hub swaps the owner's key (to one it holds, and signs with it): the
 * pinned key decides. */
static void test_roster_key_other_than_pinned(void **state)
{
    (void)state;
    assert_int_equal(psi_submission_sign(w.signature, w.me_sk, w.hub_key, w.digest), 0);
    w.owner.public_key.data = w.me_pk;
    expect_refusal(PSI_ERR_DENIED, "another key for agency-b than the one pinned");
}

static void test_pinned_as_auditor(void **state)
{
    (void)state;
    snprintf(w.pinned_owner.role, sizeof w.pinned_owner.role, "auditor");
    expect_refusal(PSI_ERR_DENIED, "admitted as auditor");
}

/* The budget: a set that would pass it is refused whole, never cut. */
static void test_peer_limit(void **state)
{
    (void)state;
    w.self.peer_limit = 10;
    w.owner_state.used = 7;
    assert_int_equal(check(), 0); /* 7 + 3 = 10: at the limit */
    w.owner_state.used = 8;
    expect_refusal(PSI_ERR_QUOTA, "limit of 10 elements per peer");
    w.owner_state.used = UINT64_MAX;
    expect_refusal(PSI_ERR_QUOTA, "refused whole");
}

static void test_bad_signature(void **state)
{
    (void)state;
    w.signature[5] ^= 0x01;
    expect_refusal(PSI_ERR_DENIED, "signature");
}

static void test_signature_for_another_hub(void **state)
{
    (void)state;
    /* A signature the owner made for another hub is not valid here. */
    unsigned char other_hub[32];
    randombytes_buf(other_hub, sizeof other_hub);
    assert_int_equal(psi_submission_sign(w.signature, w.owner_sk, other_hub, w.digest), 0);
    expect_refusal(PSI_ERR_DENIED, "signature");
}

static void test_signature_by_another_key(void **state)
{
    (void)state;
    /* The pinned key is the owner's; a set signed with another key (the
     * hub's own, say) is refused. */
    assert_int_equal(psi_submission_sign(w.signature, w.me_sk, w.hub_key, w.digest), 0);
    expect_refusal(PSI_ERR_DENIED, "signature");
}

static void test_digest_changed(void **state)
{
    (void)state;
    w.digest[0] ^= 0x80;
    expect_refusal(PSI_ERR_DENIED, "signature");
}

static void test_owner_not_in_roster(void **state)
{
    (void)state;
    w.task.owner = (char *)"agency-z";
    expect_refusal(PSI_ERR_DENIED, "agency-z is not in the hub's roster");
}

static void test_owner_removed(void **state)
{
    (void)state;
    w.owner.removed = 1;
    expect_refusal(PSI_ERR_DENIED, "removed");
}

static void test_owner_is_an_auditor(void **state)
{
    (void)state;
    snprintf(w.pinned_owner.role, sizeof w.pinned_owner.role, "auditor");
    expect_refusal(PSI_ERR_DENIED, "not as an agency or a vendor");
}

static void test_owner_key_missing(void **state)
{
    (void)state;
    w.owner.public_key.len = 31;
    expect_refusal(PSI_ERR_DENIED, "another key for agency-b");
}

static void test_me_removed_or_absent_or_rekeyed(void **state)
{
    (void)state;
    w.me.removed = 1;
    expect_refusal(PSI_ERR_DENIED, "not an active roster member");
    w.me.removed = 0;
    w.roster.n_participants = 1;
    expect_refusal(PSI_ERR_DENIED, "not an active roster member");
    w.roster.n_participants = 2;
    w.me.public_key.data = w.owner_pk;
    expect_refusal(PSI_ERR_DENIED, "another key");
}

static void test_own_set(void **state)
{
    (void)state;
    w.task.owner = (char *)"agency-a";
    expect_refusal(PSI_ERR_DENIED, "own set");
}

static void test_wrong_epoch(void **state)
{
    (void)state;
    w.task.epoch = (char *)"2026-W47";
    expect_refusal(PSI_ERR_DENIED, "epoch 2026-W47");
}

static void test_malformed_tasks(void **state)
{
    (void)state;
    w.task.owner = (char *)"bad owner\n";
    expect_refusal(PSI_ERR_PROTOCOL, "no valid owner");
    w.task.owner = (char *)"agency-b";
    w.task.epoch = (char *)"";
    expect_refusal(PSI_ERR_PROTOCOL, "no valid epoch");
    w.task.epoch = (char *)"2026-W48";
    w.task.digest.len = 31;
    expect_refusal(PSI_ERR_PROTOCOL, "wrong size");
    w.task.digest.len = 32;
    w.task.signature.len = 0;
    expect_refusal(PSI_ERR_PROTOCOL, "wrong size");
    w.task.signature.len = 64;
    w.task.count = 0;
    expect_refusal(PSI_ERR_PROTOCOL, "empty");
}

/* Elements of the mutual suite: a real set passes; each small-order u and
 * each non-canonical encoding is refused with its index and its reason. */
static void test_elements_checked(void **state)
{
    (void)state;
    static const char *const inputs[4] = {"ipv4:203.0.113.1", "ipv4:203.0.113.2",
                                          "domain:example.org", "sha256:ab"};
    const unsigned char *in[4];
    size_t lens[4];
    unsigned char seed[32], key[32], set[4 * 32], bad_set[4 * 32];
    char reason[256];
    size_t bad = 99;
    for (size_t i = 0; i < 4; i++) {
        in[i] = (const unsigned char *)inputs[i];
        lens[i] = strlen(inputs[i]);
    }
    memset(seed, 7, sizeof seed);
    assert_int_equal(psi_mutual_derive_key(seed, "2026-W48", key), 0);
    assert_int_equal(psi_blind_batch(key, 4, in, lens, set, 1), 0);
    assert_int_equal(psi_agent_check_elements(set, 4, &bad, reason, sizeof reason), 0);
    assert_int_equal(bad, 99);
    if (psi_mutual_suite() != PSI_MUTUAL_SUITE_X25519)
        skip(); /* the rest is about X25519 u-coordinates */

    /* little-endian: 0, 1, the two of order 8, p - 1 */
    static const unsigned char order8a[32] = {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae,
                                              0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
                                              0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd,
                                              0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00};
    static const unsigned char order8b[32] = {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24,
                                              0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
                                              0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86,
                                              0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57};
    unsigned char small[5][32];
    memset(small, 0, sizeof small);
    small[1][0] = 1;
    memcpy(small[2], order8a, 32);
    memcpy(small[3], order8b, 32);
    memset(small[4], 0xff, 32);
    small[4][0] = 0xec;
    small[4][31] = 0x7f;
    for (size_t k = 0; k < 5; k++) {
        memcpy(bad_set, set, sizeof set);
        memcpy(bad_set + (size_t)2 * 32, small[k], 32);
        assert_int_equal(psi_agent_check_elements(bad_set, 4, &bad, reason, sizeof reason),
                         PSI_ERR_IDENTITY);
        assert_int_equal(bad, 2);
        if (!strstr(reason, "element 2 is the u-coordinate of a small-order point"))
            fail_msg("reason '%s'", reason);
    }
    /* p, p + 18 (= 2^255 - 1), and a valid u with the top bit set */
    unsigned char non_canonical[3][32];
    memset(non_canonical, 0xff, sizeof non_canonical);
    non_canonical[0][0] = 0xed;
    non_canonical[0][31] = 0x7f;
    non_canonical[1][31] = 0x7f;
    memcpy(non_canonical[2], set + 32, 32);
    non_canonical[2][31] |= 0x80;
    for (size_t k = 0; k < 3; k++) {
        memcpy(bad_set, set, sizeof set);
        memcpy(bad_set + (size_t)3 * 32, non_canonical[k], 32);
        assert_int_equal(psi_agent_check_elements(bad_set, 4, &bad, reason, sizeof reason),
                         PSI_ERR_ENCODING);
        assert_int_equal(bad, 3);
        if (!strstr(reason, "element 3 is not a canonical X25519 u-coordinate"))
            fail_msg("reason '%s'", reason);
    }
}

/* The hub's suite against this psi's: equal passes, any other is refused in
 * one line naming both. */
static void test_suite_agreement(void **state)
{
    (void)state;
    char reason[256];
    unsigned mine = psi_mutual_suite();
    unsigned other =
        mine == PSI_MUTUAL_SUITE_X25519 ? PSI_MUTUAL_SUITE_RISTRETTO255 : PSI_MUTUAL_SUITE_X25519;
    assert_int_equal(psi_agent_check_suite(mine, reason, sizeof reason), 0);
    assert_int_equal(psi_agent_check_suite(other, reason, sizeof reason), PSI_ERR_PROTOCOL);
    if (!strstr(reason, "X25519") || !strstr(reason, "ristretto255") || strchr(reason, '\n'))
        fail_msg("reason '%s' does not name both suites in one line", reason);
    /* 0: a hub older than the field, ristretto255 */
    assert_int_equal(psi_agent_check_suite(0, reason, sizeof reason),
                     mine == PSI_MUTUAL_SUITE_RISTRETTO255 ? 0 : PSI_ERR_PROTOCOL);
    assert_int_equal(psi_agent_check_suite(77, reason, sizeof reason), PSI_ERR_PROTOCOL);
    if (!strstr(reason, "unknown"))
        fail_msg("reason '%s'", reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elements_checked),
        cmocka_unit_test(test_suite_agreement),
        cmocka_unit_test_setup(test_a_good_task_passes, setup),
        cmocka_unit_test_setup(test_listed_share_with_both_ways_passes, setup),
        cmocka_unit_test_setup(test_owner_policy_excludes_me, setup),
        cmocka_unit_test_setup(test_hub_policy_for_me_excludes_owner, setup),
        cmocka_unit_test_setup(test_own_policy_decides_whatever_the_hub_says, setup),
        cmocka_unit_test_setup(test_unpinned_owner_is_refused, setup),
        cmocka_unit_test_setup(test_roster_key_other_than_pinned, setup),
        cmocka_unit_test_setup(test_pinned_as_auditor, setup),
        cmocka_unit_test_setup(test_peer_limit, setup),
        cmocka_unit_test_setup(test_bad_signature, setup),
        cmocka_unit_test_setup(test_signature_for_another_hub, setup),
        cmocka_unit_test_setup(test_signature_by_another_key, setup),
        cmocka_unit_test_setup(test_digest_changed, setup),
        cmocka_unit_test_setup(test_owner_not_in_roster, setup),
        cmocka_unit_test_setup(test_owner_removed, setup),
        cmocka_unit_test_setup(test_owner_is_an_auditor, setup),
        cmocka_unit_test_setup(test_owner_key_missing, setup),
        cmocka_unit_test_setup(test_me_removed_or_absent_or_rekeyed, setup),
        cmocka_unit_test_setup(test_own_set, setup),
        cmocka_unit_test_setup(test_wrong_epoch, setup),
        cmocka_unit_test_setup(test_malformed_tasks, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
