/* vmattest's own record of an instance's first boot (vmattest(8), first-boot): how far
 * `vmattest first-boot` got, so that a first boot cut by a power loss or a failure resumes at
 * the next boot (the cloud-init hook runs at every boot) and a finished one costs nothing.
 * cloud-init's own per-instance mark cannot say this: it is set before the script runs.
 *
 * A small text file in the agent's state directory (FIRST_BOOT_RECORD_NAME), written
 * atomically, holding no secret (never the enrolment token: a resumed run registers without
 * it, the registrar having consumed it at the activation):
 *
 *   vmattest-first-boot 1
 *   instance_id <cloud-init's instance id>      (absent when first-boot was given none)
 *   agent_id <id>
 *   registrar_ip <host>
 *   registrar_port <port>
 *   stage registering|enrolled|initrd-in-place|done
 *   at <Unix time the stage was reached>
 *
 * The state directory belongs to the runtime agent's user: the record stays root's (the hand-over
 * of the directory leaves it out) and a record another user owns is ignored, so that user cannot
 * forge "done" to skip a first boot; it can delete the record, which makes the next run start
 * over (each step converges). The record is parsed as untrusted, bounded input all the same. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "lib/agent_id.h"

#define FIRST_BOOT_RECORD_NAME "first-boot"
#define FIRST_BOOT_RECORD_MAX 1024 /* bytes of the file */
#define FIRST_BOOT_INSTANCE_ID_MAX 128

enum first_boot_stage {
        /* the registration with the token was sent: whether the registrar activated (and so
         * consumed the token) is not known */
        FIRST_BOOT_REGISTERING = 1,
        /* activated and enrolled in the token's group: the token is used up */
        FIRST_BOOT_ENROLLED,
        /* the rebuilt initrd, its PCR 9 reported, is in place: a rerun must not rebuild it (dracut's
         * output differs from run to run, and the next boot must have the pinned PCR 9) */
        FIRST_BOOT_INITRD_IN_PLACE,
        /* every step done: nothing is left for this instance */
        FIRST_BOOT_DONE,
};

struct first_boot_record {
        char instance_id[FIRST_BOOT_INSTANCE_ID_MAX + 1]; /* "" when none was given */
        char agent_id[AGENT_ID_MAX + 1];
        char registrar_ip[256];
        uint16_t registrar_port;
        enum first_boot_stage stage;
        int64_t at;
};

/* Whether `id` can be an instance id of the record: 1-FIRST_BOOT_INSTANCE_ID_MAX printable
 * ASCII characters (0x20-0x7e), no leading or trailing space. */
bool first_boot_instance_id_valid(const char *id);

/* The name of `stage` in the record ("registering", "enrolled", "done"). */
const char *first_boot_stage_name(enum first_boot_stage stage);

/* Parses the record's text (`size` bytes, at most FIRST_BOOT_RECORD_MAX): the header line,
 * then each field once, in any order, every line ending in a newline. -EBADMSG with a detail
 * naming the line and the field for anything else: an unknown or repeated field, a value
 * outside its rule, a missing field, a NUL byte, a truncated line. */
int first_boot_record_parse(const char *text, size_t size, struct first_boot_record *out);

/* The record's text into `out` (NUL-terminated); -EINVAL for a field outside its rule (nothing
 * written that the parser would refuse), -ENOSPC when `size` is too small. */
int first_boot_record_format(const struct first_boot_record *record, char *out, size_t size);

/* The record's path in the state directory of `config`. */
int first_boot_record_path(const struct agent_config *config, char *out, size_t size);

/* Reads and parses the record at `path`: -ENOENT when there is none; a symbolic link, a
 * file that is not regular, one another user than this process's owns, or one longer than
 * FIRST_BOOT_RECORD_MAX is refused. */
int first_boot_record_read(const char *path, struct first_boot_record *out);

/* Writes `record` to `path` atomically (0600), creating the state directory if needed. */
int first_boot_record_write(const struct agent_config *config, const char *path, const struct first_boot_record *record);
