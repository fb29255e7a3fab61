/* Text from a peer (an agent's HTTP error body, a JSON member, an IMA path, a certificate
 * field) made safe to show: on a terminal, in a log line, in a failure reason the database
 * keeps and `status` prints. A peer's ESC sequence must not repaint the operator's terminal,
 * and its newline must not forge a second log line.
 *
 * Printable ASCII (0x20-0x7e) is written as it is; every other byte (control bytes, DEL, ESC,
 * and every byte >= 0x80, valid UTF-8 or not: C1 controls and bidirectional overrides are
 * UTF-8 too) as the four characters \xNN, lower-case hex. A backslash is printable and stays
 * one, so escaping is idempotent: text escaped twice (a detail wrapped in another, a stored
 * reason printed again) reads the same as once. The price is that a peer's literal "\x0a" and
 * an escaped newline look alike: the result is for reading, never to be unescaped. */
#pragma once

#include <stddef.h>

/* Escapes `in_len` bytes of `in` into `out` (`out_size` bytes, NUL-terminated when out_size >
 * 0); text that does not fit is cut, never in the middle of an escape. Returns the length
 * written. `in` and `out` must not overlap. */
size_t display_escape(const char *in, size_t in_len, char *out, size_t out_size);
