/* Runs a command once and prints "<wall microseconds> <peak RSS KiB> <exit status>": the
 * timing and memory probe of make bench (getrusage of the child, so nothing else counts).
 * The command's stdout is discarded; its stderr is left alone. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        struct timespec start, end;
        struct rusage usage;
        int status;
        pid_t pid;

        if (argc < 2) {
                fprintf(stderr, "Usage: bench-exec COMMAND [ARGS...]\n");
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &start);
        pid = fork();
        if (pid < 0)
                return perror("fork"), 1;
        if (pid == 0) {
                /* the command's own output would mix with the measurement line */
                int devnull = open("/dev/null", O_WRONLY);

                if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0)
                        _exit(127);
                execvp(argv[1], argv + 1);
                perror(argv[1]);
                _exit(127);
        }
        if (wait4(pid, &status, 0, &usage) < 0)
                return perror("wait4"), 1;
        clock_gettime(CLOCK_MONOTONIC, &end);
        printf("%lld %ld %d\n",
               (long long)(end.tv_sec - start.tv_sec) * 1000000 + (end.tv_nsec - start.tv_nsec) / 1000,
               usage.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return 0;
}
