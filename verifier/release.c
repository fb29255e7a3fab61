#include "verifier/release.h"

#include <stdio.h>

#include "lib/error.h"

static const char *const state_names[] = {
        [RELEASE_IDLE] = "idle",     [RELEASE_UKEY] = "ukey",     [RELEASE_INTEGRITY] = "integrity",
        [RELEASE_VKEY] = "vkey",     [RELEASE_VERIFY] = "verify", [RELEASE_SETTLE] = "settle",
};

const char *release_state_name(enum release_state state) {
        return (unsigned)state < sizeof(state_names) / sizeof(state_names[0]) ? state_names[state] : "?";
}

static bool boot_released(const struct release *r, const struct quote_clock *clock) {
        return r->released_reset >= 0 && (int64_t)clock->reset_count == r->released_reset;
}

/* The attempt is over (released, refused or void): its keys go. */
static void release_drop(struct release *r) {
        release_keys_free(r->keys);
        r->keys = NULL;
        r->state = RELEASE_IDLE;
}

void release_init(struct release *r, bool payload, int64_t released_reset, int64_t released_restart) {
        *r = (struct release){ .payload = payload, .released_reset = released_reset, .released_restart = released_restart };
}

void release_done(struct release *r) {
        release_drop(r);
}

enum release_request release_next(const struct release *r) {
        switch (r->state) {
        case RELEASE_UKEY:
                return RELEASE_POST_UKEY;
        case RELEASE_VKEY:
                return RELEASE_POST_VKEY;
        case RELEASE_VERIFY:
                return RELEASE_ASK_VERIFY;
        case RELEASE_IDLE:
        case RELEASE_INTEGRITY:
        case RELEASE_SETTLE:
                break;
        }
        return RELEASE_ASK_INTEGRITY;
}

static int release_record(struct release *r) {
        r->released_reset = r->boot.reset_count;
        r->released_restart = r->boot.restart_count;
        release_drop(r);
        return RELEASE_RECORDED;
}

/* What PCR 15's log says about releasing a key in this boot: 0 it may, 1 held back (r->held
 * says why), -EPERM refused. */
static int log_allows(struct release *r, const struct measurement_summary *log) {
        if (!log)
                return snprintf(r->held, sizeof(r->held), "the integrity quote carried no PCR 15 log"), 1;
        if (log->releases)
                return vm_error(-EPERM,
                                "key release refused: PCR 15's log already holds a key release in this boot (record %u)",
                                log->first_release);
        if (log->left_initrd)
                return snprintf(r->held, sizeof(r->held), "the boot has left the initrd (PCR 15 log record %u)",
                                log->leave_record),
                       1;
        return 0;
}

/* IDLE: a boot without its key starts a release on a quote whose log allows it. */
static int release_consider(struct release *r, const struct quote_clock *clock, const struct measurement_summary *log) {
        int allowed;

        r->held[0] = '\0';
        if (!r->payload || boot_released(r, clock))
                return RELEASE_GO_ON;
        if (r->pcr9_pin_missing) {
                snprintf(r->held, sizeof(r->held), "the group pins PCR 9 by the agent's first boot, which has not "
                                                   "reported it (vmattest first-boot)");
                return RELEASE_GO_ON;
        }
        allowed = log_allows(r, log);
        if (allowed != 0)
                return allowed < 0 ? allowed : RELEASE_GO_ON;
        r->boot = *clock;
        return RELEASE_PREPARE;
}

int release_integrity_quoted(struct release *r, const struct quote_clock *clock, const struct measurement_summary *log) {
        bool same_boot = clock->reset_count == r->boot.reset_count;
        int allowed;

        switch (r->state) {
        case RELEASE_IDLE:
        case RELEASE_UKEY: /* (a quote does not come in these states; start over if one does) */
        case RELEASE_VKEY:
        case RELEASE_VERIFY:
                break;
        case RELEASE_INTEGRITY:
                /* U went to the boot and restart of the quote that earned it; V follows only a
                 * quote of that same one, whose evidence the caller's checks just passed */
                if (!same_boot || clock->restart_count != r->boot.restart_count)
                        break;
                allowed = log_allows(r, log);
                if (allowed != 0) {
                        release_drop(r);
                        return allowed < 0 ? allowed : RELEASE_GO_ON;
                }
                r->state = RELEASE_VKEY;
                return RELEASE_GO_ON;
        case RELEASE_SETTLE:
                /* V was delivered, or may have been: a release recorded in this boot's PCR 15 log
                 * is the agent saying it authenticated K, which only this attempt's V gave it (a
                 * release already in the log was refused before V was sent) */
                if (same_boot && log && log->releases)
                        return release_record(r);
                break;
        }
        release_drop(r);
        return release_consider(r, clock, log);
}

void release_keys_ready(struct release *r, struct release_keys *keys) {
        release_keys_free(r->keys);
        r->keys = keys;
        r->state = RELEASE_UKEY;
}

void release_ukey_delivered(struct release *r) {
        if (r->state == RELEASE_UKEY)
                r->state = RELEASE_INTEGRITY;
}

void release_vkey_delivered(struct release *r) {
        if (r->state == RELEASE_VKEY)
                r->state = RELEASE_VERIFY;
}

int release_verified(struct release *r, const char *hmac) {
        if (r->state != RELEASE_VERIFY)
                return RELEASE_GO_ON;
        if (!hmac || !release_keys_verify(r->keys, hmac)) {
                release_drop(r);
                return vm_error(-EPERM, "key release: the agent's /keys/verify answer does not prove it holds K");
        }
        return release_record(r);
}

void release_request_failed(struct release *r) {
        switch (r->state) {
        case RELEASE_UKEY:
                release_drop(r); /* the next integrity poll decides again */
                break;
        case RELEASE_VKEY:
        case RELEASE_VERIFY:
                r->state = RELEASE_SETTLE; /* an initrd's unlock exits once it has used K */
                break;
        case RELEASE_IDLE:
        case RELEASE_INTEGRITY:
        case RELEASE_SETTLE:
                break; /* asked again at the next poll */
        }
}
