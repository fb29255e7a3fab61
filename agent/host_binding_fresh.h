/* The agent's side of the fresh mode (docs/protocol.md §5.9): per integrity quote, the host
 * service (`vmattest-host serve`) is asked for a binding over the verifier's nonce and this
 * vTPM's EK, over one of:
 *   unix:PATH        a UNIX socket (tests, or a host-side agent)
 *   vsock:CID:PORT   AF_VSOCK: the host is CID 2
 *   serial:PATH      a virtio-serial port, /dev/virtio-ports/org.vmattest.host.0: one stream
 *                    that carries request after request, whose host end is qemu's
 *                    -chardev socket on the service's UNIX socket
 * The answer is read bounded (a frame header first, its length within its type's bound) and
 * within a timeout. The agent checks nothing of the binding (the verifier does) except that it
 * is for this request's nonce: on a serial port an answer to an earlier request that timed out
 * may still be in the stream, and is skipped. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define HOST_SERVICE_TIMEOUT_DEFAULT 5 /* seconds */

/* Whether `service` has one of the forms above; *why says what is wrong (a static string). */
int host_service_address_check(const char *service, const char **why);

/* The binding (a version 2 blob, malloc'ed) for `nonce` and `ek_name` from `service` within
 * `timeout_s` seconds. Errors name the service and what failed: the connection, the timeout,
 * a malformed answer, or the host's own error frame ("rate limited: ..."). */
int host_binding_fresh_ask(const char *service, unsigned timeout_s, const uint8_t *nonce, size_t nonce_size,
                           const TPM2B_NAME *ek_name, uint8_t **blob, size_t *blob_size);
