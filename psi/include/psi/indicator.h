/*
 * Canonical indicators of compromise: the one module that holds the rules.
 *
 * Two parties match an indicator only if both turn it into the same bytes, so
 * canonicalisation is part of the protocol (docs/protocol.md, "Indicators") and is
 * versioned with it (PSI_IOC_RULES_VERSION). This module promises:
 *
 *  - one canonical (type, value) pair for every spelling of an indicator that
 *    analysts treat as the same: defanged or not, any letter case where case
 *    does not matter, IDNA U-label or A-label, any IPv6 text form;
 *  - a reason for every value it refuses (enum psi_ioc_skip), never a crash:
 *    inputs are untrusted bytes of any length, NULs and invalid UTF-8
 *    included;
 *  - the exact bytes the protocol hashes to the group: type ":" value.
 *
 * It also keeps a de-duplicating set of canonical indicators (insertion
 * order, hashed lookup keyed with a random SipHash key so that crafted inputs
 * cannot degrade it) with the counts a person wants to see after reading a
 * file: read, kept, duplicates, skipped by reason and unsupported by name.
 *
 * The rules, in the order they are applied (docs/indicators.md explains why):
 *
 *  1. Surrounding white space, quotes and back-quotes are trimmed. Refang:
 *     "[.]" "(.)" "{.}" "[dot]" "(dot)" "{dot}" -> "."; "[:]" -> ":";
 *     "[at]" "(at)" "[@]" -> "@"; "[://]" -> "://" (bracket words in any
 *     case; nested marks such as "[[.]]" reduce fully); "hxxp" "hXXp"
 *     "h**p" (and the "s" forms) -> "http" when they are the scheme of a
 *     URL (followed by "://"), so a name such as hxxpfoo.com stays itself.
 *  2. ipv4: dotted quad of decimal octets. A leading zero ("010.1.1.1") is
 *     refused as ambiguous: inet_aton reads it as octal, people as decimal.
 *     "/32" is dropped; other prefixes make a cidr4 whose host bits must be
 *     zero ("10.1.2.3/8" is refused as ambiguous: host or network?).
 *  3. ipv6: RFC 5952 text (lower case, longest run of two or more zero
 *     groups compressed, first one on a tie). An IPv4-mapped address
 *     (::ffff:a.b.c.d) is the IPv4 host and becomes ipv4; 64:ff9b::/96 and
 *     ::ffff:0:0:0/96 print their IPv4 tail dotted (RFC 5952 section 5).
 *     "/128" is dropped; other prefixes make a cidr6 (host bits zero).
 *  4. domain: lower case, no trailing dot, at least two labels, labels of
 *     letters, digits, '-' and '_' (no leading or trailing '-'), a top-level
 *     label of letters (or an "xn--" label). Non-ASCII labels become A-labels
 *     through libidn2 with UTS #46 non-transitional processing and NFC input
 *     (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT): the IDNA2008 reading modern
 *     browsers use, so "faß.de" is xn--fa-hia.de, not fass.de. "xn--" labels
 *     given as such must survive libidn2's check.
 *  5. email: local part exactly as given (printable, at most 64 bytes, valid
 *     UTF-8, no quoting), domain as in 4. A leading "mailto:" is dropped.
 *  6. url: scheme and host lower case, host as in 2-4 (brackets kept around
 *     IPv6), default port dropped (http 80, https 443, ftp 21, ws 80, wss
 *     443), empty path becomes "/", fragment dropped, path and query case
 *     kept; percent-escapes get upper-case hex and escaped unreserved
 *     characters are decoded (RFC 3986 section 6.2.2); a '%' that starts
 *     no escape stays, and a hex digit that would complete it into one is
 *     written escaped ("%%34%31" -> "%4%31"), so that canonical values are
 *     fixed points; bytes outside printable ASCII are percent-escaped;
 *     control characters are refused.
 *     A URL without a scheme but with a path is read as "http://..." the way
 *     a browser would; without a path it is just its host (no forced
 *     "http://" on bare domains, and an IP is never reported as a URL).
 *  7. md5, sha1, sha256, sha512: lower-case hex of exactly 32, 40, 64, 128
 *     digits.
 *  8. Generic values are skipped: localhost and the *.localhost, *.local,
 *     *.localdomain, *.internal, *.lan, *.home.arpa, *.invalid names, bare
 *     top-level labels, ranges wider than /8 (IPv4) or /16 (IPv6), and a few
 *     public resolvers (8.8.8.8, 1.1.1.1, 9.9.9.9, ... see indicator.c).
 *     A domain indicator that is itself a public suffix (rules version 2) is
 *     generic too: "co.uk", "github.io", "s3.amazonaws.com", "公司.cn",
 *     from both sections (ICANN and private) of the Public Suffix List as
 *     built into libpsl (psl_builtin(), no "*" default rule), so a name
 *     under one ("example.co.uk", "evil.github.io") is kept. Only domain
 *     indicators are checked: the host of a URL or e-mail address is not.
 *     Private, loopback, link-local, shared (100.64/10), benchmarking,
 *     multicast, reserved and unspecified addresses are skipped as reserved.
 *     Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24,
 *     2001:db8::/32) are kept: examples and tests use them.
 *
 * Untyped values (psi_ioc_canonicalise) are recognised in this order: URL
 * (scheme "://"), e-mail ('@'), hash (hex of a hash length), IPv6, IPv4
 * (also "ip:port" and the netstat form "a.b.c.d.port": the port is dropped),
 * CIDR, "host:port" (port dropped), scheme-less URL, domain. In that mode a
 * name whose last label is a common file extension ("update.exe",
 * "invoice.zip") is refused as a file name, because text lists mix file
 * names with domains; callers who know a value is a domain use
 * psi_ioc_canonicalise_as(), which has no such guess.
 */
#ifndef PSI_INDICATOR_H
#define PSI_INDICATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "psi/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the rules above. Parties match only under the same version. */
#define PSI_IOC_RULES_VERSION 2U

/* Longest canonical value (bytes, without the terminating NUL). Longer URLs
 * are skipped as too long: they are rarely shared verbatim anyway. */
#define PSI_IOC_VALUE_MAX 2048U
/* Longest input looked at; longer inputs are skipped as too long before any
 * other work, so a multi-megabyte "line" costs nothing but its scan. */
#define PSI_IOC_INPUT_MAX 8192U
/* Most hex digits of a file hash (sha512). */
#define PSI_IOC_HASH_HEX_MAX 128U
/* Longest type name ("domain", "sha256", ...). */
#define PSI_IOC_TYPE_NAME_MAX 6U
/* Longest encoding "type:value" (see psi_ioc_encode). */
#define PSI_IOC_ENCODED_MAX (PSI_IOC_TYPE_NAME_MAX + 1U + PSI_IOC_VALUE_MAX)
/* DNS limits (RFC 1035) and the e-mail path limit (RFC 5321). */
#define PSI_IOC_DOMAIN_MAX 253U
#define PSI_IOC_LABEL_MAX 63U
#define PSI_IOC_EMAIL_MAX 254U
#define PSI_IOC_EMAIL_LOCAL_MAX 64U

enum psi_ioc_type {
    PSI_IOC_NONE = 0, /* not an indicator; never in a set */
    PSI_IOC_IPV4,
    PSI_IOC_IPV6,
    PSI_IOC_CIDR4,
    PSI_IOC_CIDR6,
    PSI_IOC_DOMAIN,
    PSI_IOC_EMAIL,
    PSI_IOC_URL,
    PSI_IOC_MD5,
    PSI_IOC_SHA1,
    PSI_IOC_SHA256,
    PSI_IOC_SHA512,
};
#define PSI_IOC_TYPE_COUNT 12U /* including PSI_IOC_NONE */

/* Why a value is not an indicator. Names (psi_ioc_skip_name) are stable. */
enum psi_ioc_skip {
    PSI_IOC_SKIP_UNSUPPORTED = 0,   /* "unsupported": of no supported type */
    PSI_IOC_SKIP_MALFORMED,         /* "malformed": claims a type, breaks its rules */
    PSI_IOC_SKIP_RESERVED,          /* "reserved": private, loopback, multicast... */
    PSI_IOC_SKIP_GENERIC,           /* "generic": localhost, bare TLD, /0, resolvers */
    PSI_IOC_SKIP_TOO_LONG,          /* "too-long": over a length limit */
    PSI_IOC_SKIP_AMBIGUOUS,         /* "ambiguous": 010.1.1.1, 10.1.2.3/8 */
    PSI_IOC_SKIP_FILENAME,          /* "filename": update.exe read as a domain */
    PSI_IOC_SKIP_NOT_FOR_DETECTION, /* "not-for-detection": MISP to_ids false */
    PSI_IOC_SKIP_EXCLUDED,          /* "excluded": in the party's own exclusions */
};
#define PSI_IOC_SKIP_COUNT 9U

/* A canonical indicator. value is NUL-terminated; len excludes the NUL. */
struct psi_ioc {
    enum psi_ioc_type type;
    size_t len;
    char value[PSI_IOC_VALUE_MAX + 1];
};

/* "ipv4", "ipv6", "cidr4", "cidr6", "domain", "email", "url", "md5",
 * "sha1", "sha256", "sha512"; "none" for PSI_IOC_NONE and unknown values. */
PSI_EXPORT const char *psi_ioc_type_name(enum psi_ioc_type type);
/* The type named exactly (lower case) by name; PSI_ERR_NOT_FOUND if none. */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_type_from_name(const char *name, enum psi_ioc_type *type);
/* Whether type is a file hash (md5, sha1, sha256, sha512: hex digits of a
 * fixed length, at most PSI_IOC_HASH_HEX_MAX). */
PSI_EXPORT bool psi_ioc_type_is_file_hash(enum psi_ioc_type type);
/* "unsupported", "malformed", "reserved", "generic", "too-long",
 * "ambiguous", "filename", "not-for-detection", "excluded"; "unknown" for
 * values out of range. The last two are never given by canonicalisation:
 * readers (MISP to_ids) and the set (its exclusions) decide them. */
PSI_EXPORT const char *psi_ioc_skip_name(enum psi_ioc_skip reason);

/*
 * Recognise and canonicalise an untyped value (in, len: any bytes).
 * Returns 0 and fills *out, or PSI_ERR_UNSUPPORTED and sets *why (out is
 * then left with type PSI_IOC_NONE), or PSI_ERR_INVALID for NULL pointers.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_canonicalise(const char *in, size_t len, struct psi_ioc *out,
                                                   enum psi_ioc_skip *why);

/*
 * Canonicalise a value the caller says is of type `type`. The type names a
 * family, and the canonical type may be a sibling in it: ipv4/ipv6/cidr4/
 * cidr6 all mean "an address or a range"; domain accepts a host given as an
 * IP (and then yields ipv4/ipv6) and drops a ":port"; url accepts a bare host
 * (yielding domain/ipv4/ipv6) and a scheme-less URL. Hash types are exact:
 * a 40-digit value given as md5 is malformed. Returns as psi_ioc_canonicalise.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_canonicalise_as(enum psi_ioc_type type, const char *in,
                                                      size_t len, struct psi_ioc *out,
                                                      enum psi_ioc_skip *why);

/*
 * The bytes the protocol hashes to the group: type name, ':', value.
 * Writes them to out (cap bytes; no NUL is added) and their length to
 * *out_len. PSI_ERR_INVALID for a bad type or NULLs, PSI_ERR_TOO_LARGE if
 * cap is short (PSI_IOC_ENCODED_MAX is always enough).
 */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_encode(enum psi_ioc_type type, const char *value, size_t len,
                                             unsigned char *out, size_t cap, size_t *out_len);

/* ---- de-duplicating set --------------------------------------------- */

/* Counts over every value offered to a set. read = kept + duplicates +
 * the sum of skipped[]. */
struct psi_ioc_stats {
    uint64_t read;
    uint64_t kept;
    uint64_t duplicates;
    uint64_t skipped[PSI_IOC_SKIP_COUNT];
};

/* One member of a set; value points into the set, NUL-terminated, valid
 * until the set is freed (members never move). */
struct psi_ioc_ref {
    enum psi_ioc_type type;
    const char *value;
    size_t len;
};

/* Distinct names of unsupported kinds ("misp:text", "stix:file:name") kept
 * per set; later names are counted under "(other)". */
#define PSI_IOC_UNSUPPORTED_NAMES_MAX 64U
#define PSI_IOC_UNSUPPORTED_NAME_MAX 63U

struct psi_ioc_set;

/* A new empty set. PSI_ERR_NOMEM, or PSI_ERR_CRYPTO if libsodium cannot
 * initialise (its random key keys the lookup hash). */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_set_new(struct psi_ioc_set **out);
PSI_EXPORT void psi_ioc_set_free(struct psi_ioc_set *set);

/* Add a canonical indicator (as produced above; not re-checked). Counts one
 * value read. Returns 0 if new, 1 if already present (a duplicate),
 * PSI_ERR_INVALID for a bad type or length, PSI_ERR_NOMEM. */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_set_add(struct psi_ioc_set *set, const struct psi_ioc *ioc);

/* Count one value read and skipped for `reason`. `name` (may be NULL) says
 * what kind of value it was, for the per-name counts of unsupported values
 * (only recorded for PSI_IOC_SKIP_UNSUPPORTED; truncated to
 * PSI_IOC_UNSUPPORTED_NAME_MAX bytes). */
PSI_EXPORT void psi_ioc_set_skip(struct psi_ioc_set *set, enum psi_ioc_skip reason,
                                 const char *name);

/* Canonicalise one untyped (type == PSI_IOC_NONE) or typed value and add it
 * or count it skipped. Returns 0 added, 1 duplicate, PSI_ERR_UNSUPPORTED
 * skipped (reason in *why if why is not NULL), PSI_ERR_NOMEM. */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_set_offer(struct psi_ioc_set *set, enum psi_ioc_type type,
                                                const char *in, size_t len, enum psi_ioc_skip *why);

PSI_EXPORT size_t psi_ioc_set_count(const struct psi_ioc_set *set);
/* Member number `index` in insertion order. PSI_ERR_NOT_FOUND past the end. */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_set_get(const struct psi_ioc_set *set, size_t index,
                                              struct psi_ioc_ref *out);
/* Whether a canonical (type, value) is a member; its index in *index if
 * index is not NULL. Returns 0 if found, PSI_ERR_NOT_FOUND otherwise. */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_set_find(const struct psi_ioc_set *set,
                                               enum psi_ioc_type type, const char *value,
                                               size_t len, size_t *index);

PSI_EXPORT const struct psi_ioc_stats *psi_ioc_set_stats(const struct psi_ioc_set *set);

/* ---- the party's own exclusions -------------------------------------- */

/*
 * Exclude a value from the set: every value offered afterwards
 * (psi_ioc_set_offer and the readers of ioc_reader.h; psi_ioc_set_add does
 * not check) whose canonical form equals an excluded value, or which is an
 * address or range inside an excluded range (IPv4 and IPv6), is skipped as
 * PSI_IOC_SKIP_EXCLUDED. `in` is canonicalised as an untyped value; a range
 * ("192.0.2.0/24", "2001:db8::/32") or address of any width or kind is
 * taken even where canonicalisation would refuse it as reserved or generic
 * ("10.0.0.0/8"), but its host bits must be zero. Returns 0, or
 * PSI_ERR_UNSUPPORTED with *why (if why is not NULL) for a value that is no
 * indicator (a reserved or generic non-address value such as "co.uk" is
 * refused too: it could never be kept anyway), PSI_ERR_NOMEM,
 * PSI_ERR_INVALID. Only equality and range containment are checked: an
 * excluded domain does not exclude its subdomains or URLs on it.
 */
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_set_exclude(struct psi_ioc_set *set, const char *in,
                                                  size_t len, enum psi_ioc_skip *why);
/* Number of exclusions taken (values and ranges). */
PSI_EXPORT size_t psi_ioc_set_exclusion_count(const struct psi_ioc_set *set);

/* ---- where values come from ------------------------------------------ */

/*
 * The place a value was found. Readers (ioc_reader.h) set it for every value
 * they offer; all fields may be NULL or 0 when unknown. Strings are valid
 * only during the observer call that receives them (copy what you keep).
 */
struct psi_ioc_origin {
    const char *file;   /* the name the reader was given ("(stdin)", a path) */
    unsigned long line; /* text, CSV: 1-based line (a CSV record's first); JSON: 0 */
    const char *path;   /* JSON: the object's path ("$.objects[3]",
                           "$.Event.Object[0].Attribute[2]"); else NULL */
    const char *event;  /* MISP: the event's uuid; else NULL */
    const char *object; /* STIX: the object's id ("indicator--..."); MISP: the
                           attribute's uuid; else NULL */
    int to_ids;         /* MISP JSON: the attribute's to_ids (1 or 0) when it has
                           one; -1 when unknown or another format */
};

enum psi_ioc_outcome {
    PSI_IOC_OUTCOME_KEPT = 0,  /* new member */
    PSI_IOC_OUTCOME_DUPLICATE, /* already a member */
    PSI_IOC_OUTCOME_SKIPPED,   /* counted under a skip reason */
};

/* One value offered to a set, as an observer sees it. */
struct psi_ioc_seen {
    enum psi_ioc_outcome outcome;
    size_t index;             /* KEPT, DUPLICATE: the member (psi_ioc_set_get) */
    enum psi_ioc_skip reason; /* SKIPPED: why */
    const char *kind;         /* SKIPPED as unsupported: its name ("misp:text"), or NULL */
    const char *input;        /* the value as found (any bytes, not NUL-terminated;
                                 a whole line when a text line counts once), or NULL */
    size_t input_len;
    const struct psi_ioc_origin *origin; /* never NULL (fields NULL/0 when unknown) */
};

typedef void (*psi_ioc_observer)(void *ctx, const struct psi_ioc_seen *seen);

/* Call fn(ctx, ...) for every value counted from now on (read = one call),
 * kept, duplicate or skipped, with its origin: what `psi ingest --explain`
 * prints, and the provenance of each kept indicator. NULL fn: no observer. */
PSI_EXPORT void psi_ioc_set_observe(struct psi_ioc_set *set, psi_ioc_observer fn, void *ctx);
/* The origin of the values offered from now on (NULL: none). The set keeps
 * the pointer, not a copy: the caller keeps it valid until it sets another.
 * The readers set their own and clear it (NULL) before they return. */
PSI_EXPORT void psi_ioc_set_origin(struct psi_ioc_set *set, const struct psi_ioc_origin *origin);
/* Number of distinct unsupported names recorded, and entry i of them. */
PSI_EXPORT size_t psi_ioc_set_unsupported_count(const struct psi_ioc_set *set);
PSI_EXPORT PSI_MUST_CHECK int psi_ioc_set_unsupported(const struct psi_ioc_set *set, size_t i,
                                                      const char **name, uint64_t *count);

#ifdef __cplusplus
}
#endif
#endif
