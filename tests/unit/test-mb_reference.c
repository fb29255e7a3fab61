/* The measured-boot policy generator (policy/mb_reference.c) on the real OVMF boot of
 * tests/fixtures/boot: the policy it makes from that boot's event log passes the PCRs the TPM
 * reported in that boot (pcrs-sha256.txt, what a quote carries) through lib/mb_policy's check,
 * and refuses the same boot with another initrd; the digests it computes from files (the
 * command line as the EFI stub measures it, the two constant events of PCR 4) are those the
 * log holds; the policy from files alone is what tests/vm wrote in shell. Also Keylime's shim +
 * GRUB Secure Boot log (tests/fixtures/keylime-shim-grub), and the format's limits. */
#include "tests/unit/unit.h"

#include <errno.h>

#include "lib/eventlog.h"
#include "lib/hashalg.h"
#include "lib/mb_policy.h"
#include "policy/mb_reference.h"

#define FIXTURE(name) "tests/fixtures/boot/" name
#define SHIM_LOG "tests/fixtures/keylime-shim-grub/binary_bios_measurements"
#define INITRD_EVENT 22 /* PCR 9, EV_EVENT_TAG "Linux initrd" */

/* tests/fixtures/boot/README: the command line; OVMF appends " initrd=initrd" */
static const char fixture_cmdline[] = "console=ttyS0 ima_policy=tcb rootfstype=ramfs panic=-1 quiet initrd=initrd";
/* digests of that log (tpm2_eventlog) */
static const char real_cmdline[] = "a750c5a71a8432b5d3a102e45517d86e53c768367fa6af79218d397aaffaacd5";
static const char real_initrd[] = "681771e786f0543d27d5b411bcc1dbe5d84ff70d22ed469a6e65dd4fa048b5ad";
static const char real_calling[] = "3d6772b4f84ed47595d72a2c4c5ffd15f5bb72c7507fe26f2aaee2c69d5633ba";
static const char real_separator[] = "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119";

static void hex(const uint8_t *d, size_t n, char *out) {
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", d[i]);
}

/* The policy text of `ref`, malloc'ed. */
static char *policy_text(const struct mb_reference *ref) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        assert_int_equal(mb_reference_write(f, ref), 0);
        fclose(f);
        return text;
}

/* PCRs 0-23 as the TPM reported them in the fixture's boot: what its quote carried. */
static void fixture_quote(struct pcr_values *quoted) {
        FILE *f = fopen(FIXTURE("pcrs-sha256.txt"), "r");
        char line[256], value[65];
        unsigned pcr;

        assert_non_null(f);
        memset(quoted, 0, sizeof(*quoted));
        quoted->bank = TPM2_ALG_SHA256;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "%u %64[0-9a-f]", &pcr, value) == 2 && pcr < 24) {
                        quoted->mask |= 1u << pcr;
                        quoted->value[pcr].size = 32;
                        for (unsigned i = 0; i < 32; i++)
                                assert_int_equal(sscanf(value + 2 * i, "%2hhx", &quoted->value[pcr].buffer[i]), 1);
                }
        fclose(f);
        assert_int_equal(quoted->mask, 0x00ffffff);
}

static int check(const char *text, const uint8_t *log, size_t size, const struct pcr_values *quoted) {
        _cleanup_(mb_policy_freep) struct mb_policy *policy = NULL;
        int ret = mb_policy_parse(text, strlen(text), &policy);

        assert_int_equal(ret, 0);
        return mb_policy_check(policy, log, size, quoted);
}

static void test_fixture_boot(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        _cleanup_(freep) char *text = NULL;
        struct mb_reference ref;
        struct pcr_values quoted;
        size_t size;

        log = read_vector(FIXTURE("binary_bios_measurements"), &size);
        mb_reference_init(&ref, TPM2_ALG_SHA256);
        assert_int_equal(mb_reference_from_log(&ref, log, size, MB_REFERENCE_DEFAULT_PCRS, false), 0);
        text = policy_text(&ref);
        fixture_quote(&quoted);
        assert_int_equal(check(text, log, size, &quoted), 0);
        assert_int_equal(mb_reference_check(text, strlen(text), log, size, TPM2_ALG_SHA256), 0);
        assert_non_null(strstr(text, "\"pcrs\": {\"8\": [\"0000000000000000000000000000000000000000000000000000000000000000\"]}"));
        assert_non_null(strstr(text, "{\"pcr\": 9, \"type\": \"EV_EVENT_TAG\", \"digests\": [\"a750c5a71a8432b5d3a102e45517d86e53c768367fa6af79218d397aaffaacd5\", "
                                     "\"681771e786f0543d27d5b411bcc1dbe5d84ff70d22ed469a6e65dd4fa048b5ad\"]}"));
        assert_non_null(strstr(text, "\"secure_boot\": \"disabled\"}\n"));
        /* the PCR 8 pin holds: a boot that extends it fails */
        quoted.value[8].buffer[0] ^= 1;
        assert_error(check(text, log, size, &quoted), -EBADMSG, "PCR 8");
        mb_reference_done(&ref);
}

struct find_event {
        uint32_t index;
        size_t digest_offset;
        const uint8_t *log;
};

static int find_digest(const struct eventlog_event *ev, void *user) {
        struct find_event *f = user;

        if (ev->index == f->index)
                f->digest_offset = (size_t)(eventlog_event_digest(ev, TPM2_ALG_SHA256) - f->log);
        return 0;
}

/* The same boot with another initrd: the EFI stub's event carries that initrd's digest, and PCR 9
 * holds it (the TPM saw that extend: its quote is the replay of the changed log). */
static void test_changed_initrd(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        _cleanup_(freep) char *text = NULL;
        struct find_event find = { .index = INITRD_EVENT };
        struct mb_reference ref;
        struct pcr_values quoted;
        uint8_t other[32];
        char other_hex[65];
        size_t size;

        log = read_vector(FIXTURE("binary_bios_measurements"), &size);
        mb_reference_init(&ref, TPM2_ALG_SHA256);
        assert_int_equal(mb_reference_from_log(&ref, log, size, MB_REFERENCE_DEFAULT_PCRS, false), 0);
        text = policy_text(&ref);
        find.log = log;
        assert_int_equal(eventlog_foreach(log, size, find_digest, &find), 0);
        assert_int_not_equal(find.digest_offset, 0);
        hex(log + find.digest_offset, 32, other_hex);
        assert_string_equal(other_hex, real_initrd);
        assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, "another initrd", 14, other), 0);
        memcpy(log + find.digest_offset, other, 32);
        hex(other, 32, other_hex);
        assert_int_equal(eventlog_replay(log, size, TPM2_ALG_SHA256, &quoted), 0);
        quoted.mask |= 0x3ff; /* PCR 8: never extended, quoted as reset */
        memset(&quoted.value[8], 0, sizeof(quoted.value[8]));
        quoted.value[8].size = 32;
        assert_error(check(text, log, size, &quoted), -EPERM, other_hex);
        assert_detail_contains(-EPERM, "PCR 9");
        assert_error(mb_reference_check(text, strlen(text), log, size, TPM2_ALG_SHA256), -EPERM, "PCR 9");
        mb_reference_done(&ref);
}

static const char *rule_digest(const struct mb_reference *ref, uint32_t pcr, uint32_t type, size_t i, char *out) {
        for (size_t r = 0; r < ref->rule_count; r++)
                if (ref->rules[r].pcr == pcr && ref->rules[r].type == type && i < ref->rules[r].count) {
                        hex(ref->rules[r].digests[i], 32, out);
                        return out;
                }
        return "(none)";
}

/* The command line as the stub measures it: UTF-16LE and a NUL character */
static void test_cmdline(void **state) {
        static const char astral[] = "x\xf0\x9f\x98\x80"; /* "x" U+1F600 */
        static const uint8_t astral_utf16[] = { 'x', 0, 0x3d, 0xd8, 0x00, 0xde, 0, 0 };
        struct mb_reference ref;
        uint8_t expected[32];
        char text[65], want[65];

        mb_reference_init(&ref, TPM2_ALG_SHA256);
        assert_int_equal(mb_reference_add_cmdline(&ref, fixture_cmdline), 1);
        assert_string_equal(rule_digest(&ref, 9, EV_EVENT_TAG, 0, text), real_cmdline);
        assert_int_equal(mb_reference_add_cmdline(&ref, fixture_cmdline), 0); /* there already */
        assert_int_equal(mb_reference_add_cmdline(&ref, astral), 1);
        assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, astral_utf16, sizeof(astral_utf16), expected), 0);
        hex(expected, 32, want);
        assert_string_equal(rule_digest(&ref, 9, EV_EVENT_TAG, 1, text), want);
        assert_error(mb_reference_add_cmdline(&ref, "bad \xff byte"), -EILSEQ, "byte 4");
        mb_reference_done(&ref);
}

static void write_file(const char *path, const void *data, size_t size) {
        FILE *f = fopen(path, "wb");

        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, size, f), size);
        fclose(f);
}

/* initrd + command line alone: the policy tests/vm's vm_mb_policy wrote, byte for byte */
static void test_files_policy(void **state) {
        char dir[] = "/tmp/test-mb_reference.XXXXXX", path[64], *text, expected[512], initrd_hex[65];
        uint8_t initrd[300000], digest[32];
        uint64_t seed = FUZZ_SEED;
        struct mb_reference ref;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/initrd.img", dir);
        prng_fill(&seed, initrd, sizeof(initrd));
        write_file(path, initrd, sizeof(initrd));
        assert_int_equal(hashalg_digest(TPM2_ALG_SHA256, initrd, sizeof(initrd), digest), 0);
        hex(digest, 32, initrd_hex);
        mb_reference_init(&ref, TPM2_ALG_SHA256);
        assert_int_equal(mb_reference_add_initrd(&ref, path), 1);
        assert_int_equal(mb_reference_add_cmdline(&ref, fixture_cmdline), 1);
        text = policy_text(&ref);
        snprintf(expected, sizeof(expected),
                 "{\"version\": 1, \"bank\": \"sha256\", \"events\": [{\"pcr\": 9, \"type\": \"EV_EVENT_TAG\", \"digests\": "
                 "[\"%s\", \"%s\"]}]}\n",
                 initrd_hex, real_cmdline);
        assert_string_equal(text, expected);
        free(text);
        assert_error(mb_reference_add_initrd(&ref, "/nonexistent/initrd"), -ENOENT, "/nonexistent/initrd");
        mb_reference_done(&ref);
        unlink(path);
        rmdir(dir);
}

/* A kernel image: its Authenticode digest and PCR 4's two constant events, which are the
 * fixture's */
static void test_kernel(void **state) {
        char dir[] = "/tmp/test-mb_reference.XXXXXX", path[64], text[65];
        uint8_t pe[0x200] = { 0 };
        struct mb_reference ref;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/vmlinuz", dir);
        pe[0] = 'M', pe[1] = 'Z', pe[0x3c] = 0x40;
        memcpy(pe + 0x40, "PE\0\0", 4);
        pe[0x40 + 20] = 240;                         /* SizeOfOptionalHeader */
        pe[0x58] = 0x0b, pe[0x59] = 0x02;            /* PE32+ */
        pe[0x58 + 60] = 0x00, pe[0x58 + 61] = 0x02;  /* SizeOfHeaders 0x200 */
        pe[0x58 + 108] = 16;                         /* NumberOfRvaAndSizes */
        write_file(path, pe, sizeof(pe));
        mb_reference_init(&ref, TPM2_ALG_SHA256);
        assert_int_equal(mb_reference_add_kernel(&ref, path), 1);
        assert_int_equal(ref.rule_count, 3);
        assert_string_equal(rule_digest(&ref, 4, EV_EFI_ACTION, 0, text), real_calling);
        assert_string_equal(rule_digest(&ref, 4, EV_SEPARATOR, 0, text), real_separator);
        assert_int_equal(mb_reference_add_kernel(&ref, path), 0);
        mb_reference_done(&ref);
        write_file(path, "not a kernel", 12);
        mb_reference_init(&ref, TPM2_ALG_SHA256);
        assert_error(mb_reference_add_kernel(&ref, path), -EBADMSG, "vmlinuz: PE image");
        mb_reference_done(&ref);
        unlink(path);
        rmdir(dir);
}

/* shim + GRUB with Secure Boot on: PCR 8 holds GRUB's commands, PCR 7 the authorities */
static void test_shim_grub(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        _cleanup_(freep) char *text = NULL;
        struct mb_reference ref;
        size_t size;

        log = read_vector(SHIM_LOG, &size);
        mb_reference_init(&ref, TPM2_ALG_SHA256);
        assert_int_equal(mb_reference_from_log(&ref, log, size, MB_REFERENCE_DEFAULT_PCRS, false), 0);
        text = policy_text(&ref);
        assert_int_equal(mb_reference_check(text, strlen(text), log, size, TPM2_ALG_SHA256), 0);
        assert_null(strstr(text, "\"pcrs\""));
        assert_non_null(strstr(text, "{\"pcr\": 8, \"type\": \"EV_IPL\""));
        assert_non_null(strstr(text, "{\"pcr\": 7, \"type\": \"EV_EFI_VARIABLE_AUTHORITY\""));
        assert_non_null(strstr(text, "\"secure_boot\": \"enabled\""));
        /* made with Secure Boot required off, it refuses its own boot */
        ref.secure_boot = MB_REFERENCE_SECURE_BOOT_DISABLED;
        free(text);
        text = policy_text(&ref);
        assert_error(mb_reference_check(text, strlen(text), log, size, TPM2_ALG_SHA256), -EPERM, "Secure Boot is enabled");
        mb_reference_done(&ref);
        /* all of PCRs 0-9 */
        mb_reference_init(&ref, TPM2_ALG_SHA256);
        assert_int_equal(mb_reference_from_log(&ref, log, size, 0x3ff, false), 0);
        free(text);
        text = policy_text(&ref);
        assert_int_equal(mb_reference_check(text, strlen(text), log, size, TPM2_ALG_SHA256), 0);
        mb_reference_done(&ref);
        /* a bank the log does not have */
        mb_reference_init(&ref, TPM2_ALG_SHA384);
        assert_int_equal(mb_reference_from_log(&ref, log, size, MB_REFERENCE_DEFAULT_PCRS, false), -EBADMSG);
        mb_reference_done(&ref);
}

static void test_limits(void **state) {
        uint8_t digest[32] = { 0 };
        struct mb_reference ref;

        mb_reference_init(&ref, TPM2_ALG_SHA256);
        assert_error(mb_reference_add(&ref, 4, 0x12345678, digest), -EBADMSG, "type 0x12345678");
        assert_error(mb_reference_add(&ref, 4, EV_NO_ACTION, digest), -EBADMSG, "EV_NO_ACTION");
        for (unsigned i = 0; i < MB_POLICY_MAX_DIGESTS; i++) {
                memcpy(digest, &i, sizeof(i));
                assert_int_equal(mb_reference_add(&ref, 9, EV_IPL, digest), 1);
        }
        digest[31] = 1;
        assert_error(mb_reference_add(&ref, 9, EV_IPL, digest), -E2BIG, "more than 4096 digests");
        for (uint32_t pcr = 0; pcr < 10; pcr++)
                for (uint32_t type = EV_EFI_VARIABLE_DRIVER_CONFIG; type <= EV_EFI_HANDOFF_TABLES2; type++)
                        if (ref.rule_count < MB_POLICY_MAX_RULES)
                                assert_true(mb_reference_add(&ref, pcr, type, digest) >= 0);
        assert_error(mb_reference_add(&ref, 9, EV_SEPARATOR, digest), -E2BIG, "more than 64 rules");
        mb_reference_done(&ref);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixture_boot),  cmocka_unit_test(test_changed_initrd),
                cmocka_unit_test(test_cmdline),       cmocka_unit_test(test_files_policy),
                cmocka_unit_test(test_kernel),        cmocka_unit_test(test_shim_grub),
                cmocka_unit_test(test_limits),
        };

        return cmocka_run_group_tests_name("mb_reference", tests, NULL, NULL);
}
