/* The participant's view of the hub's audit log (see log_view.h). */
#include "log_view.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "methods.h"
#include "psi.pb-c.h"
#include "psi/error.h"
#include "reason.h"

int psi_log_key(const struct psi_state_config *cfg, struct psi_note_verifier *key, char *why,
                size_t whylen)
{
    int rc = psi_note_verifier_parse(key, cfg->hub_vkey, strlen(cfg->hub_vkey));
    if (rc)
        return psi_reason(why, whylen, rc,
                          "the hub key recorded at 'psi init' is not a verifier key: %s",
                          psi_strerror(rc));
    if (memcmp(key->public_key, cfg->hub_key, 32) != 0)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub key string and the hub key recorded at 'psi init' differ");
    return 0;
}

int psi_log_open_checkpoint(const char *note, size_t note_len, const struct psi_note_verifier *key,
                            struct psi_checkpoint *cp, char *why, size_t whylen)
{
    int rc = psi_checkpoint_open(cp, note, note_len, key, NULL);
    switch (rc) {
    case 0: return 0;
    case PSI_ERR_NOT_FOUND:
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the checkpoint is not signed by the hub key %s", key->name);
    case PSI_ERR_VERIFY:
        return psi_reason(why, whylen, rc, "the checkpoint's signature by %s does not verify",
                          key->name);
    case PSI_ERR_DENIED:
        return psi_reason(why, whylen, PSI_ERR_VERIFY, "the checkpoint is of another log (origin)");
    default: return psi_reason(why, whylen, rc, "malformed checkpoint: %s", psi_strerror(rc));
    }
}

int psi_log_fetch_checkpoint(struct psi_hub_client *hub, const struct psi_note_verifier *key,
                             struct psi_checkpoint *cp, char **note, char *why, size_t whylen)
{
    struct psi_hub_failure f;
    Psi__LogCheckpoint *reply = NULL;
    *note = NULL;
    int rc = psi_hub_client_call(hub, PSI_METHOD_NAME(LOG_CHECKPOINT), NULL, NULL,
                                 &psi__log_checkpoint__descriptor, (ProtobufCMessage **)&reply, &f);
    if (rc)
        return psi_reason(why, whylen, rc, "%s", f.text);
    size_t len = strnlen(reply->checkpoint, PSI_LOG_TEXT_MAX + 1);
    if (len > PSI_LOG_TEXT_MAX) {
        protobuf_c_message_free_unpacked(&reply->base, NULL);
        return psi_reason(why, whylen, PSI_ERR_TOO_LARGE, "the hub's checkpoint exceeds %zu bytes",
                          PSI_LOG_TEXT_MAX);
    }
    rc = psi_log_open_checkpoint(reply->checkpoint, len, key, cp, why, whylen);
    if (!rc) {
        *note = malloc(len + 1);
        if (!*note) {
            rc = psi_reason(why, whylen, PSI_ERR_NOMEM, "out of memory");
        } else {
            memcpy(*note, reply->checkpoint, len + 1);
            /* cp's extensions pointed into the reply: point them at the copy. */
            if (cp->extensions)
                cp->extensions = *note + (cp->extensions - reply->checkpoint);
        }
    }
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    return rc;
}

/* Copies proof hashes off the wire: `want` of them, 32 bytes each. */
static int take_hashes(const Psi__LogProof *p, size_t want,
                       unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], char *why,
                       size_t whylen, const char *what)
{
    if (p->n_hashes != want)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub's %s proof has %zu hashes, the tree needs %zu", what,
                          p->n_hashes, want);
    for (size_t i = 0; i < want; i++) {
        if (p->hashes[i].len != 32)
            return psi_reason(why, whylen, PSI_ERR_VERIFY,
                              "hash %zu of the hub's %s proof is %zu bytes", i, what,
                              p->hashes[i].len);
        memcpy(proof[i], p->hashes[i].data, 32);
    }
    return 0;
}

/* Hashes in PATH(index, D[0:size]) (RFC 9162 2.1.3.1), by the tree's shape. */
static size_t inclusion_length(uint64_t index, uint64_t size)
{
    size_t n = 0;
    uint64_t lo = 0, hi = size;
    while (hi - lo > 1) {
        uint64_t k = 1; /* the largest power of two below hi - lo */
        while (k <= (hi - lo - 1) / 2)
            k <<= 1;
        if (index < lo + k)
            hi = lo + k;
        else
            lo = lo + k;
        n++;
    }
    return n;
}

int psi_log_fetch_inclusion(struct psi_hub_client *hub, uint64_t index, uint64_t size,
                            unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32], size_t *count,
                            char *why, size_t whylen)
{
    struct psi_hub_failure f;
    Psi__LogInclusionRequest req = PSI__LOG_INCLUSION_REQUEST__INIT;
    Psi__LogProof *reply = NULL;
    req.index = index;
    req.tree_size = size;
    int rc = psi_hub_client_call(hub, PSI_METHOD_NAME(LOG_INCLUSION), NULL, &req.base,
                                 &psi__log_proof__descriptor, (ProtobufCMessage **)&reply, &f);
    if (rc)
        return psi_reason(why, whylen, rc, "%s", f.text);
    *count = inclusion_length(index, size);
    rc = take_hashes(reply, *count, proof, why, whylen, "inclusion");
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    return rc;
}

int psi_log_prove_consistency(struct psi_hub_client *hub, uint64_t old_size,
                              const unsigned char old_root[32], uint64_t new_size,
                              const unsigned char new_root[32], char *why, size_t whylen)
{
    if (old_size > new_size)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "a checkpoint of size %" PRIu64 " cannot follow one of size %" PRIu64,
                          new_size, old_size);
    if (old_size == new_size) {
        if (sodium_memcmp(old_root, new_root, 32) != 0)
            return psi_reason(why, whylen, PSI_ERR_VERIFY,
                              "two checkpoints of size %" PRIu64 " with different roots", old_size);
        return 0;
    }
    if (hub == NULL)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "sizes %" PRIu64 " and %" PRIu64 " need a consistency proof from the hub",
                          old_size, new_size);
    struct psi_hub_failure f;
    Psi__LogConsistencyRequest req = PSI__LOG_CONSISTENCY_REQUEST__INIT;
    Psi__LogProof *reply = NULL;
    req.old_size = old_size;
    req.new_size = new_size;
    int rc = psi_hub_client_call(hub, PSI_METHOD_NAME(LOG_CONSISTENCY), NULL, &req.base,
                                 &psi__log_proof__descriptor, (ProtobufCMessage **)&reply, &f);
    if (rc == PSI_ERR_TIMEOUT || rc == PSI_ERR_NETWORK || rc == PSI_ERR_NOMEM)
        return psi_reason(why, whylen, rc, "%s", f.text);
    if (rc)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub cannot prove size %" PRIu64 " consistent with size %" PRIu64
                          " (%s)",
                          new_size, old_size, f.text);
    unsigned char proof[PSI_MERKLE_MAX_PROOF_HASHES][32];
    size_t n = reply->n_hashes;
    if (n > PSI_MERKLE_MAX_PROOF_HASHES) {
        rc = psi_reason(why, whylen, PSI_ERR_VERIFY, "the hub's consistency proof has %zu hashes",
                        n);
    } else {
        rc = take_hashes(reply, n, proof, why, whylen, "consistency");
        if (!rc &&
            psi_merkle_verify_consistency(old_size, new_size, (const unsigned char(*)[32])proof, n,
                                          old_root, new_root) != 0)
            rc = psi_reason(why, whylen, PSI_ERR_VERIFY,
                            "the checkpoint of size %" PRIu64
                            " is not consistent with the one of size "
                            "%" PRIu64 ": the log was forked or rewritten",
                            new_size, old_size);
    }
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    return rc;
}

int psi_log_trust(struct psi_state *st, struct psi_hub_client *hub, const struct psi_checkpoint *cp,
                  const char *note, const char *source, struct psi_state_checkpoint *trusted,
                  int *first_use, char *why, size_t whylen)
{
    struct psi_state_checkpoint latest;
    int rc = psi_state_checkpoint_latest(st, &latest);
    if (first_use)
        *first_use = rc == PSI_ERR_NOT_FOUND;
    if (rc && rc != PSI_ERR_NOT_FOUND)
        return psi_reason(why, whylen, rc, "cannot read the trusted checkpoint: %s",
                          psi_state_error(st));
    if (!rc) {
        if (latest.size > cp->size)
            rc = psi_reason(why, whylen, PSI_ERR_VERIFY,
                            "the hub shows a checkpoint of size %" PRIu64
                            ", older than the one of size "
                            "%" PRIu64 " this state trusts: a rollback or a fork",
                            cp->size, latest.size);
        else
            rc = psi_log_prove_consistency(hub, latest.size, latest.root, cp->size, cp->root, why,
                                           whylen);
    } else {
        rc = 0;
    }
    if (!rc) {
        rc = psi_state_checkpoint_record(st, cp->size, cp->root, note, source);
        if (rc)
            psi_reason(why, whylen, rc, "cannot record the checkpoint: %s", psi_state_error(st));
    }
    if (trusted)
        *trusted = latest; /* ownership passes */
    else
        psi_state_checkpoint_clear(&latest);
    return rc;
}

void psi_log_receipt_clear(struct psi_log_receipt *r)
{
    free(r->note);
    r->note = NULL;
}

int psi_log_receipt_verify(const char *text, size_t text_len, const struct psi_note_verifier *key,
                           struct psi_log_receipt *out, char *why, size_t whylen)
{
    struct psi_tlog_proof proof;
    memset(out, 0, sizeof *out);
    if (text_len > PSI_LOG_TEXT_MAX)
        return psi_reason(why, whylen, PSI_ERR_TOO_LARGE, "the receipt exceeds %zu bytes",
                          PSI_LOG_TEXT_MAX);
    int rc =
        psi_tlog_proof_parse(&proof, text, text_len, out->entry_bytes, sizeof out->entry_bytes);
    if (rc)
        return psi_reason(why, whylen, rc, "not a tlog-proof receipt: %s", psi_strerror(rc));
    if (proof.extra_len == 0)
        return psi_reason(why, whylen, PSI_ERR_PARSE, "the receipt does not carry its entry");
    out->entry_len = proof.extra_len;
    unsigned char leaf[32];
    psi_merkle_leaf_hash(leaf, out->entry_bytes, out->entry_len);
    rc = psi_tlog_proof_verify(&proof, key, NULL, leaf, &out->checkpoint);
    if (rc) {
        /* Which part failed: the checkpoint (says why) or the proof. */
        int cp_rc = psi_log_open_checkpoint(proof.checkpoint, proof.checkpoint_len, key,
                                            &out->checkpoint, why, whylen);
        if (cp_rc)
            return cp_rc;
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "entry %" PRIu64 " is not in the checkpoint of size %" PRIu64
                          " the receipt carries (its inclusion proof does not verify)",
                          proof.index, out->checkpoint.size);
    }
    out->index = proof.index;
    rc = psi_logentry_decode(&out->entry, out->entry_bytes, out->entry_len);
    if (rc)
        return psi_reason(why, whylen, rc, "entry %" PRIu64 " of the receipt does not decode: %s",
                          proof.index, psi_strerror(rc));
    out->note = malloc(proof.checkpoint_len + 1);
    if (!out->note)
        return psi_reason(why, whylen, PSI_ERR_NOMEM, "out of memory");
    memcpy(out->note, proof.checkpoint, proof.checkpoint_len);
    out->note[proof.checkpoint_len] = '\0';
    out->checkpoint.extensions = NULL; /* pointed into text; not needed */
    out->checkpoint.extensions_len = 0;
    return 0;
}

/* A policy statement's entry: the statement it restates must be, byte for
 * byte, the one this participant signed, with the same signature. */
static int policy_entry_matches(const struct psi_logentry *e, const char *participant,
                                const struct psi_log_expected *x, char *why, size_t whylen)
{
    unsigned char statement[PSI_POLICY_STATEMENT_MAX];
    size_t len = 0;
    if (e->kind != PSI_LOGENTRY_PARTY_POLICY ||
        strcmp(e->u.party_policy.participant, participant) != 0)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub's receipt proves another entry (%s), not this policy statement",
                          psi_logentry_kind_name((unsigned)e->kind));
    if (psi_policy_statement(statement, sizeof statement, &len, x->hub_key, &e->u.party_policy) !=
            0 ||
        len != x->statement_len || memcmp(statement, x->statement, len) != 0)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub's receipt logs another policy than the one sent");
    if (sodium_memcmp(e->u.party_policy.signature, x->signature, PSI_LOGENTRY_SIGNATURE_BYTES) != 0)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub's receipt logs another signature than the one sent");
    return 0;
}

int psi_log_entry_matches(const struct psi_logentry *e, const char *participant,
                          const struct psi_log_expected *x, char *why, size_t whylen)
{
    if (x->kind == PSI_LOGENTRY_PARTY_POLICY)
        return policy_entry_matches(e, participant, x, why, whylen);
    int submission = x->kind == PSI_LOGENTRY_SUBMISSION;
    const char *what = submission ? "submission" : "cross-blind batch";
    const char *id = submission ? e->u.submission.participant : e->u.crossblind.participant;
    uint64_t sid = submission ? e->u.submission.submission_id : e->u.crossblind.submission_id;
    if (e->kind != x->kind || strcmp(id, participant) != 0 || sid != x->submission_id)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub's receipt proves another entry (%s), not this %s of submission "
                          "%" PRIu64,
                          psi_logentry_kind_name((unsigned)e->kind), what, x->submission_id);
    /* Kind, owner and id are what the hub chose; the rest is what this
     * participant signed, and a receipt for anything else proves nothing
     * about what was sent. */
    if (submission && strcmp(e->u.submission.epoch, x->epoch) != 0)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub's receipt logs another epoch than the one sent (%s)", x->epoch);
    uint64_t count = submission ? e->u.submission.count : e->u.crossblind.count;
    if (count != x->count)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub's receipt logs another count (%" PRIu64 ") than the one sent "
                          "(%" PRIu64 ")",
                          count, x->count);
    const unsigned char *digest = submission ? e->u.submission.digest : e->u.crossblind.tag_digest;
    if (sodium_memcmp(digest, x->digest, PSI_LOGENTRY_DIGEST_BYTES) != 0)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub's receipt logs another %s than the one sent",
                          submission ? "digest" : "tag digest");
    const unsigned char *sig = submission ? e->u.submission.signature : e->u.crossblind.signature;
    if (sodium_memcmp(sig, x->signature, PSI_LOGENTRY_SIGNATURE_BYTES) != 0)
        return psi_reason(why, whylen, PSI_ERR_VERIFY,
                          "the hub's receipt logs another signature than the one sent");
    return 0;
}

int psi_log_keep_receipt(struct psi_cli_session *s, struct psi_hub_client *hub,
                         const struct psi_log_expected *x, const char *receipt, char *why,
                         size_t whylen)
{
    struct psi_note_verifier key;
    if (!receipt || !receipt[0])
        return 0;
    if (x->kind != PSI_LOGENTRY_SUBMISSION && x->kind != PSI_LOGENTRY_CROSSBLIND &&
        x->kind != PSI_LOGENTRY_PARTY_POLICY)
        return psi_reason(why, whylen, PSI_ERR_INVALID,
                          "no receipt is kept for this kind of entry");
    int rc = psi_log_key(&s->config, &key, why, whylen);
    if (rc)
        return rc;
    struct psi_log_receipt *r = malloc(sizeof *r);
    if (!r)
        return psi_reason(why, whylen, PSI_ERR_NOMEM, "out of memory");
    rc = psi_log_receipt_verify(receipt, strlen(receipt), &key, r, why, whylen);
    if (!rc)
        rc = psi_log_entry_matches(&r->entry, s->config.id, x, why, whylen);
    if (!rc)
        rc = psi_log_trust(s->state, hub, &r->checkpoint, r->note,
                           x->kind == PSI_LOGENTRY_SUBMISSION   ? "submission"
                           : x->kind == PSI_LOGENTRY_CROSSBLIND ? "crossblind"
                                                                : "policy",
                           NULL, NULL, why, whylen);
    psi_log_receipt_clear(r);
    free(r);
    return rc;
}
