/* libevent's buffers wiped: what a peer sent and what is sent to it (request bodies that carry
 * an enrolment token or an escrowed key) passes through evbuffer chains in the ordinary heap,
 * which libevent copies between (evbuffer_remove_buffer, evbuffer_pullup) and frees without a
 * wipe. The secret's own copy lives in the secure heap (lib/secret.h); these are the others. */
#pragma once

#include <event2/buffer.h>
#include <stddef.h>

/* Makes libevent allocate through functions that wipe every block before it is freed (and
 * before a realloc moves it), so that no chain leaves a secret behind in freed memory.
 * Call it first in main(), before any libevent call: libevent's allocator cannot change once
 * it has allocated. The wipe needs no header in front of a block (its size is
 * malloc_usable_size's), so a block malloc'ed before the switch is still freed correctly. */
void event_wipe_setup(void);

/* Zeroes every byte of `buffer` in place (its length stays; the caller drains or frees it).
 * For buffers libevent filled from a peer, such as a request's input buffer: they are the
 * process's own memory, not a caller's by-reference data. */
void event_wipe_buffer(struct evbuffer *buffer);

/* For the unit tests: `hook` (NULL: none) sees each block event_wipe_setup's functions give
 * back, after its wipe and before free() takes it. */
void event_wipe_release_hook(void (*hook)(const void *block, size_t size));
