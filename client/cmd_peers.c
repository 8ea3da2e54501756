/* psi peers: the peers this participant has verified through the hub's log. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent_check.h"
#include "cli.h"
#include "commands.h"
#include "hub_client.h"
#include "log_view.h"
#include "methods.h"
#include "peers.h"
#include "psi.pb-c.h"
#include "psi/error.h"

enum {
    PEERS_STATE,
    PEERS_JSON,
    PEERS_OFFLINE,
};

static const struct psi_cmdline_option peers_options[] = {
    [PEERS_STATE] = {PSI_CLI_STATE_OPTION},
    [PEERS_JSON] = {.name = "json",
                    .help = "one JSON object a line:\n"
                            "{\"id\":\"ke-dci\",\"role\":\"agency\",\"fingerprint\":\"...\",\n"
                            " \"admit_index\":3,\"shared\":true,\"new\":false}"},
    [PEERS_OFFLINE] = {.name = "offline", .help = "list what is pinned without asking the hub"},
};

static const struct psi_cmdline_command peers_command = {
    .name = "peers",
    .about = "Lists the peers this participant works for as it has verified them: a\n"
             "participant becomes a peer only when its admission (id, role, key) is an\n"
             "entry of the hub's log, proven included in a checkpoint this state trusts.\n"
             "First asks the hub for its roster and pins every new admission that\n"
             "verifies; a roster member that does not is reported on stderr and gets no\n"
             "work from this participant's agent. A pinned key never changes.\n"
             "\n"
             "One line a peer: id, role, key fingerprint (first 16 bytes of the SHA-256\n"
             "of its Ed25519 key), the log index of its admission, whether this\n"
             "participant's own policy shares with it, and 'new' for a peer pinned since\n"
             "the last listing (listing it marks it seen).\n",
    PSI_CMDLINE_OPTIONS(peers_options),
};

struct listing {
    const struct psi_state_policy *policy;
    int json;
    size_t count;
};

static void report_unpinned(void *ctx, const char *id, const char *reason)
{
    (void)ctx;
    psi_cmdline_note("peers", "%s: %s", id, reason);
}

static int print_peer(void *ctx, const struct psi_state_peer *p)
{
    struct listing *l = ctx;
    char fp[PSI_PEERS_FINGERPRINT_MAX];
    psi_peers_fingerprint(p->public_key, fp);
    int shared = psi_agent_policy_allows(l->policy, p->id);
    l->count++;
    if (!l->json) {
        printf("%-24s %-8s %s  entry %-6" PRIu64 " %-10s%s\n", p->id, p->role, fp, p->admit_index,
               shared ? "shared" : "not shared", p->reviewed ? "" : "  new");
        return 0;
    }
    json_t *obj = json_object();
    int bad =
        !obj || json_object_set_new(obj, "id", json_string(p->id)) != 0 ||
        json_object_set_new(obj, "role", json_string(p->role)) != 0 ||
        json_object_set_new(obj, "fingerprint", json_string(fp)) != 0 ||
        json_object_set_new(obj, "admit_index", json_integer((json_int_t)p->admit_index)) != 0 ||
        json_object_set_new(obj, "shared", json_boolean(shared)) != 0 ||
        json_object_set_new(obj, "new", json_boolean(!p->reviewed)) != 0;
    char *line = bad ? NULL : json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!line)
        return PSI_ERR_NOMEM;
    puts(line);
    free(line);
    return 0;
}

int psi_cmd_peers(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&peers_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[PEERS_STATE];
    int json = args.given[PEERS_JSON], offline = args.given[PEERS_OFFLINE];
    struct psi_cli_session s;
    if (psi_cli_session_open(&s, "peers", dir))
        return PSI_CMDLINE_EXIT_FAILURE;
    if (psi_cli_session_lock(&s)) {
        psi_cli_session_close(&s);
        return PSI_CMDLINE_EXIT_FAILURE;
    }
    struct psi_hub_client *hub = NULL;
    Psi__Roster *roster = NULL;
    struct psi_state_policy policy;
    memset(&policy, 0, sizeof policy);
    int prc = psi_state_policy_get(s.state, &policy);
    if (prc && prc != PSI_ERR_NOT_FOUND) {
        status = psi_cmdline_fail("peers", "cannot read the policy: %s", psi_state_error(s.state));
        goto out;
    }
    if (!offline) {
        struct psi_hub_failure f;
        struct psi_peers_tally tally;
        char why[PSI_LOG_WHY_MAX];
        if (psi_hub_client_open(&hub, &s.identity, &s.config, &f) ||
            psi_hub_client_call(hub, PSI_METHOD_NAME(ROSTER), NULL, NULL, &psi__roster__descriptor,
                                (ProtobufCMessage **)&roster, &f)) {
            status = psi_cmdline_fail("peers", "%s", f.text);
            goto out;
        }
        if (psi_peers_update(&s, hub, roster, report_unpinned, NULL, &tally, why, sizeof why)) {
            status =
                psi_cmdline_fail("peers", "cannot verify admissions in the hub's log: %s", why);
            goto out;
        }
    }
    struct listing l = {prc == 0 ? &policy : NULL, json, 0};
    if (psi_state_peers_each(s.state, print_peer, &l) || psi_state_peers_reviewed(s.state)) {
        status =
            psi_cmdline_fail("peers", "cannot read the pinned peers: %s", psi_state_error(s.state));
        goto out;
    }
    if (!json && l.count == 0)
        printf("psi peers: no peer pinned yet\n");
    if (fflush(stdout) != 0)
        status = PSI_CMDLINE_EXIT_FAILURE;
out:
    if (roster)
        protobuf_c_message_free_unpacked(&roster->base, NULL);
    psi_state_policy_clear(&policy);
    psi_hub_client_close(hub);
    psi_cli_session_close(&s);
    return status;
}
