/*
 * Tests of the agent's checks before any work (client/agent_check.c): each
 * refusal the agent can make on a task the hub lists, and the one case where
 * it works. A malicious hub is the adversary here, so every test is a task or
 * a roster a hub could send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "agent_check.h"
#include "digest.h"
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
    return 0;
}

static int check(void)
{
    w.reason[0] = '\0';
    return psi_agent_check_task(&w.self, &w.roster, "2026-W48", &w.task, w.reason, sizeof w.reason);
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

static void test_my_policy_excludes_owner(void **state)
{
    (void)state;
    w.me.share_all = 0;
    expect_refusal(PSI_ERR_DENIED, "agency-a's policy does not share with agency-b");
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
    /* The hub's roster says the owner's key is this one; a set signed with
     * another key (the hub's own, say) is refused. */
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
    w.owner.role = (char *)"auditor";
    expect_refusal(PSI_ERR_DENIED, "not an agency or a vendor");
}

static void test_owner_key_missing(void **state)
{
    (void)state;
    w.owner.public_key.len = 31;
    expect_refusal(PSI_ERR_DENIED, "no valid key");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_a_good_task_passes, setup),
        cmocka_unit_test_setup(test_listed_share_with_both_ways_passes, setup),
        cmocka_unit_test_setup(test_owner_policy_excludes_me, setup),
        cmocka_unit_test_setup(test_my_policy_excludes_owner, setup),
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
