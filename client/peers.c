/* Peers pinned through the hub's log (see peers.h). */
#include "peers.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log_view.h"
#include "psi/error.h"
#include "psi/ident.h"
#include "psi/logentry.h"
#include "psi/merkle.h"

static void report_one(psi_peers_report_fn report, void *ctx, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report_one(psi_peers_report_fn report, void *ctx, const char *id, const char *fmt, ...)
{
    if (!report)
        return;
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    report(ctx, id, reason);
}

void psi_peers_fingerprint(const unsigned char key[32], char out[PSI_PEERS_FINGERPRINT_MAX])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, key, 32);
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i && i % 2 == 0)
            out[o++] = ':';
        snprintf(out + o, PSI_PEERS_FINGERPRINT_MAX - o, "%02x", h[i]);
        o += 2;
    }
    out[o] = '\0';
}

/* What the roster says of a member, checked before it is used. */
static int member_usable(const Psi__Participant *p)
{
    return p && p->id && psi_id_is_valid(p->id) && p->role && p->public_key.len == 32 &&
           psi_role_parse(p->role) != PSI_ROLE_NONE;
}

/* Verifies p's admission entry against the checkpoint cp: the entry admits
 * exactly this id, role and key, and is leaf admit_index of cp's tree. */
static int prove_admission(struct psi_hub_client *hub, const struct psi_checkpoint *cp,
                           const Psi__Participant *p, char *why, size_t whylen)
{
    struct psi_logentry e;
    if (p->admit_entry.len == 0) {
        snprintf(why, whylen, "the hub gives no admission entry for it");
        return PSI_ERR_VERIFY;
    }
    if (p->admit_entry.len > PSI_LOGENTRY_MAX_BYTES ||
        psi_logentry_decode(&e, p->admit_entry.data, p->admit_entry.len) != 0) {
        snprintf(why, whylen, "its admission entry is not a log entry");
        return PSI_ERR_VERIFY;
    }
    if (e.kind != PSI_LOGENTRY_ADMIT || strcmp(e.u.roster.participant, p->id) != 0 ||
        e.u.roster.role != psi_role_parse(p->role) ||
        sodium_memcmp(e.u.roster.public_key, p->public_key.data, 32) != 0) {
        snprintf(why, whylen, "its admission entry does not admit this id, role and key");
        return PSI_ERR_VERIFY;
    }
    if (p->admit_index >= cp->size) {
        snprintf(why, whylen,
                 "its admission entry %" PRIu64 " is not in the log of %" PRIu64 " entries",
                 p->admit_index, cp->size);
        return PSI_ERR_VERIFY;
    }
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], leaf[32];
    size_t count = 0;
    int rc = psi_log_fetch_inclusion(hub, p->admit_index, cp->size, proof, &count, why, whylen);
    if (rc)
        return rc;
    psi_merkle_leaf_hash(leaf, p->admit_entry.data, p->admit_entry.len);
    if (psi_merkle_verify_inclusion(leaf, p->admit_index, cp->size,
                                    (const unsigned char(*)[32])proof, count, cp->root) != 0) {
        snprintf(why, whylen,
                 "its admission entry is not entry %" PRIu64 " of the checkpoint of size "
                 "%" PRIu64,
                 p->admit_index, cp->size);
        return PSI_ERR_VERIFY;
    }
    return 0;
}

int psi_peers_update(struct psi_cli_session *s, struct psi_hub_client *hub,
                     const Psi__Roster *roster, psi_peers_report_fn report, void *report_ctx,
                     struct psi_peers_tally *tally, char *why, size_t whylen)
{
    memset(tally, 0, sizeof *tally);
    /* First pass: what is pinned already, and whether anything needs proof. */
    size_t to_prove = 0;
    for (size_t i = 0; i < roster->n_participants; i++) {
        const Psi__Participant *p = roster->participants[i];
        if (!member_usable(p) || strcmp(p->id, s->config.id) == 0)
            continue;
        struct psi_state_peer pinned;
        int rc = psi_state_peer_get(s->state, p->id, &pinned);
        if (rc == PSI_ERR_NOT_FOUND) {
            to_prove++;
        } else if (rc) {
            snprintf(why, whylen, "cannot read the pinned peers: %s", psi_state_error(s->state));
            return rc;
        } else if (sodium_memcmp(pinned.public_key, p->public_key.data, 32) != 0) {
            tally->conflicts++;
            report_one(report, report_ctx, p->id,
                       "the hub shows another key for it than the one pinned from log entry "
                       "%" PRIu64 "; it stays pinned to that key",
                       pinned.admit_index);
        } else {
            tally->known++;
        }
    }
    if (to_prove == 0)
        return 0;

    struct psi_note_verifier key;
    struct psi_checkpoint cp;
    char *note = NULL;
    int rc = psi_log_key(&s->config, &key, why, whylen);
    if (!rc)
        rc = psi_log_fetch_checkpoint(hub, &key, &cp, &note, why, whylen);
    if (!rc)
        rc = psi_log_trust(s->state, hub, &cp, note, "peers", NULL, NULL, why, whylen);
    if (rc) {
        free(note);
        return rc;
    }
    for (size_t i = 0; i < roster->n_participants; i++) {
        const Psi__Participant *p = roster->participants[i];
        if (!member_usable(p) || strcmp(p->id, s->config.id) == 0)
            continue;
        struct psi_state_peer peer;
        if (psi_state_peer_get(s->state, p->id, &peer) != PSI_ERR_NOT_FOUND)
            continue;
        char reason[PSI_LOG_WHY_MAX];
        if (prove_admission(hub, &cp, p, reason, sizeof reason) != 0) {
            tally->unproven++;
            report_one(report, report_ctx, p->id, "not pinned: %s", reason);
            continue;
        }
        memset(&peer, 0, sizeof peer);
        snprintf(peer.id, sizeof peer.id, "%s", p->id);
        snprintf(peer.role, sizeof peer.role, "%s", p->role);
        memcpy(peer.public_key, p->public_key.data, 32);
        peer.admit_index = p->admit_index;
        peer.proven_size = cp.size;
        rc = psi_state_peer_pin(s->state, &peer);
        if (rc) {
            snprintf(why, whylen, "cannot pin %s: %s", p->id, psi_state_error(s->state));
            break;
        }
        tally->pinned++;
    }
    free(note);
    return rc;
}
