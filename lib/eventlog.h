/* The UEFI firmware's TPM event log as Linux exposes it in
 * /sys/kernel/security/tpm0/binary_bios_measurements and Keylime carries base64-encoded as
 * `mb_measurement_list` (docs/protocol.md §2, §8): the TCG PC Client Platform Firmware Profile's
 * crypto-agile format, little-endian:
 *   event 0, SHA-1 format:  u32 pcrIndex (0), u32 eventType (EV_NO_ACTION), u8 digest[20],
 *                           u32 eventSize, then the "Spec ID Event03" structure:
 *                           u8 signature[16], u32 platformClass, u8 specVersionMinor,
 *                           u8 specVersionMajor, u8 specErrata, u8 uintnSize,
 *                           u32 numberOfAlgorithms, {u16 algorithmId, u16 digestSize}[n],
 *                           u8 vendorInfoSize, u8 vendorInfo[vendorInfoSize]
 *   events 1.., TCG_PCR_EVENT2: u32 pcrIndex, u32 eventType,
 *                           u32 count, {u16 hashAlg, u8 digest[size declared above]}[count],
 *                           u32 eventSize, u8 event[eventSize]
 * Every event carries one digest for each algorithm the Spec ID event declares (PFP: "all
 * events in this event log use all hashing algorithms defined here"), in any order.
 *
 * A log whose first record is not that Spec ID event is a SHA-1 log, the format of TPM 1.2
 * firmware (and of some early TPM 2.0 firmware, GCE's among them): every record is a
 * TCG_PCClientPCREvent as event 0 above, u32 pcrIndex, u32 eventType, u8 digest[20] (SHA-1),
 * u32 eventSize, u8 event[eventSize]. The first record alone decides the format, as the PFP
 * has it; its records count from 1 (there is no Spec ID event 0), so that event 1 is the first
 * measurement in either format. Such a log replays into the SHA-1 bank only: a replay into any
 * other bank is refused, never an empty replay.
 *
 * Everything here came from the machine being attested: it is parsed through the bounded
 * reader, and a log that is cut short, oversized or inconsistent is -EBADMSG with a detail
 * naming the event number (0 is the Spec ID event) and the field. A parsed log is only as
 * trustworthy as the quote it replays to: compare eventlog_replay() with quoted PCRs before
 * believing any event in it, and even then believe only its digests. An event's type and data
 * are covered by no digest the TPM extends: select events by PCR, never by type, and interpret
 * data only after checking that it hashes to the event's digest (eventlog_secure_boot does). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "pcr_values.h"

#define EVENTLOG_MAX_EVENTS 65536              /* counting the Spec ID event, or its place in a SHA-1 log */
#define EVENTLOG_MAX_EVENT_DATA (1u << 20)     /* bytes of event data in one event */
#define EVENTLOG_MAX_ALGORITHMS TPM2_NUM_PCR_BANKS
#define EVENTLOG_PCR_COUNT 24                  /* PC Client PCRs 0-23 */

/* Event types (PC Client Platform Firmware Profile, "Event Types"). */
#define EV_PREBOOT_CERT 0x00000000u
#define EV_POST_CODE 0x00000001u
#define EV_UNUSED 0x00000002u
#define EV_NO_ACTION 0x00000003u
#define EV_SEPARATOR 0x00000004u
#define EV_ACTION 0x00000005u
#define EV_EVENT_TAG 0x00000006u
#define EV_S_CRTM_CONTENTS 0x00000007u
#define EV_S_CRTM_VERSION 0x00000008u
#define EV_CPU_MICROCODE 0x00000009u
#define EV_PLATFORM_CONFIG_FLAGS 0x0000000au
#define EV_TABLE_OF_DEVICES 0x0000000bu
#define EV_COMPACT_HASH 0x0000000cu
#define EV_IPL 0x0000000du
#define EV_IPL_PARTITION_DATA 0x0000000eu
#define EV_NONHOST_CODE 0x0000000fu
#define EV_NONHOST_CONFIG 0x00000010u
#define EV_NONHOST_INFO 0x00000011u
#define EV_OMIT_BOOT_DEVICE_EVENTS 0x00000012u
#define EV_POST_CODE2 0x00000013u
#define EV_EFI_EVENT_BASE 0x80000000u
#define EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define EV_EFI_VARIABLE_BOOT 0x80000002u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define EV_EFI_BOOT_SERVICES_DRIVER 0x80000004u
#define EV_EFI_RUNTIME_SERVICES_DRIVER 0x80000005u
#define EV_EFI_GPT_EVENT 0x80000006u
#define EV_EFI_ACTION 0x80000007u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB 0x80000008u
#define EV_EFI_HANDOFF_TABLES 0x80000009u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB2 0x8000000au
#define EV_EFI_HANDOFF_TABLES2 0x8000000bu
#define EV_EFI_VARIABLE_BOOT2 0x8000000cu
#define EV_EFI_HCRTM_EVENT 0x80000010u
#define EV_EFI_VARIABLE_AUTHORITY 0x800000e0u
#define EV_EFI_SPDM_FIRMWARE_BLOB 0x800000e1u
#define EV_EFI_SPDM_FIRMWARE_CONFIG 0x800000e2u

struct eventlog_algorithm {
        TPM2_ALG_ID alg;      /* may be one vmattest cannot hash (SM3, SHA3): parsed, never replayed */
        uint16_t digest_size;
};

enum eventlog_format {
        EVENTLOG_FORMAT_CRYPTO_AGILE, /* the Spec ID event, then TCG_PCR_EVENT2 records */
        EVENTLOG_FORMAT_SHA1,         /* TCG_PCClientPCREvent records only */
};

/* The Spec ID event's content (event 0). A SHA-1 log has none: it is described as declaring
 * SHA-1 alone, with the other fields 0. */
struct eventlog_spec_id {
        enum eventlog_format format;
        uint32_t platform_class;
        uint8_t spec_version_major, spec_version_minor, spec_errata;
        uint8_t uintn_size;   /* 1: UINTN fields are 32-bit, 2: 64-bit; 0 (a SHA-1 log): not said */
        uint32_t algorithm_count;
        struct eventlog_algorithm algorithms[EVENTLOG_MAX_ALGORITHMS];
};

struct eventlog_digest {
        TPM2_ALG_ID alg;
        uint16_t size;
        const uint8_t *digest; /* inside the log */
};

struct eventlog_event {
        uint32_t index;        /* 0 is the Spec ID event, the other records count from 1 (in a SHA-1 log too) */
        size_t offset;         /* of the record's first byte in the log */
        uint32_t pcr;          /* 0-23 */
        uint32_t type;         /* EV_* */
        uint32_t digest_count; /* event 0 and a SHA-1 log's: the one SHA-1 field; else algorithm_count */
        struct eventlog_digest digests[EVENTLOG_MAX_ALGORITHMS];
        const uint8_t *data;   /* the event data, inside the log */
        uint32_t data_size;
        const struct eventlog_spec_id *spec_id;
};

/* Returns 0 to go on; anything else stops the walk and is what eventlog_foreach returns. */
typedef int (*eventlog_fn)(const struct eventlog_event *ev, void *user);

/* Calls fn for each event in log order, the Spec ID event first. Events are handed over as they
 * are parsed: fn may see events before a malformed one that fails the walk, so act only on a
 * walk that returned 0. */
int eventlog_foreach(const uint8_t *log, size_t size, eventlog_fn fn, void *user);

/* Parses only the first record: the Spec ID event, or a SHA-1 log's first record (out then
 * describes the SHA-1 format). */
int eventlog_spec_id(const uint8_t *log, size_t size, struct eventlog_spec_id *out);

/* The event's digest in `alg`'s bank (hashalg_size(alg) bytes), or NULL when it has none. */
const uint8_t *eventlog_event_digest(const struct eventlog_event *ev, TPM2_ALG_ID alg);

/* Replays the whole log into one bank: each event other than EV_NO_ACTION extends its PCR,
 * PCR = H(PCR || digest). PCRs start at their reset values (0-16 and 23 all zeros, 17-22 all
 * ones, PC Client PTP), except that a StartupLocality EV_NO_ACTION event before the first PCR 0
 * extend sets the last byte of PCR 0's start to the locality TPM2_Startup came from (3, or 4
 * with an H-CRTM). out->mask holds the PCRs the log extends (and PCR 0 when its start was set);
 * only those carry a value. -EBADMSG when the log is malformed, does not declare `bank` (a
 * SHA-1 log declares SHA-1 alone), or an extending event lacks its digest; -EINVAL for a bank
 * vmattest cannot hash.
 * The type is not covered by any digest, yet it decides what extends: a real extend relabelled
 * EV_NO_ACTION drops out of the replay, which then misses the quoted PCR (barring a hash
 * collision), and an event labelled EV_NO_ACTION that the TPM never saw is in no PCR. So once
 * the replay meets the quote, the digests of the other events of a PCR are exactly the ones it
 * was extended with, in order; their types and data remain the log's claims. */
int eventlog_replay(const uint8_t *log, size_t size, TPM2_ALG_ID bank, struct pcr_values *out);

/* "EV_EFI_BOOT_SERVICES_APPLICATION", ...; NULL for a type without a name. */
const char *eventlog_type_name(uint32_t type);
/* The inverse, by exact name; -EINVAL for a name not in the table. */
int eventlog_type_from_name(const char *name, uint32_t *type);
/* For details: the name, or "type 0x12345678" written into buf (at least 16 bytes) for a type
 * without one. */
const char *eventlog_type_label(uint32_t type, char *buf, size_t size);

/* UEFI_VARIABLE_DATA, the event data of EV_EFI_VARIABLE_* events:
 *   u8 VariableName[16] (the vendor GUID, as stored), u64 UnicodeNameLength (in CHAR16),
 *   u64 VariableDataLength, CHAR16 UnicodeName[UnicodeNameLength], u8 VariableData[...] */
struct eventlog_uefi_variable {
        const uint8_t *guid;        /* 16 bytes, in the log */
        const uint8_t *name_utf16;  /* UTF-16LE, not terminated */
        size_t name_length;         /* in CHAR16 */
        const uint8_t *data;
        size_t data_size;
};

/* EFI_GLOBAL_VARIABLE {8BE4DF61-93CA-11D2-AA0D-00E098032B8C} in its in-memory byte order. */
extern const uint8_t eventlog_efi_global_variable_guid[16];

/* -EBADMSG, naming the event, when the data is not exactly one UEFI_VARIABLE_DATA. */
int eventlog_uefi_variable(const struct eventlog_event *ev, struct eventlog_uefi_variable *var);
/* True when the variable is `guid` and its name is the ASCII `name`. */
bool eventlog_uefi_variable_is(const struct eventlog_uefi_variable *var, const uint8_t guid[16], const char *name);

enum eventlog_secure_boot {
        EVENTLOG_SECURE_BOOT_ABSENT,   /* not measured, or measured empty: the variable did not exist */
        EVENTLOG_SECURE_BOOT_DISABLED, /* measured as 0 */
        EVENTLOG_SECURE_BOOT_ENABLED,  /* measured as 1 */
};

/* The Secure Boot state the firmware measured: the PCR 7 event for EFI_GLOBAL_VARIABLE
 * "SecureBoot", whose variable data is one byte, 1 or 0, or empty when the variable did not
 * exist (PFP: VariableDataLength 0 for a variable not found). Only digests are extended, so
 * neither the event's type nor its data is trusted as such: every PCR 7 event but EV_NO_ACTION
 * (which extends nothing) must have, in each bank the log carries that vmattest can hash, the
 * hash of its event data as its digest (PFP defines them so; -EBADMSG naming the event, PCR,
 * type and bank otherwise), and every one whose data is the SecureBoot variable counts, under
 * whatever type it is logged. A PFP firmware measures SecureBoot before it boots anything
 * (empty when the variable is absent), so an event a guest extends into PCR 7 later meets it:
 * -EBADMSG when two of them disagree, for a malformed log, a malformed SecureBoot variable or
 * another value. Believe the state only once the log replayed to the quoted PCR 7. */
int eventlog_secure_boot(const uint8_t *log, size_t size, enum eventlog_secure_boot *state);
const char *eventlog_secure_boot_name(enum eventlog_secure_boot state);
