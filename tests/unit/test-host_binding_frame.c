/* lib/host_binding_frame (the fresh mode's frames, docs/protocol.md §5.9) and host/rate_limit:
 * the frames round-trip; a hostile header (magic, version, type, a length beyond its type's
 * bound), a request cut anywhere, with bytes after it, an empty or oversized nonce or a Name
 * that is not nameAlg || digest, and an error frame with unprintable bytes are all refused by
 * name; the rate limits refuse past their burst, refill with time, and keep a bounded table. */
#include "tests/unit/unit.h"

#include "host/rate_limit.h"
#include "lib/host_binding_frame.h"

static void sha256_name(TPM2B_NAME *name, uint8_t fill) {
        name->size = 34;
        name->name[0] = 0x00;
        name->name[1] = 0x0b;
        memset(name->name + 2, fill, 32);
}

static size_t good_request(uint8_t *frame, size_t cap) {
        struct host_request req = { .nonce_size = 20 };
        size_t size = 0;

        memcpy(req.nonce, "abcdefghij0123456789", 20);
        sha256_name(&req.ek_name, 0xa5);
        assert_int_equal(host_request_encode(&req, frame, cap, &size), 0);
        return size;
}

static void test_request_round_trip(void **state) {
        uint8_t frame[HOST_FRAME_HEADER_SIZE + HOST_REQUEST_BODY_MAX];
        size_t size = good_request(frame, sizeof(frame));
        struct host_frame_header h;
        struct host_request req;

        assert_int_equal(size, HOST_FRAME_HEADER_SIZE + 2 + 20 + 2 + 34);
        assert_memory_equal(frame, "VMHQ\x00\x01\x00\x01", 8);
        assert_int_equal(host_frame_header_parse(frame, 1, &h), 0);
        assert_int_equal(h.type, HOST_FRAME_REQUEST);
        assert_int_equal(h.length, size - HOST_FRAME_HEADER_SIZE);
        assert_int_equal(host_request_parse(frame + HOST_FRAME_HEADER_SIZE, h.length, &req), 0);
        assert_int_equal(req.nonce_size, 20);
        assert_memory_equal(req.nonce, "abcdefghij0123456789", 20);
        assert_int_equal(req.ek_name.size, 34);
        /* the host does not take a guest's answer frames, the guest no request */
        assert_error(host_frame_header_parse(frame, 0, &h), -EBADMSG, "type 1 is not a binding (2) or an error (3)");
}

static void test_hostile_header(void **state) {
        uint8_t frame[HOST_FRAME_HEADER_SIZE + HOST_REQUEST_BODY_MAX];
        struct host_frame_header h;

        good_request(frame, sizeof(frame));
        frame[0] = 'X';
        assert_error(host_frame_header_parse(frame, 1, &h), -EBADMSG, "magic");
        frame[0] = 'V';
        frame[5] = 2;
        assert_error(host_frame_header_parse(frame, 1, &h), -EBADMSG, "version 2 is not 1");
        frame[5] = 1;
        frame[7] = 3;
        assert_error(host_frame_header_parse(frame, 1, &h), -EBADMSG, "type 3 is not a request");
        frame[7] = 1;
        /* a length past the request's bound is refused before a byte of the body is read */
        memcpy(frame + 8, "\xff\xff\xff\xff", 4);
        assert_error(host_frame_header_parse(frame, 1, &h), -EBADMSG, "length 4294967295");
        memcpy(frame + 8, "\x00\x00\x00\x00", 4);
        assert_error(host_frame_header_parse(frame, 1, &h), -EBADMSG, "length 0");
        frame[11] = (uint8_t)(HOST_REQUEST_BODY_MAX + 1);
        assert_error(host_frame_header_parse(frame, 1, &h), -EBADMSG, "not 1-");
        frame[11] = (uint8_t)HOST_REQUEST_BODY_MAX;
        assert_int_equal(host_frame_header_parse(frame, 1, &h), 0);
}

static void test_hostile_request(void **state) {
        uint8_t frame[HOST_FRAME_HEADER_SIZE + HOST_REQUEST_BODY_MAX + 1];
        size_t size = good_request(frame, sizeof(frame)), body = size - HOST_FRAME_HEADER_SIZE;
        uint8_t *b = frame + HOST_FRAME_HEADER_SIZE;
        struct host_request req;

        for (size_t n = 0; n < body; n++)
                assert_error(host_request_parse(b, n, &req), -EBADMSG, "host service request");
        b[body] = 0;
        assert_error(host_request_parse(b, body + 1, &req), -EBADMSG, "host service request");
        b[1] = 0;
        assert_error(host_request_parse(b, body, &req), -EBADMSG, "nonce of 0 bytes");
        b[1] = 65;
        assert_error(host_request_parse(b, body, &req), -EBADMSG, "nonce of 65 bytes");
        b[1] = 20;
        b[2 + 20 + 1] = 35; /* a Name longer than its nameAlg's digest */
        assert_error(host_request_parse(b, body, &req), -EBADMSG, "host service request");
        b[2 + 20] = 0xff; /* EK name size 0xff23: more than a Name holds */
        assert_error(host_request_parse(b, body, &req), -EBADMSG, "more than a Name holds");
        b[2 + 20] = 0;
        b[2 + 20 + 1] = 34;
        b[2 + 20 + 2 + 1] = 0x99; /* nameAlg 0x0099 */
        assert_error(host_request_parse(b, body, &req), -EBADMSG, "nameAlg 0x0099");
        b[2 + 20 + 2 + 1] = 0x0b;
        assert_int_equal(host_request_parse(b, body, &req), 0);
        /* what the agent would send is bounded too */
        req.nonce_size = 0;
        assert_error(host_request_encode(&req, frame, sizeof(frame), &size), -EINVAL, "nonce of 0 bytes");
}

static void test_error_frame(void **state) {
        uint8_t frame[HOST_FRAME_MAX], *b = frame + HOST_FRAME_HEADER_SIZE;
        char long_message[400];
        struct host_frame_header h;
        struct host_error e;
        size_t size = 0;

        assert_int_equal(host_error_encode(HOST_ERROR_RATE_LIMITED, "rate limited\n\x01", frame, sizeof(frame), &size),
                         0);
        assert_int_equal(host_frame_header_parse(frame, 0, &h), 0);
        assert_int_equal(h.type, HOST_FRAME_ERROR);
        assert_int_equal(host_error_parse(b, h.length, &e), 0);
        assert_int_equal(e.code, HOST_ERROR_RATE_LIMITED);
        assert_string_equal(e.message, "rate limited??"); /* unprintable bytes never travel */
        assert_string_equal(host_error_code_name(e.code), "rate limited");
        b[4 + 3] = 0x1b; /* an escape sequence from a hostile host */
        assert_error(host_error_parse(b, h.length, &e), -EBADMSG, "not printable ASCII");
        b[2] = 0x01; /* message size 0x01xx: past the bound */
        assert_error(host_error_parse(b, h.length, &e), -EBADMSG, "more than 256");
        memset(long_message, 'x', sizeof(long_message) - 1);
        long_message[sizeof(long_message) - 1] = '\0';
        assert_int_equal(host_error_encode(HOST_ERROR_HOST_TPM, long_message, frame, sizeof(frame), &size), 0);
        assert_int_equal(size, HOST_FRAME_HEADER_SIZE + 4 + HOST_FRAME_MESSAGE_MAX);
        /* a binding frame: its length bound is the blob's */
        assert_int_equal(host_binding_frame_encode(b, HOST_BINDING_MAX_SIZE, frame, sizeof(frame), &size), 0);
        assert_int_equal(host_frame_header_parse(frame, 0, &h), 0);
        frame[10] = 0x08;
        frame[11] = 0x01; /* 2049 */
        assert_error(host_frame_header_parse(frame, 0, &h), -EBADMSG, "length 2049");
        assert_error(host_binding_frame_encode(b, 0, frame, sizeof(frame), &size), -EINVAL, "binding of 0 bytes");
}

static void test_rate_limit(void **state) {
        static struct rate_limit rl;
        const char *which = NULL;
        bool first = false;
        uint64_t t = 1000000000ull;

        rate_limit_init(&rl, 2, 3);
        assert_true(rate_limit_take(&rl, 1, t, &which, &first));
        assert_true(rate_limit_take(&rl, 1, t, &which, &first));
        assert_false(rate_limit_take(&rl, 1, t, &which, &first));
        assert_string_equal(which, "peer");
        assert_true(first);
        assert_false(rate_limit_take(&rl, 1, t, &which, &first));
        assert_false(first); /* said once */
        /* another peer has its own bucket, until the global one is empty */
        assert_true(rate_limit_take(&rl, 2, t, &which, &first));
        assert_false(rate_limit_take(&rl, 2, t, &which, &first));
        assert_string_equal(which, "global");
        /* half a second later: one more each (2/s per peer), the global bucket 1.5 */
        t += 500000000ull;
        assert_true(rate_limit_take(&rl, 1, t, &which, &first));
        assert_false(rate_limit_take(&rl, 1, t, &which, &first));
        /* a long silence refills to the burst, no more */
        t += 3600 * 1000000000ull;
        assert_true(rate_limit_take(&rl, 1, t, &which, &first));
        assert_true(rate_limit_take(&rl, 1, t, &which, &first));
        assert_false(rate_limit_take(&rl, 1, t, &which, &first));
        /* many peers: the table stays RATE_PEERS_MAX entries, the oldest reused */
        rate_limit_init(&rl, 1, 100000);
        for (uint64_t peer = 0; peer < 10 * RATE_PEERS_MAX; peer++)
                assert_true(rate_limit_take(&rl, peer, t + peer, &which, &first));
        assert_false(rate_limit_take(&rl, 10 * RATE_PEERS_MAX - 1, t + 10 * RATE_PEERS_MAX, &which, &first));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_round_trip),
                cmocka_unit_test(test_hostile_header),
                cmocka_unit_test(test_hostile_request),
                cmocka_unit_test(test_error_frame),
                cmocka_unit_test(test_rate_limit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
