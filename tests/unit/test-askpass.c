/* askpass: systemd's password agent protocol, against a real datagram socket and request file
 * laid out as systemd-cryptsetup writes them; requests that are not root's, or whose Socket= is
 * not root's socket in the directory, are refused with a reason. Runs as root (the files are
 * made someone else's with chown). */
#include "tests/unit/unit.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/askpass.h"

#define UUID "5f1e2d3c-0000-4000-8000-00000000abcd"

struct fixture {
        char dir[64];
        char socket_path[128];
        int fd;
};

#define NOBODY 65534

/* A datagram socket bound at `path`; its descriptor. */
static int bound_socket(const char *path) {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

        assert_true(fd >= 0);
        strcpy(addr.sun_path, path);
        assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
        return fd;
}

/* A request for the test's volume on `socket_path`, written at `path` as systemd-cryptsetup does. */
static void write_ask(const char *path, const char *socket_path) {
        FILE *file = fopen(path, "w");

        assert_non_null(file);
        fprintf(file, "[Ask]\nPID=1\nSocket=%s\nAcceptCached=1\nEcho=0\nNotAfter=0\nId=cryptsetup:/dev/disk/by-uuid/" UUID
                      "\nMessage=Please enter passphrase for disk root\n",
                socket_path);
        assert_int_equal(fclose(file), 0);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        char ask[256];

        strcpy(f->dir, "/tmp/vmattest-askpass-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->socket_path, sizeof(f->socket_path), "%s/sck.1", f->dir);
        f->fd = bound_socket(f->socket_path);
        snprintf(ask, sizeof(ask), "%s/ask.1", f->dir);
        write_ask(ask, f->socket_path);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char cmd[128];

        close(f->fd);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static void test_finds_and_answers(void **state) {
        struct fixture *f = *state;
        struct askpass_request req;
        char got[64];
        ssize_t n;

        assert_int_equal(askpass_find(f->dir, UUID, &req), 0);
        assert_string_equal(req.socket, f->socket_path);
        assert_int_equal(askpass_answer(&req, (const uint8_t *)"s3cret", 6), 0);
        n = recv(f->fd, got, sizeof(got), 0);
        assert_int_equal(n, 7);
        assert_memory_equal(got, "+s3cret", 7);
}

static void test_other_volumes_are_not_answered(void **state) {
        struct fixture *f = *state;
        struct askpass_request req;

        assert_int_equal(askpass_find(f->dir, "00000000-0000-4000-8000-000000000000", &req), -ENOENT);
        assert_int_equal(askpass_find(f->dir, "/dev/disk/by-uuid/" UUID, &req), 0);
        assert_int_equal(askpass_find("/nonexistent", UUID, &req), -ENOENT);
}

static void test_expired_or_foreign_requests(void **state) {
        struct askpass_request req = { .id = "cryptsetup:/dev/disk/by-uuid/" UUID, .socket = "/run/x", .not_after = 1 };

        assert_false(askpass_matches(&req, UUID)); /* NotAfter long past */
        req.not_after = 0;
        assert_true(askpass_matches(&req, UUID));
        strcpy(req.id, "home:/dev/disk/by-uuid/" UUID);
        assert_false(askpass_matches(&req, UUID)); /* not a cryptsetup request */
}

static void test_hostile_requests(void **state) {
        static const char *const bad[] = {
                "",
                "[Ask]\nId=cryptsetup:x\n",                          /* no Socket */
                "[Ask]\nSocket=/run/s\n",                            /* no Id */
                "[Other]\nId=cryptsetup:x\nSocket=/run/s\n",         /* not [Ask] */
                "[Ask]\nId=cryptsetup:x\nSocket=relative\n",         /* not absolute */
                "[Ask]\nId=cryptsetup:x\nSocket=/run/s\nNotAfter=soon\n",
                "[Ask\nId=x\n",
        };
        char longsock[300];
        struct askpass_request req;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(askpass_parse(bad[i], strlen(bad[i]), &req), -EBADMSG);
        snprintf(longsock, sizeof(longsock), "[Ask]\nId=cryptsetup:x\nSocket=/%0150d\n", 0);
        assert_error(askpass_parse(longsock, strlen(longsock), &req), -EBADMSG, "sun_path");
}

static void test_key_size_limits(void **state) {
        struct askpass_request req = { .socket = "/nonexistent/socket" };

        assert_int_equal(askpass_answer(&req, (const uint8_t *)"", 0), -EINVAL);
        assert_true(askpass_answer(&req, (const uint8_t *)"k", 1) < 0); /* nobody listening */
}

/* The fixture's only request, rewritten to name `socket_path`: refused, the reason containing
 * `word`, and nothing sent to the genuine socket. */
static void assert_refused(struct fixture *f, const char *socket_path, const char *word) {
        struct askpass_request req;
        char ask[256], got[8];

        snprintf(ask, sizeof(ask), "%s/ask.1", f->dir);
        write_ask(ask, socket_path);
        assert_error(askpass_find(f->dir, UUID, &req), -EPERM, word);
        assert_detail_contains(-EPERM, ask);
        assert_int_equal(recv(f->fd, got, sizeof(got), MSG_DONTWAIT), -1);
}

static void test_socket_outside_the_directory(void **state) {
        struct fixture *f = *state;
        char other[64], elsewhere[128], sub[128], dotdot[256];
        int fd_elsewhere, fd_sub;

        /* root's socket, but in a directory of its own: another process's, not systemd's */
        strcpy(other, "/tmp/vmattest-askpass-other-XXXXXX");
        assert_non_null(mkdtemp(other));
        snprintf(elsewhere, sizeof(elsewhere), "%s/sck.1", other);
        fd_elsewhere = bound_socket(elsewhere);
        assert_refused(f, elsewhere, "is not a socket in");
        /* the same socket reached from the directory through ".." */
        snprintf(dotdot, sizeof(dotdot), "%s/../%s/sck.1", f->dir, other + strlen("/tmp/"));
        assert_refused(f, dotdot, "is not a socket in");
        /* a subdirectory of the directory */
        snprintf(sub, sizeof(sub), "%s/sub", f->dir);
        assert_int_equal(mkdir(sub, 0700), 0);
        strcat(sub, "/sck.1");
        fd_sub = bound_socket(sub);
        assert_refused(f, sub, "is not a socket in");
        /* the directory itself, and a prefix of its name that is not it */
        assert_refused(f, f->dir, "is not a socket in");
        snprintf(sub, sizeof(sub), "%s-x/sck.1", f->dir);
        assert_refused(f, sub, "is not a socket in");
        close(fd_elsewhere);
        close(fd_sub);
        snprintf(dotdot, sizeof(dotdot), "rm -rf %s", other);
        assert_int_equal(system(dotdot), 0);
}

static void test_socket_not_roots_or_not_a_socket(void **state) {
        struct fixture *f = *state;
        char link[128], plain[128];
        FILE *file;

        /* a symlink in the directory to the genuine socket */
        snprintf(link, sizeof(link), "%s/sck.link", f->dir);
        assert_int_equal(symlink(f->socket_path, link), 0);
        assert_refused(f, link, "a symlink");
        /* a regular file where the socket should be */
        snprintf(plain, sizeof(plain), "%s/sck.file", f->dir);
        file = fopen(plain, "w");
        assert_non_null(file);
        fclose(file);
        assert_refused(f, plain, "not a socket");
        /* no such socket */
        snprintf(plain, sizeof(plain), "%s/sck.gone", f->dir);
        assert_refused(f, plain, "No such file");
        /* the genuine socket, once it is no longer root's */
        assert_int_equal(chown(f->socket_path, NOBODY, NOBODY), 0);
        assert_refused(f, f->socket_path, "owned by uid 65534, not root");
}

static void test_ask_file_not_roots(void **state) {
        struct fixture *f = *state;
        struct askpass_request req;
        char ask[256], elsewhere[128], got[8];

        /* the request file made someone else's */
        snprintf(ask, sizeof(ask), "%s/ask.1", f->dir);
        assert_int_equal(chown(ask, NOBODY, NOBODY), 0);
        assert_error(askpass_find(f->dir, UUID, &req), -EPERM, "owned by uid 65534, not root");
        /* a symlink to a genuine-looking request elsewhere */
        snprintf(elsewhere, sizeof(elsewhere), "%s/request", f->dir);
        write_ask(elsewhere, f->socket_path);
        assert_int_equal(unlink(ask), 0);
        assert_int_equal(symlink(elsewhere, ask), 0);
        assert_error(askpass_find(f->dir, UUID, &req), -EPERM, "is a symlink");
        assert_int_equal(recv(f->fd, got, sizeof(got), MSG_DONTWAIT), -1);
        /* a directory that is not root's alone: nothing in it is answered */
        snprintf(ask, sizeof(ask), "%s/ask.2", f->dir);
        write_ask(ask, f->socket_path);
        assert_int_equal(chmod(f->dir, 0777), 0);
        assert_error(askpass_find(f->dir, UUID, &req), -EPERM, "is not root's alone (owner uid 0, mode 0777)");
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_int_equal(chown(f->dir, NOBODY, NOBODY), 0);
        assert_error(askpass_find(f->dir, UUID, &req), -EPERM, "is not root's alone (owner uid 65534");
        assert_int_equal(chown(f->dir, 0, 0), 0);
        /* the genuine request beside a refused one is still answered */
        snprintf(ask, sizeof(ask), "%s/ask.2", f->dir);
        write_ask(ask, f->socket_path);
        assert_int_equal(askpass_find(f->dir, UUID, &req), 0);
        assert_string_equal(req.socket, f->socket_path);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_finds_and_answers),
                T(test_other_volumes_are_not_answered),
                T(test_socket_outside_the_directory),
                T(test_socket_not_roots_or_not_a_socket),
                T(test_ask_file_not_roots),
                cmocka_unit_test(test_expired_or_foreign_requests),
                cmocka_unit_test(test_hostile_requests),
                cmocka_unit_test(test_key_size_limits),
        };
#undef T
        return cmocka_run_group_tests_name("askpass", tests, NULL, NULL);
}
