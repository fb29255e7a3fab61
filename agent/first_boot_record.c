/* vmattest first-boot's record of how far the first boot got: parser, writer and the file.
 * Untrusted input (the state directory is the runtime agent's): every line is bounded and read
 * through lib/reader. See agent/first_boot_record.h. */
#include "agent/first_boot_record.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/state.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/reader.h"

#define HEADER "vmattest-first-boot 1"
#define LINE_MAX_LEN 300 /* the longest field line: "registrar_ip " and a 255-byte host */
#define AT_MAX 253402300799 /* 9999-12-31T23:59:59Z: a time any later is not one we wrote */

enum field {
        FIELD_INSTANCE_ID,
        FIELD_AGENT_ID,
        FIELD_REGISTRAR_IP,
        FIELD_REGISTRAR_PORT,
        FIELD_STAGE,
        FIELD_AT,
        FIELD_COUNT,
};

static const char *const field_names[FIELD_COUNT] = {
        [FIELD_INSTANCE_ID] = "instance_id", [FIELD_AGENT_ID] = "agent_id", [FIELD_REGISTRAR_IP] = "registrar_ip",
        [FIELD_REGISTRAR_PORT] = "registrar_port", [FIELD_STAGE] = "stage", [FIELD_AT] = "at",
};

static const char *const stage_names[] = {
        [FIRST_BOOT_REGISTERING] = "registering",
        [FIRST_BOOT_ENROLLED] = "enrolled",
        [FIRST_BOOT_INITRD_IN_PLACE] = "initrd-in-place",
        [FIRST_BOOT_DONE] = "done",
};

bool first_boot_instance_id_valid(const char *id) {
        size_t len = strnlen(id, FIRST_BOOT_INSTANCE_ID_MAX + 1);

        if (len == 0 || len > FIRST_BOOT_INSTANCE_ID_MAX || id[0] == ' ' || id[len - 1] == ' ')
                return false;
        for (size_t i = 0; i < len; i++)
                if (id[i] < 0x20 || id[i] > 0x7e)
                        return false;
        return true;
}

const char *first_boot_stage_name(enum first_boot_stage stage) {
        if (stage < FIRST_BOOT_REGISTERING || stage > FIRST_BOOT_DONE)
                return "unknown";
        return stage_names[stage];
}

/* The registrar's host as agent.conf holds it: a DNS name or an address, no blank, quote or
 * control character (cmd_first_boot.c writes it unquoted-checked). */
static bool registrar_ip_valid(const char *host) {
        size_t len = strnlen(host, 256);

        if (len == 0 || len > 255)
                return false;
        for (size_t i = 0; i < len; i++)
                if (host[i] <= ' ' || host[i] > '~' || host[i] == '"' || host[i] == '\\')
                        return false;
        return true;
}

/* A decimal number of 1-12 digits, no sign, no leading zero, at most `max`. */
static bool decimal(const char *text, int64_t max, int64_t *out) {
        size_t len = strlen(text);
        int64_t v = 0;

        if (len == 0 || len > 12 || strspn(text, "0123456789") != len || (text[0] == '0' && len > 1))
                return false;
        for (size_t i = 0; i < len; i++)
                v = v * 10 + (text[i] - '0');
        if (v > max)
                return false;
        *out = v;
        return true;
}

/* The next line of `r`, its newline consumed, in `line` (NUL-terminated). */
static int next_line(struct reader *r, unsigned number, char line[LINE_MAX_LEN + 1]) {
        const uint8_t *rest;
        const uint8_t *newline;
        size_t len;

        if (reader_bytes(r, 0, &rest, "line") < 0)
                return -EBADMSG;
        newline = memchr(rest, '\n', reader_left(r));
        if (!newline)
                return reader_invalid(r, "line %u: truncated (no newline at the end of the file)", number);
        len = (size_t)(newline - rest);
        if (len > LINE_MAX_LEN)
                return reader_invalid(r, "line %u: longer than %d bytes", number, LINE_MAX_LEN);
        if (memchr(rest, '\0', len))
                return reader_invalid(r, "line %u: holds a NUL byte", number);
        if (reader_copy(r, line, len, "line") < 0 || reader_skip(r, 1, "newline") < 0)
                return -EBADMSG;
        line[len] = '\0';
        return 0;
}

static int parse_field(struct reader *r, unsigned number, enum field f, const char *value, struct first_boot_record *out) {
        int64_t n;

        switch (f) {
        case FIELD_INSTANCE_ID:
                if (!first_boot_instance_id_valid(value))
                        return reader_invalid(r, "line %u: instance_id: not 1-%d printable characters", number,
                                              FIRST_BOOT_INSTANCE_ID_MAX);
                memcpy(out->instance_id, value, strlen(value) + 1);
                return 0;
        case FIELD_AGENT_ID:
                if (!agent_id_valid(value))
                        return reader_invalid(r, "line %u: agent_id: not an agent id (1-%d of A-Z a-z 0-9 . _ -)", number,
                                              AGENT_ID_MAX);
                memcpy(out->agent_id, value, strlen(value) + 1);
                return 0;
        case FIELD_REGISTRAR_IP:
                if (!registrar_ip_valid(value))
                        return reader_invalid(r, "line %u: registrar_ip: not a host name or address", number);
                memcpy(out->registrar_ip, value, strlen(value) + 1);
                return 0;
        case FIELD_REGISTRAR_PORT:
                if (!decimal(value, 65535, &n) || n == 0)
                        return reader_invalid(r, "line %u: registrar_port: not a port (1-65535)", number);
                out->registrar_port = (uint16_t)n;
                return 0;
        case FIELD_STAGE:
                for (enum first_boot_stage s = FIRST_BOOT_REGISTERING; s <= FIRST_BOOT_DONE; s++)
                        if (strcmp(value, stage_names[s]) == 0) {
                                out->stage = s;
                                return 0;
                        }
                return reader_invalid(r, "line %u: stage: not registering, enrolled, initrd-in-place or done", number);
        case FIELD_AT:
                if (!decimal(value, AT_MAX, &n))
                        return reader_invalid(r, "line %u: at: not a Unix time", number);
                out->at = n;
                return 0;
        default:
                return reader_invalid(r, "line %u: unknown field", number);
        }
}

int first_boot_record_parse(const char *text, size_t size, struct first_boot_record *out) {
        struct first_boot_record rec = { 0 };
        bool seen[FIELD_COUNT] = { false };
        char line[LINE_MAX_LEN + 1];
        struct reader r;
        int ret;

        memset(out, 0, sizeof(*out));
        if (size > FIRST_BOOT_RECORD_MAX)
                return vm_error(-EBADMSG, "first-boot record: longer than %d bytes", FIRST_BOOT_RECORD_MAX);
        reader_init(&r, text, size, "first-boot record");
        if ((ret = next_line(&r, 1, line)) < 0)
                return ret;
        if (strcmp(line, HEADER) != 0)
                return reader_invalid(&r, "line 1: not \"" HEADER "\"");
        for (unsigned number = 2; reader_left(&r) > 0; number++) {
                char *space;
                enum field f;

                if ((ret = next_line(&r, number, line)) < 0)
                        return ret;
                space = strchr(line, ' ');
                if (!space)
                        return reader_invalid(&r, "line %u: not \"field value\"", number);
                *space = '\0';
                for (f = 0; f < FIELD_COUNT; f++)
                        if (strcmp(line, field_names[f]) == 0)
                                break;
                if (f == FIELD_COUNT)
                        return reader_invalid(&r, "line %u: unknown field \"%.32s\"", number, line);
                if (seen[f])
                        return reader_invalid(&r, "line %u: %s given twice", number, field_names[f]);
                seen[f] = true;
                if ((ret = parse_field(&r, number, f, space + 1, &rec)) < 0)
                        return ret;
        }
        /* the instance id is optional: first-boot may have been given none */
        for (enum field f = FIELD_AGENT_ID; f < FIELD_COUNT; f++)
                if (!seen[f])
                        return reader_invalid(&r, "%s missing", field_names[f]);
        *out = rec;
        return 0;
}

int first_boot_record_format(const struct first_boot_record *record, char *out, size_t size) {
        char instance_line[FIRST_BOOT_INSTANCE_ID_MAX + 16] = "";
        int n;

        if ((record->instance_id[0] && !first_boot_instance_id_valid(record->instance_id)) ||
            !agent_id_valid(record->agent_id) || !registrar_ip_valid(record->registrar_ip) ||
            record->registrar_port == 0 || record->stage < FIRST_BOOT_REGISTERING || record->stage > FIRST_BOOT_DONE ||
            record->at < 0 || record->at > AT_MAX)
                return vm_error(-EINVAL, "first-boot record: a field outside its rule");
        if (record->instance_id[0])
                snprintf(instance_line, sizeof(instance_line), "instance_id %s\n", record->instance_id);
        n = snprintf(out, size,
                     HEADER "\n"
                            "%s"
                            "agent_id %s\n"
                            "registrar_ip %s\n"
                            "registrar_port %u\n"
                            "stage %s\n"
                            "at %" PRId64 "\n",
                     instance_line, record->agent_id, record->registrar_ip, record->registrar_port,
                     stage_names[record->stage], record->at);
        if (n < 0 || (size_t)n >= size)
                return vm_error(-ENOSPC, "first-boot record: more than %zu bytes", size);
        return 0;
}

int first_boot_record_path(const struct agent_config *config, char *out, size_t size) {
        return state_path(config, FIRST_BOOT_RECORD_NAME, out, size);
}

int first_boot_record_read(const char *path, struct first_boot_record *out) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        char text[FIRST_BOOT_RECORD_MAX + 1];
        size_t used = 0;
        struct stat st;
        int ret;

        memset(out, 0, sizeof(*out));
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : vm_error(-errno, "%s: cannot open: %m", path);
        if (fstat(fd, &st) < 0)
                return vm_error(-errno, "%s: %m", path);
        if (!S_ISREG(st.st_mode))
                return vm_error(-EBADMSG, "%s: not a regular file", path);
        /* the state directory is the runtime agent's user's: a record only its writer (first-boot,
         * as root) can own, or one that user could have forged to skip a first boot */
        if (st.st_uid != geteuid())
                return vm_error(-EBADMSG, "%s: owned by uid %u, not by uid %u that writes it", path, (unsigned)st.st_uid,
                                (unsigned)geteuid());
        for (;;) {
                ssize_t n = read(fd, text + used, sizeof(text) - used);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return vm_error(-errno, "%s: cannot read: %m", path);
                if (n == 0)
                        break;
                used += (size_t)n;
                if (used == sizeof(text))
                        return vm_error(-EBADMSG, "%s: longer than %d bytes", path, FIRST_BOOT_RECORD_MAX);
        }
        ret = first_boot_record_parse(text, used, out);
        if (ret < 0)
                return vm_error(ret, "%s: %s", path, vm_error_detail(ret));
        return 0;
}

int first_boot_record_write(const struct agent_config *config, const char *path, const struct first_boot_record *record) {
        char text[FIRST_BOOT_RECORD_MAX + 1];
        int ret;

        if ((ret = first_boot_record_format(record, text, sizeof(text))) < 0)
                return ret;
        if ((ret = state_dir_ensure(config)) < 0)
                return ret;
        return state_write_file(path, text, strlen(text), 0600);
}
