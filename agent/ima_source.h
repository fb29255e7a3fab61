/* The IMA measurement list as the agent serves it: from the entry the verifier asks for to the end
 * (docs/protocol.md §2). The list only grows, to a million entries and more, so the cost of a
 * request must follow what is new, not the whole list: the file stays open and is read on from
 * where the last read stopped (securityfs' seq_file would otherwise re-walk every entry to seek),
 * recent text is kept (bounded) to answer the verifier's usual "from entry n" in memory, and a byte
 * offset every IMA_CHECKPOINT_EVERY entries bounds the rare request that reaches further back. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define IMA_CHECKPOINT_EVERY 256
#define IMA_TAIL_MAX (1u << 20) /* ~10k entries: what a verifier polling every few seconds asks again */
#define IMA_ANSWER_MAX (1024u << 20)

struct ima_source {
        char path[256];
        int fd;
        uint64_t entries;     /* complete entries read through fd */
        uint64_t offset;      /* bytes of those entries */
        uint64_t *checkpoints; /* byte offset of entry k * IMA_CHECKPOINT_EVERY */
        size_t ncheckpoints, checkpoints_cap;
        char *tail;           /* text of entries [tail_entry, entries) */
        size_t tail_size, tail_cap;
        uint64_t tail_entry;
        size_t pending;       /* bytes of an incomplete last line at the end of tail */
};

void ima_source_init(struct ima_source *src, const char *path);
void ima_source_done(struct ima_source *src);

/* The text of entries [from, end) as of now, malloc'ed, and the entry it starts at: `from`,
 * or 0 when `from` lies beyond the end (the list was reset: a new boot). -ENOENT when the list
 * does not exist (IMA off). */
int ima_source_read(struct ima_source *src, uint64_t from, char **text, size_t *size, uint64_t *start);
/* The number of complete entries as of now (the push model's capabilities, docs/protocol.md
 * §4): -ENOENT when the list does not exist. */
int ima_source_count(struct ima_source *src, uint64_t *count);
