/* Epoch modes and the hub's current label (see epoch.h); the calendar rule
 * itself is psi/epoch.h, shared with the participant's clock check, and the
 * label's syntax psi/ident.h, shared with every layer. */
#include <string.h>

#include "epoch.h"
#include "psi/epoch.h"
#include "psi/error.h"

_Static_assert(PSI_EPOCH_LABEL_MAX >= PSI_EPOCH_DAY_LABEL_LEN &&
                   PSI_EPOCH_LABEL_MAX >= PSI_EPOCH_WEEK_LABEL_LEN,
               "a calendar label fits an epoch label");

int psi_epoch_mode_parse(const char *text, enum psi_epoch_mode *mode,
                         char label[PSI_EPOCH_LABEL_MAX + 1])
{
    label[0] = '\0';
    if (strcmp(text, "week") == 0) {
        *mode = PSI_EPOCH_WEEK;
        return 0;
    }
    if (strcmp(text, "day") == 0) {
        *mode = PSI_EPOCH_DAY;
        return 0;
    }
    if (strncmp(text, "manual:", 7) == 0 && psi_epoch_label_is_valid(text + 7)) {
        *mode = PSI_EPOCH_MANUAL;
        memcpy(label, text + 7, strlen(text + 7) + 1);
        return 0;
    }
    return PSI_ERR_INVALID;
}

const char *psi_epoch_mode_name(enum psi_epoch_mode mode)
{
    switch (mode) {
    case PSI_EPOCH_WEEK: return "week";
    case PSI_EPOCH_DAY: return "day";
    case PSI_EPOCH_MANUAL: return "manual";
    }
    return "?";
}

int psi_epoch_label_at(enum psi_epoch_mode mode, int64_t unix_seconds,
                       char out[PSI_EPOCH_LABEL_MAX + 1])
{
    enum psi_epoch_kind kind;
    switch (mode) {
    case PSI_EPOCH_WEEK: kind = PSI_EPOCH_KIND_WEEK; break;
    case PSI_EPOCH_DAY: kind = PSI_EPOCH_KIND_DAY; break;
    default: return PSI_ERR_INVALID;
    }
    /* The hub's clock before 1970 is a broken clock, not an epoch; and a time
     * too large for milliseconds has no label anyway. */
    if (unix_seconds < 0 || unix_seconds > INT64_MAX / 1000)
        return PSI_ERR_INVALID;
    return psi_epoch_label_of_time(kind, unix_seconds * 1000, out, PSI_EPOCH_LABEL_MAX + 1);
}
