/* Epoch labels checked against the clock and the state (see epoch_guard.h). */
#include "epoch_guard.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "methods.h"
#include "psi.pb-c.h"
#include "psi/epoch.h"
#include "psi/error.h"
#include "reason.h"
#include "psi/ident.h"

/* The clock check of a week or day label: it must be the label of now, or of
 * a time within the tolerance either side. */
static int clock_admits(enum psi_epoch_kind kind, const char *label, int64_t now_ms, char *why,
                        size_t whylen)
{
    char now_label[PSI_EPOCH_CALENDAR_LABEL_SIZE], before[PSI_EPOCH_CALENDAR_LABEL_SIZE],
        after[PSI_EPOCH_CALENDAR_LABEL_SIZE];
    if (psi_epoch_label_of_time(kind, now_ms, now_label, sizeof now_label) != 0 ||
        psi_epoch_label_of_time(kind, now_ms - PSI_EPOCH_GUARD_TOLERANCE_MS, before,
                                sizeof before) != 0 ||
        psi_epoch_label_of_time(kind, now_ms + PSI_EPOCH_GUARD_TOLERANCE_MS, after, sizeof after) !=
            0)
        return psi_reason(why, whylen, PSI_ERR_EPOCH, "this machine's clock is out of range");
    if (strcmp(label, now_label) == 0 || strcmp(label, before) == 0 || strcmp(label, after) == 0)
        return 0;
    return psi_reason(
        why, whylen, PSI_ERR_EPOCH,
        "the hub's epoch %s is not the current %s by this machine's clock (%s); refused", label,
        kind == PSI_EPOCH_KIND_DAY ? "day" : "week", now_label);
}

int psi_epoch_guard_admit(struct psi_state *st, const char *hub_mode, const char *label,
                          int64_t now_ms, char *why, size_t whylen)
{
    if (!psi_epoch_label_is_valid(label))
        return psi_reason(why, whylen, PSI_ERR_INVALID, "the hub announced an invalid epoch label");
    int week = hub_mode && strcmp(hub_mode, PSI_EPOCH_MODE_WEEK) == 0;
    int day = hub_mode && strcmp(hub_mode, PSI_EPOCH_MODE_DAY) == 0;
    enum psi_state_epoch_kind kind = PSI_STATE_EPOCH_MANUAL;
    int64_t start_ms = 0;
    int rc;

    if (week || day) {
        kind = day ? PSI_STATE_EPOCH_DAY : PSI_STATE_EPOCH_WEEK;
        enum psi_epoch_kind want = day ? PSI_EPOCH_KIND_DAY : PSI_EPOCH_KIND_WEEK;
        struct psi_epoch_period period;
        if (psi_epoch_label_parse(label, &period) != 0 || period.kind != want)
            return psi_reason(why, whylen, PSI_ERR_EPOCH,
                              "the hub says its epochs are %s but announced '%s'; refused",
                              day ? "days (YYYY-MM-DD)" : "ISO weeks (YYYY-Www)", label);
        start_ms = period.start_ms;
        rc = clock_admits(want, label, now_ms, why, whylen);
        if (rc)
            return rc;
        struct psi_state_epoch latest;
        rc = psi_state_epoch_latest_clock(st, &latest);
        if (rc == 0 && latest.start_ms > start_ms)
            return psi_reason(why, whylen, PSI_ERR_EPOCH,
                              "the hub's epoch %s is older than epoch %s used before; never going "
                              "back",
                              label, latest.label);
        if (rc && rc != PSI_ERR_NOT_FOUND)
            return psi_reason(why, whylen, rc, "%s", psi_state_error(st));
    } else {
        struct psi_state_epoch e;
        rc = psi_state_epoch_get(st, label, &e);
        if (rc && rc != PSI_ERR_NOT_FOUND)
            return psi_reason(why, whylen, rc, "%s", psi_state_error(st));
        if (rc == PSI_ERR_NOT_FOUND || !e.accepted)
            return psi_reason(why, whylen, PSI_ERR_EPOCH,
                              "the hub's epoch '%s' is set by its operator, not by the calendar; "
                              "refused until you accept it with 'psi epoch --accept %s'",
                              label, label);
    }
    rc = psi_state_epoch_use(st, label, kind, start_ms);
    if (rc == PSI_ERR_EPOCH)
        return psi_reason(why, whylen, rc, "the hub's %s", psi_state_error(st));
    if (rc)
        return psi_reason(why, whylen, rc, "%s", psi_state_error(st));
    return 0;
}

int64_t psi_epoch_guard_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int psi_epoch_guard_admit_hub(struct psi_cli_session *s, struct psi_hub_client *hub,
                              const char *label, char *why, size_t whylen)
{
    struct psi_hub_failure f;
    Psi__HubInfo *info = NULL;
    if (psi_hub_client_call(hub, PSI_METHOD_NAME(INFO), NULL, NULL, &psi__hub_info__descriptor,
                            (ProtobufCMessage **)&info, &f))
        return psi_reason(why, whylen, f.code, "%s", f.text);
    int rc = psi_epoch_guard_admit(s->state, info->epoch_mode, label, psi_epoch_guard_now_ms(), why,
                                   whylen);
    protobuf_c_message_free_unpacked(&info->base, NULL);
    return rc;
}
