/* vmattest-policy measured-boot: vmattest-verifier's measured-boot policy from a reference
 * boot's UEFI event log and from the files it boots (see vmattest-policy(1), mb_reference.h). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/eventlog.h"
#include "lib/file.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/mb_policy.h"
#include "lib/pcr_values.h"
#include "policy/commands.h"
#include "policy/mb_reference.h"

#define EVENTLOG_FILE_MAX (64u << 20)

static const char measured_boot_help[] =
        "Usage: vmattest-policy measured-boot [--eventlog FILE [--pcrs LIST]] [--kernel FILE]\n"
        "                                     [--initrd FILE] [--cmdline TEXT] [--bank ALG]\n"
        "                                     [--secure-boot enabled|disabled|any] [-o OUT] [-q]\n"
        "\n"
        "Writes vmattest-verifier's measured-boot policy (see vmattest-verifier(8), POLICIES) from:\n"
        "  --eventlog FILE  a reference boot's UEFI event log (binary_bios_measurements): every\n"
        "                   digest it extends the PCRs of LIST with (default 4,7,8,9: boot\n"
        "                   applications and the kernel, Secure Boot configuration, a boot\n"
        "                   loader's commands, command line and initrd), a PCR of LIST it never\n"
        "                   extends pinned at its reset value, and its Secure Boot state; each\n"
        "                   event is explained on stderr (-q: not)\n"
        "  --kernel FILE    the kernel image as UEFI firmware measures it (Authenticode, PCR 4)\n"
        "  --initrd FILE    the initrd as the kernel's EFI stub measures it (PCR 9)\n"
        "  --cmdline TEXT   the command line as the EFI stub measures it (PCR 9): TEXT is the load\n"
        "                   options exactly (OVMF booting qemu -kernel/-initrd appends\n"
        "                   \" initrd=initrd\" to qemu's -append)\n"
        "With a log, the files' digests are allowed next to the log's. The bank is sha256\n"
        "(--bank: sha384, sha512). A policy made from a log is checked to pass that log.\n";

struct mb_args {
        const char *eventlog, *kernel, *initrd, *cmdline, *output;
        uint32_t pcrs;
        bool pcrs_given;
        TPM2_ALG_ID bank;
        enum mb_reference_secure_boot secure_boot;
        enum log_level level;
};

static int parse_args(int argc, char **argv, struct mb_args *args) {
        static const struct option options[] = {
                { "eventlog", required_argument, NULL, 'e' },
                { "kernel", required_argument, NULL, 'k' },
                { "initrd", required_argument, NULL, 'i' },
                { "cmdline", required_argument, NULL, 'c' },
                { "pcrs", required_argument, NULL, 'p' },
                { "bank", required_argument, NULL, 'b' },
                { "secure-boot", required_argument, NULL, 's' },
                POLICY_COMMON_OPTIONS,
                {},
        };
        int opt, ret;

        memset(args, 0, sizeof(*args));
        args->pcrs = MB_REFERENCE_DEFAULT_PCRS;
        args->bank = TPM2_ALG_SHA256;
        args->level = LOG_LEVEL_INFO;
        opterr = 0;
        optind = 1;
        while ((opt = getopt_long(argc, argv, ":" POLICY_COMMON_SHORT, options, NULL)) != -1) {
                switch (opt) {
                case 'e':
                        args->eventlog = optarg;
                        break;
                case 'k':
                        args->kernel = optarg;
                        break;
                case 'i':
                        args->initrd = optarg;
                        break;
                case 'c':
                        args->cmdline = optarg;
                        break;
                case 'p':
                        if (pcr_mask_parse(optarg, &args->pcrs) < 0 || args->pcrs == 0 ||
                            args->pcrs >> MB_POLICY_PCR_COUNT) {
                                return policy_usage_error("measured-boot",
                                                          "--pcrs \"%s\" is not a list of PCRs 0-9", optarg);
                        }
                        args->pcrs_given = true;
                        break;
                case 'b':
                        args->bank = hashalg_for_quotes(optarg);
                        if (args->bank == TPM2_ALG_ERROR)
                                return policy_usage_error("measured-boot",
                                                          "--bank \"%s\" is not sha256, sha384 or sha512", optarg);
                        break;
                case 's':
                        args->secure_boot = strcmp(optarg, "enabled") == 0    ? MB_REFERENCE_SECURE_BOOT_ENABLED
                                            : strcmp(optarg, "disabled") == 0 ? MB_REFERENCE_SECURE_BOOT_DISABLED
                                            : strcmp(optarg, "any") == 0      ? MB_REFERENCE_SECURE_BOOT_ANY
                                                                              : MB_REFERENCE_SECURE_BOOT_UNSET;
                        if (args->secure_boot == MB_REFERENCE_SECURE_BOOT_UNSET)
                                return policy_usage_error("measured-boot",
                                                          "--secure-boot \"%s\" is not enabled, disabled or any",
                                                          optarg);
                        break;
                default:
                        ret = policy_common_option("measured-boot", measured_boot_help, opt, argv, &args->output,
                                                   &args->level);
                        if (ret != EXIT_OK)
                                return ret;
                }
        }
        if (optind != argc)
                return policy_usage_error("measured-boot", "unexpected argument \"%s\"", argv[optind]);
        if (!args->eventlog && !args->kernel && !args->initrd && !args->cmdline)
                return policy_usage_error("measured-boot",
                                          "nothing to make a policy from: give --eventlog, --kernel, --initrd or "
                                          "--cmdline");
        if (args->pcrs_given && !args->eventlog)
                return policy_usage_error("measured-boot",
                                          "--pcrs chooses the PCRs taken from --eventlog, which is missing");
        return EXIT_OK;
}

static void say_file(const char *option, const char *what, int added, bool have_log) {
        if (have_log)
                log_info("%s: %s %s", option, what, added ? "is not in the reference log: allowed as well" : "is in the reference log");
}

static int add_files(const struct mb_args *args, struct mb_reference *ref) {
        int ret = 0;

        /* initrd before command line: the digests' order of tests/vm's policy */
        if (args->initrd && (ret = mb_reference_add_initrd(ref, args->initrd)) >= 0)
                say_file("--initrd", "its digest", ret, args->eventlog);
        if (ret >= 0 && args->cmdline) {
                ret = mb_reference_add_cmdline(ref, args->cmdline);
                if (ret >= 0)
                        say_file("--cmdline", "its digest", ret, args->eventlog);
                else
                        ret = vm_error(ret, "--cmdline: %s", vm_error_detail(ret));
        }
        if (ret >= 0 && args->kernel && (ret = mb_reference_add_kernel(ref, args->kernel)) >= 0)
                say_file("--kernel", "its Authenticode digest", ret, args->eventlog);
        return ret < 0 ? ret : 0;
}

static int write_text(FILE *out, const void *text) {
        fputs(text, out);
        return fflush(out) == 0 && !ferror(out) ? 0 : vm_error(-EIO, "cannot write the policy: %m");
}

static int make_policy(const struct mb_args *args, struct mb_reference *ref) {
        _cleanup_(freep) char *log = NULL, *text = NULL;
        size_t log_size = 0, text_size = 0;
        FILE *memory;
        int ret = 0;

        if (args->eventlog) {
                ret = file_read_all(args->eventlog, EVENTLOG_FILE_MAX, &log, &log_size);
                if (ret == -ENOENT)
                        return vm_error(-ENOENT, "%s: no such file", args->eventlog);
                if (ret >= 0)
                        ret = mb_reference_from_log(ref, (const uint8_t *)log, log_size, args->pcrs,
                                                    args->level >= LOG_LEVEL_INFO);
                if (ret < 0)
                        return vm_error(ret, "%s: %s", args->eventlog, vm_error_detail(ret));
        }
        if ((ret = add_files(args, ref)) < 0)
                return ret;
        if (args->secure_boot != MB_REFERENCE_SECURE_BOOT_UNSET)
                ref->secure_boot = args->secure_boot;
        memory = open_memstream(&text, &text_size);
        if (!memory)
                return -ENOMEM;
        ret = mb_reference_write(memory, ref);
        if (fclose(memory) != 0 && ret >= 0)
                ret = -ENOMEM;
        if (ret < 0)
                return ret;
        /* what the verifier will read, it reads; and a policy made from a log passes that boot */
        if (args->eventlog) {
                ret = mb_reference_check(text, text_size, (const uint8_t *)log, log_size, args->bank);
                if (ret < 0)
                        return vm_error(ret, "the policy made does not pass the reference boot of %s: %s", args->eventlog,
                                        vm_error_detail(ret));
        } else {
                struct mb_policy *policy = NULL;

                ret = mb_policy_parse(text, text_size, &policy);
                mb_policy_free(policy);
                if (ret < 0)
                        return vm_error(ret, "the policy made does not load: %s", vm_error_detail(ret));
        }
        return output_write(args->output, write_text, text);
}

int cmd_measured_boot(int argc, char **argv) {
        struct mb_args args;
        struct mb_reference ref;
        int ret = parse_args(argc, argv, &args);

        if (ret != EXIT_OK)
                return ret < 0 ? EXIT_OK : ret;
        log_setup("vmattest-policy", args.level);
        mb_reference_init(&ref, args.bank);
        ret = make_policy(&args, &ref);
        mb_reference_done(&ref);
        return policy_exit_code(ret);
}
