/* lib/http_server.c: a request's JSON body is wiped from libevent's input buffer once parsed
 * (it may carry an enrolment token or an escrowed key), and TLS contexts cleanse what they
 * decrypt. */
#include "tests/unit/unit.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/http_server.h"

static void test_body_wiped_once_parsed(void **state) {
        static const char body[] = "{\"payload\":\"c2VjcmV0LWtleS1ieXRlcw==\",\"ip\":\"127.0.0.1\"}";
        struct evhttp_request *req = evhttp_request_new(NULL, NULL);
        struct evbuffer *input;
        unsigned char copy[sizeof(body)];
        json_object *obj, *payload;

        assert_non_null(req);
        input = evhttp_request_get_input_buffer(req);
        /* two chains, as two TLS records arrive */
        assert_int_equal(evbuffer_add(input, body, 20), 0);
        assert_int_equal(evbuffer_add_reference(input, body + 20, sizeof(body) - 1 - 20, NULL, NULL), 0);
        obj = http_request_json(req);
        assert_non_null(obj);
        assert_true(json_object_object_get_ex(obj, "payload", &payload));
        assert_string_equal(json_object_get_string(payload), "c2VjcmV0LWtleS1ieXRlcw==");
        /* the parsed object is the only copy left */
        assert_int_equal(evbuffer_copyout(input, copy, sizeof(copy)), sizeof(body) - 1);
        for (size_t i = 0; i < sizeof(body) - 1; i++)
                assert_int_equal(copy[i], 0);
        assert_memory_equal(body, "{\"payload\"", 10); /* the caller's referenced bytes were copied, not wiped */
        json_object_put(obj);
        evhttp_request_free(req);
}

static void test_tls_cleanses_plaintext(void **state) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        X509 *cert = X509_new();
        SSL_CTX *ctx = NULL;

        assert_non_null(key);
        assert_non_null(cert);
        assert_int_equal(X509_set_version(cert, 2), 1);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), 0);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        assert_int_equal(X509_set_pubkey(cert, key), 1);
        X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0);
        assert_int_equal(X509_set_issuer_name(cert, X509_get_subject_name(cert)), 1);
        assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
        assert_int_equal(http_tls_server_context_keys(cert, key, NULL, false, &ctx), 0);
        assert_true(SSL_CTX_get_options(ctx) & SSL_OP_CLEANSE_PLAINTEXT);
        SSL_CTX_free(ctx);
        X509_free(cert);
        EVP_PKEY_free(key);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_body_wiped_once_parsed),
                cmocka_unit_test(test_tls_cleanses_plaintext),
        };

        return cmocka_run_group_tests_name("http_server", tests, NULL, NULL);
}
