/* Stands in for systemd-cryptsetup in tests: writes DIR/ask.1 asking for
 * cryptsetup:/dev/disk/by-uuid/UUID on DIR/sck.1, waits up to SECONDS for the answer datagram,
 * and writes what came to OUT (without the leading '+'). Exit 0 answered, 1 not.
 * Usage: askpass-listen DIR UUID SECONDS OUT */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        char path[200], tmp[220], answer[70000];
        struct pollfd pfd;
        FILE *f;
        ssize_t n;
        int fd;

        if (argc != 5) {
                fprintf(stderr, "Usage: askpass-listen DIR UUID SECONDS OUT\n");
                return 2;
        }
        snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/sck.1", argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        unlink(addr.sun_path);
        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                return perror("askpass-listen: bind"), 1;
        /* written whole, then renamed: the agent never reads half a request */
        snprintf(path, sizeof(path), "%s/ask.1", argv[1]);
        snprintf(tmp, sizeof(tmp), "%s/.ask.tmp", argv[1]);
        f = fopen(tmp, "w");
        if (!f)
                return perror(tmp), 1;
        fprintf(f, "[Ask]\nPID=%d\nSocket=%s\nAcceptCached=1\nEcho=0\nNotAfter=0\nId=cryptsetup:/dev/disk/by-uuid/%s\n"
                   "Message=Please enter passphrase for disk root\n",
                (int)getpid(), addr.sun_path, argv[2]);
        fclose(f);
        rename(tmp, path);
        pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, atoi(argv[3]) * 1000) != 1)
                return unlink(path), 1;
        n = recv(fd, answer, sizeof(answer), 0);
        unlink(path);
        if (n < 1 || answer[0] != '+')
                return 1;
        f = fopen(argv[4], "wb");
        if (!f || fwrite(answer + 1, 1, (size_t)n - 1, f) != (size_t)n - 1)
                return 1;
        return fclose(f) != 0;
}
