/* The tenant's actions on the verifier's store: add (enroll an agent with its policies),
 * status, list, delete, reactivate. The running `serve` picks changes up within a second. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/clock.h"
#include "lib/display.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/secret_file.h"
#include "verifier/commands.h"
#include "verifier/payload_vault.h"
#include "verifier/store.h"
#include "verifier/tenant_policies.h"

static const char add_help[] =
        "Usage: vmattest-verifier add --agent ID --policy FILE [--runtime-policy FILE] [--mb-policy FILE]\n"
        "                             [--platform-policy FILE] [--host-policy FILE]\n"
        "                             [--payload KEYFILE [--allow-unpinned-cmdline]] [--ek-hash HEX]\n"
        "                             [--ak-name HEX] [--push] [--json]\n"
        "\n"
        "Enrolls a registered, activated agent for polling. FILE is Keylime's tpm_policy\n"
        "({\"<pcr>\": [\"hex\", ...]}); the runtime policy is Keylime's IMA policy JSON; the\n"
        "measured-boot policy is vmattest's (see vmattest-verifier(8)); the platform policy names\n"
        "the hardware report (SEV-SNP, SVSM, TDX) the agent must serve with every quote and what it must\n"
        "say (docs/platforms.md); the host policy names the hosts whose TPM may vouch for the agent's\n"
        "vTPM (the host binding, docs/protocol.md), what they must have booted and whether a binding is\n"
        "required. Each is checked before it is stored. Adding an enrolled agent again replaces its policies and restarts its polling.\n"
        "With --payload, KEYFILE (the LUKS passphrase or key file, at most 64 KiB) is released to\n"
        "the agent once per boot, in its initrd: U after a good integrity quote whose PCR 15 log\n"
        "holds no release and no leave-initrd, V after the next one of the same boot (see\n"
        "vmattest-verifier(8), Key release); it is kept sealed under the [store] payload_vault\n"
        "key, never in clear.\n"
        "A payload is enrolled only when a policy pins the kernel command line (PCR 9: a tpm_policy\n"
        "value, or a measured-boot pcrs value or events rule for it): the initrd's rd.shell=0 and\n"
        "rd.emergency=poweroff can be overridden there. --allow-unpinned-cmdline enrolls it anyway,\n"
        "with a warning.\n"
        "The registration's EK hash and AK name are pinned: the agent is polled only while its\n"
        "registration keeps them. With --ek-hash (Keylime's hash_ek) or --ak-name (hex), the tenant\n"
        "says which TPM it expects, and an agent registered with another is refused.\n"
        "With --push the agent is not polled: it submits its evidence (Keylime's push model, API v3,\n"
        "on the registrar's TLS port) and fails when none comes for 5 quote intervals (at least 120 s\n"
        "after a key release: the root's agent takes over); a payload is released to the initrd's\n"
        "agent through the vmattest release document, once per boot, to its TPM-resident key.\n"
        "With --json the result is one JSON object.\n";

static const char status_help[] =
        "Usage: vmattest-verifier status [--agent ID] [--json]\n"
        "\n"
        "Shows each enrolled agent's state: polling or failed (with the reason: which check, PCR,\n"
        "log entry, path and digest), the EK hash and AK name pinned at add, the last good\n"
        "attestation, the IMA entries verified, the last time the agent could not be reached, and\n"
        "under a host policy the host its binding names (and the last change of host).\n"
        "Exit status 1 when any shown agent failed.\n";

static const char list_help[] =
        "Usage: vmattest-verifier list [--agent ID] [--json]\n\nLists enrolled agents (or one) and their state.\n";
static const char delete_help[] =
        "Usage: vmattest-verifier delete --agent ID [--json]\n\nStops polling an agent and forgets its state.\n";
static const char reactivate_help[] =
        "Usage: vmattest-verifier reactivate --agent ID [--json]\n"
        "\n"
        "Puts a failed agent back to polling; its IMA list is verified again from the start.\n";

struct tenant_args {
        const char *agent;
        const char *policy, *runtime_policy, *mb_policy, *platform_policy, *host_policy, *payload;
        const char *ek_hash, *ak_name; /* the TPM the tenant expects; NULL: the registered one */
        bool allow_unpinned_cmdline;
        bool push; /* the agent submits its evidence (Keylime's push model, API v3) */
        bool json;
};

/* Parses the options of one action; an exit code (EXIT_OK to go on), -1 after --help. */
static int parse_args(int argc, char **argv, const char *help, bool policies, struct tenant_args *args) {
        static const struct option options[] = {
                { "agent", required_argument, NULL, 'a' },
                { "policy", required_argument, NULL, 'p' },
                { "runtime-policy", required_argument, NULL, 'r' },
                { "mb-policy", required_argument, NULL, 'm' },
                { "platform-policy", required_argument, NULL, 'C' },
                { "host-policy", required_argument, NULL, 'H' },
                { "payload", required_argument, NULL, 'k' },
                { "ek-hash", required_argument, NULL, 'e' },
                { "ak-name", required_argument, NULL, 'n' },
                { "allow-unpinned-cmdline", no_argument, NULL, 'u' },
                { "push", no_argument, NULL, 'P' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int opt;

        memset(args, 0, sizeof(*args));
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                switch (opt) {
                case 'a':
                        args->agent = optarg;
                        break;
                case 'p':
                case 'r':
                case 'm':
                case 'C':
                case 'H':
                case 'k':
                case 'e':
                case 'n':
                        if (!policies)
                                goto bad;
                        *(opt == 'p'   ? &args->policy
                          : opt == 'r' ? &args->runtime_policy
                          : opt == 'm' ? &args->mb_policy
                          : opt == 'C' ? &args->platform_policy
                          : opt == 'H' ? &args->host_policy
                          : opt == 'e' ? &args->ek_hash
                          : opt == 'n' ? &args->ak_name
                                       : &args->payload) = optarg;
                        break;
                case 'u':
                        if (!policies)
                                goto bad;
                        args->allow_unpinned_cmdline = true;
                        break;
                case 'P':
                        if (!policies)
                                goto bad;
                        args->push = true;
                        break;
                case 'j':
                        args->json = true;
                        break;
                case 'h':
                        fputs(help, stdout);
                        return -1;
                default:
                bad:
                        log_error("%s: unknown option or missing value \"%s\" (see '%s --help')", argv[0],
                                  argv[optind - 1], argv[0]);
                        return EXIT_USAGE;
                }
        }
        if (optind != argc) {
                log_error("%s: unexpected argument \"%s\"", argv[0], argv[optind]);
                return EXIT_USAGE;
        }
        if (args->agent && !agent_id_valid(args->agent)) {
                log_error("%s: \"%s\" is not an agent id", argv[0], args->agent);
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

#define PAYLOAD_MAX (64 * 1024)

/* The tenant's key file, sealed under the vault key: the only form the verifier stores. It is
 * read into the secure heap with read(2), not through stdio, whose buffer is not wiped. */
static int seal_payload(const struct verifier_config *config, const char *path, char **sealed) {
        uint8_t *plain = NULL;
        size_t n = 0, plain_size = 0;
        int ret = secret_file_read(path, PAYLOAD_MAX, &plain, &n, &plain_size);

        if (ret == -EFBIG || (ret >= 0 && n == 0))
                ret = vm_error(-EINVAL, "%s: the payload must be 1-%d bytes", path, PAYLOAD_MAX);
        if (ret >= 0)
                ret = payload_vault_seal(config->payload_vault, plain, n, sealed);
        if (plain)
                OPENSSL_secure_clear_free(plain, plain_size);
        return ret;
}

/* Whether hex `given` (either case) spells `registered` (lower case). */
static bool same_hex(const char *given, const char *registered) {
        size_t len = strlen(given);

        if (len != strlen(registered))
                return false;
        for (size_t i = 0; i < len; i++)
                if (given[i] != registered[i] && !(given[i] >= 'A' && given[i] <= 'F' && given[i] + 32 == registered[i]))
                        return false;
        return true;
}

/* The enrolment pins the registration's EK hash and AK name (the poller refuses a registration
 * that differs); the tenant may name the TPM it expects, so that `add` does not trust whatever
 * registered under the id. */
static int check_expected_tpm(const struct tenant_args *args, const struct registered_agent *reg) {
        if (args->ek_hash && !same_hex(args->ek_hash, reg->ek_hash))
                return vm_error(-EPERM, "agent %s is registered with EK hash %s, not the --ek-hash given (%.80s): not enrolled",
                                reg->agent_id, reg->ek_hash, args->ek_hash);
        if (args->ak_name && !same_hex(args->ak_name, reg->ak_name))
                return vm_error(-EPERM, "agent %s is registered with AK name %s, not the --ak-name given (%.140s): not enrolled",
                                reg->agent_id, reg->ak_name, args->ak_name);
        return 0;
}

int cmd_add(int argc, char **argv, const char *config_path) {
        struct tenant_args args;
        struct verifier_config config;
        struct store *store = NULL;
        struct registered_agent reg = { 0 };
        struct policy_texts policies = { 0 };
        _cleanup_(freep) char *sealed = NULL;
        int ret = parse_args(argc, argv, add_help, true, &args);

        if (ret != EXIT_OK)
                return ret < 0 ? EXIT_OK : ret;
        if (!args.agent || !args.policy) {
                log_error("add: --agent and --policy are required (see 'add --help')");
                return EXIT_USAGE;
        }
        ret = command_open_store(config_path, false, &config, &store);
        if (ret != EXIT_OK)
                return ret;
        ret = tenant_policies_load(&config,
                                   &(const struct policy_sources){ .tpm_file = args.policy,
                                                                   .runtime_file = args.runtime_policy,
                                                                   .mb_file = args.mb_policy,
                                                                   .platform_file = args.platform_policy,
                                                                   .host_file = args.host_policy },
                                   &policies);
        if (ret >= 0)
                ret = policy_texts_check_cmdline(&policies, args.payload != NULL, args.allow_unpinned_cmdline, "--policy");
        if (ret == -EPERM)
                ret = vm_error(ret, "add: agent %s not enrolled: %s", args.agent, vm_error_detail(ret));
        if (ret >= 0 && args.payload)
                ret = seal_payload(&config, args.payload, &sealed);
        if (ret < 0) {
                log_error("%s", vm_error_detail(ret));
                policy_texts_done(&policies);
                store_free(store);
                return EXIT_USAGE;
        }
        ret = store_agent_get(store, args.agent, &reg);
        if (ret == -ENOENT)
                ret = vm_error(-ENOENT, "agent %s is not registered at this registrar", args.agent);
        else if (ret >= 0 && !reg.active)
                ret = vm_error(-EPERM, "agent %s has not activated its registration yet", args.agent);
        if (ret >= 0)
                ret = check_expected_tpm(&args, &reg);
        if (ret >= 0)
                ret = (args.push ? store_attestation_add_push : store_attestation_add)(
                        store, &reg, policies.tpm, policies.runtime, policies.mb, sealed, policies.platform,
                        policies.host);
        policy_texts_done(&policies);
        store_free(store);
        if (ret < 0) {
                registered_agent_done(&reg);
                log_error("%s", vm_error_detail(ret));
                return EXIT_FAILED;
        }
        if (args.json)
                printf("{\"agent_id\": \"%s\", \"state\": \"polling\", \"ek_hash\": \"%s\", \"ak_name\": \"%s\"}\n",
                       args.agent, reg.ek_hash, reg.ak_name);
        else
                printf("agent %s enrolled%s: tpm_policy %s%s%s%s%s%s%s%s%s\npinned: EK hash %s, AK name %s\n",
                       args.agent, args.push ? " in push mode" : "",
                       args.policy, args.runtime_policy ? ", runtime policy " : "",
                       args.runtime_policy ? args.runtime_policy : "", args.mb_policy ? ", measured-boot policy " : "",
                       args.mb_policy ? args.mb_policy : "", args.platform_policy ? ", platform policy " : "",
                       args.platform_policy ? args.platform_policy : "", args.host_policy ? ", host policy " : "",
                       args.host_policy ? args.host_policy : "", reg.ek_hash, reg.ak_name);
        registered_agent_done(&reg);
        return EXIT_OK;
}

struct show {
        const char *only;
        bool details, json;
        json_object *array;
        unsigned shown, failed;
};

static int show_one(const struct attestation *a, void *user) {
        struct show *show = user;
        char ok[32], failed_at[32], poll[32], host_changed[32];
        /* the reasons quote what agents sent; a row written by an older version, or by hand,
         * may hold it raw: shown escaped, like everything the verifier logs (lib/display.h) */
        char failure[4 * sizeof(a->failure)], last_error[4 * sizeof(a->last_error)];
        /* docs/protocol.md §5.6: the release waits for the first boot's PCR 9 pin */
        const char *held = a->pcr9_pin_required && !a->pcr9_pinned_by[0]
                                   ? "no key release: the group pins PCR 9 by the agent's first boot, which has not "
                                     "reported it (vmattest first-boot)"
                                   : NULL;

        if (show->only && strcmp(show->only, a->agent_id) != 0)
                return 0;
        display_escape(a->failure, strnlen(a->failure, sizeof(a->failure)), failure, sizeof(failure));
        display_escape(a->last_error, strnlen(a->last_error, sizeof(a->last_error)), last_error, sizeof(last_error));
        show->shown++;
        show->failed += strcmp(a->state, "failed") == 0;
        utc_time_format(a->last_ok, ok, sizeof(ok));
        utc_time_format(a->failed_at, failed_at, sizeof(failed_at));
        utc_time_format(a->last_poll, poll, sizeof(poll));
        utc_time_format(a->host_changed_at, host_changed, sizeof(host_changed));
        if (show->json) {
                json_object *obj = json_object_new_object();

                json_object_object_add(obj, "agent_id", json_object_new_string(a->agent_id));
                json_object_object_add(obj, "state", json_object_new_string(a->state));
                json_object_object_add(obj, "ek_hash", json_object_new_string(a->ek_hash));
                json_object_object_add(obj, "ak_name", json_object_new_string(a->ak_name));
                json_object_object_add(obj, "failure", failure[0] ? json_object_new_string(failure) : NULL);
                json_object_object_add(obj, "failed_at", a->failed_at ? json_object_new_string(failed_at) : NULL);
                json_object_object_add(obj, "last_ok", a->last_ok ? json_object_new_string(ok) : NULL);
                json_object_object_add(obj, "last_poll", a->last_poll ? json_object_new_string(poll) : NULL);
                json_object_object_add(obj, "polls", json_object_new_int((int)a->polls));
                json_object_object_add(obj, "last_poll_ms", json_object_new_int((int)a->poll_ms));
                json_object_object_add(obj, "ima_entries_verified", json_object_new_int64((int64_t)a->ima_next_entry));
                json_object_object_add(obj, "last_error", last_error[0] ? json_object_new_string(last_error) : NULL);
                json_object_object_add(obj, "payload_released_at", a->released_at ? json_object_new_int64(a->released_at) : NULL);
                json_object_object_add(obj, "group", a->group[0] ? json_object_new_string(a->group) : NULL);
                json_object_object_add(obj, "payload_origin", a->payload_origin[0] ? json_object_new_string(a->payload_origin) : NULL);
                json_object_object_add(obj, "escrowed_at", a->escrowed_at ? json_object_new_int64(a->escrowed_at) : NULL);
                json_object_object_add(obj, "pcr9_pinned_by",
                                       a->pcr9_pinned_by[0] ? json_object_new_string(a->pcr9_pinned_by) : NULL);
                json_object_object_add(obj, "release_held", held ? json_object_new_string(held) : NULL);
                json_object_object_add(obj, "host", a->host[0] ? json_object_new_string(a->host) : NULL);
                json_object_object_add(obj, "host_class",
                                       a->host[0] && a->host_class[0] ? json_object_new_string(a->host_class) : NULL);
                json_object_object_add(obj, "previous_host",
                                       a->host_changed_at ? json_object_new_string(a->previous_host) : NULL);
                json_object_object_add(obj, "host_changed_at",
                                       a->host_changed_at ? json_object_new_string(host_changed) : NULL);
                json_object_array_add(show->array, obj);
        } else if (!show->details)
                printf("%-8s  %-20s  %s\n", a->state, ok, a->agent_id);
        else {
                printf("agent:         %s\n", a->agent_id);
                printf("state:         %s\n", a->state);
                printf("EK hash:       %s\n", a->ek_hash[0] ? a->ek_hash : "(none pinned)");
                printf("AK name:       %s\n", a->ak_name[0] ? a->ak_name : "(none pinned)");
                if (a->group[0])
                        printf("group:         %s (enrolled with its token)\n", a->group);
                if (a->escrowed_at) {
                        char escrowed[32];

                        utc_time_format(a->escrowed_at, escrowed, sizeof(escrowed));
                        printf("payload:       escrowed by the agent %s (boot %lld)\n", escrowed, (long long)a->escrow_reset);
                } else if (a->payload_origin[0])
                        printf("payload:       the tenant's\n");
                if (a->pcr9_pinned_by[0])
                        printf("PCR 9:         pinned by the %s (boot %lld)\n", a->pcr9_pinned_by,
                               (long long)a->pcr9_pin_reset);
                if (held)
                        printf("release held:  %s\n", held);
                if (a->host[0] || a->host_changed_at)
                        printf("host:          %s (host AK Name, from its host binding)\n",
                               a->host[0] ? a->host : "none: the last quote came without a host binding");
                if (a->host[0] && a->host_class[0])
                        printf("host class:    %s (the host policy's class its PCRs matched)\n", a->host_class);
                if (a->host_changed_at)
                        printf("host changed:  %s, from %s\n", host_changed, a->previous_host);
                if (failure[0])
                        printf("failure:       %s\n  at           %s\n", failure, failed_at);
                printf("last good:     %s\n", ok);
                printf("polls:         %u (last %s, %u ms)\n", a->polls, poll, a->poll_ms);
                printf("IMA verified:  %llu entries\n", (unsigned long long)a->ima_next_entry);
                if (a->released_at) {
                        char released[32];

                        utc_time_format(a->released_at, released, sizeof(released));
                        printf("key released:  %s\n", released);
                }
                if (last_error[0])
                        printf("unreachable:   %s\n", last_error);
                printf("\n");
        }
        return 0;
}

static int show(int argc, char **argv, const char *config_path, bool details) {
        struct tenant_args args;
        struct verifier_config config;
        struct store *store = NULL;
        struct show s = { 0 };
        int ret = parse_args(argc, argv, details ? status_help : list_help, false, &args);

        if (ret != EXIT_OK)
                return ret < 0 ? EXIT_OK : ret;
        ret = command_open_store(config_path, false, &config, &store);
        if (ret != EXIT_OK)
                return ret;
        s.only = args.agent, s.details = details, s.json = args.json;
        if (s.json)
                s.array = json_object_new_array();
        else if (!details)
                printf("%-8s  %-20s  %s\n", "STATE", "LAST GOOD", "AGENT");
        ret = store_attestation_foreach(store, show_one, &s);
        store_free(store);
        if (ret < 0) {
                json_object_put(s.array);
                log_error("%s", vm_error_detail(ret));
                return EXIT_FAILED;
        }
        if (s.json) {
                puts(json_object_to_json_string_ext(s.array, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(s.array);
        }
        if (args.agent && s.shown == 0) {
                log_error("agent %s is not enrolled", args.agent);
                return EXIT_FAILED;
        }
        return details && s.failed ? EXIT_FAILED : EXIT_OK;
}

int cmd_status(int argc, char **argv, const char *config_path) {
        return show(argc, argv, config_path, true);
}

int cmd_list(int argc, char **argv, const char *config_path) {
        return show(argc, argv, config_path, false);
}

static int change(int argc, char **argv, const char *config_path, const char *help,
                  int (*action)(struct store *store, const char *agent_id), const char *done) {
        struct tenant_args args;
        struct verifier_config config;
        struct store *store = NULL;
        int ret = parse_args(argc, argv, help, false, &args);

        if (ret != EXIT_OK)
                return ret < 0 ? EXIT_OK : ret;
        if (!args.agent) {
                log_error("%s: --agent is required", argv[0]);
                return EXIT_USAGE;
        }
        ret = command_open_store(config_path, false, &config, &store);
        if (ret != EXIT_OK)
                return ret;
        ret = action(store, args.agent);
        store_free(store);
        if (ret == -ENOENT) {
                log_error("agent %s is not enrolled", args.agent);
                return EXIT_FAILED;
        }
        if (ret < 0) {
                log_error("%s", vm_error_detail(ret));
                return EXIT_FAILED;
        }
        if (args.json)
                printf("{\"agent_id\": \"%s\", \"result\": \"%s\"}\n", args.agent, done);
        else
                printf("agent %s %s\n", args.agent, done);
        return EXIT_OK;
}

int cmd_delete(int argc, char **argv, const char *config_path) {
        return change(argc, argv, config_path, delete_help, store_attestation_delete, "no longer polled");
}

int cmd_reactivate(int argc, char **argv, const char *config_path) {
        return change(argc, argv, config_path, reactivate_help, store_attestation_reactivate,
                      "polled again, its IMA list from the start");
}
