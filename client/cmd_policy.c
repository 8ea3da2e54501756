/* psi policy: this participant's own sharing policy. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "hub_client.h"
#include "party_policy.h"
#include "psi/error.h"

enum {
    POLICY_STATE,
    POLICY_SHARE_WITH,
    POLICY_CONTRIBUTE_ONLY,
    POLICY_RECEIVE,
    POLICY_LOCAL,
};

static const struct psi_cmdline_option policy_options[] = {
    [POLICY_STATE] = {PSI_CLI_STATE_OPTION},
    [POLICY_SHARE_WITH] = {.name = "share-with",
                           .value_name = "all|none|ID,...",
                           .help = "'all' (every peer proven admitted in the hub's log,\n"
                                   "see 'psi peers'), 'none', or ids separated by commas"},
    [POLICY_CONTRIBUTE_ONLY] = {.name = "contribute-only",
                                .help = "ask for no results; this participant still gives"},
    [POLICY_RECEIVE] = {.name = "receive",
                        .help = "ask for results again (not with --contribute-only)"},
    [POLICY_LOCAL] = {.name = "local",
                      .help = "record it without telling the hub now (the next\n"
                              "'psi agent' round sends it)"},
};

static const struct psi_cmdline_command policy_command = {
    .name = "policy",
    .about = "This participant's own sharing policy. It lives in DIR/state.db and is what\n"
             "its agent enforces: the agent cross-blinds a peer's sets only if this policy\n"
             "shares with that peer, whatever the hub says. The hub is told too (a signed\n"
             "statement it logs); the operator's 'psi-hub admit/policy' can narrow it,\n"
             "never widen it: a pair is matched only if both parties and the operator\n"
             "allow it.\n"
             "\n"
             "Without options, prints the policy and whether the hub has it.\n",
    PSI_CMDLINE_OPTIONS(policy_options),
};

static void print_policy(const struct psi_state_policy *p)
{
    printf("share with: ");
    if (p->share_all)
        printf("all");
    else if (p->share_count == 0)
        printf("none");
    for (size_t i = 0; i < p->share_count; i++)
        printf("%s%s", i ? "," : "", p->share_with[i]);
    printf("\nresults:    %s\n", p->contribute_only ? "none (contribute-only)" : "received");
    printf("hub told:   %s\n", p->sent_ms ? "yes" : "not yet");
}

int psi_cmd_policy(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&policy_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[POLICY_STATE], *share_with = args.value[POLICY_SHARE_WITH];
    int contribute_only = args.given[POLICY_CONTRIBUTE_ONLY], receive = args.given[POLICY_RECEIVE],
        local = args.given[POLICY_LOCAL];
    if (contribute_only && receive)
        return psi_cmdline_usage_error("policy",
                                       "--contribute-only and --receive contradict each other");
    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "policy", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    if (psi_cli_session_lock(&s)) {
        psi_cli_session_close(&s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    struct psi_hub_client *hub = NULL;
    struct psi_state_policy policy;
    int rc = psi_state_policy_get(s.state, &policy);
    if (rc && rc != PSI_ERR_NOT_FOUND) {
        status = psi_cmdline_fail("policy", "cannot read the policy: %s", psi_state_error(s.state));
        goto out;
    }
    int changing = share_with || contribute_only || receive;
    if (!changing) {
        if (rc == PSI_ERR_NOT_FOUND)
            status =
                psi_cmdline_fail("policy", "%s has no policy yet: set one with --share-with", dir);
        else
            print_policy(&policy);
        goto out;
    }
    if (rc == PSI_ERR_NOT_FOUND && !share_with) {
        status = psi_cmdline_fail("policy", "%s has no policy yet: --share-with is needed", dir);
        goto out;
    }
    char err[256];
    if (share_with && psi_cli_parse_share_with(share_with, &policy, err, sizeof err)) {
        status = psi_cmdline_fail("policy", "%s", err);
        goto out;
    }
    if (contribute_only || receive)
        policy.contribute_only = contribute_only;
    /* A statement's time orders it: never at or before the previous one. */
    int64_t now = psi_cli_wall_ms();
    policy.issued_ms = now > policy.issued_ms ? now : policy.issued_ms + 1;
    if (psi_state_policy_set(s.state, &policy)) {
        status =
            psi_cmdline_fail("policy", "cannot record the policy: %s", psi_state_error(s.state));
        goto out;
    }
    printf("psi policy: recorded in %s; the agent enforces it from its next round\n", dir);
    if (!local) {
        struct psi_hub_failure f;
        char why[768];
        if (psi_hub_client_open(&hub, &s.identity, &s.config, &f)) {
            status = psi_cmdline_fail("policy", "recorded, but not sent to the hub: %s", f.text);
            goto out;
        }
        if (psi_party_policy_send(&s, hub, &policy, why, sizeof why)) {
            status = psi_cmdline_fail("policy",
                                      "recorded (and in force for this agent), but the hub did not "
                                      "take it: %s",
                                      why);
            goto out;
        }
        printf("psi policy: the hub logged it\n");
    }
    if (fflush(stdout) != 0)
        status = PSI_CMDLINE_EXIT_FAILURE;
out:
    psi_state_policy_clear(&policy);
    psi_hub_client_close(hub);
    psi_cli_session_close(&s);
    return status;
}
