/* lib/notify.c: the datagrams a service manager would read, on a real AF_UNIX datagram socket
 * (a path and an abstract name), and nothing at all without NOTIFY_SOCKET. */
#include "tests/unit/unit.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/notify.h"

struct listener {
        int fd;
        char name[108]; /* as NOTIFY_SOCKET names it */
        char dir[64];
};

/* A datagram socket bound where NOTIFY_SOCKET will say: a path in a fresh directory, or an
 * abstract name ('@...'). */
static void listener_open(struct listener *l, bool abstract) {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        socklen_t len;

        l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(l->fd >= 0);
        l->dir[0] = '\0';
        if (abstract) {
                snprintf(l->name, sizeof(l->name), "@vmattest-test-notify-%d", (int)getpid());
                memcpy(addr.sun_path, l->name, strlen(l->name));
                addr.sun_path[0] = '\0';
                len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(l->name));
        } else {
                snprintf(l->dir, sizeof(l->dir), "/tmp/vmattest-notify.XXXXXX");
                assert_non_null(mkdtemp(l->dir));
                snprintf(l->name, sizeof(l->name), "%s/notify", l->dir);
                snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", l->name);
                len = sizeof(addr);
        }
        assert_int_equal(bind(l->fd, (struct sockaddr *)&addr, len), 0);
        assert_int_equal(setenv("NOTIFY_SOCKET", l->name, 1), 0);
}

static void listener_close(struct listener *l) {
        close(l->fd);
        if (l->dir[0]) {
                unlink(l->name);
                rmdir(l->dir);
        }
        unsetenv("NOTIFY_SOCKET");
}

/* The next datagram, as text; "" when none is waiting. */
static void listener_next(struct listener *l, char *out, size_t size) {
        ssize_t n = recv(l->fd, out, size - 1, MSG_DONTWAIT);

        out[n > 0 ? n : 0] = '\0';
}

static void test_path_socket(void **state) {
        struct listener l;
        char got[1024];

        listener_open(&l, false);
        assert_int_equal(notify_status("registering with %s", "http://127.0.0.1:8890"), 0);
        assert_int_equal(notify_ready(), 0);
        assert_int_equal(notify_stopping(), 0);
        listener_next(&l, got, sizeof(got));
        assert_string_equal(got, "STATUS=registering with http://127.0.0.1:8890");
        listener_next(&l, got, sizeof(got));
        assert_string_equal(got, "READY=1");
        listener_next(&l, got, sizeof(got));
        assert_string_equal(got, "STOPPING=1");
        listener_next(&l, got, sizeof(got));
        assert_string_equal(got, "");
        listener_close(&l);
}

static void test_abstract_socket(void **state) {
        struct listener l;
        char got[1024];

        listener_open(&l, true);
        assert_int_equal(notify_ready(), 0);
        listener_next(&l, got, sizeof(got));
        assert_string_equal(got, "READY=1");
        listener_close(&l);
}

/* A peer's newline in the text must not become a variable of its own (READY=1 before the
 * service is ready), and a long text is cut, not sent past the bound. */
static void test_status_one_line_bounded(void **state) {
        struct listener l;
        char got[1024], long_text[NOTIFY_STATUS_MAX * 3];

        listener_open(&l, false);
        assert_int_equal(notify_status("waiting for registrar: %s", "HTTP 500\nREADY=1"), 0);
        listener_next(&l, got, sizeof(got));
        assert_string_equal(got, "STATUS=waiting for registrar: HTTP 500\\x0aREADY=1");
        memset(long_text, 'x', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = '\0';
        assert_int_equal(notify_status("%s", long_text), 0);
        listener_next(&l, got, sizeof(got));
        assert_int_equal(strlen(got), strlen("STATUS=") + NOTIFY_STATUS_MAX);
        assert_int_equal(notify_send(long_text), -EMSGSIZE);
        listener_next(&l, got, sizeof(got));
        assert_string_equal(got, "");
        listener_close(&l);
}

/* Not under systemd: nothing is sent, nothing fails. */
static void test_unset_is_noop(void **state) {
        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(notify_ready(), 0);
        assert_int_equal(notify_status("serving on port %u", 9002u), 0);
        assert_int_equal(notify_stopping(), 0);
}

/* A socket that is gone, or an address that is none: an error for the caller to ignore. */
static void test_bad_socket_is_error(void **state) {
        setenv("NOTIFY_SOCKET", "/nonexistent/vmattest/notify", 1);
        assert_int_equal(notify_ready(), -ENOENT);
        setenv("NOTIFY_SOCKET", "relative/notify", 1);
        assert_int_equal(notify_ready(), -EAFNOSUPPORT);
        setenv("NOTIFY_SOCKET", "@", 1);
        assert_int_equal(notify_ready(), -ENAMETOOLONG);
        unsetenv("NOTIFY_SOCKET");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_socket),
                cmocka_unit_test(test_abstract_socket),
                cmocka_unit_test(test_status_one_line_bounded),
                cmocka_unit_test(test_unset_is_noop),
                cmocka_unit_test(test_bad_socket_is_error),
        };

        return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
