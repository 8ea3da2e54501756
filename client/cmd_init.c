/* psi init: create a participant's state directory, keys and database. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "commands.h"
#include "envelope.h"
#include "psi/blind.h"
#include "psi/error.h"

enum {
    INIT_STATE,
    INIT_ID,
    INIT_HUB,
    INIT_HUB_KEY,
    INIT_SHARE_WITH,
    INIT_CONTRIBUTE_ONLY,
};

static const struct psi_cmdline_option init_options[] = {
    [INIT_STATE] = {.name = "state",
                    .value_name = "DIR",
                    .required = true,
                    .help = "directory to create (mode 0700; if it exists it must be empty):\n"
                            "  id.key       Ed25519 identity key (mode 0600)\n"
                            "  mutual.seed  secret the per-epoch blinding keys derive from (0600)\n"
                            "  state.db     local state: hub, submissions, positions, results"},
    [INIT_ID] = {.name = "id",
                 .value_name = "ID",
                 .required = true,
                 .help = "participant id as in the hub's roster: 1-64 of A-Z a-z 0-9 . _ -"},
    [INIT_HUB] = {.name = "hub",
                  .value_name = "URL",
                  .required = true,
                  .help = "the hub's address, tcp://HOST:PORT"},
    [INIT_HUB_KEY] = {.name = "hub-key",
                      .value_name = "HUBKEY",
                      .required = true,
                      .help = "the hub's public key string, as psi-hub printed it\n"
                              "(NAME+KEYID+BASE64); every reply must be signed by it"},
    [INIT_SHARE_WITH] = {.name = "share-with",
                         .value_name = "all|none|ID,...",
                         .help = "this participant's own sharing policy, kept in state.db:\n"
                                 "whose sets its agent cross-blinds (default: all peers\n"
                                 "proven admitted in the hub's log); 'psi policy' changes it"},
    [INIT_CONTRIBUTE_ONLY] = {.name = "contribute-only",
                              .help = "ask for no results (the hub is told with the policy)"},
};

static const struct psi_cmdline_command init_command = {
    .name = "init",
    .about = "Creates the state directory of a participant and prints, as its last line,\n"
             "the participant's public key string: give it to the hub operator, who\n"
             "admits it with 'psi-hub admit --key'.\n",
    PSI_CMDLINE_OPTIONS(init_options),
};

static int is_empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

/* Makes what init wrote durable: the directory entries, not only the files. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Undoes a half-made state directory so that init can simply be run again. */
static void remove_partial(const char *dir, int made_dir)
{
    static const char *const names[] = {PSI_CLI_IDENTITY_FILE, PSI_CLI_SEED_FILE, PSI_STATE_DB_NAME,
                                        PSI_STATE_DB_NAME "-wal", PSI_STATE_DB_NAME "-shm"};
    char path[4096];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!psi_cli_path(path, sizeof path, dir, names[i]))
            unlink(path);
    if (made_dir)
        rmdir(dir);
}

int psi_cmd_init(int argc, char **argv)
{
    struct psi_cmdline_args args;
    int status = 0;
    if (!psi_cmdline_parse(&init_command, argc, argv, &args, &status))
        return status;
    const char *dir = args.value[INIT_STATE], *id = args.value[INIT_ID],
               *hub = args.value[INIT_HUB], *hub_vkey = args.value[INIT_HUB_KEY],
               *share_with = args.given[INIT_SHARE_WITH] ? args.value[INIT_SHARE_WITH] : "all";
    int contribute_only = args.given[INIT_CONTRIBUTE_ONLY];

    /* Everything given is checked before anything is written. */
    if (!psi_id_is_valid(id))
        return psi_cmdline_fail("init",
                                "'%s' is not a valid participant id (1-64 of A-Z a-z 0-9 . _ -,"
                                " not starting with . or -)",
                                id);
    struct psi_state_policy policy;
    memset(&policy, 0, sizeof policy);
    char policy_err[256];
    if (psi_cli_parse_share_with(share_with, &policy, policy_err, sizeof policy_err))
        return psi_cmdline_fail("init", "%s", policy_err);
    psi_state_policy_clear(&policy); /* parsed again where it is recorded */
    if (psi_cli_check_hub_url(hub))
        return psi_cmdline_fail("init", "'%s' is not a hub address of the form tcp://HOST:PORT",
                                hub);
    struct psi_state_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char hub_name[65];
    if (strlen(hub_vkey) > PSI_VKEY_MAX || psi_vkey_parse(hub_vkey, hub_name, cfg.hub_key) != 0)
        return psi_cmdline_fail("init",
                                "--hub-key is not a key string of the form NAME+KEYID+BASE64");
    memcpy(cfg.id, id, strlen(id) + 1);
    memcpy(cfg.hub_url, hub, strlen(hub) + 1);
    memcpy(cfg.hub_vkey, hub_vkey, strlen(hub_vkey) + 1);

    int made_dir = 0;
    if (mkdir(dir, 0700) == 0) {
        made_dir = 1;
    } else if (errno == EEXIST) {
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return psi_cmdline_fail("init", "%s exists and is not a directory", dir);
        if (!is_empty_dir(dir))
            return psi_cmdline_fail("init", "%s exists and is not empty (already initialised?)",
                                    dir);
        if (chmod(dir, 0700) != 0)
            return psi_cmdline_fail("init", "cannot make %s private: %s", dir, strerror(errno));
    } else {
        return psi_cmdline_fail("init", "cannot create %s: %s", dir, strerror(errno));
    }

    char path[4096], vkey[PSI_VKEY_MAX + 1];
    struct psi_identity identity;
    unsigned char seed[PSI_MUTUAL_SEED_BYTES];
    struct psi_state *state = NULL;

    if (psi_identity_generate(&identity, id) != 0) {
        remove_partial(dir, made_dir);
        return psi_cmdline_fail("init", "cannot generate an identity key");
    }
    if (psi_cli_path(path, sizeof path, dir, PSI_CLI_IDENTITY_FILE) ||
        psi_identity_save(&identity, path) != 0) {
        status = psi_cmdline_fail("init", "cannot write %s/%s", dir, PSI_CLI_IDENTITY_FILE);
        goto out;
    }
    if (psi_identity_vkey(&identity, vkey, sizeof vkey) != 0) {
        status = psi_cmdline_fail("init", "cannot encode the public key");
        goto out;
    }
    /* The seed is separate from the identity: a signing key and a blinding
     * key have different lives, and neither should be derived from the other. */
    randombytes_buf(seed, sizeof seed);
    int rc = psi_cli_path(path, sizeof path, dir, PSI_CLI_SEED_FILE);
    if (!rc)
        rc = psi_cli_seed_write(path, id, seed);
    sodium_memzero(seed, sizeof seed);
    if (rc) {
        status = psi_cmdline_fail("init", "cannot write %s/%s: %s", dir, PSI_CLI_SEED_FILE,
                                  psi_strerror(rc));
        goto out;
    }
    rc = psi_state_create(&state, dir, &cfg);
    if (rc) {
        status = psi_cmdline_fail("init", "cannot create %s/%s: %s", dir, PSI_STATE_DB_NAME,
                                  psi_strerror(rc));
        goto out;
    }
    rc = psi_cli_parse_share_with(share_with, &policy, policy_err, sizeof policy_err);
    policy.contribute_only = contribute_only;
    policy.issued_ms = psi_cli_wall_ms();
    if (!rc)
        rc = psi_state_policy_set(state, &policy);
    if (rc) {
        status = psi_cmdline_fail("init", "cannot record the policy in %s/%s: %s", dir,
                                  PSI_STATE_DB_NAME, psi_state_error(state));
        psi_state_close(state);
        goto out;
    }
    psi_state_close(state);
    sync_dir(dir);
    printf("psi init: %s ready in %s for hub %s (%s)\n", id, dir, hub, hub_name);
    printf("psi init: ask the hub operator to admit this key:\n");
    printf("%s\n", vkey);
    if (fflush(stdout) != 0)
        status = PSI_CMDLINE_EXIT_FAILURE;
out:
    psi_state_policy_clear(&policy);
    psi_identity_clear(&identity);
    if (status)
        remove_partial(dir, made_dir);
    return status;
}
