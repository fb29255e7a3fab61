#include "agent/host_binding_fresh.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/host_binding.h"
#include "lib/host_binding_frame.h"

#define STALE_FRAMES_MAX 4  /* answers to earlier requests skipped on a serial port */
#define DRAIN_MAX (64 * 1024)

static bool parse_vsock(const char *text, unsigned *cid, unsigned *port) {
        unsigned long c, p;
        char *end;

        c = strtoul(text, &end, 10);
        if (end == text || *end != ':')
                return false;
        text = end + 1;
        p = strtoul(text, &end, 10);
        if (end == text || *end || c > UINT32_MAX || p == 0 || p >= VMADDR_PORT_ANY)
                return false;
        *cid = (unsigned)c;
        *port = (unsigned)p;
        return true;
}

int host_service_address_check(const char *service, const char **why) {
        unsigned cid, port;

        *why = NULL;
        if (strncmp(service, "unix:", 5) == 0 || strncmp(service, "serial:", 7) == 0) {
                const char *path = strchr(service, ':') + 1;

                if (path[0] != '/')
                        *why = "the path is not absolute";
                else if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                        *why = "the path is too long";
        } else if (strncmp(service, "vsock:", 6) == 0) {
                if (!parse_vsock(service + 6, &cid, &port))
                        *why = "not vsock:CID:PORT";
        } else
                *why = "not unix:PATH, vsock:CID:PORT or serial:PATH";
        return *why ? -EINVAL : 0;
}

/* Waits for `events` on fd until the deadline; -ETIMEDOUT after it. */
static int wait_fd(int fd, short events, int64_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                int64_t left = deadline - (int64_t)monotonic_ms();
                int r;

                if (left <= 0)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int)left);
                if (r > 0)
                        return 0;
                if (r < 0 && errno != EINTR)
                        return -errno;
        }
}

static int connect_socket(int fd, const struct sockaddr *addr, socklen_t len, int64_t deadline) {
        int err = 0;
        socklen_t err_len = sizeof(err);
        int ret;

        if (connect(fd, addr, len) == 0)
                return 0;
        if (errno != EINPROGRESS && errno != EAGAIN)
                return -errno;
        if ((ret = wait_fd(fd, POLLOUT, deadline)) < 0)
                return ret;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0)
                return -errno;
        return -err;
}

/* A serial port keeps what the host wrote while nobody read: anything there now answers an
 * earlier request. Read away, bounded. */
static void drain(int fd) {
        uint8_t buf[4096];
        size_t total = 0;
        ssize_t n;

        while (total < DRAIN_MAX && (n = read(fd, buf, sizeof(buf))) > 0)
                total += (size_t)n;
}

static int open_service(const char *service, int64_t deadline, int *out) {
        int fd = -1, ret = 0;

        if (strncmp(service, "unix:", 5) == 0) {
                struct sockaddr_un addr = { .sun_family = AF_UNIX };

                snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", service + 5);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                ret = fd < 0 ? -errno : connect_socket(fd, (struct sockaddr *)&addr, sizeof(addr), deadline);
        } else if (strncmp(service, "vsock:", 6) == 0) {
                struct sockaddr_vm addr = { .svm_family = AF_VSOCK };
                unsigned cid = 0, port = 0;

                parse_vsock(service + 6, &cid, &port);
                addr.svm_cid = cid;
                addr.svm_port = port;
                fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                ret = fd < 0 ? -errno : connect_socket(fd, (struct sockaddr *)&addr, sizeof(addr), deadline);
        } else {
                struct termios tio;

                fd = open(service + 7, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0)
                        ret = -errno;
                /* a virtio-serial port is no tty; a real serial line must not cook the bytes */
                else if (isatty(fd) && tcgetattr(fd, &tio) == 0) {
                        cfmakeraw(&tio);
                        tcsetattr(fd, TCSANOW, &tio);
                }
                if (fd >= 0)
                        drain(fd);
        }
        if (ret < 0) {
                if (fd >= 0)
                        close(fd);
                return ret;
        }
        *out = fd;
        return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n, int64_t deadline) {
        while (n) {
                ssize_t w = write(fd, p, n);
                int ret;

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN) {
                        if ((ret = wait_fd(fd, POLLOUT, deadline)) < 0)
                                return ret;
                        continue;
                }
                if (w <= 0)
                        return w < 0 ? -errno : -EPIPE;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

static int read_exact(int fd, uint8_t *p, size_t n, int64_t deadline) {
        while (n) {
                ssize_t r = read(fd, p, n);
                int ret;

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 && errno == EAGAIN) {
                        if ((ret = wait_fd(fd, POLLIN, deadline)) < 0)
                                return ret;
                        continue;
                }
                if (r == 0)
                        return -ECONNRESET;
                if (r < 0)
                        return -errno;
                p += r;
                n -= (size_t)r;
        }
        return 0;
}

static const char *io_error(int ret) {
        return ret == -ETIMEDOUT ? "no answer in time" : ret == -ECONNRESET ? "the service closed the stream" : NULL;
}

/* One answer frame: a binding (0, *blob set), on a serial port one for another nonce (1: to
 * skip), or an error. A connection carries one request only: whatever binding it answers is
 * served, and a replayed one is the verifier's to name. */
static int read_answer(int fd, const char *service, bool serial, const uint8_t *nonce, size_t nonce_size,
                       int64_t deadline, uint8_t **blob, size_t *blob_size) {
        uint8_t header[HOST_FRAME_HEADER_SIZE];
        struct host_frame_header h;
        struct host_binding binding;
        struct host_error error;
        uint8_t *body;
        int ret;

        if ((ret = read_exact(fd, header, sizeof(header), deadline)) < 0)
                return vm_error(ret, "host service %s: %s", service, io_error(ret) ?: strerror(-ret));
        if ((ret = host_frame_header_parse(header, 0, &h)) < 0)
                return vm_error(-EBADMSG, "host service %s: %s", service, vm_error_detail(ret));
        if (!(body = malloc(h.length)))
                return -ENOMEM;
        if ((ret = read_exact(fd, body, h.length, deadline)) < 0) {
                free(body);
                return vm_error(ret, "host service %s: %s", service, io_error(ret) ?: strerror(-ret));
        }
        if (h.type == HOST_FRAME_ERROR) {
                ret = host_error_parse(body, h.length, &error);
                free(body);
                if (ret < 0)
                        return vm_error(-EBADMSG, "host service %s: %s", service, vm_error_detail(ret));
                return vm_error(error.code == HOST_ERROR_RATE_LIMITED || error.code == HOST_ERROR_BUSY ? -EAGAIN
                                                                                                      : -EPROTO,
                                "host service %s: %s: %s", service, host_error_code_name(error.code), error.message);
        }
        /* a binding for another nonce answers an earlier request: skipped; one that does not
         * parse is served as it is, for the verifier to refuse by name */
        if (serial && host_binding_parse(body, h.length, &binding) >= 0 &&
            (binding.version != HOST_BINDING_VERSION_FRESH || binding.nonce_size != nonce_size ||
             memcmp(binding.nonce, nonce, nonce_size) != 0)) {
                free(body);
                return 1;
        }
        *blob = body;
        *blob_size = h.length;
        return 0;
}

int host_binding_fresh_ask(const char *service, unsigned timeout_s, const uint8_t *nonce, size_t nonce_size,
                           const TPM2B_NAME *ek_name, uint8_t **blob, size_t *blob_size) {
        int64_t deadline = (int64_t)monotonic_ms() + (int64_t)timeout_s * 1000;
        uint8_t frame[HOST_FRAME_HEADER_SIZE + HOST_REQUEST_BODY_MAX];
        struct host_request req = { .nonce_size = nonce_size, .ek_name = *ek_name };
        const char *why;
        size_t frame_size = 0;
        int fd = -1, ret;

        *blob = NULL;
        if (host_service_address_check(service, &why) < 0)
                return vm_error(-EINVAL, "host service \"%s\": %s", service, why);
        if (nonce_size == 0 || nonce_size > sizeof(req.nonce))
                return vm_error(-EINVAL, "host service %s: a nonce of %zu bytes", service, nonce_size);
        memcpy(req.nonce, nonce, nonce_size);
        if ((ret = host_request_encode(&req, frame, sizeof(frame), &frame_size)) < 0)
                return vm_error(ret, "host service %s: %s", service, vm_error_detail(ret));
        if ((ret = open_service(service, deadline, &fd)) < 0)
                return vm_error(ret, "host service %s: cannot reach it: %s", service,
                                ret == -ETIMEDOUT ? "no connection in time" : strerror(-ret));
        ret = write_all(fd, frame, frame_size, deadline);
        if (ret < 0)
                ret = vm_error(ret, "host service %s: sending the request: %s", service,
                               ret == -ETIMEDOUT ? "timed out" : strerror(-ret));
        for (int frames = 0; ret >= 0; frames++) {
                ret = read_answer(fd, service, strncmp(service, "serial:", 7) == 0, nonce, nonce_size, deadline, blob,
                                  blob_size);
                if (ret <= 0)
                        break;
                if (frames == STALE_FRAMES_MAX) {
                        ret = vm_error(-EPROTO, "host service %s: %d answers for other nonces in a row", service,
                                       STALE_FRAMES_MAX + 1);
                        break;
                }
        }
        close(fd);
        return ret;
}
