#include "policy/boot_events.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/reader.h"

#define DEVICE_PATH_MEDIA 4
#define DEVICE_PATH_FILE 4 /* MEDIA_FILEPATH_DP: a UTF-16 path */
#define DEVICE_PATH_END 0x7f

struct text {
        char *out;
        size_t size, len;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...) {
        va_list ap;
        int n;

        if (t->len + 1 >= t->size)
                return;
        va_start(ap, fmt);
        n = vsnprintf(t->out + t->len, t->size - t->len, fmt, ap);
        va_end(ap);
        if (n > 0)
                t->len = t->len + (size_t)n < t->size ? t->len + (size_t)n : t->size - 1;
}

/* UTF-16LE text as ASCII: anything else as '?' */
static void add_utf16(struct text *t, const uint8_t *p, size_t units) {
        for (size_t i = 0; i < units; i++) {
                uint16_t c = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);

                if (c == 0)
                        break;
                add(t, "%c", c >= 0x20 && c < 0x7f ? (char)c : '?');
        }
}

/* Printable text (EV_EFI_ACTION, GRUB's EV_IPL), a trailing NUL dropped */
static void add_ascii(struct text *t, const uint8_t *p, size_t n) {
        if (n > 0 && p[n - 1] == 0)
                n--;
        add(t, "\"");
        for (size_t i = 0; i < n && i < 160; i++)
                add(t, "%c", p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?');
        add(t, n > 160 ? "...\"" : "\"");
}

/* UEFI_IMAGE_LOAD_EVENT: u64 ImageLocationInMemory, UINTN ImageLengthInMemory,
 * UINTN ImageLinkTimeAddress, UINTN LengthOfDevicePath, u8 DevicePath[] */
static void describe_image(struct text *t, const struct eventlog_event *ev) {
        unsigned uintn = ev->spec_id && ev->spec_id->uintn_size == 1 ? 4 : 8;
        uint32_t length_lo = 0, length_hi = 0, path_lo = 0, path_hi = 0;
        const uint8_t *path;
        struct reader r, node;
        bool named = false;

        reader_init(&r, ev->data, ev->data_size, "image load event");
        reader_skip(&r, 8, "ImageLocationInMemory");
        reader_u32le(&r, &length_lo, "ImageLengthInMemory");
        if (uintn == 8)
                reader_u32le(&r, &length_hi, "ImageLengthInMemory");
        reader_skip(&r, uintn, "ImageLinkTimeAddress");
        reader_u32le(&r, &path_lo, "LengthOfDevicePath");
        if (uintn == 8)
                reader_u32le(&r, &path_hi, "LengthOfDevicePath");
        if (r.failed || path_hi || reader_bytes(&r, path_lo, &path, "DevicePath") < 0) {
                add(t, " (its load event data does not parse)");
                return;
        }
        add(t, ", %llu bytes", (unsigned long long)length_hi << 32 | length_lo);
        reader_init(&node, path, path_lo, "device path");
        while (reader_left(&node) >= 4) {
                uint8_t type, subtype;
                uint16_t len;
                const uint8_t *body;

                reader_u8(&node, &type, "Type");
                reader_u8(&node, &subtype, "SubType");
                reader_u16le(&node, &len, "Length");
                if (type == DEVICE_PATH_END || len < 4 || reader_bytes(&node, len - 4u, &body, "node") < 0)
                        break;
                if (type == DEVICE_PATH_MEDIA && subtype == DEVICE_PATH_FILE) {
                        add(t, named ? "\\" : ", file ");
                        add_utf16(t, body, (len - 4u) / 2);
                        named = true;
                }
        }
        if (!named)
                add(t, ", no file path (from memory or a firmware volume: qemu -kernel's is one)");
}

/* UEFI_VARIABLE_DATA: the variable's name, and SecureBoot's value */
static void describe_variable(struct text *t, const struct eventlog_event *ev) {
        struct eventlog_uefi_variable var;
        const char *role;

        if (eventlog_uefi_variable(ev, &var) < 0) {
                add(t, " (its variable data does not parse)");
                return;
        }
        role = ev->type == EV_EFI_VARIABLE_AUTHORITY        ? ": the certificate that allowed an image to load, from "
               : ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG ? ": the Secure Boot configuration variable "
                                                           : ": the boot variable ";
        add(t, "%s", role);
        add_utf16(t, var.name_utf16, var.name_length);
        if (eventlog_uefi_variable_is(&var, eventlog_efi_global_variable_guid, "SecureBoot"))
                add(t, var.data_size == 0 ? " (absent: Secure Boot off)"
                       : var.data_size == 1 && var.data[0] == 1 ? " = 1 (Secure Boot on)"
                       : var.data_size == 1 && var.data[0] == 0 ? " = 0 (Secure Boot off)"
                                                                 : " (an unexpected value)");
        else if (var.data_size == 0)
                add(t, " (empty)");
        else
                add(t, " (%zu bytes)", var.data_size);
}

/* TCG_PCClientTaggedEvent: u32 taggedEventID, u32 taggedEventDataSize, data */
static void describe_tag(struct text *t, const struct eventlog_event *ev) {
        uint32_t id = 0, size = 0;
        const uint8_t *data;
        struct reader r;

        reader_init(&r, ev->data, ev->data_size, "tagged event");
        reader_u32le(&r, &id, "taggedEventID");
        reader_u32le(&r, &size, "taggedEventDataSize");
        if (r.failed || reader_bytes(&r, size, &data, "taggedEventData") < 0) {
                add(t, ": (its data does not parse)");
                return;
        }
        if (id == LINUX_EVENT_TAG_INITRD)
                add(t, ": the initrd the kernel's EFI stub loaded (the digest is the initrd file's)");
        else if (id == LINUX_EVENT_TAG_LOAD_OPTIONS)
                add(t, ": the kernel command line the EFI stub was given (the digest is of the load options: "
                       "UTF-16LE, NUL-terminated)");
        else {
                add(t, ": tag 0x%08x ", id);
                add_ascii(t, data, size);
        }
}

static void describe_separator(struct text *t, const struct eventlog_event *ev) {
        struct reader r;
        uint32_t value;

        reader_init(&r, ev->data, ev->data_size, "separator");
        if (reader_u32le(&r, &value, "value") < 0 || reader_expect_end(&r) < 0)
                add(t, ": a separator (its data does not parse)");
        else if (value == 0)
                add(t, ": the end of the firmware's measurements into this PCR");
        else
                add(t, ": an error separator (0x%x): the firmware failed a measurement", value);
}

void boot_event_describe(const struct eventlog_event *ev, char *out, size_t size) {
        struct text t = { .out = out, .size = size };
        char label[32];

        if (size == 0)
                return;
        out[0] = '\0';
        add(&t, "%s", eventlog_type_label(ev->type, label, sizeof(label)));
        switch (ev->type) {
        case EV_EFI_BOOT_SERVICES_APPLICATION:
                add(&t, ": a UEFI application the firmware started (the kernel's EFI stub, shim or a boot loader; "
                        "the digest is its Authenticode hash)");
                describe_image(&t, ev);
                break;
        case EV_EFI_BOOT_SERVICES_DRIVER:
        case EV_EFI_RUNTIME_SERVICES_DRIVER:
                add(&t, ": a UEFI driver the firmware loaded");
                describe_image(&t, ev);
                break;
        case EV_EFI_VARIABLE_DRIVER_CONFIG:
        case EV_EFI_VARIABLE_BOOT:
        case EV_EFI_VARIABLE_BOOT2:
        case EV_EFI_VARIABLE_AUTHORITY:
                describe_variable(&t, ev);
                break;
        case EV_EVENT_TAG:
                describe_tag(&t, ev);
                break;
        case EV_SEPARATOR:
                describe_separator(&t, ev);
                break;
        case EV_EFI_ACTION:
        case EV_ACTION:
                add(&t, ": ");
                add_ascii(&t, ev->data, ev->data_size);
                break;
        case EV_IPL:
                add(&t, ": the boot loader's record (GRUB: a command, the command line, a file it read) ");
                add_ascii(&t, ev->data, ev->data_size);
                break;
        case EV_EFI_GPT_EVENT:
                add(&t, ": the boot disk's partition table");
                break;
        case EV_EFI_PLATFORM_FIRMWARE_BLOB:
        case EV_EFI_PLATFORM_FIRMWARE_BLOB2:
        case EV_S_CRTM_VERSION:
        case EV_S_CRTM_CONTENTS:
        case EV_POST_CODE:
        case EV_POST_CODE2:
                add(&t, ": the platform firmware itself");
                break;
        default:
                break;
        }
}
