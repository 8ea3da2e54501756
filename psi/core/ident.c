/* Identifiers: participant ids, epoch labels, method names, roles (ident.h). */
#include "psi/ident.h"

#include <string.h>

/* The character classes, in the C locale whatever the process's is. */
static int is_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_alnum(unsigned char c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int id_char(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

static int epoch_char(unsigned char c)
{
    return id_char(c) || c == ':';
}

static int method_char(unsigned char c)
{
    return is_lower(c) || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* 1 if s is 1..max bytes, each accepted by ok; reads at most max + 1 bytes. */
static int all_of(const char *s, size_t max, int (*ok)(unsigned char))
{
    if (s == NULL)
        return 0;
    size_t n = strnlen(s, max + 1U);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!ok((unsigned char)s[i]))
            return 0;
    return 1;
}

int psi_id_is_valid(const char *id)
{
    return all_of(id, PSI_ID_MAX, id_char) && id[0] != '.' && id[0] != '-';
}

int psi_epoch_label_is_valid(const char *label)
{
    return all_of(label, PSI_EPOCH_LABEL_MAX, epoch_char);
}

int psi_method_name_is_valid(const char *method)
{
    return all_of(method, PSI_METHOD_MAX, method_char);
}

/* Indexed by enum psi_role. */
static const char *const role_names[PSI_ROLE_MAX + 1U] = {
    [PSI_ROLE_AGENCY] = "agency",
    [PSI_ROLE_VENDOR] = "vendor",
    [PSI_ROLE_AUDITOR] = "auditor",
};

int psi_role_is_valid(unsigned role)
{
    return role >= PSI_ROLE_AGENCY && role <= PSI_ROLE_MAX;
}

const char *psi_role_name(unsigned role)
{
    return psi_role_is_valid(role) ? role_names[role] : "unknown";
}

enum psi_role psi_role_parse(const char *name)
{
    if (name == NULL)
        return PSI_ROLE_NONE;
    for (unsigned r = PSI_ROLE_AGENCY; r <= PSI_ROLE_MAX; r++)
        if (strcmp(name, role_names[r]) == 0)
            return (enum psi_role)r;
    return PSI_ROLE_NONE;
}
