/* vmattest-verifier group: enrolment groups (vmattest extension, docs/protocol.md). A group holds
 * the policies an agent is enrolled with when it registers with one of the group's tokens, so
 * that a new instance is enrolled without the tenant: add, token, list, delete, revoke. A token
 * is a secret the tenant hands to its instances (cloud-init user data); the store keeps its
 * SHA-256 only, and no output shows more than the hash's first characters. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "verifier/commands.h"
#include "verifier/enrolment_token.h"
#include "verifier/store.h"
#include "verifier/tenant_policies.h"

#define TOKEN_DEFAULT_USES 1
#define TOKEN_DEFAULT_LIFETIME (7 * 24 * 3600)
#define HASH_SHOWN 12 /* hex digits of a token's hash that name it */

static const char group_help[] =
        "Usage: vmattest-verifier group add NAME (--tpm-policy JSON | --tpm-policy-file FILE)\n"
        "                                  [--runtime-policy FILE] [--mb-policy FILE]\n"
        "                                  [--platform-policy FILE] [--host-policy FILE] --token-file TOKEN\n"
        "                                  [--uses N|unlimited] [--expires DURATION|TIME|never]\n"
        "                                  [--allow-unpinned-cmdline | --pin-first-boot-initrd]\n"
        "       vmattest-verifier group token NAME --token-file TOKEN [--uses N|unlimited] [--expires ...]\n"
        "       vmattest-verifier group list [--json]\n"
        "       vmattest-verifier group delete NAME\n"
        "       vmattest-verifier group revoke NAME (--token-file TOKEN | --hash PREFIX)\n"
        "\n"
        "An enrolment group holds the policies (checked as add checks them) an agent is enrolled\n"
        "with when it registers with one of the group's tokens (at the registrar's TLS port): no\n"
        "add is needed for it. Its agents may escrow their disk key (POST .../escrow), released to\n"
        "their next boots; so a group's policies must pin PCR 9 (the kernel command line) unless\n"
        "--allow-unpinned-cmdline, or --pin-first-boot-initrd: each agent's first boot, which rebuilds\n"
        "the initrd, reports the PCR 9 its next boots will have (POST .../pcr9), and that value becomes\n"
        "its PCR 9 policy; its escrowed key is released only once that pin was made.\n"
        "--platform-policy names the hardware report (SEV-SNP, SVSM, TDX) each of its agents must serve\n"
        "with every quote, and what it must say (docs/platforms.md); --host-policy the hosts whose TPM\n"
        "may vouch for its agents' vTPMs (the host binding, docs/protocol.md).\n"
        "TOKEN is a file: when it does not exist, a new token (32 random bytes, base64url) is written\n"
        "to it (mode 0600); when it exists, its one line is the token (16-256 printable characters;\n"
        "the file must be the owner's only). The verifier stores only the token's SHA-256.\n"
        "A token enrols --uses agents (default 1; 'unlimited') until --expires (default 7d; a\n"
        "duration like 30m, 12h, 7d, 2w, a UTC time 2026-12-31T23:59:59Z or a date, or 'never').\n"
        "delete removes the group and its tokens; the agents it enrolled stay enrolled.\n"
        "revoke removes one token, named by its file or by the start of its hash (see list).\n";

struct group_args {
        const char *name;
        struct policy_sources policies;
        const char *token_file, *hash;
        int64_t uses, expires_at;
        bool allow_unpinned_cmdline, pin_first_boot_initrd, json;
};

/* "30m", "12h", "7d", "2w", "90s" from now; "2026-12-31T23:59:59Z" or "2026-12-31" (UTC);
 * "never" (0). */
static int parse_expiry(const char *text, time_t now, int64_t *out) {
        static const struct {
                char unit;
                int64_t seconds;
        } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 } };
        struct tm tm = { 0 };
        const char *end;
        char *unit;
        unsigned long long n;

        if (strcmp(text, "never") == 0) {
                *out = 0;
                return 0;
        }
        if (text[0] >= '0' && text[0] <= '9' && strlen(text) <= 12) {
                n = strtoull(text, &unit, 10);
                for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                        if (unit[0] == units[i].unit && unit[1] == '\0' && n > 0 && n <= 100ull * 366 * 86400 / units[i].seconds) {
                                *out = (int64_t)now + (int64_t)n * units[i].seconds;
                                return 0;
                        }
        }
        end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!end || *end) {
                memset(&tm, 0, sizeof(tm));
                end = strptime(text, "%Y-%m-%d", &tm);
        }
        if (end && !*end) {
                *out = (int64_t)timegm(&tm);
                if (*out <= now)
                        return vm_error(-EINVAL, "--expires %s is in the past", text);
                return 0;
        }
        return vm_error(-EINVAL, "--expires \"%.40s\" is neither a duration (30m, 12h, 7d, 2w), a UTC time "
                                 "(2026-12-31T23:59:59Z), a date nor \"never\"",
                        text);
}

static int parse_uses(const char *text, int64_t *out) {
        char *end;
        unsigned long long n;

        if (strcmp(text, "unlimited") == 0) {
                *out = -1;
                return 0;
        }
        n = strtoull(text, &end, 10);
        if (text[0] < '0' || text[0] > '9' || *end || n == 0 || n > 1000000000ull)
                return vm_error(-EINVAL, "--uses \"%.40s\" is neither a number 1-1000000000 nor \"unlimited\"", text);
        *out = (int64_t)n;
        return 0;
}

static bool group_name_ok(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > GROUP_NAME_MAX || name[0] == '-')
                return false;
        return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Parses ACTION's options (argv[0] is the action) into args; an exit code (EXIT_OK to go on),
 * -1 after --help. */
static int parse_args(int argc, char **argv, bool want_name, struct group_args *args) {
        static const struct option options[] = {
                { "tpm-policy", required_argument, NULL, 'p' },
                { "tpm-policy-file", required_argument, NULL, 'P' },
                { "runtime-policy", required_argument, NULL, 'r' },
                { "mb-policy", required_argument, NULL, 'm' },
                { "platform-policy", required_argument, NULL, 'C' },
                { "host-policy", required_argument, NULL, 'O' },
                { "token-file", required_argument, NULL, 't' },
                { "uses", required_argument, NULL, 'u' },
                { "expires", required_argument, NULL, 'e' },
                { "hash", required_argument, NULL, 'H' },
                { "allow-unpinned-cmdline", no_argument, NULL, 'a' },
                { "pin-first-boot-initrd", no_argument, NULL, 'f' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        time_t now = time(NULL);
        int opt, ret = 0;

        memset(args, 0, sizeof(*args));
        args->uses = TOKEN_DEFAULT_USES;
        args->expires_at = (int64_t)now + TOKEN_DEFAULT_LIFETIME;
        optind = 1;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                switch (opt) {
                case 'p':
                        args->policies.tpm_json = optarg;
                        break;
                case 'P':
                        args->policies.tpm_file = optarg;
                        break;
                case 'r':
                        args->policies.runtime_file = optarg;
                        break;
                case 'm':
                        args->policies.mb_file = optarg;
                        break;
                case 'C':
                        args->policies.platform_file = optarg;
                        break;
                case 'O':
                        args->policies.host_file = optarg;
                        break;
                case 't':
                        args->token_file = optarg;
                        break;
                case 'H':
                        args->hash = optarg;
                        break;
                case 'u':
                        ret = parse_uses(optarg, &args->uses);
                        break;
                case 'e':
                        ret = parse_expiry(optarg, now, &args->expires_at);
                        break;
                case 'a':
                        args->allow_unpinned_cmdline = true;
                        break;
                case 'f':
                        args->pin_first_boot_initrd = true;
                        break;
                case 'j':
                        args->json = true;
                        break;
                case 'h':
                        fputs(group_help, stdout);
                        return -1;
                default:
                        log_error("group %s: unknown option or missing value \"%s\" (see 'group --help')", argv[0],
                                  argv[optind - 1]);
                        return EXIT_USAGE;
                }
                if (ret < 0) {
                        log_error("group %s: %s", argv[0], vm_error_detail(ret));
                        return EXIT_USAGE;
                }
        }
        if (want_name) {
                if (optind >= argc) {
                        log_error("group %s: the group's NAME is missing (see 'group --help')", argv[0]);
                        return EXIT_USAGE;
                }
                args->name = argv[optind++];
                if (!group_name_ok(args->name)) {
                        log_error("group %s: \"%.80s\" is not a group name (1-%d of A-Z a-z 0-9 . _ -)", argv[0], args->name,
                                  GROUP_NAME_MAX);
                        return EXIT_USAGE;
                }
        }
        if (optind != argc) {
                log_error("group %s: unexpected argument \"%s\"", argv[0], argv[optind]);
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

static void format_uses(int64_t uses, char *out, size_t size) {
        if (uses < 0)
                snprintf(out, size, "unlimited");
        else
                snprintf(out, size, "%lld", (long long)uses);
}

/* The token of --token-file (made when missing) added to the group. */
static int add_token(struct store *store, const struct group_args *args) {
        struct enrolment_token t = { .uses_left = args->uses, .expires_at = args->expires_at, .created_at = time(NULL) };
        char uses[24], expires[32];
        bool created = false;
        int ret = enrolment_token_file(args->token_file, t.sha256, &created);

        snprintf(t.group, sizeof(t.group), "%s", args->name);
        if (ret >= 0)
                ret = store_token_add(store, &t);
        if (ret < 0)
                return ret;
        format_uses(t.uses_left, uses, sizeof(uses));
        utc_time_format(t.expires_at, expires, sizeof(expires));
        printf("token %.*s... of group %s (%s %s): %s use%s, expires %s\n", HASH_SHOWN, t.sha256, args->name,
               created ? "new, written to" : "read from", args->token_file, uses, t.uses_left == 1 ? "" : "s", expires);
        return 0;
}

static int group_add(struct store *store, const struct verifier_config *config, const struct group_args *args) {
        struct policy_texts policies = { 0 };
        int ret;

        if (!!args->policies.tpm_json == !!args->policies.tpm_file || !args->token_file) {
                log_error("group add: one of --tpm-policy and --tpm-policy-file, and --token-file are required (see "
                          "'group --help')");
                return EXIT_USAGE;
        }
        if (args->allow_unpinned_cmdline && args->pin_first_boot_initrd) {
                log_error("group add: --allow-unpinned-cmdline and --pin-first-boot-initrd exclude each other");
                return EXIT_USAGE;
        }
        ret = tenant_policies_load(config, &args->policies, &policies);
        /* each agent's PCR 9 will be pinned by its own first boot (docs/protocol.md §5.6) */
        if (ret >= 0 && args->pin_first_boot_initrd)
                policies.cmdline_pinned = true;
        /* the agents of a group may escrow a payload, released under these policies */
        if (ret >= 0)
                ret = policy_texts_check_cmdline(&policies, true, args->allow_unpinned_cmdline,
                                                 args->policies.tpm_file ? "--tpm-policy-file" : "--tpm-policy");
        if (ret == -EPERM)
                ret = vm_error(ret, "not added: its agents may escrow a disk key, released under its policies: %s",
                               vm_error_detail(ret));
        if (ret < 0) {
                log_error("group add %s: %s", args->name, vm_error_detail(ret));
                policy_texts_done(&policies);
                return EXIT_USAGE;
        }
        ret = store_group_add(store, args->name, policies.tpm, policies.runtime, policies.mb, args->pin_first_boot_initrd,
                              time(NULL), policies.platform, policies.host);
        if (ret >= 0) {
                printf("group %s added: tpm_policy %s%s%s%s%s%s%s%s%s%s\n", args->name,
                       args->policies.tpm_file ? args->policies.tpm_file : "(given)",
                       policies.runtime ? ", runtime policy " : "", policies.runtime ? args->policies.runtime_file : "",
                       policies.mb ? ", measured-boot policy " : "", policies.mb ? args->policies.mb_file : "",
                       policies.platform ? ", platform policy " : "",
                       policies.platform ? args->policies.platform_file : "",
                       policies.host ? ", host policy " : "", policies.host ? args->policies.host_file : "",
                       args->pin_first_boot_initrd ? ", PCR 9 pinned by each agent's first boot" : "");
                ret = add_token(store, args);
                /* a group without its token would enrol nobody: not left behind */
                if (ret < 0)
                        store_group_delete(store, args->name);
        }
        policy_texts_done(&policies);
        if (ret < 0) {
                log_error("group add %s: %s", args->name, vm_error_detail(ret));
                return EXIT_FAILED;
        }
        return EXIT_OK;
}

struct listing {
        json_object *array;
        json_object *tokens; /* of the group being listed */
        struct store *store;
        int64_t now;
};

static void policy_short(const char *text, char *out, size_t size) {
        size_t n = text ? strlen(text) : 0;

        if (!text)
                snprintf(out, size, "none");
        else if (n <= 48)
                snprintf(out, size, "%s", text);
        else
                snprintf(out, size, "%.40s... (%zu bytes)", text, n);
        for (char *c = out; *c; c++)
                if (*c == '\n' || *c == '\r' || *c == '\t')
                        *c = ' ';
}

static const char *token_state(const struct enrolment_token *t, int64_t now) {
        if (t->expires_at != 0 && now >= t->expires_at)
                return "expired";
        return t->uses_left == 0 ? "used up" : "valid";
}

static int list_token(const struct enrolment_token *t, void *user) {
        struct listing *l = user;
        char uses[24], expires[32];

        format_uses(t->uses_left, uses, sizeof(uses));
        utc_time_format(t->expires_at, expires, sizeof(expires));
        if (l->array) {
                json_object *obj = json_object_new_object();
                char prefix[HASH_SHOWN + 1];

                snprintf(prefix, sizeof(prefix), "%.*s", HASH_SHOWN, t->sha256);
                json_object_object_add(obj, "sha256_prefix", json_object_new_string(prefix));
                json_object_object_add(obj, "uses_left", t->uses_left < 0 ? json_object_new_string("unlimited")
                                                                          : json_object_new_int64(t->uses_left));
                json_object_object_add(obj, "expires", t->expires_at ? json_object_new_string(expires) : NULL);
                json_object_object_add(obj, "state", json_object_new_string(token_state(t, l->now)));
                json_object_array_add(l->tokens, obj);
        } else
                printf("  token %.*s...  uses left %-9s  expires %-20s  %s\n", HASH_SHOWN, t->sha256, uses, expires,
                       token_state(t, l->now));
        return 0;
}

static int list_group(const struct enrolment_group *g, void *user) {
        struct listing *l = user;
        char tpm[96], runtime[96], mb[96], platform[96], host[96];

        policy_short(g->tpm_policy, tpm, sizeof(tpm));
        policy_short(g->runtime_policy, runtime, sizeof(runtime));
        policy_short(g->mb_policy, mb, sizeof(mb));
        policy_short(g->platform_policy, platform, sizeof(platform));
        policy_short(g->host_policy, host, sizeof(host));
        if (l->array) {
                json_object *obj = json_object_new_object();

                json_object_object_add(obj, "name", json_object_new_string(g->name));
                json_object_object_add(obj, "tpm_policy", json_object_new_string(tpm));
                json_object_object_add(obj, "runtime_policy", g->runtime_policy ? json_object_new_string(runtime) : NULL);
                json_object_object_add(obj, "mb_policy", g->mb_policy ? json_object_new_string(mb) : NULL);
                json_object_object_add(obj, "platform_policy",
                                       g->platform_policy ? json_object_new_string(platform) : NULL);
                json_object_object_add(obj, "host_policy", g->host_policy ? json_object_new_string(host) : NULL);
                json_object_object_add(obj, "pin_first_boot_initrd", json_object_new_boolean(g->pin_first_boot_initrd));
                l->tokens = json_object_new_array();
                json_object_object_add(obj, "tokens", l->tokens);
                json_object_array_add(l->array, obj);
        } else
                printf("group %s\n  tpm_policy      %s\n  runtime policy  %s\n  measured boot   %s\n"
                       "  platform        %s\n  host            %s\n  PCR 9           %s\n",
                       g->name, tpm, runtime, mb, platform, host,
                       g->pin_first_boot_initrd ? "pinned by each agent's first boot" : "as the policies say");
        return store_token_foreach(l->store, g->name, list_token, l);
}

static int group_list(struct store *store, const struct group_args *args) {
        struct listing l = { .store = store, .now = time(NULL), .array = args->json ? json_object_new_array() : NULL };
        int ret = store_group_foreach(store, list_group, &l);

        if (ret < 0) {
                json_object_put(l.array);
                log_error("group list: %s", vm_error_detail(ret));
                return EXIT_FAILED;
        }
        if (l.array) {
                puts(json_object_to_json_string_ext(l.array, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(l.array);
        }
        return EXIT_OK;
}

static int group_revoke(struct store *store, const struct group_args *args) {
        char sha256[ENROLMENT_TOKEN_SHA256_HEX];
        bool created = false;
        int ret;

        if (!!args->token_file == !!args->hash) {
                log_error("group revoke: one of --token-file and --hash is required (see 'group --help')");
                return EXIT_USAGE;
        }
        if (args->token_file && access(args->token_file, F_OK) < 0) {
                log_error("group revoke %s: %s: no such token file", args->name, args->token_file);
                return EXIT_FAILED;
        }
        ret = args->token_file ? enrolment_token_file(args->token_file, sha256, &created) : 0;
        if (ret >= 0)
                ret = store_token_revoke(store, args->name, args->token_file ? sha256 : args->hash);
        if (ret < 0) {
                log_error("group revoke %s: %s", args->name, vm_error_detail(ret));
                return EXIT_FAILED;
        }
        printf("token %.*s... of group %s revoked\n", HASH_SHOWN, args->token_file ? sha256 : args->hash, args->name);
        return EXIT_OK;
}

int cmd_group(int argc, char **argv, const char *config_path) {
        static const char *const actions[] = { "add", "token", "list", "delete", "revoke" };
        struct verifier_config config;
        struct group_args args;
        struct store *store = NULL;
        const char *action;
        int ret;

        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(group_help, argc < 2 ? stderr : stdout);
                return argc < 2 ? EXIT_USAGE : EXIT_OK;
        }
        action = argv[1];
        ret = -1;
        for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
                if (strcmp(action, actions[i]) == 0)
                        ret = 0;
        if (ret < 0) {
                log_error("group: unknown action \"%.40s\" (add, token, list, delete, revoke)", action);
                return EXIT_USAGE;
        }
        ret = parse_args(argc - 1, argv + 1, strcmp(action, "list") != 0, &args);
        if (ret != EXIT_OK)
                return ret < 0 ? EXIT_OK : ret;
        if (strcmp(action, "token") == 0 && !args.token_file) {
                log_error("group token: --token-file is required (see 'group --help')");
                return EXIT_USAGE;
        }
        /* serve may not have run yet: the tenant sets groups up before the first instance boots */
        ret = command_open_store(config_path, true, &config, &store);
        if (ret != EXIT_OK)
                return ret;
        if (strcmp(action, "add") == 0)
                ret = group_add(store, &config, &args);
        else if (strcmp(action, "list") == 0)
                ret = group_list(store, &args);
        else if (strcmp(action, "revoke") == 0)
                ret = group_revoke(store, &args);
        else {
                ret = strcmp(action, "token") == 0 ? add_token(store, &args) : store_group_delete(store, args.name);
                if (ret < 0)
                        log_error("group %s %s: %s", action, args.name, vm_error_detail(ret));
                else if (strcmp(action, "delete") == 0)
                        printf("group %s deleted with its tokens (the agents it enrolled stay enrolled)\n", args.name);
                ret = ret < 0 ? EXIT_FAILED : EXIT_OK;
        }
        store_free(store);
        return ret;
}
