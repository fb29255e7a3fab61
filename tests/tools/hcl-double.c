/* hcl-double: a TEST DOUBLE of Azure's paravisor (HCL) for a swtpm, so that the agent's Azure
 * path (agent/azure_report.h) runs in tests without an Azure confidential VM. It is not Azure
 * and proves nothing: its SNP reports are signed with the published fake keys of
 * tests/fixtures/platforms/snp/fake-keys (tests/tools/forge).
 *
 * Like the real paravisor, which sits beneath the guest's vTPM and sees its commands, it is a
 * proxy between the agent and the swtpm (swtpm's raw TPM socket and its control socket at
 * port + 1): when a TPM2_NV_Write to the user-data index 0x01400002 succeeds, it reads the 64
 * bytes now there and writes a new HCL report to NV index 0x01400001 (which the test defined,
 * owner read and write), before the agent's write is answered: the runtime data holds the AK
 * given as HCLAkPub and the user data as "user-data", the SNP report binds it by SHA-256. At
 * start it writes a report with all-zero user data, as a VM's first report has.
 *
 * Usage: hcl-double [OPTIONS] --listen PORT --tpm-port PORT --ak AK.pem
 *   --keys DIR          the fake keys (default tests/fixtures/platforms/snp/fake-keys)
 *   --ark-out PATH      write the fake ARK certificate (PEM) there, for a verifier's test root
 *   --vcek-out PATH     write the fake VCEK then its ASK (PEM) there, for a verifier's
 *                       vcek_cache_dir (name the file by the chip id: 64 x c1)
 *   --measurement HEX   48 bytes (default 48 x 0x5a)
 *   --certs-only        write --ark-out and --vcek-out, then exit (no --listen, --tpm-port, --ak)
 *   --nv-size N         the report index's size (default 2048, as the SNP reports seen)
 *   --tdx               play Azure TDX's paravisor: the report holds a TDREPORT (REPORTDATA the
 *                       runtime data's SHA-256, its MAC zeros: no CPU made it), which the guest
 *                       has quoted by IMDS (tests/tools/imds-double); --measurement is its MRTD
 *                       (default 48 x 0x11), --rtmr N:HEX sets RTMR N (default zeros)
 *   Misbehaviour, for hostile tests:
 *   --stale             never makes a new report: the user data stays the first one */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/tools/forge/hcl_forge.h"

#define HCL_REPORT_INDEX 0x01400001u
#define USER_DATA_INDEX 0x01400002u
#define TPM_CC_NV_WRITE 0x00000137u
#define TPM_CC_NV_READ 0x0000014eu
#define TPM_RH_OWNER 0x40000001u
#define TPM_RS_PW 0x40000009u
#define TPM_ST_SESSIONS 0x8002u
#define TPM_BUFFER_MAX 8192 /* swtpm's largest command or response is 4096 */
#define NV_CHUNK 512        /* every TPM 2.0 writes this much at once */

static struct {
        const char *keys, *ak_path, *ark_out, *vcek_out;
        int listen_port, tpm_port;
        size_t nv_size;
        bool stale, certs_only, tdx, measurement_set;
        struct hcl_forge_td td;
        struct snp_forge forge;
        struct snp_forge_fields fields;
        EVP_PKEY *ak;
} double_config = {
        .keys = "tests/fixtures/platforms/snp/fake-keys",
        .nv_size = 2048,
};

static void die(const char *what) {
        fprintf(stderr, "hcl-double: %s\n", what);
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

static uint32_t get_u32be(const uint8_t *p) {
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *put_u16be(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
        return p + 2;
}

static uint8_t *put_u32be(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
        return p + 4;
}

static int read_full(int fd, uint8_t *buf, size_t size) {
        size_t done = 0;

        while (done < size) {
                ssize_t n = read(fd, buf + done, size - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                done += (size_t)n;
        }
        return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t size) {
        size_t done = 0;

        while (done < size) {
                ssize_t n = write(fd, buf + done, size - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                done += (size_t)n;
        }
        return 0;
}

/* One TPM command or response: a 10-byte header whose u32 at offset 2 is the whole size. */
static int read_message(int fd, uint8_t *buf, size_t *size) {
        uint32_t total;

        if (read_full(fd, buf, 10) < 0)
                return -1;
        total = get_u32be(buf + 2);
        if (total < 10 || total > TPM_BUFFER_MAX)
                return -1;
        if (read_full(fd, buf + 10, total - 10) < 0)
                return -1;
        *size = total;
        return 0;
}

static int connect_port(int port) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        return fd;
}

static int listen_port(int port) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0)
                die("cannot listen");
        return fd;
}

/* A command with the owner's empty password: header, the two handles, the password session,
 * then `params`. Its response code, or -1 when the TPM did not answer. */
static long owner_command(int tpm, uint32_t cc, uint32_t index, const uint8_t *params, size_t params_size,
                          uint8_t *response, size_t *response_size) {
        uint8_t cmd[TPM_BUFFER_MAX], *p = cmd;

        p = put_u16be(p, TPM_ST_SESSIONS);
        p = put_u32be(p, (uint32_t)(10 + 8 + 4 + 9 + params_size));
        p = put_u32be(p, cc);
        p = put_u32be(p, TPM_RH_OWNER);
        p = put_u32be(p, index);
        p = put_u32be(p, 9);        /* authorizationSize */
        p = put_u32be(p, TPM_RS_PW);
        p = put_u16be(p, 0);        /* nonce */
        *p++ = 0;                   /* sessionAttributes */
        p = put_u16be(p, 0);        /* hmac: the empty password */
        memcpy(p, params, params_size);
        if (write_full(tpm, cmd, (size_t)(p - cmd) + params_size) < 0 || read_message(tpm, response, response_size) < 0)
                return -1;
        return (long)get_u32be(response + 6);
}

static int nv_write(int tpm, uint32_t index, const uint8_t *data, size_t size) {
        for (size_t offset = 0; offset < size; offset += NV_CHUNK) {
                uint8_t params[2 + NV_CHUNK + 2], *p = params, response[TPM_BUFFER_MAX];
                size_t n = size - offset < NV_CHUNK ? size - offset : NV_CHUNK, response_size;
                long rc;

                p = put_u16be(p, (uint16_t)n);
                memcpy(p, data + offset, n);
                p = put_u16be(p + n, (uint16_t)offset);
                rc = owner_command(tpm, TPM_CC_NV_WRITE, index, params, (size_t)(p - params), response, &response_size);
                if (rc != 0) {
                        fprintf(stderr, "hcl-double: NV_Write 0x%08x at %zu: rc 0x%lx\n", index, offset, rc);
                        return -1;
                }
        }
        return 0;
}

/* The user data the guest wrote: TPM2_NV_Read's response is the header, parameterSize, then a
 * TPM2B_MAX_NV_BUFFER. */
static int read_user_data(int tpm, uint8_t user_data[64]) {
        uint8_t params[4], response[TPM_BUFFER_MAX];
        size_t response_size;
        long rc;

        put_u16be(put_u16be(params, 64), 0);
        rc = owner_command(tpm, TPM_CC_NV_READ, USER_DATA_INDEX, params, sizeof(params), response, &response_size);
        if (rc != 0 || response_size < 16 + 64 || response[14] != 0 || response[15] != 64) {
                fprintf(stderr, "hcl-double: NV_Read 0x%08x: rc 0x%lx\n", USER_DATA_INDEX, rc);
                return -1;
        }
        memcpy(user_data, response + 16, 64);
        return 0;
}

static int write_report(int tpm, const uint8_t user_data[64]) {
        uint8_t *report = NULL;
        int ret;

        if (double_config.tdx ? hcl_forge_tdx_report(&double_config.td, double_config.ak, user_data,
                                                     double_config.nv_size, &report) < 0
                              : hcl_forge_report(&double_config.forge, &double_config.fields, double_config.ak,
                                                 user_data, double_config.nv_size, &report) < 0)
                return -1;
        ret = nv_write(tpm, HCL_REPORT_INDEX, report, double_config.nv_size);
        free(report);
        return ret;
}

/* A successful TPM2_NV_Write to the user-data index: handles at offsets 10 (auth) and 14. */
static bool writes_user_data(const uint8_t *cmd, size_t size, const uint8_t *response, size_t response_size) {
        return size >= 18 && get_u32be(cmd + 6) == TPM_CC_NV_WRITE && get_u32be(cmd + 14) == USER_DATA_INDEX &&
               response_size >= 10 && get_u32be(response + 6) == 0;
}

static void serve_data(int client) {
        int tpm = connect_port(double_config.tpm_port);
        uint8_t cmd[TPM_BUFFER_MAX], response[TPM_BUFFER_MAX];
        size_t cmd_size, response_size;

        if (tpm < 0) {
                fprintf(stderr, "hcl-double: cannot reach the swtpm\n");
                return;
        }
        while (read_message(client, cmd, &cmd_size) == 0) {
                if (write_full(tpm, cmd, cmd_size) < 0 || read_message(tpm, response, &response_size) < 0)
                        break;
                if (writes_user_data(cmd, cmd_size, response, response_size) && !double_config.stale) {
                        uint8_t user_data[64];

                        if (read_user_data(tpm, user_data) < 0 || write_report(tpm, user_data) < 0)
                                fprintf(stderr, "hcl-double: no new report made\n");
                }
                if (write_full(client, response, response_size) < 0)
                        break;
        }
        close(tpm);
}

/* The control socket (swtpm's CMD_* protocol): relayed as bytes. */
static void relay(int a, int b) {
        struct pollfd fds[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
        uint8_t buf[4096];

        while (poll(fds, 2, -1) > 0) {
                for (int i = 0; i < 2; i++) {
                        ssize_t n;

                        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        n = read(fds[i].fd, buf, sizeof(buf));
                        if (n <= 0 || write_full(fds[1 - i].fd, buf, (size_t)n) < 0)
                                return;
                }
        }
}

static void *control_main(void *arg) {
        int listener = *(int *)arg;

        for (;;) {
                int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC), tpm;

                if (client < 0)
                        continue;
                tpm = connect_port(double_config.tpm_port + 1);
                if (tpm >= 0) {
                        relay(client, tpm);
                        close(tpm);
                }
                close(client);
        }
        return NULL;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "listen", required_argument, NULL, 'l' },   { "tpm-port", required_argument, NULL, 't' },
                { "ak", required_argument, NULL, 'a' },       { "keys", required_argument, NULL, 'k' },
                { "ark-out", required_argument, NULL, 'r' },  { "vcek-out", required_argument, NULL, 'v' },
                { "measurement", required_argument, NULL, 'm' }, { "nv-size", required_argument, NULL, 'n' },
                { "stale", no_argument, NULL, 's' },          { "certs-only", no_argument, NULL, 'c' },
                { "tdx", no_argument, NULL, 'x' },            { "rtmr", required_argument, NULL, 'R' },
                {},
        };
        uint8_t chip_id[64], zeros[64] = { 0 };
        int opt, data_listener, control_listener, tpm;
        pthread_t control;
        FILE *f;

        memset(double_config.fields.measurement, 0x5a, sizeof(double_config.fields.measurement));
        double_config.fields.policy = 0x30000;
        while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
                switch (opt) {
                case 'l':
                        double_config.listen_port = atoi(optarg);
                        break;
                case 't':
                        double_config.tpm_port = atoi(optarg);
                        break;
                case 'a':
                        double_config.ak_path = optarg;
                        break;
                case 'k':
                        double_config.keys = optarg;
                        break;
                case 'r':
                        double_config.ark_out = optarg;
                        break;
                case 'v':
                        double_config.vcek_out = optarg;
                        break;
                case 'm':
                        if (hex_arg(optarg, double_config.fields.measurement, 48) < 0)
                                die("--measurement is not 48 bytes in hex");
                        double_config.measurement_set = true;
                        break;
                case 'x':
                        double_config.tdx = true;
                        break;
                case 'R': {
                        int n = optarg[0] - '0';

                        if (n < 0 || n > 3 || optarg[1] != ':' || hex_arg(optarg + 2, double_config.td.rtmr[n], 48) < 0)
                                die("--rtmr is not N:HEX (N 0-3, 48 bytes)");
                        break;
                }
                case 'n':
                        double_config.nv_size = (size_t)atol(optarg);
                        break;
                case 's':
                        double_config.stale = true;
                        break;
                case 'c':
                        double_config.certs_only = true;
                        break;
                default:
                        die("usage: hcl-double [OPTIONS] --listen PORT --tpm-port PORT --ak AK.pem");
                }
        }
        if (!double_config.certs_only &&
            (!double_config.listen_port || !double_config.tpm_port || !double_config.ak_path))
                die("--listen, --tpm-port and --ak are required");
        memset(double_config.td.mrtd, 0x11, sizeof(double_config.td.mrtd));
        if (double_config.measurement_set)
                memcpy(double_config.td.mrtd, double_config.fields.measurement, sizeof(double_config.td.mrtd));
        memset(chip_id, 0xc1, sizeof(chip_id));
        if (snp_forge_init(&double_config.forge, double_config.keys, chip_id, 0xdb18000000000004ull) < 0)
                die("cannot make the fake AMD chain");
        if (double_config.ark_out &&
            (!(f = fopen(double_config.ark_out, "we")) || !PEM_write_X509(f, double_config.forge.ark) ||
             fclose(f) != 0))
                die("cannot write --ark-out");
        if (double_config.vcek_out &&
            (!(f = fopen(double_config.vcek_out, "we")) || !PEM_write_X509(f, double_config.forge.vcek) ||
             !PEM_write_X509(f, double_config.forge.ask) || fclose(f) != 0))
                die("cannot write --vcek-out");
        if (double_config.certs_only)
                return 0;
        if (!(f = fopen(double_config.ak_path, "re")) || !(double_config.ak = PEM_read_PUBKEY(f, NULL, NULL, NULL)))
                die("cannot read --ak");
        fclose(f);
        signal(SIGPIPE, SIG_IGN);
        /* the VM's first report, before the guest asked for any */
        if ((tpm = connect_port(double_config.tpm_port)) < 0 || write_report(tpm, zeros) < 0)
                die("cannot write the first report to NV index 0x01400001 (is it defined?)");
        close(tpm);
        data_listener = listen_port(double_config.listen_port);
        control_listener = listen_port(double_config.listen_port + 1);
        if (pthread_create(&control, NULL, control_main, &control_listener) != 0)
                die("cannot start the control relay");
        for (;;) {
                int client = accept4(data_listener, NULL, NULL, SOCK_CLOEXEC);

                if (client < 0)
                        continue;
                serve_data(client);
                close(client);
        }
}
