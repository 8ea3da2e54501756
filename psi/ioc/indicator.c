/*
 * Canonical indicators: the rules of docs/protocol.md "Indicators", in one place.
 * The header states every rule; comments here say why a step is shaped so.
 */
#include "psi/indicator.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <libpsl.h>

#include "psi/error.h"

/* Outcome of a parser that tries one reading of a value. NO means "not this
 * type" (the caller tries the next reading); SKIP means "this type, but
 * refused" with the reason beside it. */
enum reading { READ_OK, READ_NO, READ_SKIP };

/* ---- names ------------------------------------------------------------ */

/*
 * The indicator types: the name each has in "type:value" (what the protocol
 * hashes, so a name never changes) and, for file hashes, the number of hex
 * digits. Indexed by enum psi_ioc_type.
 *
 * To add an indicator type, touch these (docs/changes.md walks through it):
 *   1. psi/include/psi/indicator.h: its enumerator (at the end, before the
 *      count), PSI_IOC_TYPE_COUNT, its rule in the header comment, and
 *      PSI_IOC_RULES_VERSION + 1 (parties under other rules never match).
 *   2. This table: its name (and its hex length if it is a file hash: then
 *      nothing else in this file changes).
 *   3. Its case in psi_ioc_canonicalise_as (the compiler warns until it
 *      has one): a file hash goes to canon_hash; any other type gets its
 *      canonicaliser here, also called from psi_ioc_canonicalise in the
 *      documented order if it can be recognised untyped.
 *   4. The readers: the MISP types that carry it (misp_types in
 *      ioc_reader.c), the STIX paths (stix_path_kind in ioc_json.c).
 *   5. Tests: indicator_test.c (every spelling and every refusal),
 *      ioc_reader_test.c (each format it comes in), a seed in
 *      tests/fuzz/seeds/fuzz_ioc_canonical/.
 *   6. docs/indicators.md.
 *   7. Outside libpsi, one place: client/results_export.c, its STIX pattern
 *      (stix_pattern) and MISP type (psi_results_misp_type) for the exports.
 */
static const struct type_rule {
    const char *name;
    size_t hex_len; /* a file hash: its hex digits; 0 for other types */
} types[PSI_IOC_TYPE_COUNT] = {
    [PSI_IOC_NONE] = {"none", 0},      [PSI_IOC_IPV4] = {"ipv4", 0},
    [PSI_IOC_IPV6] = {"ipv6", 0},      [PSI_IOC_CIDR4] = {"cidr4", 0},
    [PSI_IOC_CIDR6] = {"cidr6", 0},    [PSI_IOC_DOMAIN] = {"domain", 0},
    [PSI_IOC_EMAIL] = {"email", 0},    [PSI_IOC_URL] = {"url", 0},
    [PSI_IOC_MD5] = {"md5", 32},       [PSI_IOC_SHA1] = {"sha1", 40},
    [PSI_IOC_SHA256] = {"sha256", 64}, [PSI_IOC_SHA512] = {"sha512", 128},
};

static const char *const skip_names[PSI_IOC_SKIP_COUNT] = {
    "unsupported", "malformed", "reserved",          "generic",  "too-long",
    "ambiguous",   "filename",  "not-for-detection", "excluded",
};

const char *psi_ioc_type_name(enum psi_ioc_type type)
{
    if ((unsigned)type >= PSI_IOC_TYPE_COUNT)
        return "none";
    return types[type].name;
}

int psi_ioc_type_from_name(const char *name, enum psi_ioc_type *type)
{
    if (name == NULL || type == NULL)
        return PSI_ERR_INVALID;
    for (unsigned i = 1; i < PSI_IOC_TYPE_COUNT; i++) {
        if (strcmp(name, types[i].name) == 0) {
            *type = (enum psi_ioc_type)i;
            return PSI_OK;
        }
    }
    return PSI_ERR_NOT_FOUND;
}

const char *psi_ioc_skip_name(enum psi_ioc_skip reason)
{
    if ((unsigned)reason >= PSI_IOC_SKIP_COUNT)
        return "unknown";
    return skip_names[reason];
}

/* ---- small byte helpers (locale-free on purpose: rules must not depend on
 * the environment of the process that applies them) ----------------------- */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_value(unsigned char c)
{
    if (is_digit(c))
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a' + 10);
    return (unsigned)(c - 'A' + 10);
}

static unsigned char to_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static bool has_prefix_ci(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (to_lower((unsigned char)s[i]) != (unsigned char)prefix[i])
            return false;
    return true;
}

static bool equals_ci(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && has_prefix_ci(s, len, word);
}

static const char *find_byte(const char *s, size_t len, char c)
{
    return len == 0 ? NULL : memchr(s, c, len);
}

static size_t count_byte(const char *s, size_t len, char c)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == c;
    return n;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF): values end up
 * in JSON output and in other parties' tools, which reject anything else. */
static bool valid_utf8(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0u) != 0x80u)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* Store a canonical value; too long values are a skip, not a truncation. */
static enum reading set_value(struct psi_ioc *out, enum psi_ioc_type type, const char *value,
                              size_t len, enum psi_ioc_skip *why)
{
    if (len > PSI_IOC_VALUE_MAX) {
        *why = PSI_IOC_SKIP_TOO_LONG;
        return READ_SKIP;
    }
    memcpy(out->value, value, len);
    out->value[len] = '\0';
    out->len = len;
    out->type = type;
    return READ_OK;
}

/* ---- refanging ---------------------------------------------------------- */

struct refang_rule {
    const char *from; /* matched case-insensitively */
    const char *to;
};

static const struct refang_rule refang_rules[] = {
    {"[.]", "."}, {"(.)", "."},     {"{.}", "."},  {"[dot]", "."}, {"(dot)", "."}, {"{dot}", "."},
    {"[:]", ":"}, {"[://]", "://"}, {"[at]", "@"}, {"(at)", "@"},  {"[@]", "@"},
};

/* Rewrites s in place and returns the new length. Every mark ends with a
 * closing bracket, so each time one is copied the output's tail is checked
 * against the marks: nested forms such as "[[.]]" reduce completely and the
 * result never holds a mark (refanging a canonical value changes nothing). */
static size_t refang(char *s, size_t len)
{
    size_t w = 0;
    for (size_t r = 0; r < len; r++) {
        char c = s[r];
        s[w++] = c;
        if (c != ']' && c != ')' && c != '}')
            continue;
        for (size_t k = 0; k < sizeof refang_rules / sizeof refang_rules[0]; k++) {
            const struct refang_rule *rule = &refang_rules[k];
            size_t n = strlen(rule->from);
            if (w >= n && has_prefix_ci(s + w - n, n, rule->from)) {
                size_t m = strlen(rule->to);
                w -= n;
                memcpy(s + w, rule->to, m);
                w += m;
                break;
            }
        }
    }
    return w;
}

/* hxxp, hXXp, h**p (and their "s" forms) only as the scheme of a URL: a
 * name such as hxxpfoo.com is data. */
static void refang_scheme(char *s, size_t len)
{
    if (len < 7 || to_lower((unsigned char)s[0]) != 'h' || to_lower((unsigned char)s[3]) != 'p')
        return;
    bool marked = (to_lower((unsigned char)s[1]) == 'x' && to_lower((unsigned char)s[2]) == 'x') ||
                  (s[1] == '*' && s[2] == '*');
    size_t rest = (to_lower((unsigned char)s[4]) == 's') ? 5 : 4;
    if (marked && len - rest >= 3 && memcmp(s + rest, "://", 3) == 0)
        memcpy(s, "http", 4);
}

static bool is_trim_byte(unsigned char c)
{
    return is_space(c) || c == '"' || c == '\'' || c == '`';
}

/* Copies the input to work (which holds PSI_IOC_INPUT_MAX + 1 bytes),
 * trims, refangs, trims again. Returns false if the input is too long. */
static bool prepare(const char *in, size_t len, char *work, size_t *work_len)
{
    while (len > 0 && is_trim_byte((unsigned char)in[0])) {
        in++;
        len--;
    }
    while (len > 0 && is_trim_byte((unsigned char)in[len - 1]))
        len--;
    if (len > PSI_IOC_INPUT_MAX)
        return false;
    memcpy(work, in, len);
    len = refang(work, len);
    size_t start = 0;
    while (start < len && is_trim_byte((unsigned char)work[start]))
        start++;
    while (len > start && is_trim_byte((unsigned char)work[len - 1]))
        len--;
    memmove(work, work + start, len - start);
    len -= start;
    refang_scheme(work, len);
    work[len] = '\0';
    *work_len = len;
    return true;
}

/* ---- addresses ---------------------------------------------------------- */

/* A decimal number of at most max_digits digits, no sign. */
static bool parse_decimal(const char *s, size_t len, size_t max_digits, unsigned long *value)
{
    if (len == 0 || len > max_digits)
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *value = v;
    return true;
}

static bool parse_port(const char *s, size_t len)
{
    unsigned long port;
    return parse_decimal(s, len, 5, &port) && port >= 1 && port <= 65535;
}

/* Dotted quad. NO unless the value is four dot-separated digit groups; a
 * group over 255 is malformed, a leading zero is ambiguous (octal to
 * inet_aton, decimal to a person). */
static enum reading parse_ipv4(const char *s, size_t len, unsigned char addr[4],
                               enum psi_ioc_skip *why)
{
    size_t part = 0, start = 0;
    bool leading_zero = false, too_big = false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && is_digit((unsigned char)s[i]))
            continue;
        if ((i < len && s[i] != '.') || part == 4 || i == start)
            return READ_NO;
        size_t n = i - start;
        unsigned long v = 256;
        if (n <= 3)
            (void)parse_decimal(s + start, n, 3, &v);
        if (v > 255)
            too_big = true;
        if (n > 1 && s[start] == '0')
            leading_zero = true;
        addr[part++] = (unsigned char)(v & 0xffu);
        start = i + 1;
    }
    if (part != 4)
        return READ_NO;
    if (too_big) {
        *why = PSI_IOC_SKIP_MALFORMED;
        return READ_SKIP;
    }
    if (leading_zero) {
        *why = PSI_IOC_SKIP_AMBIGUOUS;
        return READ_SKIP;
    }
    return READ_OK;
}

struct prefix_rule {
    unsigned char net[4];
    unsigned bits;
};

/* Addresses no two parties can share meaningfully (RFC 6890 special use,
 * minus the documentation ranges that examples and tests rely on). */
static const struct prefix_rule reserved_v4[] = {
    {{0, 0, 0, 0}, 8},      {{10, 0, 0, 0}, 8},    {{100, 64, 0, 0}, 10},  {{127, 0, 0, 0}, 8},
    {{169, 254, 0, 0}, 16}, {{172, 16, 0, 0}, 12}, {{192, 168, 0, 0}, 16}, {{198, 18, 0, 0}, 15},
    {{224, 0, 0, 0}, 4},    {{240, 0, 0, 0}, 4},
};

/* Public resolvers: every network talks to them, so a match says nothing. */
static const unsigned char resolvers_v4[][4] = {
    {8, 8, 8, 8}, {8, 8, 4, 4},         {1, 1, 1, 1},        {1, 0, 0, 1},
    {9, 9, 9, 9}, {149, 112, 112, 112}, {208, 67, 222, 222}, {208, 67, 220, 220},
};

static uint32_t v4_word(const unsigned char a[4])
{
    return ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
}

static uint32_t v4_mask(unsigned bits)
{
    return bits == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - bits));
}

static enum reading classify_ipv4(const unsigned char a[4], enum psi_ioc_skip *why)
{
    uint32_t w = v4_word(a);
    for (size_t i = 0; i < sizeof reserved_v4 / sizeof reserved_v4[0]; i++) {
        uint32_t m = v4_mask(reserved_v4[i].bits);
        if ((w & m) == v4_word(reserved_v4[i].net)) {
            *why = PSI_IOC_SKIP_RESERVED;
            return READ_SKIP;
        }
    }
    for (size_t i = 0; i < sizeof resolvers_v4 / sizeof resolvers_v4[0]; i++) {
        if (memcmp(a, resolvers_v4[i], 4) == 0) {
            *why = PSI_IOC_SKIP_GENERIC;
            return READ_SKIP;
        }
    }
    return READ_OK;
}

static size_t format_ipv4(const unsigned char a[4], char *out)
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (i > 0)
            out[n++] = '.';
        if (v >= 100)
            out[n++] = (char)('0' + v / 100);
        if (v >= 10)
            out[n++] = (char)('0' + (v / 10) % 10);
        out[n++] = (char)('0' + v % 10);
    }
    out[n] = '\0';
    return n;
}

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

static bool is_v4_mapped(const unsigned char a[16])
{
    static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, prefix, 12) == 0;
}

/* RFC 5952: lower case, no leading zeros, the longest run of two or more zero
 * groups as "::" (the first such run on a tie), dotted IPv4 tail only for the
 * well-known prefixes that embed one. out holds at least 46 bytes. */
static size_t format_ipv6(const unsigned char a[16], char *out)
{
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    unsigned groups[8];
    int ngroups = 8;
    bool dotted = memcmp(a, nat64, 12) == 0 || memcmp(a, translated, 12) == 0;
    if (dotted)
        ngroups = 6;
    for (size_t i = 0; i < 8; i++)
        groups[i] = ((unsigned)a[2 * i] << 8) | a[2 * i + 1];
    int best = -1, best_len = 0;
    for (int i = 0; i < ngroups;) {
        if (groups[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < ngroups && groups[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2)
        best = -1;
    size_t n = 0;
    for (int i = 0; i < ngroups; i++) {
        if (i == best) {
            out[n++] = ':';
            if (i == 0)
                out[n++] = ':';
            i += best_len - 1;
            continue;
        }
        unsigned g = groups[i];
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            unsigned d = (g >> shift) & 0xfu;
            if (d != 0 || started || shift == 0) {
                out[n++] = hex_lower[d];
                started = true;
            }
        }
        if (i < ngroups - 1 || dotted)
            out[n++] = ':';
    }
    if (dotted) {
        n += format_ipv4(a + 12, out + n);
    }
    out[n] = '\0';
    return n;
}

static const unsigned char resolvers_v6[][16] = {
    {0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x88},
    {0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x44},
    {0x26, 0x06, 0x47, 0x00, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x11},
    {0x26, 0x06, 0x47, 0x00, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x01},
    {0x26, 0x20, 0x00, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0xfe},
    {0x26, 0x20, 0x00, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x09},
};

static enum reading classify_ipv6(const unsigned char a[16], enum psi_ioc_skip *why)
{
    static const unsigned char zero[16] = {0};
    static const unsigned char discard[8] = {0x01, 0x00, 0, 0, 0, 0, 0, 0};
    bool reserved = (memcmp(a, zero, 15) == 0 && a[15] <= 1) || /* unspecified, loopback */
                    a[0] == 0xff ||                             /* multicast */
                    /* link-local fe80::/10, site-local fec0::/10 */
                    (a[0] == 0xfe && (a[1] & 0x80u) != 0) ||
                    (a[0] & 0xfeu) == 0xfc ||   /* unique local fc00::/7 */
                    memcmp(a, discard, 8) == 0; /* discard-only 100::/64 */
    if (reserved) {
        *why = PSI_IOC_SKIP_RESERVED;
        return READ_SKIP;
    }
    for (size_t i = 0; i < sizeof resolvers_v6 / sizeof resolvers_v6[0]; i++) {
        if (memcmp(a, resolvers_v6[i], 16) == 0) {
            *why = PSI_IOC_SKIP_GENERIC;
            return READ_SKIP;
        }
    }
    return READ_OK;
}

/* IPv6 text through inet_pton, after our own shape check so that the libc's
 * leniencies do not become protocol. A zone ("%eth0") only makes sense on a
 * link-local address, which is reserved anyway. */
static enum reading parse_ipv6(const char *s, size_t len, unsigned char addr[16],
                               enum psi_ioc_skip *why)
{
    char text[64];
    if (len < 2 || count_byte(s, len, ':') < 2)
        return READ_NO;
    const char *zone = find_byte(s, len, '%');
    size_t addr_len = zone ? (size_t)(zone - s) : len;
    for (size_t i = 0; i < addr_len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_hex(c) && c != ':' && c != '.')
            return READ_NO;
    }
    if (addr_len >= sizeof text) {
        *why = PSI_IOC_SKIP_MALFORMED;
        return READ_SKIP;
    }
    memcpy(text, s, addr_len);
    text[addr_len] = '\0';
    struct in6_addr in6;
    if (inet_pton(AF_INET6, text, &in6) != 1) {
        *why = PSI_IOC_SKIP_MALFORMED;
        return READ_SKIP;
    }
    memcpy(addr, &in6, 16);
    if (zone != NULL) {
        if (addr[0] == 0xfe && (addr[1] & 0xc0u) == 0x80u) {
            *why = PSI_IOC_SKIP_RESERVED;
        } else {
            *why = PSI_IOC_SKIP_MALFORMED;
        }
        return READ_SKIP;
    }
    return READ_OK;
}

static enum reading emit_ipv4(const unsigned char a[4], struct psi_ioc *out, enum psi_ioc_skip *why)
{
    char text[16];
    if (classify_ipv4(a, why) != READ_OK)
        return READ_SKIP;
    size_t n = format_ipv4(a, text);
    return set_value(out, PSI_IOC_IPV4, text, n, why);
}

static enum reading emit_ipv6(const unsigned char a[16], struct psi_ioc *out,
                              enum psi_ioc_skip *why)
{
    char text[64];
    if (is_v4_mapped(a))
        return emit_ipv4(a + 12, out, why);
    if (classify_ipv6(a, why) != READ_OK)
        return READ_SKIP;
    size_t n = format_ipv6(a, text);
    return set_value(out, PSI_IOC_IPV6, text, n, why);
}

/* A range: host bits must be zero (refused as ambiguous otherwise: a typo of
 * the host or of the range?), /32 and /128 are single addresses, ranges wider
 * than /8 or /16 say nothing. */
static enum reading emit_cidr4(const unsigned char a[4], unsigned long bits, struct psi_ioc *out,
                               enum psi_ioc_skip *why)
{
    if (bits > 32) {
        *why = PSI_IOC_SKIP_MALFORMED;
        return READ_SKIP;
    }
    if (bits == 32)
        return emit_ipv4(a, out, why);
    uint32_t w = v4_word(a);
    if ((w & ~v4_mask((unsigned)bits)) != 0) {
        *why = PSI_IOC_SKIP_AMBIGUOUS;
        return READ_SKIP;
    }
    if (bits < 8) {
        *why = PSI_IOC_SKIP_GENERIC;
        return READ_SKIP;
    }
    if (classify_ipv4(a, why) != READ_OK)
        return READ_SKIP;
    char text[24];
    size_t n = format_ipv4(a, text);
    text[n++] = '/';
    if (bits >= 10)
        text[n++] = (char)('0' + bits / 10);
    text[n++] = (char)('0' + bits % 10);
    return set_value(out, PSI_IOC_CIDR4, text, n, why);
}

static enum reading emit_cidr6(const unsigned char a[16], unsigned long bits, struct psi_ioc *out,
                               enum psi_ioc_skip *why)
{
    if (bits > 128) {
        *why = PSI_IOC_SKIP_MALFORMED;
        return READ_SKIP;
    }
    if (bits == 128)
        return emit_ipv6(a, out, why);
    for (unsigned long i = 0; i < 16; i++) {
        /* the bits of byte i inside the prefix */
        unsigned keep = bits >= 8 * (i + 1) ? 8 : (bits > 8 * i ? (unsigned)(bits - 8 * i) : 0);
        unsigned char host_mask = (unsigned char)(0xffu >> keep);
        if ((a[i] & host_mask) != 0) {
            *why = PSI_IOC_SKIP_AMBIGUOUS;
            return READ_SKIP;
        }
    }
    if (is_v4_mapped(a) && bits >= 96)
        return emit_cidr4(a + 12, bits - 96, out, why);
    if (bits < 16) {
        *why = PSI_IOC_SKIP_GENERIC;
        return READ_SKIP;
    }
    if (classify_ipv6(a, why) != READ_OK)
        return READ_SKIP;
    char text[64];
    size_t n = format_ipv6(a, text);
    text[n++] = '/';
    if (bits >= 100)
        text[n++] = (char)('0' + bits / 100);
    text[n++] = (char)('0' + (bits / 10) % 10); /* bits >= 16 here */
    text[n++] = (char)('0' + bits % 10);
    return set_value(out, PSI_IOC_CIDR6, text, n, why);
}

/*
 * An address or a range, in any of the forms lists use: a.b.c.d, IPv6 text,
 * [v6], [v6]:port, a.b.c.d:port, the netstat form a.b.c.d.port, x/prefix.
 * Ports are dropped: a port is not an indicator, the host is.
 */
static enum reading canon_address(const char *s, size_t len, struct psi_ioc *out,
                                  enum psi_ioc_skip *why)
{
    unsigned char a4[4], a6[16];
    enum reading r;
    if (len == 0)
        return READ_NO;
    if (s[0] == '[') {
        const char *close = find_byte(s, len, ']');
        if (close == NULL)
            return READ_NO;
        size_t inner = (size_t)(close - s) - 1;
        size_t rest = len - inner - 2;
        const char *after = close + 1;
        if (rest > 0 && (after[0] != ':' || !parse_port(after + 1, rest - 1)))
            return READ_NO;
        r = parse_ipv6(s + 1, inner, a6, why);
        if (r != READ_OK)
            return r;
        return emit_ipv6(a6, out, why);
    }
    const char *slash = find_byte(s, len, '/');
    if (slash != NULL) {
        size_t addr_len = (size_t)(slash - s);
        unsigned long bits;
        if (!parse_decimal(slash + 1, len - addr_len - 1, 3, &bits))
            return READ_NO;
        if (len - addr_len - 1 > 1 && slash[1] == '0') {
            r = parse_ipv4(s, addr_len, a4, why);
            if (r == READ_NO)
                r = parse_ipv6(s, addr_len, a6, why);
            if (r == READ_NO)
                return READ_NO;
            *why = PSI_IOC_SKIP_MALFORMED;
            return READ_SKIP;
        }
        r = parse_ipv4(s, addr_len, a4, why);
        if (r == READ_OK)
            return emit_cidr4(a4, bits, out, why);
        if (r == READ_SKIP)
            return r;
        r = parse_ipv6(s, addr_len, a6, why);
        if (r == READ_OK)
            return emit_cidr6(a6, bits, out, why);
        return r;
    }
    size_t colons = count_byte(s, len, ':');
    if (colons >= 2) {
        r = parse_ipv6(s, len, a6, why);
        if (r != READ_OK)
            return r;
        return emit_ipv6(a6, out, why);
    }
    if (colons == 1) {
        const char *colon = find_byte(s, len, ':');
        size_t host_len = (size_t)(colon - s);
        if (!parse_port(colon + 1, len - host_len - 1))
            return READ_NO;
        r = parse_ipv4(s, host_len, a4, why);
        if (r != READ_OK)
            return r;
        return emit_ipv4(a4, out, why);
    }
    r = parse_ipv4(s, len, a4, why);
    if (r == READ_OK)
        return emit_ipv4(a4, out, why);
    if (r == READ_SKIP)
        return r;
    /* netstat prints "a.b.c.d.port": five numeric groups are never a name. */
    if (count_byte(s, len, '.') == 4) {
        const char *dot = s + len;
        while (dot > s && dot[-1] != '.')
            dot--;
        size_t host_len = (size_t)(dot - s) - 1;
        if (!parse_port(dot, len - host_len - 1))
            return READ_NO;
        r = parse_ipv4(s, host_len, a4, why);
        if (r != READ_OK)
            return r;
        return emit_ipv4(a4, out, why);
    }
    return READ_NO;
}

/* ---- domains ------------------------------------------------------------ */

/* Names that resolve only inside one network, or not at all. */
static const char *const generic_tlds[] = {
    "localhost", "local", "localdomain", "internal", "lan", "invalid",
};

/* Common file extensions: in untyped input, "update.exe" is a file name. A
 * few of them are also delegated TLDs (zip, mov, py: Paraguay registers
 * only below com.py and the like); typed input keeps those. Extensions that
 * are busy TLDs (pl, sh, so, md) are not guessed at. */
static const char *const file_extensions[] = {
    "7z",   "adoc", "apk",  "asp", "aspx", "bak",  "bat",  "bin", "cab",  "cfg",  "cmd",
    "conf", "cpl",  "csv",  "dat", "db",   "dll",  "dmg",  "doc", "docm", "docx", "drv",
    "elf",  "exe",  "gif",  "gz",  "hta",  "htm",  "html", "img", "ini",  "iso",  "jar",
    "jpeg", "jpg",  "js",   "jse", "json", "jsp",  "lnk",  "log", "mov",  "msi",  "nls",
    "ocx",  "pdf",  "php",  "png", "ppt",  "pptm", "pptx", "ps1", "py",   "rar",  "rst",
    "rtf",  "save", "scr",  "sys", "tar",  "tmp",  "txt",  "vbe", "vbs",  "wsf",  "xls",
    "xlsb", "xlsm", "xlsx", "xml", "yaml", "yml",  "zip",
};

static bool in_list(const char *label, size_t len, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], label, len) == 0)
            return true;
    return false;
}

/* Converts one non-ASCII label (NUL-terminated UTF-8) to its A-label and
 * appends it. */
static enum reading idna_label(const char *label, char *out, size_t *n, size_t cap,
                               enum psi_ioc_skip *why)
{
    uint8_t *alabel = NULL;
    int rc = idn2_lookup_u8((const uint8_t *)label, &alabel, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        idn2_free(alabel);
        *why = rc == IDN2_TOO_BIG_LABEL || rc == IDN2_TOO_BIG_DOMAIN ? PSI_IOC_SKIP_TOO_LONG
                                                                     : PSI_IOC_SKIP_MALFORMED;
        return READ_SKIP;
    }
    size_t m = strlen((const char *)alabel);
    enum reading r = READ_OK;
    bool ldh = m > 0;
    for (size_t i = 0; i < m; i++) {
        unsigned char c = alabel[i];
        if (!(c >= 'a' && c <= 'z') && !is_digit(c) && c != '-' && c != '_')
            ldh = false;
    }
    if (!ldh) {
        *why = PSI_IOC_SKIP_MALFORMED;
        r = READ_SKIP;
    } else if (*n + m > cap) {
        *why = PSI_IOC_SKIP_TOO_LONG;
        r = READ_SKIP;
    } else {
        memcpy(out + *n, alabel, m);
        *n += m;
    }
    idn2_free(alabel);
    return r;
}

/* The three Unicode full stops IDNA treats as label separators. */
static size_t dot_separator_len(const char *s, size_t len)
{
    static const char *const dots[] = {"\xe3\x80\x82", "\xef\xbc\x8e", "\xef\xbd\xa1"};
    for (size_t i = 0; i < 3; i++)
        if (len >= 3 && memcmp(s, dots[i], 3) == 0)
            return 3;
    return s[0] == '.' ? 1 : 0;
}

/*
 * A host name. untyped: the value came without a type, so a file-like name
 * is refused and failures are "not a domain" (NO) rather than malformed.
 * out must hold PSI_IOC_DOMAIN_MAX + 1 bytes.
 */
static enum reading canon_domain_text(const char *s, size_t len, bool untyped, char *out,
                                      size_t *out_len, enum psi_ioc_skip *why)
{
    char label[PSI_IOC_INPUT_MAX + 1];
    size_t n = 0, labels = 0, last_start = 0;
    enum reading fail = untyped ? READ_NO : READ_SKIP;
    *why = PSI_IOC_SKIP_MALFORMED;
    if (len > 0 && s[len - 1] == '.')
        len--; /* the root label: "evil.com." is "evil.com" */
    if (len == 0 || !valid_utf8(s, len))
        return fail;
    size_t i = 0;
    while (i <= len) {
        size_t start = i;
        size_t sep = 0;
        while (i < len && (sep = dot_separator_len(s + i, len - i)) == 0)
            i++;
        size_t llen = i - start;
        if (llen == 0)
            return fail; /* "a..b", ".a" */
        if (labels > 0) {
            if (n + 1 > PSI_IOC_DOMAIN_MAX) {
                *why = PSI_IOC_SKIP_TOO_LONG;
                return READ_SKIP;
            }
            out[n++] = '.';
        }
        last_start = n;
        bool ascii = true;
        for (size_t k = start; k < i; k++)
            if ((unsigned char)s[k] >= 0x80)
                ascii = false;
        if (ascii) {
            /* characters first: a long run of junk is "not a name" in
             * untyped text, not a name that is too long */
            for (size_t k = start; k < i; k++) {
                unsigned char c = (unsigned char)s[k];
                if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
                    return fail;
            }
            if (llen > PSI_IOC_LABEL_MAX || n + llen > PSI_IOC_DOMAIN_MAX) {
                *why = PSI_IOC_SKIP_TOO_LONG;
                return READ_SKIP;
            }
            for (size_t k = start; k < i; k++)
                out[n++] = (char)to_lower((unsigned char)s[k]);
            if (out[last_start] == '-' || out[n - 1] == '-')
                return fail;
            if (llen >= 4 && memcmp(out + last_start, "xn--", 4) == 0) {
                /* An A-label as given must be one libidn2 would produce. */
                memcpy(label, out + last_start, llen);
                label[llen] = '\0';
                size_t m = last_start;
                enum reading r = idna_label(label, out, &m, PSI_IOC_DOMAIN_MAX, why);
                if (r != READ_OK)
                    return untyped && *why == PSI_IOC_SKIP_MALFORMED ? READ_NO : r;
                if (m != n || memcmp(out + last_start, label, llen) != 0) {
                    *why = PSI_IOC_SKIP_MALFORMED;
                    return fail;
                }
            }
        } else {
            memcpy(label, s + start, llen);
            label[llen] = '\0';
            enum reading r = idna_label(label, out, &n, PSI_IOC_DOMAIN_MAX, why);
            if (r != READ_OK)
                return untyped && *why == PSI_IOC_SKIP_MALFORMED ? READ_NO : r;
            if (n - last_start > PSI_IOC_LABEL_MAX) {
                *why = PSI_IOC_SKIP_TOO_LONG;
                return READ_SKIP;
            }
        }
        labels++;
        i += sep;
        if (sep == 0)
            break;
        if (i == len)
            return fail; /* a separator at the end, after the root dot */
    }
    out[n] = '\0';
    const char *tld = out + last_start;
    size_t tld_len = n - last_start;
    if (labels < 2) {
        /* A bare top-level label: generic when it was meant as a name; in
         * untyped text just a word, unless it is "localhost". */
        *why = PSI_IOC_SKIP_GENERIC;
        if (untyped && strcmp(out, "localhost") != 0)
            return READ_NO;
        return READ_SKIP;
    }
    if (in_list(tld, tld_len, generic_tlds, sizeof generic_tlds / sizeof generic_tlds[0]) ||
        (n >= 10 && memcmp(out + n - 10, ".home.arpa", 10) == 0)) {
        *why = PSI_IOC_SKIP_GENERIC;
        return READ_SKIP;
    }
    /* Top-level labels are letters (or an A-label): "1.2.3.4.5" and
     * "version.2" are not names. */
    bool tld_ok = tld_len >= 2;
    if (tld_len >= 4 && memcmp(tld, "xn--", 4) == 0) {
        tld_ok = true;
    } else {
        for (size_t k = 0; k < tld_len; k++)
            if (!is_alpha((unsigned char)tld[k]))
                tld_ok = false;
    }
    if (!tld_ok) {
        *why = PSI_IOC_SKIP_MALFORMED;
        return fail;
    }
    if (untyped && in_list(tld, tld_len, file_extensions,
                           sizeof file_extensions / sizeof file_extensions[0])) {
        *why = PSI_IOC_SKIP_FILENAME;
        return READ_SKIP;
    }
    *out_len = n;
    return READ_OK;
}

/*
 * A name that is itself a public suffix ("co.uk", "github.io") is held by
 * every customer of a registry or a hosting service: a match on it says
 * nothing. The list is libpsl's built-in one (a copy of the Public Suffix
 * List taken when libpsl was built: the same on every machine with the same
 * libpsl package, unlike psl_latest(), which prefers whatever file the
 * system holds). Both sections count (ICANN and private: "github.io" is a
 * private-section entry). The "*" default rule is left out: an unknown
 * top-level label does not make "foo.unknowntld" a suffix; bare labels are
 * refused before this anyway. Canonical names are lower-case A-labels,
 * which libpsl matches.
 */
static bool is_public_suffix(const char *name)
{
    const psl_ctx_t *psl = psl_builtin();
    return psl != NULL && psl_is_public_suffix2(psl, name, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE);
}

static enum reading canon_domain(const char *s, size_t len, bool untyped, struct psi_ioc *out,
                                 enum psi_ioc_skip *why)
{
    char name[PSI_IOC_DOMAIN_MAX + 1];
    size_t n;
    enum reading r = canon_domain_text(s, len, untyped, name, &n, why);
    if (r != READ_OK)
        return r;
    return set_value(out, PSI_IOC_DOMAIN, name, n, why);
}

/* "host:port" with a name as host; the port is dropped. */
static enum reading canon_host_port(const char *s, size_t len, bool untyped, struct psi_ioc *out,
                                    enum psi_ioc_skip *why)
{
    const char *colon = find_byte(s, len, ':');
    if (colon == NULL || count_byte(s, len, ':') != 1)
        return READ_NO;
    size_t host_len = (size_t)(colon - s);
    if (!parse_port(colon + 1, len - host_len - 1))
        return READ_NO;
    return canon_domain(s, host_len, untyped, out, why);
}

/* ---- e-mail ------------------------------------------------------------- */

static bool local_part_ok(const char *s, size_t len)
{
    static const char forbidden[] = " @<>()[]\\,;:\"";
    if (len == 0 || len > PSI_IOC_EMAIL_LOCAL_MAX || !valid_utf8(s, len))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_control(c) || memchr(forbidden, c, sizeof forbidden - 1) != NULL)
            return false;
    }
    return true;
}

static enum reading canon_email(const char *s, size_t len, bool untyped, struct psi_ioc *out,
                                enum psi_ioc_skip *why)
{
    enum reading fail = untyped ? READ_NO : READ_SKIP;
    *why = PSI_IOC_SKIP_MALFORMED;
    if (has_prefix_ci(s, len, "mailto:")) {
        s += 7;
        len -= 7;
    }
    if (count_byte(s, len, '@') != 1)
        return fail;
    const char *at = find_byte(s, len, '@');
    size_t local_len = (size_t)(at - s);
    if (!local_part_ok(s, local_len))
        return fail;
    char domain[PSI_IOC_DOMAIN_MAX + 1];
    size_t dlen;
    /* The domain of an address is a name even if it looks like a file. */
    enum reading r = canon_domain_text(at + 1, len - local_len - 1, false, domain, &dlen, why);
    if (r != READ_OK)
        return (untyped && *why == PSI_IOC_SKIP_MALFORMED) ? READ_NO : r;
    char text[PSI_IOC_EMAIL_MAX + 1];
    if (local_len + 1 + dlen > PSI_IOC_EMAIL_MAX) {
        *why = PSI_IOC_SKIP_TOO_LONG;
        return READ_SKIP;
    }
    memcpy(text, s, local_len);
    text[local_len] = '@';
    memcpy(text + local_len + 1, domain, dlen);
    return set_value(out, PSI_IOC_EMAIL, text, local_len + 1 + dlen, why);
}

/* ---- hashes ------------------------------------------------------------- */

bool psi_ioc_type_is_file_hash(enum psi_ioc_type type)
{
    return (unsigned)type < PSI_IOC_TYPE_COUNT && types[type].hex_len != 0;
}

static enum psi_ioc_type hash_type_of_length(size_t len)
{
    for (unsigned i = 1; i < PSI_IOC_TYPE_COUNT; i++)
        if (types[i].hex_len != 0 && types[i].hex_len == len)
            return (enum psi_ioc_type)i;
    return PSI_IOC_NONE;
}

static bool all_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_hex((unsigned char)s[i]))
            return false;
    return len > 0;
}

static enum reading canon_hash(enum psi_ioc_type want, const char *s, size_t len,
                               struct psi_ioc *out, enum psi_ioc_skip *why)
{
    bool untyped = want == PSI_IOC_NONE;
    enum psi_ioc_type got = all_hex(s, len) ? hash_type_of_length(len) : PSI_IOC_NONE;
    char text[PSI_IOC_HASH_HEX_MAX + 1];
    if (got == PSI_IOC_NONE || (!untyped && got != want) || len >= sizeof text) {
        *why = PSI_IOC_SKIP_MALFORMED;
        return untyped ? READ_NO : READ_SKIP;
    }
    for (size_t i = 0; i < len; i++)
        text[i] = (char)to_lower((unsigned char)s[i]);
    return set_value(out, got, text, len, why);
}

/* ---- URLs --------------------------------------------------------------- */

static bool is_unreserved(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Bytes a browser would percent-escape in a path or query, and the quote
 * (which would otherwise be trimmed off the end of a value read again). */
static bool needs_escape(unsigned char c)
{
    return c >= 0x80 || c == ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' ||
           c == '{' || c == '}';
}

static unsigned long default_port(const char *scheme, size_t len)
{
    if (equals_ci(scheme, len, "http") || equals_ci(scheme, len, "ws"))
        return 80;
    if (equals_ci(scheme, len, "https") || equals_ci(scheme, len, "wss"))
        return 443;
    if (equals_ci(scheme, len, "ftp"))
        return 21;
    return 0;
}

/* Appends bytes to a bounded output; false once the bound is passed. */
struct builder {
    char *buf;
    size_t len, cap;
    bool overflow;
};

static void put(struct builder *b, const char *s, size_t n)
{
    if (b->overflow || n > b->cap - b->len) {
        b->overflow = true;
        return;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

static void put_byte(struct builder *b, char c)
{
    put(b, &c, 1);
}

/* True when the output ends in a '%' that starts no escape and one hex digit
 * (escapes are always written whole, so such a '%' is a stray one): a hex
 * digit written next would complete an escape, which the next
 * canonicalisation would read as a byte, and the value would not be a fixed
 * point (found by fuzzing). Such a digit is written escaped instead. */
static bool completes_stray_escape(const struct builder *b)
{
    return !b->overflow && b->len >= 2 && b->buf[b->len - 2] == '%' &&
           is_hex((unsigned char)b->buf[b->len - 1]);
}

/* Length of a valid scheme followed by "://", or 0. */
static size_t scheme_length(const char *s, size_t len)
{
    if (len == 0 || !is_alpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (i < len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
                       s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    /* cppcheck 2.10 wrongly takes i == len after the loop */
    // cppcheck-suppress knownConditionTrueFalse
    if (len - i >= 3 && memcmp(s + i, "://", 3) == 0)
        return i;
    return 0;
}

static enum reading canon_url(const char *s, size_t len, struct psi_ioc *out,
                              enum psi_ioc_skip *why)
{
    char text[PSI_IOC_VALUE_MAX];
    struct builder b = {text, 0, sizeof text, false};
    size_t scheme_len = scheme_length(s, len);
    if (scheme_len == 0) {
        *why = PSI_IOC_SKIP_MALFORMED;
        return READ_SKIP;
    }
    for (size_t i = 0; i < len; i++) {
        if (is_control((unsigned char)s[i])) {
            *why = PSI_IOC_SKIP_MALFORMED;
            return READ_SKIP;
        }
    }
    for (size_t i = 0; i < scheme_len; i++)
        put_byte(&b, (char)to_lower((unsigned char)s[i]));
    put(&b, "://", 3);
    size_t p = scheme_len + 3;
    size_t auth_end = p;
    while (auth_end < len && s[auth_end] != '/' && s[auth_end] != '?' && s[auth_end] != '#')
        auth_end++;
    /* userinfo: everything up to the last '@' of the authority, as given */
    size_t host_start = p;
    for (size_t i = p; i < auth_end; i++)
        if (s[i] == '@')
            host_start = i + 1;
    if (host_start > p) {
        put(&b, s + p, host_start - p);
    }
    size_t host_end = auth_end;
    size_t port_start = 0;
    if (host_start < auth_end && s[host_start] == '[') {
        const char *close = memchr(s + host_start, ']', auth_end - host_start);
        if (close == NULL) {
            *why = PSI_IOC_SKIP_MALFORMED;
            return READ_SKIP;
        }
        host_end = (size_t)(close - s) + 1;
        if (host_end < auth_end) {
            if (s[host_end] != ':') {
                *why = PSI_IOC_SKIP_MALFORMED;
                return READ_SKIP;
            }
            port_start = host_end + 1;
        }
    } else {
        for (size_t i = host_start; i < auth_end; i++) {
            if (s[i] == ':') {
                host_end = i;
                port_start = i + 1;
                break;
            }
        }
    }
    if (host_end == host_start) {
        *why = PSI_IOC_SKIP_MALFORMED;
        return READ_SKIP;
    }
    /* host: an address (brackets kept around IPv6) or a name */
    struct psi_ioc host;
    const char *h = s + host_start;
    size_t hlen = host_end - host_start;
    enum reading r;
    unsigned char a4[4], a6[16];
    if (h[0] == '[') {
        r = parse_ipv6(h + 1, hlen - 2, a6, why);
        if (r == READ_NO) {
            *why = PSI_IOC_SKIP_MALFORMED;
            return READ_SKIP;
        }
        if (r == READ_OK)
            r = emit_ipv6(a6, &host, why);
    } else {
        r = parse_ipv4(h, hlen, a4, why);
        if (r == READ_OK)
            r = emit_ipv4(a4, &host, why);
        else if (r == READ_NO)
            r = canon_domain(h, hlen, false, &host, why);
    }
    if (r != READ_OK)
        return READ_SKIP;
    if (host.type == PSI_IOC_IPV6) {
        put_byte(&b, '[');
        put(&b, host.value, host.len);
        put_byte(&b, ']');
    } else {
        put(&b, host.value, host.len);
    }
    if (port_start != 0 && port_start < auth_end) {
        unsigned long port;
        if (!parse_decimal(s + port_start, auth_end - port_start, 5, &port) || port > 65535) {
            *why = PSI_IOC_SKIP_MALFORMED;
            return READ_SKIP;
        }
        if (port != default_port(s, scheme_len)) {
            char digits[8];
            size_t nd = 0;
            unsigned long v = port;
            do {
                digits[nd++] = (char)('0' + v % 10);
                v /= 10;
            } while (v > 0);
            put_byte(&b, ':');
            while (nd > 0)
                put_byte(&b, digits[--nd]);
        }
    }
    /* path and query, up to the fragment */
    size_t end = auth_end;
    while (end < len && s[end] != '#')
        end++;
    if (auth_end == end || s[auth_end] != '/')
        put_byte(&b, '/');
    for (size_t i = auth_end; i < end; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && end - i >= 3 && is_hex((unsigned char)s[i + 1]) &&
            is_hex((unsigned char)s[i + 2])) {
            unsigned v =
                hex_value((unsigned char)s[i + 1]) * 16 + hex_value((unsigned char)s[i + 2]);
            if (is_unreserved((unsigned char)v) &&
                !(is_hex((unsigned char)v) && completes_stray_escape(&b))) {
                put_byte(&b, (char)v);
            } else {
                char esc[3] = {'%', hex_upper[v >> 4], hex_upper[v & 15]};
                put(&b, esc, 3);
            }
            i += 2;
        } else if (needs_escape(c) || (is_hex(c) && completes_stray_escape(&b))) {
            char esc[3] = {'%', hex_upper[c >> 4], hex_upper[c & 15]};
            put(&b, esc, 3);
        } else {
            put_byte(&b, (char)c);
        }
    }
    if (b.overflow) {
        *why = PSI_IOC_SKIP_TOO_LONG;
        return READ_SKIP;
    }
    return set_value(out, PSI_IOC_URL, text, b.len, why);
}

/* A URL-ish value without "scheme://": a bare host is its host; with a path
 * it is read as http, as a browser would. untyped: the host must look like a
 * name or an IPv4 address (and not like a file), or it is not a URL. */
static enum reading canon_schemeless(const char *s, size_t len, bool untyped, struct psi_ioc *out,
                                     enum psi_ioc_skip *why)
{
    size_t host_end = 0;
    while (host_end < len && s[host_end] != '/' && s[host_end] != '?' && s[host_end] != '#')
        host_end++;
    if (host_end == 0) {
        /* only a path: "/" is the most generic value there is */
        *why = (len == 1) ? PSI_IOC_SKIP_GENERIC : PSI_IOC_SKIP_UNSUPPORTED;
        return untyped ? READ_NO : READ_SKIP;
    }
    bool bare = host_end == len || (host_end + 1 == len && s[host_end] == '/');
    struct psi_ioc host;
    enum reading r = canon_address(s, host_end, &host, why);
    if (r == READ_NO)
        r = canon_host_port(s, host_end, untyped, &host, why);
    if (r == READ_NO)
        r = canon_domain(s, host_end, untyped, &host, why);
    if (r != READ_OK)
        return r;
    if (bare) {
        *out = host;
        return READ_OK;
    }
    if (host.type == PSI_IOC_CIDR4 || host.type == PSI_IOC_CIDR6)
        return READ_NO;
    char text[PSI_IOC_INPUT_MAX + 8];
    memcpy(text, "http://", 7);
    memcpy(text + 7, s, len);
    return canon_url(text, len + 7, out, why);
}

/* ---- entry points ------------------------------------------------------- */

static bool has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (is_control((unsigned char)s[i]))
            return true;
    return false;
}

/* Checked here, on the result, because only a domain *indicator* is generic
 * for being a public suffix: the host of a URL ("https://s3.amazonaws.com/
 * bucket/x.exe") or of an e-mail address is part of a specific value. */
static int finish(enum reading r, struct psi_ioc *out, enum psi_ioc_skip reason,
                  enum psi_ioc_skip *why)
{
    if (r == READ_OK && out->type == PSI_IOC_DOMAIN && is_public_suffix(out->value)) {
        r = READ_SKIP;
        reason = PSI_IOC_SKIP_GENERIC;
    }
    if (r == READ_OK)
        return PSI_OK;
    out->type = PSI_IOC_NONE;
    out->len = 0;
    out->value[0] = '\0';
    *why = r == READ_NO ? PSI_IOC_SKIP_UNSUPPORTED : reason;
    return PSI_ERR_UNSUPPORTED;
}

int psi_ioc_canonicalise(const char *in, size_t len, struct psi_ioc *out, enum psi_ioc_skip *why)
{
    char work[PSI_IOC_INPUT_MAX + 1];
    enum psi_ioc_skip reason = PSI_IOC_SKIP_UNSUPPORTED;
    enum reading r;
    if ((in == NULL && len > 0) || out == NULL || why == NULL)
        return PSI_ERR_INVALID;
    if (!prepare(in == NULL ? "" : in, len, work, &len)) {
        return finish(READ_SKIP, out, PSI_IOC_SKIP_TOO_LONG, why);
    }
    if (len == 0 || has_control(work, len))
        return finish(READ_NO, out, reason, why);
    /* "mailto:" is a scheme too: it is looked for first */
    bool email = has_prefix_ci(work, len, "mailto:") ||
                 (scheme_length(work, len) == 0 && find_byte(work, len, '@') != NULL);
    if (email) {
        r = canon_email(work, len, true, out, &reason);
    } else if (scheme_length(work, len) > 0) {
        r = canon_url(work, len, out, &reason);
    } else if (all_hex(work, len) && hash_type_of_length(len) != PSI_IOC_NONE) {
        r = canon_hash(PSI_IOC_NONE, work, len, out, &reason);
    } else {
        r = canon_address(work, len, out, &reason);
        if (r == READ_NO)
            r = canon_host_port(work, len, true, out, &reason);
        if (r == READ_NO && (find_byte(work, len, '/') || find_byte(work, len, '?')))
            r = canon_schemeless(work, len, true, out, &reason);
        if (r == READ_NO)
            r = canon_domain(work, len, true, out, &reason);
    }
    return finish(r, out, reason, why);
}

int psi_ioc_canonicalise_as(enum psi_ioc_type type, const char *in, size_t len, struct psi_ioc *out,
                            enum psi_ioc_skip *why)
{
    char work[PSI_IOC_INPUT_MAX + 1];
    enum psi_ioc_skip reason = PSI_IOC_SKIP_MALFORMED;
    enum reading r = READ_SKIP;
    if ((in == NULL && len > 0) || out == NULL || why == NULL || type == PSI_IOC_NONE ||
        (unsigned)type >= PSI_IOC_TYPE_COUNT)
        return PSI_ERR_INVALID;
    if (!prepare(in == NULL ? "" : in, len, work, &len))
        return finish(READ_SKIP, out, PSI_IOC_SKIP_TOO_LONG, why);
    if (len == 0 || has_control(work, len))
        return finish(READ_SKIP, out, PSI_IOC_SKIP_MALFORMED, why);
    switch (type) {
    case PSI_IOC_IPV4:
    case PSI_IOC_IPV6:
    case PSI_IOC_CIDR4:
    case PSI_IOC_CIDR6: r = canon_address(work, len, out, &reason); break;
    case PSI_IOC_DOMAIN:
        r = canon_address(work, len, out, &reason);
        if (r == READ_NO)
            r = canon_host_port(work, len, false, out, &reason);
        if (r == READ_NO)
            r = canon_domain(work, len, false, out, &reason);
        break;
    case PSI_IOC_EMAIL: r = canon_email(work, len, false, out, &reason); break;
    case PSI_IOC_URL:
        if (scheme_length(work, len) > 0)
            r = canon_url(work, len, out, &reason);
        else
            r = canon_schemeless(work, len, false, out, &reason);
        break;
    case PSI_IOC_MD5:
    case PSI_IOC_SHA1:
    case PSI_IOC_SHA256:
    case PSI_IOC_SHA512: r = canon_hash(type, work, len, out, &reason); break;
    case PSI_IOC_NONE: break;
    }
    if (r == READ_NO) {
        r = READ_SKIP;
        reason = PSI_IOC_SKIP_MALFORMED;
    }
    return finish(r, out, reason, why);
}

int psi_ioc_encode(enum psi_ioc_type type, const char *value, size_t len, unsigned char *out,
                   size_t cap, size_t *out_len)
{
    if (type == PSI_IOC_NONE || (unsigned)type >= PSI_IOC_TYPE_COUNT ||
        (value == NULL && len > 0) || out == NULL || out_len == NULL || len > PSI_IOC_VALUE_MAX)
        return PSI_ERR_INVALID;
    const char *name = types[type].name;
    size_t nlen = strlen(name);
    if (cap < nlen + 1 || cap - nlen - 1 < len)
        return PSI_ERR_TOO_LARGE;
    memcpy(out, name, nlen);
    out[nlen] = ':';
    if (len > 0)
        memcpy(out + nlen + 1, value, len);
    *out_len = nlen + 1 + len;
    return PSI_OK;
}
