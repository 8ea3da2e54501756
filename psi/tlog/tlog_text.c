#include "tlog_text.h"

#include <string.h>

#include <sodium.h>

#include "psi/error.h"

/* Input is decoded in slices of this many characters so that a signature of
 * any length (post-quantum ones run to kilobytes) is checked without a buffer
 * of its size. A multiple of 4, so every slice but the last is padding-free. */
#define B64_SLICE_CHARS 64U
#define B64_SLICE_BYTES ((size_t)B64_SLICE_CHARS / 4U * 3U)

/* 1 for the characters of the base64 alphabet and '='. libsodium 1.0.18's
 * decoder reads bytes above 0x7f as '/' (found by fuzzing: an em dash passed
 * for "///"), so the alphabet is checked here, before it decodes. */
static int b64_char_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

int psi_tlog_b64_decode(const char *b64, size_t b64_len, unsigned char *out, size_t out_cap,
                        size_t *decoded_len)
{
    size_t total = 0;
    size_t pos = 0;

    *decoded_len = 0;
    if (b64_len % 4U != 0U)
        return PSI_ERR_PARSE;
    for (size_t i = 0; i < b64_len; i++)
        if (!b64_char_ok((unsigned char)b64[i]))
            return PSI_ERR_PARSE;
    while (pos < b64_len) {
        unsigned char slice[B64_SLICE_BYTES];
        size_t chunk = b64_len - pos;
        size_t got = 0;
        const char *end = NULL;
        if (chunk > B64_SLICE_CHARS)
            chunk = B64_SLICE_CHARS;
        /* Padding may only close the whole text, never a slice inside it. */
        if (pos + chunk < b64_len && memchr(b64 + pos, '=', chunk) != NULL)
            return PSI_ERR_PARSE;
        if (sodium_base642bin(slice, sizeof slice, b64 + pos, chunk, NULL, &got, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            end != b64 + pos + chunk)
            return PSI_ERR_PARSE;
        if (out != NULL && total < out_cap) {
            size_t take = out_cap - total < got ? out_cap - total : got;
            memcpy(out + total, slice, take);
        }
        total += got;
        pos += chunk;
    }
    *decoded_len = total;
    return PSI_OK;
}

size_t psi_tlog_b64_len(size_t len)
{
    return (len + 2U) / 3U * 4U;
}

void psi_tlog_b64_encode(char *out, const unsigned char *bin, size_t len)
{
    /* sodium_bin2base64 insists on a NUL; encode slice by slice through a
     * small buffer so the caller needs no room for it. */
    size_t pos = 0;
    while (pos < len) {
        char text[B64_SLICE_CHARS + 1U];
        size_t chunk = len - pos < B64_SLICE_BYTES ? len - pos : B64_SLICE_BYTES;
        size_t chars = psi_tlog_b64_len(chunk);
        sodium_bin2base64(text, sizeof text, bin + pos, chunk, sodium_base64_VARIANT_ORIGINAL);
        memcpy(out, text, chars);
        out += chars;
        pos += chunk;
    }
}

/* Decodes one UTF-8 sequence at s[0..len); returns its length (1..4) and the
 * code point, or 0 if the bytes there are not valid UTF-8. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
    uint32_t c = s[0];
    size_t n;
    uint32_t min;

    if (c < 0x80U) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2U && c <= 0xDFU) {
        n = 2;
        c &= 0x1FU;
        min = 0x80U;
    } else if (c >= 0xE0U && c <= 0xEFU) {
        n = 3;
        c &= 0x0FU;
        min = 0x800U;
    } else if (c >= 0xF0U && c <= 0xF4U) {
        n = 4;
        c &= 0x07U;
        min = 0x10000U;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0U) != 0x80U)
            return 0;
        c = (c << 6) | (s[i] & 0x3FU);
    }
    if (c < min || c > 0x10FFFFU || (c >= 0xD800U && c <= 0xDFFFU))
        return 0;
    *cp = c;
    return n;
}

int psi_tlog_text_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp = 0;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0)
            return 0;
        if (cp < 0x20U && cp != '\n')
            return 0;
        i += n;
    }
    return 1;
}

/* Unicode White_Space (what Go's unicode.IsSpace and the C2SP wording mean by
 * "Unicode spaces"). */
static int is_unicode_space(uint32_t cp)
{
    static const uint32_t singles[] = {0x09, 0x0A,   0x0B,   0x0C,   0x0D,   0x20,   0x85,
                                       0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
    for (size_t i = 0; i < sizeof singles / sizeof singles[0]; i++) {
        if (cp == singles[i])
            return 1;
    }
    return cp >= 0x2000U && cp <= 0x200AU;
}

int psi_tlog_name_ok(const char *s, size_t len, size_t max_len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    if (len == 0 || len > max_len)
        return 0;
    while (i < len) {
        uint32_t cp = 0;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0)
            return 0;
        if (cp == '+' || cp < 0x20U || cp == 0x7FU || is_unicode_space(cp))
            return 0;
        i += n;
    }
    return 1;
}

int psi_tlog_parse_u64(const char *s, size_t len, uint64_t *value)
{
    uint64_t v = 0;
    *value = 0;
    if (len == 0 || len > PSI_TLOG_U64_DIGITS)
        return PSI_ERR_PARSE;
    if (s[0] == '0' && len > 1)
        return PSI_ERR_PARSE;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return PSI_ERR_PARSE;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10U)
            return PSI_ERR_PARSE;
        v = v * 10U + d;
    }
    *value = v;
    return PSI_OK;
}

size_t psi_tlog_format_u64(char out[PSI_TLOG_U64_DIGITS], uint64_t v)
{
    char rev[PSI_TLOG_U64_DIGITS];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + (int)(v % 10U));
        v /= 10U;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = rev[n - 1 - i];
    return n;
}

void psi_tlog_out_bytes(struct psi_tlog_out *o, const void *bytes, size_t len)
{
    if (!o->overflow && len <= o->cap - o->len) {
        /* memmove: a caller may append text that already sits in place. */
        if (len > 0)
            memmove(o->buf + o->len, bytes, len);
    } else {
        o->overflow = 1;
    }
    /* Keep counting past an overflow so the caller learns the size needed. */
    o->len += len;
}

void psi_tlog_out_str(struct psi_tlog_out *o, const char *s)
{
    psi_tlog_out_bytes(o, s, strlen(s));
}

void psi_tlog_out_u64(struct psi_tlog_out *o, uint64_t v)
{
    char digits[PSI_TLOG_U64_DIGITS];
    size_t n = psi_tlog_format_u64(digits, v);
    psi_tlog_out_bytes(o, digits, n);
}

void psi_tlog_out_b64(struct psi_tlog_out *o, const unsigned char *bin, size_t len)
{
    size_t chars = psi_tlog_b64_len(len);
    if (!o->overflow && chars <= o->cap - o->len)
        psi_tlog_b64_encode(o->buf + o->len, bin, len);
    else
        o->overflow = 1;
    o->len += chars;
}

int psi_tlog_out_finish(struct psi_tlog_out *o, size_t *out_len)
{
    if (out_len != NULL)
        *out_len = o->len;
    if (o->overflow || o->len >= o->cap) {
        /* No room for the NUL either: callers size buffers with it. */
        return PSI_ERR_TOO_LARGE;
    }
    o->buf[o->len] = '\0';
    return PSI_OK;
}
