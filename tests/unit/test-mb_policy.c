/* lib/mb_policy.c: the measured-boot policy (docs/protocol.md §8). A synthetic OVMF-shaped boot log
 * is built here with the PCR values it replays to (computed here with OpenSSL); policies are
 * checked against it and against the real log of tests/fixtures/boot/ when present. Then policies
 * that must not load, each refused with a detail naming the member. */
#include "tests/unit/unit.h"

#include <openssl/evp.h>

#include "lib/eventlog.h"
#include "lib/mb_policy.h"

#define PCRS 24
#define ALG_SHA1 0x0004
#define ALG_SHA256 0x000b
#define FIXTURE(name) "tests/fixtures/boot/" name

static const uint8_t global_guid[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                         0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };

static const char kernel_image[] = "MZ... a Linux kernel with its EFI stub";
static const char initrd_image[] = "070701... an initramfs";
static const uint8_t command_line_utf16[] = { 'r', 0, 'o', 0, 'o', 0, 't', 0, '=', 0, '/', 0, 0, 0 };
static const char other_digest[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct bytes {
        uint8_t *data;
        size_t size, cap;
};

static void put(struct bytes *b, const void *p, size_t n) {
        if (b->size + n > b->cap) {
                b->cap = (b->size + n) * 2 + 64;
                b->data = realloc(b->data, b->cap);
                assert_non_null(b->data);
        }
        if (n)
                memcpy(b->data + b->size, p, n);
        b->size += n;
}

static void put_u16(struct bytes *b, uint16_t v) {
        uint8_t le[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

        put(b, le, 2);
}

static void put_u32(struct bytes *b, uint32_t v) {
        put_u16(b, (uint16_t)v);
        put_u16(b, (uint16_t)(v >> 16));
}

static void put_u64(struct bytes *b, uint64_t v) {
        put_u32(b, (uint32_t)v);
        put_u32(b, (uint32_t)(v >> 32));
}

static void hex(const uint8_t *data, size_t size, char *out) {
        for (size_t i = 0; i < size; i++)
                sprintf(out + 2 * i, "%02x", data[i]);
}

/* A synthetic boot: the log, its sha256 PCR model, the quote over PCRs 0-10 and 16 that a TPM
 * would give after that boot, and the digests a policy names. */
struct boot {
        struct bytes log;
        uint8_t pcr[PCRS][32];
        unsigned events, kernel_event, initrd_event;
        struct pcr_values quoted;
        char kernel[65], calling[65], separator[65], cmdline[65], initrd[65], pcr4[65], pcr9[65];
};

static void extend(uint8_t *pcr, const uint8_t *digest) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        assert_non_null(ctx);
        assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, pcr, 32), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, digest, 32), 1);
        assert_int_equal(EVP_DigestFinal_ex(ctx, pcr, NULL), 1);
        EVP_MD_CTX_free(ctx);
}

/* A TCG_PCR_EVENT2 with sha1 and sha256 digests of `measured` (the data when NULL); returns
 * its event number. */
static unsigned measure(struct boot *b, uint32_t pcr, uint32_t type, const void *data, size_t size,
                        const void *measured, size_t measured_size, uint8_t *sha256_out) {
        uint8_t sha1[20], sha256[32];

        if (!measured) {
                measured = data;
                measured_size = size;
        }
        assert_int_equal(EVP_Digest(measured, measured_size, sha1, NULL, EVP_sha1(), NULL), 1);
        assert_int_equal(EVP_Digest(measured, measured_size, sha256, NULL, EVP_sha256(), NULL), 1);
        put_u32(&b->log, pcr);
        put_u32(&b->log, type);
        put_u32(&b->log, 2);
        put_u16(&b->log, ALG_SHA1);
        put(&b->log, sha1, 20);
        put_u16(&b->log, ALG_SHA256);
        put(&b->log, sha256, 32);
        put_u32(&b->log, (uint32_t)size);
        put(&b->log, data, size);
        extend(b->pcr[pcr], sha256);
        if (sha256_out)
                memcpy(sha256_out, sha256, 32);
        return ++b->events;
}

static void spec_id(struct boot *b) {
        static const uint8_t spec[] = {
                'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ', 'E', 'v', 'e', 'n', 't', '0', '3', 0,
                0, 0, 0, 0,                     /* platformClass */
                0, 2, 0, 2,                     /* version 2.0, errata 0, UINT64 */
                2, 0, 0, 0,                     /* numberOfAlgorithms */
                ALG_SHA1, 0, 20, 0, ALG_SHA256, 0, 32, 0,
                0,                              /* vendorInfoSize */
        };

        put_u32(&b->log, 0);
        put_u32(&b->log, EV_NO_ACTION);
        for (unsigned i = 0; i < 20; i++)
                put(&b->log, "", 1);
        put_u32(&b->log, sizeof(spec));
        put(&b->log, spec, sizeof(spec));
        b->events = 0;
}

/* The SecureBoot variable measured as `value`, or empty (-1), or not at all (-2). */
static void secure_boot(struct boot *b, int value) {
        struct bytes var = { 0 };
        uint8_t byte = (uint8_t)value;

        if (value == -2)
                return;
        put(&var, global_guid, 16);
        put_u64(&var, 10);
        put_u64(&var, value < 0 ? 0 : 1);
        for (const char *c = "SecureBoot"; *c; c++)
                put_u16(&var, (uint8_t)*c);
        put(&var, &byte, value < 0 ? 0 : 1);
        measure(b, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, var.data, var.size, NULL, 0, NULL);
        free(var.data);
}

static void tagged(struct boot *b, uint32_t id, const char *description, const void *measured, size_t size,
                   char *hex_out, unsigned *event) {
        struct bytes tag = { 0 };
        uint8_t sha256[32];

        put_u32(&tag, id);
        put_u32(&tag, (uint32_t)strlen(description) + 1);
        put(&tag, description, strlen(description) + 1);
        *event = measure(b, 9, EV_EVENT_TAG, tag.data, tag.size, measured, size, sha256);
        hex(sha256, 32, hex_out);
        free(tag.data);
}

static void boot_init(struct boot *b, int secure_boot_value) {
        static const char calling[] = "Calling EFI Application from Boot Option";
        static const uint8_t separator[4];
        uint8_t image_load_event[32] = { 0 }, sha256[32];
        unsigned cmdline_event;

        memset(b, 0, sizeof(*b));
        spec_id(b);
        measure(b, 0, EV_S_CRTM_VERSION, "1\0.\0000\0\0", 8, NULL, 0, NULL);
        secure_boot(b, secure_boot_value);
        measure(b, 4, EV_EFI_ACTION, calling, strlen(calling), NULL, 0, sha256);
        hex(sha256, 32, b->calling);
        for (uint32_t pcr = 0; pcr <= 7; pcr++)
                measure(b, pcr, EV_SEPARATOR, separator, sizeof(separator), NULL, 0, sha256);
        hex(sha256, 32, b->separator);
        b->kernel_event = measure(b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, image_load_event, sizeof(image_load_event),
                                  kernel_image, strlen(kernel_image), sha256);
        hex(sha256, 32, b->kernel);
        tagged(b, 0x8f3b22ed, "LOADED_IMAGE::LoadOptions", command_line_utf16, sizeof(command_line_utf16), b->cmdline,
               &cmdline_event);
        tagged(b, 0x8f3b22ec, "Linux initrd", initrd_image, strlen(initrd_image), b->initrd, &b->initrd_event);

        b->quoted.bank = TPM2_ALG_SHA256;
        b->quoted.mask = 0x000107ff; /* 0-10 and 16, as the verifier asks (docs/protocol.md §2) */
        for (unsigned pcr = 0; pcr < PCRS; pcr++)
                if (b->quoted.mask & (1u << pcr)) {
                        b->quoted.value[pcr].size = 32;
                        memcpy(b->quoted.value[pcr].buffer, b->pcr[pcr], 32);
                }
        /* PCR 8 was never extended (zero); 10 and 16 belong to IMA and the payload key */
        memset(b->pcr[8], 0, 32);
        memset(b->quoted.value[10].buffer, 0xa1, 32);
        memset(b->quoted.value[16].buffer, 0x16, 32);
        hex(b->pcr[4], 32, b->pcr4);
        hex(b->pcr[9], 32, b->pcr9);
}

static void boot_done(struct boot *b) {
        free(b->log.data);
        memset(b, 0, sizeof(*b));
}

static int boot_check(const struct boot *b, const char *policy_text) {
        _cleanup_(mb_policy_freep) struct mb_policy *policy = NULL;

        assert_int_equal(mb_policy_parse(policy_text, strlen(policy_text), &policy), 0);
        return mb_policy_check(policy, b->log.data, b->log.size, &b->quoted);
}

/* The policy a tenant would write for this boot: every digest that extends PCRs 4 and 9, each
 * rule labelled with the type the firmware logs it under; each %s may be replaced by the caller. */
static char *full_policy(const struct boot *b, const char *kernel, const char *pcr9, const char *secure) {
        char *text;

        assert_true(asprintf(&text,
                             "{\"version\": 1, \"bank\": \"sha256\",\n"
                             " \"pcrs\": {\"4\": [\"%s\"], \"9\": [\"%s\"]},\n"
                             " \"events\": [\n"
                             "  {\"pcr\": 4, \"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\", \"digests\": [%s]},\n"
                             "  {\"pcr\": 4, \"type\": \"EV_EFI_ACTION\", \"digests\": [\"%s\"]},\n"
                             "  {\"pcr\": 4, \"type\": \"EV_SEPARATOR\", \"digests\": [\"%s\"]},\n"
                             "  {\"pcr\": 9, \"type\": \"EV_EVENT_TAG\", \"digests\": [\"%s\", \"%s\"]}],\n"
                             " \"secure_boot\": \"%s\"}\n",
                             b->pcr4, pcr9, kernel, b->calling, b->separator, b->cmdline, b->initrd, secure) > 0);
        return text;
}

static char *quoted_list(const char *a, const char *b) {
        char *text;

        assert_true(asprintf(&text, b ? "\"%s\", \"%s\"" : "\"%s\"", a, b) > 0);
        return text;
}

static void test_pass(void **state) {
        _cleanup_(freep) char *kernel = NULL, *policy = NULL;
        struct boot b;

        boot_init(&b, 1);
        kernel = quoted_list(b.kernel, NULL);
        policy = full_policy(&b, kernel, b.pcr9, "enabled");
        assert_int_equal(boot_check(&b, policy), 0);
        /* nothing but the replay */
        assert_int_equal(boot_check(&b, "{\"version\": 1, \"bank\": \"sha256\"}"), 0);
        boot_done(&b);
}

/* A kernel digest the policy does not list: -EPERM naming PCR 4, the event, the digest found
 * and the one allowed. */
static void test_wrong_kernel(void **state) {
        _cleanup_(freep) char *kernel = NULL, *policy = NULL, *either = NULL, *policy_either = NULL;
        char expected[256];
        struct boot b;

        boot_init(&b, 1);
        kernel = quoted_list(other_digest, NULL);
        policy = full_policy(&b, kernel, b.pcr9, "enabled");
        snprintf(expected, sizeof(expected), "PCR 4 event %u (EV_EFI_BOOT_SERVICES_APPLICATION): sha256 digest %s",
                 b.kernel_event, b.kernel);
        assert_error(boot_check(&b, policy), -EPERM, expected);
        assert_error(boot_check(&b, policy), -EPERM, "is not allowed (the policy allows 00112233445566778899");
        /* any one of the listed digests will do */
        either = quoted_list(other_digest, b.kernel);
        policy_either = full_policy(&b, either, b.pcr9, "enabled");
        assert_int_equal(boot_check(&b, policy_either), 0);
        boot_done(&b);
}

static void test_pcr_value_mismatch(void **state) {
        _cleanup_(freep) char *kernel = NULL, *policy = NULL, *two = NULL;
        char expected[256];
        struct boot b;

        boot_init(&b, 1);
        kernel = quoted_list(b.kernel, NULL);
        policy = full_policy(&b, kernel, other_digest, "enabled");
        snprintf(expected, sizeof(expected), "PCR 9 is %s, the policy allows %s", b.pcr9, other_digest);
        assert_error(boot_check(&b, policy), -EPERM, expected);
        /* several acceptable values: any one */
        assert_true(asprintf(&two, "{\"version\": 1, \"bank\": \"sha256\", \"pcrs\": {\"9\": [\"%s\", \"%s\"]}}",
                             other_digest, b.pcr9) > 0);
        assert_int_equal(boot_check(&b, two), 0);
        /* the last value no longer matches */
        two[strlen(two) - 6] = two[strlen(two) - 6] == '0' ? '1' : '0';
        assert_error(boot_check(&b, two), -EPERM, "the policy allows 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff and 1 more");
        boot_done(&b);
}

static void test_secure_boot(void **state) {
        static const struct {
                int measured;       /* 1, 0, -1 empty, -2 not measured */
                const char *policy;
                const char *refusal; /* NULL: passes */
        } cases[] = {
                { 1, "enabled", NULL },
                { 1, "any", NULL },
                { 1, "disabled", "Secure Boot is enabled, the policy requires it disabled" },
                { 0, "enabled", "Secure Boot is disabled, the policy requires it enabled" },
                { 0, "disabled", NULL },
                { 0, "any", NULL },
                { -1, "enabled", "Secure Boot is absent, the policy requires it enabled" },
                { -1, "disabled", NULL },
                { -2, "enabled", "Secure Boot is absent, the policy requires it enabled" },
                { -2, "disabled", NULL },
                { -2, "any", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *kernel = NULL, *policy = NULL;
                struct boot b;

                boot_init(&b, cases[i].measured);
                kernel = quoted_list(b.kernel, NULL);
                policy = full_policy(&b, kernel, b.pcr9, cases[i].policy);
                if (cases[i].refusal)
                        assert_error(boot_check(&b, policy), -EPERM, cases[i].refusal);
                else
                        assert_int_equal(boot_check(&b, policy), 0);
                boot_done(&b);
        }
}

/* The log must account for the quoted PCRs 0-9 before any policy is looked at. */
static void test_log_does_not_replay(void **state) {
        _cleanup_(freep) char *kernel = NULL, *policy = NULL;
        char expected[256], quoted_hex[65];
        struct boot b;

        boot_init(&b, 1);
        kernel = quoted_list(b.kernel, NULL);
        policy = full_policy(&b, kernel, b.pcr9, "enabled");
        b.quoted.value[4].buffer[0] ^= 0x80;
        hex(b.quoted.value[4].buffer, 32, quoted_hex);
        snprintf(expected, sizeof(expected), "event log: PCR 4 replays to %s, the quote has %s", b.pcr4, quoted_hex);
        assert_error(boot_check(&b, policy), -EBADMSG, expected);
        b.quoted.value[4].buffer[0] ^= 0x80;
        assert_int_equal(boot_check(&b, policy), 0);

        /* PCR 8: no event, so the quote must show it untouched */
        b.quoted.value[8].buffer[31] = 1;
        assert_error(boot_check(&b, policy), -EBADMSG,
                     "PCR 8 replays to 0000000000000000000000000000000000000000000000000000000000000000, the quote has");
        b.quoted.value[8].buffer[31] = 0;

        /* PCRs 10-23 are not the firmware's: not compared */
        b.quoted.value[10].buffer[0] ^= 1;
        b.quoted.value[16].buffer[0] ^= 1;
        assert_int_equal(boot_check(&b, policy), 0);

        /* an event the quote did not see */
        measure(&b, 5, EV_EFI_ACTION, "Exit Boot Services Invocation", 29, NULL, 0, NULL);
        assert_error(boot_check(&b, policy), -EBADMSG, "event log: PCR 5 replays to");
        /* a log cut short: the parser's own detail */
        b.log.size -= 3;
        assert_error(boot_check(&b, policy), -EBADMSG, "truncated in event data");
        boot_done(&b);
}

static void test_quote_does_not_cover(void **state) {
        _cleanup_(freep) char *kernel = NULL, *policy = NULL;
        struct boot b;

        boot_init(&b, 1);
        kernel = quoted_list(b.kernel, NULL);
        policy = full_policy(&b, kernel, b.pcr9, "enabled");
        b.quoted.mask &= ~(1u << 9);
        assert_error(boot_check(&b, policy), -EPERM, "needs PCR 9, which the quote does not cover");
        b.quoted.mask = 0x000100ff & ~(1u << 4);
        assert_error(boot_check(&b, policy), -EPERM, "needs PCR 4");
        assert_int_equal(boot_check(&b, "{\"version\": 1, \"bank\": \"sha256\", \"secure_boot\": \"enabled\"}"), 0);
        b.quoted.mask &= ~(1u << 7);
        assert_error(boot_check(&b, "{\"version\": 1, \"bank\": \"sha256\", \"secure_boot\": \"enabled\"}"), -EPERM,
                     "needs PCR 7");
        /* without PCR rules, a quote without PCRs 0-9 is still checked for what it has */
        b.quoted.mask = 1u << 16;
        assert_int_equal(boot_check(&b, "{\"version\": 1, \"bank\": \"sha256\"}"), 0);
        boot_done(&b);
}

static void test_bank_and_sizes(void **state) {
        struct boot b;

        boot_init(&b, 1);
        b.quoted.bank = TPM2_ALG_SHA384;
        assert_error(boot_check(&b, "{\"version\": 1, \"bank\": \"sha256\"}"), -EPERM,
                     "requires the sha256 bank, the quote is over sha384");
        b.quoted.bank = TPM2_ALG_SHA256;
        assert_error(boot_check(&b, "{\"version\": 1, \"bank\": \"sha384\"}"), -EPERM,
                     "requires the sha384 bank, the quote is over sha256");
        b.quoted.value[3].size = 20;
        assert_error(boot_check(&b, "{\"version\": 1, \"bank\": \"sha256\"}"), -EINVAL,
                     "quoted PCR 3 has 20 bytes, a sha256 value has 32");
        boot_done(&b);
}

/* A rule is not met by the absence of its events, nor by the other rules of its PCR. */
static void test_rule_without_event(void **state) {
        _cleanup_(freep) char *policy = NULL, *empty_pcr = NULL;
        char expected[256];
        struct boot b;

        boot_init(&b, 1);
        assert_true(asprintf(&policy,
                             "{\"version\": 1, \"bank\": \"sha256\", \"events\": ["
                             "{\"pcr\": 4, \"type\": \"EV_EFI_ACTION\", \"digests\": [\"%s\", \"%s\", \"%s\"]},"
                             "{\"pcr\": 4, \"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\", \"digests\": [\"%s\"]}]}",
                             b.calling, b.separator, b.kernel, other_digest) > 0);
        snprintf(expected, sizeof(expected),
                 "PCR 4 has no event that events[1] (EV_EFI_BOOT_SERVICES_APPLICATION) allows; the policy requires one "
                 "with digest %s",
                 other_digest);
        assert_error(boot_check(&b, policy), -EPERM, expected);
        /* PCR 8: no event at all */
        assert_true(asprintf(&empty_pcr,
                             "{\"version\": 1, \"bank\": \"sha256\", \"events\": [{\"pcr\": 8, \"type\": "
                             "\"EV_EFI_BOOT_SERVICES_APPLICATION\", \"digests\": [\"%s\"]}]}",
                             b.kernel) > 0);
        assert_error(boot_check(&b, empty_pcr), -EPERM, "PCR 8 has no event that events[0] "
                                                        "(EV_EFI_BOOT_SERVICES_APPLICATION) allows");
        boot_done(&b);
}

/* Every event that extends a ruled PCR is held to the digests of that PCR's rules, whatever
 * type it is logged under and whichever rule's label matches it: a rule naming only the kernel
 * leaves PCR 4's other events unaccounted for. EV_NO_ACTION events extend nothing and are not
 * looked at; digests may be shared by rules. */
static void test_every_event_of_the_pcr(void **state) {
        _cleanup_(freep) char *kernel_only = NULL, *one_rule = NULL, *crossed = NULL;
        char expected[256];
        struct boot b;

        boot_init(&b, 1);
        assert_true(asprintf(&kernel_only,
                             "{\"version\": 1, \"bank\": \"sha256\", \"events\": [{\"pcr\": 4, \"type\": "
                             "\"EV_EFI_BOOT_SERVICES_APPLICATION\", \"digests\": [\"%s\"]}]}",
                             b.kernel) > 0);
        snprintf(expected, sizeof(expected),
                 "PCR 4 event 3 (EV_EFI_ACTION): sha256 digest %s is not allowed (the policy allows %s)", b.calling,
                 b.kernel);
        assert_error(boot_check(&b, kernel_only), -EPERM, expected);
        /* one rule listing them all, or labels that match no event's type: the digests decide */
        assert_true(asprintf(&one_rule,
                             "{\"version\": 1, \"bank\": \"sha256\", \"events\": [{\"pcr\": 4, \"type\": "
                             "\"EV_EFI_BOOT_SERVICES_APPLICATION\", \"digests\": [\"%s\", \"%s\", \"%s\"]}]}",
                             b.separator, b.kernel, b.calling) > 0);
        assert_int_equal(boot_check(&b, one_rule), 0);
        assert_true(asprintf(&crossed,
                             "{\"version\": 1, \"bank\": \"sha256\", \"events\": ["
                             "{\"pcr\": 4, \"type\": \"EV_IPL\", \"digests\": [\"%s\", \"%s\"]},"
                             "{\"pcr\": 4, \"type\": \"EV_POST_CODE\", \"digests\": [\"%s\", \"%s\"]}]}",
                             b.kernel, b.calling, b.separator, b.calling) > 0);
        assert_int_equal(boot_check(&b, crossed), 0);
        /* an EV_NO_ACTION event in PCR 4 with a digest no rule names: not an extend */
        measure(&b, 4, EV_NO_ACTION, "NvIndexInstance", 15, NULL, 0, NULL); /* b.quoted stays as it was */
        assert_int_equal(boot_check(&b, one_rule), 0);
        boot_done(&b);
}

/* PCR 9: both EV_EVENT_TAG events (command line, initrd) must be allowed. */
static void test_event_tags(void **state) {
        _cleanup_(freep) char *policy = NULL;
        char expected[256];
        struct boot b;

        boot_init(&b, 1);
        assert_true(asprintf(&policy,
                             "{\"version\": 1, \"bank\": \"sha256\", \"events\": [{\"pcr\": 9, \"type\": "
                             "\"EV_EVENT_TAG\", \"digests\": [\"%s\"]}]}",
                             b.cmdline) > 0);
        snprintf(expected, sizeof(expected), "PCR 9 event %u (EV_EVENT_TAG): sha256 digest %s is not allowed (the policy allows %s)",
                 b.initrd_event, b.initrd, b.cmdline);
        assert_error(boot_check(&b, policy), -EPERM, expected);
        boot_done(&b);
}

static void test_parse_valid(void **state) {
        static const char minimal[] = "{\"bank\":\"sha512\",\"version\":1,\"events\":[],\"pcrs\":{}}";
        _cleanup_(mb_policy_freep) struct mb_policy *policy = NULL;
        _cleanup_(freep) char *text = NULL;
        char zeros[97], ones[97];
        json_object *array;

        memset(zeros, '0', 96);
        zeros[96] = '\0';
        memset(ones, 'f', 96);
        ones[96] = '\0';
        assert_true(asprintf(&text,
                             "{\"version\":1,\"bank\":\"sha384\",\"pcrs\":{\"0\":[\"00112233445566778899AABBCCDDEEFF%.64s\"],"
                             "\"7\":[\"%s\",\"%s\"]},\"events\":[{\"type\":\"EV_IPL\",\"digests\":[\"ab%.94s\"],\"pcr\":8}],"
                             "\"secure_boot\":\"disabled\"}\n\t \r\n",
                             zeros, zeros, ones, zeros) > 0);
        assert_int_equal(mb_policy_parse(text, strlen(text), &policy), 0);
        assert_int_equal(policy->bank, TPM2_ALG_SHA384);
        assert_int_equal(policy->pcr_mask, 0x81);
        assert_int_equal(policy->pcrs[0].count, 1);
        assert_int_equal(policy->pcrs[0].digests[0].size, 48);
        assert_int_equal(policy->pcrs[0].digests[0].buffer[10], 0xaa); /* upper case hex */
        assert_int_equal(policy->pcrs[7].count, 2);
        assert_int_equal(policy->pcrs[7].digests[1].buffer[47], 0xff);
        assert_int_equal(policy->rule_count, 1);
        assert_int_equal(policy->rules[0].pcr, 8);
        assert_int_equal(policy->rules[0].type, EV_IPL);
        assert_int_equal(policy->rules[0].allowed.count, 1);
        assert_int_equal(policy->rules[0].allowed.digests[0].buffer[0], 0xab);
        assert_int_equal(policy->secure_boot, MB_POLICY_SECURE_BOOT_DISABLED);
        mb_policy_free(TAKE_PTR(policy));

        assert_int_equal(mb_policy_parse(minimal, strlen(minimal), &policy), 0);
        assert_int_equal(policy->bank, TPM2_ALG_SHA512);
        assert_int_equal(policy->pcr_mask, 0);
        assert_int_equal(policy->rule_count, 0);
        assert_int_equal(policy->secure_boot, MB_POLICY_SECURE_BOOT_ANY);
        mb_policy_free(TAKE_PTR(policy));

        /* from a parsed object; anything but an object is refused */
        array = json_tokener_parse("[1]");
        assert_non_null(array);
        assert_error(mb_policy_from_json(array, &policy), -EBADMSG, "measured-boot policy: not a JSON object");
        assert_null(policy);
        json_object_put(array);
        mb_policy_free(NULL);
}

#define D32 "\"0000000000000000000000000000000000000000000000000000000000000000\""
#define HEAD "{\"version\":1,\"bank\":\"sha256\","

static void test_parse_invalid(void **state) {
        static const struct {
                const char *text, *detail;
        } bad[] = {
                { "", "the JSON text ends early" },
                { "{\"version\":1", "the JSON text ends early" },
                { "{version:1}", "not JSON" },
                { "{\"version\":1,\"bank\":\"sha256\"} {}", "unexpected data after the JSON value at offset 30" },
                { "{\"version\":1,\"bank\":\"sha256\"}x", "unexpected data after the JSON value" },
                { "[]", "not a JSON object" },
                { "\"policy\"", "not a JSON object" },
                { "null", "not a JSON object" },
                { HEAD "\"pcr\":{}}", "unknown member \"pcr\"" },
                { HEAD "\"meta\":{\"version\":1}}", "unknown member \"meta\"" },
                { "{\"bank\":\"sha256\"}", "missing version" },
                { "{\"version\":2,\"bank\":\"sha256\"}", "version 2 is not supported" },
                { "{\"version\":\"1\",\"bank\":\"sha256\"}", "version is not an integer" },
                { "{\"version\":1.0,\"bank\":\"sha256\"}", "version is not an integer" },
                { "{\"version\":1}", "measured-boot policy: missing bank" },
                { "{\"version\":1,\"bank\":\"sha1\"}", "bank \"sha1\" is not sha256, sha384 or sha512" },
                { "{\"version\":1,\"bank\":\"md5\"}", "bank \"md5\" is not sha256" },
                { "{\"version\":1,\"bank\":\"SHA256\"}", "bank \"SHA256\" is not sha256" },
                { "{\"version\":1,\"bank\":11}", "bank is not a string" },
                { HEAD "\"pcrs\":[]}", "pcrs is not an object" },
                { HEAD "\"pcrs\":null}", "pcrs is not an object" },
                { HEAD "\"pcrs\":{\"10\":[" D32 "]}}", "pcrs: \"10\" is not a PCR 0-9" },
                { HEAD "\"pcrs\":{\"16\":[" D32 "]}}", "pcrs: \"16\" is not a PCR 0-9" },
                { HEAD "\"pcrs\":{\"-1\":[" D32 "]}}", "pcrs: \"-1\" is not a PCR 0-9" },
                { HEAD "\"pcrs\":{\"04\":[" D32 "]}}", "pcrs: \"04\" is not a PCR 0-9" },
                { HEAD "\"pcrs\":{\"a\":[" D32 "]}}", "pcrs: \"a\" is not a PCR 0-9" },
                { HEAD "\"pcrs\":{\"\":[" D32 "]}}", "pcrs: \"\" is not a PCR 0-9" },
                { HEAD "\"pcrs\":{\"4\":" D32 "}}", "pcrs.4 is not an array of hex digests" },
                { HEAD "\"pcrs\":{\"4\":[]}}", "pcrs.4 holds 0 digests, not 1-256" },
                { HEAD "\"pcrs\":{\"4\":[" D32 ",5]}}", "pcrs.4[1] is not a string" },
                { HEAD "\"pcrs\":{\"4\":[\"00\"]}}", "pcrs.4[0]: 2 hex digits, a sha256 digest has 64" },
                { HEAD "\"pcrs\":{\"4\":[" D32 ",\"000000000000000000000000000000000000000000000000000000000000000\"]}}",
                  "pcrs.4[1]: 63 hex digits" },
                { HEAD "\"pcrs\":{\"4\":[\"000000000000000000000000000000000000000000000000000000000000000g\"]}}",
                  "pcrs.4[0]: hex: invalid digit at offset 63" },
                { HEAD "\"pcrs\":{\"4\":[\" 000000000000000000000000000000000000000000000000000000000000000\"]}}",
                  "pcrs.4[0]: hex: invalid digit at offset 0" },
                { HEAD "\"events\":{}}", "events is not an array" },
                { HEAD "\"events\":[5]}", "events[0] is not an object" },
                { HEAD "\"events\":[{\"pcr\":4,\"type\":\"EV_IPL\",\"digests\":[" D32 "],\"note\":1}]}",
                  "events[0]: unknown member \"note\"" },
                { HEAD "\"events\":[{\"type\":\"EV_IPL\",\"digests\":[" D32 "]}]}", "events[0]: missing pcr" },
                { HEAD "\"events\":[{\"pcr\":\"4\",\"type\":\"EV_IPL\",\"digests\":[" D32 "]}]}",
                  "events[0].pcr is not an integer" },
                { HEAD "\"events\":[{\"pcr\":10,\"type\":\"EV_IPL\",\"digests\":[" D32 "]}]}",
                  "events[0].pcr 10 is not a PCR 0-9" },
                { HEAD "\"events\":[{\"pcr\":-1,\"type\":\"EV_IPL\",\"digests\":[" D32 "]}]}",
                  "events[0].pcr -1 is not a PCR 0-9" },
                { HEAD "\"events\":[{\"pcr\":4,\"digests\":[" D32 "]}]}", "events[0]: missing type" },
                { HEAD "\"events\":[{\"pcr\":4,\"type\":6,\"digests\":[" D32 "]}]}", "events[0]: type is not a string" },
                { HEAD "\"events\":[{\"pcr\":4,\"type\":\"EV_KERNEL\",\"digests\":[" D32 "]}]}",
                  "events[0].type \"EV_KERNEL\" is not a known event type" },
                { HEAD "\"events\":[{\"pcr\":0,\"type\":\"EV_NO_ACTION\",\"digests\":[" D32 "]}]}",
                  "events[0].type: EV_NO_ACTION events extend no PCR" },
                { HEAD "\"events\":[{\"pcr\":4,\"type\":\"EV_IPL\"}]}", "events[0]: missing digests" },
                { HEAD "\"events\":[{\"pcr\":4,\"type\":\"EV_IPL\",\"digests\":[]}]}",
                  "events[0].digests holds 0 digests, not 1-4096" },
                { HEAD "\"events\":[{\"pcr\":4,\"type\":\"EV_IPL\",\"digests\":[\"xyz\"]}]}",
                  "events[0].digests[0]: 3 hex digits" },
                { HEAD "\"events\":[{\"pcr\":4,\"type\":\"EV_IPL\",\"digests\":[" D32 "]},"
                       "{\"pcr\":9,\"type\":\"EV_IPL\",\"digests\":[" D32 "]},"
                       "{\"pcr\":4,\"type\":\"EV_IPL\",\"digests\":[" D32 "]}]}",
                  "events[2]: a second rule for PCR 4 EV_IPL (events[0])" },
                { HEAD "\"secure_boot\":\"on\"}", "secure_boot \"on\" is not enabled, disabled or any" },
                { HEAD "\"secure_boot\":true}", "secure_boot is not a string" },
                { HEAD "\"pcrs\":{\"4\":[[[[[[[[[]]]]]]]]]}}", "not JSON" }, /* nested beyond the depth limit */
        };

        static struct mb_policy untouched;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct mb_policy *policy = &untouched;

                assert_error(mb_policy_parse(bad[i].text, strlen(bad[i].text), &policy), -EBADMSG, bad[i].detail);
                assert_detail_contains(-EBADMSG, "measured-boot policy: ");
                assert_null(policy);
        }
}

static void test_parse_limits(void **state) {
        _cleanup_(freep) char *text = NULL;
        struct mb_policy *policy;
        size_t size = 0, cap = 1 << 20;
        unsigned i;

        text = malloc(cap);
        assert_non_null(text);
        /* 257 values of one PCR */
        size = (size_t)sprintf(text, HEAD "\"pcrs\":{\"4\":[");
        for (i = 0; i < MB_POLICY_MAX_VALUES + 1; i++)
                size += (size_t)sprintf(text + size, "%s" D32, i ? "," : "");
        size += (size_t)sprintf(text + size, "]}}");
        assert_error(mb_policy_parse(text, size, &policy), -EBADMSG, "pcrs.4 holds 257 digests, not 1-256");
        /* 65 rules */
        size = (size_t)sprintf(text, HEAD "\"events\":[");
        for (i = 0; i < MB_POLICY_MAX_RULES + 1; i++)
                size += (size_t)sprintf(text + size, "%s{\"pcr\":%u,\"type\":\"EV_IPL\",\"digests\":[" D32 "]}",
                                        i ? "," : "", i % 10);
        size += (size_t)sprintf(text + size, "]}");
        assert_error(mb_policy_parse(text, size, &policy), -EBADMSG, "events holds 65 rules, at most 64");
        /* more text than a policy may have (not even parsed) */
        assert_error(mb_policy_parse(text, MB_POLICY_TEXT_MAX + 1, &policy), -EBADMSG, "4194305 bytes, at most 4194304");
        /* 4096 digests in one rule is fine */
        size = (size_t)sprintf(text, HEAD "\"events\":[{\"pcr\":4,\"type\":\"EV_IPL\",\"digests\":[");
        for (i = 0; i < MB_POLICY_MAX_DIGESTS; i++)
                size += (size_t)sprintf(text + size, "%s\"%064x\"", i ? "," : "", i);
        size += (size_t)sprintf(text + size, "]}]}");
        assert_true(size < cap);
        assert_int_equal(mb_policy_parse(text, size, &policy), 0);
        assert_int_equal(policy->rules[0].allowed.count, MB_POLICY_MAX_DIGESTS);
        assert_int_equal(policy->rules[0].allowed.digests[4095].buffer[31], 0xff);
        mb_policy_free(policy);
}

/* A valid policy with a few bytes changed: it loads or is refused with a detail, and one that
 * loads checks the boot without a crash, either passing or refusing it (the log always replays). */
static void test_parse_mutated(void **state) {
        _cleanup_(freep) char *kernel = NULL, *valid = NULL;
        uint64_t prng = FUZZ_SEED;
        unsigned loaded = 0;
        struct boot b;

        boot_init(&b, 1);
        kernel = quoted_list(b.kernel, other_digest);
        valid = full_policy(&b, kernel, b.pcr9, "enabled");
        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                _cleanup_(freep) char *text = strdup(valid);
                struct mb_policy *policy;
                int ret;

                assert_non_null(text);
                prng_mutate(&prng, (uint8_t *)text, strlen(valid));
                vm_error_clear();
                ret = mb_policy_parse(text, strlen(valid), &policy);
                assert_true(ret == 0 || ret == -EBADMSG);
                if (ret < 0) {
                        assert_detail_contains(ret, "measured-boot policy: ");
                        continue;
                }
                loaded++;
                ret = mb_policy_check(policy, b.log.data, b.log.size, &b.quoted);
                assert_true(ret == 0 || ret == -EPERM);
                mb_policy_free(policy);
        }
        assert_true(loaded > 0);
        boot_done(&b);
}

/* The real OVMF + Debian kernel boot of tests/fixtures/boot/, parsed here independently of
 * lib/eventlog.c so that a test can edit its records the way a hostile guest would and compute
 * the PCRs a TPM would then hold. Its records carry one digest, sha256 (swtpm's one bank):
 *   event 0:  u32 pcr, u32 type, u8 sha1[20], u32 size, data
 *   events 1..: u32 pcr, u32 type, u32 count (1), u16 alg (sha256), u8 digest[32], u32 size, data */
#define REAL_MAX_EVENTS 64
#define REAL_TYPE 4    /* offsets inside a TCG_PCR_EVENT2 record */
#define REAL_DIGEST 14
#define REAL_SIZE 46
#define REAL_DATA 50

/* Digests read from that log (tpm2_eventlog tests/fixtures/boot/binary_bios_measurements). */
static const char real_kernel[] = "43e53eeb7ae7463823f3e837a191811b3ef263454c8e0331b8ba351bd6e2c1fd";
static const char real_calling[] = "3d6772b4f84ed47595d72a2c4c5ffd15f5bb72c7507fe26f2aaee2c69d5633ba";
static const char real_separator[] = "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119";
static const char real_cmdline[] = "a750c5a71a8432b5d3a102e45517d86e53c768367fa6af79218d397aaffaacd5";
static const char real_initrd[] = "681771e786f0543d27d5b411bcc1dbe5d84ff70d22ed469a6e65dd4fa048b5ad";
#define REAL_SECURE_BOOT_EVENT 4 /* PCR 7, EFI_GLOBAL_VARIABLE SecureBoot, measured 0 */
#define REAL_KERNEL_EVENT 10     /* PCR 4, EV_EFI_BOOT_SERVICES_APPLICATION */

struct real_log {
        struct bytes log;
        unsigned count;                 /* records, the Spec ID event included */
        size_t offset[REAL_MAX_EVENTS]; /* of each record */
};

static uint32_t get_u32(const struct bytes *b, size_t offset) {
        assert_true(offset + 4 <= b->size);
        return (uint32_t)b->data[offset] | (uint32_t)b->data[offset + 1] << 8 | (uint32_t)b->data[offset + 2] << 16 |
               (uint32_t)b->data[offset + 3] << 24;
}

static void set_u32(struct bytes *b, size_t offset, uint32_t v) {
        assert_true(offset + 4 <= b->size);
        for (unsigned i = 0; i < 4; i++)
                b->data[offset + i] = (uint8_t)(v >> (8 * i));
}

/* Finds the records of rl->log; false when the fixture is not in this checkout. */
static bool real_log_load(struct real_log *rl) {
        FILE *probe = fopen(FIXTURE("binary_bios_measurements"), "rb");
        size_t offset;

        memset(rl, 0, sizeof(*rl));
        if (!probe)
                return false; /* the boot fixtures are captured by a VM test; not every checkout has them */
        fclose(probe);
        rl->log.data = read_vector(FIXTURE("binary_bios_measurements"), &rl->log.size);
        rl->log.cap = rl->log.size;
        rl->offset[rl->count++] = 0;
        offset = 4 + 4 + 20;
        offset += 4 + get_u32(&rl->log, offset);
        while (offset < rl->log.size) {
                assert_true(rl->count < REAL_MAX_EVENTS);
                rl->offset[rl->count++] = offset;
                assert_int_equal(get_u32(&rl->log, offset + 8), 1);
                assert_int_equal(rl->log.data[offset + 12] | rl->log.data[offset + 13] << 8, ALG_SHA256);
                offset += REAL_DATA + get_u32(&rl->log, offset + REAL_SIZE);
        }
        assert_int_equal(offset, rl->log.size);
        return true;
}

static void real_log_done(struct real_log *rl) {
        free(rl->log.data);
        memset(rl, 0, sizeof(*rl));
}

static uint8_t *real_digest(struct real_log *rl, unsigned event) {
        assert_true(event > 0 && event < rl->count);
        return rl->log.data + rl->offset[event] + REAL_DIGEST;
}

static void real_relabel(struct real_log *rl, unsigned event, uint32_t type) {
        assert_true(event > 0 && event < rl->count);
        set_u32(&rl->log, rl->offset[event] + REAL_TYPE, type);
}

/* Appends a record with `sha256` as its digest, as a guest that extends a PCR itself and
 * logs it would. */
static void real_append(struct real_log *rl, uint32_t pcr, uint32_t type, const uint8_t sha256[32], const void *data,
                        size_t size) {
        assert_true(rl->count < REAL_MAX_EVENTS);
        rl->offset[rl->count++] = rl->log.size;
        put_u32(&rl->log, pcr);
        put_u32(&rl->log, type);
        put_u32(&rl->log, 1);
        put_u16(&rl->log, ALG_SHA256);
        put(&rl->log, sha256, 32);
        put_u32(&rl->log, (uint32_t)size);
        put(&rl->log, data, size);
}

/* The quote a TPM would give after the extends rl->log records: every record but the EV_NO_ACTION
 * ones extends its PCR (the fixture has no StartupLocality event), PCRs 0-9 quoted with 10 and 16.
 * Take it before relabelling a record EV_NO_ACTION: the TPM saw that extend all the same. */
static void real_quote(const struct real_log *rl, struct pcr_values *quoted) {
        uint8_t pcr[PCRS][32] = { { 0 } };

        for (unsigned i = 1; i < rl->count; i++) {
                size_t offset = rl->offset[i];
                uint32_t index = get_u32(&rl->log, offset);

                assert_true(index < PCRS);
                if (get_u32(&rl->log, offset + REAL_TYPE) != EV_NO_ACTION)
                        extend(pcr[index], rl->log.data + offset + REAL_DIGEST);
        }
        memset(quoted, 0, sizeof(*quoted));
        quoted->bank = TPM2_ALG_SHA256;
        quoted->mask = 0x000107ff;
        for (unsigned i = 0; i < PCRS; i++)
                if (quoted->mask & (1u << i)) {
                        quoted->value[i].size = 32;
                        memcpy(quoted->value[i].buffer, pcr[i], 32);
                }
        memset(quoted->value[10].buffer, 0xa1, 32);
        memset(quoted->value[16].buffer, 0x16, 32);
}

static int real_check(const struct real_log *rl, const char *policy_text) {
        _cleanup_(mb_policy_freep) struct mb_policy *policy = NULL;
        struct pcr_values quoted;

        real_quote(rl, &quoted);
        assert_int_equal(mb_policy_parse(policy_text, strlen(policy_text), &policy), 0);
        return mb_policy_check(policy, rl->log.data, rl->log.size, &quoted);
}

/* The policy a tenant writes for that boot: every digest that extends PCRs 4 and 9, each rule
 * labelled with the type the firmware logs it under. */
static char *real_policy(const char *secure) {
        char *text;

        assert_true(asprintf(&text,
                             "{\"version\": 1, \"bank\": \"sha256\", \"events\": ["
                             " {\"pcr\": 4, \"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\", \"digests\": [\"%s\"]},"
                             " {\"pcr\": 4, \"type\": \"EV_EFI_ACTION\", \"digests\": [\"%s\"]},"
                             " {\"pcr\": 4, \"type\": \"EV_SEPARATOR\", \"digests\": [\"%s\"]},"
                             " {\"pcr\": 9, \"type\": \"EV_EVENT_TAG\", \"digests\": [\"%s\", \"%s\"]}],"
                             " \"secure_boot\": \"%s\"}",
                             real_kernel, real_calling, real_separator, real_cmdline, real_initrd, secure) > 0);
        return text;
}

/* The genuine log: the independent replay above gives the PCRs the TPM reported, and the
 * tenant's policy passes it; Secure Boot was off in that VM. */
static void test_real_boot(void **state) {
        _cleanup_(freep) char *policy = NULL, *enabled = NULL, *pinned = NULL;
        struct pcr_values quoted, read;
        char kernel_hex[65], pcr4[65], pcr9[65], line[256];
        FILE *pcrs;
        struct real_log rl;

        if (!real_log_load(&rl)) {
                skip();
                return;
        }
        /* the replay here meets what the TPM reported */
        pcrs = fopen(FIXTURE("pcrs-sha256.txt"), "r");
        assert_non_null(pcrs);
        memset(&read, 0, sizeof(read));
        while (fgets(line, sizeof(line), pcrs)) {
                char value[65];
                unsigned pcr;

                if (sscanf(line, "%u %64[0-9a-f]", &pcr, value) != 2 || pcr >= PCRS || strlen(value) != 64)
                        continue;
                read.mask |= 1u << pcr;
                for (unsigned i = 0; i < 32; i++)
                        assert_int_equal(sscanf(value + 2 * i, "%2hhx", &read.value[pcr].buffer[i]), 1);
        }
        fclose(pcrs);
        assert_int_equal(read.mask, 0x00ffffff);
        real_quote(&rl, &quoted);
        for (unsigned pcr = 0; pcr <= 9; pcr++)
                assert_memory_equal(quoted.value[pcr].buffer, read.value[pcr].buffer, 32);
        hex(real_digest(&rl, REAL_KERNEL_EVENT), 32, kernel_hex);
        assert_string_equal(kernel_hex, real_kernel);

        policy = real_policy("disabled");
        assert_int_equal(real_check(&rl, policy), 0);
        /* one rule with every digest of the PCR does as well, and so does pinning the values */
        hex(quoted.value[4].buffer, 32, pcr4);
        hex(quoted.value[9].buffer, 32, pcr9);
        assert_true(asprintf(&pinned,
                             "{\"version\": 1, \"bank\": \"sha256\", \"pcrs\": {\"4\": [\"%s\"], \"9\": [\"%s\"]},"
                             " \"events\": [{\"pcr\": 4, \"type\": \"EV_EFI_BOOT_SERVICES_APPLICATION\","
                             " \"digests\": [\"%s\", \"%s\", \"%s\"]}], \"secure_boot\": \"disabled\"}",
                             pcr4, pcr9, real_separator, real_kernel, real_calling) > 0);
        assert_int_equal(real_check(&rl, pinned), 0);
        enabled = real_policy("enabled");
        assert_error(real_check(&rl, enabled), -EPERM, "Secure Boot is disabled, the policy requires it enabled");
        /* a quote that differs from the log in PCR 0 */
        {
                _cleanup_(mb_policy_freep) struct mb_policy *parsed = NULL;

                assert_int_equal(mb_policy_parse(policy, strlen(policy), &parsed), 0);
                quoted.value[0].buffer[5] ^= 1;
                assert_error(mb_policy_check(parsed, rl.log.data, rl.log.size, &quoted), -EBADMSG,
                             "event log: PCR 0 replays to eaa650ae");
        }
        real_log_done(&rl);
}

static void unhex(const char *text, uint8_t *out, size_t size) {
        assert_int_equal(strlen(text), 2 * size);
        for (size_t i = 0; i < size; i++)
                assert_int_equal(sscanf(text + 2 * i, "%2hhx", &out[i]), 1);
}

/* Finding: an event's type is covered by no digest. A guest that booted another kernel
 * relabels that kernel's event as some other type and extends PCR 4 once more itself, logging
 * the good kernel's digest as the application: the log still replays to the quoted PCR 4, and
 * rules that selected events by type saw only the good digest. Every event of PCR 4 is held to
 * the policy's digests now, whatever its label. */
static void test_real_relabelled_kernel(void **state) {
        static const struct {
                uint32_t label;
                const char *shown;
        } labels[] = {
                { EV_IPL, "EV_IPL" },
                { EV_EFI_BOOT_SERVICES_DRIVER, "EV_EFI_BOOT_SERVICES_DRIVER" },
                { EV_EFI_ACTION, "EV_EFI_ACTION" },
                { 0x12345678, "type 0x12345678" },
        };
        static const char evil_kernel[] = "MZ... another kernel";
        _cleanup_(freep) char *policy = real_policy("any"), *kernel_only = NULL;
        uint8_t evil[32], good[32];
        char evil_hex[65], expected[256];

        assert_int_equal(EVP_Digest(evil_kernel, strlen(evil_kernel), evil, NULL, EVP_sha256(), NULL), 1);
        hex(evil, 32, evil_hex);
        unhex(real_kernel, good, 32);
        /* the policy of a tenant who named only the kernel (what `events` used to invite) */
        assert_true(asprintf(&kernel_only,
                             "{\"version\": 1, \"bank\": \"sha256\", \"events\": [{\"pcr\": 4, \"type\": "
                             "\"EV_EFI_BOOT_SERVICES_APPLICATION\", \"digests\": [\"%s\"]}]}",
                             real_kernel) > 0);
        for (size_t i = 0; i < ELEMENTSOF(labels); i++) {
                uint8_t image_load_event[74];
                struct real_log rl;

                if (!real_log_load(&rl)) {
                        skip();
                        return;
                }
                assert_int_equal(real_check(&rl, policy), 0);
                assert_int_equal(get_u32(&rl.log, rl.offset[REAL_KERNEL_EVENT] + REAL_SIZE), sizeof(image_load_event));
                memcpy(image_load_event, rl.log.data + rl.offset[REAL_KERNEL_EVENT] + REAL_DATA,
                       sizeof(image_load_event));
                /* the other kernel booted: its digest where the good one's was, under another label */
                memcpy(real_digest(&rl, REAL_KERNEL_EVENT), evil, 32);
                real_relabel(&rl, REAL_KERNEL_EVENT, labels[i].label);
                /* and the guest's own extend of PCR 4, logged as the good kernel */
                real_append(&rl, 4, EV_EFI_BOOT_SERVICES_APPLICATION, good, image_load_event, sizeof(image_load_event));
                snprintf(expected, sizeof(expected), "PCR 4 event %u (%s): sha256 digest %s is not allowed",
                         REAL_KERNEL_EVENT, labels[i].shown, evil_hex);
                assert_error(real_check(&rl, policy), -EPERM, expected);
                assert_error(real_check(&rl, kernel_only), -EPERM, expected);
                real_log_done(&rl);
        }

        /* Relabelled EV_NO_ACTION, the other kernel's extend drops out of the replay, which then
         * misses the PCR 4 the TPM holds: the label can hide no extend. */
        {
                _cleanup_(mb_policy_freep) struct mb_policy *parsed = NULL;
                struct pcr_values quoted;
                struct real_log rl;

                if (!real_log_load(&rl)) {
                        skip();
                        return;
                }
                memcpy(real_digest(&rl, REAL_KERNEL_EVENT), evil, 32);
                real_append(&rl, 4, EV_EFI_BOOT_SERVICES_APPLICATION, good, NULL, 0);
                real_quote(&rl, &quoted);
                real_relabel(&rl, REAL_KERNEL_EVENT, EV_NO_ACTION);
                assert_int_equal(mb_policy_parse(policy, strlen(policy), &parsed), 0);
                assert_error(mb_policy_check(parsed, rl.log.data, rl.log.size, &quoted), -EBADMSG,
                             "event log: PCR 4 replays to");
                real_log_done(&rl);
        }
}

/* Finding: the Secure Boot state was read from event data no digest was checked against. The
 * SecureBoot byte flipped in the data, the digest left as measured: the log replays to the
 * quoted PCR 7 and the data says enabled. */
static void test_real_secure_boot_flipped(void **state) {
        _cleanup_(freep) char *policy = real_policy("enabled");
        struct real_log rl;
        uint32_t size;

        if (!real_log_load(&rl)) {
                skip();
                return;
        }
        size = get_u32(&rl.log, rl.offset[REAL_SECURE_BOOT_EVENT] + REAL_SIZE);
        assert_int_equal(size, 16 + 8 + 8 + 20 + 1);
        assert_int_equal(rl.log.data[rl.offset[REAL_SECURE_BOOT_EVENT] + REAL_DATA + size - 1], 0);
        assert_error(real_check(&rl, policy), -EPERM, "Secure Boot is disabled, the policy requires it enabled");
        rl.log.data[rl.offset[REAL_SECURE_BOOT_EVENT] + REAL_DATA + size - 1] = 1;
        assert_error(real_check(&rl, policy), -EBADMSG,
                     "event log event 4 (PCR 7, EV_EFI_VARIABLE_DRIVER_CONFIG): its sha256 digest is not the hash of "
                     "its event data");
        real_log_done(&rl);
}

/* The type of the SecureBoot event is no more vouched for than its data: the real one (0)
 * relabelled so that a reader selecting by type skips it, and the guest's own PCR 7 extend
 * logged as SecureBoot = 1 with a digest that is the hash of its data. Every PCR 7 event that
 * holds the variable counts, whatever its label, and they disagree. Or the real one's data
 * replaced too, so that it no longer reads as the variable: its digest is not its data's. */
static void test_real_secure_boot_relabelled(void **state) {
        _cleanup_(freep) char *policy = real_policy("enabled");
        uint8_t variable[16 + 8 + 8 + 20 + 1], sha256[32];
        size_t data_offset;
        struct real_log rl;

        for (unsigned garbled = 0; garbled <= 1; garbled++) {
                if (!real_log_load(&rl)) {
                        skip();
                        return;
                }
                data_offset = rl.offset[REAL_SECURE_BOOT_EVENT] + REAL_DATA;
                memcpy(variable, rl.log.data + data_offset, sizeof(variable));
                variable[sizeof(variable) - 1] = 1;
                assert_int_equal(EVP_Digest(variable, sizeof(variable), sha256, NULL, EVP_sha256(), NULL), 1);
                real_relabel(&rl, REAL_SECURE_BOOT_EVENT, EV_EFI_ACTION);
                if (garbled)
                        memset(rl.log.data + data_offset, 'x', 16);
                real_append(&rl, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, sha256, variable, sizeof(variable));
                if (garbled)
                        assert_error(real_check(&rl, policy), -EBADMSG,
                                     "event log event 4 (PCR 7, EV_EFI_ACTION): its sha256 digest is not the hash of "
                                     "its event data");
                else
                        assert_error(real_check(&rl, policy), -EBADMSG,
                                     "event log event 25: SecureBoot measured enabled, event 4 measured it disabled");
                real_log_done(&rl);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pass),
                cmocka_unit_test(test_wrong_kernel),
                cmocka_unit_test(test_pcr_value_mismatch),
                cmocka_unit_test(test_secure_boot),
                cmocka_unit_test(test_log_does_not_replay),
                cmocka_unit_test(test_quote_does_not_cover),
                cmocka_unit_test(test_bank_and_sizes),
                cmocka_unit_test(test_rule_without_event),
                cmocka_unit_test(test_every_event_of_the_pcr),
                cmocka_unit_test(test_event_tags),
                cmocka_unit_test(test_parse_valid),
                cmocka_unit_test(test_parse_invalid),
                cmocka_unit_test(test_parse_limits),
                cmocka_unit_test(test_parse_mutated),
                cmocka_unit_test(test_real_boot),
                cmocka_unit_test(test_real_relabelled_kernel),
                cmocka_unit_test(test_real_secure_boot_flipped),
                cmocka_unit_test(test_real_secure_boot_relabelled),
        };

        return cmocka_run_group_tests_name("mb_policy", tests, NULL, NULL);
}
