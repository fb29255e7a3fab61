/* The fresh mode's wire protocol (docs/protocol.md §5.9): a guest's agent asks `vmattest-host
 * serve` for a host binding over this request's nonce and its vTPM's EK, the host answers with a
 * version 2 binding or an error. The same frames travel over AF_VSOCK (production) and over a
 * virtio-serial port (a UNIX socket on the host, qemu's -chardev socket), one stream that
 * carries request after request. Every frame:
 *
 *   magic "VMHQ" (4) | version 1 (2) | type (2) | body length (4) | body
 *
 * all integers big-endian; the length is bounded per type before a byte of the body is read.
 * The encoders and the bounded parsers of those frames, shared by the host and the agent. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "lib/host_binding.h"

#define HOST_FRAME_MAGIC 0x564d4851u /* "VMHQ" */
#define HOST_FRAME_VERSION 1
#define HOST_FRAME_HEADER_SIZE 12
#define HOST_FRAME_MESSAGE_MAX 256

enum host_frame_type {
        HOST_FRAME_REQUEST = 1, /* guest -> host: nonce, EK Name */
        HOST_FRAME_BINDING = 2, /* host -> guest: a version 2 host binding (lib/host_binding.h) */
        HOST_FRAME_ERROR = 3,   /* host -> guest: a code and a message */
};

/* The request's body: u16 nonce size (1-64) | nonce | u16 Name size | EK Name (nameAlg || digest) */
#define HOST_REQUEST_BODY_MAX (2 + HOST_BINDING_NONCE_MAX + 2 + sizeof(TPMU_NAME))
/* The error's body: u16 code | u16 message size (0-256) | message (printable ASCII) */
#define HOST_ERROR_BODY_MAX (4 + HOST_FRAME_MESSAGE_MAX)
#define HOST_FRAME_MAX (HOST_FRAME_HEADER_SIZE + HOST_BINDING_MAX_SIZE)

enum host_error_code {
        HOST_ERROR_MALFORMED = 1,    /* the request does not parse: the host closes the stream */
        HOST_ERROR_RATE_LIMITED = 2, /* too many requests from this peer or from all: try later */
        HOST_ERROR_BUSY = 3,         /* too many connections */
        HOST_ERROR_REFUSED = 4,      /* an EK this service does not quote for (serve --ek-name) */
        HOST_ERROR_HOST_TPM = 5,     /* the host TPM failed */
};

struct host_frame_header {
        uint16_t type;
        uint32_t length;
};

struct host_request {
        uint8_t nonce[HOST_BINDING_NONCE_MAX];
        size_t nonce_size;
        TPM2B_NAME ek_name;
};

struct host_error {
        uint16_t code;
        char message[HOST_FRAME_MESSAGE_MAX + 1];
};

/* The header of HOST_FRAME_HEADER_SIZE bytes: magic, version, a known type and a length within
 * that type's bound (`from_guest`: only requests; else only bindings and errors). -EBADMSG
 * naming the field. */
int host_frame_header_parse(const uint8_t header[HOST_FRAME_HEADER_SIZE], int from_guest,
                            struct host_frame_header *out);

/* A request's body of `size` bytes, every byte used; -EBADMSG naming the field. */
int host_request_parse(const uint8_t *body, size_t size, struct host_request *out);
/* An error's body; a message with a byte outside printable ASCII is malformed. */
int host_error_parse(const uint8_t *body, size_t size, struct host_error *out);

/* Whole frames (header and body) into `out` of `cap` bytes; -ENOBUFS or -EINVAL. */
int host_request_encode(const struct host_request *in, uint8_t *out, size_t cap, size_t *out_size);
int host_binding_frame_encode(const uint8_t *blob, size_t blob_size, uint8_t *out, size_t cap, size_t *out_size);
/* The message is cut at HOST_FRAME_MESSAGE_MAX bytes and anything unprintable becomes '?'. */
int host_error_encode(uint16_t code, const char *message, uint8_t *out, size_t cap, size_t *out_size);

const char *host_error_code_name(uint16_t code);
