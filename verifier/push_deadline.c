/* The push model's deadline: an agent enrolled in push mode that submits no evidence within
 * PUSH_DEADLINE_INTERVALS quote intervals fails, named (Keylime's push_agent_monitor). A
 * timer on the event loop scans the enrolments every second. */
#include "verifier/push_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"

/* ---- deadlines ---- */

struct deadline_scan {
        struct push_server *server;
        int64_t now;
        char late[64][AGENT_ID_MAX + 1]; /* failed after the scan, outside the store's cursor */
        int64_t since[64];
        size_t count;
};

/* When the enrolment's deadline started: the first scan that saw this revision of it. The
 * tenant's add and reactivate give a new revision: an agent reactivated long after its last
 * evidence has a whole deadline again, not a failure at once. */
static int64_t deadline_started(struct push_server *s, const struct attestation *row, int64_t now) {
        struct deadline_start *start = NULL;

        for (size_t i = 0; i < s->starts_count && !start; i++)
                if (strcmp(s->starts[i].agent_id, row->agent_id) == 0)
                        start = &s->starts[i];
        if (!start && s->starts_count < PUSH_AGENTS_MAX) {
                start = &s->starts[s->starts_count++];
                snprintf(start->agent_id, sizeof(start->agent_id), "%s", row->agent_id);
                start->revision = row->revision;
                start->since = now;
        }
        if (!start)
                return now; /* more push agents than the verifier serves: none is failed for it */
        start->scan = s->scans;
        if (start->revision != row->revision) {
                start->revision = row->revision;
                start->since = now;
        }
        return start->since;
}

static int deadline_one(const struct attestation *row, void *user) {
        struct deadline_scan *scan = user;
        int64_t limit = (int64_t)scan->server->config->quote_interval * PUSH_DEADLINE_INTERVALS;
        int64_t since = row->last_poll > row->added_at ? row->last_poll : row->added_at, started;

        if (!row->push)
                return 0;
        /* a restart is no one's fault: its time counts as a submission, as does a reactivation */
        started = deadline_started(scan->server, row, scan->now);
        if (started > since)
                since = started;
        if (scan->server->started_at > since)
                since = scan->server->started_at;
        /* the boot's key released, its initrd hands the identity over to the root's agent:
         * switch-root and the root's start take longer than a few quote intervals */
        if (row->released_at > 0 && row->released_at + PUSH_HANDOVER_GRACE > since + limit)
                limit = row->released_at + PUSH_HANDOVER_GRACE - since;
        if (row->push && strcmp(row->state, "polling") == 0 && scan->now - since > limit && scan->count < 64) {
                snprintf(scan->late[scan->count], sizeof(scan->late[0]), "%s", row->agent_id);
                scan->since[scan->count++] = since;
        }
        return 0;
}

void push_deadline_check(evutil_socket_t fd, short events, void *user) {
        struct push_server *s = user;
        struct deadline_scan *scan = calloc(1, sizeof(*scan));
        char reason[256];

        (void)fd, (void)events;
        if (!scan)
                return;
        vm_error_clear();
        scan->server = s;
        scan->now = (int64_t)time(NULL);
        s->scans++;
        if (store_attestation_foreach(s->store, deadline_one, scan) < 0)
                log_error("verifier: push deadlines: %s", vm_error_detail(-EIO));
        else /* the enrolments deleted since the last scan */
                for (size_t i = 0; i < s->starts_count;)
                        if (s->starts[i].scan != s->scans)
                                s->starts[i] = s->starts[--s->starts_count];
                        else
                                i++;
        for (size_t i = 0; i < scan->count; i++) {
                struct push_agent *a = NULL;

                snprintf(reason, sizeof(reason),
                         "push: missed its deadline: no evidence for %lld s (%d quote intervals of %u s; %d s after "
                         "a key release)",
                         (long long)(scan->now - scan->since[i]), PUSH_DEADLINE_INTERVALS, s->config->quote_interval,
                         PUSH_HANDOVER_GRACE);
                if (push_agent_get(s, scan->late[i], &a) < 0) {
                        /* one that cannot be loaded fails all the same, on its row */
                        struct attestation row;

                        if (store_attestation_get(s->store, scan->late[i], false, &row) < 0)
                                continue;
                        snprintf(row.state, sizeof(row.state), "failed");
                        snprintf(row.failure, sizeof(row.failure), "%s (%s)", reason, vm_error_detail(-EPERM));
                        row.failed_at = scan->now;
                        if (store_attestation_save(s->store, &row) != -ESTALE) {
                                log_error("verifier: agent %s FAILED: %s", row.agent_id, row.failure);
                                poller_notify_failure(s->poller, row.agent_id, row.failure, row.failed_at);
                        }
                        attestation_done(&row);
                        continue;
                }
                if (a->stage == STAGE_EVALUATING)
                        continue;
                push_agent_fail(s, a, reason);
        }
        free(scan);
}
