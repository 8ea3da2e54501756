/* Telling the hub this participant's own policy (see party_policy.h). */
#include "party_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log_view.h"
#include "methods.h"
#include "psi.pb-c.h"
#include "psi/error.h"
#include "psi/logentry.h"

int psi_party_policy_send(struct psi_cli_session *s, struct psi_hub_client *hub,
                          const struct psi_state_policy *policy, char *why, size_t whylen)
{
    unsigned char list[PSI_LOGENTRY_SHARE_MAX * (1U + PSI_LOGENTRY_ID_MAX)];
    unsigned char statement[PSI_POLICY_STATEMENT_MAX], sig[64];
    const char *ids[PSI_STATE_SHARE_MAX];
    size_t list_len = 0, statement_len = 0;
    if (policy->share_count > PSI_STATE_SHARE_MAX || policy->issued_ms <= 0) {
        snprintf(why, whylen, "the recorded policy cannot be stated");
        return PSI_ERR_INVALID;
    }
    for (size_t i = 0; i < policy->share_count; i++)
        ids[i] = policy->share_with[i];
    struct psi_logentry_party_policy p;
    memset(&p, 0, sizeof p);
    snprintf(p.participant, sizeof p.participant, "%s", s->config.id);
    p.issued_ms = (uint64_t)policy->issued_ms;
    p.share_all = policy->share_all ? 1 : 0;
    p.contribute_only = policy->contribute_only ? 1 : 0;
    int rc = psi_logentry_share_list_build(list, sizeof list, &list_len, ids, policy->share_count);
    p.share_count = policy->share_count;
    p.share_list = list;
    p.share_list_len = list_len;
    if (!rc)
        rc = psi_policy_statement(statement, sizeof statement, &statement_len, s->config.hub_key,
                                  &p);
    if (rc) {
        snprintf(why, whylen, "the policy cannot be stated: %s", psi_strerror(rc));
        return rc;
    }
    crypto_sign_detached(sig, NULL, statement, statement_len, s->identity.secret_key);

    Psi__PolicySet req = PSI__POLICY_SET__INIT;
    Psi__PolicyReceipt *reply = NULL;
    req.share_all = p.share_all;
    req.contribute_only = p.contribute_only;
    req.n_share_with = policy->share_count;
    req.share_with = (char **)ids;
    req.issued_ms = p.issued_ms;
    req.signature.data = sig;
    req.signature.len = sizeof sig;
    /* The request id is a function of the statement: sending it again (the
     * hub's answer was lost, or not recorded here) is a retry of the same
     * request, which the hub answers with its first reply, not a stale
     * second statement. */
    unsigned char request_id[16];
    static const char context[] = "psi/policy-request/v1";
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof request_id);
    crypto_generichash_update(&h, (const unsigned char *)context, sizeof context);
    crypto_generichash_update(&h, sig, sizeof sig);
    crypto_generichash_final(&h, request_id, sizeof request_id);
    struct psi_hub_failure f;
    rc = psi_hub_client_call(hub, PSI_METHOD_NAME(POLICY_SET), request_id, &req.base,
                             &psi__policy_receipt__descriptor, (ProtobufCMessage **)&reply, &f);
    if (rc) {
        snprintf(why, whylen, "%s", f.text);
        return rc;
    }
    /* The receipt must log exactly the statement signed here. */
    struct psi_log_expected x;
    memset(&x, 0, sizeof x);
    x.kind = PSI_LOGENTRY_PARTY_POLICY;
    x.signature = sig;
    x.statement = statement;
    x.statement_len = statement_len;
    x.hub_key = s->config.hub_key;
    rc = psi_log_keep_receipt(s, hub, &x, reply->receipt, why, whylen);
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    if (rc)
        return rc;
    rc = psi_state_policy_sent(s->state, policy->issued_ms);
    if (rc)
        snprintf(why, whylen, "cannot record that the hub has the policy: %s",
                 psi_state_error(s->state));
    return rc;
}
