/*
 * What `psi results` prints, one function per format (docs/analyst.md):
 * JSON lines, CSV (RFC 4180), one STIX 2.1 bundle, one MISP event. Each
 * result names its epoch, its peers, when each peer was first and last seen
 * holding it, and the places its indicator was read from at submit
 * (state.h, struct psi_state_origin).
 *
 * It promises that an export depends on the stored results only (never on
 * the clock): the same state exported twice gives the same bytes, and the
 * STIX and MISP ids are name-based UUIDv5 (RFC 9562) over stable inputs
 * (party, peer, epoch, indicator), so that re-importing a later export
 * updates the objects of an earlier one instead of duplicating them.
 */
#ifndef PSI_CLIENT_RESULTS_EXPORT_H
#define PSI_CLIENT_RESULTS_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "state.h"

enum psi_results_format {
    PSI_RESULTS_TABLE = 0,
    PSI_RESULTS_JSON,
    PSI_RESULTS_CSV,
    PSI_RESULTS_STIX,
    PSI_RESULTS_MISP,
};

/* The format named "table", "json", "csv", "stix" or "misp"; -1 if none. */
int psi_results_format_from_name(const char *name, enum psi_results_format *out);

/* Each writes list (the results of one epoch, of participant self) to out.
 * 0, PSI_ERR_NOMEM, or PSI_ERR_IO when out fails. */
int psi_results_write_json(FILE *out, const struct psi_state_result_list *list);
int psi_results_write_csv(FILE *out, const struct psi_state_result_list *list);
int psi_results_write_stix(FILE *out, const struct psi_state_result_list *list, const char *self);
int psi_results_write_misp(FILE *out, const struct psi_state_result_list *list, const char *self);

/* ---- the pieces, for tests ------------------------------------------- */

/* SHA-1 (FIPS 180-4): only for name-based UUIDs, never for security. */
void psi_sha1(const void *data, size_t len, unsigned char out[20]);
/* The UUIDv5 of name in namespace ns (RFC 9562 5.5), as 36 characters and
 * a NUL. */
void psi_uuid_v5(const unsigned char ns[16], const void *name, size_t len, char out[37]);
/* The namespace of psi's STIX and MISP ids: UUIDv5(DNS namespace,
 * "results.psi.invalid") = 2be4e4d2-b895-58a8-84e5-b912864994b6. */
extern const unsigned char psi_results_uuid_namespace[16];
/* ms since the epoch as RFC 3339 UTC with milliseconds and a Z. */
void psi_results_timestamp(int64_t ms, char out[32]);
/* The MISP attribute type and category of a psi indicator type; NULL if
 * none. */
const char *psi_results_misp_type(const char *type, const char **category);
/* Field as one RFC 4180 CSV field (quoted when it holds a comma, a quote,
 * CR or LF; quotes doubled). */
int psi_results_csv_field(FILE *out, const char *field);

#endif
