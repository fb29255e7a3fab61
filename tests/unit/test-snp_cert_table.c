/* verifier/snp_cert_table.c on a table built as a host builds it around the real Milan VCEK,
 * ASK and ARK of tests/fixtures/platforms/snp, and on hostile tables: every truncation, no
 * terminator, too many entries, empty, overlapping, duplicate and out-of-blob entries, offsets
 * that overflow 32 bits, flipped bytes. */
#include "tests/unit/unit.h"

#include <openssl/pem.h>

#include "verifier/cert_chain.h"
#include "verifier/snp_cert_table.h"

#define SNP "tests/fixtures/platforms/snp/"

static const uint8_t vcek_guid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t ask_guid[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t ark_guid[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                     0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
static const uint8_t other_guid[16] = {0xec, 0xae, 0x0c, 0x0f, 0x95, 0x02, 0x43, 0xb1,
                                       0xaf, 0xe2, 0x0a, 0xe2, 0xe0, 0xd5, 0x65, 0xb6};

static void put_u32le(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void put_entry(uint8_t *blob, size_t index, const uint8_t guid[16], uint32_t offset, uint32_t length) {
        uint8_t *e = blob + index * SNP_CERT_TABLE_ENTRY_SIZE;

        memcpy(e, guid, 16);
        put_u32le(e + 16, offset);
        put_u32le(e + 20, length);
}

static size_t der_of(X509 *cert, uint8_t **der) {
        int n = i2d_X509(cert, der);

        assert_true(n > 0);
        return (size_t)n;
}

/* VCEK, ASK, ARK, terminator, then the three DER certificates; padded with zeros to a page
 * as the kernel's buffer is. */
static uint8_t *real_table(size_t *size, size_t *table_end) {
        _cleanup_(cert_stack_freep) STACK_OF(X509) *bundle = NULL;
        _cleanup_(freep) uint8_t *vcek = NULL;
        uint8_t *ask = NULL, *ark = NULL, *blob;
        size_t vcek_size = 0, ask_size, ark_size, cursor = 4 * SNP_CERT_TABLE_ENTRY_SIZE;

        vcek = read_vector(SNP "vcek.testcer", &vcek_size);
        assert_int_equal(cert_pem_load_file(SNP "ask_ark_milan.pem", &bundle), 0);
        ask_size = der_of(sk_X509_value(bundle, 0), &ask);
        ark_size = der_of(sk_X509_value(bundle, 1), &ark);
        *size = 4096 * 2;
        assert_true(cursor + vcek_size + ask_size + ark_size <= *size);
        blob = calloc(1, *size);
        assert_non_null(blob);
        put_entry(blob, 0, vcek_guid, (uint32_t)cursor, (uint32_t)vcek_size);
        memcpy(blob + cursor, vcek, vcek_size);
        cursor += vcek_size;
        put_entry(blob, 1, ask_guid, (uint32_t)cursor, (uint32_t)ask_size);
        memcpy(blob + cursor, ask, ask_size);
        cursor += ask_size;
        put_entry(blob, 2, ark_guid, (uint32_t)cursor, (uint32_t)ark_size);
        memcpy(blob + cursor, ark, ark_size);
        OPENSSL_free(ask);
        OPENSSL_free(ark);
        *table_end = 4 * SNP_CERT_TABLE_ENTRY_SIZE;
        return blob;
}

static void test_real_table(void **state) {
        _cleanup_(freep) uint8_t *blob = NULL;
        _cleanup_(freep) uint8_t *vcek = NULL;
        struct snp_cert_table table;
        const struct snp_cert_entry *e;
        size_t size, end, vcek_size;

        (void)state;
        blob = real_table(&size, &end);
        vcek = read_vector(SNP "vcek.testcer", &vcek_size);
        assert_int_equal(snp_cert_table_parse(blob, size, &table), 0);
        assert_int_equal(table.count, 3);
        e = snp_cert_table_find(&table, SNP_CERT_VCEK);
        assert_non_null(e);
        assert_int_equal(e->size, vcek_size);
        assert_memory_equal(e->data, vcek, vcek_size);
        assert_non_null(snp_cert_table_find(&table, SNP_CERT_ASK));
        assert_non_null(snp_cert_table_find(&table, SNP_CERT_ARK));
        assert_null(snp_cert_table_find(&table, SNP_CERT_VLEK));
        assert_string_equal(snp_cert_kind_name(SNP_CERT_VLEK), "VLEK");

        /* no certificates at all */
        assert_int_equal(snp_cert_table_parse(blob, 0, &table), 0);
        assert_int_equal(table.count, 0);

        /* an unknown GUID is kept as "other", and not found as a VCEK */
        memcpy(blob, other_guid, 16);
        assert_int_equal(snp_cert_table_parse(blob, size, &table), 0);
        assert_int_equal(table.entry[0].kind, SNP_CERT_OTHER);
        assert_null(snp_cert_table_find(&table, SNP_CERT_VCEK));
}

static void test_truncations(void **state) {
        _cleanup_(freep) uint8_t *blob = NULL;
        struct snp_cert_table table;
        size_t size, end, used;

        (void)state;
        blob = real_table(&size, &end);
        assert_int_equal(snp_cert_table_parse(blob, size, &table), 0);
        used = (size_t)(table.entry[2].data - blob) + table.entry[2].size;
        for (size_t n = 1; n < used; n++) {
                vm_error_clear();
                assert_int_equal(snp_cert_table_parse(blob, n, &table), -EBADMSG);
                assert_detail_contains(-EBADMSG, n < end ? "no all-zero entry ends the table" : "ends past the blob");
        }
        assert_int_equal(snp_cert_table_parse(blob, used, &table), 0);
}

static void test_hostile_entries(void **state) {
        _cleanup_(freep) uint8_t *blob = NULL;
        _cleanup_(freep) uint8_t *big = NULL;
        struct snp_cert_table table;
        size_t size, end;
        uint32_t vcek_at, ask_at;

        (void)state;
        blob = real_table(&size, &end);
        assert_int_equal(snp_cert_table_parse(blob, size, &table), 0);
        vcek_at = (uint32_t)(table.entry[0].data - blob);
        ask_at = (uint32_t)(table.entry[1].data - blob);

        put_entry(blob, 0, vcek_guid, vcek_at, 0);
        assert_error(snp_cert_table_parse(blob, size, &table), -EBADMSG, "entry 0 (VCEK) has length 0");
        /* inside the table, the terminator included */
        put_entry(blob, 0, vcek_guid, (uint32_t)end - 1, 100);
        assert_error(snp_cert_table_parse(blob, size, &table), -EBADMSG, "entry 0 (VCEK) at offset 95 overlaps the table");
        put_entry(blob, 0, vcek_guid, 0, 100);
        assert_error(snp_cert_table_parse(blob, size, &table), -EBADMSG, "overlaps the table");
        put_entry(blob, 0, vcek_guid, (uint32_t)size - 10, 11);
        assert_error(snp_cert_table_parse(blob, size, &table), -EBADMSG, "ends past the blob");
        /* offset + length wraps in 32 bits */
        put_entry(blob, 0, vcek_guid, 0xffffff00u, 0x200);
        assert_error(snp_cert_table_parse(blob, size, &table), -EBADMSG, "ends past the blob");
        put_entry(blob, 0, vcek_guid, vcek_at, 0xffffffffu);
        assert_error(snp_cert_table_parse(blob, size, &table), -EBADMSG, "ends past the blob");
        /* two entries on the same bytes */
        put_entry(blob, 0, vcek_guid, ask_at + 1, 10);
        assert_error(snp_cert_table_parse(blob, size, &table), -EBADMSG, "entries 0 (VCEK) and 1 (ASK) overlap");
        put_entry(blob, 0, vcek_guid, vcek_at, ask_at - vcek_at);
        /* the same GUID twice: which one would count is the host's choice, so neither does */
        memcpy(blob + SNP_CERT_TABLE_ENTRY_SIZE, vcek_guid, 16);
        assert_error(snp_cert_table_parse(blob, size, &table), -EBADMSG, "entries 0 and 1 have the same GUID (VCEK)");
        memcpy(blob + SNP_CERT_TABLE_ENTRY_SIZE, ask_guid, 16);
        assert_int_equal(snp_cert_table_parse(blob, size, &table), 0);

        /* a zero GUID with a range is an entry, not the end: the table reads on into the
         * certificates and stops at its bound */
        put_entry(blob, 3, (const uint8_t[16]){0}, 0, 1);
        assert_error(snp_cert_table_parse(blob, size, &table), -EBADMSG, "more than 16 entries");

        big = calloc(1, SNP_CERT_TABLE_BLOB_MAX + 1);
        assert_non_null(big);
        assert_error(snp_cert_table_parse(big, SNP_CERT_TABLE_BLOB_MAX + 1, &table), -EBADMSG, "more than 65536");
        for (size_t i = 0; i <= SNP_CERT_TABLE_MAX; i++) {
                uint8_t guid[16] = {0};

                guid[0] = (uint8_t)(i + 1);
                put_entry(big, i, guid, 4096 + (uint32_t)i * 10, 10);
        }
        assert_error(snp_cert_table_parse(big, 8192, &table), -EBADMSG, "more than 16 entries");
        put_entry(big, SNP_CERT_TABLE_MAX, (const uint8_t[16]){0}, 0, 0);
        assert_int_equal(snp_cert_table_parse(big, 8192, &table), 0);
        assert_int_equal(table.count, SNP_CERT_TABLE_MAX);
}

static void test_flipped_bytes(void **state) {
        _cleanup_(freep) uint8_t *blob = NULL;
        _cleanup_(freep) uint8_t *copy = NULL;
        uint64_t prng = FUZZ_SEED;
        struct snp_cert_table table;
        size_t size, end;

        (void)state;
        blob = real_table(&size, &end);
        copy = malloc(size);
        assert_non_null(copy);
        for (int i = 0; i < FUZZ_ITERATIONS; i++) {
                int ret;

                memcpy(copy, blob, size);
                /* the table is where the parser looks: mutate it, not the certificates */
                prng_mutate(&prng, copy, end);
                vm_error_clear();
                ret = snp_cert_table_parse(copy, size, &table);
                if (ret < 0) {
                        assert_int_equal(ret, -EBADMSG);
                        assert_detail_contains(ret, "SNP certificate table");
                        continue;
                }
                for (size_t j = 0; j < table.count; j++) {
                        assert_true(table.entry[j].data >= copy + end);
                        assert_true(table.entry[j].data + table.entry[j].size <= copy + size);
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_table),
                cmocka_unit_test(test_truncations),
                cmocka_unit_test(test_hostile_entries),
                cmocka_unit_test(test_flipped_bytes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
