/* Appends to a caller-owned, fixed-size buffer; a write that would overflow fails and leaves
 * the writer failed. The counterpart of reader.h for the little-endian layouts tpm2-tools
 * writes (pcrblob), and big-endian fields; TPM structures themselves are written with tss2-mu. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct writer {
        uint8_t *data;
        size_t capacity;
        size_t offset;
        bool failed;
};

void writer_init(struct writer *w, void *data, size_t capacity);
int writer_u8(struct writer *w, uint8_t v);
int writer_u16le(struct writer *w, uint16_t v);
int writer_u32le(struct writer *w, uint32_t v);
/* Big-endian, as TPM structures and the host binding (lib/host_binding.h) are. */
int writer_u16be(struct writer *w, uint16_t v);
int writer_u32be(struct writer *w, uint32_t v);
int writer_bytes(struct writer *w, const void *p, size_t n);
int writer_zeros(struct writer *w, size_t n);
