/* The certificate table of an SNP extended report (GHCB specification, "SNP Extended Guest
 * Request"), as the guest kernel's configfs-tsm hands it over in `auxblob`: entries of a 16-byte
 * GUID, a u32 offset and a u32 length (little-endian), ended by an all-zero entry, followed by
 * the certificates the entries point at. The host fills it: nothing in it is signed, so it only
 * says where to find certificates, which verifier/snp_verify.c then checks against pinned roots. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SNP_CERT_TABLE_ENTRY_SIZE 24
#define SNP_CERT_TABLE_MAX 16
/* The kernel's buffer for it is a few pages; a bound keeps a hostile blob small. */
#define SNP_CERT_TABLE_BLOB_MAX (64 * 1024)

enum snp_cert_kind {
        SNP_CERT_OTHER = 0, /* a GUID this verifier does not use */
        SNP_CERT_VCEK,
        SNP_CERT_VLEK,
        SNP_CERT_ASK,
        SNP_CERT_ARK,
};

struct snp_cert_entry {
        uint8_t guid[16]; /* in the byte order of the GUID's text form */
        enum snp_cert_kind kind;
        const uint8_t *data; /* inside the blob given to snp_cert_table_parse */
        size_t size;
};

struct snp_cert_table {
        struct snp_cert_entry entry[SNP_CERT_TABLE_MAX];
        size_t count;
};

/* 0, or -EBADMSG naming the entry and the reason: the blob is larger than
 * SNP_CERT_TABLE_BLOB_MAX, the table has no terminating entry, more than SNP_CERT_TABLE_MAX
 * entries, an entry of length 0, a certificate outside the blob, overlapping the table or another
 * entry's certificate, or a GUID twice. An empty blob is an empty table (the host gave no certificates). */
int snp_cert_table_parse(const uint8_t *blob, size_t size, struct snp_cert_table *table);

/* The entry of `kind`, or NULL. */
const struct snp_cert_entry *snp_cert_table_find(const struct snp_cert_table *table, enum snp_cert_kind kind);

const char *snp_cert_kind_name(enum snp_cert_kind kind);
