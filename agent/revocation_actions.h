/* The agent's own revocation actions (docs/protocol.md §2.8), as rust-keylime runs them: after a
 * notification whose signature verified, each executable that agent.conf's revocation_actions
 * names, from revocation_actions_dir, one after the other, the first failure ending the chain.
 * Nothing the notification names or carries is ever run (Keylime's payload-shipped actions and
 * action_list are not followed): the message is data, handed to each action on its standard
 * input (a sealed memfd, also named by its one argument, /dev/stdin, where rust-keylime names a
 * file holding the message).
 *
 * An action runs only when it and its directory are owned by root and writable by nobody else,
 * and it is a regular file; it is started without a shell (posix_spawn), in a process group of
 * its own, in /, with a fixed PATH and nothing else in its environment, no descriptor of the
 * agent's but its standard input, output and error, and is killed (its group with it) after
 * revocation_action_timeout seconds. Its output (stdout and stderr, the first
 * REVOCATION_ACTION_OUTPUT_MAX bytes) is logged, escaped, when it ends. The agent's event loop
 * keeps serving while actions run; notifications that arrive meanwhile wait their turn, up to
 * REVOCATION_QUEUE_MAX. */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent/config.h"

#define REVOCATION_QUEUE_MAX 16
#define REVOCATION_ACTION_OUTPUT_MAX 4096

struct revocation_actions {
        const struct agent_config *config;
        struct event_base *base;
        /* the notifications whose actions wait, the one running first */
        char *queue[REVOCATION_QUEUE_MAX];
        size_t queue_size[REVOCATION_QUEUE_MAX];
        unsigned queued;
        /* the action running now (pid 0: none) */
        int message_fd;             /* the sealed memfd of queue[0] */
        const char *next;           /* the rest of config->revocation_actions */
        char name[256];
        pid_t pid;
        int pidfd, output_fd;
        struct event *exited, *output, *deadline;
        char output_text[REVOCATION_ACTION_OUTPUT_MAX];
        size_t output_size;
        bool output_cut, timed_out;
};

void revocation_actions_init(struct revocation_actions *a, const struct agent_config *config);
/* Kills an action still running (and its process group) and forgets the queue. Call before the
 * event base is freed. */
void revocation_actions_done(struct revocation_actions *a);

/* True when agent.conf names any action. */
bool revocation_actions_configured(const struct revocation_actions *a);
/* Checks now what running would check (ownership, modes, file type), for a warning at start;
 * -errno naming the first action that would not run. */
int revocation_actions_check(const struct revocation_actions *a);
/* Queues the verified message `msg` for the actions, started at once on `base` when none run.
 * -EBUSY when REVOCATION_QUEUE_MAX notifications wait already. */
int revocation_actions_submit(struct revocation_actions *a, struct event_base *base, const char *msg, size_t size);
