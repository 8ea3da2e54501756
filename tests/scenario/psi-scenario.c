/*
 * psi-scenario: writes a matching scenario whose answer is known by
 * construction, for the demo and the end-to-end tests.
 *
 *   psi-scenario --out DIR [--seed N] [--parties a,b,c] [--size N]
 *       writes DIR/<party>.txt, one plain-text indicator file per party, and
 *       DIR/expected.jsonl: for every party, each of its indicators that other
 *       parties also hold, in canonical form, with those peers.
 *   psi-scenario --flatten FILE...   ("-" reads standard input)
 *       turns JSON lines {"party"?, "type", "value", "peers"} (expected.jsonl,
 *       or the output of `psi results --json`) into sorted-friendly text lines
 *       "[party<TAB>]type<TAB>value<TAB>peer,peer" with the peers sorted, so
 *       shell scripts can compare them with sort/diff and need no JSON tool.
 *
 * Why the canonical values come from here and not from the canonicaliser:
 * the expected file must be an independent answer. Every value is generated in
 * canonical form first (lower-case hosts, A-label IDNs, RFC 5952 IPv6, lower-
 * case hex) and only then rendered the way real feeds write it: defanged
 * (`1.2.3[.]4`, `hxxp://evil[.]example/x`, `user[at]dom[.]tld`), upper-cased,
 * IPv6 written in full, IDNs as U-labels. A planted indicator is written in a
 * fanged form in one holder's file and in a defanged or otherwise different
 * form in another's, so a match proves that canonicalisation agrees.
 *
 * Deterministic for a seed: a private splitmix64 generator, never rand().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>

#define MAX_PARTIES 64
#define MAX_PARTY_ID 64
#define MAX_VALUE 320
#define MIN_SIZE 20
#define MAX_SIZE 2000000

/* ------------------------------------------------------------------ PRNG */

struct rng {
    uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A uniform value in [0, n), n > 0 (rejection sampling: no modulo bias). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    uint64_t x;
    do
        x = rng_next(r);
    while (x >= limit);
    return (uint32_t)(x % n);
}

/* True with probability percent/100. */
static bool rng_chance(struct rng *r, uint32_t percent)
{
    return rng_below(r, 100) < percent;
}

static const char *rng_pick(struct rng *r, const char *const *list, size_t n)
{
    return list[rng_below(r, (uint32_t)n)];
}

#define PICK(r, list) rng_pick((r), (list), sizeof(list) / sizeof((list)[0]))

/* ------------------------------------------------------- small utilities */

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("psi-scenario: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        die("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xcalloc(n, 1);
    memcpy(p, s, n);
    return p;
}

/* Appends formatted text to a fixed buffer; dies if it would not fit, which
 * only a bug in this file can cause (every value here is bounded). */
__attribute__((format(printf, 3, 4))) static void cat(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - used)
        die("internal: value longer than %zu bytes", cap);
}

static char upper(char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)(c - 'a' + 'A');
    return c;
}

/* Replaces every occurrence of `from` in s[start, end) with `to`. */
static void replace_range(char *out, size_t cap, const char *s, size_t start, size_t end, char from,
                          const char *to)
{
    out[0] = '\0';
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (i >= start && i < end && s[i] == from)
            cat(out, cap, "%s", to);
        else
            cat(out, cap, "%c", s[i]);
    }
}

/* ------------------------------------------------------ indicator types */

enum ioc_type { T_IPV4, T_IPV6, T_DOMAIN, T_URL, T_EMAIL, T_MD5, T_SHA1, T_SHA256, T_COUNT };

static const char *const type_names[T_COUNT] = {"ipv4",  "ipv6", "domain", "url",
                                                "email", "md5",  "sha1",   "sha256"};

/* The mix of a party's list: network indicators dominate real feeds. */
static enum ioc_type pick_type(struct rng *r)
{
    static const uint32_t weights[T_COUNT] = {24, 8, 22, 14, 8, 8, 6, 10};
    uint32_t x = rng_below(r, 100), acc = 0;
    for (int t = 0; t < T_COUNT; t++) {
        acc += weights[t];
        if (x < acc)
            return (enum ioc_type)t;
    }
    return T_SHA256;
}

static const char *const words[] = {
    "update", "secure", "login",  "cdn",     "mail",      "api",     "portal",  "sync",
    "cloud",  "files",  "office", "micro",   "drive",     "verify",  "account", "support",
    "news",   "static", "data",   "invoice", "gate",      "panel",   "track",   "auth",
    "docs",   "share",  "media",  "service", "telemetry", "metrics", "proxy",   "relay",
    "north",  "amber",  "falcon", "orbit",   "quartz",    "harbor",  "signal",  "vector"};

static const char *const tlds[] = {"com", "net", "org",    "info", "top",     "xyz",
                                   "ru",  "biz", "online", "site", "example", "io"};

/* U-label → A-label pairs, checked against IDNA2008 (libidn2) and IDNA2003
 * alike: lower case, no characters on which the two disagree. */
static const char *const idn_ulabels[] = {"bücher", "münchen", "españa", "пример",
                                          "köln",   "zürich",  "δοκιμή"};
static const char *const idn_alabels[] = {"xn--bcher-kva", "xn--mnchen-3ya", "xn--espaa-rta",
                                          "xn--e1afmkfd",  "xn--kln-sna",    "xn--zrich-kva",
                                          "xn--jxalpdlp"};

/* Public-looking first octets (none private, loopback, multicast or CGNAT). */
static const unsigned public_octets[] = {5,   23,  31,  37,  45,  46,  62,  77,  78,  80,
                                         85,  91,  93,  94,  103, 104, 109, 141, 146, 176,
                                         178, 185, 188, 193, 194, 195, 212, 213, 217};

static void gen_host_label(struct rng *r, char *out, size_t cap)
{
    out[0] = '\0';
    cat(out, cap, "%s", PICK(r, words));
    if (rng_chance(r, 60))
        cat(out, cap, "%s%s", rng_chance(r, 50) ? "-" : "", PICK(r, words));
    if (rng_chance(r, 50))
        cat(out, cap, "%u", (unsigned)rng_below(r, 1000));
}

static void gen_domain(struct rng *r, char *out, size_t cap, bool allow_idn)
{
    char label[96];
    out[0] = '\0';
    if (allow_idn && rng_chance(r, 8)) {
        /* The IDN label sits under an ASCII parent so values stay unique. */
        uint32_t i = rng_below(r, (uint32_t)(sizeof idn_alabels / sizeof idn_alabels[0]));
        gen_host_label(r, label, sizeof label);
        cat(out, cap, "%s.%s.%s", idn_alabels[i], label, PICK(r, tlds));
        return;
    }
    if (rng_chance(r, 35)) {
        gen_host_label(r, label, sizeof label);
        cat(out, cap, "%s.", label);
    }
    gen_host_label(r, label, sizeof label);
    cat(out, cap, "%s.%s", label, PICK(r, tlds));
}

static void gen_ipv4(struct rng *r, char *out, size_t cap)
{
    static const char *const doc_nets[] = {"192.0.2", "198.51.100", "203.0.113"};
    out[0] = '\0';
    if (rng_chance(r, 30)) {
        cat(out, cap, "%s.%u", PICK(r, doc_nets), 1 + rng_below(r, 254));
        return;
    }
    unsigned first =
        public_octets[rng_below(r, (uint32_t)(sizeof public_octets / sizeof public_octets[0]))];
    cat(out, cap, "%u.%u.%u.%u", first, rng_below(r, 256), rng_below(r, 256),
        1 + rng_below(r, 254));
}

/* Groups of an IPv6 address: a documentation (2001:db8::/32) or public-looking
 * prefix, often with a run of zero groups, as real addresses have. */
static void gen_ipv6_groups(struct rng *r, unsigned g[8])
{
    /* Regional-registry blocks only: no 2001::/23 special-purpose ranges. */
    static const unsigned prefixes[] = {0x2a00, 0x2a01, 0x2a02, 0x2604, 0x2400, 0x2c0f};
    bool doc = rng_chance(r, 40);
    g[0] = doc ? 0x2001 : prefixes[rng_below(r, (uint32_t)(sizeof prefixes / sizeof prefixes[0]))];
    g[1] = doc ? 0x0db8 : 0x100 + rng_below(r, 0xff00);
    for (int i = 2; i < 8; i++)
        g[i] = rng_chance(r, 30) ? rng_below(r, 0x100) : rng_below(r, 0x10000);
    if (rng_chance(r, 70)) {
        /* A zero run of 2..4 groups somewhere in groups 2..7. */
        uint32_t len = 2 + rng_below(r, 3);
        uint32_t start = 2 + rng_below(r, 6 - len + 1);
        for (uint32_t i = start; i < start + len; i++)
            g[i] = 0;
    }
    if (g[7] == 0)
        g[7] = 1 + rng_below(r, 0xffff);
}

/* RFC 5952: lower-case hex without leading zeros, the longest run of two or
 * more zero groups (the first one on a tie) written "::". */
static void ipv6_canonical(const unsigned g[8], char *out, size_t cap)
{
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2)
        best = -1;
    out[0] = '\0';
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            cat(out, cap, "::");
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len)
            cat(out, cap, ":");
        cat(out, cap, "%x", g[i]);
    }
}

/* Inverse of ipv6_canonical for the values made here. */
static void ipv6_parse(const char *s, unsigned g[8])
{
    unsigned head[8], tail[8];
    int nh = 0, nt = 0;
    const char *dbl = strstr(s, "::");
    const char *p = s;
    const char *end_head = dbl ? dbl : s + strlen(s);
    while (p < end_head) {
        head[nh++] = (unsigned)strtoul(p, NULL, 16);
        p = strchr(p, ':');
        if (p == NULL || p >= end_head)
            break;
        p++;
    }
    if (dbl) {
        p = dbl + 2;
        while (*p) {
            tail[nt++] = (unsigned)strtoul(p, NULL, 16);
            p = strchr(p, ':');
            if (p == NULL)
                break;
            p++;
        }
    }
    for (int i = 0; i < 8; i++)
        g[i] = 0;
    for (int i = 0; i < nh; i++)
        g[i] = head[i];
    for (int i = 0; i < nt; i++)
        g[8 - nt + i] = tail[i];
}

static void gen_hex(struct rng *r, char *out, size_t cap, int digits)
{
    out[0] = '\0';
    for (int i = 0; i < digits; i++)
        cat(out, cap, "%x", rng_below(r, 16));
}

static void gen_url(struct rng *r, char *out, size_t cap)
{
    static const char *const paths[] = {
        "gate.php",       "index.html",    "wp-content/plugins/x.php", "admin/Login.aspx",
        "dl/Payload.bin", "api/v2/beacon", "images/logo.png",          "b",
        "Update/check",   "c2/task"};
    static const unsigned ports[] = {8080, 8443, 4444, 8000, 9001, 2087};
    char host[160];
    const char *scheme = rng_chance(r, 55) ? "http" : "https";
    if (rng_chance(r, 25))
        gen_ipv4(r, host, sizeof host);
    else
        gen_domain(r, host, sizeof host, false);
    out[0] = '\0';
    cat(out, cap, "%s://%s", scheme, host);
    if (rng_chance(r, 25))
        cat(out, cap, ":%u", ports[rng_below(r, (uint32_t)(sizeof ports / sizeof ports[0]))]);
    cat(out, cap, "/%s", PICK(r, paths));
    if (rng_chance(r, 30))
        cat(out, cap, "?id=%u&k=%s", rng_below(r, 100000), PICK(r, words));
}

static void gen_email(struct rng *r, char *out, size_t cap)
{
    static const char *const locals[] = {"admin",   "billing",  "hr",      "support", "noreply",
                                         "j.smith", "accounts", "it-desk", "ceo",     "payroll"};
    char domain[160];
    gen_domain(r, domain, sizeof domain, false);
    out[0] = '\0';
    cat(out, cap, "%s", PICK(r, locals));
    if (rng_chance(r, 60))
        cat(out, cap, "%u", rng_below(r, 1000));
    cat(out, cap, "@%s", domain);
}

static void gen_canonical(struct rng *r, enum ioc_type t, char *out, size_t cap)
{
    switch (t) {
    case T_IPV4: gen_ipv4(r, out, cap); return;
    case T_IPV6: {
        unsigned g[8];
        gen_ipv6_groups(r, g);
        ipv6_canonical(g, out, cap);
        return;
    }
    case T_DOMAIN: gen_domain(r, out, cap, true); return;
    case T_URL: gen_url(r, out, cap); return;
    case T_EMAIL: gen_email(r, out, cap); return;
    case T_MD5: gen_hex(r, out, cap, 32); return;
    case T_SHA1: gen_hex(r, out, cap, 40); return;
    case T_SHA256:
    case T_COUNT: gen_hex(r, out, cap, 64); return;
    }
}

/* ------------------------------------------------------------ renderings */

/* How one holder writes an indicator in its file. */
enum rendering {
    R_CANONICAL, /* exactly the canonical text */
    R_DEFANGED,  /* defanged the way analysts do it */
    R_VARIANT,   /* fanged but not canonical: case, full IPv6, U-label, ... */
};

/* Replaces A-labels of the table by their U-labels (an IDN as people write it). */
static bool idn_to_unicode(const char *in, char *out, size_t cap)
{
    for (size_t i = 0; i < sizeof idn_alabels / sizeof idn_alabels[0]; i++) {
        const char *at = strstr(in, idn_alabels[i]);
        if (at == NULL)
            continue;
        out[0] = '\0';
        cat(out, cap, "%.*s%s%s", (int)(at - in), in, idn_ulabels[i], at + strlen(idn_alabels[i]));
        return true;
    }
    return false;
}

/* Defangs the dots of s[start, end): only the last one, or all of them. */
static void defang_dots(struct rng *r, char *out, size_t cap, const char *s, size_t start,
                        size_t end)
{
    static const char *const dots[] = {"[.]", "[.]", "[.]", "(.)", "{.}", "[dot]"};
    const char *dot = PICK(r, dots);
    if (rng_chance(r, 50)) {
        size_t last = end;
        for (size_t i = start; i < end; i++)
            if (s[i] == '.')
                last = i;
        if (last < end) {
            replace_range(out, cap, s, last, last + 1, '.', dot);
            return;
        }
    }
    replace_range(out, cap, s, start, end, '.', dot);
}

static void render_domain(struct rng *r, const char *canon, enum rendering how, char *out,
                          size_t cap)
{
    char shown[MAX_VALUE];
    shown[0] = '\0';
    /* An IDN is written with its U-label unless the variant asks for the A-label. */
    bool idn = idn_to_unicode(canon, shown, sizeof shown);
    if (!idn)
        cat(shown, sizeof shown, "%s", canon);
    out[0] = '\0';
    switch (how) {
    case R_CANONICAL: cat(out, cap, "%s", shown); return;
    case R_DEFANGED: defang_dots(r, out, cap, shown, 0, strlen(shown)); return;
    case R_VARIANT:
        if (idn) {
            cat(out, cap, "%s", canon);
            return;
        }
        for (size_t i = 0; shown[i] != '\0'; i++)
            cat(out, cap, "%c", (i == 0 || shown[i - 1] == '.') ? upper(shown[i]) : shown[i]);
        if (rng_chance(r, 40))
            cat(out, cap, ".");
        return;
    }
}

static void render(struct rng *r, enum ioc_type t, const char *canon, enum rendering how, char *out,
                   size_t cap)
{
    out[0] = '\0';
    if (how == R_CANONICAL && t != T_DOMAIN) {
        cat(out, cap, "%s", canon);
        return;
    }
    switch (t) {
    case T_IPV4:
        if (how == R_DEFANGED)
            defang_dots(r, out, cap, canon, 0, strlen(canon));
        else
            cat(out, cap, "%s/32", canon);
        return;
    case T_IPV6: {
        /* Both "other" forms: written in full, upper case (what RFC 5952 undoes). */
        unsigned g[8];
        ipv6_parse(canon, g);
        for (int i = 0; i < 8; i++)
            cat(out, cap, "%s%04X", i ? ":" : "", g[i]);
        if (how == R_VARIANT && rng_chance(r, 50))
            cat(out, cap, "/128");
        return;
    }
    case T_DOMAIN: render_domain(r, canon, how, out, cap); return;
    case T_URL: {
        const char *sep = strstr(canon, "://");
        size_t host_start = (size_t)(sep - canon) + 3;
        size_t host_end = host_start + strcspn(canon + host_start, ":/");
        bool https = canon[4] == 's';
        if (how == R_DEFANGED) {
            static const char *const schemes[] = {"hxxp", "hXXp", "hxxp", "h**p"};
            char body[MAX_VALUE];
            defang_dots(r, body, sizeof body, canon, host_start, host_end);
            const char *scheme = PICK(r, schemes);
            if (rng_chance(r, 20))
                cat(out, cap, "%s%s[://]%s", "http", https ? "s" : "", body + host_start);
            else
                cat(out, cap, "%s%s://%s", scheme, https ? "s" : "", body + host_start);
            return;
        }
        /* Variant: scheme and host upper case; the default port made explicit. */
        for (size_t i = 0; i < host_end; i++)
            cat(out, cap, "%c", upper(canon[i]));
        if (canon[host_end] != ':' && rng_chance(r, 50))
            cat(out, cap, ":%s", https ? "443" : "80");
        cat(out, cap, "%s", canon + host_end);
        return;
    }
    case T_EMAIL: {
        const char *at = strchr(canon, '@');
        size_t local = (size_t)(at - canon);
        if (how == R_DEFANGED) {
            char dom[MAX_VALUE];
            const char *ats = rng_chance(r, 70) ? "[at]" : "(at)";
            dom[0] = '\0';
            if (rng_chance(r, 70))
                defang_dots(r, dom, sizeof dom, at + 1, 0, strlen(at + 1));
            else
                cat(dom, sizeof dom, "%s", at + 1);
            cat(out, cap, "%.*s%s%s", (int)local, canon, ats, dom);
            return;
        }
        cat(out, cap, "%.*s@", (int)local, canon);
        for (const char *p = at + 1; *p; p++)
            cat(out, cap, "%c", upper(*p));
        return;
    }
    case T_MD5:
    case T_SHA1:
    case T_SHA256:
    case T_COUNT:
        /* Hashes are not defanged; the other form is upper-case hex. */
        for (const char *p = canon; *p; p++)
            cat(out, cap, "%c", upper(*p));
        return;
    }
}

/* -------------------------------------------------------------- catalog */

struct item {
    enum ioc_type type;
    char *canonical;
    uint64_t holders; /* bit p: party p holds it */
};

struct catalog {
    struct item *items;
    size_t count, cap;
    char **slots; /* open addressing over "type:value" for uniqueness */
    size_t nslots;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Adds a new (type, value) to the catalog; false if it is there already. */
static bool catalog_add(struct catalog *c, enum ioc_type t, const char *value, uint64_t holders)
{
    char key[MAX_VALUE + 16];
    key[0] = '\0';
    cat(key, sizeof key, "%s:%s", type_names[t], value);
    size_t i = (size_t)(fnv1a(key) % c->nslots);
    while (c->slots[i] != NULL) {
        if (strcmp(c->slots[i], key) == 0)
            return false;
        i = (i + 1) % c->nslots;
    }
    if (c->count == c->cap)
        die("internal: catalog full");
    c->slots[i] = xstrdup(key);
    c->items[c->count].type = t;
    c->items[c->count].canonical = xstrdup(value);
    c->items[c->count].holders = holders;
    c->count++;
    return true;
}

static void catalog_new_item(struct catalog *c, struct rng *r, uint64_t holders)
{
    char value[MAX_VALUE];
    for (int tries = 0; tries < 10000; tries++) {
        enum ioc_type t = pick_type(r);
        gen_canonical(r, t, value, sizeof value);
        if (catalog_add(c, t, value, holders))
            return;
    }
    die("could not generate a fresh indicator (the value space is exhausted)");
}

static int popcount64(uint64_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* A random subset of `k` parties out of `n`, as a bit mask. */
static uint64_t random_subset(struct rng *r, size_t n, size_t k)
{
    uint64_t mask = 0;
    while ((size_t)popcount64(mask) < k)
        mask |= 1ULL << rng_below(r, (uint32_t)n);
    return mask;
}

/* ----------------------------------------------------------- the writer */

struct line {
    size_t item;
    char *text;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void shuffle_lines(struct rng *r, struct line *lines, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(r, (uint32_t)i);
        struct line tmp = lines[i - 1];
        lines[i - 1] = lines[j];
        lines[j] = tmp;
    }
}

static const char *const notes[] = {"C2 server",        "phishing",
                                    "payload download", "ransomware infrastructure",
                                    "exfiltration",     "Cobalt Strike beacon",
                                    "loader",           "seen in incident"};

static void write_party_file(const char *dir, const char *party, size_t p, struct catalog *c,
                             struct rng *r, uint64_t seed)
{
    char path[4096];
    path[0] = '\0';
    cat(path, sizeof path, "%s/%s.txt", dir, party);

    size_t held = 0;
    for (size_t i = 0; i < c->count; i++)
        if (c->items[i].holders & (1ULL << p))
            held++;
    /* Room for a few in-file duplicates (same indicator, another form). */
    size_t cap = held + held / 10 + 2;
    struct line *lines = xcalloc(cap, sizeof *lines);
    size_t n = 0;
    char text[MAX_VALUE];
    for (size_t i = 0; i < c->count; i++) {
        struct item *it = &c->items[i];
        if (!(it->holders & (1ULL << p)))
            continue;
        enum rendering how;
        if (popcount64(it->holders) > 1) {
            /* The first holder writes it fanged, the others defanged or varied. */
            uint64_t lower_bits = it->holders & ((1ULL << p) - 1);
            if (lower_bits == 0)
                how = rng_chance(r, 70) ? R_CANONICAL : R_VARIANT;
            else
                how = rng_chance(r, 65) ? R_DEFANGED : R_VARIANT;
        } else {
            uint32_t x = rng_below(r, 100);
            how = x < 65 ? R_CANONICAL : x < 88 ? R_DEFANGED : R_VARIANT;
        }
        render(r, it->type, it->canonical, how, text, sizeof text);
        lines[n].item = i;
        lines[n].text = xstrdup(text);
        n++;
        if (n < cap && rng_chance(r, 3)) {
            render(r, it->type, it->canonical, how == R_DEFANGED ? R_CANONICAL : R_DEFANGED, text,
                   sizeof text);
            lines[n].item = i;
            lines[n].text = xstrdup(text);
            n++;
        }
    }
    shuffle_lines(r, lines, n);

    FILE *f = fopen(path, "w");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    fprintf(f, "# Indicators of compromise held by %s\n", party);
    fprintf(f, "# generated by psi-scenario, seed %" PRIu64 "; some entries defanged\n", seed);
    fprintf(f, "indicator\tnote\n");
    for (size_t i = 0; i < n; i++) {
        if (rng_chance(r, 4))
            fprintf(f, "\n# %s\n", PICK(r, notes));
        if (rng_chance(r, 30))
            fprintf(f, "%s\t%s\n", lines[i].text, PICK(r, notes));
        else
            fprintf(f, "%s\n", lines[i].text);
        free(lines[i].text);
    }
    if (fclose(f) != 0)
        die("%s: %s", path, strerror(errno));
    free(lines);
}

static void write_expected(const char *dir, char **parties, size_t nparties, struct catalog *c)
{
    char path[4096];
    path[0] = '\0';
    cat(path, sizeof path, "%s/expected.jsonl", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    /* Lines sorted by party (in the order given), then type:value. */
    char **keys = xcalloc(c->count, sizeof *keys);
    size_t total = 0;
    for (size_t p = 0; p < nparties; p++) {
        size_t nk = 0;
        for (size_t i = 0; i < c->count; i++) {
            const struct item *it = &c->items[i];
            if (!(it->holders & (1ULL << p)) || popcount64(it->holders) < 2)
                continue;
            char line[MAX_VALUE + 64 * (MAX_PARTY_ID + 4) + 64];
            line[0] = '\0';
            /* Values are made of characters JSON needs no escape for. */
            cat(line, sizeof line, "{\"party\":\"%s\",\"type\":\"%s\",\"value\":\"%s\",\"peers\":[",
                parties[p], type_names[it->type], it->canonical);
            /* Peers in alphabetical order. */
            char *peers[MAX_PARTIES] = {0};
            size_t np = 0;
            for (size_t q = 0; q < nparties; q++)
                if (q != p && (it->holders & (1ULL << q)))
                    peers[np++] = parties[q];
            qsort(peers, np, sizeof peers[0], cmp_str);
            for (size_t k = 0; k < np; k++)
                cat(line, sizeof line, "%s\"%s\"", k ? "," : "", peers[k]);
            cat(line, sizeof line, "]}");
            keys[nk++] = xstrdup(line);
        }
        qsort(keys, nk, sizeof keys[0], cmp_str);
        for (size_t k = 0; k < nk; k++) {
            fprintf(f, "%s\n", keys[k]);
            free(keys[k]);
        }
        total += nk;
    }
    free(keys);
    if (fclose(f) != 0)
        die("%s: %s", path, strerror(errno));
    fprintf(stderr, "psi-scenario: %zu parties, %zu indicators, %zu overlaps planted -> %s\n",
            nparties, c->count, total, dir);
}

/* ------------------------------------------------------------- flatten */

static int by_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One JSON line to "[party\t]type\tvalue\tpeer,peer"; 0 ok, -1 malformed. */
static int flatten_line(const char *text, FILE *out)
{
    json_error_t err;
    json_t *o = json_loads(text, 0, &err);
    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    json_t *party = json_object_get(o, "party");
    json_t *type = json_object_get(o, "type");
    json_t *value = json_object_get(o, "value");
    json_t *peers = json_object_get(o, "peers");
    if (!json_is_string(type) || !json_is_string(value) || (peers && !json_is_array(peers)) ||
        (party && !json_is_string(party))) {
        json_decref(o);
        return -1;
    }
    size_t np = peers ? json_array_size(peers) : 0;
    const char **names = xcalloc(np, sizeof *names);
    for (size_t i = 0; i < np; i++) {
        json_t *peer = json_array_get(peers, i);
        if (!json_is_string(peer)) {
            free(names);
            json_decref(o);
            return -1;
        }
        names[i] = json_string_value(peer);
    }
    qsort(names, np, sizeof names[0], by_strcmp);
    if (party)
        fprintf(out, "%s\t", json_string_value(party));
    fprintf(out, "%s\t%s\t", json_string_value(type), json_string_value(value));
    for (size_t i = 0; i < np; i++)
        fprintf(out, "%s%s", i ? "," : "", names[i]);
    fputc('\n', out);
    free(names);
    json_decref(o);
    return 0;
}

static int flatten(int argc, char **argv)
{
    if (argc == 0)
        die("--flatten needs at least one file (\"-\" for standard input)");
    for (int a = 0; a < argc; a++) {
        bool is_stdin = strcmp(argv[a], "-") == 0;
        FILE *f = is_stdin ? stdin : fopen(argv[a], "r");
        if (f == NULL)
            die("%s: %s", argv[a], strerror(errno));
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        unsigned long lineno = 0;
        while ((len = getline(&line, &cap, f)) != -1) {
            lineno++;
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = '\0';
            if (len == 0)
                continue;
            if (flatten_line(line, stdout) != 0)
                die("%s:%lu: not a JSON object with string \"type\", \"value\" and a "
                    "\"peers\" array of strings",
                    is_stdin ? "<stdin>" : argv[a], lineno);
        }
        free(line);
        if (!is_stdin)
            fclose(f);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *out)
{
    fprintf(out, "usage: psi-scenario --out DIR [--seed N] [--parties a,b,c,d,v] [--size N]\n"
                 "       psi-scenario --flatten FILE...\n"
                 "\n"
                 "Writes DIR/<party>.txt (one plain-text indicator file per party, about N\n"
                 "indicators each, default 200; some defanged) and DIR/expected.jsonl: every\n"
                 "indicator of each party that others also hold, canonical, with those peers.\n"
                 "Planted overlaps are shared by 2, 3 and all parties. Same seed, same files.\n"
                 "\n"
                 "--flatten prints JSON lines {\"party\"?,\"type\",\"value\",\"peers\"} as\n"
                 "\"[party<TAB>]type<TAB>value<TAB>peer,peer\" (peers sorted), for shell diffs.\n");
}

static bool valid_party(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_PARTY_ID)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
              ch == '.'))
            return false;
    }
    return true;
}

static uint64_t parse_u64(const char *what, const char *s, uint64_t min, uint64_t max)
{
    char *end = NULL;
    errno = 0;
    if (s[0] == '-' || s[0] == '\0')
        die("%s: '%s' is not a non-negative number", what, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0')
        die("%s: '%s' is not a number", what, s);
    if (v < min || v > max)
        die("%s: %llu is out of range [%" PRIu64 ", %" PRIu64 "]", what, v, min, max);
    return (uint64_t)v;
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    const char *party_list = "a,b,c,d,v";
    uint64_t seed = 1;
    uint64_t size = 200;

    if (argc >= 2 && strcmp(argv[1], "--flatten") == 0)
        return flatten(argc - 2, argv + 2);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        if (strcmp(arg, "--out") == 0)
            out = argv[++i];
        else if (strcmp(arg, "--seed") == 0)
            seed = parse_u64("--seed", argv[++i], 0, UINT64_MAX);
        else if (strcmp(arg, "--parties") == 0)
            party_list = argv[++i];
        else if (strcmp(arg, "--size") == 0)
            size = parse_u64("--size", argv[++i], MIN_SIZE, MAX_SIZE);
        else {
            fprintf(stderr, "psi-scenario: unknown option '%s'\n", arg);
            usage(stderr);
            return 2;
        }
    }
    if (out == NULL) {
        usage(stderr);
        return 2;
    }

    /* Parties: a comma-separated list of distinct ids. */
    char *list = xstrdup(party_list);
    char *parties[MAX_PARTIES];
    size_t nparties = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!valid_party(tok))
            die("--parties: '%s' is not an id of 1 to %d characters [a-z0-9._-]", tok,
                MAX_PARTY_ID);
        if (nparties == MAX_PARTIES)
            die("--parties: at most %d parties", MAX_PARTIES);
        for (size_t k = 0; k < nparties; k++)
            if (strcmp(parties[k], tok) == 0)
                die("--parties: '%s' appears twice", tok);
        parties[nparties++] = tok;
    }
    if (nparties < 2)
        die("--parties: at least two parties are needed for an overlap");

    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        die("%s: %s", out, strerror(errno));

    struct rng r = {seed ^ 0x5053492d7363656eULL}; /* "PSI-scen" */
    struct catalog c;
    memset(&c, 0, sizeof c);
    c.cap = (size_t)size * nparties + 16;
    c.items = xcalloc(c.cap, sizeof *c.items);
    c.nslots = c.cap * 2 + 1;
    c.slots = xcalloc(c.nslots, sizeof *c.slots);

    /* Planted overlaps: about a quarter of a list's size, shared by 2, 3 or
     * all parties; at least one of each sharing size, and every party in one. */
    size_t planted = (size_t)size / 4;
    if (planted < 3 * nparties)
        planted = 3 * nparties;
    uint64_t all = nparties == 64 ? UINT64_MAX : (1ULL << nparties) - 1;
    uint64_t covered = 0;
    size_t per_party[MAX_PARTIES] = {0};
    for (size_t k = 0; k < planted; k++) {
        size_t share;
        if (k == 0)
            share = nparties;
        else if (k == 1)
            share = nparties >= 3 ? 3 : 2;
        else if (k < 2 + nparties) {
            /* A pair with each party in turn, so nobody is left without overlap. */
            share = 2;
        } else {
            uint32_t x = rng_below(&r, 100);
            share = x < 55 ? 2 : x < 85 ? 3 : nparties;
        }
        if (share > nparties)
            share = nparties;
        uint64_t holders;
        if (k >= 2 && k < 2 + nparties) {
            size_t p = k - 2, q = (p + 1 + rng_below(&r, (uint32_t)nparties - 1)) % nparties;
            holders = (1ULL << p) | (1ULL << q);
        } else {
            holders = share == nparties ? all : random_subset(&r, nparties, share);
        }
        covered |= holders;
        catalog_new_item(&c, &r, holders);
        for (size_t p = 0; p < nparties; p++)
            if (holders & (1ULL << p))
                per_party[p]++;
    }
    if (covered != all)
        die("internal: a party holds no planted overlap");
    /* Each party's own indicators fill its list up to the size. */
    for (size_t p = 0; p < nparties; p++)
        for (size_t k = per_party[p]; k < size; k++)
            catalog_new_item(&c, &r, 1ULL << p);

    for (size_t p = 0; p < nparties; p++)
        write_party_file(out, parties[p], p, &c, &r, seed);
    write_expected(out, parties, nparties, &c);

    for (size_t i = 0; i < c.count; i++)
        free(c.items[i].canonical);
    for (size_t i = 0; i < c.nslots; i++)
        free(c.slots[i]);
    free(c.items);
    free(c.slots);
    free(list);
    return 0;
}
