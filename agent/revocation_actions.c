#include "agent/revocation_actions.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"

/* All an action finds in its environment: no variable of the agent's reaches it. */
static char *const action_environment[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };

static void action_next(struct revocation_actions *a);

void revocation_actions_init(struct revocation_actions *a, const struct agent_config *config) {
        memset(a, 0, sizeof(*a));
        a->config = config;
        a->message_fd = a->pidfd = a->output_fd = -1;
}

bool revocation_actions_configured(const struct revocation_actions *a) {
        return a->config->revocation_actions[0] != '\0';
}

/* The next name of the comma-separated list at *cursor (agent/config.c checked each name). */
static bool name_next(const char **cursor, char *name, size_t size) {
        size_t len;

        if (!*cursor || !**cursor)
                return false;
        len = strcspn(*cursor, ",");
        snprintf(name, size, "%.*s", (int)len, *cursor);
        *cursor += len + ((*cursor)[len] == ',');
        return true;
}

static int owned_by_root_only(const char *what, const char *path, const struct stat *st) {
        if (st->st_uid != 0 || (st->st_mode & 022))
                return vm_error(-EPERM, "%s %s must be owned by root and writable by nobody else (owner uid %u, mode %04o)",
                                what, path, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777));
        return 0;
}

/* What makes an action runnable: see revocation_actions.h. The directory may be reached
 * through a symbolic link (/lib -> usr/lib); the action itself may not be one. */
static int action_check(const struct revocation_actions *a, const char *name, char *path, size_t size) {
        const char *dir = a->config->revocation_actions_dir;
        struct stat st;
        int ret;

        if ((size_t)snprintf(path, size, "%s/%s", dir, name) >= size)
                return vm_error(-ENAMETOOLONG, "revocation action %s/%s: the path is too long", dir, name);
        if (stat(dir, &st) < 0)
                return vm_error(-errno, "revocation_actions_dir %s: %m", dir);
        if (!S_ISDIR(st.st_mode))
                return vm_error(-ENOTDIR, "revocation_actions_dir %s is not a directory", dir);
        ret = owned_by_root_only("revocation_actions_dir", dir, &st);
        if (ret < 0)
                return ret;
        if (lstat(path, &st) < 0)
                return vm_error(-errno, "revocation action %s: %m", path);
        if (!S_ISREG(st.st_mode))
                return vm_error(-EPERM, "revocation action %s is not a regular file (symbolic links are not followed)",
                                path);
        ret = owned_by_root_only("revocation action", path, &st);
        if (ret < 0)
                return ret;
        if (!(st.st_mode & 0111))
                return vm_error(-EACCES, "revocation action %s is not executable", path);
        return 0;
}

int revocation_actions_check(const struct revocation_actions *a) {
        const char *cursor = a->config->revocation_actions;
        char name[sizeof(a->name)], path[PATH_MAX];
        int ret;

        while (name_next(&cursor, name, sizeof(name)))
                if ((ret = action_check(a, name, path, sizeof(path))) < 0)
                        return ret;
        return 0;
}

/* Starts `path` with the message on its standard input and a pipe for its output. */
static int action_spawn(struct revocation_actions *a, const char *path) {
        char *const argv[] = { (char *)path, "/dev/stdin", NULL };
        posix_spawn_file_actions_t files;
        posix_spawnattr_t attr;
        sigset_t no_signals, all_signals;
        int output[2], ret;

        /* each action reads the message from its start: they share the memfd's offset */
        if (lseek(a->message_fd, 0, SEEK_SET) < 0)
                return vm_error(-errno, "revocation action %s: cannot rewind the message: %m", path);
        if (pipe2(output, O_CLOEXEC) < 0)
                return vm_error(-errno, "revocation action %s: cannot make a pipe: %m", path);
        sigemptyset(&no_signals);
        sigfillset(&all_signals); /* the agent ignores SIGPIPE: the action must not inherit that */
        posix_spawn_file_actions_init(&files);
        posix_spawn_file_actions_adddup2(&files, a->message_fd, STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&files, output[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&files, output[1], STDERR_FILENO);
        /* not the TPM, not the listener, not a verifier's connection */
        posix_spawn_file_actions_addclosefrom_np(&files, STDERR_FILENO + 1);
        posix_spawn_file_actions_addchdir_np(&files, "/");
        posix_spawnattr_init(&attr);
        posix_spawnattr_setsigmask(&attr, &no_signals);
        posix_spawnattr_setsigdefault(&attr, &all_signals);
        posix_spawnattr_setpgroup(&attr, 0); /* a group of its own, killed whole at the deadline */
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
        ret = posix_spawn(&a->pid, path, &files, &attr, argv, action_environment);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&files);
        close(output[1]);
        if (ret != 0) {
                close(output[0]);
                a->pid = 0;
                return vm_error(-ret, "revocation action %s: cannot start: %s", path, strerror(ret));
        }
        a->output_fd = output[0];
        a->pidfd = (int)syscall(SYS_pidfd_open, a->pid, 0);
        if (a->pidfd < 0 || fcntl(a->output_fd, F_SETFL, O_NONBLOCK) < 0)
                return vm_error(-errno, "revocation action %s: cannot watch it (pidfd_open: %m)", path);
        return 0;
}

/* Reads what the action wrote so far: the first REVOCATION_ACTION_OUTPUT_MAX bytes are kept,
 * the rest read and dropped so that the action never blocks on a full pipe. */
static void output_read(struct revocation_actions *a) {
        char buf[4096];
        ssize_t n;

        while (a->output_fd >= 0) {
                n = read(a->output_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) { /* end of output (or an error: nothing more to read) */
                        if (a->output)
                                event_del(a->output);
                        close(a->output_fd);
                        a->output_fd = -1;
                        return;
                }
                size_t room = sizeof(a->output_text) - a->output_size, kept = (size_t)n < room ? (size_t)n : room;

                memcpy(a->output_text + a->output_size, buf, kept);
                a->output_size += kept;
                a->output_cut |= kept < (size_t)n;
        }
}

static void on_output(evutil_socket_t fd, short events, void *user) {
        output_read(user);
}

/* Every line the action wrote, one log line each (log_at escapes what is not printable). */
static void output_log(const struct revocation_actions *a) {
        const char *line = a->output_text, *end = a->output_text + a->output_size;

        while (line < end) {
                const char *newline = memchr(line, '\n', (size_t)(end - line));
                size_t len = newline ? (size_t)(newline - line) : (size_t)(end - line);

                log_info("revocation action %s: %.*s", a->name, (int)len, line);
                line += len + 1;
        }
        if (a->output_cut)
                log_info("revocation action %s: (output cut after %d bytes)", a->name, REVOCATION_ACTION_OUTPUT_MAX);
}

/* Forgets the action that ran: its events, descriptors and output. */
static void action_forget(struct revocation_actions *a) {
        if (a->exited)
                event_free(a->exited);
        if (a->output)
                event_free(a->output);
        if (a->deadline)
                event_free(a->deadline);
        a->exited = a->output = a->deadline = NULL;
        if (a->output_fd >= 0)
                close(a->output_fd);
        if (a->pidfd >= 0)
                close(a->pidfd);
        a->output_fd = a->pidfd = -1;
        a->pid = 0;
        a->output_size = 0;
        a->output_cut = a->timed_out = false;
}

static void message_finish(struct revocation_actions *a);

/* Starts the actions of queue[0]. */
static void message_start(struct revocation_actions *a) {
        /* the message in a memfd sealed against change: no action alters what the next one reads */
        a->message_fd = memfd_create("vmattest-revocation", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (a->message_fd < 0 || write(a->message_fd, a->queue[0], a->queue_size[0]) != (ssize_t)a->queue_size[0] ||
            fcntl(a->message_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
                log_error("revocation actions not run: cannot hold the message in a memfd: %m");
                message_finish(a);
                return;
        }
        a->next = a->config->revocation_actions;
        action_next(a);
}

/* Done with queue[0]: the next notification's actions start. */
static void message_finish(struct revocation_actions *a) {
        if (a->message_fd >= 0)
                close(a->message_fd);
        a->message_fd = -1;
        free(a->queue[0]);
        a->queued--;
        memmove(a->queue, a->queue + 1, a->queued * sizeof(a->queue[0]));
        memmove(a->queue_size, a->queue_size + 1, a->queued * sizeof(a->queue_size[0]));
        if (a->queued)
                message_start(a);
}

static void on_exited(evutil_socket_t fd, short events, void *user) {
        struct revocation_actions *a = user;
        int status;
        pid_t got;

        do
                got = waitpid(a->pid, &status, WNOHANG);
        while (got < 0 && errno == EINTR);
        if (got == 0) /* not yet, after all */
                return (void)event_add(a->exited, NULL);
        output_read(a);
        output_log(a);
        if (got > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                log_info("revocation action %s succeeded", a->name);
                action_forget(a);
                action_next(a);
                return;
        }
        if (got < 0)
                log_error("revocation action %s: cannot learn how it ended: %m", a->name);
        else if (a->timed_out)
                log_error("revocation action %s killed after %u s (revocation_action_timeout)", a->name,
                          a->config->revocation_action_timeout);
        else if (WIFSIGNALED(status))
                log_error("revocation action %s killed by %s", a->name, strsignal(WTERMSIG(status)));
        else
                log_error("revocation action %s failed with exit status %d", a->name, WEXITSTATUS(status));
        if (*a->next)
                log_error("the notification's revocation actions after %s are not run", a->name);
        action_forget(a);
        message_finish(a);
}

static void on_deadline(evutil_socket_t fd, short events, void *user) {
        struct revocation_actions *a = user;

        a->timed_out = true;
        /* its group, so that what it started dies with it; and itself, should it have left
         * the group */
        kill(-a->pid, SIGKILL);
        kill(a->pid, SIGKILL);
}

/* Runs the next action of queue[0], or finishes the notification. */
static void action_next(struct revocation_actions *a) {
        struct timeval timeout = { .tv_sec = a->config->revocation_action_timeout };
        char path[PATH_MAX];
        int ret;

        if (!name_next(&a->next, a->name, sizeof(a->name))) {
                message_finish(a);
                return;
        }
        ret = action_check(a, a->name, path, sizeof(path));
        if (ret >= 0)
                ret = action_spawn(a, path);
        if (ret >= 0) {
                a->exited = event_new(a->base, a->pidfd, EV_READ, on_exited, a);
                a->output = event_new(a->base, a->output_fd, EV_READ | EV_PERSIST, on_output, a);
                a->deadline = evtimer_new(a->base, on_deadline, a);
                if (!a->exited || !a->output || !a->deadline || event_add(a->exited, NULL) < 0 ||
                    event_add(a->output, NULL) < 0 || evtimer_add(a->deadline, &timeout) < 0)
                        ret = vm_error(-ENOMEM, "revocation action %s: cannot watch it", path);
        }
        if (ret < 0) {
                log_error("%s: not run", vm_error_detail(ret));
                if (a->pid > 0) {
                        kill(-a->pid, SIGKILL);
                        waitpid(a->pid, NULL, 0);
                }
                if (*a->next)
                        log_error("the notification's revocation actions after %s are not run", a->name);
                action_forget(a);
                message_finish(a);
                return;
        }
        log_info("revocation action %s started (pid %d)", path, (int)a->pid);
}

int revocation_actions_submit(struct revocation_actions *a, struct event_base *base, const char *msg, size_t size) {
        char *copy;

        if (!revocation_actions_configured(a))
                return 0;
        if (a->queued == REVOCATION_QUEUE_MAX)
                return vm_error(-EBUSY, "%d notifications wait for their revocation actions already",
                                REVOCATION_QUEUE_MAX);
        copy = malloc(size);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, msg, size);
        a->base = base;
        a->queue[a->queued] = copy;
        a->queue_size[a->queued++] = size;
        if (a->queued == 1)
                message_start(a);
        else
                log_info("revocation actions wait for those of %u earlier notification(s)", a->queued - 1);
        return 0;
}

void revocation_actions_done(struct revocation_actions *a) {
        if (a->pid > 0) {
                log_warning("revocation action %s killed: the agent stops", a->name);
                kill(-a->pid, SIGKILL);
                waitpid(a->pid, NULL, 0);
        }
        action_forget(a);
        if (a->message_fd >= 0)
                close(a->message_fd);
        for (unsigned i = 0; i < a->queued; i++)
                free(a->queue[i]);
        revocation_actions_init(a, a->config);
}
