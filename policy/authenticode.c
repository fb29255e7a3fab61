#include "policy/authenticode.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/reader.h"

#define PE32_MAGIC 0x10b
#define PE32_PLUS_MAGIC 0x20b
#define OPT_CHECKSUM 64        /* offsets in the optional header, PE32 and PE32+ alike */
#define OPT_SIZE_OF_HEADERS 60
#define SECURITY_DIRECTORY 4   /* the Certificate Table's entry */
#define SECTION_HEADER_SIZE 40

struct pe_section {
        uint32_t raw_size, raw_offset;
};

DEFINE_POINTER_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)

/* A reader at `offset` of the image (a failed one when that is past the end). */
static int reader_at(struct reader *r, const uint8_t *image, size_t size, size_t offset, const char *field) {
        reader_init(r, image, size, "PE image");
        return reader_skip(r, offset, field);
}

static int u16_at(const uint8_t *image, size_t size, size_t offset, uint16_t *v, const char *field) {
        struct reader r;
        int ret = reader_at(&r, image, size, offset, field);

        return ret < 0 ? ret : reader_u16le(&r, v, field);
}

static int u32_at(const uint8_t *image, size_t size, size_t offset, uint32_t *v, const char *field) {
        struct reader r;
        int ret = reader_at(&r, image, size, offset, field);

        return ret < 0 ? ret : reader_u32le(&r, v, field);
}

/* Hashes image[start, end); a range outside the image or backwards is -EBADMSG naming `what`. */
static int hash_range(EVP_MD_CTX *ctx, const uint8_t *image, size_t size, size_t start, size_t end, const char *what) {
        struct reader r;
        const uint8_t *p;
        int ret;

        if (end < start)
                return vm_error(-EBADMSG, "PE image: %s ends (%zu) before it starts (%zu)", what, end, start);
        ret = reader_at(&r, image, size, start, what);
        if (ret >= 0)
                ret = reader_bytes(&r, end - start, &p, what);
        if (ret < 0)
                return ret;
        return EVP_DigestUpdate(ctx, p, end - start) == 1 ? 0 : vm_error(-EIO, "PE image: cannot hash %s", what);
}

static int compare_sections(const void *a, const void *b) {
        const struct pe_section *x = a, *y = b;

        return x->raw_offset < y->raw_offset ? -1 : x->raw_offset > y->raw_offset;
}

int authenticode_digest(const uint8_t *image, size_t size, TPM2_ALG_ID alg, uint8_t *digest) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        struct pe_section sections[AUTHENTICODE_MAX_SECTIONS];
        uint32_t pe_offset, signature, rva_count, headers_size, cert_size = 0;
        uint16_t mz, section_count, opt_size, magic;
        size_t opt, checksum, dir_entry, hashed, section_table;
        const EVP_MD *md = hashalg_md(alg);
        int ret;

        if (!md)
                return vm_error(-EINVAL, "no hash algorithm 0x%04x", alg);
        if ((ret = u16_at(image, size, 0, &mz, "DOS header")) < 0)
                return ret;
        if (mz != 0x5a4d) /* "MZ" */
                return vm_error(-EBADMSG, "PE image: no \"MZ\" DOS header");
        if ((ret = u32_at(image, size, 0x3c, &pe_offset, "e_lfanew")) < 0 ||
            (ret = u32_at(image, size, pe_offset, &signature, "PE signature")) < 0)
                return ret;
        if (signature != 0x00004550) /* "PE\0\0" */
                return vm_error(-EBADMSG, "PE image: no \"PE\" signature at offset %u", pe_offset);
        if ((ret = u16_at(image, size, (size_t)pe_offset + 6, &section_count, "NumberOfSections")) < 0 ||
            (ret = u16_at(image, size, (size_t)pe_offset + 20, &opt_size, "SizeOfOptionalHeader")) < 0)
                return ret;
        opt = (size_t)pe_offset + 24;
        if ((ret = u16_at(image, size, opt, &magic, "optional header Magic")) < 0)
                return ret;
        if (magic != PE32_MAGIC && magic != PE32_PLUS_MAGIC)
                return vm_error(-EBADMSG, "PE image: optional header magic 0x%x is neither PE32 nor PE32+", magic);
        checksum = opt + OPT_CHECKSUM;
        if ((ret = u32_at(image, size, opt + OPT_SIZE_OF_HEADERS, &headers_size, "SizeOfHeaders")) < 0 ||
            (ret = u32_at(image, size, opt + (magic == PE32_MAGIC ? 92 : 108), &rva_count, "NumberOfRvaAndSizes")) < 0)
                return ret;
        dir_entry = opt + (magic == PE32_MAGIC ? 96 : 112) + 8 * SECURITY_DIRECTORY;
        if (rva_count > SECURITY_DIRECTORY) {
                if (dir_entry + 8 > opt + opt_size)
                        return vm_error(-EBADMSG, "PE image: the Certificate Table entry lies outside the optional header");
                if ((ret = u32_at(image, size, dir_entry + 4, &cert_size, "Certificate Table size")) < 0)
                        return ret;
        }
        if (section_count > AUTHENTICODE_MAX_SECTIONS)
                return vm_error(-EBADMSG, "PE image: %u sections, at most %d", section_count, AUTHENTICODE_MAX_SECTIONS);
        section_table = opt + opt_size;
        for (unsigned i = 0; i < section_count; i++) {
                size_t header = section_table + (size_t)i * SECTION_HEADER_SIZE;

                if ((ret = u32_at(image, size, header + 16, &sections[i].raw_size, "SizeOfRawData")) < 0 ||
                    (ret = u32_at(image, size, header + 20, &sections[i].raw_offset, "PointerToRawData")) < 0)
                        return ret;
        }
        qsort(sections, section_count, sizeof(*sections), compare_sections);

        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, md, NULL) != 1)
                return -ENOMEM;
        ret = hash_range(ctx, image, size, 0, checksum, "the headers before CheckSum");
        if (ret >= 0 && rva_count > SECURITY_DIRECTORY) {
                ret = hash_range(ctx, image, size, checksum + 4, dir_entry, "the headers before the Certificate Table entry");
                if (ret >= 0)
                        ret = hash_range(ctx, image, size, dir_entry + 8, headers_size, "the headers after the Certificate Table entry");
        } else if (ret >= 0)
                ret = hash_range(ctx, image, size, checksum + 4, headers_size, "the headers after CheckSum");
        hashed = headers_size;
        for (unsigned i = 0; i < section_count && ret >= 0; i++) {
                if (sections[i].raw_size == 0)
                        continue;
                ret = hash_range(ctx, image, size, sections[i].raw_offset, (size_t)sections[i].raw_offset + sections[i].raw_size,
                                 "a section's raw data");
                hashed += sections[i].raw_size;
        }
        if (ret < 0)
                return ret;
        /* what follows the sections, the signatures at the end excepted */
        if (size > hashed) {
                if (size < hashed + (size_t)cert_size)
                        return vm_error(-EBADMSG, "PE image: the Certificate Table (%u bytes) is longer than the %zu bytes "
                                        "after the sections", cert_size, size - hashed);
                ret = hash_range(ctx, image, size, hashed, size - cert_size, "the data after the sections");
        } else if (size < hashed)
                return vm_error(-EBADMSG, "PE image: headers and sections add up to %zu bytes, more than the file's %zu",
                                hashed, size);
        if (ret >= 0 && EVP_DigestFinal_ex(ctx, digest, NULL) != 1)
                ret = vm_error(-EIO, "PE image: cannot finish the digest");
        return ret;
}
