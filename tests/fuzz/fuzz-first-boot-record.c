/* Fuzzes first_boot_record_parse, vmattest's record of an instance's first boot (the file
 * `first-boot` in the state directory, which the runtime agent's user can write). Invariants:
 * a refused record holds nothing; an accepted one has every field within its rule, and formats
 * back to text that parses to the same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/first_boot_record.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        log_setup("fuzz-first-boot-record", LOG_LEVEL_SILENT);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct first_boot_record empty;
        struct first_boot_record rec, again;
        char text[FIRST_BOOT_RECORD_MAX + 1];

        if (first_boot_record_parse((const char *)data, size, &rec) < 0) {
                if (memcmp(&rec, &empty, sizeof(rec)) != 0)
                        abort();
                return 0;
        }
        if ((rec.instance_id[0] && !first_boot_instance_id_valid(rec.instance_id)) || !agent_id_valid(rec.agent_id) ||
            !rec.registrar_ip[0] || rec.registrar_port == 0 || rec.stage < FIRST_BOOT_REGISTERING ||
            rec.stage > FIRST_BOOT_DONE || rec.at < 0)
                abort();
        if (first_boot_record_format(&rec, text, sizeof(text)) < 0)
                abort();
        if (first_boot_record_parse(text, strlen(text), &again) < 0 || memcmp(&rec, &again, sizeof(rec)) != 0)
                abort();
        return 0;
}
