/* Tests of the canonicalisation rules (indicator.h), one group per rule. The
 * de-duplicating set has its own (ioc_set_test.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "psi/error.h"
#include "psi/indicator.h"

/* ---- helpers: each names the input in its failure message ---------------- */

static void check_ok(enum psi_ioc_type as, const char *in, size_t len, enum psi_ioc_type type,
                     const char *value, int line)
{
    struct psi_ioc out;
    enum psi_ioc_skip why = PSI_IOC_SKIP_COUNT;
    int rc = as == PSI_IOC_NONE ? psi_ioc_canonicalise(in, len, &out, &why)
                                : psi_ioc_canonicalise_as(as, in, len, &out, &why);
    if (rc != PSI_OK)
        fail_msg("line %d: '%s' skipped (%s), expected %s %s", line, in, psi_ioc_skip_name(why),
                 psi_ioc_type_name(type), value);
    if (out.type != type || strcmp(out.value, value) != 0 || out.len != strlen(value))
        fail_msg("line %d: '%s' gave %s %s, expected %s %s", line, in, psi_ioc_type_name(out.type),
                 out.value, psi_ioc_type_name(type), value);
}

static void check_skip(enum psi_ioc_type as, const char *in, size_t len, enum psi_ioc_skip want,
                       int line)
{
    struct psi_ioc out;
    enum psi_ioc_skip why = PSI_IOC_SKIP_COUNT;
    int rc = as == PSI_IOC_NONE ? psi_ioc_canonicalise(in, len, &out, &why)
                                : psi_ioc_canonicalise_as(as, in, len, &out, &why);
    if (rc == PSI_OK)
        fail_msg("line %d: '%s' gave %s %s, expected a skip (%s)", line, in,
                 psi_ioc_type_name(out.type), out.value, psi_ioc_skip_name(want));
    if (rc != PSI_ERR_UNSUPPORTED || why != want)
        fail_msg("line %d: '%s' skipped rc %d as %s, expected %s", line, in, rc,
                 psi_ioc_skip_name(why), psi_ioc_skip_name(want));
    if (out.type != PSI_IOC_NONE || out.len != 0)
        fail_msg("line %d: '%s' skipped but left a value", line, in);
}

/* untyped */
#define OK(in, type, value) check_ok(PSI_IOC_NONE, in, strlen(in), type, value, __LINE__)
#define SKIP(in, why) check_skip(PSI_IOC_NONE, in, strlen(in), why, __LINE__)
/* typed */
#define OK_AS(as, in, type, value) check_ok(as, in, strlen(in), type, value, __LINE__)
#define SKIP_AS(as, in, why) check_skip(as, in, strlen(in), why, __LINE__)

/* ---- IPv4 ---------------------------------------------------------------- */

static void test_ipv4_forms(void **state)
{
    (void)state;
    OK("203.0.113.7", PSI_IOC_IPV4, "203.0.113.7");
    OK("  203.0.113.7\t", PSI_IOC_IPV4, "203.0.113.7");
    OK("\"203.0.113.7\"", PSI_IOC_IPV4, "203.0.113.7");
    OK("203.0.113[.]7", PSI_IOC_IPV4, "203.0.113.7");
    OK("203(.)0(.)113(.)7", PSI_IOC_IPV4, "203.0.113.7");
    OK("203{.}0[dot]113(DOT)7", PSI_IOC_IPV4, "203.0.113.7");
    OK("203.0.113.7/32", PSI_IOC_IPV4, "203.0.113.7");
    OK("203.0.113.7:443", PSI_IOC_IPV4, "203.0.113.7");
    OK("203.0.113[.]7[:]8080", PSI_IOC_IPV4, "203.0.113.7");
    OK("203.0.113.7.443", PSI_IOC_IPV4, "203.0.113.7"); /* netstat */
    OK("1.2.3.4", PSI_IOC_IPV4, "1.2.3.4");
    OK("223.255.255.254", PSI_IOC_IPV4, "223.255.255.254");
}

static void test_ipv4_refused(void **state)
{
    (void)state;
    SKIP("010.1.1.1", PSI_IOC_SKIP_AMBIGUOUS);
    SKIP("203.0.113.07", PSI_IOC_SKIP_AMBIGUOUS);
    SKIP("256.1.1.1", PSI_IOC_SKIP_MALFORMED);
    SKIP("1.2.3.1000", PSI_IOC_SKIP_MALFORMED);
    SKIP("1.2.3", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("1.2.3.4.5.6", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("1.2.3.4.70000", PSI_IOC_SKIP_UNSUPPORTED); /* not a port */
    SKIP("1.2.3.4:0", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("1.2.3.4.", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("0x7f.0.0.1", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP_AS(PSI_IOC_IPV4, "evil.com", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_IPV4, "1.2.3", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_IPV4, "010.1.1.1", PSI_IOC_SKIP_AMBIGUOUS);
}

static void test_ipv4_reserved_and_generic(void **state)
{
    (void)state;
    static const char *const reserved[] = {
        "0.0.0.0",     "0.255.1.1",       "10.0.0.1",       "10.255.255.255", "100.64.0.1",
        "100.127.1.1", "127.0.0.1",       "169.254.1.1",    "172.16.0.1",     "172.31.255.255",
        "192.168.1.1", "198.18.0.1",      "198.19.255.255", "224.0.0.1",      "239.1.2.3",
        "240.0.0.1",   "255.255.255.255",
    };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        check_skip(PSI_IOC_NONE, reserved[i], strlen(reserved[i]), PSI_IOC_SKIP_RESERVED, __LINE__);
    /* the edges just outside are ordinary addresses */
    OK("100.63.255.255", PSI_IOC_IPV4, "100.63.255.255");
    OK("100.128.0.0", PSI_IOC_IPV4, "100.128.0.0");
    OK("172.15.255.255", PSI_IOC_IPV4, "172.15.255.255");
    OK("172.32.0.0", PSI_IOC_IPV4, "172.32.0.0");
    OK("169.253.1.1", PSI_IOC_IPV4, "169.253.1.1");
    OK("198.20.0.1", PSI_IOC_IPV4, "198.20.0.1");
    OK("223.255.255.255", PSI_IOC_IPV4, "223.255.255.255");
    /* documentation ranges are kept: examples use them */
    OK("192.0.2.1", PSI_IOC_IPV4, "192.0.2.1");
    OK("198.51.100.9", PSI_IOC_IPV4, "198.51.100.9");
    /* public resolvers */
    SKIP("8.8.8.8", PSI_IOC_SKIP_GENERIC);
    SKIP("1.1.1.1", PSI_IOC_SKIP_GENERIC);
    SKIP("9[.]9[.]9[.]9", PSI_IOC_SKIP_GENERIC);
    SKIP("208.67.222.222", PSI_IOC_SKIP_GENERIC);
    OK("8.8.8.9", PSI_IOC_IPV4, "8.8.8.9");
}

static void test_cidr4(void **state)
{
    (void)state;
    OK("198.51.100.0/24", PSI_IOC_CIDR4, "198.51.100.0/24");
    OK("198.51.100[.]0/24", PSI_IOC_CIDR4, "198.51.100.0/24");
    OK("11.0.0.0/8", PSI_IOC_CIDR4, "11.0.0.0/8");
    OK("198.51.100.128/25", PSI_IOC_CIDR4, "198.51.100.128/25");
    OK("198.51.100.4/31", PSI_IOC_CIDR4, "198.51.100.4/31");
    OK_AS(PSI_IOC_IPV4, "198.51.100.0/24", PSI_IOC_CIDR4, "198.51.100.0/24");
    OK_AS(PSI_IOC_CIDR4, "198.51.100.7/32", PSI_IOC_IPV4, "198.51.100.7");
    SKIP("198.51.100.7/24", PSI_IOC_SKIP_AMBIGUOUS); /* host bits set */
    SKIP("198.51.100.0/33", PSI_IOC_SKIP_MALFORMED);
    SKIP("198.51.100.0/024", PSI_IOC_SKIP_MALFORMED);
    SKIP("0.0.0.0/0", PSI_IOC_SKIP_GENERIC);
    SKIP("12.0.0.0/7", PSI_IOC_SKIP_GENERIC);
    SKIP("10.0.0.0/8", PSI_IOC_SKIP_RESERVED);
    SKIP("192.168.0.0/16", PSI_IOC_SKIP_RESERVED);
    /* an empty prefix is a path separator: "a.b.c.d/" is the address, as
     * "evil.com/" is the name */
    OK("198.51.100.0/", PSI_IOC_IPV4, "198.51.100.0");
}

/* ---- IPv6 ---------------------------------------------------------------- */

static void test_ipv6_rfc5952(void **state)
{
    (void)state;
    OK("2001:db8::1", PSI_IOC_IPV6, "2001:db8::1");
    OK("2001:DB8::1", PSI_IOC_IPV6, "2001:db8::1");
    OK("2001:0db8:0000:0000:0000:0000:0000:0001", PSI_IOC_IPV6, "2001:db8::1");
    OK("2001:db8:0:0:0:0:0:1", PSI_IOC_IPV6, "2001:db8::1");
    OK("2001:db8::0:1", PSI_IOC_IPV6, "2001:db8::1");
    /* a single zero group is not compressed (RFC 5952 4.2.2) */
    OK("2001:db8:0:1:1:1:1:1", PSI_IOC_IPV6, "2001:db8:0:1:1:1:1:1");
    OK("2001:db8::1:1:1:1:1", PSI_IOC_IPV6, "2001:db8:0:1:1:1:1:1");
    /* the longest run is compressed (4.2.3) ... */
    OK("2001:0:0:1:0:0:0:1", PSI_IOC_IPV6, "2001:0:0:1::1");
    /* ... the first one on a tie */
    OK("2001:db8:0:0:1:0:0:1", PSI_IOC_IPV6, "2001:db8::1:0:0:1");
    OK("2001:db8:1:0:0:1:0:0", PSI_IOC_IPV6, "2001:db8:1::1:0:0");
    OK("2001:db8:1:1:1:1:0:0", PSI_IOC_IPV6, "2001:db8:1:1:1:1::");
    OK("2001:db8:0:0:1:1:1:1", PSI_IOC_IPV6, "2001:db8::1:1:1:1");
    OK("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", PSI_IOC_IPV6,
       "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
    /* fanged and defanged, bracketed, with a port */
    OK("2001[:]db8[:][:]1", PSI_IOC_IPV6, "2001:db8::1");
    OK("[2001:db8::1]", PSI_IOC_IPV6, "2001:db8::1");
    OK("[2001:db8::1]:443", PSI_IOC_IPV6, "2001:db8::1");
    OK("2001:db8::1/128", PSI_IOC_IPV6, "2001:db8::1");
    /* embedded IPv4 */
    OK("::ffff:203.0.113.7", PSI_IOC_IPV4, "203.0.113.7");
    OK("::FFFF:cb00:7107", PSI_IOC_IPV4, "203.0.113.7");
    OK("64:ff9b::cb00:7107", PSI_IOC_IPV6, "64:ff9b::203.0.113.7");
    OK("64:ff9b::203.0.113.7", PSI_IOC_IPV6, "64:ff9b::203.0.113.7");
    OK("::ffff:0:203.0.113.7", PSI_IOC_IPV6, "::ffff:0:203.0.113.7");
    OK("2001:db8::203.0.113.7", PSI_IOC_IPV6, "2001:db8::cb00:7107");
    SKIP("::ffff:10.1.2.3", PSI_IOC_SKIP_RESERVED);
}

static void test_ipv6_refused(void **state)
{
    (void)state;
    SKIP("::", PSI_IOC_SKIP_RESERVED);
    SKIP("::1", PSI_IOC_SKIP_RESERVED);
    SKIP("fe80::1", PSI_IOC_SKIP_RESERVED);
    SKIP("fe80::1%eth0", PSI_IOC_SKIP_RESERVED);
    SKIP("febf::1", PSI_IOC_SKIP_RESERVED);
    SKIP("fec0::1", PSI_IOC_SKIP_RESERVED);
    SKIP("fc00::1", PSI_IOC_SKIP_RESERVED);
    SKIP("fd12:3456::1", PSI_IOC_SKIP_RESERVED);
    SKIP("ff02::1", PSI_IOC_SKIP_RESERVED);
    SKIP("100::1", PSI_IOC_SKIP_RESERVED);
    OK("fb00::1", PSI_IOC_IPV6, "fb00::1");
    SKIP("2001:4860:4860::8888", PSI_IOC_SKIP_GENERIC);
    SKIP("2606:4700:4700::1111", PSI_IOC_SKIP_GENERIC);
    SKIP("2001:db8::1%eth0", PSI_IOC_SKIP_MALFORMED);
    SKIP("1::2::3", PSI_IOC_SKIP_MALFORMED);
    SKIP(":::", PSI_IOC_SKIP_MALFORMED);
    SKIP("12345::1", PSI_IOC_SKIP_MALFORMED);
    SKIP("1:2:3:4:5:6:7:8:9", PSI_IOC_SKIP_MALFORMED);
    SKIP("2001:db8::g", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("[2001:db8::1]:99999", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP_AS(PSI_IOC_IPV6, "2001:db8::g", PSI_IOC_SKIP_MALFORMED);
}

static void test_cidr6(void **state)
{
    (void)state;
    OK("2001:db8::/32", PSI_IOC_CIDR6, "2001:db8::/32");
    OK("2001:DB8:0:0::/48", PSI_IOC_CIDR6, "2001:db8::/48");
    OK("2001:db8:1:2::/64", PSI_IOC_CIDR6, "2001:db8:1:2::/64");
    OK("2001:db8::100/120", PSI_IOC_CIDR6, "2001:db8::100/120");
    OK("::ffff:198.51.100.0/120", PSI_IOC_CIDR4, "198.51.100.0/24");
    OK("::ffff:198.51.100.7/128", PSI_IOC_IPV4, "198.51.100.7");
    SKIP("2001:db8::1/64", PSI_IOC_SKIP_AMBIGUOUS);
    SKIP("2001:db8::/129", PSI_IOC_SKIP_MALFORMED);
    SKIP("::/0", PSI_IOC_SKIP_GENERIC);
    SKIP("2000::/3", PSI_IOC_SKIP_GENERIC);
    SKIP("fe80::/64", PSI_IOC_SKIP_RESERVED);
    SKIP("fe80::/10", PSI_IOC_SKIP_GENERIC); /* wider than /16 is said first */
    SKIP("fc00::/7", PSI_IOC_SKIP_GENERIC);
    SKIP("fd00::/16", PSI_IOC_SKIP_RESERVED);
}

/* ---- domains ------------------------------------------------------------- */

static void test_domain_case_and_refang(void **state)
{
    (void)state;
    OK("evil.example.com", PSI_IOC_DOMAIN, "evil.example.com");
    OK("EVIL.Example.COM", PSI_IOC_DOMAIN, "evil.example.com");
    OK("evil.example.com.", PSI_IOC_DOMAIN, "evil.example.com");
    OK("evil[.]example[.]com", PSI_IOC_DOMAIN, "evil.example.com");
    OK("evil(.)example{.}com", PSI_IOC_DOMAIN, "evil.example.com");
    OK("evil[dot]example(dot)com", PSI_IOC_DOMAIN, "evil.example.com");
    OK("evil[DOT]example{Dot}com", PSI_IOC_DOMAIN, "evil.example.com");
    OK("`bestarg[.]com`", PSI_IOC_DOMAIN, "bestarg.com");
    OK("evil[[.]]com", PSI_IOC_DOMAIN, "evil.com"); /* nested marks reduce fully */
    OK("evil[(.)]com", PSI_IOC_DOMAIN, "evil.com");
    OK("hxxpfoo.com", PSI_IOC_DOMAIN, "hxxpfoo.com"); /* hxxp only as a scheme */
    OK("a_b.evil.com", PSI_IOC_DOMAIN, "a_b.evil.com");
    OK("xn--80ak6aa92e.com", PSI_IOC_DOMAIN, "xn--80ak6aa92e.com");
    OK("1.2.3.4.evil.com", PSI_IOC_DOMAIN, "1.2.3.4.evil.com");
    OK("evil.com:8080", PSI_IOC_DOMAIN, "evil.com");
    OK("ab--cd.com", PSI_IOC_DOMAIN, "ab--cd.com"); /* ASCII names are not IDNA-checked */
    OK("evil.xn--p1ai", PSI_IOC_DOMAIN, "evil.xn--p1ai");
    OK_AS(PSI_IOC_DOMAIN, "Evil.COM", PSI_IOC_DOMAIN, "evil.com");
    OK_AS(PSI_IOC_DOMAIN, "198.51.100.7", PSI_IOC_IPV4, "198.51.100.7");
    OK_AS(PSI_IOC_DOMAIN, "evil.com:443", PSI_IOC_DOMAIN, "evil.com");
}

static void test_domain_idn(void **state)
{
    (void)state;
    /* non-transitional: ß stays ß (xn--fa-hia), it is not mapped to "ss" */
    OK("faß.de", PSI_IOC_DOMAIN, "xn--fa-hia.de");
    OK("BÜCHER.example.com", PSI_IOC_DOMAIN, "xn--bcher-kva.example.com");
    OK("bücher.example.com", PSI_IOC_DOMAIN, "xn--bcher-kva.example.com");
    OK("XN--BCHER-KVA.example.com", PSI_IOC_DOMAIN, "xn--bcher-kva.example.com");
    /* NFC: u + combining diaeresis is ü */
    OK("bu\xcc\x88"
       "cher.example.com",
       PSI_IOC_DOMAIN, "xn--bcher-kva.example.com");
    /* ideographic and full-width full stops separate labels */
    OK("bücher\xe3\x80\x82"
       "example\xef\xbc\x8e"
       "com",
       PSI_IOC_DOMAIN, "xn--bcher-kva.example.com");
    OK("例え.テスト", PSI_IOC_DOMAIN, "xn--r8jz45g.xn--zckzah");
    OK("пример[.]рф", PSI_IOC_DOMAIN, "xn--e1afmkfd.xn--p1ai");
    OK_AS(PSI_IOC_DOMAIN, "münchen.de", PSI_IOC_DOMAIN, "xn--mnchen-3ya.de");
    SKIP_AS(PSI_IOC_DOMAIN, "xn--zz.com", PSI_IOC_SKIP_MALFORMED);  /* bad punycode */
    SKIP_AS(PSI_IOC_DOMAIN, "💩.la", PSI_IOC_SKIP_MALFORMED);        /* IDNA2008 disallowed */
    SKIP_AS(PSI_IOC_DOMAIN, "xn--ls8h.la", PSI_IOC_SKIP_MALFORMED); /* ... in either form */
    SKIP_AS(PSI_IOC_DOMAIN,
            "b\xfc"
            "cher.com",
            PSI_IOC_SKIP_MALFORMED); /* Latin-1, not UTF-8 */
    SKIP("b\xfc"
         "cher.com",
         PSI_IOC_SKIP_UNSUPPORTED);
}

static void test_domain_refused(void **state)
{
    (void)state;
    char name[300];
    /* a label of 63 is fine, of 64 too long */
    memset(name, 'a', 63);
    memcpy(name + 63, ".com", 5);
    OK(name, PSI_IOC_DOMAIN, name);
    memset(name, 'a', 64);
    memcpy(name + 64, ".com", 5);
    SKIP(name, PSI_IOC_SKIP_TOO_LONG);
    /* 253 bytes of name are fine, 254 too long */
    for (size_t last = 57; last <= 58; last++) {
        size_t n = 0;
        for (int i = 0; i < 4; i++) {
            size_t l = i < 3 ? 63 : last;
            memset(name + n, 'b', l);
            n += l;
            name[n++] = '.';
        }
        memcpy(name + n, "com", 4);
        assert_int_equal(strlen(name), 196 + last);
        if (last == 58) {
            SKIP(name, PSI_IOC_SKIP_TOO_LONG);
            continue;
        }
        OK(name, PSI_IOC_DOMAIN, name);
        /* the trailing root dot does not count */
        char rooted[300];
        (void)snprintf(rooted, sizeof rooted, "%s.", name);
        OK(rooted, PSI_IOC_DOMAIN, name);
    }
    SKIP("localhost", PSI_IOC_SKIP_GENERIC);
    SKIP("LOCALHOST.", PSI_IOC_SKIP_GENERIC);
    SKIP("db.localhost", PSI_IOC_SKIP_GENERIC);
    SKIP("printer.local", PSI_IOC_SKIP_GENERIC);
    SKIP("host.localdomain", PSI_IOC_SKIP_GENERIC);
    SKIP("git.corp.internal", PSI_IOC_SKIP_GENERIC);
    SKIP("nas.lan", PSI_IOC_SKIP_GENERIC);
    SKIP("router.home.arpa", PSI_IOC_SKIP_GENERIC);
    SKIP("foo.invalid", PSI_IOC_SKIP_GENERIC);
    OK("homearpa.com", PSI_IOC_DOMAIN, "homearpa.com");
    SKIP_AS(PSI_IOC_DOMAIN, "com", PSI_IOC_SKIP_GENERIC); /* a bare TLD */
    SKIP_AS(PSI_IOC_DOMAIN, "local", PSI_IOC_SKIP_GENERIC);
    SKIP("com", PSI_IOC_SKIP_UNSUPPORTED); /* untyped: just a word */
    SKIP("Domains:", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("SHA256", PSI_IOC_SKIP_UNSUPPORTED);

    /* names that look like files, untyped and typed */
    SKIP("update.exe", PSI_IOC_SKIP_FILENAME);
    SKIP("Appdata.zip", PSI_IOC_SKIP_FILENAME);
    SKIP("secretsdump.py", PSI_IOC_SKIP_FILENAME);
    SKIP("sam.save", PSI_IOC_SKIP_FILENAME);
    OK_AS(PSI_IOC_DOMAIN, "Appdata.zip", PSI_IOC_DOMAIN, "appdata.zip");
    OK("evil.pl", PSI_IOC_DOMAIN, "evil.pl");

    SKIP("-evil.com", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("evil-.com", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("evil..com", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP(".evil.com", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("evil.com..", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("evil.c0m", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("evil.c", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("ev!l.com", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("*.evil.com", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("C:\\Windows\\update.exe", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("Win32/Kryptik.HGCE", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP_AS(PSI_IOC_DOMAIN, "-evil.com", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_DOMAIN, "evil..com", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_DOMAIN, "evil.c0m", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_DOMAIN, "ev!l.com", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_DOMAIN, "localhost", PSI_IOC_SKIP_GENERIC);
    SKIP_AS(PSI_IOC_DOMAIN, "10.1.2.3", PSI_IOC_SKIP_RESERVED);
}

/* ---- e-mail -------------------------------------------------------------- */

/* Rules version 2: a domain that is itself a public suffix (libpsl's
 * built-in list, both sections) is generic; names under one are kept, and
 * so are URLs and e-mail addresses on one. */
static void test_domain_public_suffix(void **state)
{
    (void)state;
    SKIP("co.uk", PSI_IOC_SKIP_GENERIC);            /* ICANN section */
    SKIP("CO[.]UK.", PSI_IOC_SKIP_GENERIC);         /* any spelling of it */
    SKIP("github.io", PSI_IOC_SKIP_GENERIC);        /* private section */
    SKIP("s3.amazonaws.com", PSI_IOC_SKIP_GENERIC); /* private, three labels */
    SKIP("blogspot.com", PSI_IOC_SKIP_GENERIC);
    SKIP("foo.ck", PSI_IOC_SKIP_GENERIC);        /* a wildcard rule: *.ck */
    SKIP("github.io:443", PSI_IOC_SKIP_GENERIC); /* host:port is the host */
    SKIP_AS(PSI_IOC_DOMAIN, "co.uk", PSI_IOC_SKIP_GENERIC);
    SKIP_AS(PSI_IOC_DOMAIN, "github.io", PSI_IOC_SKIP_GENERIC);
    SKIP_AS(PSI_IOC_URL, "github.io", PSI_IOC_SKIP_GENERIC); /* a bare host is the host */
    /* IDN suffixes, in U- and A-label form */
    SKIP("公司.cn", PSI_IOC_SKIP_GENERIC);
    SKIP("xn--55qx5d.cn", PSI_IOC_SKIP_GENERIC);
    SKIP("東京.jp", PSI_IOC_SKIP_GENERIC);
    SKIP_AS(PSI_IOC_DOMAIN, "xn--4pvxs.jp", PSI_IOC_SKIP_GENERIC);
    /* names under a suffix are indicators */
    OK("example.co.uk", PSI_IOC_DOMAIN, "example.co.uk");
    OK("evil.github.io", PSI_IOC_DOMAIN, "evil.github.io");
    OK("bucket.s3.amazonaws.com", PSI_IOC_DOMAIN, "bucket.s3.amazonaws.com");
    OK("www.ck", PSI_IOC_DOMAIN, "www.ck"); /* the exception !www.ck */
    OK("例子.公司.cn", PSI_IOC_DOMAIN, "xn--fsqu00a.xn--55qx5d.cn");
    OK_AS(PSI_IOC_DOMAIN, "shop.xn--4pvxs.jp", PSI_IOC_DOMAIN, "shop.xn--4pvxs.jp");
    OK("example.com", PSI_IOC_DOMAIN, "example.com");
    /* no "*" default rule: an unknown TLD does not make a suffix */
    OK_AS(PSI_IOC_DOMAIN, "foo.unknowntld", PSI_IOC_DOMAIN, "foo.unknowntld");
    /* specific values on a suffix host stay */
    OK("https://s3.amazonaws.com/bucket/x.exe", PSI_IOC_URL,
       "https://s3.amazonaws.com/bucket/x.exe");
    OK("http://github.io/x", PSI_IOC_URL, "http://github.io/x");
    OK("github.io/x", PSI_IOC_URL, "http://github.io/x");
    OK("abuse@co.uk", PSI_IOC_EMAIL, "abuse@co.uk");
}

static void test_email(void **state)
{
    (void)state;
    OK("John.Doe@Evil.COM", PSI_IOC_EMAIL, "John.Doe@evil.com");
    OK("john[at]evil[.]com", PSI_IOC_EMAIL, "john@evil.com");
    OK("john(at)evil(dot)com", PSI_IOC_EMAIL, "john@evil.com");
    OK("john[@]evil.com", PSI_IOC_EMAIL, "john@evil.com");
    OK("john[AT]evil.com", PSI_IOC_EMAIL, "john@evil.com");
    OK("mailto:John@EVIL.com", PSI_IOC_EMAIL, "John@evil.com");
    OK("team.managment@outlook.com", PSI_IOC_EMAIL, "team.managment@outlook.com");
    OK("a+tag@bücher.example.com", PSI_IOC_EMAIL, "a+tag@xn--bcher-kva.example.com");
    OK("jörg@evil.com", PSI_IOC_EMAIL, "jörg@evil.com"); /* local part as given */
    OK("invoice@files.zip", PSI_IOC_EMAIL, "invoice@files.zip");
    OK_AS(PSI_IOC_EMAIL, "X@Y.example.com", PSI_IOC_EMAIL, "X@y.example.com");
    SKIP("a@b@evil.com", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("@evil.com", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("john@", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("jo hn@evil.com", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("\"john\"@evil.com", PSI_IOC_SKIP_UNSUPPORTED); /* quotes trimmed, then "john"@ */
    SKIP("root@localhost", PSI_IOC_SKIP_GENERIC);
    SKIP("admin@nas.lan", PSI_IOC_SKIP_GENERIC);
    SKIP_AS(PSI_IOC_EMAIL, "john@[203.0.113.7]", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_EMAIL, "john@203.0.113.7", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_EMAIL, "evil.com", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_EMAIL, "j\xff@evil.com", PSI_IOC_SKIP_MALFORMED);
    char local[80];
    memset(local, 'a', 65);
    memcpy(local + 65, "@evil.com", 10);
    SKIP_AS(PSI_IOC_EMAIL, local, PSI_IOC_SKIP_MALFORMED);
}

/* ---- URLs ---------------------------------------------------------------- */

static void test_url_rules(void **state)
{
    (void)state;
    OK("http://evil.com/", PSI_IOC_URL, "http://evil.com/");
    OK("HTTP://EVIL.COM/Path/To?Q=AbC", PSI_IOC_URL, "http://evil.com/Path/To?Q=AbC");
    OK("http://evil.com", PSI_IOC_URL, "http://evil.com/");
    OK("http://evil.com?q=1", PSI_IOC_URL, "http://evil.com/?q=1");
    OK("http://evil.com:80/a", PSI_IOC_URL, "http://evil.com/a");
    OK("https://evil.com:443/a", PSI_IOC_URL, "https://evil.com/a");
    OK("ftp://evil.com:21/a", PSI_IOC_URL, "ftp://evil.com/a");
    OK("http://evil.com:443/a", PSI_IOC_URL, "http://evil.com:443/a");
    OK("http://evil.com:0080/a", PSI_IOC_URL, "http://evil.com/a");
    OK("http://evil.com:8080/a", PSI_IOC_URL, "http://evil.com:8080/a");
    OK("http://evil.com:/a", PSI_IOC_URL, "http://evil.com/a");
    OK("tcp://evil.com:4444", PSI_IOC_URL, "tcp://evil.com:4444/");
    OK("http://evil.com/a#frag", PSI_IOC_URL, "http://evil.com/a");
    OK("http://evil.com/a?b=C#Frag?x", PSI_IOC_URL, "http://evil.com/a?b=C");
    OK("http://evil.com/%7euser/%2f%2F%41", PSI_IOC_URL, "http://evil.com/~user/%2F%2FA");
    OK("http://evil.com/a b<c>é", PSI_IOC_URL, "http://evil.com/a%20b%3Cc%3E%C3%A9");
    OK("http://evil.com/100%", PSI_IOC_URL, "http://evil.com/100%");
    OK("http://User:PW@Evil.com/", PSI_IOC_URL, "http://User:PW@evil.com/");
    OK("http://[2001:DB8::1]:8080/x", PSI_IOC_URL, "http://[2001:db8::1]:8080/x");
    OK("http://[::ffff:203.0.113.7]/x", PSI_IOC_URL, "http://203.0.113.7/x");
    OK("http://203.0.113.7/Mozi.a", PSI_IOC_URL, "http://203.0.113.7/Mozi.a");
    OK("http://bücher.example.com/Ü", PSI_IOC_URL, "http://xn--bcher-kva.example.com/%C3%9C");
    OK("http://evil.com./a", PSI_IOC_URL, "http://evil.com/a");
    OK("http://invoice.zip/a", PSI_IOC_URL, "http://invoice.zip/a"); /* a host, not a file */
}

/* Found by fuzzing (tests/fuzz/fuzz_ioc_canonical): a '%' that starts no
 * escape stays as it is, and decoding "%43" right after "%a" made "%aC", an
 * escape that the next canonicalisation read as 0xAC. Canonical values must
 * be fixed points, so a hex digit that would complete such an escape is
 * written escaped; where nothing is completed, decoding goes on as before. */
static void test_url_stray_percent(void **state)
{
    static const char *const canonical[] = {
        "http://evil.com/a%a%43", "http://evil.com/%4%31", "http://evil.com/a%a%62",
        "http://evil.com/%A/",    "http://evil.com/100%",
    };
    (void)state;
    OK("http://evil.com/a%a%43", PSI_IOC_URL, canonical[0]);  /* not "a%aC" */
    OK("http://evil.com/%%34%31", PSI_IOC_URL, canonical[1]); /* not "%41" */
    OK("http://evil.com/%%341", PSI_IOC_URL, canonical[1]);
    OK("http://evil.com/a%%61%62", PSI_IOC_URL, canonical[2]); /* not "a%ab" */
    OK("http://evil.com/a%%61b", PSI_IOC_URL, canonical[2]);
    OK("http://evil.com/%%41/", PSI_IOC_URL, canonical[3]); /* nothing completed */
    for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++)
        OK(canonical[i], PSI_IOC_URL, canonical[i]);
}

static void test_url_refang(void **state)
{
    (void)state;
    OK("hxxp://evil[.]com/a", PSI_IOC_URL, "http://evil.com/a");
    OK("hXXp://evil[.]com/a", PSI_IOC_URL, "http://evil.com/a");
    OK("HXXPS://evil[.]com/a", PSI_IOC_URL, "https://evil.com/a");
    OK("h**p://evil[.]com/a", PSI_IOC_URL, "http://evil.com/a");
    OK("h**ps://evil[.]com/a", PSI_IOC_URL, "https://evil.com/a");
    OK("hxxp[://]evil[.]com/a", PSI_IOC_URL, "http://evil.com/a");
    OK("hxxps[:]//evil[.]com[:]8443/a", PSI_IOC_URL, "https://evil.com:8443/a");
    OK("http://evil.com/hxxp", PSI_IOC_URL, "http://evil.com/hxxp"); /* data, not a scheme */
}

static void test_url_not_url(void **state)
{
    (void)state;
    /* an IP is not also a URL, nor is a bare name; no forced http:// */
    OK("203.0.113.7", PSI_IOC_IPV4, "203.0.113.7");
    OK("evil.com", PSI_IOC_DOMAIN, "evil.com");
    OK("evil.com/", PSI_IOC_DOMAIN, "evil.com");
    OK_AS(PSI_IOC_URL, "143.92.48.38", PSI_IOC_IPV4, "143.92.48.38");
    OK_AS(PSI_IOC_URL, "www.allsoulu.com", PSI_IOC_DOMAIN, "www.allsoulu.com");
    OK_AS(PSI_IOC_URL, "now.asmkpo.com:80", PSI_IOC_DOMAIN, "now.asmkpo.com");
    OK_AS(PSI_IOC_URL, "[2001:db8::1]", PSI_IOC_IPV6, "2001:db8::1");
    /* a scheme-less URL with a path is read as http */
    OK_AS(PSI_IOC_URL, "speed.wlaspsd.com/vip.js", PSI_IOC_URL, "http://speed.wlaspsd.com/vip.js");
    OK("evil.com/Gate.php?id=1", PSI_IOC_URL, "http://evil.com/Gate.php?id=1");
    OK("203.0.113.7:8080/x", PSI_IOC_URL, "http://203.0.113.7:8080/x");
    SKIP("update.exe/x", PSI_IOC_SKIP_FILENAME);
    SKIP_AS(PSI_IOC_URL, "/", PSI_IOC_SKIP_GENERIC);
    SKIP_AS(PSI_IOC_URL, "/gate.php", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("/", PSI_IOC_SKIP_UNSUPPORTED);
}

static void test_url_refused(void **state)
{
    (void)state;
    SKIP("http://", PSI_IOC_SKIP_MALFORMED);
    SKIP("http:///a", PSI_IOC_SKIP_MALFORMED);
    SKIP("file:///etc/passwd", PSI_IOC_SKIP_MALFORMED);
    SKIP("http://evil.com:99999/", PSI_IOC_SKIP_MALFORMED);
    SKIP("http://evil.com:8o/", PSI_IOC_SKIP_MALFORMED);
    SKIP("http://[2001:db8::1/", PSI_IOC_SKIP_MALFORMED);
    SKIP("http://[2001:db8::1]x/", PSI_IOC_SKIP_MALFORMED);
    SKIP("http://[evil.com]/", PSI_IOC_SKIP_MALFORMED);
    SKIP("http://ev il.com/", PSI_IOC_SKIP_MALFORMED);
    SKIP("http://evil.com/a\x01", PSI_IOC_SKIP_UNSUPPORTED); /* control: untyped, not a value */
    SKIP_AS(PSI_IOC_URL, "http://evil.com/a\x01", PSI_IOC_SKIP_MALFORMED);
    SKIP("http://www.welivesecurity.com[WeLiveSecurity]", PSI_IOC_SKIP_MALFORMED);
    SKIP("http://010.1.1.1/", PSI_IOC_SKIP_AMBIGUOUS);
    SKIP("http://localhost/x", PSI_IOC_SKIP_GENERIC);
    SKIP("http://127.0.0.1:8080/x", PSI_IOC_SKIP_RESERVED);
    SKIP("http://[::1]/x", PSI_IOC_SKIP_RESERVED);
    SKIP("1http://evil.com/", PSI_IOC_SKIP_UNSUPPORTED);
    /* longer than PSI_IOC_VALUE_MAX once canonical */
    char *url = malloc(PSI_IOC_VALUE_MAX + 64);
    assert_non_null(url);
    int n = snprintf(url, 32, "http://evil.com/");
    memset(url + n, 'a', PSI_IOC_VALUE_MAX);
    url[(size_t)n + PSI_IOC_VALUE_MAX] = '\0';
    SKIP(url, PSI_IOC_SKIP_TOO_LONG);
    /* exactly the limit is kept */
    url[PSI_IOC_VALUE_MAX] = '\0';
    OK(url, PSI_IOC_URL, url);
    /* escapes that grow past the limit */
    memset(url + n, ' ', PSI_IOC_VALUE_MAX - (size_t)n);
    url[PSI_IOC_VALUE_MAX - 1] = 'x';
    SKIP(url, PSI_IOC_SKIP_TOO_LONG);
    free(url);
}

/* ---- hashes -------------------------------------------------------------- */

static void test_hashes(void **state)
{
    (void)state;
    OK("d41d8cd98f00b204e9800998ecf8427e", PSI_IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e");
    OK("D41D8CD98F00B204E9800998ECF8427E", PSI_IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e");
    OK("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", PSI_IOC_SHA1,
       "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    OK("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", PSI_IOC_SHA256,
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *sha512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                         "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
    OK(sha512, PSI_IOC_SHA512, sha512);
    OK_AS(PSI_IOC_SHA256, " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ",
          PSI_IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* wrong length or digits */
    SKIP("d41d8cd98f00b204e9800998ecf8427", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("d41d8cd98f00b204e9800998ecf8427e0", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("g41d8cd98f00b204e9800998ecf8427e", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP_AS(PSI_IOC_MD5, "da39a3ee5e6b4b0d3255bfef95601890afd80709", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_SHA1, "d41d8cd98f00b204e9800998ecf8427e", PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_SHA256, "z3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            PSI_IOC_SKIP_MALFORMED);
    SKIP_AS(PSI_IOC_SHA512, "", PSI_IOC_SKIP_MALFORMED);
}

/* ---- garbage ------------------------------------------------------------- */

static void test_garbage(void **state)
{
    (void)state;
    SKIP("", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("   \t ", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("\"\"", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("[.]", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("hxxp", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP("Cobalt Strike C2 communication", PSI_IOC_SKIP_UNSUPPORTED);
    SKIP_AS(PSI_IOC_DOMAIN, "", PSI_IOC_SKIP_MALFORMED);
    /* NUL inside a value */
    check_skip(PSI_IOC_NONE, "evil.com\0x", 10, PSI_IOC_SKIP_UNSUPPORTED, __LINE__);
    check_skip(PSI_IOC_DOMAIN, "evil.com\0x", 10, PSI_IOC_SKIP_MALFORMED, __LINE__);
    check_skip(PSI_IOC_NONE, "\0", 1, PSI_IOC_SKIP_UNSUPPORTED, __LINE__);
    /* a value given with an explicit length is read only to that length */
    check_ok(PSI_IOC_NONE, "evil.comXXXX", 8, PSI_IOC_DOMAIN, "evil.com", __LINE__);
    /* too long before any work */
    size_t big = PSI_IOC_INPUT_MAX + 1;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, 'a', big);
    huge[big] = '\0';
    check_skip(PSI_IOC_NONE, huge, big, PSI_IOC_SKIP_TOO_LONG, __LINE__);
    check_skip(PSI_IOC_URL, huge, big, PSI_IOC_SKIP_TOO_LONG, __LINE__);
    /* surrounding blanks do not count against the limit */
    memset(huge, ' ', big);
    memcpy(huge + 100, "evil.com", 8);
    check_ok(PSI_IOC_NONE, huge, big, PSI_IOC_DOMAIN, "evil.com", __LINE__);
    free(huge);

    /* random bytes: never a crash, always a valid answer, and whatever is
     * accepted is canonical (canonicalising it again changes nothing) */
    uint32_t seed = 12345;
    unsigned char buf[96];
    static const char alphabet[] = "0123456789abcdefABCDEF.:/[]()@%-_ \t\"'xhtp*#?";
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        len = (seed >> 16) % sizeof buf;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned v = (seed >> 16) & 0xffffu;
            buf[i] = (round & 1) ? (unsigned char)(v & 0xffu)
                                 : (unsigned char)alphabet[v % (sizeof alphabet - 1)];
        }
        struct psi_ioc out, again;
        enum psi_ioc_skip why = PSI_IOC_SKIP_COUNT;
        enum psi_ioc_type as = (enum psi_ioc_type)(round % (int)PSI_IOC_TYPE_COUNT);
        int rc = as == PSI_IOC_NONE
                     ? psi_ioc_canonicalise((const char *)buf, len, &out, &why)
                     : psi_ioc_canonicalise_as(as, (const char *)buf, len, &out, &why);
        if (rc == PSI_ERR_UNSUPPORTED) {
            assert_true((unsigned)why < PSI_IOC_SKIP_COUNT);
            continue;
        }
        assert_int_equal(rc, PSI_OK);
        assert_true(out.type != PSI_IOC_NONE);
        assert_int_equal(strlen(out.value), out.len);
        assert_int_equal(psi_ioc_canonicalise_as(out.type, out.value, out.len, &again, &why),
                         PSI_OK);
        assert_int_equal(again.type, out.type);
        assert_string_equal(again.value, out.value);
    }
}

/* Every canonical value is a fixed point, typed and untyped. */
static void test_canonical_is_fixed_point(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "203.0.113[.]7",
        "2001:0DB8::0001",
        "::ffff:198.51.100.7",
        "64:ff9b::cb00:7107",
        "198.51.100.0/24",
        "2001:db8::/48",
        "EVIL[.]com",
        "faß.de",
        "John[at]Bücher.example.com",
        "hxxp://Evil.com:80/P?q#f",
        "http://[2001:db8::1]:81/%7e%20",
        "D41D8CD98F00B204E9800998ECF8427E",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct psi_ioc first, second;
        enum psi_ioc_skip why;
        assert_int_equal(psi_ioc_canonicalise(inputs[i], strlen(inputs[i]), &first, &why), PSI_OK);
        assert_int_equal(psi_ioc_canonicalise(first.value, first.len, &second, &why), PSI_OK);
        assert_int_equal(first.type, second.type);
        assert_string_equal(first.value, second.value);
        assert_int_equal(psi_ioc_canonicalise_as(first.type, first.value, first.len, &second, &why),
                         PSI_OK);
        assert_string_equal(first.value, second.value);
    }
}

/* ---- names, encoding, arguments ------------------------------------------ */

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {"ipv4", "ipv6", "cidr4", "cidr6",  "domain", "email",
                                        "url",  "md5",  "sha1",  "sha256", "sha512"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        enum psi_ioc_type t;
        assert_int_equal(psi_ioc_type_from_name(names[i], &t), PSI_OK);
        assert_int_equal(t, (enum psi_ioc_type)(i + 1));
        assert_string_equal(psi_ioc_type_name(t), names[i]);
        assert_true(strlen(names[i]) <= PSI_IOC_TYPE_NAME_MAX);
    }
    enum psi_ioc_type t;
    assert_int_equal(psi_ioc_type_from_name("IPV4", &t), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_ioc_type_from_name("none", &t), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_ioc_type_from_name(NULL, &t), PSI_ERR_INVALID);
    assert_string_equal(psi_ioc_type_name(PSI_IOC_NONE), "none");
    assert_string_equal(psi_ioc_type_name((enum psi_ioc_type)99), "none");
    static const char *const reasons[] = {"unsupported", "malformed",         "reserved",
                                          "generic",     "too-long",          "ambiguous",
                                          "filename",    "not-for-detection", "excluded"};
    for (unsigned i = 0; i < PSI_IOC_SKIP_COUNT; i++)
        assert_string_equal(psi_ioc_skip_name((enum psi_ioc_skip)i), reasons[i]);
    assert_string_equal(psi_ioc_skip_name((enum psi_ioc_skip)99), "unknown");
}

/* Every type of the table has a name, and the file hashes are exactly the
 * four hex types, each recognised untyped by its length. */
static void test_type_table(void **state)
{
    (void)state;
    for (unsigned i = 1; i < PSI_IOC_TYPE_COUNT; i++) {
        enum psi_ioc_type t = (enum psi_ioc_type)i, back;
        assert_string_not_equal(psi_ioc_type_name(t), "none");
        assert_int_equal(psi_ioc_type_from_name(psi_ioc_type_name(t), &back), PSI_OK);
        assert_int_equal(back, t);
    }
    static const struct {
        enum psi_ioc_type type;
        size_t hex;
    } hashes[] = {
        {PSI_IOC_MD5, 32}, {PSI_IOC_SHA1, 40}, {PSI_IOC_SHA256, 64}, {PSI_IOC_SHA512, 128}};
    unsigned count = 0;
    for (unsigned i = 0; i < PSI_IOC_TYPE_COUNT + 1; i++)
        count += psi_ioc_type_is_file_hash((enum psi_ioc_type)i);
    assert_int_equal(count, sizeof hashes / sizeof hashes[0]);
    char hex[PSI_IOC_HASH_HEX_MAX + 2];
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
        assert_true(psi_ioc_type_is_file_hash(hashes[i].type));
        memset(hex, 'a', hashes[i].hex);
        struct psi_ioc out;
        enum psi_ioc_skip why;
        assert_int_equal(psi_ioc_canonicalise(hex, hashes[i].hex, &out, &why), PSI_OK);
        assert_int_equal(out.type, hashes[i].type);
    }
    memset(hex, 'a', sizeof hex);
    struct psi_ioc out;
    enum psi_ioc_skip why;
    assert_int_equal(psi_ioc_canonicalise_as(PSI_IOC_SHA512, hex, sizeof hex, &out, &why),
                     PSI_ERR_UNSUPPORTED);
    assert_false(psi_ioc_type_is_file_hash(PSI_IOC_NONE));
    assert_false(psi_ioc_type_is_file_hash(PSI_IOC_DOMAIN));
}

static void test_encode(void **state)
{
    (void)state;
    unsigned char out[PSI_IOC_ENCODED_MAX];
    size_t len = 0;
    assert_int_equal(psi_ioc_encode(PSI_IOC_IPV4, "203.0.113.7", 11, out, sizeof out, &len),
                     PSI_OK);
    assert_int_equal(len, 16);
    assert_memory_equal(out, "ipv4:203.0.113.7", 16);
    assert_int_equal(psi_ioc_encode(PSI_IOC_SHA256, "ab", 2, out, sizeof out, &len), PSI_OK);
    assert_memory_equal(out, "sha256:ab", 9);
    /* the longest value of the longest type name fits PSI_IOC_ENCODED_MAX */
    static char value[PSI_IOC_VALUE_MAX];
    memset(value, 'a', sizeof value);
    assert_int_equal(psi_ioc_encode(PSI_IOC_DOMAIN, value, sizeof value, out, sizeof out, &len),
                     PSI_OK);
    assert_int_equal(len, PSI_IOC_ENCODED_MAX);
    assert_int_equal(psi_ioc_encode(PSI_IOC_DOMAIN, value, sizeof value, out, sizeof out - 1, &len),
                     PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_ioc_encode(PSI_IOC_URL, "x", 1, out, 4, &len), PSI_ERR_TOO_LARGE);
    assert_int_equal(psi_ioc_encode(PSI_IOC_NONE, "x", 1, out, sizeof out, &len), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_encode((enum psi_ioc_type)42, "x", 1, out, sizeof out, &len),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_encode(PSI_IOC_URL, NULL, 1, out, sizeof out, &len), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_encode(PSI_IOC_URL, "x", 1, NULL, sizeof out, &len), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_encode(PSI_IOC_URL, "x", 1, out, sizeof out, NULL), PSI_ERR_INVALID);
    assert_int_equal(
        psi_ioc_encode(PSI_IOC_URL, value, PSI_IOC_VALUE_MAX + 1, out, sizeof out, &len),
        PSI_ERR_INVALID);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct psi_ioc out;
    enum psi_ioc_skip why;
    assert_int_equal(psi_ioc_canonicalise(NULL, 1, &out, &why), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_canonicalise("x", 1, NULL, &why), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_canonicalise("x", 1, &out, NULL), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_canonicalise(NULL, 0, &out, &why), PSI_ERR_UNSUPPORTED);
    assert_int_equal(psi_ioc_canonicalise_as(PSI_IOC_NONE, "x", 1, &out, &why), PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_canonicalise_as((enum psi_ioc_type)77, "x", 1, &out, &why),
                     PSI_ERR_INVALID);
    assert_int_equal(psi_ioc_canonicalise_as(PSI_IOC_MD5, NULL, 3, &out, &why), PSI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_forms),
        cmocka_unit_test(test_ipv4_refused),
        cmocka_unit_test(test_ipv4_reserved_and_generic),
        cmocka_unit_test(test_cidr4),
        cmocka_unit_test(test_ipv6_rfc5952),
        cmocka_unit_test(test_ipv6_refused),
        cmocka_unit_test(test_cidr6),
        cmocka_unit_test(test_domain_case_and_refang),
        cmocka_unit_test(test_domain_idn),
        cmocka_unit_test(test_domain_refused),
        cmocka_unit_test(test_domain_public_suffix),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test(test_url_stray_percent),
        cmocka_unit_test(test_url_refang),
        cmocka_unit_test(test_url_not_url),
        cmocka_unit_test(test_url_refused),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_canonical_is_fixed_point),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_type_table),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
