/*
 * Private to psi/ioc: what the readers need of the set beyond its public
 * functions (indicator.h), so that every value they count carries its text
 * to the set's observer and passes the set's exclusions.
 */
#ifndef PSI_IOC_SET_IMPL_H
#define PSI_IOC_SET_IMPL_H

#include <stddef.h>

#include "psi/indicator.h"

/* psi_ioc_set_skip with the value's text (in, len; in may be NULL) for the
 * observer. */
void psi_ioc_set_skip_value(struct psi_ioc_set *set, enum psi_ioc_skip reason, const char *name,
                            const char *in, size_t len);

/* Add a canonical indicator found as (in, len) unless the set's exclusions
 * exclude it. Returns 0 new, 1 duplicate, PSI_ERR_UNSUPPORTED excluded
 * (counted), PSI_ERR_NOMEM, PSI_ERR_INVALID. */
int psi_ioc_set_take(struct psi_ioc_set *set, const struct psi_ioc *ioc, const char *in,
                     size_t len);

#endif
