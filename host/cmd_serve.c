/* vmattest-host serve: the fresh mode's quote service (docs/protocol.md §5.9). Listens on
 * AF_VSOCK (production: guests reach the host at CID 2) and/or on UNIX sockets (what qemu's
 * `-chardev socket,path=...` connects a guest's virtio-serial port to: one socket per VM), and
 * answers each request frame with a fresh binding (host/fresh_service.h). One thread, poll():
 * a bounded number of connections, each with a buffer of one request, a deadline once a frame
 * has begun, and nothing else kept per guest. */
#include <errno.h>
#include <getopt.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "host/fresh_service.h"
#include "host/subcommands.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/host_binding.h"
#include "lib/log.h"
#include "lib/pcr_values.h"

#define LISTENERS_MAX 8
#define CONNECTIONS_DEFAULT 32
#define CONNECTIONS_MAX 1024
#define PEER_RATE_DEFAULT 10
#define GLOBAL_RATE_DEFAULT 50
#define FRAME_TIMEOUT_MS 5000   /* a frame begun must be whole within this */
#define VSOCK_IDLE_MS 60000     /* a vsock connection with nothing to ask is closed */
#define SOCKET_MODE_UMASK (-1)  /* no --socket-mode: the process's umask decides */

static const char serve_help[] =
        "Usage: vmattest-host serve --listen ADDRESS [--listen ADDRESS...] [OPTIONS]\n"
        "\n"
        "The fresh mode's quote service: per request from a guest's agent, the host TPM quotes\n"
        "the host's PCRs over SHA-256(\"vmattest-host-binding-fresh\" || nonce || Name(EK)), the\n"
        "verifier's nonce and the guest's vTPM EK, and the binding goes back to the guest.\n"
        "\n"
        "      --listen vsock:PORT   AF_VSOCK, any CID (guests ask at CID 2, the host)\n"
        "      --listen unix:PATH    a UNIX socket, what qemu's -chardev socket,path=PATH\n"
        "                            connects a guest's virtio-serial port to (one per VM)\n"
        "      --socket-mode MODE    the UNIX sockets' permissions, octal, e.g. 0660 (default:\n"
        "                            0777 less the umask); only who may write may connect\n"
        "      --tcti CONF           the host TPM (default: $VMATTEST_TCTI, host.conf's tcti or\n"
        "                            " TPM_DEFAULT_TCTI ")\n"
        "      --pcrs LIST           host PCRs to quote, sha256 bank (default: host.conf's pcrs)\n"
        "      --ak-handle H         the host AK (default: host.conf's ak_handle, 0x81010010)\n"
        "      --ek-name HEX         quote only for this vTPM EK Name (a service per VM)\n"
        "      --rate N              requests a second per peer (a vsock CID, a UNIX socket;\n"
        "                            default 10)\n"
        "      --global-rate N       requests a second for all peers together (default 50)\n"
        "      --max-connections N   connections at once (default 32)\n"
        "  -h, --help                show this help\n";

struct listener {
        int fd;
        int family; /* AF_UNIX or AF_VSOCK */
        char name[128];
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* AF_UNIX: unlinked at exit */
        int socket_mode; /* AF_UNIX: --socket-mode, or SOCKET_MODE_UMASK */
};

struct connection {
        int fd;
        uint64_t peer;
        char peer_name[160];
        bool vsock;
        uint8_t buf[HOST_FRAME_HEADER_SIZE + HOST_REQUEST_BODY_MAX];
        size_t have, need;
        uint64_t frame_deadline_ns; /* 0: between frames */
        uint64_t idle_since_ns;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
        stopping = sig;
}

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A socket's mode is what bind() gives its file: the umask is set for that call alone, so that
 * the socket never exists, not even between bind() and a chmod(), with more permissions than
 * asked; connecting needs write permission on it. */
static int listen_unix(const char *path, int socket_mode, struct listener *l) {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        struct stat st;
        mode_t umask_before = 0;
        int bound;

        if (strlen(path) >= sizeof(addr.sun_path))
                return vm_error(-ENAMETOOLONG, "--listen unix:%s: a path of more than %zu bytes", path,
                                sizeof(addr.sun_path) - 1);
        strcpy(addr.sun_path, path);
        /* a socket left by an earlier run is replaced; anything else at the path is not */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return vm_error(-EEXIST, "--listen unix:%s: exists and is not a socket", path);
                unlink(path);
        }
        l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (l->fd < 0)
                return vm_error(-errno, "--listen unix:%s: %m", path);
        if (socket_mode != SOCKET_MODE_UMASK)
                umask_before = umask(~(mode_t)socket_mode & 0777);
        bound = bind(l->fd, (struct sockaddr *)&addr, sizeof(addr));
        if (socket_mode != SOCKET_MODE_UMASK) {
                int bind_errno = errno;

                umask(umask_before);
                errno = bind_errno;
        }
        if (bound < 0 || listen(l->fd, 16) < 0)
                return vm_error(-errno, "--listen unix:%s: %m", path);
        l->family = AF_UNIX;
        l->socket_mode = socket_mode;
        snprintf(l->path, sizeof(l->path), "%s", path);
        return 0;
}

static int listen_vsock(const char *port_text, struct listener *l) {
        struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
        unsigned long port;
        char *end;

        port = strtoul(port_text, &end, 10);
        if (!*port_text || *end || port == 0 || port >= VMADDR_PORT_ANY)
                return vm_error(-EINVAL, "--listen vsock:%s: not a port number", port_text);
        addr.svm_port = (unsigned)port;
        l->fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (l->fd < 0)
                return vm_error(-errno, "--listen vsock:%s: %m (is the vhost_vsock module loaded?)", port_text);
        if (bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(l->fd, 16) < 0)
                return vm_error(-errno, "--listen vsock:%s: %m", port_text);
        l->family = AF_VSOCK;
        return 0;
}

static int listener_open(const char *address, int socket_mode, struct listener *l) {
        memset(l, 0, sizeof(*l));
        l->fd = -1;
        snprintf(l->name, sizeof(l->name), "%s", address);
        if (strncmp(address, "unix:", 5) == 0 && address[5])
                return listen_unix(address + 5, socket_mode, l);
        if (strncmp(address, "vsock:", 6) == 0)
                return listen_vsock(address + 6, l);
        return vm_error(-EINVAL, "--listen \"%s\" is not unix:PATH or vsock:PORT", address);
}

static void listener_close(struct listener *l) {
        if (l->fd >= 0)
                close(l->fd);
        if (l->path[0])
                unlink(l->path);
        l->fd = -1;
}

/* Sends the whole answer without waiting: it is at most HOST_FRAME_MAX bytes, which a socket
 * buffer holds; a peer that does not read its answers loses its connection, not the host's time. */
static bool send_all(int fd, const uint8_t *p, size_t n) {
        while (n) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return false;
                p += w;
                n -= (size_t)w;
        }
        return true;
}

static void connection_close(struct connection *c) {
        close(c->fd);
        c->fd = -1;
}

/* After a malformed frame: what the peer sent with it is read away (bounded) before the close,
 * so that the close does not reset the stream under the error frame before the peer reads it. */
static void connection_refuse(struct connection *c, const uint8_t *frame, size_t frame_size) {
        uint8_t sink[4096];
        size_t drained = 0;
        ssize_t n;

        send_all(c->fd, frame, frame_size);
        shutdown(c->fd, SHUT_WR);
        while (drained < 16 * sizeof(sink) && (n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
                drained += (size_t)n;
        connection_close(c);
}

static void connection_reset(struct connection *c, uint64_t now) {
        c->have = 0;
        c->need = HOST_FRAME_HEADER_SIZE;
        c->frame_deadline_ns = 0;
        c->idle_since_ns = now;
}

static void accept_one(const struct listener *l, unsigned index, struct connection *conns, unsigned max) {
        union {
                struct sockaddr sa;
                struct sockaddr_vm vm;
                struct sockaddr_un un;
        } addr;
        socklen_t len = sizeof(addr);
        uint8_t frame[HOST_FRAME_MAX];
        size_t frame_size = 0;
        struct connection *c = NULL;
        int fd = accept4(l->fd, &addr.sa, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
                return;
        for (unsigned i = 0; i < max && !c; i++)
                if (conns[i].fd < 0)
                        c = &conns[i];
        if (!c) {
                log_warning("serve: %s: a connection refused: %u open already (--max-connections)", l->name, max);
                if (host_error_encode(HOST_ERROR_BUSY, "too many connections: try later", frame, sizeof(frame),
                                      &frame_size) >= 0)
                        send_all(fd, frame, frame_size);
                close(fd);
                return;
        }
        memset(c, 0, sizeof(*c));
        c->fd = fd;
        if (l->family == AF_VSOCK) {
                /* the CID is the host's to assign: a guest cannot take another's */
                c->peer = 1ull << 32 | addr.vm.svm_cid;
                c->vsock = true;
                snprintf(c->peer_name, sizeof(c->peer_name), "vsock CID %u", addr.vm.svm_cid);
        } else {
                /* a UNIX socket per VM: the socket is the peer, however many times qemu reconnects */
                c->peer = 2ull << 32 | index;
                snprintf(c->peer_name, sizeof(c->peer_name), "%s", l->name);
        }
        connection_reset(c, now_ns());
}

/* Reads what is there; answers a request once it is whole. */
static void connection_read(struct fresh_service *svc, struct connection *c) {
        uint8_t frame[HOST_FRAME_MAX];
        size_t frame_size = 0;
        struct host_frame_header header;
        bool close_after = false;
        ssize_t n;
        int ret;

        n = recv(c->fd, c->buf + c->have, c->need - c->have, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                if (c->have)
                        log_warning("serve: %s: the stream ended inside a frame (%zu bytes of it)", c->peer_name,
                                    c->have);
                connection_close(c);
                return;
        }
        if (c->have == 0)
                c->frame_deadline_ns = now_ns() + FRAME_TIMEOUT_MS * 1000000ull;
        c->have += (size_t)n;
        if (c->have < c->need)
                return;
        if (c->need == HOST_FRAME_HEADER_SIZE) {
                /* the body's length is checked against its type's bound before it is read */
                if ((ret = host_frame_header_parse(c->buf, 1, &header)) < 0) {
                        svc->refused++;
                        log_warning("serve: %s: %s: closing its stream", c->peer_name, vm_error_detail(ret));
                        if (host_error_encode(HOST_ERROR_MALFORMED, vm_error_detail(ret), frame, sizeof(frame),
                                              &frame_size) < 0)
                                frame_size = 0;
                        connection_refuse(c, frame, frame_size);
                        return;
                }
                c->need = HOST_FRAME_HEADER_SIZE + header.length;
                return;
        }
        ret = fresh_service_answer(svc, c->buf + HOST_FRAME_HEADER_SIZE, c->have - HOST_FRAME_HEADER_SIZE, c->peer,
                                   c->peer_name, now_ns(), frame, &frame_size, &close_after);
        if (ret >= 0 && close_after) {
                connection_refuse(c, frame, frame_size);
                return;
        }
        if (ret < 0 || !send_all(c->fd, frame, frame_size)) {
                if (ret >= 0)
                        log_warning("serve: %s: does not read its answers: closing its stream", c->peer_name);
                connection_close(c);
                return;
        }
        connection_reset(c, now_ns());
}

static void expire(struct connection *c, uint64_t now) {
        if (c->frame_deadline_ns && now > c->frame_deadline_ns) {
                log_warning("serve: %s: a frame not whole within %d s (%zu of %zu bytes): closing its stream",
                            c->peer_name, FRAME_TIMEOUT_MS / 1000, c->have, c->need);
                connection_close(c);
        } else if (c->vsock && !c->frame_deadline_ns && now - c->idle_since_ns > VSOCK_IDLE_MS * 1000000ull)
                connection_close(c);
}

static int serve_loop(struct fresh_service *svc, struct listener *listeners, unsigned nl, struct connection *conns,
                      unsigned max) {
        struct pollfd *fds = calloc(nl + max, sizeof(*fds));

        if (!fds)
                return -ENOMEM;
        while (!stopping) {
                unsigned n = 0;
                uint64_t now;

                for (unsigned i = 0; i < nl; i++)
                        fds[n++] = (struct pollfd){ .fd = listeners[i].fd, .events = POLLIN };
                for (unsigned i = 0; i < max; i++)
                        fds[n++] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
                if (poll(fds, n, 1000) < 0 && errno != EINTR) {
                        free(fds);
                        return vm_error(-errno, "poll: %m");
                }
                for (unsigned i = 0; i < nl; i++)
                        if (fds[i].revents & POLLIN)
                                accept_one(&listeners[i], i, conns, max);
                for (unsigned i = 0; i < max; i++)
                        if (conns[i].fd >= 0 && fds[nl + i].fd == conns[i].fd &&
                            fds[nl + i].revents & (POLLIN | POLLHUP | POLLERR))
                                connection_read(svc, &conns[i]);
                now = now_ns();
                for (unsigned i = 0; i < max; i++)
                        if (conns[i].fd >= 0)
                                expire(&conns[i], now);
        }
        free(fds);
        return 0;
}

/* --socket-mode: octal permission bits, 0-0777 (no set-id or sticky bit: a socket has no use
 * for them) */
static bool parse_socket_mode(const char *text, int *out) {
        size_t length = strlen(text);
        unsigned long v;

        if (length == 0 || length > 4 || strspn(text, "01234567") != length)
                return false;
        v = strtoul(text, NULL, 8);
        if (v > 0777)
                return false;
        *out = (int)v;
        return true;
}

static bool parse_count(const char *text, unsigned min, unsigned max, unsigned *out) {
        unsigned long v;
        char *end;

        v = strtoul(text, &end, 10);
        if (!*text || *end || v < min || v > max)
                return false;
        *out = (unsigned)v;
        return true;
}

int cmd_host_serve(int argc, char **argv, struct host_cli *cli) {
        static const struct option options[] = {
                { "listen", required_argument, NULL, 'l' },
                { "tcti", required_argument, NULL, 't' },
                { "pcrs", required_argument, NULL, 'p' },
                { "ak-handle", required_argument, NULL, 'a' },
                { "ek-name", required_argument, NULL, 'e' },
                { "rate", required_argument, NULL, 'r' },
                { "global-rate", required_argument, NULL, 'g' },
                { "max-connections", required_argument, NULL, 'm' },
                { "socket-mode", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *addresses[LISTENERS_MAX], *pcrs_arg = NULL, *ak_arg = NULL, *ek_arg = NULL;
        unsigned nl = 0, opened = 0, peer_rate = PEER_RATE_DEFAULT, global_rate = GLOBAL_RATE_DEFAULT,
                 max = CONNECTIONS_DEFAULT;
        struct listener listeners[LISTENERS_MAX];
        static struct fresh_service svc;
        struct connection *conns = NULL;
        struct host_config config;
        int socket_mode = SOCKET_MODE_UMASK;
        bool any_unix = false;
        struct sigaction sa = { .sa_handler = on_signal };
        char pcr_list[128];
        size_t decoded = 0;
        int opt, ret;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                switch (opt) {
                case 'l':
                        if (nl == LISTENERS_MAX)
                                return host_usage_error("serve", "more than %d --listen", LISTENERS_MAX);
                        addresses[nl++] = optarg;
                        break;
                case 't':
                        cli->tcti_option = optarg;
                        break;
                case 'p':
                        pcrs_arg = optarg;
                        break;
                case 'a':
                        ak_arg = optarg;
                        break;
                case 'e':
                        ek_arg = optarg;
                        break;
                case 'r':
                        if (!parse_count(optarg, 1, 10000, &peer_rate))
                                return host_usage_error("serve", "--rate \"%s\" is not 1-10000", optarg);
                        break;
                case 'g':
                        if (!parse_count(optarg, 1, 100000, &global_rate))
                                return host_usage_error("serve", "--global-rate \"%s\" is not 1-100000", optarg);
                        break;
                case 'm':
                        if (!parse_count(optarg, 1, CONNECTIONS_MAX, &max))
                                return host_usage_error("serve", "--max-connections \"%s\" is not 1-%d", optarg,
                                                        CONNECTIONS_MAX);
                        break;
                case 's':
                        if (!parse_socket_mode(optarg, &socket_mode))
                                return host_usage_error("serve", "--socket-mode \"%s\" is not an octal mode 0-0777",
                                                        optarg);
                        break;
                case 'h':
                        fputs(serve_help, stdout);
                        return EXIT_OK;
                default:
                        return host_bad_option("serve", opt, argv);
                }
        }
        if (optind != argc)
                return host_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);
        if (nl == 0)
                return host_usage_error("serve", "--listen is required (vsock:PORT or unix:PATH)");
        for (unsigned i = 0; i < nl; i++)
                any_unix |= strncmp(addresses[i], "unix:", 5) == 0;
        if (socket_mode != SOCKET_MODE_UMASK && !any_unix)
                return host_usage_error("serve", "--socket-mode is for unix:PATH listeners, and there is none");
        if ((ret = host_cli_load_config(cli, "serve", &(struct host_overrides){ .pcrs = pcrs_arg, .ak_handle = ak_arg },
                                        &config)) != EXIT_OK)
                return ret;
        memset(&svc, 0, sizeof(svc));
        if (ek_arg) {
                if (hex_decode(ek_arg, strlen(ek_arg), svc.pinned_ek.name, sizeof(svc.pinned_ek.name), &decoded) < 0 ||
                    (svc.pinned_ek.size = (UINT16)decoded, host_binding_name_check(&svc.pinned_ek) < 0))
                        return host_usage_error("serve", "--ek-name \"%.80s\" is not a Name in hex (nameAlg || digest)",
                                                ek_arg);
        }
        rate_limit_init(&svc.rate, peer_rate, global_rate);
        pcr_mask_format(config.pcrs, pcr_list, sizeof(pcr_list));

        if ((ret = fresh_service_open(&svc, host_cli_tcti(cli, &config), config.ak_handle, config.pcrs)) < 0) {
                log_error("serve: %s", vm_error_detail(ret));
                fresh_service_close(&svc);
                return ret == -ENODEV ? EXIT_NO_TPM : EXIT_FAILED;
        }
        for (; opened < nl; opened++)
                if ((ret = listener_open(addresses[opened], socket_mode, &listeners[opened])) < 0) {
                        log_error("serve: %s", vm_error_detail(ret));
                        listener_close(&listeners[opened]);
                        break;
                }
        if (ret >= 0 && !(conns = calloc(max, sizeof(*conns))))
                ret = -ENOMEM;
        if (ret >= 0) {
                for (unsigned i = 0; i < max; i++)
                        conns[i].fd = -1;
                sigaction(SIGTERM, &sa, NULL);
                sigaction(SIGINT, &sa, NULL);
                signal(SIGPIPE, SIG_IGN);
                for (unsigned i = 0; i < nl; i++)
                        if (listeners[i].family == AF_UNIX && listeners[i].socket_mode != SOCKET_MODE_UMASK)
                                log_info("serve: listening on %s (mode %04o)", listeners[i].name,
                                         (unsigned)listeners[i].socket_mode);
                        else
                                log_info("serve: listening on %s", listeners[i].name);
                log_info("serve: host AK 0x%08x, host PCRs sha256:%s, %u requests/s per peer, %u in all%s",
                         config.ak_handle, pcr_list, peer_rate, global_rate,
                         svc.pinned_ek.size ? ", for one EK (--ek-name)" : "");
                ret = serve_loop(&svc, listeners, nl, conns, max);
                log_info("serve: stopping: %lu bindings served, %lu requests refused", svc.served, svc.refused);
        }
        for (unsigned i = 0; conns && i < max; i++)
                if (conns[i].fd >= 0)
                        close(conns[i].fd);
        free(conns);
        for (unsigned i = 0; i < opened; i++)
                listener_close(&listeners[i]);
        fresh_service_close(&svc);
        if (ret < 0) {
                if (opened == nl)
                        log_error("serve: %s", vm_error_detail(ret));
                return EXIT_FAILED;
        }
        return EXIT_OK;
}
