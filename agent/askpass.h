/* Answering systemd's password agent protocol (docs/protocol.md §6), as clevis does: systemd-cryptsetup
 * writes /run/systemd/ask-password/ask.XXXX ([Ask] Id=cryptsetup:<device>, Socket=...,
 * NotAfter=...); an agent that knows the key sends "+<key>" as one datagram to the Socket. A
 * human can still answer the same prompt on the console. Only root's requests are answered,
 * on root's sockets in that directory: the key goes to systemd-cryptsetup and nobody else. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ASKPASS_DIR "/run/systemd/ask-password"

struct askpass_request {
        char id[256];      /* e.g. "cryptsetup:/dev/disk/by-uuid/<uuid>" */
        char socket[108];  /* sun_path of the requester's datagram socket */
        uint64_t not_after; /* CLOCK_MONOTONIC microseconds; 0: no deadline */
};

/* Parses an ask.* file's text (bounded; -EBADMSG naming what is missing or malformed). */
int askpass_parse(const char *text, size_t size, struct askpass_request *req);
/* True when the request asks for `volume` (a device path such as /dev/disk/by-uuid/U, or the
 * bare UUID) and has not expired. */
bool askpass_matches(const struct askpass_request *req, const char *volume);
/* Sends "+<key>" to the request's socket. The datagram buffer is wiped before it is freed. */
int askpass_answer(const struct askpass_request *req, const uint8_t *key, size_t size);
/* Looks through `dir` (root's, writable by nobody else) for a request for `volume` that is
 * systemd's: the ask.* file a regular file owned by root (not followed when it is a symlink),
 * its Socket= a socket owned by root directly in `dir` (no other directory, no "..", no
 * symlink). 0 and *req when found;
 * -ENOENT when there is none; -EPERM when there is none but some request was refused, the
 * detail naming the last one refused and why. */
int askpass_find(const char *dir, const char *volume, struct askpass_request *req);
