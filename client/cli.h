/*
 * What every subcommand of `psi` shares beyond the command line of every
 * program (cmdline.h: the one-line failure voice, options, usage, dispatch):
 * the participant's state directory (identity key, mutual-protocol seed and
 * state database), the values its options take, and progress on a terminal.
 */
#ifndef PSI_CLIENT_CLI_H
#define PSI_CLIENT_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"
#include "identity.h"
#include "state.h"

/* File names inside the state directory. */
#define PSI_CLI_IDENTITY_FILE "id.key"
#define PSI_CLI_SEED_FILE "mutual.seed"
/* The locks (cmdline/lockfile.h; docs/client.md, "Locks"): the state lock,
 * held by a command that changes the state for its duration and by the agent
 * for each round; the agent lock, held by `psi agent` for its lifetime. */
#define PSI_CLI_STATE_LOCK_FILE "state.lock"
#define PSI_CLI_AGENT_LOCK_FILE "agent.lock"
/* How long a command waits for the state lock by default; the environment's
 * PSI_STATE_LOCK_WAIT=SECONDS (0 to 3600) says otherwise. */
#define PSI_CLI_STATE_LOCK_WAIT_S 60u

/* The option every command on a participant's state takes: a table row
 * `[X_STATE] = {PSI_CLI_STATE_OPTION}`. */
#define PSI_CLI_STATE_OPTION                                                                       \
    .name = "state", .value_name = "DIR", .required = true,                                        \
    .help = "the participant's state directory (from 'psi init')"

/* ---------------------------------------------------------------- values */

/* Checks a hub URL of the form tcp://HOST:PORT (also tcp4://, tcp6://). */
int psi_cli_check_hub_url(const char *url);

/* Parses a --share-with value into policy (share_all, share_count and
 * share_with; the other fields are left as they are): "all", "none", or
 * participant ids separated by commas (sorted and de-duplicated here).
 * 0, or PSI_ERR_PARSE with a reason for a person in err. */
int psi_cli_parse_share_with(const char *text, struct psi_state_policy *policy, char *err,
                             size_t errlen);

/* Joins dir and name into out; PSI_ERR_TOO_LARGE if it does not fit. */
int psi_cli_path(char *out, size_t outlen, const char *dir, const char *name);

/* The mutual-protocol seed file: a readable text file, mode 0600,
 *     untrusted comment: psi mutual-protocol seed of ID
 *     <base64 of 32 bytes>
 * Write refuses to overwrite. Read refuses a file others may read, and
 * leaves its reason in err. The caller wipes the seed after use. */
int psi_cli_seed_write(const char *path, const char *id, const unsigned char seed[32]);
int psi_cli_seed_read(const char *path, unsigned char seed[32], char *err, size_t errlen);

/* A participant's state directory, opened: config, state database and
 * identity. The seed is read only by the commands that need it. */
struct psi_cli_session {
    const char *cmd;
    const char *dir;
    struct psi_state *state;
    struct psi_state_config config;
    struct psi_identity identity;
    int have_identity;
    int state_locked; /* the state lock is held, on descriptor state_lock */
    int state_lock;
    /* When set, non-zero ends a wait for the state lock (the agent's stop
     * flag, which its signal handler sets). */
    const volatile sig_atomic_t *stop;
};

/* Opens DIR: checks it exists, opens the state database and the identity.
 * On failure prints the one line and returns 1. */
int psi_cli_session_open(struct psi_cli_session *s, const char *cmd, const char *dir);
void psi_cli_session_close(struct psi_cli_session *s);
/* Takes the state lock of the session's directory, waiting as long as
 * PSI_STATE_LOCK_WAIT says; on failure prints the one line, naming the
 * holder ("DIR is in use by pid 1234 (since ...)"), and returns 1; a signal
 * ends the wait the same way (the agent's SIGTERM is not held up). Released
 * by psi_cli_session_unlock, psi_cli_session_close or the process's end. */
int psi_cli_session_lock(struct psi_cli_session *s);
void psi_cli_session_unlock(struct psi_cli_session *s);
/* Takes the agent lock of dir, without waiting: one agent per state
 * directory. The lock's descriptor, or -1 after printing the one line
 * ("another agent runs on DIR: pid 1234 (since ...)"). */
int psi_cli_agent_lock(const char *cmd, const char *dir);
/* Reads DIR/mutual.seed and derives the key of epoch; wipes the seed.
 * On failure prints the one line and returns 1. */
int psi_cli_epoch_key(struct psi_cli_session *s, const char *epoch, unsigned char key[32]);

/* Progress of a long step, on stderr, only when stderr is a terminal:
 * "psi submit: blinding 12000/50000 (24000/s)", redrawn at most ten times a
 * second and cleared by psi_cli_progress_end. */
struct psi_cli_progress {
    const char *cmd;
    const char *what;
    uint64_t total;
    uint64_t done;
    double started;
    double last_drawn;
    int enabled;
};

void psi_cli_progress_begin(struct psi_cli_progress *p, const char *cmd, const char *what,
                            uint64_t total);
void psi_cli_progress_add(struct psi_cli_progress *p, uint64_t n);
void psi_cli_progress_end(struct psi_cli_progress *p);

/* Seconds on a monotonic clock. */
double psi_cli_now(void);
/* The wall clock, Unix milliseconds. */
int64_t psi_cli_wall_ms(void);

#endif
