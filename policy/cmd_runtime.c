/* vmattest-policy runtime: a Keylime runtime policy (format version 1) from an image tree, a
 * known-good boot's IMA list and an existing policy (see vmattest-policy(1)). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/python_regex.h"
#include "lib/runtime_policy.h"
#include "policy/commands.h"
#include "policy/hash_pool.h"
#include "policy/ima_reference.h"
#include "policy/image_tree.h"
#include "policy/keylime_json.h"
#include "policy/policy_merge.h"

static const char runtime_help[] =
        "Usage: vmattest-policy runtime [--rootfs DIR] [--exclude REGEX]... [--from-ima-log FILE [--keyrings]]\n"
        "                               [--merge POLICY] [--algo ALG] [-j N] [--timestamp TEXT]\n"
        "                               [-o OUT] [-q | -v]\n"
        "\n"
        "Writes a Keylime runtime policy (format version 1, what vmattest-verifier add\n"
        "--runtime-policy and Keylime's tenant take) allowing:\n"
        "  --rootfs DIR         every regular file of the image tree DIR, by its digest, under its\n"
        "                       path in the image (symlinks are not followed: IMA logs the file a\n"
        "                       link leads to under that file's path); hashed by N workers (-j,\n"
        "                       default: the number of CPUs)\n"
        "  --from-ima-log FILE  what a known-good boot's IMA list (ascii_runtime_measurements)\n"
        "                       shows; with --keyrings, the keys it measured into keyrings too\n"
        "  --merge POLICY       what an existing policy allows (digests, excludes, keyrings, ...)\n"
        "  --exclude REGEX      a Python regex (matched at the start of a path) the policy's\n"
        "                       excludes get; files of DIR it matches are not hashed\n"
        "The digests are SHA-256 unless --algo (sha1, sha256, sha384, sha512) or the --merge\n"
        "policy's or the IMA list's digests say otherwise. Debian packages ship no per-file\n"
        "signatures: digests are how a policy names the image's files. Paths and digests are\n"
        "sorted; the same inputs give the same bytes, meta.timestamp aside: --timestamp TEXT (or\n"
        "SOURCE_DATE_EPOCH) fixes it. Differences from keylime-policy create runtime: see\n"
        "vmattest-policy(1).\n";

struct runtime_args {
        const char *rootfs, *merge, *ima_log, *output, *timestamp;
        const char **excludes;
        size_t exclude_count;
        TPM2_ALG_ID algo; /* TPM2_ALG_NULL: not given */
        unsigned workers;
        bool keyrings;
        enum log_level level;
};

static int parse_workers(const char *text, unsigned *workers) {
        char *end;
        unsigned long n;

        errno = 0;
        n = strtoul(text, &end, 10);
        if (errno || end == text || *end || n < 1 || n > 1024)
                return -EINVAL;
        *workers = (unsigned)n;
        return 0;
}

/* An exit code (EXIT_OK to go on), -1 after --help. */
static int parse_args(int argc, char **argv, struct runtime_args *args) {
        static const struct option options[] = {
                { "rootfs", required_argument, NULL, 'r' },
                { "exclude", required_argument, NULL, 'e' },
                { "keyrings", no_argument, NULL, 'k' },
                { "merge", required_argument, NULL, 'm' },
                { "from-ima-log", required_argument, NULL, 'l' },
                { "algo", required_argument, NULL, 'a' },
                { "jobs", required_argument, NULL, 'j' },
                { "timestamp", required_argument, NULL, 't' },
                POLICY_COMMON_OPTIONS,
                {},
        };
        int opt, ret;

        memset(args, 0, sizeof(*args));
        args->level = LOG_LEVEL_INFO;
        args->algo = TPM2_ALG_NULL;
        args->excludes = calloc((size_t)argc, sizeof(*args->excludes));
        if (!args->excludes)
                return EXIT_FAILED;
        opterr = 0;
        optind = 1;
        while ((opt = getopt_long(argc, argv, ":j:" POLICY_COMMON_SHORT, options, NULL)) != -1) {
                switch (opt) {
                case 'r':
                        args->rootfs = optarg;
                        break;
                case 'e':
                        args->excludes[args->exclude_count++] = optarg;
                        break;
                case 'k':
                        args->keyrings = true;
                        break;
                case 'm':
                        args->merge = optarg;
                        break;
                case 'l':
                        args->ima_log = optarg;
                        break;
                case 'a':
                        args->algo = hashalg_from_name(optarg);
                        if (args->algo == TPM2_ALG_ERROR)
                                return policy_usage_error("runtime",
                                                          "--algo \"%s\" is not sha1, sha256, sha384 or sha512",
                                                          optarg);
                        break;
                case 'j':
                        if (parse_workers(optarg, &args->workers) < 0)
                                return policy_usage_error("runtime",
                                                          "-j \"%s\" is not a number of workers (1-1024)", optarg);
                        break;
                case 't':
                        args->timestamp = optarg;
                        break;
                default:
                        ret = policy_common_option("runtime", runtime_help, opt, argv, &args->output, &args->level);
                        if (ret != EXIT_OK)
                                return ret;
                }
        }
        if (optind != argc)
                return policy_usage_error("runtime", "unexpected argument \"%s\"", argv[optind]);
        if (!args->rootfs && !args->ima_log && !args->merge)
                return policy_usage_error("runtime",
                                          "nothing to make a policy from: give --rootfs, --from-ima-log or --merge");
        if (args->keyrings && !args->ima_log)
                return policy_usage_error("runtime",
                                          "--keyrings takes the keys a boot measured from --from-ima-log, which is "
                                          "missing");
        if (args->workers == 0)
                args->workers = hash_pool_default_workers();
        return EXIT_OK;
}

/* meta.timestamp: the text given, else SOURCE_DATE_EPOCH's time (UTC) for a reproducible
 * build, else now in local time, each as Python's str(datetime) prints it (Keylime writes
 * str(datetime.datetime.now())). */
static int make_timestamp(const char *given, char *out, size_t size) {
        const char *epoch = getenv("SOURCE_DATE_EPOCH");
        struct timeval now;
        struct tm tm;
        size_t n;

        if (given) {
                snprintf(out, size, "%s", given);
                return 0;
        }
        if (epoch && *epoch) {
                char *end;
                long long seconds;
                time_t t;

                errno = 0;
                seconds = strtoll(epoch, &end, 10);
                if (errno || *end || seconds < 0)
                        return vm_error(-EINVAL, "SOURCE_DATE_EPOCH \"%.40s\" is not a number of seconds", epoch);
                t = (time_t)seconds;
                gmtime_r(&t, &tm);
                strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
                return 0;
        }
        gettimeofday(&now, NULL);
        localtime_r(&now.tv_sec, &tm);
        n = strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
        if (now.tv_usec)
                snprintf(out + n, size - n, ".%06ld", (long)now.tv_usec);
        return 0;
}

/* The file digest algorithm, chosen as Keylime chooses it: --algo, else the merged policy's,
 * else the IMA list's, else SHA-256; sources that disagree are an error. */
static int choose_algorithm(const struct runtime_args *args, const struct merged_policy *merged,
                            const struct ima_reference_stats *ima, TPM2_ALG_ID *alg) {
        const char *source = "--algo";

        *alg = args->algo;
        if (args->merge && merged->digest_alg != TPM2_ALG_NULL) {
                if (merged->digest_alg == TPM2_ALG_ERROR)
                        return vm_error(-EINVAL, "%s: its first digest has a length no hash algorithm has", args->merge);
                if (*alg != TPM2_ALG_NULL && *alg != merged->digest_alg)
                        return vm_error(-EINVAL, "%s lists %s digests, %s says %s", args->merge,
                                        hashalg_name(merged->digest_alg), source, hashalg_name(*alg));
                *alg = merged->digest_alg;
                source = args->merge;
        }
        if (args->ima_log && ima->digest_alg) {
                TPM2_ALG_ID logged = hashalg_from_name(ima->digest_alg);

                if (logged == TPM2_ALG_ERROR)
                        return vm_error(-EINVAL, "%s: digests in %s, which vmattest cannot hash", args->ima_log,
                                        ima->digest_alg);
                if (*alg != TPM2_ALG_NULL && *alg != logged)
                        return vm_error(-EINVAL, "%s holds %s digests, %s says %s", args->ima_log, ima->digest_alg,
                                        source, hashalg_name(*alg));
                *alg = logged;
        }
        if (*alg == TPM2_ALG_NULL)
                *alg = TPM2_ALG_SHA256;
        return 0;
}

static void free_regexes(struct python_regex **regexes, size_t count) {
        for (size_t i = 0; i < count; i++)
                python_regex_free(regexes[i]);
        free(regexes);
}

/* The tree's files, each with its digest, into doc->digests. */
static int add_tree(const struct runtime_args *args, struct runtime_policy_doc *doc, TPM2_ALG_ID alg) {
        struct python_regex **regexes = calloc(doc->excludes.count + 1, sizeof(*regexes));
        size_t size = hashalg_size(alg), added = 0;
        struct image_tree tree = { .root_fd = -1 };
        struct timespec start, end;
        uint8_t *digests = NULL;
        bool *gone = NULL;
        int ret = 0;

        if (!regexes)
                return -ENOMEM;
        /* every exclude the policy will hold spares its files the hashing */
        for (size_t i = 0; i < doc->excludes.count && ret >= 0; i++) {
                ret = python_regex_compile(doc->excludes.items[i], &regexes[i]);
                if (ret < 0)
                        ret = vm_error(ret, "exclude \"%.200s\": %s", doc->excludes.items[i], vm_error_detail(ret));
        }
        clock_gettime(CLOCK_MONOTONIC, &start);
        if (ret >= 0)
                ret = image_tree_walk(args->rootfs, regexes, doc->excludes.count, &tree);
        if (ret >= 0) {
                digests = calloc(tree.count ? tree.count : 1, size);
                gone = calloc(tree.count ? tree.count : 1, sizeof(*gone));
                if (!digests || !gone)
                        ret = -ENOMEM;
        }
        if (ret >= 0)
                ret = hash_pool_run(&tree, alg, args->workers, digests, gone);
        for (size_t i = 0; i < tree.count && ret >= 0; i++)
                if (!gone[i]) {
                        ret = name_set_add(&doc->digests, tree.files[i].name, strlen(tree.files[i].name), digests + i * size,
                                           size);
                        added++;
                }
        clock_gettime(CLOCK_MONOTONIC, &end);
        if (ret >= 0)
                log_info("%s: %zu files hashed (%s, %u workers) in %.2f s; left out: %zu symlinks, %zu special files, "
                         "%zu excluded, %zu skipped directories, %zu unmeasured mounts, %zu names not UTF-8",
                         args->rootfs, added, hashalg_name(alg), args->workers,
                         (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9, tree.symlinks,
                         tree.special, tree.excluded, tree.skipped_dirs, tree.skipped_mounts, tree.not_utf8);
        if (tree.root_fd >= 0 || tree.files)
                image_tree_done(&tree);
        free(digests);
        free(gone);
        free_regexes(regexes, doc->excludes.count);
        return ret;
}

static int write_policy(FILE *out, const void *data) {
        return runtime_policy_write(out, data);
}

static void doc_done(struct runtime_policy_doc *doc) {
        name_set_done(&doc->digests);
        name_set_done(&doc->keyrings);
        name_set_done(&doc->ima_buf);
        string_set_done(&doc->excludes);
        string_set_done(&doc->ignored_keyrings);
}

static int make_policy(const struct runtime_args *args, struct runtime_policy_doc *doc, struct merged_policy *merged) {
        struct ima_reference_stats ima = { 0 };
        char timestamp[128];
        TPM2_ALG_ID alg;
        int ret;

        if (args->merge && (ret = policy_merge_read(args->merge, doc, merged)) < 0)
                return ret;
        if (args->ima_log) {
                ret = ima_reference_read(args->ima_log, args->keyrings, &doc->digests, &doc->keyrings, &ima);
                if (ret < 0)
                        return ret;
                log_info("%s: %zu entries: %zu file digests, %zu keys taken; %zu violations, %zu zero digests, %zu "
                         "other ima-buf entries left out",
                         args->ima_log, ima.entries, ima.files, ima.keys, ima.violations, ima.zero_digests, ima.buffers);
        }
        if ((ret = choose_algorithm(args, merged, &ima, &alg)) < 0)
                return ret;
        for (size_t i = 0; i < args->exclude_count; i++) {
                struct python_regex *regex = NULL;

                ret = python_regex_compile(args->excludes[i], &regex);
                python_regex_free(regex);
                if (ret < 0)
                        return vm_error(ret, "--exclude \"%.200s\": %s", args->excludes[i], vm_error_detail(ret));
                if ((ret = string_set_add(&doc->excludes, args->excludes[i], strlen(args->excludes[i]))) < 0)
                        return ret;
        }
        string_set_finish(&doc->excludes);
        if (args->rootfs && (ret = add_tree(args, doc, alg)) < 0)
                return ret;
        name_set_finish(&doc->digests);
        name_set_finish(&doc->keyrings);
        name_set_finish(&doc->ima_buf);
        string_set_finish(&doc->ignored_keyrings);
        if ((ret = make_timestamp(args->timestamp, timestamp, sizeof(timestamp))) < 0)
                return ret;
        doc->timestamp = timestamp;
        doc->log_hash_alg = merged->log_hash_alg;
        doc->verification_keys = merged->verification_keys;
        ret = output_write(args->output, write_policy, doc);
        doc->timestamp = NULL;
        return ret;
}

int cmd_runtime(int argc, char **argv) {
        struct runtime_args args;
        struct runtime_policy_doc doc = { 0 };
        struct merged_policy merged = { 0 };
        int ret = parse_args(argc, argv, &args);

        if (ret != EXIT_OK) {
                free(args.excludes);
                return ret < 0 ? EXIT_OK : ret;
        }
        log_setup("vmattest-policy", args.level);
        ret = make_policy(&args, &doc, &merged);
        doc_done(&doc);
        merged_policy_done(&merged);
        free(args.excludes);
        return policy_exit_code(ret);
}
