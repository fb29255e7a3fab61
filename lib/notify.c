#include "lib/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lib/cleanup.h"
#include "lib/display.h"
#include "lib/log.h"

/* NOTIFY_SOCKET as a socket address: a path, or '@' for Linux's abstract namespace (its first
 * byte NUL, the length given, no terminating NUL). */
static int notify_address(const char *name, struct sockaddr_un *addr, socklen_t *addr_len) {
        size_t len = strlen(name);

        if (name[0] != '/' && name[0] != '@')
                return -EAFNOSUPPORT;
        if (len < 2 || len >= sizeof(addr->sun_path))
                return -ENAMETOOLONG;
        memset(addr, 0, sizeof(*addr));
        addr->sun_family = AF_UNIX;
        memcpy(addr->sun_path, name, len);
        if (name[0] == '@')
                addr->sun_path[0] = '\0';
        *addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'));
        return 0;
}

/* Failures are not vm_error()s: a notification sent between a failure and its report must not
 * replace the detail the report is about to show. */
int notify_send(const char *state) {
        /* the service manager's socket is gone, or never was ours: one debug line, not one a call */
        static atomic_bool failure_logged;
        const char *name = getenv("NOTIFY_SOCKET");
        _cleanup_(closep) int fd = -1;
        struct sockaddr_un addr;
        socklen_t addr_len;
        size_t len = strlen(state);
        ssize_t sent;
        int ret;

        if (!name || !name[0])
                return 0;
        ret = notify_address(name, &addr, &addr_len);
        if (ret >= 0 && len > NOTIFY_DATAGRAM_MAX)
                ret = -EMSGSIZE;
        if (ret >= 0 && (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
                ret = -errno;
        if (ret >= 0) {
                /* MSG_DONTWAIT: a service manager that does not read must not hold the service up */
                sent = sendto(fd, state, len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&addr, addr_len);
                if (sent < 0)
                        ret = -errno;
                else if ((size_t)sent != len)
                        ret = -EIO;
        }
        if (ret < 0 && !atomic_exchange(&failure_logged, true))
                log_debug("cannot notify the service manager at NOTIFY_SOCKET=%s (further failures not logged): %s",
                          name, strerror(-ret));
        return ret;
}

int notify_ready(void) {
        return notify_send("READY=1");
}

int notify_stopping(void) {
        return notify_send("STOPPING=1");
}

int notify_status(const char *fmt, ...) {
        char text[NOTIFY_STATUS_MAX + 1], shown[NOTIFY_STATUS_MAX + 1], state[sizeof("STATUS=") + NOTIFY_STATUS_MAX];
        va_list ap;

        if (!getenv("NOTIFY_SOCKET"))
                return 0;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        display_escape(text, strlen(text), shown, sizeof(shown));
        snprintf(state, sizeof(state), "STATUS=%s", shown);
        return notify_send(state);
}
