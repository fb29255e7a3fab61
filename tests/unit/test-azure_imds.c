/* agent/azure_imds.c and the TDREPORT lookup of agent/azure_report.c: Azure's IMDS answer to the
 * TD-quote request, {"quote": base64url}, parsed bounded (padded or not; every truncation, a
 * flipped byte, another alphabet, an empty or oversized quote, other JSON refused by name), and
 * the HCL report's type read from Azure's real reports (tests/fixtures/platforms/azure). */
#include "tests/unit/unit.h"

#include "agent/azure_imds.h"
#include "agent/azure_report.h"
#include "lib/encoding.h"

#define AZURE "tests/fixtures/platforms/azure/"

static int parse(const char *body, uint8_t **quote, size_t *size) {
        return azure_imds_quote_parse(body, strlen(body), quote, size);
}

static void test_parse(void **state) {
        uint8_t *quote = NULL;
        size_t size = 0;

        (void)state;
        assert_int_equal(parse("{\"quote\":\"YWJj\"}", &quote, &size), 0);
        assert_int_equal(size, 3);
        assert_memory_equal(quote, "abc", 3);
        free(quote);
        /* padded, as a standard encoder writes it, and the URL alphabet's two characters */
        assert_int_equal(parse(" {\"quote\": \"YQ==\", \"other\": 1}\n", &quote, &size), 0);
        assert_int_equal(size, 1);
        assert_int_equal(quote[0], 'a');
        free(quote);
        assert_int_equal(parse("{\"quote\":\"-_8\"}", &quote, &size), 0);
        assert_int_equal(size, 2);
        assert_int_equal(quote[0], 0xfb);
        assert_int_equal(quote[1], 0xff);
        free(quote);
}

/* The real TDX quote, as IMDS would send it, parses back to its bytes. */
static void test_real_quote(void **state) {
        _cleanup_(freep) uint8_t *real = NULL;
        _cleanup_(freep) char *b64 = NULL;
        _cleanup_(freep) char *body = NULL;
        uint8_t *quote = NULL;
        size_t real_size = 0, size = 0;

        (void)state;
        real = read_vector("tests/fixtures/platforms/tdx/tdx_prod_quote_SPR_E4.dat", &real_size);
        b64 = base64_encode(real, real_size);
        for (char *c = b64; *c; c++)
                *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
        assert_true(asprintf(&body, "{\"quote\":\"%s\"}", b64) > 0);
        assert_int_equal(parse(body, &quote, &size), 0);
        assert_int_equal(size, real_size);
        assert_memory_equal(quote, real, size);
        free(quote);
        /* every truncation of it: refused, never a crash */
        for (size_t cut = 0; cut < strlen(body); cut += 7) {
                quote = (uint8_t *)1;
                assert_int_equal(azure_imds_quote_parse(body, cut, &quote, &size), -EBADMSG);
                assert_null(quote);
        }
}

static void test_refused(void **state) {
        static const struct {
                const char *body, *detail;
        } cases[] = {
                { "", "IMDS answer: empty" },
                { "<html>Bad Request</html>", "IMDS answer: not JSON" },
                { "[\"YWJj\"]", "IMDS answer: not a JSON object" },
                { "{\"report\":\"YWJj\"}", "IMDS answer: " },
                { "{\"quote\":3}", "IMDS answer: " },
                { "{\"quote\":\"\"}", "\"quote\" holds 0 bytes, not 1-65536" },
                { "{\"quote\":\"YWJ+\"}", "'+' at offset 3 is not base64url" },
                { "{\"quote\":\"YW/j\"}", "'/' at offset 2 is not base64url" },
                { "{\"quote\":\"YQ=\"}", "no whole base64url byte count" },
                { "{\"quote\":\"Y=Q=\"}", "'=' at offset 1 is not base64url" },
                { "{\"quote\":\"YWJjZ\"}", "no whole base64url byte count" },
                { "{\"quote\":\"YW*j\"}", "\"quote\" is not base64url" },
                { "{\"quote\":\"YWJj\\u0000YWJj\"}", "IMDS answer: quote contains a NUL byte" },
                { "{\"quote\":\"YWJj\"} {}", "IMDS answer: " },
                { "{\"a\":{\"b\":{\"c\":{}}},\"quote\":\"YWJj\"}", "IMDS answer: " },
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint8_t *quote = (uint8_t *)1;
                size_t size = 1;

                assert_error(parse(cases[i].body, &quote, &size), -EBADMSG, cases[i].detail);
                assert_null(quote);
                assert_int_equal(size, 0);
        }
}

/* A quote larger than any TD quote: refused by its text's length, before decoding. */
static void test_oversize(void **state) {
        size_t chars = (AZURE_TD_QUOTE_MAX + 2) / 3 * 4 + 4;
        char *body = malloc(chars + 16);
        uint8_t *quote = (uint8_t *)1;
        size_t size = 1;

        (void)state;
        assert_non_null(body);
        strcpy(body, "{\"quote\":\"");
        memset(body + 10, 'A', chars);
        strcpy(body + 10 + chars, "\"}");
        assert_error(parse(body, &quote, &size), -EBADMSG, "IMDS answer: ");
        assert_null(quote);
        /* one byte over the bound, in bytes */
        chars = (AZURE_TD_QUOTE_MAX + 3) / 3 * 4;
        memset(body + 10, 'A', chars);
        strcpy(body + 10 + chars, "\"}");
        assert_error(parse(body, &quote, &size), -EBADMSG, "not 1-65536");
        free(body);
}

/* Flipped bytes anywhere in a good answer: parsed or refused, never a crash. */
static void test_flipped(void **state) {
        char body[] = "{\"quote\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"}";

        (void)state;
        for (size_t i = 0; i < strlen(body); i++)
                for (int bit = 0; bit < 8; bit++) {
                        char copy[sizeof(body)];
                        uint8_t *quote = NULL;
                        size_t size = 0;
                        int ret;

                        memcpy(copy, body, sizeof(body));
                        copy[i] ^= (char)(1 << bit);
                        ret = azure_imds_quote_parse(copy, strlen(body), &quote, &size);
                        assert_true(ret == 0 || ret == -EBADMSG);
                        assert_true(ret == 0 ? quote != NULL && size > 0 : quote == NULL);
                        free(quote);
                }
}

/* The HCL report's type decides whether the agent asks IMDS: the real TDX report's TDREPORT is
 * at 32, the SNP report asks for nothing; a report cut short or of another type is named. */
static void test_tdreport(void **state) {
        _cleanup_(freep) uint8_t *tdx = NULL;
        _cleanup_(freep) uint8_t *snp = NULL;
        const uint8_t *tdreport = NULL;
        size_t tdx_size = 0, snp_size = 0;

        (void)state;
        tdx = read_vector(AZURE "hcl-report-tdx.bin", &tdx_size);
        snp = read_vector(AZURE "hcl-report-snp.bin", &snp_size);
        assert_int_equal(azure_report_tdreport(tdx, tdx_size, &tdreport), 1);
        assert_ptr_equal(tdreport, tdx + 32);
        assert_int_equal(tdreport[0], 0x81); /* REPORTTYPE.TYPE: TDX */
        assert_int_equal(azure_report_tdreport(snp, snp_size, &tdreport), 0);
        assert_null(tdreport);
        for (size_t cut = 0; cut < AZURE_HCL_REPORT_TYPE_OFFSET + 4; cut += 13)
                assert_error(azure_report_tdreport(tdx, cut, &tdreport), -EBADMSG, "Azure HCL report");
        tdx[AZURE_HCL_REPORT_TYPE_OFFSET] = 3;
        assert_error(azure_report_tdreport(tdx, tdx_size, &tdreport), -EBADMSG, "report_type 3 is neither");
        tdx[0] = 'X';
        assert_error(azure_report_tdreport(tdx, tdx_size, &tdreport), -EBADMSG, "header signature");
        assert_null(tdreport);
}

/* Nothing listens on the URL: the error names the step and the URL. */
static void test_unreachable(void **state) {
        uint8_t tdreport[AZURE_TDREPORT_SIZE] = { 0x81 };
        uint8_t *quote = (uint8_t *)1;
        size_t size = 1;

        (void)state;
        assert_error(azure_imds_td_quote("http://127.0.0.1:1/acc/tdquote", tdreport, sizeof(tdreport), &quote, &size),
                     -ECONNREFUSED, "Azure IMDS TD quote: POST of the TDREPORT: http://127.0.0.1:1/acc/tdquote");
        assert_null(quote);
        assert_error(azure_imds_td_quote("ftp://x/", tdreport, sizeof(tdreport), &quote, &size), -EINVAL,
                     "Azure IMDS TD quote");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),   cmocka_unit_test(test_real_quote), cmocka_unit_test(test_refused),
                cmocka_unit_test(test_oversize), cmocka_unit_test(test_flipped),   cmocka_unit_test(test_tdreport),
                cmocka_unit_test(test_unreachable),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
