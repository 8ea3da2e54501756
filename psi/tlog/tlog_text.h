/*
 * Text rules shared by the signed-note, checkpoint and tlog-proof codecs
 * (private to libpsi, not installed).
 *
 * The C2SP formats are line-oriented UTF-8 with standard padded base64 and
 * decimal numbers without leading zeros. Each rule lives here once so that
 * the three parsers agree byte for byte on what they accept.
 */
#ifndef PSI_TLOG_TEXT_H
#define PSI_TLOG_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Largest decimal rendering of a uint64_t, without the NUL. */
#define PSI_TLOG_U64_DIGITS 20U

/* Strict RFC 4648 section 4 base64 (padded, canonical trailing bits, no
 * whitespace), decoded without a size limit on the input: all of `b64` is
 * checked, the first `out_cap` decoded bytes are written to `out` (which may
 * be NULL when out_cap is 0) and the full decoded length goes to *decoded_len.
 * 0, or PSI_ERR_PARSE for anything but canonical base64. */
int psi_tlog_b64_decode(const char *b64, size_t b64_len, unsigned char *out, size_t out_cap,
                        size_t *decoded_len);

/* Length of the base64 text of `len` bytes (no NUL). */
size_t psi_tlog_b64_len(size_t len);

/* Writes the base64 text of bin[0..len) at out (exactly psi_tlog_b64_len(len)
 * bytes, no NUL); out must have room for that many bytes. */
void psi_tlog_b64_encode(char *out, const unsigned char *bin, size_t len);

/* 1 if s[0..len) is valid UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF) with no ASCII control character other than newline, as the
 * signed-note specification requires of a whole note. */
int psi_tlog_text_ok(const char *s, size_t len);

/* 1 if s[0..len) is a valid key name: non-empty, at most `max_len` bytes,
 * text_ok, no '+', no Unicode space, no control character at all. */
int psi_tlog_name_ok(const char *s, size_t len, size_t max_len);

/* Decimal without sign or leading zeros ("0" alone is zero), within uint64_t.
 * 0 or PSI_ERR_PARSE. */
int psi_tlog_parse_u64(const char *s, size_t len, uint64_t *value);

/* Writes the decimal form of v (no NUL) into out, which has room for
 * PSI_TLOG_U64_DIGITS bytes; returns the number of bytes written. */
size_t psi_tlog_format_u64(char out[PSI_TLOG_U64_DIGITS], uint64_t v);

/* A bounded output buffer: appends that do not fit set `overflow` and write
 * nothing more, so a formatter checks once at the end. */
struct psi_tlog_out {
    char *buf;
    size_t cap;
    size_t len;
    int overflow;
};

void psi_tlog_out_bytes(struct psi_tlog_out *o, const void *bytes, size_t len);
void psi_tlog_out_str(struct psi_tlog_out *o, const char *s);
void psi_tlog_out_u64(struct psi_tlog_out *o, uint64_t v);
void psi_tlog_out_b64(struct psi_tlog_out *o, const unsigned char *bin, size_t len);

/* Finishes a formatted text: NUL-terminates it when there is room (the NUL is
 * not counted) and reports its length. PSI_ERR_TOO_LARGE if it did not fit
 * (out_len then holds the length that was needed, without the NUL). */
int psi_tlog_out_finish(struct psi_tlog_out *o, size_t *out_len);

#endif
