/* Hostile HTTP clients for the listener tests, on 127.0.0.1:
 *   slow-client trickle PORT INTERVAL_MS MAX_SECONDS
 *     sends a request's header one byte every INTERVAL_MS (each byte resets an inactivity timer)
 *     and prints "closed after S.S s" when the server closes the connection (exit 0), or
 *     "open after MAX_SECONDS s" (exit 1).
 *   slow-client hold PORT COUNT SECONDS
 *     opens COUNT connections and sends nothing; after 1 s prints "opened N closed M" (M: those
 *     the server closed or reset in that second), keeps the others open for SECONDS more, then
 *     closes them all. Exit 0 when COUNT connected, 1 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HOLD_MAX 4096

static int connect_port(int port) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True when the server closed or reset `fd` (it sends nothing before a whole request). */
static bool peer_closed(int fd, int wait_ms) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        char byte;

        if (poll(&pfd, 1, wait_ms) <= 0)
                return false;
        return recv(fd, &byte, 1, MSG_DONTWAIT) <= 0;
}

static int trickle(int port, int interval_ms, int max_seconds) {
        static const char header[] = "GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        double start = now_s();
        size_t sent = 0;
        int fd = connect_port(port);

        if (fd < 0)
                return perror("slow-client: connect"), 2;
        while (now_s() - start < max_seconds) {
                /* the last byte is never sent: the request stays incomplete */
                if (sent < sizeof(header) - 2 && send(fd, header + sent, 1, MSG_NOSIGNAL) == 1)
                        sent++;
                if (peer_closed(fd, interval_ms)) {
                        printf("closed after %.1f s\n", now_s() - start);
                        return 0;
                }
        }
        printf("open after %d s\n", max_seconds);
        return 1;
}

static int hold(int port, int count, int seconds) {
        static int fds[HOLD_MAX];
        struct rlimit files;
        int opened = 0, closed = 0;

        if (count > HOLD_MAX)
                count = HOLD_MAX;
        /* the test's shell may have a low soft limit; the tool needs one descriptor each */
        if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
                files.rlim_cur = files.rlim_max;
                setrlimit(RLIMIT_NOFILE, &files);
        }
        for (int i = 0; i < count; i++) {
                fds[opened] = connect_port(port);
                if (fds[opened] >= 0)
                        opened++;
        }
        sleep(1);
        for (int i = 0; i < opened; i++)
                if (peer_closed(fds[i], 0)) {
                        close(fds[i]);
                        fds[i] = -1;
                        closed++;
                }
        printf("opened %d closed %d\n", opened, closed);
        fflush(stdout);
        sleep((unsigned)seconds);
        for (int i = 0; i < opened; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return opened == count ? 0 : 1;
}

int main(int argc, char **argv) {
        if (argc == 5 && strcmp(argv[1], "trickle") == 0)
                return trickle(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
        if (argc == 5 && strcmp(argv[1], "hold") == 0)
                return hold(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
        fprintf(stderr, "Usage: slow-client trickle PORT INTERVAL_MS MAX_SECONDS\n"
                        "       slow-client hold PORT COUNT SECONDS\n");
        return 2;
}
