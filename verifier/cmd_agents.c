/* vmattest-verifier agents: the registered agents, from the store. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"
#include "verifier/commands.h"
#include "verifier/store.h"

static const char agents_help[] =
        "Usage: vmattest-verifier agents [--json]\n"
        "\n"
        "Lists registered agents: id, EK hash, AK name, state (active after activation, pending\n"
        "before, inactive when its challenge was answered wrongly; +pending when a registration\n"
        "waits for its activation beside the active one), activation count and the last activation.\n"
        "\n"
        "      --json           print a JSON array\n"
        "  -h, --help           show this help\n";

static void format_time(int64_t t, char *out, size_t size) {
        time_t tt = (time_t)t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(out, size, "?");
}

/* active: the verifier polls its activated registration; pending: never activated, a challenge
 * open; inactive: never activated, no challenge open (its answer was wrong) */
static const char *agent_state(const struct registered_agent *agent) {
        return agent->active ? "active" : agent->pending_tag_sha256[0] ? "pending" : "inactive";
}

static json_object *pending_json(const struct registered_agent *agent) {
        json_object *obj;
        char since[32];

        if (!agent->pending_tag_sha256[0])
                return NULL;
        format_time(agent->pending_at, since, sizeof(since));
        obj = json_object_new_object();
        json_object_object_add(obj, "contact", json_object_new_string(agent->pending_ip));
        json_object_object_add(obj, "port", json_object_new_int(agent->pending_port));
        json_object_object_add(obj, "mtls_certificate", json_object_new_boolean(agent->pending_mtls_cert != NULL));
        json_object_object_add(obj, "since", json_object_new_string(since));
        return obj;
}

static int print_agent(const struct registered_agent *agent, void *user) {
        json_object *array = user;
        char seen[32], state[24];

        format_time(agent->last_seen, seen, sizeof(seen));
        if (array) {
                json_object *obj = json_object_new_object();

                json_object_object_add(obj, "agent_id", json_object_new_string(agent->agent_id));
                json_object_object_add(obj, "ek_hash", json_object_new_string(agent->ek_hash));
                json_object_object_add(obj, "ak_name", json_object_new_string(agent->ak_name));
                json_object_object_add(obj, "state", json_object_new_string(agent_state(agent)));
                json_object_object_add(obj, "ek_certificate", json_object_new_boolean(agent->ekcert != NULL));
                json_object_object_add(obj, "identity_proof", json_object_new_string(agent->identity_proof));
                json_object_object_add(obj, "regcount", json_object_new_int((int)agent->regcount));
                json_object_object_add(obj, "last_seen", json_object_new_string(seen));
                json_object_object_add(obj, "contact", agent->active ? json_object_new_string(agent->ip) : NULL);
                json_object_object_add(obj, "port", agent->active ? json_object_new_int(agent->port) : NULL);
                json_object_object_add(obj, "pending", pending_json(agent));
                json_object_array_add(array, obj);
        } else {
                snprintf(state, sizeof(state), "%s%s", agent_state(agent),
                         agent->active && agent->pending_tag_sha256[0] ? "+pending" : "");
                /* the id last: hash_ek ids are 64 characters */
                printf("%-14s %4u  %-20s  %-16.16s  %-20.20s  %-14s  %s\n", state, agent->regcount, seen,
                       agent->ek_hash, agent->ak_name, agent->identity_proof[0] ? agent->identity_proof : "-",
                       agent->agent_id);
        }
        return 0;
}

int cmd_agents(int argc, char **argv, const char *config_path) {
        static const struct option options[] = { { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, {} };
        struct verifier_config config;
        struct store *store = NULL;
        json_object *array = NULL;
        int opt, ret, exit_code;

        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
                if (opt == 'h') {
                        fputs(agents_help, stdout);
                        return EXIT_OK;
                }
                if (opt == 'j') {
                        array = array ? array : json_object_new_array();
                        continue;
                }
                json_object_put(array);
                log_error("agents: unknown option \"%s\" (see 'vmattest-verifier agents --help')", argv[optind - 1]);
                return EXIT_USAGE;
        }
        if (optind != argc) {
                json_object_put(array);
                log_error("agents: unexpected argument \"%s\"", argv[optind]);
                return EXIT_USAGE;
        }
        exit_code = command_load_config(config_path, &config);
        if (exit_code != EXIT_OK) {
                json_object_put(array);
                return exit_code;
        }
        ret = store_open(config.database, false, &store);
        if (ret >= 0) {
                if (!array)
                        printf("%-14s %4s  %-20s  %-16s  %-20s  %-14s  %s\n", "STATE", "REGS", "LAST SEEN", "EK HASH", "AK NAME", "PROOF",
                               "AGENT");
                ret = store_agent_foreach(store, print_agent, array);
        }
        store_free(store);
        if (ret < 0) {
                json_object_put(array);
                log_error("%s", vm_error_detail(ret));
                return EXIT_FAILED;
        }
        if (array) {
                puts(json_object_to_json_string_ext(array, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(array);
        }
        return EXIT_OK;
}
