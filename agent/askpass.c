#include "agent/askpass.h"

#include <dirent.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/secret.h"

#define ASK_FILE_MAX 8192
#define ASKPASS_KEY_MAX (64 * 1024)

struct parse_state {
        struct askpass_request *req;
        bool in_ask, have_id, have_socket;
        char error[128];
};

static int on_key(void *user, const char *section, const char *name, const char *value) {
        struct parse_state *st = user;

        if (strcmp(section, "Ask") != 0)
                return 1; /* other sections are not ours to judge */
        st->in_ask = true;
        if (strcmp(name, "Id") == 0) {
                if (strlen(value) >= sizeof(st->req->id))
                        return snprintf(st->error, sizeof(st->error), "Id too long"), 0;
                strcpy(st->req->id, value);
                st->have_id = true;
        } else if (strcmp(name, "Socket") == 0) {
                if (strlen(value) >= sizeof(st->req->socket) || value[0] != '/')
                        return snprintf(st->error, sizeof(st->error), "Socket is not an absolute path that fits sun_path"), 0;
                strcpy(st->req->socket, value);
                st->have_socket = true;
        } else if (strcmp(name, "NotAfter") == 0) {
                char *end;

                st->req->not_after = strtoull(value, &end, 10);
                if (!*value || *end)
                        return snprintf(st->error, sizeof(st->error), "NotAfter is not a number"), 0;
        }
        return 1;
}

int askpass_parse(const char *text, size_t size, struct askpass_request *req) {
        struct parse_state st = { .req = req };
        _cleanup_(freep) char *copy = NULL;
        int line;

        memset(req, 0, sizeof(*req));
        if (size > ASK_FILE_MAX)
                return vm_error(-EBADMSG, "ask-password request larger than %d bytes", ASK_FILE_MAX);
        copy = strndup(text, size); /* inih wants a NUL-terminated string */
        if (!copy)
                return -ENOMEM;
        line = ini_parse_string(copy, on_key, &st);
        if (line != 0 || st.error[0])
                return vm_error(-EBADMSG, "ask-password request: %s (line %d)", st.error[0] ? st.error : "syntax error", line);
        if (!st.in_ask || !st.have_id || !st.have_socket)
                return vm_error(-EBADMSG, "ask-password request without [Ask] Id= and Socket=");
        return 0;
}

bool askpass_matches(const struct askpass_request *req, const char *volume) {
        static const char prefix[] = "cryptsetup:";
        const char *device;
        struct timespec now;

        if (strncmp(req->id, prefix, sizeof(prefix) - 1) != 0)
                return false;
        if (req->not_after) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000 > req->not_after)
                        return false;
        }
        device = req->id + sizeof(prefix) - 1;
        if (strcmp(device, volume) == 0)
                return true;
        /* a bare UUID matches the by-uuid path systemd-cryptsetup asks with */
        const char *slash = strrchr(device, '/');
        return strncmp(device, "/dev/disk/by-uuid/", 18) == 0 && slash && strcmp(slash + 1, volume) == 0;
}

int askpass_answer(const struct askpass_request *req, const uint8_t *key, size_t size) {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        _cleanup_(secret_freep) struct secret *datagram = NULL;
        _cleanup_(closep) int fd = -1;
        ssize_t sent;

        if (size == 0 || size > ASKPASS_KEY_MAX)
                return vm_error(-EINVAL, "a key of %zu bytes cannot be sent", size);
        datagram = secret_new(size + 1);
        if (!datagram)
                return -ENOMEM;
        datagram->data[0] = '+'; /* docs/protocol.md §6: "+" then the password; "-" would cancel */
        memcpy(datagram->data + 1, key, size);
        memcpy(addr.sun_path, req->socket, strlen(req->socket) + 1);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sent = fd < 0 ? -1 : sendto(fd, datagram->data, datagram->size, MSG_NOSIGNAL, (struct sockaddr *)&addr, sizeof(addr));
        if (sent != (ssize_t)datagram->size)
                return vm_error(-errno, "cannot answer %s on %s: %m", req->id, req->socket);
        return 0;
}

/* The request file itself: a regular file of root's (systemd-cryptsetup runs as root; anyone
 * else who can write into the directory must not get the key by asking for it), opened without
 * following a symlink and judged on what was opened. -ENOENT when it went away meanwhile. */
static int read_request(int dir_fd, const char *path, const char *name, struct askpass_request *req) {
        _cleanup_(closep) int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        char text[ASK_FILE_MAX + 1];
        size_t size = 0;
        struct stat st;
        ssize_t n;

        if (fd < 0 && errno == ENOENT)
                return -ENOENT; /* answered and removed meanwhile */
        if (fd < 0 && errno == ELOOP)
                return vm_error(-EPERM, "ask-password request %s is a symlink: ignored", path);
        if (fd < 0)
                return vm_error(-EPERM, "ask-password request %s: cannot open: %m", path);
        if (fstat(fd, &st) < 0)
                return vm_error(-EPERM, "ask-password request %s: %m", path);
        if (!S_ISREG(st.st_mode))
                return vm_error(-EPERM, "ask-password request %s is not a regular file: ignored", path);
        if (st.st_uid != 0)
                return vm_error(-EPERM, "ask-password request %s is owned by uid %u, not root: ignored", path,
                                (unsigned)st.st_uid);
        while (size < sizeof(text) && (n = read(fd, text + size, sizeof(text) - size)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return vm_error(-EPERM, "ask-password request %s: cannot read: %m", path);
                size += (size_t)n;
        }
        return askpass_parse(text, size, req) < 0 ? vm_error(-EPERM, "%s: %s", path, vm_error_detail(-EBADMSG)) : 0;
}

/* The Socket= a request names gets the key, so it must be systemd's: a socket of root's directly
 * in the ask-password directory (not below it, not elsewhere, not reached through "..", not a
 * symlink). The directory is root's alone (askpass_find): nobody else can swap the socket
 * between this check and the answer. */
static int check_socket(int dir_fd, const char *dir, const char *path, const struct askpass_request *req) {
        size_t dir_len = strlen(dir);
        const char *name;
        struct stat st;

        while (dir_len > 1 && dir[dir_len - 1] == '/')
                dir_len--;
        name = strncmp(req->socket, dir, dir_len) == 0 && req->socket[dir_len] == '/' ? req->socket + dir_len + 1 : "";
        if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return vm_error(-EPERM, "ask-password request %s: Socket=%s is not a socket in %.*s: ignored", path,
                                req->socket, (int)dir_len, dir);
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return vm_error(-EPERM, "ask-password request %s: Socket=%s: %m", path, req->socket);
        if (!S_ISSOCK(st.st_mode))
                return vm_error(-EPERM, "ask-password request %s: Socket=%s is not a socket (%s): ignored", path,
                                req->socket, S_ISLNK(st.st_mode) ? "a symlink" : "another kind of file");
        if (st.st_uid != 0)
                return vm_error(-EPERM, "ask-password request %s: Socket=%s is owned by uid %u, not root: ignored", path,
                                req->socket, (unsigned)st.st_uid);
        return 0;
}

int askpass_find(const char *dir, const char *volume, struct askpass_request *req) {
        DIR *d = opendir(dir);
        struct dirent *entry;
        struct stat st = { 0 };
        int ret = -ENOENT, refused = 0, r;

        if (!d)
                return errno == ENOENT ? -ENOENT : vm_error(-errno, "%s: %m", dir);
        if (fstat(dirfd(d), &st) < 0 || st.st_uid != 0 || (st.st_mode & 022)) {
                closedir(d);
                return vm_error(-EPERM, "ask-password directory %s is not root's alone (owner uid %u, mode %04o): "
                                "nothing in it is answered", dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        }
        while (ret == -ENOENT && (entry = readdir(d))) {
                char path[512];

                if (strncmp(entry->d_name, "ask.", 4) != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
                r = read_request(dirfd(d), path, entry->d_name, req);
                if (r >= 0 && !askpass_matches(req, volume))
                        continue;
                if (r >= 0)
                        r = check_socket(dirfd(d), dir, path, req);
                if (r >= 0)
                        ret = 0;
                else if (r == -EPERM)
                        refused = r; /* its detail stays the last one recorded */
        }
        closedir(d);
        if (ret < 0)
                memset(req, 0, sizeof(*req));
        return ret == -ENOENT && refused ? refused : ret;
}
