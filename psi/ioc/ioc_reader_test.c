/*
 * Tests of the indicator readers (ioc_reader.h): the project's own fixture
 * files (tests/fixtures/ioc), small inline files for each rule and each
 * error, and, run as a separate ctest test (`--shared`), every file of the
 * real-data folder beside the checkout (../shared/data/ioc) with counts
 * derived by other tools and spot checks of values. Without that folder the
 * `--shared` run says so in one line and exits 77, which ctest reports as
 * skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "psi/error.h"
#include "psi/indicator.h"
#include "psi/ioc_reader.h"

#define IOC_DIR PSI_SHARED_DIR "/data/ioc"
#define FIXTURE_DIR PSI_SOURCE_DIR "/tests/fixtures/ioc"
/* ctest's SKIP_RETURN_CODE for this test (psi/CMakeLists.txt) */
#define SKIP_EXIT 77

/* ---- helpers ------------------------------------------------------------- */

static struct psi_ioc_set *new_set(void)
{
    struct psi_ioc_set *set = NULL;
    assert_int_equal(psi_ioc_set_new(&set), PSI_OK);
    return set;
}

/* Reads an inline file that must be read without error. */
static struct psi_ioc_set *read_text_ok(const char *name, const char *text,
                                        enum psi_ioc_format format, const struct psi_csv_opts *csv)
{
    struct psi_ioc_set *set = new_set();
    char err[256];
    int rc = psi_ioc_read_buffer(name, text, strlen(text), format, csv, set, err, sizeof err);
    if (rc != PSI_OK)
        fail_msg("%s: rc %d: %s", name, rc, err);
    return set;
}

/* Reads an inline file that must fail with rc and exactly the message. */
static void read_fails(const char *name, const char *text, size_t len, enum psi_ioc_format format,
                       const struct psi_csv_opts *csv, int want_rc, const char *want_err)
{
    struct psi_ioc_set *set = new_set();
    char err[256];
    int rc = psi_ioc_read_buffer(name, text, len, format, csv, set, err, sizeof err);
    if (rc != want_rc || strcmp(err, want_err) != 0)
        fail_msg("%s: rc %d '%s', expected rc %d '%s'", name, rc, err, want_rc, want_err);
    psi_ioc_set_free(set);
}

static void has(const struct psi_ioc_set *set, enum psi_ioc_type type, const char *value)
{
    if (psi_ioc_set_find(set, type, value, strlen(value), NULL) != PSI_OK)
        fail_msg("%s %s is not in the set", psi_ioc_type_name(type), value);
}

static void has_not(const struct psi_ioc_set *set, enum psi_ioc_type type, const char *value)
{
    if (psi_ioc_set_find(set, type, value, strlen(value), NULL) == PSI_OK)
        fail_msg("%s %s is in the set", psi_ioc_type_name(type), value);
}

struct counts {
    uint64_t read, kept, duplicates;
    uint64_t skipped[PSI_IOC_SKIP_COUNT];
};

static void check_counts(const char *what, const struct psi_ioc_set *set, const struct counts *want)
{
    const struct psi_ioc_stats *got = psi_ioc_set_stats(set);
    bool same =
        got->read == want->read && got->kept == want->kept && got->duplicates == want->duplicates;
    uint64_t skipped = 0;
    for (unsigned i = 0; i < PSI_IOC_SKIP_COUNT; i++) {
        same = same && got->skipped[i] == want->skipped[i];
        skipped += got->skipped[i];
    }
    if (!same) {
        char detail[256];
        int n = 0;
        for (unsigned i = 0; i < PSI_IOC_SKIP_COUNT; i++)
            n +=
                snprintf(detail + n, sizeof detail - (size_t)n, " %s %llu/%llu",
                         psi_ioc_skip_name((enum psi_ioc_skip)i),
                         (unsigned long long)got->skipped[i], (unsigned long long)want->skipped[i]);
        fail_msg("%s: read %llu/%llu kept %llu/%llu duplicates %llu/%llu skipped (got/want)%s",
                 what, (unsigned long long)got->read, (unsigned long long)want->read,
                 (unsigned long long)got->kept, (unsigned long long)want->kept,
                 (unsigned long long)got->duplicates, (unsigned long long)want->duplicates, detail);
    }
    /* the invariant every reader keeps */
    assert_int_equal(got->read, got->kept + got->duplicates + skipped);
    assert_int_equal(psi_ioc_set_count(set), got->kept);
}

static uint64_t unsupported_named(const struct psi_ioc_set *set, const char *name)
{
    for (size_t i = 0; i < psi_ioc_set_unsupported_count(set); i++) {
        const char *n;
        uint64_t count;
        assert_int_equal(psi_ioc_set_unsupported(set, i, &n, &count), PSI_OK);
        if (strcmp(n, name) == 0)
            return count;
    }
    return 0;
}

#define U PSI_IOC_SKIP_UNSUPPORTED
#define M PSI_IOC_SKIP_MALFORMED
#define F PSI_IOC_SKIP_FILENAME

/* ---- the project's own fixture files ------------------------------------ */

/*
 * tests/fixtures/ioc holds small files written for these tests in the shapes
 * of published lists (a text list with notes and defanged forms, a hash
 * list, a STIX 2.1 bundle, a MISP event), so that reading real-looking files
 * from disk with format detection is tested from the repository alone.
 * Counts by hand:
 *  - campaign-notes.txt: 12 non-blank, non-comment lines: two headers
 *    (unsupported), 203.0.113.45 fanged then defanged (1 duplicate), a URL,
 *    a domain, an address written "[at]", an IPv6 address, 10.20.30.40
 *    (reserved), a sha256 and an md5 after a type column, dropper.exe
 *    (file name): 7 kept.
 *  - beacon.sha256: 4 lines, the first repeated last: 3 kept, 1 duplicate.
 *  - bundle.stix.json: 7 indicators, one an OR of two domains: 8 read;
 *    process:command_line and file:name unsupported: 6 kept.
 *  - event.misp.json: 9 attributes and 2 in an object; domain|ip gives two
 *    values and filename|md5 one (the name is dropped): 12 read; regkey|value,
 *    text and port unsupported: 9 kept. (Its one to_ids false attribute is
 *    text: unsupported either way.)
 *  - opencti-observables.stix.json: an OpenCTI-style STIX 2.1 export of
 *    cyber-observables only (no indicator): an identity, 7 observables (one
 *    of them github.io, a public suffix: generic), a file with two hashes
 *    and a file with one, a relationship: 9 read, 8 kept.
 *  - opencti-patterns.stix.json: the same values as indicator patterns
 *    (the two hashes of the first file joined by OR): the same 9 and 8.
 */
static const struct {
    const char *path;
    struct counts want;
} fixtures[] = {
    {"campaign-notes.txt", {12, 7, 1, {[U] = 2, [PSI_IOC_SKIP_RESERVED] = 1, [F] = 1}}},
    {"beacon.sha256", {4, 3, 1, {0}}},
    {"bundle.stix.json", {8, 6, 0, {[U] = 2}}},
    {"event.misp.json", {12, 9, 0, {[U] = 3}}},
    {"opencti-observables.stix.json", {9, 8, 0, {[PSI_IOC_SKIP_GENERIC] = 1}}},
    {"opencti-patterns.stix.json", {9, 8, 0, {[PSI_IOC_SKIP_GENERIC] = 1}}},
};

static struct psi_ioc_set *read_fixture(const char *rel)
{
    char path[1024];
    char err[512];
    (void)snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, rel);
    struct psi_ioc_set *set = new_set();
    int rc = psi_ioc_read_file(path, PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err);
    if (rc != PSI_OK)
        fail_msg("%s: rc %d: %s", rel, rc, err);
    return set;
}

static void test_fixture_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        struct psi_ioc_set *set = read_fixture(fixtures[i].path);
        check_counts(fixtures[i].path, set, &fixtures[i].want);
        psi_ioc_set_free(set);
    }
}

static void test_fixture_values(void **state)
{
    (void)state;
    struct psi_ioc_set *set;
    struct psi_ioc_ref ref;

    set = read_fixture("campaign-notes.txt");
    assert_int_equal(psi_ioc_set_get(set, 0, &ref), PSI_OK);
    assert_string_equal(ref.value, "203.0.113.45");
    has(set, PSI_IOC_URL, "https://login-portal.example.net/owa/auth.php");
    has(set, PSI_IOC_EMAIL, "mail@invoice-desk.example.com");
    has(set, PSI_IOC_IPV6, "2001:db8::7");
    has(set, PSI_IOC_MD5, "098f6bcd4621d373cade4e832627b4f6");
    has_not(set, PSI_IOC_IPV4, "10.20.30.40");
    has_not(set, PSI_IOC_DOMAIN, "dropper.exe");
    psi_ioc_set_free(set);

    set = read_fixture("bundle.stix.json");
    has(set, PSI_IOC_DOMAIN, "update-check.example.org"); /* case folded */
    has(set, PSI_IOC_DOMAIN, "cdn-sync.example.net");     /* second term of an OR */
    has(set, PSI_IOC_SHA256, "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9");
    assert_int_equal(unsupported_named(set, "stix:process:command_line"), 1);
    assert_int_equal(unsupported_named(set, "stix:file:name"), 1);
    psi_ioc_set_free(set);

    set = read_fixture("event.misp.json");
    has(set, PSI_IOC_DOMAIN, "relay.example.org");
    has(set, PSI_IOC_IPV4, "198.51.100.24");
    has(set, PSI_IOC_URL, "https://relay.example.org/Gate.php?id=7"); /* path case kept */
    has(set, PSI_IOC_SHA1, "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
    has(set, PSI_IOC_IPV4, "198.51.100.25"); /* an object attribute */
    assert_int_equal(unsupported_named(set, "misp:regkey|value"), 1);
    assert_int_equal(unsupported_named(set, "misp:port"), 1);
    psi_ioc_set_free(set);
}

/* ---- every shared file --------------------------------------------------- */

/*
 * Expected counts for every file of data/ioc, read with format detection.
 * How each number was found without this code (commands run in data/ioc):
 *
 * Text (read = non-blank lines that are not '#' comments:
 *       grep -c '[^[:space:]]' FILE, minus grep -c '^#' FILE):
 *  - *.md5, *.sha1, *.sha256: one hash a line; grep -cE '^[0-9a-f]{N}$' equals
 *    the line count and sort -u | wc -l equals it too: all kept, no duplicate.
 *  - Conti_IOCs.txt: 55 non-blank lines (11 address/name lines with a note
 *    column, 44 sha256). cut -f1 | sed 's/\[\.\]/./g' | sort | uniq -d gives
 *    185.178.209.193, present fanged and defanged: 1 duplicate, 54 kept.
 *  - DanaBotV4_C2s: 48 public IPv4 addresses, sort -u: 48.
 *  - Darkside_Darkside_IOCs.txt (CRLF; tr -d '\r' first): 78 non-blank
 *    lines; grep -cE '^[0-9a-f]{64}$' = 62 and grep -cE '^[a-z0-9]+\.com$' = 4
 *    kept; grep -cE '\.(zip|save)$' = 5 lines whose only name-like column is a
 *    file name (Appdata.zip ..., and "reg.exe save HKLM\SAM sam.save");
 *    the other 78 - 62 - 4 - 5 = 7 (4 headers "SHA256", "Domains:", ..., 2
 *    PowerShell command lines, "AD_intel") are unsupported.
 *  - Egregor_EgregorIOCs: 44 lines "sha256,DLL": 44 kept.
 *  - Gamaredon_...txt: 1013 non-blank, 8 '#' comments: 1005 read;
 *    sort | uniq -d over them gives hilotrapa.ru: 1 duplicate.
 *  - agrius.README.adoc: 60 non-blank lines; 7 table rows with a SHA-1
 *    (grep -c '^| `[0-9A-F]\{40\}`') and 1 URL line (grep -c '^https://'):
 *    8 kept; line 6 has "https://www.welivesecurity.com[WeLiveSecurity]",
 *    a URL whose host is not a name: 1 malformed; the other 51 lines (prose,
 *    headings, the list of file extensions) unsupported.
 *  - gelsemium.README.adoc: 101 non-blank lines; 51 SHA-1 lines
 *    (grep -cE '^[0-9a-f]{40}$'), 12 "* `...`" network indicators
 *    (grep -c '^\* `'), 1 URL line: 64 kept, 37 unsupported.
 *  - LICENSE files: licence prose; every non-blank line (19 and 17) is
 *    unsupported.
 *  - SOURCES.md: 14 non-blank lines, 1 '#' heading: 13 read; the line with
 *    "README.adoc" (grep -c README.adoc) has a file name and nothing else: 1
 *    filename, 12 unsupported.
 *
 * MISP (jq over (.response[]).Event | [.Attribute[], .Object[].Attribute[]],
 * no attribute is deleted): a type in the reader's table gives one value
 * (domain|ip two, filename|HASH the hash, ip-*|port the address), any other
 * type one unsupported value. Kept = distinct values after lower-casing
 * (awk '{print tolower($2)}' | sort -u; lower-casing does not merge any two
 * URLs of these files):
 *  - badiis: 136 values (82 sha1, 54 url) all distinct; 57 text + 51
 *    filename = 108 unsupported.
 *  - dukes: 87 values (20 domain, 18 sha1, 49 url); 13 text + 1 link.
 *  - mozi: 79 values (4 ip-dst, 1 ip-src, 21 md5, 21 sha1, 21 sha256, 11 url);
 *    61 text + 11 port.
 *  - oceanlotus: 95 values (62 domain, 3 domain|ip = 6, 5 filename|sha1, 22
 *    ip-dst), 92 distinct (the 3 domains of domain|ip are also domain
 *    attributes): 3 duplicates; 7 text, 8 filename, 1 regkey, 3 regkey|value.
 *  - turla: 9 values (4 domain, 4 sha1, 1 url); 3 text, 7 filename, 1 link.
 *  - winter_vivern: 11 values (1 domain, 1 email-src, 1 ip-dst, 2 md5, 2 sha1,
 *    2 sha256, 2 url); 8 text, 1 email-subject, 2 port, 1 filename, 1
 *    vulnerability.
 *
 * STIX (jq -r '.objects[] | select(.type=="indicator") | .pattern'; every
 * pattern is one equality comparison, none uses AND/OR): patterns on
 * file:hashes.'SHA-256', ipv4-addr:value and domain-name:value are values,
 * sort -u over their values gives the kept count; others are unsupported:
 *  - Akira: 18 (all sha256); ryuk: 16 of 18, plus 1 process:command_line and
 *    1 windows-registry-key:key; solarmarker: 39 of 85, plus 46 file:name;
 *    trickbot: 717 (695 sha256, 22 addresses and names); vicesociety: 14.
 */
static const struct expectation {
    const char *path;
    struct counts want;
} expectations[] = {
    {"SOURCES.md", {13, 0, 0, {[U] = 12, [F] = 1}}},
    {"eset-hashes/agrius.README.adoc", {60, 8, 0, {[U] = 51, [M] = 1}}},
    {"eset-hashes/agrius.md5", {7, 7, 0, {0}}},
    {"eset-hashes/agrius.sha1", {7, 7, 0, {0}}},
    {"eset-hashes/agrius.sha256", {7, 7, 0, {0}}},
    {"eset-hashes/gelsemium.README.adoc", {101, 64, 0, {[U] = 37}}},
    {"eset-hashes/gelsemium.md5", {51, 51, 0, {0}}},
    {"eset-hashes/gelsemium.sha1", {51, 51, 0, {0}}},
    {"eset-hashes/gelsemium.sha256", {51, 51, 0, {0}}},
    {"eset-misp/LICENSE", {19, 0, 0, {[U] = 19}}},
    {"eset-misp/badiis_misp-badiis.json", {244, 136, 0, {[U] = 108}}},
    {"eset-misp/dukes_misp-dukes-operation-ghost-event.json", {101, 87, 0, {[U] = 14}}},
    {"eset-misp/mozi_mozi.misp-event.json", {151, 79, 0, {[U] = 72}}},
    {"eset-misp/oceanlotus_oceanlotus.misp.event.json", {114, 92, 3, {[U] = 19}}},
    {"eset-misp/turla_misp-turla-crutch-event.json", {20, 9, 0, {[U] = 11}}},
    {"eset-misp/winter_vivern_misp-wintervivern.event.json", {24, 11, 0, {[U] = 13}}},
    {"unit42-stix/2024-02-27-Akira-Ransomware.json", {18, 18, 0, {0}}},
    {"unit42-stix/LICENSE", {17, 0, 0, {[U] = 17}}},
    {"unit42-stix/ryuk-ransomware.json", {18, 16, 0, {[U] = 2}}},
    {"unit42-stix/solarmarker.json", {85, 39, 0, {[U] = 46}}},
    {"unit42-stix/trickbot.json", {717, 717, 0, {0}}},
    {"unit42-stix/vicesociety.json", {14, 14, 0, {0}}},
    {"unit42-text/Conti_IOCs.txt", {55, 54, 1, {0}}},
    {"unit42-text/DanaBotV4_C2s", {48, 48, 0, {0}}},
    {"unit42-text/Darkside_Darkside_IOCs.txt", {78, 66, 0, {[U] = 7, [F] = 5}}},
    {"unit42-text/Egregor_EgregorIOCs", {44, 44, 0, {0}}},
    {"unit42-text/Gamaredon_Gamaredon_IoCs_JAN2022.txt", {1005, 1004, 1, {0}}},
};

#define NEXPECT (sizeof expectations / sizeof expectations[0])

/* Read with every MISP attribute (all_attributes): the counts above were
 * derived ignoring to_ids; test_shared_to_ids checks the default. */
static struct psi_ioc_set *read_shared(const char *rel)
{
    char path[1024];
    char err[512];
    (void)snprintf(path, sizeof path, "%s/%s", IOC_DIR, rel);
    struct psi_ioc_set *set = new_set();
    struct psi_ioc_read_opts opts = {PSI_IOC_FORMAT_AUTO, NULL, true};
    int rc = psi_ioc_read_file_ex(path, &opts, set, NULL, err, sizeof err);
    if (rc != PSI_OK)
        fail_msg("%s: rc %d: %s", rel, rc, err);
    return set;
}

/* Walks data/ioc; every file must have an expectation, every expectation a
 * file, so a file added to the folder fails here until it is looked at. */
static void walk(const char *rel, bool *seen, size_t *files)
{
    char path[1024];
    (void)snprintf(path, sizeof path, "%s%s%s", IOC_DIR, rel[0] ? "/" : "", rel);
    DIR *dir = opendir(path);
    if (dir == NULL) {
        fail_msg("cannot open %s", path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[512], full[1536];
        (void)snprintf(child, sizeof child, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        (void)snprintf(full, sizeof full, "%s/%s", IOC_DIR, child);
        struct stat st;
        assert_int_equal(stat(full, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            walk(child, seen, files);
            continue;
        }
        size_t i = 0;
        while (i < NEXPECT && strcmp(expectations[i].path, child) != 0)
            i++;
        if (i == NEXPECT) {
            fail_msg("%s: no expected counts for this file", child);
        } else {
            struct psi_ioc_set *set = read_shared(child);
            check_counts(child, set, &expectations[i].want);
            psi_ioc_set_free(set);
            seen[i] = true;
            (*files)++;
        }
    }
    closedir(dir);
}

static void test_every_shared_file(void **state)
{
    (void)state;
    bool seen[NEXPECT] = {false};
    size_t files = 0;
    walk("", seen, &files);
    for (size_t i = 0; i < NEXPECT; i++)
        if (!seen[i])
            fail_msg("%s: expected but not found", expectations[i].path);
    assert_int_equal(files, NEXPECT);
}

/*
 * to_ids by default: ESET publishes most attributes with to_ids false. The
 * counts are the indicator parts of to_ids-false attributes of a supported
 * type (domain|ip: 2, filename|sha256: 1), counted with a Python one-liner
 * over the JSON; everything else reads as with every attribute.
 */
static void test_shared_to_ids(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        uint64_t not_for_detection;
    } misp[] = {
        {"eset-misp/badiis_misp-badiis.json", 136},
        {"eset-misp/dukes_misp-dukes-operation-ghost-event.json", 87},
        {"eset-misp/mozi_mozi.misp-event.json", 5},
        {"eset-misp/oceanlotus_oceanlotus.misp.event.json", 95},
        {"eset-misp/turla_misp-turla-crutch-event.json", 9},
        {"eset-misp/winter_vivern_misp-wintervivern.event.json", 5},
    };
    for (size_t i = 0; i < sizeof misp / sizeof misp[0]; i++) {
        char path[1024], err[256];
        (void)snprintf(path, sizeof path, "%s/%s", IOC_DIR, misp[i].path);
        struct psi_ioc_set *all = read_shared(misp[i].path);
        struct psi_ioc_set *set = new_set();
        if (psi_ioc_read_file(path, PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err) != PSI_OK)
            fail_msg("%s: %s", misp[i].path, err);
        const struct psi_ioc_stats *a = psi_ioc_set_stats(all), *d = psi_ioc_set_stats(set);
        if (d->skipped[PSI_IOC_SKIP_NOT_FOR_DETECTION] != misp[i].not_for_detection)
            fail_msg("%s: %llu not for detection, expected %llu", misp[i].path,
                     (unsigned long long)d->skipped[PSI_IOC_SKIP_NOT_FOR_DETECTION],
                     (unsigned long long)misp[i].not_for_detection);
        assert_int_equal(a->skipped[PSI_IOC_SKIP_NOT_FOR_DETECTION], 0);
        assert_int_equal(d->read, a->read);
        assert_int_equal(d->skipped[U], a->skipped[U]);
        assert_true(d->kept <= a->kept);
        psi_ioc_set_free(all);
        psi_ioc_set_free(set);
    }
}

/* All text files at once: hashes published in two places collapse. */
static void test_shared_text_together(void **state)
{
    (void)state;
    struct psi_ioc_set *set = new_set();
    static const char *const files[] = {
        "eset-hashes/gelsemium.sha1", "eset-hashes/gelsemium.README.adoc",
        "eset-hashes/agrius.sha1", "eset-hashes/agrius.README.adoc"};
    for (size_t i = 0; i < 4; i++) {
        char path[1024], err[256];
        (void)snprintf(path, sizeof path, "%s/%s", IOC_DIR, files[i]);
        assert_int_equal(psi_ioc_read_file(path, PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err),
                         PSI_OK);
    }
    /* gelsemium.README lists the 51 SHA-1 of gelsemium.sha1 (comm -12 on the
     * sorted lists: 51); agrius.README's table holds the 7 SHA-1 of
     * agrius.sha1 in upper case: 51 + 7 duplicates. */
    const struct psi_ioc_stats *st = psi_ioc_set_stats(set);
    assert_int_equal(st->duplicates, 51 + 7);
    assert_int_equal(st->kept, 51 + 64 - 51 + 7 + 8 - 7);
    has(set, PSI_IOC_SHA1, "820ad7e30b4c54692d07b29361aecd0bb14df3be");
    has(set, PSI_IOC_DOMAIN, "acro.ns1.name");
    has(set, PSI_IOC_IPV4, "149.248.14.53");
    psi_ioc_set_free(set);
}

static void test_shared_spot_checks(void **state)
{
    (void)state;
    struct psi_ioc_set *set;

    /* the fanged and defanged forms of one address collapse to one */
    set = read_shared("unit42-text/Conti_IOCs.txt");
    has(set, PSI_IOC_IPV4, "185.178.209.193");
    has(set, PSI_IOC_DOMAIN, "bestarg.com");
    has(set, PSI_IOC_DOMAIN, "gue.life");
    has_not(set, PSI_IOC_DOMAIN, "bestarg[.]com");
    psi_ioc_set_free(set);

    /* file names are not domains */
    set = read_shared("unit42-text/Darkside_Darkside_IOCs.txt");
    has(set, PSI_IOC_DOMAIN, "temisleyes.com");
    has_not(set, PSI_IOC_DOMAIN, "appdata.zip");
    has_not(set, PSI_IOC_DOMAIN, "sam.save");
    psi_ioc_set_free(set);

    /* insertion order: the first domain of the file comes first */
    set = read_shared("unit42-text/Gamaredon_Gamaredon_IoCs_JAN2022.txt");
    struct psi_ioc_ref ref;
    assert_int_equal(psi_ioc_set_get(set, 0, &ref), PSI_OK);
    assert_string_equal(ref.value, "accordan.ru");
    has(set, PSI_IOC_DOMAIN, "hilotrapa.ru");
    /* line 874 has a trailing blank */
    has(set, PSI_IOC_SHA256, "f211e0eb49990edbb5de2bcf2f573ea6a0b6f3549e772fd16bf7cc214d924824");
    psi_ioc_set_free(set);

    /* a sha256 of a STIX pattern file:hashes.'SHA-256' */
    set = read_shared("unit42-stix/trickbot.json");
    has(set, PSI_IOC_SHA256, "c41010cd1bd4e5837d28caf7881ea4dd27fdf2a19c234f1fee7674fdc1dd53ea");
    psi_ioc_set_free(set);
    set = read_shared("unit42-stix/ryuk-ransomware.json");
    assert_int_equal(unsupported_named(set, "stix:process:command_line"), 1);
    assert_int_equal(unsupported_named(set, "stix:windows-registry-key:key"), 1);
    psi_ioc_set_free(set);
    set = read_shared("unit42-stix/solarmarker.json");
    has(set, PSI_IOC_IPV4, "5.254.118.226");
    assert_int_equal(unsupported_named(set, "stix:file:name"), 46);
    psi_ioc_set_free(set);

    /* MISP: composites split, URL case kept, url attributes holding a bare
     * host are that host */
    set = read_shared("eset-misp/oceanlotus_oceanlotus.misp.event.json");
    has(set, PSI_IOC_DOMAIN, "dwarduong.com");
    has(set, PSI_IOC_IPV4, "46.183.78.191");
    has(set, PSI_IOC_SHA1, "82e579bd49d69845133c9aa8585f8bd26736437b");
    assert_int_equal(unsupported_named(set, "misp:regkey|value"), 3);
    assert_int_equal(unsupported_named(set, "misp:filename"), 8);
    psi_ioc_set_free(set);
    set = read_shared("eset-misp/mozi_mozi.misp-event.json");
    has(set, PSI_IOC_URL, "http://157.119.75.16/Mozi.a");
    has(set, PSI_IOC_IPV4, "188.167.251.165"); /* an object attribute */
    assert_int_equal(unsupported_named(set, "misp:text"), 61);
    assert_int_equal(unsupported_named(set, "misp:port"), 11);
    psi_ioc_set_free(set);
    set = read_shared("eset-misp/badiis_misp-badiis.json");
    has(set, PSI_IOC_IPV4, "143.92.48.38");
    has(set, PSI_IOC_DOMAIN, "now.asmkpo.com");
    has(set, PSI_IOC_URL, "http://speed.wlaspsd.com/vip.js");
    has(set, PSI_IOC_URL, "http://202.100.206.136:443/");
    has(set, PSI_IOC_URL, "http://20.3323sf.com/");
    psi_ioc_set_free(set);
    set = read_shared("eset-misp/winter_vivern_misp-wintervivern.event.json");
    has(set, PSI_IOC_EMAIL, "team.managment@outlook.com");
    assert_int_equal(unsupported_named(set, "misp:vulnerability"), 1);
    psi_ioc_set_free(set);
    set = read_shared("eset-misp/dukes_misp-dukes-operation-ghost-event.json");
    assert_int_equal(unsupported_named(set, "misp:link"), 1);
    has(set, PSI_IOC_URL, "http://twitter.com/JamesScott1990");
    psi_ioc_set_free(set);
}

/* ---- plain text ---------------------------------------------------------- */

static void test_text_rules(void **state)
{
    (void)state;
    static const char text[] = "# a comment, 10.0.0.1 in it does not count\n"
                               "// another one\n"
                               "\n"
                               "   \t \n"
                               "Domains:\n"                                     /* unsupported */
                               "evil[.]com\tC2 server\tseen 2021\n"             /* domain */
                               "EVIL.COM\n"                                     /* duplicate */
                               "203.0.113.7,evil2.com;hxxp://evil3[.]com/a|x\n" /* three */
                               "203.0.113.9.443\n"                              /* netstat form */
                               "10.1.2.3 198.51.100.1\n"                    /* reserved + kept */
                               "localhost\n"                                /* generic */
                               "update.exe\n"                               /* filename */
                               "update.exe 198.51.100.2\n"                  /* kept only */
                               "010.1.1.1\r\n"                              /* ambiguous */
                               "  `d41d8cd98f00b204e9800998ecf8427e`  \r\n" /* md5 */
                               "just words here\n"                          /* unsupported */
                               "[2001:db8::1]:443"; /* last line, no newline */
    struct psi_ioc_set *set = read_text_ok("list.txt", text, PSI_IOC_FORMAT_AUTO, NULL);
    struct counts want = {16,
                          9,
                          1,
                          {[U] = 2,
                           [F] = 1,
                           [PSI_IOC_SKIP_RESERVED] = 1,
                           [PSI_IOC_SKIP_GENERIC] = 1,
                           [PSI_IOC_SKIP_AMBIGUOUS] = 1}};
    check_counts("inline text", set, &want);
    has(set, PSI_IOC_DOMAIN, "evil.com");
    has(set, PSI_IOC_DOMAIN, "evil2.com");
    has(set, PSI_IOC_URL, "http://evil3.com/a");
    has(set, PSI_IOC_IPV4, "203.0.113.7");
    has(set, PSI_IOC_IPV4, "203.0.113.9");
    has(set, PSI_IOC_IPV4, "198.51.100.1");
    has(set, PSI_IOC_IPV4, "198.51.100.2");
    has(set, PSI_IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e");
    has(set, PSI_IOC_IPV6, "2001:db8::1");
    has_not(set, PSI_IOC_IPV4, "10.0.0.1");
    psi_ioc_set_free(set);
}

static void test_text_edge_input(void **state)
{
    (void)state;
    /* UTF-8 BOM skipped; empty file; only comments */
    struct psi_ioc_set *set = read_text_ok("bom.txt",
                                           "\xef\xbb\xbf"
                                           "evil.com\n",
                                           PSI_IOC_FORMAT_TEXT, NULL);
    has(set, PSI_IOC_DOMAIN, "evil.com");
    psi_ioc_set_free(set);
    set = read_text_ok("empty.txt", "", PSI_IOC_FORMAT_AUTO, NULL);
    assert_int_equal(psi_ioc_set_stats(set)->read, 0);
    psi_ioc_set_free(set);
    set = new_set();
    char err[64] = "untouched";
    assert_int_equal(
        psi_ioc_read_buffer("null.txt", NULL, 0, PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err),
        PSI_OK);
    assert_string_equal(err, "");
    psi_ioc_set_free(set);

    /* a huge line: one column too long, one indicator after it */
    size_t big = (size_t)3 * 1024 * 1024;
    char *huge = malloc(big + 32);
    assert_non_null(huge);
    memset(huge, 'a', big);
    memcpy(huge + big, " 198.51.100.3\nx\n", 17);
    set = new_set();
    assert_int_equal(psi_ioc_read_buffer("huge.txt", huge, strlen(huge), PSI_IOC_FORMAT_TEXT, NULL,
                                         set, err, sizeof err),
                     PSI_OK);
    struct counts want = {3, 1, 0, {[U] = 1, [PSI_IOC_SKIP_TOO_LONG] = 1}};
    check_counts("huge line", set, &want);
    has(set, PSI_IOC_IPV4, "198.51.100.3");
    psi_ioc_set_free(set);
    free(huge);

    /* a text list that opens with '[' is not taken for JSON */
    set = read_text_ok("v6.txt", "[2001:db8::2]:80\n", PSI_IOC_FORMAT_AUTO, NULL);
    has(set, PSI_IOC_IPV6, "2001:db8::2");
    psi_ioc_set_free(set);
}

static void test_text_errors(void **state)
{
    (void)state;
    static const char nul_text[] = "evil.com\nok.com\nx\0y\n";
    read_fails("bin.txt", nul_text, sizeof nul_text - 1, PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "bin.txt:3: NUL byte: this is not a text file");
    read_fails("bin.csv", "a,b\n\0", 5, PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "bin.csv:2: NUL byte: this is not a text file");
    read_fails("u16.txt",
               "\xff\xfe"
               "e\0v\0",
               6, PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "u16.txt:1: UTF-16 text; convert it to UTF-8");
    read_fails("u16be.txt", "\xfe\xff\0e", 4, PSI_IOC_FORMAT_TEXT, NULL, PSI_ERR_PARSE,
               "u16be.txt:1: UTF-16 text; convert it to UTF-8");
    struct psi_csv_opts col = {"ioc", 0, 0};
    read_fails("list.txt", "evil.com\n", 9, PSI_IOC_FORMAT_TEXT, &col, PSI_ERR_INVALID,
               "list.txt: a column is only chosen in CSV input (this is text)");
    read_fails("x.json", "{}", 2, PSI_IOC_FORMAT_AUTO, &col, PSI_ERR_INVALID,
               "x.json: a column is only chosen in CSV input (this is JSON)");
    read_fails("x.txt", "a", 1, (enum psi_ioc_format)9, NULL, PSI_ERR_INVALID,
               "x.txt: invalid arguments");
    char err[8];
    assert_int_equal(
        psi_ioc_read_buffer("x", "a", 1, PSI_IOC_FORMAT_TEXT, NULL, NULL, err, sizeof err),
        PSI_ERR_INVALID);
    /* a short error buffer is cut, never overrun */
    struct psi_ioc_set *set = new_set();
    assert_int_equal(psi_ioc_read_buffer("a-long-file-name.txt", "\0", 1, PSI_IOC_FORMAT_TEXT, NULL,
                                         set, err, sizeof err),
                     PSI_ERR_PARSE);
    assert_string_equal(err, "a-long-");
    assert_int_equal(psi_ioc_read_buffer("x.txt", "\0", 1, PSI_IOC_FORMAT_TEXT, NULL, set, NULL, 0),
                     PSI_ERR_PARSE);
    psi_ioc_set_free(set);
}

/* ---- CSV ----------------------------------------------------------------- */

static void test_csv_header_and_columns(void **state)
{
    (void)state;
    static const char csv[] = "first_seen,indicator,comment\n"
                              "2024-01-01,evil[.]com,\"C2, seen twice\"\n"
                              "2024-01-02,\"203.0.113.7\",\"said \"\"hi\"\"\"\n"
                              "\n"
                              "2024-01-03,10.0.0.1,private\n"
                              "2024-01-04,\"multi\nline\",x\n"
                              "2024-01-05\n"
                              "2024-01-06,,empty\r\n"
                              "2024-01-07,EVIL.com,dup\r\n";
    struct psi_ioc_set *set = read_text_ok("feed.csv", csv, PSI_IOC_FORMAT_AUTO, NULL);
    /* indicator column found by name; the "multi\nline" value is one
     * unsupported value; the short row is malformed; the empty cell no value */
    struct counts want = {6, 2, 1, {[U] = 1, [M] = 1, [PSI_IOC_SKIP_RESERVED] = 1}};
    check_counts("indicator column", set, &want);
    has(set, PSI_IOC_DOMAIN, "evil.com");
    has(set, PSI_IOC_IPV4, "203.0.113.7");
    psi_ioc_set_free(set);

    /* the same column by number and by name (case-insensitive) */
    struct psi_csv_opts by_index = {NULL, 2, 0};
    set = read_text_ok("feed.csv", csv, PSI_IOC_FORMAT_CSV, &by_index);
    check_counts("column 2", set, &want);
    psi_ioc_set_free(set);
    struct psi_csv_opts by_name = {"INDICATOR", 0, 0};
    set = read_text_ok("feed.csv", csv, PSI_IOC_FORMAT_CSV, &by_name);
    check_counts("column INDICATOR", set, &want);
    psi_ioc_set_free(set);
    /* another column: the comments hold no indicator */
    struct psi_csv_opts third = {NULL, 3, 0};
    set = read_text_ok("feed.csv", csv, PSI_IOC_FORMAT_CSV, &third);
    assert_int_equal(psi_ioc_set_stats(set)->kept, 0);
    psi_ioc_set_free(set);
}

static void test_csv_typed_and_named_columns(void **state)
{
    (void)state;
    /* a MISP CSV export: type and value columns */
    static const char misp[] =
        "uuid,event_id,category,type,value,comment,to_ids\n"
        "u1,1,Network activity,ip-dst|port,203.0.113.7|8080,,1\n"
        "u2,1,Payload "
        "delivery,filename|sha256,a.exe|"
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855,,1\n"
        "u3,1,Network activity,domain,Appdata.zip,,1\n"
        "u4,1,Other,text,hello,,0\n"
        "u5,1,Network activity,ipv6,2001:DB8::5,,1\n";
    struct psi_ioc_set *set = read_text_ok("misp.csv", misp, PSI_IOC_FORMAT_AUTO, NULL);
    struct counts want = {5, 4, 0, {[U] = 1}};
    check_counts("MISP CSV", set, &want);
    has(set, PSI_IOC_IPV4, "203.0.113.7");
    has(set, PSI_IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    has(set, PSI_IOC_DOMAIN, "appdata.zip"); /* typed: a name, whatever it looks like */
    has(set, PSI_IOC_IPV6, "2001:db8::5");
    assert_int_equal(unsupported_named(set, "misp:text"), 1);
    psi_ioc_set_free(set);

    /* a column named after a type reads its values as that type */
    set =
        read_text_ok("d.csv", "Domain;Note\nAppdata.zip;x\n1.2.3.4;y\n", PSI_IOC_FORMAT_CSV, NULL);
    has(set, PSI_IOC_DOMAIN, "appdata.zip");
    has(set, PSI_IOC_IPV4, "1.2.3.4");
    psi_ioc_set_free(set);
    /* a sha256 column: an md5 there is malformed */
    set = read_text_ok("h.csv", "name\tsha256\na.exe\td41d8cd98f00b204e9800998ecf8427e\n",
                       PSI_IOC_FORMAT_CSV, NULL);
    struct counts md5_in_sha256 = {1, 0, 0, {[M] = 1}};
    check_counts("sha256 column", set, &md5_in_sha256);
    psi_ioc_set_free(set);
}

static void test_csv_without_header(void **state)
{
    (void)state;
    /* no header: every field of every row, as in text */
    static const char csv[] = "evil.com,203.0.113.7\n"
                              "note only,another\n"
                              "\"hxxp://evil[.]com/a,b\",x\n";
    struct psi_ioc_set *set = read_text_ok("rows.csv", csv, PSI_IOC_FORMAT_AUTO, NULL);
    struct counts want = {4, 3, 0, {[U] = 1}};
    check_counts("headerless CSV", set, &want);
    has(set, PSI_IOC_URL, "http://evil.com/a,b"); /* a quoted comma stays */
    psi_ioc_set_free(set);
    /* a header but no indicator-like column name: every field */
    set = read_text_ok("odd.csv", "alpha,beta\nx,evil.com\n", PSI_IOC_FORMAT_CSV, NULL);
    has(set, PSI_IOC_DOMAIN, "evil.com");
    psi_ioc_set_free(set);
    /* explicit delimiter */
    struct psi_csv_opts pipe = {NULL, 2, '|'};
    set = read_text_ok("p.csv", "a|b\nx|evil.com\n", PSI_IOC_FORMAT_CSV, &pipe);
    has(set, PSI_IOC_DOMAIN, "evil.com");
    assert_int_equal(psi_ioc_set_stats(set)->read, 1);
    psi_ioc_set_free(set);
    /* blank lines only */
    set = read_text_ok("blank.csv", "\n\n\n", PSI_IOC_FORMAT_CSV, NULL);
    assert_int_equal(psi_ioc_set_stats(set)->read, 0);
    psi_ioc_set_free(set);
}

static void test_csv_errors(void **state)
{
    (void)state;
    static const char open_quote[] = "ioc,note\nevil.com,ok\n\"a.com,x\nb.com,y\n";
    read_fails("q.csv", open_quote, strlen(open_quote), PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "q.csv:3: quoted field is never closed");
    static const char after_quote[] = "ioc,note\n\"a\nb\",x\n\"evil.com\"x,y\n";
    read_fails("a.csv", after_quote, strlen(after_quote), PSI_IOC_FORMAT_CSV, NULL, PSI_ERR_PARSE,
               "a.csv:4: 'x' after the closing quote of a field");
    read_fails("b.csv", "\"a\"\x01", 4, PSI_IOC_FORMAT_CSV, NULL, PSI_ERR_PARSE,
               "b.csv:1: byte 0x01 after the closing quote of a field");
    struct psi_csv_opts missing = {"url", 0, 0};
    read_fails("c.csv", "ioc,note\nevil.com,x\n", 20, PSI_IOC_FORMAT_CSV, &missing, PSI_ERR_PARSE,
               "c.csv:1: no column named 'url'");
    read_fails("d.csv", "\n\nevil.com,x\n", 12, PSI_IOC_FORMAT_CSV, &missing, PSI_ERR_PARSE,
               "d.csv:3: no header row to find column 'url' in");
    struct psi_csv_opts quote = {NULL, 1, '"'};
    read_fails("e.csv", "a\n", 2, PSI_IOC_FORMAT_CSV, &quote, PSI_ERR_INVALID,
               "e.csv: a quote or line end cannot be the CSV delimiter");
}

/* ---- STIX ---------------------------------------------------------------- */

static void test_stix_patterns(void **state)
{
    (void)state;
    static const char bundle[] =
        "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[\n"
        " {\"type\":\"identity\",\"name\":\"not an indicator\"},\n"
        " {\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value = '203.0.113.7' OR "
        "domain-name:value = 'Evil[.]COM']\"},\n"
        " {\"type\":\"indicator\",\"pattern\":\"[file:hashes.'SHA-256' = "
        "'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855' AND "
        "file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND file:name = 'a.exe']\"},\n"
        " {\"type\":\"indicator\",\"pattern\":\"([url:value = 'hxxp://evil.com/A'] FOLLOWEDBY "
        "[email-addr:value = 'Bob@Evil.com']) WITHIN 600 SECONDS\"},\n"
        " {\"type\":\"indicator\",\"pattern\":\"[(ipv6-addr:value = '2001:DB8::7' OR "
        "(network-traffic:dst_ref.value = '198.51.100.7')) AND file:hashes.'SHA-1' = "
        "'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709']\"},\n"
        " {\"type\":\"indicator\",\"pattern\":\"[file:hashes.SHA512 = 'abc'] REPEATS 2 TIMES "
        "START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'\"},\n"
        " {\"type\":\"indicator\",\"pattern\":\"[domain-name:value LIKE '%.evil.com' OR "
        "domain-name:value != 'a.com' OR domain-name:value NOT = 'b.com' OR "
        "domain-name:value IN ('c.com', 'd.com') OR url:value MATCHES '^x']\"},\n"
        " {\"type\":\"indicator\",\"pattern\":\"[NOT EXISTS file:name] AND "
        "[x509-certificate:hashes.'SHA-256' = 'ab'] AND [ipv4-addr:value = 5]\"},\n"
        " {\"type\":\"indicator\",\"pattern\":\"[email-message:from_ref.value = "
        "'it\\\\'s@evil.com']\"},\n"
        " {\"type\":\"indicator\",\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\"},\n"
        " {\"type\":\"indicator\",\"revoked\":true,\"pattern\":\"[ipv4-addr:value = "
        "'198.51.100.99']\"},\n"
        " {\"type\":\"indicator\",\"pattern_type\":\"yara\",\"pattern\":\"rule x {}\"},\n"
        " {\"type\":\"indicator\",\"pattern_type\":\"stix\",\"pattern\":\"[url:value = "
        "'http://evil.com:80/B#f']\"}\n"
        "]}\n";
    struct psi_ioc_set *set = read_text_ok("b.json", bundle, PSI_IOC_FORMAT_AUTO, NULL);
    /* values: 2 + 3 + 2 + 3 + 1 + 5 + 3 + 1 + 1 + 1 (yara) + 1 = 23;
     * kept: ipv4, domain, sha256, md5, url, email, ipv6, ipv4, sha1, email,
     * url = 11; skipped: file:name, SHA512 'abc' (malformed), 5 operators,
     * EXISTS, x509 path, non-string value, reserved 10.0.0.1, yara */
    struct counts want = {23, 11, 0, {[U] = 10, [M] = 1, [PSI_IOC_SKIP_RESERVED] = 1}};
    check_counts("STIX patterns", set, &want);
    has(set, PSI_IOC_IPV4, "203.0.113.7");
    has(set, PSI_IOC_DOMAIN, "evil.com");
    has(set, PSI_IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    has(set, PSI_IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e");
    has(set, PSI_IOC_URL, "http://evil.com/A");
    has(set, PSI_IOC_URL, "http://evil.com/B");
    has(set, PSI_IOC_EMAIL, "Bob@evil.com");
    has(set, PSI_IOC_EMAIL, "it's@evil.com");
    has(set, PSI_IOC_IPV6, "2001:db8::7");
    has(set, PSI_IOC_IPV4, "198.51.100.7");
    has(set, PSI_IOC_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    has_not(set, PSI_IOC_IPV4, "198.51.100.99");
    /* "NOT EXISTS file:name" counts under its path, as file:name = 'a.exe' */
    assert_int_equal(unsupported_named(set, "stix:file:name"), 2);
    assert_int_equal(unsupported_named(set, "stix:operator LIKE"), 1);
    assert_int_equal(unsupported_named(set, "stix:operator !="), 1);
    assert_int_equal(unsupported_named(set, "stix:operator NOT ="), 1);
    assert_int_equal(unsupported_named(set, "stix:operator IN"), 1);
    assert_int_equal(unsupported_named(set, "stix:operator MATCHES"), 1);
    assert_int_equal(unsupported_named(set, "stix:x509-certificate:hashes.'SHA-256'"), 1);
    assert_int_equal(unsupported_named(set, "stix:pattern_type:yara"), 1);
    assert_int_equal(unsupported_named(set, "stix:non-string value"), 1);
    psi_ioc_set_free(set);
}

static void test_stix_malformed_patterns(void **state)
{
    (void)state;
    /* each a malformed value, never fatal, and nothing taken from it */
    static const char *const bad[] = {
        "[ipv4-addr:value = '203.0.113.7'",      /* unclosed bracket */
        "ipv4-addr:value = '203.0.113.7'",       /* no bracket */
        "[ipv4-addr:value = '203.0.113.7]",      /* unterminated string */
        "[ipv4-addr:value '203.0.113.7']",       /* no operator */
        "[ipv4-addr:value =]",                   /* no value */
        "[ipv4-addr:value = '203.0.113.7'] AND", /* dangling AND */
        "[ipv4-addr:value = 'a\\\\x']",          /* bad escape */
        "[ipv4-addr:value = '203.0.113.7'] [x:y = 'z']",
        "[ipv4-addr:value = '203.0.113.7' ; x]",
        "[]",
        "",
        "[ipv4-addr:value IN ('a' 'b')]",
        "[file:hashes.'SHA-256 = 'x']",
        "[ipv4-addr:value = '203.0.113.7'] WITHIN x SECONDS",
        "[a:b[0 = 'x']",
        "[NOT ipv4-addr:value = '203.0.113.7']",
        "[ipv4-addr:value ! '203.0.113.7']",
    };
    size_t n = sizeof bad / sizeof bad[0];
    struct psi_ioc_set *set = new_set();
    for (size_t i = 0; i < n; i++) {
        char doc[512];
        char escaped[256];
        size_t k = 0;
        for (const char *c = bad[i]; *c != '\0' && k + 2 < sizeof escaped; c++) {
            if (*c == '"' || *c == '\\')
                escaped[k++] = '\\';
            escaped[k++] = *c;
        }
        escaped[k] = '\0';
        int len = snprintf(doc, sizeof doc,
                           "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\","
                           "\"pattern\":\"%s\"}]}",
                           escaped);
        char err[128];
        int rc = psi_ioc_read_buffer("bad.json", doc, (size_t)len, PSI_IOC_FORMAT_STIX, NULL, set,
                                     err, sizeof err);
        if (rc != PSI_OK)
            fail_msg("pattern %zu: %s", i, err);
        if (psi_ioc_set_stats(set)->skipped[M] != i + 1)
            fail_msg("pattern %zu (%s) was not counted malformed", i, bad[i]);
    }
    assert_int_equal(psi_ioc_set_count(set), 0);
    psi_ioc_set_free(set);

    /* nesting deeper than the parser goes: malformed, no stack overflow */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 200);
    assert_non_null(deep);
    size_t k = (size_t)snprintf(deep, 64, "{\"type\":\"indicator\",\"pattern\":\"[");
    memset(deep + k, '(', depth);
    k += depth;
    k += (size_t)snprintf(deep + k, 64, "ipv4-addr:value = '1.2.3.4'");
    memset(deep + k, ')', depth);
    k += depth;
    k += (size_t)snprintf(deep + k, 16, "]\"}");
    set = new_set();
    char err[128];
    assert_int_equal(
        psi_ioc_read_buffer("deep.json", deep, k, PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err),
        PSI_OK);
    assert_int_equal(psi_ioc_set_stats(set)->skipped[M], 1);
    psi_ioc_set_free(set);
    free(deep);

    /* an indicator without a pattern is a malformed value */
    set = read_text_ok("np.json",
                       "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\"},"
                       "{\"type\":\"indicator\",\"pattern\":7}]}",
                       PSI_IOC_FORMAT_AUTO, NULL);
    assert_int_equal(psi_ioc_set_stats(set)->skipped[M], 2);
    psi_ioc_set_free(set);
}

static void test_stix_shapes(void **state)
{
    (void)state;
    /* a bare indicator, a list of objects, an empty bundle */
    struct psi_ioc_set *set =
        read_text_ok("one.json",
                     "{\"type\":\"indicator\",\"pattern\":\"[domain-name:value = "
                     "'one.example.com']\"}",
                     PSI_IOC_FORMAT_AUTO, NULL);
    has(set, PSI_IOC_DOMAIN, "one.example.com");
    psi_ioc_set_free(set);
    set = read_text_ok("list.json",
                       "[{\"type\":\"indicator\",\"pattern\":\"[domain-name:value "
                       "= 'two.example.com']\"}]",
                       PSI_IOC_FORMAT_STIX, NULL);
    has(set, PSI_IOC_DOMAIN, "two.example.com");
    psi_ioc_set_free(set);
    /* a bundle with nothing to read is an error, not "0 read" */
    static const char empty[] = "{\"type\":\"bundle\",\"id\":\"bundle--x\"}";
    read_fails("empty.json", empty, strlen(empty), PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "empty.json: nothing to read: an empty STIX bundle");
    static const char reports[] =
        "{\"type\":\"bundle\",\"objects\":[{\"type\":\"identity\",\"name\":\"x\"},"
        "{\"type\":\"report\",\"name\":\"y\"},{\"type\":\"indicator\",\"revoked\":true,"
        "\"pattern\":\"[domain-name:value = 'gone.example.com']\"}]}";
    read_fails("reports.json", reports, strlen(reports), PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "reports.json: nothing to read: no indicator, cyber-observable or observed-data "
               "in this STIX bundle (3 objects, 1 revoked)");
    static const char other[] = "{\"type\":\"bundle\",\"objects\":[{\"type\":\"malware\"}]}";
    read_fails("other.json", other, strlen(other), PSI_IOC_FORMAT_STIX, NULL, PSI_ERR_PARSE,
               "other.json: nothing to read: no indicator, cyber-observable or observed-data "
               "in this STIX bundle (1 object of other types)");

    /* errors in the shape of the document */
    static const char objects_not_array[] = "{\"type\":\"bundle\",\"objects\":{}}";
    read_fails("s1.json", objects_not_array, strlen(objects_not_array), PSI_IOC_FORMAT_AUTO, NULL,
               PSI_ERR_PARSE, "s1.json: $.objects: not an array");
    static const char object_not_object[] = "{\"type\":\"bundle\",\"objects\":[{},3]}";
    read_fails("s2.json", object_not_object, strlen(object_not_object), PSI_IOC_FORMAT_AUTO, NULL,
               PSI_ERR_PARSE, "s2.json: $.objects[1]: not an object");
    static const char misp_as_stix[] = "{\"Event\":{}}";
    read_fails("s3.json", misp_as_stix, strlen(misp_as_stix), PSI_IOC_FORMAT_STIX, NULL,
               PSI_ERR_PARSE,
               "s3.json: this is a MISP event, not a STIX 2 bundle; read it as misp (or auto)");
    static const char not_a_bundle[] = "{\"type\":\"report\"}";
    read_fails("s5.json", not_a_bundle, strlen(not_a_bundle), PSI_IOC_FORMAT_STIX, NULL,
               PSI_ERR_PARSE, "s5.json: $.type: not \"bundle\"; this is no STIX 2 bundle");
    /* jansson takes only an object or an array at the top */
    read_fails("s4.json", "\"bundle\"", 8, PSI_IOC_FORMAT_STIX, NULL, PSI_ERR_PARSE,
               "s4.json:1: JSON: '[' or '{' expected near '\"bundle\"'");
}

/* ---- MISP ---------------------------------------------------------------- */

static void test_misp_attributes(void **state)
{
    (void)state;
    static const char event[] =
        "{\"Event\":{\"info\":\"test\",\"Attribute\":[\n"
        " {\"type\":\"ip-dst|port\",\"value\":\"203.0.113.7|443\"},\n"
        " {\"type\":\"ip-src|port\",\"value\":\"2001:db8::9|53\"},\n"
        " {\"type\":\"domain|ip\",\"value\":\"Evil.com|198.51.100.7\"},\n"
        " {\"type\":\"hostname|port\",\"value\":\"c2.evil.com|8080\"},\n"
        " {\"type\":\"filename|sha256\",\"value\":\"a|b.exe|"
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"},\n"
        " {\"type\":\"malware-sample\",\"value\":\"x.exe|d41d8cd98f00b204e9800998ecf8427e\"},\n"
        " {\"type\":\"ip-dst\",\"value\":\"198.51.100.0/24\"},\n"
        " {\"type\":\"hostname\",\"value\":\"www.evil.com.\"},\n"
        " {\"type\":\"email-dst\",\"value\":\"a[at]evil.com\"},\n"
        " {\"type\":\"uri\",\"value\":\"/gate.php\"},\n"
        " {\"type\":\"uri\",\"value\":\"/\"},\n"
        " {\"type\":\"uri\",\"value\":\"https://evil.com/gate.php\"},\n"
        " {\"type\":\"link\",\"value\":\"https://report.example.com/\"},\n"
        " {\"type\":\"sha224\",\"value\":\"abc\"},\n"
        " {\"type\":\"md5\",\"value\":\"d41d8cd98f00b204e9800998ecf8427\"},\n"
        " {\"type\":\"domain|ip\",\"value\":\"no-bar.com\"},\n"
        " {\"type\":\"ip-dst\",\"value\":\"192.168.1.1\"},\n"
        " {\"type\":\"domain\",\"value\":\"gone.com\",\"deleted\":true},\n"
        " {\"type\":\"domain\"},\n"
        " {\"type\":7,\"value\":\"x\"}\n"
        "],\"Object\":[{\"name\":\"file\",\"Attribute\":[\n"
        " {\"type\":\"sha1\",\"value\":\"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\"},\n"
        " {\"type\":\"filename\",\"value\":\"x.exe\"}]},\n"
        " {\"name\":\"gone\",\"deleted\":true,\"Attribute\":[{\"type\":\"domain\",\"value\":"
        "\"gone2.com\"}]},\n"
        " {\"name\":\"empty\"}]}}\n";
    struct psi_ioc_set *set = read_text_ok("e.json", event, PSI_IOC_FORMAT_AUTO, NULL);
    /* values: 1+1+2+1+1+1+1+1+1 (kept kinds, 10) + uri path, uri /, uri url,
     * link, sha224, bad md5, bar-less composite, private ip, no value, bad type,
     * sha1, filename = 22 */
    struct counts want = {
        22, 12, 0, {[U] = 4, [M] = 4, [PSI_IOC_SKIP_GENERIC] = 1, [PSI_IOC_SKIP_RESERVED] = 1}};
    check_counts("MISP attributes", set, &want);
    has(set, PSI_IOC_IPV4, "203.0.113.7");
    has(set, PSI_IOC_IPV6, "2001:db8::9");
    has(set, PSI_IOC_DOMAIN, "evil.com");
    has(set, PSI_IOC_IPV4, "198.51.100.7");
    has(set, PSI_IOC_DOMAIN, "c2.evil.com");
    has(set, PSI_IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    has(set, PSI_IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e");
    has(set, PSI_IOC_CIDR4, "198.51.100.0/24");
    has(set, PSI_IOC_DOMAIN, "www.evil.com");
    has(set, PSI_IOC_EMAIL, "a@evil.com");
    has(set, PSI_IOC_URL, "https://evil.com/gate.php");
    has(set, PSI_IOC_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    has_not(set, PSI_IOC_DOMAIN, "gone.com");
    has_not(set, PSI_IOC_DOMAIN, "gone2.com");
    has_not(set, PSI_IOC_URL, "https://report.example.com/");
    assert_int_equal(unsupported_named(set, "misp:link"), 1);
    assert_int_equal(unsupported_named(set, "misp:sha224"), 1);
    assert_int_equal(unsupported_named(set, "misp:filename"), 1);
    psi_ioc_set_free(set);
}

static void test_misp_shapes(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"response\":[{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.com\"}]}},"
        "{\"Event\":{\"Object\":[{\"Attribute\":[{\"type\":\"domain\",\"value\":\"b.com\"}]}]}}]}",
        "[{\"Event\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.com\"},"
        "{\"type\":\"domain\",\"value\":\"b.com\"}]}}]",
        "{\"response\":{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.com\"},"
        "{\"type\":\"hostname\",\"value\":\"b.com\"}]}}",
        "{\"Attribute\":[{\"type\":\"domain\",\"value\":\"a.com\"}],"
        "\"Object\":[{\"Attribute\":[{\"type\":\"domain\",\"value\":\"b.com\"}]}]}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct psi_ioc_set *set = read_text_ok("m.json", docs[i], PSI_IOC_FORMAT_AUTO, NULL);
        has(set, PSI_IOC_DOMAIN, "a.com");
        has(set, PSI_IOC_DOMAIN, "b.com");
        assert_int_equal(psi_ioc_set_stats(set)->read, 2);
        psi_ioc_set_free(set);
    }
    static const struct {
        const char *doc, *err;
    } bad[] = {
        {"{\"Event\":[]}", "m.json: $.Event: not an object"},
        {"{\"Event\":{\"Attribute\":{}}}", "m.json: $.Event.Attribute: not an array"},
        {"{\"Event\":{\"Attribute\":[1]}}", "m.json: $.Event.Attribute[0]: not an object"},
        {"{\"Event\":{\"Object\":5}}", "m.json: $.Event.Object: not an array"},
        {"{\"Event\":{\"Object\":[{},7]}}", "m.json: $.Event.Object[1]: not an object"},
        {"{\"Event\":{\"Object\":[{\"Attribute\":[{},\"x\"]}]}}",
         "m.json: $.Event.Object[0].Attribute[1]: not an object"},
        {"{\"response\":[{\"Event\":{}},{\"event\":{}}]}", "m.json: $.response[1]: no \"Event\""},
        {"{\"response\":[{\"Event\":{}},4]}", "m.json: $.response[1]: not an object"},
        {"{\"response\":\"x\"}", "m.json: $.response: neither a list of events nor of "
                                 "attributes"},
        {"{\"x\":1}", "m.json: $: no \"Event\", \"response\" or \"Attribute\"; this is no MISP "
                      "event"},
        {"[3]", "m.json: $[0]: not an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        read_fails("m.json", bad[i].doc, strlen(bad[i].doc), PSI_IOC_FORMAT_MISP, NULL,
                   PSI_ERR_PARSE, bad[i].err);
}

/* ---- JSON syntax, detection ---------------------------------------------- */

static void test_json_errors(void **state)
{
    (void)state;
    static const char broken[] = "{\n  \"type\": \"bundle\",\n  \"objects\": [\n    {\"type\": "
                                 "\"indicator\",}\n  ]\n}\n";
    read_fails("broken.json", broken, strlen(broken), PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "broken.json:4: JSON: string or '}' expected near '}'");
    static const char truncated[] = "{\"Event\": {\"Attribute\": [\n{\"type\": \"domain\"";
    read_fails("cut.json", truncated, strlen(truncated), PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "cut.json:2: JSON: '}' expected near end of file");
    static const char nul[] = "{\"a\": \"x\\u0000y\"}";
    read_fails("nul.json", nul, strlen(nul), PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "nul.json:1: JSON: \\u0000 is not allowed without JSON_ALLOW_NUL near "
               "'\"x\\u0000y\"'");
    read_fails("raw.json", "{\"a\":\0}", 7, PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "raw.json:1: JSON: invalid token near end of file");
    read_fails("other.json", "{\"hello\": 1}", 12, PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "other.json: JSON that is neither a STIX 2 bundle nor a MISP event");
    /* a .json file of garbage is JSON by its name */
    read_fails("g.json", "hello", 5, PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "g.json:1: JSON: '[' or '{' expected near 'hello'");
    /* deep nesting stops in jansson, with a message */
    size_t depth = 100000;
    char *deep = malloc(depth);
    assert_non_null(deep);
    memset(deep, '[', depth);
    struct psi_ioc_set *set = new_set();
    char err[256];
    assert_int_equal(psi_ioc_read_buffer("deep.json", deep, depth, PSI_IOC_FORMAT_AUTO, NULL, set,
                                         err, sizeof err),
                     PSI_ERR_PARSE);
    assert_non_null(strstr(err, "deep.json:1: JSON: "));
    psi_ioc_set_free(set);
    free(deep);
}

static void test_format_names(void **state)
{
    (void)state;
    static const char *const names[] = {"auto", "text", "csv", "stix", "misp"};
    for (size_t i = 0; i < 5; i++) {
        enum psi_ioc_format f;
        assert_int_equal(psi_ioc_format_from_name(names[i], &f), PSI_OK);
        assert_int_equal(f, (enum psi_ioc_format)i);
        assert_string_equal(psi_ioc_format_name(f), names[i]);
    }
    enum psi_ioc_format f;
    assert_int_equal(psi_ioc_format_from_name("json", &f), PSI_ERR_NOT_FOUND);
    assert_int_equal(psi_ioc_format_from_name(NULL, &f), PSI_ERR_INVALID);
    assert_string_equal(psi_ioc_format_name((enum psi_ioc_format)17), "auto");
}

/* ---- files and streams ---------------------------------------------------- */

static void test_files_and_streams(void **state)
{
    (void)state;
    struct psi_ioc_set *set = new_set();
    char err[256];
    assert_int_equal(
        psi_ioc_read_file("/nonexistent/list.txt", PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err),
        PSI_ERR_IO);
    assert_string_equal(err, "/nonexistent/list.txt: No such file or directory");
    assert_int_equal(
        psi_ioc_read_file(FIXTURE_DIR, PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err),
        PSI_ERR_IO);
    assert_non_null(strstr(err, ": Is a directory"));
    assert_int_equal(psi_ioc_read_file(NULL, PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err),
                     PSI_ERR_INVALID);
    assert_int_equal(
        psi_ioc_read_stream(NULL, "x", PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err),
        PSI_ERR_INVALID);

    /* a stream larger than the first buffer */
    FILE *f = tmpfile();
    assert_non_null(f);
    for (unsigned i = 0; i < 20000; i++)
        fprintf(f, "11.%u.%u.1\tnote\n", i / 256, i % 256);
    rewind(f);
    assert_int_equal(
        psi_ioc_read_stream(f, "stream", PSI_IOC_FORMAT_AUTO, NULL, set, err, sizeof err), PSI_OK);
    fclose(f);
    assert_int_equal(psi_ioc_set_count(set), 20000);
    has(set, PSI_IOC_IPV4, "11.78.31.1");
    psi_ioc_set_free(set);
}

/* Random bytes into every format: never a crash, and the counts add up. */
static void test_garbage_input(void **state)
{
    (void)state;
    uint32_t seed = 7;
    /* byte strings with their lengths: buf below holds bytes, not a string */
#define PIECE(lit)                                                                                 \
    {                                                                                              \
        (lit), sizeof(lit) - 1                                                                     \
    }
    static const struct {
        const char *bytes;
        size_t len;
    } pieces[] = {
        PIECE("{"),
        PIECE("}"),
        PIECE("["),
        PIECE("]"),
        PIECE("\""),
        PIECE(","),
        PIECE(":"),
        PIECE("\n"),
        PIECE("'"),
        PIECE(" "),
        PIECE("\"type\""),
        PIECE("\"bundle\""),
        PIECE("\"objects\""),
        PIECE("\"indicator\""),
        PIECE("\"pattern\""),
        PIECE("\"Event\""),
        PIECE("\"Attribute\""),
        PIECE("\"value\""),
        PIECE("ipv4-addr:value"),
        PIECE(" = "),
        PIECE(" OR "),
        PIECE("("),
        PIECE(")"),
        PIECE("1.2.3.4"),
        PIECE("evil[.]com"),
        PIECE("\\"),
        PIECE("\"\""),
        PIECE(";"),
        PIECE("\t"),
        PIECE("\r\n"),
        PIECE("ip-dst|port"),
        PIECE("|"),
        PIECE("hxxp://"),
        PIECE("0"),
    };
#undef PIECE
    unsigned char buf[600]; /* bytes with a length, not a string */
    for (int round = 0; round < 3000; round++) {
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        size_t parts = (seed >> 16) % 60;
        for (size_t p = 0; p < parts; p++) {
            seed = seed * 1103515245u + 12345u;
            unsigned v = seed >> 16;
            if (v % 5 == 0 && len < sizeof buf) {
                buf[len++] = (unsigned char)(v >> 3);
                continue;
            }
            size_t k = v % (sizeof pieces / sizeof pieces[0]);
            size_t n = pieces[k].len;
            if (len + n > sizeof buf)
                break;
            memcpy(buf + len, pieces[k].bytes, n);
            len += n;
        }
        enum psi_ioc_format format = (enum psi_ioc_format)(round % 5);
        struct psi_ioc_set *set = new_set();
        char err[256];
        int rc = psi_ioc_read_buffer(round % 2 ? "g.csv" : "g", buf, len, format, NULL, set, err,
                                     sizeof err);
        assert_true(rc == PSI_OK || rc == PSI_ERR_PARSE);
        if (rc == PSI_ERR_PARSE)
            assert_true(strlen(err) > 0);
        const struct psi_ioc_stats *st = psi_ioc_set_stats(set);
        uint64_t skipped = 0;
        for (unsigned i = 0; i < PSI_IOC_SKIP_COUNT; i++)
            skipped += st->skipped[i];
        assert_int_equal(st->read, st->kept + st->duplicates + skipped);
        psi_ioc_set_free(set);
    }
}

/* ---- STIX cyber-observables ---------------------------------------------- */

/* Two sets hold the same members in the same order. */
static void same_members(const struct psi_ioc_set *a, const struct psi_ioc_set *b)
{
    assert_int_equal(psi_ioc_set_count(a), psi_ioc_set_count(b));
    for (size_t i = 0; i < psi_ioc_set_count(a); i++) {
        struct psi_ioc_ref x, y;
        assert_int_equal(psi_ioc_set_get(a, i, &x), PSI_OK);
        assert_int_equal(psi_ioc_set_get(b, i, &y), PSI_OK);
        if (x.type != y.type || strcmp(x.value, y.value) != 0)
            fail_msg("member %zu: %s %s against %s %s", i, psi_ioc_type_name(x.type), x.value,
                     psi_ioc_type_name(y.type), y.value);
    }
}

static void test_stix_observables(void **state)
{
    (void)state;
    /* an OpenCTI-style bundle of observables only gives exactly what the
     * same values give as patterns */
    struct psi_ioc_set *obs = read_fixture("opencti-observables.stix.json");
    struct psi_ioc_set *pat = read_fixture("opencti-patterns.stix.json");
    same_members(obs, pat);
    assert_int_equal(psi_ioc_set_count(obs), 8);
    has(obs, PSI_IOC_IPV6, "2001:db8::bad:1");
    has(obs, PSI_IOC_DOMAIN, "login-verify.example.com");
    has(obs, PSI_IOC_URL, "https://login-verify.example.com/Session/start?id=1");
    has(obs, PSI_IOC_MD5, "5d41402abc4b2a76b9719d911017c592");
    has(obs, PSI_IOC_SHA1, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    has_not(obs, PSI_IOC_DOMAIN, "github.io");
    psi_ioc_set_free(obs);
    psi_ioc_set_free(pat);

    /* STIX 2.0: observed-data's "objects" dictionary; other observables are
     * counted by type, domain objects are not counted */
    static const char v20[] =
        "{\"type\":\"bundle\",\"spec_version\":\"2.0\",\"objects\":[\n"
        " {\"type\":\"observed-data\",\"id\":\"observed-data--1\",\"objects\":{\n"
        "  \"0\":{\"type\":\"ipv4-addr\",\"value\":\"198.51.100.99\"},\n"
        "  "
        "\"1\":{\"type\":\"domain-name\",\"value\":\"c2.example.org\",\"resolves_to_refs\":[\"0\"]}"
        ",\n"
        "  \"2\":{\"type\":\"network-traffic\",\"dst_ref\":\"0\",\"dst_port\":443},\n"
        "  \"3\":{\"type\":\"file\",\"name\":\"a.exe\",\"hashes\":{\"SHA-256\":"
        "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\",\"ssdeep\":\"3:a:b\"}"
        "},\n"
        "  \"4\":{\"type\":\"x-custom\",\"value\":\"?\"},\n"
        "  \"5\":{\"type\":\"url\"}}},\n"
        " {\"type\":\"observed-data\",\"id\":\"observed-data--2\",\"object_refs\":[]},\n"
        " {\"type\":\"mutex\",\"name\":\"Global\\\\x\"},\n"
        " {\"type\":\"file\",\"name\":\"nohash.exe\"},\n"
        " {\"type\":\"email-addr\",\"value\":\"a@mail.example.net\"},\n"
        " {\"type\":\"malware\",\"name\":\"not counted\"},\n"
        " {\"type\":\"x-opencti-thing\",\"value\":\"not counted\"}]}\n";
    struct psi_ioc_set *set = read_text_ok("v20.json", v20, PSI_IOC_FORMAT_AUTO, NULL);
    /* ipv4, domain, sha256, email kept; network-traffic, ssdeep, x-custom,
     * mutex, file without hash unsupported; url without value malformed */
    struct counts want = {10, 4, 0, {[U] = 5, [M] = 1}};
    check_counts("STIX 2.0 observed-data", set, &want);
    has(set, PSI_IOC_IPV4, "198.51.100.99");
    has(set, PSI_IOC_DOMAIN, "c2.example.org");
    has(set, PSI_IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    has(set, PSI_IOC_EMAIL, "a@mail.example.net");
    assert_int_equal(unsupported_named(set, "stix:network-traffic"), 1);
    assert_int_equal(unsupported_named(set, "stix:file:hashes.ssdeep"), 1);
    assert_int_equal(unsupported_named(set, "stix:x-custom"), 1);
    assert_int_equal(unsupported_named(set, "stix:mutex"), 1);
    assert_int_equal(unsupported_named(set, "stix:file"), 1);
    psi_ioc_set_free(set);

    static const char bad[] = "{\"type\":\"bundle\",\"objects\":[{\"type\":\"observed-data\","
                              "\"objects\":[1]}]}";
    read_fails("od.json", bad, strlen(bad), PSI_IOC_FORMAT_AUTO, NULL, PSI_ERR_PARSE,
               "od.json: $.objects[0].objects: not an object");
}

/* ---- a file whose content is not its --format ---------------------------- */

static void read_as_is(const char *name, const char *text, enum psi_ioc_format asked,
                       enum psi_ioc_format want)
{
    struct psi_ioc_set *set = new_set();
    struct psi_ioc_read_opts opts = {asked, NULL, false};
    enum psi_ioc_format got = PSI_IOC_FORMAT_TEXT;
    char err[256];
    int rc = psi_ioc_read_buffer_ex(name, text, strlen(text), &opts, set, &got, err, sizeof err);
    if (rc != PSI_OK)
        fail_msg("%s: %s", name, err);
    assert_int_equal(got, want);
    psi_ioc_set_free(set);
}

static void test_format_mismatch(void **state)
{
    (void)state;
    static const char misp[] =
        "{\"Event\":{\"Attribute\":[{\"type\":\"link\",\"value\":\"https://r.example.com/\"}]}}";
    static const char stix[] = "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\","
                               "\"pattern\":\"[url:value = 'https://attack.mitre.org/T1']\"}]}";
    read_fails("e.csv", misp, strlen(misp), PSI_IOC_FORMAT_CSV, NULL, PSI_ERR_PARSE,
               "e.csv: this is a MISP event (JSON), not CSV; read it as misp (or auto)");
    read_fails("e.txt", misp, strlen(misp), PSI_IOC_FORMAT_TEXT, NULL, PSI_ERR_PARSE,
               "e.txt: this is a MISP event (JSON), not text; read it as misp (or auto)");
    read_fails("b.txt", stix, strlen(stix), PSI_IOC_FORMAT_TEXT, NULL, PSI_ERR_PARSE,
               "b.txt: this is a STIX 2 bundle (JSON), not text; read it as stix (or auto)");
    read_fails("j.txt", "[\"a.example.com\"]", 17, PSI_IOC_FORMAT_TEXT, NULL, PSI_ERR_PARSE,
               "j.txt: this is a JSON document, not text");
    read_fails("b.misp", stix, strlen(stix), PSI_IOC_FORMAT_MISP, NULL, PSI_ERR_PARSE,
               "b.misp: $: no \"Event\", \"response\" or \"Attribute\"; this is no MISP event "
               "(it is a STIX 2 bundle: read it as stix)");
    read_fails("l.txt", "evil.example.com\n", 17, PSI_IOC_FORMAT_STIX, NULL, PSI_ERR_PARSE,
               "l.txt: not JSON, so not a STIX 2 bundle; read it as text or csv (or auto)");
    /* text that merely opens like JSON is read as asked */
    struct psi_ioc_set *set =
        read_text_ok("v6.txt", "[2001:db8::1]:443\n{not json}\n", PSI_IOC_FORMAT_TEXT, NULL);
    has(set, PSI_IOC_IPV6, "2001:db8::1");
    psi_ioc_set_free(set);
    /* what auto decided, and what was asked */
    read_as_is("a.json", misp, PSI_IOC_FORMAT_AUTO, PSI_IOC_FORMAT_MISP);
    read_as_is("a", stix, PSI_IOC_FORMAT_AUTO, PSI_IOC_FORMAT_STIX);
    read_as_is("a.csv", "ioc\nevil.example.com\n", PSI_IOC_FORMAT_AUTO, PSI_IOC_FORMAT_CSV);
    read_as_is("a.txt", "evil.example.com\n", PSI_IOC_FORMAT_AUTO, PSI_IOC_FORMAT_TEXT);
    read_as_is("a.txt", "evil.example.com\n", PSI_IOC_FORMAT_CSV, PSI_IOC_FORMAT_CSV);
}

/* ---- MISP to_ids --------------------------------------------------------- */

static void test_misp_to_ids(void **state)
{
    (void)state;
    static const char event[] =
        "{\"Event\":{\"Attribute\":[\n"
        " {\"type\":\"domain\",\"to_ids\":true,\"value\":\"c2.example.com\"},\n"
        " {\"type\":\"domain\",\"to_ids\":false,\"value\":\"news.example.com\"},\n"
        " {\"type\":\"domain|ip\",\"to_ids\":\"0\",\"value\":\"a.example.com|198.51.100.1\"},\n"
        " {\"type\":\"filename|md5\",\"to_ids\":0,\"value\":\"x.exe|"
        "d41d8cd98f00b204e9800998ecf8427e\"},\n"
        " {\"type\":\"link\",\"to_ids\":false,\"value\":\"https://report.example.com/\"},\n"
        " {\"type\":\"ip-dst\",\"to_ids\":\"1\",\"value\":\"198.51.100.2\"},\n"
        " {\"type\":\"ip-dst\",\"value\":\"198.51.100.3\"}]}}\n";
    struct psi_ioc_set *set = read_text_ok("t.json", event, PSI_IOC_FORMAT_MISP, NULL);
    /* 1 + 1 + 2 + 1 + 1 (link: unsupported whatever to_ids) + 1 + 1 */
    struct counts want = {8, 3, 0, {[U] = 1, [PSI_IOC_SKIP_NOT_FOR_DETECTION] = 4}};
    check_counts("to_ids", set, &want);
    has(set, PSI_IOC_DOMAIN, "c2.example.com");
    has(set, PSI_IOC_IPV4, "198.51.100.2");
    has(set, PSI_IOC_IPV4, "198.51.100.3"); /* no to_ids: nothing against it */
    has_not(set, PSI_IOC_DOMAIN, "news.example.com");
    psi_ioc_set_free(set);

    set = new_set();
    struct psi_ioc_read_opts all = {PSI_IOC_FORMAT_AUTO, NULL, true};
    char err[256];
    assert_int_equal(
        psi_ioc_read_buffer_ex("t.json", event, strlen(event), &all, set, NULL, err, sizeof err),
        PSI_OK);
    struct counts every = {8, 7, 0, {[U] = 1}};
    check_counts("to_ids, all attributes", set, &every);
    has(set, PSI_IOC_DOMAIN, "news.example.com");
    psi_ioc_set_free(set);

    /* a MISP CSV export's to_ids column */
    static const char csv[] = "uuid,event_id,category,type,value,comment,to_ids\n"
                              "u1,1,Network activity,domain,c2.example.com,,1\n"
                              "u2,1,Network activity,domain,news.example.com,,0\n"
                              "u3,1,Network activity,ip-dst,198.51.100.4,,False\n";
    set = read_text_ok("e.csv", csv, PSI_IOC_FORMAT_CSV, NULL);
    struct counts csv_want = {3, 1, 0, {[PSI_IOC_SKIP_NOT_FOR_DETECTION] = 2}};
    check_counts("MISP CSV to_ids", set, &csv_want);
    psi_ioc_set_free(set);
    set = new_set();
    all.format = PSI_IOC_FORMAT_CSV;
    assert_int_equal(
        psi_ioc_read_buffer_ex("e.csv", csv, strlen(csv), &all, set, NULL, err, sizeof err),
        PSI_OK);
    assert_int_equal(psi_ioc_set_count(set), 3);
    psi_ioc_set_free(set);
}

/* ---- exclusions ---------------------------------------------------------- */

static void test_exclusions(void **state)
{
    (void)state;
    static const char list[] = "# our own\n"
                               "\n"
                               "  ourcompany.example.com   # the main site\n"
                               "198.51.100.0/24\n"
                               "10.0.0.0/8\n"
                               "2001:db8:aa::/48\n"
                               "hxxps://portal[.]example.net/login#x\n"
                               "203.0.113.9\n"
                               "co.uk\n";
    struct psi_ioc_set *set = new_set();
    char err[256];
    assert_int_equal(psi_ioc_read_exclusions_buffer("ex", list, strlen(list), set, err, sizeof err),
                     PSI_OK);
    /* co.uk is generic: accepted, never needed */
    assert_int_equal(psi_ioc_set_exclusion_count(set), 6);
    static const char text[] = "OurCompany.example.com\n"
                               "www.ourcompany.example.com\n"
                               "198.51.100.7\n"
                               "198.51.100.128/25\n"
                               "198.51.0.0/16\n"
                               "198.51.101.1\n"
                               "2001:db8:aa:1::5\n"
                               "2001:db8:ab::5\n"
                               "https://portal.example.net/login\n"
                               "203.0.113.9:443\n"
                               "203.0.113.10\n";
    char rerr[256];
    assert_int_equal(psi_ioc_read_buffer("t.txt", text, strlen(text), PSI_IOC_FORMAT_TEXT, NULL,
                                         set, rerr, sizeof rerr),
                     PSI_OK);
    struct counts want = {11, 5, 0, {[PSI_IOC_SKIP_EXCLUDED] = 6}};
    check_counts("exclusions", set, &want);
    has(set, PSI_IOC_DOMAIN, "www.ourcompany.example.com"); /* equality only */
    has(set, PSI_IOC_CIDR4, "198.51.0.0/16");               /* wider than the excluded range */
    has(set, PSI_IOC_IPV4, "198.51.101.1");
    has(set, PSI_IOC_IPV6, "2001:db8:ab::5");
    has(set, PSI_IOC_IPV4, "203.0.113.10");
    /* typed offers pass them too */
    enum psi_ioc_skip why = PSI_IOC_SKIP_COUNT;
    assert_int_equal(psi_ioc_set_offer(set, PSI_IOC_DOMAIN, "ourcompany.example.com", 22, &why),
                     PSI_ERR_UNSUPPORTED);
    assert_int_equal(why, PSI_IOC_SKIP_EXCLUDED);
    psi_ioc_set_free(set);

    /* a line that is no indicator or range stops the read */
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"evil.example.com\nupdate.exe\n",
         "ex:2: 'update.exe' is no indicator or address range (filename)"},
        {"10.1.2.3/8\n", "ex:1: '10.1.2.3/8' is no indicator or address range (ambiguous)"},
        {"Cobalt Strike\n", "ex:1: 'Cobalt Strike' is no indicator or address range (unsupported)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set = new_set();
        assert_int_equal(psi_ioc_read_exclusions_buffer("ex", bad[i].text, strlen(bad[i].text), set,
                                                        err, sizeof err),
                         PSI_ERR_PARSE);
        assert_string_equal(err, bad[i].err);
        psi_ioc_set_free(set);
    }
    set = new_set();
    assert_int_equal(psi_ioc_read_exclusions("/nonexistent/ex", set, err, sizeof err), PSI_ERR_IO);
    assert_string_equal(err, "/nonexistent/ex: No such file or directory");
    psi_ioc_set_free(set);
}

/* ---- where each value came from ------------------------------------------ */

#define SEEN_MAX 32

struct seen_log {
    size_t n;
    struct {
        enum psi_ioc_outcome outcome;
        enum psi_ioc_skip reason;
        size_t index;
        unsigned long line;
        char file[32], path[64], event[48], object[64], input[64], kind[32];
    } e[SEEN_MAX];
};

static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    copy_text(dst, cap, src, src == NULL ? 0 : strlen(src));
}

static void record_seen(void *ctx, const struct psi_ioc_seen *seen)
{
    struct seen_log *log = ctx;
    assert_true(log->n < SEEN_MAX);
    const struct psi_ioc_origin *o = seen->origin;
    assert_non_null(o);
    log->e[log->n].outcome = seen->outcome;
    log->e[log->n].reason = seen->reason;
    log->e[log->n].index = seen->index;
    log->e[log->n].line = o->line;
    copy_str(log->e[log->n].file, 32, o->file);
    copy_str(log->e[log->n].path, 64, o->path);
    copy_str(log->e[log->n].event, 48, o->event);
    copy_str(log->e[log->n].object, 64, o->object);
    copy_text(log->e[log->n].input, 64, seen->input, seen->input_len);
    copy_str(log->e[log->n].kind, 32, seen->kind);
    log->n++;
}

static void test_origins(void **state)
{
    (void)state;
    struct seen_log *log = calloc(1, sizeof *log);
    assert_non_null(log);
    struct psi_ioc_set *set = new_set();
    psi_ioc_set_observe(set, record_seen, log);
    char err[256];
    static const char text[] = "# list\nevil.example.com\n10.1.1.1\n\nevil[.]example.com\n"
                               "Cobalt Strike beacon\n";
    assert_int_equal(psi_ioc_read_buffer("l.txt", text, strlen(text), PSI_IOC_FORMAT_AUTO, NULL,
                                         set, err, sizeof err),
                     PSI_OK);
    assert_int_equal(log->n, 4);
    assert_int_equal(log->e[0].outcome, PSI_IOC_OUTCOME_KEPT);
    assert_int_equal(log->e[0].index, 0);
    assert_int_equal(log->e[0].line, 2);
    assert_string_equal(log->e[0].file, "l.txt");
    assert_string_equal(log->e[0].input, "evil.example.com");
    assert_int_equal(log->e[1].outcome, PSI_IOC_OUTCOME_SKIPPED);
    assert_int_equal(log->e[1].reason, PSI_IOC_SKIP_RESERVED);
    assert_int_equal(log->e[1].line, 3);
    assert_string_equal(log->e[1].input, "10.1.1.1");
    assert_int_equal(log->e[2].outcome, PSI_IOC_OUTCOME_DUPLICATE);
    assert_int_equal(log->e[2].index, 0);
    assert_int_equal(log->e[2].line, 5);
    assert_string_equal(log->e[3].input, "Cobalt Strike beacon"); /* the line, once */
    assert_int_equal(log->e[3].reason, PSI_IOC_SKIP_UNSUPPORTED);
    assert_string_equal(log->e[3].path, "");

    /* MISP: the event's and the attribute's uuid, the JSON path */
    log->n = 0;
    static const char misp[] =
        "{\"Event\":{\"uuid\":\"5e1f0000-0000-4000-8000-000000000001\",\"Attribute\":[\n"
        " {\"uuid\":\"a0000000-0000-4000-8000-000000000001\",\"type\":\"ip-dst\","
        "\"value\":\"198.51.100.5\"},\n"
        " {\"uuid\":\"a0000000-0000-4000-8000-000000000002\",\"type\":\"text\",\"value\":\"hi\"}],"
        "\"Object\":[{\"Attribute\":[{\"uuid\":\"a0000000-0000-4000-8000-000000000003\","
        "\"type\":\"domain\",\"to_ids\":false,\"value\":\"x.example.com\"}]}]}}";
    assert_int_equal(psi_ioc_read_buffer("e.json", misp, strlen(misp), PSI_IOC_FORMAT_AUTO, NULL,
                                         set, err, sizeof err),
                     PSI_OK);
    assert_int_equal(log->n, 3);
    assert_int_equal(log->e[0].outcome, PSI_IOC_OUTCOME_KEPT);
    assert_int_equal(log->e[0].index, 1);
    assert_int_equal(log->e[0].line, 0);
    assert_string_equal(log->e[0].path, "$.Event.Attribute[0]");
    assert_string_equal(log->e[0].event, "5e1f0000-0000-4000-8000-000000000001");
    assert_string_equal(log->e[0].object, "a0000000-0000-4000-8000-000000000001");
    assert_string_equal(log->e[1].kind, "misp:text");
    assert_string_equal(log->e[1].input, "hi");
    assert_string_equal(log->e[2].path, "$.Event.Object[0].Attribute[0]");
    assert_int_equal(log->e[2].reason, PSI_IOC_SKIP_NOT_FOR_DETECTION);
    assert_string_equal(log->e[2].input, "x.example.com");

    /* STIX: the object's id; a comparison's literal */
    log->n = 0;
    static const char stix[] =
        "{\"type\":\"bundle\",\"objects\":[{\"type\":\"identity\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--1\",\"pattern\":"
        "\"[domain-name:value = 'y.example.com'] OR [process:name = 'evil']\"},"
        "{\"type\":\"url\",\"id\":\"url--2\",\"value\":\"http://z.example.com/a\"}]}";
    assert_int_equal(psi_ioc_read_buffer("b.json", stix, strlen(stix), PSI_IOC_FORMAT_AUTO, NULL,
                                         set, err, sizeof err),
                     PSI_OK);
    assert_int_equal(log->n, 3);
    assert_string_equal(log->e[0].object, "indicator--1");
    assert_string_equal(log->e[0].path, "$.objects[1]");
    assert_string_equal(log->e[1].kind, "stix:process:name");
    assert_string_equal(log->e[1].input, "evil");
    assert_string_equal(log->e[2].object, "url--2");
    assert_string_equal(log->e[2].path, "$.objects[2]");
    assert_string_equal(log->e[2].event, "");

    /* CSV: the record's line; a row counted once is shown whole */
    log->n = 0;
    static const char csv[] = "a,b\n\"multi\nline\",note\n1.2.3.4,x\n";
    assert_int_equal(psi_ioc_read_buffer("c.csv", csv, strlen(csv), PSI_IOC_FORMAT_AUTO, NULL, set,
                                         err, sizeof err),
                     PSI_OK);
    assert_int_equal(log->n, 2);
    assert_int_equal(log->e[0].line, 2);
    assert_string_equal(log->e[0].input, "\"multi\nline\",note");
    assert_int_equal(log->e[1].line, 4);
    assert_string_equal(log->e[1].input, "1.2.3.4");

    /* after a read the set has no origin: a direct offer has none */
    log->n = 0;
    enum psi_ioc_skip why;
    assert_int_equal(psi_ioc_set_offer(set, PSI_IOC_NONE, "localhost", 9, &why),
                     PSI_ERR_UNSUPPORTED);
    assert_int_equal(log->n, 1);
    assert_string_equal(log->e[0].file, "");
    assert_string_equal(log->e[0].input, "localhost");
    psi_ioc_set_free(set);
    free(log);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest shared_tests[] = {
        cmocka_unit_test(test_every_shared_file),
        cmocka_unit_test(test_shared_text_together),
        cmocka_unit_test(test_shared_spot_checks),
        cmocka_unit_test(test_shared_to_ids),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_files),
        cmocka_unit_test(test_fixture_values),
        cmocka_unit_test(test_text_rules),
        cmocka_unit_test(test_text_edge_input),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_csv_header_and_columns),
        cmocka_unit_test(test_csv_typed_and_named_columns),
        cmocka_unit_test(test_csv_without_header),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_stix_patterns),
        cmocka_unit_test(test_stix_malformed_patterns),
        cmocka_unit_test(test_stix_shapes),
        cmocka_unit_test(test_misp_attributes),
        cmocka_unit_test(test_misp_shapes),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_files_and_streams),
        cmocka_unit_test(test_garbage_input),
        cmocka_unit_test(test_stix_observables),
        cmocka_unit_test(test_format_mismatch),
        cmocka_unit_test(test_misp_to_ids),
        cmocka_unit_test(test_exclusions),
        cmocka_unit_test(test_origins),
    };
    if (argc == 2 && strcmp(argv[1], "--shared") == 0) {
        struct stat st;
        if (stat(IOC_DIR, &st) != 0 || !S_ISDIR(st.st_mode)) {
            printf("ioc_reader_test --shared: skipped: no real indicator data in %s\n", IOC_DIR);
            return SKIP_EXIT;
        }
        return cmocka_run_group_tests_name("shared real files", shared_tests, NULL, NULL);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--shared]\n", argv[0]);
        return 2;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
