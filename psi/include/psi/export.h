/*
 * What libpsi shows its users, and how a call's result must be read.
 *
 * libpsi is built with hidden visibility: a function exists for a program
 * only if an installed header (include/psi/) declares it with PSI_EXPORT.
 * Functions that libpsi's own files share (psi/tlog/tlog_text.h,
 * psi/ioc/ioc_reader_impl.h) stay inside the library. PSI_MUST_CHECK marks a
 * function whose result says whether it worked (0 or a negative psi error
 * code, psi/error.h), so ignoring it is a compiler warning. Every public
 * declaration starts with them, in this order:
 *
 *     PSI_EXPORT PSI_MUST_CHECK int psi_x(...);
 *
 * tests/libpsi_exports.sh checks that libpsi.so exports exactly the functions so
 * declared.
 */
#ifndef PSI_EXPORT_H
#define PSI_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define PSI_EXPORT __attribute__((visibility("default")))
#define PSI_MUST_CHECK __attribute__((warn_unused_result))
#else
#define PSI_EXPORT
#define PSI_MUST_CHECK
#endif

#endif
