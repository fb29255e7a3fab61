/* vmattest-verifier evidence: offline checks of one saved piece of evidence (an SEV-SNP report, a
 * TDX quote, an Azure HCL report, a TPM quote with its AK, a UEFI event log) for a tenant who
 * debugs a platform. It calls the very parsers and checks the verifier polls with, prints the
 * facts they found and the verdict of every check it could make, and says which it could not.
 * Every input is read bounded (file_read_all) and parsed by the bounded parsers. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/log.h"
#include "verifier/commands.h"
#include "verifier/evidence_cmd.h"

static const char evidence_help[] =
        "Usage: vmattest-verifier evidence KIND [OPTIONS] FILE\n"
        "\n"
        "Verifies one saved piece of evidence offline, with the verifier's own checks, and prints the\n"
        "facts found and the verdict of each check made (and names the checks not made).\n"
        "\n"
        "Kinds:\n"
        "  snp-report FILE [--vcek DER|PEM] [--certs AUXBLOB|PEM] [--amd-certs DIR] [--test-roots PEM]\n"
        "                  [--policy FILE] [--report-data HEX]\n"
        "  tdx-quote FILE [--intel-root PEM] [--test-roots PEM] [--policy FILE] [--report-data HEX]\n"
        "                 [--ccel FILE]\n"
        "  hcl-report FILE [--type snp|tdx] [--ak PEM|TPMT_PUBLIC|TPM2B_PUBLIC] [--vcek ...] [--certs ...]\n"
        "                  [--amd-certs DIR] [--test-roots PEM]\n"
        "  tpm-quote --attest FILE --signature FILE --ak FILE [--nonce HEX] [--pcrs FILE]\n"
        "  eventlog FILE [--bank sha1|sha256|sha384]\n"
        "\n"
        "      --at TIME        verify certificates at TIME (2026-12-31T23:59:59Z, a date, or seconds\n"
        "                       since the epoch) instead of now\n"
        "      --json           print one JSON object {kind, verdict, reasons, checks, not_checked, facts}\n"
        "  -h, --help           show this help\n"
        "\n"
        "Exit status: 0 every check made passed, 1 a check failed, 2 usage error or an input that\n"
        "cannot be read or parsed.\n";

enum evidence_option {
        OPT_VCEK = 1u << 0,
        OPT_CERTS = 1u << 1,
        OPT_AMD_CERTS = 1u << 2,
        OPT_TEST_ROOTS = 1u << 3,
        OPT_POLICY = 1u << 4,
        OPT_REPORT_DATA = 1u << 5,
        OPT_INTEL_ROOT = 1u << 6,
        OPT_CCEL = 1u << 7,
        OPT_AK = 1u << 8,
        OPT_ATTEST = 1u << 9,
        OPT_SIGNATURE = 1u << 10,
        OPT_NONCE = 1u << 11,
        OPT_PCRS = 1u << 12,
        OPT_BANK = 1u << 13,
        OPT_AT = 1u << 14,
        OPT_JSON = 1u << 15,
        OPT_TYPE = 1u << 16,
};

static int hex_arg(const char *option, const char *text, uint8_t *out, size_t cap, size_t *size, bool exact) {
        size_t n = 0;
        int ret = hex_decode(text, strlen(text), out, cap, &n);

        if (ret < 0 || (exact && n != cap))
                return vm_error(-EINVAL, "%s: not %s%zu bytes of hex", option, exact ? "" : "at most ", cap);
        if (size)
                *size = n;
        return 0;
}

/* ---- command line ---- */

static int parse_at(const char *text, time_t *out) {
        struct tm tm = { 0 };
        const char *end;
        char *num_end;
        unsigned long long n;

        if (text[0] >= '0' && text[0] <= '9' && strlen(text) <= 12) {
                n = strtoull(text, &num_end, 10);
                if (!*num_end) {
                        *out = (time_t)n;
                        return 0;
                }
        }
        end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!end || *end) {
                memset(&tm, 0, sizeof(tm));
                end = strptime(text, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
        }
        if (!end || *end) {
                memset(&tm, 0, sizeof(tm));
                end = strptime(text, "%Y-%m-%d", &tm);
        }
        if (end && !*end) {
                *out = timegm(&tm);
                return 0;
        }
        return vm_error(-EINVAL, "--at \"%.40s\" is neither a UTC time (2026-12-31T23:59:59Z), a date nor seconds since the epoch",
                        text);
}

static const struct evidence_kind {
        const char *name;
        int (*run)(const struct evidence_args *a, struct evidence_out *out);
        unsigned allowed;
        bool file_argument;
} kinds[] = {
        { "snp-report", evidence_snp_report, OPT_VCEK | OPT_CERTS | OPT_AMD_CERTS | OPT_TEST_ROOTS | OPT_POLICY | OPT_REPORT_DATA, true },
        { "tdx-quote", evidence_tdx_quote, OPT_INTEL_ROOT | OPT_TEST_ROOTS | OPT_POLICY | OPT_REPORT_DATA | OPT_CCEL, true },
        { "hcl-report", evidence_hcl_report, OPT_TYPE | OPT_AK | OPT_VCEK | OPT_CERTS | OPT_AMD_CERTS | OPT_TEST_ROOTS, true },
        { "tpm-quote", evidence_tpm_quote, OPT_ATTEST | OPT_SIGNATURE | OPT_AK | OPT_NONCE | OPT_PCRS, false },
        { "eventlog", evidence_eventlog, OPT_BANK, true },
};

int cmd_evidence(int argc, char **argv, const char *config_path) {
        static const struct option options[] = {
                { "vcek", required_argument, NULL, 'v' },        { "certs", required_argument, NULL, 'c' },
                { "amd-certs", required_argument, NULL, 'A' },   { "test-roots", required_argument, NULL, 'T' },
                { "policy", required_argument, NULL, 'p' },      { "report-data", required_argument, NULL, 'r' },
                { "intel-root", required_argument, NULL, 'I' },  { "ccel", required_argument, NULL, 'C' },
                { "ak", required_argument, NULL, 'k' },          { "attest", required_argument, NULL, 'a' },
                { "signature", required_argument, NULL, 's' },   { "nonce", required_argument, NULL, 'n' },
                { "pcrs", required_argument, NULL, 'P' },        { "bank", required_argument, NULL, 'b' },
                { "at", required_argument, NULL, 't' },          { "json", no_argument, NULL, 'j' },
                { "type", required_argument, NULL, 'y' },        { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        static const unsigned option_bit[128] = {
                ['v'] = OPT_VCEK,     ['c'] = OPT_CERTS,     ['A'] = OPT_AMD_CERTS, ['T'] = OPT_TEST_ROOTS,
                ['p'] = OPT_POLICY,   ['r'] = OPT_REPORT_DATA, ['I'] = OPT_INTEL_ROOT, ['C'] = OPT_CCEL,
                ['k'] = OPT_AK,       ['a'] = OPT_ATTEST,    ['s'] = OPT_SIGNATURE, ['n'] = OPT_NONCE,
                ['P'] = OPT_PCRS,     ['b'] = OPT_BANK,      ['t'] = OPT_AT,        ['j'] = OPT_JSON,
                ['y'] = OPT_TYPE,
        };
        struct evidence_args a = { 0 };
        struct evidence_out out = { 0 };
        const struct evidence_kind *kind = NULL;
        int c, ret, longindex;

        (void)config_path;
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                fputs(evidence_help, stdout);
                return EXIT_OK;
        }
        if (argc < 2) {
                fputs(evidence_help, stderr);
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (strcmp(kinds[i].name, argv[1]) == 0)
                        kind = &kinds[i];
        if (!kind) {
                log_error("evidence: unknown kind \"%.40s\" (snp-report, tdx-quote, hcl-report, tpm-quote, eventlog)", argv[1]);
                return EXIT_USAGE;
        }
        argc--, argv++;
        optind = 1;
        while ((longindex = -1, c = getopt_long(argc, argv, "h", options, &longindex)) != -1) {
                if (c == 'h') {
                        fputs(evidence_help, stdout);
                        return EXIT_OK;
                }
                if (c < 0 || c >= 128 || !option_bit[c]) {
                        log_error("evidence %s: unknown option or missing argument: %s", kind->name, argv[optind - 1]);
                        return EXIT_USAGE;
                }
                if (!(option_bit[c] & (kind->allowed | OPT_AT | OPT_JSON))) {
                        log_error("evidence %s: --%s does not apply to this kind (see 'vmattest-verifier help evidence')",
                                  kind->name, longindex >= 0 ? options[longindex].name : "?");
                        return EXIT_USAGE;
                }
                a.given |= option_bit[c];
                switch (c) {
                case 'v': a.vcek = optarg; break;
                case 'c': a.certs = optarg; break;
                case 'A': a.amd_certs = optarg; break;
                case 'T': a.test_roots = optarg; break;
                case 'p': a.policy = optarg; break;
                case 'I': a.intel_root = optarg; break;
                case 'C': a.ccel = optarg; break;
                case 'k': a.ak = optarg; break;
                case 'a': a.attest = optarg; break;
                case 's': a.signature = optarg; break;
                case 'P': a.pcrs = optarg; break;
                case 'b': a.bank = optarg; break;
                case 'j': a.json = true; break;
                case 'y': a.type = optarg; break;
                case 'r':
                        if ((ret = hex_arg("--report-data", optarg, a.report_data, sizeof(a.report_data), NULL, true)) < 0)
                                return evidence_input_error(ret, "evidence");
                        a.has_report_data = true;
                        break;
                case 'n':
                        if ((ret = hex_arg("--nonce", optarg, a.nonce, sizeof(a.nonce), &a.nonce_size, false)) < 0)
                                return evidence_input_error(ret, "evidence");
                        a.has_nonce = true;
                        break;
                case 't':
                        if ((ret = parse_at(optarg, &a.at)) < 0)
                                return evidence_input_error(ret, "evidence");
                        break;
                }
        }
        if (kind->file_argument) {
                if (optind + 1 != argc) {
                        log_error("evidence %s: expects exactly one FILE (see 'vmattest-verifier help evidence')", kind->name);
                        return EXIT_USAGE;
                }
                a.file = argv[optind];
        } else if (optind != argc || !a.attest || !a.signature || !a.ak) {
                log_error("evidence %s: needs --attest FILE --signature FILE --ak FILE and no other argument", kind->name);
                return EXIT_USAGE;
        }
        out.kind = kind->name;
        out.facts = json_object_new_object();
        out.checks = json_object_new_array();
        out.reasons = json_object_new_array();
        out.not_checked = json_object_new_array();
        ret = kind->run(&a, &out);
        json_object_put(out.facts);
        json_object_put(out.checks);
        json_object_put(out.reasons);
        json_object_put(out.not_checked);
        return ret;
}
