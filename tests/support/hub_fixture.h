/*
 * The set-up the hub's in-process tests (server/hub_test.c, log_test.c,
 * feeds_test.c, catalogue_test.c) share: a hub in a scratch directory of its
 * own, holding a new hub key and a store in manual epochs, loaded and
 * connected as psi-hub serve would do it; participants put on its roster;
 * requests sealed, handed to the hub and their replies opened; a look at the
 * store's file from outside; the whole directory removed. Failures are cmocka
 * assertions: for cmocka tests only.
 */
#ifndef PSI_TEST_HUB_FIXTURE_H
#define PSI_TEST_HUB_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "hub.h"

/* Sets key to value in the store's meta table, in a transaction of its own. */
void hub_test_set_meta(const struct psi_store_ops *ops, struct psi_store *st, const char *key,
                       const char *value);

/* Makes the existing, empty dir a hub called name (manual epochs, now at
 * epoch; threshold 2; messages up to 8 MiB), then loads *hub from it and
 * connects *st to its store. */
void hub_test_create_hub(const char *dir, const char *name, const char *epoch, struct psi_hub *hub,
                         struct psi_store **st);

/* A scratch directory (scratch.h: TMPDIR/psi-TAG-XXXXXX, its path in dir of
 * dir_cap bytes) made the hub of hub_test_create_hub. */
void hub_test_open_hub(char *dir, size_t dir_cap, const char *tag, const char *name,
                       const char *epoch, struct psi_hub *hub, struct psi_store **st);

/* Undoes hub_test_open_hub: closes st (when not NULL), unloads the hub and
 * removes dir with everything in it. */
void hub_test_close_hub(const char *dir, struct psi_hub *hub, struct psi_store *st);

/* Rows of a table of dir's store, counted by a connection of its own. The
 * SQLite backend's file seen from outside, as an operator would: the ops
 * count nothing (the contract suite, store_contract_test.c, checks what
 * they promise); these tests check what the file holds beside it. */
long long hub_test_count_rows(const char *dir, const char *table);

/* When out is not NULL: a malloc'd copy of the reply's body in *out when its
 * status is 0, else NULL and 0. */
void hub_test_take_body(const struct psi_reply *r, uint8_t **out, size_t *out_len);

/* who's roster row: role, key, sharing with all. */
struct psi_store_participant hub_test_participant(const struct psi_identity *who, const char *role,
                                                  int contribute_only);

/* Puts who on the roster (hub_test_participant) without a log entry. */
void hub_test_admit(const struct psi_hub *hub, struct psi_store *st, const struct psi_identity *who,
                    const char *role, int contribute_only);

/* Hands a request frame to the hub and opens the reply as who's answer to
 * request rid (it must be the hub's). Returns the status; the error text goes
 * to error (error_cap > 0), the body to *out (hub_test_take_body) and the
 * request log's view to *o. */
int hub_test_send_frame(const struct psi_hub *hub, struct psi_store *st,
                        const struct psi_identity *who, const unsigned char rid[16],
                        const uint8_t *frame, size_t frame_len, char *error, size_t error_cap,
                        uint8_t **out, size_t *out_len, struct psi_hub_outcome *o);

/* Seals body as who's request for method, with request id rid, and sends it
 * (hub_test_send_frame). */
int hub_test_call(const struct psi_hub *hub, struct psi_store *st, const struct psi_identity *who,
                  const unsigned char rid[16], const char *method, const uint8_t *body,
                  size_t body_len, char *error, size_t error_cap, uint8_t **out, size_t *out_len,
                  struct psi_hub_outcome *o);

/* Removes dir with everything in it; asserts that nothing is left. */
void hub_test_remove_dir(const char *dir);

#endif
