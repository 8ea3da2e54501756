/* Digests, signatures and derived ids of psi.proto (see digest.h). */
#include "digest.h"

#include <string.h>

static const char submission_prefix[] = "psi/submission/v1";
static const char submission_sig_prefix[] = "psi/submission-sig/v1";
static const char tags_prefix[] = "psi/tags/v1";
static const char crossblind_sig_prefix[] = "psi/crossblind-sig/v1";
/* Labels of the locally derived ids: never on the wire as such, but fixed so
 * that a client of a later version resumes what this one left pending. */
static const char commit_rid_label[] = "psi/client/commit-request-id/v1";
static const char crossblind_upload_label[] = "psi/client/crossblind-upload-id/v1";
static const char feed_upload_label[] = "psi/client/feed-upload-id/v1";

static const unsigned char zero = 0;

static void put_u64be(unsigned char out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static void sha_text(crypto_hash_sha256_state *sha, const char *text)
{
    crypto_hash_sha256_update(sha, (const unsigned char *)text, strlen(text));
}

void psi_submission_digest_begin(struct psi_submission_digest *d, const char *epoch,
                                 const char *sender, uint64_t count)
{
    unsigned char be[8];
    put_u64be(be, count);
    crypto_hash_sha256_init(&d->sha);
    sha_text(&d->sha, submission_prefix);
    crypto_hash_sha256_update(&d->sha, &zero, 1);
    sha_text(&d->sha, epoch);
    crypto_hash_sha256_update(&d->sha, &zero, 1);
    sha_text(&d->sha, sender);
    crypto_hash_sha256_update(&d->sha, &zero, 1);
    crypto_hash_sha256_update(&d->sha, be, sizeof be);
}

void psi_submission_digest_add(struct psi_submission_digest *d, const unsigned char *elements,
                               size_t len)
{
    if (len)
        crypto_hash_sha256_update(&d->sha, elements, len);
}

void psi_submission_digest_end(struct psi_submission_digest *d,
                               unsigned char digest[PSI_DIGEST_BYTES])
{
    crypto_hash_sha256_final(&d->sha, digest);
}

/* "psi/submission-sig/v1" || 0x00 || hub_key || digest */
static size_t submission_sig_message(unsigned char *msg, const unsigned char hub_key[32],
                                     const unsigned char digest[PSI_DIGEST_BYTES])
{
    size_t n = strlen(submission_sig_prefix);
    memcpy(msg, submission_sig_prefix, n);
    msg[n++] = 0;
    memcpy(msg + n, hub_key, 32);
    n += 32;
    memcpy(msg + n, digest, PSI_DIGEST_BYTES);
    return n + PSI_DIGEST_BYTES;
}

int psi_submission_sign(unsigned char sig[PSI_SIGNATURE_BYTES], const unsigned char *secret_key,
                        const unsigned char hub_key[32],
                        const unsigned char digest[PSI_DIGEST_BYTES])
{
    unsigned char msg[sizeof submission_sig_prefix + 32 + PSI_DIGEST_BYTES];
    size_t len = submission_sig_message(msg, hub_key, digest);
    return crypto_sign_detached(sig, NULL, msg, len, secret_key);
}

int psi_submission_verify(const unsigned char sig[PSI_SIGNATURE_BYTES],
                          const unsigned char owner_key[32], const unsigned char hub_key[32],
                          const unsigned char digest[PSI_DIGEST_BYTES])
{
    unsigned char msg[sizeof submission_sig_prefix + 32 + PSI_DIGEST_BYTES];
    size_t len = submission_sig_message(msg, hub_key, digest);
    return crypto_sign_verify_detached(sig, msg, len, owner_key);
}

void psi_tag_digest_begin(struct psi_tag_digest *d)
{
    crypto_hash_sha256_init(&d->sha);
    sha_text(&d->sha, tags_prefix);
    crypto_hash_sha256_update(&d->sha, &zero, 1);
}

void psi_tag_digest_add(struct psi_tag_digest *d, const unsigned char *tags, size_t len)
{
    if (len)
        crypto_hash_sha256_update(&d->sha, tags, len);
}

void psi_tag_digest_end(struct psi_tag_digest *d, unsigned char digest[PSI_DIGEST_BYTES])
{
    crypto_hash_sha256_final(&d->sha, digest);
}

int psi_crossblind_sign(unsigned char sig[PSI_SIGNATURE_BYTES], const unsigned char *secret_key,
                        const unsigned char hub_key[32],
                        const unsigned char submission_digest[PSI_DIGEST_BYTES], uint64_t count,
                        const unsigned char tag_digest[PSI_DIGEST_BYTES])
{
    unsigned char msg[sizeof crossblind_sig_prefix + 32 + (size_t)2 * PSI_DIGEST_BYTES + 8];
    size_t n = strlen(crossblind_sig_prefix);
    memcpy(msg, crossblind_sig_prefix, n);
    msg[n++] = 0;
    memcpy(msg + n, hub_key, 32);
    n += 32;
    memcpy(msg + n, submission_digest, PSI_DIGEST_BYTES);
    n += PSI_DIGEST_BYTES;
    put_u64be(msg + n, count);
    n += 8;
    memcpy(msg + n, tag_digest, PSI_DIGEST_BYTES);
    n += PSI_DIGEST_BYTES;
    return crypto_sign_detached(sig, NULL, msg, n, secret_key);
}

static size_t put_field(unsigned char *out, size_t cap, size_t at, const char *text)
{
    size_t len = strlen(text);
    if (len == 0 || len > 0xffff || at > cap || cap - at < 2 + len)
        return 0;
    out[at] = (unsigned char)(len >> 8);
    out[at + 1] = (unsigned char)(len & 0xff);
    memcpy(out + at + 2, text, len);
    return at + 2 + len;
}

size_t psi_tag_context(unsigned char *out, size_t cap, const char *epoch, const char *id1,
                       const char *id2)
{
    /* strcmp compares as unsigned char: byte order, a prefix sorting first. */
    const char *a = strcmp(id1, id2) <= 0 ? id1 : id2;
    const char *b = a == id1 ? id2 : id1;
    size_t at = put_field(out, cap, 0, epoch);
    if (at)
        at = put_field(out, cap, at, a);
    if (at)
        at = put_field(out, cap, at, b);
    return at;
}

void psi_commit_request_id(unsigned char request_id[16], const unsigned char upload_id[16])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 16);
    crypto_generichash_update(&h, (const unsigned char *)commit_rid_label, sizeof commit_rid_label);
    crypto_generichash_update(&h, upload_id, 16);
    crypto_generichash_final(&h, request_id, 16);
}

void psi_crossblind_upload_id(unsigned char upload_id[16], const unsigned char hub_key[32],
                              const char *agent, uint64_t submission_id,
                              const unsigned char submission_digest[PSI_DIGEST_BYTES])
{
    unsigned char be[8];
    crypto_generichash_state h;
    put_u64be(be, submission_id);
    crypto_generichash_init(&h, NULL, 0, 16);
    crypto_generichash_update(&h, (const unsigned char *)crossblind_upload_label,
                              sizeof crossblind_upload_label);
    crypto_generichash_update(&h, hub_key, 32);
    /* the NUL ends the id, so ids that are prefixes of others hash apart */
    crypto_generichash_update(&h, (const unsigned char *)agent, strlen(agent) + 1);
    crypto_generichash_update(&h, be, sizeof be);
    crypto_generichash_update(&h, submission_digest, PSI_DIGEST_BYTES);
    crypto_generichash_final(&h, upload_id, 16);
}

void psi_feed_upload_id(unsigned char upload_id[16], const unsigned char hub_key[32],
                        const char *vendor, const unsigned char feed_digest[PSI_DIGEST_BYTES])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 16);
    crypto_generichash_update(&h, (const unsigned char *)feed_upload_label,
                              sizeof feed_upload_label);
    crypto_generichash_update(&h, hub_key, 32);
    crypto_generichash_update(&h, (const unsigned char *)vendor, strlen(vendor) + 1);
    crypto_generichash_update(&h, feed_digest, PSI_DIGEST_BYTES);
    crypto_generichash_final(&h, upload_id, 16);
}
