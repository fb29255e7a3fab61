/* lib/event_wipe.c: libevent's blocks are wiped before they are freed, however libevent moves a
 * body between its chains (pullup, remove_buffer, drain), and a request's input buffer is
 * wiped in place. The allocator hook sees each block as free() would take it. */
#include "tests/unit/unit.h"

#include <event2/buffer.h>
#include <stdbool.h>

#include "lib/event_wipe.h"

static size_t released, released_dirty;

static void inspect_release(const void *block, size_t size) {
        const unsigned char *bytes = block;

        released++;
        for (size_t i = 0; i < size; i++)
                if (bytes[i]) {
                        released_dirty++;
                        return;
                }
}

/* A body over several chains, as a TLS listener reads one: record by record. */
static struct evbuffer *body_in_chains(const char *piece, size_t pieces) {
        struct evbuffer *body = evbuffer_new();

        assert_non_null(body);
        for (size_t i = 0; i < pieces; i++) {
                struct evbuffer *record = evbuffer_new();

                assert_non_null(record);
                assert_int_equal(evbuffer_add(record, piece, strlen(piece)), 0);
                assert_int_equal(evbuffer_add_buffer(body, record), 0);
                evbuffer_free(record);
        }
        return body;
}

static void test_freed_blocks_wiped(void **state) {
        char piece[3000];
        struct evbuffer *body, *moved = evbuffer_new();

        memset(piece, 'S', sizeof(piece) - 1);
        piece[sizeof(piece) - 1] = '\0';
        released = released_dirty = 0;
        event_wipe_release_hook(inspect_release);
        body = body_in_chains(piece, 4);
        /* evhttp's ways with a body: part of it moved (a copy of the chain it splits), the rest
         * made contiguous (a new chain, the old ones freed), then freed */
        assert_int_equal(evbuffer_remove_buffer(body, moved, 4500), 4500);
        assert_non_null(evbuffer_pullup(body, -1));
        assert_non_null(evbuffer_pullup(moved, -1));
        assert_int_equal(evbuffer_drain(moved, 100), 0);
        evbuffer_free(body);
        evbuffer_free(moved);
        event_wipe_release_hook(NULL);
        assert_true(released > 0);
        assert_int_equal(released_dirty, 0);
}

static void test_buffer_wiped_in_place(void **state) {
        static const char piece[] = "{\"payload\":\"c2VjcmV0LWtleS1ieXRlcw==\"}";
        struct evbuffer *body = body_in_chains(piece, 3);
        unsigned char copy[3 * sizeof(piece)];
        size_t size = evbuffer_get_length(body);

        event_wipe_buffer(body);
        assert_int_equal(evbuffer_get_length(body), size);
        assert_int_equal(evbuffer_copyout(body, copy, size), (ev_ssize_t)size);
        for (size_t i = 0; i < size; i++)
                assert_int_equal(copy[i], 0);
        evbuffer_free(body);
        /* empty: nothing to do */
        body = evbuffer_new();
        event_wipe_buffer(body);
        assert_int_equal(evbuffer_get_length(body), 0);
        evbuffer_free(body);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_freed_blocks_wiped),
                cmocka_unit_test(test_buffer_wiped_in_place),
        };

        /* as the agent and the verifier do: before libevent allocates anything */
        event_wipe_setup();
        return cmocka_run_group_tests_name("event_wipe", tests, NULL, NULL);
}
