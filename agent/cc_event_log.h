/* A TD's CC event log (UEFI CC measurement protocol; Intel TDX guest-hypervisor communication
 * interface, "ACPI CCEL table"), served beside a TDX quote as platform_evidence.cc_event_log
 * (docs/protocol.md §5.7) for the verifier to replay RTMR0-3 from. The firmware (TDVF) keeps the
 * log in a memory area it names in the ACPI CCEL table (LASA, LAML); Linux exposes that area's
 * LAML bytes, root-only, as /sys/firmware/acpi/tables/data/CCEL (drivers/acpi/sysfs.c, the
 * "data" tables). The log fills it from the start: a TCG2 crypto-agile event log (the Spec ID
 * event, then TCG_PCR_EVENT2 records whose PCR index is the MR index, 1-4 = RTMR0-3), and the
 * rest of the area is unused, as the firmware left it (0xff; zeros are taken too). That rest does
 * not parse as events and is cut off here. Nothing is checked for the verifier: it replays the
 * log against the quote's signed RTMRs, and a log the kernel hands over wrong fails there. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CC_EVENT_LOG_PATH "/sys/firmware/acpi/tables/data/CCEL"
#define CC_EVENT_LOG_MAX (1u << 20) /* of the area read, and so of the log served */

/* The log at `path`, without the unused rest of its area, malloc'ed. -ENOENT (no detail) when the
 * file does not exist (no TD, or a kernel without the CCEL data table); -EFBIG when the log runs
 * past CC_EVENT_LOG_MAX; -EBADMSG when its records do not parse up to the unused rest; else the
 * errno of the read, each with a detail naming the path. */
int cc_event_log_read(const char *path, uint8_t **log, size_t *size);

/* How many bytes of `area` the log takes: its records up to where only 0xff or only zero bytes
 * are left (or the end). -EBADMSG, naming the event and field, when a record before that does
 * not parse. Pure, for the tests and the fuzzer. */
int cc_event_log_used(const uint8_t *area, size_t size, size_t *used);
