/* Security-sensitive: every block libevent frees is wiped first, and request bodies are wiped
 * as soon as they are read. */
#include "event_wipe.h"

#include <event2/event.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static void (*release_hook)(const void *block, size_t size);

static void wiping_free(void *block) {
        size_t size;

        if (!block)
                return;
        /* libevent does not say how large a block it frees is; the allocator knows */
        size = malloc_usable_size(block);
        explicit_bzero(block, size);
        if (release_hook)
                release_hook(block, size);
        free(block);
}

static void *wiping_malloc(size_t size) {
        return malloc(size ? size : 1);
}

/* realloc() would free the old block without a wipe when it moves it: move it ourselves */
static void *wiping_realloc(void *block, size_t size) {
        size_t old_size;
        void *moved;

        if (!block)
                return wiping_malloc(size);
        old_size = malloc_usable_size(block);
        moved = wiping_malloc(size);
        if (!moved)
                return NULL; /* the old block stays the caller's, as realloc() leaves it */
        memcpy(moved, block, old_size < size ? old_size : size);
        wiping_free(block);
        return moved;
}

void event_wipe_setup(void) {
        event_set_mem_functions(wiping_malloc, wiping_realloc, wiping_free);
}

void event_wipe_buffer(struct evbuffer *buffer) {
        size_t size = evbuffer_get_length(buffer), done = 0;
        struct evbuffer_ptr at;
        unsigned char *bytes;

        if (size == 0)
                return;
        /* one contiguous run to wipe; the chains pullup merges are freed through wiping_free */
        bytes = evbuffer_pullup(buffer, -1);
        if (bytes) {
                explicit_bzero(bytes, size);
                return;
        }
        /* no memory to merge them: chain by chain, where they are */
        if (evbuffer_ptr_set(buffer, &at, 0, EVBUFFER_PTR_SET) != 0)
                return;
        while (done < size) {
                struct evbuffer_iovec extents[16];
                int n = evbuffer_peek(buffer, -1, &at, extents, (int)ELEMENTSOF(extents));

                if (n <= 0)
                        break;
                for (int i = 0; i < n && i < (int)ELEMENTSOF(extents); i++) {
                        explicit_bzero(extents[i].iov_base, extents[i].iov_len);
                        done += extents[i].iov_len;
                }
                if (done >= size || evbuffer_ptr_set(buffer, &at, done, EVBUFFER_PTR_SET) != 0)
                        break;
        }
}

void event_wipe_release_hook(void (*hook)(const void *block, size_t size)) {
        release_hook = hook;
}
