/*
 * Private to the indicator readers (ioc_reader.c, ioc_json.c): the error
 * line, the MISP type table (used by the MISP reader and by CSV files with a
 * MISP "type" column) and the JSON readers.
 */
#ifndef PSI_IOC_READER_IMPL_H
#define PSI_IOC_READER_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ioc_set_impl.h"
#include "psi/indicator.h"
#include "psi/ioc_reader.h"

/* Where a reader reports to. origin is the set's current origin (the
 * reader updates it before each value it offers); NULL in the error paths
 * of the loaders, which offer nothing. */
struct psi_ioc_reader {
    const char *name; /* file name for messages */
    struct psi_ioc_set *set;
    char *err;
    size_t errlen;
    struct psi_ioc_origin *origin;
    bool all_attributes; /* MISP: to_ids false read too */
};

#if defined(__GNUC__) || defined(__clang__)
#define PSI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PSI_PRINTF(f, a)
#endif

/* Writes "NAME:LINE: message" (or "NAME: message" when line is 0) to the
 * reader's err and returns code. */
int psi_ioc_reader_fail(const struct psi_ioc_reader *r, int code, unsigned long line,
                        const char *fmt, ...) PSI_PRINTF(4, 5);

/* How a MISP attribute type maps to indicator kinds. A composite type
 * ("a|b") has a kind per part; PSI_IOC_NONE marks a part that is not an
 * indicator (the file name of filename|sha256, the port of ip-dst|port). */
struct psi_ioc_misp_kind {
    bool composite;
    enum psi_ioc_type part[2];
};

/* false if the MISP type has no indicator kind here ("text", "link"...). */
bool psi_ioc_misp_kind(const char *misp_type, struct psi_ioc_misp_kind *kind);

/* Offer one typed MISP value (type and value as in the attribute) to the
 * set: split, canonicalise, count. An attribute not for detection (to_ids
 * false) of a type that has indicators counts each of its indicator parts
 * as not-for-detection. Returns 0 or PSI_ERR_NOMEM. */
int psi_ioc_offer_misp(struct psi_ioc_set *set, const char *misp_type, const char *value,
                       size_t len, bool for_detection);

/* Offer a value of a kind (PSI_IOC_NONE: detect); counts a skip. 0 or
 * PSI_ERR_NOMEM. */
int psi_ioc_offer(struct psi_ioc_set *set, enum psi_ioc_type type, const char *value, size_t len);

/* The JSON readers; doc is a parsed document. */
int psi_ioc_read_stix_json(const struct psi_ioc_reader *r, json_t *doc);
int psi_ioc_read_misp_json(const struct psi_ioc_reader *r, json_t *doc);

#endif
