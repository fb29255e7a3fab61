/* askpass: systemd's password agent protocol, against a real datagram socket and request file
 * laid out as systemd-cryptsetup writes them. */
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

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        char ask[256];
        FILE *file;

        strcpy(f->dir, "/tmp/vmattest-askpass-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->socket_path, sizeof(f->socket_path), "%s/sck.1", f->dir);
        f->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
        strcpy(addr.sun_path, f->socket_path);
        assert_int_equal(bind(f->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
        snprintf(ask, sizeof(ask), "%s/ask.1", f->dir);
        file = fopen(ask, "w");
        fprintf(file, "[Ask]\nPID=1\nSocket=%s\nAcceptCached=1\nEcho=0\nNotAfter=0\nId=cryptsetup:/dev/disk/by-uuid/" UUID
                      "\nMessage=Please enter passphrase for disk root\n",
                f->socket_path);
        fclose(file);
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

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_finds_and_answers),
                T(test_other_volumes_are_not_answered),
                cmocka_unit_test(test_expired_or_foreign_requests),
                cmocka_unit_test(test_hostile_requests),
                cmocka_unit_test(test_key_size_limits),
        };
#undef T
        return cmocka_run_group_tests_name("askpass", tests, NULL, NULL);
}
