/* lib/eventlog.c: the UEFI firmware's crypto-agile event log (docs/protocol.md §8). A synthetic log
 * shaped like what OVMF and the Debian kernel's EFI stub write (Spec ID event, StartupLocality,
 * S-CRTM, SecureBoot, separators, the kernel in PCR 4, command line and initrd in PCR 9) is built
 * here, and the PCR values it must replay to are computed here too, with OpenSSL, by a model that
 * shares no code with the parser. Then hostile logs, and the real log from an OVMF + swtpm boot
 * when tests/fixtures/boot/ holds one. */
#include "tests/unit/unit.h"

#include <openssl/evp.h>

#include "lib/eventlog.h"

#define PCRS 24
#define MAX_RECORDS 64

#define ALG_SHA1 0x0004
#define ALG_SHA256 0x000b
#define ALG_SHA384 0x000c
#define ALG_SM3 0x0012

/* tags of the kernel EFI stub's EV_EVENT_TAG events (TCG_PCClientTaggedEvent) */
#define INITRD_EVENT_TAG_ID 0x8f3b22ecu
#define LOAD_OPTIONS_EVENT_TAG_ID 0x8f3b22edu

#define FIXTURE(name) "tests/fixtures/boot/" name

static const uint8_t global_guid[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                         0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
static const uint8_t security_db_guid[16] = { 0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45,
                                              0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f };

/* A growing byte buffer. */
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

static void put_u8(struct bytes *b, uint8_t v) {
        put(b, &v, 1);
}

static void put_u16(struct bytes *b, uint16_t v) {
        put_u8(b, (uint8_t)v);
        put_u8(b, (uint8_t)(v >> 8));
}

static void put_u32(struct bytes *b, uint32_t v) {
        put_u16(b, (uint16_t)v);
        put_u16(b, (uint16_t)(v >> 16));
}

static void put_u64(struct bytes *b, uint64_t v) {
        put_u32(b, (uint32_t)v);
        put_u32(b, (uint32_t)(v >> 32));
}

static void put_zeros(struct bytes *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                put_u8(b, 0);
}

static void put_u32_at(struct bytes *b, size_t offset, uint32_t v) {
        assert_true(offset + 4 <= b->size);
        for (unsigned i = 0; i < 4; i++)
                b->data[offset + i] = (uint8_t)(v >> (8 * i));
}

/* The log under construction and the model of the PCRs it must replay to. */
struct log {
        struct bytes b;
        size_t records[MAX_RECORDS + 1]; /* start offset of each record */
        unsigned count;
        uint8_t sha1[PCRS][20], sha256[PCRS][32];
        uint32_t extended;
};

static void digest(const EVP_MD *md, const void *data, size_t size, uint8_t *out) {
        assert_int_equal(EVP_Digest(data, size, out, NULL, md, NULL), 1);
}

static void model_extend(uint8_t *pcr, const EVP_MD *md, const uint8_t *d) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int size = EVP_MD_get_size(md);

        assert_non_null(ctx);
        assert_int_equal(EVP_DigestInit_ex(ctx, md, NULL), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, pcr, (size_t)size), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, d, (size_t)size), 1);
        assert_int_equal(EVP_DigestFinal_ex(ctx, pcr, NULL), 1);
        EVP_MD_CTX_free(ctx);
}

static void log_record_start(struct log *l) {
        assert_true(l->count < MAX_RECORDS);
        l->records[l->count++] = l->b.size;
}

/* The Spec ID event declaring `n` {algorithmId, digestSize} pairs. */
static void log_spec_id_with(struct log *l, const uint16_t (*algs)[2], uint32_t n) {
        struct bytes spec = { 0 };

        put(&spec, "Spec ID Event03", 16);
        put_u32(&spec, 0);  /* platformClass: client */
        put_u8(&spec, 0);   /* specVersionMinor */
        put_u8(&spec, 2);   /* specVersionMajor */
        put_u8(&spec, 0);   /* specErrata */
        put_u8(&spec, 2);   /* uintnSize: UINT64 */
        put_u32(&spec, n);
        for (uint32_t i = 0; i < n; i++) {
                put_u16(&spec, algs[i][0]);
                put_u16(&spec, algs[i][1]);
        }
        put_u8(&spec, 3);
        put(&spec, "VMA", 3); /* vendorInfo */

        log_record_start(l);
        put_u32(&l->b, 0);
        put_u32(&l->b, EV_NO_ACTION);
        put_zeros(&l->b, 20);
        put_u32(&l->b, (uint32_t)spec.size);
        put(&l->b, spec.data, spec.size);
        free(spec.data);
}

static const uint16_t sha1_sha256[2][2] = { { ALG_SHA1, 20 }, { ALG_SHA256, 32 } };

static void log_init(struct log *l) {
        memset(l, 0, sizeof(*l));
        for (unsigned pcr = 17; pcr <= 22; pcr++) { /* PC Client PTP reset values */
                memset(l->sha1[pcr], 0xff, 20);
                memset(l->sha256[pcr], 0xff, 32);
        }
        log_spec_id_with(l, sha1_sha256, 2);
}

static void log_done(struct log *l) {
        free(l->b.data);
        memset(l, 0, sizeof(*l));
}

/* A TCG_PCR_EVENT2 with the given sha1 and sha256 digests (sha256 first, as OVMF orders them
 * by its bank bitmap; the parser must not care). NULL digests are written as zeros. */
static void log_event_digests(struct log *l, uint32_t pcr, uint32_t type, const uint8_t *sha1, const uint8_t *sha256,
                              const void *data, size_t size) {
        log_record_start(l);
        put_u32(&l->b, pcr);
        put_u32(&l->b, type);
        put_u32(&l->b, 2);
        put_u16(&l->b, ALG_SHA256);
        if (sha256)
                put(&l->b, sha256, 32);
        else
                put_zeros(&l->b, 32);
        put_u16(&l->b, ALG_SHA1);
        if (sha1)
                put(&l->b, sha1, 20);
        else
                put_zeros(&l->b, 20);
        put_u32(&l->b, (uint32_t)size);
        put(&l->b, data, size);
        if (type != EV_NO_ACTION && sha1 && sha256) {
                model_extend(l->sha1[pcr], EVP_sha1(), sha1);
                model_extend(l->sha256[pcr], EVP_sha256(), sha256);
                l->extended |= 1u << pcr;
        }
}

/* An event whose digests are of `measured` (of the event data itself when NULL). */
static void log_measure(struct log *l, uint32_t pcr, uint32_t type, const void *data, size_t size,
                        const void *measured, size_t measured_size) {
        uint8_t sha1[20], sha256[32];

        if (!measured) {
                measured = data;
                measured_size = size;
        }
        digest(EVP_sha1(), measured, measured_size, sha1);
        digest(EVP_sha256(), measured, measured_size, sha256);
        log_event_digests(l, pcr, type, sha1, sha256, data, size);
}

static void log_no_action(struct log *l, uint32_t pcr, const void *data, size_t size) {
        log_event_digests(l, pcr, EV_NO_ACTION, NULL, NULL, data, size);
}

static void log_startup_locality(struct log *l, uint8_t locality) {
        uint8_t data[17];

        memcpy(data, "StartupLocality", 16);
        data[16] = locality;
        log_no_action(l, 0, data, sizeof(data));
        l->sha1[0][19] = locality;
        l->sha256[0][31] = locality;
}

/* UEFI_VARIABLE_DATA for `name` (ASCII, written as UTF-16LE). */
static void uefi_variable(struct bytes *b, const uint8_t guid[16], const char *name, const void *value, size_t size) {
        put(b, guid, 16);
        put_u64(b, strlen(name));
        put_u64(b, size);
        for (const char *c = name; *c; c++)
                put_u16(b, (uint8_t)*c);
        put(b, value, size);
}

static void log_variable(struct log *l, uint32_t pcr, uint32_t type, const uint8_t guid[16], const char *name,
                         const void *value, size_t size) {
        struct bytes var = { 0 };

        uefi_variable(&var, guid, name, value, size);
        log_measure(l, pcr, type, var.data, var.size, NULL, 0);
        free(var.data);
}

static void log_secure_boot(struct log *l, int value) {
        uint8_t byte = (uint8_t)value;

        log_variable(l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, global_guid, "SecureBoot", &byte, value < 0 ? 0 : 1);
}

static void log_separator(struct log *l, uint32_t pcr) {
        static const uint8_t zero[4];

        log_measure(l, pcr, EV_SEPARATOR, zero, sizeof(zero), NULL, 0);
}

/* TCG_PCClientTaggedEvent {u32 taggedEventID, u32 taggedEventDataSize, data}, digest of `measured`. */
static void log_tagged(struct log *l, uint32_t id, const char *description, const void *measured, size_t size) {
        struct bytes tag = { 0 };

        put_u32(&tag, id);
        put_u32(&tag, (uint32_t)strlen(description) + 1);
        put(&tag, description, strlen(description) + 1);
        log_measure(l, 9, EV_EVENT_TAG, tag.data, tag.size, measured, size);
        free(tag.data);
}

static const char kernel_image[] = "MZ... a Linux kernel with its EFI stub";
static const char initrd_image[] = "070701... an initramfs";
static const uint8_t command_line_utf16[] = { 'r', 0, 'o', 0, 'o', 0, 't', 0, '=', 0, '/', 0, 0, 0 };

/* What OVMF + the Debian kernel measure (docs/protocol.md §8; tests/fixtures/boot/ holds a real
 * log). */
static void log_boot(struct log *l, uint8_t locality, int secure_boot) {
        static const uint8_t crtm_version[] = { '1', 0, '.', 0, '0', 0, 0, 0 };
        static const uint8_t boot_order[] = { 0x00, 0x00 };
        static const char calling[] = "Calling EFI Application from Boot Option";
        static const char exit_invocation[] = "Exit Boot Services Invocation";
        uint8_t image_load_event[32] = { 0 };

        log_init(l);
        log_startup_locality(l, locality);
        log_measure(l, 0, EV_S_CRTM_VERSION, crtm_version, sizeof(crtm_version), NULL, 0);
        log_measure(l, 0, EV_EFI_PLATFORM_FIRMWARE_BLOB, "\0\0\x82\0\0\0\0\0\0\0\x0e\0\0\0\0\0", 16, "firmware volume",
                    15);
        log_secure_boot(l, secure_boot);
        log_variable(l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, global_guid, "PK", NULL, 0);
        log_variable(l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, security_db_guid, "db", "cert", 4);
        log_variable(l, 1, EV_EFI_VARIABLE_BOOT, global_guid, "BootOrder", boot_order, sizeof(boot_order));
        log_measure(l, 4, EV_EFI_ACTION, calling, strlen(calling), NULL, 0);
        for (uint32_t pcr = 0; pcr <= 7; pcr++)
                log_separator(l, pcr);
        log_measure(l, 4, EV_EFI_BOOT_SERVICES_APPLICATION, image_load_event, sizeof(image_load_event), kernel_image,
                    strlen(kernel_image));
        log_tagged(l, LOAD_OPTIONS_EVENT_TAG_ID, "LOADED_IMAGE::LoadOptions", command_line_utf16,
                   sizeof(command_line_utf16));
        log_tagged(l, INITRD_EVENT_TAG_ID, "Linux initrd", initrd_image, strlen(initrd_image));
        log_measure(l, 5, EV_EFI_ACTION, exit_invocation, strlen(exit_invocation), NULL, 0);
        l->records[l->count] = l->b.size;
}

static void assert_replay_matches_model(const struct log *l) {
        struct pcr_values sha1, sha256;

        assert_int_equal(eventlog_replay(l->b.data, l->b.size, TPM2_ALG_SHA1, &sha1), 0);
        assert_int_equal(eventlog_replay(l->b.data, l->b.size, TPM2_ALG_SHA256, &sha256), 0);
        assert_int_equal(sha1.bank, TPM2_ALG_SHA1);
        assert_int_equal(sha256.bank, TPM2_ALG_SHA256);
        assert_int_equal(sha1.mask, l->extended);
        assert_int_equal(sha256.mask, l->extended);
        for (unsigned pcr = 0; pcr < PCR_MAX; pcr++) {
                if (!(l->extended & (1u << pcr))) {
                        assert_int_equal(sha256.value[pcr].size, 0);
                        continue;
                }
                assert_int_equal(sha1.value[pcr].size, 20);
                assert_memory_equal(sha1.value[pcr].buffer, l->sha1[pcr], 20);
                assert_int_equal(sha256.value[pcr].size, 32);
                assert_memory_equal(sha256.value[pcr].buffer, l->sha256[pcr], 32);
        }
}

static void test_replay_boot_log(void **state) {
        struct log l;

        log_boot(&l, 0, 1);
        assert_int_equal(l.extended, 0x2ff); /* PCRs 0-7 (separators) and 9 */
        assert_replay_matches_model(&l);
        log_done(&l);
}

/* A fixed vector, so that the model above is checked too: SHA-256 of the EV_SEPARATOR data
 * (four zero bytes) is df3f6198..., and PCR 0 = SHA-256(32 zero bytes || it). */
static void test_replay_known_vector(void **state) {
        static const uint8_t separator_digest[32] = {
                0xdf, 0x3f, 0x61, 0x98, 0x04, 0xa9, 0x2f, 0xdb, 0x40, 0x57, 0x19, 0x2d, 0xc4, 0x3d, 0xd7, 0x48,
                0xea, 0x77, 0x8a, 0xdc, 0x52, 0xbc, 0x49, 0x8c, 0xe8, 0x05, 0x24, 0xc0, 0x14, 0xb8, 0x11, 0x19,
        };
        static const uint8_t pcr0[32] = {
                0x3d, 0x45, 0x8c, 0xfe, 0x55, 0xcc, 0x03, 0xea, 0x1f, 0x44, 0x3f, 0x15, 0x62, 0xbe, 0xec, 0x8d,
                0xf5, 0x1c, 0x75, 0xe1, 0x4a, 0x9f, 0xcf, 0x9a, 0x72, 0x34, 0xa1, 0x3f, 0x19, 0x8e, 0x79, 0x69,
        };
        struct pcr_values pcrs;
        struct log l;

        log_init(&l);
        log_separator(&l, 0);
        assert_memory_equal(l.b.data + l.records[1] + 4 + 4 + 4 + 2, separator_digest, 32);
        assert_int_equal(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), 0);
        assert_int_equal(pcrs.mask, 1);
        assert_memory_equal(pcrs.value[0].buffer, pcr0, 32);
        assert_memory_equal(l.sha256[0], pcr0, 32);
        log_done(&l);
}

/* PCR 0 starts at 0...03 or 0...04 when TPM2_Startup came from locality 3 or an H-CRTM. */
static void test_startup_locality(void **state) {
        static const uint8_t localities[] = { 0, 3, 4 };

        for (size_t i = 0; i < ELEMENTSOF(localities); i++) {
                struct pcr_values pcrs;
                struct log l;

                log_boot(&l, localities[i], 1);
                assert_replay_matches_model(&l);
                /* a locality event alone sets PCR 0 */
                log_done(&l);
                log_init(&l);
                log_startup_locality(&l, localities[i]);
                assert_int_equal(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), 0);
                assert_int_equal(pcrs.mask, 1);
                assert_memory_equal(pcrs.value[0].buffer, l.sha256[0], 32);
                assert_int_equal(pcrs.value[0].buffer[31], localities[i]);
                log_done(&l);
        }
}

static void test_startup_locality_misplaced(void **state) {
        struct pcr_values pcrs;
        uint8_t bad[17];
        struct log l;

        log_init(&l);
        log_separator(&l, 0);
        log_startup_locality(&l, 3);
        assert_error(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), -EBADMSG,
                     "event log event 2 (StartupLocality): StartupLocality after PCR 0 was extended");
        log_done(&l);

        log_init(&l);
        log_startup_locality(&l, 3);
        log_startup_locality(&l, 3);
        assert_error(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), -EBADMSG,
                     "a second StartupLocality event (the first is event 1)");
        log_done(&l);

        log_init(&l);
        log_startup_locality(&l, 2);
        assert_error(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), -EBADMSG, "locality 2 is not 0, 3 or 4");
        log_done(&l);

        memcpy(bad, "StartupLocality", 16);
        bad[16] = 3;
        log_init(&l);
        log_no_action(&l, 1, bad, sizeof(bad));
        assert_error(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), -EBADMSG,
                     "logged for PCR 1, it belongs to PCR 0");
        log_done(&l);

        log_init(&l);
        log_no_action(&l, 0, bad, 16); /* no locality byte */
        assert_error(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), -EBADMSG,
                     "event log event 1 (StartupLocality): truncated in StartupLocality");
        log_done(&l);
}

/* Other EV_NO_ACTION events, even with non-zero digests, extend nothing. */
static void test_no_action_not_extended(void **state) {
        static const uint8_t ones[32] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                          1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
        struct pcr_values pcrs;
        struct log l;

        log_init(&l);
        log_no_action(&l, 0, "SP800-155 Event\0", 16);
        log_event_digests(&l, 3, EV_NO_ACTION, ones, ones, "NvIndexInstance", 15);
        log_no_action(&l, 0, "", 0);
        assert_int_equal(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), 0);
        assert_int_equal(pcrs.mask, 0);
        log_separator(&l, 3);
        assert_replay_matches_model(&l);
        log_done(&l);
}

struct collected {
        unsigned count;
        struct eventlog_event events[MAX_RECORDS];
        int stop_at; /* return 7 from this event, -1 never */
};

static int collect(const struct eventlog_event *ev, void *user) {
        struct collected *c = user;

        assert_true(c->count < MAX_RECORDS);
        c->events[c->count++] = *ev;
        return (int)ev->index == c->stop_at ? 7 : 0;
}

static void test_foreach_events(void **state) {
        struct collected c = { .stop_at = -1 };
        struct eventlog_spec_id spec;
        uint8_t sha256[32];
        struct log l;

        log_boot(&l, 3, 1);
        assert_int_equal(eventlog_foreach(l.b.data, l.b.size, collect, &c), 0);
        assert_int_equal(c.count, l.count);
        for (unsigned i = 0; i < c.count; i++) {
                const struct eventlog_event *ev = &c.events[i];

                assert_int_equal(ev->index, i);
                assert_int_equal(ev->offset, l.records[i]);
                /* the event data is a pointer into the log, ending where the next record starts */
                assert_ptr_equal(ev->data + ev->data_size, l.b.data + l.records[i + 1]);
                assert_non_null(ev->spec_id);
                if (i > 0) {
                        assert_int_equal(ev->digest_count, 2);
                        assert_non_null(eventlog_event_digest(ev, TPM2_ALG_SHA1));
                        assert_non_null(eventlog_event_digest(ev, TPM2_ALG_SHA256));
                        assert_null(eventlog_event_digest(ev, TPM2_ALG_SHA384));
                }
        }
        /* event 0: the Spec ID event, its SHA-1-format digest field */
        assert_int_equal(c.events[0].type, EV_NO_ACTION);
        assert_int_equal(c.events[0].pcr, 0);
        assert_int_equal(c.events[0].digest_count, 1);
        assert_int_equal(c.events[0].digests[0].alg, TPM2_ALG_SHA1);
        assert_int_equal(c.events[0].spec_id->algorithm_count, 2);
        /* the kernel: PCR 4, its digest is the image's */
        digest(EVP_sha256(), kernel_image, strlen(kernel_image), sha256);
        for (unsigned i = 0; i < c.count; i++)
                if (c.events[i].type == EV_EFI_BOOT_SERVICES_APPLICATION) {
                        assert_int_equal(c.events[i].pcr, 4);
                        assert_memory_equal(eventlog_event_digest(&c.events[i], TPM2_ALG_SHA256), sha256, 32);
                }
        assert_int_equal(c.events[c.count - 1].type, EV_EFI_ACTION);
        assert_int_equal(c.events[c.count - 1].pcr, 5);

        assert_int_equal(eventlog_spec_id(l.b.data, l.b.size, &spec), 0);
        assert_int_equal(spec.spec_version_major, 2);
        assert_int_equal(spec.uintn_size, 2);
        assert_int_equal(spec.algorithm_count, 2);
        assert_int_equal(spec.algorithms[0].alg, TPM2_ALG_SHA1);
        assert_int_equal(spec.algorithms[0].digest_size, 20);
        assert_int_equal(spec.algorithms[1].alg, TPM2_ALG_SHA256);
        assert_int_equal(spec.algorithms[1].digest_size, 32);
        log_done(&l);
}

static void test_foreach_stops(void **state) {
        struct collected c = { .stop_at = 3 };
        struct log l;

        log_boot(&l, 0, 1);
        assert_int_equal(eventlog_foreach(l.b.data, l.b.size, collect, &c), 7);
        assert_int_equal(c.count, 4);
        log_done(&l);
}

static void test_type_names(void **state) {
        static const struct {
                uint32_t type;
                const char *name;
        } names[] = {
                { 0x00000001, "EV_POST_CODE" },
                { 0x00000003, "EV_NO_ACTION" },
                { 0x00000004, "EV_SEPARATOR" },
                { 0x00000006, "EV_EVENT_TAG" },
                { 0x0000000d, "EV_IPL" },
                { 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
                { 0x80000002, "EV_EFI_VARIABLE_BOOT" },
                { 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
                { 0x80000006, "EV_EFI_GPT_EVENT" },
                { 0x80000007, "EV_EFI_ACTION" },
                { 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" },
        };
        uint32_t type;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                assert_string_equal(eventlog_type_name(names[i].type), names[i].name);
                assert_int_equal(eventlog_type_from_name(names[i].name, &type), 0);
                assert_int_equal(type, names[i].type);
        }
        assert_null(eventlog_type_name(0x12345678));
        assert_null(eventlog_type_name(0x80000100));
        assert_error(eventlog_type_from_name("EV_KERNEL", &type), -EINVAL, "unknown event type \"EV_KERNEL\"");
        assert_error(eventlog_type_from_name("ev_separator", &type), -EINVAL, "unknown event type");
        assert_error(eventlog_type_from_name("", &type), -EINVAL, "unknown event type");
}

/* Runs eventlog_secure_boot on a boot log with the SecureBoot variable measured as `value`
 * (-1: measured empty). */
static int secure_boot_of(int value, enum eventlog_secure_boot *state) {
        struct log l;
        int ret;

        log_boot(&l, 0, value);
        ret = eventlog_secure_boot(l.b.data, l.b.size, state);
        log_done(&l);
        return ret;
}

static void test_secure_boot(void **state) {
        enum eventlog_secure_boot sb = 99;
        struct log l;

        assert_int_equal(secure_boot_of(1, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_ENABLED);
        assert_int_equal(secure_boot_of(0, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_DISABLED);
        assert_int_equal(secure_boot_of(-1, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_ABSENT);
        assert_error(secure_boot_of(2, &sb), -EBADMSG, "SecureBoot): value 2 is neither 0 nor 1");
        assert_string_equal(eventlog_secure_boot_name(EVENTLOG_SECURE_BOOT_ENABLED), "enabled");
        assert_string_equal(eventlog_secure_boot_name(EVENTLOG_SECURE_BOOT_DISABLED), "disabled");
        assert_string_equal(eventlog_secure_boot_name(EVENTLOG_SECURE_BOOT_ABSENT), "absent");

        /* not measured at all */
        log_init(&l);
        log_separator(&l, 7);
        sb = 99;
        assert_int_equal(eventlog_secure_boot(l.b.data, l.b.size, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_ABSENT);
        /* only PCR 7's EFI_GLOBAL_VARIABLE "SecureBoot" counts */
        log_variable(&l, 1, EV_EFI_VARIABLE_DRIVER_CONFIG, global_guid, "SecureBoot", "\1", 1);
        log_variable(&l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, security_db_guid, "SecureBoot", "\1", 1);
        log_variable(&l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, global_guid, "SecureBootX", "\1", 1);
        log_variable(&l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, global_guid, "SecureBoo", "\1", 1);
        log_variable(&l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, global_guid, "secureBoot", "\1", 1);
        log_measure(&l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, "not a variable", 14, NULL, 0);
        log_no_action(&l, 7, "\x61\xdf", 2);
        assert_int_equal(eventlog_secure_boot(l.b.data, l.b.size, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_ABSENT);
        log_done(&l);

        /* measured twice: agreeing is fine, disagreeing is not; the type it is logged under does
         * not matter (it is covered by no digest) */
        log_init(&l);
        log_secure_boot(&l, 0);
        log_variable(&l, 7, EV_EFI_VARIABLE_BOOT, global_guid, "SecureBoot", "\0", 1);
        assert_int_equal(eventlog_secure_boot(l.b.data, l.b.size, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_DISABLED);
        log_variable(&l, 7, EV_EFI_ACTION, global_guid, "SecureBoot", "\1", 1);
        assert_error(eventlog_secure_boot(l.b.data, l.b.size, &sb), -EBADMSG,
                     "event log event 3: SecureBoot measured enabled, event 2 measured it disabled");
        log_done(&l);
        /* one logged under another type alone still counts */
        log_init(&l);
        log_variable(&l, 7, 0x12345678, global_guid, "SecureBoot", "\1", 1);
        assert_int_equal(eventlog_secure_boot(l.b.data, l.b.size, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_ENABLED);
        /* an empty one (the variable did not exist) disagrees with a later 1 */
        log_secure_boot(&l, -1);
        assert_error(eventlog_secure_boot(l.b.data, l.b.size, &sb), -EBADMSG,
                     "event log event 2: SecureBoot measured absent, event 1 measured it enabled");
        log_done(&l);
        /* an EV_NO_ACTION event extends nothing: what it says is no measurement */
        log_init(&l);
        log_secure_boot(&l, 0);
        {
                struct bytes var = { 0 };

                uefi_variable(&var, global_guid, "SecureBoot", "\1", 1);
                log_no_action(&l, 7, var.data, var.size);
                free(var.data);
        }
        assert_int_equal(eventlog_secure_boot(l.b.data, l.b.size, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_DISABLED);
        log_done(&l);

        /* a value of two bytes */
        log_init(&l);
        log_variable(&l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, global_guid, "SecureBoot", "\1\0", 2);
        assert_error(eventlog_secure_boot(l.b.data, l.b.size, &sb), -EBADMSG,
                     "event log event 1 (SecureBoot): 1 unexpected trailing bytes");
        log_done(&l);
}

/* Offset of the event data in a record of these logs: pcrIndex, eventType, count, sha256 and
 * sha1 digests with their algorithm ids, eventSize. */
#define RECORD_DATA (4 + 4 + 4 + 2 + 32 + 2 + 20 + 4)

/* The data of PCR 7's events is believed only when it hashes to the digests, which is what the
 * TPM was extended with: the SecureBoot byte flipped after measuring (the digests left alone,
 * so the log still replays) is refused, in whichever bank it shows, as is any PCR 7 event
 * whose data is not its digests' (the firmware's SecureBoot event garbled and relabelled so
 * that it no longer reads as the variable). */
static void test_secure_boot_digests(void **state) {
        static const uint16_t with_sm3[3][2] = { { ALG_SHA1, 20 }, { ALG_SM3, 32 }, { ALG_SHA256, 32 } };
        static const uint8_t zero[4];
        enum eventlog_secure_boot sb;
        struct bytes var = { 0 };
        uint8_t sha1[20], sha256[32];
        size_t value;
        struct log l;

        log_boot(&l, 0, 0);
        assert_int_equal(eventlog_secure_boot(l.b.data, l.b.size, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_DISABLED);
        value = l.records[4] + RECORD_DATA + 16 + 8 + 8 + 20; /* event 4: SecureBoot, its one byte */
        assert_int_equal(l.b.data[value], 0);
        l.b.data[value] = 1;
        assert_replay_matches_model(&l);
        assert_error(eventlog_secure_boot(l.b.data, l.b.size, &sb), -EBADMSG,
                     "event log event 4 (PCR 7, EV_EFI_VARIABLE_DRIVER_CONFIG): its sha256 digest is not the hash of "
                     "its event data");
        /* garbled and relabelled: no longer the variable, still not its digests' data */
        memset(l.b.data + l.records[4] + RECORD_DATA, 'x', 16);
        put_u32_at(&l.b, l.records[4] + 4, 0x12345678);
        assert_error(eventlog_secure_boot(l.b.data, l.b.size, &sb), -EBADMSG,
                     "event log event 4 (PCR 7, type 0x12345678): its sha256 digest is not the hash");
        log_done(&l);

        /* a sha1 digest that is not the data's, the sha256 one right */
        uefi_variable(&var, global_guid, "SecureBoot", "\1", 1);
        digest(EVP_sha256(), var.data, var.size, sha256);
        digest(EVP_sha1(), "SecureBoot", 10, sha1);
        log_init(&l);
        log_event_digests(&l, 7, EV_EFI_VARIABLE_DRIVER_CONFIG, sha1, sha256, var.data, var.size);
        assert_error(eventlog_secure_boot(l.b.data, l.b.size, &sb), -EBADMSG,
                     "event log event 1 (PCR 7, EV_EFI_VARIABLE_DRIVER_CONFIG): its sha1 digest is not the hash");
        log_done(&l);

        /* any PCR 7 event, a separator too; other PCRs' digests are of what was loaded, not of
         * the data (the kernel in PCR 4 of log_boot), and EV_NO_ACTION extends nothing */
        log_init(&l);
        log_event_digests(&l, 7, EV_SEPARATOR, sha1, sha256, zero, sizeof(zero));
        assert_error(eventlog_secure_boot(l.b.data, l.b.size, &sb), -EBADMSG,
                     "event log event 1 (PCR 7, EV_SEPARATOR): its sha256 digest is not the hash of its event data");
        log_done(&l);
        log_init(&l);
        log_event_digests(&l, 7, EV_NO_ACTION, sha1, sha256, zero, sizeof(zero));
        log_event_digests(&l, 4, EV_EFI_BOOT_SERVICES_APPLICATION, sha1, sha256, zero, sizeof(zero));
        log_separator(&l, 7);
        assert_int_equal(eventlog_secure_boot(l.b.data, l.b.size, &sb), 0);
        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_ABSENT);
        log_done(&l);

        /* a bank vmattest cannot hash (SM3) is not checked; the others are */
        digest(EVP_sha1(), var.data, var.size, sha1);
        for (unsigned wrong = 0; wrong <= 1; wrong++) {
                memset(&l, 0, sizeof(l));
                log_spec_id_with(&l, with_sm3, 3);
                log_record_start(&l);
                put_u32(&l.b, 7);
                put_u32(&l.b, EV_EFI_VARIABLE_DRIVER_CONFIG);
                put_u32(&l.b, 3);
                put_u16(&l.b, ALG_SM3);
                put_zeros(&l.b, 32);
                put_u16(&l.b, ALG_SHA256);
                put(&l.b, sha256, 32);
                put_u16(&l.b, ALG_SHA1);
                put(&l.b, sha1, 20);
                put_u32(&l.b, (uint32_t)var.size);
                put(&l.b, var.data, var.size);
                if (wrong) {
                        l.b.data[l.b.size - 1] = 0;
                        assert_error(eventlog_secure_boot(l.b.data, l.b.size, &sb), -EBADMSG,
                                     "event log event 1 (PCR 7, EV_EFI_VARIABLE_DRIVER_CONFIG): its sha256 digest");
                } else {
                        assert_int_equal(eventlog_secure_boot(l.b.data, l.b.size, &sb), 0);
                        assert_int_equal(sb, EVENTLOG_SECURE_BOOT_ENABLED);
                }
                log_done(&l);
        }
        free(var.data);
}

/* Runs eventlog_uefi_variable on `data` as the data of a PCR 7 event. */
static int parse_variable(const struct bytes *data, struct eventlog_uefi_variable *var) {
        struct eventlog_event ev = { .index = 5, .pcr = 7, .type = EV_EFI_VARIABLE_DRIVER_CONFIG };

        ev.data = data->data;
        ev.data_size = (uint32_t)data->size;
        return eventlog_uefi_variable(&ev, var);
}

static void test_uefi_variable(void **state) {
        struct eventlog_uefi_variable var;
        struct bytes b = { 0 };

        uefi_variable(&b, global_guid, "BootOrder", "\1\0\2\0", 4);
        assert_int_equal(parse_variable(&b, &var), 0);
        assert_ptr_equal(var.guid, b.data);
        assert_int_equal(var.name_length, 9);
        assert_int_equal(var.data_size, 4);
        assert_memory_equal(var.data, "\1\0\2\0", 4);
        assert_true(eventlog_uefi_variable_is(&var, eventlog_efi_global_variable_guid, "BootOrder"));
        assert_false(eventlog_uefi_variable_is(&var, eventlog_efi_global_variable_guid, "BootOrde"));
        assert_false(eventlog_uefi_variable_is(&var, eventlog_efi_global_variable_guid, "bootOrder"));
        assert_false(eventlog_uefi_variable_is(&var, security_db_guid, "BootOrder"));
        assert_memory_equal(eventlog_efi_global_variable_guid, global_guid, 16);

        /* a trailing byte */
        put_u8(&b, 0);
        assert_error(parse_variable(&b, &var), -EBADMSG, "event log event 5 (UEFI_VARIABLE_DATA): 1 unexpected trailing");
        /* a name longer than the data */
        b.size--;
        b.data[16] = 200;
        assert_error(parse_variable(&b, &var), -EBADMSG, "truncated in UnicodeName");
        /* the high half of the u64 lengths */
        b.data[16] = 9;
        b.data[20] = 1;
        assert_error(parse_variable(&b, &var), -EBADMSG, "UnicodeNameLength exceeds the event data");
        b.data[20] = 0;
        b.data[31] = 0x80;
        assert_error(parse_variable(&b, &var), -EBADMSG, "VariableDataLength exceeds the event data");
        b.data[31] = 0;
        b.data[24] = 5;
        assert_error(parse_variable(&b, &var), -EBADMSG, "truncated in VariableData");
        b.size = 20;
        assert_error(parse_variable(&b, &var), -EBADMSG, "truncated in UnicodeNameLength");
        free(b.data);
}

/* A walk with no interest in the events. */
static int ignore(const struct eventlog_event *ev, void *user) {
        (void)ev;
        (void)user;
        return 0;
}

/* Every prefix of the boot log: a cut inside record k is -EBADMSG naming event k and the field
 * that was cut; a cut between records is a shorter, valid log. */
static void test_truncated_every_length(void **state) {
        struct pcr_values pcrs;
        struct log l;
        unsigned record = 0;

        log_boot(&l, 3, 1);
        for (size_t size = 0; size < l.b.size; size++) {
                char expected[64];
                int ret;

                while (record + 1 < l.count + 1 && l.records[record + 1] <= size)
                        record++;
                vm_error_clear();
                ret = eventlog_foreach(l.b.data, size, ignore, NULL);
                if (size == l.records[record] && record > 0) {
                        assert_int_equal(ret, 0);
                        assert_int_equal(eventlog_replay(l.b.data, size, TPM2_ALG_SHA256, &pcrs), 0);
                        continue;
                }
                assert_int_equal(ret, -EBADMSG);
                snprintf(expected, sizeof(expected), "event log event %u: truncated in ", record);
                assert_detail_contains(ret, expected);
                assert_error(eventlog_replay(l.b.data, size, TPM2_ALG_SHA256, &pcrs), -EBADMSG, expected);
        }
        assert_int_equal(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), 0);
        log_done(&l);
}

/* The fields named when each part of a record is cut. */
static void test_truncated_fields(void **state) {
        static const struct {
                size_t cut; /* bytes of event 1 kept */
                const char *detail;
        } cuts[] = {
                { 2, "event log event 1: truncated in pcrIndex" },
                { 6, "event log event 1: truncated in eventType" },
                { 10, "event log event 1: truncated in digests count" },
                { 13, "event log event 1: truncated in digest hashAlg" },
                { 20, "event log event 1: truncated in digest at" },
                { 14 + 32 + 2 + 19, "event log event 1: truncated in digest at" },
                { 14 + 32 + 2 + 20 + 3, "event log event 1: truncated in eventSize" },
                { 14 + 32 + 2 + 20 + 4 + 3, "event log event 1: truncated in event data" },
        };
        struct log l;

        log_init(&l);
        log_separator(&l, 0);
        for (size_t i = 0; i < ELEMENTSOF(cuts); i++)
                assert_error(eventlog_foreach(l.b.data, l.records[1] + cuts[i].cut, ignore, NULL), -EBADMSG,
                             cuts[i].detail);
        /* and the Spec ID event */
        assert_error(eventlog_foreach(l.b.data, 0, ignore, NULL), -EBADMSG, "event log event 0: truncated in pcrIndex");
        assert_error(eventlog_foreach(l.b.data, 10, ignore, NULL), -EBADMSG, "event log event 0: truncated in digest");
        assert_error(eventlog_foreach(l.b.data, 30, ignore, NULL), -EBADMSG, "event log event 0: truncated in eventSize");
        assert_error(eventlog_foreach(l.b.data, 40, ignore, NULL), -EBADMSG, "event log event 0: truncated in event data");
        log_done(&l);
}

/* A log with a Spec ID event declaring `algs`, then one separator with sha1 and sha256. */
static void spec_id_log(struct log *l, const uint16_t (*algs)[2], uint32_t n) {
        memset(l, 0, sizeof(*l));
        log_spec_id_with(l, algs, n);
}

static void test_spec_id_algorithm_count(void **state) {
        uint16_t many[100][2];
        struct log l;

        for (unsigned i = 0; i < 100; i++) {
                many[i][0] = (uint16_t)(0x100 + i);
                many[i][1] = 32;
        }
        spec_id_log(&l, many, 0);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 0 (Spec ID event data): numberOfAlgorithms 0 is not 1-16");
        log_done(&l);
        spec_id_log(&l, many, 100);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, "numberOfAlgorithms 100 is not 1-16");
        log_done(&l);
        spec_id_log(&l, many, 16); /* 16 algorithms vmattest cannot hash: parsed all the same */
        assert_int_equal(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), 0);
        log_done(&l);
        spec_id_log(&l, many, 17);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, "numberOfAlgorithms 17");
        log_done(&l);
}

static void test_spec_id_algorithms(void **state) {
        static const struct {
                uint16_t algs[3][2];
                uint32_t n;
                const char *detail;
        } bad[] = {
                { { { ALG_SHA256, 20 } }, 1, "algorithm 0 (sha256) declares 20-byte digests, not 32" },
                { { { ALG_SHA1, 20 }, { ALG_SHA1, 20 } }, 2, "algorithm 0x0004 is declared twice" },
                { { { ALG_SM3, 0 } }, 1, "algorithm 0 (0x0012) declares 0-byte digests, not 1-64" },
                { { { ALG_SHA1, 20 }, { ALG_SM3, 65 } }, 2, "algorithm 1 (0x0012) declares 65-byte digests, not 1-64" },
        };
        static const uint16_t with_sm3[3][2] = { { ALG_SHA1, 20 }, { ALG_SM3, 32 }, { ALG_SHA256, 32 } };
        struct pcr_values pcrs;
        struct log l;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                spec_id_log(&l, bad[i].algs, bad[i].n);
                assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, bad[i].detail);
                log_done(&l);
        }

        /* an algorithm vmattest cannot hash (SM3) is skipped by its declared size */
        spec_id_log(&l, with_sm3, 3);
        log_record_start(&l);
        put_u32(&l.b, 0);
        put_u32(&l.b, EV_SEPARATOR);
        put_u32(&l.b, 3);
        put_u16(&l.b, ALG_SM3);
        put_zeros(&l.b, 32);
        put_u16(&l.b, ALG_SHA256);
        put(&l.b, "\xdf\x3f\x61\x98\x04\xa9\x2f\xdb\x40\x57\x19\x2d\xc4\x3d\xd7\x48"
                  "\xea\x77\x8a\xdc\x52\xbc\x49\x8c\xe8\x05\x24\xc0\x14\xb8\x11\x19", 32);
        put_u16(&l.b, ALG_SHA1);
        put_zeros(&l.b, 20);
        put_u32(&l.b, 4);
        put_zeros(&l.b, 4);
        assert_int_equal(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), 0);
        assert_int_equal(pcrs.mask, 1);
        assert_int_equal(pcrs.value[0].buffer[0], 0x3d); /* as in test_replay_known_vector */
        assert_error(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA384, &pcrs), -EBADMSG,
                     "the Spec ID event declares no sha384 digests");
        assert_error(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SM3_256, &pcrs), -EINVAL, "unsupported bank 0x0012");
        log_done(&l);
}

/* Patches one field of event 0 of a valid log and expects `detail`. */
static void test_spec_id_header(void **state) {
        struct log l;

        struct pcr_values pcrs;

        log_init(&l);
        log_separator(&l, 0);
        /* Without the Spec ID event first, a SHA-1 log (TCG_PCClientPCREvent records): the
         * TCG_PCR_EVENT2 separator then reads as one with a 20-byte digest, whose eventSize is
         * digest bytes; the replay into sha256 stops at the first record. Each of: a measurement
         * first, EV_NO_ACTION in PCR 1, the TPM 1.2 log's "Spec ID Event02". */
        for (unsigned variant = 0; variant < 3; variant++) {
                if (variant == 0)
                        put_u32_at(&l.b, 4, EV_S_CRTM_VERSION);
                else if (variant == 1)
                        put_u32_at(&l.b, 0, 1);
                else
                        l.b.data[32 + 14] = '2';
                assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                             "event log event 2: eventSize");
                assert_error(eventlog_replay(l.b.data, l.b.size, TPM2_ALG_SHA256, &pcrs), -EBADMSG,
                             "event log: a SHA-1 log (TCG_PCClientPCREvent records, no Spec ID event) carries no "
                             "sha256 digests");
                put_u32_at(&l.b, 4, EV_NO_ACTION);
                put_u32_at(&l.b, 0, 0);
                l.b.data[32 + 14] = '3';
        }
        /* uintnSize */
        l.b.data[32 + 23] = 3;
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, "uintnSize 3 is neither 1");
        l.b.data[32 + 23] = 1;
        assert_int_equal(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), 0);
        /* vendorInfoSize larger than what is left of the Spec ID data */
        l.b.data[32 + 36] = 4;
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 0 (Spec ID event data): truncated in vendorInfo");
        l.b.data[32 + 36] = 2;
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, "1 unexpected trailing bytes");
        l.b.data[32 + 36] = 3;
        assert_int_equal(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), 0);
        /* an oversized eventSize */
        put_u32_at(&l.b, 28, 0xffffffff);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 0: eventSize 4294967295 exceeds 1048576 bytes");
        log_done(&l);
}

/* Offsets inside the separator record (event 1) of log_init + log_separator. */
#define OFF_COUNT 8
#define OFF_FIRST_ALG 12
#define OFF_SECOND_ALG (12 + 2 + 32)
#define OFF_EVENT_SIZE (12 + 2 + 32 + 2 + 20)

static void test_event_digests(void **state) {
        struct log l;
        size_t e;

        log_init(&l);
        log_separator(&l, 0);
        e = l.records[1];
        /* a digest of an algorithm the Spec ID event did not declare */
        l.b.data[e + OFF_FIRST_ALG] = ALG_SHA384;
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 1: digest 0: algorithm 0x000c is not declared in the Spec ID event");
        l.b.data[e + OFF_FIRST_ALG] = ALG_SHA256;
        /* the same algorithm twice (its size then misaligns nothing: sha256 read as sha256) */
        l.b.data[e + OFF_SECOND_ALG] = ALG_SHA256;
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "digest 1: a second digest of algorithm 0x000b");
        l.b.data[e + OFF_SECOND_ALG] = ALG_SHA1;
        /* count overflow, and counts other than the declared 2 */
        put_u32_at(&l.b, e + OFF_COUNT, 0xffffffff);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 1: 4294967295 digests, the Spec ID event declares 2 algorithms");
        put_u32_at(&l.b, e + OFF_COUNT, 0);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, "0 digests, the Spec ID");
        put_u32_at(&l.b, e + OFF_COUNT, 1);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, "1 digests, the Spec ID");
        put_u32_at(&l.b, e + OFF_COUNT, 3);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, "3 digests, the Spec ID");
        put_u32_at(&l.b, e + OFF_COUNT, 2);
        /* the PCR index */
        put_u32_at(&l.b, e, 24);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 1: pcrIndex 24 is not a PCR 0-23");
        put_u32_at(&l.b, e, 0xffffffff);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, "pcrIndex 4294967295");
        put_u32_at(&l.b, e, 23);
        assert_int_equal(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), 0);
        log_done(&l);
}

static void test_event_size(void **state) {
        _cleanup_(freep) uint8_t *big = calloc(1, EVENTLOG_MAX_EVENT_DATA + 1);
        struct log l;
        size_t e;

        assert_non_null(big);
        log_init(&l);
        log_separator(&l, 0);
        e = l.records[1];
        /* one byte beyond the end */
        put_u32_at(&l.b, e + OFF_EVENT_SIZE, 5);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 1: truncated in event data at offset");
        put_u32_at(&l.b, e + OFF_EVENT_SIZE, 0xffffffff);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 1: eventSize 4294967295 exceeds 1048576 bytes");
        /* a smaller size leaves bytes that do not make a record */
        put_u32_at(&l.b, e + OFF_EVENT_SIZE, 3);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 2: truncated in pcrIndex");
        log_done(&l);

        /* exactly the limit, and one more */
        log_init(&l);
        log_measure(&l, 8, EV_IPL, big, EVENTLOG_MAX_EVENT_DATA, "grub.cfg", 8);
        assert_replay_matches_model(&l);
        log_done(&l);
        log_init(&l);
        log_measure(&l, 8, EV_IPL, big, EVENTLOG_MAX_EVENT_DATA + 1, "grub.cfg", 8);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG,
                     "event log event 1: eventSize 1048577 exceeds 1048576 bytes");
        log_done(&l);
}

static int count_events(const struct eventlog_event *ev, void *user) {
        (void)ev;
        (*(uint32_t *)user)++;
        return 0;
}

/* EVENTLOG_MAX_EVENTS records (Spec ID included) parse; one more does not. */
static void test_event_count_limit(void **state) {
        struct bytes record = { 0 };
        uint32_t count = 0;
        struct log l;

        put_u32(&record, 0);
        put_u32(&record, EV_NO_ACTION);
        put_u32(&record, 2);
        put_u16(&record, ALG_SHA1);
        put_zeros(&record, 20);
        put_u16(&record, ALG_SHA256);
        put_zeros(&record, 32);
        put_u32(&record, 0);
        log_init(&l);
        for (unsigned i = 1; i < EVENTLOG_MAX_EVENTS; i++)
                put(&l.b, record.data, record.size);
        assert_int_equal(eventlog_foreach(l.b.data, l.b.size, count_events, &count), 0);
        assert_int_equal(count, EVENTLOG_MAX_EVENTS);
        put(&l.b, record.data, record.size);
        assert_error(eventlog_foreach(l.b.data, l.b.size, ignore, NULL), -EBADMSG, "more than 65536 events");
        free(record.data);
        log_done(&l);
}

/* Random bytes, and a valid Spec ID event followed by random bytes: never a crash, only 0 or
 * -EBADMSG with a detail. */
static void test_random_bytes(void **state) {
        _cleanup_(freep) uint8_t *buf = malloc(4096);
        uint64_t prng = FUZZ_SEED;
        struct log l;

        assert_non_null(buf);
        log_init(&l);
        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                size_t size = prng_next(&prng) % 4096, prefix = i % 2 ? l.b.size : 0;
                enum eventlog_secure_boot sb;
                struct pcr_values pcrs;
                int ret;

                if (size < prefix)
                        size = prefix;
                prng_fill(&prng, buf, size);
                memcpy(buf, l.b.data, prefix);
                vm_error_clear();
                ret = eventlog_replay(buf, size, TPM2_ALG_SHA256, &pcrs);
                assert_true(ret == 0 || ret == -EBADMSG);
                if (ret < 0)
                        assert_detail_contains(ret, "event log");
                ret = eventlog_secure_boot(buf, size, &sb);
                assert_true(ret == 0 || ret == -EBADMSG);
        }
        log_done(&l);
}

/* The boot log with a few bytes changed: 0 or -EBADMSG from every entry point. */
static void test_mutated_logs(void **state) {
        uint64_t prng = FUZZ_SEED + 1;
        unsigned accepted = 0;
        struct log l;
        uint8_t *buf;

        log_boot(&l, 3, 1);
        buf = malloc(l.b.size);
        assert_non_null(buf);
        for (unsigned i = 0; i < FUZZ_ITERATIONS; i++) {
                enum eventlog_secure_boot sb;
                struct pcr_values pcrs;
                int ret;

                memcpy(buf, l.b.data, l.b.size);
                prng_mutate(&prng, buf, l.b.size);
                ret = eventlog_replay(buf, l.b.size, TPM2_ALG_SHA256, &pcrs);
                assert_true(ret == 0 || ret == -EBADMSG);
                accepted += ret == 0;
                ret = eventlog_replay(buf, l.b.size, TPM2_ALG_SHA1, &pcrs);
                assert_true(ret == 0 || ret == -EBADMSG);
                ret = eventlog_secure_boot(buf, l.b.size, &sb);
                assert_true(ret == 0 || ret == -EBADMSG);
        }
        assert_true(accepted > 0); /* flips in digests and event data still parse */
        free(buf);
        log_done(&l);
}

/* pcrs-sha256.txt: lines "N hex" (PCR number, value). */
static void read_pcr_lines(const char *path, struct pcr_values *pcrs) {
        _cleanup_(fclosep) FILE *f = fopen(path, "r");
        char line[256];

        memset(pcrs, 0, sizeof(*pcrs));
        pcrs->bank = TPM2_ALG_SHA256;
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                char hex[129];
                unsigned pcr;

                if (sscanf(line, "%u %128[0-9a-fA-F]", &pcr, hex) != 2)
                        continue;
                assert_true(pcr < PCRS);
                assert_int_equal(strlen(hex), 64);
                for (unsigned i = 0; i < 32; i++)
                        assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &pcrs->value[pcr].buffer[i]), 1);
                pcrs->value[pcr].size = 32;
                pcrs->mask |= 1u << pcr;
        }
}

struct real_log_walk {
        unsigned events, kernel, tags;
};

static int real_log_event(const struct eventlog_event *ev, void *user) {
        struct real_log_walk *w = user;

        w->events++;
        w->kernel += ev->pcr == 4 && ev->type == EV_EFI_BOOT_SERVICES_APPLICATION;
        w->tags += ev->pcr == 9 && ev->type == EV_EVENT_TAG;
        return 0;
}

/* The log an OVMF + swtpm + Debian kernel boot wrote (tests/fixtures/boot/), when present. */
static void test_real_log(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        struct real_log_walk walk = { 0 };
        struct pcr_values replayed, read;
        enum eventlog_secure_boot sb;
        size_t size;
        FILE *probe = fopen(FIXTURE("binary_bios_measurements"), "rb");

        if (!probe) {
                skip(); /* the boot fixtures are captured by a VM test; not every checkout has them */
                return;
        }
        fclose(probe);
        log = read_vector(FIXTURE("binary_bios_measurements"), &size);
        assert_int_equal(eventlog_foreach(log, size, real_log_event, &walk), 0);
        assert_true(walk.events > 10);
        assert_true(walk.kernel >= 1);
        assert_int_equal(walk.tags, 2); /* command line and initrd */
        assert_int_equal(eventlog_secure_boot(log, size, &sb), 0);
        print_message("# real log: %u events, Secure Boot %s\n", walk.events, eventlog_secure_boot_name(sb));
        assert_int_equal(eventlog_replay(log, size, TPM2_ALG_SHA256, &replayed), 0);
        read_pcr_lines(FIXTURE("pcrs-sha256.txt"), &read);
        for (unsigned pcr = 0; pcr <= 9; pcr++) {
                static const uint8_t zeros[32];

                if (!(read.mask & (1u << pcr)))
                        continue;
                assert_memory_equal(replayed.mask & (1u << pcr) ? replayed.value[pcr].buffer : zeros,
                                    read.value[pcr].buffer, 32);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_replay_boot_log),
                cmocka_unit_test(test_replay_known_vector),
                cmocka_unit_test(test_startup_locality),
                cmocka_unit_test(test_startup_locality_misplaced),
                cmocka_unit_test(test_no_action_not_extended),
                cmocka_unit_test(test_foreach_events),
                cmocka_unit_test(test_foreach_stops),
                cmocka_unit_test(test_type_names),
                cmocka_unit_test(test_secure_boot),
                cmocka_unit_test(test_secure_boot_digests),
                cmocka_unit_test(test_uefi_variable),
                cmocka_unit_test(test_truncated_every_length),
                cmocka_unit_test(test_truncated_fields),
                cmocka_unit_test(test_spec_id_algorithm_count),
                cmocka_unit_test(test_spec_id_algorithms),
                cmocka_unit_test(test_spec_id_header),
                cmocka_unit_test(test_event_digests),
                cmocka_unit_test(test_event_size),
                cmocka_unit_test(test_event_count_limit),
                cmocka_unit_test(test_random_bytes),
                cmocka_unit_test(test_mutated_logs),
                cmocka_unit_test(test_real_log),
        };

        return cmocka_run_group_tests_name("eventlog", tests, NULL, NULL);
}
