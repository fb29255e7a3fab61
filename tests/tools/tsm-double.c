/* tsm-double: a TEST DOUBLE of Linux's configfs-tsm report directory for the SEV-SNP provider
 * (or, with --tdx, the TDX one), as a FUSE filesystem, so that the agent's hardware report path
 * runs in tests without a confidential VM. It is not AMD or Intel hardware and proves nothing:
 * its keys are the published test keys of tests/fixtures/platforms/snp/fake-keys (with --tdx,
 * keys made at start).
 *
 * Like the kernel's ABI (Documentation/ABI/testing/configfs-tsm): mkdir makes an entry with
 * inblob, outblob, auxblob, provider, generation and the SVSM files (service_provider,
 * service_guid, service_manifest_version, manifestblob); each write moves the entry's
 * generation by one; outblob is a version 2 ATTESTATION_REPORT whose REPORT_DATA is inblob
 * (through an SVSM, SHA-512(inblob || manifest)), signed ECDSA P-384 with SHA-384 over bytes
 * 0x000-0x29F, r and s little-endian in 72-byte fields at 0x2A0, by the fake VCEK; auxblob is
 * the GHCB certificate table (VCEK, ASK, ARK) with certificates made at start: the ARK
 * self-signed RSA-PSS, the ASK signed by it, the VCEK by the ASK with AMD's hwID and TCB SPL
 * extensions; rmdir removes the entry.
 *
 * Usage: tsm-double [OPTIONS] MOUNTPOINT   (stays in the foreground; SIGTERM unmounts)
 *   --keys DIR          the fake keys (default tests/fixtures/platforms/snp/fake-keys)
 *   --ark-out PATH      write the fake ARK certificate (PEM) there, for a verifier's extra root
 *   --measurement HEX   48 bytes (default 48 x 0x5a)
 *   --policy HEX        the guest policy (default 0x30000)
 *   --tcb HEX           the TCB version, u64 (default 0xdb18000000000004: bl 4, tee 0, snp 24,
 *                       ucode 219), as current, reported, committed and launch TCB
 *   --chip-id HEX       64 bytes (default 64 x 0xc1), also the VCEK's hwID
 *   --manifest FILE     the SVSM's service manifest (service_provider = svsm works only with it)
 *   --provider NAME     what `provider` says (default sev_guest; tdx_guest with --tdx)
 *   --tdx               the TDX provider instead: outblob is a version 4 TDX quote of a TD
 *                       body whose REPORTDATA is inblob, made with tests/tools/forge/tdx_forge
 *                       under a root made at start (--ark-out writes that root then); no auxblob
 *   --mrtd HEX          with --tdx: the TD's MRTD, 48 bytes (default 48 x 0x11)
 *   --rtmr N:HEX        with --tdx: RTMR N (0-3), 48 bytes (default zeros)
 *   Misbehaviour, for hostile tests:
 *   --race              a write to inblob moves generation by 2, as if another writer raced
 *   --short             outblob is cut to 1000 bytes */
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <fuse.h>
#include <getopt.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/tools/forge/snp_forge.h"
#include "tests/tools/forge/tdx_forge.h"

#define REPORT_SIZE SNP_FORGE_REPORT_SIZE
#define SHORT_SIZE 1000
#define ENTRIES_MAX 64
#define MANIFEST_MAX (64u << 10)
#define QUOTE_MAX 8192 /* a forged TDX quote: 1 KiB and its PEM chain */

static struct {
        const char *keys;
        const char *ark_out;
        const char *provider;
        uint8_t measurement[48];
        uint64_t policy;
        uint64_t tcb;
        uint8_t chip_id[64];
        uint8_t *manifest;
        size_t manifest_size;
        bool race, cut_short;
        struct snp_forge forge;
        uint8_t *auxblob;
        size_t auxblob_size;
        bool tdx;
        struct tdx_forge tdx_forge;
        struct tdx_quote_body tdx_body;
} double_config = {
        .keys = "tests/fixtures/platforms/snp/fake-keys",
        .provider = "sev_guest",
        .policy = 0x30000,
        .tcb = 0xdb18000000000004ull,
};

struct entry {
        char name[256];
        bool used;
        unsigned long generation;
        bool svsm;
        bool have_report;
        uint8_t report[REPORT_SIZE];
        uint8_t quote[QUOTE_MAX]; /* --tdx */
        size_t quote_size;
};

static struct entry entries[ENTRIES_MAX];

enum attr { INBLOB, OUTBLOB, AUXBLOB, PROVIDER, GENERATION, SERVICE_PROVIDER, SERVICE_GUID, SERVICE_VERSION, MANIFEST };
static const struct {
        const char *name;
        mode_t mode;
} attrs[] = {
        [INBLOB] = { "inblob", 0200 },
        [OUTBLOB] = { "outblob", 0400 },
        [AUXBLOB] = { "auxblob", 0400 },
        [PROVIDER] = { "provider", 0400 },
        [GENERATION] = { "generation", 0400 },
        [SERVICE_PROVIDER] = { "service_provider", 0200 },
        [SERVICE_GUID] = { "service_guid", 0200 },
        [SERVICE_VERSION] = { "service_manifest_version", 0200 },
        [MANIFEST] = { "manifestblob", 0400 },
};
#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

static void die(const char *what) {
        fprintf(stderr, "tsm-double: %s\n", what);
        exit(1);
}

static int hex_arg(const char *text, uint8_t *out, size_t size) {
        if (strlen(text) != 2 * size)
                return -1;
        for (size_t i = 0; i < size; i++)
                if (sscanf(text + 2 * i, "%2hhx", &out[i]) != 1)
                        return -1;
        return 0;
}

/* The fake ARK, ASK and VCEK (tests/tools/forge/snp_forge.h) and the certificate table that
 * carries them. */
static void make_certificates(void) {
        if (double_config.tdx) {
                if (tdx_forge_init(&double_config.tdx_forge, time(NULL)) < 0)
                        die("cannot make the test TDX chain");
                if (double_config.ark_out) {
                        FILE *f = fopen(double_config.ark_out, "w");

                        if (!f || !PEM_write_X509(f, double_config.tdx_forge.root) || fclose(f) != 0)
                                die("cannot write --ark-out");
                }
                return;
        }
        if (snp_forge_init(&double_config.forge, double_config.keys, double_config.chip_id, double_config.tcb) < 0 ||
            snp_forge_cert_table(&double_config.forge, &double_config.auxblob, &double_config.auxblob_size) < 0)
                die("cannot make the fake AMD chain");
        if (double_config.ark_out) {
                FILE *f = fopen(double_config.ark_out, "w");

                if (!f || !PEM_write_X509(f, double_config.forge.ark) || fclose(f) != 0)
                        die("cannot write --ark-out");
        }
}

/* A version 2 ATTESTATION_REPORT over `report_data`, at VMPL 0 (configfs-tsm's privlevel, 0 by
 * default). */
static int make_report(struct entry *e, const uint8_t report_data[64]) {
        struct snp_forge_fields fields = { .policy = double_config.policy };
        int ret;

        if (double_config.tdx) {
                struct tdx_quote_body body = double_config.tdx_body;
                uint8_t *quote = NULL;
                size_t size = 0;

                memcpy(body.report_data, report_data, sizeof(body.report_data));
                if (tdx_forge_quote(&double_config.tdx_forge, &body, &quote, &size) < 0)
                        return -EIO;
                if (size > QUOTE_MAX) {
                        free(quote);
                        return -EIO;
                }
                memcpy(e->quote, quote, size);
                e->quote_size = size;
                free(quote);
                e->have_report = true;
                return 0;
        }

        memcpy(fields.measurement, double_config.measurement, sizeof(fields.measurement));
        for (int i = 0; i < 32; i++) /* REPORT_ID: anything stable per entry */
                fields.report_id[i] = (uint8_t)(e->name[i % sizeof(e->name)] ^ i);
        ret = snp_forge_report(&double_config.forge, &fields, report_data, e->report);
        if (ret < 0)
                return ret;
        e->have_report = true;
        return 0;
}

/* "/" (0), "/entry" (1) or "/entry/attr" (2); -ENOENT for what does not exist. */
static int lookup(const char *path, struct entry **e, int *attr) {
        const char *slash;
        size_t len;

        *e = NULL;
        *attr = -1;
        if (strcmp(path, "/") == 0)
                return 0;
        path++;
        slash = strchr(path, '/');
        len = slash ? (size_t)(slash - path) : strlen(path);
        for (int i = 0; i < ENTRIES_MAX; i++)
                if (entries[i].used && strlen(entries[i].name) == len && strncmp(entries[i].name, path, len) == 0)
                        *e = &entries[i];
        if (!*e)
                return -ENOENT;
        if (!slash)
                return 1;
        for (size_t i = 0; i < NATTRS; i++)
                if (strcmp(slash + 1, attrs[i].name) == 0) {
                        *attr = (int)i;
                        return 2;
                }
        return -ENOENT;
}

static int double_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
        struct entry *e;
        int attr, kind = lookup(path, &e, &attr);

        if (kind < 0)
                return kind;
        memset(st, 0, sizeof(*st));
        if (kind < 2) {
                st->st_mode = S_IFDIR | 0755;
                st->st_nlink = 2;
                return 0;
        }
        st->st_mode = S_IFREG | attrs[attr].mode;
        st->st_nlink = 1;
        st->st_size = 4096; /* as configfs says of its attributes; reads are direct */
        return 0;
}

static int double_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t offset, struct fuse_file_info *fi,
                          enum fuse_readdir_flags flags) {
        struct entry *e;
        int attr, kind = lookup(path, &e, &attr);

        if (kind < 0)
                return kind;
        if (kind == 2)
                return -ENOTDIR;
        fill(buf, ".", NULL, 0, 0);
        fill(buf, "..", NULL, 0, 0);
        if (kind == 0) {
                for (int i = 0; i < ENTRIES_MAX; i++)
                        if (entries[i].used)
                                fill(buf, entries[i].name, NULL, 0, 0);
        } else
                for (size_t i = 0; i < NATTRS; i++)
                        fill(buf, attrs[i].name, NULL, 0, 0);
        return 0;
}

static int double_mkdir(const char *path, mode_t mode) {
        struct entry *e;
        int attr;

        if (lookup(path, &e, &attr) >= 0)
                return -EEXIST;
        if (strchr(path + 1, '/'))
                return -EPERM; /* entries hold attributes, not directories */
        if (strlen(path + 1) >= sizeof(e->name))
                return -ENAMETOOLONG;
        for (int i = 0; i < ENTRIES_MAX; i++)
                if (!entries[i].used) {
                        memset(&entries[i], 0, sizeof(entries[i]));
                        entries[i].used = true;
                        snprintf(entries[i].name, sizeof(entries[i].name), "%s", path + 1);
                        return 0;
                }
        return -ENOSPC;
}

static int double_rmdir(const char *path) {
        struct entry *e;
        int attr, kind = lookup(path, &e, &attr);

        if (kind < 0)
                return kind;
        if (kind != 1)
                return kind == 0 ? -EBUSY : -ENOTDIR;
        e->used = false;
        return 0;
}

static int double_open(const char *path, struct fuse_file_info *fi) {
        struct entry *e;
        int attr, kind = lookup(path, &e, &attr);

        if (kind < 0)
                return kind;
        if (kind != 2)
                return -EISDIR;
        if ((fi->flags & O_ACCMODE) != O_RDONLY && !(attrs[attr].mode & 0200))
                return -EACCES;
        if ((fi->flags & O_ACCMODE) != O_WRONLY && !(attrs[attr].mode & 0400))
                return -EACCES;
        fi->direct_io = 1;
        return 0;
}

static int serve(char *buf, size_t size, off_t offset, const void *data, size_t data_size) {
        if ((size_t)offset >= data_size)
                return 0;
        if (size > data_size - (size_t)offset)
                size = data_size - (size_t)offset;
        memcpy(buf, (const uint8_t *)data + offset, size);
        return (int)size;
}

static int double_read(const char *path, char *buf, size_t size, off_t offset, struct fuse_file_info *fi) {
        struct entry *e;
        int attr, kind = lookup(path, &e, &attr);
        char text[64];

        if (kind != 2)
                return kind < 0 ? kind : -EISDIR;
        switch (attr) {
        case OUTBLOB:
                if (!e->have_report)
                        return -EINVAL; /* nothing asked yet */
                if (double_config.tdx)
                        return serve(buf, size, offset, e->quote, e->quote_size);
                return serve(buf, size, offset, e->report, double_config.cut_short ? SHORT_SIZE : REPORT_SIZE);
        case AUXBLOB:
                if (double_config.tdx)
                        return serve(buf, size, offset, "", 0); /* the TDX provider attaches nothing */
                return serve(buf, size, offset, double_config.auxblob, double_config.auxblob_size);
        case MANIFEST:
                if (!e->svsm)
                        return -ENOENT;
                return serve(buf, size, offset, double_config.manifest, double_config.manifest_size);
        case PROVIDER:
                snprintf(text, sizeof(text), "%s\n", double_config.provider);
                return serve(buf, size, offset, text, strlen(text));
        case GENERATION:
                snprintf(text, sizeof(text), "%lu\n", e->generation);
                return serve(buf, size, offset, text, strlen(text));
        default:
                return -EACCES;
        }
}

static int double_write(const char *path, const char *buf, size_t size, off_t offset, struct fuse_file_info *fi) {
        struct entry *e;
        int attr, kind = lookup(path, &e, &attr), ret = 0;
        uint8_t report_data[64] = { 0 };

        if (kind != 2)
                return kind < 0 ? kind : -EISDIR;
        if (offset != 0)
                return -EINVAL;
        switch (attr) {
        case INBLOB:
                if (size > 64)
                        return -EINVAL;
                memcpy(report_data, buf, size);
                if (e->svsm) {
                        /* the SVSM's attestation: REPORT_DATA = SHA-512(nonce || manifest) */
                        EVP_MD_CTX *md = EVP_MD_CTX_new();
                        bool ok = md && EVP_DigestInit_ex(md, EVP_sha512(), NULL) &&
                                  EVP_DigestUpdate(md, report_data, 64) &&
                                  EVP_DigestUpdate(md, double_config.manifest, double_config.manifest_size) &&
                                  EVP_DigestFinal_ex(md, report_data, NULL);

                        EVP_MD_CTX_free(md);
                        if (!ok)
                                return -EIO;
                }
                ret = make_report(e, report_data);
                break;
        case SERVICE_PROVIDER:
                if (!(size == 4 || (size == 5 && buf[4] == '\n')) || strncmp(buf, "svsm", 4) != 0)
                        return -EINVAL;
                if (!double_config.manifest)
                        return -ENXIO;
                e->svsm = true;
                break;
        case SERVICE_GUID:
        case SERVICE_VERSION:
                break;
        default:
                return -EACCES;
        }
        if (ret < 0)
                return ret;
        e->generation += double_config.race && attr == INBLOB ? 2 : 1;
        return (int)size;
}

static int double_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
        return 0; /* `echo x > attr` truncates first: configfs ignores it too */
}

static void *double_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
        cfg->direct_io = 1;
        cfg->attr_timeout = 0;
        cfg->entry_timeout = 0;
        cfg->negative_timeout = 0;
        return NULL;
}

static const struct fuse_operations double_ops = {
        .init = double_init,
        .getattr = double_getattr,
        .readdir = double_readdir,
        .mkdir = double_mkdir,
        .rmdir = double_rmdir,
        .open = double_open,
        .read = double_read,
        .write = double_write,
        .truncate = double_truncate,
};

static void read_manifest(const char *path) {
        FILE *f = fopen(path, "rb");

        double_config.manifest = malloc(MANIFEST_MAX + 1);
        if (!f || !double_config.manifest)
                die("cannot read --manifest");
        double_config.manifest_size = fread(double_config.manifest, 1, MANIFEST_MAX + 1, f);
        fclose(f);
        if (double_config.manifest_size == 0 || double_config.manifest_size > MANIFEST_MAX)
                die("--manifest: empty or over 64 KiB");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "keys", required_argument, NULL, 'k' },
                { "ark-out", required_argument, NULL, 'a' },
                { "measurement", required_argument, NULL, 'm' },
                { "policy", required_argument, NULL, 'p' },
                { "tcb", required_argument, NULL, 't' },
                { "chip-id", required_argument, NULL, 'c' },
                { "manifest", required_argument, NULL, 'M' },
                { "provider", required_argument, NULL, 'P' },
                { "race", no_argument, NULL, 'r' },
                { "short", no_argument, NULL, 's' },
                { "tdx", no_argument, NULL, 'T' },
                { "mrtd", required_argument, NULL, 'D' },
                { "rtmr", required_argument, NULL, 'R' },
                {},
        };
        char *fuse_argv[] = { argv[0], "-f", "-s", "-o", "default_permissions", NULL, NULL };
        int opt;

        memset(double_config.measurement, 0x5a, sizeof(double_config.measurement));
        memset(double_config.chip_id, 0xc1, sizeof(double_config.chip_id));
        double_config.tdx_body.tee_tcb_svn[0] = 3;
        memset(double_config.tdx_body.mrtd, 0x11, TDX_MR_SIZE);
        double_config.tdx_body.td_attributes[3] = 0x10; /* SEPT_VE_DISABLE */
        while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
                switch (opt) {
                case 'k':
                        double_config.keys = optarg;
                        break;
                case 'a':
                        double_config.ark_out = optarg;
                        break;
                case 'm':
                        if (hex_arg(optarg, double_config.measurement, sizeof(double_config.measurement)) < 0)
                                die("--measurement: 96 hex digits");
                        break;
                case 'p':
                        double_config.policy = strtoull(optarg, NULL, 16);
                        break;
                case 't':
                        double_config.tcb = strtoull(optarg, NULL, 16);
                        break;
                case 'c':
                        if (hex_arg(optarg, double_config.chip_id, sizeof(double_config.chip_id)) < 0)
                                die("--chip-id: 128 hex digits");
                        break;
                case 'M':
                        read_manifest(optarg);
                        break;
                case 'P':
                        double_config.provider = optarg;
                        break;
                case 'r':
                        double_config.race = true;
                        break;
                case 's':
                        double_config.cut_short = true;
                        break;
                case 'T':
                        double_config.tdx = true;
                        if (strcmp(double_config.provider, "sev_guest") == 0)
                                double_config.provider = "tdx_guest";
                        break;
                case 'D':
                        if (hex_arg(optarg, double_config.tdx_body.mrtd, TDX_MR_SIZE) < 0)
                                die("--mrtd: 96 hex digits");
                        break;
                case 'R':
                        if (optarg[0] < '0' || optarg[0] > '3' || optarg[1] != ':' ||
                            hex_arg(optarg + 2, double_config.tdx_body.rtmr[optarg[0] - '0'], TDX_MR_SIZE) < 0)
                                die("--rtmr: N:HEX, N 0-3, 96 hex digits");
                        break;
                default:
                        die("usage: tsm-double [OPTIONS] MOUNTPOINT (see the source's header)");
                }
        }
        if (optind != argc - 1)
                die("usage: tsm-double [OPTIONS] MOUNTPOINT (see the source's header)");
        make_certificates();
        fuse_argv[5] = argv[optind];
        return fuse_main(6, fuse_argv, &double_ops, NULL);
}
